#!/bin/sh
# Bad-input checks: every case folder under CASES_DIR holds a run.yaml that is
# wrong in one way, and a file `expect` whose first line is a fixed string that
# must appear in stderr (the file name and, where it is known, the line), and
# whose optional second line is a further fixed string (what was expected).
# For each case both `pdsim validate` and `pdsim run` must exit with status 2,
# print the expected text, print no sanitizer report, and `pdsim run` must
# leave no output file (neither OUT.h5 nor a partial OUT.h5.partial). A case
# with a file `fit.args` is an error only `pdsim fit` sees (a factor's levels
# need the data): `pdsim fit $(cat fit.args)` is run in the case's folder
# instead, with the same checks.
#   bad_inputs.sh PDSIM_BINARY CASES_DIR
set -u

MIN_CASES=40
TIME_LIMIT=20

if [ $# -ne 2 ]; then
    echo "usage: $0 PDSIM_BINARY CASES_DIR" >&2
    exit 2
fi

abspath() { # a file or folder, made absolute
    case $1 in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s/%s\n' "$(pwd)" "$1" ;;
    esac
}

PDSIM=$(abspath "$1")
if [ ! -d "$2" ]; then
    echo "bad_inputs.sh: $2: not a folder" >&2
    exit 2
fi
CASES=$(cd "$2" && pwd)
if [ ! -x "$PDSIM" ]; then
    echo "bad_inputs.sh: $PDSIM: not an executable" >&2
    exit 2
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/pdsim-bad-inputs.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

pass=0
fail=0
total=0

# Runs a command with the time limit; stderr to $TMP/err, stdout discarded.
# Sets $status.
run_cmd() {
    timeout -k 5 "$TIME_LIMIT" "$@" >/dev/null 2>"$TMP/err"
    status=$?
}

# Checks the status and stderr of the last run_cmd; appends to $why.
check_result() { # label
    label=$1
    if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
        why="$why; $label: no answer within ${TIME_LIMIT} s (status $status)"
    elif [ "$status" -gt 128 ]; then
        why="$why; $label: killed by signal $((status - 128))"
    elif [ "$status" -ne 2 ]; then
        why="$why; $label: exit status $status, expected 2"
    fi
    if grep -q -e 'Sanitizer' -e 'runtime error' "$TMP/err"; then
        why="$why; $label: sanitizer report in stderr"
    fi
    if [ -n "$want1" ] && ! grep -q -F -e "$want1" "$TMP/err"; then
        why="$why; $label: stderr lacks \"$want1\""
    fi
    if [ -n "$want2" ] && ! grep -q -F -e "$want2" "$TMP/err"; then
        why="$why; $label: stderr lacks \"$want2\""
    fi
    if [ -n "$why" ]; then
        # keep the first few lines of stderr for the report
        first_err=$(head -n 3 "$TMP/err" | sed 's/^/        /')
    fi
}

for dir in "$CASES"/*/; do
    [ -d "$dir" ] || continue
    dir=${dir%/}
    name=${dir##*/}
    total=$((total + 1))
    why=""
    first_err=""
    if [ ! -f "$dir/run.yaml" ]; then
        echo "FAIL $name: no run.yaml"
        fail=$((fail + 1))
        continue
    fi
    if [ ! -f "$dir/expect" ]; then
        echo "FAIL $name: no expect file"
        fail=$((fail + 1))
        continue
    fi
    want1=$(sed -n 1p "$dir/expect")
    want2=$(sed -n 2p "$dir/expect")
    if [ -z "$want1" ]; then
        echo "FAIL $name: the first line of expect is empty"
        fail=$((fail + 1))
        continue
    fi

    out="$TMP/out/out.h5"
    rm -rf "$TMP/out"
    mkdir "$TMP/out"

    if [ -f "$dir/fit.args" ]; then
        # an error only fit can see (a factor's levels): pdsim fit ARGS, run in the case's folder
        status=0
        # shellcheck disable=SC2046
        (cd "$dir" && timeout -k 5 "$TIME_LIMIT" "$PDSIM" fit $(cat fit.args) >/dev/null 2>"$TMP/err") ||
            status=$?
        check_result fit
        validate_err=$first_err
        run_err=""
    else
    run_cmd "$PDSIM" validate "$dir/run.yaml"
    check_result validate
    validate_err=$first_err

    run_cmd "$PDSIM" run "$dir/run.yaml" -q -o "$out"
    check_result run
    run_err=$first_err
    fi

    if [ -e "$out" ]; then
        why="$why; run: left $out behind"
    fi
    for f in "$out".tmp.* "$out".partial; do
        if [ -e "$f" ]; then
            why="$why; run: left the temporary ${f##*/} behind"
        fi
    done

    if [ -z "$why" ]; then
        echo "ok $name"
        pass=$((pass + 1))
    else
        echo "FAIL $name: ${why#; }"
        [ -n "$validate_err" ] && printf '    validate stderr:\n%s\n' "$validate_err"
        [ -n "$run_err" ] && [ "$run_err" != "$validate_err" ] &&
            printf '    run stderr:\n%s\n' "$run_err"
        fail=$((fail + 1))
    fi
done

echo "$pass passed, $fail failed"
if [ "$total" -lt "$MIN_CASES" ]; then
    echo "bad_inputs.sh: only $total cases in $CASES (at least $MIN_CASES expected)" >&2
    exit 1
fi
[ "$fail" -eq 0 ]
