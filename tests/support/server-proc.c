/* Starting and stopping the real server process; see server-proc.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server-proc.h"
#include "ws-raw.h"

int zt_http_get(int port, const char *path, char *buf, size_t buf_size)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || send(fd, req, (size_t)n, 0) != n) {
        close(fd);
        return -1;
    }
    size_t len = 0;
    int64_t deadline = zt_now_ms() + 5000;
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int64_t left = deadline - zt_now_ms();
        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
            break;
        ssize_t got = recv(fd, buf + len, buf_size - 1 - len, 0);
        if (got <= 0)
            break;
        len += (size_t)got;
        if (len == buf_size - 1)
            break;
    }
    close(fd);
    buf[len] = '\0';
    int status = -1;
    if (sscanf(buf, "HTTP/1.1 %d", &status) != 1)
        return -1;
    char *body = strstr(buf, "\r\n\r\n");
    if (body)
        memmove(buf, body + 4, strlen(body + 4) + 1);
    return status;
}

double zt_metric(int port, const char *name)
{
    static char buf[1 << 16];
    if (zt_http_get(port, "/metrics", buf, sizeof buf) != 200)
        return -1;
    char key[128];
    snprintf(key, sizeof key, "\n%s ", name);
    const char *p = strstr(buf, key);
    return p ? atof(p + strlen(key)) : -1;
}

int zt_server_start(zt_server *srv, int port, const char *const *extra_args)
{
    memset(srv, 0, sizeof *srv);
    const char *bin = getenv("ZEGO_SERVER_BIN");
    if (!bin) {
        printf("# ZEGO_SERVER_BIN is not set\n");
        return -1;
    }
    snprintf(srv->log_path, sizeof srv->log_path, "/tmp/zego-test-server-%d-%ld.log", getpid(),
             (long)zt_now_ms());
    int out[2];
    if (pipe(out) < 0)
        return -1;
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    const char *argv[64] = {bin, "--listen", listen, "--log-level", "info"};
    int argc = 5;
    for (int i = 0; extra_args && extra_args[i] && argc < 62; i++)
        argv[argc++] = extra_args[i];
    argv[argc] = NULL;

    pid_t parent = getpid();
    srv->pid = fork();
    if (srv->pid == 0) {
        /* A test that dies (a sanitizer abort, a crash) takes its server along. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        dup2(out[1], 1);
        int log = open(srv->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (log >= 0)
            dup2(log, 2);
        close(out[0]);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    /* The first line says where it listens. */
    char line[256];
    size_t len = 0;
    int64_t deadline = zt_now_ms() + 10000;
    while (len < sizeof line - 1 && !memchr(line, '\n', len)) {
        struct pollfd pfd = {.fd = out[0], .events = POLLIN};
        int64_t left = deadline - zt_now_ms();
        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
            break;
        ssize_t got = read(out[0], line + len, sizeof line - 1 - len);
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    close(out[0]);
    line[len] = '\0';
    const char *p = strstr(line, "127.0.0.1:");
    const char *url = strstr(line, "ws");
    if (!p || !url || sscanf(p + 10, "%d", &srv->port) != 1) {
        printf("# server did not start: '%s'\n", line);
        zt_server_dump_log(srv);
        return -1;
    }
    snprintf(srv->url, sizeof srv->url, "%.*s", (int)strcspn(url, " \r\n"), url);
    /* The line comes once it listens; /healthz is checked where plain HTTP
     * reaches it (with TLS, this client cannot). */
    if (strncmp(srv->url, "wss:", 4) == 0)
        return 0;
    char body[256];
    while (zt_now_ms() < deadline) {
        if (zt_http_get(srv->port, "/healthz", body, sizeof body) == 200)
            return 0;
        usleep(20000);
    }
    printf("# server never answered /healthz\n");
    return -1;
}

int zt_server_stop(zt_server *srv, int sig)
{
    if (srv->pid <= 0)
        return -1;
    kill(srv->pid, sig);
    int status = 0;
    int64_t deadline = zt_now_ms() + 10000;
    pid_t r;
    while ((r = waitpid(srv->pid, &status, WNOHANG)) == 0 && zt_now_ms() < deadline)
        usleep(10000);
    if (r == 0) {
        kill(srv->pid, SIGKILL);
        waitpid(srv->pid, &status, 0);
        printf("# server did not exit within 10 s of signal %d\n", sig);
        srv->pid = 0;
        return -1;
    }
    srv->pid = 0;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    /* A server that did not exit cleanly (a sanitizer report, say) shows why. */
    if (code != 0 && sig != SIGKILL)
        zt_server_dump_log(srv);
    if (!getenv("ZEGO_KEEP_LOGS"))
        unlink(srv->log_path);
    return code;
}

void zt_server_dump_log(const zt_server *srv)
{
    FILE *f = fopen(srv->log_path, "r");
    char line[512];
    while (f && fgets(line, sizeof line, f))
        printf("#   server: %s", line);
    if (f)
        fclose(f);
}
