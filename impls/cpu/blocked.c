/* blocked.c - flash-attention-style tiling with an online softmax.
 *
 * The algorithm
 * -------------
 * Work is split into tasks of (batch b, KV head g, block of tile_q queries).
 * A task takes the R = ratio * tile_q query rows of its block for every
 * query head of the GQA group: they all attend to the same keys, so each K
 * and V tile is loaded once for all of them. It walks the keys in tiles of
 * tile_kv and keeps, per row, a running maximum m, a running sum l and an
 * unnormalised output O:
 *
 *   S  = scale * Q K_tile^T          (keys after a query under a causal mask: -inf)
 *   m' = max(m, rowmax S)
 *   P  = exp(S - m')
 *   l  = l * exp(m - m') + rowsum P
 *   O  = O * exp(m - m') + P V_tile
 *
 * and writes O / l at the end. The n x n score matrix never exists; a task
 * needs O(R * (tile_kv + head_dim)) floats. blocked_task() below is exactly
 * this loop; everything after it is how each step is made fast.
 *
 * When there are fewer tasks than threads (decode: one query per head, a
 * handful of KV heads), the keys are split too: each split runs the same
 * loop over its share of the cache, and the partial (m, l, O) are merged
 * with the same rescaling (flash-decoding).
 *
 * The tuning, and why it pays
 * ---------------------------
 * - Scores are computed transposed, S^T[key][row]: the 16 rows of a panel
 *   are one pair of vectors, so the softmax runs down the columns with
 *   whole vectors (max, exp, sum of 8 rows at a time) and Q is transposed
 *   once per task instead of K once per tile.
 * - Register blocking: the score kernel keeps a 4-key x 16-row block and the
 *   output kernel a 4-row x 32-column block (16 or 8 columns at the end of
 *   a head_dim) in registers across the whole reduction, so each loaded K,
 *   Q, P or V value feeds several multiply-adds and the loop runs at the FMA
 *   units' rate instead of the load ports'. V8_KEEP (simd.h) stops GCC from
 *   re-loading a vector for each of its uses, which halved the rate.
 * - exp() is a vector polynomial (simd.h): libm's scalar expf would cost more
 *   than the 2 * head_dim multiply-adds each probability feeds.
 * - With few rows (decode) the scores are plain dot products of each query
 *   with each key row: a 16-row panel would be mostly padding there, and the
 *   K and V rows stream from memory once, which is all decode can hope for.
 * - Tiles are sized so that one task's Q, S, O and the current K/V tile stay
 *   in the L2 cache; consecutive tasks share a KV head, so its K and V stay
 *   in the last-level cache while every query block passes over them.
 * - f16 and bf16 storage: Q is widened to f32 once, into the task's Q
 *   buffer. K and V are widened as they stream through, eight values per
 *   vector load (simd.h: F16C for f16, a zero-extension and a shift for
 *   bf16), so there is never an f32 copy of the cache and decode reads half
 *   the bytes. The exception is the 16-row panel score kernel, which
 *   broadcasts single K values: it widens each K tile once into an f32 tile
 *   that stays in L1. The kernels are written once with the dtype as an
 *   argument and instantiated per dtype (the _f32/_f16/_bf16 wrappers), so
 *   the f32 code is what it was. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <omp.h>

#include "cpu_common.h"
#include "simd.h"

/* Rows below this use dot-product scores (see above). */
#define WIDE_ROWS 16

/* The geometry of one task, shared by its steps. */
typedef struct task_geom {
	int64_t D;            /* head_dim */
	int64_t ld;           /* elements from one K (or V) row to the next: D, or 2D in the cache */
	attn_dtype dt;        /* storage type of q, k and v */
	int64_t R, R4;        /* query rows, and rounded up to the output kernel's 4 */
	int64_t Rp;           /* rows as the score and softmax kernels see them (8- or 16-padded) */
	int64_t nq;           /* queries per head in this block */
	int64_t vis0;         /* keys the block's first query sees; query i0 + t sees vis0 + t */
	int wide;             /* S^T by the 4x16 kernel (else dot products) */
	float *Qs;            /* the block's Q, scaled: [D][Rp] when wide, else [R][D] */
	float *St;            /* scores, then probabilities: [tile_kv][Rp] */
	float *O;             /* [R4][D] */
	float *m, *l, *alpha; /* [Rp] each */
	float *Kw;            /* f16/bf16 and wide: the current K tile widened to f32, [tile_kv][D] */
} task_geom;

static void load_rows(const attn_shape *s, const void *q, int64_t b, int64_t g, int64_t i0, task_geom *t);
static void scores(const task_geom *t, const void *K, const void *V, int64_t nk, int64_t avail);
static void mask_tile(const task_geom *t, int64_t j0, int64_t nk);
static void online_softmax(const task_geom *t, int64_t nk);
static void accumulate(const task_geom *t, const void *V, int64_t nk);

/* One task: keys [k0, k1) of batch b, KV head g, for queries i0.. of the
 * geometry's block. Leaves the unnormalised O and m, l in the geometry. */
static void blocked_task(const cpu_ctx *c, const attn_shape *s, const void *q, const void *k, const void *v,
                         int64_t kv_stride, int64_t b, int64_t g, int64_t i0, int64_t k0, int64_t k1, task_geom *t)
{
	const int64_t D = s->head_dim;
	const size_t row = (size_t)t->ld * attn_dtype_size(t->dt); /* bytes from one K row to the next */
	const char *K = (const char *)k + (size_t)((b * s->n_kv_heads + g) * kv_stride) * row;
	const char *V = (const char *)v + (size_t)((b * s->n_kv_heads + g) * kv_stride) * row;

	load_rows(s, q, b, g, i0, t);
	for (int64_t r = 0; r < t->Rp; r++) {
		t->m[r] = -FLT_MAX; /* finite, so a row with nothing visible yet gives exp(0) = 1, not NaN */
		t->l[r] = 0.0f;
	}
	memset(t->O, 0, (size_t)(t->R4 * D) * sizeof(float));
	/* padding lanes of S (rows R..Rp) are never written by the dot-product
	 * scores; start them at 0 so that they stay finite */
	memset(t->St, 0, (size_t)(c->tile_kv * t->Rp) * sizeof(float));

	/* the last query of the block sees the most keys */
	const int64_t kv_end = t->vis0 + t->nq - 1 < k1 ? t->vis0 + t->nq - 1 : k1;
	for (int64_t j0 = k0; j0 < kv_end; j0 += c->tile_kv) {
		const int64_t nk = kv_end - j0 < c->tile_kv ? kv_end - j0 : c->tile_kv;
		scores(t, K + (size_t)j0 * row, V + (size_t)j0 * row, nk, kv_end - j0);
		if (s->causal && j0 + nk > t->vis0)
			mask_tile(t, j0, nk);
		online_softmax(t, nk);
		accumulate(t, V + (size_t)j0 * row, nk);
	}
}

/* ---- the steps ------------------------------------------------------------ */

/* Q rows of the block, widened to f32 and times scale (folded here once
 * instead of into every score). Row r is query head g*ratio + r / nq, query
 * i0 + r % nq. */
static void load_rows(const attn_shape *s, const void *q, int64_t b, int64_t g, int64_t i0, task_geom *t)
{
	const int64_t D = t->D, ratio = s->n_heads / s->n_kv_heads;
	const attn_dtype dt = t->dt;
	for (int64_t r = 0; r < t->R; r++) {
		const int64_t h = g * ratio + r / t->nq, i = i0 + r % t->nq;
		const size_t src = (size_t)(((b * s->n_heads + h) * s->n_q + i) * D);
		if (t->wide)
			for (int64_t cc = 0; cc < D; cc++)
				t->Qs[cc * t->Rp + r] = s->scale * attn_load(q, src + (size_t)cc, dt);
		else
			for (int64_t cc = 0; cc < D; cc++)
				t->Qs[r * D + cc] = s->scale * attn_load(q, src + (size_t)cc, dt);
	}
	if (t->wide) /* zero padding rows: their scores are 0, harmless */
		for (int64_t cc = 0; cc < D; cc++)
			for (int64_t r = t->R; r < t->Rp; r++)
				t->Qs[cc * t->Rp + r] = 0.0f;
}

/* A block of mk (1..4) keys against the 16 rows of one panel of Q^T:
 * St[a][0..16) = sum_c K[a][c] * Qt[c][0..16). 8 accumulators live in
 * registers through the whole head_dim loop; each K value is broadcast to
 * 2 multiply-adds and each Q^T vector is used by mk of them. */
static inline __attribute__((always_inline)) void qk_block(int mk, const float *K, int64_t ld, int64_t D,
                                                           const float *Qt, int64_t Rp, float *St)
{
	v8f acc[4][2];
	for (int a = 0; a < 4; a++)
		acc[a][0] = acc[a][1] = v8_set1(0.0f);
	for (int64_t cc = 0; cc < D; cc++) {
		v8f q0 = v8_load(Qt + cc * Rp), q1 = v8_load(Qt + cc * Rp + 8);
		V8_KEEP(q0);
		V8_KEEP(q1);
		for (int a = 0; a < mk; a++) {
			const float kv = K[a * ld + cc];
			acc[a][0] += kv * q0;
			acc[a][1] += kv * q1;
		}
	}
	for (int a = 0; a < mk; a++) {
		v8_store(St + a * Rp, acc[a][0]);
		v8_store(St + a * Rp + 8, acc[a][1]);
	}
}

/* Dot products of 4 query rows with 4 key rows: 16 independent accumulators
 * hide the multiply-add latency (4 chains, one per row, would stall on it),
 * and each loaded K or Q vector feeds 4 of them. K is stored as dt and
 * widened in registers as it is loaded (dt is a constant where this is
 * inlined, see dot_scores). */
static inline __attribute__((always_inline)) void qk_dots4x4(const float *Q, int64_t D, const void *K, int64_t ld,
                                                             float *St, int64_t Rp, attn_dtype dt)
{
	const float *q0 = Q, *q1 = Q + D, *q2 = Q + 2 * D, *q3 = Q + 3 * D;
	v8f a00 = v8_set1(0.0f), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
	v8f a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
	int64_t cc = 0;
	for (; cc + 8 <= D; cc += 8) {
		v8f x0 = v8_load_as(K, cc, dt), x1 = v8_load_as(K, ld + cc, dt), x2 = v8_load_as(K, 2 * ld + cc, dt),
		    x3 = v8_load_as(K, 3 * ld + cc, dt);
		V8_KEEP(x0);
		V8_KEEP(x1);
		V8_KEEP(x2);
		V8_KEEP(x3);
		v8f y0 = v8_load(q0 + cc), y1 = v8_load(q1 + cc), y2 = v8_load(q2 + cc), y3 = v8_load(q3 + cc);
		V8_KEEP(y0);
		V8_KEEP(y1);
		V8_KEEP(y2);
		V8_KEEP(y3);
		a00 += y0 * x0, a01 += y0 * x1, a02 += y0 * x2, a03 += y0 * x3;
		a10 += y1 * x0, a11 += y1 * x1, a12 += y1 * x2, a13 += y1 * x3;
		a20 += y2 * x0, a21 += y2 * x1, a22 += y2 * x2, a23 += y2 * x3;
		a30 += y3 * x0, a31 += y3 * x1, a32 += y3 * x2, a33 += y3 * x3;
	}
	/* St[key][0..4) = the 4 rows' dots with that key, one store per key */
	v4f d[4] = {v8_hsum4(a00, a10, a20, a30), v8_hsum4(a01, a11, a21, a31), v8_hsum4(a02, a12, a22, a32),
	            v8_hsum4(a03, a13, a23, a33)};
	for (int a = 0; a < 4; a++) {
		for (int64_t c2 = cc; c2 < D; c2++)
			for (int r = 0; r < 4; r++)
				d[a][r] += Q[r * D + c2] * attn_load(K, (size_t)(a * ld + c2), dt);
		memcpy(St + a * Rp, &d[a], sizeof d[a]);
	}
}

/* The same for the edges: nr query rows, nk key rows (each 1..4). */
static inline __attribute__((always_inline)) void qk_dots(const float *Q, int nr, int64_t D, const void *K, int64_t ld,
                                                          int nk, float *St, int64_t Rp, attn_dtype dt)
{
	for (int r = 0; r < nr; r++)
		for (int a = 0; a < nk; a++) {
			v8f acc = v8_set1(0.0f);
			int64_t cc = 0;
			for (; cc + 8 <= D; cc += 8)
				acc += v8_load(Q + r * D + cc) * v8_load_as(K, a * ld + cc, dt);
			float dot = v8_hsum(acc);
			for (; cc < D; cc++)
				dot += Q[r * D + cc] * attn_load(K, (size_t)(a * ld + cc), dt);
			St[a * Rp + r] = dot;
		}
}

/* Ask for K/V rows [j, j + n) ahead of their use. With few query rows there
 * is too little arithmetic per byte to hide a memory stall, and the hardware
 * prefetcher does not follow decode's pattern (four K rows read side by
 * side, V in column strips, a different head after each task). Measured on
 * the development machine (2-core Zen 4, decode of a 256 MiB cache, K and V
 * in separate arrays): no prefetch 14 GB/s, K one tile ahead 21 GB/s, every
 * line of K ~24 KiB and of V ~8 KiB ahead 21-29 GB/s (the machine's own read
 * bandwidth moving between 29 and 51), fewer lines or other distances less.
 * In the cache, where a key's K and V rows are adjacent, both come in one
 * region ~48 KiB ahead. Locality 2: into L2, as L1 is busy with the current
 * tile. */
#define PREFETCH_K_BYTES (48 << 10)
#define PREFETCH_V_BYTES (8 << 10)

static void prefetch_bytes(const char *p, size_t n)
{
	for (const char *end = p + n; p < end; p += 64)
		__builtin_prefetch(p, 0, 2);
}

/* The dot-product scores of a tile (few rows, see scores()), K stored as dt.
 * The prefetch distances are in bytes, so a 16-bit cache is asked for twice
 * as many rows ahead as an f32 one. */
static inline __attribute__((always_inline)) void dot_scores(const task_geom *t, const void *K, const void *V,
                                                             int64_t nk, int64_t avail, attn_dtype dt)
{
	const int64_t D = t->D, ld = t->ld, Rp = t->Rp;
	const size_t esz = attn_dtype_size(dt), row = (size_t)ld * esz;
	/* in the cache a key's K and V rows are adjacent: one region */
	const int together = (const char *)V == (const char *)K + (size_t)D * esz && ld == 2 * D;
	const int64_t ka = PREFETCH_K_BYTES / (int64_t)row + 1;
	const int64_t va = PREFETCH_V_BYTES / (int64_t)row + 1;
	for (int64_t j = 0; j < nk; j += 4) {
		const int na = nk - j < 4 ? (int)(nk - j) : 4;
		const char *Kj = (const char *)K + (size_t)j * row;
		if (j + ka + 4 <= avail)
			prefetch_bytes(Kj + (size_t)ka * row, 4 * (together ? row : (size_t)D * esz));
		if (!together && j + va + 4 <= avail)
			prefetch_bytes((const char *)V + (size_t)(j + va) * row, 4 * (size_t)D * esz);
		for (int64_t r = 0; r < t->R; r += 4) {
			const int nr = t->R - r < 4 ? (int)(t->R - r) : 4;
			if (na == 4 && nr == 4)
				qk_dots4x4(t->Qs + r * D, D, Kj, ld, t->St + j * Rp + r, Rp, dt);
			else
				qk_dots(t->Qs + r * D, nr, D, Kj, ld, na, t->St + j * Rp + r, Rp, dt);
		}
	}
}

static void dot_scores_f32(const task_geom *t, const void *K, const void *V, int64_t nk, int64_t avail)
{
	dot_scores(t, K, V, nk, avail, ATTN_F32);
}

static void dot_scores_f16(const task_geom *t, const void *K, const void *V, int64_t nk, int64_t avail)
{
	dot_scores(t, K, V, nk, avail, ATTN_F16);
}

static void dot_scores_bf16(const task_geom *t, const void *K, const void *V, int64_t nk, int64_t avail)
{
	dot_scores(t, K, V, nk, avail, ATTN_BF16);
}

/* St[j][r] = q_r . k_j for the nk keys of a tile; avail (>= nk) keys are
 * readable from K and V, for prefetching. */
static void scores(const task_geom *t, const void *K, const void *V, int64_t nk, int64_t avail)
{
	const int64_t D = t->D, Rp = t->Rp;
	if (!t->wide) {
		if (t->dt == ATTN_F16)
			dot_scores_f16(t, K, V, nk, avail);
		else if (t->dt == ATTN_BF16)
			dot_scores_bf16(t, K, V, nk, avail);
		else
			dot_scores_f32(t, K, V, nk, avail);
		return;
	}
	const float *Kf = K;
	int64_t ld = t->ld;
	if (t->dt != ATTN_F32) {
		/* qk_block broadcasts single K values, each to every 16-row panel:
		 * widen the tile once into an f32 tile (in L1) instead */
		v8_widen_rows(t->Kw, K, nk, D, ld, t->dt);
		Kf = t->Kw;
		ld = D;
	}
	/* a 16-row panel of Q^T (D x 16 floats) stays in L1 while the tile's
	 * keys pass by */
	for (int64_t r = 0; r < Rp; r += 16) {
		int64_t j = 0;
		for (; j + 4 <= nk; j += 4)
			qk_block(4, Kf + j * ld, ld, D, t->Qs + r, Rp, t->St + j * Rp + r);
		switch (nk - j) {
		case 3:
			qk_block(3, Kf + j * ld, ld, D, t->Qs + r, Rp, t->St + j * Rp + r);
			break;
		case 2:
			qk_block(2, Kf + j * ld, ld, D, t->Qs + r, Rp, t->St + j * Rp + r);
			break;
		case 1:
			qk_block(1, Kf + j * ld, ld, D, t->Qs + r, Rp, t->St + j * Rp + r);
			break;
		default:
			break;
		}
	}
}

/* Causal mask on a tile that crosses the diagonal: row r sees keys up to
 * vis0 + r % nq (exclusive). */
static void mask_tile(const task_geom *t, int64_t j0, int64_t nk)
{
	for (int64_t r = 0; r < t->R; r++) {
		const int64_t first = t->vis0 + r % t->nq - j0;
		for (int64_t j = first < 0 ? 0 : first; j < nk; j++)
			t->St[j * t->Rp + r] = -INFINITY;
	}
}

/* The online softmax of the algorithm, 8 rows per vector down the columns of
 * S^T: new maxima, P = exp(S - m') in place, alpha = exp(m - m'), l. */
static void online_softmax(const task_geom *t, int64_t nk)
{
	const int64_t Rp = t->Rp;
	for (int64_t r = 0; r < Rp; r += 8) {
		const v8f m_old = v8_load(t->m + r);
		v8f mx = m_old;
		for (int64_t j = 0; j < nk; j++)
			mx = v8_max(mx, v8_load(t->St + j * Rp + r));
		v8f sum = v8_set1(0.0f);
		for (int64_t j = 0; j < nk; j++) {
			const v8f p = v8_exp(v8_load(t->St + j * Rp + r) - mx);
			v8_store(t->St + j * Rp + r, p);
			sum += p;
		}
		const v8f al = v8_exp(m_old - mx);
		v8_store(t->alpha + r, al);
		v8_store(t->l + r, v8_load(t->l + r) * al + sum);
		v8_store(t->m + r, mx);
	}
}

/* O[r][c..c+8nv) = alpha_r * O[r][..] + sum_j P[r][j] V[j][c..c+8nv) for 4
 * rows: 4 x nv accumulators stay in registers across the keys; each V vector
 * feeds 4 multiply-adds, each probability nv. V is stored as dt, column c at
 * element c of row 0, and widened in registers as it is loaded. */
static inline __attribute__((always_inline)) void pv_block(int nv, const float *Pt, int64_t Rp, int64_t nk,
                                                           const void *V, int64_t c, int64_t ld, float *O, int64_t D,
                                                           const float *alpha, attn_dtype dt)
{
	v8f acc[4][4];
	for (int r = 0; r < 4; r++)
		for (int u = 0; u < nv; u++)
			acc[r][u] = v8_load(O + r * D + 8 * u) * alpha[r];
	for (int64_t j = 0; j < nk; j++) {
		const float *p = Pt + j * Rp;
		v8f vv[4];
		for (int u = 0; u < nv; u++) {
			vv[u] = v8_load_as(V, j * ld + c + 8 * u, dt);
			V8_KEEP(vv[u]);
		}
		for (int r = 0; r < 4; r++)
			for (int u = 0; u < nv; u++)
				acc[r][u] += p[r] * vv[u];
	}
	for (int r = 0; r < 4; r++)
		for (int u = 0; u < nv; u++)
			v8_store(O + r * D + 8 * u, acc[r][u]);
}

/* O = O * alpha + P V over a tile, in 32-, 16- and 8-column strips of the
 * head dimension (and a plain loop for a head_dim that is not a multiple
 * of 8). A strip of V (nk x 32 values) stays in L1 for all the rows. */
static inline __attribute__((always_inline)) void accumulate_as(const task_geom *t, const void *V, int64_t nk,
                                                                attn_dtype dt)
{
	const int64_t D = t->D, ld = t->ld, Rp = t->Rp;
	int64_t c = 0;
	for (; c + 32 <= D; c += 32)
		for (int64_t r = 0; r < t->R4; r += 4)
			pv_block(4, t->St + r, Rp, nk, V, c, ld, t->O + r * D + c, D, t->alpha + r, dt);
	for (; c + 16 <= D; c += 16)
		for (int64_t r = 0; r < t->R4; r += 4)
			pv_block(2, t->St + r, Rp, nk, V, c, ld, t->O + r * D + c, D, t->alpha + r, dt);
	for (; c + 8 <= D; c += 8)
		for (int64_t r = 0; r < t->R4; r += 4)
			pv_block(1, t->St + r, Rp, nk, V, c, ld, t->O + r * D + c, D, t->alpha + r, dt);
	if (c == D)
		return;
	for (int64_t r = 0; r < t->R4; r++) {
		float *o = t->O + r * D;
		for (int64_t cc = c; cc < D; cc++)
			o[cc] *= t->alpha[r];
		for (int64_t j = 0; j < nk; j++) {
			const float p = t->St[j * Rp + r];
			for (int64_t cc = c; cc < D; cc++)
				o[cc] += p * attn_load(V, (size_t)(j * ld + cc), dt);
		}
	}
}

static void accumulate_f32(const task_geom *t, const void *V, int64_t nk)
{
	accumulate_as(t, V, nk, ATTN_F32);
}

static void accumulate_f16(const task_geom *t, const void *V, int64_t nk)
{
	accumulate_as(t, V, nk, ATTN_F16);
}

static void accumulate_bf16(const task_geom *t, const void *V, int64_t nk)
{
	accumulate_as(t, V, nk, ATTN_BF16);
}

static void accumulate(const task_geom *t, const void *V, int64_t nk)
{
	if (t->dt == ATTN_F16)
		accumulate_f16(t, V, nk);
	else if (t->dt == ATTN_BF16)
		accumulate_bf16(t, V, nk);
	else
		accumulate_f32(t, V, nk);
}

/* ---- driver: tasks, key splits, threads ----------------------------------- */

typedef struct plan {
	int64_t nblk, ntask, nsplit;
	int64_t Rmax, Rp, R4;
	size_t scratch_floats; /* per thread */
	size_t kw_off;         /* where the widened K tile starts in it (f16/bf16, wide) */
	size_t part_floats;    /* per (task, split): O, m, l */
} plan;

static int64_t round_up(int64_t x, int64_t m)
{
	return (x + m - 1) / m * m;
}

static void make_plan(const cpu_ctx *c, const attn_shape *s, plan *p)
{
	const int64_t D = s->head_dim, ratio = s->n_heads / s->n_kv_heads;
	const int64_t bq = c->tile_q < s->n_q ? c->tile_q : s->n_q;
	p->nblk = (s->n_q + bq - 1) / bq;
	p->ntask = s->batch * s->n_kv_heads * p->nblk;
	p->Rmax = ratio * bq;
	p->Rp = round_up(p->Rmax, p->Rmax >= WIDE_ROWS ? 16 : 8);
	p->R4 = round_up(p->Rmax, 4);
	/* split the keys when there are too few tasks to feed every thread, but
	 * keep each split a few hundred keys long so the merge stays cheap */
	p->nsplit = 1;
	if (p->ntask < 2 * c->threads && c->threads > 1) {
		int64_t want = (2 * c->threads + p->ntask - 1) / p->ntask, most = s->n_kv / 256;
		p->nsplit = want < most ? want : (most > 1 ? most : 1);
	}
	p->scratch_floats = (size_t)(D * p->Rp + c->tile_kv * p->Rp + p->R4 * D + 3 * p->Rp);
	p->kw_off = 0;
	if (s->dtype != ATTN_F32 && p->Rmax >= WIDE_ROWS) { /* room for the widened K tile */
		p->kw_off = (p->scratch_floats + 15) & ~(size_t)15;
		p->scratch_floats = p->kw_off + (size_t)(c->tile_kv * D);
	}
	p->part_floats = p->nsplit > 1 ? (size_t)(p->R4 * D + 2 * p->Rp) : 0;
}

/* The geometry of the task at query i0, with its buffers: Q, S and alpha in
 * the thread's scratch; O, m and l there too, or in part (a split's slot,
 * where the merge finds them). */
static void geom_init(task_geom *t, const plan *p, const cpu_ctx *c, const attn_shape *s, int64_t i0, float *scratch,
                      float *part)
{
	const int64_t ratio = s->n_heads / s->n_kv_heads, bq = p->Rmax / ratio;
	t->D = s->head_dim;
	t->dt = s->dtype;
	t->nq = s->n_q - i0 < bq ? s->n_q - i0 : bq;
	t->R = t->nq * ratio;
	t->R4 = round_up(t->R, 4);
	t->wide = p->Rmax >= WIDE_ROWS;
	t->Rp = p->Rp;
	/* non-causal: as if causal with every query seeing all n_kv keys */
	t->vis0 = s->causal ? attn_visible_keys(s, i0) : s->n_kv - t->nq + 1;
	t->Qs = scratch;
	t->St = t->Qs + t->D * p->Rp;
	t->alpha = t->St + c->tile_kv * p->Rp;
	t->O = part ? part : t->alpha + p->Rp;
	t->m = t->O + p->R4 * t->D;
	t->l = t->m + p->Rp;
	t->Kw = p->kw_off ? scratch + p->kw_off : NULL;
}

/* Final rows: out = O / l. */
static void write_rows(const attn_shape *s, const task_geom *t, int64_t b, int64_t g, int64_t i0, float *out)
{
	const int64_t D = t->D, ratio = s->n_heads / s->n_kv_heads;
	for (int64_t r = 0; r < t->R; r++) {
		const int64_t h = g * ratio + r / t->nq, i = i0 + r % t->nq;
		float *dst = out + ((b * s->n_heads + h) * s->n_q + i) * D;
		const float inv = t->l[r] > 0.0f ? 1.0f / t->l[r] : 0.0f;
		for (int64_t cc = 0; cc < D; cc++)
			dst[cc] = t->O[r * D + cc] * inv;
	}
}

typedef struct item_args {
	const cpu_ctx *c;
	const attn_shape *s;
	const plan *p;
	const void *q, *k, *v;
	int64_t kv_stride, ld;
	float *out, *ws;
	size_t per_thread;
	float *part;
} item_args;

/* Work item it (task it / nsplit, key split it % nsplit) on thread th. */
static void run_item(const item_args *a, int64_t it, int th)
{
	const plan *p = a->p;
	const attn_shape *s = a->s;
	const int64_t G = s->n_kv_heads, nblk = p->nblk, nsplit = p->nsplit;
	const int64_t sp = it % nsplit, t_ = it / nsplit;
	const int64_t blk = t_ % nblk, g = (t_ / nblk) % G, b = t_ / (nblk * G);
	const int64_t i0 = blk * (p->Rmax / (s->n_heads / G));
	task_geom t;
	geom_init(&t, p, a->c, s, i0, a->ws + a->per_thread * (size_t)th,
	          nsplit > 1 ? a->part + p->part_floats * (size_t)it : NULL);
	const int64_t k0 = s->n_kv * sp / nsplit, k1 = s->n_kv * (sp + 1) / nsplit;
	t.ld = a->ld;
	blocked_task(a->c, s, a->q, a->k, a->v, a->kv_stride, b, g, i0, k0, k1, &t);
	if (nsplit == 1)
		write_rows(s, &t, b, g, i0, a->out);
}

/* K and V from a contiguous view (separate tensors or the cache): this
 * kernel keeps its own pointer arithmetic, rows ld elements apart. */
static int blocked_kernel(cpu_ctx *c, const attn_shape *s, const void *q, const cpu_kv *kv, float *out)
{
	const void *k = kv->k, *v = kv->v;
	const int64_t kv_stride = kv->stride, ld = (int64_t)(kv->k_pitch / attn_dtype_size(s->dtype));
	plan p;
	make_plan(c, s, &p);
	const int64_t G = s->n_kv_heads, nblk = p.nblk, nsplit = p.nsplit, nitem = p.ntask * nsplit;
	const size_t per_thread = (p.scratch_floats + 15) & ~(size_t)15;
	const size_t parts = p.part_floats * (size_t)nitem;
	int rc = cpu_workspace(c, (per_thread * (size_t)c->threads + parts) * sizeof(float));
	if (rc)
		return rc;
	float *ws = c->ws, *part = ws + per_thread * (size_t)c->threads;
	const int64_t bq = p.Rmax / (s->n_heads / G);

	/* Later query blocks see more keys under a causal mask: dynamic
	 * scheduling keeps the threads evenly loaded. Items of one task's splits
	 * are adjacent; tasks of one KV head are adjacent, so its K and V stay
	 * cached while all its query blocks pass. A single item (a small decode)
	 * runs without a parallel region, whose start costs more than the item. */
	const item_args a = {c, s, &p, q, k, v, kv_stride, ld, out, ws, per_thread, part};
	if (nitem == 1)
		run_item(&a, 0, 0);
	else {
#pragma omp parallel for num_threads(c->threads) schedule(dynamic, 1)
		for (int64_t it = 0; it < nitem; it++)
			run_item(&a, it, omp_get_thread_num());
	}
	if (nsplit == 1)
		return ATTN_OK;

		/* merge the splits: O = sum_s exp(m_s - M) O_s / sum_s exp(m_s - M) l_s */
#pragma omp parallel for num_threads(c->threads) schedule(static)
	for (int64_t t_ = 0; t_ < p.ntask; t_++) {
		const int64_t blk = t_ % nblk, g = (t_ / nblk) % G, b = t_ / (nblk * G);
		const int64_t i0 = blk * bq, D = s->head_dim;
		float *first = part + p.part_floats * (size_t)(t_ * nsplit);
		task_geom t;
		geom_init(&t, &p, c, s, i0, ws + per_thread * (size_t)omp_get_thread_num(), first);
		for (int64_t r = 0; r < t.R; r++) {
			float M = -FLT_MAX;
			for (int64_t sp = 0; sp < nsplit; sp++)
				M = fmaxf(M, first[p.part_floats * (size_t)sp + (size_t)(p.R4 * D + r)]);
			float L = 0.0f;
			for (int64_t sp = 0; sp < nsplit; sp++) {
				float *o = first + p.part_floats * (size_t)sp;
				const float w = expf(o[p.R4 * D + r] - M);
				L += w * o[p.R4 * D + t.Rp + r];
				for (int64_t cc = 0; cc < D; cc++)
					t.O[r * D + cc] = sp ? t.O[r * D + cc] + w * o[r * D + cc] : w * o[r * D + cc];
			}
			t.l[r] = L;
		}
		write_rows(s, &t, b, g, i0, out);
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
	return cpu_supports(s, 256, why, why_len);
}

static uint64_t blocked_workspace(void *ctx, const attn_shape *s)
{
	const cpu_ctx *c = ctx;
	plan p;
	make_plan(c, s, &p);
	const size_t per_thread = (p.scratch_floats + 15) & ~(size_t)15;
	return ((uint64_t)per_thread * (uint64_t)c->threads + p.part_floats * (uint64_t)(p.ntask * p.nsplit)) *
	       sizeof(float);
}

static const attn_backend blocked_backend = {
    .abi_version = ATTN_ABI_VERSION,
    .name = "blocked",
    .description = "flash-style tiles with online softmax, OpenMP, GQA heads share K/V tiles",
    .caps = ATTN_CAP_CAUSAL | ATTN_CAP_GQA | ATTN_CAP_KV_CACHE | ATTN_CAP_THREADS | ATTN_CAP_F16 | ATTN_CAP_BF16,
    .create = blocked_create,
    .supports = blocked_supports,
    .workspace_bytes = blocked_workspace,
    CPU_SHARED_ENTRY_POINTS,
};

const attn_backend *attn_backend_blocked(void)
{
	return &blocked_backend;
}
