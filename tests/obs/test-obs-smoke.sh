#!/bin/sh
# Smoke test: the real `obs` program, under Xvfb (run by xvfb-run), with a
# fresh configuration (first-run wizard off) and the plugin placed where OBS
# looks for a user's plugins, starts, loads the module, and logs no errors
# from it.  The profile holds the output's settings (pointing at a room
# server started here) and key bindings for its two hotkeys, and
# obs-websocket is on: its StartOutput and StopOutput on the output
# "zego-room" publish and stop, as the room server sees; the hotkeys are
# listed, their keys pressed on the X display publish and stop, and
# TriggerHotkeyByName zego_room.start publishes; a new profile starts from
# the output's defaults and switching back restores the settings.  OBS then
# quits as on Ctrl+C (SIGINT), and the profile keeps the settings and both
# bindings, in the section where OBS's settings dialog writes them (the stop
# key was given in the format of earlier versions).  With a fifth argument,
# a screenshot of OBS is saved there.
#
#   test-obs-smoke.sh PLUGIN.so DATA_DIR LIBZEGOROOM_DIR SERVER_BIN [SCREENSHOT.png]
set -u
plugin=$1 data=$2 libdir=$3 server_bin=$4 shot=${5:-}
here=$(dirname "$0")

echo "1..10"
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
Hotkeys={"start": [], "stop": [{"key": "OBS_KEY_F10"}]}

[Hotkeys]
zego_room.start={"bindings": [{"key": "OBS_KEY_F9"}]}
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
ws_ok=0 list_ok=0 keys_ok=0 trigger_ok=0 profiles_ok=0
python3 "$here/obs-websocket-output.py" "$ws_port" "$server_port" zego-room && ws_ok=1
python3 "$here/obs-frontend.py" list "$ws_port" && list_ok=1
python3 "$here/obs-frontend.py" keys "$ws_port" "$server_port" F9 F10 && keys_ok=1
python3 "$here/obs-frontend.py" trigger "$ws_port" "$server_port" && trigger_ok=1
python3 "$here/obs-frontend.py" profiles "$ws_port" smoke && profiles_ok=1
if [ -n "$shot" ]; then
    gst-launch-1.0 -q ximagesrc num-buffers=1 use-damage=false ! videoconvert ! pngenc \
        ! filesink location="$shot" >/dev/null 2>&1 || echo "# no screenshot"
fi
# Ctrl+C: OBS closes its window and shuts down (at most 30 s).
kill -INT $obs_pid 2>/dev/null
i=0
while kill -0 $obs_pid 2>/dev/null && [ $i -lt 120 ]; do sleep 0.25; i=$((i + 1)); done
if kill -0 $obs_pid 2>/dev/null; then
    quit_ok=0
    kill -9 $obs_pid 2>/dev/null
else
    quit_ok=1
fi
wait $obs_pid 2>/dev/null
profile="$XDG_CONFIG_HOME/obs-studio/basic/profiles/Untitled/basic.ini"

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
if [ "$list_ok" = 1 ]; then
    echo "ok 5 - obs-websocket lists the hotkeys zego_room.start and zego_room.stop"
else
    echo "not ok 5 - obs-websocket lists the hotkeys zego_room.start and zego_room.stop"
fi
if [ "$keys_ok" = 1 ]; then
    echo "ok 6 - the keys bound in the profile publish and stop"
else
    echo "not ok 6 - the keys bound in the profile publish and stop"
    [ -n "$log" ] && grep -i "zego\|hotkey" "$log" | sed 's/^/# /' | tail -20
fi
if [ "$trigger_ok" = 1 ]; then
    echo "ok 7 - obs-websocket's TriggerHotkeyByName zego_room.start publishes"
else
    echo "not ok 7 - obs-websocket's TriggerHotkeyByName zego_room.start publishes"
fi
if [ "$quit_ok" = 1 ] && [ -n "$log" ] && grep -q "\[obs-zego\] Tools menu: 4 entries" "$log"; then
    echo "ok 8 - the Tools menu entries are added and obs quits on SIGINT"
else
    echo "not ok 8 - the Tools menu entries are added and obs quits on SIGINT"
    tail -5 "$work/stdout.txt" | sed 's/^/# /'
fi
if grep -q '^Settings=.*obs-smoke' "$profile" &&
    grep -q '^zego_room.start=.*OBS_KEY_F9' "$profile" &&
    grep -q '^zego_room.stop=.*OBS_KEY_F10' "$profile"; then
    echo "ok 9 - the profile keeps the settings and the hotkeys' bindings"
else
    echo "not ok 9 - the profile keeps the settings and the hotkeys' bindings"
    sed 's/^/# /' "$profile"
fi
# Left for Untitled, the new profile was saved with what it had.
second="$XDG_CONFIG_HOME/obs-studio/basic/profiles/Second/basic.ini"
if [ "$profiles_ok" = 1 ] && grep -q '^zego_room.start=' "$second" &&
    ! grep -q 'obs-smoke\|OBS_KEY_F' "$second"; then
    echo "ok 10 - a new profile starts from the defaults and no key bindings, and switching back restores them"
else
    echo "not ok 10 - a new profile starts from the defaults and no key bindings, and switching back restores them"
    [ -f "$second" ] && grep -A3 "ZegoRoom\|Hotkeys" "$second" | sed 's/^/# /'
fi
