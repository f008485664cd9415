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
 * this loop; blocked_tile.c is how each step is made fast.
 *
 * The variants fit in the loop as follows:
 * - Masks (causal, sliding window W): a query at position p sees the keys
 *   [lo(p), hi(p)), both ends growing with p, so a block of queries reads
 *   only [lo(first query), hi(last query)): the tiles outside are never
 *   loaded, and a window-W prefill of n tokens costs O(n W), not O(n^2).
 *   Only the tiles that cross the edge of some row's range are masked.
 * - softcap and ALiBi transform S before the softmax, 8 rows per vector.
 * - A sink z (a logit with no value) joins the softmax once, at the end:
 *   m' = max(m, z), O and l rescaled by exp(m - m'), l += exp(z - m').
 * - head_dim_v: O and the V tiles are Dv wide, Q and K D wide.
 * - Ragged batches: sequence b has its own query and key counts; tasks past
 *   its queries are empty and no row past its keys is read.
 * - Storage: f32, f16 and bf16 rows are read in place; q8_0, q4_0 and fp8
 *   rows are dequantized into an f32 tile first (the ISA's tile step).
 * - Paged caches: rows are read in place wherever the block table puts
 *   their page. A decode's tile spans pages, each key's rows found through
 *   a table of addresses (page_rows below); a wide tile ends at each
 *   page's end, where its rows are contiguous.
 *
 * When some tasks are much longer than the work of one thread's share
 * (decode: one query per head, a handful of KV heads; a ragged batch with
 * a few long sequences), their keys are split too: each split runs the same
 * loop over its share of the keys, and the partial (m, l, O) are merged
 * with the same rescaling (flash-decoding). Splits are cut by key count,
 * so the threads get equal numbers of keys, not of sequences.
 *
 * The tuning, and why it pays (blocked_tile.c)
 * --------------------------------------------
 * - Vector width: each kernel takes VW floats per vector (simd.h), 16 in
 *   the AVX-512 compilation and 8 elsewhere; AVX-512 pays for itself only
 *   when the vectors are 16 wide, since the multiply-adds per instruction
 *   double while the instructions per loop stay the same.
 * - Scores are computed transposed, S^T[key][row]: the rows of a panel are
 *   one pair of vectors, so the softmax runs down the columns with whole
 *   vectors (max, exp, sum of 8 rows at a time) and Q is transposed once
 *   per task instead of K once per tile.
 * - Register blocking: the score kernel keeps a 4-key x 4-vector block of
 *   rows (2 vectors where 8-float registers are 16; 4 x 4 was 5-11% faster
 *   than 4 x 2 on prefill, measured in pairs on the AVX-512 VM) and the
 *   output kernel a 4-row x 4-vector block of columns (2 or 1
 *   vectors at the end of a head_dim) in registers across the whole
 *   reduction, so each loaded K,
 *   Q, P or V value feeds several multiply-adds and the loop runs at the FMA
 *   units' rate instead of the load ports'. V8_KEEP (simd.h) stops GCC from
 *   re-loading a vector for each of its uses, which halved the rate.
 * - exp() is a vector polynomial (simd.h): libm's scalar expf would cost more
 *   than the 2 * head_dim multiply-adds each probability feeds.
 * - With few rows (decode) the scores are plain dot products of each query
 *   with each key row: a panel would be mostly padding there, and the K and
 *   V rows stream from memory once, which is all decode can hope for. Their
 *   S rows are padded to 4, 8 or 16 only, and the softmax reads S as one
 *   flat array, several keys per vector: with a key per vector a decode's 4
 *   rows left 12 of 16 lanes of every exp idle (measured on the AVX-512 VM,
 *   cold decode at 32k keys, 3 pairs: 3-5% faster for f32, f16 and q8_0).
 *   Each 4-query x 4-key block of dots ends in 16 horizontal sums, done as
 *   one tree into one vector (simd.h vw_hsum16: 45 instructions, where 16
 *   folds and 4 v8_hsum4 took 76; 9-13% off an in-cache decode). q8_0
 *   rows are read in place there too, dequantized in registers (16 int8 to
 *   floats in two instructions, one scale per block of 32), so a quantized
 *   decode reads its stored bytes only.
 * - Tiles are sized so that one task's Q, S, O and the current K/V tile stay
 *   in the L2 cache; consecutive tasks share a KV head, so its K and V stay
 *   in the last-level cache while every query block passes over them.
 * - f16 and bf16 storage: Q is widened to f32 once, into the task's Q
 *   buffer. K and V are widened as they stream through, a vector per load
 *   (simd.h: F16C for f16, a zero-extension and a shift for bf16), so there
 *   is never an f32 copy of the cache and decode reads half the bytes. The
 *   exception is the panel score kernel, which
 *   broadcasts single K values: it widens each K tile once into an f32 tile
 *   that stays in L1. The kernels are written once with the dtype as an
 *   argument and instantiated per dtype (the _f32/_f16/_bf16/_q8_0 wrappers), so
 *   the f32 code is what it was.
 * - Instruction sets: blocked_tile.c is compiled for the build's baseline,
 *   AVX2+FMA+F16C and AVX-512 (the Makefile), one table of steps each;
 *   create() takes the best the CPU has (cpu_isas) or the one
 *   --param blocked:isa=NAME forces, and the kernel calls through it. The
 *   steps are per tile, so the indirect calls cost nothing measurable. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <omp.h>

#include "attn_quant.h"
#include "blocked.h"
#include "simd.h"

void blocked_key_range(const attn_shape *s, int64_t b, int64_t i0, int64_t nq, int64_t *lo, int64_t *hi)
{
	int64_t n_q, n_kv, unused;
	cpu_seq_lens(s, b, &n_q, &n_kv);
	cpu_key_range(s, n_q, n_kv, i0, lo, &unused);
	cpu_key_range(s, n_q, n_kv, i0 + nq - 1, &unused, hi);
	if (*lo > *hi)
		*lo = *hi;
}

/* A paged decode's tile: the address of each K and V row of keys [j0, j0
 * + n), n covering the tile and the keys its prefetching asks for ahead
 * (bk_ahead_keys). Pages are small (16 tokens is usual), and a tile cut at
 * each page's end would pay the softmax, the rescaling of O and the calls
 * of a tile every 16 keys instead of every tile_kv: on the AVX-512 VM,
 * cold 32k decode with 16-token pages took 1.21x the contiguous time that
 * way, 1.09x with tiles across pages (medians of 7 and 10 runs). A page's
 * rows are contiguous, so the table costs one block-table look-up a page. */
static void page_rows(const cpu_kv *kv, task_geom *t, int64_t j0, int64_t n)
{
	const int64_t ps = kv->paged->page_size;
	for (int64_t j = 0; j < n;) {
		const char *k = cpu_kv_k(kv, t->b, t->g, j0 + j), *v = cpu_kv_v(kv, t->b, t->g, j0 + j);
		for (int64_t i = (j0 + j) % ps; i < ps && j < n; i++, j++, k += kv->k_row, v += kv->v_row) {
			t->kr[j] = k;
			t->vr[j] = v;
		}
	}
}

/* One task: keys [k0, k1) of the geometry's sequence b, KV head g, block
 * of queries. Leaves the unnormalised O and m, l in the geometry. */
static void blocked_task(const cpu_ctx *c, const blocked_isa *isa, const attn_shape *s, const void *q, const cpu_kv *kv,
                         int64_t k0, int64_t k1, task_geom *t)
{
	isa->load_rows(s, q, t);
	for (int64_t r = 0; r < t->Rp; r++) {
		t->m[r] = -FLT_MAX; /* finite, so a row with nothing visible yet gives exp(0) = 1, not NaN */
		t->l[r] = 0.0f;
	}
	memset(t->O, 0, (size_t)(t->R4 * t->Dv) * sizeof(float));
	/* padding lanes of S (rows R..Rp) are never written by the dot-product
	 * scores; start them at 0 so that they stay finite */
	memset(t->St, 0, (size_t)(c->tile_kv * t->Rp + VW_MAX) * sizeof(float));

	/* every row sees [in_lo, in_hi): tiles inside it need no mask */
	int64_t in_lo, in_hi, unused;
	cpu_key_range(s, t->n_q, t->n_keys, t->i0 + t->nq - 1, &in_lo, &unused);
	cpu_key_range(s, t->n_q, t->n_keys, t->i0, &unused, &in_hi);
	const int transform = s->softcap > 0.0f || s->alibi;
	const int in_place = bk_in_place(kv, t->wide);
	const int64_t page = kv->paged && in_place ? kv->paged->page_size : 0;
	const int64_t ahead = bk_ahead_keys(kv->k_row + kv->v_row);
	for (int64_t j0 = k0, nk; j0 < k1; j0 += nk) {
		nk = k1 - j0 < c->tile_kv ? k1 - j0 : c->tile_kv;
		if (page && t->wide && nk > page - j0 % page) /* a wide tile never crosses a page */
			nk = page - j0 % page;
		/* contiguous rows read in place are there to the end of the task,
		 * for the kernels' own prefetching; a decode's paged rows as far
		 * as its row table goes */
		t->avail = in_place && !page ? k1 - j0 : nk;
		if (page && !t->wide) {
			t->avail = k1 - j0 < nk + ahead ? k1 - j0 : nk + ahead;
			t->kr = t->row_table;
			t->vr = t->row_table + c->tile_kv + BK_AHEAD_MAX;
			page_rows(kv, t, j0, t->avail);
		}
		const void *K = isa->tile(kv, t, 0, j0, nk, t->Kt, &t->pk, &t->dt);
		const void *V = isa->tile(kv, t, 1, j0, nk, t->Vt, &t->pv, &t->dt);
		t->Kcur = K;
		isa->scores(t, K, V, nk);
		if (transform)
			isa->transform(s, t, j0, nk);
		if (j0 < in_lo || j0 + nk > in_hi)
			isa->mask(s, t, j0, nk);
		isa->online_softmax(t, nk);
		isa->accumulate(t, V, nk);
	}
}

/* ---- driver: tasks, key splits, threads ----------------------------------- */

/* Tasks are (b, g, query block); a task over more keys than a thread's
 * share is split into items of chunk keys, each with its own slot for
 * (O, m, l). */
typedef struct plan {
	int64_t bq, nblk, ntask, nitem;
	int64_t Rmax, Rp, R4;
	int64_t chunk;                 /* keys per split item; 0: no task is split */
	size_t scratch_floats;         /* per thread */
	size_t kw_off, kt_off, vt_off; /* tiles in it (0: none) */
	size_t rt_off;                 /* a narrow paged tile's row table in it (0: none) */
	size_t part_floats;            /* per item when chunk: O, m, l */
} plan;

/* Split keys only in pieces of at least this many: the merge of a split
 * costs about as much as a few hundred keys of one row. */
#define MIN_SPLIT_KEYS 256

static int64_t round_up(int64_t x, int64_t m)
{
	return (x + m - 1) / m * m;
}

/* Task t_'s sequence, KV head, queries [i0, i0 + nq) (nq <= 0: none) and
 * keys [lo, hi). */
static void task_span(const attn_shape *s, const plan *p, int64_t t_, int64_t *b, int64_t *g, int64_t *i0, int64_t *nq,
                      int64_t *lo, int64_t *hi)
{
	const int64_t blk = t_ % p->nblk;
	*g = (t_ / p->nblk) % s->n_kv_heads;
	*b = t_ / (p->nblk * s->n_kv_heads);
	*i0 = blk * p->bq;
	int64_t n_q, n_kv;
	cpu_seq_lens(s, *b, &n_q, &n_kv);
	const int64_t left = n_q - *i0;
	*nq = left < p->bq ? left : p->bq;
	*lo = *hi = 0;
	if (*nq > 0)
		blocked_key_range(s, *b, *i0, *nq, lo, hi);
}

static int64_t task_items(const plan *p, int64_t nq, int64_t lo, int64_t hi)
{
	if (nq <= 0)
		return 0;
	return p->chunk && hi - lo > p->chunk ? (hi - lo + p->chunk - 1) / p->chunk : 1;
}

static void make_plan(const cpu_ctx *c, const attn_shape *s, plan *p)
{
	const int64_t D = s->head_dim, Dv = attn_head_dim_v(s), ratio = s->n_heads / s->n_kv_heads;
	p->bq = c->tile_q < s->n_q ? c->tile_q : s->n_q;
	if (p->bq < 1)
		p->bq = 1;
	p->nblk = (s->n_q + p->bq - 1) / p->bq;
	p->ntask = s->batch * s->n_kv_heads * p->nblk;
	p->Rmax = ratio * p->bq;
	p->Rp = p->Rmax >= WIDE_ROWS ? round_up(p->Rmax, WIDE_PANEL) : p->Rmax <= 4 ? 4 : p->Rmax <= 8 ? 8 : 16;
	p->R4 = round_up(p->Rmax, 4);

	/* Balance by keys: split a task when it has more keys than half a
	 * thread's share of the whole call (and at least MIN_SPLIT_KEYS), so
	 * that dynamic scheduling can even out the rest. */
	p->chunk = 0;
	int64_t total = 0, longest = 0;
	for (int64_t t_ = 0; t_ < p->ntask; t_++) {
		int64_t b, g, i0, nq, lo, hi;
		task_span(s, p, t_, &b, &g, &i0, &nq, &lo, &hi);
		total += nq > 0 ? hi - lo : 0;
		longest = nq > 0 && hi - lo > longest ? hi - lo : longest;
	}
	if (c->threads > 1) {
		const int64_t share = (total + 2 * c->threads - 1) / (2 * c->threads);
		const int64_t chunk = share > MIN_SPLIT_KEYS ? share : MIN_SPLIT_KEYS;
		p->chunk = longest > chunk ? chunk : 0;
	}
	p->nitem = 0;
	for (int64_t t_ = 0; t_ < p->ntask; t_++) {
		int64_t b, g, i0, nq, lo, hi;
		task_span(s, p, t_, &b, &g, &i0, &nq, &lo, &hi);
		p->nitem += task_items(p, nq, lo, hi);
	}

	const size_t tile = (size_t)c->tile_kv;
	/* S has VW_MAX floats more: a narrow softmax reads whole vectors past
	 * the tile's last key (blocked_tile.c) */
	p->scratch_floats =
	    (size_t)(D * p->Rp) + tile * (size_t)p->Rp + VW_MAX + (size_t)(p->R4 * Dv) + (size_t)(5 * p->Rp);
	p->kw_off = p->kt_off = p->vt_off = 0;
	const attn_dtype kt = attn_kv_dtype(s);
	if (!attn_dtype_known(kt) || kt == ATTN_F32 || p->Rmax < WIDE_ROWS) {
		/* no widened K tile: f32 rows in place, or f32 tiles */
	} else {
		p->kw_off = round_up((int64_t)p->scratch_floats, 16);
		p->scratch_floats = p->kw_off + tile * (size_t)D;
	}
	/* f32 tiles that the tile step fills: quantized storage */
	if (!attn_dtype_known(kt)) {
		p->kt_off = round_up((int64_t)p->scratch_floats, 16);
		p->vt_off = p->kt_off + round_up((int64_t)tile * D, 16);
		p->scratch_floats = p->vt_off + tile * (size_t)Dv;
	}
	/* the row table of a narrow tile, should its rows be paged: K's and
	 * V's, tile_kv + BK_AHEAD_MAX addresses each */
	p->rt_off = 0;
	if (p->Rmax < WIDE_ROWS) {
		p->rt_off = round_up((int64_t)p->scratch_floats, 16);
		p->scratch_floats = p->rt_off + 2 * (tile + BK_AHEAD_MAX) * sizeof(const char *) / sizeof(float);
	}
	p->part_floats = p->chunk ? (size_t)(p->R4 * Dv + 2 * p->Rp) : 0;
}

/* The workspace: per-thread scratch, then the split items' slots, then the
 * item table (int64 per task + 1). Returns its floats and sets the parts. */
static size_t plan_floats(const cpu_ctx *c, const plan *p, size_t *per_thread, size_t *parts_off, size_t *table_off)
{
	*per_thread = (p->scratch_floats + 15) & ~(size_t)15;
	*parts_off = *per_thread * (size_t)c->threads;
	*table_off = (*parts_off + p->part_floats * (size_t)p->nitem + 15) & ~(size_t)15;
	return *table_off + 2 * (size_t)(p->ntask + 1);
}

/* The geometry of task t_, with its buffers: Q, S, alpha and the tiles in
 * the thread's scratch; O, m and l there too, or in part (a split's slot,
 * where the merge finds them). */
static void geom_init(task_geom *t, const plan *p, const cpu_ctx *c, const attn_shape *s, int64_t t_, float *scratch,
                      float *part)
{
	int64_t lo, hi;
	task_span(s, p, t_, &t->b, &t->g, &t->i0, &t->nq, &lo, &hi);
	t->D = s->head_dim;
	t->Dv = attn_head_dim_v(s);
	t->qdt = s->dtype;
	t->R = t->nq * (s->n_heads / s->n_kv_heads);
	t->R4 = round_up(t->R, 4);
	t->wide = p->Rmax >= WIDE_ROWS;
	t->Rp = p->Rp;
	cpu_seq_lens(s, t->b, &t->n_q, &t->n_keys);
	t->pos0 = t->n_keys - t->n_q + t->i0;
	t->Qs = scratch;
	t->St = t->Qs + t->D * p->Rp;
	t->alpha = t->St + c->tile_kv * p->Rp + VW_MAX;
	t->slope = t->alpha + p->Rp;
	t->pos = t->slope + p->Rp;
	t->O = part ? part : t->pos + p->Rp;
	t->m = t->O + p->R4 * t->Dv;
	t->l = t->m + p->Rp;
	t->Kw = p->kw_off ? scratch + p->kw_off : NULL;
	t->row_table = p->rt_off ? (const char **)(void *)(scratch + p->rt_off) : NULL;
	t->kr = t->vr = NULL;
	t->Kt = p->kt_off ? scratch + p->kt_off : NULL;
	t->Vt = p->vt_off ? scratch + p->vt_off : NULL;
}

/* The sinks join the softmax once: m' = max(m, z), the row's O and l
 * rescaled to m', and exp(z - m') added to l. */
static void fold_sinks(const attn_shape *s, task_geom *t)
{
	const int64_t ratio = s->n_heads / s->n_kv_heads;
	for (int64_t r = 0; r < t->R; r++) {
		const float z = cpu_sink(s, t->g * ratio + r / t->nq), m2 = fmaxf(t->m[r], z);
		const float a = expf(t->m[r] - m2);
		for (int64_t cc = 0; cc < t->Dv; cc++)
			t->O[r * t->Dv + cc] *= a;
		t->l[r] = t->l[r] * a + expf(z - m2);
		t->m[r] = m2;
	}
}

/* Final rows: out = O / l (0 for a row that saw no key). */
static void write_rows(const attn_shape *s, const task_geom *t, float *out)
{
	const int64_t Dv = t->Dv, ratio = s->n_heads / s->n_kv_heads;
	for (int64_t r = 0; r < t->R; r++) {
		const int64_t h = t->g * ratio + r / t->nq, i = t->i0 + r % t->nq;
		float *dst = out + ((t->b * s->n_heads + h) * s->n_q + i) * Dv;
		const float inv = t->l[r] > 0.0f ? 1.0f / t->l[r] : 0.0f;
		for (int64_t cc = 0; cc < Dv; cc++)
			dst[cc] = t->O[r * Dv + cc] * inv;
	}
}

typedef struct item_args {
	const cpu_ctx *c;
	const blocked_isa *isa;
	const attn_shape *s;
	const plan *p;
	const void *q;
	const cpu_kv *kv;
	float *out, *ws, *part;
	size_t per_thread;
	const int64_t *first; /* first item of each task, ntask + 1 */
} item_args;

/* The task that item it belongs to: the last task whose first item <= it. */
static int64_t item_task(const item_args *a, int64_t it)
{
	int64_t lo = 0, hi = a->p->ntask; /* first[lo] <= it < first[hi] */
	while (hi - lo > 1) {
		const int64_t mid = lo + (hi - lo) / 2;
		if (a->first[mid] <= it)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Work item it on thread th: split sp of ns of its task. */
static void run_item(const item_args *a, int64_t it, int th)
{
	const plan *p = a->p;
	const attn_shape *s = a->s;
	const int64_t t_ = item_task(a, it), sp = it - a->first[t_], ns = a->first[t_ + 1] - a->first[t_];
	task_geom t;
	geom_init(&t, p, a->c, s, t_, a->ws + a->per_thread * (size_t)th,
	          ns > 1 ? a->part + p->part_floats * (size_t)it : NULL);
	int64_t b, g, i0, nq, lo, hi;
	task_span(s, p, t_, &b, &g, &i0, &nq, &lo, &hi);
	blocked_task(a->c, a->isa, s, a->q, a->kv, lo + (hi - lo) * sp / ns, lo + (hi - lo) * (sp + 1) / ns, &t);
	if (ns > 1)
		return;
	if (s->sinks)
		fold_sinks(s, &t);
	write_rows(s, &t, a->out);
}

/* Task t_'s splits merged: O = sum_s exp(m_s - M) O_s / sum_s exp(m_s - M) l_s,
 * with the sink in M and the sum. */
static void merge_task(const item_args *a, int64_t t_, int th)
{
	const plan *p = a->p;
	const attn_shape *s = a->s;
	const int64_t ns = a->first[t_ + 1] - a->first[t_];
	float *first = a->part + p->part_floats * (size_t)a->first[t_];
	task_geom t;
	geom_init(&t, p, a->c, s, t_, a->ws + a->per_thread * (size_t)th, first);
	const int64_t Dv = t.Dv, ratio = s->n_heads / s->n_kv_heads, mo = p->R4 * Dv;
	for (int64_t r = 0; r < t.R; r++) {
		const float z = cpu_sink(s, t.g * ratio + r / t.nq); /* -inf without sinks */
		float M = -FLT_MAX;
		for (int64_t sp = 0; sp < ns; sp++)
			M = fmaxf(M, first[p->part_floats * (size_t)sp + (size_t)(mo + r)]);
		M = fmaxf(M, z);
		float L = expf(z - M);
		for (int64_t sp = 0; sp < ns; sp++) {
			const float *o = first + p->part_floats * (size_t)sp;
			const float w = expf(o[mo + r] - M);
			L += w * o[mo + t.Rp + r];
			for (int64_t cc = 0; cc < Dv; cc++)
				t.O[r * Dv + cc] = sp ? t.O[r * Dv + cc] + w * o[r * Dv + cc] : w * o[r * Dv + cc];
		}
		t.l[r] = L;
	}
	write_rows(s, &t, a->out);
}

static int blocked_kernel(cpu_ctx *c, const blocked_isa *isa, const attn_shape *s, const void *q, const cpu_kv *kv,
                          float *out)
{
	plan p;
	make_plan(c, s, &p);
	size_t per_thread, parts_off, table_off;
	const size_t floats = plan_floats(c, &p, &per_thread, &parts_off, &table_off);
	int rc = cpu_workspace(c, floats * sizeof(float));
	if (rc)
		return rc;
	void *table = c->ws + table_off; /* int64 entries, in the float workspace */
	int64_t *first = table;
	first[0] = 0;
	for (int64_t t_ = 0; t_ < p.ntask; t_++) {
		int64_t b, g, i0, nq, lo, hi;
		task_span(s, &p, t_, &b, &g, &i0, &nq, &lo, &hi);
		first[t_ + 1] = first[t_] + task_items(&p, nq, lo, hi);
	}
	const item_args a = {c, isa, s, &p, q, kv, out, c->ws, c->ws + parts_off, per_thread, first};

	/* Later query blocks see more keys under a causal mask: dynamic
	 * scheduling keeps the threads evenly loaded. Items of one task's splits
	 * are adjacent; tasks of one KV head are adjacent, so its K and V stay
	 * cached while all its query blocks pass. A single item (a small decode)
	 * runs without a parallel region, whose start costs more than the item. */
	const int64_t nitem = p.nitem;
	if (nitem == 1)
		run_item(&a, 0, 0);
	else if (nitem > 1) {
#pragma omp parallel for num_threads(c->threads) schedule(dynamic, 1)
		for (int64_t it = 0; it < nitem; it++)
			run_item(&a, it, omp_get_thread_num());
	}
	if (!p.chunk)
		return ATTN_OK;
#pragma omp parallel for num_threads(c->threads) schedule(dynamic, 4)
	for (int64_t t_ = 0; t_ < p.ntask; t_++)
		if (first[t_ + 1] - first[t_] > 1)
			merge_task(&a, t_, omp_get_thread_num());
	return ATTN_OK;
}

/* What the kernel handles: every ABI 3 feature. */
#define BLOCKED_CAPS                                                                                                   \
	(CPU_BASE_CAPS | ATTN_CAP_THREADS | ATTN_CAP_WINDOW | ATTN_CAP_SOFTCAP | ATTN_CAP_ALIBI | ATTN_CAP_SINKS |     \
	 ATTN_CAP_HEAD_DIM_V | ATTN_CAP_KV_DTYPE | ATTN_CAP_Q8_0 | ATTN_CAP_Q4_0 | ATTN_CAP_FP8 | ATTN_CAP_RAGGED |    \
	 ATTN_CAP_PAGED)

/* ---- instruction sets ------------------------------------------------------ */

int blocked_isa_select(const char *want, unsigned has, const blocked_isa **out, char *err, size_t err_len)
{
	static const struct {
		const char *name, *needs;
		unsigned bit;
		const blocked_isa *isa;
	} isas[] = {
#ifdef CPU_X86_ISAS
	    {"avx512", "AVX-512 (F, VL, BW, DQ) with AVX2, FMA and F16C", CPU_HAS_AVX512, &blocked_isa_avx512},
	    {"avx2", "AVX2 with FMA and F16C", CPU_HAS_AVX2, &blocked_isa_avx2},
#endif
	    {"generic", NULL, 0, &blocked_isa_generic},
	};
	const size_t n = sizeof isas / sizeof isas[0];
	for (size_t i = 0; i < n; i++) {
		if (want && *want && strcmp(want, isas[i].name) != 0)
			continue;
		if ((has & isas[i].bit) != isas[i].bit) {
			if (!want || !*want)
				continue; /* the best the CPU has: try the next */
			snprintf(err, err_len, "parameter isa=%s: this CPU lacks %s", want, isas[i].needs);
			return ATTN_E_INVALID;
		}
		*out = isas[i].isa;
		return ATTN_OK;
	}
	snprintf(err, err_len, "parameter isa=%s: not an instruction set of this build (%s)", want,
#ifdef CPU_X86_ISAS
	         "avx512, avx2 or generic"
#else
	         "generic"
#endif
	);
	return ATTN_E_INVALID;
}

/* The kernel of each table: cpu_ctx holds one function, so the instance's
 * choice is which of these it holds. */
#define ISA_KERNEL(x)                                                                                                  \
	static int blocked_kernel_##x(cpu_ctx *c, const attn_shape *s, const void *q, const cpu_kv *kv, float *out)    \
	{                                                                                                              \
		return blocked_kernel(c, &blocked_isa_##x, s, q, kv, out);                                             \
	}
ISA_KERNEL(generic)
#ifdef CPU_X86_ISAS
ISA_KERNEL(avx2)
ISA_KERNEL(avx512)
#endif

static cpu_kernel isa_kernel(const blocked_isa *isa)
{
#ifdef CPU_X86_ISAS
	if (isa == &blocked_isa_avx512)
		return blocked_kernel_avx512;
	if (isa == &blocked_isa_avx2)
		return blocked_kernel_avx2;
#endif
	return blocked_kernel_generic;
}

/* params without their isa=NAME item (blocked's own; cpu_create parses the
 * tiles) into rest, and NAME into isa ("" when absent). */
static int split_isa(const char *params, char *rest, size_t rest_len, char *isa, size_t isa_len, char *err,
                     size_t err_len)
{
	size_t used = 0;
	*rest = *isa = 0;
	for (const char *p = params ? params : ""; *p;) {
		const size_t n = strcspn(p, ",");
		if (n > 4 && strncmp(p, "isa=", 4) == 0) {
			if (n - 4 >= isa_len) {
				snprintf(err, err_len, "parameter isa=%.*s: not an instruction set of this build",
				         (int)(n - 4), p + 4);
				return ATTN_E_INVALID;
			}
			memcpy(isa, p + 4, n - 4);
			isa[n - 4] = 0;
		} else if (n) {
			if (used + n + 2 > rest_len) {
				snprintf(err, err_len, "parameter list too long");
				return ATTN_E_INVALID;
			}
			if (used)
				rest[used++] = ',';
			memcpy(rest + used, p, n);
			rest[used += n] = 0;
		}
		p += n + (p[n] == ',');
	}
	return ATTN_OK;
}

static int blocked_create(const attn_config *cfg, void **ctx, char *err, size_t err_len)
{
	char rest[512], want[16];
	int rc = split_isa(cfg ? cfg->params : NULL, rest, sizeof rest, want, sizeof want, err, err_len);
	const blocked_isa *isa = NULL;
	if (rc == ATTN_OK)
		rc = blocked_isa_select(want, cpu_isas(), &isa, err, err_len);
	if (rc)
		return rc;
	attn_config mine = cfg ? *cfg : (attn_config){0};
	mine.params = rest;
	rc = cpu_create(&mine, isa_kernel(isa), 1, ctx, err, err_len);
	if (rc == ATTN_OK) {
		cpu_ctx *c = *ctx;
		c->caps = BLOCKED_CAPS;
		const size_t len = strlen(c->info);
		snprintf(c->info + len, sizeof c->info - len, " isa=%s", isa->name);
	}
	return rc;
}

/* head_dim and head_dim_v up to MLA's 576: Q^T of a panel (576 x 32 floats
 * under AVX-512) stays in L2 with a K tile. */
#define MAX_HEAD_DIM 576

static int blocked_supports(void *ctx, const attn_shape *s, char *why, size_t why_len)
{
	(void)ctx;
	return cpu_supports_caps(s, BLOCKED_CAPS, MAX_HEAD_DIM, why, why_len);
}

static uint64_t blocked_workspace(void *ctx, const attn_shape *s)
{
	const cpu_ctx *c = ctx;
	plan p;
	make_plan(c, s, &p);
	size_t per_thread, parts_off, table_off;
	return (uint64_t)plan_floats(c, &p, &per_thread, &parts_off, &table_off) * sizeof(float);
}

static const attn_backend blocked_backend = {
    .abi_version = ATTN_ABI_VERSION,
    .name = "blocked",
    .description = "flash-style tiles with online softmax, OpenMP, GQA heads share K/V tiles",
    .caps = BLOCKED_CAPS,
    .create = blocked_create,
    .supports = blocked_supports,
    .workspace_bytes = blocked_workspace,
    CPU_SHARED_ENTRY_POINTS,
    CPU_PAGED_ENTRY_POINT,
};

const attn_backend *attn_backend_blocked(void)
{
	return &blocked_backend;
}
