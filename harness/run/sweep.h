/* sweep.h - the measurement grid, its config file, and `attnbench sweep` /
 * `attnbench bench`. */
#ifndef ATTN_SWEEP_H
#define ATTN_SWEEP_H

#include <stdint.h>

#include "attnbench.h"
#include "lib/util.h"
#include "model/point.h"

#define SWEEP_MAX_LIST  64
#define SWEEP_MAX_GRIDS 16
#define SWEEP_MAX_REPS  1000

typedef struct int_list {
	int n;
	int64_t v[SWEEP_MAX_LIST];
} int_list;

/* One [section] of a config: the cartesian product of its lists. */
typedef struct sweep_grid {
	char name[64];
	int phases; /* PHASE_* mask */
	int dtypes; /* bit 1 << attn_dtype for each storage type measured */
	int_list seq, cache, heads, gqa, head_dim, batch, causal;
} sweep_grid;

typedef struct sweep_config {
	int ngrids;
	sweep_grid grids[SWEEP_MAX_GRIDS];
	char backends[256]; /* "all" or a list */
	int repetitions;
	double min_time;  /* seconds per repetition (Google Benchmark MinTime) */
	uint64_t max_mem; /* bytes; 0 = half the machine's RAM */
} sweep_config;

/* The built-in default grid (used when no --config is given). */
void sweep_config_default(sweep_config *c);

/* Parse a config file (format in datasets/sweeps/default.conf). Returns 0 or
 * EXIT_INPUT naming the file, line and key. */
int sweep_config_read(const char *path, sweep_config *c, attn_err *e);

/* Set one key ("seq", "heads", ...) from a comma list in every grid (the
 * command-line overrides). where names the source for messages. */
int sweep_config_set(sweep_config *c, const char *key, const char *val, const char *where, attn_err *e);

/* Expand the grids into distinct points; *pts is malloc'ed. Combinations
 * where gqa does not divide heads are left out. */
int sweep_points(const sweep_config *c, sweep_point **pts, int *n, attn_err *e);

typedef struct sweep_opts {
	const char *config; /* NULL: built-in default */
	const char *out_dir;
	const char *overrides[9][2]; /* key, value from the command line */
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
	int argc;               /* --benchmark_* flags left for `bench` */
	char **argv;
} sweep_opts;

int sweep_run(const sweep_opts *o);
int bench_run(const sweep_opts *o);

#endif
