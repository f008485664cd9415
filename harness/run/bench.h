/* bench.h - `attnbench bench`: the sweep's grid as Google Benchmark
 * families (BigO fits over seq_len or cache_len), Google Benchmark's own
 * output. */
#ifndef ATTN_BENCH_H
#define ATTN_BENCH_H

#include "run/gbench_shim.h"
#include "run/measure.h"

/* What cmd/bench.c took from the --benchmark_* flags itself (Google
 * Benchmark takes the rest) and the version the context states. */
typedef struct bench_opts {
	gb_output out;          /* --benchmark_format, --benchmark_out(_format), colour */
	double min_time_s;      /* --benchmark_min_time=Ts or =T; 0: not given */
	int64_t min_iterations; /* --benchmark_min_time=Nx; 0: not given */
	const char *version;    /* attnbench's */
} bench_opts;

/* Register every family and run Google Benchmark (its --benchmark_* flags
 * were taken before), the reports' context holding attnbench's (version,
 * build, machine, backends with their device and setup). A member runs
 * --min-time (or the config's) when given, else --benchmark_min_time,
 * else Google Benchmark's default. Returns an exit code. */
int bench_run(const sweep_opts *o, const bench_opts *b);

#endif
