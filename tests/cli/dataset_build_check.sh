#!/bin/sh
# A dataset's files (and the counts in its README) are exactly what its
# build.py produces from the raw sources (standard library Python only).
# Skipped (77) when the raw source folder is not there: $PDSIM_RAW_DATA,
# else ../shared/data beside the repository.
#   dataset_build_check.sh REPO_ROOT DATASET
ROOT=$1
raw=${PDSIM_RAW_DATA:-$ROOT/../shared/data}
if [ ! -d "$raw" ]; then
    echo "SKIPPED: no raw source folder $raw (set PDSIM_RAW_DATA)"
    exit 77
fi
PY=$(sh "$ROOT/scripts/find-python.sh" csv) || {
    echo "dataset_build_check: no python3" >&2
    exit 1
}
exec "$PY" "$ROOT/data/$2/build.py" --check
