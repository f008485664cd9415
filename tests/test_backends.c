/* test_backends.c - every available backend against a float64 reference
 * written here, on shapes the goldens do not have (random head_dim, GQA
 * ratio, lengths), through attend and through the KV-cache path (append,
 * chunked prefill, consecutive decodes, truncate); then the golden check
 * itself, and a corrupted reference that must fail. The CPU backends' f16
 * and bf16 storage: attend and the cache path against the float64 reference
 * of the widened stored values, every finite 16-bit pattern widened exactly,
 * and the cache and workspace sizes of each dtype. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_half.h"
#include "run/check.h"
#include "cpu/cpu_common.h"
#include "run/registry.h"
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
		assert_int_equal(be->be->supports(inst, &s, why, sizeof why), !!(be->be->caps & ATTN_CAP_BF16));
		s.dtype = ATTN_F16;
		assert_int_equal(be->be->supports(inst, &s, why, sizeof why), !!(be->be->caps & ATTN_CAP_F16));
		be->be->destroy(inst);
	}
}

/* ---- f16 and bf16 storage in the CPU backends -------------------------------
 *
 * The backends widen the stored values exactly and compute in f32, so against
 * the float64 attention of the widened values they differ only by f32
 * rounding: the tolerance is tight, far below what a value decoded in the
 * wrong format, a lost bit or a misplaced row would cost. */

#define HALF_ATOL 2e-5
#define HALF_RTOL 1e-4

static const char *const cpu_backends[] = {"naive", "blocked", "blas"};
static const attn_dtype half_types[] = {ATTN_F16, ATTN_BF16};

static const char *dtype_name(attn_dtype t)
{
	return t == ATTN_F16 ? "f16" : t == ATTN_BF16 ? "bf16" : "f32";
}

/* One stored 16-bit value widened (the harness's exhaustively tested
 * conversions). */
static float widen16(uint16_t h, attn_dtype t)
{
	return t == ATTN_F16 ? attn_f16_to_f32(h) : attn_bf16_to_f32(h);
}

/* x rounded to t (f16 or bf16): returns the stored array (malloc'ed) and
 * overwrites x with the widened stored values, which are what the backend
 * computes with. */
static void *store_as(float *x, size_t n, attn_dtype t)
{
	uint16_t *st = malloc((n ? n : 1) * sizeof *st);
	assert_non_null(st);
	for (size_t i = 0; i < n; i++) {
		st[i] = t == ATTN_F16 ? attn_f32_to_f16(x[i]) : attn_f32_to_bf16(x[i]);
		x[i] = widen16(st[i], t);
	}
	return st;
}

/* Tokens [t0, t0+n) of a stored [B][G][n_kv][D] tensor. */
static void *slice_as(const void *x, const attn_shape *s, int64_t t0, int64_t n)
{
	const size_t esz = attn_dtype_size(s->dtype), row = (size_t)s->head_dim * esz;
	char *out = malloc(kvn(s, n ? n : 1) * esz);
	assert_non_null(out);
	for (int64_t r = 0; r < s->batch * s->n_kv_heads; r++)
		memcpy(out + (size_t)r * (size_t)n * row,
		       (const char *)x + ((size_t)r * (size_t)s->n_kv + (size_t)t0) * row, (size_t)n * row);
	return out;
}

static void expect_half_close(const char *backend, const char *what, const attn_shape *s, const float *got,
                              const double *ref, size_t n)
{
	err_stats st;
	if (!compare_outputs(got, ref, (int64_t)n, HALF_ATOL, HALF_RTOL, &st))
		fail_msg(
		    "%s %s %s: b%lld h%lld kv%lld d%lld nq%lld nkv%lld causal%d: %lld bad (first %lld), max_abs %g",
		    backend, dtype_name(s->dtype), what, (long long)s->batch, (long long)s->n_heads,
		    (long long)s->n_kv_heads, (long long)s->head_dim, (long long)s->n_q, (long long)s->n_kv, s->causal,
		    (long long)st.n_bad, (long long)st.first_bad, st.max_abs);
}

static void *create_cpu(const char *name, const char *params, const attn_backend **be)
{
	backend_entry *e = registry_find(name);
	assert_non_null(e);
	*be = e->be;
	assert_true((*be)->caps & ATTN_CAP_F16);
	assert_true((*be)->caps & ATTN_CAP_BF16);
	void *inst;
	char err[256];
	attn_config cfg = {.threads = 2, .params = params};
	assert_int_equal((*be)->create(&cfg, &inst, err, sizeof err), ATTN_OK);
	return inst;
}

/* Random q, k, v rounded to s->dtype through attend, against the reference
 * of the widened values. */
static void half_attend(const attn_backend *be, void *inst, const attn_shape *s)
{
	char why[256];
	assert_true(be->supports(inst, s, why, sizeof why));
	const size_t nq = qn(s), nk = kvn(s, s->n_kv);
	float *q = malloc(nq * sizeof(float)), *k = malloc(nk * sizeof(float)), *v = malloc(nk * sizeof(float));
	float *got = malloc(nq * sizeof(float));
	double *ref = malloc(nq * sizeof(double));
	assert_true(q && k && v && got && ref);
	for (size_t i = 0; i < nq; i++)
		q[i] = 2 * frand();
	for (size_t i = 0; i < nk; i++) {
		k[i] = 2 * frand();
		v[i] = frand();
	}
	void *qs = store_as(q, nq, s->dtype), *ks = store_as(k, nk, s->dtype), *vs = store_as(v, nk, s->dtype);
	tu_reference(s, q, k, v, s->n_kv, ref);
	assert_int_equal(be->attend(inst, s, qs, ks, vs, got), ATTN_OK);
	expect_half_close(be->name, "attend", s, got, ref, nq);
	free(qs);
	free(ks);
	free(vs);
	free(q);
	free(k);
	free(v);
	free(got);
	free(ref);
}

/* attend: causal and not, MHA, GQA and MQA, head_dim 1, 13, 40, 64, 128 and
 * 256; for blocked both its score paths (dot products for a few rows, the
 * 16-row panels with a widened K tile for many), keys split across threads
 * (one KV head, a long context), and odd tiles. */
static void test_half_attend(void **state)
{
	(void)state;
	static const attn_shape shapes[] = {
	    {.batch = 1, .n_heads = 4, .n_kv_heads = 1, .head_dim = 13, .n_q = 37, .n_kv = 50, .causal = 1},
	    {.batch = 2, .n_heads = 6, .n_kv_heads = 2, .head_dim = 1, .n_q = 5, .n_kv = 9, .causal = 0},
	    {.batch = 1, .n_heads = 2, .n_kv_heads = 2, .head_dim = 256, .n_q = 20, .n_kv = 33, .causal = 1},
	    {.batch = 1, .n_heads = 8, .n_kv_heads = 2, .head_dim = 64, .n_q = 40, .n_kv = 120, .causal = 0},
	    {.batch = 1, .n_heads = 8, .n_kv_heads = 2, .head_dim = 40, .n_q = 3, .n_kv = 75, .causal = 1},
	    {.batch = 1, .n_heads = 4, .n_kv_heads = 1, .head_dim = 128, .n_q = 1, .n_kv = 900, .causal = 1},
	    {.batch = 2, .n_heads = 3, .n_kv_heads = 3, .head_dim = 13, .n_q = 2, .n_kv = 17, .causal = 0},
	};
	static const char *const blocked_params[] = {NULL, "tile_q=5,tile_kv=7"};
	for (size_t bi = 0; bi < sizeof cpu_backends / sizeof *cpu_backends; bi++)
		for (int pi = 0; pi < (strcmp(cpu_backends[bi], "blocked") ? 1 : 2); pi++) {
			const attn_backend *be;
			void *inst = create_cpu(cpu_backends[bi], blocked_params[pi], &be);
			for (size_t ti = 0; ti < 2; ti++)
				for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
					attn_shape s = shapes[si];
					s.dtype = half_types[ti];
					s.scale = (float)(1.0 / sqrt((double)s.head_dim));
					half_attend(be, inst, &s);
				}
			be->destroy(inst);
		}
}

/* The cache path in 16 bits: a past loaded with cache_append, two prefill
 * chunks (many query rows: blocked's panel path), then decodes (one row per
 * head: the dot-product path), each decode also after truncating back. The
 * cache holds exactly 2 bytes per element. */
static void test_half_cache(void **state)
{
	(void)state;
	static const attn_shape shapes[] = {
	    {.batch = 2, .n_heads = 8, .n_kv_heads = 2, .head_dim = 40, .n_kv = 110},
	    {.batch = 1, .n_heads = 3, .n_kv_heads = 3, .head_dim = 13, .n_kv = 90},
	    {.batch = 1, .n_heads = 2, .n_kv_heads = 1, .head_dim = 256, .n_kv = 70},
	};
	for (size_t bi = 0; bi < sizeof cpu_backends / sizeof *cpu_backends; bi++)
		for (size_t ti = 0; ti < 2; ti++)
			for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
				const attn_backend *be;
				void *inst = create_cpu(cpu_backends[bi], NULL, &be);
				attn_shape full = shapes[si];
				full.n_q = 1;
				full.causal = 1;
				full.dtype = half_types[ti];
				full.scale = (float)(1.0 / sqrt((double)full.head_dim));
				const int64_t past = full.n_kv - 50, chunk1 = 17, chunk2 = 28, ndec = 5;
				const size_t nk = kvn(&full, full.n_kv);
				float *k = malloc(nk * sizeof(float)), *v = malloc(nk * sizeof(float));
				assert_true(k && v);
				for (size_t j = 0; j < nk; j++) {
					k[j] = 2 * frand();
					v[j] = frand();
				}
				void *ks = store_as(k, nk, full.dtype), *vs = store_as(v, nk, full.dtype);
				assert_int_equal(be->cache_alloc(inst, &full), ATTN_OK);
				assert_int_equal(be->cache_bytes(inst), 2 * nk * 2);
				void *kp = slice_as(ks, &full, 0, past), *vp = slice_as(vs, &full, 0, past);
				assert_int_equal(be->cache_append(inst, kp, vp, past), ATTN_OK);
				free(kp);
				free(vp);

				attn_shape ps = full;
				ps.n_q = chunk2 > chunk1 ? chunk2 : chunk1;
				float *q = malloc(qn(&ps) * sizeof(float)), *got = malloc(qn(&ps) * sizeof(float));
				double *ref = malloc(qn(&ps) * sizeof(double));
				assert_true(q && got && ref);
				int64_t len = past;
				for (int step = 0; step < 2 + 2 * ndec; step++) {
					/* prefill chunk1, chunk2, then decodes; odd decode steps
					 * truncate the previous token and decode it again */
					const int redo = step >= 2 && step % 2 == 1;
					if (redo) {
						assert_int_equal(be->cache_truncate(inst, len - 1), ATTN_OK);
						len--;
					}
					attn_shape cs = full;
					cs.n_q = step == 0 ? chunk1 : step == 1 ? chunk2 : 1;
					cs.n_kv = len + cs.n_q;
					if (!redo) /* fresh queries for each new call */
						for (size_t j = 0; j < qn(&cs); j++)
							q[j] = 2 * frand();
					void *qs = store_as(q, qn(&cs), cs.dtype);
					void *kn = slice_as(ks, &full, len, cs.n_q),
					     *vn = slice_as(vs, &full, len, cs.n_q);
					float *kw = slice(k, &full, 0, cs.n_kv), *vw = slice(v, &full, 0, cs.n_kv);
					tu_reference(&cs, q, kw, vw, cs.n_kv, ref);
					int rc = cs.n_q == 1 ? be->decode(inst, &cs, qs, kn, vn, got)
					                     : be->prefill(inst, &cs, qs, kn, vn, got);
					assert_int_equal(rc, ATTN_OK);
					expect_half_close(be->name, cs.n_q == 1 ? "decode" : "prefill", &cs, got, ref,
					                  qn(&cs));
					len = cs.n_kv;
					assert_int_equal(be->cache_len(inst), len);
					free(qs);
					free(kn);
					free(vn);
					free(kw);
					free(vw);
				}
				free(q);
				free(got);
				free(ref);
				free(ks);
				free(vs);
				free(k);
				free(v);
				be->destroy(inst);
			}
}

/* Every finite 16-bit pattern, f16 and bf16, as V against a single key: the
 * softmax weight is exactly 1, so out must be exactly the widened value.
 * Through attend with one query (dot-product scores), sixteen queries
 * (blocked's panel path) and decode into an empty cache. The same bits mean
 * wholly different numbers as f16 and as bf16 (1.0 is 0x3c00 in f16, 0x3f80
 * in bf16): decoding one type as the other, or widening bf16 without its
 * shift, fails here on almost every element, f16 subnormals included. */
static void test_half_every_pattern(void **state)
{
	(void)state;
	const int64_t D = 256, rows = 65536 / D;
	for (size_t ti = 0; ti < 2; ti++) {
		const attn_dtype t = half_types[ti];
		uint16_t *vbits = malloc(65536 * sizeof *vbits), *kbits = malloc(65536 * sizeof *kbits);
		float *want = malloc(65536 * sizeof *want);
		assert_true(vbits && kbits && want);
		for (uint32_t i = 0; i < 65536; i++) {
			uint16_t h = (uint16_t)i;
			if (!isfinite(widen16(h, t))) /* NaN or Inf: a zero of the same sign instead */
				h &= 0x8000u;
			vbits[i] = h;
			want[i] = widen16(h, t);
			kbits[i] = (uint16_t)(t == ATTN_F16 ? 0x3c00u : 0x3f80u); /* 1.0 */
		}
		for (size_t bi = 0; bi < sizeof cpu_backends / sizeof *cpu_backends; bi++) {
			const attn_backend *be;
			void *inst = create_cpu(cpu_backends[bi], NULL, &be);
			for (int nq = 1; nq <= 16; nq += 15) {
				/* rows of V are batches: one KV head, one key each */
				attn_shape s = {.batch = rows,
				                .n_heads = 1,
				                .n_kv_heads = 1,
				                .head_dim = D,
				                .n_q = nq,
				                .n_kv = 1,
				                .causal = 0,
				                .scale = 0.0625f,
				                .dtype = t};
				uint16_t *q = malloc((size_t)(rows * nq * D) * sizeof *q);
				float *got = malloc((size_t)(rows * nq * D) * sizeof *got);
				assert_true(q && got);
				for (int64_t i = 0; i < rows * nq * D; i++)
					q[i] = kbits[0];
				assert_int_equal(be->attend(inst, &s, q, kbits, vbits, got), ATTN_OK);
				for (int64_t b = 0; b < rows; b++)
					for (int64_t i = 0; i < nq; i++)
						for (int64_t d = 0; d < D; d++) {
							const float g = got[(b * nq + i) * D + d], w = want[b * D + d];
							if (g != w)
								fail_msg("%s %s attend nq %d: pattern 0x%04x gave "
								         "%.9g, want %.9g",
								         be->name, dtype_name(t), nq, vbits[b * D + d],
								         g, w);
						}
				free(q);
				free(got);
			}
			/* decode into an empty cache: the cache path stores and widens the same */
			attn_shape s = {.batch = rows,
			                .n_heads = 1,
			                .n_kv_heads = 1,
			                .head_dim = D,
			                .n_q = 1,
			                .n_kv = 1,
			                .causal = 1,
			                .scale = 0.0625f,
			                .dtype = t};
			float *got = malloc(65536 * sizeof *got);
			assert_non_null(got);
			assert_int_equal(be->cache_alloc(inst, &s), ATTN_OK);
			assert_int_equal(be->decode(inst, &s, kbits, kbits, vbits, got), ATTN_OK);
			for (int64_t i = 0; i < 65536; i++)
				if (got[i] != want[i])
					fail_msg("%s %s decode: pattern 0x%04x gave %.9g, want %.9g", be->name,
					         dtype_name(t), vbits[i], got[i], want[i]);
			free(got);
			be->destroy(inst);
		}
		free(vbits);
		free(kbits);
		free(want);
	}
}

/* The same bits through attend as f16 and as bf16: each backend must match
 * the reference of its own dtype, and the two references are far apart (so
 * a backend that decoded one type as the other could not pass). Values from
 * the edges of each type: f16 subnormals in V; bf16 magnitudes beyond f16's
 * range (1e30 in V), with keys whose scores stay moderate. */
static void test_half_types_apart(void **state)
{
	(void)state;
	const attn_shape base = {
	    .batch = 1, .n_heads = 4, .n_kv_heads = 2, .head_dim = 24, .n_q = 6, .n_kv = 40, .causal = 1};
	const size_t nq = qn(&base), nk = kvn(&base, base.n_kv);
	for (size_t ti = 0; ti < 2; ti++) {
		const attn_dtype t = half_types[ti], other = half_types[1 - ti];
		float *q = malloc(nq * sizeof(float)), *k = malloc(nk * sizeof(float)), *v = malloc(nk * sizeof(float));
		assert_true(q && k && v);
		for (size_t i = 0; i < nq; i++)
			q[i] = frand();
		for (size_t i = 0; i < nk; i++) {
			k[i] = frand();
			if (t == ATTN_F16) /* every fourth value subnormal in f16 (below 2^-14) */
				v[i] = i % 4 ? frand() : frand() * 6e-5f;
			else /* a few huge ones, positive: a sum that cancels them would leave
			      * only f32 rounding noise of 1e30 to compare */
				v[i] = i % 7 ? frand() : (frand() + 1.5f) * 1e30f;
		}
		void *qs = store_as(q, nq, t), *ks = store_as(k, nk, t), *vs = store_as(v, nk, t);
		attn_shape s = base;
		s.dtype = t;
		s.scale = 0.3f;
		double *ref = malloc(nq * sizeof(double)), *wrong = malloc(nq * sizeof(double));
		float *got = malloc(nq * sizeof(float));
		assert_true(ref && wrong && got);
		tu_reference(&s, q, k, v, s.n_kv, ref);
		/* the same bits read as the other type, where finite */
		float *q2 = malloc(nq * sizeof(float)), *k2 = malloc(nk * sizeof(float)),
		      *v2 = malloc(nk * sizeof(float));
		assert_true(q2 && k2 && v2);
		for (size_t i = 0; i < nq; i++)
			q2[i] = widen16(((const uint16_t *)qs)[i], other);
		for (size_t i = 0; i < nk; i++) {
			k2[i] = widen16(((const uint16_t *)ks)[i], other);
			v2[i] = widen16(((const uint16_t *)vs)[i], other);
		}
		for (size_t i = 0; i < nq; i++)
			q2[i] = isfinite(q2[i]) ? q2[i] : 0.0f;
		for (size_t i = 0; i < nk; i++) {
			k2[i] = isfinite(k2[i]) ? k2[i] : 0.0f;
			v2[i] = isfinite(v2[i]) ? v2[i] : 0.0f;
		}
		attn_shape so = s;
		so.dtype = other;
		tu_reference(&so, q2, k2, v2, so.n_kv, wrong);
		size_t apart = 0;
		for (size_t i = 0; i < nq; i++)
			apart += !(fabs(wrong[i] - ref[i]) <= 100 * (HALF_ATOL + HALF_RTOL * fabs(ref[i])));
		assert_true(apart > nq / 2);
		for (size_t bi = 0; bi < sizeof cpu_backends / sizeof *cpu_backends; bi++) {
			const attn_backend *be;
			void *inst = create_cpu(cpu_backends[bi], NULL, &be);
			assert_int_equal(be->attend(inst, &s, qs, ks, vs, got), ATTN_OK);
			expect_half_close(be->name, "attend", &s, got, ref, nq);
			be->destroy(inst);
		}
		free(q2);
		free(k2);
		free(v2);
		free(qs);
		free(ks);
		free(vs);
		free(q);
		free(k);
		free(v);
		free(ref);
		free(wrong);
		free(got);
	}
}

/* Sizes follow the dtype: cache_bytes halves for f16 and bf16 (2 bytes per
 * element, nothing else), and workspace_bytes is what a call actually
 * allocates, conversion buffers included (the workspace itself holds f32
 * scores and tiles, so it does not halve; blas and naive add f32 copies of
 * the widened rows, blocked a widened K tile where it uses panels). */
static void test_half_sizes(void **state)
{
	(void)state;
	static const attn_shape shapes[] = {
	    {.batch = 2, .n_heads = 8, .n_kv_heads = 2, .head_dim = 72, .n_q = 33, .n_kv = 300, .causal = 1},
	    {.batch = 1, .n_heads = 4, .n_kv_heads = 4, .head_dim = 13, .n_q = 1, .n_kv = 700, .causal = 1},
	    {.batch = 1, .n_heads = 32, .n_kv_heads = 8, .head_dim = 128, .n_q = 1, .n_kv = 2048, .causal = 1},
	};
	static const attn_dtype all[] = {ATTN_F32, ATTN_F16, ATTN_BF16};
	for (size_t bi = 0; bi < sizeof cpu_backends / sizeof *cpu_backends; bi++)
		for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
			uint64_t cache[3], ws[3];
			for (int ti = 0; ti < 3; ti++) {
				const attn_backend *be;
				void *inst = create_cpu(cpu_backends[bi], NULL, &be);
				attn_shape s = shapes[si];
				s.dtype = all[ti];
				s.scale = 0.125f;
				assert_int_equal(be->cache_alloc(inst, &s), ATTN_OK);
				cache[ti] = be->cache_bytes(inst);
				assert_int_equal(cache[ti], 2 * kvn(&s, s.n_kv) * attn_dtype_size(s.dtype));
				ws[ti] = be->workspace_bytes(inst, &s);
				/* a call on this shape allocates exactly what workspace_bytes said */
				const size_t nq = qn(&s), nk = kvn(&s, s.n_kv), esz = attn_dtype_size(s.dtype);
				void *q = calloc(nq, esz), *k = calloc(nk, esz), *v = calloc(nk, esz);
				float *out = malloc(nq * sizeof(float));
				assert_true(q && k && v && out);
				assert_int_equal(be->attend(inst, &s, q, k, v, out), ATTN_OK);
				if (((cpu_ctx *)inst)->ws_bytes != ws[ti])
					fail_msg("%s %s: workspace_bytes %llu, the call allocated %zu", be->name,
					         dtype_name(s.dtype), (unsigned long long)ws[ti],
					         ((cpu_ctx *)inst)->ws_bytes);
				free(q);
				free(k);
				free(v);
				free(out);
				be->destroy(inst);
			}
			assert_int_equal(cache[1] * 2, cache[0]);
			assert_int_equal(cache[2] * 2, cache[0]);
			assert_int_equal(ws[1], ws[2]);
			assert_true(ws[1] >= ws[0]);
		}
}

static int quiet_check(const char *dir, const char *backend)
{
	check_opts o = {.golden_dir = dir,
	                .backends = backend,
	                .cfg = {.threads = 2},
	                .max_mem = 1ull << 32,
	                .max_report = 3,
	                /* in process: this test process has run OpenMP code, whose thread
	                 * pool a forked worker would inherit broken */
	                .no_isolate = 1};
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
	    cmocka_unit_test(test_random_shapes),
	    cmocka_unit_test(test_blocked_paths),
	    cmocka_unit_test(test_cache_path),
	    cmocka_unit_test(test_supports_and_params),
	    cmocka_unit_test(test_goldens),
	    cmocka_unit_test(test_corrupted_reference),
	    cmocka_unit_test(test_half_attend),
	    cmocka_unit_test(test_half_cache),
	    cmocka_unit_test(test_half_every_pattern),
	    cmocka_unit_test(test_half_types_apart),
	    cmocka_unit_test(test_half_sizes),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("backends", tests, NULL, NULL);
}
