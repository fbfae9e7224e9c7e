#ifndef GST_ZEGO_SINK_H
#define GST_ZEGO_SINK_H

#include <gst/gst.h>

G_BEGIN_DECLS

/* What raw input is encoded to (video-codec / audio-codec). */
typedef enum {
    GST_ZEGO_VIDEO_CODEC_H264,
    GST_ZEGO_VIDEO_CODEC_H265,
    GST_ZEGO_VIDEO_CODEC_VP8,
    GST_ZEGO_VIDEO_CODEC_VP9,
    GST_ZEGO_VIDEO_CODEC_AV1
} GstZegoVideoCodec;

typedef enum { GST_ZEGO_AUDIO_CODEC_OPUS, GST_ZEGO_AUDIO_CODEC_AAC } GstZegoAudioCodec;

GType gst_zego_video_codec_get_type(void);
GType gst_zego_audio_codec_get_type(void);
#define GST_TYPE_ZEGO_VIDEO_CODEC (gst_zego_video_codec_get_type())
#define GST_TYPE_ZEGO_AUDIO_CODEC (gst_zego_audio_codec_get_type())

#define GST_TYPE_ZEGO_SINK (gst_zego_sink_get_type())
G_DECLARE_FINAL_TYPE(GstZegoSink, gst_zego_sink, GST, ZEGO_SINK, GstBin)

GST_ELEMENT_REGISTER_DECLARE(zegosink);

G_END_DECLS

#endif
