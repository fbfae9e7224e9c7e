/* zego-token: make a Token04 for a user, or check one and show what it says.
 *
 * Exit status: 0 success, 1 the token could not be made or is not valid,
 * 2 the command line is wrong. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include <zego/errors.h>
#include <zego/token04.h>

#ifndef ZEGO_VERSION
#define ZEGO_VERSION "0.1.0"
#endif

#define PROG "zego-token"

#define EXIT_INVALID 1
#define EXIT_USAGE   2

/* More stream ids than a payload may hold are refused by the library. */
#define MAX_STREAM_ARGS 1000

static void usage(FILE *out)
{
    fprintf(out,
            "Usage:\n"
            "  " PROG " --app-id N --secret S --user-id U [options]   make a token\n"
            "  " PROG " --verify TOKEN --app-id N --secret S [options] check a token\n"
            "\n"
            "Makes a ZEGO Token04 that a user presents when logging into a room, or\n"
            "checks one and prints what it contains as JSON.\n"
            "\n"
            "Common options:\n"
            "  --app-id N          the app id, 1 to 4294967295 (required)\n"
            "  --secret S          the app's 32-character server secret\n"
            "  --secret-file FILE  read the secret from the first line of FILE\n"
            "                      (keeps it out of the process list)\n"
            "                      Without either, the secret is taken from the\n"
            "                      environment variable ZEGO_SERVER_SECRET.\n"
            "  --user-id U         the user the token is for (required to make one;\n"
            "                      when verifying, also check the token is for U)\n"
            "  --room-id R         making: restrict the token to room R;\n"
            "                      verifying: also check it allows logging into R\n"
            "  --stream-id S       making: allow publishing only stream S (repeat for\n"
            "                      more streams); verifying: also check it allows\n"
            "                      publishing S (in --room-id R when given)\n"
            "  -h, --help          show this help and exit\n"
            "  -V, --version       show the version and exit\n"
            "\n"
            "Making a token:\n"
            "  --ttl SECONDS       how long it is valid (default 3600)\n"
            "  --privilege LIST    what it allows, comma-separated: login, publish;\n"
            "                      anything not listed is denied.  Defaults to\n"
            "                      login,publish when --room-id or --stream-id is given.\n"
            "                      Without --privilege, --room-id and --stream-id the\n"
            "                      token carries no payload and allows everything.\n"
            "  --mode gcm|cbc      AES-256-GCM (default) or AES-256-CBC for older\n"
            "                      verifiers\n"
            "  The token is printed on standard output.\n"
            "\n"
            "Verifying a token:\n"
            "  --verify TOKEN      the token to check\n"
            "  --at UNIX_TIME      check the expiry as of this time instead of now\n"
            "  On success the decoded fields are printed as JSON; on failure the\n"
            "  error code and the reason are printed on standard error.\n"
            "\n"
            "Exit status: 0 success, 1 the token is not valid or could not be made,\n"
            "2 wrong command line.\n"
            "\n"
            "Examples:\n"
            "  export ZEGO_SERVER_SECRET=0123456789abcdef0123456789abcdef\n"
            "  TOKEN=$(" PROG " --app-id 1 --user-id alice --room-id r1 --privilege login)\n"
            "  " PROG " --verify \"$TOKEN\" --app-id 1 --user-id alice --room-id r1\n"
            "\n"
            "  TOKEN=$(" PROG " --app-id 1 --secret-file secret.txt --user-id bob \\\n"
            "      --stream-id s1 --mode cbc --ttl 600)\n"
            "  " PROG " --verify \"$TOKEN\" --app-id 1 --secret-file secret.txt --stream-id s1\n"
            "  " PROG " --verify \"$OLD_TOKEN\" --app-id 1 --secret-file secret.txt \\\n"
            "      --at 1700000100\n");
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs(PROG ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry '" PROG " --help' for more information.\n", stderr);
    return EXIT_USAGE;
}

static int report(const zego_error *err)
{
    const char *name = zego_error_name(err->code);
    fprintf(stderr, PROG ": error %d (%s): %s\n", (int)err->code, name ? name : "unknown",
            err->message);
    return EXIT_INVALID;
}

static bool all_digits(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
    }
    return true;
}

/* A decimal number in [min, max]; strtoull alone would accept " +1" and "-1". */
static bool parse_number(const char *s, unsigned long long min, unsigned long long max,
                         unsigned long long *out)
{
    if (!all_digits(s))
        return false;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* Reads the first line of path into buf, trailing whitespace removed. */
static bool read_secret_file(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        usage_error("cannot read the secret file '%s': %s", path, strerror(errno));
        return false;
    }
    if (fgets(buf, (int)size, f) == NULL)
        buf[0] = '\0';
    fclose(f);
    size_t len = strlen(buf);
    while (len > 0 && strchr(" \t\r\n\v\f", buf[len - 1]) != NULL)
        buf[--len] = '\0';
    return true;
}

static bool parse_privileges(const char *list, int *login, int *publish)
{
    *login = ZEGO_TOKEN04_PRIVILEGE_DENIED;
    *publish = ZEGO_TOKEN04_PRIVILEGE_DENIED;
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n == 5 && strncmp(p, "login", 5) == 0) {
            *login = ZEGO_TOKEN04_PRIVILEGE_ALLOWED;
        } else if (n == 7 && strncmp(p, "publish", 7) == 0) {
            *publish = ZEGO_TOKEN04_PRIVILEGE_ALLOWED;
        } else if (n != 0) {
            usage_error("--privilege: unknown privilege '%.*s'; use login and/or publish", (int)n,
                        p);
            return false;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return true;
}

struct options {
    const char *verify;
    const char *secret;
    const char *secret_file;
    const char *user_id;
    const char *room_id;
    const char *privilege;
    const char *streams[MAX_STREAM_ARGS];
    size_t n_streams;
    unsigned long long app_id;
    bool have_app_id;
    unsigned long long ttl;
    bool have_ttl;
    unsigned long long at;
    bool have_at;
    zego_token04_mode mode;
    bool have_mode;
};

static int create(const struct options *o, const char *secret)
{
    zego_error err;
    char *payload = NULL;
    if (o->room_id || o->privilege || o->n_streams > 0) {
        int login = ZEGO_TOKEN04_PRIVILEGE_ALLOWED, publish = ZEGO_TOKEN04_PRIVILEGE_ALLOWED;
        if (o->privilege && !parse_privileges(o->privilege, &login, &publish))
            return EXIT_USAGE;
        if (zego_token04_payload_build(o->room_id, login, publish, o->n_streams ? o->streams : NULL,
                                       o->n_streams, &payload, &err) != ZEGO_ERR_OK)
            return report(&err);
    }
    zego_token04_params p = {
        .app_id = (uint32_t)o->app_id,
        .secret = secret,
        .user_id = o->user_id,
        .ttl = o->have_ttl ? (int64_t)o->ttl : 3600,
        .mode = o->mode,
        .payload = payload,
    };
    char *token = NULL;
    int rc = zego_token04_create(&p, &token, &err);
    free(payload);
    if (rc != ZEGO_ERR_OK)
        return report(&err);
    printf("%s\n", token);
    free(token);
    return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_INVALID;
}

static int print_info(const zego_token04_info *info)
{
    char iso[64];
    time_t t = (time_t)info->expire;
    struct tm tm;
    if ((int64_t)t != info->expire || gmtime_r(&t, &tm) == NULL ||
        strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(iso, sizeof iso, "%s", "");

    json_t *payload = NULL;
    if (info->payload[0] != '\0')
        payload = json_loads(info->payload, 0, NULL);
    if (payload == NULL)
        payload = json_string("");
    json_t *root =
        json_pack("{s:I, s:s, s:I, s:I, s:I, s:s, s:s, s:o}", "app_id", (json_int_t)info->app_id,
                  "user_id", info->user_id, "nonce", (json_int_t)info->nonce, "ctime",
                  (json_int_t)info->ctime, "expire", (json_int_t)info->expire, "expire_iso", iso,
                  "mode", info->mode == ZEGO_TOKEN04_GCM ? "gcm" : "cbc", "payload", payload);
    char *text = root ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(root);
    if (text == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        return EXIT_INVALID;
    }
    printf("%s\n", text);
    free(text);
    return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_INVALID;
}

static int verify(const struct options *o, const char *secret)
{
    zego_error err;
    zego_token04_info info = {0};
    int rc = zego_token04_verify(o->verify, (uint32_t)o->app_id, secret, o->user_id,
                                 o->have_at ? (int64_t)o->at : 0, &info, &err);
    if (rc == ZEGO_ERR_OK && o->room_id)
        rc = zego_token04_check_login(&info, o->room_id, &err);
    if (rc == ZEGO_ERR_OK && o->n_streams > 0) {
        /* Without --room-id only the stream is in question, so take the
         * token's own room. */
        const char *room = o->room_id ? o->room_id : info.room_id ? info.room_id : "";
        rc = zego_token04_check_publish(&info, room, o->streams[0], &err);
    }
    int status = rc == ZEGO_ERR_OK ? print_info(&info) : report(&err);
    zego_token04_info_clear(&info);
    return status;
}

enum {
    OPT_APP_ID = 256,
    OPT_SECRET,
    OPT_SECRET_FILE,
    OPT_USER_ID,
    OPT_TTL,
    OPT_ROOM_ID,
    OPT_PRIVILEGE,
    OPT_STREAM_ID,
    OPT_MODE,
    OPT_VERIFY,
    OPT_AT,
};

static const struct option long_options[] = {
    {"app-id", required_argument, NULL, OPT_APP_ID},
    {"secret", required_argument, NULL, OPT_SECRET},
    {"secret-file", required_argument, NULL, OPT_SECRET_FILE},
    {"user-id", required_argument, NULL, OPT_USER_ID},
    {"ttl", required_argument, NULL, OPT_TTL},
    {"room-id", required_argument, NULL, OPT_ROOM_ID},
    {"privilege", required_argument, NULL, OPT_PRIVILEGE},
    {"stream-id", required_argument, NULL, OPT_STREAM_ID},
    {"mode", required_argument, NULL, OPT_MODE},
    {"verify", required_argument, NULL, OPT_VERIFY},
    {"at", required_argument, NULL, OPT_AT},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

int main(int argc, char **argv)
{
    static struct options o;
    int c;
    while ((c = getopt_long(argc, argv, "hV", long_options, NULL)) != -1) {
        switch (c) {
        case 'h':
            usage(stdout);
            return EXIT_SUCCESS;
        case 'V':
            printf(PROG " " ZEGO_VERSION "\n");
            return EXIT_SUCCESS;
        case OPT_APP_ID:
            if (!parse_number(optarg, 1, 4294967295ULL, &o.app_id))
                return usage_error("--app-id must be a decimal number from 1 to 4294967295, "
                                   "not '%s'",
                                   optarg);
            o.have_app_id = true;
            break;
        case OPT_SECRET:
            o.secret = optarg;
            break;
        case OPT_SECRET_FILE:
            o.secret_file = optarg;
            break;
        case OPT_USER_ID:
            o.user_id = optarg;
            break;
        case OPT_TTL:
            /* Ten years is far beyond any sensible token lifetime. */
            if (!parse_number(optarg, 1, 315360000ULL, &o.ttl))
                return usage_error("--ttl must be a number of seconds from 1 to 315360000, "
                                   "not '%s'",
                                   optarg);
            o.have_ttl = true;
            break;
        case OPT_ROOM_ID:
            o.room_id = optarg;
            break;
        case OPT_PRIVILEGE:
            o.privilege = optarg;
            break;
        case OPT_STREAM_ID:
            if (o.n_streams == MAX_STREAM_ARGS)
                return usage_error("at most %d --stream-id options", MAX_STREAM_ARGS);
            o.streams[o.n_streams++] = optarg;
            break;
        case OPT_MODE:
            if (strcmp(optarg, "gcm") == 0)
                o.mode = ZEGO_TOKEN04_GCM;
            else if (strcmp(optarg, "cbc") == 0)
                o.mode = ZEGO_TOKEN04_CBC;
            else
                return usage_error("--mode must be gcm or cbc, not '%s'", optarg);
            o.have_mode = true;
            break;
        case OPT_VERIFY:
            o.verify = optarg;
            break;
        case OPT_AT:
            if (!parse_number(optarg, 1, (unsigned long long)INT64_MAX, &o.at))
                return usage_error("--at must be a Unix time in seconds, not '%s'", optarg);
            o.have_at = true;
            break;
        default:
            /* getopt_long has already said what was wrong. */
            fputs("Try '" PROG " --help' for more information.\n", stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);

    if (!o.have_app_id)
        return usage_error("--app-id is required");
    if (o.verify) {
        if (o.have_ttl || o.privilege || o.have_mode)
            return usage_error("--ttl, --privilege and --mode are for making a token, not for "
                               "--verify");
        if (o.n_streams > 1)
            return usage_error("--verify checks one --stream-id at a time");
    } else {
        if (o.have_at)
            return usage_error("--at is only for --verify");
        if (o.user_id == NULL)
            return usage_error("--user-id is required to make a token");
        if (o.user_id[0] == '\0')
            return usage_error("--user-id must not be empty");
    }

    if (o.secret && o.secret_file)
        return usage_error("give --secret or --secret-file, not both");
    char file_secret[256];
    const char *secret = o.secret;
    const char *source = "--secret";
    if (secret == NULL && o.secret_file) {
        if (!read_secret_file(o.secret_file, file_secret, sizeof file_secret))
            return EXIT_USAGE;
        secret = file_secret;
        source = "the secret file";
    }
    if (secret == NULL) {
        secret = getenv("ZEGO_SERVER_SECRET");
        source = "ZEGO_SERVER_SECRET";
    }
    if (secret == NULL)
        return usage_error("no secret: give --secret, --secret-file or set ZEGO_SERVER_SECRET");
    if (strlen(secret) != ZEGO_TOKEN04_SECRET_LEN)
        return usage_error("the secret from %s must be %d characters, not %zu", source,
                           ZEGO_TOKEN04_SECRET_LEN, strlen(secret));

    int status = o.verify ? verify(&o, secret) : create(&o, secret);
    memset(file_secret, 0, sizeof file_secret);
    return status;
}
