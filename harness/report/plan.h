/* plan.h - `attnbench plan`: KV-cache capacity for a model and a memory
 * budget, and attention-only time projections from a measured run
 * (cmd/plan.c checks the options into plan_opts). The arithmetic is in pure
 * functions, unit-tested in tests/test_plan.c. */
#ifndef ATTN_REPORT_PLAN_H
#define ATTN_REPORT_PLAN_H

#include <stdint.h>

#include "model/presets.h"

/* KV-cache bytes of one token: 2 (K and V) * layers * kv_heads * head_dim * bytes. */
double plan_kv_bytes_per_token(const plan_model *m, double dtype_bytes);

/* Memory left for the KV cache: mem - weights - reserve_frac * mem (may be
 * negative: the weights and the reserve do not fit). */
double plan_cache_budget(double mem, double weights, double reserve_frac);

/* Tokens that fit in budget bytes, and sequences of ctx tokens (floors). */
int64_t plan_max_tokens(double budget, double bytes_per_token);
int64_t plan_max_sequences(double budget, double bytes_per_token, int64_t ctx);

/* Bytes of one element of a weight type (f32, f16, bf16, int8, int4) and
 * of a KV-cache type (f32, f16, bf16, int8), case-insensitive; 0 for a name
 * plan does not know. */
double plan_weight_bytes(const char *dtype);
double plan_kv_bytes(const char *dtype);

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
} plan_opts;

/* The plan for the options cmd/plan.c checked: the capacity table, and with
 * o->results the projections; --csv and --out. Returns an exit code. */
int plan_run(plan_opts *o);

#endif
