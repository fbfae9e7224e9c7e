/* The relay benchmark's parts and what they share: the synthetic stream, the
 * publisher, the epoll load client that plays it N times, and the baseline's
 * wire format.
 *
 *   bench-relay.c     the program: starts the relays, runs each N, prints the table
 *   publisher.c       one paced publisher on its own thread
 *   load.c            N players on one epoll thread, with their statistics
 *   baseline-relay.c  zego-bench-baseline, the minimal writev relay compared against
 *
 * Both relays get the same frames (a 36-byte zego frame header and the
 * payload) and send each to every player in a WebSocket binary frame with a
 * 2-10 byte header, so the bytes on the players' sockets are the same. */
#ifndef ZEGO_BENCH_H
#define ZEGO_BENCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Which relay a run measures. */
typedef enum bench_target {
    BENCH_BASELINE,
    BENCH_ZEGO,
} bench_target;

/* The baseline's wire: a connection first sends one role byte.  The
 * publisher then sends each frame as a 4-byte big-endian length and the frame
 * (header and payload); a player only reads. */
#define BENCH_ROLE_PUBLISHER 'P'
#define BENCH_ROLE_PLAYER    'p'

int64_t bench_wall_us(void); /* CLOCK_REALTIME, the clock of capture times */
int64_t bench_mono_us(void);

/* ---- The synthetic stream (publisher.c) ---- */

/* H.264-like video: fps frames a second averaging bitrate, a keyframe every
 * gop frames that is key_ratio times the size of a P frame. */
typedef struct bench_stream {
    int fps;
    int bitrate; /* bits per second */
    int gop;     /* frames from one keyframe to the next */
    int key_ratio;
} bench_stream;

/* The whole frame's size (36-byte header included) and whether it is a key. */
size_t bench_frame_size(const bench_stream *s, uint32_t seq, bool *key);

typedef struct bench_publisher {
    /* set by the caller */
    bench_target target;
    int port;
    const char *stream_id;
    bench_stream stream;
    /* state */
    pthread_t thread;
    bool running;
    atomic_bool stop;
    atomic_uint next_seq; /* sequence of the next frame to be sent */
    atomic_uint late;     /* frames sent more than one frame interval late */
    atomic_int failed;    /* the thread stopped on an error */
    char error[256];
    void *conn; /* target-specific sockets */
} bench_publisher;

/* Connects (for zego: logs in, publishes, opens the media socket, sends the
 * stream_info) and starts the paced sender thread.  0 or -1 with p->error. */
int bench_publisher_start(bench_publisher *p);
void bench_publisher_stop(bench_publisher *p);

/* ---- The load client (load.c) ---- */

typedef struct bench_load bench_load;

/* What a run delivered to the players, for the frames of the window. */
typedef struct bench_load_result {
    uint64_t expected;     /* window frames x players */
    uint64_t delivered;    /* window frames received */
    uint64_t dropped;      /* window frames seen missing as sequence gaps */
    uint64_t bad_frames;   /* frames whose header or length did not parse */
    uint32_t open;         /* players still connected at the end */
    uint32_t closed;       /* players the relay disconnected */
    uint32_t failed;       /* players that never got connected */
    uint64_t bytes_window; /* bytes read from player sockets in the time window */
    double p50_ms, p99_ms, max_ms;
    char first_close[160]; /* why the first player was disconnected, if one was */
} bench_load_result;

bench_load *bench_load_new(size_t n_players);
void bench_load_free(bench_load *l);

/* Hands over a logged-in signaling socket, with bytes already read past the
 * last message, so that the load client answers its pings and keeps its
 * session alive with heartbeats every hb_ms. */
int bench_load_add_signaling(bench_load *l, int fd, const uint8_t *pending, size_t len, int hb_ms);

/* Player i connects to 127.0.0.1:port; with path, it upgrades to a WebSocket
 * (zego-play.v1) on path, else it announces itself with BENCH_ROLE_PLAYER. */
int bench_load_set_player(bench_load *l, size_t i, int port, const char *path);

/* Opens every player socket, a bounded number of handshakes at a time, and
 * returns the number that did not get through by deadline_us (monotonic). */
size_t bench_load_connect(bench_load *l, int64_t deadline_us);

/* Serves the sockets until until_us (monotonic). */
void bench_load_run(bench_load *l, int64_t until_us);

/* The frames counted are sequences [lo, hi); bytes read are counted while
 * counting_bytes is on. */
void bench_load_set_window(bench_load *l, uint32_t lo, uint32_t hi);
void bench_load_count_bytes(bench_load *l, bool on);

void bench_load_result_get(bench_load *l, bench_load_result *r);

#endif
