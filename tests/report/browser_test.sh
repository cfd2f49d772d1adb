#!/bin/sh
# The report as a reader sees it: renders index.html in headless Chromium
# (scripts/report_browser.py), checks that every image loads, and keeps
# screenshots of the page in SHOT_DIR. Skipped (77) without Chromium or
# without a Python with h5py, numpy and matplotlib. Needs no network.
#   browser_test.sh PDSIM_BINARY REPO_ROOT SHOT_DIR
set -u
if ! PY=$(sh "$2/scripts/find-python.sh" h5py numpy matplotlib); then
    echo "SKIPPED: no Python with h5py, numpy and matplotlib (scripts/install-deps.sh test)"
    exit 77
fi
if ! command -v "${PDSIM_CHROMIUM:-chromium}" >/dev/null 2>&1 &&
    ! command -v chromium-browser >/dev/null 2>&1; then
    echo "SKIPPED: no Chromium (Debian package chromium; scripts/install-deps.sh test)"
    exit 77
fi
PDSIM_PYTHON=$PY exec "$PY" "$(dirname "$0")/browser_test.py" "$@"
