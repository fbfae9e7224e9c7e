/* The client engine: log into a room on zego-room-server, publish and play
 * streams, and learn of everything happening in the room -- the C counterpart
 * of the ZEGO Express SDK's engine.
 *
 * Threads.  Each engine runs its own network thread (the "engine thread"),
 * which owns the connections, timers and room state.  Every public function
 * is thread-safe and returns at once: it checks its arguments, queues a
 * command for the engine thread and wakes it.  Results arrive later through
 * callbacks.
 *
 * Callbacks run on the engine thread, one at a time.  They must not block
 * (no waiting for other threads, no long work): while one runs, the engine
 * neither sends nor receives.  They may call any function of this API except
 * zego_engine_destroy() and zego_session_release() of their own engine.
 *
 * Two guarantees make teardown simple for plugins: once
 * zego_engine_remove_handler() returns, that handler is not called again;
 * once zego_engine_stop_playing() returns, that play's callbacks are not called
 * again.  Both wait for a callback that is running at that moment on another
 * thread to finish, so do not call them while holding a lock that your
 * callbacks take.
 *
 * Strings passed in are copied; strings and arrays passed to callbacks are
 * valid only during the call.  Error codes are zego_error_code values; calls
 * with a zego_error out-parameter fill it in (it may be NULL). */
#ifndef ZEGO_ENGINE_H
#define ZEGO_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zego/errors.h>
#include <zego/export.h>
#include <zego/ids.h>
#include <zego/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zego_engine zego_engine;

/* ---- Configuration ---- */

typedef enum zego_log_level {
    ZEGO_LOG_ERROR = 0,
    ZEGO_LOG_WARNING,
    ZEGO_LOG_INFO,
    ZEGO_LOG_DEBUG,
} zego_log_level;

/* Receives one line, without a newline.  Called from any thread (mostly the
 * engine thread); must not block.  Tokens and resume tokens never appear. */
typedef void (*zego_log_func)(zego_log_level level, const char *message, void *user_data);

typedef struct zego_engine_config {
    const char *server_url; /* ws://host:port/ws or wss://host:port/ws */
    uint32_t app_id;

    bool tls_verify;         /* check the server's certificate (default true) */
    const char *tls_ca_file; /* PEM file of trusted CAs; NULL = the system's */

    zego_log_func log;        /* NULL = no logging */
    void *log_user_data;      /* passed to log */
    zego_log_level log_level; /* the most detailed level passed on (default INFO) */

    uint32_t reconnect_backoff_initial_ms; /* first retry delay (default 500) */
    uint32_t reconnect_backoff_max_ms;     /* cap of the exponential backoff (default 10000) */
    uint32_t reconnect_give_up_ms;         /* give up reconnecting after this (default 20 min) */
    uint32_t login_timeout_ms;             /* a login not done by then fails (default 20000) */
    uint32_t request_timeout_ms;           /* a request without reply drops the link (10000) */
    uint32_t quality_interval_ms;          /* quality callbacks period (default 3000; 0 = off) */

    /* Bytes queued per published stream.  When a video frame does not fit,
     * video is dropped up to the next keyframe (and one is requested through
     * publisher_keyframe_request); audio is dropped only when the queue would
     * pass 5/4 of this bound.  Default 8 MiB. */
    size_t send_queue_max_bytes;
    /* Largest frame payload sent or accepted (default 4 MiB, the server's). */
    size_t max_frame_bytes;
} zego_engine_config;

/* Fills *config with the defaults (server_url NULL, app_id 0). */
ZEGO_API void zego_engine_config_init(zego_engine_config *config);

/* The room to log into. */
typedef struct zego_room_config {
    const char *room_id;
    const char *user_id;
    const char *user_name;     /* UTF-8, may be NULL or "" */
    const char *token;         /* Token04; NULL or "" when the server needs none */
    bool user_update;          /* deliver room_user_update (ZEGO's isUserStatusNotify) */
    uint32_t max_member_count; /* 0 = the server's limit */
} zego_room_config;

/* ---- States and qualities ---- */

typedef enum zego_room_state {
    ZEGO_ROOM_STATE_DISCONNECTED = 0,
    ZEGO_ROOM_STATE_CONNECTING,
    ZEGO_ROOM_STATE_CONNECTED,
} zego_room_state;

/* Why the room state changed (ZEGO's ZegoRoomStateChangedReason). */
typedef enum zego_room_state_reason {
    ZEGO_ROOM_REASON_LOGINING = 0,     /* CONNECTING: login_room started */
    ZEGO_ROOM_REASON_LOGINED,          /* CONNECTED */
    ZEGO_ROOM_REASON_LOGIN_FAILED,     /* DISCONNECTED: refused (code) or timed out */
    ZEGO_ROOM_REASON_RECONNECTING,     /* CONNECTING with 1002051: the link dropped */
    ZEGO_ROOM_REASON_RECONNECTED,      /* CONNECTED again */
    ZEGO_ROOM_REASON_RECONNECT_FAILED, /* DISCONNECTED with 1002053: gave up */
    ZEGO_ROOM_REASON_KICKOUT,          /* DISCONNECTED with 1002050 */
    ZEGO_ROOM_REASON_LOGOUT,           /* DISCONNECTED: logout_room */
} zego_room_state_reason;

typedef enum zego_publisher_state {
    ZEGO_PUBLISHER_STATE_NO_PUBLISH = 0,
    ZEGO_PUBLISHER_STATE_PUBLISH_REQUESTING,
    ZEGO_PUBLISHER_STATE_PUBLISHING,
} zego_publisher_state;

typedef enum zego_player_state {
    ZEGO_PLAYER_STATE_NO_PLAY = 0,
    ZEGO_PLAYER_STATE_PLAY_REQUESTING,
    ZEGO_PLAYER_STATE_PLAYING,
} zego_player_state;

typedef enum zego_quality_level {
    ZEGO_QUALITY_EXCELLENT = 0,
    ZEGO_QUALITY_GOOD,
    ZEGO_QUALITY_MEDIUM,
    ZEGO_QUALITY_BAD,
    ZEGO_QUALITY_DIE,
    ZEGO_QUALITY_UNKNOWN,
} zego_quality_level;

/* Why a keyframe is wanted from the application's encoder. */
typedef enum zego_keyframe_reason {
    ZEGO_KEYFRAME_SERVER = 0, /* the server asked (a new player, a flushed cache) */
    ZEGO_KEYFRAME_QUEUE_FULL, /* the send queue overflowed; video waits for a keyframe */
    ZEGO_KEYFRAME_NEW_SOCKET, /* the media socket was (re)opened */
} zego_keyframe_reason;

/* Statistics of a published stream: rates over the last quality interval,
 * totals since start_publishing. */
typedef struct zego_publish_stats {
    double video_fps, audio_fps;   /* frames written to the socket per second */
    double video_kbps, audio_kbps; /* payload kilobits per second */
    uint32_t rtt_ms;               /* signaling round trip (heartbeats) */
    int64_t delay_ms;              /* capture to socket write, averaged; 0 = unknown */
    uint64_t frames_sent, bytes_sent;
    uint64_t frames_dropped;    /* dropped by the send queue, in total */
    uint32_t interval_dropped;  /* ... during the last interval */
    size_t queued_bytes;        /* in the send queue now */
    zego_quality_level quality; /* from rtt, drops and delay */
} zego_publish_stats;

/* Statistics of a played stream. */
typedef struct zego_play_stats {
    double video_fps, audio_fps;
    double video_kbps, audio_kbps;
    uint32_t rtt_ms;
    int64_t delay_ms; /* capture (publisher) to arrival, clock offsets applied; 0 = unknown */
    uint64_t frames_received, bytes_received;
    uint64_t frames_lost;   /* sequence gaps, in total */
    uint32_t interval_lost; /* ... during the last interval */
    zego_quality_level quality;
} zego_play_stats;

/* What a played stream carries: handed to the play callback before its first
 * frame and again on every new generation. */
typedef struct zego_media_info {
    const char *stream_id;
    uint32_t generation;
    const zego_track *tracks;
    size_t n_tracks;
} zego_media_info;

/* One media frame, sent or received.  Sending ignores generation and
 * sequence; a capture_time_us of 0 means "now". */
typedef struct zego_media_frame {
    uint32_t generation;
    uint8_t track; /* the zego_track id */
    uint8_t flags; /* ZEGO_FRAME_FLAG_*: DISCONT is set on received frames after a gap */
    uint32_t sequence;
    int64_t pts_us, dts_us;
    int64_t capture_time_us; /* wall clock at capture, Unix us */
    const uint8_t *data;
    size_t size;
} zego_media_frame;

/* Which kind of request a zego_event_handler.request_result answers. */
typedef enum zego_request_kind {
    ZEGO_REQUEST_BROADCAST_MESSAGE = 0,
    ZEGO_REQUEST_CUSTOM_COMMAND,
    ZEGO_REQUEST_SET_STREAM_EXTRA_INFO,
    ZEGO_REQUEST_RENEW_TOKEN,
} zego_request_kind;

/* ---- Events ---- */

/* Callbacks for room events; any may be NULL.  Several handlers may be added
 * to one engine (frontends sharing a session); each gets every event. */
typedef struct zego_event_handler {
    void *user_data;

    /* code: 0, or why (1002051 reconnecting, 1002053 gave up, 1002050 kicked
     * out, a login error such as 1002078 token expired). */
    void (*room_state_update)(zego_engine *engine, const char *room_id, zego_room_state state,
                              zego_room_state_reason reason, int32_t code, const char *message,
                              void *user_data);
    /* Only with zego_room_config.user_update.  The user's own entry is not listed. */
    void (*room_user_update)(zego_engine *engine, const char *room_id, zego_update_type type,
                             const zego_user *users, size_t n_users, void *user_data);
    /* The engine user's own streams are listed too (as ZEGO does); a player
     * skips them with zego_engine_is_own_stream(). */
    void (*room_stream_update)(zego_engine *engine, const char *room_id, zego_update_type type,
                               zego_delete_reason reason, const zego_stream *streams,
                               size_t n_streams, void *user_data);
    void (*room_stream_extra_info_update)(zego_engine *engine, const char *room_id,
                                          const zego_stream *streams, size_t n_streams,
                                          void *user_data);
    void (*publisher_state_update)(zego_engine *engine, const char *stream_id,
                                   zego_publisher_state state, int32_t code, void *user_data);
    void (*player_state_update)(zego_engine *engine, const char *stream_id, zego_player_state state,
                                int32_t code, void *user_data);
    void (*publisher_quality_update)(zego_engine *engine, const char *stream_id,
                                     const zego_publish_stats *stats, void *user_data);
    void (*player_quality_update)(zego_engine *engine, const char *stream_id,
                                  const zego_play_stats *stats, void *user_data);
    /* Make the encoder of that track produce a keyframe soon. */
    void (*publisher_keyframe_request)(zego_engine *engine, const char *stream_id, uint32_t track,
                                       zego_keyframe_reason reason, void *user_data);
    /* The token expires in remaining_s seconds: call zego_engine_renew_token(). */
    void (*room_token_will_expire)(zego_engine *engine, const char *room_id, uint32_t remaining_s,
                                   void *user_data);
    void (*broadcast_message)(zego_engine *engine, const char *room_id, const zego_user *from,
                              const char *message, uint64_t message_id, int64_t send_time_ms,
                              void *user_data);
    void (*custom_command)(zego_engine *engine, const char *room_id, const zego_user *from,
                           const char *command, int64_t send_time_ms, void *user_data);
    /* Also reported as room state DISCONNECTED with reason KICKOUT. */
    void (*kicked_out)(zego_engine *engine, const char *room_id, int32_t code, const char *message,
                       void *user_data);
    /* The answer to a request that returned request_id.  message_id is set
     * for a delivered broadcast message. */
    void (*request_result)(zego_engine *engine, uint32_t request_id, zego_request_kind kind,
                           int32_t code, const char *message, uint64_t message_id, void *user_data);
} zego_event_handler;

/* Callbacks of one play, on the engine thread. */
typedef struct zego_player_callbacks {
    void *user_data;
    /* The tracks, before the first frame and on every new generation: reset
     * decoders and timing here. */
    void (*media_info)(zego_engine *engine, const zego_media_info *info, void *user_data);
    /* A frame of the latest media_info's generation.  frame->data is valid
     * only during the call. */
    void (*frame)(zego_engine *engine, const char *stream_id, const zego_media_frame *frame,
                  void *user_data);
    /* The stream was unpublished, after its last frame (the server marks the
     * end on the play socket; when that marker does not come within 1 s of
     * the room's stream delete, this comes then).  Once per publication; the
     * player stays, and a new publication starts with media_info. */
    void (*end)(zego_engine *engine, const char *stream_id, void *user_data);
} zego_player_callbacks;

/* ---- The engine ---- */

/* Creates an engine and starts its thread.  NULL on failure with *err set
 * (ZEGO_ERR_INVALID_ARGUMENT for a bad URL or setting, ZEGO_ERR_INTERNAL when
 * the network layer cannot start). */
ZEGO_API zego_engine *zego_engine_create(const zego_engine_config *config, zego_error *err);

/* Logs out when logged in (best effort, briefly), stops the thread (waiting
 * at most a few seconds) and frees everything.  No callback runs after it
 * returns.  Not from a callback.  NULL is ignored. */
ZEGO_API void zego_engine_destroy(zego_engine *engine);

/* Adds a handler (copied).  Returns its id (> 0), or 0 with *err set.  A
 * handler added while the room is (being) logged into first gets the
 * current state: room_state_update, then the streams (and users) as ADD. */
ZEGO_API uint32_t zego_engine_add_handler(zego_engine *engine, const zego_event_handler *handler,
                                          zego_error *err);
ZEGO_API int zego_engine_remove_handler(zego_engine *engine, uint32_t handler_id);

/* Logs into a room (one room per engine).  Progress is reported through
 * room_state_update: CONNECTING, then CONNECTED or DISCONNECTED with the
 * code.  IDs and text are checked now and refused with their precise code;
 * ZEGO_ERR_PROTOCOL_BAD_STATE when already logged in. */
ZEGO_API int zego_engine_login_room(zego_engine *engine, const zego_room_config *room,
                                    zego_error *err);

/* Leaves the room: DISCONNECTED with reason LOGOUT.  Publishing and playing
 * stop (NO_PUBLISH / NO_PLAY) but stay registered: they start again with the
 * next login_room until stop_publishing / stop_playing. */
ZEGO_API int zego_engine_logout_room(zego_engine *engine, zego_error *err);

/* Replaces the token, for this session and the next logins.  When connected
 * the server checks it; the answer comes through request_result. */
ZEGO_API int zego_engine_renew_token(zego_engine *engine, const char *token, uint32_t *request_id,
                                     zego_error *err);

/* Starts publishing a stream with its tracks (1 to 8, checked as the
 * protocol checks a stream_info).  May be called before the room is
 * connected: it starts when it is.  publisher_state_update reports
 * PUBLISH_REQUESTING, then PUBLISHING (or NO_PUBLISH with the code). */
typedef struct zego_publish_config {
    const char *stream_id;
    const char *extra_info; /* NULL = "" */
    const zego_track *tracks;
    size_t n_tracks;
} zego_publish_config;
ZEGO_API int zego_engine_start_publishing(zego_engine *engine, const zego_publish_config *config,
                                          zego_error *err);

/* Changes the tracks (codec, resolution...): a new stream_info generation.
 * Send a keyframe first on each video track after this. */
ZEGO_API int zego_engine_update_tracks(zego_engine *engine, const char *stream_id,
                                       const zego_track *tracks, size_t n_tracks, zego_error *err);

/* Stops publishing; returns ZEGO_ERR_OK also when the stream was not published. */
ZEGO_API int zego_engine_stop_publishing(zego_engine *engine, const char *stream_id,
                                         zego_error *err);

/* Ends a publication without losing what was given (the end of a file, an
 * EOS): frames are no longer taken; those queued, and those held until the
 * media socket is up, are sent; the socket is closed cleanly, so the server
 * has read them all, and the stream is unpublished.  Returns at once; the
 * publisher state NO_PUBLISH (and get_publish_stats answering
 * ZEGO_ERR_STREAM_NOT_FOUND) says it is done.  After timeout_ms whatever is
 * left is dropped and the stream unpublished as by stop_publishing.  Returns
 * ZEGO_ERR_OK also when the stream was not published. */
ZEGO_API int zego_engine_finish_publishing(zego_engine *engine, const char *stream_id,
                                           uint32_t timeout_ms, zego_error *err);

/* Queues one frame of a published stream (copied) and returns at once.
 * ZEGO_ERR_OK also when the send queue dropped it (see
 * send_queue_max_bytes; the stats count drops).  Errors:
 * ZEGO_ERR_STREAM_NOT_FOUND (not publishing it), ZEGO_ERR_FRAME_UNKNOWN_TRACK,
 * ZEGO_ERR_FRAME_TOO_LARGE (over max_frame_bytes), ZEGO_ERR_FRAME_MALFORMED
 * (empty), or the code that made publishing fail.  Frames queued before the
 * stream is PUBLISHING are sent once it is, starting at a keyframe. */
ZEGO_API int zego_engine_send_frame(zego_engine *engine, const char *stream_id,
                                    const zego_media_frame *frame, zego_error *err);

/* Starts playing a stream (of any room of the app); may be called before the
 * room is connected.  The callbacks are copied.  One play per stream ID per
 * engine: ZEGO_ERR_PROTOCOL_BAD_STATE when it is already played. */
ZEGO_API int zego_engine_start_playing(zego_engine *engine, const char *stream_id,
                                       const zego_player_callbacks *callbacks, zego_error *err);

/* Stops playing; once it returns the play's callbacks are not called again.
 * ZEGO_ERR_OK also when the stream was not played. */
ZEGO_API int zego_engine_stop_playing(zego_engine *engine, const char *stream_id, zego_error *err);

/* Requests that answer through request_result with *request_id (may be NULL).
 * They need a CONNECTED room (else ZEGO_ERR_NOT_LOGGED_IN). */
ZEGO_API int zego_engine_set_stream_extra_info(zego_engine *engine, const char *stream_id,
                                               const char *extra_info, uint32_t *request_id,
                                               zego_error *err);
ZEGO_API int zego_engine_send_broadcast_message(zego_engine *engine, const char *message,
                                                uint32_t *request_id, zego_error *err);
/* to_user_ids: at most 100; n_to_user_ids 0 = everyone else in the room. */
ZEGO_API int zego_engine_send_custom_command(zego_engine *engine, const char *command,
                                             const char *const *to_user_ids, size_t n_to_user_ids,
                                             uint32_t *request_id, zego_error *err);

/* Current statistics of a published / played stream (the last interval's
 * rates and the totals).  ZEGO_ERR_STREAM_NOT_FOUND when not started. */
ZEGO_API int zego_engine_get_publish_stats(zego_engine *engine, const char *stream_id,
                                           zego_publish_stats *stats, zego_error *err);
ZEGO_API int zego_engine_get_play_stats(zego_engine *engine, const char *stream_id,
                                        zego_play_stats *stats, zego_error *err);

ZEGO_API zego_room_state zego_engine_get_room_state(zego_engine *engine);

/* The user id given to login_room ("" before), copied into out. */
ZEGO_API void zego_engine_get_user_id(zego_engine *engine, char out[ZEGO_USER_ID_SIZE]);

/* The streams of the room as the engine knows them now (also its own), from
 * any thread: copies at most max into out (which may be NULL) and returns how
 * many there are.  From CONNECTED on it is the room's list; a handler learns
 * of changes from room_stream_update. */
ZEGO_API size_t zego_engine_get_streams(zego_engine *engine, zego_stream *out, size_t max);

/* True when the stream is published by this engine's user: a player skips
 * those (a process's zegosink and zegosrc share one user). */
ZEGO_API bool zego_engine_is_own_stream(zego_engine *engine, const zego_stream *stream);

/* The estimated offset of the server's clock from this host's wall clock
 * (server - local, ms), from heartbeats; 0 before the first. */
ZEGO_API int64_t zego_engine_get_clock_offset_ms(zego_engine *engine);

/* ---- Sessions shared within a process ---- */

/* An engine for (server URL, app_id, room_id, user_id), shared: the first
 * call creates it and starts logging in, later calls with the same four
 * values return the same engine with one more reference.  Settings other
 * than those four (token, name, log callback...) are the first caller's.
 * Release each reference with zego_session_release(); the last one logs out
 * and destroys the engine.  Do not call zego_engine_destroy() or
 * zego_engine_logout_room() on a shared engine. */
ZEGO_API zego_engine *zego_session_acquire(const zego_engine_config *config,
                                           const zego_room_config *room, zego_error *err);
ZEGO_API void zego_session_release(zego_engine *engine);

/* A user id for elements configured without one: generated once per process
 * ("zr-" and 16 hex digits), the same for every caller, so that all of a
 * process's elements share one session per room. */
ZEGO_API const char *zego_process_user_id(void);

/* ---- Names, for logs ---- */

ZEGO_API const char *zego_room_state_name(zego_room_state state);
ZEGO_API const char *zego_room_state_reason_name(zego_room_state_reason reason);
ZEGO_API const char *zego_publisher_state_name(zego_publisher_state state);
ZEGO_API const char *zego_player_state_name(zego_player_state state);
ZEGO_API const char *zego_quality_level_name(zego_quality_level level);
ZEGO_API const char *zego_update_type_name(zego_update_type type);
ZEGO_API const char *zego_delete_reason_name(zego_delete_reason reason);
ZEGO_API const char *zego_keyframe_reason_name(zego_keyframe_reason reason);

#ifdef __cplusplus
}
#endif

#endif
