/* The part zegosink and zegosrc share; see gstzegoobject.h.
 *
 * Element messages (gst_message_new_element, posted by the element) -- one per
 * event, from the engine thread:
 *
 *   zego-room-state        room-id, state, reason (strings: "CONNECTED",
 *                          "RECONNECTING"...), code (int), message
 *   zego-user-update       room-id, update-type ("add" / "delete"), user-id,
 *                          user-name (one message per user)
 *   zego-stream-update     room-id, update-type, reason ("none", "unpublish"...),
 *                          stream-id, user-id, user-name, extra-info
 *   zego-stream-extra-info-update  room-id, stream-id, user-id, extra-info
 *   zego-publisher-state   stream-id, state ("PUBLISHING"...), code (zegosink)
 *   zego-player-state      stream-id, state ("PLAYING"...), code (zegosrc)
 *   zego-publisher-quality stream-id, quality ("EXCELLENT"...), video-fps,
 *                          audio-fps, video-kbps, audio-kbps (double), rtt-ms
 *                          (uint), delay-ms (int64), frames-sent,
 *                          frames-dropped (uint64) (zegosink)
 *   zego-player-quality    stream-id, quality, video-fps, audio-fps, video-kbps,
 *                          audio-kbps, rtt-ms, delay-ms, frames-received,
 *                          frames-lost (zegosrc)
 *   zego-keyframe-request  stream-id, track (uint), reason (zegosink)
 *   zego-broadcast-message room-id, user-id, user-name, message
 *   zego-custom-command    room-id, user-id, user-name, command
 *   zego-token-will-expire room-id, remaining-seconds (uint)
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "gstzegoobject.h"

GST_DEBUG_CATEGORY(gst_zego_debug);
#define GST_CAT_DEFAULT gst_zego_debug

#define DEFAULT_LOGIN_TIMEOUT 20000

GstZegoObject *gst_zego_object_new(GstElement *element, gboolean is_sink,
                                   const GstZegoObjectCallbacks *callbacks)
{
    GstZegoObject *zobj = g_new0(GstZegoObject, 1);
    zobj->element = element;
    zobj->is_sink = is_sink;
    if (callbacks)
        zobj->callbacks = *callbacks;
    g_mutex_init(&zobj->lock);
    zobj->login_timeout_ms = DEFAULT_LOGIN_TIMEOUT;
    return zobj;
}

void gst_zego_object_free(GstZegoObject *zobj)
{
    if (!zobj)
        return;
    gst_zego_object_close(zobj);
    g_free(zobj->server);
    g_free(zobj->room_id);
    g_free(zobj->user_id);
    g_free(zobj->user_name);
    g_free(zobj->token);
    g_free(zobj->stream_id);
    g_mutex_clear(&zobj->lock);
    g_free(zobj);
}

void gst_zego_object_install_properties(GObjectClass *gobject_class, gboolean is_sink)
{
    const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY;

    g_object_class_install_property(
        gobject_class, PROP_ZEGO_SERVER,
        g_param_spec_string("server", "Server",
                            "URL of the room server's signaling endpoint (ws://HOST:PORT/ws "
                            "or wss://HOST:PORT/ws)",
                            NULL, flags));
    g_object_class_install_property(
        gobject_class, PROP_ZEGO_APP_ID,
        g_param_spec_uint("app-id", "App ID", "The ZEGO app id (AppID)", 0, G_MAXUINT32, 0, flags));
    g_object_class_install_property(
        gobject_class, PROP_ZEGO_ROOM_ID,
        g_param_spec_string("room-id", "Room ID", "The room to log into", NULL, flags));
    g_object_class_install_property(
        gobject_class, PROP_ZEGO_USER_ID,
        g_param_spec_string("user-id", "User ID",
                            "The user to log in as (default: one id generated per process, so "
                            "that a process's elements share one login per room)",
                            NULL, flags));
    g_object_class_install_property(gobject_class, PROP_ZEGO_USER_NAME,
                                    g_param_spec_string("user-name", "User name",
                                                        "The user's display name (UTF-8)", NULL,
                                                        flags));
    g_object_class_install_property(
        gobject_class, PROP_ZEGO_TOKEN,
        g_param_spec_string("token", "Token",
                            "Token04 for the login (needed when the server checks tokens); "
                            "never logged",
                            NULL, flags));
    g_object_class_install_property(
        gobject_class, PROP_ZEGO_STREAM_ID,
        g_param_spec_string("stream-id", "Stream ID",
                            is_sink ? "The stream ID to publish under (required)"
                                    : "Play only this stream (default: every stream of the "
                                      "room except the user's own)",
                            NULL, flags));
    g_object_class_install_property(
        gobject_class, PROP_ZEGO_LOGIN_TIMEOUT,
        g_param_spec_uint("login-timeout", "Login timeout",
                          "A login not done after this many milliseconds fails", 1000, 600000,
                          DEFAULT_LOGIN_TIMEOUT, flags));
    g_object_class_install_property(
        gobject_class, PROP_ZEGO_URI,
        g_param_spec_string("uri", "URI",
                            "All of the above at once: zego://HOST:PORT/ROOM/STREAM?app-id=N"
                            "&user-id=U&token=T (percent-encoded; the token is never read back)",
                            NULL, flags));
}

static void replace_string(GMutex *lock, gchar **field, const GValue *value)
{
    g_mutex_lock(lock);
    g_free(*field);
    *field = g_value_dup_string(value);
    g_mutex_unlock(lock);
}

gboolean gst_zego_object_set_property(GstZegoObject *zobj, guint prop_id, const GValue *value,
                                      GParamSpec *pspec)
{
    (void)pspec;
    switch (prop_id) {
    case PROP_ZEGO_SERVER:
        replace_string(&zobj->lock, &zobj->server, value);
        break;
    case PROP_ZEGO_APP_ID:
        g_mutex_lock(&zobj->lock);
        zobj->app_id = g_value_get_uint(value);
        g_mutex_unlock(&zobj->lock);
        break;
    case PROP_ZEGO_ROOM_ID:
        replace_string(&zobj->lock, &zobj->room_id, value);
        break;
    case PROP_ZEGO_USER_ID:
        replace_string(&zobj->lock, &zobj->user_id, value);
        break;
    case PROP_ZEGO_USER_NAME:
        replace_string(&zobj->lock, &zobj->user_name, value);
        break;
    case PROP_ZEGO_TOKEN:
        replace_string(&zobj->lock, &zobj->token, value);
        break;
    case PROP_ZEGO_STREAM_ID:
        replace_string(&zobj->lock, &zobj->stream_id, value);
        break;
    case PROP_ZEGO_LOGIN_TIMEOUT:
        g_mutex_lock(&zobj->lock);
        zobj->login_timeout_ms = g_value_get_uint(value);
        g_mutex_unlock(&zobj->lock);
        break;
    case PROP_ZEGO_URI: {
        GError *error = NULL;
        const gchar *uri = g_value_get_string(value);
        if (uri && !gst_zego_object_set_uri(zobj, uri, &error)) {
            GST_WARNING_OBJECT(zobj->element, "%s", error->message);
            g_clear_error(&error);
        }
        break;
    }
    default:
        return FALSE;
    }
    return TRUE;
}

gboolean gst_zego_object_get_property(GstZegoObject *zobj, guint prop_id, GValue *value,
                                      GParamSpec *pspec)
{
    (void)pspec;
    g_mutex_lock(&zobj->lock);
    switch (prop_id) {
    case PROP_ZEGO_SERVER:
        g_value_set_string(value, zobj->server);
        break;
    case PROP_ZEGO_APP_ID:
        g_value_set_uint(value, zobj->app_id);
        break;
    case PROP_ZEGO_ROOM_ID:
        g_value_set_string(value, zobj->room_id);
        break;
    case PROP_ZEGO_USER_ID:
        g_value_set_string(value, zobj->user_id ? zobj->user_id : zego_process_user_id());
        break;
    case PROP_ZEGO_USER_NAME:
        g_value_set_string(value, zobj->user_name);
        break;
    case PROP_ZEGO_TOKEN:
        g_value_set_string(value, zobj->token);
        break;
    case PROP_ZEGO_STREAM_ID:
        g_value_set_string(value, zobj->stream_id);
        break;
    case PROP_ZEGO_LOGIN_TIMEOUT:
        g_value_set_uint(value, zobj->login_timeout_ms);
        break;
    case PROP_ZEGO_URI:
        g_mutex_unlock(&zobj->lock);
        g_value_take_string(value, gst_zego_object_get_uri(zobj));
        return TRUE;
    default:
        g_mutex_unlock(&zobj->lock);
        return FALSE;
    }
    g_mutex_unlock(&zobj->lock);
    return TRUE;
}

/* ---- Validation ---- */

#define POST_SETTINGS_ERROR(zobj, what, zerr)                    \
    GST_ELEMENT_ERROR((zobj)->element, RESOURCE, SETTINGS,       \
                      ("Invalid %s: %s", what, (zerr)->message), \
                      ("ZEGO error %d (%s)", (int)(zerr)->code, zego_error_name((zerr)->code)))

gboolean gst_zego_object_validate(GstZegoObject *zobj, gboolean stream_id_required)
{
    zego_error zerr;
    gboolean ok = FALSE;
    g_mutex_lock(&zobj->lock);
    if (!zobj->server || !*zobj->server) {
        GST_ELEMENT_ERROR(zobj->element, RESOURCE, SETTINGS,
                          ("No server set (the property \"server\", e.g. ws://HOST:7600/ws)"),
                          (NULL));
    } else if (!g_str_has_prefix(zobj->server, "ws://") &&
               !g_str_has_prefix(zobj->server, "wss://")) {
        GST_ELEMENT_ERROR(
            zobj->element, RESOURCE, SETTINGS,
            ("Invalid server URL \"%s\": it must start with ws:// or wss://", zobj->server),
            (NULL));
    } else if (zobj->app_id == 0) {
        GST_ELEMENT_ERROR(zobj->element, RESOURCE, SETTINGS, ("No app-id set"), (NULL));
    } else if (zego_validate_room_id(zobj->room_id ? zobj->room_id : "", &zerr)) {
        POST_SETTINGS_ERROR(zobj, "room-id", &zerr);
    } else if (zobj->user_id && zego_validate_user_id(zobj->user_id, &zerr)) {
        POST_SETTINGS_ERROR(zobj, "user-id", &zerr);
    } else if (zobj->user_name && zego_validate_user_name(zobj->user_name, &zerr)) {
        POST_SETTINGS_ERROR(zobj, "user-name", &zerr);
    } else if ((stream_id_required || (zobj->stream_id && *zobj->stream_id)) &&
               zego_validate_stream_id(zobj->stream_id ? zobj->stream_id : "", &zerr)) {
        POST_SETTINGS_ERROR(zobj, "stream-id", &zerr);
    } else {
        ok = TRUE;
    }
    g_mutex_unlock(&zobj->lock);
    return ok;
}

/* ---- Engine events ---- */

const gchar *gst_zego_update_type_nick(zego_update_type type)
{
    return type == ZEGO_UPDATE_ADD ? "add" : "delete";
}

void gst_zego_object_post(GstZegoObject *zobj, GstStructure *s)
{
    gst_element_post_message(zobj->element, gst_message_new_element(GST_OBJECT(zobj->element), s));
}

static gboolean is_auth_code(int32_t code)
{
    switch (code) {
    case ZEGO_ERR_AUTHENTICATION_FAILED:
    case ZEGO_ERR_TOKEN_MISSING:
    case ZEGO_ERR_TOKEN_APP_ID_MISMATCH:
    case ZEGO_ERR_TOKEN_USER_ID_MISMATCH:
    case ZEGO_ERR_TOKEN_EXPIRED:
    case ZEGO_ERR_TOKEN_VERSION:
    case ZEGO_ERR_PUBLISH_NOT_AUTHORIZED:
    case ZEGO_ERR_PLAY_NOT_AUTHORIZED:
        return TRUE;
    default:
        return FALSE;
    }
}

static void on_room_state(zego_engine *engine, const char *room_id, zego_room_state state,
                          zego_room_state_reason reason, int32_t code, const char *message,
                          void *user_data)
{
    (void)engine;
    GstZegoObject *zobj = user_data;
    if (reason == ZEGO_ROOM_REASON_RECONNECTED)
        g_atomic_int_inc(&zobj->reconnects);
    GST_DEBUG_OBJECT(zobj->element, "room %s: %s (%s) %d %s", room_id, zego_room_state_name(state),
                     zego_room_state_reason_name(reason), code, message ? message : "");
    gst_zego_object_post(
        zobj, gst_structure_new("zego-room-state", "room-id", G_TYPE_STRING, room_id, "state",
                                G_TYPE_STRING, zego_room_state_name(state), "reason", G_TYPE_STRING,
                                zego_room_state_reason_name(reason), "code", G_TYPE_INT, code,
                                "message", G_TYPE_STRING, message ? message : "", NULL));

    const char *server = zobj->server ? zobj->server : "";
    if (state == ZEGO_ROOM_STATE_CONNECTING && reason == ZEGO_ROOM_REASON_RECONNECTING) {
        GST_ELEMENT_WARNING(
            zobj->element, RESOURCE, READ, ("Connection to %s lost, reconnecting", server),
            ("ZEGO error %d (%s): %s", code, zego_error_name(code), message ? message : ""));
    } else if (state == ZEGO_ROOM_STATE_DISCONNECTED && reason != ZEGO_ROOM_REASON_LOGOUT &&
               code != 0 && g_atomic_int_compare_and_exchange(&zobj->error_posted, 0, 1)) {
        if (is_auth_code(code)) {
            GST_ELEMENT_ERROR(
                zobj->element, RESOURCE, NOT_AUTHORIZED,
                ("Login to room \"%s\" at %s refused: %s", room_id, server,
                 zego_error_description(code)),
                ("ZEGO error %d (%s): %s", code, zego_error_name(code), message ? message : ""));
        } else if (code == ZEGO_ERR_KICKED_OUT) {
            GST_ELEMENT_ERROR(
                zobj->element, RESOURCE, BUSY,
                ("Another login with the same user id replaced this one in room "
                 "\"%s\"",
                 room_id),
                ("ZEGO error %d (%s): %s", code, zego_error_name(code), message ? message : ""));
        } else if (code != ZEGO_ERR_CONNECT_FAILED && code != ZEGO_ERR_LOGIN_TIMEOUT &&
                   code != ZEGO_ERR_RECONNECT_FAILED) {
            GST_ELEMENT_ERROR(
                zobj->element, RESOURCE, OPEN_READ_WRITE,
                ("Login to room \"%s\" at %s refused: %s", room_id, server,
                 zego_error_description(code) ? zego_error_description(code) : "refused"),
                ("ZEGO error %d (%s): %s", code, zego_error_name(code), message ? message : ""));
        } else {
            GST_ELEMENT_ERROR(
                zobj->element, RESOURCE, OPEN_READ_WRITE,
                ("Could not connect to the room server %s: %s", server,
                 zego_error_description(code) ? zego_error_description(code) : "failed"),
                ("ZEGO error %d (%s): %s", code, zego_error_name(code), message ? message : ""));
        }
    }
    if (zobj->callbacks.room_state)
        zobj->callbacks.room_state(zobj->element, state, code);
}

static void on_users(zego_engine *engine, const char *room_id, zego_update_type type,
                     const zego_user *users, size_t n, void *user_data)
{
    (void)engine;
    GstZegoObject *zobj = user_data;
    for (size_t i = 0; i < n; i++)
        gst_zego_object_post(zobj, gst_structure_new("zego-user-update", "room-id", G_TYPE_STRING,
                                                     room_id, "update-type", G_TYPE_STRING,
                                                     gst_zego_update_type_nick(type), "user-id",
                                                     G_TYPE_STRING, users[i].user_id, "user-name",
                                                     G_TYPE_STRING, users[i].user_name, NULL));
}

static void on_streams(zego_engine *engine, const char *room_id, zego_update_type type,
                       zego_delete_reason reason, const zego_stream *streams, size_t n,
                       void *user_data)
{
    GstZegoObject *zobj = user_data;
    for (size_t i = 0; i < n; i++)
        gst_zego_object_post(
            zobj,
            gst_structure_new("zego-stream-update", "room-id", G_TYPE_STRING, room_id,
                              "update-type", G_TYPE_STRING, gst_zego_update_type_nick(type),
                              "reason", G_TYPE_STRING, zego_delete_reason_name(reason), "stream-id",
                              G_TYPE_STRING, streams[i].stream_id, "user-id", G_TYPE_STRING,
                              streams[i].user_id, "user-name", G_TYPE_STRING, streams[i].user_name,
                              "extra-info", G_TYPE_STRING, streams[i].extra_info, NULL));
    if (zobj->callbacks.stream_update)
        zobj->callbacks.stream_update(zobj->element, engine, type, reason, streams, n);
}

static void on_extra_info(zego_engine *engine, const char *room_id, const zego_stream *streams,
                          size_t n, void *user_data)
{
    (void)engine;
    GstZegoObject *zobj = user_data;
    for (size_t i = 0; i < n; i++)
        gst_zego_object_post(
            zobj, gst_structure_new("zego-stream-extra-info-update", "room-id", G_TYPE_STRING,
                                    room_id, "stream-id", G_TYPE_STRING, streams[i].stream_id,
                                    "user-id", G_TYPE_STRING, streams[i].user_id, "extra-info",
                                    G_TYPE_STRING, streams[i].extra_info, NULL));
}

/* Only the sink's own stream: a shared session also carries other elements'. */
static gboolean is_my_published_stream(GstZegoObject *zobj, const char *stream_id)
{
    return zobj->is_sink && zobj->stream_id && strcmp(zobj->stream_id, stream_id) == 0;
}

void gst_zego_object_post_stream_error(GstZegoObject *zobj, const char *stream_id, int32_t code,
                                       gboolean publishing)
{
    const char *what = publishing ? "publish" : "play";
    if (code == ZEGO_ERR_STREAM_ALREADY_PUBLISHED) {
        GST_ELEMENT_ERROR(zobj->element, RESOURCE, BUSY,
                          ("Stream ID \"%s\" is already published by another user", stream_id),
                          ("ZEGO error %d (%s)", code, zego_error_name(code)));
    } else if (is_auth_code(code)) {
        GST_ELEMENT_ERROR(zobj->element, RESOURCE, NOT_AUTHORIZED,
                          ("Not allowed to %s stream \"%s\"", what, stream_id),
                          ("ZEGO error %d (%s)", code, zego_error_name(code)));
    } else {
        GST_ELEMENT_ERROR(zobj->element, RESOURCE, FAILED,
                          ("Could not %s stream \"%s\": %s", what, stream_id,
                           zego_error_description(code) ? zego_error_description(code) : "failed"),
                          ("ZEGO error %d (%s)", code, zego_error_name(code)));
    }
}

static void on_publisher_state(zego_engine *engine, const char *stream_id,
                               zego_publisher_state state, int32_t code, void *user_data)
{
    (void)engine;
    GstZegoObject *zobj = user_data;
    if (!is_my_published_stream(zobj, stream_id))
        return;
    g_atomic_int_set(&zobj->pub_state, (gint)state);
    GST_DEBUG_OBJECT(zobj->element, "publisher %s: %s %d", stream_id,
                     zego_publisher_state_name(state), code);
    gst_zego_object_post(zobj, gst_structure_new("zego-publisher-state", "stream-id", G_TYPE_STRING,
                                                 stream_id, "state", G_TYPE_STRING,
                                                 zego_publisher_state_name(state), "code",
                                                 G_TYPE_INT, code, NULL));
    if (state == ZEGO_PUBLISHER_STATE_NO_PUBLISH && code != 0 &&
        code != ZEGO_ERR_TEMPORARILY_DISCONNECTED &&
        g_atomic_int_compare_and_exchange(&zobj->error_posted, 0, 1))
        gst_zego_object_post_stream_error(zobj, stream_id, code, TRUE);
}

static void on_player_state(zego_engine *engine, const char *stream_id, zego_player_state state,
                            int32_t code, void *user_data)
{
    (void)engine;
    GstZegoObject *zobj = user_data;
    if (zobj->is_sink)
        return;
    GST_DEBUG_OBJECT(zobj->element, "player %s: %s %d", stream_id, zego_player_state_name(state),
                     code);
    gst_zego_object_post(zobj, gst_structure_new("zego-player-state", "stream-id", G_TYPE_STRING,
                                                 stream_id, "state", G_TYPE_STRING,
                                                 zego_player_state_name(state), "code", G_TYPE_INT,
                                                 code, NULL));
    if (state == ZEGO_PLAYER_STATE_NO_PLAY && is_auth_code(code) &&
        g_atomic_int_compare_and_exchange(&zobj->error_posted, 0, 1))
        gst_zego_object_post_stream_error(zobj, stream_id, code, FALSE);
}

static void on_publisher_quality(zego_engine *engine, const char *stream_id,
                                 const zego_publish_stats *st, void *user_data)
{
    (void)engine;
    GstZegoObject *zobj = user_data;
    if (!is_my_published_stream(zobj, stream_id))
        return;
    gst_zego_object_post(
        zobj, gst_structure_new(
                  "zego-publisher-quality", "stream-id", G_TYPE_STRING, stream_id, "quality",
                  G_TYPE_STRING, zego_quality_level_name(st->quality), "video-fps", G_TYPE_DOUBLE,
                  st->video_fps, "audio-fps", G_TYPE_DOUBLE, st->audio_fps, "video-kbps",
                  G_TYPE_DOUBLE, st->video_kbps, "audio-kbps", G_TYPE_DOUBLE, st->audio_kbps,
                  "rtt-ms", G_TYPE_UINT, st->rtt_ms, "delay-ms", G_TYPE_INT64, (gint64)st->delay_ms,
                  "frames-sent", G_TYPE_UINT64, (guint64)st->frames_sent, "frames-dropped",
                  G_TYPE_UINT64, (guint64)st->frames_dropped, NULL));
}

static void on_player_quality(zego_engine *engine, const char *stream_id, const zego_play_stats *st,
                              void *user_data)
{
    (void)engine;
    GstZegoObject *zobj = user_data;
    if (zobj->is_sink)
        return;
    gst_zego_object_post(
        zobj, gst_structure_new(
                  "zego-player-quality", "stream-id", G_TYPE_STRING, stream_id, "quality",
                  G_TYPE_STRING, zego_quality_level_name(st->quality), "video-fps", G_TYPE_DOUBLE,
                  st->video_fps, "audio-fps", G_TYPE_DOUBLE, st->audio_fps, "video-kbps",
                  G_TYPE_DOUBLE, st->video_kbps, "audio-kbps", G_TYPE_DOUBLE, st->audio_kbps,
                  "rtt-ms", G_TYPE_UINT, st->rtt_ms, "delay-ms", G_TYPE_INT64, (gint64)st->delay_ms,
                  "frames-received", G_TYPE_UINT64, (guint64)st->frames_received, "frames-lost",
                  G_TYPE_UINT64, (guint64)st->frames_lost, NULL));
}

static void on_keyframe_request(zego_engine *engine, const char *stream_id, uint32_t track,
                                zego_keyframe_reason reason, void *user_data)
{
    (void)engine;
    GstZegoObject *zobj = user_data;
    if (!is_my_published_stream(zobj, stream_id))
        return;
    GST_DEBUG_OBJECT(zobj->element, "keyframe request for %s track %u (%s)", stream_id, track,
                     zego_keyframe_reason_name(reason));
    gst_zego_object_post(zobj,
                         gst_structure_new("zego-keyframe-request", "stream-id", G_TYPE_STRING,
                                           stream_id, "track", G_TYPE_UINT, track, "reason",
                                           G_TYPE_STRING, zego_keyframe_reason_name(reason), NULL));
    if (zobj->callbacks.keyframe_request)
        zobj->callbacks.keyframe_request(zobj->element, stream_id, track);
}

static void on_broadcast(zego_engine *engine, const char *room_id, const zego_user *from,
                         const char *message, uint64_t message_id, int64_t send_time_ms,
                         void *user_data)
{
    (void)engine, (void)message_id, (void)send_time_ms;
    gst_zego_object_post(user_data,
                         gst_structure_new("zego-broadcast-message", "room-id", G_TYPE_STRING,
                                           room_id, "user-id", G_TYPE_STRING, from->user_id,
                                           "user-name", G_TYPE_STRING, from->user_name, "message",
                                           G_TYPE_STRING, message, NULL));
}

static void on_command(zego_engine *engine, const char *room_id, const zego_user *from,
                       const char *command, int64_t send_time_ms, void *user_data)
{
    (void)engine, (void)send_time_ms;
    gst_zego_object_post(user_data,
                         gst_structure_new("zego-custom-command", "room-id", G_TYPE_STRING, room_id,
                                           "user-id", G_TYPE_STRING, from->user_id, "user-name",
                                           G_TYPE_STRING, from->user_name, "command", G_TYPE_STRING,
                                           command, NULL));
}

static void on_token_will_expire(zego_engine *engine, const char *room_id, uint32_t remaining_s,
                                 void *user_data)
{
    (void)engine;
    gst_zego_object_post(user_data, gst_structure_new("zego-token-will-expire", "room-id",
                                                      G_TYPE_STRING, room_id, "remaining-seconds",
                                                      G_TYPE_UINT, remaining_s, NULL));
}

/* libzegoroom's log lines, into the "zego" category. */
static void on_log(zego_log_level level, const char *message, void *user_data)
{
    (void)user_data;
    static const GstDebugLevel map[] = {GST_LEVEL_ERROR, GST_LEVEL_WARNING, GST_LEVEL_INFO,
                                        GST_LEVEL_DEBUG};
    GstDebugLevel gl = (unsigned)level < G_N_ELEMENTS(map) ? map[level] : GST_LEVEL_LOG;
    GST_CAT_LEVEL_LOG(gst_zego_debug, gl, NULL, "%s", message);
}

gboolean gst_zego_object_open(GstZegoObject *zobj)
{
    zego_error zerr;
    zego_engine_config cfg;
    zego_engine_config_init(&cfg);

    g_mutex_lock(&zobj->lock);
    if (zobj->engine) {
        g_mutex_unlock(&zobj->lock);
        return TRUE;
    }
    g_atomic_int_set(&zobj->error_posted, 0);
    g_atomic_int_set(&zobj->reconnects, 0);
    g_atomic_int_set(&zobj->pub_state, (gint)ZEGO_PUBLISHER_STATE_NO_PUBLISH);
    cfg.server_url = zobj->server;
    cfg.app_id = zobj->app_id;
    cfg.log = on_log;
    cfg.log_level = ZEGO_LOG_DEBUG;
    cfg.login_timeout_ms = zobj->login_timeout_ms;
    zego_room_config room = {.room_id = zobj->room_id,
                             .user_id = zobj->user_id ? zobj->user_id : zego_process_user_id(),
                             .user_name = zobj->user_name,
                             .token = zobj->token,
                             .user_update = true};
    GST_INFO_OBJECT(zobj->element, "logging into room %s at %s (app %u) as %s", room.room_id,
                    cfg.server_url, cfg.app_id, room.user_id);
    zego_engine *engine = zego_session_acquire(&cfg, &room, &zerr);
    g_mutex_unlock(&zobj->lock);
    if (!engine) {
        GST_ELEMENT_ERROR(
            zobj->element, RESOURCE, OPEN_READ_WRITE,
            ("Could not log into the room server %s: %s", cfg.server_url, zerr.message),
            ("ZEGO error %d (%s)", (int)zerr.code, zego_error_name(zerr.code)));
        return FALSE;
    }

    zego_event_handler h = {.user_data = zobj,
                            .room_state_update = on_room_state,
                            .room_user_update = on_users,
                            .room_stream_update = on_streams,
                            .room_stream_extra_info_update = on_extra_info,
                            .publisher_state_update = on_publisher_state,
                            .player_state_update = on_player_state,
                            .publisher_quality_update = on_publisher_quality,
                            .player_quality_update = on_player_quality,
                            .publisher_keyframe_request = on_keyframe_request,
                            .room_token_will_expire = on_token_will_expire,
                            .broadcast_message = on_broadcast,
                            .custom_command = on_command};
    /* The engine pointer is set before the handler can run. */
    g_mutex_lock(&zobj->lock);
    zobj->engine = engine;
    g_mutex_unlock(&zobj->lock);
    guint32 id = zego_engine_add_handler(engine, &h, &zerr);
    if (id == 0) {
        g_mutex_lock(&zobj->lock);
        zobj->engine = NULL;
        g_mutex_unlock(&zobj->lock);
        zego_session_release(engine);
        GST_ELEMENT_ERROR(zobj->element, RESOURCE, FAILED,
                          ("Could not watch the room: %s", zerr.message), (NULL));
        return FALSE;
    }
    g_mutex_lock(&zobj->lock);
    zobj->handler_id = id;
    g_mutex_unlock(&zobj->lock);
    return TRUE;
}

void gst_zego_object_close(GstZegoObject *zobj)
{
    g_mutex_lock(&zobj->lock);
    zego_engine *engine = zobj->engine;
    guint32 id = zobj->handler_id;
    zobj->handler_id = 0;
    g_mutex_unlock(&zobj->lock);
    if (!engine)
        return;
    if (id)
        zego_engine_remove_handler(engine, id);
    g_mutex_lock(&zobj->lock);
    zobj->engine = NULL;
    g_mutex_unlock(&zobj->lock);
    zego_session_release(engine);
}

zego_engine *gst_zego_object_get_engine(GstZegoObject *zobj)
{
    g_mutex_lock(&zobj->lock);
    zego_engine *e = zobj->engine;
    g_mutex_unlock(&zobj->lock);
    return e;
}

/* ---- URIs ---- */

gboolean gst_zego_object_set_uri(GstZegoObject *zobj, const gchar *uri, GError **error)
{
    GstUri *u = gst_uri_from_string(uri);
    if (!u || g_strcmp0(gst_uri_get_scheme(u), "zego") != 0 || !gst_uri_get_host(u)) {
        g_set_error(error, GST_URI_ERROR, GST_URI_ERROR_BAD_URI,
                    "Not a zego://HOST:PORT/ROOM/STREAM URI: %s", uri);
        if (u)
            gst_uri_unref(u);
        return FALSE;
    }
    GList *segments = gst_uri_get_path_segments(u);
    const gchar *parts[2] = {NULL, NULL};
    int n = 0;
    for (GList *l = segments; l; l = l->next)
        if (l->data && *(const gchar *)l->data && n < 2)
            parts[n++] = l->data;
    if (!parts[0]) {
        g_set_error(error, GST_URI_ERROR, GST_URI_ERROR_BAD_URI,
                    "The URI names no room (zego://HOST:PORT/ROOM/STREAM): %s", uri);
        g_list_free_full(segments, g_free);
        gst_uri_unref(u);
        return FALSE;
    }
    const gchar *tls = gst_uri_get_query_value(u, "tls");
    gboolean secure = tls && (g_str_equal(tls, "1") || g_str_equal(tls, "true"));
    guint port = gst_uri_get_port(u);
    gchar *server =
        port == GST_URI_NO_PORT
            ? g_strdup_printf("%s://%s:7600/ws", secure ? "wss" : "ws", gst_uri_get_host(u))
            : g_strdup_printf("%s://%s:%u/ws", secure ? "wss" : "ws", gst_uri_get_host(u), port);
    const gchar *app = gst_uri_get_query_value(u, "app-id");

    g_mutex_lock(&zobj->lock);
    g_free(zobj->server);
    zobj->server = server;
    g_free(zobj->room_id);
    zobj->room_id = g_strdup(parts[0]);
    g_free(zobj->stream_id);
    zobj->stream_id = g_strdup(parts[1]);
    if (app)
        zobj->app_id = (guint)g_ascii_strtoull(app, NULL, 10);
    const gchar *v;
    if ((v = gst_uri_get_query_value(u, "user-id"))) {
        g_free(zobj->user_id);
        zobj->user_id = g_strdup(v);
    }
    if ((v = gst_uri_get_query_value(u, "user-name"))) {
        g_free(zobj->user_name);
        zobj->user_name = g_strdup(v);
    }
    if ((v = gst_uri_get_query_value(u, "token"))) {
        g_free(zobj->token);
        zobj->token = g_strdup(v);
    }
    g_mutex_unlock(&zobj->lock);
    g_list_free_full(segments, g_free);
    gst_uri_unref(u);
    return TRUE;
}

gchar *gst_zego_object_get_uri(GstZegoObject *zobj)
{
    g_mutex_lock(&zobj->lock);
    if (!zobj->server || !zobj->room_id) {
        g_mutex_unlock(&zobj->lock);
        return NULL;
    }
    GstUri *server = gst_uri_from_string(zobj->server);
    GString *s = g_string_new("zego://");
    gboolean secure = g_str_has_prefix(zobj->server, "wss://");
    if (server && gst_uri_get_host(server)) {
        g_string_append(s, gst_uri_get_host(server));
        if (gst_uri_get_port(server) != GST_URI_NO_PORT)
            g_string_append_printf(s, ":%u", gst_uri_get_port(server));
    }
    gchar *room = g_uri_escape_string(zobj->room_id, NULL, FALSE);
    g_string_append_printf(s, "/%s", room);
    g_free(room);
    if (zobj->stream_id && *zobj->stream_id) {
        gchar *stream = g_uri_escape_string(zobj->stream_id, NULL, FALSE);
        g_string_append_printf(s, "/%s", stream);
        g_free(stream);
    }
    g_string_append_printf(s, "?app-id=%u", zobj->app_id);
    if (zobj->user_id) {
        gchar *user = g_uri_escape_string(zobj->user_id, NULL, FALSE);
        g_string_append_printf(s, "&user-id=%s", user);
        g_free(user);
    }
    if (secure)
        g_string_append(s, "&tls=1");
    g_mutex_unlock(&zobj->lock);
    if (server)
        gst_uri_unref(server);
    return g_string_free(s, FALSE);
}
