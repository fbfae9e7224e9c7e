/* The media relay: publisher sockets (zego-publish.v1) feed a channel, player
 * sockets (zego-play.v1) drain it.
 *
 * A frame arrives once, into one refcounted buffer with LWS_PRE headroom, and
 * that buffer is queued to every player: no copy per player.  Each player's
 * queue is bounded in bytes and age (the partial write lws may still hold
 * counts too).  Past the soft bound its video is dropped until the next
 * keyframe (a P-frame gap would corrupt the picture), and a keyframe that
 * arrives while it is behind replaces the video still queued; audio is
 * dropped only past the hard bound.  A player that stays behind is
 * disconnected with a reason.  Nothing a slow player does delays the others or
 * grows the server's memory beyond its bound.
 *
 * The GOP cache holds the frames since the last keyframe (capped in bytes and
 * frames), so a new player starts decoding at once; audio older than 200 ms is
 * skipped when it is handed to a player. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

#define PLAYER_MAX_ITEMS        4096
#define GOP_AUDIO_US            200000
#define KEYFRAME_REQUEST_GAP_US 500000
#define CLOSE_GRACE_US          2000000
#define PLAYER_WRITE_BUDGET     (256 * 1024)

/* ---- Channels ---- */

zs_channel *zs_channel_get(zs_server *srv, uint32_t app_id, const char *stream_id, bool create)
{
    char key[16 + ZEGO_STREAM_ID_SIZE];
    snprintf(key, sizeof key, "%" PRIu32 "/%s", app_id, stream_id);
    zs_channel *ch = zs_map_get(&srv->channels, key);
    if (ch || !create)
        return ch;
    ch = calloc(1, sizeof *ch);
    if (!ch || !zs_map_put(&srv->channels, key, ch)) {
        free(ch);
        return NULL;
    }
    ch->srv = srv;
    ch->app_id = app_id;
    snprintf(ch->stream_id, sizeof ch->stream_id, "%s", stream_id);
    snprintf(ch->key, sizeof ch->key, "%s", key);
    return ch;
}

static void channel_reset_media(zs_channel *ch)
{
    zs_queue_clear(&ch->gop);
    ch->gop_has_key = false;
    zs_buf_unref(ch->stream_info);
    ch->stream_info = NULL;
    zego_msg m = {.type = ZEGO_MSG_STREAM_INFO};
    m.u.stream_info = ch->info;
    zego_msg_clear(&m);
    memset(&ch->info, 0, sizeof ch->info);
}

void zs_channel_maybe_free(zs_channel *ch)
{
    if (ch->owner || ch->publisher || ch->players)
        return;
    channel_reset_media(ch);
    zs_map_remove(&ch->srv->channels, ch->key);
    free(ch);
}

static zs_buf *text_buf(const char *text, size_t len)
{
    zs_buf *b = zs_buf_new(len);
    if (b) {
        b->text = true;
        memcpy(b->data + LWS_PRE, text, len);
    }
    return b;
}

static zs_buf *error_buf(int32_t code, const char *message)
{
    zego_msg ev;
    zego_msg_init(&ev, ZEGO_MSG_ERROR);
    ev.u.notice.code = code;
    snprintf(ev.u.notice.message, sizeof ev.u.notice.message, "%s", message);
    size_t len;
    char *text = zego_msg_encode(&ev, &len, NULL);
    zs_buf *b = text ? text_buf(text, len) : NULL;
    free(text);
    return b;
}

/* ---- Publishers ---- */

static void publisher_send(zs_publisher *pub, zs_buf *b)
{
    if (b && zs_queue_push(&pub->out, b, 64))
        lws_callback_on_writable(pub->wsi);
    zs_buf_unref(b);
}

static void publisher_close(zs_publisher *pub, int code, int32_t err_code, const char *why)
{
    if (pub->close_code)
        return;
    pub->close_code = code;
    if (err_code)
        publisher_send(pub, error_buf(err_code, why));
    else
        lws_callback_on_writable(pub->wsi);
}

static void request_keyframe(zs_channel *ch)
{
    if (!ch->publisher || !ch->stream_info)
        return;
    int64_t now = zs_now_us();
    if (now - ch->last_keyframe_request_us < KEYFRAME_REQUEST_GAP_US)
        return;
    ch->last_keyframe_request_us = now;
    for (size_t i = 0; i < ch->info.n_tracks; i++) {
        if (ch->info.tracks[i].kind != ZEGO_TRACK_VIDEO)
            continue;
        zego_msg m;
        zego_msg_init(&m, ZEGO_MSG_KEYFRAME_REQUEST);
        snprintf(m.u.keyframe_request.stream_id, sizeof m.u.keyframe_request.stream_id, "%s",
                 ch->stream_id);
        m.u.keyframe_request.track = ch->info.tracks[i].id;
        size_t len;
        char *text = zego_msg_encode(&m, &len, NULL);
        if (text)
            publisher_send(lws_wsi_user(ch->publisher), text_buf(text, len));
        free(text);
        ch->srv->metrics.keyframe_requests++;
    }
}

void zs_channel_end_publish(zs_channel *ch, int close_code, const char *reason)
{
    if (ch->publisher) {
        zs_publisher *pub = lws_wsi_user(ch->publisher);
        pub->ch = NULL;
        publisher_close(pub, close_code, 0, reason);
        ch->publisher = NULL;
        ch->srv->n_publishers--;
    }
    channel_reset_media(ch);
}

/* ---- Players ---- */

static size_t player_backlog(const zs_player *p)
{
    return p->q.bytes + p->inflight;
}

static int64_t player_oldest_age(const zs_player *p, int64_t now)
{
    zs_buf *b = zs_queue_peek(&p->q, 0);
    return b ? now - b->arrival_us : 0;
}

/* Drops the video frames still queued (a newer keyframe makes them useless). */
/* Counts a frame dropped for a player that is behind. */
static void player_dropped(zs_player *p)
{
    p->srv->metrics.frames_dropped++;
    p->dropped_in_backlog = true;
}

static void player_purge_video(zs_player *p)
{
    zs_queue keep = {0};
    zs_buf *b;
    while ((b = zs_queue_pop(&p->q))) {
        if (b->text || !b->is_video)
            zs_queue_push(&keep, b, PLAYER_MAX_ITEMS);
        else
            player_dropped(p);
        zs_buf_unref(b);
    }
    zs_queue_clear(&p->q);
    p->q = keep;
}

/* Asks lws for a WRITEABLE callback once: every call re-arms POLLOUT, which
 * with libuv is two epoll_ctl calls even when it was armed already. */
static void player_want_write(zs_player *p)
{
    if (!p->write_pending) {
        p->write_pending = true;
        lws_callback_on_writable(p->wsi);
    }
}

static void player_push(zs_player *p, zs_buf *b)
{
    if (!p->backlog_since_us)
        p->backlog_since_us = zs_now_us();
    if (!zs_queue_push(&p->q, b, PLAYER_MAX_ITEMS)) {
        player_dropped(p);
        if (b->is_video)
            p->waiting_key = true;
        return;
    }
    player_want_write(p);
}

/* Queues one frame for one player, applying the bounds. */
static void player_offer(zs_player *p, zs_buf *b, int64_t now)
{
    const zs_config *cfg = &p->srv->cfg;
    if (p->close_code)
        return;
    if (b->text) {
        player_push(p, b);
        return;
    }
    bool behind = player_backlog(p) + b->len > cfg->player_queue_bytes ||
                  player_oldest_age(p, now) > (int64_t)cfg->player_queue_ms * 1000;
    if (b->is_video) {
        bool key = b->flags & ZEGO_FRAME_FLAG_KEY;
        if (key && (p->waiting_key || behind)) {
            player_purge_video(p);
            p->waiting_key = false;
            behind = player_backlog(p) + b->len > cfg->player_queue_hard_bytes;
        } else if (p->waiting_key) {
            player_dropped(p);
            return;
        }
        if (behind) {
            p->waiting_key = true;
            player_dropped(p);
            return;
        }
    } else if (player_backlog(p) + b->len > cfg->player_queue_hard_bytes) {
        player_dropped(p);
        return;
    }
    player_push(p, b);
}

static void player_close(zs_player *p, int code, int32_t err_code, const char *why)
{
    if (p->close_code)
        return;
    zs_queue_clear(&p->q);
    p->close_code = code;
    snprintf(p->close_reason, sizeof p->close_reason, "%s", why);
    p->closing_since_us = zs_now_us(); /* the grace period starts */
    if (err_code) {
        zs_buf *b = error_buf(err_code, why);
        if (b) {
            zs_queue_push(&p->q, b, PLAYER_MAX_ITEMS);
            zs_buf_unref(b);
        }
    }
    player_want_write(p);
}

static void player_link(zs_channel *ch, zs_player *p)
{
    p->ch = ch;
    p->next = ch->players;
    p->prev = NULL;
    if (ch->players)
        ch->players->prev = p;
    ch->players = p;
    ch->n_players++;
}

static void player_unlink(zs_player *p)
{
    zs_channel *ch = p->ch;
    if (!ch)
        return;
    if (p->prev)
        p->prev->next = p->next;
    else
        ch->players = p->next;
    if (p->next)
        p->next->prev = p->prev;
    ch->n_players--;
    p->ch = NULL;
    zs_channel_maybe_free(ch);
}

/* A new player gets the stream info and the GOP cache at once. */
static void player_start(zs_player *p)
{
    zs_channel *ch = p->ch;
    if (!ch->stream_info)
        return;
    int64_t now = zs_now_us();
    player_push(p, ch->stream_info);
    zs_buf *newest = zs_queue_peek(&ch->gop, ch->gop.count ? ch->gop.count - 1 : 0);
    for (uint32_t i = 0; i < ch->gop.count; i++) {
        zs_buf *b = zs_queue_peek(&ch->gop, i);
        if (!b->is_video && newest && newest->arrival_us - b->arrival_us > GOP_AUDIO_US)
            continue;
        player_offer(p, b, now);
    }
    if (!ch->gop_has_key)
        request_keyframe(ch);
}

void zs_media_stop_plays(zs_server *srv, const char *session_id, const char *stream_id)
{
    for (zs_map_iter it = zs_map_first(&srv->channels); it.entry;
         zs_map_next(&srv->channels, &it)) {
        zs_channel *ch = it.entry->value;
        if (stream_id && strcmp(ch->stream_id, stream_id) != 0)
            continue;
        for (zs_player *p = ch->players; p; p = p->next) {
            if (strcmp(p->session_id, session_id) == 0)
                player_close(p, LWS_CLOSE_STATUS_NORMAL, 0, "stopped playing");
        }
    }
}

/* ---- Relaying ---- */

static void gop_add(zs_channel *ch, zs_buf *b)
{
    const zs_config *cfg = &ch->srv->cfg;
    if (b->is_video && (b->flags & ZEGO_FRAME_FLAG_KEY)) {
        zs_queue_clear(&ch->gop);
        ch->gop_has_key = true;
    } else if (b->is_video && !ch->gop_has_key) {
        return; /* nothing to decode it from */
    }
    if (ch->gop.bytes + b->len > cfg->gop_cache_bytes || ch->gop.count >= cfg->gop_cache_frames) {
        /* Keyframes too rare for the cap: start over from the next one. */
        zs_queue_clear(&ch->gop);
        ch->gop_has_key = false;
        request_keyframe(ch);
        if (b->is_video)
            return;
    }
    zs_queue_push(&ch->gop, b, cfg->gop_cache_frames);
    /* Without a keyframe the cache only holds the most recent audio. */
    while (!ch->gop_has_key && ch->gop.count > 1 &&
           b->arrival_us - zs_queue_peek(&ch->gop, 0)->arrival_us > GOP_AUDIO_US)
        zs_buf_unref(zs_queue_pop(&ch->gop));
}

static void relay(zs_channel *ch, zs_buf *b)
{
    int64_t now = b->arrival_us;
    if (!b->text)
        gop_add(ch, b);
    for (zs_player *p = ch->players; p; p = p->next)
        player_offer(p, b, now);
}

void zs_channel_tell_players_end(zs_channel *ch)
{
    if (!ch->players)
        return;
    size_t len;
    char *text = zego_msg_encode_media_end(ch->stream_id, &len);
    zs_buf *b = text ? text_buf(text, len) : NULL;
    free(text);
    if (!b)
        return;
    b->arrival_us = zs_now_us();
    for (zs_player *p = ch->players; p; p = p->next)
        player_offer(p, b, b->arrival_us);
    zs_buf_unref(b);
}

static void publisher_text(zs_publisher *pub, zs_channel *ch, zs_buf *b)
{
    zego_msg m;
    zego_error err;
    int rc =
        zego_msg_decode((const char *)b->data + LWS_PRE, b->len, ZEGO_CLIENT_MESSAGE_MAX, &m, &err);
    if (rc == ZEGO_ERR_OK && m.type != ZEGO_MSG_STREAM_INFO && m.type != ZEGO_MSG_UNPUBLISH)
        rc = zego_error_set(&err, ZEGO_ERR_PROTOCOL_UNKNOWN_TYPE,
                            "a publisher sends stream_info and unpublish text messages, not %s",
                            zego_msg_type_name(m.type));
    if (rc == ZEGO_ERR_OK && m.type == ZEGO_MSG_UNPUBLISH &&
        strcmp(m.u.stream.stream_id, ch->stream_id) != 0)
        rc = zego_error_set(&err, ZEGO_ERR_STREAM_NOT_FOUND,
                            "unpublish is for stream %s but this socket publishes %s",
                            m.u.stream.stream_id, ch->stream_id);
    if (rc == ZEGO_ERR_OK && m.type == ZEGO_MSG_UNPUBLISH) {
        /* The end of the stream, after every frame this socket sent. */
        zego_msg_clear(&m);
        zs_log(ch->srv, ZS_LOG_INFO, "%s ended by its publisher", ch->stream_id);
        zs_stream_unpublish(ch);
        return;
    }
    if (rc == ZEGO_ERR_OK && strcmp(m.u.stream_info.stream_id, ch->stream_id) != 0)
        rc = zego_error_set(&err, ZEGO_ERR_STREAM_INFO_INVALID,
                            "stream_info is for stream %s but this socket publishes %s",
                            m.u.stream_info.stream_id, ch->stream_id);
    if (rc != ZEGO_ERR_OK) {
        zego_msg_clear(&m);
        ch->srv->metrics.protocol_errors++;
        publisher_close(pub, LWS_CLOSE_STATUS_POLICY_VIOLATION, rc, err.message);
        return;
    }
    /* Players reset on every new generation and must see a higher number
     * each time, also when a new publisher (another process, a restart)
     * counts from 1 again: such a stream_info is renumbered. */
    zs_buf *info_buf = zs_buf_ref(b);
    if (m.u.stream_info.generation <= ch->last_generation) {
        m.u.stream_info.generation = ch->last_generation + 1;
        size_t len;
        char *text = zego_msg_encode(&m, &len, NULL);
        zs_buf *renumbered = text ? zs_buf_new(len) : NULL;
        if (renumbered) {
            renumbered->text = true;
            memcpy(renumbered->data + LWS_PRE, text, len);
            zs_buf_unref(info_buf);
            info_buf = renumbered;
        }
        free(text);
    }
    ch->last_generation = m.u.stream_info.generation;
    /* A new generation starts from its own keyframe. */
    channel_reset_media(ch);
    ch->info = m.u.stream_info;
    info_buf->arrival_us = zs_now_us();
    ch->stream_info = info_buf;
    relay(ch, info_buf);
    zs_room_announce_stream(ch);
}

static void publisher_frame(zs_publisher *pub, zs_channel *ch, zs_buf *b)
{
    zs_server *srv = ch->srv;
    zego_frame_header h;
    const uint8_t *payload;
    zego_error err;
    int rc =
        zego_frame_parse(b->data + LWS_PRE, b->len, srv->cfg.max_frame_bytes, &h, &payload, &err);
    const zego_track *track = NULL;
    if (rc == ZEGO_ERR_OK && !ch->stream_info)
        rc = zego_error_set(&err, ZEGO_ERR_FRAME_UNKNOWN_TRACK,
                            "a frame arrived before any stream_info; send stream_info first");
    else if (rc == ZEGO_ERR_OK && !(track = zego_stream_info_find_track(&ch->info, h.track)))
        rc = zego_error_set(&err, ZEGO_ERR_FRAME_UNKNOWN_TRACK,
                            "track %u is not in the stream_info", h.track);
    if (rc != ZEGO_ERR_OK) {
        srv->metrics.protocol_errors++;
        publisher_close(pub, LWS_CLOSE_STATUS_POLICY_VIOLATION, rc, err.message);
        return;
    }
    b->arrival_us = zs_now_us();
    b->track = h.track;
    b->flags = h.flags;
    b->is_video = track->kind == ZEGO_TRACK_VIDEO;
    ch->frames_in++;
    ch->bytes_in += b->len;
    srv->metrics.frames_in++;
    relay(ch, b);
}

/* ---- Tickets at the door ---- */

static int check_ticket(zs_server *srv, struct lws *wsi, zego_media_role role,
                        zs_ticket_claims *claims)
{
    char buf[ZEGO_TICKET_SIZE + 16];
    const char *ticket = lws_get_urlarg_by_name(wsi, "ticket=", buf, sizeof buf);
    zego_error err;
    int rc = zs_ticket_verify(srv->ticket_secret, ticket, zs_wall_ms(), claims, &err);
    if (rc == ZEGO_ERR_OK && claims->role != role)
        rc = zego_error_set(&err, ZEGO_ERR_TICKET_INVALID, "this ticket is for %s, not %s",
                            claims->role == ZEGO_ROLE_PLAY ? "playing" : "publishing",
                            role == ZEGO_ROLE_PLAY ? "playing" : "publishing");
    const char *signature = ticket ? strrchr(ticket, '.') : NULL;
    if (rc == ZEGO_ERR_OK && signature && zs_map_get(&srv->used_tickets, signature))
        rc = zego_error_set(&err, ZEGO_ERR_TICKET_INVALID,
                            "this ticket was already used; ask for a new one");
    if (rc == ZEGO_ERR_OK && strcmp(claims->node, srv->node_id) != 0)
        rc = zego_error_set(&err, ZEGO_ERR_TICKET_INVALID, "this ticket is for node %s",
                            claims->node);
    zs_session *s = rc ? NULL : zs_map_get(&srv->sessions, claims->session_id);
    if (rc == ZEGO_ERR_OK && !s)
        rc = zego_error_set(&err, ZEGO_ERR_TICKET_INVALID, "the ticket's session has ended");
    if (rc == ZEGO_ERR_OK && role == ZEGO_ROLE_PLAY && !zs_map_get(&s->plays, claims->stream_id))
        rc = zego_error_set(&err, ZEGO_ERR_TICKET_INVALID, "the session no longer plays %s",
                            claims->stream_id);
    if (rc == ZEGO_ERR_OK && role == ZEGO_ROLE_PUBLISH) {
        zs_channel *ch = zs_channel_get(srv, claims->app_id, claims->stream_id, false);
        if (!ch || ch->owner != s)
            rc = zego_error_set(&err, ZEGO_ERR_TICKET_INVALID, "the session no longer publishes %s",
                                claims->stream_id);
    }
    if (rc != ZEGO_ERR_OK) {
        srv->metrics.auth_failures++;
        zs_log(srv, ZS_LOG_INFO, "media socket refused: %s", err.message);
    } else {
        /* Remembered until it expires, so that it opens one socket only. */
        zs_map_put(&srv->used_tickets, signature, (void *)(intptr_t)(claims->exp_ms / 1000 + 1));
    }
    return rc;
}

/* ---- zego-publish.v1 ---- */

static int callback_publish(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                            size_t len)
{
    zs_publisher *pub = user;
    zs_server *srv = lws_context_user(lws_get_context(wsi));

    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
        zs_ticket_claims claims;
        if (srv->shutting_down || check_ticket(srv, wsi, ZEGO_ROLE_PUBLISH, &claims))
            return -1;
        memset(pub, 0, sizeof *pub);
        pub->srv = srv;
        pub->wsi = wsi;
        pub->claims = claims;
        break;
    }
    case LWS_CALLBACK_ESTABLISHED: {
        /* Looked up again: the stream may have been unpublished meanwhile. */
        zs_channel *ch = zs_channel_get(srv, pub->claims.app_id, pub->claims.stream_id, false);
        zs_session *s = zs_map_get(&srv->sessions, pub->claims.session_id);
        if (!ch || !s || ch->owner != s)
            return -1;
        pub->ch = ch;
        if (ch->publisher) /* a new socket replaces one the client gave up on */
            zs_channel_end_publish(ch, LWS_CLOSE_STATUS_NORMAL, "replaced by a new socket");
        ch->publisher = wsi;
        srv->n_publishers++;
        zs_apply_sndbuf(srv, wsi);
        zs_log(srv, ZS_LOG_INFO, "publishing %s", ch->stream_id);
        break;
    }
    case LWS_CALLBACK_RECEIVE: {
        srv->metrics.bytes_in += len;
        if (!pub->ch || pub->close_code)
            break;
        if (lws_is_first_fragment(wsi)) {
            zs_buf_unref(pub->rx);
            /* The whole frame's size when lws knows it (unfragmented). */
            pub->rx_cap = len + lws_remaining_packet_payload(wsi);
            pub->rx = zs_buf_new(pub->rx_cap);
            pub->rx_len = 0;
            pub->rx_text = !lws_frame_is_binary(wsi);
            if (!pub->rx)
                return -1;
        }
        size_t limit = srv->cfg.max_frame_bytes + 4096;
        if (!pub->rx || pub->rx_len + len > limit) {
            zego_error err;
            zego_error_set(&err, ZEGO_ERR_FRAME_TOO_LARGE,
                           "media message is over %zu bytes; the limit is %zu (--max-frame-bytes)",
                           pub->rx_len + len, srv->cfg.max_frame_bytes);
            publisher_close(pub, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, err.code, err.message);
            break;
        }
        if (pub->rx_len + len > pub->rx_cap) {
            size_t cap = pub->rx_cap * 2;
            if (cap < pub->rx_len + len)
                cap = pub->rx_len + len;
            if (cap > limit)
                cap = limit;
            zs_buf *grown = realloc(pub->rx, sizeof *grown + LWS_PRE + cap);
            if (!grown)
                return -1;
            pub->rx = grown;
            pub->rx_cap = cap;
        }
        memcpy(pub->rx->data + LWS_PRE + pub->rx_len, in, len);
        pub->rx_len += len;
        if (!lws_is_final_fragment(wsi))
            break;
        zs_buf *b = pub->rx;
        pub->rx = NULL;
        /* Fragmented messages grew by doubling: give back the slack, as the
         * buffer may live on in the GOP cache and every player queue. */
        if (pub->rx_cap > pub->rx_len + 4096) {
            zs_buf *fitted = realloc(b, sizeof *b + LWS_PRE + pub->rx_len);
            if (fitted)
                b = fitted;
        }
        b->len = (uint32_t)pub->rx_len;
        b->text = pub->rx_text;
        if (pub->rx_text)
            publisher_text(pub, pub->ch, b);
        else
            publisher_frame(pub, pub->ch, b);
        zs_buf_unref(b);
        break;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE: {
        zs_buf *b = zs_queue_pop(&pub->out);
        if (b) {
            int n = lws_write(wsi, b->data + LWS_PRE, b->len, LWS_WRITE_TEXT);
            zs_buf_unref(b);
            if (n < 0)
                return -1;
        }
        if (pub->out.count) {
            lws_callback_on_writable(wsi);
        } else if (pub->close_code) {
            lws_close_reason(wsi, (enum lws_close_status)pub->close_code, NULL, 0);
            return -1;
        }
        break;
    }
    case LWS_CALLBACK_CLOSED:
        if (pub->ch && pub->ch->publisher == wsi) {
            pub->ch->publisher = NULL;
            srv->n_publishers--;
            zs_log(srv, ZS_LOG_INFO, "publisher socket of %s closed", pub->ch->stream_id);
            zs_channel_maybe_free(pub->ch);
        }
        pub->ch = NULL;
        zs_buf_unref(pub->rx);
        pub->rx = NULL;
        zs_queue_clear(&pub->out);
        break;
    default:
        break;
    }
    return 0;
}

/* ---- zego-play.v1 ---- */

static int callback_play(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
    (void)in;
    zs_player *p = user;
    zs_server *srv = lws_context_user(lws_get_context(wsi));

    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
        zs_ticket_claims claims;
        if (srv->shutting_down || check_ticket(srv, wsi, ZEGO_ROLE_PLAY, &claims))
            return -1;
        memset(p, 0, sizeof *p);
        p->srv = srv;
        p->wsi = wsi;
        p->claims = claims;
        snprintf(p->session_id, sizeof p->session_id, "%s", claims.session_id);
        break;
    }
    case LWS_CALLBACK_ESTABLISHED: {
        zs_channel *ch = zs_channel_get(srv, p->claims.app_id, p->claims.stream_id, true);
        if (!ch)
            return -1;
        player_link(ch, p);
        srv->n_players++;
        zs_apply_sndbuf(srv, wsi);
        player_start(p);
        break;
    }
    case LWS_CALLBACK_RECEIVE:
        srv->metrics.bytes_in += len; /* players send nothing we need */
        break;
    case LWS_CALLBACK_SERVER_WRITEABLE: {
        p->inflight = 0; /* lws calls this only once its buffered remainder is out */
        p->write_pending = false;
        /* Several queued messages in one go, up to a budget: each arming and
         * disarming of POLLOUT costs epoll_ctl calls, which dominate when
         * many players are fed.  A write that lws could not finish ends the
         * round, so nothing is ever written on top of a remainder. */
        size_t written = 0;
        zs_buf *b;
        while (written < PLAYER_WRITE_BUDGET && (b = zs_queue_pop(&p->q))) {
            int n = lws_write(wsi, b->data + LWS_PRE, b->len,
                              b->text ? LWS_WRITE_TEXT : LWS_WRITE_BINARY);
            if (n < 0) {
                zs_buf_unref(b);
                return -1;
            }
            written += b->len;
            srv->metrics.bytes_out += b->len;
            if (!b->text)
                srv->metrics.frames_out++;
            bool partial = lws_partial_buffered(wsi);
            if (partial)
                p->inflight = b->len;
            zs_buf_unref(b);
            if (partial)
                break;
        }
        if (!p->q.count && !p->inflight) {
            p->backlog_since_us = 0; /* caught up */
            p->dropped_in_backlog = false;
        }
        /* Also when only lws's remainder is left: to learn when it is out. */
        if (p->q.count || p->inflight) {
            player_want_write(p);
        } else if (p->close_code) {
            lws_close_reason(wsi, (enum lws_close_status)p->close_code,
                             (unsigned char *)p->close_reason, strlen(p->close_reason));
            return -1;
        }
        break;
    }
    case LWS_CALLBACK_CLOSED:
        if (p->ch) {
            srv->n_players--;
            player_unlink(p);
        }
        zs_queue_clear(&p->q);
        break;
    default:
        break;
    }
    return 0;
}

const struct lws_protocols zs_publish_protocol = {
    .name = ZEGO_SUBPROTOCOL_PUBLISH,
    .callback = callback_publish,
    .per_session_data_size = sizeof(zs_publisher),
    .rx_buffer_size = 65536,
};

/* A player reads almost nothing: a small receive buffer, so that a thousand
 * players do not each carry a publisher-sized one.  tx_packet_size is set from
 * --max-frame-bytes in main.c so that a whole frame goes out in one send. */
const struct lws_protocols zs_play_protocol = {
    .name = ZEGO_SUBPROTOCOL_PLAY,
    .callback = callback_play,
    .per_session_data_size = sizeof(zs_player),
    .rx_buffer_size = 256,
};

/* ---- Timers ---- */

static void forget_expired_tickets(zs_server *srv)
{
    intptr_t now_s = (intptr_t)(zs_wall_ms() / 1000);
    char *expired[64];
    size_t n = 0;
    for (zs_map_iter it = zs_map_first(&srv->used_tickets); it.entry && n < 64;
         zs_map_next(&srv->used_tickets, &it)) {
        if ((intptr_t)it.entry->value < now_s)
            expired[n++] = strdup(it.entry->key);
    }
    for (size_t i = 0; i < n; i++) {
        if (expired[i])
            zs_map_remove(&srv->used_tickets, expired[i]);
        free(expired[i]);
    }
}

void zs_media_tick(zs_server *srv)
{
    int64_t now = zs_now_us();
    const zs_config *cfg = &srv->cfg;
    forget_expired_tickets(srv);
    for (zs_map_iter it = zs_map_first(&srv->channels); it.entry;
         zs_map_next(&srv->channels, &it)) {
        zs_channel *ch = it.entry->value;
        for (zs_player *p = ch->players; p; p = p->next) {
            if (p->close_code) {
                if (now - p->closing_since_us > CLOSE_GRACE_US)
                    lws_set_timeout(p->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
                continue;
            }
            /* Hopeless = frames had to be dropped for it and it has not once
             * caught up for that long.  A server short of CPU, whose
             * players all lag a little, drops nobody for that. */
            if (p->backlog_since_us && p->dropped_in_backlog &&
                now - p->backlog_since_us > (int64_t)cfg->player_stall_ms * 1000) {
                srv->metrics.players_disconnected_slow++;
                zs_log(srv, ZS_LOG_WARN,
                       "a player of %s has not caught up for %u ms (%zu bytes queued); "
                       "disconnecting it",
                       ch->stream_id, cfg->player_stall_ms, player_backlog(p));
                player_close(p, LWS_CLOSE_STATUS_POLICY_VIOLATION, ZEGO_ERR_PLAYER_TOO_SLOW,
                             "the player fell too far behind and was disconnected");
            }
        }
    }
}

void zs_media_shutdown(zs_server *srv)
{
    for (zs_map_iter it = zs_map_first(&srv->channels); it.entry;
         zs_map_next(&srv->channels, &it)) {
        zs_channel *ch = it.entry->value;
        if (ch->publisher)
            publisher_close(lws_wsi_user(ch->publisher), LWS_CLOSE_STATUS_GOINGAWAY,
                            ZEGO_ERR_SERVER_SHUTTING_DOWN, "the server is shutting down");
        for (zs_player *p = ch->players; p; p = p->next)
            player_close(p, LWS_CLOSE_STATUS_GOINGAWAY, ZEGO_ERR_SERVER_SHUTTING_DOWN,
                         "the server is shutting down");
    }
}
