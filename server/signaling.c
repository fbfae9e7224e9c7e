/* The signaling protocol (zego-signal.v1): sessions, rooms, users and the
 * requests and events of docs/protocol.md.
 *
 * A session outlives its socket: when the socket drops, the session keeps its
 * place, its streams and its plays for the reconnect window, and a login with
 * its session id and resume token picks it up again without any room event.
 * Messages for a detached session are dropped; a resumed client reconciles
 * with the lists in its login reply. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "server.h"

#define MAX_PUBLISHES_PER_SESSION 16
#define MAX_PLAYS_PER_SESSION     64
#define MESSAGES_PER_SECOND       10.0
#define TOKEN_WARNING_S           30

/* ---- Sending ---- */

static void conn_close_after_send(zs_conn *c, int code)
{
    c->close_after_send = true;
    c->close_code = code;
    lws_callback_on_writable(c->wsi);
}

static void conn_send(zs_conn *c, const zego_msg *msg)
{
    if (!c || c->close_after_send)
        return;
    zego_error err;
    size_t len;
    char *text = zego_msg_encode(msg, &len, &err);
    if (!text) {
        zs_log(c->srv, ZS_LOG_ERROR, "could not encode %s: %s", zego_msg_type_name(msg->type),
               err.message);
        return;
    }
    if (c->out.bytes + len > c->srv->cfg.signal_queue_bytes) {
        free(text);
        zs_log(c->srv, ZS_LOG_WARN, "signaling client %s does not read; closing it",
               c->session ? c->session->user.user_id : "(not logged in)");
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
        return;
    }
    zs_buf *b = zs_buf_new(len);
    if (b) {
        b->text = true;
        memcpy(b->data + LWS_PRE, text, len);
        if (zs_queue_push(&c->out, b, 1u << 16))
            lws_callback_on_writable(c->wsi);
        zs_buf_unref(b);
    }
    free(text);
}

static void send_error_reply(zs_conn *c, const zego_msg *req, const zego_error *err)
{
    zego_msg reply;
    zego_msg_init_error_reply(&reply, req, err);
    conn_send(c, &reply);
}

static void send_error_event(zs_conn *c, const zego_error *err)
{
    zego_msg ev;
    zego_msg_init(&ev, ZEGO_MSG_ERROR);
    ev.u.notice.code = err->code;
    snprintf(ev.u.notice.message, sizeof ev.u.notice.message, "%s", err->message);
    conn_send(c, &ev);
}

/* Sends msg to every member of room with a connection except `except`;
 * user events only to members that asked for them. */
static void room_send(zs_room *room, const zs_session *except, const zego_msg *msg, bool user_event)
{
    for (zs_session *s = room->members; s; s = s->room_next) {
        if (s != except && s->conn && (!user_event || s->user_update))
            conn_send(s->conn, msg);
    }
}

static void room_user_event(zs_room *room, zs_session *who, zego_update_type update,
                            zego_delete_reason reason)
{
    zego_msg ev;
    zego_msg_init(&ev, ZEGO_MSG_USER_UPDATE);
    snprintf(ev.u.user_update.room_id, sizeof ev.u.user_update.room_id, "%s", room->room_id);
    ev.u.user_update.update = update;
    ev.u.user_update.reason = reason;
    ev.u.user_update.users = &who->user;
    ev.u.user_update.n_users = 1;
    room_send(room, who, &ev, true);
}

static void describe_stream(const zs_channel *ch, zego_stream *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->stream_id, sizeof out->stream_id, "%s", ch->stream_id);
    if (ch->owner) {
        snprintf(out->user_id, sizeof out->user_id, "%s", ch->owner->user.user_id);
        snprintf(out->user_name, sizeof out->user_name, "%s", ch->owner->user.user_name);
    }
    snprintf(out->extra_info, sizeof out->extra_info, "%s", ch->extra_info);
}

static void room_stream_event(zs_room *room, const zs_channel *ch, zego_msg_type type,
                              zego_update_type update, zego_delete_reason reason)
{
    zego_stream desc;
    describe_stream(ch, &desc);
    zego_msg ev;
    zego_msg_init(&ev, type);
    snprintf(ev.u.stream_update.room_id, sizeof ev.u.stream_update.room_id, "%s", room->room_id);
    ev.u.stream_update.update = update;
    ev.u.stream_update.reason = reason;
    ev.u.stream_update.streams = &desc;
    ev.u.stream_update.n_streams = 1;
    room_send(room, NULL, &ev, false);
}

void zs_room_announce_stream(zs_channel *ch)
{
    if (ch->room && ch->owner && !ch->announced) {
        ch->announced = true;
        room_stream_event(ch->room, ch, ZEGO_MSG_STREAM_UPDATE, ZEGO_UPDATE_ADD, ZEGO_REASON_NONE);
    }
}

/* ---- Sessions and rooms ---- */

static void random_token(char *out, size_t out_size, size_t n_bytes)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t raw[32];
    if (n_bytes > sizeof raw)
        n_bytes = sizeof raw;
    if (RAND_bytes(raw, (int)n_bytes) != 1)
        abort(); /* no CSPRNG: nothing here can be made safe */
    size_t o = 0;
    for (size_t i = 0; i < n_bytes && o + 2 < out_size; i++) {
        out[o++] = hex[raw[i] >> 4];
        out[o++] = hex[raw[i] & 15];
    }
    out[o] = '\0';
}

static zs_room *room_get(zs_server *srv, uint32_t app_id, const char *room_id, bool create,
                         zego_error *err)
{
    char key[16 + ZEGO_ROOM_ID_SIZE];
    snprintf(key, sizeof key, "%" PRIu32 "/%s", app_id, room_id);
    zs_room *room = zs_map_get(&srv->rooms, key);
    if (room || !create)
        return room;
    if (srv->rooms.count >= srv->cfg.max_rooms) {
        zego_error_set(err, ZEGO_ERR_SERVER_FULL,
                       "the server already has %u rooms, its limit (--max-rooms)",
                       srv->cfg.max_rooms);
        return NULL;
    }
    room = calloc(1, sizeof *room);
    if (!room || !zs_map_put(&srv->rooms, key, room)) {
        free(room);
        zego_error_set(err, ZEGO_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    room->app_id = app_id;
    snprintf(room->room_id, sizeof room->room_id, "%s", room_id);
    snprintf(room->key, sizeof room->key, "%s", key);
    room->max_members = srv->cfg.max_users_per_room;
    return room;
}

static void room_remove_member(zs_server *srv, zs_session *s)
{
    zs_room *room = s->room;
    if (!room)
        return;
    if (s->room_prev)
        s->room_prev->room_next = s->room_next;
    else
        room->members = s->room_next;
    if (s->room_next)
        s->room_next->room_prev = s->room_prev;
    s->room_next = s->room_prev = NULL;
    room->n_members--;
    s->room = NULL;
    if (room->n_members == 0) {
        zs_map_remove(&srv->rooms, room->key);
        free(room);
    }
}

/* Ends a stream's publication: others are told, the publisher socket closed;
 * players stay and wait for the stream to come back. */
static void unpublish(zs_channel *ch, zego_delete_reason reason)
{
    /* On the play sockets first: players learn of the end after the last
     * frame, whichever socket they read first. */
    zs_channel_tell_players_end(ch);
    if (ch->announced && ch->room)
        room_stream_event(ch->room, ch, ZEGO_MSG_STREAM_UPDATE, ZEGO_UPDATE_DELETE, reason);
    ch->announced = false;
    ch->owner = NULL;
    ch->room = NULL;
    zs_channel_end_publish(ch, LWS_CLOSE_STATUS_NORMAL, "stream unpublished");
    zs_channel_maybe_free(ch);
}

void zs_stream_unpublish(zs_channel *ch)
{
    unpublish(ch, ZEGO_REASON_UNPUBLISH);
}

/* Removes a session with everything it owns, telling the room why. */
static void session_remove(zs_session *s, zego_delete_reason reason)
{
    zs_server *srv = s->srv;
    /* Collect first: unpublishing may free channels while we iterate. */
    zs_channel *owned[MAX_PUBLISHES_PER_SESSION + 1];
    size_t n = 0;
    for (zs_map_iter it = zs_map_first(&srv->channels); it.entry;
         zs_map_next(&srv->channels, &it)) {
        zs_channel *ch = it.entry->value;
        if (ch->owner == s && n < MAX_PUBLISHES_PER_SESSION + 1)
            owned[n++] = ch;
    }
    for (size_t i = 0; i < n; i++)
        unpublish(owned[i], reason);
    zs_media_stop_plays(srv, s->session_id, NULL);

    if (s->room) {
        room_user_event(s->room, s, ZEGO_UPDATE_DELETE, reason);
        room_remove_member(srv, s);
    }
    zs_map_remove(&srv->sessions, s->session_id);
    if (zs_map_get(&srv->users, s->user_key) == s)
        zs_map_remove(&srv->users, s->user_key);
    if (s->conn)
        s->conn->session = NULL;
    zego_token04_info_clear(&s->token);
    zs_map_free(&s->plays);
    free(s);
}

static const zs_app *find_app(const zs_server *srv, uint32_t app_id)
{
    for (size_t i = 0; i < srv->cfg.n_apps; i++) {
        if (srv->cfg.apps[i].app_id == app_id)
            return &srv->cfg.apps[i];
    }
    return NULL;
}

/* Verifies a token for a login or renewal; in open mode everything passes. */
static int check_token(zs_server *srv, uint32_t app_id, const char *user_id, const char *room_id,
                       const char *token, zego_token04_info *info, zego_error *err)
{
    memset(info, 0, sizeof *info);
    if (srv->cfg.open_mode)
        return ZEGO_ERR_OK;
    const zs_app *app = find_app(srv, app_id);
    if (!app)
        return zego_error_set(err, ZEGO_ERR_AUTHENTICATION_FAILED,
                              "app id %" PRIu32 " is not configured on this server", app_id);
    int rc = zego_token04_verify(token, app_id, app->secret, user_id, 0, info, err);
    if (rc == ZEGO_ERR_OK)
        rc = zego_token04_check_login(info, room_id, err);
    if (rc != ZEGO_ERR_OK)
        zego_token04_info_clear(info);
    return rc;
}

static void media_url(const zs_conn *c, zego_media_role role, char *out, size_t out_size)
{
    const char *path = role == ZEGO_ROLE_PLAY ? "/media/play" : "/media/publish";
    if (c->srv->cfg.public_url)
        snprintf(out, out_size, "%s%s", c->srv->cfg.public_url, path);
    else
        snprintf(out, out_size, "%s://%s%s", c->tls ? "wss" : "ws", c->host, path);
}

static int make_media_reply(zs_conn *c, zs_channel *ch, zego_media_role role, zego_msg *reply,
                            zego_error *err)
{
    zs_session *s = c->session;
    zs_ticket_claims claims = {.role = role, .app_id = s->app_id};
    snprintf(claims.node, sizeof claims.node, "%s", c->srv->node_id);
    snprintf(claims.stream_id, sizeof claims.stream_id, "%s", ch->stream_id);
    snprintf(claims.session_id, sizeof claims.session_id, "%s", s->session_id);
    claims.exp_ms = zs_wall_ms() + 30000;
    zego_media_reply *r = &reply->u.media_reply;
    int rc = zs_ticket_make(c->srv->ticket_secret, &claims, r->media.ticket, err);
    if (rc)
        return rc;
    snprintf(r->stream_id, sizeof r->stream_id, "%s", ch->stream_id);
    media_url(c, role, r->media.url, sizeof r->media.url);
    r->media.expires_ms = claims.exp_ms;
    r->published = ch->announced;
    return ZEGO_ERR_OK;
}

/* ---- Requests ---- */

static void attach(zs_conn *c, zs_session *s)
{
    if (s->conn && s->conn != c) {
        /* The old socket is a ghost the client gave up on: drop it quietly. */
        s->conn->session = NULL;
        lws_set_timeout(s->conn->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
    }
    s->conn = c;
    s->detached_us = 0;
    c->session = s;
    random_token(s->resume_token, sizeof s->resume_token, 24);
}

static void fill_login_reply(zs_conn *c, zs_session *s, bool resumed, zego_msg *reply)
{
    zs_server *srv = c->srv;
    zego_login_reply *r = &reply->u.login_reply;
    snprintf(r->room_id, sizeof r->room_id, "%s", s->room->room_id);
    snprintf(r->session_id, sizeof r->session_id, "%s", s->session_id);
    snprintf(r->resume_token, sizeof r->resume_token, "%s", s->resume_token);
    r->resumed = resumed;
    r->heartbeat_interval_ms = srv->cfg.heartbeat_interval_ms;
    r->reconnect_window_ms = srv->cfg.reconnect_window_ms;
    r->server_time_ms = zs_wall_ms();
    r->token_expire = s->token_expire;

    r->users = calloc(s->room->n_members, sizeof *r->users);
    for (zs_session *m = s->room->members; m && r->users; m = m->room_next) {
        if (m != s && r->n_users < ZEGO_MAX_USERS_LISTED)
            r->users[r->n_users++] = m->user;
    }
    size_t cap = 0;
    for (zs_map_iter it = zs_map_first(&srv->channels); it.entry;
         zs_map_next(&srv->channels, &it)) {
        zs_channel *ch = it.entry->value;
        if (ch->room != s->room || !ch->announced || r->n_streams >= ZEGO_MAX_STREAMS_LISTED)
            continue;
        if (r->n_streams == cap) {
            cap = cap ? cap * 2 : 8;
            zego_stream *grown = realloc(r->streams, cap * sizeof *grown);
            if (!grown)
                break;
            r->streams = grown;
        }
        describe_stream(ch, &r->streams[r->n_streams++]);
    }
}

static int handle_login(zs_conn *c, const zego_msg *req, zego_msg *reply, zego_error *err)
{
    zs_server *srv = c->srv;
    const zego_login_req *l = &req->u.login;
    if (c->session)
        return zego_error_set(err, ZEGO_ERR_PROTOCOL_BAD_STATE,
                              "this socket is already logged in; log out first or open "
                              "another socket");
    if (srv->shutting_down)
        return zego_error_set(err, ZEGO_ERR_SERVER_SHUTTING_DOWN, "the server is shutting down");

    zego_token04_info token;
    int rc = check_token(srv, l->app_id, l->user_id, l->room_id, l->token, &token, err);
    if (rc) {
        srv->metrics.auth_failures++;
        return rc;
    }

    if (l->session_id[0]) {
        zs_session *s = zs_map_get(&srv->sessions, l->session_id);
        if (!s || s->app_id != l->app_id || strcmp(s->user.user_id, l->user_id) != 0 ||
            strcmp(s->room->room_id, l->room_id) != 0 ||
            strlen(s->resume_token) != strlen(l->resume_token) ||
            CRYPTO_memcmp(s->resume_token, l->resume_token, strlen(s->resume_token)) != 0) {
            zego_token04_info_clear(&token);
            return zego_error_set(err, ZEGO_ERR_SESSION_EXPIRED,
                                  "session %.32s is unknown or expired; log in without "
                                  "session_id",
                                  l->session_id);
        }
        zego_token04_info_clear(&s->token);
        s->token = token;
        s->has_token = !srv->cfg.open_mode;
        s->token_expire = s->has_token ? token.expire : 0;
        s->token_warned = false;
        if (l->user_name[0])
            snprintf(s->user.user_name, sizeof s->user.user_name, "%s", l->user_name);
        attach(c, s);
        fill_login_reply(c, s, true, reply);
        zs_log(srv, ZS_LOG_INFO, "user %s resumed session %s in room %s", s->user.user_id,
               s->session_id, s->room->room_id);
        return ZEGO_ERR_OK;
    }

    char user_key[16 + ZEGO_USER_ID_SIZE];
    snprintf(user_key, sizeof user_key, "%" PRIu32 "/%s", l->app_id, l->user_id);
    zs_session *old = zs_map_get(&srv->users, user_key);
    if (old) {
        zs_log(srv, ZS_LOG_INFO, "user %s logged in again; the older session is kicked out",
               l->user_id);
        if (old->conn) {
            zego_msg ev;
            zego_msg_init(&ev, ZEGO_MSG_KICKED_OUT);
            snprintf(ev.u.notice.room_id, sizeof ev.u.notice.room_id, "%s", old->room->room_id);
            ev.u.notice.code = ZEGO_ERR_KICKED_OUT;
            snprintf(ev.u.notice.message, sizeof ev.u.notice.message,
                     "user id %s logged in elsewhere", l->user_id);
            conn_send(old->conn, &ev);
            conn_close_after_send(old->conn, LWS_CLOSE_STATUS_POLICY_VIOLATION);
        }
        session_remove(old, ZEGO_REASON_KICKED_OUT);
    }

    zs_room *room = room_get(srv, l->app_id, l->room_id, true, err);
    if (!room) {
        zego_token04_info_clear(&token);
        return err->code;
    }
    if (room->n_members == 0 && l->max_member_count && l->max_member_count < room->max_members)
        room->max_members = l->max_member_count;
    if (room->n_members >= room->max_members) {
        zego_token04_info_clear(&token);
        if (room->n_members == 0) {
            zs_map_remove(&srv->rooms, room->key);
            free(room);
        }
        return zego_error_set(err, ZEGO_ERR_ROOM_FULL, "room %s is full (%u users)", l->room_id,
                              room->max_members);
    }

    zs_session *s = calloc(1, sizeof *s);
    if (!s) {
        zego_token04_info_clear(&token);
        return zego_error_set(err, ZEGO_ERR_INTERNAL, "out of memory");
    }
    s->srv = srv;
    random_token(s->session_id, sizeof s->session_id, 16);
    s->app_id = l->app_id;
    snprintf(s->user.user_id, sizeof s->user.user_id, "%s", l->user_id);
    snprintf(s->user.user_name, sizeof s->user.user_name, "%s", l->user_name);
    snprintf(s->user_key, sizeof s->user_key, "%s", user_key);
    s->user_update = l->user_update;
    s->token = token;
    s->has_token = !srv->cfg.open_mode;
    s->token_expire = s->has_token ? token.expire : 0;
    s->msg_tokens = MESSAGES_PER_SECOND;
    s->msg_tokens_us = zs_now_us();
    zs_map_init(&s->plays);
    zs_map_put(&srv->sessions, s->session_id, s);
    zs_map_put(&srv->users, s->user_key, s);

    s->room = room;
    s->room_next = room->members;
    if (room->members)
        room->members->room_prev = s;
    room->members = s;
    room->n_members++;
    attach(c, s);

    fill_login_reply(c, s, false, reply);
    room_user_event(room, s, ZEGO_UPDATE_ADD, ZEGO_REASON_NONE);
    zs_log(srv, ZS_LOG_INFO, "user %s logged into room %s (app %" PRIu32 ", %u users)",
           s->user.user_id, room->room_id, s->app_id, room->n_members);
    return ZEGO_ERR_OK;
}

static int handle_renew_token(zs_conn *c, const zego_msg *req, zego_msg *reply, zego_error *err)
{
    zs_session *s = c->session;
    zego_token04_info token;
    int rc = check_token(c->srv, s->app_id, s->user.user_id, s->room->room_id,
                         req->u.renew_token.token, &token, err);
    if (rc) {
        c->srv->metrics.auth_failures++;
        return rc;
    }
    zego_token04_info_clear(&s->token);
    s->token = token;
    s->token_expire = s->has_token ? token.expire : 0;
    s->token_warned = false;
    reply->u.renew_token_reply.token_expire = s->token_expire;
    return ZEGO_ERR_OK;
}

static size_t count_owned(zs_server *srv, zs_session *s)
{
    size_t n = 0;
    for (zs_map_iter it = zs_map_first(&srv->channels); it.entry; zs_map_next(&srv->channels, &it))
        n += ((zs_channel *)it.entry->value)->owner == s;
    return n;
}

static int handle_publish(zs_conn *c, const zego_msg *req, zego_msg *reply, zego_error *err)
{
    zs_server *srv = c->srv;
    zs_session *s = c->session;
    const zego_publish_req *p = &req->u.publish;
    if (s->has_token) {
        int rc = zego_token04_check_publish(&s->token, s->room->room_id, p->stream_id, err);
        if (rc)
            return rc;
    }
    zs_channel *ch = zs_channel_get(srv, s->app_id, p->stream_id, false);
    if (ch && ch->owner && ch->owner != s)
        return zego_error_set(err, ZEGO_ERR_STREAM_ALREADY_PUBLISHED,
                              "stream %s is already published by user %s", p->stream_id,
                              ch->owner->user.user_id);
    if ((!ch || ch->owner != s) && count_owned(srv, s) >= MAX_PUBLISHES_PER_SESSION)
        return zego_error_set(err, ZEGO_ERR_PROTOCOL_OUT_OF_RANGE,
                              "a session publishes at most %d streams", MAX_PUBLISHES_PER_SESSION);
    if (!ch && !(ch = zs_channel_get(srv, s->app_id, p->stream_id, true)))
        return zego_error_set(err, ZEGO_ERR_INTERNAL, "out of memory");
    ch->owner = s;
    ch->room = s->room;
    snprintf(ch->extra_info, sizeof ch->extra_info, "%s", p->extra_info);
    return make_media_reply(c, ch, ZEGO_ROLE_PUBLISH, reply, err);
}

static zs_channel *owned_channel(zs_conn *c, const char *stream_id, zego_error *err)
{
    zs_channel *ch = zs_channel_get(c->srv, c->session->app_id, stream_id, false);
    if (!ch || ch->owner != c->session) {
        zego_error_set(err, ZEGO_ERR_STREAM_NOT_FOUND, "you do not publish stream %s", stream_id);
        return NULL;
    }
    return ch;
}

static int handle_unpublish(zs_conn *c, const zego_msg *req, zego_msg *reply, zego_error *err)
{
    zs_channel *ch = owned_channel(c, req->u.stream.stream_id, err);
    if (!ch)
        return err->code;
    snprintf(reply->u.stream_reply.stream_id, sizeof reply->u.stream_reply.stream_id, "%s",
             req->u.stream.stream_id);
    unpublish(ch, ZEGO_REASON_UNPUBLISH);
    return ZEGO_ERR_OK;
}

static int handle_play(zs_conn *c, const zego_msg *req, zego_msg *reply, zego_error *err)
{
    zs_session *s = c->session;
    const char *stream_id = req->u.stream.stream_id;
    if (!zs_map_get(&s->plays, stream_id) && s->plays.count >= MAX_PLAYS_PER_SESSION)
        return zego_error_set(err, ZEGO_ERR_PROTOCOL_OUT_OF_RANGE,
                              "a session plays at most %d streams", MAX_PLAYS_PER_SESSION);
    zs_channel *ch = zs_channel_get(c->srv, s->app_id, stream_id, true);
    if (!ch || !zs_map_put(&s->plays, stream_id, s))
        return zego_error_set(err, ZEGO_ERR_INTERNAL, "out of memory");
    return make_media_reply(c, ch, ZEGO_ROLE_PLAY, reply, err);
}

static int handle_stop_play(zs_conn *c, const zego_msg *req, zego_msg *reply, zego_error *err)
{
    zs_session *s = c->session;
    const char *stream_id = req->u.stream.stream_id;
    if (!zs_map_remove(&s->plays, stream_id))
        return zego_error_set(err, ZEGO_ERR_STREAM_NOT_FOUND, "you do not play stream %s",
                              stream_id);
    zs_media_stop_plays(c->srv, s->session_id, stream_id);
    zs_channel *ch = zs_channel_get(c->srv, s->app_id, stream_id, false);
    if (ch)
        zs_channel_maybe_free(ch);
    snprintf(reply->u.stream_reply.stream_id, sizeof reply->u.stream_reply.stream_id, "%s",
             stream_id);
    return ZEGO_ERR_OK;
}

static int handle_set_extra_info(zs_conn *c, const zego_msg *req, zego_msg *reply, zego_error *err)
{
    const zego_publish_req *p = &req->u.set_stream_extra_info;
    zs_channel *ch = owned_channel(c, p->stream_id, err);
    if (!ch)
        return err->code;
    snprintf(ch->extra_info, sizeof ch->extra_info, "%s", p->extra_info);
    if (ch->announced)
        room_stream_event(ch->room, ch, ZEGO_MSG_STREAM_EXTRA_INFO_UPDATE, ZEGO_UPDATE_ADD,
                          ZEGO_REASON_NONE);
    snprintf(reply->u.stream_reply.stream_id, sizeof reply->u.stream_reply.stream_id, "%s",
             p->stream_id);
    return ZEGO_ERR_OK;
}

static int take_message_token(zs_session *s, zego_error *err)
{
    int64_t now = zs_now_us();
    s->msg_tokens += (double)(now - s->msg_tokens_us) / 1e6 * MESSAGES_PER_SECOND;
    if (s->msg_tokens > MESSAGES_PER_SECOND)
        s->msg_tokens = MESSAGES_PER_SECOND;
    s->msg_tokens_us = now;
    if (s->msg_tokens < 1.0)
        return zego_error_set(err, ZEGO_ERR_RATE_LIMITED,
                              "more than %.0f messages a second; slow down", MESSAGES_PER_SECOND);
    s->msg_tokens -= 1.0;
    return ZEGO_ERR_OK;
}

static void fill_message_event(zs_session *s, zego_msg *ev, zego_msg_type type, const char *text)
{
    zego_msg_init(ev, type);
    snprintf(ev->u.message.room_id, sizeof ev->u.message.room_id, "%s", s->room->room_id);
    ev->u.message.from = s->user;
    snprintf(ev->u.message.message, sizeof ev->u.message.message, "%s", text);
    ev->u.message.send_time_ms = zs_wall_ms();
}

static int handle_broadcast(zs_conn *c, const zego_msg *req, zego_msg *reply, zego_error *err)
{
    zs_session *s = c->session;
    int rc = take_message_token(s, err);
    if (rc)
        return rc;
    zego_msg ev;
    fill_message_event(s, &ev, ZEGO_MSG_BROADCAST_MESSAGE, req->u.send_message.message);
    ev.u.message.message_id = ++c->srv->next_message_id;
    room_send(s->room, s, &ev, false);
    reply->u.send_message_reply.message_id = ev.u.message.message_id;
    return ZEGO_ERR_OK;
}

static int handle_custom_command(zs_conn *c, const zego_msg *req, zego_msg *reply, zego_error *err)
{
    (void)reply;
    zs_session *s = c->session;
    const zego_send_message_req *m = &req->u.send_message;
    zs_session *to[ZEGO_MAX_COMMAND_USERS];
    for (size_t i = 0; i < m->n_to_user_ids; i++) {
        char key[16 + ZEGO_USER_ID_SIZE];
        snprintf(key, sizeof key, "%" PRIu32 "/%s", s->app_id, m->to_user_ids[i]);
        to[i] = zs_map_get(&c->srv->users, key);
        if (!to[i] || to[i]->room != s->room)
            return zego_error_set(err, ZEGO_ERR_USER_NOT_FOUND, "user %s is not in room %s",
                                  m->to_user_ids[i], s->room->room_id);
    }
    int rc = take_message_token(s, err);
    if (rc)
        return rc;
    zego_msg ev;
    fill_message_event(s, &ev, ZEGO_MSG_CUSTOM_COMMAND, m->message);
    if (m->n_to_user_ids == 0) {
        room_send(s->room, s, &ev, false);
    } else {
        for (size_t i = 0; i < m->n_to_user_ids; i++)
            conn_send(to[i]->conn, &ev);
    }
    return ZEGO_ERR_OK;
}

static int handle_media_ticket(zs_conn *c, const zego_msg *req, zego_msg *reply, zego_error *err)
{
    zs_session *s = c->session;
    const zego_media_ticket_req *t = &req->u.media_ticket;
    zs_channel *ch;
    if (t->role == ZEGO_ROLE_PUBLISH) {
        if (!(ch = owned_channel(c, t->stream_id, err)))
            return err->code;
    } else {
        if (!zs_map_get(&s->plays, t->stream_id))
            return zego_error_set(err, ZEGO_ERR_STREAM_NOT_FOUND,
                                  "you do not play stream %s; send play first", t->stream_id);
        if (!(ch = zs_channel_get(c->srv, s->app_id, t->stream_id, true)))
            return zego_error_set(err, ZEGO_ERR_INTERNAL, "out of memory");
    }
    return make_media_reply(c, ch, t->role, reply, err);
}

static void handle_message(zs_conn *c, const char *text, size_t len)
{
    zs_server *srv = c->srv;
    zego_msg req;
    zego_error err;
    srv->metrics.signal_messages_in++;
    int rc = zego_msg_decode(text, len, ZEGO_CLIENT_MESSAGE_MAX, &req, &err);
    if (rc == ZEGO_ERR_OK && !zego_msg_type_is_request(req.type))
        rc = zego_error_set(&err, ZEGO_ERR_PROTOCOL_UNKNOWN_TYPE,
                            "%s is not a request a client can send", zego_msg_type_name(req.type));
    if (rc != ZEGO_ERR_OK) {
        srv->metrics.protocol_errors++;
        if (zego_msg_type_is_request(req.type) && req.seq)
            send_error_reply(c, &req, &err);
        else
            send_error_event(c, &err);
        zego_msg_clear(&req);
        return;
    }

    zego_msg reply;
    zego_msg_init_reply(&reply, &req);
    if (!c->session && req.type != ZEGO_MSG_LOGIN && req.type != ZEGO_MSG_HEARTBEAT) {
        rc = zego_error_set(&err, ZEGO_ERR_NOT_LOGGED_IN, "log into a room before %s",
                            zego_msg_type_name(req.type));
    } else {
        switch (req.type) {
        case ZEGO_MSG_LOGIN:
            rc = handle_login(c, &req, &reply, &err);
            break;
        case ZEGO_MSG_LOGOUT:
            rc = ZEGO_ERR_OK;
            break;
        case ZEGO_MSG_HEARTBEAT:
            reply.u.heartbeat_reply.client_time_ms = req.u.heartbeat.client_time_ms;
            reply.u.heartbeat_reply.server_time_ms = zs_wall_ms();
            rc = ZEGO_ERR_OK;
            break;
        case ZEGO_MSG_RENEW_TOKEN:
            rc = handle_renew_token(c, &req, &reply, &err);
            break;
        case ZEGO_MSG_PUBLISH:
            rc = handle_publish(c, &req, &reply, &err);
            break;
        case ZEGO_MSG_UNPUBLISH:
            rc = handle_unpublish(c, &req, &reply, &err);
            break;
        case ZEGO_MSG_PLAY:
            rc = handle_play(c, &req, &reply, &err);
            break;
        case ZEGO_MSG_STOP_PLAY:
            rc = handle_stop_play(c, &req, &reply, &err);
            break;
        case ZEGO_MSG_SET_STREAM_EXTRA_INFO:
            rc = handle_set_extra_info(c, &req, &reply, &err);
            break;
        case ZEGO_MSG_SEND_BROADCAST_MESSAGE:
            rc = handle_broadcast(c, &req, &reply, &err);
            break;
        case ZEGO_MSG_SEND_CUSTOM_COMMAND:
            rc = handle_custom_command(c, &req, &reply, &err);
            break;
        case ZEGO_MSG_MEDIA_TICKET:
            rc = handle_media_ticket(c, &req, &reply, &err);
            break;
        default:
            rc = zego_error_set(&err, ZEGO_ERR_PROTOCOL_UNKNOWN_TYPE, "unhandled request");
            break;
        }
    }
    if (rc != ZEGO_ERR_OK) {
        zego_msg_clear(&reply);
        send_error_reply(c, &req, &err);
    } else {
        conn_send(c, &reply);
        zego_msg_clear(&reply);
        if (req.type == ZEGO_MSG_LOGOUT && c->session) {
            zs_session *s = c->session;
            zs_log(srv, ZS_LOG_INFO, "user %s logged out of room %s", s->user.user_id,
                   s->room->room_id);
            session_remove(s, ZEGO_REASON_LOGOUT);
            conn_close_after_send(c, LWS_CLOSE_STATUS_NORMAL);
        }
    }
    zego_msg_clear(&req);
}

/* ---- The lws protocol ---- */

static void conn_unlink(zs_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else if (c->srv->conns == c)
        c->srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->next = c->prev = NULL;
}

static int callback_signaling(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                              void *in, size_t len)
{
    zs_conn *c = user;
    zs_server *srv = lws_context_user(lws_get_context(wsi));

    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
        memset(c, 0, sizeof *c);
        c->srv = srv;
        c->wsi = wsi;
        c->connected_us = c->last_seen_us = zs_now_us();
        c->tls = lws_is_ssl(wsi);
        if (lws_hdr_copy(wsi, c->host, sizeof c->host, WSI_TOKEN_HOST) <= 0)
            snprintf(c->host, sizeof c->host, "127.0.0.1:%d", srv->bound_port);
        c->next = srv->conns;
        if (srv->conns)
            srv->conns->prev = c;
        srv->conns = c;
        srv->n_conns++;
        srv->metrics.connections_total++;
        zs_apply_sndbuf(srv, wsi);
        break;

    case LWS_CALLBACK_RECEIVE: {
        c->last_seen_us = zs_now_us();
        srv->metrics.bytes_in += len;
        if (lws_frame_is_binary(wsi)) {
            zego_error err;
            zego_error_set(&err, ZEGO_ERR_PROTOCOL_MALFORMED,
                           "signaling messages are text frames, not binary");
            send_error_event(c, &err);
            break;
        }
        bool first = lws_is_first_fragment(wsi), final = lws_is_final_fragment(wsi);
        if (first && final) {
            handle_message(c, in, len);
            break;
        }
        if (first)
            c->rx_len = 0;
        if (c->rx_len + len > ZEGO_CLIENT_MESSAGE_MAX) {
            zego_error err;
            zego_error_set(&err, ZEGO_ERR_PROTOCOL_TOO_LARGE,
                           "message is over %d bytes; the limit is %d", ZEGO_CLIENT_MESSAGE_MAX,
                           ZEGO_CLIENT_MESSAGE_MAX);
            send_error_event(c, &err);
            srv->metrics.protocol_errors++;
            c->rx_len = SIZE_MAX / 2; /* swallow the rest of this message */
            break;
        }
        if (c->rx_len <= ZEGO_CLIENT_MESSAGE_MAX) {
            if (!c->rx && !(c->rx = malloc(ZEGO_CLIENT_MESSAGE_MAX)))
                return -1;
            memcpy(c->rx + c->rx_len, in, len);
            c->rx_len += len;
            if (final)
                handle_message(c, c->rx, c->rx_len);
        }
        if (final)
            c->rx_len = 0;
        break;
    }

    case LWS_CALLBACK_SERVER_WRITEABLE: {
        zs_buf *b = zs_queue_pop(&c->out);
        if (b) {
            int n = lws_write(wsi, b->data + LWS_PRE, b->len, LWS_WRITE_TEXT);
            srv->metrics.bytes_out += b->len;
            srv->metrics.signal_messages_out++;
            zs_buf_unref(b);
            if (n < 0)
                return -1;
        }
        if (c->out.count) {
            lws_callback_on_writable(wsi);
        } else if (c->close_after_send) {
            lws_close_reason(wsi, (enum lws_close_status)c->close_code, NULL, 0);
            return -1;
        }
        break;
    }

    case LWS_CALLBACK_CLOSED:
        conn_unlink(c);
        srv->n_conns--;
        if (c->session) {
            zs_session *s = c->session;
            s->conn = NULL;
            s->detached_us = zs_now_us();
            zs_log(srv, ZS_LOG_INFO, "user %s lost its connection; its session is kept for %u ms",
                   s->user.user_id, srv->cfg.reconnect_window_ms);
        }
        zs_queue_clear(&c->out);
        free(c->rx);
        c->rx = NULL;
        break;

    default:
        break;
    }
    return 0;
}

const struct lws_protocols zs_signaling_protocol = {
    .name = ZEGO_SUBPROTOCOL_SIGNALING,
    .callback = callback_signaling,
    .per_session_data_size = sizeof(zs_conn),
    /* Small: every session has one, and longer messages are reassembled. */
    .rx_buffer_size = 4096,
    .tx_packet_size = 0,
};

/* ---- Timers ---- */

void zs_signaling_tick(zs_server *srv)
{
    int64_t now = zs_now_us();
    for (zs_conn *c = srv->conns; c; c = c->next) {
        if (!c->session && now - c->connected_us > (int64_t)srv->cfg.login_timeout_ms * 1000) {
            lws_set_timeout(c->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
        } else if (now - c->last_seen_us > (int64_t)srv->cfg.heartbeat_timeout_ms * 1000) {
            zs_log(srv, ZS_LOG_INFO, "no heartbeat from %s for %u ms; dropping the connection",
                   c->session ? c->session->user.user_id : "a client",
                   srv->cfg.heartbeat_timeout_ms);
            c->last_seen_us = now; /* once */
            lws_set_timeout(c->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
        }
    }

    zs_session *expired[256];
    size_t n = 0;
    int64_t wall_s = zs_wall_ms() / 1000;
    for (zs_map_iter it = zs_map_first(&srv->sessions); it.entry;
         zs_map_next(&srv->sessions, &it)) {
        zs_session *s = it.entry->value;
        if (!s->conn && now - s->detached_us > (int64_t)srv->cfg.reconnect_window_ms * 1000) {
            if (n < sizeof expired / sizeof expired[0])
                expired[n++] = s;
        } else if (s->conn && s->token_expire && !s->token_warned &&
                   s->token_expire - wall_s <= TOKEN_WARNING_S) {
            s->token_warned = true;
            zego_msg ev;
            zego_msg_init(&ev, ZEGO_MSG_TOKEN_WILL_EXPIRE);
            snprintf(ev.u.token_will_expire.room_id, sizeof ev.u.token_will_expire.room_id, "%s",
                     s->room->room_id);
            int64_t left = s->token_expire - wall_s;
            ev.u.token_will_expire.remaining_s = left > 0 ? (uint32_t)left : 0;
            conn_send(s->conn, &ev);
        }
    }
    for (size_t i = 0; i < n; i++) {
        zs_log(srv, ZS_LOG_INFO, "user %s did not come back within %u ms; removed",
               expired[i]->user.user_id, srv->cfg.reconnect_window_ms);
        session_remove(expired[i], ZEGO_REASON_TIMEOUT);
    }
}

void zs_signaling_shutdown(zs_server *srv)
{
    zego_msg ev;
    zego_msg_init(&ev, ZEGO_MSG_GOING_AWAY);
    ev.u.notice.code = ZEGO_ERR_SERVER_SHUTTING_DOWN;
    snprintf(ev.u.notice.message, sizeof ev.u.notice.message, "the server is shutting down");
    ev.u.notice.reconnect_after_ms = 1000;
    for (zs_conn *c = srv->conns; c; c = c->next) {
        conn_send(c, &ev);
        conn_close_after_send(c, LWS_CLOSE_STATUS_GOINGAWAY);
    }
}

void zs_sessions_free(zs_server *srv)
{
    zs_session *all[1024];
    while (srv->sessions.count) {
        size_t n = 0;
        for (zs_map_iter it = zs_map_first(&srv->sessions); it.entry && n < 1024;
             zs_map_next(&srv->sessions, &it))
            all[n++] = it.entry->value;
        for (size_t i = 0; i < n; i++)
            session_remove(all[i], ZEGO_REASON_SERVER_CLOSED);
    }
}
