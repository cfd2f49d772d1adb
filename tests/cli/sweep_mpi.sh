#!/bin/sh
# Split invariance under MPI: the merged sweep from mpirun -np 2 and -np 3
# (ranks share the points, rank 0 merges) equals the one-process result.
#   sweep_mpi.sh PDSIM_BINARY TESTS_DIR MPIEXEC
set -u
PDSIM=$1
TESTS=$(cd "$2" && pwd)
MPIEXEC=$3
. "$(dirname "$0")/lib.sh"
D=$TESTS/data
# the test runs as root in CI containers, on fewer cores than ranks
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMP_NUM_THREADS=1

same_results() { # a.h5 b.h5 datasets...
    a=$1
    b=$2
    shift 2
    h5dump -a /complete "$b" | grep -q "(0): 1" || return 1
    for d in "$@"; do
        h5diff "$a" "$b" "$d" "$d" >/dev/null || { echo "differs: $d"; return 1; }
    done
}
RESULTS="/design/points /points/national_adopted_mean /points/national_adopted_quantiles
/points/p_all_adopted /points/median_year /points/seed"

for s in grid sobol; do
    "$PDSIM" sweep "$D/sweep_$s.yaml" -q -o "$TMP/$s-1" -m "$TMP/$s-1.h5" 2>>"$TMP/runs.err"
    for np in 2 3; do
        timeout -k 5 120 "$MPIEXEC" -n $np "$PDSIM" sweep "$D/sweep_$s.yaml" -q \
            -o "$TMP/$s-$np" -m "$TMP/$s-$np.h5" >/dev/null 2>>"$TMP/runs.err"
        extra=""
        [ $s = sobol ] && extra="/sobol/first_order /sobol/total"
        # $RESULTS and $extra are split into words on purpose
        check "$s: mpirun -np $np = 1 process (h5diff)" same_results "$TMP/$s-1.h5" "$TMP/$s-$np.h5" $RESULTS $extra
        check "$s: mpirun -np $np wrote $np parts" test "$(ls "$TMP/$s-$np" | wc -l)" -eq $np
    done
done
refuses_task_flags() {
    status_is 2 timeout -k 5 60 "$MPIEXEC" -n 2 "$PDSIM" sweep "$D/sweep_grid.yaml" -q --task 0 --tasks 2 \
        -o "$TMP/flags" && grep -q "ranks share the tasks" "$TMP/s.err"
}
check "under mpirun, --task/--tasks are refused" refuses_task_flags
bad_spec_once() {
    status_is 2 timeout -k 5 60 "$MPIEXEC" -n 2 "$PDSIM" sweep "$TESTS/bad-sweeps/range-empty/sweep.yaml" -q \
        -o "$TMP/bad" && [ "$(grep -c "sweep.yaml:6:23: .* is empty" "$TMP/s.err")" -eq 1 ] && [ ! -e "$TMP/bad" ]
}
check "under mpirun, a bad sweep file: exit 2, one message, no output" bad_spec_once
[ -s "$TMP/runs.err" ] && sed 's/^/    /' "$TMP/runs.err" | head -20
finish
