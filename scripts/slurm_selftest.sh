#!/bin/bash
# slurm_selftest.sh - `make test-slurm`: the sharded sweep on a real Slurm.
#
#   scripts/slurm_selftest.sh            a cluster of its own (as root)
#   scripts/slurm_selftest.sh --cluster  the cluster this machine submits to
#
# By default it installs Slurm and MUNGE through scripts/setup.sh --slurm
# when they are missing, then starts a one-node cluster on this machine from
# a temporary directory (munged, slurmctld, slurmd; every address 127.0.0.1,
# nothing leaves the machine). Either way it submits scripts/slurm_sweep.sh
# over a tiny grid (scripts/slurm_tiny.conf) as a job array with `sbatch
# --array`, prints the array job's id and tasks, waits for them (polling
# squeue against a deadline), merges the shards with `attnbench report`, and
# checks that together they hold exactly the points of the same grid swept
# unsharded here, each once and ok. Every daemon it started is stopped on
# exit (and its jobs cancelled), pass or fail. With --cluster it starts
# nothing and works in build/ of the source tree, which the compute nodes
# must see (docs/slurm.md).
#
# Environment: ATTNBENCH (the binary, default build/attnbench),
# SLURM_SELFTEST_TASKS (array tasks, default 3), SLURM_SELFTEST_TIMEOUT
# (seconds for the array, default 120; 1800 with --cluster, where the tasks
# may queue), SLURM_SELFTEST_SBATCH_ARGS (more sbatch options, e.g.
# "--partition=debug --account=me"), SLURM_SELFTEST_KEEP=1 (keep the working
# directory: configuration, logs, shards). Exit 0 pass, 1 fail, 2 usage.
set -euo pipefail

cluster=0
case "${1:-}" in
"") ;;
--cluster) cluster=1 ;;
*)
	echo "usage: scripts/slurm_selftest.sh [--cluster]" >&2
	exit 2
	;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin=${ATTNBENCH:-build/attnbench}
ntasks=${SLURM_SELFTEST_TASKS:-3}
timeout_s=${SLURM_SELFTEST_TIMEOUT:-$((cluster ? 1800 : 120))}
conf=scripts/slurm_tiny.conf
read -r -a sbatch_args <<<"${SLURM_SELFTEST_SBATCH_ARGS:-}"

say() { echo "slurm-selftest: $*" >&2; }
die() {
	say "FAIL: $*"
	exit 1
}

[ -x "$bin" ] || die "$bin is missing: build it first (make)"
case "$ntasks" in '' | *[!0-9]* | 0) die "SLURM_SELFTEST_TASKS='$ntasks' is not a count of tasks >= 1" ;; esac
if [ "$cluster" -eq 1 ]; then
	for c in sbatch squeue scontrol scancel; do
		command -v "$c" >/dev/null 2>&1 || die "--cluster: no $c on PATH (a Slurm client is needed)"
	done
	mkdir -p build
	tmp=$(mktemp -d "$root/build/slurm-selftest.XXXXXX")
	mkdir -p "$tmp/logs"
else
	[ "$(id -u)" -eq 0 ] || die "run as root (as CI does): the daemons run as root from a temporary directory"
	for c in munged mungekey slurmctld slurmd sbatch squeue scontrol scancel; do
		if ! command -v "$c" >/dev/null 2>&1; then
			say "no $c: installing Slurm and MUNGE (scripts/setup.sh --slurm)"
			scripts/setup.sh --slurm
			break
		fi
	done
	tmp=$(mktemp -d /tmp/attnbench-slurm.XXXXXX)
	chmod 700 "$tmp"
	mkdir -p "$tmp/munge" "$tmp/etc" "$tmp/state" "$tmp/spool" "$tmp/logs" "$tmp/run"
	export SLURM_CONF="$tmp/etc/slurm.conf"
fi
daemons=() # "name pid"
jobid=""

# On exit: cancel the array, stop each daemon started here (TERM, then
# KILL after 10 s), and remove the temporary directory.
cleanup() {
	local rc=$?
	set +e
	if [ -n "$jobid" ] && [ "$rc" -ne 0 ]; then
		scancel "$jobid" 2>/dev/null
		local end=$((SECONDS + 15))
		while [ $SECONDS -lt $end ] && [ -n "$(squeue -h -j "$jobid" -o %i 2>/dev/null)" ]; do sleep 0.5; done
	fi
	local i
	for ((i = ${#daemons[@]} - 1; i >= 0; i--)); do
		local name=${daemons[i]%% *} pid=${daemons[i]#* }
		kill -TERM "$pid" 2>/dev/null || continue
		local end=$((SECONDS + 10))
		while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.2; done
		if kill -0 "$pid" 2>/dev/null; then
			say "$name ($pid) did not stop on TERM: KILL"
			kill -KILL "$pid" 2>/dev/null
		fi
		wait "$pid" 2>/dev/null
		say "stopped $name ($pid)"
	done
	if [ "$rc" -ne 0 ]; then
		for f in "$tmp"/logs/*.log "$tmp"/logs/*.out; do
			[ -s "$f" ] && { say "--- $f (last lines)"; tail -15 "$f" >&2; }
		done
	fi
	if [ "${SLURM_SELFTEST_KEEP:-0}" = 1 ]; then
		say "kept $tmp"
	else
		rm -rf "$tmp"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Poll "$@" until it succeeds, for at most $1 seconds; $2 names the wait.
wait_for() {
	local limit=$1 what=$2
	shift 2
	local end=$((SECONDS + limit))
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $end ] || die "$what: not after ${limit} s"
		sleep 0.2
	done
}

# ---- a one-node cluster on 127.0.0.1 (not with --cluster) ---------------------
start_cluster() {
# Two free TCP ports on 127.0.0.1 for slurmctld and slurmd.
read -r ctld_port slurmd_port < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')

# ---- munge ----------------------------------------------------------------
sock="$tmp/munge/munge.socket"
mungekey --create --keyfile="$tmp/munge/munge.key" >/dev/null
chmod 600 "$tmp/munge/munge.key"
munged --foreground --force --key-file="$tmp/munge/munge.key" --socket="$sock" \
	--pid-file="$tmp/run/munged.pid" --seed-file="$tmp/munge/munged.seed" \
	--log-file="$tmp/logs/munged.log" --origin=127.0.0.1 >>"$tmp/logs/munged.log" 2>&1 &
daemons+=("munged $!")
munge_ok() { munge -n -S "$sock" | unmunge -S "$sock"; }
wait_for 20 "munged answering on $sock" munge_ok
say "munged up (socket $sock)"

# ---- slurm.conf -------------------------------------------------------------
cpus=$(nproc)
cat >"$SLURM_CONF" <<CONF
# Generated by scripts/slurm_selftest.sh: a one-node cluster on 127.0.0.1.
ClusterName=attnbench-selftest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool/slurmd-%n
SlurmctldPidFile=$tmp/run/slurmctld.pid
SlurmdPidFile=$tmp/run/slurmd-%n.pid
SlurmctldLogFile=$tmp/logs/slurmctld.log
SlurmdLogFile=$tmp/logs/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MinJobAge=600
SlurmctldTimeout=30
SlurmdTimeout=30
# bind to 127.0.0.1 (SlurmctldHost, NodeAddr), not to every address
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
NodeName=localhost NodeAddr=127.0.0.1 NodeHostname=localhost CPUs=$cpus State=UNKNOWN
PartitionName=selftest Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF

# ---- slurmctld and slurmd ---------------------------------------------------------
slurmctld -D -i -f "$SLURM_CONF" >>"$tmp/logs/slurmctld.log" 2>&1 &
daemons+=("slurmctld $!")
ctld_up() { scontrol ping | grep -q UP; }
wait_for 30 "slurmctld answering on 127.0.0.1:$ctld_port" ctld_up
slurmd -D -N localhost -f "$SLURM_CONF" >>"$tmp/logs/slurmd.log" 2>&1 &
daemons+=("slurmd $!")
node_idle() { sinfo -h -n localhost -o %T | grep -q '^idle'; }
wait_for 30 "node localhost idle" node_idle
say "slurmctld (port $ctld_port) and slurmd (port $slurmd_port) up; node localhost idle with $cpus CPUs"
check_loopback
}

# Every TCP socket the daemons listen on is on 127.0.0.1 (munged has only its
# Unix socket): checked with ss where iproute2 is installed.
check_loopback() {
	if ! command -v ss >/dev/null 2>&1; then
		say "no ss (iproute2): the listening addresses are not checked"
		return 0
	fi
	local d pid listen bad=""
	for d in "${daemons[@]}"; do
		pid=${d#* }
		listen=$(ss -Hltnp | { grep "pid=$pid," || true; } | awk '{print $4}' | sort -u | tr '\n' ' ')
		say "${d%% *} ($pid) listens on: ${listen:-no TCP port}"
		for a in $listen; do
			case "$a" in 127.0.0.1:*) ;; *) bad="$bad ${d%% *}:$a" ;; esac
		done
	done
	[ -z "$bad" ] || die "daemons listen beyond 127.0.0.1:$bad"
}
if [ "$cluster" -eq 0 ]; then
	start_cluster
fi

# ---- the reference: the same grid unsharded -----------------------------------
"$bin" sweep --config "$conf" --threads 1 --out "$tmp/full" >"$tmp/logs/full.log" 2>&1 ||
	die "the unsharded sweep failed (its log: $tmp/logs/full.log)"

# ---- the array ----------------------------------------------------------------
jobid=$(sbatch --parsable --array="0-$((ntasks - 1))" --cpus-per-task=1 --time=00:05:00 "${sbatch_args[@]}" \
	--output="$tmp/logs/task_%A_%a.out" --chdir="$root" \
	scripts/slurm_sweep.sh "$conf" "$tmp/grid") || die "sbatch refused the array"
jobid=${jobid%%;*}
say "submitted array job $jobid: tasks 0-$((ntasks - 1)) (scripts/slurm_sweep.sh $conf)"
squeue -r -j "$jobid" -o "%.14i %.9T %.10M %R" >&2 || true

end=$((SECONDS + timeout_s))
while :; do
	left=$(squeue -h -r -j "$jobid" -o "%i %T") || die "squeue failed"
	[ -n "$left" ] || break
	[ $SECONDS -lt $end ] || die "array job $jobid not done after ${timeout_s} s; still: ${left//$'\n'/, }"
	sleep 0.5
done

# Every task COMPLETED with exit 0: "TASK STATE EXIT" lines from scontrol
# (finished jobs stay there for MinJobAge, 600 s on our own cluster), or from
# sacct on a cluster whose controller already forgot them.
task_states() {
	scontrol -o show job "$jobid" 2>/dev/null | while read -r line; do
		[ -n "$line" ] || continue
		echo "$(grep -o 'ArrayTaskId=[^ ]*' <<<"$line" | cut -d= -f2)" \
			"$(grep -o 'JobState=[^ ]*' <<<"$line" | cut -d= -f2)" \
			"$(grep -o ' ExitCode=[^ ]*' <<<"$line" | cut -d= -f2)"
	done
}
states=$(task_states)
if [ "$(grep -c . <<<"$states")" -ne "$ntasks" ] && command -v sacct >/dev/null 2>&1; then
	states=$(sacct -n -P -X -j "$jobid" -o JobID,State,ExitCode | sed 's/^[0-9]*_//; s/|/ /g')
fi
ntask_seen=0
while read -r task state code; do
	[ -n "$task" ] || continue
	say "  task ${jobid}_$task: $state, exit $code"
	if [ "$state" != COMPLETED ] || [ "$code" != 0:0 ]; then
		die "task ${jobid}_$task ended $state (exit $code)"
	fi
	ntask_seen=$((ntask_seen + 1))
done <<<"$states"
[ "$ntask_seen" -eq "$ntasks" ] || die "Slurm lists $ntask_seen tasks of job $jobid, not $ntasks"

# ---- merge and check -----------------------------------------------------------
shards=()
for ((i = 0; i < ntasks; i++)); do
	[ -f "$tmp/grid/shard-$i/results.csv" ] || die "task $i wrote no $tmp/grid/shard-$i/results.csv"
	shards+=("$tmp/grid/shard-$i")
done
"$bin" report "${shards[@]}" --out "$tmp/report" --format svg >"$tmp/logs/report.log" 2>&1 ||
	die "attnbench report of the shards failed"
grep -q "from $ntasks runs" "$tmp/report/report.md" || die "report.md does not say it merged $ntasks runs"
python3 - "$tmp/full/results.csv" "${shards[@]/%//results.csv}" <<'PY' || die "the merged shards are not the grid"
import collections, csv, sys

KEY = ("backend", "phase", "batch", "n_heads", "n_kv_heads", "head_dim", "seq_len", "cache_len", "causal", "dtype")

def points(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    bad = [r for r in rows if r["status"] != "ok"]
    if bad:
        sys.exit(f"{path}: {len(bad)} rows not ok: {bad[0]['status']}")
    return [tuple(r[k] for k in KEY) for r in rows]

grid = points(sys.argv[1])
merged = collections.Counter(p for path in sys.argv[2:] for p in points(path))
dup = [p for p, n in merged.items() if n > 1]
missing = set(grid) - set(merged)
extra = set(merged) - set(grid)
for what, ps in (("in more than one shard", dup), ("missing", missing), ("not in the grid", extra)):
    for p in sorted(ps):
        print(f"slurm-selftest: point {what}: {dict(zip(KEY, p))}", file=sys.stderr)
if dup or missing or extra or len(grid) != len(set(grid)) or not grid:
    sys.exit(1)
print(f"slurm-selftest: the {len(sys.argv) - 2} shards hold exactly the {len(grid)} points of the grid, each once",
      file=sys.stderr)
PY
say "PASS: array job $jobid, $ntasks tasks, merged with attnbench report"
