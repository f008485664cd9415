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
 * O(n^2). The score workspace is QB x n_kv (per thread) instead of the
 * whole group's score matrix.
 *
 * Threads: with at least two blocks per thread, the blocks of every group
 * go to an OpenMP team (dynamic schedule, the blocks with the most keys
 * first) and each block's sgemm calls run on its thread; otherwise one
 * thread walks the blocks and each sgemm call uses every thread.
 *
 * Ragged batches: sequence b's blocks hold only its q_lens[b] queries (one
 * head's rows at a time when they do not fill n_q) over its kv_lens[b] keys,
 * so padding rows are never read and their out rows never written.
 *
 * sgemm reads f32 only: q in f16 or bf16 is widened block by block, and K and
 * V rows stored as anything but f32 in separate tensors or the cache (f16,
 * bf16, q8_0, q4_0, fp8, or any caller's pages) are widened or dequantized
 * into f32 workspace buffers once per group (cpu_kv_load_rows), and the
 * GEMMs run on those. That pays while many query rows share the widened
 * rows (prefill); a decode step has a handful of rows per group and would
 * spend its time widening the whole cache on one thread, then reading the
 * f32 copy (twice the bytes of f16) back from memory. So groups with few
 * rows take the chunked path (chunked_kernel): each thread widens KC keys at
 * a time into a buffer that stays in its L2, multiplies them there, and
 * folds the chunk into an online softmax (running max, sum and output per
 * row); the threads' partial results are merged at the end. */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>

#include "blas_softmax.h"
#include "cpu_common.h"
#include "simd.h"

#define QB                                                                                                             \
	256 /* rows per block: large enough for sgemm to run near its peak, small enough                               \
	       that a block's scores (256 x 2048 floats: 2 MiB) stay in a core's L2 between the                        \
	       two GEMMs, and that the diagonal blocks' masked triangles stay small                                    \
	       (measured: 74 GFLOP/s, 66 with 512 rows) */
#define KC                                                                                                             \
	256 /* keys per chunk on the chunked path: 256 f32 K and V rows of                                             \
	       head_dim 128 take 256 KiB, within a core's L2 */
#define FEW_ROWS                                                                                                       \
	32 /* a group with at most this many query rows (decode)                                                       \
	      takes the chunked path when K and V need widening */

/* The softmax for this CPU: the widest compilation of blas_softmax.c it
 * runs (the baseline's 8-float vectors are a pair of SSE registers there,
 * which spilled and shuffled lanes through memory: the softmax took more
 * time than the two GEMMs). */
static blas_softmax_fn pick_softmax(void)
{
#ifdef CPU_X86_ISAS
	const unsigned has = cpu_isas();
	if (has & CPU_HAS_AVX512)
		return blas_softmax_avx512;
	if (has & CPU_HAS_AVX2)
		return blas_softmax_avx2;
#endif
	return blas_softmax_generic;
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

/* Does the shape take the chunked path (when K and V need widening)? */
static int chunked_shape(const attn_shape *s)
{
	return (s->n_heads / s->n_kv_heads) * s->n_q <= FEW_ROWS;
}

/* Floats of one thread's part of the chunked path's workspace: a chunk of K
 * and of V in f32, the chunk's scores, and for every group of the batch each
 * row's running output, max and sum. */
static size_t chunk_thread_floats(const attn_shape *s)
{
	const size_t M = (size_t)((s->n_heads / s->n_kv_heads) * s->n_q), D = (size_t)s->head_dim,
	             DV = (size_t)attn_head_dim_v(s), groups = (size_t)(s->batch * s->n_kv_heads);
	return KC * (D + DV) + M * KC + groups * M * (DV + 2);
}

/* The chunked path's workspace: every group's queries in f32, then one part
 * per thread. */
static size_t chunk_ws_floats(const attn_shape *s, int threads)
{
	const size_t M = (size_t)((s->n_heads / s->n_kv_heads) * s->n_q);
	return (size_t)(s->batch * s->n_kv_heads) * M * (size_t)s->head_dim + (size_t)threads * chunk_thread_floats(s);
}

/* Fold the scores S (nr rows of n keys c0..c0+n-1) into the running state:
 * each row's visible keys get the score transform, the row's max m and sum
 * l are updated (the output O rescaled when the max grows), and S becomes
 * P = exp(S - m) on the visible keys, 0 elsewhere, ready for O += P V. */
static void fold_chunk(const attn_shape *s, const int64_t *head, const int64_t *row_i, int64_t nr, int64_t nq,
                       int64_t nkv, int64_t c0, int64_t n, float *S, float *O, int64_t DV, float *m, float *l)
{
	for (int64_t r = 0; r < nr; r++) {
		float *row = S + r * n;
		int64_t lo, hi;
		cpu_key_range(s, nq, nkv, row_i[r], &lo, &hi);
		lo = lo > c0 ? lo - c0 : 0;
		hi = hi < c0 + n ? hi - c0 : n;
		float cm = -INFINITY;
		for (int64_t j = lo; j < hi; j++) {
			row[j] = cpu_score(s, head[r], row[j], nkv - nq + row_i[r], c0 + j);
			cm = fmaxf(cm, row[j]);
		}
		if (cm > m[r]) { /* a larger max: what was summed so far shrinks by exp(m_old - m_new) */
			const float alpha = expf(m[r] - cm);
			l[r] *= alpha;
			for (int64_t e = 0; e < DV; e++)
				O[r * DV + e] *= alpha;
			m[r] = cm;
		}
		float sum = 0.0f;
		for (int64_t j = 0; j < n; j++) {
			row[j] = j >= lo && j < hi ? expf(row[j] - m[r]) : 0.0f;
			sum += row[j];
		}
		l[r] += sum;
	}
}

/* The keys [*klo, *khi) that some query of a sequence of nq queries and nkv
 * keys sees (none: *klo >= *khi). */
static void seq_key_span(const attn_shape *s, int64_t nq, int64_t nkv, int64_t *klo, int64_t *khi)
{
	*klo = nkv;
	*khi = 0;
	for (int64_t i = 0; i < nq; i++) {
		int64_t lo, hi;
		cpu_key_range(s, nq, nkv, i, &lo, &hi);
		if (hi > lo) {
			*klo = lo < *klo ? lo : *klo;
			*khi = hi > *khi ? hi : *khi;
		}
	}
}

/* Decode-shaped calls (at most FEW_ROWS query rows per group) over K and V
 * rows that need widening. Each group's keys are cut into chunks of KC, and
 * each thread takes a contiguous run of every group's chunks: it widens K
 * (and V) of a chunk into its own buffers, which stay in its cache while
 * S = scale Q Kc^T and O += P Vc run on them (single-threaded sgemm calls),
 * and folds the chunk into its running (max, sum, output) per row. Then the
 * threads' partial results are merged, the sink joining the denominator.
 * Widening is spread over every thread, each widened byte is read from
 * cache instead of being written to memory and read back, and the threads
 * meet once per call, not twice per group as threaded sgemm calls would. */
static void chunked_kernel(cpu_ctx *c, const attn_shape *s, const void *q, const cpu_kv *kv, float *out)
{
	const int64_t B = s->batch, H = s->n_heads, G = s->n_kv_heads, NQ = s->n_q, D = s->head_dim;
	const int64_t DV = attn_head_dim_v(s), ratio = H / G, M = ratio * NQ;
	const size_t esz = attn_dtype_size(s->dtype), per = chunk_thread_floats(s);
	float *Qc = c->ws, *part = Qc + (size_t)(B * G * M * D);
	/* each group's real query rows in f32, one after another (row r: head
	 * g * ratio + r / nq, query r % nq) */
	for (int64_t b = 0; b < B; b++) {
		int64_t nq, nkv;
		cpu_seq_lens(s, b, &nq, &nkv);
		for (int64_t g = 0; g < G; g++)
			for (int64_t r = 0; r < ratio * nq; r++)
				v8_widen_n(Qc + ((b * G + g) * M + r) * D,
				           (const char *)q +
				               (size_t)(((b * H + g * ratio + r / nq) * NQ + r % nq) * D) * esz,
				           D, s->dtype);
	}
	int T = 1;
	openblas_set_num_threads(1); /* each small sgemm runs in its calling thread */
#pragma omp parallel num_threads(c->threads)
	{
		const int t = omp_get_thread_num(), nt = omp_get_num_threads();
		if (t == 0)
			T = nt;
		float *Kc = part + (size_t)t * per, *Vc = Kc + KC * D, *S = Vc + KC * DV, *st = S + M * KC;
		for (int64_t b = 0; b < B; b++) {
			int64_t nq, nkv, klo, khi, head[FEW_ROWS], row_i[FEW_ROWS];
			cpu_seq_lens(s, b, &nq, &nkv);
			seq_key_span(s, nq, nkv, &klo, &khi);
			const int64_t nr = ratio * nq, nchunks = khi > klo ? (khi - klo + KC - 1) / KC : 0;
			for (int64_t g = 0; g < G; g++) {
				float *O = st + (b * G + g) * M * (DV + 2), *m = O + M * DV, *l = m + M;
				for (int64_t r = 0; r < nr; r++) {
					head[r] = g * ratio + r / nq;
					row_i[r] = r % nq;
					m[r] = -INFINITY;
					l[r] = 0.0f;
				}
				for (int64_t e = 0; e < nr * DV; e++)
					O[e] = 0.0f;
				for (int64_t ch = nchunks * t / nt; ch < nchunks * (t + 1) / nt; ch++) {
					const int64_t c0 = klo + ch * KC, n = c0 + KC < khi ? KC : khi - c0;
					cpu_kv_load_rows(Kc, kv, 0, b, g, c0, n, D);
					cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nr, (int)n, (int)D,
					            s->scale, Qc + (b * G + g) * M * D, (int)D, Kc, (int)D, 0.0f, S,
					            (int)n);
					fold_chunk(s, head, row_i, nr, nq, nkv, c0, n, S, O, DV, m, l);
					cpu_kv_load_rows(Vc, kv, 1, b, g, c0, n, DV);
					cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nr, (int)DV, (int)n,
					            1.0f, S, (int)n, Vc, (int)DV, 1.0f, O, (int)DV);
				}
			}
		}
	}
	/* merge: out = sum_t O_t exp(m_t - mx) / (sum_t l_t exp(m_t - mx) + exp(sink - mx)) */
	for (int64_t b = 0; b < B; b++) {
		int64_t nq, nkv;
		cpu_seq_lens(s, b, &nq, &nkv);
		for (int64_t g = 0; g < G; g++)
			for (int64_t r = 0; r < ratio * nq; r++) {
				const int64_t h = g * ratio + r / nq;
				float *dst = out + ((b * H + h) * NQ + r % nq) * DV;
				const size_t st = KC * (size_t)(D + DV) + (size_t)(M * KC + (b * G + g) * M * (DV + 2));
				const float sink = cpu_sink(s, h);
				float mx = sink, sum = 0.0f;
				for (int t = 0; t < T; t++)
					mx = fmaxf(mx, part[(size_t)t * per + st + (size_t)(M * DV + r)]);
				float nan = 0.0f; /* NaN scores never raise the max but reach every sum */
				for (int t = 0; t < T; t++)
					nan += part[(size_t)t * per + st + (size_t)(M * DV + M + r)] * 0.0f;
				for (int64_t e = 0; e < DV; e++)
					dst[e] = nan;
				if (mx == -INFINITY) /* no visible key and no sink: a zero row (NaN scores: NaN) */
					continue;
				if (s->sinks)
					sum = expf(sink - mx);
				for (int t = 0; t < T; t++) {
					const float *O = part + (size_t)t * per + st, *m = O + M * DV, *l = m + M;
					const float w = m[r] == -INFINITY ? 0.0f : expf(m[r] - mx);
					sum += l[r] * w;
					for (int64_t e = 0; e < DV; e++)
						dst[e] += O[r * DV + e] * w;
				}
				const float inv = sum > 0.0f ? 1.0f / sum : 0.0f;
				for (int64_t e = 0; e < DV; e++)
					dst[e] *= inv;
			}
	}
}

/* The blocks of query rows of sequence b's group: nblk blocks; block i
 * holds rows [*r0, *r1) of the group's M rows. Either the whole group in
 * blocks of `rows` (whole heads: every head's queries are real and fit in
 * QB), or per head blocks of up to `rows` of its nq real queries (padding
 * rows are never read nor written). Blocks are numbered so that under a
 * causal mask the ones with the most keys come first (the last block of
 * each head, then the one before...), which balances a dynamic schedule. */
typedef struct {
	int64_t nblk, per_head, heads, rows, nq, NQ, M;
	int whole;
} blas_blocks;

static blas_blocks group_blocks(const attn_shape *s, int64_t nq, int64_t rows)
{
	const int64_t NQ = s->n_q, ratio = s->n_heads / s->n_kv_heads;
	blas_blocks k = {.heads = ratio, .rows = rows, .nq = nq, .NQ = NQ, .M = ratio * NQ};
	k.whole = nq == NQ && NQ <= QB;
	if (k.whole)
		k.nblk = (k.M + rows - 1) / rows;
	else {
		k.per_head = (nq + rows - 1) / rows;
		k.nblk = k.per_head * ratio;
	}
	return k;
}

static void block_at(const blas_blocks *k, int64_t i, int64_t *r0, int64_t *r1)
{
	if (k->whole) {
		*r0 = i * k->rows;
		*r1 = *r0 + k->rows < k->M ? *r0 + k->rows : k->M;
		return;
	}
	const int64_t h = i % k->heads, j = k->per_head - 1 - i / k->heads;
	*r0 = h * k->NQ + j * k->rows;
	*r1 = h * k->NQ + ((j + 1) * k->rows < k->nq ? (j + 1) * k->rows : k->nq);
}

/* One block's S = scale Qb K^T, softmax, Ob = P V on the calling thread's
 * buffers S (rows x n_kv), inv (rows) and Qw (a widened Q block). */
static void run_block(const attn_shape *s, const void *q, const float *Kg, int64_t ldk, const float *Vg, int64_t ldv,
                      int64_t b, int64_t g, int64_t nq, int64_t nkv, int64_t r0, int64_t r1, float *S, float *inv,
                      float *Qw, float *out, blas_softmax_fn softmax)
{
	const int64_t H = s->n_heads, NQ = s->n_q, D = s->head_dim, DV = attn_head_dim_v(s), ratio = H / s->n_kv_heads;
	const size_t qoff = (size_t)((b * H + g * ratio) * NQ * D);
	float *Og = out + ((b * H + g * ratio) * NQ) * DV;
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
		return;
	}
	const int64_t n = khi - klo;
	const float *Qb = (const float *)q + qoff + r0 * D;
	if (s->dtype != ATTN_F32) {
		v8_widen_rows(Qw, (const char *)q + (qoff + (size_t)(r0 * D)) * attn_dtype_size(s->dtype), nr, D, D,
		              s->dtype);
		Qb = Qw;
	}
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nr, (int)n, (int)D, s->scale, Qb, (int)D,
	            Kg + klo * ldk, (int)ldk, 0.0f, S, (int)n);
	softmax(s, nq, nkv, g, r0, r1, klo, n, S, inv);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nr, (int)DV, (int)n, 1.0f, S, (int)n,
	            Vg + klo * ldv, (int)ldv, 0.0f, Og + r0 * DV, (int)DV);
	for (int64_t r = 0; r < nr; r++)
		for (int64_t e = 0; e < DV; e++)
			Og[(r0 + r) * DV + e] *= inv[r];
}

/* How many threads share the blocks: all of them when there are enough
 * blocks to go round (each block's sgemm calls then run on one thread),
 * else one thread, whose sgemm calls use all of them. */
static int team_size(const attn_shape *s, int threads)
{
	const int64_t blocks = s->batch * s->n_kv_heads * group_blocks(s, s->n_q, block_rows(s)).nblk;
	return blocks >= 2 * (int64_t)threads ? threads : 1;
}

/* Floats of workspace: per thread of the team, the scores of one block of
 * rows, their softmax factors and the f32 copy of one block's Q when q is f16/bf16; once, the f32
 * copies of one group's K and V when they are not f32 (or paged). */
static size_t blas_ws_floats(const attn_shape *s, int direct, int threads)
{
	if (!direct && chunked_shape(s))
		return chunk_ws_floats(s, threads);
	const size_t rows = (size_t)block_rows(s);
	size_t n = rows * (size_t)(s->n_kv + 1);
	if (s->dtype != ATTN_F32)
		n += rows * (size_t)s->head_dim;
	n *= (size_t)team_size(s, threads);
	if (!direct)
		n += (size_t)s->n_kv * (size_t)(s->head_dim + attn_head_dim_v(s));
	return n;
}

/* Every block of rows runs S = Qb K^T, softmax, P V. With enough blocks an
 * OpenMP team takes them, sgemm on one thread per call: threaded sgemm
 * calls with the softmax on one thread between them left the other cores
 * spinning in OpenBLAS's threads for the softmax's time, a serial part that
 * held prefill to a fourth of sgemm's rate on 2 cores. */
static int blas_kernel(cpu_ctx *c, const attn_shape *s, const void *q, const cpu_kv *kv, float *out)
{
	const int64_t B = s->batch, G = s->n_kv_heads, D = s->head_dim, DV = attn_head_dim_v(s), NKV = s->n_kv;
	const int64_t rows = block_rows(s);
	const int direct = kv_direct(kv);
	int rc = cpu_workspace(c, blas_ws_floats(s, direct, c->threads) * sizeof(float));
	if (rc)
		return rc;
	if (!direct && chunked_shape(s)) {
		chunked_kernel(c, s, q, kv, out);
		return ATTN_OK;
	}
	const int team = team_size(s, c->threads);
	const blas_softmax_fn softmax = pick_softmax();
	const size_t per = (size_t)(rows * (NKV + 1)) + (s->dtype != ATTN_F32 ? (size_t)(rows * D) : 0);
	float *Kw = c->ws + (size_t)team * per, *Vw = Kw + NKV * D; /* !direct only */
	openblas_set_num_threads(team > 1 ? 1 : c->threads);
#pragma omp parallel num_threads(team)
	{
		float *S = c->ws + (size_t)omp_get_thread_num() * per, *Qw = S + rows * (NKV + 1);
		for (int64_t b = 0; b < B; b++) {
			int64_t nq, nkv;
			cpu_seq_lens(s, b, &nq, &nkv);
			const blas_blocks k = group_blocks(s, nq, rows);
			for (int64_t g = 0; g < G; g++) {
				const float *Kg = Kw, *Vg = Vw;
				int64_t ldk = D, ldv = DV; /* floats between K (V) rows as sgemm reads them */
				if (direct) {
					Kg = (const float *)cpu_kv_k(kv, b, g, 0);
					Vg = (const float *)cpu_kv_v(kv, b, g, 0);
					ldk = (int64_t)(kv->k_pitch / sizeof(float));
					ldv = (int64_t)(kv->v_pitch / sizeof(float));
				} else {
					/* the rows any block of the group reads: the
					 * sequence's keys, widened by the whole team */
#pragma omp for schedule(static)
					for (int64_t j0 = 0; j0 < nkv; j0 += KC) {
						const int64_t n = j0 + KC < nkv ? KC : nkv - j0;
						cpu_kv_load_rows(Kw + j0 * D, kv, 0, b, g, j0, n, D);
						cpu_kv_load_rows(Vw + j0 * DV, kv, 1, b, g, j0, n, DV);
					}
				}
				/* widened K and V are shared: the next group's
				 * widening waits for every block of this one */
#pragma omp for schedule(dynamic, 1) nowait
				for (int64_t i = 0; i < k.nblk; i++) {
					int64_t r0, r1;
					block_at(&k, i, &r0, &r1);
					run_block(s, q, Kg, ldk, Vg, ldv, b, g, nq, nkv, r0, r1, S, S + rows * NKV, Qw,
					          out, softmax);
				}
				if (!direct) {
#pragma omp barrier
				}
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
	const int threads = ctx ? ((cpu_ctx *)ctx)->threads : 1;
	return (uint64_t)blas_ws_floats(s, attn_kv_dtype(s) == ATTN_F32, threads) * sizeof(float);
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
