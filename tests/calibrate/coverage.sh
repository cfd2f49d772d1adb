#!/bin/sh
# Runs coverage.py (see there); it needs only the standard library.
# PDSIM_PYTHON overrides the interpreter.
#   coverage.sh PDSIM_BINARY TESTS_DIR [SEEDS]
set -u
PY=${PDSIM_PYTHON:-/usr/bin/python3}
if ! "$PY" -I -c 'import sys' 2>/dev/null; then
    echo "SKIPPED: no Python at $PY (set PDSIM_PYTHON)"
    exit 77
fi
exec "$PY" -I "$(dirname "$0")/coverage.py" "$@"
