#!/bin/sh
# Quick start 2: install what is missing, build with warnings as errors, and
# run the whole test suite.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh test
# Slurm and munge for the one-node Slurm test, which is skipped without them
scripts/install-deps.sh slurm || echo "test.sh: no Slurm: cli.slurm_array will be skipped" >&2
cmake --preset ci >/dev/null
cmake --build --preset ci -j "$(nproc)"
ctest --preset ci -j "$(nproc)"
# the MPI build: sweeps split across mpirun ranks, and the MPI batch script
# under the one-node Slurm, give the one-process result
if scripts/install-deps.sh mpi; then
    cmake --preset mpi -DPDSIM_WERROR=ON >/dev/null
    cmake --build --preset mpi -j "$(nproc)" --target pdsim
    ctest --preset mpi -R '^cli[.](sweep|slurm)_mpi$'
else
    echo "test.sh: no OpenMPI: the MPI build was not tested" >&2
fi
