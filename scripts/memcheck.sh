#!/bin/sh
# Valgrind memcheck over the test suite: the unit tests, the fuzz corpus
# replays, and the command-line tests with pdsim run under valgrind (each
# pdsim process writes its own log). Debug build in build-debug/. Exit 0
# only when no log reports an error (invalid access, uninitialised value,
# definite or indirect leak). Takes about 20 minutes on 2 cores: it is not part
# of CI (see docs/robustness.md).
#   scripts/memcheck.sh
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/install-deps.sh memcheck
cmake --preset debug >/dev/null
nice -n 19 cmake --build --preset debug -j 2 >/dev/null

logs=$root/build-debug/memcheck
rm -rf "$logs"
mkdir -p "$logs"
vg="valgrind --error-exitcode=99 --child-silent-after-fork=yes --leak-check=full --errors-for-leak-kinds=definite,indirect
    --show-leak-kinds=definite,indirect --suppressions=$root/tests/valgrind.supp
    --log-file=$logs/%p.log"

# pdsim under valgrind, for the command-line test scripts
wrap=$root/build-debug/pdsim-memcheck
printf '#!/bin/sh\nexec %s %s "$@"\n' "$(echo "$vg" | tr '\n' ' ')" "$root/build-debug/pdsim" >"$wrap"
chmod +x "$wrap"

status=0
step() { # name, command...
    name=$1
    shift
    start=$(date +%s)
    if nice -n 19 "$@" >"$logs/$name.out" 2>&1; then
        r=ok
    else
        r=FAILED
        status=1
    fi
    echo "memcheck.sh: $name: $r ($(($(date +%s) - start)) s)"
}

for t in test_pcg test_engine test_io test_pp test_fit test_h5util test_backtest; do
    # shellcheck disable=SC2086
    step "unit.$t" $vg "build-debug/tests/$t"
done
for h in csv config model h5result sweep; do
    # shellcheck disable=SC2086
    step "replay.$h" $vg "build-debug/tests/fuzz/replay_$h" "tests/corpus/$h"
done
# signals must arrive after the set-up, which valgrind slows down
export PDSIM_TEST_KILL_AFTER=3
step cli.run sh tests/cli/run_cli.sh "$wrap" tests
step cli.bad_inputs sh tests/cli/bad_inputs.sh "$wrap" tests/bad-inputs
step cli.compare sh tests/cli/compare_cli.sh "$wrap" tests
step cli.fit sh tests/cli/fit_cli.sh "$wrap" "$root"
step cli.describe sh tests/cli/describe_cli.sh "$wrap" "$root"
step cli.backtest sh tests/cli/backtest_cli.sh "$wrap" "$root"
PDSIM_TEST_INTERRUPT_RUNS=1000000 PDSIM_TEST_KILL_SPAN=1 \
    step cli.robust sh tests/cli/robust_cli.sh "$wrap" tests

# a log without a summary is a child forked by system() that then exec'd
n=$(grep -l "ERROR SUMMARY:" "$logs"/*.log | wc -l)
bad=$(grep -l -E "ERROR SUMMARY: [1-9]" "$logs"/*.log | wc -l)
echo "memcheck.sh: $n pdsim and test processes checked, $bad with errors (logs in $logs)"
[ "$bad" -eq 0 ] || status=1
exit $status
