/* test_blocked.c - the blocked backend on the ABI 3 shapes: every variant
 * (window, softcap, ALiBi, sinks, head_dim_v up to 576), every KV storage
 * type, ragged batches with NaN in the padding, the paged view with a page
 * size that does not divide n_kv, against a float64 reference written here
 * (and against naive wherever naive claims the shape's caps); that a
 * sliding window really skips the tiles no query sees; and the kernels of
 * every instruction set this CPU runs (isa=generic, avx2, avx512) on the
 * goldens. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_quant.h"
#include "cpu/blocked.h"
#include "run/golden.h"
#include "run/registry.h"
#include "testutil.h"

static uint64_t rng = 777;

static float frand(void)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return (float)((double)(rng >> 40) / (double)(1ull << 24) * 2.0 - 1.0);
}

#define SENTINEL 12345.0f

/* One problem: float inputs (k, v as stored then widened back, so that the
 * reference sees exactly what the backend sees), their stored bytes, and
 * the reference output. */
typedef struct prob {
	attn_shape s;
	int64_t D, Dv;
	float *q, *k, *v;   /* [B][H][n_q][D], [B][G][n_kv][D], [B][G][n_kv][Dv], widened */
	void *qs, *ks, *vs; /* as stored */
	size_t krow, vrow;  /* bytes of a stored K, V row */
	double *ref;        /* [B][H][n_q][Dv] */
	float alibi[64], sinks[64];
	int64_t q_lens[64], kv_lens[64];
} prob;

static size_t nq_el(const prob *p)
{
	return (size_t)(p->s.batch * p->s.n_heads * p->s.n_q);
}

static size_t nkv_rows(const prob *p)
{
	return (size_t)(p->s.batch * p->s.n_kv_heads * p->s.n_kv);
}

/* The float64 reference of the header's semantics, row by row. */
static void reference(prob *p)
{
	const attn_shape *s = &p->s;
	const int64_t H = s->n_heads, G = s->n_kv_heads, D = p->D, Dv = p->Dv;
	double *w = malloc((size_t)(s->n_kv + 1) * sizeof *w);
	for (int64_t b = 0; b < s->batch; b++)
		for (int64_t h = 0; h < H; h++)
			for (int64_t i = 0; i < s->n_q; i++) {
				double *o = p->ref + ((b * H + h) * s->n_q + i) * Dv;
				int64_t ql, kl;
				cpu_seq_lens(s, b, &ql, &kl);
				const int64_t g = h / (H / G);
				if (i >= ql) {
					for (int64_t c = 0; c < Dv; c++)
						o[c] = SENTINEL;
					continue;
				}
				const int64_t pos = kl - ql + i;
				double mx = s->sinks ? s->sinks[h] : -INFINITY;
				int any = 0;
				for (int64_t j = 0; j < kl; j++) {
					w[j] = NAN;
					if ((s->causal && j > pos) || (s->window > 0 && pos - j >= s->window))
						continue;
					const float *qr = p->q + ((b * H + h) * s->n_q + i) * D,
					            *kr = p->k + ((b * G + g) * s->n_kv + j) * D;
					double x = 0;
					for (int64_t c = 0; c < D; c++)
						x += (double)qr[c] * kr[c];
					x *= s->scale;
					if (s->softcap > 0)
						x = s->softcap * tanh(x / s->softcap);
					if (s->alibi)
						x -= s->alibi[h] * fabs((double)(pos - j));
					w[j] = x;
					mx = fmax(mx, x);
					any = 1;
				}
				double sum = s->sinks && any ? exp(s->sinks[h] - mx) : 0;
				for (int64_t j = 0; j < kl; j++)
					if (!isnan(w[j]))
						sum += (w[j] = exp(w[j] - mx));
				for (int64_t c = 0; c < Dv; c++) {
					double acc = 0;
					for (int64_t j = 0; j < kl; j++)
						if (!isnan(w[j]))
							acc += w[j] * p->v[((b * G + g) * s->n_kv + j) * Dv + c];
					o[c] = any ? acc / sum : 0.0;
				}
			}
	free(w);
}

/* Random inputs for s stored as its types; rows past a ragged length are
 * NaN (in every storage: a quantized row of NaN is stored, then NaN is
 * written back into the widened copy, so reading it anywhere shows). */
static void prob_init(prob *p, const attn_shape *s)
{
	memset(p, 0, sizeof *p);
	p->s = *s;
	p->D = s->head_dim;
	p->Dv = attn_head_dim_v(s);
	const attn_dtype kt = attn_kv_dtype(s);
	p->krow = attn_row_bytes(kt, p->D);
	p->vrow = attn_row_bytes(kt, p->Dv);
	p->q = malloc(nq_el(p) * (size_t)p->D * sizeof(float));
	p->k = malloc(nkv_rows(p) * (size_t)p->D * sizeof(float));
	p->v = malloc(nkv_rows(p) * (size_t)p->Dv * sizeof(float));
	p->qs = malloc(nq_el(p) * (size_t)p->D * 4);
	p->ks = malloc(nkv_rows(p) * p->krow);
	p->vs = malloc(nkv_rows(p) * p->vrow);
	p->ref = malloc(nq_el(p) * (size_t)p->Dv * sizeof(double));
	for (size_t i = 0; i < nq_el(p) * (size_t)p->D; i++)
		p->q[i] = 2 * frand();
	attn_store_n(p->qs, p->q, nq_el(p) * (size_t)p->D, s->dtype);
	attn_load_n(p->q, p->qs, nq_el(p) * (size_t)p->D, s->dtype);
	for (size_t r = 0; r < nkv_rows(p); r++) {
		float *kr = p->k + r * (size_t)p->D, *vr = p->v + r * (size_t)p->Dv;
		const int64_t b = (int64_t)r / (s->n_kv_heads * s->n_kv), j = (int64_t)r % s->n_kv;
		int64_t ql, kl;
		cpu_seq_lens(s, b, &ql, &kl);
		const int pad = j >= kl;
		for (int64_t c = 0; c < p->D; c++)
			kr[c] = pad ? NAN : 2 * frand();
		for (int64_t c = 0; c < p->Dv; c++)
			vr[c] = pad ? NAN : frand();
		attn_quantize_row((char *)p->ks + r * p->krow, kr, p->D, kt);
		attn_quantize_row((char *)p->vs + r * p->vrow, vr, p->Dv, kt);
		if (!pad) {
			attn_dequantize_row(kr, (char *)p->ks + r * p->krow, p->D, kt);
			attn_dequantize_row(vr, (char *)p->vs + r * p->vrow, p->Dv, kt);
		}
	}
	if (s->q_lens) { /* NaN in the stored queries past a length too */
		const float nan = NAN;
		const size_t esz = attn_dtype_size(s->dtype);
		for (size_t r = 0; r < nq_el(p); r++) {
			const int64_t b = (int64_t)r / (s->n_heads * s->n_q), i = (int64_t)r % s->n_q;
			int64_t ql, kl;
			cpu_seq_lens(s, b, &ql, &kl);
			for (int64_t c = 0; c < p->D && i >= ql; c++)
				attn_store_n((char *)p->qs + (r * (size_t)p->D + (size_t)c) * esz, &nan, 1, s->dtype);
		}
	}
	if (s->alibi)
		for (int64_t h = 0; h < s->n_heads; h++)
			p->alibi[h] = 0.05f * (float)(h + 1);
	if (s->sinks)
		for (int64_t h = 0; h < s->n_heads; h++)
			p->sinks[h] = 2 * frand() + (h % 3 == 0 ? 4.0f : 0.0f);
	if (s->q_lens)
		for (int64_t b = 0; b < s->batch; b++) {
			p->q_lens[b] = s->q_lens[b];
			p->kv_lens[b] = s->kv_lens[b];
		}
	p->s.alibi = s->alibi ? p->alibi : NULL;
	p->s.sinks = s->sinks ? p->sinks : NULL;
	p->s.q_lens = s->q_lens ? p->q_lens : NULL;
	p->s.kv_lens = s->kv_lens ? p->kv_lens : NULL;
	reference(p);
}

static void prob_free(prob *p)
{
	free(p->q);
	free(p->k);
	free(p->v);
	free(p->qs);
	free(p->ks);
	free(p->vs);
	free(p->ref);
}

/* The caps a backend needs for s. */
static uint32_t caps_for(const attn_shape *s)
{
	const attn_dtype kt = attn_kv_dtype(s);
	uint32_t c = 0;
	c |= s->window ? ATTN_CAP_WINDOW : 0;
	c |= s->softcap > 0 ? ATTN_CAP_SOFTCAP : 0;
	c |= s->alibi ? ATTN_CAP_ALIBI : 0;
	c |= s->sinks ? ATTN_CAP_SINKS : 0;
	c |= attn_head_dim_v(s) != s->head_dim ? ATTN_CAP_HEAD_DIM_V : 0;
	c |= kt == ATTN_Q8_0 ? ATTN_CAP_Q8_0 : kt == ATTN_Q4_0 ? ATTN_CAP_Q4_0 : kt == ATTN_FP8_E4M3 ? ATTN_CAP_FP8 : 0;
	c |= attn_dtype_known(kt) && kt != s->dtype ? ATTN_CAP_KV_DTYPE : 0;
	c |= s->q_lens ? ATTN_CAP_RAGGED : 0;
	return c;
}

static void expect_ref(const char *name, const char *what, const prob *p, const float *got)
{
	err_stats st;
	const attn_shape *s = &p->s;
	if (!compare_outputs(got, p->ref, (int64_t)(nq_el(p) * (size_t)p->Dv), 2e-4, 2e-4, &st))
		fail_msg(
		    "%s %s: b%lld h%lld/%lld d%lld dv%lld nq%lld nkv%lld causal%d window%lld softcap%g alibi%d sinks%d "
		    "kv=%s ragged%d: %lld bad, max_abs %g",
		    name, what, (long long)s->batch, (long long)s->n_heads, (long long)s->n_kv_heads,
		    (long long)s->head_dim, (long long)p->Dv, (long long)s->n_q, (long long)s->n_kv, s->causal,
		    (long long)s->window, (double)s->softcap, s->alibi != NULL, s->sinks != NULL,
		    attn_kv_dtype_name(attn_kv_dtype(s)), s->q_lens != NULL, (long long)st.n_bad, st.max_abs);
}

static void *make(const char *name, int threads, const char *params, const attn_backend **be)
{
	backend_entry *e = registry_find(name);
	assert_non_null(e);
	*be = e->be;
	void *inst;
	char err[256];
	attn_config cfg = {.threads = threads, .params = params};
	assert_int_equal((*be)->create(&cfg, &inst, err, sizeof err), ATTN_OK);
	return inst;
}

/* p through attend on blocked (with the given threads and tiles), and on
 * naive where naive claims the caps. */
static void run_attend(const prob *p, int threads, const char *params)
{
	static const char *const names[] = {"blocked", "naive"};
	for (int n = 0; n < 2; n++) {
		const attn_backend *be;
		void *inst = make(names[n], n ? 1 : threads, n ? NULL : params, &be);
		char why[256];
		const uint32_t need = caps_for(&p->s);
		if (n == 0 || ((be->caps & need) == need && be->supports(inst, &p->s, why, sizeof why))) {
			if (n == 0 && !be->supports(inst, &p->s, why, sizeof why))
				fail_msg("blocked does not support the shape: %s", why);
			float *got = malloc(nq_el(p) * (size_t)p->Dv * sizeof(float));
			for (size_t i = 0; i < nq_el(p) * (size_t)p->Dv; i++)
				got[i] = SENTINEL;
			assert_int_equal(be->attend(inst, &p->s, p->qs, p->ks, p->vs, got), ATTN_OK);
			expect_ref(names[n], "attend", p, got);
			free(got);
		}
		be->destroy(inst);
	}
}

static const char *const tiles[] = {"", "tile_q=5,tile_kv=7", "tile_q=64,tile_kv=256"};

/* Every variant, alone and together, on prefill-like and decode-like
 * shapes, through each of blocked's tile settings and its key splits. */
static void test_variants(void **state)
{
	(void)state;
	for (int t = 0; t < 36; t++) {
		attn_shape s = {.batch = 1 + t % 2, .n_kv_heads = 1 + t % 2, .dtype = ATTN_F32};
		s.n_heads = s.n_kv_heads * (t % 3 == 0 ? 4 : 1);
		s.head_dim = t % 4 == 1 ? 40 : 64;
		s.head_dim_v = t % 5 == 2 ? 24 : t % 5 == 3 ? 96 : 0;
		s.causal = t % 6 != 5;
		s.n_kv = t % 2 ? 1500 + 13 * t : 70 + t;
		s.n_q = t % 4 == 0 ? 1 : (t % 4 == 1 ? 33 : s.n_kv / 3);
		if (!s.causal && t % 12 == 5)
			s.n_q = s.n_kv + 9; /* more queries than keys, no mask */
		s.scale = (float)(1.0 / sqrt((double)s.head_dim));
		const int v = t % 6;
		s.window = v == 0 || v == 4 || v == 5 ? (t % 4 == 0 ? 1 : 3 + 11 * (t % 7)) : 0;
		s.softcap = v == 1 || v == 4 ? (t % 2 ? 0.7f : 20.0f) : 0.0f;
		float dummy[1] = {0};
		s.alibi = v == 2 || v == 4 ? dummy : NULL;
		s.sinks = v == 3 || v == 4 || v == 5 ? dummy : NULL;
		prob p;
		prob_init(&p, &s);
		run_attend(&p, 1 + 3 * (t % 2), tiles[t % 3]);
		prob_free(&p);
	}
}

/* Every KV storage type under every q type, GQA, both score paths. */
static void test_storage(void **state)
{
	(void)state;
	static const attn_dtype kts[] = {ATTN_F32, ATTN_F16, ATTN_BF16, ATTN_Q8_0, ATTN_Q4_0, ATTN_FP8_E4M3};
	for (int qi = 0; qi < 3; qi++)
		for (int ki = 0; ki < 6; ki++) {
			const int t = qi * 6 + ki;
			attn_shape s = {
			    .batch = 2, .n_kv_heads = 2, .n_heads = 4, .head_dim = 64, .dtype = (attn_dtype)qi};
			s.kv_storage = ATTN_KV(kts[ki]);
			s.head_dim_v = t % 3 == 0 ? 32 : 0;
			s.n_kv = 300 + 7 * t;
			s.n_q = t % 2 ? 1 : 40;
			s.causal = 1;
			s.window = t % 4 == 3 ? 50 : 0;
			s.scale = 0.125f;
			prob p;
			prob_init(&p, &s);
			run_attend(&p, 2, tiles[t % 3]);
			prob_free(&p);
		}
}

/* Ragged batches: sequences of their own lengths, NaN past them in q, k and
 * v, out rows past q_len left alone; a decode batch of very different
 * lengths over 4 threads (splits by keys). */
static void test_ragged(void **state)
{
	(void)state;
	for (int t = 0; t < 8; t++) {
		int64_t ql[16], kl[16];
		attn_shape s = {.n_kv_heads = 2, .n_heads = 4, .head_dim = 32, .dtype = ATTN_F32, .scale = 0.2f};
		s.batch = t < 4 ? 5 : 16;
		s.n_q = t < 4 ? 37 : 1;
		s.n_kv = 2100;
		s.causal = t != 2;
		s.kv_storage = t == 3 ? ATTN_KV(ATTN_Q8_0) : 0;
		s.window = t == 5 ? 100 : 0;
		float dummy[1];
		s.sinks = t == 6 ? dummy : NULL;
		for (int64_t b = 0; b < s.batch; b++) {
			kl[b] = t < 4 ? (b * 461) % s.n_kv : (b % 5 == 0 ? s.n_kv : 1 + b * 37 % 300);
			ql[b] = t < 4 ? (b * 13) % (s.n_q + 1) : 1;
			if (s.causal && ql[b] > kl[b])
				ql[b] = kl[b];
		}
		s.q_lens = ql;
		s.kv_lens = kl;
		prob p;
		prob_init(&p, &s);
		run_attend(&p, t % 2 ? 4 : 2, tiles[t % 3]);
		prob_free(&p);
	}
}

/* The paged view: pages of 7 tokens (not dividing n_kv) in a shuffled
 * pool, ragged lengths, every storage type; and a bad block table. */
static void test_paged(void **state)
{
	(void)state;
	static const attn_dtype kts[] = {ATTN_F32, ATTN_F16, ATTN_Q8_0, ATTN_Q4_0, ATTN_FP8_E4M3, ATTN_BF16};
	const attn_backend *be;
	for (int t = 0; t < 6; t++) {
		void *inst = make("blocked", 1 + t % 3, tiles[t % 3], &be);
		assert_true(be->caps & ATTN_CAP_PAGED);
		int64_t ql[3] = {5, 1, 0}, kl[3] = {200, 1, 33};
		float dummy[1];
		attn_shape s = {.batch = 3, .n_kv_heads = 2, .n_heads = 4, .head_dim = 64, .n_q = 5, .n_kv = 200};
		s.dtype = ATTN_F32;
		s.kv_storage = ATTN_KV(kts[t]);
		s.causal = t != 1;
		s.head_dim_v = t == 2 ? 32 : 0;
		s.window = t == 4 ? 20 : 0;
		s.sinks = t == 5 ? dummy : NULL;
		s.scale = 0.125f;
		if (t % 2) {
			s.q_lens = ql;
			s.kv_lens = kl;
		}
		prob p;
		prob_init(&p, &s);
		/* the pool: page i of sequence b at a shuffled index */
		const int64_t ps = 7, mp = (s.n_kv + ps - 1) / ps, np = s.batch * mp + 3;
		int32_t *table = malloc((size_t)(s.batch * mp) * sizeof(int32_t));
		for (int64_t i = 0; i < s.batch * mp; i++)
			table[i] = (int32_t)((i * 17 + 5) % (s.batch * mp)) + 3;
		char *kp = calloc((size_t)(np * s.n_kv_heads * ps), p.krow),
		     *vp = calloc((size_t)(np * s.n_kv_heads * ps), p.vrow);
		for (int64_t b = 0; b < s.batch; b++)
			for (int64_t g = 0; g < s.n_kv_heads; g++)
				for (int64_t j = 0; j < s.n_kv; j++) {
					const int64_t pg = table[b * mp + j / ps],
					              slot = (pg * s.n_kv_heads + g) * ps + j % ps;
					const int64_t src = (b * s.n_kv_heads + g) * s.n_kv + j;
					memcpy(kp + (size_t)slot * p.krow, (char *)p.ks + (size_t)src * p.krow, p.krow);
					memcpy(vp + (size_t)slot * p.vrow, (char *)p.vs + (size_t)src * p.vrow, p.vrow);
				}
		attn_paged_kv kv = {kp, vp, np, ps, table, mp};
		float *got = malloc(nq_el(&p) * (size_t)p.Dv * sizeof(float));
		for (size_t i = 0; i < nq_el(&p) * (size_t)p.Dv; i++)
			got[i] = SENTINEL;
		assert_int_equal(be->attend_paged(inst, &p.s, p.qs, &kv, got), ATTN_OK);
		expect_ref("blocked", "attend_paged", &p, got);
		/* a page index outside the pool: refused, named */
		table[1] = (int32_t)np;
		assert_int_equal(be->attend_paged(inst, &p.s, p.qs, &kv, got), ATTN_E_INVALID);
		assert_non_null(strstr(be->last_error(inst), "block_table[0][1]"));
		free(table);
		free(kp);
		free(vp);
		free(got);
		prob_free(&p);
		be->destroy(inst);
	}
}

/* head_dim and head_dim_v up to 576 (MLA's 576 / 512), both score paths. */
static void test_head_dim_576(void **state)
{
	(void)state;
	for (int t = 0; t < 4; t++) {
		attn_shape s = {
		    .batch = 1, .n_kv_heads = 1, .n_heads = t % 2 ? 16 : 2, .head_dim = 576, .dtype = ATTN_F32};
		s.head_dim_v = t < 2 ? 512 : 576;
		s.n_kv = 150;
		s.n_q = t % 2 ? 1 : 20;
		s.causal = 1;
		s.kv_storage = t == 3 ? ATTN_KV(ATTN_Q8_0) : 0;
		s.scale = 0.04f;
		prob p;
		prob_init(&p, &s);
		run_attend(&p, 2, tiles[t % 3]);
		prob_free(&p);
	}
	const attn_backend *be;
	void *inst = make("blocked", 1, NULL, &be);
	char why[256];
	attn_shape s = {.batch = 1, .n_kv_heads = 1, .n_heads = 1, .head_dim = 577, .n_q = 1, .n_kv = 1, .scale = 1};
	assert_false(be->supports(inst, &s, why, sizeof why));
	s.head_dim = 64;
	s.kv_storage = ATTN_KV(ATTN_Q4_0);
	s.head_dim_v = 48;
	assert_false(be->supports(inst, &s, why, sizeof why));
	assert_non_null(strstr(why, "q4_0"));
	be->destroy(inst);
}

/* The keys a block reads under a window: only what some query sees, so a
 * window-W prefill reads O(n W) keys. */
static void test_key_range(void **state)
{
	(void)state;
	attn_shape s = {.batch = 1, .n_q = 4096, .n_kv = 4096, .causal = 1, .window = 1};
	int64_t lo, hi, total = 0;
	for (int64_t i0 = 0; i0 < s.n_q; i0 += 32) {
		blocked_key_range(&s, 0, i0, 32, &lo, &hi);
		assert_int_equal(lo, i0);
		assert_int_equal(hi, i0 + 32);
		total += hi - lo;
	}
	assert_int_equal(total, 4096); /* n W keys, not n^2 / 2 */
	s.window = 100;
	blocked_key_range(&s, 0, 1000, 32, &lo, &hi);
	assert_int_equal(lo, 901);
	assert_int_equal(hi, 1032);
	s.causal = 0; /* without causal the keys after p stay visible */
	blocked_key_range(&s, 0, 1000, 32, &lo, &hi);
	assert_int_equal(lo, 901);
	assert_int_equal(hi, 4096);
	s.window = 0;
	s.causal = 1;
	int64_t ql = 3, kl = 50; /* ragged: bottom-right in its own length */
	s.q_lens = &ql;
	s.kv_lens = &kl;
	blocked_key_range(&s, 0, 0, 3, &lo, &hi);
	assert_int_equal(lo, 0);
	assert_int_equal(hi, 50);
}

/* A window-1 causal prefill of 4096 tokens: each query sees only its own
 * key, so out = its V row. And the tiles no query sees are never read:
 * K and V rows before every query's window are NaN, which any read (even
 * masked: 0 * NaN) would carry into the output. */
static void test_window_skips_tiles(void **state)
{
	(void)state;
	const attn_backend *be;
	for (int t = 0; t < 2; t++) {
		void *inst = make("blocked", 2, tiles[t], &be);
		const int64_t n = 4096, D = 16;
		attn_shape s = {.batch = 1, .n_heads = 1, .n_kv_heads = 1, .head_dim = D, .n_q = n, .n_kv = n};
		s.causal = 1;
		s.window = 1;
		s.scale = 0.25f;
		s.dtype = ATTN_F32;
		float *q = malloc((size_t)(n * D) * sizeof(float)), *k = malloc((size_t)(n * D) * sizeof(float));
		float *v = malloc((size_t)(n * D) * sizeof(float)), *out = malloc((size_t)(n * D) * sizeof(float));
		for (int64_t i = 0; i < n * D; i++) {
			q[i] = frand();
			k[i] = frand();
			v[i] = frand();
		}
		assert_int_equal(be->attend(inst, &s, q, k, v, out), ATTN_OK);
		for (int64_t i = 0; i < n * D; i++)
			assert_float_equal(out[i], v[i], 1e-6);
		/* decode-like: 3 queries at the end, window 40, everything before
		 * position n - 3 - 39 poisoned */
		s.n_q = 3;
		s.window = 40;
		for (int64_t i = 0; i < (n - 42) * D; i++)
			k[i] = v[i] = NAN;
		assert_int_equal(be->attend(inst, &s, q, k, v, out), ATTN_OK);
		for (int64_t i = 0; i < 3 * D; i++)
			assert_true(isfinite(out[i]));
		free(q);
		free(k);
		free(v);
		free(out);
		be->destroy(inst);
	}
}

/* Choosing the instruction set: the best the CPU has by default; a forced
 * one the CPU lacks, or an unknown name, refused with the ISA named. */
static void test_isa_select(void **state)
{
	(void)state;
	const blocked_isa *isa = NULL;
	char err[256] = "";
	assert_int_equal(blocked_isa_select(NULL, 0, &isa, err, sizeof err), ATTN_OK);
	assert_string_equal(isa->name, "generic");
	assert_int_equal(blocked_isa_select("sse9", ~0u, &isa, err, sizeof err), ATTN_E_INVALID);
	assert_non_null(strstr(err, "isa=sse9"));
#ifdef CPU_X86_ISAS
	assert_int_equal(blocked_isa_select("", CPU_HAS_AVX2, &isa, err, sizeof err), ATTN_OK);
	assert_string_equal(isa->name, "avx2");
	assert_int_equal(blocked_isa_select(NULL, CPU_HAS_AVX2 | CPU_HAS_AVX512, &isa, err, sizeof err), ATTN_OK);
	assert_string_equal(isa->name, "avx512");
	assert_int_equal(blocked_isa_select("generic", CPU_HAS_AVX2 | CPU_HAS_AVX512, &isa, err, sizeof err), ATTN_OK);
	assert_string_equal(isa->name, "generic");
	assert_int_equal(blocked_isa_select("avx512", CPU_HAS_AVX2, &isa, err, sizeof err), ATTN_E_INVALID);
	assert_non_null(strstr(err, "isa=avx512: this CPU lacks AVX-512"));
	assert_int_equal(blocked_isa_select("avx2", 0, &isa, err, sizeof err), ATTN_E_INVALID);
	assert_non_null(strstr(err, "isa=avx2: this CPU lacks AVX2"));
#endif
	/* through the table: the choice in instance_info, the tiles still parsed */
	const attn_backend *be;
	void *inst = make("blocked", 1, "tile_q=8,isa=generic,tile_kv=16", &be);
	assert_non_null(strstr(be->instance_info(inst), "tile_q=8 tile_kv=16 isa=generic"));
	be->destroy(inst);
	attn_config cfg = {.threads = 1, .params = "isa=sse9"};
	assert_int_equal(be->create(&cfg, &inst, err, sizeof err), ATTN_E_INVALID);
	assert_non_null(strstr(err, "isa=sse9"));
	EXPECT(2, "isa=sse9", "check", "--golden", "datasets/golden", "--backend", "blocked", "--param",
	       "blocked:isa=sse9");
}

/* The goldens through the kernels of each instruction set this CPU runs. */
static void test_isa_goldens(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		unsigned need;
	} isas[] = {{"generic", 0}, {"avx2", CPU_HAS_AVX2}, {"avx512", CPU_HAS_AVX512}};
	const unsigned has = cpu_isas();
	for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++) {
		if ((has & isas[i].need) != isas[i].need) {
			print_message("[ SKIPPED  ] isa=%s: this CPU lacks it\n", isas[i].name);
			continue;
		}
		char param[64], *err = NULL;
		snprintf(param, sizeof param, "blocked:isa=%s", isas[i].name);
		const int rc = tu_run(NULL, &err, "check", "--golden", "datasets/golden", "--backend", "blocked",
		                      "--param", param, (char *)NULL);
		if (rc != 0)
			fail_msg("check --param %s: exit %d: %.600s", param, rc, err ? err : "");
		free(err);
	}
}

int run_blocked_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_variants),
	    cmocka_unit_test(test_storage),
	    cmocka_unit_test(test_ragged),
	    cmocka_unit_test(test_paged),
	    cmocka_unit_test(test_head_dim_576),
	    cmocka_unit_test(test_key_range),
	    cmocka_unit_test(test_window_skips_tiles),
	    cmocka_unit_test(test_isa_select),
	    cmocka_unit_test(test_isa_goldens),
	};
	return cmocka_run_group_tests_name("blocked", tests, NULL, NULL);
}
