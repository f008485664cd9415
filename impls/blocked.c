/* blocked.c - flash-attention-style tiling with an online softmax.
 *
 * Work is split into tasks of (batch, KV head, block of tile_q queries) and
 * spread over OpenMP threads. A task walks the keys in tiles of tile_kv: it
 * copies the K tile transposed (head_dim x tile_kv) and then, for every query
 * head of the GQA group and every query of the block, updates a running
 * maximum m, running sum l and unnormalised output acc:
 *   s_j  = scale * q . k_j                 (masked keys: skipped)
 *   m'   = max(m, max_j s_j)
 *   acc  = acc * exp(m - m') + sum_j exp(s_j - m') v_j
 *   l    = l   * exp(m - m') + sum_j exp(s_j - m')
 * and writes acc / l at the end. The n x n score matrix never exists; the
 * workspace is O(tile) per thread. Queries go four at a time through the
 * inner loops so that each K and V element loaded serves four rows. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <omp.h>

#include "cpu_common.h"

#define ROWS 4 /* query rows sharing each load in the inner loops */

/* Per-thread scratch: Kt [D][bk], s [ROWS][bk], and per row of the task
 * (ratio * tile_q rows): m, l and acc [D]. */
static size_t thread_floats(const cpu_ctx *c, const attn_shape *s)
{
	const size_t D = (size_t)s->head_dim, bk = (size_t)c->tile_kv;
	const size_t rows = (size_t)(s->n_heads / s->n_kv_heads) * (size_t)c->tile_q;
	size_t n = D * bk + ROWS * bk + rows * (D + 2);
	return (n + 15) & ~(size_t)15; /* keep each thread's slice 64-byte aligned */
}

/* Scores of nr (1..ROWS) query rows against one transposed K tile. */
static void tile_scores(const float *const *qr, int nr, const float *Kt, int64_t D, int64_t bk, float scale, float *sc)
{
	for (int r = 0; r < nr; r++)
		memset(sc + r * bk, 0, (size_t)bk * sizeof(float));
	for (int64_t c = 0; c < D; c++) {
		const float *kt = Kt + c * bk;
		for (int r = 0; r < nr; r++) {
			const float qc = qr[r][c];
			float *srow = sc + r * bk;
#pragma omp simd
			for (int64_t j = 0; j < bk; j++)
				srow[j] += qc * kt[j];
		}
	}
	for (int r = 0; r < nr; r++)
		for (int64_t j = 0; j < bk; j++)
			sc[r * bk + j] *= scale;
}

/* The same from K rows as stored (no transpose): cheaper when few query rows
 * share the tile, as in decode, where the transpose would cost more than the
 * dot products it speeds up. */
static void tile_scores_direct(const float *const *qr, int nr, const float *K, int64_t D, int64_t bk, float scale,
                               float *sc)
{
	for (int r = 0; r < nr; r++) {
		for (int64_t j = 0; j < bk; j++) {
			const float *kj = K + j * D;
			float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
			for (int64_t c = 0; c < D; c++)
				dot += qr[r][c] * kj[c];
			sc[r * bk + j] = dot * scale;
		}
	}
}

/* One task: batch b, KV head g, queries [i0, i1) of every head in the group. */
static void blocked_task(const cpu_ctx *c, const attn_shape *s, const float *q, const float *k, const float *v,
                         int64_t kv_stride, float *out, int64_t b, int64_t g, int64_t i0, int64_t i1, float *scratch)
{
	const int64_t H = s->n_heads, G = s->n_kv_heads, D = s->head_dim, NQ = s->n_q;
	const int64_t ratio = H / G, nq = i1 - i0, rows = ratio * nq, bk_max = c->tile_kv;
	float *Kt = scratch;
	float *sc = Kt + D * bk_max;
	float *m = sc + ROWS * bk_max;
	float *l = m + rows;
	float *acc = l + rows;
	const float *K = k + ((b * G + g) * kv_stride) * D;
	const float *V = v + ((b * G + g) * kv_stride) * D;

	for (int64_t r = 0; r < rows; r++) {
		m[r] = -INFINITY;
		l[r] = 0.0f;
	}
	memset(acc, 0, (size_t)(rows * D) * sizeof(float));
	/* keys any query of this block can see */
	const int64_t kv_end = attn_visible_keys(s, i1 - 1);

	for (int64_t j0 = 0; j0 < kv_end; j0 += bk_max) {
		const int64_t bk = kv_end - j0 < bk_max ? kv_end - j0 : bk_max;
		const int direct = rows < 2 * ROWS;
		if (!direct)
			for (int64_t cc = 0; cc < D; cc++)
				for (int64_t j = 0; j < bk; j++)
					Kt[cc * bk + j] = K[(j0 + j) * D + cc];

		for (int64_t hr = 0; hr < ratio; hr++) {
			const float *Qh = q + ((b * H + g * ratio + hr) * NQ) * D;
			for (int64_t i = i0; i < i1; i += ROWS) {
				const int nr = (int)(i1 - i < ROWS ? i1 - i : ROWS);
				const float *qr[ROWS];
				for (int r = 0; r < nr; r++)
					qr[r] = Qh + (i + r) * D;
				if (direct)
					tile_scores_direct(qr, nr, K + j0 * D, D, bk, s->scale, sc);
				else
					tile_scores(qr, nr, Kt, D, bk, s->scale, sc);

				float p_alpha[ROWS];
				int64_t nvis[ROWS];
				for (int r = 0; r < nr; r++) {
					const int64_t row = hr * nq + (i - i0) + r;
					int64_t vis = attn_visible_keys(s, i + r) - j0;
					vis = vis < 0 ? 0 : (vis > bk ? bk : vis);
					nvis[r] = vis;
					float *srow = sc + r * bk;
					float mx = m[row];
					for (int64_t j = 0; j < vis; j++)
						mx = fmaxf(mx, srow[j]);
					float sum = 0.0f;
					for (int64_t j = 0; j < vis; j++) {
						srow[j] = expf(srow[j] - mx);
						sum += srow[j];
					}
					for (int64_t j = vis; j < bk; j++)
						srow[j] = 0.0f;
					p_alpha[r] = vis ? expf(m[row] - mx) : 1.0f;
					if (vis) {
						l[row] = l[row] * p_alpha[r] + sum;
						m[row] = mx;
					}
				}
				/* acc = acc * alpha + P V, ROWS rows per V load */
				for (int r = 0; r < nr; r++) {
					float *a = acc + (hr * nq + (i - i0) + r) * D;
					for (int64_t cc = 0; cc < D; cc++)
						a[cc] *= p_alpha[r];
				}
				int64_t jmax = 0;
				for (int r = 0; r < nr; r++)
					jmax = nvis[r] > jmax ? nvis[r] : jmax;
				for (int64_t j = 0; j < jmax; j++) {
					const float *vj = V + (j0 + j) * D;
					for (int r = 0; r < nr; r++) {
						const float p = sc[r * bk + j];
						float *a = acc + (hr * nq + (i - i0) + r) * D;
#pragma omp simd
						for (int64_t cc = 0; cc < D; cc++)
							a[cc] += p * vj[cc];
					}
				}
			}
		}
	}
	for (int64_t hr = 0; hr < ratio; hr++) {
		float *O = out + ((b * H + g * ratio + hr) * NQ) * D;
		for (int64_t i = i0; i < i1; i++) {
			const int64_t row = hr * nq + (i - i0);
			const float inv = l[row] > 0.0f ? 1.0f / l[row] : 0.0f;
			for (int64_t cc = 0; cc < D; cc++)
				O[i * D + cc] = acc[row * D + cc] * inv;
		}
	}
}

static int blocked_kernel(cpu_ctx *c, const attn_shape *s, const float *q, const float *k, const float *v,
                          int64_t kv_stride, float *out)
{
	const int64_t G = s->n_kv_heads, NQ = s->n_q, bq = c->tile_q;
	const int64_t nblk = (NQ + bq - 1) / bq, ntask = s->batch * G * nblk;
	const size_t per_thread = thread_floats(c, s);
	int rc = cpu_workspace(c, per_thread * (size_t)c->threads * sizeof(float));
	if (rc)
		return rc;
	float *ws = c->ws;

	/* Later query blocks see more keys under a causal mask: dynamic
	 * scheduling keeps the threads evenly loaded. */
#pragma omp parallel for num_threads(c->threads) schedule(dynamic, 1)
	for (int64_t t = 0; t < ntask; t++) {
		const int64_t blk = t % nblk, g = (t / nblk) % G, b = t / (nblk * G);
		const int64_t i0 = blk * bq, i1 = i0 + bq < NQ ? i0 + bq : NQ;
		float *scratch = ws + per_thread * (size_t)omp_get_thread_num();
		blocked_task(c, s, q, k, v, kv_stride, out, b, g, i0, i1, scratch);
	}
	return ATTN_OK;
}

static int blocked_create(const attn_config *cfg, void **ctx, char *err, size_t err_len)
{
	return cpu_create(cfg, blocked_kernel, 1, ctx, err, err_len);
}

static int blocked_supports(void *ctx, const attn_shape *s, char *why, size_t why_len)
{
	(void)ctx;
	return cpu_supports_f32(s, 256, why, why_len);
}

static uint64_t blocked_workspace(void *ctx, const attn_shape *s)
{
	const cpu_ctx *c = ctx;
	return (uint64_t)thread_floats(c, s) * (uint64_t)c->threads * sizeof(float);
}

static const attn_backend blocked_backend = {
    .abi_version = ATTN_ABI_VERSION,
    .name = "blocked",
    .description = "flash-style tiles with online softmax, OpenMP, GQA heads share K/V tiles",
    .caps = ATTN_CAP_CAUSAL | ATTN_CAP_GQA | ATTN_CAP_KV_CACHE | ATTN_CAP_THREADS,
    .create = blocked_create,
    .supports = blocked_supports,
    .workspace_bytes = blocked_workspace,
    CPU_SHARED_ENTRY_POINTS,
};

const attn_backend *attn_backend_blocked(void)
{
	return &blocked_backend;
}
