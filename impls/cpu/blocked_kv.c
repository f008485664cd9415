/* blocked_kv.c - K and V tiles for the blocked kernels (see blocked.h).
 *
 * The kernels read f32, f16 and bf16 rows in place, widening 16-bit values
 * in registers. Everything else becomes an f32 tile first: quantized rows
 * (q8_0, q4_0, fp8_e4m3) are dequantized, and paged rows gathered through
 * the block table, one tile at a time into a scratch tile of the task that
 * stays in L1/L2 while the tile's scores and P V use it. Each stored row is
 * then dequantized once per task; the kernels see only f32 and need no
 * variant per storage type. */
#include <pthread.h>
#include <string.h>

#include "attn_quant.h"
#include "blocked.h"
#include "simd.h"

typedef int8_t v8c __attribute__((vector_size(8)));
typedef uint8_t v8b __attribute__((vector_size(8)));

/* One q8_0 block of 32: four loads of 8 int8, each sign-extended and
 * converted to floats in two instructions (vpmovsxbd, vcvtdq2ps), times
 * the block's scale. */
static void dequant_q8_0(float *dst, const void *src, int64_t n)
{
	for (int64_t i = 0; i < n / ATTN_QBLOCK; i++) {
		const attn_block_q8_0 *blk = (const attn_block_q8_0 *)src + i;
		const v8f d = v8_set1(attn_f16_to_f32(blk->d));
		for (int u = 0; u < 4; u++) {
			v8c c;
			memcpy(&c, blk->qs + 8 * u, sizeof c);
			v8_store(dst + i * ATTN_QBLOCK + 8 * u, __builtin_convertvector(c, v8f) * d);
		}
	}
}

/* One q4_0 block: the low nibbles of its 16 bytes are elements 0..15, the
 * high nibbles 16..31, each minus 8. */
static void dequant_q4_0(float *dst, const void *src, int64_t n)
{
	for (int64_t i = 0; i < n / ATTN_QBLOCK; i++) {
		const attn_block_q4_0 *blk = (const attn_block_q4_0 *)src + i;
		const v8f d = v8_set1(attn_f16_to_f32(blk->d));
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

/* fp8 has 256 values: a table lookup per byte beats decoding the bits. */
static float fp8_table[256];
static pthread_once_t fp8_once = PTHREAD_ONCE_INIT;

static void fp8_init(void)
{
	for (int i = 0; i < 256; i++)
		fp8_table[i] = attn_fp8_to_f32((uint8_t)i);
}

static void dequant_row(float *dst, const void *src, int64_t n, attn_dtype dt)
{
	switch (dt) {
	case ATTN_Q8_0:
		dequant_q8_0(dst, src, n);
		break;
	case ATTN_Q4_0:
		dequant_q4_0(dst, src, n);
		break;
	case ATTN_FP8_E4M3:
		pthread_once(&fp8_once, fp8_init);
		for (int64_t i = 0; i < n; i++)
			dst[i] = fp8_table[((const uint8_t *)src)[i]];
		break;
	default:
		v8_widen_n(dst, src, n, dt);
		break;
	}
}

int bk_in_place(const cpu_kv *kv)
{
	return !kv->paged && attn_dtype_known(kv->dt) && kv->k_pitch % attn_dtype_size(kv->dt) == 0 &&
	       kv->v_pitch % attn_dtype_size(kv->dt) == 0;
}

const void *bk_tile(const cpu_kv *kv, int v, int64_t b, int64_t g, int64_t j0, int64_t n, int64_t width, float *scratch,
                    int64_t *ld, attn_dtype *dt)
{
	if (bk_in_place(kv)) {
		*dt = kv->dt;
		*ld = (int64_t)((v ? kv->v_pitch : kv->k_pitch) / attn_dtype_size(kv->dt));
		return v ? cpu_kv_v(kv, b, g, j0) : cpu_kv_k(kv, b, g, j0);
	}
	/* row by row: the rows of a paged tile may sit in different pages */
	for (int64_t j = 0; j < n; j++)
		dequant_row(scratch + j * width, v ? cpu_kv_v(kv, b, g, j0 + j) : cpu_kv_k(kv, b, g, j0 + j), width,
		            kv->dt);
	*dt = ATTN_F32;
	*ld = width;
	return scratch;
}
