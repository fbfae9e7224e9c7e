/* The OBS module "obs-zego": registers zego_output and zego_source. */
#include "zego-binding.h"

OBS_DECLARE_MODULE()
OBS_MODULE_USE_DEFAULT_LOCALE(ZOBS_MODULE_NAME, "en-US")

extern struct obs_output_info zego_output_info;
extern struct obs_source_info zego_source_info;

MODULE_EXPORT const char *obs_module_description(void)
{
    return "Publish OBS into zego-room rooms and show room streams in scenes";
}

bool obs_module_load(void)
{
    obs_register_output(&zego_output_info);
    obs_register_source(&zego_source_info);
    zobs_binding_init();
    zobs_frontend_init();
    zobs_log(LOG_INFO, "loaded (version %s)", ZEGO_ROOM_VERSION);
    return true;
}

void obs_module_unload(void)
{
    zobs_frontend_shutdown();
    zobs_binding_unbind_all();
}
