#!/bin/sh
# Bad sweep files and task options: every case folder under CASES_DIR holds a
# sweep.yaml, a file `expect` (first line: a fixed string stderr must contain,
# the file and line where known; optional second line: what was expected),
# and optionally `args` (extra options) and `env` (VAR=value words). Both
# `pdsim sweep --list` (cases without args or env) and `pdsim sweep` must exit
# with status 2 with that text and leave no part or merged file.
#   bad_sweeps.sh PDSIM_BINARY CASES_DIR
set -u
PDSIM=$1
CASES=$(cd "$2" && pwd)
. "$(dirname "$0")/lib.sh"
TIME_LIMIT=20
total=0

expect_bad() { # case dir, command...: exit 2 and the expected text on stderr
    dir=$1
    shift
    timeout -k 5 "$TIME_LIMIT" "$@" >/dev/null 2>"$TMP/err"
    st=$?
    [ $st -eq 2 ] || { echo "exit status $st, expected 2"; cat "$TMP/err"; return 1; }
    while IFS= read -r want; do
        [ -z "$want" ] || grep -q -F -e "$want" "$TMP/err" ||
            { echo "stderr lacks \"$want\":"; cat "$TMP/err"; return 1; }
    done <"$dir/expect"
    [ ! -e "$TMP/out/merged.h5" ] && [ -z "$(ls -A "$TMP/out/parts" 2>/dev/null)" ] ||
        { echo "left output behind"; return 1; }
}

for dir in "$CASES"/*/; do
    dir=${dir%/}
    name=${dir##*/}
    total=$((total + 1))
    rm -rf "$TMP/out"
    mkdir "$TMP/out"
    args=$(cat "$dir/args" 2>/dev/null)
    vars=$(cat "$dir/env" 2>/dev/null)
    # $args and $vars are split into words on purpose
    check "$name" expect_bad "$dir" env $vars "$PDSIM" sweep "$dir/sweep.yaml" -q \
        -o "$TMP/out/parts" -m "$TMP/out/merged.h5" $args
    if [ -z "$args$vars" ]; then
        check "$name (--list)" expect_bad "$dir" "$PDSIM" sweep "$dir/sweep.yaml" --list
    fi
done
[ "$total" -ge 20 ] || { echo "only $total cases in $CASES"; exit 1; }
finish
