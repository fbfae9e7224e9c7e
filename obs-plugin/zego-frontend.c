/* The frontend part: OBS 29 cannot list a third-party service under
 * Settings > Stream, so the output is driven from the Tools menu (settings,
 * start, stop, binding the current scene to the room) and two hotkeys.  The
 * settings dialog is the properties dialog of a private settings source whose
 * properties are the output's; they are saved in the profile (section
 * ZegoRoom of basic.ini), with the hotkeys.  The output is one named
 * "zego-room", so obs-websocket's StartOutput/StopOutput find it by name. */
#include <obs-frontend-api.h>
#include <util/config-file.h>

#include "zego-binding.h"

#define OUTPUT_NAME     "zego-room"
#define CONFIG_SECTION  "ZegoRoom"
#define SETTINGS_SOURCE "zego_output_settings"

static obs_output_t *output;
static obs_source_t *settings_source;
static obs_hotkey_pair_id hotkeys = OBS_INVALID_HOTKEY_PAIR_ID;
static bool frontend_present;
static bool loading; /* settings are being loaded: do not save them back */

/* ---- Profile ---- */

static void save_settings(void)
{
    config_t *cfg = obs_frontend_get_profile_config();
    if (!cfg || !output)
        return;
    obs_data_t *s = obs_output_get_settings(output);
    config_set_string(cfg, CONFIG_SECTION, "Settings", obs_data_get_json(s));
    obs_data_release(s);
    obs_data_array_t *start = NULL, *stop = NULL;
    obs_hotkey_pair_save(hotkeys, &start, &stop);
    obs_data_t *hk = obs_data_create();
    obs_data_set_array(hk, "start", start);
    obs_data_set_array(hk, "stop", stop);
    config_set_string(cfg, CONFIG_SECTION, "Hotkeys", obs_data_get_json(hk));
    obs_data_release(hk);
    obs_data_array_release(start);
    obs_data_array_release(stop);
    config_save_safe(cfg, "tmp", NULL);
}

static void load_settings(void)
{
    config_t *cfg = obs_frontend_get_profile_config();
    const char *json = cfg ? config_get_string(cfg, CONFIG_SECTION, "Settings") : NULL;
    obs_data_t *s = json && *json ? obs_data_create_from_json(json) : obs_data_create();
    loading = true;
    obs_output_update(output, s);
    obs_source_update(settings_source, s);
    loading = false;
    obs_data_release(s);

    json = cfg ? config_get_string(cfg, CONFIG_SECTION, "Hotkeys") : NULL;
    obs_data_t *hk = json && *json ? obs_data_create_from_json(json) : NULL;
    if (hk) {
        obs_data_array_t *start = obs_data_get_array(hk, "start");
        obs_data_array_t *stop = obs_data_get_array(hk, "stop");
        obs_hotkey_pair_load(hotkeys, start, stop);
        obs_data_array_release(start);
        obs_data_array_release(stop);
        obs_data_release(hk);
    }
}

/* ---- The settings source: its properties are the output's ---- */

static const char *settings_get_name(void *type_data)
{
    (void)type_data;
    return obs_module_text("ZegoOutput");
}

static void *settings_create(obs_data_t *settings, obs_source_t *source)
{
    (void)settings;
    return source;
}

static void settings_destroy(void *data)
{
    (void)data;
}

static void settings_update(void *data, obs_data_t *settings)
{
    (void)data;
    if (loading || !output)
        return;
    obs_output_update(output, settings);
    save_settings();
}

static struct obs_source_info settings_source_info = {
    .id = SETTINGS_SOURCE,
    .type = OBS_SOURCE_TYPE_INPUT,
    .output_flags = OBS_SOURCE_CAP_DISABLED,
    .get_name = settings_get_name,
    .create = settings_create,
    .destroy = settings_destroy,
    .update = settings_update,
    .get_defaults = zego_output_defaults,
    .get_properties = zego_output_properties,
};

/* ---- Start, stop ---- */

static void start_output(void)
{
    if (!output || obs_output_active(output))
        return;
    if (!obs_output_start(output)) {
        const char *err = obs_output_get_last_error(output);
        zobs_log(LOG_WARNING, "could not start publishing: %s", err ? err : "see the log");
    }
}

static void stop_output(void)
{
    if (output && obs_output_active(output))
        obs_output_stop(output);
}

static bool hotkey_start(void *data, obs_hotkey_pair_id id, obs_hotkey_t *hotkey, bool pressed)
{
    (void)data, (void)id, (void)hotkey;
    if (!pressed || (output && obs_output_active(output)))
        return false;
    start_output();
    return true;
}

static bool hotkey_stop(void *data, obs_hotkey_pair_id id, obs_hotkey_t *hotkey, bool pressed)
{
    (void)data, (void)id, (void)hotkey;
    if (!pressed || !output || !obs_output_active(output))
        return false;
    stop_output();
    return true;
}

static void menu_settings(void *data)
{
    (void)data;
    obs_frontend_open_source_properties(settings_source);
}

static void menu_start(void *data)
{
    (void)data;
    start_output();
}

static void menu_stop(void *data)
{
    (void)data;
    stop_output();
}

/* Binds the current scene to the output's room, or unbinds it. */
static void menu_bind(void *data)
{
    (void)data;
    obs_source_t *scene = obs_frontend_get_current_scene();
    if (!scene)
        return;
    const char *name = obs_source_get_name(scene);
    if (zobs_binding_is_bound(name)) {
        zobs_binding_unbind(name, true);
    } else {
        obs_data_t *s = obs_output_get_settings(output);
        zobs_binding_bind(name, s);
        obs_data_release(s);
    }
    obs_source_release(scene);
}

/* Before libobs shuts down: the output and the hotkeys go with OBS's exit. */
static void release_objects(void)
{
    if (hotkeys != OBS_INVALID_HOTKEY_PAIR_ID)
        obs_hotkey_pair_unregister(hotkeys);
    hotkeys = OBS_INVALID_HOTKEY_PAIR_ID;
    obs_output_release(output);
    output = NULL;
    obs_source_release(settings_source);
    settings_source = NULL;
}

static void on_frontend_event(enum obs_frontend_event event, void *data)
{
    (void)data;
    switch (event) {
    case OBS_FRONTEND_EVENT_FINISHED_LOADING:
        load_settings();
        zobs_binding_restore_all();
        break;
    case OBS_FRONTEND_EVENT_PROFILE_CHANGED:
        load_settings();
        break;
    case OBS_FRONTEND_EVENT_SCENE_COLLECTION_CHANGED:
        zobs_binding_restore_all();
        break;
    case OBS_FRONTEND_EVENT_SCENE_COLLECTION_CLEANUP:
        zobs_binding_unbind_all();
        break;
    case OBS_FRONTEND_EVENT_EXIT:
        stop_output();
        zobs_binding_unbind_all();
        release_objects();
        break;
    default:
        break;
    }
}

void zobs_frontend_init(void)
{
    /* Without OBS's frontend (a headless libobs) there is no menu. */
    if (!obs_frontend_get_main_window())
        return;
    frontend_present = true;
    obs_register_source(&settings_source_info);
    settings_source =
        obs_source_create_private(SETTINGS_SOURCE, obs_module_text("ZegoOutput"), NULL);
    output = obs_output_create("zego_output", OUTPUT_NAME, NULL, NULL);
    hotkeys = obs_hotkey_pair_register_frontend("zego_room.start", obs_module_text("Hotkey.Start"),
                                                "zego_room.stop", obs_module_text("Hotkey.Stop"),
                                                hotkey_start, hotkey_stop, NULL, NULL);
    obs_frontend_add_tools_menu_item(obs_module_text("Menu.Settings"), menu_settings, NULL);
    obs_frontend_add_tools_menu_item(obs_module_text("Menu.Start"), menu_start, NULL);
    obs_frontend_add_tools_menu_item(obs_module_text("Menu.Stop"), menu_stop, NULL);
    obs_frontend_add_tools_menu_item(obs_module_text("Menu.Bind"), menu_bind, NULL);
    obs_frontend_add_event_callback(on_frontend_event, NULL);
}

void zobs_frontend_shutdown(void)
{
    if (!frontend_present)
        return;
    obs_frontend_remove_event_callback(on_frontend_event, NULL);
    release_objects();
}
