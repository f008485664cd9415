/* test_backends.c - every available backend against a float64 reference
 * written here, on shapes the goldens do not have (random head_dim, GQA
 * ratio, lengths), through attend and through the KV-cache path (append,
 * chunked prefill, consecutive decodes, truncate); then the golden check
 * itself, and a corrupted reference that must fail. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "registry.h"
#include "testutil.h"

static uint64_t rng = 12345;

static float frand(void)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return (float)((double)(rng >> 40) / (double)(1ull << 24) * 2.0 - 1.0);
}

static size_t qn(const attn_shape *s)
{
	return (size_t)(s->batch * s->n_heads * s->n_q * s->head_dim);
}

static size_t kvn(const attn_shape *s, int64_t n)
{
	return (size_t)(s->batch * s->n_kv_heads * n * s->head_dim);
}

/* Tokens [t0, t0+n) of a [B][G][n_kv][D] tensor. */
static float *slice(const float *x, const attn_shape *s, int64_t t0, int64_t n)
{
	float *out = malloc(kvn(s, n ? n : 1) * sizeof(float));
	const size_t D = (size_t)s->head_dim;
	for (int64_t r = 0; r < s->batch * s->n_kv_heads; r++)
		memcpy(out + (size_t)r * (size_t)n * D, x + ((size_t)r * (size_t)s->n_kv + (size_t)t0) * D,
		       (size_t)n * D * sizeof(float));
	return out;
}

static void expect_close(const char *backend, const char *what, const attn_shape *s, const float *got,
                         const double *ref, size_t n)
{
	err_stats st;
	if (!compare_outputs(got, ref, (int64_t)n, 1e-4, 1e-4, &st))
		fail_msg("%s %s: b%lld h%lld kv%lld d%lld nq%lld nkv%lld causal%d: %lld bad, max_abs %g", backend, what,
		         (long long)s->batch, (long long)s->n_heads, (long long)s->n_kv_heads, (long long)s->head_dim,
		         (long long)s->n_q, (long long)s->n_kv, s->causal, (long long)st.n_bad, st.max_abs);
}

/* One random shape through attend on one backend. */
static void random_attend(const backend_entry *be, void *inst, attn_shape *s)
{
	char why[256];
	if (!be->be->supports(inst, s, why, sizeof why))
		return;
	float *q = malloc(qn(s) * sizeof(float)), *k = malloc(kvn(s, s->n_kv) * sizeof(float));
	float *v = malloc(kvn(s, s->n_kv) * sizeof(float)), *got = calloc(qn(s), sizeof(float));
	double *ref = malloc(qn(s) * sizeof(double));
	for (size_t i = 0; i < qn(s); i++)
		q[i] = 2 * frand();
	for (size_t i = 0; i < kvn(s, s->n_kv); i++) {
		k[i] = 2 * frand();
		v[i] = frand();
	}
	tu_reference(s, q, k, v, s->n_kv, ref);
	assert_int_equal(be->be->attend(inst, s, q, k, v, got), ATTN_OK);
	expect_close(be->be->name, "attend", s, got, ref, qn(s));
	free(q);
	free(k);
	free(v);
	free(got);
	free(ref);
}

static void test_random_shapes(void **state)
{
	(void)state;
	static const int64_t dims[] = {1, 2, 5, 16, 31, 64, 96, 100, 128, 255, 256};
	static const int64_t ratios[] = {1, 2, 3, 4, 8};
	for (int i = 0; i < registry_count(); i++) {
		backend_entry *be = registry_get(i);
		if (!be->available)
			continue;
		void *inst;
		char err[256];
		attn_config cfg = {.threads = 2};
		assert_int_equal(be->be->create(&cfg, &inst, err, sizeof err), ATTN_OK);
		for (int t = 0; t < 24; t++) {
			attn_shape s = {0};
			s.batch = 1 + t % 2;
			s.n_kv_heads = 1 + t % 3;
			s.n_heads = s.n_kv_heads * ratios[t % 5];
			s.head_dim = dims[t % 11];
			s.n_kv = 1 + (int64_t)((frand() + 1) * 90);
			s.causal = t % 2;
			s.n_q = s.causal ? 1 + (int64_t)((frand() + 1) * 0.5 * (double)(s.n_kv - 1)) : 1 + t * 7 % 70;
			s.scale = t % 4 == 0 ? 0.3f : (float)(1.0 / sqrt((double)s.head_dim));
			s.dtype = ATTN_F32;
			random_attend(be, inst, &s);
		}
		be->be->destroy(inst);
	}
}

/* The blocked backend's other code paths: keys split across threads when
 * there are fewer tasks than threads (long caches, one or two KV heads),
 * odd tiles that leave partial key groups and query panels, and head_dims
 * that end in 8-wide and scalar column strips. */
static void test_blocked_paths(void **state)
{
	(void)state;
	backend_entry *be = registry_find("blocked");
	assert_non_null(be);
	static const char *const params[] = {"", "tile_q=5,tile_kv=7", "tile_q=64,tile_kv=256"};
	static const int64_t dims[] = {40, 128, 13, 64};
	for (int pi = 0; pi < 3; pi++) {
		void *inst;
		char err[256];
		attn_config cfg = {.threads = 4, .params = params[pi]};
		assert_int_equal(be->be->create(&cfg, &inst, err, sizeof err), ATTN_OK);
		for (int t = 0; t < 8; t++) {
			attn_shape s = {.batch = 1 + t % 2,
			                .n_kv_heads = 1 + t % 2,
			                .head_dim = dims[t % 4],
			                .n_kv = 700 + 411 * t,
			                .causal = t % 3 != 2,
			                .dtype = ATTN_F32};
			s.n_heads = s.n_kv_heads * (t % 3 == 0 ? 4 : 1 + t % 5);
			s.n_q = t % 4 == 0 ? 1 : 1 + t * 3; /* decode, and short chunks */
			s.scale = (float)(1.0 / sqrt((double)s.head_dim));
			random_attend(be, inst, &s);
		}
		be->be->destroy(inst);
	}
}

/* Cache path: load a past, prefill a chunk, decode tokens one by one, and
 * check that truncating and decoding again gives the same answer. */
static void test_cache_path(void **state)
{
	(void)state;
	for (int i = 0; i < registry_count(); i++) {
		backend_entry *be = registry_get(i);
		if (!be->available || !(be->be->caps & ATTN_CAP_KV_CACHE))
			continue;
		void *inst;
		char err[256];
		attn_config cfg = {.threads = 2};
		assert_int_equal(be->be->create(&cfg, &inst, err, sizeof err), ATTN_OK);
		attn_shape full = {.batch = 2,
		                   .n_heads = 6,
		                   .n_kv_heads = 2,
		                   .head_dim = 40,
		                   .n_q = 1,
		                   .n_kv = 90,
		                   .causal = 1,
		                   .scale = 0.2f,
		                   .dtype = ATTN_F32};
		const int64_t past = 70, chunk = 13, ndec = 7; /* 70 + 13 + 7 = 90 */
		float *k = malloc(kvn(&full, full.n_kv) * sizeof(float)),
		      *v = malloc(kvn(&full, full.n_kv) * sizeof(float));
		for (size_t j = 0; j < kvn(&full, full.n_kv); j++) {
			k[j] = frand();
			v[j] = frand();
		}
		attn_shape cap = full;
		assert_int_equal(be->be->cache_alloc(inst, &cap), ATTN_OK);
		float *kp = slice(k, &full, 0, past), *vp = slice(v, &full, 0, past);
		assert_int_equal(be->be->cache_append(inst, kp, vp, past), ATTN_OK);
		assert_int_equal(be->be->cache_len(inst), past);
		free(kp);
		free(vp);

		/* prefill chunk: reference over the first past + chunk keys */
		attn_shape ps = full;
		ps.n_q = chunk;
		ps.n_kv = past + chunk;
		float *q = malloc(qn(&ps) * sizeof(float)), *got = malloc(qn(&ps) * sizeof(float));
		double *ref = malloc(qn(&ps) * sizeof(double));
		for (size_t j = 0; j < qn(&ps); j++)
			q[j] = frand();
		float *kc = slice(k, &full, past, chunk), *vc = slice(v, &full, past, chunk);
		float *kpre = slice(k, &full, 0, ps.n_kv), *vpre = slice(v, &full, 0, ps.n_kv);
		tu_reference(&ps, q, kpre, vpre, ps.n_kv, ref);
		assert_int_equal(be->be->prefill(inst, &ps, q, kc, vc, got), ATTN_OK);
		expect_close(be->be->name, "prefill", &ps, got, ref, qn(&ps));
		free(kc);
		free(vc);
		free(kpre);
		free(vpre);

		for (int64_t t = 0; t < ndec; t++) {
			attn_shape ds = full;
			ds.n_q = 1;
			ds.n_kv = past + chunk + t + 1;
			float *kt = slice(k, &full, ds.n_kv - 1, 1), *vt = slice(v, &full, ds.n_kv - 1, 1);
			float *kpre2 = slice(k, &full, 0, ds.n_kv), *vpre2 = slice(v, &full, 0, ds.n_kv);
			tu_reference(&ds, q, kpre2, vpre2, ds.n_kv, ref);
			assert_int_equal(be->be->decode(inst, &ds, q, kt, vt, got), ATTN_OK);
			expect_close(be->be->name, "decode", &ds, got, ref, qn(&ds));
			/* truncate back and decode again: same answer */
			assert_int_equal(be->be->cache_truncate(inst, ds.n_kv - 1), ATTN_OK);
			assert_int_equal(be->be->decode(inst, &ds, q, kt, vt, got), ATTN_OK);
			expect_close(be->be->name, "decode after truncate", &ds, got, ref, qn(&ds));
			free(kt);
			free(vt);
			free(kpre2);
			free(vpre2);
		}
		assert_int_equal(be->be->cache_len(inst), full.n_kv);
		assert_true(be->be->cache_bytes(inst) >= 2ull * (uint64_t)kvn(&full, full.n_kv) * sizeof(float));
		/* the cache is full: one more token is refused, not written */
		attn_shape over = full;
		over.n_kv = full.n_kv + 1;
		assert_int_not_equal(be->be->decode(inst, &over, q, k, v, got), ATTN_OK);
		free(q);
		free(got);
		free(ref);
		free(k);
		free(v);
		be->be->destroy(inst);
	}
}

static void test_supports_and_params(void **state)
{
	(void)state;
	for (int i = 0; i < registry_count(); i++) {
		backend_entry *be = registry_get(i);
		if (!be->available)
			continue;
		void *inst;
		char err[256], why[256];
		attn_config bad = {.threads = 1, .params = "no_such_key=1"};
		assert_int_equal(be->be->create(&bad, &inst, err, sizeof err), ATTN_E_INVALID);
		assert_non_null(strstr(err, "no_such_key"));
		attn_config cfg = {.threads = 1};
		assert_int_equal(be->be->create(&cfg, &inst, err, sizeof err), ATTN_OK);
		attn_shape s = {.batch = 1,
		                .n_heads = 2,
		                .n_kv_heads = 1,
		                .head_dim = 64,
		                .n_q = 4,
		                .n_kv = 4,
		                .causal = 1,
		                .scale = 0.125f,
		                .dtype = ATTN_F32};
		assert_true(be->be->supports(inst, &s, why, sizeof why));
		s.dtype = ATTN_BF16;
		if (!(be->be->caps & ATTN_CAP_BF16))
			assert_false(be->be->supports(inst, &s, why, sizeof why));
		be->be->destroy(inst);
	}
}

static int quiet_check(const char *dir, const char *backend)
{
	check_opts o = {
	    .golden_dir = dir, .backends = backend, .cfg = {.threads = 2}, .max_mem = 1ull << 32, .max_report = 3};
	return check_run(&o);
}

static void test_goldens(void **state)
{
	(void)state;
	for (int i = 0; i < registry_count(); i++) {
		backend_entry *be = registry_get(i);
		if (be->available)
			assert_int_equal(quiet_check("datasets/golden", be->be->name), EXIT_PASS);
	}
}

/* A reference nudged by 1e-2 in one element must fail, exit code 1. */
static void test_corrupted_reference(void **state)
{
	(void)state;
	char *dir = tu_tmpdir();
	tu_copy_dir("datasets/golden", dir);
	char p[512];
	snprintf(p, sizeof p, "%s/gqa4_out.npy", dir);
	size_t len;
	unsigned char *buf = (unsigned char *)tu_read(p, &len);
	assert_non_null(buf);
	double x;
	memcpy(&x, buf + len - 8 * 7, 8);
	x += 1e-2;
	memcpy(buf + len - 8 * 7, &x, 8);
	tu_write(p, buf, len);
	free(buf);
	assert_int_equal(quiet_check(dir, "naive"), EXIT_CHECK_FAILED);
	tu_rmtree(dir);
}

int run_backend_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_random_shapes), cmocka_unit_test(test_blocked_paths),
	    cmocka_unit_test(test_cache_path),    cmocka_unit_test(test_supports_and_params),
	    cmocka_unit_test(test_goldens),       cmocka_unit_test(test_corrupted_reference),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("backends", tests, NULL, NULL);
}
