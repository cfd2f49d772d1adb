#!/bin/sh
# Part files whose attributes or datasets were edited (with h5py) claim
# absurd sizes: merge refuses each (exit 2, file named), without a crash,
# a hang or an output file, and a sweep task refuses to resume a partial
# part whose datasets are wider than its sweep's. Result files that claim
# more runs, units or years than they hold are refused by summary and
# compare at once.
#   forged_files.sh PDSIM_BINARY TESTS_DIR
set -u
PDSIM=$1
TESTS=$(cd "$2" && pwd)
. "$TESTS/cli/lib.sh"
PY=${PDSIM_PYTHON:-/usr/bin/python3}
FORGE="$PY -I $TESTS/cli/forge_part.py"
if ! "$PY" -I -c "import h5py" 2>/dev/null; then
    echo "skipped: no h5py for $PY"
    exit 77
fi
sed "s|^config: .*|config: $TESTS/data/run.yaml|" "$TESTS/data/sweep_sobol.yaml" >"$TMP/sobol.yaml"
for t in 0 1; do
    "$PDSIM" sweep "$TMP/sobol.yaml" -q --task $t --tasks 2 -o "$TMP/parts" || exit 1
done
P0=part-0000-of-0002.h5
P1=part-0001-of-0002.h5

# merge of a copy of the parts, with ATTR = VALUE in the parts named
refused_merge() { # attribute value parts...
    a=$1 v=$2
    shift 2
    rm -rf "$TMP/t" "$TMP/m.h5"
    cp -r "$TMP/parts" "$TMP/t"
    for p in "$@"; do
        $FORGE "$TMP/t/$p" "$a" "$v" || return 1
    done
    status_is 2 timeout -k 2 30 "$PDSIM" merge "$TMP/t" -o "$TMP/m.h5" &&
        ! grep -q -e Sanitizer -e 'runtime error' "$TMP/s.err" &&
        grep -q -F "$TMP/t/part-" "$TMP/s.err" && [ ! -e "$TMP/m.h5" ] &&
        [ -z "$(ls "$TMP" | grep 'm\.h5\.')" ]
}

check "merge works on the unedited parts" "$PDSIM" merge "$TMP/parts" -q -o "$TMP/ok.h5"
check "tasks = 2^61 in every part" refused_merge tasks 2305843009213693952 $P0 $P1
check "tasks = 2^20 + 1 in every part" refused_merge tasks 1048577 $P0 $P1
check "sobol_base_samples larger than the design" refused_merge sobol_base_samples 1000 $P0
check "sobol_base_samples = 0 for a sobol design" refused_merge sobol_base_samples 0 $P0
check "bootstrap = 2^61" refused_merge bootstrap 2305843009213693952 $P0
check "bootstrap = -1" refused_merge bootstrap -1 $P0
check "bootstrap = 2^31" refused_merge bootstrap 2147483648 $P0
check "first_year = INT64_MIN" refused_merge first_year -9223372036854775808 $P0
check "last_year = INT64_MAX" refused_merge last_year 9223372036854775807 $P0
check "base_year far from first_year" refused_merge base_year -9223372036854775808 $P0
check "n_points = 10^7" refused_merge n_points 10000000 $P0
check "n_points = 2^63" refused_merge n_points 9223372036854775808 $P0 $P1
check "end_point past the design" refused_merge end_point 4611686018427387904 $P1

# a partial part whose datasets are wider than the sweep's: never resumed
rm -rf "$TMP/w"
mkdir "$TMP/w"
cp "$TMP/parts/$P0" "$TMP/w/$P0.partial"
$FORGE "$TMP/w/$P0.partial" --partial
$FORGE "$TMP/w/$P0.partial" --widen /points/median_year 4096
cp "$TMP/w/$P0.partial" "$TMP/w.keep"
check "resuming a partial part with a wider dataset is refused, the partial kept" \
    sh -c '
    timeout -k 2 60 "$1" sweep "$2" -q --task 0 --tasks 2 -o "$3" 2>"$4"
    [ $? -eq 2 ] && grep -q "datasets are not of" "$4" && ! grep -q Sanitizer "$4" &&
        cmp -s "$3/$5.partial" "$6" && [ ! -e "$3/$5" ]' \
    sh "$PDSIM" "$TMP/sobol.yaml" "$TMP/w" "$TMP/w.err" "$P0" "$TMP/w.keep"

# result files claiming more than they hold
"$PDSIM" run "$TESTS/data/run.yaml" -q -n 2000 -o "$TMP/a.h5" 2>/dev/null ||
    { absolute_config "$TESTS/data/run.yaml" "$TMP/run.yaml" &&
        "$PDSIM" run "$TMP/run.yaml" -q -n 2000 -o "$TMP/a.h5"; } || exit 1
refused_result() { # name, then forge_result.py arguments after IN OUT
    n=$1
    shift
    $PY -I "$TESTS/cli/forge_result.py" "$TMP/a.h5" "$TMP/$n.h5" "$@" || return 1
    for cmd in summary compare; do
        if [ $cmd = summary ]; then
            set -- summary "$TMP/$n.h5"
        else
            set -- compare "$TMP/$n.h5" "$TMP/$n.h5"
        fi
        status_is 2 timeout -k 2 20 "$PDSIM" "$@" || { echo "$cmd: $(cat "$TMP/s.err")"; return 1; }
        grep -q -F "$TMP/$n.h5: " "$TMP/s.err" || return 1
        ! grep -q -e Sanitizer -e 'out of memory' "$TMP/s.err" || return 1
    done
}
check "a result file claiming 10^15 runs" refused_result r15 1000000000000000
check "a result file claiming 10^9 runs, one chunk stored" refused_result r9 1000000000
check "a result file claiming 10^5 runs, one chunk stored" refused_result r5 100000
check "a result file claiming 999,999 units and years 1..32000" \
    refused_result u999999 2000 999999 1 32000
check "a result file claiming 99,999 units and years 1001..3000, one chunk stored" \
    refused_result u99999 2000 99999 1001 3000

# h5py writes null-padded strings: a faithful copy is the same result
$PY -I "$TESTS/cli/h5py_copy.py" "$TMP/a.h5" "$TMP/copy.h5"
check "a faithful h5py copy of a result pairs with the original" \
    "$PDSIM" compare "$TMP/a.h5" "$TMP/copy.h5" -q

finish
