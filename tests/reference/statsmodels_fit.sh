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

# The statistics around the estimates (statsmodels_stats.py says how each
# reference is obtained): case name, JSON description for the checker,
# data source, model(s), then pdsim options.
stats_case() {
    name=$1 desc=$2 src=$3 spec=$4
    shift 4
    d=$tmp/$name
    mkdir -p "$d" && echo "$desc" >"$d/case.json"
    if "$PDSIM" fit "$src" "$spec" "$@" --export-table "$d/table.csv" --tidy "$d/tidy.csv" \
        --glance "$d/glance.csv" --json "$d/result.json" --export-hazards "$d/hazards.csv" \
        >"$d/out.txt" 2>&1 && "$PY" -I "$here/statsmodels_stats.py" "$name" "$d"; then
        echo "ok $name"
        pass=$((pass + 1))
    else
        echo "FAIL $name"
        cat "$d/out.txt"
        fail=$((fail + 1))
    fi
}
M2=$ROOT/models/wu-zhao-2025-model2.yaml
M1=$ROOT/models/wu-zhao-2025-model1.yaml
stats_case china-m2-logit '{"link": "logit", "ame": 1, "profile": 1}' "$DS" "$M2" --link logit --ame --profile
stats_case china-m2-logit-level90 '{"link": "logit", "level": 0.9, "profile": 1}' "$DS" "$M2" --link logit --level 0.9 --profile
stats_case china-m2-cloglog '{"link": "cloglog", "ame": 1, "profile": 1}' "$DS" "$M2" --link cloglog --ame --profile
stats_case china-m2-cloglog-expected '{"link": "cloglog", "information": "expected", "ame": 1}' "$DS" "$M2" --link cloglog --information expected --ame
stats_case china-m1-logit-hc0 '{"link": "logit", "vcov": "HC0"}' "$DS" "$M1" --link logit --vcov HC0
stats_case china-m1-cloglog-hc1 '{"link": "cloglog", "vcov": "HC1", "ame": 1}' "$DS" "$M1" --link cloglog --vcov HC1 --ame
stats_case china-m1-logit-cluster-region '{"link": "logit", "vcov": "cluster", "cluster": "region"}' "$DS" "$M1" --link logit --cluster region
stats_case china-m2-cloglog-cluster-year '{"link": "cloglog", "vcov": "cluster", "cluster": "year"}' "$DS" "$M2" --link cloglog --cluster year
stats_case china-m2-logit-robust-unit '{"link": "logit", "vcov": "cluster", "cluster": "unit", "profile": 1}' "$DS" "$M2" --link logit --robust --profile
SEP=$ROOT/tests/data/separated
stats_case separated-firth-logit '{"link": "logit", "firth": 1}' "$SEP" "$SEP/spec.yaml" --link logit --firth --profile

# --lrtest: a trend-only model nested in the Berry & Berry model (US data)
USD=$ROOT/data/us-state-lottery
BB=$ROOT/models/us-lottery-berry-berry.yaml
grep -v "neighbours_adopted_pct" "$BB" | sed -e 's/^name:.*/name: "us-trend-only"/' -e '/^covariance:/,$d' >"$tmp/trend.yaml"
d=$tmp/us-lrtest
mkdir -p "$d" && echo '{"link": "logit", "lrtest": 1}' >"$d/case.json"
if "$PDSIM" fit "$USD" "$tmp/trend.yaml" --export-table "$d/table.csv" >/dev/null 2>&1 &&
    "$PDSIM" fit "$USD" "$BB" --export-table "$d/table2.csv" >/dev/null 2>&1 &&
    "$PDSIM" fit "$USD" "$tmp/trend.yaml" "$BB" --lrtest --tidy "$d/tidy.csv" --glance "$d/glance.csv" \
        --json "$d/result.json" --export-hazards "$d/hazards.csv" >"$d/out.txt" 2>&1 &&
    "$PY" -I "$here/statsmodels_stats.py" us-lrtest "$d"; then
    echo "ok us-lrtest"
    pass=$((pass + 1))
else
    echo "FAIL us-lrtest"
    cat "$d/out.txt"
    fail=$((fail + 1))
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
