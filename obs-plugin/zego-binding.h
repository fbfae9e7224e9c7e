/* Scenes bound to rooms: each stream of the room becomes a zego_source in
 * the scene (a grid), removed when the stream goes.  See zego-binding.c. */
#ifndef ZEGO_BINDING_H
#define ZEGO_BINDING_H

#include "zego-obs.h"

/* Registers the proc handlers zego_bind_scene, zego_unbind_scene and
 * zego_restore_bindings. */
void zobs_binding_init(void);

/* Binds a scene (by name) to the room of the settings, and stores the
 * binding in the scene so that it comes back with the scene collection. */
bool zobs_binding_bind(const char *scene_name, obs_data_t *room);
/* Stops a binding; forget: also remove it from the scene.  The items it
 * added stay. */
void zobs_binding_unbind(const char *scene_name, bool forget);
bool zobs_binding_is_bound(const char *scene_name);

/* Stops every binding (a scene collection is going away, the module unloads). */
void zobs_binding_unbind_all(void);
/* Starts the bindings stored in the current scenes, reconciling their items
 * with the rooms (a scene collection was loaded). */
void zobs_binding_restore_all(void);

#endif
