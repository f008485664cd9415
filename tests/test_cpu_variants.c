/* test_cpu_variants.c - the ABI 3 variants on the CPU backends that claim them
 * (naive, blas), through attend, the KV-cache path and attend_paged, against
 * a float64 reference written here: sliding windows, softcap, ALiBi, sinks,
 * head_dim_v, ragged batches with NaN padding, pages, and k and v stored as
 * another 16-bit type, q8_0, q4_0 or fp8 (the reference reads the values the
 * storage holds). A few cases are checked by hand as well (window 1, a huge
 * window, sinks that shrink the output by sum / (sum + e^z)). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_quant.h"
#include "cpu/blas_softmax.h"
#include "run/registry.h"
#include "testutil.h"

static const char *const cpu_names[] = {"naive", "blas"};
#define N_CPU     2
#define UNTOUCHED -12345.0f /* out rows past q_lens[b] must keep it */

static uint64_t rng = 777;

static float frand(void)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return (float)((double)(rng >> 40) / (double)(1ull << 24) * 2.0 - 1.0);
}

/* A case: the shape, the stored inputs, the values they hold as f32 (what
 * the reference reads), and the reference. */
typedef struct vcase {
	attn_shape s;
	int64_t D, DV, NQ, NKV;
	float *q, *k, *v;   /* padded layouts, the stored values widened */
	void *qs, *ks, *vs; /* storage: q as s.dtype, k and v as attn_kv_dtype */
	size_t krow, vrow;  /* bytes of a stored K and V row */
	double *ref;        /* [B][H][NQ][DV] */
} vcase;

static void lens(const attn_shape *s, int64_t b, int64_t *nq, int64_t *nkv)
{
	*nq = s->q_lens ? s->q_lens[b] : s->n_q;
	*nkv = s->kv_lens ? s->kv_lens[b] : s->n_kv;
}

/* out[b,h,i,:] in float64, straight from the definition (header comment of
 * attnbench.h), for the queries a sequence has. */
static void reference(const vcase *c)
{
	const attn_shape *s = &c->s;
	const int64_t H = s->n_heads, ratio = H / s->n_kv_heads, D = c->D, DV = c->DV;
	double *x = malloc((size_t)c->NKV * sizeof(double));
	for (int64_t b = 0; b < s->batch; b++) {
		int64_t nq, nkv;
		lens(s, b, &nq, &nkv);
		for (int64_t h = 0; h < H; h++) {
			const int64_t g = h / ratio;
			for (int64_t i = 0; i < nq; i++) {
				const int64_t p = nkv - nq + i;
				const float *qi = c->q + ((b * H + h) * c->NQ + i) * D;
				double m = s->sinks ? s->sinks[h] : -INFINITY;
				for (int64_t j = 0; j < nkv; j++) {
					const int visible =
					    (!s->causal || j <= p) && (s->window == 0 || p - j < s->window);
					if (!visible) {
						x[j] = NAN;
						continue;
					}
					const float *kj = c->k + ((b * s->n_kv_heads + g) * c->NKV + j) * D;
					double dot = 0;
					for (int64_t d = 0; d < D; d++)
						dot += (double)qi[d] * kj[d];
					x[j] = s->scale * dot;
					if (s->softcap > 0)
						x[j] = s->softcap * tanh(x[j] / s->softcap);
					if (s->alibi)
						x[j] -= s->alibi[h] * (double)llabs(p - j);
					m = x[j] > m ? x[j] : m;
				}
				double den = s->sinks ? exp(s->sinks[h] - m) : 0;
				for (int64_t j = 0; j < nkv; j++)
					if (!isnan(x[j]))
						den += exp(x[j] - m);
				double *o = c->ref + ((b * H + h) * c->NQ + i) * DV;
				for (int64_t d = 0; d < DV; d++)
					o[d] = 0;
				for (int64_t j = 0; j < nkv; j++) {
					if (isnan(x[j]))
						continue;
					const double w = exp(x[j] - m) / den;
					const float *vj = c->v + ((b * s->n_kv_heads + g) * c->NKV + j) * DV;
					for (int64_t d = 0; d < DV; d++)
						o[d] += w * vj[d];
				}
			}
		}
	}
	free(x);
}

/* Store n floats of a row as t and read back what the storage holds. */
static void store_row(void *dst, float *vals, int64_t n, attn_dtype t)
{
	attn_quantize_row(dst, vals, n, t);
	attn_dequantize_row(vals, dst, n, t);
}

/* Random inputs of amplitude amp for s (its pointers kept), padding rows
 * NaN, stored and referenced. */
static void make_case(vcase *c, const attn_shape *s, float amp)
{
	memset(c, 0, sizeof *c);
	c->s = *s;
	c->D = s->head_dim;
	c->DV = attn_head_dim_v(s);
	c->NQ = s->n_q;
	c->NKV = s->n_kv;
	const attn_dtype kt = attn_kv_dtype(s);
	const int64_t B = s->batch, H = s->n_heads, G = s->n_kv_heads;
	c->krow = attn_row_bytes(kt, c->D);
	c->vrow = attn_row_bytes(kt, c->DV);
	c->q = malloc((size_t)(B * H * c->NQ * c->D) * sizeof(float));
	c->k = malloc((size_t)(B * G * c->NKV * c->D) * sizeof(float));
	c->v = malloc((size_t)(B * G * c->NKV * c->DV) * sizeof(float));
	c->qs = malloc((size_t)(B * H * c->NQ * c->D) * attn_dtype_size(s->dtype));
	c->ks = malloc((size_t)(B * G * c->NKV) * c->krow);
	c->vs = malloc((size_t)(B * G * c->NKV) * c->vrow);
	c->ref = malloc((size_t)(B * H * c->NQ * c->DV) * sizeof(double));
	for (int64_t b = 0; b < B; b++) {
		int64_t nq, nkv;
		lens(s, b, &nq, &nkv);
		for (int64_t h = 0; h < H; h++)
			for (int64_t i = 0; i < c->NQ; i++) {
				const size_t r = (size_t)((b * H + h) * c->NQ + i);
				float *row = c->q + r * (size_t)c->D;
				for (int64_t d = 0; d < c->D; d++)
					row[d] = i < nq ? amp * frand() : NAN;
				store_row((char *)c->qs + r * (size_t)c->D * attn_dtype_size(s->dtype), row, c->D,
				          s->dtype);
			}
		for (int64_t g = 0; g < G; g++)
			for (int64_t j = 0; j < c->NKV; j++) {
				const size_t r = (size_t)((b * G + g) * c->NKV + j);
				float *kr = c->k + r * (size_t)c->D, *vr = c->v + r * (size_t)c->DV;
				for (int64_t d = 0; d < c->D; d++)
					kr[d] = j < nkv ? amp * frand() : NAN;
				for (int64_t d = 0; d < c->DV; d++)
					vr[d] = j < nkv ? frand() : NAN;
				store_row((char *)c->ks + r * c->krow, kr, c->D, kt);
				store_row((char *)c->vs + r * c->vrow, vr, c->DV, kt);
				if (j >= nkv) { /* NaN padding whatever the storage (q8_0 would hold 0) */
					memset((char *)c->ks + r * c->krow, 0xFF, c->krow);
					memset((char *)c->vs + r * c->vrow, 0xFF, c->vrow);
				}
			}
	}
	reference(c);
}

static void free_case(vcase *c)
{
	free(c->q);
	free(c->k);
	free(c->v);
	free(c->qs);
	free(c->ks);
	free(c->vs);
	free(c->ref);
}

static float *out_buffer(const vcase *c)
{
	const size_t n = (size_t)(c->s.batch * c->s.n_heads * c->NQ * c->DV);
	float *o = malloc(n * sizeof(float));
	for (size_t i = 0; i < n; i++)
		o[i] = UNTOUCHED;
	return o;
}

/* got against the reference: the rows a sequence has within atol = rtol =
 * tol, the others untouched. */
static void expect_ref(const char *backend, const char *what, const vcase *c, const float *got, double tol)
{
	const attn_shape *s = &c->s;
	for (int64_t b = 0; b < s->batch; b++) {
		int64_t nq, nkv;
		lens(s, b, &nq, &nkv);
		for (int64_t h = 0; h < s->n_heads; h++)
			for (int64_t i = 0; i < c->NQ; i++)
				for (int64_t d = 0; d < c->DV; d++) {
					const size_t e = (size_t)(((b * s->n_heads + h) * c->NQ + i) * c->DV + d);
					if (i >= nq) {
						if (got[e] != UNTOUCHED)
							fail_msg("%s %s: out[b=%lld,h=%lld,i=%lld] past q_lens written",
							         backend, what, (long long)b, (long long)h,
							         (long long)i);
						continue;
					}
					if (!(fabs(got[e] - c->ref[e]) <= tol + tol * fabs(c->ref[e])))
						fail_msg("%s %s: [b=%lld,h=%lld,i=%lld,d=%lld] got %.9g, want %.9g",
						         backend, what, (long long)b, (long long)h, (long long)i,
						         (long long)d, (double)got[e], c->ref[e]);
				}
	}
}

static void *make_inst(const char *name, const backend_entry **be)
{
	*be = registry_find(name);
	assert_non_null(*be);
	void *inst;
	char err[256];
	attn_config cfg = {.threads = 2};
	assert_int_equal((*be)->be->create(&cfg, &inst, err, sizeof err), ATTN_OK);
	return inst;
}

static void expect_supported(const backend_entry *be, void *inst, const attn_shape *s)
{
	char why[256] = "";
	if (!be->be->supports(inst, s, why, sizeof why))
		fail_msg("%s does not support the shape: %s", be->be->name, why);
}

static float *run_attend(const backend_entry *be, void *inst, const vcase *c)
{
	expect_supported(be, inst, &c->s);
	float *got = out_buffer(c);
	if (be->be->attend(inst, &c->s, c->qs, c->ks, c->vs, got) != ATTN_OK)
		fail_msg("%s attend: %s", be->be->name, be->be->last_error(inst));
	return got;
}

/* Rows [t0, t0 + n) of each KV head of sequence b's stored k (or v) into
 * dst's block of `block` rows a head. */
static void copy_rows(char *dst, const vcase *c, const void *src, size_t row, int64_t b, int64_t t0, int64_t n,
                      int64_t block)
{
	for (int64_t g = 0; g < c->s.n_kv_heads; g++)
		memcpy(dst + (size_t)((b * c->s.n_kv_heads + g) * block) * row,
		       (const char *)src + (size_t)((b * c->s.n_kv_heads + g) * c->NKV + t0) * row, (size_t)n * row);
}

/* The cache path (causal cases): a ragged prefill loads each sequence's
 * context (its keys before its queries), then a prefill or decode of the
 * case's shape appends the queries' keys and attends. */
static float *run_cache(const backend_entry *be, void *inst, const vcase *c)
{
	const attn_shape *s = &c->s;
	const int64_t B = s->batch, G = s->n_kv_heads;
	attn_shape a = *s;
	assert_int_equal(be->be->cache_alloc(inst, &a), ATTN_OK);
	int64_t *ctx = calloc((size_t)B, sizeof(int64_t)), n0 = 0;
	for (int64_t b = 0; b < B; b++) {
		int64_t nq, nkv;
		lens(s, b, &nq, &nkv);
		ctx[b] = nkv - nq;
		n0 = ctx[b] > n0 ? ctx[b] : n0;
	}
	if (n0 > 0) {
		attn_shape l = *s;
		l.n_q = l.n_kv = n0;
		l.q_lens = l.kv_lens = ctx;
		char *k0 = calloc((size_t)(B * G * n0), c->krow), *v0 = calloc((size_t)(B * G * n0), c->vrow);
		void *q0 = calloc((size_t)(B * s->n_heads * n0 * c->D), sizeof(float));
		float *o0 = malloc((size_t)(B * s->n_heads * n0 * c->DV) * sizeof(float));
		for (int64_t b = 0; b < B; b++) {
			copy_rows(k0, c, c->ks, c->krow, b, 0, ctx[b], n0);
			copy_rows(v0, c, c->vs, c->vrow, b, 0, ctx[b], n0);
		}
		if (be->be->prefill(inst, &l, q0, k0, v0, o0) != ATTN_OK)
			fail_msg("%s loading prefill: %s", be->be->name, be->be->last_error(inst));
		free(k0);
		free(v0);
		free(q0);
		free(o0);
	}
	assert_int_equal(be->be->cache_len(inst), n0);
	char *k1 = calloc((size_t)(B * G * c->NQ), c->krow), *v1 = calloc((size_t)(B * G * c->NQ), c->vrow);
	for (int64_t b = 0; b < B; b++) {
		int64_t nq, nkv;
		lens(s, b, &nq, &nkv);
		copy_rows(k1, c, c->ks, c->krow, b, ctx[b], nq, c->NQ);
		copy_rows(v1, c, c->vs, c->vrow, b, ctx[b], nq, c->NQ);
	}
	float *got = out_buffer(c);
	int (*step)(void *, const attn_shape *, const void *, const void *, const void *, float *) =
	    c->NQ == 1 ? be->be->decode : be->be->prefill;
	if (step(inst, s, c->qs, k1, v1, got) != ATTN_OK)
		fail_msg("%s cache step: %s", be->be->name, be->be->last_error(inst));
	free(k1);
	free(v1);
	free(ctx);
	return got;
}

/* attend_paged with pages of page_size tokens, in shuffled order, the pool's
 * unused slots filled with NaN bytes. */
static float *run_paged(const backend_entry *be, void *inst, const vcase *c, int64_t page_size)
{
	const attn_shape *s = &c->s;
	const int64_t B = s->batch, G = s->n_kv_heads, maxp = (c->NKV + page_size - 1) / page_size;
	const int64_t n_pages = B * maxp + 1;
	int32_t *perm = malloc((size_t)n_pages * sizeof(int32_t)),
	        *table = malloc((size_t)(B * maxp) * sizeof(int32_t));
	for (int64_t i = 0; i < n_pages; i++)
		perm[i] = (int32_t)i;
	for (int64_t i = n_pages - 1; i > 0; i--) {
		const int64_t j = (int64_t)((frand() + 1) * 0.5 * (double)(i + 1)) % (i + 1);
		const int32_t t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	const size_t kp = (size_t)(G * page_size) * c->krow, vp = (size_t)(G * page_size) * c->vrow;
	char *kpool = malloc((size_t)n_pages * kp), *vpool = malloc((size_t)n_pages * vp);
	memset(kpool, 0xFF, (size_t)n_pages * kp);
	memset(vpool, 0xFF, (size_t)n_pages * vp);
	for (int64_t b = 0; b < B; b++) {
		int64_t nq, nkv;
		lens(s, b, &nq, &nkv);
		for (int64_t pg = 0; pg < maxp; pg++)
			table[b * maxp + pg] = perm[b * maxp + pg];
		for (int64_t t = 0; t < nkv; t++)
			for (int64_t g = 0; g < G; g++) {
				const int64_t page = table[b * maxp + t / page_size], slot = t % page_size;
				const size_t src = (size_t)((b * G + g) * c->NKV + t);
				memcpy(kpool + (size_t)page * kp + (size_t)(g * page_size + slot) * c->krow,
				       (const char *)c->ks + src * c->krow, c->krow);
				memcpy(vpool + (size_t)page * vp + (size_t)(g * page_size + slot) * c->vrow,
				       (const char *)c->vs + src * c->vrow, c->vrow);
			}
	}
	attn_paged_kv pk = {kpool, vpool, n_pages, page_size, table, maxp};
	float *got = out_buffer(c);
	assert_non_null(be->be->attend_paged);
	if (be->be->attend_paged(inst, s, c->qs, &pk, got) != ATTN_OK)
		fail_msg("%s attend_paged: %s", be->be->name, be->be->last_error(inst));
	/* a page number outside the pool is refused, not read (sequence
	 * B - 1's first page: every case's last sequence has a key) */
	table[(B - 1) * maxp] = (int32_t)n_pages;
	float *bad = out_buffer(c);
	assert_int_equal(be->be->attend_paged(inst, s, c->qs, &pk, bad), ATTN_E_INVALID);
	table[(B - 1) * maxp] = -1;
	assert_int_equal(be->be->attend_paged(inst, s, c->qs, &pk, bad), ATTN_E_INVALID);
	free(bad);
	free(perm);
	free(table);
	free(kpool);
	free(vpool);
	return got;
}

/* A case through every path of every CPU backend that claims it. */
static void check_all_paths(const attn_shape *s, float amp, double tol, int64_t page_size)
{
	vcase c;
	make_case(&c, s, amp);
	for (int n = 0; n < N_CPU; n++) {
		const backend_entry *be;
		void *inst = make_inst(cpu_names[n], &be);
		float *got = run_attend(be, inst, &c);
		expect_ref(cpu_names[n], "attend", &c, got, tol);
		free(got);
		if (s->causal) {
			got = run_cache(be, inst, &c);
			expect_ref(cpu_names[n], "cache", &c, got, tol);
			free(got);
		}
		if (page_size) {
			got = run_paged(be, inst, &c, page_size);
			expect_ref(cpu_names[n], "paged", &c, got, tol);
			free(got);
		}
		be->be->destroy(inst);
	}
	free_case(&c);
}

static attn_shape base_shape(int64_t B, int64_t H, int64_t G, int64_t D, int64_t NQ, int64_t NKV, int causal)
{
	attn_shape s = {.batch = B, .n_heads = H, .n_kv_heads = G, .head_dim = D, .n_q = NQ, .n_kv = NKV};
	s.causal = causal;
	s.scale = (float)(1.0 / sqrt((double)D));
	s.dtype = ATTN_F32;
	return s;
}

/* Window 1 (causal): each output row is the v row at the query's position,
 * by hand; and against the reference with windows of 1, 5 and 17. */
static void test_window(void **state)
{
	(void)state;
	attn_shape s = base_shape(2, 4, 2, 24, 9, 30, 1);
	s.window = 1;
	vcase c;
	make_case(&c, &s, 1.0f);
	for (int n = 0; n < N_CPU; n++) {
		const backend_entry *be;
		void *inst = make_inst(cpu_names[n], &be);
		float *got = run_attend(be, inst, &c);
		for (int64_t b = 0; b < 2; b++)
			for (int64_t h = 0; h < 4; h++)
				for (int64_t i = 0; i < 9; i++)
					for (int64_t d = 0; d < 24; d++) {
						const float want = c.v[((b * 2 + h / 2) * 30 + 30 - 9 + i) * 24 + d];
						const float g = got[((b * 4 + h) * 9 + i) * 24 + d];
						if (fabsf(g - want) > 1e-6f)
							fail_msg(
							    "%s window 1: [%lld,%lld,%lld,%lld] got %g, want v row %g",
							    cpu_names[n], (long long)b, (long long)h, (long long)i,
							    (long long)d, (double)g, (double)want);
					}
		free(got);
		be->be->destroy(inst);
	}
	free_case(&c);
	static const int64_t windows[] = {1, 5, 17};
	for (int w = 0; w < 3; w++)
		for (int causal = 0; causal < 2; causal++) {
			s = base_shape(2, 4, 2, 24, 9, 30, causal);
			s.window = windows[w];
			check_all_paths(&s, 1.0f, 1e-4, 7);
		}
	/* a window longer than the cache is no window: the same result as none */
	s = base_shape(1, 2, 1, 16, 600, 700, 1);
	s.window = 100000;
	vcase cw, c0;
	rng = 777;
	make_case(&cw, &s, 1.0f);
	rng = 777;
	s.window = 0;
	make_case(&c0, &s, 1.0f);
	rng = 777;
	for (int n = 0; n < N_CPU; n++) {
		const backend_entry *be;
		void *inst = make_inst(cpu_names[n], &be);
		float *gw = run_attend(be, inst, &cw), *g0 = run_attend(be, inst, &c0);
		expect_ref(cpu_names[n], "huge window", &cw, gw, 1e-4);
		assert_memory_equal(gw, g0, (size_t)(600 * 2 * 16) * sizeof(float));
		free(gw);
		free(g0);
		be->be->destroy(inst);
	}
	free_case(&cw);
	free_case(&c0);
	/* a window over blocks of many queries (blas's block key ranges) */
	s = base_shape(1, 2, 2, 32, 700, 1100, 1);
	s.window = 64;
	check_all_paths(&s, 1.0f, 1e-4, 0);
}

/* Softcap with logits of about 100 (bounded by c = 30), and ALiBi without a
 * causal mask (keys on both sides of p pay |p - j|). */
static void test_softcap_alibi(void **state)
{
	(void)state;
	attn_shape s = base_shape(1, 4, 2, 32, 5, 21, 0);
	s.scale = 1.0f;
	s.softcap = 30.0f;
	check_all_paths(&s, 4.0f, 1e-4, 4); /* q.k: sd sqrt(32) * 16 / 3 = 30, |logits| to ~100 */
	s.causal = 1;
	check_all_paths(&s, 4.0f, 1e-4, 4);
	const float slopes[4] = {0.5f, 0.25f, 0.125f, 0.0625f};
	s = base_shape(2, 4, 1, 16, 7, 19, 0);
	s.alibi = slopes;
	check_all_paths(&s, 1.0f, 1e-4, 5);
	s.causal = 1;
	s.softcap = 5.0f;
	s.window = 6;
	check_all_paths(&s, 2.0f, 1e-4, 5);
}

/* Sinks: large ones shrink each output row by sum / (sum + e^z), checked by
 * hand against the output without sinks; very negative ones change
 * nothing. */
static void test_sinks(void **state)
{
	(void)state;
	const float big[2] = {3.0f, 6.0f}, tiny[2] = {-1e4f, -1e4f};
	attn_shape s = base_shape(1, 2, 1, 16, 3, 11, 1);
	s.scale = 0.0f; /* every score 0: sum = the number of visible keys */
	vcase c0, cz;
	rng = 777;
	make_case(&c0, &s, 1.0f);
	rng = 777;
	s.sinks = big;
	make_case(&cz, &s, 1.0f);
	rng = 777;
	for (int n = 0; n < N_CPU; n++) {
		const backend_entry *be;
		void *inst = make_inst(cpu_names[n], &be);
		float *g0 = run_attend(be, inst, &c0), *gz = run_attend(be, inst, &cz);
		for (int64_t h = 0; h < 2; h++)
			for (int64_t i = 0; i < 3; i++) {
				const double sum = (double)(11 - 3 + i + 1), shrink = sum / (sum + exp((double)big[h]));
				for (int64_t d = 0; d < 16; d++) {
					const size_t e = (size_t)((h * 3 + i) * 16 + d);
					if (fabs(gz[e] - g0[e] * shrink) > 1e-5)
						fail_msg("%s sinks: h%lld i%lld got %g, want %g", cpu_names[n],
						         (long long)h, (long long)i, (double)gz[e], g0[e] * shrink);
				}
			}
		free(g0);
		free(gz);
		be->be->destroy(inst);
	}
	free_case(&c0);
	free_case(&cz);
	s = base_shape(2, 2, 1, 16, 4, 13, 1);
	s.sinks = big;
	check_all_paths(&s, 1.0f, 1e-4, 3);
	s.sinks = tiny;
	vcase ct;
	make_case(&ct, &s, 1.0f);
	for (int n = 0; n < N_CPU; n++) {
		const backend_entry *be;
		void *inst = make_inst(cpu_names[n], &be);
		float *gt = run_attend(be, inst, &ct);
		ct.s.sinks = NULL; /* the same reference without sinks */
		reference(&ct);
		expect_ref(cpu_names[n], "sinks -1e4", &ct, gt, 1e-4);
		ct.s.sinks = tiny;
		free(gt);
		be->be->destroy(inst);
	}
	free_case(&ct);
}

/* head_dim_v: 192 / 128 (prefill and non-causal), 576 / 512 decode (MLA). */
static void test_head_dim_v(void **state)
{
	(void)state;
	attn_shape s = base_shape(1, 4, 2, 192, 6, 20, 1);
	s.head_dim_v = 128;
	check_all_paths(&s, 1.0f, 1e-4, 6);
	s.causal = 0;
	check_all_paths(&s, 1.0f, 1e-4, 6);
	s = base_shape(2, 8, 1, 576, 1, 37, 1);
	s.head_dim_v = 512;
	check_all_paths(&s, 1.0f, 1e-4, 16);
}

/* Ragged batches with NaN padding: decode of lengths 1, 7 and 33, and a
 * prefill of 3, 1 and 5 new tokens over 10, 4 and 33 keys (the cache path
 * loads each sequence's context with a ragged prefill first); out rows past
 * q_lens stay untouched. */
static void test_ragged(void **state)
{
	(void)state;
	const int64_t ql1[3] = {1, 1, 1}, kl1[3] = {1, 7, 33};
	attn_shape s = base_shape(3, 4, 2, 40, 1, 40, 1);
	s.q_lens = ql1;
	s.kv_lens = kl1;
	check_all_paths(&s, 1.0f, 1e-4, 5);
	const int64_t ql[3] = {3, 1, 5}, kl[3] = {10, 4, 33};
	s = base_shape(3, 2, 1, 24, 6, 35, 1);
	s.q_lens = ql;
	s.kv_lens = kl;
	check_all_paths(&s, 1.0f, 1e-4, 4);
	const float z[2] = {0.5f, -1.0f};
	s.sinks = z;
	s.window = 3;
	check_all_paths(&s, 1.0f, 1e-4, 4);
	s.sinks = NULL;
	s.window = 0;
	s.causal = 0;
	check_all_paths(&s, 1.0f, 1e-4, 4);
}

/* Paged against contiguous: pages of 5 tokens holding 23 keys, shuffled; the
 * same result as attend. */
static void test_paged(void **state)
{
	(void)state;
	attn_shape s = base_shape(2, 4, 2, 32, 4, 23, 1);
	vcase c;
	make_case(&c, &s, 1.0f);
	for (int n = 0; n < N_CPU; n++) {
		const backend_entry *be;
		void *inst = make_inst(cpu_names[n], &be);
		float *ga = run_attend(be, inst, &c), *gp = run_paged(be, inst, &c, 5);
		expect_ref(cpu_names[n], "paged", &c, gp, 1e-4);
		for (size_t e = 0; e < (size_t)(2 * 4 * 4 * 32); e++)
			if (fabsf(ga[e] - gp[e]) > 1e-6f)
				fail_msg("%s paged != attend at %zu: %g vs %g", cpu_names[n], e, (double)gp[e],
				         (double)ga[e]);
		free(ga);
		free(gp);
		be->be->destroy(inst);
	}
	free_case(&c);
}

/* k and v stored as another type than q: f16/bf16 mixed with f32/f16/bf16
 * q, q8_0, q4_0 and fp8, against the reference of the stored values. */
static void test_kv_storage(void **state)
{
	(void)state;
	static const attn_dtype kts[] = {ATTN_F16, ATTN_BF16, ATTN_F32, ATTN_Q8_0, ATTN_Q4_0, ATTN_FP8_E4M3};
	static const attn_dtype qts[] = {ATTN_F32, ATTN_BF16, ATTN_F16, ATTN_F32, ATTN_F16, ATTN_BF16};
	for (int t = 0; t < 6; t++) {
		attn_shape s = base_shape(2, 4, 2, 64, 5, 37, 1);
		s.head_dim_v = 32;
		s.dtype = qts[t];
		s.kv_storage = ATTN_KV(kts[t]);
		check_all_paths(&s, 1.0f, 1e-4, 8);
		s.n_q = 1;
		check_all_paths(&s, 1.0f, 1e-4, 8);
	}
}

/* Many blocks of query rows (n_q past blas's 256-row blocks) over several
 * groups, so that the blocks are shared by a team of threads: ragged (one
 * sequence's heads end inside a block), K and V read in place (f32) and
 * widened by the team (f16, and pages). */
static void test_many_blocks(void **state)
{
	(void)state;
	const int64_t ql[2] = {600, 333}, kl[2] = {900, 500};
	for (int t = 0; t < 2; t++) {
		attn_shape s = base_shape(2, 4, 2, 32, 600, 900, 1);
		s.q_lens = ql;
		s.kv_lens = kl;
		s.kv_storage = ATTN_KV(t ? ATTN_F16 : ATTN_F32);
		check_all_paths(&s, 1.0f, 1e-4, 64);
	}
}

/* What supports() and the cache report for the new storage types. */
static void test_supports_and_bytes(void **state)
{
	(void)state;
	for (int n = 0; n < N_CPU; n++) {
		const backend_entry *be;
		void *inst = make_inst(cpu_names[n], &be);
		char why[256];
		attn_shape s = base_shape(1, 2, 1, 48, 1, 10, 1);
		s.kv_storage = ATTN_KV(ATTN_Q4_0);
		assert_false(be->be->supports(inst, &s, why, sizeof why));
		assert_non_null(strstr(why, "multiples of 32"));
		s.kv_storage = ATTN_KV(ATTN_F32) + 10;
		assert_false(be->be->supports(inst, &s, why, sizeof why));
		assert_non_null(strstr(why, "unknown KV storage"));
		s = base_shape(2, 2, 1, 64, 1, 10, 1);
		s.head_dim_v = 32;
		s.kv_storage = ATTN_KV(ATTN_Q8_0);
		assert_true(be->be->supports(inst, &s, why, sizeof why));
		assert_int_equal(be->be->cache_alloc(inst, &s), ATTN_OK);
		assert_int_equal(be->be->cache_bytes(inst), 2 * 1 * 10 * (2 * 34 + 1 * 34));
		/* a ragged length past n_kv is the caller's error */
		const int64_t ql[2] = {1, 1}, kl[2] = {1, 11};
		s.q_lens = ql;
		s.kv_lens = kl;
		float q[2 * 2 * 64], out[2 * 2 * 32];
		char kn[2 * 34 * 2] = {0}, vn[2 * 34] = {0};
		memset(q, 0, sizeof q);
		assert_int_equal(be->be->decode(inst, &s, q, kn, vn, out), ATTN_E_INVALID);
		be->be->destroy(inst);
	}
}

/* blas's softmax as each instruction set this CPU runs compiled it (the
 * goldens reach only the widest): rows of scores under a causal window
 * with softcap, ALiBi and a sink, of lengths that leave a tail after the
 * last whole vector of 8 and of 16, against the same in double. */
static void test_blas_softmax_isas(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		unsigned need;
		blas_softmax_fn fn;
	} isas[] = {
	    {"generic", 0, blas_softmax_generic},
#ifdef CPU_X86_ISAS
	    {"avx2", CPU_HAS_AVX2, blas_softmax_avx2},
	    {"avx512", CPU_HAS_AVX512, blas_softmax_avx512},
#endif
	};
	enum { NQ = 5, NKV = 61, RATIO = 2 };
	const float slopes[RATIO] = {0.25f, 0.0625f}, sinks[RATIO] = {0.5f, -1.0f};
	const attn_shape s = {.batch = 1,
	                      .n_heads = RATIO,
	                      .n_kv_heads = 1,
	                      .head_dim = 8,
	                      .n_q = NQ,
	                      .n_kv = NKV,
	                      .causal = 1,
	                      .window = 43,
	                      .softcap = 3.0f,
	                      .alibi = slopes,
	                      .sinks = sinks,
	                      .scale = 1.0f,
	                      .dtype = ATTN_F32};
	float in[RATIO * NQ][NKV], S[RATIO * NQ][NKV], inv[RATIO * NQ];
	for (int r = 0; r < RATIO * NQ; r++)
		for (int j = 0; j < NKV; j++)
			in[r][j] = (float)((r * 37 + j * 11) % 23) * 0.37f - 4.0f;
	const unsigned has = cpu_isas();
	for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++) {
		if ((has & isas[i].need) != isas[i].need) {
			print_message("[ SKIPPED  ] %s: this CPU lacks it\n", isas[i].name);
			continue;
		}
		memcpy(S, in, sizeof S);
		isas[i].fn(&s, NQ, NKV, 0, 0, RATIO * NQ, 0, NKV, &S[0][0], inv);
		for (int r = 0; r < RATIO * NQ; r++) {
			const int h = r / NQ, p = NKV - NQ + r % NQ;
			int64_t lo, hi;
			cpu_key_range(&s, NQ, NKV, r % NQ, &lo, &hi);
			double x[NKV] = {0}, mx = sinks[h], sum = 0;
			for (int j = (int)lo; j < hi; j++) {
				x[j] = 3.0 * tanh(in[r][j] / 3.0) - slopes[h] * fabs((double)(p - j));
				mx = fmax(mx, x[j]);
			}
			for (int j = 0; j < NKV; j++) {
				const double want = j >= lo && j < hi ? exp(x[j] - mx) : 0.0;
				sum += want;
				if (fabs(S[r][j] - want) > 1e-5 * (1 + want))
					fail_msg("%s: row %d key %d: %g, want %g", isas[i].name, r, j, S[r][j], want);
			}
			sum += exp(sinks[h] - mx);
			if (fabs(inv[r] * sum - 1.0) > 1e-5)
				fail_msg("%s: row %d: 1 / sum %g, want %g", isas[i].name, r, inv[r], 1.0 / sum);
		}
	}
}

int run_cpu_variant_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_window),
	    cmocka_unit_test(test_softcap_alibi),
	    cmocka_unit_test(test_sinks),
	    cmocka_unit_test(test_head_dim_v),
	    cmocka_unit_test(test_ragged),
	    cmocka_unit_test(test_paged),
	    cmocka_unit_test(test_kv_storage),
	    cmocka_unit_test(test_many_blocks),
	    cmocka_unit_test(test_supports_and_bytes),
	    cmocka_unit_test(test_blas_softmax_isas),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
