#!/bin/bash
# slurm_sweep.sh - spread one sweep grid over a Slurm job array.
#
#   sbatch --array=0-7 scripts/slurm_sweep.sh datasets/sweeps/default.conf runs/mygrid
#
# Task I of N runs every N-th point starting at I (`attnbench sweep --shard
# I/N`) and writes runs/mygrid/shard-I/. When all tasks are done:
#
#   build/attnbench report runs/mygrid/shard-* --out runs/mygrid/report
#
# merges the shards into one report (duplicate points: the newest run wins).
#SBATCH --job-name=attnbench
#SBATCH --cpus-per-task=8
#SBATCH --time=02:00:00
set -euo pipefail
config=${1:?usage: sbatch --array=0-N scripts/slurm_sweep.sh CONFIG OUTDIR}
out=${2:?usage: sbatch --array=0-N scripts/slurm_sweep.sh CONFIG OUTDIR}
i=${SLURM_ARRAY_TASK_ID:?run this through sbatch --array}
n=${SLURM_ARRAY_TASK_COUNT:?run this through sbatch --array}
exec build/attnbench sweep --config "$config" --shard "$i/$n" \
	--threads "${SLURM_CPUS_PER_TASK:-1}" --out "$out/shard-$i"
