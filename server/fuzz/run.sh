#!/bin/bash
# Runs every fuzz target (or those named as arguments) for a bounded time, one job each, and
# prints one summary line per target. Builds first unless FUZZ_NO_BUILD=1.
#
#   FUZZ_SECONDS   seconds per target (default 180)
#   FUZZ_CHUNK     seconds per libFuzzer run; between runs the script waits while the file
#                  $FUZZ_PAUSE_FILE exists (default /var/tmp/amtsweg-quiet), so a benchmark
#                  on the same machine is not disturbed (default 60)
#   CARGO_TARGET_DIR  defaults to /var/tmp/amtsweg-fuzz-target (never the main target dir)
#
# Example: FUZZ_SECONDS=600 server/fuzz/run.sh definition api_body
# Logs go to server/fuzz/logs/<target>.log, crashes to artifacts/<target>/ (both git-ignored).
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_PER_TARGET=${FUZZ_SECONDS:-180}
CHUNK=${FUZZ_CHUNK:-60}
PAUSE_FILE=${FUZZ_PAUSE_FILE:-/var/tmp/amtsweg-quiet}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/amtsweg-fuzz-target}
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
    TARGETS=(camt definition answers file_names upload postal api_body)
fi
wait_quiet() { while [ -e "$PAUSE_FILE" ]; do sleep 30; done; }

# Only stable rustc is installed: RUSTC_BOOTSTRAP=1 lets it take cargo fuzz's nightly flags.
# No sanitizer: the parsers contain no unsafe code, and ASan stops at start-up on the bundled
# SQLite (README). Debug assertions and overflow checks stay on (cargo fuzz's default).
if [ "${FUZZ_NO_BUILD:-0}" != 1 ]; then
    wait_quiet
    RUSTC_BOOTSTRAP=1 cargo fuzz build -s none
fi
BIN=$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release
./seed.sh >/dev/null
mkdir -p logs
for t in "${TARGETS[@]}"; do
    dict=""
    case $t in
        camt) dict=-dict=camt.dict ;;
        definition) dict=-dict=definition.dict ;;
        api_body) dict=-dict=api.dict ;;
        upload) dict=-dict=upload.dict ;;
        postal) dict=-dict=postal.dict ;;
    esac
    mkdir -p "artifacts/$t"
    : > "logs/$t.log"
    left=$SECONDS_PER_TARGET
    status=ok
    while [ "$left" -gt 0 ]; do
        wait_quiet
        run=$(( left < CHUNK ? left : CHUNK ))
        # -max_len 64 KiB: forms are limited to 64 KiB; larger inputs only slow the search.
        if ! "$BIN/$t" -artifact_prefix="artifacts/$t/" -max_total_time="$run" -max_len=65536 \
            -rss_limit_mb=2048 -timeout=10 $dict "corpus/$t" >>"logs/$t.log" 2>&1; then
            status="FINDING (see logs/$t.log, artifacts/$t/)"
            break
        fi
        left=$(( left - run ))
    done
    runs=$(grep -o 'Done [0-9]* runs' "logs/$t.log" | awk '{s += $2} END {print s + 0}')
    last=$(grep -E '^#[0-9]+' "logs/$t.log" | tail -1)
    cov=$(echo "$last" | grep -o 'cov: [0-9]*' || true)
    ft=$(echo "$last" | grep -o 'ft: [0-9]*' || true)
    corp=$(ls "corpus/$t" | wc -l)
    echo "$t: $SECONDS_PER_TARGET s budget, $runs runs, $cov, $ft, corpus $corp, $status"
done
