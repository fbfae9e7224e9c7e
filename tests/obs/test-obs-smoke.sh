#!/bin/sh
# Smoke test: the real `obs` program, under Xvfb (run by xvfb-run), with a
# fresh configuration (first-run wizard off) and the plugin placed where OBS
# looks for a user's plugins, starts, loads the module, and logs no errors
# from it.  With a fourth argument, a screenshot of OBS is saved there.
#
#   test-obs-smoke.sh PLUGIN.so DATA_DIR LIBZEGOROOM_DIR [SCREENSHOT.png]
set -u
plugin=$1 data=$2 libdir=$3 shot=${4:-}

echo "1..3"
work=$(mktemp -d)
trap 'kill $obs_pid 2>/dev/null; rm -rf "$work"' EXIT
export XDG_CONFIG_HOME="$work/config" HOME="$work/home"
mkdir -p "$HOME" "$XDG_CONFIG_HOME/obs-studio/plugins/obs-zego/bin/64bit"
cp "$plugin" "$XDG_CONFIG_HOME/obs-studio/plugins/obs-zego/bin/64bit/obs-zego.so"
cp -r "$data" "$XDG_CONFIG_HOME/obs-studio/plugins/obs-zego/data"
cat > "$XDG_CONFIG_HOME/obs-studio/global.ini" <<INI
[General]
FirstRun=true
LastVersion=$((29 << 24))
EnableAutoUpdates=false
INI
# libzegoroom from the build tree (an installed plugin finds the installed one).
export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LIBGL_ALWAYS_SOFTWARE=1

# A sanitized plugin needs the sanitizer runtime preloaded into obs.
if [ -n "${ZEGO_OBS_PRELOAD:-}" ]; then
    LD_PRELOAD=$ZEGO_OBS_PRELOAD ASAN_OPTIONS=detect_leaks=0 \
        obs --multi --disable-shutdown-check >"$work/stdout.txt" 2>&1 &
else
    obs --multi --disable-shutdown-check >"$work/stdout.txt" 2>&1 &
fi
obs_pid=$!

# Wait (at most 90 s) for the log to say startup is complete.
log=""
i=0
while [ $i -lt 180 ]; do
    log=$(ls "$XDG_CONFIG_HOME"/obs-studio/logs/*.txt 2>/dev/null | head -1)
    if [ -n "$log" ] && grep -q "Startup complete\|All scene data cleared" "$log"; then
        break
    fi
    kill -0 $obs_pid 2>/dev/null || break
    sleep 0.5
    i=$((i + 1))
done
sleep 2
if [ -n "$shot" ]; then
    gst-launch-1.0 -q ximagesrc num-buffers=1 use-damage=false ! videoconvert ! pngenc \
        ! filesink location="$shot" >/dev/null 2>&1 || echo "# no screenshot"
fi
kill $obs_pid 2>/dev/null
i=0
while kill -0 $obs_pid 2>/dev/null && [ $i -lt 40 ]; do sleep 0.25; i=$((i + 1)); done
kill -9 $obs_pid 2>/dev/null

if [ -n "$log" ] && grep -q "Startup complete" "$log"; then
    echo "ok 1 - obs starts under Xvfb with a fresh configuration"
else
    echo "not ok 1 - obs starts under Xvfb with a fresh configuration"
    sed 's/^/# /' "$work/stdout.txt" | tail -20
fi
if [ -n "$log" ] && grep -q "\[obs-zego\] loaded" "$log"; then
    echo "ok 2 - obs loads the obs-zego module from the user's plugin directory"
else
    echo "not ok 2 - obs loads the obs-zego module from the user's plugin directory"
    [ -n "$log" ] && grep -i "zego\|module" "$log" | sed 's/^/# /' | head -20
fi
errors=$( [ -n "$log" ] && grep -i "obs-zego" "$log" | grep -i "error\|fail\|not loaded\|warning" )
if [ -n "$log" ] && [ -z "$errors" ]; then
    echo "ok 3 - the module logs no errors"
else
    echo "not ok 3 - the module logs no errors"
    printf '%s\n' "$errors" | sed 's/^/# /'
fi
