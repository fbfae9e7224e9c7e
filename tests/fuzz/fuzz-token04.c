/* libFuzzer target for Token04 verification.  Each input is tried three
 * ways: as a token string, as the payload of a freshly made token, and as the
 * decrypted content of a token sealed here, so that the layout parser, the
 * payload parser and the content checks behind the AES-GCM tag all see
 * arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <zego/ids.h>
#include <zego/token04.h>

#include "base64.h"

#define SECRET "fa94dd0f974cf2e293728a526b028271"
#define AT     1700000100
#define EXPIRE 1700003600

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run_checks(const zego_token04_info *info)
{
    zego_error err;
    zego_token04_check_login(info, "r", &err);
    zego_token04_check_login(info, "", &err);
    zego_token04_check_publish(info, "r", "s1", &err);
    zego_token04_check_publish(info, "other", "", &err);
}

static void verify_and_check(const char *token, int64_t now)
{
    zego_token04_info info = {0};
    zego_error err;
    if (zego_token04_verify(token, 1, SECRET, "demo", now, &info, &err) == ZEGO_ERR_OK)
        run_checks(&info);
    zego_token04_info_clear(&info);
    /* A second call with other arguments must not depend on the first. */
    zego_token04_verify(token, 2, SECRET, NULL, 0, NULL, &err);
}

static void as_payload(const char *text, size_t size)
{
    size_t bad = 0;
    if (size > 1024 || strlen(text) != size || !zego_utf8_valid(text, size, &bad))
        return;
    zego_token04_params p = {
        .app_id = 1,
        .secret = SECRET,
        .user_id = "demo",
        .ttl = 3600,
        .payload = text,
        .mode = size % 2 ? ZEGO_TOKEN04_CBC : ZEGO_TOKEN04_GCM,
    };
    char *token = NULL;
    zego_error err;
    if (zego_token04_create(&p, &token, &err) == ZEGO_ERR_OK) {
        zego_token04_info info = {0};
        if (zego_token04_verify(token, 1, SECRET, "demo", 0, &info, &err) == ZEGO_ERR_OK)
            run_checks(&info);
        else
            abort(); /* a token we made must verify */
        zego_token04_info_clear(&info);
    }
    free(token);
}

/* Encrypts data as the content of a GCM token, as only the secret's holder
 * could, to reach the checks that follow decryption. */
static void as_content(const uint8_t *data, size_t size)
{
    static const uint8_t iv[12] = "0123456789a";
    if (size > 2048)
        return;
    uint8_t blob[8 + 2 + 12 + 2 + 2048 + 16 + 1];
    size_t o = 0;
    for (int i = 7; i >= 0; i--)
        blob[o++] = (uint8_t)((uint64_t)EXPIRE >> (i * 8));
    blob[o++] = 0;
    blob[o++] = sizeof iv;
    memcpy(blob + o, iv, sizeof iv);
    o += sizeof iv;
    size_t ct_len = size + 16;
    blob[o++] = (uint8_t)(ct_len >> 8);
    blob[o++] = (uint8_t)ct_len;

    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, fin = 0;
    int ok = ctx && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, (const unsigned char *)SECRET,
                                       iv) == 1;
    ok = ok && EVP_EncryptUpdate(ctx, blob + o, &n, data, (int)size) == 1;
    ok = ok && EVP_EncryptFinal_ex(ctx, blob + o + n, &fin) == 1;
    ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, blob + o + size) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok)
        return;
    o += ct_len;
    blob[o++] = 0x01;

    char *token = malloc(2 + zego_base64_encoded_len(o, ZEGO_BASE64_STD) + 1);
    if (token == NULL)
        return;
    memcpy(token, "04", 2);
    zego_base64_encode(blob, o, token + 2, ZEGO_BASE64_STD);
    verify_and_check(token, AT);
    free(token);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    verify_and_check(text, AT);
    as_payload(text, size);
    as_content(data, size);

    free(text);
    return 0;
}
