#!/bin/sh
# A call between alice and bob in one room: two gst-launch-1.0 processes, each
# publishing its own test pattern and tone with zegosink (stream "alice" or
# "bob") and playing the other's stream with zegosrc.  With a display each
# side shows the other's video and plays its sound; without one (or with
# OUTPUT_DIR) each side records what it receives, as sent, into
# OUTPUT_DIR/USER-received.mkv (OUTPUT_DIR: by default the current directory).
#
#   two-party-call.sh SERVER_URL APP_ID ROOM_ID [SECONDS] [OUTPUT_DIR]
#   two-party-call.sh --user USER SERVER_URL APP_ID ROOM_ID [SECONDS] [OUTPUT_DIR] [TOKEN]
#
# e.g. two-party-call.sh ws://127.0.0.1:7600/ws 1 call-room 20 .
# The call lasts SECONDS (default 30) or until Ctrl-C; then every side hangs
# up cleanly.  --user runs one side, as USER, playing the room's other users:
# run it on two hosts (or in two terminals) for a call between them.
set -eu
usage() {
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}
only=
if [ "${1:-}" = --user ]; then
    [ $# -ge 2 ] || usage
    only=$2
    shift 2
fi
[ $# -ge 3 ] || usage
server=$1 app_id=$2 room=$3 seconds=${4:-30} output_dir=${5:-} token=${6:-}
if [ -z "$output_dir" ] && [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    output_dir=.
fi

# One side: USER logs in once for both elements (same user-id), so zegosrc
# does not play USER's own stream.  gst-launch-1.0 joins its arguments with
# spaces: values must not hold any.
side() { # USER PATTERN FREQUENCY WIDTH HEIGHT
    if [ -n "$output_dir" ]; then
        echo "$1: recording the call into $output_dir/$1-received.mkv" >&2
        set -- "$@" false "in.video_0 ! queue ! h264parse ! mux. \
            in.audio_0 ! queue ! opusparse ! mux. \
            matroskamux name=mux ! filesink location=$output_dir/$1-received.mkv"
    else
        set -- "$@" true "in.video_0 ! queue ! videoconvert ! autovideosink \
            in.audio_0 ! queue ! audioconvert ! audioresample ! autoaudiosink"
    fi
    # $7 is split into words on purpose: it is pipeline syntax.
    # shellcheck disable=SC2086
    exec gst-launch-1.0 -e \
        zegosink name=out server="$server" app-id="$app_id" room-id="$room" \
            user-id="$1" user-name="$1" stream-id="$1" ${token:+token="$token"} \
        videotestsrc is-live=true pattern="$2" \
            ! "video/x-raw,width=$4,height=$5,framerate=15/1" \
            ! timeoverlay text="$1" ! out.video \
        audiotestsrc is-live=true freq="$3" ! out.audio \
        zegosrc name=in server="$server" app-id="$app_id" room-id="$room" \
            user-id="$1" ${token:+token="$token"} decode="$6" \
        $7
}

pids=
if [ -n "$only" ]; then
    side "$only" smpte 440 320 240 &
    pids=$!
else
    side alice smpte 440 320 240 &
    pids=$!
    side bob ball 660 352 288 &
    pids="$pids $!"
fi

# Hanging up is a SIGINT: gst-launch-1.0 -e then sends EOS through every
# branch, so the files are complete, and stops.  (The sides cannot end by
# themselves: a side's recording ends when the other side's stream is
# unpublished, and zegosink unpublishes only when its pipeline stops.)
hung_up=
hang_up() {
    [ -z "$hung_up" ] || return 0
    hung_up=1
    # shellcheck disable=SC2086
    kill -INT $pids 2>/dev/null || true
}
trap 'hung_up=1' INT # Ctrl-C reaches the gst-launch-1.0 processes as well
trap hang_up TERM
sleep "$seconds" &
sleeper=$!
wait "$sleeper" || true # returns early on a signal
kill "$sleeper" 2>/dev/null || true
hang_up

status=0
for pid in $pids; do
    # A side whose other side never came has no EOS to wait for.
    n=0
    while kill -0 "$pid" 2>/dev/null && [ $n -lt 100 ]; do
        sleep 0.1
        n=$((n + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "two-party-call.sh: a side did not end 10 s after hanging up: stopping it" >&2
        kill -INT "$pid" 2>/dev/null || true
    fi
    wait "$pid" || status=$?
done
exit "$status"
