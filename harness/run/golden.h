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
	float *q, *k, *v; /* as the backends see them, widened to f32 */
	double *out;
	/* q, k, v stored in the case's dtype (the same buffers for f32) */
	const void *qs, *ks, *vs;
	void *half[3];  /* the 16-bit copies, owned */
	double ref_err; /* f16/bf16: max error of the f32 reference */
} case_data;

/* Validate every file of a case (headers and sizes) without reading data.
 * Returns 0 or EXIT_INPUT naming the file and field. */
int golden_probe(const golden_case *gc, attn_err *e);
/* Read the case's arrays, round the inputs to its dtype and, for f16/bf16,
 * compute ref_err. Returns 0 or EXIT_INPUT; golden_free releases d. */
int golden_load(const golden_case *gc, case_data *d, attn_err *e);
void golden_free(case_data *d);
/* The two steps golden_load takes for an f16/bf16 case, for cases that
 * come from elsewhere (run/random.c): round d->q, d->k, d->v (f32) to
 * s->dtype into d->half (qs, ks, vs point there) and widen them back in
 * place; then, with d->out set to the float64 reference of those values,
 * d->ref_err = the max error of a plain f32 attention of them. Each
 * returns 0 or -1 (out of memory). */
int golden_round_inputs(const attn_shape *s, case_data *d);
int golden_ref_err(const attn_shape *s, case_data *d);
/* Append a warning line to *warn (malloc'ed) for each file of the case
 * that holds NaN or Inf: count and first position. */
void golden_scan(const golden_case *gc, const case_data *d, char **warn);
/* Position i of an output (q's layout) as "[b=..,h=..,i=..,d=..]". */
void golden_out_position(const attn_shape *s, int64_t i, char *buf, size_t len);

#endif
