/* blas.c - attention as OpenBLAS sgemm calls on blocks of query rows.
 *
 * The query heads of one GQA group are consecutive in q, so their rows form
 * one (ratio * n_q) x head_dim matrix Qg against the group's K and V. It is
 * taken in blocks of about QB rows (whole heads when n_q is small, as in
 * decode, so that the group shares one GEMM; otherwise QB queries of one
 * head), and for each block
 *   S = scale * Qb K[0:n]^T     (sgemm; n = keys the block's last row sees)
 *   P = softmax(mask(S))        (row-wise, in place, vector exp)
 *   Ob = P V[0:n]               (sgemm)
 * Under a causal mask a block stops at its last visible key, so the masked
 * upper triangle is mostly never computed (only within the diagonal
 * blocks), and the score workspace is QB x n_kv instead of the whole
 * group's score matrix.
 *
 * sgemm reads f32 only: with f16 or bf16 storage, the group's K and V rows
 * and each block's Q rows are widened into f32 workspace buffers first (one
 * pass over a head's K and V per group, vectorized, see simd.h), and the
 * GEMMs run on those. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>

#include "cpu_common.h"
#include "simd.h"

#define QB 512 /* rows per block: large enough for sgemm to run near its peak */

/* Row softmax over the first vis entries of row (length n); the rest -> 0. */
static void softmax_row(float *row, int64_t vis, int64_t n)
{
	v8f mx8 = v8_set1(-INFINITY);
	int64_t j = 0;
	for (; j + 8 <= vis; j += 8)
		mx8 = v8_max(mx8, v8_load(row + j));
	float mx = -INFINITY;
	for (int u = 0; u < 8; u++)
		mx = fmaxf(mx, mx8[u]);
	for (; j < vis; j++)
		mx = fmaxf(mx, row[j]);
	v8f sum8 = v8_set1(0.0f);
	for (j = 0; j + 8 <= vis; j += 8) {
		const v8f p = v8_exp(v8_load(row + j) - mx);
		v8_store(row + j, p);
		sum8 += p;
	}
	float sum = v8_hsum(sum8);
	for (; j < vis; j++) {
		row[j] = expf(row[j] - mx);
		sum += row[j];
	}
	const float inv = 1.0f / sum;
	for (j = 0; j < vis; j++)
		row[j] *= inv;
	for (; j < n; j++)
		row[j] = 0.0f;
}

/* Rows per block: up to QB queries of one head, or as many whole heads of
 * the group as fit in QB rows (at least one) when a head has few queries. */
static int64_t block_rows(const attn_shape *s)
{
	const int64_t NQ = s->n_q, ratio = s->n_heads / s->n_kv_heads;
	if (NQ > QB)
		return QB;
	const int64_t heads = QB / NQ < 1 ? 1 : (QB / NQ > ratio ? ratio : QB / NQ);
	return NQ * heads;
}

/* Floats of workspace: the scores of one block of rows, and with f16/bf16
 * storage the f32 copies of one block's Q and one group's K and V. */
static size_t blas_ws_floats(const attn_shape *s)
{
	const size_t rows = (size_t)block_rows(s);
	size_t n = rows * (size_t)s->n_kv;
	if (s->dtype != ATTN_F32)
		n += (rows + 2 * (size_t)s->n_kv) * (size_t)s->head_dim;
	return n;
}

static int blas_kernel(cpu_ctx *c, const attn_shape *s, const void *q, const cpu_kv *kv, float *out)
{
	const void *k = kv->k, *v = kv->v;
	const int64_t kv_stride = kv->stride, ld = (int64_t)(kv->k_pitch / attn_dtype_size(s->dtype));
	const int64_t B = s->batch, H = s->n_heads, G = s->n_kv_heads, D = s->head_dim;
	const int64_t NQ = s->n_q, NKV = s->n_kv, ratio = H / G, M = ratio * NQ;
	const int64_t rows = block_rows(s);
	const attn_dtype dt = s->dtype;
	const size_t esz = attn_dtype_size(dt);
	int rc = cpu_workspace(c, blas_ws_floats(s) * sizeof(float));
	if (rc)
		return rc;
	float *S = c->ws;
	float *Qw = S + rows * NKV, *Kw = Qw + rows * D, *Vw = Kw + NKV * D; /* f16/bf16 only */
	openblas_set_num_threads(c->threads);

	for (int64_t b = 0; b < B; b++) {
		for (int64_t g = 0; g < G; g++) {
			const size_t qoff = (size_t)((b * H + g * ratio) * NQ * D),
			             kvoff = (size_t)((b * G + g) * kv_stride * ld);
			const float *Kg, *Vg;
			int64_t ldkv = ld; /* floats between K (V) rows as sgemm reads them */
			if (dt == ATTN_F32) {
				Kg = (const float *)k + kvoff;
				Vg = (const float *)v + kvoff;
			} else {
				/* the rows any block of the group reads: all NKV keys */
				v8_widen_rows(Kw, (const char *)k + kvoff * esz, NKV, D, ld, dt);
				v8_widen_rows(Vw, (const char *)v + kvoff * esz, NKV, D, ld, dt);
				Kg = Kw;
				Vg = Vw;
				ldkv = D;
			}
			float *Og = out + ((b * H + g * ratio) * NQ) * D;
			for (int64_t r0 = 0; r0 < M;) {
				/* a block never straddles a head boundary unless it holds whole heads */
				int64_t r1 = r0 + rows < M ? r0 + rows : M;
				if (NQ > QB && r1 / NQ != r0 / NQ)
					r1 = (r0 / NQ + 1) * NQ;
				const int64_t nr = r1 - r0;
				int64_t n = 0; /* keys the block's rows see at most */
				for (int64_t r = r0; r < r1 && n < NKV; r++) {
					const int64_t vis = attn_visible_keys(s, r % NQ);
					n = vis > n ? vis : n;
				}
				const float *Qb = (const float *)q + qoff + r0 * D;
				if (dt != ATTN_F32) {
					v8_widen_rows(Qw, (const char *)q + (qoff + (size_t)(r0 * D)) * esz, nr, D, D,
					              dt);
					Qb = Qw;
				}
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nr, (int)n, (int)D, s->scale,
				            Qb, (int)D, Kg, (int)ldkv, 0.0f, S, (int)n);
				/* one thread: OpenBLAS's own threads spin for a while after
				 * each sgemm, and an OpenMP team here would fight them for
				 * the cores (measured: 37 instead of 125 GFLOP/s on 2 cores) */
				for (int64_t r = r0; r < r1; r++)
					softmax_row(S + (r - r0) * n, attn_visible_keys(s, r % NQ), n);
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nr, (int)D, (int)n, 1.0f, S,
				            (int)n, Vg, (int)ldkv, 0.0f, Og + r0 * D, (int)D);
				r0 = r1;
			}
		}
	}
	return ATTN_OK;
}

static int blas_create(const attn_config *cfg, void **ctx, char *err, size_t err_len)
{
	return cpu_create(cfg, blas_kernel, 0, ctx, err, err_len);
}

static int blas_supports(void *ctx, const attn_shape *s, char *why, size_t why_len)
{
	(void)ctx;
	if (!cpu_supports(s, 256, why, why_len))
		return 0;
	const int64_t M = (s->n_heads / s->n_kv_heads) * s->n_q;
	if (M > 2147483647 || s->n_kv > 2147483647) {
		snprintf(why, why_len, "matrix dimensions exceed BLAS int range");
		return 0;
	}
	return 1;
}

/* The scores of one block of rows, and the f32 copies for 16-bit storage. */
static uint64_t blas_workspace(void *ctx, const attn_shape *s)
{
	(void)ctx;
	return (uint64_t)blas_ws_floats(s) * sizeof(float);
}

static const attn_backend blas_backend = {
    .abi_version = ATTN_ABI_VERSION,
    .name = "blas",
    .description = "OpenBLAS sgemm for QK^T and PV on row blocks, causal blocks stop at the diagonal",
    .caps = ATTN_CAP_CAUSAL | ATTN_CAP_GQA | ATTN_CAP_KV_CACHE | ATTN_CAP_THREADS | ATTN_CAP_F16 | ATTN_CAP_BF16,
    .create = blas_create,
    .supports = blas_supports,
    .workspace_bytes = blas_workspace,
    CPU_SHARED_ENTRY_POINTS,
};

const attn_backend *attn_backend_blas(void)
{
	return &blas_backend;
}
