/* presets.h - the model presets file (datasets/models.csv): one row per
 * model with its attention dimensions, read by `attnbench plan --model`. */
#ifndef ATTN_PRESETS_H
#define ATTN_PRESETS_H

#include <stdint.h>

#include "lib/util.h"

/* A model's dimensions, as plan counts them. */
typedef struct plan_model {
	char name[128];
	int64_t layers, heads, kv_heads, head_dim;
	double params; /* 0: unknown */
	/* attention variants, all off when 0 */
	int64_t window;         /* sliding window W (tokens) of the local layers */
	int64_t window_pattern; /* of each window_pattern layers the last is global,
	                         * the others local (Gemma's sliding_window_pattern;
	                         * layer i is global when (i + 1) % pattern == 0);
	                         * 0: every layer is local when window > 0 */
	int64_t sinks;          /* 1: learned attention sinks (one logit per head) */
	int64_t kv_lora_rank;   /* MLA: the cached latent is kv_lora_rank +
	                         * qk_rope_head_dim elements per token and layer */
	int64_t qk_rope_head_dim;
} plan_model;

/* Find the row named name (case-insensitive) of the presets file at path:
 * columns name, layers, heads, kv_heads, head_dim (integers 1..100000,
 * heads a multiple of kv_heads) and params (a number, may be empty); the
 * optional columns window, window_pattern, sinks (0 or 1), kv_lora_rank and
 * qk_rope_head_dim (integers 0..1000000, empty is 0; qk_rope_head_dim needs
 * kv_lora_rank, window_pattern needs window). Returns 0, or EXIT_INPUT with
 * e naming the file, line and column; an unknown name lists the names the
 * file has. */
int presets_find(const char *path, const char *name, plan_model *m, attn_err *e);

#endif
