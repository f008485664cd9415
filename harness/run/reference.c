/* reference.c - see reference.h. */
#include "run/reference.h"

#include <math.h>
#include <stdlib.h>

int64_t ref_q_len(const attn_shape *s, int64_t b)
{
	return s->q_lens ? s->q_lens[b] : s->n_q;
}

int64_t ref_kv_len(const attn_shape *s, int64_t b)
{
	return s->kv_lens ? s->kv_lens[b] : s->n_kv;
}

/* A value rounded to float32 when f32 says so. */
static inline double rnd(int f32, double x)
{
	return f32 ? (double)(float)x : x;
}

/* Is key j visible to the query at position p? */
static int visible(const attn_shape *s, int64_t p, int64_t j)
{
	if (s->causal && j > p)
		return 0;
	return !(s->window > 0 && p - j >= s->window);
}

/* One query row: x (D) against the keys K (kn rows of D) and values V (kn
 * rows of DV) of its KV head, at position p, for head h; w holds kn. */
static void one_row(const attn_shape *s, int f32, int64_t h, int64_t p, const float *x, const float *K, const float *V,
                    int64_t kn, double *w, double *o)
{
	const int64_t D = s->head_dim, DV = attn_head_dim_v(s);
	double mx = -INFINITY;
	int any = 0;
	for (int64_t j = 0; j < kn; j++) {
		if (!visible(s, p, j))
			continue;
		double dot = 0;
		for (int64_t t = 0; t < D; t++)
			dot = rnd(f32, dot + rnd(f32, (double)x[t] * (double)K[j * D + t]));
		double sc = rnd(f32, (double)s->scale * dot);
		if (s->softcap > 0)
			sc = rnd(f32, (double)s->softcap * rnd(f32, tanh(rnd(f32, sc / (double)s->softcap))));
		if (s->alibi)
			sc = rnd(f32, sc - rnd(f32, (double)s->alibi[h] * (double)llabs(p - j)));
		w[j] = sc;
		mx = any ? fmax(mx, sc) : sc;
		any = 1;
	}
	const double z = s->sinks ? (double)s->sinks[h] : -INFINITY;
	for (int64_t t = 0; t < DV; t++)
		o[t] = 0;
	if (!any)
		return; /* no visible key: 0, with or without a sink */
	if (s->sinks)
		mx = fmax(mx, z);
	double sum = s->sinks ? rnd(f32, exp(z - mx)) : 0;
	for (int64_t j = 0; j < kn; j++) {
		if (!visible(s, p, j))
			continue;
		w[j] = rnd(f32, exp(rnd(f32, w[j] - mx)));
		sum = rnd(f32, sum + w[j]);
		for (int64_t t = 0; t < DV; t++)
			o[t] = rnd(f32, o[t] + rnd(f32, w[j] * (double)V[j * DV + t]));
	}
	for (int64_t t = 0; t < DV; t++)
		o[t] = rnd(f32, o[t] / sum);
}

int attn_reference(const attn_shape *s, const float *q, const float *k, const float *v, double *out64, float *out32)
{
	const int64_t H = s->n_heads, G = s->n_kv_heads, D = s->head_dim, DV = attn_head_dim_v(s), NQ = s->n_q,
	              NKV = s->n_kv;
	const int f32 = out64 == NULL;
	double *w = malloc((size_t)(NKV > 0 ? NKV : 1) * sizeof(double));
	double *o = malloc((size_t)(DV > 0 ? DV : 1) * sizeof(double));
	if (!w || !o) {
		free(w);
		free(o);
		return -1;
	}
	for (int64_t b = 0; b < s->batch; b++) {
		const int64_t qn = ref_q_len(s, b), kn = ref_kv_len(s, b);
		for (int64_t h = 0; h < H; h++) {
			const int64_t g = h / (H / G);
			const float *K = k + (b * G + g) * NKV * D, *V = v + (b * G + g) * NKV * DV;
			for (int64_t i = 0; i < NQ; i++) {
				const int64_t row = ((b * H + h) * NQ + i) * DV;
				if (i < qn)
					one_row(s, f32, h, kn - qn + i, q + ((b * H + h) * NQ + i) * D, K, V, kn, w, o);
				else
					for (int64_t t = 0; t < DV; t++)
						o[t] = 0;
				for (int64_t t = 0; t < DV; t++) {
					if (f32)
						out32[row + t] = (float)o[t];
					else
						out64[row + t] = o[t];
				}
			}
		}
	}
	free(w);
	free(o);
	return 0;
}
