#!/bin/sh
# End-to-end checks of `pdsim fit`: report, model output accepted by
# `pdsim run`, separation, Firth, and usage errors.
#   fit_cli.sh PDSIM_BINARY REPO_ROOT
set -u
PDSIM=$1
ROOT=$(cd "$2" && pwd)
. "$(dirname "$0")/lib.sh"
stderr_has() { grep -qF -- "$1" "$TMP/s.err"; }
DS=$ROOT/data/china-group-schooling
M=$ROOT/models
SEP=$ROOT/tests/data/separated

report_ok() {
    "$PDSIM" fit "$ROOT/configs/baseline.yaml" "$M/wu-zhao-2025-model1.yaml" \
        "$M/wu-zhao-2025-model2.yaml" >"$TMP/r.txt" &&
        grep -q "wu-zhao-2025-model1 .*wu-zhao-2025-model2" "$TMP/r.txt" &&
        grep -q "^events  *14  *14" "$TMP/r.txt" &&
        grep -q "^Nagelkerke R2" "$TMP/r.txt" && grep -q "^central_documents" "$TMP/r.txt"
}
check "side-by-side report" report_ok

model_feeds_run() {
    "$PDSIM" fit "$DS" "$M/wu-zhao-2025-model2.yaml" -o "$TMP/fitted.yaml" >/dev/null &&
        grep -q "^covariance:" "$TMP/fitted.yaml" &&
        printf 'extends: %s\nmodel: %s\nuncertainty: coefficients\n' \
            "$ROOT/configs/baseline.yaml" "$TMP/fitted.yaml" >"$TMP/run.yaml" &&
        "$PDSIM" run "$TMP/run.yaml" -q -n 500 -o "$TMP/run.h5" && [ -f "$TMP/run.h5" ]
}
check "fitted model is accepted by run" model_feeds_run

sep_reported() {
    status_is 2 "$PDSIM" fit "$SEP" "$SEP/spec.yaml" && stderr_has "separation" &&
        stderr_has "--firth" && stderr_has "'signal'"
}
check "separation reported, exit 2" sep_reported
check "Firth gives finite estimates" sh -c "'$PDSIM' fit '$SEP' '$SEP/spec.yaml' --firth | grep -q '^signal  *[0-9]'"
collinear() {
    status_is 2 "$PDSIM" fit "$DS" "$M/wu-zhao-2025-model4.yaml" && stderr_has "resource_base_pct"
}
check "constant column named as collinear" collinear
check "bad link exits 2" status_is 2 "$PDSIM" fit "$DS" "$M/wu-zhao-2025-model1.yaml" --link probit
two_models_out() {
    "$PDSIM" fit "$DS" "$M/wu-zhao-2025-model1.yaml" "$M/wu-zhao-2025-model2.yaml" \
        -o "$TMP/fitted-models" >/dev/null &&
        grep -q "^covariance:" "$TMP/fitted-models/wu-zhao-2025-model1.yaml" &&
        grep -q "^covariance:" "$TMP/fitted-models/wu-zhao-2025-model2.yaml" &&
        grep -q "^name: \"wu-zhao-2025-model2\"" "$TMP/fitted-models/wu-zhao-2025-model2.yaml" &&
        [ "$(ls "$TMP/fitted-models" | wc -l)" -eq 2 ]
}
check "-o with two models writes DIR/NAME.yaml for each" two_models_out
check "--export-table with two models exits 2" status_is 2 "$PDSIM" fit "$DS" "$M/wu-zhao-2025-model1.yaml" "$M/wu-zhao-2025-model2.yaml" --export-table "$TMP/x.csv"

# the documented dataset-folder form on the US data: the window in which
# adoptions are observed (1964..1993), as the config's base year gives
us_dataset_form() {
    "$PDSIM" fit "$ROOT/data/us-state-lottery" "$M/us-lottery-berry-berry.yaml" >"$TMP/us.txt" &&
        grep -q "^events  *36 *$" "$TMP/us.txt" && grep -q "^unit-years at risk  *1066 *$" "$TMP/us.txt" &&
        grep -q "^years at risk 1964\.\.1993" "$TMP/us.txt"
}
check "US dataset-folder form fits 1964..1993" us_dataset_form

# unique column names in the exported table (the model has a term 'year')
unique_columns() {
    "$PDSIM" fit "$ROOT/data/us-state-lottery" "$M/us-lottery-berry-berry.yaml" \
        --export-table "$TMP/us.csv" >/dev/null &&
        head -1 "$TMP/us.csv" | grep -qx "unit,year,adopted,neighbours_adopted_pct,year_term" &&
        [ "$(head -1 "$TMP/us.csv" | tr , '\n' | sort | uniq -d | wc -l)" -eq 0 ]
}
check "exported table has unique column names" unique_columns

# each column names its own link; exp(coef) is a hazard ratio under cloglog
sed -e 's/^link: logit/link: cloglog/' -e 's/^name: wu-zhao-2025-model1/name: m1-cloglog/' \
    "$M/wu-zhao-2025-model1.yaml" >"$TMP/m1-cloglog.yaml"
mixed_links() {
    "$PDSIM" fit "$DS" "$M/wu-zhao-2025-model1.yaml" "$TMP/m1-cloglog.yaml" >"$TMP/mix.txt" &&
        grep -q "^  *(logit link)  *(cloglog link)" "$TMP/mix.txt" &&
        grep -q "odds ratio under logit, hazard ratio under cloglog" "$TMP/mix.txt" &&
        "$PDSIM" fit "$DS" "$TMP/m1-cloglog.yaml" "$M/wu-zhao-2025-model1.yaml" >"$TMP/mix2.txt" &&
        grep -q "^  *(cloglog link)  *(logit link)" "$TMP/mix2.txt" &&
        "$PDSIM" fit "$DS" "$TMP/m1-cloglog.yaml" >"$TMP/cll.txt" &&
        grep -q "exp(coef): hazard ratio\]" "$TMP/cll.txt" && ! grep -q "odds ratio" "$TMP/cll.txt"
}
check "mixed links: each header names its link; hazard ratio under cloglog" mixed_links

# non-convergence: a warning and exit 3 unless accepted
no_conv() {
    status_is 3 "$PDSIM" fit "$DS" "$M/wu-zhao-2025-model1.yaml" --max-iter 2 &&
        stderr_has "did not converge" && stderr_has "--accept-nonconvergence" &&
        grep -q "^converged  *NO" "$TMP/s.out" &&
        status_is 0 "$PDSIM" fit "$DS" "$M/wu-zhao-2025-model1.yaml" --max-iter 2 \
            --accept-nonconvergence && stderr_has "did not converge"
}
check "non-convergence warns and exits 3; --accept-nonconvergence exits 0" no_conv

# a covariate rescaled by 1e-9 (its coefficient by 1e9): the step criterion
# in standard errors does not depend on units, so the fit converges to the
# same model (coefficient x 1e9, same log-likelihood); cut short it warns
rescaled() {
    cp -r "$DS" "$TMP/scaled" &&
        awk -F, -v OFS=, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "urbanization_pct") c = i; print; next }
             { if ($c != "") $c = sprintf("%.17g", $c / 1e9); print }' "$DS/panel.csv" >"$TMP/scaled/panel.csv" &&
        "$PDSIM" fit "$DS" "$M/wu-zhao-2025-model1.yaml" --tidy "$TMP/a.csv" --glance "$TMP/ga.csv" >/dev/null &&
        "$PDSIM" fit "$TMP/scaled" "$M/wu-zhao-2025-model1.yaml" --tidy "$TMP/b.csv" --glance "$TMP/gb.csv" >/dev/null &&
        a=$(awk -F, '$2 == "urbanization_pct" { print $3 }' "$TMP/a.csv") &&
        b=$(awk -F, '$2 == "urbanization_pct" { print $3 }' "$TMP/b.csv") &&
        awk -v a="$a" -v b="$b" 'BEGIN { r = b / (a * 1e9) - 1; exit !(r < 1e-7 && r > -1e-7) }' &&
        la=$(awk -F, 'NR == 2 { print $11 }' "$TMP/ga.csv") && lb=$(awk -F, 'NR == 2 { print $11 }' "$TMP/gb.csv") &&
        awk -v a="$la" -v b="$lb" 'BEGIN { r = b / a - 1; exit !(r < 1e-10 && r > -1e-10) }' &&
        status_is 0 "$PDSIM" fit "$TMP/scaled" "$M/wu-zhao-2025-model1.yaml" &&
        stderr_has "column 'urbanization_pct' reaches 8.96e-08" &&
        grep -q "^urbanization_pct  *6\.45e+07 (4\.21e+07)" "$TMP/s.out" &&
        status_is 3 "$PDSIM" fit "$TMP/scaled" "$M/wu-zhao-2025-model1.yaml" --max-iter 3 &&
        stderr_has "did not converge"
}
check "rescaled covariate: same fit, noted, printed readably; cut short, warns and exits 3" rescaled

# outputs never replace an input
no_overwrite() {
    cp "$M/wu-zhao-2025-model1.yaml" "$TMP/in.yaml" && cp "$TMP/in.yaml" "$TMP/in.bak" &&
        status_is 2 "$PDSIM" fit "$DS" "$TMP/in.yaml" -o "$TMP/in.yaml" && stderr_has "input" &&
        status_is 2 "$PDSIM" fit "$DS" "$TMP/in.yaml" --tidy "$TMP/in.yaml" &&
        cmp -s "$TMP/in.yaml" "$TMP/in.bak" && [ -z "$(ls "$TMP" | grep '\.tmp\.')" ]
}
check "an output onto an input is refused, the input kept" no_overwrite

machine_readable() {
    "$PDSIM" fit "$DS" "$M/wu-zhao-2025-model1.yaml" "$M/wu-zhao-2025-model2.yaml" --tidy "$TMP/t.csv" \
        --glance "$TMP/g.csv" --json "$TMP/r.json" --export-hazards "$TMP/h.csv" >/dev/null &&
        head -1 "$TMP/t.csv" | grep -q "^model,term,estimate,std.error,statistic,p.value,conf.low,conf.high," &&
        grep -q "^wu-zhao-2025-model2,(Intercept)," "$TMP/t.csv" &&
        head -1 "$TMP/g.csv" | grep -q "null.deviance,df.null,logLik,AIC,BIC,deviance,df.residual,nobs" &&
        [ "$(wc -l <"$TMP/g.csv")" -eq 3 ] && grep -q '"converged": true' "$TMP/r.json" &&
        head -1 "$TMP/h.csv" | grep -qx "model,unit,year,adopted,linear.predictor,linear.predictor.std.error,hazard" &&
        [ "$(grep -c "^wu-zhao-2025-model1," "$TMP/h.csv")" -eq 263 ]
}
check "--tidy, --glance, --json, --export-hazards for every model" machine_readable

check "bad --tol exits 2" status_is 2 "$PDSIM" fit "$DS" "$M/wu-zhao-2025-model1.yaml" --tol abc
check "bad --max-iter exits 2" status_is 2 "$PDSIM" fit "$DS" "$M/wu-zhao-2025-model1.yaml" --max-iter 0
check "bad --vcov exits 2" status_is 2 "$PDSIM" fit "$DS" "$M/wu-zhao-2025-model1.yaml" --vcov HC3
check "bad --information exits 2" status_is 2 "$PDSIM" fit "$DS" "$M/wu-zhao-2025-model1.yaml" --information fisher
check "bad --level exits 2" status_is 2 "$PDSIM" fit "$DS" "$M/wu-zhao-2025-model1.yaml" --level 95
check "unknown --cluster variable exits 2" status_is 2 "$PDSIM" fit "$DS" "$M/wu-zhao-2025-model1.yaml" --cluster nope
grep -v "central_documents\|region" "$M/wu-zhao-2025-model2.yaml" >"$TMP/m2-other.yaml"
not_nested() {
    status_is 2 "$PDSIM" fit "$DS" "$M/wu-zhao-2025-model1.yaml" "$TMP/m2-other.yaml" --lrtest &&
        stderr_has "not nested"
}
check "--lrtest of models that are not nested exits 2" not_nested
nested() {
    "$PDSIM" fit "$DS" "$M/wu-zhao-2025-model1.yaml" "$M/wu-zhao-2025-model2.yaml" --lrtest >"$TMP/lr.txt" &&
        grep -q "^wu-zhao-2025-model2  *wu-zhao-2025-model1  *[0-9.]*  *3 " "$TMP/lr.txt"
}
check "--lrtest of nested models: LR on 3 df" nested
check "--lrtest with --firth exits 2" status_is 2 "$PDSIM" fit "$DS" "$M/wu-zhao-2025-model1.yaml" "$M/wu-zhao-2025-model2.yaml" --lrtest --firth
check "missing model file exits 2" status_is 2 "$PDSIM" fit "$DS" "$TMP/nope.yaml"
check "dataset without model exits 2" status_is 2 "$PDSIM" fit "$DS"
check "help fit exits 0" status_is 0 "$PDSIM" help fit
finish
