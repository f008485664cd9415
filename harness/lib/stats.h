/* stats.h - the statistics of the regression gate: the Mann-Whitney U
 * test on repetitions, a t test on run medians, and a paired t test on
 * the repetition pairs of an A/B run (compare). Pure functions, unit-tested in tests/test_compare.c. */
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

/* Two-sided p-value of a paired t test on the log ratios log(b[i] / a[i])
 * of n pairs (each value > 0; df n - 1), the test of an A/B run whose
 * builds were measured side by side, pair i at the same moment: what the
 * machine did to both drops out of each ratio, and the spread the test
 * sees is that of the ratios. *ratio receives their geometric mean,
 * exp(mean log(b / a)). NAN with fewer than two pairs (or a value <= 0);
 * 1 when every ratio is 1, 0 when every ratio is the same other value. */
double paired_log_t_test_p(const double *a, const double *b, int n, double *ratio);

/* Two-sided p-value of the Wilcoxon signed-rank test of the n differences
 * d (the log ratios of an A/B run's repetition pairs) against a median of
 * 0: zeros dropped (scipy.stats.wilcoxon's default); the exact
 * distribution of W = min(W+, W-) when there are at most 50 pairs and no
 * zero and no tie among |d|, else the normal approximation with tie and
 * continuity corrections. Ranks make it robust to a pair that one build
 * measured while it lost the core (a ratio of 2 counts as one large
 * rank); its smallest p is 2 / 2^n. NAN when n < 1 or a value is NAN; 1
 * when every difference is 0. */
double wilcoxon_signed_rank_p(const double *d, int n);

/* One-sided p-value of the same test for the alternative that d tends to
 * be greater than 0: P(W- <= its observed value) under the null, exact or
 * approximated as above. The A/B gate's test against a margin: d the log
 * ratios less log(margin). NAN when n < 1 or a value is NAN; 1 when every
 * difference is 0. */
double wilcoxon_signed_rank_p_greater(const double *d, int n);

/* One-sided p-value of a one-sample t test (df n - 1) that the mean of d
 * is greater than 0; the A/B gate's test where there are too few pairs for
 * the signed-rank test to reach alpha. NAN with fewer than two values (or a
 * NAN); 0 or 1 when every value is the same (positive or not). */
double t_test_p_greater(const double *d, int n);

/* The median of the n values of v (n >= 1), which it sorts in place. */
double stats_median(double *v, int n);

#endif
