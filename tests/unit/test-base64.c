/* Base64: RFC 4648 test vectors in both alphabets, and strict rejection of
 * everything that is not a canonical encoding. */
#include <stdint.h>
#include <stdlib.h>

#include "base64.h"
#include "harness.h"

static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
static const char *const std_enc[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                      "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
static const char *const url_enc[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};

static void rfc4648_vectors_encode_in_both_alphabets(void)
{
    for (size_t i = 0; i < 7; i++) {
        char out[16];
        size_t n = strlen(plain[i]);
        zego_base64_encode((const uint8_t *)plain[i], n, out, ZEGO_BASE64_STD);
        CHECK_STR(out, std_enc[i]);
        CHECK_INT(zego_base64_encoded_len(n, ZEGO_BASE64_STD), strlen(std_enc[i]));
        zego_base64_encode((const uint8_t *)plain[i], n, out, ZEGO_BASE64_URL);
        CHECK_STR(out, url_enc[i]);
        CHECK_INT(zego_base64_encoded_len(n, ZEGO_BASE64_URL), strlen(url_enc[i]));
    }
}

static void rfc4648_vectors_decode_in_both_alphabets(void)
{
    for (size_t i = 0; i < 7; i++) {
        uint8_t out[16];
        size_t len = 99, bad = 99;
        CHECK(zego_base64_decode(std_enc[i], strlen(std_enc[i]), out, sizeof out, &len, &bad,
                                 ZEGO_BASE64_STD));
        CHECK_INT(len, strlen(plain[i]));
        CHECK(memcmp(out, plain[i], len) == 0);
        CHECK(zego_base64_decode(url_enc[i], strlen(url_enc[i]), out, sizeof out, &len, &bad,
                                 ZEGO_BASE64_URL));
        CHECK_INT(len, strlen(plain[i]));
        CHECK(memcmp(out, plain[i], len) == 0);
    }
}

static void every_byte_value_round_trips(void)
{
    uint8_t in[256], out[256];
    char text[400];
    for (int i = 0; i < 256; i++)
        in[i] = (uint8_t)i;
    for (int a = 0; a < 2; a++) {
        zego_base64_alphabet alpha = a ? ZEGO_BASE64_URL : ZEGO_BASE64_STD;
        size_t n = zego_base64_encode(in, sizeof in, text, alpha), len, bad;
        CHECK(zego_base64_decode(text, n, out, sizeof out, &len, &bad, alpha));
        CHECK_INT(len, 256);
        CHECK(memcmp(in, out, 256) == 0);
    }
}

static void a_character_outside_the_alphabet_is_reported_at_its_offset(void)
{
    uint8_t out[16];
    size_t len, bad = 0;
    CHECK(!zego_base64_decode("Zm9*", 4, out, sizeof out, &len, &bad, ZEGO_BASE64_STD));
    CHECK_INT(bad, 3);
    CHECK(!zego_base64_decode("Zm-v", 4, out, sizeof out, &len, &bad, ZEGO_BASE64_STD));
    CHECK_INT(bad, 2);
    CHECK(!zego_base64_decode("Zm+v", 4, out, sizeof out, &len, &bad, ZEGO_BASE64_URL));
    CHECK_INT(bad, 2);
}

static void bad_length_padding_and_nonzero_trailing_bits_are_refused(void)
{
    uint8_t out[16];
    size_t len, bad;
    CHECK(!zego_base64_decode("Zm9", 3, out, sizeof out, &len, &bad, ZEGO_BASE64_STD));
    CHECK(!zego_base64_decode("Z===", 4, out, sizeof out, &len, &bad, ZEGO_BASE64_STD));
    CHECK(!zego_base64_decode("Zg=a", 4, out, sizeof out, &len, &bad, ZEGO_BASE64_STD));
    CHECK(!zego_base64_decode("Zh==", 4, out, sizeof out, &len, &bad, ZEGO_BASE64_STD));
    CHECK(!zego_base64_decode("Zm9vY", 5, out, sizeof out, &len, &bad, ZEGO_BASE64_URL));
}

static void output_that_would_not_fit_is_refused(void)
{
    uint8_t out[2];
    size_t len, bad;
    CHECK(!zego_base64_decode("Zm9v", 4, out, sizeof out, &len, &bad, ZEGO_BASE64_STD));
    CHECK(zego_base64_decode("Zm8=", 4, out, sizeof out, &len, &bad, ZEGO_BASE64_STD));
}

int main(void)
{
    RUN(rfc4648_vectors_encode_in_both_alphabets);
    RUN(rfc4648_vectors_decode_in_both_alphabets);
    RUN(every_byte_value_round_trips);
    RUN(a_character_outside_the_alphabet_is_reported_at_its_offset);
    RUN(bad_length_padding_and_nonzero_trailing_bits_are_refused);
    RUN(output_that_would_not_fit_is_refused);
    return harness_finish();
}
