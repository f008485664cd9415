/* test_dtype.c - the f16/bf16 storage dimension in the harness: the
 * conversions, the manifest's dtype column, check's ratio rule (through a
 * test backend with selectable precision faults), sweep --dtype and its byte
 * counts, and plan's per-dtype projections. The backends' own f16/bf16
 * kernels are tested in test_backends.c and test_vulkan.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_half.h"
#include "lib/table.h"
#include "testutil.h"
#include "lib/util.h"

/* f16 bits as a double, from the definition (no conversion code shared). */
static double f16_value(uint16_t h)
{
	const int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
	double v;
	if (e == 31)
		v = m ? NAN : INFINITY;
	else if (e == 0)
		v = ldexp(m, -24);
	else
		v = ldexp(1024 + m, e - 25);
	return s ? -v : v;
}

static void test_f16_widen_all(void **state)
{
	(void)state;
	for (uint32_t h = 0; h < 65536; h++) {
		const double want = f16_value((uint16_t)h);
		const float got = attn_f16_to_f32((uint16_t)h);
		if (isnan(want) ? !isnan(got) : ((double)got != want || !signbit(got) != !signbit(want)))
			fail_msg("f16 0x%04x: got %.9g, want %.9g", h, got, want);
	}
}

/* Narrowing: every f16 value maps to itself, and a value between two
 * neighbours goes to the nearer, ties to the even one. */
static void test_f16_round(void **state)
{
	(void)state;
	for (uint32_t h = 0; h < 0x7c00; h++) { /* all finite non-negative */
		const double lo = f16_value((uint16_t)h), hi = f16_value((uint16_t)(h + 1));
		assert_int_equal(attn_f32_to_f16((float)lo), h);
		assert_int_equal(attn_f32_to_f16((float)-lo), h | 0x8000);
		if (h + 1 >= 0x7c00)
			continue;
		const double mid = (lo + hi) / 2; /* exact in f32: 12 significant bits at most */
		assert_int_equal(attn_f32_to_f16((float)mid), (h & 1) ? h + 1 : h);
		assert_int_equal(attn_f32_to_f16(nextafterf((float)mid, 0)), h);
		assert_int_equal(attn_f32_to_f16(nextafterf((float)mid, INFINITY)), h + 1);
	}
	assert_int_equal(attn_f32_to_f16(65519.99f), 0x7bff); /* largest finite */
	assert_int_equal(attn_f32_to_f16(65520.0f), 0x7c00);  /* the tie above it rounds to Inf */
	assert_int_equal(attn_f32_to_f16(-1e30f), 0xfc00);
	assert_int_equal(attn_f32_to_f16(INFINITY), 0x7c00);
	assert_int_equal(attn_f32_to_f16(0x1p-25f), 0x0000);                /* tie between 0 and 2^-24 */
	assert_int_equal(attn_f32_to_f16(nextafterf(0x1p-25f, 1)), 0x0001); /* just above it */
	assert_int_equal(attn_f32_to_f16(-0.0f), 0x8000);
	const uint16_t n = attn_f32_to_f16(NAN);
	assert_true((n & 0x7c00) == 0x7c00 && (n & 0x3ff));
}

static void test_bf16_round(void **state)
{
	(void)state;
	/* widening is the top half of the f32 pattern */
	assert_true(attn_bf16_to_f32(0x3f80) == 1.0f);
	assert_true(attn_bf16_to_f32(0xc000) == -2.0f);
	assert_true(attn_bf16_to_f32(0x7f7f) == 0x1.fep127f);
	const uint32_t cases[][2] = {
	    {0x3f808000, 0x3f80}, /* tie, even below: down */
	    {0x3f818000, 0x3f82}, /* tie, odd below: up */
	    {0x3f807fff, 0x3f80}, /* below the tie */
	    {0x3f808001, 0x3f81}, /* above the tie */
	    {0x7f7f8000, 0x7f80}, /* rounds past the largest finite: Inf */
	    {0x7f800000, 0x7f80}, /* Inf */
	    {0x80000001, 0x8000}, /* the smallest negative subnormal: -0 */
	    {0x00018000, 0x0002}, /* subnormal tie, odd below: up */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const uint16_t got = attn_f32_to_bf16(attn_bits_f32(cases[i][0]));
		if (got != cases[i][1])
			fail_msg("0x%08x: got 0x%04x, want 0x%04x", cases[i][0], got, cases[i][1]);
	}
	const uint16_t n = attn_f32_to_bf16(attn_bits_f32(0x7f800001)); /* signalling NaN */
	assert_true((n & 0x7f80) == 0x7f80 && (n & 0x7f));
	assert_true(isnan(attn_bf16_to_f32(n)));
	/* the shared data generator rounds the same way */
	float x[64];
	uint16_t h[64], b[64];
	fill_uniform(x, 64, 7, 3.0f);
	fill_uniform_as(h, 64, 7, 3.0f, ATTN_F16);
	fill_uniform_as(b, 64, 7, 3.0f, ATTN_BF16);
	for (int i = 0; i < 64; i++) {
		assert_int_equal(h[i], attn_f32_to_f16(x[i]));
		assert_int_equal(b[i], attn_f32_to_bf16(x[i]));
	}
}

/* A one-case golden dataset built from the f16 golden's files, with the
 * given dtype and file of out. */
static void one_case(const char *dir, const char *dtype, const char *out)
{
	tu_copy_dir("datasets/golden", dir);
	char path[600], text[1024];
	snprintf(path, sizeof path, "%s/manifest.csv", dir);
	snprintf(text, sizeof text,
	         "name,batch,n_heads,n_kv_heads,head_dim,n_q,n_kv,causal,q,k,v,out,dtype\n"
	         "c,1,4,4,64,64,64,0,f16_mha_q.npy,f16_mha_k.npy,f16_mha_v.npy,%s,%s\n",
	         out, dtype);
	tu_write(path, text, strlen(text));
}

static void test_manifest_dtype(void **state)
{
	(void)state;
	char *dir = tu_tmpdir();
	one_case(dir, "f64", "f16_mha_out.npy");
	EXPECT(2, "field 'dtype': 'f64' is not f32, f16 or bf16", "check", "--golden", dir, "--backend", "naive");
	/* <f2 inputs are fine, an <f2 reference is not */
	one_case(dir, "f16", "f16_mha_q.npy");
	EXPECT(2, "f16_mha_q.npy: header field 'descr': dtype '<f2' is not a reference dtype", "check", "--golden", dir,
	       "--backend", "naive");
	/* f16 values read as f32: exact, so the f32 rule holds too */
	one_case(dir, "", "f16_mha_out.npy");
	EXPECT(0, "1 passed, 0 failed", "check", "--golden", dir, "--backend", "naive");
	EXPECT(2, "--tol-factor", "check", "--golden", dir, "--tol-factor", "0.5");
	EXPECT(2, "--tol-factor", "check", "--golden", dir, "--tol-factor", "x");
	EXPECT(2, "does not apply", "sweep", "--tol-factor", "3");
	tu_rmtree(dir);
}

/* The ratio rule through a backend that computes exactly, or with a
 * precision fault: probabilities kept in bf16, or bf16 read as f16. */
static void test_ratio_rule(void **state)
{
	(void)state;
	const char *lib = tu_built("plugins/lowprec.so");
	EXPECT(0, "18 passed, 0 failed, ", "check", "--golden", "datasets/golden", "--backend-lib", lib, "--backend",
	       "lowprec");
	char *out = NULL, *err = NULL;
	int rc = tu_run(&out, &err, "check", "--golden", "datasets/golden", "--backend-lib", lib, "--backend",
	                "lowprec", "--param", "lowprec:mode=p_bf16", (char *)NULL);
	assert_int_equal(rc, 1);
	/* every case whose reference error is small fails; the message gives the rule */
	const char *must_fail[] = {"f16_mha",  "f16_decode", "f16_ties",       "f16_subnormal_v",
	                           "bf16_mha", "bf16_ties",  "bf16_wide_range"};
	for (size_t i = 0; i < sizeof must_fail / sizeof must_fail[0]; i++) {
		char needle[64];
		snprintf(needle, sizeof needle, " %s/lowprec", must_fail[i]);
		if (!strstr(out, needle))
			fail_msg("%s should fail: %.3000s", must_fail[i], out);
	}
	assert_non_null(strstr(out, "elements outside 2 x ref_err "));
	free(out);
	free(err);
	/* a factor large enough lets the same results through: the factor is used */
	EXPECT(0, "18 passed, 0 failed", "check", "--golden", "datasets/golden", "--backend-lib", lib, "--backend",
	       "lowprec", "--param", "lowprec:mode=p_bf16", "--tol-factor", "100000");
	rc = tu_run(&out, &err, "check", "--golden", "datasets/golden", "--backend-lib", lib, "--backend", "lowprec",
	            "--param", "lowprec:mode=as_f16", (char *)NULL);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "10 passed, 8 failed"));
	assert_non_null(strstr(out, "FAILED: bf16_mha/lowprec"));
	free(out);
	free(err);
}

/* Rows of a results.csv as a table. */
static void read_results(const char *dir, table *t)
{
	char path[600];
	attn_err e = {{0}};
	snprintf(path, sizeof path, "%s/results.csv", dir);
	if (table_read(path, t, &e))
		fail_msg("%s", e.msg);
}

static double cell(const table *t, int r, const char *col)
{
	const int c = table_col(t, col);
	assert_true(c >= 0);
	return atof(t->rows[r][c]);
}

/* sweep --dtype: one row per dtype, the cache and the byte counts in the
 * stored size, out in f32. */
static void test_sweep_dtype(void **state)
{
	(void)state;
	char *dir = tu_tmpdir();
	EXPECT(2, "key 'dtype': 'f64' is not f32, f16 or bf16", "sweep", "--dtype", "f32,f64", "--out", dir);
	EXPECT(0, "3 ok", "sweep", "--backend", "naive", "--phases", "decode", "--cache", "96", "--heads", "4", "--gqa",
	       "2", "--head-dim", "16", "--dtype", "f32,f16,bf16", "--repetitions", "1", "--min-time", "0.001", "--out",
	       dir);
	table t;
	read_results(dir, &t);
	assert_int_equal(t.nrows, 3);
	const int cd = table_col(&t, "dtype");
	for (int r = 0; r < 3; r++) {
		const char *dt = t.rows[r][cd];
		const double esz = strcmp(dt, "f32") ? 2 : 4;
		/* 2 x batch x kv_heads x cache x head_dim x size */
		assert_true(cell(&t, r, "kv_cache_bytes") == 2 * 1 * 2 * 96 * 16 * esz);
		/* Q and K, V of the cache read in the stored size, O written in f32 */
		const double bytes = (4 * 16 + 2 * 2 * 96 * 16) * esz + 4 * 16 * 4;
		if (cell(&t, r, "bytes") != bytes)
			fail_msg("%s: bytes = %g, want %g", dt, cell(&t, r, "bytes"), bytes);
		/* gbytes_s is bytes / time_ns, written with 4 decimals: compare
		 * within that rounding, not as a product (a slow point makes the
		 * rounding a large part of a small rate) */
		const double rate = cell(&t, r, "gbytes_s"), want = bytes / cell(&t, r, "time_ns");
		if (fabs(rate - want) > 0.5e-4 + 1e-9 * want)
			fail_msg("%s: gbytes_s = %g, want bytes / time_ns = %g", dt, rate, want);
	}
	table_free(&t);
	tu_rmtree(dir);
}

/* plan keeps each dtype's rows apart. */
static void test_plan_dtype(void **state)
{
	(void)state;
	char *dir = tu_tmpdir();
	EXPECT(0, "ok", "sweep", "--backend", "naive", "--phases", "decode,prefill", "--seq", "16,32", "--cache",
	       "64,128", "--heads", "4", "--gqa", "2", "--head-dim", "16", "--dtype", "f32,f16", "--repetitions", "1",
	       "--min-time", "0.001", "--out", dir);
	char *out = NULL, *err = NULL;
	const int rc = tu_run(&out, &err, "plan", "--layers", "2", "--heads", "4", "--kv-heads", "2", "--head-dim",
	                      "16", "--mem", "1GiB", "--weights", "0", "--results", dir, (char *)NULL);
	if (rc != 0)
		fail_msg("exit %d: %s", rc, err);
	assert_non_null(strstr(out, "backend naive, f32 storage"));
	assert_non_null(strstr(out, "backend naive, f16 storage"));
	assert_non_null(strstr(out, "seqs f32"));
	assert_non_null(strstr(out, "seqs bf16"));
	free(out);
	free(err);
	tu_rmtree(dir);
}

int run_dtype_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_f16_widen_all), cmocka_unit_test(test_f16_round),
	    cmocka_unit_test(test_bf16_round),    cmocka_unit_test(test_manifest_dtype),
	    cmocka_unit_test(test_ratio_rule),    cmocka_unit_test(test_sweep_dtype),
	    cmocka_unit_test(test_plan_dtype),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("dtype", tests, NULL, NULL);
}
