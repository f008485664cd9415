/* compare.h - `attnbench compare BASELINE CURRENT`: per-point slowdowns
 * between two runs, with a Mann-Whitney U test on the repetitions
 * (cmd/compare.c checks the options into compare_opts). */
#ifndef ATTN_REPORT_COMPARE_H
#define ATTN_REPORT_COMPARE_H

typedef struct compare_opts {
	const char *baseline, *current; /* run directories or results.csv paths */
	double max_slowdown;            /* a point may regress above this ratio ... */
	double alpha;                   /* ... when the test's p is below this */
	const char *junit;              /* NULL or the JUnit file to write */
	int allow_missing;              /* points of the baseline missing from the current run pass */
	/* A/B mode: both sides are the same run(s); the baseline is the rows of
	 * backends NAME@ab_base, the current side those of NAME@ab_cand, each
	 * matched as NAME. NULL: two runs compared as they are. */
	const char *ab_base, *ab_cand;
} compare_opts;

/* Match, judge, print the table and the summary, write the JUnit file;
 * warn where the runs' machine.json differ in host, CPU, build or threads.
 * Returns EXIT_PASS, EXIT_CHECK_FAILED (a regression, or a point measured
 * ok in the baseline and not in the current run, unless allow_missing) or
 * EXIT_INPUT (a bad run, no point measured ok on both sides, or an
 * unwritable --junit file). */
int compare_run(const compare_opts *o);

#endif
