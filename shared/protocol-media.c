/* The media plane: the binary frame header and codec descriptions.
 *
 * Frame header, version 1, all integers big-endian:
 *   0  u8  version (1)          1  u8  header size (36; larger = extensions)
 *   2  u8  track                3  u8  flags (KEY 0x01, CONFIG 0x02, DISCONT 0x04)
 *   4  u32 sequence             8  i64 pts (us)
 *   16 i64 dts (us)             24 i64 capture wall-clock time (Unix us, 0 = unknown)
 *   32 u32 payload size         36 payload
 * A receiver skips header bytes past the ones it knows, so later versions can
 * add fields without breaking version-1 readers that only check the size. */
#include <ctype.h>
#include <string.h>

#include "protocol.h"

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put_i64(uint8_t *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
    put_u32(p, (uint32_t)(u >> 32));
    put_u32(p + 4, (uint32_t)u);
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t get_i64(const uint8_t *p)
{
    return (int64_t)((uint64_t)get_u32(p) << 32 | get_u32(p + 4));
}

void zego_frame_header_write(const zego_frame_header *h, uint8_t out[ZEGO_FRAME_HEADER_SIZE])
{
    out[0] = ZEGO_FRAME_VERSION;
    out[1] = ZEGO_FRAME_HEADER_SIZE;
    out[2] = h->track;
    out[3] = h->flags;
    put_u32(out + 4, h->sequence);
    put_i64(out + 8, h->pts_us);
    put_i64(out + 16, h->dts_us);
    put_i64(out + 24, h->capture_time_us);
    put_u32(out + 32, h->payload_size);
}

int zego_frame_parse(const uint8_t *data, size_t len, size_t max_payload, zego_frame_header *h,
                     const uint8_t **payload, zego_error *err)
{
    if (len < 2)
        return zego_error_set(err, ZEGO_ERR_FRAME_TRUNCATED,
                              "media frame is %zu bytes; the header alone is %d", len,
                              ZEGO_FRAME_HEADER_SIZE);
    if (data[0] != ZEGO_FRAME_VERSION)
        return zego_error_set(err, ZEGO_ERR_FRAME_VERSION,
                              "media frame version %u is not supported; this side speaks %d",
                              data[0], ZEGO_FRAME_VERSION);
    size_t header_size = data[1];
    if (header_size < ZEGO_FRAME_HEADER_SIZE)
        return zego_error_set(err, ZEGO_ERR_FRAME_MALFORMED,
                              "media frame header size %zu is below the minimum of %d", header_size,
                              ZEGO_FRAME_HEADER_SIZE);
    if (len < header_size)
        return zego_error_set(err, ZEGO_ERR_FRAME_TRUNCATED,
                              "media frame is %zu bytes, shorter than its %zu-byte header", len,
                              header_size);

    h->track = data[2];
    h->flags = data[3];
    h->sequence = get_u32(data + 4);
    h->pts_us = get_i64(data + 8);
    h->dts_us = get_i64(data + 16);
    h->capture_time_us = get_i64(data + 24);
    h->payload_size = get_u32(data + 32);

    if (h->payload_size > max_payload)
        return zego_error_set(err, ZEGO_ERR_FRAME_TOO_LARGE,
                              "media frame payload is %u bytes; the limit is %zu", h->payload_size,
                              max_payload);
    size_t have = len - header_size;
    if (have < h->payload_size)
        return zego_error_set(err, ZEGO_ERR_FRAME_TRUNCATED,
                              "media frame payload is %zu bytes but the header says %u", have,
                              h->payload_size);
    if (have > h->payload_size)
        return zego_error_set(err, ZEGO_ERR_FRAME_MALFORMED,
                              "media frame has %zu bytes after its %u-byte payload",
                              have - h->payload_size, h->payload_size);
    if (h->payload_size == 0)
        return zego_error_set(err, ZEGO_ERR_FRAME_MALFORMED, "media frame payload is empty");
    *payload = data + header_size;
    zego_error_clear(err);
    return ZEGO_ERR_OK;
}

static const struct {
    const char *name;
    zego_track_kind kind;
} codecs[] = {
    [ZEGO_CODEC_H264] = {"h264", ZEGO_TRACK_VIDEO}, [ZEGO_CODEC_H265] = {"h265", ZEGO_TRACK_VIDEO},
    [ZEGO_CODEC_VP8] = {"vp8", ZEGO_TRACK_VIDEO},   [ZEGO_CODEC_VP9] = {"vp9", ZEGO_TRACK_VIDEO},
    [ZEGO_CODEC_AV1] = {"av1", ZEGO_TRACK_VIDEO},   [ZEGO_CODEC_OPUS] = {"opus", ZEGO_TRACK_AUDIO},
    [ZEGO_CODEC_AAC] = {"aac", ZEGO_TRACK_AUDIO},
};

const char *zego_codec_name(zego_codec codec)
{
    return (unsigned)codec < sizeof codecs / sizeof codecs[0] ? codecs[codec].name : "unknown";
}

zego_track_kind zego_codec_kind(zego_codec codec)
{
    return (unsigned)codec < sizeof codecs / sizeof codecs[0] ? codecs[codec].kind
                                                              : ZEGO_TRACK_VIDEO;
}

/* Does s consist of `prefix` and then only characters of `tail_chars`
 * (at least min_tail of them)? */
static bool matches(const char *s, const char *prefix, const char *tail_chars, size_t min_tail,
                    size_t max_tail)
{
    size_t n = strlen(prefix);
    if (strncmp(s, prefix, n) != 0)
        return false;
    size_t tail = strlen(s + n);
    if (tail < min_tail || tail > max_tail)
        return false;
    return strspn(s + n, tail_chars) == tail;
}

#define HEX    "0123456789ABCDEFabcdef"
#define DOTTED "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz."

int zego_codec_string_check(zego_codec codec, const char *s, zego_error *err)
{
    bool ok;
    const char *expect;
    switch (codec) {
    case ZEGO_CODEC_H264:
        ok = matches(s, "avc1.", HEX, 6, 6) || matches(s, "avc3.", HEX, 6, 6);
        expect = "avc1.PPCCLL (six hex digits: profile, constraints, level), e.g. avc1.42E01E";
        break;
    case ZEGO_CODEC_H265:
        ok = matches(s, "hvc1.", DOTTED, 1, 40) || matches(s, "hev1.", DOTTED, 1, 40);
        expect = "hvc1.* or hev1.*, e.g. hvc1.1.6.L93.B0";
        break;
    case ZEGO_CODEC_VP8:
        ok = strcmp(s, "vp8") == 0;
        expect = "vp8";
        break;
    case ZEGO_CODEC_VP9:
        ok = matches(s, "vp09.", DOTTED, 8, 40);
        expect = "vp09.PP.LL.DD, e.g. vp09.00.10.08";
        break;
    case ZEGO_CODEC_AV1:
        ok = matches(s, "av01.", DOTTED, 6, 40);
        expect = "av01.P.LLT.DD, e.g. av01.0.04M.08";
        break;
    case ZEGO_CODEC_OPUS:
        ok = strcmp(s, "opus") == 0;
        expect = "opus";
        break;
    case ZEGO_CODEC_AAC:
        ok = matches(s, "mp4a.40.", "0123456789", 1, 2);
        expect = "mp4a.40.N, e.g. mp4a.40.2 for AAC-LC";
        break;
    default:
        return zego_error_set(err, ZEGO_ERR_CODEC_UNSUPPORTED, "codec %d is not supported",
                              (int)codec);
    }
    if (!ok)
        return zego_error_set(err, ZEGO_ERR_STREAM_INFO_INVALID,
                              "codec string \"%.40s\" does not fit %s; expected %s", s,
                              zego_codec_name(codec), expect);
    zego_error_clear(err);
    return ZEGO_ERR_OK;
}
