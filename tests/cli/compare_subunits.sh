#!/bin/sh
# pdsim compare's sub-unit results on the default forecast (which simulates
# the cities) and a document scenario, recomputed independently from the two
# files' /runs/subunit_adoption_year by compare_subunits.py: the -o file's
# /subunits group to 1e-12, the sub-unit CSV to its printed digits, and the
# printed share and largest shifts.
#   compare_subunits.sh PDSIM_BINARY REPO_ROOT
set -u
PDSIM=$1
ROOT=$(cd "$2" && pwd)
here=$(dirname "$0")
TESTS=$ROOT/tests
. "$here/lib.sh"
PY=$(sh "$ROOT/scripts/find-python.sh" h5py numpy) || {
    echo "SKIPPED: no Python with h5py and numpy (set PDSIM_PYTHON)"
    exit 77
}
RUN="-q -n 2000 --no-backtest"
check "baseline run" "$PDSIM" run "$ROOT/configs/baseline.yaml" $RUN -o "$TMP/base.h5"
check "scenario run" "$PDSIM" run "$ROOT/configs/scenario-binding-document-2026.yaml" $RUN \
    -o "$TMP/scen.h5"
check "compare with --csv and -o" "$PDSIM" compare "$TMP/base.h5" "$TMP/scen.h5" \
    --csv "$TMP/diff.csv" -o "$TMP/diff.h5" --subunits
cp "$TMP/out.txt" "$TMP/diff.txt"
check "the sub-unit results match their recomputation from the runs" "$PY" -I \
    "$here/compare_subunits.py" "$TMP/base.h5" "$TMP/scen.h5" "$TMP/diff.h5" \
    "$TMP/diff-subunits.csv" "$TMP/diff.txt"
# --year moves the comparison year of the printed block and of -o
check "compare at --year 2027" "$PDSIM" compare "$TMP/base.h5" "$TMP/scen.h5" --year 2027 \
    --csv "$TMP/y.csv" -o "$TMP/y.h5"
cp "$TMP/out.txt" "$TMP/y.txt"
check "... matches at 2027 too" "$PY" -I "$here/compare_subunits.py" "$TMP/base.h5" \
    "$TMP/scen.h5" "$TMP/y.h5" "$TMP/y-subunits.csv" "$TMP/y.txt"
check "... whose share line names 2027" grep -q "^Sub-units: share adopted by 2027 " "$TMP/y.txt"

# altered copies of the scenario: another sub-unit code, a year after the horizon
cp "$TMP/scen.h5" "$TMP/code.h5"
cp "$TMP/scen.h5" "$TMP/late.h5"
"$PY" -I -c '
import sys, h5py
with h5py.File(sys.argv[1], "r+") as f:
    c = f["subunits/code"]
    c[3] = b"X" * c.dtype.itemsize
with h5py.File(sys.argv[2], "r+") as f:
    f["runs/subunit_adoption_year"][5, 7] = 2099
' "$TMP/code.h5" "$TMP/late.h5"
other_codes() {
    "$PDSIM" compare "$TMP/base.h5" "$TMP/code.h5" --csv "$TMP/c.csv" >"$TMP/c.txt" 2>"$TMP/c.err" &&
        grep -q "note: sub-units not compared: .*code.h5: /subunits/code\[3\] differs" "$TMP/c.err" &&
        [ -s "$TMP/c.csv" ] && [ ! -e "$TMP/c-subunits.csv" ] && ! grep -q "^Sub-units" "$TMP/c.txt"
}
check "other sub-unit codes: a note, the units compared, no sub-unit results" other_codes
check "... exit 2 with --subunits" status_is 2 "$PDSIM" compare "$TMP/base.h5" "$TMP/code.h5" --subunits
check "... naming the code" grep -q "error: sub-units not compared: .*code\[3\] differs" "$TMP/s.err"
check "a sub-unit year after last_year refused" status_is 2 "$PDSIM" compare "$TMP/base.h5" "$TMP/late.h5"
check "... naming the file, run and year" grep -q "late.h5: /runs/subunit_adoption_year: run 5 has year 2099" "$TMP/s.err"
finish
