/* test_roofline.c - the machine's peaks: `attnbench roofline`, the cache the
 * sweep reuses (damaged files ignored and measured again), and results.csv's
 * pct_peak_flops / pct_peak_bw against machine.json's figures.
 *
 * tests/main.c points ATTNBENCH_CACHE_DIR at one directory for the whole
 * run; `attnbench roofline` below measures (and fills the cache) first, the
 * damaged-cache test measures once more, every later sweep reuses it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/results.h"
#include "run/roofline.h"
#include "lib/table.h"
#include "testutil.h"

static int nproc(void)
{
	const long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

static double cell_f(const table *t, int r, const char *col)
{
	const int c = table_col(t, col);
	if (c < 0)
		fail_msg("no column %s", col);
	return atof(t->rows[r][c]);
}

/* A machine.json number (a JSON number; older versions wrote a string). */
static double json_num(const char *json, const char *key)
{
	char pat[128];
	snprintf(pat, sizeof pat, "\"%s\": ", key);
	const char *p = strstr(json, pat);
	if (!p)
		fail_msg("machine.json has no %s", key);
	p += strlen(pat);
	return atof(p + (*p == '"'));
}

static void test_roofline_command(void **state)
{
	(void)state;
	EXPECT(2, "unknown option '--bogus'", "roofline", "--bogus");
	EXPECT(2, "option '--seq' does not apply", "roofline", "--seq", "5");
	EXPECT(2, "option '--backend' does not apply", "roofline", "--backend", "naive");
	EXPECT(2, "--threads", "roofline", "--threads", "0");
	EXPECT(2, "needs a value", "roofline", "--out");
	EXPECT(2, "unexpected argument 'x'", "roofline", "x");

	char *dir = tu_tmpdir(), out[512], p[600];
	snprintf(out, sizeof out, "%s/a/b", dir); /* parents are created */
	char *o = NULL, *e = NULL;
	const int rc = tu_run(&o, &e, "roofline", "--out", out, (char *)NULL);
	if (rc != 0 || !strstr(o, "GFLOP/s") || !strstr(o, "last-level cache") || !strstr(e, "roofline: measuring"))
		fail_msg("roofline: exit %d; stdout: %.600s; stderr: %.600s", rc, o ? o : "", e ? e : "");
	free(o);
	free(e);
	snprintf(p, sizeof p, "%s/roofline.csv", out);
	table t;
	attn_err err = {{0}};
	assert_int_equal(table_read(p, &t, &err), 0);
	const char *cols[] = {"threads",   "sgemm_attn_gflops", "sgemm_square_gflops", "dram_gbs",  "llc_gbs",
	                      "llc_bytes", "dram_array_bytes",  "llc_array_bytes",     "fma_gflops"};
	assert_int_equal(t.ncols, 10);
	assert_int_equal(t.nrows, 1);
	/* the bandwidth curve: doubling working sets from within L1 to the
	 * DRAM array, every figure positive */
	assert_string_equal(t.header[9], "bw_curve");
	roofline curve;
	memset(&curve, 0, sizeof curve);
	if (roofline_curve_parse(t.rows[0][9], &curve) != 0 || curve.n_curve < 8)
		fail_msg("bw_curve '%s'", t.rows[0][9]);
	assert_true(curve.curve_bytes[0] <= 32u << 10);
	assert_true((double)curve.curve_bytes[curve.n_curve - 1] == cell_f(&t, 0, "dram_array_bytes"));
	for (int i = 1; i < curve.n_curve; i++)
		assert_true(curve.curve_bytes[i] <= 2 * curve.curve_bytes[i - 1] + 64u * (unsigned)nproc());
	for (int c = 0; c < 9; c++) {
		assert_string_equal(t.header[c], cols[c]);
		if (!(atof(t.rows[0][c]) > 0))
			fail_msg("roofline.csv: %s = '%s' is not positive", cols[c], t.rows[0][c]);
	}
	assert_int_equal((int)cell_f(&t, 0, "threads"), nproc());
	const double llc = cell_f(&t, 0, "llc_bytes"), dram_arr = cell_f(&t, 0, "dram_array_bytes"),
	             llc_arr = cell_f(&t, 0, "llc_array_bytes");
	/* at least 4 x LLC, unless a quarter of RAM is less */
	const double quarter = (double)machine_ram_bytes() / 4;
	if (!(dram_arr >= 4 * llc - 64.0 * nproc() || dram_arr >= quarter - 64.0 * nproc()))
		fail_msg("DRAM array %.0f bytes is under 4 x LLC %.0f", dram_arr, llc);
	assert_true(llc_arr <= llc / 2);

	/* the command refreshed the cache the sweep reads: same figures */
	char key[1024], cache[4300], why[600];
	roofline r;
	roofline_key(nproc(), key, sizeof key);
	assert_int_equal(roofline_cache_path(nproc(), NULL, 0, cache, sizeof cache), 0);
	if (roofline_load(cache, key, &r, why, sizeof why))
		fail_msg("%s: %s", cache, why);
	assert_true(fabs(r.sgemm_attn_gflops - cell_f(&t, 0, "sgemm_attn_gflops")) < 1e-3);
	assert_true(fabs(r.fma_gflops - cell_f(&t, 0, "fma_gflops")) < 1e-3);
	assert_true(fabs(r.dram_gbs - cell_f(&t, 0, "dram_gbs")) < 1e-3);
	assert_int_equal(r.llc_bytes, (uint64_t)llc);
	table_free(&t);
	tu_rmtree(dir);
}

/* Files the loader must refuse with a reason, never crash on. */
static void test_cache_files(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), p[512], why[600];
	snprintf(p, sizeof p, "%s/roofline.csv", dir);
	roofline r, back;
	memset(&r, 0, sizeof r);
	snprintf(r.key, sizeof r.key, "k1|host=x,with \"quotes\"");
	r.threads = 3;
	r.sgemm_attn_gflops = 123.4567;
	r.fma_gflops = 456.5;
	r.sgemm_square_gflops = 150;
	r.dram_gbs = 20.5;
	r.llc_gbs = 90.25;
	r.llc_bytes = 32u << 20;
	r.dram_array_bytes = 256u << 20;
	r.llc_array_bytes = 8u << 20;
	r.n_curve = 3;
	r.curve_bytes[0] = 16384, r.curve_bytes[1] = 32768, r.curve_bytes[2] = 1u << 30;
	r.curve_gbs[0] = 300.5, r.curve_gbs[1] = 250.25, r.curve_gbs[2] = 20.125;
	assert_int_equal(roofline_save(p, &r), 0);
	assert_int_equal(roofline_load(p, r.key, &back, why, sizeof why), 0);
	assert_true(back.sgemm_attn_gflops == 123.4567 && back.llc_gbs == 90.25 && back.threads == 3);
	assert_true(back.fma_gflops == 456.5);
	assert_int_equal(back.llc_array_bytes, 8u << 20);
	assert_int_equal(back.n_curve, 3);
	assert_true(back.curve_bytes[2] == 1u << 30 && back.curve_gbs[1] == 250.25 && back.curve_gbs[2] == 20.125);
	/* a cache written before the multiply-add peak existed is measured again */
	const char *v3 = "key,threads,sgemm_attn_gflops,sgemm_square_gflops,dram_gbs,llc_gbs,llc_bytes,"
	                 "dram_array_bytes,llc_array_bytes,bw_curve\nk1,2,1,1,1,1,1,1,1,16384:5\n";
	tu_write(p, v3, strlen(v3));
	assert_int_equal(roofline_load(p, "k1", &back, why, sizeof why), -1);
	assert_non_null(strstr(why, "fma_gflops"));
	/* a cache written before the curve existed is measured again */
	const char *v1 = "key,threads,sgemm_attn_gflops,sgemm_square_gflops,dram_gbs,llc_gbs,llc_bytes,"
	                 "dram_array_bytes,llc_array_bytes\nk1,2,1,1,1,1,1,1,1\n";
	tu_write(p, v1, strlen(v1));
	assert_int_equal(roofline_load(p, "k1", &back, why, sizeof why), -1);
	assert_non_null(strstr(why, "fma_gflops")); /* the first of the columns it lacks */
	/* the peak without the curve: the curve is what it lacks */
	const char *v2 = "key,threads,sgemm_attn_gflops,sgemm_square_gflops,dram_gbs,llc_gbs,llc_bytes,"
	                 "dram_array_bytes,llc_array_bytes,fma_gflops\nk1,2,1,1,1,1,1,1,1,1\n";
	tu_write(p, v2, strlen(v2));
	assert_int_equal(roofline_load(p, "k1", &back, why, sizeof why), -1);
	assert_non_null(strstr(why, "bw_curve"));
	/* curves that are not increasing sizes with positive figures */
	const char *bad_curves[] = {"",      "1:2 1:3", "2:1 1:1", "0:5", "5:0",    "5:-1",
	                            "5:nan", "5",       "5:1x",    "x:1", "5:1,6:2"};
	for (size_t i = 0; i < sizeof bad_curves / sizeof bad_curves[0]; i++) {
		roofline c;
		memset(&c, 0, sizeof c);
		if (roofline_curve_parse(bad_curves[i], &c) == 0 && c.n_curve > 0)
			fail_msg("curve '%s' was accepted", bad_curves[i]);
	}
	/* another machine, build or thread count */
	assert_int_equal(roofline_load(p, "k2", &back, why, sizeof why), -1);
	assert_non_null(strstr(why, "another"));

	const char *bad[] = {
	    "",
	    "\n\n",
	    "key,threads,sgemm_attn_gflops,sgemm_square_gflops,dram_gbs,llc_gbs,llc_bytes,dram_array_bytes,"
	    "llc_array_bytes\n",
	    "key,threads,sgemm_attn_gflops,sgemm_square_gflops,dram_gbs,llc_gbs,llc_bytes,dram_array_bytes,"
	    "llc_array_bytes\nk1,2,abc,1,1,1,1,1,1\n",
	    "key,threads,sgemm_attn_gflops,sgemm_square_gflops,dram_gbs,llc_gbs,llc_bytes,dram_array_bytes,"
	    "llc_array_bytes\nk1,2,-5,1,1,1,1,1,1\n",
	    "key,threads,sgemm_attn_gflops,sgemm_square_gflops,dram_gbs,llc_gbs,llc_bytes,dram_array_bytes,"
	    "llc_array_bytes\nk1,2,nan,1,1,1,1,1,1\n",
	    "key,threads,sgemm_attn_gflops,sgemm_square_gflops,dram_gbs,llc_gbs,llc_bytes,dram_array_bytes,"
	    "llc_array_bytes\nk1,2,1,1,1,1,0,1,1\n",
	    "key,threads,sgemm_attn_gflops\nk1,2,1\n", /* columns missing */
	    "key,threads,sgemm_attn_gflops,sgemm_square_gflops,dram_gbs,llc_gbs,llc_bytes,dram_array_bytes,"
	    "llc_array_bytes\nk1,2,1,1,1,1,1,1,1\nk1,2,1,1,1,1,1,1,1\n", /* two rows */
	    "key,threads\n\"k1,2\n",                                     /* open quote */
	    "key,threads,sgemm_attn_gflops\nk1,2\n",                     /* short row */
	    "\x7f"
	    "ELF\x01\x02\x00\x00garbage",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		tu_write(p, bad[i], i == sizeof bad / sizeof bad[0] - 1 ? 16 : strlen(bad[i]));
		why[0] = 0;
		if (roofline_load(p, "k1", &back, why, sizeof why) != -1 || !why[0])
			fail_msg("bad cache file %zu was accepted (why: '%s')", i, why);
	}
	/* a directory, a missing file, an oversized file */
	assert_int_equal(roofline_load(dir, "k1", &back, why, sizeof why), -1);
	remove(p);
	assert_int_equal(roofline_load(p, "k1", &back, why, sizeof why), -1);
	char *big = malloc(200000);
	memset(big, 'a', 200000);
	tu_write(p, big, 200000);
	free(big);
	assert_int_equal(roofline_load(p, "k1", &back, why, sizeof why), -1);
	tu_rmtree(dir);

	/* where the cache lives: ATTNBENCH_CACHE_DIR, XDG_CACHE_HOME, HOME */
	char *keep[3];
	const char *vars[3] = {"ATTNBENCH_CACHE_DIR", "XDG_CACHE_HOME", "HOME"};
	for (int i = 0; i < 3; i++) {
		const char *v = getenv(vars[i]);
		keep[i] = v ? strdup(v) : NULL;
		unsetenv(vars[i]);
	}
	char d[512], path[1024];
	assert_int_equal(roofline_cache_path(2, d, sizeof d, path, sizeof path), -1);
	setenv("HOME", "/h", 1);
	assert_int_equal(roofline_cache_path(2, d, sizeof d, path, sizeof path), 0);
	assert_string_equal(d, "/h/.cache/attnbench");
	setenv("XDG_CACHE_HOME", "relative", 1); /* not absolute: ignored */
	assert_int_equal(roofline_cache_path(2, d, sizeof d, path, sizeof path), 0);
	assert_string_equal(d, "/h/.cache/attnbench");
	setenv("XDG_CACHE_HOME", "/x", 1);
	assert_int_equal(roofline_cache_path(2, d, sizeof d, path, sizeof path), 0);
	assert_string_equal(d, "/x/attnbench");
	setenv("ATTNBENCH_CACHE_DIR", "/c", 1);
	assert_int_equal(roofline_cache_path(2, d, sizeof d, path, sizeof path), 0);
	assert_string_equal(d, "/c");
	assert_true(strncmp(path, "/c/roofline-", 12) == 0);
	/* another thread count, another file */
	char path3[1024];
	assert_int_equal(roofline_cache_path(3, NULL, 0, path3, sizeof path3), 0);
	assert_string_not_equal(path, path3);
	for (int i = 0; i < 3; i++) {
		if (keep[i])
			setenv(vars[i], keep[i], 1);
		else
			unsetenv(vars[i]);
		free(keep[i]);
	}
}

/* pct_peak_* of one row: FLOPs over the compute ceiling (the fastest
 * measured rate: the multiply-add peak, else the faster sgemm), bytes over
 * the bandwidth at the row's working set (Q, K, V and O). */
static void test_pct_columns(void **state)
{
	(void)state;
	roofline rf;
	memset(&rf, 0, sizeof rf);
	rf.sgemm_attn_gflops = 150;
	rf.sgemm_square_gflops = 200;
	assert_true(roofline_flops_ceiling(&rf) == 200); /* older runs: the faster sgemm */
	rf.fma_gflops = 400;
	assert_true(roofline_flops_ceiling(&rf) == 400);
	rf.fma_gflops = 0;
	rf.dram_gbs = 10;
	rf.llc_gbs = 100;
	rf.llc_bytes = 1 << 20;
	assert_true(roofline_bw_for(&rf, 1 << 20, 0) == 100);
	assert_true(roofline_bw_for(&rf, (1 << 20) + 1, 0) == 10);
	/* with a curve, the ceiling at a working set is the best figure at the
	 * largest measured size <= it or any larger size: a dip (2 MiB) does
	 * not lower it, a size between two points is held to the smaller one */
	roofline cv = rf;
	cv.n_curve = 4;
	const uint64_t sz[4] = {1u << 20, 2u << 20, 4u << 20, 8u << 20};
	const double gbs[4] = {100, 50, 60, 10};
	for (int i = 0; i < 4; i++)
		cv.curve_bytes[i] = sz[i], cv.curve_gbs[i] = gbs[i];
	assert_true(roofline_bw_for(&cv, 100, 0) == 100);
	assert_true(roofline_bw_for(&cv, 3u << 19, 0) == 100);
	assert_true(roofline_bw_for(&cv, 2u << 20, 0) == 60);
	assert_true(roofline_bw_for(&cv, 5u << 20, 0) == 60);
	assert_true(roofline_bw_for(&cv, 1u << 30, 0) == 10);
	/* a cold call reads from memory whatever its size: the best point at
	 * twice the LLC (1 MiB) or more, else the DRAM figure */
	assert_true(roofline_bw_for(&cv, 100, 1) == 60);
	assert_true(roofline_bw_for(&cv, 1u << 30, 1) == 60);
	cv.llc_bytes = 8u << 20; /* no point that large: the last one */
	assert_true(roofline_bw_for(&cv, 100, 1) == 10);
	cv.llc_bytes = 1u << 20;
	assert_true(roofline_bw_for(&rf, 1 << 10, 1) == 10);
	char *dir = tu_tmpdir(), p[512];
	snprintf(p, sizeof p, "%s/results.csv", dir);
	sweep_point pt[3];
	memset(pt, 0, sizeof pt);
	/* attend, 256 keys of 1 KV head of 64: K+V = 128 KiB, in the LLC */
	pt[0].phase = PHASE_ATTEND;
	pt[0].shape = (attn_shape){.batch = 1, .n_heads = 4, .n_kv_heads = 1, .head_dim = 64, .n_q = 256, .n_kv = 256};
	pt[0].seq_len = pt[0].cache_len = 256;
	/* decode against 4096 keys of 2 KV heads of 128: 8 MiB, over the LLC */
	pt[1].phase = PHASE_DECODE;
	pt[1].shape = (attn_shape){.batch = 1, .n_heads = 8, .n_kv_heads = 2, .head_dim = 128, .n_q = 1, .n_kv = 4096};
	pt[1].seq_len = 1;
	pt[1].cache_len = 4096;
	pt[2] = pt[1];
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(results_write_header(f), 0);
	for (int i = 0; i < 3; i++) {
		pt[i].shape.causal = 1;
		pt[i].shape.scale = 0.125f;
		pt[i].shape.dtype = ATTN_F32;
		result_row r = {.backend = "naive",
		                .device = "cpu",
		                .pt = &pt[i],
		                .status = i == 2 ? RESULT_SKIPPED : RESULT_OK,
		                .reason = i == 2 ? "needs 9 GiB" : NULL,
		                .measured = i < 2,
		                .time_ns = 1e6,
		                .reps = 1,
		                .roof = &rf};
		assert_int_equal(results_write_row(f, &r), 0);
	}
	fclose(f);
	table t;
	attn_err e = {{0}};
	assert_int_equal(table_read(p, &t, &e), 0);
	const int cf = table_col(&t, "pct_peak_flops"), cb = table_col(&t, "pct_peak_bw");
	assert_true(cf >= 0 && cb >= 0);
	for (int r = 0; r < 2; r++) {
		const double gf = point_flops(&pt[r]) / 1e6, gb = point_bytes(&pt[r]) / 1e6;
		const double bw = r == 0 ? 100 : 10;
		assert_true(fabs(atof(t.rows[r][cf]) - 100 * gf / 200) <= 0.006);
		assert_true(fabs(atof(t.rows[r][cb]) - 100 * gb / bw) <= 0.006);
	}
	/* not measured: empty, like the other timing columns */
	assert_string_equal(t.rows[2][cf], "");
	assert_string_equal(t.rows[2][cb], "");
	table_free(&t);
	tu_rmtree(dir);
}

/* A sweep's results.csv: both columns filled on every ok row and equal to
 * 100 x rate / machine.json's figure; empty on skipped rows. */
static void check_run(const char *out, int want_ok)
{
	char p[700];
	snprintf(p, sizeof p, "%s/machine.json", out);
	char *json = tu_read(p, NULL);
	assert_non_null(json);
	const double fma = json_num(json, "roofline_fma_gflops"), dram = json_num(json, "roofline_dram_gbs"),
	             llc = json_num(json, "roofline_llc_gbs"), llc_bytes = json_num(json, "roofline_llc_bytes");
	assert_true(fma > 0 && dram > 0 && llc > 0 && llc_bytes > 0);
	assert_true(json_num(json, "roofline_sgemm_square_gflops") > 0);
	free(json);
	/* the curve comes back from machine.json */
	machine_info m;
	attn_err me = {{0}};
	assert_int_equal(machine_read(p, &m, &me), 0);
	assert_true(m.has_roofline && m.peaks.n_curve >= 8);
	/* the compute ceiling: the fastest measured rate (the multiply-add
	 * peak, unless a sgemm ran faster in its moment) */
	const double peak = roofline_flops_ceiling(&m.peaks);
	assert_true(peak >= fma && fabs(m.peaks.fma_gflops - fma) < 1e-3);
	snprintf(p, sizeof p, "%s/results.csv", out);
	table t;
	attn_err e = {{0}};
	assert_int_equal(table_read(p, &t, &e), 0);
	const int cf = table_col(&t, "pct_peak_flops"), cb = table_col(&t, "pct_peak_bw"), cs = table_col(&t, "status");
	assert_true(cf >= 0 && cb >= 0 && cs >= 0);
	int ok = 0;
	for (int r = 0; r < t.nrows; r++) {
		if (strcmp(t.rows[r][cs], "ok") != 0) {
			if (t.rows[r][cf][0] || t.rows[r][cb][0])
				fail_msg("line %d (%s): pct_peak_* should be empty", r + 2, t.rows[r][cs]);
			continue;
		}
		ok++;
		if (!t.rows[r][cf][0] || !t.rows[r][cb][0])
			fail_msg("line %d: pct_peak_flops '%s', pct_peak_bw '%s'", r + 2, t.rows[r][cf], t.rows[r][cb]);
		const double want_f = 100 * cell_f(&t, r, "gflops") / peak;
		const double bw = roofline_bw_for(&m.peaks, (uint64_t)cell_f(&t, r, "bytes"),
		                                  strcmp(t.rows[r][table_col(&t, "cache_state")], "cold") == 0);
		const double want_b = 100 * cell_f(&t, r, "gbytes_s") / bw;
		const double got_f = atof(t.rows[r][cf]), got_b = atof(t.rows[r][cb]);
		/* the bound of the roundings: pct to 2 decimals (0.005), gflops and
		 * gbytes_s to 4 (0.00005 / peak, in percent), the peaks to 4 */
		const double tol_f = 0.005 + 100 * 0.00005 / peak + 1e-4 * want_f;
		const double tol_b = 0.005 + 100 * 0.00005 / bw + 1e-4 * want_b;
		if (fabs(got_f - want_f) > tol_f || fabs(got_b - want_b) > tol_b)
			fail_msg("line %d: pct_peak_flops %s (want %.3f), pct_peak_bw %s (want %.3f)", r + 2,
			         t.rows[r][cf], want_f, t.rows[r][cb], want_b);
	}
	assert_int_equal(ok, want_ok);
	table_free(&t);
	machine_info_free(&m);
}

static void test_sweep_columns(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), out[512];
	snprintf(out, sizeof out, "%s/run", dir);
	/* the cache filled by `attnbench roofline` is reused */
	EXPECT(0, "roofline: reusing", "sweep", "--config", "datasets/sweeps/smoke.conf", "--backend", "naive,blas",
	       "--repetitions", "2", "--min-time", "0.001", "--out", out);
	check_run(out, 36); /* 18 points of smoke.conf per backend */
	/* the report draws the % panels and names the peaks */
	char rep[600], p[700];
	snprintf(rep, sizeof rep, "%s/report", dir);
	EXPECT(0, "report:", "report", out, "--out", rep, "--format", "svg");
	snprintf(p, sizeof p, "%s/throughput.gp", rep);
	char *gp = tu_read(p, NULL), *md;
	assert_non_null(gp);
	assert_non_null(strstr(gp, "% of peak FLOP/s"));
	assert_non_null(strstr(gp, "% of peak bandwidth"));
	free(gp);
	/* the roofline picture: the measured ceilings (sgemm and one line per
	 * cache level of the curve), point blocks and a key entry per backend
	 * and per phase */
	snprintf(p, sizeof p, "%s/roofline.gp", rep);
	gp = tu_read(p, NULL);
	assert_non_null(gp);
	assert_non_null(strstr(gp, "set logscale xy"));
	assert_non_null(strstr(gp, "peak = "));
	assert_non_null(strstr(gp, "working set (L1)"));
	assert_non_null(strstr(gp, "read, DRAM"));
	assert_non_null(strstr(gp, "title \"naive\""));
	assert_non_null(strstr(gp, "title \"decode\""));
	assert_non_null(strstr(gp, "\"roofline.dat\" index 0 using 1:2 with points"));
	free(gp);
	snprintf(p, sizeof p, "%s/report.md", rep);
	md = tu_read(p, NULL);
	assert_non_null(md);
	assert_non_null(strstr(md, "measured peaks with"));
	free(md);
	/* skipped rows leave them empty */
	EXPECT(0, "skipped", "sweep", "--config", "datasets/sweeps/smoke.conf", "--backend", "naive", "--max-mem",
	       "1KiB", "--out", out);
	check_run(out, 0);
	tu_rmtree(dir);
}

/* On a CPU with AVX2, OpenBLAS runs kernels for it, not the SSE3 ones it
 * falls back to when a VM hides the CPU model: attnbench sets
 * OPENBLAS_CORETYPE itself when it is unset (run/blas_core.h). */
static void test_blas_core(void **state)
{
	(void)state;
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
		skip();
	char *dir = tu_tmpdir(), out[700], p[800];
	snprintf(out, sizeof out, "%s/run", dir);
	const char *set = getenv("OPENBLAS_CORETYPE");
	char *keep = set ? strdup(set) : NULL;
	unsetenv("OPENBLAS_CORETYPE"); /* as a user's shell has it */
	char *e = NULL;
	const int rc = tu_run(NULL, &e, "sweep", "--backend", "naive", "--phases", "attend", "--seq", "16", "--heads",
	                      "2", "--gqa", "1", "--head-dim", "8", "--batch", "1", "--repetitions", "1", "--min-time",
	                      "0.001", "--out", out, (char *)NULL);
	if (keep)
		setenv("OPENBLAS_CORETYPE", keep, 1);
	free(keep);
	if (rc != 0)
		fail_msg("sweep: exit %d: %.1000s", rc, e ? e : "");
	free(e);
	snprintf(p, sizeof p, "%s/machine.json", out);
	machine_info m;
	attn_err me = {{0}};
	assert_int_equal(machine_read(p, &m, &me), 0);
	for (const char *g = "Prescott\0Core2\0Penryn\0Dunnington\0Nehalem\0Atom\0"; *g; g += strlen(g) + 1)
		if (strstr(m.blas, g))
			fail_msg("machine.json blas: '%s' (generic kernels on an AVX2 CPU)", m.blas);
	machine_info_free(&m);
	tu_rmtree(dir);
}

/* A damaged cache file is reported, ignored, measured again and replaced. */
static void test_damaged_cache(void **state)
{
	(void)state;
	char cache[4300], key[1024], why[600];
	assert_int_equal(roofline_cache_path(nproc(), NULL, 0, cache, sizeof cache), 0);
	roofline_key(nproc(), key, sizeof key);
	const char junk[] = "key,threads,sgemm_attn_gflops\n\"unterminated,1,\x01\n";
	tu_write(cache, junk, sizeof junk - 1);
	char *dir = tu_tmpdir(), out[512];
	snprintf(out, sizeof out, "%s/run", dir);
	char *o = NULL, *e = NULL;
	const int rc = tu_run(&o, &e, "sweep", "--backend", "naive", "--phases", "attend", "--seq", "16", "--heads",
	                      "2", "--gqa", "1", "--head-dim", "8", "--batch", "1", "--causal", "1", "--repetitions",
	                      "1", "--min-time", "0.001", "--out", out, (char *)NULL);
	if (rc != 0 || !strstr(e, "roofline: ignoring") || !strstr(e, "roofline: measuring"))
		fail_msg("sweep over a damaged cache: exit %d; stderr: %.1000s", rc, e ? e : "");
	free(o);
	free(e);
	check_run(out, 1);
	roofline r;
	if (roofline_load(cache, key, &r, why, sizeof why))
		fail_msg("the cache was not rewritten: %s", why);
	tu_rmtree(dir);
}

int run_roofline_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roofline_command), cmocka_unit_test(test_cache_files),
	    cmocka_unit_test(test_pct_columns),      cmocka_unit_test(test_sweep_columns),
	    cmocka_unit_test(test_damaged_cache),    cmocka_unit_test(test_blas_core),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("roofline", tests, NULL, NULL);
}
