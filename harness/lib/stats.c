/* stats.c - see stats.h. */
#include "lib/stats.h"

#include <math.h>
#include <stdlib.h>

/* ---- the Mann-Whitney U test -------------------------------------------------------------- */

/* Largest sample size (each side) for the exact distribution of U. */
#define MWU_EXACT_MAX 20

/* A value and the sample it came from (0: a, 1: b), for ranking. */
typedef struct mwu_val {
	double v;
	int from_b;
} mwu_val;

/* Order mwu_val by value. */
static int mwu_val_cmp(const void *x, const void *y)
{
	const double a = ((const mwu_val *)x)->v, b = ((const mwu_val *)y)->v;
	return (a > b) - (a < b);
}

/* P(U >= u) under the null hypothesis for samples of m and n values without
 * ties: the number of arrangements with U = d is the coefficient of q^d of
 * the Gaussian binomial [m+n choose n]_q, built up step by step as
 * [m+k choose k] = [m+k-1 choose k-1] (1 - q^(m+k)) / (1 - q^k). */
static double mwu_exact_sf(int m, int n, double u)
{
	double c[(MWU_EXACT_MAX + 1) * (MWU_EXACT_MAX + 2)] = {0};
	int deg = 0;
	c[0] = 1;
	for (int k = 1; k <= n; k++) {
		const int s = m + k;
		for (int d = deg + s; d >= s; d--)
			c[d] -= c[d - s];
		deg += s;
		for (int d = k; d <= deg; d++)
			c[d] += c[d - k];
		deg -= k;
	}
	double total = 0, upper = 0;
	for (int d = 0; d <= deg; d++) {
		total += c[d];
		if (d >= u)
			upper += c[d];
	}
	return upper / total;
}

/* Two-sided Mann-Whitney p-value (see compare.h for the method). */
double mann_whitney_p(const double *a, int na, const double *b, int nb)
{
	if (na < 1 || nb < 1)
		return NAN;
	const int n = na + nb;
	mwu_val *v = malloc((size_t)n * sizeof *v);
	if (!v)
		return NAN;
	for (int i = 0; i < na; i++)
		v[i] = (mwu_val){a[i], 0};
	for (int i = 0; i < nb; i++)
		v[na + i] = (mwu_val){b[i], 1};
	qsort(v, (size_t)n, sizeof *v, mwu_val_cmp);
	/* average ranks of tied runs; rank sum of a; the tie term sum(t^3 - t) */
	double ra = 0, ties = 0;
	for (int i = 0; i < n;) {
		int j = i;
		while (j + 1 < n && v[j + 1].v == v[i].v)
			j++;
		const double t = j - i + 1, rank = (i + j) / 2.0 + 1;
		for (int k = i; k <= j; k++)
			if (!v[k].from_b)
				ra += rank;
		ties += t * t * t - t;
		i = j + 1;
	}
	free(v);
	const double u1 = ra - na * (na + 1) / 2.0, u2 = (double)na * nb - u1;
	const double u = u1 > u2 ? u1 : u2;
	double p;
	if (ties == 0 && na <= MWU_EXACT_MAX && nb <= MWU_EXACT_MAX) {
		p = 2 * mwu_exact_sf(na, nb, u);
	} else {
		const double mu = (double)na * nb / 2;
		const double var = (double)na * nb / 12.0 * ((n + 1) - ties / ((double)n * (n - 1)));
		if (!(var > 0))
			return 1; /* every value the same */
		const double z = (u - mu - 0.5) / sqrt(var);
		p = erfc(z / sqrt(2.0)); /* 2 * normal survival function */
	}
	return p > 1 ? 1 : p < 0 ? 0 : p;
}

/* P(|T| >= t) for Student's t with df degrees of freedom: one minus twice
 * the integral of the density from 0 to t (Simpson's rule, 2000 panels;
 * the density is smooth and t is capped where the tail is below 1e-12). */
static double student_two_sided(double t, int df)
{
	t = fabs(t);
	if (t > 1e4)
		return 0;
	const double v = df, c = exp(lgamma((v + 1) / 2) - lgamma(v / 2)) / sqrt(v * M_PI);
	const int n = 2000;
	const double h = t / n;
	double sum = 0;
	for (int i = 0; i <= n; i++) {
		const double x = i * h, f = c * pow(1 + x * x / v, -(v + 1) / 2);
		sum += f * (i == 0 || i == n ? 1 : i % 2 ? 4 : 2);
	}
	const double p = 1 - 2 * sum * h / 3;
	return p < 0 ? 0 : p > 1 ? 1 : p;
}

double log_t_test_p(const double *a, int na, const double *b, int nb, double *ratio)
{
	*ratio = NAN;
	if (na < 2 || nb < 2)
		return NAN;
	double ma = 0, mb = 0;
	for (int i = 0; i < na; i++) {
		if (!(a[i] > 0))
			return NAN;
		ma += log(a[i]) / na;
	}
	for (int i = 0; i < nb; i++) {
		if (!(b[i] > 0))
			return NAN;
		mb += log(b[i]) / nb;
	}
	double ss = 0;
	for (int i = 0; i < na; i++)
		ss += (log(a[i]) - ma) * (log(a[i]) - ma);
	for (int i = 0; i < nb; i++)
		ss += (log(b[i]) - mb) * (log(b[i]) - mb);
	*ratio = exp(mb - ma);
	const int df = na + nb - 2;
	const double se = sqrt(ss / df * (1.0 / na + 1.0 / nb));
	if (se == 0)
		return mb == ma ? 1 : 0;
	return student_two_sided((mb - ma) / se, df);
}

double paired_log_t_test_p(const double *a, const double *b, int n, double *ratio)
{
	*ratio = NAN;
	if (n < 2)
		return NAN;
	double m = 0;
	for (int i = 0; i < n; i++) {
		if (!(a[i] > 0) || !(b[i] > 0))
			return NAN;
		m += log(b[i] / a[i]) / n;
	}
	double ss = 0;
	for (int i = 0; i < n; i++) {
		const double d = log(b[i] / a[i]) - m;
		ss += d * d;
	}
	*ratio = exp(m);
	const double se = sqrt(ss / (n - 1) / n);
	if (se == 0)
		return m == 0 ? 1 : 0;
	return student_two_sided(m / se, n - 1);
}

/* ---- the Wilcoxon signed-rank test ------------------------------------------------------ */

/* Largest number of pairs for the exact distribution of W. */
#define WSR_EXACT_MAX 50

/* |d| and its sign, for ranking. */
typedef struct wsr_val {
	double a;
	int neg;
} wsr_val;

static int wsr_val_cmp(const void *x, const void *y)
{
	const double a = ((const wsr_val *)x)->a, b = ((const wsr_val *)y)->a;
	return (a > b) - (a < b);
}

/* P(W <= w) for n pairs without ties or zeros: the number of subsets of
 * the ranks 1..n whose sum is at most w, over 2^n. */
static double wsr_exact_cdf(int n, double w)
{
	double c[WSR_EXACT_MAX * (WSR_EXACT_MAX + 1) / 2 + 1] = {0};
	int top = 0;
	c[0] = 1;
	for (int k = 1; k <= n; k++) {
		top += k;
		for (int s = top; s >= k; s--)
			c[s] += c[s - k];
	}
	double below = 0;
	for (int s = 0; s <= top && s <= w; s++)
		below += c[s];
	return below / ldexp(1.0, n);
}

/* The signed-rank statistics of d: m nonzero differences, the rank sum of
 * the negative ones and sum(t^3 - t) over tied groups of |d|. 0, or -1
 * when a value is NAN or memory runs out. */
static int wsr_stats(const double *d, int n, int *m_out, double *wneg_out, double *ties_out)
{
	wsr_val *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
	if (!v)
		return -1;
	int m = 0;
	for (int i = 0; i < n; i++) {
		if (isnan(d[i])) {
			free(v);
			return -1;
		}
		if (d[i] != 0) /* zeros dropped (Wilcoxon's own rule, scipy's default) */
			v[m++] = (wsr_val){fabs(d[i]), d[i] < 0};
	}
	qsort(v, (size_t)m, sizeof *v, wsr_val_cmp);
	double wneg = 0, ties = 0;
	for (int i = 0; i < m;) {
		int j = i;
		while (j + 1 < m && v[j + 1].a == v[i].a)
			j++;
		const double t = j - i + 1, rank = (i + j) / 2.0 + 1;
		for (int k = i; k <= j; k++)
			wneg += v[k].neg ? rank : 0;
		ties += t * t * t - t;
		i = j + 1;
	}
	free(v);
	*m_out = m;
	*wneg_out = wneg;
	*ties_out = ties;
	return 0;
}

/* P(W <= w) for the statistics of wsr_stats (n differences in all): exact
 * without ties or zeros, else the normal approximation with tie and
 * continuity corrections. */
static double wsr_lower_tail(int n, int m, double w, double ties)
{
	if (ties == 0 && m == n && m <= WSR_EXACT_MAX)
		return wsr_exact_cdf(m, w);
	const double var = m * (m + 1.0) * (2 * m + 1) / 24.0 - ties / 48.0;
	if (!(var > 0))
		return 1;
	const double z = (m * (m + 1) / 4.0 - w - 0.5) / sqrt(var);
	return 0.5 * erfc(z / sqrt(2.0));
}

/* The two-sided p (greater = 0), or the one-sided p for d tending to be
 * greater than 0: P(W- <= its observed value) under the null. */
static double wsr_p(const double *d, int n, int greater)
{
	int m;
	double wneg, ties;
	if (n < 1 || wsr_stats(d, n, &m, &wneg, &ties))
		return NAN;
	if (m == 0)
		return 1;
	const double total = m * (m + 1) / 2.0;
	const double p =
	    greater ? wsr_lower_tail(n, m, wneg, ties) : 2 * wsr_lower_tail(n, m, fmin(wneg, total - wneg), ties);
	return p > 1 ? 1 : p < 0 ? 0 : p;
}

double wilcoxon_signed_rank_p(const double *d, int n)
{
	return wsr_p(d, n, 0);
}

double wilcoxon_signed_rank_p_greater(const double *d, int n)
{
	return wsr_p(d, n, 1);
}

double t_test_p_greater(const double *d, int n)
{
	if (n < 2)
		return NAN;
	double m = 0;
	for (int i = 0; i < n; i++) {
		if (isnan(d[i]))
			return NAN;
		m += d[i] / n;
	}
	double ss = 0;
	for (int i = 0; i < n; i++)
		ss += (d[i] - m) * (d[i] - m);
	const double se = sqrt(ss / (n - 1) / n);
	if (se == 0)
		return m > 0 ? 0 : 1;
	const double half = student_two_sided(m / se, n - 1) / 2;
	return m > 0 ? half : 1 - half;
}

static int cmp_double(const void *x, const void *y)
{
	const double a = *(const double *)x, b = *(const double *)y;
	return (a > b) - (a < b);
}

double stats_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
