/* compare.c - `attnbench compare BASELINE CURRENT [--max-slowdown R]
 * [--alpha A] [--junit FILE]`: match the points of two sweeps, report the
 * ratio of their medians and a two-sided Mann-Whitney U test on their
 * repetitions (as Google Benchmark's tools/compare.py does with scipy), and
 * fail on significant slowdowns.
 *
 * A point regresses when current/baseline > --max-slowdown and p < --alpha;
 * it improved when the ratio < 1/--max-slowdown and p < --alpha. A ratio
 * beyond the threshold without significance is "noisy"; a point with fewer
 * than two repetitions on a side cannot be tested ("no test") and never
 * fails. Exit codes: 0 no regression, 1 a regression, 2 usage or input
 * error (or an unwritable --junit file). */
#include "cmd/cmd.h"
#include "cmd/compare.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/common.h"
#include "lib/junit.h"
#include "model/results.h"
#include "lib/util.h"

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

/* ---- reading the runs ------------------------------------------------------------------- */

/* One side of the comparison: a run's rows, sorted by point. */
typedef struct side {
	const char *arg;
	char csv[4096];
	results_file rf;
	const results_rec **rows;
	int n;
} side;

/* qsort order of row pointers: by point (each is there once). */
static int row_cmp(const void *x, const void *y)
{
	return results_point_cmp(*(const results_rec *const *)x, *(const results_rec *const *)y);
}

/* Read one side: a directory (DIR/results.csv) or a results.csv path. */
static int load_side(side *s, attn_err *e)
{
	struct stat st;
	if (stat(s->arg, &st) == 0 && S_ISDIR(st.st_mode))
		snprintf(s->csv, sizeof s->csv, "%s/results.csv", s->arg);
	else
		snprintf(s->csv, sizeof s->csv, "%s", s->arg);
	if (stat(s->csv, &st) != 0)
		return attn_errf(e, "%s: no such run directory or results.csv", s->csv);
	/* an unfinished sweep would pass the gate on the points it never reached */
	char marker[4400];
	results_marker_path(s->csv, marker, sizeof marker);
	if (stat(marker, &st) == 0)
		return attn_errf(e,
		                 "%s: the sweep has not finished (%s is there): resume it (its last line is the "
		                 "command) before comparing",
		                 s->csv, marker);
	if (results_read(s->csv, RESULTS_NEED_CONTRACT | RESULTS_COL(RC_REP_TIMES_NS), &s->rf, e))
		return EXIT_INPUT;
	s->rows = malloc(((size_t)s->rf.nrows + 1) * sizeof *s->rows);
	if (!s->rows)
		return attn_errf(e, "out of memory");
	for (int r = 0; r < s->rf.nrows; r++)
		s->rows[s->n++] = &s->rf.rows[r];
	qsort(s->rows, (size_t)s->n, sizeof *s->rows, row_cmp);
	return 0;
}

/* Free what load_side allocated. */
static void side_free(side *s)
{
	free(s->rows);
	results_file_free(&s->rf);
}

/* ---- comparing ---------------------------------------------------------------------------- */

/* Verdicts, in the order of the summary line. */
enum { V_REGRESSION, V_IMPROVEMENT, V_SAME, V_NOISY, V_NOTEST, V_ONLY_BASE, V_ONLY_CUR, NVERDICT };
static const char *const verdict_name[NVERDICT] = {"REGRESSION",        "improvement",      "same",           "noisy",
                                                   "no test (<2 reps)", "only in baseline", "only in current"};

/* One line of the comparison: a matched pair or a row of one side. */
typedef struct cpair {
	const results_rec *b, *c; /* either may be NULL */
	double ratio, p;          /* NAN where not defined */
	int verdict;
} cpair;

/* Sort: matched pairs by ratio, largest slowdown first; then the rows of
 * one side only (baseline first), each in key order. */
static int cpair_cmp(const void *x, const void *y)
{
	const cpair *a = x, *b = y;
	const int ua = isnan(a->ratio), ub = isnan(b->ratio);
	if (ua != ub)
		return ua - ub;
	if (!ua && a->ratio != b->ratio)
		return a->ratio < b->ratio ? 1 : -1;
	if (a->verdict != b->verdict)
		return a->verdict - b->verdict;
	const results_rec *ra = a->b ? a->b : a->c, *rb = b->b ? b->b : b->c;
	return results_point_cmp(ra, rb);
}

/* Decide the verdict of a matched pair of ok rows. */
static void judge(cpair *p, double max_slowdown, double alpha)
{
	p->ratio = p->c->time_ns / p->b->time_ns;
	p->p = NAN;
	if (p->b->nrep_times < 2 || p->c->nrep_times < 2) {
		p->verdict = V_NOTEST;
		return;
	}
	p->p = mann_whitney_p(p->b->rep_times_ns, p->b->nrep_times, p->c->rep_times_ns, p->c->nrep_times);
	const int slower = p->ratio > max_slowdown, faster = p->ratio < 1 / max_slowdown;
	if (!slower && !faster)
		p->verdict = V_SAME;
	else if (!(p->p < alpha))
		p->verdict = V_NOISY;
	else
		p->verdict = slower ? V_REGRESSION : V_IMPROVEMENT;
}

/* The shape of a row as one word-separated string. */
static void shape_str(const results_rec *r, char *buf, size_t len)
{
	snprintf(buf, len, "b%lld h%lld/%lld d%lld seq%lld cache%lld %s %s", (long long)r->batch, (long long)r->n_heads,
	         (long long)r->n_kv_heads, (long long)r->head_dim, (long long)r->seq_len, (long long)r->cache_len,
	         r->causal ? "causal" : "full", dtype_name(r->dtype));
}

/* Whether a row was measured. */
static int is_ok(const results_rec *r)
{
	return r->status == RESULT_OK;
}

/* Print the table of pairs on stdout. */
static void print_table(const cpair *ps, int n)
{
	printf("%-10s %-8s %-44s %12s %12s %8s %9s  %s\n", "backend", "phase", "shape", "baseline ms", "current ms",
	       "ratio", "p-value", "verdict");
	for (int i = 0; i < n; i++) {
		const cpair *p = &ps[i];
		const results_rec *r = p->b ? p->b : p->c;
		char shape[256], bms[32] = "-", cms[32] = "-", ratio[32] = "-", pv[32] = "-";
		shape_str(r, shape, sizeof shape);
		if (p->b && is_ok(p->b))
			snprintf(bms, sizeof bms, "%.4g", p->b->time_ns / 1e6);
		if (p->c && is_ok(p->c))
			snprintf(cms, sizeof cms, "%.4g", p->c->time_ns / 1e6);
		if (!isnan(p->ratio))
			snprintf(ratio, sizeof ratio, "%.3f", p->ratio);
		if (!isnan(p->p))
			snprintf(pv, sizeof pv, p->p < 1e-4 ? "%.1e" : "%.4f", p->p);
		else if (p->verdict == V_NOTEST)
			snprintf(pv, sizeof pv, "n/a");
		printf("%-10s %-8s %-44s %12s %12s %8s %9s  %s", r->backend, phase_name(r->phase), shape, bms, cms,
		       ratio, pv, verdict_name[p->verdict]);
		/* a row of one side that exists, not ok, on the other */
		const results_rec *other = p->verdict == V_ONLY_BASE ? p->c : p->verdict == V_ONLY_CUR ? p->b : NULL;
		if (other)
			printf(" (%s: %s)", p->verdict == V_ONLY_BASE ? "current" : "baseline", other->status_text);
		else if (!is_ok(r))
			printf(" (%s)", r->status_text);
		putchar('\n');
	}
}

/* Write the JUnit file: one testcase per matched pair, written to
 * path.partial and renamed. Returns 0 or -1. */
static int write_junit(const char *path, const cpair *ps, int n, double max_slowdown, double alpha)
{
	int tests = 0, failures = 0, skipped = 0;
	for (int i = 0; i < n; i++) {
		if (ps[i].verdict >= V_ONLY_BASE)
			continue;
		tests++;
		failures += ps[i].verdict == V_REGRESSION;
		skipped += ps[i].verdict == V_NOTEST;
	}
	junit_file j;
	if (junit_begin(&j, path, "compare", tests, failures, skipped))
		return -1;
	FILE *f = j.f;
	for (int i = 0; i < n; i++) {
		const cpair *p = &ps[i];
		if (p->verdict >= V_ONLY_BASE)
			continue;
		char shape[256], name[300], detail[512];
		shape_str(p->b, shape, sizeof shape);
		snprintf(name, sizeof name, "%s %s", phase_name(p->b->phase), shape);
		snprintf(detail, sizeof detail, "baseline %.6g ms, current %.6g ms, ratio %.4f, p %.4g",
		         p->b->time_ns / 1e6, p->c->time_ns / 1e6, p->ratio, p->p);
		junit_case_begin(&j, p->b->backend, name);
		if (p->verdict == V_REGRESSION) {
			fprintf(f, "<failure message=\"%.3fx slower (max %.3f), p = %.3g &lt; %.3g\">", p->ratio,
			        max_slowdown, p->p, alpha);
			xml_escape(f, detail);
			fputs("</failure>", f);
		} else if (p->verdict == V_NOTEST) {
			fputs("<skipped message=\"fewer than 2 repetitions on a side: no significance test\"/>", f);
		} else {
			fputs("<system-out>", f);
			xml_escape(f, detail);
			fprintf(f, " (%s)</system-out>", verdict_name[p->verdict]);
		}
		junit_case_end(&j);
	}
	return junit_commit(&j);
}

/* Match the sorted rows of both sides into pairs (ps holds nb + nc).
 * Keys both sides have but neither measured are counted in *neither. */
static int match_rows(const side *B, const side *C, cpair *ps, double max_slowdown, double alpha, int *neither)
{
	int n = 0, i = 0, j = 0;
	*neither = 0;
	while (i < B->n || j < C->n) {
		const int c = i == B->n ? 1 : j == C->n ? -1 : results_point_cmp(B->rows[i], C->rows[j]);
		cpair p = {NULL, NULL, NAN, NAN, 0};
		if (c < 0) {
			p.b = B->rows[i++];
			p.verdict = V_ONLY_BASE;
		} else if (c > 0) {
			p.c = C->rows[j++];
			p.verdict = V_ONLY_CUR;
		} else {
			p.b = B->rows[i++];
			p.c = C->rows[j++];
			if (is_ok(p.b) && is_ok(p.c)) {
				judge(&p, max_slowdown, alpha);
			} else if (is_ok(p.b) || is_ok(p.c)) {
				p.verdict = is_ok(p.b) ? V_ONLY_BASE : V_ONLY_CUR;
			} else {
				(*neither)++;
				continue;
			}
		}
		ps[n++] = p;
	}
	return n;
}

/* ---- the command ------------------------------------------------------------------------ */

enum { OPT_MAX_SLOWDOWN = 1, OPT_ALPHA, OPT_JUNIT };

static const cli_option compare_options[] = {
    {"max-slowdown", "R",
     "current/baseline median ratio above which a point may regress\n"
     "(default 1.10; a number in [1, 1000])",
     OPT_MAX_SLOWDOWN},
    {"alpha", "A",
     "significance level of the two-sided Mann-Whitney U test on\n"
     "the repetitions (default 0.05; in (0, 1))",
     OPT_ALPHA},
    {"junit", "FILE", "JUnit XML, one testcase per matched point, a failure per\nregression", OPT_JUNIT},
    {0},
};

static const cli_option compare_operands[] = {
    {"BASELINE", NULL, "the run compared against: a sweep's output directory\n(DIR/results.csv) or a results.csv", 0},
    {"CURRENT", NULL, "the run judged against it, in the same form", 0},
    {0},
};

const cli_command compare_command = {
    .name = "compare",
    .synopsis = "BASELINE CURRENT [--max-slowdown R] [--alpha A] [--junit FILE]",
    .about = "Matches the points of two runs and prints, per point, the ratio of their median\n"
             "times and the p-value of a Mann-Whitney U test on their repetitions.",
    .options = compare_options,
    .notes = "Points match on (backend, phase, batch, n_heads, n_kv_heads, head_dim, seq_len,\n"
             "cache_len, causal, dtype); only rows with status ok on both sides are compared.\n"
             "A point regresses when ratio > R and p < A.",
    .exit1 = "a regression",
    .operands = compare_operands,
    .min_operands = 2,
    .max_operands = 2,
    .operand_noun = "run",
};

/* "1 regression" / "3 regressions". */
static void print_count(int n, const char *one, const char *many, const char *sep)
{
	printf("%d %s%s", n, n == 1 ? one : many, sep);
}

/* The compare command (see compare.h). */
int cmd_compare(int argc, char **argv)
{
	double max_slowdown = 1.10, alpha = 0.05;
	const char *junit = NULL;
	cli_parser p;
	cli_common com;
	cli_begin(&p, &compare_command, argc, argv, &com);
	int id;
	while ((id = cli_next(&p)) > 0) {
		if (id == OPT_MAX_SLOWDOWN &&
		    (!parse_f64(p.arg, &max_slowdown) || !(max_slowdown >= 1) || max_slowdown > 1000))
			return cli_error(&p, "--max-slowdown: '%s' is not a ratio in [1, 1000]", p.arg);
		if (id == OPT_ALPHA && (!parse_f64(p.arg, &alpha) || !(alpha > 0) || !(alpha < 1)))
			return cli_error(&p, "--alpha: '%s' is not a probability in (0, 1)", p.arg);
		if (id == OPT_JUNIT)
			junit = p.arg;
	}
	if (id < 0)
		return p.rc;
	side B, C;
	memset(&B, 0, sizeof B);
	memset(&C, 0, sizeof C);
	B.arg = p.operands[0];
	C.arg = p.operands[1];
	attn_err e = {{0}};
	int rc = EXIT_PASS;
	cpair *ps = NULL;
	if (load_side(&B, &e) || load_side(&C, &e)) {
		fprintf(stderr, "attnbench compare: %s\n", e.msg);
		rc = EXIT_INPUT;
		goto out;
	}
	ps = malloc(((size_t)B.n + (size_t)C.n + 1) * sizeof *ps);
	if (!ps) {
		fprintf(stderr, "attnbench compare: out of memory\n");
		rc = EXIT_INPUT;
		goto out;
	}
	int neither;
	const int n = match_rows(&B, &C, ps, max_slowdown, alpha, &neither);
	qsort(ps, (size_t)n, sizeof *ps, cpair_cmp);
	print_table(ps, n);
	int count[NVERDICT] = {0};
	for (int i = 0; i < n; i++)
		count[ps[i].verdict]++;
	printf("compare: ");
	print_count(count[V_REGRESSION], "regression", "regressions", ", ");
	print_count(count[V_IMPROVEMENT], "improvement", "improvements", ", ");
	printf("%d same, %d noisy, %d untested, ", count[V_SAME], count[V_NOISY], count[V_NOTEST]);
	printf("%d only in baseline, %d only in current", count[V_ONLY_BASE], count[V_ONLY_CUR]);
	printf(" (max slowdown %.3g, alpha %.3g", max_slowdown, alpha);
	if (neither)
		printf("; %d not ok on either side", neither);
	printf(")\n");
	if (count[V_NOTEST])
		printf("compare: %d point%s fewer than 2 repetitions on a side: no significance test, never failed\n",
		       count[V_NOTEST], count[V_NOTEST] == 1 ? " has" : "s have");
	if (junit && write_junit(junit, ps, n, max_slowdown, alpha) != 0) {
		fprintf(stderr, "attnbench compare: cannot write %s\n", junit);
		rc = EXIT_INPUT;
		goto out;
	}
	rc = count[V_REGRESSION] ? EXIT_CHECK_FAILED : EXIT_PASS;
out:
	free(ps);
	side_free(&B);
	side_free(&C);
	return rc;
}
