#!/bin/sh
# The demo `make demo` runs: makes a Token04 for a user and a room with
# zego-token, verifies it, and shows what a room server answers to a token for
# another user, an expired token and an altered one.
#
# Usage: demo.sh BUILD_DIR
set -eu
build=${1:-build}
token_cli="$build/server/zego-token"
[ -x "$token_cli" ] || { echo "demo: $token_cli is missing; run 'make build' first" >&2; exit 1; }

# A demo app: any 32 characters work as a secret.  Real apps keep theirs out of
# command lines; zego-token reads it from ZEGO_SERVER_SECRET.
ZEGO_SERVER_SECRET=$(printf 'demo-secret-%020d' 0)
export ZEGO_SERVER_SECRET
app_id=1234567

step() { printf '\n== %s\n' "$*"; }

step "Make a token for user 'alice' in room 'living-room' that may log in and publish stream 'alice-cam'"
token=$("$token_cli" --app-id $app_id --user-id alice --room-id living-room \
    --privilege login,publish --stream-id alice-cam --ttl 3600)
echo "$token"

step "Verify it as a room server does at login and at publish"
"$token_cli" --verify "$token" --app-id $app_id --user-id alice \
    --room-id living-room --stream-id alice-cam

expect_refusal() {
    # Runs zego-token, which must fail, and shows its error line.
    if "$@" >/dev/null 2>/tmp/zego-demo.$$; then
        echo "demo: expected a refusal but the token was accepted" >&2
        exit 1
    fi
    cat /tmp/zego-demo.$$
    rm -f /tmp/zego-demo.$$
}

step "The same token presented by user 'bob' is refused"
expect_refusal "$token_cli" --verify "$token" --app-id $app_id --user-id bob

step "Publishing another stream id is refused"
expect_refusal "$token_cli" --verify "$token" --app-id $app_id --user-id alice \
    --room-id living-room --stream-id bob-cam

step "Checked two hours from now, it has expired"
expect_refusal "$token_cli" --verify "$token" --app-id $app_id --user-id alice \
    --at $(( $(date +%s) + 7200 ))

step "One character changed, it no longer decrypts"
altered=$(printf '%s' "$token" | awk '{ c = substr($0, 60, 1); r = (c == "A") ? "B" : "A";
    print substr($0, 1, 59) r substr($0, 61) }')
expect_refusal "$token_cli" --verify "$altered" --app-id $app_id

printf '\nDemo done: a token was made, verified, and refused in four wrong uses.\n'
