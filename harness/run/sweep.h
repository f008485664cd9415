/* sweep.h - `attnbench sweep` and `attnbench bench`: the grid of
 * model/sweep_config.h measured on the selected backends. */
#ifndef ATTN_SWEEP_H
#define ATTN_SWEEP_H

#include <stdint.h>

#include "attnbench.h"
#include "lib/util.h"
#include "model/sweep_config.h"

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
} sweep_opts;

int sweep_run(const sweep_opts *o);
int bench_run(const sweep_opts *o);

#endif
