/* room-monitor: embeds zegosrc in a program.  It logs into a room, prints the
 * room's events as zegosrc posts them on the bus (one line each), and gives
 * every pad of every played stream a branch of its own: a fakesink, or with
 * --record DIR a Matroska file DIR/STREAM-PAD.mkv.  Pads come and go with the
 * room's publishers; a branch is taken down once its pad has gone and its
 * sink has had the EOS, so that every file is complete.
 *
 *   room-monitor --server URL --app-id N --room-id R [--user-id U] [--token T]
 *       [--stream-id S] [--record DIR] [--seconds N] [--exit-after-streams N]
 *
 * The program stops after --seconds N, once --exit-after-streams N streams
 * have ended, or on Ctrl-C; the files are finished first (for at most 10 s). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib-unix.h>
#include <gst/gst.h>

/* How long the branches may take to finish their files once told to stop. */
#define STOP_TIMEOUT_SECONDS 10

typedef struct monitor {
    GMainLoop *loop;
    GstElement *pipeline;
    const char *record_dir;
    int exit_after_streams;
    int streams_ended;
    int status;
    /* Pads are added and removed on zegosrc's thread, the rest happens on
     * the main loop. */
    GMutex lock;
    GList *branches; /* of branch */
    gboolean stopping;
} monitor;

/* The elements playing one pad.  A branch ends with EOS (zegosrc's when the
 * pad goes, ours when the program stops) and is taken down only when its sink
 * has had it: on EOS matroskamux seeks back to finish the file's header, and a
 * filesink set to NULL in the middle of that fails with "Error while seeking". */
typedef struct branch {
    GstElement *bin;
    GstPad *src_pad;  /* zegosrc's pad */
    GstPad *sink_pad; /* the bin's */
    gchar *path;      /* the file, with --record */
    gboolean ending;  /* an EOS is on its way through */
} branch;

static void branch_free(branch *b)
{
    gst_object_unref(b->bin);
    gst_object_unref(b->src_pad);
    gst_object_unref(b->sink_pad);
    g_free(b->path);
    g_free(b);
}

/* Runs when no data is passing src_pad (now or after the buffer being pushed):
 * detaches the branch from zegosrc, which goes on playing, and sends the EOS
 * through the branch. */
static GstPadProbeReturn send_eos_when_idle(GstPad *src_pad, GstPadProbeInfo *info,
                                            gpointer user_data)
{
    (void)info;
    GstPad *sink_pad = user_data;
    gst_pad_unlink(src_pad, sink_pad);
    /* Refused, harmlessly, when the branch has had zegosrc's EOS already. */
    gst_pad_send_event(sink_pad, gst_event_new_eos());
    return GST_PAD_PROBE_REMOVE;
}

static void end_branch(GstPad *src_pad, GstPad *sink_pad)
{
    gst_pad_add_probe(src_pad, GST_PAD_PROBE_TYPE_IDLE, send_eos_when_idle,
                      gst_object_ref(sink_pad), gst_object_unref);
}

static gboolean stop_timed_out(gpointer data)
{
    monitor *m = data;
    g_mutex_lock(&m->lock);
    guint left = g_list_length(m->branches);
    g_mutex_unlock(&m->lock);
    fprintf(stderr, "room-monitor: %u branches did not finish within %d s\n", left,
            STOP_TIMEOUT_SECONDS);
    m->status = 1;
    g_main_loop_quit(m->loop);
    return G_SOURCE_REMOVE;
}

/* Ends every branch and quits once they are all taken down. */
static void stop(monitor *m)
{
    GPtrArray *to_end = g_ptr_array_new_with_free_func(gst_object_unref);
    g_mutex_lock(&m->lock);
    if (m->stopping) {
        g_mutex_unlock(&m->lock);
        g_ptr_array_free(to_end, TRUE);
        return;
    }
    m->stopping = TRUE;
    for (GList *l = m->branches; l; l = l->next) {
        branch *b = l->data;
        if (!b->ending) {
            b->ending = TRUE;
            g_ptr_array_add(to_end, gst_object_ref(b->src_pad));
            g_ptr_array_add(to_end, gst_object_ref(b->sink_pad));
        }
    }
    gboolean none = m->branches == NULL;
    g_mutex_unlock(&m->lock);

    /* Not with the lock: the probe may run at once, on this thread. */
    for (guint i = 0; i < to_end->len; i += 2)
        end_branch(to_end->pdata[i], to_end->pdata[i + 1]);
    g_ptr_array_free(to_end, TRUE);
    if (none)
        g_main_loop_quit(m->loop);
    else
        g_timeout_add_seconds(STOP_TIMEOUT_SECONDS, stop_timed_out, m);
}

static gboolean stop_after_seconds(gpointer data)
{
    stop(data);
    return G_SOURCE_REMOVE;
}

/* SIGINT, SIGTERM.  Not "a second one quits at once": `timeout -s INT`
 * delivers its signal twice. */
static gboolean on_signal(gpointer data)
{
    stop(data);
    return G_SOURCE_CONTINUE;
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

    gchar *desc, *path = NULL;
    if (m->record_dir) {
        /* Stream IDs may hold characters a file name should not. */
        gchar *safe = g_strdup(stream_id);
        g_strcanon(safe, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", '_');
        path = g_strdup_printf("%s/%s-%s.mkv", m->record_dir, safe, GST_PAD_NAME(pad));
        const char *parser = g_str_has_prefix(media, "video/x-h264")   ? "h264parse ! "
                             : g_str_has_prefix(media, "audio/x-opus") ? "opusparse ! "
                                                                       : "";
        desc = g_strdup_printf("queue ! %smatroskamux ! filesink location=\"%s\"", parser, path);
        printf("recording %s\n", path);
        g_free(safe);
    } else {
        desc = g_strdup("queue ! fakesink sync=false");
    }
    fflush(stdout);
    if (caps)
        gst_caps_unref(caps);
    g_free(stream_id);
    g_free(user_id);

    GError *error = NULL;
    GstElement *bin = gst_parse_bin_from_description(desc, TRUE, &error);
    g_free(desc);
    if (!bin) {
        fprintf(stderr, "room-monitor: %s\n", error->message);
        g_clear_error(&error);
        g_free(path);
        return;
    }
    /* The bin tells of its sink's EOS on the bus (as a GstBinForwarded
     * element message): then the branch is done. */
    g_object_set(bin, "message-forward", TRUE, NULL);
    gst_bin_add(GST_BIN(m->pipeline), bin);
    gst_element_sync_state_with_parent(bin);
    branch *b = g_new0(branch, 1);
    b->bin = gst_object_ref(bin);
    b->src_pad = gst_object_ref(pad);
    b->sink_pad = gst_element_get_static_pad(bin, "sink");
    b->path = path;
    if (gst_pad_link(pad, b->sink_pad) != GST_PAD_LINK_OK)
        fprintf(stderr, "room-monitor: could not link pad %s\n", GST_PAD_NAME(pad));

    g_mutex_lock(&m->lock);
    m->branches = g_list_append(m->branches, b);
    /* A pad that comes while the program stops ends at once. */
    gboolean end_now = m->stopping;
    b->ending = end_now;
    g_mutex_unlock(&m->lock);
    if (end_now)
        end_branch(b->src_pad, b->sink_pad);
}

static void on_pad_removed(GstElement *src, GstPad *pad, gpointer user_data)
{
    (void)src;
    monitor *m = user_data;
    printf("pad %s removed\n", GST_PAD_NAME(pad));
    fflush(stdout);
    GstPad *sink_pad = NULL;
    g_mutex_lock(&m->lock);
    for (GList *l = m->branches; l; l = l->next) {
        branch *b = l->data;
        if (b->src_pad == pad) {
            b->ending = TRUE;
            sink_pad = gst_object_ref(b->sink_pad);
            break;
        }
    }
    g_mutex_unlock(&m->lock);
    /* zegosrc sent EOS before removing the pad (then this one is refused);
     * should it not have, the branch still ends. */
    if (sink_pad) {
        gst_pad_send_event(sink_pad, gst_event_new_eos());
        gst_object_unref(sink_pad);
    }
}

/* A branch's sink has had EOS: its file is complete and the branch goes. */
static void on_branch_eos(monitor *m, GstObject *bin)
{
    branch *b = NULL;
    g_mutex_lock(&m->lock);
    for (GList *l = m->branches; l; l = l->next)
        if (GST_OBJECT(((branch *)l->data)->bin) == bin) {
            b = l->data;
            m->branches = g_list_delete_link(m->branches, l);
            break;
        }
    gboolean last = m->stopping && !m->branches;
    g_mutex_unlock(&m->lock);
    if (!b)
        return;

    /* Still linked when the EOS was zegosrc's and the pad is not removed yet. */
    GstPad *peer = gst_pad_get_peer(b->sink_pad);
    if (peer) {
        gst_pad_unlink(peer, b->sink_pad);
        gst_object_unref(peer);
    }
    gst_element_set_state(b->bin, GST_STATE_NULL);
    gst_bin_remove(GST_BIN(m->pipeline), b->bin);
    printf("pad %s finished%s%s\n", GST_PAD_NAME(b->src_pad), b->path ? ": " : "",
           b->path ? b->path : "");
    fflush(stdout);
    branch_free(b);
    if (last)
        g_main_loop_quit(m->loop);
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
            ++m->streams_ended >= m->exit_after_streams)
            stop(m);
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
    const GstStructure *s = gst_message_get_structure(msg);
    GError *err = NULL;
    gchar *dbg = NULL;
    switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_ELEMENT:
        if (s && gst_structure_has_name(s, "GstBinForwarded")) {
            GstMessage *inner = NULL;
            gst_structure_get(s, "message", GST_TYPE_MESSAGE, &inner, NULL);
            if (inner && GST_MESSAGE_TYPE(inner) == GST_MESSAGE_EOS)
                on_branch_eos(m, GST_MESSAGE_SRC(msg));
            if (inner)
                gst_message_unref(inner);
        } else if (s) {
            print_element_message(m, s);
        }
        break;
    case GST_MESSAGE_WARNING:
        gst_message_parse_warning(msg, &err, &dbg);
        printf("warning: %s\n", err->message);
        fflush(stdout);
        break;
    case GST_MESSAGE_ERROR:
        gst_message_parse_error(msg, &err, &dbg);
        fprintf(stderr, "room-monitor: %s\n%s\n", err->message, dbg ? dbg : "");
        m->status = 1;
        g_main_loop_quit(m->loop);
        break;
    default:
        /* The pipeline's own EOS means only that every branch has ended for
         * now: more streams may come. */
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
                 "Prints a room's events and plays its streams (into DIR with --record)\n"
                 "until N seconds have passed, N streams have ended, or Ctrl-C.\n");
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
    g_mutex_init(&m.lock);
    m.loop = g_main_loop_new(NULL, FALSE);
    m.pipeline = gst_pipeline_new("room-monitor");
    gst_bin_add(GST_BIN(m.pipeline), src);
    g_signal_connect(src, "pad-added", G_CALLBACK(on_pad_added), &m);
    g_signal_connect(src, "pad-removed", G_CALLBACK(on_pad_removed), &m);
    GstBus *bus = gst_element_get_bus(m.pipeline);
    gst_bus_add_watch(bus, on_bus, &m);
    gst_object_unref(bus);
    guint sigint = g_unix_signal_add(SIGINT, on_signal, &m);
    guint sigterm = g_unix_signal_add(SIGTERM, on_signal, &m);
    if (seconds > 0)
        g_timeout_add_seconds((guint)seconds, stop_after_seconds, &m);

    if (gst_element_set_state(m.pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
        m.status = 1;
    else
        g_main_loop_run(m.loop);

    g_source_remove(sigint);
    g_source_remove(sigterm);
    gst_element_set_state(m.pipeline, GST_STATE_NULL);
    gst_bus_remove_watch(GST_ELEMENT_BUS(m.pipeline));
    gst_object_unref(m.pipeline);
    g_list_free_full(m.branches, (GDestroyNotify)branch_free);
    g_main_loop_unref(m.loop);
    g_mutex_clear(&m.lock);
    printf("room-monitor: done\n");
    return m.status;
}
