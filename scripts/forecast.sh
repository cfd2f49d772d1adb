#!/bin/sh
# Quick start 1: install what is missing, build, and run the default forecast.
#   scripts/forecast.sh [CONFIG.yaml] [pdsim run options...]
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh build
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" >/dev/null
config=${1:-configs/baseline.yaml}
[ $# -gt 0 ] && shift
exec build/pdsim run "$config" "$@"
