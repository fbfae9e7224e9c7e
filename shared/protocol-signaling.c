/* Signaling messages: JSON encoding and decoding, table-driven.
 *
 * Each message body is described once, as a table of fields (JSON name, C
 * member, kind, limits).  Decoding and encoding walk the same tables and run
 * the same checks on the C value, so the two directions cannot drift apart and
 * adding a field is one line.  docs/protocol.md lists the same fields. */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base64.h"
#include "protocol.h"

/* ---- Field descriptions ---- */

enum field_kind {
    K_U32,
    K_I32,
    K_I64,
    K_U64, /* non-negative and at most 2^53, so JavaScript reads it exactly */
    K_BOOL,
    K_STR,    /* NUL-terminated buffer of `size` bytes, checked by `validate` */
    K_ENUM,   /* an int stored as one of `names` */
    K_BINARY, /* bytes, base64 in JSON; length at `aux_offset` */
    K_OBJECT, /* a nested struct described by `object` */
    K_ARRAY,  /* pointer + count (at `aux_offset`) of elements described by `elem` */
};

#define F_REQUIRED 0x01
#define F_NONEMPTY 0x02 /* a string or list that must not be empty */

typedef int (*string_validator)(const char *s, zego_error *err);

struct object_desc;

struct field {
    const char *name;
    enum field_kind kind;
    size_t offset;
    unsigned flags;
    size_t size;       /* K_STR: buffer size; K_BINARY: max bytes; K_ARRAY: element size */
    size_t aux_offset; /* K_BINARY: length member; K_ARRAY: count member */
    uint32_t min, max; /* K_U32: range; K_ARRAY: max elements */
    string_validator validate;
    const char *const *names;
    const struct object_desc *object;
    const struct field *elem;
};

struct object_desc {
    const struct field *fields;
    size_t n_fields;
};

#define MEMBER_SIZE(T, m) sizeof(((T *)0)->m)

#define STR(n, T, m, fl, v)                                              \
    {                                                                    \
        .name = n, .kind = K_STR, .offset = offsetof(T, m), .flags = fl, \
        .size = MEMBER_SIZE(T, m), .validate = v                         \
    }
#define U32(n, T, m, fl, lo, hi)                                                              \
    {                                                                                         \
        .name = n, .kind = K_U32, .offset = offsetof(T, m), .flags = fl, .min = lo, .max = hi \
    }
#define I32(n, T, m, fl)                                                \
    {                                                                   \
        .name = n, .kind = K_I32, .offset = offsetof(T, m), .flags = fl \
    }
#define I64(n, T, m, fl)                                                \
    {                                                                   \
        .name = n, .kind = K_I64, .offset = offsetof(T, m), .flags = fl \
    }
#define U64(n, T, m, fl)                                                \
    {                                                                   \
        .name = n, .kind = K_U64, .offset = offsetof(T, m), .flags = fl \
    }
#define BOOL(n, T, m, fl)                                                \
    {                                                                    \
        .name = n, .kind = K_BOOL, .offset = offsetof(T, m), .flags = fl \
    }
#define ENUM(n, T, m, fl, list)                                                         \
    {                                                                                   \
        .name = n, .kind = K_ENUM, .offset = offsetof(T, m), .flags = fl, .names = list \
    }
#define OBJ(n, T, m, fl, desc)                                                              \
    {                                                                                       \
        .name = n, .kind = K_OBJECT, .offset = offsetof(T, m), .flags = fl, .object = &desc \
    }
#define ARR(n, T, m, count, fl, element, most)                                       \
    {                                                                                \
        .name = n, .kind = K_ARRAY, .offset = offsetof(T, m), .flags = fl,           \
        .size = sizeof(*((T *)0)->m), .aux_offset = offsetof(T, count), .max = most, \
        .elem = &element                                                             \
    }
#define BIN(n, T, m, len, fl)                                               \
    {                                                                       \
        .name = n, .kind = K_BINARY, .offset = offsetof(T, m), .flags = fl, \
        .size = MEMBER_SIZE(T, m), .aux_offset = offsetof(T, len)           \
    }
#define DESC(fields)                             \
    {                                            \
        fields, sizeof fields / sizeof fields[0] \
    }

/* ---- Validators of opaque strings ---- */

/* Tokens, tickets, session ids, URLs: printable ASCII without spaces. */
static int validate_opaque(const char *s, zego_error *err)
{
    for (size_t i = 0; s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f)
            return zego_error_set(err, ZEGO_ERR_VALUE_INVALID,
                                  "byte 0x%02x at offset %zu is not printable ASCII", c, i);
    }
    return ZEGO_ERR_OK;
}

/* Error messages and client names: any UTF-8. */
static int validate_free_text(const char *s, zego_error *err)
{
    size_t bad;
    if (!zego_utf8_valid(s, strlen(s), &bad))
        return zego_error_set(err, ZEGO_ERR_TEXT_INVALID_UTF8,
                              "invalid UTF-8 byte 0x%02x at byte %zu", (unsigned char)s[bad], bad);
    return ZEGO_ERR_OK;
}

/* ---- The messages ---- */

static const char *const update_names[] = {"add", "delete", NULL};
static const char *const reason_names[] = {"",           "logout",        "unpublish", "timeout",
                                           "kicked_out", "server_closed", NULL};
static const char *const role_names[] = {"publish", "play", NULL};
static const char *const kind_names[] = {"video", "audio", NULL};
static const char *const codec_names[] = {"h264", "h265", "vp8", "vp9", "av1", "opus", "aac", NULL};

static const struct field user_info_fields[] = {
    STR("user_id", zego_user, user_id, F_REQUIRED, zego_validate_user_id),
    STR("user_name", zego_user, user_name, 0, zego_validate_user_name),
};
static const struct object_desc user_info_desc = DESC(user_info_fields);
static const struct field user_info_elem = {.kind = K_OBJECT, .object = &user_info_desc};

static const struct field stream_desc_fields[] = {
    STR("stream_id", zego_stream, stream_id, F_REQUIRED, zego_validate_stream_id),
    STR("user_id", zego_stream, user_id, F_REQUIRED, zego_validate_user_id),
    STR("user_name", zego_stream, user_name, 0, zego_validate_user_name),
    STR("extra_info", zego_stream, extra_info, 0, zego_validate_extra_info),
};
static const struct object_desc stream_desc_desc = DESC(stream_desc_fields);
static const struct field stream_desc_elem = {.kind = K_OBJECT, .object = &stream_desc_desc};

static const struct field user_id_elem = {
    .kind = K_STR, .size = ZEGO_USER_ID_SIZE, .validate = zego_validate_user_id};

static const struct field media_endpoint_fields[] = {
    STR("url", zego_media_endpoint, url, F_REQUIRED | F_NONEMPTY, validate_opaque),
    STR("ticket", zego_media_endpoint, ticket, F_REQUIRED | F_NONEMPTY, validate_opaque),
    I64("expires_ms", zego_media_endpoint, expires_ms, F_REQUIRED),
};
static const struct object_desc media_endpoint_desc = DESC(media_endpoint_fields);

static const struct field track_fields[] = {
    U32("id", zego_track, id, F_REQUIRED, 0, 255),
    ENUM("kind", zego_track, kind, F_REQUIRED, kind_names),
    ENUM("codec", zego_track, codec, F_REQUIRED, codec_names),
    STR("codec_string", zego_track, codec_string, F_REQUIRED | F_NONEMPTY, validate_opaque),
    U32("width", zego_track, width, 0, 0, 16384),
    U32("height", zego_track, height, 0, 0, 16384),
    U32("framerate_num", zego_track, framerate_num, 0, 0, 1000000),
    U32("framerate_den", zego_track, framerate_den, 0, 0, 1000000),
    U32("sample_rate", zego_track, sample_rate, 0, 0, 384000),
    U32("channels", zego_track, channels, 0, 0, 8),
    BIN("config", zego_track, config, config_len, 0),
};
static const struct object_desc track_desc = DESC(track_fields);
static const struct field track_elem = {.kind = K_OBJECT, .object = &track_desc};

/* Requests */
static const struct field login_fields[] = {
    U32("version", zego_login_req, version, F_REQUIRED, 0, 0),
    U32("app_id", zego_login_req, app_id, F_REQUIRED, 0, 0),
    STR("room_id", zego_login_req, room_id, F_REQUIRED, zego_validate_room_id),
    STR("user_id", zego_login_req, user_id, F_REQUIRED, zego_validate_user_id),
    STR("user_name", zego_login_req, user_name, 0, zego_validate_user_name),
    STR("token", zego_login_req, token, 0, validate_opaque),
    BOOL("user_update", zego_login_req, user_update, 0),
    U32("max_member_count", zego_login_req, max_member_count, 0, 0, 0),
    STR("session_id", zego_login_req, session_id, 0, validate_opaque),
    STR("resume_token", zego_login_req, resume_token, 0, validate_opaque),
    STR("client", zego_login_req, client, 0, validate_free_text),
};
static const struct field heartbeat_fields[] = {
    I64("client_time_ms", zego_heartbeat_req, client_time_ms, 0),
};
static const struct field renew_token_fields[] = {
    STR("token", zego_renew_token_req, token, F_REQUIRED | F_NONEMPTY, validate_opaque),
};
static const struct field publish_fields[] = {
    STR("stream_id", zego_publish_req, stream_id, F_REQUIRED, zego_validate_stream_id),
    STR("extra_info", zego_publish_req, extra_info, 0, zego_validate_extra_info),
};
static const struct field stream_req_fields[] = {
    STR("stream_id", zego_stream_req, stream_id, F_REQUIRED, zego_validate_stream_id),
};
static const struct field broadcast_fields[] = {
    STR("message", zego_send_message_req, message, F_REQUIRED, zego_validate_message),
};
static const struct field custom_command_fields[] = {
    STR("command", zego_send_message_req, message, F_REQUIRED, zego_validate_message),
    ARR("to_user_ids", zego_send_message_req, to_user_ids, n_to_user_ids, 0, user_id_elem,
        ZEGO_MAX_COMMAND_USERS),
};
static const struct field media_ticket_fields[] = {
    STR("stream_id", zego_media_ticket_req, stream_id, F_REQUIRED, zego_validate_stream_id),
    ENUM("role", zego_media_ticket_req, role, F_REQUIRED, role_names),
};

/* Replies */
static const struct field login_reply_fields[] = {
    STR("room_id", zego_login_reply, room_id, F_REQUIRED, zego_validate_room_id),
    STR("session_id", zego_login_reply, session_id, F_REQUIRED | F_NONEMPTY, validate_opaque),
    STR("resume_token", zego_login_reply, resume_token, F_REQUIRED | F_NONEMPTY, validate_opaque),
    BOOL("resumed", zego_login_reply, resumed, 0),
    U32("heartbeat_interval_ms", zego_login_reply, heartbeat_interval_ms, F_REQUIRED, 100, 3600000),
    U32("reconnect_window_ms", zego_login_reply, reconnect_window_ms, F_REQUIRED, 0, 0),
    I64("server_time_ms", zego_login_reply, server_time_ms, F_REQUIRED),
    I64("token_expire", zego_login_reply, token_expire, 0),
    ARR("users", zego_login_reply, users, n_users, 0, user_info_elem, ZEGO_MAX_USERS_LISTED),
    ARR("streams", zego_login_reply, streams, n_streams, 0, stream_desc_elem,
        ZEGO_MAX_STREAMS_LISTED),
};
static const struct field heartbeat_reply_fields[] = {
    I64("client_time_ms", zego_heartbeat_reply, client_time_ms, 0),
    I64("server_time_ms", zego_heartbeat_reply, server_time_ms, F_REQUIRED),
};
static const struct field renew_token_reply_fields[] = {
    I64("token_expire", zego_renew_token_reply, token_expire, F_REQUIRED),
};
static const struct field media_reply_fields[] = {
    STR("stream_id", zego_media_reply, stream_id, F_REQUIRED, zego_validate_stream_id),
    BOOL("published", zego_media_reply, published, 0),
    OBJ("media", zego_media_reply, media, F_REQUIRED, media_endpoint_desc),
};
static const struct field stream_reply_fields[] = {
    STR("stream_id", zego_stream_reply, stream_id, F_REQUIRED, zego_validate_stream_id),
};
static const struct field broadcast_reply_fields[] = {
    U64("message_id", zego_send_message_reply, message_id, F_REQUIRED),
};

/* Events */
static const struct field user_update_fields[] = {
    STR("room_id", zego_user_update_event, room_id, F_REQUIRED, zego_validate_room_id),
    ENUM("update", zego_user_update_event, update, F_REQUIRED, update_names),
    ENUM("reason", zego_user_update_event, reason, 0, reason_names),
    ARR("users", zego_user_update_event, users, n_users, F_REQUIRED | F_NONEMPTY, user_info_elem,
        ZEGO_MAX_USERS_LISTED),
};
static const struct field stream_update_fields[] = {
    STR("room_id", zego_stream_update_event, room_id, F_REQUIRED, zego_validate_room_id),
    ENUM("update", zego_stream_update_event, update, F_REQUIRED, update_names),
    ENUM("reason", zego_stream_update_event, reason, 0, reason_names),
    ARR("streams", zego_stream_update_event, streams, n_streams, F_REQUIRED | F_NONEMPTY,
        stream_desc_elem, ZEGO_MAX_STREAMS_LISTED),
};
static const struct field stream_extra_info_update_fields[] = {
    STR("room_id", zego_stream_update_event, room_id, F_REQUIRED, zego_validate_room_id),
    ARR("streams", zego_stream_update_event, streams, n_streams, F_REQUIRED | F_NONEMPTY,
        stream_desc_elem, ZEGO_MAX_STREAMS_LISTED),
};
static const struct field broadcast_message_fields[] = {
    STR("room_id", zego_message_event, room_id, F_REQUIRED, zego_validate_room_id),
    OBJ("from", zego_message_event, from, F_REQUIRED, user_info_desc),
    STR("message", zego_message_event, message, F_REQUIRED, zego_validate_message),
    U64("message_id", zego_message_event, message_id, F_REQUIRED),
    I64("send_time_ms", zego_message_event, send_time_ms, F_REQUIRED),
};
static const struct field custom_command_event_fields[] = {
    STR("room_id", zego_message_event, room_id, F_REQUIRED, zego_validate_room_id),
    OBJ("from", zego_message_event, from, F_REQUIRED, user_info_desc),
    STR("command", zego_message_event, message, F_REQUIRED, zego_validate_message),
    I64("send_time_ms", zego_message_event, send_time_ms, F_REQUIRED),
};
static const struct field token_will_expire_fields[] = {
    STR("room_id", zego_token_will_expire_event, room_id, F_REQUIRED, zego_validate_room_id),
    U32("remaining_s", zego_token_will_expire_event, remaining_s, F_REQUIRED, 0, 0),
};
static const struct field kicked_out_fields[] = {
    STR("room_id", zego_notice_event, room_id, F_REQUIRED, zego_validate_room_id),
    I32("code", zego_notice_event, code, F_REQUIRED),
    STR("message", zego_notice_event, message, 0, validate_free_text),
};
static const struct field going_away_fields[] = {
    I32("code", zego_notice_event, code, F_REQUIRED),
    STR("message", zego_notice_event, message, 0, validate_free_text),
    U32("reconnect_after_ms", zego_notice_event, reconnect_after_ms, 0, 0, 0),
};
static const struct field error_fields[] = {
    I32("code", zego_notice_event, code, F_REQUIRED),
    STR("message", zego_notice_event, message, 0, validate_free_text),
};
static const struct field stream_info_fields[] = {
    STR("stream_id", zego_stream_info, stream_id, F_REQUIRED, zego_validate_stream_id),
    U32("generation", zego_stream_info, generation, F_REQUIRED, 0, 0),
    ARR("tracks", zego_stream_info, tracks, n_tracks, F_REQUIRED | F_NONEMPTY, track_elem,
        ZEGO_MAX_TRACKS),
};
static const struct field keyframe_request_fields[] = {
    STR("stream_id", zego_keyframe_request, stream_id, F_REQUIRED, zego_validate_stream_id),
    U32("track", zego_keyframe_request, track, F_REQUIRED, 0, 255),
};

static const struct object_desc empty_desc = {NULL, 0};
#define D(fields) &(const struct object_desc)DESC(fields)

typedef int (*body_check)(const zego_msg *msg, zego_error *err);
static int check_login(const zego_msg *msg, zego_error *err);
static int check_stream_info(const zego_msg *msg, zego_error *err);

struct msg_spec {
    const char *name;
    bool request;
    const struct object_desc *body;
    const struct object_desc *reply_body; /* requests only */
    body_check check;
};

static const struct msg_spec specs[ZEGO_MSG_TYPE_COUNT] = {
    [ZEGO_MSG_LOGIN] = {"login", true, D(login_fields), D(login_reply_fields), check_login},
    [ZEGO_MSG_LOGOUT] = {"logout", true, &empty_desc, &empty_desc, NULL},
    [ZEGO_MSG_HEARTBEAT] = {"heartbeat", true, D(heartbeat_fields), D(heartbeat_reply_fields),
                            NULL},
    [ZEGO_MSG_RENEW_TOKEN] = {"renew_token", true, D(renew_token_fields),
                              D(renew_token_reply_fields), NULL},
    [ZEGO_MSG_PUBLISH] = {"publish", true, D(publish_fields), D(media_reply_fields), NULL},
    [ZEGO_MSG_UNPUBLISH] = {"unpublish", true, D(stream_req_fields), D(stream_reply_fields), NULL},
    [ZEGO_MSG_PLAY] = {"play", true, D(stream_req_fields), D(media_reply_fields), NULL},
    [ZEGO_MSG_STOP_PLAY] = {"stop_play", true, D(stream_req_fields), D(stream_reply_fields), NULL},
    [ZEGO_MSG_SET_STREAM_EXTRA_INFO] = {"set_stream_extra_info", true, D(publish_fields),
                                        D(stream_reply_fields), NULL},
    [ZEGO_MSG_SEND_BROADCAST_MESSAGE] = {"send_broadcast_message", true, D(broadcast_fields),
                                         D(broadcast_reply_fields), NULL},
    [ZEGO_MSG_SEND_CUSTOM_COMMAND] = {"send_custom_command", true, D(custom_command_fields),
                                      &empty_desc, NULL},
    [ZEGO_MSG_MEDIA_TICKET] = {"media_ticket", true, D(media_ticket_fields), D(media_reply_fields),
                               NULL},
    [ZEGO_MSG_REPLY] = {"reply", false, NULL, NULL, NULL},
    [ZEGO_MSG_USER_UPDATE] = {"user_update", false, D(user_update_fields), NULL, NULL},
    [ZEGO_MSG_STREAM_UPDATE] = {"stream_update", false, D(stream_update_fields), NULL, NULL},
    [ZEGO_MSG_STREAM_EXTRA_INFO_UPDATE] = {"stream_extra_info_update", false,
                                           D(stream_extra_info_update_fields), NULL, NULL},
    [ZEGO_MSG_BROADCAST_MESSAGE] = {"broadcast_message", false, D(broadcast_message_fields), NULL,
                                    NULL},
    [ZEGO_MSG_CUSTOM_COMMAND] = {"custom_command", false, D(custom_command_event_fields), NULL,
                                 NULL},
    [ZEGO_MSG_TOKEN_WILL_EXPIRE] = {"token_will_expire", false, D(token_will_expire_fields), NULL,
                                    NULL},
    [ZEGO_MSG_KICKED_OUT] = {"kicked_out", false, D(kicked_out_fields), NULL, NULL},
    [ZEGO_MSG_GOING_AWAY] = {"going_away", false, D(going_away_fields), NULL, NULL},
    [ZEGO_MSG_ERROR] = {"error", false, D(error_fields), NULL, NULL},
    [ZEGO_MSG_STREAM_INFO] = {"stream_info", false, D(stream_info_fields), NULL, check_stream_info},
    [ZEGO_MSG_KEYFRAME_REQUEST] = {"keyframe_request", false, D(keyframe_request_fields), NULL,
                                   NULL},
};

const char *zego_msg_type_name(zego_msg_type type)
{
    return type > ZEGO_MSG_NONE && type < ZEGO_MSG_TYPE_COUNT ? specs[type].name : NULL;
}

bool zego_msg_type_is_request(zego_msg_type type)
{
    return type > ZEGO_MSG_NONE && type < ZEGO_MSG_TYPE_COUNT && specs[type].request;
}

static zego_msg_type type_from_name(const char *name)
{
    for (int t = ZEGO_MSG_NONE + 1; t < ZEGO_MSG_TYPE_COUNT; t++) {
        if (strcmp(specs[t].name, name) == 0)
            return (zego_msg_type)t;
    }
    return ZEGO_MSG_NONE;
}

/* ---- Error paths: "login.streams[2].stream_id: ..." ---- */

struct path {
    char text[160];
    size_t len;
};

static size_t path_push(struct path *p, const char *name, long index)
{
    size_t saved = p->len;
    int n;
    if (index >= 0)
        n = snprintf(p->text + p->len, sizeof p->text - p->len, "[%ld]", index);
    else
        n = snprintf(p->text + p->len, sizeof p->text - p->len, "%s%s", p->len ? "." : "", name);
    if (n > 0)
        p->len = p->len + (size_t)n < sizeof p->text ? p->len + (size_t)n : sizeof p->text - 1;
    return saved;
}

static void path_pop(struct path *p, size_t saved)
{
    p->len = saved;
    p->text[saved] = '\0';
}

static void append_text(char *dst, size_t size, size_t *pos, const char *s)
{
    size_t n = strlen(s);
    if (n > size - 1 - *pos)
        n = size - 1 - *pos; /* cut to fit: the start of a message says the most */
    memcpy(dst + *pos, s, n);
    *pos += n;
    dst[*pos] = '\0';
}

/* Puts "PATH: " in front of the message a validator wrote. */
static int fail_at(const struct path *p, zego_error *err, int code)
{
    if (err && p->len) {
        char inner[ZEGO_ERROR_MESSAGE_MAX];
        size_t pos = 0;
        memcpy(inner, err->message, sizeof inner);
        append_text(err->message, sizeof err->message, &pos, p->text);
        append_text(err->message, sizeof err->message, &pos, ": ");
        append_text(err->message, sizeof err->message, &pos, inner);
    }
    return code;
}

#define FAIL(p, err, code, ...) fail_at(p, err, zego_error_set(err, code, __VA_ARGS__))

/* ---- Checks of C values, shared by both directions ---- */

static int check_string(const struct field *f, const char *s, const struct path *p, zego_error *err)
{
    size_t len = strlen(s);
    if (f->validate && (s[0] || (f->flags & F_REQUIRED))) {
        int rc = f->validate(s, err);
        if (rc != ZEGO_ERR_OK)
            return fail_at(p, err, rc);
    }
    if (len >= f->size)
        return FAIL(p, err, ZEGO_ERR_PROTOCOL_OUT_OF_RANGE, "is %zu bytes long; the limit is %zu",
                    len, f->size - 1);
    if ((f->flags & F_NONEMPTY) && len == 0)
        return FAIL(p, err, ZEGO_ERR_VALUE_INVALID, "must not be empty");
    return ZEGO_ERR_OK;
}

static int check_u32(const struct field *f, uint64_t v, const struct path *p, zego_error *err)
{
    uint32_t hi = f->max ? f->max : UINT32_MAX;
    if (f->min == 0 && f->max == 0)
        hi = UINT32_MAX;
    if (v < f->min || v > hi)
        return FAIL(p, err, ZEGO_ERR_PROTOCOL_OUT_OF_RANGE, "%" PRIu64 " is outside %u..%u", v,
                    f->min, hi);
    return ZEGO_ERR_OK;
}

static int enum_count(const char *const *names)
{
    int n = 0;
    while (names[n])
        n++;
    return n;
}

/* ---- Decoding ---- */

static int decode_object(const struct object_desc *d, json_t *obj, void *base, struct path *p,
                         zego_error *err);

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "a list";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a fractional number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

#define WRONG_TYPE(p, err, v, want) \
    FAIL(p, err, ZEGO_ERR_PROTOCOL_WRONG_TYPE, "must be %s, not %s", want, json_type_name(v))

static int decode_value(const struct field *f, json_t *v, void *base, struct path *p,
                        zego_error *err)
{
    char *at = (char *)base + f->offset;
    switch (f->kind) {
    case K_U32:
    case K_I32:
    case K_I64:
    case K_U64: {
        if (!json_is_integer(v))
            return WRONG_TYPE(p, err, v, "an integer");
        json_int_t n = json_integer_value(v);
        if (f->kind == K_I64) {
            *(int64_t *)at = n;
        } else if (f->kind == K_I32) {
            if (n < INT32_MIN || n > INT32_MAX)
                return FAIL(p, err, ZEGO_ERR_PROTOCOL_OUT_OF_RANGE, "%lld does not fit 32 bits",
                            (long long)n);
            *(int32_t *)at = (int32_t)n;
        } else if (f->kind == K_U64) {
            if (n < 0 || n > (1LL << 53))
                return FAIL(p, err, ZEGO_ERR_PROTOCOL_OUT_OF_RANGE, "%lld is outside 0..2^53",
                            (long long)n);
            *(uint64_t *)at = (uint64_t)n;
        } else {
            if (n < 0 || n > UINT32_MAX)
                return FAIL(p, err, ZEGO_ERR_PROTOCOL_OUT_OF_RANGE, "%lld is outside 0..4294967295",
                            (long long)n);
            int rc = check_u32(f, (uint64_t)n, p, err);
            if (rc)
                return rc;
            *(uint32_t *)at = (uint32_t)n;
        }
        return ZEGO_ERR_OK;
    }
    case K_BOOL:
        if (!json_is_boolean(v))
            return WRONG_TYPE(p, err, v, "true or false");
        *(bool *)at = json_is_true(v);
        return ZEGO_ERR_OK;
    case K_STR: {
        if (!json_is_string(v))
            return WRONG_TYPE(p, err, v, "a string");
        const char *s = json_string_value(v);
        int rc = check_string(f, s, p, err);
        if (rc)
            return rc;
        memcpy(at, s, strlen(s) + 1);
        return ZEGO_ERR_OK;
    }
    case K_ENUM: {
        if (!json_is_string(v))
            return WRONG_TYPE(p, err, v, "a string");
        const char *s = json_string_value(v);
        for (int i = 0; f->names[i]; i++) {
            if (f->names[i][0] && strcmp(f->names[i], s) == 0) {
                *(int *)at = i;
                return ZEGO_ERR_OK;
            }
        }
        char allowed[160] = "";
        for (int i = 0; f->names[i]; i++) {
            if (f->names[i][0])
                snprintf(allowed + strlen(allowed), sizeof allowed - strlen(allowed), "%s\"%s\"",
                         allowed[0] ? ", " : "", f->names[i]);
        }
        return FAIL(p, err, ZEGO_ERR_VALUE_INVALID, "\"%.40s\" is not one of %s", s, allowed);
    }
    case K_BINARY: {
        if (!json_is_string(v))
            return WRONG_TYPE(p, err, v, "a base64 string");
        size_t out_len, bad;
        if (!zego_base64_decode(json_string_value(v), json_string_length(v), (uint8_t *)at, f->size,
                                &out_len, &bad, ZEGO_BASE64_STD))
            return FAIL(p, err, ZEGO_ERR_VALUE_INVALID,
                        "is not base64 of at most %zu bytes (problem at character %zu)", f->size,
                        bad);
        *(size_t *)((char *)base + f->aux_offset) = out_len;
        return ZEGO_ERR_OK;
    }
    case K_OBJECT:
        if (!json_is_object(v))
            return WRONG_TYPE(p, err, v, "an object");
        return decode_object(f->object, v, at, p, err);
    case K_ARRAY: {
        if (!json_is_array(v))
            return WRONG_TYPE(p, err, v, "a list");
        size_t n = json_array_size(v);
        if (n > f->max)
            return FAIL(p, err, ZEGO_ERR_PROTOCOL_OUT_OF_RANGE, "has %zu entries; the limit is %u",
                        n, f->max);
        if ((f->flags & F_NONEMPTY) && n == 0)
            return FAIL(p, err, ZEGO_ERR_VALUE_INVALID, "must not be empty");
        char *elems = n ? calloc(n, f->size) : NULL;
        if (n && !elems)
            return FAIL(p, err, ZEGO_ERR_INTERNAL, "out of memory");
        /* Owned by the message from here on, so zego_msg_clear frees it. */
        *(void **)at = elems;
        *(size_t *)((char *)base + f->aux_offset) = n;
        for (size_t i = 0; i < n; i++) {
            size_t saved = path_push(p, NULL, (long)i);
            int rc = decode_value(f->elem, json_array_get(v, i), elems + i * f->size, p, err);
            if (rc)
                return rc;
            path_pop(p, saved);
        }
        return ZEGO_ERR_OK;
    }
    }
    return FAIL(p, err, ZEGO_ERR_INTERNAL, "unknown field kind");
}

static int decode_object(const struct object_desc *d, json_t *obj, void *base, struct path *p,
                         zego_error *err)
{
    for (size_t i = 0; i < d->n_fields; i++) {
        const struct field *f = &d->fields[i];
        json_t *v = json_object_get(obj, f->name);
        size_t saved = path_push(p, f->name, -1);
        if (!v || json_is_null(v)) {
            if (f->flags & F_REQUIRED)
                return FAIL(p, err, ZEGO_ERR_PROTOCOL_MISSING_FIELD, "is missing");
        } else {
            int rc = decode_value(f, v, base, p, err);
            if (rc)
                return rc;
        }
        path_pop(p, saved);
    }
    return ZEGO_ERR_OK;
}

/* ---- Encoding ---- */

static int encode_object(const struct object_desc *d, const void *base, json_t *obj, struct path *p,
                         zego_error *err);

static bool is_default(const struct field *f, const void *base)
{
    const char *at = (const char *)base + f->offset;
    switch (f->kind) {
    case K_U32:
        return *(const uint32_t *)at == 0;
    case K_I32:
        return *(const int32_t *)at == 0;
    case K_I64:
        return *(const int64_t *)at == 0;
    case K_U64:
        return *(const uint64_t *)at == 0;
    case K_BOOL:
        return !*(const bool *)at;
    case K_STR:
        return at[0] == '\0';
    case K_ENUM:
        return *(const int *)at == 0;
    case K_BINARY:
    case K_ARRAY:
        return *(const size_t *)((const char *)base + f->aux_offset) == 0;
    case K_OBJECT:
        return false;
    }
    return false;
}

static json_t *encode_value(const struct field *f, const void *base, struct path *p,
                            zego_error *err)
{
    const char *at = (const char *)base + f->offset;
    switch (f->kind) {
    case K_U32:
        if (check_u32(f, *(const uint32_t *)at, p, err))
            return NULL;
        return json_integer(*(const uint32_t *)at);
    case K_I32:
        return json_integer(*(const int32_t *)at);
    case K_I64:
        return json_integer(*(const int64_t *)at);
    case K_U64:
        if (*(const uint64_t *)at > (1ULL << 53)) {
            FAIL(p, err, ZEGO_ERR_PROTOCOL_OUT_OF_RANGE, "is outside 0..2^53");
            return NULL;
        }
        return json_integer((json_int_t) * (const uint64_t *)at);
    case K_BOOL:
        return json_boolean(*(const bool *)at);
    case K_STR: {
        if (memchr(at, '\0', f->size) == NULL) {
            FAIL(p, err, ZEGO_ERR_PROTOCOL_OUT_OF_RANGE, "is not NUL-terminated");
            return NULL;
        }
        if (check_string(f, at, p, err))
            return NULL;
        /* Validators guarantee UTF-8 only where they check text; make sure. */
        json_t *s = json_string(at);
        if (!s)
            FAIL(p, err, ZEGO_ERR_TEXT_INVALID_UTF8, "is not valid UTF-8");
        return s;
    }
    case K_ENUM: {
        int v = *(const int *)at;
        if (v < 0 || v >= enum_count(f->names) || (f->names[v][0] == '\0' && v != 0)) {
            FAIL(p, err, ZEGO_ERR_VALUE_INVALID, "has no name for value %d", v);
            return NULL;
        }
        return json_string(f->names[v]);
    }
    case K_BINARY: {
        size_t n = *(const size_t *)((const char *)base + f->aux_offset);
        if (n > f->size) {
            FAIL(p, err, ZEGO_ERR_PROTOCOL_OUT_OF_RANGE, "is %zu bytes; the limit is %zu", n,
                 f->size);
            return NULL;
        }
        char *text = malloc(zego_base64_encoded_len(n, ZEGO_BASE64_STD) + 1);
        if (!text)
            return NULL;
        zego_base64_encode((const uint8_t *)at, n, text, ZEGO_BASE64_STD);
        json_t *s = json_string(text);
        free(text);
        return s;
    }
    case K_OBJECT: {
        json_t *obj = json_object();
        if (obj && encode_object(f->object, at, obj, p, err)) {
            json_decref(obj);
            return NULL;
        }
        return obj;
    }
    case K_ARRAY: {
        size_t n = *(const size_t *)((const char *)base + f->aux_offset);
        const char *elems = *(char *const *)at;
        if (n > f->max) {
            FAIL(p, err, ZEGO_ERR_PROTOCOL_OUT_OF_RANGE, "has %zu entries; the limit is %u", n,
                 f->max);
            return NULL;
        }
        if ((f->flags & F_NONEMPTY) && n == 0) {
            FAIL(p, err, ZEGO_ERR_VALUE_INVALID, "must not be empty");
            return NULL;
        }
        if (n && !elems) {
            FAIL(p, err, ZEGO_ERR_INVALID_ARGUMENT, "has %zu entries but no array", n);
            return NULL;
        }
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < n; i++) {
            size_t saved = path_push(p, NULL, (long)i);
            json_t *e = encode_value(f->elem, elems + i * f->size, p, err);
            if (!e) {
                json_decref(arr);
                return NULL;
            }
            json_array_append_new(arr, e);
            path_pop(p, saved);
        }
        return arr;
    }
    }
    return NULL;
}

static int encode_object(const struct object_desc *d, const void *base, json_t *obj, struct path *p,
                         zego_error *err)
{
    for (size_t i = 0; i < d->n_fields; i++) {
        const struct field *f = &d->fields[i];
        if (!(f->flags & F_REQUIRED) && is_default(f, base))
            continue;
        size_t saved = path_push(p, f->name, -1);
        zego_error_clear(err);
        json_t *v = encode_value(f, base, p, err);
        if (!v)
            return err && err->code ? err->code
                                    : FAIL(p, err, ZEGO_ERR_INTERNAL, "could not be encoded");
        json_object_set_new(obj, f->name, v);
        path_pop(p, saved);
    }
    return ZEGO_ERR_OK;
}

/* ---- Cross-field checks ---- */

static int check_login(const zego_msg *msg, zego_error *err)
{
    const zego_login_req *l = &msg->u.login;
    if (l->version != ZEGO_PROTOCOL_VERSION)
        return zego_error_set(err, ZEGO_ERR_PROTOCOL_VERSION,
                              "login: protocol version %u is not supported; this side speaks "
                              "version %d",
                              l->version, ZEGO_PROTOCOL_VERSION);
    if (!l->session_id[0] != !l->resume_token[0])
        return zego_error_set(err, ZEGO_ERR_PROTOCOL_MISSING_FIELD,
                              "login: session_id and resume_token go together; one is missing");
    return ZEGO_ERR_OK;
}

static int check_stream_info(const zego_msg *msg, zego_error *err)
{
    const zego_stream_info *si = &msg->u.stream_info;
    for (size_t i = 0; i < si->n_tracks; i++) {
        const zego_track *t = &si->tracks[i];
        for (size_t j = 0; j < i; j++) {
            if (si->tracks[j].id == t->id)
                return zego_error_set(err, ZEGO_ERR_STREAM_INFO_INVALID,
                                      "stream_info.tracks[%zu]: track id %u is used twice", i,
                                      t->id);
        }
        if (zego_codec_kind(t->codec) != t->kind)
            return zego_error_set(err, ZEGO_ERR_STREAM_INFO_INVALID,
                                  "stream_info.tracks[%zu]: codec %s is not a %s codec", i,
                                  zego_codec_name(t->codec), kind_names[t->kind]);
        zego_error inner;
        if (zego_codec_string_check(t->codec, t->codec_string, &inner))
            return zego_error_set(err, inner.code, "stream_info.tracks[%zu]: %s", i, inner.message);
        if (t->kind == ZEGO_TRACK_AUDIO && (t->sample_rate == 0 || t->channels == 0))
            return zego_error_set(err, ZEGO_ERR_STREAM_INFO_INVALID,
                                  "stream_info.tracks[%zu]: an audio track needs sample_rate "
                                  "and channels",
                                  i);
        if (t->codec == ZEGO_CODEC_AAC && t->config_len == 0)
            return zego_error_set(err, ZEGO_ERR_STREAM_INFO_INVALID,
                                  "stream_info.tracks[%zu]: AAC needs its AudioSpecificConfig in "
                                  "config",
                                  i);
        if ((t->framerate_num == 0) != (t->framerate_den == 0))
            return zego_error_set(err, ZEGO_ERR_STREAM_INFO_INVALID,
                                  "stream_info.tracks[%zu]: framerate_num and framerate_den "
                                  "must both be 0 or both be set",
                                  i);
    }
    return ZEGO_ERR_OK;
}

/* ---- Public entry points ---- */

void zego_msg_init(zego_msg *msg, zego_msg_type type)
{
    memset(msg, 0, sizeof *msg);
    msg->type = type;
}

static void free_lists(const struct object_desc *d, void *base)
{
    for (size_t i = 0; d && i < d->n_fields; i++) {
        const struct field *f = &d->fields[i];
        if (f->kind == K_ARRAY) {
            void **elems = (void **)((char *)base + f->offset);
            free(*elems);
            *elems = NULL;
            *(size_t *)((char *)base + f->aux_offset) = 0;
        }
    }
}

static const struct object_desc *body_desc(const zego_msg *msg)
{
    if (msg->type <= ZEGO_MSG_NONE || msg->type >= ZEGO_MSG_TYPE_COUNT)
        return NULL;
    if (msg->type != ZEGO_MSG_REPLY)
        return specs[msg->type].body;
    if (msg->code != 0 || !zego_msg_type_is_request(msg->reply_to))
        return NULL;
    return specs[msg->reply_to].reply_body;
}

void zego_msg_clear(zego_msg *msg)
{
    /* Lists only exist at the top level of bodies (nested objects have none). */
    free_lists(body_desc(msg), &msg->u);
    zego_msg_init(msg, ZEGO_MSG_NONE);
}

void zego_msg_init_reply(zego_msg *reply, const zego_msg *request)
{
    zego_msg_init(reply, ZEGO_MSG_REPLY);
    reply->seq = request->seq;
    reply->reply_to = request->type;
}

void zego_msg_init_error_reply(zego_msg *reply, const zego_msg *request, const zego_error *err)
{
    zego_msg_init_reply(reply, request);
    reply->code = err->code;
    snprintf(reply->error_message, sizeof reply->error_message, "%s", err->message);
}

static int decode_envelope(json_t *root, zego_msg *msg, struct path *p, zego_error *err)
{
    json_t *type = json_object_get(root, "type");
    if (!type)
        return zego_error_set(err, ZEGO_ERR_PROTOCOL_MISSING_FIELD, "type is missing");
    if (!json_is_string(type))
        return zego_error_set(err, ZEGO_ERR_PROTOCOL_WRONG_TYPE, "type must be a string, not %s",
                              json_type_name(type));
    msg->type = type_from_name(json_string_value(type));
    if (msg->type == ZEGO_MSG_NONE)
        return zego_error_set(err, ZEGO_ERR_PROTOCOL_UNKNOWN_TYPE,
                              "message type \"%.60s\" is not known", json_string_value(type));

    path_push(p, specs[msg->type].name, -1);
    if (specs[msg->type].request || msg->type == ZEGO_MSG_REPLY) {
        static const struct field seq_field = {.name = "seq",
                                               .kind = K_U32,
                                               .offset = offsetof(zego_msg, seq),
                                               .flags = F_REQUIRED,
                                               .min = 1,
                                               .max = UINT32_MAX};
        static const struct object_desc seq_desc = {&seq_field, 1};
        /* Write the seq straight into msg so it survives a later failure. */
        json_t *seq = json_object_get(root, "seq");
        if (!seq)
            return FAIL(p, err, ZEGO_ERR_PROTOCOL_MISSING_FIELD, "seq is missing");
        int rc = decode_object(&seq_desc, root, msg, p, err);
        if (rc)
            return rc;
    }
    if (msg->type == ZEGO_MSG_REPLY) {
        json_t *to = json_object_get(root, "to");
        if (!to || !json_is_string(to))
            return FAIL(p, err, to ? ZEGO_ERR_PROTOCOL_WRONG_TYPE : ZEGO_ERR_PROTOCOL_MISSING_FIELD,
                        "to must name the request type");
        msg->reply_to = type_from_name(json_string_value(to));
        if (!zego_msg_type_is_request(msg->reply_to))
            return FAIL(p, err, ZEGO_ERR_PROTOCOL_UNKNOWN_TYPE,
                        "to: \"%.60s\" is not a request type", json_string_value(to));
        static const struct field reply_fields[] = {
            I32("code", zego_msg, code, F_REQUIRED),
            STR("message", zego_msg, error_message, 0, validate_free_text),
            STR("redirect", zego_msg, redirect, 0, validate_opaque),
        };
        static const struct object_desc reply_desc = DESC(reply_fields);
        return decode_object(&reply_desc, root, msg, p, err);
    }
    return ZEGO_ERR_OK;
}

int zego_msg_decode(const char *data, size_t len, size_t max_len, zego_msg *msg, zego_error *err)
{
    zego_msg_init(msg, ZEGO_MSG_NONE);
    if (len > max_len)
        return zego_error_set(err, ZEGO_ERR_PROTOCOL_TOO_LARGE,
                              "message is %zu bytes; the limit is %zu", len, max_len);

    json_error_t jerr;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return zego_error_set(err, ZEGO_ERR_PROTOCOL_MALFORMED, "not valid JSON: %s at byte %d",
                              jerr.text, jerr.position);
    if (!json_is_object(root)) {
        zego_error_set(err, ZEGO_ERR_PROTOCOL_MALFORMED, "message must be a JSON object, not %s",
                       json_type_name(root));
        json_decref(root);
        return ZEGO_ERR_PROTOCOL_MALFORMED;
    }

    struct path p = {.len = 0};
    p.text[0] = '\0';
    int rc = decode_envelope(root, msg, &p, err);
    const struct object_desc *d = rc ? NULL : body_desc(msg);
    if (d)
        rc = decode_object(d, root, &msg->u, &p, err);
    if (rc == ZEGO_ERR_OK && msg->type != ZEGO_MSG_REPLY && specs[msg->type].check)
        rc = specs[msg->type].check(msg, err);
    json_decref(root);

    if (rc != ZEGO_ERR_OK) {
        /* Keep what a server needs to answer: the type and the seq. */
        zego_msg_type type = msg->type;
        uint32_t seq = msg->seq;
        zego_msg_clear(msg);
        msg->type = type;
        msg->seq = seq;
        return rc;
    }
    zego_error_clear(err);
    return ZEGO_ERR_OK;
}

char *zego_msg_encode(const zego_msg *msg, size_t *len_out, zego_error *err)
{
    if (!msg || msg->type <= ZEGO_MSG_NONE || msg->type >= ZEGO_MSG_TYPE_COUNT) {
        zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "message has no valid type");
        return NULL;
    }
    if ((specs[msg->type].request || msg->type == ZEGO_MSG_REPLY) && msg->seq == 0) {
        zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "%s: seq must be 1 or more",
                       specs[msg->type].name);
        return NULL;
    }
    if (msg->type == ZEGO_MSG_REPLY && !zego_msg_type_is_request(msg->reply_to)) {
        zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "reply: reply_to is not a request type");
        return NULL;
    }
    if (msg->type != ZEGO_MSG_REPLY && specs[msg->type].check &&
        specs[msg->type].check(msg, err) != ZEGO_ERR_OK)
        return NULL;

    json_t *root = json_object();
    if (!root) {
        zego_error_set(err, ZEGO_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    json_object_set_new(root, "type", json_string(specs[msg->type].name));
    if (specs[msg->type].request || msg->type == ZEGO_MSG_REPLY)
        json_object_set_new(root, "seq", json_integer(msg->seq));

    struct path p = {.len = 0};
    p.text[0] = '\0';
    path_push(&p, specs[msg->type].name, -1);
    int rc = ZEGO_ERR_OK;
    if (msg->type == ZEGO_MSG_REPLY) {
        json_object_set_new(root, "to", json_string(specs[msg->reply_to].name));
        json_object_set_new(root, "code", json_integer(msg->code));
        if (msg->code != 0) {
            static const struct field reply_fields[] = {
                STR("message", zego_msg, error_message, 0, validate_free_text),
                STR("redirect", zego_msg, redirect, 0, validate_opaque),
            };
            static const struct object_desc reply_desc = DESC(reply_fields);
            rc = encode_object(&reply_desc, msg, root, &p, err);
        }
    }
    const struct object_desc *d = body_desc(msg);
    if (rc == ZEGO_ERR_OK && d)
        rc = encode_object(d, &msg->u, root, &p, err);

    char *text = NULL;
    if (rc == ZEGO_ERR_OK) {
        text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!text)
            zego_error_set(err, ZEGO_ERR_INTERNAL, "out of memory");
        else if (len_out)
            *len_out = strlen(text);
    }
    json_decref(root);
    if (text)
        zego_error_clear(err);
    return text;
}

char *zego_msg_encode_media_end(const char *stream_id, size_t *len_out)
{
    zego_msg m;
    zego_msg_init(&m, ZEGO_MSG_UNPUBLISH);
    m.seq = 1;
    snprintf(m.u.stream.stream_id, sizeof m.u.stream.stream_id, "%s", stream_id);
    return zego_msg_encode(&m, len_out, NULL);
}

const zego_track *zego_stream_info_find_track(const zego_stream_info *info, uint32_t track_id)
{
    for (size_t i = 0; i < info->n_tracks; i++) {
        if (info->tracks[i].id == track_id)
            return &info->tracks[i];
    }
    return NULL;
}
