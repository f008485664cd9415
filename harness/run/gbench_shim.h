/* gbench_shim.h - a thin C API over Google Benchmark.
 *
 * Google Benchmark has no C interface; this shim exposes the few calls the
 * harness needs: register a benchmark with a C callback and a context, the
 * keep-running loop, counters, complexity N, manual iteration time (device
 * timers), running with a reporter that hands every run back to C, and
 * clearing the registry between sweep points. */
#ifndef ATTN_GBENCH_SHIM_H
#define ATTN_GBENCH_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gb_state gb_state; /* benchmark::State */
typedef struct gb_bench gb_bench; /* benchmark::internal::Benchmark */
typedef void (*gb_func)(gb_state *st, void *arg);

enum gb_complexity { GB_O_NONE = 0, GB_O_N = 1, GB_O_NSQUARED = 2, GB_O_AUTO = 3 };

/* One reported run: a repetition (aggregate == 0) or an aggregate such as
 * "median", "mean", "stddev", "BigO", "RMS". Times are per iteration, ns. */
typedef struct gb_run {
	const char *name;
	int aggregate;
	const char *aggregate_name;
	int error;
	const char *error_message;
	int64_t iterations;
	int64_t repetition_index;
	double real_time_ns;
	double cpu_time_ns;
	int64_t complexity_n;
} gb_run;

typedef void (*gb_report_fn)(const gb_run *run, void *user);

/* benchmark::Initialize on argv (consumes --benchmark_* flags). Returns the
 * number of arguments left in *argc. */
int gb_initialize(int *argc, char **argv);

gb_bench *gb_register(const char *name, gb_func fn, void *arg);
void gb_arg(gb_bench *b, int64_t a);
void gb_repetitions(gb_bench *b, int n);
void gb_min_time(gb_bench *b, double seconds);
void gb_use_manual_time(gb_bench *b);
void gb_use_real_time(gb_bench *b);
void gb_complexity(gb_bench *b, enum gb_complexity c);
void gb_report_aggregates_only(gb_bench *b, int yes);
void gb_unit_ms(gb_bench *b);

int gb_keep_running(gb_state *st);
/* The timed loop in one batch: the run's iteration count (State's
 * max_iterations), then KeepRunningBatch(n): true once (the timer starts;
 * the body makes its n calls), false the next time (the timer stops). */
int64_t gb_max_iterations(gb_state *st);
int gb_keep_running_batch(gb_state *st, int64_t n);
int64_t gb_range(gb_state *st, int i);
void gb_set_iteration_time(gb_state *st, double seconds);
/* is_rate: value is per iteration, reported per second. */
void gb_set_counter(gb_state *st, const char *name, double value, int is_rate);
void gb_set_complexity_n(gb_state *st, int64_t n);
void gb_skip_with_error(gb_state *st, const char *msg);
void gb_set_label(gb_state *st, const char *label);

/* Run every registered benchmark matching the --benchmark_filter flag.
 * With fn == NULL Google Benchmark's own display reporter prints (honouring
 * --benchmark_format and --benchmark_out); otherwise each run goes to fn and
 * nothing is printed. Returns the number of benchmarks run. */
size_t gb_run_all(gb_report_fn fn, void *user);

void gb_clear(void);

/* attnbench's context for the reports gb_run_reported makes: a JSON
 * object's text (put into the JSON context as "attnbench") and lines of
 * text (printed after the console and CSV context). Copied. */
void gb_set_context(const char *json_object, const char *text);

enum gb_format { GB_FORMAT_CONSOLE = 0, GB_FORMAT_JSON = 1, GB_FORMAT_CSV = 2 };

/* The reports of gb_run_reported: the display's format (stdout), with
 * colour and tabular counters for the console; with to_file, a second
 * report in file_format into --benchmark_out (Google Benchmark opens it). */
typedef struct gb_output {
	enum gb_format format, file_format;
	int color, tabular, to_file;
} gb_output;

/* Run every registered benchmark matching --benchmark_filter, reported as
 * o says, each report's context being Google Benchmark's with attnbench's
 * (gb_set_context) added and library_build_type saying how attnbench was
 * built. Returns the number of benchmarks run. */
size_t gb_run_reported(const gb_output *o);

/* Run each member exactly n iterations (--benchmark_min_time=Nx). */
void gb_iterations(gb_bench *b, int64_t n);

#ifdef __cplusplus
}
#endif

#endif
