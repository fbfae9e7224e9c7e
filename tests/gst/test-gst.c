/* zegosink and zegosrc against the real zego-room-server: raw and encoded
 * media published and played back with the expected caps, pads that come and
 * go with their publishers, the stream-id filter, the URI handler and the
 * errors a user meets (unreachable server, bad token, stream id taken,
 * invalid ids).  Each test starts its own server on a free port; media is
 * tiny and deadlines are generous.  Speaks TAP. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <unistd.h>

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <zego/zego.h>

#include "harness.h"
#include "server-proc.h"

#define APP     1234567u
#define SECRET  "0123456789abcdef0123456789abcdef"
#define TIMEOUT 15000

static zt_server srv;

static gint64 now_ms(void)
{
    return g_get_monotonic_time() / 1000;
}

static bool start_server(const char *const *args)
{
    if (zt_server_start(&srv, 0, args)) {
        printf("#   the server did not start\n");
        return false;
    }
    return true;
}

static void stop_server(void)
{
    zt_server_stop(&srv, SIGTERM);
}

/* ---- What a played pad saw ---- */

#define MAX_PADS 32

typedef struct pad_record {
    char name[64];
    char stream_id[256];
    char user_id[64];
    char caps[1024];
    char stream_start_id[512];
    gint buffers;
    gint decode_only;
    gint first_is_delta; /* -1 before the first buffer */
    gint eos;
    gint removed;
    GstPad *pad;
} pad_record;

typedef struct play_state {
    GMutex lock;
    pad_record pads[MAX_PADS];
    int n_pads;
    GstElement *pipeline;
} play_state;

static GstPadProbeReturn count_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
    (void)pad;
    pad_record *r = user_data;
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
        GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
        if (g_atomic_int_get(&r->buffers) == 0)
            g_atomic_int_set(&r->first_is_delta,
                             GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT) ? 1 : 0);
        if (GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DECODE_ONLY))
            g_atomic_int_inc(&r->decode_only);
        g_atomic_int_inc(&r->buffers);
    } else if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
        GstEvent *ev = GST_PAD_PROBE_INFO_EVENT(info);
        if (GST_EVENT_TYPE(ev) == GST_EVENT_EOS) {
            g_atomic_int_set(&r->eos, 1);
        } else if (GST_EVENT_TYPE(ev) == GST_EVENT_CAPS) {
            GstCaps *caps;
            gst_event_parse_caps(ev, &caps);
            gchar *s = gst_caps_to_string(caps);
            g_strlcpy(r->caps, s, sizeof r->caps);
            g_free(s);
        } else if (GST_EVENT_TYPE(ev) == GST_EVENT_STREAM_START) {
            const gchar *id;
            gst_event_parse_stream_start(ev, &id);
            g_strlcpy(r->stream_start_id, id ? id : "", sizeof r->stream_start_id);
        }
    }
    return GST_PAD_PROBE_OK;
}

static void on_pad_added(GstElement *element, GstPad *pad, gpointer user_data)
{
    (void)element;
    play_state *ps = user_data;
    g_mutex_lock(&ps->lock);
    if (ps->n_pads >= MAX_PADS) {
        g_mutex_unlock(&ps->lock);
        return;
    }
    pad_record *r = &ps->pads[ps->n_pads++];
    g_strlcpy(r->name, GST_PAD_NAME(pad), sizeof r->name);
    gchar *sid = NULL, *uid = NULL;
    g_object_get(pad, "stream-id", &sid, "user-id", &uid, NULL);
    g_strlcpy(r->stream_id, sid ? sid : "", sizeof r->stream_id);
    g_strlcpy(r->user_id, uid ? uid : "", sizeof r->user_id);
    g_free(sid);
    g_free(uid);
    r->pad = pad;
    g_mutex_unlock(&ps->lock);

    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                      count_probe, r, NULL);
    /* Half of the pads stay unlinked: that must not be an error. */
    if (g_str_has_prefix(GST_PAD_NAME(pad), "video")) {
        GstElement *sink = gst_element_factory_make("fakesink", NULL);
        g_object_set(sink, "sync", FALSE, "async", FALSE, NULL);
        gst_bin_add(GST_BIN(ps->pipeline), sink);
        gst_element_sync_state_with_parent(sink);
        GstPad *sinkpad = gst_element_get_static_pad(sink, "sink");
        gst_pad_link(pad, sinkpad);
        gst_object_unref(sinkpad);
    }
}

static void on_pad_removed(GstElement *element, GstPad *pad, gpointer user_data)
{
    (void)element;
    play_state *ps = user_data;
    g_mutex_lock(&ps->lock);
    for (int i = 0; i < ps->n_pads; i++)
        if (ps->pads[i].pad == pad)
            g_atomic_int_set(&ps->pads[i].removed, 1);
    g_mutex_unlock(&ps->lock);
}

/* gst_parse_launch() returns a lone element as it is: put it in a pipeline. */
static GstElement *as_pipeline(GstElement *e)
{
    if (!e || GST_IS_PIPELINE(e))
        return e;
    GstElement *p = gst_pipeline_new(NULL);
    gst_bin_add(GST_BIN(p), e);
    return p;
}

static play_state *play_new(const char *desc)
{
    play_state *ps = g_new0(play_state, 1);
    g_mutex_init(&ps->lock);
    GError *error = NULL;
    ps->pipeline = as_pipeline(gst_parse_launch(desc, &error));
    if (!ps->pipeline) {
        printf("#   %s: %s\n", desc, error ? error->message : "?");
        g_clear_error(&error);
        g_free(ps);
        return NULL;
    }
    GstElement *src = gst_bin_get_by_name(GST_BIN(ps->pipeline), "src");
    g_signal_connect(src, "pad-added", G_CALLBACK(on_pad_added), ps);
    g_signal_connect(src, "pad-removed", G_CALLBACK(on_pad_removed), ps);
    gst_object_unref(src);
    return ps;
}

static void play_free(play_state *ps)
{
    if (!ps)
        return;
    gst_element_set_state(ps->pipeline, GST_STATE_NULL);
    gst_object_unref(ps->pipeline);
    g_mutex_clear(&ps->lock);
    g_free(ps);
}

/* The record of the first pad whose name starts with prefix and that plays
 * stream_id (NULL: any). */
static pad_record *find_pad(play_state *ps, const char *prefix, const char *stream_id)
{
    pad_record *found = NULL;
    g_mutex_lock(&ps->lock);
    for (int i = 0; i < ps->n_pads && !found; i++)
        if (g_str_has_prefix(ps->pads[i].name, prefix) &&
            (!stream_id || strcmp(ps->pads[i].stream_id, stream_id) == 0))
            found = &ps->pads[i];
    g_mutex_unlock(&ps->lock);
    return found;
}

/* Prints and returns the first error or warning message of a bus (without
 * waiting). */
static void drain_bus(GstElement *pipeline, const char *who)
{
    GstBus *bus = gst_element_get_bus(pipeline);
    GstMessage *m;
    while ((m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR | GST_MESSAGE_WARNING))) {
        GError *err = NULL;
        gchar *dbg = NULL;
        if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR)
            gst_message_parse_error(m, &err, &dbg);
        else
            gst_message_parse_warning(m, &err, &dbg);
        printf("#   %s: %s from %s: %s (%s)\n", who,
               GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR ? "error" : "warning",
               GST_OBJECT_NAME(GST_MESSAGE_SRC(m)), err->message, dbg ? dbg : "");
        g_clear_error(&err);
        g_free(dbg);
        gst_message_unref(m);
    }
    gst_object_unref(bus);
}

/* Waits until *counter reaches n. */
static bool wait_count(gint *counter, int n, int timeout_ms)
{
    gint64 deadline = now_ms() + timeout_ms;
    while (g_atomic_int_get(counter) < n && now_ms() < deadline)
        g_usleep(10000);
    return g_atomic_int_get(counter) >= n;
}

static pad_record *wait_pad(play_state *ps, const char *prefix, const char *stream_id,
                            int timeout_ms)
{
    gint64 deadline = now_ms() + timeout_ms;
    pad_record *r;
    while (!(r = find_pad(ps, prefix, stream_id)) && now_ms() < deadline)
        g_usleep(10000);
    if (!r)
        printf("#   no pad %s* for stream %s within %d ms\n", prefix,
               stream_id ? stream_id : "(any)", timeout_ms);
    return r;
}

/* Waits for an error message; returns it (the caller unrefs) or NULL. */
static GstMessage *wait_error(GstElement *pipeline, int timeout_ms)
{
    GstBus *bus = gst_element_get_bus(pipeline);
    GstMessage *m =
        gst_bus_timed_pop_filtered(bus, (GstClockTime)timeout_ms * GST_MSECOND, GST_MESSAGE_ERROR);
    gst_object_unref(bus);
    return m;
}

/* Waits for an element message with that structure name and, when field is
 * set, that string value. */
static GstMessage *wait_element_message(GstElement *pipeline, const char *name, const char *field,
                                        const char *value, int timeout_ms)
{
    GstBus *bus = gst_element_get_bus(pipeline);
    gint64 deadline = now_ms() + timeout_ms;
    GstMessage *found = NULL;
    while (!found && now_ms() < deadline) {
        GstMessage *m = gst_bus_timed_pop_filtered(bus, 100 * GST_MSECOND, GST_MESSAGE_ELEMENT);
        if (!m)
            continue;
        const GstStructure *s = gst_message_get_structure(m);
        if (s && gst_structure_has_name(s, name) &&
            (!field || g_strcmp0(gst_structure_get_string(s, field), value) == 0))
            found = m;
        else
            gst_message_unref(m);
    }
    gst_object_unref(bus);
    if (!found)
        printf("#   no %s message within %d ms\n", name, timeout_ms);
    return found;
}

static GstElement *launch(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static GstElement *launch(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gchar *desc = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    GError *error = NULL;
    GstElement *p = as_pipeline(gst_parse_launch(desc, &error));
    if (!p)
        printf("#   %s: %s\n", desc, error ? error->message : "?");
    g_clear_error(&error);
    g_free(desc);
    return p;
}

static void stop_pipeline(GstElement *p)
{
    if (!p)
        return;
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(p);
}

#define VIDEO_RAW "videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=15/1"
#define AUDIO_RAW "audiotestsrc is-live=true wave=sine"

/* ---- Tests ---- */

static void raw_video_and_audio_are_encoded_published_and_played(void)
{
    if (!start_server(NULL))
        return;
    GstElement *pub = launch("zegosink name=z server=%s app-id=1 room-id=r1 stream-id=cam "
                             "user-id=alice " VIDEO_RAW " ! z.video " AUDIO_RAW " ! z.audio",
                             srv.url);
    gchar *desc =
        g_strdup_printf("zegosrc name=src server=%s app-id=1 room-id=r1 user-id=bob", srv.url);
    play_state *ps = play_new(desc);
    g_free(desc);
    CHECK(pub && ps);
    if (pub && ps) {
        CHECK_INT(gst_element_set_state(pub, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE, 1);
        CHECK_INT(
            gst_element_set_state(ps->pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE, 1);
        pad_record *v = wait_pad(ps, "video_", "cam", TIMEOUT);
        pad_record *a = wait_pad(ps, "audio_", "cam", TIMEOUT);
        CHECK(v && a);
        if (v && a) {
            CHECK(wait_count(&v->buffers, 20, TIMEOUT));
            CHECK(wait_count(&a->buffers, 20, TIMEOUT));
            CHECK_STR(v->user_id, "alice");
            CHECK_CONTAINS(v->caps, "video/x-h264");
            CHECK_CONTAINS(v->caps, "width=(int)160");
            CHECK_CONTAINS(v->caps, "height=(int)120");
            CHECK_CONTAINS(a->caps, "audio/x-opus");
            CHECK_CONTAINS(v->stream_start_id, "cam");
            /* The latency property is what a LATENCY query answers. */
            GstQuery *q = gst_query_new_latency();
            gboolean live = FALSE;
            GstClockTime min = 0;
            CHECK(gst_pad_query(v->pad, q));
            gst_query_parse_latency(q, &live, &min, NULL);
            CHECK(live);
            CHECK(min >= 200 * GST_MSECOND);
            gst_query_unref(q);
        }
        GstElement *z = gst_bin_get_by_name(GST_BIN(pub), "z");
        GstStructure *st = NULL;
        g_object_get(z, "stats", &st, NULL);
        gboolean publishing = FALSE;
        CHECK(st && gst_structure_get_boolean(st, "publishing", &publishing) && publishing);
        if (st)
            gst_structure_free(st);
        gst_object_unref(z);
        drain_bus(pub, "publisher");
        drain_bus(ps->pipeline, "player");
    }
    stop_pipeline(pub);
    play_free(ps);
    stop_server();
}

static void encoded_h264_and_aac_are_published_as_they_are(void)
{
    if (!start_server(NULL))
        return;
    GstElement *pub = launch(
        "zegosink name=z server=%s app-id=1 room-id=r2 stream-id=enc user-id=alice " VIDEO_RAW
        " ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! "
        "video/x-h264,profile=constrained-baseline ! z.video " AUDIO_RAW
        " ! audioconvert ! avenc_aac ! aacparse ! z.audio",
        srv.url);
    gchar *desc = g_strdup_printf(
        "zegosrc name=src server=%s app-id=1 room-id=r2 user-id=bob stream-id=enc", srv.url);
    play_state *ps = play_new(desc);
    g_free(desc);
    CHECK(pub && ps);
    if (pub && ps) {
        gst_element_set_state(pub, GST_STATE_PLAYING);
        gst_element_set_state(ps->pipeline, GST_STATE_PLAYING);
        pad_record *v = wait_pad(ps, "video_", "enc", TIMEOUT);
        pad_record *a = wait_pad(ps, "audio_", "enc", TIMEOUT);
        CHECK(v && a);
        if (v && a) {
            CHECK(wait_count(&v->buffers, 20, TIMEOUT));
            CHECK(wait_count(&a->buffers, 20, TIMEOUT));
            CHECK_CONTAINS(v->caps, "video/x-h264");
            CHECK_CONTAINS(v->caps, "constrained-baseline");
            CHECK_CONTAINS(a->caps, "audio/mpeg");
            CHECK_CONTAINS(a->caps, "mpegversion=(int)4");
            CHECK_CONTAINS(a->caps, "codec_data=(buffer)");
        }
        drain_bus(pub, "publisher");
        drain_bus(ps->pipeline, "player");
    }
    stop_pipeline(pub);
    play_free(ps);
    stop_server();
}

static void pads_come_and_go_with_their_publishers(void)
{
    if (!start_server(NULL))
        return;
    gchar *desc =
        g_strdup_printf("zegosrc name=src server=%s app-id=1 room-id=r3 user-id=bob", srv.url);
    play_state *ps = play_new(desc);
    g_free(desc);
    CHECK(ps);
    if (!ps) {
        stop_server();
        return;
    }
    gst_element_set_state(ps->pipeline, GST_STATE_PLAYING);
    GstElement *pub1 = launch("zegosink name=z server=%s app-id=1 room-id=r3 stream-id=one "
                              "user-id=alice " VIDEO_RAW " ! z.video",
                              srv.url);
    GstElement *pub2 = launch("zegosink name=z server=%s app-id=1 room-id=r3 stream-id=two "
                              "user-id=carol " AUDIO_RAW " ! z.audio",
                              srv.url);
    gst_element_set_state(pub1, GST_STATE_PLAYING);
    gst_element_set_state(pub2, GST_STATE_PLAYING);
    pad_record *v = wait_pad(ps, "video_", "one", TIMEOUT);
    pad_record *a = wait_pad(ps, "audio_", "two", TIMEOUT);
    CHECK(v && a);
    if (v && a) {
        CHECK(wait_count(&v->buffers, 5, TIMEOUT));
        CHECK(wait_count(&a->buffers, 5, TIMEOUT));
        CHECK_STR(a->user_id, "carol");
        /* The first publisher leaves: its pad ends and goes; the other stays. */
        stop_pipeline(pub1);
        pub1 = NULL;
        CHECK(wait_count(&v->eos, 1, TIMEOUT));
        CHECK(wait_count(&v->removed, 1, TIMEOUT));
        int before = g_atomic_int_get(&a->buffers);
        if (!wait_count(&a->buffers, before + 5, TIMEOUT)) {
            CHECK(!"the other stream's audio goes on");
            GstElement *src = gst_bin_get_by_name(GST_BIN(ps->pipeline), "src");
            GstStructure *st = NULL;
            g_object_get(src, "stats", &st, NULL);
            gchar *text = st ? gst_structure_to_string(st) : NULL;
            printf("#   stats: %s\n", text ? text : "?");
            zt_server_dump_log(&srv);
            g_free(text);
            if (st)
                gst_structure_free(st);
            gst_object_unref(src);
        }
        CHECK_INT(g_atomic_int_get(&a->removed), 0);
        /* It comes back: a new pad. */
        pub1 = launch("zegosink name=z server=%s app-id=1 room-id=r3 stream-id=one "
                      "user-id=alice " VIDEO_RAW " ! z.video",
                      srv.url);
        gst_element_set_state(pub1, GST_STATE_PLAYING);
        gint64 deadline = now_ms() + TIMEOUT;
        pad_record *v2 = NULL;
        while (!v2 && now_ms() < deadline) {
            g_mutex_lock(&ps->lock);
            for (int i = 0; i < ps->n_pads; i++)
                if (&ps->pads[i] != v && strcmp(ps->pads[i].stream_id, "one") == 0)
                    v2 = &ps->pads[i];
            g_mutex_unlock(&ps->lock);
            g_usleep(10000);
        }
        CHECK(v2 != NULL);
        if (v2)
            CHECK(wait_count(&v2->buffers, 5, TIMEOUT));
    }
    drain_bus(ps->pipeline, "player");
    stop_pipeline(pub1);
    stop_pipeline(pub2);
    play_free(ps);
    stop_server();
}

static void stream_id_selects_one_stream_and_waits_for_its_return(void)
{
    if (!start_server(NULL))
        return;
    GstElement *pub1 = launch("zegosink name=z server=%s app-id=1 room-id=r4 stream-id=s1 "
                              "user-id=alice " VIDEO_RAW " ! z.video",
                              srv.url);
    GstElement *pub2 = launch("zegosink name=z server=%s app-id=1 room-id=r4 stream-id=s2 "
                              "user-id=carol " VIDEO_RAW " ! z.video",
                              srv.url);
    gst_element_set_state(pub1, GST_STATE_PLAYING);
    gst_element_set_state(pub2, GST_STATE_PLAYING);
    gchar *desc = g_strdup_printf(
        "zegosrc name=src server=%s app-id=1 room-id=r4 user-id=bob stream-id=s2", srv.url);
    play_state *ps = play_new(desc);
    g_free(desc);
    gst_element_set_state(ps->pipeline, GST_STATE_PLAYING);
    pad_record *v = wait_pad(ps, "video_", "s2", TIMEOUT);
    CHECK(v != NULL);
    if (v) {
        CHECK(wait_count(&v->buffers, 10, TIMEOUT));
        CHECK(find_pad(ps, "video_", "s1") == NULL);
        /* The publisher restarts: the pad stays and the stream resumes. */
        stop_pipeline(pub2);
        g_usleep(500000);
        /* ... at another size: a new generation, new caps on the same pad. */
        pub2 = launch("zegosink name=z server=%s app-id=1 room-id=r4 stream-id=s2 "
                      "user-id=carol videotestsrc is-live=true ! "
                      "video/x-raw,width=176,height=144,framerate=15/1 ! z.video",
                      srv.url);
        int before = g_atomic_int_get(&v->buffers);
        gst_element_set_state(pub2, GST_STATE_PLAYING);
        CHECK(wait_count(&v->buffers, before + 10, TIMEOUT));
        g_mutex_lock(&ps->lock);
        CHECK_CONTAINS(v->caps, "width=(int)176");
        g_mutex_unlock(&ps->lock);
        CHECK_INT(g_atomic_int_get(&v->removed), 0);
        CHECK_INT(g_atomic_int_get(&v->eos), 0);
    }
    g_mutex_lock(&ps->lock);
    CHECK_INT(ps->n_pads, 1);
    g_mutex_unlock(&ps->lock);
    drain_bus(ps->pipeline, "player");
    stop_pipeline(pub1);
    stop_pipeline(pub2);
    play_free(ps);
    stop_server();
}

static void decode_true_gives_raw_media(void)
{
    if (!start_server(NULL))
        return;
    GstElement *pub = launch("zegosink name=z server=%s app-id=1 room-id=r5 stream-id=cam "
                             "user-id=alice " VIDEO_RAW " ! z.video " AUDIO_RAW " ! z.audio",
                             srv.url);
    gchar *desc = g_strdup_printf(
        "zegosrc name=src server=%s app-id=1 room-id=r5 user-id=bob decode=true", srv.url);
    play_state *ps = play_new(desc);
    g_free(desc);
    gst_element_set_state(pub, GST_STATE_PLAYING);
    gst_element_set_state(ps->pipeline, GST_STATE_PLAYING);
    pad_record *v = wait_pad(ps, "video_", "cam", TIMEOUT);
    pad_record *a = wait_pad(ps, "audio_", "cam", TIMEOUT);
    CHECK(v && a);
    if (v && a) {
        CHECK(wait_count(&v->buffers, 10, TIMEOUT));
        CHECK(wait_count(&a->buffers, 10, TIMEOUT));
        CHECK_CONTAINS(v->caps, "video/x-raw");
        CHECK_CONTAINS(v->caps, "width=(int)160");
        CHECK_CONTAINS(a->caps, "audio/x-raw");
    }
    drain_bus(ps->pipeline, "player");
    stop_pipeline(pub);
    play_free(ps);
    stop_server();
}

static void a_process_does_not_play_its_own_streams(void)
{
    if (!start_server(NULL))
        return;
    /* No user-id: both elements log in once as the process's user. */
    GstElement *pub = launch(
        "zegosink name=z server=%s app-id=1 room-id=r6 stream-id=mine " VIDEO_RAW " ! z.video",
        srv.url);
    gchar *desc = g_strdup_printf("zegosrc name=src server=%s app-id=1 room-id=r6", srv.url);
    play_state *ps = play_new(desc);
    g_free(desc);
    GstElement *other = launch("zegosink name=z server=%s app-id=1 room-id=r6 stream-id=theirs "
                               "user-id=dave " VIDEO_RAW " ! z.video",
                               srv.url);
    gst_element_set_state(pub, GST_STATE_PLAYING);
    gst_element_set_state(ps->pipeline, GST_STATE_PLAYING);
    gst_element_set_state(other, GST_STATE_PLAYING);
    pad_record *v = wait_pad(ps, "video_", "theirs", TIMEOUT);
    CHECK(v != NULL);
    if (v)
        CHECK(wait_count(&v->buffers, 5, TIMEOUT));
    CHECK(find_pad(ps, "video_", "mine") == NULL);
    GstElement *src = gst_bin_get_by_name(GST_BIN(ps->pipeline), "src");
    gchar *uid = NULL;
    g_object_get(src, "user-id", &uid, NULL);
    /* The library's one id per process (the plugin's copy of it). */
    CHECK(uid && g_str_has_prefix(uid, "zr-"));
    g_free(uid);
    gst_object_unref(src);
    stop_pipeline(other);
    stop_pipeline(pub);
    play_free(ps);
    stop_server();
}

static void bus_messages_report_the_room(void)
{
    if (!start_server(NULL))
        return;
    GstElement *pub = launch("zegosink name=z server=%s app-id=1 room-id=r7 stream-id=cam "
                             "user-id=alice extra-info=hello " VIDEO_RAW " ! z.video",
                             srv.url);
    gst_element_set_state(pub, GST_STATE_PLAYING);
    GstMessage *m = wait_element_message(pub, "zego-room-state", "state", "CONNECTED", TIMEOUT);
    CHECK(m != NULL);
    if (m)
        gst_message_unref(m);
    m = wait_element_message(pub, "zego-publisher-state", "state", "PUBLISHING", TIMEOUT);
    CHECK(m != NULL);
    if (m)
        gst_message_unref(m);

    gchar *desc = g_strdup_printf("zegosrc name=src server=%s app-id=1 room-id=r7 user-id=bob "
                                  "user-name=Bob",
                                  srv.url);
    play_state *ps = play_new(desc);
    g_free(desc);
    gst_element_set_state(ps->pipeline, GST_STATE_PLAYING);
    m = wait_element_message(ps->pipeline, "zego-stream-update", "stream-id", "cam", TIMEOUT);
    CHECK(m != NULL);
    if (m) {
        const GstStructure *s = gst_message_get_structure(m);
        CHECK_STR(gst_structure_get_string(s, "update-type"), "add");
        CHECK_STR(gst_structure_get_string(s, "user-id"), "alice");
        CHECK_STR(gst_structure_get_string(s, "extra-info"), "hello");
        gst_message_unref(m);
    }
    m = wait_element_message(ps->pipeline, "zego-player-state", "state", "PLAYING", TIMEOUT);
    CHECK(m != NULL);
    if (m)
        gst_message_unref(m);
    /* The publisher sees the new user. */
    m = wait_element_message(pub, "zego-user-update", "user-id", "bob", TIMEOUT);
    CHECK(m != NULL);
    if (m) {
        CHECK_STR(gst_structure_get_string(gst_message_get_structure(m), "user-name"), "Bob");
        gst_message_unref(m);
    }
    /* extra-info changes while playing. */
    GstElement *z = gst_bin_get_by_name(GST_BIN(pub), "z");
    g_object_set(z, "extra-info", "changed", NULL);
    gst_object_unref(z);
    m = wait_element_message(ps->pipeline, "zego-stream-extra-info-update", "extra-info", "changed",
                             TIMEOUT);
    CHECK(m != NULL);
    if (m)
        gst_message_unref(m);
    stop_pipeline(pub);
    m = wait_element_message(ps->pipeline, "zego-stream-update", "update-type", "delete", TIMEOUT);
    CHECK(m != NULL);
    if (m) {
        /* Stopping the pipeline stops publishing and logs out at once. */
        const char *reason = gst_structure_get_string(gst_message_get_structure(m), "reason");
        CHECK(reason && (strcmp(reason, "unpublish") == 0 || strcmp(reason, "logout") == 0));
        gst_message_unref(m);
    }
    play_free(ps);
    stop_server();
}

static void the_uri_handler_configures_both_elements(void)
{
    if (!start_server(NULL))
        return;
    gchar *uri =
        g_strdup_printf("zego://127.0.0.1:%d/r%%208/cam?app-id=1&user-id=bob&token=T0K", srv.port);
    GError *error = NULL;
    GstElement *src = gst_element_make_from_uri(GST_URI_SRC, uri, "src", &error);
    CHECK(src != NULL);
    if (src) {
        CHECK_STR(G_OBJECT_TYPE_NAME(src), "GstZegoSrc");
        gchar *room = NULL, *stream = NULL, *server = NULL, *token = NULL;
        guint app = 0;
        gboolean eos = FALSE;
        g_object_get(src, "room-id", &room, "stream-id", &stream, "server", &server, "token",
                     &token, "app-id", &app, "eos-on-unpublish", &eos, NULL);
        CHECK_STR(room, "r 8");
        CHECK_STR(stream, "cam");
        CHECK_STR(server, srv.url);
        CHECK_STR(token, "T0K");
        CHECK_INT(app, 1);
        CHECK(eos);
        gchar *back = gst_uri_handler_get_uri(GST_URI_HANDLER(src));
        CHECK(back && !strstr(back, "T0K") && !strstr(back, "token"));
        CHECK_CONTAINS(back, "r%208/cam");
        g_free(back);
        g_free(room);
        g_free(stream);
        g_free(server);
        g_free(token);
        gst_object_unref(src);
    }
    g_clear_error(&error);
    GstElement *sink = gst_element_make_from_uri(GST_URI_SINK, uri, "sink", &error);
    CHECK(sink && strcmp(G_OBJECT_TYPE_NAME(sink), "GstZegoSink") == 0);
    if (sink)
        gst_object_unref(sink);
    g_clear_error(&error);
    g_free(uri);

    /* A URI-made source ends when its publisher leaves. */
    GstElement *pub =
        launch("zegosink name=z uri=zego://127.0.0.1:%d/r9/cam?app-id=1&user-id=alice " VIDEO_RAW
               " ! z.video",
               srv.port);
    gchar *desc =
        g_strdup_printf("uridecodebin uri=zego://127.0.0.1:%d/r9/cam?app-id=1&user-id=bob "
                        "! fakesink sync=false",
                        srv.port);
    GstElement *play = launch("%s", desc);
    g_free(desc);
    CHECK(pub && play);
    if (pub && play) {
        gst_element_set_state(pub, GST_STATE_PLAYING);
        gst_element_set_state(play, GST_STATE_PLAYING);
        GstMessage *m =
            wait_element_message(play, "zego-player-state", "state", "PLAYING", TIMEOUT);
        CHECK(m != NULL);
        if (m)
            gst_message_unref(m);
        g_usleep(1000000);
        stop_pipeline(pub);
        pub = NULL;
        GstBus *bus = gst_element_get_bus(play);
        m = gst_bus_timed_pop_filtered(bus, (GstClockTime)TIMEOUT * GST_MSECOND,
                                       GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
        CHECK(m && GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS);
        if (m)
            gst_message_unref(m);
        gst_object_unref(bus);
    }
    stop_pipeline(pub);
    stop_pipeline(play);
    stop_server();
}

/* The domain and code of the error a pipeline posts within the timeout. */
static GstMessage *expect_error(GstElement *p, GQuark domain, int code, int timeout_ms)
{
    GstMessage *m = wait_error(p, timeout_ms);
    CHECK(m != NULL);
    if (!m) {
        printf("#   no error within %d ms\n", timeout_ms);
        return NULL;
    }
    GError *err = NULL;
    gchar *dbg = NULL;
    gst_message_parse_error(m, &err, &dbg);
    printf("#   error: %s (%s)\n", err->message, dbg ? dbg : "");
    CHECK(err->domain == domain);
    CHECK_INT(err->code, code);
    g_clear_error(&err);
    g_free(dbg);
    return m;
}

static void an_unreachable_server_is_an_open_error_naming_the_url(void)
{
    /* Nothing listens on the port of a server that was stopped. */
    if (!start_server(NULL))
        return;
    char url[128];
    g_strlcpy(url, srv.url, sizeof url);
    stop_server();
    GstElement *p =
        launch("zegosrc server=%s app-id=1 room-id=r login-timeout=2000 ! fakesink", url);
    gst_element_set_state(p, GST_STATE_PLAYING);
    GstMessage *m =
        expect_error(p, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ_WRITE, TIMEOUT);
    if (m) {
        GError *err = NULL;
        gst_message_parse_error(m, &err, NULL);
        CHECK_CONTAINS(err->message, url);
        g_clear_error(&err);
        gst_message_unref(m);
    }
    stop_pipeline(p);
}

static void a_bad_token_is_not_authorized_with_the_zego_code(void)
{
    static const char *const args[] = {"--app", "1234567:" SECRET, NULL};
    if (!start_server(args))
        return;
    GstElement *p = launch("zegosink name=z server=%s app-id=%u room-id=r stream-id=s "
                           "user-id=alice token=04bm90LWEtdG9rZW4= " VIDEO_RAW " ! z.video",
                           srv.url, APP);
    gst_element_set_state(p, GST_STATE_PLAYING);
    GstMessage *m = expect_error(p, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED, TIMEOUT);
    if (m) {
        gchar *dbg = NULL;
        gst_message_parse_error(m, NULL, &dbg);
        CHECK_CONTAINS(dbg, "ZEGO error 100");
        CHECK(!strstr(dbg, "04bm90LWEtdG9rZW4="));
        g_free(dbg);
        gst_message_unref(m);
    }
    stop_pipeline(p);

    /* A good token publishes. */
    zego_token04_params tp = {.app_id = APP, .secret = SECRET, .user_id = "alice", .ttl = 3600};
    char *token = NULL;
    zego_token04_create(&tp, &token, NULL);
    p = launch("zegosink name=z server=%s app-id=%u room-id=r stream-id=s user-id=alice "
               "token=%s " VIDEO_RAW " ! z.video",
               srv.url, APP, token);
    gst_element_set_state(p, GST_STATE_PLAYING);
    m = wait_element_message(p, "zego-publisher-state", "state", "PUBLISHING", TIMEOUT);
    CHECK(m != NULL);
    if (m)
        gst_message_unref(m);
    free(token);
    stop_pipeline(p);
    stop_server();
}

static void a_stream_id_taken_is_busy(void)
{
    if (!start_server(NULL))
        return;
    GstElement *first = launch("zegosink name=z server=%s app-id=1 room-id=r stream-id=same "
                               "user-id=alice " VIDEO_RAW " ! z.video",
                               srv.url);
    gst_element_set_state(first, GST_STATE_PLAYING);
    GstMessage *m =
        wait_element_message(first, "zego-publisher-state", "state", "PUBLISHING", TIMEOUT);
    CHECK(m != NULL);
    if (m)
        gst_message_unref(m);
    GstElement *second = launch("zegosink name=z server=%s app-id=1 room-id=r stream-id=same "
                                "user-id=carol " VIDEO_RAW " ! z.video",
                                srv.url);
    gst_element_set_state(second, GST_STATE_PLAYING);
    m = expect_error(second, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_BUSY, TIMEOUT);
    if (m) {
        gchar *dbg = NULL;
        gst_message_parse_error(m, NULL, &dbg);
        CHECK_CONTAINS(dbg, "1003028");
        g_free(dbg);
        gst_message_unref(m);
    }
    stop_pipeline(second);
    stop_pipeline(first);
    stop_server();
}

static void an_invalid_id_fails_the_state_change_naming_the_byte(void)
{
    GstElement *p = launch("zegosink name=z server=ws://127.0.0.1:1/ws app-id=1 room-id=r "
                           "stream-id=\"bad id\" " VIDEO_RAW " ! z.video");
    CHECK_INT(gst_element_set_state(p, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
    GstMessage *m = expect_error(p, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS, 1000);
    if (m) {
        GError *err = NULL;
        gst_message_parse_error(m, &err, NULL);
        CHECK_CONTAINS(err->message, "stream-id");
        CHECK_CONTAINS(err->message, "0x20");
        g_clear_error(&err);
        gst_message_unref(m);
    }
    stop_pipeline(p);

    p = launch("zegosrc server=ws://127.0.0.1:1/ws app-id=1 room-id=\"r#1\" ! fakesink");
    CHECK_INT(gst_element_set_state(p, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
    m = expect_error(p, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS, 1000);
    if (m) {
        GError *err = NULL;
        gst_message_parse_error(m, &err, NULL);
        CHECK_CONTAINS(err->message, "room-id");
        CHECK_CONTAINS(err->message, "#");
        g_clear_error(&err);
        gst_message_unref(m);
    }
    stop_pipeline(p);
}

static void a_harness_fed_sink_publishes_pushed_frames(void)
{
    if (!start_server(NULL))
        return;
    GstElement *sink = gst_object_ref_sink(gst_element_factory_make("zegosink", NULL));
    g_object_set(sink, "server", srv.url, "app-id", 1, "room-id", "r10", "stream-id", "h",
                 "user-id", "alice", NULL);
    GstHarness *h = gst_harness_new_with_element(sink, "video", NULL);
    gst_harness_set_src_caps_str(h, "video/x-raw,format=I420,width=64,height=48,framerate=10/1");
    gchar *desc =
        g_strdup_printf("zegosrc name=src server=%s app-id=1 room-id=r10 user-id=bob", srv.url);
    play_state *ps = play_new(desc);
    g_free(desc);
    gst_element_set_state(ps->pipeline, GST_STATE_PLAYING);
    gint64 deadline = now_ms() + TIMEOUT;
    pad_record *v = NULL;
    for (int i = 0; now_ms() < deadline; i++) {
        GstBuffer *buf = gst_harness_create_buffer(h, 64 * 48 * 3 / 2);
        GST_BUFFER_PTS(buf) = (GstClockTime)i * GST_SECOND / 10;
        GST_BUFFER_DURATION(buf) = GST_SECOND / 10;
        if (gst_harness_push(h, buf) != GST_FLOW_OK)
            break;
        g_usleep(20000);
        if (!v)
            v = find_pad(ps, "video_", "h");
        if (v && g_atomic_int_get(&v->buffers) >= 10)
            break;
    }
    CHECK(v != NULL);
    if (v) {
        CHECK(g_atomic_int_get(&v->buffers) >= 10);
        CHECK_CONTAINS(v->caps, "width=(int)64");
    }
    play_free(ps);
    gst_harness_teardown(h);
    gst_object_unref(sink);
    stop_server();
}

/* Waits for a warning message; returns it (the caller unrefs) or NULL. */
static GstMessage *wait_warning(GstElement *pipeline, int timeout_ms)
{
    GstBus *bus = gst_element_get_bus(pipeline);
    GstMessage *m = gst_bus_timed_pop_filtered(bus, (GstClockTime)timeout_ms * GST_MSECOND,
                                               GST_MESSAGE_WARNING | GST_MESSAGE_ERROR);
    gst_object_unref(bus);
    return m;
}

static void a_server_restart_is_a_warning_and_the_stream_resumes(void)
{
    if (!start_server(NULL))
        return;
    int port = srv.port;
    GstElement *pub = launch("zegosink name=z server=%s app-id=1 room-id=r11 stream-id=cam "
                             "user-id=alice " VIDEO_RAW " ! z.video",
                             srv.url);
    gchar *desc = g_strdup_printf(
        "zegosrc name=src server=%s app-id=1 room-id=r11 user-id=bob stream-id=cam", srv.url);
    play_state *ps = play_new(desc);
    g_free(desc);
    gst_element_set_state(pub, GST_STATE_PLAYING);
    gst_element_set_state(ps->pipeline, GST_STATE_PLAYING);
    pad_record *v = wait_pad(ps, "video_", "cam", TIMEOUT);
    CHECK(v != NULL);
    if (v && wait_count(&v->buffers, 10, TIMEOUT)) {
        zt_server_stop(&srv, SIGKILL);
        GstMessage *m = wait_warning(ps->pipeline, TIMEOUT);
        CHECK(m && GST_MESSAGE_TYPE(m) == GST_MESSAGE_WARNING);
        if (m)
            gst_message_unref(m);
        m = wait_warning(pub, TIMEOUT);
        CHECK(m && GST_MESSAGE_TYPE(m) == GST_MESSAGE_WARNING);
        if (m)
            gst_message_unref(m);
        GstState state;
        gst_element_get_state(ps->pipeline, &state, NULL, 0);
        CHECK_INT(state, GST_STATE_PLAYING);
        gst_element_get_state(pub, &state, NULL, 0);
        CHECK_INT(state, GST_STATE_PLAYING);
        CHECK_INT(zt_server_start(&srv, port, NULL), 0);
        int before = g_atomic_int_get(&v->buffers);
        CHECK(wait_count(&v->buffers, before + 10, 30000));
        CHECK_INT(g_atomic_int_get(&v->eos), 0);
    }
    drain_bus(ps->pipeline, "player");
    drain_bus(pub, "publisher");
    stop_pipeline(pub);
    play_free(ps);
    stop_server();
}

static void max_streams_bounds_the_played_streams(void)
{
    if (!start_server(NULL))
        return;
    GstElement *pub1 = launch("zegosink name=z server=%s app-id=1 room-id=r12 stream-id=m1 "
                              "user-id=alice " VIDEO_RAW " ! z.video",
                              srv.url);
    GstElement *pub2 = launch("zegosink name=z server=%s app-id=1 room-id=r12 stream-id=m2 "
                              "user-id=carol " VIDEO_RAW " ! z.video",
                              srv.url);
    gst_element_set_state(pub1, GST_STATE_PLAYING);
    gst_element_set_state(pub2, GST_STATE_PLAYING);
    gchar *desc = g_strdup_printf(
        "zegosrc name=src server=%s app-id=1 room-id=r12 user-id=bob max-streams=1", srv.url);
    play_state *ps = play_new(desc);
    g_free(desc);
    gst_element_set_state(ps->pipeline, GST_STATE_PLAYING);
    pad_record *v = wait_pad(ps, "video_", NULL, TIMEOUT);
    CHECK(v != NULL);
    if (v)
        CHECK(wait_count(&v->buffers, 10, TIMEOUT));
    GstMessage *m = wait_warning(ps->pipeline, TIMEOUT);
    CHECK(m && GST_MESSAGE_TYPE(m) == GST_MESSAGE_WARNING);
    if (m)
        gst_message_unref(m);
    g_mutex_lock(&ps->lock);
    CHECK_INT(ps->n_pads, 1);
    g_mutex_unlock(&ps->lock);
    GstElement *src = gst_bin_get_by_name(GST_BIN(ps->pipeline), "src");
    GstStructure *st = NULL;
    g_object_get(src, "stats", &st, NULL);
    guint n = 0;
    CHECK(st && gst_structure_get_uint(st, "streams", &n));
    CHECK_INT(n, 1);
    if (st)
        gst_structure_free(st);
    gst_object_unref(src);
    stop_pipeline(pub1);
    stop_pipeline(pub2);
    play_free(ps);
    stop_server();
}

static void a_video_encoder_property_replaces_x264enc(void)
{
    if (!start_server(NULL))
        return;
    GstElement *pub = launch("zegosink name=z server=%s app-id=1 room-id=r13 stream-id=vp8 "
                             "user-id=alice " VIDEO_RAW " ! z.video",
                             srv.url);
    GstElement *z = gst_bin_get_by_name(GST_BIN(pub), "z");
    GstElement *enc = gst_element_factory_make("vp8enc", NULL);
    g_object_set(enc, "deadline", (gint64)1, "keyframe-max-dist", 15, NULL);
    g_object_set(z, "video-encoder", enc, NULL);
    gst_object_unref(z);
    gchar *desc = g_strdup_printf("zegosrc name=src server=%s app-id=1 room-id=r13 user-id=bob "
                                  "decode=true",
                                  srv.url);
    play_state *ps = play_new(desc);
    g_free(desc);
    gst_element_set_state(pub, GST_STATE_PLAYING);
    gst_element_set_state(ps->pipeline, GST_STATE_PLAYING);
    GstMessage *m =
        wait_element_message(ps->pipeline, "zego-stream-update", "stream-id", "vp8", TIMEOUT);
    CHECK(m != NULL);
    if (m)
        gst_message_unref(m);
    pad_record *v = wait_pad(ps, "video_", "vp8", TIMEOUT);
    CHECK(v != NULL);
    if (v) {
        CHECK(wait_count(&v->buffers, 10, TIMEOUT));
        CHECK_CONTAINS(v->caps, "video/x-raw");
        CHECK_CONTAINS(v->caps, "width=(int)160");
    }
    GstElement *src = gst_bin_get_by_name(GST_BIN(ps->pipeline), "src");
    GstStructure *st = NULL;
    g_object_get(src, "stats", &st, NULL);
    CHECK(st && gst_structure_has_field(st, "stream-stats"));
    if (st)
        gst_structure_free(st);
    gst_object_unref(src);
    drain_bus(pub, "publisher");
    drain_bus(ps->pipeline, "player");
    stop_pipeline(pub);
    play_free(ps);
    stop_server();
}

static void a_late_player_starts_at_a_keyframe_with_the_cached_gop_decode_only(void)
{
    if (!start_server(NULL))
        return;
    /* 15 fps with a keyframe every 2 s: joining 1.5 s after one, the
     * server's GOP cache replays ~20 frames that are already late. */
    GstElement *pub = launch("zegosink name=z server=%s app-id=1 room-id=r14 stream-id=gop "
                             "user-id=alice " VIDEO_RAW " ! z.video",
                             srv.url);
    gst_element_set_state(pub, GST_STATE_PLAYING);
    GstMessage *m =
        wait_element_message(pub, "zego-publisher-state", "state", "PUBLISHING", TIMEOUT);
    CHECK(m != NULL);
    if (m)
        gst_message_unref(m);
    g_usleep(1500000);
    gchar *desc =
        g_strdup_printf("zegosrc name=src server=%s app-id=1 room-id=r14 user-id=bob", srv.url);
    play_state *ps = play_new(desc);
    g_free(desc);
    gst_element_set_state(ps->pipeline, GST_STATE_PLAYING);
    pad_record *v = wait_pad(ps, "video_", "gop", TIMEOUT);
    CHECK(v != NULL);
    if (v) {
        CHECK(wait_count(&v->buffers, 40, TIMEOUT));
        CHECK_INT(g_atomic_int_get(&v->first_is_delta), 0);
        CHECK(g_atomic_int_get(&v->decode_only) >= 5);
        /* ... and the live frames after them are not. */
        CHECK(g_atomic_int_get(&v->decode_only) < g_atomic_int_get(&v->buffers));
    }
    stop_pipeline(pub);
    play_free(ps);
    stop_server();
}

static void encoded_h265_is_published_and_played(void)
{
    if (!start_server(NULL))
        return;
    GstElement *pub =
        launch("zegosink name=z server=%s app-id=1 room-id=r15 stream-id=hevc "
               "user-id=alice " VIDEO_RAW
               ",format=I420 ! x265enc tune=zerolatency speed-preset=ultrafast key-int-max=15 "
               "! z.video",
               srv.url);
    gchar *desc =
        g_strdup_printf("zegosrc name=src server=%s app-id=1 room-id=r15 user-id=bob", srv.url);
    play_state *ps = play_new(desc);
    g_free(desc);
    CHECK(pub && ps);
    if (pub && ps) {
        gst_element_set_state(pub, GST_STATE_PLAYING);
        gst_element_set_state(ps->pipeline, GST_STATE_PLAYING);
        pad_record *v = wait_pad(ps, "video_", "hevc", TIMEOUT);
        CHECK(v != NULL);
        if (v) {
            CHECK(wait_count(&v->buffers, 10, TIMEOUT));
            CHECK_CONTAINS(v->caps, "video/x-h265");
            CHECK_CONTAINS(v->caps, "width=(int)160");
        }
        drain_bus(pub, "publisher");
        drain_bus(ps->pipeline, "player");
    }
    stop_pipeline(pub);
    play_free(ps);
    stop_server();
}

int main(int argc, char **argv)
{
    gst_check_init(&argc, &argv);
    setvbuf(stdout, NULL, _IOLBF, 0);
    RUN(an_invalid_id_fails_the_state_change_naming_the_byte);
    RUN(raw_video_and_audio_are_encoded_published_and_played);
    RUN(encoded_h264_and_aac_are_published_as_they_are);
    RUN(encoded_h265_is_published_and_played);
    RUN(pads_come_and_go_with_their_publishers);
    RUN(stream_id_selects_one_stream_and_waits_for_its_return);
    RUN(decode_true_gives_raw_media);
    RUN(a_process_does_not_play_its_own_streams);
    RUN(bus_messages_report_the_room);
    RUN(the_uri_handler_configures_both_elements);
    RUN(an_unreachable_server_is_an_open_error_naming_the_url);
    RUN(a_bad_token_is_not_authorized_with_the_zego_code);
    RUN(a_stream_id_taken_is_busy);
    RUN(a_harness_fed_sink_publishes_pushed_frames);
    RUN(a_server_restart_is_a_warning_and_the_stream_resumes);
    RUN(max_streams_bounds_the_played_streams);
    RUN(a_video_encoder_property_replaces_x264enc);
    RUN(a_late_player_starts_at_a_keyframe_with_the_cached_gop_decode_only);
    return harness_finish();
}
