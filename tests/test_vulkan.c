/* test_vulkan.c - the Vulkan backend against a float64 reference written
 * here: many shapes through attend, the KV-cache path (append, prefill,
 * consecutive decodes, truncate), split-K against a single workgroup, the
 * shader variants meant for other devices, parameters and supports().
 * f16 and bf16 storage are in test_vulkan_half.c, faults in
 * test_vulkan_faults.c; run_vulkan_tests runs all three groups. Every
 * instance runs under the Khronos validation layer, so any validation
 * message fails the call that caused it. Skipped where no Vulkan device is
 * available. */
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

#include "vulkan/vulkan.h"

/* attend over MHA, GQA 2/4/8, MQA, causal and not, n_q = 1, chunks
 * (n_q < n_kv), every head_dim class, batch 2 and a custom scale. */
static void test_attend_shapes(void **state)
{
	(void)state;
	vt_need_device();
	const attn_shape shapes[] = {
	    vt_shape(1, 4, 4, 64, 37, 53, 0, 0),     /* MHA */
	    vt_shape(1, 4, 4, 64, 70, 70, 1, 0),     /* MHA causal square */
	    vt_shape(1, 8, 4, 128, 50, 50, 1, 0),    /* GQA 2 */
	    vt_shape(2, 8, 2, 80, 20, 45, 1, 0),     /* GQA 4, batch 2, causal chunk */
	    vt_shape(1, 8, 1, 128, 33, 33, 1, 0),    /* GQA 8 (MQA of 8 heads) */
	    vt_shape(1, 6, 1, 64, 16, 40, 1, 0.5f),  /* MQA, custom scale */
	    vt_shape(1, 4, 2, 1, 9, 30, 1, 0),       /* head_dim 1 */
	    vt_shape(2, 4, 2, 3, 17, 17, 0, 0),      /* head_dim 3 */
	    vt_shape(1, 2, 1, 256, 9, 70, 1, 0),     /* head_dim 256 */
	    vt_shape(1, 3, 3, 80, 1, 1, 0, 0),       /* one key */
	    vt_shape(1, 8, 2, 128, 1, 700, 1, 0),    /* n_q = 1: split-K */
	    vt_shape(2, 4, 4, 256, 1, 300, 0, 0),    /* n_q = 1, head_dim 256 */
	    vt_shape(1, 4, 1, 3, 1, 1000, 1, 0.25f), /* n_q = 1, MQA, head_dim 3 */
	    vt_shape(1, 2, 2, 64, 130, 260, 0, 0),   /* n_kv not a multiple of any tile */
	};
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
		vt_check_attend(inst, &shapes[i], 1.0f);
}

/* Logits far beyond exp's float range: only max subtraction survives. */
static void test_huge_logits(void **state)
{
	(void)state;
	vt_need_device();
	attn_shape s = vt_shape(1, 8, 1, 64, 24, 40, 1, 1.0f);
	vt_check_attend(inst, &s, 30.0f); /* |q.k| up to ~ 64 * 900 */
	s.n_q = 1;
	vt_check_attend(inst, &s, 30.0f);
}

/* The KV-cache path: append a past, prefill a chunk, decode token after
 * token, truncate and decode again; misuse is ATTN_E_INVALID. */
static void test_cache_path(void **state)
{
	(void)state;
	vt_need_device();
	static const struct {
		int64_t b, h, hk, d;
	} geo[] = {{2, 8, 2, 64}, {1, 3, 3, 80}, {1, 4, 1, 3}};
	for (size_t t = 0; t < sizeof geo / sizeof geo[0]; t++) {
		attn_shape full = vt_shape(geo[t].b, geo[t].h, geo[t].hk, geo[t].d, 1, 120, 1, 0);
		const int64_t past = 57, chunk = 23, n_dec = 5;
		float *k = vt_random_floats(vt_kv_elems(&full, full.n_kv), 1.0f),
		      *v = vt_random_floats(vt_kv_elems(&full, full.n_kv), 1.0f);
		vt_expect_ok(inst, vk->cache_alloc(inst, &full), "cache_alloc");
		assert_int_equal(vk->cache_len(inst), 0);
		assert_true(vk->cache_bytes(inst) >= 2 * vt_kv_elems(&full, full.n_kv) * sizeof(float));
		float *kp = vt_tokens(&full, k, 0, past), *vp = vt_tokens(&full, v, 0, past);
		vt_expect_ok(inst, vk->cache_append(inst, kp, vp, past), "cache_append");
		free(kp);
		free(vp);
		assert_int_equal(vk->cache_len(inst), past);
		vt_cache_step(inst, &full, k, v, past, chunk, 0);
		for (int64_t i = 0; i < n_dec; i++)
			vt_cache_step(inst, &full, k, v, past + chunk + i, 1, 1);
		/* forget the decoded tokens and decode the first of them again */
		vt_expect_ok(inst, vk->cache_truncate(inst, past + chunk), "cache_truncate");
		vt_cache_step(inst, &full, k, v, past + chunk, 1, 1);
		assert_int_equal(vk->cache_truncate(inst, past + chunk + 2), ATTN_E_INVALID);
		/* n_kv must be cache_len + n_q, and the capacity holds */
		attn_shape s = full;
		s.n_q = 1;
		s.n_kv = past + chunk + 5;
		float *one = vt_random_floats(vt_q_elems(&s) + vt_kv_elems(&s, 1), 1.0f);
		float *out = calloc(vt_q_elems(&s), sizeof(float));
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
	vt_need_device();
	void *one = vt_create("split=1"), *many = vt_create("split=7");
	attn_shape s = vt_shape(1, 8, 2, 64, 1, 3001, 1, 0);
	float *q = vt_random_floats(vt_q_elems(&s), 1.0f), *k = vt_random_floats(vt_kv_elems(&s, s.n_kv), 1.0f);
	float *v = vt_random_floats(vt_kv_elems(&s, s.n_kv), 1.0f);
	float *a = calloc(vt_q_elems(&s), sizeof(float)), *b = calloc(vt_q_elems(&s), sizeof(float));
	double *ref = malloc(vt_q_elems(&s) * sizeof *ref);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(ref);
	tu_reference(&s, q, k, v, s.n_kv, ref);
	vt_expect_ok(one, vk->attend(one, &s, q, k, v, a), "attend split=1");
	vt_expect_ok(many, vk->attend(many, &s, q, k, v, b), "attend split=7");
	vt_expect_close("split=1", &s, a, ref, vt_q_elems(&s));
	vt_expect_close("split=7", &s, b, ref, vt_q_elems(&s));
	for (size_t i = 0; i < vt_q_elems(&s); i++)
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
	vt_need_device();
	static const char *const params[] = {
	    "stage=1",
	    "stage=1,tile_kv=12,step=4,rows=2,wg=64",
	    "subgroups=0,stage=1",
	    "texel=0",
	    "stage=1,dsplit=4,step=2",
	    "dec_merge=1,dec_dsplit=2,dec_wg=32,split=3",
	};
	const attn_shape shapes[] = {
	    vt_shape(2, 4, 2, 20, 19, 45, 1, 0),
	    vt_shape(1, 6, 2, 5, 7, 33, 0, 0),
	    vt_shape(1, 4, 2, 16, 1, 200, 1, 0),
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
			vt_check_attend(ctx, &shapes[i], 1.0f);
		vk->destroy(ctx);
	}
}

/* Bad parameter strings fail create with ATTN_E_INVALID and a message. */
static void test_bad_params(void **state)
{
	(void)state;
	vt_need_device();
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
	void *ctx = vt_create("split=2,timeout_ms=5000");
	vk->destroy(ctx);
	attn_config cfg = {.device = "no such device"};
	char err[512];
	assert_int_equal(vk->create(&cfg, &ctx, err, sizeof err), ATTN_E_INVALID);
}

/* supports() and what the attend entry point says about the same shapes. */
static void test_supports(void **state)
{
	(void)state;
	vt_need_device();
	char why[256];
	attn_shape s = vt_shape(1, 4, 2, 64, 8, 8, 1, 0);
	assert_true(vk->supports(inst, &s, why, sizeof why));
	s.head_dim = 0;
	why[0] = 0;
	assert_false(vk->supports(inst, &s, why, sizeof why));
	assert_true(strlen(why) > 0);
	s.head_dim = 577;
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
	s.head_dim = 577;
	assert_int_equal(vk->attend(inst, &s, x, x, x, x), ATTN_E_UNSUPPORTED);
}

/* Device name, timing, memory figures and the device list. */
static void test_info(void **state)
{
	(void)state;
	vt_need_device();
	assert_true(strlen(vk->device_name(inst)) > 0);
	assert_non_null(strstr(vk->instance_info(inst), "Vulkan 1."));
	void *no16 = vt_create("storage16=0,subgroups=0");
	assert_non_null(strstr(vk->instance_info(no16), "subgroups off"));
	assert_non_null(strstr(vk->instance_info(no16), "16-bit storage off"));
	vk->destroy(no16);
	attn_shape s = vt_shape(1, 4, 2, 64, 1, 500, 1, 0);
	vt_check_attend(inst, &s, 1.0f);
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

static int run_vulkan_core_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_supports),    cmocka_unit_test(test_bad_params), cmocka_unit_test(test_attend_shapes),
	    cmocka_unit_test(test_huge_logits), cmocka_unit_test(test_cache_path), cmocka_unit_test(test_split_matches),
	    cmocka_unit_test(test_variants),    cmocka_unit_test(test_info),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("vulkan", tests, vt_group_setup, vt_group_teardown);
}

int run_vulkan_tests(void)
{
	/* ATTNBENCH_VK_TEST_GROUP=variants (or core, half, faults) runs one of them */
	const char *only = getenv("ATTNBENCH_VK_TEST_GROUP");
	int failed = 0;
	if (!only || !strcmp(only, "core"))
		failed += run_vulkan_core_tests();
	if (!only || !strcmp(only, "half"))
		failed += run_vulkan_half_tests();
	if (!only || !strcmp(only, "faults"))
		failed += run_vulkan_fault_tests();
	if (!only || !strcmp(only, "variants"))
		failed += run_vulkan_variant_tests();
	return failed;
}

#else

int run_vulkan_tests(void)
{
	return 0;
}

#endif
