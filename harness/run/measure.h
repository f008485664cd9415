/* measure.h - one sweep point under Google Benchmark (its buffers, set-up
 * and timed call), and the set-up that sweep and bench share: the config
 * with the command line's overrides, the selected backends' instances and
 * the points.
 *
 * What one iteration is, per phase:
 *   prefill  truncate the cache to 0, prefill seq_len tokens (causal)
 *   decode   decode one token against cache_len - 1 cached ones, truncate back
 *   attend   stateless attention, n_q = n_kv = seq_len
 * With page_size > 0 every phase is one attend_paged call over a page pool
 * the harness owns and fills (the new tokens' K and V included) before the
 * timed calls, through a shuffled block table. A ragged decode runs only
 * paged (a backend's own cache cannot be put back between calls). K and V
 * are stored as the point's KV storage, quantized with attn_quantize_row.
 * Input upload and output read-back are part of every call, as an engine pays
 * them. A cold point (model/point.h) reads a buffer larger than the caches
 * before every call, outside the timed region, so that the call finds none
 * of its data (the backend's cache included) in any cache level. */
#ifndef ATTN_MEASURE_H
#define ATTN_MEASURE_H

#include <stddef.h>
#include <stdint.h>

#include "run/gbench_shim.h"
#include "run/registry.h"
#include "model/sweep_config.h"

/* ---- what sweep and bench were asked for (cmd/sweep.c, cmd/bench.c) ---- */

#define SWEEP_MAX_OVERRIDES 64 /* grid options on one command line */

/* A grid key given on the command line: applied to every grid of the
 * config, in the order given. */
typedef struct sweep_override {
	const sweep_key *key;
	const char *val;
} sweep_override;

typedef struct sweep_opts {
	const char *config; /* NULL: built-in default */
	const char *out_dir;
	sweep_override overrides[SWEEP_MAX_OVERRIDES];
	int noverrides;
	const char *backends; /* --backend, overrides the config */
	attn_config cfg;
	int vk_gpu_timing;      /* --vk-timing=gpu */
	int repetitions;        /* 0: config's */
	double min_time;        /* 0: config's */
	uint64_t max_mem;       /* 0: config's */
	int shard, nshards;     /* --shard I/N: points i with i % N == I (N = 0: all) */
	int resume;             /* --resume: keep DIR/results.csv's ok rows, run the rest */
	const char *resume_cmd; /* the command line that resumes this sweep (for messages) */
	const char *json_path;  /* --json: results also in Google Benchmark's JSON format */
	const char *program;    /* argv[0], the JSON context's executable */
	/* sweep: each (backend, point) runs in a worker process that is
	 * stopped after timeout_s seconds (0: SWEEP_TIMEOUT_S); no_isolate
	 * runs them in this process. bench always runs in process. */
	double timeout_s;
	int no_isolate;
	/* --interleave SEED: sweep runs the (point, backend) pairs in a shuffled
	 * order, one repetition each per pass, a new order each pass */
	int interleave;
	uint64_t seed;
} sweep_opts;

#define SWEEP_TIMEOUT_S 600.0 /* per (backend, point) */

/* A point being measured on one backend instance. */
typedef struct point_ctx {
	backend_entry *be;
	void *inst;
	sweep_point pt;
	int gpu_timing;
	int ready;
	void *q, *kn, *vn;     /* new tokens' Q (dtype), K, V (the KV storage); with
	                        * page_size > 0 K and V are the page pools */
	size_t kbytes, vbytes; /* of kn and vn */
	float *out;
	/* what pt.shape's pointers point at (point_prepare), and the pages */
	float *alibi, *sinks;
	int64_t *q_lens, *kv_lens;
	int32_t *block_table;
	int64_t n_pages, max_pages;
	void *evict; /* cold: the buffer read between calls (evict_bytes()) */
	size_t evict_bytes;
	double evict_s; /* cold: the seconds those reads took in all */
	int64_t evicts; /* and how many there were */
	int failed;
	char err[512];
	/* collected by the reporter */
	double rep_ns[SWEEP_MAX_REPS];
	int nrep;
	int64_t iterations;
	/* device times: mean per call of the benchmark function */
	double *gpu_ns;
	int ngpu, capgpu;
} point_ctx;

/* Why backend b cannot run point p, whatever its supports() says: a
 * variant, KV storage, ragged batch or paged cache whose ATTN_CAP_* it
 * lacks (a backend never sees a shape it has not claimed), or a shape the
 * harness does not measure. Returns 1 with the reason ("no sliding window
 * (ATTN_CAP_WINDOW)") in why, else 0. */
int point_unsupported(const attn_backend *b, const sweep_point *p, char *why, size_t len);

/* Build what c->pt's shape points at: ALiBi slopes 2^(-8(h+1)/H), a fixed
 * sink logit per head, the ragged lengths (model/point.h). 0, or -1 with
 * c->err when out of memory. point_teardown frees them. */
int point_prepare(point_ctx *c);

/* Host and device memory a point needs, as the budget sees it. */
uint64_t point_need(const sweep_point *p, uint64_t workspace);

/* Free the point's buffers (c->ready becomes 0). */
void point_teardown(point_ctx *c);

/* Set the point up (if it is not) and make one untimed call of it on
 * guarded buffers (run/worker.h): 0, or -1 with c->failed and c->err
 * ("attend: wrote out[n+0], past its end (n = 1024)"). A write to an input
 * or a read past one faults: run it in a worker. */
int point_verify(point_ctx *c);

/* The Google Benchmark body of a point (arg: its point_ctx): sets the point
 * up on first use, times calls, and sets complexity N and the FLOPS and
 * bytes_per_second counters. A failure skips the benchmark with c->err.
 * A hot point on wall time runs the run's calls back to back under one
 * timer, nothing else between them (the loop tests/perf_loop.c times); its
 * device time, where the backend has a timer, is the last call's, read
 * after the timer stopped. A cold point, or one on device time, is timed a
 * call at a time (manual time). */
void point_body(gb_state *st, void *arg);

/* Whether the benchmark of point p reports the times the body sets (Google
 * Benchmark's manual time): device times, and the calls of a cold point,
 * which are timed alone, without the eviction between them. */
int point_manual_time(const sweep_point *p, int gpu_timing);

/* Bytes a cold point reads between calls to evict its data from every cache
 * level: twice the last-level cache the machine reports, at least 64 MiB
 * and at most 512 MiB (measure.c says why), or ATTNBENCH_EVICT_BYTES where
 * set. */
size_t evict_bytes(void);

/* The point as a benchmark name part: b1_h8_kv2_d64_f32, then _seq256 or
 * _cache4096 with with_len, and _noncausal for a non-causal attend. */
void point_label(const sweep_point *p, int with_len, char *buf, size_t len);

/* What sweep and bench measure: the config (file or default, with the
 * overrides), its points, and the selected backends with an instance each. */
typedef struct run_setup {
	sweep_config cfg;
	sweep_point *pts;
	int npts;
	backend_entry *sel[ATTN_MAX_BACKENDS];
	void *inst[ATTN_MAX_BACKENDS]; /* NULL when isolated: the workers make their own */
	char device[ATTN_MAX_BACKENDS][128];
	int nsel;
} run_setup;

/* Read the config, apply the command line, select and create the backends
 * (isolated, o->no_isolate 0 in a sweep: each in a worker that only notes
 * its device) and expand the points. Returns 0, or EXIT_INPUT after a message on stderr
 * that starts with "attnbench CMD: ". */
int setup_init(const sweep_opts *o, run_setup *r, const char *cmd, int isolate);
void setup_free(run_setup *r);

#endif
