/* See obs-harness.h. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <X11/Xlib.h>
#include <obs-module.h>
#include <obs-nix-platform.h>
#include <util/base.h>
#include <util/bmem.h>
#include <stdarg.h>

#include "obs-harness.h"

#define MAX_TASKS 256

struct ui_task {
    obs_task_t task;
    void *param;
    bool *done; /* set when run, for a waiting caller */
};

static pthread_mutex_t task_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t task_cond = PTHREAD_COND_INITIALIZER;
static struct ui_task tasks[MAX_TASKS];
static size_t n_tasks;
static pthread_t main_thread;
static Display *display;

/* The log lines since the last zt_obs_log_clear (the newest kept when full). */
#define LOG_KEEP 256
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char *log_lines[LOG_KEEP];
static size_t next_log_line;

static void deadline_in(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

static void run_tasks(void);

static void ui_task_handler(obs_task_t task, void *param, bool wait)
{
    /* A waiting caller on the UI thread itself runs the task now; others
     * are queued in order, as Qt's queued connection does. */
    if (wait && pthread_equal(pthread_self(), main_thread)) {
        run_tasks();
        task(param);
        return;
    }
    bool done = false;
    pthread_mutex_lock(&task_lock);
    if (n_tasks == MAX_TASKS) {
        pthread_mutex_unlock(&task_lock);
        printf("# UI task queue full: task dropped\n");
        return;
    }
    tasks[n_tasks++] = (struct ui_task){task, param, wait ? &done : NULL};
    pthread_cond_broadcast(&task_cond);
    if (wait) {
        struct timespec deadline;
        deadline_in(&deadline, 10000);
        while (!done && pthread_cond_timedwait(&task_cond, &task_lock, &deadline) == 0)
            ;
        if (!done)
            printf("# UI task not run within 10 s\n");
    }
    pthread_mutex_unlock(&task_lock);
}

static void run_tasks(void)
{
    pthread_mutex_lock(&task_lock);
    while (n_tasks > 0) {
        struct ui_task t = tasks[0];
        memmove(tasks, tasks + 1, (n_tasks - 1) * sizeof tasks[0]);
        n_tasks--;
        pthread_mutex_unlock(&task_lock);
        t.task(t.param);
        pthread_mutex_lock(&task_lock);
        if (t.done) {
            *t.done = true;
            pthread_cond_broadcast(&task_cond);
        }
    }
    pthread_mutex_unlock(&task_lock);
}

void zt_obs_pump(int ms)
{
    struct timespec deadline;
    deadline_in(&deadline, ms);
    for (;;) {
        run_tasks();
        pthread_mutex_lock(&task_lock);
        int rc = n_tasks ? 0 : pthread_cond_timedwait(&task_cond, &task_lock, &deadline);
        pthread_mutex_unlock(&task_lock);
        if (rc != 0)
            break;
    }
    run_tasks();
}

bool zt_obs_wait(bool (*cond)(void *arg), void *arg, int ms)
{
    struct timespec now, end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += ms / 1000;
    end.tv_nsec += (long)(ms % 1000) * 1000000;
    if (end.tv_nsec >= 1000000000) {
        end.tv_sec++;
        end.tv_nsec -= 1000000000;
    }
    for (;;) {
        run_tasks();
        if (cond(arg))
            return true;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
            return cond(arg);
        zt_obs_pump(20);
    }
}

/* libobs's log goes to stderr: stdout is the TAP stream. */
static void log_handler(int level, const char *format, va_list args, void *param)
    __attribute__((format(printf, 2, 0)));
static void log_handler(int level, const char *format, va_list args, void *param)
{
    (void)param;
    if (level > LOG_INFO && !getenv("ZT_OBS_DEBUG"))
        return;
    char line[4096];
    vsnprintf(line, sizeof line, format, args);
    pthread_mutex_lock(&log_lock);
    free(log_lines[next_log_line]);
    log_lines[next_log_line] = strdup(line);
    next_log_line = (next_log_line + 1) % LOG_KEEP;
    pthread_mutex_unlock(&log_lock);
    fprintf(stderr, "%s: %s\n",
            level == LOG_ERROR     ? "error"
            : level == LOG_WARNING ? "warning"
            : level == LOG_INFO    ? "info"
                                   : "debug",
            line);
}

void zt_obs_log_clear(void)
{
    pthread_mutex_lock(&log_lock);
    for (size_t i = 0; i < LOG_KEEP; i++) {
        free(log_lines[i]);
        log_lines[i] = NULL;
    }
    next_log_line = 0;
    pthread_mutex_unlock(&log_lock);
}

bool zt_obs_log_contains(const char *needle)
{
    bool found = false;
    pthread_mutex_lock(&log_lock);
    for (size_t i = 0; i < LOG_KEEP && !found; i++)
        found = log_lines[i] && strstr(log_lines[i], needle);
    pthread_mutex_unlock(&log_lock);
    return found;
}

bool zt_obs_start(void)
{
    main_thread = pthread_self();
    base_set_log_handler(log_handler, NULL);
    display = XOpenDisplay(NULL);
    if (!display) {
        printf("# no X display: run under xvfb-run -a\n");
        return false;
    }
    obs_set_nix_platform(OBS_NIX_PLATFORM_X11_EGL);
    obs_set_nix_platform_display(display);
    if (!obs_startup("en-US", NULL, NULL)) {
        printf("# obs_startup failed\n");
        return false;
    }
    obs_set_ui_task_handler(ui_task_handler);
    struct obs_video_info ovi = {
        .graphics_module = "libobs-opengl",
        .fps_num = ZT_OBS_FPS,
        .fps_den = 1,
        .base_width = ZT_OBS_WIDTH,
        .base_height = ZT_OBS_HEIGHT,
        .output_width = ZT_OBS_WIDTH,
        .output_height = ZT_OBS_HEIGHT,
        .output_format = VIDEO_FORMAT_NV12,
        .adapter = 0,
        .gpu_conversion = true,
        .colorspace = VIDEO_CS_709,
        .range = VIDEO_RANGE_PARTIAL,
        .scale_type = OBS_SCALE_BICUBIC,
    };
    int rc = obs_reset_video(&ovi);
    if (rc != OBS_VIDEO_SUCCESS) {
        printf("# obs_reset_video failed: %d\n", rc);
        return false;
    }
    struct obs_audio_info oai = {.samples_per_sec = 48000, .speakers = SPEAKERS_STEREO};
    if (!obs_reset_audio(&oai)) {
        printf("# obs_reset_audio failed\n");
        return false;
    }
    return true;
}

bool zt_obs_load_module(const char *name)
{
    char bin[1024], data[1024];
    obs_module_t *module = NULL;
    if (strcmp(name, "obs-zego") == 0) {
        snprintf(bin, sizeof bin, "%s", getenv("ZEGO_OBS_PLUGIN"));
        snprintf(data, sizeof data, "%s", getenv("ZEGO_OBS_PLUGIN_DATA"));
    } else {
        snprintf(bin, sizeof bin, "%s/%s.so", getenv("OBS_PLUGIN_DIR"), name);
        snprintf(data, sizeof data, "%s/%s", getenv("OBS_PLUGIN_DATA_DIR"), name);
    }
    int rc = obs_open_module(&module, bin, data);
    if (rc != MODULE_SUCCESS) {
        printf("# obs_open_module %s (%s): %d\n", name, bin, rc);
        return false;
    }
    if (!obs_init_module(module)) {
        printf("# obs_init_module %s failed\n", name);
        return false;
    }
    return true;
}

long zt_obs_stop(void)
{
    run_tasks();
    obs_shutdown();
    long leaks = bnum_allocs();
    if (display) {
        XCloseDisplay(display);
        display = NULL;
    }
    zt_obs_log_clear();
    return leaks;
}
