/* test_vulkan.c - the Vulkan backend against a float64 reference written
 * here: many shapes through attend, the KV-cache path (append, prefill,
 * consecutive decodes, truncate), split-K against a single workgroup, the
 * shader variants meant for other devices, parameters and supports(),
 * f16 and bf16 storage (against the reference of the widened stored
 * values, sizes, and devices without 16-bit storage), and
 * faults: a fence wait that times out (in process, in a sweep and in
 * check), shapes beyond the device's memory, allocations that fail.
 * Every instance runs under the Khronos validation layer, so any
 * validation message fails the call that caused it. Skipped where no
 * Vulkan device is available. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_half.h"
#include "attnbench.h"
#include "lib/table.h"
#include "testutil.h"

#if ATTN_HAVE_VULKAN_BUILD
#include "vulkan/vulkan.h"

static const attn_backend *vk;
static void *inst;            /* default instance shared by the tests */
static char unavailable[256]; /* why the tests skip, when they do */
static uint64_t rng = 2024;

/* Uniform in [-1, 1). */
static float frand(void)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return (float)((double)(rng >> 40) / (double)(1ull << 24) * 2.0 - 1.0);
}

static size_t q_elems(const attn_shape *s)
{
	return (size_t)(s->batch * s->n_heads * s->n_q * s->head_dim);
}

static size_t kv_elems(const attn_shape *s, int64_t n)
{
	return (size_t)(s->batch * s->n_kv_heads * n * s->head_dim);
}

/* n random floats in [-amp, amp). */
static float *random_floats(size_t n, float amp)
{
	float *p = malloc((n ? n : 1) * sizeof *p);
	assert_non_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = amp * frand();
	return p;
}

/* Assert |got - ref| <= 1e-4 + 1e-4 |ref| everywhere; report the worst. */
static void expect_close(const char *what, const attn_shape *s, const float *got, const double *ref, size_t n)
{
	size_t bad = 0, worst = 0;
	double worst_ratio = 0;
	for (size_t i = 0; i < n; i++) {
		const double err = fabs((double)got[i] - ref[i]), tol = 1e-4 + 1e-4 * fabs(ref[i]);
		if (!(err <= tol))
			bad++;
		if (!(err / tol <= worst_ratio)) {
			worst_ratio = err / tol;
			worst = i;
		}
	}
	if (bad)
		print_error("%s: b%lld h%lld/%lld d%lld n_q %lld n_kv %lld causal %d: %zu of %zu values off, worst "
		            "at %zu: got %.9g want %.9g\n",
		            what, (long long)s->batch, (long long)s->n_heads, (long long)s->n_kv_heads,
		            (long long)s->head_dim, (long long)s->n_q, (long long)s->n_kv, s->causal, bad, n, worst,
		            (double)got[worst], ref[worst]);
	assert_int_equal(bad, 0);
}

/* Create an instance with the given parameters; fails the test if it fails. */
static void *create(const char *params)
{
	attn_config cfg = {.threads = 0, .device = NULL, .params = params};
	char err[512] = "";
	void *p = NULL;
	int rc = vk->create(&cfg, &p, err, sizeof err);
	if (rc)
		print_error("create(%s): %s\n", params ? params : "", err);
	assert_int_equal(rc, ATTN_OK);
	return p;
}

/* Call status; on failure print the instance's last error. */
static void expect_ok(void *ctx, int rc, const char *what)
{
	if (rc)
		print_error("%s: %s\n", what, vk->last_error(ctx));
	assert_int_equal(rc, ATTN_OK);
}

/* One shape through attend on ctx, inputs scaled by amp, against the reference. */
static void check_attend(void *ctx, const attn_shape *s, float amp)
{
	float *q = random_floats(q_elems(s), amp), *k = random_floats(kv_elems(s, s->n_kv), amp);
	float *v = random_floats(kv_elems(s, s->n_kv), 1.0f), *got = calloc(q_elems(s), sizeof(float));
	double *ref = malloc(q_elems(s) * sizeof *ref);
	assert_non_null(got);
	assert_non_null(ref);
	tu_reference(s, q, k, v, s->n_kv, ref);
	expect_ok(ctx, vk->attend(ctx, s, q, k, v, got), "attend");
	expect_close("attend", s, got, ref, q_elems(s));
	free(q);
	free(k);
	free(v);
	free(got);
	free(ref);
}

/* A shape: batch, heads, KV heads, head_dim, n_q, n_kv, causal, scale (0: 1/sqrt(d)). */
static attn_shape shape(int64_t b, int64_t h, int64_t hk, int64_t d, int64_t nq, int64_t nkv, int causal, float scale)
{
	attn_shape s = {.batch = b,
	                .n_heads = h,
	                .n_kv_heads = hk,
	                .head_dim = d,
	                .n_q = nq,
	                .n_kv = nkv,
	                .causal = causal,
	                .scale = scale > 0 ? scale : (float)(1.0 / sqrt((double)d)),
	                .dtype = ATTN_F32};
	return s;
}

static int group_setup(void **state)
{
	(void)state;
	setenv("ATTNBENCH_VK_VALIDATION", "1", 1);
	vk = attn_backend_vulkan();
	if (!vk->probe(unavailable, sizeof unavailable))
		return 0;
	unavailable[0] = 0;
	attn_config cfg = {0};
	char err[512];
	if (vk->create(&cfg, &inst, err, sizeof err) != ATTN_OK) {
		fprintf(stderr, "vulkan: create failed: %s\n", err);
		inst = NULL;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (inst)
		vk->destroy(inst);
	inst = NULL;
	return 0;
}

/* Skip without a Vulkan device; fail if one exists but create failed. */
static void need_device(void)
{
	if (unavailable[0]) {
		fprintf(stderr, "vulkan: skipped (%s)\n", unavailable);
		skip();
	}
	assert_non_null(inst);
}

/* attend over MHA, GQA 2/4/8, MQA, causal and not, n_q = 1, chunks
 * (n_q < n_kv), every head_dim class, batch 2 and a custom scale. */
static void test_attend_shapes(void **state)
{
	(void)state;
	need_device();
	const attn_shape shapes[] = {
	    shape(1, 4, 4, 64, 37, 53, 0, 0),     /* MHA */
	    shape(1, 4, 4, 64, 70, 70, 1, 0),     /* MHA causal square */
	    shape(1, 8, 4, 128, 50, 50, 1, 0),    /* GQA 2 */
	    shape(2, 8, 2, 80, 20, 45, 1, 0),     /* GQA 4, batch 2, causal chunk */
	    shape(1, 8, 1, 128, 33, 33, 1, 0),    /* GQA 8 (MQA of 8 heads) */
	    shape(1, 6, 1, 64, 16, 40, 1, 0.5f),  /* MQA, custom scale */
	    shape(1, 4, 2, 1, 9, 30, 1, 0),       /* head_dim 1 */
	    shape(2, 4, 2, 3, 17, 17, 0, 0),      /* head_dim 3 */
	    shape(1, 2, 1, 256, 9, 70, 1, 0),     /* head_dim 256 */
	    shape(1, 3, 3, 80, 1, 1, 0, 0),       /* one key */
	    shape(1, 8, 2, 128, 1, 700, 1, 0),    /* n_q = 1: split-K */
	    shape(2, 4, 4, 256, 1, 300, 0, 0),    /* n_q = 1, head_dim 256 */
	    shape(1, 4, 1, 3, 1, 1000, 1, 0.25f), /* n_q = 1, MQA, head_dim 3 */
	    shape(1, 2, 2, 64, 130, 260, 0, 0),   /* n_kv not a multiple of any tile */
	};
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
		check_attend(inst, &shapes[i], 1.0f);
}

/* Logits far beyond exp's float range: only max subtraction survives. */
static void test_huge_logits(void **state)
{
	(void)state;
	need_device();
	attn_shape s = shape(1, 8, 1, 64, 24, 40, 1, 1.0f);
	check_attend(inst, &s, 30.0f); /* |q.k| up to ~ 64 * 900 */
	s.n_q = 1;
	check_attend(inst, &s, 30.0f);
}

/* Copy tokens [from, from+n) of every (batch, KV head) of k, elements of
 * es bytes, into a new [batch][n_kv_heads][n][head_dim] array. */
static void *tokens_as(const attn_shape *full, const void *k, int64_t from, int64_t n, size_t es)
{
	const int64_t rows = full->batch * full->n_kv_heads, d = full->head_dim;
	char *out = malloc((size_t)(rows * n * d) * es + 1);
	assert_non_null(out);
	for (int64_t r = 0; r < rows; r++)
		memcpy(out + (size_t)(r * n * d) * es, (const char *)k + (size_t)((r * full->n_kv + from) * d) * es,
		       (size_t)(n * d) * es);
	return out;
}

static float *tokens(const attn_shape *full, const float *k, int64_t from, int64_t n)
{
	return tokens_as(full, k, from, n, sizeof(float));
}

/* One prefill (n new tokens after len) or decode (n == 1) through the
 * cache, checked against the reference over the first len + n tokens of k, v. */
static void cache_step(void *ctx, const attn_shape *full, const float *k, const float *v, int64_t len, int64_t n,
                       int decode)
{
	attn_shape s = *full;
	s.n_q = n;
	s.n_kv = len + n;
	s.causal = 1;
	float *q = random_floats(q_elems(&s), 1.0f), *got = calloc(q_elems(&s), sizeof(float));
	float *kn = tokens(full, k, len, n), *vn = tokens(full, v, len, n);
	double *ref = malloc(q_elems(&s) * sizeof *ref);
	assert_non_null(got);
	assert_non_null(ref);
	tu_reference(&s, q, k, v, full->n_kv, ref);
	if (decode)
		expect_ok(ctx, vk->decode(ctx, &s, q, kn, vn, got), "decode");
	else
		expect_ok(ctx, vk->prefill(ctx, &s, q, kn, vn, got), "prefill");
	expect_close(decode ? "decode" : "prefill", &s, got, ref, q_elems(&s));
	assert_int_equal(vk->cache_len(ctx), len + n);
	free(q);
	free(got);
	free(kn);
	free(vn);
	free(ref);
}

/* The KV-cache path: append a past, prefill a chunk, decode token after
 * token, truncate and decode again; misuse is ATTN_E_INVALID. */
static void test_cache_path(void **state)
{
	(void)state;
	need_device();
	static const struct {
		int64_t b, h, hk, d;
	} geo[] = {{2, 8, 2, 64}, {1, 3, 3, 80}, {1, 4, 1, 3}};
	for (size_t t = 0; t < sizeof geo / sizeof geo[0]; t++) {
		attn_shape full = shape(geo[t].b, geo[t].h, geo[t].hk, geo[t].d, 1, 120, 1, 0);
		const int64_t past = 57, chunk = 23, n_dec = 5;
		float *k = random_floats(kv_elems(&full, full.n_kv), 1.0f),
		      *v = random_floats(kv_elems(&full, full.n_kv), 1.0f);
		expect_ok(inst, vk->cache_alloc(inst, &full), "cache_alloc");
		assert_int_equal(vk->cache_len(inst), 0);
		assert_true(vk->cache_bytes(inst) >= 2 * kv_elems(&full, full.n_kv) * sizeof(float));
		float *kp = tokens(&full, k, 0, past), *vp = tokens(&full, v, 0, past);
		expect_ok(inst, vk->cache_append(inst, kp, vp, past), "cache_append");
		free(kp);
		free(vp);
		assert_int_equal(vk->cache_len(inst), past);
		cache_step(inst, &full, k, v, past, chunk, 0);
		for (int64_t i = 0; i < n_dec; i++)
			cache_step(inst, &full, k, v, past + chunk + i, 1, 1);
		/* forget the decoded tokens and decode the first of them again */
		expect_ok(inst, vk->cache_truncate(inst, past + chunk), "cache_truncate");
		cache_step(inst, &full, k, v, past + chunk, 1, 1);
		assert_int_equal(vk->cache_truncate(inst, past + chunk + 2), ATTN_E_INVALID);
		/* n_kv must be cache_len + n_q, and the capacity holds */
		attn_shape s = full;
		s.n_q = 1;
		s.n_kv = past + chunk + 5;
		float *one = random_floats(q_elems(&s) + kv_elems(&s, 1), 1.0f);
		float *out = calloc(q_elems(&s), sizeof(float));
		assert_int_equal(vk->decode(inst, &s, one, one, one, out), ATTN_E_INVALID);
		assert_int_equal(vk->cache_append(inst, one, one, full.n_kv), ATTN_E_INVALID);
		assert_int_equal(vk->cache_len(inst), past + chunk + 1);
		free(one);
		free(out);
		free(k);
		free(v);
	}
}

/* split=1 (one workgroup per query) and split-K give the same decode. */
static void test_split_matches(void **state)
{
	(void)state;
	need_device();
	void *one = create("split=1"), *many = create("split=7");
	attn_shape s = shape(1, 8, 2, 64, 1, 3001, 1, 0);
	float *q = random_floats(q_elems(&s), 1.0f), *k = random_floats(kv_elems(&s, s.n_kv), 1.0f);
	float *v = random_floats(kv_elems(&s, s.n_kv), 1.0f);
	float *a = calloc(q_elems(&s), sizeof(float)), *b = calloc(q_elems(&s), sizeof(float));
	double *ref = malloc(q_elems(&s) * sizeof *ref);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(ref);
	tu_reference(&s, q, k, v, s.n_kv, ref);
	expect_ok(one, vk->attend(one, &s, q, k, v, a), "attend split=1");
	expect_ok(many, vk->attend(many, &s, q, k, v, b), "attend split=7");
	expect_close("split=1", &s, a, ref, q_elems(&s));
	expect_close("split=7", &s, b, ref, q_elems(&s));
	for (size_t i = 0; i < q_elems(&s); i++)
		assert_true(fabsf(a[i] - b[i]) <= 1e-4f + 1e-4f * fabsf(a[i]));
	vk->destroy(one);
	vk->destroy(many);
	free(q);
	free(k);
	free(v);
	free(a);
	free(b);
	free(ref);
}

/* The shader variants the defaults do not pick on this device: shared-memory
 * K/V tiles, lanes sharing a row, subgroup-merged decode, no subgroups,
 * storage buffers instead of texel views. Small head_dims keep compiling
 * cheap on CPU devices. */
static void test_variants(void **state)
{
	(void)state;
	need_device();
	static const char *const params[] = {
	    "stage=1",
	    "stage=1,tile_kv=12,step=4,rows=2,wg=64",
	    "subgroups=0,stage=1",
	    "texel=0",
	    "stage=1,dsplit=4,step=2",
	    "dec_merge=1,dec_dsplit=2,dec_wg=32,split=3",
	};
	const attn_shape shapes[] = {
	    shape(2, 4, 2, 20, 19, 45, 1, 0),
	    shape(1, 6, 2, 5, 7, 33, 0, 0),
	    shape(1, 4, 2, 16, 1, 200, 1, 0),
	};
	char why[256];
	for (size_t p = 0; p < sizeof params / sizeof params[0]; p++) {
		attn_config cfg = {.params = params[p]};
		void *ctx = NULL;
		if (vk->create(&cfg, &ctx, why, sizeof why) != ATTN_OK) {
			/* subgroup variants need subgroup operations */
			fprintf(stderr, "vulkan: variant %s not available here: %s\n", params[p], why);
			continue;
		}
		for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
			check_attend(ctx, &shapes[i], 1.0f);
		vk->destroy(ctx);
	}
}

/* Bad parameter strings fail create with ATTN_E_INVALID and a message. */
static void test_bad_params(void **state)
{
	(void)state;
	need_device();
	static const char *const bad[] = {"bogus=1",      "split=x",          "split",     "wg=48",
	                                  "timeout_ms=0", "split=1,,rows=99", "mem_mib=0", "storage16=2"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		attn_config cfg = {.params = bad[i]};
		void *ctx = NULL;
		char err[512] = "";
		assert_int_equal(vk->create(&cfg, &ctx, err, sizeof err), ATTN_E_INVALID);
		assert_null(ctx);
		assert_true(strlen(err) > 0);
	}
	void *ctx = create("split=2,timeout_ms=5000");
	vk->destroy(ctx);
	attn_config cfg = {.device = "no such device"};
	char err[512];
	assert_int_equal(vk->create(&cfg, &ctx, err, sizeof err), ATTN_E_INVALID);
}

/* supports() and what the attend entry point says about the same shapes. */
static void test_supports(void **state)
{
	(void)state;
	need_device();
	char why[256];
	attn_shape s = shape(1, 4, 2, 64, 8, 8, 1, 0);
	assert_true(vk->supports(inst, &s, why, sizeof why));
	s.head_dim = 0;
	why[0] = 0;
	assert_false(vk->supports(inst, &s, why, sizeof why));
	assert_true(strlen(why) > 0);
	s.head_dim = 300;
	why[0] = 0;
	assert_false(vk->supports(inst, &s, why, sizeof why));
	assert_true(strlen(why) > 0);
	s.head_dim = 256;
	assert_true(vk->supports(inst, &s, why, sizeof why));
	s.dtype = (attn_dtype)3; /* no such storage type */
	why[0] = 0;
	assert_false(vk->supports(inst, &s, why, sizeof why));
	assert_true(strlen(why) > 0);
	s.dtype = ATTN_F32;
	s.n_heads = 3;
	assert_false(vk->supports(inst, &s, why, sizeof why));
	s.n_heads = 4;
	s.n_q = 9;
	assert_false(vk->supports(inst, &s, why, sizeof why));
	float x[4] = {0};
	s.n_q = 1;
	s.n_kv = 1;
	s.head_dim = 300;
	assert_int_equal(vk->attend(inst, &s, x, x, x, x), ATTN_E_UNSUPPORTED);
}

/* Device name, timing, memory figures and the device list. */
static void test_info(void **state)
{
	(void)state;
	need_device();
	assert_true(strlen(vk->device_name(inst)) > 0);
	attn_shape s = shape(1, 4, 2, 64, 1, 500, 1, 0);
	check_attend(inst, &s, 1.0f);
	const int64_t ns = vk->last_device_ns(inst);
	assert_true(ns == -1 || ns > 0);
	assert_true(vk->peak_device_bytes(inst) > 0);
	assert_true(vk->workspace_bytes(inst, &s) > 0);
	char list[4096] = "";
	vk->list_devices(list, sizeof list);
	assert_non_null(strstr(list, "0: "));
	assert_non_null(strstr(list, ", 16-bit storage "));
	assert_true(vk->caps & ATTN_CAP_DEVICE_TIMER);
	assert_true(vk->caps & ATTN_CAP_F16);
	assert_true(vk->caps & ATTN_CAP_BF16);
}

/* ---- f16 and bf16 storage ------------------------------------------------ */

static const attn_dtype half_types[] = {ATTN_F16, ATTN_BF16};

static const char *dtype_name(attn_dtype t)
{
	return t == ATTN_F16 ? "f16" : t == ATTN_BF16 ? "bf16" : "f32";
}

/* A stored 16-bit value widened to f32, written out here rather than taken
 * from attn_half.h: bf16 is the top half of an f32; f16 has 5 exponent
 * bits (bias 15) and 10 mantissa bits (finite values only). */
static float widen16(uint16_t h, attn_dtype t)
{
	if (t == ATTN_BF16) {
		const uint32_t u = (uint32_t)h << 16;
		float f;
		memcpy(&f, &u, sizeof f);
		return f;
	}
	const int e = (h >> 10) & 31, m = h & 1023;
	assert_true(e < 31);
	const double v = e ? ldexp(1024.0 + m, e - 25) : ldexp((double)m, -24);
	return (float)(h & 0x8000 ? -v : v);
}

/* n random values in [-amp, amp) rounded into t (attn_store_n): the stored
 * array, returned, and its widening to f32 in *wide, which is what the
 * reference computes on. */
static uint16_t *random_half(size_t n, float amp, attn_dtype t, float **wide)
{
	float *f = random_floats(n, amp);
	uint16_t *h = malloc((n ? n : 1) * sizeof *h);
	assert_non_null(h);
	attn_store_n(h, f, n, t);
	for (size_t i = 0; i < n; i++)
		f[i] = widen16(h[i], t);
	*wide = f;
	return h;
}

/* Skip where the device has no 16-bit storage (the reason says so). */
static void need_storage16(void)
{
	need_device();
	attn_shape s = shape(1, 1, 1, 4, 1, 1, 0, 0);
	s.dtype = ATTN_F16;
	char why[256] = "";
	if (!vk->supports(inst, &s, why, sizeof why)) {
		assert_non_null(strstr(why, "storageBuffer16BitAccess"));
		fprintf(stderr, "vulkan: 16-bit storage skipped (%s)\n", why);
		skip();
	}
}

/* s (with s->dtype 16-bit) through attend on ctx: inputs in [-amp, amp)
 * rounded into the dtype, against the reference of their widened values. */
static void check_attend_half(void *ctx, const attn_shape *s, float amp)
{
	float *qw, *kw, *vw;
	uint16_t *q = random_half(q_elems(s), amp, s->dtype, &qw),
	         *k = random_half(kv_elems(s, s->n_kv), amp, s->dtype, &kw);
	uint16_t *v = random_half(kv_elems(s, s->n_kv), 1.0f, s->dtype, &vw);
	float *got = calloc(q_elems(s), sizeof(float));
	double *ref = malloc(q_elems(s) * sizeof *ref);
	assert_non_null(got);
	assert_non_null(ref);
	tu_reference(s, qw, kw, vw, s->n_kv, ref);
	expect_ok(ctx, vk->attend(ctx, s, q, k, v, got), "attend");
	expect_close(dtype_name(s->dtype), s, got, ref, q_elems(s));
	free(q);
	free(k);
	free(v);
	free(qw);
	free(kw);
	free(vw);
	free(got);
	free(ref);
}

/* attend in f16 and bf16: MHA, GQA, MQA, causal and not, head_dim 1, 13
 * (not a multiple of 4: padded rows of 8-byte groups), 64, 128, 256, and
 * n_q = 1 (split-K); then the shader variants, small: K and V through
 * storage buffers instead of texel views (texel=0), shared tiles, lanes
 * sharing a row, subgroup-merged decode. */
static void test_half_attend(void **state)
{
	(void)state;
	need_storage16();
	const attn_shape shapes[] = {
	    shape(1, 4, 4, 64, 37, 53, 0, 0),    /* MHA */
	    shape(1, 8, 2, 128, 50, 50, 1, 0),   /* GQA 4, causal square */
	    shape(2, 8, 2, 13, 20, 45, 1, 0),    /* head_dim 13, batch 2, causal chunk */
	    shape(1, 6, 1, 13, 16, 40, 0, 0.5f), /* MQA, head_dim 13, custom scale */
	    shape(1, 4, 2, 1, 9, 30, 1, 0),      /* head_dim 1 */
	    shape(1, 2, 1, 256, 9, 70, 1, 0),    /* head_dim 256 */
	    shape(1, 8, 2, 128, 1, 700, 1, 0),   /* n_q = 1: split-K */
	    shape(1, 4, 1, 13, 1, 1000, 0, 0),   /* n_q = 1, head_dim 13 */
	    shape(2, 4, 4, 64, 1, 300, 0, 0),    /* n_q = 1, batch 2 */
	};
	for (size_t t = 0; t < 2; t++)
		for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
			attn_shape s = shapes[i];
			s.dtype = half_types[t];
			check_attend_half(inst, &s, 1.0f);
		}

	static const char *const params[] = {
	    "texel=0",
	    "stage=1,tile_kv=12,step=4,rows=2,wg=64",
	    "stage=1,dsplit=4,step=2",
	    "dec_merge=1,dec_dsplit=2,dec_wg=32,split=3",
	};
	const attn_shape small[] = {
	    shape(2, 4, 2, 13, 19, 45, 1, 0),
	    shape(1, 4, 2, 16, 1, 200, 1, 0),
	};
	char why[256];
	for (size_t p = 0; p < sizeof params / sizeof params[0]; p++) {
		attn_config cfg = {.params = params[p]};
		void *ctx = NULL;
		if (vk->create(&cfg, &ctx, why, sizeof why) != ATTN_OK) {
			fprintf(stderr, "vulkan: variant %s not available here: %s\n", params[p], why);
			continue;
		}
		for (size_t t = 0; t < 2; t++)
			for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) {
				attn_shape s = small[i];
				s.dtype = half_types[t];
				check_attend_half(ctx, &s, 1.0f);
			}
		vk->destroy(ctx);
	}
}

/* One prefill or decode step through a 16-bit cache, as cache_step: q of
 * the step rounded into the dtype, k and v the stored arrays of the whole
 * cache (kw, vw widened), against the reference. */
static void cache_step_half(void *ctx, const attn_shape *full, const uint16_t *k, const uint16_t *v, const float *kw,
                            const float *vw, int64_t len, int64_t n, int decode)
{
	attn_shape s = *full;
	s.n_q = n;
	s.n_kv = len + n;
	s.causal = 1;
	float *qw, *got = calloc(q_elems(&s), sizeof(float));
	uint16_t *q = random_half(q_elems(&s), 1.0f, s.dtype, &qw);
	void *kn = tokens_as(full, k, len, n, 2), *vn = tokens_as(full, v, len, n, 2);
	double *ref = malloc(q_elems(&s) * sizeof *ref);
	assert_non_null(got);
	assert_non_null(ref);
	tu_reference(&s, qw, kw, vw, full->n_kv, ref);
	if (decode)
		expect_ok(ctx, vk->decode(ctx, &s, q, kn, vn, got), "decode");
	else
		expect_ok(ctx, vk->prefill(ctx, &s, q, kn, vn, got), "prefill");
	expect_close(decode ? "decode" : "prefill", &s, got, ref, q_elems(&s));
	assert_int_equal(vk->cache_len(ctx), len + n);
	free(q);
	free(qw);
	free(got);
	free(kn);
	free(vn);
	free(ref);
}

/* The KV-cache path in f16 and bf16: append a past, prefill two chunks,
 * decode token after token, truncate and decode again; on the default
 * instance and on one that splits every decode over 5 workgroups. */
static void test_half_cache(void **state)
{
	(void)state;
	need_storage16();
	static const struct {
		int64_t b, h, hk, d;
	} geo[] = {{2, 8, 2, 64}, {1, 4, 1, 13}, {1, 2, 2, 128}};
	void *split = create("split=5");
	void *const ctxs[] = {inst, split};
	for (size_t c = 0; c < 2; c++)
		for (size_t t = 0; t < 2; t++)
			for (size_t g = 0; g < sizeof geo / sizeof geo[0]; g++) {
				void *ctx = ctxs[c];
				attn_shape full = shape(geo[g].b, geo[g].h, geo[g].hk, geo[g].d, 1, 130, 1, 0);
				full.dtype = half_types[t];
				const int64_t past = 41, chunk1 = 30, chunk2 = 17, n_dec = 4;
				float *kw, *vw;
				uint16_t *k = random_half(kv_elems(&full, full.n_kv), 1.0f, full.dtype, &kw);
				uint16_t *v = random_half(kv_elems(&full, full.n_kv), 1.0f, full.dtype, &vw);
				expect_ok(ctx, vk->cache_alloc(ctx, &full), "cache_alloc");
				void *kp = tokens_as(&full, k, 0, past, 2), *vp = tokens_as(&full, v, 0, past, 2);
				expect_ok(ctx, vk->cache_append(ctx, kp, vp, past), "cache_append");
				free(kp);
				free(vp);
				cache_step_half(ctx, &full, k, v, kw, vw, past, chunk1, 0);
				cache_step_half(ctx, &full, k, v, kw, vw, past + chunk1, chunk2, 0);
				int64_t len = past + chunk1 + chunk2;
				for (int64_t i = 0; i < n_dec; i++)
					cache_step_half(ctx, &full, k, v, kw, vw, len + i, 1, 1);
				expect_ok(ctx, vk->cache_truncate(ctx, len + 1), "cache_truncate");
				cache_step_half(ctx, &full, k, v, kw, vw, len + 1, 1, 1);
				/* a call in another dtype than the cache's is refused */
				attn_shape other = full;
				other.n_q = 1;
				other.n_kv = len + 3;
				other.dtype = ATTN_F32;
				float x[2 * 8 * 128] = {0}, out[2 * 8 * 128];
				assert_int_equal(vk->decode(ctx, &other, x, x, x, out), ATTN_E_INVALID);
				free(k);
				free(v);
				free(kw);
				free(vw);
			}
	vk->destroy(split);
}

/* Equal up to the last bits of f32 division and exp2 on a device (on
 * lavapipe: bit-exact); f16 and bf16 readings of one pattern differ by
 * factors of 2^7 and more. */
static int same_value(float got, float want)
{
	return fabsf(got - want) <= 1e-6f * fabsf(want);
}

/* The same 16-bit patterns read as f16 and as bf16 give what each type
 * means, not the other: with one key the output is that key's value row
 * (up to rounding), so attend (flash, n_q = 3) and a first decode into an empty
 * cache (split-K) must return the widened bits, which differ between the
 * two types. The patterns are finite, normal numbers in both (f16 of 1 to
 * 16, bf16 of 2^-7 to 2^24). */
static void test_half_decoding(void **state)
{
	(void)state;
	need_storage16();
	const int64_t d = 13;
	uint16_t q[3 * 2 * 13], kv[13];
	for (size_t i = 0; i < sizeof q / sizeof q[0]; i++)
		q[i] = (uint16_t)(0x3c00 + (i * 977) % 0x0fff);
	for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
		kv[i] = (uint16_t)(0x3c00 + (i * 2741 + 5) % 0x0fff) | (i % 3 ? 0 : 0x8000);
	float got[2][3 * 2 * 13];
	for (size_t t = 0; t < 2; t++) {
		attn_shape s = shape(1, 2, 1, d, 3, 1, 0, 0);
		s.dtype = half_types[t];
		expect_ok(inst, vk->attend(inst, &s, q, kv, kv, got[t]), "attend");
		for (int64_t i = 0; i < 3 * 2 * d; i++)
			if (!same_value(got[t][i], widen16(kv[i % d], s.dtype)))
				fail_msg("%s attend [%lld]: got %.9g, the value row holds %.9g (bits 0x%04x)",
				         dtype_name(s.dtype), (long long)i, (double)got[t][i],
				         (double)widen16(kv[i % d], s.dtype), kv[i % d]);
		s.n_q = 1;
		s.causal = 1;
		expect_ok(inst, vk->cache_alloc(inst, &s), "cache_alloc");
		expect_ok(inst, vk->decode(inst, &s, q, kv, kv, got[t]), "decode");
		for (int64_t i = 0; i < 2 * d; i++)
			if (!same_value(got[t][i], widen16(kv[i % d], s.dtype)))
				fail_msg("%s decode [%lld]: got %.9g, the value row holds %.9g (bits 0x%04x)",
				         dtype_name(s.dtype), (long long)i, (double)got[t][i],
				         (double)widen16(kv[i % d], s.dtype), kv[i % d]);
	}
	for (int64_t i = 0; i < d; i++)
		assert_false(same_value(got[0][i], got[1][i]));
}

/* Sizes follow the element size: the cache of a 16-bit dtype takes half
 * the bytes of the f32 one (head_dim 13 is padded to 16 in both), staging
 * shrinks by half of q and of K and V (out stays f32), and the limits are
 * judged in bytes: K and V of 2M tokens x 8 heads x 128 need buffers of
 * 4 GiB in f16 (8 GiB in f32), and on a device of 16 MiB a decode over
 * 4096 keys x 8 heads x 64 fits in 16-bit (2 x 4 MiB of cache; in f32 the
 * cache alone is 16 MiB). */
static void test_half_sizes(void **state)
{
	(void)state;
	need_storage16();
	static const int64_t dims[] = {13, 64, 256};
	for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++) {
		attn_shape s = shape(2, 8, 2, dims[i], 1, 300, 1, 0);
		expect_ok(inst, vk->cache_alloc(inst, &s), "cache_alloc f32");
		const uint64_t b32 = vk->cache_bytes(inst), dp = (uint64_t)(dims[i] + 3) / 4 * 4;
		assert_int_equal(b32, 2 * 2 * 2 * 300 * dp * 4);
		for (size_t t = 0; t < 2; t++) {
			s.dtype = half_types[t];
			expect_ok(inst, vk->cache_alloc(inst, &s), "cache_alloc 16-bit");
			assert_int_equal(vk->cache_bytes(inst) * 2, b32);
		}
		s.dtype = ATTN_F32;
	}
	/* staging of a stateless attend (the cache is of another geometry) */
	attn_shape a = shape(1, 4, 2, 13, 20, 50, 1, 0);
	const uint64_t w32 = vk->workspace_bytes(inst, &a), qb = 4 * 20 * 16 * 4, kb = 2 * 50 * 16 * 4;
	for (size_t t = 0; t < 2; t++) {
		a.dtype = half_types[t];
		assert_int_equal(vk->workspace_bytes(inst, &a), w32 - qb / 2 - kb);
	}

	char why[256] = "";
	attn_shape big = shape(1, 8, 8, 128, 1, 2 << 20, 1, 0);
	big.dtype = ATTN_F16;
	assert_false(vk->supports(inst, &big, why, sizeof why));
	if (strncmp(why, "needs a buffer of 4.00 GiB, the device allows ", 46) != 0)
		fail_msg("supports f16: '%s'", why);

	void *ctx = create("mem_mib=16");
	attn_shape dec = shape(1, 8, 8, 64, 1, 4096, 1, 0);
	assert_false(vk->supports(ctx, &dec, why, sizeof why));
	assert_int_equal(strncmp(why, "needs ", 6), 0);
	for (size_t t = 0; t < 2; t++) {
		dec.dtype = half_types[t];
		if (!vk->supports(ctx, &dec, why, sizeof why))
			fail_msg("supports %s with mem_mib=16: '%s'", dtype_name(dec.dtype), why);
		expect_ok(ctx, vk->cache_alloc(ctx, &dec), "cache_alloc with mem_mib=16");
	}
	vk->destroy(ctx);
}

/* storage16=0: the instance behaves as a device without 16-bit storage:
 * f16 and bf16 shapes are not supported, with a reason that names the
 * feature and the device and does not start with "needs " (which would
 * read as a shape too large), calls on them are ATTN_E_UNSUPPORTED, and
 * f32 works as before. */
static void test_half_unsupported(void **state)
{
	(void)state;
	need_device();
	void *ctx = create("storage16=0");
	char want[512];
	for (size_t t = 0; t < 2; t++) {
		attn_shape s = shape(1, 4, 2, 64, 8, 8, 1, 0);
		s.dtype = half_types[t];
		char why[512] = "";
		assert_false(vk->supports(ctx, &s, why, sizeof why));
		snprintf(want, sizeof want,
		         "%s storage needs storageBuffer16BitAccess (VK_KHR_16bit_storage), which %s lacks",
		         dtype_name(s.dtype), vk->device_name(ctx));
		if (strncmp(why, want, strlen(want)) != 0)
			fail_msg("supports %s with storage16=0: '%s'", dtype_name(s.dtype), why);
		uint16_t x[8 * 4 * 64] = {0};
		float out[8 * 4 * 64];
		assert_int_equal(vk->attend(ctx, &s, x, x, x, out), ATTN_E_UNSUPPORTED);
		assert_non_null(strstr(vk->last_error(ctx), "storageBuffer16BitAccess"));
		assert_int_equal(vk->cache_alloc(ctx, &s), ATTN_E_UNSUPPORTED);
		assert_int_equal(vk->cache_bytes(ctx), 0);
	}
	const attn_shape f32 = shape(1, 4, 2, 13, 9, 30, 1, 0);
	check_attend(ctx, &f32, 1.0f);
	vk->destroy(ctx);
}

/* ---- faults ------------------------------------------------------------- */

/* Attention shapes that take a device long past 1 ms: about 8.6 GFLOP
 * (~0.3 s on lavapipe on two cores), then about 1.1 TFLOP (~0.3 s on a
 * large GPU). The fence wait of a call with timeout_ms=1 times out on the
 * first one the device cannot finish in time; lavapipe runs submissions on
 * its own thread, so the wait starts while the work is still running. */
static const struct {
	int64_t h, hk, d, n;
} slow[] = {{8, 2, 64, 2048}, {32, 8, 128, 8192}};
static size_t slow_used; /* the one that timed out in test_timeout */

static attn_shape slow_shape(size_t i)
{
	return shape(1, slow[i].h, slow[i].hk, slow[i].d, slow[i].n, slow[i].n, 0, 0);
}

/* attend the slow shapes in turn on ctx until a call fails; returns its
 * status (ATTN_OK if none did) and which shape in *which. */
static int attend_until_failure(void *ctx, size_t *which)
{
	int rc = ATTN_OK;
	for (size_t i = 0; i < sizeof slow / sizeof slow[0] && rc == ATTN_OK; i++) {
		const attn_shape s = slow_shape(i);
		float *q = calloc(q_elems(&s), sizeof(float)), *kv = calloc(kv_elems(&s, s.n_kv), sizeof(float));
		float *out = malloc(q_elems(&s) * sizeof(float));
		assert_non_null(q);
		assert_non_null(kv);
		assert_non_null(out);
		rc = vk->attend(ctx, &s, q, kv, kv, out);
		*which = i;
		free(q);
		free(kv);
		free(out);
	}
	return rc;
}

/* create() for an instance whose call will time out: destroy() abandons it
 * (its device may still be running), and the validation layer's records of
 * a device that is never destroyed become unreachable, and are reported by
 * LeakSanitizer, once an instance created before it is destroyed. So these
 * run without the layer. */
static void *create_unchecked(const char *params)
{
	setenv("ATTNBENCH_VK_VALIDATION", "0", 1);
	void *ctx = create(params);
	setenv("ATTNBENCH_VK_VALIDATION", "1", 1);
	return ctx;
}

/* Expect the error of a call after a fault: ATTN_E_DEVICE, and a message
 * that says why the instance stopped and names the original fault. */
static void expect_faulted(void *ctx, int rc, const char *what)
{
	const char *e = vk->last_error(ctx);
	if (rc != ATTN_E_DEVICE || !strstr(e, "device timed out earlier") || !strstr(e, "VK_TIMEOUT"))
		fail_msg("%s after a timeout: rc %d, '%s'", what, rc, e);
}

/* timeout_ms=1: the fence wait times out with an error that says so; every
 * later call on that instance fails at once with the same cause, destroy()
 * returns, and other instances are not affected. */
static void test_timeout(void **state)
{
	(void)state;
	need_device();
	void *ctx = create_unchecked("timeout_ms=1");
	const int rc = attend_until_failure(ctx, &slow_used);
	if (rc != ATTN_E_DEVICE || !strstr(vk->last_error(ctx), "VK_TIMEOUT") ||
	    !strstr(vk->last_error(ctx), "timeout_ms=1"))
		fail_msg("attend with timeout_ms=1: rc %d, '%s'", rc, vk->last_error(ctx));

	attn_shape s = shape(1, 2, 1, 16, 4, 4, 1, 0);
	float x[4 * 2 * 16] = {0}, out[4 * 2 * 16];
	char why[256];
	assert_true(vk->supports(ctx, &s, why, sizeof why)); /* an error row in a sweep, not a skip */
	expect_faulted(ctx, vk->attend(ctx, &s, x, x, x, out), "attend");
	expect_faulted(ctx, vk->cache_alloc(ctx, &s), "cache_alloc");
	expect_faulted(ctx, vk->cache_append(ctx, x, x, 1), "cache_append");
	expect_faulted(ctx, vk->prefill(ctx, &s, x, x, x, out), "prefill");
	s.n_q = 1;
	expect_faulted(ctx, vk->decode(ctx, &s, x, x, x, out), "decode");
	vk->destroy(ctx);

	attn_shape ok = shape(1, 4, 2, 32, 20, 30, 1, 0);
	check_attend(inst, &ok, 1.0f);
}

/* ATTNBENCH_VK_TIMEOUT_MS sets the fence wait limit, --param wins, and a
 * value that is not a number of milliseconds fails create. */
static void test_timeout_env(void **state)
{
	(void)state;
	need_device();
	size_t which;
	setenv("ATTNBENCH_VK_TIMEOUT_MS", "1", 1);
	void *ctx = create_unchecked(NULL);
	int rc = attend_until_failure(ctx, &which);
	if (rc != ATTN_E_DEVICE || !strstr(vk->last_error(ctx), "timeout_ms=1"))
		fail_msg("ATTNBENCH_VK_TIMEOUT_MS=1: rc %d, '%s'", rc, vk->last_error(ctx));
	vk->destroy(ctx);
	/* the parameter wins: the first slow shape runs to its end */
	ctx = create("timeout_ms=600000");
	const attn_shape s = slow_shape(0);
	float *q = calloc(q_elems(&s), sizeof(float)), *kv = calloc(kv_elems(&s, s.n_kv), sizeof(float));
	float *out = malloc(q_elems(&s) * sizeof(float));
	assert_non_null(q);
	assert_non_null(kv);
	assert_non_null(out);
	expect_ok(ctx, vk->attend(ctx, &s, q, kv, kv, out), "attend with timeout_ms=600000");
	vk->destroy(ctx);
	free(q);
	free(kv);
	free(out);
	static const char *const bad[] = {"0", "abc", "5s", "3600001"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		setenv("ATTNBENCH_VK_TIMEOUT_MS", bad[i], 1);
		attn_config cfg = {0};
		char err[512] = "";
		ctx = NULL;
		assert_int_equal(vk->create(&cfg, &ctx, err, sizeof err), ATTN_E_INVALID);
		assert_null(ctx);
		assert_non_null(strstr(err, "ATTNBENCH_VK_TIMEOUT_MS"));
	}
	unsetenv("ATTNBENCH_VK_TIMEOUT_MS");
}

/* A sweep whose calls time out: exit 0, and error rows that say why: the
 * first error is the point's own timeout, every point after it fails with
 * the instance's earlier one. (On lavapipe both points time out; a fast
 * device may finish the causal prefill in time, an ok row.) */
static void test_timeout_sweep(void **state)
{
	(void)state;
	need_device();
	char *dir = tu_tmpdir(), path[256], heads[16], gqa[16], d[16], n[16];
	snprintf(heads, sizeof heads, "%lld", (long long)slow[slow_used].h);
	snprintf(gqa, sizeof gqa, "%lld", (long long)(slow[slow_used].h / slow[slow_used].hk));
	snprintf(d, sizeof d, "%lld", (long long)slow[slow_used].d);
	snprintf(n, sizeof n, "%lld", (long long)slow[slow_used].n);
	EXPECT(0, "VK_TIMEOUT", "sweep", "--backend", "vulkan", "--param", "vulkan:timeout_ms=1", "--phases",
	       "prefill,attend", "--seq", n, "--heads", heads, "--gqa", gqa, "--head-dim", d, "--causal", "0",
	       "--repetitions", "1", "--min-time", "0.01", "--out", dir);
	snprintf(path, sizeof path, "%s/results.csv", dir);
	table t;
	attn_err e = {{0}};
	assert_int_equal(table_read(path, &t, &e), 0);
	const int col = table_col(&t, "status");
	assert_true(col >= 0);
	assert_int_equal(t.nrows, 2);
	int first_error = -1;
	for (int r = 0; r < t.nrows; r++) {
		const char *st = t.rows[r][col];
		const int earlier = strstr(st, "device timed out earlier") != NULL;
		if (first_error < 0 && !strcmp(st, "ok"))
			continue;
		if (first_error < 0)
			first_error = r;
		if (strncmp(st, "error: ", 7) != 0 || !strstr(st, "VK_TIMEOUT") || earlier != (r > first_error))
			fail_msg("row %d: status '%s'", r + 1, st);
	}
	assert_true(first_error >= 0);
	table_free(&t);
	tu_rmtree(dir);
}

/* Write a float32 .npy (format 1.0) of zeros with a 4-d shape. */
static void write_zeros_npy(const char *path, const int64_t dims[4])
{
	char hdr[128];
	int n =
	    snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (%lld, %lld, %lld, %lld), }",
	             (long long)dims[0], (long long)dims[1], (long long)dims[2], (long long)dims[3]);
	while ((10 + n + 1) % 64)
		hdr[n++] = ' ';
	hdr[n++] = '\n';
	const size_t data = (size_t)(dims[0] * dims[1] * dims[2] * dims[3]) * sizeof(float);
	char *buf = calloc(1, 10 + (size_t)n + data);
	assert_non_null(buf);
	memcpy(buf, "\x93NUMPY\x01\x00", 8);
	buf[8] = (char)(n & 0xff);
	buf[9] = (char)(n >> 8);
	memcpy(buf + 10, hdr, (size_t)n);
	tu_write(path, buf, 10 + (size_t)n + data);
	free(buf);
}

/* check on a case that times out: a FAIL row with the timeout, exit 1, no
 * hang and no crash. */
static void test_timeout_check(void **state)
{
	(void)state;
	need_device();
	const attn_shape s = slow_shape(slow_used);
	char *dir = tu_tmpdir(), path[256], manifest[512];
	snprintf(manifest, sizeof manifest,
	         "name,batch,n_heads,n_kv_heads,head_dim,n_q,n_kv,causal,scale,q,k,v,out\n"
	         "slow,1,%lld,%lld,%lld,%lld,%lld,0,,q.npy,k.npy,v.npy,out.npy\n",
	         (long long)s.n_heads, (long long)s.n_kv_heads, (long long)s.head_dim, (long long)s.n_q,
	         (long long)s.n_kv);
	snprintf(path, sizeof path, "%s/manifest.csv", dir);
	tu_write(path, manifest, strlen(manifest));
	const int64_t qd[4] = {1, s.n_heads, s.n_q, s.head_dim}, kd[4] = {1, s.n_kv_heads, s.n_kv, s.head_dim};
	static const char *const files[4] = {"q", "out", "k", "v"};
	for (int i = 0; i < 4; i++) {
		snprintf(path, sizeof path, "%s/%s.npy", dir, files[i]);
		write_zeros_npy(path, i < 2 ? qd : kd);
	}
	EXPECT(1, "VK_TIMEOUT", "check", "--golden", dir, "--backend", "vulkan", "--param", "vulkan:timeout_ms=1");
	tu_rmtree(dir);
}

/* Shapes beyond the device's memory are not supported, with a reason that
 * starts with "needs ": a tensor larger than any storage buffer can be,
 * and (mem_mib=16, a device of 16 MiB) buffers that do not fit together. */
static void test_memory_limits(void **state)
{
	(void)state;
	need_device();
	char why[256] = "";
	/* K and V of 2M tokens x 8 heads x 128: 8 GiB each, past any device's
	 * maxStorageBufferRange (a 32-bit count of bytes) */
	attn_shape s = shape(1, 8, 8, 128, 1, 2 << 20, 1, 0);
	assert_false(vk->supports(inst, &s, why, sizeof why));
	if (strncmp(why, "needs a buffer of 8.00 GiB, the device allows ", 46) != 0)
		fail_msg("supports: '%s'", why);
	float x[8 * 128] = {0};
	assert_int_equal(vk->cache_alloc(inst, &s), ATTN_E_UNSUPPORTED);
	assert_int_equal(strncmp(vk->last_error(inst), "needs ", 6), 0);
	s.n_q = s.n_kv = 1 << 20; /* q as well */
	assert_false(vk->supports(inst, &s, why, sizeof why));
	assert_int_equal(strncmp(why, "needs ", 6), 0);

	void *ctx = create("mem_mib=16");
	/* 8 MiB each of q and out, 2 MiB each of K and V, 20 MiB of staging */
	s = shape(1, 8, 2, 64, 4096, 4096, 1, 0);
	why[0] = 0;
	assert_false(vk->supports(ctx, &s, why, sizeof why));
	if (strcmp(why, "needs 40.00 MiB of device memory, mem_mib=16 allows 16.00 MiB") != 0)
		fail_msg("supports with mem_mib=16: '%s'", why);
	assert_int_equal(vk->attend(ctx, &s, x, x, x, x), ATTN_E_UNSUPPORTED);
	assert_int_equal(strncmp(vk->last_error(ctx), "needs ", 6), 0);
	assert_true(vk->supports(inst, &s, why, sizeof why)); /* the real device has the memory */
	/* decode: the cache path needs the cache (2 x 4 MiB) and little else;
	 * a stateless attend of the same single query stages all of K and V
	 * too, 16 MiB and more */
	s = shape(1, 8, 8, 64, 1, 2048, 1, 0);
	assert_true(vk->supports(ctx, &s, why, sizeof why));
	assert_int_equal(vk->attend(ctx, &s, x, x, x, x), ATTN_E_UNSUPPORTED);
	assert_int_equal(strncmp(vk->last_error(ctx), "needs ", 6), 0);
	vk->destroy(ctx);

	/* in a sweep: a skipped row with the reason, nothing allocated, exit 0 */
	char *dir = tu_tmpdir(), path[256];
	EXPECT(0, "1 skipped", "sweep", "--backend", "vulkan", "--phases", "decode", "--cache", "2097152", "--heads",
	       "8", "--gqa", "1", "--head-dim", "128", "--out", dir);
	snprintf(path, sizeof path, "%s/results.csv", dir);
	table t;
	attn_err e = {{0}};
	assert_int_equal(table_read(path, &t, &e), 0);
	assert_int_equal(t.nrows, 1);
	const char *st = t.rows[0][table_col(&t, "status")];
	if (strncmp(st, "skipped: needs a buffer of 8.00 GiB, the device allows ", 55) != 0)
		fail_msg("sweep status '%s'", st);
	table_free(&t);
	tu_rmtree(dir);
}

/* mem_mib=16: buffers that earlier calls left make room for a new call's
 * (prefill next to attend's K and V, a cache next to prefill's staging);
 * an allocation that fails although the call alone fits (the cache holds
 * the rest) is ATTN_E_NOMEM, and the instance stays usable. */
static void test_out_of_memory(void **state)
{
	(void)state;
	need_device();
	void *ctx = create("mem_mib=16");
	/* attend leaves 3.5 MiB each of K and V and 7 MiB of staging: 14 MiB */
	const attn_shape a = shape(1, 4, 4, 64, 16, 3584, 0, 0);
	check_attend(ctx, &a, 1.0f);
	/* a 0.5 MiB cache fits beside them; its prefill needs 2 MiB each of q
	 * and out, which fit only once attend's buffers are gone */
	attn_shape full = shape(1, 32, 4, 64, 1, 256, 1, 0);
	float *k = random_floats(kv_elems(&full, full.n_kv), 1.0f),
	      *v = random_floats(kv_elems(&full, full.n_kv), 1.0f);
	expect_ok(ctx, vk->cache_alloc(ctx, &full), "cache_alloc beside attend's buffers");
	cache_step(ctx, &full, k, v, 0, full.n_kv, 0);
	free(k);
	free(v);
	/* a cache of 2 x 4 MiB beside prefill's 8.5 MiB of buffers */
	full = shape(1, 4, 4, 64, 1, 4096, 1, 0);
	expect_ok(ctx, vk->cache_alloc(ctx, &full), "cache_alloc beside prefill's buffers");
	/* attend of 12 MiB (1.5 MiB each of q, out, K, V, 6 MiB of staging)
	 * fits the device alone, but not beside the 8 MiB cache */
	const attn_shape big = shape(1, 4, 4, 64, 1536, 1536, 0, 0);
	char why[256];
	assert_true(vk->supports(ctx, &big, why, sizeof why));
	const size_t nq = q_elems(&big), nkv = kv_elems(&big, big.n_kv);
	float *q = random_floats(nq, 1.0f), *kv = random_floats(nkv, 1.0f), *out = calloc(nq, sizeof(float));
	assert_non_null(out);
	const int rc = vk->attend(ctx, &big, q, kv, kv, out);
	if (rc != ATTN_E_NOMEM || !strstr(vk->last_error(ctx), "out of device memory"))
		fail_msg("attend over mem_mib: rc %d, '%s'", rc, vk->last_error(ctx));
	free(q);
	free(kv);
	free(out);
	/* still usable: a smaller attend, and the cache */
	const attn_shape small = shape(1, 4, 2, 64, 100, 300, 1, 0);
	check_attend(ctx, &small, 1.0f);
	full.n_kv = 130;
	k = random_floats(kv_elems(&full, full.n_kv), 1.0f);
	v = random_floats(kv_elems(&full, full.n_kv), 1.0f);
	float *kp = tokens(&full, k, 0, 128), *vp = tokens(&full, v, 0, 128);
	expect_ok(ctx, vk->cache_append(ctx, kp, vp, 128), "cache_append");
	cache_step(ctx, &full, k, v, 128, 1, 1);
	cache_step(ctx, &full, k, v, 129, 1, 1);
	free(kp);
	free(vp);
	free(k);
	free(v);
	vk->destroy(ctx);
}

int run_vulkan_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_supports),         cmocka_unit_test(test_bad_params),
	    cmocka_unit_test(test_attend_shapes),    cmocka_unit_test(test_huge_logits),
	    cmocka_unit_test(test_cache_path),       cmocka_unit_test(test_split_matches),
	    cmocka_unit_test(test_variants),         cmocka_unit_test(test_info),
	    cmocka_unit_test(test_half_attend),      cmocka_unit_test(test_half_cache),
	    cmocka_unit_test(test_half_decoding),    cmocka_unit_test(test_half_sizes),
	    cmocka_unit_test(test_half_unsupported), cmocka_unit_test(test_timeout),
	    cmocka_unit_test(test_timeout_env),      cmocka_unit_test(test_timeout_sweep),
	    cmocka_unit_test(test_timeout_check),    cmocka_unit_test(test_memory_limits),
	    cmocka_unit_test(test_out_of_memory),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("vulkan", tests, group_setup, group_teardown);
}

#else

int run_vulkan_tests(void)
{
	return 0;
}

#endif
