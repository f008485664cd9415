/* simd.h - eight-float vectors for the CPU kernels (GCC vector extensions).
 *
 * The vector type compiles on any target GCC or Clang supports: where a file
 * is compiled for AVX2 or AVX-512 (blocked's kernels, once per instruction
 * set, see the Makefile; everything with NATIVE=1) each v8f is one ymm
 * register and a*b+c contracts to a fused multiply-add; elsewhere (the
 * default x86-64 baseline, other CPUs) the compiler splits it into what the
 * target has. Loads and stores go through memcpy so that no alignment is
 * assumed.
 *
 * The 16-bit storage types are widened to f32 as they are loaded
 * (v8_load_f16, v8_load_bf16; vw_load_row for a row of any storage the
 * kernels read in place, q8_0 included): exactly, a vector at a time, so
 * that a kernel can stream a 16-bit KV cache without an f32 copy of it.
 *
 * vexp8 is an exp() for the softmax: the libm call is scalar and costs more
 * than the 2 * head_dim multiply-adds that each probability feeds, so a
 * vector polynomial pays wherever scores are exponentiated in bulk. Its
 * relative error is about 2e-7 (a few float ulps), far inside the 1e-4 the
 * goldens allow. Inputs here are always <= 0 (a score minus its row maximum);
 * anything below -87 (including -inf, a masked score) gives exactly 0. */
#ifndef ATTN_SIMD_H
#define ATTN_SIMD_H

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "attn_half.h"
#include "attn_quant.h"

/* Without AVX a 32-byte vector is passed in memory, which GCC warns about
 * for every function that takes or returns one: these are all inline and
 * never cross a library boundary. */
#pragma GCC diagnostic ignored "-Wpsabi"

typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
typedef uint32_t v8u __attribute__((vector_size(32)));
typedef uint16_t v8h __attribute__((vector_size(16)));

static inline v8f v8_load(const float *p)
{
	v8f v;
	memcpy(&v, p, sizeof v);
	return v;
}

/* Eight f16 values widened to f32 (exact). F16C converts them in one
 * instruction; elsewhere the scalar conversion of attn_half.h, lane by lane. */
static inline __attribute__((always_inline)) v8f v8_load_f16(const uint16_t *p)
{
#ifdef __F16C__
	__m128i h;
	memcpy(&h, p, sizeof h);
	return (v8f)_mm256_cvtph_ps(h);
#else
	return (v8f){attn_f16_to_f32(p[0]), attn_f16_to_f32(p[1]), attn_f16_to_f32(p[2]), attn_f16_to_f32(p[3]),
	             attn_f16_to_f32(p[4]), attn_f16_to_f32(p[5]), attn_f16_to_f32(p[6]), attn_f16_to_f32(p[7])};
#endif
}

/* Eight bf16 values widened to f32 (exact): a bf16 is the top half of an
 * f32, so zero-extend each to 32 bits and shift it into the top half. */
static inline __attribute__((always_inline)) v8f v8_load_bf16(const uint16_t *p)
{
#ifdef __AVX2__
	/* one vpmovzxwd and one vpslld; GCC 12 splits the generic form below
	 * into halves (five instructions) */
	__m128i h;
	memcpy(&h, p, sizeof h);
	return (v8f)_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16);
#else
	v8h h;
	memcpy(&h, p, sizeof h);
	return (v8f)(__builtin_convertvector(h, v8u) << 16);
#endif
}

/* Eight int8 values as floats. GCC turns a generic vector conversion of
 * int8 lanes into one vcvtsi2ss per lane, so AVX2 gets the two
 * instructions it has for it: vpmovsxbd, then vcvtdq2ps. */
typedef int8_t v8c __attribute__((vector_size(8)));
static inline __attribute__((always_inline)) v8f v8_load_i8(const int8_t *p)
{
#ifdef __AVX2__
	__m128i c;
	memcpy(&c, p, 8);
	return (v8f)_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(c));
#else
	v8c c;
	memcpy(&c, p, sizeof c);
	return __builtin_convertvector(__builtin_convertvector(c, v8i), v8f);
#endif
}

/* A q8_0 / q4_0 block's f16 scale: one instruction with F16C. */
static inline float v8_half_scale(uint16_t d)
{
#ifdef __F16C__
	return _cvtsh_ss(d);
#else
	return attn_f16_to_f32(d);
#endif
}

static inline void v8_store(float *p, v8f v)
{
	memcpy(p, &v, sizeof v);
}

/* Widen the first multiple of 8 of n f16 values with F16C when the file is
 * compiled without it (the default build's baseline) but the CPU has it, so
 * that the shared code (the CPU backends' K/V loads) keeps its
 * one-instruction conversion; returns how many it widened (0: none). */
#if defined(__x86_64__) || defined(__i386__)
/* Does the CPU have F16C? Clang's __builtin_cpu_supports does not know the
 * name; every CPU with AVX2 has it. */
#ifdef __clang__
#define V8_CPU_HAS_F16C() __builtin_cpu_supports("avx2")
#else
#define V8_CPU_HAS_F16C() __builtin_cpu_supports("f16c")
#endif
#endif

#if (defined(__x86_64__) || defined(__i386__)) && !defined(__F16C__) && defined(__GNUC__)
static inline __attribute__((target("avx,f16c"))) int64_t v8_widen_f16c(float *dst, const uint16_t *src, int64_t n)
{
	int64_t i = 0;
	for (; i + 8 <= n; i += 8) {
		__m128i h;
		memcpy(&h, src + i, sizeof h);
		_mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
	}
	return i;
}

static inline int64_t v8_widen_f16_at_run_time(float *dst, const uint16_t *src, int64_t n)
{
	return V8_CPU_HAS_F16C() ? v8_widen_f16c(dst, src, n) : 0;
}
#else
static inline int64_t v8_widen_f16_at_run_time(float *dst, const uint16_t *src, int64_t n)
{
	(void)dst, (void)src, (void)n;
	return 0; /* F16C compiled in (v8_load_f16), or not an x86 */
}
#endif

/* Widen n elements stored as t into dst (a copy for f32). */
static inline void v8_widen_n(float *dst, const void *src, int64_t n, attn_dtype t)
{
	int64_t i = 0;
	if (t == ATTN_F16) {
		i = v8_widen_f16_at_run_time(dst, src, n);
		for (; i + 8 <= n; i += 8)
			v8_store(dst + i, v8_load_f16((const uint16_t *)src + i));
	} else if (t == ATTN_BF16)
		for (; i + 8 <= n; i += 8)
			v8_store(dst + i, v8_load_bf16((const uint16_t *)src + i));
	/* f32 (a copy) and the tail, scalar */
	if (n > i)
		attn_load_n(dst + i, (const char *)src + (size_t)i * attn_dtype_size(t), (size_t)(n - i), t);
}

/* Widen n rows of D elements stored as t, ld elements apart in src, into
 * dst, D floats apart. */
static inline void v8_widen_rows(float *dst, const void *src, int64_t n, int64_t D, int64_t ld, attn_dtype t)
{
	const size_t row = (size_t)ld * attn_dtype_size(t);
	for (int64_t j = 0; j < n; j++)
		v8_widen_n(dst + j * D, (const char *)src + (size_t)j * row, D, t);
}

/* Pin a value in a register: GCC otherwise folds a load into every use of
 * it (a multiply-add with a memory operand), re-reading the same vector
 * once per use and running out of load slots before multiply-add slots. */
#if defined(__GNUC__) && defined(__AVX__)
#define V8_KEEP(v) __asm__("" : "+v"(v))
#else
#define V8_KEEP(v) ((void)0)
#endif

/* x in every lane. Kernels write a scalar times a vector as v8_set1(x) * v:
 * without AVX (v8f is then two SSE halves in memory) GCC builds both `x * v`
 * and the initializer below by storing x into each lane on the stack and
 * reloading the vector, a store-forwarding stall per use (5x slower
 * kernels); one broadcast of a half, stored twice, avoids it. */
static inline v8f v8_set1(float x)
{
#ifdef __AVX__
	return (v8f){x, x, x, x, x, x, x, x};
#else
	typedef float v4f_ __attribute__((vector_size(16)));
	const v4f_ h = {x, x, x, x};
	v8f v;
	memcpy(&v, &h, sizeof h);
	memcpy((char *)&v + sizeof h, &h, sizeof h);
	return v;
#endif
}

static inline v8f v8_max(v8f a, v8f b)
{
#ifdef __AVX__
	/* maxps gives b unless a > b (NaN and equal zeros included): the rule
	 * below, in one instruction */
	return (v8f)_mm256_max_ps((__m256)a, (__m256)b);
#else
	const v8i gt = a > b;
	return (v8f)((gt & (v8i)a) | (~gt & (v8i)b));
#endif
}

static inline float v8_hsum(v8f v)
{
	const float a = (v[0] + v[4]) + (v[1] + v[5]), b = (v[2] + v[6]) + (v[3] + v[7]);
	return a + b;
}

typedef float v4f __attribute__((vector_size(16)));

/* The four horizontal sums of a, b, c, d as one 4-float vector, sharing the
 * adds (three rounds of pairwise sums, then the two halves). Extracting the
 * lanes one by one instead cost more than the dot products behind them. */
static inline v4f v8_hsum4(v8f a, v8f b, v8f c, v8f d)
{
	const v8f ab = __builtin_shufflevector(a, b, 0, 2, 8, 10, 4, 6, 12, 14) +
	               __builtin_shufflevector(a, b, 1, 3, 9, 11, 5, 7, 13, 15);
	const v8f cd = __builtin_shufflevector(c, d, 0, 2, 8, 10, 4, 6, 12, 14) +
	               __builtin_shufflevector(c, d, 1, 3, 9, 11, 5, 7, 13, 15);
	const v8f all = __builtin_shufflevector(ab, cd, 0, 2, 8, 10, 4, 6, 12, 14) +
	                __builtin_shufflevector(ab, cd, 1, 3, 9, 11, 5, 7, 13, 15);
	/* all = (a0..3, b0..3, c0..3, d0..3 | the same of lanes 4..7) */
	return __builtin_shufflevector(all, all, 0, 1, 2, 3) + __builtin_shufflevector(all, all, 4, 5, 6, 7);
}

/* exp(x) for x <= 0: x = n ln2 + r with |r| <= ln2/2, exp(r) by a degree-6
 * polynomial (Cephes' expf coefficients), 2^n put straight into the exponent
 * bits. ln2 is split in two so that n*ln2 is exact enough for r. Written
 * once for any float vector type F with its int vector type I (v8_exp, and
 * vw_exp below). */
#define SIMD_EXP_BODY(F, I, set1, vmax)                                                                                \
	const F lo = set1(-87.0f);                                                                                     \
	const I keep = ~(x < lo);          /* below lo: 0; NaN is kept and comes out NaN */                            \
	x = vmax(lo, x);                   /* vmax(a, b) is b when either is NaN: NaN stays */                         \
	const F round = set1(12582912.0f); /* 1.5 * 2^23: adding it rounds to an integer */                            \
	F n = (x * 1.44269504088896341f + round) - round;                                                              \
	F r = x - n * 0.693359375f;                                                                                    \
	r = r - n * -2.12194440e-4f;                                                                                   \
	F p = set1(1.9875691500e-4f);                                                                                  \
	p = p * r + 1.3981999507e-3f;                                                                                  \
	p = p * r + 8.3334519073e-3f;                                                                                  \
	p = p * r + 4.1665795894e-2f;                                                                                  \
	p = p * r + 1.6666665459e-1f;                                                                                  \
	p = p * r + 5.0000001201e-1f;                                                                                  \
	p = p * (r * r) + r + 1.0f;                                                                                    \
	const I e = (__builtin_convertvector(n, I) + 127) << 23;                                                       \
	return (F)((I)(p * (F)e) & keep)

static inline v8f v8_exp(v8f x)
{
	SIMD_EXP_BODY(v8f, v8i, v8_set1, v8_max);
}

/* ---- the widest vector of the compilation ----------------------------------
 * vwf is VW floats: 16 (one zmm) where the file is compiled for AVX-512,
 * else a v8f. The decode-shaped kernels (few query rows, each K and V value
 * feeding a few multiply-adds) are bound by how many values an instruction
 * converts and multiplies, so under AVX-512 they take 16 at a time: half the
 * instructions of the 8-wide code for the same bytes. */
#ifdef __AVX512F__
#define VW 16
typedef float vwf __attribute__((vector_size(64)));
typedef int32_t vwi __attribute__((vector_size(64)));

static inline vwf vw_load(const float *p)
{
	vwf v;
	memcpy(&v, p, sizeof v);
	return v;
}

static inline void vw_store(float *p, vwf v)
{
	memcpy(p, &v, sizeof v);
}

static inline vwf vw_set1(float x)
{
	return (vwf)_mm512_set1_ps(x);
}

static inline vwf vw_load_f16(const uint16_t *p)
{
	__m256i h;
	memcpy(&h, p, sizeof h);
	return (vwf)_mm512_cvtph_ps(h);
}

static inline vwf vw_load_bf16(const uint16_t *p)
{
	__m256i h;
	memcpy(&h, p, sizeof h);
	return (vwf)_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16);
}

static inline vwf vw_load_i8(const int8_t *p)
{
	__m128i c;
	memcpy(&c, p, sizeof c);
	return (vwf)_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(c));
}

/* maxps's rule, as v8_max: b unless a > b (NaN and equal zeros included) */
static inline vwf vw_max(vwf a, vwf b)
{
	return (vwf)_mm512_max_ps((__m512)a, (__m512)b);
}

static inline vwf vw_exp(vwf x)
{
	SIMD_EXP_BODY(vwf, vwi, vw_set1, vw_max);
}

/* The two halves added: 8 lanes for the 8-wide reductions (v8_hsum4). */
static inline v8f vw_fold(vwf v)
{
	return __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) +
	       __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
}

/* The sums of 16 vectors in one: lane 4k + m of the result is the sum of
 * the lanes of x[4m + k]. A tree of 15 additions, each of two shuffles of
 * a pair (45 instructions); folding each vector to 8 lanes and reducing
 * those 4 at a time (v8_hsum4) took 76 for the same 16 sums, a quarter of
 * the instructions of a decode's 4 x 4 block of dot products. */
static inline vwf vw_hsum16(const vwf x[16])
{
	vwf u[8], w[4], s[2];
	for (int i = 0; i < 8; i++) /* lanes 0-7: x[2i]'s halves added, 8-15: x[2i+1]'s */
		u[i] = __builtin_shufflevector(x[2 * i], x[2 * i + 1], 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21,
		                               22, 23) +
		       __builtin_shufflevector(x[2 * i], x[2 * i + 1], 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28,
		                               29, 30, 31);
	for (int i = 0; i < 4; i++) /* each group of 4 lanes: one of x[4i..4i+3] */
		w[i] = __builtin_shufflevector(u[2 * i], u[2 * i + 1], 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25,
		                               26, 27) +
		       __builtin_shufflevector(u[2 * i], u[2 * i + 1], 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28,
		                               29, 30, 31);
	for (int i = 0; i < 2; i++) /* group g: two half sums of x[8i+g], two of x[8i+4+g] */
		s[i] = __builtin_shufflevector(w[2 * i], w[2 * i + 1], 0, 2, 16, 18, 4, 6, 20, 22, 8, 10, 24, 26, 12,
		                               14, 28, 30) +
		       __builtin_shufflevector(w[2 * i], w[2 * i + 1], 1, 3, 17, 19, 5, 7, 21, 23, 9, 11, 25, 27, 13,
		                               15, 29, 31);
	return __builtin_shufflevector(s[0], s[1], 0, 2, 16, 18, 4, 6, 20, 22, 8, 10, 24, 26, 12, 14, 28, 30) +
	       __builtin_shufflevector(s[0], s[1], 1, 3, 17, 19, 5, 7, 21, 23, 9, 11, 25, 27, 13, 15, 29, 31);
}
#else
#define VW           8
typedef v8f vwf;
typedef v8i vwi;
#define vw_max       v8_max
#define vw_exp       v8_exp
#define vw_load      v8_load
#define vw_store     v8_store
#define vw_set1      v8_set1
#define vw_load_f16  v8_load_f16
#define vw_load_bf16 v8_load_bf16
#define vw_load_i8   v8_load_i8

static inline v8f vw_fold(vwf v)
{
	return v;
}
#endif

/* VW elements from element c of one row stored as t, widened to f32; the
 * row starts at byte row. q8_0 rows are blocks of 32 (attn_quant.h): c is a
 * multiple of VW, so the VW values sit in one block, times its scale.
 * Meant to be inlined with t a constant. */
static inline __attribute__((always_inline)) vwf vw_load_row(const char *row, int64_t c, attn_dtype t)
{
	if (t == ATTN_Q8_0) {
		const attn_block_q8_0 *blk = (const attn_block_q8_0 *)row + c / ATTN_QBLOCK;
		return vw_load_i8(blk->qs + c % ATTN_QBLOCK) * vw_set1(v8_half_scale(blk->d));
	}
	if (t == ATTN_F16)
		return vw_load_f16((const uint16_t *)row + c);
	if (t == ATTN_BF16)
		return vw_load_bf16((const uint16_t *)row + c);
	vwf v;
	memcpy(&v, row + (size_t)c * sizeof(float), sizeof v);
	return v;
}

/* Element c of such a row, for the tails. */
static inline __attribute__((always_inline)) float vw_load1_row(const char *row, int64_t c, attn_dtype t)
{
	if (t == ATTN_Q8_0) {
		const attn_block_q8_0 *blk = (const attn_block_q8_0 *)row + c / ATTN_QBLOCK;
		return (float)blk->qs[c % ATTN_QBLOCK] * v8_half_scale(blk->d);
	}
	return attn_load(row, (size_t)c, t);
}

#endif
