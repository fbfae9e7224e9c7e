#!/bin/sh
# Plays one stream of a room into a Matroska file (H.264 video and Opus audio
# as published, no re-encoding), until its publisher stops.
#
#   play-room-to-file.sh SERVER_URL APP_ID ROOM_ID STREAM_ID OUTPUT.mkv [TOKEN]
#
# e.g. play-room-to-file.sh ws://127.0.0.1:7600/ws 1 demo-room cam cam.mkv
# The stream may start later: zegosrc waits for it.  The file is finished when
# the publisher leaves (eos-on-unpublish) or on Ctrl-C.
set -eu
if [ $# -lt 5 ]; then
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi
server=$1 app_id=$2 room=$3 stream=$4 output=$5 token=${6:-}

exec gst-launch-1.0 -e \
    zegosrc name=zego server="$server" app-id="$app_id" room-id="$room" stream-id="$stream" \
        ${token:+token="$token"} eos-on-unpublish=true \
    matroskamux name=mux ! filesink location="$output" \
    zego.video_0 ! queue ! h264parse ! mux. \
    zego.audio_0 ! queue ! opusparse ! mux.
