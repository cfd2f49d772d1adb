#!/bin/sh
# Inputs that are not regular files, or files without line ends: a dataset
# file that is /dev/zero, a folder, a loop of symbolic links or a line of
# 2 MB is refused at once (exit 2, file named), never read forever.
#   inputs_cli.sh PDSIM_BINARY TESTS_DIR
set -u
PDSIM=$1
TESTS=$2
. "$TESTS/cli/lib.sh"

absolute_config "$TESTS/bad-inputs/panel-nan/run.yaml" "$TMP/run.yaml" \
    -e "s|^dataset: .*|dataset: $TMP/ds|"
fresh() {
    rm -rf "$TMP/ds"
    cp -r "$TESTS/data/small" "$TMP/ds"
    rm -f "$TMP/ds/panel.csv"
}
refused() { # expected text in stderr
    status_is 2 timeout -k 2 20 "$PDSIM" validate "$TMP/run.yaml" &&
        grep -q -F -e "$1" "$TMP/s.err"
}

fresh
ln -s /dev/zero "$TMP/ds/panel.csv"
check "a dataset file that is /dev/zero is refused at once" \
    refused "panel.csv:1: contains a NUL byte"

fresh
mkdir "$TMP/ds/panel.csv"
check "a folder where a file is expected is named as such" \
    refused "panel.csv: is a folder: expected a file"

fresh
ln -s loop-b "$TMP/ds/loop-a"
ln -s loop-a "$TMP/ds/loop-b"
ln -s loop-a "$TMP/ds/panel.csv"
check "a loop of symbolic links is named as such" \
    refused "panel.csv: cannot open: a loop of symbolic links"

fresh
{
    head -n 3 "$TESTS/data/small/panel.csv"
    printf 'A,2013,'
    head -c 2100000 /dev/zero | tr '\0' 1
    printf ',1,sourced\n'
} >"$TMP/ds/panel.csv"
check "a line of 2 MB is refused" refused "panel.csv:4: line longer than 1048576 bytes"

fresh
mkfifo "$TMP/ds/panel.csv"
(tr '\0' 'x' </dev/zero >"$TMP/ds/panel.csv" 2>/dev/null &)
check "an endless stream without line ends is refused" refused "panel.csv:1: line longer than"

finish
