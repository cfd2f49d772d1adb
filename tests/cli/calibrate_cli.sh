#!/bin/sh
# End-to-end checks of `pdsim calibrate`: the same generations for any
# number of threads, resume after a kill (generation files are the state),
# a folder of another calibration refused, the model file it writes used by
# pdsim run, --check and --simulate, and bad calibration files (exit 2,
# naming the file and line, nothing written).
#   calibrate_cli.sh PDSIM_BINARY TESTS_DIR
set -u
PDSIM=$1
TESTS=$(cd "$2" && pwd)
. "$(dirname "$0")/lib.sh"
D=$TESTS/data
CAL=$D/calibrate_small.yaml

same_dirs() { # a b: identical generation files and results
    for f in "$1"/gen-*.csv "$1/posterior.csv" "$1/generations.csv"; do
        cmp -s "$f" "$2/$(basename "$f")" || { echo "differs: $(basename "$f")"; return 1; }
    done
    [ "$(ls "$1" | wc -l)" -eq "$(ls "$2" | wc -l)" ]
}

check "calibrate runs (1 thread)" "$PDSIM" calibrate "$CAL" -q -j 1 -d "$TMP/a"
check "five generations and the results" sh -c "ls '$TMP/a'/gen-0004.csv '$TMP/a/posterior.csv' '$TMP/a/generations.csv' && [ \$(wc -l < '$TMP/a/posterior.csv') -eq 201 ]"
check "the weights sum to 1" sh -c "awk -F, 'NR > 1 { s += \$NF } END { exit !(s > 0.999999 && s < 1.000001) }' '$TMP/a/posterior.csv'"
check "2 threads" "$PDSIM" calibrate "$CAL" -q -j 2 -d "$TMP/b"
check "  ... byte for byte" same_dirs "$TMP/a" "$TMP/b"
check "3 threads too" sh -c "'$PDSIM' calibrate '$CAL' -q -j 3 -d '$TMP/c'"
check "  ... byte for byte" same_dirs "$TMP/a" "$TMP/c"

# resume: remove the last generations and the results, rerun
mkdir -p "$TMP/r"
cp "$TMP/a"/gen-0000.csv "$TMP/a"/gen-0001.csv "$TMP/r/"
check "resume after generation 1" sh -c "'$PDSIM' calibrate '$CAL' -d '$TMP/r' 2>'$TMP/r.err' >/dev/null && grep -q 'generation 1 read back' '$TMP/r.err' && grep -q 'generation 2 done' '$TMP/r.err'"
check "  ... gives the uninterrupted result" same_dirs "$TMP/a" "$TMP/r"
# kill -9 in the middle of a longer calibration, then rerun
sed -e 's/^particles: 200/particles: 800/' -e 's/^generations: 5/generations: 4/' \
    -e "s|^config: |config: $D/|" "$CAL" >"$TMP/long.yaml"
"$PDSIM" calibrate "$TMP/long.yaml" -q -j 1 -d "$TMP/k" &
pid=$!
i=0
while [ ! -f "$TMP/k/gen-0001.csv" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
check "killed after generation 1, before the end" sh -c "[ -f '$TMP/k/gen-0001.csv' ] && [ ! -f '$TMP/k/posterior.csv' ]"
check "rerun after kill -9" "$PDSIM" calibrate "$TMP/long.yaml" -q -j 2 -d "$TMP/k"
check "uninterrupted run" "$PDSIM" calibrate "$TMP/long.yaml" -q -j 2 -d "$TMP/k2"
check "  ... the same" same_dirs "$TMP/k2" "$TMP/k"
# SIGTERM: exit 1, finished generations kept
"$PDSIM" calibrate "$TMP/long.yaml" -q -j 1 -d "$TMP/t" 2>"$TMP/t.err" &
pid=$!
i=0
while [ ! -f "$TMP/t/gen-0000.csv" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
kill -TERM $pid
wait $pid
st=$?
check "SIGTERM exits 1 (got $st) and keeps generation 0" sh -c "[ $st -eq 1 ] && [ -f '$TMP/t/gen-0000.csv' ] && grep -q 'interrupted in generation' '$TMP/t.err'"

# another calibration's folder
sed -e 's/^seed: 21/seed: 22/' -e "s|^config: |config: $D/|" "$CAL" >"$TMP/other.yaml"
check "a folder of another calibration is refused (exit 2)" sh -c "'$PDSIM' calibrate '$TMP/other.yaml' -q -d '$TMP/a' 2>'$TMP/o.err'; [ \$? -eq 2 ] && grep -q 'gen-0000.csv:1: belongs to another calibration' '$TMP/o.err'"
check "  ... and left as it was" same_dirs "$TMP/b" "$TMP/a"
# more generations than before: continues
sed -e 's/^generations: 5/generations: 6/' -e "s|^config: |config: $D/|" "$CAL" >"$TMP/more.yaml"
check "generations: 6 continues the five" sh -c "'$PDSIM' calibrate '$TMP/more.yaml' -d '$TMP/a' 2>'$TMP/m.err' >/dev/null && grep -q 'generation 4 read back' '$TMP/m.err' && [ -f '$TMP/a/gen-0005.csv' ]"

# the model file: coef, se, covariance, a run with uncertainty draws from it
sed -e '/subunit_model.siblings/d' -e "s|^config: |config: $D/|" "$CAL" >"$TMP/two.yaml"
check "-o MODEL.yaml (siblings not calibrated: no covariance)" sh -c "'$PDSIM' calibrate '$TMP/two.yaml' -q -d '$TMP/two' -o '$TMP/m2.yaml' && ! grep -q covariance '$TMP/m2.yaml' && grep -q 'siblings.*coef: 0.01, se: 0' '$TMP/m2.yaml'"
check "-o MODEL.yaml with every coefficient: covariance" sh -c "'$PDSIM' calibrate '$CAL' -q -d '$TMP/a5' -o '$TMP/m.yaml' && grep -q '^covariance:' '$TMP/m.yaml' && [ -f '$TMP/m.posterior.csv' ]"
check "  ... its posterior sample is the last generation's" sh -c "cmp '$TMP/m.posterior.csv' '$TMP/a5/posterior.csv'"
absolute_config "$D/calibrate_run.yaml" "$TMP/use.yaml" -e "s|^subunit_model: .*|subunit_model: $TMP/m.yaml|" -e 's/^runs: 1/runs: 200/'
printf 'uncertainty: coefficients\noutput: %s\n' "$TMP/use.h5" >>"$TMP/use.yaml"
check "pdsim run draws the sub-unit coefficients from it" sh -c "'$PDSIM' run '$TMP/use.yaml' -q && h5dump -H '$TMP/use.h5' | grep -q subunit_coefficients"
check "the model's mean is the weighted posterior mean" sh -c "awk -F, 'NR > 1 { s += \$2 * \$NF } END { printf \"%.4f\\n\", s }' '$TMP/m.posterior.csv' > '$TMP/mean.txt'; grep -q \"intercept: {coef: \$(cut -c1-5 '$TMP/mean.txt')\" '$TMP/m.yaml'"

# --check, --simulate
check "--check lists parameters and targets" sh -c "'$PDSIM' calibrate '$CAL' --check | grep -q 'target	subunit_share_sd_2016_2025	25	10'"
check "--simulate gives the same statistics twice" sh -c "[ \"\$('$PDSIM' calibrate '$CAL' --simulate -3,1,0.01 -s 4)\" = \"\$('$PDSIM' calibrate '$CAL' --simulate -3,1,0.01 -s 4)\" ]"
check "--simulate with a wrong count is exit 2" status_is 2 "$PDSIM" calibrate "$CAL" --simulate -3,1

# bad files
bad() { # name, expected message, yaml text
    printf '%s\n' "$3" >"$TMP/bad.yaml"
    if status_is 2 "$PDSIM" calibrate "$TMP/bad.yaml" -q -d "$TMP/bad-out" &&
        grep -q "$2" "$TMP/s.err" && grep -q "bad.yaml:[0-9]" "$TMP/s.err" && [ ! -e "$TMP/bad-out" ]; then
        echo "ok bad: $1"
        pass=$((pass + 1))
    else
        echo "FAIL bad: $1"
        sed 's/^/    /' "$TMP/s.err" | head -5
        fail=$((fail + 1))
    fi
}
HEAD="config: $D/calibrate_run.yaml"
T1='targets: [{statistic: subunits_adopted, year: 2020, observed: 5, scale: 2}]'
P1='parameters: {subunit_model.intercept: {uniform: [-5, -1]}}'
bad "unknown parameter" "unknown parameter 'subunit_model.nope'" "$HEAD
parameters: {subunit_model.nope: {uniform: [0, 1]}}
$T1"
bad "empty uniform" "is empty" "$HEAD
parameters: {subunit_model.intercept: {uniform: [1, 0]}}
$T1"
bad "normal sd 0" "expected a positive number" "$HEAD
parameters: {subunit_model.intercept: {normal: [0, 0]}}
$T1"
bad "unknown prior" "expected {uniform" "$HEAD
parameters: {subunit_model.intercept: {beta: [1, 1]}}
$T1"
bad "integer setting" "integer setting cannot be calibrated" "$HEAD
parameters: {projection.size.years: {uniform: [2, 5]}}
$T1"
bad "unknown statistic" "statistic" "$HEAD
$P1
targets: [{statistic: cities, year: 2020, observed: 5, scale: 2}]"
bad "year outside" "year 2030" "$HEAD
$P1
targets: [{statistic: subunits_adopted, year: 2030, observed: 5, scale: 2}]"
bad "share from > to" "from 2020, to 2018" "$HEAD
$P1
targets: [{statistic: subunit_share_mean, from: 2020, to: 2018, observed: 5, scale: 2}]"
bad "scale 0" "scale" "$HEAD
$P1
targets: [{statistic: subunits_adopted, year: 2020, observed: 5, scale: 0}]"
bad "no targets" "targets" "$HEAD
$P1"
bad "unknown key" "tolerance" "$HEAD
$P1
$T1
tolerance: 3"
bad "particles too few" "particles" "$HEAD
$P1
$T1
particles: 3"
finish
