#ifndef GST_ZEGO_SRC_H
#define GST_ZEGO_SRC_H

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_ZEGO_SRC (gst_zego_src_get_type())
G_DECLARE_FINAL_TYPE(GstZegoSrc, gst_zego_src, GST, ZEGO_SRC, GstBin)

/* The source pads: ghost pads with the stream-id and user-id properties. */
#define GST_TYPE_ZEGO_SRC_PAD (gst_zego_src_pad_get_type())
G_DECLARE_FINAL_TYPE(GstZegoSrcPad, gst_zego_src_pad, GST, ZEGO_SRC_PAD, GstGhostPad)

GST_ELEMENT_REGISTER_DECLARE(zegosrc);

G_END_DECLS

#endif
