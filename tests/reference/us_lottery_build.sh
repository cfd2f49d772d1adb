#!/bin/sh
# data/us-state-lottery is what its build.py makes from the raw sources.
#   us_lottery_build.sh REPO_ROOT
# Needs only Python's standard library: $PDSIM_PYTHON, else /usr/bin/python3,
# else python3. Skipped (exit 77) when no Python or no raw source folder.
set -u
ROOT=$1
SRC=$ROOT/../shared/data/us-state-policies
PY=""
for cand in ${PDSIM_PYTHON:-} /usr/bin/python3 python3; do
    if "$cand" -c "import csv" 2>/dev/null; then
        PY=$cand
        break
    fi
done
if [ -z "$PY" ] || [ ! -d "$SRC" ]; then
    echo "SKIPPED: no Python 3 or no raw sources at $SRC"
    exit 77
fi
"$PY" "$ROOT/data/us-state-lottery/build.py" --check
