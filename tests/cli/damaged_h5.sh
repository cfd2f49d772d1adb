#!/bin/sh
# Damaged result files that make HDF5 1.10 itself loop forever, read or
# write past a buffer or ask for absurd amounts of memory
# (tests/corpus/hdf5-library-bugs/): every reader of pdsim refuses them
# with exit 2 and a message naming the file, within seconds, with no
# crash, no sanitizer report and no file written, because the library
# first reads them in a child process (sim/io/h5probe.h).
#   damaged_h5.sh PDSIM_BINARY TESTS_DIR
set -u
PDSIM=$1
TESTS=$(cd "$2" && pwd)
. "$TESTS/cli/lib.sh"
BUGS=$TESTS/corpus/hdf5-library-bugs

# STATUSES command...: the command exits with one of STATUSES within 60 s,
# names the file when it refuses it, reports no sanitizer error, leaves no
# core file and writes nothing into $TMP/w
refused() { # file statuses command...
    f=$1 want=$2
    shift 2
    rm -rf "$TMP/w"
    mkdir "$TMP/w"
    (cd "$TMP/w" && timeout -k 2 60 "$@" >"$TMP/s.out" 2>"$TMP/s.err")
    rc=$?
    case " $want " in *" $rc "*) ;; *)
        echo "exit $rc, expected one of: $want"
        return 1
        ;;
    esac
    if [ "$rc" -eq 2 ] && ! grep -q -F "$f" "$TMP/s.err"; then
        echo "the message does not name $f"
        return 1
    fi
    if grep -q -e Sanitizer -e 'runtime error' -e 'HDF5-DIAG' "$TMP/s.err"; then
        echo "a sanitizer report or an HDF5 dump on stderr"
        return 1
    fi
    if [ -n "$(ls -A "$TMP/w")" ]; then
        echo "files left:" $(ls -A "$TMP/w")
        return 1
    fi
}

n=0
for f in "$BUGS"/*.h5; do
    b=$(basename "$f")
    n=$((n + 1))
    # summary reads the summaries and the unit names, not the runs: a file
    # damaged only in the runs is read as it is (exit 0)
    check "summary refuses $b" refused "$f" "0 2" "$PDSIM" summary "$f"
    check "compare refuses $b" refused "$f" 2 "$PDSIM" compare "$f" "$f"
    check "merge refuses $b" refused "$f" 2 "$PDSIM" merge "$f" -o "$TMP/w/m.h5"
    check "report refuses $b" refused "$f" "2" "$PDSIM" report "$f" -o "$TMP/w/r"
done
check "the damaged files are there ($n)" [ "$n" -ge 12 ]

# a valid result still reads, and its unit names are those it holds
check "a valid result is read" "$PDSIM" run "$TESTS/data/run.yaml" -q -n 200 -o "$TMP/ok.h5"
check "summary of a valid result" "$PDSIM" summary "$TMP/ok.h5"
check "compare of a valid result" "$PDSIM" compare "$TMP/ok.h5" "$TMP/ok.h5"
finish
