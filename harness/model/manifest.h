/* manifest.h - golden dataset manifests (DIR/manifest.csv), as the contract's
 * "Golden datasets" section defines them (docs/goldens.md). */
#ifndef ATTN_MANIFEST_H
#define ATTN_MANIFEST_H

#include <limits.h>

#include "attnbench.h"
#include "lib/util.h"

#define CASE_NAME_MAX 128
#define CASE_PATH_MAX 4096
/* Cases in one manifest: a longer file is refused while it is being read. */
#define MANIFEST_MAX_CASES 10000

typedef struct golden_case {
	char name[CASE_NAME_MAX];
	int row;          /* row in manifest.csv (header = 1) */
	attn_shape shape; /* scale resolved */
	char q[CASE_PATH_MAX], k[CASE_PATH_MAX], v[CASE_PATH_MAX], out[CASE_PATH_MAX]; /* DIR/file */
	/* the optional arrays (DIR/file, or "" when the column is empty or
	 * absent): ALiBi slopes and sink logits (n_heads,), ragged lengths
	 * (batch,); shape's pointers stay NULL here, the loader sets them */
	char alibi[CASE_PATH_MAX], sinks[CASE_PATH_MAX], q_lens[CASE_PATH_MAX], kv_lens[CASE_PATH_MAX];
	/* resolved (defaults where empty): the tolerance for f32, the rounding
	 * floor of the ratio rule for f16 and bf16 (see check.h) */
	double atol, rtol;
} golden_case;

/* Default tolerances for float32 outputs (docs/goldens.md). */
#define ATTN_F32_ATOL 1e-4
#define ATTN_F32_RTOL 1e-4
/* Default rounding floor of the f16/bf16 ratio rule: covers the f32
 * arithmetic noise that remains when the inputs are exact in the dtype. */
#define ATTN_HALF_FLOOR_ATOL 1e-5
#define ATTN_HALF_FLOOR_RTOL 1e-5

/* Read and validate DIR/manifest.csv. The optional columns window, softcap,
 * head_dim_v and kv_dtype go into the shape (head_dim_v equal to head_dim
 * and kv_dtype equal to dtype are stored as 0, "not used"); alibi, sinks,
 * q_lens and kv_lens are file names like q. Every shape rule of the contract is
 * checked here, with overflow-checked byte counts, before anything is
 * allocated for a case; names and file names must be UTF-8 without control
 * characters, and file names relative paths that stay inside DIR (no "..",
 * no symbolic link that resolves outside it). File contents are checked by
 * the loader. Returns 0 or EXIT_INPUT with a message naming the file, row
 * and field. */
int manifest_read(const char *dir, golden_case **cases, int *n, attn_err *e);

#endif
