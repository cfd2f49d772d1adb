#!/bin/sh
# The adoption loop that jumps the random stream over adopted agents gives
# exactly the results of the plain loop that draws for every agent in turn
# (PDSIM_REFERENCE_DRAWS=1): every run config in configs/, and the default
# forecast with coefficient draws, without stored city years and with small
# chunks. Whole result files are compared (h5diff).
#   engine_paths.sh PDSIM_BINARY SOURCE_DIR
set -u
PDSIM=$1
ROOT=$(cd "$2" && pwd)
. "$(dirname "$0")/lib.sh"

N=3000
both_paths_agree() { # config name
    "$PDSIM" run "$1" -q -n $N -j 2 -o "$TMP/$2-fast.h5" &&
        PDSIM_REFERENCE_DRAWS=1 "$PDSIM" run "$1" -q -n $N -j 2 -o "$TMP/$2-ref.h5" &&
        h5diff "$TMP/$2-fast.h5" "$TMP/$2-ref.h5"
}

for c in "$ROOT"/configs/*.yaml; do
    name=$(basename "$c" .yaml)
    case $name in sweep-*|study-*|calibrate-*) continue ;; esac
    check "$name: jump-ahead and plain loop agree" both_paths_agree "$c" "$name"
done

# variants of the default forecast, with absolute paths
variant() { # name, a sed expression, then lines appended to the config
    v=$1
    sed -e "s|\.\./|$ROOT/|g" -e '/^output:/d' -e "$2" "$ROOT/configs/baseline.yaml" >"$TMP/$v.yaml"
    shift 2
    for line in "$@"; do echo "$line" >>"$TMP/$v.yaml"; done
    echo "$TMP/$v.yaml"
}
check "coefficient draws: paths agree" \
    both_paths_agree "$(variant coef 's/^uncertainty: .*/uncertainty: coefficients/')" coef
check "province years only: paths agree" \
    both_paths_agree "$(variant prov '' 'store_subunit_years: false')" prov
check "chunks of 7 runs: paths agree" both_paths_agree "$(variant small '' 'chunk_runs: 7')" small
check "no city model: paths agree" \
    both_paths_agree "$(variant nocity '/^subunit_model:/d')" nocity

# the comparison can fail: another seed gives other runs
different_seed_differs() {
    "$PDSIM" run "$ROOT/configs/baseline.yaml" -q -n $N -s 1 -j 2 -o "$TMP/seed1.h5" &&
        ! h5diff -q "$TMP/seed1.h5" "$TMP/baseline-fast.h5" /runs/city_adoption_year
}
check "a different seed gives different city years" different_seed_differs
finish
