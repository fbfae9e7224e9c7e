/* Starting and stopping the real zego-room-server for a test: on loopback,
 * port 0, waiting on /healthz rather than sleeping. */
#ifndef ZT_SERVER_PROC_H
#define ZT_SERVER_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct zt_server {
    pid_t pid;
    int port;
    char url[128]; /* ws://127.0.0.1:PORT/ws */
    char log_path[256];
} zt_server;

/* Starts the server (the binary from $ZEGO_SERVER_BIN) with extra arguments
 * (NULL-terminated, may be NULL), with `port` 0 for a free one.  Its stderr
 * goes to a log file that zt_server_dump_log prints.  Returns 0 once
 * /healthz answers (within 10 s). */
int zt_server_start(zt_server *srv, int port, const char *const *extra_args);

/* Sends `sig` and waits up to 10 s.  Returns the exit status, or -1. */
int zt_server_stop(zt_server *srv, int sig);

/* Prints the server's log to stdout as TAP comments. */
void zt_server_dump_log(const zt_server *srv);

/* GET path on the server; returns the HTTP status and the body in buf. */
int zt_http_get(int port, const char *path, char *buf, size_t buf_size);

/* The value of a metric in /metrics, or -1. */
double zt_metric(int port, const char *name);

#endif
