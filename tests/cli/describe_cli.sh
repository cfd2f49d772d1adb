#!/bin/sh
# pdsim describe on the China reference dataset: the descriptive table and the
# in-sample check are recomputed independently from the CSV files
# (describe_check.py, standard library only); bad arguments exit 2; a run
# config with intercept_recalibration: in-sample runs.
#   describe_cli.sh PDSIM_BINARY REPO_ROOT
set -u
PDSIM=$1
ROOT=$(cd "$2" && pwd)
here=$(dirname "$0")
. "$here/lib.sh"
PY=$(sh "$ROOT/scripts/find-python.sh" csv re) || PY=""
DS=$ROOT/data/china-group-schooling

check "describe baseline with the paper's Table 2" \
    sh -c "'$PDSIM' describe '$ROOT/configs/paper-model4.yaml' --reference '$ROOT/models/wu-zhao-2025-table2.csv' > '$TMP/d.txt'"
check "observed adoptions 2014-2023 are the 14 of the paper" \
    grep -Eq '^ +total +263 +14 ' "$TMP/d.txt"
check "Table 2 numbers printed beside" \
    grep -Eq '^cities_pct .*\| +12\.52 +17\.03 +0\.00 +93\.75 +1\.95' "$TMP/d.txt"
if [ -n "$PY" ]; then
    check "table and in-sample check match an independent computation" \
        "$PY" "$here/describe_check.py" "$DS" "$ROOT/models/wu-zhao-2025-model4.yaml" "$TMP/d.txt"
else
    echo "SKIPPED independent computation: no python3"
fi

printf 'variable,mean,sd,min,max,vif\nadoption,0.05,0.21,0,1,\nno_such_term,1,1,1,1,1\n' >"$TMP/ref.csv"
check "reference naming an unknown term: exit 2, file:line" \
    sh -c "status_is() { \"\$@\" >'$TMP/s.out' 2>'$TMP/s.err'; [ \$? -eq 2 ]; };
           status_is '$PDSIM' describe '$ROOT/configs/paper-model4.yaml' --reference '$TMP/ref.csv' &&
           grep -q 'ref.csv:3: variable' '$TMP/s.err'"
check "years without adoptions: table and check, no recalibration" \
    sh -c "'$PDSIM' describe '$ROOT/tests/data/run.yaml' --last-year 2011 | grep -q '^no recalibration'"
check "no config: exit 2" sh -c "'$PDSIM' describe >/dev/null 2>&1; [ \$? -eq 2 ]"
check "help" sh -c "'$PDSIM' describe --help | grep -q reference"

# a run with the intercept recalibrated in the mean
cat >"$TMP/recal.yaml" <<END
extends: $ROOT/configs/paper-model4.yaml
runs: 500
output: $TMP/recal.h5
intercept_recalibration: in-sample
END
check "run with intercept_recalibration: in-sample" "$PDSIM" run "$TMP/recal.yaml" -q
check "validate with intercept_recalibration: in-sample" "$PDSIM" validate "$TMP/recal.yaml"
same_shift() { # validate and run report the shift describe computes
    d=$("$PDSIM" describe "$TMP/recal.yaml" | sed -n 's/.*(shift \([-+0-9.]*\),.*/\1/p')
    v=$("$PDSIM" validate "$TMP/recal.yaml" | sed -n 's/.*in-sample: \([-+0-9.]*\) added.*/\1/p')
    r=$("$PDSIM" run "$TMP/recal.yaml" -n 100 --replace | sed -n 's/.*in-sample: \([-+0-9.]*\) added.*/\1/p')
    [ -n "$d" ] && awk -v d="$d" -v v="$v" -v r="$r" 'BEGIN { exit !(v != "" && r != "" &&
        d - v < 1e-4 && v - d < 1e-4 && v == r) }'
}
check "validate and run print the shift that describe computes" same_shift
finish
