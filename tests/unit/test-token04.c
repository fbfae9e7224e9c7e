/* Token04: the published vectors, round trips in both modes, every way a
 * token can be refused, and the privilege payload.
 *
 * Tokens with contents no generator would write (not JSON, wrong types, bad
 * payloads) are sealed here directly with OpenSSL, which also checks the
 * library against a second, independent encoder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include <zego/token04.h>

#include "base64.h"
#include "harness.h"

#define SECRET       "fa94dd0f974cf2e293728a526b028271"
#define OTHER_SECRET "00000000000000000000000000000000"
#define AT           1700000100 /* after the vectors' ctime, before their expiry */
#define CTIME        1700000000
#define EXPIRE       1700003600

static const char gcm_vector[] =
    "04AAAAAGVT/xAADDAxMjM0NTY3ODlhYgBzCyp4BFmXo9vH6W67++pmKSYP/GBrslcVz6p0LJgT/"
    "ryXLGlZoAbYSE1TjBsrJ/"
    "wnDmG/"
    "PTJ4VpLooXluwbBY+WGMypjYwBLEUfjBkFvC4TS7+Xq55Fd1ePOxlAUibUcZLDgammc9E2EfQ9gJuU2pmMVDVwE=";
static const char cbc_vector[] =
    "04AAAAAGVT/xAAEDAxMjM0NTY3ODlhYmNkZWYAcPDOWcZeMCPxbh1dpHzCTREIwK2oIO5x78Qlcu9iUMPYkqBI5TvjB3Jw"
    "CxC9+klE8/eu//t2uE7+o7gQ53yB/JkIFUA6xyD5rb5rd5NER5knvdDJH2auGOam8ZKJG5qT/"
    "1t+UUUnbL8ghIsUgkbwAAg=";

/* ---- helpers ---- */

static zego_token04_params vector_params(zego_token04_mode mode)
{
    zego_token04_params p = {
        .app_id = 1,
        .secret = SECRET,
        .user_id = "demo",
        .ttl = EXPIRE - CTIME,
        .mode = mode,
        .payload = "",
        .ctime = CTIME,
        .fixed_nonce = true,
        .nonce = 123456789,
        .iv = (const uint8_t *)(mode == ZEGO_TOKEN04_GCM ? "0123456789ab" : "0123456789abcdef"),
        .iv_len = mode == ZEGO_TOKEN04_GCM ? 12 : 16,
    };
    return p;
}

/* A fresh token for user "demo" of app 1, valid for an hour from now. */
static char *make_token(zego_token04_mode mode, const char *payload)
{
    zego_token04_params p = {
        .app_id = 1,
        .secret = SECRET,
        .user_id = "demo",
        .ttl = 3600,
        .mode = mode,
        .payload = payload,
    };
    char *token = NULL;
    zego_error err;
    int rc = zego_token04_create(&p, &token, &err);
    if (rc != ZEGO_ERR_OK)
        printf("# create failed: %d %s\n", rc, err.message);
    return token;
}

static size_t decode(const char *token, uint8_t *blob, size_t cap)
{
    size_t n = 0, bad = 0;
    if (!zego_base64_decode(token + 2, strlen(token) - 2, blob, cap, &n, &bad, ZEGO_BASE64_STD))
        return 0;
    return n;
}

static char *encode(const uint8_t *blob, size_t n)
{
    char *token = malloc(2 + zego_base64_encoded_len(n, ZEGO_BASE64_STD) + 1);
    memcpy(token, "04", 2);
    zego_base64_encode(blob, n, token + 2, ZEGO_BASE64_STD);
    return token;
}

/* Encrypts plaintext as a token by hand, with expire in clear text. */
static char *seal(zego_token04_mode mode, int64_t expire, const char *plaintext)
{
    bool gcm = mode == ZEGO_TOKEN04_GCM;
    const uint8_t *iv = (const uint8_t *)"0123456789abcdef";
    size_t iv_len = gcm ? 12 : 16, pt_len = strlen(plaintext);
    uint8_t blob[4096];
    size_t o = 0;
    for (int i = 7; i >= 0; i--)
        blob[o++] = (uint8_t)((uint64_t)expire >> (i * 8));
    blob[o++] = 0;
    blob[o++] = (uint8_t)iv_len;
    memcpy(blob + o, iv, iv_len);
    o += iv_len;
    size_t len_at = o;
    o += 2;

    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, fin = 0;
    EVP_EncryptInit_ex(ctx, gcm ? EVP_aes_256_gcm() : EVP_aes_256_cbc(), NULL,
                       (const unsigned char *)SECRET, iv);
    EVP_EncryptUpdate(ctx, blob + o, &n, (const unsigned char *)plaintext, (int)pt_len);
    EVP_EncryptFinal_ex(ctx, blob + o + n, &fin);
    size_t ct_len = (size_t)(n + fin);
    if (gcm) {
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, blob + o + ct_len);
        ct_len += 16;
    }
    EVP_CIPHER_CTX_free(ctx);
    blob[len_at] = (uint8_t)(ct_len >> 8);
    blob[len_at + 1] = (uint8_t)ct_len;
    o += ct_len;
    if (gcm)
        blob[o++] = 1;
    return encode(blob, o);
}

/* A sealed token whose content is the vector's with the given payload. */
static char *seal_payload(const char *payload_json_string)
{
    char plaintext[2048];
    snprintf(plaintext, sizeof plaintext,
             "{\"app_id\":1,\"user_id\":\"demo\",\"nonce\":1,\"ctime\":%d,\"expire\":%d,"
             "\"payload\":%s}",
             CTIME, EXPIRE, payload_json_string);
    return seal(ZEGO_TOKEN04_GCM, EXPIRE, plaintext);
}

static int verify_at(const char *token, zego_error *err)
{
    return zego_token04_verify(token, 1, SECRET, "demo", AT, NULL, err);
}

/* Verifies a fresh token carrying payload and leaves its info in *info. */
static int verify_payload(const char *payload, zego_token04_info *info)
{
    char *token = make_token(ZEGO_TOKEN04_GCM, payload);
    zego_error err;
    int rc = zego_token04_verify(token, 1, SECRET, "demo", 0, info, &err);
    if (rc != ZEGO_ERR_OK)
        printf("# verify failed: %d %s\n", rc, err.message);
    free(token);
    return rc;
}

/* ---- the vectors ---- */

static void check_vector_fields(const char *token, zego_token04_mode mode)
{
    zego_token04_info info = {0};
    zego_error err;
    CHECK_INT(zego_token04_verify(token, 1, SECRET, "demo", AT, &info, &err), ZEGO_ERR_OK);
    CHECK_INT(err.code, ZEGO_ERR_OK);
    CHECK_INT(info.app_id, 1);
    CHECK_STR(info.user_id, "demo");
    CHECK_INT(info.nonce, 123456789);
    CHECK_INT(info.ctime, CTIME);
    CHECK_INT(info.expire, EXPIRE);
    CHECK_INT(info.mode, mode);
    CHECK_STR(info.payload, "");
    CHECK(!info.has_payload);
    CHECK(info.room_id == NULL);
    CHECK(info.stream_ids == NULL);
    CHECK_INT(info.privilege_login, ZEGO_TOKEN04_PRIVILEGE_UNSET);
    CHECK_INT(info.privilege_publish, ZEGO_TOKEN04_PRIVILEGE_UNSET);
    zego_token04_info_clear(&info);
}

static void gcm_vector_verifies_with_the_documented_fields(void)
{
    check_vector_fields(gcm_vector, ZEGO_TOKEN04_GCM);
}

static void cbc_vector_verifies_with_the_documented_fields(void)
{
    check_vector_fields(cbc_vector, ZEGO_TOKEN04_CBC);
}

static void gcm_vector_is_reproduced_byte_for_byte(void)
{
    zego_token04_params p = vector_params(ZEGO_TOKEN04_GCM);
    char *token = NULL;
    zego_error err;
    CHECK_INT(zego_token04_create(&p, &token, &err), ZEGO_ERR_OK);
    CHECK_STR(token, gcm_vector);
    free(token);
}

static void cbc_vector_is_reproduced_byte_for_byte(void)
{
    zego_token04_params p = vector_params(ZEGO_TOKEN04_CBC);
    char *token = NULL;
    zego_error err;
    CHECK_INT(zego_token04_create(&p, &token, &err), ZEGO_ERR_OK);
    CHECK_STR(token, cbc_vector);
    free(token);
}

static void vectors_compiled_in_match_the_vector_file(void)
{
    const char *dir = getenv("ZEGO_TEST_VECTORS");
    if (dir == NULL) {
        SKIP("ZEGO_TEST_VECTORS is not set");
        return;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/token04.json", dir);
    json_t *root = json_load_file(path, 0, NULL);
    CHECK(root != NULL);
    CHECK_STR(json_string_value(json_object_get(root, "secret")), SECRET);
    json_t *vectors = json_object_get(root, "vectors");
    CHECK_INT(json_array_size(vectors), 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(vectors, 0), "token")), gcm_vector);
    CHECK_STR(json_string_value(json_object_get(json_array_get(vectors, 1), "token")), cbc_vector);
    json_decref(root);
}

/* ---- round trips ---- */

static void round_trip(zego_token04_mode mode)
{
    char *token = make_token(mode, NULL);
    CHECK(token != NULL);
    CHECK(token && strncmp(token, "04", 2) == 0);
    zego_token04_info info = {0};
    zego_error err;
    CHECK_INT(zego_token04_verify(token, 1, SECRET, "demo", 0, &info, &err), ZEGO_ERR_OK);
    CHECK_STR(info.user_id, "demo");
    CHECK_INT(info.mode, mode);
    CHECK_INT(info.expire - info.ctime, 3600);
    CHECK(info.nonce >= 0 && info.nonce <= INT32_MAX);
    CHECK_STR(info.payload, "");
    zego_token04_info_clear(&info);
    free(token);
}

static void gcm_token_round_trips_with_random_iv_and_nonce(void)
{
    round_trip(ZEGO_TOKEN04_GCM);
}

static void cbc_token_round_trips_with_random_iv_and_nonce(void)
{
    round_trip(ZEGO_TOKEN04_CBC);
}

static void two_tokens_made_alike_differ_in_iv_and_nonce(void)
{
    for (int m = 0; m < 2; m++) {
        char *a = make_token((zego_token04_mode)m, NULL);
        char *b = make_token((zego_token04_mode)m, NULL);
        CHECK(a && b && strcmp(a, b) != 0);
        uint8_t ba[256], bb[256];
        size_t na = decode(a, ba, sizeof ba), nb = decode(b, bb, sizeof bb);
        CHECK(na > 30 && nb > 30);                /* lengths differ with the nonce's digits */
        CHECK(memcmp(ba + 10, bb + 10, 12) != 0); /* IVs differ */
        free(a);
        free(b);
    }
}

static void random_nonces_are_non_negative_int32(void)
{
    for (int i = 0; i < 64; i++) {
        char *token = make_token(ZEGO_TOKEN04_GCM, NULL);
        zego_token04_info info = {0};
        zego_error err;
        CHECK_INT(zego_token04_verify(token, 1, SECRET, NULL, 0, &info, &err), ZEGO_ERR_OK);
        CHECK(info.nonce >= 0 && info.nonce <= INT32_MAX);
        zego_token04_info_clear(&info);
        free(token);
    }
}

static void user_ids_with_punctuation_and_utf8_round_trip(void)
{
    const char *ids[] = {"a@b.c", "x\"y\\z", "\xe7\x94\xa8\xe6\x88\xb7", "tab\there"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        zego_token04_params p = {
            .app_id = 4294967295u, .secret = SECRET, .user_id = ids[i], .ttl = 60};
        char *token = NULL;
        zego_error err;
        CHECK_INT(zego_token04_create(&p, &token, &err), ZEGO_ERR_OK);
        zego_token04_info info = {0};
        CHECK_INT(zego_token04_verify(token, 4294967295u, SECRET, ids[i], 0, &info, &err),
                  ZEGO_ERR_OK);
        CHECK_STR(info.user_id, ids[i]);
        CHECK_INT(info.app_id, 4294967295u);
        zego_token04_info_clear(&info);
        free(token);
    }
}

/* ---- refusals: identity and time ---- */

static void token_is_expired_at_its_expiry_second(void)
{
    zego_error err;
    CHECK_INT(zego_token04_verify(gcm_vector, 1, SECRET, "demo", EXPIRE, NULL, &err),
              ZEGO_ERR_TOKEN_EXPIRED);
    CHECK_INT(zego_token04_verify(gcm_vector, 1, SECRET, "demo", EXPIRE - 1, NULL, &err),
              ZEGO_ERR_OK);
}

static void expired_token_names_its_expiry_in_utc(void)
{
    zego_error err;
    CHECK_INT(zego_token04_verify(cbc_vector, 1, SECRET, "demo", EXPIRE + 60, NULL, &err),
              ZEGO_ERR_TOKEN_EXPIRED);
    CHECK_INT(err.code, ZEGO_ERR_TOKEN_EXPIRED);
    CHECK_CONTAINS(err.message, "2023-11-14T23:13:20Z");
    CHECK_CONTAINS(err.message, "60 seconds ago");
}

static void now_zero_means_the_current_time(void)
{
    zego_error err;
    CHECK_INT(zego_token04_verify(gcm_vector, 1, SECRET, "demo", 0, NULL, &err),
              ZEGO_ERR_TOKEN_EXPIRED);
    char *token = make_token(ZEGO_TOKEN04_GCM, NULL);
    CHECK_INT(zego_token04_verify(token, 1, SECRET, "demo", 0, NULL, &err), ZEGO_ERR_OK);
    free(token);
}

static void wrong_app_id_is_reported_with_both_ids(void)
{
    zego_error err;
    CHECK_INT(zego_token04_verify(gcm_vector, 2, SECRET, "demo", AT, NULL, &err),
              ZEGO_ERR_TOKEN_APP_ID_MISMATCH);
    CHECK_CONTAINS(err.message, "app id 1, not 2");
}

static void wrong_user_id_is_reported_with_both_ids(void)
{
    zego_error err;
    CHECK_INT(zego_token04_verify(cbc_vector, 1, SECRET, "alice", AT, NULL, &err),
              ZEGO_ERR_TOKEN_USER_ID_MISMATCH);
    CHECK_CONTAINS(err.message, "'demo', not 'alice'");
}

static void null_user_id_skips_the_user_check(void)
{
    zego_token04_info info = {0};
    zego_error err;
    CHECK_INT(zego_token04_verify(gcm_vector, 1, SECRET, NULL, AT, &info, &err), ZEGO_ERR_OK);
    CHECK_STR(info.user_id, "demo");
    zego_token04_info_clear(&info);
}

static void failed_verify_leaves_info_zeroed(void)
{
    zego_token04_info info = {0};
    zego_error err;
    CHECK_INT(zego_token04_verify(gcm_vector, 1, SECRET, "alice", AT, &info, &err),
              ZEGO_ERR_TOKEN_USER_ID_MISMATCH);
    CHECK(info.user_id == NULL && info.payload == NULL && info.app_id == 0);
    zego_token04_info_clear(&info);
}

/* ---- refusals: altered and malformed tokens ---- */

static void flip_and_check(const char *vector, size_t at, const char *expect)
{
    uint8_t blob[512];
    size_t n = decode(vector, blob, sizeof blob);
    CHECK(n > at);
    blob[at] ^= 0x01;
    char *token = encode(blob, n);
    zego_error err;
    CHECK_INT(verify_at(token, &err), ZEGO_ERR_AUTHENTICATION_FAILED);
    CHECK_CONTAINS(err.message, expect);
    free(token);
}

static void tampered_gcm_ciphertext_does_not_decrypt(void)
{
    /* blob: expire 8, len 2, iv 12, len 2, ciphertext from 24 */
    flip_and_check(gcm_vector, 24, "does not decrypt with this app's secret");
    flip_and_check(gcm_vector, 24 + 60, "does not decrypt with this app's secret");
    flip_and_check(gcm_vector, 24 + 114, "does not decrypt with this app's secret"); /* tag */
    flip_and_check(gcm_vector, 10, "does not decrypt with this app's secret");       /* iv */
}

static void tampered_cbc_ciphertext_does_not_decrypt(void)
{
    /* blob: expire 8, len 2, iv 16, len 2, ciphertext from 28 */
    flip_and_check(cbc_vector, 28, "does not decrypt with this app's secret");
    flip_and_check(cbc_vector, 28 + 111, "does not decrypt with this app's secret");
}

static void tampered_clear_text_expiry_is_detected(void)
{
    flip_and_check(gcm_vector, 7, "clear-text expiry does not match");
    flip_and_check(cbc_vector, 6, "clear-text expiry does not match");
}

static void truncated_tokens_are_refused_at_every_length(void)
{
    uint8_t blob[512];
    size_t n = decode(gcm_vector, blob, sizeof blob);
    CHECK_INT(n, 140);
    for (size_t k = 0; k + 1 < n; k++) {
        char *token = encode(blob, k);
        zego_error err;
        int rc = verify_at(token, &err);
        CHECK_INT(rc, ZEGO_ERR_AUTHENTICATION_FAILED);
        if (rc == ZEGO_ERR_AUTHENTICATION_FAILED && !strstr(err.message, "truncated"))
            printf("#   at %zu bytes: %s\n", k, err.message);
        CHECK_CONTAINS(err.message, "truncated");
        free(token);
    }
    /* Without its mode byte a GCM token reads as CBC with the wrong IV size. */
    char *token = encode(blob, n - 1);
    zego_error err;
    CHECK_INT(verify_at(token, &err), ZEGO_ERR_AUTHENTICATION_FAILED);
    CHECK_CONTAINS(err.message, "IV is 12 bytes");
    free(token);
}

static void token_cut_inside_its_base64_reports_the_length(void)
{
    char token[sizeof gcm_vector];
    memcpy(token, gcm_vector, sizeof token);
    token[51] = '\0';
    zego_error err;
    CHECK_INT(verify_at(token, &err), ZEGO_ERR_AUTHENTICATION_FAILED);
    CHECK_CONTAINS(err.message, "not a multiple of 4");
}

static void bad_base64_character_names_its_offset(void)
{
    char token[sizeof gcm_vector];
    memcpy(token, gcm_vector, sizeof token);
    token[17] = '*';
    zego_error err;
    CHECK_INT(verify_at(token, &err), ZEGO_ERR_AUTHENTICATION_FAILED);
    CHECK_CONTAINS(err.message, "'*' at offset 17");
    token[17] = '\x01';
    CHECK_INT(verify_at(token, &err), ZEGO_ERR_AUTHENTICATION_FAILED);
    CHECK_CONTAINS(err.message, "byte 0x01 at offset 17");
    memcpy(token, gcm_vector, sizeof token);
    token[8] = '=';
    CHECK_INT(verify_at(token, &err), ZEGO_ERR_AUTHENTICATION_FAILED);
    CHECK_CONTAINS(err.message, "misplaced '=' at offset 8");
}

static void wrong_version_prefix_is_refused(void)
{
    char token[sizeof gcm_vector];
    memcpy(token, gcm_vector, sizeof token);
    token[1] = '3';
    zego_error err;
    CHECK_INT(verify_at(token, &err), ZEGO_ERR_TOKEN_VERSION);
    CHECK_CONTAINS(err.message, "'03'");
    CHECK_INT(verify_at("0", &err), ZEGO_ERR_TOKEN_VERSION);
    CHECK_INT(verify_at("\n4", &err), ZEGO_ERR_TOKEN_VERSION);
    CHECK_CONTAINS(err.message, "\\x0a");
}

static void empty_and_null_tokens_are_missing(void)
{
    zego_error err;
    CHECK_INT(verify_at(NULL, &err), ZEGO_ERR_TOKEN_MISSING);
    CHECK_INT(err.code, ZEGO_ERR_TOKEN_MISSING);
    CHECK_INT(verify_at("", &err), ZEGO_ERR_TOKEN_MISSING);
}

static void oversized_token_is_refused_before_decoding(void)
{
    char *token = malloc(ZEGO_TOKEN04_MAX_LEN + 2);
    memcpy(token, "04", 2);
    memset(token + 2, 'A', ZEGO_TOKEN04_MAX_LEN - 1);
    token[ZEGO_TOKEN04_MAX_LEN + 1] = '\0';
    zego_error err;
    CHECK_INT(verify_at(token, &err), ZEGO_ERR_AUTHENTICATION_FAILED);
    CHECK_CONTAINS(err.message, "longer than the 4096");
    /* One character less is within the limit and fails for another reason. */
    token[ZEGO_TOKEN04_MAX_LEN] = '\0';
    CHECK_INT(verify_at(token, &err), ZEGO_ERR_AUTHENTICATION_FAILED);
    CHECK(strstr(err.message, "longer") == NULL);
    free(token);
}

static void unknown_mode_byte_and_trailing_bytes_are_refused(void)
{
    uint8_t blob[512];
    size_t n = decode(gcm_vector, blob, sizeof blob);
    blob[n - 1] = 0x02;
    char *token = encode(blob, n);
    zego_error err;
    CHECK_INT(verify_at(token, &err), ZEGO_ERR_AUTHENTICATION_FAILED);
    CHECK_CONTAINS(err.message, "unknown encryption mode byte 0x02");
    free(token);
    blob[n - 1] = 0x01;
    blob[n] = 0x01;
    token = encode(blob, n + 1);
    CHECK_INT(verify_at(token, &err), ZEGO_ERR_AUTHENTICATION_FAILED);
    CHECK_CONTAINS(err.message, "trailing garbage");
    free(token);
}

static void wrong_secret_does_not_decrypt_in_either_mode(void)
{
    zego_error err;
    CHECK_INT(zego_token04_verify(gcm_vector, 1, OTHER_SECRET, "demo", AT, NULL, &err),
              ZEGO_ERR_AUTHENTICATION_FAILED);
    CHECK_CONTAINS(err.message, "does not decrypt with this app's secret");
    CHECK_INT(zego_token04_verify(cbc_vector, 1, OTHER_SECRET, "demo", AT, NULL, &err),
              ZEGO_ERR_AUTHENTICATION_FAILED);
    CHECK_CONTAINS(err.message, "does not decrypt with this app's secret");
}

static void secret_of_the_wrong_length_is_an_invalid_argument(void)
{
    const char *bad[] = {NULL, "", "fa94dd0f974cf2e293728a526b02827",
                         "fa94dd0f974cf2e293728a526b0282711"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        zego_error err;
        CHECK_INT(zego_token04_verify(gcm_vector, 1, bad[i], "demo", AT, NULL, &err),
                  ZEGO_ERR_INVALID_ARGUMENT);
        zego_token04_params p = vector_params(ZEGO_TOKEN04_GCM);
        p.secret = bad[i];
        char *token = (char *)"untouched";
        CHECK_INT(zego_token04_create(&p, &token, &err), ZEGO_ERR_INVALID_ARGUMENT);
        CHECK(token == NULL);
        if (bad[i])
            CHECK_CONTAINS(err.message, "exactly 32 characters");
    }
}

/* ---- refusals: the encrypted content ---- */

static void content_that_is_not_json_is_refused(void)
{
    char *token = seal(ZEGO_TOKEN04_GCM, EXPIRE, "hello");
    zego_error err;
    CHECK_INT(verify_at(token, &err), ZEGO_ERR_AUTHENTICATION_FAILED);
    CHECK_CONTAINS(err.message, "not a JSON object");
    free(token);
    token = seal(ZEGO_TOKEN04_GCM, EXPIRE, "[1,2]");
    CHECK_INT(verify_at(token, &err), ZEGO_ERR_AUTHENTICATION_FAILED);
    CHECK_CONTAINS(err.message, "not a JSON object");
    free(token);
    /* In CBC mode it reads exactly like a wrong secret: no padding oracle. */
    token = seal(ZEGO_TOKEN04_CBC, EXPIRE, "hello");
    CHECK_INT(verify_at(token, &err), ZEGO_ERR_AUTHENTICATION_FAILED);
    CHECK_CONTAINS(err.message, "does not decrypt with this app's secret");
    free(token);
}

static void content_with_trailing_garbage_is_refused(void)
{
    char *token = seal(ZEGO_TOKEN04_GCM, EXPIRE,
                       "{\"app_id\":1,\"user_id\":\"demo\",\"nonce\":1,\"ctime\":1700000000,"
                       "\"expire\":1700003600,\"payload\":\"\"}x");
    zego_error err;
    CHECK_INT(verify_at(token, &err), ZEGO_ERR_AUTHENTICATION_FAILED);
    CHECK_CONTAINS(err.message, "not a JSON object");
    free(token);
}

static void content_fields_of_the_wrong_type_are_refused(void)
{
    static const struct {
        const char *plaintext, *message;
    } cases[] = {
        {"{\"app_id\":\"1\",\"user_id\":\"demo\",\"nonce\":1,\"ctime\":1,\"expire\":1700003600}",
         "\"app_id\" is not an integer"},
        {"{\"app_id\":1,\"user_id\":7,\"nonce\":1,\"ctime\":1,\"expire\":1700003600}",
         "\"user_id\" is not a non-empty string"},
        {"{\"app_id\":1,\"nonce\":1,\"ctime\":1,\"expire\":1700003600}", "\"user_id\" is missing"},
        {"{\"app_id\":1,\"user_id\":\"demo\",\"ctime\":1,\"expire\":1700003600}",
         "has no \"nonce\""},
        {"{\"app_id\":1,\"user_id\":\"demo\",\"nonce\":1.5,\"ctime\":1,\"expire\":1700003600}",
         "\"nonce\" is not an integer"},
        {"{\"app_id\":1,\"user_id\":\"demo\",\"nonce\":1,\"ctime\":1,\"expire\":1700003600,"
         "\"payload\":{}}",
         "\"payload\" is not a string"},
        {"{\"app_id\":-1,\"user_id\":\"demo\",\"nonce\":1,\"ctime\":1,\"expire\":1700003600}",
         "out of range"},
        {"{\"app_id\":1,\"app_id\":1,\"user_id\":\"demo\",\"nonce\":1,\"ctime\":1,"
         "\"expire\":1700003600}",
         "duplicate object key"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *token = seal(ZEGO_TOKEN04_GCM, EXPIRE, cases[i].plaintext);
        zego_error err;
        CHECK_INT(verify_at(token, &err), ZEGO_ERR_AUTHENTICATION_FAILED);
        CHECK_CONTAINS(err.message, cases[i].message);
        free(token);
    }
}

static void content_without_a_payload_field_reads_as_no_payload(void)
{
    char *token = seal(ZEGO_TOKEN04_CBC, EXPIRE,
                       "{\"app_id\":1,\"user_id\":\"demo\",\"nonce\":1,\"ctime\":1700000000,"
                       "\"expire\":1700003600}");
    zego_token04_info info = {0};
    zego_error err;
    CHECK_INT(zego_token04_verify(token, 1, SECRET, "demo", AT, &info, &err), ZEGO_ERR_OK);
    CHECK_STR(info.payload, "");
    CHECK(!info.has_payload);
    zego_token04_info_clear(&info);
    free(token);
}

static void payload_that_is_not_json_fails_verification(void)
{
    char *token = seal_payload("\"{room_id\"");
    zego_error err;
    CHECK_INT(verify_at(token, &err), ZEGO_ERR_AUTHENTICATION_FAILED);
    CHECK_CONTAINS(err.message, "payload is not valid JSON");
    free(token);
    token = seal_payload("\"[]\"");
    CHECK_INT(verify_at(token, &err), ZEGO_ERR_AUTHENTICATION_FAILED);
    CHECK_CONTAINS(err.message, "payload is not a JSON object");
    free(token);
}

static void payload_fields_of_the_wrong_type_fail_verification(void)
{
    static const struct {
        const char *payload, *message;
    } cases[] = {
        {"\"{\\\"room_id\\\":5}\"", "\"room_id\" is not a string"},
        {"\"{\\\"privilege\\\":[1,1]}\"", "\"privilege\" is not an object"},
        {"\"{\\\"privilege\\\":{\\\"1\\\":2}}\"", "privilege \"1\" must be 0 or 1"},
        {"\"{\\\"privilege\\\":{\\\"1\\\":1,\\\"2\\\":true}}\"", "privilege \"2\" must be 0 or 1"},
        {"\"{\\\"stream_id_list\\\":\\\"s1\\\"}\"", "\"stream_id_list\" is not a list"},
        {"\"{\\\"stream_id_list\\\":[\\\"s1\\\",2]}\"", "entry 1 of \"stream_id_list\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *token = seal_payload(cases[i].payload);
        zego_error err;
        CHECK_INT(verify_at(token, &err), ZEGO_ERR_AUTHENTICATION_FAILED);
        CHECK_CONTAINS(err.message, cases[i].message);
        free(token);
    }
}

static void create_refuses_a_payload_no_verifier_would_accept(void)
{
    zego_token04_params p = vector_params(ZEGO_TOKEN04_GCM);
    p.payload = "{\"privilege\":{\"1\":\"yes\"}}";
    char *token = NULL;
    zego_error err;
    CHECK_INT(zego_token04_create(&p, &token, &err), ZEGO_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(err.message, "invalid payload: token payload: privilege \"1\"");
    CHECK(token == NULL);
    p.payload = "not json";
    CHECK_INT(zego_token04_create(&p, &token, &err), ZEGO_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(err.message, "not valid JSON");
}

static void stream_list_longer_than_1000_is_refused(void)
{
    size_t cap = 16 + 1001 * 8;
    char *payload = malloc(cap);
    size_t o = (size_t)snprintf(payload, cap, "{\"stream_id_list\":[");
    for (int i = 0; i < 1001; i++)
        o += (size_t)snprintf(payload + o, cap - o, "%s\"%d\"", i ? "," : "", i % 10);
    snprintf(payload + o, cap - o, "]}");
    zego_token04_params p = vector_params(ZEGO_TOKEN04_GCM);
    p.payload = payload;
    char *token = NULL;
    zego_error err;
    CHECK_INT(zego_token04_create(&p, &token, &err), ZEGO_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(err.message, "1001 entries; the limit is 1000");
    free(payload);

    const char *many[1001];
    for (int i = 0; i < 1001; i++)
        many[i] = "s";
    char *built = NULL;
    CHECK_INT(zego_token04_payload_build(NULL, 1, 1, many, 1001, &built, &err),
              ZEGO_ERR_INVALID_ARGUMENT);
    CHECK(built == NULL);
}

/* ---- create's own arguments ---- */

static void create_refuses_bad_parameters(void)
{
    char *token = NULL;
    zego_error err;
    zego_token04_params p = vector_params(ZEGO_TOKEN04_GCM);
    CHECK_INT(zego_token04_create(NULL, &token, &err), ZEGO_ERR_INVALID_ARGUMENT);
    CHECK_INT(zego_token04_create(&p, NULL, &err), ZEGO_ERR_INVALID_ARGUMENT);
    p.user_id = "";
    CHECK_INT(zego_token04_create(&p, &token, &err), ZEGO_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(err.message, "user id is empty");
    p = vector_params(ZEGO_TOKEN04_GCM);
    p.ttl = 0;
    CHECK_INT(zego_token04_create(&p, &token, &err), ZEGO_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(err.message, "time to live");
    p = vector_params(ZEGO_TOKEN04_GCM);
    p.ttl = INT64_MAX;
    CHECK_INT(zego_token04_create(&p, &token, &err), ZEGO_ERR_INVALID_ARGUMENT);
    p = vector_params(ZEGO_TOKEN04_GCM);
    p.iv_len = 16;
    CHECK_INT(zego_token04_create(&p, &token, &err), ZEGO_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(err.message, "IV must be 12 bytes in GCM mode");
    p = vector_params(ZEGO_TOKEN04_GCM);
    p.mode = (zego_token04_mode)7;
    CHECK_INT(zego_token04_create(&p, &token, &err), ZEGO_ERR_INVALID_ARGUMENT);
    p = vector_params(ZEGO_TOKEN04_GCM);
    p.user_id = "\xff\xfe";
    CHECK_INT(zego_token04_create(&p, &token, &err), ZEGO_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(err.message, "not valid UTF-8");
    CHECK(token == NULL);
}

static void token_longer_than_the_limit_is_not_created(void)
{
    char user[3001];
    memset(user, 'u', sizeof user - 1);
    user[sizeof user - 1] = '\0';
    zego_token04_params p = vector_params(ZEGO_TOKEN04_CBC);
    p.user_id = user;
    char *token = NULL;
    zego_error err;
    CHECK_INT(zego_token04_create(&p, &token, &err), ZEGO_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(err.message, "more than the 4096 accepted");
    CHECK(token == NULL);
    /* The longest that fits is made and verifies. */
    user[2700] = '\0';
    p.iv = NULL;
    int rc = zego_token04_create(&p, &token, &err);
    CHECK_INT(rc, ZEGO_ERR_OK);
    CHECK(token && strlen(token) <= ZEGO_TOKEN04_MAX_LEN);
    CHECK_INT(zego_token04_verify(token, 1, SECRET, user, AT, NULL, &err), ZEGO_ERR_OK);
    free(token);
}

/* ---- privileges ---- */

static void token_without_payload_allows_everything(void)
{
    zego_token04_info info = {0};
    zego_error err;
    CHECK_INT(verify_payload(NULL, &info), ZEGO_ERR_OK);
    CHECK_INT(zego_token04_check_login(&info, "any", &err), ZEGO_ERR_OK);
    CHECK_INT(zego_token04_check_publish(&info, "any", "s", &err), ZEGO_ERR_OK);
    zego_token04_info_clear(&info);
}

static void login_is_allowed_by_a_payload_granting_it(void)
{
    zego_token04_info info = {0};
    zego_error err;
    CHECK_INT(verify_payload("{\"room_id\":\"r\",\"privilege\":{\"1\":1,\"2\":0}}", &info),
              ZEGO_ERR_OK);
    CHECK(info.has_payload);
    CHECK_STR(info.room_id, "r");
    CHECK_INT(info.privilege_login, ZEGO_TOKEN04_PRIVILEGE_ALLOWED);
    CHECK_INT(info.privilege_publish, ZEGO_TOKEN04_PRIVILEGE_DENIED);
    CHECK_INT(zego_token04_check_login(&info, "r", &err), ZEGO_ERR_OK);
    zego_token04_info_clear(&info);
}

static void login_is_denied_when_privilege_1_is_0_or_missing(void)
{
    const char *payloads[] = {"{\"privilege\":{\"1\":0,\"2\":1}}", "{\"privilege\":{\"2\":1}}"};
    for (size_t i = 0; i < 2; i++) {
        zego_token04_info info = {0};
        zego_error err;
        CHECK_INT(verify_payload(payloads[i], &info), ZEGO_ERR_OK);
        CHECK_INT(info.privilege_login, ZEGO_TOKEN04_PRIVILEGE_DENIED);
        CHECK_INT(zego_token04_check_login(&info, "r", &err), ZEGO_ERR_AUTHENTICATION_FAILED);
        CHECK_CONTAINS(err.message, "does not grant login");
        zego_token04_info_clear(&info);
    }
}

static void login_to_another_room_is_refused_naming_both_rooms(void)
{
    zego_token04_info info = {0};
    zego_error err;
    CHECK_INT(verify_payload("{\"room_id\":\"x\",\"privilege\":{\"1\":1,\"2\":1}}", &info),
              ZEGO_ERR_OK);
    CHECK_INT(zego_token04_check_login(&info, "y", &err), ZEGO_ERR_AUTHENTICATION_FAILED);
    CHECK_CONTAINS(err.message, "token is for room 'x', not 'y'");
    CHECK_INT(zego_token04_check_publish(&info, "y", "s", &err), ZEGO_ERR_PUBLISH_NOT_AUTHORIZED);
    CHECK_CONTAINS(err.message, "token is for room 'x', not 'y'");
    zego_token04_info_clear(&info);
}

static void empty_room_id_allows_any_room(void)
{
    zego_token04_info info = {0};
    zego_error err;
    CHECK_INT(verify_payload("{\"room_id\":\"\",\"privilege\":{\"1\":1,\"2\":1}}", &info),
              ZEGO_ERR_OK);
    CHECK_INT(zego_token04_check_login(&info, "anywhere", &err), ZEGO_ERR_OK);
    zego_token04_info_clear(&info);
}

static void publish_is_allowed_by_privilege_2(void)
{
    zego_token04_info info = {0};
    zego_error err;
    CHECK_INT(verify_payload("{\"room_id\":\"r\",\"privilege\":{\"1\":1,\"2\":1}}", &info),
              ZEGO_ERR_OK);
    CHECK_INT(zego_token04_check_publish(&info, "r", "any-stream", &err), ZEGO_ERR_OK);
    CHECK_INT(err.code, ZEGO_ERR_OK);
    zego_token04_info_clear(&info);
}

static void publish_is_denied_when_privilege_2_is_0(void)
{
    zego_token04_info info = {0};
    zego_error err;
    CHECK_INT(verify_payload("{\"room_id\":\"r\",\"privilege\":{\"1\":1,\"2\":0}}", &info),
              ZEGO_ERR_OK);
    CHECK_INT(zego_token04_check_publish(&info, "r", "s1", &err), ZEGO_ERR_PUBLISH_NOT_AUTHORIZED);
    CHECK_CONTAINS(err.message, "does not grant publishing");
    zego_token04_info_clear(&info);
}

static void only_listed_streams_may_be_published(void)
{
    zego_token04_info info = {0};
    zego_error err;
    CHECK_INT(verify_payload("{\"room_id\":\"r\",\"privilege\":{\"1\":1,\"2\":1},"
                             "\"stream_id_list\":[\"s1\",\"s2\"]}",
                             &info),
              ZEGO_ERR_OK);
    CHECK_INT(info.n_stream_ids, 2);
    CHECK_STR(info.stream_ids[1], "s2");
    CHECK_INT(zego_token04_check_publish(&info, "r", "s2", &err), ZEGO_ERR_OK);
    CHECK_INT(zego_token04_check_publish(&info, "r", "s3", &err), ZEGO_ERR_PUBLISH_NOT_AUTHORIZED);
    CHECK_CONTAINS(err.message, "stream 's3' is not in the token's stream_id_list");
    zego_token04_info_clear(&info);
}

static void null_or_empty_stream_list_allows_any_stream(void)
{
    const char *payloads[] = {"{\"privilege\":{\"1\":1,\"2\":1},\"stream_id_list\":null}",
                              "{\"privilege\":{\"1\":1,\"2\":1},\"stream_id_list\":[]}"};
    for (size_t i = 0; i < 2; i++) {
        zego_token04_info info = {0};
        zego_error err;
        CHECK_INT(verify_payload(payloads[i], &info), ZEGO_ERR_OK);
        CHECK(info.stream_ids == NULL);
        CHECK_INT(zego_token04_check_publish(&info, "r", "whatever", &err), ZEGO_ERR_OK);
        zego_token04_info_clear(&info);
    }
}

static void payload_without_privilege_object_leaves_privileges_unchecked(void)
{
    zego_token04_info info = {0};
    zego_error err;
    CHECK_INT(verify_payload("{\"room_id\":\"r\"}", &info), ZEGO_ERR_OK);
    CHECK(info.has_payload);
    CHECK_INT(info.privilege_login, ZEGO_TOKEN04_PRIVILEGE_UNSET);
    CHECK_INT(info.privilege_publish, ZEGO_TOKEN04_PRIVILEGE_UNSET);
    CHECK_INT(zego_token04_check_login(&info, "r", &err), ZEGO_ERR_OK);
    CHECK_INT(zego_token04_check_publish(&info, "r", "s", &err), ZEGO_ERR_OK);
    CHECK_INT(zego_token04_check_login(&info, "other", &err), ZEGO_ERR_AUTHENTICATION_FAILED);
    zego_token04_info_clear(&info);
}

static void checks_refuse_null_arguments(void)
{
    zego_token04_info info = {0};
    zego_error err;
    CHECK_INT(zego_token04_check_login(NULL, "r", &err), ZEGO_ERR_INVALID_ARGUMENT);
    CHECK_INT(zego_token04_check_login(&info, NULL, &err), ZEGO_ERR_INVALID_ARGUMENT);
    CHECK_INT(zego_token04_check_publish(&info, "r", NULL, &err), ZEGO_ERR_INVALID_ARGUMENT);
}

static void payload_build_output_parses_back(void)
{
    const char *streams[] = {"s1", "s2"};
    char *payload = NULL;
    zego_error err;
    CHECK_INT(zego_token04_payload_build("r", ZEGO_TOKEN04_PRIVILEGE_ALLOWED,
                                         ZEGO_TOKEN04_PRIVILEGE_DENIED, streams, 2, &payload, &err),
              ZEGO_ERR_OK);
    CHECK_STR(
        payload,
        "{\"room_id\":\"r\",\"privilege\":{\"1\":1,\"2\":0},\"stream_id_list\":[\"s1\",\"s2\"]}");
    zego_token04_info info = {0};
    CHECK_INT(verify_payload(payload, &info), ZEGO_ERR_OK);
    CHECK_STR(info.payload, payload);
    CHECK_STR(info.room_id, "r");
    CHECK_INT(info.privilege_login, ZEGO_TOKEN04_PRIVILEGE_ALLOWED);
    CHECK_INT(info.privilege_publish, ZEGO_TOKEN04_PRIVILEGE_DENIED);
    CHECK_INT(info.n_stream_ids, 2);
    CHECK_STR(info.stream_ids[0], "s1");
    zego_token04_info_clear(&info);
    free(payload);

    CHECK_INT(zego_token04_payload_build(NULL, 1, 1, NULL, 0, &payload, &err), ZEGO_ERR_OK);
    CHECK_STR(payload,
              "{\"room_id\":\"\",\"privilege\":{\"1\":1,\"2\":1},\"stream_id_list\":null}");
    free(payload);
}

static void payload_build_refuses_bad_arguments(void)
{
    char *payload = NULL;
    zego_error err;
    CHECK_INT(
        zego_token04_payload_build("r", ZEGO_TOKEN04_PRIVILEGE_UNSET, 1, NULL, 0, &payload, &err),
        ZEGO_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(err.message, "login privilege");
    CHECK_INT(zego_token04_payload_build("r", 1, 1, NULL, 3, &payload, &err),
              ZEGO_ERR_INVALID_ARGUMENT);
    const char *streams[] = {"ok", NULL};
    CHECK_INT(zego_token04_payload_build("r", 1, 1, streams, 2, &payload, &err),
              ZEGO_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(err.message, "stream id 1");
    CHECK_INT(zego_token04_payload_build("\xc0", 1, 1, NULL, 0, &payload, &err),
              ZEGO_ERR_INVALID_ARGUMENT);
    CHECK(payload == NULL);
    CHECK_INT(zego_token04_payload_build("r", 1, 1, NULL, 0, NULL, &err),
              ZEGO_ERR_INVALID_ARGUMENT);
}

static void info_clear_is_safe_on_a_zeroed_struct_and_twice(void)
{
    zego_token04_info info = {0};
    zego_token04_info_clear(&info);
    zego_token04_info_clear(NULL);
    CHECK_INT(verify_payload("{\"room_id\":\"r\",\"stream_id_list\":[\"a\"]}", &info), ZEGO_ERR_OK);
    zego_token04_info_clear(&info);
    CHECK(info.user_id == NULL && info.room_id == NULL && info.stream_ids == NULL);
    CHECK_INT(info.n_stream_ids, 0);
    zego_token04_info_clear(&info);
}

static void verify_accepts_a_null_error_pointer(void)
{
    CHECK_INT(zego_token04_verify("03", 1, SECRET, NULL, AT, NULL, NULL), ZEGO_ERR_TOKEN_VERSION);
    CHECK_INT(zego_token04_verify(gcm_vector, 1, SECRET, NULL, AT, NULL, NULL), ZEGO_ERR_OK);
}

int main(void)
{
    RUN(gcm_vector_verifies_with_the_documented_fields);
    RUN(cbc_vector_verifies_with_the_documented_fields);
    RUN(gcm_vector_is_reproduced_byte_for_byte);
    RUN(cbc_vector_is_reproduced_byte_for_byte);
    RUN(vectors_compiled_in_match_the_vector_file);
    RUN(gcm_token_round_trips_with_random_iv_and_nonce);
    RUN(cbc_token_round_trips_with_random_iv_and_nonce);
    RUN(two_tokens_made_alike_differ_in_iv_and_nonce);
    RUN(random_nonces_are_non_negative_int32);
    RUN(user_ids_with_punctuation_and_utf8_round_trip);
    RUN(token_is_expired_at_its_expiry_second);
    RUN(expired_token_names_its_expiry_in_utc);
    RUN(now_zero_means_the_current_time);
    RUN(wrong_app_id_is_reported_with_both_ids);
    RUN(wrong_user_id_is_reported_with_both_ids);
    RUN(null_user_id_skips_the_user_check);
    RUN(failed_verify_leaves_info_zeroed);
    RUN(tampered_gcm_ciphertext_does_not_decrypt);
    RUN(tampered_cbc_ciphertext_does_not_decrypt);
    RUN(tampered_clear_text_expiry_is_detected);
    RUN(truncated_tokens_are_refused_at_every_length);
    RUN(token_cut_inside_its_base64_reports_the_length);
    RUN(bad_base64_character_names_its_offset);
    RUN(wrong_version_prefix_is_refused);
    RUN(empty_and_null_tokens_are_missing);
    RUN(oversized_token_is_refused_before_decoding);
    RUN(unknown_mode_byte_and_trailing_bytes_are_refused);
    RUN(wrong_secret_does_not_decrypt_in_either_mode);
    RUN(secret_of_the_wrong_length_is_an_invalid_argument);
    RUN(content_that_is_not_json_is_refused);
    RUN(content_with_trailing_garbage_is_refused);
    RUN(content_fields_of_the_wrong_type_are_refused);
    RUN(content_without_a_payload_field_reads_as_no_payload);
    RUN(payload_that_is_not_json_fails_verification);
    RUN(payload_fields_of_the_wrong_type_fail_verification);
    RUN(create_refuses_a_payload_no_verifier_would_accept);
    RUN(stream_list_longer_than_1000_is_refused);
    RUN(create_refuses_bad_parameters);
    RUN(token_longer_than_the_limit_is_not_created);
    RUN(token_without_payload_allows_everything);
    RUN(login_is_allowed_by_a_payload_granting_it);
    RUN(login_is_denied_when_privilege_1_is_0_or_missing);
    RUN(login_to_another_room_is_refused_naming_both_rooms);
    RUN(empty_room_id_allows_any_room);
    RUN(publish_is_allowed_by_privilege_2);
    RUN(publish_is_denied_when_privilege_2_is_0);
    RUN(only_listed_streams_may_be_published);
    RUN(null_or_empty_stream_list_allows_any_stream);
    RUN(payload_without_privilege_object_leaves_privileges_unchecked);
    RUN(checks_refuse_null_arguments);
    RUN(payload_build_output_parses_back);
    RUN(payload_build_refuses_bad_arguments);
    RUN(info_clear_is_safe_on_a_zeroed_struct_and_twice);
    RUN(verify_accepts_a_null_error_pointer);
    return harness_finish();
}
