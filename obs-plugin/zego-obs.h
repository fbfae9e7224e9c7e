/* What the OBS module's parts share: the log helper, the room settings every
 * part has (server, app ID, room, user, token) and the shared session they
 * log in with, and the mapping of ZEGO error codes to OBS stop codes and
 * messages a user can act on. */
#ifndef ZEGO_OBS_H
#define ZEGO_OBS_H

#include <obs-module.h>
#include <util/dstr.h>
#include <zego/zego.h>

#define ZOBS_MODULE_NAME "obs-zego"

#define zobs_log(level, format, ...) blog(level, "[" ZOBS_MODULE_NAME "] " format, ##__VA_ARGS__)

/* Setting names, shared by the output, the source and the frontend. */
#define ZOBS_S_SERVER        "server"
#define ZOBS_S_APP_ID        "app_id"
#define ZOBS_S_ROOM_ID       "room_id"
#define ZOBS_S_USER_ID       "user_id"
#define ZOBS_S_USER_NAME     "user_name"
#define ZOBS_S_TOKEN         "token"
#define ZOBS_S_STREAM_ID     "stream_id"
#define ZOBS_S_LOGIN_TIMEOUT "login_timeout_ms"
#define ZOBS_S_GIVE_UP       "reconnect_give_up_ms"

#define ZOBS_DEFAULT_SERVER "ws://127.0.0.1:7600/ws"

/* Track ids of what the module publishes. */
#define ZOBS_VIDEO_TRACK 0
#define ZOBS_AUDIO_TRACK 1

/* Defaults of the room settings. */
void zobs_room_defaults(obs_data_t *settings);
/* Adds the room settings' fields to a properties view. */
void zobs_room_properties(obs_properties_t *props);

/* Checks the room settings (and the stream ID when need_stream); on a problem
 * writes a message naming the setting into *msg and returns false. */
bool zobs_room_settings_check(obs_data_t *settings, bool need_stream, struct dstr *msg);

/* Logs in through the process-wide shared session of (server, app, room,
 * user); without a user ID the process's generated one is used. */
zego_engine *zobs_session_acquire(obs_data_t *settings, zego_error *err);

/* The OBS_OUTPUT_* stop code for a ZEGO error code of a failed login or
 * publish. */
int zobs_stop_code_for(int32_t code);

/* A sentence for the user about a failed login or publish: what happened and
 * what to do, from the locale. */
void zobs_error_message(int32_t code, const char *server, const char *room_id,
                        const char *stream_id, const char *detail, struct dstr *out);

/* zego_output's defaults and properties (the frontend's settings dialog). */
void zego_output_defaults(obs_data_t *settings);
obs_properties_t *zego_output_properties(void *data);

/* The frontend: Tools menu, hotkeys, the output kept with the profile.
 * Does nothing without OBS's frontend (a headless libobs). */
void zobs_frontend_init(void);
void zobs_frontend_shutdown(void);

/* Microseconds of an encoder packet's timestamp. */
int64_t zobs_ts_to_us(int64_t ts, int32_t num, int32_t den);

#endif
