#!/bin/sh
# Failure handling of `pdsim run`: interruption and --resume (five kills at
# random points, then h5diff against an uninterrupted run), resuming the
# wrong partial file, a full disk (file-size limit), an unwritable output
# path, and absurd sizes refused up front.
#   robust_cli.sh PDSIM_BINARY TESTS_DIR
set -u
PDSIM=$1
TESTS=$(cd "$2" && pwd)
CONFIG="$TESTS/data/run.yaml"
. "$(dirname "$0")/lib.sh"

# runs big enough that a kill KILL_AFTER + 0..KILL_SPAN s after pdsim set up
# its signal handlers lands in the middle of the run on one thread (scripts/memcheck.sh sets them for valgrind)
RUNS=${PDSIM_TEST_INTERRUPT_RUNS:-2000000}
KILL_AFTER=${PDSIM_TEST_KILL_AFTER:-0.05}
KILL_SPAN=${PDSIM_TEST_KILL_SPAN:-0.2}

# Waits (up to 20 s) until process $1 catches SIGINT, i.e. until pdsim has
# loaded its inputs and installed its handlers: a signal before that would
# end it (SIGTERM) or be ignored (SIGINT in a background job).
wait_for_handler() {
    i=0
    while [ $i -lt 200 ]; do
        mask=$(sed -n 's/^SigCgt:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null)
        [ -n "$mask" ] && [ $((0x$mask & 2)) -ne 0 ] && return 0
        sleep 0.1
        i=$((i + 1))
    done
}

# Runs pdsim run with the arguments given, sends the signal the delay after
# its handlers are set up, and returns its exit status (stderr in kill.err).
interrupt() { # signal, delay, pdsim run arguments...
    sig=$1
    delay=$2
    shift 2
    "$PDSIM" run "$@" 2>"$TMP/kill.err" &
    pid=$!
    wait_for_handler "$pid"
    sleep "$delay"
    kill -"$sig" "$pid"
    wait "$pid"
}
MAX_DELAY=$(awk -v a="$KILL_AFTER" -v b="$KILL_SPAN" 'BEGIN { print a + b }')

attr() { # file, root attribute: its value
    h5dump -a "/$2" "$1" | sed -n 's/^ *(0): *//p' | tr -d '"'
}

# The reference: one uninterrupted run on two threads.
check "uninterrupted reference run" "$PDSIM" run "$CONFIG" -q -n "$RUNS" -s 11 -j 2 -o "$TMP/ref.h5"
# An earlier result under the output name, which must survive every
# interrupted attempt and be replaced only by the completed run.
check "earlier output" "$PDSIM" run "$CONFIG" -q -n 100 -s 1 -o "$TMP/res.h5"
cp "$TMP/res.h5" "$TMP/earlier.h5"

interrupted_five_times() {
    prev=0
    for k in 1 2 3 4 5; do
        delay=$(awk -v k="$k" -v a="$KILL_AFTER" -v b="$KILL_SPAN" \
            'BEGIN { srand(); srand(srand() + k); printf "%.2f", a + b * rand() }')
        sig=INT
        [ $((k % 2)) -eq 0 ] && sig=TERM
        interrupt "$sig" "$delay" "$CONFIG" -q -n "$RUNS" -s 11 -j 1 --resume --replace -o "$TMP/res.h5"
        rc=$?
        done_runs=$(attr "$TMP/res.h5.partial" runs_done 2>/dev/null)
        echo "kill $k: SIG$sig after $delay s: exit $rc, runs_done ${done_runs:-none}"
        if [ "$rc" -ne 1 ] || [ ! -f "$TMP/res.h5.partial" ]; then
            echo "expected exit 1 and a partial file"
            cat "$TMP/kill.err"
            return 1
        fi
        grep -q "the same command with --resume" "$TMP/kill.err" || return 1
        [ "$(attr "$TMP/res.h5.partial" complete)" = 0 ] || return 1
        [ "$done_runs" -ge "$prev" ] || return 1
        cmp -s "$TMP/earlier.h5" "$TMP/res.h5" || {
            echo "the earlier output changed"
            return 1
        }
        prev=$done_runs
    done
    "$PDSIM" run "$CONFIG" -n "$RUNS" -s 11 -j 2 --resume --replace -o "$TMP/res.h5" >/dev/null 2>"$TMP/resume.err" || return 1
    grep -q "resuming" "$TMP/resume.err" &&
        [ ! -e "$TMP/res.h5.partial" ] &&
        [ "$(attr "$TMP/res.h5" complete)" = 1 ] &&
        h5diff "$TMP/ref.h5" "$TMP/res.h5"
}
check "killed 5 times at random points, resumed: h5diff identical to an uninterrupted run" interrupted_five_times

# with coefficient draws too (/runs/coefficients is resumed like the years)
resumed_with_draws() {
    absolute_config "$CONFIG" "$TMP/unc.yaml" &&
        echo "uncertainty: coefficients" >>"$TMP/unc.yaml" &&
        "$PDSIM" run "$TMP/unc.yaml" -q -n "$RUNS" -s 4 -j 2 -o "$TMP/unc-ref.h5" 2>/dev/null || return 1
    interrupt TERM "$MAX_DELAY" "$TMP/unc.yaml" -q -n "$RUNS" -s 4 -j 1 -o "$TMP/unc.h5"
    [ $? -eq 1 ] && [ -f "$TMP/unc.h5.partial" ] &&
        "$PDSIM" run "$TMP/unc.yaml" -q -n "$RUNS" -s 4 -j 2 --resume -o "$TMP/unc.h5" 2>/dev/null &&
        h5diff "$TMP/unc-ref.h5" "$TMP/unc.h5"
}
check "coefficient draws: killed, resumed, h5diff identical" resumed_with_draws

# a partial file to resume wrongly
make_partial() {
    rm -f "$TMP/p.h5.partial"
    interrupt INT "$MAX_DELAY" "$1" -q -n "$RUNS" -s 11 -j 1 -o "$TMP/p.h5"
    [ $? -eq 1 ] && [ -f "$TMP/p.h5.partial" ] && cp "$TMP/p.h5.partial" "$TMP/p.copy"
}
refused() { # expected text, run arguments...
    want=$1
    shift
    "$PDSIM" run "$@" -q --resume -o "$TMP/p.h5" 2>"$TMP/refuse.err"
    rc=$?
    cat "$TMP/refuse.err"
    [ $rc -eq 2 ] && grep -q "p.h5.partial: cannot resume: .*$want" "$TMP/refuse.err" &&
        cmp -s "$TMP/p.h5.partial" "$TMP/p.copy" && [ ! -e "$TMP/p.h5" ]
}
check "partial file for refusals" make_partial "$CONFIG"
check "resume refused: other seed" refused "seed 11, this run has seed 12" "$CONFIG" -n "$RUNS" -s 12
check "resume refused: other run count" refused "started for $RUNS runs" "$CONFIG" -n 1000 -s 11
mkdir "$TMP/d"
cp -r "$TESTS/data/small" "$TESTS/data/model.yaml" "$TESTS/data/city_model.yaml" "$CONFIG" "$TMP/d/"
check "partial file of a copied config" make_partial "$TMP/d/run.yaml"
edit_model() {
    sed -i 's/coef: -4.0/coef: -3.9/' "$TMP/d/model.yaml" &&
        refused "differ from those it was started with" "$TMP/d/run.yaml" -n "$RUNS" -s 11
}
check "resume refused: model file changed" edit_model
edit_data() {
    sed -i 's/coef: -3.9/coef: -4.0/' "$TMP/d/model.yaml" &&
        sed -i 's/^B,Beta,east,$/B,Beta,east,2015/' "$TMP/d/small/units.csv" &&
        refused "differ from those it was started with" "$TMP/d/run.yaml" -n "$RUNS" -s 11
}
check "resume refused: dataset changed" edit_data
damaged() {
    head -c 3000 "$TMP/p.copy" >"$TMP/p.h5.partial" && cp "$TMP/p.h5.partial" "$TMP/p.copy" &&
        refused "damaged" "$TMP/d/run.yaml" -n "$RUNS" -s 11
}
check "resume refused: damaged partial file" damaged
fresh_without_resume() {
    "$PDSIM" run "$TMP/d/run.yaml" -n 500 -s 11 -o "$TMP/p.h5" >/dev/null 2>"$TMP/fresh.err" &&
        grep -q "replacing .*p.h5.partial" "$TMP/fresh.err" && [ ! -e "$TMP/p.h5.partial" ] &&
        [ "$(attr "$TMP/p.h5" complete)" = 1 ]
}
check "without --resume a partial file is replaced" fresh_without_resume
nothing_to_resume() {
    "$PDSIM" run "$CONFIG" -n 3000 -s 5 --resume -o "$TMP/n.h5" >/dev/null 2>"$TMP/n.err" &&
        "$PDSIM" run "$CONFIG" -q -n 3000 -s 5 -o "$TMP/n2.h5" &&
        grep -q "no .*n.h5.partial to resume" "$TMP/n.err" && h5diff "$TMP/n.h5" "$TMP/n2.h5"
}
check "--resume without a partial file runs from the start" nothing_to_resume

# A full disk: a file-size limit (SIGXFSZ ignored, so writes fail with
# EFBIG) of 400 blocks, far below the ~2 MB that 200000 runs need.
disk_full() {
    "$PDSIM" run "$CONFIG" -q -n 100 -s 1 -o "$TMP/full.h5" && cp "$TMP/full.h5" "$TMP/full.before" &&
        (
            ulimit -f 400
            trap '' XFSZ
            exec "$PDSIM" run "$CONFIG" -q -n 200000 -s 2 -o "$TMP/full.h5" --replace
        ) 2>"$TMP/full.err"
    rc=$?
    cat "$TMP/full.err"
    [ $rc -eq 1 ] && grep -q "full.h5.*disk full" "$TMP/full.err" &&
        cmp -s "$TMP/full.h5" "$TMP/full.before" && [ ! -e "$TMP/full.h5.partial" ] &&
        [ -z "$(find "$TMP" -name 'full.h5.*' ! -name full.h5.before)" ]
}
check "disk full (file-size limit): exit 1, earlier output intact, nothing left" disk_full
unwritable() {
    : >"$TMP/plainfile"
    "$PDSIM" run "$CONFIG" -q -n 100 -o "$TMP/plainfile/x.h5" 2>"$TMP/unw.err"
    rc=$?
    cat "$TMP/unw.err"
    [ $rc -eq 1 ] && grep -q "plainfile.*not a folder" "$TMP/unw.err"
}
check "unwritable output path: exit 1 with the path" unwritable

# Absurd sizes are refused before anything is attempted.
check "10^12 runs on the command line" status_is 2 "$PDSIM" run "$CONFIG" -q -n 1000000000000 -o "$TMP/big.h5"
check "  ... says so" grep -q -e "--runs: expected an integer in 0..1000000000" "$TMP/s.err"
absurd_config() { # sed expression, expected text
    absolute_config "$CONFIG" "$TMP/absurd.yaml" -e "$1"
    "$PDSIM" validate "$TMP/absurd.yaml" 2>"$TMP/absurd.err"
    rc=$?
    cat "$TMP/absurd.err"
    [ $rc -eq 2 ] && grep -q -e "$2" "$TMP/absurd.err"
}
check "10^12 runs in the config" absurd_config 's/^runs: .*/runs: 1000000000000/' \
    "absurd.yaml:6:7: runs: expected an integer in 1..1000000000"
check "a horizon of 10^6 years" absurd_config 's/^horizon: .*/horizon: 1000000/' \
    "absurd.yaml:5:10: horizon: expected an integer in 1000..3000"
# 10^7 units, streamed through a pipe: refused after the first 100001 rows
ten_million_units() {
    mkdir "$TMP/huge"
    mkfifo "$TMP/huge/units.csv" || return 1
    awk 'BEGIN { print "code,name,region,adoption_year"
                 for (i = 0; i < 10000000; i++) printf "U%d,u,r,\n", i }' >"$TMP/huge/units.csv" 2>/dev/null &
    writer=$!
    printf 'dataset: huge\nmodel: %s\nbase_year: 2015\nhorizon: 2025\n' "$TESTS/data/model.yaml" >"$TMP/huge.yaml"
    timeout 60 "$PDSIM" validate "$TMP/huge.yaml" 2>"$TMP/huge.err"
    rc=$?
    kill "$writer" 2>/dev/null
    wait "$writer" 2>/dev/null
    cat "$TMP/huge.err"
    [ $rc -eq 2 ] && grep -q "huge/units.csv:100002: more than 100000 units: at most 100000 are supported" "$TMP/huge.err"
}
check "10^7 units" ten_million_units

finish
