#!/bin/sh
# How outputs are written (docs/output-format.md, "How outputs are
# written"): a link planted at any temporary name is never followed, two
# writers of one destination never damage a complete result (with and
# without HDF5's file locking), kill -9 leaves the earlier result whole and
# nothing complete-looking, no output replaces an input of its command, and
# CSV text cells that a spreadsheet would read as formulas are neutralised.
#   outputs_cli.sh PDSIM_BINARY TESTS_DIR
set -u
PDSIM=$1
TESTS=$(cd "$2" && pwd)
D=$TESTS/data
. "$(dirname "$0")/lib.sh"
CONFIG=$TMP/run.yaml
absolute_config "$D/run.yaml" "$CONFIG"
sed "s|^config: .*|config: $CONFIG|" "$D/sweep_grid.yaml" >"$TMP/grid.yaml"

complete_attr() { # file: its root attribute complete, or nothing
    h5dump -a /complete "$1" 2>/dev/null | sed -n 's/^ *(0): *//p'
}
# Waits (up to 20 s) until file $1 exists.
wait_for_file() {
    i=0
    while [ $i -lt 200 ] && [ ! -e "$1" ]; do
        sleep 0.1
        i=$((i + 1))
    done
    [ -e "$1" ]
}

check "an earlier result" "$PDSIM" run "$CONFIG" -q -n 100 -s 1 -o "$TMP/r.h5"
cp "$TMP/r.h5" "$TMP/r.before"
echo "precious" >"$TMP/victim"

# ---- links at temporary names -------------------------------------------
# A link at the fixed names of run (OUT.h5.partial, OUT.h5.lock) is refused
# (exit 2) and its target left alone.
link_at() { # name to plant, pdsim arguments...
    at=$1
    shift
    rm -f "$at"
    ln -s "$TMP/victim" "$at"
    "$PDSIM" "$@" >"$TMP/l.out" 2>"$TMP/l.err"
    rc=$?
    cat "$TMP/l.err"
    [ "$(cat "$TMP/victim")" = precious ] && [ -L "$at" ] && [ "$rc" -eq 2 ] &&
        grep -q "link" "$TMP/l.err"
}
check "run: a link at OUT.h5.partial is not followed (exit 2)" \
    link_at "$TMP/r.h5.partial" run "$CONFIG" -q -n 50 -o "$TMP/r.h5" --replace
check "run: ... the earlier result is untouched" cmp -s "$TMP/r.h5" "$TMP/r.before"
check "run --resume: a link at OUT.h5.partial is not followed (exit 2)" \
    link_at "$TMP/r.h5.partial" run "$CONFIG" -q -n 50 -o "$TMP/r.h5" --replace --resume
rm -f "$TMP/r.h5.partial"
check "run: a link at OUT.h5.lock is not followed (exit 2)" \
    link_at "$TMP/r.h5.lock" run "$CONFIG" -q -n 50 -o "$TMP/r.h5" --replace
rm -f "$TMP/r.h5.lock"
mkdir -p "$TMP/gp"
check "sweep: a link at a part's .partial is not followed (exit 2)" \
    link_at "$TMP/gp/part-0000-of-0001.h5.partial" sweep "$TMP/grid.yaml" -q -o "$TMP/gp" \
    -m "$TMP/g.h5"
rm -rf "$TMP/gp"

# The names with the process id (DEST.tmp.PID): the link is planted by the
# shell that then becomes pdsim (exec keeps the pid); pdsim must write
# elsewhere, succeed, and leave the target alone.
pid_link() { # folder, names (comma-separated) to plant as NAME.tmp.PID, pdsim arguments...
    dir=$1
    names=$2
    shift 2
    mkdir -p "$dir"
    sh -c 'dir=$1 names=$2 victim=$3; shift 3
           for n in $(echo "$names" | tr , " "); do ln -s "$victim" "$dir/$n.tmp.$$"; done
           exec "$@"' sh "$dir" "$names" "$TMP/victim" "$PDSIM" "$@" >"$TMP/p.out" 2>"$TMP/p.err"
    rc=$?
    cat "$TMP/p.err"
    nlinks=$(find "$dir" -maxdepth 1 -type l -name '*.tmp.*' | wc -l)
    [ "$rc" -eq 0 ] && [ "$(cat "$TMP/victim")" = precious ] &&
        [ "$nlinks" -eq "$(echo "$names" | tr , '\n' | wc -l)" ]
}
CSVS=forecast.csv,provinces.csv,province_year.csv,national_year.csv,national_count.csv,runs.csv
check "summary --csv: links at every NAME.csv.tmp.PID are not followed" \
    pid_link "$TMP/csv" "$CSVS" summary "$TMP/r.h5" -q --csv "$TMP/csv" --runs
check "  ... and the CSV files are written" test -s "$TMP/csv/forecast.csv" -a -s "$TMP/csv/runs.csv"
check "sweep: a link at the merged file's .tmp.PID is not followed" \
    pid_link "$TMP/sg" g.h5 sweep "$TMP/grid.yaml" -q -o "$TMP/gparts" -m "$TMP/sg/g.h5"
check "  ... and the merged file is complete" test "$(complete_attr "$TMP/sg/g.h5")" = 1
check "summary --csv of a sweep: links at NAME.csv.tmp.PID are not followed" \
    pid_link "$TMP/scsv" points.csv,point_year.csv summary "$TMP/sg/g.h5" -q --csv "$TMP/scsv"
check "merge: a link at OUT.h5.tmp.PID is not followed" \
    pid_link "$TMP/mg" m.h5 merge "$TMP/gparts" -q -o "$TMP/mg/m.h5"

check "merge: a link at OUT.h5.lock is not followed (exit 2)" \
    link_at "$TMP/mg/m2.h5.lock" merge "$TMP/gparts" -q -o "$TMP/mg/m2.h5"
check "compare: links at OUT.h5.tmp.PID and OUT.csv.tmp.PID are not followed" \
    pid_link "$TMP/cg" cmp.h5,cmp.csv compare "$TMP/r.h5" "$TMP/r.h5" -q -o "$TMP/cg/cmp.h5" \
    --csv "$TMP/cg/cmp.csv"
check "  ... and both are written" test "$(complete_attr "$TMP/cg/cmp.h5")" = 1 -a -s "$TMP/cg/cmp.csv"
check "compare: a link at OUT.h5.lock is not followed (exit 2)" \
    link_at "$TMP/cg/c2.h5.lock" compare "$TMP/r.h5" "$TMP/r.h5" -q -o "$TMP/cg/c2.h5"
cp -r "$D/small" "$TMP/fitds"
check "fit: a link at MODEL.yaml.tmp.PID is not followed" \
    pid_link "$TMP/fg" fit.yaml fit "$TMP/fitds" "$D/model.yaml" --firth -o "$TMP/fg/fit.yaml"
check "  ... and the model is written" grep -q "^name:" "$TMP/fg/fit.yaml"
check "backtest: a link at OUT.csv.tmp.PID is not followed" \
    pid_link "$TMP/bg" bt.csv backtest "$CONFIG" --cutoff 2012 -n 20 --csv "$TMP/bg/bt.csv"
check "  ... and the CSV is written" grep -q "^config,cutoff" "$TMP/bg/bt.csv"
# report writes its page and images through the Python scripts: links at
# the names they once used, and the lock's name, are not followed
report_links() {
    PY=$(sh "$TESTS/../scripts/find-python.sh" h5py numpy matplotlib) || { echo "no Python: skipped"; return 0; }
    mkdir -p "$TMP/rep"
    for n in .index.html.tmp .s_curve.tmp.png .tile_map_p.tmp.png; do ln -s "$TMP/victim" "$TMP/rep/$n"; done
    PDSIM_PYTHON=$PY "$PDSIM" report "$TMP/r.h5" -o "$TMP/rep" --quiet >/dev/null 2>"$TMP/rep.err" ||
        { cat "$TMP/rep.err"; return 1; }
    [ "$(cat "$TMP/victim")" = precious ] && [ -s "$TMP/rep/index.html" ] &&
        [ -z "$(find "$TMP/rep" -name '*.tmp' -type f)" ] || return 1
    ln -s "$TMP/victim" "$TMP/rep/index.html.lock"
    PDSIM_PYTHON=$PY "$PDSIM" report "$TMP/r.h5" -o "$TMP/rep" --quiet --replace 2>"$TMP/rep.err"
    rc=$?
    cat "$TMP/rep.err"
    [ $rc -eq 2 ] && [ "$(cat "$TMP/victim")" = precious ]
}
check "report: links at its temporary names and its lock are not followed" report_links

# ---- two writers of one destination -------------------------------------
# The first writer holds OUT.h5.lock; the second, started while the first
# runs, stops with exit 4 (busy) before touching anything, and the earlier
# complete result stays as it was until the first replaces it whole.
two_writers() { # value of HDF5_USE_FILE_LOCKING
    cp "$TMP/r.before" "$TMP/c.h5"
    HDF5_USE_FILE_LOCKING=$1 "$PDSIM" run "$CONFIG" -q -n 500000 -s 3 -o "$TMP/c.h5" \
        --replace 2>"$TMP/c1.err" &
    first=$!
    wait_for_handler "$first" && wait_for_file "$TMP/c.h5.partial" || return 1
    HDF5_USE_FILE_LOCKING=$1 "$PDSIM" run "$CONFIG" -q -n 50 -s 4 -o "$TMP/c.h5" --replace \
        2>"$TMP/c2.err"
    rc2=$?
    cat "$TMP/c2.err"
    same=0
    cmp -s "$TMP/c.h5" "$TMP/r.before" && same=1
    wait "$first"
    rc1=$?
    cat "$TMP/c1.err"
    [ "$rc2" -eq 4 ] && grep -q "c.h5: busy: another pdsim (pid $first" "$TMP/c2.err" &&
        [ "$same" -eq 1 ] && [ "$rc1" -eq 0 ] && [ "$(complete_attr "$TMP/c.h5")" = 1 ] &&
        [ "$(h5dump -a /seed "$TMP/c.h5" | sed -n 's/^ *(0): *//p')" = 3 ] &&
        [ ! -e "$TMP/c.h5.lock" ] && [ ! -e "$TMP/c.h5.partial" ]
}
check "run: a second writer of the same -o is busy (exit 4), the first completes" two_writers TRUE
check "run: the same with HDF5_USE_FILE_LOCKING=FALSE" two_writers FALSE

# a sweep part being written by another task is busy, and never removed
busy_part() {
    sed -e 's/^runs_per_point: .*/runs_per_point: 100000/' "$TMP/grid.yaml" >"$TMP/slow.yaml"
    "$PDSIM" sweep "$TMP/slow.yaml" -q --task 0 --tasks 1 -o "$TMP/sp" 2>"$TMP/s1.err" &
    first=$!
    wait_for_file "$TMP/sp/part-0000-of-0001.h5.partial" || return 1
    HDF5_USE_FILE_LOCKING=FALSE "$PDSIM" sweep "$TMP/slow.yaml" -q --task 0 --tasks 1 \
        -o "$TMP/sp" 2>"$TMP/s2.err"
    rc2=$?
    cat "$TMP/s2.err"
    there=0
    [ -f "$TMP/sp/part-0000-of-0001.h5.partial" ] && there=1
    kill -TERM "$first"
    wait "$first"
    [ "$rc2" -eq 4 ] && grep -q "busy" "$TMP/s2.err" && [ "$there" -eq 1 ] &&
        [ -f "$TMP/sp/part-0000-of-0001.h5.partial" ]
}
check "sweep: a part locked by another task is busy (exit 4) and kept" busy_part

# a file swapped in at OUT.h5.partial while the run writes is never installed
# (the inode check before the rename), nor removed
swapped() {
    cp "$TMP/r.before" "$TMP/w.h5"
    "$PDSIM" run "$CONFIG" -q -n 500000 -s 7 -o "$TMP/w.h5" --replace 2>"$TMP/w.err" &
    pid=$!
    wait_for_handler "$pid" && wait_for_file "$TMP/w.h5.partial" || return 1
    echo "decoy" >"$TMP/decoy" && mv "$TMP/decoy" "$TMP/w.h5.partial"
    wait "$pid"
    rc=$?
    cat "$TMP/w.err"
    [ "$rc" -eq 1 ] && grep -q "removed or replaced by another process" "$TMP/w.err" &&
        cmp -s "$TMP/w.h5" "$TMP/r.before" && [ "$(cat "$TMP/w.h5.partial")" = decoy ]
}
check "run: a file swapped in at OUT.h5.partial is not installed (exit 1)" swapped

# ---- kill -9 --------------------------------------------------------------
killed() {
    cp "$TMP/r.before" "$TMP/k.h5"
    "$PDSIM" run "$CONFIG" -q -n 500000 -s 5 -o "$TMP/k.h5" --replace 2>/dev/null &
    pid=$!
    wait_for_handler "$pid" && wait_for_file "$TMP/k.h5.partial" || return 1
    sleep 0.3
    kill -KILL "$pid"
    wait "$pid"
    cmp -s "$TMP/k.h5" "$TMP/r.before" || { echo "earlier result changed"; return 1; }
    for f in "$TMP"/k.h5?*; do
        [ -e "$f" ] || continue
        c=$(complete_attr "$f")
        [ -z "$c" ] || [ "$c" = 0 ] || { echo "$f looks complete"; return 1; }
    done
    # the lock file the killed run left does not block the next run
    "$PDSIM" run "$CONFIG" -q -n 50 -s 6 -o "$TMP/k.h5" --replace &&
        [ "$(complete_attr "$TMP/k.h5")" = 1 ] && [ ! -e "$TMP/k.h5.lock" ]
}
check "run: kill -9 leaves the earlier result intact and nothing complete-looking" killed

# ---- no output onto an input -----------------------------------------------
onto_input() { # file that must not change, pdsim arguments...
    keep=$1
    shift
    cp -p "$keep" "$TMP/keep.copy"
    "$PDSIM" "$@" >"$TMP/i.out" 2>"$TMP/i.err"
    rc=$?
    cat "$TMP/i.err"
    [ "$rc" -eq 2 ] && grep -q "is an input of this command" "$TMP/i.err" &&
        cmp -s "$keep" "$TMP/keep.copy"
}
cp -r "$D/small" "$TMP/ds"
cp "$D/model.yaml" "$D/city_model.yaml" "$TMP/"
cat >"$TMP/own.yaml" <<EOF
dataset: ds
model: model.yaml
subunit_model: city_model.yaml
base_year: 2015
horizon: 2025
runs: 20
output: own.yaml
replace: true
EOF
check "run -o MODEL.yaml is refused" onto_input "$TMP/model.yaml" \
    run "$TMP/own.yaml" -q -o "$TMP/model.yaml"
check "run -o DATASET/units.csv is refused" onto_input "$TMP/ds/units.csv" \
    run "$TMP/own.yaml" -q -o "$TMP/ds/units.csv"
check "run -o the config itself is refused" onto_input "$CONFIG" run "$CONFIG" -q -o "$CONFIG" --replace
check "config output: naming the config itself is refused" onto_input "$TMP/own.yaml" \
    run "$TMP/own.yaml" -q
check "config output: with the config named through a link is refused" sh -c \
    "ln -sf own.yaml '$TMP/alias.yaml' && cd '$TMP' && '$PDSIM' run alias.yaml -q -o ./own.yaml 2>&1 | grep -q 'is an input'"
check "sweep S.yaml -m S.yaml is refused" onto_input "$TMP/grid.yaml" \
    sweep "$TMP/grid.yaml" -q -o "$TMP/gparts" -m "$TMP/grid.yaml"
check "sweep -m onto its run config is refused" onto_input "$CONFIG" \
    sweep "$TMP/grid.yaml" -q -o "$TMP/gparts" -m "$CONFIG"
check "merge DIR -o DIR/part-....h5 is refused" onto_input "$TMP/gparts/part-0000-of-0001.h5" \
    merge "$TMP/gparts" -o "$TMP/gparts/part-0000-of-0001.h5"
mkdir -p "$TMP/sdir" && cp "$TMP/r.h5" "$TMP/sdir/forecast.csv"
check "summary --csv onto its input is refused" onto_input "$TMP/sdir/forecast.csv" \
    summary "$TMP/sdir/forecast.csv" -q --csv "$TMP/sdir" --replace
cp "$TMP/sg/g.h5" "$TMP/sdir/points.csv"
check "summary --csv of a sweep onto its input is refused" onto_input "$TMP/sdir/points.csv" \
    summary "$TMP/sdir/points.csv" -q --csv "$TMP/sdir"

check "fit -o onto a file of its dataset is refused" onto_input "$TMP/fitds/units.csv" \
    fit "$TMP/fitds" "$D/model.yaml" --firth -o "$TMP/fitds/units.csv"
cp "$D/model.yaml" "$TMP/fitmodel.yaml"
check "fit -o onto the model it fits is refused" onto_input "$TMP/fitmodel.yaml" \
    fit "$TMP/fitds" "$TMP/fitmodel.yaml" --firth -o "$TMP/fitmodel.yaml"
check "fit --export-tidy onto its config is refused" onto_input "$TMP/own.yaml" \
    fit "$TMP/own.yaml" --firth --tidy "$TMP/own.yaml"
check "backtest --csv onto a file of the dataset is refused" onto_input "$TMP/ds/panel.csv" \
    backtest "$TMP/own.yaml" --cutoff 2012 -n 20 --csv "$TMP/ds/panel.csv"
check "compare -o onto an input is refused" onto_input "$TMP/r.h5" \
    compare "$TMP/r.h5" "$TMP/r.h5" -q -o "$TMP/r.h5" --replace

# ---- CSV formulas ----------------------------------------------------------
# unit names from the input data starting with = + - @ are written with a
# leading apostrophe inside quotes; numbers are left as they are
formulas() {
    cp -r "$D/small" "$TMP/fds"
    awk -F, 'BEGIN { OFS = "," } NR == 2 { $2 = "=HYPERLINK(1)" } NR == 3 { $2 = "@SUM(1)" }
             NR == 4 { $2 = "-2+3" } NR == 5 { $2 = "+1" } { print }' \
        "$D/small/units.csv" >"$TMP/fds/units.csv"
    sed -e "s|^dataset: .*|dataset: $TMP/fds|" "$CONFIG" >"$TMP/f.yaml"
    "$PDSIM" run "$TMP/f.yaml" -q -n 20 -o "$TMP/f.h5" &&
        "$PDSIM" summary "$TMP/f.h5" -q --csv "$TMP/fcsv" || return 1
    grep -q "\"'=HYPERLINK(1)\"" "$TMP/fcsv/provinces.csv" &&
        grep -q "\"'@SUM(1)\"" "$TMP/fcsv/provinces.csv" &&
        grep -q "\"'-2+3\"" "$TMP/fcsv/provinces.csv" &&
        grep -q ",+1," "$TMP/fcsv/provinces.csv" &&
        ! grep -q ",=" "$TMP/fcsv/forecast.csv" && ! grep -q ",@" "$TMP/fcsv/forecast.csv"
}
check "CSV: text cells starting with = + - @ are neutralised, numbers are not" formulas

# ---- leftovers of killed processes --------------------------------------
# A pid that no longer exists (a shell that has ended).
dead_pid() {
    sh -c 'exit 0' &
    _p=$!
    wait "$_p"
    echo "$_p"
}
# DEST.tmp.PID[.HEX6] of a dead process, owned by this user and not a
# link, is removed by the next writer of DEST once it holds DEST's lock;
# anything else stays.
stale_tmps() {
    d=$TMP/stale
    mkdir -p "$d"
    p1=$(dead_pid) p2=$(dead_pid) p3=$(dead_pid) p4=$(dead_pid)
    : >"$d/s.h5.tmp.$p1"
    : >"$d/s.h5.tmp.$p2.0a1b2c"
    echo live >"$d/s.h5.tmp.$$"           # a live process (this shell)
    ln -s "$TMP/victim" "$d/s.h5.tmp.$p3" # a link
    : >"$d/s.h5.tmp.x$p4"                 # not the pattern
    : >"$d/s.h5.tmp.$p4.zz"               # not the pattern
    : >"$d/other.h5.tmp.$p4"              # another destination
    kept="s.h5.tmp.$$ s.h5.tmp.$p3 s.h5.tmp.x$p4 s.h5.tmp.$p4.zz other.h5.tmp.$p4"
    if [ "$(id -u)" -eq 0 ]; then # another user's
        : >"$d/s.h5.tmp.$p4" && chown nobody "$d/s.h5.tmp.$p4" && kept="$kept s.h5.tmp.$p4"
    fi
    "$PDSIM" run "$CONFIG" -q -n 100 -s 1 -o "$d/s.h5" || return 1
    ls -la "$d"
    [ ! -e "$d/s.h5.tmp.$p1" ] && [ ! -e "$d/s.h5.tmp.$p2.0a1b2c" ] || return 1
    for k in $kept; do
        [ -e "$d/$k" ] || [ -L "$d/$k" ] || {
            echo "removed: $k"
            return 1
        }
    done
    [ "$(cat "$TMP/victim")" = precious ] && [ "$(cat "$d/s.h5.tmp.$$")" = live ] &&
        [ "$(complete_attr "$d/s.h5")" = 1 ]
}
check "run: DEST.tmp.PID of dead processes removed under the lock, nothing else" stale_tmps

# ---- summary --csv: one set of files --------------------------------------
check "a second result" "$PDSIM" run "$CONFIG" -q -n 100 -s 2 -o "$TMP/r2.h5"
csv_set() {
    d=$TMP/cset
    "$PDSIM" summary "$TMP/r.h5" -q --csv "$d" --runs || return 1
    cp -r "$d" "$TMP/cset.before"
    # a failure part-way (a folder at the fifth name) changes none of the set
    rm "$d/national_count.csv" && mkdir "$d/national_count.csv"
    "$PDSIM" summary "$TMP/r2.h5" -q --csv "$d" --replace --runs 2>"$TMP/cset.err"
    rc=$?
    cat "$TMP/cset.err"
    [ $rc -ne 0 ] || return 1
    for f in forecast.csv provinces.csv province_year.csv national_year.csv runs.csv; do
        cmp -s "$d/$f" "$TMP/cset.before/$f" || {
            echo "changed: $f"
            return 1
        }
    done
    [ -z "$(find "$d" -name '*.tmp.*')" ] || return 1
    rmdir "$d/national_count.csv"
    # runs.csv of an earlier set alone is an earlier set: refused without --replace
    rm "$d"/[fpn]*.csv
    "$PDSIM" summary "$TMP/r2.h5" -q --csv "$d" 2>"$TMP/cset.err"
    rc=$?
    cat "$TMP/cset.err"
    [ $rc -eq 2 ] && grep -q "runs.csv: exists" "$TMP/cset.err" || return 1
    # with --replace and without --runs the earlier runs.csv goes
    "$PDSIM" summary "$TMP/r2.h5" -q --csv "$d" --replace && [ ! -e "$d/runs.csv" ] &&
        [ -s "$d/forecast.csv" ] && ! cmp -s "$d/forecast.csv" "$TMP/cset.before/forecast.csv"
}
check "summary --csv: a failure leaves the earlier set whole; no file of an older set stays" csv_set
sweep_set() {
    d=$TMP/swset
    mkdir -p "$d"
    echo "of an earlier Sobol sweep" >"$d/sobol_indices.csv"
    "$PDSIM" summary "$TMP/sg/g.h5" -q --csv "$d" && [ ! -e "$d/sobol_indices.csv" ] &&
        [ -s "$d/points.csv" ] && [ -s "$d/point_year.csv" ] && [ -z "$(find "$d" -name '*.tmp.*')" ]
}
check "summary --csv of a grid sweep: an earlier sobol_indices.csv goes" sweep_set

# ---- report: temporary images of a killed script ----------------------------
# The plotting script is killed (SIGKILL) while it writes an image: report
# fails and removes the temporary image, and one left by an earlier killed
# report; a temporary file of a live process stays.
report_killed() {
    PY=$(sh "$TESTS/../scripts/find-python.sh" h5py numpy matplotlib) || {
        echo "no Python: skipped"
        return 0
    }
    sd=$TMP/fake-scripts
    mkdir -p "$sd" "$TMP/krep"
    {
        echo 'import os, signal, sys'
        echo "sys.path.insert(0, '$TESTS/../scripts')"
        echo 'from plot_common import write_replace'
        echo 'out = [a.split("=", 1)[1] for a in sys.argv if a.startswith("--out=")][0]'
        echo 'def half(fh):'
        echo '    fh.write(b"half an image")'
        echo '    fh.flush()'
        echo '    os.kill(os.getpid(), signal.SIGKILL)'
        echo 'write_replace(os.path.join(out, "s_curve.png"), half)'
    } >"$sd/plot_report.py"
    p1=$(dead_pid)
    : >"$TMP/krep/.map.png.$p1.abcd_123.tmp"
    : >"$TMP/krep/.live.png.$$.abcd_123.tmp"
    PDSIM_PYTHON=$PY PDSIM_SCRIPTS=$sd "$PDSIM" report "$TMP/r.h5" -o "$TMP/krep" --quiet 2>"$TMP/krep.err"
    rc=$?
    cat "$TMP/krep.err"
    ls -la "$TMP/krep"
    [ $rc -eq 1 ] && [ -z "$(find "$TMP/krep" -name '.s_curve.png.*')" ] &&
        [ ! -e "$TMP/krep/.map.png.$p1.abcd_123.tmp" ] && [ -e "$TMP/krep/.live.png.$$.abcd_123.tmp" ]
}
check "report: a killed script's temporary image is removed" report_killed

finish
