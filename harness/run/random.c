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
 *   dtype f32 half the time, f16 and bf16 a quarter each.
 * The draw is then narrowed to the selected backends' capabilities (no GQA:
 * as many KV heads as heads; no causal: not causal; no f16/bf16: f32) and
 * bounded to RANDOM_MAX_MACS multiply-adds (n_q first, then batch and
 * heads), so that a few hundred cases run in seconds on every backend.
 *
 * The reference is the plain float64 formula of attnbench.h over the values
 * the backends receive (the inputs after rounding to the dtype): f32 cases
 * keep the contract's atol/rtol rule, f16/bf16 cases the ratio rule with
 * golden.c's f32 reference. */
#include "run/random.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "model/results.h"

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

/* Case k's shape, drawn in full and then narrowed to caps. */
static void draw_shape(const random_spec *r, int64_t k, attn_shape *sh)
{
	static const int64_t ratios[] = {1, 2, 3, 4, 6, 8};
	uint64_t s = case_stream(r->seed, k, 1);
	memset(sh, 0, sizeof *sh);
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
	/* bounded: fewer queries, then fewer sequences and heads */
	const int64_t per_q = sh->n_kv * sh->head_dim;
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
		draw_shape(r, k, &gc->shape);
		/* what error messages name in place of a file */
		snprintf(gc->q, sizeof gc->q, "random case %lld of seed %llu", (long long)k,
		         (unsigned long long)r->seed);
		memcpy(gc->k, gc->q, sizeof gc->k);
		memcpy(gc->v, gc->q, sizeof gc->v);
		memcpy(gc->out, gc->q, sizeof gc->out);
		const int f32 = gc->shape.dtype == ATTN_F32;
		gc->atol = f32 ? ATTN_F32_ATOL : ATTN_HALF_FLOOR_ATOL;
		gc->rtol = f32 ? ATTN_F32_RTOL : ATTN_HALF_FLOOR_RTOL;
	}
	*cases = c;
	*n = (int)count;
	return 0;
}

int random_reference(const attn_shape *s, const float *q, const float *k, const float *v, double *out)
{
	const int64_t H = s->n_heads, G = s->n_kv_heads, D = s->head_dim, NQ = s->n_q, NKV = s->n_kv;
	double *w = malloc((size_t)(NKV > 0 ? NKV : 1) * sizeof(double));
	if (!w)
		return -1;
	for (int64_t b = 0; b < s->batch; b++)
		for (int64_t h = 0; h < H; h++) {
			const int64_t g = h / (H / G);
			const float *K = k + (b * G + g) * NKV * D, *V = v + (b * G + g) * NKV * D;
			for (int64_t i = 0; i < NQ; i++) {
				const float *x = q + ((b * H + h) * NQ + i) * D;
				double *o = out + ((b * H + h) * NQ + i) * D;
				/* bottom-right causal: query i sits at position NKV - NQ + i */
				const int64_t vis = s->causal ? NKV - NQ + i + 1 : NKV;
				double mx = -INFINITY, sum = 0;
				for (int64_t j = 0; j < vis; j++) {
					double dot = 0;
					for (int64_t t = 0; t < D; t++)
						dot += (double)x[t] * (double)K[j * D + t];
					w[j] = (double)s->scale * dot;
					mx = fmax(mx, w[j]);
				}
				for (int64_t j = 0; j < vis; j++) {
					w[j] = exp(w[j] - mx);
					sum += w[j];
				}
				for (int64_t t = 0; t < D; t++) {
					double acc = 0;
					for (int64_t j = 0; j < vis; j++)
						acc += w[j] * (double)V[j * D + t];
					o[t] = acc / sum;
				}
			}
		}
	free(w);
	return 0;
}

int random_load(const random_spec *r, const golden_case *gc, case_data *d, attn_err *e)
{
	const attn_shape *s = &gc->shape;
	const size_t nq = (size_t)(s->batch * s->n_heads * s->n_q * s->head_dim),
	             nk = (size_t)(s->batch * s->n_kv_heads * s->n_kv * s->head_dim);
	uint64_t st = case_stream(r->seed, gc->row, 2);
	memset(d, 0, sizeof *d);
	d->q = xalloc(nq * sizeof(float));
	d->k = xalloc(nk * sizeof(float));
	d->v = xalloc(nk * sizeof(float));
	d->out = xalloc(nq * sizeof(double));
	int rc = !d->q || !d->k || !d->v || !d->out;
	if (!rc) {
		/* q scaled by 1, 2 or 4 (exact): flat and peaked softmaxes */
		fill_uniform(d->q, nq, splitmix64(&st), (float)(1 << below(&st, 3)));
		fill_uniform(d->k, nk, splitmix64(&st), 1.0f);
		fill_uniform(d->v, nk, splitmix64(&st), 1.0f);
		d->qs = d->q;
		d->ks = d->k;
		d->vs = d->v;
		rc = (s->dtype != ATTN_F32 && golden_round_inputs(s, d)) ||
		     random_reference(s, d->q, d->k, d->v, d->out) || (s->dtype != ATTN_F32 && golden_ref_err(s, d));
	}
	if (rc) {
		golden_free(d);
		return attn_errf(e, "%s: out of memory generating the case", gc->q);
	}
	return 0;
}

void random_print_replay(FILE *f, const random_spec *r, const golden_case *gc, const char *backend)
{
	const attn_shape *s = &gc->shape;
	fprintf(f, "    %s: replay with: attnbench check --random %lld --seed %llu --replay %d --backend %s\n",
	        gc->name, (long long)r->n, (unsigned long long)r->seed, gc->row, backend);
	fprintf(f, "    %s: manifest row: name,batch,n_heads,n_kv_heads,head_dim,n_q,n_kv,causal,scale,dtype\n",
	        gc->name);
	fprintf(f, "    %s: manifest row: %s,%lld,%lld,%lld,%lld,%lld,%lld,%d,%.9g,%s\n", gc->name, gc->name,
	        (long long)s->batch, (long long)s->n_heads, (long long)s->n_kv_heads, (long long)s->head_dim,
	        (long long)s->n_q, (long long)s->n_kv, s->causal, (double)s->scale, dtype_name(s->dtype));
}
