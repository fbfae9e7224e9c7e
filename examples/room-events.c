/* room-events: logs into a room and prints every event as one line, e.g.
 *
 *   room_state CONNECTED reason=LOGINED code=0
 *   stream_update ADD cam-1 user=bob extra=hello
 *   player_quality cam-1 video_fps=30.0 video_kbps=812.3 ... quality=EXCELLENT
 *
 * A tool for anyone debugging a room; it also shows the smallest complete
 * use of <zego/engine.h>.  Run with --help for the options. */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zego/engine.h>

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Lines come from the engine thread; stdout is line buffered below so that
 * each event is one write. */
static void on_room_state(zego_engine *e, const char *room_id, zego_room_state state,
                          zego_room_state_reason reason, int32_t code, const char *message,
                          void *ud)
{
    (void)e, (void)ud;
    printf("room_state %s room=%s reason=%s code=%d%s%s\n", zego_room_state_name(state), room_id,
           zego_room_state_reason_name(reason), code, *message ? " message=" : "", message);
}

static void on_users(zego_engine *e, const char *room_id, zego_update_type type,
                     const zego_user *users, size_t n, void *ud)
{
    (void)e, (void)room_id, (void)ud;
    for (size_t i = 0; i < n; i++)
        printf("user_update %s %s name=%s\n", zego_update_type_name(type), users[i].user_id,
               users[i].user_name);
}

static void on_streams(zego_engine *e, const char *room_id, zego_update_type type,
                       zego_delete_reason reason, const zego_stream *s, size_t n, void *ud)
{
    (void)room_id, (void)ud;
    for (size_t i = 0; i < n; i++)
        printf("stream_update %s %s user=%s%s reason=%s extra=%s\n", zego_update_type_name(type),
               s[i].stream_id, s[i].user_id, zego_engine_is_own_stream(e, &s[i]) ? " (own)" : "",
               zego_delete_reason_name(reason), s[i].extra_info);
}

static void on_extra_info(zego_engine *e, const char *room_id, const zego_stream *s, size_t n,
                          void *ud)
{
    (void)e, (void)room_id, (void)ud;
    for (size_t i = 0; i < n; i++)
        printf("stream_extra_info %s extra=%s\n", s[i].stream_id, s[i].extra_info);
}

static void on_player_state(zego_engine *e, const char *stream_id, zego_player_state state,
                            int32_t code, void *ud)
{
    (void)e, (void)ud;
    printf("player_state %s %s code=%d\n", stream_id, zego_player_state_name(state), code);
}

static void on_publisher_state(zego_engine *e, const char *stream_id, zego_publisher_state state,
                               int32_t code, void *ud)
{
    (void)e, (void)ud;
    printf("publisher_state %s %s code=%d\n", stream_id, zego_publisher_state_name(state), code);
}

static void on_player_quality(zego_engine *e, const char *stream_id, const zego_play_stats *s,
                              void *ud)
{
    (void)e, (void)ud;
    printf("player_quality %s video_fps=%.1f audio_fps=%.1f video_kbps=%.1f audio_kbps=%.1f "
           "rtt=%u delay=%" PRId64 " lost=%u frames=%" PRIu64 " quality=%s\n",
           stream_id, s->video_fps, s->audio_fps, s->video_kbps, s->audio_kbps, s->rtt_ms,
           s->delay_ms, s->interval_lost, s->frames_received, zego_quality_level_name(s->quality));
}

static void on_token_will_expire(zego_engine *e, const char *room_id, uint32_t remaining_s,
                                 void *ud)
{
    (void)e, (void)ud;
    printf("token_will_expire room=%s remaining_s=%u\n", room_id, remaining_s);
}

static void on_broadcast(zego_engine *e, const char *room_id, const zego_user *from,
                         const char *message, uint64_t id, int64_t send_time_ms, void *ud)
{
    (void)e, (void)room_id, (void)ud;
    printf("broadcast_message from=%s id=%" PRIu64 " time=%" PRId64 " message=%s\n", from->user_id,
           id, send_time_ms, message);
}

static void on_command(zego_engine *e, const char *room_id, const zego_user *from,
                       const char *command, int64_t send_time_ms, void *ud)
{
    (void)e, (void)room_id, (void)ud;
    printf("custom_command from=%s time=%" PRId64 " command=%s\n", from->user_id, send_time_ms,
           command);
}

static void on_kicked_out(zego_engine *e, const char *room_id, int32_t code, const char *message,
                          void *ud)
{
    (void)e, (void)ud;
    printf("kicked_out room=%s code=%d message=%s\n", room_id, code, message);
}

static void on_media_info(zego_engine *e, const zego_media_info *info, void *ud)
{
    (void)e, (void)ud;
    for (size_t i = 0; i < info->n_tracks; i++) {
        const zego_track *t = &info->tracks[i];
        printf("media_info %s generation=%u track=%u codec=%s %s", info->stream_id,
               info->generation, t->id, t->codec_string,
               t->kind == ZEGO_TRACK_VIDEO ? "video" : "audio");
        if (t->kind == ZEGO_TRACK_VIDEO)
            printf(" %ux%u\n", t->width, t->height);
        else
            printf(" %u Hz %u ch\n", t->sample_rate, t->channels);
    }
}

/* Frames are many: only the first, keyframes and discontinuities are shown. */
static void on_frame(zego_engine *e, const char *stream_id, const zego_media_frame *f, void *ud)
{
    (void)e;
    uint64_t *count = ud;
    if ((*count)++ == 0 || f->flags & (ZEGO_FRAME_FLAG_KEY | ZEGO_FRAME_FLAG_DISCONT))
        printf("frame %s track=%u seq=%u size=%zu pts_us=%" PRId64 "%s%s\n", stream_id, f->track,
               f->sequence, f->size, f->pts_us, f->flags & ZEGO_FRAME_FLAG_KEY ? " KEY" : "",
               f->flags & ZEGO_FRAME_FLAG_DISCONT ? " DISCONT" : "");
}

static const char *level_names[] = {"E", "W", "I", "D"};

static void on_log(zego_log_level level, const char *message, void *ud)
{
    (void)ud;
    fprintf(stderr, "[%s] %s\n", level_names[level], message);
}

static void usage(FILE *out, const char *argv0)
{
    fprintf(out,
            "Usage: %s --server URL --app-id N --room-id ROOM --user-id USER [options]\n"
            "Logs into a room on zego-room-server and prints every event as one line.\n"
            "\n"
            "  --server URL        signaling URL, ws://host:port/ws or wss://...\n"
            "  --app-id N          the app id\n"
            "  --room-id ROOM      the room to log into\n"
            "  --user-id USER      the user to log in as\n"
            "  --user-name NAME    the name shown to others (UTF-8)\n"
            "  --token TOKEN       a Token04; default: the environment variable ZEGO_TOKEN\n"
            "  --play STREAM_ID    also play this stream and print its media events (repeatable)\n"
            "  --duration SECONDS  leave after this long (default: until Ctrl-C)\n"
            "  --insecure          do not verify the server's TLS certificate\n"
            "  --verbose           log the engine's debug lines to stderr\n"
            "  --help              this text\n",
            argv0);
}

int main(int argc, char **argv)
{
    enum {
        OPT_SERVER = 1,
        OPT_APP,
        OPT_ROOM,
        OPT_USER,
        OPT_NAME,
        OPT_TOKEN,
        OPT_PLAY,
        OPT_DUR,
        OPT_INSECURE,
        OPT_VERBOSE,
        OPT_HELP
    };
    static const struct option opts[] = {
        {"server", required_argument, NULL, OPT_SERVER},
        {"app-id", required_argument, NULL, OPT_APP},
        {"room-id", required_argument, NULL, OPT_ROOM},
        {"user-id", required_argument, NULL, OPT_USER},
        {"user-name", required_argument, NULL, OPT_NAME},
        {"token", required_argument, NULL, OPT_TOKEN},
        {"play", required_argument, NULL, OPT_PLAY},
        {"duration", required_argument, NULL, OPT_DUR},
        {"insecure", no_argument, NULL, OPT_INSECURE},
        {"verbose", no_argument, NULL, OPT_VERBOSE},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    zego_engine_config config;
    zego_engine_config_init(&config);
    config.log = on_log;
    config.log_level = ZEGO_LOG_WARNING;
    zego_room_config room = {.user_update = true};
    const char *plays[64];
    size_t n_plays = 0;
    double duration = 0;
    bool have_app = false;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case OPT_SERVER:
            config.server_url = optarg;
            break;
        case OPT_APP: {
            char *end;
            unsigned long v = strtoul(optarg, &end, 10);
            if (*end || v > UINT32_MAX) {
                fprintf(stderr, "room-events: --app-id must be a number up to 4294967295\n");
                return 2;
            }
            config.app_id = (uint32_t)v;
            have_app = true;
            break;
        }
        case OPT_ROOM:
            room.room_id = optarg;
            break;
        case OPT_USER:
            room.user_id = optarg;
            break;
        case OPT_NAME:
            room.user_name = optarg;
            break;
        case OPT_TOKEN:
            room.token = optarg;
            break;
        case OPT_PLAY:
            if (n_plays == sizeof plays / sizeof plays[0]) {
                fprintf(stderr, "room-events: at most 64 --play\n");
                return 2;
            }
            plays[n_plays++] = optarg;
            break;
        case OPT_DUR:
            duration = atof(optarg);
            break;
        case OPT_INSECURE:
            config.tls_verify = false;
            break;
        case OPT_VERBOSE:
            config.log_level = ZEGO_LOG_DEBUG;
            break;
        case OPT_HELP:
            usage(stdout, argv[0]);
            return 0;
        default:
            usage(stderr, argv[0]);
            return 2;
        }
    }
    if (!config.server_url || !have_app || !room.room_id || !room.user_id || optind < argc) {
        usage(stderr, argv[0]);
        return 2;
    }
    if (!room.token)
        room.token = getenv("ZEGO_TOKEN");
    setvbuf(stdout, NULL, _IOLBF, 0);

    zego_error err;
    zego_engine *engine = zego_engine_create(&config, &err);
    if (!engine) {
        fprintf(stderr, "room-events: %s (%d)\n", err.message, err.code);
        return 1;
    }
    zego_event_handler handler = {
        .room_state_update = on_room_state,
        .room_user_update = on_users,
        .room_stream_update = on_streams,
        .room_stream_extra_info_update = on_extra_info,
        .publisher_state_update = on_publisher_state,
        .player_state_update = on_player_state,
        .player_quality_update = on_player_quality,
        .room_token_will_expire = on_token_will_expire,
        .broadcast_message = on_broadcast,
        .custom_command = on_command,
        .kicked_out = on_kicked_out,
    };
    zego_engine_add_handler(engine, &handler, NULL);
    int status = 0;
    if (zego_engine_login_room(engine, &room, &err) != ZEGO_ERR_OK) {
        fprintf(stderr, "room-events: %s (%d)\n", err.message, err.code);
        zego_engine_destroy(engine);
        return 1;
    }
    static uint64_t counts[64];
    for (size_t i = 0; i < n_plays; i++) {
        zego_player_callbacks cb = {
            .user_data = &counts[i], .media_info = on_media_info, .frame = on_frame};
        if (zego_engine_start_playing(engine, plays[i], &cb, &err) != ZEGO_ERR_OK) {
            fprintf(stderr, "room-events: --play %s: %s (%d)\n", plays[i], err.message, err.code);
            status = 1;
        }
    }

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    bool ever_connected = false;
    while (!stop_requested) {
        usleep(50 * 1000);
        zego_room_state state = zego_engine_get_room_state(engine);
        if (state == ZEGO_ROOM_STATE_CONNECTED)
            ever_connected = true;
        /* A failed login, a kick-out or giving up: nothing more will come. */
        if (state == ZEGO_ROOM_STATE_DISCONNECTED) {
            status = ever_connected ? status : 1;
            break;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        double elapsed = (double)(now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9;
        if (duration > 0 && elapsed >= duration)
            break;
    }
    for (size_t i = 0; i < n_plays; i++)
        zego_engine_stop_playing(engine, plays[i], NULL);
    zego_engine_destroy(engine);
    return status;
}
