/* Error codes of libzegoroom and zego-room-server, and the error value every
 * fallible call fills in.
 *
 * Where ZEGO Express has a code for the same condition we use ZEGO's number, so
 * that people who know ZEGO recognise it.  Codes of our own are in the range
 * 1900000-1999999, which ZEGO does not use.  docs/errors.md explains each one
 * and what to do about it. */
#ifndef ZEGO_ERRORS_H
#define ZEGO_ERRORS_H

#include <stdint.h>

#include <zego/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* X(NAME, code, "what it means") -- the one list of codes; errors.c and the
 * docs are built from the same names. */
#define ZEGO_ERROR_LIST(X)                                                                       \
    X(OK, 0, "success")                                                                          \
    /* ZEGO Express codes */                                                                     \
    X(NOT_LOGGED_IN, 1000002, "not logged in to the room")                                       \
    X(STREAM_ID_TOO_LONG, 1000014, "stream id is 256 bytes or longer")                           \
    X(STREAM_ID_NULL, 1000015, "stream id is empty")                                             \
    X(STREAM_ID_INVALID_CHARACTER, 1000016, "stream id has a character outside the allowed set") \
    X(USER_ID_NULL, 1002005, "user id is empty")                                                 \
    X(USER_ID_INVALID_CHARACTER, 1002006, "user id has a character outside the allowed set")     \
    X(USER_ID_TOO_LONG, 1002007, "user id is 64 bytes or longer")                                \
    X(USER_NAME_INVALID, 1002009, "user name is not valid UTF-8")                                \
    X(USER_NAME_TOO_LONG, 1002010, "user name is 256 bytes or longer")                           \
    X(ROOM_ID_NULL, 1002011, "room id is empty")                                                 \
    X(ROOM_ID_INVALID_CHARACTER, 1002012, "room id has a character outside the allowed set")     \
    X(ROOM_ID_TOO_LONG, 1002013, "room id is 128 bytes or longer")                               \
    X(CONNECT_FAILED, 1002030, "could not connect to the room server")                           \
    X(LOGIN_TIMEOUT, 1002031, "the room server did not answer the login in time")                \
    X(AUTHENTICATION_FAILED, 1002033, "the token could not be verified")                         \
    X(ROOM_FULL, 1002034, "the room has reached its maximum number of users")                    \
    X(KICKED_OUT, 1002050, "another login with the same user id replaced this session")          \
    X(TEMPORARILY_DISCONNECTED, 1002051, "connection lost, reconnecting")                        \
    X(RECONNECT_FAILED, 1002053, "reconnecting gave up after the configured time")               \
    X(TOKEN_MISSING, 1002067, "no token was given but the app requires one")                     \
    X(TOKEN_APP_ID_MISMATCH, 1002076, "the token was made for another app id")                   \
    X(TOKEN_USER_ID_MISMATCH, 1002077, "the token was made for another user id")                 \
    X(TOKEN_EXPIRED, 1002078, "the token has expired")                                           \
    X(TOKEN_VERSION, 1002079, "the token is not a Token04 (it must start with \"04\")")          \
    X(STREAM_ALREADY_PUBLISHED, 1003028, "another user is already publishing this stream id")    \
    X(PUBLISH_NOT_AUTHORIZED, 1003072, "the token does not allow publishing this stream")        \
    X(STREAM_NOT_FOUND, 1004002, "the stream does not exist")                                    \
    X(PLAY_NOT_AUTHORIZED, 1004003, "playing this stream is not allowed")                        \
    /* Our own: signaling protocol */                                                            \
    X(PROTOCOL_MALFORMED, 1900001, "the message is not a JSON object")                           \
    X(PROTOCOL_TOO_LARGE, 1900002, "the message is larger than the protocol allows")             \
    X(PROTOCOL_UNKNOWN_TYPE, 1900003, "the message type is not known")                           \
    X(PROTOCOL_MISSING_FIELD, 1900004, "a required field is missing")                            \
    X(PROTOCOL_WRONG_TYPE, 1900005, "a field has the wrong JSON type")                           \
    X(PROTOCOL_VERSION, 1900006, "the protocol version is not supported")                        \
    X(PROTOCOL_OUT_OF_RANGE, 1900007, "a number or a list is outside its allowed range")         \
    X(PROTOCOL_BAD_STATE, 1900008, "the request is not allowed in the session's current state")  \
    X(REDIRECT, 1900009, "the request must be sent to another node; see the redirect URL")       \
    X(TEXT_INVALID_UTF8, 1900010, "a text field is not valid UTF-8")                             \
    X(TEXT_TOO_LONG, 1900011, "a text field is longer than its limit")                           \
    X(TEXT_EMPTY, 1900012, "a text field that must not be empty is empty")                       \
    X(RATE_LIMITED, 1900013, "too many requests of this kind; slow down")                        \
    X(USER_NOT_FOUND, 1900014, "the user is not in the room")                                    \
    X(INVALID_ARGUMENT, 1900015, "an argument of an API call is invalid")                        \
    X(VALUE_INVALID, 1900016, "a field has a value that is not allowed")                         \
    /* Our own: media plane */                                                                   \
    X(FRAME_TRUNCATED, 1901001, "the media frame is shorter than its header says")               \
    X(FRAME_VERSION, 1901002, "the media frame version is not supported")                        \
    X(FRAME_TOO_LARGE, 1901003, "the media frame is larger than the allowed maximum")            \
    X(FRAME_MALFORMED, 1901004, "the media frame header is inconsistent")                        \
    X(FRAME_UNKNOWN_TRACK, 1901005, "the media frame names a track not in the stream info")      \
    X(STREAM_INFO_INVALID, 1901006, "the stream info is invalid")                                \
    X(TICKET_INVALID, 1901007, "the media ticket is invalid")                                    \
    X(TICKET_EXPIRED, 1901008, "the media ticket has expired")                                   \
    X(PLAYER_TOO_SLOW, 1901009, "the player fell too far behind and was disconnected")           \
    X(CODEC_UNSUPPORTED, 1901010, "the codec is not supported")                                  \
    /* Our own: server */                                                                        \
    X(SERVER_FULL, 1902001, "the server has reached its maximum number of rooms")                \
    X(SERVER_SHUTTING_DOWN, 1902002, "the server is shutting down")                              \
    X(INTERNAL, 1902003, "internal error")                                                       \
    X(HEARTBEAT_TIMEOUT, 1902004, "no heartbeat arrived in time")                                \
    X(SESSION_EXPIRED, 1902005, "the session to resume no longer exists")

typedef enum zego_error_code {
#define ZEGO_ERROR_ENUM_(name, code, text) ZEGO_ERR_##name = code,
    ZEGO_ERROR_LIST(ZEGO_ERROR_ENUM_)
#undef ZEGO_ERROR_ENUM_
} zego_error_code;

#define ZEGO_ERROR_MESSAGE_MAX 256

/* What a failed call fills in: a code from the list above and a sentence a
 * person can act on ("stream id 'a b' has ' ' (0x20) at byte 1; ..."). */
typedef struct zego_error {
    int32_t code;
    char message[ZEGO_ERROR_MESSAGE_MAX];
} zego_error;

/* "ZEGO_ERR_TOKEN_EXPIRED" for 1002078, or NULL for an unknown code. */
ZEGO_API const char *zego_error_name(int32_t code);

/* The generic meaning of a code ("the token has expired"), or NULL. */
ZEGO_API const char *zego_error_description(int32_t code);

/* Fills *err (when err is not NULL) and returns code, so a failing function can
 * `return zego_error_set(err, ZEGO_ERR_..., "...", ...);`. */
ZEGO_API int32_t zego_error_set(zego_error *err, int32_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets *err to ZEGO_ERR_OK with an empty message. */
ZEGO_API void zego_error_clear(zego_error *err);

#ifdef __cplusplus
}
#endif

#endif
