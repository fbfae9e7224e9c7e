#!/bin/sh
# Runs one libFuzzer target for a set time: FUZZER SEED_DIR WORK_DIR SECONDS.
# New inputs are written to WORK_DIR (in the build tree); the committed seeds
# are only read.  A crash leaves its input in WORK_DIR/artifacts.
set -eu
fuzzer=$1 seeds=$2 work=$3 seconds=$4
mkdir -p "$work/artifacts"
# libFuzzer exits 77 on a crash by default, which meson reads as "skipped".
exec "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work" "$seeds"
