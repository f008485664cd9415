/* naive.c - the textbook O(n^2) attention, written as plainly as possible.
 *
 * For every (batch, head) it materialises the full n_q x n_kv score matrix
 * S = scale * Q K^T, masks it, takes a row softmax (subtracting the row
 * maximum so exp() cannot overflow) and multiplies by V. One thread, float32
 * arithmetic throughout: this is the baseline every other backend is
 * measured against. f16 and bf16 inputs are widened to f32 (exactly) as they
 * are loaded, a head's rows at a time, and then go through the same loops.
 *
 * Plain loops, but in an order the compiler can vectorize: the q.k dot
 * product is an explicit SIMD reduction (float addition is not associative,
 * so without the pragma GCC must keep it scalar), and P V is accumulated a
 * row of V at a time (contiguous) rather than down the columns of V. */
#include <math.h>
#include <stdio.h>

#include "cpu_common.h"
#include "simd.h"

/* Floats of workspace: the score matrix, and for 16-bit storage the f32
 * copies of one query head's Q and one KV head's K and V. */
static size_t naive_ws_floats(const attn_shape *s)
{
	size_t n = (size_t)s->n_q * (size_t)s->n_kv;
	if (s->dtype != ATTN_F32)
		n += ((size_t)s->n_q + 2 * (size_t)s->n_kv) * (size_t)s->head_dim;
	return n;
}

/* q, out [B][H][n_q][D]; k, v: rows ld elements apart, kv_stride rows per
 * head (first n_kv valid), see cpu_common.h. */
static int naive_kernel(cpu_ctx *c, const attn_shape *s, const void *q, const cpu_kv *kv, float *out)
{
	const void *k = kv->k, *v = kv->v;
	const int64_t kv_stride = kv->stride, ld = (int64_t)(kv->k_pitch / attn_dtype_size(s->dtype));
	const int64_t B = s->batch, H = s->n_heads, G = s->n_kv_heads, D = s->head_dim;
	const int64_t NQ = s->n_q, NKV = s->n_kv, ratio = H / G;
	const attn_dtype dt = s->dtype;
	const size_t esz = attn_dtype_size(dt);
	int rc = cpu_workspace(c, naive_ws_floats(s) * sizeof(float));
	if (rc)
		return rc;
	float *S = c->ws; /* [n_q][n_kv] scores, then probabilities */
	float *qbuf = S + NQ * NKV, *kbuf = qbuf + NQ * D, *vbuf = kbuf + NKV * D; /* 16-bit only */

	for (int64_t b = 0; b < B; b++) {
		for (int64_t h = 0; h < H; h++) {
			const int64_t g = h / ratio;
			const size_t qoff = (size_t)((b * H + h) * NQ * D),
			             kvoff = (size_t)((b * G + g) * kv_stride * ld);
			const float *Q, *K, *V;
			int64_t ldkv; /* floats from one K (or V) row to the next */
			if (dt == ATTN_F32) {
				Q = (const float *)q + qoff;
				K = (const float *)k + kvoff;
				V = (const float *)v + kvoff;
				ldkv = ld;
			} else {
				/* converts on load: the head's rows widened to f32, a KV
				 * head's once for the first query head of its group */
				v8_widen_rows(qbuf, (const char *)q + qoff * esz, NQ, D, D, dt);
				if (h % ratio == 0) {
					v8_widen_rows(kbuf, (const char *)k + kvoff * esz, NKV, D, ld, dt);
					v8_widen_rows(vbuf, (const char *)v + kvoff * esz, NKV, D, ld, dt);
				}
				Q = qbuf;
				K = kbuf;
				V = vbuf;
				ldkv = D;
			}
			float *O = out + ((b * H + h) * NQ) * D;

			/* pass 1: scores S[i][j] = scale * q_i . k_j (masked: -inf) */
			for (int64_t i = 0; i < NQ; i++) {
				const int64_t visible = attn_visible_keys(s, i);
				for (int64_t j = 0; j < NKV; j++) {
					float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
					for (int64_t d = 0; d < D; d++)
						dot += Q[i * D + d] * K[j * ldkv + d];
					S[i * NKV + j] = j < visible ? s->scale * dot : -INFINITY;
				}
			}
			/* pass 2: row softmax, max subtracted */
			for (int64_t i = 0; i < NQ; i++) {
				float *row = S + i * NKV;
				float mx = -INFINITY, sum = 0.0f;
				for (int64_t j = 0; j < NKV; j++)
					mx = fmaxf(mx, row[j]);
				for (int64_t j = 0; j < NKV; j++) {
					row[j] = expf(row[j] - mx);
					sum += row[j];
				}
				for (int64_t j = 0; j < NKV; j++)
					row[j] /= sum;
			}
			/* pass 3: O = P V, row by row: O_i = sum_j P[i][j] V_j over
			 * the visible keys only: a masked key's probability is 0, but
			 * 0 * V_j would still turn a NaN or Inf in V_j into NaN */
			for (int64_t i = 0; i < NQ; i++) {
				float *o = O + i * D;
				const int64_t visible = attn_visible_keys(s, i);
				for (int64_t d = 0; d < D; d++)
					o[d] = 0.0f;
				for (int64_t j = 0; j < visible; j++) {
					const float p = S[i * NKV + j];
					for (int64_t d = 0; d < D; d++)
						o[d] += p * V[j * ldkv + d];
				}
			}
		}
	}
	return ATTN_OK;
}

static int naive_create(const attn_config *cfg, void **ctx, char *err, size_t err_len)
{
	const int rc = cpu_create(cfg, naive_kernel, 0, ctx, err, err_len);
	if (rc == ATTN_OK) /* the reference ignores cfg->threads */
		snprintf(((cpu_ctx *)*ctx)->info, sizeof((cpu_ctx *)*ctx)->info, "one thread");
	return rc;
}

static int naive_supports(void *ctx, const attn_shape *s, char *why, size_t why_len)
{
	(void)ctx;
	return cpu_supports(s, 0, why, why_len);
}

/* The score matrix of one head (and the widened rows, for 16-bit). */
static uint64_t naive_workspace(void *ctx, const attn_shape *s)
{
	(void)ctx;
	return (uint64_t)naive_ws_floats(s) * sizeof(float);
}

static const attn_backend naive_backend = {
    .abi_version = ATTN_ABI_VERSION,
    .name = "naive",
    .description = "textbook O(n^2): full score matrix, one thread",
    .caps = ATTN_CAP_CAUSAL | ATTN_CAP_GQA | ATTN_CAP_KV_CACHE | ATTN_CAP_F16 | ATTN_CAP_BF16,
    .create = naive_create,
    .supports = naive_supports,
    .workspace_bytes = naive_workspace,
    CPU_SHARED_ENTRY_POINTS,
};

const attn_backend *attn_backend_naive(void)
{
	return &naive_backend;
}
