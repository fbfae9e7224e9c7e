/* zego_source in a real, headless libobs against the real server: zegosink
 * (gst-launch-1.0 with the plugin from the build tree) publishes a solid
 * colour and a tone, and the frames OBS renders with the source on its
 * output have that colour while its audio mix carries the tone, in every
 * codec a room carries (H.264, H.265, VP8, VP9, AV1; Opus, AAC); a
 * picture change and a beep captured together reach OBS with one timestamp;
 * the source's properties list the room's streams. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <obs.h>
#include <util/platform.h>
#include <util/threading.h>

#include "harness.h"
#include "obs-harness.h"
#include "server-proc.h"

#define APP  1234567u
#define ROOM "obs-source-room"

static zt_server srv;
static bool server_up;

/* ---- A zegosink publisher in its own gst-launch-1.0 ---- */

/* gst-launch-1.0's environment: the sanitizer runtime for a sanitized plugin. */
static void child_env(void)
{
    const char *preload = getenv("ZEGO_GST_PRELOAD");
    if (preload && *preload) {
        setenv("LD_PRELOAD", preload, 1);
        setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
    }
}

/* Builds the test's GStreamer registry once, before any publisher has to
 * start quickly (a scan in a sanitized process takes long).  At most 240 s. */
static bool gst_registry_ready(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        child_env();
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execlp("gst-inspect-1.0", "gst-inspect-1.0", "zegosink", NULL);
        _exit(127);
    }
    int status = -1;
    for (int i = 0; i < 2400; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) && WEXITSTATUS(status) == 0;
        usleep(100000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return false;
}

/* Runs gst-launch-1.0 with zegosink publishing stream_id as user_id; sink_args
 * (more zegosink properties), video and audio (the branches into zego.video
 * and zego.audio) are split at spaces. */
static pid_t spawn_publisher(const char *stream_id, const char *user_id, const char *sink_args,
                             const char *video, const char *audio)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "gst-launch-1.0 -e zegosink name=zego server=%s app-id=%u room-id=" ROOM
             " stream-id=%s user-id=%s user-name=gst %s %s ! zego.video %s ! zego.audio",
             srv.url, APP, stream_id, user_id, sink_args, video, audio);
    char *argv[64];
    size_t argc = 0;
    for (char *tok = strtok(cmd, " "); tok && argc < 63; tok = strtok(NULL, " "))
        argv[argc++] = tok;
    argv[argc] = NULL;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* A test that dies (a sanitizer abort, a crash) takes its publishers along. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    child_env();
    /* In the test's working directory (the build tree). */
    char log_path[256];
    snprintf(log_path, sizeof log_path, "obs-source-publisher-%s.log", stream_id);
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
    }
    execvp(argv[0], argv);
    _exit(127);
}

#define GREEN_VIDEO(w, h)                                                          \
    "videotestsrc is-live=true pattern=solid-color foreground-color=0xff00ff00 ! " \
    "video/x-raw,width=" #w ",height=" #h ",framerate=30/1"
#define TONE_AUDIO "audiotestsrc is-live=true wave=sine freq=440 volume=0.5"

/* A solid green picture and a 440 Hz tone, H.264 and Opus. */
static pid_t start_publisher(const char *stream_id, const char *user_id)
{
    return spawn_publisher(stream_id, user_id, "", GREEN_VIDEO(320, 240), TONE_AUDIO);
}

static void stop_publisher(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGINT);
    for (int i = 0; i < 100; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        usleep(50000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* ---- What OBS renders and mixes ---- */

typedef struct rendered {
    volatile long frames;
    volatile long r, g, b; /* a pixel of the last frame (see on_raw_video) */
    volatile long audio_peak_milli;
    volatile long audio_blocks;
} rendered;

static long clamp255(double v)
{
    return v < 0 ? 0 : v > 255 ? 255 : (long)v;
}

/* NV12, BT.709 limited range (the harness's video settings).  An output
 * source is drawn at its own size from the top left corner: the pixel is
 * inside pictures down to half the output's size. */
static void on_raw_video(void *param, struct video_data *frame)
{
    rendered *r = param;
    int x = ZT_OBS_WIDTH / 4, y = ZT_OBS_HEIGHT / 4;
    double Y = frame->data[0][y * frame->linesize[0] + x];
    const uint8_t *uv = frame->data[1] + (y / 2) * frame->linesize[1] + (x / 2) * 2;
    double U = uv[0] - 128.0, V = uv[1] - 128.0;
    double c = 1.164 * (Y - 16);
    os_atomic_set_long(&r->r, clamp255(c + 1.793 * V));
    os_atomic_set_long(&r->g, clamp255(c - 0.213 * U - 0.533 * V));
    os_atomic_set_long(&r->b, clamp255(c + 2.112 * U));
    os_atomic_inc_long(&r->frames);
}

static void on_raw_audio(void *param, size_t mix_idx, struct audio_data *data)
{
    (void)mix_idx;
    rendered *r = param;
    const float *s = (const float *)data->data[0];
    float peak = 0;
    for (uint32_t i = 0; s && i < data->frames; i++)
        peak = fmaxf(peak, fabsf(s[i]));
    long milli = (long)(peak * 1000);
    if (milli > os_atomic_load_long(&r->audio_peak_milli))
        os_atomic_set_long(&r->audio_peak_milli, milli);
    os_atomic_inc_long(&r->audio_blocks);
}

static bool is_green(void *arg)
{
    rendered *r = arg;
    return os_atomic_load_long(&r->g) > 180 && os_atomic_load_long(&r->r) < 80 &&
           os_atomic_load_long(&r->b) < 80 && os_atomic_load_long(&r->audio_peak_milli) > 100;
}

static obs_source_t *make_source(const char *stream_id)
{
    obs_data_t *s = obs_data_create();
    obs_data_set_string(s, "server", srv.url);
    obs_data_set_int(s, "app_id", APP);
    obs_data_set_string(s, "room_id", ROOM);
    obs_data_set_string(s, "user_id", "obs-viewer");
    obs_data_set_string(s, "stream_id", stream_id);
    obs_source_t *src = obs_source_create("zego_source", "room stream", s, NULL);
    obs_data_release(s);
    return src;
}

static bool list_contains(obs_source_t *src, const char *stream_id)
{
    obs_properties_t *props = obs_source_properties(src);
    obs_property_t *p = obs_properties_get(props, "stream_id");
    bool found = false;
    for (size_t i = 0; p && i < obs_property_list_item_count(p); i++)
        if (strcmp(obs_property_list_item_string(p, i), stream_id) == 0)
            found = true;
    obs_properties_destroy(props);
    return found;
}

typedef struct list_wait {
    obs_source_t *src;
    const char *stream_id;
} list_wait;

static bool stream_listed(void *arg)
{
    list_wait *w = arg;
    return list_contains(w->src, w->stream_id);
}

/* ---- Tests ---- */

static void source_shows_the_colour_and_plays_the_tone_of_a_room_stream(void)
{
    if (!server_up)
        return (void)SKIP("no server");
    pid_t pub = start_publisher("gst-green", "gst-user");
    rendered r = {0};
    obs_add_raw_video_callback(NULL, on_raw_video, &r);
    obs_add_raw_audio_callback(0, NULL, on_raw_audio, &r);

    obs_source_t *src = make_source(""); /* the first stream in the room */
    obs_set_output_source(0, src);
    bool green = zt_obs_wait(is_green, &r, 20000);
    printf("#   %ld frames rendered, pixel rgb(%ld,%ld,%ld), audio peak %.3f over %ld blocks\n",
           r.frames, r.r, r.g, r.b, r.audio_peak_milli / 1000.0, r.audio_blocks);
    CHECK(green);

    list_wait w = {src, "gst-green"};
    CHECK(zt_obs_wait(stream_listed, &w, 5000));

    obs_set_output_source(0, NULL);
    obs_remove_raw_video_callback(on_raw_video, &r);
    obs_remove_raw_audio_callback(0, on_raw_audio, &r);
    obs_source_release(src);
    stop_publisher(pub);
}

/* ---- Every codec a room carries ---- */

/* A publisher of a green picture and a tone in the given codecs; the source
 * shows the green and plays the tone, and logs which decoders it opened
 * (codec strings: "hev1...", "vp8", "vp09...", "av01...", "opus",
 * "mp4a.40..."). */
static void check_codecs(const char *stream_id, const char *sink_args, const char *video,
                         const char *video_codec, const char *audio_codec)
{
    if (!server_up)
        return (void)SKIP("no server");
    zt_obs_log_clear();
    pid_t pub = spawn_publisher(stream_id, stream_id, sink_args, video, TONE_AUDIO);
    rendered r = {0};
    obs_add_raw_video_callback(NULL, on_raw_video, &r);
    obs_add_raw_audio_callback(0, NULL, on_raw_audio, &r);
    obs_source_t *src = make_source(stream_id);
    obs_set_output_source(0, src);
    uint64_t start = os_gettime_ns();
    bool green = zt_obs_wait(is_green, &r, 30000);
    printf("#   %s: after %.1f s, %ld frames rendered, pixel rgb(%ld,%ld,%ld), audio peak %.3f\n",
           stream_id, (double)(os_gettime_ns() - start) / 1e9, r.frames, r.r, r.g, r.b,
           r.audio_peak_milli / 1000.0);
    CHECK(green);
    char line[64];
    snprintf(line, sizeof line, "decoding %s", video_codec);
    CHECK(zt_obs_log_contains(line));
    snprintf(line, sizeof line, "decoding %s", audio_codec);
    CHECK(zt_obs_log_contains(line));
    obs_set_output_source(0, NULL);
    obs_remove_raw_video_callback(on_raw_video, &r);
    obs_remove_raw_audio_callback(0, on_raw_audio, &r);
    obs_source_release(src);
    stop_publisher(pub);
}

static void source_decodes_h265_video(void)
{
    check_codecs("gst-h265", "video-codec=h265", GREEN_VIDEO(320, 240), "hev1", "opus");
}

static void source_decodes_vp8_video(void)
{
    check_codecs("gst-vp8", "video-codec=vp8", GREEN_VIDEO(320, 240), "vp8", "opus");
}

static void source_decodes_vp9_video(void)
{
    check_codecs("gst-vp9", "video-codec=vp9", GREEN_VIDEO(320, 240), "vp09", "opus");
}

/* av1enc is slow, even in real-time mode: a small picture. */
static void source_decodes_av1_video(void)
{
    check_codecs("gst-av1", "video-codec=av1", GREEN_VIDEO(160, 120), "av01", "opus");
}

static void source_decodes_aac_audio(void)
{
    check_codecs("gst-aac", "audio-codec=aac", GREEN_VIDEO(320, 240), "avc1", "mp4a.40");
}

/* ---- Audio and video on one clock ---- */

/* A filter of the test's own on the source sees the video frames OBS shows
 * and every audio block the source gives it (obs_source_output_video /
 * _audio), with the source's timestamps: the picture turning black and a
 * beep that the publisher captured at the same instant must get the same
 * timestamp, within 40 ms.  Content, not the time frames arrive, marks them,
 * so a loaded machine only delays the test. */
#define MAX_ONSETS 32

static struct av_probe {
    pthread_mutex_t lock;
    uint64_t video[MAX_ONSETS], audio[MAX_ONSETS]; /* onset timestamps, ns */
    size_t n_video, n_audio;
    bool have_frame, bright;
    uint64_t quiet; /* samples since the last loud one */
} probe = {.lock = PTHREAD_MUTEX_INITIALIZER};

static const char *probe_get_name(void *type_data)
{
    (void)type_data;
    return "A/V probe";
}

static void *probe_create(obs_data_t *settings, obs_source_t *source)
{
    (void)settings;
    return source;
}

static void probe_destroy(void *data)
{
    (void)data;
}

/* A bright to dark change of the picture's centre. */
static struct obs_source_frame *probe_video(void *data, struct obs_source_frame *frame)
{
    (void)data;
    if (frame->format != VIDEO_FORMAT_I420 && frame->format != VIDEO_FORMAT_NV12)
        return frame;
    uint8_t y = frame->data[0][(frame->height / 2) * frame->linesize[0] + frame->width / 2];
    pthread_mutex_lock(&probe.lock);
    bool bright = y > 128;
    if (probe.have_frame && !bright && probe.bright && probe.n_video < MAX_ONSETS)
        probe.video[probe.n_video++] = frame->timestamp;
    probe.have_frame = true;
    probe.bright = bright;
    pthread_mutex_unlock(&probe.lock);
    return frame;
}

/* The first loud sample after half a second of quiet (float, OBS's rate). */
static struct obs_audio_data *probe_audio(void *data, struct obs_audio_data *audio)
{
    (void)data;
    struct obs_audio_info oai;
    const float *s = (const float *)audio->data[0];
    if (!s || !obs_get_audio_info(&oai))
        return audio;
    pthread_mutex_lock(&probe.lock);
    for (uint32_t i = 0; i < audio->frames; i++) {
        if (fabsf(s[i]) < 0.1f) {
            probe.quiet++;
            continue;
        }
        if (probe.quiet >= oai.samples_per_sec / 2 && probe.n_audio < MAX_ONSETS)
            probe.audio[probe.n_audio++] =
                audio->timestamp + (uint64_t)i * 1000000000ull / oai.samples_per_sec;
        probe.quiet = 0;
    }
    pthread_mutex_unlock(&probe.lock);
    return audio;
}

static struct obs_source_info probe_info = {
    .id = "zego_test_av_probe",
    .type = OBS_SOURCE_TYPE_FILTER,
    .output_flags = OBS_SOURCE_ASYNC_VIDEO | OBS_SOURCE_AUDIO,
    .get_name = probe_get_name,
    .create = probe_create,
    .destroy = probe_destroy,
    .filter_video = probe_video,
    .filter_audio = probe_audio,
};

static bool enough_onsets(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&probe.lock);
    bool enough = probe.n_video >= 3 && probe.n_audio >= 3;
    pthread_mutex_unlock(&probe.lock);
    return enough;
}

static int64_t nearest(const uint64_t *ts, size_t n, uint64_t t)
{
    int64_t best = INT64_MAX;
    for (size_t i = 0; i < n; i++) {
        int64_t d = (int64_t)(t - ts[i]);
        if (llabs(d) < llabs(best))
            best = d;
    }
    return best;
}

/* How far a duration is from a multiple of 2 s (an onset may be missed). */
static uint64_t off_2s(uint64_t ns)
{
    uint64_t r = ns % 2000000000;
    return r < 1000000000 ? r : 2000000000 - r;
}

/* The publisher's picture turns black on every even second of its running
 * time (blink at 1 frame/s: white on odd seconds, black on even ones) and it
 * beeps (a 1 kHz tick every 2 s) at the same capture times.  Its sources are
 * not live but paced by identity sync=true, so both tracks' timestamps start
 * at exactly 0 (live sources stamp their first buffer with the moment each
 * started); audiotestsrc starts a tick one buffer early, hence buffers of
 * 1 ms: the beep is captured 1 ms before the picture changes. */
static void source_gives_obs_audio_and_video_on_one_clock(void)
{
    if (!server_up)
        return (void)SKIP("no server");
    pthread_mutex_lock(&probe.lock);
    probe.n_video = probe.n_audio = 0;
    probe.have_frame = false;
    probe.quiet = 0;
    pthread_mutex_unlock(&probe.lock);
    pid_t pub = spawn_publisher(
        "gst-sync", "gst-user-sync", "",
        "videotestsrc pattern=blink ! video/x-raw,width=160,height=120,framerate=1/1 ! "
        "identity sync=true",
        "audiotestsrc samplesperbuffer=48 wave=ticks freq=1000 sine-periods-per-tick=40 "
        "tick-interval=2000000000 volume=0.8 ! audio/x-raw,rate=48000 ! identity sync=true");
    obs_source_t *src = make_source("gst-sync");
    obs_source_t *filter = obs_source_create_private("zego_test_av_probe", "A/V probe", NULL);
    obs_source_filter_add(src, filter);
    obs_set_output_source(0, src);
    CHECK(zt_obs_wait(enough_onsets, NULL, 30000));

    pthread_mutex_lock(&probe.lock);
    size_t pairs = 0, off = 0;
    for (size_t i = 0; i < probe.n_video; i++) {
        int64_t d = nearest(probe.audio, probe.n_audio, probe.video[i]);
        printf("#   black at %.3f s: nearest beep %+.1f ms\n", probe.video[i] / 1e9, d / 1e6);
        if (llabs(d) > 1000000000)
            continue; /* before the first or after the last beep seen */
        pairs++;
        if (llabs(d) > 40000000)
            off++;
    }
    /* The publisher's 2 s between onsets, not when frames arrived. */
    for (size_t i = 1; i < probe.n_video; i++)
        CHECK(off_2s(probe.video[i] - probe.video[i - 1]) < 1000000);
    for (size_t i = 1; i < probe.n_audio; i++)
        CHECK(off_2s(probe.audio[i] - probe.audio[i - 1]) < 5000000);
    pthread_mutex_unlock(&probe.lock);
    CHECK(pairs >= 3);
    CHECK(off == 0);

    obs_set_output_source(0, NULL);
    obs_source_filter_remove(src, filter);
    obs_source_release(filter);
    obs_source_release(src);
    stop_publisher(pub);
}

static bool not_listed(void *arg)
{
    list_wait *w = arg;
    return !list_contains(w->src, w->stream_id);
}

static void source_stream_list_follows_the_room(void)
{
    if (!server_up)
        return (void)SKIP("no server");
    obs_source_t *src = make_source("not-yet-there");
    obs_set_output_source(0, src);
    pid_t pub = start_publisher("gst-second", "gst-user-2");
    list_wait w = {src, "gst-second"};
    CHECK(zt_obs_wait(stream_listed, &w, 10000));
    stop_publisher(pub);
    CHECK(zt_obs_wait(not_listed, &w, 10000));
    obs_set_output_source(0, NULL);
    obs_source_release(src);
}

typedef struct metric_wait {
    const char *name;
    double want;
} metric_wait;

static bool metric_is(void *arg)
{
    metric_wait *w = arg;
    return zt_metric(srv.port, w->name) == w->want;
}

static void source_stops_receiving_when_hidden_unless_kept_active(void)
{
    if (!server_up)
        return (void)SKIP("no server");
    pid_t pub = start_publisher("gst-hide", "gst-user-hide");
    obs_source_t *src = make_source("gst-hide");
    obs_set_output_source(0, src);
    metric_wait players = {"zego_players", 1};
    CHECK(zt_obs_wait(metric_is, &players, 15000));
    obs_set_output_source(0, NULL); /* shown nowhere */
    players.want = 0;
    CHECK(zt_obs_wait(metric_is, &players, 10000));

    obs_data_t *s = obs_data_create();
    obs_data_set_bool(s, "keep_active", true);
    obs_source_update(src, s);
    obs_data_release(s);
    players.want = 1;
    CHECK(zt_obs_wait(metric_is, &players, 10000));

    obs_source_release(src);
    players.want = 0;
    CHECK(zt_obs_wait(metric_is, &players, 10000));
    stop_publisher(pub);
}

static bool is_black(void *arg)
{
    rendered *r = arg;
    return os_atomic_load_long(&r->g) < 40 && os_atomic_load_long(&r->r) < 40 &&
           os_atomic_load_long(&r->b) < 40;
}

static void source_clears_when_the_stream_ends_and_resumes_when_it_returns(void)
{
    if (!server_up)
        return (void)SKIP("no server");
    rendered r = {0};
    pid_t pub = start_publisher("gst-return", "gst-user-return");
    obs_add_raw_video_callback(NULL, on_raw_video, &r);
    obs_add_raw_audio_callback(0, NULL, on_raw_audio, &r);
    obs_source_t *src = make_source("gst-return");
    obs_set_output_source(0, src);
    CHECK(zt_obs_wait(is_green, &r, 20000));
    stop_publisher(pub);
    CHECK(zt_obs_wait(is_black, &r, 10000)); /* transparent over OBS's black */
    os_atomic_set_long(&r.audio_peak_milli, 0);
    pub = start_publisher("gst-return", "gst-user-return");
    CHECK(zt_obs_wait(is_green, &r, 20000));
    obs_set_output_source(0, NULL);
    obs_remove_raw_video_callback(on_raw_video, &r);
    obs_remove_raw_audio_callback(0, on_raw_audio, &r);
    obs_source_release(src);
    stop_publisher(pub);
}

static bool count_tagged(obs_scene_t *scene, obs_sceneitem_t *item, void *param)
{
    (void)scene;
    obs_data_t *priv = obs_sceneitem_get_private_settings(item);
    if (*obs_data_get_string(priv, "zego_binding_stream"))
        (*(int *)param)++;
    obs_data_release(priv);
    return true;
}

typedef struct scene_wait {
    obs_scene_t *scene;
    int want;
} scene_wait;

static bool has_items(void *arg)
{
    scene_wait *w = arg;
    int n = 0;
    obs_scene_enum_items(w->scene, count_tagged, &n);
    return n == w->want;
}

static void bound_scene_gets_an_item_per_room_stream(void)
{
    if (!server_up)
        return (void)SKIP("no server");
    obs_scene_t *scene = obs_scene_create("bound scene");
    char json[512];
    snprintf(json, sizeof json,
             "{\"server\": \"%s\", \"app_id\": %u, \"room_id\": \"" ROOM
             "\", \"user_id\": \"obs-binder\"}",
             srv.url, APP);
    calldata_t cd = {0};
    calldata_set_string(&cd, "scene", "bound scene");
    calldata_set_string(&cd, "settings", json);
    CHECK(proc_handler_call(obs_get_proc_handler(), "zego_bind_scene", &cd));
    CHECK(calldata_bool(&cd, "ok"));
    calldata_free(&cd);

    scene_wait w = {scene, 1};
    pid_t a = start_publisher("gst-a", "gst-user-a");
    CHECK(zt_obs_wait(has_items, &w, 15000));
    pid_t b = start_publisher("gst-b", "gst-user-b");
    w.want = 2;
    CHECK(zt_obs_wait(has_items, &w, 15000));
    stop_publisher(b);
    w.want = 1;
    CHECK(zt_obs_wait(has_items, &w, 15000));
    stop_publisher(a);
    w.want = 0;
    CHECK(zt_obs_wait(has_items, &w, 15000));

    calldata_init(&cd);
    calldata_set_string(&cd, "scene", "bound scene");
    CHECK(proc_handler_call(obs_get_proc_handler(), "zego_unbind_scene", &cd));
    calldata_free(&cd);
    zt_obs_pump(200);
    obs_scene_release(scene);
}

/* ---- A scene collection loaded with a bound scene ---- */

typedef struct tagged_items {
    const char *streams[8]; /* the tags found */
    obs_sceneitem_t *items[8];
    size_t n, untagged;
} tagged_items;

static bool list_items(obs_scene_t *scene, obs_sceneitem_t *item, void *param)
{
    (void)scene;
    tagged_items *t = param;
    obs_data_t *priv = obs_sceneitem_get_private_settings(item);
    const char *stream = obs_data_get_string(priv, "zego_binding_stream");
    if (!*stream) {
        t->untagged++;
    } else if (t->n < 8) {
        /* The tag's string lives as long as the item's private settings. */
        t->streams[t->n] = stream;
        t->items[t->n++] = item;
    }
    obs_data_release(priv);
    return true;
}

static obs_sceneitem_t *tagged_item(obs_scene_t *scene, const char *stream_id)
{
    tagged_items t = {0};
    obs_scene_enum_items(scene, list_items, &t);
    for (size_t i = 0; i < t.n; i++)
        if (strcmp(t.streams[i], stream_id) == 0)
            return t.items[i];
    return NULL;
}

typedef struct reconciled_wait {
    obs_scene_t *scene;
    const char *present[2], *absent;
} reconciled_wait;

static bool reconciled(void *arg)
{
    reconciled_wait *w = arg;
    tagged_items t = {0};
    obs_scene_enum_items(w->scene, list_items, &t);
    if (t.n != 2 || t.untagged != 1 || tagged_item(w->scene, w->absent))
        return false;
    return tagged_item(w->scene, w->present[0]) && tagged_item(w->scene, w->present[1]);
}

static obs_sceneitem_t *add_tagged(obs_scene_t *scene, const char *name, const char *stream_id)
{
    obs_data_t *s = obs_data_create();
    obs_data_set_string(s, "server", srv.url);
    obs_data_set_int(s, "app_id", APP);
    obs_data_set_string(s, "room_id", ROOM);
    obs_data_set_string(s, "user_id", "obs-binder");
    obs_data_set_string(s, "stream_id", stream_id);
    obs_source_t *src = obs_source_create("zego_source", name, s, NULL);
    obs_data_release(s);
    obs_sceneitem_t *item = obs_scene_add(scene, src);
    obs_source_release(src);
    obs_data_t *priv = obs_sceneitem_get_private_settings(item);
    obs_data_set_string(priv, "zego_binding_stream", stream_id);
    obs_data_release(priv);
    return item;
}

/* What a loaded scene collection holds: a scene with the binding stored in
 * its private settings, items the binding had added for the streams of the
 * time (tagged), and an item of the user's.  Reconciling with the room as it
 * is now removes the item of a stream that went, keeps the one of a stream
 * still there, adds one for a new stream, leaves the user's alone, and the
 * binding goes on following the room. */
static void loaded_bound_scene_is_reconciled_with_the_room(void)
{
    if (!server_up)
        return (void)SKIP("no server");
    pid_t kept = start_publisher("gst-kept", "gst-user-kept");
    pid_t added = start_publisher("gst-new", "gst-user-new");

    obs_scene_t *scene = obs_scene_create("reloaded scene");
    obs_data_t *room = obs_data_create();
    obs_data_set_string(room, "server", srv.url);
    obs_data_set_int(room, "app_id", APP);
    obs_data_set_string(room, "room_id", ROOM);
    obs_data_set_string(room, "user_id", "obs-binder");
    obs_data_t *priv = obs_source_get_private_settings(obs_scene_get_source(scene));
    obs_data_set_obj(priv, "zego_binding", room);
    obs_data_release(priv);
    obs_data_release(room);
    obs_scene_t *users = obs_scene_create("user's nested scene");
    obs_scene_add(scene, obs_scene_get_source(users));
    add_tagged(scene, "stale room stream", "gst-gone");
    obs_sceneitem_t *kept_item = add_tagged(scene, "kept room stream", "gst-kept");

    /* Both publishers are in the room before the reconcile runs. */
    obs_source_t *watcher = make_source("gst-new");
    list_wait lw = {watcher, "gst-kept"};
    CHECK(zt_obs_wait(stream_listed, &lw, 15000));
    lw.stream_id = "gst-new";
    CHECK(zt_obs_wait(stream_listed, &lw, 15000));
    obs_source_release(watcher);

    calldata_t cd = {0};
    CHECK(proc_handler_call(obs_get_proc_handler(), "zego_restore_bindings", &cd));
    calldata_free(&cd);
    reconciled_wait w = {scene, {"gst-kept", "gst-new"}, "gst-gone"};
    bool ok = zt_obs_wait(reconciled, &w, 15000);
    CHECK(ok);
    if (!ok) {
        tagged_items t = {0};
        obs_scene_enum_items(scene, list_items, &t);
        for (size_t i = 0; i < t.n; i++)
            printf("#   tagged item for '%s'\n", t.streams[i]);
        printf("#   %zu untagged items\n", t.untagged);
    }
    CHECK(tagged_item(scene, "gst-kept") == kept_item);

    /* Bound again: a stream that goes takes its item along. */
    stop_publisher(added);
    scene_wait gone = {scene, 1};
    CHECK(zt_obs_wait(has_items, &gone, 15000));

    cd = (calldata_t){0};
    calldata_set_string(&cd, "scene", "reloaded scene");
    CHECK(proc_handler_call(obs_get_proc_handler(), "zego_unbind_scene", &cd));
    calldata_free(&cd);
    zt_obs_pump(200);
    stop_publisher(kept);
    obs_scene_release(users);
    obs_scene_release(scene);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!zt_obs_start()) {
        printf("1..0 # SKIP libobs did not start\n");
        return 0;
    }
    if (!zt_obs_load_module("obs-zego")) {
        printf("Bail out! modules did not load\n");
        return 1;
    }
    if (!gst_registry_ready()) {
        printf("Bail out! gst-inspect-1.0 zegosink failed: the GStreamer plugin is not found\n");
        return 1;
    }
    server_up = zt_server_start(&srv, 0, NULL) == 0;
    obs_register_source(&probe_info);

    RUN(source_shows_the_colour_and_plays_the_tone_of_a_room_stream);
    RUN(source_decodes_h265_video);
    RUN(source_decodes_vp8_video);
    RUN(source_decodes_vp9_video);
    RUN(source_decodes_av1_video);
    RUN(source_decodes_aac_audio);
    RUN(source_gives_obs_audio_and_video_on_one_clock);
    RUN(source_stream_list_follows_the_room);
    RUN(bound_scene_gets_an_item_per_room_stream);
    RUN(loaded_bound_scene_is_reconciled_with_the_room);
    RUN(source_stops_receiving_when_hidden_unless_kept_active);
    RUN(source_clears_when_the_stream_ends_and_resumes_when_it_returns);

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
