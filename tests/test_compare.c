/* test_compare.c - `attnbench compare` and the Mann-Whitney U test behind it.
 *
 * The runs are synthetic results.csv files written with table_write_row:
 * each point's repetitions are evenly spaced around its median with a
 * chosen relative spread, in a scrambled order, so the tests control both
 * the ratio of medians and how much the repetitions overlap. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/stats.h"
#include "lib/table.h"
#include "testutil.h"

/* ---- mann_whitney_p ----------------------------------------------------------------------- */

/* Exact two-sided p by enumerating every split of the pooled values
 * (no ties): the fraction of splits with max(U1, U2) >= the observed one,
 * doubled. Independent of the Gaussian-binomial recursion in compare.c. */
static double brute_p(const double *a, int na, const double *b, int nb)
{
	double pool[16];
	const int n = na + nb;
	for (int i = 0; i < na; i++)
		pool[i] = a[i];
	for (int i = 0; i < nb; i++)
		pool[na + i] = b[i];
	/* U1 = number of pairs (x in a, y in b) with x > y */
	double u1 = 0;
	for (int i = 0; i < na; i++)
		for (int j = 0; j < nb; j++)
			u1 += a[i] > b[j];
	const double u = fmax(u1, (double)na * nb - u1);
	long hit = 0, total = 0;
	for (unsigned m = 0; m < (1u << n); m++) {
		if (__builtin_popcount(m) != na)
			continue;
		double s = 0;
		for (int i = 0; i < n; i++)
			for (int j = 0; j < n; j++)
				if ((m >> i & 1) && !(m >> j & 1))
					s += pool[i] > pool[j];
		total++;
		hit += fmax(s, (double)na * nb - s) >= u;
	}
	/* max(U1,U2) >= u counts both tails: the two-sided p directly */
	const double p = (double)hit / (double)total;
	return p > 1 ? 1 : p;
}

/* Known values (scipy.stats.mannwhitneyu, two-sided) and edge cases. */
static void test_mwu_known(void **state)
{
	(void)state;
	const double a[] = {1, 2, 3, 4, 5}, b[] = {6, 7, 8, 9, 10};
	/* exact: 2 / C(10,5) = 2/252 */
	assert_true(fabs(mann_whitney_p(a, 5, b, 5) - 2.0 / 252) < 1e-12);
	assert_true(fabs(mann_whitney_p(b, 5, a, 5) - 2.0 / 252) < 1e-12);
	assert_true(fabs(mann_whitney_p(a, 5, b, 5) - 0.0079) < 1e-4);
	/* identical samples (all ties): p = 1 */
	assert_true(mann_whitney_p(a, 5, a, 5) == 1.0);
	const double same[] = {3, 3, 3, 3};
	assert_true(mann_whitney_p(same, 4, same, 4) == 1.0);
	/* exact: {1,2} vs {3,4}: 2 * 1/6 */
	assert_true(fabs(mann_whitney_p(a, 2, a + 2, 2) - 1.0 / 3) < 1e-12);
	/* interleaved samples: scipy gives 0.6904761904761905 */
	const double odd[] = {1, 3, 5, 7, 9}, even[] = {2, 4, 6, 8, 10};
	assert_true(fabs(mann_whitney_p(odd, 5, even, 5) - 0.6904761904761905) < 1e-12);
	/* ties, normal approximation with tie and continuity correction:
	 * scipy gives 0.11384 for [1..5] vs [3..7] */
	const double c[] = {3, 4, 5, 6, 7};
	assert_true(fabs(mann_whitney_p(a, 5, c, 5) - 0.113846) < 1e-4);
	/* an empty sample: no test */
	assert_true(isnan(mann_whitney_p(a, 0, b, 5)));
	/* large samples (normal approximation) completely separated: tiny p */
	double x[30], y[30];
	for (int i = 0; i < 30; i++) {
		x[i] = 100 + i;
		y[i] = 200 + i;
	}
	assert_true(mann_whitney_p(x, 30, y, 30) < 1e-9);
	/* and identical large samples: p near 1 */
	assert_true(mann_whitney_p(x, 30, x, 30) > 0.99);
}

/* The exact distribution against brute-force enumeration. */
static void test_mwu_exact_brute(void **state)
{
	(void)state;
	unsigned seed = 12345;
	for (int trial = 0; trial < 60; trial++) {
		const int na = 1 + trial % 7, nb = 1 + (trial / 7) % 7;
		if (na + nb > 14)
			continue;
		double a[8] = {0}, b[8] = {0};
		/* distinct values: a random permutation of 0..n-1 with a shift */
		int perm[16] = {0};
		for (int i = 0; i < na + nb; i++)
			perm[i] = i;
		for (int i = na + nb - 1; i > 0; i--) {
			seed = seed * 1103515245u + 12345u;
			const int j = (int)((seed >> 8) % (unsigned)(i + 1)), t = perm[i];
			perm[i] = perm[j];
			perm[j] = t;
		}
		for (int i = 0; i < na; i++)
			a[i] = perm[i] * 1.5;
		for (int i = 0; i < nb; i++)
			b[i] = perm[na + i] * 1.5;
		const double want = brute_p(a, na, b, nb), got = mann_whitney_p(a, na, b, nb);
		if (fabs(want - got) > 1e-12)
			fail_msg("na %d nb %d: exact p %.15g, brute force %.15g", na, nb, got, want);
	}
}

/* ---- synthetic runs --------------------------------------------------------------------- */

/* One row of a synthetic results.csv. */
typedef struct rspec {
	const char *backend, *phase;
	int seq;
	const char *status;
	int nreps;
	double median_ns, spread; /* reps evenly spaced in median * (1 +- spread) */
} rspec;

static const char *const header[] = {
    "backend",           "device",      "phase",       "batch",       "n_heads",    "n_kv_heads",
    "head_dim",          "seq_len",     "cache_len",   "causal",      "dtype",      "time_ns",
    "time_ns_min",       "time_ns_max", "reps",        "gflops",      "gbytes_s",   "kv_cache_bytes",
    "workspace_bytes",   "status",      "gpu_time_ns", "timing",      "iterations", "threads",
    "peak_device_bytes", "flops",       "bytes",       "rep_times_ns"};
enum { NH = sizeof header / sizeof header[0] };

/* Write dir/results.csv with rows; skip_col (or NULL) is left out,
 * override (or NULL) replaces column override_col of row override_row, and
 * times[r] (times or times[r] NULL: the evenly spaced ones) are row r's
 * repetitions. */
static void write_run_times(const char *dir, const rspec *rows, int n, const char *skip_col, int override_row,
                            const char *override_col, const char *override, const char *const *times)
{
	char p[600];
	snprintf(p, sizeof p, "%s/results.csv", dir);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	const char *fields[NH];
	int k = 0;
	for (int c = 0; c < NH; c++)
		if (!skip_col || strcmp(header[c], skip_col))
			fields[k++] = header[c];
	assert_int_equal(table_write_row(f, fields, k), 0);
	for (int r = 0; r < n; r++) {
		const rspec *s = &rows[r];
		char seq[32], t[32], tmin[32], tmax[32], reps[32], rt[4096] = "";
		snprintf(seq, sizeof seq, "%d", s->seq);
		snprintf(t, sizeof t, "%.1f", s->median_ns);
		snprintf(tmin, sizeof tmin, "%.1f", s->median_ns * (1 - s->spread));
		snprintf(tmax, sizeof tmax, "%.1f", s->median_ns * (1 + s->spread));
		snprintf(reps, sizeof reps, "%d", s->nreps);
		size_t used = 0;
		for (int i = 0; i < s->nreps; i++) {
			/* (i * 7) % nreps scrambles the order when gcd(7, nreps) == 1 */
			const int j = (i * 7) % s->nreps;
			const double x = s->nreps > 1 ? 2.0 * j / (s->nreps - 1) - 1 : 0;
			used += (size_t)snprintf(rt + used, sizeof rt - used, "%s%.1f", i ? " " : "",
			                         s->median_ns * (1 + s->spread * x));
		}
		if (times && times[r])
			snprintf(rt, sizeof rt, "%s", times[r]);
		const char *vals[NH] = {s->backend, "cpu",  s->phase, "1",  "4",  "2",    "16",  seq,    seq, "1",
		                        "f32",      t,      tmin,     tmax, reps, "1.0",  "1.0", "4096", "0", s->status,
		                        "",         "wall", "1",      "2",  "",   "1000", "100", rt};
		k = 0;
		for (int c = 0; c < NH; c++) {
			if (skip_col && !strcmp(header[c], skip_col))
				continue;
			fields[k++] = (r == override_row && override_col && !strcmp(header[c], override_col)) ? override
			                                                                                      : vals[c];
		}
		assert_int_equal(table_write_row(f, fields, k), 0);
	}
	assert_int_equal(fclose(f), 0);
}

static void write_run_ex(const char *dir, const rspec *rows, int n, const char *skip_col, int override_row,
                         const char *override_col, const char *override)
{
	write_run_times(dir, rows, n, skip_col, override_row, override_col, override, NULL);
}

/* Write dir/results.csv with rows as they are. */
static void write_run(const char *dir, const rspec *rows, int n)
{
	write_run_ex(dir, rows, n, NULL, -1, NULL, NULL);
}

/* A fresh directory under the test's temporary directory. */
static char *subdir(const char *base, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", base, name);
	assert_int_equal(mkdir(buf, 0755), 0);
	return buf;
}

/* ---- the command ------------------------------------------------------------------------ */

/* A 30% slowdown with 1% noise over 10 reps regresses; a 30% speedup is an
 * improvement; unchanged points are the same; the table is sorted. */
static void test_regression_flagged(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), bd[600], cd[600];
	subdir(dir, "base", bd, sizeof bd);
	subdir(dir, "cur", cd, sizeof cd);
	const rspec base[] = {
	    {"blocked", "prefill", 256, "ok", 10, 1e6, 0.01},
	    {"naive", "prefill", 128, "ok", 10, 2e6, 0.01},
	    {"blas", "decode", 64, "ok", 10, 3e5, 0.01},
	};
	const rspec cur[] = {
	    {"blocked", "prefill", 256, "ok", 10, 1.3e6, 0.01},
	    {"naive", "prefill", 128, "ok", 10, 2e6, 0.01},
	    {"blas", "decode", 64, "ok", 10, 2.1e5, 0.01},
	};
	write_run(bd, base, 3);
	write_run(cd, cur, 3);
	char *o = NULL, *e = NULL;
	const int rc = tu_run(&o, &e, "compare", bd, cd, (char *)NULL);
	if (rc != 1)
		fail_msg("exit %d (want 1); stdout: %s stderr: %s", rc, o, e);
	const char *reg = strstr(o, "REGRESSION"), *same = strstr(o, "same"), *imp = strstr(o, "improvement");
	assert_non_null(reg);
	assert_non_null(same);
	assert_non_null(imp);
	assert_true(reg < same && same < imp); /* largest slowdown first */
	assert_non_null(strstr(o, "1.300"));
	assert_non_null(strstr(o, "compare: 1 regression, 1 improvement, 1 same"));
	assert_non_null(strstr(o, "blocked    prefill  b1 h4/2 d16 seq256 cache256 causal f32"));
	free(o);
	free(e);
	/* a looser threshold lets it pass; a file path works like a directory */
	char csv[700];
	snprintf(csv, sizeof csv, "%s/results.csv", cd);
	EXPECT(0, "compare: 0 regressions", "compare", bd, csv, "--max-slowdown", "1.5");
	/* a stricter alpha than the exact test can reach: noisy, not failed */
	EXPECT(0, "noisy", "compare", bd, cd, "--alpha", "1e-9");
	tu_rmtree(dir);
}

/* A 30% difference inside wide, overlapping noise is not a regression. */
static void test_noise_not_flagged(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), bd[600], cd[600];
	subdir(dir, "base", bd, sizeof bd);
	subdir(dir, "cur", cd, sizeof cd);
	const rspec base[] = {{"blocked", "prefill", 256, "ok", 10, 1e6, 0.6}};
	const rspec cur[] = {{"blocked", "prefill", 256, "ok", 10, 1.3e6, 0.6}};
	write_run(bd, base, 1);
	write_run(cd, cur, 1);
	EXPECT(0, "noisy", "compare", bd, cd);
	EXPECT(0, "compare: 0 regressions, 0 improvements, 0 same, 1 noisy", "compare", bd, cd);
	tu_rmtree(dir);
}

/* The t test on run medians: two runs a side built so that t is a
 * tabulated quantile (df 2, t 4.303: p 0.05; df 4, t 2.776: p 0.05). */
static void test_log_t_known(void **state)
{
	(void)state;
	const double d = 0.01, m = 4.303 * sqrt(2.0) * d;
	const double a[2] = {exp(-d), exp(d)}, b[2] = {exp(m - d), exp(m + d)};
	double ratio;
	const double p = log_t_test_p(a, 2, b, 2, &ratio);
	if (fabs(p - 0.05) > 5e-4 || fabs(ratio - exp(m)) > 1e-12)
		fail_msg("df 2: p %.6f (want 0.05), ratio %.6f", p, ratio);
	/* three a side: ss = 2 d^2 per side, df 4, se = d sqrt(2/3) */
	const double m4 = 2.776 * d * sqrt(2.0 / 3.0);
	const double a3[3] = {exp(-d), 1, exp(d)}, b3[3] = {exp(m4 - d), exp(m4), exp(m4 + d)};
	const double p4 = log_t_test_p(a3, 3, b3, 3, &ratio);
	if (fabs(p4 - 0.05) > 5e-4)
		fail_msg("df 4: p %.6f (want 0.05)", p4);
	/* the same values: p 1; a side of one value: no test */
	assert_true(log_t_test_p(a, 2, a, 2, &ratio) > 0.999);
	assert_true(isnan(log_t_test_p(a, 1, b, 2, &ratio)));
}

/* Several runs a side: a point is judged on the spread between the runs'
 * medians. Runs that drift as a whole by up to 11% (each run tight within,
 * so one pair of them alone looks significant) pass; a 30% slowdown of
 * every current run still fails. */
static void test_across_runs(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), d[6][600], names[6][16];
	const double base[3] = {1.00e6, 1.11e6, 0.97e6}, same[3] = {1.105e6, 0.99e6, 1.04e6},
	             slow[3] = {1.31e6, 1.43e6, 1.28e6};
	for (int i = 0; i < 6; i++) {
		snprintf(names[i], sizeof names[i], "run%d", i);
		subdir(dir, names[i], d[i], sizeof d[i]);
		const rspec r = {"blocked", "prefill", 256, "ok", 5, i < 3 ? base[i] : same[i - 3], 0.005};
		write_run(d[i], &r, 1);
	}
	/* one pair alone: 1.105x at tight repetitions is flagged */
	EXPECT(1, "REGRESSION", "compare", d[0], d[3]);
	EXPECT(1, "judged against the repetitions within one run per side", "compare", d[0], d[3]);
	char bl[2000], cl[2000];
	snprintf(bl, sizeof bl, "%s,%s,%s", d[0], d[1], d[2]);
	snprintf(cl, sizeof cl, "%s,%s,%s", d[3], d[4], d[5]);
	EXPECT(0, "compare: 0 regressions", "compare", bl, cl);
	EXPECT(0,
	       "judged against the spread between runs: 1 point measured in 2 or more runs on each side (3 "
	       "baseline, 3 current runs)",
	       "compare", bl, cl);
	for (int i = 3; i < 6; i++) {
		const rspec r = {"blocked", "prefill", 256, "ok", 5, slow[i - 3], 0.005};
		write_run(d[i], &r, 1);
	}
	EXPECT(1, "REGRESSION", "compare", bl, cl);
	/* an empty name in the list, and a run that is not there */
	snprintf(cl, sizeof cl, "%s,,%s", d[3], d[4]);
	EXPECT(2, "empty run name", "compare", bl, cl);
	snprintf(cl, sizeof cl, "%s,%s/nope", d[3], dir);
	EXPECT(2, "nope", "compare", bl, cl);
	tu_rmtree(dir);
}

/* Identical runs pass with every point the same. */
static void test_identical(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), bd[600];
	subdir(dir, "base", bd, sizeof bd);
	const rspec rows[] = {
	    {"blocked", "prefill", 256, "ok", 10, 1e6, 0.01},
	    {"naive", "decode", 1, "ok", 5, 2e4, 0.2},
	};
	write_run(bd, rows, 2);
	EXPECT(0, "compare: 0 regressions, 0 improvements, 2 same", "compare", bd, bd);
	EXPECT(0, "1.0000  same", "compare", bd, bd);
	tu_rmtree(dir);
}

/* Rows of one side only, or not ok on one side, are listed; a point measured
 * ok in the baseline and not in the current run fails the gate unless
 * --allow-missing; fewer than 2 repetitions: no test, never failed. */
static void test_one_side_only(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), bd[600], cd[600];
	subdir(dir, "base", bd, sizeof bd);
	subdir(dir, "cur", cd, sizeof cd);
	const rspec base[] = {
	    {"blocked", "prefill", 256, "ok", 10, 1e6, 0.01},
	    {"naive", "decode", 64, "ok", 10, 1e5, 0.01},
	    {"blas", "prefill", 512, "ok", 10, 1e6, 0.01},
	    {"blas", "prefill", 1024, "ok", 1, 1e6, 0},
	};
	const rspec cur[] = {
	    {"blocked", "prefill", 256, "ok", 10, 1e6, 0.01},
	    {"vulkan", "decode", 64, "ok", 10, 1e5, 0.01},
	    {"blas", "prefill", 512, "error: boom", 0, 0, 0},
	    {"blas", "prefill", 1024, "ok", 1, 2e6, 0},
	};
	write_run(bd, base, 4);
	write_run(cd, cur, 4);
	char *o = NULL, *e = NULL;
	int rc = tu_run(&o, &e, "compare", bd, cd, (char *)NULL);
	if (rc != 1)
		fail_msg("exit %d (want 1: two points missing); stdout: %s stderr: %s", rc, o, e);
	assert_non_null(strstr(o, "compare: 0 regressions, 0 improvements, 1 same, 0 noisy, 1 untested, "
	                          "2 only in baseline, 1 only in current"));
	assert_non_null(strstr(o, "only in baseline (current: error: boom)"));
	assert_non_null(strstr(o, "vulkan"));
	assert_non_null(strstr(o, "no test (<2 reps)"));
	assert_non_null(strstr(o, "fewer than 2 repetitions"));
	assert_non_null(strstr(o, "compare: 2 points of the baseline not measured ok in the current run"));
	assert_non_null(strstr(o, "the gate fails"));
	free(o);
	free(e);
	/* --allow-missing: listed the same, and the gate passes */
	o = e = NULL;
	rc = tu_run(&o, &e, "compare", bd, cd, "--allow-missing", (char *)NULL);
	if (rc != 0)
		fail_msg("exit %d (want 0 with --allow-missing); stdout: %s stderr: %s", rc, o, e);
	assert_non_null(strstr(o, "2 only in baseline, 1 only in current"));
	assert_non_null(strstr(o, "allowed (--allow-missing)"));
	free(o);
	free(e);
	/* points only in the current run never fail */
	char sd[600];
	subdir(dir, "sub", sd, sizeof sd);
	write_run(sd, base, 1);
	EXPECT(0, "0 only in baseline, 3 only in current", "compare", sd, bd);
	tu_rmtree(dir);
}

/* Runs that share no point measured ok on both sides: exit 2, both named,
 * --allow-missing or not. */
static void test_nothing_in_common(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), bd[600], cd[600], ed[600], want[1400];
	subdir(dir, "base", bd, sizeof bd);
	subdir(dir, "cur", cd, sizeof cd);
	subdir(dir, "err", ed, sizeof ed);
	const rspec base[] = {{"blocked", "prefill", 256, "ok", 10, 1e6, 0.01}};
	const rspec cur[] = {{"blocked", "prefill", 512, "ok", 10, 1e6, 0.01}};
	const rspec err[] = {{"blocked", "prefill", 256, "error: boom", 0, 0, 0}};
	write_run(bd, base, 1);
	write_run(cd, cur, 1);
	write_run(ed, err, 1);
	snprintf(want, sizeof want, "%s/results.csv and %s/results.csv have no point measured ok on both sides", bd,
	         cd);
	EXPECT(2, want, "compare", bd, cd);
	EXPECT(2, "no point measured ok on both sides", "compare", bd, cd, "--allow-missing");
	EXPECT(2, "no point measured ok on both sides", "compare", bd, ed);
	tu_rmtree(dir);
}

/* Write dir/machine.json with these values. */
static void write_machine(const char *dir, const char *host, const char *commit, const char *threads)
{
	char p[700], j[1024];
	snprintf(p, sizeof p, "%s/machine.json", dir);
	const int n = snprintf(j, sizeof j,
	                       "{\"cpu_model\": \"Test CPU\", \"threads_used\": \"%s\", \"build_flags\": \"-O3\", "
	                       "\"git_commit\": \"%s\", \"hostname\": \"%s\"}\n",
	                       threads, commit, host);
	tu_write(p, j, (size_t)n);
}

/* Runs from different machines, builds or thread counts: a warning naming
 * what differs; the same machine and build: none. */
static void test_machine_differs(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), bd[600], cd[600];
	subdir(dir, "base", bd, sizeof bd);
	subdir(dir, "cur", cd, sizeof cd);
	const rspec rows[] = {{"blocked", "prefill", 256, "ok", 10, 1e6, 0.01}};
	write_run(bd, rows, 1);
	write_run(cd, rows, 1);
	write_machine(bd, "alpha", "abc123", "2");
	write_machine(cd, "alpha", "abc123", "2");
	char *o = NULL, *e = NULL;
	assert_int_equal(tu_run(&o, &e, "compare", bd, cd, (char *)NULL), 0);
	assert_null(strstr(e ? e : "", "warning"));
	free(o);
	free(e);
	write_machine(cd, "beta", "def456", "4");
	o = e = NULL;
	assert_int_equal(tu_run(&o, &e, "compare", bd, cd, (char *)NULL), 0);
	assert_non_null(strstr(e, "warning: the runs differ in hostname: baseline 'alpha', current 'beta'"));
	assert_non_null(strstr(e, "warning: the runs differ in git_commit: baseline 'abc123', current 'def456'"));
	assert_non_null(strstr(e, "warning: the runs differ in threads_used: baseline 2, current 4"));
	assert_null(strstr(e, "cpu_model"));
	free(o);
	free(e);
	/* a malformed machine.json is an input error naming it */
	char p[700];
	snprintf(p, sizeof p, "%s/machine.json", cd);
	tu_write(p, "{\"hostname\": ", 13);
	EXPECT(2, "machine.json", "compare", bd, cd);
	tu_rmtree(dir);
}

/* Malformed inputs and options: exit 2 naming the file, line and column. */
static void test_bad_inputs(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), bd[600], cd[600], want[800];
	subdir(dir, "base", bd, sizeof bd);
	subdir(dir, "cur", cd, sizeof cd);
	const rspec rows[] = {
	    {"blocked", "prefill", 256, "ok", 10, 1e6, 0.01},
	    {"naive", "prefill", 128, "ok", 10, 2e6, 0.01},
	};
	write_run(bd, rows, 2);
	/* a non-number in time_ns, data row 2 = line 3 */
	write_run_ex(cd, rows, 2, NULL, 1, "time_ns", "fast");
	snprintf(want, sizeof want, "%s/results.csv: line 3, column time_ns: 'fast'", cd);
	EXPECT(2, want, "compare", bd, cd);
	/* a non-number among the repetitions */
	write_run_ex(cd, rows, 2, NULL, 0, "rep_times_ns", "1000.0 12x 900.0");
	snprintf(want, sizeof want, "%s/results.csv: line 2, column rep_times_ns: '12x'", cd);
	EXPECT(2, want, "compare", bd, cd);
	/* a non-integer key column */
	write_run_ex(cd, rows, 2, NULL, 1, "seq_len", "1.5");
	snprintf(want, sizeof want, "%s/results.csv: line 3, column seq_len", cd);
	EXPECT(2, want, "compare", bd, cd);
	/* a missing contract column, in the baseline this time */
	write_run(cd, rows, 2);
	write_run_ex(bd, rows, 2, "rep_times_ns", -1, NULL, NULL);
	snprintf(want, sizeof want, "%s/results.csv: line 1, column rep_times_ns: missing", bd);
	EXPECT(2, want, "compare", bd, cd);
	write_run_ex(bd, rows, 2, "time_ns", -1, NULL, NULL);
	snprintf(want, sizeof want, "%s/results.csv: line 1, column time_ns: missing", bd);
	EXPECT(2, want, "compare", bd, cd);
	write_run(bd, rows, 2);
	/* a ragged row (libcsv reader) */
	char p[700];
	snprintf(p, sizeof p, "%s/results.csv", cd);
	tu_write(p, "backend,phase\nblocked\n", 22);
	EXPECT(2, "results.csv", "compare", bd, cd);
	/* missing file */
	snprintf(p, sizeof p, "%s/nothing", dir);
	EXPECT(2, "nothing", "compare", bd, p);
	/* bad options */
	write_run(cd, rows, 2);
	EXPECT(2, "--alpha: '2'", "compare", bd, cd, "--alpha", "2");
	EXPECT(2, "--alpha: 'x'", "compare", bd, cd, "--alpha", "x");
	EXPECT(2, "--max-slowdown: '0.9'", "compare", bd, cd, "--max-slowdown", "0.9");
	EXPECT(2, "--max-slowdown: 'nan'", "compare", bd, cd, "--max-slowdown", "nan");
	EXPECT(2, "needs exactly two runs", "compare", bd);
	EXPECT(2, "needs exactly two runs", "compare", bd, cd, cd);
	EXPECT(2, "unknown option '--frob'", "compare", bd, cd, "--frob");
	EXPECT(2, "needs a value", "compare", bd, cd, "--junit");
	EXPECT(0, "usage: attnbench compare", "compare", "--help");
	tu_rmtree(dir);
}

/* A run holding one point twice is an input error naming both lines (the
 * contract), in either run; the same point in another dtype or backend is
 * another point. */
static void test_duplicate_point(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), bd[600], cd[600], want[800];
	subdir(dir, "base", bd, sizeof bd);
	subdir(dir, "cur", cd, sizeof cd);
	const rspec rows[] = {
	    {"blas", "decode", 64, "ok", 10, 3e5, 0.01},
	    {"vulkan", "attend", 32, "ok", 10, 2e5, 0.01},
	    {"blas", "decode", 64, "error: again", 0, 0, 0},
	};
	write_run(bd, rows, 2);
	write_run(cd, rows, 3);
	snprintf(want, sizeof want, "%s/results.csv: lines 2 and 4: the same point twice", cd);
	EXPECT(2, want, "compare", bd, cd);
	write_run(bd, rows, 3);
	snprintf(want, sizeof want, "%s/results.csv: lines 2 and 4: the same point twice", bd);
	EXPECT(2, want, "compare", bd, cd);
	const rspec other[] = {
	    {"blocked", "prefill", 256, "ok", 10, 1e6, 0.01},
	    {"naive", "prefill", 256, "ok", 10, 2e6, 0.01},
	    {"blocked", "decode", 256, "ok", 10, 1e6, 0.01},
	};
	write_run(bd, other, 3);
	write_run(cd, other, 3);
	EXPECT(0, "3 same", "compare", bd, cd);
	tu_rmtree(dir);
}

/* --junit: testsuites/testsuite/testcase, a failure for the regression,
 * written through FILE.partial. */
static void test_junit(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), bd[600], cd[600], junit[700], partial[720];
	subdir(dir, "base", bd, sizeof bd);
	subdir(dir, "cur", cd, sizeof cd);
	const rspec base[] = {
	    {"blocked", "prefill", 256, "ok", 10, 1e6, 0.01},
	    {"naive", "prefill", 128, "ok", 10, 2e6, 0.01},
	    {"blas", "decode", 64, "ok", 10, 3e5, 0.01},
	};
	const rspec cur[] = {
	    {"blocked", "prefill", 256, "ok", 10, 1.3e6, 0.01},
	    {"naive", "prefill", 128, "ok", 10, 2e6, 0.01},
	};
	write_run(bd, base, 3);
	write_run(cd, cur, 2);
	snprintf(junit, sizeof junit, "%s/compare.xml", dir);
	EXPECT(1, "REGRESSION", "compare", bd, cd, "--junit", junit);
	char *x = tu_read(junit, NULL);
	assert_non_null(x);
	assert_non_null(strstr(x, "<?xml"));
	assert_non_null(strstr(x, "<testsuites name=\"attnbench compare\" tests=\"2\" failures=\"1\""));
	assert_non_null(strstr(x, "<testsuite name=\"attnbench.compare\""));
	assert_non_null(strstr(x, "<testcase classname=\"attnbench.compare.blocked\" name=\"prefill b1 h4/2 d16 "
	                          "seq256 cache256 causal f32\"><failure message=\""));
	assert_non_null(strstr(x, "<testcase classname=\"attnbench.compare.naive\""));
	assert_null(strstr(x, "attnbench.compare.blas")); /* only in baseline: no testcase */
	assert_non_null(strstr(x, "</testsuites>"));
	free(x);
	snprintf(partial, sizeof partial, "%s.partial", junit);
	struct stat st;
	assert_int_not_equal(stat(partial, &st), 0);
	/* an unwritable JUnit path is an error */
	snprintf(junit, sizeof junit, "%s/no/such/dir/compare.xml", dir);
	EXPECT(2, "cannot write", "compare", bd, cd, "--junit", junit);
	tu_rmtree(dir);
}

/* ---- A/B mode ---------------------------------------------------------------------------- */

/* compare --ab: the rows of NAME@base against those of NAME@cand in one run
 * (untagged rows ignored): identical builds pass, a 10% slowdown is flagged
 * (the rows are constructed: no timing), --tags picks other tags. */
static void test_ab_within_one_run(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), same[600], slow[600];
	subdir(dir, "same", same, sizeof same);
	subdir(dir, "slow", slow, sizeof slow);
	const rspec aa[] = {
	    {"naive@base", "prefill", 128, "ok", 10, 2e6, 0.01}, {"naive@cand", "prefill", 128, "ok", 10, 2e6, 0.01},
	    {"naive@base", "decode", 64, "ok", 10, 3e5, 0.01},   {"naive@cand", "decode", 64, "ok", 10, 3e5, 0.01},
	    {"blocked", "decode", 64, "ok", 10, 9e5, 0.01},
	};
	write_run(same, aa, 5);
	EXPECT(0, "compare: 0 regressions, 0 improvements, 2 same, 0 noisy", "compare", "--ab", same);
	EXPECT(0, "A/B: NAME@base (baseline) against NAME@cand (current)", "compare", "--ab", same);
	EXPECT(0, "naive      decode", "compare", "--ab", same); /* matched under the untagged name */
	const rspec ab[] = {
	    {"naive@old", "prefill", 128, "ok", 10, 2e6, 0.01},
	    {"naive@new", "prefill", 128, "ok", 10, 2.2e6, 0.01},
	    {"naive@old", "decode", 64, "ok", 10, 3e5, 0.01},
	    {"naive@new", "decode", 64, "ok", 10, 3e5, 0.01},
	};
	write_run(slow, ab, 4);
	EXPECT(1, "compare: 1 regression, 0 improvements, 1 same", "compare", "--ab", slow, "--tags", "old,new",
	       "--max-slowdown", "1.05");
	EXPECT(1, "1.100", "compare", "--ab", slow, "--tags", "old,new", "--max-slowdown", "1.05");
	/* the other way round it is an improvement */
	EXPECT(0, "0 regressions, 1 improvement", "compare", "--ab", slow, "--tags", "new,old", "--max-slowdown",
	       "1.05");
	/* usage and input errors: exit 2 */
	EXPECT(2, "no rows of a backend tagged @base", "compare", "--ab", slow);
	EXPECT(2, "--ab takes one run", "compare", "--ab", slow, same);
	EXPECT(2, "needs exactly two runs, BASELINE and CURRENT (got 1), or --ab and one run", "compare", slow);
	EXPECT(2, "--tags: 'old' is not two different tags", "compare", "--ab", slow, "--tags", "old");
	EXPECT(2, "--tags: 'old,old' is not two different tags", "compare", "--ab", slow, "--tags", "old,old");
	tu_rmtree(dir);
}

/* --backend-lib TAG=PATH: two copies of one library (and one file under
 * two tags) load as NAME@TAG side by side; a bad tag is an input error;
 * the slow test backend refuses a bad fraction. */
static void test_ab_tagged_libraries(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), a[700], b[700], base[800], cand[800];
	snprintf(a, sizeof a, "%s/a.so", dir);
	snprintf(b, sizeof b, "%s/b.so", dir);
	tu_copy_built("plugins/slow.so", (const char *const[]){a, b}, 2);
	snprintf(base, sizeof base, "base=%s", a);
	snprintf(cand, sizeof cand, "cand=%s", b);
	EXPECT(0, "slow@base  ok", "list", "--backend-lib", base, "--backend-lib", cand);
	EXPECT(0, "slow@cand  ok", "list", "--backend-lib", base, "--backend-lib", cand);
	snprintf(cand, sizeof cand, "cand=%s", a);
	EXPECT(0, "slow@cand  ok", "list", "--backend-lib", base, "--backend-lib", cand);
	EXPECT(2, "the tag before '=' must be", "list", "--backend-lib", "Bad!=x.so");
	EXPECT(2, "no library path after 'base='", "list", "--backend-lib", "base=");
	EXPECT(2, "backend name 'slow@base' is already taken", "list", "--backend-lib", base, "--backend-lib",
	       strcat(strcpy(cand, "base="), b));
	EXPECT(2, "fraction=-1: expected a number in 0..10", "check", "--backend-lib", base, "--backend", "slow@base",
	       "--param", "slow@base:fraction=-1");
	tu_rmtree(dir);
}

/* compare --ab judges a point on its repetition pairs (repetition i of
 * each build, measured side by side): a 5% slowdown under a drift of 36%
 * across the repetitions, which both builds saw, is flagged, though the
 * two sides' repetitions overlap (the unpaired test sees noise); an equal
 * pair whose ratios scatter +-3% around 1 is the same. Where the builds'
 * repetition counts differ there are no pairs: Mann-Whitney, said so. */
static void test_ab_paired(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), run[600], odd[600];
	subdir(dir, "run", run, sizeof run);
	subdir(dir, "odd", odd, sizeof odd);
	char bt[3][512] = {"", "", ""}, ct[3][512] = {"", "", ""};
	for (int i = 0, nb[3] = {0}, nc[3] = {0}; i < 10; i++) {
		const double drift = 1e6 * (1 + 0.04 * i);
		const double jitter = i % 2 ? 0.97 : 1.03;
		for (int k = 0; k < 3; k++)
			nb[k] += snprintf(bt[k] + nb[k], sizeof bt[k] - (size_t)nb[k], "%s%.1f", i ? " " : "", drift);
		nc[0] += snprintf(ct[0] + nc[0], sizeof ct[0] - (size_t)nc[0], "%s%.1f", i ? " " : "", drift * 1.05);
		nc[1] += snprintf(ct[1] + nc[1], sizeof ct[1] - (size_t)nc[1], "%s%.1f", i ? " " : "", drift * jitter);
		if (i < 9) /* one repetition fewer: no pairs */
			nc[2] += snprintf(ct[2] + nc[2], sizeof ct[2] - (size_t)nc[2], "%s%.1f", i ? " " : "", drift);
	}
	const rspec rows[] = {
	    {"naive@base", "prefill", 128, "ok", 10, 1.18e6, 0.2},
	    {"naive@cand", "prefill", 128, "ok", 10, 1.239e6, 0.2},
	    {"naive@base", "decode", 64, "ok", 10, 1.18e6, 0.2},
	    {"naive@cand", "decode", 64, "ok", 10, 1.18e6, 0.2},
	};
	const char *const times[] = {bt[0], ct[0], bt[1], ct[1]};
	write_run_times(run, rows, 4, NULL, -1, NULL, NULL, times);
	char *o = NULL, *e = NULL;
	int rc = tu_run(&o, &e, "compare", "--ab", run, "--max-slowdown", "1.01", "--alpha", "0.01", (char *)NULL);
	if (rc != 1)
		fail_msg("exit %d (want 1); stdout: %s stderr: %s", rc, o, e);
	assert_non_null(strstr(o, "compare: 1 regression, 0 improvements, 1 same, 0 noisy"));
	assert_non_null(strstr(o, "1.050"));
	assert_non_null(strstr(o, "2 points judged by a Wilcoxon signed-rank test on the log ratios"));
	free(o);
	free(e);
	/* at alpha 0.0005 ten pairs cannot reach significance by ranks (one-sided,
	 * 1 / 2^10 = 0.00098): the paired t test, said so; the 5% still stands out */
	EXPECT(1,
	       "2 points judged by a paired t test on the log ratios of the repetition pairs, one-sided against the "
	       "margin: too few pairs for the signed-rank test to reach alpha 0.0005 (it needs 11)",
	       "compare", "--ab", run, "--max-slowdown", "1.01", "--alpha", "0.0005");
	EXPECT(1, "compare: 1 regression, 0 improvements, 1 same", "compare", "--ab", run, "--max-slowdown", "1.01",
	       "--alpha", "0.0005");
	/* the test is against the margin, not against 1: pairs 1.2% to 6.3%
	 * slower (median 3.85%) are all slower, which a test against 1 calls
	 * significant (p = 1/1024); three of the ten are below a 3% margin
	 * (negative ranks 1, 4 and 7: p = 67/1024), so at 3% the point is
	 * beyond the margin but not significantly: noisy, not a regression */
	char margin[600], mb[512] = "", mc[512] = "";
	subdir(dir, "margin", margin, sizeof margin);
	static const double straddle[10] = {1.012, 1.022, 1.027, 1.036, 1.041, 1.046, 1.052, 1.057, 1.063, 1.034};
	for (int i = 0, nb = 0, nc = 0; i < 10; i++) {
		const double t = 1e6 * (1 + 0.04 * i);
		nb += snprintf(mb + nb, sizeof mb - (size_t)nb, "%s%.1f", i ? " " : "", t);
		nc += snprintf(mc + nc, sizeof mc - (size_t)nc, "%s%.1f", i ? " " : "", t * straddle[i]);
	}
	const rspec mrows[] = {
	    {"naive@base", "decode", 64, "ok", 10, 1.18e6, 0.2},
	    {"naive@cand", "decode", 64, "ok", 10, 1.225e6, 0.2},
	};
	const char *const mtimes[] = {mb, mc};
	write_run_times(margin, mrows, 2, NULL, -1, NULL, NULL, mtimes);
	EXPECT(1, "compare: 1 regression", "compare", "--ab", margin, "--max-slowdown", "1.01", "--alpha", "0.01");
	EXPECT(0, "compare: 0 regressions, 0 improvements, 0 same, 1 noisy", "compare", "--ab", margin,
	       "--max-slowdown", "1.03", "--alpha", "0.01");
	EXPECT(0, "0.0654", "compare", "--ab", margin, "--max-slowdown", "1.03", "--alpha", "0.01");
	const rspec uneven[] = {
	    {"naive@base", "decode", 64, "ok", 10, 1.18e6, 0.2},
	    {"naive@cand", "decode", 64, "ok", 9, 1.16e6, 0.2},
	};
	const char *const odd_times[] = {bt[2], ct[2]};
	write_run_times(odd, uneven, 2, NULL, -1, NULL, NULL, odd_times);
	EXPECT(0, "1 point has no repetition pairs", "compare", "--ab", odd, "--max-slowdown", "1.01");
	EXPECT(0, "0 regressions", "compare", "--ab", odd, "--max-slowdown", "1.01");
	tu_rmtree(dir);
}

/* Rows that differ only in a variant (here the page size) read apart in
 * compare's table and in its JUnit test names. */
static void test_variant_rows_apart(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), run[600], junit[600];
	snprintf(run, sizeof run, "%s/run", dir);
	snprintf(junit, sizeof junit, "%s/j.xml", dir);
	EXPECT(0, "2 ok", "sweep", "--backend", "naive", "--phases", "decode", "--cache", "32", "--heads", "1",
	       "--head-dim", "16", "--batch", "1", "--page-size", "0,16", "--repetitions", "3", "--min-time", "0.001",
	       "--out", run);
	char *out = NULL;
	assert_int_equal(tu_run(&out, NULL, "compare", run, run, "--junit", junit, (char *)NULL), 0);
	const char *paged = strstr(out, "cache32 causal f32 --page-size 16 ");
	if (!paged || !strstr(out, "cache32 causal f32  "))
		fail_msg("the paged and the contiguous row do not read apart: %s", out);
	free(out);
	char *xml = tu_read(junit, NULL);
	const char *a = strstr(xml, "name=\"decode b1 h1/1 d16 seq1 cache32 causal f32\"");
	const char *b = strstr(xml, "name=\"decode b1 h1/1 d16 seq1 cache32 causal f32 --page-size 16\"");
	if (!a || !b)
		fail_msg("JUnit test names: %s", xml);
	free(xml);
	tu_rmtree(dir);
}

/* The group: the statistics, then the binary end to end. */
int run_compare_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_log_t_known),         cmocka_unit_test(test_across_runs),
	    cmocka_unit_test(test_mwu_known),           cmocka_unit_test(test_mwu_exact_brute),
	    cmocka_unit_test(test_regression_flagged),  cmocka_unit_test(test_noise_not_flagged),
	    cmocka_unit_test(test_identical),           cmocka_unit_test(test_one_side_only),
	    cmocka_unit_test(test_bad_inputs),          cmocka_unit_test(test_junit),
	    cmocka_unit_test(test_duplicate_point),     cmocka_unit_test(test_nothing_in_common),
	    cmocka_unit_test(test_machine_differs),     cmocka_unit_test(test_ab_within_one_run),
	    cmocka_unit_test(test_ab_tagged_libraries), cmocka_unit_test(test_ab_paired),
	    cmocka_unit_test(test_variant_rows_apart),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("compare", tests, NULL, NULL);
}
