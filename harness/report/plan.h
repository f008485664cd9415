/* plan.h - `attnbench plan`: KV-cache capacity for a model and a memory
 * budget, and attention-only time projections from a measured run
 * (cmd/plan.c checks the options into plan_opts). The cache arithmetic is
 * capacity.h. */
#ifndef ATTN_REPORT_PLAN_H
#define ATTN_REPORT_PLAN_H

#include <stdint.h>

#include "model/presets.h"
#include "report/capacity.h"

/* Bytes of one element of a weight type (f32, f16, bf16, int8, int4),
 * case-insensitive; 0 for a name plan does not know. */
double plan_weight_bytes(const char *dtype);

/* What plan was asked for. */
typedef struct plan_opts {
	const char *model, *models, *results, *backend, *csv, *out;
	plan_model m;
	int explicit_dims;
	double mem, weights, params, reserve;
	const char *weight_dtype, *kv_dtype;
	int64_t contexts[32];
	int ncontexts;
	int64_t batch;
	int64_t page;     /* --page-size (0: none) */
	const char *lens; /* --lens DIST */
	uint64_t seed;    /* --seed */
	int seed_given;
} plan_opts;

/* The plan for the options cmd/plan.c checked: the capacity table, and with
 * o->results the projections; --csv and --out. Returns an exit code. */
int plan_run(plan_opts *o);

#endif
