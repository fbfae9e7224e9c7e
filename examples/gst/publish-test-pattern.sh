#!/bin/sh
# Publishes a test pattern and a 440 Hz tone into a room with zegosink.
#
#   publish-test-pattern.sh SERVER_URL APP_ID ROOM_ID STREAM_ID [SECONDS] [TOKEN]
#
# e.g. publish-test-pattern.sh ws://127.0.0.1:7600/ws 1 demo-room cam 10
# Runs for SECONDS (default 10) and ends cleanly; TOKEN is a Token04 when the
# server checks tokens.  Play it with play-room.sh, play-room-to-file.sh or:
#   gst-launch-1.0 zegosrc server=SERVER_URL app-id=APP_ID room-id=ROOM_ID decode=true ! \
#       videoconvert ! autovideosink
set -eu
if [ $# -lt 4 ]; then
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi
server=$1 app_id=$2 room=$3 stream=$4 seconds=${5:-10} token=${6:-}
frames=$((seconds * 15))
buffers=$((seconds * 48000 / 1024))

# gst-launch-1.0 joins its arguments with spaces: values must not hold any.
exec gst-launch-1.0 -e \
    zegosink name=zego server="$server" app-id="$app_id" room-id="$room" stream-id="$stream" \
        ${token:+token="$token"} user-name=test-pattern extra-info=videotestsrc+audiotestsrc \
    videotestsrc is-live=true pattern=smpte num-buffers="$frames" \
        ! video/x-raw,width=320,height=240,framerate=15/1 \
        ! timeoverlay ! zego.video \
    audiotestsrc is-live=true wave=sine freq=440 samplesperbuffer=1024 num-buffers="$buffers" \
        ! zego.audio
