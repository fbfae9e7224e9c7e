/* Media frames: the header's exact byte layout, round trips, and refusal of
 * every malformed frame with its code; codec strings. */
#include <stdlib.h>

#include "harness.h"
#include "protocol.h"

static const zego_frame_header sample = {
    .track = 1,
    .flags = ZEGO_FRAME_FLAG_KEY | ZEGO_FRAME_FLAG_CONFIG,
    .sequence = 0x01020304,
    .pts_us = 0x1112131415161718,
    .dts_us = -2,
    .capture_time_us = 1700000000000000,
    .payload_size = 3,
};

static size_t build(uint8_t *buf, const zego_frame_header *h, const char *payload)
{
    zego_frame_header_write(h, buf);
    memcpy(buf + ZEGO_FRAME_HEADER_SIZE, payload, h->payload_size);
    return ZEGO_FRAME_HEADER_SIZE + h->payload_size;
}

static void header_bytes_are_big_endian_in_the_documented_order(void)
{
    uint8_t b[ZEGO_FRAME_HEADER_SIZE];
    zego_frame_header_write(&sample, b);
    static const uint8_t expected[ZEGO_FRAME_HEADER_SIZE] = {
        1,    36,   1,    0x03, 0x01, 0x02, 0x03, 0x04,              /* version..sequence */
        0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,              /* pts */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,              /* dts = -2 */
        0x00, 0x06, 0x0a, 0x24, 0x18, 0x1e, 0x40, 0x00, 0, 0, 0, 3}; /* capture, size */
    CHECK(memcmp(b, expected, sizeof expected) == 0);
}

static void frame_round_trips_with_every_field(void)
{
    uint8_t buf[64];
    size_t len = build(buf, &sample, "abc");
    zego_frame_header h;
    const uint8_t *payload = NULL;
    zego_error err;
    CHECK_INT(zego_frame_parse(buf, len, 1024, &h, &payload, &err), ZEGO_ERR_OK);
    CHECK_INT(h.track, 1);
    CHECK_INT(h.flags, 3);
    CHECK_INT(h.sequence, 0x01020304);
    CHECK_INT(h.pts_us, 0x1112131415161718);
    CHECK_INT(h.dts_us, -2);
    CHECK_INT(h.capture_time_us, 1700000000000000);
    CHECK_INT(h.payload_size, 3);
    CHECK(payload == buf + ZEGO_FRAME_HEADER_SIZE);
}

static void frames_cut_short_anywhere_are_truncated(void)
{
    uint8_t buf[64];
    size_t len = build(buf, &sample, "abc");
    for (size_t n = 0; n < len; n++) {
        zego_frame_header h;
        const uint8_t *p;
        zego_error err;
        int rc = zego_frame_parse(buf, n, 1024, &h, &p, &err);
        CHECK_INT(rc, ZEGO_ERR_FRAME_TRUNCATED);
    }
}

static void an_unknown_version_is_refused(void)
{
    uint8_t buf[64];
    size_t len = build(buf, &sample, "abc");
    buf[0] = 2;
    zego_frame_header h;
    const uint8_t *p;
    zego_error err;
    CHECK_INT(zego_frame_parse(buf, len, 1024, &h, &p, &err), ZEGO_ERR_FRAME_VERSION);
    CHECK_CONTAINS(err.message, "version 2 is not supported");
}

static void a_header_below_the_minimum_size_is_malformed(void)
{
    uint8_t buf[64];
    size_t len = build(buf, &sample, "abc");
    buf[1] = 35;
    zego_frame_header h;
    const uint8_t *p;
    zego_error err;
    CHECK_INT(zego_frame_parse(buf, len, 1024, &h, &p, &err), ZEGO_ERR_FRAME_MALFORMED);
}

static void header_extensions_of_later_versions_are_skipped(void)
{
    uint8_t buf[64];
    build(buf, &sample, "abc");
    /* Grow the header to 40 bytes: 4 unknown bytes before the payload. */
    memmove(buf + 40, buf + 36, 3);
    memset(buf + 36, 0xee, 4);
    buf[1] = 40;
    zego_frame_header h;
    const uint8_t *p = NULL;
    CHECK_INT(zego_frame_parse(buf, 43, 1024, &h, &p, NULL), ZEGO_ERR_OK);
    CHECK(p == buf + 40);
    CHECK(memcmp(p, "abc", 3) == 0);
}

static void a_payload_size_that_disagrees_with_the_message_is_refused(void)
{
    uint8_t buf[64];
    size_t len = build(buf, &sample, "abc");
    zego_frame_header h;
    const uint8_t *p;
    zego_error err;
    buf[35] = 4; /* claims 4, has 3 */
    CHECK_INT(zego_frame_parse(buf, len, 1024, &h, &p, &err), ZEGO_ERR_FRAME_TRUNCATED);
    buf[35] = 2; /* claims 2, has 3 */
    CHECK_INT(zego_frame_parse(buf, len, 1024, &h, &p, &err), ZEGO_ERR_FRAME_MALFORMED);
    CHECK_CONTAINS(err.message, "1 bytes after");
}

static void a_payload_over_the_limit_is_too_large(void)
{
    size_t n = 2000;
    uint8_t *buf = malloc(ZEGO_FRAME_HEADER_SIZE + n);
    zego_frame_header h = sample;
    h.payload_size = (uint32_t)n;
    zego_frame_header_write(&h, buf);
    memset(buf + ZEGO_FRAME_HEADER_SIZE, 0, n);
    const uint8_t *p;
    zego_error err;
    CHECK_INT(zego_frame_parse(buf, ZEGO_FRAME_HEADER_SIZE + n, 1999, &h, &p, &err),
              ZEGO_ERR_FRAME_TOO_LARGE);
    CHECK_CONTAINS(err.message, "2000 bytes; the limit is 1999");
    CHECK_INT(zego_frame_parse(buf, ZEGO_FRAME_HEADER_SIZE + n, 2000, &h, &p, &err), ZEGO_ERR_OK);
    free(buf);
}

static void an_empty_payload_is_malformed(void)
{
    uint8_t buf[64];
    zego_frame_header h = sample;
    h.payload_size = 0;
    zego_frame_header_write(&h, buf);
    const uint8_t *p;
    zego_error err;
    CHECK_INT(zego_frame_parse(buf, ZEGO_FRAME_HEADER_SIZE, 1024, &h, &p, &err),
              ZEGO_ERR_FRAME_MALFORMED);
}

static void codec_strings_that_webcodecs_takes_are_accepted(void)
{
    CHECK_INT(zego_codec_string_check(ZEGO_CODEC_H264, "avc1.42E01E", NULL), ZEGO_ERR_OK);
    CHECK_INT(zego_codec_string_check(ZEGO_CODEC_H264, "avc1.64001f", NULL), ZEGO_ERR_OK);
    CHECK_INT(zego_codec_string_check(ZEGO_CODEC_H265, "hvc1.1.6.L93.B0", NULL), ZEGO_ERR_OK);
    CHECK_INT(zego_codec_string_check(ZEGO_CODEC_VP8, "vp8", NULL), ZEGO_ERR_OK);
    CHECK_INT(zego_codec_string_check(ZEGO_CODEC_VP9, "vp09.00.10.08", NULL), ZEGO_ERR_OK);
    CHECK_INT(zego_codec_string_check(ZEGO_CODEC_AV1, "av01.0.04M.08", NULL), ZEGO_ERR_OK);
    CHECK_INT(zego_codec_string_check(ZEGO_CODEC_OPUS, "opus", NULL), ZEGO_ERR_OK);
    CHECK_INT(zego_codec_string_check(ZEGO_CODEC_AAC, "mp4a.40.2", NULL), ZEGO_ERR_OK);
}

static void bare_or_mismatched_codec_strings_are_refused(void)
{
    zego_error err;
    CHECK_INT(zego_codec_string_check(ZEGO_CODEC_H264, "avc1", &err), ZEGO_ERR_STREAM_INFO_INVALID);
    CHECK_CONTAINS(err.message, "e.g. avc1.42E01E");
    CHECK_INT(zego_codec_string_check(ZEGO_CODEC_H264, "avc1.42E01G", &err),
              ZEGO_ERR_STREAM_INFO_INVALID);
    CHECK_INT(zego_codec_string_check(ZEGO_CODEC_VP9, "vp9", &err), ZEGO_ERR_STREAM_INFO_INVALID);
    CHECK_INT(zego_codec_string_check(ZEGO_CODEC_AV1, "vp8", &err), ZEGO_ERR_STREAM_INFO_INVALID);
    CHECK_INT(zego_codec_string_check(ZEGO_CODEC_AAC, "mp4a.67", &err),
              ZEGO_ERR_STREAM_INFO_INVALID);
    CHECK_INT(zego_codec_string_check((zego_codec)99, "x", &err), ZEGO_ERR_CODEC_UNSUPPORTED);
}

int main(void)
{
    RUN(header_bytes_are_big_endian_in_the_documented_order);
    RUN(frame_round_trips_with_every_field);
    RUN(frames_cut_short_anywhere_are_truncated);
    RUN(an_unknown_version_is_refused);
    RUN(a_header_below_the_minimum_size_is_malformed);
    RUN(header_extensions_of_later_versions_are_skipped);
    RUN(a_payload_size_that_disagrees_with_the_message_is_refused);
    RUN(a_payload_over_the_limit_is_too_large);
    RUN(an_empty_payload_is_malformed);
    RUN(codec_strings_that_webcodecs_takes_are_accepted);
    RUN(bare_or_mismatched_codec_strings_are_refused);
    return harness_finish();
}
