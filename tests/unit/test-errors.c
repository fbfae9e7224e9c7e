/* Error codes: each has a unique number and name, a description, and a row in
 * docs/errors.md, so the documentation cannot fall behind the code. */
#include <stdlib.h>

#include <zego/errors.h>

#include "harness.h"

static const struct {
    int32_t code;
    const char *name;
} codes[] = {
#define ENTRY(name, code, text) {code, #name},
    ZEGO_ERROR_LIST(ENTRY)
#undef ENTRY
};
#define N_CODES (sizeof codes / sizeof codes[0])

static char *read_doc(void)
{
    const char *dir = getenv("ZEGO_DOCS_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/errors.md", dir ? dir : "docs");
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char buf[1 << 17];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void codes_and_names_are_unique(void)
{
    for (size_t i = 0; i < N_CODES; i++) {
        for (size_t j = 0; j < i; j++) {
            CHECK(codes[i].code != codes[j].code);
            CHECK(strcmp(codes[i].name, codes[j].name) != 0);
        }
    }
}

static void every_code_has_a_name_and_a_description(void)
{
    for (size_t i = 0; i < N_CODES; i++) {
        char expected[80];
        snprintf(expected, sizeof expected, "ZEGO_ERR_%s", codes[i].name);
        CHECK_STR(zego_error_name(codes[i].code), expected);
        CHECK(zego_error_description(codes[i].code) != NULL);
    }
    CHECK(zego_error_name(123) == NULL);
    CHECK(zego_error_description(-1) == NULL);
}

static void every_code_is_documented_in_errors_md(void)
{
    const char *doc = read_doc();
    CHECK(doc != NULL);
    if (!doc)
        return;
    for (size_t i = 1; i < N_CODES; i++) {
        char row[120];
        snprintf(row, sizeof row, "| %d | %s |", codes[i].code, codes[i].name);
        if (!strstr(doc, row))
            printf("#   docs/errors.md has no row \"%s\"\n", row);
        CHECK(strstr(doc, row) != NULL);
    }
}

static void error_set_formats_and_returns_the_code(void)
{
    zego_error err;
    CHECK_INT(zego_error_set(&err, ZEGO_ERR_TOKEN_EXPIRED, "expired %d s ago", 5),
              ZEGO_ERR_TOKEN_EXPIRED);
    CHECK_STR(err.message, "expired 5 s ago");
    CHECK_INT(zego_error_set(NULL, ZEGO_ERR_INTERNAL, "x"), ZEGO_ERR_INTERNAL);
    zego_error_clear(&err);
    CHECK_INT(err.code, 0);
    CHECK_STR(err.message, "");
}

int main(void)
{
    RUN(codes_and_names_are_unique);
    RUN(every_code_has_a_name_and_a_description);
    RUN(every_code_is_documented_in_errors_md);
    RUN(error_set_formats_and_returns_the_code);
    return harness_finish();
}
