#!/bin/sh
# The GStreamer examples against a real server, run as a user would:
# publish-test-pattern.sh, play-room-to-file.sh, play-room.sh (into a file,
# and to the screen under xvfb-run when it is installed), two-party-call.sh
# and room-monitor.  Speaks TAP.
#
#   test-examples.sh SERVER_BIN EXAMPLES_DIR ROOM_MONITOR
#
# GST_PLUGIN_PATH points at the plugin being tested; ZEGO_GST_PRELOAD, when
# set, is preloaded into gst-launch-1.0 (the sanitizer runtime of a
# sanitized plugin).  The machine may be slow and busy: every wait is
# generous and ends as soon as what it waits for has happened.
set -u
server_bin=$1 examples=$2 monitor=$3
work=$(mktemp -d)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
# The examples choose the screen when there is a display.
unset DISPLAY WAYLAND_DISPLAY
export GST_DEBUG_NO_COLOR=1

launch_env() {
    if [ -n "${ZEGO_GST_PRELOAD:-}" ]; then
        LD_PRELOAD=$ZEGO_GST_PRELOAD ASAN_OPTIONS=detect_leaks=0 "$@"
    else
        "$@"
    fi
}
# The same in the background, as $! itself: a signal sent to $! reaches it
# (the examples exec gst-launch-1.0).
launch_bg() {
    if [ -n "${ZEGO_GST_PRELOAD:-}" ]; then
        exec env LD_PRELOAD="$ZEGO_GST_PRELOAD" ASAN_OPTIONS=detect_leaks=0 "$@" &
    else
        exec "$@" &
    fi
}

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
show() { sed 's/^/#   /' "$1" | tail -n 25; }
# ok when the command just run succeeded, else not ok and the end of LOG.
verdict() { # DESCRIPTION LOG
    if [ $? -eq 0 ]; then ok "$1"; else not_ok "$1" && show "$2"; fi
}

# Waits until FILE has a line matching PATTERN, for at most SECONDS.
wait_for() { # FILE PATTERN SECONDS
    i=0
    until grep -q "$2" "$1" 2>/dev/null; do
        [ $i -lt $(($3 * 10)) ] || return 1
        sleep 0.1
        i=$((i + 1))
    done
}
# The players log their room's state (GST_DEBUG=zego:4): in before publishing.
wait_login() { # LOG ROOM
    wait_for "$1" "room $2: CONNECTED" 30 || echo "# not in room $2 after 30 s"
}
# Waits for PID to end; after SECONDS interrupts it (gst-launch-1.0 -e then
# finishes its files).  Sets status to its exit status.
finish() { # PID SECONDS
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt $(($2 * 10)) ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if kill -0 "$1" 2>/dev/null; then
        echo "# still running after $2 s: interrupting it"
        kill -INT "$1"
    fi
    wait "$1"
    status=$?
}
count() { # FILE PATTERN: how many lines match
    c=$(grep -c "$2" "$1" 2>/dev/null)
    echo "${c:-0}"
}
size() { stat -c %s "$1" 2>/dev/null || echo 0; }
# Demuxes a Matroska file into a fakesink per track ("video", "audio") that
# prints every buffer, into LOG.
demux() { # FILE LOG TRACK...
    file=$1 log=$2
    shift 2
    branches=
    for track in "$@"; do
        branches="$branches d.${track}_0 ! queue ! fakesink name=$track silent=false sync=false"
    done
    # shellcheck disable=SC2086
    launch_env timeout 60 gst-launch-1.0 -v filesrc location="$file" ! matroskademux name=d \
        $branches >"$log" 2>&1
}
buffers() { # DEMUX_LOG TRACK: how many buffers the track has
    count "$1" "GstFakeSink:$2: last-message = chain"
}
has_h264_opus() { # DEMUX_LOG
    grep -q 'video/x-h264' "$1" && grep -q 'audio/x-opus' "$1"
}

"$server_bin" --listen 127.0.0.1:0 >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
wait_for "$work/server.out" 'ws://' 20
url=$(grep -o 'ws://[^ ]*' "$work/server.out" | head -n 1)
if [ -z "$url" ]; then
    echo "1..0 # SKIP the server did not start"
    exit 0
fi

# --- publish-test-pattern.sh and play-room-to-file.sh -------------------------
launch_bg env GST_DEBUG=zego:4 sh "$examples/play-room-to-file.sh" "$url" 1 ex-room cam \
    "$work/cam.mkv" >"$work/play.log" 2>&1
player=$!
wait_login "$work/play.log" ex-room
launch_env sh "$examples/publish-test-pattern.sh" "$url" 1 ex-room cam 4 >"$work/pub.log" 2>&1
verdict "publish-test-pattern.sh publishes and ends cleanly" "$work/pub.log"
finish "$player" 30
[ "$status" -eq 0 ] && [ "$(size "$work/cam.mkv")" -gt 10000 ]
verdict "play-room-to-file.sh writes the stream and ends with its publisher" "$work/play.log"
demux "$work/cam.mkv" "$work/cam.demux" video audio
has_h264_opus "$work/cam.demux"
verdict "the file holds the H.264 video and the Opus audio" "$work/cam.demux"

# --- play-room.sh -------------------------------------------------------------
# Without a display it records into a file.
launch_bg env GST_DEBUG=zego:4 sh "$examples/play-room.sh" "$url" 1 pr-room cam \
    "$work/pr.mkv" >"$work/pr.log" 2>&1
player=$!
wait_login "$work/pr.log" pr-room
launch_env sh "$examples/publish-test-pattern.sh" "$url" 1 pr-room cam 3 >"$work/pub-pr.log" 2>&1
finish "$player" 30
demux "$work/pr.mkv" "$work/pr.demux" video audio
[ "$status" -eq 0 ] && has_h264_opus "$work/pr.demux"
verdict "play-room.sh without a display records the stream into a file" "$work/pr.log"

# With one it shows the video in a window and plays the sound: ximagesink
# under Xvfb, which logs every frame it shows.
if command -v xvfb-run >/dev/null 2>&1; then
    xvfb-run -a env GST_DEBUG=zego:4,ximagesink:6 VIDEO_SINK=ximagesink \
        ${ZEGO_GST_PRELOAD:+LD_PRELOAD=$ZEGO_GST_PRELOAD ASAN_OPTIONS=detect_leaks=0} \
        sh "$examples/play-room.sh" "$url" 1 screen-room cam "$work/not-written.mkv" \
        >"$work/screen.log" 2>&1 &
    player=$!
    wait_login "$work/screen.log" screen-room
    launch_env sh "$examples/publish-test-pattern.sh" "$url" 1 screen-room cam 3 \
        >"$work/pub-screen.log" 2>&1
    finish "$player" 30
    shown=$(count "$work/screen.log" gst_x_image_sink_show_frame)
    [ "$status" -eq 0 ] && [ "$shown" -ge 15 ] && [ ! -e "$work/not-written.mkv" ]
    verdict "play-room.sh with a display shows the stream ($shown frames) and ends with it" \
        "$work/screen.log"
else
    ok "play-room.sh with a display shows the stream # SKIP xvfb-run is not installed"
fi

# --- two-party-call.sh --------------------------------------------------------
# alice sends 320x240 and bob 352x288: each must receive the other's.
mkdir "$work/call"
launch_env timeout 120 sh "$examples/two-party-call.sh" "$url" 1 call-room 8 "$work/call" \
    >"$work/call.log" 2>&1
verdict "two-party-call.sh: both sides end cleanly when the call is over" "$work/call.log"
for side in alice:bob:352 bob:alice:320; do
    me=${side%%:*} peer=${side#*:} width=${side##*:}
    peer=${peer%:*}
    demux "$work/call/$me-received.mkv" "$work/$me.demux" video audio
    video=$(buffers "$work/$me.demux" video) audio=$(buffers "$work/$me.demux" audio)
    has_h264_opus "$work/$me.demux" && grep -q "width=(int)$width" "$work/$me.demux" &&
        [ "$video" -ge 15 ] && [ "$audio" -ge 25 ]
    verdict "two-party-call.sh: $me receives $peer's video ($video frames) and audio ($audio packets)" \
        "$work/$me.demux"
done

# --- room-monitor -------------------------------------------------------------
# It sees the stream come and go, records its pads, and ends after the
# stream: every branch finishes its file first.
mkdir "$work/rec"
timeout 60 "$monitor" --server "$url" --app-id 1 --room-id mon-room --user-id watcher \
    --record "$work/rec" --exit-after-streams 1 --seconds 50 >"$work/mon.log" 2>&1 &
mon=$!
wait_for "$work/mon.log" '^room mon-room: CONNECTED' 30
launch_env sh "$examples/publish-test-pattern.sh" "$url" 1 mon-room cam 3 >"$work/pub2.log" 2>&1
wait "$mon"
mon_status=$?
[ "$mon_status" -eq 0 ] &&
    grep -q '^room mon-room: CONNECTED' "$work/mon.log" &&
    grep -q '^stream add cam' "$work/mon.log" &&
    grep -q '^pad video_0: stream cam' "$work/mon.log" &&
    grep -q '^pad audio_0: stream cam' "$work/mon.log" &&
    grep -q '^player cam: PLAYING' "$work/mon.log" &&
    grep -q '^stream delete cam' "$work/mon.log" &&
    grep -q '^pad video_0 removed' "$work/mon.log" &&
    grep -q '^pad video_0 finished' "$work/mon.log" &&
    grep -q '^pad audio_0 finished' "$work/mon.log"
verdict "room-monitor reports the room's events and the stream's pads (status $mon_status)" \
    "$work/mon.log"
demux "$work/rec/cam-video_0.mkv" "$work/rec-video.demux" video
demux "$work/rec/cam-audio_0.mkv" "$work/rec-audio.demux" audio
video=$(buffers "$work/rec-video.demux" video) audio=$(buffers "$work/rec-audio.demux" audio)
[ "$video" -ge 15 ] && [ "$audio" -ge 25 ]
verdict "room-monitor --record writes a whole file per pad ($video frames, $audio packets)" \
    "$work/mon.log"

# Ctrl-C while the stream plays: every branch gets EOS, the files are whole.
mkdir "$work/rec-int"
timeout 60 "$monitor" --server "$url" --app-id 1 --room-id int-room --user-id watcher \
    --record "$work/rec-int" >"$work/mon-int.log" 2>&1 &
mon=$!
wait_for "$work/mon-int.log" '^room int-room: CONNECTED' 30
launch_bg sh "$examples/publish-test-pattern.sh" "$url" 1 int-room cam 30 >"$work/pub3.log" 2>&1
publisher=$!
wait_for "$work/mon-int.log" '^pad audio_0:' 30
sleep 2
kill -INT "$mon"
wait "$mon"
mon_status=$?
demux "$work/rec-int/cam-video_0.mkv" "$work/int-video.demux" video
demux "$work/rec-int/cam-audio_0.mkv" "$work/int-audio.demux" audio
video=$(buffers "$work/int-video.demux" video) audio=$(buffers "$work/int-audio.demux" audio)
[ "$mon_status" -eq 0 ] &&
    grep -q '^pad video_0 finished' "$work/mon-int.log" &&
    grep -q '^pad audio_0 finished' "$work/mon-int.log" &&
    [ "$video" -ge 15 ] && [ "$audio" -ge 25 ]
verdict "room-monitor stops on Ctrl-C with whole files ($video frames, $audio packets)" \
    "$work/mon-int.log"
kill -INT "$publisher"
finish "$publisher" 30

echo "1..$n"
[ "$failed" -eq 0 ]
