/* zego_output: publishes OBS's program into a room.
 *
 * An encoded output (H.264 video, Opus or AAC audio) on the engine's shared
 * session of its room and user.  libobs 29 has no call to make an encoder
 * produce a keyframe, and a room needs one often (a player joining starts at
 * the last keyframe the server cached), so the output creates and owns its
 * encoders and sets them for a room whoever starts it (the Tools menu,
 * a hotkey, obs-websocket's StartOutput): a keyframe every 1-2 s, no
 * B-frames, SPS/PPS repeated before every keyframe.  Keyframe requests from
 * the room are logged as not supported.
 *
 * Data capture begins as soon as the output starts: the engine holds the
 * frames given before the publish socket is up from the newest keyframe on,
 * so nothing waits for the login.  A failed login or publish, or a room that
 * gives up reconnecting, stops the output with OBS's stop code and a last
 * error saying what to do; the session is released on a thread of its own
 * (never from an engine callback). */
#include <inttypes.h>
#include <pthread.h>
#include <string.h>

#include <util/platform.h>
#include <util/threading.h>

#include "zego-obs.h"

#define S_EXTRA_INFO    "extra_info"
#define S_AUDIO_CODEC   "audio_codec"
#define S_VIDEO_BITRATE "video_bitrate"
#define S_AUDIO_BITRATE "audio_bitrate"
#define S_KEYINT_SEC    "keyint_sec"
#define S_X264_PRESET   "x264_preset"

struct zego_output {
    obs_output_t *output;
    obs_encoder_t *video_encoder;
    obs_encoder_t *audio_encoder;
    char *audio_encoder_id;

    pthread_mutex_t lock; /* engine, the copies of the settings, tracks */
    zego_engine *engine;
    uint32_t handler_id;
    obs_data_t *settings; /* a copy taken at start */
    char stream_id[ZEGO_STREAM_ID_SIZE];
    zego_track tracks[2];
    size_t n_tracks;
    uint8_t *video_header; /* the video encoder's extra data (Annex B SPS/PPS) */
    size_t video_header_size;

    volatile bool capturing;
    volatile bool failed; /* a stop code was signalled; set once per start */
    pthread_t fail_thread;
    bool fail_thread_started;
    int fail_code;

    uint64_t start_ns;
    volatile long connect_time_ms; /* -1 until PUBLISHING */
    /* Totals kept when the session is gone, so the stats stay readable. */
    uint64_t bytes_sent_last;
    uint64_t frames_dropped_last;
    uint64_t frames_given;
    uint64_t send_errors;
};

static const char *zego_output_get_name(void *type_data)
{
    (void)type_data;
    return obs_module_text("ZegoOutput");
}

void zego_output_defaults(obs_data_t *settings)
{
    zobs_room_defaults(settings);
    obs_data_set_default_string(settings, ZOBS_S_STREAM_ID, "obs");
    obs_data_set_default_string(settings, S_EXTRA_INFO, "");
    obs_data_set_default_string(settings, S_AUDIO_CODEC, "opus");
    obs_data_set_default_int(settings, S_VIDEO_BITRATE, 2500);
    obs_data_set_default_int(settings, S_AUDIO_BITRATE, 128);
    obs_data_set_default_int(settings, S_KEYINT_SEC, 1);
    obs_data_set_default_string(settings, S_X264_PRESET, "veryfast");
}

obs_properties_t *zego_output_properties(void *data)
{
    (void)data;
    obs_properties_t *props = obs_properties_create();
    zobs_room_properties(props);
    obs_properties_add_text(props, ZOBS_S_STREAM_ID, obs_module_text("StreamID"), OBS_TEXT_DEFAULT);
    obs_properties_add_text(props, S_EXTRA_INFO, obs_module_text("ExtraInfo"), OBS_TEXT_DEFAULT);
    obs_property_t *p = obs_properties_add_list(props, S_AUDIO_CODEC, obs_module_text("AudioCodec"),
                                                OBS_COMBO_TYPE_LIST, OBS_COMBO_FORMAT_STRING);
    obs_property_list_add_string(p, "Opus", "opus");
    obs_property_list_add_string(p, "AAC", "aac");
    p = obs_properties_add_int(props, S_VIDEO_BITRATE, obs_module_text("VideoBitrate"), 100, 50000,
                               100);
    obs_property_int_set_suffix(p, " kbps");
    p = obs_properties_add_int(props, S_AUDIO_BITRATE, obs_module_text("AudioBitrate"), 32, 320,
                               16);
    obs_property_int_set_suffix(p, " kbps");
    p = obs_properties_add_int(props, S_KEYINT_SEC, obs_module_text("KeyframeInterval"), 1, 2, 1);
    obs_property_int_set_suffix(p, " s");
    p = obs_properties_add_list(props, S_X264_PRESET, obs_module_text("X264Preset"),
                                OBS_COMBO_TYPE_LIST, OBS_COMBO_FORMAT_STRING);
    static const char *const presets[] = {"ultrafast", "superfast", "veryfast",
                                          "faster",    "fast",      "medium"};
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        obs_property_list_add_string(p, presets[i], presets[i]);
    return props;
}

/* ---- Encoders ---- */

/* The room settings of the encoders: what a player joining at any time and
 * the GOP cache need, whatever the profile's own encoder settings say. */
static void configure_encoders(struct zego_output *z, obs_data_t *settings)
{
    const char *audio_codec = obs_data_get_string(settings, S_AUDIO_CODEC);
    const char *audio_id = strcmp(audio_codec, "aac") == 0 ? "ffmpeg_aac" : "ffmpeg_opus";

    obs_data_t *vs = obs_data_create();
    obs_data_set_string(vs, "rate_control", "CBR");
    obs_data_set_int(vs, "bitrate", obs_data_get_int(settings, S_VIDEO_BITRATE));
    obs_data_set_int(vs, "keyint_sec", obs_data_get_int(settings, S_KEYINT_SEC));
    obs_data_set_string(vs, "preset", obs_data_get_string(settings, S_X264_PRESET));
    obs_data_set_string(vs, "profile", "baseline");
    obs_data_set_string(vs, "tune", "zerolatency");
    obs_data_set_string(vs, "x264opts", "bframes=0");
    obs_data_set_bool(vs, "repeat_headers", true);
    if (!z->video_encoder) {
        z->video_encoder = obs_video_encoder_create("obs_x264", "zego_video", vs, NULL);
        obs_encoder_set_video(z->video_encoder, obs_get_video());
    } else {
        obs_encoder_update(z->video_encoder, vs);
    }
    obs_data_release(vs);

    obs_data_t *as = obs_data_create();
    obs_data_set_int(as, "bitrate", obs_data_get_int(settings, S_AUDIO_BITRATE));
    if (z->audio_encoder && strcmp(z->audio_encoder_id, audio_id) != 0) {
        obs_encoder_release(z->audio_encoder);
        z->audio_encoder = NULL;
    }
    if (!z->audio_encoder) {
        z->audio_encoder = obs_audio_encoder_create(audio_id, "zego_audio", as, 0, NULL);
        obs_encoder_set_audio(z->audio_encoder, obs_get_audio());
        bfree(z->audio_encoder_id);
        z->audio_encoder_id = bstrdup(audio_id);
    } else {
        obs_encoder_update(z->audio_encoder, as);
    }
    obs_data_release(as);

    obs_output_set_video_encoder(z->output, z->video_encoder);
    obs_output_set_audio_encoder(z->output, z->audio_encoder, 0);
}

/* The first SPS of an Annex B buffer: profile_idc, constraints, level_idc. */
static bool find_h264_sps(const uint8_t *d, size_t size, uint8_t out[3])
{
    for (size_t i = 0; i + 6 < size; i++) {
        if (d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 1 && (d[i + 3] & 0x1f) == 7) {
            memcpy(out, d + i + 4, 3);
            return true;
        }
    }
    return false;
}

/* The tracks of the stream, from the initialized encoders. */
static bool build_tracks(struct zego_output *z, struct dstr *msg)
{
    uint8_t *extra = NULL;
    size_t extra_size = 0;
    uint8_t sps[3];
    zego_track *v = &z->tracks[0];
    memset(z->tracks, 0, sizeof z->tracks);

    if (!obs_encoder_get_extra_data(z->video_encoder, &extra, &extra_size) ||
        !find_h264_sps(extra, extra_size, sps)) {
        dstr_copy(msg, obs_module_text("Error.NoVideoHeaders"));
        return false;
    }
    bfree(z->video_header);
    z->video_header = bmemdup(extra, extra_size);
    z->video_header_size = extra_size;

    const struct video_output_info *voi = video_output_get_info(obs_get_video());
    v->id = ZOBS_VIDEO_TRACK;
    v->kind = ZEGO_TRACK_VIDEO;
    v->codec = ZEGO_CODEC_H264;
    snprintf(v->codec_string, sizeof v->codec_string, "avc1.%02X%02X%02X", sps[0], sps[1], sps[2]);
    v->width = obs_encoder_get_width(z->video_encoder);
    v->height = obs_encoder_get_height(z->video_encoder);
    if (voi) {
        v->framerate_num = voi->fps_num;
        v->framerate_den = voi->fps_den;
    }

    zego_track *a = &z->tracks[1];
    a->id = ZOBS_AUDIO_TRACK;
    a->kind = ZEGO_TRACK_AUDIO;
    a->sample_rate = obs_encoder_get_sample_rate(z->audio_encoder);
    a->channels = (uint32_t)audio_output_get_channels(obs_get_audio());
    if (strcmp(z->audio_encoder_id, "ffmpeg_aac") == 0) {
        a->codec = ZEGO_CODEC_AAC;
        if (!obs_encoder_get_extra_data(z->audio_encoder, &extra, &extra_size) || extra_size < 2 ||
            extra_size > sizeof a->config) {
            dstr_copy(msg, obs_module_text("Error.NoAudioHeaders"));
            return false;
        }
        memcpy(a->config, extra, extra_size);
        a->config_len = extra_size;
        int aot = extra[0] >> 3;
        snprintf(a->codec_string, sizeof a->codec_string, "mp4a.40.%d",
                 aot > 0 && aot < 31 ? aot : 2);
    } else {
        a->codec = ZEGO_CODEC_OPUS;
        snprintf(a->codec_string, sizeof a->codec_string, "opus");
    }
    z->n_tracks = 2;
    return true;
}

/* ---- The session ---- */

/* How long a stop waits for what was given to reach the server. */
#define FINISH_TIMEOUT_MS 1000

/* Removes the handler, stops publishing and releases the session.  finish:
 * a stop asked for, not a failure: what the encoders gave is sent first (at
 * most FINISH_TIMEOUT_MS), so the stream ends with its last frame.  Not from
 * an engine callback. */
static void release_session(struct zego_output *z, bool finish)
{
    pthread_mutex_lock(&z->lock);
    zego_engine *engine = z->engine;
    uint32_t handler_id = z->handler_id;
    z->engine = NULL;
    z->handler_id = 0;
    pthread_mutex_unlock(&z->lock);
    if (!engine)
        return;
    zego_publish_stats st;
    if (zego_engine_get_publish_stats(engine, z->stream_id, &st, NULL) == ZEGO_ERR_OK) {
        z->bytes_sent_last = st.bytes_sent;
        z->frames_dropped_last = st.frames_dropped;
    }
    if (handler_id)
        zego_engine_remove_handler(engine, handler_id);
    if (finish && os_atomic_load_long(&z->connect_time_ms) >= 0) {
        zego_engine_finish_publishing(engine, z->stream_id, FINISH_TIMEOUT_MS, NULL);
        uint64_t deadline = os_gettime_ns() + (FINISH_TIMEOUT_MS + 500) * 1000000ULL;
        while (zego_engine_get_publish_stats(engine, z->stream_id, &st, NULL) == ZEGO_ERR_OK &&
               os_gettime_ns() < deadline) {
            z->bytes_sent_last = st.bytes_sent;
            z->frames_dropped_last = st.frames_dropped;
            os_sleep_ms(5);
        }
    }
    zego_engine_stop_publishing(engine, z->stream_id, NULL);
    zego_session_release(engine);
}

static void *fail_thread_main(void *data)
{
    struct zego_output *z = data;
    os_set_thread_name("zego-output-stop");
    release_session(z, false);
    if (os_atomic_set_bool(&z->capturing, false))
        obs_output_signal_stop(z->output, z->fail_code);
    return NULL;
}

/* Call with no engine callback able to run any more (after release_session
 * or before the session is acquired). */
static void join_fail_thread(struct zego_output *z)
{
    pthread_mutex_lock(&z->lock);
    bool started = z->fail_thread_started;
    z->fail_thread_started = false;
    pthread_mutex_unlock(&z->lock);
    if (started)
        pthread_join(z->fail_thread, NULL);
}

/* From an engine callback: stop with code (once per start). */
static void fail(struct zego_output *z, int32_t zego_code, const char *detail)
{
    if (os_atomic_set_bool(&z->failed, true))
        return;
    struct dstr msg = {0};
    pthread_mutex_lock(&z->lock);
    obs_data_t *s = z->settings;
    zobs_error_message(zego_code, obs_data_get_string(s, ZOBS_S_SERVER),
                       obs_data_get_string(s, ZOBS_S_ROOM_ID), z->stream_id, detail, &msg);
    pthread_mutex_unlock(&z->lock);
    zobs_log(LOG_WARNING, "output '%s' stops: %s", obs_output_get_name(z->output), msg.array);
    obs_output_set_last_error(z->output, msg.array);
    dstr_free(&msg);
    z->fail_code = zobs_stop_code_for(zego_code);
    /* The previous start's thread (if any) was joined in start. */
    pthread_mutex_lock(&z->lock);
    z->fail_thread_started = pthread_create(&z->fail_thread, NULL, fail_thread_main, z) == 0;
    pthread_mutex_unlock(&z->lock);
}

static void on_room_state(zego_engine *engine, const char *room_id, zego_room_state state,
                          zego_room_state_reason reason, int32_t code, const char *message,
                          void *user_data)
{
    (void)engine;
    struct zego_output *z = user_data;
    zobs_log(LOG_INFO, "room %s: %s (%s) %d %s", room_id, zego_room_state_name(state),
             zego_room_state_reason_name(reason), (int)code, message ? message : "");
    if (state == ZEGO_ROOM_STATE_DISCONNECTED && reason != ZEGO_ROOM_REASON_LOGOUT && code != 0)
        fail(z, code, message);
}

static void on_publisher_state(zego_engine *engine, const char *stream_id,
                               zego_publisher_state state, int32_t code, void *user_data)
{
    (void)engine;
    struct zego_output *z = user_data;
    if (strcmp(stream_id, z->stream_id) != 0)
        return;
    zobs_log(LOG_INFO, "stream %s: %s %d", stream_id, zego_publisher_state_name(state), (int)code);
    if (state == ZEGO_PUBLISHER_STATE_PUBLISHING) {
        long ms = (long)((os_gettime_ns() - z->start_ns) / 1000000);
        os_atomic_set_long(&z->connect_time_ms, ms);
    } else if (state == ZEGO_PUBLISHER_STATE_NO_PUBLISH && code != 0) {
        fail(z, code, NULL);
    }
}

static void on_keyframe_request(zego_engine *engine, const char *stream_id, uint32_t track,
                                zego_keyframe_reason reason, void *user_data)
{
    (void)engine, (void)user_data;
    /* libobs 29 has no API to force a keyframe; the encoder makes one every
     * keyint_sec seconds, which bounds how long a player waits. */
    zobs_log(LOG_DEBUG, "stream %s track %u: keyframe requested (%s), not supported by libobs 29",
             stream_id, track, zego_keyframe_reason_name(reason));
}

/* ---- Output callbacks ---- */

static void *zego_output_create(obs_data_t *settings, obs_output_t *output)
{
    (void)settings;
    struct zego_output *z = bzalloc(sizeof *z);
    z->output = output;
    pthread_mutex_init(&z->lock, NULL);
    z->connect_time_ms = -1;
    /* The engine reconnects by itself; DISCONNECTED means it gave up. */
    obs_output_set_reconnect_settings(output, 0, 0);
    return z;
}

static void zego_output_destroy(void *data)
{
    struct zego_output *z = data;
    release_session(z, false);
    join_fail_thread(z);
    if (z->video_encoder)
        obs_encoder_release(z->video_encoder);
    if (z->audio_encoder)
        obs_encoder_release(z->audio_encoder);
    obs_data_release(z->settings);
    bfree(z->audio_encoder_id);
    bfree(z->video_header);
    pthread_mutex_destroy(&z->lock);
    bfree(z);
}

static bool zego_output_start(void *data)
{
    struct zego_output *z = data;
    struct dstr msg = {0};
    zego_error zerr;

    release_session(z, false);
    join_fail_thread(z);
    obs_data_t *settings = obs_output_get_settings(z->output);
    if (!zobs_room_settings_check(settings, true, &msg)) {
        obs_output_set_last_error(z->output, msg.array);
        zobs_log(LOG_WARNING, "output not started: %s", msg.array);
        dstr_free(&msg);
        obs_data_release(settings);
        return false;
    }
    pthread_mutex_lock(&z->lock);
    obs_data_release(z->settings);
    z->settings = settings;
    snprintf(z->stream_id, sizeof z->stream_id, "%s",
             obs_data_get_string(settings, ZOBS_S_STREAM_ID));
    pthread_mutex_unlock(&z->lock);

    configure_encoders(z, settings);
    if (!obs_output_can_begin_data_capture(z->output, 0))
        return false;
    if (!obs_output_initialize_encoders(z->output, 0)) {
        obs_output_set_last_error(z->output, obs_module_text("Error.Encoders"));
        return false;
    }
    if (!build_tracks(z, &msg)) {
        obs_output_set_last_error(z->output, msg.array);
        dstr_free(&msg);
        return false;
    }

    os_atomic_set_bool(&z->failed, false);
    os_atomic_set_long(&z->connect_time_ms, -1);
    z->start_ns = os_gettime_ns();
    z->bytes_sent_last = z->frames_dropped_last = 0;
    z->frames_given = z->send_errors = 0;

    zego_engine *engine = zobs_session_acquire(settings, &zerr);
    if (!engine) {
        zobs_error_message(zerr.code, obs_data_get_string(settings, ZOBS_S_SERVER),
                           obs_data_get_string(settings, ZOBS_S_ROOM_ID), z->stream_id,
                           zerr.message, &msg);
        obs_output_set_last_error(z->output, msg.array);
        dstr_free(&msg);
        return false;
    }
    zego_event_handler handler = {
        .user_data = z,
        .room_state_update = on_room_state,
        .publisher_state_update = on_publisher_state,
        .publisher_keyframe_request = on_keyframe_request,
    };
    uint32_t handler_id = zego_engine_add_handler(engine, &handler, &zerr);
    zego_publish_config pc = {
        .stream_id = z->stream_id,
        .extra_info = obs_data_get_string(settings, S_EXTRA_INFO),
        .tracks = z->tracks,
        .n_tracks = z->n_tracks,
    };
    pthread_mutex_lock(&z->lock);
    z->engine = engine;
    z->handler_id = handler_id;
    pthread_mutex_unlock(&z->lock);
    if (!handler_id || zego_engine_start_publishing(engine, &pc, &zerr) != ZEGO_ERR_OK) {
        dstr_printf(&msg, "%s", zerr.message);
        obs_output_set_last_error(z->output, msg.array);
        dstr_free(&msg);
        release_session(z, false);
        return false;
    }
    zobs_log(LOG_INFO, "output '%s' publishing '%s' (%s %ux%u, %s %u Hz) to room '%s' at %s",
             obs_output_get_name(z->output), z->stream_id, z->tracks[0].codec_string,
             z->tracks[0].width, z->tracks[0].height, z->tracks[1].codec_string,
             z->tracks[1].sample_rate, obs_data_get_string(settings, ZOBS_S_ROOM_ID),
             obs_data_get_string(settings, ZOBS_S_SERVER));
    os_atomic_set_bool(&z->capturing, true);
    obs_output_begin_data_capture(z->output, 0);
    return true;
}

static void zego_output_stop(void *data, uint64_t ts)
{
    (void)ts;
    struct zego_output *z = data;
    if (os_atomic_set_bool(&z->capturing, false))
        obs_output_end_data_capture(z->output);
    release_session(z, true);
    join_fail_thread(z);
}

/* True when an Annex B access unit carries an SPS. */
static bool has_sps(const uint8_t *d, size_t size)
{
    for (size_t i = 0; i + 3 < size; i++)
        if (d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 1 && (d[i + 3] & 0x1f) == 7)
            return true;
    return false;
}

static void zego_output_encoded_packet(void *data, struct encoder_packet *packet)
{
    struct zego_output *z = data;
    if (!packet) {
        /* The encoder failed. */
        if (!os_atomic_set_bool(&z->failed, true)) {
            obs_output_set_last_error(z->output, obs_module_text("Error.Encoders"));
            if (os_atomic_set_bool(&z->capturing, false))
                obs_output_signal_stop(z->output, OBS_OUTPUT_ENCODE_ERROR);
        }
        return;
    }
    bool video = packet->type == OBS_ENCODER_VIDEO;
    zego_media_frame f = {
        .track = video ? ZOBS_VIDEO_TRACK : ZOBS_AUDIO_TRACK,
        .pts_us = zobs_ts_to_us(packet->pts, packet->timebase_num, packet->timebase_den),
        .dts_us = zobs_ts_to_us(packet->dts, packet->timebase_num, packet->timebase_den),
        .data = packet->data,
        .size = packet->size,
    };
    uint8_t *joined = NULL;
    if (video && packet->keyframe) {
        f.flags = ZEGO_FRAME_FLAG_KEY | ZEGO_FRAME_FLAG_CONFIG;
        /* Players start at a keyframe: it must carry SPS/PPS itself. */
        if (!has_sps(packet->data, packet->size) && z->video_header_size) {
            joined = bmalloc(z->video_header_size + packet->size);
            memcpy(joined, z->video_header, z->video_header_size);
            memcpy(joined + z->video_header_size, packet->data, packet->size);
            f.data = joined;
            f.size = z->video_header_size + packet->size;
        }
    } else if (!video) {
        f.flags = ZEGO_FRAME_FLAG_KEY;
    }
    pthread_mutex_lock(&z->lock);
    if (z->engine) {
        zego_error zerr;
        if (zego_engine_send_frame(z->engine, z->stream_id, &f, &zerr) == ZEGO_ERR_OK) {
            z->frames_given++;
        } else if (z->send_errors++ == 0) {
            zobs_log(LOG_WARNING, "frame not sent: %s", zerr.message);
        }
    }
    pthread_mutex_unlock(&z->lock);
    bfree(joined);
}

static bool current_stats(struct zego_output *z, zego_publish_stats *st)
{
    bool ok = false;
    pthread_mutex_lock(&z->lock);
    if (z->engine)
        ok = zego_engine_get_publish_stats(z->engine, z->stream_id, st, NULL) == ZEGO_ERR_OK;
    pthread_mutex_unlock(&z->lock);
    return ok;
}

static uint64_t zego_output_total_bytes(void *data)
{
    struct zego_output *z = data;
    zego_publish_stats st;
    return current_stats(z, &st) ? st.bytes_sent : z->bytes_sent_last;
}

static int zego_output_dropped_frames(void *data)
{
    struct zego_output *z = data;
    zego_publish_stats st;
    return (int)(current_stats(z, &st) ? st.frames_dropped : z->frames_dropped_last);
}

/* How full the engine's send queue is (0..1): what OBS shows as congestion. */
static float zego_output_congestion(void *data)
{
    struct zego_output *z = data;
    zego_publish_stats st;
    if (!current_stats(z, &st))
        return 0.0f;
    const double bound = 8.0 * 1024 * 1024; /* the engine's default send_queue_max_bytes */
    double c = (double)st.queued_bytes / bound;
    return (float)(c > 1.0 ? 1.0 : c);
}

static int zego_output_connect_time(void *data)
{
    struct zego_output *z = data;
    return (int)os_atomic_load_long(&z->connect_time_ms);
}

struct obs_output_info zego_output_info = {
    .id = "zego_output",
    .flags = OBS_OUTPUT_AV | OBS_OUTPUT_ENCODED,
    .encoded_video_codecs = "h264",
    .encoded_audio_codecs = "opus;aac",
    .get_name = zego_output_get_name,
    .create = zego_output_create,
    .destroy = zego_output_destroy,
    .start = zego_output_start,
    .stop = zego_output_stop,
    .encoded_packet = zego_output_encoded_packet,
    .get_defaults = zego_output_defaults,
    .get_properties = zego_output_properties,
    .get_total_bytes = zego_output_total_bytes,
    .get_dropped_frames = zego_output_dropped_frames,
    .get_congestion = zego_output_congestion,
    .get_connect_time_ms = zego_output_connect_time,
};
