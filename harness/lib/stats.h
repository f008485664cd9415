/* stats.h - the statistics of the regression gate: the Mann-Whitney U
 * test (compare). Pure functions, unit-tested in tests/test_compare.c. */
#ifndef ATTN_STATS_H
#define ATTN_STATS_H

/* Two-sided p-value of the Mann-Whitney U test of samples a and b, as
 * scipy.stats.mannwhitneyu(a, b, alternative="two-sided") computes it:
 * the exact distribution of U when both samples have at most 20 values and
 * no value is tied, else the normal approximation with tie correction and
 * continuity correction. NAN when a sample is empty; 1 when every value is
 * the same. */
double mann_whitney_p(const double *a, int na, const double *b, int nb);

#endif
