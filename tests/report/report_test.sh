#!/bin/sh
# Runs report_test.py (see there) with a Python that has h5py, numpy and
# matplotlib (scripts/find-python.sh). Without one the test is skipped (77).
#   report_test.sh csv|plots|bad PDSIM_BINARY REPO_ROOT
set -u
if ! PY=$(sh "$3/scripts/find-python.sh" h5py numpy matplotlib); then
    echo "SKIPPED: no Python with h5py, numpy and matplotlib (set PDSIM_PYTHON, or run scripts/install-deps.sh test)"
    exit 77
fi
# pdsim report uses the same interpreter
PDSIM_PYTHON=$PY exec "$PY" "$(dirname "$0")/report_test.py" "$@"
