#!/bin/sh
# Run a pdsim calibration on a Slurm cluster split into TASKS tasks:
# submits calibrate-step.sbatch, which plans the first round and submits
# the job array calibrate-array.sbatch and, after it, the next step, and so
# on until the calibration is finished (docs/calibrate.md, "Tasks and
# Slurm"). From the project folder:
#   scripts/slurm/calibrate-submit.sh CALIBRATE.yaml TASKS [-- SBATCH_OPTIONS...]
# SBATCH_OPTIONS (e.g. --partition=short --account=X) go to every job of
# the chain. Environment: PDSIM (default build/pdsim), DIR (the folder of
# the generations; default the file's output), MODEL (a model file to
# write at the end). Logs go to logs/ in this folder.
#
# The result is the same for any TASKS, and the same as
#   build/pdsim calibrate CALIBRATE.yaml
# in one process. If a task fails (time limit, node failure), the step
# after it never starts: cancel that step job (squeue shows it pending
# with DependencyNeverSatisfied) and run this script again: the new step
# keeps the plan and the parts, the tasks that had finished have nothing
# to do, and the failed one resumes its part file.
set -eu
if [ $# -lt 2 ]; then
    echo "usage: $0 CALIBRATE.yaml TASKS [-- SBATCH_OPTIONS...]" >&2
    exit 2
fi
CAL=$1
TASKS=$2
shift 2
[ "${1:-}" != "--" ] || shift
SBATCH_OPTS="$*"
PDSIM=${PDSIM:-build/pdsim}
DIR=${DIR:-}
MODEL=${MODEL:-}
SCRIPTS=$(cd "$(dirname "$0")" && pwd)
case $TASKS in '' | *[!0-9]* | 0) echo "$0: TASKS: expected a positive integer, got \"$TASKS\"" >&2; exit 2 ;; esac
# the calibration file must be valid before anything is submitted
"$PDSIM" calibrate "$CAL" --check >/dev/null
mkdir -p logs
export PDSIM CAL TASKS DIR MODEL SCRIPTS SBATCH_OPTS
# shellcheck disable=SC2086 # SBATCH_OPTS: options separated by spaces
step=$(sbatch --parsable $SBATCH_OPTS "$SCRIPTS/calibrate-step.sbatch")
step=${step%%;*}
echo "step_job	$step"
echo "# calibration $CAL in $TASKS tasks: the step job $step submits the rounds (job arrays"
echo "# pdsim-calibrate, logs in logs/); watch with"
echo "#   squeue -u \"\$USER\" -n pdsim-calibrate,pdsim-calibrate-step"
echo "# progress: the lines 'continue generation=...' in logs/pdsim-calibrate-step-*.log;"
echo "# the step that finishes prints 'finished' and the posterior"
