/* zego-bench-gst-latency: publish-to-play latency per frame, and CPU per
 * stream, of zegosink -> zego-room-server -> zegosrc beside two common
 * transports, measured the same way in the same run:
 *
 *   zego  x264enc ! zegosink -> zego-room-server -> zegosrc (h264parse inside both)
 *   rtmp  x264enc ! h264parse ! flvmux ! rtmp2sink -> nginx (libnginx-mod-rtmp)
 *         -> rtmp2src ! flvdemux ! h264parse
 *   srt   x264enc ! h264parse ! gdppay ! srtsink -> (direct) -> srtsrc ! gdpdepay ! h264parse
 *
 * Latency runs (one stream): a paced 640x360 30 fps I420 source whose frames
 * carry their number as 16x16 black/white luma blocks in the top rows (and
 * its complement below, as a check); the rest of the picture is a moving
 * texture, so that the encoder has real work.  A probe on the encoder's sink
 * pad records when each number goes in; the player decodes (avdec_h264) and
 * an appsink reads the number back from the picture: the latency is the
 * difference, on one monotonic clock (both ends are in this process).  Probes
 * on the encoder's output and the decoder's input split it into encode,
 * transport and decode.  Every sink is sync=false: nothing waits on the clock.
 *
 * CPU runs (--streams N at once): frames encoded once into memory (a GOP of
 * 2 s) are sent in a loop with new timestamps and the player does not
 * decode, so that what is measured is the transport, not x264 and libav: the
 * process's CPU (getrusage) per stream, the server's (zego-room-server or
 * nginx, from /proc/PID/task/TID/schedstat), and the latency from appsrc to
 * appsink.
 *
 * Every peer is started afresh for every run; the paths take turns within a
 * repetition, and the tables show the median of the repetitions.  A path
 * whose peer or elements are missing is reported as skipped.
 *
 *   zego-bench-gst-latency --seconds 10 --repeat 3 --streams 8 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include "server-proc.h"

#define WIDTH       640
#define HEIGHT      360
#define BLOCK       16 /* a bit of the frame number: BLOCK x BLOCK luma */
#define CODE_BITS   32
#define MAX_STREAMS 32
#define MAX_REPEAT  15
#define START_S     1.0 /* publishers alone, before the players start */
#define DRAIN_S     1.0 /* frames sent after the window, so that its last ones arrive */
#define APP_ID      1

typedef enum { PATH_ZEGO, PATH_RTMP, PATH_SRT, N_PATHS } path_id;
typedef enum { MODE_LATENCY, MODE_CPU, N_MODES } run_mode;

static const char *const path_name[N_PATHS] = {"zego", "rtmp", "srt"};
static const char *const path_label[N_PATHS] = {
    "zegosink -> zego-room-server -> zegosrc",
    "rtmp2sink -> nginx-rtmp -> rtmp2src",
    "srtsink -> srtsrc (direct)",
};

typedef struct options {
    double seconds, warmup;
    int repeat, streams, fps, bitrate_kbps, srt_latency_ms;
    bool only[N_PATHS]; /* all false: every path */
    bool mode[N_MODES];
    const char *server_bin, *nginx_bin, *rtmp_module;
} options;

static options opt;

/* ---- The picture ---- */

/* A texture twice the picture's size that the frames scroll across. */
static guint8 *texture;
#define TEX_W (2 * WIDTH)
#define TEX_H (2 * HEIGHT)

static void make_texture(void)
{
    texture = g_malloc((size_t)TEX_W * TEX_H);
    guint32 rnd = 12345;
    for (int y = 0; y < TEX_H; y++)
        for (int x = 0; x < TEX_W; x++) {
            rnd = rnd * 1103515245u + 12345u;
            double v = 128 + 50 * sin(x * 0.031) * cos(y * 0.047) + 30 * sin((x + y) * 0.011) +
                       (double)((rnd >> 16) % 24) - 12;
            texture[(size_t)y * TEX_W + x] = (guint8)CLAMP(v, 16, 235);
        }
}

/* Frame `seq` of a stream: the texture moved by a few pixels a frame, and
 * seq's bits in the top rows (row 0: seq, row 1: ~seq). */
static void render_frame(guint8 *data, guint32 seq)
{
    guint8 *y_plane = data, *u_plane = data + WIDTH * HEIGHT;
    guint8 *v_plane = u_plane + (WIDTH / 2) * (HEIGHT / 2);
    int dx = (int)((seq * 5) % WIDTH), dy = (int)((seq * 3) % HEIGHT);
    for (int y = 0; y < HEIGHT; y++)
        memcpy(y_plane + (size_t)y * WIDTH, texture + (size_t)(y + dy) * TEX_W + dx, WIDTH);
    for (int y = 0; y < HEIGHT / 2; y++) {
        const guint8 *t = texture + (size_t)(y + dx / 4) * TEX_W + dy;
        for (int x = 0; x < WIDTH / 2; x++) {
            u_plane[y * (WIDTH / 2) + x] = (guint8)(64 + t[x] / 2);
            v_plane[y * (WIDTH / 2) + x] = (guint8)(192 - t[x + 7] / 2);
        }
    }
    for (int row = 0; row < 2; row++) {
        guint32 word = row == 0 ? seq : ~seq;
        for (int b = 0; b < CODE_BITS; b++) {
            guint8 v = (word >> (CODE_BITS - 1 - b)) & 1 ? 235 : 16;
            for (int y = row * BLOCK; y < (row + 1) * BLOCK; y++)
                memset(y_plane + (size_t)y * WIDTH + b * BLOCK, v, BLOCK);
        }
        for (int y = row * BLOCK / 2; y < (row + 1) * BLOCK / 2; y++) {
            memset(u_plane + (size_t)y * (WIDTH / 2), 128, CODE_BITS * BLOCK / 2);
            memset(v_plane + (size_t)y * (WIDTH / 2), 128, CODE_BITS * BLOCK / 2);
        }
    }
}

/* Reads the frame number back; false when the two rows disagree. */
static bool read_code(const guint8 *y_plane, int stride, guint32 *seq)
{
    guint32 word[2] = {0, 0};
    for (int row = 0; row < 2; row++)
        for (int b = 0; b < CODE_BITS; b++) {
            int sum = 0;
            for (int y = row * BLOCK + 6; y < row * BLOCK + 10; y++)
                for (int x = b * BLOCK + 6; x < b * BLOCK + 10; x++)
                    sum += y_plane[(size_t)y * stride + x];
            word[row] = (word[row] << 1) | (sum > 16 * 128 ? 1u : 0u);
        }
    *seq = word[0];
    return word[0] == ~word[1];
}

/* ---- Helpers ---- */

static gint64 mono_us(void)
{
    return g_get_monotonic_time();
}

static double process_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* A process's CPU time in seconds: its threads' run time in nanoseconds
 * from /proc/PID/task/TID/schedstat (a server runs at well under 1% of a
 * core per stream here, a few clock ticks of /proc/PID/stat in a window). */
static double pid_cpu_s(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    GDir *dir = g_dir_open(path, 0, NULL);
    if (!dir)
        return -1;
    double total = 0;
    const gchar *tid;
    while ((tid = g_dir_read_name(dir))) {
        char file[128];
        snprintf(file, sizeof file, "/proc/%d/task/%s/schedstat", (int)pid, tid);
        FILE *f = fopen(file, "r");
        unsigned long long ns = 0;
        if (f && fscanf(f, "%llu", &ns) == 1)
            total += (double)ns / 1e9;
        if (f)
            fclose(f);
    }
    g_dir_close(dir);
    return total;
}

/* A port free on loopback now (TCP or UDP); the peer binds it right after. */
static int free_port(int type)
{
    int fd = socket(AF_INET, type, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static bool tcp_connects(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static int cmp_i64(const void *a, const void *b)
{
    gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
    return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted values. */
static double percentile_ms(const gint64 *sorted, size_t n, double p)
{
    if (!n)
        return NAN;
    size_t rank = (size_t)ceil(p / 100.0 * (double)n);
    return (double)sorted[rank ? rank - 1 : 0] / 1000.0;
}

static double median(double *v, int n)
{
    int k = 0;
    double tmp[MAX_REPEAT];
    for (int i = 0; i < n; i++)
        if (!isnan(v[i]))
            tmp[k++] = v[i];
    if (!k)
        return NAN;
    qsort(tmp, (size_t)k, sizeof tmp[0], cmp_double);
    return k % 2 ? tmp[k / 2] : (tmp[k / 2 - 1] + tmp[k / 2]) / 2;
}

/* ---- The peers ---- */

typedef struct peer {
    path_id path;
    pid_t pid; /* the server process, 0 for srt */
    int port;
    char url[160];
    zt_server zego;
    char dir[PATH_MAX]; /* nginx's prefix */
} peer;

/* Why a path cannot run here, or NULL. */
static const char *path_unavailable(path_id path)
{
    static char why[PATH_MAX + 128];
    const char *need[N_PATHS][4] = {
        {"zegosink", "zegosrc", NULL},
        {"rtmp2sink", "rtmp2src", "flvmux", "flvdemux"},
        {"srtsink", "srtsrc", "gdppay", "gdpdepay"},
    };
    for (int i = 0; i < 4 && need[path][i]; i++) {
        GstElementFactory *f = gst_element_factory_find(need[path][i]);
        if (!f) {
            snprintf(why, sizeof why, "the GStreamer element %s is missing%s", need[path][i],
                     path == PATH_ZEGO ? " (GST_PLUGIN_PATH must hold this build's gst-plugin/)"
                                       : "");
            return why;
        }
        gst_object_unref(f);
    }
    if (path == PATH_ZEGO && access(opt.server_bin, X_OK) != 0) {
        snprintf(why, sizeof why, "no zego-room-server at %s", opt.server_bin);
        return why;
    }
    if (path == PATH_RTMP && access(opt.nginx_bin, X_OK) != 0) {
        snprintf(why, sizeof why,
                 "no nginx at %s (Debian: apt-get install nginx libnginx-mod-rtmp)", opt.nginx_bin);
        return why;
    }
    if (path == PATH_RTMP && access(opt.rtmp_module, R_OK) != 0) {
        snprintf(why, sizeof why,
                 "no RTMP module at %s (Debian: apt-get install libnginx-mod-rtmp)",
                 opt.rtmp_module);
        return why;
    }
    return NULL;
}

/* nginx as one process in the foreground, everything of it in a temporary
 * folder: the module's defaults for a live application. */
static int nginx_start(peer *p, char *error, size_t error_size)
{
    snprintf(p->dir, sizeof p->dir, "/tmp/zego-bench-nginx-XXXXXX");
    if (!mkdtemp(p->dir)) {
        snprintf(error, error_size, "mkdtemp: %s", strerror(errno));
        return -1;
    }
    p->port = free_port(SOCK_STREAM);
    char conf[PATH_MAX + 16];
    snprintf(conf, sizeof conf, "%s/nginx.conf", p->dir);
    FILE *f = fopen(conf, "w");
    if (!f) {
        snprintf(error, error_size, "%.300s: %s", conf, strerror(errno));
        return -1;
    }
    fprintf(f,
            "load_module %s;\n"
            "daemon off;\n"
            "master_process off;\n"
            "worker_processes 1;\n"
            "error_log %s/error.log warn;\n"
            "pid %s/nginx.pid;\n"
            "events { worker_connections 1024; }\n"
            "rtmp {\n"
            "    server {\n"
            "        listen 127.0.0.1:%d;\n"
            "        application live { live on; }\n"
            "    }\n"
            "}\n",
            opt.rtmp_module, p->dir, p->dir, p->port);
    fclose(f);
    char elog[PATH_MAX + 16];
    snprintf(elog, sizeof elog, "%s/error.log", p->dir);
    p->pid = fork();
    if (p->pid == 0) {
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
        }
        /* -e: not even the start-up may write to /var/log/nginx. */
        execl(opt.nginx_bin, opt.nginx_bin, "-e", elog, "-p", p->dir, "-c", conf, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) {
        int status;
        if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
            p->pid = 0;
            char line[256] = "";
            FILE *log = fopen(elog, "r");
            if (log && !fgets(line, sizeof line, log))
                line[0] = '\0';
            if (log)
                fclose(log);
            line[strcspn(line, "\n")] = '\0';
            snprintf(error, error_size, "nginx exited at start: %s", line);
            return -1;
        }
        if (tcp_connects(p->port))
            return 0;
        g_usleep(10000);
    }
    snprintf(error, error_size, "nginx did not listen on port %d within 5 s", p->port);
    return -1;
}

static void remove_dir(const char *dir)
{
    const char *names[] = {"nginx.conf", "error.log", "nginx.pid", NULL};
    char path[PATH_MAX + 32];
    for (int i = 0; names[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir); /* fails, harmlessly, if nginx left more */
}

static int peer_start(peer *p, path_id path, char *error, size_t error_size)
{
    memset(p, 0, sizeof *p);
    p->path = path;
    if (path == PATH_ZEGO) {
        if (zt_server_start(&p->zego, 0, NULL) != 0) {
            snprintf(error, error_size, "zego-room-server did not start");
            return -1;
        }
        p->pid = p->zego.pid;
        p->port = p->zego.port;
        snprintf(p->url, sizeof p->url, "%s", p->zego.url);
        return 0;
    }
    if (path == PATH_RTMP)
        return nginx_start(p, error, error_size);
    return 0; /* srt: no server, a port per stream */
}

static void peer_stop(peer *p)
{
    if (p->path == PATH_ZEGO && p->zego.pid > 0)
        zt_server_stop(&p->zego, SIGTERM);
    if (p->path == PATH_RTMP && p->pid > 0) {
        kill(p->pid, SIGTERM); /* nginx's fast shutdown */
        for (int i = 0; i < 300 && waitpid(p->pid, NULL, WNOHANG) == 0; i++)
            g_usleep(10000);
        if (waitpid(p->pid, NULL, WNOHANG) == 0) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, NULL, 0);
        }
        remove_dir(p->dir);
    }
    p->pid = 0;
}

/* ---- One run: N streams over one path ---- */

typedef struct run run;

typedef struct stream {
    run *run;
    int index;
    GstElement *pub, *play, *appsrc;
    int srt_port;        /* srt: each stream is its own connection */
    gint64 *sent_us;     /* by frame number: when it entered the encoder (atomic) */
    gint64 *gop_sent_us; /* CPU runs, by frame of the GOP: when last pushed (atomic) */
    /* under run->lock */
    GArray *latency_us; /* of the window's frames */
    /* Latency runs: where the time goes.  The frames entering the encoder,
     * in order; when each left it and reached the decoder (by frame number);
     * and which frame an encoded one is (by its frame_key). */
    GQueue encoding;
    gint64 *enc_out_us, *dec_in_us;
    GHashTable *key_seq;
    GArray *stage_us[3]; /* encode, transport, decode, of the window's frames */
    guint64 window_frames, bad_codes, frames_in, bytes_in, frames_in_window;
} stream;

struct run {
    path_id path;
    run_mode mode;
    int n;
    peer peer;
    stream streams[MAX_STREAMS];
    guint32 n_frames, first_seq, end_seq; /* window: [first_seq, end_seq) */
    gint in_window;                       /* atomic: CPU runs count the frames in it */
    GMutex lock;
    GstVideoInfo info;
};

typedef struct run_result {
    bool ok, skipped;
    char error[512];
    double p50, p99, max, delivered_pct;
    double stage_p50[3], stage_p99[3];     /* latency runs: encode, transport, decode */
    double client_cpu_pct, server_cpu_pct; /* of one core, per stream */
    double fps_in;                         /* CPU runs: frames a second a player got */
    int srt_latency_ms;                    /* negotiated, from srtsrc's stats */
} run_result;

/* The encoded GOP the CPU runs send in a loop, and what tells its frames
 * apart at the player without decoding: a hash of each frame's last bytes,
 * slice data that every framing (Annex B, AVC, FLV, GDP) carries as it is. */
static GPtrArray *gop;
static GstCaps *gop_caps;
static guint32 *gop_keys;
#define KEY_BYTES 48

static guint32 frame_key(GstBuffer *buf)
{
    gsize size = gst_buffer_get_size(buf);
    guint8 tail[KEY_BYTES] = {0};
    gsize n = MIN(size, (gsize)KEY_BYTES);
    gst_buffer_extract(buf, size - n, tail, n);
    guint32 h = 2166136261u; /* FNV-1a */
    for (gsize i = 0; i < n; i++)
        h = (h ^ tail[i]) * 16777619u;
    return h;
}

static int gop_index(guint32 key)
{
    for (guint i = 0; i < gop->len; i++)
        if (gop_keys[i] == key)
            return (int)i;
    return -1;
}

static gchar *encoder_desc(void)
{
    return g_strdup_printf("x264enc name=enc tune=zerolatency speed-preset=ultrafast "
                           "key-int-max=%d bframes=0 bitrate=%d",
                           2 * opt.fps, opt.bitrate_kbps);
}

static gchar *publisher_desc(run *r, int i)
{
    /* The CPU runs send encoded frames: no encoder. */
    gchar *enc = r->mode == MODE_LATENCY ? encoder_desc() : NULL;
    gchar *tail = NULL;
    const peer *p = &r->peer;
    switch (r->path) {
    case PATH_ZEGO:
        tail = g_strdup_printf("zegosink server=%s app-id=%d room-id=bench%d stream-id=s%d "
                               "user-id=pub%d",
                               p->url, APP_ID, i, i, i);
        break;
    case PATH_RTMP:
        tail = g_strdup_printf("h264parse ! flvmux streamable=true ! "
                               "rtmp2sink location=rtmp://127.0.0.1:%d/live/s%d sync=false",
                               p->port, i);
        break;
    case PATH_SRT:
        tail = g_strdup_printf("h264parse config-interval=-1 ! gdppay name=pay ! "
                               "srtsink uri=\"srt://127.0.0.1:%d?mode=listener&latency=%d\" "
                               "sync=false",
                               r->streams[i].srt_port, opt.srt_latency_ms);
        break;
    default:
        break;
    }
    /* While a sink is still connecting, frames are dropped rather than
     * queued: a backlog sent at once would be no test of the transport. */
    gchar *desc = g_strdup_printf("appsrc name=src is-live=true format=time max-bytes=0 "
                                  "max-buffers=2 leaky-type=downstream ! %s%s%s",
                                  enc ? enc : "", enc ? " ! " : "", tail);
    g_free(enc);
    g_free(tail);
    return desc;
}

static gchar *player_desc(run *r, int i)
{
    /* CPU runs: no decoding, the parsed H.264 as zegosrc gives it. */
    const char *decode = r->mode == MODE_LATENCY
                             ? "avdec_h264 name=dec thread-type=slice ! "
                             : "video/x-h264,stream-format=byte-stream,alignment=au ! ";
    const peer *p = &r->peer;
    gchar *head = NULL;
    switch (r->path) {
    case PATH_ZEGO:
        head = g_strdup_printf("zegosrc server=%s app-id=%d room-id=bench%d stream-id=s%d "
                               "user-id=play%d",
                               p->url, APP_ID, i, i, i);
        break;
    case PATH_RTMP:
        head = g_strdup_printf("rtmp2src location=rtmp://127.0.0.1:%d/live/s%d ! flvdemux ! "
                               "h264parse",
                               p->port, i);
        break;
    case PATH_SRT:
        head = g_strdup_printf("srtsrc name=srt uri=\"srt://127.0.0.1:%d?mode=caller&latency=%d\" "
                               "! gdpdepay ! h264parse",
                               r->streams[i].srt_port, opt.srt_latency_ms);
        break;
    default:
        break;
    }
    gchar *desc = g_strdup_printf("%s ! %sappsink name=sink sync=false async=false "
                                  "enable-last-sample=false max-buffers=0",
                                  head, decode);
    g_free(head);
    return desc;
}

static GstPadProbeReturn on_encoder_input(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
    (void)pad;
    stream *s = user_data;
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
    guint64 seq = GST_BUFFER_OFFSET(buf);
    if (seq < s->run->n_frames) {
        __atomic_store_n(&s->sent_us[seq], mono_us(), __ATOMIC_RELEASE);
        g_mutex_lock(&s->run->lock);
        g_queue_push_tail(&s->encoding, GUINT_TO_POINTER((guint)seq + 1));
        g_mutex_unlock(&s->run->lock);
    }
    return GST_PAD_PROBE_OK;
}

/* x264enc with tune=zerolatency gives each frame back before it takes the
 * next, in order: the oldest frame in. */
static GstPadProbeReturn on_encoder_output(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
    (void)pad;
    stream *s = user_data;
    gint64 now = mono_us();
    guint32 key = frame_key(GST_PAD_PROBE_INFO_BUFFER(info));
    g_mutex_lock(&s->run->lock);
    guint seq1 = GPOINTER_TO_UINT(g_queue_pop_head(&s->encoding));
    if (seq1) {
        s->enc_out_us[seq1 - 1] = now;
        g_hash_table_insert(s->key_seq, GUINT_TO_POINTER(key), GUINT_TO_POINTER(seq1));
    }
    g_mutex_unlock(&s->run->lock);
    return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn on_decoder_input(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
    (void)pad;
    stream *s = user_data;
    gint64 now = mono_us();
    guint32 key = frame_key(GST_PAD_PROBE_INFO_BUFFER(info));
    g_mutex_lock(&s->run->lock);
    guint seq1 = GPOINTER_TO_UINT(g_hash_table_lookup(s->key_seq, GUINT_TO_POINTER(key)));
    if (seq1 && !s->dec_in_us[seq1 - 1])
        s->dec_in_us[seq1 - 1] = now;
    g_mutex_unlock(&s->run->lock);
    return GST_PAD_PROBE_OK;
}

static void add_probe(GstElement *pipeline, const char *element, const char *pad_name,
                      GstPadProbeCallback cb, gpointer user_data)
{
    GstElement *e = gst_bin_get_by_name(GST_BIN(pipeline), element);
    if (!e)
        return;
    GstPad *pad = gst_element_get_static_pad(e, pad_name);
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, cb, user_data, NULL);
    gst_object_unref(pad);
    gst_object_unref(e);
}

/* With stream headers in its caps (gdppay's), srtsink sends those to each
 * caller that connects and skips the buffers flagged HEADER in the stream;
 * h264parse flags every keyframe that carries SPS/PPS so.  Without this,
 * every keyframe would be lost on the way. */
static GstPadProbeReturn on_payloader_input(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
    (void)pad, (void)user_data;
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
    if (GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_HEADER)) {
        buf = gst_buffer_make_writable(buf);
        GST_BUFFER_FLAG_UNSET(buf, GST_BUFFER_FLAG_HEADER);
        GST_PAD_PROBE_INFO_DATA(info) = buf;
    }
    return GST_PAD_PROBE_OK;
}

static GstFlowReturn on_sample(GstAppSink *sink, gpointer user_data)
{
    stream *s = user_data;
    run *r = s->run;
    GstSample *sample = gst_app_sink_pull_sample(sink);
    if (!sample)
        return GST_FLOW_EOS;
    gint64 now = mono_us();
    GstBuffer *buf = gst_sample_get_buffer(sample);
    if (r->mode == MODE_CPU) {
        gsize size = gst_buffer_get_size(buf);
        int idx = gop_index(frame_key(buf));
        gint64 sent = idx >= 0 ? __atomic_load_n(&s->gop_sent_us[idx], __ATOMIC_ACQUIRE) : 0;
        g_mutex_lock(&r->lock);
        s->frames_in++;
        s->bytes_in += size;
        if (idx < 0) {
            s->bad_codes++;
        } else if (g_atomic_int_get(&r->in_window)) {
            s->frames_in_window++;
            /* The last push of that frame of the GOP: 2 s ago at the most. */
            gint64 lat = now - sent;
            if (sent > 0 && lat >= 0) {
                g_array_append_val(s->latency_us, lat);
                s->window_frames++;
            }
        }
        g_mutex_unlock(&r->lock);
        gst_sample_unref(sample);
        return GST_FLOW_OK;
    }
    GstVideoInfo info;
    GstVideoFrame frame;
    guint32 seq = 0;
    bool valid = false;
    if (gst_video_info_from_caps(&info, gst_sample_get_caps(sample)) &&
        GST_VIDEO_INFO_WIDTH(&info) >= CODE_BITS * BLOCK &&
        GST_VIDEO_INFO_HEIGHT(&info) >= 2 * BLOCK &&
        gst_video_frame_map(&frame, &info, buf, GST_MAP_READ)) {
        valid = read_code(GST_VIDEO_FRAME_PLANE_DATA(&frame, 0),
                          GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0), &seq);
        gst_video_frame_unmap(&frame);
    }
    gst_sample_unref(sample);
    g_mutex_lock(&r->lock);
    s->frames_in++;
    if (!valid || seq >= r->n_frames) {
        s->bad_codes++;
    } else if (seq >= r->first_seq && seq < r->end_seq) {
        gint64 sent = __atomic_load_n(&s->sent_us[seq], __ATOMIC_ACQUIRE);
        if (sent > 0) {
            gint64 lat = now - sent;
            g_array_append_val(s->latency_us, lat);
            s->window_frames++;
            gint64 enc_out = s->enc_out_us[seq], dec_in = s->dec_in_us[seq];
            if (enc_out && dec_in) {
                gint64 stage[3] = {enc_out - sent, dec_in - enc_out, now - dec_in};
                for (int k = 0; k < 3; k++)
                    g_array_append_val(s->stage_us[k], stage[k]);
            }
        } else {
            s->bad_codes++;
        }
    }
    g_mutex_unlock(&r->lock);
    return GST_FLOW_OK;
}

/* The first error (or, with warnings, warning) on a pipeline's bus. */
static bool bus_error(GstElement *pipeline, char *error, size_t error_size)
{
    if (!pipeline)
        return false;
    GstBus *bus = gst_element_get_bus(pipeline);
    GstMessage *msg;
    bool failed = false;
    while (!failed && (msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR | GST_MESSAGE_EOS))) {
        if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
            GError *err = NULL;
            gchar *dbg = NULL;
            gst_message_parse_error(msg, &err, &dbg);
            snprintf(error, error_size, "%s: %s (%s)", GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)),
                     err->message, dbg ? dbg : "");
            g_error_free(err);
            g_free(dbg);
        } else {
            snprintf(error, error_size, "%s: unexpected end of stream", GST_OBJECT_NAME(pipeline));
        }
        failed = true;
        gst_message_unref(msg);
    }
    gst_object_unref(bus);
    return failed;
}

static GstElement *launch(const gchar *desc, const char *name, char *error, size_t error_size)
{
    GError *err = NULL;
    GstElement *p = gst_parse_launch(desc, &err);
    if (!p || err) {
        snprintf(error, error_size, "%s: %s", desc, err ? err->message : "?");
        g_clear_error(&err);
        if (p)
            gst_object_unref(p);
        return NULL;
    }
    gst_object_set_name(GST_OBJECT(p), name);
    return p;
}

/* One frame for every stream: frame `seq` of the picture, or of the GOP. */
static void push_frames(run *r, guint32 seq)
{
    GstBuffer *raw = NULL;
    if (r->mode == MODE_LATENCY) {
        raw = gst_buffer_new_allocate(NULL, GST_VIDEO_INFO_SIZE(&r->info), NULL);
        GstMapInfo map;
        gst_buffer_map(raw, &map, GST_MAP_WRITE);
        render_frame(map.data, seq);
        gst_buffer_unmap(raw, &map);
    }
    for (int i = 0; i < r->n; i++) {
        stream *s = &r->streams[i];
        GstBuffer *buf;
        if (raw)
            buf = gst_buffer_copy(raw); /* shares the memory, read-only */
        else
            buf = gst_buffer_copy(g_ptr_array_index(gop, seq % gop->len));
        GstClock *clock = gst_element_get_clock(s->pub);
        GstClockTime ts = 0;
        if (clock) {
            GstClockTime now = gst_clock_get_time(clock);
            GstClockTime base = gst_element_get_base_time(s->pub);
            ts = now > base ? now - base : 0;
            gst_object_unref(clock);
        }
        GST_BUFFER_PTS(buf) = GST_BUFFER_DTS(buf) = ts;
        GST_BUFFER_DURATION(buf) = GST_SECOND / (guint64)opt.fps;
        GST_BUFFER_OFFSET(buf) = seq;
        if (!raw)
            __atomic_store_n(&s->gop_sent_us[seq % gop->len], mono_us(), __ATOMIC_RELEASE);
        gst_app_src_push_buffer(GST_APP_SRC(s->appsrc), buf);
    }
    if (raw)
        gst_buffer_unref(raw);
}

static void stop_pipeline(GstElement **p)
{
    if (!*p)
        return;
    gst_element_set_state(*p, GST_STATE_NULL);
    gst_object_unref(*p);
    *p = NULL;
}

static int srt_negotiated_latency(GstElement *play)
{
    GstElement *srt = gst_bin_get_by_name(GST_BIN(play), "srt");
    int ms = -1;
    if (srt) {
        GstStructure *st = NULL;
        g_object_get(srt, "stats", &st, NULL);
        if (st) {
            gst_structure_get_int(st, "negotiated-latency-ms", &ms);
            gst_structure_free(st);
        }
        gst_object_unref(srt);
    }
    return ms;
}

static void run_once(path_id path, run_mode mode, int n, run_result *res)
{
    memset(res, 0, sizeof *res);
    res->srt_latency_ms = -1;
    const char *why = path_unavailable(path);
    if (why) {
        res->skipped = true;
        g_strlcpy(res->error, why, sizeof res->error);
        return;
    }
    run *r = g_new0(run, 1);
    r->path = path;
    r->mode = mode;
    r->n = n;
    g_mutex_init(&r->lock);
    gst_video_info_set_format(&r->info, GST_VIDEO_FORMAT_I420, WIDTH, HEIGHT);
    GST_VIDEO_INFO_FPS_N(&r->info) = opt.fps;
    GST_VIDEO_INFO_FPS_D(&r->info) = 1;
    guint32 start_frames = (guint32)(START_S * opt.fps);
    r->first_seq = start_frames + (guint32)(opt.warmup * opt.fps);
    r->end_seq = r->first_seq + (guint32)(opt.seconds * opt.fps);
    r->n_frames = r->end_seq + (guint32)(DRAIN_S * opt.fps);

    char *error = res->error;
    size_t esz = sizeof res->error;
    bool ok = peer_start(&r->peer, path, error, esz) == 0;
    GstCaps *caps =
        mode == MODE_LATENCY ? gst_video_info_to_caps(&r->info) : gst_caps_ref(gop_caps);

    for (int i = 0; ok && i < n; i++) {
        stream *s = &r->streams[i];
        s->run = r;
        s->index = i;
        s->sent_us = g_new0(gint64, r->n_frames);
        s->gop_sent_us = mode == MODE_CPU ? g_new0(gint64, gop->len) : NULL;
        s->latency_us = g_array_new(FALSE, FALSE, sizeof(gint64));
        g_queue_init(&s->encoding);
        s->enc_out_us = g_new0(gint64, r->n_frames);
        s->dec_in_us = g_new0(gint64, r->n_frames);
        s->key_seq = g_hash_table_new(NULL, NULL);
        for (int k = 0; k < 3; k++)
            s->stage_us[k] = g_array_new(FALSE, FALSE, sizeof(gint64));
        s->srt_port = path == PATH_SRT ? free_port(SOCK_DGRAM) : 0;
        gchar *desc = publisher_desc(r, i), *name = g_strdup_printf("pub%d", i);
        s->pub = launch(desc, name, error, esz);
        g_free(desc);
        g_free(name);
        if (!s->pub) {
            ok = false;
            break;
        }
        s->appsrc = gst_bin_get_by_name(GST_BIN(s->pub), "src");
        gst_app_src_set_caps(GST_APP_SRC(s->appsrc), caps);
        add_probe(s->pub, "enc", "sink", on_encoder_input, s);
        add_probe(s->pub, "enc", "src", on_encoder_output, s);
        add_probe(s->pub, "pay", "sink", on_payloader_input, NULL);
        desc = player_desc(r, i);
        name = g_strdup_printf("play%d", i);
        s->play = launch(desc, name, error, esz);
        g_free(desc);
        g_free(name);
        if (!s->play) {
            ok = false;
            break;
        }
        add_probe(s->play, "dec", "sink", on_decoder_input, s);
        GstElement *sink = gst_bin_get_by_name(GST_BIN(s->play), "sink");
        GstAppSinkCallbacks cb = {.new_sample = on_sample};
        gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cb, s, NULL);
        gst_object_unref(sink);
    }
    gst_caps_unref(caps);

    /* Publishers first (a rtmp2src fails on a stream not yet published);
     * players after START_S; frames paced on the monotonic clock. */
    for (int i = 0; ok && i < n; i++)
        if (gst_element_set_state(r->streams[i].pub, GST_STATE_PLAYING) ==
            GST_STATE_CHANGE_FAILURE) {
            snprintf(error, esz, "publisher %d did not start", i);
            ok = false;
        }
    gint64 t0 = mono_us(), frame_us = G_USEC_PER_SEC / opt.fps;
    double cpu0 = 0, srv0 = 0;
    gint64 w0 = 0;
    for (guint32 seq = 0; ok && seq < r->n_frames; seq++) {
        gint64 due = t0 + (gint64)seq * frame_us, now = mono_us();
        if (due > now)
            g_usleep((gulong)(due - now));
        if (seq == start_frames)
            for (int i = 0; ok && i < n; i++)
                if (gst_element_set_state(r->streams[i].play, GST_STATE_PLAYING) ==
                    GST_STATE_CHANGE_FAILURE) {
                    snprintf(error, esz, "player %d did not start", i);
                    ok = false;
                }
        if (seq == r->first_seq) {
            cpu0 = process_cpu_s();
            srv0 = r->peer.pid ? pid_cpu_s(r->peer.pid) : 0;
            w0 = mono_us();
            g_atomic_int_set(&r->in_window, 1);
        }
        if (seq == r->end_seq) {
            g_atomic_int_set(&r->in_window, 0);
            double wall = (double)(mono_us() - w0) / 1e6;
            res->client_cpu_pct = 100.0 * (process_cpu_s() - cpu0) / wall / n;
            res->server_cpu_pct =
                r->peer.pid ? 100.0 * (pid_cpu_s(r->peer.pid) - srv0) / wall / n : 0;
            g_mutex_lock(&r->lock);
            guint64 frames = 0;
            for (int i = 0; i < n; i++)
                frames += r->streams[i].frames_in_window;
            g_mutex_unlock(&r->lock);
            res->fps_in = (double)frames / wall / n;
        }
        if (ok)
            push_frames(r, seq);
        for (int i = 0; ok && i < n; i++)
            if (bus_error(r->streams[i].pub, error, esz) ||
                bus_error(r->streams[i].play, error, esz))
                ok = false;
    }
    if (ok)
        g_usleep(200000); /* the last frames of the drain */
    if (ok && path == PATH_SRT)
        res->srt_latency_ms = srt_negotiated_latency(r->streams[0].play);

    for (int i = 0; i < n; i++) {
        stop_pipeline(&r->streams[i].play);
        if (r->streams[i].appsrc)
            gst_object_unref(r->streams[i].appsrc);
        stop_pipeline(&r->streams[i].pub);
    }
    peer_stop(&r->peer);

    if (ok) {
        GArray *all = g_array_new(FALSE, FALSE, sizeof(gint64));
        guint64 expected = 0, got = 0, pictures = 0, bad = 0;
        for (int i = 0; i < n; i++) {
            stream *s = &r->streams[i];
            pictures += s->frames_in;
            bad += s->bad_codes;
            g_array_append_vals(all, s->latency_us->data, s->latency_us->len);
            got += s->window_frames;
            if (mode == MODE_CPU) {
                expected += r->end_seq - r->first_seq;
                continue;
            }
            /* A frame the leaky appsrc dropped never reached the encoder:
             * not the transport's to deliver. */
            for (guint32 q = r->first_seq; q < r->end_seq; q++)
                expected += s->sent_us[q] > 0;
        }
        qsort(all->data, all->len, sizeof(gint64), cmp_i64);
        gint64 *v = (gint64 *)all->data;
        res->p50 = percentile_ms(v, all->len, 50);
        res->p99 = percentile_ms(v, all->len, 99);
        res->max = all->len ? (double)v[all->len - 1] / 1000.0 : NAN;
        res->delivered_pct = expected ? 100.0 * (double)got / (double)expected : 0;
        for (int k = 0; k < 3; k++) {
            GArray *st = g_array_new(FALSE, FALSE, sizeof(gint64));
            for (int i = 0; i < n; i++)
                g_array_append_vals(st, r->streams[i].stage_us[k]->data,
                                    r->streams[i].stage_us[k]->len);
            qsort(st->data, st->len, sizeof(gint64), cmp_i64);
            res->stage_p50[k] = percentile_ms((gint64 *)st->data, st->len, 50);
            res->stage_p99[k] = percentile_ms((gint64 *)st->data, st->len, 99);
            g_array_free(st, TRUE);
        }
        if (mode == MODE_LATENCY) {
            if (!all->len) {
                snprintf(error, esz,
                         "no frame of the window was received (%" G_GUINT64_FORMAT
                         " pictures, %" G_GUINT64_FORMAT " without a frame number)",
                         pictures, bad);
                ok = false;
            }
        } else if (res->fps_in < 0.5 * opt.fps) {
            snprintf(error, esz, "the players got %.1f frames a second of %d", res->fps_in,
                     opt.fps);
            ok = false;
        }
        g_array_free(all, TRUE);
    }
    res->ok = ok;
    for (int i = 0; i < n; i++) {
        g_free(r->streams[i].sent_us);
        g_free(r->streams[i].gop_sent_us);
        g_free(r->streams[i].enc_out_us);
        g_free(r->streams[i].dec_in_us);
        g_queue_clear(&r->streams[i].encoding);
        if (r->streams[i].key_seq)
            g_hash_table_destroy(r->streams[i].key_seq);
        for (int k = 0; k < 3; k++)
            if (r->streams[i].stage_us[k])
                g_array_free(r->streams[i].stage_us[k], TRUE);
        if (r->streams[i].latency_us)
            g_array_free(r->streams[i].latency_us, TRUE);
    }
    g_mutex_clear(&r->lock);
    g_free(r);
}

/* Encodes one GOP of the picture, as the latency runs' encoder does, for the
 * CPU runs to send in a loop. */
static int encode_gop(void)
{
    gchar *enc = encoder_desc();
    gchar *desc = g_strdup_printf("appsrc name=src format=time ! %s ! h264parse ! "
                                  "video/x-h264,stream-format=byte-stream,alignment=au ! "
                                  "appsink name=sink sync=false",
                                  enc);
    g_free(enc);
    char error[512];
    GstElement *p = launch(desc, "gop", error, sizeof error);
    g_free(desc);
    if (!p) {
        fprintf(stderr, "zego-bench-gst-latency: %s\n", error);
        return -1;
    }
    GstElement *src = gst_bin_get_by_name(GST_BIN(p), "src");
    GstElement *sink = gst_bin_get_by_name(GST_BIN(p), "sink");
    GstVideoInfo info;
    gst_video_info_set_format(&info, GST_VIDEO_FORMAT_I420, WIDTH, HEIGHT);
    GST_VIDEO_INFO_FPS_N(&info) = opt.fps;
    GST_VIDEO_INFO_FPS_D(&info) = 1;
    GstCaps *caps = gst_video_info_to_caps(&info);
    gst_app_src_set_caps(GST_APP_SRC(src), caps);
    gst_caps_unref(caps);
    gst_element_set_state(p, GST_STATE_PLAYING);
    int n = 2 * opt.fps;
    for (int i = 0; i < n; i++) {
        GstBuffer *buf = gst_buffer_new_allocate(NULL, GST_VIDEO_INFO_SIZE(&info), NULL);
        GstMapInfo map;
        gst_buffer_map(buf, &map, GST_MAP_WRITE);
        render_frame(map.data, (guint32)i);
        gst_buffer_unmap(buf, &map);
        GST_BUFFER_PTS(buf) = (GstClockTime)i * GST_SECOND / (guint64)opt.fps;
        GST_BUFFER_DURATION(buf) = GST_SECOND / (guint64)opt.fps;
        gst_app_src_push_buffer(GST_APP_SRC(src), buf);
    }
    gst_app_src_end_of_stream(GST_APP_SRC(src));
    gop = g_ptr_array_new_with_free_func((GDestroyNotify)gst_buffer_unref);
    GstSample *sample;
    while ((sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 10 * GST_SECOND))) {
        GstBuffer *buf = gst_sample_get_buffer(sample);
        if (!gop_caps)
            gop_caps = gst_caps_copy(gst_sample_get_caps(sample));
        GstBuffer *copy = gst_buffer_copy_deep(buf);
        GST_BUFFER_PTS(copy) = GST_BUFFER_DTS(copy) = GST_CLOCK_TIME_NONE;
        g_ptr_array_add(gop, copy);
        gst_sample_unref(sample);
    }
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(src);
    gst_object_unref(sink);
    gst_object_unref(p);
    if ((int)gop->len != n || !gop_caps ||
        GST_BUFFER_FLAG_IS_SET(g_ptr_array_index(gop, 0), GST_BUFFER_FLAG_DELTA_UNIT)) {
        fprintf(stderr, "zego-bench-gst-latency: encoding the GOP gave %u frames of %d\n", gop->len,
                n);
        return -1;
    }
    gsize bytes = 0;
    gop_keys = g_new0(guint32, gop->len);
    for (guint i = 0; i < gop->len; i++) {
        bytes += gst_buffer_get_size(g_ptr_array_index(gop, i));
        gop_keys[i] = frame_key(g_ptr_array_index(gop, i));
        for (guint k = 0; k < i; k++)
            if (gop_keys[k] == gop_keys[i]) {
                fprintf(stderr, "zego-bench-gst-latency: GOP frames %u and %u end alike\n", k, i);
                return -1;
            }
    }
    printf("GOP for the CPU runs: %u frames, %zu bytes (%.0f kbit/s), keyframe %zu bytes\n",
           gop->len, bytes, (double)bytes * 8 * opt.fps / gop->len / 1000,
           gst_buffer_get_size(g_ptr_array_index(gop, 0)));
    return 0;
}

/* ---- The program ---- */

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: zego-bench-gst-latency [options]\n"
            "\n"
            "Publish-to-play latency per frame and CPU per stream of zegosink ->\n"
            "zego-room-server -> zegosrc, beside rtmp2sink -> nginx-rtmp -> rtmp2src and\n"
            "srtsink -> srtsrc, with the same encoder and the same frames.\n"
            "\n"
            "  --seconds S        measured stream per run (default 10)\n"
            "  --warmup S         stream played before measuring (default 2)\n"
            "  --repeat R         runs per path and mode; tables show medians (default 3)\n"
            "  --streams N        streams in parallel in the CPU runs (default 8)\n"
            "  --only LIST        paths, comma-separated: zego,rtmp,srt (default all)\n"
            "  --mode LIST        latency,cpu (default both)\n"
            "  --bitrate KBPS     x264enc bitrate (default 1500)\n"
            "  --fps N            frames per second (default 30)\n"
            "  --srt-latency MS   srtsink/srtsrc latency (default 0, the least SRT takes)\n"
            "  --server PATH      zego-room-server (default $ZEGO_SERVER_BIN, else this build's)\n"
            "  --nginx PATH       nginx (default $NGINX_BIN, else /usr/sbin/nginx)\n"
            "  --rtmp-module PATH (default /usr/lib/nginx/modules/ngx_rtmp_module.so)\n"
            "  -h, --help         this help\n");
}

static bool parse_names(const char *s, const char *const *names, int n, bool *set)
{
    gchar **parts = g_strsplit(s, ",", -1);
    bool ok = parts[0] != NULL;
    for (int i = 0; parts[i]; i++) {
        int k = 0;
        while (k < n && strcmp(parts[i], names[k]) != 0)
            k++;
        if (k == n)
            ok = false;
        else
            set[k] = true;
    }
    g_strfreev(parts);
    return ok;
}

static void beside_self(const char *rel, char *out, size_t size)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = '\0';
    snprintf(out, size, "%s/%s", dirname(self), rel);
}

static int parse_args(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"seconds", required_argument, NULL, 's'},
        {"warmup", required_argument, NULL, 'w'},
        {"repeat", required_argument, NULL, 'r'},
        {"streams", required_argument, NULL, 'n'},
        {"only", required_argument, NULL, 'o'},
        {"mode", required_argument, NULL, 'm'},
        {"bitrate", required_argument, NULL, 'b'},
        {"fps", required_argument, NULL, 'f'},
        {"srt-latency", required_argument, NULL, 'l'},
        {"server", required_argument, NULL, 'S'},
        {"nginx", required_argument, NULL, 'N'},
        {"rtmp-module", required_argument, NULL, 'M'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char *const mode_names[N_MODES] = {"latency", "cpu"};
    opt.seconds = 10;
    opt.warmup = 2;
    opt.repeat = 3;
    opt.streams = 8;
    opt.fps = 30;
    opt.bitrate_kbps = 1500;
    opt.srt_latency_ms = 0;
    opt.server_bin = getenv("ZEGO_SERVER_BIN");
    opt.nginx_bin = getenv("NGINX_BIN") ? getenv("NGINX_BIN") : "/usr/sbin/nginx";
    opt.rtmp_module = "/usr/lib/nginx/modules/ngx_rtmp_module.so";
    int c;
    bool any_mode = false;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            opt.seconds = atof(optarg);
            break;
        case 'w':
            opt.warmup = atof(optarg);
            break;
        case 'r':
            opt.repeat = atoi(optarg);
            break;
        case 'n':
            opt.streams = atoi(optarg);
            break;
        case 'o':
            if (!parse_names(optarg, path_name, N_PATHS, opt.only))
                return fprintf(stderr, "zego-bench-gst-latency: --only zego,rtmp,srt\n"), 2;
            break;
        case 'm':
            if (!parse_names(optarg, mode_names, N_MODES, opt.mode))
                return fprintf(stderr, "zego-bench-gst-latency: --mode latency,cpu\n"), 2;
            any_mode = true;
            break;
        case 'b':
            opt.bitrate_kbps = atoi(optarg);
            break;
        case 'f':
            opt.fps = atoi(optarg);
            break;
        case 'l':
            opt.srt_latency_ms = atoi(optarg);
            break;
        case 'S':
            opt.server_bin = optarg;
            break;
        case 'N':
            opt.nginx_bin = optarg;
            break;
        case 'M':
            opt.rtmp_module = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc || opt.seconds <= 0 || opt.seconds > 600 || opt.warmup < 0 ||
        opt.repeat < 1 || opt.repeat > MAX_REPEAT || opt.streams < 1 || opt.streams > MAX_STREAMS ||
        opt.fps < 1 || opt.fps > 120 || opt.bitrate_kbps < 50 || opt.srt_latency_ms < 0) {
        usage(stderr);
        return 2;
    }
    if (!any_mode)
        opt.mode[MODE_LATENCY] = opt.mode[MODE_CPU] = true;
    if (!opt.only[PATH_ZEGO] && !opt.only[PATH_RTMP] && !opt.only[PATH_SRT])
        opt.only[PATH_ZEGO] = opt.only[PATH_RTMP] = opt.only[PATH_SRT] = true;
    static char server_default[PATH_MAX];
    if (!opt.server_bin) {
        beside_self("../../server/zego-room-server", server_default, sizeof server_default);
        opt.server_bin = server_default;
    }
    setenv("ZEGO_SERVER_BIN", opt.server_bin, 1); /* zt_server_start reads it */
    /* Run from the build tree without meson's environment: this build's
     * plugin, in a registry of its own (not the user's, which another
     * build's plugin of the same name may be in). */
    if (!getenv("GST_PLUGIN_PATH")) {
        char dir[PATH_MAX], reg[PATH_MAX];
        beside_self("../../gst-plugin", dir, sizeof dir);
        beside_self("registry-gst-latency.bin", reg, sizeof reg);
        setenv("GST_PLUGIN_PATH", dir, 1);
        if (!getenv("GST_REGISTRY"))
            setenv("GST_REGISTRY", reg, 1);
    }
    return 0;
}

static void print_machine(void)
{
    char model[256] = "?", line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "model name : %255[^\n]", model) == 1)
            break;
    if (f)
        fclose(f);
    struct utsname u;
    uname(&u);
    double load[3] = {0};
    getloadavg(load, 3);
    guint maj, min, mic, nano;
    gst_version(&maj, &min, &mic, &nano);
    printf("machine: %ld cores (%s), Linux %s, load average %.2f; GStreamer %u.%u.%u; "
           "everything on loopback\n",
           sysconf(_SC_NPROCESSORS_ONLN), model, u.release, load[0], maj, min, mic);
}

static const char *fmt_ms(char *buf, size_t size, double v)
{
    if (isnan(v))
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%.2f", v);
    return buf;
}

static const char *fmt_ratio(char *buf, size_t size, double a, double b)
{
    if (isnan(a) || isnan(b) || b <= 0)
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%.2f×", a / b);
    return buf;
}

int main(int argc, char **argv)
{
    int rc = parse_args(argc, argv);
    if (rc)
        return rc;
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    gst_init(NULL, NULL);
    make_texture();
    print_machine();
    gchar *enc = encoder_desc();
    printf("stream: %dx%d I420 %d fps, %s; decoder avdec_h264 thread-type=slice; srt "
           "latency=%d ms\n",
           WIDTH, HEIGHT, opt.fps, enc + strlen("x264enc name=enc "), opt.srt_latency_ms);
    g_free(enc);
    if (opt.mode[MODE_CPU] && encode_gop() != 0)
        return 1;

    static run_result res[N_MODES][N_PATHS][MAX_REPEAT];
    bool broke = false;
    for (int m = 0; m < N_MODES; m++) {
        if (!opt.mode[m])
            continue;
        int n = m == MODE_LATENCY ? 1 : opt.streams;
        printf("\n== %s: %d stream%s, %g s measured after %g s, %d repetition%s\n",
               m == MODE_LATENCY ? "latency (encode + decode)" : "CPU (pre-encoded, no decode)", n,
               n > 1 ? "s" : "", opt.seconds, opt.warmup, opt.repeat, opt.repeat > 1 ? "s" : "");
        for (int k = 0; k < opt.repeat; k++)
            for (int p = 0; p < N_PATHS; p++) {
                if (!opt.only[p])
                    continue;
                run_result *x = &res[m][p][k];
                if (k > 0 && res[m][p][0].skipped) {
                    *x = res[m][p][0];
                    continue;
                }
                run_once((path_id)p, (run_mode)m, n, x);
                if (x->skipped) {
                    printf("%-4s skipped: %s\n", path_name[p], x->error);
                } else if (!x->ok) {
                    printf("%-4s run %d FAILED: %s\n", path_name[p], k + 1, x->error);
                    broke = true;
                } else if (m == MODE_LATENCY) {
                    printf("%-4s run %d: p50 %.2f ms, p99 %.2f ms, max %.1f ms, %.2f%% of the "
                           "window's frames; client CPU %.1f%%, server %.1f%%",
                           path_name[p], k + 1, x->p50, x->p99, x->max, x->delivered_pct,
                           x->client_cpu_pct, x->server_cpu_pct);
                    printf("; encode %.2f ms, transport %.2f ms (p99 %.2f), decode %.2f ms",
                           x->stage_p50[0], x->stage_p50[1], x->stage_p99[1], x->stage_p50[2]);
                    if (x->srt_latency_ms >= 0)
                        printf("; srt negotiated latency %d ms", x->srt_latency_ms);
                    printf("\n");
                } else {
                    printf("%-4s run %d: client CPU %.2f%% per stream, server %.2f%% per stream, "
                           "%.1f frames/s per player; latency p50 %.2f ms, p99 %.2f ms, max "
                           "%.1f ms\n",
                           path_name[p], k + 1, x->client_cpu_pct, x->server_cpu_pct, x->fps_in,
                           x->p50, x->p99, x->max);
                }
            }
    }

    /* The tables, medians of the repetitions, ready for docs/performance.md. */
    char a[32], b[32], c[32], d[32], e[32];
    enum {
        F_P50,
        F_P99,
        F_MAX,
        F_DELIVERED,
        F_CLIENT,
        F_SERVER,
        F_ENC,
        F_NET,
        F_NET99,
        F_DEC,
        N_F
    };
    double med[N_MODES][N_PATHS][N_F];
    for (int m = 0; m < N_MODES; m++)
        for (int p = 0; p < N_PATHS; p++) {
            double v[N_F][MAX_REPEAT];
            for (int k = 0; k < opt.repeat; k++) {
                const run_result *x = &res[m][p][k];
                bool ok = opt.mode[m] && opt.only[p] && x->ok;
                v[0][k] = ok ? x->p50 : NAN;
                v[1][k] = ok ? x->p99 : NAN;
                v[2][k] = ok ? x->max : NAN;
                v[3][k] = ok ? x->delivered_pct : NAN;
                v[4][k] = ok ? x->client_cpu_pct : NAN;
                v[5][k] = ok ? x->server_cpu_pct : NAN;
                v[F_ENC][k] = ok ? x->stage_p50[0] : NAN;
                v[F_NET][k] = ok ? x->stage_p50[1] : NAN;
                v[F_NET99][k] = ok ? x->stage_p99[1] : NAN;
                v[F_DEC][k] = ok ? x->stage_p50[2] : NAN;
            }
            for (int f = 0; f < N_F; f++)
                med[m][p][f] = median(v[f], opt.repeat);
        }
    if (opt.mode[MODE_LATENCY]) {
        printf("\nLatency, encoder input to decoded picture, one stream (median of %d runs; "
               "CPU in %% of one core):\n\n",
               opt.repeat);
        printf("| path | p50 ms | p99 ms | max ms | delivered | encode p50 | transport p50 | "
               "transport p99 | decode p50 | CPU/stream, client | CPU/stream, server |\n");
        printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (int p = 0; p < N_PATHS; p++) {
            if (!opt.only[p])
                continue;
            const double *x = med[MODE_LATENCY][p];
            if (res[MODE_LATENCY][p][0].skipped) {
                printf("| %s | skipped: %s |||||||||\n", path_label[p],
                       res[MODE_LATENCY][p][0].error);
                continue;
            }
            char f1[32], f2[32], f3[32], f4[32];
            printf("| %s | %s | %s | %s | %.2f%% | %s | %s | %s | %s | %.1f%% | %.2f%% |\n",
                   path_label[p], fmt_ms(a, sizeof a, x[F_P50]), fmt_ms(b, sizeof b, x[F_P99]),
                   fmt_ms(c, sizeof c, x[F_MAX]), x[F_DELIVERED], fmt_ms(f1, sizeof f1, x[F_ENC]),
                   fmt_ms(f2, sizeof f2, x[F_NET]), fmt_ms(f3, sizeof f3, x[F_NET99]),
                   fmt_ms(f4, sizeof f4, x[F_DEC]), x[F_CLIENT], x[F_SERVER]);
        }
        for (int p = PATH_RTMP; p < N_PATHS; p++)
            if (opt.only[PATH_ZEGO] && opt.only[p] && !res[MODE_LATENCY][p][0].skipped) {
                const double *z = med[MODE_LATENCY][PATH_ZEGO], *o = med[MODE_LATENCY][p];
                char f2[32], f3[32];
                printf("| *zego / %s* | %s | %s | %s | | | %s | %s | | %s | |\n", path_name[p],
                       fmt_ratio(a, sizeof a, z[F_P50], o[F_P50]),
                       fmt_ratio(b, sizeof b, z[F_P99], o[F_P99]),
                       fmt_ratio(c, sizeof c, z[F_MAX], o[F_MAX]),
                       fmt_ratio(f2, sizeof f2, z[F_NET], o[F_NET]),
                       fmt_ratio(f3, sizeof f3, z[F_NET99], o[F_NET99]),
                       fmt_ratio(d, sizeof d, z[F_CLIENT], o[F_CLIENT]));
            }
    }
    if (opt.mode[MODE_CPU]) {
        printf("\nPre-encoded frames, %d streams at once, no decoding (median of %d runs): "
               "CPU per stream in %% of one core, latency from appsrc to appsink:\n\n",
               opt.streams, opt.repeat);
        printf("| path | CPU client (publisher + player) | CPU server | CPU total | p50 ms | "
               "p99 ms |\n");
        printf("|---|---:|---:|---:|---:|---:|\n");
        for (int p = 0; p < N_PATHS; p++) {
            if (!opt.only[p])
                continue;
            const double *x = med[MODE_CPU][p];
            if (res[MODE_CPU][p][0].skipped) {
                printf("| %s | skipped: %s |||||\n", path_label[p], res[MODE_CPU][p][0].error);
                continue;
            }
            printf("| %s | %.2f%% | %.2f%% | %.2f%% | %s | %s |\n", path_label[p], x[4], x[5],
                   x[4] + x[5], fmt_ms(a, sizeof a, x[0]), fmt_ms(b, sizeof b, x[1]));
        }
        for (int p = PATH_RTMP; p < N_PATHS; p++)
            if (opt.only[PATH_ZEGO] && opt.only[p] && !res[MODE_CPU][p][0].skipped) {
                const double *z = med[MODE_CPU][PATH_ZEGO], *o = med[MODE_CPU][p];
                printf("| *zego / %s* | %s | %s | %s | %s | %s |\n", path_name[p],
                       fmt_ratio(a, sizeof a, z[4], o[4]), fmt_ratio(b, sizeof b, z[5], o[5]),
                       fmt_ratio(c, sizeof c, z[4] + z[5], o[4] + o[5]),
                       fmt_ratio(d, sizeof d, z[0], o[0]), fmt_ratio(e, sizeof e, z[1], o[1]));
            }
    }
    return broke ? 1 : 0;
}
