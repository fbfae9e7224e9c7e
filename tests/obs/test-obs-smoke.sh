#!/bin/sh
# Smoke test: the real `obs` program, under Xvfb (run by xvfb-run), with a
# fresh configuration (first-run wizard off) and the plugin placed where OBS
# looks for a user's plugins, starts, loads the module, and logs no errors
# from it.  The profile holds the output's settings (pointing at a room
# server started here) and obs-websocket is on: its StartOutput and
# StopOutput on the output "zego-room" publish and stop, as the room server
# sees.  With a fifth argument, a screenshot of OBS is saved there.
#
#   test-obs-smoke.sh PLUGIN.so DATA_DIR LIBZEGOROOM_DIR SERVER_BIN [SCREENSHOT.png]
set -u
plugin=$1 data=$2 libdir=$3 server_bin=$4 shot=${5:-}
here=$(dirname "$0")

echo "1..4"
work=$(mktemp -d)
obs_pid="" server_pid=""
trap 'kill $obs_pid $server_pid 2>/dev/null; rm -rf "$work"' EXIT

"$server_bin" --listen 127.0.0.1:0 >"$work/server.txt" 2>"$work/server-log.txt" &
server_pid=$!
server_port=""
i=0
while [ -z "$server_port" ] && [ $i -lt 100 ]; do
    server_port=$(sed -n 's|.*listening on ws://127.0.0.1:\([0-9]*\)/ws.*|\1|p' "$work/server.txt")
    sleep 0.1
    i=$((i + 1))
done
# A free port for obs-websocket.
ws_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

export XDG_CONFIG_HOME="$work/config" HOME="$work/home"
mkdir -p "$HOME" "$XDG_CONFIG_HOME/obs-studio/plugins/obs-zego/bin/64bit"
cp "$plugin" "$XDG_CONFIG_HOME/obs-studio/plugins/obs-zego/bin/64bit/obs-zego.so"
cp -r "$data" "$XDG_CONFIG_HOME/obs-studio/plugins/obs-zego/data"
cat > "$XDG_CONFIG_HOME/obs-studio/global.ini" <<INI
[General]
FirstRun=true
LastVersion=$((29 << 24))
EnableAutoUpdates=false

[Basic]
Profile=Untitled
ProfileDir=Untitled
SceneCollection=Untitled
SceneCollectionFile=Untitled

[OBSWebSocket]
FirstLoad=false
ServerEnabled=true
ServerPort=$ws_port
AuthRequired=false
AlertsEnabled=false
INI
mkdir -p "$XDG_CONFIG_HOME/obs-studio/basic/profiles/Untitled"
cat > "$XDG_CONFIG_HOME/obs-studio/basic/profiles/Untitled/basic.ini" <<INI
[General]
Name=Untitled

[ZegoRoom]
Settings={"server": "ws://127.0.0.1:$server_port/ws", "app_id": 1, "room_id": "smoke", "stream_id": "obs-smoke", "x264_preset": "ultrafast"}
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
if python3 "$here/obs-websocket-output.py" "$ws_port" "$server_port" zego-room; then
    ws_ok=1
else
    ws_ok=0
fi
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
if [ "$ws_ok" = 1 ]; then
    echo "ok 4 - obs-websocket's StartOutput and StopOutput on zego-room publish and stop"
else
    echo "not ok 4 - obs-websocket's StartOutput and StopOutput on zego-room publish and stop"
    [ -n "$log" ] && grep -i "zego\|websocket" "$log" | sed 's/^/# /' | tail -20
fi
