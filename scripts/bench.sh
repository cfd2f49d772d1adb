#!/bin/sh
# Speed and memory of pdsim (a benchmark, not a test). Run it on a quiet
# machine: every figure is the median of REPS runs.
#   - runs per second of `pdsim run` on the default config at 1 and 2
#     threads, with province years only and with city years stored, and the
#     2-thread speed-up;
#   - peak resident memory (/usr/bin/time) at 10^5 and 10^6 runs (it must not
#     grow with runs) and at 100 copies of the China dataset (29,300 cities);
#   - `pdsim validate` (loading) on 10, 100 and 1,000 copies of the China
#     dataset, generated on the fly (scripts/replicate_dataset.py), whose
#     time should grow linearly with the copies.
# With --base REV, the same cases also run on a build of git revision REV,
# alternating the two binaries run by run (paired), and each row shows the
# ratio current / base.
# The rows under "README table" are in the format of README's speed table.
#
#   scripts/bench.sh [-n RUNS] [-r REPS] [--base REV] [--quick]
#     RUNS   runs per speed measurement (default 400000)
#     REPS   repetitions of each measurement (default 5)
#     --quick  skip the 10^6-run memory case and the 1,000-copy loading case
#   PDSIM_BENCH_BINARY=path measures that binary instead of building the tree.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
N=400000
REPS=5
BASE=
QUICK=0
while [ $# -gt 0 ]; do
    case $1 in
    -n) N=$2; shift 2 ;;
    -r) REPS=$2; shift 2 ;;
    --base) BASE=$2; shift 2 ;;
    --quick) QUICK=1; shift ;;
    *) echo "usage: $0 [-n RUNS] [-r REPS] [--base REV] [--quick]" >&2; exit 2 ;;
    esac
done
[ -n "${PDSIM_BENCH_BINARY:-}" ] || scripts/install-deps.sh bench
PY=$(scripts/find-python.sh csv) || { echo "bench.sh: no Python 3 found" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# PDSIM_BENCH_BINARY: measure that binary instead of building the tree
CUR=${PDSIM_BENCH_BINARY:-}
if [ -z "$CUR" ]; then
    cmake --preset release >/dev/null
    cmake --build --preset release -j "$(nproc)" >/dev/null
    CUR=$root/build/pdsim
fi
BIN_BASE=
if [ -n "$BASE" ]; then
    mkdir "$tmp/base-src"
    git archive "$BASE" | tar -x -C "$tmp/base-src"
    cmake -S "$tmp/base-src" -B "$tmp/base-build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$tmp/base-build" -j "$(nproc)" --target pdsim >/dev/null
    BIN_BASE=$tmp/base-build/pdsim
fi

# Model 4 as published with the calibrated city model (configs/paper-model4.yaml),
# written out in full with absolute paths and only the keys that earlier
# builds read too, so that --base can run the same file
make_config() { # name store_city_years(true|false) [dataset folder] -> path
    ds=${3:-$root/data/china-group-schooling}
    cat >"$tmp/$1.yaml" <<END
dataset: $ds
model: $root/models/wu-zhao-2025-model4.yaml
subunit_model: $root/models/city-calibrated.yaml
base_year: 2023
horizon: 2035
runs: 100000
seed: 20231231
report_years: [2025, 2030, 2035]
projection:
  default: {rule: hold}
  variables:
    urbanization_pct: {rule: trend, years: 5, min: 0, max: 100}
store_subunit_years: $2
END
    echo "$tmp/$1.yaml"
}
cfg_p=$(make_config prov false)
cfg_c=$(make_config city true)

median() { # numbers on stdin -> median
    sort -g | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

# one measured command: appends "runs/s seconds peak_MB" to file $1
measure_run() { # out bin config runs threads
    rm -f "$tmp/out.h5" # pdsim run refuses to replace a result unasked
    # the current build without the reliability backtest, which earlier builds lack
    nb=
    [ "$2" != "$CUR" ] || nb=--no-backtest
    /usr/bin/time -f "%e %M" -o "$tmp/time.txt" \
        "$2" run "$3" -n "$4" -j "$5" -o "$tmp/out.h5" $nb >"$tmp/stdout.txt"
    rate=$(sed -n 's/.* runs in \([0-9.]*\) s (\([0-9]*\) runs\/s).*/\2/p' "$tmp/stdout.txt")
    set -- "$1" $(cat "$tmp/time.txt")
    echo "$rate $2 $(($3 / 1024))" >>"$1"
}
measure_validate() { # out bin config
    /usr/bin/time -f "%e %M" -o "$tmp/time.txt" "$2" validate "$3" >/dev/null
    set -- "$1" $(cat "$tmp/time.txt")
    echo "0 $2 $(($3 / 1024))" >>"$1"
}

# REPS paired repetitions of one case; prints "cur_rate cur_secs cur_MB base_rate base_secs base_MB"
bench_case() { # kind(run|validate) args...
    kind=$1
    shift
    : >"$tmp/cur.txt"
    : >"$tmp/base.txt"
    i=0
    while [ $i -lt "$REPS" ]; do
        "measure_$kind" "$tmp/cur.txt" "$CUR" "$@"
        [ -z "$BIN_BASE" ] || "measure_$kind" "$tmp/base.txt" "$BIN_BASE" "$@"
        i=$((i + 1))
    done
    for f in cur base; do
        if [ -s "$tmp/$f.txt" ]; then
            for col in 1 2 3; do cut -d' ' -f$col "$tmp/$f.txt" | median; done | tr '\n' ' '
        else
            printf '0 0 0 '
        fi
    done
    echo
}

thousands() { printf "%.0f" "$1" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/; ta'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else printf "-" }'; }

echo "pdsim benchmark: $(nproc) cores, $("$CUR" --version)${BASE:+, against $BASE}"
echo "config: Model 4 with the calibrated city model (configs/paper-model4.yaml); $REPS repetitions, medians"
echo
printf "%-46s %12s %9s %8s %s\n" "case" "runs/s" "seconds" "peak MB" "${BASE:+(base runs/s, s, MB; current/base runs/s)}"
rows=
row() { # label rate secs mb brate bsecs bmb
    extra=
    if [ -n "$BIN_BASE" ]; then
        if [ "$2" = - ]; then # loading: current / base seconds
            extra="(-, $6, $7; $(ratio "$3" "$6")x the base's time)"
        else
            extra="($5, $6, $7; $(ratio "$2" "$5")x)"
        fi
    fi
    printf "%-46s %12s %9s %8s %s\n" "$1" "$2" "$3" "$4" "$extra"
}

set -- $(bench_case run "$cfg_p" "$N" 1); p1=$1
row "$N runs, 1 thread, province years" "$@"
rows="$rows| 1 thread, province years stored | $(thousands "$1") | $3 MB |
"
set -- $(bench_case run "$cfg_p" "$N" 2)
row "$N runs, 2 threads, province years" "$@"
rows="$rows| 2 threads, province years stored | $(thousands "$1") ($(ratio "$1" "$p1")×) | $3 MB |
"
set -- $(bench_case run "$cfg_c" "$N" 1); c1=$1
row "$N runs, 1 thread, province + city years" "$@"
rows="$rows| 1 thread, province and city years stored | $(thousands "$1") | $3 MB |
"
set -- $(bench_case run "$cfg_c" "$N" 2)
row "$N runs, 2 threads, province + city years" "$@"
rows="$rows| 2 threads, province and city years stored | $(thousands "$1") ($(ratio "$1" "$c1")×) | $3 MB |
"
for n in 100000 1000000; do
    [ "$QUICK" -eq 0 ] || [ "$n" -lt 1000000 ] || continue
    set -- $(bench_case run "$cfg_c" "$n" 2)
    row "$n runs, 2 threads, city years stored" "$@"
    label=$([ "$n" -eq 100000 ] && echo "10⁵" || echo "10⁶")
    rows="$rows| $label runs, 2 threads, city years stored | $(thousands "$1") | $3 MB |
"
done

echo
echo "loading (pdsim validate) on copies of the China dataset:"
for k in 10 100 1000; do
    [ "$QUICK" -eq 0 ] || [ "$k" -lt 1000 ] || continue
    "$PY" -I scripts/replicate_dataset.py data/china-group-schooling "$k" "$tmp/copies-$k"
    cfg=$(make_config "copies-$k" true "$tmp/copies-$k")
    set -- $(bench_case validate "$cfg")
    row "validate, $k copies ($((31 * k)) units, $((293 * k)) cities)" "-" "$2" "$3" "-" "$5" "$6"
    rows="$rows| validate, $(thousands $((31 * k))) units and $(thousands $((293 * k))) cities | $2 s | $3 MB |
"
    if [ "$k" -eq 100 ]; then
        set -- $(bench_case run "$cfg" 2000 2)
        row "2000 runs, 2 threads, 100 copies, city years" "$@"
        rows="$rows| 2,000 runs, 2 threads, 29,300 cities, city years stored | $(thousands "$1") | $3 MB |
"
    fi
    rm -rf "$tmp/copies-$k"
done

echo
echo "README table (current build):"
echo "| case | runs/s | peak memory |"
echo "|---|---|---|"
printf "%s" "$rows"
