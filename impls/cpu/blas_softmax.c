/* blas_softmax.c - see blas_softmax.h. One source for every instruction
 * set, VW floats a vector (16 where compiled for AVX-512, else 8): the
 * Makefile compiles it with -DCPU_ISA=avx2 or avx512 and its -m flags, and
 * once without for the baseline. On the AVX-512 VM the 8-wide softmax took
 * a sixth of a causal prefill's time (the two sgemm calls most of the
 * rest); the exp is most of its instructions, and 16 lanes halve them. */
#include <math.h>

#include "blas_softmax.h"
#include "simd.h"

#ifndef CPU_ISA
#define CPU_ISA generic
#endif
#define SOFTMAX_NAME_(x) blas_softmax_##x
#define SOFTMAX_NAME(x)  SOFTMAX_NAME_(x)

/* One row of S for head h, query position p, whose entry t is key j0 + t,
 * visible entries [lo, hi) of n; returns the row's factor (see the
 * header). Applying 1 / sum to the output afterwards costs DV multiplies
 * per row instead of a pass over the row's n entries. */
static float softmax_row(const attn_shape *s, int64_t h, int64_t p, int64_t j0, float *row, int64_t lo, int64_t hi,
                         int64_t n)
{
	if (s->softcap > 0.0f || s->alibi)
		for (int64_t j = lo; j < hi; j++)
			row[j] = cpu_score(s, h, row[j], p, j0 + j);
	const float sink = cpu_sink(s, h);
	vwf mxv = vw_set1(-INFINITY);
	int64_t j = lo;
	for (; j + VW <= hi; j += VW)
		mxv = vw_max(mxv, vw_load(row + j));
	float mx = sink;
	for (int u = 0; u < VW; u++)
		mx = fmaxf(mx, mxv[u]);
	for (; j < hi; j++)
		mx = fmaxf(mx, row[j]);
	vwf sumv = vw_set1(0.0f);
	for (j = lo; j + VW <= hi; j += VW) {
		const vwf e = vw_exp(vw_load(row + j) - mx);
		vw_store(row + j, e);
		sumv += e;
	}
	float sum = v8_hsum(vw_fold(sumv));
	for (; j < hi; j++) {
		row[j] = expf(row[j] - mx);
		sum += row[j];
	}
	if (s->sinks)
		sum += expf(sink - mx);
	for (j = 0; j < lo; j++)
		row[j] = 0.0f;
	for (j = hi; j < n; j++)
		row[j] = 0.0f;
	return hi > lo ? 1.0f / sum : 0.0f; /* no visible key: a zero row */
}

void SOFTMAX_NAME(CPU_ISA)(const attn_shape *s, int64_t nq, int64_t nkv, int64_t g, int64_t r0, int64_t r1, int64_t klo,
                           int64_t n, float *S, float *inv)
{
	const int64_t NQ = s->n_q, ratio = s->n_heads / s->n_kv_heads;
	for (int64_t r = r0; r < r1; r++) {
		int64_t lo, hi;
		cpu_key_range(s, nq, nkv, r % NQ, &lo, &hi);
		if (hi <= lo)
			lo = hi = klo;
		inv[r - r0] =
		    softmax_row(s, g * ratio + r / NQ, nkv - nq + r % NQ, klo, S + (r - r0) * n, lo - klo, hi - klo, n);
	}
}
