#ifndef GST_ZEGO_SINK_H
#define GST_ZEGO_SINK_H

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_ZEGO_SINK (gst_zego_sink_get_type())
G_DECLARE_FINAL_TYPE(GstZegoSink, gst_zego_sink, GST, ZEGO_SINK, GstBin)

GST_ELEMENT_REGISTER_DECLARE(zegosink);

G_END_DECLS

#endif
