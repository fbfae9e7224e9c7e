/* The "zego" plugin: zegosink publishes into a room, zegosrc plays a room's
 * streams. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>

#include "gstzegoobject.h"
#include "gstzegosink.h"
#include "gstzegosrc.h"

#ifndef PACKAGE
#define PACKAGE "zego-room"
#endif

static gboolean plugin_init(GstPlugin *plugin)
{
    gboolean ret = FALSE;
    GST_DEBUG_CATEGORY_INIT(gst_zego_debug, "zego", 0, "libzegoroom (the room engine)");
    ret |= GST_ELEMENT_REGISTER(zegosink, plugin);
    ret |= GST_ELEMENT_REGISTER(zegosrc, plugin);
    return ret;
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, zego,
                  "Publish and play streams of ZEGO-Express-style rooms (zego-room-server)",
                  plugin_init, ZEGO_ROOM_VERSION, "MIT", "zego-room", "zego-room")
