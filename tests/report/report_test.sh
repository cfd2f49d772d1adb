#!/bin/sh
# Runs report_test.py (see there) with a Python that has h5py, numpy and
# matplotlib: $PDSIM_PYTHON if set, else the first of /usr/bin/python3 and
# python3 that imports them. Without one the test is skipped (exit 77).
#   report_test.sh csv|plots|bad PDSIM_BINARY REPO_ROOT
set -u
PY=""
for cand in ${PDSIM_PYTHON:-} /usr/bin/python3 python3; do
    if "$cand" -c "import h5py, numpy, matplotlib" 2>/dev/null; then
        PY=$cand
        break
    fi
done
if [ -z "$PY" ]; then
    echo "SKIPPED: no Python with h5py, numpy and matplotlib (set PDSIM_PYTHON, or run scripts/install-deps.sh test)"
    exit 77
fi
# the plots are made with the same interpreter
PDSIM_PYTHON=$PY exec "$PY" "$(dirname "$0")/report_test.py" "$@"
