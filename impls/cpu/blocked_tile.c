/* blocked_tile.c - the steps of blocked.c's loop on one tile of keys, and
 * the vector kernels that make them fast (the reasons are at the top of
 * blocked.c). Scores are kept transposed, S^T[key][row], so that every
 * per-row step (the variants, the softmax) runs down a column with whole
 * vectors of 8 rows.
 *
 * One source for every instruction set: the Makefile compiles this file
 * once for the build's baseline (CPU_ISA unset: blocked_isa_generic)
 * and once more per x86-64 ISA with its -m flags and -DCPU_ISA=avx2 or
 * avx512; each compilation fills the table of that name, and blocked.c
 * picks one at run time. Everything else here is static, so the copies do
 * not clash. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "blocked.h"
#include "dequant.h"
#include "simd.h"

/* Q rows of the block, widened to f32 and times scale (folded here once
 * instead of into every score). Row r is query head g*ratio + r / nq, query
 * i0 + r % nq. Also each row's ALiBi slope and position. Wide, Q is stored
 * transposed ([D][Rp]); it is written VW_MAX rows at a time, each column's
 * VW_MAX values to one line: a row at a time went down a column of Q^T,
 * every store to another line (128 rows: 64 KiB, past L1), and took 7% of
 * a causal prefill. */
static void bt_load_rows(const attn_shape *s, const void *q, task_geom *t)
{
	const int64_t D = t->D, ratio = s->n_heads / s->n_kv_heads;
	const attn_dtype dt = t->qdt;
	const size_t esz = attn_dtype_size(dt);
	const float scale = s->scale; /* a local: the stores below may alias s */
	for (int64_t r0 = 0; r0 < t->R; r0 += VW_MAX) {
		const int64_t n = t->R - r0 < VW_MAX ? t->R - r0 : VW_MAX;
		const char *src[VW_MAX];
		for (int64_t u = 0; u < n; u++) {
			const int64_t r = r0 + u, h = t->g * ratio + r / t->nq, i = t->i0 + r % t->nq;
			src[u] = (const char *)q + (size_t)(((t->b * s->n_heads + h) * s->n_q + i) * D) * esz;
			t->slope[r] = s->alibi ? s->alibi[h] : 0.0f;
			t->pos[r] = (float)(t->pos0 + r % t->nq);
		}
		if (t->wide)
			for (int64_t cc = 0; cc < D; cc++)
				for (int64_t u = 0; u < n; u++)
					t->Qs[cc * t->Rp + r0 + u] = scale * attn_load(src[u], (size_t)cc, dt);
		else
			for (int64_t u = 0; u < n; u++)
				for (int64_t cc = 0; cc < D; cc++)
					t->Qs[(r0 + u) * D + cc] = scale * attn_load(src[u], (size_t)cc, dt);
	}
	for (int64_t r = t->R; r < t->Rp; r++) /* padding rows: no ALiBi term */
		t->slope[r] = t->pos[r] = 0.0f;
	if (t->wide) /* zero padding rows: their scores are 0, harmless */
		for (int64_t cc = 0; cc < D; cc++)
			for (int64_t r = t->R; r < t->Rp; r++)
				t->Qs[cc * t->Rp + r] = 0.0f;
}

/* The K or V tile as the kernels read it (blocked_isa.tile). Rows that are
 * not read in place (bk_in_place) are dequantized here, by this instruction
 * set's code, into an f32 tile of the task that stays in L1/L2 while the
 * tile's scores and P V use it: each stored row once per task, shared by
 * all the GQA group's rows. */
static const void *bt_tile(const cpu_kv *kv, const task_geom *t, int v, int64_t j0, int64_t n, float *scratch,
                           size_t *pitch, attn_dtype *dt)
{
	if (bk_in_place(kv, t->wide)) {
		*dt = kv->dt;
		*pitch = kv->paged ? (v ? kv->v_row : kv->k_row) : (v ? kv->v_pitch : kv->k_pitch);
		return v ? cpu_kv_v(kv, t->b, t->g, j0) : cpu_kv_k(kv, t->b, t->g, j0);
	}
	const int64_t width = v ? t->Dv : t->D;
	dq_rows(scratch, kv, v, t->b, t->g, j0, n, width);
	*dt = ATTN_F32;
	*pitch = (size_t)width * sizeof(float);
	return scratch;
}

/* A block of mk (1..4) keys against nv (2 or 4) vectors of rows of Q^T
 * (32 or 64 rows under AVX-512): St[a][0..nv VW) = sum_c K[a][c] *
 * Qt[c][0..nv VW). The mk x nv accumulators live in registers through the
 * whole head_dim loop; each K value is broadcast to nv multiply-adds and each
 * Q^T vector is used by mk of them. With 4 x 4 (16 accumulators) a step
 * loads 4 Q^T vectors and broadcasts 4 K values for 16 multiply-adds, half
 * the loads per multiply-add of 4 x 2, and twice the chains the
 * multiply-add latency needs to keep both units busy. */
static inline __attribute__((always_inline)) void qk_block(int mk, int nv, const float *K, int64_t ld, int64_t D,
                                                           const float *Qt, int64_t Rp, float *St)
{
	vwf acc[4][4];
	for (int a = 0; a < 4; a++)
		for (int u = 0; u < 4; u++)
			acc[a][u] = vw_set1(0.0f);
	for (int64_t cc = 0; cc < D; cc++) {
		vwf q[4];
		for (int u = 0; u < nv; u++) {
			q[u] = vw_load(Qt + cc * Rp + u * VW);
			V8_KEEP(q[u]);
		}
		for (int a = 0; a < mk; a++) {
			const vwf kv = vw_set1(K[a * ld + cc]);
			for (int u = 0; u < nv; u++)
				acc[a][u] += kv * q[u];
		}
	}
	for (int a = 0; a < mk; a++)
		for (int u = 0; u < nv; u++)
			vw_store(St + a * Rp + u * VW, acc[a][u]);
}

/* The keys of a tile against nv vectors of rows starting at row r. */
static inline __attribute__((always_inline)) void qk_panel(int nv, const task_geom *t, const float *Kf, int64_t ld,
                                                           int64_t nk, int64_t r)
{
	const int64_t D = t->D, Rp = t->Rp;
	int64_t j = 0;
	for (; j + 4 <= nk; j += 4)
		qk_block(4, nv, Kf + j * ld, ld, D, t->Qs + r, Rp, t->St + j * Rp + r);
	switch (nk - j) {
	case 3:
		qk_block(3, nv, Kf + j * ld, ld, D, t->Qs + r, Rp, t->St + j * Rp + r);
		break;
	case 2:
		qk_block(2, nv, Kf + j * ld, ld, D, t->Qs + r, Rp, t->St + j * Rp + r);
		break;
	case 1:
		qk_block(1, nv, Kf + j * ld, ld, D, t->Qs + r, Rp, t->St + j * Rp + r);
		break;
	default:
		break;
	}
}

/* Dot products of 4 query rows with 4 key rows: 16 independent accumulators
 * hide the multiply-add latency (4 chains, one per row, would stall on it),
 * and each loaded K or Q vector feeds 4 of them. The K rows (at Kr[0..4))
 * are stored as dt and widened (or dequantized: q8_0) in registers as they
 * are loaded (dt is a constant where this is inlined, see dot_scores); VW
 * values at a time, 16 under AVX-512. The first pfb bytes of the 4 rows at
 * pf[0..4) are asked for a line of each per step of the loop (see
 * dot_scores for why). */
static inline __attribute__((always_inline)) void qk_dots4x4(const float *Q, int64_t D, const char *const *Kr,
                                                             float *St, int64_t Rp, attn_dtype dt, const float *h2f,
                                                             const char *const *pf, size_t pfb)
{
	size_t pfo = 0; /* the next line to ask for, of each row */
	const float *q0 = Q, *q1 = Q + D, *q2 = Q + 2 * D, *q3 = Q + 3 * D;
	const char *k0 = Kr[0], *k1 = Kr[1], *k2 = Kr[2], *k3 = Kr[3];
	/* named accumulators: GCC keeps an array of vectors on the stack */
	vwf a00 = vw_set1(0.0f), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
	vwf a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
	/* the 16 multiply-adds of one vector step at column col, x0..x3 the
	 * keys' values */
#define QK_STEP(col)                                                                                                   \
	do {                                                                                                           \
		V8_KEEP(x0);                                                                                           \
		V8_KEEP(x1);                                                                                           \
		V8_KEEP(x2);                                                                                           \
		V8_KEEP(x3);                                                                                           \
		vwf y0 = vw_load(q0 + (col)), y1 = vw_load(q1 + (col)), y2 = vw_load(q2 + (col)),                      \
		    y3 = vw_load(q3 + (col));                                                                          \
		V8_KEEP(y0);                                                                                           \
		V8_KEEP(y1);                                                                                           \
		V8_KEEP(y2);                                                                                           \
		V8_KEEP(y3);                                                                                           \
		a00 += y0 * x0, a01 += y0 * x1, a02 += y0 * x2, a03 += y0 * x3;                                        \
		a10 += y1 * x0, a11 += y1 * x1, a12 += y1 * x2, a13 += y1 * x3;                                        \
		a20 += y2 * x0, a21 += y2 * x1, a22 += y2 * x2, a23 += y2 * x3;                                        \
		a30 += y3 * x0, a31 += y3 * x1, a32 += y3 * x2, a33 += y3 * x3;                                        \
	} while (0)
#define QK_PREFETCH()                                                                                                  \
	do {                                                                                                           \
		if (pfo < pfb) {                                                                                       \
			__builtin_prefetch(pf[0] + pfo, 0, 2);                                                         \
			__builtin_prefetch(pf[1] + pfo, 0, 2);                                                         \
			__builtin_prefetch(pf[2] + pfo, 0, 2);                                                         \
			__builtin_prefetch(pf[3] + pfo, 0, 2);                                                         \
			pfo += 64;                                                                                     \
		}                                                                                                      \
	} while (0)
	int64_t cc = 0;
	if (dt == ATTN_Q8_0) {
		/* a block of 32 at a time: each key's scale converted once per
		 * block, not once per vector */
		for (; cc + ATTN_QBLOCK <= D; cc += ATTN_QBLOCK) {
			const attn_block_q8_0 *b0 = (const attn_block_q8_0 *)k0 + cc / ATTN_QBLOCK,
			                      *b1 = (const attn_block_q8_0 *)k1 + cc / ATTN_QBLOCK,
			                      *b2 = (const attn_block_q8_0 *)k2 + cc / ATTN_QBLOCK,
			                      *b3 = (const attn_block_q8_0 *)k3 + cc / ATTN_QBLOCK;
			const vwf d0 = vw_set1(h2f[b0->d]), d1 = vw_set1(h2f[b1->d]), d2 = vw_set1(h2f[b2->d]),
			          d3 = vw_set1(h2f[b3->d]);
			for (int u = 0; u < ATTN_QBLOCK; u += VW) {
				vwf x0 = vw_load_i8(b0->qs + u) * d0, x1 = vw_load_i8(b1->qs + u) * d1,
				    x2 = vw_load_i8(b2->qs + u) * d2, x3 = vw_load_i8(b3->qs + u) * d3;
				QK_STEP(cc + u);
				QK_PREFETCH();
			}
		}
	} else
		for (; cc + VW <= D; cc += VW) {
			vwf x0 = vw_load_row(k0, cc, dt), x1 = vw_load_row(k1, cc, dt), x2 = vw_load_row(k2, cc, dt),
			    x3 = vw_load_row(k3, cc, dt);
			QK_STEP(cc);
			QK_PREFETCH();
		}
#undef QK_STEP
	while (pfo < pfb) /* rows longer than the loop's steps, or a head_dim below VW */
		QK_PREFETCH();
#undef QK_PREFETCH
	/* d[4 key + row]: the 16 dots; St[key][0..4) = the 4 rows' dots with
	 * that key (narrow S of 4 rows: all 16 in one store) */
	float d[16];
#if VW == 16
	const vwf acc[16] = {a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33};
	const vwf sums = vw_hsum16(acc);
	if (cc == D && Rp == 4) {
		vw_store(St, sums);
		return;
	}
	vw_store(d, sums);
#else
	const v4f h0 = v8_hsum4(vw_fold(a00), vw_fold(a10), vw_fold(a20), vw_fold(a30)),
	          h1 = v8_hsum4(vw_fold(a01), vw_fold(a11), vw_fold(a21), vw_fold(a31)),
	          h2 = v8_hsum4(vw_fold(a02), vw_fold(a12), vw_fold(a22), vw_fold(a32)),
	          h3 = v8_hsum4(vw_fold(a03), vw_fold(a13), vw_fold(a23), vw_fold(a33));
	memcpy(d, &h0, sizeof h0);
	memcpy(d + 4, &h1, sizeof h1);
	memcpy(d + 8, &h2, sizeof h2);
	memcpy(d + 12, &h3, sizeof h3);
#endif
	for (int a = 0; a < 4; a++) {
		for (int64_t c2 = cc; c2 < D; c2++)
			for (int r = 0; r < 4; r++)
				d[4 * a + r] += Q[r * D + c2] * vw_load1_row(Kr[a], c2, dt);
		memcpy(St + a * Rp, d + 4 * a, 4 * sizeof(float));
	}
}

/* The same for the edges: nr query rows, nk key rows (each 1..4). */
static inline __attribute__((always_inline)) void qk_dots(const float *Q, int nr, int64_t D, const char *const *Kr,
                                                          int nk, float *St, int64_t Rp, attn_dtype dt)
{
	for (int r = 0; r < nr; r++)
		for (int a = 0; a < nk; a++) {
			const char *k = Kr[a];
			vwf acc = vw_set1(0.0f);
			int64_t cc = 0;
			for (; cc + VW <= D; cc += VW)
				acc += vw_load(Q + r * D + cc) * vw_load_row(k, cc, dt);
			float dot = v8_hsum(vw_fold(acc));
			for (; cc < D; cc++)
				dot += Q[r * D + cc] * vw_load1_row(k, cc, dt);
			St[a * Rp + r] = dot;
		}
}

/* Ask for K/V rows ahead of their use. With few query rows there is too
 * little arithmetic per byte to hide a memory stall, and the hardware
 * prefetcher does not follow decode's pattern (four K rows read side by
 * side, V in column strips, a different head after each task, pages
 * anywhere). Measured on the development machine (2-core Zen 4, decode of a
 * 256 MiB cache, K and V in separate arrays): no prefetch 14 GB/s, K one
 * tile ahead 21 GB/s, every line of K ~24 KiB and of V ~8 KiB ahead 21-29
 * GB/s (the machine's own read bandwidth moving between 29 and 51), fewer
 * lines or other distances less. In the cache, where a key's K and V rows
 * are adjacent, and in a paged tile, both come BK_AHEAD_BYTES (blocked.h)
 * ahead. Locality 2: into L2, as L1 is busy with the current tile. There
 * the scores ask for the K rows and P V for the V rows as each reads its
 * own (split_ahead), so that the requests are spread over the whole tile
 * instead of coming in bursts during the scores (on the AVX-512 VM, cold
 * 2-thread decode of a 32k cache, 8 pairs: f32 and f16 as fast or up to 16%
 * faster in every pair, typically 8%). Within each, a few lines go with
 * each step of the 4 x 4 dot-product loop, and each strip of P V asks for
 * its share of a V row's lines, rather than whole rows at once: a burst
 * fills the core's few line-fill buffers, and the loop then waits for them
 * instead of computing while memory works (same VM and decode, 14 pairs:
 * f32 faster in every pair, median 1.16x; f16 in 10, median 1.10x). */
#define PREFETCH_V_BYTES (8 << 10)

static void prefetch_bytes(const char *p, size_t n)
{
	for (const char *end = p + n; p < end; p += 64)
		__builtin_prefetch(p, 0, 2);
}

/* Row j of a tile: from the tile's row table when it has one (paged), else
 * pitch bytes on from the first. */
static inline const char *key_row(const char *const *table, const void *first, size_t pitch, int64_t j)
{
	return table ? table[j] : (const char *)first + (size_t)j * pitch;
}

/* Whether a tile's K and V rows sit side by side, one region per key (the
 * cache read in place; krow: bytes of a K row). */
static inline int kv_together(const task_geom *t, const void *K, const void *V, size_t krow)
{
	return (const char *)V == (const char *)K + krow && t->pk == t->pv;
}

/* How many keys ahead the scores ask for K rows and P V for V rows, each as
 * it reads its own: in a paged decode's tile, and in the cache where K rows
 * are whole cache lines; 0 elsewhere (wide tiles; separate K and V tensors,
 * for which dot_scores asks for both). */
static inline int64_t split_ahead(const task_geom *t, const void *K, const void *V, attn_dtype dt)
{
	if (t->wide)
		return 0;
	if (t->kr)
		return bk_ahead_keys(t->pk + t->pv);
	const size_t krow = attn_row_bytes(dt, t->D);
	return kv_together(t, K, V, krow) && krow % 64 == 0 ? bk_ahead_keys(t->pk) : 0;
}

/* The dot-product scores of a tile (few rows, see scores()), K stored as dt.
 * The prefetch distances are in bytes, so a 16-bit or q8_0 cache is asked
 * for more rows ahead than an f32 one. */
static inline __attribute__((always_inline)) void dot_scores(const task_geom *t, const void *K, const void *V,
                                                             int64_t nk, attn_dtype dt)
{
	const int64_t D = t->D, Rp = t->Rp;
	const size_t row = t->pk, vrow = t->pv, krow = attn_row_bytes(dt, D), vbytes = attn_row_bytes(dt, t->Dv);
	const int together = kv_together(t, K, V, krow);
	const int64_t avail = t->avail, sa = split_ahead(t, K, V, dt);
	const int64_t ka = bk_ahead_keys(row); /* rows of row bytes: K, or K and V together */
	const int64_t va = PREFETCH_V_BYTES / (int64_t)vrow + 1;
	/* the rows asked for through pf, pfb bytes each, ahead keys on: the
	 * K rows where P V asks for the V rows (sa), else in the cache a key's
	 * K and V rows together */
	const int64_t ahead = sa ? sa : ka;
	const float *h2f = dt == ATTN_Q8_0 ? cpu_half_table() : NULL; /* q8_0 block scales */
	const size_t pfb = sa ? krow : row;
	for (int64_t j = 0; j < nk; j += 4) {
		const int na = nk - j < 4 ? (int)(nk - j) : 4;
		const char *Kr[4] = {0}, *pf[4] = {0};
		for (int a = 0; a < na; a++)
			Kr[a] = key_row(t->kr, K, row, j + a);
		/* pf: a few lines per step of the 4 x 4 dots where they run,
		 * else at once */
		if (sa || together) {
			if (j + ahead + 4 <= avail)
				for (int a = 0; a < 4; a++)
					pf[a] = key_row(t->kr, K, row, j + ahead + a);
		} else { /* separate K and V tensors */
			if (j + ka + 4 <= avail)
				prefetch_bytes(Kr[0] + (size_t)ka * row, 4 * krow);
			if (j + va + 4 <= avail)
				prefetch_bytes((const char *)V + (size_t)(j + va) * vrow, 4 * vbytes);
		}
		const int spread = pf[0] && na == 4 && t->R >= 4;
		if (pf[0] && !spread)
			for (int a = 0; a < 4; a++)
				prefetch_bytes(pf[a], pfb);
		for (int64_t r = 0; r < t->R; r += 4) {
			const int nr = t->R - r < 4 ? (int)(t->R - r) : 4;
			if (na == 4 && nr == 4)
				qk_dots4x4(t->Qs + r * D, D, Kr, t->St + j * Rp + r, Rp, dt, h2f, pf,
				           r == 0 && spread ? pfb : 0);
			else
				qk_dots(t->Qs + r * D, nr, D, Kr, na, t->St + j * Rp + r, Rp, dt);
		}
	}
}

static void dot_scores_f32(const task_geom *t, const void *K, const void *V, int64_t nk)
{
	dot_scores(t, K, V, nk, ATTN_F32);
}

static void dot_scores_f16(const task_geom *t, const void *K, const void *V, int64_t nk)
{
	dot_scores(t, K, V, nk, ATTN_F16);
}

static void dot_scores_bf16(const task_geom *t, const void *K, const void *V, int64_t nk)
{
	dot_scores(t, K, V, nk, ATTN_BF16);
}

static void dot_scores_q8_0(const task_geom *t, const void *K, const void *V, int64_t nk)
{
	dot_scores(t, K, V, nk, ATTN_Q8_0);
}

/* St[j][r] = q_r . k_j for the nk keys of a tile; t->avail (>= nk) keys
 * are readable from K and V, for prefetching. */
static void bt_scores(const task_geom *t, const void *K, const void *V, int64_t nk)
{
	const int64_t D = t->D, Rp = t->Rp;
	if (!t->wide) {
		if (t->dt == ATTN_F16)
			dot_scores_f16(t, K, V, nk);
		else if (t->dt == ATTN_BF16)
			dot_scores_bf16(t, K, V, nk);
		else if (t->dt == ATTN_Q8_0)
			dot_scores_q8_0(t, K, V, nk);
		else
			dot_scores_f32(t, K, V, nk);
		return;
	}
	const float *Kf = K;
	int64_t ld = (int64_t)(t->pk / attn_dtype_size(t->dt)); /* wide: f32, f16 or bf16 rows */
	if (t->dt != ATTN_F32) {
		/* qk_block broadcasts single K values, each to every panel:
		 * widen the tile once into an f32 tile (in L1) instead */
		v8_widen_rows(t->Kw, K, nk, D, ld, t->dt);
		Kf = t->Kw;
		ld = D;
	}
	/* a panel of Q^T (D x 4 or 2 VW floats) stays in L1/L2 while the
	 * tile's keys pass by (Rp is a multiple of WIDE_PANEL, blocked.c): 4
	 * vectors of rows where 32 registers hold the 16 accumulators
	 * (AVX-512), then 2 */
	int64_t r = 0;
	if (VW == 16)
		for (; r + 4 * VW <= Rp; r += 4 * VW)
			qk_panel(4, t, Kf, ld, nk, r);
	for (; r < Rp; r += 2 * VW)
		qk_panel(2, t, Kf, ld, nk, r);
}

/* cpu_score() on every score of the tile, VW rows per vector: softcap c:
 * s = c * tanh(s / c), then ALiBi: s -= m_r |p_r - j|. tanh is written with the vector
 * exp (tanh|x| = (1 - e) / (1 + e), e = exp(-2|x|) <= 1, the range vw_exp
 * takes): libm's tanhf per score would cost as much as the dot product
 * that made it. Its absolute error is a few float ulps, times c. */
static void bt_transform(const attn_shape *s, const task_geom *t, int64_t j0, int64_t nk)
{
	const int64_t Rp = t->Rp;
	if (Rp < VW) { /* narrow S (a few rows): a plain loop, as cpu_score() */
		for (int64_t j = 0; j < nk; j++)
			for (int64_t r = 0; r < Rp; r++) {
				float x = t->St[j * Rp + r];
				if (s->softcap > 0.0f)
					x = s->softcap * tanhf(x / s->softcap);
				if (s->alibi)
					x -= t->slope[r] * fabsf(t->pos[r] - (float)(j0 + j));
				t->St[j * Rp + r] = x;
			}
		return;
	}
	const vwi sign = (vwi)vw_set1(-0.0f);
	if (s->softcap > 0.0f) {
		const float c = s->softcap, ic = 1.0f / s->softcap;
		for (int64_t j = 0; j < nk; j++)
			for (int64_t r = 0; r < Rp; r += VW) {
				const vwf x = vw_load(t->St + j * Rp + r) * vw_set1(ic);
				const vwf e = vw_exp((vwf)((vwi)x | sign) * 2.0f); /* exp(-2|x|) */
				const vwf th = (1.0f - e) / (1.0f + e);
				vw_store(t->St + j * Rp + r, (vwf)((vwi)th | ((vwi)x & sign)) * vw_set1(c));
			}
	}
	if (s->alibi)
		for (int64_t r = 0; r < Rp; r += VW) {
			const vwf m = vw_load(t->slope + r), p = vw_load(t->pos + r);
			for (int64_t j = 0; j < nk; j++) {
				const vwf d = (vwf)((vwi)(p - (float)(j0 + j)) & ~sign); /* |p - j| */
				vw_store(t->St + j * Rp + r, vw_load(t->St + j * Rp + r) - m * d);
			}
		}
}

/* The masks on a tile that crosses the edge of what some row sees: -inf
 * for the keys outside row r's [lo, hi) (cpu_key_range). */
static void bt_mask(const attn_shape *s, const task_geom *t, int64_t j0, int64_t nk)
{
	for (int64_t r = 0; r < t->R; r++) {
		int64_t lo, hi;
		cpu_key_range(s, t->n_q, t->n_keys, t->i0 + r % t->nq, &lo, &hi);
		for (int64_t j = 0; j < nk; j++)
			if (j0 + j < lo || j0 + j >= hi)
				t->St[j * t->Rp + r] = -INFINITY;
	}
}

/* v with each lane combined (max, or +) with every lane of the same row:
 * S is narrow, Rp (a power of two below VW) rows a key, so lane i holds row
 * i % Rp. A butterfly: lane i meets lane i ^ d for d = VW/2, ..., Rp. */
static inline vwf vw_rows_max(vwf v, int64_t Rp)
{
	for (int d = VW / 2; d >= Rp; d /= 2) {
		vwi idx = {0};
		for (int i = 0; i < VW; i++)
			idx[i] = i ^ d;
		v = vw_max(v, __builtin_shuffle(v, idx));
	}
	return v;
}

static inline vwf vw_rows_sum(vwf v, int64_t Rp)
{
	for (int d = VW / 2; d >= Rp; d /= 2) {
		vwi idx = {0};
		for (int i = 0; i < VW; i++)
			idx[i] = i ^ d;
		v += __builtin_shuffle(v, idx);
	}
	return v;
}

/* The online softmax on narrow S (Rp < VW: decode's few rows). With one key
 * per vector, as below, a decode of 4 query rows would spend 12 of every 16
 * lanes of its exp on padding, about as many instructions as the dot
 * products of its scores; here S is read as one flat array, each vector the
 * Rp rows of VW / Rp keys, and the per-row maxima and sums are gathered
 * across the vector's keys at the end (vw_rows_max, vw_rows_sum). Lanes past
 * the tile's last key are set to -inf first: exp gives them 0. */
static void online_softmax_narrow(const task_geom *t, int64_t nk)
{
	const int64_t Rp = t->Rp, n = nk * Rp, nv = (n + VW - 1) / VW;
	float *S = t->St, pat[VW];
	for (int64_t i = n; i < nv * VW; i++) /* the room after S (blocked.c) */
		S[i] = -INFINITY;
	for (int i = 0; i < VW; i++)
		pat[i] = t->m[i % Rp];
	const vwf m_old = vw_load(pat);
	vwf mx = m_old;
	for (int64_t v = 0; v < nv; v++)
		mx = vw_max(mx, vw_load(S + v * VW));
	mx = vw_rows_max(mx, Rp);
	vwf sum = vw_set1(0.0f);
	for (int64_t v = 0; v < nv; v++) {
		const vwf p = vw_exp(vw_load(S + v * VW) - mx);
		vw_store(S + v * VW, p);
		sum += p;
	}
	sum = vw_rows_sum(sum, Rp);
	const vwf al = vw_exp(m_old - mx);
	for (int64_t r = 0; r < Rp; r++) {
		t->alpha[r] = al[r];
		t->l[r] = t->l[r] * al[r] + sum[r];
		t->m[r] = mx[r];
	}
}

/* The online softmax of the algorithm, VW rows per vector down the columns of
 * S^T: new maxima, P = exp(S - m') in place, alpha = exp(m - m'), l. */
static void bt_online_softmax(const task_geom *t, int64_t nk)
{
	const int64_t Rp = t->Rp;
	if (Rp < VW) {
		online_softmax_narrow(t, nk);
		return;
	}
	for (int64_t r = 0; r < Rp; r += VW) {
		const vwf m_old = vw_load(t->m + r);
		vwf mx = m_old;
		for (int64_t j = 0; j < nk; j++)
			mx = vw_max(mx, vw_load(t->St + j * Rp + r));
		vwf sum = vw_set1(0.0f);
		for (int64_t j = 0; j < nk; j++) {
			const vwf p = vw_exp(vw_load(t->St + j * Rp + r) - mx);
			vw_store(t->St + j * Rp + r, p);
			sum += p;
		}
		const vwf al = vw_exp(m_old - mx);
		vw_store(t->alpha + r, al);
		vw_store(t->l + r, vw_load(t->l + r) * al + sum);
		vw_store(t->m + r, mx);
	}
}

/* O[r][c..c+VW nv) = alpha_r * O[r][..] + sum_j P[r][j] V[j][c..c+VW nv) for
 * 4 rows: 4 x nv accumulators stay in registers across the keys; each V
 * vector feeds 4 multiply-adds, each probability nv. V rows are pv bytes
 * apart (or in the row table vt), stored as dt, widened (or dequantized) in
 * registers as they are loaded (q8_0 scales through h2f, cpu_half_table).
 * With pfa > 0, bytes [pfo, pfo + pfb) of
 * the V row pfa keys ahead are asked for as each of the first npf keys is
 * read. */
static inline __attribute__((always_inline)) void pv_block(int nv, const float *Pt, int64_t Rp, int64_t nk,
                                                           const char *V, const char *const *vt, int64_t c, size_t pv,
                                                           float *O, int64_t D, const float *alpha, attn_dtype dt,
                                                           const float *h2f, int64_t pfa, int64_t npf, size_t pfo,
                                                           size_t pfb)
{
	vwf acc[4][4];
	for (int r = 0; r < 4; r++)
		for (int u = 0; u < nv; u++)
			acc[r][u] = vw_load(O + r * D + VW * u) * vw_set1(alpha[r]);
	for (int64_t j = 0; j < nk; j++) {
		const float *p = Pt + j * Rp;
		if (pfa && j < npf)
			prefetch_bytes(key_row(vt, V, pv, j + pfa) + pfo, pfb);
		vwf vv[4];
		const char *vr = key_row(vt, V, pv, j);
		vwf d = vw_set1(0.0f);
		for (int u = 0; u < nv; u++) {
			if (dt == ATTN_Q8_0) { /* strips start on a block: one scale per block */
				const attn_block_q8_0 *blk = (const attn_block_q8_0 *)vr + (c + VW * u) / ATTN_QBLOCK;
				if (VW * u % ATTN_QBLOCK == 0)
					d = vw_set1(h2f[blk->d]);
				vv[u] = vw_load_i8(blk->qs + (c + VW * u) % ATTN_QBLOCK) * d;
			} else
				vv[u] = vw_load_row(vr, c + VW * u, dt);
			V8_KEEP(vv[u]);
		}
		for (int r = 0; r < 4; r++)
			for (int u = 0; u < nv; u++)
				acc[r][u] += vw_set1(p[r]) * vv[u];
	}
	for (int r = 0; r < 4; r++)
		for (int u = 0; u < nv; u++)
			vw_store(O + r * D + VW * u, acc[r][u]);
}

/* The bytes [*off, *off + *len) of a V row of vbytes that the strip of
 * columns [c, c + w) of D asks for ahead: its share of the row's lines, the
 * last whole strip the rest (the columns after it have no strip). */
static inline void strip_lines(int64_t c, int64_t w, int64_t D, size_t vbytes, size_t *off, size_t *len)
{
	*off = (size_t)c * vbytes / (size_t)D & ~(size_t)63;
	const size_t end = c + w + VW > D ? vbytes : (size_t)(c + w) * vbytes / (size_t)D & ~(size_t)63;
	*len = end > *off ? end - *off : 0;
}

/* O = O * alpha + P V over a tile, in strips of 4, 2 and 1 vectors of the
 * head dimension (and a plain loop for the columns past the last whole
 * vector). A strip of V (nk x 4 VW values) stays in L1 for all the rows.
 * vt: a paged decode's row table, or NULL. */
static inline __attribute__((always_inline)) void pv_strips(const task_geom *t, const void *V, int64_t nk,
                                                            attn_dtype dt, const char *const *vt)
{
	const int64_t D = t->Dv, Rp = t->Rp;
	const size_t pv = t->pv;
	const char *Vb = V;
	int64_t c = 0;
	/* decode in the cache or paged: the V rows split_ahead() keys ahead
	 * are asked for here (dot_scores asks for the K rows), each strip its
	 * share of every row's lines as it reads its own */
	const size_t vbytes = attn_row_bytes(dt, D);
	const int64_t sa = split_ahead(t, t->Kcur, V, dt), npf = sa ? t->avail - sa : 0;
	const float *h2f = dt == ATTN_Q8_0 ? cpu_half_table() : NULL; /* q8_0 block scales */
	size_t off, len;
	for (; c + 4 * VW <= D; c += 4 * VW) {
		strip_lines(c, 4 * VW, D, vbytes, &off, &len);
		for (int64_t r = 0; r < t->R4; r += 4)
			pv_block(4, t->St + r, Rp, nk, Vb, vt, c, pv, t->O + r * D + c, D, t->alpha + r, dt, h2f,
			         r == 0 ? sa : 0, npf, off, len);
	}
	for (; c + 2 * VW <= D; c += 2 * VW) {
		strip_lines(c, 2 * VW, D, vbytes, &off, &len);
		for (int64_t r = 0; r < t->R4; r += 4)
			pv_block(2, t->St + r, Rp, nk, Vb, vt, c, pv, t->O + r * D + c, D, t->alpha + r, dt, h2f,
			         r == 0 ? sa : 0, npf, off, len);
	}
	for (; c + VW <= D; c += VW) {
		strip_lines(c, VW, D, vbytes, &off, &len);
		for (int64_t r = 0; r < t->R4; r += 4)
			pv_block(1, t->St + r, Rp, nk, Vb, vt, c, pv, t->O + r * D + c, D, t->alpha + r, dt, h2f,
			         r == 0 ? sa : 0, npf, off, len);
	}
	if (c == D)
		return;
	for (int64_t r = 0; r < t->R4; r++) {
		float *o = t->O + r * D;
		for (int64_t cc = c; cc < D; cc++)
			o[cc] *= t->alpha[r];
		for (int64_t j = 0; j < nk; j++) {
			const float p = t->St[j * Rp + r];
			for (int64_t cc = c; cc < D; cc++)
				o[cc] += p * vw_load1_row(key_row(vt, Vb, pv, j), cc, dt);
		}
	}
}

/* pv_strips for V stored as dt. Rows pv bytes apart (all but a paged
 * decode) get their own copy of the loops, with the row table's test
 * gone: it would otherwise sit in prefill's innermost loop. */
static inline __attribute__((always_inline)) void accumulate_as(const task_geom *t, const void *V, int64_t nk,
                                                                attn_dtype dt)
{
	if (t->vr)
		pv_strips(t, V, nk, dt, t->vr);
	else
		pv_strips(t, V, nk, dt, NULL);
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

static void accumulate_q8_0(const task_geom *t, const void *V, int64_t nk)
{
	accumulate_as(t, V, nk, ATTN_Q8_0);
}

static void bt_accumulate(const task_geom *t, const void *V, int64_t nk)
{
	if (t->dt == ATTN_Q8_0)
		accumulate_q8_0(t, V, nk);
	else if (t->dt == ATTN_F16)
		accumulate_f16(t, V, nk);
	else if (t->dt == ATTN_BF16)
		accumulate_bf16(t, V, nk);
	else
		accumulate_f32(t, V, nk);
}

#ifndef CPU_ISA
#define CPU_ISA generic
#endif
#define ISA_TABLE_(x) blocked_isa_##x
#define ISA_TABLE(x)  ISA_TABLE_(x)
#define ISA_NAME_(x)  #x
#define ISA_NAME(x)   ISA_NAME_(x)

const blocked_isa ISA_TABLE(CPU_ISA) = {
    .name = ISA_NAME(CPU_ISA),
    .tile = bt_tile,
    .load_rows = bt_load_rows,
    .scores = bt_scores,
    .transform = bt_transform,
    .mask = bt_mask,
    .online_softmax = bt_online_softmax,
    .accumulate = bt_accumulate,
};
