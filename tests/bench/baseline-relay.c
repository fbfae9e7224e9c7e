/* zego-bench-baseline: the smallest relay that does the same job as the media
 * relay of zego-room-server, to measure the server against.
 *
 * One thread, epoll, non-blocking sockets.  A publisher connection sends
 * frames (4-byte length, then the frame); each frame becomes one refcounted
 * buffer with a WebSocket binary header in front, queued to every player and
 * written with writev() at once, the rest when the socket is writable again.
 * A player's queue is bounded in bytes (the server's default
 * --player-queue-bytes); a frame that does not fit is dropped for that player.
 * No HTTP, no JSON, no keyframe logic: what is left is the cost of moving the
 * bytes, which is what the server is compared with.
 *
 * Usage: zego-bench-baseline [--port PORT] [--queue-bytes BYTES]
 * It prints "zego-bench-baseline listening on 127.0.0.1:PORT" and runs until
 * SIGTERM or SIGINT. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define ROLE_PUBLISHER 'P'
#define ROLE_PLAYER    'p'
#define MAX_IOV        64

typedef struct frame {
    uint32_t refs;
    uint32_t len; /* WebSocket header and frame */
    uint8_t data[];
} frame;

typedef struct peer {
    int fd;
    char role;  /* 0 until its first byte */
    bool armed; /* EPOLLOUT wanted */
    /* player: a ring of frames, the first partly written */
    frame **q;
    uint32_t cap, head, count;
    size_t q_bytes, offset;
    /* publisher: what has arrived of the next frame */
    uint8_t *rx;
    size_t rx_len, rx_cap;
} peer;

static volatile sig_atomic_t stopping;
static int ep;
static peer **players;
static size_t n_players, cap_players;
static size_t queue_bytes = 6u << 20;
static uint64_t frames_in, frames_dropped;
static peer **dead; /* closed during an epoll batch, freed after it */
static size_t n_dead, cap_dead;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static void frame_unref(frame *f)
{
    if (--f->refs == 0)
        free(f);
}

static void set_events(peer *p, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = p};
    epoll_ctl(ep, EPOLL_CTL_MOD, p->fd, &ev);
}

/* Closes at once but frees after the batch of events, which may still name
 * this peer. */
static void peer_close(peer *p)
{
    if (p->fd < 0)
        return;
    epoll_ctl(ep, EPOLL_CTL_DEL, p->fd, NULL);
    close(p->fd);
    p->fd = -1;
    if (p->role == ROLE_PLAYER) {
        for (uint32_t i = 0; i < p->count; i++)
            frame_unref(p->q[(p->head + i) % p->cap]);
        p->count = 0;
        for (size_t i = 0; i < n_players; i++)
            if (players[i] == p) {
                players[i] = players[--n_players];
                break;
            }
    }
    if (n_dead == cap_dead) {
        size_t cap = cap_dead ? cap_dead * 2 : 64;
        peer **grown = realloc(dead, cap * sizeof *grown);
        if (!grown)
            return; /* leaks one peer rather than risk a use after free */
        dead = grown;
        cap_dead = cap;
    }
    dead[n_dead++] = p;
}

static void bury_dead(void)
{
    for (size_t i = 0; i < n_dead; i++) {
        free(dead[i]->q);
        free(dead[i]->rx);
        free(dead[i]);
    }
    n_dead = 0;
}

/* Writes as much of the player's queue as the socket takes. */
static int flush(peer *p)
{
    while (p->count) {
        struct iovec iov[MAX_IOV];
        int n = 0;
        for (uint32_t i = 0; i < p->count && n < MAX_IOV; i++, n++) {
            frame *f = p->q[(p->head + i) % p->cap];
            size_t skip = i == 0 ? p->offset : 0;
            iov[n].iov_base = f->data + skip;
            iov[n].iov_len = f->len - skip;
        }
        ssize_t w = writev(p->fd, iov, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            break;
        if (w < 0)
            return -1;
        size_t left = (size_t)w;
        while (left) {
            frame *f = p->q[p->head];
            size_t rest = f->len - p->offset;
            if (left < rest) {
                p->offset += left;
                break;
            }
            left -= rest;
            p->offset = 0;
            p->q_bytes -= f->len;
            p->head = (p->head + 1) % p->cap;
            p->count--;
            frame_unref(f);
        }
    }
    bool want = p->count > 0;
    if (want != p->armed) {
        p->armed = want;
        set_events(p, want ? EPOLLIN | EPOLLOUT : EPOLLIN);
    }
    return 0;
}

static bool enqueue(peer *p, frame *f)
{
    if (p->q_bytes + f->len > queue_bytes)
        return false;
    if (p->count == p->cap) {
        uint32_t cap = p->cap ? p->cap * 2 : 64;
        frame **q = malloc(cap * sizeof *q);
        if (!q)
            return false;
        for (uint32_t i = 0; i < p->count; i++)
            q[i] = p->q[(p->head + i) % p->cap];
        free(p->q);
        p->q = q;
        p->cap = cap;
        p->head = 0;
    }
    p->q[(p->head + p->count) % p->cap] = f;
    p->count++;
    p->q_bytes += f->len;
    f->refs++;
    return true;
}

static void relay(const uint8_t *data, size_t len)
{
    /* The header a WebSocket server puts in front of a binary message. */
    uint8_t h[10];
    size_t hl = 0;
    h[hl++] = 0x82;
    if (len < 126) {
        h[hl++] = (uint8_t)len;
    } else if (len < 65536) {
        h[hl++] = 126;
        h[hl++] = (uint8_t)(len >> 8);
        h[hl++] = (uint8_t)len;
    } else {
        h[hl++] = 127;
        for (int i = 7; i >= 0; i--)
            h[hl++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    frame *f = malloc(sizeof *f + hl + len);
    if (!f)
        return;
    f->refs = 1;
    f->len = (uint32_t)(hl + len);
    memcpy(f->data, h, hl);
    memcpy(f->data + hl, data, len);
    frames_in++;
    for (size_t i = 0; i < n_players;) {
        peer *p = players[i];
        if (!enqueue(p, f))
            frames_dropped++;
        if (flush(p) < 0) {
            peer_close(p); /* moves the last player to i */
            continue;
        }
        i++;
    }
    frame_unref(f);
}

/* Reads the publisher's stream and relays every whole frame in it. */
static int on_publisher(peer *p)
{
    if (p->rx_cap - p->rx_len < 65536) {
        size_t cap = p->rx_cap ? p->rx_cap * 2 : 262144;
        uint8_t *grown = realloc(p->rx, cap);
        if (!grown)
            return -1;
        p->rx = grown;
        p->rx_cap = cap;
    }
    ssize_t got = recv(p->fd, p->rx + p->rx_len, p->rx_cap - p->rx_len, 0);
    if (got < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (got <= 0)
        return -1;
    p->rx_len += (size_t)got;
    size_t at = 0;
    while (p->rx_len - at >= 4) {
        const uint8_t *b = p->rx + at;
        size_t len = (size_t)b[0] << 24 | (size_t)b[1] << 16 | (size_t)b[2] << 8 | b[3];
        if (p->rx_len - at < 4 + len)
            break;
        relay(b + 4, len);
        at += 4 + len;
    }
    memmove(p->rx, p->rx + at, p->rx_len - at);
    p->rx_len -= at;
    return 0;
}

static void on_event(peer *p, uint32_t events)
{
    if (p->fd < 0)
        return;
    if (!p->role) {
        char role;
        ssize_t got = recv(p->fd, &role, 1, 0);
        if (got < 0 && errno == EAGAIN)
            return;
        if (got != 1 || (role != ROLE_PUBLISHER && role != ROLE_PLAYER)) {
            peer_close(p);
            return;
        }
        p->role = role;
        if (role == ROLE_PLAYER) {
            if (n_players == cap_players) {
                size_t cap = cap_players ? cap_players * 2 : 256;
                peer **grown = realloc(players, cap * sizeof *grown);
                if (!grown) {
                    peer_close(p);
                    return;
                }
                players = grown;
                cap_players = cap;
            }
            players[n_players++] = p;
        }
        return;
    }
    if (p->role == ROLE_PUBLISHER) {
        if (on_publisher(p) < 0)
            peer_close(p);
        return;
    }
    if (events & EPOLLIN) {
        /* Players send nothing; a read of 0 is their hang-up. */
        char sink[256];
        ssize_t got = recv(p->fd, sink, sizeof sink, 0);
        if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
            peer_close(p);
            return;
        }
    }
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && flush(p) < 0)
        peer_close(p);
}

int main(int argc, char **argv)
{
    int port = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (strcmp(argv[i], "--queue-bytes") == 0 && i + 1 < argc)
            queue_bytes = strtoull(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: zego-bench-baseline [--port PORT] [--queue-bytes BYTES]\n");
            return 2;
        }
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof addr;
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, 4096) < 0 ||
        getsockname(lfd, (struct sockaddr *)&addr, &alen) < 0) {
        perror("zego-bench-baseline: listen");
        return 1;
    }
    ep = epoll_create1(0);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
    printf("zego-bench-baseline listening on 127.0.0.1:%d\n", ntohs(addr.sin_port));
    fflush(stdout);

    struct epoll_event evs[512];
    while (!stopping) {
        int n = epoll_wait(ep, evs, 512, 200);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr) {
                on_event(evs[i].data.ptr, evs[i].events);
                continue;
            }
            int fd;
            while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                peer *p = calloc(1, sizeof *p);
                if (!p) {
                    close(fd);
                    continue;
                }
                p->fd = fd;
                struct epoll_event ev = {.events = EPOLLIN, .data.ptr = p};
                epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
            }
        }
        bury_dead();
    }
    fprintf(stderr, "zego-bench-baseline: %llu frames in, %llu dropped for players\n",
            (unsigned long long)frames_in, (unsigned long long)frames_dropped);
    return 0;
}
