/* A headless libobs for tests: started under Xvfb (xvfb-run) with the
 * OpenGL renderer, audio and video reset to small test values, a UI task
 * queue that the test's main thread runs, and only the modules a test
 * names, opened one by one (obs_load_all_modules aborts without Qt). */
#ifndef ZT_OBS_HARNESS_H
#define ZT_OBS_HARNESS_H

#include <stdbool.h>

#include <obs.h>

#define ZT_OBS_WIDTH  320
#define ZT_OBS_HEIGHT 240
#define ZT_OBS_FPS    30

/* Starts libobs (X display, video, audio, UI task handler).  Returns false
 * with a TAP comment on failure. */
bool zt_obs_start(void);

/* Opens and initializes a module: "obs-x264" etc. from libobs's module
 * directory, or "obs-zego" from the build tree ($ZEGO_OBS_PLUGIN). */
bool zt_obs_load_module(const char *name);

/* Runs queued UI tasks for up to ms milliseconds (at least once). */
void zt_obs_pump(int ms);

/* Runs UI tasks until cond(arg) is true or ms pass; returns cond's value. */
bool zt_obs_wait(bool (*cond)(void *arg), void *arg, int ms);

/* The log lines of INFO and above (and DEBUG with $ZT_OBS_DEBUG) are kept,
 * the newest 256, until cleared: a test can check what a module logged. */
void zt_obs_log_clear(void);
bool zt_obs_log_contains(const char *needle);

/* Shuts libobs down; returns the number of blocks libobs still has
 * allocated (0 when nothing leaked). */
long zt_obs_stop(void);

#endif
