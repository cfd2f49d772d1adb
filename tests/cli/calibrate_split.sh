#!/bin/sh
# `pdsim calibrate` split into tasks: the step / task loop in separate
# processes (as a cluster runs it) gives the generation files of a run in
# one process byte for byte, for 2 and 3 tasks, tasks in any order, all
# tasks in one process (--tasks N), a task killed by kill -9 in the middle
# of a generation and rerun (the temporary file of a part write it may
# leave is removed with the generation's parts), and a plain run
# continuing a split one; the
# options' errors; a Slurm array task's ID is its task.
#   calibrate_split.sh PDSIM_BINARY TESTS_DIR
set -u
PDSIM=$1
TESTS=$(cd "$2" && pwd)
. "$(dirname "$0")/lib.sh"
D=$TESTS/data
sed -e "s|^config: |config: $D/|" "$D/calibrate_small.yaml" >"$TMP/cal.yaml"
CAL=$TMP/cal.yaml

same_dirs() { # a b: identical generation files and results, nothing else left
    for f in "$1"/gen-*.csv "$1/posterior.csv" "$1/generations.csv"; do
        cmp -s "$f" "$2/$(basename "$f")" || { echo "differs: $(basename "$f")"; return 1; }
    done
    [ "$(ls "$1" | wc -l)" -eq "$(ls "$2" | wc -l)" ] || { ls "$1" "$2"; return 1; }
}

# the loop a cluster runs: a step, then the tasks of its plan (in the order
# given), until the step says finished
split_loop() { # CAL DIR TASKS ORDER...
    _cal=$1 _dir=$2 _n=$3
    shift 3
    _rounds=0
    while [ $_rounds -lt 100 ]; do
        _out=$("$PDSIM" calibrate "$_cal" -q --tasks "$_n" --step -d "$_dir") || return 1
        case $_out in
        finished*) echo "$_rounds rounds" >"$_dir.rounds"; return 0 ;;
        continue*) ;;
        *) echo "step printed: $_out"; return 1 ;;
        esac
        for _i in "$@"; do
            "$PDSIM" calibrate "$_cal" -q -j 1 --tasks "$_n" --task "$_i" -d "$_dir" || return 1
        done
        _rounds=$((_rounds + 1))
    done
    return 1
}

check "one process" "$PDSIM" calibrate "$CAL" -q -j 1 -d "$TMP/one"
check "2 tasks, step and tasks in separate processes" split_loop "$CAL" "$TMP/t2" 2 0 1
check "  ... byte for byte the one-process result" same_dirs "$TMP/one" "$TMP/t2"
check "3 tasks" split_loop "$CAL" "$TMP/t3" 3 0 1 2
check "  ... byte for byte" same_dirs "$TMP/one" "$TMP/t3"
check "3 tasks in the order 2 0 1" split_loop "$CAL" "$TMP/t3r" 3 2 0 1
check "  ... byte for byte" same_dirs "$TMP/one" "$TMP/t3r"
check "5 tasks, all in one process (--tasks 5)" "$PDSIM" calibrate "$CAL" -q -j 2 --tasks 5 -d "$TMP/t5"
check "  ... byte for byte" same_dirs "$TMP/one" "$TMP/t5"
check "the step printed the posterior when finished" sh -c "'$PDSIM' calibrate '$CAL' --tasks 2 --step -d '$TMP/t2' 2>/dev/null | sed -n '1p;3p' | tr '\n' ' ' | grep -q '^finished	generations=5 parameter	mean'"
check "a task of a finished calibration has nothing to do" sh -c "'$PDSIM' calibrate '$CAL' --tasks 2 --task 1 -d '$TMP/t2' 2>&1 | grep -q 'nothing to do'"

# a plain run continues a split calibration
mkdir "$TMP/mix"
cp "$TMP/one/gen-0000.csv" "$TMP/one/gen-0001.csv" "$TMP/mix/"
"$PDSIM" calibrate "$CAL" -q --tasks 2 --step -d "$TMP/mix" >/dev/null
"$PDSIM" calibrate "$CAL" -q -j 1 --tasks 2 --task 1 -d "$TMP/mix"
check "a part and a plan of generation 2 are there" sh -c "ls '$TMP/mix/gen-0002.plan' '$TMP/mix/gen-0002.part-0001-of-0002.csv'"
check "a plain run continues the split calibration" "$PDSIM" calibrate "$CAL" -q -d "$TMP/mix"
rm -f "$TMP/mix"/gen-0002.p*
check "  ... byte for byte" same_dirs "$TMP/one" "$TMP/mix"

# kill -9 of a task in the middle of a generation, then the rerun
sed -e 's/^particles: 200/particles: 3000/' -e 's/^generations: 5/generations: 4/' "$CAL" >"$TMP/long.yaml"
check "one process (3000 particles)" "$PDSIM" calibrate "$TMP/long.yaml" -q -j 1 -d "$TMP/lone"
killed=0
r=0
while [ $r -lt 20 ]; do
    r=$((r + 1))
    out=$("$PDSIM" calibrate "$TMP/long.yaml" -q --tasks 2 --step -d "$TMP/k") || break
    case $out in continue*) ;; *) break ;; esac
    g=$(echo "$out" | sed -n 's/.*generation=\([0-9]*\).*/\1/p')
    "$PDSIM" calibrate "$TMP/long.yaml" -q -j 1 --tasks 2 --task 0 -d "$TMP/k"
    if [ $g -ge 2 ] && [ $killed -eq 0 ]; then
        part=$(printf '%s/k/gen-%04d.part-0001-of-0002.csv' "$TMP" $g)
        "$PDSIM" calibrate "$TMP/long.yaml" -q -j 1 --tasks 2 --task 1 -d "$TMP/k" &
        pid=$!
        i=0
        while [ ! -f "$part" ] && [ $i -lt 1000 ] && kill -0 $pid 2>/dev/null; do
            sleep 0.01
            i=$((i + 1))
        done
        kill -9 $pid 2>/dev/null
        wait $pid 2>/dev/null
        # killed before its share was made: its part covers less than the plan
        target=$(sed -n 's/.*proposals=\([0-9]*\).*/\1/p' "$(printf '%s/k/gen-%04d.plan' "$TMP" $g)")
        covered=$(sed -n '1s/.*covered=\([0-9]*\).*/\1/p' "$part")
        if [ -n "$covered" ] && [ -n "$target" ] && [ "$covered" -lt "$target" ]; then
            killed=1
            # as if killed while writing its part: the step removes the leftover
            : >"$part.tmp.999999"
            check "task 1 killed in generation $g with its part at $covered of $target" true
            check "  ... its rerun resumes there" sh -c "'$PDSIM' calibrate '$TMP/long.yaml' -j 1 --tasks 2 --task 1 -d '$TMP/k' 2>&1 | grep -q 'resumed at $covered'"
            continue
        fi
    fi
    "$PDSIM" calibrate "$TMP/long.yaml" -q -j 1 --tasks 2 --task 1 -d "$TMP/k"
done
check "a task was killed in the middle of a generation" [ $killed -eq 1 ]
check "the loop finishes after the kill" split_loop "$TMP/long.yaml" "$TMP/k" 2 1 0
check "  ... byte for byte the one-process result" same_dirs "$TMP/lone" "$TMP/k"

# a Slurm array task: SLURM_ARRAY_TASK_ID is the task; --tasks fixes the count
check "SLURM_ARRAY_TASK_ID=1 is task 1" sh -c "SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=1 '$PDSIM' calibrate '$CAL' -q --tasks 3 -d '$TMP/s' && ls '$TMP/s/gen-0000.part-0001-of-0003.csv' && [ \$(ls '$TMP/s' | wc -l) -eq 1 ]"
check "an array task without --tasks is exit 2" sh -c "SLURM_ARRAY_TASK_ID=1 '$PDSIM' calibrate '$CAL' -q -d '$TMP/s2' 2>'$TMP/e'; [ \$? -eq 2 ] && grep -q 'needs the number of tasks fixed' '$TMP/e' && [ ! -e '$TMP/s2' ]"
check "SLURM_ARRAY_TASK_ID=3 of 3 tasks is exit 2" status_is 2 env SLURM_ARRAY_TASK_ID=3 "$PDSIM" calibrate "$CAL" -q --tasks 3 -d "$TMP/s"
check "--task without --tasks is exit 2" status_is 2 "$PDSIM" calibrate "$CAL" --task 0 -d "$TMP/s"
check "--step without --tasks is exit 2" status_is 2 "$PDSIM" calibrate "$CAL" --step -d "$TMP/s"
check "--tasks 0 is exit 2" status_is 2 "$PDSIM" calibrate "$CAL" --tasks 0 -d "$TMP/s"
# a part of another calibration in the way
sed -e 's/^seed: 21/seed: 22/' "$CAL" >"$TMP/other.yaml"
check "a part of another calibration is refused (exit 2)" sh -c "'$PDSIM' calibrate '$TMP/other.yaml' -q --tasks 3 --step -d '$TMP/s' 2>'$TMP/e'; [ \$? -eq 2 ] && grep -q 'part-0001-of-0003.csv:1: belongs to another calibration' '$TMP/e'"
finish
