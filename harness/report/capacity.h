/* capacity.h - the KV-cache arithmetic of `attnbench plan` (plan.h): bytes
 * of one sequence's cache for a model with local (sliding-window) layers or
 * an MLA latent, in each KV storage type with its block overhead, rounded to
 * pages; and the mixed lengths of --lens, drawn reproducibly from a seed.
 * Pure functions, unit-tested in tests/test_plan.c. */
#ifndef ATTN_REPORT_CAPACITY_H
#define ATTN_REPORT_CAPACITY_H

#include <stdint.h>

#include "model/presets.h"

/* The KV storage types plan counts, in the order of its table: f32, f16,
 * bf16, fp8_e4m3, q8_0, q4_0. */
#define PLAN_N_KV_TYPES 6
extern const char *const plan_kv_types[PLAN_N_KV_TYPES];

/* The name of a type of plan_kv_types[] matching name case-insensitively,
 * or NULL. */
const char *plan_kv_type_name(const char *name);

/* Bytes of a row of n elements stored as kv (attn_row_bytes of
 * attn_quant.h, so q8_0 is 34 and q4_0 18 bytes per 32 elements); 0 for a
 * name plan does not know, -1 when kv is a block type and n is not a
 * multiple of 32. */
double plan_kv_row_bytes(const char *kv, int64_t n);

/* Layers with a sliding window (the others keep every token). */
int64_t plan_local_layers(const plan_model *m);

/* Cache bytes of one token in one layer: 2 (K and V) * kv_heads rows of
 * head_dim, or with MLA one row of kv_lora_rank + qk_rope_head_dim. <= 0 as
 * plan_kv_row_bytes. */
double plan_layer_token_bytes(const plan_model *m, const char *kv);

/* Cache bytes of one sequence of tokens: each layer keeps the tokens, a local
 * one at most the window, rounded up to a multiple of page (0: no pages). */
double plan_seq_bytes(const plan_model *m, const char *kv, int64_t tokens, int64_t page);

/* Memory left for the KV cache: mem - weights - reserve_frac * mem (may be
 * negative: the weights and the reserve do not fit). */
double plan_cache_budget(double mem, double weights, double reserve_frac);

/* Tokens that fit in budget bytes, and sequences of ctx tokens (floors). */
int64_t plan_max_tokens(double budget, double bytes_per_token);
int64_t plan_max_sequences(double budget, double bytes_per_sequence);

/* The longest context each of nseq sequences can have in budget bytes
 * (0: not even one token); -1 when any length fits (every layer is local). */
int64_t plan_longest_context(const plan_model *m, const char *kv, int64_t page, double budget, int64_t nseq);

/* --lens: the lengths of a stream of sequences. */
enum { LENS_LIST, LENS_UNIFORM, LENS_CHAT };
#define PLAN_LENS_MAX_LIST 64
typedef struct plan_lens {
	int kind;
	int64_t list[PLAN_LENS_MAX_LIST]; /* LENS_LIST: the lengths, cycled */
	int n, next;
	int64_t lo, hi; /* LENS_UNIFORM: lo..hi; LENS_CHAT: the median and the cap */
	uint64_t state; /* the generator, from the seed */
} plan_lens;

/* Parse DIST: "L1,L2,..." (cycled), "uniform:LO-HI" (uniform integers) or
 * "chat[:MEDIAN-MAX]" (log-normal, sigma 1, around MEDIAN (default 1024),
 * capped at MAX (default 32768): a few long conversations among many short
 * ones); lengths 1..2^40. Returns 1, or 0 with why set. */
int plan_lens_parse(const char *dist, uint64_t seed, plan_lens *l, char *why, int why_len);
/* The next length (the same stream for the same DIST and seed). */
int64_t plan_lens_next(plan_lens *l);

/* Sequences of l's lengths admitted in order while their caches fit in
 * budget bytes (at most max_seqs). */
typedef struct plan_fill {
	int64_t seqs, tokens, longest;
	double bytes, unpaged; /* with page rounding, and without */
	int capped;            /* stopped at max_seqs */
} plan_fill;
plan_fill plan_fill_budget(const plan_model *m, const char *kv, int64_t page, double budget, plan_lens *l,
                           int64_t max_seqs);

#endif
