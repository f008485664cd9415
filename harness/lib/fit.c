/* fit.c - see fit.h. */
#include "lib/fit.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>

/* Least squares of log y on log x over the points with positive x and y. */
int fit_power_law(const double *x, const double *y, int n, power_fit *out)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0;
	int m = 0;
	for (int i = 0; i < n; i++) {
		if (!(x[i] > 0) || !(y[i] > 0))
			continue;
		const double lx = log(x[i]), ly = log(y[i]);
		sx += lx;
		sy += ly;
		sxx += lx * lx;
		sxy += lx * ly;
		m++;
	}
	if (m < 2)
		return -1;
	const double den = m * sxx - sx * sx;
	/* all x equal: no slope to fit */
	if (!(fabs(den) > 1e-12 * (m * sxx + 1e-300)))
		return -1;
	const double k = (m * sxy - sx * sy) / den;
	out->exponent = k;
	out->prefactor = exp((sy - k * sx) / m);
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
