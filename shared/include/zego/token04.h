/* ZEGO Token04: create and verify the tokens a user presents at login.
 *
 * A Token04 is "04" + base64(expire | iv | ciphertext [| mode]) where the
 * ciphertext is the AES-256 encryption of a JSON object
 * {"app_id","user_id","nonce","ctime","expire","payload"} under the app's
 * 32-character server secret used as the key as it is.  Two modes exist:
 * AES-256-GCM (12-byte nonce, 16-byte tag, trailing mode byte 0x01) and
 * AES-256-CBC (16-byte IV, PKCS#7, no mode byte).  Tokens made by ZEGO's own
 * server assistant verify here and the reverse.  The layout is in
 * docs/protocol.md.
 *
 * The optional payload is a JSON string granting privileges:
 * {"room_id":"r","privilege":{"1":1,"2":0},"stream_id_list":["s1"]}
 * key 1 = log into the room, key 2 = publish; an empty room_id or an empty or
 * null stream_id_list is not checked.  Without a payload everything is
 * allowed. */
#ifndef ZEGO_TOKEN04_H
#define ZEGO_TOKEN04_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zego/errors.h>
#include <zego/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Longest token string accepted, in bytes. */
#define ZEGO_TOKEN04_MAX_LEN 4096
/* Length of an app's server secret. */
#define ZEGO_TOKEN04_SECRET_LEN 32

typedef enum zego_token04_mode {
    ZEGO_TOKEN04_GCM = 0, /* AES-256-GCM, the default */
    ZEGO_TOKEN04_CBC = 1, /* AES-256-CBC, for older verifiers */
} zego_token04_mode;

/* Values of a privilege in a payload. */
#define ZEGO_TOKEN04_PRIVILEGE_DENIED  0
#define ZEGO_TOKEN04_PRIVILEGE_ALLOWED 1
#define ZEGO_TOKEN04_PRIVILEGE_UNSET   (-1)

typedef struct zego_token04_params {
    uint32_t app_id;
    const char *secret;  /* the app's 32-character server secret */
    const char *user_id; /* any non-empty string; the token is bound to it */
    int64_t ttl;         /* seconds from ctime until it expires, > 0 */
    zego_token04_mode mode;
    const char *payload; /* NULL or "" for none; see zego_token04_payload_build() */

    /* For reproducible tokens (tests, vectors): when set, these replace the
     * current time, the random nonce and the random IV. */
    int64_t ctime; /* 0 = now */
    bool fixed_nonce;
    int32_t nonce;
    const uint8_t *iv; /* NULL = random from the CSPRNG */
    size_t iv_len;     /* 12 for GCM, 16 for CBC */
} zego_token04_params;

/* What a verified token says. */
typedef struct zego_token04_info {
    uint32_t app_id;
    char *user_id;
    int64_t nonce;
    int64_t ctime;
    int64_t expire;
    zego_token04_mode mode;
    char *payload; /* the payload string as it is, "" when there is none */

    /* Parsed from a non-empty payload; when has_payload is false everything
     * is allowed. */
    bool has_payload;
    char *room_id;         /* NULL or "" = any room */
    int privilege_login;   /* ZEGO_TOKEN04_PRIVILEGE_* */
    int privilege_publish; /* ZEGO_TOKEN04_PRIVILEGE_* */
    char **stream_ids;     /* NULL = any stream */
    size_t n_stream_ids;
} zego_token04_info;

/* Makes a token.  On success returns ZEGO_ERR_OK and stores a string the
 * caller frees with free() in *token_out.  Fails with ZEGO_ERR_INVALID_ARGUMENT
 * for a secret that is not 32 characters, an empty user id, a ttl <= 0, an IV
 * of the wrong size, a payload no verifier would accept, or a token that would
 * be longer than ZEGO_TOKEN04_MAX_LEN. */
ZEGO_API int zego_token04_create(const zego_token04_params *params, char **token_out,
                                 zego_error *err);

/* Builds a privilege payload.  room_id may be NULL or "" (any room); a
 * privilege is ZEGO_TOKEN04_PRIVILEGE_ALLOWED or _DENIED; stream_ids may be
 * NULL (any stream), and holds at most 1000 ids.  Stores a string the caller
 * frees with free(). */
ZEGO_API int zego_token04_payload_build(const char *room_id, int privilege_login,
                                        int privilege_publish, const char *const *stream_ids,
                                        size_t n_stream_ids, char **payload_out, zego_error *err);

/* Checks a token for app_id with secret: its format, that it decrypts, its
 * app_id, its user_id (when user_id is not NULL) and its expiry as of `now`
 * (Unix seconds; 0 = the current time).  Returns ZEGO_ERR_OK or one of
 * ZEGO_ERR_TOKEN_MISSING, _TOKEN_VERSION, _AUTHENTICATION_FAILED,
 * _TOKEN_APP_ID_MISMATCH, _TOKEN_USER_ID_MISMATCH, _TOKEN_EXPIRED (or
 * ZEGO_ERR_INVALID_ARGUMENT for a secret that is not 32 characters).  When
 * info is not NULL it is overwritten: with the decoded fields on success
 * (release them with zego_token04_info_clear()), with zeroes on failure.
 * A payload that cannot be parsed makes the token invalid. */
ZEGO_API int zego_token04_verify(const char *token, uint32_t app_id, const char *secret,
                                 const char *user_id, int64_t now, zego_token04_info *info,
                                 zego_error *err);

/* Does the verified token allow logging into room_id?  ZEGO_ERR_OK or
 * ZEGO_ERR_AUTHENTICATION_FAILED (ZEGO_ERR_INVALID_ARGUMENT for NULL
 * arguments). */
ZEGO_API int zego_token04_check_login(const zego_token04_info *info, const char *room_id,
                                      zego_error *err);

/* Does it allow publishing stream_id in room_id?  ZEGO_ERR_OK or
 * ZEGO_ERR_PUBLISH_NOT_AUTHORIZED (ZEGO_ERR_INVALID_ARGUMENT for NULL
 * arguments). */
ZEGO_API int zego_token04_check_publish(const zego_token04_info *info, const char *room_id,
                                        const char *stream_id, zego_error *err);

/* Frees what info holds and zeroes it; safe on a zeroed struct, twice, and
 * on NULL. */
ZEGO_API void zego_token04_info_clear(zego_token04_info *info);

#ifdef __cplusplus
}
#endif

#endif
