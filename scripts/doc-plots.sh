#!/bin/sh
# Remake the example pictures of docs/report.md: the default forecast
# (configs/baseline.yaml, all its runs), the 2026-document scenario compared
# with it, and a synthetic sweep file (scripts/example_sweep.py; invented
# numbers, to show the sweep plots), drawn small (75 dpi).
#   scripts/doc-plots.sh [PDSIM_BINARY]     (default: build/pdsim)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PDSIM=${1:-$ROOT/build/pdsim}
PY=$(sh "$ROOT/scripts/find-python.sh" h5py numpy matplotlib) || {
    echo "doc-plots: no Python with h5py, numpy and matplotlib (scripts/install-deps.sh test)" >&2
    exit 1
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$ROOT"
"$PDSIM" run configs/baseline.yaml -q -o "$tmp/base.h5"
"$PDSIM" run configs/scenario-document-2026.yaml -q -o "$tmp/scen.h5"
"$PDSIM" compare "$tmp/base.h5" "$tmp/scen.h5" -q -o "$tmp/diff.h5"
"$PY" scripts/example_sweep.py "$tmp/sweep.h5"
PDSIM_PYTHON=$PY "$PDSIM" report "$tmp/base.h5" "$tmp/diff.h5" "$tmp/sweep.h5" -o "$tmp/report" --dpi 75 -q
cp "$tmp"/report/*.png docs/img/report/
ls -l docs/img/report
