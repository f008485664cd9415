/* cpu_common.h - what the three CPU backends (naive, blocked, blas) share:
 * an instance context, a host KV cache, option parsing and the entry points
 * that only differ by the attention kernel they call.
 *
 * A CPU backend provides one kernel, attention over K/V rows that it reads
 * through a view (cpu_kv: separate tensors, the cache, or the caller's
 * pages), and fills its table with the cpu_* functions below. */
#ifndef ATTN_CPU_COMMON_H
#define ATTN_CPU_COMMON_H

#include <math.h>

#include "attn_half.h"
#include "attnbench.h"
#include "cpu_kv.h"
#include "impls/builtin.h"

typedef struct cpu_ctx cpu_ctx;

/* Widen (f16, bf16) or dequantize (q8_0, q4_0, fp8) rows [j0, j0 + n) of KV
 * head (b, g) of K (is_v 0, rows of width head_dim) or V (is_v 1, head_dim_v)
 * to f32, dst[r * width + c]. */
void cpu_kv_load_rows(float *dst, const cpu_kv *kv, int is_v, int64_t b, int64_t g, int64_t j0, int64_t n,
                      int64_t width);

/* out[b,h,i,:] for the shape s. q is stored as s->dtype, K and V as the view
 * says; out is f32. The first s->n_kv rows of each head are valid (kv_lens[b]
 * when ragged). */
typedef int (*cpu_kernel)(cpu_ctx *c, const attn_shape *s, const void *q, const cpu_kv *kv, float *out);

struct cpu_ctx {
	int threads;
	int tile_q, tile_kv; /* blocked backend tiles */
	cpu_kernel kernel;
	uint32_t caps; /* what the kernel handles (ATTN_CAP_*); 0: CPU_BASE_CAPS */
	char err[256];
	char info[96]; /* instance_info: threads and tiles */
	/* KV cache: [batch][n_kv_heads][cap][K row, V row], rows stored as
	 * attn_kv_dtype(&cache_shape) (attn_row_bytes: head_dim and head_dim_v
	 * elements). Interleaving K and V makes one decode step read one
	 * contiguous stream per head instead of two (measured: 5-15% more GB/s
	 * on a 256 MiB cache). */
	void *kv;
	attn_shape cache_shape;
	int64_t cap, len; /* len: the longest sequence */
	int64_t *lens;    /* [batch]: each sequence's length (ragged batches) */
	/* grown on demand, reused across calls */
	float *ws;
	size_t ws_bytes;
};

/* What every CPU kernel handles: the ABI 1 features. */
#define CPU_BASE_CAPS (ATTN_CAP_CAUSAL | ATTN_CAP_GQA | ATTN_CAP_KV_CACHE | ATTN_CAP_F16 | ATTN_CAP_BF16)

/* Create a context: parses cfg->params against the keys this backend knows
 * ("tile_q", "tile_kv" for blocked; none for the others). */
int cpu_create(const attn_config *cfg, cpu_kernel kernel, int knows_tiles, void **out, char *err, size_t err_len);
void cpu_destroy(void *ctx);
const char *cpu_device_name(void *ctx);
const char *cpu_last_error(void *ctx);
const char *cpu_instance_info(void *ctx);
/* Shapes a CPU kernel with the capabilities caps (ATTN_CAP_*) supports: q
 * stored as f32, f16 or bf16, k and v as caps allow, head_dim 1..max_head_dim
 * (0: any), each variant only with its cap, the block formats only with
 * head_dim and head_dim_v multiples of 32. A reason for every no. */
int cpu_supports_caps(const attn_shape *s, uint32_t caps, int64_t max_head_dim, char *why, size_t why_len);
/* cpu_supports_caps with CPU_BASE_CAPS. */
int cpu_supports(const attn_shape *s, int64_t max_head_dim, char *why, size_t why_len);

int cpu_attend(void *ctx, const attn_shape *s, const void *q, const void *k, const void *v, float *out);
/* attend_paged: validates the block table (every page a sequence uses in
 * 0..n_pages-1) and runs the kernel on a paged view. */
int cpu_attend_paged(void *ctx, const attn_shape *s, const void *q, const attn_paged_kv *kv, float *out);
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

/* ---- the variants (ABI 3), one definition for every CPU kernel ---------- */

/* Sequence b's query and key counts: q_lens[b] and kv_lens[b] when ragged,
 * else n_q and n_kv. */
static inline void cpu_seq_lens(const attn_shape *s, int64_t b, int64_t *nq, int64_t *nkv)
{
	*nq = s->q_lens ? s->q_lens[b] : s->n_q;
	*nkv = s->kv_lens ? s->kv_lens[b] : s->n_kv;
}

/* The keys [*lo, *hi) that query i of a sequence of nq queries and nkv keys
 * sees (its position p = nkv - nq + i): causal j <= p, window p - j < W
 * (without causal the keys after p stay visible). May be empty. */
static inline void cpu_key_range(const attn_shape *s, int64_t nq, int64_t nkv, int64_t i, int64_t *lo, int64_t *hi)
{
	const int64_t p = nkv - nq + i;
	int64_t l = 0, h = nkv;
	if (s->causal && p + 1 < h)
		h = p + 1;
	if (s->window > 0 && p - s->window + 1 > l)
		l = p - s->window + 1;
	if (h < 0)
		h = 0;
	*lo = l < h ? l : h;
	*hi = h;
}

/* The score of key j for a query at position p of head h, after scale *
 * q.k (x): softcap c * tanh(x / c), then ALiBi's - m_h |p - j|. */
static inline float cpu_score(const attn_shape *s, int64_t h, float x, int64_t p, int64_t j)
{
	if (s->softcap > 0.0f)
		x = s->softcap * tanhf(x / s->softcap);
	if (s->alibi)
		x -= s->alibi[h] * (float)(p > j ? p - j : j - p);
	return x;
}

/* Head h's sink logit z_h, whose exp(z_h) joins the softmax denominator (it
 * adds no value), or -inf without sinks. */
static inline float cpu_sink(const attn_shape *s, int64_t h)
{
	return s->sinks ? s->sinks[h] : -INFINITY;
}

/* The entry points every CPU backend shares, for its attn_backend table:
 * prefill and decode are one operation on the CPU (append, then attend). */
#define CPU_SHARED_ENTRY_POINTS                                                                                        \
	.destroy = cpu_destroy, .device_name = cpu_device_name, .last_error = cpu_last_error, .attend = cpu_attend,    \
	.cache_alloc = cpu_cache_alloc, .cache_append = cpu_cache_append, .cache_len = cpu_cache_len,                  \
	.cache_truncate = cpu_cache_truncate, .prefill = cpu_prefill, .decode = cpu_prefill,                           \
	.cache_bytes = cpu_cache_bytes, .instance_info = cpu_instance_info

/* The x86-64 instruction sets the CPU kernels are also compiled for (the
 * Makefile: blocked_tile.c and blas_softmax.c, -DCPU_ISA=avx2 or avx512),
 * beside the build's baseline. */
#if defined(__x86_64__)
#define CPU_X86_ISAS 1
#endif
enum { CPU_HAS_AVX2 = 1, CPU_HAS_AVX512 = 2 };

/* CPU_HAS_* of the CPU this runs on (AVX2 with FMA and F16C; AVX-512 F, VL,
 * BW and DQ with those), as the CPU and the OS report it; 0 off x86-64. */
unsigned cpu_isas(void);

/* For a kernel that reads paged views (ATTN_CAP_PAGED). */
#define CPU_PAGED_ENTRY_POINT .attend_paged = cpu_attend_paged

#endif
