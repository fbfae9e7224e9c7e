/* Between GStreamer caps and the tracks of a stream_info; see gstzegocodec.h. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gstzegocodec.h"

/* profile_idc, constraint byte and level_idc of the first SPS of an Annex B
 * access unit. */
static gboolean h264_sps_from_buffer(GstBuffer *buffer, guint8 out[3])
{
    GstMapInfo map;
    gboolean found = FALSE;
    if (!buffer || !gst_buffer_map(buffer, &map, GST_MAP_READ))
        return FALSE;
    const guint8 *d = map.data;
    for (gsize i = 0; i + 6 < map.size && !found; i++) {
        if (d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 1 && (d[i + 3] & 0x1f) == 7) {
            out[0] = d[i + 4];
            out[1] = d[i + 5];
            out[2] = d[i + 6];
            found = TRUE;
        }
    }
    gst_buffer_unmap(buffer, &map);
    return found;
}

static gboolean h264_from_caps_fields(const GstStructure *s, guint8 out[3])
{
    const gchar *profile = gst_structure_get_string(s, "profile");
    const gchar *level = gst_structure_get_string(s, "level");
    if (!profile || !level)
        return FALSE;
    static const struct {
        const char *name;
        guint8 idc, constraints;
    } profiles[] = {
        {"constrained-baseline", 66, 0xE0},
        {"baseline", 66, 0x00},
        {"main", 77, 0x40},
        {"extended", 88, 0x00},
        {"high", 100, 0x00},
        {"high-10", 110, 0x00},
        {"high-4:2:2", 122, 0x00},
        {"high-4:4:4", 244, 0x00},
        {"constrained-high", 100, 0x0C},
        {"progressive-high", 100, 0x08},
    };
    gboolean ok = FALSE;
    for (gsize i = 0; i < G_N_ELEMENTS(profiles); i++) {
        if (strcmp(profiles[i].name, profile) == 0) {
            out[0] = profiles[i].idc;
            out[1] = profiles[i].constraints;
            ok = TRUE;
            break;
        }
    }
    if (!ok)
        return FALSE;
    if (strcmp(level, "1b") == 0) {
        out[2] = 11;
        out[1] |= 0x10;
    } else {
        out[2] = (guint8)(g_ascii_strtod(level, NULL) * 10.0 + 0.5);
    }
    return out[2] > 0;
}

gboolean gst_zego_track_from_caps(const GstCaps *caps, GstBuffer *buffer, zego_track *track)
{
    if (!caps || gst_caps_get_size(caps) < 1)
        return FALSE;
    const GstStructure *s = gst_caps_get_structure(caps, 0);
    const gchar *name = gst_structure_get_name(s);
    gint w = 0, h = 0, fn = 0, fd = 0, rate = 0, channels = 0;
    guint32 id = track->id;
    memset(track, 0, sizeof *track);
    track->id = id;

    if (g_str_has_prefix(name, "video/")) {
        track->kind = ZEGO_TRACK_VIDEO;
        gst_structure_get_int(s, "width", &w);
        gst_structure_get_int(s, "height", &h);
        if (gst_structure_get_fraction(s, "framerate", &fn, &fd) && fn > 0 && fd > 0) {
            track->framerate_num = (uint32_t)fn;
            track->framerate_den = (uint32_t)fd;
        }
        track->width = (uint32_t)MAX(w, 0);
        track->height = (uint32_t)MAX(h, 0);
    } else {
        track->kind = ZEGO_TRACK_AUDIO;
        gst_structure_get_int(s, "rate", &rate);
        gst_structure_get_int(s, "channels", &channels);
        track->sample_rate = (uint32_t)MAX(rate, 0);
        track->channels = (uint32_t)MAX(channels, 0);
    }

    if (strcmp(name, "video/x-h264") == 0) {
        guint8 plc[3];
        track->codec = ZEGO_CODEC_H264;
        /* h264parse puts the SPS's profile and level into the caps; a
         * buffer's SPS is the fallback for caps without them. */
        if (!h264_from_caps_fields(s, plc) && !h264_sps_from_buffer(buffer, plc))
            return FALSE;
        snprintf(track->codec_string, sizeof track->codec_string, "avc1.%02X%02X%02X", plc[0],
                 plc[1], plc[2]);
    } else if (strcmp(name, "video/x-h265") == 0) {
        const gchar *profile = gst_structure_get_string(s, "profile");
        const gchar *tier = gst_structure_get_string(s, "tier");
        const gchar *level = gst_structure_get_string(s, "level");
        int pidc = profile && g_str_has_prefix(profile, "main-10") ? 2 : 1;
        int lidc = level ? (int)(g_ascii_strtod(level, NULL) * 30.0 + 0.5) : 93;
        track->codec = ZEGO_CODEC_H265;
        snprintf(track->codec_string, sizeof track->codec_string, "hev1.%d.%d.%c%d.B0", pidc,
                 pidc == 2 ? 4 : 6, tier && strcmp(tier, "high") == 0 ? 'H' : 'L',
                 lidc > 0 ? lidc : 93);
    } else if (strcmp(name, "video/x-vp8") == 0) {
        track->codec = ZEGO_CODEC_VP8;
        g_strlcpy(track->codec_string, "vp8", sizeof track->codec_string);
    } else if (strcmp(name, "video/x-vp9") == 0) {
        const gchar *profile = gst_structure_get_string(s, "profile");
        track->codec = ZEGO_CODEC_VP9;
        snprintf(track->codec_string, sizeof track->codec_string, "vp09.%02d.10.08",
                 profile ? atoi(profile) : 0);
    } else if (strcmp(name, "video/x-av1") == 0) {
        track->codec = ZEGO_CODEC_AV1;
        g_strlcpy(track->codec_string, "av01.0.04M.08", sizeof track->codec_string);
    } else if (strcmp(name, "audio/x-opus") == 0) {
        track->codec = ZEGO_CODEC_OPUS;
        g_strlcpy(track->codec_string, "opus", sizeof track->codec_string);
        if (!track->sample_rate)
            track->sample_rate = 48000;
        if (!track->channels)
            track->channels = 2;
    } else if (strcmp(name, "audio/mpeg") == 0) {
        const GValue *v = gst_structure_get_value(s, "codec_data");
        GstBuffer *cd = v && G_VALUE_HOLDS(v, GST_TYPE_BUFFER) ? gst_value_get_buffer(v) : NULL;
        track->codec = ZEGO_CODEC_AAC;
        if (!cd || gst_buffer_get_size(cd) < 2 || gst_buffer_get_size(cd) > ZEGO_CODEC_CONFIG_MAX)
            return FALSE;
        track->config_len = gst_buffer_extract(cd, 0, track->config, sizeof track->config);
        int aot = track->config[0] >> 3;
        snprintf(track->codec_string, sizeof track->codec_string, "mp4a.40.%d",
                 aot > 0 && aot < 31 ? aot : 2);
    } else {
        return FALSE;
    }
    if (track->kind == ZEGO_TRACK_AUDIO && (!track->sample_rate || !track->channels))
        return FALSE;
    return TRUE;
}

GstCaps *gst_zego_caps_from_track(const zego_track *t)
{
    GstCaps *caps;
    switch (t->codec) {
    case ZEGO_CODEC_H264:
        caps = gst_caps_new_simple("video/x-h264", "stream-format", G_TYPE_STRING, "byte-stream",
                                   "alignment", G_TYPE_STRING, "au", NULL);
        break;
    case ZEGO_CODEC_H265:
        caps = gst_caps_new_simple("video/x-h265", "stream-format", G_TYPE_STRING, "byte-stream",
                                   "alignment", G_TYPE_STRING, "au", NULL);
        break;
    case ZEGO_CODEC_VP8:
        caps = gst_caps_new_empty_simple("video/x-vp8");
        break;
    case ZEGO_CODEC_VP9:
        caps = gst_caps_new_empty_simple("video/x-vp9");
        break;
    case ZEGO_CODEC_AV1:
        caps = gst_caps_new_simple("video/x-av1", "stream-format", G_TYPE_STRING, "obu-stream",
                                   "alignment", G_TYPE_STRING, "tu", NULL);
        break;
    case ZEGO_CODEC_OPUS:
        caps = gst_caps_new_simple("audio/x-opus", "rate", G_TYPE_INT, (int)t->sample_rate,
                                   "channels", G_TYPE_INT, (int)t->channels,
                                   "channel-mapping-family", G_TYPE_INT, 0, NULL);
        break;
    case ZEGO_CODEC_AAC: {
        GstBuffer *cd = gst_buffer_new_memdup(t->config, t->config_len);
        caps = gst_caps_new_simple("audio/mpeg", "mpegversion", G_TYPE_INT, 4, "stream-format",
                                   G_TYPE_STRING, "raw", "rate", G_TYPE_INT, (int)t->sample_rate,
                                   "channels", G_TYPE_INT, (int)t->channels, "codec_data",
                                   GST_TYPE_BUFFER, cd, NULL);
        gst_buffer_unref(cd);
        break;
    }
    default:
        return NULL;
    }
    if (t->kind == ZEGO_TRACK_VIDEO) {
        if (t->width && t->height)
            gst_caps_set_simple(caps, "width", G_TYPE_INT, (int)t->width, "height", G_TYPE_INT,
                                (int)t->height, NULL);
        if (t->framerate_num && t->framerate_den)
            gst_caps_set_simple(caps, "framerate", GST_TYPE_FRACTION, (int)t->framerate_num,
                                (int)t->framerate_den, NULL);
    }
    return caps;
}

const gchar *gst_zego_parser_for_codec(zego_codec codec)
{
    switch (codec) {
    case ZEGO_CODEC_H264:
        return "h264parse";
    case ZEGO_CODEC_H265:
        return "h265parse";
    case ZEGO_CODEC_VP9:
        return "vp9parse";
    case ZEGO_CODEC_AV1:
        return "av1parse";
    case ZEGO_CODEC_OPUS:
        return "opusparse";
    case ZEGO_CODEC_AAC:
        return "aacparse";
    default:
        return NULL;
    }
}

GstCaps *gst_zego_publish_caps_for(const gchar *name)
{
    if (strcmp(name, "video/x-h264") == 0 || strcmp(name, "video/x-h265") == 0)
        return gst_caps_new_simple(name, "stream-format", G_TYPE_STRING, "byte-stream", "alignment",
                                   G_TYPE_STRING, "au", NULL);
    if (strcmp(name, "video/x-av1") == 0)
        return gst_caps_new_simple(name, "stream-format", G_TYPE_STRING, "obu-stream", "alignment",
                                   G_TYPE_STRING, "tu", NULL);
    if (strcmp(name, "audio/mpeg") == 0)
        return gst_caps_new_simple(name, "mpegversion", G_TYPE_INT, 4, "stream-format",
                                   G_TYPE_STRING, "raw", NULL);
    if (strcmp(name, "video/x-vp8") == 0 || strcmp(name, "video/x-vp9") == 0 ||
        strcmp(name, "audio/x-opus") == 0)
        return gst_caps_new_empty_simple(name);
    return NULL;
}
