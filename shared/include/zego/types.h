/* The values rooms are made of, shared by the wire protocol and the public
 * API: users, streams, tracks and their codecs, media frame flags. */
#ifndef ZEGO_TYPES_H
#define ZEGO_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zego/errors.h>
#include <zego/export.h>
#include <zego/ids.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZEGO_CODEC_STRING_SIZE 64
#define ZEGO_CODEC_CONFIG_MAX  4096

typedef enum zego_update_type {
    ZEGO_UPDATE_ADD = 0,
    ZEGO_UPDATE_DELETE,
} zego_update_type;

/* Why a user or stream was deleted. */
typedef enum zego_delete_reason {
    ZEGO_REASON_NONE = 0,      /* an ADD, or a delete found by reconciling after a reconnect */
    ZEGO_REASON_LOGOUT,        /* the user logged out */
    ZEGO_REASON_UNPUBLISH,     /* the publisher stopped the stream */
    ZEGO_REASON_TIMEOUT,       /* the user's connection was lost and the reconnect window passed */
    ZEGO_REASON_KICKED_OUT,    /* a login with the same user id replaced the user */
    ZEGO_REASON_SERVER_CLOSED, /* the server removed it (shutdown, limits) */
} zego_delete_reason;

typedef enum zego_track_kind {
    ZEGO_TRACK_VIDEO = 0,
    ZEGO_TRACK_AUDIO,
} zego_track_kind;

typedef enum zego_codec {
    ZEGO_CODEC_H264 = 0,
    ZEGO_CODEC_H265,
    ZEGO_CODEC_VP8,
    ZEGO_CODEC_VP9,
    ZEGO_CODEC_AV1,
    ZEGO_CODEC_OPUS,
    ZEGO_CODEC_AAC,
} zego_codec;

/* A user in a room. */
typedef struct zego_user {
    char user_id[ZEGO_USER_ID_SIZE];
    char user_name[ZEGO_USER_NAME_SIZE];
} zego_user;

/* A stream in a room, as the room lists it. */
typedef struct zego_stream {
    char stream_id[ZEGO_STREAM_ID_SIZE];
    char user_id[ZEGO_USER_ID_SIZE];
    char user_name[ZEGO_USER_NAME_SIZE];
    char extra_info[ZEGO_EXTRA_INFO_SIZE];
} zego_stream;

/* One track of a stream, as its stream_info describes it. */
typedef struct zego_track {
    uint32_t id; /* 0..255, the track byte of media frames */
    zego_track_kind kind;
    zego_codec codec;
    char codec_string[ZEGO_CODEC_STRING_SIZE]; /* RFC 6381, e.g. "avc1.42E01E" */
    uint32_t width, height;                    /* video; 0 = not known */
    uint32_t framerate_num, framerate_den;     /* video; 0/0 = not known */
    uint32_t sample_rate, channels;            /* audio; required */
    uint8_t config[ZEGO_CODEC_CONFIG_MAX];     /* e.g. AudioSpecificConfig */
    size_t config_len;
} zego_track;

#define ZEGO_FRAME_FLAG_KEY     0x01 /* a keyframe: decoding can start here */
#define ZEGO_FRAME_FLAG_CONFIG  0x02 /* carries codec configuration (e.g. SPS/PPS) */
#define ZEGO_FRAME_FLAG_DISCONT 0x04 /* frames before it were lost or the timeline jumped */

/* "h264", "opus", ... */
ZEGO_API const char *zego_codec_name(zego_codec codec);
ZEGO_API zego_track_kind zego_codec_kind(zego_codec codec);

/* Checks that a codec string fits its codec ("avc1.42E01E" for H.264): the
 * RFC 6381 form WebCodecs takes; bare names like "avc1" are refused. */
ZEGO_API int zego_codec_string_check(zego_codec codec, const char *codec_string, zego_error *err);

#ifdef __cplusplus
}
#endif

#endif
