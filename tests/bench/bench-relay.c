/* zego-bench-relay: how well zego-room-server relays one stream to N players,
 * next to a minimal writev relay (zego-bench-baseline) measured in the same
 * run on the same machine.
 *
 * For each N and each repetition it runs the baseline, then the server, each
 * freshly started: one paced publisher (publisher.c) and N players on one
 * epoll thread (load.c).  After a warm-up it measures a fixed window of the
 * stream and reports, per relay: frames delivered and dropped, latency from
 * capture to arrival (p50/p99), the relay process's CPU seconds per GB
 * delivered and its resident memory per player, with medians over the
 * repetitions and the server's figures as ratios to the baseline's.  It says
 * PASS or FAIL per target but exits 0 unless the benchmark itself broke: it
 * measures, it does not judge the build.
 *
 *   zego-bench-relay --players 100,500,1000 --seconds 10 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "room-client.h"
#include "server-proc.h"

#define MAX_NS      16
#define MAX_REPEAT  15
#define MAX_SARGS   32
#define STREAM_ID   "bench"
#define APP_ID      1u
#define PRE_ROLL_US 2200000 /* a GOP and a bit: the GOP cache is full when RSS is taken */
#define DRAIN_US    1000000 /* after the window's last frame was sent */

/* Targets, from the issue. */
#define TARGET_RATIO   2.0
#define TARGET_MEM_KIB 64.0

typedef struct options {
    size_t ns[MAX_NS];
    size_t n_ns;
    double seconds, warmup;
    int repeat;
    int room_size;
    bench_stream stream;
    const char *server_bin;
    char baseline_bin[PATH_MAX];
    const char *server_args[MAX_SARGS + 4];
    int n_server_args;
    bool only[2]; /* by bench_target; both false = both */
} options;

typedef struct run_result {
    bool ok;
    char error[256];
    bench_load_result load;
    double delivered_pct;
    double cpu_s, cpu_per_gb;
    double load_cpu_pct; /* the benchmark process itself, during the window */
    long rss0_kib, rss_kib;
    double mem_per_player_kib;
    double login_s, connect_s;
    uint32_t pub_late;
    /* the server's own counters over the window */
    double srv_dropped, srv_disconnected_slow;
    char log_note[320];
} run_result;

static options opt;
static const char *target_name[] = {"baseline", "zego"};

/* ---- /proc ---- */

static double proc_cpu_s(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields after the command name, which may hold spaces: state is 3rd,
     * utime 14th, stime 15th. */
    char *p = strrchr(buf, ')');
    unsigned long long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static long proc_rss_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

/* ---- The relays ---- */

typedef struct relay_proc {
    bench_target target;
    pid_t pid;
    int port;
    zt_server srv;
} relay_proc;

static int start_baseline(relay_proc *r)
{
    int out[2];
    if (pipe(out) < 0)
        return -1;
    r->pid = fork();
    if (r->pid == 0) {
        dup2(out[1], 1);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, 2);
        close(out[0]);
        execl(opt.baseline_bin, opt.baseline_bin, "--port", "0", (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    char line[128] = "";
    FILE *f = fdopen(out[0], "r");
    if (!f || !fgets(line, sizeof line, f) ||
        sscanf(line, "zego-bench-baseline listening on 127.0.0.1:%d", &r->port) != 1) {
        if (f)
            fclose(f);
        fprintf(stderr, "zego-bench-relay: %s did not start\n", opt.baseline_bin);
        return -1;
    }
    fclose(f);
    return 0;
}

static int start_relay(relay_proc *r, bench_target target)
{
    memset(r, 0, sizeof *r);
    r->target = target;
    if (target == BENCH_BASELINE)
        return start_baseline(r);
    if (zt_server_start(&r->srv, 0, opt.server_args))
        return -1;
    r->pid = r->srv.pid;
    r->port = r->srv.port;
    return 0;
}

/* The server's warnings and errors, but for the open-mode banner. */
static void server_log_note(const relay_proc *r, char *out, size_t size)
{
    FILE *f = fopen(r->srv.log_path, "r");
    char line[512];
    int n = 0;
    out[0] = '\0';
    while (f && fgets(line, sizeof line, f)) {
        if ((!strstr(line, " warn: ") && !strstr(line, " error: ")) ||
            strstr(line, "OPEN DEVELOPMENT MODE"))
            continue;
        if (n++ == 0) {
            line[strcspn(line, "\n")] = '\0';
            const char *msg = strstr(line, "zego-room-server ");
            snprintf(out, size, "%.300s", msg ? msg : line);
        }
    }
    if (f)
        fclose(f);
    if (n > 1) {
        size_t len = strlen(out);
        snprintf(out + len, size - len, " (and %d more warnings)", n - 1);
    }
}

static void stop_relay(relay_proc *r)
{
    if (r->target == BENCH_ZEGO) {
        zt_server_stop(&r->srv, SIGTERM);
        return;
    }
    kill(r->pid, SIGTERM);
    int status;
    waitpid(r->pid, &status, 0);
}

/* ---- One run ---- */

/* Logs player i in, asks to play, and hands its signaling socket to the load
 * client.  Rooms of room_size keep each login's member list short. */
static int login_player(bench_load *l, int port, size_t i, char *err, size_t err_size)
{
    zt_client c;
    zego_msg reply;
    char room[32], user[32];
    snprintf(room, sizeof room, "bench-%zu", i / (size_t)opt.room_size);
    snprintf(user, sizeof user, "p%zu", i);
    if (zt_client_connect(&c, port)) {
        snprintf(err, err_size, "player %zu: cannot connect its signaling socket", i);
        return -1;
    }
    int rc = zt_client_login(&c, APP_ID, room, user, NULL, false, &reply);
    if (rc) {
        snprintf(err, err_size, "player %zu: login failed (%d)", i, rc);
        zt_client_close(&c);
        return -1;
    }
    int hb_ms = (int)reply.u.login_reply.heartbeat_interval_ms;
    zego_msg_clear(&reply);
    zego_msg req;
    zego_msg_init(&req, ZEGO_MSG_PLAY);
    snprintf(req.u.stream.stream_id, sizeof req.u.stream.stream_id, "%s", STREAM_ID);
    rc = zt_client_request(&c, &req, &reply, 5000);
    if (rc) {
        snprintf(err, err_size, "player %zu: play failed (%d)", i, rc);
        zt_client_close(&c);
        return -1;
    }
    /* ws://HOST:PORT/media/play -> /media/play?ticket=... */
    const char *url = reply.u.media_reply.media.url;
    const char *host = strstr(url, "://");
    const char *path = host ? strchr(host + 3, '/') : NULL;
    char target[2048];
    snprintf(target, sizeof target, "%s%sticket=%s", path ? path : "/media/play",
             path && strchr(path, '?') ? "&" : "?", reply.u.media_reply.media.ticket);
    zego_msg_clear(&reply);
    rc = bench_load_set_player(l, i, port, target);
    /* The socket goes on in the load client; the raw client lets go of it. */
    int fd = c.ws.fd;
    if (rc == 0)
        rc = bench_load_add_signaling(l, fd, c.ws.buf, c.ws.len, hb_ms);
    c.ws.fd = -1;
    zt_client_close(&c);
    if (rc)
        snprintf(err, err_size, "player %zu: out of memory", i);
    return rc;
}

static void sleep_us(int64_t us)
{
    struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

static void run_one(bench_target target, size_t n, run_result *res)
{
    memset(res, 0, sizeof *res);
    relay_proc relay;
    if (start_relay(&relay, target)) {
        snprintf(res->error, sizeof res->error, "the %s relay did not start", target_name[target]);
        return;
    }
    bench_publisher pub = {
        .target = target, .port = relay.port, .stream_id = STREAM_ID, .stream = opt.stream};
    bench_load *l = NULL;
    if (bench_publisher_start(&pub)) {
        snprintf(res->error, sizeof res->error, "%s", pub.error);
        goto out;
    }
    /* Memory with the stream flowing and no player. */
    sleep_us(PRE_ROLL_US);
    res->rss0_kib = proc_rss_kib(relay.pid);

    l = bench_load_new(n);
    if (!l) {
        snprintf(res->error, sizeof res->error, "out of memory");
        goto out;
    }
    int64_t t = bench_mono_us();
    for (size_t i = 0; i < n; i++) {
        int rc = target == BENCH_ZEGO
                     ? login_player(l, relay.port, i, res->error, sizeof res->error)
                     : bench_load_set_player(l, i, relay.port, NULL);
        if (rc)
            goto out;
    }
    res->login_s = (double)(bench_mono_us() - t) / 1e6;
    t = bench_mono_us();
    size_t missing = bench_load_connect(l, t + 30000000);
    res->connect_s = (double)(bench_mono_us() - t) / 1e6;
    if (missing) {
        bench_load_result r;
        bench_load_result_get(l, &r);
        snprintf(res->error, sizeof res->error, "%zu of %zu players did not connect; %s", missing,
                 n, r.first_close);
        goto out;
    }
    bench_load_run(l, bench_mono_us() + (int64_t)(opt.warmup * 1e6));

    /* The window: the frames sent during the next `seconds`. */
    uint32_t lo = atomic_load(&pub.next_seq);
    uint32_t hi = lo + (uint32_t)(opt.seconds * opt.stream.fps);
    bench_load_set_window(l, lo, hi);
    double srv_dropped0 = 0, srv_slow0 = 0;
    if (target == BENCH_ZEGO) {
        srv_dropped0 = zt_metric(relay.port, "zego_frames_dropped_total");
        srv_slow0 = zt_metric(relay.port, "zego_players_disconnected_slow_total");
    }
    double cpu0 = proc_cpu_s(relay.pid), self0 = proc_cpu_s(getpid());
    int64_t t0 = bench_mono_us();
    bench_load_count_bytes(l, true);
    for (int64_t end = t0 + (int64_t)(opt.seconds * 1e6), next = t0; next < end;) {
        next += 500000;
        bench_load_run(l, next < end ? next : end);
        long rss = proc_rss_kib(relay.pid);
        if (rss > res->rss_kib)
            res->rss_kib = rss;
    }
    bench_load_count_bytes(l, false);
    int64_t t1 = bench_mono_us();
    double cpu1 = proc_cpu_s(relay.pid), self1 = proc_cpu_s(getpid());
    if (target == BENCH_ZEGO) {
        res->srv_dropped = zt_metric(relay.port, "zego_frames_dropped_total") - srv_dropped0;
        res->srv_disconnected_slow =
            zt_metric(relay.port, "zego_players_disconnected_slow_total") - srv_slow0;
    }
    /* Late frames of the window still count. */
    int64_t limit = bench_mono_us() + 10000000;
    while (atomic_load(&pub.next_seq) < hi && bench_mono_us() < limit && !atomic_load(&pub.failed))
        bench_load_run(l, bench_mono_us() + 50000);
    bench_load_run(l, bench_mono_us() + DRAIN_US);

    bench_load_result_get(l, &res->load);
    res->delivered_pct =
        res->load.expected ? 100.0 * (double)res->load.delivered / (double)res->load.expected : 0;
    res->cpu_s = cpu1 - cpu0;
    double gb = (double)res->load.bytes_window / 1e9;
    res->cpu_per_gb = gb > 0 ? res->cpu_s / gb : 0;
    res->load_cpu_pct = 100.0 * (self1 - self0) / ((double)(t1 - t0) / 1e6);
    res->mem_per_player_kib = (double)(res->rss_kib - res->rss0_kib) / (double)n;
    res->pub_late = atomic_load(&pub.late);
    if (atomic_load(&pub.failed))
        snprintf(res->error, sizeof res->error, "%s", pub.error);
    else
        res->ok = true;
out:
    if (target == BENCH_ZEGO)
        server_log_note(&relay, res->log_note, sizeof res->log_note);
    bench_load_free(l); /* hangs up the players first: the relay then stops at once */
    bench_publisher_stop(&pub);
    stop_relay(&relay);
}

/* ---- Report ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

typedef struct summary {
    bool ok;
    double delivered_pct, dropped, lost, closed, p50, p99, cpu_per_gb, mem_kib;
    double srv_dropped;
} summary;

static void summarize(run_result *runs, int n, summary *s)
{
    double v[9][MAX_REPEAT];
    int k = 0;
    memset(s, 0, sizeof *s);
    for (int i = 0; i < n; i++) {
        if (!runs[i].ok)
            continue;
        const bench_load_result *r = &runs[i].load;
        v[0][k] = runs[i].delivered_pct;
        v[1][k] = (double)r->dropped;
        v[2][k] = (double)(r->expected - r->delivered - r->dropped);
        v[3][k] = r->closed + r->failed;
        v[4][k] = r->p50_ms;
        v[5][k] = r->p99_ms;
        v[6][k] = runs[i].cpu_per_gb;
        v[7][k] = runs[i].mem_per_player_kib;
        v[8][k] = runs[i].srv_dropped;
        k++;
    }
    if (!k)
        return;
    s->ok = true;
    s->delivered_pct = median(v[0], k);
    s->dropped = median(v[1], k);
    s->lost = median(v[2], k);
    s->closed = median(v[3], k);
    s->p50 = median(v[4], k);
    s->p99 = median(v[5], k);
    s->cpu_per_gb = median(v[6], k);
    s->mem_kib = median(v[7], k);
    s->srv_dropped = median(v[8], k);
}

static void print_run(size_t n, int rep, bench_target t, const run_result *r)
{
    if (!r->ok) {
        printf("  N=%-5zu %-8s run %d: BROKEN: %s\n", n, target_name[t], rep + 1, r->error);
        if (r->log_note[0])
            printf("      server log: %s\n", r->log_note);
        return;
    }
    const bench_load_result *l = &r->load;
    printf("  N=%-5zu %-8s run %d: delivered %.2f%% (%" PRIu64 "/%" PRIu64 "), dropped %" PRIu64
           ", disconnected %u, p50 %.2f ms, p99 %.2f ms, max %.1f ms, CPU %.2f s for %.2f GB, "
           "RSS %ld -> %ld KiB",
           n, target_name[t], rep + 1, r->delivered_pct, l->delivered, l->expected, l->dropped,
           l->closed + l->failed, l->p50_ms, l->p99_ms, l->max_ms, r->cpu_s,
           (double)l->bytes_window / 1e9, r->rss0_kib, r->rss_kib);
    if (t == BENCH_ZEGO)
        printf(", logins %.1f s, server dropped %.0f, slow-disconnected %.0f", r->login_s,
               r->srv_dropped, r->srv_disconnected_slow);
    printf(", connect %.1f s, bench CPU %.0f%%%s\n", r->connect_s, r->load_cpu_pct,
           r->pub_late ? " (publisher late)" : "");
    if (l->bad_frames)
        printf("      %" PRIu64 " frames did not parse\n", l->bad_frames);
    if (l->first_close[0])
        printf("      first disconnect: %s\n", l->first_close);
    if (r->log_note[0])
        printf("      server log: %s\n", r->log_note);
}

static const char *verdict(bool pass)
{
    return pass ? "PASS" : "FAIL";
}

static void print_ratio(double a, double b)
{
    if (b > 0)
        printf(" %8.2fx", a / b);
    else
        printf(" %9s", "-");
}

static void report(summary (*s)[2])
{
    printf("\nResults (median of %d run%s of %.0f s each; ratio = zego / baseline)\n\n", opt.repeat,
           opt.repeat > 1 ? "s" : "", opt.seconds);
    printf("%-7s %-9s %10s %8s %7s %7s %9s %9s %10s %12s\n", "players", "relay", "delivered",
           "dropped", "lost", "discon", "p50 ms", "p99 ms", "CPU s/GB", "KiB/player");
    for (size_t i = 0; i < opt.n_ns; i++) {
        for (int t = 0; t < 2; t++) {
            const summary *x = &s[i][t];
            if (!x->ok) {
                printf("%-7zu %-9s %s\n", opt.ns[i], target_name[t], "(no successful run)");
                continue;
            }
            printf("%-7zu %-9s %9.2f%% %8.0f %7.0f %7.0f %9.2f %9.2f %10.2f %12.1f\n", opt.ns[i],
                   target_name[t], x->delivered_pct, x->dropped, x->lost, x->closed, x->p50, x->p99,
                   x->cpu_per_gb, x->mem_kib);
        }
        if (s[i][0].ok && s[i][1].ok) {
            printf("%-7s %-9s %10s %8s %7s %7s", "", "ratio", "", "", "", "");
            print_ratio(s[i][1].p50, s[i][0].p50);
            print_ratio(s[i][1].p99, s[i][0].p99);
            print_ratio(s[i][1].cpu_per_gb, s[i][0].cpu_per_gb);
            print_ratio(s[i][1].mem_kib, s[i][0].mem_kib);
            printf("\n");
        }
    }
    printf("\n'dropped' are frames of the window missing as sequence gaps; 'lost' the other "
           "missing ones\n(players disconnected, or frames not arrived %.0f s after the window). "
           "Memory is the peak VmRSS\nduring the window minus VmRSS with the stream and no "
           "player, per player.\n",
           DRAIN_US / 1e6);

    printf("\nTargets\n");
    size_t first_loss[2] = {0, 0};
    for (int t = 0; t < 2; t++)
        for (size_t i = 0; i < opt.n_ns && !first_loss[t]; i++)
            if (s[i][t].ok && s[i][t].delivered_pct < 100.0)
                first_loss[t] = opt.ns[i];
    size_t top = opt.n_ns - 1;
    const summary *z = &s[top][BENCH_ZEGO], *b = &s[top][BENCH_BASELINE];
    if (z->ok)
        printf("  %s  nothing dropped at %zu players (delivered %.2f%%, dropped %.0f, lost %.0f)\n",
               verdict(z->delivered_pct >= 100.0), opt.ns[top], z->delivered_pct, z->dropped,
               z->lost);
    for (int t = 1; t >= 0; t--) {
        if (first_loss[t])
            printf("        %s: frames missing from N=%zu on\n", target_name[t], first_loss[t]);
        else
            printf("        %s: no frame missing at any N measured\n", target_name[t]);
    }
    for (size_t i = 0; i < opt.n_ns; i++) {
        z = &s[i][BENCH_ZEGO];
        b = &s[i][BENCH_BASELINE];
        if (!z->ok || !b->ok)
            continue;
        printf("  %s  p99 latency within %.0fx the baseline at %zu players (%.2f ms vs %.2f ms)\n",
               verdict(z->p99 <= TARGET_RATIO * b->p99), TARGET_RATIO, opt.ns[i], z->p99, b->p99);
        printf("  %s  CPU per GB within %.0fx the baseline at %zu players (%.2f vs %.2f s/GB)\n",
               verdict(z->cpu_per_gb <= TARGET_RATIO * b->cpu_per_gb), TARGET_RATIO, opt.ns[i],
               z->cpu_per_gb, b->cpu_per_gb);
    }
    for (size_t i = 0; i < opt.n_ns; i++) {
        z = &s[i][BENCH_ZEGO];
        if (z->ok)
            printf("  %s  memory per player under %.0f KiB at %zu players (%.1f KiB)\n",
                   verdict(z->mem_kib < TARGET_MEM_KIB), TARGET_MEM_KIB, opt.ns[i], z->mem_kib);
    }
}

/* ---- Command line ---- */

static void usage(FILE *out)
{
    fprintf(
        out,
        "Usage: zego-bench-relay [options]\n"
        "\n"
        "Relays one synthetic stream through zego-room-server to N players and through\n"
        "a minimal writev relay (zego-bench-baseline) to as many, and compares them.\n"
        "\n"
        "  --players LIST        player counts, comma-separated (default 100,500,1000)\n"
        "  --seconds S           measured stream per run (default 10)\n"
        "  --warmup S            stream before measuring, after the players are in (default 3)\n"
        "  --repeat R            runs per relay and N; the table shows medians (default 1)\n"
        "  --bitrate BPS         the stream's bit rate (default 2000000)\n"
        "  --fps N               frames per second (default 30); a keyframe every 2 s,\n"
        "                        ten times the size of a P frame\n"
        "  --room-size N         players per room on the server (default 250)\n"
        "  --only RELAY          run only 'zego' or 'baseline'\n"
        "  --server PATH         zego-room-server (default $ZEGO_SERVER_BIN, else the one\n"
        "                        of this build)\n"
        "  --baseline PATH       zego-bench-baseline (default $ZEGO_BENCH_BASELINE_BIN, else\n"
        "                        the one next to this program)\n"
        "  --server-arg ARG      pass ARG to the server (repeatable)\n"
        "  -h, --help            this help\n");
}

static int parse_list(const char *s)
{
    opt.n_ns = 0;
    while (*s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 1 || v > 100000 || opt.n_ns == MAX_NS)
            return -1;
        opt.ns[opt.n_ns++] = (size_t)v;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            return -1;
    }
    return opt.n_ns ? 0 : -1;
}

/* A program of this build: PATH relative to this executable's folder. */
static void beside_self(const char *rel, char *out, size_t size)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = '\0';
    snprintf(out, size, "%s/%s", dirname(self), rel);
}

static int parse_args(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"players", required_argument, NULL, 'n'},
        {"seconds", required_argument, NULL, 's'},
        {"warmup", required_argument, NULL, 'w'},
        {"repeat", required_argument, NULL, 'r'},
        {"bitrate", required_argument, NULL, 'b'},
        {"fps", required_argument, NULL, 'f'},
        {"room-size", required_argument, NULL, 'R'},
        {"only", required_argument, NULL, 'o'},
        {"server", required_argument, NULL, 'S'},
        {"baseline", required_argument, NULL, 'B'},
        {"server-arg", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    parse_list("100,500,1000");
    opt.seconds = 10;
    opt.warmup = 3;
    opt.repeat = 1;
    opt.room_size = 250;
    opt.stream = (bench_stream){.fps = 30, .bitrate = 2000000, .gop = 60, .key_ratio = 10};
    opt.server_bin = getenv("ZEGO_SERVER_BIN");
    const char *baseline = getenv("ZEGO_BENCH_BASELINE_BIN");
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (parse_list(optarg))
                return fprintf(stderr, "zego-bench-relay: bad --players '%s'\n", optarg), 2;
            break;
        case 's':
            opt.seconds = atof(optarg);
            break;
        case 'w':
            opt.warmup = atof(optarg);
            break;
        case 'r':
            opt.repeat = atoi(optarg);
            break;
        case 'b':
            opt.stream.bitrate = atoi(optarg);
            break;
        case 'f':
            opt.stream.fps = atoi(optarg);
            break;
        case 'R':
            opt.room_size = atoi(optarg);
            break;
        case 'o':
            if (strcmp(optarg, "zego") == 0)
                opt.only[BENCH_ZEGO] = true;
            else if (strcmp(optarg, "baseline") == 0)
                opt.only[BENCH_BASELINE] = true;
            else
                return fprintf(stderr, "zego-bench-relay: --only zego or baseline\n"), 2;
            break;
        case 'S':
            opt.server_bin = optarg;
            break;
        case 'B':
            baseline = optarg;
            break;
        case 'a':
            if (opt.n_server_args == MAX_SARGS)
                return fprintf(stderr, "zego-bench-relay: too many --server-arg\n"), 2;
            opt.server_args[opt.n_server_args++] = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc || opt.seconds <= 0 || opt.warmup < 0 || opt.repeat < 1 ||
        opt.repeat > MAX_REPEAT || opt.room_size < 1 || opt.stream.fps < 1 ||
        opt.stream.bitrate < 10000) {
        usage(stderr);
        return 2;
    }
    opt.stream.gop = 2 * opt.stream.fps;
    static char room_limit[16];
    if (opt.room_size >= 500) { /* the server's default --max-users-per-room */
        snprintf(room_limit, sizeof room_limit, "%d", opt.room_size + 1);
        opt.server_args[opt.n_server_args++] = "--max-users-per-room";
        opt.server_args[opt.n_server_args++] = room_limit;
    }
    opt.server_args[opt.n_server_args] = NULL;
    static char server_default[PATH_MAX];
    if (!opt.server_bin) {
        beside_self("../../server/zego-room-server", server_default, sizeof server_default);
        opt.server_bin = server_default;
    }
    if (baseline)
        snprintf(opt.baseline_bin, sizeof opt.baseline_bin, "%s", baseline);
    else
        beside_self("zego-bench-baseline", opt.baseline_bin, sizeof opt.baseline_bin);
    setenv("ZEGO_SERVER_BIN", opt.server_bin, 1); /* zt_server_start reads it */
    return 0;
}

static void print_machine(void)
{
    char model[256] = "?", line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "model name : %255[^\n]", model) == 1)
            break;
    if (f)
        fclose(f);
    struct utsname u;
    uname(&u);
    double load[3] = {0};
    getloadavg(load, 3);
    printf("machine: %ld cores (%s), Linux %s, load average %.2f; everything on loopback\n",
           sysconf(_SC_NPROCESSORS_ONLN), model, u.release, load[0]);
}

int main(int argc, char **argv)
{
    int rc = parse_args(argc, argv);
    if (rc)
        return rc;
    /* Two sockets per player here (signaling and media) and as many in the
     * server, which inherits the limit. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        size_t most = 0;
        for (size_t i = 0; i < opt.n_ns; i++)
            most = opt.ns[i] > most ? opt.ns[i] : most;
        if (rl.rlim_cur < 2 * most + 64)
            fprintf(stderr, "zego-bench-relay: the file limit %llu is low for %zu players\n",
                    (unsigned long long)rl.rlim_cur, most);
    }
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);

    printf("command: ");
    for (int i = 0; i < argc; i++)
        printf("%s%s", i ? " " : "", argv[i]);
    printf("\n");
    print_machine();
    bool key;
    size_t p_size = bench_frame_size(&opt.stream, 1, &key);
    size_t k_size = bench_frame_size(&opt.stream, 0, &key);
    printf("stream: %d fps, %.2f Mbit/s, a keyframe every %d frames: %zu-byte P frames, "
           "%zu-byte keyframes\n",
           opt.stream.fps, opt.stream.bitrate / 1e6, opt.stream.gop, p_size, k_size);
    printf("server: zego-room-server --listen 127.0.0.1:0 --log-level info");
    for (int i = 0; i < opt.n_server_args; i++)
        printf(" %s", opt.server_args[i]);
    printf(" (open mode, %d players a room)\n", opt.room_size);
    printf("each run: %.0f s warm-up, %.0f s measured, %d run%s per relay and N\n\n", opt.warmup,
           opt.seconds, opt.repeat, opt.repeat > 1 ? "s" : "");

    static run_result runs[MAX_NS][2][MAX_REPEAT];
    static summary sums[MAX_NS][2];
    bool both = !opt.only[0] && !opt.only[1];
    int broken = 0;
    for (size_t i = 0; i < opt.n_ns; i++) {
        for (int rep = 0; rep < opt.repeat; rep++) {
            for (int t = 0; t < 2; t++) {
                if (!both && !opt.only[t])
                    continue;
                run_one((bench_target)t, opt.ns[i], &runs[i][t][rep]);
                print_run(opt.ns[i], rep, (bench_target)t, &runs[i][t][rep]);
                broken += !runs[i][t][rep].ok;
            }
        }
        for (int t = 0; t < 2; t++)
            summarize(runs[i][t], opt.repeat, &sums[i][t]);
    }
    report(sums);
    if (broken)
        printf("\n%d run%s broke (see above)\n", broken, broken > 1 ? "s" : "");
    return broken ? 1 : 0;
}
