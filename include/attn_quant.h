/*
 * attn_quant.h - the quantized KV-cache storage types (ABI 3): their block
 * layouts, sizes, and the reference quantizers and dequantizers.
 *
 * Header-only, the one definition of these formats for the harness (which
 * quantizes a case's k and v), the built-in backends (which dequantize them
 * inside their kernels) and anyone's plugin.
 *
 *   q8_0      llama.cpp's block of 32: an f16 scale d = max|x| / 127, then 32
 *             int8 q = round(x / d) (half away from zero); x = q * d.
 *             34 bytes per 32 elements.
 *   q4_0      llama.cpp's block of 32: an f16 scale d = m / -8, where m is the
 *             element of largest magnitude (sign kept), then 16 bytes whose
 *             low nibble holds element j and high nibble element j + 16, each
 *             min(15, trunc(x / d + 8.5)); x = (nibble - 8) * d.
 *             18 bytes per 32 elements.
 *   fp8_e4m3  OCP FP8 E4M3FN: 1 sign, 4 exponent (bias 7), 3 mantissa bits, no
 *             infinities, 0x7F / 0xFF is NaN, largest finite 448. Narrowing
 *             rounds to nearest even and saturates at +-448 (infinities too);
 *             NaN stays NaN. One byte per element, no scale.
 * Both block formats are bit-exact with llama.cpp's reference quantizers
 * (quantize_row_q8_0_ref, quantize_row_q4_0_ref): the scale is computed in
 * f32 and stored rounded to f16, the elements use the unrounded scale. A row
 * of a block format must hold a multiple of 32 elements. NaN inputs, which
 * llama.cpp leaves undefined, quantize to 0 here.
 */
#ifndef ATTN_QUANT_H
#define ATTN_QUANT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "attn_half.h"
#include "attnbench.h"

#define ATTN_QBLOCK 32 /* elements per q8_0 / q4_0 block */

typedef struct attn_block_q8_0 {
	uint16_t d; /* f16 scale */
	int8_t qs[ATTN_QBLOCK];
} attn_block_q8_0;

typedef struct attn_block_q4_0 {
	uint16_t d;                  /* f16 scale */
	uint8_t qs[ATTN_QBLOCK / 2]; /* element j: low nibble of qs[j]; j + 16: high */
} attn_block_q4_0;

_Static_assert(sizeof(attn_block_q8_0) == 34, "q8_0 block is 34 bytes");
_Static_assert(sizeof(attn_block_q4_0) == 18, "q4_0 block is 18 bytes");

/* Is t a type k, v and the cache may be stored in? */
static inline int attn_kv_dtype_known(attn_dtype t)
{
	return attn_dtype_known(t) || t == ATTN_Q8_0 || t == ATTN_Q4_0 || t == ATTN_FP8_E4M3;
}

/* Is t one of the block formats (rows in multiples of 32)? */
static inline int attn_dtype_blocked(attn_dtype t)
{
	return t == ATTN_Q8_0 || t == ATTN_Q4_0;
}

/* Every storage name, "f32" .. "fp8_e4m3" (results.csv, the manifest). */
static inline const char *attn_kv_dtype_name(attn_dtype t)
{
	switch (t) {
	case ATTN_F32:
		return "f32";
	case ATTN_F16:
		return "f16";
	case ATTN_BF16:
		return "bf16";
	case ATTN_Q8_0:
		return "q8_0";
	case ATTN_Q4_0:
		return "q4_0";
	case ATTN_FP8_E4M3:
		return "fp8_e4m3";
	}
	return "?";
}

static inline int attn_kv_dtype_parse(const char *name, attn_dtype *t)
{
	for (int i = ATTN_F32; i <= ATTN_FP8_E4M3; i++)
		if (!strcmp(name, attn_kv_dtype_name((attn_dtype)i))) {
			*t = (attn_dtype)i;
			return 1;
		}
	return 0;
}

/* Bytes of a row of n elements stored as t (n a multiple of 32 for the
 * block formats). */
static inline size_t attn_row_bytes(attn_dtype t, int64_t n)
{
	switch (t) {
	case ATTN_Q8_0:
		return (size_t)n / ATTN_QBLOCK * sizeof(attn_block_q8_0);
	case ATTN_Q4_0:
		return (size_t)n / ATTN_QBLOCK * sizeof(attn_block_q4_0);
	case ATTN_FP8_E4M3:
		return (size_t)n;
	default:
		return (size_t)n * attn_dtype_size(t);
	}
}

/* ---- fp8 e4m3 ------------------------------------------------------------ */

static inline float attn_fp8_to_f32(uint8_t b)
{
	const int e = (b >> 3) & 15, m = b & 7;
	float x;
	if (e == 15 && m == 7)
		x = NAN;
	else if (e == 0)
		x = ldexpf((float)m, -9); /* subnormal: m/8 * 2^-6 */
	else
		x = ldexpf((float)(8 + m), e - 10); /* (1 + m/8) * 2^(e-7) */
	return (b & 0x80) ? -x : x;
}

static inline uint8_t attn_f32_to_fp8(float f)
{
	const uint8_t sign = signbit(f) ? 0x80 : 0;
	if (isnan(f))
		return sign | 0x7F;
	const float a = fabsf(f);
	if (a == 0.0f)
		return sign;
	if (a >= 448.0f)
		return sign | 0x7E; /* saturate, infinities included */
	int k;
	frexpf(a, &k); /* a = f * 2^k, f in [0.5, 1) */
	int e = k - 1; /* a in [2^e, 2^(e+1)) */
	if (e < -6)
		e = -6; /* subnormals share the smallest normal's quantum */
	/* q counts quanta of 2^(e-3); rintf rounds to nearest even. A normal
	 * value gives q in [8, 16], and q == 16 carries into the exponent by
	 * itself in the encoding below; a subnormal gives q in [0, 8]. */
	const int q = (int)rintf(ldexpf(a, 3 - e));
	int bits = e == -6 && q < 8 ? q : ((e + 7) << 3) + (q - 8);
	if (bits > 0x7E)
		bits = 0x7E; /* rounded past 448 */
	return sign | (uint8_t)bits;
}

/* ---- block formats --------------------------------------------------------- */

static inline void attn_quantize_q8_0(const float *x, attn_block_q8_0 *y)
{
	float amax = 0.0f;
	for (int j = 0; j < ATTN_QBLOCK; j++)
		if (fabsf(x[j]) > amax)
			amax = fabsf(x[j]);
	const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
	y->d = attn_f32_to_f16(d);
	for (int j = 0; j < ATTN_QBLOCK; j++) {
		const float v = x[j] * id;
		y->qs[j] = isnan(v) ? 0 : (int8_t)roundf(v);
	}
}

static inline void attn_quantize_q4_0(const float *x, attn_block_q4_0 *y)
{
	float amax = 0.0f, max = 0.0f;
	for (int j = 0; j < ATTN_QBLOCK; j++)
		if (fabsf(x[j]) > amax) {
			amax = fabsf(x[j]);
			max = x[j];
		}
	const float d = max / -8.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
	y->d = attn_f32_to_f16(d);
	for (int j = 0; j < ATTN_QBLOCK / 2; j++) {
		const float v0 = x[j] * id + 8.5f, v1 = x[ATTN_QBLOCK / 2 + j] * id + 8.5f;
		const int q0 = isnan(v0) ? 8 : (int)v0, q1 = isnan(v1) ? 8 : (int)v1;
		y->qs[j] = (uint8_t)((q0 < 15 ? q0 : 15) | (q1 < 15 ? q1 : 15) << 4);
	}
}

/* Store n floats as t into dst (attn_row_bytes(t, n) bytes). */
static inline void attn_quantize_row(void *dst, const float *src, int64_t n, attn_dtype t)
{
	if (t == ATTN_Q8_0)
		for (int64_t i = 0; i < n / ATTN_QBLOCK; i++)
			attn_quantize_q8_0(src + i * ATTN_QBLOCK, (attn_block_q8_0 *)dst + i);
	else if (t == ATTN_Q4_0)
		for (int64_t i = 0; i < n / ATTN_QBLOCK; i++)
			attn_quantize_q4_0(src + i * ATTN_QBLOCK, (attn_block_q4_0 *)dst + i);
	else if (t == ATTN_FP8_E4M3)
		for (int64_t i = 0; i < n; i++)
			((uint8_t *)dst)[i] = attn_f32_to_fp8(src[i]);
	else
		attn_store_n(dst, src, (size_t)n, t);
}

/* Widen a row of n elements stored as t (any storage type) to f32. */
static inline void attn_dequantize_row(float *dst, const void *src, int64_t n, attn_dtype t)
{
	if (t == ATTN_Q8_0)
		for (int64_t i = 0; i < n / ATTN_QBLOCK; i++) {
			const attn_block_q8_0 *b = (const attn_block_q8_0 *)src + i;
			const float d = attn_f16_to_f32(b->d);
			for (int j = 0; j < ATTN_QBLOCK; j++)
				dst[i * ATTN_QBLOCK + j] = (float)b->qs[j] * d;
		}
	else if (t == ATTN_Q4_0)
		for (int64_t i = 0; i < n / ATTN_QBLOCK; i++) {
			const attn_block_q4_0 *b = (const attn_block_q4_0 *)src + i;
			const float d = attn_f16_to_f32(b->d);
			for (int j = 0; j < ATTN_QBLOCK / 2; j++) {
				dst[i * ATTN_QBLOCK + j] = (float)((b->qs[j] & 0x0F) - 8) * d;
				dst[i * ATTN_QBLOCK + ATTN_QBLOCK / 2 + j] = (float)((b->qs[j] >> 4) - 8) * d;
			}
		}
	else if (t == ATTN_FP8_E4M3)
		for (int64_t i = 0; i < n; i++)
			dst[i] = attn_fp8_to_f32(((const uint8_t *)src)[i]);
	else
		attn_load_n(dst, src, (size_t)n, t);
}

#endif /* ATTN_QUANT_H */
