/* blas.c - attention as two OpenBLAS sgemm calls per (batch, KV head).
 *
 * The query heads of one GQA group are consecutive in q, so they stack into
 * one (ratio * n_q) x head_dim matrix and share a single GEMM against the
 * group's K and V:
 *   S = scale * Qg Kg^T      (sgemm, (ratio*n_q) x n_kv)
 *   P = softmax(mask(S))     (row-wise, in place, OpenMP)
 *   Og = P Vg                (sgemm, (ratio*n_q) x head_dim)
 * The score matrix of one group is the quadratic workspace. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>

#include "cpu_common.h"

static int blas_kernel(cpu_ctx *c, const attn_shape *s, const float *q, const float *k, const float *v,
                       int64_t kv_stride, float *out)
{
	const int64_t B = s->batch, H = s->n_heads, G = s->n_kv_heads, D = s->head_dim;
	const int64_t NQ = s->n_q, NKV = s->n_kv, ratio = H / G, M = ratio * NQ;
	int rc = cpu_workspace(c, (size_t)(M * NKV) * sizeof(float));
	if (rc)
		return rc;
	float *S = c->ws;
	openblas_set_num_threads(c->threads);

	for (int64_t b = 0; b < B; b++) {
		for (int64_t g = 0; g < G; g++) {
			const float *Qg = q + ((b * H + g * ratio) * NQ) * D;
			const float *Kg = k + ((b * G + g) * kv_stride) * D;
			const float *Vg = v + ((b * G + g) * kv_stride) * D;
			float *Og = out + ((b * H + g * ratio) * NQ) * D;

			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)NKV, (int)D, s->scale, Qg,
			            (int)D, Kg, (int)D, 0.0f, S, (int)NKV);
#pragma omp parallel for num_threads(c->threads) schedule(static)
			for (int64_t r = 0; r < M; r++) {
				float *row = S + r * NKV;
				const int64_t visible = attn_visible_keys(s, r % NQ);
				float mx = -INFINITY, sum = 0.0f;
				for (int64_t j = 0; j < visible; j++)
					mx = fmaxf(mx, row[j]);
				for (int64_t j = 0; j < visible; j++) {
					row[j] = expf(row[j] - mx);
					sum += row[j];
				}
				const float inv = 1.0f / sum;
				for (int64_t j = 0; j < visible; j++)
					row[j] *= inv;
				for (int64_t j = visible; j < NKV; j++)
					row[j] = 0.0f;
			}
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)D, (int)NKV, 1.0f, S,
			            (int)NKV, Vg, (int)D, 0.0f, Og, (int)D);
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
	if (!cpu_supports_f32(s, 256, why, why_len))
		return 0;
	const int64_t M = (s->n_heads / s->n_kv_heads) * s->n_q;
	if (M > 2147483647 || s->n_kv > 2147483647) {
		snprintf(why, why_len, "matrix dimensions exceed BLAS int range");
		return 0;
	}
	return 1;
}

/* The score matrix of one GQA group. */
static uint64_t blas_workspace(void *ctx, const attn_shape *s)
{
	(void)ctx;
	return (uint64_t)(s->n_heads / s->n_kv_heads) * (uint64_t)s->n_q * (uint64_t)s->n_kv * sizeof(float);
}

static const attn_backend blas_backend = {
    .abi_version = ATTN_ABI_VERSION,
    .name = "blas",
    .description = "OpenBLAS sgemm for QK^T and PV, GQA heads stacked per GEMM",
    .caps = ATTN_CAP_CAUSAL | ATTN_CAP_GQA | ATTN_CAP_KV_CACHE | ATTN_CAP_THREADS,
    .create = blas_create,
    .supports = blas_supports,
    .workspace_bytes = blas_workspace,
    CPU_SHARED_ENTRY_POINTS,
};

const attn_backend *attn_backend_blas(void)
{
	return &blas_backend;
}
