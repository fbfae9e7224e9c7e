#!/bin/sh
# The GStreamer examples against a real server: publish-test-pattern.sh,
# play-room-to-file.sh and room-monitor.  Speaks TAP.
#
#   test-examples.sh SERVER_BIN EXAMPLES_DIR ROOM_MONITOR
#
# GST_PLUGIN_PATH points at the plugin being tested; ZEGO_GST_PRELOAD, when
# set, is preloaded into gst-launch-1.0 (the sanitizer runtime of a
# sanitized plugin).
set -u
server_bin=$1 examples=$2 monitor=$3
work=$(mktemp -d)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

launch_env() {
    if [ -n "${ZEGO_GST_PRELOAD:-}" ]; then
        LD_PRELOAD=$ZEGO_GST_PRELOAD ASAN_OPTIONS=detect_leaks=0 "$@"
    else
        "$@"
    fi
}

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
show() { sed 's/^/#   /' "$1" | tail -n 25; }

"$server_bin" --listen 127.0.0.1:0 >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 100); do
    grep -q 'ws://' "$work/server.out" 2>/dev/null && break
    sleep 0.1
done
url=$(grep -o 'ws://[^ ]*' "$work/server.out" | head -n 1)
if [ -z "$url" ]; then
    echo "1..0 # SKIP the server did not start"
    exit 0
fi

# 1. A test pattern and a tone, played into a file until the publisher stops.
launch_env sh "$examples/play-room-to-file.sh" "$url" 1 ex-room cam "$work/cam.mkv" \
    >"$work/play.log" 2>&1 &
player=$!
sleep 1
launch_env sh "$examples/publish-test-pattern.sh" "$url" 1 ex-room cam 4 >"$work/pub.log" 2>&1
pub_status=$?
for _ in $(seq 150); do
    kill -0 "$player" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$player" 2>/dev/null; then
    kill -INT "$player"
    sleep 2
fi
wait "$player"
play_status=$?
size=$(stat -c %s "$work/cam.mkv" 2>/dev/null || echo 0)
if [ "$pub_status" -eq 0 ]; then ok "publish-test-pattern.sh publishes and ends cleanly"
else not_ok "publish-test-pattern.sh publishes and ends cleanly (status $pub_status)"; show "$work/pub.log"; fi
if [ "$play_status" -eq 0 ] && [ "$size" -gt 10000 ]; then
    ok "play-room-to-file.sh writes the stream and ends with its publisher"
else
    not_ok "play-room-to-file.sh writes the stream and ends with its publisher (status $play_status, $size bytes)"
    show "$work/play.log"
fi
if [ "$size" -gt 0 ]; then
    launch_env timeout 30 gst-launch-1.0 -v filesrc location="$work/cam.mkv" ! matroskademux name=d \
        d.video_0 ! queue ! fakesink sync=false d.audio_0 ! queue ! fakesink sync=false \
        >"$work/demux.log" 2>&1
    if grep -q 'video/x-h264' "$work/demux.log" && grep -q 'audio/x-opus' "$work/demux.log"; then
        ok "the file holds the H.264 video and the Opus audio"
    else
        not_ok "the file holds the H.264 video and the Opus audio"; show "$work/demux.log"
    fi
else
    not_ok "the file holds the H.264 video and the Opus audio (no file)"
fi

# 2. room-monitor sees the stream come and go and records its pads.
mkdir -p "$work/rec"
timeout 40 "$monitor" --server "$url" --app-id 1 --room-id mon-room --user-id watcher --record "$work/rec" \
    --exit-after-streams 1 --seconds 30 >"$work/mon.log" 2>&1 &
mon=$!
sleep 1
launch_env sh "$examples/publish-test-pattern.sh" "$url" 1 mon-room cam 3 >"$work/pub2.log" 2>&1
wait "$mon"
mon_status=$?
if [ "$mon_status" -eq 0 ] &&
    grep -q '^room mon-room: CONNECTED' "$work/mon.log" &&
    grep -q '^stream add cam' "$work/mon.log" &&
    grep -q '^pad video_0: stream cam' "$work/mon.log" &&
    grep -q '^pad audio_0: stream cam' "$work/mon.log" &&
    grep -q '^player cam: PLAYING' "$work/mon.log" &&
    grep -q '^stream delete cam' "$work/mon.log" &&
    grep -q '^pad video_0 removed' "$work/mon.log"; then
    ok "room-monitor reports the room's events and the stream's pads"
else
    not_ok "room-monitor reports the room's events and the stream's pads (status $mon_status)"
    show "$work/mon.log"
fi
vsize=$(stat -c %s "$work/rec/cam-video_0.mkv" 2>/dev/null || echo 0)
asize=$(stat -c %s "$work/rec/cam-audio_0.mkv" 2>/dev/null || echo 0)
if [ "$vsize" -gt 10000 ] && [ "$asize" -gt 1000 ]; then
    ok "room-monitor --record writes a file per pad"
else
    not_ok "room-monitor --record writes a file per pad ($vsize and $asize bytes)"
    ls -l "$work/rec" | sed 's/^/#   /'
fi

echo "1..$n"
[ "$failed" -eq 0 ]
