/* A small TAP test harness: each test is a function, RUN() reports it as one
 * "ok"/"not ok" line, and meson reads the TAP stream (protocol: 'tap').  A
 * failing CHECK prints what it compared and lets the test go on, so one run
 * shows every broken expectation. */
#ifndef ZEGO_TEST_HARNESS_H
#define ZEGO_TEST_HARNESS_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int harness_count;
static int harness_failures;
static int harness_current_failed;
static const char *harness_skip_reason;

#define CHECK(cond)                                                             \
    do {                                                                        \
        if (!(cond)) {                                                          \
            printf("#   %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
            harness_current_failed = 1;                                         \
        }                                                                       \
    } while (0)

#define CHECK_INT(actual, expected)                                                                \
    do {                                                                                           \
        long long a_ = (long long)(actual), e_ = (long long)(expected);                            \
        if (a_ != e_) {                                                                            \
            printf("#   %s:%d: %s is %lld, expected %lld\n", __FILE__, __LINE__, #actual, a_, e_); \
            harness_current_failed = 1;                                                            \
        }                                                                                          \
    } while (0)

#define CHECK_STR(actual, expected)                                                           \
    do {                                                                                      \
        const char *a_ = (actual), *e_ = (expected);                                          \
        if (!a_ || !e_ || strcmp(a_, e_) != 0) {                                              \
            printf("#   %s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #actual, \
                   a_ ? a_ : "(null)", e_ ? e_ : "(null)");                                   \
            harness_current_failed = 1;                                                       \
        }                                                                                     \
    } while (0)

/* The message of a zego_error contains the given text. */
#define CHECK_CONTAINS(haystack, needle)                                              \
    do {                                                                              \
        const char *h_ = (haystack), *n_ = (needle);                                  \
        if (!h_ || !strstr(h_, n_)) {                                                 \
            printf("#   %s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__, \
                   h_ ? h_ : "(null)", n_);                                           \
            harness_current_failed = 1;                                               \
        }                                                                             \
    } while (0)

/* Marks the running test as skipped, with a reason shown in the output. */
#define SKIP(reason) (harness_skip_reason = (reason))

static inline void harness_run(const char *name, void (*fn)(void))
{
    /* ZEGO_TEST_ONLY=part-of-a-name runs only the matching tests (debugging). */
    const char *only = getenv("ZEGO_TEST_ONLY");
    if (only && !strstr(name, only))
        return;
    harness_current_failed = 0;
    harness_skip_reason = NULL;
    fn();
    harness_count++;
    /* Test functions are named for the behaviour; show them as a sentence. */
    char pretty[256];
    size_t i = 0;
    for (; name[i] && i < sizeof pretty - 1; i++)
        pretty[i] = name[i] == '_' ? ' ' : name[i];
    pretty[i] = '\0';
    if (harness_current_failed) {
        harness_failures++;
        printf("not ok %d - %s\n", harness_count, pretty);
    } else if (harness_skip_reason) {
        printf("ok %d - %s # SKIP %s\n", harness_count, pretty, harness_skip_reason);
    } else {
        printf("ok %d - %s\n", harness_count, pretty);
    }
    fflush(stdout);
}

#define RUN(fn) harness_run(#fn, fn)

static inline int harness_finish(void)
{
    printf("1..%d\n", harness_count);
    return harness_failures ? 1 : 0;
}

#endif
