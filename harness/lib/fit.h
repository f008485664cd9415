/* fit.h - the small numerical pieces behind `attnbench report` and `plan`:
 * linear least squares on powers of x, a power-law fit (log t on log n), a
 * BigO-style coefficient
 * (t = a * n^order), and linear interpolation with linear extrapolation
 * beyond the ends. Pure functions, no I/O, unit-tested in tests/test_lib.c and
 * tests/test_report.c. */
#ifndef ATTN_FIT_H
#define ATTN_FIT_H

/* Linear least squares: y ~ sum_{i<k} c[i] x^powers[i] for k = 1..3 terms
 * with distinct powers in 0..2 (powers {0, 1, 2} is a quadratic, c[0] the
 * constant), by the normal equations on x scaled to about 1. Needs at least
 * k distinct x. Returns 0, or -1 when the points do not determine c. The
 * one least-squares solver of the project: every fit below uses it. */
int fit_linear_terms(const double *x, const double *y, int n, const int *powers, int k, double *c);

/* A power law y = prefactor * x^exponent. */
typedef struct power_fit {
	double exponent;
	double prefactor;
	int points; /* points the fit used */
} power_fit;

/* Least squares of log y on log x over the n points (x > 0, y > 0; points
 * that are not are left out). Needs at least two distinct x. Returns 0, or
 * -1 when there are too few usable points. */
int fit_power_law(const double *x, const double *y, int n, power_fit *out);

/* The report's rule: fit only the points with x >= xmin when at least
 * min_points of them qualify, otherwise all points. Same return as
 * fit_power_law. */
int fit_power_law_tail(const double *x, const double *y, int n, double xmin, int min_points, power_fit *out);

/* y predicted by a fit at x. */
double fit_power_eval(const power_fit *f, double x);

/* BigO-style coefficient: least squares of y = a * x^order over n points,
 * a = sum(y x^order) / sum(x^(2 order)). If rms is not NULL it gets the RMS
 * of the residuals divided by the mean of y (Google Benchmark's "RMS").
 * Returns a, or 0 when n < 1. */
double fit_bigo(const double *x, const double *y, int n, double order, double *rms);

/* y at `at` from the points (x[i], y[i]) sorted by increasing x with
 * distinct x: linear interpolation between neighbours, linear extrapolation
 * from the first or last segment beyond the ends, y[0] when n == 1. */
double fit_interp_linear(const double *x, const double *y, int n, double at);

/* Sum of fit_interp_linear at from, from + 1, ..., from + count - 1, each
 * term clamped at 0 (a steep extrapolation never makes time negative). The
 * decode time of count generated tokens after a prompt of `from` tokens. */
double fit_sum_linear(const double *x, const double *y, int n, double from, long count);

#endif
