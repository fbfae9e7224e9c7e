/* The parts the module's output, source and frontend share; see zego-obs.h. */
#include <string.h>

#include "zego-obs.h"

static void engine_log(zego_log_level level, const char *message, void *user_data)
{
    (void)user_data;
    int obs_level = level == ZEGO_LOG_ERROR     ? LOG_ERROR
                    : level == ZEGO_LOG_WARNING ? LOG_WARNING
                    : level == ZEGO_LOG_INFO    ? LOG_INFO
                                                : LOG_DEBUG;
    blog(obs_level, "[" ZOBS_MODULE_NAME "] engine: %s", message);
}

/* A localized sentence with %1 and %2 replaced: translators may reorder
 * them, and no translated text is ever a printf format. */
static void localized(struct dstr *out, const char *key, const char *arg1, const char *arg2)
{
    dstr_copy(out, obs_module_text(key));
    dstr_replace(out, "%1", arg1 ? arg1 : "");
    dstr_replace(out, "%2", arg2 ? arg2 : "");
}

void zobs_room_defaults(obs_data_t *settings)
{
    obs_data_set_default_string(settings, ZOBS_S_SERVER, ZOBS_DEFAULT_SERVER);
    obs_data_set_default_int(settings, ZOBS_S_APP_ID, 1);
    obs_data_set_default_string(settings, ZOBS_S_ROOM_ID, "room-1");
    obs_data_set_default_string(settings, ZOBS_S_USER_ID, "");
    obs_data_set_default_string(settings, ZOBS_S_USER_NAME, "OBS");
    obs_data_set_default_string(settings, ZOBS_S_TOKEN, "");
    obs_data_set_default_int(settings, ZOBS_S_LOGIN_TIMEOUT, 15000);
}

void zobs_room_properties(obs_properties_t *props)
{
    obs_properties_add_text(props, ZOBS_S_SERVER, obs_module_text("Server"), OBS_TEXT_DEFAULT);
    obs_properties_add_int(props, ZOBS_S_APP_ID, obs_module_text("AppID"), 1, 0x7fffffff, 1);
    obs_properties_add_text(props, ZOBS_S_ROOM_ID, obs_module_text("RoomID"), OBS_TEXT_DEFAULT);
    obs_property_t *p =
        obs_properties_add_text(props, ZOBS_S_USER_ID, obs_module_text("UserID"), OBS_TEXT_DEFAULT);
    obs_property_set_long_description(p, obs_module_text("UserID.Description"));
    obs_properties_add_text(props, ZOBS_S_USER_NAME, obs_module_text("UserName"), OBS_TEXT_DEFAULT);
    obs_properties_add_text(props, ZOBS_S_TOKEN, obs_module_text("Token"), OBS_TEXT_PASSWORD);
}

static bool check_id(int (*validate)(const char *, zego_error *), const char *value,
                     const char *label, struct dstr *msg)
{
    zego_error zerr;
    if (validate(value ? value : "", &zerr) == ZEGO_ERR_OK)
        return true;
    dstr_printf(msg, "%s: %s", obs_module_text(label), zerr.message);
    return false;
}

bool zobs_room_settings_check(obs_data_t *settings, bool need_stream, struct dstr *msg)
{
    const char *server = obs_data_get_string(settings, ZOBS_S_SERVER);
    const char *user_id = obs_data_get_string(settings, ZOBS_S_USER_ID);
    const char *user_name = obs_data_get_string(settings, ZOBS_S_USER_NAME);
    if (strncmp(server, "ws://", 5) != 0 && strncmp(server, "wss://", 6) != 0) {
        localized(msg, "Error.ServerUrl", server, NULL);
        return false;
    }
    if (obs_data_get_int(settings, ZOBS_S_APP_ID) <= 0) {
        dstr_copy(msg, obs_module_text("Error.AppId"));
        return false;
    }
    if (!check_id(zego_validate_room_id, obs_data_get_string(settings, ZOBS_S_ROOM_ID), "RoomID",
                  msg))
        return false;
    if (*user_id && !check_id(zego_validate_user_id, user_id, "UserID", msg))
        return false;
    if (*user_name && !check_id(zego_validate_user_name, user_name, "UserName", msg))
        return false;
    if (need_stream && !check_id(zego_validate_stream_id,
                                 obs_data_get_string(settings, ZOBS_S_STREAM_ID), "StreamID", msg))
        return false;
    return true;
}

zego_engine *zobs_session_acquire(obs_data_t *settings, zego_error *err)
{
    zego_engine_config cfg;
    zego_engine_config_init(&cfg);
    cfg.server_url = obs_data_get_string(settings, ZOBS_S_SERVER);
    cfg.app_id = (uint32_t)obs_data_get_int(settings, ZOBS_S_APP_ID);
    cfg.log = engine_log;
    long long timeout = obs_data_get_int(settings, ZOBS_S_LOGIN_TIMEOUT);
    if (timeout >= 1000)
        cfg.login_timeout_ms = (uint32_t)timeout;
    /* Not in the properties: how long a lost connection is retried before
     * the room gives up (default: the engine's, 20 minutes). */
    long long give_up = obs_data_get_int(settings, ZOBS_S_GIVE_UP);
    if (give_up >= 1000)
        cfg.reconnect_give_up_ms = (uint32_t)give_up;
    const char *user_id = obs_data_get_string(settings, ZOBS_S_USER_ID);
    zego_room_config room = {
        .room_id = obs_data_get_string(settings, ZOBS_S_ROOM_ID),
        .user_id = *user_id ? user_id : zego_process_user_id(),
        .user_name = obs_data_get_string(settings, ZOBS_S_USER_NAME),
        .token = obs_data_get_string(settings, ZOBS_S_TOKEN),
    };
    return zego_session_acquire(&cfg, &room, err);
}

static bool is_auth_code(int32_t code)
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
        return true;
    default:
        return false;
    }
}

int zobs_stop_code_for(int32_t code)
{
    if (code == ZEGO_ERR_CONNECT_FAILED || code == ZEGO_ERR_LOGIN_TIMEOUT ||
        code == ZEGO_ERR_REDIRECT)
        return OBS_OUTPUT_CONNECT_FAILED;
    if (is_auth_code(code) || code == ZEGO_ERR_STREAM_ALREADY_PUBLISHED)
        return OBS_OUTPUT_INVALID_STREAM;
    if (code == ZEGO_ERR_RECONNECT_FAILED || code == ZEGO_ERR_KICKED_OUT)
        return OBS_OUTPUT_DISCONNECTED;
    return OBS_OUTPUT_ERROR;
}

void zobs_error_message(int32_t code, const char *server, const char *room_id,
                        const char *stream_id, const char *detail, struct dstr *out)
{
    const char *desc = zego_error_description(code);
    if (code == ZEGO_ERR_CONNECT_FAILED || code == ZEGO_ERR_LOGIN_TIMEOUT)
        localized(out, "Error.Connect", server, NULL);
    else if (code == ZEGO_ERR_STREAM_ALREADY_PUBLISHED)
        localized(out, "Error.StreamTaken", stream_id, NULL);
    else if (is_auth_code(code))
        localized(out, "Error.Token", room_id, desc ? desc : "");
    else if (code == ZEGO_ERR_RECONNECT_FAILED)
        localized(out, "Error.Disconnected", server, NULL);
    else if (code == ZEGO_ERR_KICKED_OUT)
        localized(out, "Error.KickedOut", room_id, NULL);
    else
        localized(out, "Error.Other", desc ? desc : "", NULL);
    dstr_catf(out, " (%s %d%s%s)", zego_error_name(code) ? zego_error_name(code) : "error",
              (int)code, detail && *detail ? ": " : "", detail ? detail : "");
}

int64_t zobs_ts_to_us(int64_t ts, int32_t num, int32_t den)
{
    if (den <= 0)
        return 0;
    return (int64_t)((__int128)ts * 1000000 * num / den);
}
