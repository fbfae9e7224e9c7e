/* zego_output in a real, headless libobs against the real zego-room-server:
 * a colour source encoded by obs_x264 and ffmpeg_opus is published into a
 * room, and a player (the engine's play API) receives H.264 and Opus that
 * libavcodec decodes, at the rate and size OBS renders.  The error paths stop
 * the output with OBS's stop code and a last error a user can act on, and
 * libobs has nothing left allocated at shutdown. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <obs.h>
#include <signal.h>

#include <util/platform.h>
#include <util/threading.h>
#include <zego/zego.h>

#include "harness.h"
#include "obs-harness.h"
#include "server-proc.h"

#define APP    1234567u
#define SECRET "0123456789abcdef0123456789abcdef"

static zt_server srv;
static bool server_up;

/* ---- A player: the engine's play API, recording what arrives ---- */

#define MAX_KEEP 512

typedef struct player {
    pthread_mutex_t lock;
    zego_engine *engine;
    bool got_info;
    zego_track tracks[4];
    size_t n_tracks;
    uint32_t video_frames, audio_frames, video_keyframes;
    uint64_t bytes;
    int64_t first_video_us, last_video_us;
    /* frames kept for decoding: from the first video keyframe on */
    uint8_t *data[MAX_KEEP];
    size_t size[MAX_KEEP];
    uint8_t track[MAX_KEEP];
    size_t n_kept;
    bool keep;
} player;

static void on_media_info(zego_engine *e, const zego_media_info *info, void *ud)
{
    (void)e;
    player *p = ud;
    pthread_mutex_lock(&p->lock);
    p->n_tracks = info->n_tracks < 4 ? info->n_tracks : 4;
    memcpy(p->tracks, info->tracks, p->n_tracks * sizeof p->tracks[0]);
    p->got_info = true;
    pthread_mutex_unlock(&p->lock);
}

static void on_frame(zego_engine *e, const char *stream_id, const zego_media_frame *f, void *ud)
{
    (void)e, (void)stream_id;
    player *p = ud;
    pthread_mutex_lock(&p->lock);
    p->bytes += f->size;
    if (f->track == 0) {
        if (p->video_frames == 0)
            p->first_video_us = f->pts_us;
        p->last_video_us = f->pts_us;
        p->video_frames++;
        if (f->flags & ZEGO_FRAME_FLAG_KEY) {
            p->video_keyframes++;
            p->keep = true;
        }
    } else {
        p->audio_frames++;
    }
    if (p->keep && p->n_kept < MAX_KEEP) {
        p->data[p->n_kept] = malloc(f->size);
        memcpy(p->data[p->n_kept], f->data, f->size);
        p->size[p->n_kept] = f->size;
        p->track[p->n_kept] = f->track;
        p->n_kept++;
    }
    pthread_mutex_unlock(&p->lock);
}

static bool player_start(player *p, const char *stream_id)
{
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->lock, NULL);
    zego_engine_config cfg;
    zego_engine_config_init(&cfg);
    cfg.server_url = srv.url;
    cfg.app_id = APP;
    zego_error err;
    p->engine = zego_engine_create(&cfg, &err);
    if (!p->engine)
        return false;
    zego_room_config room = {.room_id = "obs-room", .user_id = "player"};
    zego_player_callbacks cb = {.user_data = p, .media_info = on_media_info, .frame = on_frame};
    return zego_engine_login_room(p->engine, &room, &err) == ZEGO_ERR_OK &&
           zego_engine_start_playing(p->engine, stream_id, &cb, &err) == ZEGO_ERR_OK;
}

static void player_stop(player *p)
{
    zego_engine_destroy(p->engine);
    for (size_t i = 0; i < p->n_kept; i++)
        free(p->data[i]);
    pthread_mutex_destroy(&p->lock);
}

/* Decodes the kept frames of one track; returns how many frames came out
 * and the size (video) or sample rate (audio) of the last one. */
static int decode_track(player *p, uint8_t track, enum AVCodecID id, int *w, int *h, int *rate)
{
    const AVCodec *codec = avcodec_find_decoder(id);
    AVCodecContext *ctx = codec ? avcodec_alloc_context3(codec) : NULL;
    if (!ctx || avcodec_open2(ctx, codec, NULL) < 0) {
        avcodec_free_context(&ctx);
        return -1;
    }
    AVPacket *pkt = av_packet_alloc();
    AVFrame *frame = av_frame_alloc();
    int decoded = 0;
    for (size_t i = 0; i < p->n_kept; i++) {
        if (p->track[i] != track)
            continue;
        pkt->data = p->data[i];
        pkt->size = (int)p->size[i];
        if (avcodec_send_packet(ctx, pkt) < 0)
            continue;
        while (avcodec_receive_frame(ctx, frame) == 0) {
            decoded++;
            if (w)
                *w = frame->width, *h = frame->height;
            if (rate)
                *rate = frame->sample_rate;
        }
    }
    av_frame_free(&frame);
    av_packet_free(&pkt);
    avcodec_free_context(&ctx);
    return decoded;
}

/* ---- The output and its stop signal ---- */

typedef struct stop_record {
    volatile long stopped; /* 1 once "stop" was signalled */
    volatile long code;
} stop_record;

static void on_output_stop(void *data, calldata_t *cd)
{
    stop_record *r = data;
    os_atomic_set_long(&r->code, (long)calldata_int(cd, "code"));
    os_atomic_set_long(&r->stopped, 1);
}

static bool is_stopped(void *arg)
{
    return os_atomic_load_long(&((stop_record *)arg)->stopped) != 0;
}

static obs_output_t *make_output(const char *server, const char *stream_id, const char *token,
                                 stop_record *rec)
{
    obs_data_t *s = obs_data_create();
    obs_data_set_string(s, "server", server);
    obs_data_set_int(s, "app_id", APP);
    obs_data_set_string(s, "room_id", "obs-room");
    obs_data_set_string(s, "user_id", "obs-user");
    obs_data_set_string(s, "user_name", "OBS test");
    obs_data_set_string(s, "stream_id", stream_id);
    obs_data_set_string(s, "token", token ? token : "");
    obs_data_set_int(s, "login_timeout_ms", 3000);
    obs_data_set_string(s, "x264_preset", "ultrafast");
    obs_output_t *out = obs_output_create("zego_output", "zego test output", s, NULL);
    obs_data_release(s);
    if (out && rec)
        signal_handler_connect(obs_output_get_signal_handler(out), "stop", on_output_stop, rec);
    return out;
}

static void release_output(obs_output_t *out, stop_record *rec)
{
    if (!out)
        return;
    if (rec)
        signal_handler_disconnect(obs_output_get_signal_handler(out), "stop", on_output_stop, rec);
    obs_output_release(out);
}

/* ---- Tests ---- */

static bool player_has_enough(void *arg)
{
    player *p = arg;
    pthread_mutex_lock(&p->lock);
    bool enough = p->video_frames >= 75 && p->audio_frames >= 100;
    pthread_mutex_unlock(&p->lock);
    return enough;
}

typedef struct p_bytes_wait {
    player *p;
    uint64_t bytes;
} p_bytes_wait;

static bool player_has_bytes(void *arg)
{
    p_bytes_wait *w = arg;
    pthread_mutex_lock(&w->p->lock);
    bool done = w->p->bytes >= w->bytes;
    pthread_mutex_unlock(&w->p->lock);
    return done;
}

static void output_publishes_obs_program_as_decodable_h264_and_opus(void)
{
    if (!server_up)
        return (void)SKIP("no server");
    obs_data_t *cs = obs_data_create();
    obs_data_set_int(cs, "color", 0xFF2040E0); /* ABGR */
    obs_data_set_int(cs, "width", ZT_OBS_WIDTH);
    obs_data_set_int(cs, "height", ZT_OBS_HEIGHT);
    obs_source_t *color = obs_source_create("color_source_v3", "colour", cs, NULL);
    obs_data_release(cs);
    CHECK(color != NULL);
    obs_set_output_source(0, color);

    player p;
    CHECK(player_start(&p, "obs-cam"));
    stop_record rec = {0};
    obs_output_t *out = make_output(srv.url, "obs-cam", NULL, &rec);
    CHECK(out != NULL);
    CHECK(obs_output_start(out));
    CHECK(zt_obs_wait(player_has_enough, &p, 15000));
    CHECK(obs_output_active(out));
    CHECK(obs_output_get_total_bytes(out) > 10000);
    CHECK(obs_output_get_connect_time_ms(out) >= 0);
    CHECK_INT(obs_output_get_frames_dropped(out), 0);
    obs_output_stop(out);
    CHECK(zt_obs_wait(is_stopped, &rec, 5000));
    CHECK_INT(rec.code, OBS_OUTPUT_SUCCESS);
    /* The stream ended with its last frame: the player has every byte the
     * output says it sent, the last ones included. */
    p_bytes_wait bw = {&p, obs_output_get_total_bytes(out)};
    CHECK(zt_obs_wait(player_has_bytes, &bw, 5000));
    pthread_mutex_lock(&p.lock);
    CHECK_INT(p.bytes, bw.bytes);
    pthread_mutex_unlock(&p.lock);

    pthread_mutex_lock(&p.lock);
    CHECK(p.got_info);
    CHECK_INT(p.n_tracks, 2);
    if (p.n_tracks == 2) {
        CHECK_INT(p.tracks[0].codec, ZEGO_CODEC_H264);
        CHECK_INT(p.tracks[0].width, ZT_OBS_WIDTH);
        CHECK_INT(p.tracks[0].height, ZT_OBS_HEIGHT);
        CHECK_INT(p.tracks[0].framerate_num, ZT_OBS_FPS);
        CHECK_CONTAINS(p.tracks[0].codec_string, "avc1.");
        CHECK_INT(p.tracks[1].codec, ZEGO_CODEC_OPUS);
        CHECK_INT(p.tracks[1].sample_rate, 48000);
        CHECK_INT(p.tracks[1].channels, 2);
    }
    /* 30 fps by the publisher's timestamps: 75 frames span about 2.5 s. */
    double seconds = (double)(p.last_video_us - p.first_video_us) / 1e6;
    double fps = seconds > 0 ? (p.video_frames - 1) / seconds : 0;
    printf("#   %u video frames (%u keyframes), %u audio frames, %.1f fps\n", p.video_frames,
           p.video_keyframes, p.audio_frames, fps);
    CHECK(fps > 27 && fps < 33);
    /* A keyframe every second. */
    CHECK(p.video_keyframes >= 2);
    pthread_mutex_unlock(&p.lock);

    int w = 0, h = 0, rate = 0;
    int nv = decode_track(&p, 0, AV_CODEC_ID_H264, &w, &h, NULL);
    int na = decode_track(&p, 1, AV_CODEC_ID_OPUS, NULL, NULL, &rate);
    printf("#   decoded %d video frames (%dx%d), %d audio frames (%d Hz)\n", nv, w, h, na, rate);
    CHECK(nv >= 50);
    CHECK_INT(w, ZT_OBS_WIDTH);
    CHECK_INT(h, ZT_OBS_HEIGHT);
    CHECK(na >= 50);
    CHECK_INT(rate, 48000);

    player_stop(&p);
    release_output(out, &rec);
    obs_set_output_source(0, NULL);
    obs_source_release(color);
}

static void output_publishes_aac_when_chosen(void)
{
    if (!server_up)
        return (void)SKIP("no server");
    player p;
    CHECK(player_start(&p, "obs-aac"));
    stop_record rec = {0};
    obs_output_t *out = make_output(srv.url, "obs-aac", NULL, &rec);
    obs_data_t *s = obs_data_create();
    obs_data_set_string(s, "audio_codec", "aac");
    obs_output_update(out, s);
    obs_data_release(s);
    CHECK(obs_output_start(out));
    CHECK(zt_obs_wait(player_has_enough, &p, 15000));
    obs_output_stop(out);
    CHECK(zt_obs_wait(is_stopped, &rec, 5000));
    pthread_mutex_lock(&p.lock);
    CHECK_INT(p.n_tracks, 2);
    if (p.n_tracks == 2) {
        CHECK_INT(p.tracks[1].codec, ZEGO_CODEC_AAC);
        CHECK_STR(p.tracks[1].codec_string, "mp4a.40.2");
        CHECK(p.tracks[1].config_len >= 2); /* AudioSpecificConfig */
    }
    pthread_mutex_unlock(&p.lock);
    player_stop(&p);
    release_output(out, &rec);
}

static void output_to_unreachable_server_stops_with_connect_failed(void)
{
    stop_record rec = {0};
    obs_output_t *out = make_output("ws://127.0.0.1:1/ws", "obs-unreachable", NULL, &rec);
    CHECK(obs_output_start(out));
    CHECK(zt_obs_wait(is_stopped, &rec, 10000));
    CHECK_INT(rec.code, OBS_OUTPUT_CONNECT_FAILED);
    CHECK_CONTAINS(obs_output_get_last_error(out), "Could not reach the room server");
    CHECK_CONTAINS(obs_output_get_last_error(out), "1002030");
    release_output(out, &rec);
}

static void output_with_refused_token_stops_with_invalid_stream(void)
{
    static const char *const args[] = {"--app", "1234567:" SECRET, NULL};
    zt_server secured;
    if (zt_server_start(&secured, 0, args)) {
        CHECK(!"server with --app started");
        return;
    }
    stop_record rec = {0};
    obs_output_t *out = make_output(secured.url, "obs-badtoken", "04notatoken", &rec);
    CHECK(obs_output_start(out));
    CHECK(zt_obs_wait(is_stopped, &rec, 10000));
    CHECK_INT(rec.code, OBS_OUTPUT_INVALID_STREAM);
    CHECK_CONTAINS(obs_output_get_last_error(out), "refused the login");
    CHECK_CONTAINS(obs_output_get_last_error(out), "zego-token");
    release_output(out, &rec);
    zt_server_stop(&secured, SIGTERM);
}

static void output_with_taken_stream_id_stops_with_invalid_stream(void)
{
    if (!server_up)
        return (void)SKIP("no server");
    /* Another user publishes "taken" first. */
    zego_engine_config cfg;
    zego_engine_config_init(&cfg);
    cfg.server_url = srv.url;
    cfg.app_id = APP;
    zego_error err;
    zego_engine *other = zego_engine_create(&cfg, &err);
    zego_room_config room = {.room_id = "obs-room", .user_id = "other"};
    zego_track t = {.id = 1,
                    .kind = ZEGO_TRACK_AUDIO,
                    .codec = ZEGO_CODEC_OPUS,
                    .codec_string = "opus",
                    .sample_rate = 48000,
                    .channels = 2};
    zego_publish_config pc = {.stream_id = "taken", .tracks = &t, .n_tracks = 1};
    CHECK_INT(zego_engine_login_room(other, &room, &err), 0);
    CHECK_INT(zego_engine_start_publishing(other, &pc, &err), 0);
    for (int i = 0; i < 100; i++) {
        zego_publish_stats st;
        if (zego_engine_get_room_state(other) == ZEGO_ROOM_STATE_CONNECTED &&
            zego_engine_get_publish_stats(other, "taken", &st, NULL) == 0)
            break;
        usleep(50000);
    }
    usleep(300000);

    stop_record rec = {0};
    obs_output_t *out = make_output(srv.url, "taken", NULL, &rec);
    CHECK(obs_output_start(out));
    CHECK(zt_obs_wait(is_stopped, &rec, 10000));
    CHECK_INT(rec.code, OBS_OUTPUT_INVALID_STREAM);
    CHECK_CONTAINS(obs_output_get_last_error(out), "already publishing the stream ID \"taken\"");
    release_output(out, &rec);
    zego_engine_destroy(other);
}

static bool publishing(void *arg)
{
    return obs_output_get_connect_time_ms(arg) >= 0;
}

static void output_stops_with_disconnected_when_the_room_gives_up(void)
{
    zt_server lost;
    if (zt_server_start(&lost, 0, NULL)) {
        CHECK(!"server started");
        return;
    }
    stop_record rec = {0};
    obs_output_t *out = make_output(lost.url, "obs-lost", NULL, &rec);
    obs_data_t *s = obs_data_create();
    obs_data_set_int(s, "reconnect_give_up_ms", 2000);
    obs_output_update(out, s);
    obs_data_release(s);
    CHECK(obs_output_start(out));
    CHECK(zt_obs_wait(publishing, out, 10000));
    zt_server_stop(&lost, SIGKILL);
    CHECK(zt_obs_wait(is_stopped, &rec, 15000));
    CHECK_INT(rec.code, OBS_OUTPUT_DISCONNECTED);
    CHECK_CONTAINS(obs_output_get_last_error(out), "reconnecting gave up");
    CHECK_CONTAINS(obs_output_get_last_error(out), "1002053");
    release_output(out, &rec);
}

static void output_with_invalid_settings_does_not_start(void)
{
    obs_output_t *out = make_output(srv.url, "bad stream id", NULL, NULL);
    CHECK(!obs_output_start(out));
    CHECK_CONTAINS(obs_output_get_last_error(out), "Stream ID");
    release_output(out, NULL);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!zt_obs_start()) {
        printf("1..0 # SKIP libobs did not start\n");
        return 0;
    }
    bool modules = zt_obs_load_module("obs-x264") && zt_obs_load_module("obs-ffmpeg") &&
                   zt_obs_load_module("image-source") && zt_obs_load_module("obs-zego");
    if (!modules) {
        printf("Bail out! modules did not load\n");
        return 1;
    }
    server_up = zt_server_start(&srv, 0, NULL) == 0;

    RUN(output_publishes_obs_program_as_decodable_h264_and_opus);
    RUN(output_publishes_aac_when_chosen);
    RUN(output_to_unreachable_server_stops_with_connect_failed);
    RUN(output_with_refused_token_stops_with_invalid_stream);
    RUN(output_with_taken_stream_id_stops_with_invalid_stream);
    RUN(output_stops_with_disconnected_when_the_room_gives_up);
    RUN(output_with_invalid_settings_does_not_start);

    if (server_up)
        zt_server_stop(&srv, SIGTERM);
    harness_count++;
    long leaks = zt_obs_stop();
    if (leaks != 0)
        harness_failures++;
    printf("%s %d - libobs reports no leaked allocations at shutdown # %ld left\n",
           leaks ? "not ok" : "ok", harness_count, leaks);
    return harness_finish();
}
