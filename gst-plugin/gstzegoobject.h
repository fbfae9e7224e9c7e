/* What zegosink and zegosrc share: the room properties, the login through a
 * shared session of libzegoroom, the element messages posted for every room
 * event, and the mapping of ZEGO error codes to GStreamer errors. */
#ifndef GST_ZEGO_OBJECT_H
#define GST_ZEGO_OBJECT_H

#include <gst/gst.h>
#include <zego/zego.h>

G_BEGIN_DECLS

/* The category libzegoroom's own log lines go to. */
GST_DEBUG_CATEGORY_EXTERN(gst_zego_debug);

/* Property ids of the common properties; each element numbers its own from
 * PROP_ZEGO_LAST on. */
enum {
    PROP_ZEGO_0,
    PROP_ZEGO_SERVER,
    PROP_ZEGO_APP_ID,
    PROP_ZEGO_ROOM_ID,
    PROP_ZEGO_USER_ID,
    PROP_ZEGO_USER_NAME,
    PROP_ZEGO_TOKEN,
    PROP_ZEGO_STREAM_ID,
    PROP_ZEGO_LOGIN_TIMEOUT,
    PROP_ZEGO_URI,
    PROP_ZEGO_LAST
};

typedef struct GstZegoObject GstZegoObject;

/* Element-specific reactions to engine events.  They run on the engine
 * thread and must not block. */
typedef struct GstZegoObjectCallbacks {
    void (*room_state)(GstElement *element, zego_room_state state, int32_t code);
    void (*stream_update)(GstElement *element, zego_engine *engine, zego_update_type type,
                          zego_delete_reason reason, const zego_stream *streams, size_t n);
    void (*keyframe_request)(GstElement *element, const char *stream_id, uint32_t track);
} GstZegoObjectCallbacks;

struct GstZegoObject {
    GstElement *element;
    gboolean is_sink;
    GstZegoObjectCallbacks callbacks;

    GMutex lock; /* the properties and the engine pointer */
    gchar *server;
    guint app_id;
    gchar *room_id;
    gchar *user_id;
    gchar *user_name;
    gchar *token;
    gchar *stream_id;
    guint login_timeout_ms;

    zego_engine *engine;
    guint32 handler_id;
    gint error_posted; /* atomic: a fatal error was posted already */
    gint reconnects;   /* atomic: times the room was reconnected since open */
    gint pub_state;    /* atomic: the last zego_publisher_state of the sink's stream */
};

GstZegoObject *gst_zego_object_new(GstElement *element, gboolean is_sink,
                                   const GstZegoObjectCallbacks *callbacks);
void gst_zego_object_free(GstZegoObject *zobj);

void gst_zego_object_install_properties(GObjectClass *gobject_class, gboolean is_sink);
gboolean gst_zego_object_set_property(GstZegoObject *zobj, guint prop_id, const GValue *value,
                                      GParamSpec *pspec);
gboolean gst_zego_object_get_property(GstZegoObject *zobj, guint prop_id, GValue *value,
                                      GParamSpec *pspec);

/* Checks the settings; on a problem posts an error naming it and returns
 * FALSE.  stream_id_required: the sink needs one. */
gboolean gst_zego_object_validate(GstZegoObject *zobj, gboolean stream_id_required);

/* Acquires the shared session (logging in) and adds the handler.  Posts an
 * error and returns FALSE on failure. */
gboolean gst_zego_object_open(GstZegoObject *zobj);
/* Removes the handler and releases the session.  Not from the engine thread. */
void gst_zego_object_close(GstZegoObject *zobj);

/* The engine, or NULL when not open (no reference is taken: valid while the
 * element is between open and close). */
zego_engine *gst_zego_object_get_engine(GstZegoObject *zobj);

/* Posts an element message with the given structure. */
void gst_zego_object_post(GstZegoObject *zobj, GstStructure *s);

/* Maps a refusal of a publish or play to a GStreamer error and posts it. */
void gst_zego_object_post_stream_error(GstZegoObject *zobj, const char *stream_id, int32_t code,
                                       gboolean publishing);

/* zego://HOST:PORT/ROOM[/STREAM]?app-id=..&user-id=..&user-name=..&token=..
 * Sets the properties; returns FALSE with *error set when it is not one. */
gboolean gst_zego_object_set_uri(GstZegoObject *zobj, const gchar *uri, GError **error);
/* The URI of the current settings, without the token. */
gchar *gst_zego_object_get_uri(GstZegoObject *zobj);

const gchar *gst_zego_update_type_nick(zego_update_type type);

G_END_DECLS

#endif
