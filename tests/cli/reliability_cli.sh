#!/bin/sh
# The reliability note of `pdsim run` (the in-sample check per period and the
# data's provenance counts), against an independent recomputation in numpy,
# for one model and for a mixture of two (structural uncertainty).
#   reliability_cli.sh PDSIM_BINARY REPO_ROOT
set -u
PDSIM=$1
ROOT=$2
TESTS=$ROOT/tests
here=$(dirname "$0")
. "$here/lib.sh"
PY=$(sh "$ROOT/scripts/find-python.sh" h5py numpy)
if [ -z "$PY" ]; then
    echo "SKIPPED: no Python with h5py and numpy (set PDSIM_PYTHON)"
    exit 77
fi
M4=$ROOT/models/wu-zhao-2025-model4.yaml
M2=$ROOT/models/wu-zhao-2025-model2.yaml
M1=$ROOT/models/wu-zhao-2025-model1.yaml
DATA=$ROOT/data/china-group-schooling
cat >"$TMP/one.yaml" <<END
dataset: $DATA
model: $M4
base_year: 2023
horizon: 2026
runs: 200
output: $TMP/one.h5
END
cat >"$TMP/mix.yaml" <<END
dataset: $DATA
models:
  - {model: $M2, weight: 3}
  - {model: $M1, weight: 1}
base_year: 2023
horizon: 2026
runs: 200
output: $TMP/mix.h5
END
sed -e "s|^model: .*|model: $M2|" -e "s|one.h5|two.h5|" "$TMP/one.yaml" >"$TMP/two.yaml"
# the unit-year tables of the models' terms (Models 1 and 2 can be fitted on
# this panel; Model 4 cannot: its teacher-title share is a constant)
check "table of Model 2 exported" "$PDSIM" fit "$TMP/one.yaml" "$M2" --export-table "$TMP/t2.csv"
check "table of Model 1 exported" "$PDSIM" fit "$TMP/one.yaml" "$M1" --export-table "$TMP/t1.csv"
check "run, one model" "$PDSIM" run "$TMP/two.yaml" -q
check "one model: in-sample check equals numpy" "$PY" -I "$here/reliability_check.py" \
    "$TMP/two.h5" "$M2" "$TMP/t2.csv" 1
check "run, two models" "$PDSIM" run "$TMP/mix.yaml" -q
check "two models: weighted hazards equal numpy" "$PY" -I "$here/reliability_check.py" \
    "$TMP/mix.h5" "$M2" "$TMP/t2.csv" 0.75 "$M1" "$TMP/t1.csv" 0.25
check "run, Model 4" "$PDSIM" run "$TMP/one.yaml" -q
"$PDSIM" run "$TMP/one.yaml" -o "$TMP/one-b.h5" >"$TMP/run.out" 2>&1
check "run prints the reliability note" grep -q "^Reliability of this forecast" "$TMP/run.out"
check "... warns that Model 4 misses 2021-2023" grep -q "does not reproduce the observed past" "$TMP/run.out"
check "... warns that no uncertainty is drawn" grep -q "no parameter uncertainty" "$TMP/run.out"
check "... counts the panel's provenance" grep -q "panel.csv: 3069 values" "$TMP/run.out"
check "... shows the backtest against the baselines" grep -q "^  constant hazard  .* [0-9.]*$" "$TMP/run.out"
check "... and stores it" sh -c 'h5ls "$1/reliability" | grep -q "^backtest "' _ "$TMP/one-b.h5"
check "run --no-backtest" "$PDSIM" run "$TMP/one.yaml" -q --no-backtest -o "$TMP/nob.h5"
check "... stores no backtest" sh -c '! h5ls "$1/reliability" | grep -q "^backtest"' _ "$TMP/nob.h5"
# model and models replace each other under extends; models stay relative
# to the config that names them
mkdir -p "$TMP/sub"
cat >"$TMP/sub/ext.yaml" <<END
extends: ../one.yaml
models:
  - {model: $M2, weight: 1}
  - {model: $M1, weight: 1}
output: $TMP/ext.h5
END
check "a config extending a one-model config may name models" "$PDSIM" validate "$TMP/sub/ext.yaml"
"$PDSIM" validate "$TMP/sub/ext.yaml" >"$TMP/ext.out" 2>&1
check "... and its resolved settings list them" grep -q "model: \"$M1\", weight: 0.5" "$TMP/ext.out"
cat >"$TMP/sub/back.yaml" <<END
extends: $TMP/mix.yaml
model: $M4
output: $TMP/back.h5
END
"$PDSIM" validate "$TMP/sub/back.yaml" >"$TMP/back.out" 2>&1
check "a config extending a models config may name one model" grep -q "^model: \"$M4\"" "$TMP/back.out"
check "... whose resolved settings have no models" sh -c '! grep -q "^models:" "$1"' _ "$TMP/back.out"
"$PDSIM" summary "$TMP/one.h5" >"$TMP/sum.out" 2>&1
sed -n '/^Reliability/,$p' "$TMP/sum.out" >"$TMP/sum.rel"
sed -n '/^Reliability/,/^pdsim: warning: no parameter/p' "$TMP/run.out" >"$TMP/run.rel"
check "summary prints the same note as run" diff "$TMP/run.rel" "$TMP/sum.rel"
finish
