#!/bin/sh
# End-to-end checks of `pdsim sweep` and `pdsim merge`: the same merged
# results for any split into tasks, resume after a kill, Slurm array
# variables, the design listing, Sobol outputs, and merge refusing parts
# that do not belong together.
#   sweep_cli.sh PDSIM_BINARY TESTS_DIR
set -u
PDSIM=$1
TESTS=$(cd "$2" && pwd)
. "$(dirname "$0")/lib.sh"
D=$TESTS/data
GRID=$D/sweep_grid.yaml
SOBOL=$D/sweep_sobol.yaml
RESULTS="/design/points /points/national_adopted_mean /points/national_adopted_quantiles
/points/p_all_adopted /points/median_year /points/seed"

# every result dataset identical (h5diff exit 0), and the file complete
same_results() { # a.h5 b.h5 [more datasets]
    a=$1
    b=$2
    shift 2
    h5dump -a /complete "$b" | grep -q "(0): 1" || return 1
    for d in $RESULTS "$@"; do
        h5diff "$a" "$b" "$d" "$d" >/dev/null || { echo "differs: $d"; return 1; }
    done
}
differs() { # a.h5 b.h5: some point summary differs
    ! h5diff "$1" "$2" /points/national_adopted_mean /points/national_adopted_mean >/dev/null
}
run_tasks() { # sweep file, tasks, parts dir
    t=0
    while [ "$t" -lt "$2" ]; do
        "$PDSIM" sweep "$1" -q --task "$t" --tasks "$2" -o "$3" || return 1
        t=$((t + 1))
    done
}

{
    "$PDSIM" sweep "$GRID" -q -o "$TMP/g1" -m "$TMP/g1.h5"
    run_tasks "$GRID" 3 "$TMP/g3"
    "$PDSIM" merge "$TMP/g3" -o "$TMP/g3.h5"
    run_tasks "$GRID" 5 "$TMP/g5"
    "$PDSIM" merge "$TMP/g5"/part-0003-of-0005.h5 "$TMP/g5"/part-0000-of-0005.h5 \
        "$TMP/g5"/part-0001-of-0005.h5 "$TMP/g5"/part-0004-of-0005.h5 \
        "$TMP/g5"/part-0002-of-0005.h5 -o "$TMP/g5.h5"
    OMP_NUM_THREADS=1 "$PDSIM" sweep "$GRID" -q -j 1 -o "$TMP/gj" -m "$TMP/gj.h5"
    "$PDSIM" sweep "$GRID" -q -j 2 -o "$TMP/gj2" -m "$TMP/gj2.h5"
    "$PDSIM" sweep "$GRID" -q -j 3 -o "$TMP/gj3" -m "$TMP/gj3.h5"
    sed -e "s|^config: |config: $D/|" -e "s|^seed: .*|seed: 12|" "$GRID" >"$TMP/seed12.yaml"
    "$PDSIM" sweep "$TMP/seed12.yaml" -q -o "$TMP/s12" -m "$TMP/s12.h5"
} >/dev/null 2>"$TMP/runs.err"

check "grid: 1 task = 3 tasks merged (h5diff)" same_results "$TMP/g1.h5" "$TMP/g3.h5"
check "grid: 1 task = 5 tasks merged in any order" same_results "$TMP/g1.h5" "$TMP/g5.h5"
check "grid: 1 thread = all threads" same_results "$TMP/g1.h5" "$TMP/gj.h5"
check "grid: 2 threads (points shared among threads) = 1 thread" same_results "$TMP/gj.h5" "$TMP/gj2.h5"
check "grid: 3 threads = 1 thread" same_results "$TMP/gj.h5" "$TMP/gj3.h5"
check "another seed gives other results" differs "$TMP/g1.h5" "$TMP/s12.h5"

grid_layout() {
    h5dump -a /kind -a /design -a /n_points -a /runs_per_point "$TMP/g1.h5" >"$TMP/h.txt" &&
        grep -q '"sweep"' "$TMP/h.txt" && grep -q '"grid"' "$TMP/h.txt" &&
        grep -q "(0): 12$" "$TMP/h.txt" && grep -q "(0): 400$" "$TMP/h.txt" &&
        h5dump -H -d /design/points "$TMP/g1.h5" | grep -q "( 12, 3 )" &&
        h5dump -H -d /points/national_adopted_quantiles "$TMP/g1.h5" | grep -q "( 12, 7, 10 )" &&
        h5dump -H -d /points/median_year "$TMP/g1.h5" | grep -q "( 12, 6 )" &&
        h5dump -d /design/names "$TMP/g1.h5" | grep -q '"projection.size.years"' &&
        h5dump -a /points/p_all_adopted/year "$TMP/g1.h5" | grep -q "(0): 2025"
}
check "merged file: attributes and shapes as documented" grid_layout

# the grid's levels in order, the last parameter fastest; the listing
# matches the merged file's design
listing() {
    "$PDSIM" sweep "$GRID" --list >"$TMP/list.txt" &&
        [ "$(wc -l <"$TMP/list.txt")" -eq 14 ] &&
        sed -n 2p "$TMP/list.txt" | grep -q "^point	seed	model.docs	subunit_model.parent	projection.size.years$" &&
        awk -F'\t' 'NR == 3 && ($3 != "0.10000000000000001" || $4 != "0.5" || $5 != "2") { exit 1 }
                    NR == 4 && $5 != "4" { exit 1 } NR == 5 && $4 != "1.5" { exit 1 }
                    NR == 14 && ($3 != "0.59999999999999998" || $4 != "1.5" || $5 != "4") { exit 1 }' \
            "$TMP/list.txt" &&
        h5dump -d /points/seed -y -w 0 "$TMP/g1.h5" | tr -s ' ,' '\n\n' | grep -E '^[0-9]{6,}$' >"$TMP/seeds.txt" &&
        awk -F'\t' 'NR > 2 { print $2 }' "$TMP/list.txt" | diff - "$TMP/seeds.txt" >/dev/null
}
check "--list: header, grid order, seeds as in the file" listing

# projection years are integers: sampled values are rounded in the design
integer_years() {
    "$PDSIM" sweep "$SOBOL" --list >"$TMP/sl.txt" &&
        awk -F'\t' 'NR > 2 { n++; if ($5 != int($5) || $5 < 2 || $5 > 6) bad = 1; if ($4 != int($4)) frac = 1 }
                    END { exit bad || n != 40 || !frac }' "$TMP/sl.txt"
}
check "sobol --list: 40 points, projection years rounded, others not" integer_years

# integer and level parameters are sampled uniformly over their values: in a
# 512-sample Sobol design an integer range of 7 values (2..8) gets 512/7 =
# 73.1 points each within 10% in A (and in all rows), a Latin hypercube of
# 64 points 64/7 = 9.1 +- 2 (at most two strata straddle a value's bin), and
# 3 levels in a 30-point hypercube exactly 10 each; a grid takes every integer
count_values() { # list file, column, row filter (awk condition on r, the 0-based point)
    awk -F'\t' -v c="$2" "NR > 2 { r = NR - 3; if ($3) n[\$c]++ } END { for (v in n) print v, n[v] }" "$1" | sort -n
}
uniform_levels() {
    base="config: $D/run.yaml
runs_per_point: 10
seed: 3"
    printf '%s\ndesign: sobol\npoints: 512\nparameters:\n  model.docs: {range: [0, 1]}\n  projection.default.years: {range: [2, 8]}\n' \
        "$base" >"$TMP/u_sobol.yaml" &&
        printf '%s\ndesign: lhs\npoints: 64\nparameters:\n  model.docs: {range: [0, 1]}\n  projection.default.years: {range: [2, 8]}\n' \
            "$base" >"$TMP/u_lhs.yaml" &&
        printf '%s\ndesign: lhs\npoints: 30\nparameters:\n  model.docs: {levels: [0.1, 0.2, 0.3]}\n  projection.default.years: {range: [2, 3]}\n' \
            "$base" >"$TMP/u_lev.yaml" &&
        printf '%s\ndesign: grid\nparameters:\n  model.docs: {levels: [0.1]}\n  projection.default.years: {range: [2, 8]}\n' \
            "$base" >"$TMP/u_grid.yaml" || return 1
    for f in u_sobol u_lhs u_lev u_grid; do
        "$PDSIM" sweep "$TMP/$f.yaml" --list >"$TMP/$f.txt" || return 1
    done
    count_values "$TMP/u_sobol.txt" 4 "r % 4 == 0" >"$TMP/u_a.txt"
    count_values "$TMP/u_sobol.txt" 4 1 >"$TMP/u_all.txt"
    count_values "$TMP/u_lhs.txt" 4 1 >"$TMP/u_l.txt"
    count_values "$TMP/u_lev.txt" 3 1 >"$TMP/u_v.txt"
    count_values "$TMP/u_grid.txt" 4 1 >"$TMP/u_g.txt"
    cat "$TMP/u_a.txt" "$TMP/u_l.txt" "$TMP/u_v.txt" "$TMP/u_g.txt" | tr '\n' ' '
    echo
    awk -v e=73.142857 '{ k++; if ($1 != k + 1 || $2 < 0.9 * e || $2 > 1.1 * e) bad = 1; t += $2 }
        END { exit bad || k != 7 || t != 512 }' "$TMP/u_a.txt" &&
        awk -v e=292.571429 '{ k++; if ($1 != k + 1 || $2 < 0.9 * e || $2 > 1.1 * e) bad = 1 }
            END { exit bad || k != 7 }' "$TMP/u_all.txt" &&
        awk '{ k++; if ($1 != k + 1 || $2 < 64 / 7 - 2 || $2 > 64 / 7 + 2) bad = 1 } END { exit bad || k != 7 }' \
            "$TMP/u_l.txt" &&
        [ "$(tr '\n' ' ' <"$TMP/u_v.txt")" = "0.10000000000000001 10 0.20000000000000001 10 0.29999999999999999 10 " ] &&
        [ "$(tr '\n' ' ' <"$TMP/u_g.txt")" = "2 1 3 1 4 1 5 1 6 1 7 1 8 1 " ]
}
check "integer and level parameters: equal shares in sobol, lhs and grid designs" uniform_levels

# a Slurm array task: SLURM_ARRAY_TASK_ID is the task, whatever the array
# looked like; resubmitted alone (--array=1: COUNT 1, MIN 1) it stays task 1
slurm_env() {
    SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_COUNT=1 \
        "$PDSIM" sweep "$GRID" -q --tasks 3 -o "$TMP/env" && [ -f "$TMP/env/part-0001-of-0003.h5" ] &&
        [ "$(ls "$TMP/env" | wc -l)" -eq 1 ] &&
        h5diff "$TMP/env/part-0001-of-0003.h5" "$TMP/g3/part-0001-of-0003.h5" \
            /points/national_adopted_mean /points/national_adopted_mean >/dev/null
}
check "SLURM_ARRAY_TASK_ID is the task; COUNT and MIN of a resubmission do not matter" slurm_env

# the sweep file's tasks fix the split: an array task needs no --tasks, and
# without any task option every task runs here, into the same parts
tasks_key() {
    sed "s|^config: run.yaml|config: $D/run.yaml|" "$GRID" >"$TMP/tasks3.yaml" &&
        echo "tasks: 3" >>"$TMP/tasks3.yaml" &&
        SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_COUNT=1 "$PDSIM" sweep "$TMP/tasks3.yaml" -q \
            -o "$TMP/tk" -m "$TMP/tk.h5" && [ "$(ls "$TMP/tk")" = part-0002-of-0003.h5 ] &&
        [ ! -e "$TMP/tk.h5" ] &&
        h5diff "$TMP/tk/part-0002-of-0003.h5" "$TMP/g3/part-0002-of-0003.h5" \
            /points/national_adopted_mean /points/national_adopted_mean >/dev/null &&
        "$PDSIM" sweep "$TMP/tasks3.yaml" -q -o "$TMP/tk" -m "$TMP/tk.h5" &&
        [ "$(ls "$TMP/tk" | wc -l)" -eq 3 ] && same_results "$TMP/g1.h5" "$TMP/tk.h5" &&
        rm "$TMP/tk.h5" && "$PDSIM" sweep "$TMP/tasks3.yaml" -q --merge -o "$TMP/tk" \
            -m "$TMP/tk.h5" && same_results "$TMP/g1.h5" "$TMP/tk.h5"
}
check "tasks: in the sweep file: array task, all tasks here, --merge" tasks_key

# a second run of a finished task does nothing and changes nothing
rerun_done() {
    cp "$TMP/g3/part-0001-of-0003.h5" "$TMP/before.h5" &&
        "$PDSIM" sweep "$GRID" --task 1 --tasks 3 -o "$TMP/g3" 2>"$TMP/rr.err" &&
        grep -q "already complete" "$TMP/rr.err" && cmp -s "$TMP/before.h5" "$TMP/g3/part-0001-of-0003.h5"
}
check "a finished part is skipped" rerun_done

# resume: kill -9 a task after its second point, rerun, same result. The
# points are heavy enough (about 0.2 s each on 2 cores) that the kill lands
# long before the last one.
sed -e "s|^config: |config: $D/|" -e "s|^runs_per_point: .*|runs_per_point: 500000|" \
    -e "s|^chunk_runs: .*|chunk_runs: 4096|" "$GRID" >"$TMP/slow.yaml"
"$PDSIM" sweep "$TMP/slow.yaml" -q -o "$TMP/full" -m "$TMP/full.h5" 2>>"$TMP/runs.err"
# start the slow sweep into parts dir $1, send signal $2 once stderr shows
# $3 (at most 30 s later); sets $st to its exit status
interrupt_after() {
    "$PDSIM" sweep "$TMP/slow.yaml" -o "$TMP/$1" -m "$TMP/$1.h5" 2>"$TMP/$1.err" &
    pid=$!
    i=0
    while ! grep -q "$3" "$TMP/$1.err" && [ $i -lt 600 ] && kill -0 $pid 2>/dev/null; do
        sleep 0.05
        i=$((i + 1))
    done
    kill "-$2" $pid 2>/dev/null
    wait $pid
    st=$?
}
resume_after_kill() {
    interrupt_after k KILL "(2 of 12)"
    [ -f "$TMP/k/part-0000-of-0001.h5.partial" ] || { echo "no partial part left"; return 1; }
    [ ! -e "$TMP/k.h5" ] || { echo "merged file despite the kill"; return 1; }
    # merging the unfinished sweep is refused
    status_is 2 "$PDSIM" merge "$TMP/k" -o "$TMP/k.h5" || { echo "merge not refused"; return 1; }
    grep -q "unfinished part" "$TMP/s.err" || return 1
    timeout 120 "$PDSIM" sweep "$TMP/slow.yaml" -o "$TMP/k" -m "$TMP/k.h5" 2>"$TMP/k2.err" || return 1
    grep -q "resuming after [1-9][0-9]* of 12 points" "$TMP/k2.err" || { cat "$TMP/k2.err"; return 1; }
    # points before the kill were not recomputed
    ! grep -q "point 0 done" "$TMP/k2.err" && same_results "$TMP/full.h5" "$TMP/k.h5"
}
check "resume after kill -9: skips finished points, same merged result" resume_after_kill

# a partial that cannot be finished: a kill while a part was being finished
# can leave its root attribute table damaged, here a `complete` attribute the
# finish step cannot write (a string). It is recomputed from the start, not
# resumed into "cannot finish the part file" on every rerun.
PY=$(sh "$TESTS/../scripts/find-python.sh" h5py) || PY=""
stuck_partial() {
    [ -n "$PY" ] || { echo "skip: no Python with h5py"; return 0; }
    mkdir "$TMP/stuck" &&
        cp "$TMP/g1/part-0000-of-0001.h5" "$TMP/stuck/part-0000-of-0001.h5.partial" &&
        "$PY" -I -c 'import sys, h5py
f = h5py.File(sys.argv[1], "r+")
del f.attrs["complete"]
f.attrs["complete"] = "half written"
f.close()' "$TMP/stuck/part-0000-of-0001.h5.partial" &&
        "$PDSIM" sweep "$GRID" -o "$TMP/stuck" -m "$TMP/stuck.h5" 2>"$TMP/stuck.err" ||
        { cat "$TMP/stuck.err"; return 1; }
    ! grep -q "resuming" "$TMP/stuck.err" && grep -q "point 0 done" "$TMP/stuck.err" &&
        [ ! -e "$TMP/stuck/part-0000-of-0001.h5.partial" ] &&
        same_results "$TMP/g1.h5" "$TMP/stuck.h5" &&
        "$PDSIM" sweep "$GRID" -o "$TMP/stuck" -m "$TMP/stuck.h5" 2>"$TMP/stuck2.err" &&
        grep -q "already complete" "$TMP/stuck2.err"
}
check "a partial that cannot be finished is recomputed, not resumed into a failure" stuck_partial

# SIGTERM (Slurm's time limit): exit 1, the part kept for a resume
resume_after_term() {
    interrupt_after t TERM "(1 of 12)"
    [ $st -eq 1 ] && grep -q "interrupted" "$TMP/t.err" &&
        [ -f "$TMP/t/part-0000-of-0001.h5.partial" ] &&
        timeout 120 "$PDSIM" sweep "$TMP/slow.yaml" -q -o "$TMP/t" -m "$TMP/t.h5" &&
        same_results "$TMP/full.h5" "$TMP/t.h5"
}
check "SIGTERM: exit 1, then resume to the same result" resume_after_term

# Sobol: the same for 1 and 4 tasks, with index datasets of the right shape
{
    "$PDSIM" sweep "$SOBOL" -q -o "$TMP/so1" -m "$TMP/so1.h5"
    run_tasks "$SOBOL" 4 "$TMP/so4"
    "$PDSIM" merge "$TMP/so4" -o "$TMP/so4.h5"
} >/dev/null 2>>"$TMP/runs.err"
check "sobol: 1 task = 4 tasks, indices too" same_results "$TMP/so1.h5" "$TMP/so4.h5" /sobol/first_order /sobol/total
sobol_layout() {
    h5dump -H -d /design/points "$TMP/so1.h5" | grep -q "( 40, 3 )" &&
        h5dump -H -d /sobol/first_order "$TMP/so1.h5" | grep -q "( 3, 3, 3 )" &&
        h5dump -H -d /sobol/total "$TMP/so1.h5" | grep -q "( 3, 3, 3 )" &&
        h5dump -d /sobol/outputs "$TMP/so1.h5" | grep -q '"median_year_B"' &&
        # with common random numbers and a parameter that changes nothing
        # (no variable follows the default projection rule here), its
        # total index is exactly 0
        h5dump -d /sobol/total -w 0 "$TMP/so1.h5" | grep -q "(0,2,0): 0, 0, 0"
}
check "sobol: outputs, index shapes, a parameter without effect gets 0" sobol_layout
# the resamples behind each interval: recorded and printed
sobol_resamples() {
    h5dump -H -d /sobol/bootstrap_used "$TMP/so1.h5" | grep -q "( 3, 3, 2 )" &&
        "$PDSIM" merge "$TMP/so4" -o "$TMP/so4b.h5" >"$TMP/mg.txt" &&
        grep -q "200 resamples drawn" "$TMP/mg.txt" && grep -q "resamples used (first, total)" "$TMP/mg.txt"
}
check "sobol: resamples behind each interval recorded and printed" sobol_resamples
# scramble: none takes the plain points skip..skip+N-1: skip 1 gives (1/2, ...) first
plain_sequence() {
    sed -e "s|^config: |config: $D/|" "$SOBOL" >"$TMP/plain.yaml" &&
        printf 'scramble: none\nskip: 1\n' >>"$TMP/plain.yaml" &&
        "$PDSIM" sweep "$TMP/plain.yaml" --list >"$TMP/pl.txt" &&
        awk -F'\t' 'NR == 3 && $3 != "0.40000000000000002" { exit 1 }' "$TMP/pl.txt" &&
        sed -e "s|^config: |config: $D/|" "$SOBOL" >"$TMP/owen.yaml" &&
        "$PDSIM" sweep "$TMP/owen.yaml" --list >"$TMP/ow.txt" && ! cmp -s "$TMP/pl.txt" "$TMP/ow.txt"
}
check "sobol: scramble: none with skip 1 is the earlier design; owen differs" plain_sequence

# pdsim summary of sweep files: one CSV row per point with the parameter
# values and outputs exactly as stored (read back with h5py), the point-year
# file, and for Sobol designs the index file; a part file is refused
sweep_csv() {
    "$PDSIM" summary "$TMP/g1.h5" --csv "$TMP/gcsv" >"$TMP/gs.txt" &&
        grep -q "design grid, 12 points x 400 runs" "$TMP/gs.txt" &&
        [ "$(wc -l <"$TMP/gcsv/points.csv")" -eq 13 ] &&
        head -n 1 "$TMP/gcsv/points.csv" | grep -q "^point,seed,model.docs,subunit_model.parent,projection.size.years,p_all_adopted,national_adopted_2016," &&
        [ "$(wc -l <"$TMP/gcsv/point_year.csv")" -eq $((12 * 10 + 1)) ] &&
        [ ! -e "$TMP/gcsv/sobol_indices.csv" ] &&
        "$PDSIM" summary "$TMP/so1.h5" -q --csv "$TMP/scsv" &&
        [ "$(wc -l <"$TMP/scsv/sobol_indices.csv")" -eq $((3 * 3 + 1)) ] &&
        status_is 2 "$PDSIM" summary "$TMP/g3/part-0000-of-0003.h5" --csv "$TMP/pcsv" &&
        grep -q "merge the parts first" "$TMP/s.err" && [ ! -e "$TMP/pcsv" ] || return 1
    [ -n "$PY" ] || { echo "skip: no Python with h5py for the value check"; return 0; }
    "$PY" -I - "$TMP/g1.h5" "$TMP/gcsv" "$TMP/so1.h5" "$TMP/scsv" <<'PYEOF'
import csv, sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
rows = list(csv.DictReader(open(sys.argv[2] + "/points.csv", encoding="utf-8")))
names = [n.decode() for n in f["/design/names"][:]]
pts = f["/design/points"][:]
years = f["/years"][:]
codes = [c.decode() for c in f["/provinces/code"][:]]
assert len(rows) == pts.shape[0]
for i, r in enumerate(rows):
    assert int(r["point"]) == i and int(r["seed"]) == int(f["/points/seed"][i])
    for p, n in enumerate(names):
        assert float(r[n]) == pts[i, p], (n, r[n], pts[i, p])
    assert float(r["p_all_adopted"]) == f["/points/p_all_adopted"][i]
    for k, y in enumerate(years):
        assert float(r["national_adopted_%d" % y]) == f["/points/national_adopted_mean"][i, k]
    for u, c in enumerate(codes):
        assert float(r["median_year_" + c]) == f["/points/median_year"][i, u]
py = list(csv.DictReader(open(sys.argv[2] + "/point_year.csv", encoding="utf-8")))
q = f["/points/national_adopted_quantiles"][:]
for r in py:
    i, k = int(r["point"]), int(r["year"]) - int(years[0])
    assert float(r["national_adopted_mean"]) == f["/points/national_adopted_mean"][i, k]
    assert float(r["q05"]) == q[i, 0, k] and float(r["q95"]) == q[i, 6, k]
s = h5py.File(sys.argv[3], "r")
ix = list(csv.DictReader(open(sys.argv[4] + "/sobol_indices.csv", encoding="utf-8")))
outs = [o.decode() for o in s["/sobol/outputs"][:]]
pn = [n.decode() for n in s["/design/names"][:]]
fo, to = s["/sobol/first_order"][:], s["/sobol/total"][:]
for r in ix:
    o, p = outs.index(r["output"]), pn.index(r["parameter"])
    for col, v in (("first_order", fo[o, p, 0]), ("total_high", to[o, p, 2])):
        assert (r[col] == "" and np.isnan(v)) or float(r[col]) == v, (col, r[col], v)
PYEOF
}
check "summary --csv of sweeps: points, point-years, Sobol indices, exact values" sweep_csv

# a point reproduces pdsim run of its run config with the point's values
# and seed; with intercept_recalibration each point is recalibrated
numbers() { # file dataset: its values, one a line
    h5dump -d "$2" -y -w 0 "$1" | sed -n '/DATA {/,/}/p' | tr -s ' ,' '\n\n' | grep -E '^-?[0-9]'
}
reproduces_run() { # extra run-config line
    absolute_config "$D/run.yaml" "$TMP/rr.yaml" &&
        echo "$1" >>"$TMP/rr.yaml" &&
        # the run config of point 0: its model file with docs = 0.6
        sed 's/coef: 0.3,/coef: 0.6,/' "$D/model.yaml" >"$TMP/model06.yaml" &&
        grep -q "coef: 0.6," "$TMP/model06.yaml" &&
        sed "s|^model: .*|model: $TMP/model06.yaml|" "$TMP/rr.yaml" >"$TMP/rr06.yaml" &&
        printf 'config: rr.yaml\ndesign: grid\nruns_per_point: 1500\nseed: 9\nparameters:\n  model.docs: {levels: [0.6, 0.3]}\n' >"$TMP/rrs.yaml" &&
        "$PDSIM" sweep "$TMP/rrs.yaml" -q -o "$TMP/rrp" -m "$TMP/rrs.h5" &&
        "$PDSIM" sweep "$TMP/rrs.yaml" --list >"$TMP/rrl.txt" &&
        numbers "$TMP/rrs.h5" /points/national_adopted_mean >"$TMP/pts.txt" &&
        [ "$(wc -l <"$TMP/pts.txt")" -eq 20 ] &&
        for p in 0 1; do
            cfg=$TMP/rr.yaml
            [ $p -eq 0 ] && cfg=$TMP/rr06.yaml
            seed=$(awk -F'\t' -v row=$((p + 3)) 'NR == row { print $2 }' "$TMP/rrl.txt") &&
                "$PDSIM" run "$cfg" -q -n 1500 -s "$seed" -o "$TMP/rr$p.h5" --replace &&
                numbers "$TMP/rr$p.h5" /summary/national_adopted_mean >"$TMP/run.txt" &&
                sed -n "$((p * 10 + 1)),$((p * 10 + 10))p" "$TMP/pts.txt" | diff "$TMP/run.txt" - ||
                return 1
        done
    st=$?
    rm -rf "$TMP/rrp"
    return $st
}
check "a point = pdsim run with its values and seed" reproduces_run "# no recalibration"
check "... also with intercept_recalibration (each point recalibrated)" reproduces_run "intercept_recalibration: in-sample"

# the design hash covers the model files, not only the sweep and run configs
hash_of() { "$PDSIM" sweep "$1" --list | sed -n '1s/.*hash //p'; }
hash_covers_model() {
    absolute_config "$D/run.yaml" "$TMP/m2run.yaml" -e "s|^model: .*|model: $TMP/m2.yaml|" &&
        cp "$D/model.yaml" "$TMP/m2.yaml" &&
        sed -e "s|^config: .*|config: $TMP/m2run.yaml|" "$GRID" >"$TMP/m2sweep.yaml" &&
        h1=$(hash_of "$TMP/m2sweep.yaml") && [ "$h1" = "$(hash_of "$TMP/m2sweep.yaml")" ] &&
        sed -i 's/coef: 0.05,/coef: 0.06,/' "$TMP/m2.yaml" &&
        h2=$(hash_of "$TMP/m2sweep.yaml") && [ -n "$h1" ] && [ -n "$h2" ] && [ "$h1" != "$h2" ]
}
check "the design hash changes with a model file's coefficient" hash_covers_model

# merge refusals: exit 2, a message naming the file, no output
refused() { # expected text, merge arguments...
    text=$1
    shift
    rm -f "$TMP/m.h5"
    status_is 2 "$PDSIM" merge "$@" -o "$TMP/m.h5" && grep -q -e "$text" "$TMP/s.err" &&
        [ ! -e "$TMP/m.h5" ] && ! ls "$TMP"/m.h5.tmp.* >/dev/null 2>&1
}
mkdir "$TMP/missing" "$TMP/mixed" "$TMP/split"
cp "$TMP/g3/part-0000-of-0003.h5" "$TMP/g3/part-0002-of-0003.h5" "$TMP/missing/"
check "merge refuses a missing part" refused "part 1 of 3 is missing" "$TMP/missing"
run_tasks "$TMP/seed12.yaml" 3 "$TMP/s12p" 2>>"$TMP/runs.err"
cp "$TMP/g3/part-0000-of-0003.h5" "$TMP/g3/part-0001-of-0003.h5" "$TMP/mixed/"
cp "$TMP/s12p/part-0002-of-0003.h5" "$TMP/mixed/"
check "merge refuses parts of another sweep (design hash)" refused "part-0002-of-0003.h5: belongs to another sweep: design hash" "$TMP/mixed"
check "merge refuses a duplicated task" refused "task 1 of 3 appears twice" \
    "$TMP/g3" "$TMP/g3/part-0001-of-0003.h5"
cp "$TMP/g3/part-0000-of-0003.h5" "$TMP/g3/part-0001-of-0003.h5" "$TMP/split/"
cp "$TMP/g5/part-0004-of-0005.h5" "$TMP/split/"
check "merge refuses parts of different splits" refused "of a split into 5 tasks" "$TMP/split"
cp "$TMP/g1.h5" "$TMP/merged-again.h5"
check "merge refuses a merged file as a part" refused "not a sweep part file" "$TMP/merged-again.h5"
"$PDSIM" run "$D/run.yaml" -q -n 100 -o "$TMP/run.h5" 2>>"$TMP/runs.err"
check "merge refuses a run result file" refused "run.h5: not a sweep part file" "$TMP/run.h5"
head -c 2000 "$TMP/g3/part-0001-of-0003.h5" >"$TMP/cut.h5"
check "merge refuses a truncated part" refused "cut.h5: cannot open" "$TMP/g3/part-0000-of-0003.h5" "$TMP/cut.h5"
mkdir "$TMP/empty"
check "merge refuses a folder without parts" refused "no part files" "$TMP/empty"
check "merge without -o is a usage error" status_is 2 "$PDSIM" merge "$TMP/g3"

# a part of another sweep in the way of a task: refused, not overwritten
in_the_way() {
    mkdir -p "$TMP/way" && cp "$TMP/s12p/part-0000-of-0003.h5" "$TMP/way/" &&
        cp "$TMP/way/part-0000-of-0003.h5" "$TMP/way.before" &&
        status_is 2 "$PDSIM" sweep "$GRID" -q --task 0 --tasks 3 -o "$TMP/way" &&
        grep -q "another sweep" "$TMP/s.err" && cmp -s "$TMP/way.before" "$TMP/way/part-0000-of-0003.h5"
}
check "a part of another sweep in the folder is refused, kept" in_the_way
# likewise an unfinished part of another sweep; a damaged one is recomputed
partial_in_the_way() {
    mkdir -p "$TMP/way2" && cp "$TMP/k/part-0000-of-0001.h5" "$TMP/way2/part-0000-of-0001.h5.partial" &&
        status_is 2 "$PDSIM" sweep "$GRID" -q -o "$TMP/way2" -m "$TMP/way2.h5" &&
        grep -q "unfinished part of another sweep" "$TMP/s.err" &&
        cmp -s "$TMP/k/part-0000-of-0001.h5" "$TMP/way2/part-0000-of-0001.h5.partial"
}
check "an unfinished part of another sweep is refused, kept" partial_in_the_way
damaged_partial() {
    mkdir -p "$TMP/dam" && echo "half a file" >"$TMP/dam/part-0000-of-0001.h5.partial" &&
        "$PDSIM" sweep "$GRID" -q -o "$TMP/dam" -m "$TMP/dam.h5" && same_results "$TMP/g1.h5" "$TMP/dam.h5"
}
check "a damaged unfinished part is recomputed" damaged_partial

# a folder that cannot be made is a runtime failure (exit 1), not bad input
unwritable() {
    echo "a file" >"$TMP/plainfile" &&
        status_is 1 "$PDSIM" sweep "$GRID" -q -o "$TMP/plainfile/parts" -m "$TMP/u.h5" &&
        grep -q "plainfile/parts: cannot create the folder" "$TMP/s.err" && [ ! -e "$TMP/u.h5" ]
}
check "parts folder that cannot be made: exit 1 with the folder named" unwritable

# a run config naming several unit models (models:): each point runs the
# mixture as pdsim run does; the point at the config's own values equals
# the run (common random numbers, the same seed)
mixture() {
    sed -e "s|coef: 0.3, se: 0.1|coef: 0.8, se: 0.1|" -e "s|name: small-full|name: small-alt|" \
        "$D/model.yaml" >"$TMP/alt.yaml"
    sed -e "s|^dataset: |dataset: $D/|" -e "s|^subunit_model: |subunit_model: $D/|" \
        -e "/^model: /d" "$D/run.yaml" >"$TMP/mix.yaml"
    cat >>"$TMP/mix.yaml" <<END
models:
  - {model: $D/model.yaml, weight: 1}
  - {model: $TMP/alt.yaml, weight: 3}
output: $TMP/mix.h5
END
    cat >"$TMP/mixsweep.yaml" <<END
config: $TMP/mix.yaml
design: grid
runs_per_point: 2000
seed: 7
random_numbers: common
chunk_runs: 256
parameters:
  subunit_model.parent: {levels: [1.0, 2.0]}
END
    "$PDSIM" run "$TMP/mix.yaml" -q &&
        "$PDSIM" sweep "$TMP/mixsweep.yaml" -q -o "$TMP/mixparts" -m "$TMP/mixsweep.h5" &&
        h5dump -y -w 0 -d /summary/national_adopted_mean "$TMP/mix.h5" |
        awk '/^ *DATA [{]/ { f = 1; next } f && /}/ { exit } f' | tr -d ' \n' >"$TMP/mix.run" &&
        h5dump -y -w 0 -d /points/national_adopted_mean -s 0,0 -c 1,10 "$TMP/mixsweep.h5" |
        awk '/^ *DATA [{]/ { f = 1; next } f && /}/ { exit } f' | tr -d ' \n' >"$TMP/mix.pt" &&
        [ -s "$TMP/mix.run" ] && cmp -s "$TMP/mix.run" "$TMP/mix.pt"
}
check "a config with several models: the point at its own values = pdsim run" mixture
mixture_param() {
    sed -e "s|subunit_model.parent|model.docs|" "$TMP/mixsweep.yaml" >"$TMP/mixbad.yaml"
    status_is 2 "$PDSIM" sweep "$TMP/mixbad.yaml" --list &&
        grep -q "names several unit models" "$TMP/s.err"
}
check "... whose unit-model coefficients cannot vary (exit 2)" mixture_param

# the ready-made sweeps load against the current dataset and models
ready_made() {
    n=0
    for f in "$TESTS"/../configs/sweep-*.yaml; do
        "$PDSIM" sweep "$f" --list >"$TMP/rm.txt" || { echo "$f"; return 1; }
        n=$((n + 1))
    done
    [ $n -ge 3 ]
}
check "configs/sweep-*.yaml are valid (--list)" ready_made

help_texts() {
    "$PDSIM" sweep --help >"$TMP/h1" && "$PDSIM" help sweep >"$TMP/h2" && cmp -s "$TMP/h1" "$TMP/h2" &&
        grep -q -- "--tasks N" "$TMP/h1" && grep -q "runs_per_point" "$TMP/h1" &&
        "$PDSIM" merge --help | grep -q "Refuses" && "$PDSIM" help | grep -q "pdsim merge"
}
check "help sweep, sweep --help, help merge" help_texts

finish
