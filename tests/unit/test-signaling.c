/* Signaling messages: every type round-trips through JSON unchanged, and each
 * malformed form is refused with its documented code and a message that says
 * where the problem is. */
#include <stdlib.h>

#include "harness.h"
#include "protocol.h"

#define MAX ZEGO_SERVER_MESSAGE_MAX

static const char chinese_name[] = "\xe5\xbc\xa0\xe4\xb8\x89"; /* 张三 */

static void fill_user(zego_user *u, const char *id, const char *name)
{
    snprintf(u->user_id, sizeof u->user_id, "%s", id);
    snprintf(u->user_name, sizeof u->user_name, "%s", name);
}

static zego_stream *sample_streams(size_t n)
{
    zego_stream *s = calloc(n, sizeof *s);
    for (size_t i = 0; i < n; i++) {
        snprintf(s[i].stream_id, sizeof s[i].stream_id, "cam-%zu", i);
        snprintf(s[i].user_id, sizeof s[i].user_id, "user%zu", i);
        snprintf(s[i].user_name, sizeof s[i].user_name, "%s", chinese_name);
        snprintf(s[i].extra_info, sizeof s[i].extra_info, "{\"layout\":%zu}", i);
    }
    return s;
}

static void fill_media(zego_media_endpoint *m)
{
    snprintf(m->url, sizeof m->url, "ws://127.0.0.1:7600/media/play");
    snprintf(m->ticket, sizeof m->ticket, "v1.eyJuIjoibm9kZS0xIn0.c2ln");
    m->expires_ms = 1700000030000;
}

/* A message of each type with every field set to something other than its
 * default, so a round trip exercises all of them. */
static void fill_sample(zego_msg *m, zego_msg_type type, zego_msg_type reply_to)
{
    zego_msg_init(m, type);
    m->seq = 42;
    m->reply_to = reply_to;
    switch (type == ZEGO_MSG_REPLY ? reply_to : type) {
    case ZEGO_MSG_LOGIN:
        if (type == ZEGO_MSG_REPLY) {
            zego_login_reply *r = &m->u.login_reply;
            snprintf(r->room_id, sizeof r->room_id, "room-1");
            snprintf(r->session_id, sizeof r->session_id, "5f2c9a");
            snprintf(r->resume_token, sizeof r->resume_token, "q7V0xR_w");
            r->resumed = true;
            r->heartbeat_interval_ms = 10000;
            r->reconnect_window_ms = 30000;
            r->server_time_ms = 1700000000123;
            r->token_expire = 1700003600;
            r->n_users = 2;
            r->users = calloc(2, sizeof *r->users);
            fill_user(&r->users[0], "alice", chinese_name);
            fill_user(&r->users[1], "bob", "");
            r->n_streams = 3;
            r->streams = sample_streams(3);
        } else {
            zego_login_req *l = &m->u.login;
            l->version = ZEGO_PROTOCOL_VERSION;
            l->app_id = 1234567890;
            snprintf(l->room_id, sizeof l->room_id, "room-1");
            snprintf(l->user_id, sizeof l->user_id, "alice");
            snprintf(l->user_name, sizeof l->user_name, "%s", chinese_name);
            snprintf(l->token, sizeof l->token, "04AAAAAGVT/xAADDAxMjM0NTY3ODlhYgBz");
            l->user_update = true;
            l->max_member_count = 50;
            snprintf(l->session_id, sizeof l->session_id, "5f2c9a");
            snprintf(l->resume_token, sizeof l->resume_token, "q7V0xR_w");
            snprintf(l->client, sizeof l->client, "libzegoroom/0.1.0");
        }
        break;
    case ZEGO_MSG_LOGOUT:
    case ZEGO_MSG_SEND_CUSTOM_COMMAND:
        if (type != ZEGO_MSG_REPLY && reply_to == ZEGO_MSG_NONE &&
            type == ZEGO_MSG_SEND_CUSTOM_COMMAND) {
            zego_send_message_req *c = &m->u.send_message;
            snprintf(c->message, sizeof c->message, "mute please");
            c->n_to_user_ids = 2;
            c->to_user_ids = calloc(2, sizeof *c->to_user_ids);
            snprintf(c->to_user_ids[0], sizeof c->to_user_ids[0], "bob");
            snprintf(c->to_user_ids[1], sizeof c->to_user_ids[1], "carol");
        }
        break;
    case ZEGO_MSG_HEARTBEAT:
        if (type == ZEGO_MSG_REPLY) {
            m->u.heartbeat_reply.client_time_ms = 1700000000000;
            m->u.heartbeat_reply.server_time_ms = 1700000000050;
        } else {
            m->u.heartbeat.client_time_ms = 1700000000000;
        }
        break;
    case ZEGO_MSG_RENEW_TOKEN:
        if (type == ZEGO_MSG_REPLY)
            m->u.renew_token_reply.token_expire = 1700007200;
        else
            snprintf(m->u.renew_token.token, sizeof m->u.renew_token.token, "04AAAA");
        break;
    case ZEGO_MSG_PUBLISH:
    case ZEGO_MSG_SET_STREAM_EXTRA_INFO:
        if (type == ZEGO_MSG_REPLY && reply_to == ZEGO_MSG_PUBLISH) {
            snprintf(m->u.media_reply.stream_id, sizeof m->u.media_reply.stream_id, "cam-1");
            fill_media(&m->u.media_reply.media);
        } else if (type == ZEGO_MSG_REPLY) {
            snprintf(m->u.stream_reply.stream_id, sizeof m->u.stream_reply.stream_id, "cam-1");
        } else {
            snprintf(m->u.publish.stream_id, sizeof m->u.publish.stream_id, "cam-1");
            snprintf(m->u.publish.extra_info, sizeof m->u.publish.extra_info, "%s", chinese_name);
        }
        break;
    case ZEGO_MSG_PLAY:
    case ZEGO_MSG_MEDIA_TICKET:
        if (type == ZEGO_MSG_REPLY) {
            snprintf(m->u.media_reply.stream_id, sizeof m->u.media_reply.stream_id, "cam-1");
            m->u.media_reply.published = true;
            fill_media(&m->u.media_reply.media);
        } else if (type == ZEGO_MSG_MEDIA_TICKET) {
            snprintf(m->u.media_ticket.stream_id, sizeof m->u.media_ticket.stream_id, "cam-1");
            m->u.media_ticket.role = ZEGO_ROLE_PLAY;
        } else {
            snprintf(m->u.stream.stream_id, sizeof m->u.stream.stream_id, "cam-1");
        }
        break;
    case ZEGO_MSG_UNPUBLISH:
    case ZEGO_MSG_STOP_PLAY:
        if (type == ZEGO_MSG_REPLY)
            snprintf(m->u.stream_reply.stream_id, sizeof m->u.stream_reply.stream_id, "cam-1");
        else
            snprintf(m->u.stream.stream_id, sizeof m->u.stream.stream_id, "cam-1");
        break;
    case ZEGO_MSG_SEND_BROADCAST_MESSAGE:
        if (type == ZEGO_MSG_REPLY)
            m->u.send_message_reply.message_id = 9007199254740992ULL; /* 2^53 */
        else
            snprintf(m->u.send_message.message, sizeof m->u.send_message.message, "hello %s",
                     chinese_name);
        break;
    case ZEGO_MSG_USER_UPDATE:
        snprintf(m->u.user_update.room_id, sizeof m->u.user_update.room_id, "room-1");
        m->u.user_update.update = ZEGO_UPDATE_DELETE;
        m->u.user_update.reason = ZEGO_REASON_TIMEOUT;
        m->u.user_update.n_users = 1;
        m->u.user_update.users = calloc(1, sizeof(zego_user));
        fill_user(&m->u.user_update.users[0], "bob", chinese_name);
        break;
    case ZEGO_MSG_STREAM_UPDATE:
        m->u.stream_update.update = ZEGO_UPDATE_DELETE;
        m->u.stream_update.reason = ZEGO_REASON_KICKED_OUT;
        /* fall through */
    case ZEGO_MSG_STREAM_EXTRA_INFO_UPDATE:
        snprintf(m->u.stream_update.room_id, sizeof m->u.stream_update.room_id, "room-1");
        m->u.stream_update.n_streams = 2;
        m->u.stream_update.streams = sample_streams(2);
        break;
    case ZEGO_MSG_BROADCAST_MESSAGE:
        m->u.message.message_id = 77;
        /* fall through */
    case ZEGO_MSG_CUSTOM_COMMAND:
        snprintf(m->u.message.room_id, sizeof m->u.message.room_id, "room-1");
        fill_user(&m->u.message.from, "alice", chinese_name);
        snprintf(m->u.message.message, sizeof m->u.message.message, "hi");
        m->u.message.send_time_ms = 1700000000999;
        break;
    case ZEGO_MSG_TOKEN_WILL_EXPIRE:
        snprintf(m->u.token_will_expire.room_id, sizeof m->u.token_will_expire.room_id, "r");
        m->u.token_will_expire.remaining_s = 30;
        break;
    case ZEGO_MSG_KICKED_OUT:
        snprintf(m->u.notice.room_id, sizeof m->u.notice.room_id, "room-1");
        /* fall through */
    case ZEGO_MSG_ERROR:
    case ZEGO_MSG_GOING_AWAY:
        m->u.notice.code = ZEGO_ERR_KICKED_OUT;
        snprintf(m->u.notice.message, sizeof m->u.notice.message, "replaced by a new login");
        if (type == ZEGO_MSG_GOING_AWAY)
            m->u.notice.reconnect_after_ms = 500;
        break;
    case ZEGO_MSG_STREAM_INFO: {
        zego_stream_info *si = &m->u.stream_info;
        snprintf(si->stream_id, sizeof si->stream_id, "cam-1");
        si->generation = 3;
        si->n_tracks = 2;
        si->tracks = calloc(2, sizeof *si->tracks);
        si->tracks[0] = (zego_track){.id = 0,
                                     .kind = ZEGO_TRACK_VIDEO,
                                     .codec = ZEGO_CODEC_H264,
                                     .width = 640,
                                     .height = 360,
                                     .framerate_num = 30,
                                     .framerate_den = 1};
        snprintf(si->tracks[0].codec_string, sizeof si->tracks[0].codec_string, "avc1.42E01E");
        si->tracks[1] = (zego_track){.id = 1,
                                     .kind = ZEGO_TRACK_AUDIO,
                                     .codec = ZEGO_CODEC_AAC,
                                     .sample_rate = 48000,
                                     .channels = 2,
                                     .config = {0x11, 0x90},
                                     .config_len = 2};
        snprintf(si->tracks[1].codec_string, sizeof si->tracks[1].codec_string, "mp4a.40.2");
        break;
    }
    case ZEGO_MSG_KEYFRAME_REQUEST:
        snprintf(m->u.keyframe_request.stream_id, sizeof m->u.keyframe_request.stream_id, "c");
        m->u.keyframe_request.track = 0;
        break;
    default:
        break;
    }
}

/* encode -> decode -> encode gives the same text, and the text is valid. */
static int round_trip(zego_msg *sample, const char *label)
{
    zego_error err;
    size_t len;
    char *first = zego_msg_encode(sample, &len, &err);
    if (!first) {
        printf("#   %s: encode failed: %d %s\n", label, err.code, err.message);
        return 0;
    }
    zego_msg decoded;
    int rc = zego_msg_decode(first, len, MAX, &decoded, &err);
    if (rc) {
        printf("#   %s: decode of %s failed: %d %s\n", label, first, rc, err.message);
        free(first);
        return 0;
    }
    char *second = zego_msg_encode(&decoded, NULL, &err);
    int same =
        second && strcmp(first, second) == 0 && decoded.type == sample->type &&
        decoded.seq == (zego_msg_type_is_request(sample->type) || sample->type == ZEGO_MSG_REPLY
                            ? sample->seq
                            : 0) &&
        decoded.reply_to == sample->reply_to;
    if (!same)
        printf("#   %s:\n#     first  %s\n#     second %s\n", label, first,
               second ? second : "(encode failed)");
    free(first);
    free(second);
    zego_msg_clear(&decoded);
    return same;
}

static void every_message_type_round_trips_with_every_field(void)
{
    for (int t = ZEGO_MSG_NONE + 1; t < ZEGO_MSG_TYPE_COUNT; t++) {
        if (t == ZEGO_MSG_REPLY)
            continue;
        zego_msg m;
        fill_sample(&m, (zego_msg_type)t, ZEGO_MSG_NONE);
        CHECK(round_trip(&m, zego_msg_type_name((zego_msg_type)t)));
        zego_msg_clear(&m);
    }
}

static void every_reply_round_trips_with_every_field(void)
{
    for (int t = ZEGO_MSG_NONE + 1; t < ZEGO_MSG_TYPE_COUNT; t++) {
        if (!zego_msg_type_is_request((zego_msg_type)t))
            continue;
        zego_msg m;
        fill_sample(&m, ZEGO_MSG_REPLY, (zego_msg_type)t);
        CHECK(round_trip(&m, zego_msg_type_name((zego_msg_type)t)));
        zego_msg_clear(&m);
    }
}

static void error_reply_with_redirect_round_trips(void)
{
    zego_msg req, reply;
    fill_sample(&req, ZEGO_MSG_LOGIN, ZEGO_MSG_NONE);
    zego_error e = {ZEGO_ERR_REDIRECT, "room room-1 lives on node-2"};
    zego_msg_init_error_reply(&reply, &req, &e);
    snprintf(reply.redirect, sizeof reply.redirect, "wss://node-2.example:7600/ws");
    CHECK(round_trip(&reply, "redirect"));

    zego_error err;
    char *text = zego_msg_encode(&reply, NULL, &err);
    CHECK_STR(text, "{\"type\":\"reply\",\"seq\":42,\"to\":\"login\",\"code\":1900009,"
                    "\"message\":\"room room-1 lives on node-2\","
                    "\"redirect\":\"wss://node-2.example:7600/ws\"}");
    free(text);
    zego_msg_clear(&req);
}

static void documented_login_example_decodes(void)
{
    const char *json = "{\"type\":\"login\",\"seq\":1,\"version\":1,\"app_id\":1,"
                       "\"room_id\":\"room-1\",\"user_id\":\"alice\",\"user_name\":\"Alice\","
                       "\"token\":\"04AAAA\",\"user_update\":true}";
    zego_msg m;
    zego_error err;
    CHECK_INT(zego_msg_decode(json, strlen(json), MAX, &m, &err), ZEGO_ERR_OK);
    CHECK_INT(m.type, ZEGO_MSG_LOGIN);
    CHECK_INT(m.seq, 1);
    CHECK_INT(m.u.login.app_id, 1);
    CHECK_STR(m.u.login.room_id, "room-1");
    CHECK_STR(m.u.login.user_name, "Alice");
    CHECK(m.u.login.user_update);
    CHECK_INT(m.u.login.max_member_count, 0);
    CHECK_STR(m.u.login.session_id, "");
    zego_msg_clear(&m);
}

static void optional_fields_at_their_default_are_left_out(void)
{
    zego_msg m;
    zego_msg_init(&m, ZEGO_MSG_PLAY);
    m.seq = 7;
    snprintf(m.u.stream.stream_id, sizeof m.u.stream.stream_id, "s1");
    char *text = zego_msg_encode(&m, NULL, NULL);
    CHECK_STR(text, "{\"type\":\"play\",\"seq\":7,\"stream_id\":\"s1\"}");
    free(text);
}

static void unknown_fields_are_ignored(void)
{
    const char *json = "{\"type\":\"play\",\"seq\":3,\"stream_id\":\"s\",\"future\":[1,2]}";
    zego_msg m;
    CHECK_INT(zego_msg_decode(json, strlen(json), MAX, &m, NULL), ZEGO_ERR_OK);
    CHECK_STR(m.u.stream.stream_id, "s");
}

/* Decodes json and checks the code and that the message mentions `where`. */
static void expect_refused(const char *json, int32_t code, const char *where)
{
    zego_msg m;
    zego_error err;
    int rc = zego_msg_decode(json, strlen(json), ZEGO_CLIENT_MESSAGE_MAX, &m, &err);
    CHECK_INT(rc, code);
    CHECK_INT(err.code, code);
    if (where)
        CHECK_CONTAINS(err.message, where);
    zego_msg_clear(&m);
}

static void text_that_is_not_json_is_malformed(void)
{
    expect_refused("hello", ZEGO_ERR_PROTOCOL_MALFORMED, "not valid JSON");
    expect_refused("", ZEGO_ERR_PROTOCOL_MALFORMED, "not valid JSON");
    expect_refused("{\"type\":\"play\",\"seq\":1,\"stream_id\":\"s\"", ZEGO_ERR_PROTOCOL_MALFORMED,
                   "not valid JSON");
}

static void json_that_is_not_an_object_is_malformed(void)
{
    expect_refused("[1,2,3]", ZEGO_ERR_PROTOCOL_MALFORMED, "not a list");
    expect_refused("\"login\"", ZEGO_ERR_PROTOCOL_MALFORMED, NULL);
}

static void duplicate_keys_are_malformed(void)
{
    expect_refused("{\"type\":\"play\",\"type\":\"stop_play\",\"seq\":1,\"stream_id\":\"s\"}",
                   ZEGO_ERR_PROTOCOL_MALFORMED, "duplicate");
}

static void truncated_messages_are_malformed_at_every_length(void)
{
    const char *json = "{\"type\":\"publish\",\"seq\":9,\"stream_id\":\"cam\"}";
    for (size_t n = 0; n < strlen(json); n++) {
        zego_msg m;
        zego_error err;
        CHECK_INT(zego_msg_decode(json, n, MAX, &m, &err), ZEGO_ERR_PROTOCOL_MALFORMED);
    }
}

static void oversized_messages_are_refused_before_parsing(void)
{
    size_t n = ZEGO_CLIENT_MESSAGE_MAX + 1;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    big[n] = '\0';
    memcpy(big, "{\"type\":\"heartbeat\",\"seq\":1}", 28);
    expect_refused(big, ZEGO_ERR_PROTOCOL_TOO_LARGE, "the limit is 65536");
    free(big);
}

static void missing_or_unknown_type_is_refused(void)
{
    expect_refused("{\"seq\":1}", ZEGO_ERR_PROTOCOL_MISSING_FIELD, "type is missing");
    expect_refused("{\"type\":5}", ZEGO_ERR_PROTOCOL_WRONG_TYPE, "type must be a string");
    expect_refused("{\"type\":\"teleport\",\"seq\":1}", ZEGO_ERR_PROTOCOL_UNKNOWN_TYPE,
                   "\"teleport\" is not known");
}

static void requests_need_a_positive_integer_seq(void)
{
    expect_refused("{\"type\":\"logout\"}", ZEGO_ERR_PROTOCOL_MISSING_FIELD, "seq is missing");
    expect_refused("{\"type\":\"logout\",\"seq\":\"1\"}", ZEGO_ERR_PROTOCOL_WRONG_TYPE,
                   "logout.seq: must be an integer, not a string");
    expect_refused("{\"type\":\"logout\",\"seq\":0}", ZEGO_ERR_PROTOCOL_OUT_OF_RANGE, "seq");
    expect_refused("{\"type\":\"logout\",\"seq\":4294967296}", ZEGO_ERR_PROTOCOL_OUT_OF_RANGE,
                   "seq");
    expect_refused("{\"type\":\"logout\",\"seq\":1.5}", ZEGO_ERR_PROTOCOL_WRONG_TYPE, "seq");
    expect_refused("{\"type\":\"heartbeat\",\"seq\":null}", ZEGO_ERR_PROTOCOL_MISSING_FIELD, "seq");
}

static void a_failed_request_still_reports_its_type_and_seq(void)
{
    const char *json = "{\"type\":\"publish\",\"seq\":17,\"stream_id\":\"bad id\"}";
    zego_msg m;
    zego_error err;
    CHECK_INT(zego_msg_decode(json, strlen(json), MAX, &m, &err),
              ZEGO_ERR_STREAM_ID_INVALID_CHARACTER);
    CHECK_INT(m.type, ZEGO_MSG_PUBLISH);
    CHECK_INT(m.seq, 17);
    CHECK_CONTAINS(err.message, "publish.stream_id: stream id 'bad id' has ' ' (0x20) at byte 3");
}

static void fields_of_the_wrong_json_type_are_named(void)
{
    expect_refused("{\"type\":\"login\",\"seq\":1,\"version\":1,\"app_id\":1,\"room_id\":7,"
                   "\"user_id\":\"u\"}",
                   ZEGO_ERR_PROTOCOL_WRONG_TYPE, "login.room_id: must be a string, not an integer");
    expect_refused("{\"type\":\"login\",\"seq\":1,\"version\":1,\"app_id\":1,\"room_id\":\"r\","
                   "\"user_id\":\"u\",\"user_update\":1}",
                   ZEGO_ERR_PROTOCOL_WRONG_TYPE, "login.user_update: must be true or false");
    expect_refused("{\"type\":\"send_custom_command\",\"seq\":1,\"command\":\"x\","
                   "\"to_user_ids\":\"bob\"}",
                   ZEGO_ERR_PROTOCOL_WRONG_TYPE, "to_user_ids: must be a list");
}

static void missing_required_fields_are_named(void)
{
    expect_refused("{\"type\":\"login\",\"seq\":1,\"version\":1,\"app_id\":1,\"user_id\":\"u\"}",
                   ZEGO_ERR_PROTOCOL_MISSING_FIELD, "login.room_id: is missing");
    expect_refused("{\"type\":\"play\",\"seq\":1,\"stream_id\":null}",
                   ZEGO_ERR_PROTOCOL_MISSING_FIELD, "play.stream_id");
}

static void an_unsupported_protocol_version_is_refused(void)
{
    expect_refused("{\"type\":\"login\",\"seq\":1,\"version\":2,\"app_id\":1,\"room_id\":\"r\","
                   "\"user_id\":\"u\"}",
                   ZEGO_ERR_PROTOCOL_VERSION, "version 2 is not supported");
}

static void resume_needs_both_session_id_and_resume_token(void)
{
    expect_refused("{\"type\":\"login\",\"seq\":1,\"version\":1,\"app_id\":1,\"room_id\":\"r\","
                   "\"user_id\":\"u\",\"session_id\":\"abc\"}",
                   ZEGO_ERR_PROTOCOL_MISSING_FIELD, "go together");
}

static void invalid_ids_and_text_get_their_own_codes(void)
{
    expect_refused("{\"type\":\"login\",\"seq\":1,\"version\":1,\"app_id\":1,\"room_id\":\"r\","
                   "\"user_id\":\"\"}",
                   ZEGO_ERR_USER_ID_NULL, "login.user_id");
    expect_refused("{\"type\":\"play\",\"seq\":1,\"stream_id\":\"a#b\"}",
                   ZEGO_ERR_STREAM_ID_INVALID_CHARACTER, "'#' (0x23) at byte 1");
    expect_refused("{\"type\":\"send_broadcast_message\",\"seq\":1,\"message\":\"\"}",
                   ZEGO_ERR_TEXT_EMPTY, "message");
    char json[1300];
    snprintf(
        json, sizeof json,
        "{\"type\":\"send_broadcast_message\",\"seq\":1,\"message\":\"%.1025s\"}",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    expect_refused(json, ZEGO_ERR_TEXT_TOO_LONG, "the limit is 1024");
}

static void numbers_out_of_range_are_refused(void)
{
    expect_refused("{\"type\":\"login\",\"seq\":1,\"version\":1,\"app_id\":-1,\"room_id\":\"r\","
                   "\"user_id\":\"u\"}",
                   ZEGO_ERR_PROTOCOL_OUT_OF_RANGE, "login.app_id");
    expect_refused("{\"type\":\"keyframe_request\",\"stream_id\":\"s\",\"track\":256}",
                   ZEGO_ERR_PROTOCOL_OUT_OF_RANGE, "keyframe_request.track: 256 is outside 0..255");
}

static void unknown_enum_values_are_refused_listing_the_allowed_ones(void)
{
    expect_refused("{\"type\":\"media_ticket\",\"seq\":1,\"stream_id\":\"s\",\"role\":\"watch\"}",
                   ZEGO_ERR_VALUE_INVALID, "\"watch\" is not one of \"publish\", \"play\"");
}

static void lists_longer_than_their_bound_are_refused(void)
{
    size_t n = ZEGO_MAX_COMMAND_USERS + 1;
    char *json = malloc(n * 8 + 100);
    strcpy(json, "{\"type\":\"send_custom_command\",\"seq\":1,\"command\":\"x\",\"to_user_ids\":[");
    for (size_t i = 0; i < n; i++)
        strcat(json, i ? ",\"u\"" : "\"u\"");
    strcat(json, "]}");
    expect_refused(json, ZEGO_ERR_PROTOCOL_OUT_OF_RANGE, "has 101 entries; the limit is 100");
    free(json);
}

static void errors_inside_lists_name_the_entry(void)
{
    expect_refused("{\"type\":\"stream_update\",\"room_id\":\"r\",\"update\":\"add\",\"streams\":["
                   "{\"stream_id\":\"ok\",\"user_id\":\"u\"},{\"stream_id\":\"no good\","
                   "\"user_id\":\"u\"}]}",
                   ZEGO_ERR_STREAM_ID_INVALID_CHARACTER, "stream_update.streams[1].stream_id");
}

static void replies_name_a_request_type(void)
{
    expect_refused("{\"type\":\"reply\",\"seq\":1,\"code\":0}", ZEGO_ERR_PROTOCOL_MISSING_FIELD,
                   "to must name");
    expect_refused("{\"type\":\"reply\",\"seq\":1,\"to\":\"user_update\",\"code\":0}",
                   ZEGO_ERR_PROTOCOL_UNKNOWN_TYPE, "not a request type");
    expect_refused("{\"type\":\"reply\",\"seq\":1,\"to\":\"publish\",\"code\":0,"
                   "\"stream_id\":\"s\"}",
                   ZEGO_ERR_PROTOCOL_MISSING_FIELD, "reply.media: is missing");
}

static void error_replies_carry_no_body(void)
{
    const char *json = "{\"type\":\"reply\",\"seq\":5,\"to\":\"publish\",\"code\":1003028,"
                       "\"message\":\"stream cam-1 is already published by bob\"}";
    zego_msg m;
    CHECK_INT(zego_msg_decode(json, strlen(json), MAX, &m, NULL), ZEGO_ERR_OK);
    CHECK_INT(m.code, ZEGO_ERR_STREAM_ALREADY_PUBLISHED);
    CHECK_INT(m.reply_to, ZEGO_MSG_PUBLISH);
    CHECK_STR(m.error_message, "stream cam-1 is already published by bob");
    zego_msg_clear(&m);
}

static void stream_info_refuses_inconsistent_tracks(void)
{
    expect_refused(
        "{\"type\":\"stream_info\",\"stream_id\":\"s\",\"generation\":1,\"tracks\":["
        "{\"id\":0,\"kind\":\"video\",\"codec\":\"h264\",\"codec_string\":\"avc1.42E01E\"},"
        "{\"id\":0,\"kind\":\"audio\",\"codec\":\"opus\",\"codec_string\":\"opus\","
        "\"sample_rate\":48000,\"channels\":2}]}",
        ZEGO_ERR_STREAM_INFO_INVALID, "track id 0 is used twice");
    expect_refused(
        "{\"type\":\"stream_info\",\"stream_id\":\"s\",\"generation\":1,\"tracks\":["
        "{\"id\":0,\"kind\":\"audio\",\"codec\":\"h264\",\"codec_string\":\"avc1.42E01E\"}]}",
        ZEGO_ERR_STREAM_INFO_INVALID, "codec h264 is not a audio codec");
    expect_refused("{\"type\":\"stream_info\",\"stream_id\":\"s\",\"generation\":1,\"tracks\":["
                   "{\"id\":0,\"kind\":\"video\",\"codec\":\"h264\",\"codec_string\":\"avc1\"}]}",
                   ZEGO_ERR_STREAM_INFO_INVALID, "expected avc1.PPCCLL");
    expect_refused("{\"type\":\"stream_info\",\"stream_id\":\"s\",\"generation\":1,\"tracks\":["
                   "{\"id\":0,\"kind\":\"audio\",\"codec\":\"opus\",\"codec_string\":\"opus\"}]}",
                   ZEGO_ERR_STREAM_INFO_INVALID, "needs sample_rate and channels");
    expect_refused("{\"type\":\"stream_info\",\"stream_id\":\"s\",\"generation\":1,\"tracks\":["
                   "{\"id\":0,\"kind\":\"audio\",\"codec\":\"aac\",\"codec_string\":\"mp4a.40.2\","
                   "\"sample_rate\":48000,\"channels\":2}]}",
                   ZEGO_ERR_STREAM_INFO_INVALID, "AudioSpecificConfig");
    expect_refused("{\"type\":\"stream_info\",\"stream_id\":\"s\",\"generation\":1,\"tracks\":[]}",
                   ZEGO_ERR_VALUE_INVALID, "tracks: must not be empty");
    expect_refused("{\"type\":\"stream_info\",\"stream_id\":\"s\",\"generation\":1,\"tracks\":["
                   "{\"id\":0,\"kind\":\"audio\",\"codec\":\"aac\",\"codec_string\":\"mp4a.40.2\","
                   "\"sample_rate\":48000,\"channels\":2,\"config\":\"EZ*A\"}]}",
                   ZEGO_ERR_VALUE_INVALID, "config: is not base64");
}

static void encoding_refuses_invalid_fields(void)
{
    zego_msg m;
    zego_error err;
    zego_msg_init(&m, ZEGO_MSG_PUBLISH);
    m.seq = 1;
    snprintf(m.u.publish.stream_id, sizeof m.u.publish.stream_id, "has space");
    CHECK(zego_msg_encode(&m, NULL, &err) == NULL);
    CHECK_INT(err.code, ZEGO_ERR_STREAM_ID_INVALID_CHARACTER);
    CHECK_CONTAINS(err.message, "publish.stream_id");

    snprintf(m.u.publish.stream_id, sizeof m.u.publish.stream_id, "ok");
    snprintf(m.u.publish.extra_info, sizeof m.u.publish.extra_info, "bad \xff");
    CHECK(zego_msg_encode(&m, NULL, &err) == NULL);
    CHECK_INT(err.code, ZEGO_ERR_TEXT_INVALID_UTF8);

    zego_msg_init(&m, ZEGO_MSG_LOGOUT);
    CHECK(zego_msg_encode(&m, NULL, &err) == NULL);
    CHECK_INT(err.code, ZEGO_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(err.message, "seq");
}

static void chinese_text_survives_a_round_trip_byte_for_byte(void)
{
    const char *json =
        "{\"type\":\"broadcast_message\",\"room_id\":\"r\",\"from\":{\"user_id\":"
        "\"u\",\"user_name\":\"\\u5f20\\u4e09\"},\"message\":\"\xe4\xbd\xa0\xe5\xa5\xbd\","
        "\"message_id\":1,\"send_time_ms\":2}";
    zego_msg m;
    CHECK_INT(zego_msg_decode(json, strlen(json), MAX, &m, NULL), ZEGO_ERR_OK);
    CHECK_STR(m.u.message.from.user_name, chinese_name);
    CHECK_STR(m.u.message.message, "\xe4\xbd\xa0\xe5\xa5\xbd");
}

static void embedded_nul_in_strings_is_refused(void)
{
    expect_refused("{\"type\":\"play\",\"seq\":1,\"stream_id\":\"a\\u0000b\"}",
                   ZEGO_ERR_PROTOCOL_MALFORMED, NULL);
}

static void the_media_end_message_is_an_unpublish_of_the_stream(void)
{
    size_t len = 0;
    char *text = zego_msg_encode_media_end("cam-1", &len);
    CHECK(text != NULL);
    zego_msg m;
    zego_error err;
    CHECK_INT(zego_msg_decode(text, len, 4096, &m, &err), ZEGO_ERR_OK);
    CHECK_INT(m.type, ZEGO_MSG_UNPUBLISH);
    CHECK_STR(m.u.stream.stream_id, "cam-1");
    zego_msg_clear(&m);
    free(text);
}

int main(void)
{
    RUN(every_message_type_round_trips_with_every_field);
    RUN(every_reply_round_trips_with_every_field);
    RUN(error_reply_with_redirect_round_trips);
    RUN(documented_login_example_decodes);
    RUN(optional_fields_at_their_default_are_left_out);
    RUN(unknown_fields_are_ignored);
    RUN(text_that_is_not_json_is_malformed);
    RUN(json_that_is_not_an_object_is_malformed);
    RUN(duplicate_keys_are_malformed);
    RUN(truncated_messages_are_malformed_at_every_length);
    RUN(oversized_messages_are_refused_before_parsing);
    RUN(missing_or_unknown_type_is_refused);
    RUN(requests_need_a_positive_integer_seq);
    RUN(a_failed_request_still_reports_its_type_and_seq);
    RUN(fields_of_the_wrong_json_type_are_named);
    RUN(missing_required_fields_are_named);
    RUN(an_unsupported_protocol_version_is_refused);
    RUN(resume_needs_both_session_id_and_resume_token);
    RUN(invalid_ids_and_text_get_their_own_codes);
    RUN(numbers_out_of_range_are_refused);
    RUN(unknown_enum_values_are_refused_listing_the_allowed_ones);
    RUN(lists_longer_than_their_bound_are_refused);
    RUN(errors_inside_lists_name_the_entry);
    RUN(replies_name_a_request_type);
    RUN(error_replies_carry_no_body);
    RUN(stream_info_refuses_inconsistent_tracks);
    RUN(encoding_refuses_invalid_fields);
    RUN(chinese_text_survives_a_round_trip_byte_for_byte);
    RUN(embedded_nul_in_strings_is_refused);
    RUN(the_media_end_message_is_an_unpublish_of_the_stream);
    return harness_finish();
}
