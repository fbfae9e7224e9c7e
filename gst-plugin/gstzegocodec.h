/* Between GStreamer caps and the tracks of a stream_info. */
#ifndef GST_ZEGO_CODEC_H
#define GST_ZEGO_CODEC_H

#include <gst/gst.h>
#include <zego/zego.h>

G_BEGIN_DECLS

/* Fills *track (kind, codec, codec string, size, rate, config) from the caps
 * of encoded media; buffer, when given, is a frame from which an H.264 SPS is
 * read for the codec string.  Returns FALSE when the caps are not supported
 * or the codec string cannot be known yet (H.264 before its first SPS when the
 * caps carry no profile and level). */
gboolean gst_zego_track_from_caps(const GstCaps *caps, GstBuffer *buffer, zego_track *track);

/* The caps of a played track, as its parser takes them. */
GstCaps *gst_zego_caps_from_track(const zego_track *track);

/* The parser for that kind of media (e.g. "h264parse"), or NULL for none. */
const gchar *gst_zego_parser_for_codec(zego_codec codec);

/* The encoded format the publisher sends for a caps structure name, as caps
 * for a capsfilter after the parser; NULL when not supported. */
GstCaps *gst_zego_publish_caps_for(const gchar *structure_name);

G_END_DECLS

#endif
