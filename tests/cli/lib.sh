# Shared by the command-line test scripts: a temporary folder, pass/fail
# counting and the closing "N passed, M failed" line. Source it after
# setting PDSIM.
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0
fail=0

# Copy a test config (IN) to OUT with its dataset and model paths made
# absolute against $TESTS/data, so that OUT can live in $TMP; further sed
# expressions (each after -e) are applied after that.
absolute_config() { # IN OUT [-e EXPR]...
    _src=$1 _dst=$2
    shift 2
    ad=$(cd "$TESTS/data" && pwd) &&
        sed -e "s|^dataset: |dataset: $ad/|" -e "s|^model: |model: $ad/|" \
            -e "s|^subunit_model: |subunit_model: $ad/|" "$@" "$_src" >"$_dst"
}

check() { # name, then a command that must succeed
    name=$1
    shift
    if "$@" >"$TMP/out.txt" 2>"$TMP/err.txt"; then
        echo "ok $name"
        pass=$((pass + 1))
    else
        echo "FAIL $name"
        sed 's/^/    /' "$TMP/out.txt" "$TMP/err.txt" | head -20
        fail=$((fail + 1))
    fi
}

status_is() { # expected status, command...; keeps stdout/stderr in $TMP/s.out, s.err
    want=$1
    shift
    "$@" >"$TMP/s.out" 2>"$TMP/s.err"
    [ $? -eq "$want" ]
}

# Waits (up to 20 s) until process $1 catches SIGINT, i.e. until pdsim has
# loaded its inputs and installed its handlers: a signal before that would
# end it (SIGTERM) or be ignored (SIGINT in a background job).
wait_for_handler() {
    _i=0
    while [ $_i -lt 200 ]; do
        _mask=$(sed -n 's/^SigCgt:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null)
        [ -n "$_mask" ] && [ $((0x$_mask & 2)) -ne 0 ] && return 0
        sleep 0.1
        _i=$((_i + 1))
    done
    return 1
}

finish() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
