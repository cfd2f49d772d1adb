#!/bin/sh
# Remake the example pictures of docs/report.md, drawn small (75 dpi): the
# default forecast (configs/baseline.yaml, all its runs), the 2026-document
# scenario compared with it, and two sweeps of the default forecast:
# configs/sweep-lhs.yaml (64 points x 2000 runs) for the responses and
# configs/sweep-sobol.yaml (1536 points x 1000 runs) for the Sobol indices.
# With Chromium, also screenshots of the page (scripts/report_browser.py).
# About a minute on two cores.
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
"$PDSIM" sweep configs/sweep-lhs.yaml -q -o "$tmp/lhs.parts" -m "$tmp/lhs.h5"
"$PDSIM" sweep configs/sweep-sobol.yaml -q -o "$tmp/sobol.parts" -m "$tmp/sobol.h5"
PDSIM_PYTHON=$PY "$PDSIM" report "$tmp/base.h5" "$tmp/diff.h5" "$tmp/sobol.h5" \
    -o "$tmp/report" --dpi 75 -q
# the responses from the LHS: its points spread evenly over each range
PDSIM_PYTHON=$PY "$PDSIM" report "$tmp/lhs.h5" --year 2030 -o "$tmp/report-lhs" --dpi 75 -q
cp "$tmp"/report/*.png docs/img/report/
cp "$tmp/report-lhs/sweep_response.png" docs/img/report/
# the page as a reader sees it: its top and the units table
if "$PY" -I scripts/report_browser.py "$tmp/report" --screenshots "$tmp/shots" --scale 0.5 \
    >/dev/null; then
    cp "$tmp/shots/page.png" "$tmp/shots/page_units.png" docs/img/report/
else
    echo "doc-plots: no page screenshots (no Chromium, or an image did not load)" >&2
fi
ls -l docs/img/report
