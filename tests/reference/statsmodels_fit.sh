#!/bin/sh
# `pdsim fit` against statsmodels (an independent implementation) on the same
# unit-year tables, logit and cloglog, plain and cluster-robust.
#   statsmodels_fit.sh PDSIM_BINARY REPO_ROOT
# The Python with statsmodels is $PDSIM_PYTHON if set, else the first of
# /usr/bin/python3 and python3 that imports statsmodels. Without one the test
# is skipped (exit 77) and says so.
set -u
PDSIM=$1
ROOT=$2
here=$(dirname "$0")
PY=$(sh "$ROOT/scripts/find-python.sh" statsmodels numpy)
if [ -z "$PY" ]; then
    echo "SKIPPED: no Python with statsmodels and numpy (set PDSIM_PYTHON, or install python3-statsmodels)"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
# case: name, dataset-or-config, model spec, link, extra flags
run_case() {
    name=$1 src=$2 spec=$3 link=$4
    shift 4
    if "$PDSIM" fit "$src" "$spec" --link "$link" "$@" -o "$tmp/$name.yaml" \
        --export-table "$tmp/$name.csv" >"$tmp/$name.out" 2>&1 &&
        "$PY" "$here/statsmodels_fit.py" "$tmp/$name.csv" "$tmp/$name.yaml" "$link" "$@"; then
        echo "ok $name"
        pass=$((pass + 1))
    else
        echo "FAIL $name"
        cat "$tmp/$name.out"
        fail=$((fail + 1))
    fi
}
DS=$ROOT/data/china-group-schooling
run_case china-model1-logit "$DS" "$ROOT/models/wu-zhao-2025-model1.yaml" logit
run_case china-model1-cloglog "$DS" "$ROOT/models/wu-zhao-2025-model1.yaml" cloglog
run_case china-model2-logit "$DS" "$ROOT/models/wu-zhao-2025-model2.yaml" logit
run_case china-model2-cloglog "$DS" "$ROOT/models/wu-zhao-2025-model2.yaml" cloglog
run_case china-model1-logit-robust "$DS" "$ROOT/models/wu-zhao-2025-model1.yaml" logit --robust
run_case china-model1-cloglog-robust "$DS" "$ROOT/models/wu-zhao-2025-model1.yaml" cloglog --robust
US=$ROOT/configs/us-lottery.yaml
run_case us-lottery-logit "$US" "$ROOT/models/us-lottery-berry-berry.yaml" logit
run_case us-lottery-cloglog-robust "$US" "$ROOT/models/us-lottery-berry-berry.yaml" cloglog --robust
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
