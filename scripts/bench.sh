#!/bin/sh
# Speed and memory of `pdsim run` (a benchmark, not a test):
#   - runs per second at 1 and 2 threads on the default config, cities
#     simulated, province adoption years stored (city years not stored);
#   - the same with city years stored;
#   - peak resident memory at 10^5 and 10^6 runs (it must not grow with runs).
#   scripts/bench.sh [RUNS_FOR_SPEED]     (default 400000)
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/install-deps.sh bench
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" >/dev/null
PDSIM=$root/build/pdsim
N=${1:-400000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# the default config with absolute paths, writing into the temporary folder
make_config() { # store_city_years(true|false) -> path
    sed -e "s|\.\./|$root/|g" -e '/^output:/d' configs/baseline.yaml >"$tmp/bench-$1.yaml"
    echo "store_subunit_years: $1" >>"$tmp/bench-$1.yaml"
    echo "$tmp/bench-$1.yaml"
}
cfg_p=$(make_config false)
cfg_c=$(make_config true)

# one measured run: prints "runs/s peak_RSS_MB"
measure() { # config runs threads
    /usr/bin/time -f "%M" -o "$tmp/time.txt" \
        "$PDSIM" run "$1" -n "$2" -j "$3" -o "$tmp/out.h5" >"$tmp/stdout.txt"
    rate=$(sed -n 's/.* runs in \([0-9.]*\) s (\([0-9]*\) runs\/s).*/\2/p' "$tmp/stdout.txt")
    rss_kb=$(tail -n 1 "$tmp/time.txt")
    echo "$rate $((rss_kb / 1024))"
}

echo "pdsim benchmark: $(nproc) cores, $("$PDSIM" --version)"
echo "config: configs/baseline.yaml ($(grep -c . data/china-group-schooling/provinces.csv) lines in provinces.csv)"
echo
printf "%-44s %12s %12s\n" "case" "runs/s" "peak MB"
set -- $(measure "$cfg_p" "$N" 1); r1=$1
printf "%-44s %12s %12s\n" "$N runs, 1 thread, province years" "$1" "$2"
set -- $(measure "$cfg_p" "$N" 2); r2=$1
printf "%-44s %12s %12s\n" "$N runs, 2 threads, province years" "$1" "$2"
set -- $(measure "$cfg_c" "$N" 2)
printf "%-44s %12s %12s\n" "$N runs, 2 threads, province + city years" "$1" "$2"
echo
echo "speed-up at 2 threads: $(awk "BEGIN{printf \"%.2f\", $r2/$r1}")"
echo "runs/s per core at 2 threads: $((r2 / 2))"
echo
for n in 100000 1000000; do
    set -- $(measure "$cfg_c" "$n" 2)
    printf "%-44s %12s %12s\n" "$n runs, 2 threads, city years stored" "$1" "$2"
done
