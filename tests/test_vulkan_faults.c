/* test_vulkan_faults.c - the Vulkan backend's faults: a fence wait that
 * times out (in process, in a sweep and in check), shapes beyond the
 * device's memory, allocations that fail. */
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
	return vt_shape(1, slow[i].h, slow[i].hk, slow[i].d, slow[i].n, slow[i].n, 0, 0);
}

/* attend the slow shapes in turn on ctx until a call fails; returns its
 * status (ATTN_OK if none did) and which shape in *which. */
static int attend_until_failure(void *ctx, size_t *which)
{
	int rc = ATTN_OK;
	for (size_t i = 0; i < sizeof slow / sizeof slow[0] && rc == ATTN_OK; i++) {
		const attn_shape s = slow_shape(i);
		float *q = calloc(vt_q_elems(&s), sizeof(float)), *kv = calloc(vt_kv_elems(&s, s.n_kv), sizeof(float));
		float *out = malloc(vt_q_elems(&s) * sizeof(float));
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

/* vt_create() for an instance whose call will time out: destroy() abandons it
 * (its device may still be running), and the validation layer's records of
 * a device that is never destroyed become unreachable, and are reported by
 * LeakSanitizer, once an instance created before it is destroyed. So these
 * run without the layer. */
static void *create_unchecked(const char *params)
{
	setenv("ATTNBENCH_VK_VALIDATION", "0", 1);
	void *ctx = vt_create(params);
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
	vt_need_device();
	void *ctx = create_unchecked("timeout_ms=1");
	const int rc = attend_until_failure(ctx, &slow_used);
	if (rc != ATTN_E_DEVICE || !strstr(vk->last_error(ctx), "VK_TIMEOUT") ||
	    !strstr(vk->last_error(ctx), "timeout_ms=1"))
		fail_msg("attend with timeout_ms=1: rc %d, '%s'", rc, vk->last_error(ctx));

	attn_shape s = vt_shape(1, 2, 1, 16, 4, 4, 1, 0);
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

	attn_shape ok = vt_shape(1, 4, 2, 32, 20, 30, 1, 0);
	vt_check_attend(inst, &ok, 1.0f);
}

/* ATTNBENCH_VK_TIMEOUT_MS sets the fence wait limit, --param wins, and a
 * value that is not a number of milliseconds fails create. */
static void test_timeout_env(void **state)
{
	(void)state;
	vt_need_device();
	size_t which;
	setenv("ATTNBENCH_VK_TIMEOUT_MS", "1", 1);
	void *ctx = create_unchecked(NULL);
	int rc = attend_until_failure(ctx, &which);
	if (rc != ATTN_E_DEVICE || !strstr(vk->last_error(ctx), "timeout_ms=1"))
		fail_msg("ATTNBENCH_VK_TIMEOUT_MS=1: rc %d, '%s'", rc, vk->last_error(ctx));
	vk->destroy(ctx);
	/* the parameter wins: the first slow shape runs to its end */
	ctx = vt_create("timeout_ms=600000");
	const attn_shape s = slow_shape(0);
	float *q = calloc(vt_q_elems(&s), sizeof(float)), *kv = calloc(vt_kv_elems(&s, s.n_kv), sizeof(float));
	float *out = malloc(vt_q_elems(&s) * sizeof(float));
	assert_non_null(q);
	assert_non_null(kv);
	assert_non_null(out);
	vt_expect_ok(ctx, vk->attend(ctx, &s, q, kv, kv, out), "attend with timeout_ms=600000");
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

/* A sweep whose calls time out: exit 0, and error rows that say why. Each
 * point runs in a worker of its own with a fresh instance, so each error is
 * that point's own timeout, never the "timed out earlier" of an instance a
 * point before it broke. (On lavapipe both points time out; a fast device
 * may finish the causal prefill in time, an ok row.) */
static void test_timeout_sweep(void **state)
{
	(void)state;
	vt_need_device();
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
		if (strncmp(st, "error: ", 7) != 0 || !strstr(st, "VK_TIMEOUT") || earlier)
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
	vt_need_device();
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
	vt_need_device();
	char why[256] = "";
	/* K and V of 2M tokens x 8 heads x 128: 8 GiB each, past any device's
	 * maxStorageBufferRange (a 32-bit count of bytes) */
	attn_shape s = vt_shape(1, 8, 8, 128, 1, 2 << 20, 1, 0);
	assert_false(vk->supports(inst, &s, why, sizeof why));
	if (strncmp(why, "needs a buffer of 8.00 GiB, the device allows ", 46) != 0)
		fail_msg("supports: '%s'", why);
	float x[8 * 128] = {0};
	assert_int_equal(vk->cache_alloc(inst, &s), ATTN_E_UNSUPPORTED);
	assert_int_equal(strncmp(vk->last_error(inst), "needs ", 6), 0);
	s.n_q = s.n_kv = 1 << 20; /* q as well */
	assert_false(vk->supports(inst, &s, why, sizeof why));
	assert_int_equal(strncmp(why, "needs ", 6), 0);

	void *ctx = vt_create("mem_mib=16");
	/* 8 MiB each of q and out, 2 MiB each of K and V, 20 MiB of staging */
	s = vt_shape(1, 8, 2, 64, 4096, 4096, 1, 0);
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
	s = vt_shape(1, 8, 8, 64, 1, 2048, 1, 0);
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
	vt_need_device();
	void *ctx = vt_create("mem_mib=16");
	/* attend leaves 3.5 MiB each of K and V and 7 MiB of staging: 14 MiB */
	const attn_shape a = vt_shape(1, 4, 4, 64, 16, 3584, 0, 0);
	vt_check_attend(ctx, &a, 1.0f);
	/* a 0.5 MiB cache fits beside them; its prefill needs 2 MiB each of q
	 * and out, which fit only once attend's buffers are gone */
	attn_shape full = vt_shape(1, 32, 4, 64, 1, 256, 1, 0);
	float *k = vt_random_floats(vt_kv_elems(&full, full.n_kv), 1.0f),
	      *v = vt_random_floats(vt_kv_elems(&full, full.n_kv), 1.0f);
	vt_expect_ok(ctx, vk->cache_alloc(ctx, &full), "cache_alloc beside attend's buffers");
	vt_cache_step(ctx, &full, k, v, 0, full.n_kv, 0);
	free(k);
	free(v);
	/* a cache of 2 x 4 MiB beside prefill's 8.5 MiB of buffers */
	full = vt_shape(1, 4, 4, 64, 1, 4096, 1, 0);
	vt_expect_ok(ctx, vk->cache_alloc(ctx, &full), "cache_alloc beside prefill's buffers");
	/* attend of 12 MiB (1.5 MiB each of q, out, K, V, 6 MiB of staging)
	 * fits the device alone, but not beside the 8 MiB cache */
	const attn_shape big = vt_shape(1, 4, 4, 64, 1536, 1536, 0, 0);
	char why[256];
	assert_true(vk->supports(ctx, &big, why, sizeof why));
	const size_t nq = vt_q_elems(&big), nkv = vt_kv_elems(&big, big.n_kv);
	float *q = vt_random_floats(nq, 1.0f), *kv = vt_random_floats(nkv, 1.0f), *out = calloc(nq, sizeof(float));
	assert_non_null(out);
	const int rc = vk->attend(ctx, &big, q, kv, kv, out);
	if (rc != ATTN_E_NOMEM || !strstr(vk->last_error(ctx), "out of device memory"))
		fail_msg("attend over mem_mib: rc %d, '%s'", rc, vk->last_error(ctx));
	free(q);
	free(kv);
	free(out);
	/* still usable: a smaller attend, and the cache */
	const attn_shape small = vt_shape(1, 4, 2, 64, 100, 300, 1, 0);
	vt_check_attend(ctx, &small, 1.0f);
	full.n_kv = 130;
	k = vt_random_floats(vt_kv_elems(&full, full.n_kv), 1.0f);
	v = vt_random_floats(vt_kv_elems(&full, full.n_kv), 1.0f);
	float *kp = vt_tokens(&full, k, 0, 128), *vp = vt_tokens(&full, v, 0, 128);
	vt_expect_ok(ctx, vk->cache_append(ctx, kp, vp, 128), "cache_append");
	vt_cache_step(ctx, &full, k, v, 128, 1, 1);
	vt_cache_step(ctx, &full, k, v, 129, 1, 1);
	free(kp);
	free(vp);
	free(k);
	free(v);
	vk->destroy(ctx);
}

int run_vulkan_fault_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_timeout),       cmocka_unit_test(test_timeout_env),
	    cmocka_unit_test(test_timeout_sweep), cmocka_unit_test(test_timeout_check),
	    cmocka_unit_test(test_memory_limits), cmocka_unit_test(test_out_of_memory),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("vulkan-faults", tests, vt_group_setup, vt_group_teardown);
}

#endif
