/* test_isolation.c - the harness survives the backends it tests: a backend
 * that crashes, hangs, writes outside its output, leaves an element
 * unwritten, writes to an input or reads past one (tests/plugins/fault.c,
 * one fault per run through --param fault:mode=...) fails its own rows in
 * check and sweep, and every other backend's rows, the summary line and the
 * JUnit file are still there. Hangs run under --timeout 1: a limit, not a
 * timing assertion. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* A golden directory with two f32 cases of datasets/golden: gqa2 (attend and
 * prefill) and tiny (attend and decode); with f16 the f16_ties case alone. */
static char *golden_of(const char *const *cases, int n);

static char *small_golden(int f16)
{
	static const char *const f32_cases[] = {"gqa2", "tiny"}, *const f16_cases[] = {"f16_ties"};
	return f16 ? golden_of(f16_cases, 1) : golden_of(f32_cases, 2);
}

/* A golden directory with the n cases of datasets/golden named, in order. */
static char *golden_of(const char *const *cases, int n)
{
	char *dir = tu_tmpdir();
	size_t len;
	char *man = tu_read("datasets/golden/manifest.csv", &len);
	assert_non_null(man);
	char *out = calloc(1, len + 1);
	assert_non_null(out);
	const char *eol = strchr(man, '\n');
	memcpy(out, man, (size_t)(eol - man + 1)); /* the header */
	for (int c = 0; c < n; c++) {
		char key[64];
		snprintf(key, sizeof key, "\n%s,", cases[c]);
		const char *row = strstr(man, key) + 1;
		strncat(out, row, (size_t)(strchr(row, '\n') - row + 1));
		static const char *const parts[] = {"q", "k", "v", "out"};
		for (int i = 0; i < 4; i++) {
			char src[256], dst[4200];
			snprintf(src, sizeof src, "datasets/golden/%s_%s.npy", cases[c], parts[i]);
			snprintf(dst, sizeof dst, "%s/%s_%s.npy", dir, cases[c], parts[i]);
			size_t nb;
			char *data = tu_read(src, &nb);
			assert_non_null(data);
			tu_write(dst, data, nb);
			free(data);
		}
	}
	char path[4200];
	snprintf(path, sizeof path, "%s/manifest.csv", dir);
	tu_write(path, out, strlen(out));
	free(out);
	free(man);
	return dir;
}

/* check with naive and the fault backend in mode: exit 1, the fault's rows
 * FAIL with want in their message, naive's rows PASS, the summary line and
 * a JUnit file with both failures. */
static void check_fault(const char *mode, const char *want, int nfail)
{
	char *dir = small_golden(0);
	char param[64], junit[4200];
	snprintf(param, sizeof param, "fault:mode=%s", mode);
	snprintf(junit, sizeof junit, "%s/junit.xml", dir);
	char *out = NULL, *err = NULL;
	const int rc =
	    tu_run(&out, &err, "check", "--golden", dir, "--backend-lib", tu_built("plugins/fault.so"), "--backend",
	           "naive,fault", "--param", param, "--timeout", "1", "--junit", junit, (char *)NULL);
	const char *reason = want + strlen("FAIL: "); /* the JUnit message */
	if (rc != 1 || !strstr(out, want))
		fail_msg("mode %s: exit %d (want 1), no '%s' in:\n%s\nstderr: %.600s", mode, rc, want, out, err);
	char summary[128];
	snprintf(summary, sizeof summary, "check: %d passed, %d failed, 0 skipped (2 cases x 2 backends", 4 - nfail,
	         nfail);
	if (!strstr(out, summary))
		fail_msg("mode %s: no '%s' in:\n%s", mode, summary, out);
	assert_non_null(strstr(out, "gqa2                     naive"));
	char *x = tu_read(junit, NULL);
	assert_non_null(x);
	char failures[64];
	snprintf(failures, sizeof failures, "failures=\"%d\"", nfail);
	if (!strstr(x, failures) || !strstr(x, reason))
		fail_msg("mode %s: JUnit lacks %s or '%s':\n%.1200s", mode, failures, reason, x);
	free(x);
	free(out);
	free(err);
	tu_rmtree(dir);
}

static void test_check_behaving(void **state)
{
	(void)state;
	char *dir = small_golden(0);
	EXPECT(0, "check: 4 passed, 0 failed", "check", "--golden", dir, "--backend-lib", tu_built("plugins/fault.so"),
	       "--backend", "naive,fault", "--param", "fault:mode=none");
	tu_rmtree(dir);
}

static int count_of(const char *s, const char *what)
{
	int n = 0;
	for (const char *p = s; (p = strstr(p, what)) != NULL; p += strlen(what))
		n++;
	return n;
}

/* One instance per backend serves every case: the probe's and its worker's,
 * each destroyed once, for two cases; and after a crash the next case gets a
 * fresh worker (segv_decode crashes tiny's decode; gqa2, after it, passes). */
static void test_check_one_worker(void **state)
{
	(void)state;
	char *dir = small_golden(0), *out = NULL, *err = NULL;
	int rc = tu_run(&out, &err, "check", "--golden", dir, "--backend-lib", tu_built("plugins/fault.so"),
	                "--backend", "naive,fault", "--param", "fault:mode=count", (char *)NULL);
	if (rc != 0 || count_of(err, "fault: create") != 2 || count_of(err, "fault: destroy") != 2)
		fail_msg("exit %d (want 0), want 2 creates and 2 destroys; stdout:\n%s\nstderr:\n%s", rc, out, err);
	free(out);
	free(err);
	tu_rmtree(dir);
	static const char *const crash_first[] = {"tiny", "gqa2"};
	dir = golden_of(crash_first, 2);
	rc = tu_run(&out, &err, "check", "--golden", dir, "--backend-lib", tu_built("plugins/fault.so"), "--backend",
	            "fault", "--param", "fault:mode=segv_decode", (char *)NULL);
	if (rc != 1 || !strstr(out, "FAIL: crashed (SIGSEGV in decode)") ||
	    !strstr(out, "check: 1 passed, 1 failed, 0 skipped") || !strstr(out, "FAILED: tiny/fault\n"))
		fail_msg("crash, then a fresh worker: exit %d (want 1); stdout:\n%s\nstderr:\n%s", rc, out, err);
	free(out);
	free(err);
	tu_rmtree(dir);
}

static void test_check_past1(void **state)
{
	(void)state;
	check_fault("past1", "FAIL: attend: wrote out[n+0], past its end", 2);
}

static void test_check_past64(void **state)
{
	(void)state;
	check_fault("past64", "FAIL: attend: wrote out[n+63], past its end", 2);
}

static void test_check_before(void **state)
{
	(void)state;
	check_fault("before", "FAIL: attend: wrote out[-1], before its start", 2);
}

static void test_check_unwritten(void **state)
{
	(void)state;
	check_fault("unwritten", "FAIL: attend: left 1 of 10240 elements of out unwritten, the first out[10239]", 2);
}

static void test_check_write_q(void **state)
{
	(void)state;
	check_fault("write_q", "FAIL: crashed (SIGSEGV in attend: wrote to q)", 2);
}

static void test_check_read_k(void **state)
{
	(void)state;
	check_fault("read_k", "FAIL: crashed (SIGSEGV in attend: read past the end of k)", 2);
}

static void test_check_segv(void **state)
{
	(void)state;
	check_fault("segv", "FAIL: crashed (SIGSEGV in attend)", 2);
}

static void test_check_segv_decode(void **state)
{
	(void)state;
	check_fault("segv_decode", "FAIL: crashed (SIGSEGV in decode)", 1);
}

static void test_check_hang(void **state)
{
	(void)state;
	check_fault("hang", "FAIL: timed out after 1 s (in attend)", 2);
}

static void test_check_abort(void **state)
{
	(void)state;
	check_fault("abort", "FAIL: crashed (SIGABRT in attend)", 2);
}

/* Every pair skipped: nothing was checked, which is not a pass. */
static void test_check_nothing_ran(void **state)
{
	(void)state;
	char *dir = small_golden(1);
	EXPECT(1, "check: no (case, backend) pair ran", "check", "--golden", dir, "--backend-lib",
	       tu_built("plugins/fault.so"), "--backend", "fault");
	tu_rmtree(dir);
}

static void test_timeout_option(void **state)
{
	(void)state;
	EXPECT(2, "--timeout: 'soon' is not a number of seconds", "check", "--golden", "datasets/golden", "--timeout",
	       "soon");
	EXPECT(2, "--timeout: '0' is not a number of seconds", "sweep", "--timeout", "0");
}

#define SWEEP_GRID                                                                                                     \
	"--seq", "32", "--cache", "64", "--heads", "2", "--gqa", "1", "--head-dim", "16", "--batch", "1",              \
	    "--repetitions", "2", "--min-time", "0.001", "--phases", "prefill,decode,attend", "--timeout", "3"

/* sweep with the fault backend in mode (3 s per point: a 1 s limit cut
 * ok rows short on a loaded machine under the sanitizers): exit 0, naive's three rows ok, the
 * fault backend's row of phase an error with want, its other rows ok; and,
 * with resume, --resume runs that pair again and keeps the rest. */
static void sweep_fault_run(const char *mode, const char *phase, const char *want, int resume_too)
{
	char *dir = tu_tmpdir();
	char param[64], path[4200], line[256];
	snprintf(param, sizeof param, "fault:mode=%s", mode);
	snprintf(path, sizeof path, "%s/results.csv", dir);
	snprintf(line, sizeof line, "fault,cpu,%s,", phase);
	for (int resume = 0; resume < 1 + resume_too; resume++) {
		char *err = NULL;
		const int rc = resume ? tu_run(NULL, &err, "sweep", SWEEP_GRID, "--out", dir, "--backend-lib",
		                               tu_built("plugins/fault.so"), "--backend", "naive,fault", "--param",
		                               param, "--resume", (char *)NULL)
		                      : tu_run(NULL, &err, "sweep", SWEEP_GRID, "--out", dir, "--backend-lib",
		                               tu_built("plugins/fault.so"), "--backend", "naive,fault", "--param",
		                               param, (char *)NULL);
		if (rc != 0)
			fail_msg("mode %s (resume %d): exit %d; stderr: %.800s", mode, resume, rc, err);
		free(err);
		char *csv = tu_read(path, NULL);
		assert_non_null(csv);
		int ok = 0, errors = 0;
		for (char *l = strtok(strchr(csv, '\n'), "\n"); l; l = strtok(NULL, "\n")) {
			if (strstr(l, ",ok,"))
				ok++;
			else if (!strncmp(l, line, strlen(line)) && strstr(l, want))
				errors++;
		}
		if (ok != 5 || errors != 1)
			fail_msg("mode %s (resume %d): %d ok rows (want 5), %d '%s' rows (want 1):\n%s", mode, resume,
			         ok, errors, want, csv);
		free(csv);
	}
	tu_rmtree(dir);
}

static void sweep_fault(const char *mode, const char *phase, const char *want)
{
	sweep_fault_run(mode, phase, want, 1);
}

/* The faults the guarded call before the timed ones finds (one sweep each). */
static void test_sweep_past1(void **state)
{
	(void)state;
	sweep_fault_run("past1", "attend", "error: attend: wrote out[n+0], past its end (n = 1024)", 0);
}

static void test_sweep_past64(void **state)
{
	(void)state;
	sweep_fault_run("past64", "attend", "error: attend: wrote out[n+63], past its end (n = 1024)", 0);
}

static void test_sweep_before(void **state)
{
	(void)state;
	sweep_fault_run("before", "attend", "error: attend: wrote out[-1], before its start", 0);
}

static void test_sweep_unwritten(void **state)
{
	(void)state;
	sweep_fault_run("unwritten", "attend",
	                "error: attend: left 1 of 1024 elements of out unwritten, the first out[1023]", 0);
}

static void test_sweep_write_q(void **state)
{
	(void)state;
	sweep_fault_run("write_q", "attend", "error: crashed (SIGSEGV in attend: wrote to q)", 0);
}

static void test_sweep_read_k(void **state)
{
	(void)state;
	sweep_fault_run("read_k", "attend", "error: crashed (SIGSEGV in attend: read past the end of k)", 0);
}

static void test_sweep_segv(void **state)
{
	(void)state;
	sweep_fault("segv", "attend", "error: crashed (SIGSEGV in attend)");
}

static void test_sweep_segv_decode(void **state)
{
	(void)state;
	sweep_fault("segv_decode", "decode", "error: crashed (SIGSEGV in decode)");
}

static void test_sweep_hang(void **state)
{
	(void)state;
	sweep_fault("hang", "attend", "error: timed out after 3 s (in attend)");
}

static void test_sweep_abort(void **state)
{
	(void)state;
	sweep_fault("abort", "attend", "error: crashed (SIGABRT in attend)");
}

int run_isolation_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_check_behaving),    cmocka_unit_test(test_check_one_worker),
	    cmocka_unit_test(test_check_past1),       cmocka_unit_test(test_check_past64),
	    cmocka_unit_test(test_check_before),      cmocka_unit_test(test_check_unwritten),
	    cmocka_unit_test(test_check_write_q),     cmocka_unit_test(test_check_read_k),
	    cmocka_unit_test(test_check_segv),        cmocka_unit_test(test_check_segv_decode),
	    cmocka_unit_test(test_check_hang),        cmocka_unit_test(test_check_abort),
	    cmocka_unit_test(test_check_nothing_ran), cmocka_unit_test(test_timeout_option),
	    cmocka_unit_test(test_sweep_segv),        cmocka_unit_test(test_sweep_segv_decode),
	    cmocka_unit_test(test_sweep_hang),        cmocka_unit_test(test_sweep_abort),
	    cmocka_unit_test(test_sweep_past1),       cmocka_unit_test(test_sweep_past64),
	    cmocka_unit_test(test_sweep_before),      cmocka_unit_test(test_sweep_unwritten),
	    cmocka_unit_test(test_sweep_write_q),     cmocka_unit_test(test_sweep_read_k),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("isolation", tests, NULL, NULL);
}
