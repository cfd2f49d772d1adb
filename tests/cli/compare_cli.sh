#!/bin/sh
# End-to-end checks of `pdsim compare`: exact zeros for identical runs,
# refusal of unpaired or damaged files, and a real paired difference.
#   compare_cli.sh PDSIM_BINARY TESTS_DIR
set -u
PDSIM=$1
TESTS=$(cd "$2" && pwd)
. "$(dirname "$0")/lib.sh"
D=$TESTS/data
# the small test config with absolute paths, so that it can live in $TMP
sed -e "s|^dataset: |dataset: $D/|" -e "s|^model: |model: $D/|" -e "s|^subunit_model: |subunit_model: $D/|" \
    "$D/run.yaml" >"$TMP/base.yaml"
cp "$TMP/base.yaml" "$TMP/scen.yaml"
printf 'scenario:\n  name: one more document in 2018\n  central_documents:\n    - {year: 2018, count: 1, weight: 2}\n' >>"$TMP/scen.yaml"
cp "$TMP/base.yaml" "$TMP/null.yaml"
printf 'scenario:\n  name: a document after the horizon\n  central_documents:\n    - {year: 2030, count: 1}\n  channels: {central_documents: true, neighbours: true, subunits: true}\n' >>"$TMP/null.yaml"
"$PDSIM" run "$TMP/base.yaml" -q -n 4000 -s 5 -o "$TMP/a.h5"
"$PDSIM" run "$TMP/null.yaml" -q -n 4000 -s 5 -o "$TMP/null.h5"
"$PDSIM" run "$TMP/base.yaml" -q -n 4000 -s 5 -o "$TMP/a2.h5"
"$PDSIM" run "$TMP/base.yaml" -q -n 4000 -s 6 -o "$TMP/seed6.h5"
"$PDSIM" run "$TMP/base.yaml" -q -n 3000 -s 5 -o "$TMP/n3000.h5"
"$PDSIM" run "$TMP/scen.yaml" -q -n 4000 -s 5 -o "$TMP/s.h5"

zeros() { # every difference in the CSV is exactly 0
    "$PDSIM" compare "$1" "$2" --csv "$TMP/z.csv" >"$TMP/z.txt" &&
        grep -q "no difference in any run" "$TMP/z.txt" &&
        awk -F, 'NR > 1 && $1 != "variance_reduction" && $6 != "" && $6 + 0 != 0 { bad = 1 } END { exit bad }' "$TMP/z.csv"
}
check "a file against itself: all differences 0" zeros "$TMP/a.h5" "$TMP/a.h5"
check "same seed twice: all differences 0" zeros "$TMP/a.h5" "$TMP/a2.h5"
check "a scenario that changes nothing: all differences 0" zeros "$TMP/a.h5" "$TMP/null.h5"
refused() { # expected text, files...
    text=$1
    shift
    status_is 2 "$PDSIM" compare "$@" && grep -q "$text" "$TMP/s.err"
}
check "different seeds refused" refused "seed differs" "$TMP/a.h5" "$TMP/seed6.h5"
check "different run counts refused" refused "n_runs differs" "$TMP/a.h5" "$TMP/n3000.h5"
head -c 1000 "$TMP/a.h5" >"$TMP/broken.h5"
check "damaged file refused" refused "broken.h5" "$TMP/a.h5" "$TMP/broken.h5"
check "missing file refused" refused "nope.h5" "$TMP/a.h5" "$TMP/nope.h5"
check "one argument is a usage error" status_is 2 "$PDSIM" compare "$TMP/a.h5"
real_difference() {
    "$PDSIM" compare "$TMP/a.h5" "$TMP/s.h5" --csv "$TMP/d.csv" -o "$TMP/d.h5" >"$TMP/d.txt" &&
        awk -F, '$1 == "national_adopted" { last = $6 } END { exit !(last >= 0) }' "$TMP/d.csv" &&
        awk -F, '$1 == "national_adopted" && $6 + 0 < 0 { bad = 1 } END { exit bad }' "$TMP/d.csv" &&
        awk -F, '$1 == "variance_reduction" && ($6 == "inf" || $6 + 0 > 1) { ok = 1 } END { exit !ok }' "$TMP/d.csv" &&
        h5dump -H "$TMP/d.h5" | grep -q national_adopted_diff && [ -z "$(find "$TMP" -name 'd.h5.tmp.*')" ]
}
check "a real difference: never negative, pairing reduces variance" real_difference
finish
