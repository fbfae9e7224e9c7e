#define _GNU_SOURCE /* memmem */
/* A small blocking WebSocket client; see ws-raw.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <openssl/sha.h>

#include "base64.h"
#include "ws-raw.h"

int64_t zt_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int zt_write_all(int fd, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads more into ws->buf; 1 = got bytes, 0 = timeout, -1 = closed. */
static int fill(zt_ws *ws, int timeout_ms)
{
    struct pollfd pfd = {.fd = ws->fd, .events = POLLIN};
    int n = poll(&pfd, 1, timeout_ms);
    if (n == 0)
        return 0;
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    if (ws->cap - ws->len < 65536) {
        size_t cap = ws->cap ? ws->cap * 2 : 131072;
        uint8_t *grown = realloc(ws->buf, cap);
        if (!grown)
            return -1;
        ws->buf = grown;
        ws->cap = cap;
    }
    ssize_t got = recv(ws->fd, ws->buf + ws->len, ws->cap - ws->len, 0);
    if (got <= 0)
        return -1;
    ws->len += (size_t)got;
    return 1;
}

int zt_ws_connect(zt_ws *ws, int port, const char *path, const char *subprotocol, int rcvbuf)
{
    memset(ws, 0, sizeof *ws);
    ws->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (ws->fd < 0)
        return -1;
    if (rcvbuf > 0)
        setsockopt(ws->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    int one = 1;
    setsockopt(ws->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(ws->fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        return -1;

    uint8_t nonce[16];
    char key[32];
    RAND_bytes(nonce, sizeof nonce);
    zego_base64_encode(nonce, sizeof nonce, key, ZEGO_BASE64_STD);
    char req[4096];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: %s\r\n\r\n",
                     path, port, key, subprotocol);
    if (n <= 0 || (size_t)n >= sizeof req || zt_write_all(ws->fd, req, (size_t)n))
        return -1;

    int64_t deadline = zt_now_ms() + 5000;
    char *end = NULL;
    while (!end) {
        int64_t left = deadline - zt_now_ms();
        if (left <= 0 || fill(ws, (int)left) <= 0)
            return -1;
        ws->buf[ws->len < ws->cap ? ws->len : ws->cap - 1] = 0;
        end = memmem(ws->buf, ws->len, "\r\n\r\n", 4);
    }
    int status = 0;
    if (sscanf((char *)ws->buf, "HTTP/1.1 %d", &status) != 1)
        return -1;
    if (status != 101)
        return status;
    /* Check the accept key, as a real client would. */
    char concat[80];
    snprintf(concat, sizeof concat, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
    uint8_t sha[SHA_DIGEST_LENGTH];
    SHA1((const uint8_t *)concat, strlen(concat), sha);
    char expect[40];
    zego_base64_encode(sha, sizeof sha, expect, ZEGO_BASE64_STD);
    *end = '\0';
    if (!strstr((char *)ws->buf, expect))
        return -1;
    size_t used = (size_t)(end + 4 - (char *)ws->buf);
    memmove(ws->buf, ws->buf + used, ws->len - used);
    ws->len -= used;
    return 0;
}

int zt_ws_connect_url(zt_ws *ws, const char *url, const char *ticket, const char *subprotocol,
                      int rcvbuf)
{
    int port = 0;
    char path[2048];
    const char *host = strstr(url, "://");
    const char *colon = host ? strchr(host + 3, ':') : NULL;
    const char *slash = host ? strchr(host + 3, '/') : NULL;
    if (!colon || !slash || sscanf(colon + 1, "%d", &port) != 1)
        return -1;
    snprintf(path, sizeof path, "%s%sticket=%s", slash, strchr(slash, '?') ? "&" : "?", ticket);
    return zt_ws_connect(ws, port, path, subprotocol, rcvbuf);
}

int zt_ws_send_frame(zt_ws *ws, int opcode, bool fin, const void *data, size_t len)
{
    uint8_t head[14];
    size_t h = 0;
    head[h++] = (uint8_t)((fin ? 0x80 : 0) | (opcode & 0x0f));
    if (len < 126) {
        head[h++] = (uint8_t)(0x80 | len);
    } else if (len < 65536) {
        head[h++] = 0x80 | 126;
        head[h++] = (uint8_t)(len >> 8);
        head[h++] = (uint8_t)len;
    } else {
        head[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            head[h++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    uint8_t mask[4];
    RAND_bytes(mask, 4);
    memcpy(head + h, mask, 4);
    h += 4;
    uint8_t *masked = malloc(len ? len : 1);
    if (!masked)
        return -1;
    for (size_t i = 0; i < len; i++)
        masked[i] = ((const uint8_t *)data)[i] ^ mask[i & 3];
    int rc = zt_write_all(ws->fd, head, h) || zt_write_all(ws->fd, masked, len) ? -1 : 0;
    free(masked);
    return rc;
}

int zt_ws_send_text(zt_ws *ws, const char *text)
{
    return zt_ws_send_frame(ws, ZT_WS_TEXT, true, text, strlen(text));
}

/* Parses one frame out of ws->buf: 1 = a frame, 0 = need more bytes. */
static int take_frame(zt_ws *ws, int *opcode, bool *fin, uint8_t **payload, size_t *len,
                      size_t *consumed)
{
    if (ws->len < 2)
        return 0;
    size_t h = 2;
    uint64_t n = ws->buf[1] & 0x7f;
    if (n == 126) {
        if (ws->len < 4)
            return 0;
        n = (uint64_t)ws->buf[2] << 8 | ws->buf[3];
        h = 4;
    } else if (n == 127) {
        if (ws->len < 10)
            return 0;
        n = 0;
        for (int i = 0; i < 8; i++)
            n = n << 8 | ws->buf[2 + i];
        h = 10;
    }
    if (ws->len < h + n)
        return 0;
    *fin = ws->buf[0] & 0x80;
    *opcode = ws->buf[0] & 0x0f;
    *payload = ws->buf + h;
    *len = (size_t)n;
    *consumed = h + (size_t)n;
    return 1;
}

int zt_ws_recv(zt_ws *ws, zt_ws_msg *msg, int timeout_ms)
{
    int64_t deadline = zt_now_ms() + timeout_ms;
    for (;;) {
        int opcode;
        bool fin;
        uint8_t *payload;
        size_t len, consumed;
        while (take_frame(ws, &opcode, &fin, &payload, &len, &consumed)) {
            if (opcode == ZT_WS_PING) {
                zt_ws_send_frame(ws, ZT_WS_PONG, true, payload, len);
            } else if (opcode == ZT_WS_CLOSE) {
                if (len >= 2) {
                    ws->close_code = payload[0] << 8 | payload[1];
                    snprintf(ws->close_reason, sizeof ws->close_reason, "%.*s", (int)(len - 2),
                             (char *)payload + 2);
                }
                return -1;
            } else if (opcode != ZT_WS_PONG) {
                if (opcode != 0)
                    ws->msg_opcode = opcode, ws->msg_len = 0;
                if (ws->msg_len + len > ws->msg_cap) {
                    size_t cap = ws->msg_len + len + 65536;
                    uint8_t *grown = realloc(ws->msg, cap);
                    if (!grown)
                        return -1;
                    ws->msg = grown;
                    ws->msg_cap = cap;
                }
                memcpy(ws->msg + ws->msg_len, payload, len);
                ws->msg_len += len;
            }
            memmove(ws->buf, ws->buf + consumed, ws->len - consumed);
            ws->len -= consumed;
            if (fin && (opcode == ZT_WS_TEXT || opcode == ZT_WS_BINARY || opcode == 0)) {
                msg->opcode = ws->msg_opcode;
                msg->data = ws->msg;
                msg->len = ws->msg_len;
                ws->msg_len = 0;
                return 1;
            }
        }
        /* Always look at the socket once, so a timeout of 0 polls. */
        int64_t left = deadline - zt_now_ms();
        int rc = fill(ws, left > 0 ? (int)left : 0);
        if (rc < 0)
            return -1;
        if (rc == 0 && zt_now_ms() >= deadline)
            return 0;
    }
}

void zt_ws_close(zt_ws *ws)
{
    if (ws->fd > 0)
        close(ws->fd);
    free(ws->buf);
    free(ws->msg);
    memset(ws, 0, sizeof *ws);
    ws->fd = -1;
}
