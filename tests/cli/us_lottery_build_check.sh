#!/bin/sh
# The US lottery dataset's files are exactly what build.py produces from the
# raw sources (standard library Python only).
#   us_lottery_build_check.sh REPO_ROOT
PY=$(sh "$1/scripts/find-python.sh" csv) || {
    echo "us_lottery_build_check: no python3" >&2
    exit 1
}
exec "$PY" "$1/data/us-state-lottery/build.py" --check
