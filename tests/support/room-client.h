/* A signaling client for tests, on the raw WebSocket client: it speaks the
 * protocol through the shared protocol module, waits for replies by seq and
 * keeps the events that arrive meanwhile. */
#ifndef ZT_ROOM_CLIENT_H
#define ZT_ROOM_CLIENT_H

#include "protocol.h"
#include "ws-raw.h"

#define ZT_MAX_EVENTS 512

typedef struct zt_client {
    zt_ws ws;
    uint32_t next_seq;
    zego_msg *events[ZT_MAX_EVENTS];
    size_t n_events;
} zt_client;

int zt_client_connect(zt_client *c, int port);
void zt_client_close(zt_client *c);

/* Sends req (its seq is set here) and waits for its reply.  Returns the
 * reply's code (0 = ok), or -1 when no reply came in timeout_ms. */
int zt_client_request(zt_client *c, zego_msg *req, zego_msg *reply, int timeout_ms);

/* Sends raw text and waits for the next reply or error event. */
int zt_client_send_raw(zt_client *c, const char *text, zego_msg *answer, int timeout_ms);

/* Waits for an event of the type (already received or arriving); removes it
 * from the queue into *out.  Returns 1, or 0 on timeout. */
int zt_client_wait_event(zt_client *c, zego_msg_type type, zego_msg *out, int timeout_ms);

/* How many events of the type are queued now (after reading what arrived). */
size_t zt_client_count_events(zt_client *c, zego_msg_type type, int settle_ms);

int zt_client_login(zt_client *c, uint32_t app_id, const char *room_id, const char *user_id,
                    const char *token, bool user_update, zego_msg *reply);

#endif
