#!/bin/sh
# A real Slurm: start a one-node cluster on this host (munge and Slurm
# daemons configured in a temporary folder, on free ports), submit one of
# the project's own job scripts, wait, and compare the merged sweep with the
# one-task sweep (h5diff). MODE array: scripts/slurm/sweep-array.sbatch as a
# 3-task array, then pdsim merge; MODE mpi (an MPI build of pdsim):
# scripts/slurm/sweep-mpi.sbatch with 2 tasks, whose rank 0 merges. Stops
# the daemons and removes everything on exit; every wait is bounded. Exit 77
# (skipped) when not root or Slurm/munge are not installed.
#   slurm_array.sh PDSIM_BINARY SOURCE_DIR [array|mpi]
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
    for f in "$T"/*.log; do
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

# the reference: the same sweep in one task
SWEEP=$SRC/tests/data/sweep_grid.yaml
"$PDSIM" sweep "$SWEEP" -q -o "$T/one" -m "$T/one.h5" || fail "the one-task sweep failed"

if [ "$MODE" = mpi ]; then
    JOB=$(timeout 20 sbatch --parsable --ntasks=2 --cpus-per-task=1 --mem-per-cpu=100M --time=5 \
        --chdir="$T" --output="$T/job.log" \
        --export="ALL,PDSIM=$PDSIM,SWEEP=$SWEEP,PARTS=$T/parts,MERGED=$T/merged.h5,OMPI_ALLOW_RUN_AS_ROOT=1,OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1" \
        "$SRC/scripts/slurm/sweep-mpi.sbatch") || fail "sbatch failed"
    TASKS=2
else
    JOB=$(timeout 20 sbatch --parsable --array=0-2 --cpus-per-task=1 --mem=100M --time=5 \
        --chdir="$T" --output="$T/task-%a.log" \
        --export="ALL,PDSIM=$PDSIM,SWEEP=$SWEEP,PARTS=$T/parts" \
        "$SRC/scripts/slurm/sweep-array.sbatch") || fail "sbatch failed"
    TASKS=3
fi
JOB=${JOB%%;*}
echo "ok submitted $MODE job $JOB"

i=0
while [ -n "$(timeout 5 squeue -h -j "$JOB" 2>/dev/null)" ]; do
    i=$((i + 1))
    [ $i -lt 180 ] || fail "the job did not finish within 90 s"
    sleep 0.5
done
JOB=""
t=0
while [ $t -lt $TASKS ]; do
    [ -f "$T/parts/part-000$t-of-000$TASKS.h5" ] || fail "task $t wrote no part (see the job log)"
    t=$((t + 1))
done
echo "ok $TASKS tasks wrote $TASKS parts"

if [ "$MODE" = array ]; then
    "$PDSIM" merge "$T/parts" -q -o "$T/merged.h5" || fail "merge failed"
fi
for d in /design/points /points/national_adopted_mean /points/national_adopted_quantiles \
    /points/p_all_adopted /points/median_year /points/seed; do
    h5diff "$T/one.h5" "$T/merged.h5" "$d" "$d" >/dev/null || fail "$d differs from the one-task sweep"
done
echo "ok merged $MODE result = one-task result (h5diff)"
