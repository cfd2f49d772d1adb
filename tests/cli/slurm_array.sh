#!/bin/sh
# A real Slurm: start a one-node cluster on this host (munge and Slurm
# daemons configured in a temporary folder, on free ports), submit one of
# the project's own job scripts, wait, and compare the merged sweep with the
# one-task sweep (h5diff). MODE array: `pdsim sweep --submit` of a 3-task
# sweep (scripts/slurm/sweep-array.sbatch and sweep-merge.sbatch), one task
# killed and rerun alone with the printed command; MODE mpi (an MPI build):
# scripts/slurm/sweep-mpi.sbatch with 2 tasks, whose rank 0 merges. Stops
# the daemons and removes everything on exit; every wait is bounded. Exit 77
# (skipped) when not root or Slurm/munge are not installed. MODE calibrate:
# scripts/slurm/calibrate-submit.sh of a calibration in 2 tasks, compared
# with the calibration in one process.
#   slurm_array.sh PDSIM_BINARY SOURCE_DIR [array|mpi|calibrate]
set -u
PDSIM=$1
SRC=$(cd "$2" && pwd)
MODE=${3:-array}
case $PDSIM in /*) ;; *) PDSIM=$(pwd)/$PDSIM ;; esac

if [ "$(id -u)" -ne 0 ]; then
    echo "skip: starting Slurm daemons needs root"
    exit 77
fi
if [ "$MODE" = mpi ] && ! command -v mpirun >/dev/null 2>&1; then
    echo "skip: mpirun not found (Debian package openmpi-bin)"
    exit 77
fi
for cmd in munged mungekey slurmctld slurmd sbatch squeue sinfo scancel; do
    if ! command -v "$cmd" >/dev/null 2>&1; then
        echo "skip: $cmd not found (Debian packages slurm-wlm and munge)"
        exit 77
    fi
done

T=$(mktemp -d /tmp/pdsim-slurm.XXXXXX)
chmod 755 "$T"
PIDS=""
JOB=""
cleanup() {
    [ -n "$JOB" ] && SLURM_CONF=$T/slurm.conf timeout 10 scancel "$JOB" 2>/dev/null
    for p in $PIDS; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in $PIDS; do
        i=0
        while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do
            sleep 0.2
            i=$((i + 1))
        done
        kill -KILL "$p" 2>/dev/null
    done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
    echo "FAIL $*"
    for f in "$T"/*.log "$T"/work/logs/*.log; do
        [ -f "$f" ] && { echo "--- ${f##*/}"; tail -n 15 "$f"; }
    done
    exit 1
}

# free ports: the first of a few candidates that nothing listens on
port_free() {
    ! (ss -ltn 2>/dev/null || netstat -ltn 2>/dev/null) | awk '{print $4}' | grep -q "[:.]$1\$"
}
base=$((20000 + $$ % 20000))
while ! port_free $base || ! port_free $((base + 1)); do
    base=$((base + 2))
done

# munge with its own key and socket
mungekey -c -k "$T/munge.key" 2>/dev/null || dd if=/dev/urandom of="$T/munge.key" bs=1024 count=1 2>/dev/null
chmod 600 "$T/munge.key"
munged -F --force --key-file="$T/munge.key" --socket="$T/munge.sock" --pid-file="$T/munged.pid" \
    --log-file="$T/munged.log" --seed-file="$T/munged.seed" >/dev/null 2>&1 &
PIDS="$PIDS $!"

node=$(hostname -s)
mkdir "$T/state" "$T/spool"
cat >"$T/slurm.conf" <<CONF
ClusterName=pdsimtest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$base
SlurmdPort=$((base + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$T/munge.sock
CredType=cred/munge
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
PlugStackConfig=$T/plugstack.conf
NodeName=$node NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=500 State=UNKNOWN
PartitionName=pdsim Nodes=$node Default=YES MaxTime=10 State=UP
CONF
: >"$T/plugstack.conf"
export SLURM_CONF="$T/slurm.conf"

i=0
while [ ! -S "$T/munge.sock" ] && [ $i -lt 50 ]; do
    sleep 0.2
    i=$((i + 1))
done
[ -S "$T/munge.sock" ] || fail "munged did not start"

slurmctld -D -c -f "$T/slurm.conf" >"$T/slurmctld.out.log" 2>&1 &
PIDS="$PIDS $!"
slurmd -D -f "$T/slurm.conf" -N "$node" >"$T/slurmd.out.log" 2>&1 &
PIDS="$PIDS $!"

i=0
until [ "$(timeout 5 sinfo -h -o %t 2>/dev/null)" = idle ]; do
    i=$((i + 1))
    [ $i -lt 60 ] || fail "the node did not become idle within 30 s"
    sleep 0.5
done
echo "ok one-node Slurm up (ports $base, $((base + 1)))"

wait_gone() { # job id, max half-seconds: until squeue no longer lists it
    i=0
    while [ -n "$(timeout 5 squeue -h -j "$1" 2>/dev/null)" ]; do
        i=$((i + 1))
        [ $i -lt "$2" ] || fail "job $1 did not finish in time"
        sleep 0.5
    done
}
same_as_one() { # merged file
    for d in /design/points /points/national_adopted_mean /points/national_adopted_quantiles \
        /points/p_all_adopted /points/median_year /points/seed; do
        h5diff "$T/one.h5" "$1" "$d" "$d" >/dev/null || fail "$d differs from the one-task sweep"
    done
}

if [ "$MODE" = mpi ]; then
    # the reference: the same sweep in one task
    SWEEP=$SRC/tests/data/sweep_grid.yaml
    "$PDSIM" sweep "$SWEEP" -q -o "$T/one" -m "$T/one.h5" || fail "the one-task sweep failed"
    JOB=$(timeout 20 sbatch --parsable --ntasks=2 --cpus-per-task=1 --mem-per-cpu=100M --time=5 \
        --chdir="$T" --output="$T/job.log" \
        --export="ALL,PDSIM=$PDSIM,SWEEP=$SWEEP,PARTS=$T/parts,MERGED=$T/merged.h5,OMPI_ALLOW_RUN_AS_ROOT=1,OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1" \
        "$SRC/scripts/slurm/sweep-mpi.sbatch") || fail "sbatch failed"
    JOB=${JOB%%;*}
    echo "ok submitted $MODE job $JOB"
    wait_gone "$JOB" 180
    JOB=""
    for t in 0 1; do
        [ -f "$T/parts/part-000$t-of-0002.h5" ] || fail "task $t wrote no part (see the job log)"
    done
    echo "ok 2 tasks wrote 2 parts"
    same_as_one "$T/merged.h5"
    echo "ok merged $MODE result = one-task result (h5diff)"
    exit 0
fi

if [ "$MODE" = calibrate ]; then
    # scripts/slurm/calibrate-submit.sh: a calibration in 2 tasks, the step
    # job submitting each round's array and the next step, until finished;
    # the generation files are those of one process
    sed -e "s|^config: |config: $SRC/tests/data/|" "$SRC/tests/data/calibrate_small.yaml" >"$T/cal.yaml"
    "$PDSIM" calibrate "$T/cal.yaml" -q -d "$T/onecal" || fail "the one-process calibration failed"
    mkdir "$T/work"
    cd "$T/work" || fail "no work folder"
    PDSIM=$PDSIM DIR=$T/cal "$SRC/scripts/slurm/calibrate-submit.sh" "$T/cal.yaml" 2 -- \
        --cpus-per-task=1 --mem=100M --time=5 >"$T/submit.out" 2>&1 ||
        { cat "$T/submit.out"; fail "calibrate-submit.sh failed"; }
    JOB=$(awk '$1 == "step_job" {print $2}' "$T/submit.out")
    [ -n "$JOB" ] || { cat "$T/submit.out"; fail "calibrate-submit.sh printed no job id"; }
    echo "ok calibrate-submit.sh: step job $JOB"
    i=0
    until [ -f "$T/cal/posterior.csv" ] && [ -z "$(timeout 5 squeue -h 2>/dev/null)" ]; do
        i=$((i + 1))
        [ $i -lt 360 ] || fail "the calibration did not finish within 180 s"
        [ -n "$(timeout 5 squeue -h 2>/dev/null)" ] || [ -f "$T/cal/posterior.csv" ] ||
            [ $i -lt 20 ] || fail "no job left and no posterior (see the logs)"
        sleep 0.5
    done
    JOB=""
    steps=$(ls "$T/work/logs" | grep -c '^pdsim-calibrate-step-[0-9]*[.]log$')
    arrays=$(ls "$T/work/logs" | grep -c '^pdsim-calibrate-[0-9]*_[01][.]log$')
    [ "$steps" -ge 6 ] && [ "$arrays" -eq $((2 * (steps - 1))) ] ||
        { ls "$T/work/logs"; fail "expected a step per round and 2 array tasks between steps"; }
    grep -q '^finished' "$T/work/logs"/pdsim-calibrate-step-*.log || fail "no step finished"
    for f in "$T/onecal"/*; do
        cmp -s "$f" "$T/cal/${f##*/}" || fail "${f##*/} differs from the one-process calibration"
    done
    [ "$(ls "$T/cal" | wc -l)" -eq "$(ls "$T/onecal" | wc -l)" ] || { ls "$T/cal"; fail "files left"; }
    echo "ok $steps steps, $((steps - 1)) arrays of 2 tasks; the result = one process (cmp)"
    exit 0
fi

# The array: a sweep file that fixes its split (tasks: 3) and its own
# output folder, submitted by pdsim sweep --submit from the folder $T/work.
# Task 1 is killed (SIGKILL, as by a node failure) after its first point,
# rerun alone with the command --submit printed, and merged; the result is
# the one-task sweep's.
mkdir "$T/work" "$T/sweep"
sed -e "s|^config: run.yaml|config: $SRC/tests/data/run.yaml|" \
    -e "s|^runs_per_point: .*|runs_per_point: 200000|" -e "s|^chunk_runs: .*|chunk_runs: 4096|" \
    "$SRC/tests/data/sweep_grid.yaml" >"$T/sweep/grid.yaml"
printf 'tasks: 3\noutput: parts\nmerged: grid.h5\n' >>"$T/sweep/grid.yaml"
SWEEP=$T/sweep/grid.yaml
PARTS=$T/sweep/parts
"$PDSIM" sweep "$SWEEP" -q --tasks 1 -o "$T/one" -m "$T/one.h5" || fail "the one-task sweep failed"

cd "$T/work" || fail "no work folder"
"$PDSIM" sweep "$SWEEP" --submit -- --cpus-per-task=1 --mem=100M --time=5 >"$T/submit.out" \
    2>"$T/submit.err" || { cat "$T/submit.out" "$T/submit.err"; fail "pdsim sweep --submit failed"; }
JOB=$(awk '$1 == "array_job" {print $2}' "$T/submit.out")
MJOB=$(awk '$1 == "merge_job" {print $2}' "$T/submit.out")
[ -n "$JOB" ] && [ -n "$MJOB" ] || { cat "$T/submit.out"; fail "--submit printed no job ids"; }
grep -q "squeue -j $JOB,$MJOB" "$T/submit.out" || fail "--submit says not how to watch the jobs"
RERUN=$(sed -n '/rerun task I alone/{n;s/^#   //p;}' "$T/submit.out")
REMERGE=$(sed -n '/merge with$/{n;s/^#   //p;}' "$T/submit.out")
[ -n "$RERUN" ] && [ -n "$REMERGE" ] || { cat "$T/submit.out"; fail "--submit says not how to rerun a task and merge"; }
echo "ok --submit: array job $JOB, merge job $MJOB after it"

# kill task 1 once its first point is in its part
i=0
until [ "$(HDF5_USE_FILE_LOCKING=FALSE h5dump -a /points_done "$PARTS/part-0001-of-0003.h5.partial" 2>/dev/null |
    sed -n 's/.*(0): \([0-9]*\).*/\1/p')" -ge 1 ] 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 600 ] || fail "task 1 did not finish a point within 60 s"
    [ -f "$PARTS/part-0001-of-0003.h5" ] && fail "task 1 finished before it could be killed"
    sleep 0.1
done
timeout 10 scancel --full --signal=KILL "${JOB}_1" || fail "scancel failed"
wait_gone "$JOB" 180
[ -f "$PARTS/part-0001-of-0003.h5.partial" ] && [ ! -f "$PARTS/part-0001-of-0003.h5" ] ||
    fail "killed task 1 left no unfinished part"
for t in 0 2; do
    [ -f "$PARTS/part-000$t-of-0003.h5" ] || fail "task $t wrote no part (see its log)"
done
[ "$(ls "$T/work/logs" | grep -c "^grid-${JOB}_[012][.]log\$")" -eq 3 ] ||
    { ls "$T/work/logs"; fail "the logs folder lacks the three task logs"; }
[ ! -e "$T/work/parts" ] && [ "$(ls "$PARTS" | wc -l)" -eq 3 ] ||
    { ls "$PARTS"; fail "parts outside the sweep file's output folder"; }
echo "ok task 1 killed after its first point; tasks 0 and 2 complete; logs in logs/"

# the merge job waits for ever (its dependency cannot be met): cancel it
timeout 10 scancel "$MJOB"
wait_gone "$MJOB" 60
RERUN=$(printf '%s\n' "$RERUN" | sed 's/--array=I/--array=1/')
JOB=$(eval "$RERUN") || fail "the rerun command failed: $RERUN"
JOB=${JOB%%;*}
MJOB=$(eval "$(printf '%s\n' "$REMERGE" | sed "s/RERUN_JOB/$JOB/")") || fail "the merge command failed: $REMERGE"
MJOB=${MJOB%%;*}
wait_gone "$JOB" 180
wait_gone "$MJOB" 180
JOB=""
log=$(ls "$T/work/logs"/grid-*_1.log | tail -n 1)
grep -q "resuming after [1-9]" "$T/work/logs"/grid-*_1.log || fail "the rerun did not resume task 1"
if grep -h "point .* done" "$T/work/logs"/grid-*_1.log | grep -v -q "task 1 of 3: point [4-7] done"; then
    fail "the rerun of task 1 computed points outside its share 4-7"
fi
[ "$(ls "$PARTS" | wc -l)" -eq 3 ] || { ls "$PARTS"; fail "the rerun left other parts"; }
[ -f "$T/sweep/grid.h5" ] || { cat "$T/work/logs"/grid-merge-*.log; fail "the merge job wrote no merged file"; }
echo "ok rerun of task 1 alone resumed it (points 4-7 only); the merge job merged"
same_as_one "$T/sweep/grid.h5"
echo "ok merged array result after kill and rerun = one-task result (h5diff)"
