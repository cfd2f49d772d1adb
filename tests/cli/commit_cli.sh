#!/bin/sh
# Progress of `pdsim run` committed at every chunk: a SIGKILL mid-run keeps
# the runs of the chunks before it (runs_done > 0 in the partial file) and
# --resume completes them into a file h5diff-identical to an uninterrupted
# run; a failure while resuming (a file-size limit standing in for a full
# disk) keeps the partial file and its runs; an empty partial file is
# removed.
#   commit_cli.sh PDSIM_BINARY TESTS_DIR
set -u
PDSIM=$1
TESTS=$(cd "$2" && pwd)
. "$(dirname "$0")/lib.sh"

RUNS=${PDSIM_TEST_COMMIT_RUNS:-4000000}
# small chunks: many commits in a run of a few seconds
absolute_config "$TESTS/data/run.yaml" "$TMP/c.yaml" -e 's/^chunk_runs: .*/chunk_runs: 2000/'
# the partial file is read while pdsim holds it open for writing
export HDF5_USE_FILE_LOCKING=FALSE

attr() { # file, root attribute: its value
    h5dump -a "/$2" "$1" 2>/dev/null | sed -n 's/^ *(0): *//p' | tr -d '"'
}

# Starts pdsim run with the arguments given, waits (up to 60 s) until the
# partial file P commits more than N runs, then kills it with SIGKILL.
kill9_after() { # partial file, runs, pdsim run arguments...
    part=$1 want=$2
    shift 2
    "$PDSIM" run "$@" 2>"$TMP/k9.err" &
    pid=$!
    i=0
    seen=
    while [ $i -lt 3000 ]; do
        seen=$(attr "$part" runs_done)
        [ -n "$seen" ] && [ "$seen" -gt "$want" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.02
        i=$((i + 1))
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid"
    echo "saw runs_done ${seen:-none} before SIGKILL"
}

check "uninterrupted reference run" "$PDSIM" run "$TMP/c.yaml" -q -n "$RUNS" -s 3 -j 2 -o "$TMP/ref.h5"

killed_then_resumed() {
    kill9_after "$TMP/k.h5.partial" 0 "$TMP/c.yaml" -q -n "$RUNS" -s 3 -j 1 -o "$TMP/k.h5"
    done_runs=$(attr "$TMP/k.h5.partial" runs_done)
    echo "after SIGKILL: runs_done ${done_runs:-none} of $RUNS"
    [ -n "$done_runs" ] && [ "$done_runs" -gt 0 ] && [ "$done_runs" -lt "$RUNS" ] || return 1
    "$PDSIM" run "$TMP/c.yaml" -n "$RUNS" -s 3 -j 2 --resume -o "$TMP/k.h5" >/dev/null 2>"$TMP/r.err" || {
        cat "$TMP/r.err"
        return 1
    }
    grep "resuming" "$TMP/r.err"
    grep -q "resuming .*k.h5.partial at run $done_runs of $RUNS" "$TMP/r.err" &&
        [ ! -e "$TMP/k.h5.partial" ] && [ "$(attr "$TMP/k.h5" complete)" = 1 ] &&
        h5diff "$TMP/ref.h5" "$TMP/k.h5" /runs /runs && h5diff "$TMP/ref.h5" "$TMP/k.h5"
}
check "SIGKILL mid-run: runs_done > 0 committed, --resume h5diff-identical" killed_then_resumed

# a resume that fails keeps the partial file and the runs in it
failed_resume_keeps() {
    kill9_after "$TMP/f.h5.partial" 20000 "$TMP/c.yaml" -q -n "$RUNS" -s 3 -j 1 -o "$TMP/f.h5"
    before=$(attr "$TMP/f.h5.partial" runs_done)
    [ -n "$before" ] && [ "$before" -gt 0 ] || return 1
    # room for a few hundred chunks more, far from the whole run
    limit=$(($(stat -c %s "$TMP/f.h5.partial") / 512 + 4000))
    (
        ulimit -f "$limit"
        trap '' XFSZ
        exec "$PDSIM" run "$TMP/c.yaml" -q -n "$RUNS" -s 3 -j 1 --resume -o "$TMP/f.h5"
    ) 2>"$TMP/f.err"
    rc=$?
    cat "$TMP/f.err"
    after=$(attr "$TMP/f.h5.partial" runs_done)
    echo "runs_done $before before the failed resume, ${after:-none} after"
    [ $rc -eq 1 ] && grep -q "f.h5: writing the results failed (disk full?)" "$TMP/f.err" &&
        grep -q "f.h5.partial: kept, with the $after of $RUNS runs saved in it; the same command with --resume continues" "$TMP/f.err" &&
        [ -f "$TMP/f.h5.partial" ] && [ ! -e "$TMP/f.h5" ] && [ "$after" -ge "$before" ] || return 1
    # summaries left by a finish that failed are dropped and rebuilt
    if PY=$(sh "$TESTS/../scripts/find-python.sh" h5py); then
        "$PY" -I -c 'import sys, h5py
with h5py.File(sys.argv[1], "r+") as f:
    f.create_group("summary").create_dataset("p_adopted_by_year", data=[1.0])' "$TMP/f.h5.partial" || return 1
    fi
    "$PDSIM" run "$TMP/c.yaml" -q -n "$RUNS" -s 3 -j 2 --resume -o "$TMP/f.h5" 2>"$TMP/f2.err" &&
        [ ! -e "$TMP/f.h5.partial" ] && h5diff "$TMP/ref.h5" "$TMP/f.h5"
}
check "resume on a full disk: exit 1, partial file kept with its runs, resumable" failed_resume_keeps

# an empty partial file (a full disk at create time) holds nothing to resume
empty_partial() {
    : >"$TMP/e.h5.partial"
    "$PDSIM" run "$TMP/c.yaml" -q -n 3000 -s 3 --resume -o "$TMP/e.h5" 2>"$TMP/e.err"
    rc=$?
    cat "$TMP/e.err"
    [ $rc -eq 0 ] && [ ! -e "$TMP/e.h5.partial" ] && [ "$(attr "$TMP/e.h5" complete)" = 1 ]
}
check "an empty partial file is removed, --resume starts at run 0" empty_partial
# a link at the partial name is never removed or followed
empty_link() {
    : >"$TMP/target"
    ln -s "$TMP/target" "$TMP/l.h5.partial"
    "$PDSIM" run "$TMP/c.yaml" -q -n 3000 -s 3 --resume -o "$TMP/l.h5" 2>"$TMP/l.err"
    rc=$?
    cat "$TMP/l.err"
    [ $rc -eq 2 ] && [ -L "$TMP/l.h5.partial" ] && [ -f "$TMP/target" ] && [ ! -s "$TMP/target" ]
}
check "a link to an empty file at the partial name is refused, not removed" empty_link
# a full disk at create time (no room at all) leaves no partial file
no_room() {
    (
        ulimit -f 0
        trap '' XFSZ
        exec "$PDSIM" run "$TMP/c.yaml" -q -n 3000 -s 3 -o "$TMP/z.h5"
    ) 2>"$TMP/z.err"
    rc=$?
    cat "$TMP/z.err"
    [ $rc -eq 1 ] && [ -z "$(find "$TMP" -name 'z.h5*')" ]
}
check "no room at all: exit 1, nothing left" no_room

finish
