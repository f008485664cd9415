/* bench.h - `attnbench bench`: the sweep's grid as Google Benchmark
 * families (BigO fits over seq_len or cache_len), Google Benchmark's own
 * output. */
#ifndef ATTN_BENCH_H
#define ATTN_BENCH_H

#include "run/measure.h"

/* Register every family and run Google Benchmark (its --benchmark_* flags
 * were taken before). Returns an exit code. */
int bench_run(const sweep_opts *o);

#endif
