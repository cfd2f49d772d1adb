#!/bin/sh
# End-to-end checks of `pdsim run` and `pdsim validate` on the small test
# dataset: exit codes, reproducibility (h5diff), thread invariance, and that
# no temporary file is left behind.
#   run_cli.sh PDSIM_BINARY TESTS_DIR
set -u
PDSIM=$1
TESTS=$2
CONFIG="$TESTS/data/run.yaml"
. "$(dirname "$0")/lib.sh"



same() { # two files: identical result datasets and attributes
    h5diff -q "$1" "$2"
}

differ() {
    ! h5diff -q "$1" "$2" /runs/province_adoption_year /runs/province_adoption_year
}

no_leftovers() {
    [ -z "$(find "$TMP" -name '*.tmp.*')" ]
}

complete_is_one() {
    h5dump -a /complete "$1" | grep -q "(0): 1"
}

check "version exits 0" status_is 0 "$PDSIM" --version
check "help exits 0" status_is 0 "$PDSIM" help
check "help run exits 0" status_is 0 "$PDSIM" help run
check "help config exits 0" status_is 0 "$PDSIM" help config
check "no arguments exits 2" status_is 2 "$PDSIM"
check "unknown command exits 2" status_is 2 "$PDSIM" frobnicate
check "unknown option exits 2" status_is 2 "$PDSIM" run "$CONFIG" --frobnicate
check "negative runs exits 2" status_is 2 "$PDSIM" run "$CONFIG" -n -5 -o "$TMP/neg.h5"
check "validate ok" status_is 0 "$PDSIM" validate "$CONFIG"
check "run 1 thread" "$PDSIM" run "$CONFIG" -q -n 3000 -s 5 -j 1 -o "$TMP/a.h5"
check "run 2 threads" "$PDSIM" run "$CONFIG" -q -n 3000 -s 5 -j 2 -o "$TMP/b.h5"
check "run same seed again" "$PDSIM" run "$CONFIG" -q -n 3000 -s 5 -j 2 -o "$TMP/c.h5"
check "run other seed" "$PDSIM" run "$CONFIG" -q -n 3000 -s 6 -j 2 -o "$TMP/d.h5"
check "OMP_NUM_THREADS=1 and =2 identical" env OMP_NUM_THREADS=1 "$PDSIM" run "$CONFIG" -q -n 3000 -s 5 -o "$TMP/e.h5"
check "OMP_NUM_THREADS=2" env OMP_NUM_THREADS=2 "$PDSIM" run "$CONFIG" -q -n 3000 -s 5 -o "$TMP/f.h5"
check "h5diff OMP 1 vs 2 threads" same "$TMP/e.h5" "$TMP/f.h5"
check "h5diff -j1 vs -j2" same "$TMP/a.h5" "$TMP/b.h5"
check "h5diff same seed" same "$TMP/b.h5" "$TMP/c.h5"
check "different seed differs" differ "$TMP/b.h5" "$TMP/d.h5"
check "complete attribute set" complete_is_one "$TMP/a.h5"
check "no temporary files left" no_leftovers
check "summary printed" sh -c "'$PDSIM' run '$CONFIG' -n 500 -o '$TMP/g.h5' | grep -q 'National curve'"
# summary prints run's tables from the file: all but run's first line (the
# model) and its last two (timing) against all but summary's first (the file)
same_tables() {
    "$PDSIM" run "$CONFIG" -n 500 -s 3 -o "$TMP/t.h5" >"$TMP/t.run" 2>&1 &&
        "$PDSIM" summary "$TMP/t.h5" >"$TMP/t.sum" 2>&1 &&
        grep -q 'Units not adopted by' "$TMP/t.sum" &&
        sed '1d' "$TMP/t.run" | head -n -2 >"$TMP/t.a" &&
        sed '1d' "$TMP/t.sum" >"$TMP/t.b" && diff "$TMP/t.a" "$TMP/t.b" >&2
}
check "summary prints the same tables as run" same_tables
: >"$TMP/plainfile"
check "unwritable output (under a regular file) exits 1" status_is 1 "$PDSIM" run "$CONFIG" -q -n 10 -o "$TMP/plainfile/x.h5"

# SIGINT during a long run: exit 1, no output file, a partial file marked
# incomplete (tests/cli/robust_cli.sh resumes such files)
interrupted_cleanly() {
    "$PDSIM" run "$CONFIG" -q -n 100000000 -j 2 -o "$TMP/int.h5" 2>"$TMP/int.err" &
    pid=$!
    wait_for_handler $pid # after the set-up (a SIGINT before it is ignored)
    sleep "${PDSIM_TEST_KILL_AFTER:-1}"
    kill -INT $pid
    wait $pid
    rc=$?
    [ $rc -eq 1 ] && [ ! -e "$TMP/int.h5" ] && no_leftovers && grep -q interrupted "$TMP/int.err" &&
        h5dump -a /complete "$TMP/int.h5.partial" | grep -q "(0): 0"
}
check "SIGINT leaves no output, only a partial file" interrupted_cleanly
# an earlier output survives a failing run that targets the same name
earlier_kept() {
    cp "$TMP/a.h5" "$TMP/keep.h5"
    "$PDSIM" run "$TESTS/data/run.yaml" -q -n 0 -o "$TMP/keep.h5" 2>/dev/null
    [ $? -eq 2 ] && cmp -s "$TMP/a.h5" "$TMP/keep.h5"
}
check "earlier output untouched by a failed run" earlier_kept

# coefficient uncertainty: draws stored, warning without a covariance matrix
uncertain_run() {
    absolute_config "$CONFIG" "$TMP/unc.yaml" && echo "uncertainty: coefficients" >>"$TMP/unc.yaml" &&
        "$PDSIM" run "$TMP/unc.yaml" -n 300 -o "$TMP/unc.h5" >/dev/null 2>"$TMP/unc.err" &&
        grep -q "no covariance matrix" "$TMP/unc.err" &&
        h5dump -H -d /runs/coefficients "$TMP/unc.h5" | grep -q "( 300, 6 )" &&
        h5dump -a /uncertainty_warning "$TMP/unc.h5" >/dev/null
}
check "uncertainty: coefficients stored with a warning" uncertain_run
# a scenario that changes nothing gives the baseline's runs exactly
null_scenario() {
    absolute_config "$CONFIG" "$TMP/null.yaml"
    printf 'scenario:\n  name: nothing\n  central_documents:\n    - {year: 2030, count: 1}\n' >>"$TMP/null.yaml"
    "$PDSIM" run "$TMP/null.yaml" -q -n 3000 -s 5 -j 2 -o "$TMP/null.h5" &&
        h5diff -q "$TMP/b.h5" "$TMP/null.h5" /runs/province_adoption_year /runs/province_adoption_year &&
        h5diff -q "$TMP/b.h5" "$TMP/null.h5" /runs/city_adoption_year /runs/city_adoption_year
}
check "document after the horizon: runs identical to the baseline" null_scenario

# neighbour weights: weighting every land pair 2 changes no share, so runs
# are identical to plain contiguity; uneven weights change them
weights_run() { # weight of the A-B pair, output
    d=$(cd "$TESTS/data" && pwd)
    { echo "unit_a,unit_b,weight"; grep ',land$' "$d/small/contiguity.csv" | cut -d, -f1,2 |
        sed "s/\$/,2/; s/^A,B,2\$/A,B,$1/"; } >"$TMP/w.csv"
    absolute_config "$CONFIG" "$TMP/w.yaml" && echo "neighbour_weights: $TMP/w.csv" >>"$TMP/w.yaml" &&
        "$PDSIM" run "$TMP/w.yaml" -q -n 3000 -s 5 -j 2 -o "$2"
}
uniform_weights() {
    weights_run 2 "$TMP/w2.h5" &&
        h5diff -q "$TMP/b.h5" "$TMP/w2.h5" /runs/province_adoption_year /runs/province_adoption_year
}
check "uniform neighbour weights equal contiguity" uniform_weights
uneven_weights() {
    weights_run 50 "$TMP/w50.h5" && differ "$TMP/b.h5" "$TMP/w50.h5"
}
check "uneven neighbour weights change the runs" uneven_weights

# unit-neutral names, and the names of earlier versions as second names
# (hard links) of the same objects: h5diff and h5py see the data under both
neutral_names() {
    "$PDSIM" run "$CONFIG" -q -n 50 -o "$TMP/names.h5" &&
        for n in /runs/unit_adoption_year /runs/province_adoption_year /units/code \
            /provinces/code /subunits/unit_code /cities/province_code \
            /runs/subunit_adoption_year /runs/city_adoption_year; do
            h5ls "$TMP/names.h5$n" | grep -q "Dataset" || return 1
        done &&
        ! h5ls -r "$TMP/names.h5" | grep -q "Soft Link" &&
        h5diff "$TMP/names.h5" "$TMP/names.h5" /runs/province_adoption_year /runs/unit_adoption_year &&
        "$PDSIM" run "$CONFIG" -q -n 50 -s 9 -o "$TMP/names9.h5" || return 1
    # another seed's years differ under the old name too (h5diff compares data)
    h5diff -q "$TMP/names.h5" "$TMP/names9.h5" /runs/province_adoption_year /runs/province_adoption_year
    [ $? -eq 1 ]
}
check "unit-neutral names; the old ones name the same data" neutral_names
check "a file of the earlier names only is still read" \
    "$PDSIM" summary "$TESTS/corpus/h5result/valid-20-runs.h5"

finish
