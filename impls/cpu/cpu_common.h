/* cpu_common.h - what the three CPU backends (naive, blocked, blas) share:
 * an instance context, a host KV cache, option parsing and the entry points
 * that only differ by the attention kernel they call.
 *
 * A CPU backend provides one kernel, attention over K/V rows that sit
 * kv_stride tokens apart per KV head (the cache's capacity, or n_kv for
 * stateless calls), and fills its table with the cpu_* functions below. */
#ifndef ATTN_CPU_COMMON_H
#define ATTN_CPU_COMMON_H

#include "attn_half.h"
#include "attnbench.h"
#include "impls/builtin.h"

typedef struct cpu_ctx cpu_ctx;

/* out[b,h,i,:] for the shape s. q, k and v are stored as s->dtype (f32,
 * f16 or bf16); out is f32. Row j of KV head (b, g) of K starts at element
 * ((b * n_kv_heads + g) * kv_stride + j) * ld of k, the same for V: ld is
 * head_dim for separate K and V tensors (stateless attend), 2 * head_dim for
 * the cache, where each token's K and V rows sit side by side. ld and
 * kv_stride count elements, not bytes. The first s->n_kv rows of each head
 * are valid. */
typedef int (*cpu_kernel)(cpu_ctx *c, const attn_shape *s, const void *q, const void *k, const void *v,
                          int64_t kv_stride, int64_t ld, float *out);

struct cpu_ctx {
	int threads;
	int tile_q, tile_kv; /* blocked backend tiles */
	cpu_kernel kernel;
	char err[256];
	char info[96]; /* instance_info: threads and tiles */
	/* KV cache: [batch][n_kv_heads][cap][K row, V row], elements of
	 * cache_shape.dtype. Interleaving K and V makes one decode step read one
	 * contiguous stream per head instead of two (measured: 5-15% more GB/s
	 * on a 256 MiB cache). */
	void *kv;
	attn_shape cache_shape;
	int64_t cap, len;
	/* grown on demand, reused across calls */
	float *ws;
	size_t ws_bytes;
};

/* Create a context: parses cfg->params against the keys this backend knows
 * ("tile_q", "tile_kv" for blocked; none for the others). */
int cpu_create(const attn_config *cfg, cpu_kernel kernel, int knows_tiles, void **out, char *err, size_t err_len);
void cpu_destroy(void *ctx);
const char *cpu_device_name(void *ctx);
const char *cpu_last_error(void *ctx);
const char *cpu_instance_info(void *ctx);
/* Shapes every CPU backend supports: f32, f16 or bf16 storage, head_dim
 * 1..max_head_dim (0: any). */
int cpu_supports(const attn_shape *s, int64_t max_head_dim, char *why, size_t why_len);

int cpu_attend(void *ctx, const attn_shape *s, const void *q, const void *k, const void *v, float *out);
int cpu_cache_alloc(void *ctx, const attn_shape *s);
int cpu_cache_append(void *ctx, const void *k_new, const void *v_new, int64_t n);
int64_t cpu_cache_len(void *ctx);
int cpu_cache_truncate(void *ctx, int64_t len);
int cpu_prefill(void *ctx, const attn_shape *s, const void *q, const void *k_new, const void *v_new, float *out);
uint64_t cpu_cache_bytes(void *ctx);

/* Ensure c->ws holds at least bytes; returns 0 or ATTN_E_NOMEM. */
int cpu_workspace(cpu_ctx *c, size_t bytes);

/* Number of keys query i (0-based among n_q) may see. */
static inline int64_t attn_visible_keys(const attn_shape *s, int64_t i)
{
	return s->causal ? s->n_kv - s->n_q + i + 1 : s->n_kv;
}

/* The entry points every CPU backend shares, for its attn_backend table:
 * prefill and decode are one operation on the CPU (append, then attend). */
#define CPU_SHARED_ENTRY_POINTS                                                                                        \
	.destroy = cpu_destroy, .device_name = cpu_device_name, .last_error = cpu_last_error, .attend = cpu_attend,    \
	.cache_alloc = cpu_cache_alloc, .cache_append = cpu_cache_append, .cache_len = cpu_cache_len,                  \
	.cache_truncate = cpu_cache_truncate, .prefill = cpu_prefill, .decode = cpu_prefill,                           \
	.cache_bytes = cpu_cache_bytes, .instance_info = cpu_instance_info

#endif
