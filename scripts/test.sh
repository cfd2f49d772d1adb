#!/bin/sh
# Quick start 2: install what is missing, build with warnings as errors, and
# run the whole test suite.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh test
cmake --preset ci >/dev/null
cmake --build --preset ci -j "$(nproc)"
ctest --preset ci -j "$(nproc)"
