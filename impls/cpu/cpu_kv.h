/* cpu_kv.h - the view through which the CPU kernels read K and V rows:
 * separate tensors, the cache, or the caller's pages. */
#ifndef ATTN_CPU_KV_H
#define ATTN_CPU_KV_H

#include <stddef.h>
#include <stdint.h>

#include "attnbench.h"

/* Where the keys and values of a call live. Contiguous (paged == NULL): row j
 * of KV head (b, g) of K starts at byte ((b * n_kv_heads + g) * stride + j) *
 * k_pitch of k, the same for V with v_pitch: the pitch is a row's size for
 * separate K and V tensors (stateless attend), and the size of a token's K
 * and V rows together in the cache, where they sit side by side. Paged: the
 * caller's attn_paged_kv (page_size tokens a page, every KV head in each
 * page); k and v are its pools. Rows are stored as dt (any KV storage type)
 * and are k_row (head_dim elements) and v_row (head_dim_v elements) bytes. */
typedef struct cpu_kv {
	const char *k, *v;
	size_t k_pitch, v_pitch;    /* contiguous: bytes from one row to the next */
	int64_t stride;             /* contiguous: rows per KV head */
	const attn_paged_kv *paged; /* or NULL */
	int64_t n_kv_heads;
	attn_dtype dt;
	size_t k_row, v_row; /* bytes of one K and one V row */
} cpu_kv;

/* A view of separate K and V tensors, [batch][n_kv_heads][n_kv][row]. */
cpu_kv cpu_kv_tensors(const attn_shape *s, const void *k, const void *v);

/* The address of row j of KV head (b, g): base and pitch are K's or V's. */
static inline const char *cpu_kv_row_at(const cpu_kv *kv, const char *base, size_t pitch, size_t row, int64_t b,
                                        int64_t g, int64_t j)
{
	if (!kv->paged)
		return base + ((size_t)((b * kv->n_kv_heads + g) * kv->stride) + (size_t)j) * pitch;
	const attn_paged_kv *p = kv->paged;
	const int64_t page = p->block_table[b * p->max_pages + j / p->page_size];
	return base + ((size_t)((page * kv->n_kv_heads + g) * p->page_size) + (size_t)(j % p->page_size)) * row;
}

static inline const void *cpu_kv_k(const cpu_kv *kv, int64_t b, int64_t g, int64_t j)
{
	return cpu_kv_row_at(kv, kv->k, kv->k_pitch, kv->k_row, b, g, j);
}

static inline const void *cpu_kv_v(const cpu_kv *kv, int64_t b, int64_t g, int64_t j)
{
	return cpu_kv_row_at(kv, kv->v, kv->v_pitch, kv->v_row, b, g, j);
}

#endif
