/* blocked.h - the parts of the blocked backend, shared by its files:
 *   blocked.c       the algorithm (one task's loop over key tiles), the plan
 *                   of tasks and key splits, threads, the backend table
 *   blocked_tile.c  the steps on one tile: Q rows, scores, the variants
 *                   (softcap, ALiBi, masks), online softmax, P V
 *                   and the K/V tiles as the kernels read them */
#ifndef ATTN_BLOCKED_H
#define ATTN_BLOCKED_H

#include "cpu_common.h"

/* Are K and V read in place (else f32 tiles the tile step fills)? Rows
 * stored as f32, f16 or bf16, and q8_0 rows for the dot-product kernels
 * (not wide: they dequantize 16 values per load in registers; the wide
 * score kernel broadcasts single values and takes an f32 tile). Contiguous
 * rows when the pitch is a whole number of elements (always in the cache
 * and in tensors); paged rows through a table of row addresses (narrow)
 * or a page at a time (wide: a tile ends at each page's end, blocked.c).
 * q4_0 and fp8 rows become f32 tiles. */
static inline int bk_in_place(const cpu_kv *kv, int wide)
{
	if (kv->dt == ATTN_Q8_0)
		return !wide;
	if (!attn_dtype_known(kv->dt))
		return 0;
	const size_t esz = attn_dtype_size(kv->dt);
	return kv->paged ? kv->k_row % esz == 0 && kv->v_row % esz == 0
	                 : kv->k_pitch % esz == 0 && kv->v_pitch % esz == 0;
}

/* The keys [*lo, *hi) that some query of queries [i0, i0 + nq) of sequence
 * b can see under the causal and window masks: everything a task over
 * those queries reads. The queries' positions grow with i, and so do both
 * ends of what each sees (cpu_key_range), so the union is [lo(first),
 * hi(last)). */
void blocked_key_range(const attn_shape *s, int64_t b, int64_t i0, int64_t nq, int64_t *lo, int64_t *hi);

/* Rows below this use dot-product scores (blocked_tile.c), and their S
 * rows are padded to 4, 8 or 16 only (Rp): a 16-float vector of S then holds
 * the rows of 4, 2 or 1 keys, and the softmax of a decode's 4 rows takes a
 * quarter of the vectors. */
#define WIDE_ROWS 16
/* The widest vector of any compilation, in floats (AVX-512). */
#define VW_MAX 16
/* Wide tasks pad their rows to a multiple of this: the score kernel's
 * panel, two vectors of rows (32 under AVX-512, 16 elsewhere, so 32 fits
 * every instruction set's panels). */
#define WIDE_PANEL 32

/* Decode asks for K and V rows this many keys ahead of their use: 48 KiB
 * of the rows (blocked_tile.c says why), key_bytes being what one key
 * takes of the rows read (its K and V rows together, or its K row where V
 * is a separate tensor); at most BK_AHEAD_MAX keys, the room a paged tile's
 * row table keeps for them. */
#define BK_AHEAD_BYTES (48 << 10)
#define BK_AHEAD_MAX   256
static inline int64_t bk_ahead_keys(size_t key_bytes)
{
	const int64_t a = BK_AHEAD_BYTES / (int64_t)key_bytes + 1;
	return a < BK_AHEAD_MAX ? a : BK_AHEAD_MAX;
}

/* The geometry of one task, shared by its steps. */
typedef struct task_geom {
	int64_t D, Dv;          /* head_dim, head_dim_v */
	attn_dtype qdt;         /* storage of q */
	attn_dtype dt;          /* storage of the current K and V tiles as read */
	size_t pk, pv;          /* bytes between rows of the current K, V tile */
	int64_t R, R4;          /* query rows, and rounded up to the output kernel's 4 */
	int64_t Rp;             /* rows as the score and softmax kernels see them: padded to 4, 8 or 16
	                         * (narrow), or to WIDE_PANEL when wide (whole vectors of any width) */
	int64_t nq;             /* queries per head in this block */
	int64_t b, g, i0;       /* sequence, KV head, first query */
	int64_t pos0;           /* position of query i0; row r is at pos0 + r % nq */
	int64_t n_q, n_keys;    /* queries and keys of sequence b */
	int wide;               /* S^T by the 4x16 kernel (else dot products) */
	float *Qs;              /* the block's Q, scaled: [D][Rp] when wide, else [R][D] */
	float *St;              /* scores, then probabilities: [tile_kv][Rp], and VW_MAX floats of room */
	float *O;               /* [R4][Dv] */
	float *m, *l, *alpha;   /* [Rp] each */
	float *slope, *pos;     /* ALiBi: each row's slope (0 past R) and position, [Rp] */
	float *Kw;              /* 16-bit K read in place and wide: the K tile widened, [tile_kv][D] */
	const char **kr, **vr;  /* paged and narrow: the address of each K and V row of keys
	                         * [j0, j0 + avail) of the current tile, which may span pages
	                         * (blocked.c); NULL: rows pk, pv bytes apart from the tile's first */
	const char **row_table; /* room for kr and vr: 2 (tile_kv + BK_AHEAD_MAX) addresses */
	int64_t avail;          /* keys readable from the current tile's first on, for prefetching */
	const void *Kcur;       /* the current K tile as the kernels read it */
	float *Kt, *Vt;         /* tiles the tile step fills (quantized rows): [tile_kv][D], [tile_kv][Dv] */
} task_geom;

/* The steps of one tile (blocked_tile.c). That file is compiled once per
 * instruction set (the Makefile: the baseline, AVX2+FMA+F16C, AVX-512), each
 * time filling one of these tables; the algorithm in blocked.c calls through
 * the table its instance chose. */
typedef struct blocked_isa {
	const char *name; /* "generic", "avx2", "avx512" */
	/* The tile [j0, j0 + n) of K (v = 0, rows of width D) or V (v = 1,
	 * width Dv) of the task's head as the kernels read it: in place
	 * (bk_in_place: *dt the storage type, *pitch bytes between rows), or
	 * dequantized into scratch ([n][width] floats, *dt f32) */
	const void *(*tile)(const cpu_kv *kv, const task_geom *t, int v, int64_t j0, int64_t n, float *scratch,
	                    size_t *pitch, attn_dtype *dt);
	void (*load_rows)(const attn_shape *s, const void *q, task_geom *t);
	/* St[j][r] = q_r . k_j for the nk keys of a tile; t->avail (>= nk)
	 * keys are readable from K and V, for prefetching */
	void (*scores)(const task_geom *t, const void *K, const void *V, int64_t nk);
	/* softcap and ALiBi on the scores of keys [j0, j0 + nk) */
	void (*transform)(const attn_shape *s, const task_geom *t, int64_t j0, int64_t nk);
	/* -inf for the keys of [j0, j0 + nk) a row does not see */
	void (*mask)(const attn_shape *s, const task_geom *t, int64_t j0, int64_t nk);
	void (*online_softmax)(const task_geom *t, int64_t nk);
	void (*accumulate)(const task_geom *t, const void *V, int64_t nk);
} blocked_isa;

extern const blocked_isa blocked_isa_generic;
#ifdef CPU_X86_ISAS
extern const blocked_isa blocked_isa_avx2, blocked_isa_avx512;
#endif

/* The table for want ("avx2", "avx512", "generic", or NULL / "": the best
 * of has, CPU_HAS_* bits). Returns ATTN_OK, or ATTN_E_INVALID with a message naming the ISA
 * when it is unknown or has lacks it. */
int blocked_isa_select(const char *want, unsigned has, const blocked_isa **out, char *err, size_t err_len);

#endif
