#!/bin/sh
# The analyst's workflow: canonical paths and datasets paired by content,
# extends, no result replaced unasked, folders made as needed, pdsim study
# (runs, comparisons, CSV, skipping what is up to date), "did you mean".
#   workflow_cli.sh PDSIM_BINARY TESTS_DIR
set -u
PDSIM=$1
TESTS=$2
. "$TESTS/cli/lib.sh"
P=$TMP/proj
mkdir -p "$P/configs" "$P/data" "$P/models"
cp -r "$TESTS/data/small" "$P/data/small"
# a percentage column, for the warning on a percentage set out of range
awk 'NR == 1 { print $0 ",urban_pct"; next } { print $0 ",50" }' "$TESTS/data/small/panel.csv" >"$P/data/small/panel.csv"
cp "$TESTS/data/model.yaml" "$TESTS/data/city_model.yaml" "$P/models/"
cat >"$P/configs/base.yaml" <<'YAML'
dataset: ../data/small
model: ../models/model.yaml
subunit_model: ../models/city_model.yaml
base_year: 2015
horizon: 2025
runs: 600
seed: 7
chunk_runs: 256
output: ../output/base.h5
report_years: [2018, 2020, 2025]
projection:
  default: {rule: hold}
  variables:
    size: {rule: trend, years: 3}
YAML
cat >"$P/configs/scen.yaml" <<'YAML'
extends: base.yaml
output: ../output/scen.h5
scenario:
  name: one more binding document in 2018
  central_documents:
    - {year: 2018, count: 1, weight: 2}
YAML
REAL=$(cd "$P" && pwd -P)

# --- canonical paths and pairing by content
check "run the baseline from the project folder" sh -c "cd '$P' && '$PDSIM' run configs/base.yaml -q"
check "run the scenario from configs/" sh -c "cd '$P/configs' && '$PDSIM' run scen.yaml -q"
check "the stored dataset path is canonical" sh -c \
    "h5dump -a /dataset '$P/output/scen.h5' | grep -q '\"$REAL/data/small\"'"
check "compare from the project folder pairs them" sh -c \
    "cd '$P' && '$PDSIM' compare output/base.h5 output/scen.h5 >'$TMP/cmp.txt' && grep -q 'paired comparison' '$TMP/cmp.txt'"
cp -r "$P/data/small" "$TMP/copy-of-small"
sed "s|^dataset: .*|dataset: $TMP/copy-of-small|" "$P/configs/base.yaml" >"$P/configs/elsewhere.yaml"
check "a copy of the dataset elsewhere pairs by its contents" sh -c \
    "cd '$P' && '$PDSIM' run configs/elsewhere.yaml -q -o output/elsewhere.h5 && '$PDSIM' compare -q output/base.h5 output/elsewhere.h5"
echo '2019,1,1,one more' >>"$TMP/copy-of-small/documents.csv"
check "a changed copy is refused" sh -c \
    "cd '$P' && '$PDSIM' run configs/elsewhere.yaml -q -o output/changed.h5 && ! '$PDSIM' compare -q output/base.h5 output/changed.h5 2>'$TMP/e.txt' && grep -q 'dataset differs.*contents' '$TMP/e.txt'"

# --- extends
check "validate shows the resolved config" sh -c \
    "'$PDSIM' validate '$P/configs/scen.yaml' >'$TMP/v.txt' && grep -q '^# every setting, after extends' '$TMP/v.txt' && grep -q '^seed: 7$' '$TMP/v.txt' && grep -q '^  central_documents: \[{year: 2018, count: 1, weight: 2}\]' '$TMP/v.txt' && grep -q '^model: \"$REAL/models/model.yaml\"' '$TMP/v.txt'"
check "extends: the scenario's own output, not the baseline's" sh -c \
    "grep -q '^output: .*output/scen.h5\"' '$TMP/v.txt'"
mkdir -p "$P/other"
cp "$P/models/model.yaml" "$P/other/model.yaml"
printf 'extends: ../configs/base.yaml\nmodel: model.yaml\nprojection:\n  variables:\n    share: {rule: hold}\n' >"$P/other/o.yaml"
check "a path is relative to the file that names it" sh -c \
    "'$PDSIM' validate '$P/other/o.yaml' >'$TMP/o.txt' 2>&1; grep -q '^model: \"$REAL/other/model.yaml\"' '$TMP/o.txt' && grep -q '^dataset: \"$REAL/data/small\"' '$TMP/o.txt'"
check "projection variables merge key by key" sh -c \
    "grep -q '^    size: {rule: trend, years: 3}' '$TMP/o.txt' && grep -q '^    share: {rule: hold}' '$TMP/o.txt'"
printf 'extends: loop-b.yaml\n' >"$P/configs/loop-a.yaml"
printf 'extends: loop-a.yaml\n' >"$P/configs/loop-b.yaml"
check "an extends loop: exit 2 with file:line:col" sh -c \
    "status_is() { :; }; '$PDSIM' validate '$P/configs/loop-a.yaml' 2>'$TMP/l.txt'; [ \$? -eq 2 ] && grep -q 'loop-b.yaml:1:10: extends: loop-a.yaml is already in the chain' '$TMP/l.txt'"
printf 'extends: nowhere.yaml\n' >"$P/configs/missing.yaml"
check "extends naming no file: exit 2 with file:line:col" sh -c \
    "'$PDSIM' validate '$P/configs/missing.yaml' 2>'$TMP/m.txt'; [ \$? -eq 2 ] && grep -q 'missing.yaml:1:10: extends: .*nowhere.yaml: cannot read' '$TMP/m.txt'"
printf 'extends: base.yaml\nhorizon: 2013\n' >"$P/configs/early.yaml"
check "a bad override names its own file" sh -c \
    "'$PDSIM' validate '$P/configs/early.yaml' 2>'$TMP/h.txt'; [ \$? -eq 2 ] && grep -q 'early.yaml:2:10: horizon (2013) must be after base_year' '$TMP/h.txt'"
printf 'extends: part.yaml\nbase_year: 2015\n' >"$P/configs/top.yaml"
printf 'model: ../models/model.yaml\nhorizon: 2025\n' >"$P/configs/part.yaml"
check "a required key missing from every file is named" sh -c \
    "'$PDSIM' validate '$P/configs/top.yaml' 2>'$TMP/r.txt'; [ \$? -eq 2 ] && grep -q \"missing required key 'dataset'.*configs it extends\" '$TMP/r.txt'"

# --- nothing replaced unasked
cp "$P/output/base.h5" "$TMP/base.before"
check "run refuses an existing output (exit 2, file untouched)" sh -c \
    "cd '$P' && '$PDSIM' run configs/base.yaml -q -n 100 2>'$TMP/x.txt'; [ \$? -eq 2 ] && grep -q 'the output exists; nothing was run. Add --replace' '$TMP/x.txt' && cmp -s '$TMP/base.before' output/base.h5"
check "run --replace replaces it and says so" sh -c \
    "cd '$P' && '$PDSIM' run configs/base.yaml -n 100 --replace >/dev/null 2>'$TMP/x.txt' && grep -q 'replaced the earlier result (--replace)' '$TMP/x.txt' && h5dump -a /n_runs output/base.h5 | grep -q '(0): 100'"
printf 'extends: base.yaml\noutput: ../output/base.h5\nreplace: true\nruns: 200\n' >"$P/configs/rep.yaml"
check "replace: true in the config replaces it" sh -c \
    "cd '$P' && '$PDSIM' run configs/rep.yaml -q && h5dump -a /n_runs output/base.h5 | grep -q '(0): 200'"
printf 'extends: rep.yaml\noutput: ../output/base.h5\n' >"$P/configs/rep2.yaml"
check "replace is not inherited" sh -c \
    "cd '$P' && ! '$PDSIM' run configs/rep2.yaml -q 2>/dev/null"
check "compare refuses an existing -o and --csv" sh -c \
    "cd '$P' && '$PDSIM' run configs/base.yaml -q --replace && '$PDSIM' compare -q output/base.h5 output/scen.h5 -o output/c.h5 --csv output/c.csv && ! '$PDSIM' compare -q output/base.h5 output/scen.h5 -o output/c.h5 2>/dev/null && ! '$PDSIM' compare -q output/base.h5 output/scen.h5 --csv output/c.csv 2>/dev/null && '$PDSIM' compare -q output/base.h5 output/scen.h5 -o output/c.h5 --csv output/c.csv --replace"
check "summary --csv refuses existing files" sh -c \
    "cd '$P' && '$PDSIM' summary -q output/base.h5 --csv out/csv && ! '$PDSIM' summary -q output/base.h5 --csv out/csv 2>/dev/null && '$PDSIM' summary -q output/base.h5 --csv out/csv --replace"

# --- folders made as needed
check "run -o new/folders/x.h5 makes the folders" sh -c "cd '$P' && '$PDSIM' run configs/base.yaml -q -n 50 -o new/a/b/x.h5 && [ -f new/a/b/x.h5 ]"
check "summary --csv a/b/c makes every level" sh -c "cd '$P' && '$PDSIM' summary -q output/base.h5 --csv a/b/c && [ -f a/b/c/forecast.csv ]"

# --- what compare says
printf 'extends: base.yaml\noutput: ../output/recal.h5\nintercept_recalibration: in-sample\nscenario:\n  name: recal\n' >"$P/configs/recal.yaml"
check "compare lists every setting that differs" sh -c \
    "cd '$P' && '$PDSIM' run configs/recal.yaml -q --replace && '$PDSIM' compare output/base.h5 output/recal.h5 >'$TMP/cd.txt' && grep -qx '  intercept_recalibration: none -> in-sample' '$TMP/cd.txt' && grep -qx '  scenario.name: (none) -> recal' '$TMP/cd.txt' && ! grep -q '^  seed' '$TMP/cd.txt'"
check "compare shows names beside codes" sh -c "grep -q '^B  *Beta ' '$TMP/cd.txt'"
cmp_year() { # the year of compare's unit table is the one where sum |P diff| is largest (from the CSV)
    cd "$P" && "$PDSIM" compare output/base.h5 output/scen.h5 --csv "$TMP/cy.csv" --replace -o "$TMP/cy.h5" >"$TMP/cy.txt" &&
        want=$(awk -F, '$1 == "p_adopted_by_year" { d = $6 - $5; s[$4] += d < 0 ? -d : d }
                        END { for (y in s) if (s[y] > best + 1e-12) { best = s[y]; by = y }; print by }' "$TMP/cy.csv") &&
        grep -q "^units whose P(adopted by $want)" "$TMP/cy.txt" &&
        h5dump -a /year "$TMP/cy.h5" | grep -q "(0): $want" &&
        "$PDSIM" compare output/base.h5 output/scen.h5 --year 2024 | grep -q "^units whose P(adopted by 2024)"
}
check "compare's year: where the scenario moves P most (--year overrides)" cmp_year

# --- pdsim study
cat >"$P/configs/scen2.yaml" <<'YAML'
extends: base.yaml
output: ../output/scen2.h5
scenario:
  name: no neighbours
  channels: {neighbours: false}
YAML
printf 'baseline: base.yaml\nscenarios: [scen.yaml, scen2.yaml]\noutput: ../study\nreport: false\n' >"$P/configs/study.yaml"
S=$P/study
check "study runs everything" sh -c "'$PDSIM' study '$P/configs/study.yaml' >'$TMP/s1.txt' 2>'$TMP/s1.err'"
check "study: runs, comparisons, tables, CSV, tidy CSV, index" sh -c \
    "for f in runs/base.h5 runs/scen.h5 runs/scen2.h5 runs/base.txt compare/scen.h5 compare/scen.csv compare/scen.txt compare/scen2.h5 csv/base/forecast.csv csv/scen2/forecast.csv csv/study_forecast.csv csv/study_national.csv index.html; do [ -s '$S/'\$f ] || { echo missing \$f; exit 1; }; done"
check "study: its comparison is pdsim compare's" sh -c \
    "cd '$P' && '$PDSIM' compare study/runs/base.h5 study/runs/scen.h5 | sed 1d >'$TMP/c1.txt' && sed 1d study/compare/scen.txt | diff '$TMP/c1.txt' -"
check "study: tidy CSV, one row per scenario and unit, a scenario column" sh -c \
    "head -1 '$S/csv/study_forecast.csv' | grep -q '^scenario,code,name,' && [ \$(grep -c '^base,' '$S/csv/study_forecast.csv') -eq \$(grep -c '^scen2,' '$S/csv/study_forecast.csv') ] && [ \$(wc -l <'$S/csv/study_forecast.csv') -eq \$((3 * (\$(wc -l <'$P/data/small/units.csv') - 1) + 1)) ]"
find "$S" -type f ! -path '*/logs/*' -exec cksum {} + | sort >"$TMP/sum1.txt"
check "study again: every step skipped, nothing rewritten" sh -c \
    "'$PDSIM' study '$P/configs/study.yaml' >'$TMP/s2.txt' && ! grep -q '^  done' '$TMP/s2.txt' && [ \$(grep -c '^  skipped' '$TMP/s2.txt') -eq 9 ] && find '$S' -type f ! -path '*/logs/*' -exec cksum {} + | sort | diff '$TMP/sum1.txt' - >/dev/null"
sed -i 's/weight: 2}/weight: 3}/' "$P/configs/scen.yaml"
# the step logs are written as every output is (a temporary file, then a
# rename): a log found at the name, here a hard link to another file, is
# replaced, not truncated and written through
echo precious >"$TMP/keep"
rm -f "$S/logs/run-scen.log" && ln "$TMP/keep" "$S/logs/run-scen.log"
step_log() {
    [ "$(cat "$TMP/keep")" = precious ] && [ ! "$S/logs/run-scen.log" -ef "$TMP/keep" ] &&
        [ -z "$(find "$S/logs" -name '*.tmp.*')" ]
}
check "a changed scenario: only its run and what depends on it are redone" sh -c \
    "'$PDSIM' study '$P/configs/study.yaml' >'$TMP/s3.txt' && grep -q 'done     run scen (inputs changed' '$TMP/s3.txt' && grep -q 'skipped  run base' '$TMP/s3.txt' && grep -q 'skipped  run scen2' '$TMP/s3.txt' && grep -q 'done     compare scen with' '$TMP/s3.txt' && grep -q 'skipped  compare scen2' '$TMP/s3.txt' && grep -q 'done     tidy' '$TMP/s3.txt'"
check "  ... its step log replaced the file at its name, not written into it" step_log
check "a changed dataset file reruns everything" sh -c \
    "echo >>'$P/data/small/documents.csv' && '$PDSIM' study '$P/configs/study.yaml' >'$TMP/s4.txt' && [ \$(grep -c '^  done     run' '$TMP/s4.txt') -eq 3 ]"
check "study -n fewer runs into the same folder is refused" sh -c \
    "cp '$S/runs/base.h5' '$TMP/sb.h5'; '$PDSIM' study '$P/configs/study.yaml' -n 100 2>'$TMP/s5.err'; [ \$? -eq 2 ] && grep -q 'holds 600 runs and this study would replace it with 100' '$TMP/s5.err' && cmp -s '$TMP/sb.h5' '$S/runs/base.h5'"
check "study -n into another folder (-o) is a separate trial" sh -c \
    "'$PDSIM' study '$P/configs/study.yaml' -q -n 100 -o '$TMP/trial' && h5dump -a /n_runs '$TMP/trial/runs/scen.h5' | grep -q '(0): 100'"
printf 'extends: base.yaml\noutput: ../output/s3.h5\nseed: 8\n' >"$P/configs/seed8.yaml"
printf 'baseline: base.yaml\nscenarios: [seed8.yaml]\nreport: false\n' >"$P/configs/badstudy.yaml"
check "a scenario with another seed: exit 2 before anything runs" sh -c \
    "'$PDSIM' study '$P/configs/badstudy.yaml' -o '$TMP/bad' 2>'$TMP/b.err'; [ \$? -eq 2 ] && grep -q 'seed 8 differs from the baseline' '$TMP/b.err' && [ ! -e '$TMP/bad' ]"
printf 'baseline: base.yaml\nscenarios: []\nbogus: 1\n' >"$P/configs/bad2.yaml"
check "a bad study file: every problem with file:line:col" sh -c \
    "'$PDSIM' study '$P/configs/bad2.yaml' 2>'$TMP/b2.err'; [ \$? -eq 2 ] && grep -q 'bad2.yaml:2:12: scenarios: expected at least one' '$TMP/b2.err' && grep -q \"bad2.yaml:3:1: unknown key 'bogus'\" '$TMP/b2.err'"

# --- validate warns of what is legal but likely wrong; fit -o says why it failed
printf 'extends: base.yaml\noutput: ../output/w.h5\nscenario:\n  name: late\n  central_documents:\n    - {year: 2030}\n  covariates:\n    - {unit: A, variable: urban_pct, from: 2016, set: 800}\n' >"$P/configs/warn.yaml"
check "validate warns of a document after the horizon" sh -c \
    "'$PDSIM' validate '$P/configs/warn.yaml' 2>&1 | grep -q 'warning: .*warn.yaml: scenario.central_documents\[0\]: year 2030 is after the horizon 2025' && '$PDSIM' validate '$P/configs/warn.yaml' 2>&1 | grep -q 'warn.yaml:8: scenario.covariates: set 800 for urban_pct, a percentage'"
printf 'extends: base.yaml\noutput: ../output/w.h5\nscenario:\n  name: pct\n  covariates:\n    - {unit: A, variable: size, from: 2016, set: 800}\n' >"$P/configs/nowarn.yaml"
check "a list item under extends gets its defaults (count 1, weight 1)" sh -c \
    "'$PDSIM' validate '$P/configs/warn.yaml' 2>/dev/null | grep -q '^  central_documents: \[{year: 2030, count: 1, weight: 1}\]'"
check "no warning for a variable that is not a percentage" sh -c \
    "'$PDSIM' validate '$P/configs/nowarn.yaml' >/dev/null 2>'$TMP/nw.txt' && ! grep -q warning '$TMP/nw.txt'"
: >"$TMP/afile"
check "fit -o says why it cannot write" sh -c \
    "'$PDSIM' fit '$P/configs/base.yaml' --firth -o '$TMP/afile/m.yaml' >/dev/null 2>'$TMP/f.txt'; [ \$? -eq 1 ] && grep -q 'afile/m.yaml: .*Not a directory' '$TMP/f.txt'"

# --- did you mean
check "a mistyped verb gets a suggestion" sh -c "'$PDSIM' fitt 2>'$TMP/d.txt'; [ \$? -eq 2 ] && grep -q \"did you mean 'fit'\" '$TMP/d.txt'"
finish
