/* test_report.c - `attnbench report` and the fit module behind it.
 *
 * The fixture tests/data/report_run/ is a real run on tiny shapes (naive,
 * blocked, blas; prefill seq 32..256, decode cache 64..1024, heads 2/4 x
 * GQA 1/2), made with
 *   attnbench sweep --config tiny.conf --out tests/data/report_run
 * plus one `skipped:` row from a run with --max-mem 1KiB. The tests render
 * it through the binary (and gnuplot), check every file, rebuild it as an
 * exact t = c*n^2 / t = c*n run to check the fitted exponents, split it into
 * shards and machines, and break it in the ways report must reject. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fit.h"
#include "lib/table.h"
#include "testutil.h"

#define FIXTURE "tests/data/report_run"

/* ---- fit.c ------------------------------------------------------------------ */

/* t = c n^2 and t = c n, exact and with a few percent of deterministic noise. */
static void test_fit_power_law(void **state)
{
	(void)state;
	double n[8], t2[8], t1[8];
	for (int i = 0; i < 8; i++) {
		n[i] = 64.0 * (1 << i); /* 64 .. 8192 */
		const double wobble = 1 + 0.03 * ((i % 3) - 1);
		t2[i] = 3.5 * n[i] * n[i] * wobble;
		t1[i] = 120.0 * n[i] * wobble;
	}
	power_fit f;
	assert_int_equal(fit_power_law(n, t2, 8, &f), 0);
	assert_true(fabs(f.exponent - 2.0) < 0.05);
	assert_int_equal(f.points, 8);
	assert_int_equal(fit_power_law(n, t1, 8, &f), 0);
	assert_true(fabs(f.exponent - 1.0) < 0.05);
	/* exact data: exponent and prefactor recovered */
	double e2[8];
	for (int i = 0; i < 8; i++)
		e2[i] = 3.5 * n[i] * n[i];
	assert_int_equal(fit_power_law(n, e2, 8, &f), 0);
	assert_true(fabs(f.exponent - 2.0) < 1e-9);
	assert_true(fabs(f.prefactor - 3.5) < 1e-6);
	assert_true(fabs(fit_power_eval(&f, 1000) - 3.5e6) < 1e-3);
	/* a fixed overhead at small n: the tail rule (n >= 512) ignores it */
	double o2[8];
	for (int i = 0; i < 8; i++)
		o2[i] = 2e6 + n[i] * n[i];
	assert_int_equal(fit_power_law_tail(n, o2, 8, 512, 3, &f), 0);
	assert_int_equal(f.points, 5);
	const double tail = f.exponent;
	assert_int_equal(fit_power_law(n, o2, 8, &f), 0);
	assert_true(tail > f.exponent + 0.3);
	/* fewer than three long points: all points */
	assert_int_equal(fit_power_law_tail(n, t2, 6, 4096, 3, &f), 0);
	assert_int_equal(f.points, 6);
	/* too few usable points */
	const double one[] = {5, 5}, y[] = {1, 2};
	assert_int_equal(fit_power_law(one, y, 2, &f), -1);
	assert_int_equal(fit_power_law(n, t2, 1, &f), -1);
	const double neg[] = {-1, 0};
	assert_int_equal(fit_power_law(neg, y, 2, &f), -1);
}

/* The BigO coefficient of exact data is the constant; its RMS is zero. */
static void test_fit_bigo(void **state)
{
	(void)state;
	const double n[] = {512, 1024, 2048, 4096};
	double t[4], rms;
	for (int i = 0; i < 4; i++)
		t[i] = 7.0 * n[i] * n[i];
	assert_true(fabs(fit_bigo(n, t, 4, 2, &rms) - 7.0) < 1e-9);
	assert_true(rms < 1e-12);
	for (int i = 0; i < 4; i++)
		t[i] = 40.0 * n[i] + (i == 2 ? 5000 : 0);
	const double a = fit_bigo(n, t, 4, 1, &rms);
	assert_true(a > 40.0 && a < 42.0);
	assert_true(rms > 0);
	assert_true(fit_bigo(n, t, 0, 1, NULL) == 0);
}

/* Linear interpolation and the decode total against a hand computation. */
static void test_fit_interp(void **state)
{
	(void)state;
	const double x[] = {100, 200, 400}, y[] = {10, 20, 60};
	assert_true(fabs(fit_interp_linear(x, y, 3, 150) - 15) < 1e-12);
	assert_true(fabs(fit_interp_linear(x, y, 3, 300) - 40) < 1e-12);
	assert_true(fabs(fit_interp_linear(x, y, 3, 200) - 20) < 1e-12);
	assert_true(fabs(fit_interp_linear(x, y, 3, 50) - 5) < 1e-12);   /* first segment, slope 0.1 */
	assert_true(fabs(fit_interp_linear(x, y, 3, 500) - 80) < 1e-12); /* last segment, slope 0.2 */
	assert_true(fabs(fit_interp_linear(x, y, 1, 999) - 10) < 1e-12);
	/* prompt 198, 5 tokens: caches 198..202 = 19.8 + 19.9 + 20 + 20.2 + 20.4 */
	assert_true(fabs(fit_sum_linear(x, y, 3, 198, 5) - 100.3) < 1e-9);
	/* beyond the end: 399, 400, 401 = 59.8 + 60 + 60.2 */
	assert_true(fabs(fit_sum_linear(x, y, 3, 399, 3) - 180.0) < 1e-9);
	/* a falling extrapolation never goes below zero */
	const double yd[] = {10, 5};
	assert_true(fabs(fit_sum_linear(x, yd, 2, 300, 2) - 0) < 1e-12);
}

/* ---- fixtures --------------------------------------------------------------- */

/* Edit one data row r of the fixture in place. */
typedef void (*row_edit)(table *t, int r, char **cells, void *ctx);

/* How to derive a run from the fixture. */
typedef struct fx_opts {
	row_edit edit; /* NULL: rows as they are */
	void *ctx;
	int lo, hi;           /* data rows kept (hi < 0: to the end; hi < lo: none) */
	const char *skip_col; /* a column left out */
	const char *host;     /* machine.json hostname, or NULL */
	const char *date;     /* machine.json date_utc (20 characters), or NULL */
	const char *cpu;      /* machine.json cpu_model, or NULL */
} fx_opts;

/* Replace the value of "key": "..." in a JSON text (malloc'ed result). */
static char *json_set(char *m, const char *key, const char *val)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\": \"", key);
	char *h = strstr(m, pat);
	assert_non_null(h);
	h += strlen(pat);
	char *end = strchr(h, '"');
	char *out = NULL;
	assert_true(asprintf(&out, "%.*s%s%s", (int)(h - m), m, val, end) > 0);
	free(m);
	return out;
}

/* Write a run derived from the fixture into dir. */
static void write_fixture(const char *dir, const fx_opts *o)
{
	table t;
	attn_err e = {{0}};
	assert_int_equal(table_read(FIXTURE "/results.csv", &t, &e), 0);
	char p[600];
	snprintf(p, sizeof p, "%s/results.csv", dir);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	const int skip = o->skip_col ? table_col(&t, o->skip_col) : -1;
	const char *fields[64];
	for (int r = -1; r < t.nrows; r++) {
		if (r >= 0 && (r < o->lo || (o->hi >= 0 && r > o->hi)))
			continue;
		char **cells = r < 0 ? t.header : t.rows[r];
		if (r >= 0 && o->edit)
			o->edit(&t, r, cells, o->ctx);
		int n = 0;
		for (int c = 0; c < t.ncols && n < 64; c++)
			if (c != skip)
				fields[n++] = cells[c];
		assert_int_equal(table_write_row(f, fields, n), 0);
	}
	assert_int_equal(fclose(f), 0);
	table_free(&t);
	char *m = tu_read(FIXTURE "/machine.json", NULL);
	assert_non_null(m);
	if (o->host)
		m = json_set(m, "hostname", o->host);
	if (o->date)
		m = json_set(m, "date_utc", o->date);
	if (o->cpu)
		m = json_set(m, "cpu_model", o->cpu);
	snprintf(p, sizeof p, "%s/machine.json", dir);
	tu_write(p, m, strlen(m));
	free(m);
}

static const char *const pictures[] = {"cost", "split", "decode", "memory", "memory_gqa", "throughput", "heads"};
enum { NPICTURES = sizeof pictures / sizeof pictures[0] };

/* ---- rendering -------------------------------------------------------------- */

/* The fixture renders: exit 0, silent gnuplot, every file valid. */
static void test_render_fixture(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), out[600];
	snprintf(out, sizeof out, "%s/out/nested", dir); /* parents are created */
	char *o = NULL, *e = NULL;
	const int rc = tu_run(&o, &e, "report", FIXTURE, "--out", out, (char *)NULL);
	if (rc != 0 || (e && e[0]))
		fail_msg("exit %d, stderr: %.800s", rc, e ? e : "");
	assert_non_null(strstr(o, "index.html"));
	free(o);
	free(e);
	for (int i = 0; i < NPICTURES; i++) {
		char n[64];
		snprintf(n, sizeof n, "%s.png", pictures[i]);
		tu_expect_file(out, n, "\x89PNG\r\n\x1a\n", NULL);
		snprintf(n, sizeof n, "%s.svg", pictures[i]);
		tu_expect_file(out, n, NULL, "<svg");
		snprintf(n, sizeof n, "%s.gp", pictures[i]);
		tu_expect_file(out, n, NULL, "set output");
		snprintf(n, sizeof n, "%s.dat", pictures[i]);
		tu_expect_file(out, n, NULL, NULL);
	}
	tu_expect_file(out, "fits.csv", "run,host,device,backend,phase", NULL);
	tu_expect_file(out, "report.md", "# attnbench report", "(cost.png)");
	tu_expect_file(out, "index.html", "<!DOCTYPE html>", "src=\"cost.png\"");
	/* the skipped row is counted, not plotted; the run order of backends holds */
	tu_expect_file(out, "report.md", NULL, "1 x skipped: needs");
	tu_expect_file(out, "report.md", NULL, "| vm | blocked | cpu |");
	tu_expect_file(out, "cost.gp", NULL, "slope 2");
	tu_expect_file(out, "split.gp", NULL, "decode interpolated linearly in cache_len");
	/* the fixture never measured P = 512..8192: every prefill there is from the fit */
	tu_expect_file(out, "split.gp", NULL, "P 8192*");
	/* index.html needs no network */
	char p[700];
	snprintf(p, sizeof p, "%s/index.html", out);
	char *html = tu_read(p, NULL);
	assert_null(strstr(html, "http://"));
	assert_null(strstr(html, "https://"));
	assert_null(strstr(html, "<script"));
	free(html);
	/* no partial files left */
	snprintf(p, sizeof p, "%s/index.html.partial", out);
	struct stat st;
	assert_int_not_equal(stat(p, &st), 0);

	/* png only, into the run directory itself (the default --out) */
	tu_copy_dir(FIXTURE, dir);
	EXPECT(0, "report:", "report", dir, "--format", "png");
	tu_expect_file(dir, "heads.png", "\x89PNG", NULL);
	snprintf(p, sizeof p, "%s/heads.svg", dir);
	assert_int_not_equal(stat(p, &st), 0);
	/* a results.csv path works as a RUN_DIR too */
	snprintf(p, sizeof p, "%s/results.csv", dir);
	EXPECT(0, "report:", "report", p, "--format", "svg", "--prompts", "64,256", "--gen", "16");
	tu_expect_file(dir, "split.svg", NULL, "<svg");
	tu_expect_file(dir, "split.gp", NULL, "P 256\\nT 16");
	tu_expect_file(dir, "index.html", NULL, "src=\"cost.svg\"");
	snprintf(p, sizeof p, "%s/out", dir);
	tu_rmtree(p);
	tu_rmtree(dir);
}

/* Prefill time c*seq^2 and decode time c*cache, exactly. */
static void make_exact(table *t, int r, char **cells, void *ctx)
{
	(void)ctx;
	if (r < 0)
		return;
	if (strcmp(cells[table_col(t, "status")], "ok"))
		return;
	const char *ph = cells[table_col(t, "phase")];
	const double seq = atof(cells[table_col(t, "seq_len")]);
	const double cache = atof(cells[table_col(t, "cache_len")]);
	char buf[64];
	snprintf(buf, sizeof buf, "%.1f", !strcmp(ph, "decode") ? 250.0 * cache : 40.0 * seq * seq);
	tu_set_cell(cells, table_col(t, "time_ns"), buf);
}

/* fits.csv of an exact t = c*n^2 / t = c*n run says 2.00 / 1.00. */
static void test_render_exact_fits(void **state)
{
	(void)state;
	char *dir = tu_tmpdir();
	const fx_opts o = {.edit = make_exact, .hi = -1};
	write_fixture(dir, &o);
	EXPECT(0, "report:", "report", dir, "--format", "png");
	char p[600];
	snprintf(p, sizeof p, "%s/fits.csv", dir);
	table t;
	attn_err e = {{0}};
	assert_int_equal(table_read(p, &t, &e), 0);
	const int ph = table_col(&t, "phase"), ex = table_col(&t, "exponent"), co = table_col(&t, "coefficient");
	const int un = table_col(&t, "coefficient_unit");
	assert_true(ph >= 0 && ex >= 0 && co >= 0 && un >= 0);
	int npre = 0, ndec = 0;
	for (int r = 0; r < t.nrows; r++) {
		const double k = atof(t.rows[r][ex]), a = atof(t.rows[r][co]);
		if (!strcmp(t.rows[r][ph], "prefill")) {
			npre++;
			if (fabs(k - 2.0) > 0.05)
				fail_msg("prefill exponent %g, want 2.00 +- 0.05", k);
			assert_true(fabs(a - 40.0) < 0.01);
			assert_string_equal(t.rows[r][un], "ns/n^2");
		} else {
			ndec++;
			if (fabs(k - 1.0) > 0.05)
				fail_msg("decode exponent %g, want 1.00 +- 0.05", k);
			assert_true(fabs(a - 250.0) < 0.01);
			assert_string_equal(t.rows[r][un], "ns/n");
		}
	}
	/* three backends; the prefill and decode lines of the main shape and the gqa shapes */
	assert_true(npre >= 3 && ndec >= 3);
	table_free(&t);
	tu_expect_file(dir, "cost.gp", NULL, "t ~ n^2.00");
	tu_rmtree(dir);
}

/* A run with a sliding window beside full attention: cost.png draws a
 * line for each, fitted alone (the windowed one from twice its window on):
 * times that follow the pairs each variant leaves give 2 and about 1. */
static void test_windowed_cost_line(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), p[600];
	snprintf(p, sizeof p, "%s/results.csv", dir);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fprintf(f, "backend,device,phase,batch,n_heads,n_kv_heads,head_dim,seq_len,cache_len,causal,dtype,time_ns,"
	           "time_ns_min,time_ns_max,reps,gflops,gbytes_s,kv_cache_bytes,workspace_bytes,status,window\n");
	for (int w = 0; w <= 512; w += 512)
		for (int n = 256; n <= 4096; n *= 2) {
			double pairs = 0;
			for (int q = 0; q < n; q++)
				pairs += w && q + 1 > w ? w : q + 1;
			fprintf(f, "naive,cpu,prefill,1,8,8,64,%d,%d,1,f32,%.1f,%.1f,%.1f,3,1,1,1,0,ok,%d\n", n, n,
			        40 * pairs, 40 * pairs, 40 * pairs, w);
		}
	fclose(f);
	char *m = tu_read(FIXTURE "/machine.json", NULL);
	snprintf(p, sizeof p, "%s/machine.json", dir);
	tu_write(p, m, strlen(m));
	free(m);
	EXPECT(0, "report:", "report", dir, "--format", "png");
	char *gp = tu_read_out(dir, "cost.gp");
	const char *full = strstr(gp, "\"naive: t ~ n^"), *win = strstr(gp, "\"naive, window 512: t ~ n^");
	if (!full || !win)
		fail_msg("cost.gp has no full and windowed lines:\n%.2000s", gp);
	const double kf = atof(full + strlen("\"naive: t ~ n^")),
	             kw = atof(win + strlen("\"naive, window 512: t ~ n^"));
	if (fabs(kf - 2.0) > 0.05 || kw < 0.95 || kw > 1.2)
		fail_msg("exponents: full %g (want 2), windowed %g (want about 1)", kf, kw);
	free(gp);
	tu_rmtree(dir);
}

/* ---- several runs: shards and machines -------------------------------------- */

/* Fail the rows of one backend. */
static void fail_backend(table *t, int r, char **cells, void *ctx)
{
	(void)r;
	if (!strcmp(cells[table_col(t, "backend")], (const char *)ctx))
		tu_set_cell(cells, table_col(t, "status"), "error: test");
}

/* Name blas's device ctx. */
static void blas_device(table *t, int r, char **cells, void *ctx)
{
	(void)r;
	if (!strcmp(cells[table_col(t, "backend")], "blas"))
		tu_set_cell(cells, table_col(t, "device"), (const char *)ctx);
}

/* Overlapping shards of one host merge, newest wins; another host is a
 * second machine, labelled, with its missing points listed. */
static void test_shards_and_machines(void **state)
{
	(void)state;
	char *a = tu_tmpdir(), *b = tu_tmpdir(), *c = tu_tmpdir(), *out = tu_tmpdir();
	/* rows 20..24 are in both shards; b is newer */
	const fx_opts oa = {.lo = 0, .hi = 24, .date = "2030-01-01T00:00:00Z"};
	const fx_opts ob = {.lo = 20, .hi = -1, .date = "2031-01-01T00:00:00Z"};
	write_fixture(a, &oa);
	write_fixture(b, &ob);
	EXPECT(0, "report:", "report", a, b, "--out", out, "--format", "png");
	tu_expect_file(out, "report.md", NULL, "5 duplicate rows were dropped");
	tu_expect_file(out, "report.md", NULL, "| vm | 25 | 25 | 5 | none |"); /* shard a lost its 5 */
	tu_expect_file(out, "report.md", NULL, "| vm | 20 | 19 | 0 | 1 x skipped");
	/* one machine, so no host in the labels */
	tu_expect_file(out, "report.md", NULL, "2 runs on 1 machine");
	tu_expect_file(out, "cost.gp", NULL, "title \"blocked: t ~ n^");
	tu_rmtree(out);

	out = tu_tmpdir();
	const fx_opts oc = {.edit = fail_backend, .ctx = (void *)"blas", .hi = -1, .host = "otherhost"};
	write_fixture(c, &oc);
	EXPECT(0, "report:", "report", FIXTURE, c, "--out", out, "--format", "png");
	tu_expect_file(out, "cost.gp", NULL, "blocked @ otherhost/cpu");
	tu_expect_file(out, "cost.gp", NULL, "blocked @ vm/cpu");
	tu_expect_file(out, "report.md", NULL, "## Missing points");
	tu_expect_file(out, "report.md", NULL, "backend blas: every point missing on otherhost");
	tu_expect_file(out, "report.md", NULL, "13 x error: test");
	tu_expect_file(out, "report.md", NULL, "2 machines");
	tu_rmtree(out);

	/* the same host name on another CPU is another machine, not a shard */
	out = tu_tmpdir();
	const fx_opts od = {.hi = -1, .cpu = "Other CPU"};
	write_fixture(c, &od);
	EXPECT(0, "report:", "report", FIXTURE, c, "--out", out, "--format", "png");
	tu_expect_file(out, "report.md", NULL, "2 machines");
	tu_expect_file(out, "cost.gp", NULL, "blocked @ vm [Other CPU]/cpu");
	tu_rmtree(out);
	tu_rmtree(a);
	tu_rmtree(b);
	tu_rmtree(c);
}

/* ---- errors ------------------------------------------------------------------- */

/* A non-number in time_ns on data row 3 (file line 4). */
static void bad_time(table *t, int r, char **cells, void *ctx)
{
	(void)ctx;
	if (r == 2)
		tu_set_cell(cells, table_col(t, "time_ns"), "12x");
}

/* A time no machine measures: the reader refuses it, so that no picture
 * is drawn with an empty axis. */
static void huge_time(table *t, int r, char **cells, void *ctx)
{
	(void)ctx;
	if (r == 2)
		tu_set_cell(cells, table_col(t, "time_ns"), "1e308");
}

/* A writer on the FIFO at path: the fixture's machine.json goes to
 * whoever opens it for reading; a report that waited on the FIFO
 * would read it and succeed. */
static void *fifo_write_json(void *path)
{
	char *m = tu_read(FIXTURE "/machine.json", NULL);
	const int fd = open(path, O_WRONLY);
	if (fd >= 0) {
		const ssize_t k = m ? write(fd, m, strlen(m)) : 0;
		(void)k; /* short or failed: the reader went away */
		close(fd);
	}
	free(m);
	return NULL;
}

/* A status the results.csv format does not have, on data row 2 (file line 3). */
static void bad_status(table *t, int r, char **cells, void *ctx)
{
	(void)ctx;
	if (r == 1)
		tu_set_cell(cells, table_col(t, "status"), "done");
}

/* Data row 2 (file line 3) a copy of row 1: the same point twice. */
static void repeat_row(table *t, int r, char **cells, void *ctx)
{
	(void)ctx;
	if (r == 1)
		for (int c = 0; c < t->ncols; c++)
			tu_set_cell(cells, c, t->rows[0][c]);
}

/* The run derived from the fixture by o into dir is refused: exit 2 naming
 * its results.csv, and the message holds needle. */
static void expect_refused(const char *dir, const fx_opts *o, const char *needle)
{
	char p[600];
	snprintf(p, sizeof p, "%s/results.csv", dir);
	write_fixture(dir, o);
	EXPECT(2, p, "report", dir);
	EXPECT(2, needle, "report", dir);
}

/* Malformed runs exit 2 naming the file, line and column. */
static void test_bad_inputs(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), p[600];
	snprintf(p, sizeof p, "%s/results.csv", dir);

	const fx_opts nocol = {.hi = -1, .skip_col = "gbytes_s"};
	write_fixture(dir, &nocol);
	EXPECT(2, p, "report", dir);
	EXPECT(2, "line 1, column gbytes_s: missing", "report", dir);

	const fx_opts bad = {.edit = bad_time, .hi = -1};
	write_fixture(dir, &bad);
	EXPECT(2, p, "report", dir);
	EXPECT(2, "line 4, column time_ns: '12x' is not a number", "report", dir);

	const fx_opts huge = {.edit = huge_time, .hi = -1};
	expect_refused(dir, &huge, "line 4, column time_ns: '1e308' is beyond 1e18 ns");

	/* the results.csv reader's rules, the same as compare's and plan's */
	const fx_opts status = {.edit = bad_status, .hi = -1};
	expect_refused(dir, &status, "line 3, column status: 'done' is not ok, skipped: ... or error: ...");
	const fx_opts twice = {.edit = repeat_row, .hi = -1};
	expect_refused(dir, &twice, "lines 2 and 3: the same point twice");

	const fx_opts none = {.lo = 1, .hi = 0};
	write_fixture(dir, &none);
	EXPECT(2, p, "report", dir);
	EXPECT(2, "line 2: no data rows", "report", dir);

	remove(p);
	EXPECT(2, p, "report", dir);

	/* machine.json that is not JSON */
	const fx_opts all = {.hi = -1};
	write_fixture(dir, &all);
	snprintf(p, sizeof p, "%s/machine.json", dir);
	const char *bad_json = "{\n  \"hostname\" \"x\"\n}\n";
	tu_write(p, bad_json, strlen(bad_json));
	EXPECT(2, "machine.json: line 2", "report", dir);

	/* a machine.json that is a FIFO is refused, not waited on */
	remove(p);
	assert_int_equal(mkfifo(p, 0600), 0);
	pthread_t th;
	void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pthread_create(&th, NULL, fifo_write_json, p), 0);
	char *err = NULL;
	const int rc = tu_run(NULL, &err, "report", dir, (char *)NULL);
	/* a reader of our own lets the writer finish, whatever the report did */
	const int fd = open(p, O_RDONLY | O_NONBLOCK);
	pthread_join(th, NULL);
	if (fd >= 0)
		close(fd);
	signal(SIGPIPE, old_pipe);
	remove(p);
	if (rc != 2 || !strstr(err ? err : "", "machine.json: not a regular file"))
		fail_msg("a FIFO machine.json: exit %d (want 2), stderr: %.800s", rc, err ? err : "");
	free(err);

	/* usage */
	EXPECT(2, "needs at least one RUN_DIR", "report");
	EXPECT(2, "--format", "report", dir, "--format", "gif");
	EXPECT(2, "--prompts", "report", dir, "--prompts", "0");
	EXPECT(2, "unknown option '--bogus'", "report", dir, "--bogus");
	EXPECT(0, "usage: attnbench report", "report", "--help");
	/* nothing was written by the failures */
	snprintf(p, sizeof p, "%s/index.html", dir);
	struct stat st;
	assert_int_not_equal(stat(p, &st), 0);
	tu_rmtree(dir);
}

/* Does dir/name exist? */
static int exists_in(const char *dir, const char *name)
{
	char p[700];
	struct stat st;
	snprintf(p, sizeof p, "%s/%s", dir, name);
	return stat(p, &st) == 0;
}

/* gnuplot failing or complaining: exit 1 with its message, no index.html. */
static void test_gnuplot_failure(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), fake[600], p[600];
	tu_copy_dir(FIXTURE, dir);
	snprintf(fake, sizeof fake, "%s/fake-gnuplot", dir);
	const char *script = "#!/bin/sh\necho 'line 3: undefined variable: frobnicate' >&2\nexit 0\n";
	tu_write(fake, script, strlen(script));
	chmod(fake, 0755);
	setenv("ATTNBENCH_GNUPLOT", fake, 1);
	EXPECT(1, "undefined variable: frobnicate", "report", dir);
	setenv("ATTNBENCH_GNUPLOT", "false", 1);
	EXPECT(1, "gnuplot", "report", dir);
	/* a gnuplot that fails after opening its pictures leaves none behind */
	const char *opens = "#!/bin/sh\n: >\"${1%.gp}.svg\"; : >\"${1%.gp}.png\"\n"
	                    "echo 'line 9: all points y value undefined!' >&2\nexit 1\n";
	tu_write(fake, opens, strlen(opens));
	setenv("ATTNBENCH_GNUPLOT", fake, 1);
	EXPECT(1, "all points y value undefined", "report", dir);
	for (int i = 0; i < NPICTURES; i++)
		for (int k = 0; k < 2; k++) {
			char pic[64];
			snprintf(pic, sizeof pic, "%s.%s", pictures[i], k ? "png" : "svg");
			if (exists_in(dir, pic))
				fail_msg("%s/%s was left behind by a failed gnuplot", dir, pic);
		}
	unsetenv("ATTNBENCH_GNUPLOT");
	snprintf(p, sizeof p, "%s/index.html", dir);
	struct stat st;
	assert_int_not_equal(stat(p, &st), 0);
	/* a later good run completes the report */
	EXPECT(0, "report:", "report", dir, "--format", "png");
	assert_int_equal(stat(p, &st), 0);
	tu_rmtree(dir);
}

/* ---- text from the inputs ------------------------------------------------------ */

/* Names from results.csv and machine.json reach the gnuplot scripts as
 * text: gnuplot runs `...` inside double quotes, so a backquote must never
 * get there as it is; and a newline in a label must not end the comment
 * line of a data block (the rest would be read as data). */
static void test_hostile_text(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), *other = tu_tmpdir(), *out = tu_tmpdir();
	const fx_opts o = {
	    .edit = blas_device, .ctx = (void *)"dev `touch ran_device`", .hi = -1, .cpu = "CPU `touch ran_cpu`"};
	write_fixture(dir, &o);
	char *e = NULL;
	const int rc = tu_run(NULL, &e, "report", dir, "--out", out, "--format", "svg", (char *)NULL);
	if (rc != 0 || (e && e[0]))
		fail_msg("exit %d, stderr: %.800s", rc, e ? e : "");
	free(e);
	assert_false(exists_in(out, "ran_cpu"));
	assert_false(exists_in(out, "ran_device"));
	/* shown as written */
	tu_expect_file(out, "cost.svg", NULL, "CPU `touch ran_cpu`");
	tu_rmtree(out);

	/* two machines: labels "backend @ host/device", the host with a newline */
	out = tu_tmpdir();
	const fx_opts h = {.hi = -1, .host = "other\\n5 5"};
	write_fixture(other, &h);
	EXPECT(0, "report:", "report", FIXTURE, other, "--out", out, "--format", "svg");
	char *dat = tu_read_out(out, "cost.dat");
	assert_null(strstr(dat, "\n5 5"));
	free(dat);
	tu_rmtree(out);
	tu_rmtree(other);
	tu_rmtree(dir);
}

/* Does needle (starting with '<' or '[') stand in text without the
 * backslash that makes Markdown read it as text? */
static int md_unescaped(const char *text, const char *needle)
{
	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		if (p == text || p[-1] != '\\')
			return 1;
	return 0;
}

/* Names with markup reach report.md as Markdown text and index.html as
 * HTML text: never as tags or links, in tables, paragraphs and lists. */
static void test_markdown_text(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), *other = tu_tmpdir(), *out = tu_tmpdir();
	const fx_opts o = {.edit = blas_device,
	                   .ctx = (void *)"<script>alert(1)</script>",
	                   .hi = -1,
	                   .cpu = "<img src=x onerror=alert(1)>"};
	write_fixture(dir, &o);
	/* a second machine without blas: a "missing" list item with its host */
	const fx_opts h = {
	    .edit = fail_backend, .ctx = (void *)"blas", .hi = -1, .host = "[x](javascript:alert(1))<b>"};
	write_fixture(other, &h);
	EXPECT(0, "report:", "report", dir, other, "--out", out, "--format", "svg");
	char *md = tu_read_out(out, "report.md");
	assert_false(md_unescaped(md, "<img"));
	assert_false(md_unescaped(md, "<script"));
	assert_false(md_unescaped(md, "<b>"));
	assert_false(md_unescaped(md, "[x]"));
	assert_non_null(strstr(md, "| \\<img src=x onerror=alert(1)\\> |"));
	assert_non_null(strstr(md, "- backend blas: every point missing on \\[x\\](javascript:alert(1))\\<b\\>"));
	free(md);
	char *html = tu_read_out(out, "index.html");
	assert_null(strstr(html, "<img src=x"));
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "<b>"));
	assert_non_null(strstr(html, "<td>&lt;img src=x onerror=alert(1)&gt;</td>"));
	assert_non_null(
	    strstr(html, "<li>backend blas: every point missing on [x](javascript:alert(1))&lt;b&gt;</li>"));
	free(html);
	tu_rmtree(out);
	tu_rmtree(other);
	tu_rmtree(dir);
}

/* The group: fit.c, then the binary end to end. */
int run_report_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fit_power_law),      cmocka_unit_test(test_fit_bigo),
	    cmocka_unit_test(test_fit_interp),         cmocka_unit_test(test_render_fixture),
	    cmocka_unit_test(test_render_exact_fits),  cmocka_unit_test(test_shards_and_machines),
	    cmocka_unit_test(test_bad_inputs),         cmocka_unit_test(test_gnuplot_failure),
	    cmocka_unit_test(test_hostile_text),       cmocka_unit_test(test_markdown_text),
	    cmocka_unit_test(test_windowed_cost_line),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
