/* results.h - results.csv rows and the machine description beside them. */
#ifndef ATTN_RESULTS_H
#define ATTN_RESULTS_H

#include <stdint.h>
#include <stdio.h>

#include "run/roofline.h"
#include "run/sweep.h"
#include "lib/table.h"

typedef struct result_row {
	const char *backend, *device;
	const sweep_point *pt;
	const char *status; /* "ok", "skipped: ...", "error: ..." */
	int measured;       /* timing columns filled */
	double time_ns, time_ns_min, time_ns_max, gpu_time_ns;
	int reps;
	int64_t iterations;
	uint64_t workspace_bytes, peak_device_bytes;
	int threads;
	const char *timing;   /* "wall" or "gpu" */
	const double *rep_ns; /* per-repetition times */
	const roofline *roof; /* the machine's peaks for pct_peak_*; NULL: empty */
} result_row;

/* Column names of results.csv in order; the contract's come first. */
extern const char *const results_columns[];
extern const int results_ncolumns;

int results_write_header(FILE *f);
int results_write_row(FILE *f, const result_row *r);

/* The key of a row read back: what identifies a (backend, point, phase).
 * The strings point into the table. */
typedef struct results_key {
	const char *backend, *phase, *dtype, *status;
	int64_t batch, n_heads, n_kv_heads, head_dim, seq_len, cache_len, causal;
	int ok; /* status is "ok" (then time_ns is a positive number) */
} results_key;

/* A results.csv read back and validated. */
typedef struct results_file {
	table t;
	results_key *keys; /* one per data row */
	int same_columns;  /* the header is exactly this version's results_columns */
} results_file;

/* Read and validate PATH: every contract column present; per row, a known
 * phase and dtype, shape integers in range, causal 0 or 1, a status that is
 * ok, skipped: ... or error: ..., and a positive time_ns where ok. Returns 0
 * or EXIT_INPUT naming the file, line and column. */
int results_read(const char *path, results_file *rf, attn_err *e);
void results_file_free(results_file *rf);

/* The path of the marker that says the sweep writing results.csv at
 * csv_path has not finished: results.incomplete in the same directory. */
void results_marker_path(const char *csv_path, char *buf, size_t len);

/* Whether key k is the row of backend at point p. */
int results_key_is(const results_key *k, const char *backend, const sweep_point *p);

const char *phase_name(enum phase p);
const char *dtype_name(attn_dtype t);

/* Write DIR/machine.json describing this machine and build, with the
 * roofline figures when rf is not NULL. */
int machine_write(const char *dir, int threads, const char *devices, const roofline *rf);

/* This machine's CPU model ("unknown" when /proc/cpuinfo has none). */
void cpu_model(char *buf, size_t len);
/* The build: compiler flags and git commit given at compile time. */
const char *build_flags(void);
const char *build_commit(void);

#endif
