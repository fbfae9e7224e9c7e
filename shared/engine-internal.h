/* The client engine's pure logic, kept apart from the network code so that the
 * unit tests can reach it: reconnect backoff, the clock offset estimate, the
 * bounded send queue, sequence gaps, URL handling, quality levels and the
 * session registry.  Nothing here touches a socket or a thread of its own. */
#ifndef ZEGO_ENGINE_INTERNAL_H
#define ZEGO_ENGINE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zego/engine.h>

/* ---- Reconnect backoff ---- */

/* The delay before retry number `attempt` (0 = the first): initial_ms doubled
 * per attempt, capped at max_ms, then "equal jitter" -- a value in [d/2, d]
 * picked with `random` -- so that many clients dropped at once do not come
 * back in step while the delay still grows. */
uint32_t zego_backoff_delay_ms(uint32_t attempt, uint32_t initial_ms, uint32_t max_ms,
                               uint32_t random);

/* ---- Clock offset ---- */

#define ZEGO_CLOCK_SAMPLES 8

/* The offset of the server's clock from ours, from heartbeat round trips.
 * Of the last ZEGO_CLOCK_SAMPLES samples the one with the smallest round trip
 * wins: its midpoint estimate is the least disturbed by queueing. */
typedef struct zego_clock {
    int64_t rtt_ms[ZEGO_CLOCK_SAMPLES];
    int64_t offset_ms[ZEGO_CLOCK_SAMPLES];
    unsigned n, next;
    int64_t last_rtt_ms;
} zego_clock;

void zego_clock_init(zego_clock *c);
/* A request sent at local sent_ms, answered with the server's server_ms,
 * received at local recv_ms.  Returns false (and ignores it) when recv_ms is
 * before sent_ms. */
bool zego_clock_add_sample(zego_clock *c, int64_t sent_ms, int64_t server_ms, int64_t recv_ms);
/* server - local in ms, and the round trip of the sample it came from;
 * false before any sample. */
bool zego_clock_offset(const zego_clock *c, int64_t *offset_ms, int64_t *rtt_ms);

/* ---- The send queue of a published stream ---- */

/* One queued WebSocket message, with `headroom` bytes before data for the
 * transport (libwebsockets' LWS_PRE). */
typedef struct zego_sendq_item {
    struct zego_sendq_item *next;
    bool is_text;            /* a stream_info; else a binary frame */
    bool video, key;         /* frames only */
    uint8_t track;           /* frames only */
    int64_t capture_time_us; /* frames only, local clock; 0 = unknown */
    int64_t pts_us, dts_us;  /* frames held before publishing: the header is written later */
    uint8_t flags;           /* ... and its flags */
    size_t payload_size;     /* frames only: bytes counted in the stats */
    size_t len;              /* bytes at data */
    uint8_t *data;           /* points into storage, after the headroom */
    uint8_t storage[];
} zego_sendq_item;

/* Per-track flags: one bit for each of the 256 track ids, in uint8_t[32]. */
static inline bool bit_get(const uint8_t *bits, uint8_t i)
{
    return bits[i / 8] & (1u << (i % 8));
}

static inline void bit_set(uint8_t *bits, uint8_t i, bool on)
{
    if (on)
        bits[i / 8] |= (uint8_t)(1u << (i % 8));
    else
        bits[i / 8] &= (uint8_t) ~(1u << (i % 8));
}

/* Allocates an item with len bytes of data after `headroom` bytes. */
zego_sendq_item *zego_sendq_item_new(size_t headroom, size_t len);

typedef enum zego_sendq_verdict {
    ZEGO_SENDQ_QUEUE = 0, /* it fits: queue it */
    ZEGO_SENDQ_DROP, /* drop it (already waiting for a keyframe, or audio over the hard bound) */
    ZEGO_SENDQ_DROP_WANT_KEY, /* drop it, and ask the encoder for a keyframe now */
} zego_sendq_verdict;

typedef struct zego_sendq {
    zego_sendq_item *head, *tail;
    size_t bytes, count;
    size_t soft_max;         /* video stops fitting here */
    size_t hard_max;         /* audio and stream_info stop fitting here */
    uint8_t waiting_key[32]; /* bit per track id: video dropped until a keyframe */
    uint8_t discont[32];     /* bit per track id: the next queued frame gets DISCONT */
    uint64_t dropped;        /* frames dropped, in total */
} zego_sendq;

/* soft_max is the configured bound; the hard bound is 5/4 of it. */
void zego_sendq_init(zego_sendq *q, size_t soft_max);
/* Decides the fate of a frame of `bytes` on `track` and keeps the waiting and
 * drop state: video that does not fit under soft_max is dropped and its track
 * then waits for a keyframe; audio is dropped only over hard_max. */
zego_sendq_verdict zego_sendq_admit(zego_sendq *q, uint8_t track, bool video, bool key,
                                    size_t bytes);
/* Whether the next frame queued on the track must carry DISCONT (frames were
 * dropped before it); clears the mark. */
bool zego_sendq_take_discont(zego_sendq *q, uint8_t track);
/* Marks every track of the stream as waiting for a keyframe (a new socket). */
void zego_sendq_wait_key_all(zego_sendq *q);
void zego_sendq_push(zego_sendq *q, zego_sendq_item *item);
zego_sendq_item *zego_sendq_pop(zego_sendq *q);
/* Frees every queued item. */
void zego_sendq_clear(zego_sendq *q);

/* ---- Sequence numbers of received frames ---- */

/* How many frames were lost between `last` and `seq` (wrapping at 2^32).
 * A jump backwards or of more than 2^31 counts as 1: the publisher restarted
 * its numbering, so the loss is unknown but there is a discontinuity. */
uint32_t zego_seq_lost(uint32_t last, uint32_t seq);

/* ---- URLs ---- */

typedef struct zego_url {
    bool tls;       /* wss:// */
    char host[256]; /* without brackets for IPv6 literals */
    int port;
    char path[1024]; /* with the query, always starting with '/' */
} zego_url;

/* Parses ws://host[:port][/path][?query] or wss://...  Refuses other schemes,
 * user info, empty hosts and bad ports with ZEGO_ERR_INVALID_ARGUMENT. */
int zego_url_parse(const char *url, zego_url *out, zego_error *err);

/* url + "?ticket=" + ticket, or "&ticket=" when the URL has a query already. */
int zego_url_with_ticket(const char *url, const char *ticket, char *out, size_t size,
                         zego_error *err);

/* ---- Quality ---- */

/* The level of a stream over an interval from the signaling round trip, the
 * share of frames lost or dropped (0..1) and the delay (ms, < 0 = unknown);
 * the worst of the three wins.  A stream whose socket is down is DIE. */
zego_quality_level zego_quality_level_compute(bool alive, int64_t rtt_ms, double loss,
                                              int64_t delay_ms);

/* ---- The session registry ---- */

/* Engines shared by key within a process, refcounted.  Generic over the
 * object so that tests can use stand-ins for engines. */
typedef struct zego_registry_entry {
    struct zego_registry_entry *next;
    char *key;
    void *object;
    unsigned refs;
} zego_registry_entry;

typedef struct zego_registry {
    pthread_mutex_t lock;
    zego_registry_entry *head;
} zego_registry;

#define ZEGO_REGISTRY_INIT              \
    {                                   \
        PTHREAD_MUTEX_INITIALIZER, NULL \
    }

/* The key of a session: "url\napp_id\nroom_id\nuser_id", to free(); NULL
 * when out of memory.  IDs cannot hold '\n', so keys cannot collide. */
char *zego_session_key(const char *url, uint32_t app_id, const char *room_id, const char *user_id);

/* Returns the object under key with one more reference, or makes one with
 * create(arg) (NULL from create is passed on).  create runs under the
 * registry lock, so two callers cannot both create one. */
void *zego_registry_acquire(zego_registry *r, const char *key, void *(*create)(void *arg),
                            void *arg, bool *created);
/* Drops a reference.  True when it was the last: the object is no longer in
 * the registry and the caller destroys it.  False also for unknown objects. */
bool zego_registry_release(zego_registry *r, void *object);
/* The number of references to object (0 when not registered). */
unsigned zego_registry_refs(zego_registry *r, void *object);

#endif
