/* zego-room-server: the shared state of the server and the interfaces
 * between its modules.
 *
 *   main.c       command line, the libuv loop, signals, shutdown
 *   signaling.c  the zego-signal.v1 protocol: sessions, rooms, requests, events
 *   media.c      zego-publish.v1 / zego-play.v1: the relay, GOP cache, player queues
 *   http.c       /healthz, /metrics, /
 *   ticket.c     media tickets; map.c the hash map
 *
 * Everything runs on one thread, the loop's; nothing here takes a lock. */
#ifndef ZS_SERVER_H
#define ZS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include <libwebsockets.h>

#include "map.h"
#include "protocol.h"
#include "ticket.h"

#define ZS_DEFAULT_PORT 7600

typedef struct zs_app {
    uint32_t app_id;
    char secret[ZEGO_TOKEN04_SECRET_LEN + 1];
} zs_app;

typedef struct zs_config {
    char listen_host[256];
    int port;
    zs_app *apps;
    size_t n_apps;
    bool open_mode; /* no app configured: no tokens, loopback only */
    const char *tls_cert, *tls_key;
    const char *public_url; /* base for media URLs; default: the Host the client used */
    uint32_t max_rooms;
    uint32_t max_users_per_room;
    size_t max_frame_bytes;
    size_t gop_cache_bytes;
    uint32_t gop_cache_frames;
    size_t player_queue_bytes;      /* soft bound: video is dropped past it */
    size_t player_queue_hard_bytes; /* hard bound: audio too */
    uint32_t player_queue_ms;       /* age bound of the oldest queued frame */
    uint32_t player_stall_ms;       /* over a bound this long: disconnected */
    size_t signal_queue_bytes;      /* per signaling connection */
    int sndbuf;                     /* SO_SNDBUF of each socket, 0 = the system's */
    uint32_t heartbeat_interval_ms;
    uint32_t heartbeat_timeout_ms;
    uint32_t reconnect_window_ms;
    uint32_t login_timeout_ms;
    int log_level;
} zs_config;

/* A message queued for a socket: refcounted so one frame can sit in many
 * player queues without a copy.  `data` has LWS_PRE bytes of headroom. */
typedef struct zs_buf {
    uint32_t refs;
    uint32_t len;
    int64_t arrival_us;
    uint8_t track;
    uint8_t flags;
    bool text;     /* a JSON text message (stream_info); else a media frame */
    bool is_video; /* a frame of a video track */
    uint8_t data[];
} zs_buf;

zs_buf *zs_buf_new(size_t len);
zs_buf *zs_buf_ref(zs_buf *b);
void zs_buf_unref(zs_buf *b);

/* A bounded FIFO of buffer references. */
typedef struct zs_queue {
    zs_buf **items;
    uint32_t cap, head, count;
    size_t bytes;
} zs_queue;

bool zs_queue_push(zs_queue *q, zs_buf *b, uint32_t max_items);
zs_buf *zs_queue_peek(const zs_queue *q, uint32_t i);
zs_buf *zs_queue_pop(zs_queue *q);
void zs_queue_clear(zs_queue *q);

typedef struct zs_metrics {
    uint64_t connections_total, auth_failures, protocol_errors;
    uint64_t bytes_in, bytes_out, frames_in, frames_out, frames_dropped;
    uint64_t players_disconnected_slow, keyframe_requests;
    uint64_t signal_messages_in, signal_messages_out;
} zs_metrics;

struct zs_room;
struct zs_session;
struct zs_channel;
struct zs_player;

typedef struct zs_server {
    zs_config cfg;
    uv_loop_t loop;
    struct lws_context *context;
    struct lws_vhost *vhost;
    int bound_port;
    char node_id[ZS_NODE_ID_SIZE];
    uint8_t ticket_secret[ZS_TICKET_SECRET_LEN];

    zs_map rooms;          /* "app_id/room_id" -> zs_room */
    zs_map sessions;       /* session_id -> zs_session */
    zs_map users;          /* "app_id/user_id" -> zs_session */
    zs_map channels;       /* "app_id/stream_id" -> zs_channel */
    zs_map used_tickets;   /* signature -> (intptr_t) expiry in Unix s: one socket per ticket */
    struct zs_conn *conns; /* signaling connections, for the tick */
    uint32_t n_conns, n_publishers, n_players;

    zs_metrics metrics;
    lws_sorted_usec_list_t tick;
    bool shutting_down;
    uint64_t next_message_id;
} zs_server;

/* A signaling connection (per-session data of the zego-signal.v1 protocol). */
typedef struct zs_conn {
    zs_server *srv;
    struct lws *wsi;
    struct zs_session *session; /* after login */
    struct zs_conn *next, *prev;
    zs_queue out;
    char *rx; /* reassembly of fragmented messages */
    size_t rx_len;
    int64_t connected_us, last_seen_us;
    char host[256]; /* the Host header, for media URLs */
    bool tls;
    bool close_after_send;
    int close_code;
} zs_conn;

typedef struct zs_room {
    uint32_t app_id;
    char room_id[ZEGO_ROOM_ID_SIZE];
    char key[16 + ZEGO_ROOM_ID_SIZE];
    struct zs_session *members; /* list through session->room_next */
    uint32_t n_members;
    uint32_t max_members;
} zs_room;

typedef struct zs_session {
    zs_server *srv;
    char session_id[ZEGO_SESSION_ID_SIZE];
    char resume_token[ZEGO_RESUME_TOKEN_SIZE];
    uint32_t app_id;
    zs_room *room;
    struct zs_session *room_next, *room_prev;
    zego_user user;
    char user_key[16 + ZEGO_USER_ID_SIZE];
    bool user_update;
    zs_conn *conn;       /* NULL while detached */
    int64_t detached_us; /* when conn was lost */
    int64_t token_expire;
    bool token_warned;
    zego_token04_info token; /* privileges of the current token */
    bool has_token;
    /* plays: stream ids this session may open play sockets for */
    zs_map plays;
    /* rate limit of messages: a bucket of 10 per second */
    double msg_tokens;
    int64_t msg_tokens_us;
} zs_session;

/* A stream ID of an app with a publisher, players, or both. */
typedef struct zs_channel {
    zs_server *srv;
    uint32_t app_id;
    char stream_id[ZEGO_STREAM_ID_SIZE];
    char key[16 + ZEGO_STREAM_ID_SIZE];
    zs_session *owner; /* publishing session, NULL when none */
    zs_room *room;
    char extra_info[ZEGO_EXTRA_INFO_SIZE];
    bool announced; /* stream_update add sent (after the first stream_info) */
    struct lws *publisher;
    zs_buf *stream_info;      /* the latest, as sent to players */
    uint32_t last_generation; /* highest sent to players; kept across publishers */
    zego_stream_info info;
    zs_queue gop; /* frames since the last keyframe, plus recent audio */
    bool gop_has_key;
    int64_t last_keyframe_request_us;
    struct zs_player *players; /* list */
    uint32_t n_players;
    uint64_t frames_in, bytes_in;
} zs_channel;

/* A player connection (per-session data of zego-play.v1). */
typedef struct zs_player {
    zs_server *srv;
    struct lws *wsi;
    zs_channel *ch;
    zs_ticket_claims claims; /* from the ticket, until the socket is established */
    char session_id[ZEGO_SESSION_ID_SIZE];
    struct zs_player *next, *prev;
    zs_queue q;
    size_t inflight; /* bytes of the last write lws may still hold */
    bool waiting_key;
    int64_t backlog_since_us; /* when its queue last stopped being empty; 0 = empty */
    bool dropped_in_backlog;  /* frames were dropped for it since then */
    bool write_pending;       /* a WRITEABLE callback is asked for */
    int64_t closing_since_us;
    int close_code;
    char close_reason[96];
} zs_player;

/* A publisher connection (per-session data of zego-publish.v1). */
typedef struct zs_publisher {
    zs_server *srv;
    struct lws *wsi;
    zs_channel *ch;
    zs_ticket_claims claims; /* from the ticket, until the socket is established */
    zs_buf *rx;              /* the message being reassembled */
    size_t rx_len, rx_cap;
    bool rx_text;
    zs_queue out; /* keyframe requests, errors */
    int close_code;
} zs_publisher;

/* main.c */
int64_t zs_now_us(void);  /* monotonic */
int64_t zs_wall_ms(void); /* Unix ms */
void zs_log(zs_server *srv, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Caps the socket's SO_SNDBUF when --sndbuf is given (tests use it to make a
 * slow reader show quickly). */
void zs_apply_sndbuf(zs_server *srv, struct lws *wsi);
#define ZS_LOG_ERROR 0
#define ZS_LOG_WARN  1
#define ZS_LOG_INFO  2
#define ZS_LOG_DEBUG 3

/* signaling.c */
extern const struct lws_protocols zs_signaling_protocol;
void zs_signaling_tick(zs_server *srv);
void zs_signaling_shutdown(zs_server *srv);
/* A stream became visible (first stream_info) or changed its owner's info. */
void zs_room_announce_stream(zs_channel *ch);
void zs_sessions_free(zs_server *srv);

/* media.c */
extern const struct lws_protocols zs_publish_protocol;
extern const struct lws_protocols zs_play_protocol;
zs_channel *zs_channel_get(zs_server *srv, uint32_t app_id, const char *stream_id, bool create);
/* The publisher stopped: players are told nothing, they wait for it to return. */
void zs_channel_end_publish(zs_channel *ch, int close_code, const char *reason);
/* Tells the stream's players, on their sockets after the frames already
 * queued, that the stream was unpublished (an unpublish message). */
void zs_channel_tell_players_end(zs_channel *ch);
/* Unpublishes a stream as the owner's unpublish request does (reason
 * unpublish): the room is told, the publisher socket closed with 1000. */
void zs_stream_unpublish(zs_channel *ch);
void zs_channel_maybe_free(zs_channel *ch);
/* Closes a session's play sockets for stream_id (NULL = all). */
void zs_media_stop_plays(zs_server *srv, const char *session_id, const char *stream_id);
void zs_media_tick(zs_server *srv);
void zs_media_shutdown(zs_server *srv);

/* http.c */
extern const struct lws_protocols zs_http_protocol;

#endif
