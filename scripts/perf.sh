#!/bin/sh
# perf.sh - speed goals, measured and printed as figures and ratios (a
# benchmark, not a test: it always exits 0 unless a run fails).
#
#   scripts/perf.sh [build/attnbench]
#
# Vulkan (on whatever device is first; lavapipe where there is no GPU):
#   prefill, causal, seq_len 2048, head_dim 128, 8 heads, GQA 4: goal >= 3 GFLOP/s
#   decode against a 16k-token cache, same heads:                goal >= 3 GB/s of K/V read
#   split-K decode against one workgroup per query (split=1):    goal > 1x
set -eu
B=${1:-build/attnbench}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
G="--heads 8 --gqa 4 --head-dim 128 --batch 1 --repetitions 5 --min-time 0.1"

if ! "$B" list | grep -q '^vulkan *ok'; then
	echo "perf: vulkan is unavailable here; nothing to measure"
	exit 0
fi
"$B" sweep --backend vulkan $G --phases prefill --seq 2048 --out "$out/prefill" 2>/dev/null
"$B" sweep --backend vulkan $G --phases decode --cache 16384 --out "$out/decode" 2>/dev/null
"$B" sweep --backend vulkan $G --phases decode --cache 16384 --param vulkan:split=1 --out "$out/split1" 2>/dev/null

/usr/bin/python3 - "$out" <<'PY'
import csv, sys
d = sys.argv[1]
row = lambda name: next(csv.DictReader(open(f"{d}/{name}/results.csv")))
p, k, s1 = row("prefill"), row("decode"), row("split1")
for r in (p, k, s1):
    if r["status"] != "ok":
        sys.exit(f"perf: {r['phase']}: {r['status']}")
# K/V read by one decode step: the whole cache
kv = int(k["kv_cache_bytes"])
dec_gbs = kv / float(k["time_ns"])
s1_gbs = kv / float(s1["time_ns"])
goal = lambda ok: "meets goal" if ok else "BELOW goal"
print(f"device: {p['device']}")
print(f"vulkan prefill seq 2048 d128 GQA4: {float(p['gflops']):8.2f} GFLOP/s  (goal >= 3: {goal(float(p['gflops']) >= 3)}), "
      f"median {float(p['time_ns'])/1e6:.2f} ms")
print(f"vulkan decode cache 16384 d128:    {dec_gbs:8.2f} GB/s of K/V (goal >= 3: {goal(dec_gbs >= 3)}), "
      f"median {float(k['time_ns'])/1e6:.3f} ms")
print(f"  split=1 (one workgroup/query):   {s1_gbs:8.2f} GB/s, median {float(s1['time_ns'])/1e6:.3f} ms")
print(f"  split-K / split=1 speed ratio:   {float(s1['time_ns'])/float(k['time_ns']):8.2f}x  (goal > 1: {goal(float(s1['time_ns']) > float(k['time_ns']))})")
PY
