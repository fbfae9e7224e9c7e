/* IDs and free text: ZEGO's limits at every boundary, the allowed character
 * set, and error messages that name the offending byte and its offset. */
#include <stdlib.h>

#include <zego/ids.h>

#include "harness.h"

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

typedef int (*validator)(const char *, zego_error *);

static void check_length_boundary(validator v, size_t longest, int32_t too_long_code)
{
    zego_error err;
    char *ok = repeat('a', longest), *bad = repeat('a', longest + 1);
    CHECK_INT(v(ok, &err), ZEGO_ERR_OK);
    CHECK_INT(v(bad, &err), too_long_code);
    char limit[32];
    snprintf(limit, sizeof limit, "the limit is %zu", longest);
    CHECK_CONTAINS(err.message, limit);
    free(ok);
    free(bad);
}

static void user_id_of_63_bytes_is_accepted_and_64_refused(void)
{
    check_length_boundary(zego_validate_user_id, 63, ZEGO_ERR_USER_ID_TOO_LONG);
}

static void room_id_of_127_bytes_is_accepted_and_128_refused(void)
{
    check_length_boundary(zego_validate_room_id, 127, ZEGO_ERR_ROOM_ID_TOO_LONG);
}

static void stream_id_of_255_bytes_is_accepted_and_256_refused(void)
{
    check_length_boundary(zego_validate_stream_id, 255, ZEGO_ERR_STREAM_ID_TOO_LONG);
}

static void user_name_of_255_bytes_is_accepted_and_256_refused(void)
{
    check_length_boundary(zego_validate_user_name, 255, ZEGO_ERR_USER_NAME_TOO_LONG);
}

static void extra_info_of_1024_bytes_is_accepted_and_1025_refused(void)
{
    check_length_boundary(zego_validate_extra_info, 1024, ZEGO_ERR_TEXT_TOO_LONG);
}

static void message_of_1024_bytes_is_accepted_and_1025_refused(void)
{
    check_length_boundary(zego_validate_message, 1024, ZEGO_ERR_TEXT_TOO_LONG);
}

static void empty_or_null_ids_are_refused_with_their_own_codes(void)
{
    zego_error err;
    CHECK_INT(zego_validate_user_id("", &err), ZEGO_ERR_USER_ID_NULL);
    CHECK_INT(zego_validate_user_id(NULL, &err), ZEGO_ERR_USER_ID_NULL);
    CHECK_INT(zego_validate_room_id("", &err), ZEGO_ERR_ROOM_ID_NULL);
    CHECK_INT(zego_validate_stream_id(NULL, &err), ZEGO_ERR_STREAM_ID_NULL);
    CHECK_INT(zego_validate_message("", &err), ZEGO_ERR_TEXT_EMPTY);
    CHECK_INT(zego_validate_user_name("", &err), ZEGO_ERR_OK);
    CHECK_INT(zego_validate_extra_info(NULL, &err), ZEGO_ERR_OK);
}

static void every_allowed_special_character_is_accepted(void)
{
    const char *specials = ZEGO_ID_PUNCTUATION;
    zego_error err;
    for (size_t i = 0; specials[i]; i++) {
        char id[4] = {'a', specials[i], 'b', '\0'};
        if (zego_validate_stream_id(id, &err) != ZEGO_ERR_OK)
            printf("#   '%c' refused: %s\n", specials[i], err.message);
        CHECK_INT(zego_validate_stream_id(id, &err), ZEGO_ERR_OK);
        CHECK_INT(zego_validate_user_id(id, &err), ZEGO_ERR_OK);
        CHECK_INT(zego_validate_room_id(id, &err), ZEGO_ERR_OK);
    }
    CHECK_INT(zego_validate_stream_id("AZaz09~!@$%^&*()_+=-`;',.<>/\\", &err), ZEGO_ERR_OK);
}

static void disallowed_characters_are_refused_naming_byte_and_offset(void)
{
    zego_error err;
    CHECK_INT(zego_validate_stream_id("a b", &err), ZEGO_ERR_STREAM_ID_INVALID_CHARACTER);
    CHECK_CONTAINS(err.message, "stream id 'a b' has ' ' (0x20) at byte 1");
    CHECK_INT(zego_validate_user_id("user#1", &err), ZEGO_ERR_USER_ID_INVALID_CHARACTER);
    CHECK_CONTAINS(err.message, "'#' (0x23) at byte 4");
    CHECK_INT(zego_validate_room_id("room\n", &err), ZEGO_ERR_ROOM_ID_INVALID_CHARACTER);
    CHECK_CONTAINS(err.message, "byte 0x0a at byte 4");
    const char *others = "\"#:?[]{}|";
    for (size_t i = 0; others[i]; i++) {
        char id[3] = {'x', others[i], '\0'};
        CHECK_INT(zego_validate_stream_id(id, &err), ZEGO_ERR_STREAM_ID_INVALID_CHARACTER);
    }
}

static void non_ascii_bytes_are_refused_in_ids(void)
{
    zego_error err;
    CHECK_INT(zego_validate_user_id("\xe5\xbc\xa0\xe4\xb8\x89", &err),
              ZEGO_ERR_USER_ID_INVALID_CHARACTER);
    CHECK_CONTAINS(err.message, "byte 0xe5 at byte 0");
}

static void chinese_user_name_and_extra_info_are_accepted(void)
{
    zego_error err;
    /* "张三" and "主播的直播间" */
    CHECK_INT(zego_validate_user_name("\xe5\xbc\xa0\xe4\xb8\x89", &err), ZEGO_ERR_OK);
    CHECK_INT(zego_validate_extra_info("\xe4\xb8\xbb\xe6\x92\xad\xe7\x9a\x84\xe7\x9b\xb4\xe6\x92"
                                       "\xad\xe9\x97\xb4",
                                       &err),
              ZEGO_ERR_OK);
}

static void invalid_utf8_in_text_is_refused_naming_the_byte(void)
{
    zego_error err;
    CHECK_INT(zego_validate_user_name("ab\xff", &err), ZEGO_ERR_USER_NAME_INVALID);
    CHECK_CONTAINS(err.message, "0xff at byte 2");
    CHECK_INT(zego_validate_extra_info("\xe5\xbc", &err), ZEGO_ERR_TEXT_INVALID_UTF8);
    CHECK_INT(zego_validate_message("\xc0\xaf", &err), ZEGO_ERR_TEXT_INVALID_UTF8);
}

static void utf8_overlongs_surrogates_and_out_of_range_are_invalid(void)
{
    size_t bad;
    CHECK(zego_utf8_valid("\xf0\x9f\x98\x80", 4, &bad));  /* U+1F600 */
    CHECK(zego_utf8_valid("\xf4\x8f\xbf\xbf", 4, &bad));  /* U+10FFFF */
    CHECK(!zego_utf8_valid("\xe0\x80\xaf", 3, &bad));     /* overlong '/' */
    CHECK(!zego_utf8_valid("\xed\xa0\x80", 3, &bad));     /* U+D800 */
    CHECK(!zego_utf8_valid("\xf4\x90\x80\x80", 4, &bad)); /* U+110000 */
    CHECK(!zego_utf8_valid("a\x80", 2, &bad));
    CHECK_INT(bad, 1);
}

static void long_ids_are_shortened_in_error_messages(void)
{
    zego_error err;
    char *id = repeat('a', 200);
    id[150] = ' ';
    CHECK_INT(zego_validate_stream_id(id, &err), ZEGO_ERR_STREAM_ID_INVALID_CHARACTER);
    CHECK_CONTAINS(err.message, "...' has ' ' (0x20) at byte 150");
    free(id);
}

int main(void)
{
    RUN(user_id_of_63_bytes_is_accepted_and_64_refused);
    RUN(room_id_of_127_bytes_is_accepted_and_128_refused);
    RUN(stream_id_of_255_bytes_is_accepted_and_256_refused);
    RUN(user_name_of_255_bytes_is_accepted_and_256_refused);
    RUN(extra_info_of_1024_bytes_is_accepted_and_1025_refused);
    RUN(message_of_1024_bytes_is_accepted_and_1025_refused);
    RUN(empty_or_null_ids_are_refused_with_their_own_codes);
    RUN(every_allowed_special_character_is_accepted);
    RUN(disallowed_characters_are_refused_naming_byte_and_offset);
    RUN(non_ascii_bytes_are_refused_in_ids);
    RUN(chinese_user_name_and_extra_info_are_accepted);
    RUN(invalid_utf8_in_text_is_refused_naming_the_byte);
    RUN(utf8_overlongs_surrogates_and_out_of_range_are_invalid);
    RUN(long_ids_are_shortened_in_error_messages);
    return harness_finish();
}
