#!/bin/sh
# End-to-end checks of `pdsim fit`: report, model output accepted by
# `pdsim run`, separation, Firth, and usage errors.
#   fit_cli.sh PDSIM_BINARY REPO_ROOT
set -u
PDSIM=$1
ROOT=$(cd "$2" && pwd)
. "$(dirname "$0")/lib.sh"
stderr_has() { grep -qF -- "$1" "$TMP/s.err"; }
DS=$ROOT/data/china-group-schooling
M=$ROOT/models
SEP=$ROOT/tests/data/separated

report_ok() {
    "$PDSIM" fit "$ROOT/configs/baseline.yaml" "$M/wu-zhao-2025-model1.yaml" \
        "$M/wu-zhao-2025-model2.yaml" >"$TMP/r.txt" &&
        grep -q "wu-zhao-2025-model1 .*wu-zhao-2025-model2" "$TMP/r.txt" &&
        grep -q "^events  *14  *14" "$TMP/r.txt" &&
        grep -q "^Nagelkerke R2" "$TMP/r.txt" && grep -q "^central_documents" "$TMP/r.txt"
}
check "side-by-side report" report_ok

model_feeds_run() {
    "$PDSIM" fit "$DS" "$M/wu-zhao-2025-model2.yaml" -o "$TMP/fitted.yaml" >/dev/null &&
        grep -q "^covariance:" "$TMP/fitted.yaml" &&
        sed -e "s|\.\./|$ROOT/|g" -e "s|$ROOT/models/wu-zhao-2025-model4.yaml|$TMP/fitted.yaml|" \
            -e '/^output:/d' "$ROOT/configs/baseline.yaml" >"$TMP/run.yaml" &&
        "$PDSIM" run "$TMP/run.yaml" -q -n 500 -o "$TMP/run.h5" && [ -f "$TMP/run.h5" ]
}
check "fitted model is accepted by run" model_feeds_run

sep_reported() {
    status_is 2 "$PDSIM" fit "$SEP" "$SEP/spec.yaml" && stderr_has "separation" &&
        stderr_has "--firth" && stderr_has "'signal'"
}
check "separation reported, exit 2" sep_reported
check "Firth gives finite estimates" sh -c "'$PDSIM' fit '$SEP' '$SEP/spec.yaml' --firth | grep -q '^signal  *[0-9]'"
collinear() {
    status_is 2 "$PDSIM" fit "$DS" "$M/wu-zhao-2025-model4.yaml" && stderr_has "resource_base_pct"
}
check "constant column named as collinear" collinear
check "bad link exits 2" status_is 2 "$PDSIM" fit "$DS" "$M/wu-zhao-2025-model1.yaml" --link probit
check "-o with two models exits 2" status_is 2 "$PDSIM" fit "$DS" "$M/wu-zhao-2025-model1.yaml" "$M/wu-zhao-2025-model2.yaml" -o "$TMP/x.yaml"
check "missing model file exits 2" status_is 2 "$PDSIM" fit "$DS" "$TMP/nope.yaml"
check "dataset without model exits 2" status_is 2 "$PDSIM" fit "$DS"
check "help fit exits 0" status_is 0 "$PDSIM" help fit
finish
