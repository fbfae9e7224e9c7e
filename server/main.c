/* zego-room-server: command line, the event loop and an orderly shutdown.
 *
 * One libwebsockets context runs on a libuv loop owned here, so that the
 * server's own timers and signal handlers (and later a Redis client) share
 * it.  SIGINT and SIGTERM tell every client the server is going away, give
 * the sockets a moment to flush, and exit with status 0. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "server.h"

#ifndef ZEGO_VERSION
#define ZEGO_VERSION "0.1.0"
#endif

#define TICK_MS           200
#define SHUTDOWN_GRACE_MS 2000

static zs_server server;
static uv_timer_t tick_timer, shutdown_timer;
static uv_signal_t sigint_handle, sigterm_handle;
static int64_t shutdown_deadline_us;

int64_t zs_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t zs_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void zs_apply_sndbuf(zs_server *srv, struct lws *wsi)
{
    if (srv->cfg.sndbuf > 0) {
        int fd = lws_get_socket_fd(wsi);
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &srv->cfg.sndbuf, sizeof srv->cfg.sndbuf);
    }
}

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void zs_log(zs_server *srv, int level, const char *fmt, ...)
{
    if (level > srv->cfg.log_level)
        return;
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "%s zego-room-server %s: ", when, level_names[level]);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void lws_log_emit(int level, const char *line)
{
    int ours = level == LLL_ERR ? ZS_LOG_ERROR : level == LLL_WARN ? ZS_LOG_WARN : ZS_LOG_DEBUG;
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    zs_log(&server, ours, "lws: %.*s", (int)n, line);
}

/* ---- Command line ---- */

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: zego-room-server [options]\n"
            "\n"
            "Runs a room server: clients log into rooms with a Token04, publish and play\n"
            "streams; signaling and media go over WebSockets on one port, next to\n"
            "/healthz and /metrics.  Without --app or --app-file it runs in an open\n"
            "development mode (no tokens checked) that only listens on loopback.\n"
            "\n"
            "Listening:\n"
            "  --listen HOST:PORT       address to listen on (default 127.0.0.1:%d); port 0\n"
            "                           picks a free port, printed on standard output\n"
            "  --tls-cert FILE          serve wss:// and https:// with this certificate...\n"
            "  --tls-key FILE           ...and this private key\n"
            "  --public-url URL         base URL of media sockets handed to clients, e.g.\n"
            "                           wss://media.example.com (default: the Host the\n"
            "                           client connected to)\n"
            "\n"
            "Apps and tokens:\n"
            "  --app APP_ID:SECRET      accept logins for APP_ID with Token04 tokens made\n"
            "                           with the 32-character SECRET (repeatable)\n"
            "  --app-file FILE          read apps from FILE, one \"APP_ID SECRET\" per line\n"
            "                           (# starts a comment); keeps secrets off the\n"
            "                           command line\n"
            "\n"
            "Limits:\n"
            "  --max-rooms N            rooms on this server (default 10000)\n"
            "  --max-users-per-room N   users in one room (default 500)\n"
            "  --max-frame-bytes N      largest media frame payload (default 4194304)\n"
            "  --gop-cache-bytes N      GOP cache per stream, bytes (default 4194304)\n"
            "  --gop-cache-frames N     GOP cache per stream, frames (default 600)\n"
            "  --player-queue-bytes N   a player's queue past which its video is dropped\n"
            "                           until the next keyframe (default 6291456; at\n"
            "                           least --gop-cache-bytes)\n"
            "  --player-queue-hard-bytes N  past which its audio is dropped too\n"
            "                           (default 8388608)\n"
            "  --player-queue-ms MS     age of a player's oldest queued frame past which\n"
            "                           it counts as behind (default 3000)\n"
            "  --player-stall-ms MS     a player that had frames dropped and has not\n"
            "                           caught up for this long is disconnected\n"
            "                           (default 5000)\n"
            "  --sndbuf BYTES           cap each socket's SO_SNDBUF (default: the system's)\n"
            "\n"
            "Timing:\n"
            "  --heartbeat-interval MS  heartbeat period asked of clients (default 10000)\n"
            "  --heartbeat-timeout MS   silence after which a client counts as gone\n"
            "                           (default 3 heartbeat intervals)\n"
            "  --reconnect-window MS    how long a dropped user keeps its place and\n"
            "                           streams (default 30000)\n"
            "  --login-timeout MS       time a new socket has to log in (default 10000)\n"
            "\n"
            "Other:\n"
            "  --log-level LEVEL        error, warn, info (default) or debug\n"
            "  -h, --help               show this help and exit\n"
            "  -V, --version            show the version and exit\n"
            "\n"
            "Example:\n"
            "  printf '1234567 %%s\\n' \"$SECRET\" > apps.txt\n"
            "  zego-room-server --listen 0.0.0.0:7600 --app-file apps.txt\n",
            ZS_DEFAULT_PORT);
}

static int fail_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail_usage(const char *fmt, ...)
{
    fprintf(stderr, "zego-room-server: ");
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'zego-room-server --help'.\n");
    return 2;
}

static bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!s || !*s || !isdigit((unsigned char)s[0]))
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static int add_app(zs_config *cfg, const char *spec, const char *where)
{
    char id_text[16];
    const char *sep = strpbrk(spec, ": \t");
    if (!sep || (size_t)(sep - spec) >= sizeof id_text)
        return fail_usage("%s: expected APP_ID:SECRET, got '%.40s'", where, spec);
    memcpy(id_text, spec, (size_t)(sep - spec));
    id_text[sep - spec] = '\0';
    const char *secret = sep + 1;
    while (*secret == ' ' || *secret == '\t')
        secret++;
    size_t slen = strlen(secret);
    while (slen && isspace((unsigned char)secret[slen - 1]))
        slen--;
    uint64_t app_id;
    if (!parse_u64(id_text, 1, UINT32_MAX, &app_id))
        return fail_usage("%s: app id '%s' is not a number from 1 to 4294967295", where, id_text);
    if (slen != ZEGO_TOKEN04_SECRET_LEN)
        return fail_usage("%s: the secret of app %s is %zu characters; it must be %d", where,
                          id_text, slen, ZEGO_TOKEN04_SECRET_LEN);
    zs_app *apps = realloc(cfg->apps, (cfg->n_apps + 1) * sizeof *apps);
    if (!apps)
        return fail_usage("out of memory");
    cfg->apps = apps;
    apps[cfg->n_apps].app_id = (uint32_t)app_id;
    memcpy(apps[cfg->n_apps].secret, secret, slen);
    apps[cfg->n_apps].secret[slen] = '\0';
    cfg->n_apps++;
    return 0;
}

static int load_app_file(zs_config *cfg, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return fail_usage("cannot read --app-file %s: %s", path, strerror(errno));
    char line[512], where[600];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (!*p || *p == '#')
            continue;
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        rc = add_app(cfg, p, where);
    }
    fclose(f);
    return rc;
}

static bool is_loopback(const char *host)
{
    return strncmp(host, "127.", 4) == 0 || strcmp(host, "localhost") == 0 ||
           strcmp(host, "::1") == 0 || strcmp(host, "[::1]") == 0;
}

enum {
    OPT_LISTEN = 256,
    OPT_APP,
    OPT_APP_FILE,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    OPT_PUBLIC_URL,
    OPT_MAX_ROOMS,
    OPT_MAX_USERS,
    OPT_MAX_FRAME,
    OPT_GOP_BYTES,
    OPT_GOP_FRAMES,
    OPT_PQ_BYTES,
    OPT_PQ_HARD,
    OPT_PQ_MS,
    OPT_STALL_MS,
    OPT_SNDBUF,
    OPT_HB_INTERVAL,
    OPT_HB_TIMEOUT,
    OPT_RECONNECT,
    OPT_LOGIN_TIMEOUT,
    OPT_LOG_LEVEL,
};

static int parse_args(int argc, char **argv, zs_config *cfg)
{
    static const struct option options[] = {
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"app", required_argument, NULL, OPT_APP},
        {"app-file", required_argument, NULL, OPT_APP_FILE},
        {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
        {"tls-key", required_argument, NULL, OPT_TLS_KEY},
        {"public-url", required_argument, NULL, OPT_PUBLIC_URL},
        {"max-rooms", required_argument, NULL, OPT_MAX_ROOMS},
        {"max-users-per-room", required_argument, NULL, OPT_MAX_USERS},
        {"max-frame-bytes", required_argument, NULL, OPT_MAX_FRAME},
        {"gop-cache-bytes", required_argument, NULL, OPT_GOP_BYTES},
        {"gop-cache-frames", required_argument, NULL, OPT_GOP_FRAMES},
        {"player-queue-bytes", required_argument, NULL, OPT_PQ_BYTES},
        {"player-queue-hard-bytes", required_argument, NULL, OPT_PQ_HARD},
        {"player-queue-ms", required_argument, NULL, OPT_PQ_MS},
        {"player-stall-ms", required_argument, NULL, OPT_STALL_MS},
        {"sndbuf", required_argument, NULL, OPT_SNDBUF},
        {"heartbeat-interval", required_argument, NULL, OPT_HB_INTERVAL},
        {"heartbeat-timeout", required_argument, NULL, OPT_HB_TIMEOUT},
        {"reconnect-window", required_argument, NULL, OPT_RECONNECT},
        {"login-timeout", required_argument, NULL, OPT_LOGIN_TIMEOUT},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    struct {
        int opt;
        const char *name;
        uint64_t min, max;
        void *target;
        int size; /* 4 = uint32_t, 8 = size_t, -4 = int */
    } numbers[] = {
        {OPT_MAX_ROOMS, "--max-rooms", 1, 10000000, &cfg->max_rooms, 4},
        {OPT_MAX_USERS, "--max-users-per-room", 1, 1000000, &cfg->max_users_per_room, 4},
        {OPT_MAX_FRAME, "--max-frame-bytes", 1024, 64u << 20, &cfg->max_frame_bytes, 8},
        {OPT_GOP_BYTES, "--gop-cache-bytes", 0, 1u << 30, &cfg->gop_cache_bytes, 8},
        {OPT_GOP_FRAMES, "--gop-cache-frames", 1, 100000, &cfg->gop_cache_frames, 4},
        {OPT_PQ_BYTES, "--player-queue-bytes", 1024, 1u << 30, &cfg->player_queue_bytes, 8},
        {OPT_PQ_HARD, "--player-queue-hard-bytes", 1024, 1u << 30, &cfg->player_queue_hard_bytes,
         8},
        {OPT_PQ_MS, "--player-queue-ms", 10, 600000, &cfg->player_queue_ms, 4},
        {OPT_STALL_MS, "--player-stall-ms", 10, 600000, &cfg->player_stall_ms, 4},
        {OPT_SNDBUF, "--sndbuf", 1024, 1u << 30, &cfg->sndbuf, -4},
        {OPT_HB_INTERVAL, "--heartbeat-interval", 100, 3600000, &cfg->heartbeat_interval_ms, 4},
        {OPT_HB_TIMEOUT, "--heartbeat-timeout", 100, 36000000, &cfg->heartbeat_timeout_ms, 4},
        {OPT_RECONNECT, "--reconnect-window", 0, 36000000, &cfg->reconnect_window_ms, 4},
        {OPT_LOGIN_TIMEOUT, "--login-timeout", 100, 3600000, &cfg->login_timeout_ms, 4},
    };
    bool hard_given = false, hb_timeout_given = false;
    int opt, rc;
    while ((opt = getopt_long(argc, argv, "hV", options, NULL)) != -1) {
        switch (opt) {
        case 'h':
            usage(stdout);
            exit(0);
        case 'V':
            printf("zego-room-server %s\n", ZEGO_VERSION);
            exit(0);
        case OPT_LISTEN: {
            const char *colon = strrchr(optarg, ':');
            uint64_t port;
            if (!colon || colon == optarg || (size_t)(colon - optarg) >= sizeof cfg->listen_host ||
                !parse_u64(colon + 1, 0, 65535, &port))
                return fail_usage("--listen takes HOST:PORT (port 0 to 65535), not '%s'", optarg);
            memcpy(cfg->listen_host, optarg, (size_t)(colon - optarg));
            cfg->listen_host[colon - optarg] = '\0';
            cfg->port = (int)port;
            break;
        }
        case OPT_APP:
            if ((rc = add_app(cfg, optarg, "--app")))
                return rc;
            break;
        case OPT_APP_FILE:
            if ((rc = load_app_file(cfg, optarg)))
                return rc;
            break;
        case OPT_TLS_CERT:
            cfg->tls_cert = optarg;
            break;
        case OPT_TLS_KEY:
            cfg->tls_key = optarg;
            break;
        case OPT_PUBLIC_URL:
            if (strncmp(optarg, "ws://", 5) != 0 && strncmp(optarg, "wss://", 6) != 0)
                return fail_usage("--public-url must start with ws:// or wss://");
            cfg->public_url = optarg;
            break;
        case OPT_LOG_LEVEL: {
            int found = -1;
            for (int i = 0; i < 4; i++)
                if (strcmp(optarg, level_names[i]) == 0)
                    found = i;
            if (found < 0)
                return fail_usage("--log-level is error, warn, info or debug, not '%s'", optarg);
            cfg->log_level = found;
            break;
        }
        case '?':
            return fail_usage("unknown option or missing value");
        default: {
            size_t i;
            for (i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
                if (numbers[i].opt == opt)
                    break;
            if (i == sizeof numbers / sizeof numbers[0])
                return fail_usage("unknown option");
            uint64_t v;
            if (!parse_u64(optarg, numbers[i].min, numbers[i].max, &v))
                return fail_usage("%s takes a number from %" PRIu64 " to %" PRIu64 ", not '%s'",
                                  numbers[i].name, numbers[i].min, numbers[i].max, optarg);
            if (numbers[i].size == 4)
                *(uint32_t *)numbers[i].target = (uint32_t)v;
            else if (numbers[i].size == 8)
                *(size_t *)numbers[i].target = (size_t)v;
            else
                *(int *)numbers[i].target = (int)v;
            hard_given |= opt == OPT_PQ_HARD;
            hb_timeout_given |= opt == OPT_HB_TIMEOUT;
        }
        }
    }
    if (optind < argc)
        return fail_usage("unexpected argument '%s'", argv[optind]);
    if (!cfg->tls_cert != !cfg->tls_key)
        return fail_usage("--tls-cert and --tls-key go together");
    if (!hb_timeout_given)
        cfg->heartbeat_timeout_ms = cfg->heartbeat_interval_ms * 3;
    if (!hard_given && cfg->player_queue_hard_bytes < cfg->player_queue_bytes)
        cfg->player_queue_hard_bytes = cfg->player_queue_bytes + cfg->player_queue_bytes / 4;
    if (cfg->player_queue_bytes < cfg->gop_cache_bytes)
        return fail_usage("--player-queue-bytes (%zu) must be at least --gop-cache-bytes (%zu), "
                          "or a new player could not take the whole GOP cache",
                          cfg->player_queue_bytes, cfg->gop_cache_bytes);
    if (cfg->player_queue_hard_bytes < cfg->player_queue_bytes)
        return fail_usage("--player-queue-hard-bytes must be at least --player-queue-bytes");
    cfg->open_mode = cfg->n_apps == 0;
    if (cfg->open_mode && !is_loopback(cfg->listen_host))
        return fail_usage("without --app or --app-file the server runs in open development "
                          "mode, which only listens on loopback; %s is not",
                          cfg->listen_host);
    return 0;
}

/* ---- Loop ---- */

static void on_tick(uv_timer_t *t)
{
    zs_server *srv = t->data;
    if (!srv->context)
        return;
    zs_signaling_tick(srv);
    zs_media_tick(srv);
}

static void close_own_handles(void)
{
    uv_timer_stop(&tick_timer);
    uv_close((uv_handle_t *)&tick_timer, NULL);
    uv_timer_stop(&shutdown_timer);
    uv_close((uv_handle_t *)&shutdown_timer, NULL);
    uv_signal_stop(&sigint_handle);
    uv_close((uv_handle_t *)&sigint_handle, NULL);
    uv_signal_stop(&sigterm_handle);
    uv_close((uv_handle_t *)&sigterm_handle, NULL);
}

static void on_shutdown_timer(uv_timer_t *t)
{
    zs_server *srv = t->data;
    bool drained = srv->n_conns == 0 && srv->n_players == 0 && srv->n_publishers == 0;
    if (!drained && zs_now_us() < shutdown_deadline_us)
        return;
    zs_log(srv, ZS_LOG_INFO, "closing%s", drained ? "" : " (some clients did not hang up)");
    close_own_handles();
    /* Closes every socket and, with a foreign loop, lets the loop end once
     * lws has closed its own handles. */
    lws_context_destroy(srv->context);
}

static void on_signal(uv_signal_t *h, int signum)
{
    zs_server *srv = h->data;
    if (srv->shutting_down)
        return;
    zs_log(srv, ZS_LOG_INFO, "%s received: telling clients and shutting down",
           signum == SIGINT ? "SIGINT" : "SIGTERM");
    srv->shutting_down = true;
    zs_signaling_shutdown(srv);
    zs_media_shutdown(srv);
    shutdown_deadline_us = zs_now_us() + SHUTDOWN_GRACE_MS * 1000;
    uv_timer_start(&shutdown_timer, on_shutdown_timer, 50, 50);
}

static void free_all(zs_server *srv)
{
    zs_sessions_free(srv);
    /* Channels left are only ones with waiting players, already closed. */
    zs_channel *left[256];
    while (srv->channels.count) {
        size_t n = 0;
        for (zs_map_iter it = zs_map_first(&srv->channels); it.entry && n < 256;
             zs_map_next(&srv->channels, &it))
            left[n++] = it.entry->value;
        for (size_t i = 0; i < n; i++) {
            left[i]->players = NULL;
            left[i]->publisher = NULL;
            left[i]->owner = NULL;
            zs_channel_maybe_free(left[i]);
        }
    }
    zs_map_free(&srv->rooms);
    zs_map_free(&srv->sessions);
    zs_map_free(&srv->users);
    zs_map_free(&srv->channels);
    zs_map_free(&srv->used_tickets);
    free(srv->cfg.apps);
}

int main(int argc, char **argv)
{
    zs_server *srv = &server;
    zs_config *cfg = &srv->cfg;
    snprintf(cfg->listen_host, sizeof cfg->listen_host, "127.0.0.1");
    cfg->port = ZS_DEFAULT_PORT;
    cfg->max_rooms = 10000;
    cfg->max_users_per_room = 500;
    cfg->max_frame_bytes = ZEGO_FRAME_PAYLOAD_DEFAULT_MAX;
    cfg->gop_cache_bytes = 4u << 20;
    cfg->gop_cache_frames = 600;
    cfg->player_queue_bytes = 6u << 20;
    cfg->player_queue_hard_bytes = 8u << 20;
    cfg->player_queue_ms = 3000;
    cfg->player_stall_ms = 5000;
    cfg->signal_queue_bytes = 16u << 20;
    cfg->heartbeat_interval_ms = 10000;
    cfg->reconnect_window_ms = 30000;
    cfg->login_timeout_ms = 10000;
    cfg->log_level = ZS_LOG_INFO;
    int rc = parse_args(argc, argv, cfg);
    if (rc)
        return rc;

    signal(SIGPIPE, SIG_IGN);
    if (RAND_bytes(srv->ticket_secret, sizeof srv->ticket_secret) != 1) {
        fprintf(stderr, "zego-room-server: no random numbers from OpenSSL\n");
        return 1;
    }
    uint8_t id[4];
    RAND_bytes(id, sizeof id);
    snprintf(srv->node_id, sizeof srv->node_id, "node-%02x%02x%02x%02x", id[0], id[1], id[2],
             id[3]);
    zs_map_init(&srv->rooms);
    zs_map_init(&srv->sessions);
    zs_map_init(&srv->users);
    zs_map_init(&srv->channels);
    zs_map_init(&srv->used_tickets);

    lws_set_log_level(cfg->log_level >= ZS_LOG_DEBUG ? LLL_ERR | LLL_WARN | LLL_NOTICE
                                                     : LLL_ERR | LLL_WARN,
                      lws_log_emit);

    uv_loop_init(&srv->loop);
    uv_timer_init(&srv->loop, &tick_timer);
    uv_timer_init(&srv->loop, &shutdown_timer);
    uv_signal_init(&srv->loop, &sigint_handle);
    uv_signal_init(&srv->loop, &sigterm_handle);
    tick_timer.data = shutdown_timer.data = sigint_handle.data = sigterm_handle.data = srv;

    /* The play protocol sends whole frames in one send() (see media.c). */
    struct lws_protocols play = zs_play_protocol;
    play.tx_packet_size = cfg->max_frame_bytes + ZEGO_FRAME_HEADER_SIZE + 16;
    struct lws_protocols publish = zs_publish_protocol;
    publish.tx_packet_size = 4096;
    const struct lws_protocols protocols[] = {
        zs_http_protocol, zs_signaling_protocol, publish, play, {NULL, NULL, 0, 0, 0, NULL, 0},
    };
    /* Dead peers of any socket: a WebSocket ping after 20 s of silence,
     * hang up after 40 s. */
    static const lws_retry_bo_t idle_policy = {
        .secs_since_valid_ping = 20,
        .secs_since_valid_hangup = 40,
    };

    void *loops[1] = {&srv->loop};
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = cfg->port;
    info.iface = cfg->listen_host;
    info.protocols = protocols;
    info.user = srv;
    info.foreign_loops = loops;
    info.options =
        LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_IPV6;
    info.alpn = "http/1.1"; /* no HTTP/2: every media socket is its own TCP connection */
    info.retry_and_idle_policy = &idle_policy;
    info.pcontext = &srv->context;
    info.timeout_secs = 10;
    if (cfg->tls_cert) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = cfg->tls_cert;
        info.ssl_private_key_filepath = cfg->tls_key;
    }
    srv->context = lws_create_context(&info);
    if (!srv->context) {
        fprintf(stderr,
                "zego-room-server: cannot listen on %s:%d (in use, or not an address "
                "of this machine?)\n",
                cfg->listen_host, cfg->port);
        close_own_handles();
        uv_run(&srv->loop, UV_RUN_DEFAULT);
        uv_loop_close(&srv->loop);
        free(cfg->apps);
        return 1;
    }
    srv->vhost = lws_get_vhost_by_name(srv->context, "default");
    srv->bound_port = srv->vhost ? lws_get_vhost_listen_port(srv->vhost) : cfg->port;

    if (cfg->open_mode)
        zs_log(srv, ZS_LOG_WARN,
               "OPEN DEVELOPMENT MODE: no app is configured, so any app id is accepted and no "
               "token is checked. Use --app or --app-file for anything but local testing.");
    printf("zego-room-server listening on %s://%s:%d/ws\n", cfg->tls_cert ? "wss" : "ws",
           cfg->listen_host, srv->bound_port);
    fflush(stdout);

    uv_signal_start(&sigint_handle, on_signal, SIGINT);
    uv_signal_start(&sigterm_handle, on_signal, SIGTERM);
    uv_timer_start(&tick_timer, on_tick, TICK_MS, TICK_MS);
    uv_run(&srv->loop, UV_RUN_DEFAULT);

    if (srv->context)
        lws_context_destroy(srv->context);
    uv_run(&srv->loop, UV_RUN_DEFAULT);
    free_all(srv);
    uv_loop_close(&srv->loop);
    zs_log(srv, ZS_LOG_INFO, "stopped");
    return 0;
}
