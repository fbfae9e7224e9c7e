#!/bin/sh
# zego-token from the outside: making and checking tokens, the published
# vectors, the ways to pass the secret, privileges and command-line errors.
# Usage: test-zego-token.sh PATH_TO_zego-token VECTORS_DIR   (prints TAP)
set -u

bin=$1
vectors=$2/token04.json
n=0
failed=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT HUP INT TERM

# The tests choose where the secret comes from.
unset ZEGO_SERVER_SECRET

secret=$(sed -n 's/.*"secret": *"\([^"]*\)".*/\1/p' "$vectors")
gcm_token=$(grep -o '"token": *"[^"]*"' "$vectors" | sed -n '1s/.*"\(04[^"]*\)"$/\1/p')
cbc_token=$(grep -o '"token": *"[^"]*"' "$vectors" | sed -n '2s/.*"\(04[^"]*\)"$/\1/p')
at=1700000100

# run COMMAND...: runs it, keeping stdout, stderr and the exit status.
run() {
    "$@" >"$tmp/out" 2>"$tmp/err"
    status=$?
}

# check DESCRIPTION CONDITION...: one TAP line; on failure shows the output.
check() {
    desc=$1
    shift
    n=$((n + 1))
    if "$@"; then
        echo "ok $n - $desc"
    else
        failed=$((failed + 1))
        echo "not ok $n - $desc"
        echo "#   exit status $status"
        sed 's/^/#   stdout: /' "$tmp/out"
        sed 's/^/#   stderr: /' "$tmp/err"
    fi
}

exits() { [ "$status" -eq "$1" ]; }
out_has() { grep -q -e "$1" "$tmp/out"; }
err_has() { grep -q -e "$1" "$tmp/err"; }
exits_with_out() { exits "$1" && out_has "$2"; }
exits_with_err() { exits "$1" && err_has "$2"; }

# make ARGS...: makes a token with the vector secret and keeps it in $token.
make_token() {
    run "$bin" --app-id 1 --secret "$secret" "$@"
    token=$(cat "$tmp/out")
}

check "the vector file has a secret and two tokens" \
    test ${#secret} -eq 32 -a -n "$gcm_token" -a -n "$cbc_token"

run "$bin" --help
check "--help exits 0 and documents --verify" exits_with_out 0 "--verify"
check "--help documents every option" sh -c 'for o in --app-id --secret --secret-file \
    --user-id --ttl --room-id --privilege --stream-id --mode --verify --at --version \
    ZEGO_SERVER_SECRET; do grep -q -e "$o" "$1" || exit 1; done' sh "$tmp/out"

run "$bin" --version
check "--version prints the version" exits_with_out 0 "^zego-token [0-9]"

make_token --user-id alice
check "making a token prints one line starting with 04" \
    sh -c '[ "$1" -eq 0 ] && [ "$(wc -l <"$2")" -eq 1 ] && grep -q "^04" "$2"' sh "$status" "$tmp/out"

run "$bin" --verify "$token" --app-id 1 --secret "$secret" --user-id alice
check "a made token verifies and shows its user id" exits_with_out 0 '"user_id": "alice"'
check "verify shows the mode, gcm by default" out_has '"mode": "gcm"'
check "verify shows the payload as empty" out_has '"payload": ""'

make_token --user-id bob --mode cbc --ttl 60
run "$bin" --verify "$token" --app-id 1 --secret "$secret"
check "a cbc token verifies and says cbc" exits_with_out 0 '"mode": "cbc"'

run "$bin" --verify "$gcm_token" --app-id 1 --secret "$secret" --user-id demo --at $at
check "the gcm vector verifies with --at" exits_with_out 0 '"nonce": 123456789'
check "the vector's expiry is shown in UTC" out_has '"expire_iso": "2023-11-14T23:13:20Z"'

run "$bin" --verify "$cbc_token" --app-id 1 --secret "$secret" --user-id demo --at $at
check "the cbc vector verifies with --at" exits_with_out 0 '"mode": "cbc"'

run "$bin" --verify "$gcm_token" --app-id 1 --secret "$secret"
check "the gcm vector without --at has expired (1002078)" \
    exits_with_err 1 "^zego-token: error 1002078 (ZEGO_ERR_TOKEN_EXPIRED): .*2023-11-14T23:13:20Z"

run "$bin" --verify "$cbc_token" --app-id 1 --secret "$secret"
check "the cbc vector without --at has expired (1002078)" exits_with_err 1 "error 1002078"

run "$bin" --verify "$gcm_token" --app-id 2 --secret "$secret" --at $at
check "a wrong app id fails with 1002076" exits_with_err 1 "error 1002076 (ZEGO_ERR_TOKEN_APP_ID_MISMATCH)"

run "$bin" --verify "$gcm_token" --app-id 1 --secret "$secret" --user-id eve --at $at
check "a wrong user id fails with 1002077" exits_with_err 1 "error 1002077"

run "$bin" --verify "$gcm_token" --app-id 1 --secret 00000000000000000000000000000000 --at $at
check "a wrong secret fails with 1002033" exits_with_err 1 "error 1002033.*wrong secret"

run "$bin" --verify "03${gcm_token#04}" --app-id 1 --secret "$secret" --at $at
check "a token not starting with 04 fails with 1002079" exits_with_err 1 "error 1002079"

printf '%s\n' "$secret" >"$tmp/secret"
make_token --user-id carol
run "$bin" --verify "$token" --app-id 1 --secret-file "$tmp/secret" --user-id carol
check "--secret-file is read, its newline stripped" exits_with_out 0 '"user_id": "carol"'

run env ZEGO_SERVER_SECRET="$secret" "$bin" --app-id 1 --user-id dave
token=$(cat "$tmp/out")
run env ZEGO_SERVER_SECRET="$secret" "$bin" --verify "$token" --app-id 1 --user-id dave
check "ZEGO_SERVER_SECRET is used when no secret option is given" exits_with_out 0 '"user_id": "dave"'

run env ZEGO_SERVER_SECRET=11111111111111111111111111111111 "$bin" --verify "$token" \
    --app-id 1 --secret "$secret"
check "--secret wins over ZEGO_SERVER_SECRET" exits 0

make_token --user-id alice --room-id r1 --stream-id s1
run "$bin" --verify "$token" --app-id 1 --secret "$secret" --room-id r1 --stream-id s1
check "a token for room r1 and stream s1 allows both" exits_with_out 0 '"room_id": "r1"'
check "verify shows the payload as JSON" out_has '"stream_id_list": \['

run "$bin" --verify "$token" --app-id 1 --secret "$secret" --stream-id other
check "publishing a stream not in the token fails with 1003072" \
    exits_with_err 1 "error 1003072 (ZEGO_ERR_PUBLISH_NOT_AUTHORIZED): stream 'other'"

run "$bin" --verify "$token" --app-id 1 --secret "$secret" --room-id r2
check "logging into another room fails with 1002033" exits_with_err 1 "error 1002033.*room 'r1', not 'r2'"

make_token --user-id alice --room-id r1 --privilege login
run "$bin" --verify "$token" --app-id 1 --secret "$secret" --room-id r1
check "--privilege login allows login" exits 0
run "$bin" --verify "$token" --app-id 1 --secret "$secret" --room-id r1 --stream-id s1
check "--privilege login alone denies publishing" exits_with_err 1 "error 1003072.*does not grant publishing"

make_token --user-id alice --privilege publish
run "$bin" --verify "$token" --app-id 1 --secret "$secret" --room-id any
check "--privilege publish alone denies login" exits_with_err 1 "does not grant login"

make_token --user-id 'a@b.c'
run "$bin" --verify "$token" --app-id 1 --secret "$secret" --user-id 'a@b.c'
check "a user id with punctuation round trips" exits_with_out 0 '"user_id": "a@b.c"'

make_token --user-id alice --app-id 4294967295
run "$bin" --verify "$token" --app-id 4294967295 --secret "$secret"
check "the largest app id round trips" exits_with_out 0 '"app_id": 4294967295'

run "$bin" --app-id 1 --secret "$secret"
check "making a token without --user-id is a usage error (2)" exits_with_err 2 "user-id"

run "$bin" --secret "$secret" --user-id alice
check "a missing --app-id is a usage error (2)" exits_with_err 2 "app-id"

for bad in 0 -1 +1 ' 1' 12x 4294967296 99999999999999999999999; do
    run "$bin" --app-id "$bad" --secret "$secret" --user-id alice
    check "app id '$bad' is a usage error (2)" exits_with_err 2 "app-id"
done

run "$bin" --app-id 1 --secret "$secret" --user-id alice --frobnicate
check "an unknown option is a usage error (2)" exits_with_err 2 "frobnicate"

run "$bin" --app-id 1 --secret short --user-id alice
check "a secret that is not 32 characters is a usage error (2)" exits_with_err 2 "32 characters"

run "$bin" --app-id 1 --user-id alice
check "no secret at all is a usage error (2)" exits_with_err 2 "ZEGO_SERVER_SECRET"

run "$bin" --app-id 1 --secret-file "$tmp/no-such-file" --user-id alice
check "an unreadable secret file is a usage error (2)" exits_with_err 2 "no-such-file"

run "$bin" --app-id 1 --secret "$secret" --user-id alice --mode ecb
check "an unknown --mode is a usage error (2)" exits_with_err 2 "mode"

run "$bin" --app-id 1 --secret "$secret" --user-id alice --privilege login,play
check "an unknown privilege is a usage error (2)" exits_with_err 2 "play"

run "$bin" --app-id 1 --secret "$secret" --user-id alice --ttl 0
check "--ttl 0 is a usage error (2)" exits_with_err 2 "ttl"

run "$bin" --verify "$gcm_token" --app-id 1 --secret "$secret" --at yesterday
check "a non-numeric --at is a usage error (2)" exits_with_err 2 "at"

run "$bin" --app-id 1 --secret "$secret" --user-id alice extra
check "a stray argument is a usage error (2)" exits_with_err 2 "extra"

echo "1..$n"
[ "$failed" -eq 0 ]
