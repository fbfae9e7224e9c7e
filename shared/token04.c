/* Token04: creating and verifying ZEGO's login tokens, and reading the
 * privilege payload they may carry; see <zego/token04.h>.
 *
 * Every length in a token is checked against what is left before it is used,
 * and everything decoded lives in fixed-size buffers bounded by
 * ZEGO_TOKEN04_MAX_LEN, so a hostile token costs at most one decryption. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <zego/token04.h>

#include "base64.h"

#define PREFIX         "04"
#define PREFIX_LEN     2
#define GCM_IV_LEN     12
#define GCM_TAG_LEN    16
#define CBC_IV_LEN     16
#define AES_BLOCK      16
#define MODE_BYTE_GCM  0x01
#define MAX_STREAM_IDS 1000

/* The decoded form of the longest token we accept; every buffer used while
 * verifying is this size. */
#define MAX_BLOB_LEN ((ZEGO_TOKEN04_MAX_LEN - PREFIX_LEN) / 4 * 3)

/* Both modes fail the same way when the key is wrong.  In CBC mode the padding
 * check and the JSON check must not be told apart, or a verifier that reports
 * its messages would be a padding oracle that lets anyone forge tokens. */
#define MSG_NO_DECRYPT \
    "token does not decrypt with this app's secret (wrong secret or altered token)"

/* A short printable rendering of a value from a token for an error message:
 * at most 40 bytes, anything unprintable as \xNN. */
static void quote(const char *s, char *out, size_t out_size)
{
    size_t o = 0;
    for (size_t i = 0; s && s[i] && o + 5 < out_size; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i == 40) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (c >= 0x20 && c < 0x7f && c != '\'')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, out_size - o, "\\x%02x", c);
    }
    out[o] = '\0';
}

static int check_secret(const char *secret, zego_error *err)
{
    if (secret == NULL)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "the app's server secret is missing");
    size_t len = strlen(secret);
    if (len != ZEGO_TOKEN04_SECRET_LEN)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT,
                              "the server secret must be exactly %d characters, not %zu",
                              ZEGO_TOKEN04_SECRET_LEN, len);
    return ZEGO_ERR_OK;
}

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint16_t get_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* ---- payload ---- */

static int privilege_value(json_t *privilege, const char *key, int *out, zego_error *err)
{
    json_t *v = json_object_get(privilege, key);
    if (v == NULL) {
        /* ZEGO's servers treat a privilege left out of the object as not granted. */
        *out = ZEGO_TOKEN04_PRIVILEGE_DENIED;
        return ZEGO_ERR_OK;
    }
    if (!json_is_integer(v) || (json_integer_value(v) != 0 && json_integer_value(v) != 1))
        return zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED,
                              "token payload: privilege \"%s\" must be 0 or 1", key);
    *out = json_integer_value(v) ? ZEGO_TOKEN04_PRIVILEGE_ALLOWED : ZEGO_TOKEN04_PRIVILEGE_DENIED;
    return ZEGO_ERR_OK;
}

static int parse_stream_list(json_t *list, zego_token04_info *info, zego_error *err)
{
    if (list == NULL || json_is_null(list))
        return ZEGO_ERR_OK;
    if (!json_is_array(list))
        return zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED,
                              "token payload: \"stream_id_list\" is not a list");
    size_t n = json_array_size(list);
    if (n > MAX_STREAM_IDS)
        return zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED,
                              "token payload: \"stream_id_list\" has %zu entries; the limit is %d",
                              n, MAX_STREAM_IDS);
    if (n == 0)
        return ZEGO_ERR_OK;
    for (size_t i = 0; i < n; i++) {
        if (!json_is_string(json_array_get(list, i)))
            return zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED,
                                  "token payload: entry %zu of \"stream_id_list\" is not a string",
                                  i);
    }
    info->stream_ids = calloc(n, sizeof *info->stream_ids);
    if (info->stream_ids == NULL)
        return zego_error_set(err, ZEGO_ERR_INTERNAL, "out of memory");
    info->n_stream_ids = n;
    for (size_t i = 0; i < n; i++) {
        info->stream_ids[i] = strdup(json_string_value(json_array_get(list, i)));
        if (info->stream_ids[i] == NULL)
            return zego_error_set(err, ZEGO_ERR_INTERNAL, "out of memory");
    }
    return ZEGO_ERR_OK;
}

/* Fills the payload part of info from payload ("" = none).  On failure the
 * caller clears info. */
static int parse_payload(const char *payload, zego_token04_info *info, zego_error *err)
{
    info->has_payload = false;
    info->privilege_login = ZEGO_TOKEN04_PRIVILEGE_UNSET;
    info->privilege_publish = ZEGO_TOKEN04_PRIVILEGE_UNSET;
    if (payload[0] == '\0')
        return ZEGO_ERR_OK;

    json_error_t jerr;
    json_t *root = json_loads(payload, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        return zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED,
                              "token payload is not valid JSON: %s at character %d", jerr.text,
                              jerr.position);
    int rc = ZEGO_ERR_OK;
    if (!json_is_object(root)) {
        rc = zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED,
                            "token payload is not a JSON object");
        goto out;
    }
    info->has_payload = true;

    json_t *room = json_object_get(root, "room_id");
    if (room != NULL && !json_is_null(room)) {
        if (!json_is_string(room)) {
            rc = zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED,
                                "token payload: \"room_id\" is not a string");
            goto out;
        }
        info->room_id = strdup(json_string_value(room));
        if (info->room_id == NULL) {
            rc = zego_error_set(err, ZEGO_ERR_INTERNAL, "out of memory");
            goto out;
        }
    }

    json_t *privilege = json_object_get(root, "privilege");
    if (privilege != NULL && !json_is_null(privilege)) {
        if (!json_is_object(privilege)) {
            rc = zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED,
                                "token payload: \"privilege\" is not an object");
            goto out;
        }
        rc = privilege_value(privilege, "1", &info->privilege_login, err);
        if (rc == ZEGO_ERR_OK)
            rc = privilege_value(privilege, "2", &info->privilege_publish, err);
        if (rc != ZEGO_ERR_OK)
            goto out;
    }

    rc = parse_stream_list(json_object_get(root, "stream_id_list"), info, err);
out:
    json_decref(root);
    return rc;
}

int zego_token04_payload_build(const char *room_id, int privilege_login, int privilege_publish,
                               const char *const *stream_ids, size_t n_stream_ids,
                               char **payload_out, zego_error *err)
{
    if (payload_out == NULL)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "payload_out is NULL");
    *payload_out = NULL;
    int privs[2] = {privilege_login, privilege_publish};
    for (int i = 0; i < 2; i++) {
        if (privs[i] != ZEGO_TOKEN04_PRIVILEGE_ALLOWED && privs[i] != ZEGO_TOKEN04_PRIVILEGE_DENIED)
            return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT,
                                  "the %s privilege must be ALLOWED or DENIED, not %d",
                                  i == 0 ? "login" : "publish", privs[i]);
    }
    if (n_stream_ids > MAX_STREAM_IDS)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT,
                              "%zu stream ids given; a payload holds at most %d", n_stream_ids,
                              MAX_STREAM_IDS);
    if (n_stream_ids > 0 && stream_ids == NULL)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT,
                              "stream_ids is NULL but n_stream_ids is %zu", n_stream_ids);

    json_t *list = json_null();
    if (n_stream_ids > 0) {
        list = json_array();
        for (size_t i = 0; list && i < n_stream_ids; i++) {
            json_t *s = stream_ids[i] ? json_string(stream_ids[i]) : NULL;
            if (s == NULL) {
                json_decref(list);
                return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT,
                                      "stream id %zu is NULL or not valid UTF-8", i);
            }
            json_array_append_new(list, s);
        }
    }
    json_t *room = json_string(room_id ? room_id : "");
    if (room == NULL) {
        json_decref(list);
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "room id is not valid UTF-8");
    }
    /* Keys in the order ZEGO's own tools write them. */
    json_t *root = json_pack("{s:o, s:{s:i, s:i}, s:o}", "room_id", room, "privilege", "1",
                             privilege_login, "2", privilege_publish, "stream_id_list", list);
    char *text = root ? json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(root);
    if (text == NULL)
        return zego_error_set(err, ZEGO_ERR_INTERNAL, "out of memory building the payload");
    *payload_out = text;
    zego_error_clear(err);
    return ZEGO_ERR_OK;
}

/* ---- create ---- */

static int encrypt(zego_token04_mode mode, const char *secret, const uint8_t *iv, const uint8_t *in,
                   size_t in_len, uint8_t *out, size_t *out_len, zego_error *err)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int ok = ctx != NULL;
    int n = 0, fin = 0;
    const EVP_CIPHER *cipher = mode == ZEGO_TOKEN04_GCM ? EVP_aes_256_gcm() : EVP_aes_256_cbc();
    ok = ok && EVP_EncryptInit_ex(ctx, cipher, NULL, NULL, NULL) == 1;
    if (mode == ZEGO_TOKEN04_GCM)
        ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, GCM_IV_LEN, NULL) == 1;
    ok = ok && EVP_EncryptInit_ex(ctx, NULL, NULL, (const unsigned char *)secret, iv) == 1;
    ok = ok && EVP_EncryptUpdate(ctx, out, &n, in, (int)in_len) == 1;
    ok = ok && EVP_EncryptFinal_ex(ctx, out + n, &fin) == 1;
    size_t len = (size_t)n + (size_t)fin;
    if (mode == ZEGO_TOKEN04_GCM) {
        ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG_LEN, out + len) == 1;
        len += GCM_TAG_LEN;
    }
    EVP_CIPHER_CTX_free(ctx);
    if (!ok)
        return zego_error_set(err, ZEGO_ERR_INTERNAL, "encryption failed in OpenSSL");
    *out_len = len;
    return ZEGO_ERR_OK;
}

static int check_create_params(const zego_token04_params *p, zego_error *err)
{
    int rc = check_secret(p->secret, err);
    if (rc != ZEGO_ERR_OK)
        return rc;
    if (p->user_id == NULL || p->user_id[0] == '\0')
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "the user id is empty");
    if (p->ttl <= 0)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT,
                              "the time to live must be positive, not %lld", (long long)p->ttl);
    if (p->ctime < 0)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "ctime must not be negative");
    if (p->mode != ZEGO_TOKEN04_GCM && p->mode != ZEGO_TOKEN04_CBC)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "unknown token mode %d",
                              (int)p->mode);
    size_t want_iv = p->mode == ZEGO_TOKEN04_GCM ? GCM_IV_LEN : CBC_IV_LEN;
    if (p->iv != NULL && p->iv_len != want_iv)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT,
                              "the IV must be %zu bytes in %s mode, not %zu", want_iv,
                              p->mode == ZEGO_TOKEN04_GCM ? "GCM" : "CBC", p->iv_len);
    if (p->fixed_nonce && p->nonce < 0)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "the nonce must not be negative");
    return ZEGO_ERR_OK;
}

int zego_token04_create(const zego_token04_params *params, char **token_out, zego_error *err)
{
    if (params == NULL || token_out == NULL)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "params or token_out is NULL");
    *token_out = NULL;
    int rc = check_create_params(params, err);
    if (rc != ZEGO_ERR_OK)
        return rc;

    const char *payload = params->payload ? params->payload : "";
    /* Refuse now what every verifier would refuse later. */
    zego_token04_info check = {0};
    rc = parse_payload(payload, &check, err);
    zego_token04_info_clear(&check);
    if (rc != ZEGO_ERR_OK) {
        if (rc == ZEGO_ERR_AUTHENTICATION_FAILED && err != NULL) {
            char why[ZEGO_ERROR_MESSAGE_MAX];
            snprintf(why, sizeof why, "%s", err->message);
            rc = zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "invalid payload: %s", why);
        } else if (rc == ZEGO_ERR_AUTHENTICATION_FAILED) {
            rc = ZEGO_ERR_INVALID_ARGUMENT;
        }
        return rc;
    }

    int64_t ctime = params->ctime ? params->ctime : (int64_t)time(NULL);
    if (params->ttl > INT64_MAX - ctime)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "ctime + ttl overflows");
    int64_t expire = ctime + params->ttl;

    int32_t nonce = params->nonce;
    if (!params->fixed_nonce) {
        uint8_t r[4];
        if (RAND_bytes(r, sizeof r) != 1)
            return zego_error_set(err, ZEGO_ERR_INTERNAL, "no random bytes for the nonce");
        nonce =
            (int32_t)(((uint32_t)r[0] << 24 | (uint32_t)r[1] << 16 | (uint32_t)r[2] << 8 | r[3]) &
                      0x7fffffffu);
    }

    bool gcm = params->mode == ZEGO_TOKEN04_GCM;
    size_t iv_len = gcm ? GCM_IV_LEN : CBC_IV_LEN;
    uint8_t iv[CBC_IV_LEN];
    if (params->iv != NULL)
        memcpy(iv, params->iv, iv_len);
    else if (RAND_bytes(iv, (int)iv_len) != 1)
        return zego_error_set(err, ZEGO_ERR_INTERNAL, "no random bytes for the IV");

    /* jansson keeps insertion order, which is the order ZEGO's generators use;
     * with it the vectors are reproduced byte for byte. */
    json_t *root = json_pack("{s:I, s:s, s:I, s:I, s:I, s:s}", "app_id", (json_int_t)params->app_id,
                             "user_id", params->user_id, "nonce", (json_int_t)nonce, "ctime",
                             (json_int_t)ctime, "expire", (json_int_t)expire, "payload", payload);
    if (root == NULL)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT,
                              "the user id or the payload is not valid UTF-8");
    char *plain = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (plain == NULL)
        return zego_error_set(err, ZEGO_ERR_INTERNAL, "out of memory");
    size_t plain_len = strlen(plain);

    size_t ct_len = gcm ? plain_len + GCM_TAG_LEN : (plain_len / AES_BLOCK + 1) * AES_BLOCK;
    size_t blob_len = 8 + 2 + iv_len + 2 + ct_len + (gcm ? 1 : 0);
    size_t token_len = PREFIX_LEN + zego_base64_encoded_len(blob_len, ZEGO_BASE64_STD);
    if (token_len > ZEGO_TOKEN04_MAX_LEN) {
        OPENSSL_cleanse(plain, plain_len);
        free(plain);
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT,
                              "the token would be %zu characters, more than the %d accepted; "
                              "shorten the user id or the payload",
                              token_len, ZEGO_TOKEN04_MAX_LEN);
    }

    uint8_t *blob = malloc(blob_len);
    char *token = malloc(token_len + 1);
    if (blob == NULL || token == NULL) {
        rc = zego_error_set(err, ZEGO_ERR_INTERNAL, "out of memory");
        goto out;
    }
    put_be64(blob, (uint64_t)expire);
    put_be16(blob + 8, (uint16_t)iv_len);
    memcpy(blob + 10, iv, iv_len);
    put_be16(blob + 10 + iv_len, (uint16_t)ct_len);
    size_t got = 0;
    rc = encrypt(params->mode, params->secret, iv, (const uint8_t *)plain, plain_len,
                 blob + 12 + iv_len, &got, err);
    if (rc != ZEGO_ERR_OK)
        goto out;
    if (got != ct_len) {
        rc = zego_error_set(err, ZEGO_ERR_INTERNAL, "unexpected ciphertext length %zu", got);
        goto out;
    }
    if (gcm)
        blob[blob_len - 1] = MODE_BYTE_GCM;
    memcpy(token, PREFIX, PREFIX_LEN);
    zego_base64_encode(blob, blob_len, token + PREFIX_LEN, ZEGO_BASE64_STD);
    *token_out = token;
    token = NULL;
    zego_error_clear(err);
out:
    OPENSSL_cleanse(plain, plain_len);
    free(plain);
    free(blob);
    free(token);
    return rc;
}

/* ---- verify ---- */

static int is_base64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

static int decode_token(const char *token, size_t len, uint8_t *blob, size_t *blob_len,
                        zego_error *err)
{
    const char *b64 = token + PREFIX_LEN;
    size_t b64_len = len - PREFIX_LEN;
    size_t bad = 0;
    if (zego_base64_decode(b64, b64_len, blob, MAX_BLOB_LEN, blob_len, &bad, ZEGO_BASE64_STD))
        return ZEGO_ERR_OK;
    if (bad >= b64_len)
        return zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED,
                              "token is not valid base64: the %zu characters after \"04\" are "
                              "not a multiple of 4 (cut short?)",
                              b64_len);
    unsigned char c = (unsigned char)b64[bad];
    size_t at = bad + PREFIX_LEN;
    if (c == '=')
        return zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED,
                              "token is not valid base64: misplaced '=' at offset %zu", at);
    if (is_base64_char((char)c))
        return zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED,
                              "token is not valid base64: the character at offset %zu has "
                              "unused bits set (altered token)",
                              at);
    if (c >= 0x20 && c < 0x7f)
        return zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED,
                              "token is not valid base64: '%c' at offset %zu is not a base64 "
                              "character",
                              c, at);
    return zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED,
                          "token is not valid base64: byte 0x%02x at offset %zu is not a base64 "
                          "character",
                          c, at);
}

struct layout {
    int64_t expire;
    zego_token04_mode mode;
    const uint8_t *iv;
    const uint8_t *ct;
    size_t ct_len;
};

static int split_blob(const uint8_t *blob, size_t len, struct layout *l, zego_error *err)
{
    size_t off = 0;
    if (len < 8 + 2)
        return zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED,
                              "token is truncated: %zu bytes decoded, too few for its expiry and "
                              "IV length",
                              len);
    l->expire = (int64_t)get_be64(blob);
    size_t iv_len = get_be16(blob + 8);
    off = 10;
    if (iv_len > len - off)
        return zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED,
                              "token is truncated: its IV length is %zu but only %zu bytes remain",
                              iv_len, len - off);
    l->iv = blob + off;
    off += iv_len;
    if (len - off < 2)
        return zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED,
                              "token is truncated: it ends before its ciphertext length");
    l->ct_len = get_be16(blob + off);
    off += 2;
    if (l->ct_len > len - off)
        return zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED,
                              "token is truncated: its ciphertext length is %zu but only %zu "
                              "bytes remain",
                              l->ct_len, len - off);
    l->ct = blob + off;
    off += l->ct_len;

    size_t rest = len - off;
    if (rest == 0) {
        l->mode = ZEGO_TOKEN04_CBC;
    } else if (rest == 1 && blob[off] == MODE_BYTE_GCM) {
        l->mode = ZEGO_TOKEN04_GCM;
    } else if (rest == 1) {
        return zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED,
                              "token has an unknown encryption mode byte 0x%02x", blob[off]);
    } else {
        return zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED,
                              "token has %zu bytes of trailing garbage after its ciphertext", rest);
    }

    bool gcm = l->mode == ZEGO_TOKEN04_GCM;
    size_t want_iv = gcm ? GCM_IV_LEN : CBC_IV_LEN;
    if (iv_len != want_iv)
        return zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED,
                              "token's IV is %zu bytes; %s tokens have %zu", iv_len,
                              gcm ? "AES-GCM" : "AES-CBC", want_iv);
    if (gcm && l->ct_len <= GCM_TAG_LEN)
        return zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED,
                              "token's ciphertext is %zu bytes, too short to hold the GCM tag and "
                              "any content",
                              l->ct_len);
    if (!gcm && (l->ct_len == 0 || l->ct_len % AES_BLOCK != 0))
        return zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED,
                              "token's ciphertext is %zu bytes, not a whole number of AES blocks",
                              l->ct_len);
    return ZEGO_ERR_OK;
}

/* Decrypts into out (at least l->ct_len bytes) and removes the CBC padding. */
static int decrypt(const struct layout *l, const char *secret, uint8_t *out, size_t *out_len,
                   zego_error *err)
{
    bool gcm = l->mode == ZEGO_TOKEN04_GCM;
    size_t in_len = gcm ? l->ct_len - GCM_TAG_LEN : l->ct_len;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int ok = ctx != NULL, n = 0, fin = 0;
    if (!ok)
        return zego_error_set(err, ZEGO_ERR_INTERNAL, "out of memory");
    ok = EVP_DecryptInit_ex(ctx, gcm ? EVP_aes_256_gcm() : EVP_aes_256_cbc(), NULL, NULL, NULL);
    if (ok && gcm)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, GCM_IV_LEN, NULL);
    ok = ok && EVP_DecryptInit_ex(ctx, NULL, NULL, (const unsigned char *)secret, l->iv);
    /* The padding is checked below, the same way for every failure. */
    ok = ok && (gcm || EVP_CIPHER_CTX_set_padding(ctx, 0));
    ok = ok && EVP_DecryptUpdate(ctx, out, &n, l->ct, (int)in_len);
    if (ok && gcm)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG_LEN, (void *)(l->ct + in_len));
    if (!ok) {
        EVP_CIPHER_CTX_free(ctx);
        return zego_error_set(err, ZEGO_ERR_INTERNAL, "decryption failed in OpenSSL");
    }
    /* For GCM this is where the tag is checked. */
    ok = EVP_DecryptFinal_ex(ctx, out + n, &fin);
    EVP_CIPHER_CTX_free(ctx);
    if (ok != 1)
        return zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED, MSG_NO_DECRYPT);
    size_t len = (size_t)n + (size_t)fin;
    if (!gcm) {
        /* PKCS#7, checked without branching on the bytes themselves. */
        uint8_t pad = out[len - 1];
        unsigned bad = (unsigned)(pad == 0) | (unsigned)(pad > AES_BLOCK);
        for (size_t i = 0; i < AES_BLOCK; i++) {
            unsigned in_pad = (unsigned)(i < pad);
            bad |= in_pad & (unsigned)(out[len - 1 - i] != pad);
        }
        if (bad)
            return zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED, MSG_NO_DECRYPT);
        len -= pad;
    }
    *out_len = len;
    return ZEGO_ERR_OK;
}

static int get_int(json_t *root, const char *key, json_int_t *out, zego_error *err)
{
    json_t *v = json_object_get(root, key);
    if (v == NULL)
        return zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED, "token content has no \"%s\"",
                              key);
    if (!json_is_integer(v))
        return zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED,
                              "token content: \"%s\" is not an integer", key);
    *out = json_integer_value(v);
    return ZEGO_ERR_OK;
}

/* Reads the decrypted JSON into info. */
static int parse_content(const uint8_t *plain, size_t len, zego_token04_mode mode,
                         zego_token04_info *info, zego_error *err)
{
    json_error_t jerr;
    json_t *root = json_loadb((const char *)plain, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL || !json_is_object(root)) {
        const char *why = root ? "another JSON value" : jerr.text;
        json_decref(root);
        if (mode == ZEGO_TOKEN04_CBC)
            return zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED, MSG_NO_DECRYPT);
        return zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED,
                              "token decrypts, but its content is not a JSON object (%s); it "
                              "was not made by a Token04 generator",
                              why);
    }
    json_int_t app_id = 0, nonce = 0, ctime = 0, expire = 0;
    int rc = get_int(root, "app_id", &app_id, err);
    if (rc == ZEGO_ERR_OK)
        rc = get_int(root, "nonce", &nonce, err);
    if (rc == ZEGO_ERR_OK)
        rc = get_int(root, "ctime", &ctime, err);
    if (rc == ZEGO_ERR_OK)
        rc = get_int(root, "expire", &expire, err);
    if (rc != ZEGO_ERR_OK)
        goto out;
    if (app_id < 0 || app_id > UINT32_MAX) {
        rc = zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED,
                            "token content: \"app_id\" %lld is out of range", (long long)app_id);
        goto out;
    }
    json_t *user = json_object_get(root, "user_id");
    if (!json_is_string(user) || json_string_length(user) == 0) {
        rc = zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED, "token content: \"user_id\" is %s",
                            user == NULL ? "missing" : "not a non-empty string");
        goto out;
    }
    json_t *payload = json_object_get(root, "payload");
    if (payload != NULL && !json_is_string(payload)) {
        rc = zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED,
                            "token content: \"payload\" is not a string");
        goto out;
    }
    info->app_id = (uint32_t)app_id;
    info->nonce = nonce;
    info->ctime = ctime;
    info->expire = expire;
    info->mode = mode;
    info->user_id = strdup(json_string_value(user));
    info->payload = strdup(payload ? json_string_value(payload) : "");
    if (info->user_id == NULL || info->payload == NULL)
        rc = zego_error_set(err, ZEGO_ERR_INTERNAL, "out of memory");
out:
    json_decref(root);
    return rc;
}

static void format_utc(int64_t t, char *out, size_t out_size)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if ((int64_t)tt != t || gmtime_r(&tt, &tm) == NULL ||
        strftime(out, out_size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, out_size, "%lld (Unix time)", (long long)t);
}

static int verify(const char *token, uint32_t app_id, const char *secret, const char *user_id,
                  int64_t now, zego_token04_info *info, uint8_t *blob, uint8_t *plain,
                  zego_error *err)
{
    int rc = check_secret(secret, err);
    if (rc != ZEGO_ERR_OK)
        return rc;
    if (token == NULL || token[0] == '\0')
        return zego_error_set(err, ZEGO_ERR_TOKEN_MISSING, "no token was given");
    size_t len = strnlen(token, ZEGO_TOKEN04_MAX_LEN + 1);
    if (len > ZEGO_TOKEN04_MAX_LEN)
        return zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED,
                              "token is longer than the %d characters accepted",
                              ZEGO_TOKEN04_MAX_LEN);
    if (len < PREFIX_LEN || memcmp(token, PREFIX, PREFIX_LEN) != 0) {
        char shown[16];
        char head[3] = {token[0], len > 1 ? token[1] : '\0', '\0'};
        quote(head, shown, sizeof shown);
        return zego_error_set(err, ZEGO_ERR_TOKEN_VERSION,
                              "token starts with '%s', not \"04\"; only Token04 is supported",
                              shown);
    }

    size_t blob_len = 0, plain_len = 0;
    struct layout l = {0};
    rc = decode_token(token, len, blob, &blob_len, err);
    if (rc == ZEGO_ERR_OK)
        rc = split_blob(blob, blob_len, &l, err);
    if (rc == ZEGO_ERR_OK)
        rc = decrypt(&l, secret, plain, &plain_len, err);
    if (rc == ZEGO_ERR_OK)
        rc = parse_content(plain, plain_len, l.mode, info, err);
    if (rc != ZEGO_ERR_OK)
        return rc;

    if (info->expire != l.expire)
        return zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED,
                              "token's clear-text expiry does not match the encrypted one "
                              "(altered token)");
    rc = parse_payload(info->payload, info, err);
    if (rc != ZEGO_ERR_OK)
        return rc;
    if (info->app_id != app_id)
        return zego_error_set(err, ZEGO_ERR_TOKEN_APP_ID_MISMATCH, "token is for app id %u, not %u",
                              info->app_id, app_id);
    if (user_id != NULL && strcmp(info->user_id, user_id) != 0) {
        char have[192], want[192];
        quote(info->user_id, have, sizeof have);
        quote(user_id, want, sizeof want);
        return zego_error_set(err, ZEGO_ERR_TOKEN_USER_ID_MISMATCH,
                              "token is for user id '%s', not '%s'", have, want);
    }
    if (now == 0)
        now = (int64_t)time(NULL);
    if (info->expire <= now) {
        char when[64];
        format_utc(info->expire, when, sizeof when);
        /* Unsigned, so that no expiry, however absurd, overflows. */
        return zego_error_set(err, ZEGO_ERR_TOKEN_EXPIRED,
                              "token expired at %s, %llu seconds ago; make a new one", when,
                              (unsigned long long)((uint64_t)now - (uint64_t)info->expire));
    }
    return ZEGO_ERR_OK;
}

int zego_token04_verify(const char *token, uint32_t app_id, const char *secret, const char *user_id,
                        int64_t now, zego_token04_info *info, zego_error *err)
{
    uint8_t *blob = malloc(MAX_BLOB_LEN);
    uint8_t *plain = malloc(MAX_BLOB_LEN);
    zego_token04_info got = {0};
    int rc;
    if (blob == NULL || plain == NULL)
        rc = zego_error_set(err, ZEGO_ERR_INTERNAL, "out of memory");
    else
        rc = verify(token, app_id, secret, user_id, now, &got, blob, plain, err);
    if (plain != NULL)
        OPENSSL_cleanse(plain, MAX_BLOB_LEN);
    free(plain);
    free(blob);
    if (rc == ZEGO_ERR_OK)
        zego_error_clear(err);
    else
        zego_token04_info_clear(&got);
    if (info != NULL)
        *info = got;
    else
        zego_token04_info_clear(&got);
    return rc;
}

/* ---- privileges ---- */

static bool room_restricted(const zego_token04_info *info, const char *room_id)
{
    return info->room_id != NULL && info->room_id[0] != '\0' && strcmp(info->room_id, room_id) != 0;
}

static int room_mismatch(const zego_token04_info *info, const char *room_id, int32_t code,
                         zego_error *err)
{
    char have[96], want[96];
    quote(info->room_id, have, sizeof have);
    quote(room_id, want, sizeof want);
    return zego_error_set(err, code, "token is for room '%s', not '%s'", have, want);
}

int zego_token04_check_login(const zego_token04_info *info, const char *room_id, zego_error *err)
{
    if (info == NULL || room_id == NULL)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "info or room_id is NULL");
    if (info->has_payload) {
        if (room_restricted(info, room_id))
            return room_mismatch(info, room_id, ZEGO_ERR_AUTHENTICATION_FAILED, err);
        if (info->privilege_login == ZEGO_TOKEN04_PRIVILEGE_DENIED)
            return zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED,
                                  "token does not grant login (its privilege \"1\" is not 1)");
    }
    zego_error_clear(err);
    return ZEGO_ERR_OK;
}

int zego_token04_check_publish(const zego_token04_info *info, const char *room_id,
                               const char *stream_id, zego_error *err)
{
    if (info == NULL || room_id == NULL || stream_id == NULL)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "info, room_id or stream_id is NULL");
    if (info->has_payload) {
        if (room_restricted(info, room_id))
            return room_mismatch(info, room_id, ZEGO_ERR_PUBLISH_NOT_AUTHORIZED, err);
        if (info->privilege_publish == ZEGO_TOKEN04_PRIVILEGE_DENIED)
            return zego_error_set(err, ZEGO_ERR_PUBLISH_NOT_AUTHORIZED,
                                  "token does not grant publishing (its privilege \"2\" is not 1)");
        if (info->stream_ids != NULL) {
            bool listed = false;
            for (size_t i = 0; i < info->n_stream_ids && !listed; i++)
                listed = strcmp(info->stream_ids[i], stream_id) == 0;
            if (!listed) {
                char shown[96];
                quote(stream_id, shown, sizeof shown);
                return zego_error_set(err, ZEGO_ERR_PUBLISH_NOT_AUTHORIZED,
                                      "stream '%s' is not in the token's stream_id_list (%zu "
                                      "stream%s allowed)",
                                      shown, info->n_stream_ids,
                                      info->n_stream_ids == 1 ? "" : "s");
            }
        }
    }
    zego_error_clear(err);
    return ZEGO_ERR_OK;
}

void zego_token04_info_clear(zego_token04_info *info)
{
    if (info == NULL)
        return;
    free(info->user_id);
    free(info->payload);
    free(info->room_id);
    if (info->stream_ids != NULL) {
        for (size_t i = 0; i < info->n_stream_ids; i++)
            free(info->stream_ids[i]);
        free(info->stream_ids);
    }
    memset(info, 0, sizeof *info);
}
