/*
 * attn_half.h - the 16-bit storage types: sizes and scalar conversions.
 *
 * Header-only, shared by the harness (which rounds f32 data into a storage
 * type) and by the backends (which widen it back to f32 to compute).
 *
 * Narrowing (f32 -> f16, f32 -> bf16) rounds to nearest, ties to even, the
 * IEEE 754 default and what NumPy's astype(float16) does:
 *   - f16: magnitudes from 65520 up become Inf, tiny values become f16
 *     subnormals or signed zero;
 *   - bf16: keeps the f32 exponent, so only the mantissa is rounded; values
 *     that round past the largest finite bf16 become Inf.
 * A NaN stays a NaN (made quiet, sign kept). Widening is exact.
 */
#ifndef ATTN_HALF_H
#define ATTN_HALF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "attnbench.h"

/* Is t one of the storage types (f32, f16, bf16)? */
static inline int attn_dtype_known(attn_dtype t)
{
	return t == ATTN_F32 || t == ATTN_F16 || t == ATTN_BF16;
}

/* The storage type named "f32", "f16" or "bf16" (the names of results.csv
 * and the manifest) into *t; returns 0 for any other name. */
static inline int attn_dtype_parse(const char *name, attn_dtype *t)
{
	if (!strcmp(name, "f32"))
		*t = ATTN_F32;
	else if (!strcmp(name, "f16"))
		*t = ATTN_F16;
	else if (!strcmp(name, "bf16"))
		*t = ATTN_BF16;
	else
		return 0;
	return 1;
}

/* Bytes of one stored element. */
static inline size_t attn_dtype_size(attn_dtype t)
{
	return t == ATTN_F32 ? 4 : 2;
}

static inline uint32_t attn_f32_bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof u);
	return u;
}

static inline float attn_bits_f32(uint32_t u)
{
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

static inline float attn_bf16_to_f32(uint16_t h)
{
	return attn_bits_f32((uint32_t)h << 16);
}

static inline uint16_t attn_f32_to_bf16(float f)
{
	const uint32_t u = attn_f32_bits(f);
	if ((u & 0x7fffffffu) > 0x7f800000u) /* NaN: keep sign and top payload, set quiet */
		return (uint16_t)((u >> 16) | 0x0040u);
	return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

static inline float attn_f16_to_f32(uint16_t h)
{
	const uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
	if (exp == 0x1f) /* Inf or NaN */
		return attn_bits_f32(sign | 0x7f800000u | man << 13);
	if (exp == 0) { /* zero or subnormal: man * 2^-24, exact in f32 */
		const float v = (float)man * 0x1p-24f;
		return sign ? -v : v;
	}
	return attn_bits_f32(sign | (exp + 112u) << 23 | man << 13);
}

static inline uint16_t attn_f32_to_f16(float f)
{
	const uint32_t u = attn_f32_bits(f), sign = (u >> 16) & 0x8000u, a = u & 0x7fffffffu;
	if (a > 0x7f800000u) /* NaN: quiet, top payload bits kept */
		return (uint16_t)(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
	if (a >= 0x477ff000u) /* >= 65520 (Inf included) rounds to Inf */
		return (uint16_t)(sign | 0x7c00u);
	if (a >= 0x38800000u) { /* normal in f16: rebias, round the 13 dropped bits */
		const uint32_t r = a - 0x38000000u;
		return (uint16_t)(sign | ((r + 0x0fffu + ((r >> 13) & 1u)) >> 13));
	}
	const uint32_t e = a >> 23;
	if (e < 102) /* below 2^-25: rounds to zero */
		return (uint16_t)sign;
	/* subnormal: count of 2^-24 units, rounded to nearest even; a carry to
	 * 0x400 is the smallest normal, which is the right encoding */
	const uint32_t m = (a & 0x7fffffu) | 0x800000u, shift = 126 - e;
	uint32_t q = m >> shift;
	const uint32_t rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
	if (rem > half || (rem == half && (q & 1u)))
		q++;
	return (uint16_t)(sign | q);
}

/* Element i of an array stored as t, widened to f32. */
static inline float attn_load(const void *p, size_t i, attn_dtype t)
{
	if (t == ATTN_F16)
		return attn_f16_to_f32(((const uint16_t *)p)[i]);
	if (t == ATTN_BF16)
		return attn_bf16_to_f32(((const uint16_t *)p)[i]);
	return ((const float *)p)[i];
}

/* Round n floats into dst stored as t (a copy for f32). */
static inline void attn_store_n(void *dst, const float *src, size_t n, attn_dtype t)
{
	if (t == ATTN_F32) {
		if (n)
			memcpy(dst, src, n * sizeof(float));
		return;
	}
	uint16_t *d = dst;
	for (size_t i = 0; i < n; i++)
		d[i] = t == ATTN_F16 ? attn_f32_to_f16(src[i]) : attn_f32_to_bf16(src[i]);
}

/* Widen n elements stored as t into dst (a copy for f32). */
static inline void attn_load_n(float *dst, const void *src, size_t n, attn_dtype t)
{
	if (t == ATTN_F32) {
		if (n)
			memcpy(dst, src, n * sizeof(float));
		return;
	}
	for (size_t i = 0; i < n; i++)
		dst[i] = attn_load(src, i, t);
}

#endif /* ATTN_HALF_H */
