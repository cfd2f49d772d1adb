#!/bin/sh
# End-to-end checks of `pdsim compare`: exact zeros for identical runs,
# refusal of unpaired, damaged or incomplete files, and a real paired
# difference with its outputs.
#   compare_cli.sh PDSIM_BINARY TESTS_DIR
set -u
PDSIM=$1
TESTS=$(cd "$2" && pwd)
. "$(dirname "$0")/lib.sh"
D=$TESTS/data
CONFIG=$D/run.yaml
RUN="-q -n 2000 -s 5"

absolute_config "$CONFIG" "$TMP/base.yaml"
cp "$TMP/base.yaml" "$TMP/scen.yaml"
printf 'scenario:\n  name: one more binding document in 2018\n  central_documents:\n    - {year: 2018, count: 1, weight: 2}\n' >>"$TMP/scen.yaml"
cp "$TMP/base.yaml" "$TMP/null.yaml"
printf 'scenario:\n  name: a document after the horizon\n  central_documents:\n    - {year: 2030, count: 1}\n' >>"$TMP/null.yaml"
# the same model under another path: pairing must notice the model attribute
cp "$D/model.yaml" "$TMP/model.yaml"
sed "s|^model: .*|model: $TMP/model.yaml|" "$TMP/base.yaml" >"$TMP/model2.yaml"
cp "$TMP/base.yaml" "$TMP/unc.yaml"
echo "uncertainty: coefficients" >>"$TMP/unc.yaml"
# a changed dataset: one more central document in 2017
cp -R "$D/small" "$TMP/ds"
echo "2017,3,1,extra" >>"$TMP/ds/documents.csv"
sed "s|^dataset: .*|dataset: $TMP/ds|" "$TMP/base.yaml" >"$TMP/ds.yaml"
# the scenario without per-run sub-unit years
cp "$TMP/scen.yaml" "$TMP/nosub.yaml"
echo "store_subunit_years: false" >>"$TMP/nosub.yaml"

# the result files ($RUN is split into words on purpose); a failed run shows
# up as failed checks below
{
    "$PDSIM" run "$CONFIG" $RUN -o "$TMP/a.h5"
    "$PDSIM" run "$CONFIG" $RUN -o "$TMP/a2.h5"
    "$PDSIM" run "$TMP/base.yaml" $RUN -o "$TMP/base.h5"
    "$PDSIM" run "$TMP/null.yaml" $RUN -o "$TMP/null.h5"
    "$PDSIM" run "$TMP/scen.yaml" $RUN -o "$TMP/scen.h5"
    "$PDSIM" run "$TMP/model2.yaml" $RUN -o "$TMP/model2.h5"
    "$PDSIM" run "$TMP/unc.yaml" $RUN -o "$TMP/unc.h5"
    "$PDSIM" run "$TMP/ds.yaml" $RUN -o "$TMP/ds.h5"
    "$PDSIM" run "$TMP/nosub.yaml" $RUN -o "$TMP/nosub.h5"
    "$PDSIM" run "$CONFIG" -q -n 2000 -s 6 -o "$TMP/seed6.h5"
    "$PDSIM" run "$CONFIG" -q -n 1000 -s 5 -o "$TMP/n1000.h5"
} 2>"$TMP/runs.err"

zeros() { # files and options...: exit 0, "no difference", every CSV difference exactly 0,
    # in the unit and in the sub-unit CSV
    rm -f "$TMP/z-subunits.csv"
    "$PDSIM" compare "$@" --csv "$TMP/z.csv" --replace >"$TMP/z.txt" &&
        grep -q "no difference in any run" "$TMP/z.txt" &&
        [ "$(wc -l <"$TMP/z.csv")" -gt 1 ] &&
        awk -F, 'NR > 1 && $1 != "variance_of_difference" && ($7 != "0" || $8 != "0" || $9 != "0") { bad = 1 }
                 END { exit bad }' "$TMP/z.csv" &&
        grep -q "^Sub-units: share adopted by .*difference +0.0000 (SE 0.0000)$" "$TMP/z.txt" &&
        grep -q "every one of the 12 sub-units adopts in the same year" "$TMP/z.txt" &&
        [ "$(wc -l <"$TMP/z-subunits.csv")" -gt 1 ] &&
        awk -F, 'NR > 1 && ($9 != "0" || $10 != "0" || $11 != "0") { bad = 1 }
                 END { exit bad }' "$TMP/z-subunits.csv"
}
check "a file against itself: no difference, all 0" zeros "$TMP/a.h5" "$TMP/a.h5"
check "two runs with the same seed: no difference, all 0" zeros "$TMP/a.h5" "$TMP/a2.h5"
check "a scenario that changes nothing: no difference, all 0" zeros "$TMP/base.h5" "$TMP/null.h5"
check "the same dataset and model spelled two ways pair" zeros "$TMP/a.h5" "$TMP/base.h5"

refused() { # expected text on stderr, compare arguments...: exit 2 with that text
    text=$1
    shift
    status_is 2 "$PDSIM" compare "$@" && grep -q "$text" "$TMP/s.err" && [ ! -s "$TMP/s.out" ]
}
check "different seeds refused" refused "seed differs.*baseline 5, scenario 6" "$TMP/a.h5" "$TMP/seed6.h5"
check "different run counts refused" refused "n_runs differs.*baseline 2000, scenario 1000" \
    "$TMP/a.h5" "$TMP/n1000.h5"
check "a changed dataset refused" refused "dataset differs" "$TMP/base.h5" "$TMP/ds.h5"
check "a changed model refused" refused "model differs" "$TMP/base.h5" "$TMP/model2.h5"
check "a changed model with --allow-model-change" zeros "$TMP/base.h5" "$TMP/model2.h5" --allow-model-change
check "different uncertainty refused" refused "uncertainty differs.*baseline none, scenario coefficients" \
    "$TMP/base.h5" "$TMP/unc.h5"
head -c 1000 "$TMP/a.h5" >"$TMP/broken.h5"
check "truncated file refused" refused "broken.h5: not an HDF5 file, or a damaged one" "$TMP/a.h5" "$TMP/broken.h5"
echo "not a result file" >"$TMP/text.h5"
check "text file refused" refused "text.h5: not an HDF5 file" "$TMP/text.h5" "$TMP/a.h5"
check "missing file refused" refused "nope.h5: cannot read" "$TMP/a.h5" "$TMP/nope.h5"

# A file whose root attribute complete is 0, made without an HDF5 writer:
# flip the attribute's data byte in a copy. In the version-1 attribute
# message pdsim writes, the byte follows the name (padded to 16 bytes), the
# uint8 datatype (16) and the scalar dataspace (8): 40 bytes after the name.
make_incomplete() { # result file, copy to make
    cp "$1" "$2" &&
        off=$(grep -obUa complete "$2" | head -1 | cut -d: -f1) && [ -n "$off" ] &&
        [ "$(od -A n -t x1 -j $((off + 40)) -N 1 "$2" | tr -d ' ')" = 01 ] &&
        printf '\000' | dd of="$2" bs=1 seek=$((off + 40)) conv=notrunc 2>/dev/null &&
        h5dump -a /complete "$2" | grep -q "(0): 0"
}
if make_incomplete "$TMP/a.h5" "$TMP/incomplete.h5"; then
    check "incomplete file (complete = 0) refused" refused "incomplete.h5: incomplete result file" \
        "$TMP/a.h5" "$TMP/incomplete.h5"
else
    echo "skip incomplete file: could not set the complete attribute to 0 in a copy"
fi

check "one argument is a usage error" status_is 2 "$PDSIM" compare "$TMP/a.h5"
check "three arguments are a usage error" status_is 2 "$PDSIM" compare "$TMP/a.h5" "$TMP/a.h5" "$TMP/a.h5"
check "--csv without a value is a usage error" status_is 2 "$PDSIM" compare "$TMP/a.h5" "$TMP/a.h5" --csv
check "unknown option is a usage error" status_is 2 "$PDSIM" compare "$TMP/a.h5" "$TMP/a.h5" --frobnicate

real_difference() {
    "$PDSIM" compare "$TMP/base.h5" "$TMP/scen.h5" --csv "$TMP/d.csv" -o "$TMP/d.h5" >"$TMP/d.txt" &&
        ! grep -q "no difference" "$TMP/d.txt" && grep -q "unit-years gained" "$TMP/d.txt" &&
        head -1 "$TMP/d.csv" | grep -qx "quantity,unit,name,year,base,scenario,difference,ci_low,ci_high,variance_ratio" &&
        # the national difference at the last year is >= 0 and never negative
        awk -F, '$1 == "national_adopted" { last = $7; if ($7 + 0 < 0) bad = 1 }
                 END { exit bad || !(last != "" && last + 0 >= 0) }' "$TMP/d.csv" &&
        # some year shows a real gain, with an interval above 0
        awk -F, '$1 == "national_adopted" && $8 + 0 > 0 { ok = 1 } END { exit !ok }' "$TMP/d.csv" &&
        # pairing helped at the last year: ratio > 1
        awk -F, '$1 == "variance_of_difference" { r = $10 } END { exit !(r == "inf" || r + 0 > 1) }' "$TMP/d.csv" &&
        awk -F, '$1 == "unit_years_gained" && $7 + 0 > 0 { ok = 1 } END { exit !ok }' "$TMP/d.csv"
}
check "a real difference: CSV with gains, pairing reduces variance" real_difference
h5_written() {
    h5dump -a /complete "$TMP/d.h5" | grep -q "(0): 1" &&
        for d in national_adopted_diff p_adopted_by_year_diff province_years_gained variance_reduction; do
            h5dump -H -d "/compare/$d" "$TMP/d.h5" | grep -q description || return 1
        done &&
        h5dump -H -d /compare/p_adopted_by_year_diff "$TMP/d.h5" | grep -q "( 3, 6, 10 )" &&
        h5dump -a /scenario_file "$TMP/d.h5" | grep -q scen.h5 &&
        [ -z "$(find "$TMP" -name '*.tmp.*')" ]
}
check "-o writes /compare with descriptions, complete = 1, no temporary left" h5_written
quiet() {
    "$PDSIM" compare "$TMP/base.h5" "$TMP/scen.h5" -q >"$TMP/q.txt" && [ ! -s "$TMP/q.txt" ]
}
check "-q prints nothing" quiet

subunit_outputs() {
    head -1 "$TMP/d-subunits.csv" |
        grep -qx "quantity,subunit,name,unit,unit_name,year,base,scenario,difference,ci_low,ci_high,variance_ratio" &&
        # one row per year, 12 sub-units x 10 years, 12 sub-units, the years gained
        [ "$(wc -l <"$TMP/d-subunits.csv")" -eq $((1 + 10 + 120 + 12 + 1)) ] &&
        grep -q "^Sub-units: share adopted by" "$TMP/d.txt" &&
        for d in p_adopted_by_year_diff mean_adoption_year_diff share_adopted_diff share_adopted_se subunit_code unit_name; do
            h5dump -H -d "/subunits/$d" "$TMP/d.h5" | grep -q description || return 1
        done &&
        h5dump -H -d /subunits/p_adopted_by_year_diff "$TMP/d.h5" | grep -q "( 3, 12, 10 )"
}
check "sub-units: a CSV beside the unit CSV, /subunits in -o, the share on stdout" subunit_outputs
nosub_note() {
    rm -f "$TMP/n.csv" "$TMP/n-subunits.csv"
    "$PDSIM" compare "$TMP/base.h5" "$TMP/nosub.h5" --csv "$TMP/n.csv" -o "$TMP/n.h5" >"$TMP/n.txt" 2>"$TMP/n.err" &&
        grep -q "note: sub-units not compared: .*nosub.h5 stores no sub-unit years" "$TMP/n.err" &&
        [ -s "$TMP/n.csv" ] && [ ! -e "$TMP/n-subunits.csv" ] && ! grep -q "Sub-units" "$TMP/n.txt" &&
        ! h5dump -H -g /subunits "$TMP/n.h5" >/dev/null 2>&1 && h5dump -H -g /compare "$TMP/n.h5" >/dev/null
}
check "a file without sub-unit years: a note, the units compared, no sub-unit outputs" nosub_note
check "... refused with --subunits" refused "error: sub-units not compared: .*nosub.h5 stores no sub-unit years" \
    "$TMP/nosub.h5" "$TMP/base.h5" --subunits --csv "$TMP/n2.csv"
check "... and nothing written" test ! -e "$TMP/n2.csv"
check "--subunits with both files holding them" status_is 0 "$PDSIM" compare "$TMP/base.h5" "$TMP/scen.h5" --subunits -q
: >"$TMP/e-subunits.csv"
check "an existing sub-unit CSV without --replace refused" refused "e-subunits.csv: the output exists" \
    "$TMP/base.h5" "$TMP/scen.h5" --csv "$TMP/e.csv"
check "... and the unit CSV not written" test ! -e "$TMP/e.csv"
check "-o naming the sub-unit CSV of --csv refused" refused "name the same file" \
    "$TMP/base.h5" "$TMP/scen.h5" --csv "$TMP/f.csv" -o "$TMP/f-subunits.csv"
: >"$TMP/plainfile"
check "unwritable --csv (under a regular file) exits 1" status_is 1 "$PDSIM" compare "$TMP/a.h5" "$TMP/a.h5" -q --csv "$TMP/plainfile/x.csv"
check "unwritable -o (under a regular file) exits 1" status_is 1 "$PDSIM" compare "$TMP/a.h5" "$TMP/a.h5" -q -o "$TMP/plainfile/x.h5"
# The settings that differ, on the default forecast (configs/baseline.yaml)
# with a few runs: a list of models in flow style, nested mappings.
ROOT=$(cd "$TESTS/.." && pwd)
DEF="-q -n 200 --no-backtest"
printf 'extends: %s\nprojection:\n  default: {rule: hold}\n  variables:\n    urbanization_pct: {rule: trend, years: 3, min: 0, max: 100}\n' \
    "$ROOT/configs/baseline.yaml" >"$TMP/proj.yaml"
# the same models spelt in block style, 0.01 moved from the second weight
# to the third
weight() { # model name: its weight in configs/baseline.yaml
    sed -n "s|.*/$1.yaml, weight: \([0-9.]*\)}.*|\1|p" "$ROOT/configs/baseline.yaml"
}
W0=$(weight forecast-constant)
W1=$(weight forecast-document-stock)
W2=$(weight forecast-cities)
V1=$(awk -v w="$W1" 'BEGIN { printf "%.3f", w - 0.01 }')
V2=$(awk -v w="$W2" 'BEGIN { printf "%.3f", w + 0.01 }')
printf 'extends: %s\nmodels:\n  - model: %s/models/forecast-constant.yaml\n    weight: %s\n  - model: %s/models/forecast-document-stock.yaml\n    weight: %s\n  - {model: %s/models/forecast-cities.yaml, weight: %s}\n' \
    "$ROOT/configs/baseline.yaml" "$ROOT" "$W0" "$ROOT" "$V1" "$ROOT" "$V2" >"$TMP/weights.yaml"
{
    "$PDSIM" run "$ROOT/configs/baseline.yaml" $DEF -o "$TMP/def.h5"
    "$PDSIM" run "$ROOT/configs/scenario-binding-document-2026.yaml" $DEF -o "$TMP/def-scen.h5"
    "$PDSIM" run "$TMP/proj.yaml" $DEF -o "$TMP/def-proj.h5"
    "$PDSIM" run "$TMP/weights.yaml" $DEF -o "$TMP/def-weights.h5"
} 2>>"$TMP/runs.err"
settings() { # base scenario: the lines of the settings block into $TMP/set.txt
    "$PDSIM" compare "$1" "$2" >"$TMP/c.txt" &&
        sed -n '/^settings that differ (baseline -> scenario):$/,$p' "$TMP/c.txt" | sed 1d >"$TMP/set.txt"
}
scenario_settings() {
    settings "$TMP/def.h5" "$TMP/def-scen.h5" &&
        ! grep -q models "$TMP/set.txt" &&
        # nothing but the scenario's own settings
        ! grep -qv '^  scenario\.' "$TMP/set.txt" &&
        grep -qx '  scenario.central_documents\[0\].year: (none) -> 2026' "$TMP/set.txt" &&
        grep -qx '  scenario.central_documents\[0\].weight: (none) -> 2' "$TMP/set.txt"
}
check "settings: a scenario of the default forecast lists its own settings only, not models" scenario_settings
projection_settings() {
    settings "$TMP/def.h5" "$TMP/def-proj.h5" &&
        [ "$(cat "$TMP/set.txt")" = "  projection.variables.urbanization_pct.years: 5 -> 3" ]
}
check "settings: a changed projection is listed, and nothing else" projection_settings
weight_settings() {
    settings "$TMP/def.h5" "$TMP/def-weights.h5" &&
        [ -n "$W0" ] && [ -n "$W1" ] && [ -n "$W2" ] &&
        [ "$(cat "$TMP/set.txt")" = "$(printf '  models[1].weight: %s -> %s\n  models[2].weight: %s -> %s' "$W1" "$V1" "$W2" "$V2")" ]
}
check "settings: models in block style against flow style, two weights changed" weight_settings
check "settings: a file against itself: none differ" \
    sh -c '"$1" compare "$2" "$2" | grep -qx "settings: none differ"' _ "$PDSIM" "$TMP/def.h5"
# a stored config that is not YAML (written with h5py, when there is one)
PY=${PDSIM_PYTHON:-/usr/bin/python3}
if "$PY" -I -c "import h5py" 2>/dev/null &&
    cp "$TMP/def-scen.h5" "$TMP/def-bad.h5" &&
    "$PY" -I -c "import h5py, sys; h5py.File(sys.argv[1], 'r+').attrs['config_resolved'] = 'models: [{model: a'" \
        "$TMP/def-bad.h5"; then
    unreadable() {
        "$PDSIM" compare "$TMP/def.h5" "$TMP/def-bad.h5" >"$TMP/c.txt" &&
            grep -qx "settings: not compared (the stored config of $TMP/def-bad.h5 cannot be read)" "$TMP/c.txt"
    }
    check "settings: a stored config that cannot be read is named, compare exits 0" unreadable
else
    echo "skip unreadable stored config: no h5py"
fi
finish
