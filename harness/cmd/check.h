/* check.h - `attnbench check`: every golden case on every selected backend. */
#ifndef ATTN_CHECK_H
#define ATTN_CHECK_H

#include <stdint.h>

#include "attnbench.h"
#include "lib/util.h"

#define CHECK_TOL_FACTOR 2.0

typedef struct check_opts {
	const char *golden_dir;
	const char *backends; /* NULL or "all" or "a,b" */
	const char *junit;    /* NULL or a path */
	attn_config cfg;
	uint64_t max_mem; /* bytes; a case needing more is skipped */
	int max_report;   /* mismatching elements printed per failure */
	/* f16/bf16 cases pass when every element is within
	 * tol_factor * ref_err + atol + rtol * |out|: ref_err is the max error
	 * of an f32 attention of the inputs rounded to the dtype against the
	 * float64 reference (FlashAttention's rule), atol/rtol the manifest's
	 * values or the rounding floor (ATTN_HALF_FLOOR_*). 0 means
	 * CHECK_TOL_FACTOR. */
	double tol_factor;
} check_opts;

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

/* Runs the check; returns EXIT_PASS, EXIT_CHECK_FAILED or EXIT_INPUT. */
int check_run(const check_opts *o);

#endif
