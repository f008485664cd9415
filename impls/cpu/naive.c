/* naive.c - the textbook O(n^2) attention, written as plainly as possible.
 *
 * For every (batch, head) it materialises the full score matrix of the
 * sequence's queries and keys, S = scale * Q K^T, transforms and masks it,
 * takes a row softmax (subtracting the row maximum so exp() cannot
 * overflow) and multiplies by V. One thread, float32 arithmetic throughout:
 * this is the baseline every other backend is measured against, and the
 * reference for every variant of the interface.
 *
 * Every storage type goes through the same loops: a head's Q rows and a KV
 * head's K and V rows are widened (f16, bf16) or dequantized (q8_0, q4_0,
 * fp8) to f32 as they are loaded (cpu_kv_load_rows), from separate tensors,
 * the cache or the caller's pages alike. Only the rows a sequence has are
 * loaded: ragged padding is never read.
 *
 * Plain loops, but in an order the compiler can vectorize: the q.k dot
 * product is an explicit SIMD reduction (float addition is not associative,
 * so without the pragma GCC must keep it scalar), and P V is accumulated a
 * row of V at a time (contiguous) rather than down the columns of V. */
#include <math.h>
#include <stdio.h>

#include "cpu_common.h"
#include "simd.h"

/* Floats of workspace: the score matrix, and the f32 copies of one query
 * head's Q and one KV head's K and V. */
static size_t naive_ws_floats(const attn_shape *s)
{
	return (size_t)s->n_q * (size_t)s->n_kv + (size_t)s->n_q * (size_t)s->head_dim +
	       (size_t)s->n_kv * (size_t)(s->head_dim + attn_head_dim_v(s));
}

/* q, out [B][H][n_q][head_dim], [head_dim_v]; K and V through the view. */
static int naive_kernel(cpu_ctx *c, const attn_shape *s, const void *q, const cpu_kv *kv, float *out)
{
	const int64_t B = s->batch, H = s->n_heads, G = s->n_kv_heads, D = s->head_dim, DV = attn_head_dim_v(s);
	const int64_t NQ = s->n_q, NKV = s->n_kv, ratio = H / G;
	const size_t qsz = attn_dtype_size(s->dtype);
	int rc = cpu_workspace(c, naive_ws_floats(s) * sizeof(float));
	if (rc)
		return rc;
	float *S = c->ws;        /* [nq][nkv] scores, then probabilities */
	float *Q = S + NQ * NKV; /* [nq][D] */
	float *K = Q + NQ * D;   /* [nkv][D] */
	float *V = K + NKV * D;  /* [nkv][DV] */

	for (int64_t b = 0; b < B; b++) {
		int64_t nq, nkv; /* this sequence's queries and keys */
		cpu_seq_lens(s, b, &nq, &nkv);
		for (int64_t h = 0; h < H; h++) {
			const int64_t g = h / ratio;
			/* load: the head's queries, and its KV head's keys and values
			 * once for the first query head of the group */
			v8_widen_rows(Q, (const char *)q + (size_t)((b * H + h) * NQ * D) * qsz, nq, D, D, s->dtype);
			if (h % ratio == 0) {
				cpu_kv_load_rows(K, kv, 0, b, g, 0, nkv, D);
				cpu_kv_load_rows(V, kv, 1, b, g, 0, nkv, DV);
			}
			float *O = out + ((b * H + h) * NQ) * DV;
			const float sink = cpu_sink(s, h);

			for (int64_t i = 0; i < nq; i++) {
				const int64_t p = nkv - nq + i; /* the query's position */
				int64_t lo, hi;                 /* the keys it sees: causal and window masks */
				cpu_key_range(s, nq, nkv, i, &lo, &hi);
				float *row = S + i * NKV;

				/* 1. scores of the visible keys: s = scale * q.k, then
				 * softcap, then ALiBi (cpu_score) */
				for (int64_t j = lo; j < hi; j++) {
					float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
					for (int64_t d = 0; d < D; d++)
						dot += Q[i * D + d] * K[j * D + d];
					row[j] = cpu_score(s, h, s->scale * dot, p, j);
				}
				/* 2. softmax over the visible keys, the maximum subtracted;
				 * a sink adds exp(z_h) to the denominator and no value */
				float mx = sink;
				for (int64_t j = lo; j < hi; j++)
					mx = fmaxf(mx, row[j]);
				float sum = 0.0f;
				for (int64_t j = lo; j < hi; j++) {
					row[j] = expf(row[j] - mx);
					sum += row[j];
				}
				if (s->sinks)
					sum += expf(sink - mx);
				/* 3. o = sum_j p_j v_j over the visible keys only (a masked
				 * key never reaches V, so a NaN there cannot spread); a row
				 * that sees no key is 0 */
				float *o = O + i * DV;
				for (int64_t d = 0; d < DV; d++)
					o[d] = 0.0f;
				if (hi == lo)
					continue;
				for (int64_t j = lo; j < hi; j++) {
					const float pj = row[j] / sum;
					for (int64_t d = 0; d < DV; d++)
						o[d] += pj * V[j * DV + d];
				}
			}
		}
	}
	return ATTN_OK;
}

/* Every variant, storage type and view of the interface. */
#define NAIVE_CAPS                                                                                                     \
	(CPU_BASE_CAPS | ATTN_CAP_WINDOW | ATTN_CAP_SOFTCAP | ATTN_CAP_ALIBI | ATTN_CAP_SINKS | ATTN_CAP_HEAD_DIM_V |  \
	 ATTN_CAP_KV_DTYPE | ATTN_CAP_Q8_0 | ATTN_CAP_Q4_0 | ATTN_CAP_FP8 | ATTN_CAP_RAGGED | ATTN_CAP_PAGED)

static int naive_create(const attn_config *cfg, void **ctx, char *err, size_t err_len)
{
	const int rc = cpu_create(cfg, naive_kernel, 0, ctx, err, err_len);
	if (rc == ATTN_OK) { /* the reference ignores cfg->threads */
		cpu_ctx *c = *ctx;
		snprintf(c->info, sizeof c->info, "one thread");
		c->caps = NAIVE_CAPS;
	}
	return rc;
}

static int naive_supports(void *ctx, const attn_shape *s, char *why, size_t why_len)
{
	(void)ctx;
	return cpu_supports_caps(s, NAIVE_CAPS, 0, why, why_len);
}

/* The score matrix of one head and the f32 rows of its Q, K and V. */
static uint64_t naive_workspace(void *ctx, const attn_shape *s)
{
	(void)ctx;
	return (uint64_t)naive_ws_floats(s) * sizeof(float);
}

static const attn_backend naive_backend = {
    .abi_version = ATTN_ABI_VERSION,
    .name = "naive",
    .description = "textbook O(n^2): full score matrix, one thread",
    .caps = NAIVE_CAPS,
    .create = naive_create,
    .supports = naive_supports,
    .workspace_bytes = naive_workspace,
    CPU_SHARED_ENTRY_POINTS,
    CPU_PAGED_ENTRY_POINT,
};

const attn_backend *attn_backend_naive(void)
{
	return &naive_backend;
}
