#!/bin/sh
# Fuzz the input parsers with libFuzzer (clang, AddressSanitizer and
# UndefinedBehaviorSanitizer): each harness in turn for SECONDS (default 600)
# at the lowest priority, starting from its seed corpus in tests/corpus/.
#   scripts/fuzz.sh [-t SECONDS] [HARNESS...]    harnesses: csv config model h5result sweep part summary compare
# New inputs go to build-fuzz/fuzz-corpus/HARNESS/, crashes to
# build-fuzz/fuzz-crashes/HARNESS/, the log to build-fuzz/fuzz-logs/HARNESS.log.
# A crash makes the script exit 1: reproduce it with
#   build-fuzz/tests/fuzz/fuzz_HARNESS CRASH_FILE
# fix it, and copy the file into tests/corpus/HARNESS/ so that the suite
# replays it from then on (test fuzz.replay_HARNESS).
set -eu
cd "$(dirname "$0")/.."
seconds=600
if [ "${1:-}" = "-t" ]; then
    seconds=$2
    shift 2
fi
harnesses=${*:-csv config model h5result sweep part summary compare}

scripts/install-deps.sh fuzz
cmake --preset fuzz >/dev/null
nice -n 19 cmake --build --preset fuzz -j 2 >/dev/null

status=0
for h in $harnesses; do
    bin=build-fuzz/tests/fuzz/fuzz_$h
    if [ ! -x "$bin" ]; then
        echo "fuzz.sh: no harness '$h' (expected one of: csv config model h5result sweep part summary compare)" >&2
        exit 2
    fi
    corpus=build-fuzz/fuzz-corpus/$h
    crashes=build-fuzz/fuzz-crashes/$h
    log=build-fuzz/fuzz-logs/$h.log
    mkdir -p "$corpus" "$crashes" "$(dirname "$log")"
    # HDF5 1.10 itself loops forever or overruns a buffer when it reads the
    # variable-length strings of some damaged files (see docs/robustness.md):
    # that harness runs in fork mode, which records every failing input
    # (crash-*, timeout-*, leak-*) and goes on; each must then be triaged
    case $h in
    h5result | part | summary | compare) max_len=65536 mode="-fork=1 -ignore_timeouts=1 -ignore_crashes=1 -ignore_ooms=0" ;;
    *) max_len=16384 mode="" ;;
    esac
    # HDF5's own leaks on damaged files are suppressed by name, which needs
    # full stacks through the library
    ASAN_OPTIONS=fast_unwind_on_malloc=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}
    LSAN_OPTIONS=suppressions=$(pwd)/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}
    export ASAN_OPTIONS LSAN_OPTIONS
    echo "fuzz.sh: $h for $seconds s (log $log)"
    start=$(date +%s)
    # shellcheck disable=SC2086
    if nice -n 19 "$bin" $mode -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 \
        -max_len="$max_len" -print_final_stats=1 -artifact_prefix="$crashes/" \
        "$corpus" "tests/corpus/$h" >"$log" 2>&1; then
        result="no crash"
    else
        result="CRASH (see $log and $crashes/)"
        status=1
    fi
    end=$(date +%s)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    if [ -z "$runs" ]; then # fork mode: "#N: cov: ..." lines
        runs=$(sed -n 's/^#\([0-9]*\): cov:.*/\1/p' "$log" | tail -n 1)
    fi
    failing=$(find "$crashes" -type f | wc -l)
    if [ "$failing" -gt 0 ]; then
        result="$result; $failing failing inputs in $crashes/"
        status=1
    fi
    echo "fuzz.sh: $h: $((end - start)) s, ${runs:-?} inputs, $result"
done
exit $status
