/* The web debug page's files, embedded in the server at build time
 * (server/embed-web.py turns server/web/ into web-files.c). */
#ifndef ZS_WEB_H
#define ZS_WEB_H

#include <stddef.h>

/* embed-web.py refuses a file larger than this, so a response is bounded. */
#define ZS_WEB_MAX_FILE_BYTES (512 * 1024)

typedef struct zs_web_file {
    const char *path; /* "/index.html" */
    const char *type; /* Content-Type */
    const unsigned char *data;
    size_t len;
} zs_web_file;

/* Terminated by an entry whose path is NULL. */
extern const zs_web_file zs_web_files[];

/* The file served at `path` ("/" is "/index.html"), or NULL. */
const zs_web_file *zs_web_find(const char *path);

#endif
