/* test_vulkan_variants.c - the ABI 3 features of the Vulkan backend against
 * a float64 loop written here: sliding windows (window 1 included),
 * softcap with large logits, ALiBi, sinks, head_dim_v != head_dim up to
 * 576/512, ragged batches with NaN padding (attend and the cache paths),
 * k and v stored as another type than q (f16, bf16, q8_0, q4_0, fp8) and
 * attend_paged. Run under the validation layer like the other Vulkan
 * groups; skipped where no Vulkan device is available. */
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
#include "attn_quant.h"
#include "attnbench.h"
#include "vulkan_util.h"

#if ATTN_HAVE_VULKAN_BUILD

#define SENTINEL 12345.0f

/* float64 attention with every variant of s over k [batch][n_kv_heads]
 * [kv_stride][head_dim] and v (rows of head_dim_v); out rows past a
 * sequence's q_lens are not written. */
static void ref_attention(const attn_shape *s, const float *q, const float *k, const float *v, int64_t kv_stride,
                          double *out)
{
	const int64_t H = s->n_heads, HK = s->n_kv_heads, D = s->head_dim, DV = attn_head_dim_v(s), NQ = s->n_q;
	double *w = malloc((size_t)kv_stride * sizeof *w);
	assert_non_null(w);
	for (int64_t b = 0; b < s->batch; b++) {
		const int64_t nq = s->q_lens ? s->q_lens[b] : NQ, nkv = s->kv_lens ? s->kv_lens[b] : s->n_kv;
		for (int64_t h = 0; h < H; h++)
			for (int64_t i = 0; i < nq; i++) {
				const int64_t g = h / (H / HK), p = nkv - nq + i;
				const float *qr = q + ((b * H + h) * NQ + i) * D;
				double mx = s->sinks ? (double)s->sinks[h] : -INFINITY, sum = 0;
				for (int64_t j = 0; j < nkv; j++) {
					w[j] = -INFINITY;
					if ((s->causal && j > p) || (s->window && p - j >= s->window))
						continue;
					const float *kr = k + ((b * HK + g) * kv_stride + j) * D;
					double dot = 0;
					for (int64_t d = 0; d < D; d++)
						dot += (double)qr[d] * (double)kr[d];
					double sc = (double)s->scale * dot;
					if (s->softcap > 0)
						sc = s->softcap * tanh(sc / s->softcap);
					if (s->alibi)
						sc -= (double)s->alibi[h] * (double)llabs(p - j);
					w[j] = sc;
					mx = fmax(mx, sc);
				}
				if (s->sinks)
					sum += exp((double)s->sinks[h] - mx);
				for (int64_t j = 0; j < nkv; j++)
					sum += (w[j] = w[j] == -INFINITY ? 0 : exp(w[j] - mx));
				for (int64_t d = 0; d < DV; d++) {
					double acc = 0;
					for (int64_t j = 0; j < nkv; j++)
						if (w[j] != 0)
							acc +=
							    w[j] * (double)v[((b * HK + g) * kv_stride + j) * DV + d];
					out[((b * H + h) * NQ + i) * DV + d] = sum > 0 ? acc / sum : 0;
				}
			}
	}
	free(w);
}

/* Inputs of one call: q in s->dtype and k, v in attn_kv_dtype(s) as the
 * backend gets them, and the values they hold widened to f32 for the
 * reference. */
typedef struct vin {
	void *q, *k, *v;
	float *qf, *kf, *vf;
} vin;

/* Store rows of n floats as t (quantizing), and read them back. */
static void *store_rows(float *f, int64_t rows, int64_t n, attn_dtype t)
{
	const size_t rb = attn_row_bytes(t, n);
	char *out = malloc((size_t)rows * rb + 1);
	assert_non_null(out);
	for (int64_t r = 0; r < rows; r++) {
		attn_quantize_row(out + (size_t)r * rb, f + r * n, n, t);
		attn_dequantize_row(f + r * n, out + (size_t)r * rb, n, t);
	}
	return out;
}

/* Random inputs for s with kv_rows rows of K and V (amp scales q and k),
 * NaN in every padding row of a ragged shape (q rows past q_lens, K and V
 * rows past kv_lens, for the tensor layouts: kv_stride rows per head). */
static vin make_inputs(const attn_shape *s, int64_t kv_rows, int64_t kv_stride, float amp)
{
	const int64_t D = s->head_dim, DV = attn_head_dim_v(s);
	const int64_t qrows = s->batch * s->n_heads * s->n_q;
	vin in = {.qf = vt_random_floats((size_t)(qrows * D), amp),
	          .kf = vt_random_floats((size_t)(kv_rows * D), amp),
	          .vf = vt_random_floats((size_t)(kv_rows * DV), 1.0f)};
	for (int64_t r = 0; r < qrows && s->q_lens; r++)
		if (r % s->n_q >= s->q_lens[r / (s->n_heads * s->n_q)])
			for (int64_t d = 0; d < D; d++)
				in.qf[r * D + d] = NAN;
	for (int64_t r = 0; r < kv_rows && s->kv_lens && kv_stride; r++)
		if (r % kv_stride >= s->kv_lens[r / (s->n_kv_heads * kv_stride)]) {
			for (int64_t d = 0; d < D; d++)
				in.kf[r * D + d] = NAN;
			for (int64_t d = 0; d < DV; d++)
				in.vf[r * DV + d] = NAN;
		}
	in.q = store_rows(in.qf, qrows, D, s->dtype);
	in.k = store_rows(in.kf, kv_rows, D, attn_kv_dtype(s));
	in.v = store_rows(in.vf, kv_rows, DV, attn_kv_dtype(s));
	return in;
}

static void free_inputs(vin *in)
{
	free(in->q);
	free(in->k);
	free(in->v);
	free(in->qf);
	free(in->kf);
	free(in->vf);
}

/* Compare out with the reference on the rows a sequence has; the rows past
 * q_lens must still hold SENTINEL. */
static void expect_rows(const char *what, const attn_shape *s, const float *got, const double *ref)
{
	const int64_t DV = attn_head_dim_v(s), rows = s->batch * s->n_heads * s->n_q;
	double *r = malloc((size_t)(rows * DV) * sizeof *r);
	assert_non_null(r);
	for (int64_t i = 0; i < rows; i++) {
		const int live = !s->q_lens || i % s->n_q < s->q_lens[i / (s->n_heads * s->n_q)];
		for (int64_t d = 0; d < DV; d++) {
			r[i * DV + d] = live ? ref[i * DV + d] : SENTINEL;
			if (!live && got[i * DV + d] != SENTINEL)
				print_error("%s: out row %lld past q_lens was written\n", what, (long long)i);
		}
	}
	attn_shape flat = *s;
	flat.head_dim = DV;
	vt_expect_close(what, &flat, got, r, (size_t)(rows * DV));
	free(r);
}

static float *sentinel_out(const attn_shape *s)
{
	const size_t n = (size_t)(s->batch * s->n_heads * s->n_q * attn_head_dim_v(s));
	float *o = malloc(n * sizeof *o);
	assert_non_null(o);
	for (size_t i = 0; i < n; i++)
		o[i] = SENTINEL;
	return o;
}

/* s through attend on ctx against the reference, with NaN in the first
 * poison keys and values of every KV head (f32 storage): keys that no
 * query may see, which the backend must not even read. */
static void check_attend_poisoned(void *ctx, const attn_shape *s, float amp, int64_t poison)
{
	const int64_t DV = attn_head_dim_v(s);
	vin in = make_inputs(s, s->batch * s->n_kv_heads * s->n_kv, s->n_kv, amp);
	for (int64_t r = 0; r < s->batch * s->n_kv_heads * s->n_kv && poison; r++)
		if (r % s->n_kv < poison) {
			for (int64_t d = 0; d < s->head_dim; d++)
				((float *)in.k)[r * s->head_dim + d] = in.kf[r * s->head_dim + d] = NAN;
			for (int64_t d = 0; d < DV; d++)
				((float *)in.v)[r * DV + d] = in.vf[r * DV + d] = NAN;
		}
	float *got = sentinel_out(s);
	double *ref = calloc((size_t)(s->batch * s->n_heads * s->n_q * DV), sizeof *ref);
	assert_non_null(ref);
	ref_attention(s, in.qf, in.kf, in.vf, s->n_kv, ref);
	char why[256] = "";
	if (!vk->supports(ctx, s, why, sizeof why))
		print_error("supports: %s\n", why);
	vt_expect_ok(ctx, vk->attend(ctx, s, in.q, in.k, in.v, got), "attend");
	expect_rows("attend", s, got, ref);
	free_inputs(&in);
	free(got);
	free(ref);
}

static void check_attend(void *ctx, const attn_shape *s, float amp)
{
	check_attend_poisoned(ctx, s, amp, 0);
}

static float alibi_slopes[64], sink_logits[64];

static void init_tables(void)
{
	for (int h = 0; h < 64; h++) {
		alibi_slopes[h] = powf(2.0f, -8.0f * (float)(h + 1) / 8.0f);
		sink_logits[h] = 2.0f * vt_frand();
	}
}

/* Sliding windows, causal or not, prefill and decode, window 1. */
static void test_window(void **state)
{
	(void)state;
	vt_need_device();
	static const struct {
		int64_t b, h, hk, d, nq, nkv, w;
		int causal;
	} c[] = {
	    {1, 4, 2, 64, 40, 40, 1, 1},  {1, 4, 2, 64, 40, 40, 7, 1},    {2, 4, 1, 32, 17, 50, 9, 0},
	    {1, 2, 2, 64, 1, 300, 16, 1}, {1, 8, 2, 64, 1, 3000, 100, 1}, {1, 2, 1, 16, 70, 200, 33, 1},
	    {1, 2, 2, 8, 1, 20, 1, 0},
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		attn_shape s = vt_shape(c[i].b, c[i].h, c[i].hk, c[i].d, c[i].nq, c[i].nkv, c[i].causal, 0);
		s.window = c[i].w;
		check_attend(inst, &s, 1.0f);
	}
	/* Keys before every query's window are skipped, never read: NaN there
	 * (0 * NaN would reach out) through flash, split-K and shared tiles. */
	attn_shape s = vt_shape(1, 4, 2, 64, 8, 300, 1, 0);
	s.window = 20;
	check_attend_poisoned(inst, &s, 1.0f, 270);
	s.n_q = 1;
	check_attend_poisoned(inst, &s, 1.0f, 279);
	void *staged = vt_create("stage=1,tile_kv=8");
	s.n_q = 8;
	check_attend_poisoned(staged, &s, 1.0f, 270);
	vk->destroy(staged);
}

/* Softcap with logits far past its cap (a naive tanh overflows), and with
 * the other variants at once. */
static void test_softcap(void **state)
{
	(void)state;
	vt_need_device();
	attn_shape s = vt_shape(1, 4, 2, 64, 24, 40, 1, 1.0f);
	s.softcap = 5.0f;
	check_attend(inst, &s, 30.0f);
	s.n_q = 1;
	check_attend(inst, &s, 30.0f);
	s = vt_shape(2, 4, 2, 32, 9, 31, 0, 0);
	s.softcap = 1.5f;
	s.alibi = alibi_slopes;
	s.sinks = sink_logits;
	s.window = 6;
	check_attend(inst, &s, 3.0f);
}

/* ALiBi slopes, causal, bidirectional and decode. */
static void test_alibi(void **state)
{
	(void)state;
	vt_need_device();
	attn_shape s = vt_shape(1, 8, 2, 64, 33, 60, 1, 0);
	s.alibi = alibi_slopes;
	check_attend(inst, &s, 1.0f);
	s.causal = 0;
	check_attend(inst, &s, 1.0f);
	s.n_q = 1;
	s.n_kv = 500;
	check_attend(inst, &s, 1.0f);
}

/* Sink logits: prefill, decode (split-K folds the sink in the merge),
 * window 1 and large sinks that outweigh every key. */
static void test_sinks(void **state)
{
	(void)state;
	vt_need_device();
	attn_shape s = vt_shape(1, 4, 4, 64, 20, 30, 1, 0);
	s.sinks = sink_logits;
	check_attend(inst, &s, 1.0f);
	s.window = 1;
	check_attend(inst, &s, 1.0f);
	s.window = 0;
	s.n_q = 1;
	s.n_kv = 1500;
	check_attend(inst, &s, 1.0f);
	float big[4] = {30.0f, -30.0f, 0.0f, 12.0f};
	s.sinks = big;
	check_attend(inst, &s, 1.0f);
}

/* head_dim_v != head_dim, up to 576 / 512 (decode and prefill). */
static void test_head_dim_v(void **state)
{
	(void)state;
	vt_need_device();
	attn_shape s = vt_shape(1, 4, 2, 96, 13, 29, 1, 0);
	s.head_dim_v = 64;
	check_attend(inst, &s, 1.0f);
	s = vt_shape(1, 2, 1, 40, 1, 70, 1, 0);
	s.head_dim_v = 100;
	check_attend(inst, &s, 1.0f);
	s = vt_shape(1, 4, 1, 576, 1, 90, 1, 0);
	s.head_dim_v = 512;
	check_attend(inst, &s, 1.0f);
	s.n_q = 5;
	check_attend(inst, &s, 1.0f);
	char why[256];
	s.head_dim = 577;
	assert_false(vk->supports(inst, &s, why, sizeof why));
	assert_non_null(strstr(why, "576"));
}

/* Ragged attend: NaN in every padding row, out rows past q_lens kept, a
 * sequence with no keys (zeros) and one with no queries. */
static void test_ragged_attend(void **state)
{
	(void)state;
	vt_need_device();
	attn_shape s = vt_shape(3, 4, 2, 32, 9, 20, 1, 0);
	int64_t ql[3] = {9, 3, 0}, kl[3] = {20, 5, 7};
	s.q_lens = ql;
	s.kv_lens = kl;
	check_attend(inst, &s, 1.0f);
	s.causal = 0;
	int64_t ql2[3] = {4, 9, 1}, kl2[3] = {1, 20, 0};
	s.q_lens = ql2;
	s.kv_lens = kl2;
	check_attend(inst, &s, 1.0f);
	/* decode (split-K) with a window and sinks */
	s = vt_shape(3, 4, 2, 32, 1, 400, 1, 0);
	int64_t ql3[3] = {1, 0, 1}, kl3[3] = {400, 3, 130};
	s.q_lens = ql3;
	s.kv_lens = kl3;
	s.window = 50;
	s.sinks = sink_logits;
	check_attend(inst, &s, 1.0f);
	/* lengths past the padded sizes are the caller's error */
	int64_t bad[3] = {1, 10, 1};
	s.q_lens = bad;
	float x[8] = {0};
	char why[256];
	assert_false(vk->supports(inst, &s, why, sizeof why));
	assert_int_equal(vk->attend(inst, &s, x, x, x, x), ATTN_E_INVALID);
}

/* The cache of a ragged batch: the host's copy of every sequence's keys
 * and values (cap rows per head), for the reference. */
typedef struct rcache {
	attn_shape full; /* batch, heads, dims, capacity in n_kv */
	float *k, *v;
} rcache;

/* One ragged prefill or decode of n_q rows per sequence (q_lens[b] real,
 * NaN after), checked against the reference over the host copy. */
static void ragged_step(void *ctx, rcache *rc, const attn_shape *call, int decode)
{
	const attn_shape *f = &rc->full;
	const int64_t D = f->head_dim, HK = f->n_kv_heads, cap = f->n_kv;
	vin in = make_inputs(call, call->batch * HK * call->n_q, 0, 1.0f);
	for (int64_t b = 0; b < f->batch; b++)
		for (int64_t g = 0; g < HK; g++)
			for (int64_t i = 0; i < call->q_lens[b]; i++) {
				const int64_t dst = (b * HK + g) * cap + call->kv_lens[b] - call->q_lens[b] + i;
				const int64_t src = (b * HK + g) * call->n_q + i;
				memcpy(rc->k + dst * D, in.kf + src * D, (size_t)D * sizeof(float));
				memcpy(rc->v + dst * D, in.vf + src * D, (size_t)D * sizeof(float));
			}
	/* ...NaN past q_lens in k_new, v_new: the backend must not append them */
	for (int64_t r = 0; r < call->batch * HK * call->n_q; r++)
		if (r % call->n_q >= call->q_lens[r / (HK * call->n_q)])
			for (int64_t d = 0; d < D; d++)
				((float *)in.k)[r * D + d] = ((float *)in.v)[r * D + d] = NAN;
	double *ref = calloc((size_t)(call->batch * call->n_heads * call->n_q * D), sizeof *ref);
	float *got = sentinel_out(call);
	assert_non_null(ref);
	ref_attention(call, in.qf, rc->k, rc->v, cap, ref);
	if (decode)
		vt_expect_ok(ctx, vk->decode(ctx, call, in.q, in.k, in.v, got), "decode");
	else
		vt_expect_ok(ctx, vk->prefill(ctx, call, in.q, in.k, in.v, got), "prefill");
	expect_rows(decode ? "ragged decode" : "ragged prefill", call, got, ref);
	free_inputs(&in);
	free(got);
	free(ref);
}

/* Ragged prefill loads sequences of different lengths (one empty), ragged
 * decodes (one sequence idle) and a ragged chunk with variants; a call
 * whose lengths do not match the cache is ATTN_E_INVALID. */
static void test_ragged_cache(void **state)
{
	(void)state;
	vt_need_device();
	rcache rc = {.full = vt_shape(3, 4, 2, 32, 1, 40, 1, 0)};
	const size_t n = (size_t)(3 * 2 * 40 * 32);
	rc.k = malloc(n * sizeof(float));
	rc.v = malloc(n * sizeof(float));
	assert_non_null(rc.k);
	assert_non_null(rc.v);
	for (size_t i = 0; i < n; i++)
		rc.k[i] = rc.v[i] = NAN;
	vt_expect_ok(inst, vk->cache_alloc(inst, &rc.full), "cache_alloc");
	static const struct {
		int64_t nq, nkv, q[3], kv[3], window;
		int decode, sinks;
	} steps[] = {
	    {13, 13, {7, 0, 13}, {7, 0, 13}, 0, 0, 0}, {1, 14, {1, 1, 1}, {8, 1, 14}, 0, 1, 0},
	    {1, 15, {1, 0, 1}, {9, 1, 15}, 0, 1, 0},   {5, 20, {3, 2, 5}, {12, 3, 20}, 4, 0, 1},
	    {1, 21, {1, 1, 1}, {13, 4, 21}, 3, 1, 1},
	};
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		attn_shape s = rc.full;
		s.n_q = steps[i].nq;
		s.n_kv = steps[i].nkv;
		s.q_lens = steps[i].q;
		s.kv_lens = steps[i].kv;
		s.window = steps[i].window;
		s.sinks = steps[i].sinks ? sink_logits : NULL;
		ragged_step(inst, &rc, &s, steps[i].decode);
	}
	assert_int_equal(vk->cache_len(inst), 21);
	attn_shape s = rc.full;
	int64_t q[3] = {1, 1, 1}, kv[3] = {14, 6, 22}; /* sequence 1 holds 4, not 5 */
	s.n_kv = 22;
	s.q_lens = q;
	s.kv_lens = kv;
	float *x = calloc(4096, sizeof(float));
	assert_non_null(x);
	assert_int_equal(vk->decode(inst, &s, x, x, x, x), ATTN_E_INVALID);
	assert_int_equal(vk->cache_len(inst), 21);
	free(x);
	free(rc.k);
	free(rc.v);
}

/* k and v stored as another type than q: f16 and bf16 with f32 queries,
 * f32 with f16 queries, and q8_0, q4_0, fp8 dequantized in the shaders,
 * through flash, split-K and the cache path. */
static void test_kv_storage(void **state)
{
	(void)state;
	vt_need_device();
	static const struct {
		attn_dtype q, kv;
	} c[] = {
	    {ATTN_F32, ATTN_F16},  {ATTN_F32, ATTN_BF16}, {ATTN_F16, ATTN_F32},      {ATTN_BF16, ATTN_F16},
	    {ATTN_F32, ATTN_Q8_0}, {ATTN_F16, ATTN_Q4_0}, {ATTN_F32, ATTN_FP8_E4M3},
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		attn_shape s = vt_shape(1, 4, 2, 64, 20, 45, 1, 0);
		s.dtype = c[i].q;
		s.kv_storage = ATTN_KV(c[i].kv);
		check_attend(inst, &s, 1.0f);
		s.n_q = 1;
		s.n_kv = 300;
		s.head_dim_v = 32;
		check_attend(inst, &s, 1.0f);
	}
	/* the block formats need rows of whole blocks */
	attn_shape s = vt_shape(1, 4, 2, 48, 4, 8, 1, 0);
	s.kv_storage = ATTN_KV(ATTN_Q8_0);
	char why[256];
	assert_false(vk->supports(inst, &s, why, sizeof why));
	assert_non_null(strstr(why, "multiples of 32"));
	/* a q4_0 cache: append, decode */
	attn_shape full = vt_shape(2, 4, 2, 64, 1, 50, 1, 0);
	full.kv_storage = ATTN_KV(ATTN_Q4_0);
	const int64_t past = 30;
	vin in = make_inputs(&full, 2 * 2 * 50, 0, 1.0f);
	const size_t rb = attn_row_bytes(ATTN_Q4_0, 64);
	vt_expect_ok(inst, vk->cache_alloc(inst, &full), "cache_alloc");
	/* the rows of one (batch, KV head) as bytes: copy them block row by row */
	char *kn = malloc(2 * 2 * (size_t)past * rb), *vn = malloc(2 * 2 * (size_t)past * rb);
	assert_non_null(kn);
	assert_non_null(vn);
	for (int64_t r = 0; r < 4; r++) {
		memcpy(kn + (size_t)(r * past) * rb, (char *)in.k + (size_t)(r * 50) * rb, (size_t)past * rb);
		memcpy(vn + (size_t)(r * past) * rb, (char *)in.v + (size_t)(r * 50) * rb, (size_t)past * rb);
	}
	vt_expect_ok(inst, vk->cache_append(inst, kn, vn, past), "cache_append");
	attn_shape d = full;
	d.n_kv = past + 1;
	for (int64_t r = 0; r < 4; r++) {
		memcpy(kn + (size_t)r * rb, (char *)in.k + (size_t)(r * 50 + past) * rb, rb);
		memcpy(vn + (size_t)r * rb, (char *)in.v + (size_t)(r * 50 + past) * rb, rb);
	}
	float *q = vt_random_floats(2 * 4 * 64, 1.0f), *got = sentinel_out(&d);
	double *ref = calloc(2 * 4 * 64, sizeof *ref);
	assert_non_null(ref);
	ref_attention(&d, q, in.kf, in.vf, 50, ref);
	vt_expect_ok(inst, vk->decode(inst, &d, q, kn, vn, got), "decode");
	expect_rows("q4_0 decode", &d, got, ref);
	free(q);
	free(got);
	free(ref);
	free(kn);
	free(vn);
	free_inputs(&in);
}

/* attend_paged on pools whose pages are shuffled (page size 5, n_kv 23,
 * ragged, unused pages full of NaN), f32 and q4_0, prefill and decode;
 * a block table entry outside the pool is ATTN_E_INVALID. */
static void test_paged(void **state)
{
	(void)state;
	vt_need_device();
	enum { B = 2, HK = 2, PS = 5, NP = 12, MP = 6 };
	int32_t bt[B * MP] = {7, 2, 11, 0, 5, -1, 3, 9, 1, 10, 4, -1}; /* the -1 are never needed */
	int64_t kl[B] = {23, 17}, ql[B] = {4, 2};
	static const attn_dtype types[] = {ATTN_F32, ATTN_Q4_0};
	for (size_t t = 0; t < 2; t++)
		for (int decode = 0; decode < 2; decode++) {
			attn_shape s = vt_shape(B, 4, HK, 32, decode ? 1 : 4, 23, 1, 0);
			s.kv_storage = ATTN_KV(types[t]);
			s.kv_lens = kl;
			s.q_lens = decode ? NULL : ql;
			s.window = decode ? 3 : 0;
			if (decode)
				s.kv_lens = NULL; /* every sequence at n_kv */
			vin in = make_inputs(&s, B * HK * 23, 23, 1.0f);
			const size_t rb = attn_row_bytes(types[t], 32);
			const size_t pool = (size_t)NP * HK * PS * rb;
			char *kp = malloc(pool), *vp = malloc(pool);
			assert_non_null(kp);
			assert_non_null(vp);
			memset(kp, 0xff, pool); /* NaN in f32, and a NaN scale in q4_0 */
			memset(vp, 0xff, pool);
			for (int64_t b = 0; b < B; b++)
				for (int64_t g = 0; g < HK; g++)
					for (int64_t j = 0; j < (s.kv_lens ? kl[b] : 23); j++) {
						const size_t dst =
						    (size_t)((bt[b * MP + j / PS] * HK + g) * PS + j % PS) * rb;
						const size_t src = (size_t)((b * HK + g) * 23 + j) * rb;
						memcpy(kp + dst, (char *)in.k + src, rb);
						memcpy(vp + dst, (char *)in.v + src, rb);
					}
			attn_paged_kv kv = {kp, vp, NP, PS, bt, MP};
			double *ref = calloc((size_t)(B * 4 * s.n_q * 32), sizeof *ref);
			float *got = sentinel_out(&s);
			assert_non_null(ref);
			ref_attention(&s, in.qf, in.kf, in.vf, 23, ref);
			vt_expect_ok(inst, vk->attend_paged(inst, &s, in.q, &kv, got), "attend_paged");
			expect_rows("attend_paged", &s, got, ref);
			bt[MP + 1] = NP; /* a page past the pool */
			assert_int_equal(vk->attend_paged(inst, &s, in.q, &kv, got), ATTN_E_INVALID);
			bt[MP + 1] = -1;
			assert_int_equal(vk->attend_paged(inst, &s, in.q, &kv, got), ATTN_E_INVALID);
			bt[MP + 1] = 9;
			free(ref);
			free(got);
			free(kp);
			free(vp);
			free_inputs(&in);
		}
}

/* Every variant at once through the shader flavours the defaults do not
 * pick on a CPU device: shared-memory K/V tiles (with the window's first
 * tile not at 0), lanes sharing a row (subgroup shuffles), subgroup-merged
 * decode, and no subgroups at all; f32 and q8_0 K/V, head_dim_v != head_dim,
 * ragged. */
static void test_flavours(void **state)
{
	(void)state;
	vt_need_device();
	static const char *const params[] = {
	    "stage=1,tile_kv=8,step=2,rows=2",
	    "stage=1,dsplit=4,step=2",
	    "dec_merge=1,dec_dsplit=2,dec_wg=32,split=3",
	    "subgroups=0,stage=1",
	};
	int64_t ql[2] = {7, 3}, kl[2] = {40, 21};
	for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
		attn_config cfg = {.params = params[i]};
		void *ctx = NULL;
		char why[256];
		if (vk->create(&cfg, &ctx, why, sizeof why) != ATTN_OK) {
			fprintf(stderr, "vulkan: flavour %s not available here: %s\n", params[i], why);
			continue;
		}
		for (int t = 0; t < 2; t++)
			for (int decode = 0; decode < 2; decode++) {
				attn_shape s = vt_shape(2, 4, 2, 64, decode ? 1 : 7, 40, 1, 0);
				s.kv_storage = t ? ATTN_KV(ATTN_Q8_0) : 0;
				s.head_dim_v = 32;
				s.window = 9;
				s.softcap = 4.0f;
				s.alibi = alibi_slopes;
				s.sinks = sink_logits;
				s.q_lens = decode ? NULL : ql;
				s.kv_lens = kl;
				check_attend(ctx, &s, 2.0f);
			}
		vk->destroy(ctx);
	}
}

static void test_caps(void **state)
{
	(void)state;
	vt_need_device();
	const uint32_t want = ATTN_CAP_WINDOW | ATTN_CAP_SOFTCAP | ATTN_CAP_ALIBI | ATTN_CAP_SINKS |
	                      ATTN_CAP_HEAD_DIM_V | ATTN_CAP_KV_DTYPE | ATTN_CAP_Q8_0 | ATTN_CAP_Q4_0 | ATTN_CAP_FP8 |
	                      ATTN_CAP_RAGGED | ATTN_CAP_PAGED;
	assert_int_equal(vk->caps & want, want);
	assert_non_null(vk->attend_paged);
}

int run_vulkan_variant_tests(void)
{
	init_tables();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_caps),          cmocka_unit_test(test_window),
	    cmocka_unit_test(test_softcap),       cmocka_unit_test(test_alibi),
	    cmocka_unit_test(test_sinks),         cmocka_unit_test(test_head_dim_v),
	    cmocka_unit_test(test_ragged_attend), cmocka_unit_test(test_ragged_cache),
	    cmocka_unit_test(test_kv_storage),    cmocka_unit_test(test_paged),
	    cmocka_unit_test(test_flavours),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("vulkan_variants", tests, vt_group_setup, vt_group_teardown);
}

#endif
