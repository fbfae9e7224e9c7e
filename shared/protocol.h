/* The wire protocol, version 1: every signaling message and the media frame
 * header, encoded and decoded in this one place for the server and the client.
 * docs/protocol.md is the description of the same format for people.
 *
 * Signaling messages are JSON objects in WebSocket text frames; each has a
 * "type".  Requests (client to server) carry a "seq" and get exactly one
 * "reply" with the same seq; events are pushed by the server.  The media
 * sockets carry the "stream_info" and "keyframe_request" messages as text
 * frames and media frames (a fixed binary header and the payload) as binary
 * frames.
 *
 * Decoding checks everything the format says: JSON types, required fields,
 * number ranges, list lengths, IDs (with <zego/ids.h>), UTF-8 text, codec
 * strings.  Encoding applies the same checks, so a message that encodes also
 * decodes.  Receivers ignore fields they do not know. */
#ifndef ZEGO_PROTOCOL_H
#define ZEGO_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zego/errors.h>
#include <zego/ids.h>
#include <zego/token04.h>
#include <zego/types.h>

#define ZEGO_PROTOCOL_VERSION 1

/* WebSocket subprotocols. */
#define ZEGO_SUBPROTOCOL_SIGNALING "zego-signal.v1"
#define ZEGO_SUBPROTOCOL_PUBLISH   "zego-publish.v1"
#define ZEGO_SUBPROTOCOL_PLAY      "zego-play.v1"

/* Largest text message a server accepts from a client, and a client from a
 * server (a login reply lists the whole room). */
#define ZEGO_CLIENT_MESSAGE_MAX (64 * 1024)
#define ZEGO_SERVER_MESSAGE_MAX (4 * 1024 * 1024)

/* Buffer sizes (NUL included) of the opaque strings. */
#define ZEGO_TOKEN_SIZE        (ZEGO_TOKEN04_MAX_LEN + 1)
#define ZEGO_URL_SIZE          1024
#define ZEGO_TICKET_SIZE       1024
#define ZEGO_SESSION_ID_SIZE   64
#define ZEGO_RESUME_TOKEN_SIZE 128
#define ZEGO_CLIENT_NAME_SIZE  128

/* List bounds. */
#define ZEGO_MAX_USERS_LISTED   10000
#define ZEGO_MAX_STREAMS_LISTED 10000
#define ZEGO_MAX_COMMAND_USERS  100
#define ZEGO_MAX_TRACKS         8

typedef enum zego_msg_type {
    ZEGO_MSG_NONE = 0,
    /* Requests, client to server, on the signaling socket. */
    ZEGO_MSG_LOGIN,
    ZEGO_MSG_LOGOUT,
    ZEGO_MSG_HEARTBEAT,
    ZEGO_MSG_RENEW_TOKEN,
    ZEGO_MSG_PUBLISH,
    ZEGO_MSG_UNPUBLISH,
    ZEGO_MSG_PLAY,
    ZEGO_MSG_STOP_PLAY,
    ZEGO_MSG_SET_STREAM_EXTRA_INFO,
    ZEGO_MSG_SEND_BROADCAST_MESSAGE,
    ZEGO_MSG_SEND_CUSTOM_COMMAND,
    ZEGO_MSG_MEDIA_TICKET,
    /* Server to client, on the signaling socket. */
    ZEGO_MSG_REPLY,
    ZEGO_MSG_USER_UPDATE,
    ZEGO_MSG_STREAM_UPDATE,
    ZEGO_MSG_STREAM_EXTRA_INFO_UPDATE,
    ZEGO_MSG_BROADCAST_MESSAGE,
    ZEGO_MSG_CUSTOM_COMMAND,
    ZEGO_MSG_TOKEN_WILL_EXPIRE,
    ZEGO_MSG_KICKED_OUT,
    ZEGO_MSG_GOING_AWAY,
    ZEGO_MSG_ERROR,
    /* Text messages on the media sockets. */
    ZEGO_MSG_STREAM_INFO,
    ZEGO_MSG_KEYFRAME_REQUEST,
    ZEGO_MSG_TYPE_COUNT
} zego_msg_type;

/* The "type" string of a message type ("login"), or NULL. */
const char *zego_msg_type_name(zego_msg_type type);
/* True for the types a client sends as requests (they carry a seq). */
bool zego_msg_type_is_request(zego_msg_type type);

typedef enum zego_media_role {
    ZEGO_ROLE_PUBLISH = 0,
    ZEGO_ROLE_PLAY,
} zego_media_role;

/* Where to open a media socket, and the ticket to present there. */
typedef struct zego_media_endpoint {
    char url[ZEGO_URL_SIZE];
    char ticket[ZEGO_TICKET_SIZE];
    int64_t expires_ms; /* Unix ms; the socket must be opened before */
} zego_media_endpoint;

/* Request bodies. */
typedef struct zego_login_req {
    uint32_t version; /* ZEGO_PROTOCOL_VERSION */
    uint32_t app_id;
    char room_id[ZEGO_ROOM_ID_SIZE];
    char user_id[ZEGO_USER_ID_SIZE];
    char user_name[ZEGO_USER_NAME_SIZE];
    char token[ZEGO_TOKEN_SIZE];           /* "" in the server's open mode */
    bool user_update;                      /* send user_update events to this user */
    uint32_t max_member_count;             /* 0 = the server's limit */
    char session_id[ZEGO_SESSION_ID_SIZE]; /* both set: resume that session */
    char resume_token[ZEGO_RESUME_TOKEN_SIZE];
    char client[ZEGO_CLIENT_NAME_SIZE]; /* "libzegoroom/0.1.0", for logs */
} zego_login_req;

typedef struct zego_heartbeat_req {
    int64_t client_time_ms;
} zego_heartbeat_req;

typedef struct zego_renew_token_req {
    char token[ZEGO_TOKEN_SIZE];
} zego_renew_token_req;

typedef struct zego_publish_req {
    char stream_id[ZEGO_STREAM_ID_SIZE];
    char extra_info[ZEGO_EXTRA_INFO_SIZE];
} zego_publish_req;

/* unpublish, play, stop_play */
typedef struct zego_stream_req {
    char stream_id[ZEGO_STREAM_ID_SIZE];
} zego_stream_req;

typedef struct zego_send_message_req {
    char message[ZEGO_MESSAGE_SIZE];
    char (*to_user_ids)[ZEGO_USER_ID_SIZE]; /* custom command only; NULL = everyone */
    size_t n_to_user_ids;
} zego_send_message_req;

typedef struct zego_media_ticket_req {
    char stream_id[ZEGO_STREAM_ID_SIZE];
    zego_media_role role;
} zego_media_ticket_req;

/* Reply bodies (only when code is 0). */
typedef struct zego_login_reply {
    char room_id[ZEGO_ROOM_ID_SIZE];
    char session_id[ZEGO_SESSION_ID_SIZE];
    char resume_token[ZEGO_RESUME_TOKEN_SIZE];
    bool resumed;
    uint32_t heartbeat_interval_ms;
    uint32_t reconnect_window_ms;
    int64_t server_time_ms;
    int64_t token_expire; /* Unix seconds; 0 = no token */
    zego_user *users;     /* everyone else in the room */
    size_t n_users;
    zego_stream *streams; /* the room's streams */
    size_t n_streams;
} zego_login_reply;

typedef struct zego_heartbeat_reply {
    int64_t client_time_ms; /* echoed */
    int64_t server_time_ms;
} zego_heartbeat_reply;

typedef struct zego_renew_token_reply {
    int64_t token_expire;
} zego_renew_token_reply;

/* publish, play and media_ticket */
typedef struct zego_media_reply {
    char stream_id[ZEGO_STREAM_ID_SIZE];
    bool published; /* play: the stream exists now (otherwise the socket waits) */
    zego_media_endpoint media;
} zego_media_reply;

/* unpublish, stop_play, set_stream_extra_info */
typedef struct zego_stream_reply {
    char stream_id[ZEGO_STREAM_ID_SIZE];
} zego_stream_reply;

typedef struct zego_send_message_reply {
    uint64_t message_id; /* broadcast only */
} zego_send_message_reply;

/* Event bodies. */
typedef struct zego_user_update_event {
    char room_id[ZEGO_ROOM_ID_SIZE];
    zego_update_type update;
    zego_delete_reason reason;
    zego_user *users;
    size_t n_users;
} zego_user_update_event;

/* stream_update and stream_extra_info_update */
typedef struct zego_stream_update_event {
    char room_id[ZEGO_ROOM_ID_SIZE];
    zego_update_type update;
    zego_delete_reason reason;
    zego_stream *streams;
    size_t n_streams;
} zego_stream_update_event;

/* broadcast_message and custom_command */
typedef struct zego_message_event {
    char room_id[ZEGO_ROOM_ID_SIZE];
    zego_user from;
    char message[ZEGO_MESSAGE_SIZE];
    uint64_t message_id; /* broadcast only */
    int64_t send_time_ms;
} zego_message_event;

typedef struct zego_token_will_expire_event {
    char room_id[ZEGO_ROOM_ID_SIZE];
    uint32_t remaining_s;
} zego_token_will_expire_event;

/* kicked_out, going_away and error */
typedef struct zego_notice_event {
    char room_id[ZEGO_ROOM_ID_SIZE]; /* kicked_out */
    int32_t code;
    char message[ZEGO_ERROR_MESSAGE_MAX];
    uint32_t reconnect_after_ms; /* going_away */
} zego_notice_event;

typedef struct zego_stream_info {
    char stream_id[ZEGO_STREAM_ID_SIZE];
    uint32_t generation;
    zego_track *tracks;
    size_t n_tracks;
} zego_stream_info;

typedef struct zego_keyframe_request {
    char stream_id[ZEGO_STREAM_ID_SIZE];
    uint32_t track;
} zego_keyframe_request;

/* One signaling message.  For a reply, `reply_to` is the request's type, and
 * when `code` is 0 the body member for that type is filled; otherwise
 * `error_message` (and for ZEGO_ERR_REDIRECT `redirect`) say what happened. */
typedef struct zego_msg {
    zego_msg_type type;
    uint32_t seq; /* requests and replies; >= 1 */

    zego_msg_type reply_to;
    int32_t code;
    char error_message[ZEGO_ERROR_MESSAGE_MAX];
    char redirect[ZEGO_URL_SIZE];

    union {
        zego_login_req login;
        zego_heartbeat_req heartbeat;
        zego_renew_token_req renew_token;
        zego_publish_req publish;
        zego_stream_req stream; /* unpublish, play, stop_play */
        zego_publish_req set_stream_extra_info;
        zego_send_message_req send_message; /* broadcast and custom command */
        zego_media_ticket_req media_ticket;

        zego_login_reply login_reply;
        zego_heartbeat_reply heartbeat_reply;
        zego_renew_token_reply renew_token_reply;
        zego_media_reply media_reply; /* publish, play, media_ticket */
        zego_stream_reply stream_reply;
        zego_send_message_reply send_message_reply;

        zego_user_update_event user_update;
        zego_stream_update_event stream_update; /* and stream_extra_info_update */
        zego_message_event message;             /* broadcast_message, custom_command */
        zego_token_will_expire_event token_will_expire;
        zego_notice_event notice; /* kicked_out, going_away, error */

        zego_stream_info stream_info;
        zego_keyframe_request keyframe_request;
    } u;
} zego_msg;

/* Sets *msg to an empty message of the given type. */
void zego_msg_init(zego_msg *msg, zego_msg_type type);

/* Frees the lists a message owns and leaves it empty. */
void zego_msg_clear(zego_msg *msg);

/* Encodes msg as compact JSON.  Returns a NUL-terminated string to free()
 * (its length in *len_out when not NULL), or NULL with *err filled in when a
 * field is invalid. */
char *zego_msg_encode(const zego_msg *msg, size_t *len_out, zego_error *err);

/* The end of a stream on a media socket, after its last frame: the
 * `unpublish` message a publisher sends on its socket, and the server on its
 * players' (seq 1, never answered).  Encoded as zego_msg_encode does. */
char *zego_msg_encode_media_end(const char *stream_id, size_t *len_out);

/* Decodes data[0..len), which may be at most max_len bytes, into *msg.  On
 * failure returns the error code with *err filled in, and msg->type and
 * msg->seq are still set when they could be read, so that a server can
 * answer the request. */
int zego_msg_decode(const char *data, size_t len, size_t max_len, zego_msg *msg, zego_error *err);

/* Reply helpers: an empty ok reply to a request, and an error reply. */
void zego_msg_init_reply(zego_msg *reply, const zego_msg *request);
void zego_msg_init_error_reply(zego_msg *reply, const zego_msg *request, const zego_error *err);

/* The track of a stream info with the given id, or NULL. */
const zego_track *zego_stream_info_find_track(const zego_stream_info *info, uint32_t track_id);

/* ---- Media frames (binary WebSocket messages) ---- */

#define ZEGO_FRAME_VERSION     1
#define ZEGO_FRAME_HEADER_SIZE 36

/* Default and hard bounds of a frame's payload. */
#define ZEGO_FRAME_PAYLOAD_DEFAULT_MAX (4u * 1024 * 1024)

typedef struct zego_frame_header {
    uint8_t track;
    uint8_t flags;
    uint32_t sequence;       /* per track, +1 per frame; a gap means frames were dropped */
    int64_t pts_us;          /* presentation time, microseconds, publisher's timeline */
    int64_t dts_us;          /* decode time; equal to pts without reordering */
    int64_t capture_time_us; /* publisher's wall clock (Unix us) at capture; 0 = unknown */
    uint32_t payload_size;
} zego_frame_header;

/* Writes the ZEGO_FRAME_HEADER_SIZE header bytes for h to out. */
void zego_frame_header_write(const zego_frame_header *h, uint8_t out[ZEGO_FRAME_HEADER_SIZE]);

/* Parses a whole binary message: header and payload.  max_payload bounds the
 * payload.  On success *payload points into data. */
int zego_frame_parse(const uint8_t *data, size_t len, size_t max_payload, zego_frame_header *h,
                     const uint8_t **payload, zego_error *err);

#endif
