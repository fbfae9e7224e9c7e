/* A TCP proxy for tests; see tcp-proxy.h.  One thread, poll(), a fixed
 * number of connection pairs. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcp-proxy.h"

#define MAX_PAIRS 64

typedef struct pair {
    int client, server;
    char first_line[256];
    size_t first_len;
} pair;

struct zt_proxy {
    int listen_fd, target_port, wake[2];
    pthread_t thread;
    pthread_mutex_t lock;
    pair pairs[MAX_PAIRS];
    int n_pairs;
    bool stop;
};

static void close_pair(zt_proxy *p, int i)
{
    close(p->pairs[i].client);
    close(p->pairs[i].server);
    p->pairs[i] = p->pairs[--p->n_pairs];
}

static int connect_target(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void *run(void *arg)
{
    zt_proxy *p = arg;
    char buf[65536];
    for (;;) {
        struct pollfd fds[2 + 2 * MAX_PAIRS];
        pthread_mutex_lock(&p->lock);
        if (p->stop) {
            pthread_mutex_unlock(&p->lock);
            break;
        }
        int n = 0;
        fds[n++] = (struct pollfd){.fd = p->listen_fd, .events = POLLIN};
        fds[n++] = (struct pollfd){.fd = p->wake[0], .events = POLLIN};
        for (int i = 0; i < p->n_pairs; i++) {
            fds[n++] = (struct pollfd){.fd = p->pairs[i].client, .events = POLLIN};
            fds[n++] = (struct pollfd){.fd = p->pairs[i].server, .events = POLLIN};
        }
        int n_pairs = p->n_pairs;
        pthread_mutex_unlock(&p->lock);

        if (poll(fds, (nfds_t)n, 1000) <= 0)
            continue;
        pthread_mutex_lock(&p->lock);
        if (fds[1].revents)
            (void)!read(p->wake[0], buf, sizeof buf);
        /* Pairs in reverse, so closing one does not skip another. */
        for (int i = n_pairs - 1; i >= 0; i--) {
            if (i >= p->n_pairs)
                continue;
            for (int side = 0; side < 2; side++) {
                struct pollfd *f = &fds[2 + 2 * i + side];
                /* A cut meanwhile may have moved the pairs around. */
                if (!f->revents || f->fd != (side == 0 ? p->pairs[i].client : p->pairs[i].server))
                    continue;
                ssize_t got = recv(f->fd, buf, sizeof buf, 0);
                int to = side == 0 ? p->pairs[i].server : p->pairs[i].client;
                if (got <= 0 || send(to, buf, (size_t)got, MSG_NOSIGNAL) != got) {
                    close_pair(p, i);
                    break;
                }
                pair *pr = &p->pairs[i];
                if (side == 0 && pr->first_len < sizeof pr->first_line - 1) {
                    size_t take = (size_t)got;
                    if (take > sizeof pr->first_line - 1 - pr->first_len)
                        take = sizeof pr->first_line - 1 - pr->first_len;
                    memcpy(pr->first_line + pr->first_len, buf, take);
                    pr->first_len += take;
                    pr->first_line[pr->first_len] = '\0';
                    char *eol = strstr(pr->first_line, "\r\n");
                    if (eol)
                        *eol = '\0', pr->first_len = sizeof pr->first_line;
                }
            }
        }
        if (fds[0].revents) {
            int c = accept(p->listen_fd, NULL, NULL);
            int s = c >= 0 ? connect_target(p->target_port) : -1;
            if (c >= 0 && s >= 0 && p->n_pairs < MAX_PAIRS) {
                p->pairs[p->n_pairs++] = (pair){.client = c, .server = s};
            } else {
                if (c >= 0)
                    close(c);
                if (s >= 0)
                    close(s);
            }
        }
        pthread_mutex_unlock(&p->lock);
    }
    return NULL;
}

zt_proxy *zt_proxy_start(int target_port, int *port)
{
    zt_proxy *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->target_port = target_port;
    p->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (p->listen_fd < 0 || bind(p->listen_fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        listen(p->listen_fd, 16) < 0 || getsockname(p->listen_fd, (struct sockaddr *)&sa, &len) ||
        pipe(p->wake) < 0) {
        free(p);
        return NULL;
    }
    *port = ntohs(sa.sin_port);
    pthread_mutex_init(&p->lock, NULL);
    pthread_create(&p->thread, NULL, run, p);
    return p;
}

int zt_proxy_cut(zt_proxy *p, const char *match)
{
    int cut = 0;
    pthread_mutex_lock(&p->lock);
    for (int i = p->n_pairs - 1; i >= 0; i--) {
        if (!match || strstr(p->pairs[i].first_line, match)) {
            close_pair(p, i);
            cut++;
        }
    }
    pthread_mutex_unlock(&p->lock);
    (void)!write(p->wake[1], "x", 1);
    return cut;
}

void zt_proxy_stop(zt_proxy *p)
{
    pthread_mutex_lock(&p->lock);
    p->stop = true;
    pthread_mutex_unlock(&p->lock);
    (void)!write(p->wake[1], "x", 1);
    pthread_join(p->thread, NULL);
    while (p->n_pairs)
        close_pair(p, 0);
    close(p->listen_fd);
    close(p->wake[0]);
    close(p->wake[1]);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
