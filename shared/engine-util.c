/* The client engine's pure logic: backoff, clock offset, send queue, sequence
 * gaps, URLs, quality levels and the session registry.  See
 * engine-internal.h; the network code lives in engine.c. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine-internal.h"

/* ---- Backoff ---- */

uint32_t zego_backoff_delay_ms(uint32_t attempt, uint32_t initial_ms, uint32_t max_ms,
                               uint32_t random)
{
    if (initial_ms == 0)
        initial_ms = 1;
    if (max_ms < initial_ms)
        max_ms = initial_ms;
    uint64_t d = initial_ms;
    /* Stop doubling once past the cap so the shift cannot overflow. */
    for (uint32_t i = 0; i < attempt && d < max_ms; i++)
        d *= 2;
    if (d > max_ms)
        d = max_ms;
    uint64_t half = d / 2;
    return (uint32_t)(d - half + random % (half + 1));
}

/* ---- Clock ---- */

void zego_clock_init(zego_clock *c)
{
    memset(c, 0, sizeof *c);
}

bool zego_clock_add_sample(zego_clock *c, int64_t sent_ms, int64_t server_ms, int64_t recv_ms)
{
    if (recv_ms < sent_ms)
        return false;
    int64_t rtt = recv_ms - sent_ms;
    /* The server read its clock about half way through the round trip. */
    int64_t offset = server_ms + rtt / 2 - recv_ms;
    c->rtt_ms[c->next] = rtt;
    c->offset_ms[c->next] = offset;
    c->next = (c->next + 1) % ZEGO_CLOCK_SAMPLES;
    if (c->n < ZEGO_CLOCK_SAMPLES)
        c->n++;
    c->last_rtt_ms = rtt;
    return true;
}

bool zego_clock_offset(const zego_clock *c, int64_t *offset_ms, int64_t *rtt_ms)
{
    if (c->n == 0)
        return false;
    unsigned best = 0;
    for (unsigned i = 1; i < c->n; i++)
        if (c->rtt_ms[i] < c->rtt_ms[best])
            best = i;
    if (offset_ms)
        *offset_ms = c->offset_ms[best];
    if (rtt_ms)
        *rtt_ms = c->rtt_ms[best];
    return true;
}

/* ---- Send queue ---- */

zego_sendq_item *zego_sendq_item_new(size_t headroom, size_t len)
{
    zego_sendq_item *it = calloc(1, sizeof *it + headroom + len);
    if (!it)
        return NULL;
    it->len = len;
    it->data = it->storage + headroom;
    return it;
}

void zego_sendq_init(zego_sendq *q, size_t soft_max)
{
    memset(q, 0, sizeof *q);
    q->soft_max = soft_max;
    q->hard_max = soft_max + soft_max / 4;
}

zego_sendq_verdict zego_sendq_admit(zego_sendq *q, uint8_t track, bool video, bool key,
                                    size_t bytes)
{
    if (!video) {
        if (q->bytes + bytes > q->hard_max) {
            q->dropped++;
            bit_set(q->discont, track, true);
            return ZEGO_SENDQ_DROP;
        }
        return ZEGO_SENDQ_QUEUE;
    }
    bool waiting = bit_get(q->waiting_key, track);
    if (waiting && !key) {
        /* Frames after a dropped one cannot be decoded without it. */
        q->dropped++;
        return ZEGO_SENDQ_DROP;
    }
    if (q->bytes + bytes > q->soft_max) {
        q->dropped++;
        bit_set(q->waiting_key, track, true);
        bit_set(q->discont, track, true);
        /* Non-keyframes that arrive while waiting were dropped above without
         * asking again; only an overflow (or a keyframe that does not fit
         * either) asks the encoder. */
        return ZEGO_SENDQ_DROP_WANT_KEY;
    }
    bit_set(q->waiting_key, track, false);
    return ZEGO_SENDQ_QUEUE;
}

bool zego_sendq_take_discont(zego_sendq *q, uint8_t track)
{
    bool d = bit_get(q->discont, track);
    bit_set(q->discont, track, false);
    return d;
}

void zego_sendq_wait_key_all(zego_sendq *q)
{
    memset(q->waiting_key, 0xff, sizeof q->waiting_key);
    memset(q->discont, 0xff, sizeof q->discont);
}

void zego_sendq_push(zego_sendq *q, zego_sendq_item *item)
{
    item->next = NULL;
    if (q->tail)
        q->tail->next = item;
    else
        q->head = item;
    q->tail = item;
    q->bytes += item->len;
    q->count++;
}

zego_sendq_item *zego_sendq_pop(zego_sendq *q)
{
    zego_sendq_item *it = q->head;
    if (!it)
        return NULL;
    q->head = it->next;
    if (!q->head)
        q->tail = NULL;
    q->bytes -= it->len;
    q->count--;
    it->next = NULL;
    return it;
}

void zego_sendq_clear(zego_sendq *q)
{
    zego_sendq_item *it;
    while ((it = zego_sendq_pop(q)))
        free(it);
}

/* ---- Sequence numbers ---- */

uint32_t zego_seq_lost(uint32_t last, uint32_t seq)
{
    uint32_t step = seq - last; /* modulo 2^32 */
    if (step == 0 || step > 0x80000000u)
        return 1;
    return step - 1;
}

/* ---- URLs ---- */

int zego_url_parse(const char *url, zego_url *out, zego_error *err)
{
    memset(out, 0, sizeof *out);
    if (!url)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "server URL is missing");
    const char *p;
    if (strncmp(url, "ws://", 5) == 0) {
        p = url + 5;
        out->port = 80;
    } else if (strncmp(url, "wss://", 6) == 0) {
        p = url + 6;
        out->tls = true;
        out->port = 443;
    } else {
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT,
                              "URL \"%.200s\" must start with ws:// or wss://", url);
    }
    size_t auth_len = strcspn(p, "/?#");
    const char *rest = p + auth_len;
    if (memchr(p, '@', auth_len))
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT,
                              "URL \"%.200s\": user info is not supported", url);
    const char *host = p, *port = NULL;
    size_t host_len;
    if (*p == '[') {
        const char *close = memchr(p, ']', auth_len);
        if (!close)
            return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT,
                                  "URL \"%.200s\": unterminated IPv6 address", url);
        host = p + 1;
        host_len = (size_t)(close - host);
        if (close + 1 < rest) {
            if (close[1] != ':')
                return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT,
                                      "URL \"%.200s\": junk after the IPv6 address", url);
            port = close + 2;
        }
    } else {
        const char *colon = memchr(p, ':', auth_len);
        host_len = colon ? (size_t)(colon - p) : auth_len;
        if (colon)
            port = colon + 1;
    }
    if (host_len == 0)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "URL \"%.200s\" has no host", url);
    if (host_len >= sizeof out->host)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "URL host is too long");
    memcpy(out->host, host, host_len);
    if (port) {
        long v = 0;
        const char *q = port;
        if (q == rest)
            return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT,
                                  "URL \"%.200s\" has an empty port", url);
        for (; q < rest; q++) {
            if (*q < '0' || *q > '9' || v > 65535)
                return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT,
                                      "URL \"%.200s\" has a bad port", url);
            v = v * 10 + (*q - '0');
        }
        if (v < 1 || v > 65535)
            return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT,
                                  "URL \"%.200s\": port %ld is out of range", url, v);
        out->port = (int)v;
    }
    /* A fragment is never sent; the path keeps its query. */
    size_t path_len = strcspn(rest, "#");
    int n = snprintf(out->path, sizeof out->path, "%s%.*s", *rest == '/' ? "" : "/", (int)path_len,
                     rest);
    if (n < 0 || (size_t)n >= sizeof out->path)
        return zego_error_set(err, ZEGO_ERR_INVALID_ARGUMENT, "URL path is too long");
    zego_error_clear(err);
    return ZEGO_ERR_OK;
}

int zego_url_with_ticket(const char *url, const char *ticket, char *out, size_t size,
                         zego_error *err)
{
    const char *sep = strchr(url, '?') ? "&" : "?";
    int n = snprintf(out, size, "%s%sticket=%s", url, sep, ticket);
    if (n < 0 || (size_t)n >= size)
        return zego_error_set(err, ZEGO_ERR_PROTOCOL_OUT_OF_RANGE,
                              "media URL with its ticket is longer than %zu bytes", size - 1);
    zego_error_clear(err);
    return ZEGO_ERR_OK;
}

/* ---- Quality ---- */

static zego_quality_level grade(int64_t v, const int64_t limits[4])
{
    for (int i = 0; i < 4; i++)
        if (v < limits[i])
            return (zego_quality_level)i;
    return ZEGO_QUALITY_DIE;
}

zego_quality_level zego_quality_level_compute(bool alive, int64_t rtt_ms, double loss,
                                              int64_t delay_ms)
{
    if (!alive)
        return ZEGO_QUALITY_DIE;
    /* Thresholds in the spirit of ZEGO's: conversational delay goes bad
     * past a few hundred ms, video past a few percent loss. */
    static const int64_t rtt_limits[4] = {100, 200, 400, 1000};
    static const int64_t loss_limits[4] = {10, 30, 80, 200}; /* per mille */
    static const int64_t delay_limits[4] = {200, 400, 800, 2000};
    zego_quality_level q = grade(rtt_ms < 0 ? 0 : rtt_ms, rtt_limits);
    zego_quality_level l = grade((int64_t)(loss * 1000.0), loss_limits);
    if (l > q)
        q = l;
    if (delay_ms >= 0) {
        zego_quality_level d = grade(delay_ms, delay_limits);
        if (d > q)
            q = d;
    }
    return q;
}

/* ---- Registry ---- */

char *zego_session_key(const char *url, uint32_t app_id, const char *room_id, const char *user_id)
{
    size_t n = strlen(url) + strlen(room_id) + strlen(user_id) + 16;
    char *key = malloc(n);
    if (key)
        snprintf(key, n, "%s\n%" PRIu32 "\n%s\n%s", url, app_id, room_id, user_id);
    return key;
}

void *zego_registry_acquire(zego_registry *r, const char *key, void *(*create)(void *arg),
                            void *arg, bool *created)
{
    void *object = NULL;
    if (created)
        *created = false;
    pthread_mutex_lock(&r->lock);
    for (zego_registry_entry *e = r->head; e; e = e->next) {
        if (strcmp(e->key, key) == 0) {
            e->refs++;
            object = e->object;
            goto out;
        }
    }
    zego_registry_entry *e = calloc(1, sizeof *e);
    char *k = strdup(key);
    if (!e || !k) {
        free(e);
        free(k);
        goto out;
    }
    object = create(arg);
    if (!object) {
        free(e);
        free(k);
        goto out;
    }
    e->key = k;
    e->object = object;
    e->refs = 1;
    e->next = r->head;
    r->head = e;
    if (created)
        *created = true;
out:
    pthread_mutex_unlock(&r->lock);
    return object;
}

bool zego_registry_release(zego_registry *r, void *object)
{
    bool last = false;
    pthread_mutex_lock(&r->lock);
    for (zego_registry_entry **pp = &r->head; *pp; pp = &(*pp)->next) {
        zego_registry_entry *e = *pp;
        if (e->object != object)
            continue;
        if (--e->refs == 0) {
            *pp = e->next;
            free(e->key);
            free(e);
            last = true;
        }
        break;
    }
    pthread_mutex_unlock(&r->lock);
    return last;
}

unsigned zego_registry_refs(zego_registry *r, void *object)
{
    unsigned refs = 0;
    pthread_mutex_lock(&r->lock);
    for (zego_registry_entry *e = r->head; e; e = e->next)
        if (e->object == object)
            refs = e->refs;
    pthread_mutex_unlock(&r->lock);
    return refs;
}
