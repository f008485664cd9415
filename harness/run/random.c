/* random.c - see random.h.
 *
 * Shapes. Each case draws from its own generator (splitmix64 of the run's
 * seed and the case index):
 *   head_dim   a quarter 1..16, half a multiple of 16 plus -8..7 (every
 *              remainder mod 8 and 16, up to 256), a quarter 1..256;
 *   n_q, n_kv  mostly tile edges (1..4, 7..9, 15..17, 31..33, 63..65,
 *              127..129), else 1..160; a fifth of the cases decode
 *              (n_q = 1); under causal n_q <= n_kv;
 *   heads      1..4 KV heads times a ratio 1, 2, 3, 4, 6 or 8 (MHA, GQA,
 *              and MQA with one KV head);
 *   batch 1..3, causal half the time, a custom scale a fifth of the time,
 *   dtype f32 half the time, f16 and bf16 a quarter each;
 *   variants, each a quarter of the time: a window (1..n_kv), a softcap
 *   (0.5..5), ALiBi slopes (2^(-8(h+1)/H)), sink logits (-2..2), a
 *   head_dim_v of its own; a kv storage type other than dtype a third of the
 *   time (f32/f16/bf16, q8_0, q4_0, fp8_e4m3; head sizes rounded up to a
 *   multiple of 32 for the block formats); ragged lengths a quarter of the
 *   time (each sequence's q_len and kv_len drawn with the inputs, 0 and the
 *   full length included).
 * The draw is then narrowed to the selected backends' capabilities (no GQA:
 * as many KV heads as heads; no causal: not causal; no f16/bf16: f32) and
 * bounded to RANDOM_MAX_MACS multiply-adds (n_q first, then batch and
 * heads), so that a few hundred cases run in seconds on every backend.
 *
 * The reference is the plain float64 formula of attnbench.h over the values
 * the backends receive (the inputs after rounding to the dtype): f32 cases
 * keep the contract's atol/rtol rule, f16/bf16 cases the ratio rule with
 * golden.c's f32 reference. Both are run/reference.c. */
#include "run/random.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attn_quant.h"
#include "model/results.h"
#include "run/reference.h"

/* Multiply-adds of one case, B * H * n_q * n_kv * D, at most. */
#define RANDOM_MAX_MACS (1 << 19)

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* The generator of case k's stream (1: the shape, 2: the inputs). */
static uint64_t case_stream(uint64_t seed, int64_t k, uint64_t stream)
{
	uint64_t s = seed;
	s = splitmix64(&s) ^ (uint64_t)k;
	s = splitmix64(&s) ^ stream;
	return splitmix64(&s);
}

/* Uniform in 0 .. n-1. */
static int64_t below(uint64_t *s, int64_t n)
{
	return (int64_t)(splitmix64(s) % (uint64_t)n);
}

uint64_t random_seed_now(void)
{
	uint64_t s = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	return splitmix64(&s) & 0xFFFFFFFFull; /* short enough to type */
}

static int64_t draw_len(uint64_t *s)
{
	static const int64_t edges[] = {1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129};
	const int64_t n = (int64_t)(sizeof edges / sizeof edges[0]);
	return below(s, 5) < 3 ? edges[below(s, n)] : 1 + below(s, 160);
}

static int64_t draw_head_dim(uint64_t *s)
{
	switch (below(s, 4)) {
	case 0:
		return 1 + below(s, 16);
	case 1:
	case 2: {
		int64_t d = 16 * (1 + below(s, 16)) + below(s, 16) - 8;
		return d > 256 ? d - 16 : d;
	}
	default:
		return 1 + below(s, 256);
	}
}

/* The kv storage types caps claims for q stored as dt (dt itself first). */
static int kv_choices(uint32_t caps, attn_dtype dt, attn_dtype *out)
{
	int n = 0;
	out[n++] = dt;
	for (int t = ATTN_F32; t <= ATTN_BF16; t++)
		if (t != (int)dt && (caps & ATTN_CAP_KV_DTYPE) &&
		    (t == ATTN_F32 || (caps & (t == ATTN_F16 ? ATTN_CAP_F16 : ATTN_CAP_BF16))))
			out[n++] = (attn_dtype)t;
	const struct {
		uint32_t cap;
		attn_dtype t;
	} q[] = {{ATTN_CAP_Q8_0, ATTN_Q8_0}, {ATTN_CAP_Q4_0, ATTN_Q4_0}, {ATTN_CAP_FP8, ATTN_FP8_E4M3}};
	for (int i = 0; i < 3; i++)
		if (caps & q[i].cap)
			out[n++] = q[i].t;
	return n;
}

/* The ABI 3 part of case k's shape, drawn after the rest from the same
 * stream and narrowed to caps; sets which optional arrays the case has. */
static void draw_variants(const random_spec *r, uint64_t *s, golden_case *gc)
{
	attn_shape *sh = &gc->shape;
	const uint32_t c = r->caps;
	const int64_t w = 1 + below(s, sh->n_kv), dv = draw_head_dim(s);
	const double cap = 0.5 + 4.5 * (double)(splitmix64(s) >> 11) / 9007199254740992.0;
	const int want_w = below(s, 4) == 0, want_cap = below(s, 4) == 0, want_alibi = below(s, 4) == 0,
	          want_sinks = below(s, 4) == 0, want_dv = below(s, 4) == 0, want_kv = below(s, 3) == 0,
	          want_ragged = below(s, 4) == 0;
	const int64_t kv_pick = below(s, 64);
	if (want_w && (c & ATTN_CAP_WINDOW))
		sh->window = w;
	if (want_cap && (c & ATTN_CAP_SOFTCAP))
		sh->softcap = (float)cap;
	if (want_dv && (c & ATTN_CAP_HEAD_DIM_V) && dv != sh->head_dim)
		sh->head_dim_v = dv;
	attn_dtype kts[8];
	const int nk = kv_choices(c, sh->dtype, kts);
	if (want_kv && nk > 1) {
		const attn_dtype kt = kts[1 + kv_pick % (nk - 1)];
		sh->kv_storage = ATTN_KV(kt);
		if (attn_dtype_blocked(kt)) {
			sh->head_dim = (sh->head_dim + 31) / 32 * 32;
			if (sh->head_dim_v)
				sh->head_dim_v = (sh->head_dim_v + 31) / 32 * 32;
			if (sh->head_dim_v == sh->head_dim)
				sh->head_dim_v = 0;
		}
	}
	/* what error messages name in place of a file; "" is no array */
	if (want_alibi && (c & ATTN_CAP_ALIBI))
		snprintf(gc->alibi, sizeof gc->alibi, "%s", gc->q);
	if (want_sinks && (c & ATTN_CAP_SINKS))
		snprintf(gc->sinks, sizeof gc->sinks, "%s", gc->q);
	if (want_ragged && (c & ATTN_CAP_RAGGED)) {
		snprintf(gc->q_lens, sizeof gc->q_lens, "%s", gc->q);
		snprintf(gc->kv_lens, sizeof gc->kv_lens, "%s", gc->q);
	}
}

/* Case k's shape, drawn in full and then narrowed to caps. */
static void draw_shape(const random_spec *r, int64_t k, golden_case *gc)
{
	attn_shape *sh = &gc->shape;
	static const int64_t ratios[] = {1, 2, 3, 4, 6, 8};
	uint64_t s = case_stream(r->seed, k, 1);
	memset(sh, 0, sizeof *sh);
	/* what error messages name in place of a file */
	snprintf(gc->q, sizeof gc->q, "random case %lld of seed %llu", (long long)k, (unsigned long long)r->seed);
	sh->head_dim = draw_head_dim(&s);
	sh->n_q = draw_len(&s);
	sh->n_kv = draw_len(&s);
	const int decode = below(&s, 5) == 0;
	sh->n_kv_heads = 1 + below(&s, 4);
	sh->n_heads = sh->n_kv_heads * ratios[below(&s, 6)];
	sh->batch = 1 + below(&s, 3);
	sh->causal = (int)below(&s, 2);
	const int custom_scale = below(&s, 5) == 0;
	const double u = (double)(splitmix64(&s) >> 11) / 9007199254740992.0;
	const int64_t dt = below(&s, 4);
	sh->dtype = dt < 2 ? ATTN_F32 : dt == 2 ? ATTN_F16 : ATTN_BF16;

	/* narrowed to what the backends claim */
	if (!(r->caps & ATTN_CAP_GQA))
		sh->n_kv_heads = sh->n_heads;
	if (!(r->caps & ATTN_CAP_CAUSAL))
		sh->causal = 0;
	if ((sh->dtype == ATTN_F16 && !(r->caps & ATTN_CAP_F16)) ||
	    (sh->dtype == ATTN_BF16 && !(r->caps & ATTN_CAP_BF16)))
		sh->dtype = ATTN_F32;
	if (decode)
		sh->n_q = 1;
	if (sh->causal && sh->n_q > sh->n_kv) {
		const int64_t t = sh->n_q;
		sh->n_q = sh->n_kv;
		sh->n_kv = t;
	}
	draw_variants(r, &s, gc);
	/* bounded: fewer queries, then fewer sequences and heads */
	const int64_t dmax = attn_head_dim_v(sh) > sh->head_dim ? attn_head_dim_v(sh) : sh->head_dim;
	const int64_t per_q = sh->n_kv * dmax;
	if (sh->n_q * per_q > RANDOM_MAX_MACS)
		sh->n_q = RANDOM_MAX_MACS / per_q > 0 ? RANDOM_MAX_MACS / per_q : 1;
	while (sh->batch * sh->n_heads * sh->n_q * per_q > RANDOM_MAX_MACS && sh->batch * sh->n_heads > 1) {
		if (sh->batch > 1)
			sh->batch--;
		else if (sh->n_kv_heads > 1) {
			sh->n_heads -= sh->n_heads / sh->n_kv_heads;
			sh->n_kv_heads--;
		} else
			sh->n_heads = (sh->n_heads + 1) / 2; /* MQA stays MQA */
	}
	sh->scale = custom_scale ? (float)(0.05 + 0.45 * u) : (float)(1.0 / sqrt((double)sh->head_dim));
}

int random_cases(const random_spec *r, golden_case **cases, int *n, attn_err *e)
{
	const int64_t first = r->replay >= 0 ? r->replay : 0, count = r->replay >= 0 ? 1 : r->n;
	golden_case *c = calloc((size_t)count, sizeof *c);
	if (!c)
		return attn_errf(e, "random: out of memory for %lld cases", (long long)count);
	for (int64_t i = 0; i < count; i++) {
		const int64_t k = first + i;
		golden_case *gc = &c[i];
		snprintf(gc->name, sizeof gc->name, "random-%lld", (long long)k);
		gc->row = (int)k;
		draw_shape(r, k, gc);
		memcpy(gc->k, gc->q, sizeof gc->k);
		memcpy(gc->v, gc->q, sizeof gc->v);
		memcpy(gc->out, gc->q, sizeof gc->out);
		const int f32 = !golden_low_precision(&gc->shape);
		gc->atol = f32 ? ATTN_F32_ATOL : ATTN_HALF_FLOOR_ATOL;
		gc->rtol = f32 ? ATTN_F32_RTOL : ATTN_HALF_FLOOR_RTOL;
	}
	*cases = c;
	*n = (int)count;
	return 0;
}

int random_reference(const attn_shape *s, const float *q, const float *k, const float *v, double *out)
{
	return attn_reference(s, q, k, v, out, NULL);
}

/* The optional arrays of a case that has them (gc names them): ALiBi slopes
 * 2^(-8(h+1)/H), sink logits in [-2, 2), ragged lengths (0 and the full
 * length among them; q_len <= kv_len under causal). 0 or -1. */
static int draw_arrays(const golden_case *gc, uint64_t *st, case_data *d)
{
	const attn_shape *s = &gc->shape;
	const int64_t H = s->n_heads, B = s->batch;
	if (gc->alibi[0] && !(d->alibi = malloc((size_t)H * sizeof(float))))
		return -1;
	for (int64_t h = 0; gc->alibi[0] && h < H; h++)
		d->alibi[h] = exp2f(-8.0f * (float)(h + 1) / (float)H);
	if (gc->sinks[0]) {
		if (!(d->sinks = malloc((size_t)H * sizeof(float))))
			return -1;
		fill_uniform(d->sinks, (size_t)H, splitmix64(st), 2.0f);
	}
	if (!gc->q_lens[0])
		return 0;
	if (!(d->q_lens = malloc((size_t)B * sizeof(int64_t))) || !(d->kv_lens = malloc((size_t)B * sizeof(int64_t))))
		return -1;
	for (int64_t b = 0; b < B; b++) {
		const int64_t pick = below(st, 4);
		d->kv_lens[b] = pick == 0 ? s->n_kv : pick == 1 ? 0 : below(st, s->n_kv + 1);
		const int64_t qmax = s->causal && d->kv_lens[b] < s->n_q ? d->kv_lens[b] : s->n_q;
		const int64_t qpick = below(st, 4);
		d->q_lens[b] = qpick == 0 ? qmax : qpick == 1 ? 0 : below(st, qmax + 1);
	}
	return 0;
}

int random_load(const random_spec *r, const golden_case *gc, case_data *d, attn_err *e)
{
	const attn_shape *s = &gc->shape;
	const size_t nq = (size_t)golden_q_elems(s), no = (size_t)golden_out_elems(s),
	             nk = (size_t)(s->batch * s->n_kv_heads * s->n_kv * s->head_dim),
	             nv = (size_t)(s->batch * s->n_kv_heads * s->n_kv * attn_head_dim_v(s));
	uint64_t st = case_stream(r->seed, gc->row, 2);
	memset(d, 0, sizeof *d);
	d->shape = *s;
	d->q = xalloc(nq * sizeof(float));
	d->k = xalloc(nk * sizeof(float));
	d->v = xalloc(nv * sizeof(float));
	d->out = xalloc((no ? no : 1) * sizeof(double));
	int rc = !d->q || !d->k || !d->v || !d->out;
	if (!rc) {
		/* q scaled by 1, 2 or 4 (exact): flat and peaked softmaxes */
		fill_uniform(d->q, nq, splitmix64(&st), (float)(1 << below(&st, 3)));
		fill_uniform(d->k, nk, splitmix64(&st), 1.0f);
		fill_uniform(d->v, nv, splitmix64(&st), 1.0f);
		rc = draw_arrays(gc, &st, d);
	}
	if (!rc) {
		golden_attach(d);
		rc = golden_finish(d) || attn_reference(&d->shape, d->q, d->k, d->v, d->out, NULL) ||
		     (golden_low_precision(s) && golden_ref_err(d));
	}
	if (rc) {
		golden_free(d);
		return attn_errf(e, "%s: out of memory generating the case", gc->q);
	}
	return 0;
}

/* A case's lengths or per-head values as "a b c". */
static void print_list(FILE *f, const char *name, const char *what, const int64_t *in, const float *fl, int64_t n)
{
	fprintf(f, "    %s: %s:", name, what);
	for (int64_t i = 0; i < n; i++)
		if (in)
			fprintf(f, " %lld", (long long)in[i]);
		else
			fprintf(f, " %.9g", (double)fl[i]);
	fprintf(f, "\n");
}

void random_print_replay(FILE *f, const random_spec *r, const golden_case *gc, const case_data *d, const char *backend)
{
	const attn_shape *s = &gc->shape;
	fprintf(f, "    %s: replay with: attnbench check --random %lld --seed %llu --replay %d --backend %s\n",
	        gc->name, (long long)r->n, (unsigned long long)r->seed, gc->row, backend);
	fprintf(
	    f,
	    "    %s: manifest row: "
	    "name,batch,n_heads,n_kv_heads,head_dim,n_q,n_kv,causal,scale,dtype,window,softcap,head_dim_v,kv_dtype\n",
	    gc->name);
	char w[32] = "", c[32] = "", dv[32] = "";
	if (s->window)
		snprintf(w, sizeof w, "%lld", (long long)s->window);
	if (s->softcap > 0)
		snprintf(c, sizeof c, "%.9g", (double)s->softcap);
	if (s->head_dim_v)
		snprintf(dv, sizeof dv, "%lld", (long long)s->head_dim_v);
	fprintf(f, "    %s: manifest row: %s,%lld,%lld,%lld,%lld,%lld,%lld,%d,%.9g,%s,%s,%s,%s,%s\n", gc->name,
	        gc->name, (long long)s->batch, (long long)s->n_heads, (long long)s->n_kv_heads, (long long)s->head_dim,
	        (long long)s->n_q, (long long)s->n_kv, s->causal, (double)s->scale, dtype_name(s->dtype), w, c, dv,
	        s->kv_storage ? attn_kv_dtype_name(attn_kv_dtype(s)) : "");
	if (d && d->alibi)
		print_list(f, gc->name, "alibi", NULL, d->alibi, s->n_heads);
	if (d && d->sinks)
		print_list(f, gc->name, "sinks", NULL, d->sinks, s->n_heads);
	if (d && d->q_lens)
		print_list(f, gc->name, "q_lens", d->q_lens, NULL, s->batch);
	if (d && d->kv_lens)
		print_list(f, gc->name, "kv_lens", d->kv_lens, NULL, s->batch);
}
