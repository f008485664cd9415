/* vulkan_util.c - what the Vulkan test files share: the backend table and
 * one default instance (created under the Khronos validation layer),
 * random inputs, shapes, and comparison with the tests' float64 reference.
 * See vulkan_util.h. */
#include "vulkan_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if ATTN_HAVE_VULKAN_BUILD
#include "vulkan/vulkan.h"

const attn_backend *vk;
void *inst;            /* default instance shared by the tests */
char unavailable[256]; /* why the tests skip, when they do */
static uint64_t rng = 2024;

/* Uniform in [-1, 1). */
float vt_frand(void)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return (float)((double)(rng >> 40) / (double)(1ull << 24) * 2.0 - 1.0);
}

size_t vt_q_elems(const attn_shape *s)
{
	return (size_t)(s->batch * s->n_heads * s->n_q * s->head_dim);
}

size_t vt_kv_elems(const attn_shape *s, int64_t n)
{
	return (size_t)(s->batch * s->n_kv_heads * n * s->head_dim);
}

/* n random floats in [-amp, amp). */
float *vt_random_floats(size_t n, float amp)
{
	float *p = malloc((n ? n : 1) * sizeof *p);
	assert_non_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = amp * vt_frand();
	return p;
}

/* Assert |got - ref| <= 1e-4 + 1e-4 |ref| everywhere; report the worst. */
void vt_expect_close(const char *what, const attn_shape *s, const float *got, const double *ref, size_t n)
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
void *vt_create(const char *params)
{
	attn_config cfg = {.threads = 0, .device = NULL, .params = params};
	char err[512] = "";
	void *p = NULL;
	int rc = vk->create(&cfg, &p, err, sizeof err);
	if (rc)
		print_error("vt_create(%s): %s\n", params ? params : "", err);
	assert_int_equal(rc, ATTN_OK);
	return p;
}

/* Call status; on failure print the instance's last error. */
void vt_expect_ok(void *ctx, int rc, const char *what)
{
	if (rc)
		print_error("%s: %s\n", what, vk->last_error(ctx));
	assert_int_equal(rc, ATTN_OK);
}

/* One shape through attend on ctx, inputs scaled by amp, against the reference. */
void vt_check_attend(void *ctx, const attn_shape *s, float amp)
{
	float *q = vt_random_floats(vt_q_elems(s), amp), *k = vt_random_floats(vt_kv_elems(s, s->n_kv), amp);
	float *v = vt_random_floats(vt_kv_elems(s, s->n_kv), 1.0f), *got = calloc(vt_q_elems(s), sizeof(float));
	double *ref = malloc(vt_q_elems(s) * sizeof *ref);
	assert_non_null(got);
	assert_non_null(ref);
	tu_reference(s, q, k, v, s->n_kv, ref);
	vt_expect_ok(ctx, vk->attend(ctx, s, q, k, v, got), "attend");
	vt_expect_close("attend", s, got, ref, vt_q_elems(s));
	free(q);
	free(k);
	free(v);
	free(got);
	free(ref);
}

/* A shape: batch, heads, KV heads, head_dim, n_q, n_kv, causal, scale (0: 1/sqrt(d)). */
attn_shape vt_shape(int64_t b, int64_t h, int64_t hk, int64_t d, int64_t nq, int64_t nkv, int causal, float scale)
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

int vt_group_setup(void **state)
{
	(void)state;
	setenv("ATTNBENCH_VK_VALIDATION", "1", 1);
	/* a CPU device compiles each pipeline on its first dispatch, inside the
	 * fence wait: give a loaded machine room (the caller's setting wins) */
	setenv("ATTNBENCH_VK_TIMEOUT_MS", "300000", 0);
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

int vt_group_teardown(void **state)
{
	(void)state;
	if (inst)
		vk->destroy(inst);
	inst = NULL;
	return 0;
}

/* Skip without a Vulkan device; fail if one exists but create failed. */
void vt_need_device(void)
{
	if (unavailable[0]) {
		fprintf(stderr, "vulkan: skipped (%s)\n", unavailable);
		skip();
	}
	assert_non_null(inst);
}

/* Copy tokens [from, from+n) of every (batch, KV head) of k, elements of
 * es bytes, into a new [batch][n_kv_heads][n][head_dim] array. */
void *vt_tokens_as(const attn_shape *full, const void *k, int64_t from, int64_t n, size_t es)
{
	const int64_t rows = full->batch * full->n_kv_heads, d = full->head_dim;
	char *out = malloc((size_t)(rows * n * d) * es + 1);
	assert_non_null(out);
	for (int64_t r = 0; r < rows; r++)
		memcpy(out + (size_t)(r * n * d) * es, (const char *)k + (size_t)((r * full->n_kv + from) * d) * es,
		       (size_t)(n * d) * es);
	return out;
}

float *vt_tokens(const attn_shape *full, const float *k, int64_t from, int64_t n)
{
	return vt_tokens_as(full, k, from, n, sizeof(float));
}

/* One prefill (n new tokens after len) or decode (n == 1) through the
 * cache, checked against the reference over the first len + n tokens of k, v. */
void vt_cache_step(void *ctx, const attn_shape *full, const float *k, const float *v, int64_t len, int64_t n,
                   int decode)
{
	attn_shape s = *full;
	s.n_q = n;
	s.n_kv = len + n;
	s.causal = 1;
	float *q = vt_random_floats(vt_q_elems(&s), 1.0f);
	float *kn = vt_tokens(full, k, len, n), *vn = vt_tokens(full, v, len, n);
	double *ref = malloc(vt_q_elems(&s) * sizeof *ref);
	assert_non_null(ref);
	tu_reference(&s, q, k, v, full->n_kv, ref);
	vt_step_expect(ctx, &s, q, kn, vn, ref, decode);
	free(q);
	free(kn);
	free(vn);
	free(ref);
}

void vt_step_expect(void *ctx, const attn_shape *s, const void *q, const void *kn, const void *vn, const double *ref,
                    int decode)
{
	float *got = calloc(vt_q_elems(s), sizeof(float));
	assert_non_null(got);
	if (decode)
		vt_expect_ok(ctx, vk->decode(ctx, s, q, kn, vn, got), "decode");
	else
		vt_expect_ok(ctx, vk->prefill(ctx, s, q, kn, vn, got), "prefill");
	vt_expect_close(decode ? "decode" : "prefill", s, got, ref, vt_q_elems(s));
	assert_int_equal(vk->cache_len(ctx), s->n_kv);
	free(got);
}

#endif
