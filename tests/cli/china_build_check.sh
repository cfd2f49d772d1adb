#!/bin/sh
# The China dataset's files and the counts in its README are exactly what
# build.py produces from the raw sources (standard library Python only).
#   china_build_check.sh REPO_ROOT
PY=$(sh "$1/scripts/find-python.sh" csv) || {
    echo "china_build_check: no python3" >&2
    exit 1
}
exec "$PY" "$1/data/china-group-schooling/build.py" --check
