/* Room, user and stream identifiers and free-text fields: their limits and
 * their validation, the same on the client and on the server.
 *
 * The limits are ZEGO Express's: user_id under 64 bytes, room_id under 128,
 * stream_id under 256, user_name under 256, extra info and messages at most
 * 1024.  IDs consist of digits, ASCII letters and ~!@$%^&*()_+=-`;',.<>/\ ;
 * user names, extra info and messages are any valid UTF-8 within their limit. */
#ifndef ZEGO_IDS_H
#define ZEGO_IDS_H

#include <stdbool.h>
#include <stddef.h>

#include <zego/errors.h>
#include <zego/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Sizes of buffers that hold any valid value, the terminating NUL included:
 * the longest valid value is one byte less. */
#define ZEGO_USER_ID_SIZE    64
#define ZEGO_ROOM_ID_SIZE    128
#define ZEGO_STREAM_ID_SIZE  256
#define ZEGO_USER_NAME_SIZE  256
#define ZEGO_EXTRA_INFO_SIZE 1025
#define ZEGO_MESSAGE_SIZE    1025

/* The punctuation allowed in IDs besides digits and ASCII letters. */
#define ZEGO_ID_PUNCTUATION "~!@$%^&*()_+=-`;',.<>/\\"

/* Each returns ZEGO_ERR_OK, or the code of the first problem with *err filled
 * in, naming the offending byte and its offset. */
ZEGO_API int zego_validate_room_id(const char *room_id, zego_error *err);
ZEGO_API int zego_validate_user_id(const char *user_id, zego_error *err);
ZEGO_API int zego_validate_stream_id(const char *stream_id, zego_error *err);
/* May be empty. */
ZEGO_API int zego_validate_user_name(const char *user_name, zego_error *err);
/* May be empty. */
ZEGO_API int zego_validate_extra_info(const char *extra_info, zego_error *err);
/* A broadcast message or custom command: 1 to 1024 bytes of UTF-8. */
ZEGO_API int zego_validate_message(const char *message, zego_error *err);

/* True when s[0..len) is well-formed UTF-8 (no overlong forms, surrogates or
 * code points past U+10FFFF); otherwise *bad_offset is the first bad byte. */
ZEGO_API bool zego_utf8_valid(const char *s, size_t len, size_t *bad_offset);

#ifdef __cplusplus
}
#endif

#endif
