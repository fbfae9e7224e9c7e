/* The load client: N players on one thread, non-blocking sockets and epoll.
 *
 * A relay under test has to be measured against players that cost little
 * themselves, or the benchmark measures its own client: so a player keeps no
 * payload, only a streaming WebSocket parser that remembers the first bytes
 * of each message (the 36-byte frame header), and every socket is read with
 * one large recv() per wakeup.  The same players read the baseline, which
 * sends the same WebSocket frames after a one-byte hello instead of an
 * upgrade.
 *
 * Signaling sockets logged in beforehand are served here too: their pings are
 * answered and heartbeats sent, so that sessions live through long runs. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "protocol.h"

#define MAX_HANDSHAKES 64 /* in flight while connecting */
#define READ_CHUNK     (256 * 1024)
#define HEAD_BYTES     128 /* of each message: the frame header, or a text's start */
#define HS_BYTES       2048

enum conn_state { C_IDLE, C_CONNECTING, C_HANDSHAKE, C_OPEN, C_CLOSED, C_FAILED };

typedef struct conn {
    int fd;
    uint8_t state;
    bool signaling;
    bool upgrade; /* a WebSocket upgrade (zego) rather than a hello byte (baseline) */
    int port;
    char *path; /* upgrade target; freed once open */
    char *hs;   /* the handshake's answer so far */
    size_t hs_len;

    /* WebSocket parser */
    uint8_t hdr[14];
    uint8_t hdr_len, hdr_need;
    uint8_t opcode, msg_opcode;
    bool fin;
    uint64_t left;
    uint8_t head[HEAD_BYTES]; /* first bytes of the data message */
    uint32_t head_len;
    uint64_t msg_len;
    uint8_t ctrl[125];
    uint32_t ctrl_len;

    /* statistics of a player */
    int64_t last_seq; /* -1 before the first frame */
    uint32_t delivered, dropped, bad;
    int close_code;
    char close_reason[128];
} conn;

struct bench_load {
    int ep;
    conn *players;
    size_t n_players;
    conn *sig;
    size_t n_sig, cap_sig;
    int hb_ms;
    int64_t next_hb_us;
    uint32_t hb_seq;
    uint32_t lo, hi; /* the window's sequences */
    bool counting;
    uint64_t bytes_window;
    int32_t *samples; /* latency, microseconds, of window frames */
    size_t n_samples, cap_samples;
    uint8_t *chunk;
    size_t next_to_open, handshaking;
};

int64_t bench_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t bench_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

bench_load *bench_load_new(size_t n_players)
{
    bench_load *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    l->players = calloc(n_players ? n_players : 1, sizeof *l->players);
    l->chunk = malloc(READ_CHUNK);
    if (l->ep < 0 || !l->players || !l->chunk) {
        bench_load_free(l);
        return NULL;
    }
    l->n_players = n_players;
    for (size_t i = 0; i < n_players; i++) {
        l->players[i].fd = -1;
        l->players[i].last_seq = -1;
    }
    return l;
}

static void conn_release(conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->path);
    free(c->hs);
    c->path = c->hs = NULL;
}

void bench_load_free(bench_load *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n_players; i++)
        conn_release(&l->players[i]);
    for (size_t i = 0; i < l->n_sig; i++)
        conn_release(&l->sig[i]);
    if (l->ep >= 0)
        close(l->ep);
    free(l->players);
    free(l->sig);
    free(l->samples);
    free(l->chunk);
    free(l);
}

/* epoll's data is the connection's index: players from 0, signaling after. */
static uint64_t conn_key(const bench_load *l, const conn *c)
{
    return c->signaling ? l->n_players + (size_t)(c - l->sig) : (size_t)(c - l->players);
}

static conn *conn_of(bench_load *l, uint64_t key)
{
    return key < l->n_players ? &l->players[key] : &l->sig[key - l->n_players];
}

static void watch(bench_load *l, conn *c, int op, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.u64 = conn_key(l, c)};
    epoll_ctl(l->ep, op, c->fd, &ev);
}

/* Small control and heartbeat frames; a client masks them (with a zero
 * mask, which is allowed and keeps the bytes readable in a capture). */
static void send_frame(conn *c, int opcode, const void *data, size_t len)
{
    uint8_t buf[14 + 256];
    if (c->fd < 0 || len > 256)
        return;
    size_t h = 0;
    buf[h++] = (uint8_t)(0x80 | opcode);
    if (len < 126) {
        buf[h++] = (uint8_t)(0x80 | len);
    } else {
        buf[h++] = 0x80 | 126;
        buf[h++] = (uint8_t)(len >> 8);
        buf[h++] = (uint8_t)len;
    }
    memset(buf + h, 0, 4);
    h += 4;
    memcpy(buf + h, data, len);
    /* These are tiny and the socket's send buffer is empty: a short write
     * would only cost a heartbeat. */
    (void)!send(c->fd, buf, h + len, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void conn_close(bench_load *l, conn *c, bool failed)
{
    if (c->state == C_CONNECTING || c->state == C_HANDSHAKE)
        l->handshaking--;
    if (c->fd >= 0)
        epoll_ctl(l->ep, EPOLL_CTL_DEL, c->fd, NULL);
    conn_release(c);
    c->state = failed ? C_FAILED : C_CLOSED;
}

static void count_gap(bench_load *l, conn *c, uint32_t from, uint32_t to)
{
    /* Sequences from..to-1 were skipped; count those in the window. */
    uint32_t a = from > l->lo ? from : l->lo;
    uint32_t b = to < l->hi ? to : l->hi;
    if (b > a)
        c->dropped += b - a;
}

static void on_message(bench_load *l, conn *c, int64_t now_wall)
{
    if (c->signaling)
        return; /* replies and events are not needed */
    if (c->msg_opcode == 0x1) {
        /* An error event before a close says why; keep it. */
        if (c->head_len > 16 && memmem(c->head, c->head_len, "\"error\"", 7))
            snprintf(c->close_reason, sizeof c->close_reason, "%.*s", (int)c->head_len,
                     (const char *)c->head);
        return;
    }
    if (c->msg_opcode != 0x2)
        return;
    const uint8_t *h = c->head;
    if (c->head_len < ZEGO_FRAME_HEADER_SIZE || h[0] != ZEGO_FRAME_VERSION) {
        c->bad++;
        return;
    }
    uint32_t seq = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | (uint32_t)h[6] << 8 | h[7];
    int64_t capture = 0;
    for (int i = 0; i < 8; i++)
        capture = capture << 8 | h[24 + i];
    uint32_t payload = (uint32_t)h[32] << 24 | (uint32_t)h[33] << 16 | (uint32_t)h[34] << 8 | h[35];
    if (c->msg_len != (uint64_t)h[1] + payload)
        c->bad++;
    if (c->last_seq >= 0 && seq != (uint32_t)c->last_seq + 1)
        count_gap(l, c, (uint32_t)c->last_seq + 1, seq);
    c->last_seq = seq;
    if (seq >= l->lo && seq < l->hi) {
        c->delivered++;
        if (l->n_samples < l->cap_samples)
            l->samples[l->n_samples++] = (int32_t)(now_wall - capture);
    }
}

/* Feeds bytes read from an open socket through the WebSocket parser. */
static void feed(bench_load *l, conn *c, const uint8_t *p, size_t n, int64_t now_wall)
{
    while (n) {
        if (c->hdr_need == 0)
            c->hdr_need = 2;
        if (c->hdr_len < c->hdr_need) {
            c->hdr[c->hdr_len++] = *p++;
            n--;
            if (c->hdr_len == 2) {
                uint8_t len7 = c->hdr[1] & 0x7f;
                c->hdr_need = 2 + (c->hdr[1] & 0x80 ? 4 : 0);
                if (len7 == 126)
                    c->hdr_need += 2;
                else if (len7 == 127)
                    c->hdr_need += 8;
            }
            if (c->hdr_len < c->hdr_need)
                continue;
            uint64_t len = c->hdr[1] & 0x7f;
            if (len == 126) {
                len = (uint64_t)c->hdr[2] << 8 | c->hdr[3];
            } else if (len == 127) {
                len = 0;
                for (int i = 0; i < 8; i++)
                    len = len << 8 | c->hdr[2 + i];
            }
            c->fin = c->hdr[0] & 0x80;
            c->opcode = c->hdr[0] & 0x0f;
            c->left = len;
            if (c->opcode & 0x8) {
                c->ctrl_len = 0;
            } else if (c->opcode != 0) {
                c->msg_opcode = c->opcode;
                c->head_len = 0;
                c->msg_len = 0;
            }
            if (c->left)
                continue;
        } else {
            size_t take = c->left < n ? (size_t)c->left : n;
            if (c->opcode & 0x8) {
                size_t room = sizeof c->ctrl - c->ctrl_len;
                size_t k = take < room ? take : room;
                memcpy(c->ctrl + c->ctrl_len, p, k);
                c->ctrl_len += (uint32_t)k;
            } else {
                size_t room = sizeof c->head - c->head_len;
                size_t k = take < room ? take : room;
                memcpy(c->head + c->head_len, p, k);
                c->head_len += (uint32_t)k;
                c->msg_len += take;
            }
            p += take;
            n -= take;
            c->left -= take;
            if (c->left)
                continue;
        }
        /* A whole frame. */
        c->hdr_len = 0;
        c->hdr_need = 2;
        if (c->opcode == 0x9) {
            send_frame(c, 0xa, c->ctrl, c->ctrl_len);
        } else if (c->opcode == 0x8) {
            if (c->ctrl_len >= 2) {
                c->close_code = c->ctrl[0] << 8 | c->ctrl[1];
                if (!c->close_reason[0])
                    snprintf(c->close_reason, sizeof c->close_reason, "%.*s",
                             (int)(c->ctrl_len - 2), (const char *)c->ctrl + 2);
            }
            send_frame(c, 0x8, c->ctrl, c->ctrl_len >= 2 ? 2 : 0);
        } else if (!(c->opcode & 0x8) && c->fin) {
            on_message(l, c, now_wall);
        }
    }
}

static const char ws_key[] = "ZWdvLWJlbmNoLXJlbGF5IQ=="; /* any 16 bytes, base64 */

static void start_connect(bench_load *l, conn *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        c->state = C_FAILED;
        snprintf(c->close_reason, sizeof c->close_reason, "socket: %s", strerror(errno));
        return;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)c->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
        snprintf(c->close_reason, sizeof c->close_reason, "connect: %s", strerror(errno));
        close(c->fd);
        c->fd = -1;
        c->state = C_FAILED;
        return;
    }
    c->state = C_CONNECTING;
    l->handshaking++;
    watch(l, c, EPOLL_CTL_ADD, EPOLLOUT);
}

/* The socket connected: send the upgrade, or the hello byte. */
static void on_connected(bench_load *l, conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
        snprintf(c->close_reason, sizeof c->close_reason, "connect: %s", strerror(err));
        conn_close(l, c, true);
        return;
    }
    char req[2048];
    int n;
    if (c->upgrade)
        n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: %s\r\n\r\n",
                     c->path, c->port, ws_key, ZEGO_SUBPROTOCOL_PLAY);
    else
        n = snprintf(req, sizeof req, "%c", BENCH_ROLE_PLAYER);
    if (n <= 0 || (size_t)n >= sizeof req || send(c->fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
        snprintf(c->close_reason, sizeof c->close_reason, "cannot send the handshake");
        conn_close(l, c, true);
        return;
    }
    if (c->upgrade) {
        c->state = C_HANDSHAKE;
        c->hs = malloc(HS_BYTES);
        c->hs_len = 0;
    } else {
        c->state = C_OPEN;
        l->handshaking--;
    }
    watch(l, c, EPOLL_CTL_MOD, EPOLLIN);
}

/* Reads the answer to the upgrade; the bytes after it are the first frames. */
static void on_handshake(bench_load *l, conn *c, const uint8_t *p, size_t n, int64_t now_wall)
{
    size_t take = HS_BYTES - 1 - c->hs_len < n ? HS_BYTES - 1 - c->hs_len : n;
    memcpy(c->hs + c->hs_len, p, take);
    c->hs_len += take;
    c->hs[c->hs_len] = '\0';
    char *end = strstr(c->hs, "\r\n\r\n");
    if (!end) {
        if (c->hs_len == HS_BYTES - 1) {
            snprintf(c->close_reason, sizeof c->close_reason, "no end to the HTTP answer");
            conn_close(l, c, true);
        }
        return;
    }
    if (strncmp(c->hs, "HTTP/1.1 101", 12) != 0) {
        snprintf(c->close_reason, sizeof c->close_reason, "upgrade refused: %.60s", c->hs);
        conn_close(l, c, true);
        return;
    }
    size_t used_of_p = (size_t)(end + 4 - c->hs) - (c->hs_len - take);
    free(c->hs);
    free(c->path);
    c->hs = c->path = NULL;
    c->state = C_OPEN;
    l->handshaking--;
    feed(l, c, p + used_of_p, n - used_of_p, now_wall);
}

static void on_readable(bench_load *l, conn *c)
{
    ssize_t got = recv(c->fd, l->chunk, READ_CHUNK, 0);
    if (got < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (got <= 0) {
        if (!c->close_reason[0])
            snprintf(c->close_reason, sizeof c->close_reason, "%s",
                     got == 0 ? "the relay closed the connection" : strerror(errno));
        conn_close(l, c, c->state != C_OPEN);
        return;
    }
    int64_t now_wall = bench_wall_us();
    if (l->counting)
        l->bytes_window += (uint64_t)got;
    if (c->state == C_HANDSHAKE)
        on_handshake(l, c, l->chunk, (size_t)got, now_wall);
    else
        feed(l, c, l->chunk, (size_t)got, now_wall);
}

static void heartbeats(bench_load *l, int64_t now)
{
    if (!l->hb_ms || now < l->next_hb_us)
        return;
    l->next_hb_us = now + (int64_t)l->hb_ms * 1000;
    char text[96];
    int n = snprintf(text, sizeof text, "{\"type\":\"heartbeat\",\"seq\":%u}", ++l->hb_seq);
    for (size_t i = 0; i < l->n_sig; i++)
        if (l->sig[i].state == C_OPEN)
            send_frame(&l->sig[i], 0x1, text, (size_t)n);
}

static void serve(bench_load *l, int timeout_ms)
{
    struct epoll_event evs[512];
    int n = epoll_wait(l->ep, evs, 512, timeout_ms);
    for (int i = 0; i < n; i++) {
        conn *c = conn_of(l, evs[i].data.u64);
        if (c->fd < 0)
            continue;
        if (c->state == C_CONNECTING) {
            if (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
                on_connected(l, c);
            continue;
        }
        if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
            on_readable(l, c);
    }
}

int bench_load_add_signaling(bench_load *l, int fd, const uint8_t *pending, size_t len, int hb_ms)
{
    if (l->n_sig == l->cap_sig) {
        /* Grown before any socket is in epoll: keys are indexes, not pointers. */
        size_t cap = l->cap_sig ? l->cap_sig * 2 : 64;
        conn *grown = realloc(l->sig, cap * sizeof *grown);
        if (!grown)
            return -1;
        l->sig = grown;
        l->cap_sig = cap;
    }
    conn *c = &l->sig[l->n_sig++];
    memset(c, 0, sizeof *c);
    c->fd = fd;
    c->signaling = true;
    c->state = C_OPEN;
    c->last_seq = -1;
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    watch(l, c, EPOLL_CTL_ADD, EPOLLIN);
    feed(l, c, pending, len, bench_wall_us());
    /* Half the interval: a late heartbeat must not end a session. */
    if (hb_ms > 0 && (!l->hb_ms || hb_ms / 2 < l->hb_ms))
        l->hb_ms = hb_ms / 2;
    return 0;
}

int bench_load_set_player(bench_load *l, size_t i, int port, const char *path)
{
    if (i >= l->n_players)
        return -1;
    conn *c = &l->players[i];
    c->port = port;
    c->upgrade = path != NULL;
    if (path && !(c->path = strdup(path)))
        return -1;
    c->state = C_IDLE;
    return 0;
}

size_t bench_load_connect(bench_load *l, int64_t deadline_us)
{
    for (;;) {
        int64_t now = bench_mono_us();
        while (l->next_to_open < l->n_players && l->handshaking < MAX_HANDSHAKES)
            start_connect(l, &l->players[l->next_to_open++]);
        if ((l->next_to_open == l->n_players && l->handshaking == 0) || now >= deadline_us)
            break;
        heartbeats(l, now);
        serve(l, 5);
    }
    size_t missing = 0;
    for (size_t i = 0; i < l->n_players; i++)
        missing += l->players[i].state != C_OPEN;
    return missing;
}

void bench_load_run(bench_load *l, int64_t until_us)
{
    for (;;) {
        int64_t now = bench_mono_us();
        if (now >= until_us)
            return;
        heartbeats(l, now);
        int64_t wait = (until_us - now + 999) / 1000;
        serve(l, wait > 50 ? 50 : (int)wait);
    }
}

void bench_load_set_window(bench_load *l, uint32_t lo, uint32_t hi)
{
    l->lo = lo;
    l->hi = hi;
    free(l->samples);
    l->cap_samples = (size_t)(hi - lo) * l->n_players;
    l->samples = malloc((l->cap_samples ? l->cap_samples : 1) * sizeof *l->samples);
    l->n_samples = 0;
    if (!l->samples)
        l->cap_samples = 0;
}

void bench_load_count_bytes(bench_load *l, bool on)
{
    l->counting = on;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static double percentile_ms(const int32_t *sorted, size_t n, double q)
{
    if (!n)
        return 0;
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return sorted[i] / 1000.0;
}

void bench_load_result_get(bench_load *l, bench_load_result *r)
{
    memset(r, 0, sizeof *r);
    r->expected = (uint64_t)(l->hi - l->lo) * l->n_players;
    for (size_t i = 0; i < l->n_players; i++) {
        conn *c = &l->players[i];
        r->delivered += c->delivered;
        r->dropped += c->dropped;
        r->bad_frames += c->bad;
        if (c->state == C_OPEN)
            r->open++;
        else if (c->state == C_CLOSED)
            r->closed++;
        else
            r->failed++;
        if ((c->state == C_CLOSED || c->state == C_FAILED) && !r->first_close[0])
            snprintf(r->first_close, sizeof r->first_close, "player %zu: code %d, %.120s", i,
                     c->close_code, c->close_reason);
    }
    r->bytes_window = l->bytes_window;
    qsort(l->samples, l->n_samples, sizeof *l->samples, cmp_i32);
    r->p50_ms = percentile_ms(l->samples, l->n_samples, 0.50);
    r->p99_ms = percentile_ms(l->samples, l->n_samples, 0.99);
    r->max_ms = l->n_samples ? l->samples[l->n_samples - 1] / 1000.0 : 0;
}
