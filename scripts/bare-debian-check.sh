#!/bin/sh
# Prove README's quick start on a bare Debian 12: bootstrap a minimal
# bookworm root with mmdebstrap (variant apt, plus git and ca-certificates),
# clone this checkout's committed HEAD into it, and run README's quick-start
# commands inside, each exactly as README writes it.
#
#   scripts/bare-debian-check.sh [forecast|test|all]    (default: forecast)
#
#   forecast  README's first command (build and run the default forecast)
#   test      README's second command (build and pass the test suite)
#   all       both, in README's order, in the same root
#
# Needs root (mmdebstrap's root mode mounts /proc, /sys and /dev for the
# commands) and the network to a Debian mirror. Without the network it says
# so and exits 3: the check did not run, so it did not pass. Installs
# mmdebstrap when it is missing. PDSIM_BARE_KEEP=1 keeps the root for a look.
# Exit: 0 every command passed; 1 a command failed; 2 bad usage; 3 not run.
set -eu
cd "$(dirname "$0")/.."
src=$(pwd)

which_cmds=${1:-forecast}
case "$which_cmds" in
    forecast | test | all) ;;
    *) echo "usage: $0 [forecast|test|all]" >&2; exit 2 ;;
esac

if [ "$(id -u)" -ne 0 ]; then
    echo "bare-debian-check: needs root (mmdebstrap root mode); not run" >&2
    exit 3
fi
if ! git -C "$src" rev-parse --verify -q HEAD >/dev/null; then
    echo "bare-debian-check: $src is not a git checkout with a commit" >&2
    exit 2
fi
if ! command -v mmdebstrap >/dev/null 2>&1; then
    echo "bare-debian-check: installing mmdebstrap" >&2
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null; }; then
        echo "bare-debian-check: cannot install mmdebstrap (no network to a Debian mirror?); not run" >&2
        exit 3
    fi
fi

# README's quick-start commands: the lines of the first fenced block under
# "## Quick start", without their comments.
cmds=$(awk '/^## Quick start/ {q = 1; next} q && /^```/ {if (b) exit; b = 1; next}
            q && b {sub(/[ \t]*#.*/, ""); if ($0 != "") print}' README.md)
n=$(printf '%s\n' "$cmds" | grep -c . || true)
if [ "$n" -ne 2 ]; then
    echo "bare-debian-check: README's quick start should hold two commands, found $n:" >&2
    printf '%s\n' "$cmds" >&2
    exit 1
fi
forecast_cmd=$(printf '%s\n' "$cmds" | sed -n 1p)
test_cmd=$(printf '%s\n' "$cmds" | sed -n 2p)
case "$which_cmds" in
    forecast) run="$forecast_cmd" ;;
    test) run="$test_cmd" ;;
    all) run="$forecast_cmd
$test_cmd" ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/pdsim-bare.XXXXXX")
root="$work/root"
log="$work/log"
mkdir "$log"
pid=""
cleanup() {
    # never delete through a mount that mmdebstrap still holds in the root
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    if grep -q " $root/" /proc/self/mounts 2>/dev/null; then
        echo "bare-debian-check: $root still has mounts; left in place" >&2
    elif [ "${PDSIM_BARE_KEEP:-0}" = 1 ]; then
        echo "bare-debian-check: root kept in $root" >&2
    else
        rm -rf --one-file-system "$work"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Each README command becomes one hook, run as root in the root's checkout,
# with a marker file so that the report can tell which step failed.
set -- --variant=apt --include=git,ca-certificates --quiet \
    --customize-hook="git clone -q '$src' \"\$1/root/pdsim\" && touch '$log/cloned'"
i=0
printf '%s\n' "$run" >"$log/commands"
while IFS= read -r c; do
    i=$((i + 1))
    set -- "$@" --customize-hook="echo 'bare-debian-check: [$i] $c' >&2; chroot \"\$1\" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 sh -c 'cd /root/pdsim && $c' && touch '$log/ok-$i'"
done <"$log/commands"

echo "bare-debian-check: bootstrapping Debian 12 (bookworm, variant apt) in $root" >&2
start=$(date +%s)
rc=0
mmdebstrap "$@" bookworm "$root" >"$log/mmdebstrap.out" 2>&1 &
pid=$!
wait "$pid" || rc=$?
pid=""
end=$(date +%s)
# the commands' own output (build messages, the forecast table)
cat "$log/mmdebstrap.out" >&2

if [ ! -e "$log/cloned" ]; then
    if grep -qiE "could not resolve|temporary failure|failed to fetch|unable to connect|network is unreachable|connection (refused|timed out)" "$log/mmdebstrap.out"; then
        echo "bare-debian-check: NOT RUN: the Debian mirror cannot be reached from here, so the bootstrap failed (see above)" >&2
        exit 3
    fi
    echo "bare-debian-check: FAILED: the bootstrap failed before the checkout was cloned (see above)" >&2
    exit 1
fi
i=0
failed=0
while IFS= read -r c; do
    i=$((i + 1))
    if [ -e "$log/ok-$i" ]; then
        echo "bare-debian-check: passed: $c" >&2
    elif [ "$failed" = 0 ]; then
        echo "bare-debian-check: FAILED: $c" >&2
        failed=1
    else
        echo "bare-debian-check: not reached: $c" >&2
    fi
done <"$log/commands"
if [ "$rc" -ne 0 ] || [ "$failed" -ne 0 ]; then
    if grep -qiE "could not resolve|temporary failure resolving|failed to fetch" "$log/mmdebstrap.out"; then
        echo "bare-debian-check: the failure looks like a network failure inside the root (see above)" >&2
    fi
    exit 1
fi
echo "bare-debian-check: README's quick start ($which_cmds) passed on a bare Debian 12 in $((end - start)) s" >&2
