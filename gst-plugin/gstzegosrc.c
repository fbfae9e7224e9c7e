/**
 * SECTION:element-zegosrc
 * @title: zegosrc
 *
 * zegosrc logs into a room of a zego-room-server and plays its streams: every
 * stream of the room except those of its own user, or only
 * #GstZegoSrc:stream-id when it is set.  Each track of a played stream
 * becomes a sometimes pad `video_%u` or `audio_%u` with the pad properties
 * `stream-id` and `user-id`; its stream-start event's stream id contains the
 * room's stream ID.  The pads carry the encoded media (H.264 and H.265 as
 * parsed by h264parse / h265parse, VP8, VP9, AV1, Opus, AAC), or decoded
 * media with #GstZegoSrc:decode.
 *
 * When a stream is deleted from the room its pads get EOS and are removed.
 * With #GstZegoSrc:stream-id set the pads stay and the stream resumes when its
 * publisher comes back, unless #GstZegoSrc:eos-on-unpublish is set.
 * Timestamps are the publisher's, moved to the pipeline's running time with
 * one offset per stream anchored at the live edge: frames the server replays
 * from its GOP cache are flagged decode-only.
 *
 * The room's events are posted as element messages (zego-room-state,
 * zego-user-update, zego-stream-update, zego-player-state,
 * zego-player-quality...).
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 zegosrc server=ws://127.0.0.1:7600/ws app-id=1 room-id=r ! h264parse ! \
 *     avdec_h264 ! videoconvert ! autovideosink
 * ]| Shows the video of the first stream published in room "r".
 * |[
 * gst-launch-1.0 zegosrc name=z server=ws://127.0.0.1:7600/ws app-id=1 room-id=r stream-id=s \
 *     decode=true z.video_0 ! queue ! videoconvert ! autovideosink \
 *     z.audio_0 ! queue ! audioconvert ! autoaudiosink
 * ]| Plays stream "s" with its sound.
 * |[
 * gst-launch-1.0 playbin uri="zego://127.0.0.1:7600/r/s?app-id=1"
 * ]| The URI form: the stream ends when its publisher stops.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/app/gstappsrc.h>
#include <gst/base/gstflowcombiner.h>

#include "gstzegocodec.h"
#include "gstzegoobject.h"
#include "gstzegosrc.h"

GST_DEBUG_CATEGORY_STATIC(gst_zego_src_debug);
#define GST_CAT_DEFAULT gst_zego_src_debug

#define DEFAULT_LATENCY          200
#define DEFAULT_MAX_STREAMS      16
#define DEFAULT_DECODE           FALSE
#define DEFAULT_EOS_ON_UNPUBLISH FALSE
#define APPSRC_MAX_BYTES         (8 * 1024 * 1024)
#define PENDING_MAX_BYTES        (8 * 1024 * 1024)
/* Clock skew correction: every window, the offset moves by a quarter of the
 * drift seen, at most SKEW_MAX_STEP (1000 ppm, ten times what two ordinary
 * clocks drift apart). */
#define SKEW_WINDOW   (5 * GST_SECOND)
#define SKEW_MAX_STEP (5 * GST_MSECOND)

enum {
    PROP_LATENCY = PROP_ZEGO_LAST,
    PROP_MAX_STREAMS,
    PROP_DECODE,
    PROP_EOS_ON_UNPUBLISH,
    PROP_STATS,
    N_PROPERTIES
};

static GParamSpec *properties[N_PROPERTIES];

/* ---- The pads ---- */

struct _GstZegoSrcPad {
    GstGhostPad parent;
    gchar *stream_id;
    gchar *user_id;
};

enum { PAD_PROP_0, PAD_PROP_STREAM_ID, PAD_PROP_USER_ID };

G_DEFINE_TYPE(GstZegoSrcPad, gst_zego_src_pad, GST_TYPE_GHOST_PAD);

static void gst_zego_src_pad_get_property(GObject *object, guint prop_id, GValue *value,
                                          GParamSpec *pspec)
{
    GstZegoSrcPad *pad = GST_ZEGO_SRC_PAD(object);
    GST_OBJECT_LOCK(pad);
    switch (prop_id) {
    case PAD_PROP_STREAM_ID:
        g_value_set_string(value, pad->stream_id);
        break;
    case PAD_PROP_USER_ID:
        g_value_set_string(value, pad->user_id);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
        break;
    }
    GST_OBJECT_UNLOCK(pad);
}

static void gst_zego_src_pad_finalize(GObject *object)
{
    GstZegoSrcPad *pad = GST_ZEGO_SRC_PAD(object);
    g_free(pad->stream_id);
    g_free(pad->user_id);
    G_OBJECT_CLASS(gst_zego_src_pad_parent_class)->finalize(object);
}

static void gst_zego_src_pad_class_init(GstZegoSrcPadClass *klass)
{
    GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
    gobject_class->get_property = gst_zego_src_pad_get_property;
    gobject_class->finalize = gst_zego_src_pad_finalize;
    g_object_class_install_property(gobject_class, PAD_PROP_STREAM_ID,
                                    g_param_spec_string("stream-id", "Stream ID",
                                                        "The room's stream this pad plays", NULL,
                                                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
    g_object_class_install_property(gobject_class, PAD_PROP_USER_ID,
                                    g_param_spec_string("user-id", "User ID",
                                                        "The user publishing the stream", NULL,
                                                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
}

static void gst_zego_src_pad_init(GstZegoSrcPad *pad)
{
    (void)pad;
}

/* ---- The element ---- */

typedef struct SrcStream SrcStream;

typedef struct SrcTrack {
    SrcStream *stream;
    guint32 id;
    zego_track info;
    GstCaps *caps;
    GstElement *appsrc, *parser, *decoder;
    GstPad *pad;    /* the exposed ghost pad */
    gboolean ready; /* exposed: frames go into appsrc */
    gboolean need_key;
    gboolean discont;
    GQueue pending; /* frames before it is ready */
    gsize pending_bytes;
    gboolean eos_seen;
    gboolean retired; /* replaced by a track of another codec */
    /* The latest pts of a frame pushed decode-only: decoders do not all
     * honour the flag, so their output up to it is dropped here. */
    GstClockTime decode_only_until;
    GstClockTime last_early; /* the last timestamp given to a frame from before 0 */
} SrcTrack;

struct SrcStream {
    gint refcount;
    GstZegoSrc *src;
    gchar *stream_id;
    gchar *user_id;
    guint group_id;
    gboolean removed;  /* no longer in the table */
    gboolean gone;     /* deleted from the room; played on, awaiting its return */
    GPtrArray *tracks; /* SrcTrack* */
    gboolean have_offset;
    GstClockTimeDiff offset; /* running time = pts + offset */
    /* Skew: the least lateness (now - running time) of the frames of each
     * window, against the first window's. */
    GstClockTimeDiff win_start, win_min, skew_ref, skew_total;
    gboolean have_skew_ref;
    gboolean in_burst; /* since the anchor, every frame was older than the latency */
    guint64 frames, dropped;
};

typedef enum { JOB_EXPOSE, JOB_REMOVE, JOB_REMOVE_TRACK, JOB_QUIT } JobKind;

typedef struct Job {
    JobKind kind;
    SrcStream *stream;
    SrcTrack *track; /* JOB_REMOVE_TRACK: a retired track, owned by the job */
} Job;

struct _GstZegoSrc {
    GstBin parent;

    GstZegoObject *zobj;
    GMutex lock; /* everything below */
    GCond cond;  /* EOS passed a pad */
    guint latency_ms;
    guint max_streams;
    gboolean decode;
    gboolean eos_on_unpublish;

    GHashTable *streams; /* stream id -> SrcStream, the played ones */
    GHashTable *known;   /* stream id -> user id, the room's streams we would play */
    gboolean in_playing;
    guint video_pads, audio_pads;
    guint64 frames, dropped;

    GMutex flow_lock;
    GstFlowCombiner *combiner;

    GThread *worker;
    GAsyncQueue *jobs;
    gint no_more_pads; /* atomic: signalled this run */
};

static GstStaticPadTemplate video_template =
    GST_STATIC_PAD_TEMPLATE("video_%u", GST_PAD_SRC, GST_PAD_SOMETIMES, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate audio_template =
    GST_STATIC_PAD_TEMPLATE("audio_%u", GST_PAD_SRC, GST_PAD_SOMETIMES, GST_STATIC_CAPS_ANY);

static void gst_zego_src_uri_handler_init(gpointer g_iface, gpointer iface_data);

#define gst_zego_src_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE(GstZegoSrc, gst_zego_src, GST_TYPE_BIN,
                        G_IMPLEMENT_INTERFACE(GST_TYPE_URI_HANDLER, gst_zego_src_uri_handler_init));
GST_ELEMENT_REGISTER_DEFINE(zegosrc, "zegosrc", GST_RANK_NONE, GST_TYPE_ZEGO_SRC);

static SrcStream *stream_ref(SrcStream *s)
{
    g_atomic_int_inc(&s->refcount);
    return s;
}

static void track_free(SrcTrack *t)
{
    g_queue_clear_full(&t->pending, (GDestroyNotify)gst_buffer_unref);
    if (t->caps)
        gst_caps_unref(t->caps);
    /* Elements not yet in the bin are ours. */
    if (t->appsrc)
        gst_object_unref(t->appsrc);
    if (t->parser)
        gst_object_unref(t->parser);
    if (t->decoder)
        gst_object_unref(t->decoder);
    if (t->pad)
        gst_object_unref(t->pad);
    g_free(t);
}

static void stream_unref(SrcStream *s)
{
    if (!g_atomic_int_dec_and_test(&s->refcount))
        return;
    g_ptr_array_free(s->tracks, TRUE);
    g_free(s->stream_id);
    g_free(s->user_id);
    g_free(s);
}

static void push_job(GstZegoSrc *src, JobKind kind, SrcStream *stream, SrcTrack *track)
{
    Job *job = g_new0(Job, 1);
    job->kind = kind;
    job->stream = stream ? stream_ref(stream) : NULL;
    job->track = track;
    g_async_queue_push(src->jobs, job);
}

/* ---- Engine callbacks (engine thread: never block) ---- */

static SrcTrack *find_track(SrcStream *s, guint32 id)
{
    for (guint i = 0; i < s->tracks->len; i++) {
        SrcTrack *t = g_ptr_array_index(s->tracks, i);
        if (t->id == id)
            return t;
    }
    return NULL;
}

static GstElement *make_decoder(const GstCaps *caps)
{
    GList *all =
        gst_element_factory_list_get_elements(GST_ELEMENT_FACTORY_TYPE_DECODER, GST_RANK_MARGINAL);
    GList *fit = gst_element_factory_list_filter(all, caps, GST_PAD_SINK, TRUE);
    fit = g_list_sort(fit, gst_plugin_feature_rank_compare_func);
    GstElement *e = fit ? gst_element_factory_create(fit->data, NULL) : NULL;
    gst_plugin_feature_list_free(fit);
    gst_plugin_feature_list_free(all);
    return e;
}

/* With the lock.  Takes t out of the stream (its frames go to the track that
 * replaces it) and has the worker end and remove its pad. */
static void retire_track(GstZegoSrc *src, SrcStream *s, SrcTrack *t)
{
    for (guint i = 0; i < s->tracks->len; i++)
        if (g_ptr_array_index(s->tracks, i) == t) {
            g_ptr_array_steal_index(s->tracks, i);
            break;
        }
    t->retired = TRUE;
    if (t->ready)
        gst_app_src_end_of_stream(GST_APP_SRC(t->appsrc));
    push_job(src, JOB_REMOVE_TRACK, s, t);
}

static void on_media_info(zego_engine *engine, const zego_media_info *info, void *user_data)
{
    (void)engine;
    SrcStream *s = user_data;
    GstZegoSrc *src = s->src;
    gboolean expose = FALSE;

    GST_INFO_OBJECT(src, "stream %s generation %u: %zu tracks", info->stream_id, info->generation,
                    info->n_tracks);
    g_mutex_lock(&src->lock);
    s->have_offset = FALSE; /* a new generation: a new timeline */
    for (size_t i = 0; i < info->n_tracks; i++) {
        const zego_track *zt = &info->tracks[i];
        GstCaps *caps = gst_zego_caps_from_track(zt);
        if (!caps) {
            GST_WARNING_OBJECT(src, "stream %s track %u: codec %s not supported", s->stream_id,
                               zt->id, zt->codec_string);
            continue;
        }
        SrcTrack *t = find_track(s, zt->id);
        if (t && (t->info.kind != zt->kind || t->info.codec != zt->codec)) {
            /* Another codec needs another parser and decoder, and the
             * elements downstream may not take it: the track's pad ends
             * and a new pad replaces it, as a demuxer does. */
            GST_INFO_OBJECT(src, "stream %s track %u: codec %s -> %s, replacing its pad",
                            s->stream_id, zt->id, t->info.codec_string, zt->codec_string);
            retire_track(src, s, t);
            t = NULL;
        }
        if (!t) {
            t = g_new0(SrcTrack, 1);
            t->stream = s;
            t->id = zt->id;
            g_queue_init(&t->pending);
            t->decode_only_until = GST_CLOCK_TIME_NONE;
            t->last_early = GST_CLOCK_TIME_NONE;
            t->appsrc = gst_element_factory_make("appsrc", NULL);
            const gchar *parser = gst_zego_parser_for_codec(zt->codec);
            t->parser = parser ? gst_element_factory_make(parser, NULL) : NULL;
            if (src->decode)
                t->decoder = make_decoder(caps);
            gst_object_ref_sink(t->appsrc);
            if (t->parser)
                gst_object_ref_sink(t->parser);
            if (t->decoder)
                gst_object_ref_sink(t->decoder);
            g_object_set(t->appsrc, "format", GST_FORMAT_TIME, "is-live", TRUE, "do-timestamp",
                         FALSE, "block", FALSE, "max-bytes", (guint64)APPSRC_MAX_BYTES,
                         "min-latency", (gint64)src->latency_ms * GST_MSECOND, "max-latency",
                         (gint64)-1, "emit-signals", FALSE, NULL);
            gst_util_set_object_arg(G_OBJECT(t->appsrc), "leaky-type", "downstream");
            g_ptr_array_add(s->tracks, t);
            expose = TRUE;
        }
        /* Video waits for a keyframe when the decoder needs one: a new
         * track, or new parameters.  A generation that changes another
         * track (or comes from a new socket, which the publisher starts at
         * a keyframe) goes on. */
        gboolean same = t->caps && strcmp(t->info.codec_string, zt->codec_string) == 0 &&
                        t->info.width == zt->width && t->info.height == zt->height &&
                        t->info.config_len == zt->config_len &&
                        memcmp(t->info.config, zt->config, zt->config_len) == 0;
        if (!same && zt->kind == ZEGO_TRACK_VIDEO)
            t->need_key = TRUE;
        t->info = *zt;
        gst_caps_replace(&t->caps, caps);
        gst_app_src_set_caps(GST_APP_SRC(t->appsrc), caps);
        gst_caps_unref(caps);
        t->discont = TRUE;
    }
    if (expose)
        push_job(src, JOB_EXPOSE, s, NULL);
    g_mutex_unlock(&src->lock);
}

static void on_frame(zego_engine *engine, const char *stream_id, const zego_media_frame *f,
                     void *user_data)
{
    (void)stream_id;
    SrcStream *s = user_data;
    GstZegoSrc *src = s->src;

    GstClock *clock = gst_element_get_clock(GST_ELEMENT(src));
    if (!clock) {
        g_mutex_lock(&src->lock);
        s->dropped++;
        src->dropped++;
        g_mutex_unlock(&src->lock);
        return;
    }
    GstClockTime now = gst_clock_get_time(clock);
    gst_object_unref(clock);
    GstClockTime base = gst_element_get_base_time(GST_ELEMENT(src));
    GstClockTimeDiff now_rt = GST_CLOCK_DIFF(base, now);

    g_mutex_lock(&src->lock);
    SrcTrack *t = find_track(s, f->track);
    if (!t || s->removed || (t->need_key && !(f->flags & ZEGO_FRAME_FLAG_KEY))) {
        s->dropped++;
        src->dropped++;
        g_mutex_unlock(&src->lock);
        return;
    }
    t->need_key = FALSE;
    GstClockTimeDiff pts = (GstClockTimeDiff)f->pts_us * 1000;
    GstClockTimeDiff dts = (GstClockTimeDiff)f->dts_us * 1000;
    GstClockTimeDiff latency = (GstClockTimeDiff)src->latency_ms * GST_MSECOND;
    if (!s->have_offset) {
        /* Anchor at the live edge: a frame captured age ago is placed age
         * before now, so a replayed GOP lies in the past. */
        gint64 age_us = 0;
        if (f->capture_time_us > 0) {
            gint64 server_now = g_get_real_time() + zego_engine_get_clock_offset_ms(engine) * 1000;
            age_us = CLAMP(server_now - f->capture_time_us, 0, 5 * G_USEC_PER_SEC);
        }
        s->offset = now_rt - age_us * 1000 - pts;
        s->have_offset = TRUE;
        s->win_start = now_rt;
        s->win_min = G_MAXINT64;
        s->have_skew_ref = FALSE;
        s->in_burst = TRUE;
        GST_DEBUG_OBJECT(src, "stream %s: first frame %" G_GINT64_FORMAT " us old", s->stream_id,
                         age_us);
    }
    GstClockTimeDiff ts = pts + s->offset;
    if (ts > now_rt + GST_SECOND) {
        /* The publisher's timeline jumped ahead: re-anchor. */
        s->offset -= ts - now_rt;
        ts = now_rt;
    }
    /* The publisher's clock and ours drift apart: follow slowly, so that
     * hours of play neither fill the buffers nor fall behind. */
    s->win_min = MIN(s->win_min, now_rt - ts);
    if (now_rt - s->win_start >= SKEW_WINDOW) {
        if (!s->have_skew_ref) {
            s->skew_ref = s->win_min;
            s->have_skew_ref = TRUE;
        } else {
            GstClockTimeDiff step =
                CLAMP((s->win_min - s->skew_ref) / 4, -SKEW_MAX_STEP, SKEW_MAX_STEP);
            s->offset += step;
            s->skew_total += step;
            GST_LOG_OBJECT(src, "stream %s: skew step %" G_GINT64_FORMAT " us", s->stream_id,
                           step / 1000);
        }
        s->win_start = now_rt;
        s->win_min = G_MAXINT64;
    }
    GstClockTimeDiff dts_rt = dts + s->offset;

    GstBuffer *buf = gst_buffer_new_memdup(f->data, f->size);
    if (ts >= 0) {
        GST_BUFFER_PTS(buf) = (GstClockTime)ts;
        GST_BUFFER_DTS(buf) = dts_rt >= 0 ? (GstClockTime)dts_rt : GST_BUFFER_PTS(buf);
    } else {
        /* Before the pipeline started (a burst into a young pipeline): such
         * frames are only decoded; they still need increasing timestamps
         * for parsers and decoders. */
        GST_BUFFER_PTS(buf) = GST_BUFFER_DTS(buf) =
            GST_CLOCK_TIME_IS_VALID(t->last_early) ? t->last_early + GST_USECOND : 0;
        t->last_early = GST_BUFFER_PTS(buf);
    }
    if (t->info.kind == ZEGO_TRACK_VIDEO && !(f->flags & ZEGO_FRAME_FLAG_KEY))
        GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);
    /* The old frames that start a stream (the server's GOP cache) are there
     * to be decoded, not shown: up to the first one within the latency. */
    if (s->in_burst && (ts < 0 || ts + latency < now_rt)) {
        GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DECODE_ONLY);
        t->decode_only_until = GST_BUFFER_PTS(buf);
    } else {
        s->in_burst = FALSE;
    }
    if (t->discont || (f->flags & ZEGO_FRAME_FLAG_DISCONT)) {
        GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DISCONT);
        t->discont = FALSE;
    }
    s->frames++;
    src->frames++;
    if (t->ready) {
        gst_app_src_push_buffer(GST_APP_SRC(t->appsrc), buf);
    } else if (t->pending_bytes + f->size <= PENDING_MAX_BYTES) {
        g_queue_push_tail(&t->pending, buf);
        t->pending_bytes += f->size;
    } else {
        gst_buffer_unref(buf);
        s->dropped++;
        src->dropped++;
    }
    g_mutex_unlock(&src->lock);
}

/* Posts the warnings start_stream() collected (without the lock: a bus sync
 * handler may call back into the element). */
static void post_warnings(GstZegoSrc *src, GPtrArray *warnings)
{
    for (guint i = 0; i < warnings->len; i++)
        GST_ELEMENT_WARNING(src, RESOURCE, BUSY, ("%s", (const gchar *)warnings->pdata[i]), (NULL));
    g_ptr_array_free(warnings, TRUE);
}

static void on_stream_end(zego_engine *engine, const char *stream_id, void *user_data);

/* With the lock.  Starts playing a stream; a refusal is added to warnings. */
static void start_stream(GstZegoSrc *src, zego_engine *engine, const gchar *stream_id,
                         const gchar *user_id, GPtrArray *warnings)
{
    if (g_hash_table_contains(src->streams, stream_id))
        return;
    if (g_hash_table_size(src->streams) >= src->max_streams) {
        g_ptr_array_add(warnings,
                        g_strdup_printf("Not playing stream \"%s\": max-streams (%u) are played",
                                        stream_id, src->max_streams));
        return;
    }
    SrcStream *s = g_new0(SrcStream, 1);
    s->refcount = 1;
    s->src = src;
    s->stream_id = g_strdup(stream_id);
    s->user_id = g_strdup(user_id);
    s->group_id = gst_util_group_id_next();
    s->tracks = g_ptr_array_new_with_free_func((GDestroyNotify)track_free);
    zego_player_callbacks cb = {
        .user_data = s, .media_info = on_media_info, .frame = on_frame, .end = on_stream_end};
    zego_error zerr;
    GST_INFO_OBJECT(src, "playing stream %s of %s", stream_id, user_id ? user_id : "?");
    if (zego_engine_start_playing(engine, stream_id, &cb, &zerr) != ZEGO_ERR_OK) {
        g_ptr_array_add(warnings,
                        g_strdup_printf("Could not play stream \"%s\": %s (ZEGO error %d)",
                                        stream_id, zerr.message, (int)zerr.code));
        stream_unref(s);
        return;
    }
    g_hash_table_insert(src->streams, s->stream_id, s);
}

/* Stops a stream (not with the lock; may be the engine thread) and hands its
 * pads to the worker, which sends EOS and removes them. */
static void end_stream(GstZegoSrc *src, zego_engine *engine, SrcStream *s)
{
    zego_engine_stop_playing(engine, s->stream_id, NULL);
    g_mutex_lock(&src->lock);
    for (guint i = 0; i < s->tracks->len; i++) {
        SrcTrack *t = g_ptr_array_index(s->tracks, i);
        if (t->ready)
            gst_app_src_end_of_stream(GST_APP_SRC(t->appsrc));
    }
    push_job(src, JOB_REMOVE, s, NULL);
    g_mutex_unlock(&src->lock);
    stream_unref(s);
}

/* Engine thread: a played stream was unpublished, after its last frame.  It
 * ends (EOS, pads removed) unless zegosrc waits for it to come back
 * (stream-id set, eos-on-unpublish not). */
static void on_stream_end(zego_engine *engine, const char *stream_id, void *user_data)
{
    SrcStream *s = user_data;
    GstZegoSrc *src = s->src;
    gboolean end = FALSE;
    g_mutex_lock(&src->lock);
    gboolean filtered = src->zobj->stream_id && *src->zobj->stream_id;
    if (g_hash_table_lookup(src->streams, stream_id) == s) {
        if (!filtered || src->eos_on_unpublish) {
            g_hash_table_steal(src->streams, stream_id);
            s->removed = TRUE;
            end = TRUE;
        } else {
            s->gone = TRUE;
        }
    }
    g_mutex_unlock(&src->lock);
    if (end) {
        GST_INFO_OBJECT(src, "stream %s ended", stream_id);
        end_stream(src, engine, s);
    }
}

static gboolean wanted(GstZegoSrc *src, const gchar *stream_id)
{
    const gchar *only = src->zobj->stream_id;
    return !only || !*only || strcmp(only, stream_id) == 0;
}

static void on_stream_update(GstElement *element, zego_engine *engine, zego_update_type type,
                             zego_delete_reason reason, const zego_stream *streams, size_t n)
{
    (void)reason;
    GstZegoSrc *src = GST_ZEGO_SRC(element);
    GPtrArray *restarted = g_ptr_array_new();
    GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
    g_mutex_lock(&src->lock);
    for (size_t i = 0; i < n; i++) {
        const zego_stream *st = &streams[i];
        if (zego_engine_is_own_stream(engine, st) || !wanted(src, st->stream_id))
            continue;
        if (type == ZEGO_UPDATE_ADD) {
            g_hash_table_insert(src->known, g_strdup(st->stream_id), g_strdup(st->user_id));
            SrcStream *s = g_hash_table_lookup(src->streams, st->stream_id);
            if (s && !s->user_id)
                s->user_id = g_strdup(st->user_id);
            if (s && s->gone) {
                /* Its publisher is back, maybe another one whose numbering
                 * of generations starts afresh: play it anew so that its
                 * tracks are announced again. */
                s->gone = FALSE;
                g_ptr_array_add(restarted, stream_ref(s));
            }
            if (src->in_playing)
                start_stream(src, engine, st->stream_id, st->user_id, warnings);
        } else {
            /* A played stream ends with the engine's end callback, after its
             * last frame (on_stream_end). */
            g_hash_table_remove(src->known, st->stream_id);
        }
    }
    g_mutex_unlock(&src->lock);
    post_warnings(src, warnings);
    for (guint i = 0; i < restarted->len; i++) {
        SrcStream *s = restarted->pdata[i];
        zego_player_callbacks cb = {
            .user_data = s, .media_info = on_media_info, .frame = on_frame, .end = on_stream_end};
        GST_INFO_OBJECT(src, "stream %s is back: playing it anew", s->stream_id);
        zego_engine_stop_playing(engine, s->stream_id, NULL);
        zego_engine_start_playing(engine, s->stream_id, &cb, NULL);
        stream_unref(s);
    }
    g_ptr_array_free(restarted, TRUE);
}

/* ---- The worker: pads are added and removed here, off the engine thread ---- */

static GstPadProbeReturn on_pad_event(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
    (void)pad;
    SrcTrack *t = user_data;
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
    GstZegoSrc *src = t->stream->src;
    if (GST_EVENT_TYPE(event) == GST_EVENT_STREAM_START) {
        gchar *id =
            g_strdup_printf("zego/%s/%s/%u", src->zobj->room_id, t->stream->stream_id, t->id);
        GstEvent *ev = gst_event_new_stream_start(id);
        gst_event_set_group_id(ev, t->stream->group_id);
        gst_event_unref(event);
        GST_PAD_PROBE_INFO_DATA(info) = ev;
        g_free(id);
    } else if (GST_EVENT_TYPE(event) == GST_EVENT_EOS) {
        g_mutex_lock(&src->lock);
        t->eos_seen = TRUE;
        g_cond_broadcast(&src->cond);
        g_mutex_unlock(&src->lock);
    }
    return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn on_decoded(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
    (void)pad;
    SrcTrack *t = user_data;
    GstZegoSrc *src = t->stream->src;
    GstClockTime pts = GST_BUFFER_PTS(GST_PAD_PROBE_INFO_BUFFER(info));
    g_mutex_lock(&src->lock);
    gboolean drop = GST_CLOCK_TIME_IS_VALID(pts) && GST_CLOCK_TIME_IS_VALID(t->decode_only_until) &&
                    pts <= t->decode_only_until;
    g_mutex_unlock(&src->lock);
    return drop ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
}

static GstFlowReturn on_pad_chain(GstPad *pad, GstObject *parent, GstBuffer *buffer)
{
    GstPad *ghost = GST_PAD(parent);
    GstZegoSrc *src = gst_pad_get_element_private(ghost);
    GstFlowReturn own = gst_proxy_pad_chain_default(pad, parent, buffer);
    g_mutex_lock(&src->flow_lock);
    GstFlowReturn ret = gst_flow_combiner_update_pad_flow(src->combiner, ghost, own);
    g_mutex_unlock(&src->flow_lock);
    /* Streams come and go: a room whose pads are all unlinked for now is not
     * broken, and the combiner's "all linked pads are EOS" (a stream that
     * ended, its pad not yet removed) must not stop the other streams.  Only
     * errors are shared. */
    if (ret == GST_FLOW_NOT_LINKED || ret == GST_FLOW_EOS)
        ret = own == GST_FLOW_NOT_LINKED ? GST_FLOW_OK : own;
    return ret;
}

static void expose_stream(GstZegoSrc *src, SrcStream *s)
{
    GPtrArray *todo = g_ptr_array_new();
    g_mutex_lock(&src->lock);
    if (!s->removed)
        for (guint i = 0; i < s->tracks->len; i++) {
            SrcTrack *t = g_ptr_array_index(s->tracks, i);
            if (!t->ready && !t->pad)
                g_ptr_array_add(todo, t);
        }
    g_mutex_unlock(&src->lock);

    for (guint i = 0; i < todo->len; i++) {
        SrcTrack *t = todo->pdata[i];
        gboolean video = t->info.kind == ZEGO_TRACK_VIDEO;
        GstElement *chain[3] = {t->appsrc, t->parser, t->decoder};
        GstElement *last = NULL;
        for (int k = 0; k < 3; k++) {
            if (!chain[k])
                continue;
            gst_bin_add(GST_BIN(src), gst_object_ref(chain[k]));
            if (last)
                gst_element_link(last, chain[k]);
            last = chain[k];
        }
        GstPad *appsrc_pad = gst_element_get_static_pad(t->appsrc, "src");
        gst_pad_add_probe(appsrc_pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_pad_event, t, NULL);
        gst_object_unref(appsrc_pad);
        if (t->decoder) {
            GstPad *dec_pad = gst_element_get_static_pad(t->decoder, "src");
            gst_pad_add_probe(dec_pad, GST_PAD_PROBE_TYPE_BUFFER, on_decoded, t, NULL);
            gst_object_unref(dec_pad);
        }

        g_mutex_lock(&src->lock);
        gchar *name = g_strdup_printf(video ? "video_%u" : "audio_%u",
                                      video ? src->video_pads++ : src->audio_pads++);
        g_mutex_unlock(&src->lock);
        GstPadTemplate *templ = gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(src),
                                                                   video ? "video_%u" : "audio_%u");
        GstZegoSrcPad *pad = g_object_new(GST_TYPE_ZEGO_SRC_PAD, "name", name, "direction",
                                          GST_PAD_SRC, "template", templ, NULL);
        g_free(name);
        gst_object_ref_sink(pad);
        pad->stream_id = g_strdup(s->stream_id);
        pad->user_id = g_strdup(s->user_id);
        gst_pad_set_element_private(GST_PAD(pad), src);
        GstPad *target = gst_element_get_static_pad(last, "src");
        gst_ghost_pad_set_target(GST_GHOST_PAD(pad), target);
        gst_object_unref(target);
        GstPad *internal = GST_PAD(gst_proxy_pad_get_internal(GST_PROXY_PAD(pad)));
        gst_pad_set_chain_function(internal, on_pad_chain);
        gst_object_unref(internal);

        for (int k = 2; k >= 0; k--)
            if (chain[k])
                gst_element_sync_state_with_parent(chain[k]);
        gst_pad_set_active(GST_PAD(pad), TRUE);
        g_mutex_lock(&src->flow_lock);
        gst_flow_combiner_add_pad(src->combiner, GST_PAD(pad));
        g_mutex_unlock(&src->flow_lock);
        gst_element_add_pad(GST_ELEMENT(src), GST_PAD(pad));
        GST_INFO_OBJECT(src, "pad %s:%s for stream %s track %u", GST_DEBUG_PAD_NAME(pad),
                        s->stream_id, t->id);

        g_mutex_lock(&src->lock);
        t->pad = GST_PAD(pad);
        GstBuffer *b;
        while ((b = g_queue_pop_head(&t->pending)))
            gst_app_src_push_buffer(GST_APP_SRC(t->appsrc), b);
        t->pending_bytes = 0;
        t->ready = TRUE;
        if (s->removed || t->retired)
            gst_app_src_end_of_stream(GST_APP_SRC(t->appsrc));
        g_mutex_unlock(&src->lock);
    }
    /* With one stream chosen, its tracks are all there is: tell playbin and
     * decodebin so (once). */
    if (todo->len && src->zobj->stream_id && *src->zobj->stream_id &&
        !g_atomic_int_get(&src->no_more_pads)) {
        g_atomic_int_set(&src->no_more_pads, 1);
        gst_element_no_more_pads(GST_ELEMENT(src));
    }
    g_ptr_array_free(todo, TRUE);
}

/* Removes a track's pad and elements; wait_eos: first let EOS through (for
 * at most until deadline). */
static void remove_track(GstZegoSrc *src, SrcTrack *t, gboolean wait_eos, gint64 deadline)
{
    g_mutex_lock(&src->lock);
    while (wait_eos && src->in_playing && t->ready && !t->eos_seen)
        if (!g_cond_wait_until(&src->cond, &src->lock, deadline))
            break;
    g_mutex_unlock(&src->lock);
    if (!t->pad)
        return; /* never added to the bin */
    GstElement *chain[3] = {t->appsrc, t->parser, t->decoder};
    /* Stopping the elements first lets the streaming thread finish pushing
     * whatever it is pushing (EOS) through the pad. */
    for (int k = 0; k < 3; k++) {
        if (!chain[k])
            continue;
        gst_element_set_locked_state(chain[k], TRUE);
        gst_element_set_state(chain[k], GST_STATE_NULL);
    }
    g_mutex_lock(&src->flow_lock);
    gst_flow_combiner_remove_pad(src->combiner, t->pad);
    g_mutex_unlock(&src->flow_lock);
    gst_pad_set_active(t->pad, FALSE);
    gst_element_remove_pad(GST_ELEMENT(src), t->pad);
    for (int k = 0; k < 3; k++)
        if (chain[k])
            gst_bin_remove(GST_BIN(src), chain[k]);
    g_mutex_lock(&src->lock);
    t->ready = FALSE;
    g_mutex_unlock(&src->lock);
}

/* Removes the stream's pads and elements; wait_eos: first let EOS through. */
static void remove_stream(GstZegoSrc *src, SrcStream *s, gboolean wait_eos)
{
    gint64 deadline = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
    for (guint i = 0; i < s->tracks->len; i++)
        remove_track(src, g_ptr_array_index(s->tracks, i), wait_eos, deadline);
}

static gpointer worker_main(gpointer data)
{
    GstZegoSrc *src = data;
    for (;;) {
        Job *job = g_async_queue_pop(src->jobs);
        JobKind kind = job->kind;
        if (kind == JOB_EXPOSE)
            expose_stream(src, job->stream);
        else if (kind == JOB_REMOVE)
            remove_stream(src, job->stream, TRUE);
        else if (kind == JOB_REMOVE_TRACK) {
            remove_track(src, job->track, TRUE, g_get_monotonic_time() + 2 * G_USEC_PER_SEC);
            track_free(job->track);
        }
        if (job->stream)
            stream_unref(job->stream);
        g_free(job);
        if (kind == JOB_QUIT)
            break;
    }
    return NULL;
}

/* ---- State ---- */

static void start_known_streams(GstZegoSrc *src)
{
    zego_engine *engine = gst_zego_object_get_engine(src->zobj);
    if (!engine)
        return;
    GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
    g_mutex_lock(&src->lock);
    src->in_playing = TRUE;
    const gchar *only = src->zobj->stream_id;
    if (only && *only) {
        start_stream(src, engine, only, g_hash_table_lookup(src->known, only), warnings);
    } else {
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, src->known);
        while (g_hash_table_iter_next(&it, &k, &v))
            start_stream(src, engine, k, v, warnings);
    }
    g_mutex_unlock(&src->lock);
    post_warnings(src, warnings);
}

static void stop_all(GstZegoSrc *src)
{
    zego_engine *engine = gst_zego_object_get_engine(src->zobj);
    GPtrArray *all = g_ptr_array_new();
    g_mutex_lock(&src->lock);
    src->in_playing = FALSE;
    g_cond_broadcast(&src->cond);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, src->streams);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        ((SrcStream *)v)->removed = TRUE;
        g_ptr_array_add(all, v);
        g_hash_table_iter_steal(&it);
    }
    g_mutex_unlock(&src->lock);
    /* No play callback runs once these return. */
    for (guint i = 0; i < all->len; i++)
        if (engine)
            zego_engine_stop_playing(engine, ((SrcStream *)all->pdata[i])->stream_id, NULL);
    gst_zego_object_close(src->zobj);
    if (src->worker) {
        push_job(src, JOB_QUIT, NULL, NULL);
        g_thread_join(src->worker);
        src->worker = NULL;
    }
    for (guint i = 0; i < all->len; i++) {
        remove_stream(src, all->pdata[i], FALSE);
        stream_unref(all->pdata[i]);
    }
    g_ptr_array_free(all, TRUE);
    g_mutex_lock(&src->lock);
    g_hash_table_remove_all(src->known);
    g_mutex_unlock(&src->lock);
}

static GstStateChangeReturn gst_zego_src_change_state(GstElement *element,
                                                      GstStateChange transition)
{
    GstZegoSrc *src = GST_ZEGO_SRC(element);
    GstStateChangeReturn ret;

    switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
        if (!gst_zego_object_validate(src->zobj, FALSE))
            return GST_STATE_CHANGE_FAILURE;
        g_mutex_lock(&src->flow_lock);
        gst_flow_combiner_reset(src->combiner);
        g_mutex_unlock(&src->flow_lock);
        g_atomic_int_set(&src->no_more_pads, 0);
        src->worker = g_thread_new("zegosrc-pads", worker_main, src);
        if (!gst_zego_object_open(src->zobj)) {
            push_job(src, JOB_QUIT, NULL, NULL);
            g_thread_join(src->worker);
            src->worker = NULL;
            return GST_STATE_CHANGE_FAILURE;
        }
        break;
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING:
        break;
    default:
        break;
    }

    ret = GST_ELEMENT_CLASS(parent_class)->change_state(element, transition);
    if (ret == GST_STATE_CHANGE_FAILURE)
        return ret;

    switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
        ret = GST_STATE_CHANGE_NO_PREROLL;
        break;
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING:
        /* The clock is there now: frames can be timed. */
        start_known_streams(src);
        break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
        stop_all(src);
        break;
    default:
        break;
    }
    return ret;
}

/* ---- Properties ---- */

static GstStructure *make_stats(GstZegoSrc *src)
{
    zego_engine *engine = gst_zego_object_get_engine(src->zobj);
    GValue list = G_VALUE_INIT;
    g_value_init(&list, GST_TYPE_ARRAY);
    /* The engine is asked without the lock, which its callbacks take. */
    GPtrArray *streams = g_ptr_array_new_with_free_func((GDestroyNotify)gst_structure_free);
    g_mutex_lock(&src->lock);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, src->streams);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        SrcStream *s = v;
        g_ptr_array_add(
            streams, gst_structure_new(
                         "application/x-zego-stream-stats", "stream-id", G_TYPE_STRING,
                         s->stream_id, "user-id", G_TYPE_STRING, s->user_id ? s->user_id : "",
                         "tracks", G_TYPE_UINT, s->tracks->len, "frames-pushed", G_TYPE_UINT64,
                         s->frames, "frames-dropped", G_TYPE_UINT64, s->dropped,
                         "skew-correction-us", G_TYPE_INT64, (gint64)(s->skew_total / 1000), NULL));
    }
    GstStructure *result =
        gst_structure_new("application/x-zego-play-stats", "streams", G_TYPE_UINT,
                          g_hash_table_size(src->streams), "frames-pushed", G_TYPE_UINT64,
                          src->frames, "frames-dropped", G_TYPE_UINT64, src->dropped, NULL);
    g_mutex_unlock(&src->lock);
    for (guint i = 0; i < streams->len; i++) {
        GstStructure *st = streams->pdata[i];
        zego_play_stats ps;
        memset(&ps, 0, sizeof ps);
        if (engine)
            zego_engine_get_play_stats(engine, gst_structure_get_string(st, "stream-id"), &ps,
                                       NULL);
        gst_structure_set(st, "frames-received", G_TYPE_UINT64, (guint64)ps.frames_received,
                          "frames-lost", G_TYPE_UINT64, (guint64)ps.frames_lost, "video-fps",
                          G_TYPE_DOUBLE, ps.video_fps, "audio-fps", G_TYPE_DOUBLE, ps.audio_fps,
                          "delay-ms", G_TYPE_INT64, (gint64)ps.delay_ms, "quality", G_TYPE_STRING,
                          zego_quality_level_name(ps.quality), NULL);
        GValue sv = G_VALUE_INIT;
        g_value_init(&sv, GST_TYPE_STRUCTURE);
        g_value_set_boxed(&sv, st);
        gst_value_array_append_and_take_value(&list, &sv);
    }
    g_ptr_array_free(streams, TRUE);
    gst_structure_take_value(result, "stream-stats", &list);
    return result;
}

static void gst_zego_src_set_property(GObject *object, guint prop_id, const GValue *value,
                                      GParamSpec *pspec)
{
    GstZegoSrc *src = GST_ZEGO_SRC(object);
    if (gst_zego_object_set_property(src->zobj, prop_id, value, pspec)) {
        if (prop_id == PROP_ZEGO_URI) {
            /* A URI names one stream, which ends with its publisher. */
            g_mutex_lock(&src->lock);
            src->eos_on_unpublish = TRUE;
            g_mutex_unlock(&src->lock);
        }
        return;
    }
    g_mutex_lock(&src->lock);
    switch (prop_id) {
    case PROP_LATENCY:
        src->latency_ms = g_value_get_uint(value);
        break;
    case PROP_MAX_STREAMS:
        src->max_streams = g_value_get_uint(value);
        break;
    case PROP_DECODE:
        src->decode = g_value_get_boolean(value);
        break;
    case PROP_EOS_ON_UNPUBLISH:
        src->eos_on_unpublish = g_value_get_boolean(value);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
        break;
    }
    g_mutex_unlock(&src->lock);
}

static void gst_zego_src_get_property(GObject *object, guint prop_id, GValue *value,
                                      GParamSpec *pspec)
{
    GstZegoSrc *src = GST_ZEGO_SRC(object);
    if (gst_zego_object_get_property(src->zobj, prop_id, value, pspec))
        return;
    if (prop_id == PROP_STATS) {
        g_value_take_boxed(value, make_stats(src));
        return;
    }
    g_mutex_lock(&src->lock);
    switch (prop_id) {
    case PROP_LATENCY:
        g_value_set_uint(value, src->latency_ms);
        break;
    case PROP_MAX_STREAMS:
        g_value_set_uint(value, src->max_streams);
        break;
    case PROP_DECODE:
        g_value_set_boolean(value, src->decode);
        break;
    case PROP_EOS_ON_UNPUBLISH:
        g_value_set_boolean(value, src->eos_on_unpublish);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
        break;
    }
    g_mutex_unlock(&src->lock);
}

static void gst_zego_src_finalize(GObject *object)
{
    GstZegoSrc *src = GST_ZEGO_SRC(object);
    gst_zego_object_free(src->zobj);
    g_hash_table_destroy(src->streams);
    g_hash_table_destroy(src->known);
    gst_flow_combiner_free(src->combiner);
    g_async_queue_unref(src->jobs);
    g_mutex_clear(&src->flow_lock);
    g_cond_clear(&src->cond);
    g_mutex_clear(&src->lock);
    G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void gst_zego_src_class_init(GstZegoSrcClass *klass)
{
    GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
    GstElementClass *element_class = GST_ELEMENT_CLASS(klass);

    gobject_class->set_property = gst_zego_src_set_property;
    gobject_class->get_property = gst_zego_src_get_property;
    gobject_class->finalize = gst_zego_src_finalize;

    gst_zego_object_install_properties(gobject_class, FALSE);

    const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY;
    properties[PROP_LATENCY] = g_param_spec_uint(
        "latency", "Latency", "Latency in milliseconds reported in LATENCY queries", 0, 60000,
        DEFAULT_LATENCY, rw);
    properties[PROP_MAX_STREAMS] =
        g_param_spec_uint("max-streams", "Max streams", "The most streams played at once", 1, 256,
                          DEFAULT_MAX_STREAMS, rw);
    properties[PROP_DECODE] = g_param_spec_boolean(
        "decode", "Decode", "Decode the streams (raw audio and video on the pads)", DEFAULT_DECODE,
        rw);
    properties[PROP_EOS_ON_UNPUBLISH] = g_param_spec_boolean(
        "eos-on-unpublish", "EOS on unpublish",
        "With stream-id set: end the stream (EOS) when its publisher stops, rather than wait "
        "for it to come back",
        DEFAULT_EOS_ON_UNPUBLISH, rw);
    properties[PROP_STATS] = g_param_spec_boxed(
        "stats", "Statistics", "Statistics of the played streams (application/x-zego-play-stats)",
        GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    for (guint i = PROP_LATENCY; i < N_PROPERTIES; i++)
        g_object_class_install_property(gobject_class, i, properties[i]);

    gst_element_class_add_static_pad_template(element_class, &video_template);
    gst_element_class_add_static_pad_template(element_class, &audio_template);
    gst_element_class_set_static_metadata(element_class, "ZEGO room source", "Source/Network",
                                          "Plays the audio and video streams of a ZEGO-style room",
                                          "The zego-room authors");
    element_class->change_state = GST_DEBUG_FUNCPTR(gst_zego_src_change_state);

    gst_type_mark_as_plugin_api(GST_TYPE_ZEGO_SRC_PAD, 0);
    GST_DEBUG_CATEGORY_INIT(gst_zego_src_debug, "zegosrc", 0, "ZEGO room source");
}

static void gst_zego_src_init(GstZegoSrc *src)
{
    static const GstZegoObjectCallbacks cb = {.stream_update = on_stream_update};
    g_mutex_init(&src->lock);
    g_cond_init(&src->cond);
    g_mutex_init(&src->flow_lock);
    src->zobj = gst_zego_object_new(GST_ELEMENT(src), FALSE, &cb);
    src->latency_ms = DEFAULT_LATENCY;
    src->max_streams = DEFAULT_MAX_STREAMS;
    src->decode = DEFAULT_DECODE;
    src->eos_on_unpublish = DEFAULT_EOS_ON_UNPUBLISH;
    src->streams = g_hash_table_new(g_str_hash, g_str_equal);
    src->known = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    src->combiner = gst_flow_combiner_new();
    src->jobs = g_async_queue_new();
    GST_OBJECT_FLAG_SET(src, GST_ELEMENT_FLAG_SOURCE);
}

/* ---- URI handler ---- */

static GstURIType gst_zego_src_uri_get_type(GType type)
{
    (void)type;
    return GST_URI_SRC;
}

static const gchar *const *gst_zego_src_uri_get_protocols(GType type)
{
    (void)type;
    static const gchar *protocols[] = {"zego", NULL};
    return protocols;
}

static gchar *gst_zego_src_uri_get_uri(GstURIHandler *handler)
{
    return gst_zego_object_get_uri(GST_ZEGO_SRC(handler)->zobj);
}

static gboolean gst_zego_src_uri_set_uri(GstURIHandler *handler, const gchar *uri, GError **error)
{
    GstZegoSrc *src = GST_ZEGO_SRC(handler);
    if (GST_STATE(src) > GST_STATE_READY) {
        g_set_error(error, GST_URI_ERROR, GST_URI_ERROR_BAD_STATE,
                    "Changing the URI of zegosrc while running is not supported");
        return FALSE;
    }
    if (!gst_zego_object_set_uri(src->zobj, uri, error))
        return FALSE;
    g_mutex_lock(&src->lock);
    src->eos_on_unpublish = TRUE;
    g_mutex_unlock(&src->lock);
    return TRUE;
}

static void gst_zego_src_uri_handler_init(gpointer g_iface, gpointer iface_data)
{
    (void)iface_data;
    GstURIHandlerInterface *iface = g_iface;
    iface->get_type = gst_zego_src_uri_get_type;
    iface->get_protocols = gst_zego_src_uri_get_protocols;
    iface->get_uri = gst_zego_src_uri_get_uri;
    iface->set_uri = gst_zego_src_uri_set_uri;
}
