#!/bin/sh
# The specification language of model files on the China data: factors with
# a chosen reference level (a text units-file column and a numeric panel
# column), unit attributes, per-term lags, powers and period dummies of the
# year, interactions (with the state-dependent share of neighbours adopted),
# written as pure specifications without coefficients. Checked three ways:
#   - the unit-year table of `pdsim fit --export-table` rebuilt column by
#     column from the dataset's files (spec_check.py table), then the fit
#     against statsmodels' GLM on that table (statsmodels_fit.py);
#   - the model `fit -o` writes reloads and refits to the same numbers;
#   - `pdsim run` of the fitted model from several base years: in the first
#     simulated year every unit's Monte Carlo adoption frequency matches the
#     hazard the fit gives its unit-year row (spec_check.py run), so the
#     simulation and the fit agree on every term, the interaction with the
#     neighbour share included.
#   spec_fit.sh PDSIM_BINARY REPO_ROOT
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

# spec NAME TERM-LINES...: a pure specification (no coefficients)
spec() {
    name=$1
    shift
    {
        printf 'name: %s\nlink: logit\nlag: 1\nterms:\n' "$name"
        for t in "$@"; do printf '  - %s\n' "$t"; done
    } >"$tmp/$name.spec.yaml"
}
spec bar '{name: region, unit: region, factor: true, reference: east}' \
    '{name: central_documents, dynamic: central_documents}' \
    '{name: neighbours_pct, dynamic: neighbours_adopted_pct}' \
    '{name: docs_x_nbr, interact: [central_documents, neighbours_pct]}'
spec panel '{name: pregion, variable: region, factor: true, reference: 2}' \
    '{name: college_lag2, variable: college_pct, lag: 2}' \
    '{name: trend2, dynamic: year, power: 2}' \
    '{name: y2018_2020, dynamic: year, interval: [2018, 2020]}' \
    '{name: urban_x_nbr, interact: [{variable: urbanization_pct}, {dynamic: neighbours_adopted_pct}]}' \
    '{name: west_x_trend, interact: [{unit: region, level: west}, trend2]}' \
    '{name: year_s2, dynamic: year, spline: {knots: [2014, 2018, 2022], basis: 2}}'

# run_vs_fit LABEL F BASE: `pdsim run` of the fitted model F.yaml from BASE:
# the first simulated year's frequencies against the fit's hazards F.hz.csv
run_vs_fit() {
    printf 'dataset: %s\nmodel: %s\nbase_year: %d\nhorizon: 2023\nruns: %d\nseed: 5\n' \
        "$DS" "$2.yaml" "$3" "$RUNS" >"$2.run.yaml"
    if "$PDSIM" run "$2.run.yaml" -o "$2.$3.h5" -q >"$2.run.out" 2>&1 &&
        "$PDSIM" summary "$2.$3.h5" --csv "$2.$3.sum" -q >>"$2.run.out" 2>&1 &&
        "$PY" -I "$here/spec_check.py" run "$2.hz.csv" "$2.$3.sum/province_year.csv" \
            "$3" "$RUNS"; then
        ok "$1: run from $3 against the fit's hazards"
    else
        cat "$2.run.out"
        bad "$1: run from $3 against the fit's hazards"
    fi
}

RUNS=4000
for name in bar panel; do
    for link in logit cloglog; do
        c=$name-$link
        f=$tmp/$c
        if ! "$PDSIM" fit "$DS" "$tmp/$name.spec.yaml" --link "$link" -o "$f.yaml" \
            --export-table "$f.csv" --export-hazards "$f.hz.csv" >"$f.out" 2>&1; then
            cat "$f.out"
            bad "$c: fit"
            continue
        fi
        if "$PY" -I "$here/spec_check.py" table "$f.csv" "$f.yaml" "$DS" &&
            "$PY" -I "$here/statsmodels_fit.py" "$f.csv" "$f.yaml" "$link"; then
            ok "$c: table and fit against statsmodels"
        else
            bad "$c: table and fit against statsmodels"
        fi
        if "$PDSIM" fit "$DS" "$f.yaml" --link "$link" -o "$f.re.yaml" >"$f.re.out" 2>&1 &&
            [ "$(grep -o 'coef: [^,]*, se: [^}]*' "$f.yaml")" = "$(grep -o 'coef: [^,]*, se: [^}]*' "$f.re.yaml")" ]; then
            ok "$c: written model reloads"
        else
            cat "$f.re.out"
            bad "$c: written model reloads"
        fi
        [ "$name" = bar ] || [ "$link" = logit ] || continue
        # the fitted hazards start in 2015 for the panel model (lag 2)
        for base in 2016 2019 2021; do
            run_vs_fit "$c" "$f" "$base"
        done
    done
done

# coefficients drawn per run (uncertainty: coefficients) from a covariance of
# zeros are the estimates: the run must be the run without draws, exactly
# (the drawn path rebuilds the share coefficients of the interaction itself)
f=$tmp/bar-logit
sed -e 's/se: [^}]*}/se: 0}/' -e '/^covariance:/,$d' "$f.yaml" >"$f.zero.yaml"
for u in none coefficients; do
    printf 'dataset: %s\nmodel: %s\nbase_year: 2016\nhorizon: 2023\nruns: 2000\nseed: 9\nuncertainty: %s\n' \
        "$DS" "$f.zero.yaml" "$u" >"$f.$u.yaml"
    "$PDSIM" run "$f.$u.yaml" -o "$f.$u.h5" -q >"$f.$u.out" 2>&1 &&
        "$PDSIM" summary "$f.$u.h5" --csv "$f.$u.sum" -q >>"$f.$u.out" 2>&1 || cat "$f.$u.out"
done
if [ -s "$f.none.sum/province_year.csv" ] &&
    cmp -s "$f.none.sum/province_year.csv" "$f.coefficients.sum/province_year.csv"; then
    ok "bar-logit: drawn coefficients with zero covariance give the undrawn run"
else
    bad "bar-logit: drawn coefficients with zero covariance give the undrawn run"
fi
# fixed coefficients and offsets: held by the fit at their values (the
# reference moves them into statsmodels' offset), written back as they were,
# and simulated with them
spec offset '{name: central_documents, dynamic: central_documents, fixed: true, coef: 0.4}' \
    '{name: neighbours_pct, dynamic: neighbours_adopted_pct}' \
    '{name: log_college, variable: college_pct, transform: log, offset: true}' \
    '{name: urban, variable: urbanization_pct}'
for v in logit cloglog robust; do
    c=offset-$v
    f=$tmp/$c
    link=$v
    extra=
    [ "$v" = robust ] && link=logit && extra=--robust
    if "$PDSIM" fit "$DS" "$tmp/offset.spec.yaml" --link "$link" $extra -o "$f.yaml" \
        --tidy "$f.tidy.csv" --glance "$f.glance.csv" --export-table "$f.csv" \
        --export-hazards "$f.hz.csv" >"$f.out" 2>&1 &&
        "$PY" -I "$here/spec_check.py" table "$f.csv" "$f.yaml" "$DS" &&
        "$PY" -I "$here/offset_check.py" "$f.csv" "$f.tidy.csv" "$f.glance.csv" "$link" $extra; then
        ok "$c: fixed and offset terms against statsmodels"
    else
        cat "$f.out"
        bad "$c: fixed and offset terms against statsmodels"
    fi
    if "$PDSIM" fit "$DS" "$f.yaml" --link "$link" $extra -o "$f.re.yaml" >"$f.re.out" 2>&1 &&
        [ "$(grep -o 'coef: [^,]*, se: [^}]*' "$f.yaml")" = "$(grep -o 'coef: [^,]*, se: [^}]*' "$f.re.yaml")" ] &&
        [ "$(grep -c 'fixed: true, coef: 0.4000.*, se: 0}\|fixed: true, coef: 1, se: 0}' "$f.yaml")" = 2 ]; then
        ok "$c: written model keeps the fixed values and reloads"
    else
        cat "$f.re.out"
        bad "$c: written model keeps the fixed values and reloads"
    fi
done
f=$tmp/offset-logit
for base in 2016 2020; do
    run_vs_fit offset-logit "$f" "$base"
done
# drawn coefficients: the covariance has zero rows for the fixed terms, and
# every run keeps them at their values
printf 'dataset: %s\nmodel: %s\nbase_year: 2016\nhorizon: 2023\nruns: 500\nseed: 5\nuncertainty: coefficients\n' \
    "$DS" "$f.yaml" >"$f.unc.yaml"
if "$PDSIM" run "$f.unc.yaml" -o "$f.unc.h5" -q >"$f.unc.out" 2>&1 &&
    "$PY" -I -c 'import sys, h5py, numpy as np
c = h5py.File(sys.argv[1], "r")["/runs/coefficients"][...]
sys.exit(0 if np.all(c[:, 1] == 0.4) and np.all(c[:, 3] == 1.0) and np.std(c[:, 2]) > 0 else 1)' "$f.unc.h5"; then
    ok "offset-logit: drawn coefficients keep the fixed ones"
else
    cat "$f.unc.out"
    bad "offset-logit: drawn coefficients keep the fixed ones"
fi
# a Bayesian fit has no prior for a held coefficient: refused, exit 2
"$PDSIM" fit "$DS" "$tmp/offset.spec.yaml" --prior flat -o "$tmp/offset.bayes.yaml" >"$tmp/ob.out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q 'fixed' "$tmp/ob.out" && [ ! -e "$tmp/offset.bayes.yaml" ]; then
    ok "offset: --prior with fixed terms is refused (exit 2)"
else
    cat "$tmp/ob.out"
    bad "offset: --prior with fixed terms is refused (exit $rc)"
fi
# factors inside interactions, by name and inline: one interaction per level
# but the reference (the China units file's region is east/central/west,
# the panel's region 1/2/3), each the product of the level dummy and the
# other factor
spec finter '{name: region, unit: region, factor: true, reference: east}' \
    '{name: central_documents, dynamic: central_documents}' \
    '{name: region_x_docs, interact: [region, central_documents]}' \
    '{name: nbr, dynamic: neighbours_adopted_pct}' \
    '{name: pregion_x_nbr, interact: [{variable: region, factor: true, reference: 1}, nbr]}'
f=$tmp/finter
want='region[central] region[west] central_documents region_x_docs[central] region_x_docs[west] nbr pregion_x_nbr[2] pregion_x_nbr[3]'
if "$PDSIM" fit "$DS" "$tmp/finter.spec.yaml" -o "$f.yaml" --export-table "$f.csv" \
    --export-hazards "$f.hz.csv" >"$f.out" 2>&1 &&
    [ "$(head -1 "$f.csv" | cut -d, -f4- | tr ',' ' ')" = "$want" ] &&
    # each level term NAME[L] is the dummy of level L
    [ "$(grep -c '{name: "[^"]*\[\([^]]*\)\]".*level: "\1"' "$f.yaml")" = 6 ] &&
    "$PY" -I "$here/spec_check.py" table "$f.csv" "$f.yaml" "$DS" &&
    "$PY" -I "$here/statsmodels_fit.py" "$f.csv" "$f.yaml" logit; then
    ok "finter: factors inside interactions against statsmodels"
else
    cat "$f.out"
    head -1 "$f.csv"
    bad "finter: factors inside interactions against statsmodels"
fi
for base in 2016 2020; do
    run_vs_fit finter "$f" "$base"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
