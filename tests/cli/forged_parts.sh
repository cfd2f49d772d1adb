#!/bin/sh
# Part files whose attributes or datasets were edited (with h5py) claim
# absurd sizes: merge refuses each (exit 2, file named), without a crash,
# a hang or an output file, and a sweep task refuses to resume a partial
# part whose datasets are wider than its sweep's.
#   forged_parts.sh PDSIM_BINARY TESTS_DIR
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

finish
