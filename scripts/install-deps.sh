#!/bin/sh
# Install the Debian packages pdsim needs, skipping those already present.
#   scripts/install-deps.sh [build|test|bench|mpi|slurm|fuzz|memcheck|all]   (default: all)
# Uses sudo when not run as root. Set PDSIM_NO_INSTALL=1 to only check.
set -eu

want=${1:-all}

build_pkgs="build-essential cmake pkg-config libhdf5-dev hdf5-tools libcsv-dev libyaml-dev liblapacke-dev libopenblas-dev"
test_pkgs="libcmocka-dev python3-numpy python3-statsmodels python3-h5py python3-matplotlib fonts-wqy-microhei chromium chromium-driver"
bench_pkgs="time"
mpi_pkgs="libopenmpi-dev openmpi-bin"
slurm_pkgs="slurm-wlm munge"
fuzz_pkgs="clang libclang-rt-14-dev"
memcheck_pkgs="valgrind"

case "$want" in
    build) pkgs="$build_pkgs" ;;
    test) pkgs="$build_pkgs $test_pkgs" ;;
    bench) pkgs="$build_pkgs $bench_pkgs" ;;
    mpi) pkgs="$build_pkgs $mpi_pkgs" ;;
    slurm) pkgs="$slurm_pkgs" ;;
    fuzz) pkgs="$build_pkgs $test_pkgs $fuzz_pkgs" ;;
    memcheck) pkgs="$build_pkgs $test_pkgs $memcheck_pkgs" ;;
    all) pkgs="$build_pkgs $test_pkgs $bench_pkgs $mpi_pkgs $slurm_pkgs $fuzz_pkgs $memcheck_pkgs" ;;
    *) echo "usage: $0 [build|test|bench|mpi|slurm|fuzz|memcheck|all]" >&2; exit 2 ;;
esac

missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    exit 0
fi

if [ "${PDSIM_NO_INSTALL:-0}" = 1 ]; then
    echo "install-deps: missing Debian packages:$missing" >&2
    exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "install-deps: need root or sudo to install:$missing" >&2
    exit 1
fi

echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
