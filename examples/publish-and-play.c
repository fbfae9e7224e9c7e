/* publish-and-play: one user publishes a synthetic stream into a room, a
 * second user in the same room plays it back, and the program reports what
 * happened: the room events both users saw, and whether every frame arrived
 * intact.  `make demo` runs it against a local zego-room-server.
 *
 *   publish-and-play --server ws://127.0.0.1:7600/ws --app-id 1
 *       [--publisher-token T --player-token T] [--seconds 3]
 *
 * The video is H.264-shaped (30 fps, ~2 Mbit/s, a keyframe every 2 s about
 * ten times a P frame), the audio Opus-shaped (50 packets/s); payloads are a
 * pattern the player checks byte for byte. */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zego/zego.h>

#define STREAM "alice-cam"

typedef struct side {
    const char *who;
    atomic_int connected, publishing, playing;
} side;

static atomic_uint frames_received, frames_bad, frames_lost, last_seq;
static atomic_llong delay_sum_us;
static atomic_uint delay_n;

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static void on_room_state(zego_engine *e, const char *room, zego_room_state state,
                          zego_room_state_reason reason, int32_t code, const char *message,
                          void *ud)
{
    (void)e;
    side *s = ud;
    printf("[%s] room %s: %s (%s)%s%s\n", s->who, room, zego_room_state_name(state),
           zego_room_state_reason_name(reason), code ? ", " : "", code ? message : "");
    atomic_store(&s->connected, state == ZEGO_ROOM_STATE_CONNECTED ? 1 : code ? -1 : 0);
}

static void on_users(zego_engine *e, const char *room, zego_update_type type,
                     const zego_user *users, size_t n, void *ud)
{
    (void)e, (void)room;
    for (size_t i = 0; i < n; i++)
        printf("[%s] user %s: %s (%s)\n", ((side *)ud)->who, zego_update_type_name(type),
               users[i].user_id, users[i].user_name);
}

static void on_streams(zego_engine *e, const char *room, zego_update_type type,
                       zego_delete_reason reason, const zego_stream *streams, size_t n, void *ud)
{
    (void)e, (void)room;
    for (size_t i = 0; i < n; i++)
        printf("[%s] stream %s: %s by %s%s%s\n", ((side *)ud)->who, zego_update_type_name(type),
               streams[i].stream_id, streams[i].user_id, type == ZEGO_UPDATE_DELETE ? ", " : "",
               type == ZEGO_UPDATE_DELETE ? zego_delete_reason_name(reason) : "");
}

static void on_publisher(zego_engine *e, const char *stream_id, zego_publisher_state state,
                         int32_t code, void *ud)
{
    (void)e;
    side *s = ud;
    printf("[%s] publisher %s: %s%s\n", s->who, stream_id, zego_publisher_state_name(state),
           code ? " (refused)" : "");
    atomic_store(&s->publishing, state == ZEGO_PUBLISHER_STATE_PUBLISHING ? 1 : code ? -1 : 0);
}

static void on_player(zego_engine *e, const char *stream_id, zego_player_state state, int32_t code,
                      void *ud)
{
    (void)e;
    side *s = ud;
    printf("[%s] player %s: %s%s\n", s->who, stream_id, zego_player_state_name(state),
           code ? " (refused)" : "");
    atomic_store(&s->playing, state == ZEGO_PLAYER_STATE_PLAYING ? 1 : code ? -1 : 0);
}

static void on_play_quality(zego_engine *e, const char *stream_id, const zego_play_stats *st,
                            void *ud)
{
    (void)e;
    printf("[%s] play quality %s: %s, %.0f fps video, %.0f kbit/s, delay %lld ms, %llu lost\n",
           ((side *)ud)->who, stream_id, zego_quality_level_name(st->quality), st->video_fps,
           st->video_kbps + st->audio_kbps, (long long)st->delay_ms,
           (unsigned long long)st->frames_lost);
}

static void on_media_info(zego_engine *e, const zego_media_info *info, void *ud)
{
    (void)e;
    printf("[%s] stream %s generation %u:", ((side *)ud)->who, info->stream_id, info->generation);
    for (size_t i = 0; i < info->n_tracks; i++)
        printf(" %s %s", info->tracks[i].kind == ZEGO_TRACK_VIDEO ? "video" : "audio",
               info->tracks[i].codec_string);
    printf("\n");
}

static uint8_t pattern(uint32_t seq, size_t i)
{
    return (uint8_t)(seq * 13 + i);
}

static void on_frame(zego_engine *e, const char *stream_id, const zego_media_frame *f, void *ud)
{
    (void)e, (void)stream_id, (void)ud;
    /* The publisher numbers frames through the pts (one unit = 1 ms). */
    uint32_t seq = (uint32_t)(f->pts_us / 1000);
    bool ok = f->size > 0;
    for (size_t i = 0; ok && i < f->size; i++)
        ok = f->data[i] == pattern(seq, i);
    atomic_fetch_add(&frames_received, 1);
    if (seq <= atomic_exchange(&last_seq, seq))
        ok = false; /* out of order */
    if (!ok)
        atomic_fetch_add(&frames_bad, 1);
    if (f->flags & ZEGO_FRAME_FLAG_DISCONT)
        atomic_fetch_add(&frames_lost, 1);
    if (f->capture_time_us) {
        atomic_fetch_add(&delay_sum_us, now_us() - f->capture_time_us);
        atomic_fetch_add(&delay_n, 1);
    }
}

static bool wait_for(atomic_int *flag, int seconds)
{
    for (int i = 0; i < seconds * 100 && atomic_load(flag) == 0; i++)
        usleep(10000);
    return atomic_load(flag) == 1;
}

static zego_engine *make_engine(const char *url, uint32_t app_id, side *s, zego_error *err)
{
    zego_engine_config cfg;
    zego_engine_config_init(&cfg);
    cfg.server_url = url;
    cfg.app_id = app_id;
    cfg.quality_interval_ms = 1000;
    zego_engine *e = zego_engine_create(&cfg, err);
    if (!e)
        return NULL;
    zego_event_handler h = {.user_data = s,
                            .room_state_update = on_room_state,
                            .room_user_update = on_users,
                            .room_stream_update = on_streams,
                            .publisher_state_update = on_publisher,
                            .player_state_update = on_player,
                            .player_quality_update = on_play_quality};
    zego_engine_add_handler(e, &h, err);
    return e;
}

static void usage(FILE *out)
{
    fprintf(out, "Usage: publish-and-play --server URL --app-id N [--publisher-token T]\n"
                 "                        [--player-token T] [--room-id R] [--seconds S]\n"
                 "Publishes a synthetic stream as user 'alice' and plays it back as 'bob'.\n");
}

int main(int argc, char **argv)
{
    const char *url = NULL, *room = "demo-room", *pub_token = NULL, *play_token = NULL;
    uint32_t app_id = 0;
    int seconds = 3;
    static const struct option opts[] = {{"server", required_argument, NULL, 's'},
                                         {"app-id", required_argument, NULL, 'a'},
                                         {"publisher-token", required_argument, NULL, 'p'},
                                         {"player-token", required_argument, NULL, 'q'},
                                         {"room-id", required_argument, NULL, 'r'},
                                         {"seconds", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            url = optarg;
            break;
        case 'a':
            app_id = (uint32_t)strtoul(optarg, NULL, 10);
            break;
        case 'p':
            pub_token = optarg;
            break;
        case 'q':
            play_token = optarg;
            break;
        case 'r':
            room = optarg;
            break;
        case 't':
            seconds = atoi(optarg);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!url || !app_id || seconds < 1 || seconds > 3600) {
        usage(stderr);
        return 2;
    }

    side alice = {.who = "alice"}, bob = {.who = "bob"};
    zego_error err;
    zego_engine *pub = make_engine(url, app_id, &alice, &err);
    zego_engine *play = pub ? make_engine(url, app_id, &bob, &err) : NULL;
    if (!pub || !play) {
        fprintf(stderr, "publish-and-play: %s\n", err.message);
        return 1;
    }
    zego_room_config ra = {.room_id = room,
                           .user_id = "alice",
                           .user_name = "Alice",
                           .token = pub_token,
                           .user_update = true};
    zego_room_config rb = {.room_id = room,
                           .user_id = "bob",
                           .user_name = "\xe5\xb0\x8f\xe6\x98\x8e",
                           .token = play_token,
                           .user_update = true};
    int status = 1;
    if (zego_engine_login_room(pub, &ra, &err) || !wait_for(&alice.connected, 10) ||
        zego_engine_login_room(play, &rb, &err) || !wait_for(&bob.connected, 10)) {
        fprintf(stderr, "publish-and-play: could not log in\n");
        goto out;
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
    zego_publish_config pc = {
        .stream_id = STREAM, .extra_info = "demo", .tracks = tracks, .n_tracks = 2};
    zego_player_callbacks pcb = {.user_data = &bob, .media_info = on_media_info, .frame = on_frame};
    if (zego_engine_start_publishing(pub, &pc, &err) || !wait_for(&alice.publishing, 10) ||
        zego_engine_start_playing(play, STREAM, &pcb, &err) || !wait_for(&bob.playing, 10)) {
        fprintf(stderr, "publish-and-play: could not start the stream: %s\n", err.message);
        goto out;
    }

    /* 30 video frames and 50 audio packets a second, paced by the clock. */
    static uint8_t buf[80000];
    uint32_t sent = 0, seq = 0;
    int64_t start = now_us();
    for (int tick = 0; tick < seconds * 150; tick++) {
        int64_t due = start + (int64_t)tick * 1000000 / 150;
        int64_t wait = due - now_us();
        if (wait > 0)
            usleep((useconds_t)wait);
        bool video = tick % 5 == 0, audio = tick % 3 == 0;
        for (int k = 0; k < 2; k++) {
            if ((k == 0 && !video) || (k == 1 && !audio))
                continue;
            bool key = k == 0 && tick % 300 == 0;
            size_t size = k == 1 ? 160 : key ? 75000 : 7500;
            seq++;
            for (size_t i = 0; i < size; i++)
                buf[i] = pattern(seq, i);
            zego_media_frame f = {.track = (uint8_t)k,
                                  .flags = key ? ZEGO_FRAME_FLAG_KEY : 0,
                                  .pts_us = (int64_t)seq * 1000,
                                  .dts_us = (int64_t)seq * 1000,
                                  .capture_time_us = now_us(),
                                  .data = buf,
                                  .size = size};
            if (zego_engine_send_frame(pub, STREAM, &f, &err) == ZEGO_ERR_OK)
                sent++;
        }
    }
    for (int i = 0; i < 300 && atomic_load(&frames_received) < sent; i++)
        usleep(10000);

    zego_engine_stop_playing(play, STREAM, NULL);
    zego_engine_stop_publishing(pub, STREAM, NULL);
    zego_engine_logout_room(play, NULL);
    zego_engine_logout_room(pub, NULL);
    usleep(200000);

    unsigned received = atomic_load(&frames_received), bad = atomic_load(&frames_bad);
    unsigned n = atomic_load(&delay_n);
    printf("\nalice sent %u frames; bob received %u (%u damaged, %u after a gap), "
           "mean capture-to-arrival %.1f ms\n",
           sent, received, bad, atomic_load(&frames_lost),
           n ? (double)atomic_load(&delay_sum_us) / n / 1000.0 : 0.0);
    status = received == sent && bad == 0 ? 0 : 1;
    printf("%s\n",
           status == 0 ? "every frame arrived intact, in order" : "FRAMES WERE LOST OR DAMAGED");
out:
    zego_engine_destroy(play);
    zego_engine_destroy(pub);
    return status;
}
