#!/bin/sh
# Two configs backtested together on rolling origins; backtest_hazards.py
# recomputes the scores, the paired differences and the stacking weights from
# the exported hazards (skipped, 77, without numpy, scipy and statsmodels).
#   backtest_hazards.sh PDSIM_BINARY REPO_ROOT
set -u
PDSIM=$1
ROOT=$(cd "$2" && pwd)
if ! PY=$(sh "$ROOT/scripts/find-python.sh" numpy scipy statsmodels); then
    echo "SKIPPED: no Python with numpy, scipy and statsmodels (set PDSIM_PYTHON)"
    exit 77
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
"$PDSIM" backtest "$ROOT/configs/paper-model4.yaml" "$ROOT/configs/paper-model4-recalibrated.yaml" \
    --cutoff 2017..2019 -n 400 -j 2 --csv "$TMP/s.csv" --hazards-csv "$TMP/h.csv" >"$TMP/out.txt" ||
    exit 1
"$PY" -I "$(dirname "$0")/backtest_hazards.py" "$TMP/h.csv" "$TMP/s.csv" "$TMP/out.txt" || exit 1
# one config, refitted: the same checks
"$PDSIM" backtest "$ROOT/configs/us-lottery.yaml" --cutoff 1979..1980 --refit -n 400 \
    --csv "$TMP/s1.csv" --hazards-csv "$TMP/h1.csv" >"$TMP/out1.txt" || exit 1
"$PY" -I "$(dirname "$0")/backtest_hazards.py" "$TMP/h1.csv" "$TMP/s1.csv" "$TMP/out1.txt" ||
    exit 1
# the backtest that `pdsim run` stores beside its forecast, of a mixture of
# two models (structural uncertainty), against the backtest of the same config
cat >"$TMP/mix.yaml" <<END
dataset: $ROOT/data/china-group-schooling
models:
  - {model: $ROOT/models/wu-zhao-2025-model4.yaml, weight: 2}
  - {model: $ROOT/models/wu-zhao-2025-model2.yaml, weight: 1}
subunit_model: $ROOT/models/city-calibrated.yaml
base_year: 2023
horizon: 2026
runs: 300
seed: 99
output: $TMP/mix.h5
reliability: {backtest_origins: 3, runs: 400}
END
"$PDSIM" run "$TMP/mix.yaml" -q -j 2 || exit 1
"$PDSIM" backtest "$TMP/mix.yaml" --cutoff 2019..2021 -n 400 --csv "$TMP/s2.csv" \
    --hazards-csv "$TMP/h2.csv" >"$TMP/out2.txt" || exit 1
exec "$PY" -I "$(dirname "$0")/backtest_hazards.py" "$TMP/h2.csv" "$TMP/s2.csv" "$TMP/out2.txt" \
    "$TMP/mix.h5"
