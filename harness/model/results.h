/* results.h - results.csv: its columns, declared once (results.c), the
 * writer of a sweep's rows, and the one reader that --resume, compare, plan
 * and report share, which turns every row into a typed record. */
#ifndef ATTN_RESULTS_H
#define ATTN_RESULTS_H

#include <stdint.h>
#include <stdio.h>

#include "lib/table.h"
#include "model/machine.h"
#include "model/point.h"

/* The columns in the order this version writes them: the contract's twenty
 * (README, results.csv), then the ones beyond it. */
enum results_col {
	RC_BACKEND,
	RC_DEVICE,
	RC_PHASE,
	RC_BATCH,
	RC_N_HEADS,
	RC_N_KV_HEADS,
	RC_HEAD_DIM,
	RC_SEQ_LEN,
	RC_CACHE_LEN,
	RC_CAUSAL,
	RC_DTYPE,
	RC_TIME_NS,
	RC_TIME_NS_MIN,
	RC_TIME_NS_MAX,
	RC_REPS,
	RC_GFLOPS,
	RC_GBYTES_S,
	RC_KV_CACHE_BYTES,
	RC_WORKSPACE_BYTES,
	RC_STATUS,
	RC_GPU_TIME_NS, /* beyond the contract */
	RC_TIMING,
	RC_ITERATIONS,
	RC_THREADS,
	RC_PEAK_DEVICE_BYTES,
	RC_FLOPS,
	RC_BYTES,
	RC_REP_TIMES_NS,
	RC_PCT_PEAK_FLOPS,
	RC_PCT_PEAK_BW,
	/* the point's variants, KV storage, paging and lengths (docs/results.md) */
	RC_WINDOW,
	RC_SOFTCAP,
	RC_ALIBI,
	RC_SINKS,
	RC_HEAD_DIM_V,
	RC_KV_DTYPE,
	RC_PAGE_SIZE,
	RC_LENS,
	RC_CACHE_STATE, /* cold or hot: what the point was measured in */
	RC_CV,          /* stddev / mean of rep_times_ns */
	RC_EVICT_GBS,   /* cold: the read rate of the evictions between its calls */
	RC_REPRO,       /* the attnbench sweep command that measures the row's point again (last) */
	RC_NCOLS
};
#define RC_NCONTRACT (RC_STATUS + 1)

/* ---- writing -------------------------------------------------------------------- */

/* A row's status: the cell is "ok", "skipped: REASON" or "error: REASON". */
typedef enum results_status { RESULT_OK, RESULT_SKIPPED, RESULT_ERROR } results_status;

/* One measured (or skipped, or failed) row as a sweep writes it. */
typedef struct result_row {
	const char *backend, *device;
	const sweep_point *pt;
	results_status status;
	const char *reason; /* skipped or error: why, one line */
	int measured;       /* timing columns filled */
	double time_ns, time_ns_min, time_ns_max, gpu_time_ns;
	double evict_gbs; /* cold: GB/s of the evictions between its calls; 0: none */
	int reps;
	int64_t iterations;
	uint64_t workspace_bytes, peak_device_bytes;
	int threads;
	const char *timing;   /* "wall" or "gpu" */
	const double *rep_ns; /* per-repetition times */
	const roofline *roof; /* the machine's peaks for pct_peak_*; NULL: empty */
	int repetitions;      /* the sweep's, for repro (0: left out) */
	double min_time;      /* the sweep's, in seconds, for repro (0: left out) */
	/* for repro, each left out where NULL or 0: the library the backend
	 * came from (--backend-lib), its --param settings, --vk-timing gpu */
	const char *backend_lib, *params;
	int vk_gpu_timing;
} result_row;

/* The command that measures backend's point p again, alone: attnbench
 * sweep with --backend, --phases, every grid key, --dtype, and
 * --repetitions, --min-time and --threads where given (> 0); the row's
 * repro column adds the row's --backend-lib, --param and --vk-timing
 * (result_row). Returns the
 * length snprintf would (the text is cut to len). */
int results_repro(char *buf, size_t len, const char *backend, const sweep_point *p, int repetitions, double min_time,
                  int threads);

int results_write_header(FILE *f);
int results_write_row(FILE *f, const result_row *r);

/* ---- noise --------------------------------------------------------------------- */

/* A row whose repetitions spread more than this (coefficient of variation,
 * stddev / mean) is noisy: the sweep's summary and the report list it
 * (docs/results.md). */
#define RESULTS_CV_NOISY 0.05

/* The coefficient of variation of n times: the sample standard deviation
 * (n - 1) over the mean; NAN with fewer than 2 times or a mean <= 0. */
double results_cv(const double *t, int n);

/* ---- reading -------------------------------------------------------------------- */

typedef enum results_timing { TIMING_NONE, TIMING_WALL, TIMING_GPU } results_timing;

/* One data row, every column parsed to its type. Text points into the
 * table of the results_file. A number is NAN (double) or -1 (integer)
 * where its column is absent or its cell empty. */
typedef struct results_rec {
	int line; /* in the file; the header is line 1 */
	const char *backend, *device;
	enum phase phase;
	int64_t batch, n_heads, n_kv_heads, head_dim, seq_len, cache_len, causal;
	attn_dtype dtype;
	results_status status;
	const char *status_text; /* the cell: "ok", "skipped: ...", "error: ..." */
	const char *reason;      /* what follows "skipped: " or "error: "; "" when ok */
	double time_ns, time_ns_min, time_ns_max, gflops, gbytes_s;
	int64_t reps, kv_cache_bytes, workspace_bytes;
	double gpu_time_ns;
	results_timing timing; /* TIMING_NONE where absent or empty */
	int64_t iterations, threads, peak_device_bytes;
	double flops, bytes;
	double *rep_times_ns; /* nrep_times values, malloc'ed (NULL when none) */
	int nrep_times;
	double pct_peak_flops, pct_peak_bw;
	double evict_gbs;
	const char *repro; /* "" where absent (files of older versions) */
	/* -1 (softcap NAN) where absent or empty: read them through
	 * results_rec_point(), which gives what an absent cell means */
	int64_t window, alibi, sinks, head_dim_v, page_size;
	double softcap;
	int64_t kv_dtype;    /* an attn_dtype */
	int64_t lens;        /* a lens_parse code (model/point.h) */
	int64_t cache_state; /* CACHE_COLD or CACHE_HOT; -1 where absent or empty (the phase's default) */
	double cv;           /* NAN where absent or empty */
} results_rec;

/* A results.csv read back. */
typedef struct results_file {
	table t;           /* the cells as read (--resume copies rows verbatim) */
	results_rec *rows; /* t.nrows records, in file order */
	int nrows;
	int same_columns; /* the header is exactly this version's columns */
} results_file;

/* The columns a reader requires, a bit per results_col. Every reader
 * requires RESULTS_NEED_KEY: the columns of a point (backend, phase, the
 * shape, dtype) and status. Other columns are parsed where present. */
#define RESULTS_COL(c) ((uint64_t)1 << (c))
#define RESULTS_NEED_KEY                                                                                               \
	(RESULTS_COL(RC_BACKEND) | RESULTS_COL(RC_PHASE) | RESULTS_COL(RC_BATCH) | RESULTS_COL(RC_N_HEADS) |           \
	 RESULTS_COL(RC_N_KV_HEADS) | RESULTS_COL(RC_HEAD_DIM) | RESULTS_COL(RC_SEQ_LEN) | RESULTS_COL(RC_CACHE_LEN) | \
	 RESULTS_COL(RC_CAUSAL) | RESULTS_COL(RC_DTYPE) | RESULTS_COL(RC_STATUS))
#define RESULTS_NEED_CONTRACT (RESULTS_COL(RC_NCONTRACT) - 1)

/* Read and validate PATH. Every column of need (and RESULTS_NEED_KEY) is in
 * the header; in every row:
 * - backend is not empty; phase is prefill, decode or attend; dtype f32,
 *   f16 or bf16; status ok, "skipped: ..." or "error: ...";
 * - batch, n_heads, n_kv_heads 1..2^20, head_dim 1..2^16, seq_len and
 *   cache_len 1..2^40, causal 0 or 1;
 * - a cell of a number column, where not empty, is a finite number >= 0
 *   (integer columns: a whole number), timing is wall or gpu, rep_times_ns
 *   blank-separated positive numbers; a time (time_ns, time_ns_min,
 *   time_ns_max, gpu_time_ns, rep_times_ns) is at most 1e18 ns;
 * - with status ok, time_ns is positive and time_ns_min, time_ns_max,
 *   reps, gflops, gbytes_s, kv_cache_bytes and workspace_bytes are not
 *   empty;
 * - no two rows have the same point (results_point_cmp).
 * Returns 0, or EXIT_INPUT with "PATH: line N, column X: ..." (and nothing
 * to free). */
int results_read(const char *path, uint64_t need, results_file *rf, attn_err *e);
void results_file_free(results_file *rf);

/* The order of rows by point: backend, phase, batch, n_heads, n_kv_heads,
 * head_dim, seq_len, cache_len, causal, dtype (names compared as text),
 * then kv_dtype, head_dim_v, window, softcap, alibi, sinks, page_size,
 * lens and cache_state, each as results_rec_point() reads it (an absent or
 * empty cell is the default: a file without these columns holds points
 * without them, measured in the phase's default cache state).
 * 0: the same point, what --resume and compare match on and a run may hold
 * once. */
int results_point_cmp(const results_rec *a, const results_rec *b);

/* The sweep point of row r: its phase, shape, lengths, dtype, variants, KV
 * storage, page size and lengths' distribution; an absent or empty cell of
 * the newer columns means off (kv_dtype: the dtype; head_dim_v: head_dim). */
void results_rec_point(const results_rec *r, sweep_point *p);

/* Row r's variants, KV storage, paging and lengths that are on, as the
 * sweep flags that set them (" --window 512 --kv-dtype q8_0"), or "". */
void results_variant_text(const results_rec *r, char *buf, size_t len);

/* The record of backend's row at sweep point p, its point fields only:
 * what results_point_cmp compares rows with. */
void results_rec_key(results_rec *k, const char *backend, const sweep_point *p);

/* Whether r is backend's row at sweep point p. */
int results_rec_is(const results_rec *r, const char *backend, const sweep_point *p);

/* The path of the marker that says the sweep writing results.csv at
 * csv_path has not finished: results.incomplete in the same directory. */
void results_marker_path(const char *csv_path, char *buf, size_t len);

/* The names results.csv writes for a phase and a dtype. */
const char *phase_name(enum phase p);
const char *dtype_name(attn_dtype t);

#endif
