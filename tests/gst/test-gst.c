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
#include "tcp-proxy.h"

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
#define MAX_LOG  4096

/* One buffer that left a pad: its running time (-1: none), when it left
 * (monotonic) and its flags. */
typedef struct buf_entry {
    gint64 rt;
    gint64 arrival_us;
    guint flags;
} buf_entry;

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
    GstSegment segment; /* the pad's last, for running times */
    buf_entry *log;     /* the first MAX_LOG buffers; n_log is written last */
    gint n_log;
    gint decoded; /* buffers out of the decoder linked to the pad */
    char decoded_caps[1024];
} pad_record;

typedef struct play_state {
    GMutex lock;
    pad_record pads[MAX_PADS];
    int n_pads;
    GstElement *pipeline;
    const char *video_decoder; /* link video pads to it (then a fakesink) */
} play_state;

static GstPadProbeReturn count_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
    pad_record *r = user_data;
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
        GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
        if (g_atomic_int_get(&r->buffers) == 0)
            g_atomic_int_set(&r->first_is_delta,
                             GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT) ? 1 : 0);
        if (GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DECODE_ONLY))
            g_atomic_int_inc(&r->decode_only);
        /* Only this pad's streaming thread writes its log. */
        gint n = g_atomic_int_get(&r->n_log);
        if (r->segment.format != GST_FORMAT_TIME) {
            /* Sent before the probe was there. */
            GstEvent *seg = gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0);
            if (seg) {
                gst_event_copy_segment(seg, &r->segment);
                gst_event_unref(seg);
            }
        }
        if (!r->caps[0]) {
            /* The same for the caps. */
            GstCaps *caps = gst_pad_get_current_caps(pad);
            if (caps) {
                gchar *text = gst_caps_to_string(caps);
                g_strlcpy(r->caps, text, sizeof r->caps);
                g_free(text);
                gst_caps_unref(caps);
            }
        }
        if (r->log && n < MAX_LOG) {
            GstClockTime pts = GST_BUFFER_PTS(buf);
            r->log[n].rt =
                GST_CLOCK_TIME_IS_VALID(pts) && r->segment.format == GST_FORMAT_TIME
                    ? (gint64)gst_segment_to_running_time(&r->segment, GST_FORMAT_TIME, pts)
                    : -1;
            r->log[n].arrival_us = g_get_monotonic_time();
            r->log[n].flags = GST_BUFFER_FLAGS(buf);
            g_atomic_int_set(&r->n_log, n + 1);
        }
        g_atomic_int_inc(&r->buffers);
    } else if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
        GstEvent *ev = GST_PAD_PROBE_INFO_EVENT(info);
        if (GST_EVENT_TYPE(ev) == GST_EVENT_SEGMENT) {
            gst_event_copy_segment(ev, &r->segment);
        } else if (GST_EVENT_TYPE(ev) == GST_EVENT_EOS) {
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

/* Counts what a decoder after a played pad gives. */
static GstPadProbeReturn decoded_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
    (void)pad;
    pad_record *r = user_data;
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
        g_atomic_int_inc(&r->decoded);
    } else if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_CAPS) {
        GstCaps *caps;
        gst_event_parse_caps(GST_PAD_PROBE_INFO_EVENT(info), &caps);
        gchar *s = gst_caps_to_string(caps);
        g_strlcpy(r->decoded_caps, s, sizeof r->decoded_caps);
        g_free(s);
    }
    return GST_PAD_PROBE_OK;
}

/* Links a played video pad to decoder ! fakesink. */
static void link_decoder(play_state *ps, GstPad *pad, pad_record *r)
{
    GstElement *dec = gst_element_factory_make(ps->video_decoder, NULL);
    GstElement *sink = gst_element_factory_make("fakesink", NULL);
    if (!dec || !sink) {
        printf("#   no %s to decode with\n", ps->video_decoder);
        if (dec)
            gst_object_unref(gst_object_ref_sink(dec));
        if (sink)
            gst_object_unref(gst_object_ref_sink(sink));
        return;
    }
    g_object_set(sink, "sync", FALSE, "async", FALSE, NULL);
    gst_bin_add_many(GST_BIN(ps->pipeline), dec, sink, NULL);
    gst_element_link(dec, sink);
    GstPad *decsrc = gst_element_get_static_pad(dec, "src");
    gst_pad_add_probe(decsrc, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                      decoded_probe, r, NULL);
    gst_object_unref(decsrc);
    gst_element_sync_state_with_parent(sink);
    gst_element_sync_state_with_parent(dec);
    GstPad *decsink = gst_element_get_static_pad(dec, "sink");
    if (gst_pad_link(pad, decsink) != GST_PAD_LINK_OK)
        printf("#   %s does not link to %s\n", GST_PAD_NAME(pad), ps->video_decoder);
    gst_object_unref(decsink);
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
    gst_segment_init(&r->segment, GST_FORMAT_UNDEFINED);
    r->log = g_new0(buf_entry, MAX_LOG);
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
    if (g_str_has_prefix(GST_PAD_NAME(pad), "video") && ps->video_decoder) {
        link_decoder(ps, pad, r);
    } else if (g_str_has_prefix(GST_PAD_NAME(pad), "video")) {
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
    for (int i = 0; i < ps->n_pads; i++)
        g_free(ps->pads[i].log);
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

/* Prints a TAP comment, each of its lines as one (debug strings of
 * messages have several). */
static void comment(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static void comment(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gchar *text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    gchar **lines = g_strsplit(text, "\n", -1);
    for (gchar **l = lines; *l; l++)
        printf("#   %s\n", *l);
    g_strfreev(lines);
    g_free(text);
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
        comment("%s: %s from %s: %s (%s)", who,
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
    comment("error: %s (%s)", err->message, dbg ? dbg : "");
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

static GstMessage *wait_eos(GstElement *pipeline, int timeout_ms)
{
    GstBus *bus = gst_element_get_bus(pipeline);
    GstMessage *m = gst_bus_timed_pop_filtered(bus, (GstClockTime)timeout_ms * GST_MSECOND,
                                               GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    gst_object_unref(bus);
    return m;
}

static guint64 sink_stat(GstElement *pipeline, const char *field, gboolean *publishing)
{
    GstElement *z = gst_bin_get_by_name(GST_BIN(pipeline), "z");
    GstStructure *st = NULL;
    guint64 v = 0;
    g_object_get(z, "stats", &st, NULL);
    if (st) {
        gst_structure_get_uint64(st, field, &v);
        if (publishing)
            gst_structure_get_boolean(st, "publishing", publishing);
        gst_structure_free(st);
    }
    gst_object_unref(z);
    return v;
}

static void an_eos_on_every_pad_sends_the_last_frames_and_unpublishes(void)
{
    if (!start_server(NULL))
        return;
    /* A burst from sources that are not live: every frame is given long
     * before the publish socket is up, and the EOS right after them. */
    GstElement *pub = launch("zegosink name=z server=%s app-id=1 room-id=r28 stream-id=burst "
                             "user-id=alice videotestsrc num-buffers=30 ! "
                             "video/x-raw,width=160,height=120,framerate=15/1 ! z.video "
                             "audiotestsrc num-buffers=20 ! z.audio",
                             srv.url);
    CHECK(pub != NULL);
    if (pub) {
        gst_element_set_state(pub, GST_STATE_PLAYING);
        GstMessage *m = wait_eos(pub, TIMEOUT);
        CHECK(m && GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS);
        if (m)
            gst_message_unref(m);
        gboolean publishing = TRUE;
        guint64 given = sink_stat(pub, "frames-given", &publishing);
        comment("%" G_GUINT64_FORMAT " frames given", given);
        CHECK(given >= 30 + 20);
        CHECK(!publishing);
        /* Every frame given reached the server before the stream went. */
        gint64 deadline = now_ms() + TIMEOUT;
        while (now_ms() < deadline && (zt_metric(srv.port, "zego_streams") != 0 ||
                                       zt_metric(srv.port, "zego_frames_in_total") < given))
            g_usleep(10000);
        CHECK_INT((gint64)zt_metric(srv.port, "zego_frames_in_total"), (gint64)given);
        CHECK_INT((gint64)zt_metric(srv.port, "zego_streams"), 0);
        drain_bus(pub, "publisher");
    }
    stop_pipeline(pub);

    /* Live: a player waiting for the stream gets all of it, then EOS. */
    gchar *desc = g_strdup_printf("zegosrc name=src server=%s app-id=1 room-id=r28 user-id=bob "
                                  "stream-id=cam eos-on-unpublish=true",
                                  srv.url);
    play_state *ps = play_new(desc);
    g_free(desc);
    pub = launch("zegosink name=z server=%s app-id=1 room-id=r28 stream-id=cam user-id=alice "
                 "videotestsrc is-live=true num-buffers=30 ! "
                 "video/x-raw,width=160,height=120,framerate=15/1 ! z.video",
                 srv.url);
    CHECK(pub && ps);
    if (pub && ps) {
        gst_element_set_state(ps->pipeline, GST_STATE_PLAYING);
        gst_element_set_state(pub, GST_STATE_PLAYING);
        pad_record *v = wait_pad(ps, "video_", "cam", TIMEOUT);
        CHECK(v != NULL);
        if (v) {
            CHECK(wait_count(&v->eos, 1, TIMEOUT));
            /* One GOP (a keyframe every 2 s): all of it, from the cache if need be. */
            CHECK_INT(g_atomic_int_get(&v->buffers), 30);
        }
        GstMessage *m = wait_eos(pub, TIMEOUT);
        CHECK(m && GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS);
        if (m)
            gst_message_unref(m);
        drain_bus(ps->pipeline, "player");
    }
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

/* ---- Helpers of the tests below ---- */

/* Marks the running test skipped, naming the first of the elements that is
 * not installed; returns whether all are. */
static bool have_elements(const char *const *names)
{
    static char reason[128];
    for (; *names; names++) {
        GstElementFactory *f = gst_element_factory_find(*names);
        if (!f) {
            snprintf(reason, sizeof reason, "%s is not installed", *names);
            SKIP(reason);
            return false;
        }
        gst_object_unref(f);
    }
    return true;
}

/* The first of the named elements that is installed, or NULL. */
static const char *first_installed(const char *const *names)
{
    for (; *names; names++) {
        GstElementFactory *f = gst_element_factory_find(*names);
        if (f) {
            gst_object_unref(f);
            return *names;
        }
    }
    return NULL;
}

/* Waits for a pad of the stream other than `other`. */
static pad_record *wait_other_pad(play_state *ps, const char *prefix, const char *stream_id,
                                  const pad_record *other, int timeout_ms)
{
    gint64 deadline = now_ms() + timeout_ms;
    pad_record *found = NULL;
    while (!found && now_ms() < deadline) {
        g_mutex_lock(&ps->lock);
        for (int i = 0; i < ps->n_pads && !found; i++)
            if (&ps->pads[i] != other && g_str_has_prefix(ps->pads[i].name, prefix) &&
                strcmp(ps->pads[i].stream_id, stream_id) == 0)
                found = &ps->pads[i];
        g_mutex_unlock(&ps->lock);
        if (!found)
            g_usleep(10000);
    }
    if (!found)
        printf("#   no other pad %s* for stream %s within %d ms\n", prefix, stream_id, timeout_ms);
    return found;
}

/* ---- Audio and video in sync ---- */

/* The running times of the buffers given to one pad of zegosink.  Each
 * buffer is first moved by a pseudo-random 0-4 ms, so that its timestamp
 * stands out among evenly spaced ones and the played buffer can be matched
 * to it. */
typedef struct sent_log {
    GstSegment segment;
    guint salt;
    gint64 rt[MAX_LOG];
    gint n;
} sent_log;

static GstPadProbeReturn sent_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
    (void)pad;
    sent_log *l = user_data;
    if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
        GstEvent *ev = GST_PAD_PROBE_INFO_EVENT(info);
        if (GST_EVENT_TYPE(ev) == GST_EVENT_SEGMENT)
            gst_event_copy_segment(ev, &l->segment);
        return GST_PAD_PROBE_OK;
    }
    gint n = g_atomic_int_get(&l->n);
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
    if (!GST_BUFFER_PTS_IS_VALID(buf) || l->segment.format != GST_FORMAT_TIME || n >= MAX_LOG)
        return GST_PAD_PROBE_OK;
    buf = gst_buffer_make_writable(buf);
    GST_PAD_PROBE_INFO_DATA(info) = buf;
    GstClockTime jitter = (GstClockTime)(((guint)n * 7919u + l->salt) % 4001u) * GST_USECOND;
    GST_BUFFER_PTS(buf) += jitter;
    if (GST_BUFFER_DTS_IS_VALID(buf))
        GST_BUFFER_DTS(buf) += jitter;
    l->rt[n] =
        (gint64)gst_segment_to_running_time(&l->segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buf));
    g_atomic_int_set(&l->n, n + 1);
    return GST_PAD_PROBE_OK;
}

static int compare_i64(const void *a, const void *b)
{
    gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
    return x < y ? -1 : x > y;
}

/* The one of the sorted times nearest to t (n > 0). */
static gint64 nearest(const gint64 *sorted, int n, gint64 t)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (sorted[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == n)
        return sorted[n - 1];
    if (lo > 0 && t - sorted[lo - 1] < sorted[lo] - t)
        return sorted[lo - 1];
    return sorted[lo];
}

/* Sent timestamps are whole microseconds on the wire. */
#define MATCH_TOLERANCE (20 * GST_USECOND)

/* Finds the offset (played - sent running time) under which the most played
 * buffers meet a sent one; returns the median of their differences and sets
 * *matched to how many met one. */
static gint64 find_offset(gint64 *sent, int n_sent, const gint64 *played, int n_played,
                          int *matched)
{
    *matched = 0;
    if (n_sent == 0 || n_played == 0)
        return 0;
    qsort(sent, (size_t)n_sent, sizeof *sent, compare_i64);
    gint64 best = 0;
    int best_score = -1;
    for (int k = 0; k < MIN(n_played, 5) && best_score < n_played; k++) {
        for (int j = 0; j < n_sent; j++) {
            gint64 candidate = played[k] - sent[j];
            int score = 0;
            for (int i = 0; i < n_played; i++) {
                gint64 want = played[i] - candidate;
                if (ABS(nearest(sent, n_sent, want) - want) <= MATCH_TOLERANCE)
                    score++;
            }
            if (score > best_score) {
                best_score = score;
                best = candidate;
            }
        }
    }
    gint64 *diffs = g_new(gint64, n_played);
    int m = 0;
    for (int i = 0; i < n_played; i++) {
        gint64 want = played[i] - best;
        gint64 s = nearest(sent, n_sent, want);
        if (ABS(s - want) <= MATCH_TOLERANCE)
            diffs[m++] = played[i] - s;
    }
    qsort(diffs, (size_t)m, sizeof *diffs, compare_i64);
    gint64 median = m ? diffs[m / 2] : 0;
    g_free(diffs);
    *matched = m;
    return median;
}

/* The running times of the buffers a pad pushed to be shown (not decode-only). */
static int played_times(pad_record *r, gint64 *out)
{
    int n = g_atomic_int_get(&r->n_log), m = 0;
    for (int i = 0; i < n; i++)
        if (r->log[i].rt >= 0 && !(r->log[i].flags & GST_BUFFER_FLAG_DECODE_ONLY))
            out[m++] = r->log[i].rt;
    return m;
}

static void audio_and_video_leave_zegosrc_as_in_sync_as_they_were_sent(void)
{
    if (!start_server(NULL))
        return;
    /* The player waits in the room, so that it sees the stream from its start. */
    gchar *desc = g_strdup_printf(
        "zegosrc name=src server=%s app-id=1 room-id=r20 user-id=bob stream-id=av", srv.url);
    play_state *ps = play_new(desc);
    g_free(desc);
    /* Encoded before zegosink: what its pads are given is what it sends. */
    GstElement *pub = launch(
        "zegosink name=z server=%s app-id=1 room-id=r20 stream-id=av user-id=alice " VIDEO_RAW
        " ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! z.video " AUDIO_RAW
        " ! audioconvert ! audioresample ! opusenc ! z.audio",
        srv.url);
    CHECK(pub && ps);
    sent_log *sent_v = g_new0(sent_log, 1), *sent_a = g_new0(sent_log, 1);
    sent_v->salt = 17;
    sent_a->salt = 2003;
    if (pub && ps) {
        GstElement *z = gst_bin_get_by_name(GST_BIN(pub), "z");
        GstPad *zv = gst_element_get_static_pad(z, "video");
        GstPad *za = gst_element_get_static_pad(z, "audio");
        const GstPadProbeType types =
            GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM;
        gst_pad_add_probe(zv, types, sent_probe, sent_v, NULL);
        gst_pad_add_probe(za, types, sent_probe, sent_a, NULL);
        gst_object_unref(zv);
        gst_object_unref(za);
        gst_object_unref(z);
        gst_element_set_state(ps->pipeline, GST_STATE_PLAYING);
        gst_element_set_state(pub, GST_STATE_PLAYING);
        pad_record *v = wait_pad(ps, "video_", "av", TIMEOUT);
        pad_record *a = wait_pad(ps, "audio_", "av", TIMEOUT);
        CHECK(v && a);
        if (v && a) {
            /* About 4 s of both. */
            CHECK(wait_count(&v->n_log, 60, 2 * TIMEOUT));
            CHECK(wait_count(&a->n_log, 200, 2 * TIMEOUT));
        }
        drain_bus(pub, "publisher");
        stop_pipeline(pub);
        pub = NULL;
        if (v && a) {
            gint64 *played_v = g_new(gint64, MAX_LOG), *played_a = g_new(gint64, MAX_LOG);
            int n_v = played_times(v, played_v), n_a = played_times(a, played_a);
            int m_v, m_a;
            gint64 off_v = find_offset(sent_v->rt, sent_v->n, played_v, n_v, &m_v);
            gint64 off_a = find_offset(sent_a->rt, sent_a->n, played_a, n_a, &m_a);
            printf("#   video: %d of %d played buffers found among %d sent, played - sent "
                   "%.3f ms\n",
                   m_v, n_v, sent_v->n, off_v / 1e6);
            printf("#   audio: %d of %d played buffers found among %d sent, played - sent "
                   "%.3f ms\n",
                   m_a, n_a, sent_a->n, off_a / 1e6);
            /* Nearly every buffer is one that was sent, one offset for all. */
            CHECK(m_v >= 30 && m_v * 10 >= n_v * 9);
            CHECK(m_a >= 100 && m_a * 10 >= n_a * 9);
            CHECK(ABS(off_v - off_a) <= 20 * GST_MSECOND);
            g_free(played_v);
            g_free(played_a);
        }
        drain_bus(ps->pipeline, "player");
    }
    stop_pipeline(pub);
    play_free(ps);
    g_free(sent_v);
    g_free(sent_a);
    stop_server();
}

/* ---- VP8, VP9 and AV1 ---- */

/* Publishes the same test pattern twice in one room: encoded upstream
 * (stream "enc") and raw, encoded by zegosink for its video-codec (stream
 * "raw"); plays both, each into the decoder. */
static void encoded_and_raw_are_played_and_decoded(const char *room, const char *codec,
                                                   const char *encoder, const char *media_type,
                                                   const char *decoder, int frames, int timeout_ms)
{
    if (!start_server(NULL))
        return;
    GstElement *enc = launch("zegosink name=z server=%s app-id=1 room-id=%s stream-id=enc "
                             "user-id=alice " VIDEO_RAW " ! %s ! z.video",
                             srv.url, room, encoder);
    GstElement *raw = launch("zegosink name=z server=%s app-id=1 room-id=%s stream-id=raw "
                             "user-id=carol video-codec=%s " VIDEO_RAW " ! z.video",
                             srv.url, room, codec);
    gchar *desc = g_strdup_printf("zegosrc name=src server=%s app-id=1 room-id=%s user-id=bob",
                                  srv.url, room);
    play_state *ps = play_new(desc);
    g_free(desc);
    CHECK(enc && raw && ps);
    if (enc && raw && ps) {
        ps->video_decoder = decoder;
        gst_element_set_state(ps->pipeline, GST_STATE_PLAYING);
        gst_element_set_state(enc, GST_STATE_PLAYING);
        gst_element_set_state(raw, GST_STATE_PLAYING);
        static const char *const streams[] = {"enc", "raw"};
        for (int i = 0; i < 2; i++) {
            pad_record *v = wait_pad(ps, "video_", streams[i], timeout_ms);
            CHECK(v != NULL);
            if (!v)
                continue;
            if (!wait_count(&v->decoded, frames, timeout_ms)) {
                printf("#   %s: %d buffers played, %d decoded\n", streams[i],
                       g_atomic_int_get(&v->buffers), g_atomic_int_get(&v->decoded));
                CHECK(!"the stream is decoded");
            }
            g_mutex_lock(&ps->lock);
            CHECK_CONTAINS(v->caps, media_type);
            CHECK_CONTAINS(v->caps, "width=(int)160");
            CHECK_CONTAINS(v->caps, "height=(int)120");
            CHECK_CONTAINS(v->decoded_caps, "video/x-raw");
            CHECK_CONTAINS(v->decoded_caps, "width=(int)160");
            CHECK_CONTAINS(v->decoded_caps, "height=(int)120");
            g_mutex_unlock(&ps->lock);
        }
        drain_bus(enc, "publisher of enc");
        drain_bus(raw, "publisher of raw");
        drain_bus(ps->pipeline, "player");
    }
    stop_pipeline(enc);
    stop_pipeline(raw);
    play_free(ps);
    stop_server();
}

static void vp8_encoded_and_raw_are_published_played_and_decoded(void)
{
    static const char *const need[] = {"vp8enc", "vp8dec", NULL};
    if (!have_elements(need))
        return;
    encoded_and_raw_are_played_and_decoded(
        "r21", "vp8", "vp8enc deadline=1 cpu-used=8 lag-in-frames=0 keyframe-max-dist=15",
        "video/x-vp8", "vp8dec", 15, TIMEOUT);
}

static void vp9_encoded_and_raw_are_published_played_and_decoded(void)
{
    static const char *const need[] = {"vp9enc", "vp9parse", "vp9dec", NULL};
    if (!have_elements(need))
        return;
    encoded_and_raw_are_played_and_decoded(
        "r22", "vp9", "vp9enc deadline=1 cpu-used=8 lag-in-frames=0 keyframe-max-dist=15",
        "video/x-vp9", "vp9dec", 15, TIMEOUT);
}

static void av1_encoded_and_raw_are_published_played_and_decoded(void)
{
    static const char *const decoders[] = {"dav1ddec", "av1dec", NULL};
    static const char *const need[] = {"av1enc", "av1parse", NULL};
    const char *decoder = first_installed(decoders);
    if (!decoder) {
        SKIP("neither dav1ddec nor av1dec is installed");
        return;
    }
    if (!have_elements(need))
        return;
    /* AV1 is slow to encode: a few frames. */
    encoded_and_raw_are_played_and_decoded("r23", "av1",
                                           "av1enc usage-profile=realtime cpu-used=8 "
                                           "lag-in-frames=0 keyframe-max-dist=15",
                                           "video/x-av1", decoder, 5, 2 * TIMEOUT);
}

/* ---- Keyframes asked for ---- */

typedef struct encoder_counts {
    gint requests;  /* GstForceKeyUnit events that reached the encoder */
    gint keyframes; /* and keyframes it made */
} encoder_counts;

static GstPadProbeReturn encoder_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
    (void)pad;
    encoder_counts *c = user_data;
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
        if (!GST_BUFFER_FLAG_IS_SET(GST_PAD_PROBE_INFO_BUFFER(info), GST_BUFFER_FLAG_DELTA_UNIT))
            g_atomic_int_inc(&c->keyframes);
    } else if (gst_event_has_name(GST_PAD_PROBE_INFO_EVENT(info), "GstForceKeyUnit")) {
        g_atomic_int_inc(&c->requests);
    }
    return GST_PAD_PROBE_OK;
}

static void a_late_player_gets_a_keyframe_the_encoder_made_on_request(void)
{
    /* The server's GOP cache is smaller than any keyframe, so it never holds
     * one, and the encoder makes keyframes only when asked (key-int-max is
     * huge): a late player can decode only once its arrival has the server
     * ask for a keyframe, zegosink turn that into a GstForceKeyUnit event
     * upstream and the encoder honour it. */
    static const char *const args[] = {"--gop-cache-bytes", "256", NULL};
    if (!start_server(args))
        return;
    GstElement *pub = launch("zegosink name=z server=%s app-id=1 room-id=r24 stream-id=kf "
                             "user-id=alice " VIDEO_RAW " ! x264enc name=enc tune=zerolatency "
                             "speed-preset=ultrafast key-int-max=100000 ! z.video",
                             srv.url);
    CHECK(pub != NULL);
    if (!pub) {
        stop_server();
        return;
    }
    encoder_counts *counts = g_new0(encoder_counts, 1);
    GstElement *enc = gst_bin_get_by_name(GST_BIN(pub), "enc");
    GstPad *encsrc = gst_element_get_static_pad(enc, "src");
    gst_pad_add_probe(encsrc, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
                      encoder_probe, counts, NULL);
    gst_object_unref(encsrc);
    gst_object_unref(enc);
    gst_element_set_state(pub, GST_STATE_PLAYING);
    GstMessage *m =
        wait_element_message(pub, "zego-publisher-state", "state", "PUBLISHING", TIMEOUT);
    CHECK(m != NULL);
    if (m)
        gst_message_unref(m);
    /* Long past the keyframes of the start. */
    g_usleep(2500000);
    GstBus *bus = gst_element_get_bus(pub);
    gst_bus_set_flushing(bus, TRUE); /* the requests of the start */
    gst_bus_set_flushing(bus, FALSE);
    gst_object_unref(bus);
    int requests = g_atomic_int_get(&counts->requests);
    int keyframes = g_atomic_int_get(&counts->keyframes);
    printf("#   before the late player: %d requests, %d keyframes\n", requests, keyframes);

    gchar *desc = g_strdup_printf("zegosrc name=src server=%s app-id=1 room-id=r24 user-id=bob "
                                  "stream-id=kf decode=true",
                                  srv.url);
    play_state *ps = play_new(desc);
    g_free(desc);
    gst_element_set_state(ps->pipeline, GST_STATE_PLAYING);
    m = wait_element_message(pub, "zego-keyframe-request", "reason", "server", TIMEOUT);
    CHECK(m != NULL);
    if (m)
        gst_message_unref(m);
    pad_record *v = wait_pad(ps, "video_", "kf", TIMEOUT);
    CHECK(v != NULL);
    if (v) {
        CHECK(wait_count(&v->buffers, 10, TIMEOUT));
        g_mutex_lock(&ps->lock);
        CHECK_CONTAINS(v->caps, "video/x-raw");
        g_mutex_unlock(&ps->lock);
    }
    CHECK(wait_count(&counts->requests, requests + 1, TIMEOUT));
    CHECK(wait_count(&counts->keyframes, keyframes + 1, TIMEOUT));
    printf("#   after: %d requests, %d keyframes\n", g_atomic_int_get(&counts->requests),
           g_atomic_int_get(&counts->keyframes));
    drain_bus(ps->pipeline, "player");
    drain_bus(pub, "publisher");
    play_free(ps);
    stop_pipeline(pub);
    g_free(counts);
    stop_server();
}

/* ---- Discontinuities ---- */

/* Of the buffers a pad pushed, the first one and the first one after the
 * cut (at index >= n_cut, at cut_us) are DISCONT, and no other. */
static void check_discont_after_cut(pad_record *r, int n_cut, gint64 cut_us, const char *what)
{
    int n = g_atomic_int_get(&r->n_log);
    int after = -1, steady = 0;
    for (int i = 1; i < n; i++) {
        if (!(r->log[i].flags & GST_BUFFER_FLAG_DISCONT))
            continue;
        if (i >= n_cut && after < 0) {
            after = i;
        } else if (steady++ < 3) {
            printf("#   %s: buffer %d of %d is DISCONT in steady state (the cut was at %d)\n", what,
                   i, n, n_cut);
        }
    }
    if (steady)
        printf("#   %s: %d buffers DISCONT in steady state\n", what, steady);
    CHECK_INT(steady, 0);
    CHECK(n > 0 && (r->log[0].flags & GST_BUFFER_FLAG_DISCONT));
    if (after < 0) {
        printf("#   %s: no DISCONT among the %d buffers after the cut\n", what, n - n_cut);
        CHECK(!"a DISCONT after the cut");
        return;
    }
    /* It is the first to come through the new socket: the ones before it
     * after the cut were on their way already, and a reconnection (its
     * backoff is 250 ms at least) came between. */
    gint64 since_cut_us = r->log[after].arrival_us - cut_us;
    printf("#   %s: DISCONT at buffer %d (cut at %d), %lld ms after the cut\n", what, after, n_cut,
           (long long)(since_cut_us / 1000));
    CHECK(after - n_cut <= 10);
    CHECK(since_cut_us >= 200000);
}

static void the_first_buffer_after_a_gap_is_discont_and_no_other(void)
{
    if (!start_server(NULL))
        return;
    /* The player reaches the server through a proxy that cuts its media
     * socket; the publisher goes on, so the player misses frames. */
    int port = 0;
    zt_proxy *proxy = zt_proxy_start(srv.port, &port);
    CHECK(proxy != NULL);
    if (!proxy) {
        stop_server();
        return;
    }
    GstElement *pub = launch("zegosink name=z server=%s app-id=1 room-id=r25 stream-id=gap "
                             "user-id=alice " VIDEO_RAW " ! z.video " AUDIO_RAW " ! z.audio",
                             srv.url);
    gchar *desc = g_strdup_printf("zegosrc name=src server=ws://127.0.0.1:%d/ws app-id=1 "
                                  "room-id=r25 user-id=bob stream-id=gap",
                                  port);
    play_state *ps = play_new(desc);
    g_free(desc);
    gst_element_set_state(pub, GST_STATE_PLAYING);
    gst_element_set_state(ps->pipeline, GST_STATE_PLAYING);
    pad_record *v = wait_pad(ps, "video_", "gap", TIMEOUT);
    pad_record *a = wait_pad(ps, "audio_", "gap", TIMEOUT);
    bool flowing =
        v && a && wait_count(&v->n_log, 20, TIMEOUT) && wait_count(&a->n_log, 60, TIMEOUT);
    CHECK(flowing);
    if (flowing) {
        int n_v = g_atomic_int_get(&v->n_log), n_a = g_atomic_int_get(&a->n_log);
        gint64 cut_us = g_get_monotonic_time();
        CHECK_INT(zt_proxy_cut(proxy, "/media/"), 1);
        CHECK(wait_count(&v->n_log, n_v + 20, 30000));
        CHECK(wait_count(&a->n_log, n_a + 60, 30000));
        check_discont_after_cut(v, n_v, cut_us, "video");
        check_discont_after_cut(a, n_a, cut_us, "audio");
        CHECK_INT(g_atomic_int_get(&v->removed), 0);
    }
    drain_bus(ps->pipeline, "player");
    drain_bus(pub, "publisher");
    play_free(ps);
    stop_pipeline(pub);
    zt_proxy_stop(proxy);
    stop_server();
}

/* ---- playbin, uridecodebin and whole rooms ---- */

static GstPadProbeReturn counter_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
    (void)pad, (void)info;
    g_atomic_int_inc((gint *)user_data);
    return GST_PAD_PROBE_OK;
}

static void count_buffers(GstElement *element, const char *pad_name, gint *counter)
{
    GstPad *pad = gst_element_get_static_pad(element, pad_name);
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, counter_probe, counter, NULL);
    gst_object_unref(pad);
}

/* What a zegosrc made by playbin or uridecodebin did. */
typedef struct source_counts {
    gint pads;
    gint no_more_pads;
} source_counts;

static void count_source_pad(GstElement *element, GstPad *pad, gpointer user_data)
{
    (void)element, (void)pad;
    g_atomic_int_inc(&((source_counts *)user_data)->pads);
}

static void count_no_more_pads(GstElement *element, gpointer user_data)
{
    (void)element;
    g_atomic_int_inc(&((source_counts *)user_data)->no_more_pads);
}

static void on_source_setup(GstElement *bin, GstElement *source, gpointer user_data)
{
    (void)bin;
    g_signal_connect(source, "pad-added", G_CALLBACK(count_source_pad), user_data);
    g_signal_connect(source, "no-more-pads", G_CALLBACK(count_no_more_pads), user_data);
}

static void playbin_plays_a_zego_uri_until_its_publisher_stops(void)
{
    if (!start_server(NULL))
        return;
    GstElement *pub = launch("zegosink name=z server=%s app-id=1 room-id=r26 stream-id=cam "
                             "user-id=alice " VIDEO_RAW " ! z.video " AUDIO_RAW " ! z.audio",
                             srv.url);
    GstElement *play = gst_element_factory_make("playbin", NULL);
    CHECK(pub && play);
    if (!pub || !play) {
        stop_pipeline(pub);
        if (play)
            gst_object_unref(gst_object_ref_sink(play));
        stop_server();
        return;
    }
    gst_element_set_state(pub, GST_STATE_PLAYING);
    GstMessage *m =
        wait_element_message(pub, "zego-publisher-state", "state", "PUBLISHING", TIMEOUT);
    CHECK(m != NULL);
    if (m)
        gst_message_unref(m);
    gchar *uri = g_strdup_printf("zego://127.0.0.1:%d/r26/cam?app-id=1&user-id=bob", srv.port);
    GstElement *vsink = gst_element_factory_make("fakesink", "vsink");
    GstElement *asink = gst_element_factory_make("fakesink", "asink");
    gint video = 0, audio = 0;
    source_counts src = {0, 0};
    count_buffers(vsink, "sink", &video);
    count_buffers(asink, "sink", &audio);
    g_object_set(play, "uri", uri, "video-sink", vsink, "audio-sink", asink, NULL);
    g_signal_connect(play, "source-setup", G_CALLBACK(on_source_setup), &src);
    g_free(uri);
    CHECK(gst_element_set_state(play, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
    CHECK(wait_count(&video, 10, TIMEOUT));
    CHECK(wait_count(&audio, 10, TIMEOUT));
    /* One stream: its two pads, and then no more. */
    CHECK_INT(g_atomic_int_get(&src.pads), 2);
    CHECK_INT(g_atomic_int_get(&src.no_more_pads), 1);
    stop_pipeline(pub);
    GstBus *bus = gst_element_get_bus(play);
    m = gst_bus_timed_pop_filtered(bus, (GstClockTime)TIMEOUT * GST_MSECOND,
                                   GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    CHECK(m && GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS);
    if (m && GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
        GError *err = NULL;
        gst_message_parse_error(m, &err, NULL);
        printf("#   error: %s\n", err->message);
        g_clear_error(&err);
    }
    if (m)
        gst_message_unref(m);
    gst_object_unref(bus);
    stop_pipeline(play);
    stop_server();
}

/* uridecodebin's decoded pads, each into a fakesink. */
typedef struct decoded_pads {
    GstElement *pipeline;
    GMutex lock;
    int n;
    pad_record pads[MAX_PADS];
} decoded_pads;

static void on_decoded_pad(GstElement *element, GstPad *pad, gpointer user_data)
{
    (void)element;
    decoded_pads *d = user_data;
    g_mutex_lock(&d->lock);
    if (d->n >= MAX_PADS) {
        g_mutex_unlock(&d->lock);
        return;
    }
    pad_record *r = &d->pads[d->n++];
    g_strlcpy(r->name, GST_PAD_NAME(pad), sizeof r->name);
    gst_segment_init(&r->segment, GST_FORMAT_UNDEFINED);
    r->pad = pad;
    g_mutex_unlock(&d->lock);
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                      count_probe, r, NULL);
    GstElement *sink = gst_element_factory_make("fakesink", NULL);
    g_object_set(sink, "sync", FALSE, "async", FALSE, NULL);
    gst_bin_add(GST_BIN(d->pipeline), sink);
    gst_element_sync_state_with_parent(sink);
    GstPad *sinkpad = gst_element_get_static_pad(sink, "sink");
    gst_pad_link(pad, sinkpad);
    gst_object_unref(sinkpad);
}

/* The decoded pad whose stream-start names the stream and whose caps start
 * with media, or NULL. */
static pad_record *find_decoded(decoded_pads *d, const char *stream_id, const char *media)
{
    gchar *part = g_strdup_printf("/%s/", stream_id);
    pad_record *found = NULL;
    g_mutex_lock(&d->lock);
    for (int i = 0; i < d->n && !found; i++)
        if (strstr(d->pads[i].stream_start_id, part) && g_str_has_prefix(d->pads[i].caps, media))
            found = &d->pads[i];
    g_mutex_unlock(&d->lock);
    g_free(part);
    return found;
}

static pad_record *wait_decoded(decoded_pads *d, const char *stream_id, const char *media,
                                int timeout_ms)
{
    gint64 deadline = now_ms() + timeout_ms;
    pad_record *r;
    while (!(r = find_decoded(d, stream_id, media)) && now_ms() < deadline)
        g_usleep(10000);
    if (!r)
        printf("#   no decoded %s of stream %s within %d ms\n", media, stream_id, timeout_ms);
    return r;
}

static void a_whole_room_uri_decodes_every_stream_and_never_says_no_more_pads(void)
{
    if (!start_server(NULL))
        return;
    GstElement *pub1 = launch("zegosink name=z server=%s app-id=1 room-id=r27 stream-id=w1 "
                              "user-id=alice " VIDEO_RAW " ! z.video " AUDIO_RAW " ! z.audio",
                              srv.url);
    GstElement *pub2 = launch("zegosink name=z server=%s app-id=1 room-id=r27 stream-id=w2 "
                              "user-id=carol " VIDEO_RAW " ! z.video",
                              srv.url);
    decoded_pads *d = g_new0(decoded_pads, 1);
    g_mutex_init(&d->lock);
    source_counts src = {0, 0};
    d->pipeline = gst_pipeline_new(NULL);
    GstElement *dec = gst_element_factory_make("uridecodebin", NULL);
    /* No stream in the URI: the whole room. */
    gchar *uri = g_strdup_printf("zego://127.0.0.1:%d/r27?app-id=1&user-id=bob", srv.port);
    g_object_set(dec, "uri", uri, NULL);
    g_free(uri);
    g_signal_connect(dec, "source-setup", G_CALLBACK(on_source_setup), &src);
    g_signal_connect(dec, "pad-added", G_CALLBACK(on_decoded_pad), d);
    gst_bin_add(GST_BIN(d->pipeline), dec);
    gst_element_set_state(pub1, GST_STATE_PLAYING);
    gst_element_set_state(pub2, GST_STATE_PLAYING);
    CHECK(gst_element_set_state(d->pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
    pad_record *v1 = wait_decoded(d, "w1", "video/x-raw", TIMEOUT);
    pad_record *a1 = wait_decoded(d, "w1", "audio/x-raw", TIMEOUT);
    pad_record *v2 = wait_decoded(d, "w2", "video/x-raw", TIMEOUT);
    CHECK(v1 && a1 && v2);
    if (v1 && a1 && v2) {
        CHECK(wait_count(&v1->buffers, 10, TIMEOUT));
        CHECK(wait_count(&a1->buffers, 10, TIMEOUT));
        CHECK(wait_count(&v2->buffers, 10, TIMEOUT));
        CHECK_INT(g_atomic_int_get(&src.pads), 3);
        /* Streams may come at any time: zegosrc never says it has all its
         * pads (only one playing a chosen stream does). */
        CHECK_INT(g_atomic_int_get(&src.no_more_pads), 0);
        /* One publisher leaves: its output ends, the other's goes on, and
         * the pipeline is not at its end. */
        stop_pipeline(pub2);
        pub2 = NULL;
        CHECK(wait_count(&v2->eos, 1, TIMEOUT));
        int before = g_atomic_int_get(&v1->buffers);
        CHECK(wait_count(&v1->buffers, before + 10, TIMEOUT));
        CHECK_INT(g_atomic_int_get(&v1->eos), 0);
        GstBus *bus = gst_element_get_bus(d->pipeline);
        GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
        CHECK(m == NULL);
        if (m)
            gst_message_unref(m);
        gst_object_unref(bus);
    }
    drain_bus(d->pipeline, "player");
    stop_pipeline(d->pipeline);
    stop_pipeline(pub1);
    stop_pipeline(pub2);
    g_mutex_clear(&d->lock);
    g_free(d);
    stop_server();
}

/* ---- A codec change ---- */

static void a_codec_change_replaces_the_pad(void)
{
    static const char *const need[] = {"vp8enc", NULL};
    if (!have_elements(need))
        return;
    if (!start_server(NULL))
        return;
    /* With stream-id set, the pads stay while the publisher is away. */
    gchar *desc = g_strdup_printf(
        "zegosrc name=src server=%s app-id=1 room-id=r28 user-id=bob stream-id=cc", srv.url);
    play_state *ps = play_new(desc);
    g_free(desc);
    gst_element_set_state(ps->pipeline, GST_STATE_PLAYING);
    GstElement *pub = launch("zegosink name=z server=%s app-id=1 room-id=r28 stream-id=cc "
                             "user-id=alice " VIDEO_RAW " ! z.video",
                             srv.url);
    gst_element_set_state(pub, GST_STATE_PLAYING);
    pad_record *v1 = wait_pad(ps, "video_", "cc", TIMEOUT);
    CHECK(v1 != NULL);
    if (v1 && wait_count(&v1->buffers, 10, TIMEOUT)) {
        g_mutex_lock(&ps->lock);
        CHECK_CONTAINS(v1->caps, "video/x-h264");
        g_mutex_unlock(&ps->lock);
        /* The publisher comes back with VP8: a pad of H.264 cannot carry it. */
        stop_pipeline(pub);
        pub = launch("zegosink name=z server=%s app-id=1 room-id=r28 stream-id=cc "
                     "user-id=alice video-codec=vp8 " VIDEO_RAW " ! z.video",
                     srv.url);
        gst_element_set_state(pub, GST_STATE_PLAYING);
        pad_record *v2 = wait_other_pad(ps, "video_", "cc", v1, TIMEOUT);
        CHECK(v2 != NULL);
        if (v2) {
            CHECK(wait_count(&v2->buffers, 10, TIMEOUT));
            g_mutex_lock(&ps->lock);
            CHECK_CONTAINS(v2->caps, "video/x-vp8");
            CHECK_CONTAINS(v2->caps, "width=(int)160");
            g_mutex_unlock(&ps->lock);
        }
        /* The old pad ended and went. */
        CHECK(wait_count(&v1->eos, 1, TIMEOUT));
        CHECK(wait_count(&v1->removed, 1, TIMEOUT));
        g_mutex_lock(&ps->lock);
        CHECK_INT(ps->n_pads, 2);
        g_mutex_unlock(&ps->lock);
    } else {
        CHECK(!"the first publisher's frames are played");
    }
    drain_bus(ps->pipeline, "player");
    drain_bus(pub, "publisher");
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
    RUN(audio_and_video_leave_zegosrc_as_in_sync_as_they_were_sent);
    RUN(vp8_encoded_and_raw_are_published_played_and_decoded);
    RUN(vp9_encoded_and_raw_are_published_played_and_decoded);
    RUN(av1_encoded_and_raw_are_published_played_and_decoded);
    RUN(a_late_player_gets_a_keyframe_the_encoder_made_on_request);
    RUN(the_first_buffer_after_a_gap_is_discont_and_no_other);
    RUN(playbin_plays_a_zego_uri_until_its_publisher_stops);
    RUN(a_whole_room_uri_decodes_every_stream_and_never_says_no_more_pads);
    RUN(a_codec_change_replaces_the_pad);
    RUN(an_eos_on_every_pad_sends_the_last_frames_and_unpublishes);
    return harness_finish();
}
