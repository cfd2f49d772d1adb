#!/bin/sh
# The default forecast (configs/baseline.yaml) is what its comments say:
# - its model weights are the stacking weights that
#   scripts/fit-forecast-models.sh derives (the same backtest, recomputed
#   here: refits at the origins 2017..2021, 20,000 runs), to 0.002;
# - its in-sample check passes in every period (observed adoptions within
#   2 sd of the expected), and run prints no warning that it misses the past;
# - every run draws a model, a posterior draw of its coefficients and its
#   city coefficients (structural, parameter and calibration uncertainty).
#   default_forecast.sh PDSIM_BINARY REPO_ROOT
set -u
PDSIM=$1
ROOT=$(cd "$2" && pwd)
. "$(dirname "$0")/lib.sh"
C=$ROOT/configs

weights_match() {
    "$PDSIM" backtest "$C/forecast-constant.yaml" "$C/forecast-document-stock.yaml" \
        "$C/forecast-cities.yaml" --cutoff 2017..2021 --refit --firth -n 20000 \
        >"$TMP/bt.txt" || return 1
    sed -n 's/^\[\([0-9]\)\] *\([0-9.]*\) (models only)$/\1 \2/p' "$TMP/bt.txt" >"$TMP/w.txt"
    sed -n 's/^  - {model: [^,]*, weight: \([0-9.]*\)}$/\1/p' "$C/baseline.yaml" >"$TMP/cfg.txt"
    echo "stacking weights: $(cut -d' ' -f2 "$TMP/w.txt" | tr '\n' ' '); baseline.yaml: $(tr '\n' ' ' <"$TMP/cfg.txt")"
    [ "$(wc -l <"$TMP/w.txt")" -eq 3 ] && [ "$(wc -l <"$TMP/cfg.txt")" -eq 3 ] &&
        paste -d' ' "$TMP/w.txt" "$TMP/cfg.txt" |
        awk '{ d = $2 - $3; if (d < 0) d = -d; if (d > 0.002) bad = 1 } END { exit bad }'
}
check "baseline.yaml's weights are the stacking weights of the backtest" weights_match

insample_passes() {
    "$PDSIM" run "$C/baseline.yaml" -n 2000 -o "$TMP/b.h5" >"$TMP/run.txt" 2>&1 || return 1
    sed -n '/^  in-sample check/,/^  all /p' "$TMP/run.txt"
    [ "$(grep -c '^  20[0-9][0-9].20[0-9][0-9] ' "$TMP/run.txt")" -eq 3 ] &&
        ! grep -q '|z| > 2' "$TMP/run.txt" && ! grep -q "does not reproduce the observed past" "$TMP/run.txt"
}
check "the default forecast's in-sample check passes in each period" insample_passes
check "... and it draws posterior, structural and city uncertainty" sh -c '
    h5ls "$1/runs" >"$2" && grep -q "^model " "$2" && grep -q "^posterior_draw " "$2" &&
    grep -q "^subunit_coefficients " "$2" && grep -q "^coefficients " "$2"' _ "$TMP/b.h5" "$TMP/ls.txt"
PY=$(sh "$ROOT/scripts/find-python.sh" h5py numpy) &&
    check "... each run's coefficients are a row of its own model's posterior draws" \
        "$PY" -I "$(dirname "$0")/mixture_draws.py" "$TMP/b.h5" "$ROOT/models"
finish
