/* The benchmark's publisher: a synthetic H.264-like stream sent on its own
 * thread, paced on the monotonic clock, each frame stamped with the wall
 * clock when it is sent (the players are on the same machine, so the same
 * clock gives the relay's latency).
 *
 * For zego-room-server it is a real client through the raw test client:
 * login, publish, the media socket, stream_info, then binary frames (masked,
 * as clients must).  For the baseline it sends the same frames, each behind
 * a 4-byte length. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "protocol.h"
#include "room-client.h"

#define BENCH_APP_ID 1u
#define HEARTBEAT_US 5000000

typedef struct pub_conn {
    zt_client sig; /* zego: signaling */
    zt_ws media;   /* zego: the media socket */
    int fd;        /* baseline: the TCP connection */
    uint8_t *frame;
    size_t frame_cap;
} pub_conn;

size_t bench_frame_size(const bench_stream *s, uint32_t seq, bool *key)
{
    /* One GOP carries gop - 1 P frames and a key_ratio times larger keyframe
     * in gop / fps seconds of the bit rate. */
    double gop_bytes = (double)s->bitrate / 8 * s->gop / s->fps;
    double p = gop_bytes / (s->gop - 1 + s->key_ratio);
    bool k = seq % (uint32_t)s->gop == 0;
    if (key)
        *key = k;
    size_t size = (size_t)(k ? p * s->key_ratio : p);
    return size < ZEGO_FRAME_HEADER_SIZE + 16 ? ZEGO_FRAME_HEADER_SIZE + 16 : size;
}

/* A frame that looks like H.264 in Annex B: SPS, PPS and an IDR slice for a
 * keyframe, one non-IDR slice otherwise; the rest is filler. */
static size_t build_frame(bench_publisher *p, pub_conn *pc, uint32_t seq)
{
    bool key;
    size_t size = bench_frame_size(&p->stream, seq, &key);
    uint8_t *f = pc->frame;
    size_t payload = size - ZEGO_FRAME_HEADER_SIZE;
    int64_t pts = (int64_t)seq * 1000000 / p->stream.fps;
    zego_frame_header h = {.track = 0,
                           .flags = key ? ZEGO_FRAME_FLAG_KEY | ZEGO_FRAME_FLAG_CONFIG : 0,
                           .sequence = seq,
                           .pts_us = pts,
                           .dts_us = pts,
                           .capture_time_us = bench_wall_us(),
                           .payload_size = (uint32_t)payload};
    zego_frame_header_write(&h, f);
    uint8_t *b = f + ZEGO_FRAME_HEADER_SIZE;
    static const uint8_t key_nals[] = {
        0, 0, 0, 1, 0x67, 0x42, 0xe0, 0x1e, /* SPS */
        0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80, /* PPS */
        0, 0, 0, 1, 0x65, 0x88,             /* IDR slice */
    };
    static const uint8_t p_nal[] = {0, 0, 0, 1, 0x41, 0x9a};
    size_t n = key ? sizeof key_nals : sizeof p_nal;
    memcpy(b, key ? key_nals : p_nal, n);
    memset(b + n, (int)(0x10 + seq % 64), payload - n);
    return size;
}

/* Reads what the server sent without waiting (keyframe requests, heartbeat
 * replies): the raw client answers pings while it reads. */
static int drain(zt_ws *ws)
{
    zt_ws_msg m;
    int rc;
    while ((rc = zt_ws_recv(ws, &m, 0)) == 1)
        ;
    return rc;
}

static void *publisher_thread(void *arg)
{
    bench_publisher *p = arg;
    pub_conn *pc = p->conn;
    int64_t interval = 1000000 / p->stream.fps;
    int64_t start = bench_mono_us();
    int64_t next_hb = start + HEARTBEAT_US;
    uint32_t hb_seq = 1000;
    for (uint32_t seq = 0; !atomic_load(&p->stop); seq++) {
        int64_t due = start + (int64_t)seq * interval;
        struct timespec ts = {.tv_sec = due / 1000000, .tv_nsec = (due % 1000000) * 1000};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
            ;
        if (bench_mono_us() - due > interval)
            atomic_fetch_add(&p->late, 1);
        size_t len = build_frame(p, pc, seq);
        int rc;
        if (p->target == BENCH_ZEGO) {
            rc = zt_ws_send_frame(&pc->media, ZT_WS_BINARY, true, pc->frame, len);
            if (rc == 0 && drain(&pc->media) < 0)
                rc = -1;
            if (rc == 0 && bench_mono_us() >= next_hb) {
                char text[64];
                snprintf(text, sizeof text, "{\"type\":\"heartbeat\",\"seq\":%u}", hb_seq++);
                next_hb += HEARTBEAT_US;
                if (zt_ws_send_text(&pc->sig.ws, text) || drain(&pc->sig.ws) < 0)
                    rc = -1;
            }
        } else {
            uint8_t be[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                             (uint8_t)len};
            rc = zt_write_all(pc->fd, be, 4) || zt_write_all(pc->fd, pc->frame, len) ? -1 : 0;
        }
        if (rc) {
            snprintf(p->error, sizeof p->error, "the publisher's socket failed at frame %u%s%s",
                     seq, pc->media.close_reason[0] ? ": " : "", pc->media.close_reason);
            atomic_store(&p->failed, 1);
            break;
        }
        atomic_store(&p->next_seq, seq + 1);
    }
    return NULL;
}

static int connect_zego(bench_publisher *p, pub_conn *pc)
{
    zego_msg reply;
    if (zt_client_connect(&pc->sig, p->port) ||
        zt_client_login(&pc->sig, BENCH_APP_ID, "bench-publisher", "publisher", NULL, false,
                        NULL)) {
        snprintf(p->error, sizeof p->error, "the publisher could not log in");
        return -1;
    }
    zego_msg req;
    zego_msg_init(&req, ZEGO_MSG_PUBLISH);
    snprintf(req.u.publish.stream_id, sizeof req.u.publish.stream_id, "%s", p->stream_id);
    int rc = zt_client_request(&pc->sig, &req, &reply, 5000);
    if (rc) {
        snprintf(p->error, sizeof p->error, "publish was refused (%d)", rc);
        return -1;
    }
    rc = zt_ws_connect_url(&pc->media, reply.u.media_reply.media.url,
                           reply.u.media_reply.media.ticket, ZEGO_SUBPROTOCOL_PUBLISH, 0);
    zego_msg_clear(&reply);
    if (rc) {
        snprintf(p->error, sizeof p->error, "the publisher's media socket was refused (%d)", rc);
        return -1;
    }
    char info[1024];
    snprintf(info, sizeof info,
             "{\"type\":\"stream_info\",\"stream_id\":\"%s\",\"generation\":1,\"tracks\":["
             "{\"id\":0,\"kind\":\"video\",\"codec\":\"h264\",\"codec_string\":\"avc1.42E01F\","
             "\"width\":1280,\"height\":720,\"framerate_num\":%d,\"framerate_den\":1}]}",
             p->stream_id, p->stream.fps);
    return zt_ws_send_text(&pc->media, info);
}

static int connect_baseline(bench_publisher *p, pub_conn *pc)
{
    pc->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(pc->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    uint8_t role = BENCH_ROLE_PUBLISHER;
    if (pc->fd < 0 || connect(pc->fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        zt_write_all(pc->fd, &role, 1)) {
        snprintf(p->error, sizeof p->error, "cannot connect to the baseline: %s", strerror(errno));
        return -1;
    }
    return 0;
}

int bench_publisher_start(bench_publisher *p)
{
    pub_conn *pc = calloc(1, sizeof *pc);
    if (!pc)
        return -1;
    pc->fd = -1;
    pc->media.fd = -1;
    p->conn = pc;
    atomic_store(&p->stop, false);
    atomic_store(&p->next_seq, 0);
    atomic_store(&p->late, 0);
    atomic_store(&p->failed, 0);
    p->error[0] = '\0';
    bool key;
    pc->frame_cap = bench_frame_size(&p->stream, 0, &key);
    pc->frame = malloc(pc->frame_cap);
    int rc = -1;
    if (pc->frame)
        rc = p->target == BENCH_ZEGO ? connect_zego(p, pc) : connect_baseline(p, pc);
    if (rc == 0 && pthread_create(&p->thread, NULL, publisher_thread, p) != 0)
        rc = -1;
    p->running = rc == 0;
    if (rc)
        bench_publisher_stop(p);
    return rc;
}

void bench_publisher_stop(bench_publisher *p)
{
    pub_conn *pc = p->conn;
    if (p->running) {
        atomic_store(&p->stop, true);
        pthread_join(p->thread, NULL);
        p->running = false;
    }
    if (!pc)
        return;
    if (pc->fd >= 0)
        close(pc->fd);
    if (pc->media.fd > 0)
        zt_ws_close(&pc->media);
    if (pc->sig.ws.fd > 0)
        zt_client_close(&pc->sig);
    free(pc->frame);
    free(pc);
    p->conn = NULL;
}
