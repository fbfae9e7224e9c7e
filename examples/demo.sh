#!/bin/sh
# What `make demo` runs: a local zego-room-server that requires tokens, two
# tokens made with zego-token, and a stream published by one user and played
# back by another through the server, every frame checked.  It prints the
# URL of the web debug page for the demo's room; run from a terminal, the
# server then stays up for the page until Enter is pressed.
#
# Usage: demo.sh BUILD_DIR
set -eu
build=${1:-build}
server="$build/server/zego-room-server"
token_cli="$build/server/zego-token"
relay="$build/examples/publish-and-play"
for f in "$server" "$token_cli" "$relay"; do
    [ -x "$f" ] || { echo "demo: $f is missing; run 'make build' first" >&2; exit 1; }
done

step() { printf '\n== %s\n' "$*"; }
work=$(mktemp -d)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# A demo app; real apps keep their secret in a file like this one.
app_id=1234567
ZEGO_SERVER_SECRET=$(printf 'demo-secret-%020d' 0)
export ZEGO_SERVER_SECRET
printf '%s %s\n' "$app_id" "$ZEGO_SERVER_SECRET" > "$work/apps.txt"

step "Start a room server on a free loopback port, tokens required"
"$server" --listen 127.0.0.1:0 --app-file "$work/apps.txt" --log-level warn \
    > "$work/server.out" 2> "$work/server.log" &
server_pid=$!
for _ in $(seq 100); do
    grep -q listening "$work/server.out" 2>/dev/null && break
    sleep 0.05
done
url=$(sed -n 's/.*listening on \(ws:[^ ]*\).*/\1/p' "$work/server.out")
[ -n "$url" ] || { echo "demo: the server did not start:"; cat "$work/server.log"; exit 1; }
echo "zego-room-server is listening on $url"

step "Make a token for alice (login, publish alice-cam) and one for bob (login)"
alice_token=$("$token_cli" --app-id $app_id --user-id alice --room-id demo-room \
    --privilege login,publish --stream-id alice-cam)
bob_token=$("$token_cli" --app-id $app_id --user-id bob --room-id demo-room --privilege login)
echo "alice: $(printf '%.24s' "$alice_token")...   bob: $(printf '%.24s' "$bob_token")..."

step "The web debug page for this room (open it in Chromium or Chrome)"
web_token=$("$token_cli" --app-id $app_id --user-id web --room-id demo-room --privilege login,publish)
http_base=$(echo "$url" | sed 's#^ws://#http://#; s#/ws$##')
# The fields go in the fragment, which the browser never sends to a server.
page_url="$http_base/#app_id=$app_id&room_id=demo-room&user_id=web&user_name=web&token=$(
    python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$web_token")"
echo "$page_url"
[ "$(python3 -c "import urllib.request, sys; print(urllib.request.urlopen(sys.argv[1]).status)" \
    "$http_base/")" = 200 ] || { echo "demo: the server does not serve the page" >&2; exit 1; }

step "A token for someone else is refused"
if "$token_cli" --verify "$bob_token" --app-id $app_id --user-id alice 2>&1; then
    echo "demo: a wrong token was accepted" >&2
    exit 1
fi

step "alice publishes a 3-second synthetic stream; bob plays it back"
"$relay" --server "$url" --app-id $app_id --publisher-token "$alice_token" \
    --player-token "$bob_token" --seconds 3

step "What the server counted (/metrics)"
port=$(echo "$url" | sed 's/.*:\([0-9]*\)\/ws/\1/')
python3 -c "import urllib.request, sys
for line in urllib.request.urlopen(sys.argv[1]).read().decode().splitlines():
    if line.startswith(('zego_frames', 'zego_bytes', 'zego_auth')):
        print(line)" "http://127.0.0.1:$port/metrics"

if [ -t 0 ] && [ -t 1 ]; then
    step "The server stays up for the web page: $page_url"
    printf 'Press Enter to stop it. '
    read -r _ || true
fi

step "Stop the server (SIGTERM)"
kill -TERM "$server_pid"
wait "$server_pid" && echo "zego-room-server exited cleanly"
server_pid=

printf '\nDemo done: a stream went from alice through a local room server to bob.\n'
