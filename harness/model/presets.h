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
} plan_model;

/* Find the row named name (case-insensitive) of the presets file at path:
 * columns name, layers, heads, kv_heads, head_dim (integers 1..100000,
 * heads a multiple of kv_heads) and params (a number, may be empty). Returns
 * 0, or EXIT_INPUT with e naming the file, line and column; an unknown name
 * lists the names the file has. */
int presets_find(const char *path, const char *name, plan_model *m, attn_err *e);

#endif
