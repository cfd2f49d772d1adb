#!/bin/sh
# Calibrate the city model to the known city facts (simulated method of
# moments on a 2014-2023 hindcast, common random numbers; see
# scripts/calibrate_city_model.py for targets and method). Writes
# models/city-calibrated.yaml and models/city-calibrated.fit.md.
#   scripts/calibrate-city-model.sh [--runs N] [--seed S] [--check-runs N]
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh calibrate
cmake --preset release >/dev/null
cmake --build --preset release -j 2 >/dev/null
PY=$(scripts/find-python.sh h5py numpy scipy matplotlib) || {
    echo "calibrate-city-model: no Python with h5py, numpy, scipy and matplotlib (set PDSIM_PYTHON)" >&2
    exit 1
}
exec nice -n 19 "$PY" scripts/calibrate_city_model.py build/pdsim . models/city-calibrated.yaml "$@"
