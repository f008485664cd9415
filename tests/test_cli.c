/* test_cli.c - the attnbench binary as a user and their CI see it: exit
 * codes, messages naming the file and field, JUnit output, and a sweep whose
 * results.csv has every contract column. Each run is a separate process (the
 * sanitized binary under `make test`); dying of a signal fails the test. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/table.h"
#include "testutil.h"

static void test_usage(void **state)
{
	(void)state;
	char *err = NULL;
	assert_int_equal(tu_run(NULL, &err, (char *)NULL), 2);
	assert_non_null(strstr(err, "a command is required"));
	free(err);
	EXPECT(2, "unknown command ''", "");
	EXPECT(2, "unknown command 'frobnicate'", "frobnicate");
	EXPECT(2, "unknown option '--bogus'", "check", "--bogus");
	EXPECT(2, "not both", "check", "--golden", "datasets/golden", "--random",
	       "3"); /* neither: the installed goldens */
	EXPECT(2, "needs a value", "check", "--golden");
	EXPECT(2, "--threads", "check", "--golden", "datasets/golden", "--threads", "zero");
	EXPECT(2, "does not apply", "check", "--golden", "datasets/golden", "--seq", "5");
	EXPECT(2, "unknown backend 'nope'", "check", "--golden", "datasets/golden", "--backend", "nope");
	EXPECT(2, "--seq", "sweep", "--seq", "1,,2");
	EXPECT(2, "--vk-timing", "sweep", "--vk-timing", "cpu");
	EXPECT(0, "usage", "--help");
	EXPECT(0, "naive", "list");
	/* every built-in CPU backend claims the ABI 3 variants, storage types and pages */
	EXPECT(0,
	       "caps: "
	       "causal,gqa,kv_cache,f16,bf16,window,softcap,alibi,sinks,head_dim_v,kv_dtype,q8_0,q4_0,fp8_e4m3,ragged,"
	       "paged",
	       "list");
}

/* Occurrences of needle in hay. */
static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* Each command answers --help (and `help CMD`) with its own options on
 * stdout and exit 0; the shared options read the same everywhere. */
static void test_help(void **state)
{
	(void)state;
	const char *const cmds[] = {"list", "check", "sweep", "bench", "roofline", "report", "compare", "plan"};
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		char *o1 = NULL, *o2 = NULL, want[64];
		assert_int_equal(tu_run(&o1, NULL, cmds[i], "--help", (char *)NULL), 0);
		assert_int_equal(tu_run(&o2, NULL, "help", cmds[i], (char *)NULL), 0);
		snprintf(want, sizeof want, "usage: attnbench %s", cmds[i]);
		if (!o1 || !strstr(o1, want))
			fail_msg("%s --help: no '%s' in: %.300s", cmds[i], want, o1 ? o1 : "");
		assert_string_equal(o1, o2);
		free(o1);
		free(o2);
	}
	char *o = NULL;
	assert_int_equal(tu_run(&o, NULL, "help", (char *)NULL), 0);
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		char line[32];
		snprintf(line, sizeof line, "  %s ", cmds[i]);
		assert_non_null(strstr(o, line));
	}
	free(o);
	/* a command lists its own options, not another's */
	assert_int_equal(tu_run(&o, NULL, "check", "--help", (char *)NULL), 0);
	assert_non_null(strstr(o, "--golden DIR"));
	assert_non_null(strstr(o, "--max-mem SIZE"));
	assert_null(strstr(o, "--seq"));
	free(o);
	assert_int_equal(tu_run(&o, NULL, "sweep", "--help", (char *)NULL), 0);
	assert_non_null(strstr(o, "--head-dim L"));
	assert_non_null(strstr(o, "--resume"));
	assert_non_null(strstr(o, "(1..1000)")); /* --repetitions, from SWEEP_MAX_REPS */
	assert_null(strstr(o, "--golden"));
	free(o);
	assert_int_equal(tu_run(&o, NULL, "bench", "--help", (char *)NULL), 0);
	assert_non_null(strstr(o, "--benchmark_"));
	assert_null(strstr(o, "--resume"));
	free(o);
	assert_int_equal(tu_run(&o, NULL, "list", "--help", (char *)NULL), 0);
	assert_non_null(strstr(o, "--backend-lib PATH"));
	assert_null(strstr(o, "--threads"));
	free(o);
	/* report, compare and plan: their positional arguments and options,
	 * each with its help, in the same format as every other command */
	const struct {
		const char *cmd, *want[6];
	} own[] = {
	    {"report",
	     {"\narguments:\n  RUN_DIR ", "  --out DIR ", "  --format png|svg|both ", "  --prompts L ", "  --gen L ",
	      "1 gnuplot or writing failed"}},
	    {"compare",
	     {"\narguments:\n  BASELINE ", "  CURRENT ", "  --max-slowdown R ", "  --alpha A ", "  --junit FILE ",
	      "1 a regression"}},
	    {"plan",
	     {"  --model NAME ", "  --layers L ", "  --mem SIZE ", "  --reserve FRACTION|PERCENT% ",
	      "  --results RUN_DIR ", "SIZE: bytes"}},
	};
	for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
		assert_int_equal(tu_run(&o, NULL, own[i].cmd, "--help", (char *)NULL), 0);
		const char *const all[] = {"\noptions:\n", "  --help ", "\nExit codes: 0 done, "};
		for (size_t j = 0; j < 9; j++) {
			const char *w = j < 6 ? own[i].want[j] : all[j - 6];
			if (!strstr(o, w))
				fail_msg("%s --help: no '%s' in: %.2000s", own[i].cmd, w, o);
		}
		free(o);
	}
	/* a usage error, an unknown option or a wrong count of positional
	 * arguments: exit 2, the message and the usage on stderr */
	const char *const bad[][4] = {
	    {"report", "--bogus", "dir", "unknown option '--bogus'"},
	    {"report", NULL, NULL, "needs at least one RUN_DIR"},
	    {"compare", "--bogus", "a", "unknown option '--bogus'"},
	    {"compare", "a", NULL, "needs exactly two runs, BASELINE and CURRENT (got 1)"},
	    {"plan", "--bogus", NULL, "unknown option '--bogus'"},
	    {"plan", "x", NULL, "unexpected argument 'x'"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *e = NULL, want[64];
		o = NULL;
		assert_int_equal(tu_run(&o, &e, bad[i][0], bad[i][1], bad[i][2], (char *)NULL), 2);
		snprintf(want, sizeof want, "usage: attnbench %s ", bad[i][0]);
		if (!e || !strstr(e, bad[i][3]) || !strstr(e, want) || !strstr(e, "\noptions:\n"))
			fail_msg("%s %s: wanted '%s' and the usage on stderr: %.2000s", bad[i][0],
			         bad[i][1] ? bad[i][1] : "", bad[i][3], e ? e : "");
		assert_true(!o || !*o);
		free(o);
		free(e);
	}
	/* one text for one option, whichever command rejects it */
	const char *const threads[] = {"check", "sweep", "bench", "roofline"};
	for (size_t i = 0; i < sizeof threads / sizeof threads[0]; i++)
		EXPECT(2, "--threads: 'zero' is not an integer in 1..1024", threads[i], "--threads", "zero");
	EXPECT(2, "unknown command 'swep'; did you mean 'sweep'?", "swep");
	EXPECT(2, "unknown command 'nope'", "help", "nope");
	EXPECT(2, "option '--golden' does not apply to sweep (check takes it)", "sweep", "--golden", "x");
	EXPECT(2, "option '--threads' does not apply to list (check, sweep, bench, roofline take it)", "list",
	       "--threads", "2");
	EXPECT(2, "unexpected argument 'x'", "list", "x");
	EXPECT(2, "option '--resume' takes no value", "sweep", "--resume=1");
	/* a grid option is checked at once, by the config's own rule */
	EXPECT(2, "--repetitions: key 'repetitions': '1001' is not an integer in 1..1000", "sweep", "--repetitions",
	       "1001");
	EXPECT(2, "--min-time: key 'min_time': '0' is not seconds in (0, 3600]", "bench", "--min-time", "0");
	EXPECT(2, "--head-dim: key 'head_dim': 577 is outside 1..576", "bench", "--head-dim", "577");
}

/* Every command's help ends with at least one realistic command line of
 * that command, after a comment line; --version has no trailing blanks; a
 * misspelled option is answered with the closest one the command has. */
static void test_help_examples(void **state)
{
	(void)state;
	const char *const cmds[] = {"list", "check", "sweep", "bench", "roofline", "report", "compare", "plan"};
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		char *o = NULL, want[64];
		assert_int_equal(tu_run(&o, NULL, "help", cmds[i], (char *)NULL), 0);
		snprintf(want, sizeof want, "\n  attnbench %s", cmds[i]);
		const char *ex = o ? strstr(o, "\nexamples:\n  # ") : NULL;
		if (!ex || !strstr(ex, want))
			fail_msg("help %s: no 'examples:' with a comment and '%s' in: %.3000s", cmds[i], want + 1,
			         o ? o : "");
		free(o);
	}
	char *v = NULL;
	assert_int_equal(tu_run(&v, NULL, "--version", (char *)NULL), 0);
	assert_non_null(strstr(v, "flags "));
	for (const char *l = v; *l; l++)
		if ((*l == ' ' || *l == '\t') && (l[1] == '\n' || !l[1]))
			fail_msg("--version: a line ends in a blank: '%s'", v);
	free(v);
	EXPECT(2, "unknown option '--seqs'; did you mean '--seq'?", "sweep", "--seqs", "4");
	EXPECT(2, "unknown option '--seqs=4'; did you mean '--seq'?", "bench", "--seqs=4");
	EXPECT(2, "did you mean '--golden'?", "check", "--goldne", "x");
	EXPECT(2, "did you mean '--max-slowdown'?", "compare", "--max-slowdwn", "2", "a", "b");
	/* the guess alone, not buried under the whole usage */
	char *g = NULL;
	assert_int_equal(tu_run(NULL, &g, "sweep", "--seqs", "4", (char *)NULL), 2);
	assert_null(strstr(g, "usage:"));
	assert_non_null(strstr(g, "'attnbench sweep --help' lists every option"));
	free(g);
	/* nothing close: no guess */
	char *e = NULL;
	assert_int_equal(tu_run(NULL, &e, "sweep", "--frobnicate", (char *)NULL), 2);
	assert_non_null(strstr(e, "unknown option '--frobnicate'"));
	assert_null(strstr(e, "did you mean"));
	free(e);
}

/* bench: one Google Benchmark family per backend and point but the length
 * it varies; a dtype is a family of its own, with its own name and fit. */
static void test_bench_families(void **state)
{
	(void)state;
	char *out = NULL, *err = NULL;
	const int rc = tu_run(&out, &err, "bench", "--backend", "naive", "--phases", "prefill,decode", "--seq", "16,32",
	                      "--cache", "16,32", "--heads", "2", "--gqa", "1", "--head-dim", "8", "--batch", "1",
	                      "--dtype", "f32,f16", "--repetitions", "1", "--min-time", "0.001", (char *)NULL);
	if (rc != 0 || !out)
		fail_msg("bench: exit %d; stderr: %.800s", rc, err ? err : "");
	const char *const names[] = {"prefill/naive/b1_h2_kv2_d8_f32/16/", "prefill/naive/b1_h2_kv2_d8_f32/32/",
	                             "prefill/naive/b1_h2_kv2_d8_f16/16/", "prefill/naive/b1_h2_kv2_d8_f16/32/",
	                             "decode/naive/b1_h2_kv2_d8_f32/16/",  "decode/naive/b1_h2_kv2_d8_f16/32/"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (count(out, names[i]) != 1)
			fail_msg("bench: '%s' %d times in: %.2000s", names[i], count(out, names[i]), out);
	/* one BigO fit per family: 2 phases x 2 dtypes */
	if (count(out, "_BigO") != 4)
		fail_msg("bench: %d BigO fits, want 4: %.2000s", count(out, "_BigO"), out);
	free(out);
	free(err);
}

/* Copy the goldens, apply one edit, expect exit 2 naming what. */
static void bad_dataset(const char *file, const char *content, size_t len, const char *needle)
{
	char *dir = tu_tmpdir(), p[512];
	tu_copy_dir("datasets/golden", dir);
	snprintf(p, sizeof p, "%s/%s", dir, file);
	if (content)
		tu_write(p, content, len);
	else
		remove(p);
	EXPECT(2, needle, "check", "--golden", dir, "--backend", "naive");
	EXPECT(2, file, "check", "--golden", dir, "--backend", "naive");
	tu_rmtree(dir);
}

/* The manifest with one cell of one case replaced. */
static char *edited_manifest(const char *col, const char *value)
{
	size_t len;
	char *m = tu_read("datasets/golden/manifest.csv", &len);
	assert_non_null(m);
	table t;
	attn_err e = {{0}};
	assert_int_equal(table_parse("m", m, len, &t, &e), 0);
	free(m);
	int c = table_col(&t, col);
	assert_true(c >= 0);
	char *out = malloc(1 << 16);
	size_t n = 0;
	for (int r = -1; r < t.nrows; r++) {
		char **row = r < 0 ? t.header : t.rows[r];
		for (int i = 0; i < t.ncols; i++)
			n += (size_t)snprintf(out + n, (1 << 16) - n, "%s%s", i ? "," : "",
			                      (r == 2 && i == c) ? value : row[i]);
		n += (size_t)snprintf(out + n, (1 << 16) - n, "\n");
	}
	table_free(&t);
	return out;
}

static void bad_cell(const char *col, const char *value, const char *needle)
{
	char *m = edited_manifest(col, value);
	bad_dataset("manifest.csv", m, strlen(m), needle);
	free(m);
}

static void test_bad_inputs(void **state)
{
	(void)state;
	/* manifest fields */
	bad_cell("n_heads", "abc", "n_heads");
	bad_cell("n_kv_heads", "3", "n_kv_heads");
	bad_cell("head_dim", "0", "head_dim");
	bad_cell("causal", "yes", "causal");
	bad_cell("n_q", "100000", "n_q");
	bad_cell("q", "../../etc/passwd", "leaves the dataset directory");
	bad_cell("q", "missing.npy", "missing.npy");
	bad_cell("n_kv", "1099511627776", "n_kv");
	/* array files: missing, truncated, wrong dtype, wrong shape */
	bad_dataset("gqa4_k.npy", NULL, 0, "gqa4_k.npy");
	size_t len;
	char *buf = tu_read("datasets/golden/gqa4_v.npy", &len);
	bad_dataset("gqa4_v.npy", buf, len - 100, "truncated");
	free(buf);
	buf = tu_read("datasets/golden/mqa_q.npy", &len);
	char *d = memmem(buf, len, "<f4", 3);
	assert_non_null(d);
	d[1] = 'i';
	bad_dataset("mqa_q.npy", buf, len, "descr");
	free(buf);
	/* a valid .npy (half the data bytes) in half precision: fine as an
	 * input, but a reference must be <f4 or <f8 */
	buf = tu_read("datasets/golden/mqa_out.npy", &len);
	d = memmem(buf, len, "<f8", 3);
	assert_non_null(d);
	d[2] = '2';
	const size_t hdr = 10 + ((size_t)(unsigned char)buf[8] | (size_t)(unsigned char)buf[9] << 8);
	bad_dataset("mqa_out.npy", buf, hdr + (len - hdr) / 4, "not a reference dtype");
	free(buf);
	/* shape mismatch: the manifest's n_q differs from the file's */
	bad_cell("n_q", "3", "shape");
	bad_dataset("manifest.csv", "", 0, "empty");
	EXPECT(2, "/nonexistent/manifest.csv", "check", "--golden", "/nonexistent");
}

static void test_check_pass_fail_junit(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), junit[512];
	snprintf(junit, sizeof junit, "%s/junit.xml", dir);
	EXPECT(0, "0 failed", "check", "--golden", "datasets/golden", "--backend", "naive,blocked,blas", "--junit",
	       junit);
	char *x = tu_read(junit, NULL);
	assert_non_null(x);
	assert_non_null(strstr(x, "<testsuite name=\"attnbench.check\""));
	assert_non_null(strstr(x, "classname=\"attnbench.check.blocked\" name=\"gqa4\""));
	assert_null(strstr(x, "<failure"));
	free(x);

	/* corrupt one reference element: exit 1, the case named, JUnit failure */
	tu_copy_dir("datasets/golden", dir);
	char p[512];
	snprintf(p, sizeof p, "%s/chunked_prefill_out.npy", dir);
	size_t len;
	char *buf = tu_read(p, &len);
	double v;
	memcpy(&v, buf + len - 8, 8);
	v = -v + 0.5;
	memcpy(buf + len - 8, &v, 8);
	tu_write(p, buf, len);
	free(buf);
	EXPECT(1, "FAILED: chunked_prefill/naive", "check", "--golden", dir, "--backend", "naive", "--junit", junit);
	x = tu_read(junit, NULL);
	assert_non_null(strstr(x, "<failure"));
	free(x);
	tu_rmtree(dir);
}

static void test_sweep_results(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), out[512], p[700];
	snprintf(out, sizeof out, "%s/reports/latest", dir); /* parents are created */
	EXPECT(0, "sweep:", "sweep", "--config", "datasets/sweeps/smoke.conf", "--backend", "naive,blocked,blas",
	       "--out", out);
	snprintf(p, sizeof p, "%s/results.incomplete", out);
	struct stat st;
	assert_int_not_equal(stat(p, &st), 0);
	snprintf(p, sizeof p, "%s/machine.json", out);
	assert_int_equal(stat(p, &st), 0);
	snprintf(p, sizeof p, "%s/results.csv", out);
	table t;
	attn_err e = {{0}};
	assert_int_equal(table_read(p, &t, &e), 0);
	const char *contract[] = {"backend",    "device",   "phase",          "batch",           "n_heads",
	                          "n_kv_heads", "head_dim", "seq_len",        "cache_len",       "causal",
	                          "dtype",      "time_ns",  "time_ns_min",    "time_ns_max",     "reps",
	                          "gflops",     "gbytes_s", "kv_cache_bytes", "workspace_bytes", "status"};
	int seen[3][2] = {{0}};
	const char *names[3] = {"naive", "blocked", "blas"};
	for (int r = 0; r < t.nrows; r++) {
		assert_string_equal(t.rows[r][table_col(&t, "status")], "ok");
		for (size_t c = 0; c < sizeof contract / sizeof contract[0]; c++) {
			int col = table_col(&t, contract[c]);
			assert_true(col >= 0);
			if (!t.rows[r][col][0])
				fail_msg("row %d: column %s is empty", r + 2, contract[c]);
		}
		const double tmin = atof(t.rows[r][table_col(&t, "time_ns_min")]);
		const double tmed = atof(t.rows[r][table_col(&t, "time_ns")]);
		const double tmax = atof(t.rows[r][table_col(&t, "time_ns_max")]);
		assert_true(tmin > 0 && tmin <= tmed && tmed <= tmax);
		assert_int_equal(atoi(t.rows[r][table_col(&t, "reps")]), 3);
		for (int b = 0; b < 3; b++) {
			if (strcmp(t.rows[r][table_col(&t, "backend")], names[b]))
				continue;
			const char *ph = t.rows[r][table_col(&t, "phase")];
			seen[b][0] |= !strcmp(ph, "prefill");
			seen[b][1] |= !strcmp(ph, "decode");
		}
	}
	for (int b = 0; b < 3; b++)
		assert_true(seen[b][0] && seen[b][1]);
	/* smoke.conf: 2 x (2 prefill + 2 decode) + 2 attend = 10 f32 points per
	 * backend, and 2 x 2 prefill + 2 x 2 decode in f16 and bf16 */
	assert_int_equal(t.nrows, 54);
	table_free(&t);

	/* a memory budget too small for any point: every row skipped, exit 0 */
	EXPECT(0, "skipped", "sweep", "--config", "datasets/sweeps/smoke.conf", "--backend", "naive", "--max-mem",
	       "1KiB", "--out", out);
	assert_int_equal(table_read(p, &t, &e), 0);
	for (int r = 0; r < t.nrows; r++)
		assert_non_null(strstr(t.rows[r][table_col(&t, "status")], "skipped: needs"));
	table_free(&t);
	EXPECT(2, "unknown key", "sweep", "--config", "tests/data/bad.conf", "--out", out);

	/* two shards cover the grid exactly once between them */
	int rows = 0;
	for (int sh = 0; sh < 2; sh++) {
		char spec[32], sdir[512];
		snprintf(spec, sizeof spec, "%d/2", sh);
		snprintf(sdir, sizeof sdir, "%s/shard%d", dir, sh);
		EXPECT(0, "shard", "sweep", "--config", "datasets/sweeps/smoke.conf", "--backend", "naive", "--shard",
		       spec, "--out", sdir);
		snprintf(p, sizeof p, "%s/results.csv", sdir);
		assert_int_equal(table_read(p, &t, &e), 0);
		rows += t.nrows;
		table_free(&t);
	}
	assert_int_equal(rows, 18); /* smoke.conf's points for one backend */
	EXPECT(2, "--shard", "sweep", "--shard", "2/2");
	tu_rmtree(dir);
}

/* No Vulkan loader, or a loader with no device: vulkan is `unavailable`,
 * skipped by check and sweep unless named, which is exit 2. */
static void test_vulkan_unavailable(void **state)
{
	(void)state;
	if (!ATTN_HAVE_VULKAN_BUILD)
		skip();
	char *dir = tu_tmpdir(), out[600];
	snprintf(out, sizeof out, "%s/run", dir);
	const char *envs[2][2] = {{"ATTNBENCH_VK_LOADER", "/nonexistent/libvulkan.so.1"},
	                          {"VK_ICD_FILENAMES", "/nonexistent/icd.json"}};
	for (int i = 0; i < 2; i++) {
		setenv(envs[i][0], envs[i][1], 1);
		EXPECT(0, "vulkan     unavailable (", "list");
		EXPECT(0, "0 failed", "check", "--golden", "datasets/golden");
		EXPECT(0, "0 errors", "sweep", "--config", "datasets/sweeps/smoke.conf", "--out", out);
		EXPECT(2, "backend 'vulkan' is unavailable", "check", "--golden", "datasets/golden", "--backend",
		       "vulkan");
		EXPECT(2, "backend 'vulkan' is unavailable", "sweep", "--backend", "vulkan", "--out", out);
		unsetenv(envs[i][0]);
	}
	tu_rmtree(dir);
}

/* External backends: the example library through --backend-lib and through
 * ATTNBENCH_BACKEND_PATH, exactly as a third party would use it; broken
 * libraries are refused with exit 2 naming the file. */
static void test_backend_libraries(void **state)
{
	(void)state;
	const char *env = getenv("ATTNBENCH_THIRDPARTY_LIB"); /* built against the installed header */
	char lib[512];
	snprintf(lib, sizeof lib, "%s", env && *env ? env : tu_built("libattnbench_twopass.so"));
	char *dir = tu_tmpdir(), out[600], libdir[512];
	snprintf(out, sizeof out, "%s/run", dir);
	EXPECT(0, "twopass    ok", "list", "--backend-lib", lib);
	EXPECT(0, "20 passed, 0 failed", "check", "--golden", "datasets/golden", "--backend-lib", lib, "--backend",
	       "twopass");
	EXPECT(0, "0 errors", "sweep", "--config", "datasets/sweeps/smoke.conf", "--backend-lib", lib, "--backend",
	       "twopass", "--out", out);
	snprintf(libdir, sizeof libdir, "%s", lib);
	*strrchr(libdir, '/') = 0;
	setenv("ATTNBENCH_BACKEND_PATH", libdir, 1);
	EXPECT(0, "20 passed, 0 failed", "check", "--golden", "datasets/golden", "--backend", "twopass");
	/* the same library named again is not a duplicate; a copy under another path is */
	EXPECT(0, "twopass", "list", "--backend-lib", lib);
	char copy[700];
	snprintf(copy, sizeof copy, "%s/libcopy.so", dir);
	size_t len;
	char *bytes = tu_read(lib, &len);
	tu_write(copy, bytes, len);
	free(bytes);
	EXPECT(2, "already taken", "list", "--backend-lib", copy);
	unsetenv("ATTNBENCH_BACKEND_PATH");
	EXPECT(2, "ABI", "check", "--golden", "datasets/golden", "--backend-lib", tu_built("plugins/bad_abi.so"));
	EXPECT(2, "no symbol 'attnbench_backends'", "check", "--golden", "datasets/golden", "--backend-lib",
	       tu_built("plugins/no_symbol.so"));
	EXPECT(2, "README.md: cannot load", "sweep", "--backend-lib", "README.md");
	EXPECT(2, "/nonexistent.so", "list", "--backend-lib", "/nonexistent.so");
	/* a broken library found through the path is reported and skipped */
	setenv("ATTNBENCH_BACKEND_PATH", dir, 1);
	snprintf(copy, sizeof copy, "%s/broken.so", dir);
	tu_write(copy, "junk", 4);
	EXPECT(0, "broken.so", "list");
	unsetenv("ATTNBENCH_BACKEND_PATH");
	tu_rmtree(dir);
}

/* What the bash completion offers after `attnbench WORDS` (the last word
 * being completed), space-separated (malloc'ed). */
static char *completions(const char *words)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd,
	         "bash -c 'source scripts/attnbench.bash-completion && COMP_WORDS=(attnbench %s) && "
	         "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) && _attnbench && echo \" ${COMPREPLY[*]} \"'",
	         words);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	char *buf = calloc(1, 8192);
	assert_non_null(buf);
	const size_t n = fread(buf, 1, 8191, f);
	buf[n] = '\0';
	if (pclose(f) != 0)
		fail_msg("completion of '%s' failed: %s", words, buf);
	return buf;
}

/* The man page and the bash completion name every command and every
 * option that `attnbench help CMD` lists (the help comes from the parsers'
 * own tables, so neither can fall behind them unnoticed). */
static void test_man_and_completion(void **state)
{
	(void)state;
	char *man = tu_read("docs/attnbench.1", NULL), *top = NULL;
	assert_non_null(man);
	assert_int_equal(tu_run(&top, NULL, "help", (char *)NULL), 0);
	char *cmds = completions("\"\"");
	int ncmd = 0;
	const char *l = strstr(top, "\ncommands:\n");
	assert_non_null(l);
	for (l = strchr(l + 1, '\n'); l && !strncmp(l, "\n  ", 3); l = strchr(l + 1, '\n')) {
		char name[32], need[48], word[48], *help = NULL;
		if (sscanf(l + 3, "%31s", name) != 1)
			break;
		ncmd++;
		snprintf(need, sizeof need, "\n.B %s", name);
		snprintf(word, sizeof word, " %s ", name);
		if (!strstr(man, need))
			fail_msg("docs/attnbench.1 has no entry '.B %s'", name);
		if (!strstr(cmds, word))
			fail_msg("the completion of commands lacks '%s': %s", name, cmds);
		assert_int_equal(tu_run(&help, NULL, "help", name, (char *)NULL), 0);
		snprintf(word, sizeof word, "%s --", name);
		char *offered = completions(word);
		/* every line of the help that starts with an option names one */
		for (const char *o = strstr(help, "\n  --"); o; o = strstr(o + 1, "\n  --")) {
			char opt[64], esc[160];
			size_t k = 0;
			for (const char *c = o + 3;
			     k + 1 < sizeof opt &&
			     (*c == '-' || *c == '_' || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9'));
			     c++)
				opt[k++] = *c;
			opt[k] = '\0';
			size_t e = 0;
			for (const char *c = opt; *c && e + 3 < sizeof esc; c++) {
				if (*c == '-')
					esc[e++] = '\\';
				esc[e++] = *c;
			}
			esc[e] = '\0';
			if (!strstr(man, esc))
				fail_msg("docs/attnbench.1 does not name %s %s", name, opt);
			char w1[80], w2[80];
			snprintf(w1, sizeof w1, " %s ", opt);
			snprintf(w2, sizeof w2, " %s= ", opt);
			if (!strstr(offered, w1) && !strstr(offered, w2))
				fail_msg("the completion of '%s' lacks %s: %s", name, opt, offered);
		}
		free(offered);
		free(help);
	}
	assert_true(ncmd >= 8);
	free(cmds);
	free(top);
	free(man);
}

int run_cli_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_usage),
	    cmocka_unit_test(test_help),
	    cmocka_unit_test(test_help_examples),
	    cmocka_unit_test(test_man_and_completion),
	    cmocka_unit_test(test_bench_families),
	    cmocka_unit_test(test_bad_inputs),
	    cmocka_unit_test(test_check_pass_fail_junit),
	    cmocka_unit_test(test_sweep_results),
	    cmocka_unit_test(test_vulkan_unavailable),
	    cmocka_unit_test(test_backend_libraries),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
