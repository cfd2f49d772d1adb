#!/bin/sh
# The document forms (document_stock, recent_documents, log1p, the duration
# since the first document with period dummies and spline columns, each
# also at a lag of its own) on the
# China data, each checked three ways:
#   - the unit-year table of `pdsim fit --export-table`: every form column
#     recomputed from the dataset's files with the parameters that `fit -o`
#     wrote back (docforms_check.py table), then the fit against statsmodels
#     on that table (statsmodels_fit.py); the written model reloads and refits
#     to the same coefficients;
#   - for models of document forms only: `pdsim run` from 2013 gives, year by
#     year, the P(adopted by year) that the fit's hazards imply
#     (docforms_check.py run).
#   docforms_fit.sh PDSIM_BINARY REPO_ROOT
# Skipped (77) without a Python with numpy and statsmodels.
set -u
PDSIM=$1
ROOT=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
if ! PY=$(sh "$ROOT/scripts/find-python.sh" statsmodels numpy); then
    echo "SKIPPED: no Python with statsmodels and numpy (set PDSIM_PYTHON)"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
DS=$ROOT/data/china-group-schooling
pass=0
fail=0
ok() { echo "ok $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }

# spec NAME TERM-LINES...: a model file with those terms
spec() {
    name=$1
    shift
    {
        printf 'name: %s\nlink: logit\nlag: 1\nintercept: {coef: 0, se: 0}\nterms:\n' "$name"
        for t in "$@"; do printf '  - %s\n' "$t"; done
    } >"$tmp/$name.spec.yaml"
}
CITIES='{name: cities_pct, dynamic: subunits_adopted_pct, coef: 0}'
spec stock3 '{name: doc_stock, dynamic: document_stock, half_life: 3, coef: 0}' "$CITIES"
spec stock1_5 '{name: doc_stock, dynamic: document_stock, half_life: 1.5, transform: log1p, coef: 0}'
spec recent3 '{name: recent_docs, dynamic: recent_documents, window: 3, coef: 0}' "$CITIES"
spec recent2 '{name: recent_docs, dynamic: recent_documents, window: 2, coef: 0}'
spec log1p '{name: log1p_docs, dynamic: central_documents, transform: log1p, coef: 0}' \
    '{name: log1p_college, variable: college_pct, transform: log1p, coef: 0}' "$CITIES"
spec periods '{name: years_4_6, dynamic: years_since_first_document, interval: [4, 6], coef: 0}' \
    '{name: years_7_10, dynamic: years_since_first_document, interval: [7, 10], coef: 0}'
spec spline '{name: dur1, dynamic: years_since_first_document, spline: {knots: [2, 5, 9], basis: 1}, coef: 0}' \
    '{name: dur2, dynamic: years_since_first_document, spline: {knots: [2, 5, 9], basis: 2}, coef: 0}'
spec duration '{name: years_since, dynamic: years_since_first_document, transform: log1p, coef: 0}' "$CITIES"
# each form at its own lag, other than the model's
spec lags '{name: doc_stock_l2, dynamic: document_stock, half_life: 3, lag: 2, coef: 0}' \
    '{name: recent_l0, dynamic: recent_documents, window: 2, lag: 0, coef: 0}' \
    '{name: years_l3, dynamic: years_since_first_document, interval: [2, 5], lag: 3, coef: 0}'

RUNS=4000
for name in stock3 stock1_5 recent3 recent2 log1p periods spline duration lags; do
    for link in logit cloglog; do
        case_name=$name-$link
        f=$tmp/$case_name
        if ! "$PDSIM" fit "$DS" "$tmp/$name.spec.yaml" --link "$link" -o "$f.yaml" \
            --export-table "$f.csv" --export-hazards "$f.hz.csv" >"$f.out" 2>&1; then
            cat "$f.out"
            bad "$case_name: fit"
            continue
        fi
        if "$PY" -I "$here/docforms_check.py" table "$f.csv" "$f.yaml" "$DS" &&
            "$PY" -I "$here/statsmodels_fit.py" "$f.csv" "$f.yaml" "$link"; then
            ok "$case_name: table and fit"
        else
            bad "$case_name: table and fit"
        fi
        # the written model reloads, with its parameters: refitting it gives the same numbers
        if "$PDSIM" fit "$DS" "$f.yaml" --link "$link" -o "$f.re.yaml" >"$f.re.out" 2>&1 &&
            [ "$(grep -o 'coef: [^,]*, se: [^}]*' "$f.yaml")" = "$(grep -o 'coef: [^,]*, se: [^}]*' "$f.re.yaml")" ]; then
            ok "$case_name: written model reloads"
        else
            cat "$f.re.out"
            bad "$case_name: written model reloads"
        fi
        # document forms only: the Monte Carlo against the fit's hazards
        grep -q subunits_adopted_pct "$f.yaml" && continue
        grep -q 'variable:' "$f.yaml" && continue
        printf 'dataset: %s\nmodel: %s\nbase_year: 2013\nhorizon: 2023\nruns: %d\nseed: 5\n' \
            "$DS" "$f.yaml" "$RUNS" >"$f.run.yaml"
        if "$PDSIM" run "$f.run.yaml" -o "$f.h5" -q >"$f.run.out" 2>&1 &&
            "$PDSIM" summary "$f.h5" --csv "$f.sum" -q >>"$f.run.out" 2>&1 &&
            "$PY" -I "$here/docforms_check.py" run "$f.hz.csv" "$f.sum/provinces.csv" \
                "$f.sum/province_year.csv" 2013 "$RUNS"; then
            ok "$case_name: run against the fit's hazards"
        else
            cat "$f.run.out"
            bad "$case_name: run against the fit's hazards"
        fi
    done
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
