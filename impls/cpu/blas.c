/* blas.c - attention as OpenBLAS sgemm calls on blocks of query rows.
 *
 * The query heads of one GQA group are consecutive in q, so their rows form
 * one (ratio * n_q) x head_dim matrix Qg against the group's K and V. It is
 * taken in blocks of about QB rows (whole heads when n_q is small, as in
 * decode, so that the group shares one GEMM; otherwise QB queries of one
 * head), and for each block
 *   S = scale * Qb K[lo:hi]^T   (sgemm; [lo, hi) = the keys the block's rows see)
 *   P = softmax(mask(f(S)))     (row-wise, in place, vector exp; f: softcap,
 *                                ALiBi; a sink joins the denominator)
 *   Ob = P V[lo:hi]             (sgemm, head_dim_v columns)
 * The biases and masks go between the two GEMMs. Under a causal mask a
 * block stops at its last visible key, so the masked upper triangle is
 * mostly never computed (only within the diagonal blocks); under a sliding
 * window W a block starts at its first row's first visible key, so a block
 * of r rows multiplies r + W keys at most and the cost is O(n W), not
 * O(n^2). The score workspace is QB x n_kv instead of the whole group's
 * score matrix.
 *
 * Ragged batches: sequence b's blocks hold only its q_lens[b] queries (one
 * head's rows at a time when they do not fill n_q) over its kv_lens[b] keys,
 * so padding rows are never read and their out rows never written.
 *
 * sgemm reads f32 only: q in f16 or bf16 is widened block by block, and K and
 * V rows stored as anything but f32 in separate tensors or the cache (f16,
 * bf16, q8_0, q4_0, fp8, or any caller's pages) are widened or dequantized
 * into f32 workspace buffers once per group (cpu_kv_load_rows), and the
 * GEMMs run on those. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>

#include "cpu_common.h"
#include "simd.h"

#define QB 512 /* rows per block: large enough for sgemm to run near its peak */

/* One row of S for head h, query position p, whose entry t is key j0 + t:
 * the variants' score transform on the visible entries [lo, hi), softmax
 * over them (with the sink in the denominator), the rest -> 0. */
static void softmax_row(const attn_shape *s, int64_t h, int64_t p, int64_t j0, float *row, int64_t lo, int64_t hi,
                        int64_t n)
{
	if (s->softcap > 0.0f || s->alibi)
		for (int64_t j = lo; j < hi; j++)
			row[j] = cpu_score(s, h, row[j], p, j0 + j);
	const float sink = cpu_sink(s, h);
	v8f mx8 = v8_set1(-INFINITY);
	int64_t j = lo;
	for (; j + 8 <= hi; j += 8)
		mx8 = v8_max(mx8, v8_load(row + j));
	float mx = sink;
	for (int u = 0; u < 8; u++)
		mx = fmaxf(mx, mx8[u]);
	for (; j < hi; j++)
		mx = fmaxf(mx, row[j]);
	v8f sum8 = v8_set1(0.0f);
	for (j = lo; j + 8 <= hi; j += 8) {
		const v8f e = v8_exp(v8_load(row + j) - mx);
		v8_store(row + j, e);
		sum8 += e;
	}
	float sum = v8_hsum(sum8);
	for (; j < hi; j++) {
		row[j] = expf(row[j] - mx);
		sum += row[j];
	}
	if (s->sinks)
		sum += expf(sink - mx);
	const float inv = hi > lo ? 1.0f / sum : 0.0f; /* no visible key: a zero row */
	for (j = 0; j < lo; j++)
		row[j] = 0.0f;
	for (j = lo; j < hi; j++)
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

/* K and V straight from memory (f32 rows in separate tensors or the cache),
 * or widened into the workspace? */
static int kv_direct(const cpu_kv *kv)
{
	return !kv->paged && kv->dt == ATTN_F32;
}

/* Floats of workspace: the scores of one block of rows, the f32 copy of one
 * block's Q when q is f16/bf16, and of one group's K and V when they are not
 * f32 (or paged). */
static size_t blas_ws_floats(const attn_shape *s, int direct)
{
	const size_t rows = (size_t)block_rows(s);
	size_t n = rows * (size_t)s->n_kv;
	if (s->dtype != ATTN_F32)
		n += rows * (size_t)s->head_dim;
	if (!direct)
		n += (size_t)s->n_kv * (size_t)(s->head_dim + attn_head_dim_v(s));
	return n;
}

static int blas_kernel(cpu_ctx *c, const attn_shape *s, const void *q, const cpu_kv *kv, float *out)
{
	const int64_t B = s->batch, H = s->n_heads, G = s->n_kv_heads, D = s->head_dim, DV = attn_head_dim_v(s);
	const int64_t NQ = s->n_q, NKV = s->n_kv, ratio = H / G, M = ratio * NQ;
	const int64_t rows = block_rows(s);
	const attn_dtype dt = s->dtype;
	const size_t esz = attn_dtype_size(dt);
	const int direct = kv_direct(kv);
	int rc = cpu_workspace(c, blas_ws_floats(s, direct) * sizeof(float));
	if (rc)
		return rc;
	float *S = c->ws;
	float *Qw = S + rows * NKV;                                           /* q f16/bf16 only */
	float *Kw = Qw + (dt != ATTN_F32 ? rows * D : 0), *Vw = Kw + NKV * D; /* !direct only */
	openblas_set_num_threads(c->threads);

	for (int64_t b = 0; b < B; b++) {
		int64_t nq, nkv;
		cpu_seq_lens(s, b, &nq, &nkv);
		for (int64_t g = 0; g < G; g++) {
			const size_t qoff = (size_t)((b * H + g * ratio) * NQ * D);
			const float *Kg, *Vg;
			int64_t ldk, ldv; /* floats between K (V) rows as sgemm reads them */
			if (direct) {
				Kg = (const float *)cpu_kv_k(kv, b, g, 0);
				Vg = (const float *)cpu_kv_v(kv, b, g, 0);
				ldk = (int64_t)(kv->k_pitch / sizeof(float));
				ldv = (int64_t)(kv->v_pitch / sizeof(float));
			} else {
				/* the rows any block of the group reads: the sequence's keys */
				cpu_kv_load_rows(Kw, kv, 0, b, g, 0, nkv, D);
				cpu_kv_load_rows(Vw, kv, 1, b, g, 0, nkv, DV);
				Kg = Kw;
				Vg = Vw;
				ldk = D;
				ldv = DV;
			}
			float *Og = out + ((b * H + g * ratio) * NQ) * DV;
			for (int64_t r0 = 0; r0 < M;) {
				/* a block never straddles a head boundary unless it holds
				 * whole heads, and holds only the sequence's queries */
				int64_t r1;
				if (nq == NQ && NQ <= QB)
					r1 = r0 + rows < M ? r0 + rows : M;
				else if (r0 % NQ >= nq) {
					r0 = (r0 / NQ + 1) * NQ; /* padding: the next head */
					continue;
				} else
					r1 = r0 + (nq - r0 % NQ < QB ? nq - r0 % NQ : QB);
				const int64_t nr = r1 - r0;
				int64_t klo = nkv, khi = 0; /* the keys the block's rows see */
				for (int64_t r = r0; r < r1; r++) {
					int64_t lo, hi;
					cpu_key_range(s, nq, nkv, r % NQ, &lo, &hi);
					if (hi > lo) {
						klo = lo < klo ? lo : klo;
						khi = hi > khi ? hi : khi;
					}
				}
				if (khi <= klo) { /* no row sees a key: zero rows */
					for (int64_t e = 0; e < nr * DV; e++)
						Og[r0 * DV + e] = 0.0f;
					r0 = r1;
					continue;
				}
				const int64_t n = khi - klo;
				const float *Qb = (const float *)q + qoff + r0 * D;
				if (dt != ATTN_F32) {
					v8_widen_rows(Qw, (const char *)q + (qoff + (size_t)(r0 * D)) * esz, nr, D, D,
					              dt);
					Qb = Qw;
				}
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nr, (int)n, (int)D, s->scale,
				            Qb, (int)D, Kg + klo * ldk, (int)ldk, 0.0f, S, (int)n);
				/* one thread: OpenBLAS's own threads spin for a while after
				 * each sgemm, and an OpenMP team here would fight them for
				 * the cores (measured: 37 instead of 125 GFLOP/s on 2 cores) */
				for (int64_t r = r0; r < r1; r++) {
					int64_t lo, hi;
					cpu_key_range(s, nq, nkv, r % NQ, &lo, &hi);
					if (hi <= lo)
						lo = hi = klo;
					softmax_row(s, g * ratio + r / NQ, nkv - nq + r % NQ, klo, S + (r - r0) * n,
					            lo - klo, hi - klo, n);
				}
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nr, (int)DV, (int)n, 1.0f,
				            S, (int)n, Vg + klo * ldv, (int)ldv, 0.0f, Og + r0 * DV, (int)DV);
				r0 = r1;
			}
		}
	}
	return ATTN_OK;
}

/* Every variant and storage type: whatever sgemm cannot read is widened or
 * dequantized to f32 first, pages included. */
#define BLAS_CAPS                                                                                                      \
	(CPU_BASE_CAPS | ATTN_CAP_THREADS | ATTN_CAP_WINDOW | ATTN_CAP_SOFTCAP | ATTN_CAP_ALIBI | ATTN_CAP_SINKS |     \
	 ATTN_CAP_HEAD_DIM_V | ATTN_CAP_KV_DTYPE | ATTN_CAP_Q8_0 | ATTN_CAP_Q4_0 | ATTN_CAP_FP8 | ATTN_CAP_RAGGED |    \
	 ATTN_CAP_PAGED)

static int blas_create(const attn_config *cfg, void **ctx, char *err, size_t err_len)
{
	const int rc = cpu_create(cfg, blas_kernel, 0, ctx, err, err_len);
	if (rc == ATTN_OK)
		((cpu_ctx *)*ctx)->caps = BLAS_CAPS;
	return rc;
}

static int blas_supports(void *ctx, const attn_shape *s, char *why, size_t why_len)
{
	(void)ctx;
	if (!cpu_supports_caps(s, BLAS_CAPS, 0, why, why_len))
		return 0;
	const int64_t M = (s->n_heads / s->n_kv_heads) * s->n_q;
	if (M > 2147483647 || s->n_kv > 2147483647 || s->head_dim > 2147483647 || attn_head_dim_v(s) > 2147483647) {
		snprintf(why, why_len, "matrix dimensions exceed BLAS int range");
		return 0;
	}
	return 1;
}

/* The scores of one block of rows, and the f32 copies of what is not f32
 * (pages are not in the shape: this counts f32 K and V as read in place). */
static uint64_t blas_workspace(void *ctx, const attn_shape *s)
{
	(void)ctx;
	return (uint64_t)blas_ws_floats(s, attn_kv_dtype(s) == ATTN_F32) * sizeof(float);
}

static const attn_backend blas_backend = {
    .abi_version = ATTN_ABI_VERSION,
    .name = "blas",
    .description = "OpenBLAS sgemm for QK^T and PV on row blocks, causal blocks stop at the diagonal",
    .caps = BLAS_CAPS,
    .create = blas_create,
    .supports = blas_supports,
    .workspace_bytes = blas_workspace,
    CPU_SHARED_ENTRY_POINTS,
    CPU_PAGED_ENTRY_POINT,
};

const attn_backend *attn_backend_blas(void)
{
	return &blas_backend;
}
