/* gbench_json.h - a sweep's results in Google Benchmark's JSON format
 * (`sweep --json FILE`): what tools that read benchmark's
 * --benchmark_out=FILE --benchmark_out_format=json (compare.py, dashboards)
 * read. Written through jansson. */
#ifndef ATTN_GBENCH_JSON_H
#define ATTN_GBENCH_JSON_H

#include "lib/util.h"
#include "model/machine.h"
#include "model/results.h"

/* Write PATH (whole, through file_out: a temporary file renamed over it)
 * from the rows of rf, with m (may be NULL) as the context's machine:
 * {"context": {date, host_name, executable, num_cpus, mhz_per_cpu, caches
 * (where /sys tells), library_build_type "release", "attnbench": {machine
 * fields, build_flags, git_commit, compiler}}, "benchmarks": [one entry per
 * ok row: name "PHASE/BACKEND/bB_hH_kvK_dD_DTYPE/LEN" (bench's names),
 * run_name, run_type "iteration", repetitions, iterations, real_time and
 * cpu_time (the median time per call; cpu time is not measured apart),
 * time_unit "ns", threads, gflops, gbytes_s, kv_cache_bytes, repro]}.
 * executable names the program. Returns 0, or EXIT_INPUT / -1 with the
 * message in e. */
int gbench_json_write(const char *path, const results_file *rf, machine_info *m, const char *executable, attn_err *e);

#endif
