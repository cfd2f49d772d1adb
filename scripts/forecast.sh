#!/bin/sh
# Quick start 1: install what is missing, build, and run the default forecast.
#   scripts/forecast.sh [CONFIG.yaml] [pdsim run options...]
# pdsim never replaces a finished result unasked: when the default forecast
# output/baseline.h5 is already there, this shows it (pdsim summary) instead
# of running again; add --replace to compute it anew.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh build
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" >/dev/null
if [ $# -eq 0 ] && [ -e output/baseline.h5 ]; then
    echo "output/baseline.h5 exists; its summary follows (scripts/forecast.sh configs/baseline.yaml --replace runs it again)" >&2
    exec build/pdsim summary output/baseline.h5
fi
config=${1:-configs/baseline.yaml}
[ $# -gt 0 ] && shift
exec build/pdsim run "$config" "$@"
