/* fit.c - see fit.h. */
#include "lib/fit.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>

/* Solve the k x k system a c = b (Gaussian elimination, partial pivoting). */
static int solve(double a[3][3], double *b, int k, double *c)
{
	for (int col = 0; col < k; col++) {
		int piv = col;
		for (int r = col + 1; r < k; r++)
			if (fabs(a[r][col]) > fabs(a[piv][col]))
				piv = r;
		if (!(fabs(a[piv][col]) > 0))
			return -1;
		for (int j = 0; j < k; j++) {
			const double t = a[col][j];
			a[col][j] = a[piv][j];
			a[piv][j] = t;
		}
		const double t = b[col];
		b[col] = b[piv];
		b[piv] = t;
		for (int r = col + 1; r < k; r++) {
			const double f = a[r][col] / a[col][col];
			for (int j = col; j < k; j++)
				a[r][j] -= f * a[col][j];
			b[r] -= f * b[col];
		}
	}
	for (int r = k - 1; r >= 0; r--) {
		double s = b[r];
		for (int j = r + 1; j < k; j++)
			s -= a[r][j] * c[j];
		c[r] = s / a[r][r];
	}
	return 0;
}

int fit_linear_terms(const double *x, const double *y, int n, const int *powers, int k, double *c)
{
	if (k < 1 || k > 3 || n < k)
		return -1;
	int distinct = 0;
	for (int i = 0; i < n; i++) {
		int seen = 0;
		for (int j = 0; j < i && !seen; j++)
			seen = x[j] == x[i];
		distinct += !seen;
	}
	if (distinct < k)
		return -1;
	/* normal equations on x scaled to ~1 so that x^4 stays well conditioned */
	double xs = 0;
	for (int i = 0; i < n; i++)
		xs = fabs(x[i]) > xs ? fabs(x[i]) : xs;
	if (!(xs > 0))
		xs = 1;
	double a[3][3] = {{0}}, b[3] = {0};
	for (int i = 0; i < n; i++) {
		double p[3];
		for (int r = 0; r < k; r++)
			p[r] = pow(x[i] / xs, powers[r]);
		for (int r = 0; r < k; r++) {
			b[r] += p[r] * y[i];
			for (int j = 0; j < k; j++)
				a[r][j] += p[r] * p[j];
		}
	}
	if (solve(a, b, k, c))
		return -1;
	for (int i = 0; i < k; i++)
		c[i] /= pow(xs, powers[i]);
	return 0;
}

/* Least squares of log y on log x over the points with positive x and y:
 * log y = log prefactor + exponent log x. */
int fit_power_law(const double *x, const double *y, int n, power_fit *out)
{
	double *lx = malloc(2 * (size_t)(n > 0 ? n : 1) * sizeof *lx);
	if (!lx)
		return -1;
	double *ly = lx + (n > 0 ? n : 1);
	int m = 0;
	for (int i = 0; i < n; i++)
		if (x[i] > 0 && y[i] > 0) {
			lx[m] = log(x[i]);
			ly[m++] = log(y[i]);
		}
	static const int powers[2] = {0, 1};
	double c[2];
	const int rc = m >= 2 ? fit_linear_terms(lx, ly, m, powers, 2, c) : -1;
	free(lx);
	if (rc)
		return -1;
	out->exponent = c[1];
	out->prefactor = exp(c[0]);
	out->points = m;
	return 0;
}

/* Fit the points with x >= xmin when at least min_points qualify, else all. */
int fit_power_law_tail(const double *x, const double *y, int n, double xmin, int min_points, power_fit *out)
{
	int q = 0;
	for (int i = 0; i < n; i++)
		q += x[i] >= xmin && x[i] > 0 && y[i] > 0;
	if (q < min_points || q < 2)
		return fit_power_law(x, y, n, out);
	double *xs = malloc(2 * (size_t)q * sizeof *xs);
	if (!xs)
		return -1;
	double *ys = xs + q;
	int j = 0;
	for (int i = 0; i < n; i++) {
		if (x[i] >= xmin && x[i] > 0 && y[i] > 0) {
			xs[j] = x[i];
			ys[j] = y[i];
			j++;
		}
	}
	const int rc = fit_power_law(xs, ys, q, out);
	free(xs);
	return rc;
}

/* prefactor * x^exponent. */
double fit_power_eval(const power_fit *f, double x)
{
	return f->prefactor * pow(x, f->exponent);
}

/* a = sum(y x^p) / sum(x^2p), and the relative RMS of the residuals. */
double fit_bigo(const double *x, const double *y, int n, double order, double *rms)
{
	if (rms)
		*rms = 0;
	if (n < 1)
		return 0;
	double num = 0, den = 0, mean = 0;
	for (int i = 0; i < n; i++) {
		const double f = pow(x[i], order);
		num += y[i] * f;
		den += f * f;
		mean += y[i];
	}
	if (!(den > 0))
		return 0;
	const double a = num / den;
	mean /= n;
	if (rms) {
		double ss = 0;
		for (int i = 0; i < n; i++) {
			const double d = y[i] - a * pow(x[i], order);
			ss += d * d;
		}
		*rms = mean > 0 ? sqrt(ss / n) / mean : 0;
	}
	return a;
}

/* Piecewise-linear y(at), extrapolated from the end segments. */
double fit_interp_linear(const double *x, const double *y, int n, double at)
{
	if (n <= 0)
		return 0;
	if (n == 1)
		return y[0];
	int i = 0; /* segment [x[i], x[i+1]] */
	if (at >= x[n - 1])
		i = n - 2;
	else if (at > x[0])
		while (i < n - 2 && at > x[i + 1])
			i++;
	const double dx = x[i + 1] - x[i];
	if (dx == 0)
		return y[i];
	return y[i] + (y[i + 1] - y[i]) * (at - x[i]) / dx;
}

/* Sum of the interpolated values at from .. from + count - 1. */
double fit_sum_linear(const double *x, const double *y, int n, double from, long count)
{
	double s = 0;
	for (long k = 0; k < count; k++) {
		const double v = fit_interp_linear(x, y, n, from + (double)k);
		s += v > 0 ? v : 0;
	}
	return s;
}
