#!/bin/sh
# Plays one stream of a room: its video in a window and its sound on the
# speakers when there is a display, or else into a Matroska file (with
# play-room-to-file.sh), until its publisher stops or Ctrl-C.
#
#   play-room.sh SERVER_URL APP_ID ROOM_ID STREAM_ID [OUTPUT.mkv] [TOKEN]
#
# e.g. play-room.sh ws://127.0.0.1:7600/ws 1 demo-room cam
# OUTPUT.mkv (default STREAM_ID.mkv) is written only without a display.
# VIDEO_SINK and AUDIO_SINK choose other sinks than autovideosink and
# autoaudiosink, e.g. VIDEO_SINK=ximagesink.  The stream may start later.
set -eu
if [ $# -lt 4 ]; then
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi
server=$1 app_id=$2 room=$3 stream=$4 output=${5:-$4.mkv} token=${6:-}

if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    echo "play-room.sh: no display: recording into $output" >&2
    exec sh "$(dirname "$0")/play-room-to-file.sh" "$server" "$app_id" "$room" "$stream" \
        "$output" ${token:+"$token"}
fi

# zegosrc decodes (decode=true); eos-on-unpublish ends the pipeline with the
# stream.  gst-launch-1.0 joins its arguments with spaces: values must not
# hold any.
exec gst-launch-1.0 -e \
    zegosrc name=zego server="$server" app-id="$app_id" room-id="$room" stream-id="$stream" \
        ${token:+token="$token"} decode=true eos-on-unpublish=true \
    zego.video_0 ! queue ! videoconvert ! "${VIDEO_SINK:-autovideosink}" \
    zego.audio_0 ! queue ! audioconvert ! audioresample ! "${AUDIO_SINK:-autoaudiosink}"
