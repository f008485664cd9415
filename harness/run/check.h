/* check.h - `attnbench check`: every golden case on every selected backend
 * (cmd/check.c parses the command line into check_opts). */
#ifndef ATTN_RUN_CHECK_H
#define ATTN_RUN_CHECK_H

#include <stdint.h>

#include "attnbench.h"
#include "lib/util.h"
#include "run/golden.h"
#include "run/random.h"

#define CHECK_TOL_FACTOR 2.0
#define CHECK_TIMEOUT_S  60.0 /* per (case, backend) pair */

typedef struct check_opts {
	const char *golden_dir; /* the manifest's directory, or NULL with random */
	/* check --random: generated cases instead of a manifest when random.n > 0
	 * (random.caps is filled from the selected backends) */
	random_spec random;
	const char *backends; /* NULL or "all" or "a,b" */
	const char *junit;    /* NULL or a path */
	const char *csv;      /* NULL or a path: one row per (case, backend) */
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
	/* Each (case, backend) pair runs in a worker process (run/worker.h)
	 * and fails after timeout_s seconds; no_isolate runs them in this
	 * process (for debuggers). */
	double timeout_s;
	int no_isolate;
} check_opts;

/* Runs the check; returns EXIT_PASS, EXIT_CHECK_FAILED or EXIT_INPUT. */
int check_run(const check_opts *o);

#endif
