/* test_files.c - the files attnbench reads and writes. An input that is a
 * FIFO, a device or a directory is refused at once (exit 2 naming it),
 * never waited on; an output path that exists and is not a regular file (a
 * symlink, a device, a FIFO) is refused with exit 2 and left as it was, and
 * a planted PATH.partial is never followed; text from the inputs reaches
 * gnuplot, HTML, Markdown and JUnit escaped, so nothing in it runs. */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/table.h"
#include "testutil.h"

#define FIXTURE "tests/data/report_run"

/* ---- inputs: a FIFO is refused, not waited on ------------------------------ */

/* A writer on a FIFO: it hands a little text to whoever opens the FIFO for
 * reading. A command that waited on the FIFO gets the text and goes on
 * with another message (so the test fails instead of hanging). */
static void *feed_fifo(void *path)
{
	const int fd = open(path, O_WRONLY);
	if (fd >= 0) {
		const ssize_t k = write(fd, "x\n", 2);
		(void)k; /* the reader went away */
		close(fd);
	}
	return NULL;
}

/* Run attnbench with the arguments while path is a FIFO with a writer
 * waiting; it must exit 2 with "PATH: not a regular file". */
#define EXPECT_FIFO_REFUSED(path, ...)                                                                                 \
	do {                                                                                                           \
		remove(path);                                                                                          \
		assert_int_equal(mkfifo(path, 0600), 0);                                                               \
		void (*old_)(int) = signal(SIGPIPE, SIG_IGN);                                                          \
		pthread_t th_;                                                                                         \
		assert_int_equal(pthread_create(&th_, NULL, feed_fifo, (void *)(path)), 0);                            \
		char *e_ = NULL, want_[700];                                                                           \
		const int rc_ = tu_run(NULL, &e_, __VA_ARGS__, (char *)NULL);                                          \
		/* a reader of our own releases the writer, whatever the command did */                                \
		const int fd_ = open(path, O_RDONLY | O_NONBLOCK);                                                     \
		if (fd_ >= 0)                                                                                          \
			close(fd_);                                                                                    \
		pthread_join(th_, NULL);                                                                               \
		signal(SIGPIPE, old_);                                                                                 \
		remove(path);                                                                                          \
		snprintf(want_, sizeof want_, "%s: not a regular file", path);                                         \
		if (rc_ != 2 || !strstr(e_ ? e_ : "", want_))                                                          \
			fail_msg("a FIFO %s: exit %d (want 2 and '%s'); stderr: %.800s", path, rc_, want_,             \
			         e_ ? e_ : "");                                                                        \
		free(e_);                                                                                              \
	} while (0)

/* A copy of the golden case "mha" alone in dir. */
static void one_case(const char *dir, const char *name)
{
	static const char *const files[] = {"mha_q.npy", "mha_k.npy", "mha_v.npy", "mha_out.npy"};
	char src[600], dst[600];
	for (int i = 0; i < 4; i++) {
		size_t len;
		snprintf(src, sizeof src, "datasets/golden/%s", files[i]);
		char *b = tu_read(src, &len);
		assert_non_null(b);
		snprintf(dst, sizeof dst, "%s/%s", dir, files[i]);
		tu_write(dst, b, len);
		free(b);
	}
	const char *const head[] = {"name",   "batch", "n_heads", "n_kv_heads", "head_dim", "n_q",  "n_kv",
	                            "causal", "q",     "k",       "v",          "out",      "dtype"};
	const char *const row[] = {name, "1",         "4",         "4",         "64",          "64", "64",
	                           "0",  "mha_q.npy", "mha_k.npy", "mha_v.npy", "mha_out.npy", "f32"};
	snprintf(dst, sizeof dst, "%s/manifest.csv", dir);
	FILE *f = fopen(dst, "w");
	assert_non_null(f);
	assert_int_equal(table_write_row(f, head, 13), 0);
	assert_int_equal(table_write_row(f, row, 13), 0);
	assert_int_equal(fclose(f), 0);
}

/* A copy of the report fixture (results.csv, machine.json) in dir. */
static void copy_run(const char *dir)
{
	tu_copy_dir(FIXTURE, dir);
}

/* Every kind of input file, as a FIFO with a writer waiting, as a device
 * and as a directory: exit 2 at once, naming the file. */
static void test_inputs_not_regular(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), *run = tu_tmpdir(), p[600];
	one_case(dir, "mha");
	EXPECT(0, "mha", "check", "--golden", dir, "--backend", "naive");
	snprintf(p, sizeof p, "%s/mha_k.npy", dir); /* an .npy */
	EXPECT_FIFO_REFUSED(p, "check", "--golden", dir, "--backend", "naive");
	one_case(dir, "mha");
	snprintf(p, sizeof p, "%s/manifest.csv", dir); /* the manifest */
	EXPECT_FIFO_REFUSED(p, "check", "--golden", dir, "--backend", "naive");
	snprintf(p, sizeof p, "%s/libfifo.so", dir); /* a backend library: never waited on inside dlopen */
	EXPECT_FIFO_REFUSED(p, "list", "--backend-lib", p);

	copy_run(run);
	snprintf(p, sizeof p, "%s/results.csv", run); /* results.csv: report, compare, plan */
	EXPECT_FIFO_REFUSED(p, "report", run, "--out", dir);
	EXPECT_FIFO_REFUSED(p, "compare", FIXTURE, run);
	EXPECT_FIFO_REFUSED(p, "plan", "--model", "llama-3.1-8b", "--mem", "80G", "--results", run);
	copy_run(run);
	snprintf(p, sizeof p, "%s/machine.json", run); /* machine.json */
	EXPECT_FIFO_REFUSED(p, "report", run, "--out", dir);

	snprintf(p, sizeof p, "%s/sweep.conf", dir); /* a sweep config */
	EXPECT_FIFO_REFUSED(p, "sweep", "--config", p, "--out", dir);
	snprintf(p, sizeof p, "%s/models.csv", dir); /* a presets file */
	EXPECT_FIFO_REFUSED(p, "plan", "--models", p, "--model", "x", "--mem", "8G");

	/* a device that never ends, a directory */
	EXPECT(2, "/dev/zero: not a regular file", "plan", "--models", "/dev/zero", "--model", "x", "--mem", "8G");
	EXPECT(2, "/dev/zero: not a regular file", "sweep", "--config", "/dev/zero", "--out", dir);
	EXPECT(2, ": not a regular file", "sweep", "--config", dir, "--out", dir);
	tu_rmtree(dir);
	tu_rmtree(run);
}

/* ---- outputs: only a regular file is replaced ------------------------------- */

/* 1 if path is a symlink / a FIFO (lstat). */
static int is_link(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

static int is_fifo(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISFIFO(st.st_mode);
}

/* The file at path holds exactly "keep\n". */
static void assert_kept(const char *path)
{
	char *b = tu_read(path, NULL);
	if (!b || strcmp(b, "keep\n") != 0)
		fail_msg("%s was written through a link: '%.200s'", path, b ? b : "(gone)");
	free(b);
}

/* --junit to a symlink, /dev/null or a FIFO: exit 2 naming it, nothing
 * replaced; a planted PATH.partial link is not followed. */
static void test_junit_not_regular(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), *gold = tu_tmpdir(), j[600], t[600], part[700];
	snprintf(j, sizeof j, "%s/junit.xml", dir);
	snprintf(t, sizeof t, "%s/target", dir);
	tu_write(t, "keep\n", 5);
	assert_int_equal(symlink(t, j), 0);
	EXPECT(2, "junit.xml: exists and is not a regular file (a symbolic link)", "compare", FIXTURE, FIXTURE,
	       "--junit", j);
	assert_true(is_link(j));
	assert_kept(t);
	one_case(gold, "mha");
	EXPECT(2, "junit.xml: exists and is not a regular file", "check", "--golden", gold, "--backend", "naive",
	       "--junit", j);
	/* refused before any case runs, not after all of them */
	char *out = NULL;
	assert_int_equal(
	    tu_run(&out, NULL, "check", "--golden", gold, "--backend", "naive", "--junit", j, (char *)NULL), 2);
	assert_null(strstr(out ? out : "", "PASS"));
	free(out);
	assert_true(is_link(j));
	assert_kept(t);
	remove(j);

	struct stat before, after;
	assert_int_equal(stat("/dev/null", &before), 0);
	EXPECT(2, "/dev/null: exists and is not a regular file (a device)", "compare", FIXTURE, FIXTURE, "--junit",
	       "/dev/null");
	assert_int_equal(stat("/dev/null", &after), 0);
	assert_true(S_ISCHR(after.st_mode) && after.st_ino == before.st_ino);

	assert_int_equal(mkfifo(j, 0600), 0);
	EXPECT(2, "junit.xml: exists and is not a regular file (a FIFO)", "compare", FIXTURE, FIXTURE, "--junit", j);
	assert_true(is_fifo(j));
	remove(j);

	/* a planted PATH.partial, link to a file of someone else's */
	snprintf(part, sizeof part, "%s.partial", j);
	assert_int_equal(symlink(t, part), 0);
	EXPECT(0, "compare:", "compare", FIXTURE, FIXTURE, "--junit", j);
	assert_kept(t);
	assert_true(is_link(part));
	char *x = tu_read(j, NULL);
	assert_non_null(x);
	assert_non_null(strstr(x, "<testsuites name=\"attnbench compare\""));
	free(x);
	tu_rmtree(dir);
	tu_rmtree(gold);
}

/* Report, plan and roofline outputs that are links: exit 2, left alone. */
static void test_outputs_not_regular(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), *out = tu_tmpdir(), t[600], p[600];
	snprintf(t, sizeof t, "%s/target", dir);
	tu_write(t, "keep\n", 5);
	static const char *const report_files[] = {"index.html", "report.md", "fits.csv", "cost.gp", "cost.png"};
	for (int i = 0; i < 5; i++) {
		snprintf(p, sizeof p, "%s/%s", out, report_files[i]);
		assert_int_equal(symlink(t, p), 0);
		EXPECT(2, p, "report", FIXTURE, "--out", out);
		EXPECT(2, "exists and is not a regular file (a symbolic link); not replaced", "report", FIXTURE,
		       "--out", out);
		assert_true(is_link(p));
		assert_kept(t);
		remove(p);
	}
	static const char *const plan_files[] = {"plan.gp", "plan.dat", "plan.png"};
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s/%s", out, plan_files[i]);
		assert_int_equal(symlink(t, p), 0);
		EXPECT(2, p, "plan", "--model", "llama-3.1-8b", "--mem", "80G", "--out", out);
		assert_true(is_link(p));
		assert_kept(t);
		remove(p);
	}
	snprintf(p, sizeof p, "%s/plan.csv", out);
	assert_int_equal(symlink(t, p), 0);
	EXPECT(2, "plan.csv: exists and is not a regular file", "plan", "--model", "llama-3.1-8b", "--mem", "80G",
	       "--csv", p);
	assert_true(is_link(p));
	assert_kept(t);
	snprintf(p, sizeof p, "%s/roofline.csv", out);
	assert_int_equal(symlink(t, p), 0);
	EXPECT(2, "roofline.csv: exists and is not a regular file", "roofline", "--out", out);
	assert_true(is_link(p));
	assert_kept(t);
	static const char *const sweep_files[] = {"results.csv", "machine.json", "results.incomplete"};
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s/%s", out, sweep_files[i]);
		assert_int_equal(symlink(t, p), 0);
		EXPECT(2, p, "sweep", "--backend", "naive", "--seq", "16", "--heads", "2", "--head-dim", "16", "--out",
		       out);
		assert_true(is_link(p));
		assert_kept(t);
		remove(p);
	}
	tu_rmtree(dir);
	tu_rmtree(out);
}

/* ---- text from the inputs never runs ---------------------------------------- */

/* Text that runs a command if gnuplot or a shell reads it unquoted, and
 * markup if a browser does: backquotes, $(...), quotes, system(), <script>. */
#define HOSTILE "`touch bq`$(touch ds)\"';system(\"touch sy\")<script>"

/* None of the files HOSTILE would create exists in dir. */
static void assert_nothing_ran(const char *dir)
{
	static const char *const made[] = {"bq", "ds", "sy"};
	for (int i = 0; i < 3; i++) {
		char p[600];
		snprintf(p, sizeof p, "%s/%s", dir, made[i]);
		if (access(p, F_OK) == 0)
			fail_msg("text from an input ran as a command: %s exists", p);
		if (access(made[i], F_OK) == 0)
			fail_msg("text from an input ran as a command: ./%s exists", made[i]);
	}
}

/* The file holds needle; with markup set, no "<script>" either (HTML,
 * Markdown and XML escape it; gnuplot strings need not). */
static void assert_escaped(const char *path, const char *needle, int markup)
{
	char *b = tu_read(path, NULL);
	assert_non_null(b);
	if (!strstr(b, needle))
		fail_msg("%s: '%s' not found", path, needle);
	const char *s = markup ? strstr(b, "<script>") : NULL;
	if (s)
		fail_msg("%s: an unescaped <script>: '%.60s'", path, s > b + 20 ? s - 20 : b);
	free(b);
}

/* Backend, device, status, host and CPU names reach the pictures'
 * scripts, index.html and report.md escaped; gnuplot runs nothing. */
static void test_report_text_inert(void **state)
{
	(void)state;
	char *run = tu_tmpdir(), *out = tu_tmpdir(), p[600];
	table t;
	attn_err e = {{0}};
	assert_int_equal(table_read(FIXTURE "/results.csv", &t, &e), 0);
	const int cb = table_col(&t, "backend"), cd = table_col(&t, "device"), cs = table_col(&t, "status");
	snprintf(p, sizeof p, "%s/results.csv", run);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(table_write_row(f, (const char **)t.header, t.ncols), 0);
	const char *fields[64];
	for (int r = 0; r < t.nrows; r++) {
		for (int c = 0; c < t.ncols && c < 64; c++)
			fields[c] = t.rows[r][c];
		if (!strcmp(t.rows[r][cb], "naive"))
			fields[cb] = "n" HOSTILE;
		fields[cd] = HOSTILE;
		if (r == t.nrows - 1)
			fields[cs] = "error: " HOSTILE;
		assert_int_equal(table_write_row(f, fields, t.ncols), 0);
	}
	assert_int_equal(fclose(f), 0);
	table_free(&t);
	/* machine.json: the same text, JSON-escaped */
	const char *json = "{\"hostname\": \"`touch bq`$(touch ds)\\\"';system(\\\"touch sy\\\")<script>\", "
	                   "\"cpu_model\": \"`touch bq`$(touch ds)\\\"';system(\\\"touch sy\\\")<script>\"}";
	snprintf(p, sizeof p, "%s/machine.json", run);
	tu_write(p, json, strlen(json));
	EXPECT(0, "", "report", run, "--out", out);
	assert_nothing_ran(out);
	snprintf(p, sizeof p, "%s/index.html", out);
	assert_escaped(p, "&quot;';system(&quot;touch sy&quot;)&lt;script&gt;", 1);
	snprintf(p, sizeof p, "%s/report.md", out);
	assert_escaped(p, "system(\"touch sy\")\\<script\\>", 1);
	snprintf(p, sizeof p, "%s/cost.gp", out);
	assert_escaped(p, "\\140touch bq\\140$(touch ds)\\\"';system(\\\"touch sy\\\")", 0);
	snprintf(p, sizeof p, "%s/cost.png", out);
	assert_int_equal(access(p, F_OK), 0); /* gnuplot did run */
	tu_rmtree(run);
	tu_rmtree(out);
}

/* A preset's name reaches plan.gp quoted for gnuplot; nothing runs. */
static void test_plan_text_inert(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), *out = tu_tmpdir(), p[600];
	snprintf(p, sizeof p, "%s/models.csv", dir);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	const char *head[] = {"name", "layers", "heads", "kv_heads", "head_dim", "params"};
	const char *row[] = {"m" HOSTILE, "32", "32", "8", "128", "8e9"};
	assert_int_equal(table_write_row(f, head, 6), 0);
	assert_int_equal(table_write_row(f, row, 6), 0);
	assert_int_equal(fclose(f), 0);
	EXPECT(0, "plan.png", "plan", "--models", p, "--model", "m" HOSTILE, "--mem", "80G", "--out", out);
	assert_nothing_ran(out);
	snprintf(p, sizeof p, "%s/plan.gp", out);
	assert_escaped(p, "set title \"m\\140touch bq\\140$(touch ds)\\\"';system(\\\"touch sy\\\")", 0);
	snprintf(p, sizeof p, "%s/plan.png", out);
	assert_int_equal(access(p, F_OK), 0);
	tu_rmtree(dir);
	tu_rmtree(out);
}

/* A case name reaches check's JUnit escaped and its stdout as itself. */
static void test_check_text_inert(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), j[600];
	one_case(dir, "c" HOSTILE);
	snprintf(j, sizeof j, "%s/junit.xml", dir);
	EXPECT(0, "c" HOSTILE, "check", "--golden", dir, "--backend", "naive", "--junit", j);
	assert_nothing_ran(dir);
	assert_escaped(j, "name=\"c`touch bq`$(touch ds)&quot;';system(&quot;touch sy&quot;)&lt;script&gt;\"", 1);
	tu_rmtree(dir);
}

int run_files_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_inputs_not_regular),  cmocka_unit_test(test_junit_not_regular),
	    cmocka_unit_test(test_outputs_not_regular), cmocka_unit_test(test_report_text_inert),
	    cmocka_unit_test(test_plan_text_inert),     cmocka_unit_test(test_check_text_inert),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("files", tests, NULL, NULL);
}
