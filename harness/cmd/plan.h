/* plan.h - `attnbench plan`: KV-cache capacity for a model and a memory
 * budget, and attention-only time projections from a measured run. The
 * arithmetic is in pure functions, unit-tested in tests/test_plan.c. */
#ifndef ATTN_PLAN_H
#define ATTN_PLAN_H

#include <stdint.h>

typedef struct plan_model {
	char name[128];
	int64_t layers, heads, kv_heads, head_dim;
	double params; /* 0: unknown */
} plan_model;

/* KV-cache bytes of one token: 2 (K and V) * layers * kv_heads * head_dim * bytes. */
double plan_kv_bytes_per_token(const plan_model *m, double dtype_bytes);

/* Memory left for the KV cache: mem - weights - reserve_frac * mem (may be
 * negative: the weights and the reserve do not fit). */
double plan_cache_budget(double mem, double weights, double reserve_frac);

/* Tokens that fit in budget bytes, and sequences of ctx tokens (floors). */
int64_t plan_max_tokens(double budget, double bytes_per_token);
int64_t plan_max_sequences(double budget, double bytes_per_token, int64_t ctx);

#endif
