#!/bin/sh
# perf.sh - the speed targets, measured and printed as figures and ratios
# against the machine's own roofline taken in the same run. A benchmark, not
# a test: it exits 0 after printing unless a measurement fails.
#
#   scripts/perf.sh [BUILD_DIR]        (default: build; needs attnbench, perf_loop)
#   PERF_THREADS=N                     threads (default: all online CPUs)
#
# CPU targets (f32; 32 query heads, 8 KV heads, batch 1 unless said):
#   1 blocked prefill, causal, head_dim 128, seq 4096      >= 0.75 of attention-shaped sgemm
#   2 blocked attend, non-causal, head_dim 128 / 64         >= 0.75 / >= 0.6 of it
#   3 blas prefill, head_dim 128, seq 4096                 >= 0.6 of it
#   4 blocked decode, head_dim 128, cache 32768 (256 MiB)  >= 0.8 of DRAM read bandwidth
#  4b the same with an f16 cache (128 MiB; GB/s of the stored 2-byte K and V) >= 0.8 of it
#   5 blocked prefill (as 1, seq 2048), 2 threads / 1      >= 1.8
#   6 naive prefill, 8 heads / 2 KV, head_dim 128, seq 2048 (one thread) >= 3 GFLOP/s
#   7 decode of 1 head, head_dim 64, cache 16: sweep / tight loop  within 10%
# Scale (a figure, no target): report and compare on a generated run of
#   100k rows (PERF_SCALE_ROWS), printed as rows per second
# Vulkan goals (first device; lavapipe where there is no GPU):
#   prefill, causal, seq 2048, head_dim 128, 8 heads, GQA 4  >= 3 GFLOP/s
#   decode against a 16k-token cache, same heads             >= 3 GB/s of K/V read
#   split-K decode against one workgroup per query (split=1) > 1x
set -eu
BUILD=${1:-build}
B=$BUILD/attnbench
T=${PERF_THREADS:-$(nproc)}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# a fresh cache directory: the roofline is measured now, then reused by
# every sweep below (same machine, build and thread count)
export ATTNBENCH_CACHE_DIR="$out/cache"
R="--repetitions 5 --min-time 0.2 --batch 1"
BIG="--heads 32 --gqa 4"

step() { echo "perf: $*" >&2; }
sweep() { # name, then sweep options
	name=$1
	shift
	step "$name"
	"$B" sweep --out "$out/$name" "$@" 2>"$out/$name.log" || {
		cat "$out/$name.log" >&2
		exit 1
	}
}

step "roofline ($T threads)"
"$B" roofline --threads "$T" --out "$out/roofline" >"$out/roofline.txt"
sweep t1 --backend blocked $BIG $R --head-dim 128 --phases prefill --seq 4096 --threads "$T"
sweep t2 --backend blocked $BIG $R --head-dim 128,64 --phases attend --causal 0 --seq 4096 --threads "$T"
sweep t3 --backend blas $BIG $R --head-dim 128 --phases prefill --seq 4096 --threads "$T"
sweep t4 --backend blocked $BIG $R --head-dim 128 --phases decode --cache 32768 --threads "$T"
sweep t4b --backend blocked $BIG $R --head-dim 128 --phases decode --cache 32768 --dtype f16 --threads "$T"
sweep t5a --backend blocked $BIG $R --head-dim 128 --phases prefill --seq 2048 --threads 2
sweep t5b --backend blocked $BIG $R --head-dim 128 --phases prefill --seq 2048 --threads 1
sweep t6 --backend naive --heads 8 --gqa 4 --repetitions 3 --min-time 0.01 --batch 1 --head-dim 128 \
	--phases prefill --seq 2048 --threads 1
sweep t7 --backend blocked --heads 1 --gqa 1 $R --head-dim 64 --phases decode --cache 16 --threads "$T"
step "t7 tight loop"
"$BUILD/perf_loop" blocked 1 1 64 16 "$T" >"$out/t7loop.txt"

vk=0
if "$B" list | grep -q '^vulkan *ok'; then
	vk=1
	G="--heads 8 --gqa 4 --head-dim 128 --batch 1 --repetitions 5 --min-time 0.1"
	sweep vkp --backend vulkan $G --phases prefill --seq 2048
	sweep vkd --backend vulkan $G --phases decode --cache 16384
	sweep vk1 --backend vulkan $G --phases decode --cache 16384 --param vulkan:split=1
fi

/usr/bin/python3 - "$out" "$T" "$vk" <<'PY'
import csv, sys
d, threads, vk = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
rows = lambda name: list(csv.DictReader(open(f"{d}/{name}/results.csv")))
def one(name, **match):
    for r in rows(name):
        if all(r[k] == str(v) for k, v in match.items()):
            if r["status"] != "ok":
                sys.exit(f"perf: {name}: {r['status']}")
            return r
    sys.exit(f"perf: {name}: no row {match}")
roof = next(csv.DictReader(open(f"{d}/roofline/roofline.csv")))
sg, sq = float(roof["sgemm_attn_gflops"]), float(roof["sgemm_square_gflops"])
dram, llc = float(roof["dram_gbs"]), float(roof["llc_gbs"])
machine = {}
try:
    import json
    machine = json.load(open(f"{d}/t1/machine.json"))
except Exception:
    pass
print(f"machine: {machine.get('cpu_model', '?')}, {threads} threads, {machine.get('blas', '?')}")
print(f"roofline: sgemm 4096x128x4096 {sg:.1f} GFLOP/s, sgemm 2048^3 {sq:.1f} GFLOP/s, "
      f"DRAM read {dram:.1f} GB/s, LLC read {llc:.1f} GB/s")
print()
print(f"{'#':<3}{'target':<52}{'figure':>22}{'ratio':>8}{'goal':>13}  verdict")
met = 0
def line(n, what, fig, ratio, goal, ok):
    global met
    met += ok
    print(f"{n:<3}{what:<52}{fig:>22}{ratio:>8.3f}{goal:>13}  {'meets' if ok else 'BELOW'}")
r1 = one("t1", head_dim=128)
g = float(r1["gflops"]); line(1, "blocked prefill causal d128 seq4096 / sgemm", f"{g:.1f} GFLOP/s", g / sg, ">= 0.75", g / sg >= 0.75)
g = float(one("t2", head_dim=128)["gflops"]); line("2a", "blocked attend non-causal d128 seq4096 / sgemm", f"{g:.1f} GFLOP/s", g / sg, ">= 0.75", g / sg >= 0.75)
g = float(one("t2", head_dim=64)["gflops"]); line("2b", "blocked attend non-causal d64 seq4096 / sgemm", f"{g:.1f} GFLOP/s", g / sg, ">= 0.6", g / sg >= 0.6)
g = float(one("t3", head_dim=128)["gflops"]); line(3, "blas prefill causal d128 seq4096 / sgemm", f"{g:.1f} GFLOP/s", g / sg, ">= 0.6", g / sg >= 0.6)
r4 = one("t4", head_dim=128)
b = float(r4["gbytes_s"]); line(4, "blocked decode d128 cache32768 / DRAM read", f"{b:.1f} GB/s", b / dram, ">= 0.8", b / dram >= 0.8)
# gbytes_s counts Q, K and V in their stored size (2 bytes for f16) and O in f32
r4b = one("t4b", head_dim=128, dtype="f16")
b = float(r4b["gbytes_s"]); line("4b", "blocked decode f16 d128 cache32768 / DRAM read", f"{b:.1f} GB/s", b / dram, ">= 0.8", b / dram >= 0.8)
a, s1 = float(one("t5a")["gflops"]), float(one("t5b")["gflops"])
line(5, "blocked prefill seq2048: 2 threads / 1 thread", f"{a:.1f} / {s1:.1f} GFLOP/s", a / s1, ">= 1.8", a / s1 >= 1.8)
g = float(one("t6")["gflops"]); line(6, "naive prefill d128 seq2048, one thread", f"{g:.2f} GFLOP/s", g / 3.0, ">= 3 GFLOP/s", g >= 3.0)
sw = float(one("t7")["time_ns"]); lp = float(open(f"{d}/t7loop.txt").read())
line(7, "decode h1 d64 cache16: sweep / tight loop", f"{sw:.0f} / {lp:.0f} ns", sw / lp, "<= 1.10", sw / lp <= 1.10)
print(f"\n{met} of 9 CPU figures meet their targets (medians of 5 repetitions; ratios within this run)")
if vk:
    p, k, s1 = one("vkp"), one("vkd"), one("vk1")
    kv = int(k["kv_cache_bytes"])
    dec, dec1 = kv / float(k["time_ns"]), kv / float(s1["time_ns"])
    print(f"\nvulkan on {p['device']}:")
    print(f"  prefill seq2048 d128 GQA4: {float(p['gflops']):8.2f} GFLOP/s (goal >= 3)")
    print(f"  decode cache16384 d128:    {dec:8.2f} GB/s of K/V (goal >= 3); split=1: {dec1:.2f} GB/s, "
          f"split-K/split=1 {float(s1['time_ns']) / float(k['time_ns']):.2f}x (goal > 1)")
else:
    print("\nvulkan: unavailable here; nothing to measure")
PY

# scale: a generated run of ROWS rows (4 backends x 3 phases x 2 head
# sizes x 2 dtypes x 2 batches per sequence length), read by report and by
# compare against itself
ROWS=${PERF_SCALE_ROWS:-100000}
step "scale: report and compare on $ROWS generated rows"
mkdir -p "$out/scale"
/usr/bin/python3 - "$out/scale/results.csv" "$ROWS" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
cols = ("backend,device,phase,batch,n_heads,n_kv_heads,head_dim,seq_len,cache_len,causal,dtype,time_ns,"
        "time_ns_min,time_ns_max,reps,gflops,gbytes_s,kv_cache_bytes,workspace_bytes,status,gpu_time_ns,timing,"
        "iterations,threads,peak_device_bytes,flops,bytes,rep_times_ns")
k = 0
with open(path, "w") as f:
    f.write(cols + "\n")
    seq = 0
    while k < n:
        seq += 16
        for b, be in enumerate(("naive", "blocked", "blas", "vulkan")):
            for ph in ("prefill", "decode", "attend"):
                for hd in (64, 128):
                    for dt in ("f32", "f16"):
                        for batch in (1, 4):
                            if k == n:
                                break
                            sl, causal = (1 if ph == "decode" else seq), (0 if ph == "attend" else 1)
                            t = 1000.0 * seq * hd * batch / (1 + b)
                            flops = 4.0 * batch * 8 * hd * sl * seq
                            kvb = 2 * batch * 2 * seq * hd * (4 if dt == "f32" else 2)
                            f.write(f"{be},cpu,{ph},{batch},8,2,{hd},{sl},{seq},{causal},{dt},{t:.1f},{t * 0.9:.1f},"
                                    f"{t * 1.1:.1f},3,{flops / t:.4f},{kvb / t:.4f},{kvb},0,ok,,wall,1,1,,{flops:.0f},"
                                    f"{kvb:.0f},{t * 0.9:.1f} {t:.1f} {t * 1.1:.1f}\n")
                            k += 1
PY
now() { /usr/bin/python3 -c 'import time; print(time.monotonic())'; }
t0=$(now)
"$B" report "$out/scale" --out "$out/scale-report" --format svg >"$out/scale.log" 2>&1 || {
	cat "$out/scale.log" >&2
	exit 1
}
t1=$(now)
"$B" compare "$out/scale" "$out/scale" >"$out/scale-compare.log" 2>&1 || {
	tail -5 "$out/scale-compare.log" >&2
	exit 1
}
t2=$(now)
/usr/bin/python3 -c "import sys; n, a, b, c = int(sys.argv[1]), *map(float, sys.argv[2:]); \
print(f'\nscale: report {n} rows in {b - a:.2f} s ({n / (b - a):,.0f} rows/s); compare {n} x {n} rows in {c - b:.2f} s ({n / (c - b):,.0f} rows/s)')" \
	"$ROWS" "$t0" "$t1" "$t2"
