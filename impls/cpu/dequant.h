/* dequant.h - K and V rows of any storage type to f32 rows, vectorised.
 *
 * Everything here is inline so that each file that includes it gets the
 * instructions of its own compilation: cpu_common.c (naive's and blas's
 * loads) is built for the baseline, blocked_tile.c once per instruction set
 * (the Makefile), where the same source becomes AVX2 or AVX-512 code. A
 * q8_0 row dequantized by baseline SSE2 code ran at a tenth of the AVX-512
 * rate (int8 to float needs SSE4.1's pmovsxbd; without it GCC unpacks byte
 * by byte), which made a quantized decode compute-bound.
 *
 * The values are exactly attn_dequantize_row's (attn_quant.h), the scalar
 * definition the tests compare with. */
#ifndef ATTN_DEQUANT_H
#define ATTN_DEQUANT_H

#include "attn_quant.h"
#include "cpu_kv.h"
#include "simd.h"

typedef uint8_t v8b __attribute__((vector_size(8)));

/* q8_0, a block of 32: four loads of 8 int8, widened to floats, times the
 * block's scale. */
static inline __attribute__((always_inline)) void dq_q8_0(float *dst, const void *src, int64_t n)
{
	for (int64_t i = 0; i < n / ATTN_QBLOCK; i++) {
		const attn_block_q8_0 *blk = (const attn_block_q8_0 *)src + i;
		const v8f d = v8_set1(v8_half_scale(blk->d));
		for (int u = 0; u < 4; u++)
			v8_store(dst + i * ATTN_QBLOCK + 8 * u, v8_load_i8(blk->qs + 8 * u) * d);
	}
}

/* q4_0: the low nibbles of a block's 16 bytes are elements 0..15, the high
 * nibbles 16..31, each minus 8. */
static inline __attribute__((always_inline)) void dq_q4_0(float *dst, const void *src, int64_t n)
{
	for (int64_t i = 0; i < n / ATTN_QBLOCK; i++) {
		const attn_block_q4_0 *blk = (const attn_block_q4_0 *)src + i;
		const v8f d = v8_set1(v8_half_scale(blk->d));
		for (int u = 0; u < 2; u++) {
			v8b c;
			memcpy(&c, blk->qs + 8 * u, sizeof c);
			const v8i lo = __builtin_convertvector(c & 15, v8i) - 8,
			          hi = __builtin_convertvector(c >> 4, v8i) - 8;
			v8_store(dst + i * ATTN_QBLOCK + 8 * u, __builtin_convertvector(lo, v8f) * d);
			v8_store(dst + i * ATTN_QBLOCK + 16 + 8 * u, __builtin_convertvector(hi, v8f) * d);
		}
	}
}

/* fp8_e4m3 has 256 values: a lookup per byte beats decoding the bits.
 * The table is filled once, on first use. */
const float *cpu_fp8_table(void);

/* Every f16 value as f32 (65536 entries, 256 KiB), filled once on first
 * use: the scale of a q8_0 block, read in place by blocked's kernels, is a
 * load and a broadcast from here. Converting it in registers (an insert,
 * vcvtph2ps and a broadcast, all on the vector ports the multiply-adds
 * need) cost a quarter as many instructions again as the block's
 * dequantizing and multiply-adds; a block's scales are few distinct values,
 * so the lines read stay in cache. */
const float *cpu_half_table(void);

/* One stored row of n elements (any KV storage type) to f32. */
static inline __attribute__((always_inline)) void dq_row(float *dst, const void *src, int64_t n, attn_dtype dt,
                                                         const float *fp8)
{
	switch (dt) {
	case ATTN_Q8_0:
		dq_q8_0(dst, src, n);
		break;
	case ATTN_Q4_0:
		dq_q4_0(dst, src, n);
		break;
	case ATTN_FP8_E4M3:
		for (int64_t i = 0; i < n; i++)
			dst[i] = fp8[((const uint8_t *)src)[i]];
		break;
	default:
		v8_widen_n(dst, src, n, dt);
		break;
	}
}

/* cpu_kv_load_rows (cpu_common.h): rows [j0, j0 + n) of K or V of head
 * (b, g) to f32, width floats apart. One branch on the storage type per
 * call, not per row, so that each row's loop is the storage type's own. */
static inline __attribute__((always_inline)) void dq_rows(float *dst, const cpu_kv *kv, int is_v, int64_t b, int64_t g,
                                                          int64_t j0, int64_t n, int64_t width)
{
	if (!kv->paged && attn_dtype_known(kv->dt)) { /* rows pitch apart: the widening loads */
		const size_t pitch = is_v ? kv->v_pitch : kv->k_pitch, esz = attn_dtype_size(kv->dt);
		const void *src = is_v ? cpu_kv_v(kv, b, g, j0) : cpu_kv_k(kv, b, g, j0);
		if (pitch % esz == 0) {
			v8_widen_rows(dst, src, n, width, (int64_t)(pitch / esz), kv->dt);
			return;
		}
	}
	const float *fp8 = kv->dt == ATTN_FP8_E4M3 ? cpu_fp8_table() : NULL;
#define DQ_ROWS(dt_)                                                                                                   \
	for (int64_t j = 0; j < n; j++)                                                                                \
	dq_row(dst + j * width, is_v ? cpu_kv_v(kv, b, g, j0 + j) : cpu_kv_k(kv, b, g, j0 + j), width, dt_, fp8)
	switch (kv->dt) {
	case ATTN_Q8_0:
		DQ_ROWS(ATTN_Q8_0);
		break;
	case ATTN_Q4_0:
		DQ_ROWS(ATTN_Q4_0);
		break;
	default: /* fp8, and 16-bit or f32 rows in pages */
		DQ_ROWS(kv->dt);
		break;
	}
#undef DQ_ROWS
}

#endif
