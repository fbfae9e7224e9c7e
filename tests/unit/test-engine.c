/* The client engine's pure logic (engine-internal.h): backoff with jitter and
 * cap, the clock offset estimate, the send queue's drop-until-keyframe
 * policy, sequence gaps, URLs, quality levels, the session registry; and the
 * public calls that must answer at once without a server (argument checks,
 * defaults, the process user id, an engine that cannot reach anything). */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "engine-internal.h"
#include "harness.h"

/* ---- Backoff ---- */

static void backoff_grows_exponentially_within_its_jitter_band(void)
{
    for (uint32_t attempt = 0; attempt < 5; attempt++) {
        uint32_t d = 100u << attempt;
        CHECK_INT(zego_backoff_delay_ms(attempt, 100, 100000, 0), d - d / 2);
        CHECK_INT(zego_backoff_delay_ms(attempt, 100, 100000, d / 2), d);
    }
}

static void backoff_is_capped(void)
{
    CHECK_INT(zego_backoff_delay_ms(10, 100, 800, 400), 800);
    CHECK_INT(zego_backoff_delay_ms(10, 100, 800, 0), 400);
    /* Huge attempt numbers neither overflow nor pass the cap. */
    CHECK_INT(zego_backoff_delay_ms(4000000000u, 500, 10000, 5000), 10000);
    CHECK(zego_backoff_delay_ms(4000000000u, 500, 10000, 123) >= 5000);
}

static void backoff_jitter_spreads_over_the_upper_half(void)
{
    uint32_t lo = UINT32_MAX, hi = 0;
    srand(7);
    for (int i = 0; i < 2000; i++) {
        uint32_t d = zego_backoff_delay_ms(3, 100, 10000, (uint32_t)rand());
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }
    CHECK(lo >= 400);
    CHECK(hi <= 800);
    CHECK(hi - lo > 300); /* actually spread, not constant */
}

static void backoff_handles_degenerate_settings(void)
{
    CHECK_INT(zego_backoff_delay_ms(0, 0, 0, 0), 1);          /* never a busy loop */
    CHECK_INT(zego_backoff_delay_ms(3, 1000, 10, 500), 1000); /* cap below initial */
}

/* ---- Clock ---- */

static void clock_offset_is_the_midpoint_estimate(void)
{
    zego_clock c;
    zego_clock_init(&c);
    int64_t off = 0, rtt = 0;
    CHECK(!zego_clock_offset(&c, &off, &rtt));
    /* Server 5000 ms ahead; 100 ms round trip, read half way. */
    CHECK(zego_clock_add_sample(&c, 1000, 6050, 1100));
    CHECK(zego_clock_offset(&c, &off, &rtt));
    CHECK_INT(off, 5000);
    CHECK_INT(rtt, 100);
}

static void clock_prefers_the_sample_with_the_smallest_round_trip(void)
{
    zego_clock c;
    zego_clock_init(&c);
    int64_t off, rtt;
    zego_clock_add_sample(&c, 0, 5400, 800);     /* rtt 800, queued: offset 5000 +/- */
    zego_clock_add_sample(&c, 1000, 6020, 1040); /* rtt 40: offset 5000 */
    zego_clock_add_sample(&c, 2000, 7900, 3000); /* rtt 1000, skewed: offset 5400 */
    CHECK(zego_clock_offset(&c, &off, &rtt));
    CHECK_INT(rtt, 40);
    CHECK_INT(off, 5000);
    CHECK_INT(c.last_rtt_ms, 1000);
}

static void clock_forgets_samples_older_than_its_window(void)
{
    zego_clock c;
    zego_clock_init(&c);
    int64_t off, rtt;
    zego_clock_add_sample(&c, 0, 100, 2); /* rtt 2, offset 99 */
    for (int i = 1; i <= ZEGO_CLOCK_SAMPLES; i++)
        zego_clock_add_sample(&c, i * 1000, i * 1000 + 300 + 10, i * 1000 + 20); /* rtt 20 */
    CHECK(zego_clock_offset(&c, &off, &rtt));
    CHECK_INT(rtt, 20);
    CHECK_INT(off, 300);
}

static void clock_ignores_a_reply_from_before_its_request(void)
{
    zego_clock c;
    zego_clock_init(&c);
    CHECK(!zego_clock_add_sample(&c, 2000, 0, 1000));
    CHECK(!zego_clock_offset(&c, NULL, NULL));
}

/* ---- Send queue ---- */

static void push_frame(zego_sendq *q, size_t len)
{
    zego_sendq_item *it = zego_sendq_item_new(16, len);
    zego_sendq_push(q, it);
}

static void sendq_queues_what_fits_and_counts_bytes(void)
{
    zego_sendq q;
    zego_sendq_init(&q, 1000);
    CHECK_INT(q.hard_max, 1250);
    CHECK_INT(zego_sendq_admit(&q, 0, true, true, 600), ZEGO_SENDQ_QUEUE);
    push_frame(&q, 600);
    CHECK_INT(zego_sendq_admit(&q, 0, true, false, 400), ZEGO_SENDQ_QUEUE);
    push_frame(&q, 400);
    CHECK_INT(q.bytes, 1000);
    CHECK_INT(q.count, 2);
    zego_sendq_item *it = zego_sendq_pop(&q);
    CHECK_INT(it->len, 600);
    CHECK(it->data == it->storage + 16);
    free(it);
    CHECK_INT(q.bytes, 400);
    zego_sendq_clear(&q);
    CHECK_INT(q.bytes, 0);
    CHECK(q.head == NULL && q.tail == NULL);
    CHECK(zego_sendq_pop(&q) == NULL);
}

static void sendq_drops_video_until_the_next_keyframe_and_asks_once(void)
{
    zego_sendq q;
    zego_sendq_init(&q, 1000);
    push_frame(&q, 900);
    q.bytes = 900;
    /* Overflow: dropped, and the encoder is asked for a keyframe. */
    CHECK_INT(zego_sendq_admit(&q, 0, true, false, 200), ZEGO_SENDQ_DROP_WANT_KEY);
    /* The queue drains, but delta frames still cannot be decoded. */
    free(zego_sendq_pop(&q));
    CHECK_INT(zego_sendq_admit(&q, 0, true, false, 10), ZEGO_SENDQ_DROP);
    CHECK_INT(zego_sendq_admit(&q, 0, true, false, 10), ZEGO_SENDQ_DROP);
    /* The keyframe gets through, marked as a discontinuity. */
    CHECK_INT(zego_sendq_admit(&q, 0, true, true, 10), ZEGO_SENDQ_QUEUE);
    CHECK(zego_sendq_take_discont(&q, 0));
    CHECK(!zego_sendq_take_discont(&q, 0));
    CHECK_INT(zego_sendq_admit(&q, 0, true, false, 10), ZEGO_SENDQ_QUEUE);
    CHECK_INT(q.dropped, 3);
    zego_sendq_clear(&q);
}

static void sendq_asks_again_when_the_keyframe_does_not_fit_either(void)
{
    zego_sendq q;
    zego_sendq_init(&q, 1000);
    CHECK_INT(zego_sendq_admit(&q, 1, true, false, 2000), ZEGO_SENDQ_DROP_WANT_KEY);
    CHECK_INT(zego_sendq_admit(&q, 1, true, true, 2000), ZEGO_SENDQ_DROP_WANT_KEY);
    CHECK_INT(zego_sendq_admit(&q, 1, true, true, 500), ZEGO_SENDQ_QUEUE);
}

static void sendq_keeps_audio_until_the_hard_bound(void)
{
    zego_sendq q;
    zego_sendq_init(&q, 1000);
    q.bytes = 1100; /* past the video bound */
    CHECK_INT(zego_sendq_admit(&q, 0, true, true, 10), ZEGO_SENDQ_DROP_WANT_KEY);
    CHECK_INT(zego_sendq_admit(&q, 1, false, false, 100), ZEGO_SENDQ_QUEUE);
    q.bytes = 1200;
    CHECK_INT(zego_sendq_admit(&q, 1, false, false, 100), ZEGO_SENDQ_DROP);
    /* Audio never waits for a keyframe. */
    q.bytes = 0;
    CHECK_INT(zego_sendq_admit(&q, 1, false, false, 100), ZEGO_SENDQ_QUEUE);
    CHECK(zego_sendq_take_discont(&q, 1));
}

static void sendq_tracks_are_independent(void)
{
    zego_sendq q;
    zego_sendq_init(&q, 1000);
    q.bytes = 990;
    CHECK_INT(zego_sendq_admit(&q, 0, true, false, 100), ZEGO_SENDQ_DROP_WANT_KEY);
    q.bytes = 0;
    CHECK_INT(zego_sendq_admit(&q, 2, true, false, 100), ZEGO_SENDQ_QUEUE);
    CHECK_INT(zego_sendq_admit(&q, 0, true, false, 100), ZEGO_SENDQ_DROP);
    CHECK(!zego_sendq_take_discont(&q, 2));
    CHECK(zego_sendq_take_discont(&q, 0));
}

static void sendq_a_new_socket_waits_for_keyframes_on_every_track(void)
{
    zego_sendq q;
    zego_sendq_init(&q, 1000);
    zego_sendq_wait_key_all(&q);
    CHECK_INT(zego_sendq_admit(&q, 255, true, false, 1), ZEGO_SENDQ_DROP);
    CHECK_INT(zego_sendq_admit(&q, 255, true, true, 1), ZEGO_SENDQ_QUEUE);
    CHECK_INT(zego_sendq_admit(&q, 7, false, false, 1), ZEGO_SENDQ_QUEUE);
}

/* ---- Sequence numbers ---- */

static void sequence_gaps_count_lost_frames_across_the_wrap(void)
{
    CHECK_INT(zego_seq_lost(1, 2), 0);
    CHECK_INT(zego_seq_lost(1, 5), 3);
    CHECK_INT(zego_seq_lost(0xffffffffu, 0), 0);
    CHECK_INT(zego_seq_lost(0xfffffffeu, 2), 3);
    /* Backwards or a repeat: a restart, one discontinuity. */
    CHECK_INT(zego_seq_lost(100, 50), 1);
    CHECK_INT(zego_seq_lost(100, 100), 1);
}

/* ---- URLs ---- */

static void urls_parse_scheme_host_port_and_path(void)
{
    zego_url u;
    zego_error err;
    CHECK_INT(zego_url_parse("ws://127.0.0.1:7600/ws", &u, &err), ZEGO_ERR_OK);
    CHECK(!u.tls);
    CHECK_STR(u.host, "127.0.0.1");
    CHECK_INT(u.port, 7600);
    CHECK_STR(u.path, "/ws");

    CHECK_INT(zego_url_parse("wss://rooms.example.com/media/play?ticket=v1.a-b_c", &u, &err),
              ZEGO_ERR_OK);
    CHECK(u.tls);
    CHECK_INT(u.port, 443);
    CHECK_STR(u.host, "rooms.example.com");
    CHECK_STR(u.path, "/media/play?ticket=v1.a-b_c");

    CHECK_INT(zego_url_parse("ws://h", &u, &err), ZEGO_ERR_OK);
    CHECK_INT(u.port, 80);
    CHECK_STR(u.path, "/");

    CHECK_INT(zego_url_parse("ws://[::1]:9000/ws#frag", &u, &err), ZEGO_ERR_OK);
    CHECK_STR(u.host, "::1");
    CHECK_INT(u.port, 9000);
    CHECK_STR(u.path, "/ws");

    CHECK_INT(zego_url_parse("ws://h?x=1", &u, &err), ZEGO_ERR_OK);
    CHECK_STR(u.path, "/?x=1");
}

static void bad_urls_are_refused_with_a_reason(void)
{
    zego_url u;
    zego_error err;
    const char *bad[] = {
        "http://h/ws",  "ws://",           "ws://:80/ws",   "ws://h:/ws",
        "ws://h:0/ws",  "ws://h:65536/ws", "ws://h:12a/ws", "ws://user@h/ws",
        "ws://[::1/ws", "ws://[::1]x/ws",  "WS//h",         "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = zego_url_parse(bad[i], &u, &err);
        if (rc != ZEGO_ERR_INVALID_ARGUMENT)
            printf("#   accepted \"%s\"\n", bad[i]);
        CHECK_INT(rc, ZEGO_ERR_INVALID_ARGUMENT);
    }
    CHECK_INT(zego_url_parse(NULL, &u, &err), ZEGO_ERR_INVALID_ARGUMENT);
    zego_url_parse("ftp://h", &u, &err);
    CHECK_CONTAINS(err.message, "ws:// or wss://");
}

static void tickets_are_appended_as_a_query_parameter(void)
{
    char out[128];
    zego_error err;
    CHECK_INT(zego_url_with_ticket("ws://h/media/play", "v1.abc", out, sizeof out, &err),
              ZEGO_ERR_OK);
    CHECK_STR(out, "ws://h/media/play?ticket=v1.abc");
    CHECK_INT(zego_url_with_ticket("ws://h/m?node=2", "T", out, sizeof out, &err), ZEGO_ERR_OK);
    CHECK_STR(out, "ws://h/m?node=2&ticket=T");
    CHECK_INT(zego_url_with_ticket("ws://h/m", "TTTTTTTTTT", out, 16, &err),
              ZEGO_ERR_PROTOCOL_OUT_OF_RANGE);
}

/* ---- Quality ---- */

static void quality_is_the_worst_of_rtt_loss_and_delay(void)
{
    CHECK_INT(zego_quality_level_compute(true, 20, 0, 50), ZEGO_QUALITY_EXCELLENT);
    CHECK_INT(zego_quality_level_compute(true, 150, 0, 50), ZEGO_QUALITY_GOOD);
    CHECK_INT(zego_quality_level_compute(true, 20, 0.05, 50), ZEGO_QUALITY_MEDIUM);
    CHECK_INT(zego_quality_level_compute(true, 20, 0, 1000), ZEGO_QUALITY_BAD);
    CHECK_INT(zego_quality_level_compute(true, 20, 0.5, 50), ZEGO_QUALITY_DIE);
    CHECK_INT(zego_quality_level_compute(true, 5000, 0, -1), ZEGO_QUALITY_DIE);
    /* Unknown delay does not count. */
    CHECK_INT(zego_quality_level_compute(true, 20, 0, -1), ZEGO_QUALITY_EXCELLENT);
    CHECK_INT(zego_quality_level_compute(false, 1, 0, 1), ZEGO_QUALITY_DIE);
    CHECK_STR(zego_quality_level_name(ZEGO_QUALITY_MEDIUM), "MEDIUM");
}

/* ---- Registry ---- */

static int created_count;

static void *make_object(void *arg)
{
    created_count++;
    return arg;
}

static void *make_nothing(void *arg)
{
    (void)arg;
    return NULL;
}

static void session_keys_use_all_four_values(void)
{
    char *a = zego_session_key("ws://h/ws", 1, "r", "u");
    char *b = zego_session_key("ws://h/ws", 2, "r", "u");
    char *c = zego_session_key("ws://h/ws", 1, "r2", "u");
    char *d = zego_session_key("ws://h/ws", 1, "r", "u2");
    char *e = zego_session_key("ws://h2/ws", 1, "r", "u");
    char *a2 = zego_session_key("ws://h/ws", 1, "r", "u");
    CHECK_STR(a, a2);
    CHECK(strcmp(a, b) && strcmp(a, c) && strcmp(a, d) && strcmp(a, e));
    /* The separator keeps "r"+"x\nu" and "r\nx"+"u" apart: IDs have no '\n'. */
    CHECK_STR(a, "ws://h/ws\n1\nr\nu");
    free(a), free(b), free(c), free(d), free(e), free(a2);
}

static void registry_shares_one_object_per_key_and_counts_references(void)
{
    zego_registry r = ZEGO_REGISTRY_INIT;
    int x, y;
    bool created;
    created_count = 0;
    CHECK(zego_registry_acquire(&r, "k1", make_object, &x, &created) == &x);
    CHECK(created);
    CHECK(zego_registry_acquire(&r, "k1", make_object, &y, &created) == &x);
    CHECK(!created);
    CHECK(zego_registry_acquire(&r, "k2", make_object, &y, &created) == &y);
    CHECK_INT(created_count, 2);
    CHECK_INT(zego_registry_refs(&r, &x), 2);
    CHECK(!zego_registry_release(&r, &x));
    CHECK_INT(zego_registry_refs(&r, &x), 1);
    CHECK(zego_registry_release(&r, &x)); /* the last one: caller destroys */
    CHECK_INT(zego_registry_refs(&r, &x), 0);
    CHECK(!zego_registry_release(&r, &x)); /* unknown now */
    /* A released key makes a new object. */
    CHECK(zego_registry_acquire(&r, "k1", make_object, &y, &created) == &y);
    CHECK(created);
    /* y is registered under both keys here: each entry goes with its last reference. */
    CHECK(zego_registry_release(&r, &y));
    CHECK(zego_registry_release(&r, &y));
    CHECK(r.head == NULL);
}

static void registry_passes_on_a_failed_creation(void)
{
    zego_registry r = ZEGO_REGISTRY_INIT;
    bool created = true;
    CHECK(zego_registry_acquire(&r, "k", make_nothing, NULL, &created) == NULL);
    CHECK(!created);
    CHECK(r.head == NULL);
}

/* ---- Public calls that need no server ---- */

static void config_defaults_are_zego_like(void)
{
    zego_engine_config c;
    memset(&c, 0x5a, sizeof c);
    zego_engine_config_init(&c);
    CHECK(c.server_url == NULL);
    CHECK(c.tls_verify);
    CHECK_INT(c.reconnect_backoff_max_ms, 10000);
    CHECK_INT(c.reconnect_give_up_ms, 20 * 60 * 1000);
    CHECK_INT(c.quality_interval_ms, 3000);
    CHECK(c.login_timeout_ms > 0);
    CHECK(c.send_queue_max_bytes >= c.max_frame_bytes);
    CHECK_INT(c.max_frame_bytes, 4 * 1024 * 1024);
}

static void process_user_id_is_stable_and_valid(void)
{
    const char *a = zego_process_user_id();
    const char *b = zego_process_user_id();
    CHECK(a == b);
    CHECK_INT(strlen(a), 19);
    CHECK(strncmp(a, "zr-", 3) == 0);
    zego_error err;
    CHECK_INT(zego_validate_user_id(a, &err), ZEGO_ERR_OK);
}

static void engine_creation_refuses_bad_urls(void)
{
    zego_engine_config c;
    zego_engine_config_init(&c);
    zego_error err;
    c.server_url = "http://127.0.0.1/ws";
    CHECK(zego_engine_create(&c, &err) == NULL);
    CHECK_INT(err.code, ZEGO_ERR_INVALID_ARGUMENT);
    c.server_url = NULL;
    CHECK(zego_engine_create(&c, &err) == NULL);
    CHECK(zego_engine_create(NULL, &err) == NULL);
}

struct recorder {
    pthread_mutex_t lock;
    int states;
    zego_room_state last_state;
    zego_room_state_reason last_reason;
    int32_t last_code;
};

static void record_state(zego_engine *e, const char *room_id, zego_room_state state,
                         zego_room_state_reason reason, int32_t code, const char *message,
                         void *user_data)
{
    (void)e, (void)room_id, (void)message;
    struct recorder *r = user_data;
    pthread_mutex_lock(&r->lock);
    r->states++;
    r->last_state = state;
    r->last_reason = reason;
    r->last_code = code;
    pthread_mutex_unlock(&r->lock);
}

static zego_engine *unreachable_engine(uint32_t login_timeout_ms)
{
    zego_engine_config c;
    zego_engine_config_init(&c);
    /* Port 1 on loopback: refused at once, nothing listens there. */
    c.server_url = "ws://127.0.0.1:1/ws";
    c.reconnect_backoff_initial_ms = 20;
    c.reconnect_backoff_max_ms = 100;
    c.login_timeout_ms = login_timeout_ms;
    zego_error err;
    zego_engine *e = zego_engine_create(&c, &err);
    if (!e)
        printf("#   create: %s\n", err.message);
    return e;
}

static void api_calls_check_their_arguments_at_once(void)
{
    zego_engine *e = unreachable_engine(5000);
    CHECK(e != NULL);
    if (!e)
        return;
    zego_error err;
    zego_room_config room = {.room_id = "room 1", .user_id = "alice"};
    CHECK_INT(zego_engine_login_room(e, &room, &err), ZEGO_ERR_ROOM_ID_INVALID_CHARACTER);
    room.room_id = "r";
    room.user_id = "";
    CHECK_INT(zego_engine_login_room(e, &room, &err), ZEGO_ERR_USER_ID_NULL);
    room.user_id = "alice";
    room.user_name = "\xff";
    CHECK_INT(zego_engine_login_room(e, &room, &err), ZEGO_ERR_USER_NAME_INVALID);

    zego_track t = {.id = 0, .kind = ZEGO_TRACK_VIDEO, .codec = ZEGO_CODEC_H264};
    strcpy(t.codec_string, "avc1");
    zego_publish_config pc = {.stream_id = "cam", .tracks = &t, .n_tracks = 1};
    CHECK_INT(zego_engine_start_publishing(e, &pc, &err), ZEGO_ERR_STREAM_INFO_INVALID);
    pc.n_tracks = 0;
    CHECK_INT(zego_engine_start_publishing(e, &pc, &err), ZEGO_ERR_PROTOCOL_OUT_OF_RANGE);
    strcpy(t.codec_string, "avc1.42E01E");
    pc.n_tracks = 1;
    pc.stream_id = "cam 1";
    CHECK_INT(zego_engine_start_publishing(e, &pc, &err), ZEGO_ERR_STREAM_ID_INVALID_CHARACTER);
    pc.stream_id = "cam";
    CHECK_INT(zego_engine_start_publishing(e, &pc, &err), ZEGO_ERR_OK);
    CHECK_INT(zego_engine_start_publishing(e, &pc, &err), ZEGO_ERR_PROTOCOL_BAD_STATE);

    uint8_t byte = 1;
    zego_media_frame f = {.track = 0, .flags = ZEGO_FRAME_FLAG_KEY, .data = &byte, .size = 1};
    CHECK_INT(zego_engine_send_frame(e, "cam", &f, &err), ZEGO_ERR_OK); /* not live: dropped */
    CHECK_INT(zego_engine_send_frame(e, "mic", &f, &err), ZEGO_ERR_STREAM_NOT_FOUND);
    f.track = 3;
    CHECK_INT(zego_engine_send_frame(e, "cam", &f, &err), ZEGO_ERR_FRAME_UNKNOWN_TRACK);
    f.track = 0;
    f.size = 0;
    CHECK_INT(zego_engine_send_frame(e, "cam", &f, &err), ZEGO_ERR_FRAME_MALFORMED);
    f.size = 5u * 1024 * 1024;
    CHECK_INT(zego_engine_send_frame(e, "cam", &f, &err), ZEGO_ERR_FRAME_TOO_LARGE);

    zego_publish_stats ps;
    CHECK_INT(zego_engine_get_publish_stats(e, "cam", &ps, &err), ZEGO_ERR_OK);
    CHECK_INT(zego_engine_get_publish_stats(e, "nope", &ps, &err), ZEGO_ERR_STREAM_NOT_FOUND);
    CHECK_INT(zego_engine_stop_publishing(e, "cam", &err), ZEGO_ERR_OK);
    CHECK_INT(zego_engine_stop_publishing(e, "cam", &err), ZEGO_ERR_OK);

    zego_player_callbacks pcb = {0};
    CHECK_INT(zego_engine_start_playing(e, "a b", &pcb, &err),
              ZEGO_ERR_STREAM_ID_INVALID_CHARACTER);
    CHECK_INT(zego_engine_start_playing(e, "bob-cam", &pcb, &err), ZEGO_ERR_OK);
    CHECK_INT(zego_engine_start_playing(e, "bob-cam", &pcb, &err), ZEGO_ERR_PROTOCOL_BAD_STATE);
    CHECK_INT(zego_engine_stop_playing(e, "bob-cam", &err), ZEGO_ERR_OK);

    CHECK_INT(zego_engine_send_broadcast_message(e, "", NULL, &err), ZEGO_ERR_TEXT_EMPTY);
    CHECK_INT(zego_engine_send_broadcast_message(e, "hi", NULL, &err), ZEGO_ERR_NOT_LOGGED_IN);
    const char *to[] = {"bob", "c d"};
    CHECK_INT(zego_engine_send_custom_command(e, "x", to, 2, NULL, &err),
              ZEGO_ERR_USER_ID_INVALID_CHARACTER);
    CHECK_INT(zego_engine_logout_room(e, &err), ZEGO_ERR_NOT_LOGGED_IN);
    CHECK_INT(zego_engine_get_room_state(e), ZEGO_ROOM_STATE_DISCONNECTED);
    zego_engine_destroy(e);
}

static void a_login_that_cannot_connect_fails_after_the_login_timeout(void)
{
    zego_engine *e = unreachable_engine(400);
    CHECK(e != NULL);
    if (!e)
        return;
    struct recorder r = {.lock = PTHREAD_MUTEX_INITIALIZER};
    zego_event_handler h = {.user_data = &r, .room_state_update = record_state};
    zego_error err;
    CHECK(zego_engine_add_handler(e, &h, &err) > 0);
    zego_room_config room = {.room_id = "r", .user_id = "alice", .user_name = "张三"};
    CHECK_INT(zego_engine_login_room(e, &room, &err), ZEGO_ERR_OK);
    CHECK_INT(zego_engine_login_room(e, &room, &err), ZEGO_ERR_PROTOCOL_BAD_STATE);
    char me[ZEGO_USER_ID_SIZE];
    zego_engine_get_user_id(e, me);
    CHECK_STR(me, "alice");
    zego_stream own = {.stream_id = "s", .user_id = "alice"};
    zego_stream other = {.stream_id = "s", .user_id = "bob"};
    CHECK(zego_engine_is_own_stream(e, &own));
    CHECK(!zego_engine_is_own_stream(e, &other));

    bool done = false;
    for (int i = 0; i < 300 && !done; i++) {
        usleep(10000);
        pthread_mutex_lock(&r.lock);
        done = r.last_state == ZEGO_ROOM_STATE_DISCONNECTED && r.states >= 2;
        pthread_mutex_unlock(&r.lock);
    }
    CHECK(done);
    CHECK_INT(r.last_reason, ZEGO_ROOM_REASON_LOGIN_FAILED);
    CHECK(r.last_code == ZEGO_ERR_CONNECT_FAILED || r.last_code == ZEGO_ERR_LOGIN_TIMEOUT);
    CHECK_INT(zego_engine_get_room_state(e), ZEGO_ROOM_STATE_DISCONNECTED);
    /* Failed: a new login is allowed. */
    CHECK_INT(zego_engine_login_room(e, &room, &err), ZEGO_ERR_OK);
    zego_engine_destroy(e);
}

static void destroy_is_prompt_and_removing_a_handler_is_final(void)
{
    zego_engine *e = unreachable_engine(10000);
    CHECK(e != NULL);
    if (!e)
        return;
    struct recorder r = {.lock = PTHREAD_MUTEX_INITIALIZER};
    zego_event_handler h = {.user_data = &r, .room_state_update = record_state};
    zego_error err;
    uint32_t id = zego_engine_add_handler(e, &h, &err);
    CHECK(id > 0);
    CHECK_INT(zego_engine_remove_handler(e, id), ZEGO_ERR_OK);
    CHECK_INT(zego_engine_remove_handler(e, id), ZEGO_ERR_INVALID_ARGUMENT);
    zego_room_config room = {.room_id = "r", .user_id = "u"};
    zego_engine_login_room(e, &room, &err);
    usleep(50000);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    zego_engine_destroy(e);
    clock_gettime(CLOCK_MONOTONIC, &b);
    CHECK(b.tv_sec - a.tv_sec < 2);
    CHECK_INT(r.states, 0);
}

static void sessions_share_one_engine_per_room_and_user(void)
{
    zego_engine_config c;
    zego_engine_config_init(&c);
    c.server_url = "ws://127.0.0.1:1/ws";
    c.login_timeout_ms = 60000;
    zego_room_config room = {.room_id = "r", .user_id = zego_process_user_id()};
    zego_error err;
    zego_engine *a = zego_session_acquire(&c, &room, &err);
    zego_engine *b = zego_session_acquire(&c, &room, &err);
    room.room_id = "r2";
    zego_engine *d = zego_session_acquire(&c, &room, &err);
    CHECK(a != NULL);
    CHECK(a == b);
    CHECK(d != NULL && d != a);
    char me[ZEGO_USER_ID_SIZE];
    zego_engine_get_user_id(a, me);
    CHECK_STR(me, zego_process_user_id());
    room.user_id = "bad id";
    CHECK(zego_session_acquire(&c, &room, &err) == NULL);
    CHECK_INT(err.code, ZEGO_ERR_USER_ID_INVALID_CHARACTER);
    zego_session_release(a);
    zego_session_release(b);
    zego_session_release(d);
}

int main(void)
{
    RUN(backoff_grows_exponentially_within_its_jitter_band);
    RUN(backoff_is_capped);
    RUN(backoff_jitter_spreads_over_the_upper_half);
    RUN(backoff_handles_degenerate_settings);
    RUN(clock_offset_is_the_midpoint_estimate);
    RUN(clock_prefers_the_sample_with_the_smallest_round_trip);
    RUN(clock_forgets_samples_older_than_its_window);
    RUN(clock_ignores_a_reply_from_before_its_request);
    RUN(sendq_queues_what_fits_and_counts_bytes);
    RUN(sendq_drops_video_until_the_next_keyframe_and_asks_once);
    RUN(sendq_asks_again_when_the_keyframe_does_not_fit_either);
    RUN(sendq_keeps_audio_until_the_hard_bound);
    RUN(sendq_tracks_are_independent);
    RUN(sendq_a_new_socket_waits_for_keyframes_on_every_track);
    RUN(sequence_gaps_count_lost_frames_across_the_wrap);
    RUN(urls_parse_scheme_host_port_and_path);
    RUN(bad_urls_are_refused_with_a_reason);
    RUN(tickets_are_appended_as_a_query_parameter);
    RUN(quality_is_the_worst_of_rtt_loss_and_delay);
    RUN(session_keys_use_all_four_values);
    RUN(registry_shares_one_object_per_key_and_counts_references);
    RUN(registry_passes_on_a_failed_creation);
    RUN(config_defaults_are_zego_like);
    RUN(process_user_id_is_stable_and_valid);
    RUN(engine_creation_refuses_bad_urls);
    RUN(api_calls_check_their_arguments_at_once);
    RUN(a_login_that_cannot_connect_fails_after_the_login_timeout);
    RUN(destroy_is_prompt_and_removing_a_handler_is_final);
    RUN(sessions_share_one_engine_per_room_and_user);
    return harness_finish();
}
