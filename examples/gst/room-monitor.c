/* room-monitor: embeds zegosrc in a program.  It logs into a room, prints the
 * room's events as zegosrc posts them on the bus (one line each), and gives
 * every pad of every played stream a branch of its own: a fakesink, or with
 * --record DIR a Matroska file DIR/STREAM-PAD.mkv.  Pads come and go with the
 * room's publishers; a branch is taken down when its pad goes.
 *
 *   room-monitor --server URL --app-id N --room-id R [--user-id U] [--token T]
 *       [--stream-id S] [--record DIR] [--seconds N] [--exit-after-streams N]
 *
 * --exit-after-streams N ends the program once N streams have ended. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gst/gst.h>

typedef struct monitor {
    GMainLoop *loop;
    GstElement *pipeline;
    const char *record_dir;
    int exit_after_streams;
    int streams_ended;
    gboolean stopping;
    int status;
} monitor;

/* A pad's branch, taken down from the main loop once its pad is gone. */
typedef struct branch {
    monitor *m;
    GstElement *bin;
} branch;

static gboolean quit_loop(gpointer data)
{
    g_main_loop_quit(data);
    return G_SOURCE_REMOVE;
}

static gboolean remove_branch(gpointer data)
{
    branch *b = data;
    gst_element_set_state(b->bin, GST_STATE_NULL);
    gst_bin_remove(GST_BIN(b->m->pipeline), b->bin);
    g_free(b);
    return G_SOURCE_REMOVE;
}

static void on_pad_added(GstElement *src, GstPad *pad, gpointer user_data)
{
    (void)src;
    monitor *m = user_data;
    gchar *stream_id = NULL, *user_id = NULL;
    g_object_get(pad, "stream-id", &stream_id, "user-id", &user_id, NULL);
    GstCaps *caps = gst_pad_get_current_caps(pad);
    if (!caps)
        caps = gst_pad_query_caps(pad, NULL);
    const char *media = caps && gst_caps_get_size(caps) > 0
                            ? gst_structure_get_name(gst_caps_get_structure(caps, 0))
                            : "?";
    printf("pad %s: stream %s of %s, %s\n", GST_PAD_NAME(pad), stream_id, user_id ? user_id : "?",
           media);

    gchar *desc;
    if (m->record_dir) {
        /* Stream IDs may hold characters a file name should not. */
        gchar *safe = g_strdup(stream_id);
        g_strcanon(safe, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", '_');
        gchar *path = g_strdup_printf("%s/%s-%s.mkv", m->record_dir, safe, GST_PAD_NAME(pad));
        const char *parser = g_str_has_prefix(media, "video/x-h264")   ? "h264parse ! "
                             : g_str_has_prefix(media, "audio/x-opus") ? "opusparse ! "
                                                                       : "";
        desc = g_strdup_printf("queue ! %smatroskamux ! filesink location=\"%s\"", parser, path);
        printf("recording %s\n", path);
        g_free(path);
        g_free(safe);
    } else {
        desc = g_strdup("queue ! fakesink sync=false");
    }
    fflush(stdout);
    GError *error = NULL;
    GstElement *bin = gst_parse_bin_from_description(desc, TRUE, &error);
    g_free(desc);
    if (bin) {
        gst_bin_add(GST_BIN(m->pipeline), bin);
        gst_element_sync_state_with_parent(bin);
        GstPad *sinkpad = gst_element_get_static_pad(bin, "sink");
        gst_pad_link(pad, sinkpad);
        gst_object_unref(sinkpad);
        branch *b = g_new0(branch, 1);
        b->m = m;
        b->bin = bin;
        g_object_set_data(G_OBJECT(pad), "branch", b);
    } else {
        fprintf(stderr, "room-monitor: %s\n", error->message);
        g_clear_error(&error);
    }
    if (caps)
        gst_caps_unref(caps);
    g_free(stream_id);
    g_free(user_id);
}

static void on_pad_removed(GstElement *src, GstPad *pad, gpointer user_data)
{
    (void)src, (void)user_data;
    printf("pad %s removed\n", GST_PAD_NAME(pad));
    fflush(stdout);
    branch *b = g_object_get_data(G_OBJECT(pad), "branch");
    if (b)
        g_idle_add(remove_branch, b);
}

/* One line per zegosrc element message. */
static void print_element_message(monitor *m, const GstStructure *s)
{
    const char *name = gst_structure_get_name(s);
    if (gst_structure_has_name(s, "zego-room-state")) {
        gint code = 0;
        gst_structure_get_int(s, "code", &code);
        printf("room %s: %s (%s) %d\n", gst_structure_get_string(s, "room-id"),
               gst_structure_get_string(s, "state"), gst_structure_get_string(s, "reason"), code);
    } else if (gst_structure_has_name(s, "zego-user-update")) {
        printf("user %s %s\n", gst_structure_get_string(s, "update-type"),
               gst_structure_get_string(s, "user-id"));
    } else if (gst_structure_has_name(s, "zego-stream-update")) {
        const char *type = gst_structure_get_string(s, "update-type");
        printf("stream %s %s by %s (%s)\n", type, gst_structure_get_string(s, "stream-id"),
               gst_structure_get_string(s, "user-id"), gst_structure_get_string(s, "reason"));
        if (strcmp(type, "delete") == 0 && m->exit_after_streams > 0 &&
            ++m->streams_ended >= m->exit_after_streams) {
            /* Let the branches finish their files, then stop. */
            m->stopping = TRUE;
            gst_element_send_event(m->pipeline, gst_event_new_eos());
            g_timeout_add_seconds(5, quit_loop, m->loop);
        }
    } else if (gst_structure_has_name(s, "zego-player-state")) {
        printf("player %s: %s\n", gst_structure_get_string(s, "stream-id"),
               gst_structure_get_string(s, "state"));
    } else if (gst_structure_has_name(s, "zego-player-quality")) {
        gdouble fps = 0, kbps = 0;
        gst_structure_get_double(s, "video-fps", &fps);
        gst_structure_get_double(s, "video-kbps", &kbps);
        printf("quality %s: %s, %.0f fps, %.0f kbit/s video\n",
               gst_structure_get_string(s, "stream-id"), gst_structure_get_string(s, "quality"),
               fps, kbps);
    } else if (g_str_has_prefix(name, "zego-")) {
        gchar *text = gst_structure_to_string(s);
        printf("%s\n", text);
        g_free(text);
    }
    fflush(stdout);
}

static gboolean on_bus(GstBus *bus, GstMessage *msg, gpointer user_data)
{
    (void)bus;
    monitor *m = user_data;
    GError *err = NULL;
    gchar *dbg = NULL;
    switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_ELEMENT:
        if (gst_message_get_structure(msg))
            print_element_message(m, gst_message_get_structure(msg));
        break;
    case GST_MESSAGE_WARNING:
        gst_message_parse_warning(msg, &err, &dbg);
        printf("warning: %s\n", err->message);
        break;
    case GST_MESSAGE_ERROR:
        gst_message_parse_error(msg, &err, &dbg);
        fprintf(stderr, "room-monitor: %s\n%s\n", err->message, dbg ? dbg : "");
        m->status = 1;
        g_main_loop_quit(m->loop);
        break;
    case GST_MESSAGE_EOS:
        /* Every branch ended; more streams may come unless we are stopping. */
        if (m->stopping)
            g_main_loop_quit(m->loop);
        break;
    default:
        break;
    }
    g_clear_error(&err);
    g_free(dbg);
    return TRUE;
}

static void usage(FILE *out)
{
    fprintf(out, "Usage: room-monitor --server URL --app-id N --room-id R [--user-id U]\n"
                 "         [--token T] [--stream-id S] [--record DIR] [--seconds N]\n"
                 "         [--exit-after-streams N]\n"
                 "Prints a room's events and plays its streams (into DIR with --record).\n");
}

int main(int argc, char **argv)
{
    const char *server = NULL, *room = NULL, *user = NULL, *token = NULL, *stream = NULL;
    guint app_id = 0;
    int seconds = 0;
    monitor m = {0};
    static const struct option opts[] = {{"server", required_argument, NULL, 's'},
                                         {"app-id", required_argument, NULL, 'a'},
                                         {"room-id", required_argument, NULL, 'r'},
                                         {"user-id", required_argument, NULL, 'u'},
                                         {"token", required_argument, NULL, 't'},
                                         {"stream-id", required_argument, NULL, 'i'},
                                         {"record", required_argument, NULL, 'o'},
                                         {"seconds", required_argument, NULL, 'n'},
                                         {"exit-after-streams", required_argument, NULL, 'x'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    gst_init(&argc, &argv);
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            server = optarg;
            break;
        case 'a':
            app_id = (guint)strtoul(optarg, NULL, 10);
            break;
        case 'r':
            room = optarg;
            break;
        case 'u':
            user = optarg;
            break;
        case 't':
            token = optarg;
            break;
        case 'i':
            stream = optarg;
            break;
        case 'o':
            m.record_dir = optarg;
            break;
        case 'n':
            seconds = atoi(optarg);
            break;
        case 'x':
            m.exit_after_streams = atoi(optarg);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!server || !room || !app_id) {
        usage(stderr);
        return 2;
    }

    GstElement *src = gst_element_factory_make("zegosrc", "zego");
    if (!src) {
        fprintf(stderr, "room-monitor: the zegosrc element is not installed\n");
        return 1;
    }
    g_object_set(src, "server", server, "app-id", app_id, "room-id", room, NULL);
    if (user)
        g_object_set(src, "user-id", user, NULL);
    if (token)
        g_object_set(src, "token", token, NULL);
    if (stream)
        g_object_set(src, "stream-id", stream, NULL);
    m.loop = g_main_loop_new(NULL, FALSE);
    m.pipeline = gst_pipeline_new("room-monitor");
    gst_bin_add(GST_BIN(m.pipeline), src);
    g_signal_connect(src, "pad-added", G_CALLBACK(on_pad_added), &m);
    g_signal_connect(src, "pad-removed", G_CALLBACK(on_pad_removed), &m);
    GstBus *bus = gst_element_get_bus(m.pipeline);
    gst_bus_add_watch(bus, on_bus, &m);
    gst_object_unref(bus);
    if (seconds > 0)
        g_timeout_add_seconds((guint)seconds, quit_loop, m.loop);

    if (gst_element_set_state(m.pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
        m.status = 1;
    else
        g_main_loop_run(m.loop);

    gst_element_set_state(m.pipeline, GST_STATE_NULL);
    gst_bus_remove_watch(GST_ELEMENT_BUS(m.pipeline));
    gst_object_unref(m.pipeline);
    g_main_loop_unref(m.loop);
    printf("room-monitor: done\n");
    return m.status;
}
