/* Plain HTTP on the server's port: /healthz for probes and tests, /metrics in
 * the Prometheus text format, and / with the files of the web debug page
 * (embedded at build time, see web.h). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "web.h"

/* Bodies go out in pieces of this size, one per WRITEABLE callback, so a
 * large file neither needs one big send nor holds up the loop. */
#define HTTP_CHUNK_BYTES (32 * 1024)

typedef struct http_conn {
    uint8_t *body; /* LWS_PRE bytes of headroom, then the body */
    size_t len, sent;
    const char *type;
    int status;
} http_conn;

typedef struct growing_text {
    char *s;
    size_t len, cap;
} growing_text;

static void text_add(growing_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(growing_text *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if (t->s && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = (t->cap ? t->cap * 2 : 4096) + (size_t)n;
        char *grown = realloc(t->s, cap);
        if (!grown)
            return;
        t->s = grown;
        t->cap = cap;
    }
}

static void metric(growing_text *t, const char *name, const char *type, const char *help,
                   uint64_t value)
{
    text_add(t, "# HELP zego_%s %s\n# TYPE zego_%s %s\nzego_%s %" PRIu64 "\n", name, help, name,
             type, name, value);
}

static char *metrics_text(zs_server *srv, size_t *len)
{
    size_t queue_bytes = 0, gop_bytes = 0, signal_bytes = 0;
    for (zs_map_iter it = zs_map_first(&srv->channels); it.entry;
         zs_map_next(&srv->channels, &it)) {
        zs_channel *ch = it.entry->value;
        gop_bytes += ch->gop.bytes;
        for (zs_player *p = ch->players; p; p = p->next)
            queue_bytes += p->q.bytes + p->inflight;
    }
    for (zs_conn *c = srv->conns; c; c = c->next)
        signal_bytes += c->out.bytes;
    uint64_t streams = 0;
    for (zs_map_iter it = zs_map_first(&srv->channels); it.entry; zs_map_next(&srv->channels, &it))
        streams += ((zs_channel *)it.entry->value)->announced;

    const zs_metrics *m = &srv->metrics;
    growing_text t = {0};
    metric(&t, "rooms", "gauge", "Rooms with at least one user.", srv->rooms.count);
    metric(&t, "users", "gauge", "Sessions, connected or within their reconnect window.",
           srv->sessions.count);
    metric(&t, "streams", "gauge", "Streams being published and announced.", streams);
    metric(&t, "publishers", "gauge", "Open publisher media sockets.", srv->n_publishers);
    metric(&t, "players", "gauge", "Open player media sockets.", srv->n_players);
    metric(&t, "connections", "gauge", "Open signaling sockets.", srv->n_conns);
    metric(&t, "connections_total", "counter", "Signaling sockets accepted.", m->connections_total);
    metric(&t, "bytes_in_total", "counter", "Bytes received on all sockets.", m->bytes_in);
    metric(&t, "bytes_out_total", "counter", "Bytes sent on all sockets.", m->bytes_out);
    metric(&t, "frames_in_total", "counter", "Media frames received from publishers.",
           m->frames_in);
    metric(&t, "frames_out_total", "counter", "Media frames sent to players.", m->frames_out);
    metric(&t, "frames_dropped_total", "counter",
           "Media frames dropped for players that fell behind.", m->frames_dropped);
    metric(&t, "player_queue_bytes", "gauge",
           "Bytes queued for all players, lws remainders included.", queue_bytes);
    metric(&t, "gop_cache_bytes", "gauge", "Bytes held in GOP caches.", gop_bytes);
    metric(&t, "signal_queue_bytes", "gauge", "Bytes queued on signaling sockets.", signal_bytes);
    metric(&t, "players_disconnected_slow_total", "counter",
           "Players disconnected for staying too far behind.", m->players_disconnected_slow);
    metric(&t, "keyframe_requests_total", "counter", "Keyframe requests sent to publishers.",
           m->keyframe_requests);
    metric(&t, "auth_failures_total", "counter",
           "Logins, token renewals and media tickets refused.", m->auth_failures);
    metric(&t, "protocol_errors_total", "counter", "Malformed messages and frames received.",
           m->protocol_errors);
    metric(&t, "signal_messages_in_total", "counter", "Signaling messages received.",
           m->signal_messages_in);
    metric(&t, "signal_messages_out_total", "counter", "Signaling messages sent.",
           m->signal_messages_out);
    *len = t.len;
    return t.s;
}

const zs_web_file *zs_web_find(const char *path)
{
    if (strcmp(path, "/") == 0)
        path = "/index.html";
    for (const zs_web_file *f = zs_web_files; f->path; f++)
        if (strcmp(f->path, path) == 0)
            return f;
    return NULL;
}

static int callback_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
    (void)len;
    http_conn *h = user;
    zs_server *srv = lws_context_user(lws_get_context(wsi));

    /* lws also calls protocols[0] for connections that never had HTTP
     * state of ours (a TLS handshake that failed, say). */
    if (!h && reason != LWS_CALLBACK_HTTP)
        return lws_callback_http_dummy(wsi, reason, user, in, len);

    switch (reason) {
    case LWS_CALLBACK_HTTP: {
        const char *path = in;
        const char *text;
        size_t text_len = 0;
        char *dynamic = NULL;
        const zs_web_file *file;
        memset(h, 0, sizeof *h);
        h->status = HTTP_STATUS_OK;
        h->type = "text/plain; charset=utf-8";
        if (strcmp(path, "/healthz") == 0) {
            text = srv->shutting_down ? "shutting down\n" : "ok\n";
            if (srv->shutting_down)
                h->status = HTTP_STATUS_SERVICE_UNAVAILABLE;
        } else if (strcmp(path, "/metrics") == 0) {
            h->type = "text/plain; version=0.0.4; charset=utf-8";
            size_t n;
            text = dynamic = metrics_text(srv, &n);
        } else if ((file = zs_web_find(path)) != NULL) {
            h->type = file->type;
            text = (const char *)file->data;
            text_len = file->len;
        } else {
            h->status = HTTP_STATUS_NOT_FOUND;
            text = "not found\n";
        }
        if (!text)
            return -1;
        h->len = text_len ? text_len : strlen(text);
        h->body = malloc(LWS_PRE + h->len);
        if (h->body)
            memcpy(h->body + LWS_PRE, text, h->len);
        free(dynamic);
        if (!h->body)
            return -1;

        uint8_t buf[LWS_PRE + 512], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf;
        if (lws_add_http_common_headers(wsi, (unsigned)h->status, h->type, h->len, &p, end) ||
            lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
                                         (const unsigned char *)"no-store", 8, &p, end) ||
            lws_add_http_header_by_name(wsi, (const unsigned char *)"x-content-type-options:",
                                        (const unsigned char *)"nosniff", 7, &p, end) ||
            lws_finalize_write_http_header(wsi, start, &p, end))
            return 1;
        lws_callback_on_writable(wsi);
        return 0;
    }
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!h->body)
            break;
        size_t n = h->len - h->sent;
        if (n > HTTP_CHUNK_BYTES)
            n = HTTP_CHUNK_BYTES;
        bool last = h->sent + n == h->len;
        /* The bytes before the chunk are already sent, so they can be the
         * headroom lws may write into. */
        if (lws_write(wsi, h->body + LWS_PRE + h->sent, n,
                      last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
            return 1;
        h->sent += n;
        if (!last) {
            lws_callback_on_writable(wsi);
            return 0;
        }
        free(h->body);
        h->body = NULL;
        if (lws_http_transaction_completed(wsi))
            return -1;
        return 0;
    case LWS_CALLBACK_CLOSED_HTTP:
        free(h->body);
        h->body = NULL;
        break;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

const struct lws_protocols zs_http_protocol = {
    .name = "http",
    .callback = callback_http,
    .per_session_data_size = sizeof(http_conn),
    .rx_buffer_size = 0,
};
