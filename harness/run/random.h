/* random.h - `check --random N [--seed S]`: random attention problems over
 * every dimension, dtype and option the selected backends claim, their
 * inputs, and the harness's own float64 reference. The cases are
 * golden_case records without files, run by run/check.c like a manifest's. */
#ifndef ATTN_RUN_RANDOM_H
#define ATTN_RUN_RANDOM_H

#include <stdint.h>
#include <stdio.h>

#include "lib/util.h"
#include "run/golden.h"

#define RANDOM_MAX_CASES 100000

/* What to generate. Case K of a run depends only on (seed, K) and on caps:
 * its shape is drawn from everything (dtypes, GQA and MQA, causal, the
 * cache paths) and then narrowed to what caps claims, so replaying one
 * failing case with only the backend that failed it gives the same shape. */
typedef struct random_spec {
	int64_t n;      /* cases, 1 .. RANDOM_MAX_CASES */
	uint64_t seed;  /* the run's seed, printed so that it can be replayed */
	int64_t replay; /* run only case K (0 .. n-1), or -1 for all */
	uint32_t caps;  /* union of the selected backends' ATTN_CAP_* */
} random_spec;

/* A seed from the clock and the process id, for runs without --seed. */
uint64_t random_seed_now(void);

/* The cases of a run (n of them, or the one replayed): name "random-K",
 * the shape, the default tolerances of the dtype; row holds K. Returns 0
 * or EXIT_INPUT (out of memory). */
int random_cases(const random_spec *r, golden_case **cases, int *n, attn_err *e);

/* The inputs of a generated case (uniform in [-1, 1), q scaled by 1, 2 or
 * 4), rounded to its dtype as golden_load rounds a golden's, and the
 * float64 reference of the values the backends receive; f16/bf16 also get
 * ref_err (the ratio rule). Returns 0 or EXIT_INPUT; golden_free releases d. */
int random_load(const random_spec *r, const golden_case *gc, case_data *d, attn_err *e);

/* Print how to replay a generated case that backend failed: the command
 * line (a loaded backend also needs its --backend-lib) and the case's
 * manifest row (name, batch, n_heads, n_kv_heads, head_dim, n_q, n_kv,
 * causal, scale, dtype, window, softcap, head_dim_v, kv_dtype) and, from d
 * (or NULL), its alibi slopes, sink logits and ragged lengths. */
void random_print_replay(FILE *f, const random_spec *r, const golden_case *gc, const case_data *d, const char *backend);

/* The float64 attention of shape s (inputs as f32, layouts of attnbench.h),
 * every variant included: attn_reference (run/reference.h). */
int random_reference(const attn_shape *s, const float *q, const float *k, const float *v, double *out);

#endif
