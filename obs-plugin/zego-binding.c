/* Scenes bound to rooms: every stream of the room (except the user's own)
 * becomes a zego_source in the scene, laid out in a grid, and goes when the
 * stream goes.
 *
 * A binding listens to the room on the shared session and keeps the set of
 * the room's streams; each change queues one "sync" task on the UI thread
 * (obs_queue_task(OBS_TASK_UI)), which adds the missing items, removes the
 * ones whose stream went, and lays them out again.  Items it adds are tagged
 * in their private settings, so a sync never touches the user's own items and
 * a scene collection loaded later is reconciled: the binding is stored in the
 * scene's private settings and comes back with the collection.
 *
 * Proc handlers on the global proc handler make it scriptable (and testable
 * without the frontend):
 *   zego_bind_scene(in string scene, in string settings): settings is the
 *       JSON of the room settings (server, app_id, room_id, user_id...)
 *   zego_unbind_scene(in string scene)
 *   zego_restore_bindings(): what loading a scene collection does: restarts
 *       the bindings stored in the current scenes and reconciles their items */
#include <pthread.h>
#include <string.h>

#include <util/threading.h>

#include "zego-binding.h"

#define TAG_KEY      "zego_binding_stream"
#define BINDING_KEY  "zego_binding"
#define MAX_BINDINGS 16
#define MAX_STREAMS  64

struct binding {
    char scene_name[256];
    obs_data_t *room; /* room settings */
    zego_engine *engine;
    uint32_t handler_id;

    pthread_mutex_t lock; /* the fields below */
    bool known;           /* the room's list is known (logged in once) */
    bool sync_queued;     /* a sync task is waiting */
    bool dead;            /* unbound: pending tasks do nothing and free it */
    long refs;            /* 1 for the table + 1 per queued task */
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct binding *bindings[MAX_BINDINGS];

static void binding_unref(struct binding *b)
{
    pthread_mutex_lock(&b->lock);
    bool last = --b->refs == 0;
    pthread_mutex_unlock(&b->lock);
    if (!last)
        return;
    obs_data_release(b->room);
    pthread_mutex_destroy(&b->lock);
    bfree(b);
}

/* ---- The scene (UI thread) ---- */

struct items {
    obs_sceneitem_t *item[MAX_STREAMS * 2];
    char stream[MAX_STREAMS * 2][ZEGO_STREAM_ID_SIZE];
    size_t n;
};

static bool collect_tagged(obs_scene_t *scene, obs_sceneitem_t *item, void *param)
{
    (void)scene;
    struct items *it = param;
    obs_data_t *priv = obs_sceneitem_get_private_settings(item);
    const char *stream = obs_data_get_string(priv, TAG_KEY);
    if (*stream && it->n < sizeof it->item / sizeof it->item[0]) {
        obs_sceneitem_addref(item);
        it->item[it->n] = item;
        snprintf(it->stream[it->n], sizeof it->stream[0], "%s", stream);
        it->n++;
    }
    obs_data_release(priv);
    return true;
}

static void layout(struct items *it)
{
    struct obs_video_info ovi;
    if (!it->n || !obs_get_video_info(&ovi))
        return;
    size_t cols = 1;
    while (cols * cols < it->n)
        cols++;
    size_t rows = (it->n + cols - 1) / cols;
    float w = (float)ovi.base_width / (float)cols, h = (float)ovi.base_height / (float)rows;
    for (size_t i = 0; i < it->n; i++) {
        struct vec2 pos = {.x = w * (float)(i % cols), .y = h * (float)(i / cols)};
        struct vec2 bounds = {.x = w, .y = h};
        obs_sceneitem_set_bounds_type(it->item[i], OBS_BOUNDS_SCALE_INNER);
        obs_sceneitem_set_bounds(it->item[i], &bounds);
        obs_sceneitem_set_pos(it->item[i], &pos);
    }
}

static void add_item(struct binding *b, obs_scene_t *scene, const char *stream_id, struct items *it)
{
    obs_data_t *s = obs_data_create();
    obs_data_apply(s, b->room);
    obs_data_set_string(s, ZOBS_S_STREAM_ID, stream_id);
    struct dstr name = {0};
    dstr_printf(&name, "%s %s", obs_module_text("ZegoSource"), stream_id);
    /* Source names are unique: a name taken by something else gets a number. */
    obs_source_t *existing = obs_get_source_by_name(name.array);
    for (int n = 2; existing && n < 100; n++) {
        obs_source_release(existing);
        dstr_printf(&name, "%s %s (%d)", obs_module_text("ZegoSource"), stream_id, n);
        existing = obs_get_source_by_name(name.array);
    }
    obs_source_release(existing);
    obs_source_t *src = obs_source_create("zego_source", name.array, s, NULL);
    obs_data_release(s);
    dstr_free(&name);
    if (!src)
        return;
    obs_sceneitem_t *item = obs_scene_add(scene, src);
    obs_source_release(src);
    if (!item)
        return;
    obs_data_t *priv = obs_sceneitem_get_private_settings(item);
    obs_data_set_string(priv, TAG_KEY, stream_id);
    obs_data_release(priv);
    if (it->n < sizeof it->item / sizeof it->item[0]) {
        obs_sceneitem_addref(item);
        it->item[it->n] = item;
        snprintf(it->stream[it->n], sizeof it->stream[0], "%s", stream_id);
        it->n++;
    }
    zobs_log(LOG_INFO, "scene '%s': added room stream '%s'", b->scene_name, stream_id);
}

static void sync_task(void *param)
{
    struct binding *b = param;
    /* The engine's list, not one built from events: from CONNECTED on it is
     * the room's, so a sync that runs between the CONNECTED event and the
     * stream events that follow it does not take the streams for gone.  The
     * engine stays while the binding is not dead (binding_stop marks it dead
     * first, under the lock held here). */
    zego_stream *room_list = bmalloc(MAX_STREAMS * sizeof *room_list);
    char(*streams)[ZEGO_STREAM_ID_SIZE] = bmalloc(MAX_STREAMS * sizeof *streams);
    size_t n = 0;
    pthread_mutex_lock(&b->lock);
    b->sync_queued = false;
    bool run = !b->dead && b->known && b->engine;
    if (run) {
        size_t all = zego_engine_get_streams(b->engine, room_list, MAX_STREAMS);
        for (size_t i = 0; i < all && i < MAX_STREAMS; i++)
            if (!zego_engine_is_own_stream(b->engine, &room_list[i]))
                snprintf(streams[n++], sizeof streams[0], "%s", room_list[i].stream_id);
    }
    pthread_mutex_unlock(&b->lock);
    bfree(room_list);

    obs_scene_t *scene = run ? obs_get_scene_by_name(b->scene_name) : NULL;
    if (scene) {
        struct items it = {0};
        obs_scene_enum_items(scene, collect_tagged, &it);
        /* Items whose stream went. */
        for (size_t i = 0; i < it.n;) {
            bool listed = false;
            for (size_t j = 0; j < n && !listed; j++)
                listed = strcmp(streams[j], it.stream[i]) == 0;
            if (listed) {
                i++;
                continue;
            }
            zobs_log(LOG_INFO, "scene '%s': removed room stream '%s'", b->scene_name, it.stream[i]);
            obs_sceneitem_remove(it.item[i]);
            obs_sceneitem_release(it.item[i]);
            it.n--;
            it.item[i] = it.item[it.n];
            memcpy(it.stream[i], it.stream[it.n], sizeof it.stream[0]);
        }
        /* Streams without an item. */
        for (size_t j = 0; j < n; j++) {
            bool present = false;
            for (size_t i = 0; i < it.n && !present; i++)
                present = strcmp(streams[j], it.stream[i]) == 0;
            if (!present)
                add_item(b, scene, streams[j], &it);
        }
        layout(&it);
        for (size_t i = 0; i < it.n; i++)
            obs_sceneitem_release(it.item[i]);
        obs_scene_release(scene);
    }
    bfree(streams);
    binding_unref(b);
}

/* With b->lock. */
static void queue_sync_locked(struct binding *b)
{
    if (b->sync_queued || b->dead)
        return;
    b->sync_queued = true;
    b->refs++;
    obs_queue_task(OBS_TASK_UI, sync_task, b, false);
}

/* ---- Room events (engine thread) ---- */

static void on_room_state(zego_engine *engine, const char *room_id, zego_room_state state,
                          zego_room_state_reason reason, int32_t code, const char *message,
                          void *user_data)
{
    (void)engine, (void)room_id, (void)reason, (void)code, (void)message;
    struct binding *b = user_data;
    if (state != ZEGO_ROOM_STATE_CONNECTED)
        return;
    pthread_mutex_lock(&b->lock);
    b->known = true;
    queue_sync_locked(b);
    pthread_mutex_unlock(&b->lock);
}

static void on_streams(zego_engine *engine, const char *room_id, zego_update_type type,
                       zego_delete_reason reason, const zego_stream *streams, size_t n,
                       void *user_data)
{
    (void)engine, (void)room_id, (void)type, (void)reason, (void)streams, (void)n;
    struct binding *b = user_data;
    pthread_mutex_lock(&b->lock);
    queue_sync_locked(b);
    pthread_mutex_unlock(&b->lock);
}

/* ---- Binding and unbinding ---- */

static struct binding **find_slot(const char *scene_name)
{
    for (size_t i = 0; i < MAX_BINDINGS; i++)
        if (bindings[i] && strcmp(bindings[i]->scene_name, scene_name) == 0)
            return &bindings[i];
    return NULL;
}

static void binding_stop(struct binding *b)
{
    /* Dead first: a sync task that runs now leaves the engine alone. */
    pthread_mutex_lock(&b->lock);
    b->dead = true;
    pthread_mutex_unlock(&b->lock);
    if (b->handler_id)
        zego_engine_remove_handler(b->engine, b->handler_id);
    if (b->engine)
        zego_session_release(b->engine);
    binding_unref(b);
}

bool zobs_binding_is_bound(const char *scene_name)
{
    pthread_mutex_lock(&table_lock);
    bool bound = find_slot(scene_name) != NULL;
    pthread_mutex_unlock(&table_lock);
    return bound;
}

/* Starts listening; remember: also store the binding in the scene. */
static bool binding_start(const char *scene_name, obs_data_t *room, bool remember)
{
    struct dstr msg = {0};
    if (!zobs_room_settings_check(room, false, &msg)) {
        zobs_log(LOG_WARNING, "scene '%s' not bound: %s", scene_name, msg.array);
        dstr_free(&msg);
        return false;
    }
    zobs_binding_unbind(scene_name, false);

    struct binding *b = bzalloc(sizeof *b);
    snprintf(b->scene_name, sizeof b->scene_name, "%s", scene_name);
    b->room = obs_data_create();
    obs_data_apply(b->room, room);
    obs_data_erase(b->room, ZOBS_S_STREAM_ID);
    pthread_mutex_init(&b->lock, NULL);
    b->refs = 1;

    pthread_mutex_lock(&table_lock);
    struct binding **slot = NULL;
    for (size_t i = 0; i < MAX_BINDINGS && !slot; i++)
        if (!bindings[i])
            slot = &bindings[i];
    if (slot)
        *slot = b;
    pthread_mutex_unlock(&table_lock);
    if (!slot) {
        zobs_log(LOG_WARNING, "scene '%s' not bound: at most %d bindings", scene_name,
                 MAX_BINDINGS);
        binding_unref(b);
        return false;
    }

    if (remember) {
        obs_source_t *scene = obs_get_source_by_name(scene_name);
        if (scene) {
            obs_data_t *priv = obs_source_get_private_settings(scene);
            obs_data_set_obj(priv, BINDING_KEY, b->room);
            obs_data_release(priv);
            obs_source_release(scene);
        }
    }

    zego_error zerr;
    b->engine = zobs_session_acquire(b->room, &zerr);
    if (!b->engine) {
        zobs_log(LOG_WARNING, "scene '%s': %s", scene_name, zerr.message);
        return true; /* bound, but without a room; unbinding clears it */
    }
    zego_event_handler handler = {
        .user_data = b,
        .room_state_update = on_room_state,
        .room_stream_update = on_streams,
    };
    b->handler_id = zego_engine_add_handler(b->engine, &handler, NULL);
    zobs_log(LOG_INFO, "scene '%s' bound to room '%s' at %s", scene_name,
             obs_data_get_string(b->room, ZOBS_S_ROOM_ID),
             obs_data_get_string(b->room, ZOBS_S_SERVER));
    return true;
}

bool zobs_binding_bind(const char *scene_name, obs_data_t *room)
{
    return binding_start(scene_name, room, true);
}

void zobs_binding_unbind(const char *scene_name, bool forget)
{
    pthread_mutex_lock(&table_lock);
    struct binding **slot = find_slot(scene_name);
    struct binding *b = slot ? *slot : NULL;
    if (slot)
        *slot = NULL;
    pthread_mutex_unlock(&table_lock);
    if (b) {
        zobs_log(LOG_INFO, "scene '%s' unbound", scene_name);
        binding_stop(b);
    }
    if (forget) {
        obs_source_t *scene = obs_get_source_by_name(scene_name);
        if (scene) {
            obs_data_t *priv = obs_source_get_private_settings(scene);
            obs_data_erase(priv, BINDING_KEY);
            obs_data_release(priv);
            obs_source_release(scene);
        }
    }
}

void zobs_binding_unbind_all(void)
{
    for (;;) {
        pthread_mutex_lock(&table_lock);
        struct binding *b = NULL;
        for (size_t i = 0; i < MAX_BINDINGS && !b; i++) {
            if (bindings[i]) {
                b = bindings[i];
                bindings[i] = NULL;
            }
        }
        pthread_mutex_unlock(&table_lock);
        if (!b)
            return;
        binding_stop(b);
    }
}

static bool restore_scene(void *param, obs_source_t *scene)
{
    (void)param;
    obs_data_t *priv = obs_source_get_private_settings(scene);
    obs_data_t *room = obs_data_get_obj(priv, BINDING_KEY);
    if (room)
        binding_start(obs_source_get_name(scene), room, false);
    obs_data_release(room);
    obs_data_release(priv);
    return true;
}

void zobs_binding_restore_all(void)
{
    zobs_binding_unbind_all();
    obs_enum_scenes(restore_scene, NULL);
}

/* ---- Proc handlers ---- */

static void proc_bind(void *data, calldata_t *cd)
{
    (void)data;
    const char *scene = calldata_string(cd, "scene");
    const char *json = calldata_string(cd, "settings");
    obs_data_t *room = json ? obs_data_create_from_json(json) : NULL;
    bool ok = false;
    if (scene && room) {
        zobs_room_defaults(room);
        ok = zobs_binding_bind(scene, room);
    }
    obs_data_release(room);
    calldata_set_bool(cd, "ok", ok);
}

static void proc_unbind(void *data, calldata_t *cd)
{
    (void)data;
    const char *scene = calldata_string(cd, "scene");
    if (scene)
        zobs_binding_unbind(scene, true);
}

static void proc_restore(void *data, calldata_t *cd)
{
    (void)data, (void)cd;
    zobs_binding_restore_all();
}

void zobs_binding_init(void)
{
    proc_handler_t *ph = obs_get_proc_handler();
    proc_handler_add(ph, "void zego_bind_scene(in string scene, in string settings, out bool ok)",
                     proc_bind, NULL);
    proc_handler_add(ph, "void zego_unbind_scene(in string scene)", proc_unbind, NULL);
    proc_handler_add(ph, "void zego_restore_bindings()", proc_restore, NULL);
}
