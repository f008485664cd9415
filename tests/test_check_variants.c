/* test_check_variants.c - what check does with the ABI 3 cases: the quantized
 * storage types bit for bit on blocks worked out by hand (llama.cpp's
 * rules, OCP FP8), the harness's reference on every variant worked out by
 * hand, integer .npy files, and goldens with variants, kv storage types,
 * ragged lengths and the paged path run end to end: on a backend that
 * claims them (tests/plugins/variants.c), one that reads padding, one that
 * ignores the block table, built-in backends that claim none, and an ABI 1
 * library that must never see them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_quant.h"
#include "lib/npy.h"
#include "run/reference.h"
#include "testutil.h"

/* ---- quantized storage, by hand ---------------------------------------- */

static void test_q8_0_by_hand(void **state)
{
	(void)state;
	/* amax 7.9375 = 127 / 16: d = 1/16 exactly (f16 0x2C00), x * 16 rounds
	 * half away from zero */
	float x[32] = {7.9375f, -3.0f, 0.03125f, -0.03125f, 1.0f, 0.09375f, -0.09375f};
	const int8_t want[7] = {127, -48, 1, -1, 16, 2, -2};
	attn_block_q8_0 b;
	attn_quantize_row(&b, x, 32, ATTN_Q8_0);
	assert_int_equal(b.d, 0x2C00);
	for (int i = 0; i < 7; i++)
		assert_int_equal(b.qs[i], want[i]);
	for (int i = 7; i < 32; i++)
		assert_int_equal(b.qs[i], 0);
	float y[32];
	attn_dequantize_row(y, &b, 32, ATTN_Q8_0);
	const float back[7] = {7.9375f, -3.0f, 0.0625f, -0.0625f, 1.0f, 0.125f, -0.125f};
	for (int i = 0; i < 7; i++)
		assert_true(y[i] == back[i]);
	assert_int_equal(attn_row_bytes(ATTN_Q8_0, 64), 68);
}

static void test_q4_0_by_hand(void **state)
{
	(void)state;
	/* the largest magnitude is -2 (sign kept): d = -2 / -8 = 0.25 (f16
	 * 0x3400); nibble = min(15, trunc(x * 4 + 8.5)); element j in the low
	 * nibble of byte j, element j + 16 in the high one */
	float x[32] = {-2.0f, 1.75f, 0.0f, 0.125f, -0.125f};
	x[16] = 1.0f;
	x[17] = -1.0f;
	attn_block_q4_0 b;
	attn_quantize_row(&b, x, 32, ATTN_Q4_0);
	assert_int_equal(b.d, 0x3400);
	assert_int_equal(b.qs[0], 0x0 | 12 << 4); /* -2 -> 0, 1.0 -> 12 */
	assert_int_equal(b.qs[1], 15 | 4 << 4);   /* 1.75 -> 15.5 -> 15, -1 -> 4 */
	assert_int_equal(b.qs[2], 0x88);
	assert_int_equal(b.qs[3], 9 | 8 << 4); /* 0.125 -> 9 */
	assert_int_equal(b.qs[4], 0x88);       /* -0.125 -> 8 */
	float y[32];
	attn_dequantize_row(y, &b, 32, ATTN_Q4_0);
	assert_true(y[0] == -2.0f && y[1] == 1.75f && y[2] == 0.0f && y[3] == 0.25f && y[4] == 0.0f);
	assert_true(y[16] == 1.0f && y[17] == -1.0f);
	/* a positive maximum gives a negative scale */
	float p[32] = {2.0f};
	attn_quantize_row(&b, p, 32, ATTN_Q4_0);
	assert_int_equal(b.d, 0xB400);
	assert_int_equal(b.qs[0] & 15, 0);
	attn_dequantize_row(y, &b, 32, ATTN_Q4_0);
	assert_true(y[0] == 2.0f);
	assert_int_equal(attn_row_bytes(ATTN_Q4_0, 64), 36);
}

static void test_fp8_by_hand(void **state)
{
	(void)state;
	const struct {
		float x;
		uint8_t bits;
	} c[] = {
	    {448.0f, 0x7E},    {464.0f, 0x7E},   {1e9f, 0x7E}, {INFINITY, 0x7E}, {-448.0f, 0xFE},
	    {-INFINITY, 0xFE}, {1.0f, 0x38},     {0.0f, 0x00}, {-0.0f, 0x80},    {0x1p-6f, 0x08},
	    {0x1p-9f, 0x01},   {0x1p-10f, 0x00}, /* half the smallest subnormal: ties to even, 0 */
	    {0x3p-10f, 0x02},                    /* 1.5 quanta: to even, 2 */
	    {0x7p-9f, 0x07},                     /* the largest subnormal */
	    {1.0625f, 0x38},                     /* between 1 and 1.125: to even, 1 */
	    {1.1875f, 0x3A},                     /* between 1.125 and 1.25: to even, 1.25 */
	    {432.0f, 0x7E},                      /* between 416 and 448: to even, 448 */
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
		if (attn_f32_to_fp8(c[i].x) != c[i].bits)
			fail_msg("fp8 of %a: 0x%02X, want 0x%02X", (double)c[i].x, attn_f32_to_fp8(c[i].x), c[i].bits);
	assert_int_equal(attn_f32_to_fp8(NAN) & 0x7F, 0x7F);
	assert_true(attn_fp8_to_f32(0x7E) == 448.0f);
	assert_true(attn_fp8_to_f32(0x01) == 0x1p-9f);
	assert_true(attn_fp8_to_f32(0x08) == 0x1p-6f);
	assert_true(isnan(attn_fp8_to_f32(0x7F)) && isnan(attn_fp8_to_f32(0xFF)));
	/* every finite encoding survives a round trip */
	for (int b = 0; b < 256; b++)
		if ((b & 0x7F) != 0x7F && attn_f32_to_fp8(attn_fp8_to_f32((uint8_t)b)) != b)
			fail_msg("fp8 0x%02X does not round-trip", b);
}

/* ---- the reference, by hand ---------------------------------------------- */

static attn_shape one_head(int64_t d, int64_t n_q, int64_t n_kv, int causal)
{
	attn_shape s = {.batch = 1, .n_heads = 1, .n_kv_heads = 1, .head_dim = d, .n_q = n_q, .n_kv = n_kv};
	s.causal = causal;
	s.scale = 1.0f;
	return s;
}

static void test_reference_window_sinks_softcap(void **state)
{
	(void)state;
	const float q[2] = {0, 0}, k[3] = {0, 0, 0}, v[3] = {1, 10, 100};
	double out[2];
	/* window 1 under causal: each query sees only the key at its position */
	attn_shape s = one_head(1, 2, 3, 1);
	s.window = 1;
	assert_int_equal(attn_reference(&s, q, k, v, out, NULL), 0);
	assert_true(out[0] == 10 && out[1] == 100);
	/* window 1 without causal: the keys after p stay visible */
	s.causal = 0;
	assert_int_equal(attn_reference(&s, q, k, v, out, NULL), 0);
	assert_true(fabs(out[0] - 55) < 1e-12 && out[1] == 100);
	/* window 2, causal: query 1 (p 2) sees keys 1 and 2 */
	s.causal = 1;
	s.window = 2;
	assert_int_equal(attn_reference(&s, q, k, v, out, NULL), 0);
	assert_true(fabs(out[1] - 55) < 1e-12);

	/* a sink z = ln 3 beside three equal scores: weights shrink by
	 * sum / (sum + e^z) = 3 / 6 */
	attn_shape z = one_head(1, 1, 3, 0);
	const float ln3 = (float)log(3.0);
	z.sinks = &ln3;
	assert_int_equal(attn_reference(&z, q, k, v, out, NULL), 0);
	assert_true(fabs(out[0] - 111.0 / 3 * 3 / (3 + exp((double)ln3))) < 1e-9);

	/* softcap 2 bounds a score of 100 by 2: weights e^2 and 1 */
	attn_shape c = one_head(1, 1, 2, 0);
	c.softcap = 2.0f;
	const float qc[1] = {100}, kc[2] = {1, 0}, vc[2] = {1, 0};
	assert_int_equal(attn_reference(&c, qc, kc, vc, out, NULL), 0);
	const double e2 = exp(2 * tanh(50.0));
	assert_true(fabs(out[0] - e2 / (e2 + 1)) < 1e-7);
	/* and the f32 path agrees */
	float o32[1];
	assert_int_equal(attn_reference(&c, qc, kc, vc, NULL, o32), 0);
	assert_true(fabs(o32[0] - out[0]) < 1e-6);
}

static void test_reference_alibi_head_dim_v_ragged(void **state)
{
	(void)state;
	double out[8];
	/* ALiBi slope ln 2 without causal: query 0 of 2 sits at p 1, keys at
	 * distance 1, 0, 1: weights 1/2, 1, 1/2 */
	attn_shape a = one_head(1, 2, 3, 0);
	const float m = (float)log(2.0), q[2] = {0, 0}, k[3] = {0, 0, 0}, v[3] = {4, 8, 16};
	a.alibi = &m;
	assert_int_equal(attn_reference(&a, q, k, v, out, NULL), 0);
	assert_true(fabs(out[0] - (4 / 2.0 + 8 + 16 / 2.0) / 2.0) < 1e-6);
	/* query 1 at p 2: distances 2, 1, 0: weights 1/4, 1/2, 1 */
	assert_true(fabs(out[1] - (4 / 4.0 + 8 / 2.0 + 16) / 1.75) < 1e-6);

	/* head_dim_v 2 beside head_dim 1: v rows of two, out rows of two */
	attn_shape w = one_head(1, 1, 2, 0);
	w.head_dim_v = 2;
	const float vw[4] = {1, 2, 3, 4};
	assert_int_equal(attn_reference(&w, q, k, vw, out, NULL), 0);
	assert_true(out[0] == 2 && out[1] == 3);

	/* ragged: sequence 0 has 1 query over 2 keys (p 1, causal: keys 0, 1),
	 * sequence 1 no query; padding rows hold NaN and are never read */
	attn_shape r = {.batch = 2, .n_heads = 1, .n_kv_heads = 1, .head_dim = 1, .n_q = 2, .n_kv = 3, .causal = 1};
	r.scale = 1;
	const int64_t ql[2] = {1, 0}, kl[2] = {2, 3};
	r.q_lens = ql;
	r.kv_lens = kl;
	const float qr[4] = {0, NAN, NAN, NAN}, kr[6] = {0, 0, NAN, 0, 0, 0}, vr[6] = {2, 4, NAN, 1, 1, 1};
	assert_int_equal(attn_reference(&r, qr, kr, vr, out, NULL), 0);
	assert_true(out[0] == 3 && out[1] == 0 && out[2] == 0 && out[3] == 0);
	/* a query that sees no key (kv_len 0, not causal), with a sink: 0 */
	attn_shape e = one_head(1, 1, 2, 0);
	const int64_t q1[1] = {1}, k0[1] = {0};
	const float zs = 1;
	e.q_lens = q1;
	e.kv_lens = k0;
	e.sinks = &zs;
	assert_int_equal(attn_reference(&e, q, k, v, out, NULL), 0);
	assert_true(out[0] == 0);
}

/* ---- goldens with variants, end to end ------------------------------------ */

static char *gdir;

static void write_f32(const char *name, const float *x, int ndim, const int64_t *shape)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", gdir, name);
	assert_int_equal(npy_write(p, x, 4, ndim, shape), 0);
}

/* A case: random inputs, its optional arrays, the float64 reference of the
 * unrounded inputs; the manifest row appended to *csv. */
static void make_case(const char *name, attn_shape s, const char *kv_dtype, const float *alibi, const float *sinks,
                      const int64_t *ql, const int64_t *kl, int int_width, char *csv, size_t cap)
{
	const int64_t DV = attn_head_dim_v(&s);
	const int64_t qs[4] = {s.batch, s.n_heads, s.n_q, s.head_dim},
	              ks[4] = {s.batch, s.n_kv_heads, s.n_kv, s.head_dim}, vs[4] = {s.batch, s.n_kv_heads, s.n_kv, DV},
	              os[4] = {s.batch, s.n_heads, s.n_q, DV};
	const size_t nq = (size_t)(qs[0] * qs[1] * qs[2] * qs[3]), nk = (size_t)(ks[0] * ks[1] * ks[2] * ks[3]),
	             nv = (size_t)(vs[0] * vs[1] * vs[2] * vs[3]), no = (size_t)(os[0] * os[1] * os[2] * os[3]);
	float *q = malloc(nq * 4), *k = malloc(nk * 4), *v = malloc(nv * 4);
	double *out = malloc(no * 8);
	fill_uniform(q, nq, 1, 2.0f);
	fill_uniform(k, nk, 2, 1.0f);
	fill_uniform(v, nv, 3, 1.0f);
	s.scale = (float)(1.0 / sqrt((double)s.head_dim)); /* the manifest's default */
	s.alibi = alibi;
	s.sinks = sinks;
	s.q_lens = ql;
	s.kv_lens = kl;
	assert_int_equal(attn_reference(&s, q, k, v, out, NULL), 0);
	char f[5][128];
	const char *suf[4] = {"q", "k", "v", "out"};
	for (int i = 0; i < 4; i++)
		snprintf(f[i], sizeof f[i], "%s_%s.npy", name, suf[i]);
	write_f32(f[0], q, 4, qs);
	write_f32(f[1], k, 4, ks);
	write_f32(f[2], v, 4, vs);
	char p[512];
	snprintf(p, sizeof p, "%s/%s", gdir, f[3]);
	assert_int_equal(npy_write(p, out, 8, 4, os), 0);
	const int64_t nh[1] = {s.n_heads}, nb[1] = {s.batch};
	char extra[4][128] = {"", "", "", ""};
	if (alibi) {
		snprintf(extra[0], sizeof extra[0], "%s_alibi.npy", name);
		write_f32(extra[0], alibi, 1, nh);
	}
	if (sinks) {
		snprintf(extra[1], sizeof extra[1], "%s_sinks.npy", name);
		write_f32(extra[1], sinks, 1, nh);
	}
	for (int l = 0; l < 2; l++) {
		const int64_t *src = l ? kl : ql;
		if (!src)
			continue;
		snprintf(extra[2 + l], sizeof extra[2 + l], "%s_%s.npy", name, l ? "kv_lens" : "q_lens");
		snprintf(p, sizeof p, "%s/%s", gdir, extra[2 + l]);
		int32_t i4[16];
		for (int64_t b = 0; b < s.batch; b++)
			i4[b] = (int32_t)src[b];
		assert_int_equal(
		    npy_write_typed(p, int_width == 4 ? (const void *)i4 : (const void *)src, 'i', int_width, 1, nb),
		    0);
	}
	char w[32] = "", c[32] = "", dv[32] = "";
	if (s.window)
		snprintf(w, sizeof w, "%lld", (long long)s.window);
	if (s.softcap > 0)
		snprintf(c, sizeof c, "%g", (double)s.softcap);
	if (s.head_dim_v)
		snprintf(dv, sizeof dv, "%lld", (long long)s.head_dim_v);
	const size_t len = strlen(csv);
	snprintf(csv + len, cap - len, "%s,%lld,%lld,%lld,%lld,%lld,%lld,%d,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n",
	         name, (long long)s.batch, (long long)s.n_heads, (long long)s.n_kv_heads, (long long)s.head_dim,
	         (long long)s.n_q, (long long)s.n_kv, s.causal, f[0], f[1], f[2], f[3], w, c, extra[0], extra[1], dv,
	         kv_dtype, extra[2], extra[3], "");
	free(q), free(k), free(v), free(out);
}

#define VHEADER                                                                                                        \
	"name,batch,n_heads,n_kv_heads,head_dim,n_q,n_kv,causal,q,k,v,out,window,softcap,alibi,sinks,head_dim_v,"      \
	"kv_dtype,q_lens,kv_lens,unknown\n"

/* The variant goldens: window, softcap + ALiBi + sinks (decode), head_dim_v,
 * q8_0, fp8, ragged (lengths as <i4 and as <i8). */
static void make_goldens(void)
{
	static char csv[8192];
	snprintf(csv, sizeof csv, VHEADER);
	const attn_shape base = {
	    .batch = 1, .n_heads = 2, .n_kv_heads = 1, .head_dim = 8, .n_q = 4, .n_kv = 9, .causal = 1};
	attn_shape s = base;
	s.window = 3;
	make_case("win", s, "", NULL, NULL, NULL, NULL, 0, csv, sizeof csv);
	s = base;
	s.n_q = 1;
	s.n_kv = 7;
	s.causal = 0;
	s.softcap = 1.5f;
	const float alibi[2] = {0.5f, 0.25f}, sinks[2] = {0.3f, -1.0f};
	make_case("mix", s, "", alibi, sinks, NULL, NULL, 0, csv, sizeof csv);
	s = base;
	s.head_dim_v = 16;
	s.n_q = 3;
	s.n_kv = 5;
	make_case("mla", s, "", NULL, NULL, NULL, NULL, 0, csv, sizeof csv);
	s = base;
	s.head_dim = 32;
	s.n_q = 2;
	s.n_kv = 10;
	make_case("q8", s, "q8_0", NULL, NULL, NULL, NULL, 0, csv, sizeof csv);
	make_case("fp8", s, "fp8_e4m3", NULL, NULL, NULL, NULL, 0, csv, sizeof csv);
	s = base;
	s.batch = 3;
	s.n_q = 4;
	s.n_kv = 8;
	const int64_t ql[3] = {4, 0, 2}, kl[3] = {8, 3, 5};
	make_case("rag", s, "", NULL, NULL, ql, kl, 4, csv, sizeof csv);
	s.n_q = 1;
	const int64_t ql1[3] = {1, 1, 0}, kl1[3] = {8, 2, 4};
	make_case("ragdec", s, "", NULL, NULL, ql1, kl1, 8, csv, sizeof csv);
	char p[512];
	snprintf(p, sizeof p, "%s/manifest.csv", gdir);
	tu_write(p, csv, strlen(csv));
}

static const char *variants_lib(void)
{
	return tu_built("plugins/variants.so");
}

/* The line of case c in out, or fail. */
static const char *row_of(const char *out, const char *c, const char *backend)
{
	char needle[64];
	snprintf(needle, sizeof needle, "\n%-24s %-10s", c, backend);
	const char *p = strstr(out, needle);
	if (!p)
		fail_msg("no row for %s/%s in:\n%s", c, backend, out);
	return p + 1;
}

static int row_has(const char *out, const char *c, const char *backend, const char *what)
{
	const char *r = row_of(out, c, backend), *nl = strchr(r, '\n');
	const char *hit = strstr(r, what);
	return hit && (!nl || hit < nl);
}

static void test_goldens_pass_with_every_path(void **state)
{
	(void)state;
	char *out = NULL, *err = NULL;
	int rc = tu_run(&out, &err, "check", "--golden", gdir, "--backend-lib", variants_lib(), "--backend", "variants",
	                (char *)NULL);
	if (rc != 0)
		fail_msg("exit %d:\n%s\n%s", rc, out, err);
	const char *names[] = {"win", "mix", "mla", "q8", "fp8", "rag", "ragdec"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		assert_true(row_has(out, names[i], "variants", "PASS"));
		assert_true(row_has(out, names[i], "variants", "paged"));
	}
	assert_true(row_has(out, "win", "variants", "attend+prefill+paged"));
	assert_true(row_has(out, "mix", "variants", "attend+decode+paged"));
	assert_true(row_has(out, "q8", "variants", "f32/q8_0"));
	free(out), free(err);
}

/* A backend that reads the padding of a ragged case gets NaN there and
 * fails; one that ignores the block table fails the paged path. */
static void test_padding_and_pages_are_checked(void **state)
{
	(void)state;
	char *out = NULL, *err = NULL;
	int rc = tu_run(&out, &err, "check", "--golden", gdir, "--backend-lib", variants_lib(), "--backend", "variants",
	                "--param", "variants:mode=read_padding", (char *)NULL);
	assert_int_equal(rc, 1);
	assert_true(row_has(out, "rag", "variants", "FAIL: attend"));
	assert_true(row_has(out, "rag", "variants", "NaN") || strstr(out, "NaN where a finite value is expected"));
	assert_true(row_has(out, "win", "variants", "PASS"));
	free(out), free(err);
	rc = tu_run(&out, &err, "check", "--golden", gdir, "--backend-lib", variants_lib(), "--backend", "variants",
	            "--param", "variants:mode=no_table", (char *)NULL);
	assert_int_equal(rc, 1);
	assert_true(row_has(out, "win", "variants", "FAIL: paged"));
	free(out), free(err);
}

/* Built-in backends claim none of it yet, an ABI 1 library cannot: SKIP
 * with what is missing, without a call (the ABI 1 plugin's supports would
 * answer "a test of loading only"). */
static void test_unclaimed_cases_skip(void **state)
{
	(void)state;
	char *out = NULL, *err = NULL;
	int rc = tu_run(&out, &err, "check", "--golden", gdir, "--backend-lib", tu_built("plugins/abi1/old_abi.so"),
	                "--backend", "oldabi", (char *)NULL);
	assert_int_equal(rc, 1); /* no pair ran */
	assert_true(row_has(out, "win", "oldabi", "SKIP (not supported: ABI 3 fields (the backend is ABI 1))"));
	assert_null(strstr(out, "a test of loading only"));
	free(out), free(err);
	rc = tu_run(&out, &err, "check", "--golden", gdir, "--backend-lib", variants_lib(), "--backend",
	            "naive,variants", (char *)NULL);
	if (rc != 0)
		fail_msg("exit %d:\n%s\n%s", rc, out, err);
	if (!(row_has(out, "win", "naive", "SKIP (not supported: window)") &&
	      row_has(out, "mix", "naive", "softcap, alibi, sinks") && row_has(out, "q8", "naive", "kv_dtype q8_0") &&
	      row_has(out, "rag", "naive", "ragged lengths")))
		/* the naive backend may have learnt some of them: then it must pass */
		assert_null(strstr(out, "FAIL"));
	free(out), free(err);
}

/* Bad values in the new files: exit 2 naming the file and the index. */
static void test_bad_arrays(void **state)
{
	(void)state;
	char p[600], bad[512];
	snprintf(bad, sizeof bad, "%s/rag_q_lens.npy", gdir);
	snprintf(p, sizeof p, "%s.keep", bad);
	assert_int_equal(rename(bad, p), 0);
	const int64_t nb[1] = {3}, two[1] = {2};
	const int32_t too_big[3] = {4, 5, 1}, over_kv[3] = {4, 4, 2}, neg[3] = {0, -1, 0};
	const float fl[3] = {1, 1, 1};
	assert_int_equal(npy_write_typed(bad, too_big, 'i', 4, 1, nb), 0);
	EXPECT(2, "rag_q_lens.npy: data: q_lens[1] = 5 is outside 0..4", "check", "--golden", gdir, "--backend",
	       "naive");
	assert_int_equal(npy_write_typed(bad, neg, 'i', 4, 1, nb), 0);
	EXPECT(2, "q_lens[1] = -1", "check", "--golden", gdir, "--backend", "naive");
	assert_int_equal(npy_write_typed(bad, over_kv, 'i', 4, 1, nb), 0);
	EXPECT(2, "q_lens[1] = 4 is more than kv_lens[1] = 3", "check", "--golden", gdir, "--backend", "naive");
	assert_int_equal(npy_write_typed(bad, fl, 'f', 4, 1, nb), 0);
	EXPECT(2, "rag_q_lens.npy: header field 'descr': q_lens needs integers", "check", "--golden", gdir, "--backend",
	       "naive");
	assert_int_equal(npy_write_typed(bad, too_big, 'i', 4, 1, two), 0);
	EXPECT(2, "rag_q_lens.npy: header field 'shape': q_lens is (2,), the manifest says (3,)", "check", "--golden",
	       gdir, "--backend", "naive");
	assert_int_equal(rename(p, bad), 0);
	/* the lengths' over-causal check names the file: ok again */
	snprintf(bad, sizeof bad, "%s/mix_alibi.npy", gdir);
	const float nan2[2] = {0, NAN};
	const int64_t nh[1] = {2};
	snprintf(p, sizeof p, "%s.keep", bad);
	assert_int_equal(rename(bad, p), 0);
	assert_int_equal(npy_write(bad, nan2, 4, 1, nh), 0);
	EXPECT(2, "mix_alibi.npy: data: alibi[1] is not a finite number", "check", "--golden", gdir, "--backend",
	       "naive");
	assert_int_equal(rename(p, bad), 0);
	/* v must be head_dim_v wide */
	snprintf(bad, sizeof bad, "%s/mla_v.npy", gdir);
	snprintf(p, sizeof p, "%s.keep", bad);
	assert_int_equal(rename(bad, p), 0);
	const int64_t vs[4] = {1, 1, 5, 8};
	float z[40] = {0};
	assert_int_equal(npy_write(bad, z, 4, 4, vs), 0);
	EXPECT(2, "mla_v.npy: header field 'shape': v is (1, 1, 5, 8), the manifest says (1, 1, 5, 16)", "check",
	       "--golden", gdir, "--backend", "naive");
	assert_int_equal(rename(p, bad), 0);
}

/* A failing random case's replay line runs that case again, exactly. */
static void test_random_replay(void **state)
{
	(void)state;
	char *out = NULL, *err = NULL;
	int rc = tu_run(&out, &err, "check", "--random", "40", "--seed", "11", "--backend-lib", variants_lib(),
	                "--backend", "variants", "--param", "variants:mode=read_padding", (char *)NULL);
	assert_int_equal(rc, 1);
	const char *r = strstr(out, "replay with: attnbench check --random 40 --seed 11 --replay ");
	assert_non_null(r);
	int k = atoi(r + strlen("replay with: attnbench check --random 40 --seed 11 --replay "));
	char ks[16], name[32];
	snprintf(ks, sizeof ks, "%d", k);
	snprintf(name, sizeof name, "random-%d", k);
	assert_non_null(strstr(out, "q_lens:"));
	const char *row = row_of(out, name, "variants");
	char *line = strndup(row, (size_t)(strchr(row, '\n') - row));
	char *out2 = NULL;
	rc = tu_run(&out2, NULL, "check", "--random", "40", "--seed", "11", "--replay", ks, "--backend-lib",
	            variants_lib(), "--backend", "variants", "--param", "variants:mode=read_padding", (char *)NULL);
	assert_int_equal(rc, 1);
	const char *row2 = row_of(out2, name, "variants");
	assert_memory_equal(row2, line, strlen(line));
	/* and the draw covers the variants the backend claims */
	free(out);
	rc = tu_run(&out, NULL, "check", "--random", "60", "--seed", "2", "--backend-lib", variants_lib(), "--backend",
	            "variants", (char *)NULL);
	if (rc != 0)
		fail_msg("exit %d:\n%s", rc, out);
	assert_non_null(strstr(out, "paged"));
	assert_non_null(strstr(out, "/q8_0") ? strstr(out, "/q8_0") : strstr(out, "/q4_0"));
	free(line), free(out), free(out2), free(err);
}

static int setup(void **state)
{
	(void)state;
	gdir = tu_tmpdir();
	make_goldens();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmtree(gdir);
	return 0;
}

int run_check_variant_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_q8_0_by_hand),
	    cmocka_unit_test(test_q4_0_by_hand),
	    cmocka_unit_test(test_fp8_by_hand),
	    cmocka_unit_test(test_reference_window_sinks_softcap),
	    cmocka_unit_test(test_reference_alibi_head_dim_v_ragged),
	    cmocka_unit_test(test_goldens_pass_with_every_path),
	    cmocka_unit_test(test_padding_and_pages_are_checked),
	    cmocka_unit_test(test_unclaimed_cases_skip),
	    cmocka_unit_test(test_bad_arrays),
	    cmocka_unit_test(test_random_replay),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("variants", tests, setup, teardown);
}
