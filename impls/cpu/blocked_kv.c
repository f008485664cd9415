/* blocked_kv.c - K and V tiles for the blocked kernels (see blocked.h).
 *
 * The kernels read f32, f16 and bf16 rows in place, widening 16-bit values
 * in registers. Everything else becomes an f32 tile first: quantized rows
 * (q8_0, q4_0, fp8_e4m3) are dequantized, and paged rows gathered through
 * the block table, one tile at a time into a scratch tile of the task that
 * stays in L1/L2 while the tile's scores and P V use it. Each stored row is
 * then dequantized once per task; the kernels see only f32 and need no
 * variant per storage type. */
#include "attn_quant.h"
#include "blocked.h"
#include "simd.h"

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
	cpu_kv_load_rows(scratch, kv, v, b, g, j0, n, width);
	*dt = ATTN_F32;
	*ld = width;
	return scratch;
}
