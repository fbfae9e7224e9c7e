#!/bin/sh
# Runs one libFuzzer target for a set time: FUZZER SEED_DIR WORK_DIR SECONDS.
# New inputs are written to WORK_DIR (in the build tree); the committed seeds
# are only read.  A crash leaves its input in WORK_DIR/artifacts.
set -eu
fuzzer=$1 seeds=$2 work=$3 seconds=$4
mkdir -p "$work/artifacts"
exec "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work" "$seeds"
