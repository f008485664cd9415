/* compare.h - `attnbench compare BASELINE CURRENT`: per-point slowdowns
 * between two sweeps, with a Mann-Whitney U test on the repetitions. */
#ifndef ATTN_COMPARE_H
#define ATTN_COMPARE_H

/* argv[0] is "compare"; parses its own options (getopt_long). Returns
 * EXIT_PASS, EXIT_CHECK_FAILED when a point regressed, or EXIT_INPUT for a
 * usage error, a malformed results.csv or an unwritable --junit file. */
int compare_main(int argc, char **argv);

/* Two-sided p-value of the Mann-Whitney U test of samples a and b, as
 * scipy.stats.mannwhitneyu(a, b, alternative="two-sided") computes it:
 * the exact distribution of U when both samples have at most 20 values and
 * no value is tied, else the normal approximation with tie correction and
 * continuity correction. NAN when a sample is empty; 1 when every value is
 * the same. */
double mann_whitney_p(const double *a, int na, const double *b, int nb);

#endif
