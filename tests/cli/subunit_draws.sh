#!/bin/sh
# With uncertainty: coefficients, each run also draws the city (sub-unit)
# model's coefficients from the model file's covariance; subunit_draws.py
# checks the draws and that the simulated cities follow them. The draws are
# a function of (seed, run): the same for any thread count and for a
# scenario run with the same seed (common random numbers).
#   subunit_draws.sh PDSIM_BINARY REPO_ROOT
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
DATA=$ROOT/data/china-group-schooling
cat >"$TMP/u.yaml" <<END
dataset: $DATA
model: $ROOT/models/wu-zhao-2025-model2.yaml
subunit_model: $ROOT/models/city-calibrated.yaml
base_year: 2023
horizon: 2026
runs: 20000
seed: 5
uncertainty: coefficients
output: $TMP/u.h5
reliability: {backtest_origins: 0}
END
check "run with coefficient uncertainty" "$PDSIM" run "$TMP/u.yaml" -q -j 2
check "the cities follow each run's drawn city coefficients" "$PY" -I "$here/subunit_draws.py" \
    "$TMP/u.h5" "$ROOT/models/city-calibrated.yaml" "$DATA/central_documents.csv"
check "the same on one thread" "$PDSIM" run "$TMP/u.yaml" -q -j 1 -o "$TMP/u1.h5"
check "... gives identical city years" h5diff "$TMP/u.h5" "$TMP/u1.h5" /runs/city_adoption_year
sed -e "s|u.h5|s.h5|" "$TMP/u.yaml" >"$TMP/s.yaml"
cat >>"$TMP/s.yaml" <<END
scenario:
  name: one more document
  central_documents: [{year: 2024, count: 1}]
END
check "a scenario with the same seed" "$PDSIM" run "$TMP/s.yaml" -q
check "... draws the same city coefficients in every run" h5diff "$TMP/u.h5" "$TMP/s.h5" \
    /runs/subunit_coefficients
sed -e "s|^uncertainty: .*|uncertainty: none|" -e "s|u.h5|n.h5|" "$TMP/u.yaml" >"$TMP/n.yaml"
check "without uncertainty" "$PDSIM" run "$TMP/n.yaml" -q
check "... no city coefficients are drawn" sh -c '! h5ls "$1/runs" | grep -q subunit_coefficients' _ "$TMP/n.h5"
finish
