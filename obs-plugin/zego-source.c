/* zego_source: plays one room stream as an async video + audio source.
 *
 * It logs in through the shared session of its room and user (the same one
 * as zego_output with the same settings), plays the chosen stream, or the
 * first stream in the room not published by its own user, and decodes it
 * with libavcodec (H.264, H.265, VP8, VP9, AV1, Opus, AAC) on a thread of
 * its own: engine callbacks only copy frames into a bounded queue.  Video and
 * audio carry the publisher's timestamps of one stream, so OBS keeps them in
 * sync on one clock.
 *
 * When the stream ends the picture is cleared (or the last frame kept, a
 * setting); the play stays registered, so the stream comes back by itself
 * when it is published again.  Not shown anywhere, the source stops
 * receiving unless "keep active" is set.
 *
 * Locks: `lock` guards the settings, the stream list and the play; `q.lock`
 * guards the frame queue.  Play callbacks take only q.lock, so stopping a
 * play while holding `lock` cannot deadlock with them. */
#include <pthread.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <util/platform.h>
#include <util/threading.h>

#include "zego-obs.h"

#define S_KEEP_LAST_FRAME "keep_last_frame"
#define S_KEEP_ACTIVE     "keep_active"

#define MAX_STREAMS     64
#define QUEUE_MAX_ITEMS 512
#define QUEUE_MAX_BYTES (16 * 1024 * 1024)

enum item_kind { ITEM_FRAME, ITEM_INFO, ITEM_END };

struct item {
    enum item_kind kind;
    zego_media_frame frame; /* ITEM_FRAME: data owned */
    zego_track tracks[2];   /* ITEM_INFO: the video and audio track (kind set) */
    bool has_video, has_audio;
    struct item *next;
};

struct frame_queue {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct item *head, *tail;
    size_t items, bytes;
    bool video_dropping; /* a video frame was dropped: drop until a keyframe */
    bool quit;
};

struct decoder {
    AVCodecContext *ctx;
    zego_track track;
};

struct zego_source {
    obs_source_t *source;

    pthread_mutex_t lock;
    obs_data_t *room; /* the room settings the session was acquired with */
    zego_engine *engine;
    uint32_t handler_id;
    char want[ZEGO_STREAM_ID_SIZE];    /* "" = the first stream in the room */
    char playing[ZEGO_STREAM_ID_SIZE]; /* "" = none */
    bool keep_last_frame, keep_active, showing;
    zego_stream streams[MAX_STREAMS]; /* the room's streams, own included */
    bool own[MAX_STREAMS];
    size_t n_streams;

    struct frame_queue q;
    pthread_t thread;
    bool thread_started;

    /* decode thread only */
    struct decoder video, audio;
    AVPacket *pkt;
    AVFrame *frame;
    bool waiting_key;
};

static const char *zego_source_get_name(void *type_data)
{
    (void)type_data;
    return obs_module_text("ZegoSource");
}

static void zego_source_defaults(obs_data_t *settings)
{
    zobs_room_defaults(settings);
    obs_data_set_default_string(settings, ZOBS_S_STREAM_ID, "");
    obs_data_set_default_bool(settings, S_KEEP_LAST_FRAME, false);
    obs_data_set_default_bool(settings, S_KEEP_ACTIVE, false);
}

/* ---- The queue ---- */

static void item_free(struct item *it)
{
    if (it->kind == ITEM_FRAME)
        bfree((void *)it->frame.data);
    bfree(it);
}

static void queue_push(struct frame_queue *q, struct item *it)
{
    pthread_mutex_lock(&q->lock);
    bool video = it->kind == ITEM_FRAME && it->frame.track == ZOBS_VIDEO_TRACK;
    bool drop = false;
    if (it->kind == ITEM_FRAME) {
        bool key = it->frame.flags & ZEGO_FRAME_FLAG_KEY;
        if (video && q->video_dropping && !key)
            drop = true;
        else if (q->items >= QUEUE_MAX_ITEMS || q->bytes + it->frame.size > QUEUE_MAX_BYTES)
            drop = true;
        if (video)
            q->video_dropping = drop;
    }
    if (drop) {
        pthread_mutex_unlock(&q->lock);
        item_free(it);
        return;
    }
    if (q->tail)
        q->tail->next = it;
    else
        q->head = it;
    q->tail = it;
    q->items++;
    if (it->kind == ITEM_FRAME)
        q->bytes += it->frame.size;
    pthread_cond_signal(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

/* Waits up to 100 ms; NULL on timeout or quit. */
static struct item *queue_pop(struct frame_queue *q, bool *quit)
{
    struct timespec deadline;
    pthread_mutex_lock(&q->lock);
    if (!q->head && !q->quit) {
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_nsec += 100 * 1000000;
        if (deadline.tv_nsec >= 1000000000) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&q->cond, &q->lock, &deadline);
    }
    struct item *it = q->quit ? NULL : q->head;
    if (it) {
        q->head = it->next;
        if (!q->head)
            q->tail = NULL;
        q->items--;
        if (it->kind == ITEM_FRAME)
            q->bytes -= it->frame.size;
    }
    *quit = q->quit;
    pthread_mutex_unlock(&q->lock);
    return it;
}

static void queue_clear(struct frame_queue *q)
{
    pthread_mutex_lock(&q->lock);
    struct item *it = q->head;
    q->head = q->tail = NULL;
    q->items = q->bytes = 0;
    pthread_mutex_unlock(&q->lock);
    while (it) {
        struct item *next = it->next;
        item_free(it);
        it = next;
    }
}

/* ---- Decoding (the source's thread) ---- */

static enum AVCodecID codec_id_for(zego_codec codec)
{
    switch (codec) {
    case ZEGO_CODEC_H264:
        return AV_CODEC_ID_H264;
    case ZEGO_CODEC_H265:
        return AV_CODEC_ID_HEVC;
    case ZEGO_CODEC_VP8:
        return AV_CODEC_ID_VP8;
    case ZEGO_CODEC_VP9:
        return AV_CODEC_ID_VP9;
    case ZEGO_CODEC_AV1:
        return AV_CODEC_ID_AV1;
    case ZEGO_CODEC_OPUS:
        return AV_CODEC_ID_OPUS;
    case ZEGO_CODEC_AAC:
        return AV_CODEC_ID_AAC;
    }
    return AV_CODEC_ID_NONE;
}

static void decoder_close(struct decoder *d)
{
    avcodec_free_context(&d->ctx);
}

static void decoder_open(struct decoder *d, const zego_track *t)
{
    decoder_close(d);
    d->track = *t;
    const AVCodec *codec = avcodec_find_decoder(codec_id_for(t->codec));
    if (!codec) {
        zobs_log(LOG_WARNING, "no decoder for %s", t->codec_string);
        return;
    }
    d->ctx = avcodec_alloc_context3(codec);
    if (!d->ctx)
        return;
    if (t->kind == ZEGO_TRACK_AUDIO) {
        d->ctx->sample_rate = (int)t->sample_rate;
        av_channel_layout_default(&d->ctx->ch_layout, (int)t->channels);
    }
    if (t->config_len) {
        d->ctx->extradata = av_mallocz(t->config_len + AV_INPUT_BUFFER_PADDING_SIZE);
        if (d->ctx->extradata) {
            memcpy(d->ctx->extradata, t->config, t->config_len);
            d->ctx->extradata_size = (int)t->config_len;
        }
    }
    d->ctx->thread_count = 2;
    if (avcodec_open2(d->ctx, codec, NULL) < 0) {
        zobs_log(LOG_WARNING, "could not open the %s decoder", t->codec_string);
        avcodec_free_context(&d->ctx);
        return;
    }
    zobs_log(LOG_INFO, "decoding %s", t->codec_string);
}

static enum video_format obs_video_format(int f, bool *full_range)
{
    *full_range = false;
    switch (f) {
    case AV_PIX_FMT_YUVJ420P:
        *full_range = true;
        return VIDEO_FORMAT_I420;
    case AV_PIX_FMT_YUV420P:
        return VIDEO_FORMAT_I420;
    case AV_PIX_FMT_NV12:
        return VIDEO_FORMAT_NV12;
    case AV_PIX_FMT_YUVJ422P:
        *full_range = true;
        return VIDEO_FORMAT_I422;
    case AV_PIX_FMT_YUV422P:
        return VIDEO_FORMAT_I422;
    case AV_PIX_FMT_YUVJ444P:
        *full_range = true;
        return VIDEO_FORMAT_I444;
    case AV_PIX_FMT_YUV444P:
        return VIDEO_FORMAT_I444;
    case AV_PIX_FMT_YUV420P10LE:
        return VIDEO_FORMAT_I010;
    case AV_PIX_FMT_P010LE:
        return VIDEO_FORMAT_P010;
    default:
        return VIDEO_FORMAT_NONE;
    }
}

static enum audio_format obs_audio_format(int f)
{
    switch (f) {
    case AV_SAMPLE_FMT_U8:
        return AUDIO_FORMAT_U8BIT;
    case AV_SAMPLE_FMT_S16:
        return AUDIO_FORMAT_16BIT;
    case AV_SAMPLE_FMT_S32:
        return AUDIO_FORMAT_32BIT;
    case AV_SAMPLE_FMT_FLT:
        return AUDIO_FORMAT_FLOAT;
    case AV_SAMPLE_FMT_U8P:
        return AUDIO_FORMAT_U8BIT_PLANAR;
    case AV_SAMPLE_FMT_S16P:
        return AUDIO_FORMAT_16BIT_PLANAR;
    case AV_SAMPLE_FMT_S32P:
        return AUDIO_FORMAT_32BIT_PLANAR;
    case AV_SAMPLE_FMT_FLTP:
        return AUDIO_FORMAT_FLOAT_PLANAR;
    default:
        return AUDIO_FORMAT_UNKNOWN;
    }
}

static void output_video(struct zego_source *z, AVFrame *f)
{
    bool full;
    enum video_format format = obs_video_format(f->format, &full);
    if (format == VIDEO_FORMAT_NONE) {
        zobs_log(LOG_DEBUG, "pixel format %d not shown", f->format);
        return;
    }
    if (f->color_range == AVCOL_RANGE_JPEG)
        full = true;
    struct obs_source_frame out = {
        .width = (uint32_t)f->width,
        .height = (uint32_t)f->height,
        .format = format,
        .full_range = full,
        .timestamp = (uint64_t)f->best_effort_timestamp * 1000,
    };
    for (int i = 0; i < MAX_AV_PLANES && i < AV_NUM_DATA_POINTERS; i++) {
        out.data[i] = f->data[i];
        out.linesize[i] = (uint32_t)(f->linesize[i] > 0 ? f->linesize[i] : 0);
    }
    enum video_colorspace cs = f->colorspace == AVCOL_SPC_BT709 ? VIDEO_CS_709 : VIDEO_CS_601;
    video_format_get_parameters(cs, full ? VIDEO_RANGE_FULL : VIDEO_RANGE_PARTIAL, out.color_matrix,
                                out.color_range_min, out.color_range_max);
    obs_source_output_video(z->source, &out);
}

static void output_audio(struct zego_source *z, AVFrame *f)
{
    enum audio_format format = obs_audio_format(f->format);
    int channels = f->ch_layout.nb_channels;
    if (format == AUDIO_FORMAT_UNKNOWN || channels < 1 || channels > 8)
        return;
    struct obs_source_audio out = {
        .frames = (uint32_t)f->nb_samples,
        .samples_per_sec = (uint32_t)f->sample_rate,
        .format = format,
        .speakers = (enum speaker_layout)channels,
        .timestamp = (uint64_t)f->best_effort_timestamp * 1000,
    };
    for (int i = 0; i < MAX_AV_PLANES && i < AV_NUM_DATA_POINTERS; i++)
        out.data[i] = f->data[i];
    obs_source_output_audio(z->source, &out);
}

static void decode(struct zego_source *z, struct decoder *d, const zego_media_frame *mf, bool video)
{
    if (!d->ctx)
        return;
    if (video && z->waiting_key) {
        if (!(mf->flags & ZEGO_FRAME_FLAG_KEY))
            return;
        z->waiting_key = false;
    }
    /* Timestamps in microseconds: one clock for both tracks. */
    z->pkt->data = (uint8_t *)mf->data;
    z->pkt->size = (int)mf->size;
    z->pkt->pts = mf->pts_us;
    z->pkt->dts = mf->dts_us;
    if (mf->flags & ZEGO_FRAME_FLAG_KEY)
        z->pkt->flags |= AV_PKT_FLAG_KEY;
    else
        z->pkt->flags &= ~AV_PKT_FLAG_KEY;
    if (avcodec_send_packet(d->ctx, z->pkt) < 0) {
        if (video)
            z->waiting_key = true;
        return;
    }
    while (avcodec_receive_frame(d->ctx, z->frame) == 0) {
        if (z->frame->best_effort_timestamp == AV_NOPTS_VALUE)
            z->frame->best_effort_timestamp = z->frame->pts;
        if (video)
            output_video(z, z->frame);
        else
            output_audio(z, z->frame);
        av_frame_unref(z->frame);
    }
}

static void *decode_thread(void *data)
{
    struct zego_source *z = data;
    os_set_thread_name("zego-source-decode");
    bool quit = false;
    while (!quit) {
        struct item *it = queue_pop(&z->q, &quit);
        if (!it)
            continue;
        if (it->kind == ITEM_INFO) {
            decoder_close(&z->video);
            decoder_close(&z->audio);
            if (it->has_video)
                decoder_open(&z->video, &it->tracks[0]);
            if (it->has_audio)
                decoder_open(&z->audio, &it->tracks[1]);
            z->waiting_key = true;
        } else if (it->kind == ITEM_END) {
            decoder_close(&z->video);
            decoder_close(&z->audio);
            pthread_mutex_lock(&z->lock);
            bool keep = z->keep_last_frame;
            pthread_mutex_unlock(&z->lock);
            if (!keep)
                obs_source_output_video(z->source, NULL);
        } else if (it->frame.track == z->video.track.id && z->video.ctx) {
            decode(z, &z->video, &it->frame, true);
        } else if (it->frame.track == z->audio.track.id && z->audio.ctx) {
            decode(z, &z->audio, &it->frame, false);
        }
        item_free(it);
    }
    decoder_close(&z->video);
    decoder_close(&z->audio);
    return NULL;
}

/* ---- Play callbacks (engine thread; only the queue lock) ---- */

static void on_media_info(zego_engine *engine, const zego_media_info *info, void *user_data)
{
    (void)engine;
    struct zego_source *z = user_data;
    struct item *it = bzalloc(sizeof *it);
    it->kind = ITEM_INFO;
    for (size_t i = 0; i < info->n_tracks; i++) {
        const zego_track *t = &info->tracks[i];
        if (t->kind == ZEGO_TRACK_VIDEO && !it->has_video) {
            it->tracks[0] = *t;
            it->has_video = true;
        } else if (t->kind == ZEGO_TRACK_AUDIO && !it->has_audio) {
            it->tracks[1] = *t;
            it->has_audio = true;
        }
    }
    queue_push(&z->q, it);
}

static void on_frame(zego_engine *engine, const char *stream_id, const zego_media_frame *frame,
                     void *user_data)
{
    (void)engine, (void)stream_id;
    struct zego_source *z = user_data;
    struct item *it = bzalloc(sizeof *it);
    it->kind = ITEM_FRAME;
    it->frame = *frame;
    uint8_t *copy = bmalloc(frame->size + AV_INPUT_BUFFER_PADDING_SIZE);
    memcpy(copy, frame->data, frame->size);
    memset(copy + frame->size, 0, AV_INPUT_BUFFER_PADDING_SIZE);
    it->frame.data = copy;
    queue_push(&z->q, it);
}

/* ---- Which stream to play ---- */

static bool stream_listed(struct zego_source *z, const char *id)
{
    for (size_t i = 0; i < z->n_streams; i++)
        if (strcmp(z->streams[i].stream_id, id) == 0)
            return true;
    return false;
}

static void push_end(struct zego_source *z)
{
    struct item *it = bzalloc(sizeof *it);
    it->kind = ITEM_END;
    queue_push(&z->q, it);
}

static void on_play_end(zego_engine *engine, const char *stream_id, void *user_data);

/* With z->lock.  Starts, switches or stops the play to match the settings,
 * the room's streams and whether the source is shown. */
static void reconcile_play(struct zego_source *z)
{
    char target[ZEGO_STREAM_ID_SIZE] = "";
    if (z->engine && (z->showing || z->keep_active)) {
        if (*z->want) {
            snprintf(target, sizeof target, "%s", z->want);
        } else if (*z->playing && stream_listed(z, z->playing)) {
            snprintf(target, sizeof target, "%s", z->playing);
        } else {
            for (size_t i = 0; i < z->n_streams; i++) {
                if (!z->own[i]) {
                    snprintf(target, sizeof target, "%s", z->streams[i].stream_id);
                    break;
                }
            }
        }
    }
    if (strcmp(target, z->playing) == 0)
        return;
    if (*z->playing) {
        zobs_log(LOG_INFO, "source '%s' stops playing '%s'", obs_source_get_name(z->source),
                 z->playing);
        if (z->engine)
            zego_engine_stop_playing(z->engine, z->playing, NULL);
        queue_clear(&z->q);
        push_end(z);
        z->playing[0] = '\0';
    }
    if (*target) {
        zego_player_callbacks cb = {
            .user_data = z, .media_info = on_media_info, .frame = on_frame, .end = on_play_end};
        zego_error zerr;
        if (zego_engine_start_playing(z->engine, target, &cb, &zerr) == ZEGO_ERR_OK) {
            zobs_log(LOG_INFO, "source '%s' plays '%s'", obs_source_get_name(z->source), target);
            snprintf(z->playing, sizeof z->playing, "%s", target);
        } else {
            zobs_log(LOG_WARNING, "source '%s' cannot play '%s': %s",
                     obs_source_get_name(z->source), target, zerr.message);
        }
    }
}

/* ---- Room events (engine thread) ---- */

static void on_room_state(zego_engine *engine, const char *room_id, zego_room_state state,
                          zego_room_state_reason reason, int32_t code, const char *message,
                          void *user_data)
{
    (void)engine;
    struct zego_source *z = user_data;
    int level = state == ZEGO_ROOM_STATE_DISCONNECTED && code ? LOG_WARNING : LOG_INFO;
    zobs_log(level, "source '%s': room %s %s (%s) %d %s", obs_source_get_name(z->source), room_id,
             zego_room_state_name(state), zego_room_state_reason_name(reason), (int)code,
             message ? message : "");
}

/* Engine thread: the played stream was unpublished, after its last frame:
 * once the frames before it are decoded the picture is cleared (or the last
 * frame kept).  A stream chosen by name stays played and resumes when it comes
 * back.  Like the other play callbacks it takes only the queue's lock (the
 * callbacks are this play's: stop_playing ends them before another starts). */
static void on_play_end(zego_engine *engine, const char *stream_id, void *user_data)
{
    (void)engine, (void)stream_id;
    push_end(user_data);
}

static void on_streams(zego_engine *engine, const char *room_id, zego_update_type type,
                       zego_delete_reason reason, const zego_stream *streams, size_t n,
                       void *user_data)
{
    (void)room_id, (void)reason;
    struct zego_source *z = user_data;
    pthread_mutex_lock(&z->lock);
    for (size_t i = 0; i < n; i++) {
        const zego_stream *s = &streams[i];
        size_t j = 0;
        while (j < z->n_streams && strcmp(z->streams[j].stream_id, s->stream_id) != 0)
            j++;
        if (type == ZEGO_UPDATE_ADD && j == z->n_streams && j < MAX_STREAMS) {
            z->streams[j] = *s;
            z->own[j] = zego_engine_is_own_stream(engine, s);
            z->n_streams++;
        } else if (type == ZEGO_UPDATE_DELETE && j < z->n_streams) {
            z->n_streams--;
            z->streams[j] = z->streams[z->n_streams];
            z->own[j] = z->own[z->n_streams];
        }
    }
    /* The played stream's end comes from the engine (on_play_end), after
     * its last frame. */
    reconcile_play(z);
    pthread_mutex_unlock(&z->lock);
    obs_source_update_properties(z->source);
}

/* ---- Session ---- */

static bool same_room(obs_data_t *a, obs_data_t *b)
{
    static const char *const keys[] = {ZOBS_S_SERVER, ZOBS_S_ROOM_ID, ZOBS_S_USER_ID,
                                       ZOBS_S_USER_NAME, ZOBS_S_TOKEN};
    if (!a || !b || obs_data_get_int(a, ZOBS_S_APP_ID) != obs_data_get_int(b, ZOBS_S_APP_ID))
        return false;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(obs_data_get_string(a, keys[i]), obs_data_get_string(b, keys[i])) != 0)
            return false;
    return true;
}

/* Not with z->lock held, not on the engine thread. */
static void release_session(struct zego_source *z)
{
    pthread_mutex_lock(&z->lock);
    zego_engine *engine = z->engine;
    uint32_t handler_id = z->handler_id;
    char playing[ZEGO_STREAM_ID_SIZE];
    snprintf(playing, sizeof playing, "%s", z->playing);
    z->playing[0] = '\0';
    z->engine = NULL;
    z->handler_id = 0;
    z->n_streams = 0;
    pthread_mutex_unlock(&z->lock);
    if (!engine)
        return;
    if (handler_id)
        zego_engine_remove_handler(engine, handler_id);
    if (*playing)
        zego_engine_stop_playing(engine, playing, NULL);
    zego_session_release(engine);
    queue_clear(&z->q);
    push_end(z);
}

static void acquire_session(struct zego_source *z, obs_data_t *settings)
{
    struct dstr msg = {0};
    if (!zobs_room_settings_check(settings, false, &msg)) {
        zobs_log(LOG_WARNING, "source '%s' not playing: %s", obs_source_get_name(z->source),
                 msg.array);
        dstr_free(&msg);
        return;
    }
    zego_error zerr;
    zego_engine *engine = zobs_session_acquire(settings, &zerr);
    if (!engine) {
        zobs_log(LOG_WARNING, "source '%s': %s", obs_source_get_name(z->source), zerr.message);
        return;
    }
    pthread_mutex_lock(&z->lock);
    z->engine = engine;
    pthread_mutex_unlock(&z->lock);
    /* The handler first gets the room's current streams, as ADD. */
    zego_event_handler handler = {
        .user_data = z,
        .room_state_update = on_room_state,
        .room_stream_update = on_streams,
    };
    uint32_t id = zego_engine_add_handler(engine, &handler, NULL);
    pthread_mutex_lock(&z->lock);
    z->handler_id = id;
    reconcile_play(z);
    pthread_mutex_unlock(&z->lock);
}

/* ---- Source callbacks ---- */

static void zego_source_update(void *data, obs_data_t *settings)
{
    struct zego_source *z = data;
    pthread_mutex_lock(&z->lock);
    bool room_changed = !same_room(z->room, settings);
    pthread_mutex_unlock(&z->lock);
    if (room_changed)
        release_session(z);

    pthread_mutex_lock(&z->lock);
    snprintf(z->want, sizeof z->want, "%s", obs_data_get_string(settings, ZOBS_S_STREAM_ID));
    z->keep_last_frame = obs_data_get_bool(settings, S_KEEP_LAST_FRAME);
    z->keep_active = obs_data_get_bool(settings, S_KEEP_ACTIVE);
    if (room_changed) {
        obs_data_release(z->room);
        z->room = obs_data_create();
        obs_data_apply(z->room, settings);
    }
    if (!room_changed)
        reconcile_play(z);
    pthread_mutex_unlock(&z->lock);
    if (room_changed)
        acquire_session(z, settings);
}

static void *zego_source_create(obs_data_t *settings, obs_source_t *source)
{
    struct zego_source *z = bzalloc(sizeof *z);
    z->source = source;
    pthread_mutex_init(&z->lock, NULL);
    pthread_mutex_init(&z->q.lock, NULL);
    pthread_cond_init(&z->q.cond, NULL);
    z->pkt = av_packet_alloc();
    z->frame = av_frame_alloc();
    z->thread_started = pthread_create(&z->thread, NULL, decode_thread, z) == 0;
    zego_source_update(z, settings);
    return z;
}

static void zego_source_destroy(void *data)
{
    struct zego_source *z = data;
    release_session(z);
    pthread_mutex_lock(&z->q.lock);
    z->q.quit = true;
    pthread_cond_signal(&z->q.cond);
    pthread_mutex_unlock(&z->q.lock);
    if (z->thread_started)
        pthread_join(z->thread, NULL);
    queue_clear(&z->q);
    av_packet_free(&z->pkt);
    av_frame_free(&z->frame);
    obs_data_release(z->room);
    pthread_cond_destroy(&z->q.cond);
    pthread_mutex_destroy(&z->q.lock);
    pthread_mutex_destroy(&z->lock);
    bfree(z);
}

static void set_showing(struct zego_source *z, bool showing)
{
    pthread_mutex_lock(&z->lock);
    z->showing = showing;
    reconcile_play(z);
    pthread_mutex_unlock(&z->lock);
}

static void zego_source_show(void *data)
{
    set_showing(data, true);
}

static void zego_source_hide(void *data)
{
    set_showing(data, false);
}

static obs_properties_t *zego_source_properties(void *data)
{
    struct zego_source *z = data;
    obs_properties_t *props = obs_properties_create();
    obs_property_t *p =
        obs_properties_add_list(props, ZOBS_S_STREAM_ID, obs_module_text("StreamID"),
                                OBS_COMBO_TYPE_EDITABLE, OBS_COMBO_FORMAT_STRING);
    obs_property_list_add_string(p, obs_module_text("FirstStream"), "");
    if (z) {
        pthread_mutex_lock(&z->lock);
        for (size_t i = 0; i < z->n_streams; i++) {
            const zego_stream *s = &z->streams[i];
            struct dstr label = {0};
            dstr_printf(&label, "%s (%s)", s->stream_id, *s->user_name ? s->user_name : s->user_id);
            obs_property_list_add_string(p, label.array, s->stream_id);
            dstr_free(&label);
        }
        pthread_mutex_unlock(&z->lock);
    }
    obs_property_set_long_description(p, obs_module_text("StreamID.Source.Description"));
    obs_properties_add_bool(props, S_KEEP_LAST_FRAME, obs_module_text("KeepLastFrame"));
    obs_properties_add_bool(props, S_KEEP_ACTIVE, obs_module_text("KeepActive"));
    obs_properties_t *room = obs_properties_create();
    zobs_room_properties(room);
    obs_properties_add_group(props, "room", obs_module_text("Room"), OBS_GROUP_NORMAL, room);
    return props;
}

struct obs_source_info zego_source_info = {
    .id = "zego_source",
    .type = OBS_SOURCE_TYPE_INPUT,
    .output_flags = OBS_SOURCE_ASYNC_VIDEO | OBS_SOURCE_AUDIO | OBS_SOURCE_DO_NOT_DUPLICATE,
    .icon_type = OBS_ICON_TYPE_MEDIA,
    .get_name = zego_source_get_name,
    .create = zego_source_create,
    .destroy = zego_source_destroy,
    .update = zego_source_update,
    .get_defaults = zego_source_defaults,
    .get_properties = zego_source_properties,
    .show = zego_source_show,
    .hide = zego_source_hide,
};
