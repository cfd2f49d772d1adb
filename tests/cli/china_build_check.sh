#!/bin/sh
# The China dataset's files and the counts in its README are exactly what
# build.py produces from the raw sources (standard library Python only).
#   china_build_check.sh REPO_ROOT
for cand in ${PDSIM_PYTHON:-} /usr/bin/python3 python3; do
    if "$cand" -c "import csv" 2>/dev/null; then
        exec "$cand" "$1/data/china-group-schooling/build.py" --check
    fi
done
echo "china_build_check: no python3" >&2
exit 1
