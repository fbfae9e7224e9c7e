/* The frontend part: OBS 29 cannot list a third-party service under
 * Settings > Stream, so the output is driven from the Tools menu (settings,
 * start, stop, binding the current scene to the room) and two hotkeys.  The
 * settings dialog is the properties dialog of a private settings source whose
 * properties are the output's; they are saved in the profile (section
 * ZegoRoom of basic.ini) when changed, when the profile changes and when OBS
 * exits, with the hotkeys' bindings (section Hotkeys, where OBS's settings
 * dialog writes them).  The output is one named "zego-room", so
 * obs-websocket's StartOutput/StopOutput find it by name, and the hotkeys
 * are zego_room.start and zego_room.stop (TriggerHotkeyByName). */
#include <obs-frontend-api.h>
#include <util/config-file.h>

#include "zego-binding.h"

#define OUTPUT_NAME     "zego-room"
#define CONFIG_SECTION  "ZegoRoom"
#define SETTINGS_SOURCE "zego_output_settings"
#define HOTKEY_START    "zego_room.start"
#define HOTKEY_STOP     "zego_room.stop"

static obs_output_t *output;
static obs_source_t *settings_source;
static obs_hotkey_pair_id hotkeys = OBS_INVALID_HOTKEY_PAIR_ID;
static bool frontend_present;
static bool loading; /* settings are being loaded: do not save them back */

/* ---- Profile ---- */

/* OBS's Settings > Hotkeys stores a frontend hotkey's bindings in the
 * profile as [Hotkeys] NAME={"bindings": [...]}, but loads only its own
 * hotkeys from there: the module loads its two.  Earlier versions kept them
 * as [ZegoRoom] Hotkeys={"start": [...], "stop": [...]}, still read when the
 * former is missing. */
static obs_data_array_t *load_bindings(config_t *cfg, const char *name, const char *legacy_key)
{
    const char *json = config_get_string(cfg, "Hotkeys", name);
    const char *key = "bindings";
    if (!json || !*json) {
        json = config_get_string(cfg, CONFIG_SECTION, "Hotkeys");
        key = legacy_key;
    }
    obs_data_t *d = json && *json ? obs_data_create_from_json(json) : NULL;
    obs_data_array_t *bindings = d ? obs_data_get_array(d, key) : NULL;
    obs_data_release(d);
    return bindings;
}

static void save_bindings(config_t *cfg, const char *name, obs_data_array_t *bindings)
{
    obs_data_t *d = obs_data_create();
    obs_data_set_array(d, "bindings", bindings);
    config_set_string(cfg, "Hotkeys", name, obs_data_get_json(d));
    obs_data_release(d);
}

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
    save_bindings(cfg, HOTKEY_START, start);
    save_bindings(cfg, HOTKEY_STOP, stop);
    config_remove_value(cfg, CONFIG_SECTION, "Hotkeys");
    obs_data_array_release(start);
    obs_data_array_release(stop);
    config_save_safe(cfg, "tmp", NULL);
}

/* Replaces (not merges) the settings and hotkeys with the profile's: a
 * profile without them gets the defaults and no bindings, not the ones of
 * the profile before. */
static void load_settings(void)
{
    config_t *cfg = obs_frontend_get_profile_config();
    const char *json = cfg ? config_get_string(cfg, CONFIG_SECTION, "Settings") : NULL;
    obs_data_t *s = json && *json ? obs_data_create_from_json(json) : obs_data_create();
    loading = true;
    obs_data_t *cur = obs_output_get_settings(output);
    obs_data_clear(cur);
    obs_data_release(cur);
    obs_output_update(output, s);
    cur = obs_source_get_settings(settings_source);
    obs_data_clear(cur);
    obs_data_release(cur);
    obs_source_update(settings_source, s);
    loading = false;
    obs_data_release(s);

    obs_data_array_t *start = cfg ? load_bindings(cfg, HOTKEY_START, "start") : NULL;
    obs_data_array_t *stop = cfg ? load_bindings(cfg, HOTKEY_STOP, "stop") : NULL;
    /* Empty, not NULL: obs_hotkey_pair_load keeps the bindings for two NULLs. */
    if (!start)
        start = obs_data_array_create();
    if (!stop)
        stop = obs_data_array_create();
    obs_hotkey_pair_load(hotkeys, start, stop);
    obs_data_array_release(start);
    obs_data_array_release(stop);
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

static bool start_output(void)
{
    if (!output || obs_output_active(output))
        return false;
    if (!obs_output_start(output)) {
        const char *err = obs_output_get_last_error(output);
        zobs_log(LOG_WARNING, "could not start publishing: %s", err ? err : "see the log");
        return false;
    }
    return true;
}

static void stop_output(void)
{
    if (output && obs_output_active(output))
        obs_output_stop(output);
}

static bool hotkey_start(void *data, obs_hotkey_pair_id id, obs_hotkey_t *hotkey, bool pressed)
{
    (void)data, (void)id, (void)hotkey;
    /* Not started: the pair stays on "start". */
    return pressed && start_output();
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
    case OBS_FRONTEND_EVENT_PROFILE_CHANGING:
        save_settings(); /* into the profile being left */
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
        save_settings(); /* hotkeys may have changed in OBS's settings */
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
    hotkeys = obs_hotkey_pair_register_frontend(HOTKEY_START, obs_module_text("Hotkey.Start"),
                                                HOTKEY_STOP, obs_module_text("Hotkey.Stop"),
                                                hotkey_start, hotkey_stop, NULL, NULL);
    obs_frontend_add_tools_menu_item(obs_module_text("Menu.Settings"), menu_settings, NULL);
    obs_frontend_add_tools_menu_item(obs_module_text("Menu.Start"), menu_start, NULL);
    obs_frontend_add_tools_menu_item(obs_module_text("Menu.Stop"), menu_stop, NULL);
    obs_frontend_add_tools_menu_item(obs_module_text("Menu.Bind"), menu_bind, NULL);
    obs_frontend_add_event_callback(on_frontend_event, NULL);
    zobs_log(LOG_INFO, "Tools menu: 4 entries; hotkeys %s, %s; output '%s'", HOTKEY_START,
             HOTKEY_STOP, OUTPUT_NAME);
}

void zobs_frontend_shutdown(void)
{
    if (!frontend_present)
        return;
    obs_frontend_remove_event_callback(on_frontend_event, NULL);
    release_objects();
}
