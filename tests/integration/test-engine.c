/* The client engine against the real zego-room-server: two engines meet in
 * a room, publish and play with every frame checked, refusals arrive with
 * their codes, and both engines come back by themselves after the server is
 * killed and started again.  Events are recorded as lines of text
 * ("room CONNECTED LOGINED 0") and waited for with timeouts. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <zego/zego.h>

#include "harness.h"
#include "server-proc.h"
#include "tcp-proxy.h"
#include "ws-raw.h"

#define APP     1234567u
#define SECRET  "0123456789abcdef0123456789abcdef"
#define TIMEOUT 8000

/* ---- An engine with a recorder of its events ---- */

#define MAX_LINES 4096

typedef struct recorder {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    char *lines[MAX_LINES];
    size_t n_lines;
    /* frames of the played stream */
    uint32_t frames, bad_frames, discont, media_infos;
    uint32_t next_video_seq;
    int64_t last_pts;
} recorder;

typedef struct test_engine {
    zego_engine *engine;
    recorder rec;
} test_engine;

static void record(recorder *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void record(recorder *r, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&r->lock);
    if (r->n_lines < MAX_LINES)
        r->lines[r->n_lines++] = strdup(line);
    pthread_cond_broadcast(&r->changed);
    pthread_mutex_unlock(&r->lock);
}

/* Waits for a line starting with prefix, after index *from (updated past
 * it).  Returns true when found. */
static bool wait_line(recorder *r, const char *prefix, size_t *from, int timeout_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    size_t start = from ? *from : 0;
    pthread_mutex_lock(&r->lock);
    for (;;) {
        for (size_t i = start; i < r->n_lines; i++) {
            if (strncmp(r->lines[i], prefix, strlen(prefix)) == 0) {
                if (from)
                    *from = i + 1;
                pthread_mutex_unlock(&r->lock);
                return true;
            }
        }
        start = r->n_lines;
        if (pthread_cond_timedwait(&r->changed, &r->lock, &deadline) != 0)
            break;
    }
    pthread_mutex_unlock(&r->lock);
    printf("#   no event \"%s\" within %d ms\n", prefix, timeout_ms);
    return false;
}

static size_t count_lines(recorder *r, const char *prefix)
{
    size_t n = 0;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->n_lines; i++)
        n += strncmp(r->lines[i], prefix, strlen(prefix)) == 0;
    pthread_mutex_unlock(&r->lock);
    return n;
}

static void on_room_state(zego_engine *e, const char *room, zego_room_state state,
                          zego_room_state_reason reason, int32_t code, const char *message,
                          void *ud)
{
    (void)room, (void)message;
    /* The engine's stream list is the room's from CONNECTED on. */
    record(ud, "room %s %s %d streams=%zu", zego_room_state_name(state),
           zego_room_state_reason_name(reason), code, zego_engine_get_streams(e, NULL, 0));
}

static void on_users(zego_engine *e, const char *room, zego_update_type type,
                     const zego_user *users, size_t n, void *ud)
{
    (void)e, (void)room;
    for (size_t i = 0; i < n; i++)
        record(ud, "user %s %s %s", zego_update_type_name(type), users[i].user_id,
               users[i].user_name);
}

static void on_streams(zego_engine *e, const char *room, zego_update_type type,
                       zego_delete_reason reason, const zego_stream *streams, size_t n, void *ud)
{
    (void)e, (void)room;
    for (size_t i = 0; i < n; i++)
        record(ud, "stream %s %s %s %s", zego_update_type_name(type), streams[i].stream_id,
               streams[i].user_id, zego_delete_reason_name(reason));
}

static void on_publisher_state(zego_engine *e, const char *stream_id, zego_publisher_state state,
                               int32_t code, void *ud)
{
    (void)e;
    record(ud, "publisher %s %s %d", stream_id, zego_publisher_state_name(state), code);
}

static void on_player_state(zego_engine *e, const char *stream_id, zego_player_state state,
                            int32_t code, void *ud)
{
    (void)e;
    record(ud, "player %s %s %d", stream_id, zego_player_state_name(state), code);
}

static void on_kicked(zego_engine *e, const char *room, int32_t code, const char *msg, void *ud)
{
    (void)e, (void)room, (void)msg;
    record(ud, "kicked %d", code);
}

static void on_keyframe(zego_engine *e, const char *stream_id, uint32_t track,
                        zego_keyframe_reason reason, void *ud)
{
    (void)e, (void)track;
    record(ud, "keyframe %s %s", stream_id, zego_keyframe_reason_name(reason));
}

static void on_player_quality(zego_engine *e, const char *stream_id, const zego_play_stats *s,
                              void *ud)
{
    (void)e;
    record(ud, "play-quality %s %s", stream_id, zego_quality_level_name(s->quality));
}

/* Payload of frame seq: a pattern the player checks byte by byte. */
static size_t frame_size(uint32_t seq)
{
    return seq % 30 == 0 ? 20000 : 1000 + seq % 500;
}

static void on_media_info(zego_engine *e, const zego_media_info *info, void *ud)
{
    (void)e;
    recorder *r = ud;
    pthread_mutex_lock(&r->lock);
    r->media_infos++;
    pthread_mutex_unlock(&r->lock);
    record(ud, "media-info %s gen=%u tracks=%zu %s", info->stream_id, info->generation,
           info->n_tracks, info->n_tracks ? info->tracks[0].codec_string : "");
}

static void on_frame(zego_engine *e, const char *stream_id, const zego_media_frame *f, void *ud)
{
    (void)e, (void)stream_id;
    recorder *r = ud;
    /* The publisher numbers its payloads through the pts: pts = n * 33333. */
    uint32_t n = (uint32_t)(f->pts_us / 33333);
    bool ok = f->size == frame_size(n) && f->pts_us == (int64_t)n * 33333 &&
              f->dts_us == f->pts_us && f->capture_time_us > 0;
    for (size_t i = 0; ok && i < f->size; i++)
        ok = f->data[i] == (uint8_t)(n * 7 + i);
    pthread_mutex_lock(&r->lock);
    if (!ok)
        r->bad_frames++;
    if (f->flags & ZEGO_FRAME_FLAG_DISCONT)
        r->discont++;
    if (r->frames && f->pts_us <= r->last_pts)
        r->bad_frames++; /* out of order */
    r->last_pts = f->pts_us;
    r->frames++;
    pthread_cond_broadcast(&r->changed);
    pthread_mutex_unlock(&r->lock);
}

static uint32_t frames_seen(recorder *r)
{
    pthread_mutex_lock(&r->lock);
    uint32_t n = r->frames;
    pthread_mutex_unlock(&r->lock);
    return n;
}

static bool wait_frames(recorder *r, uint32_t n, int timeout_ms)
{
    int64_t deadline = zt_now_ms() + timeout_ms;
    while (frames_seen(r) < n && zt_now_ms() < deadline)
        usleep(5000);
    if (frames_seen(r) < n)
        printf("#   %u frames arrived, waited for %u\n", frames_seen(r), n);
    return frames_seen(r) >= n;
}

static void on_play_end(zego_engine *e, const char *stream_id, void *ud)
{
    (void)e;
    recorder *r = ud;
    record(r, "play-end %s after %u frames", stream_id, frames_seen(r));
}

static const zego_player_callbacks *player_callbacks(test_engine *t)
{
    static __thread zego_player_callbacks cb;
    cb = (zego_player_callbacks){
        .user_data = &t->rec, .media_info = on_media_info, .frame = on_frame, .end = on_play_end};
    return &cb;
}

/* TLS settings engine_start gives the next engines. */
static bool tls_verify = true;
static const char *tls_ca_file;

static int engine_start(test_engine *t, const zt_server *srv, const char *room, const char *user,
                        const char *token)
{
    memset(t, 0, sizeof *t);
    pthread_mutex_init(&t->rec.lock, NULL);
    pthread_cond_init(&t->rec.changed, NULL);
    zego_engine_config cfg;
    zego_engine_config_init(&cfg);
    cfg.server_url = srv->url;
    cfg.app_id = APP;
    cfg.reconnect_backoff_initial_ms = 50;
    cfg.reconnect_backoff_max_ms = 300;
    cfg.login_timeout_ms = 3000;
    cfg.quality_interval_ms = 500;
    cfg.tls_verify = tls_verify;
    cfg.tls_ca_file = tls_ca_file;
    zego_error err;
    t->engine = zego_engine_create(&cfg, &err);
    if (!t->engine) {
        printf("#   engine: %s\n", err.message);
        return -1;
    }
    zego_event_handler h = {.user_data = &t->rec,
                            .room_state_update = on_room_state,
                            .room_user_update = on_users,
                            .room_stream_update = on_streams,
                            .publisher_state_update = on_publisher_state,
                            .player_state_update = on_player_state,
                            .kicked_out = on_kicked,
                            .publisher_keyframe_request = on_keyframe,
                            .player_quality_update = on_player_quality};
    if (!zego_engine_add_handler(t->engine, &h, &err))
        return -1;
    zego_room_config room_cfg = {
        .room_id = room, .user_id = user, .user_name = user, .token = token, .user_update = true};
    return zego_engine_login_room(t->engine, &room_cfg, &err);
}

static void engine_stop(test_engine *t)
{
    if (t->engine)
        zego_engine_destroy(t->engine);
    t->engine = NULL;
    for (size_t i = 0; i < t->rec.n_lines; i++)
        free(t->rec.lines[i]);
    pthread_mutex_destroy(&t->rec.lock);
    pthread_cond_destroy(&t->rec.changed);
}

static const zego_track tracks[] = {
    {.id = 0,
     .kind = ZEGO_TRACK_VIDEO,
     .codec = ZEGO_CODEC_H264,
     .codec_string = "avc1.42E01E",
     .width = 640,
     .height = 360,
     .framerate_num = 30,
     .framerate_den = 1},
    {.id = 1,
     .kind = ZEGO_TRACK_AUDIO,
     .codec = ZEGO_CODEC_OPUS,
     .codec_string = "opus",
     .sample_rate = 48000,
     .channels = 2},
};

static int start_publishing(test_engine *t, const char *stream_id)
{
    zego_publish_config pc = {
        .stream_id = stream_id, .extra_info = "{\"seat\":1}", .tracks = tracks, .n_tracks = 2};
    return zego_engine_start_publishing(t->engine, &pc, NULL);
}

/* Sends video frames first..last (a keyframe every 30). */
static void send_frames(test_engine *t, const char *stream_id, uint32_t first, uint32_t last,
                        int pace_us)
{
    static uint8_t buf[20000];
    for (uint32_t n = first; n <= last; n++) {
        size_t size = frame_size(n);
        for (size_t i = 0; i < size; i++)
            buf[i] = (uint8_t)(n * 7 + i);
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        zego_media_frame f = {.track = 0,
                              .flags = n % 30 == 0 ? ZEGO_FRAME_FLAG_KEY : 0,
                              .pts_us = (int64_t)n * 33333,
                              .dts_us = (int64_t)n * 33333,
                              .capture_time_us = now.tv_sec * 1000000LL + now.tv_nsec / 1000,
                              .data = buf,
                              .size = size};
        zego_engine_send_frame(t->engine, stream_id, &f, NULL);
        if (pace_us)
            usleep((useconds_t)pace_us);
    }
}

#define START_SERVER(srv, args)           \
    zt_server srv;                        \
    if (zt_server_start(&srv, 0, args)) { \
        CHECK(!"server started");         \
        return;                           \
    }

/* ---- Tests ---- */

static void two_engines_meet_publish_play_and_part(void)
{
    START_SERVER(srv, NULL);
    test_engine a, b;
    size_t at = 0, bt = 0;
    CHECK_INT(engine_start(&a, &srv, "room-1", "alice", NULL), 0);
    CHECK(wait_line(&a.rec, "room CONNECTED LOGINED 0", &at, TIMEOUT));
    CHECK_INT(engine_start(&b, &srv, "room-1", "bob", NULL), 0);
    CHECK(wait_line(&b.rec, "room CONNECTED LOGINED 0", &bt, TIMEOUT));
    CHECK(wait_line(&a.rec, "user ADD bob", &at, TIMEOUT));
    CHECK(wait_line(&b.rec, "user ADD alice", NULL, TIMEOUT));

    CHECK_INT(start_publishing(&a, "alice-cam"), 0);
    CHECK(wait_line(&a.rec, "publisher alice-cam PUBLISHING 0", &at, TIMEOUT));
    CHECK(wait_line(&b.rec, "stream ADD alice-cam alice", &bt, TIMEOUT));
    CHECK_INT(zego_engine_start_playing(b.engine, "alice-cam", player_callbacks(&b), NULL), 0);
    CHECK(wait_line(&b.rec, "player alice-cam PLAYING 0", &bt, TIMEOUT));
    CHECK(wait_line(&b.rec, "media-info alice-cam gen=", &bt, TIMEOUT));

    send_frames(&a, "alice-cam", 0, 299, 2000);
    CHECK(wait_frames(&b.rec, 300, TIMEOUT));
    CHECK_INT(b.rec.frames, 300);
    CHECK_INT(b.rec.bad_frames, 0);
    CHECK_INT(b.rec.discont, 0);
    CHECK(wait_line(&b.rec, "play-quality alice-cam", NULL, TIMEOUT));

    /* Stopping and logging out at once still reads as an unpublish. */
    CHECK_INT(zego_engine_stop_publishing(a.engine, "alice-cam", NULL), 0);
    CHECK_INT(zego_engine_logout_room(a.engine, NULL), 0);
    CHECK(wait_line(&b.rec, "stream DELETE alice-cam alice unpublish", &bt, TIMEOUT));
    CHECK(wait_line(&a.rec, "room DISCONNECTED LOGOUT", &at, TIMEOUT));
    CHECK(wait_line(&b.rec, "user DELETE alice", &bt, TIMEOUT));
    engine_stop(&a);
    engine_stop(&b);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

static void a_late_player_starts_at_the_last_keyframe(void)
{
    START_SERVER(srv, NULL);
    test_engine a, b;
    CHECK_INT(engine_start(&a, &srv, "r", "alice", NULL), 0);
    CHECK(wait_line(&a.rec, "room CONNECTED", NULL, TIMEOUT));
    CHECK_INT(start_publishing(&a, "cam"), 0);
    CHECK(wait_line(&a.rec, "publisher cam PUBLISHING", NULL, TIMEOUT));
    send_frames(&a, "cam", 0, 44, 1000); /* keyframes at 0 and 30 */
    /* Wait until the server has them all. */
    for (int i = 0; i < 200 && zt_metric(srv.port, "zego_frames_in_total") < 45; i++)
        usleep(10000);
    CHECK_INT(engine_start(&b, &srv, "r", "late", NULL), 0);
    CHECK(wait_line(&b.rec, "room CONNECTED LOGINED 0 streams=1", NULL, TIMEOUT));
    zego_stream listed[4];
    CHECK_INT(zego_engine_get_streams(b.engine, listed, 4), 1);
    CHECK_STR(listed[0].stream_id, "cam");
    CHECK_INT(zego_engine_get_streams(a.engine, NULL, 0), 1); /* its own too */
    CHECK_INT(zego_engine_start_playing(b.engine, "cam", player_callbacks(&b), NULL), 0);
    CHECK(wait_frames(&b.rec, 15, TIMEOUT));
    /* stream info first, then frames 30..44 and nothing older. */
    CHECK_INT(b.rec.media_infos, 1);
    CHECK_INT(b.rec.frames, 15);
    CHECK_INT(b.rec.bad_frames, 0);
    CHECK_INT(b.rec.last_pts, 44 * 33333);
    engine_stop(&a);
    engine_stop(&b);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

/* Frames given before the publish socket is up are kept from the newest
 * keyframe on and sent first: an encoder that ignores keyframe requests (or a
 * file) still starts the stream at once. */
static void frames_before_publishing_are_held_from_the_last_keyframe(void)
{
    START_SERVER(srv, NULL);
    test_engine a, b;
    size_t at = 0;
    CHECK_INT(engine_start(&b, &srv, "r", "bob", NULL), 0);
    CHECK(wait_line(&b.rec, "room CONNECTED", NULL, TIMEOUT));
    CHECK_INT(engine_start(&a, &srv, "r", "alice", NULL), 0);
    /* Not even logged in: frames 0..40 are given at once, keyframes at 0
     * and 30, so 30..40 are to be held. */
    CHECK_INT(start_publishing(&a, "cam"), 0);
    send_frames(&a, "cam", 0, 40, 0);
    CHECK(wait_line(&b.rec, "stream ADD cam", NULL, TIMEOUT));
    CHECK_INT(zego_engine_start_playing(b.engine, "cam", player_callbacks(&b), NULL), 0);
    CHECK(wait_line(&a.rec, "publisher cam PUBLISHING", &at, TIMEOUT));
    CHECK(wait_frames(&b.rec, 11, TIMEOUT));
    usleep(200000);
    CHECK_INT(b.rec.frames, 11);
    CHECK_INT(b.rec.bad_frames, 0);
    CHECK_INT(b.rec.last_pts, 40 * 33333);
    /* It started at a keyframe: no request was needed. */
    CHECK_INT(count_lines(&a.rec, "keyframe cam"), 0);
    /* And the next frames follow. */
    send_frames(&a, "cam", 41, 50, 1000);
    CHECK(wait_frames(&b.rec, 21, TIMEOUT));
    CHECK_INT(b.rec.bad_frames, 0);
    CHECK_INT(b.rec.discont, 0);
    engine_stop(&a);
    engine_stop(&b);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

/* finish_publishing sends everything given, the frames held before the socket
 * was up and a queue of large frames, before the stream goes. */
static void finishing_sends_every_frame_given_then_unpublishes(void)
{
    START_SERVER(srv, NULL);
    test_engine a, b;
    CHECK_INT(engine_start(&b, &srv, "r", "bob", NULL), 0);
    CHECK(wait_line(&b.rec, "room CONNECTED", NULL, TIMEOUT));
    CHECK_INT(zego_engine_start_playing(b.engine, "cam", player_callbacks(&b), NULL), 0);
    CHECK_INT(engine_start(&a, &srv, "r", "alice", NULL), 0);
    CHECK_INT(start_publishing(&a, "cam"), 0);
    /* Held (not logged in yet), then finished at once. */
    send_frames(&a, "cam", 0, 20, 0);
    CHECK_INT(zego_engine_finish_publishing(a.engine, "cam", 5000, NULL), 0);
    /* Finishing takes no more frames. */
    zego_error err;
    uint8_t byte = 0;
    zego_media_frame f = {.track = 0, .data = &byte, .size = 1};
    CHECK_INT(zego_engine_send_frame(a.engine, "cam", &f, &err), ZEGO_ERR_STREAM_NOT_FOUND);
    CHECK(wait_line(&a.rec, "publisher cam NO_PUBLISH", NULL, TIMEOUT));
    CHECK(wait_line(&b.rec, "stream DELETE cam alice unpublish", NULL, TIMEOUT));
    CHECK_INT(zt_metric(srv.port, "zego_frames_in_total"), 21);
    /* ... and a player waiting for the stream got them all, then the end. */
    CHECK(wait_line(&b.rec, "play-end cam after 21 frames", NULL, TIMEOUT));
    CHECK_INT(b.rec.frames, 21);
    CHECK_INT(b.rec.last_pts, 20 * 33333);

    /* Live, with a queue: 300 frames given in one go, then finished. */
    CHECK_INT(start_publishing(&a, "cam2"), 0);
    CHECK(wait_line(&a.rec, "publisher cam2 PUBLISHING", NULL, TIMEOUT));
    send_frames(&a, "cam2", 0, 299, 0);
    CHECK_INT(zego_engine_finish_publishing(a.engine, "cam2", 5000, NULL), 0);
    CHECK(wait_line(&a.rec, "publisher cam2 NO_PUBLISH", NULL, TIMEOUT));
    CHECK(wait_line(&b.rec, "stream DELETE cam2 alice unpublish", NULL, TIMEOUT));
    CHECK_INT(zt_metric(srv.port, "zego_frames_in_total"), 21 + 300);
    engine_stop(&a);
    engine_stop(&b);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

static void refusals_arrive_with_their_codes_and_others_carry_on(void)
{
    static const char *const args[] = {"--app", "1234567:" SECRET, NULL};
    START_SERVER(srv, args);
    zego_token04_params p = {.app_id = APP, .secret = SECRET, .user_id = "alice", .ttl = 3600};
    char *alice_token = NULL, *bob_token = NULL, *expired = NULL;
    zego_token04_create(&p, &alice_token, NULL);
    p.user_id = "bob";
    zego_token04_create(&p, &bob_token, NULL);
    p.ctime = time(NULL) - 7200;
    p.user_id = "carol";
    zego_token04_create(&p, &expired, NULL);

    test_engine a, b, c, d;
    size_t at = 0, bt = 0;
    CHECK_INT(engine_start(&a, &srv, "r", "alice", alice_token), 0);
    CHECK(wait_line(&a.rec, "room CONNECTED", &at, TIMEOUT));
    CHECK_INT(engine_start(&b, &srv, "r", "bob", bob_token), 0);
    CHECK(wait_line(&b.rec, "room CONNECTED", &bt, TIMEOUT));

    /* An expired token. */
    CHECK_INT(engine_start(&c, &srv, "r", "carol", expired), 0);
    CHECK(wait_line(&c.rec, "room DISCONNECTED LOGIN_FAILED 1002078", NULL, TIMEOUT));
    /* Another user's token. */
    CHECK_INT(engine_start(&d, &srv, "r", "dave", alice_token), 0);
    CHECK(wait_line(&d.rec, "room DISCONNECTED LOGIN_FAILED 1002077", NULL, TIMEOUT));
    engine_stop(&c);
    engine_stop(&d);

    /* Bad IDs are refused at once, with ZEGO's codes. */
    zego_error err;
    zego_publish_config pc = {.stream_id = "bad id", .tracks = tracks, .n_tracks = 2};
    CHECK_INT(zego_engine_start_publishing(a.engine, &pc, &err),
              ZEGO_ERR_STREAM_ID_INVALID_CHARACTER);
    CHECK_CONTAINS(err.message, "at byte 3");

    /* A stream id someone else publishes. */
    CHECK_INT(start_publishing(&a, "cam"), 0);
    CHECK(wait_line(&a.rec, "publisher cam PUBLISHING", &at, TIMEOUT));
    CHECK_INT(start_publishing(&b, "cam"), 0);
    CHECK(wait_line(&b.rec, "publisher cam NO_PUBLISH 1003028", &bt, TIMEOUT));

    /* An oversized frame is refused by the engine before it goes out. */
    static uint8_t big[5 << 20];
    zego_media_frame f = {
        .track = 0, .flags = ZEGO_FRAME_FLAG_KEY, .data = big, .size = sizeof big};
    CHECK_INT(zego_engine_send_frame(a.engine, "cam", &f, &err), ZEGO_ERR_FRAME_TOO_LARGE);

    /* The same user id logging in again kicks the first. */
    test_engine a2;
    CHECK_INT(engine_start(&a2, &srv, "r", "alice", alice_token), 0);
    CHECK(wait_line(&a2.rec, "room CONNECTED", NULL, TIMEOUT));
    CHECK(wait_line(&a.rec, "room DISCONNECTED KICKOUT 1002050", &at, TIMEOUT));
    CHECK(wait_line(&a.rec, "kicked 1002050", NULL, TIMEOUT));

    /* Bob never noticed anything but the user coming and going. */
    CHECK_INT(zego_engine_get_room_state(b.engine), ZEGO_ROOM_STATE_CONNECTED);
    CHECK_INT(count_lines(&b.rec, "room DISCONNECTED"), 0);
    engine_stop(&a);
    engine_stop(&a2);
    engine_stop(&b);
    free(alice_token);
    free(bob_token);
    free(expired);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

static void engines_come_back_by_themselves_after_a_server_restart(void)
{
    START_SERVER(srv, NULL);
    int port = srv.port;
    test_engine a, b;
    size_t at = 0, bt = 0;
    CHECK_INT(engine_start(&a, &srv, "r", "alice", NULL), 0);
    CHECK_INT(engine_start(&b, &srv, "r", "bob", NULL), 0);
    CHECK(wait_line(&a.rec, "room CONNECTED", &at, TIMEOUT));
    CHECK(wait_line(&b.rec, "room CONNECTED", &bt, TIMEOUT));
    CHECK_INT(start_publishing(&a, "cam"), 0);
    CHECK(wait_line(&a.rec, "publisher cam PUBLISHING", &at, TIMEOUT));
    CHECK_INT(zego_engine_start_playing(b.engine, "cam", player_callbacks(&b), NULL), 0);
    CHECK(wait_line(&b.rec, "player cam PLAYING", &bt, TIMEOUT));
    send_frames(&a, "cam", 0, 59, 2000);
    CHECK(wait_frames(&b.rec, 60, TIMEOUT));

    /* Killed, not shut down: nobody is told. */
    CHECK_INT(zt_server_stop(&srv, SIGKILL), 128 + SIGKILL);
    CHECK(wait_line(&a.rec, "room CONNECTING RECONNECTING 1002051", &at, TIMEOUT));
    CHECK(wait_line(&b.rec, "room CONNECTING RECONNECTING 1002051", &bt, TIMEOUT));
    usleep(500000);
    CHECK_INT(zt_server_start(&srv, port, NULL), 0);
    CHECK(wait_line(&a.rec, "room CONNECTED RECONNECTED 0", &at, TIMEOUT));
    CHECK(wait_line(&b.rec, "room CONNECTED RECONNECTED 0", &bt, TIMEOUT));
    CHECK(wait_line(&a.rec, "publisher cam PUBLISHING", &at, TIMEOUT));
    CHECK(wait_line(&b.rec, "player cam PLAYING", &bt, TIMEOUT));

    /* Frames flow again, from a keyframe. */
    uint32_t before = frames_seen(&b.rec);
    send_frames(&a, "cam", 60, 149, 2000);
    CHECK(wait_frames(&b.rec, before + 60, TIMEOUT));
    CHECK_INT(b.rec.bad_frames, 0);
    engine_stop(&a);
    engine_stop(&b);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
}

/* alice reaches the server through a proxy that can cut her connections;
 * bob, connected directly, watches. */
typedef struct proxied_room {
    zt_server srv;
    zt_proxy *proxy;
    test_engine alice, bob;
    size_t at, bt;
} proxied_room;

static bool proxied_room_start(proxied_room *r)
{
    static const char *const args[] = {"--reconnect-window", "5000", NULL};
    memset(r, 0, sizeof *r);
    if (zt_server_start(&r->srv, 0, args))
        return false;
    int port;
    r->proxy = zt_proxy_start(r->srv.port, &port);
    zt_server via = r->srv;
    snprintf(via.url, sizeof via.url, "ws://127.0.0.1:%d/ws", port);
    bool ok =
        engine_start(&r->alice, &via, "r", "alice", NULL) == 0 &&
        engine_start(&r->bob, &r->srv, "r", "bob", NULL) == 0 &&
        wait_line(&r->alice.rec, "room CONNECTED", &r->at, TIMEOUT) &&
        wait_line(&r->bob.rec, "room CONNECTED", &r->bt, TIMEOUT) &&
        start_publishing(&r->alice, "cam") == 0 &&
        wait_line(&r->alice.rec, "publisher cam PUBLISHING", &r->at, TIMEOUT) &&
        zego_engine_start_playing(r->bob.engine, "cam", player_callbacks(&r->bob), NULL) == 0 &&
        wait_line(&r->bob.rec, "player cam PLAYING", &r->bt, TIMEOUT);
    if (ok) {
        send_frames(&r->alice, "cam", 0, 29, 2000);
        ok = wait_frames(&r->bob.rec, 30, TIMEOUT);
    }
    return ok;
}

static void proxied_room_stop(proxied_room *r)
{
    engine_stop(&r->alice);
    engine_stop(&r->bob);
    zt_proxy_stop(r->proxy);
    CHECK_INT(zt_server_stop(&r->srv, SIGTERM), 0);
}

static void a_dropped_connection_resumes_the_session_unseen_by_others(void)
{
    proxied_room r;
    CHECK(proxied_room_start(&r));
    size_t bob_events = r.bob.rec.n_lines;
    CHECK(zt_proxy_cut(r.proxy, NULL) >= 2); /* signaling and media */
    CHECK(wait_line(&r.alice.rec, "room CONNECTING RECONNECTING 1002051", &r.at, TIMEOUT));
    CHECK(wait_line(&r.alice.rec, "room CONNECTED RECONNECTED 0", &r.at, TIMEOUT));
    CHECK(wait_line(&r.alice.rec, "publisher cam PUBLISHING", &r.at, TIMEOUT));
    uint32_t before = frames_seen(&r.bob.rec);
    send_frames(&r.alice, "cam", 30, 89, 2000);
    CHECK(wait_frames(&r.bob.rec, before + 30, TIMEOUT));
    CHECK_INT(r.bob.rec.bad_frames, 0);
    /* Bob saw no user or stream come and go: the session and its stream id
     * lived on. */
    pthread_mutex_lock(&r.bob.rec.lock);
    for (size_t i = bob_events; i < r.bob.rec.n_lines; i++) {
        if (!strncmp(r.bob.rec.lines[i], "user ", 5) || !strncmp(r.bob.rec.lines[i], "stream ", 7))
            printf("#   bob saw: %s\n", r.bob.rec.lines[i]);
        CHECK(strncmp(r.bob.rec.lines[i], "user ", 5) != 0);
        CHECK(strncmp(r.bob.rec.lines[i], "stream ", 7) != 0);
    }
    pthread_mutex_unlock(&r.bob.rec.lock);
    proxied_room_stop(&r);
}

static void a_dropped_media_socket_is_repaired_without_room_events(void)
{
    proxied_room r;
    CHECK(proxied_room_start(&r));
    size_t alice_events = r.alice.rec.n_lines, bob_events = r.bob.rec.n_lines;
    CHECK_INT(zt_proxy_cut(r.proxy, "/media/"), 1);
    usleep(300000);
    uint32_t before = frames_seen(&r.bob.rec);
    send_frames(&r.alice, "cam", 30, 119, 2000);
    CHECK(wait_frames(&r.bob.rec, before + 30, TIMEOUT));
    CHECK_INT(r.bob.rec.bad_frames, 0);
    pthread_mutex_lock(&r.alice.rec.lock);
    for (size_t i = alice_events; i < r.alice.rec.n_lines; i++)
        CHECK(strncmp(r.alice.rec.lines[i], "room ", 5) != 0);
    pthread_mutex_unlock(&r.alice.rec.lock);
    pthread_mutex_lock(&r.bob.rec.lock);
    for (size_t i = bob_events; i < r.bob.rec.n_lines; i++)
        CHECK(strncmp(r.bob.rec.lines[i], "stream ", 7) != 0);
    pthread_mutex_unlock(&r.bob.rec.lock);
    proxied_room_stop(&r);
}

static void wss_is_served_and_certificates_are_checked(void)
{
    char dir[] = "/tmp/zego-test-tls-XXXXXX", cmd[1024], cert[256], key[256];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey rsa:2048 -nodes -keyout %s -out %s -days 1 "
             "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1",
             key, cert);
    if (system(cmd) != 0) {
        CHECK(!"openssl made a test certificate");
        return;
    }
    const char *args[] = {"--tls-cert", cert, "--tls-key", key, NULL};
    zt_server srv;
    CHECK_INT(zt_server_start(&srv, 0, args), 0);
    CHECK(strncmp(srv.url, "wss://", 6) == 0);

    test_engine a, b, c;
    tls_verify = false;
    CHECK_INT(engine_start(&a, &srv, "r", "insecure", NULL), 0);
    CHECK(wait_line(&a.rec, "room CONNECTED", NULL, TIMEOUT));
    tls_verify = true;
    tls_ca_file = cert;
    CHECK_INT(engine_start(&b, &srv, "r", "trusting", NULL), 0);
    CHECK(wait_line(&b.rec, "room CONNECTED", NULL, TIMEOUT));
    /* Media sockets are wss too: a stream goes through. */
    CHECK_INT(start_publishing(&a, "cam"), 0);
    CHECK(wait_line(&a.rec, "publisher cam PUBLISHING", NULL, TIMEOUT));
    CHECK_INT(zego_engine_start_playing(b.engine, "cam", player_callbacks(&b), NULL), 0);
    CHECK(wait_line(&b.rec, "player cam PLAYING", NULL, TIMEOUT));
    send_frames(&a, "cam", 0, 29, 2000);
    CHECK(wait_frames(&b.rec, 30, TIMEOUT));
    tls_ca_file = NULL;
    CHECK_INT(engine_start(&c, &srv, "r", "suspicious", NULL), 0);
    CHECK(wait_line(&c.rec, "room DISCONNECTED LOGIN_FAILED", NULL, TIMEOUT));
    engine_stop(&a);
    engine_stop(&b);
    engine_stop(&c);
    CHECK_INT(zt_server_stop(&srv, SIGTERM), 0);
    unlink(cert);
    unlink(key);
    rmdir(dir);
}

static void an_unreachable_server_fails_the_login_with_a_code(void)
{
    zt_server none = {.port = 1};
    snprintf(none.url, sizeof none.url, "ws://127.0.0.1:1/ws");
    test_engine a;
    CHECK_INT(engine_start(&a, &none, "r", "alice", NULL), 0);
    CHECK(wait_line(&a.rec, "room DISCONNECTED LOGIN_FAILED 10020", NULL, TIMEOUT));
    engine_stop(&a);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    RUN(two_engines_meet_publish_play_and_part);
    RUN(a_late_player_starts_at_the_last_keyframe);
    RUN(frames_before_publishing_are_held_from_the_last_keyframe);
    RUN(finishing_sends_every_frame_given_then_unpublishes);
    RUN(refusals_arrive_with_their_codes_and_others_carry_on);
    RUN(engines_come_back_by_themselves_after_a_server_restart);
    RUN(a_dropped_connection_resumes_the_session_unseen_by_others);
    RUN(a_dropped_media_socket_is_repaired_without_room_events);
    RUN(wss_is_served_and_certificates_are_checked);
    RUN(an_unreachable_server_fails_the_login_with_a_code);
    return harness_finish();
}
