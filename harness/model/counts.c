/* counts.c - the one definition of what a sweep point computes and moves
 * (point.h): the query-key pairs its masks leave, its FLOPs, its bytes, its
 * KV cache's stored size, and the ragged lengths those counts and the
 * measurement (run/measure.c) share. */
#include "model/point.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_quant.h"
#include "lib/util.h"

/* ---- cache state ------------------------------------------------------------- */

enum cache_state cache_state_default(enum phase ph)
{
	return ph == PHASE_DECODE ? CACHE_COLD : CACHE_HOT;
}

enum cache_state point_cache_state(const sweep_point *p)
{
	return p->cache_state == CACHE_COLD || p->cache_state == CACHE_HOT ? (enum cache_state)p->cache_state
	                                                                   : cache_state_default(p->phase);
}

const char *cache_state_name(enum cache_state c)
{
	return c == CACHE_COLD ? "cold" : "hot";
}

/* ---- ragged lengths ---------------------------------------------------------- */

static const char *const lens_names[] = {[LENS_UNIFORM] = "uniform", [LENS_CHAT] = "chat"};

int lens_parse(const char *s, int64_t *code)
{
	if (!*s || !strcmp(s, "equal")) {
		*code = 0;
		return 1;
	}
	for (int k = LENS_UNIFORM; k <= LENS_CHAT; k++) {
		const size_t n = strlen(lens_names[k]);
		int64_t seed;
		if (!strncmp(s, lens_names[k], n) && s[n] == ':' && parse_i64(s + n + 1, &seed) && seed >= 0 &&
		    seed <= (int64_t)LENS_MAX_SEED) {
			*code = ((int64_t)k << 32) | seed;
			return 1;
		}
	}
	return 0;
}

void lens_format(int64_t code, char *buf, size_t len)
{
	const int k = (int)(code >> 32);
	if (code <= 0 || k > LENS_CHAT)
		snprintf(buf, len, "%s", "");
	else
		snprintf(buf, len, "%s:%lld", lens_names[k], (long long)(code & LENS_MAX_SEED));
}

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* uniform: 1..max evenly. chat: long-tailed, most sequences short and a few
 * near max: a uniform draw shifted right by a uniform 0..bits(max)-1 (about
 * log-uniform). Integers only, so that every machine draws the same. */
void point_lens(const sweep_point *p, int64_t *q_lens, int64_t *kv_lens)
{
	const int dec = p->phase == PHASE_DECODE;
	const int64_t max = dec ? p->cache_len : p->seq_len;
	const int kind = (int)(p->lens >> 32);
	const uint64_t seed = (uint64_t)p->lens & LENS_MAX_SEED;
	int bits = 0;
	while (bits < 63 && (INT64_C(1) << bits) <= max)
		bits++;
	for (int64_t b = 0; b < p->shape.batch; b++) {
		const uint64_t r1 = splitmix64(seed * 0x100000001b3ull + 2 * (uint64_t)b);
		const uint64_t r2 = splitmix64(seed * 0x100000001b3ull + 2 * (uint64_t)b + 1);
		int64_t len = max;
		if (kind == LENS_UNIFORM)
			len = 1 + (int64_t)(r1 % (uint64_t)max);
		else if (kind == LENS_CHAT)
			len = 1 + (int64_t)((r1 % (uint64_t)max) >> (r2 % (uint64_t)bits));
		kv_lens[b] = len;
		q_lens[b] = dec ? 1 : len;
	}
}

/* ---- pairs ------------------------------------------------------------------- */

/* sum of min(p + 1, w) for p in a..b */
static double sum_min(double a, double b, double w)
{
	double s = 0;
	const double m = fmin(b, w - 1);
	if (m >= a)
		s += (m - a + 1) * (a + 1 + m + 1) / 2;
	const double from = fmax(a, w);
	if (b >= from)
		s += (b - from + 1) * w;
	return s;
}

/* sum of max(0, p - w + 1) for p in a..b */
static double sum_past(double a, double b, double w)
{
	const double from = fmax(a, w);
	return b >= from ? (b - from + 1) * ((from - w + 1) + (b - w + 1)) / 2 : 0;
}

/* Query-key pairs left by the masks for nq queries at the last nq of nkv
 * positions: causal (j <= p), window w (p - j < w; 0 none). */
static double seq_pairs(double nq, double nkv, int causal, double w)
{
	const double a = nkv - nq, b = nkv - 1;
	if (nq <= 0 || nkv <= 0)
		return 0;
	if (causal)
		return sum_min(a, b, w > 0 ? w : nkv + 1);
	return nq * nkv - (w > 0 ? sum_past(a, b, w) : 0);
}

/* Calls fn once per sequence with its query and key counts (all of them the
 * point's own with equal lengths); returns the sum. */
static double per_seq(const sweep_point *p, double (*fn)(const sweep_point *, double, double))
{
	const attn_shape *s = &p->shape;
	if (!p->lens)
		return (double)s->batch * fn(p, (double)s->n_q, (double)s->n_kv);
	int64_t *ql = malloc((size_t)s->batch * sizeof *ql), *kl = malloc((size_t)s->batch * sizeof *kl);
	double sum = NAN;
	if (ql && kl) {
		point_lens(p, ql, kl);
		sum = 0;
		for (int64_t b = 0; b < s->batch; b++)
			sum += fn(p, (double)ql[b], (double)kl[b]);
	}
	free(ql);
	free(kl);
	return sum;
}

static double flops_of(const sweep_point *p, double nq, double nkv)
{
	const attn_shape *s = &p->shape;
	return 2.0 * (double)(s->head_dim + attn_head_dim_v(s)) * (double)s->n_heads *
	       seq_pairs(nq, nkv, s->causal, (double)s->window);
}

double point_flops(const sweep_point *p)
{
	return per_seq(p, flops_of);
}

/* Bytes of one K row plus one V row at their stored size. */
static double kv_row_bytes(const attn_shape *s)
{
	const attn_dtype t = attn_kv_dtype(s);
	return (double)attn_row_bytes(t, s->head_dim) + (double)attn_row_bytes(t, attn_head_dim_v(s));
}

static double bytes_of(const sweep_point *p, double nq, double nkv)
{
	const attn_shape *s = &p->shape;
	const double q = (double)s->n_heads * nq;
	return q * ((double)s->head_dim * (double)attn_dtype_size(s->dtype) + (double)attn_head_dim_v(s) * 4.0) +
	       (double)s->n_kv_heads * nkv * kv_row_bytes(s);
}

/* In double precision: no integer product to overflow, whatever the shape. */
double point_bytes(const sweep_point *p)
{
	return per_seq(p, bytes_of);
}

/* Tokens of one sequence's cache: its capacity, or the pages that hold
 * nkv keys. */
static double cache_tokens(const sweep_point *p, double nq, double nkv)
{
	(void)nq;
	if (p->page_size <= 0)
		return (double)p->cache_len;
	const double ps = (double)p->page_size;
	return ceil(nkv / ps) * ps;
}

/* UINT64_MAX for a shape whose count does not fit (which sweep_points
 * never produces). */
uint64_t point_kv_bytes(const sweep_point *p)
{
	const double tokens =
	    p->page_size > 0 ? per_seq(p, cache_tokens) : (double)p->shape.batch * (double)p->cache_len;
	const double b = tokens * (double)p->shape.n_kv_heads * kv_row_bytes(&p->shape);
	return b >= 0 && b < 1.8e19 ? (uint64_t)b : UINT64_MAX;
}
