/* Names and descriptions of the error codes in <zego/errors.h>. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <zego/errors.h>

struct error_entry {
    int32_t code;
    const char *name;
    const char *description;
};

static const struct error_entry error_table[] = {
#define ZEGO_ERROR_ENTRY_(name, code, text) {code, "ZEGO_ERR_" #name, text},
    ZEGO_ERROR_LIST(ZEGO_ERROR_ENTRY_)
#undef ZEGO_ERROR_ENTRY_
};

static const struct error_entry *error_lookup(int32_t code)
{
    for (size_t i = 0; i < sizeof error_table / sizeof error_table[0]; i++) {
        if (error_table[i].code == code)
            return &error_table[i];
    }
    return NULL;
}

const char *zego_error_name(int32_t code)
{
    const struct error_entry *e = error_lookup(code);
    return e ? e->name : NULL;
}

const char *zego_error_description(int32_t code)
{
    const struct error_entry *e = error_lookup(code);
    return e ? e->description : NULL;
}

int32_t zego_error_set(zego_error *err, int32_t code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

void zego_error_clear(zego_error *err)
{
    if (err) {
        err->code = ZEGO_ERR_OK;
        err->message[0] = '\0';
    }
}
