/* A small blocking WebSocket client over a plain TCP socket, for tests and
 * benchmarks that need to control the wire: send malformed or fragmented
 * frames, shrink the receive buffer, or stop reading.  Every wait has a
 * timeout. */
#ifndef ZT_WS_RAW_H
#define ZT_WS_RAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZT_WS_TEXT   0x1
#define ZT_WS_BINARY 0x2
#define ZT_WS_CLOSE  0x8
#define ZT_WS_PING   0x9
#define ZT_WS_PONG   0xa

typedef struct zt_ws {
    int fd;
    uint8_t *buf; /* received, not yet parsed */
    size_t len, cap;
    uint8_t *msg; /* reassembled message */
    size_t msg_len, msg_cap;
    int msg_opcode;
    int close_code; /* from the server's close frame, 0 if none */
    char close_reason[128];
} zt_ws;

typedef struct zt_ws_msg {
    int opcode;          /* ZT_WS_TEXT or ZT_WS_BINARY */
    const uint8_t *data; /* valid until the next zt_ws_recv */
    size_t len;
} zt_ws_msg;

/* Connects to 127.0.0.1:port and upgrades `path` (with any query) using the
 * subprotocol.  rcvbuf > 0 sets SO_RCVBUF first.  Returns 0, or the HTTP
 * status the server answered instead of 101 (-1 when nothing came). */
int zt_ws_connect(zt_ws *ws, int port, const char *path, const char *subprotocol, int rcvbuf);

/* Connects to a ws:// URL as handed out in a media endpoint, appending the
 * ticket. */
int zt_ws_connect_url(zt_ws *ws, const char *url, const char *ticket, const char *subprotocol,
                      int rcvbuf);

/* Sends one frame (masked, as a client must). */
int zt_ws_send_frame(zt_ws *ws, int opcode, bool fin, const void *data, size_t len);
int zt_ws_send_text(zt_ws *ws, const char *text);

/* Waits up to timeout_ms for a whole text or binary message, answering pings.
 * Returns 1 with *msg filled, 0 on timeout, -1 when the connection closed
 * (close_code/close_reason then say why). */
int zt_ws_recv(zt_ws *ws, zt_ws_msg *msg, int timeout_ms);

void zt_ws_close(zt_ws *ws);

/* Writes all of data to a blocking or non-blocking socket (retrying on
 * EINTR); 0, or -1 when the socket fails. */
int zt_write_all(int fd, const void *data, size_t len);

/* Milliseconds on the monotonic clock. */
int64_t zt_now_ms(void);

#endif
