/* test_vulkan_half.c - the Vulkan backend with f16 and bf16 storage:
 * attend and the cache path against the reference of the widened stored
 * values, every 16-bit pattern through V, sizes, and devices without
 * 16-bit storage. */
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
#include "vulkan_util.h"

#if ATTN_HAVE_VULKAN_BUILD

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
	float *f = vt_random_floats(n, amp);
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
	vt_need_device();
	attn_shape s = vt_shape(1, 1, 1, 4, 1, 1, 0, 0);
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
	uint16_t *q = random_half(vt_q_elems(s), amp, s->dtype, &qw),
	         *k = random_half(vt_kv_elems(s, s->n_kv), amp, s->dtype, &kw);
	uint16_t *v = random_half(vt_kv_elems(s, s->n_kv), 1.0f, s->dtype, &vw);
	float *got = calloc(vt_q_elems(s), sizeof(float));
	double *ref = malloc(vt_q_elems(s) * sizeof *ref);
	assert_non_null(got);
	assert_non_null(ref);
	tu_reference(s, qw, kw, vw, s->n_kv, ref);
	vt_expect_ok(ctx, vk->attend(ctx, s, q, k, v, got), "attend");
	vt_expect_close(dtype_name(s->dtype), s, got, ref, vt_q_elems(s));
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
	    vt_shape(1, 4, 4, 64, 37, 53, 0, 0),    /* MHA */
	    vt_shape(1, 8, 2, 128, 50, 50, 1, 0),   /* GQA 4, causal square */
	    vt_shape(2, 8, 2, 13, 20, 45, 1, 0),    /* head_dim 13, batch 2, causal chunk */
	    vt_shape(1, 6, 1, 13, 16, 40, 0, 0.5f), /* MQA, head_dim 13, custom scale */
	    vt_shape(1, 4, 2, 1, 9, 30, 1, 0),      /* head_dim 1 */
	    vt_shape(1, 2, 1, 256, 9, 70, 1, 0),    /* head_dim 256 */
	    vt_shape(1, 8, 2, 128, 1, 700, 1, 0),   /* n_q = 1: split-K */
	    vt_shape(1, 4, 1, 13, 1, 1000, 0, 0),   /* n_q = 1, head_dim 13 */
	    vt_shape(2, 4, 4, 64, 1, 300, 0, 0),    /* n_q = 1, batch 2 */
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
	    vt_shape(2, 4, 2, 13, 19, 45, 1, 0),
	    vt_shape(1, 4, 2, 16, 1, 200, 1, 0),
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
	float *qw;
	uint16_t *q = random_half(vt_q_elems(&s), 1.0f, s.dtype, &qw);
	void *kn = vt_tokens_as(full, k, len, n, 2), *vn = vt_tokens_as(full, v, len, n, 2);
	double *ref = malloc(vt_q_elems(&s) * sizeof *ref);
	assert_non_null(ref);
	tu_reference(&s, qw, kw, vw, full->n_kv, ref);
	vt_step_expect(ctx, &s, q, kn, vn, ref, decode);
	free(q);
	free(qw);
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
	void *split = vt_create("split=5");
	void *const ctxs[] = {inst, split};
	for (size_t c = 0; c < 2; c++)
		for (size_t t = 0; t < 2; t++)
			for (size_t g = 0; g < sizeof geo / sizeof geo[0]; g++) {
				void *ctx = ctxs[c];
				attn_shape full = vt_shape(geo[g].b, geo[g].h, geo[g].hk, geo[g].d, 1, 130, 1, 0);
				full.dtype = half_types[t];
				const int64_t past = 41, chunk1 = 30, chunk2 = 17, n_dec = 4;
				float *kw, *vw;
				uint16_t *k = random_half(vt_kv_elems(&full, full.n_kv), 1.0f, full.dtype, &kw);
				uint16_t *v = random_half(vt_kv_elems(&full, full.n_kv), 1.0f, full.dtype, &vw);
				vt_expect_ok(ctx, vk->cache_alloc(ctx, &full), "cache_alloc");
				void *kp = vt_tokens_as(&full, k, 0, past, 2), *vp = vt_tokens_as(&full, v, 0, past, 2);
				vt_expect_ok(ctx, vk->cache_append(ctx, kp, vp, past), "cache_append");
				free(kp);
				free(vp);
				cache_step_half(ctx, &full, k, v, kw, vw, past, chunk1, 0);
				cache_step_half(ctx, &full, k, v, kw, vw, past + chunk1, chunk2, 0);
				int64_t len = past + chunk1 + chunk2;
				for (int64_t i = 0; i < n_dec; i++)
					cache_step_half(ctx, &full, k, v, kw, vw, len + i, 1, 1);
				vt_expect_ok(ctx, vk->cache_truncate(ctx, len + 1), "cache_truncate");
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
		attn_shape s = vt_shape(1, 2, 1, d, 3, 1, 0, 0);
		s.dtype = half_types[t];
		vt_expect_ok(inst, vk->attend(inst, &s, q, kv, kv, got[t]), "attend");
		for (int64_t i = 0; i < 3 * 2 * d; i++)
			if (!same_value(got[t][i], widen16(kv[i % d], s.dtype)))
				fail_msg("%s attend [%lld]: got %.9g, the value row holds %.9g (bits 0x%04x)",
				         dtype_name(s.dtype), (long long)i, (double)got[t][i],
				         (double)widen16(kv[i % d], s.dtype), kv[i % d]);
		s.n_q = 1;
		s.causal = 1;
		vt_expect_ok(inst, vk->cache_alloc(inst, &s), "cache_alloc");
		vt_expect_ok(inst, vk->decode(inst, &s, q, kv, kv, got[t]), "decode");
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
 * shrinks by half of K and V (q is widened to f32 on the host and out stays
 * f32), and the limits are
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
		attn_shape s = vt_shape(2, 8, 2, dims[i], 1, 300, 1, 0);
		vt_expect_ok(inst, vk->cache_alloc(inst, &s), "cache_alloc f32");
		const uint64_t b32 = vk->cache_bytes(inst), dp = (uint64_t)(dims[i] + 3) / 4 * 4;
		assert_int_equal(b32, 2 * 2 * 2 * 300 * dp * 4);
		for (size_t t = 0; t < 2; t++) {
			s.dtype = half_types[t];
			vt_expect_ok(inst, vk->cache_alloc(inst, &s), "cache_alloc 16-bit");
			assert_int_equal(vk->cache_bytes(inst) * 2, b32);
		}
		s.dtype = ATTN_F32;
	}
	/* staging of a stateless attend (the cache is of another geometry) */
	attn_shape a = vt_shape(1, 4, 2, 13, 20, 50, 1, 0);
	const uint64_t w32 = vk->workspace_bytes(inst, &a), kb = 2 * 50 * 16 * 4;
	for (size_t t = 0; t < 2; t++) {
		a.dtype = half_types[t];
		assert_int_equal(vk->workspace_bytes(inst, &a), w32 - kb);
	}

	char why[256] = "";
	attn_shape big = vt_shape(1, 8, 8, 128, 1, 2 << 20, 1, 0);
	big.dtype = ATTN_F16;
	assert_false(vk->supports(inst, &big, why, sizeof why));
	if (strncmp(why, "needs a buffer of 4.00 GiB, the device allows ", 46) != 0)
		fail_msg("supports f16: '%s'", why);

	void *ctx = vt_create("mem_mib=16");
	attn_shape dec = vt_shape(1, 8, 8, 64, 1, 4096, 1, 0);
	assert_false(vk->supports(ctx, &dec, why, sizeof why));
	assert_int_equal(strncmp(why, "needs ", 6), 0);
	for (size_t t = 0; t < 2; t++) {
		dec.dtype = half_types[t];
		if (!vk->supports(ctx, &dec, why, sizeof why))
			fail_msg("supports %s with mem_mib=16: '%s'", dtype_name(dec.dtype), why);
		vt_expect_ok(ctx, vk->cache_alloc(ctx, &dec), "cache_alloc with mem_mib=16");
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
	vt_need_device();
	void *ctx = vt_create("storage16=0");
	char want[512];
	for (size_t t = 0; t < 2; t++) {
		attn_shape s = vt_shape(1, 4, 2, 64, 8, 8, 1, 0);
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
	const attn_shape f32 = vt_shape(1, 4, 2, 13, 9, 30, 1, 0);
	vt_check_attend(ctx, &f32, 1.0f);
	vk->destroy(ctx);
}

int run_vulkan_half_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_half_attend),      cmocka_unit_test(test_half_cache),
	    cmocka_unit_test(test_half_decoding),    cmocka_unit_test(test_half_sizes),
	    cmocka_unit_test(test_half_unsupported),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("vulkan-half", tests, vt_group_setup, vt_group_teardown);
}

#endif
