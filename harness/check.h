/* check.h - `attnbench check`: every golden case on every selected backend. */
#ifndef ATTN_CHECK_H
#define ATTN_CHECK_H

#include <stdint.h>

#include "attnbench.h"
#include "util.h"

typedef struct check_opts {
	const char *golden_dir;
	const char *backends; /* NULL or "all" or "a,b" */
	const char *junit;    /* NULL or a path */
	attn_config cfg;
	uint64_t max_mem; /* bytes; a case needing more is skipped */
	int max_report;   /* mismatching elements printed per failure */
} check_opts;

/* Error figures of one output against its reference. */
typedef struct err_stats {
	double max_abs, max_rel, nmse, worst; /* worst: max |d| / (atol + rtol |ref|) */
	int64_t n_bad;                        /* elements outside the tolerance */
	int64_t first_bad;                    /* index of the first, or -1 */
} err_stats;

/* Compare got against ref over n elements with |d| <= atol + rtol |ref|.
 * NaN or Inf in got counts as a mismatch. Returns n_bad == 0. */
int compare_outputs(const float *got, const double *ref, int64_t n, double atol, double rtol, err_stats *st);

/* Runs the check; returns EXIT_PASS, EXIT_CHECK_FAILED or EXIT_INPUT. */
int check_run(const check_opts *o);

#endif
