#!/bin/sh
# Foreign code: a numpy.py in the folder where pdsim report (or
# scripts/find-python.sh) runs is never imported (the interpreters are
# probed and the plotting script run in isolated mode, -I), and a result
# file whose name begins with '-' is drawn like any other.
#   python_cli.sh PDSIM_BINARY SOURCE_DIR
set -u
PDSIM=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SRC=$(cd "$2" && pwd)
TESTS=$SRC/tests
. "$TESTS/cli/lib.sh"
if ! /usr/bin/python3 -I -c "import h5py, matplotlib, numpy" 2>/dev/null; then
    echo "skipped: /usr/bin/python3 lacks h5py, matplotlib or numpy"
    exit 77
fi
absolute_config "$TESTS/data/run.yaml" "$TMP/run.yaml"
"$PDSIM" run "$TMP/run.yaml" -q -n 200 -o "$TMP/a.h5" || exit 1
mkdir "$TMP/cwd"
cat >"$TMP/cwd/numpy.py" <<PY
open("$TMP/cwd/IMPORTED", "w").write("the current folder's numpy.py ran")
raise SystemExit(3)
PY
cp "$TMP/a.h5" "$TMP/cwd/-a.h5"

check "report ignores a numpy.py in the current folder" sh -c '
    cd "$1/cwd" && unset PDSIM_PYTHON && "$2" report "$1/a.h5" -o "$1/rep1" -q &&
        [ -f "$1/rep1/index.html" ] && [ ! -e "$1/cwd/IMPORTED" ]' sh "$TMP" "$PDSIM"
check "scripts/find-python.sh ignores a numpy.py in the current folder" sh -c '
    cd "$1/cwd" && py=$(PDSIM_PYTHON= sh "$2/scripts/find-python.sh" numpy h5py) &&
        [ -n "$py" ] && [ ! -e "$1/cwd/IMPORTED" ]' sh "$TMP" "$SRC"
check "report draws a result file named -a.h5" sh -c '
    cd "$1/cwd" && rm -f numpy.py && "$2" report -o "$1/rep2" -q -- -a.h5 &&
        [ -f "$1/rep2/index.html" ] && grep -q -- "-a.h5" "$1/rep2/index.html"' sh "$TMP" "$PDSIM"
check "a PDSIM_PYTHON that does not exist is an error, not a fallback" sh -c '
    PDSIM_PYTHON=/nonexistent/python3 "$2" report "$1/a.h5" -o "$1/rep3" -q 2>"$1/np.err"
    [ $? -eq 1 ] && grep -q "PDSIM_PYTHON=/nonexistent/python3" "$1/np.err" &&
        [ ! -e "$1/rep3/index.html" ]' sh "$TMP" "$PDSIM"
check "report -o a/b/c makes every level" sh -c '
    cd "$1" && "$2" report a.h5 -o deep/a/b/c -q && [ -f deep/a/b/c/index.html ]' sh "$TMP" "$PDSIM"
finish
