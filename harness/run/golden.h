/* golden.h - one golden case as check runs it: its files loaded, checked
 * against the manifest's shape and rounded to the case's dtype, its f32
 * reference (the ratio rule of f16/bf16 cases), NaN and Inf in its files,
 * and comparing a backend's output with the float64 reference. */
#ifndef ATTN_RUN_GOLDEN_H
#define ATTN_RUN_GOLDEN_H

#include <stddef.h>
#include <stdint.h>

#include "attnbench.h"
#include "lib/util.h"
#include "model/manifest.h"

/* Error figures of one output against its reference. */
typedef struct err_stats {
	double max_abs, max_rel, nmse, worst; /* worst: max |d| / (atol + rtol |ref|) */
	int64_t n_bad;                        /* elements that break the rules below */
	int64_t first_bad;                    /* index of the first, or -1 */
	int64_t n_special;                    /* reference elements that are NaN or +-Inf */
} err_stats;

/* Compare got against ref over n elements, element by element:
 *   ref finite: got must be finite and |got - ref| <= atol + rtol |ref|
 *               (the golden contract's rule, exactly);
 *   ref NaN:    got must be NaN;
 *   ref +-Inf:  got must be the same infinity.
 * The error figures cover the elements where both are finite. Where the
 * classes disagree (NaN or Inf against a finite value, a finite value where
 * NaN is expected, the wrong infinity) there is no finite distance: the
 * element is bad and the figures are INFINITY. Elements that agree on NaN or
 * on an infinity leave the figures alone. Returns n_bad == 0. */
int compare_outputs(const float *got, const double *ref, int64_t n, double atol, double rtol, err_stats *st);

/* Does one element break the rules above? Sets *d and *tol (the distance and
 * the tolerance; d is NaN where there is no finite distance). */
int compare_element(double got, double ref, double atol, double rtol, double *d, double *tol);

/* A case's arrays, loaded. */
typedef struct case_data {
	float *q, *k, *v; /* as the backends see them (rounded, dequantized), widened to f32 */
	double *out;      /* the float64 reference; rows past q_lens[b] are 0 */
	/* q stored in the case's dtype, k and v in its kv storage type, each
	 * padding row (past a ragged sequence's length) NaN; the same buffers
	 * as q, k, v when nothing is rounded */
	const void *qs, *ks, *vs;
	size_t qb, kb, vb; /* their bytes */
	void *half[3];     /* the stored copies, owned */
	double ref_err;    /* low precision: max error of the f32 reference */
	/* the shape as the backends get it: the case's, with alibi, sinks,
	 * q_lens and kv_lens pointing at the arrays below */
	attn_shape shape;
	float *alibi, *sinks;
	int64_t *q_lens, *kv_lens;
} case_data;

/* Does the case take the ratio rule (q or k, v stored below f32)? */
int golden_low_precision(const attn_shape *s);
/* Elements of q and of out. */
int64_t golden_q_elems(const attn_shape *s);
int64_t golden_out_elems(const attn_shape *s);

/* Validate every file of a case (headers and sizes, and the values of the
 * ragged lengths) without reading q, k, v and out. Returns 0 or EXIT_INPUT
 * naming the file and field. */
int golden_probe(const golden_case *gc, attn_err *e);
/* Read the case's arrays, round the inputs to its storage types and, for
 * low precision, compute ref_err. Returns 0 or EXIT_INPUT; golden_free
 * releases d. */
int golden_load(const golden_case *gc, case_data *d, attn_err *e);
void golden_free(case_data *d);
/* The two steps golden_load takes after reading, for cases that come from
 * elsewhere (run/random.c), with d->shape set: store d->q in s->dtype and
 * d->k, d->v in the kv storage type (attn_quantize_row) into d->half (qs,
 * ks, vs point there, padding rows NaN when ragged) and widen them back in
 * place; then, with d->out set to the float64 reference of those values,
 * d->ref_err = the max error of an f32 attention of them. Each returns 0 or
 * -1 (out of memory). */
int golden_round_inputs(case_data *d);
int golden_ref_err(case_data *d);
/* What golden_load does once q, k, v (f32) and out are read into d, with
 * d->shape set: qs/ks/vs and their sizes, the reference's padding rows
 * zeroed, and golden_round_inputs when something is stored below f32 or
 * ragged. 0 or -1 (out of memory). */
int golden_finish(case_data *d);
/* One row of n elements stored as t that reads as NaN: every float NaN
 * (f16 0x7E00, fp8 0x7F), every q8_0/q4_0 block's scale the f16 NaN. */
void golden_nan_row(void *dst, int64_t n, attn_dtype t);
/* Point d->shape's alibi, sinks, q_lens and kv_lens at d's arrays. */
void golden_attach(case_data *d);
/* Append a warning line to *warn (malloc'ed) for each file of the case
 * that holds NaN or Inf: count and first position. */
void golden_scan(const golden_case *gc, const case_data *d, char **warn);
/* Position i of an output (q's layout) as "[b=..,h=..,i=..,d=..]". */
void golden_out_position(const attn_shape *s, int64_t i, char *buf, size_t len);

#endif
