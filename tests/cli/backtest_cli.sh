#!/bin/sh
# End-to-end checks of `pdsim backtest` on both datasets: every score and
# baseline printed, the US fit and backtest on a copy of the data with other
# unit codes (no dataset-specific path), rolling origins, reproducibility and
# bad cutoffs.
#   backtest_cli.sh PDSIM_BINARY REPO_ROOT
set -u
PDSIM=$1
ROOT=$(cd "$2" && pwd)
. "$(dirname "$0")/lib.sh"
stderr_has() { grep -qF -- "$1" "$TMP/s.err"; }
CN=$ROOT/configs/paper-model4.yaml
US=$ROOT/configs/us-lottery.yaml
NUM='[-+]\{0,1\}[0-9][0-9]*\.[0-9]'

all_scores() { # file: every forecaster with three scores, calibration, counts, verdict
    for f in "model" "model, channels off" "constant hazard" "logistic curve"; do
        grep -q "^$f  *$NUM.*  *$NUM.*  *$NUM" "$1" || return 1
        grep -q "^  against $f" "$1" || [ "$f" = model ] || return 1
    done
    grep -q "^calibration of the model" "$1" && grep -q "^0\.00-0\.02 " "$1" &&
        grep -q "^units adopted by the end of each year" "$1" && grep -q "^years inside" "$1" &&
        grep -q "^model minus baseline" "$1"
}

china_2019() {
    "$PDSIM" backtest "$CN" --cutoff 2019 -n 2000 -j 2 >"$TMP/cn.txt" && all_scores "$TMP/cn.txt" &&
        grep -q "forecast 2020\.\.2023 (4 years)" "$TMP/cn.txt" &&
        [ "$(grep -c '^20[0-9][0-9]  ' "$TMP/cn.txt")" -eq 4 ]
}
check "China, cutoff 2019: all scores and baselines" china_2019

recalibrated() {
    "$PDSIM" backtest "$ROOT/configs/paper-model4-recalibrated.yaml" --cutoff 2019 -n 1000 >"$TMP/rc.txt" &&
        grep -q "^model intercept recalibrated in the mean on 2014\.\.2019: shift " "$TMP/rc.txt" &&
        all_scores "$TMP/rc.txt"
}
check "China, intercept recalibrated at the cutoff" recalibrated

# the US data under other unit codes and another folder: same numbers
us_copy() {
    mkdir -p "$TMP/us/data" "$TMP/us/models" "$TMP/us/configs"
    sed 's/^\([A-Z][A-Z]\),/Q\1,/' "$ROOT/data/us-state-lottery/units.csv" >"$TMP/us/data/units.csv"
    sed 's/^\([A-Z][A-Z]\),\([A-Z][A-Z]\),/Q\1,Q\2,/' "$ROOT/data/us-state-lottery/contiguity.csv" \
        >"$TMP/us/data/contiguity.csv"
    cp "$ROOT/models/us-lottery-berry-berry.yaml" "$TMP/us/models/m.yaml"
    sed -e 's|^dataset:.*|dataset: ../data|' \
        -e 's|us-lottery-berry-berry.yaml|m.yaml|' -e '/^output:/d' "$US" >"$TMP/us/configs/c.yaml"
    grep -q "^dataset: \.\./data$" "$TMP/us/configs/c.yaml"
}
check "US data copied under other codes" us_copy

us_fit() {
    "$PDSIM" fit "$TMP/us/configs/c.yaml" >"$TMP/fit.txt" &&
        grep -q "^neighbours_adopted_pct  *$NUM.* *$NUM" "$TMP/fit.txt" &&
        grep -q "^events  *36 *$" "$TMP/fit.txt" && grep -q "^units at risk  *50 *$" "$TMP/fit.txt"
}
check "US fit: neighbour coefficient and SE" us_fit

us_backtest() {
    "$PDSIM" backtest "$US" --cutoff 1980 --refit -n 3000 -j 1 >"$TMP/us1.txt" &&
        "$PDSIM" backtest "$TMP/us/configs/c.yaml" --cutoff 1980 --refit -n 3000 -j 2 >"$TMP/us2.txt" &&
        all_scores "$TMP/us1.txt" && grep -q "^model refitted on 1964\.\.1980: .*neighbours_adopted_pct" "$TMP/us1.txt" &&
        grep -q "units at risk at the cutoff: 36 of 50 (14 adopted by 1980); adoptions in the window: 22" "$TMP/us1.txt" &&
        sed -e 1d -e '/^  \[1\]   model of /d' "$TMP/us1.txt" >"$TMP/a" &&
        sed -e 1d -e '/^  \[1\]   model of /d' "$TMP/us2.txt" >"$TMP/b" && cmp -s "$TMP/a" "$TMP/b"
}
check "US backtest 1980: scored against baselines; same for other codes and threads" us_backtest

rolling() {
    "$PDSIM" backtest "$US" --cutoff 1978..1982 --refit -n 3000 --csv "$TMP/r.csv" >"$TMP/roll.txt" &&
        grep -q "^== rolling origin: 1978\.\.1982 (5 origins) ==" "$TMP/roll.txt" &&
        grep -q "^constant hazard .* of 5$" "$TMP/roll.txt" &&
        [ "$(wc -l <"$TMP/r.csv")" -eq 21 ] && grep -q ",1980,1993,\"model\",36,325,22," "$TMP/r.csv" && grep -q ",1980,1993,\"model, channels off\",36,325,22," "$TMP/r.csv" &&
        head -1 "$TMP/r.csv" | grep -q "^config,cutoff,last_year,forecaster," &&
        grep -q "^== comparison of the forecasters over 5 origins (1978\.\.1982)" "$TMP/roll.txt" &&
        # the 1980 origin is the single-cutoff backtest
        sed -n '/^== cutoff 1980/,/^verdict/p' "$TMP/roll.txt" >"$TMP/a" &&
        "$PDSIM" backtest "$US" --cutoff 1980 --refit -n 3000 | sed -n '/^== cutoff 1980/,/^verdict/p' >"$TMP/b" &&
        [ -s "$TMP/a" ] && cmp -s "$TMP/a" "$TMP/b"
}
check "rolling origin 1978..1982 and CSV" rolling

# several configs: the same units, seed and runs; the comparison and stacking
two_configs() {
    "$PDSIM" backtest "$CN" "$ROOT/configs/paper-model4-recalibrated.yaml" --cutoff 2019 -n 500 \
        --hazards-csv "$TMP/h2.csv" >"$TMP/two.txt" &&
        [ "$(grep -c '^-- config [12] of 2: ' "$TMP/two.txt")" -eq 2 ] &&
        grep -q "^  \[2\]   model of .*paper-model4-recalibrated.yaml" "$TMP/two.txt" &&
        grep -q "^\[2\]  \[1\] .*(.*).*(.*).*(.*)" "$TMP/two.txt" &&
        grep -q "^\[1\]  \[5\] " "$TMP/two.txt" && ! grep -q "^\[1\]  \[2\] " "$TMP/two.txt" &&
        grep -q "^stacking weights" "$TMP/two.txt" &&
        [ "$(sed -n '/^stacking weights/,/^log score/p' "$TMP/two.txt" | grep -c '^\[[1-5]\]  *[01]\.[0-9]*$')" -eq 5 ] &&
        # the first config's block is its single-config backtest (same seed and runs)
        sed -n '/^-- config 1 of 2/,/^verdict/p' "$TMP/two.txt" | sed 1d >"$TMP/a" &&
        "$PDSIM" backtest "$CN" --cutoff 2019 -n 500 | sed -n '/^== cutoff 2019/,/^verdict/p' >"$TMP/b" &&
        [ -s "$TMP/a" ] && sed 's/^-- config 1 of 2: [^ ]* --//' "$TMP/a" | cmp -s - "$TMP/b" &&
        [ "$(wc -l <"$TMP/h2.csv")" -eq $((1 + 2 * 4 * 25 * 4)) ]
}
check "two configs: same origins, comparison, stacking, hazards CSV" two_configs
verdict_noise() { # no "beats": a difference within 2 SE is no clear difference
    ! grep -q "beats" "$TMP/two.txt" && grep -q "no clear difference" "$TMP/two.txt"
}
check "verdict: no clear difference within 2 SE" verdict_noise
other_dataset() { status_is 2 "$PDSIM" backtest "$CN" "$US" --cutoff 1990 -n 10 && stderr_has "must share the dataset and base_year"; }
check "configs on different datasets: exit 2" other_dataset
csv_over_config() {
    cp "$US" "$TMP/us-copy.yaml" 2>/dev/null; sed "s|^dataset: \.\./|dataset: $ROOT/|; s|^model: \.\./|model: $ROOT/|; /^output:/d" "$US" >"$TMP/us-copy.yaml" &&
        cp "$TMP/us-copy.yaml" "$TMP/keep.yaml" &&
        status_is 2 "$PDSIM" backtest "$TMP/us-copy.yaml" --cutoff 1980 -n 10 --hazards-csv "$TMP/us-copy.yaml" &&
        stderr_has "is an input of this command" && cmp -s "$TMP/us-copy.yaml" "$TMP/keep.yaml"
}
check "an output naming a config: exit 2, config kept" csv_over_config
check "cutoff after the data: exit 2" sh -c "'$PDSIM' backtest '$US' --cutoff 1993 2>&1 >/dev/null | grep -q 'outside the data.*1964..1993'; [ \$? -eq 0 ] && ! '$PDSIM' backtest '$US' --cutoff 1993 >/dev/null 2>&1"
out_before() { status_is 2 "$PDSIM" backtest "$US" --cutoff 1950..1960 && stderr_has "outside the data"; }
check "cutoff before the data: exit 2" out_before
no_events() { status_is 2 "$PDSIM" backtest "$CN" --cutoff 2013 -n 10 && stderr_has "leaves no adoption to fit on"; }
check "cutoff leaving no adoption to fit: exit 2" no_events
not_refittable() { status_is 2 "$PDSIM" backtest "$CN" --cutoff 2019 --refit -n 10 && stderr_has "could not be refitted"; }
check "model that cannot be refitted: exit 2" not_refittable
bad_arg() { status_is 2 "$PDSIM" backtest "$US" --cutoff 19x && stderr_has "expected a year or FROM..TO"; }
check "bad --cutoff: exit 2" bad_arg
firth_alone() { status_is 2 "$PDSIM" backtest "$US" --cutoff 1980 --firth && stderr_has "give --refit too"; }
check "--firth without --refit: exit 2" firth_alone
bad_seed() { status_is 2 "$PDSIM" backtest "$US" --cutoff 1980 -s -5 && stderr_has "--seed: expected"; }
check "bad --seed: exit 2" bad_seed
no_cutoff() { status_is 2 "$PDSIM" backtest "$US" && stderr_has "usage"; }
check "missing --cutoff: exit 2" no_cutoff
# a model with a posterior sample (fit --prior): refitted at each origin (the
# refit has no sample of its own) and recalibrated (the sample moves with the
# intercept), without a crash
posterior_model() {
    "$PDSIM" fit "$ROOT/data/china-group-schooling" "$ROOT/models/wu-zhao-2025-model1.yaml" \
        --prior "$ROOT/models/wu-zhao-2025-model1.yaml" --draws 200 --warmup 200 \
        -o "$TMP/post.yaml" >/dev/null &&
        printf 'extends: %s\nmodel: %s\noutput: %s\n' "$CN" "$TMP/post.yaml" "$TMP/post.h5" \
            >"$TMP/post-run.yaml" &&
        "$PDSIM" backtest "$TMP/post-run.yaml" --cutoff 2019..2020 --refit -n 500 >"$TMP/pr.txt" &&
        printf 'intercept_recalibration: in-sample\n' >>"$TMP/post-run.yaml" &&
        "$PDSIM" backtest "$TMP/post-run.yaml" --cutoff 2019 -n 500 >"$TMP/pc.txt" &&
        grep -q "recalibrated in the mean" "$TMP/pc.txt"
}
check "a model with posterior draws: refit and recalibration" posterior_model
no_csv_on_error() { status_is 2 "$PDSIM" backtest "$CN" --cutoff 2013 --csv "$TMP/e.csv" --hazards-csv "$TMP/eh.csv" && [ ! -e "$TMP/e.csv" ] && [ ! -e "$TMP/eh.csv" ] && ! ls "$TMP"/e.csv.tmp.* "$TMP"/eh.csv.tmp.* >/dev/null 2>&1; }
check "no CSV left after an error" no_csv_on_error
check "help backtest" sh -c "'$PDSIM' help backtest | grep -q 'Brier and log score per unit-year' && '$PDSIM' help backtest | grep -q -- '--hazards-csv' && '$PDSIM' help backtest | grep -q 'stacking weights' && '$PDSIM' backtest --help | grep -q -- '--refit'"
# a specification (a factor and a factor inside an interaction) refitted at
# each origin: backtest expands the factors on each history as fit does, so
# its scores equal those of the model fit -o wrote, refitted the same way
cat >"$TMP/fspec.yaml" <<'YAML'
name: fspec
link: logit
lag: 1
terms:
  - {name: region, unit: region, factor: true, reference: east}
  - {name: central_documents, dynamic: central_documents}
  - {name: region_x_docs, interact: [region, central_documents]}
YAML
spec_refit() {
    "$PDSIM" fit "$ROOT/data/china-group-schooling" "$TMP/fspec.yaml" --firth -o "$TMP/ffit.yaml" \
        >/dev/null &&
        for m in fspec ffit; do
            printf 'dataset: %s\nmodel: %s\nbase_year: 2023\nhorizon: 2030\nruns: 1000\nseed: 3\n' \
                "$ROOT/data/china-group-schooling" "$TMP/$m.yaml" >"$TMP/$m.cfg.yaml" &&
                "$PDSIM" backtest "$TMP/$m.cfg.yaml" --cutoff 2017..2019 --refit --firth \
                    --csv "$TMP/$m.bt.csv" >"$TMP/$m.bt.txt" || return 1
        done &&
        grep -q "region_x_docs\[west\]" "$TMP/fspec.bt.txt" &&
        [ "$(cut -d, -f2- "$TMP/fspec.bt.csv")" = "$(cut -d, -f2- "$TMP/ffit.bt.csv")" ]
}
check "a specification with factors, refitted at each origin = its fitted model refitted" spec_refit
spec_norefit() { status_is 2 "$PDSIM" backtest "$TMP/fspec.cfg.yaml" --cutoff 2019 -n 10 && stderr_has "fit it first"; }
check "... and without --refit: exit 2, fit it first" spec_norefit
finish
