/**
 * SECTION:element-zegosink
 * @title: zegosink
 *
 * zegosink logs into a room of a zego-room-server and publishes a stream
 * under #GstZegoSink:stream-id.  Request a `video` pad, an `audio` pad or
 * both.  Encoded input is sent as it is: H.264 and H.265 (a parser makes it
 * an Annex B byte-stream with SPS/PPS before every keyframe), VP8, VP9, AV1,
 * Opus and raw AAC.  Raw input is encoded for real time: x264enc
 * (tune=zerolatency, speed-preset=ultrafast, a keyframe every 2 seconds, no
 * B-frames) and opusenc, or the elements set as #GstZegoSink:video-encoder
 * and #GstZegoSink:audio-encoder.  Publishing starts once every requested pad
 * has its caps (what comes before is kept, bounded, and sent then); a caps
 * change starts a new generation of the stream.  When every pad has had EOS
 * the stream is finished: its last frames are sent, the stream leaves the
 * room, and then the EOS goes on.
 *
 * The room's events are posted as element messages (zego-room-state,
 * zego-user-update, zego-stream-update, zego-publisher-state,
 * zego-publisher-quality, zego-keyframe-request...).
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=30/1 ! \
 *     zegosink server=ws://127.0.0.1:7600/ws app-id=1 room-id=r stream-id=s
 * ]| Publishes a test pattern as stream "s" in room "r".
 * |[
 * gst-launch-1.0 zegosink name=z server=ws://127.0.0.1:7600/ws app-id=1 room-id=r stream-id=s \
 *     videotestsrc is-live=true ! video/x-raw,width=320,height=240 ! z.video \
 *     audiotestsrc is-live=true ! z.audio
 * ]| Publishes a test pattern and a tone.
 * |[
 * gst-launch-1.0 videotestsrc is-live=true ! x264enc tune=zerolatency key-int-max=30 ! \
 *     zegosink uri="zego://127.0.0.1:7600/r/s?app-id=1"
 * ]| Publishes H.264 encoded upstream, configured by a URI.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

#include "gstzegocodec.h"
#include "gstzegoobject.h"
#include "gstzegosink.h"

GST_DEBUG_CATEGORY_STATIC(gst_zego_sink_debug);
#define GST_CAT_DEFAULT gst_zego_sink_debug

enum {
    PROP_VIDEO_ENCODER = PROP_ZEGO_LAST,
    PROP_AUDIO_ENCODER,
    PROP_VIDEO_CODEC,
    PROP_AUDIO_CODEC,
    PROP_EXTRA_INFO,
    PROP_STATS,
    N_PROPERTIES
};

static GParamSpec *properties[N_PROPERTIES];

#define VIDEO_TRACK 0
#define AUDIO_TRACK 1

typedef struct SinkBranch {
    GstZegoSink *sink;
    gboolean is_video;
    GstPad *ghost;
    GList *elements; /* of the branch, in the bin */
    GstElement *appsink;
    gboolean built;
    gboolean have_track;
    zego_track track;
    GstCaps *track_caps; /* the caps the track was made from */
    guint64 frames;
    gboolean eos;        /* the branch's appsink had EOS and no buffer since */
    GQueue pending;      /* of GstSample: before publishing starts */
    gsize pending_bytes; /* ... their payload, at most PENDING_MAX_BYTES */
    guint64 pending_dropped;
} SinkBranch;

/* What a branch keeps while the other pad still waits for its caps (a source
 * that is not live may give all of its media before then). */
#define PENDING_MAX_BYTES (8 * 1024 * 1024)

struct _GstZegoSink {
    GstBin parent;

    GstZegoObject *zobj;
    GMutex lock; /* everything below */
    GstElement *video_encoder, *audio_encoder;
    GstZegoVideoCodec video_codec;
    GstZegoAudioCodec audio_codec;
    gchar *extra_info;
    SinkBranch *video, *audio;
    gboolean running; /* logged in: PAUSED or PLAYING */
    gboolean publishing;
    gboolean ended;        /* every pad had EOS: the stream was unpublished */
    gint keyframe_pending; /* atomic */
    guint64 frames_sent, send_errors;
};

static GstStaticPadTemplate video_template = GST_STATIC_PAD_TEMPLATE(
    "video", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS("video/x-raw; video/x-h264; video/x-h265; video/x-vp8; video/x-vp9; "
                    "video/x-av1"));
static GstStaticPadTemplate audio_template = GST_STATIC_PAD_TEMPLATE(
    "audio", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS("audio/x-raw; audio/x-opus; audio/mpeg, mpegversion=(int)4"));

static void gst_zego_sink_uri_handler_init(gpointer g_iface, gpointer iface_data);

#define gst_zego_sink_parent_class parent_class
GType gst_zego_video_codec_get_type(void)
{
    static GType type;
    static const GEnumValue values[] = {{GST_ZEGO_VIDEO_CODEC_H264, "H.264 (x264enc)", "h264"},
                                        {GST_ZEGO_VIDEO_CODEC_H265, "H.265 (x265enc)", "h265"},
                                        {GST_ZEGO_VIDEO_CODEC_VP8, "VP8 (vp8enc)", "vp8"},
                                        {GST_ZEGO_VIDEO_CODEC_VP9, "VP9 (vp9enc)", "vp9"},
                                        {GST_ZEGO_VIDEO_CODEC_AV1, "AV1 (av1enc)", "av1"},
                                        {0, NULL, NULL}};
    if (g_once_init_enter(&type))
        g_once_init_leave(&type, g_enum_register_static("GstZegoVideoCodec", values));
    return type;
}

GType gst_zego_audio_codec_get_type(void)
{
    static GType type;
    static const GEnumValue values[] = {{GST_ZEGO_AUDIO_CODEC_OPUS, "Opus (opusenc)", "opus"},
                                        {GST_ZEGO_AUDIO_CODEC_AAC, "AAC-LC (voaacenc)", "aac"},
                                        {0, NULL, NULL}};
    if (g_once_init_enter(&type))
        g_once_init_leave(&type, g_enum_register_static("GstZegoAudioCodec", values));
    return type;
}

G_DEFINE_TYPE_WITH_CODE(GstZegoSink, gst_zego_sink, GST_TYPE_BIN,
                        G_IMPLEMENT_INTERFACE(GST_TYPE_URI_HANDLER,
                                              gst_zego_sink_uri_handler_init));
GST_ELEMENT_REGISTER_DEFINE(zegosink, "zegosink", GST_RANK_NONE, GST_TYPE_ZEGO_SINK);

/* ---- Publishing ---- */

static size_t collect_tracks(GstZegoSink *sink, zego_track *tracks)
{
    size_t n = 0;
    if (sink->video && sink->video->have_track)
        tracks[n++] = sink->video->track;
    if (sink->audio && sink->audio->have_track)
        tracks[n++] = sink->audio->track;
    return n;
}

static gboolean all_tracks_known(GstZegoSink *sink)
{
    return (sink->video || sink->audio) && (!sink->video || sink->video->have_track) &&
           (!sink->audio || sink->audio->have_track);
}

/* ---- Frames ---- */

/* With the lock: gives a sample's buffer to the engine. */
static void send_sample(GstZegoSink *sink, SinkBranch *b, GstSample *sample)
{
    zego_engine *engine = gst_zego_object_get_engine(sink->zobj);
    GstBuffer *buf = gst_sample_get_buffer(sample);
    const GstSegment *seg = gst_sample_get_segment(sample);
    if (engine && buf) {
        GstMapInfo map;
        if (gst_buffer_map(buf, &map, GST_MAP_READ)) {
            GstClockTime pts = GST_BUFFER_PTS(buf), dts = GST_BUFFER_DTS(buf);
            if (seg && seg->format == GST_FORMAT_TIME) {
                if (GST_CLOCK_TIME_IS_VALID(pts))
                    pts = gst_segment_to_running_time(seg, GST_FORMAT_TIME, pts);
                if (GST_CLOCK_TIME_IS_VALID(dts))
                    dts = gst_segment_to_running_time(seg, GST_FORMAT_TIME, dts);
            }
            if (!GST_CLOCK_TIME_IS_VALID(pts))
                pts = GST_CLOCK_TIME_IS_VALID(dts) ? dts : 0;
            if (!GST_CLOCK_TIME_IS_VALID(dts))
                dts = pts;
            gboolean key = !GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);
            uint8_t flags = 0;
            if (key)
                flags |= ZEGO_FRAME_FLAG_KEY;
            if (key && b->is_video &&
                (b->track.codec == ZEGO_CODEC_H264 || b->track.codec == ZEGO_CODEC_H265))
                flags |= ZEGO_FRAME_FLAG_CONFIG;
            zego_media_frame f = {.track = (uint8_t)b->track.id,
                                  .flags = flags,
                                  .pts_us = (int64_t)(pts / GST_USECOND),
                                  .dts_us = (int64_t)(dts / GST_USECOND),
                                  .data = map.data,
                                  .size = map.size};
            zego_error zerr;
            int rc = zego_engine_send_frame(engine, sink->zobj->stream_id, &f, &zerr);
            if (rc == ZEGO_ERR_OK) {
                sink->frames_sent++;
                b->frames++;
            } else {
                sink->send_errors++;
                GST_LOG_OBJECT(sink, "frame not sent: %s", zerr.message);
            }
            gst_buffer_unmap(buf, &map);
        }
    }
}

/* With the lock: keeps a sample until publishing starts, dropping the oldest
 * beyond PENDING_MAX_BYTES. */
static void pending_push(GstZegoSink *sink, SinkBranch *b, GstSample *sample)
{
    gsize size = gst_buffer_get_size(gst_sample_get_buffer(sample));
    while (b->pending_bytes + size > PENDING_MAX_BYTES && !g_queue_is_empty(&b->pending)) {
        GstSample *old = g_queue_pop_head(&b->pending);
        b->pending_bytes -= gst_buffer_get_size(gst_sample_get_buffer(old));
        gst_sample_unref(old);
        if (b->pending_dropped++ == 0)
            GST_WARNING_OBJECT(sink,
                               "the %s pad waits for the other pad's caps: dropping its oldest "
                               "buffers beyond %d MiB",
                               b->is_video ? "video" : "audio", PENDING_MAX_BYTES >> 20);
    }
    g_queue_push_tail(&b->pending, gst_sample_ref(sample));
    b->pending_bytes += size;
}

static void pending_clear(SinkBranch *b)
{
    if (!b)
        return;
    g_queue_clear_full(&b->pending, (GDestroyNotify)gst_sample_unref);
    b->pending_bytes = 0;
}

static GstClockTime sample_running_time(GstSample *sample)
{
    GstBuffer *buf = gst_sample_get_buffer(sample);
    const GstSegment *seg = gst_sample_get_segment(sample);
    GstClockTime t = GST_BUFFER_DTS_OR_PTS(buf);
    if (GST_CLOCK_TIME_IS_VALID(t) && seg && seg->format == GST_FORMAT_TIME)
        t = gst_segment_to_running_time(seg, GST_FORMAT_TIME, t);
    return GST_CLOCK_TIME_IS_VALID(t) ? t : 0;
}

/* With the lock, once publishing has started: sends what the branches kept,
 * both in running-time order. */
static void pending_flush(GstZegoSink *sink)
{
    GQueue *v = sink->video ? &sink->video->pending : NULL;
    GQueue *a = sink->audio ? &sink->audio->pending : NULL;
    for (;;) {
        GstSample *vs = v ? g_queue_peek_head(v) : NULL;
        GstSample *as = a ? g_queue_peek_head(a) : NULL;
        if (!vs && !as)
            break;
        gboolean take_video = vs && (!as || sample_running_time(vs) <= sample_running_time(as));
        SinkBranch *b = take_video ? sink->video : sink->audio;
        GstSample *sample = g_queue_pop_head(&b->pending);
        send_sample(sink, b, sample);
        gst_sample_unref(sample);
    }
    if (sink->video)
        sink->video->pending_bytes = 0;
    if (sink->audio)
        sink->audio->pending_bytes = 0;
}

/* With the lock.  Starts publishing, or announces new tracks. */
static void publish_tracks(GstZegoSink *sink)
{
    zego_engine *engine = gst_zego_object_get_engine(sink->zobj);
    zego_track tracks[2];
    zego_error zerr;
    if (!engine || !sink->running || !all_tracks_known(sink))
        return;
    size_t n = collect_tracks(sink, tracks);
    const gchar *stream_id = sink->zobj->stream_id;
    int rc;
    if (!sink->publishing) {
        zego_publish_config pc = {.stream_id = stream_id,
                                  .extra_info = sink->extra_info,
                                  .tracks = tracks,
                                  .n_tracks = n};
        GST_INFO_OBJECT(sink, "publishing %s with %zu tracks: %s%s%s", stream_id, n,
                        tracks[0].codec_string, n > 1 ? " " : "",
                        n > 1 ? tracks[1].codec_string : "");
        rc = zego_engine_start_publishing(engine, &pc, &zerr);
        if (rc == ZEGO_ERR_OK)
            sink->publishing = TRUE;
    } else {
        GST_INFO_OBJECT(sink, "new tracks for %s", stream_id);
        rc = zego_engine_update_tracks(engine, stream_id, tracks, n, &zerr);
        g_atomic_int_set(&sink->keyframe_pending, 1);
    }
    if (rc != ZEGO_ERR_OK)
        GST_ELEMENT_ERROR(sink, STREAM, FORMAT,
                          ("Could not publish stream \"%s\": %s", stream_id, zerr.message),
                          ("ZEGO error %d (%s)", (int)zerr.code, zego_error_name(zerr.code)));
}

static GstFlowReturn on_new_sample(GstAppSink *appsink, gpointer user_data)
{
    SinkBranch *b = user_data;
    GstZegoSink *sink = b->sink;
    GstSample *sample = gst_app_sink_pull_sample(appsink);
    if (!sample)
        return GST_FLOW_EOS;
    GstBuffer *buf = gst_sample_get_buffer(sample);
    GstCaps *caps = gst_sample_get_caps(sample);

    if (b->is_video && g_atomic_int_compare_and_exchange(&sink->keyframe_pending, 1, 0)) {
        GstPad *pad = gst_element_get_static_pad(b->appsink, "sink");
        GST_DEBUG_OBJECT(sink, "asking upstream for a keyframe");
        gst_pad_push_event(
            pad, gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
        gst_object_unref(pad);
    }

    g_mutex_lock(&sink->lock);
    b->eos = FALSE;
    if (sink->ended) {
        /* Data again after an EOS (a flushing seek, a new segment): publish again. */
        sink->ended = FALSE;
        publish_tracks(sink);
    }
    if (caps && (!b->track_caps || !gst_caps_is_equal(caps, b->track_caps))) {
        zego_track t = {.id = b->is_video ? VIDEO_TRACK : AUDIO_TRACK};
        if (gst_zego_track_from_caps(caps, buf, &t)) {
            gst_caps_replace(&b->track_caps, caps);
            /* Only a change of what the track says is a new generation. */
            if (!b->have_track || memcmp(&t, &b->track, sizeof t) != 0) {
                b->track = t;
                b->have_track = TRUE;
                GST_DEBUG_OBJECT(sink, "track %u: %s %ux%u %u Hz x%u", t.id, t.codec_string,
                                 t.width, t.height, t.sample_rate, t.channels);
                publish_tracks(sink);
            }
        }
    }
    if (b->have_track && buf) {
        gboolean kept = (sink->video && !g_queue_is_empty(&sink->video->pending)) ||
                        (sink->audio && !g_queue_is_empty(&sink->audio->pending));
        if (sink->publishing && kept) {
            /* Publishing just started: this sample after those kept before,
             * all in running-time order (a stream starts at its keyframe). */
            pending_push(sink, b, sample);
            pending_flush(sink);
        } else if (sink->publishing) {
            send_sample(sink, b, sample);
        } else if (sink->running) {
            pending_push(sink, b, sample);
        }
    }
    g_mutex_unlock(&sink->lock);
    gst_sample_unref(sample);
    return GST_FLOW_OK;
}

/* How long an EOS waits for the frames given before it to reach the server. */
#define EOS_FINISH_TIMEOUT_MS 3000

static gboolean all_pads_eos(GstZegoSink *sink)
{
    return (sink->video || sink->audio) && (!sink->video || sink->video->eos) &&
           (!sink->audio || sink->audio->eos);
}

/* Called on a branch's streaming thread once every buffer before the EOS went
 * through on_new_sample.  When every pad has had its EOS the stream has ended:
 * the engine sends what it still has (also what waits for the publish socket),
 * closes the media socket cleanly and unpublishes, so players see the stream
 * go after its last frame.  This waits for that, at most
 * EOS_FINISH_TIMEOUT_MS, so that the EOS message (and gst-launch-1.0 -e
 * ending) comes after it.  The element stays logged in; new data (after a
 * flushing seek) publishes again. */
static void on_eos(GstAppSink *appsink, gpointer user_data)
{
    (void)appsink;
    SinkBranch *b = user_data;
    GstZegoSink *sink = b->sink;
    zego_engine *engine = gst_zego_object_get_engine(sink->zobj);

    g_mutex_lock(&sink->lock);
    b->eos = TRUE;
    gboolean finish = all_pads_eos(sink) && sink->publishing && engine;
    if (finish) {
        GST_INFO_OBJECT(sink, "every pad had EOS: finishing %s", sink->zobj->stream_id);
        zego_engine_finish_publishing(engine, sink->zobj->stream_id, EOS_FINISH_TIMEOUT_MS, NULL);
        sink->publishing = FALSE;
        sink->ended = TRUE;
    }
    g_mutex_unlock(&sink->lock);
    if (!finish)
        return;

    /* The engine gives up at its timeout; this wait only needs to outlast it. */
    gint64 deadline =
        g_get_monotonic_time() + (EOS_FINISH_TIMEOUT_MS + 1000) * G_TIME_SPAN_MILLISECOND;
    zego_publish_stats st;
    while (zego_engine_get_publish_stats(engine, sink->zobj->stream_id, &st, NULL) == ZEGO_ERR_OK) {
        if (g_get_monotonic_time() >= deadline) {
            GST_WARNING_OBJECT(sink, "EOS: %s not finished after %d ms", sink->zobj->stream_id,
                               EOS_FINISH_TIMEOUT_MS + 1000);
            break;
        }
        g_usleep(5000);
    }
}

static void on_keyframe_request(GstElement *element, const char *stream_id, uint32_t track)
{
    (void)stream_id;
    if (track == VIDEO_TRACK)
        g_atomic_int_set(&GST_ZEGO_SINK(element)->keyframe_pending, 1);
}

/* ---- Branches ---- */

static GstElement *make(const gchar *factory)
{
    GstElement *e = gst_element_factory_make(factory, NULL);
    if (!e)
        GST_WARNING("element %s is not available", factory);
    return e;
}

static const gchar *encoder_output_name(GstElement *encoder)
{
    GstPad *pad = gst_element_get_static_pad(encoder, "src");
    const gchar *name = NULL;
    if (pad) {
        GstCaps *caps = gst_pad_query_caps(pad, NULL);
        for (guint i = 0; caps && i < gst_caps_get_size(caps) && !name; i++) {
            const gchar *n =
                g_intern_string(gst_structure_get_name(gst_caps_get_structure(caps, i)));
            GstCaps *pc = gst_zego_publish_caps_for(n);
            if (pc) {
                name = n;
                gst_caps_unref(pc);
            }
        }
        if (caps)
            gst_caps_unref(caps);
        gst_object_unref(pad);
    }
    return name;
}

/* The encoder for raw input when none is set: the codec chosen by the
 * video-codec / audio-codec property, set up for real time (the libraries'
 * defaults aim at files and are tens of times too slow), with a keyframe
 * every 2 seconds and no B-frames.  *name: the factory tried. */
static GstElement *make_default_encoder(GstZegoSink *sink, gboolean is_video, const GstStructure *s,
                                        const gchar **name)
{
    g_mutex_lock(&sink->lock);
    GstZegoVideoCodec vcodec = sink->video_codec;
    GstZegoAudioCodec acodec = sink->audio_codec;
    g_mutex_unlock(&sink->lock);
    GstElement *e = NULL;
    if (!is_video) {
        if (acodec == GST_ZEGO_AUDIO_CODEC_AAC) {
            /* voaacenc, else libav's. */
            *name = "voaacenc";
            e = gst_element_factory_make("voaacenc", NULL);
            if (!e) {
                *name = "avenc_aac";
                e = gst_element_factory_make("avenc_aac", NULL);
            }
            if (e)
                g_object_set(e, "bitrate", 128000, NULL);
        } else {
            *name = "opusenc";
            e = gst_element_factory_make("opusenc", NULL);
        }
        return e;
    }
    gint fn = 30, fd = 1, w = 640, h = 360;
    gst_structure_get_fraction(s, "framerate", &fn, &fd);
    gst_structure_get_int(s, "width", &w);
    gst_structure_get_int(s, "height", &h);
    gdouble fps = fn > 0 && fd > 0 ? (gdouble)fn / fd : 30.0;
    guint key_int = (guint)CLAMP(2 * fps + 0.5, 1, 600);
    switch (vcodec) {
    case GST_ZEGO_VIDEO_CODEC_H265:
        *name = "x265enc";
        if ((e = gst_element_factory_make(*name, NULL))) {
            gst_util_set_object_arg(G_OBJECT(e), "tune", "zerolatency");
            gst_util_set_object_arg(G_OBJECT(e), "speed-preset", "ultrafast");
            g_object_set(e, "key-int-max", key_int, NULL);
        }
        break;
    case GST_ZEGO_VIDEO_CODEC_VP8:
    case GST_ZEGO_VIDEO_CODEC_VP9:
        *name = vcodec == GST_ZEGO_VIDEO_CODEC_VP8 ? "vp8enc" : "vp9enc";
        if ((e = gst_element_factory_make(*name, NULL))) {
            /* target-bitrate 0: from the resolution (bits-per-pixel). */
            g_object_set(e, "deadline", (gint64)1, "cpu-used", 8, "lag-in-frames", 0,
                         "keyframe-max-dist", (gint)key_int, "target-bitrate", 0, "threads", 2,
                         NULL);
            gst_util_set_object_arg(G_OBJECT(e), "end-usage", "cbr");
            if (vcodec == GST_ZEGO_VIDEO_CODEC_VP9)
                g_object_set(e, "row-mt", TRUE, NULL);
        }
        break;
    case GST_ZEGO_VIDEO_CODEC_AV1:
        *name = "av1enc";
        if ((e = gst_element_factory_make(*name, NULL))) {
            /* About what the VPx encoders choose: 0.05 bits per pixel. */
            guint kbps = (guint)CLAMP((gdouble)w * h * fps * 0.05 / 1000, 100, 20000);
            gst_util_set_object_arg(G_OBJECT(e), "usage-profile", "realtime");
            gst_util_set_object_arg(G_OBJECT(e), "end-usage", "cbr");
            /* The element's quantizer bounds default to 0..0, on which
             * libaom's CBR asserts: WebRTC's 10..56. */
            g_object_set(e, "cpu-used", 8, "lag-in-frames", 0, "keyframe-max-dist", key_int,
                         "target-bitrate", kbps, "min-quantizer", 10, "max-quantizer", 56, "row-mt",
                         TRUE, "threads", 2, NULL);
        }
        break;
    case GST_ZEGO_VIDEO_CODEC_H264:
    default:
        *name = "x264enc";
        if ((e = gst_element_factory_make(*name, NULL))) {
            gst_util_set_object_arg(G_OBJECT(e), "tune", "zerolatency");
            gst_util_set_object_arg(G_OBJECT(e), "speed-preset", "ultrafast");
            g_object_set(e, "key-int-max", key_int, "bframes", 0, NULL);
        }
        break;
    }
    return e;
}

/* Builds [converter ! encoder !] [parser !] capsfilter ! appsink for the
 * first caps of a pad.  In the streaming thread, without the lock. */
static gboolean build_branch(SinkBranch *b, GstCaps *caps)
{
    GstZegoSink *sink = b->sink;
    const GstStructure *s = gst_caps_get_structure(caps, 0);
    const gchar *name = gst_structure_get_name(s);
    gboolean raw = g_str_has_suffix(name, "/x-raw");
    GList *chain = NULL;
    const gchar *encoded = name;
    GstElement *encoder_ref = NULL;
    gboolean default_encoder = FALSE;

    if (raw) {
        GstElement *encoder;
        g_mutex_lock(&sink->lock);
        encoder = b->is_video ? sink->video_encoder : sink->audio_encoder;
        if (encoder && !GST_OBJECT_PARENT(encoder))
            gst_object_ref(encoder);
        else
            encoder = NULL;
        g_mutex_unlock(&sink->lock);
        default_encoder = encoder == NULL;
        const gchar *wanted = NULL;
        if (!encoder)
            encoder = make_default_encoder(sink, b->is_video, s, &wanted);
        if (!encoder) {
            GST_ELEMENT_ERROR(
                sink, CORE, MISSING_PLUGIN,
                ("The %s encoder %s is not installed", b->is_video ? "video" : "audio", wanted),
                ("set the %s property to an encoder that is",
                 b->is_video ? "video-encoder" : "audio-encoder"));
            return FALSE;
        }
        if (g_object_is_floating(encoder))
            gst_object_ref_sink(encoder);
        encoded = encoder_output_name(encoder);
        if (!encoded) {
            GST_ELEMENT_ERROR(
                sink, CORE, NEGOTIATION,
                ("The encoder %s does not produce a format a room takes", GST_OBJECT_NAME(encoder)),
                (NULL));
            gst_object_unref(encoder);
            return FALSE;
        }
        encoder_ref = encoder; /* a non-floating reference, ours until the bin has it */
        if (b->is_video) {
            chain = g_list_append(chain, make("videoconvert"));
            if (default_encoder) {
                /* 8-bit 4:2:0: what every decoder of a room takes. */
                GstElement *f = make("capsfilter");
                GstCaps *c = gst_caps_from_string("video/x-raw,format=I420");
                if (f)
                    g_object_set(f, "caps", c, NULL);
                gst_caps_unref(c);
                chain = g_list_append(chain, f);
            }
        } else {
            chain = g_list_append(chain, make("audioconvert"));
            chain = g_list_append(chain, make("audioresample"));
        }
        chain = g_list_append(chain, encoder);
    }

    GstCaps *out_caps = gst_zego_publish_caps_for(encoded);
    if (!out_caps) {
        GST_ELEMENT_ERROR(sink, STREAM, FORMAT, ("Format %s cannot be published", encoded), (NULL));
        g_list_free_full(chain, gst_object_unref);
        return FALSE;
    }
    const gchar *parser = NULL;
    if (strcmp(encoded, "video/x-h264") == 0)
        parser = "h264parse";
    else if (strcmp(encoded, "video/x-h265") == 0)
        parser = "h265parse";
    else if (strcmp(encoded, "video/x-av1") == 0)
        parser = "av1parse";
    else if (strcmp(encoded, "video/x-vp9") == 0)
        parser = "vp9parse";
    else if (strcmp(encoded, "audio/mpeg") == 0)
        parser = "aacparse";
    if (parser) {
        GstElement *p = make(parser);
        if (p && g_object_class_find_property(G_OBJECT_GET_CLASS(p), "config-interval"))
            g_object_set(p, "config-interval", -1, NULL);
        chain = g_list_append(chain, p);
    }
    GstElement *filter = make("capsfilter");
    if (filter)
        g_object_set(filter, "caps", out_caps, NULL);
    gst_caps_unref(out_caps);
    chain = g_list_append(chain, filter);
    GstElement *appsink = make("appsink");
    chain = g_list_append(chain, appsink);

    for (GList *l = chain; l; l = l->next) {
        if (!l->data) {
            GST_ELEMENT_ERROR(sink, CORE, MISSING_PLUGIN,
                              ("An element the branch needs is missing"), (NULL));
            for (GList *m = chain; m; m = m->next)
                if (m->data)
                    gst_object_unref(m->data);
            g_list_free(chain);
            return FALSE;
        }
    }
    g_object_set(appsink, "sync", FALSE, "async", FALSE, "max-buffers", 64, "drop", TRUE,
                 "enable-last-sample", FALSE, NULL);
    GstAppSinkCallbacks cb = {.eos = on_eos, .new_sample = on_new_sample};
    gst_app_sink_set_callbacks(GST_APP_SINK(appsink), &cb, b, NULL);

    GstElement *prev = NULL;
    for (GList *l = chain; l; l = l->next) {
        gst_bin_add(GST_BIN(sink), l->data);
        gst_object_ref(l->data); /* the branch's own, dropped in free_branch_elements */
        if (prev && !gst_element_link(prev, l->data)) {
            GST_ELEMENT_ERROR(
                sink, CORE, NEGOTIATION,
                ("Could not link %s to %s", GST_OBJECT_NAME(prev), GST_OBJECT_NAME(l->data)),
                (NULL));
        }
        prev = l->data;
    }
    for (GList *l = g_list_last(chain); l; l = l->prev)
        gst_element_sync_state_with_parent(l->data);
    /* The bin holds the encoder now. */
    if (encoder_ref)
        gst_object_unref(encoder_ref);
    GstPad *target = gst_element_get_static_pad(chain->data, "sink");
    gst_ghost_pad_set_target(GST_GHOST_PAD(b->ghost), target);
    gst_object_unref(target);

    g_mutex_lock(&sink->lock);
    b->elements = chain;
    b->appsink = appsink;
    b->built = TRUE;
    g_mutex_unlock(&sink->lock);
    return TRUE;
}

static gboolean branch_sink_event(GstPad *pad, GstObject *parent, GstEvent *event)
{
    SinkBranch *b = gst_pad_get_element_private(pad);
    if (GST_EVENT_TYPE(event) == GST_EVENT_CAPS && !b->built) {
        GstCaps *caps;
        gst_event_parse_caps(event, &caps);
        GST_DEBUG_OBJECT(pad, "first caps %" GST_PTR_FORMAT, caps);
        if (!build_branch(b, caps)) {
            gst_event_unref(event);
            return FALSE;
        }
    }
    return gst_pad_event_default(pad, parent, event);
}

static gboolean branch_sink_query(GstPad *pad, GstObject *parent, GstQuery *query)
{
    SinkBranch *b = gst_pad_get_element_private(pad);
    if (!b->built) {
        if (GST_QUERY_TYPE(query) == GST_QUERY_CAPS) {
            GstCaps *filter, *templ = gst_pad_get_pad_template_caps(pad), *res;
            /* Raw input the encoder takes as it is comes first. */
            GstCaps *preferred = gst_caps_from_string(
                b->is_video ? "video/x-raw, format=(string)I420"
                            : "audio/x-raw, format=(string)S16LE, rate=(int)48000");
            templ = gst_caps_merge(preferred, templ);
            gst_query_parse_caps(query, &filter);
            res = filter ? gst_caps_intersect_full(filter, templ, GST_CAPS_INTERSECT_FIRST)
                         : gst_caps_ref(templ);
            gst_query_set_caps_result(query, res);
            gst_caps_unref(res);
            gst_caps_unref(templ);
            return TRUE;
        }
        if (GST_QUERY_TYPE(query) == GST_QUERY_ACCEPT_CAPS) {
            GstCaps *caps, *templ = gst_pad_get_pad_template_caps(pad);
            gst_query_parse_accept_caps(query, &caps);
            gst_query_set_accept_caps_result(query, gst_caps_can_intersect(caps, templ));
            gst_caps_unref(templ);
            return TRUE;
        }
    }
    return gst_pad_query_default(pad, parent, query);
}

static GstPad *gst_zego_sink_request_new_pad(GstElement *element, GstPadTemplate *templ,
                                             const gchar *name, const GstCaps *caps)
{
    (void)name, (void)caps;
    GstZegoSink *sink = GST_ZEGO_SINK(element);
    gboolean is_video = strcmp(GST_PAD_TEMPLATE_NAME_TEMPLATE(templ), "video") == 0;

    g_mutex_lock(&sink->lock);
    if ((is_video && sink->video) || (!is_video && sink->audio)) {
        g_mutex_unlock(&sink->lock);
        GST_WARNING_OBJECT(sink, "there is a %s pad already", is_video ? "video" : "audio");
        return NULL;
    }
    SinkBranch *b = g_new0(SinkBranch, 1);
    b->sink = sink;
    b->is_video = is_video;
    b->track.id = is_video ? VIDEO_TRACK : AUDIO_TRACK;
    b->ghost = gst_ghost_pad_new_no_target_from_template(is_video ? "video" : "audio", templ);
    gst_pad_set_element_private(b->ghost, b);
    gst_pad_set_event_function(b->ghost, branch_sink_event);
    gst_pad_set_query_function(b->ghost, branch_sink_query);
    if (is_video)
        sink->video = b;
    else
        sink->audio = b;
    g_mutex_unlock(&sink->lock);

    gst_pad_set_active(b->ghost, TRUE);
    gst_element_add_pad(element, b->ghost);
    return b->ghost;
}

static void free_branch_elements(GstZegoSink *sink, SinkBranch *b)
{
    for (GList *l = b->elements; l; l = l->next) {
        /* When the sink is disposed its children are gone already. */
        if (GST_OBJECT_PARENT(l->data) == GST_OBJECT(sink)) {
            gst_element_set_locked_state(l->data, TRUE);
            gst_element_set_state(l->data, GST_STATE_NULL);
            gst_bin_remove(GST_BIN(sink), l->data);
        }
    }
    g_list_free_full(b->elements, gst_object_unref);
    b->elements = NULL;
}

static void gst_zego_sink_release_pad(GstElement *element, GstPad *pad)
{
    GstZegoSink *sink = GST_ZEGO_SINK(element);
    SinkBranch *b = gst_pad_get_element_private(pad);

    g_mutex_lock(&sink->lock);
    if (b == sink->video)
        sink->video = NULL;
    else if (b == sink->audio)
        sink->audio = NULL;
    g_mutex_unlock(&sink->lock);

    gst_ghost_pad_set_target(GST_GHOST_PAD(pad), NULL);
    free_branch_elements(sink, b);
    gst_element_remove_pad(element, pad);

    g_mutex_lock(&sink->lock);
    if (sink->publishing) {
        zego_engine *engine = gst_zego_object_get_engine(sink->zobj);
        zego_track tracks[2];
        size_t n = collect_tracks(sink, tracks);
        if (engine && n)
            zego_engine_update_tracks(engine, sink->zobj->stream_id, tracks, n, NULL);
        else if (engine) {
            zego_engine_stop_publishing(engine, sink->zobj->stream_id, NULL);
            sink->publishing = FALSE;
        }
    }
    g_mutex_unlock(&sink->lock);
    if (b->track_caps)
        gst_caps_unref(b->track_caps);
    pending_clear(b);
    g_free(b);
}

/* ---- State ---- */

static void reset_tracks(SinkBranch *b)
{
    if (!b)
        return;
    b->have_track = FALSE;
    gst_caps_replace(&b->track_caps, NULL);
    b->frames = 0;
    b->eos = FALSE;
    pending_clear(b);
    b->pending_dropped = 0;
}

static GstStateChangeReturn gst_zego_sink_change_state(GstElement *element,
                                                       GstStateChange transition)
{
    GstZegoSink *sink = GST_ZEGO_SINK(element);
    GstStateChangeReturn ret;

    if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
        if (!gst_zego_object_validate(sink->zobj, TRUE))
            return GST_STATE_CHANGE_FAILURE;
        if (!gst_zego_object_open(sink->zobj))
            return GST_STATE_CHANGE_FAILURE;
        g_mutex_lock(&sink->lock);
        sink->running = TRUE;
        sink->publishing = FALSE;
        sink->ended = FALSE;
        sink->frames_sent = sink->send_errors = 0;
        reset_tracks(sink->video);
        reset_tracks(sink->audio);
        g_mutex_unlock(&sink->lock);
    }

    ret = GST_ELEMENT_CLASS(parent_class)->change_state(element, transition);

    if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
        zego_engine *engine = gst_zego_object_get_engine(sink->zobj);
        g_mutex_lock(&sink->lock);
        sink->running = FALSE;
        if (engine && sink->publishing)
            zego_engine_stop_publishing(engine, sink->zobj->stream_id, NULL);
        sink->publishing = FALSE;
        sink->ended = FALSE;
        g_mutex_unlock(&sink->lock);
        gst_zego_object_close(sink->zobj);
    }
    return ret;
}

/* ---- Properties ---- */

static GstStructure *make_stats(GstZegoSink *sink)
{
    zego_publish_stats st;
    memset(&st, 0, sizeof st);
    zego_engine *engine = gst_zego_object_get_engine(sink->zobj);
    g_mutex_lock(&sink->lock);
    gboolean publishing = sink->publishing;
    if (engine && publishing)
        zego_engine_get_publish_stats(engine, sink->zobj->stream_id, &st, NULL);
    GstStructure *s = gst_structure_new(
        "application/x-zego-publish-stats", "publishing", G_TYPE_BOOLEAN, publishing, "state",
        G_TYPE_STRING,
        zego_publisher_state_name((zego_publisher_state)g_atomic_int_get(&sink->zobj->pub_state)),
        "reconnects", G_TYPE_UINT, (guint)g_atomic_int_get(&sink->zobj->reconnects), "frames-given",
        G_TYPE_UINT64, sink->frames_sent, "video-frames", G_TYPE_UINT64,
        sink->video ? sink->video->frames : 0, "audio-frames", G_TYPE_UINT64,
        sink->audio ? sink->audio->frames : 0, "frames-sent", G_TYPE_UINT64,
        (guint64)st.frames_sent, "bytes-sent", G_TYPE_UINT64, (guint64)st.bytes_sent,
        "frames-dropped", G_TYPE_UINT64, (guint64)st.frames_dropped, "video-fps", G_TYPE_DOUBLE,
        st.video_fps, "audio-fps", G_TYPE_DOUBLE, st.audio_fps, "video-kbps", G_TYPE_DOUBLE,
        st.video_kbps, "audio-kbps", G_TYPE_DOUBLE, st.audio_kbps, "rtt-ms", G_TYPE_UINT, st.rtt_ms,
        "delay-ms", G_TYPE_INT64, (gint64)st.delay_ms, "quality", G_TYPE_STRING,
        zego_quality_level_name(publishing ? st.quality : ZEGO_QUALITY_UNKNOWN), NULL);
    g_mutex_unlock(&sink->lock);
    return s;
}

static void gst_zego_sink_set_property(GObject *object, guint prop_id, const GValue *value,
                                       GParamSpec *pspec)
{
    GstZegoSink *sink = GST_ZEGO_SINK(object);
    if (gst_zego_object_set_property(sink->zobj, prop_id, value, pspec))
        return;
    switch (prop_id) {
    case PROP_VIDEO_ENCODER:
    case PROP_AUDIO_ENCODER: {
        GstElement *e = g_value_get_object(value);
        g_mutex_lock(&sink->lock);
        GstElement **field =
            prop_id == PROP_VIDEO_ENCODER ? &sink->video_encoder : &sink->audio_encoder;
        if (*field)
            gst_object_unref(*field);
        *field = e ? gst_object_ref_sink(e) : NULL;
        g_mutex_unlock(&sink->lock);
        break;
    }
    case PROP_VIDEO_CODEC:
        g_mutex_lock(&sink->lock);
        sink->video_codec = g_value_get_enum(value);
        g_mutex_unlock(&sink->lock);
        break;
    case PROP_AUDIO_CODEC:
        g_mutex_lock(&sink->lock);
        sink->audio_codec = g_value_get_enum(value);
        g_mutex_unlock(&sink->lock);
        break;
    case PROP_EXTRA_INFO: {
        zego_error zerr;
        const gchar *info = g_value_get_string(value);
        if (info && zego_validate_extra_info(info, &zerr)) {
            GST_WARNING_OBJECT(sink, "extra-info refused: %s", zerr.message);
            break;
        }
        g_mutex_lock(&sink->lock);
        g_free(sink->extra_info);
        sink->extra_info = g_strdup(info);
        zego_engine *engine = gst_zego_object_get_engine(sink->zobj);
        if (engine && sink->publishing)
            zego_engine_set_stream_extra_info(engine, sink->zobj->stream_id, info ? info : "", NULL,
                                              NULL);
        g_mutex_unlock(&sink->lock);
        break;
    }
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
        break;
    }
}

static void gst_zego_sink_get_property(GObject *object, guint prop_id, GValue *value,
                                       GParamSpec *pspec)
{
    GstZegoSink *sink = GST_ZEGO_SINK(object);
    if (gst_zego_object_get_property(sink->zobj, prop_id, value, pspec))
        return;
    switch (prop_id) {
    case PROP_VIDEO_ENCODER:
        g_mutex_lock(&sink->lock);
        g_value_set_object(value, sink->video_encoder);
        g_mutex_unlock(&sink->lock);
        break;
    case PROP_AUDIO_ENCODER:
        g_mutex_lock(&sink->lock);
        g_value_set_object(value, sink->audio_encoder);
        g_mutex_unlock(&sink->lock);
        break;
    case PROP_VIDEO_CODEC:
        g_mutex_lock(&sink->lock);
        g_value_set_enum(value, sink->video_codec);
        g_mutex_unlock(&sink->lock);
        break;
    case PROP_AUDIO_CODEC:
        g_mutex_lock(&sink->lock);
        g_value_set_enum(value, sink->audio_codec);
        g_mutex_unlock(&sink->lock);
        break;
    case PROP_EXTRA_INFO:
        g_mutex_lock(&sink->lock);
        g_value_set_string(value, sink->extra_info);
        g_mutex_unlock(&sink->lock);
        break;
    case PROP_STATS:
        g_value_take_boxed(value, make_stats(sink));
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
        break;
    }
}

static void gst_zego_sink_finalize(GObject *object)
{
    GstZegoSink *sink = GST_ZEGO_SINK(object);
    gst_zego_object_free(sink->zobj);
    if (sink->video_encoder)
        gst_object_unref(sink->video_encoder);
    if (sink->audio_encoder)
        gst_object_unref(sink->audio_encoder);
    g_free(sink->extra_info);
    g_mutex_clear(&sink->lock);
    G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void gst_zego_sink_class_init(GstZegoSinkClass *klass)
{
    GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
    GstElementClass *element_class = GST_ELEMENT_CLASS(klass);

    gobject_class->set_property = gst_zego_sink_set_property;
    gobject_class->get_property = gst_zego_sink_get_property;
    gobject_class->finalize = gst_zego_sink_finalize;

    gst_zego_object_install_properties(gobject_class, TRUE);

    properties[PROP_VIDEO_ENCODER] = g_param_spec_object(
        "video-encoder", "Video encoder",
        "The encoder for raw video, used as it is configured (default: the video-codec's "
        "encoder set up for real time); its output must be a format a room takes",
        GST_TYPE_ELEMENT, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
    properties[PROP_AUDIO_ENCODER] = g_param_spec_object(
        "audio-encoder", "Audio encoder",
        "The encoder for raw audio, used as it is configured (default: the audio-codec's "
        "encoder)",
        GST_TYPE_ELEMENT, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
    properties[PROP_VIDEO_CODEC] = g_param_spec_enum(
        "video-codec", "Video codec",
        "The codec raw video is encoded to when video-encoder is not set, with a keyframe "
        "every 2 s and no B-frames: h264 (x264enc tune=zerolatency speed-preset=ultrafast), "
        "h265 (x265enc, the same), vp8 / vp9 (vp8enc / vp9enc deadline=1 cpu-used=8 "
        "end-usage=cbr), av1 (av1enc usage-profile=realtime cpu-used=8 end-usage=cbr)",
        GST_TYPE_ZEGO_VIDEO_CODEC, GST_ZEGO_VIDEO_CODEC_H264,
        G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
    properties[PROP_AUDIO_CODEC] = g_param_spec_enum(
        "audio-codec", "Audio codec",
        "The codec raw audio is encoded to when audio-encoder is not set: opus (opusenc) or "
        "aac (voaacenc, else avenc_aac; 128 kbit/s)",
        GST_TYPE_ZEGO_AUDIO_CODEC, GST_ZEGO_AUDIO_CODEC_OPUS,
        G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
    properties[PROP_EXTRA_INFO] = g_param_spec_string(
        "extra-info", "Extra info",
        "The stream's extra info (UTF-8, at most 1024 bytes); may change while playing", NULL,
        G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
    properties[PROP_STATS] =
        g_param_spec_boxed("stats", "Statistics",
                           "Statistics of the published stream (application/x-zego-publish-stats)",
                           GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    for (guint i = PROP_VIDEO_ENCODER; i < N_PROPERTIES; i++)
        g_object_class_install_property(gobject_class, i, properties[i]);

    gst_element_class_add_static_pad_template(element_class, &video_template);
    gst_element_class_add_static_pad_template(element_class, &audio_template);
    gst_element_class_set_static_metadata(element_class, "ZEGO room sink", "Sink/Network",
                                          "Publishes audio and video into a ZEGO-style room",
                                          "The zego-room authors");
    element_class->change_state = GST_DEBUG_FUNCPTR(gst_zego_sink_change_state);
    element_class->request_new_pad = GST_DEBUG_FUNCPTR(gst_zego_sink_request_new_pad);
    element_class->release_pad = GST_DEBUG_FUNCPTR(gst_zego_sink_release_pad);

    GST_DEBUG_CATEGORY_INIT(gst_zego_sink_debug, "zegosink", 0, "ZEGO room sink");
    gst_type_mark_as_plugin_api(GST_TYPE_ZEGO_VIDEO_CODEC, 0);
    gst_type_mark_as_plugin_api(GST_TYPE_ZEGO_AUDIO_CODEC, 0);
}

static void gst_zego_sink_init(GstZegoSink *sink)
{
    static const GstZegoObjectCallbacks cb = {.keyframe_request = on_keyframe_request};
    g_mutex_init(&sink->lock);
    sink->zobj = gst_zego_object_new(GST_ELEMENT(sink), TRUE, &cb);
    GST_OBJECT_FLAG_SET(sink, GST_ELEMENT_FLAG_SINK);
}

/* ---- URI handler ---- */

static GstURIType gst_zego_sink_uri_get_type(GType type)
{
    (void)type;
    return GST_URI_SINK;
}

static const gchar *const *gst_zego_sink_uri_get_protocols(GType type)
{
    (void)type;
    static const gchar *protocols[] = {"zego", NULL};
    return protocols;
}

static gchar *gst_zego_sink_uri_get_uri(GstURIHandler *handler)
{
    return gst_zego_object_get_uri(GST_ZEGO_SINK(handler)->zobj);
}

static gboolean gst_zego_sink_uri_set_uri(GstURIHandler *handler, const gchar *uri, GError **error)
{
    GstZegoSink *sink = GST_ZEGO_SINK(handler);
    if (GST_STATE(sink) > GST_STATE_READY) {
        g_set_error(error, GST_URI_ERROR, GST_URI_ERROR_BAD_STATE,
                    "Changing the URI of zegosink while running is not supported");
        return FALSE;
    }
    return gst_zego_object_set_uri(sink->zobj, uri, error);
}

static void gst_zego_sink_uri_handler_init(gpointer g_iface, gpointer iface_data)
{
    (void)iface_data;
    GstURIHandlerInterface *iface = g_iface;
    iface->get_type = gst_zego_sink_uri_get_type;
    iface->get_protocols = gst_zego_sink_uri_get_protocols;
    iface->get_uri = gst_zego_sink_uri_get_uri;
    iface->set_uri = gst_zego_sink_uri_set_uri;
}
