/* zego-room-server end to end, through raw WebSocket clients that speak the
 * protocol with the shared protocol module: rooms, users and streams, the
 * media relay and its bounds, every refusal with its code, sessions that
 * resume, and a clean shutdown.  Each test starts its own server process on
 * loopback, port 0. */
#define _GNU_SOURCE /* memmem */
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <stdlib.h>
#include <unistd.h>

#include <zego/token04.h>

#include "harness.h"
#include "protocol.h"
#include "room-client.h"
#include "server-proc.h"

#define APP     1234567u
#define SECRET  "0123456789abcdef0123456789abcdef"
#define TIMEOUT 5000

static const char *const secured_args[] = {"--app", "1234567:" SECRET, NULL};

/* ---- Helpers ---- */

static char *make_token(uint32_t app_id, const char *user_id, int64_t ttl, const char *payload)
{
    zego_token04_params p = {
        .app_id = app_id, .secret = SECRET, .user_id = user_id, .ttl = ttl, .payload = payload};
    char *token = NULL;
    zego_error err;
    if (zego_token04_create(&p, &token, &err))
        printf("#   token: %s\n", err.message);
    return token;
}

static int login(zt_client *c, const zt_server *srv, const char *room, const char *user,
                 bool user_update, zego_msg *reply)
{
    if (zt_client_connect(c, srv->port))
        return -1;
    return zt_client_login(c, APP, room, user, NULL, user_update, reply);
}

static int request_stream(zt_client *c, zego_msg_type type, const char *stream_id, zego_msg *reply)
{
    zego_msg req;
    zego_msg_init(&req, type);
    snprintf(req.u.publish.stream_id, sizeof req.u.publish.stream_id, "%s", stream_id);
    return zt_client_request(c, &req, reply, TIMEOUT);
}

static const char stream_info_json[] =
    "{\"type\":\"stream_info\",\"stream_id\":\"%s\",\"generation\":%d,\"tracks\":["
    "{\"id\":0,\"kind\":\"video\",\"codec\":\"h264\",\"codec_string\":\"avc1.42E01E\","
    "\"width\":640,\"height\":360},"
    "{\"id\":1,\"kind\":\"audio\",\"codec\":\"opus\",\"codec_string\":\"opus\","
    "\"sample_rate\":48000,\"channels\":2}]}";

static void send_stream_info(zt_ws *ws, const char *stream_id, int generation)
{
    char text[1024];
    snprintf(text, sizeof text, stream_info_json, stream_id, generation);
    zt_ws_send_text(ws, text);
}

/* A frame whose payload is `size` bytes of a pattern derived from seq; the
 * caller frees it. */
static uint8_t *build_frame(uint8_t track, uint8_t flags, uint32_t seq, size_t size)
{
    uint8_t *buf = malloc(ZEGO_FRAME_HEADER_SIZE + size);
    zego_frame_header h = {.track = track,
                           .flags = flags,
                           .sequence = seq,
                           .pts_us = (int64_t)seq * 33333,
                           .dts_us = (int64_t)seq * 33333,
                           .capture_time_us = 1700000000000000 + seq,
                           .payload_size = (uint32_t)size};
    zego_frame_header_write(&h, buf);
    for (size_t i = 0; i < size; i++)
        buf[ZEGO_FRAME_HEADER_SIZE + i] = (uint8_t)(seq * 31 + i);
    return buf;
}

static void send_frame(zt_ws *ws, uint8_t track, uint8_t flags, uint32_t seq, size_t size)
{
    uint8_t *buf = build_frame(track, flags, seq, size);
    zt_ws_send_frame(ws, ZT_WS_BINARY, true, buf, ZEGO_FRAME_HEADER_SIZE + size);
    free(buf);
}

/* Checks a received frame against what send_frame made. */
static bool frame_ok(const zt_ws_msg *m, uint8_t track, uint32_t seq, size_t size)
{
    zego_frame_header h;
    const uint8_t *payload;
    if (m->opcode != ZT_WS_BINARY ||
        zego_frame_parse(m->data, m->len, 1 << 24, &h, &payload, NULL) != ZEGO_ERR_OK)
        return false;
    if (h.track != track || h.sequence != seq || h.payload_size != size ||
        h.pts_us != (int64_t)seq * 33333 || h.capture_time_us != 1700000000000000 + seq)
        return false;
    for (size_t i = 0; i < size; i++)
        if (payload[i] != (uint8_t)(seq * 31 + i))
            return false;
    return true;
}

/* Publishes stream_id from c: publish request, media socket, stream_info. */
static int start_publisher(zt_client *c, const char *stream_id, zt_ws *pub)
{
    zego_msg reply;
    int rc = request_stream(c, ZEGO_MSG_PUBLISH, stream_id, &reply);
    if (rc)
        return rc;
    rc = zt_ws_connect_url(pub, reply.u.media_reply.media.url, reply.u.media_reply.media.ticket,
                           ZEGO_SUBPROTOCOL_PUBLISH, 0);
    if (rc)
        return rc;
    send_stream_info(pub, stream_id, 1);
    return 0;
}

static int start_player(zt_client *c, const char *stream_id, zt_ws *player, int rcvbuf)
{
    zego_msg reply;
    int rc = request_stream(c, ZEGO_MSG_PLAY, stream_id, &reply);
    if (rc)
        return rc;
    return zt_ws_connect_url(player, reply.u.media_reply.media.url,
                             reply.u.media_reply.media.ticket, ZEGO_SUBPROTOCOL_PLAY, rcvbuf);
}

/* Receives until a binary message arrives; text messages are counted. */
static int recv_frame(zt_ws *ws, zt_ws_msg *m, int *texts)
{
    for (;;) {
        int rc = zt_ws_recv(ws, m, TIMEOUT);
        if (rc <= 0)
            return rc;
        if (m->opcode == ZT_WS_BINARY)
            return 1;
        if (texts)
            (*texts)++;
    }
}

#define START_SERVER(srv, args)           \
    zt_server srv;                        \
    if (zt_server_start(&srv, 0, args)) { \
        CHECK(!"server started");         \
        return;                           \
    }

/* ---- Rooms and users ---- */

static void login_lists_the_room_and_others_see_the_user_arrive(void)
{
    START_SERVER(srv, NULL);
    zt_client a, b;
    zego_msg reply, ev;
    CHECK_INT(login(&a, &srv, "room-1", "alice", true, &reply), 0);
    CHECK_INT(reply.u.login_reply.n_users, 0);
    CHECK(reply.u.login_reply.session_id[0] && reply.u.login_reply.resume_token[0]);
    CHECK(reply.u.login_reply.heartbeat_interval_ms > 0);
    zego_msg_clear(&reply);

    CHECK_INT(login(&b, &srv, "room-1", "bob", true, &reply), 0);
    CHECK_INT(reply.u.login_reply.n_users, 1);
    if (reply.u.login_reply.n_users == 1)
        CHECK_STR(reply.u.login_reply.users[0].user_id, "alice");
    zego_msg_clear(&reply);

    CHECK(zt_client_wait_event(&a, ZEGO_MSG_USER_UPDATE, &ev, TIMEOUT));
    CHECK_INT(ev.u.user_update.update, ZEGO_UPDATE_ADD);
    CHECK_STR(ev.u.user_update.users[0].user_id, "bob");
    zego_msg_clear(&ev);
    CHECK_INT(zt_metric(srv.port, "zego_users"), 2);
    CHECK_INT(zt_metric(srv.port, "zego_rooms"), 1);
    zt_client_close(&a);
    zt_client_close(&b);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

static void user_events_go_only_to_users_who_asked(void)
{
    START_SERVER(srv, NULL);
    zt_client a, b;
    CHECK_INT(login(&a, &srv, "r", "quiet", false, NULL), 0);
    CHECK_INT(login(&b, &srv, "r", "other", false, NULL), 0);
    CHECK_INT(zt_client_count_events(&a, ZEGO_MSG_USER_UPDATE, 300), 0);
    zt_client_close(&a);
    zt_client_close(&b);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

static void logout_deletes_the_users_streams_then_the_user(void)
{
    START_SERVER(srv, NULL);
    zt_client a, b;
    zt_ws pub;
    zego_msg ev, reply;
    CHECK_INT(login(&a, &srv, "r", "alice", true, NULL), 0);
    CHECK_INT(login(&b, &srv, "r", "bob", true, NULL), 0);
    CHECK_INT(start_publisher(&b, "bob-cam", &pub), 0);
    CHECK(zt_client_wait_event(&a, ZEGO_MSG_STREAM_UPDATE, &ev, TIMEOUT));
    zego_msg_clear(&ev);

    zego_msg req;
    zego_msg_init(&req, ZEGO_MSG_LOGOUT);
    CHECK(zt_client_wait_event(&a, ZEGO_MSG_USER_UPDATE, &ev, TIMEOUT)); /* bob's add */
    zego_msg_clear(&ev);
    CHECK_INT(zt_client_request(&b, &req, &reply, TIMEOUT), 0);
    CHECK(zt_client_wait_event(&a, ZEGO_MSG_STREAM_UPDATE, &ev, TIMEOUT));
    CHECK_INT(ev.u.stream_update.update, ZEGO_UPDATE_DELETE);
    CHECK_INT(ev.u.stream_update.reason, ZEGO_REASON_LOGOUT);
    CHECK_STR(ev.u.stream_update.streams[0].stream_id, "bob-cam");
    zego_msg_clear(&ev);
    CHECK(zt_client_wait_event(&a, ZEGO_MSG_USER_UPDATE, &ev, TIMEOUT));
    CHECK_INT(ev.u.user_update.update, ZEGO_UPDATE_DELETE);
    CHECK_INT(ev.u.user_update.reason, ZEGO_REASON_LOGOUT);
    zego_msg_clear(&ev);
    zt_ws_close(&pub);
    zt_client_close(&a);
    zt_client_close(&b);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

static void a_second_login_of_a_user_id_kicks_the_first(void)
{
    START_SERVER(srv, NULL);
    zt_client first, second, watcher;
    zego_msg ev;
    CHECK_INT(login(&watcher, &srv, "r", "watcher", true, NULL), 0);
    CHECK_INT(login(&first, &srv, "r", "alice", true, NULL), 0);
    CHECK_INT(login(&second, &srv, "r", "alice", true, NULL), 0);
    CHECK(zt_client_wait_event(&first, ZEGO_MSG_KICKED_OUT, &ev, TIMEOUT));
    CHECK_INT(ev.u.notice.code, ZEGO_ERR_KICKED_OUT);
    CHECK(zt_client_wait_event(&watcher, ZEGO_MSG_USER_UPDATE, &ev, TIMEOUT)); /* add */
    zego_msg_clear(&ev);
    CHECK(zt_client_wait_event(&watcher, ZEGO_MSG_USER_UPDATE, &ev, TIMEOUT)); /* delete */
    CHECK_INT(ev.u.user_update.update, ZEGO_UPDATE_DELETE);
    CHECK_INT(ev.u.user_update.reason, ZEGO_REASON_KICKED_OUT);
    zego_msg_clear(&ev);
    /* The kicked socket is closed by the server. */
    zt_ws_msg m;
    CHECK_INT(zt_ws_recv(&first.ws, &m, TIMEOUT), -1);
    zt_client_close(&first);
    zt_client_close(&second);
    zt_client_close(&watcher);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

static void rooms_and_servers_have_member_limits(void)
{
    static const char *const args[] = {"--max-users-per-room", "2", "--max-rooms", "2", NULL};
    START_SERVER(srv, args);
    zt_client a, b, c, d, e;
    zego_msg reply;
    CHECK_INT(login(&a, &srv, "r", "a", false, NULL), 0);
    CHECK_INT(login(&b, &srv, "r", "b", false, NULL), 0);
    CHECK_INT(login(&c, &srv, "r", "c", false, &reply), ZEGO_ERR_ROOM_FULL);
    CHECK_CONTAINS(reply.error_message, "room r is full");
    CHECK_INT(login(&d, &srv, "r2", "d", false, NULL), 0);
    CHECK_INT(login(&e, &srv, "r3", "e", false, &reply), ZEGO_ERR_SERVER_FULL);
    CHECK_CONTAINS(reply.error_message, "--max-rooms");
    zt_client_close(&a);
    zt_client_close(&b);
    zt_client_close(&c);
    zt_client_close(&d);
    zt_client_close(&e);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

/* ---- Streams and media ---- */

static void a_published_stream_is_announced_with_owner_and_extra_info(void)
{
    START_SERVER(srv, NULL);
    zt_client a, b;
    zego_msg reply, ev;
    CHECK_INT(login(&a, &srv, "r", "alice", false, NULL), 0);
    CHECK_INT(login(&b, &srv, "r", "bob", false, NULL), 0);
    zego_msg req;
    zego_msg_init(&req, ZEGO_MSG_PUBLISH);
    snprintf(req.u.publish.stream_id, sizeof req.u.publish.stream_id, "bob-cam");
    snprintf(req.u.publish.extra_info, sizeof req.u.publish.extra_info, "{\"seat\":2}");
    CHECK_INT(zt_client_request(&b, &req, &reply, TIMEOUT), 0);
    /* Not announced before the publisher describes its tracks. */
    CHECK_INT(zt_client_count_events(&a, ZEGO_MSG_STREAM_UPDATE, 200), 0);
    zt_ws pub;
    CHECK_INT(zt_ws_connect_url(&pub, reply.u.media_reply.media.url,
                                reply.u.media_reply.media.ticket, ZEGO_SUBPROTOCOL_PUBLISH, 0),
              0);
    send_stream_info(&pub, "bob-cam", 1);
    CHECK(zt_client_wait_event(&a, ZEGO_MSG_STREAM_UPDATE, &ev, TIMEOUT));
    CHECK_INT(ev.u.stream_update.update, ZEGO_UPDATE_ADD);
    CHECK_STR(ev.u.stream_update.streams[0].stream_id, "bob-cam");
    CHECK_STR(ev.u.stream_update.streams[0].user_id, "bob");
    CHECK_STR(ev.u.stream_update.streams[0].extra_info, "{\"seat\":2}");
    zego_msg_clear(&ev);

    /* A later login lists it. */
    zt_client c;
    CHECK_INT(login(&c, &srv, "r", "carol", false, &reply), 0);
    CHECK_INT(reply.u.login_reply.n_streams, 1);
    zego_msg_clear(&reply);
    CHECK_INT(zt_metric(srv.port, "zego_streams"), 1);
    zt_ws_close(&pub);
    zt_client_close(&a);
    zt_client_close(&b);
    zt_client_close(&c);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

static void every_frame_arrives_intact_and_in_order(void)
{
    START_SERVER(srv, NULL);
    zt_client a, b;
    zt_ws pub, player;
    CHECK_INT(login(&a, &srv, "r", "alice", false, NULL), 0);
    CHECK_INT(login(&b, &srv, "r", "bob", false, NULL), 0);
    CHECK_INT(start_publisher(&a, "cam", &pub), 0);
    CHECK_INT(start_player(&b, "cam", &player, 0), 0);
    zt_ws_msg m;
    CHECK_INT(zt_ws_recv(&player, &m, TIMEOUT), 1);
    CHECK(m.opcode == ZT_WS_TEXT && memmem(m.data, m.len, "stream_info", 11));

    const int n = 200;
    for (int i = 0; i < n; i++) {
        bool video = i % 3 != 2;
        send_frame(&pub, video ? 0 : 1, i == 0 ? ZEGO_FRAME_FLAG_KEY : 0, (uint32_t)i,
                   video ? (i == 0 ? 60000 : 3000 + (size_t)i) : 160);
    }
    int good = 0;
    for (int i = 0; i < n; i++) {
        bool video = i % 3 != 2;
        if (recv_frame(&player, &m, NULL) != 1)
            break;
        good += frame_ok(&m, video ? 0 : 1, (uint32_t)i,
                         video ? (i == 0 ? 60000 : 3000 + (size_t)i) : 160);
    }
    CHECK_INT(good, n);
    CHECK_INT(zt_metric(srv.port, "zego_frames_dropped_total"), 0);
    zt_ws_close(&pub);
    zt_ws_close(&player);
    zt_client_close(&a);
    zt_client_close(&b);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

/* An unpublish on the publish socket comes after its frames: players get
 * every one, then the room hears the stream go. */
static void an_unpublish_on_the_media_socket_ends_the_stream_after_its_frames(void)
{
    START_SERVER(srv, NULL);
    zt_client a, b;
    zt_ws pub, player;
    zego_msg ev;
    CHECK_INT(login(&a, &srv, "r", "alice", false, NULL), 0);
    CHECK_INT(login(&b, &srv, "r", "bob", false, NULL), 0);
    CHECK_INT(start_publisher(&a, "cam", &pub), 0);
    CHECK_INT(start_player(&b, "cam", &player, 0), 0);
    CHECK(zt_client_wait_event(&b, ZEGO_MSG_STREAM_UPDATE, &ev, TIMEOUT)); /* the add */
    zego_msg_clear(&ev);
    const int n = 100;
    for (int i = 0; i < n; i++)
        send_frame(&pub, 0, i == 0 ? ZEGO_FRAME_FLAG_KEY : 0, (uint32_t)i, 3000 + (size_t)i);
    zt_ws_send_text(&pub, "{\"type\":\"unpublish\",\"seq\":1,\"stream_id\":\"cam\"}");
    CHECK(zt_client_wait_event(&b, ZEGO_MSG_STREAM_UPDATE, &ev, TIMEOUT));
    CHECK_INT(ev.u.stream_update.update, ZEGO_UPDATE_DELETE);
    CHECK_INT(ev.u.stream_update.reason, ZEGO_REASON_UNPUBLISH);
    zego_msg_clear(&ev);
    CHECK_INT(zt_metric(srv.port, "zego_frames_in_total"), n);
    zt_ws_msg m;
    int good = 0;
    for (int i = 0; i < n; i++) {
        if (recv_frame(&player, &m, NULL) != 1)
            break;
        good += frame_ok(&m, 0, (uint32_t)i, 3000 + (size_t)i);
    }
    CHECK_INT(good, n);
    /* ... then the end, after the last frame. */
    CHECK_INT(zt_ws_recv(&player, &m, TIMEOUT), 1);
    CHECK(m.opcode == ZT_WS_TEXT && memmem(m.data, m.len, "\"type\":\"unpublish\"", 18) != NULL);
    /* The server closed the publish socket. */
    while (zt_ws_recv(&pub, &m, TIMEOUT) == 1)
        ;
    CHECK_INT(zt_metric(srv.port, "zego_publishers"), 0);

    /* One naming another stream is refused, and that stream lives on. */
    zt_ws pub2;
    CHECK_INT(start_publisher(&a, "cam2", &pub2), 0);
    CHECK(zt_client_wait_event(&b, ZEGO_MSG_STREAM_UPDATE, &ev, TIMEOUT));
    zego_msg_clear(&ev);
    zt_ws_send_text(&pub2, "{\"type\":\"unpublish\",\"seq\":1,\"stream_id\":\"other\"}");
    int error_seen = 0;
    while (zt_ws_recv(&pub2, &m, TIMEOUT) == 1)
        error_seen |= memmem(m.data, m.len, "1004002", 7) != NULL;
    CHECK(error_seen);
    CHECK_INT(zt_metric(srv.port, "zego_streams"), 1);
    zt_ws_close(&pub);
    zt_ws_close(&pub2);
    zt_ws_close(&player);
    zt_client_close(&a);
    zt_client_close(&b);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

static void fragmented_frames_are_reassembled(void)
{
    START_SERVER(srv, NULL);
    zt_client a;
    zt_ws pub, player;
    CHECK_INT(login(&a, &srv, "r", "alice", false, NULL), 0);
    CHECK_INT(start_publisher(&a, "cam", &pub), 0);
    CHECK_INT(start_player(&a, "cam", &player, 0), 0);
    zt_ws_msg m;
    CHECK_INT(zt_ws_recv(&player, &m, TIMEOUT), 1); /* stream_info */
    uint8_t *frame = build_frame(0, ZEGO_FRAME_FLAG_KEY, 0, 5000);
    zt_ws_send_frame(&pub, ZT_WS_BINARY, false, frame, 1000);
    zt_ws_send_frame(&pub, 0, false, frame + 1000, 2000);
    zt_ws_send_frame(&pub, 0, true, frame + 3000, ZEGO_FRAME_HEADER_SIZE + 5000 - 3000);
    free(frame);
    CHECK_INT(recv_frame(&player, &m, NULL), 1);
    CHECK(frame_ok(&m, 0, 0, 5000));
    zt_ws_close(&pub);
    zt_ws_close(&player);
    zt_client_close(&a);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

static void a_late_player_starts_at_the_last_keyframe_at_once(void)
{
    START_SERVER(srv, NULL);
    zt_client a;
    zt_ws pub, player;
    CHECK_INT(login(&a, &srv, "r", "alice", false, NULL), 0);
    CHECK_INT(start_publisher(&a, "cam", &pub), 0);
    /* Two GOPs; the second keyframe is frame 10. */
    for (uint32_t i = 0; i < 15; i++)
        send_frame(&pub, 0, i % 10 == 0 ? ZEGO_FRAME_FLAG_KEY : 0, i, 2000);
    /* Make sure the server has them before the player asks. */
    usleep(1000);
    zt_client b;
    CHECK_INT(login(&b, &srv, "r", "late", false, NULL), 0);
    double before = zt_metric(srv.port, "zego_frames_in_total");
    for (int tries = 0; before < 15 && tries < 100; tries++) {
        usleep(10000);
        before = zt_metric(srv.port, "zego_frames_in_total");
    }
    CHECK_INT(start_player(&b, "cam", &player, 0), 0);
    zt_ws_msg m;
    CHECK_INT(zt_ws_recv(&player, &m, TIMEOUT), 1);
    CHECK(m.opcode == ZT_WS_TEXT); /* stream_info first */
    for (uint32_t i = 10; i < 15; i++) {
        CHECK_INT(recv_frame(&player, &m, NULL), 1);
        CHECK(frame_ok(&m, 0, i, 2000));
    }
    zt_ws_close(&pub);
    zt_ws_close(&player);
    zt_client_close(&a);
    zt_client_close(&b);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

static void playing_before_publishing_waits_for_the_stream(void)
{
    START_SERVER(srv, NULL);
    zt_client a, b;
    zt_ws pub, player;
    zego_msg reply;
    CHECK_INT(login(&b, &srv, "r", "viewer", false, NULL), 0);
    CHECK_INT(request_stream(&b, ZEGO_MSG_PLAY, "later", &reply), 0);
    CHECK(!reply.u.media_reply.published);
    CHECK_INT(zt_ws_connect_url(&player, reply.u.media_reply.media.url,
                                reply.u.media_reply.media.ticket, ZEGO_SUBPROTOCOL_PLAY, 0),
              0);
    zt_ws_msg m;
    CHECK_INT(zt_ws_recv(&player, &m, 200), 0); /* nothing yet */
    CHECK_INT(login(&a, &srv, "r", "alice", false, NULL), 0);
    CHECK_INT(start_publisher(&a, "later", &pub), 0);
    send_frame(&pub, 0, ZEGO_FRAME_FLAG_KEY, 0, 100);
    CHECK_INT(zt_ws_recv(&player, &m, TIMEOUT), 1);
    CHECK(m.opcode == ZT_WS_TEXT);
    CHECK_INT(recv_frame(&player, &m, NULL), 1);
    CHECK(frame_ok(&m, 0, 0, 100));
    zt_ws_close(&pub);
    zt_ws_close(&player);
    zt_client_close(&a);
    zt_client_close(&b);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

static void a_player_joining_without_a_cached_keyframe_makes_the_server_ask_for_one(void)
{
    START_SERVER(srv, NULL);
    zt_client a;
    zt_ws pub, player;
    CHECK_INT(login(&a, &srv, "r", "alice", false, NULL), 0);
    CHECK_INT(start_publisher(&a, "cam", &pub), 0);
    send_frame(&pub, 0, 0, 0, 100); /* a P frame: no keyframe seen */
    usleep(50000);
    CHECK_INT(start_player(&a, "cam", &player, 0), 0);
    zt_ws_msg m;
    int got = 0;
    while (zt_ws_recv(&pub, &m, TIMEOUT) == 1) {
        if (m.opcode == ZT_WS_TEXT && memmem(m.data, m.len, "keyframe_request", 16)) {
            got = 1;
            break;
        }
    }
    CHECK(got);
    zt_ws_close(&pub);
    zt_ws_close(&player);
    zt_client_close(&a);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

static void a_new_publisher_counting_from_one_gets_a_higher_generation(void)
{
    START_SERVER(srv, NULL);
    zt_client a, b, v;
    zt_ws pub, player;
    zego_msg reply;
    CHECK_INT(login(&v, &srv, "r", "viewer", false, NULL), 0);
    CHECK_INT(start_player(&v, "cam", &player, 0), 0);
    CHECK_INT(login(&a, &srv, "r", "first", false, NULL), 0);
    CHECK_INT(start_publisher(&a, "cam", &pub), 0); /* generation 1 */
    zt_ws_msg m;
    CHECK_INT(zt_ws_recv(&player, &m, TIMEOUT), 1);
    CHECK(memmem(m.data, m.len, "\"generation\":1", 14) != NULL);
    CHECK_INT(request_stream(&a, ZEGO_MSG_UNPUBLISH, "cam", &reply), 0);
    /* The player hears of the end on its socket, and stays. */
    CHECK_INT(zt_ws_recv(&player, &m, TIMEOUT), 1);
    CHECK(m.opcode == ZT_WS_TEXT && memmem(m.data, m.len, "\"type\":\"unpublish\"", 18) != NULL);
    zt_ws_close(&pub);
    /* Another publisher of the same stream id starts at 1 again. */
    CHECK_INT(login(&b, &srv, "r", "second", false, NULL), 0);
    CHECK_INT(start_publisher(&b, "cam", &pub), 0);
    CHECK_INT(zt_ws_recv(&player, &m, TIMEOUT), 1);
    CHECK(m.opcode == ZT_WS_TEXT && memmem(m.data, m.len, "\"generation\":2", 14) != NULL);
    zt_ws_close(&pub);
    zt_ws_close(&player);
    zt_client_close(&a);
    zt_client_close(&b);
    zt_client_close(&v);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

/* ---- Refusals ---- */

static void a_stream_id_published_by_another_user_is_refused(void)
{
    START_SERVER(srv, NULL);
    zt_client a, b;
    zego_msg reply;
    CHECK_INT(login(&a, &srv, "r", "alice", false, NULL), 0);
    CHECK_INT(login(&b, &srv, "other-room", "bob", false, NULL), 0);
    CHECK_INT(request_stream(&a, ZEGO_MSG_PUBLISH, "cam", &reply), 0);
    CHECK_INT(request_stream(&b, ZEGO_MSG_PUBLISH, "cam", &reply),
              ZEGO_ERR_STREAM_ALREADY_PUBLISHED);
    CHECK_CONTAINS(reply.error_message, "alice");
    /* Publishing one's own stream again is not a duplicate. */
    CHECK_INT(request_stream(&a, ZEGO_MSG_PUBLISH, "cam", &reply), 0);
    zt_client_close(&a);
    zt_client_close(&b);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

static void each_bad_token_gets_its_code(void)
{
    START_SERVER(srv, secured_args);
    struct {
        const char *what;
        uint32_t app_id;
        const char *token_user;
        int64_t ttl;
        int tamper;
        int32_t code;
    } cases[] = {
        {"no token", APP, NULL, 0, 0, ZEGO_ERR_TOKEN_MISSING},
        {"another user's", APP, "mallory", 3600, 0, ZEGO_ERR_TOKEN_USER_ID_MISMATCH},
        {"another app's", 7654321, "alice", 3600, 0, ZEGO_ERR_TOKEN_APP_ID_MISMATCH},
        {"altered", APP, "alice", 3600, 1, ZEGO_ERR_AUTHENTICATION_FAILED},
        {"wrong version", APP, "alice", 3600, 2, ZEGO_ERR_TOKEN_VERSION},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *token = cases[i].token_user
                          ? make_token(cases[i].app_id, cases[i].token_user, cases[i].ttl, NULL)
                          : strdup("");
        if (cases[i].tamper == 1)
            token[40] = token[40] == 'A' ? 'B' : 'A';
        if (cases[i].tamper == 2)
            token[1] = '3';
        zt_client c;
        zego_msg reply;
        CHECK_INT(zt_client_connect(&c, srv.port), 0);
        int rc = zt_client_login(&c, APP, "r", "alice", token, false, &reply);
        if (rc != cases[i].code)
            printf("#   %s: got %d (%s)\n", cases[i].what, rc, reply.error_message);
        CHECK_INT(rc, cases[i].code);
        zt_client_close(&c);
        free(token);
    }
    /* An expired token: made an hour ago with a one-second life. */
    zego_token04_params p = {.app_id = APP, .secret = SECRET, .user_id = "alice", .ttl = 1};
    p.ctime = time(NULL) - 3600;
    char *expired = NULL;
    zego_token04_create(&p, &expired, NULL);
    zt_client c;
    CHECK_INT(zt_client_connect(&c, srv.port), 0);
    CHECK_INT(zt_client_login(&c, APP, "r", "alice", expired, false, NULL), ZEGO_ERR_TOKEN_EXPIRED);
    zt_client_close(&c);
    free(expired);
    CHECK(zt_metric(srv.port, "zego_auth_failures_total") >= 6);
    /* And a good one still works. */
    char *good = make_token(APP, "alice", 3600, NULL);
    CHECK_INT(zt_client_connect(&c, srv.port), 0);
    CHECK_INT(zt_client_login(&c, APP, "r", "alice", good, false, NULL), 0);
    zt_client_close(&c);
    free(good);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

static void token_privileges_limit_rooms_and_streams(void)
{
    START_SERVER(srv, secured_args);
    const char *streams[] = {"allowed"};
    char *payload = NULL;
    zego_token04_payload_build("r", 1, 1, streams, 1, &payload, NULL);
    char *token = make_token(APP, "alice", 3600, payload);
    zt_client c;
    zego_msg reply;
    CHECK_INT(zt_client_connect(&c, srv.port), 0);
    CHECK_INT(zt_client_login(&c, APP, "elsewhere", "alice", token, false, &reply),
              ZEGO_ERR_AUTHENTICATION_FAILED);
    zt_client_close(&c);
    CHECK_INT(zt_client_connect(&c, srv.port), 0);
    CHECK_INT(zt_client_login(&c, APP, "r", "alice", token, false, NULL), 0);
    CHECK_INT(request_stream(&c, ZEGO_MSG_PUBLISH, "other", &reply),
              ZEGO_ERR_PUBLISH_NOT_AUTHORIZED);
    CHECK_INT(request_stream(&c, ZEGO_MSG_PUBLISH, "allowed", &reply), 0);
    zt_client_close(&c);
    free(token);
    free(payload);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

static void bad_ids_get_their_codes_and_the_server_stays_up(void)
{
    START_SERVER(srv, NULL);
    zt_client c;
    zego_msg answer;
    CHECK_INT(zt_client_connect(&c, srv.port), 0);
    CHECK_INT(zt_client_send_raw(&c,
                                 "{\"type\":\"login\",\"seq\":1,\"version\":1,\"app_id\":1,"
                                 "\"room_id\":\"my room\",\"user_id\":\"u\"}",
                                 &answer, TIMEOUT),
              ZEGO_ERR_ROOM_ID_INVALID_CHARACTER);
    CHECK_CONTAINS(answer.error_message, "at byte 2");
    CHECK_INT(zt_client_login(&c, APP, "r", "u", NULL, false, NULL), 0);
    zego_msg reply;
    CHECK_INT(request_stream(&c, ZEGO_MSG_PUBLISH, "a#b", &reply), -1); /* refused locally */
    CHECK_INT(zt_client_send_raw(&c, "{\"type\":\"publish\",\"seq\":9,\"stream_id\":\"a#b\"}",
                                 &answer, TIMEOUT),
              ZEGO_ERR_STREAM_ID_INVALID_CHARACTER);
    CHECK_INT(answer.seq, 9);
    zt_client_close(&c);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

static void malformed_messages_get_error_events_and_the_socket_lives_on(void)
{
    START_SERVER(srv, NULL);
    zt_client c;
    zego_msg answer;
    CHECK_INT(zt_client_connect(&c, srv.port), 0);
    CHECK_INT(zt_client_send_raw(&c, "{not json", &answer, TIMEOUT), ZEGO_ERR_PROTOCOL_MALFORMED);
    CHECK_INT(answer.type, ZEGO_MSG_ERROR);
    CHECK_INT(zt_client_send_raw(&c, "{\"type\":\"fly\",\"seq\":3}", &answer, TIMEOUT),
              ZEGO_ERR_PROTOCOL_UNKNOWN_TYPE);
    CHECK_INT(zt_client_send_raw(&c, "{\"type\":\"stream_update\"}", &answer, TIMEOUT),
              ZEGO_ERR_PROTOCOL_MISSING_FIELD);
    CHECK_INT(zt_client_send_raw(&c, "{\"type\":\"play\",\"seq\":4,\"stream_id\":\"s\"}", &answer,
                                 TIMEOUT),
              ZEGO_ERR_NOT_LOGGED_IN);
    char *big = malloc(ZEGO_CLIENT_MESSAGE_MAX + 100);
    memset(big, ' ', ZEGO_CLIENT_MESSAGE_MAX + 99);
    big[ZEGO_CLIENT_MESSAGE_MAX + 99] = '\0';
    big[0] = '{';
    big[ZEGO_CLIENT_MESSAGE_MAX + 98] = '}';
    CHECK_INT(zt_client_send_raw(&c, big, &answer, TIMEOUT), ZEGO_ERR_PROTOCOL_TOO_LARGE);
    free(big);
    /* Still usable. */
    CHECK_INT(zt_client_login(&c, APP, "r", "u", NULL, false, NULL), 0);
    CHECK(zt_metric(srv.port, "zego_protocol_errors_total") >= 4); /* not the login one */
    zt_client_close(&c);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

static void an_oversized_frame_closes_only_its_publisher(void)
{
    static const char *const args[] = {"--max-frame-bytes", "10000", "--gop-cache-bytes", "10000",
                                       NULL};
    START_SERVER(srv, args);
    zt_client a;
    zt_ws pub, player;
    CHECK_INT(login(&a, &srv, "r", "alice", false, NULL), 0);
    CHECK_INT(start_publisher(&a, "cam", &pub), 0);
    CHECK_INT(start_player(&a, "cam", &player, 0), 0);
    send_frame(&pub, 0, ZEGO_FRAME_FLAG_KEY, 0, 5000);
    send_frame(&pub, 0, 0, 1, 20000);
    zt_ws_msg m;
    int rc, error_seen = 0;
    while ((rc = zt_ws_recv(&pub, &m, TIMEOUT)) == 1)
        error_seen |= m.opcode == ZT_WS_TEXT && memmem(m.data, m.len, "1901003", 7) != NULL;
    CHECK_INT(rc, -1);
    CHECK(error_seen);
    /* The frame accepted before it was delivered. */
    CHECK_INT(recv_frame(&player, &m, NULL), 1);
    CHECK(frame_ok(&m, 0, 0, 5000));
    char body[64];
    CHECK_INT(zt_http_get(srv.port, "/healthz", body, sizeof body), 200);
    zt_ws_close(&pub);
    zt_ws_close(&player);
    zt_client_close(&a);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

static void frames_on_unknown_tracks_are_refused(void)
{
    START_SERVER(srv, NULL);
    zt_client a;
    zt_ws pub;
    CHECK_INT(login(&a, &srv, "r", "alice", false, NULL), 0);
    CHECK_INT(start_publisher(&a, "cam", &pub), 0);
    send_frame(&pub, 7, ZEGO_FRAME_FLAG_KEY, 0, 100);
    zt_ws_msg m;
    int error_seen = 0;
    while (zt_ws_recv(&pub, &m, TIMEOUT) == 1)
        error_seen |= memmem(m.data, m.len, "1901005", 7) != NULL;
    CHECK(error_seen);
    zt_ws_close(&pub);
    zt_client_close(&a);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

static void media_sockets_need_a_valid_ticket(void)
{
    START_SERVER(srv, NULL);
    zt_client a;
    zego_msg reply;
    zt_ws ws;
    CHECK_INT(login(&a, &srv, "r", "alice", false, NULL), 0);
    CHECK_INT(request_stream(&a, ZEGO_MSG_PLAY, "cam", &reply), 0);
    char altered[ZEGO_TICKET_SIZE];
    snprintf(altered, sizeof altered, "%s", reply.u.media_reply.media.ticket);
    altered[10] = altered[10] == 'A' ? 'B' : 'A';
    CHECK(zt_ws_connect_url(&ws, reply.u.media_reply.media.url, altered, ZEGO_SUBPROTOCOL_PLAY,
                            0) != 0);
    zt_ws_close(&ws);
    /* A ticket opens one socket. */
    CHECK_INT(zt_ws_connect_url(&ws, reply.u.media_reply.media.url,
                                reply.u.media_reply.media.ticket, ZEGO_SUBPROTOCOL_PLAY, 0),
              0);
    zt_ws x;
    CHECK(zt_ws_connect_url(&x, reply.u.media_reply.media.url, reply.u.media_reply.media.ticket,
                            ZEGO_SUBPROTOCOL_PLAY, 0) != 0);
    zt_ws_close(&x);
    zt_ws_close(&ws);
    CHECK_INT(request_stream(&a, ZEGO_MSG_PLAY, "cam", &reply), 0);
    /* A play ticket does not open a publisher socket. */
    CHECK(zt_ws_connect_url(&ws, reply.u.media_reply.media.url, reply.u.media_reply.media.ticket,
                            ZEGO_SUBPROTOCOL_PUBLISH, 0) != 0);
    zt_ws_close(&ws);
    CHECK(zt_metric(srv.port, "zego_auth_failures_total") >= 2);
    zt_client_close(&a);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

/* ---- Slow players ---- */

static void a_player_that_stops_reading_is_dropped_without_hurting_others(void)
{
    static const char *const args[] = {"--sndbuf",
                                       "8192",
                                       "--gop-cache-bytes",
                                       "200000",
                                       "--player-queue-bytes",
                                       "300000",
                                       "--player-queue-hard-bytes",
                                       "400000",
                                       "--player-stall-ms",
                                       "1000",
                                       NULL};
    START_SERVER(srv, args);
    zt_client a, b, s;
    zt_ws pub, good, slow;
    CHECK_INT(login(&a, &srv, "r", "pub", false, NULL), 0);
    CHECK_INT(login(&b, &srv, "r", "good", false, NULL), 0);
    CHECK_INT(login(&s, &srv, "r", "slow", false, NULL), 0);
    CHECK_INT(start_publisher(&a, "cam", &pub), 0);
    CHECK_INT(start_player(&b, "cam", &good, 0), 0);
    CHECK_INT(start_player(&s, "cam", &slow, 4096), 0); /* and never read it */

    /* 4 s of a fast stream: 100 frames/s of 10 KB, a keyframe every 25. */
    const int n = 400;
    double max_queue = 0;
    int received = 0;
    zt_ws_msg m;
    zt_ws_recv(&good, &m, TIMEOUT); /* stream_info */
    for (int i = 0; i < n; i++) {
        send_frame(&pub, 0, i % 25 == 0 ? ZEGO_FRAME_FLAG_KEY : 0, (uint32_t)i, 10000);
        while (zt_ws_recv(&good, &m, 0) == 1)
            received += m.opcode == ZT_WS_BINARY;
        if (i % 20 == 0) {
            double q = zt_metric(srv.port, "zego_player_queue_bytes");
            if (q > max_queue)
                max_queue = q;
        }
        usleep(10000);
    }
    while (received < n && recv_frame(&good, &m, NULL) == 1)
        received++;
    CHECK_INT(received, n);
    printf("#   largest queue seen: %.0f bytes (hard bound 400000 per player)\n", max_queue);
    CHECK(max_queue > 0 && max_queue <= 400000 + 2 * 10036);
    CHECK(zt_metric(srv.port, "zego_frames_dropped_total") > 0);
    CHECK_INT(zt_metric(srv.port, "zego_players_disconnected_slow_total"), 1);
    CHECK_INT(zt_metric(srv.port, "zego_players"), 1);
    zt_ws_close(&pub);
    zt_ws_close(&good);
    zt_ws_close(&slow);
    zt_client_close(&a);
    zt_client_close(&b);
    zt_client_close(&s);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

/* ---- Sessions ---- */

static void a_session_resumed_within_the_window_is_invisible_to_others(void)
{
    static const char *const args[] = {"--reconnect-window", "3000", NULL};
    START_SERVER(srv, args);
    zt_client a, b;
    zt_ws pub;
    zego_msg reply, ev;
    CHECK_INT(login(&a, &srv, "r", "watcher", true, NULL), 0);
    CHECK_INT(login(&b, &srv, "r", "bob", true, &reply), 0);
    char session_id[ZEGO_SESSION_ID_SIZE], resume[ZEGO_RESUME_TOKEN_SIZE];
    snprintf(session_id, sizeof session_id, "%s", reply.u.login_reply.session_id);
    snprintf(resume, sizeof resume, "%s", reply.u.login_reply.resume_token);
    zego_msg_clear(&reply);
    CHECK_INT(start_publisher(&b, "bob-cam", &pub), 0);
    CHECK(zt_client_wait_event(&a, ZEGO_MSG_STREAM_UPDATE, &ev, TIMEOUT));
    zego_msg_clear(&ev);
    CHECK(zt_client_wait_event(&a, ZEGO_MSG_USER_UPDATE, &ev, TIMEOUT));
    zego_msg_clear(&ev);

    /* The connection drops; the client comes back within the window. */
    zt_client_close(&b);
    zt_ws_close(&pub);
    usleep(300000);
    CHECK_INT(zt_client_connect(&b, srv.port), 0);
    zego_msg req;
    zego_msg_init(&req, ZEGO_MSG_LOGIN);
    req.u.login = (zego_login_req){.version = 1, .app_id = APP, .user_update = true};
    snprintf(req.u.login.room_id, sizeof req.u.login.room_id, "r");
    snprintf(req.u.login.user_id, sizeof req.u.login.user_id, "bob");
    snprintf(req.u.login.session_id, sizeof req.u.login.session_id, "%s", session_id);
    snprintf(req.u.login.resume_token, sizeof req.u.login.resume_token, "%s", resume);
    CHECK_INT(zt_client_request(&b, &req, &reply, TIMEOUT), 0);
    CHECK(reply.u.login_reply.resumed);
    CHECK_INT(reply.u.login_reply.n_streams, 1);
    CHECK(strcmp(reply.u.login_reply.resume_token, resume) != 0); /* single use */
    zego_msg_clear(&reply);
    /* Re-publishing its own stream is not a duplicate. */
    CHECK_INT(request_stream(&b, ZEGO_MSG_PUBLISH, "bob-cam", &reply), 0);
    CHECK_INT(zt_client_count_events(&a, ZEGO_MSG_USER_UPDATE, 100), 0);
    CHECK_INT(zt_client_count_events(&a, ZEGO_MSG_STREAM_UPDATE, 0), 0);

    /* The old resume token is spent. */
    zt_client x;
    CHECK_INT(zt_client_connect(&x, srv.port), 0);
    CHECK_INT(zt_client_request(&x, &req, &reply, TIMEOUT), ZEGO_ERR_SESSION_EXPIRED);
    zt_client_close(&x);
    zt_client_close(&a);
    zt_client_close(&b);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

static void a_user_gone_past_the_window_is_removed_with_reason_timeout(void)
{
    static const char *const args[] = {"--reconnect-window", "500", NULL};
    START_SERVER(srv, args);
    zt_client a, b;
    zt_ws pub;
    zego_msg ev;
    CHECK_INT(login(&a, &srv, "r", "watcher", true, NULL), 0);
    CHECK_INT(login(&b, &srv, "r", "bob", true, NULL), 0);
    CHECK_INT(start_publisher(&b, "bob-cam", &pub), 0);
    CHECK(zt_client_wait_event(&a, ZEGO_MSG_STREAM_UPDATE, &ev, TIMEOUT));
    zego_msg_clear(&ev);
    CHECK(zt_client_wait_event(&a, ZEGO_MSG_USER_UPDATE, &ev, TIMEOUT));
    zego_msg_clear(&ev);
    int64_t dropped = zt_now_ms();
    zt_client_close(&b);
    zt_ws_close(&pub);
    CHECK(zt_client_wait_event(&a, ZEGO_MSG_STREAM_UPDATE, &ev, TIMEOUT));
    CHECK(zt_now_ms() - dropped >= 450);
    CHECK_INT(ev.u.stream_update.update, ZEGO_UPDATE_DELETE);
    CHECK_INT(ev.u.stream_update.reason, ZEGO_REASON_TIMEOUT);
    zego_msg_clear(&ev);
    CHECK(zt_client_wait_event(&a, ZEGO_MSG_USER_UPDATE, &ev, TIMEOUT));
    CHECK_INT(ev.u.user_update.update, ZEGO_UPDATE_DELETE);
    CHECK_INT(ev.u.user_update.reason, ZEGO_REASON_TIMEOUT);
    zego_msg_clear(&ev);
    zt_client_close(&a);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

/* ---- Messages, tokens, extra info ---- */

static void broadcast_messages_and_commands_reach_their_recipients(void)
{
    START_SERVER(srv, NULL);
    zt_client a, b, c;
    zego_msg reply, ev;
    CHECK_INT(login(&a, &srv, "r", "alice", false, NULL), 0);
    CHECK_INT(login(&b, &srv, "r", "bob", false, NULL), 0);
    CHECK_INT(login(&c, &srv, "r", "carol", false, NULL), 0);
    zego_msg req;
    zego_msg_init(&req, ZEGO_MSG_SEND_BROADCAST_MESSAGE);
    snprintf(req.u.send_message.message, sizeof req.u.send_message.message,
             "\xe4\xbd\xa0\xe5\xa5\xbd"); /* 你好 */
    CHECK_INT(zt_client_request(&a, &req, &reply, TIMEOUT), 0);
    CHECK(zt_client_wait_event(&b, ZEGO_MSG_BROADCAST_MESSAGE, &ev, TIMEOUT));
    CHECK_STR(ev.u.message.message, "\xe4\xbd\xa0\xe5\xa5\xbd");
    CHECK_STR(ev.u.message.from.user_id, "alice");
    CHECK(zt_client_wait_event(&c, ZEGO_MSG_BROADCAST_MESSAGE, &ev, TIMEOUT));

    zego_msg_init(&req, ZEGO_MSG_SEND_CUSTOM_COMMAND);
    snprintf(req.u.send_message.message, sizeof req.u.send_message.message, "mute");
    char to[1][ZEGO_USER_ID_SIZE] = {"carol"};
    req.u.send_message.to_user_ids = to;
    req.u.send_message.n_to_user_ids = 1;
    CHECK_INT(zt_client_request(&a, &req, &reply, TIMEOUT), 0);
    CHECK(zt_client_wait_event(&c, ZEGO_MSG_CUSTOM_COMMAND, &ev, TIMEOUT));
    CHECK_STR(ev.u.message.message, "mute");
    CHECK_INT(zt_client_count_events(&b, ZEGO_MSG_CUSTOM_COMMAND, 200), 0);
    snprintf(to[0], sizeof to[0], "nobody");
    CHECK_INT(zt_client_request(&a, &req, &reply, TIMEOUT), ZEGO_ERR_USER_NOT_FOUND);

    /* More than ten a second are refused. */
    zego_msg_init(&req, ZEGO_MSG_SEND_BROADCAST_MESSAGE);
    snprintf(req.u.send_message.message, sizeof req.u.send_message.message, "spam");
    int limited = 0;
    for (int i = 0; i < 15; i++)
        limited += zt_client_request(&a, &req, &reply, TIMEOUT) == ZEGO_ERR_RATE_LIMITED;
    CHECK(limited >= 3);
    zt_client_close(&a);
    zt_client_close(&b);
    zt_client_close(&c);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

static void a_token_near_expiry_is_announced_and_can_be_renewed(void)
{
    START_SERVER(srv, secured_args);
    char *token = make_token(APP, "alice", 20, NULL);
    zt_client c;
    zego_msg ev, reply;
    CHECK_INT(zt_client_connect(&c, srv.port), 0);
    CHECK_INT(zt_client_login(&c, APP, "r", "alice", token, false, NULL), 0);
    CHECK(zt_client_wait_event(&c, ZEGO_MSG_TOKEN_WILL_EXPIRE, &ev, TIMEOUT));
    CHECK(ev.u.token_will_expire.remaining_s <= 20 && ev.u.token_will_expire.remaining_s >= 15);
    char *fresh = make_token(APP, "alice", 3600, NULL);
    zego_msg req;
    zego_msg_init(&req, ZEGO_MSG_RENEW_TOKEN);
    snprintf(req.u.renew_token.token, sizeof req.u.renew_token.token, "%s", fresh);
    CHECK_INT(zt_client_request(&c, &req, &reply, TIMEOUT), 0);
    CHECK(reply.u.renew_token_reply.token_expire > time(NULL) + 3500);
    char *other = make_token(APP, "bob", 3600, NULL);
    snprintf(req.u.renew_token.token, sizeof req.u.renew_token.token, "%s", other);
    CHECK_INT(zt_client_request(&c, &req, &reply, TIMEOUT), ZEGO_ERR_TOKEN_USER_ID_MISMATCH);
    free(token);
    free(fresh);
    free(other);
    zt_client_close(&c);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

static void extra_info_updates_reach_the_room(void)
{
    START_SERVER(srv, NULL);
    zt_client a, b;
    zt_ws pub;
    zego_msg ev, reply;
    CHECK_INT(login(&a, &srv, "r", "alice", false, NULL), 0);
    CHECK_INT(login(&b, &srv, "r", "bob", false, NULL), 0);
    CHECK_INT(start_publisher(&b, "cam", &pub), 0);
    CHECK(zt_client_wait_event(&a, ZEGO_MSG_STREAM_UPDATE, &ev, TIMEOUT));
    zego_msg_clear(&ev);
    zego_msg req;
    zego_msg_init(&req, ZEGO_MSG_SET_STREAM_EXTRA_INFO);
    snprintf(req.u.set_stream_extra_info.stream_id, sizeof req.u.set_stream_extra_info.stream_id,
             "cam");
    snprintf(req.u.set_stream_extra_info.extra_info, sizeof req.u.set_stream_extra_info.extra_info,
             "on air");
    CHECK_INT(zt_client_request(&b, &req, &reply, TIMEOUT), 0);
    CHECK(zt_client_wait_event(&a, ZEGO_MSG_STREAM_EXTRA_INFO_UPDATE, &ev, TIMEOUT));
    CHECK_STR(ev.u.stream_update.streams[0].extra_info, "on air");
    zego_msg_clear(&ev);
    CHECK_INT(zt_client_request(&a, &req, &reply, TIMEOUT), ZEGO_ERR_STREAM_NOT_FOUND);
    zt_ws_close(&pub);
    zt_client_close(&a);
    zt_client_close(&b);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

static void heartbeats_carry_the_server_clock(void)
{
    START_SERVER(srv, NULL);
    zt_client c;
    zego_msg req, reply;
    CHECK_INT(zt_client_connect(&c, srv.port), 0);
    zego_msg_init(&req, ZEGO_MSG_HEARTBEAT);
    req.u.heartbeat.client_time_ms = 123;
    CHECK_INT(zt_client_request(&c, &req, &reply, TIMEOUT), 0);
    CHECK_INT(reply.u.heartbeat_reply.client_time_ms, 123);
    int64_t now_ms = (int64_t)time(NULL) * 1000;
    CHECK(reply.u.heartbeat_reply.server_time_ms > now_ms - 5000 &&
          reply.u.heartbeat_reply.server_time_ms < now_ms + 5000);
    zt_client_close(&c);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

/* ---- Lifecycle ---- */

static void sigterm_tells_clients_and_exits_zero(void)
{
    START_SERVER(srv, NULL);
    zt_client c;
    zego_msg ev;
    CHECK_INT(login(&c, &srv, "r", "alice", false, NULL), 0);
    kill(srv.pid, SIGTERM);
    CHECK(zt_client_wait_event(&c, ZEGO_MSG_GOING_AWAY, &ev, TIMEOUT));
    CHECK_INT(ev.u.notice.code, ZEGO_ERR_SERVER_SHUTTING_DOWN);
    zt_client_close(&c);
    CHECK_INT(zt_server_stop(&srv, 0), 0);
}

static void open_mode_refuses_to_listen_beyond_loopback(void)
{
    const char *bin = getenv("ZEGO_SERVER_BIN");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s --listen 0.0.0.0:0 >/dev/null 2>&1", bin);
    int status = system(cmd);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 2);
}

static void apps_can_come_from_a_file_and_bad_files_are_refused(void)
{
    char path[] = "/tmp/zego-test-apps-XXXXXX";
    int fd = mkstemp(path);
    const char good[] = "# app id and secret\n1234567 " SECRET "\n";
    CHECK(fd >= 0 && write(fd, good, strlen(good)) == (ssize_t)strlen(good));
    close(fd);
    const char *args[] = {"--app-file", path, NULL};
    zt_server srv;
    CHECK_INT(zt_server_start(&srv, 0, args), 0);
    char *token = make_token(APP, "alice", 3600, NULL);
    zt_client c;
    CHECK_INT(zt_client_connect(&c, srv.port), 0);
    CHECK_INT(zt_client_login(&c, APP, "r", "alice", token, false, NULL), 0);
    zt_client_close(&c);
    free(token);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);

    FILE *f = fopen(path, "w");
    fputs("1234567 too-short-secret\n", f);
    fclose(f);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s --listen 127.0.0.1:0 --app-file %s 2>&1",
             getenv("ZEGO_SERVER_BIN"), path);
    FILE *p = popen(cmd, "r");
    char out[512] = "";
    size_t got = fread(out, 1, sizeof out - 1, p);
    out[got] = '\0';
    int status = pclose(p);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 2);
    CHECK_CONTAINS(out, ":1: the secret of app 1234567 is 16 characters; it must be 32");
    unlink(path);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    RUN(login_lists_the_room_and_others_see_the_user_arrive);
    RUN(user_events_go_only_to_users_who_asked);
    RUN(logout_deletes_the_users_streams_then_the_user);
    RUN(a_second_login_of_a_user_id_kicks_the_first);
    RUN(rooms_and_servers_have_member_limits);
    RUN(a_published_stream_is_announced_with_owner_and_extra_info);
    RUN(every_frame_arrives_intact_and_in_order);
    RUN(an_unpublish_on_the_media_socket_ends_the_stream_after_its_frames);
    RUN(fragmented_frames_are_reassembled);
    RUN(a_late_player_starts_at_the_last_keyframe_at_once);
    RUN(playing_before_publishing_waits_for_the_stream);
    RUN(a_player_joining_without_a_cached_keyframe_makes_the_server_ask_for_one);
    RUN(a_new_publisher_counting_from_one_gets_a_higher_generation);
    RUN(a_stream_id_published_by_another_user_is_refused);
    RUN(each_bad_token_gets_its_code);
    RUN(token_privileges_limit_rooms_and_streams);
    RUN(bad_ids_get_their_codes_and_the_server_stays_up);
    RUN(malformed_messages_get_error_events_and_the_socket_lives_on);
    RUN(an_oversized_frame_closes_only_its_publisher);
    RUN(frames_on_unknown_tracks_are_refused);
    RUN(media_sockets_need_a_valid_ticket);
    RUN(a_player_that_stops_reading_is_dropped_without_hurting_others);
    RUN(a_session_resumed_within_the_window_is_invisible_to_others);
    RUN(a_user_gone_past_the_window_is_removed_with_reason_timeout);
    RUN(broadcast_messages_and_commands_reach_their_recipients);
    RUN(a_token_near_expiry_is_announced_and_can_be_renewed);
    RUN(extra_info_updates_reach_the_room);
    RUN(heartbeats_carry_the_server_clock);
    RUN(sigterm_tells_clients_and_exits_zero);
    RUN(open_mode_refuses_to_listen_beyond_loopback);
    RUN(apps_can_come_from_a_file_and_bad_files_are_refused);
    return harness_finish();
}
