#!/bin/bash
# slurm_sweep.sh - spread one sweep grid over a Slurm job array.
#
#   sbatch --array=0-7 scripts/slurm_sweep.sh datasets/sweeps/default.conf runs/mygrid
#
# Submit from the source tree (or set ATTNBENCH to the binary: the default is
# build/attnbench of the directory sbatch was run in, then attnbench on
# PATH). The array's tasks are the shards: task I of an array of N tasks
# (--array=A-B, any start, step 1) runs every N-th point starting at I - A
# (`attnbench sweep --shard (I-A)/N`) with --cpus-per-task threads and writes
# OUTDIR/shard-(I-A)/; extra arguments go to `attnbench sweep`. When all
# tasks are done:
#
#   build/attnbench report runs/mygrid/shard-* --out runs/mygrid/report
#
# merges the shards into one report (duplicate points: the newest run wins).
# scripts/slurm_selftest.sh (`make test-slurm`) runs this on a one-node
# cluster; docs/slurm.md says more.
#SBATCH --job-name=attnbench
#SBATCH --cpus-per-task=8
#SBATCH --time=02:00:00
set -euo pipefail
usage="usage: sbatch --array=0-N scripts/slurm_sweep.sh CONFIG OUTDIR [SWEEP OPTIONS]"
config=${1:?$usage}
out=${2:?$usage}
shift 2
id=${SLURM_ARRAY_TASK_ID:?run this through sbatch --array ($usage)}
first=${SLURM_ARRAY_TASK_MIN:?run this through sbatch --array}
last=${SLURM_ARRAY_TASK_MAX:?run this through sbatch --array}
if [ "${SLURM_ARRAY_TASK_STEP:-1}" != 1 ]; then
	echo "slurm_sweep: --array with a step (${SLURM_ARRAY_TASK_STEP}) leaves shards out; use A-B" >&2
	exit 2
fi
i=$((id - first))
n=$((last - first + 1))
bin=${ATTNBENCH:-build/attnbench}
if [ ! -x "$bin" ]; then
	bin=$(command -v attnbench) || {
		echo "slurm_sweep: no $bin in $(pwd) and no attnbench on PATH (set ATTNBENCH)" >&2
		exit 2
	}
fi
echo "slurm_sweep: job ${SLURM_ARRAY_JOB_ID:-?} task $id on $(hostname): shard $i/$n of $config" >&2
exec "$bin" sweep --config "$config" --shard "$i/$n" \
	--threads "${SLURM_CPUS_PER_TASK:-1}" --out "$out/shard-$i" "$@"
