/* test_ab.c - A/B mode: two builds of one backend measured side by side
 * (the sweep's order, read from the slow test backend's trace of its
 * calls), the Wilcoxon signed-rank test and the paired t test compare --ab
 * judges their repetition pairs with (compare's A/B verdicts:
 * test_compare.c); the CPU backends built as a backend library for the A/B
 * gate. */
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/stats.h"
#include "run/sweep_point.h"
#include "model/results.h"
#include "testutil.h"

/* The signed-rank p by enumerating every sign pattern of the ranks 1..n
 * (no ties): the fraction whose smaller rank sum is at most the observed
 * one (two-sided), or whose negative rank sum is (greater). Independent of
 * the subset-sum recursion in stats.c. */
static double brute_p(const double *d, int n, int greater)
{
	double wneg = 0;
	for (int i = 0; i < n; i++) {
		int rank = 1;
		for (int j = 0; j < n; j++)
			rank += fabs(d[j]) < fabs(d[i]);
		wneg += d[i] < 0 ? rank : 0;
	}
	const double total = n * (n + 1) / 2.0, w = greater ? wneg : fmin(wneg, total - wneg);
	long hit = 0;
	for (unsigned m = 0; m < (1u << n); m++) {
		double s = 0;
		for (int r = 1; r <= n; r++)
			s += (m >> (r - 1) & 1) ? r : 0;
		hit += (greater ? s : fmin(s, total - s)) <= w;
	}
	return fmin(1, (double)hit / (double)(1u << n));
}

/* got against brute_p on 5 random sign patterns of every n up to 12. */
static void check_brute(double (*got)(const double *, int), int greater, uint64_t s)
{
	for (int n = 1; n <= 12; n++)
		for (int rep = 0; rep < 5; rep++) {
			double x[12] = {0};
			for (int i = 0; i < n; i++) {
				s = s * 6364136223846793005ull + 1442695040888963407ull;
				x[i] = (i + 1) * ((s >> 33) % 3 ? 1.0 : -1.0) * 0.01;
			}
			const double want = brute_p(x, n, greater), p = got(x, n);
			if (fabs(want - p) > 1e-12)
				fail_msg("n %d: exact p %.15g, brute force %.15g (%s)", n, p, want,
				         greater ? "one-sided" : "two-sided");
		}
}

/* The paired t test on log ratios: df 2 has a closed form, p = 1 -
 * t / sqrt(2 + t^2); log ratios 0.1, 0.2, 0.3 give t = 0.2 / (0.1 /
 * sqrt(3)). */
static void test_paired_known(void **state)
{
	(void)state;
	const double a[3] = {100, 250, 40}, b[3] = {100 * exp(0.1), 250 * exp(0.2), 40 * exp(0.3)};
	double ratio;
	const double t = 0.2 / (0.1 / sqrt(3.0)), want = 1 - t / sqrt(2 + t * t);
	const double p = paired_log_t_test_p(a, b, 3, &ratio);
	if (fabs(p - want) > 1e-6)
		fail_msg("p %.9g, want %.9g", p, want);
	assert_true(fabs(ratio - exp(0.2)) < 1e-12);
	assert_true(paired_log_t_test_p(a, a, 3, &ratio) == 1); /* every ratio 1 */
	assert_true(ratio == 1);
	assert_true(isnan(paired_log_t_test_p(a, b, 1, &ratio)));
	const double z[2] = {0, 1};
	assert_true(isnan(paired_log_t_test_p(z, b, 2, &ratio)));
}

/* The Wilcoxon signed-rank test: a value worked by hand (scipy gives the
 * same), brute force over sign patterns, the edges. */
static void test_wilcoxon_known(void **state)
{
	(void)state;
	/* W- = 6; 14 of the 1024 subsets of 1..10 sum to at most 6 */
	const double d[10] = {1, 2, 3, 4, 5, -6, 7, 8, 9, 10};
	assert_true(fabs(wilcoxon_signed_rank_p(d, 10) - 28.0 / 1024) < 1e-15);
	const double up[10] = {.1, .2, .3, .4, .5, .6, .7, .8, .9, 1};
	assert_true(fabs(wilcoxon_signed_rank_p(up, 10) - 2.0 / 1024) < 1e-15); /* its smallest p */
	check_brute(wilcoxon_signed_rank_p, 0, 7);
	const double zero[3] = {0, 0, 0}, tied[6] = {.03, -.03, .03, -.03, .03, .02};
	assert_true(wilcoxon_signed_rank_p(zero, 3) == 1);
	assert_true(isnan(wilcoxon_signed_rank_p(zero, 0)));
	const double pt = wilcoxon_signed_rank_p(tied, 6); /* ties: the normal approximation */
	assert_true(pt > 0.3 && pt <= 1);
}

/* The one-sided test the A/B gate uses (d: log ratios less log margin):
 * hand values, brute force, the direction, the edges. */
static void test_wilcoxon_greater(void **state)
{
	(void)state;
	/* W- = 6: 14 of 1024 sign patterns have a negative rank sum <= 6 */
	const double d[10] = {1, 2, 3, 4, 5, -6, 7, 8, 9, 10};
	assert_true(fabs(wilcoxon_signed_rank_p_greater(d, 10) - 14.0 / 1024) < 1e-15);
	const double up[10] = {.1, .2, .3, .4, .5, .6, .7, .8, .9, 1};
	assert_true(fabs(wilcoxon_signed_rank_p_greater(up, 10) - 1.0 / 1024) < 1e-15); /* its smallest p */
	double down[10];
	for (int i = 0; i < 10; i++)
		down[i] = -up[i];
	assert_true(wilcoxon_signed_rank_p_greater(down, 10) == 1); /* the other direction: no evidence */
	check_brute(wilcoxon_signed_rank_p_greater, 1, 11);
	const double zero[3] = {0, 0, 0};
	assert_true(wilcoxon_signed_rank_p_greater(zero, 3) == 1);
	assert_true(isnan(wilcoxon_signed_rank_p_greater(zero, 0)));
	/* the t test on the same differences: one-sided, and 1 - p the other way */
	const double t5[5] = {.01, .02, .03, .04, .05}, tm[5] = {-.01, -.02, -.03, -.04, -.05};
	const double pg = t_test_p_greater(t5, 5);
	assert_true(pg > 0 && pg < 0.01);
	assert_true(fabs(t_test_p_greater(tm, 5) - (1 - pg)) < 1e-12);
	assert_true(isnan(t_test_p_greater(t5, 1)));
}

/* The trace the slow test backend writes (a letter per timed call, its
 * capital per create) with each run of one letter cut to one, and the
 * creates dropped: the order in which the sweep ran the builds. */
static void trace_order(const char *path, char *buf, size_t len)
{
	char *t = tu_read(path, NULL);
	assert_non_null(t);
	size_t n = 0;
	for (const char *c = t; *c && n + 1 < len; c++)
		if (*c >= 'a' && *c <= 'z' && (n == 0 || buf[n - 1] != *c))
			buf[n++] = *c;
		else if (*c >= 'A' && *c <= 'Z' && n + 1 < len)
			buf[n++] = '|';
	buf[n] = 0;
	free(t);
}

/* A/B: two builds of one backend (slow@base, slow@cand) are measured side
 * by side at each point, their repetitions in turn with the first of each
 * pair alternating (sweep_ab_order), each build's repetitions kept in
 * order; a backend alone keeps its repetitions together. */
static void test_ab_interleaved(void **state)
{
	(void)state;
	/* the order: a rotation, each build first as often as the other */
	int o[3], first[2] = {0, 0};
	for (int rep = 0; rep < 10; rep++) {
		sweep_ab_order(o, 2, rep, 0);
		assert_int_equal(o[0] + o[1], 1);
		first[o[0]]++;
	}
	assert_int_equal(first[0], 5);
	sweep_ab_order(o, 2, 0, 0);
	assert_int_equal(o[0], 0);
	sweep_ab_order(o, 2, 0, 1); /* the next point starts with the other */
	assert_int_equal(o[0], 1);
	sweep_ab_order(o, 3, 1, 0);
	assert_true(o[0] == 1 && o[1] == 2 && o[2] == 0);
	/* two copies of the slow backend, traced */
	char *dir = tu_tmpdir(), a[700], b[700], base[800], cand[800], tr[700], tr1[700], pb[900], pc[900], out[700];
	snprintf(a, sizeof a, "%s/a.so", dir);
	snprintf(b, sizeof b, "%s/b.so", dir);
	tu_copy_built("plugins/slow.so", (const char *const[]){a, b}, 2);
	snprintf(base, sizeof base, "base=%s", a);
	snprintf(cand, sizeof cand, "cand=%s", b);
	snprintf(tr, sizeof tr, "%s/trace", dir);
	snprintf(pb, sizeof pb, "slow@base:trace=%s,mark=b", tr);
	snprintf(pc, sizeof pc, "slow@cand:trace=%s,mark=c", tr);
	snprintf(out, sizeof out, "%s/run", dir);
	char *err = NULL;
	int rc = tu_run(NULL, &err, "sweep", "--backend-lib", base, "--backend-lib", cand, "--backend",
	                "slow@base,slow@cand", "--phases", "decode", "--cache", "16,32", "--cache-state", "hot",
	                "--heads", "1", "--gqa", "1", "--head-dim", "16", "--batch", "1", "--repetitions", "4",
	                "--min-time", "0.001", "--param", pb, "--param", pc, "--out", out, (char *)NULL);
	if (rc != 0)
		fail_msg("sweep: exit %d: %s", rc, err ? err : "");
	assert_non_null(strstr(err, "A/B: the builds of slow@base measured side by side"));
	free(err);
	/* per point: both created (|), each checked once (b, c), an untimed
	 * run of each for the call count (b c), then the pairs b c, c b, b c,
	 * c b at the first point, and c b, b c, ... from the call count on at
	 * the second; consecutive calls of one build are one letter */
	char order[256];
	trace_order(tr, order, sizeof order);
	const char *want = "||" /* the setup notes each build's device */
	                   "||bc"
	                   "bc"
	                   "bccbbccb" /* -> ||bcbcbcbcb */
	                   "||bc"
	                   "cb"
	                   "cbbccbbc";
	char collapsed[64];
	size_t n_c = 0;
	for (const char *c = want; *c; c++)
		if (*c == '|' || n_c == 0 || collapsed[n_c - 1] != *c)
			collapsed[n_c++] = *c;
	collapsed[n_c] = 0;
	want = collapsed;
	if (strcmp(order, want))
		fail_msg("call order %s, want %s", order, want);
	/* both rows have their 4 repetitions; compare --ab pairs them */
	results_file rf;
	attn_err e = {{0}};
	char csv[800];
	snprintf(csv, sizeof csv, "%s/results.csv", out);
	if (results_read(csv, RESULTS_COL(RC_REP_TIMES_NS), &rf, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(rf.nrows, 4);
	for (int i = 0; i < rf.nrows; i++)
		assert_int_equal(rf.rows[i].nrep_times, 4);
	results_file_free(&rf);
	EXPECT(0, "2 points judged by a paired t test", "compare", "--ab", out, "--max-slowdown", "1000");
	/* a backend alone: its repetitions together, as before */
	snprintf(tr1, sizeof tr1, "%s/trace1", dir);
	snprintf(pb, sizeof pb, "slow@base:trace=%s,mark=b", tr1);
	rc = tu_run(NULL, &err, "sweep", "--backend-lib", base, "--backend", "slow@base", "--phases", "decode",
	            "--cache", "16", "--heads", "1", "--gqa", "1", "--head-dim", "16", "--batch", "1", "--repetitions",
	            "4", "--min-time", "0.001", "--param", pb, "--out", out, (char *)NULL);
	if (rc != 0)
		fail_msg("sweep: exit %d: %s", rc, err ? err : "");
	assert_null(strstr(err, "A/B:"));
	free(err);
	trace_order(tr1, order, sizeof order);
	assert_string_equal(order, "||b");
	/* a build that crashes: each build of the point runs again alone, so
	 * that only its row is an error */
	tu_copy_built("plugins/fault.so", (const char *const[]){a, b}, 2);
	rc = tu_run(NULL, &err, "sweep", "--backend-lib", base, "--backend-lib", cand, "--backend",
	            "fault@base,fault@cand", "--phases", "decode", "--cache", "16", "--cache-state", "hot", "--heads",
	            "1", "--gqa", "1", "--head-dim", "16", "--batch", "1", "--repetitions", "2", "--min-time", "0.001",
	            "--param", "fault@cand:mode=segv_decode", "--out", out, (char *)NULL);
	assert_non_null(strstr(err, "measuring each alone"));
	free(err);
	results_file rf2;
	if (results_read(csv, 0, &rf2, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(rf2.nrows, 2);
	for (int i = 0; i < 2; i++) {
		const int is_cand = !strcmp(rf2.rows[i].backend, "fault@cand");
		assert_int_equal(rf2.rows[i].status, is_cand ? RESULT_ERROR : RESULT_OK);
		if (is_cand)
			assert_non_null(strstr(rf2.rows[i].reason, "SIGSEGV"));
	}
	results_file_free(&rf2);
	tu_rmtree(dir);
}

/* The CPU backends as a backend library (make backends-lib), the A/B
 * gate's grid (datasets/sweeps/ab.conf) over two copies of it, and a config's
 * backend list with blanks and a name the registry lacks. */
static void test_cpu_backends_library(void **state)
{
	(void)state;
	char lib[800], base[900], cand[900];
	snprintf(lib, sizeof lib, "%s", tu_built("libattnbench_cpu.so"));
	snprintf(base, sizeof base, "base=%s", lib);
	snprintf(cand, sizeof cand, "cand=%s", lib);
	/* its entry point is all it exports: two builds loaded side by side
	 * keep their own code */
	void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		fail_msg("dlopen %s: %s", lib, dlerror());
	assert_non_null(dlsym(h, "attnbench_backends"));
	assert_null(dlsym(h, "attn_backend_blocked"));
	assert_null(dlsym(h, "cpu_half_table"));
	dlclose(h);
	char *out = NULL;
	int rc = tu_run(&out, NULL, "list", "--backend-lib", base, (char *)NULL);
	assert_int_equal(rc, 0);
	for (const char *const *n = (const char *const[]){"naive@base ", "blocked@base ", "blas@base ", NULL}; *n; n++)
		if (!strstr(out, *n))
			fail_msg("list does not show %s: %s", *n, out);
	free(out);
	/* its blocked passes every golden case */
	EXPECT(0, " 0 failed", "check", "--backend-lib", base, "--backend", "blocked@base");
	/* the gate's grid, cut to one small point, over the library twice */
	char *dir = tu_tmpdir(), res[900], conf[900];
	snprintf(res, sizeof res, "%s/run", dir);
	EXPECT(0, "A/B: the builds of blocked@base measured side by side", "sweep", "--config",
	       "datasets/sweeps/ab.conf", "--backend-lib", base, "--backend-lib", cand, "--head-dim", "16", "--seq",
	       "16", "--cache", "32", "--dtype", "f32", "--repetitions", "2", "--min-time", "0.001", "--out", res);
	EXPECT(0, "A/B: NAME@base (baseline) against NAME@cand", "compare", "--ab", res, "--max-slowdown", "1000");
	/* the backend list of a config: blanks around names are not part of
	 * them; a name the registry lacks is the file's error */
	snprintf(conf, sizeof conf, "%s/two.conf", dir);
	const char two[] = "backends =  naive ,blocked@base \nphases = decode\ncache = 32\nheads = 1\nhead_dim = 16\n"
	                   "repetitions = 1\nmin_time = 0.001\n";
	tu_write(conf, two, strlen(two));
	EXPECT(0, "2 ok", "sweep", "--config", conf, "--backend-lib", base, "--out", res);
	const char bad[] = "backends = naive, nope\n";
	tu_write(conf, bad, strlen(bad));
	char want[1000];
	snprintf(want, sizeof want, "%s: backends: unknown backend 'nope'", conf);
	EXPECT(2, want, "sweep", "--config", conf, "--out", res);
	tu_rmtree(dir);
}

int run_ab_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wilcoxon_known),       cmocka_unit_test(test_wilcoxon_greater),
	    cmocka_unit_test(test_paired_known),         cmocka_unit_test(test_ab_interleaved),
	    cmocka_unit_test(test_cpu_backends_library),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("ab", tests, NULL, NULL);
}
