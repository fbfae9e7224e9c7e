/* A signaling client for tests; see room-client.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "room-client.h"

int zt_client_connect(zt_client *c, int port)
{
    memset(c, 0, sizeof *c);
    c->next_seq = 1;
    return zt_ws_connect(&c->ws, port, "/ws", ZEGO_SUBPROTOCOL_SIGNALING, 0);
}

void zt_client_close(zt_client *c)
{
    for (size_t i = 0; i < c->n_events; i++) {
        zego_msg_clear(c->events[i]);
        free(c->events[i]);
    }
    c->n_events = 0;
    zt_ws_close(&c->ws);
}

/* Reads one message; replies and error events go to *out, other events to
 * the queue.  1 = *out filled, 0 = an event was queued, -1 = timeout/closed. */
static int read_one(zt_client *c, zego_msg *out, int timeout_ms)
{
    zt_ws_msg m;
    int rc = zt_ws_recv(&c->ws, &m, timeout_ms);
    if (rc <= 0)
        return -1;
    zego_msg *msg = calloc(1, sizeof *msg);
    zego_error err;
    if (!msg)
        return -1;
    if (zego_msg_decode((const char *)m.data, m.len, ZEGO_SERVER_MESSAGE_MAX, msg, &err)) {
        printf("#   undecodable server message (%s): %.*s\n", err.message, (int)m.len, m.data);
        free(msg);
        return 0;
    }
    if (out && (msg->type == ZEGO_MSG_REPLY || msg->type == ZEGO_MSG_ERROR)) {
        *out = *msg;
        free(msg);
        return 1;
    }
    if (c->n_events == ZT_MAX_EVENTS) {
        zego_msg_clear(c->events[0]);
        free(c->events[0]);
        memmove(c->events, c->events + 1, (ZT_MAX_EVENTS - 1) * sizeof c->events[0]);
        c->n_events--;
    }
    c->events[c->n_events++] = msg;
    return 0;
}

int zt_client_request(zt_client *c, zego_msg *req, zego_msg *reply, int timeout_ms)
{
    req->seq = c->next_seq++;
    zego_error err;
    char *text = zego_msg_encode(req, NULL, &err);
    if (!text) {
        printf("#   cannot encode request: %s\n", err.message);
        return -1;
    }
    int rc = zt_ws_send_text(&c->ws, text);
    free(text);
    if (rc)
        return -1;
    int64_t deadline = zt_now_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - zt_now_ms();
        if (left <= 0)
            return -1;
        zego_msg got;
        int r = read_one(c, &got, (int)left);
        if (r < 0)
            return -1;
        if (r == 1) {
            if (got.type == ZEGO_MSG_REPLY && got.seq == req->seq) {
                *reply = got;
                return got.code;
            }
            zego_msg_clear(&got);
        }
    }
}

int zt_client_send_raw(zt_client *c, const char *text, zego_msg *answer, int timeout_ms)
{
    if (zt_ws_send_text(&c->ws, text))
        return -1;
    int64_t deadline = zt_now_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - zt_now_ms();
        if (left <= 0)
            return -1;
        int r = read_one(c, answer, (int)left);
        if (r < 0)
            return -1;
        if (r == 1)
            return answer->type == ZEGO_MSG_REPLY ? answer->code : answer->u.notice.code;
    }
}

static int take_queued(zt_client *c, zego_msg_type type, zego_msg *out)
{
    for (size_t i = 0; i < c->n_events; i++) {
        if (c->events[i]->type == type) {
            if (out)
                *out = *c->events[i];
            else
                zego_msg_clear(c->events[i]);
            free(c->events[i]);
            memmove(c->events + i, c->events + i + 1, (c->n_events - i - 1) * sizeof c->events[0]);
            c->n_events--;
            return 1;
        }
    }
    return 0;
}

int zt_client_wait_event(zt_client *c, zego_msg_type type, zego_msg *out, int timeout_ms)
{
    int64_t deadline = zt_now_ms() + timeout_ms;
    for (;;) {
        if (take_queued(c, type, out))
            return 1;
        int64_t left = deadline - zt_now_ms();
        if (left <= 0)
            return 0;
        zego_msg other;
        int r = read_one(c, &other, (int)left);
        if (r < 0)
            return 0;
        if (r == 1)
            zego_msg_clear(&other);
    }
}

size_t zt_client_count_events(zt_client *c, zego_msg_type type, int settle_ms)
{
    int64_t deadline = zt_now_ms() + settle_ms;
    while (zt_now_ms() < deadline) {
        zego_msg other;
        int r = read_one(c, &other, (int)(deadline - zt_now_ms()));
        if (r < 0)
            break;
        if (r == 1)
            zego_msg_clear(&other);
    }
    size_t n = 0;
    for (size_t i = 0; i < c->n_events; i++)
        n += c->events[i]->type == type;
    return n;
}

int zt_client_login(zt_client *c, uint32_t app_id, const char *room_id, const char *user_id,
                    const char *token, bool user_update, zego_msg *reply)
{
    zego_msg req;
    zego_msg_init(&req, ZEGO_MSG_LOGIN);
    req.u.login.version = ZEGO_PROTOCOL_VERSION;
    req.u.login.app_id = app_id;
    snprintf(req.u.login.room_id, sizeof req.u.login.room_id, "%s", room_id);
    snprintf(req.u.login.user_id, sizeof req.u.login.user_id, "%s", user_id);
    snprintf(req.u.login.user_name, sizeof req.u.login.user_name, "%s", user_id);
    snprintf(req.u.login.token, sizeof req.u.login.token, "%s", token ? token : "");
    req.u.login.user_update = user_update;
    zego_msg local;
    int rc = zt_client_request(c, &req, reply ? reply : &local, 5000);
    if (!reply && rc >= 0)
        zego_msg_clear(&local);
    return rc;
}
