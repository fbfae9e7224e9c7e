/* Symbol visibility: libzegoroom is built with -fvisibility=hidden and exports
 * only what is marked ZEGO_API. */
#ifndef ZEGO_EXPORT_H
#define ZEGO_EXPORT_H

#if defined(ZEGO_COMPILATION)
#define ZEGO_API __attribute__((visibility("default")))
#else
#define ZEGO_API
#endif

#endif
