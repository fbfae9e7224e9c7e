/* Base64 encoding and strict decoding; see base64.h. */
#include "base64.h"

static const char std_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t zego_base64_encoded_len(size_t n, zego_base64_alphabet alphabet)
{
    if (alphabet == ZEGO_BASE64_STD)
        return (n + 2) / 3 * 4;
    return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

size_t zego_base64_encode(const uint8_t *in, size_t n, char *out, zego_base64_alphabet alphabet)
{
    const char *chars = alphabet == ZEGO_BASE64_STD ? std_chars : url_chars;
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = chars[v >> 18];
        out[o++] = chars[(v >> 12) & 63];
        out[o++] = chars[(v >> 6) & 63];
        out[o++] = chars[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        out[o++] = chars[v >> 18];
        out[o++] = chars[(v >> 12) & 63];
        if (i + 1 < n)
            out[o++] = chars[(v >> 6) & 63];
        else if (alphabet == ZEGO_BASE64_STD)
            out[o++] = '=';
        if (alphabet == ZEGO_BASE64_STD)
            out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

static int sextet(char c, zego_base64_alphabet alphabet)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (alphabet == ZEGO_BASE64_STD)
        return c == '+' ? 62 : c == '/' ? 63 : -1;
    return c == '-' ? 62 : c == '_' ? 63 : -1;
}

bool zego_base64_decode(const char *in, size_t len, uint8_t *out, size_t out_cap, size_t *out_len,
                        size_t *bad_offset, zego_base64_alphabet alphabet)
{
    size_t data_len = len;
    if (alphabet == ZEGO_BASE64_STD) {
        if (len % 4 != 0) {
            *bad_offset = len;
            return false;
        }
        /* At most two '=' and only at the very end. */
        while (data_len > 0 && len - data_len < 2 && in[data_len - 1] == '=')
            data_len--;
    } else if (len % 4 == 1) {
        *bad_offset = len;
        return false;
    }

    size_t need = data_len / 4 * 3 + (data_len % 4 ? data_len % 4 - 1 : 0);
    if (need > out_cap) {
        *bad_offset = len;
        return false;
    }

    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < data_len; i++) {
        int v = sextet(in[i], alphabet);
        if (v < 0) {
            *bad_offset = i;
            return false;
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* Leftover bits must be zero, or two encodings would decode the same. */
    if (acc != 0) {
        *bad_offset = data_len - 1;
        return false;
    }
    *out_len = o;
    return true;
}
