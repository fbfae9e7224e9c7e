/* Validation of IDs and free-text fields; see <zego/ids.h>. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <zego/ids.h>

struct id_kind {
    const char *what; /* "room id" */
    size_t size;      /* buffer size; the longest valid id is size - 1 */
    int32_t null_code, long_code, char_code;
};

static const struct id_kind room_id_kind = {"room id", ZEGO_ROOM_ID_SIZE, ZEGO_ERR_ROOM_ID_NULL,
                                            ZEGO_ERR_ROOM_ID_TOO_LONG,
                                            ZEGO_ERR_ROOM_ID_INVALID_CHARACTER};
static const struct id_kind user_id_kind = {"user id", ZEGO_USER_ID_SIZE, ZEGO_ERR_USER_ID_NULL,
                                            ZEGO_ERR_USER_ID_TOO_LONG,
                                            ZEGO_ERR_USER_ID_INVALID_CHARACTER};
static const struct id_kind stream_id_kind = {"stream id", ZEGO_STREAM_ID_SIZE,
                                              ZEGO_ERR_STREAM_ID_NULL, ZEGO_ERR_STREAM_ID_TOO_LONG,
                                              ZEGO_ERR_STREAM_ID_INVALID_CHARACTER};

static bool id_char_allowed(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != '\0' && strchr(ZEGO_ID_PUNCTUATION, c) != NULL;
}

/* A short printable rendering of a value for an error message: at most 40
 * bytes, anything unprintable as \xNN. */
static void quote_for_message(const char *s, char *out, size_t out_size)
{
    size_t o = 0;
    for (size_t i = 0; s[i] && o + 5 < out_size; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i == 40) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (c >= 0x20 && c < 0x7f)
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, out_size - o, "\\x%02x", c);
    }
    out[o] = '\0';
}

static void describe_byte(unsigned char c, char *out, size_t out_size)
{
    if (c >= 0x20 && c < 0x7f)
        snprintf(out, out_size, "'%c' (0x%02x)", c, c);
    else
        snprintf(out, out_size, "byte 0x%02x", c);
}

static int validate_id(const struct id_kind *kind, const char *id, zego_error *err)
{
    if (id == NULL || id[0] == '\0')
        return zego_error_set(err, kind->null_code, "%s is empty", kind->what);
    size_t len = strlen(id);
    if (len >= kind->size)
        return zego_error_set(err, kind->long_code, "%s is %zu bytes long; the limit is %zu",
                              kind->what, len, kind->size - 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)id[i];
        if (!id_char_allowed(c)) {
            char shown[64], bad[24];
            quote_for_message(id, shown, sizeof shown);
            describe_byte(c, bad, sizeof bad);
            return zego_error_set(err, kind->char_code,
                                  "%s '%s' has %s at byte %zu; allowed are digits, ASCII letters "
                                  "and %s",
                                  kind->what, shown, bad, i, ZEGO_ID_PUNCTUATION);
        }
    }
    zego_error_clear(err);
    return ZEGO_ERR_OK;
}

int zego_validate_room_id(const char *room_id, zego_error *err)
{
    return validate_id(&room_id_kind, room_id, err);
}

int zego_validate_user_id(const char *user_id, zego_error *err)
{
    return validate_id(&user_id_kind, user_id, err);
}

int zego_validate_stream_id(const char *stream_id, zego_error *err)
{
    return validate_id(&stream_id_kind, stream_id, err);
}

bool zego_utf8_valid(const char *s, size_t len, size_t *bad_offset)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            goto bad; /* continuation byte, C0/C1 overlong lead, or past U+10FFFF */
        }
        for (size_t k = 1; k <= n; k++) {
            if (i + k >= len || (p[i + k] & 0xc0) != 0x80)
                goto bad;
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            goto bad;
        i += n + 1;
    }
    return true;
bad:
    if (bad_offset)
        *bad_offset = i;
    return false;
}

static int validate_text(const char *what, const char *text, size_t max_len, bool may_be_empty,
                         int32_t long_code, int32_t utf8_code, zego_error *err)
{
    if (text == NULL || text[0] == '\0') {
        if (may_be_empty) {
            zego_error_clear(err);
            return ZEGO_ERR_OK;
        }
        return zego_error_set(err, ZEGO_ERR_TEXT_EMPTY, "%s is empty", what);
    }
    size_t len = strlen(text);
    if (len > max_len)
        return zego_error_set(err, long_code, "%s is %zu bytes long; the limit is %zu", what, len,
                              max_len);
    size_t bad;
    if (!zego_utf8_valid(text, len, &bad))
        return zego_error_set(err, utf8_code, "%s has an invalid UTF-8 byte 0x%02x at byte %zu",
                              what, (unsigned char)text[bad], bad);
    zego_error_clear(err);
    return ZEGO_ERR_OK;
}

int zego_validate_user_name(const char *user_name, zego_error *err)
{
    return validate_text("user name", user_name, ZEGO_USER_NAME_SIZE - 1, true,
                         ZEGO_ERR_USER_NAME_TOO_LONG, ZEGO_ERR_USER_NAME_INVALID, err);
}

int zego_validate_extra_info(const char *extra_info, zego_error *err)
{
    return validate_text("extra info", extra_info, ZEGO_EXTRA_INFO_SIZE - 1, true,
                         ZEGO_ERR_TEXT_TOO_LONG, ZEGO_ERR_TEXT_INVALID_UTF8, err);
}

int zego_validate_message(const char *message, zego_error *err)
{
    return validate_text("message", message, ZEGO_MESSAGE_SIZE - 1, false, ZEGO_ERR_TEXT_TOO_LONG,
                         ZEGO_ERR_TEXT_INVALID_UTF8, err);
}
