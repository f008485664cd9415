/* stats.h - the statistics of the regression gate: the Mann-Whitney U
 * test on repetitions, and a t test on run medians (compare). Pure functions, unit-tested in tests/test_compare.c. */
#ifndef ATTN_STATS_H
#define ATTN_STATS_H

/* Two-sided p-value of the Mann-Whitney U test of samples a and b, as
 * scipy.stats.mannwhitneyu(a, b, alternative="two-sided") computes it:
 * the exact distribution of U when both samples have at most 20 values and
 * no value is tied, else the normal approximation with tie correction and
 * continuity correction. NAN when a sample is empty; 1 when every value is
 * the same. */
double mann_whitney_p(const double *a, int na, const double *b, int nb);

/* Two-sided p-value of a pooled two-sample t test on the logarithms of a
 * and b (each value > 0), the test of the gate across runs: each value is
 * one run's median, so the spread it sees is the spread between runs.
 * *ratio receives exp(mean log b - mean log a). NAN when a side has fewer
 * than two values (or a value <= 0); 1 when every value is the same. */
double log_t_test_p(const double *a, int na, const double *b, int nb, double *ratio);

#endif
