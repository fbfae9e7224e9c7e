/* The client engine: one libwebsockets client context per engine, serviced on
 * the engine's own thread, holding the signaling socket and one media socket
 * per published or played stream.
 *
 * Public calls never touch a socket.  They either change the "wanted" state
 * (the publishers and players arrays, under e->lock) or queue a command, and
 * wake the thread with lws_cancel_service(), the one lws call that is safe from
 * other threads.  The thread then reconciles what is wanted with what is:
 * logging in, (re)publishing, (re)playing, repairing media sockets and
 * reconnecting with backoff.  Callbacks to the application run on this thread
 * under e->cb_lock, which is what lets remove_handler and stop_playing promise
 * that no callback follows their return.
 *
 * Lock order: cb_lock before lock; no callback is made while holding lock. */
#define _GNU_SOURCE /* pthread_timedjoin_np */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>
#include <openssl/rand.h>

#include "engine-internal.h"
#include "protocol.h"

#define CLIENT_NAME "libzegoroom/0.1.0"

#define MAX_HANDLERS       32
#define MAX_PUBLISHERS     32
#define MAX_PLAYERS        256
#define MAX_PENDING        256
#define MAX_COMMANDS       256
#define MAX_REDIRECTS      5
#define MAX_ROOM_ENTRIES   ZEGO_MAX_STREAMS_LISTED
#define SIGNAL_QUEUE_BYTES (1024 * 1024)
#define RX_CHUNK           (64 * 1024)
/* The tick checks deadlines counted in seconds; a media socket's repair
 * brings it forward (tick_at).  A faster tick costs CPU in every engine:
 * libwebsockets wakes up to 1 ms early for each timer and spins until it. */
#define TICK_MS        1000
#define DRAIN_MS       500
#define JOIN_TIMEOUT_S 5
#define MEDIA_TEXT_MAX (256 * 1024)

/* ---- Time ---- */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t wall_ms(void)
{
    return wall_us() / 1000;
}

static uint32_t random_u32(void)
{
    uint32_t v = 0;
    if (RAND_bytes((unsigned char *)&v, sizeof v) != 1)
        v = (uint32_t)mono_ms() * 2654435761u;
    return v;
}

/* ---- Types ---- */

enum conn_kind { CONN_SIGNAL, CONN_PUBLISH, CONN_PLAY };

/* One WebSocket.  lws's opaque user data points here while the engine cares
 * about the socket; closing from our side detaches it first, so callbacks for
 * a socket being torn down find NULL and do nothing. */
struct conn {
    zego_engine *e;
    enum conn_kind kind;
    void *owner; /* struct publisher / struct player; NULL for signaling */
    struct lws *wsi;
    bool established;
    bool closing;                 /* signaling after logout: drains, then the server closes */
    bool in_connect, sync_failed; /* lws may fail the connect inside the call */
    zego_sendq out;               /* signaling: encoded requests */
    uint8_t *rx;
    size_t rx_len, rx_cap, rx_max;
    bool rx_active, rx_binary;
    zego_url url;
    char host_header[300];
};

/* The life of a publish or play, on the engine thread. */
enum media_step {
    STEP_IDLE,       /* wanted; nothing asked of the server yet */
    STEP_REQUESTING, /* publish / play / media_ticket sent */
    STEP_CONNECTING, /* media socket opening */
    STEP_LIVE,       /* media socket up */
    STEP_REPAIR,     /* media socket lost: media_ticket at retry_at */
    STEP_FAILED,     /* the server refused; nothing more until stopped */
};

struct publisher {
    char stream_id[ZEGO_STREAM_ID_SIZE];
    bool stopped; /* under lock: stop_publishing was called */
    /* Under lock: finish_publishing was called: no frames taken; what is
     * queued goes out, then the socket is closed and the stream unpublished,
     * or at finish_deadline (mono ms) as by stop_publishing. */
    bool finishing;
    int64_t finish_deadline;
    bool end_queued; /* under lock: the unpublish is in q, after the frames */

    /* Under e->lock: shared with the threads that send frames. */
    zego_track tracks[ZEGO_MAX_TRACKS];
    size_t n_tracks;
    uint32_t generation;
    zego_sendq q;
    uint32_t next_seq[256];
    bool ready; /* the socket is up and has its stream_info: frames are taken */
    /* While not ready: the frames from the newest video keyframe on (bounded
     * like q), sent first when the socket is up, so that a stream starts
     * without waiting for a keyframe its encoder may not make on request. */
    zego_sendq hold;
    bool hold_keyed;
    int32_t failed_code;
    uint8_t want_key[32]; /* tracks whose overflow keyframe request is not yet delivered */
    uint64_t frames_sent, bytes_sent;
    uint32_t iv_frames[2]; /* [video, audio] in this quality interval */
    uint64_t iv_bytes[2];
    int64_t iv_delay_sum;
    uint32_t iv_delay_n;
    uint64_t dropped_at_tick;
    zego_publish_stats snap;

    /* Engine thread only. */
    char extra_info[ZEGO_EXTRA_INFO_SIZE];
    enum media_step step;
    bool known; /* the server knows this stream (publish succeeded once this session) */
    zego_publisher_state reported;
    struct conn *conn;
    uint32_t req_seq;
    uint32_t attempt;
    int64_t retry_at;
};

struct player {
    char stream_id[ZEGO_STREAM_ID_SIZE];
    bool stopped; /* under lock */

    /* Under cb_lock. */
    zego_player_callbacks cb;
    bool cb_active;

    /* Engine thread only. */
    enum media_step step;
    bool known;
    zego_player_state reported;
    struct conn *conn;
    uint32_t req_seq;
    uint32_t attempt;
    int64_t retry_at;
    zego_msg info; /* the latest stream_info (type NONE before one) */
    uint32_t last_seq[256];
    uint8_t have_seq[32];
    uint8_t discont[32];
    /* The stream's end: the server's unpublish on the play socket comes after
     * its last frame; the room's delete (on the signaling socket) may come
     * first, and then the end is reported at the latest at end_deadline. */
    bool end_seen;        /* reported for this publication */
    bool end_wait;        /* the room said it went; waiting for the marker */
    int64_t end_deadline; /* mono ms */

    /* Under e->lock: statistics. */
    uint64_t frames, bytes, lost;
    uint32_t iv_frames[2];
    uint64_t iv_bytes[2];
    uint32_t iv_lost;
    int64_t iv_delay_sum;
    uint32_t iv_delay_n;
    zego_play_stats snap;
};

struct handler_slot {
    uint32_t id; /* 0 = free */
    bool active; /* false until the engine thread replayed the state to it */
    zego_event_handler h;
};

enum cmd_type { CMD_LOGIN, CMD_LOGOUT, CMD_RENEW_TOKEN, CMD_REQUEST, CMD_HANDLER_ADDED };

struct cmd {
    struct cmd *next;
    enum cmd_type type;
    uint32_t id; /* request id or handler id */
    zego_request_kind kind;
    zego_msg msg; /* login: u.login; renew: u.renew_token; request: the request */
};

/* A request waiting for its reply. */
struct pending {
    uint32_t seq; /* 0 = free slot */
    zego_msg_type type;
    zego_media_role role; /* media_ticket */
    uint32_t request_id;
    zego_request_kind kind;
    bool app; /* answer through request_result */
    char stream_id[ZEGO_STREAM_ID_SIZE];
    int64_t deadline;
    int64_t sent_wall_ms;
};

enum link_state { LINK_DOWN, LINK_CONNECTING, LINK_LOGGING_IN, LINK_UP };

struct zego_engine {
    /* Set at creation, then read-only. */
    zego_engine_config cfg;
    char *server_url, *ca_file;
    struct lws_protocols protocols[4];
    struct lws_context *ctx;
    pthread_t thread;
    bool shared; /* handed out by the session registry */

    pthread_mutex_t lock;
    pthread_mutex_t lists_lock; /* streams, users: written by the engine thread only */
    bool ctx_alive;             /* under lock: lws_cancel_service is still allowed */
    bool stop;                  /* under lock: destroy was called */
    struct cmd *cmd_head, *cmd_tail;
    size_t n_cmds;
    struct publisher *pubs[MAX_PUBLISHERS];
    size_t n_pubs;
    struct player *players[MAX_PLAYERS];
    size_t n_players;
    bool room_wanted;                /* login_room called, not yet logged out or failed */
    char user_id[ZEGO_USER_ID_SIZE]; /* of the current login */
    atomic_int public_state;         /* zego_room_state */
    atomic_int_least64_t clock_offset_ms;
    atomic_uint next_request_id;

    pthread_mutex_t cb_lock;
    struct handler_slot handlers[MAX_HANDLERS];
    uint32_t next_handler_id;

    /* Engine thread only. */
    bool quit, shutting_down;
    lws_sorted_usec_list_t sul_tick, sul_retry, sul_heartbeat, sul_quality, sul_quit;
    int64_t tick_at_ms; /* when sul_tick fires (engine thread) */
    bool room_active;
    zego_login_req room; /* also holds the token for later logins */
    char session_id[ZEGO_SESSION_ID_SIZE];
    char resume_token[ZEGO_RESUME_TOKEN_SIZE];
    enum link_state link;
    struct conn *sig;
    char cur_url[ZEGO_URL_SIZE];
    bool ever_connected, reconnecting, connect_failed_last;
    int64_t login_deadline, give_up_at;
    uint32_t attempt, redirects;
    uint32_t heartbeat_ms;
    int64_t last_rx;
    uint32_t seq;
    struct pending pending[MAX_PENDING];
    zego_clock clock;
    zego_room_state state;
    zego_room_state_reason state_reason;
    int32_t state_code;
    zego_stream *streams;
    size_t n_streams;
    zego_user *users;
    size_t n_users;
};

static _Thread_local zego_engine *current_engine; /* set on each engine thread */

static bool on_engine_thread(const zego_engine *e)
{
    return current_engine == e;
}

/* ---- Logging ---- */

static void elog(zego_engine *e, zego_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void elog(zego_engine *e, zego_log_level level, const char *fmt, ...)
{
    if (!e->cfg.log || level > e->cfg.log_level)
        return;
    char line[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    e->cfg.log(level, line, e->cfg.log_user_data);
}

/* lws logs process-wide; its lines go to every live engine's log at DEBUG,
 * and no longer to stderr, which is not a library's to write to. */
static pthread_mutex_t engines_lock = PTHREAD_MUTEX_INITIALIZER;
static zego_engine *engines[64];

static void lws_log_emit(int level, const char *line)
{
    (void)level;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", line);
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    pthread_mutex_lock(&engines_lock);
    for (size_t i = 0; i < sizeof engines / sizeof engines[0]; i++)
        if (engines[i])
            elog(engines[i], ZEGO_LOG_DEBUG, "lws: %s", buf);
    pthread_mutex_unlock(&engines_lock);
}

static pthread_once_t lws_log_once = PTHREAD_ONCE_INIT;

static void lws_log_setup(void)
{
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);
}

static void engines_register(zego_engine *e, bool add)
{
    pthread_mutex_lock(&engines_lock);
    for (size_t i = 0; i < sizeof engines / sizeof engines[0]; i++) {
        if (add ? engines[i] == NULL : engines[i] == e) {
            engines[i] = add ? e : NULL;
            break;
        }
    }
    pthread_mutex_unlock(&engines_lock);
}

/* ---- Callbacks to the application ---- */

static void cb_lock(zego_engine *e)
{
    if (!on_engine_thread(e))
        pthread_mutex_lock(&e->cb_lock);
}

static void cb_unlock(zego_engine *e)
{
    if (!on_engine_thread(e))
        pthread_mutex_unlock(&e->cb_lock);
}

/* Calls `member` of every active handler.  Runs on the engine thread, which
 * holds cb_lock for the whole dispatch (see the top of the file).  Handlers
 * added meanwhile are not active yet; removed ones are skipped. */
#define EMIT(e, member, ...)                                     \
    do {                                                         \
        if ((e)->shutting_down)                                  \
            break;                                               \
        pthread_mutex_lock(&(e)->cb_lock);                       \
        for (size_t i_ = 0; i_ < MAX_HANDLERS; i_++) {           \
            struct handler_slot *h_ = &(e)->handlers[i_];        \
            if (h_->id && h_->active && h_->h.member)            \
                h_->h.member((e), __VA_ARGS__, h_->h.user_data); \
        }                                                        \
        pthread_mutex_unlock(&(e)->cb_lock);                     \
    } while (0)

/* ---- Waking the engine thread ---- */

static void wake(zego_engine *e)
{
    pthread_mutex_lock(&e->lock);
    if (e->ctx_alive)
        lws_cancel_service(e->ctx);
    pthread_mutex_unlock(&e->lock);
}

static void cmd_free(struct cmd *c)
{
    zego_msg_clear(&c->msg);
    free(c);
}

/* Queues a command (taking ownership) and wakes the thread. */
static int cmd_post(zego_engine *e, struct cmd *c, zego_error *err)
{
    pthread_mutex_lock(&e->lock);
    if (e->stop || e->n_cmds >= MAX_COMMANDS) {
        bool stopping = e->stop;
        pthread_mutex_unlock(&e->lock);
        cmd_free(c);
        if (stopping)
            return zego_error_set(err, ZEGO_ERR_PROTOCOL_BAD_STATE, "the engine is stopping");
        return zego_error_set(err, ZEGO_ERR_RATE_LIMITED,
                              "%d commands are waiting for the engine; slow down", MAX_COMMANDS);
    }
    c->next = NULL;
    if (e->cmd_tail)
        e->cmd_tail->next = c;
    else
        e->cmd_head = c;
    e->cmd_tail = c;
    e->n_cmds++;
    if (e->ctx_alive)
        lws_cancel_service(e->ctx);
    pthread_mutex_unlock(&e->lock);
    zego_error_clear(err);
    return ZEGO_ERR_OK;
}

static struct cmd *cmd_new(enum cmd_type type, zego_msg_type msg_type)
{
    struct cmd *c = calloc(1, sizeof *c);
    if (c) {
        c->type = type;
        zego_msg_init(&c->msg, msg_type);
    }
    return c;
}

/* ---- Room state ---- */

static void set_room_state(zego_engine *e, zego_room_state state, zego_room_state_reason reason,
                           int32_t code, const char *message)
{
    e->state = state;
    e->state_reason = reason;
    e->state_code = code;
    atomic_store(&e->public_state, (int)state);
    elog(e, code ? ZEGO_LOG_WARNING : ZEGO_LOG_INFO, "room %s: %s (%s) code=%d%s%s",
         e->room.room_id, zego_room_state_name(state), zego_room_state_reason_name(reason), code,
         message && *message ? ": " : "", message ? message : "");
    EMIT(e, room_state_update, e->room.room_id, state, reason, code, message ? message : "");
}

static void report_publisher(zego_engine *e, struct publisher *p, zego_publisher_state s,
                             int32_t code)
{
    if (p->reported == s && code == 0)
        return;
    p->reported = s;
    elog(e, ZEGO_LOG_INFO, "publish %s: %s code=%d", p->stream_id, zego_publisher_state_name(s),
         code);
    EMIT(e, publisher_state_update, p->stream_id, s, code);
}

static void report_player(zego_engine *e, struct player *p, zego_player_state s, int32_t code)
{
    if (p->reported == s && code == 0)
        return;
    p->reported = s;
    elog(e, ZEGO_LOG_INFO, "play %s: %s code=%d", p->stream_id, zego_player_state_name(s), code);
    EMIT(e, player_state_update, p->stream_id, s, code);
}

/* ---- Connections ---- */

static void conn_free(struct conn *c)
{
    if (!c)
        return;
    zego_sendq_clear(&c->out);
    free(c->rx);
    free(c);
}

/* Closes a connection from our side: lws forgets it soon, we at once. */
static void conn_close(struct conn *c)
{
    if (!c)
        return;
    if (c->wsi) {
        lws_set_opaque_user_data(c->wsi, NULL);
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
    conn_free(c);
}

static void conn_lost(struct conn *c, const char *why);
static void tick_at(zego_engine *e, int64_t at_ms);
static void players_stream_deleted(zego_engine *e, const char *stream_id);
static void player_end(zego_engine *e, struct player *p);

static struct conn *conn_open(zego_engine *e, enum conn_kind kind, void *owner, const char *url,
                              zego_error *err)
{
    struct conn *c = calloc(1, sizeof *c);
    if (!c) {
        zego_error_set(err, ZEGO_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    c->e = e;
    c->kind = kind;
    c->owner = owner;
    zego_sendq_init(&c->out, SIGNAL_QUEUE_BYTES);
    c->rx_max = kind == CONN_SIGNAL ? ZEGO_SERVER_MESSAGE_MAX
                                    : e->cfg.max_frame_bytes + 256 + MEDIA_TEXT_MAX;
    if (zego_url_parse(url, &c->url, err) != ZEGO_ERR_OK) {
        conn_free(c);
        return NULL;
    }
    bool v6 = strchr(c->url.host, ':') != NULL;
    snprintf(c->host_header, sizeof c->host_header, "%s%s%s:%d", v6 ? "[" : "", c->url.host,
             v6 ? "]" : "", c->url.port);

    static const char *const names[] = {ZEGO_SUBPROTOCOL_SIGNALING, ZEGO_SUBPROTOCOL_PUBLISH,
                                        ZEGO_SUBPROTOCOL_PLAY};
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = e->ctx;
    ci.address = c->url.host;
    ci.port = c->url.port;
    ci.path = c->url.path;
    ci.host = c->host_header;
    ci.origin = c->host_header;
    ci.protocol = names[kind];
    ci.local_protocol_name = names[kind];
    if (c->url.tls) {
        ci.ssl_connection = LCCSCF_USE_SSL;
        if (!e->cfg.tls_verify)
            ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
                                 LCCSCF_ALLOW_EXPIRED;
    }
    /* No pwsi: lws would write to it after we may have freed c. */
    ci.opaque_user_data = c;

    c->in_connect = true;
    struct lws *wsi = lws_client_connect_via_info(&ci);
    c->in_connect = false;
    if (!wsi || c->sync_failed) {
        if (wsi)
            lws_set_opaque_user_data(wsi, NULL);
        zego_error_set(err, ZEGO_ERR_CONNECT_FAILED, "could not start connecting to %s:%d",
                       c->url.host, c->url.port);
        conn_free(c);
        return NULL;
    }
    c->wsi = wsi;
    return c;
}

/* Appends received bytes; true when a whole message is in c->rx. */
static int conn_rx(struct conn *c, struct lws *wsi, const void *in, size_t len, bool *complete)
{
    *complete = false;
    if (!c->rx_active) {
        c->rx_active = true;
        c->rx_binary = lws_frame_is_binary(wsi) != 0;
        c->rx_len = 0;
        /* Give back what one big message made us grow. */
        if (c->rx_cap > 4 * RX_CHUNK) {
            free(c->rx);
            c->rx = NULL;
            c->rx_cap = 0;
        }
    }
    if (len > c->rx_max - c->rx_len)
        return -1;
    if (!c->rx || c->rx_len + len > c->rx_cap) {
        size_t cap = c->rx_cap ? c->rx_cap : RX_CHUNK;
        while (cap < c->rx_len + len)
            cap *= 2;
        if (cap > c->rx_max)
            cap = c->rx_max;
        uint8_t *p = realloc(c->rx, cap + 1);
        if (!p)
            return -1;
        c->rx = p;
        c->rx_cap = cap;
    }
    if (len)
        memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
        c->rx_active = false;
        c->rx[c->rx_len] = '\0';
        *complete = true;
    }
    return 0;
}

/* ---- Signaling: requests ---- */

static struct pending *pending_find(zego_engine *e, uint32_t seq)
{
    for (size_t i = 0; i < MAX_PENDING; i++)
        if (e->pending[i].seq == seq)
            return &e->pending[i];
    return NULL;
}

/* Encodes and queues a request on the signaling socket.  Returns its seq,
 * or 0 with *err set. */
static uint32_t send_request(zego_engine *e, zego_msg *m, const struct pending *info,
                             zego_error *err)
{
    if (!e->sig || !e->sig->established) {
        zego_error_set(err, ZEGO_ERR_NOT_LOGGED_IN, "not connected to the room server");
        return 0;
    }
    struct pending *slot = pending_find(e, 0);
    if (!slot) {
        zego_error_set(err, ZEGO_ERR_RATE_LIMITED, "%d requests are waiting for replies",
                       MAX_PENDING);
        return 0;
    }
    if (++e->seq == 0)
        e->seq = 1;
    m->seq = e->seq;
    size_t len;
    char *json = zego_msg_encode(m, &len, err);
    if (!json)
        return 0;
    if (len > ZEGO_CLIENT_MESSAGE_MAX || e->sig->out.bytes + len > SIGNAL_QUEUE_BYTES) {
        free(json);
        zego_error_set(err,
                       len > ZEGO_CLIENT_MESSAGE_MAX ? ZEGO_ERR_PROTOCOL_TOO_LARGE
                                                     : ZEGO_ERR_RATE_LIMITED,
                       "the %s request does not fit (%zu bytes)", zego_msg_type_name(m->type), len);
        return 0;
    }
    zego_sendq_item *it = zego_sendq_item_new(LWS_PRE, len);
    if (!it) {
        free(json);
        zego_error_set(err, ZEGO_ERR_INTERNAL, "out of memory");
        return 0;
    }
    it->is_text = true;
    memcpy(it->data, json, len);
    free(json);
    zego_sendq_push(&e->sig->out, it);
    lws_callback_on_writable(e->sig->wsi);

    if (info)
        *slot = *info;
    else
        memset(slot, 0, sizeof *slot);
    slot->seq = m->seq;
    slot->type = m->type;
    slot->deadline = mono_ms() + e->cfg.request_timeout_ms;
    slot->sent_wall_ms = wall_ms();
    /* Message types only: a login carries the token. */
    elog(e, ZEGO_LOG_DEBUG, "-> %s seq=%u", zego_msg_type_name(m->type), m->seq);
    return m->seq;
}

/* ---- Room lists ---- */

/* The engine thread alone changes the lists, under lists_lock, so that
 * zego_engine_get_streams() may read them from any thread. */
static void room_lists_clear(zego_engine *e)
{
    pthread_mutex_lock(&e->lists_lock);
    free(e->streams);
    e->streams = NULL;
    e->n_streams = 0;
    free(e->users);
    e->users = NULL;
    e->n_users = 0;
    pthread_mutex_unlock(&e->lists_lock);
}

static zego_stream *stream_find(zego_engine *e, const char *stream_id)
{
    for (size_t i = 0; i < e->n_streams; i++)
        if (strcmp(e->streams[i].stream_id, stream_id) == 0)
            return &e->streams[i];
    return NULL;
}

static zego_user *user_find(zego_engine *e, const char *user_id)
{
    for (size_t i = 0; i < e->n_users; i++)
        if (strcmp(e->users[i].user_id, user_id) == 0)
            return &e->users[i];
    return NULL;
}

static void stream_put(zego_engine *e, const zego_stream *s)
{
    pthread_mutex_lock(&e->lists_lock);
    zego_stream *have = stream_find(e, s->stream_id);
    if (have) {
        *have = *s;
    } else if (e->n_streams < MAX_ROOM_ENTRIES) {
        zego_stream *n = realloc(e->streams, (e->n_streams + 1) * sizeof *n);
        if (n) {
            e->streams = n;
            e->streams[e->n_streams++] = *s;
        }
    }
    pthread_mutex_unlock(&e->lists_lock);
}

static void stream_remove(zego_engine *e, const char *stream_id)
{
    pthread_mutex_lock(&e->lists_lock);
    zego_stream *s = stream_find(e, stream_id);
    if (s)
        *s = e->streams[--e->n_streams];
    pthread_mutex_unlock(&e->lists_lock);
}

static void user_put(zego_engine *e, const zego_user *u)
{
    pthread_mutex_lock(&e->lists_lock);
    zego_user *have = user_find(e, u->user_id);
    if (have) {
        *have = *u;
    } else if (e->n_users < MAX_ROOM_ENTRIES) {
        zego_user *n = realloc(e->users, (e->n_users + 1) * sizeof *n);
        if (n) {
            e->users = n;
            e->users[e->n_users++] = *u;
        }
    }
    pthread_mutex_unlock(&e->lists_lock);
}

static void user_remove(zego_engine *e, const char *user_id)
{
    pthread_mutex_lock(&e->lists_lock);
    zego_user *u = user_find(e, user_id);
    if (u)
        *u = e->users[--e->n_users];
    pthread_mutex_unlock(&e->lists_lock);
}

/* What a login reply changed in the room lists, to tell the handlers. */
struct room_diff {
    zego_stream *add, *del, *extra;
    size_t n_add, n_del, n_extra;
    zego_user *uadd, *udel;
    size_t nu_add, nu_del;
};

/* Brings the room lists to what a login reply says; *d gets the differences
 * (events missed while away are not replayed by the server).  The lists are
 * right before the room turns CONNECTED, the handlers are told after it. */
static void room_reconcile(zego_engine *e, const zego_login_reply *r, struct room_diff *d)
{
    memset(d, 0, sizeof *d);
    d->add = calloc(r->n_streams + 1, sizeof *d->add);
    d->del = calloc(e->n_streams + 1, sizeof *d->del);
    d->extra = calloc(r->n_streams + 1, sizeof *d->extra);
    if (!d->add || !d->del || !d->extra)
        return;
    for (size_t i = 0; i < e->n_streams; i++) {
        bool still = false;
        for (size_t j = 0; j < r->n_streams && !still; j++)
            still = strcmp(e->streams[i].stream_id, r->streams[j].stream_id) == 0 &&
                    strcmp(e->streams[i].user_id, r->streams[j].user_id) == 0;
        if (!still)
            d->del[d->n_del++] = e->streams[i];
    }
    for (size_t j = 0; j < r->n_streams; j++) {
        zego_stream *have = stream_find(e, r->streams[j].stream_id);
        if (!have || strcmp(have->user_id, r->streams[j].user_id) != 0)
            d->add[d->n_add++] = r->streams[j];
        else if (strcmp(have->extra_info, r->streams[j].extra_info) != 0)
            d->extra[d->n_extra++] = r->streams[j];
    }
    for (size_t i = 0; i < d->n_del; i++)
        stream_remove(e, d->del[i].stream_id);
    for (size_t j = 0; j < r->n_streams; j++)
        stream_put(e, &r->streams[j]);

    if (!e->room.user_update)
        return;
    d->uadd = calloc(r->n_users + 1, sizeof *d->uadd);
    d->udel = calloc(e->n_users + 1, sizeof *d->udel);
    if (!d->uadd || !d->udel)
        return;
    for (size_t i = 0; i < e->n_users; i++) {
        bool still = false;
        for (size_t j = 0; j < r->n_users && !still; j++)
            still = strcmp(e->users[i].user_id, r->users[j].user_id) == 0;
        if (!still)
            d->udel[d->nu_del++] = e->users[i];
    }
    for (size_t j = 0; j < r->n_users; j++)
        if (!user_find(e, r->users[j].user_id))
            d->uadd[d->nu_add++] = r->users[j];
    for (size_t i = 0; i < d->nu_del; i++)
        user_remove(e, d->udel[i].user_id);
    for (size_t j = 0; j < d->nu_add; j++)
        user_put(e, &d->uadd[j]);
}

/* Tells the handlers what room_reconcile changed, and frees *d. */
static void room_diff_emit(zego_engine *e, struct room_diff *d)
{
    const char *room = e->room.room_id;
    /* The reason of a delete learned this way is not known. */
    if (d->n_del)
        EMIT(e, room_stream_update, room, ZEGO_UPDATE_DELETE, ZEGO_REASON_NONE, d->del, d->n_del);
    for (size_t i = 0; i < d->n_del; i++)
        players_stream_deleted(e, d->del[i].stream_id);
    if (d->n_add)
        EMIT(e, room_stream_update, room, ZEGO_UPDATE_ADD, ZEGO_REASON_NONE, d->add, d->n_add);
    if (d->n_extra)
        EMIT(e, room_stream_extra_info_update, room, d->extra, d->n_extra);
    if (d->nu_del)
        EMIT(e, room_user_update, room, ZEGO_UPDATE_DELETE, d->udel, d->nu_del);
    if (d->nu_add)
        EMIT(e, room_user_update, room, ZEGO_UPDATE_ADD, d->uadd, d->nu_add);
    free(d->add);
    free(d->del);
    free(d->extra);
    free(d->uadd);
    free(d->udel);
}

/* ---- Publishers and players: snapshots of the wanted state ---- */

/* The engine thread alone removes entries, so pointers copied under the lock
 * stay valid on this thread. */
static size_t pubs_snapshot(zego_engine *e, struct publisher **out)
{
    pthread_mutex_lock(&e->lock);
    size_t n = e->n_pubs;
    memcpy(out, e->pubs, n * sizeof *out);
    pthread_mutex_unlock(&e->lock);
    return n;
}

static size_t players_snapshot(zego_engine *e, struct player **out)
{
    pthread_mutex_lock(&e->lock);
    size_t n = e->n_players;
    memcpy(out, e->players, n * sizeof *out);
    pthread_mutex_unlock(&e->lock);
    return n;
}

static struct publisher *pub_by_stream(zego_engine *e, const char *stream_id)
{
    for (size_t i = 0; i < e->n_pubs; i++)
        if (!e->pubs[i]->stopped && strcmp(e->pubs[i]->stream_id, stream_id) == 0)
            return e->pubs[i];
    return NULL;
}

static struct player *player_by_stream(zego_engine *e, const char *stream_id)
{
    for (size_t i = 0; i < e->n_players; i++)
        if (!e->players[i]->stopped && strcmp(e->players[i]->stream_id, stream_id) == 0)
            return e->players[i];
    return NULL;
}

/* The publisher's socket went away (or never came): no more frames taken. */
static void pub_unready(zego_engine *e, struct publisher *p)
{
    pthread_mutex_lock(&e->lock);
    p->ready = false;
    zego_sendq_clear(&p->q);
    pthread_mutex_unlock(&e->lock);
}

static void pub_media_down(zego_engine *e, struct publisher *p)
{
    conn_close(p->conn);
    p->conn = NULL;
    pub_unready(e, p);
}

static void player_media_down(struct player *p)
{
    conn_close(p->conn);
    p->conn = NULL;
    /* Frames after a new socket follow a gap, and the replayed GOP is
     * recognised by its sequence numbers. */
    memset(p->discont, 0xff, sizeof p->discont);
}

/* Asks for a publish/play or a media ticket as the step requires. */
static void pub_request(zego_engine *e, struct publisher *p, bool ticket)
{
    zego_msg m;
    zego_error err;
    struct pending info = {0};
    snprintf(info.stream_id, sizeof info.stream_id, "%s", p->stream_id);
    if (ticket) {
        zego_msg_init(&m, ZEGO_MSG_MEDIA_TICKET);
        snprintf(m.u.media_ticket.stream_id, sizeof m.u.media_ticket.stream_id, "%s", p->stream_id);
        m.u.media_ticket.role = ZEGO_ROLE_PUBLISH;
        info.role = ZEGO_ROLE_PUBLISH;
    } else {
        zego_msg_init(&m, ZEGO_MSG_PUBLISH);
        snprintf(m.u.publish.stream_id, sizeof m.u.publish.stream_id, "%s", p->stream_id);
        snprintf(m.u.publish.extra_info, sizeof m.u.publish.extra_info, "%s", p->extra_info);
    }
    p->req_seq = send_request(e, &m, &info, &err);
    if (p->req_seq) {
        p->step = STEP_REQUESTING;
        report_publisher(e, p, ZEGO_PUBLISHER_STATE_PUBLISH_REQUESTING, 0);
    } else {
        elog(e, ZEGO_LOG_WARNING, "publish %s: %s", p->stream_id, err.message);
    }
}

static void player_request(zego_engine *e, struct player *p, bool ticket)
{
    zego_msg m;
    zego_error err;
    struct pending info = {0};
    snprintf(info.stream_id, sizeof info.stream_id, "%s", p->stream_id);
    if (ticket) {
        zego_msg_init(&m, ZEGO_MSG_MEDIA_TICKET);
        snprintf(m.u.media_ticket.stream_id, sizeof m.u.media_ticket.stream_id, "%s", p->stream_id);
        m.u.media_ticket.role = ZEGO_ROLE_PLAY;
        info.role = ZEGO_ROLE_PLAY;
    } else {
        zego_msg_init(&m, ZEGO_MSG_PLAY);
        snprintf(m.u.stream.stream_id, sizeof m.u.stream.stream_id, "%s", p->stream_id);
    }
    p->req_seq = send_request(e, &m, &info, &err);
    if (p->req_seq) {
        p->step = STEP_REQUESTING;
        report_player(e, p, ZEGO_PLAYER_STATE_PLAY_REQUESTING, 0);
    } else {
        elog(e, ZEGO_LOG_WARNING, "play %s: %s", p->stream_id, err.message);
    }
}

static void stream_request(zego_engine *e, zego_msg_type type, const char *stream_id)
{
    zego_msg m;
    zego_error err;
    zego_msg_init(&m, type);
    snprintf(m.u.stream.stream_id, sizeof m.u.stream.stream_id, "%s", stream_id);
    if (!send_request(e, &m, NULL, &err))
        elog(e, ZEGO_LOG_DEBUG, "%s %s: %s", zego_msg_type_name(type), stream_id, err.message);
}

static void pub_free(struct publisher *p)
{
    zego_sendq_clear(&p->q);
    zego_sendq_clear(&p->hold);
    free(p);
}

static void player_free(struct player *p)
{
    zego_msg_clear(&p->info);
    free(p);
}

/* Finishes stop_publishing / stop_playing and moves every other stream
 * towards its wanted state. */
static void reconcile(zego_engine *e)
{
    if (e->shutting_down)
        return;
    int64_t now = mono_ms();
    bool up = e->link == LINK_UP;

    struct publisher *pubs[MAX_PUBLISHERS];
    size_t n = pubs_snapshot(e, pubs);
    for (size_t i = 0; i < n; i++) {
        struct publisher *p = pubs[i];
        pthread_mutex_lock(&e->lock);
        if (p->finishing && !p->stopped && now >= p->finish_deadline) {
            elog(e, ZEGO_LOG_WARNING, "publish %s: finishing took too long, %zu bytes not sent",
                 p->stream_id, p->q.bytes + p->hold.bytes);
            p->stopped = true;
        }
        bool finishing = p->finishing && !p->stopped;
        pthread_mutex_unlock(&e->lock);
        if (finishing) {
            tick_at(e, p->finish_deadline);
            if (p->step == STEP_LIVE && p->conn && p->conn->wsi)
                lws_callback_on_writable(p->conn->wsi);
        }
        if (p->stopped) {
            if (up && p->known)
                stream_request(e, ZEGO_MSG_UNPUBLISH, p->stream_id);
            pub_media_down(e, p);
            report_publisher(e, p, ZEGO_PUBLISHER_STATE_NO_PUBLISH, 0);
            pthread_mutex_lock(&e->lock);
            for (size_t j = 0; j < e->n_pubs; j++) {
                if (e->pubs[j] == p) {
                    memmove(&e->pubs[j], &e->pubs[j + 1], (e->n_pubs - j - 1) * sizeof p);
                    e->n_pubs--;
                    break;
                }
            }
            pthread_mutex_unlock(&e->lock);
            pub_free(p);
            continue;
        }
        if (!up)
            continue;
        if (p->step == STEP_IDLE)
            pub_request(e, p, false);
        else if (p->step == STEP_REPAIR && now >= p->retry_at)
            pub_request(e, p, p->known);
    }

    struct player *pls[MAX_PLAYERS];
    n = players_snapshot(e, pls);
    for (size_t i = 0; i < n; i++) {
        struct player *p = pls[i];
        if (!p->stopped && p->end_wait) {
            if (now >= p->end_deadline)
                player_end(e, p);
            else
                tick_at(e, p->end_deadline);
        }
        if (p->stopped) {
            if (up && p->known)
                stream_request(e, ZEGO_MSG_STOP_PLAY, p->stream_id);
            player_media_down(p);
            report_player(e, p, ZEGO_PLAYER_STATE_NO_PLAY, 0);
            pthread_mutex_lock(&e->lock);
            for (size_t j = 0; j < e->n_players; j++) {
                if (e->players[j] == p) {
                    memmove(&e->players[j], &e->players[j + 1], (e->n_players - j - 1) * sizeof p);
                    e->n_players--;
                    break;
                }
            }
            pthread_mutex_unlock(&e->lock);
            player_free(p);
            continue;
        }
        if (!up)
            continue;
        if (p->step == STEP_IDLE)
            player_request(e, p, false);
        else if (p->step == STEP_REPAIR && now >= p->retry_at)
            player_request(e, p, p->known);
    }
}

/* Every stream back to "wanted, nothing asked": after a fresh login, a
 * logout or a failure.  code: reported with NO_PUBLISH / NO_PLAY (or 0 to
 * report REQUESTING when the room will come back). */
static void streams_reset(zego_engine *e, bool stopped_state, int32_t code)
{
    struct publisher *pubs[MAX_PUBLISHERS];
    size_t n = pubs_snapshot(e, pubs);
    for (size_t i = 0; i < n; i++) {
        struct publisher *p = pubs[i];
        pub_media_down(e, p);
        p->step = STEP_IDLE;
        p->known = false;
        p->req_seq = 0;
        p->attempt = 0;
        pthread_mutex_lock(&e->lock);
        p->failed_code = 0;
        pthread_mutex_unlock(&e->lock);
        if (stopped_state && !p->stopped)
            report_publisher(e, p, ZEGO_PUBLISHER_STATE_NO_PUBLISH, code);
    }
    struct player *pls[MAX_PLAYERS];
    n = players_snapshot(e, pls);
    for (size_t i = 0; i < n; i++) {
        struct player *p = pls[i];
        player_media_down(p);
        p->step = STEP_IDLE;
        p->known = false;
        p->req_seq = 0;
        p->attempt = 0;
        if (stopped_state && !p->stopped)
            report_player(e, p, ZEGO_PLAYER_STATE_NO_PLAY, code);
    }
}

/* ---- Signaling link ---- */

static void retry_cb(lws_sorted_usec_list_t *sul);
static void heartbeat_cb(lws_sorted_usec_list_t *sul);
static void signal_connect(zego_engine *e);

static void pending_fail_all(zego_engine *e, int32_t code, const char *why)
{
    for (size_t i = 0; i < MAX_PENDING; i++) {
        struct pending *pd = &e->pending[i];
        if (!pd->seq)
            continue;
        struct pending copy = *pd;
        memset(pd, 0, sizeof *pd);
        if (copy.app)
            EMIT(e, request_result, copy.request_id, copy.kind, code, why, 0);
    }
}

/* Stops everything and reports DISCONNECTED: the room is given up. */
static void room_fail(zego_engine *e, zego_room_state_reason reason, int32_t code,
                      const char *message)
{
    lws_sul_cancel(&e->sul_retry);
    lws_sul_cancel(&e->sul_heartbeat);
    conn_close(e->sig);
    e->sig = NULL;
    e->link = LINK_DOWN;
    pending_fail_all(e, code, message);
    e->room_active = false;
    e->session_id[0] = e->resume_token[0] = '\0';
    e->reconnecting = false;
    pthread_mutex_lock(&e->lock);
    e->room_wanted = false;
    pthread_mutex_unlock(&e->lock);
    streams_reset(e, true, code);
    room_lists_clear(e);
    set_room_state(e, ZEGO_ROOM_STATE_DISCONNECTED, reason, code, message);
}

static void schedule_retry(zego_engine *e, uint32_t delay_ms)
{
    elog(e, ZEGO_LOG_DEBUG, "next connection attempt in %u ms", delay_ms);
    lws_sul_schedule(e->ctx, 0, &e->sul_retry, retry_cb, (lws_usec_t)delay_ms * 1000);
}

/* The signaling socket is gone (closed, failed, or dropped by us).  Decides
 * between retrying, reconnecting and giving up.  delay_ms < 0: backoff. */
static void signal_lost(zego_engine *e, const char *why, int64_t delay_ms)
{
    bool was_up = e->link == LINK_UP;
    e->link = LINK_DOWN;
    e->sig = NULL;
    lws_sul_cancel(&e->sul_heartbeat);
    pending_fail_all(e, ZEGO_ERR_TEMPORARILY_DISCONNECTED, "the connection was lost");
    /* Requests in flight are void; the streams ask again once back. */
    struct publisher *pubs[MAX_PUBLISHERS];
    size_t n = pubs_snapshot(e, pubs);
    for (size_t i = 0; i < n; i++) {
        if (pubs[i]->step == STEP_REQUESTING)
            pubs[i]->step = pubs[i]->known ? STEP_REPAIR : STEP_IDLE;
        pubs[i]->req_seq = 0;
    }
    struct player *pls[MAX_PLAYERS];
    n = players_snapshot(e, pls);
    for (size_t i = 0; i < n; i++) {
        if (pls[i]->step == STEP_REQUESTING)
            pls[i]->step = pls[i]->known ? STEP_REPAIR : STEP_IDLE;
        pls[i]->req_seq = 0;
    }
    if (!e->room_active || e->shutting_down)
        return;
    elog(e, ZEGO_LOG_WARNING, "signaling connection lost: %s", why);

    int64_t now = mono_ms();
    if (!e->ever_connected) {
        if (now >= e->login_deadline) {
            room_fail(e, ZEGO_ROOM_REASON_LOGIN_FAILED,
                      e->connect_failed_last ? ZEGO_ERR_CONNECT_FAILED : ZEGO_ERR_LOGIN_TIMEOUT,
                      why);
            return;
        }
    } else {
        if (!e->reconnecting) {
            e->reconnecting = true;
            e->give_up_at = now + e->cfg.reconnect_give_up_ms;
            e->attempt = 0;
            set_room_state(e, ZEGO_ROOM_STATE_CONNECTING, ZEGO_ROOM_REASON_RECONNECTING,
                           ZEGO_ERR_TEMPORARILY_DISCONNECTED, why);
        } else if (!was_up && now >= e->give_up_at) {
            room_fail(e, ZEGO_ROOM_REASON_RECONNECT_FAILED, ZEGO_ERR_RECONNECT_FAILED,
                      "reconnecting gave up");
            return;
        }
    }
    if (delay_ms < 0)
        delay_ms = zego_backoff_delay_ms(e->attempt++, e->cfg.reconnect_backoff_initial_ms,
                                         e->cfg.reconnect_backoff_max_ms, random_u32());
    schedule_retry(e, (uint32_t)delay_ms);
}

/* Drops the signaling socket on our initiative (timeouts, going_away). */
static void signal_drop(zego_engine *e, const char *why, int64_t delay_ms)
{
    conn_close(e->sig);
    e->sig = NULL;
    signal_lost(e, why, delay_ms);
}

static void signal_connect(zego_engine *e)
{
    if (e->sig || !e->room_active || e->shutting_down)
        return;
    zego_error err;
    e->link = LINK_CONNECTING;
    e->last_rx = mono_ms();
    e->sig = conn_open(e, CONN_SIGNAL, NULL, e->cur_url, &err);
    if (!e->sig) {
        e->connect_failed_last = true;
        /* Back to the configured server after a failed redirect target. */
        snprintf(e->cur_url, sizeof e->cur_url, "%s", e->server_url);
        signal_lost(e, err.message, -1);
    }
}

static void retry_cb(lws_sorted_usec_list_t *sul)
{
    zego_engine *e = lws_container_of(sul, zego_engine, sul_retry);
    signal_connect(e);
}

static void send_heartbeat(zego_engine *e)
{
    zego_msg m;
    zego_error err;
    zego_msg_init(&m, ZEGO_MSG_HEARTBEAT);
    m.u.heartbeat.client_time_ms = wall_ms();
    if (!send_request(e, &m, NULL, &err))
        elog(e, ZEGO_LOG_DEBUG, "heartbeat: %s", err.message);
}

static void heartbeat_cb(lws_sorted_usec_list_t *sul)
{
    zego_engine *e = lws_container_of(sul, zego_engine, sul_heartbeat);
    if (e->link != LINK_UP)
        return;
    send_heartbeat(e);
    lws_sul_schedule(e->ctx, 0, &e->sul_heartbeat, heartbeat_cb,
                     (lws_usec_t)e->heartbeat_ms * 1000);
}

static void signal_established(zego_engine *e)
{
    e->link = LINK_LOGGING_IN;
    e->connect_failed_last = false;
    e->last_rx = mono_ms();
    zego_msg m;
    zego_error err;
    zego_msg_init(&m, ZEGO_MSG_LOGIN);
    m.u.login = e->room;
    m.u.login.version = ZEGO_PROTOCOL_VERSION;
    snprintf(m.u.login.client, sizeof m.u.login.client, "%s", CLIENT_NAME);
    if (e->session_id[0] && e->resume_token[0]) {
        snprintf(m.u.login.session_id, sizeof m.u.login.session_id, "%s", e->session_id);
        snprintf(m.u.login.resume_token, sizeof m.u.login.resume_token, "%s", e->resume_token);
    }
    uint32_t seq = send_request(e, &m, NULL, &err);
    memset(&m.u.login.token, 0, sizeof m.u.login.token);
    memset(&m.u.login.resume_token, 0, sizeof m.u.login.resume_token);
    if (!seq)
        room_fail(e, ZEGO_ROOM_REASON_LOGIN_FAILED, err.code, err.message);
}

static bool login_error_is_retryable(int32_t code)
{
    switch (code) {
    case ZEGO_ERR_SERVER_FULL:
    case ZEGO_ERR_SERVER_SHUTTING_DOWN:
    case ZEGO_ERR_INTERNAL:
    case ZEGO_ERR_HEARTBEAT_TIMEOUT:
    case ZEGO_ERR_RATE_LIMITED:
        return true;
    default:
        return false;
    }
}

static void on_login_reply(zego_engine *e, zego_msg *m, int64_t sent_wall_ms)
{
    if (m->code == ZEGO_ERR_REDIRECT) {
        if (++e->redirects > MAX_REDIRECTS) {
            room_fail(e, ZEGO_ROOM_REASON_LOGIN_FAILED, ZEGO_ERR_REDIRECT, "too many redirects");
            return;
        }
        zego_url u;
        zego_error err;
        if (zego_url_parse(m->redirect, &u, &err) != ZEGO_ERR_OK) {
            room_fail(e, ZEGO_ROOM_REASON_LOGIN_FAILED, ZEGO_ERR_REDIRECT, err.message);
            return;
        }
        elog(e, ZEGO_LOG_INFO, "login redirected to %s", m->redirect);
        snprintf(e->cur_url, sizeof e->cur_url, "%s", m->redirect);
        signal_drop(e, "redirected", 0);
        return;
    }
    if (m->code == ZEGO_ERR_SESSION_EXPIRED) {
        /* The reconnect window passed: log in afresh, others see a new user. */
        elog(e, ZEGO_LOG_INFO, "session expired; logging in afresh");
        e->session_id[0] = e->resume_token[0] = '\0';
        signal_drop(e, "session expired", 0);
        return;
    }
    if (m->code != 0) {
        if (login_error_is_retryable(m->code)) {
            signal_drop(e, m->error_message, -1);
            return;
        }
        room_fail(
            e, e->reconnecting ? ZEGO_ROOM_REASON_RECONNECT_FAILED : ZEGO_ROOM_REASON_LOGIN_FAILED,
            m->code, m->error_message);
        return;
    }
    zego_login_reply *r = &m->u.login_reply;
    e->redirects = 0;
    e->attempt = 0;
    e->link = LINK_UP;
    snprintf(e->session_id, sizeof e->session_id, "%s", r->session_id);
    snprintf(e->resume_token, sizeof e->resume_token, "%s", r->resume_token);
    e->heartbeat_ms = r->heartbeat_interval_ms ? r->heartbeat_interval_ms : 10000;
    if (zego_clock_add_sample(&e->clock, sent_wall_ms, r->server_time_ms, wall_ms())) {
        int64_t off;
        if (zego_clock_offset(&e->clock, &off, NULL))
            atomic_store(&e->clock_offset_ms, off);
    }
    if (!r->resumed)
        streams_reset(e, false, 0); /* the server forgot our streams: ask again */
    bool again = e->ever_connected;
    e->ever_connected = true;
    e->reconnecting = false;
    elog(e, ZEGO_LOG_INFO, "logged in (%s), heartbeat %u ms, window %u ms, %zu users, %zu streams",
         r->resumed ? "resumed" : "new session", e->heartbeat_ms, r->reconnect_window_ms,
         r->n_users, r->n_streams);
    /* The lists first (zego_engine_get_streams() is right from CONNECTED
     * on), then the state, then what the room holds, as ZEGO reports them. */
    struct room_diff diff;
    room_reconcile(e, r, &diff);
    set_room_state(e, ZEGO_ROOM_STATE_CONNECTED,
                   again ? ZEGO_ROOM_REASON_RECONNECTED : ZEGO_ROOM_REASON_LOGINED, 0, "");
    room_diff_emit(e, &diff);
    lws_sul_schedule(e->ctx, 0, &e->sul_heartbeat, heartbeat_cb,
                     (lws_usec_t)e->heartbeat_ms * 1000);
    reconcile(e);
}

static void tick_cb(lws_sorted_usec_list_t *sul);

static int64_t earlier(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* Has the tick run at at_ms at the latest (engine thread). */
static void tick_at(zego_engine *e, int64_t at_ms)
{
    int64_t now = mono_ms();
    if (e->tick_at_ms > now && e->tick_at_ms <= at_ms)
        return;
    int64_t delay = at_ms > now ? at_ms - now : 1;
    e->tick_at_ms = now + delay;
    lws_sul_schedule(e->ctx, 0, &e->sul_tick, tick_cb, (lws_usec_t)delay * 1000);
}

static void open_media(zego_engine *e, void *owner, bool publish, const zego_media_endpoint *ep)
{
    struct publisher *pub = publish ? owner : NULL;
    struct player *pl = publish ? NULL : owner;
    char url[ZEGO_URL_SIZE + ZEGO_TICKET_SIZE + 16];
    zego_error err;
    struct conn *c = NULL;
    if (zego_url_with_ticket(ep->url, ep->ticket, url, sizeof url, &err) == ZEGO_ERR_OK)
        c = conn_open(e, publish ? CONN_PUBLISH : CONN_PLAY, owner, url, &err);
    uint32_t *attempt = publish ? &pub->attempt : &pl->attempt;
    if (!c) {
        elog(e, ZEGO_LOG_WARNING, "%s %s: media socket: %s", publish ? "publish" : "play",
             publish ? pub->stream_id : pl->stream_id, err.message);
        int64_t at =
            mono_ms() + zego_backoff_delay_ms((*attempt)++, e->cfg.reconnect_backoff_initial_ms,
                                              e->cfg.reconnect_backoff_max_ms, random_u32());
        if (publish) {
            pub->step = STEP_REPAIR;
            pub->retry_at = at;
        } else {
            pl->step = STEP_REPAIR;
            pl->retry_at = at;
        }
        tick_at(e, at);
        return;
    }
    if (publish) {
        pub_media_down(e, pub);
        pub->conn = c;
        pub->step = STEP_CONNECTING;
    } else {
        player_media_down(pl);
        pl->conn = c;
        pl->step = STEP_CONNECTING;
    }
}

static void on_media_reply(zego_engine *e, const struct pending *pd, zego_msg *m)
{
    bool publish = pd->type == ZEGO_MSG_PUBLISH ||
                   (pd->type == ZEGO_MSG_MEDIA_TICKET && pd->role == ZEGO_ROLE_PUBLISH);
    if (publish) {
        struct publisher *p = NULL;
        pthread_mutex_lock(&e->lock);
        p = pub_by_stream(e, pd->stream_id);
        pthread_mutex_unlock(&e->lock);
        if (!p || p->req_seq != m->seq)
            return;
        p->req_seq = 0;
        if (m->code == 0) {
            p->known = true;
            open_media(e, p, true, &m->u.media_reply.media);
        } else if (pd->type == ZEGO_MSG_MEDIA_TICKET) {
            /* The server no longer has it: publish from the start. */
            p->known = false;
            p->step = STEP_IDLE;
        } else {
            p->step = STEP_FAILED;
            pthread_mutex_lock(&e->lock);
            p->failed_code = m->code;
            pthread_mutex_unlock(&e->lock);
            elog(e, ZEGO_LOG_WARNING, "publish %s refused: %s", p->stream_id, m->error_message);
            report_publisher(e, p, ZEGO_PUBLISHER_STATE_NO_PUBLISH, m->code);
        }
    } else {
        struct player *p = NULL;
        pthread_mutex_lock(&e->lock);
        p = player_by_stream(e, pd->stream_id);
        pthread_mutex_unlock(&e->lock);
        if (!p || p->req_seq != m->seq)
            return;
        p->req_seq = 0;
        if (m->code == 0) {
            p->known = true;
            open_media(e, p, false, &m->u.media_reply.media);
        } else if (pd->type == ZEGO_MSG_MEDIA_TICKET) {
            p->known = false;
            p->step = STEP_IDLE;
        } else {
            p->step = STEP_FAILED;
            elog(e, ZEGO_LOG_WARNING, "play %s refused: %s", p->stream_id, m->error_message);
            report_player(e, p, ZEGO_PLAYER_STATE_NO_PLAY, m->code);
        }
    }
    reconcile(e);
}

static void on_reply(zego_engine *e, zego_msg *m)
{
    struct pending *slot = pending_find(e, m->seq);
    if (!m->seq || !slot) {
        elog(e, ZEGO_LOG_DEBUG, "reply to unknown seq %u ignored", m->seq);
        return;
    }
    struct pending pd = *slot;
    memset(slot, 0, sizeof *slot);
    elog(e, ZEGO_LOG_DEBUG, "<- reply %s seq=%u code=%d", zego_msg_type_name(pd.type), m->seq,
         m->code);
    switch (pd.type) {
    case ZEGO_MSG_LOGIN:
        on_login_reply(e, m, pd.sent_wall_ms);
        break;
    case ZEGO_MSG_HEARTBEAT:
        if (m->code == 0 && zego_clock_add_sample(&e->clock, m->u.heartbeat_reply.client_time_ms,
                                                  m->u.heartbeat_reply.server_time_ms, wall_ms())) {
            int64_t off;
            if (zego_clock_offset(&e->clock, &off, NULL))
                atomic_store(&e->clock_offset_ms, off);
        }
        break;
    case ZEGO_MSG_PUBLISH:
    case ZEGO_MSG_PLAY:
    case ZEGO_MSG_MEDIA_TICKET:
        on_media_reply(e, &pd, m);
        break;
    default:
        if (m->code)
            elog(e, ZEGO_LOG_WARNING, "%s failed: %d %s", zego_msg_type_name(pd.type), m->code,
                 m->error_message);
        if (pd.app)
            EMIT(e, request_result, pd.request_id, pd.kind, m->code, m->error_message,
                 pd.type == ZEGO_MSG_SEND_BROADCAST_MESSAGE && m->code == 0
                     ? m->u.send_message_reply.message_id
                     : 0);
        break;
    }
}

static void on_signal_message(zego_engine *e, const char *data, size_t len)
{
    zego_msg m;
    zego_error err;
    e->last_rx = mono_ms();
    if (zego_msg_decode(data, len, ZEGO_SERVER_MESSAGE_MAX, &m, &err) != ZEGO_ERR_OK) {
        elog(e, ZEGO_LOG_WARNING, "unreadable message from the server: %s", err.message);
        /* A reply we cannot read still answers its request. */
        if (m.type == ZEGO_MSG_REPLY && m.seq) {
            zego_msg_clear(&m);
            zego_msg_init(&m, ZEGO_MSG_REPLY);
            struct pending *pd = NULL;
            for (size_t i = 0; i < MAX_PENDING && !pd; i++)
                if (e->pending[i].seq && e->pending[i].seq == m.seq)
                    pd = &e->pending[i];
            m.code = err.code;
            snprintf(m.error_message, sizeof m.error_message, "%s", err.message);
            if (pd)
                on_reply(e, &m);
        }
        zego_msg_clear(&m);
        return;
    }
    const char *room = e->room.room_id;
    switch (m.type) {
    case ZEGO_MSG_REPLY:
        on_reply(e, &m);
        break;
    case ZEGO_MSG_USER_UPDATE: {
        zego_user_update_event *u = &m.u.user_update;
        for (size_t i = 0; i < u->n_users; i++) {
            if (u->update == ZEGO_UPDATE_ADD)
                user_put(e, &u->users[i]);
            else
                user_remove(e, u->users[i].user_id);
        }
        if (e->room.user_update)
            EMIT(e, room_user_update, room, u->update, u->users, u->n_users);
        break;
    }
    case ZEGO_MSG_STREAM_UPDATE: {
        zego_stream_update_event *s = &m.u.stream_update;
        for (size_t i = 0; i < s->n_streams; i++) {
            if (s->update == ZEGO_UPDATE_ADD)
                stream_put(e, &s->streams[i]);
            else
                stream_remove(e, s->streams[i].stream_id);
        }
        EMIT(e, room_stream_update, room, s->update, s->reason, s->streams, s->n_streams);
        if (s->update == ZEGO_UPDATE_DELETE)
            for (size_t i = 0; i < s->n_streams; i++)
                players_stream_deleted(e, s->streams[i].stream_id);
        break;
    }
    case ZEGO_MSG_STREAM_EXTRA_INFO_UPDATE: {
        zego_stream_update_event *s = &m.u.stream_update;
        for (size_t i = 0; i < s->n_streams; i++) {
            pthread_mutex_lock(&e->lists_lock);
            zego_stream *have = stream_find(e, s->streams[i].stream_id);
            if (have)
                snprintf(have->extra_info, sizeof have->extra_info, "%s", s->streams[i].extra_info);
            pthread_mutex_unlock(&e->lists_lock);
        }
        EMIT(e, room_stream_extra_info_update, room, s->streams, s->n_streams);
        break;
    }
    case ZEGO_MSG_BROADCAST_MESSAGE:
        EMIT(e, broadcast_message, room, &m.u.message.from, m.u.message.message,
             m.u.message.message_id, m.u.message.send_time_ms);
        break;
    case ZEGO_MSG_CUSTOM_COMMAND:
        EMIT(e, custom_command, room, &m.u.message.from, m.u.message.message,
             m.u.message.send_time_ms);
        break;
    case ZEGO_MSG_TOKEN_WILL_EXPIRE:
        EMIT(e, room_token_will_expire, room, m.u.token_will_expire.remaining_s);
        break;
    case ZEGO_MSG_KICKED_OUT: {
        int32_t code = m.u.notice.code ? m.u.notice.code : ZEGO_ERR_KICKED_OUT;
        EMIT(e, kicked_out, room, code, m.u.notice.message);
        room_fail(e, ZEGO_ROOM_REASON_KICKOUT, code, m.u.notice.message);
        break;
    }
    case ZEGO_MSG_GOING_AWAY:
        elog(e, ZEGO_LOG_INFO, "server going away (%d): reconnecting in %u ms", m.u.notice.code,
             m.u.notice.reconnect_after_ms);
        signal_drop(e, m.u.notice.message, (int64_t)m.u.notice.reconnect_after_ms);
        break;
    case ZEGO_MSG_ERROR:
        elog(e, ZEGO_LOG_WARNING, "server error %d: %s", m.u.notice.code, m.u.notice.message);
        break;
    default:
        elog(e, ZEGO_LOG_DEBUG, "unexpected %s on signaling ignored", zego_msg_type_name(m.type));
        break;
    }
    zego_msg_clear(&m);
}

/* ---- Media: publishing ---- */

/* Writes a frame's header (taking its sequence number) and queues it; with
 * e->lock.  Capture times travel on the server's clock so that a player on
 * another host can compare them with its own estimate of it. */
static void pub_queue_frame(zego_engine *e, struct publisher *p, zego_sendq_item *it)
{
    zego_frame_header h = {
        .track = it->track,
        .flags = it->flags,
        .sequence = p->next_seq[it->track]++,
        .pts_us = it->pts_us,
        .dts_us = it->dts_us,
        .capture_time_us = it->capture_time_us + atomic_load(&e->clock_offset_ms) * 1000,
        .payload_size = (uint32_t)it->payload_size,
    };
    if (zego_sendq_take_discont(&p->q, it->track))
        h.flags |= ZEGO_FRAME_FLAG_DISCONT;
    zego_frame_header_write(&h, it->data);
    zego_sendq_push(&p->q, it);
}

/* With e->lock, not ready: keeps the frame in the hold (taking it) or frees
 * it.  The hold starts at a video keyframe and is emptied when it would
 * overflow. */
static void pub_hold_frame(struct publisher *p, zego_sendq_item *it)
{
    if (it->video && it->key) {
        zego_sendq_clear(&p->hold);
        p->hold_keyed = true;
    }
    if (!p->hold_keyed || p->hold.bytes + it->len > p->hold.soft_max) {
        if (p->hold_keyed)
            p->q.dropped += p->hold.count + 1;
        zego_sendq_clear(&p->hold);
        p->hold_keyed = false;
        free(it);
        return;
    }
    zego_sendq_push(&p->hold, it);
}

/* With e->lock: ends a finishing stream on its media socket with an
 * unpublish, after the frames queued before it (the server unpublishes once it
 * has read them, and closes the socket). */
static void pub_queue_end(struct publisher *p)
{
    size_t len;
    char *json = zego_msg_encode_media_end(p->stream_id, &len);
    zego_sendq_item *it = json ? zego_sendq_item_new(LWS_PRE, len) : NULL;
    if (it) {
        it->is_text = true;
        memcpy(it->data, json, len);
        zego_sendq_push(&p->q, it);
        p->end_queued = true;
    }
    free(json);
}

/* With e->lock, the socket just up: queues the held frames of the tracks the
 * stream still has (after their stream_info); have_key: the video tracks that
 * start with a held keyframe. */
static void pub_send_held(zego_engine *e, struct publisher *p, uint8_t *have_key)
{
    zego_sendq_item *it;
    while ((it = zego_sendq_pop(&p->hold))) {
        bool known = false;
        for (size_t i = 0; i < p->n_tracks && !known; i++)
            known = p->tracks[i].id == it->track;
        if (!known ||
            zego_sendq_admit(&p->q, it->track, it->video, it->key, it->len) != ZEGO_SENDQ_QUEUE) {
            free(it);
            continue;
        }
        if (it->video && it->key)
            bit_set(have_key, it->track, true);
        pub_queue_frame(e, p, it);
    }
    p->hold_keyed = false;
}

/* The publish socket is up: describe the tracks (a new generation, so that
 * players reset after a gap), then let frames in from a keyframe on. */
static void pub_established(zego_engine *e, struct publisher *p)
{
    zego_msg m;
    zego_error err;
    uint8_t have_key[32] = {0};
    pthread_mutex_lock(&e->lock);
    zego_sendq_clear(&p->q);
    p->generation++;
    zego_msg_init(&m, ZEGO_MSG_STREAM_INFO);
    snprintf(m.u.stream_info.stream_id, sizeof m.u.stream_info.stream_id, "%s", p->stream_id);
    m.u.stream_info.generation = p->generation;
    m.u.stream_info.tracks = p->tracks;
    m.u.stream_info.n_tracks = p->n_tracks;
    size_t len;
    char *json = zego_msg_encode(&m, &len, &err);
    zego_sendq_item *it = json ? zego_sendq_item_new(LWS_PRE, len) : NULL;
    if (it) {
        it->is_text = true;
        memcpy(it->data, json, len);
        zego_sendq_push(&p->q, it);
        zego_sendq_wait_key_all(&p->q);
        /* The very first frames follow nothing: no discontinuity to mark. */
        if (p->generation == 1)
            memset(p->q.discont, 0, sizeof p->q.discont);
        memset(p->want_key, 0, sizeof p->want_key);
        pub_send_held(e, p, have_key);
        p->end_queued = false;
        if (p->finishing)
            pub_queue_end(p);
        p->ready = true;
    }
    size_t n_tracks = p->n_tracks;
    zego_track_kind kinds[ZEGO_MAX_TRACKS];
    uint32_t ids[ZEGO_MAX_TRACKS];
    for (size_t i = 0; i < n_tracks; i++) {
        kinds[i] = p->tracks[i].kind;
        ids[i] = p->tracks[i].id;
    }
    pthread_mutex_unlock(&e->lock);
    free(json);
    if (!it) {
        elog(e, ZEGO_LOG_ERROR, "publish %s: cannot describe the tracks", p->stream_id);
        return;
    }
    p->step = STEP_LIVE;
    p->attempt = 0;
    lws_callback_on_writable(p->conn->wsi);
    report_publisher(e, p, ZEGO_PUBLISHER_STATE_PUBLISHING, 0);
    for (size_t i = 0; i < n_tracks; i++)
        if (kinds[i] == ZEGO_TRACK_VIDEO && !bit_get(have_key, ids[i]))
            EMIT(e, publisher_keyframe_request, p->stream_id, ids[i], ZEGO_KEYFRAME_NEW_SOCKET);
}

static int pub_writeable(zego_engine *e, struct publisher *p, struct lws *wsi)
{
    pthread_mutex_lock(&e->lock);
    zego_sendq_item *it = zego_sendq_pop(&p->q);
    bool more = p->q.head != NULL;
    pthread_mutex_unlock(&e->lock);
    if (!it)
        return 0;
    int n = lws_write(wsi, it->data, it->len, it->is_text ? LWS_WRITE_TEXT : LWS_WRITE_BINARY);
    if (n < 0) {
        free(it);
        return -1;
    }
    if (!it->is_text) {
        pthread_mutex_lock(&e->lock);
        int k = it->video ? 0 : 1;
        p->frames_sent++;
        p->bytes_sent += it->payload_size;
        p->iv_frames[k]++;
        p->iv_bytes[k] += it->payload_size;
        if (it->capture_time_us) {
            p->iv_delay_sum += (wall_us() - it->capture_time_us) / 1000;
            p->iv_delay_n++;
        }
        pthread_mutex_unlock(&e->lock);
    }
    free(it);
    if (more)
        lws_callback_on_writable(wsi);
    return 0;
}

static void pub_media_lost(zego_engine *e, struct publisher *p, const char *why)
{
    elog(e, ZEGO_LOG_WARNING, "publish %s: media socket lost: %s", p->stream_id, why);
    p->conn = NULL;
    pub_unready(e, p);
    if (p->stopped || p->step == STEP_FAILED)
        return;
    p->step = STEP_REPAIR;
    p->retry_at =
        mono_ms() + zego_backoff_delay_ms(p->attempt++, e->cfg.reconnect_backoff_initial_ms,
                                          e->cfg.reconnect_backoff_max_ms, random_u32());
    tick_at(e, p->retry_at);
    report_publisher(e, p, ZEGO_PUBLISHER_STATE_PUBLISH_REQUESTING, 0);
}

static void pub_text(zego_engine *e, struct publisher *p, const char *data, size_t len)
{
    zego_msg m;
    zego_error err;
    if (zego_msg_decode(data, len, MEDIA_TEXT_MAX, &m, &err) != ZEGO_ERR_OK) {
        elog(e, ZEGO_LOG_WARNING, "publish %s: unreadable message: %s", p->stream_id, err.message);
    } else if (m.type == ZEGO_MSG_KEYFRAME_REQUEST) {
        EMIT(e, publisher_keyframe_request, p->stream_id, m.u.keyframe_request.track,
             ZEGO_KEYFRAME_SERVER);
    } else if (m.type == ZEGO_MSG_ERROR) {
        elog(e, ZEGO_LOG_WARNING, "publish %s: server error %d: %s", p->stream_id, m.u.notice.code,
             m.u.notice.message);
    }
    zego_msg_clear(&m);
}

/* ---- Media: playing ---- */

/* How long a played stream's end waits for the play socket's marker after
 * the room said the stream went. */
#define PLAY_END_WAIT_MS 1000

/* Reports a played stream's end once per publication. */
static void player_end(zego_engine *e, struct player *p)
{
    p->end_wait = false;
    if (p->end_seen)
        return;
    p->end_seen = true;
    elog(e, ZEGO_LOG_DEBUG, "play %s: the stream ended", p->stream_id);
    if (e->shutting_down)
        return;
    pthread_mutex_lock(&e->cb_lock);
    if (p->cb_active && p->cb.end)
        p->cb.end(e, p->stream_id, p->cb.user_data);
    pthread_mutex_unlock(&e->cb_lock);
}

/* The room says a stream went: a player of it reports the end when the play
 * socket's marker comes (after the last frame), or at the latest after
 * PLAY_END_WAIT_MS. */
static void players_stream_deleted(zego_engine *e, const char *stream_id)
{
    pthread_mutex_lock(&e->lock);
    struct player *p = player_by_stream(e, stream_id);
    pthread_mutex_unlock(&e->lock);
    if (!p || p->end_seen || p->end_wait)
        return;
    p->end_wait = true;
    p->end_deadline = mono_ms() + PLAY_END_WAIT_MS;
    tick_at(e, p->end_deadline);
}

static void player_text(zego_engine *e, struct player *p, const char *data, size_t len)
{
    zego_msg m;
    zego_error err;
    if (zego_msg_decode(data, len, MEDIA_TEXT_MAX, &m, &err) != ZEGO_ERR_OK) {
        elog(e, ZEGO_LOG_WARNING, "play %s: unreadable message: %s", p->stream_id, err.message);
        zego_msg_clear(&m);
        return;
    }
    if (m.type == ZEGO_MSG_ERROR) {
        elog(e, ZEGO_LOG_WARNING, "play %s: server error %d: %s", p->stream_id, m.u.notice.code,
             m.u.notice.message);
        zego_msg_clear(&m);
        return;
    }
    if (m.type == ZEGO_MSG_UNPUBLISH) {
        zego_msg_clear(&m);
        player_end(e, p);
        return;
    }
    if (m.type != ZEGO_MSG_STREAM_INFO) {
        zego_msg_clear(&m);
        return;
    }
    /* A stream_info after an end is a new publication. */
    p->end_seen = false;
    p->end_wait = false;
    /* A new socket repeats the current stream_info: the same generation
     * needs no decoder reset. */
    bool same = p->info.type == ZEGO_MSG_STREAM_INFO &&
                p->info.u.stream_info.generation == m.u.stream_info.generation;
    if (!same) {
        zego_msg_clear(&p->info);
        p->info = m;
        memset(p->have_seq, 0, sizeof p->have_seq);
        memset(p->discont, 0, sizeof p->discont);
    } else {
        zego_msg_clear(&m);
    }
    if (p->reported != ZEGO_PLAYER_STATE_PLAYING)
        report_player(e, p, ZEGO_PLAYER_STATE_PLAYING, 0);
    if (same)
        return;
    zego_media_info mi = {
        .stream_id = p->stream_id,
        .generation = p->info.u.stream_info.generation,
        .tracks = p->info.u.stream_info.tracks,
        .n_tracks = p->info.u.stream_info.n_tracks,
    };
    elog(e, ZEGO_LOG_INFO, "play %s: generation %u, %zu tracks", p->stream_id, mi.generation,
         mi.n_tracks);
    if (e->shutting_down)
        return;
    pthread_mutex_lock(&e->cb_lock);
    if (p->cb_active && p->cb.media_info)
        p->cb.media_info(e, &mi, p->cb.user_data);
    pthread_mutex_unlock(&e->cb_lock);
}

static void player_frame(zego_engine *e, struct player *p, const uint8_t *data, size_t len)
{
    zego_frame_header h;
    const uint8_t *payload;
    zego_error err;
    if (zego_frame_parse(data, len, e->cfg.max_frame_bytes, &h, &payload, &err) != ZEGO_ERR_OK) {
        elog(e, ZEGO_LOG_WARNING, "play %s: bad frame: %s", p->stream_id, err.message);
        return;
    }
    if (p->info.type != ZEGO_MSG_STREAM_INFO) {
        elog(e, ZEGO_LOG_DEBUG, "play %s: frame before stream_info dropped", p->stream_id);
        return;
    }
    const zego_track *t = zego_stream_info_find_track(&p->info.u.stream_info, h.track);
    if (!t) {
        elog(e, ZEGO_LOG_DEBUG, "play %s: frame of unknown track %u dropped", p->stream_id,
             h.track);
        return;
    }
    uint8_t flags =
        h.flags & (ZEGO_FRAME_FLAG_KEY | ZEGO_FRAME_FLAG_CONFIG | ZEGO_FRAME_FLAG_DISCONT);
    uint32_t lost = 0;
    if (bit_get(p->have_seq, h.track)) {
        uint32_t step = h.sequence - p->last_seq[h.track];
        if (step == 0 || step > 0x80000000u)
            return; /* a frame we had: the server's cache replayed after a new socket */
        lost = zego_seq_lost(p->last_seq[h.track], h.sequence);
    }
    if (lost || bit_get(p->discont, h.track))
        flags |= ZEGO_FRAME_FLAG_DISCONT;
    bit_set(p->discont, h.track, false);
    bit_set(p->have_seq, h.track, true);
    p->last_seq[h.track] = h.sequence;

    int k = t->kind == ZEGO_TRACK_VIDEO ? 0 : 1;
    pthread_mutex_lock(&e->lock);
    p->frames++;
    p->bytes += h.payload_size;
    p->lost += lost;
    p->iv_frames[k]++;
    p->iv_bytes[k] += h.payload_size;
    p->iv_lost += lost;
    if (h.capture_time_us > 0) {
        int64_t now_server_us = wall_us() + atomic_load(&e->clock_offset_ms) * 1000;
        p->iv_delay_sum += (now_server_us - h.capture_time_us) / 1000;
        p->iv_delay_n++;
    }
    pthread_mutex_unlock(&e->lock);

    zego_media_frame f = {
        .generation = p->info.u.stream_info.generation,
        .track = h.track,
        .flags = flags,
        .sequence = h.sequence,
        .pts_us = h.pts_us,
        .dts_us = h.dts_us,
        .capture_time_us = h.capture_time_us,
        .data = payload,
        .size = h.payload_size,
    };
    if (e->shutting_down)
        return;
    pthread_mutex_lock(&e->cb_lock);
    if (p->cb_active && p->cb.frame)
        p->cb.frame(e, p->stream_id, &f, p->cb.user_data);
    pthread_mutex_unlock(&e->cb_lock);
}

static void player_media_lost(zego_engine *e, struct player *p, const char *why)
{
    elog(e, ZEGO_LOG_WARNING, "play %s: media socket lost: %s", p->stream_id, why);
    p->conn = NULL;
    memset(p->discont, 0xff, sizeof p->discont);
    if (p->stopped || p->step == STEP_FAILED)
        return;
    p->step = STEP_REPAIR;
    p->retry_at =
        mono_ms() + zego_backoff_delay_ms(p->attempt++, e->cfg.reconnect_backoff_initial_ms,
                                          e->cfg.reconnect_backoff_max_ms, random_u32());
    tick_at(e, p->retry_at);
    report_player(e, p, ZEGO_PLAYER_STATE_PLAY_REQUESTING, 0);
}

/* ---- Connection loss, for every kind ---- */

static void conn_lost(struct conn *c, const char *why)
{
    zego_engine *e = c->e;
    struct lws *wsi = c->wsi;
    if (wsi)
        lws_set_opaque_user_data(wsi, NULL);
    c->wsi = NULL;
    switch (c->kind) {
    case CONN_SIGNAL:
        if (e->sig == c) {
            e->sig = NULL;
            if (!c->established) {
                /* Back to the configured server after a failed redirect target. */
                e->connect_failed_last = true;
                snprintf(e->cur_url, sizeof e->cur_url, "%s", e->server_url);
            }
            conn_free(c);
            signal_lost(e, why, -1);
        } else {
            /* The socket of a logout: once it is gone a stopping engine is done. */
            bool closing = c->closing;
            conn_free(c);
            if (closing && e->shutting_down)
                e->quit = true;
        }
        break;
    case CONN_PUBLISH: {
        struct publisher *p = c->owner;
        conn_free(c);
        pthread_mutex_lock(&e->lock);
        bool ended = p->end_queued && p->q.head == NULL; /* the unpublish went out */
        pthread_mutex_unlock(&e->lock);
        if (p->conn == c && ended) {
            /* The server closes the socket once it has read the unpublish,
             * after every frame: the stream is unpublished, nothing more
             * to ask on the signaling socket. */
            p->known = false;
            p->conn = NULL;
            pub_unready(e, p);
            pthread_mutex_lock(&e->lock);
            p->stopped = true;
            pthread_mutex_unlock(&e->lock);
            wake(e);
        } else if (p->conn == c) {
            pub_media_lost(e, p, why);
        }
        break;
    }
    case CONN_PLAY: {
        struct player *p = c->owner;
        conn_free(c);
        if (p->conn == c)
            player_media_lost(e, p, why);
        break;
    }
    }
}

/* ---- Commands ---- */

static void replay_to_handler(zego_engine *e, struct handler_slot *s)
{
    const char *room = e->room.room_id;
    if (!e->room_active)
        return;
    if (s->h.room_state_update)
        s->h.room_state_update(e, room, e->state, e->state_reason, e->state_code, "",
                               s->h.user_data);
    if (e->n_streams && s->h.room_stream_update)
        s->h.room_stream_update(e, room, ZEGO_UPDATE_ADD, ZEGO_REASON_NONE, e->streams,
                                e->n_streams, s->h.user_data);
    if (e->room.user_update && e->n_users && s->h.room_user_update)
        s->h.room_user_update(e, room, ZEGO_UPDATE_ADD, e->users, e->n_users, s->h.user_data);
}

static void do_logout(zego_engine *e)
{
    if (!e->room_active)
        return;
    lws_sul_cancel(&e->sul_retry);
    lws_sul_cancel(&e->sul_heartbeat);
    if (e->sig && e->link == LINK_UP) {
        /* A stream stopped just before the logout is unpublished first, so
         * that the room hears it ended as unpublished, not with the user. */
        struct publisher *pubs[MAX_PUBLISHERS];
        size_t n = pubs_snapshot(e, pubs);
        for (size_t i = 0; i < n; i++) {
            if (pubs[i]->stopped && pubs[i]->known)
                stream_request(e, ZEGO_MSG_UNPUBLISH, pubs[i]->stream_id);
        }
    }
    streams_reset(e, true, 0);
    if (e->sig && e->link == LINK_UP) {
        zego_msg m;
        zego_error err;
        zego_msg_init(&m, ZEGO_MSG_LOGOUT);
        send_request(e, &m, NULL, &err);
        /* The server closes the socket after its reply.  The conn lives on
         * only to write the logout, and for 2 s at the most. */
        e->sig->closing = true;
        lws_set_timeout(e->sig->wsi, PENDING_TIMEOUT_USER_OK, 2);
        e->sig = NULL;
    } else {
        conn_close(e->sig);
        e->sig = NULL;
    }
    e->link = LINK_DOWN;
    pending_fail_all(e, ZEGO_ERR_NOT_LOGGED_IN, "logged out");
    e->room_active = false;
    e->reconnecting = false;
    e->session_id[0] = e->resume_token[0] = '\0';
    room_lists_clear(e);
    set_room_state(e, ZEGO_ROOM_STATE_DISCONNECTED, ZEGO_ROOM_REASON_LOGOUT, 0, "");
}

static void run_command(zego_engine *e, struct cmd *c)
{
    switch (c->type) {
    case CMD_LOGIN:
        if (e->room_active)
            break;
        e->room = c->msg.u.login;
        e->room_active = true;
        e->ever_connected = e->reconnecting = e->connect_failed_last = false;
        e->session_id[0] = e->resume_token[0] = '\0';
        e->attempt = e->redirects = 0;
        e->login_deadline = mono_ms() + e->cfg.login_timeout_ms;
        snprintf(e->cur_url, sizeof e->cur_url, "%s", e->server_url);
        room_lists_clear(e);
        set_room_state(e, ZEGO_ROOM_STATE_CONNECTING, ZEGO_ROOM_REASON_LOGINING, 0, "");
        signal_connect(e);
        break;
    case CMD_LOGOUT:
        do_logout(e);
        break;
    case CMD_RENEW_TOKEN:
        snprintf(e->room.token, sizeof e->room.token, "%s", c->msg.u.renew_token.token);
        if (e->link == LINK_UP) {
            zego_error err;
            struct pending info = {.app = true, .request_id = c->id, .kind = c->kind};
            if (!send_request(e, &c->msg, &info, &err))
                EMIT(e, request_result, c->id, c->kind, err.code, err.message, 0);
        } else {
            EMIT(e, request_result, c->id, c->kind, 0, "stored for the next login", 0);
        }
        break;
    case CMD_REQUEST: {
        zego_error err;
        if (c->msg.type == ZEGO_MSG_SET_STREAM_EXTRA_INFO) {
            pthread_mutex_lock(&e->lock);
            struct publisher *p = pub_by_stream(e, c->msg.u.set_stream_extra_info.stream_id);
            pthread_mutex_unlock(&e->lock);
            if (p)
                snprintf(p->extra_info, sizeof p->extra_info, "%s",
                         c->msg.u.set_stream_extra_info.extra_info);
        }
        struct pending info = {.app = true, .request_id = c->id, .kind = c->kind};
        if (e->link != LINK_UP)
            EMIT(e, request_result, c->id, c->kind, ZEGO_ERR_NOT_LOGGED_IN,
                 "the room is not connected", 0);
        else if (!send_request(e, &c->msg, &info, &err))
            EMIT(e, request_result, c->id, c->kind, err.code, err.message, 0);
        break;
    }
    case CMD_HANDLER_ADDED:
        pthread_mutex_lock(&e->cb_lock);
        for (size_t i = 0; i < MAX_HANDLERS; i++) {
            struct handler_slot *s = &e->handlers[i];
            if (s->id == c->id && !s->active) {
                s->active = true;
                if (!e->shutting_down)
                    replay_to_handler(e, s);
            }
        }
        pthread_mutex_unlock(&e->cb_lock);
        break;
    }
}

static void begin_shutdown(zego_engine *e);

/* Everything other threads asked for since the last wake. */
static void service_wake(zego_engine *e)
{
    for (;;) {
        pthread_mutex_lock(&e->lock);
        struct cmd *c = e->cmd_head;
        if (c) {
            e->cmd_head = c->next;
            if (!e->cmd_head)
                e->cmd_tail = NULL;
            e->n_cmds--;
        }
        bool stop = e->stop;
        pthread_mutex_unlock(&e->lock);
        if (!c) {
            if (stop && !e->shutting_down)
                begin_shutdown(e);
            break;
        }
        run_command(e, c);
        cmd_free(c);
    }
    reconcile(e);

    /* Frames queued and keyframes wanted by the senders. */
    struct publisher *pubs[MAX_PUBLISHERS];
    size_t n = pubs_snapshot(e, pubs);
    for (size_t i = 0; i < n; i++) {
        struct publisher *p = pubs[i];
        uint8_t want[32];
        pthread_mutex_lock(&e->lock);
        bool queued = p->q.head != NULL;
        memcpy(want, p->want_key, sizeof want);
        memset(p->want_key, 0, sizeof p->want_key);
        pthread_mutex_unlock(&e->lock);
        if (queued && p->conn && p->conn->established)
            lws_callback_on_writable(p->conn->wsi);
        for (unsigned t = 0; t < 256; t++)
            if (bit_get(want, (uint8_t)t))
                EMIT(e, publisher_keyframe_request, p->stream_id, t, ZEGO_KEYFRAME_QUEUE_FULL);
    }
}

/* ---- Timers ---- */

static void quit_cb(lws_sorted_usec_list_t *sul)
{
    zego_engine *e = lws_container_of(sul, zego_engine, sul_quit);
    e->quit = true;
}

static void begin_shutdown(zego_engine *e)
{
    bool drain = e->room_active && e->link == LINK_UP;
    do_logout(e);
    e->shutting_down = true;
    lws_sul_cancel(&e->sul_tick);
    lws_sul_cancel(&e->sul_quality);
    if (drain)
        lws_sul_schedule(e->ctx, 0, &e->sul_quit, quit_cb, (lws_usec_t)DRAIN_MS * 1000);
    else
        e->quit = true;
}

static void tick_cb(lws_sorted_usec_list_t *sul)
{
    zego_engine *e = lws_container_of(sul, zego_engine, sul_tick);
    int64_t now = mono_ms();
    if (e->room_active) {
        if (!e->ever_connected && now >= e->login_deadline) {
            room_fail(e, ZEGO_ROOM_REASON_LOGIN_FAILED,
                      e->connect_failed_last ? ZEGO_ERR_CONNECT_FAILED : ZEGO_ERR_LOGIN_TIMEOUT,
                      "the login did not complete in time");
        } else if (e->reconnecting && now >= e->give_up_at) {
            room_fail(e, ZEGO_ROOM_REASON_RECONNECT_FAILED, ZEGO_ERR_RECONNECT_FAILED,
                      "reconnecting gave up");
        } else if (e->sig) {
            bool timed_out = false;
            for (size_t i = 0; i < MAX_PENDING; i++)
                if (e->pending[i].seq && now >= e->pending[i].deadline)
                    timed_out = true;
            bool silent = e->link == LINK_UP && now - e->last_rx > 3 * (int64_t)e->heartbeat_ms;
            bool stuck = e->link == LINK_CONNECTING && e->sig && !e->sig->established &&
                         now - e->last_rx > (int64_t)e->cfg.request_timeout_ms;
            if (timed_out || silent || stuck)
                signal_drop(e,
                            timed_out ? "a request got no reply in time"
                            : silent  ? "the server went silent"
                                      : "connecting took too long",
                            -1);
        }
        reconcile(e);
    }
    /* Next: in a second, or at the nearest deadline. */
    int64_t next = now + TICK_MS;
    if (e->room_active && !e->ever_connected)
        next = earlier(next, e->login_deadline);
    if (e->room_active && e->reconnecting)
        next = earlier(next, e->give_up_at);
    for (size_t i = 0; i < MAX_PENDING; i++)
        if (e->pending[i].seq)
            next = earlier(next, e->pending[i].deadline);
    struct publisher *pubs[MAX_PUBLISHERS];
    size_t n = pubs_snapshot(e, pubs);
    for (size_t i = 0; i < n; i++)
        if (pubs[i]->step == STEP_REPAIR)
            next = earlier(next, pubs[i]->retry_at);
    struct player *pls[MAX_PLAYERS];
    n = players_snapshot(e, pls);
    for (size_t i = 0; i < n; i++)
        if (pls[i]->step == STEP_REPAIR)
            next = earlier(next, pls[i]->retry_at);
    e->tick_at_ms = 0;
    tick_at(e, next);
}

static double per_second(uint64_t n, uint32_t ms)
{
    return ms ? (double)n * 1000.0 / ms : 0;
}

static void quality_cb(lws_sorted_usec_list_t *sul)
{
    zego_engine *e = lws_container_of(sul, zego_engine, sul_quality);
    uint32_t iv = e->cfg.quality_interval_ms;
    int64_t rtt = e->clock.last_rtt_ms;

    struct publisher *pubs[MAX_PUBLISHERS];
    size_t n = pubs_snapshot(e, pubs);
    for (size_t i = 0; i < n; i++) {
        struct publisher *p = pubs[i];
        if (p->stopped || p->reported == ZEGO_PUBLISHER_STATE_NO_PUBLISH)
            continue;
        zego_publish_stats s;
        pthread_mutex_lock(&e->lock);
        memset(&s, 0, sizeof s);
        s.video_fps = per_second(p->iv_frames[0], iv);
        s.audio_fps = per_second(p->iv_frames[1], iv);
        s.video_kbps = per_second(p->iv_bytes[0] * 8, iv) / 1000.0;
        s.audio_kbps = per_second(p->iv_bytes[1] * 8, iv) / 1000.0;
        s.rtt_ms = (uint32_t)rtt;
        s.delay_ms = p->iv_delay_n ? p->iv_delay_sum / p->iv_delay_n : 0;
        s.frames_sent = p->frames_sent;
        s.bytes_sent = p->bytes_sent;
        s.frames_dropped = p->q.dropped;
        s.interval_dropped = (uint32_t)(p->q.dropped - p->dropped_at_tick);
        s.queued_bytes = p->q.bytes;
        uint64_t total = p->iv_frames[0] + p->iv_frames[1] + s.interval_dropped;
        s.quality = zego_quality_level_compute(p->ready, rtt,
                                               total ? (double)s.interval_dropped / total : 0,
                                               p->iv_delay_n ? s.delay_ms : -1);
        p->dropped_at_tick = p->q.dropped;
        memset(p->iv_frames, 0, sizeof p->iv_frames);
        memset(p->iv_bytes, 0, sizeof p->iv_bytes);
        p->iv_delay_sum = 0;
        p->iv_delay_n = 0;
        p->snap = s;
        pthread_mutex_unlock(&e->lock);
        EMIT(e, publisher_quality_update, p->stream_id, &s);
    }

    struct player *pls[MAX_PLAYERS];
    n = players_snapshot(e, pls);
    for (size_t i = 0; i < n; i++) {
        struct player *p = pls[i];
        if (p->stopped || p->reported == ZEGO_PLAYER_STATE_NO_PLAY)
            continue;
        zego_play_stats s;
        pthread_mutex_lock(&e->lock);
        memset(&s, 0, sizeof s);
        s.video_fps = per_second(p->iv_frames[0], iv);
        s.audio_fps = per_second(p->iv_frames[1], iv);
        s.video_kbps = per_second(p->iv_bytes[0] * 8, iv) / 1000.0;
        s.audio_kbps = per_second(p->iv_bytes[1] * 8, iv) / 1000.0;
        s.rtt_ms = (uint32_t)rtt;
        s.delay_ms = p->iv_delay_n ? p->iv_delay_sum / p->iv_delay_n : 0;
        s.frames_received = p->frames;
        s.bytes_received = p->bytes;
        s.frames_lost = p->lost;
        s.interval_lost = p->iv_lost;
        uint64_t total = p->iv_frames[0] + p->iv_frames[1] + p->iv_lost;
        s.quality = zego_quality_level_compute(p->step == STEP_LIVE, rtt,
                                               total ? (double)p->iv_lost / total : 0,
                                               p->iv_delay_n ? s.delay_ms : -1);
        memset(p->iv_frames, 0, sizeof p->iv_frames);
        memset(p->iv_bytes, 0, sizeof p->iv_bytes);
        p->iv_lost = 0;
        p->iv_delay_sum = 0;
        p->iv_delay_n = 0;
        p->snap = s;
        pthread_mutex_unlock(&e->lock);
        EMIT(e, player_quality_update, p->stream_id, &s);
    }
    lws_sul_schedule(e->ctx, 0, &e->sul_quality, quality_cb, (lws_usec_t)iv * 1000);
}

/* ---- lws callbacks ---- */

static int callback_common(struct lws *wsi, enum lws_callback_reasons reason, void *in, size_t len)
{
    zego_engine *e = lws_context_user(lws_get_context(wsi));
    if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED) {
        if (e)
            service_wake(e);
        return 0;
    }
    struct conn *c = lws_get_opaque_user_data(wsi);
    if (!c) {
        /* Closing on our side; the logout socket is the one kept alive. */
        return 0;
    }
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
        char why[200];
        snprintf(why, sizeof why, "%s", in ? (const char *)in : "connection failed");
        if (c->in_connect) {
            c->sync_failed = true;
            lws_set_opaque_user_data(wsi, NULL);
            return 0;
        }
        c->wsi = wsi;
        conn_lost(c, why);
        return 0;
    }
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        c->established = true;
        if (c->kind == CONN_SIGNAL && e->sig == c)
            signal_established(e);
        else if (c->kind == CONN_PUBLISH && ((struct publisher *)c->owner)->conn == c)
            pub_established(e, c->owner);
        else if (c->kind == CONN_PLAY && ((struct player *)c->owner)->conn == c) {
            struct player *p = c->owner;
            p->step = STEP_LIVE;
            p->attempt = 0;
            elog(e, ZEGO_LOG_DEBUG, "play %s: media socket open", p->stream_id);
        }
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE: {
        bool complete;
        if (conn_rx(c, wsi, in, len, &complete) != 0) {
            elog(e, ZEGO_LOG_WARNING, "message over %zu bytes from the server; closing", c->rx_max);
            return -1;
        }
        if (!complete)
            return 0;
        if (c->kind == CONN_SIGNAL) {
            if (e->sig == c && !c->rx_binary)
                on_signal_message(e, (const char *)c->rx, c->rx_len);
        } else if (c->kind == CONN_PUBLISH) {
            if (!c->rx_binary)
                pub_text(e, c->owner, (const char *)c->rx, c->rx_len);
        } else {
            if (c->rx_binary)
                player_frame(e, c->owner, c->rx, c->rx_len);
            else
                player_text(e, c->owner, (const char *)c->rx, c->rx_len);
        }
        return 0;
    }
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (c->kind == CONN_SIGNAL) {
            zego_sendq_item *it = zego_sendq_pop(&c->out);
            if (!it)
                return 0;
            int n = lws_write(wsi, it->data, it->len, LWS_WRITE_TEXT);
            free(it);
            if (n < 0)
                return -1;
            if (c->out.head)
                lws_callback_on_writable(wsi);
            return 0;
        }
        if (c->kind == CONN_PUBLISH)
            return pub_writeable(e, c->owner, wsi);
        return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
        c->wsi = wsi;
        conn_lost(c, reason == LWS_CALLBACK_CLIENT_CLOSED ? "closed" : "destroyed");
        return 0;
    default:
        return 0;
    }
}

static int callback_signal(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                           size_t len)
{
    (void)user;
    return callback_common(wsi, reason, in, len);
}

/* The media protocols leave wake-ups to the signaling one: lws delivers
 * EVENT_WAIT_CANCELLED to every protocol. */
static int callback_media(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                          size_t len)
{
    (void)user;
    if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED)
        return 0;
    return callback_common(wsi, reason, in, len);
}

/* ---- The thread ---- */

static void *engine_thread(void *arg)
{
    zego_engine *e = arg;
    current_engine = e;
    tick_at(e, mono_ms() + TICK_MS);
    if (e->cfg.quality_interval_ms)
        lws_sul_schedule(e->ctx, 0, &e->sul_quality, quality_cb,
                         (lws_usec_t)e->cfg.quality_interval_ms * 1000);
    service_wake(e); /* commands posted before the thread ran */
    while (!e->quit)
        if (lws_service(e->ctx, 0) < 0)
            break;
    e->shutting_down = true;
    /* Detach every socket first, so that the context's teardown calls back
     * into nothing. */
    conn_close(e->sig);
    e->sig = NULL;
    struct publisher *pubs[MAX_PUBLISHERS];
    size_t n = pubs_snapshot(e, pubs);
    for (size_t i = 0; i < n; i++) {
        conn_close(pubs[i]->conn);
        pubs[i]->conn = NULL;
    }
    struct player *pls[MAX_PLAYERS];
    n = players_snapshot(e, pls);
    for (size_t i = 0; i < n; i++) {
        conn_close(pls[i]->conn);
        pls[i]->conn = NULL;
    }
    pthread_mutex_lock(&e->lock);
    e->ctx_alive = false;
    pthread_mutex_unlock(&e->lock);
    lws_context_destroy(e->ctx);
    e->ctx = NULL;
    current_engine = NULL;
    return NULL;
}

/* ---- Public API ---- */

void zego_engine_config_init(zego_engine_config *config)
{
    memset(config, 0, sizeof *config);
    config->tls_verify = true;
    config->log_level = ZEGO_LOG_INFO;
    config->reconnect_backoff_initial_ms = 500;
    config->reconnect_backoff_max_ms = 10000;
    config->reconnect_give_up_ms = 20 * 60 * 1000;
    config->login_timeout_ms = 20000;
    config->request_timeout_ms = 10000;
    config->quality_interval_ms = 3000;
    config->send_queue_max_bytes = 8u * 1024 * 1024;
    config->max_frame_bytes = ZEGO_FRAME_PAYLOAD_DEFAULT_MAX;
}

static void engine_free(zego_engine *e)
{
    struct cmd *c = e->cmd_head;
    while (c) {
        struct cmd *next = c->next;
        cmd_free(c);
        c = next;
    }
    for (size_t i = 0; i < e->n_pubs; i++)
        pub_free(e->pubs[i]);
    for (size_t i = 0; i < e->n_players; i++)
        player_free(e->players[i]);
    room_lists_clear(e);
    pthread_mutex_destroy(&e->lock);
    pthread_mutex_destroy(&e->lists_lock);
    pthread_mutex_destroy(&e->cb_lock);
    free(e->server_url);
    free(e->ca_file);
    free(e);
}

zego_engine *zego_engine_create(const zego_engine_config *config, zego_error *err)
{
    if (!config)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "config is NULL"), NULL;
    zego_url url;
    if (zego_url_parse(config->server_url, &url, err) != ZEGO_ERR_OK)
        return NULL;
    if (strlen(config->server_url) >= ZEGO_URL_SIZE)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "server URL is too long"), NULL;
    if (config->max_frame_bytes == 0 ||
        config->max_frame_bytes > ZEGO_FRAME_PAYLOAD_DEFAULT_MAX * 16 ||
        config->send_queue_max_bytes < config->max_frame_bytes / 4 ||
        config->request_timeout_ms == 0 || config->login_timeout_ms == 0)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT,
                              "max_frame_bytes, send_queue_max_bytes or a timeout is out of "
                              "range (was the config made with zego_engine_config_init?)"),
               NULL;

    zego_engine *e = calloc(1, sizeof *e);
    if (!e)
        return zego_error_set(err, ZEGO_ERR_INTERNAL, "out of memory"), NULL;
    e->cfg = *config;
    if (!e->cfg.reconnect_backoff_initial_ms)
        e->cfg.reconnect_backoff_initial_ms = 1;
    if (e->cfg.reconnect_backoff_max_ms < e->cfg.reconnect_backoff_initial_ms)
        e->cfg.reconnect_backoff_max_ms = e->cfg.reconnect_backoff_initial_ms;
    e->server_url = strdup(config->server_url);
    e->ca_file = config->tls_ca_file ? strdup(config->tls_ca_file) : NULL;
    e->cfg.server_url = e->server_url;
    e->cfg.tls_ca_file = e->ca_file;
    pthread_mutex_init(&e->lock, NULL);
    pthread_mutex_init(&e->lists_lock, NULL);
    pthread_mutex_init(&e->cb_lock, NULL);
    atomic_init(&e->public_state, ZEGO_ROOM_STATE_DISCONNECTED);
    atomic_init(&e->clock_offset_ms, 0);
    atomic_init(&e->next_request_id, 1);
    e->next_handler_id = 1;
    zego_clock_init(&e->clock);
    if (!e->server_url || (config->tls_ca_file && !e->ca_file)) {
        engine_free(e);
        return zego_error_set(err, ZEGO_ERR_INTERNAL, "out of memory"), NULL;
    }

    pthread_once(&lws_log_once, lws_log_setup);
    engines_register(e, true);

    size_t media_rx = RX_CHUNK;
    e->protocols[0] = (struct lws_protocols){.name = ZEGO_SUBPROTOCOL_SIGNALING,
                                             .callback = callback_signal,
                                             .rx_buffer_size = RX_CHUNK};
    e->protocols[1] = (struct lws_protocols){.name = ZEGO_SUBPROTOCOL_PUBLISH,
                                             .callback = callback_media,
                                             .rx_buffer_size = media_rx,
                                             .tx_packet_size = e->cfg.max_frame_bytes + 64};
    e->protocols[2] = (struct lws_protocols){
        .name = ZEGO_SUBPROTOCOL_PLAY, .callback = callback_media, .rx_buffer_size = media_rx};

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = e->protocols;
    info.user = e;
    info.gid = -1;
    info.uid = -1;
    /* lws 4.1 makes its client TLS context only with this option, but then
     * leaks OpenSSL state when several such contexts live at once: ask for
     * it only when the server is reached over TLS. */
    info.options = url.tls ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0;
    info.client_ssl_ca_filepath = e->ca_file;
    e->ctx = lws_create_context(&info);
    if (!e->ctx) {
        engines_register(e, false);
        engine_free(e);
        return zego_error_set(err, ZEGO_ERR_INTERNAL, "could not create the network context"), NULL;
    }
    e->ctx_alive = true;
    if (pthread_create(&e->thread, NULL, engine_thread, e) != 0) {
        lws_context_destroy(e->ctx);
        engines_register(e, false);
        engine_free(e);
        return zego_error_set(err, ZEGO_ERR_INTERNAL, "could not start the engine thread"), NULL;
    }
    elog(e, ZEGO_LOG_DEBUG, "engine created for %s, app %" PRIu32, e->server_url, e->cfg.app_id);
    zego_error_clear(err);
    return e;
}

void zego_engine_destroy(zego_engine *e)
{
    if (!e)
        return;
    if (on_engine_thread(e)) {
        elog(e, ZEGO_LOG_ERROR, "zego_engine_destroy called from a callback; ignored");
        return;
    }
    pthread_mutex_lock(&e->lock);
    e->stop = true;
    if (e->ctx_alive)
        lws_cancel_service(e->ctx);
    pthread_mutex_unlock(&e->lock);

    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += JOIN_TIMEOUT_S;
    int rc = pthread_timedjoin_np(e->thread, NULL, &deadline);
    engines_register(e, false);
    if (rc != 0) {
        /* A callback that blocks holds the thread: better to leak the engine
         * than to free what it still uses. */
        elog(e, ZEGO_LOG_ERROR, "engine thread did not stop in %d s; leaking it", JOIN_TIMEOUT_S);
        pthread_detach(e->thread);
        return;
    }
    engine_free(e);
}

uint32_t zego_engine_add_handler(zego_engine *e, const zego_event_handler *handler, zego_error *err)
{
    if (!e || !handler)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "engine or handler is NULL"), 0;
    struct cmd *c = cmd_new(CMD_HANDLER_ADDED, ZEGO_MSG_NONE);
    if (!c)
        return zego_error_set(err, ZEGO_ERR_INTERNAL, "out of memory"), 0;
    uint32_t id = 0;
    cb_lock(e);
    for (size_t i = 0; i < MAX_HANDLERS; i++) {
        struct handler_slot *s = &e->handlers[i];
        if (s->id == 0) {
            id = e->next_handler_id++;
            if (e->next_handler_id == 0)
                e->next_handler_id = 1;
            s->id = id;
            s->active = false;
            s->h = *handler;
            break;
        }
    }
    cb_unlock(e);
    if (!id) {
        cmd_free(c);
        return zego_error_set(err, ZEGO_ERR_PROTOCOL_OUT_OF_RANGE, "at most %d handlers",
                              MAX_HANDLERS),
               0;
    }
    c->id = id;
    if (cmd_post(e, c, err) != ZEGO_ERR_OK) {
        zego_engine_remove_handler(e, id);
        return 0;
    }
    return id;
}

int zego_engine_remove_handler(zego_engine *e, uint32_t handler_id)
{
    if (!e || !handler_id)
        return ZEGO_ERR_INVALID_ARGUMENT;
    int rc = ZEGO_ERR_INVALID_ARGUMENT;
    cb_lock(e);
    for (size_t i = 0; i < MAX_HANDLERS; i++) {
        if (e->handlers[i].id == handler_id) {
            memset(&e->handlers[i], 0, sizeof e->handlers[i]);
            rc = ZEGO_ERR_OK;
        }
    }
    cb_unlock(e);
    return rc;
}

static int copy_text(char *dst, size_t size, const char *src)
{
    if (!src)
        src = "";
    size_t n = strlen(src);
    if (n >= size)
        return -1;
    memcpy(dst, src, n + 1);
    return 0;
}

int zego_engine_login_room(zego_engine *e, const zego_room_config *room, zego_error *err)
{
    if (!e || !room)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "engine or room is NULL");
    int rc;
    if ((rc = zego_validate_room_id(room->room_id, err)) != ZEGO_ERR_OK ||
        (rc = zego_validate_user_id(room->user_id, err)) != ZEGO_ERR_OK ||
        (rc = zego_validate_user_name(room->user_name ? room->user_name : "", err)) != ZEGO_ERR_OK)
        return rc;
    const char *token = room->token ? room->token : "";
    if (strlen(token) > ZEGO_TOKEN04_MAX_LEN)
        return zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED, "token is longer than %d bytes",
                              ZEGO_TOKEN04_MAX_LEN);
    struct cmd *c = cmd_new(CMD_LOGIN, ZEGO_MSG_LOGIN);
    if (!c)
        return zego_error_set(err, ZEGO_ERR_INTERNAL, "out of memory");
    zego_login_req *l = &c->msg.u.login;
    l->version = ZEGO_PROTOCOL_VERSION;
    l->app_id = e->cfg.app_id;
    copy_text(l->room_id, sizeof l->room_id, room->room_id);
    copy_text(l->user_id, sizeof l->user_id, room->user_id);
    copy_text(l->user_name, sizeof l->user_name, room->user_name);
    copy_text(l->token, sizeof l->token, token);
    l->user_update = room->user_update;
    l->max_member_count = room->max_member_count;

    pthread_mutex_lock(&e->lock);
    if (e->room_wanted) {
        pthread_mutex_unlock(&e->lock);
        cmd_free(c);
        return zego_error_set(err, ZEGO_ERR_PROTOCOL_BAD_STATE,
                              "already logged into a room; log out first");
    }
    e->room_wanted = true;
    copy_text(e->user_id, sizeof e->user_id, room->user_id);
    pthread_mutex_unlock(&e->lock);
    rc = cmd_post(e, c, err);
    if (rc != ZEGO_ERR_OK) {
        pthread_mutex_lock(&e->lock);
        e->room_wanted = false;
        pthread_mutex_unlock(&e->lock);
    }
    return rc;
}

int zego_engine_logout_room(zego_engine *e, zego_error *err)
{
    if (!e)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "engine is NULL");
    pthread_mutex_lock(&e->lock);
    bool wanted = e->room_wanted;
    e->room_wanted = false;
    pthread_mutex_unlock(&e->lock);
    if (!wanted)
        return zego_error_set(err, ZEGO_ERR_NOT_LOGGED_IN, "not logged into a room");
    struct cmd *c = cmd_new(CMD_LOGOUT, ZEGO_MSG_NONE);
    if (!c)
        return zego_error_set(err, ZEGO_ERR_INTERNAL, "out of memory");
    return cmd_post(e, c, err);
}

static uint32_t new_request_id(zego_engine *e)
{
    uint32_t id = atomic_fetch_add(&e->next_request_id, 1);
    return id ? id : atomic_fetch_add(&e->next_request_id, 1);
}

int zego_engine_renew_token(zego_engine *e, const char *token, uint32_t *request_id,
                            zego_error *err)
{
    if (!e || !token || !*token)
        return zego_error_set(err, ZEGO_ERR_TOKEN_MISSING, "token is empty");
    if (strlen(token) > ZEGO_TOKEN04_MAX_LEN)
        return zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED, "token is longer than %d bytes",
                              ZEGO_TOKEN04_MAX_LEN);
    struct cmd *c = cmd_new(CMD_RENEW_TOKEN, ZEGO_MSG_RENEW_TOKEN);
    if (!c)
        return zego_error_set(err, ZEGO_ERR_INTERNAL, "out of memory");
    copy_text(c->msg.u.renew_token.token, sizeof c->msg.u.renew_token.token, token);
    c->id = new_request_id(e);
    c->kind = ZEGO_REQUEST_RENEW_TOKEN;
    if (request_id)
        *request_id = c->id;
    return cmd_post(e, c, err);
}

/* Checks tracks as a stream_info would be checked on the wire. */
static int check_tracks(const char *stream_id, const zego_track *tracks, size_t n, zego_error *err)
{
    if (!tracks || n == 0 || n > ZEGO_MAX_TRACKS)
        return zego_error_set(err, ZEGO_ERR_PROTOCOL_OUT_OF_RANGE,
                              "a stream has 1 to %d tracks, not %zu", ZEGO_MAX_TRACKS, n);
    zego_msg m;
    zego_msg_init(&m, ZEGO_MSG_STREAM_INFO);
    copy_text(m.u.stream_info.stream_id, sizeof m.u.stream_info.stream_id, stream_id);
    m.u.stream_info.generation = 1;
    m.u.stream_info.tracks = (zego_track *)tracks;
    m.u.stream_info.n_tracks = n;
    char *json = zego_msg_encode(&m, NULL, err);
    if (!json)
        return err ? err->code : ZEGO_ERR_STREAM_INFO_INVALID;
    free(json);
    return ZEGO_ERR_OK;
}

int zego_engine_start_publishing(zego_engine *e, const zego_publish_config *config, zego_error *err)
{
    if (!e || !config)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "engine or config is NULL");
    int rc;
    if ((rc = zego_validate_stream_id(config->stream_id, err)) != ZEGO_ERR_OK ||
        (rc = zego_validate_extra_info(config->extra_info ? config->extra_info : "", err)) !=
            ZEGO_ERR_OK ||
        (rc = check_tracks(config->stream_id, config->tracks, config->n_tracks, err)) !=
            ZEGO_ERR_OK)
        return rc;
    struct publisher *p = calloc(1, sizeof *p);
    if (!p)
        return zego_error_set(err, ZEGO_ERR_INTERNAL, "out of memory");
    copy_text(p->stream_id, sizeof p->stream_id, config->stream_id);
    copy_text(p->extra_info, sizeof p->extra_info, config->extra_info);
    memcpy(p->tracks, config->tracks, config->n_tracks * sizeof *p->tracks);
    p->n_tracks = config->n_tracks;
    zego_sendq_init(&p->q, e->cfg.send_queue_max_bytes);
    zego_sendq_init(&p->hold, e->cfg.send_queue_max_bytes);

    pthread_mutex_lock(&e->lock);
    if (pub_by_stream(e, p->stream_id))
        rc = zego_error_set(err, ZEGO_ERR_PROTOCOL_BAD_STATE, "stream '%s' is already published",
                            p->stream_id);
    else if (e->n_pubs >= MAX_PUBLISHERS)
        rc = zego_error_set(err, ZEGO_ERR_PROTOCOL_OUT_OF_RANGE,
                            "an engine publishes at most %d streams", MAX_PUBLISHERS);
    else
        e->pubs[e->n_pubs++] = p;
    pthread_mutex_unlock(&e->lock);
    if (rc != ZEGO_ERR_OK) {
        pub_free(p);
        return rc;
    }
    wake(e);
    zego_error_clear(err);
    return ZEGO_ERR_OK;
}

int zego_engine_update_tracks(zego_engine *e, const char *stream_id, const zego_track *tracks,
                              size_t n_tracks, zego_error *err)
{
    if (!e)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "engine is NULL");
    int rc;
    if ((rc = zego_validate_stream_id(stream_id, err)) != ZEGO_ERR_OK ||
        (rc = check_tracks(stream_id, tracks, n_tracks, err)) != ZEGO_ERR_OK)
        return rc;
    pthread_mutex_lock(&e->lock);
    struct publisher *p = pub_by_stream(e, stream_id);
    if (!p) {
        pthread_mutex_unlock(&e->lock);
        return zego_error_set(err, ZEGO_ERR_STREAM_NOT_FOUND, "stream '%s' is not published",
                              stream_id);
    }
    memcpy(p->tracks, tracks, n_tracks * sizeof *tracks);
    p->n_tracks = n_tracks;
    rc = ZEGO_ERR_OK;
    if (p->ready) {
        /* Frames already queued keep their generation; what follows is the new one. */
        p->generation++;
        zego_msg m;
        zego_msg_init(&m, ZEGO_MSG_STREAM_INFO);
        copy_text(m.u.stream_info.stream_id, sizeof m.u.stream_info.stream_id, stream_id);
        m.u.stream_info.generation = p->generation;
        m.u.stream_info.tracks = p->tracks;
        m.u.stream_info.n_tracks = p->n_tracks;
        size_t len;
        char *json = zego_msg_encode(&m, &len, err);
        zego_sendq_item *it = json ? zego_sendq_item_new(LWS_PRE, len) : NULL;
        if (!it || p->q.bytes + len > p->q.hard_max) {
            rc = zego_error_set(err, ZEGO_ERR_RATE_LIMITED, "the send queue is full");
            free(it);
        } else {
            it->is_text = true;
            memcpy(it->data, json, len);
            zego_sendq_push(&p->q, it);
            zego_sendq_wait_key_all(&p->q);
        }
        free(json);
    }
    pthread_mutex_unlock(&e->lock);
    if (rc == ZEGO_ERR_OK) {
        wake(e);
        zego_error_clear(err);
    }
    return rc;
}

int zego_engine_stop_publishing(zego_engine *e, const char *stream_id, zego_error *err)
{
    if (!e || !stream_id)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "engine or stream id is NULL");
    pthread_mutex_lock(&e->lock);
    struct publisher *p = pub_by_stream(e, stream_id);
    if (p) {
        p->stopped = true;
        p->ready = false;
        zego_sendq_clear(&p->q);
        zego_sendq_clear(&p->hold);
        p->hold_keyed = false;
    }
    pthread_mutex_unlock(&e->lock);
    if (p)
        wake(e);
    zego_error_clear(err);
    return ZEGO_ERR_OK;
}

int zego_engine_finish_publishing(zego_engine *e, const char *stream_id, uint32_t timeout_ms,
                                  zego_error *err)
{
    if (!e || !stream_id)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "engine or stream id is NULL");
    pthread_mutex_lock(&e->lock);
    struct publisher *p = pub_by_stream(e, stream_id);
    if (p && !p->finishing) {
        p->finishing = true;
        p->finish_deadline = mono_ms() + timeout_ms;
        if (p->ready)
            pub_queue_end(p);
    }
    pthread_mutex_unlock(&e->lock);
    if (p)
        wake(e);
    zego_error_clear(err);
    return ZEGO_ERR_OK;
}

int zego_engine_send_frame(zego_engine *e, const char *stream_id, const zego_media_frame *frame,
                           zego_error *err)
{
    if (!e || !stream_id || !frame || (!frame->data && frame->size))
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "engine, stream id or frame is NULL");
    if (frame->size == 0)
        return zego_error_set(err, ZEGO_ERR_FRAME_MALFORMED, "frame payload is empty");
    if (frame->size > e->cfg.max_frame_bytes)
        return zego_error_set(err, ZEGO_ERR_FRAME_TOO_LARGE,
                              "frame payload is %zu bytes; the limit is %zu", frame->size,
                              e->cfg.max_frame_bytes);
    /* Copy before taking the lock: the engine thread waits on it. */
    zego_sendq_item *it = zego_sendq_item_new(LWS_PRE, ZEGO_FRAME_HEADER_SIZE + frame->size);
    if (!it)
        return zego_error_set(err, ZEGO_ERR_INTERNAL, "out of memory");
    memcpy(it->data + ZEGO_FRAME_HEADER_SIZE, frame->data, frame->size);
    int64_t local_capture = frame->capture_time_us ? frame->capture_time_us : wall_us();

    int rc = ZEGO_ERR_OK;
    bool wake_needed = false;
    pthread_mutex_lock(&e->lock);
    struct publisher *p = pub_by_stream(e, stream_id);
    const zego_track *t = NULL;
    if (!p) {
        rc = zego_error_set(err, ZEGO_ERR_STREAM_NOT_FOUND, "stream '%s' is not published",
                            stream_id);
        goto unlock;
    }
    if (p->finishing) {
        rc = zego_error_set(err, ZEGO_ERR_STREAM_NOT_FOUND,
                            "stream '%s' is finishing: it takes no more frames", stream_id);
        goto unlock;
    }
    if (p->failed_code) {
        rc = zego_error_set(err, p->failed_code, "publishing '%s' failed with %s", stream_id,
                            zego_error_name(p->failed_code) ? zego_error_name(p->failed_code)
                                                            : "an error");
        goto unlock;
    }
    for (size_t i = 0; i < p->n_tracks && !t; i++)
        if (p->tracks[i].id == frame->track)
            t = &p->tracks[i];
    if (!t) {
        rc = zego_error_set(err, ZEGO_ERR_FRAME_UNKNOWN_TRACK, "stream '%s' has no track %u",
                            stream_id, frame->track);
        goto unlock;
    }
    bool video = t->kind == ZEGO_TRACK_VIDEO;
    bool key = frame->flags & ZEGO_FRAME_FLAG_KEY;
    it->video = video;
    it->key = key;
    it->track = frame->track;
    it->capture_time_us = local_capture;
    it->payload_size = frame->size;
    it->pts_us = frame->pts_us;
    it->dts_us = frame->dts_us;
    it->flags =
        frame->flags & (ZEGO_FRAME_FLAG_KEY | ZEGO_FRAME_FLAG_CONFIG | ZEGO_FRAME_FLAG_DISCONT);
    if (!p->ready) {
        /* Not publishing yet, or repairing the socket. */
        pub_hold_frame(p, it);
        it = NULL;
        goto unlock;
    }
    zego_sendq_verdict v = zego_sendq_admit(&p->q, frame->track, video, key, it->len);
    if (v == ZEGO_SENDQ_DROP_WANT_KEY) {
        bit_set(p->want_key, frame->track, true);
        wake_needed = true;
    }
    if (v != ZEGO_SENDQ_QUEUE)
        goto unlock;
    wake_needed = wake_needed || p->q.head == NULL;
    pub_queue_frame(e, p, it);
    it = NULL;
unlock:
    if (wake_needed && e->ctx_alive)
        lws_cancel_service(e->ctx);
    pthread_mutex_unlock(&e->lock);
    free(it);
    if (rc == ZEGO_ERR_OK)
        zego_error_clear(err);
    return rc;
}

int zego_engine_start_playing(zego_engine *e, const char *stream_id,
                              const zego_player_callbacks *callbacks, zego_error *err)
{
    if (!e || !callbacks)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "engine or callbacks is NULL");
    int rc = zego_validate_stream_id(stream_id, err);
    if (rc != ZEGO_ERR_OK)
        return rc;
    struct player *p = calloc(1, sizeof *p);
    if (!p)
        return zego_error_set(err, ZEGO_ERR_INTERNAL, "out of memory");
    copy_text(p->stream_id, sizeof p->stream_id, stream_id);
    p->cb = *callbacks;
    p->cb_active = true;
    zego_msg_init(&p->info, ZEGO_MSG_NONE);
    pthread_mutex_lock(&e->lock);
    if (player_by_stream(e, stream_id))
        rc = zego_error_set(err, ZEGO_ERR_PROTOCOL_BAD_STATE, "stream '%s' is already played",
                            stream_id);
    else if (e->n_players >= MAX_PLAYERS)
        rc = zego_error_set(err, ZEGO_ERR_PROTOCOL_OUT_OF_RANGE,
                            "an engine plays at most %d streams", MAX_PLAYERS);
    else
        e->players[e->n_players++] = p;
    pthread_mutex_unlock(&e->lock);
    if (rc != ZEGO_ERR_OK) {
        player_free(p);
        return rc;
    }
    wake(e);
    zego_error_clear(err);
    return ZEGO_ERR_OK;
}

int zego_engine_stop_playing(zego_engine *e, const char *stream_id, zego_error *err)
{
    if (!e || !stream_id)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "engine or stream id is NULL");
    /* Under cb_lock: a frame callback running now finishes first, and none
     * starts after. */
    cb_lock(e);
    pthread_mutex_lock(&e->lock);
    struct player *p = player_by_stream(e, stream_id);
    if (p) {
        p->stopped = true;
        p->cb_active = false;
    }
    pthread_mutex_unlock(&e->lock);
    cb_unlock(e);
    if (p)
        wake(e);
    zego_error_clear(err);
    return ZEGO_ERR_OK;
}

static int post_request(zego_engine *e, struct cmd *c, zego_request_kind kind, uint32_t *request_id,
                        zego_error *err)
{
    if (atomic_load(&e->public_state) != ZEGO_ROOM_STATE_CONNECTED) {
        cmd_free(c);
        return zego_error_set(err, ZEGO_ERR_NOT_LOGGED_IN, "the room is not connected");
    }
    c->id = new_request_id(e);
    c->kind = kind;
    if (request_id)
        *request_id = c->id;
    return cmd_post(e, c, err);
}

int zego_engine_set_stream_extra_info(zego_engine *e, const char *stream_id, const char *extra_info,
                                      uint32_t *request_id, zego_error *err)
{
    if (!e)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "engine is NULL");
    int rc;
    if ((rc = zego_validate_stream_id(stream_id, err)) != ZEGO_ERR_OK ||
        (rc = zego_validate_extra_info(extra_info ? extra_info : "", err)) != ZEGO_ERR_OK)
        return rc;
    struct cmd *c = cmd_new(CMD_REQUEST, ZEGO_MSG_SET_STREAM_EXTRA_INFO);
    if (!c)
        return zego_error_set(err, ZEGO_ERR_INTERNAL, "out of memory");
    copy_text(c->msg.u.set_stream_extra_info.stream_id,
              sizeof c->msg.u.set_stream_extra_info.stream_id, stream_id);
    copy_text(c->msg.u.set_stream_extra_info.extra_info,
              sizeof c->msg.u.set_stream_extra_info.extra_info, extra_info);
    return post_request(e, c, ZEGO_REQUEST_SET_STREAM_EXTRA_INFO, request_id, err);
}

int zego_engine_send_broadcast_message(zego_engine *e, const char *message, uint32_t *request_id,
                                       zego_error *err)
{
    if (!e)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "engine is NULL");
    int rc = zego_validate_message(message, err);
    if (rc != ZEGO_ERR_OK)
        return rc;
    struct cmd *c = cmd_new(CMD_REQUEST, ZEGO_MSG_SEND_BROADCAST_MESSAGE);
    if (!c)
        return zego_error_set(err, ZEGO_ERR_INTERNAL, "out of memory");
    copy_text(c->msg.u.send_message.message, sizeof c->msg.u.send_message.message, message);
    return post_request(e, c, ZEGO_REQUEST_BROADCAST_MESSAGE, request_id, err);
}

int zego_engine_send_custom_command(zego_engine *e, const char *command,
                                    const char *const *to_user_ids, size_t n_to_user_ids,
                                    uint32_t *request_id, zego_error *err)
{
    if (!e || (n_to_user_ids && !to_user_ids))
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "engine or user list is NULL");
    int rc = zego_validate_message(command, err);
    if (rc != ZEGO_ERR_OK)
        return rc;
    if (n_to_user_ids > ZEGO_MAX_COMMAND_USERS)
        return zego_error_set(err, ZEGO_ERR_PROTOCOL_OUT_OF_RANGE,
                              "a custom command goes to at most %d users, not %zu",
                              ZEGO_MAX_COMMAND_USERS, n_to_user_ids);
    for (size_t i = 0; i < n_to_user_ids; i++)
        if ((rc = zego_validate_user_id(to_user_ids[i], err)) != ZEGO_ERR_OK)
            return rc;
    struct cmd *c = cmd_new(CMD_REQUEST, ZEGO_MSG_SEND_CUSTOM_COMMAND);
    if (!c)
        return zego_error_set(err, ZEGO_ERR_INTERNAL, "out of memory");
    zego_send_message_req *r = &c->msg.u.send_message;
    copy_text(r->message, sizeof r->message, command);
    if (n_to_user_ids) {
        r->to_user_ids = calloc(n_to_user_ids, sizeof *r->to_user_ids);
        if (!r->to_user_ids) {
            cmd_free(c);
            return zego_error_set(err, ZEGO_ERR_INTERNAL, "out of memory");
        }
        for (size_t i = 0; i < n_to_user_ids; i++)
            copy_text(r->to_user_ids[i], sizeof r->to_user_ids[i], to_user_ids[i]);
        r->n_to_user_ids = n_to_user_ids;
    }
    return post_request(e, c, ZEGO_REQUEST_CUSTOM_COMMAND, request_id, err);
}

int zego_engine_get_publish_stats(zego_engine *e, const char *stream_id, zego_publish_stats *stats,
                                  zego_error *err)
{
    if (!e || !stream_id || !stats)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "NULL argument");
    pthread_mutex_lock(&e->lock);
    struct publisher *p = pub_by_stream(e, stream_id);
    if (p) {
        *stats = p->snap;
        stats->frames_sent = p->frames_sent;
        stats->bytes_sent = p->bytes_sent;
        stats->frames_dropped = p->q.dropped;
        stats->queued_bytes = p->q.bytes;
    }
    pthread_mutex_unlock(&e->lock);
    if (!p)
        return zego_error_set(err, ZEGO_ERR_STREAM_NOT_FOUND, "stream '%s' is not published",
                              stream_id);
    zego_error_clear(err);
    return ZEGO_ERR_OK;
}

int zego_engine_get_play_stats(zego_engine *e, const char *stream_id, zego_play_stats *stats,
                               zego_error *err)
{
    if (!e || !stream_id || !stats)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "NULL argument");
    pthread_mutex_lock(&e->lock);
    struct player *p = player_by_stream(e, stream_id);
    if (p) {
        *stats = p->snap;
        stats->frames_received = p->frames;
        stats->bytes_received = p->bytes;
        stats->frames_lost = p->lost;
    }
    pthread_mutex_unlock(&e->lock);
    if (!p)
        return zego_error_set(err, ZEGO_ERR_STREAM_NOT_FOUND, "stream '%s' is not played",
                              stream_id);
    zego_error_clear(err);
    return ZEGO_ERR_OK;
}

zego_room_state zego_engine_get_room_state(zego_engine *e)
{
    return e ? (zego_room_state)atomic_load(&e->public_state) : ZEGO_ROOM_STATE_DISCONNECTED;
}

void zego_engine_get_user_id(zego_engine *e, char out[ZEGO_USER_ID_SIZE])
{
    out[0] = '\0';
    if (!e)
        return;
    pthread_mutex_lock(&e->lock);
    memcpy(out, e->user_id, ZEGO_USER_ID_SIZE);
    pthread_mutex_unlock(&e->lock);
}

size_t zego_engine_get_streams(zego_engine *e, zego_stream *out, size_t max)
{
    if (!e)
        return 0;
    pthread_mutex_lock(&e->lists_lock);
    size_t n = e->n_streams;
    if (out && n && max)
        memcpy(out, e->streams, (n < max ? n : max) * sizeof *out);
    pthread_mutex_unlock(&e->lists_lock);
    return n;
}

bool zego_engine_is_own_stream(zego_engine *e, const zego_stream *stream)
{
    if (!e || !stream)
        return false;
    char me[ZEGO_USER_ID_SIZE];
    zego_engine_get_user_id(e, me);
    return me[0] && strcmp(me, stream->user_id) == 0;
}

int64_t zego_engine_get_clock_offset_ms(zego_engine *e)
{
    return e ? atomic_load(&e->clock_offset_ms) : 0;
}

/* ---- Shared sessions ---- */

static zego_registry sessions = ZEGO_REGISTRY_INIT;

struct session_args {
    const zego_engine_config *config;
    const zego_room_config *room;
    zego_error *err;
};

static void *session_create(void *arg)
{
    struct session_args *a = arg;
    zego_engine *e = zego_engine_create(a->config, a->err);
    if (!e)
        return NULL;
    if (zego_engine_login_room(e, a->room, a->err) != ZEGO_ERR_OK) {
        zego_engine_destroy(e);
        return NULL;
    }
    e->shared = true;
    return e;
}

zego_engine *zego_session_acquire(const zego_engine_config *config, const zego_room_config *room,
                                  zego_error *err)
{
    if (!config || !room || !config->server_url)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "config or room is NULL"), NULL;
    if (zego_validate_room_id(room->room_id, err) != ZEGO_ERR_OK ||
        zego_validate_user_id(room->user_id, err) != ZEGO_ERR_OK)
        return NULL;
    char *key = zego_session_key(config->server_url, config->app_id, room->room_id, room->user_id);
    if (!key)
        return zego_error_set(err, ZEGO_ERR_INTERNAL, "out of memory"), NULL;
    struct session_args a = {config, room, err};
    bool created;
    zego_error local;
    if (!err)
        a.err = &local;
    zego_engine *e = zego_registry_acquire(&sessions, key, session_create, &a, &created);
    free(key);
    if (e && !created)
        zego_error_clear(err);
    else if (!e && a.err->code == ZEGO_ERR_OK)
        zego_error_set(err, ZEGO_ERR_INTERNAL, "out of memory");
    return e;
}

void zego_session_release(zego_engine *e)
{
    if (e && zego_registry_release(&sessions, e))
        zego_engine_destroy(e);
}

static char process_user_id[ZEGO_USER_ID_SIZE];
static pthread_once_t process_user_id_once = PTHREAD_ONCE_INIT;

static void process_user_id_init(void)
{
    uint64_t v = 0;
    if (RAND_bytes((unsigned char *)&v, sizeof v) != 1)
        v = (uint64_t)wall_us() ^ ((uint64_t)getpid() << 32);
    snprintf(process_user_id, sizeof process_user_id, "zr-%016" PRIx64, v);
}

const char *zego_process_user_id(void)
{
    pthread_once(&process_user_id_once, process_user_id_init);
    return process_user_id;
}

/* ---- Names ---- */

const char *zego_room_state_name(zego_room_state s)
{
    static const char *const n[] = {"DISCONNECTED", "CONNECTING", "CONNECTED"};
    return (unsigned)s < 3 ? n[s] : "UNKNOWN";
}

const char *zego_room_state_reason_name(zego_room_state_reason r)
{
    static const char *const n[] = {"LOGINING",     "LOGINED",     "LOGIN_FAILED",
                                    "RECONNECTING", "RECONNECTED", "RECONNECT_FAILED",
                                    "KICKOUT",      "LOGOUT"};
    return (unsigned)r < 8 ? n[r] : "UNKNOWN";
}

const char *zego_publisher_state_name(zego_publisher_state s)
{
    static const char *const n[] = {"NO_PUBLISH", "PUBLISH_REQUESTING", "PUBLISHING"};
    return (unsigned)s < 3 ? n[s] : "UNKNOWN";
}

const char *zego_player_state_name(zego_player_state s)
{
    static const char *const n[] = {"NO_PLAY", "PLAY_REQUESTING", "PLAYING"};
    return (unsigned)s < 3 ? n[s] : "UNKNOWN";
}

const char *zego_quality_level_name(zego_quality_level l)
{
    static const char *const n[] = {"EXCELLENT", "GOOD", "MEDIUM", "BAD", "DIE", "UNKNOWN"};
    return (unsigned)l < 6 ? n[l] : "UNKNOWN";
}

const char *zego_update_type_name(zego_update_type t)
{
    return t == ZEGO_UPDATE_ADD ? "ADD" : t == ZEGO_UPDATE_DELETE ? "DELETE" : "UNKNOWN";
}

const char *zego_delete_reason_name(zego_delete_reason r)
{
    static const char *const n[] = {"none",    "logout",     "unpublish",
                                    "timeout", "kicked_out", "server_closed"};
    return (unsigned)r < 6 ? n[r] : "unknown";
}

const char *zego_keyframe_reason_name(zego_keyframe_reason r)
{
    static const char *const n[] = {"server", "queue_full", "new_socket"};
    return (unsigned)r < 3 ? n[r] : "unknown";
}
