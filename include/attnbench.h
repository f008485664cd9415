/*
 * attnbench.h - the backend interface of attnbench.
 *
 * This is the one public header: every backend, built-in or loaded from a
 * shared library, fills an attn_backend table and the harness drives it only
 * through these function pointers. The harness never looks inside a
 * backend's context, and a backend never parses the command line.
 *
 * Tensor layouts (row-major, C order, no padding):
 *   q, out        [batch][n_heads][n_q][head_dim]
 *   k, v          [batch][n_kv_heads][n_kv][head_dim]   (attend)
 *   k_new, v_new  [batch][n_kv_heads][n_new][head_dim]  (prefill, decode)
 * Query head h reads KV head h / (n_heads / n_kv_heads) (GQA; n_kv_heads ==
 * n_heads is MHA, n_kv_heads == 1 is MQA).
 *
 * Semantics, for every entry point:
 *   out[b,h,i,:] = sum_j softmax_j(scale * q[b,h,i,:] . k[b,g,j,:]) v[b,g,j,:]
 * With causal masking, the queries are the last n_q positions of the n_kv
 * keys (bottom-right alignment, the KV-cache convention): query i sees keys
 * j <= n_kv - n_q + i.
 *
 * Storage dtype is given by attn_shape.dtype; q points at that type, k, v
 * and the KV cache at attn_kv_dtype(s) (ABI 3; the same as dtype unless
 * the caller asks for another storage), out is always float32, and softmax
 * and accumulation are in float32.
 *
 * Variants (ABI 3, each off when its field is zero or NULL), applied in this
 * order to the score of query i (absolute position p) and key j:
 *   s = scale * q.k;  softcap c: s = c * tanh(s / c);  ALiBi: s -= m_h |p - j|;
 *   masks: causal (j <= p), window W (p - j < W; without causal the keys
 *   after p stay visible);  softmax over the visible keys, whose denominator
 *   gains exp(z_h) for a sink logit z_h (the sink adds no value);  then the
 *   weighted sum of v rows of head_dim_v elements.
 * Ragged batches (q_lens, kv_lens): sequence b has q_lens[b] queries and
 * kv_lens[b] keys, stored padded in the layouts above; its query i sits at
 * p = kv_lens[b] - q_lens[b] + i. Rows past a length are never read, and
 * out rows past q_lens[b] are left alone.
 */
#ifndef ATTNBENCH_H
#define ATTNBENCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Versions. The interface grows the way SQLite's sqlite3_vfs does: a table
 * records the ABI version it was built against (abi_version, its first
 * field), and a new version only ever appends entry points at the end of
 * attn_backend (and fields at the end of attn_shape, off when zero). So:
 *   - a backend built against an older header keeps loading: the harness
 *     reads only the part of the table that version defined and treats the
 *     entry points it lacks as absent (NULL);
 *   - a backend built against a newer header than the harness is refused
 *     with a message naming both versions;
 *   - nothing is ever removed, reordered or given a new meaning.
 * A backend that wants to build against several versions tests
 * ATTN_ABI_VERSION with #if before setting a newer entry point.
 *
 * History:
 *   1  the first table (probe .. peak_device_bytes)
 *   2  instance_info
 *   3  attn_shape: variants (window, softcap, alibi, sinks, head_dim_v),
 *      kv_dtype with quantized storage, ragged lengths; attend_paged
 */
#define ATTN_ABI_VERSION     3
#define ATTN_ABI_MIN_VERSION 1 /* the oldest version the harness still loads */

/* Name of the symbol a backend shared library exports:
 *   const attn_backend *const *attnbench_backends(uint32_t *count);
 * returning an array of *count tables. */
#define ATTN_PLUGIN_SYMBOL "attnbench_backends"

typedef enum attn_dtype {
	ATTN_F32 = 0,
	ATTN_F16 = 1,
	ATTN_BF16 = 2,
	/* ABI 3: storage types of k, v and the KV cache only (kv_storage); their
	 * block layouts are in attn_quant.h */
	ATTN_Q8_0 = 3,     /* llama.cpp's q8_0: 32 int8 and an f16 scale, 34 bytes */
	ATTN_Q4_0 = 4,     /* llama.cpp's q4_0: 32 4-bit and an f16 scale, 18 bytes */
	ATTN_FP8_E4M3 = 5, /* OCP FP8 E4M3FN, one byte, scale 1 */
} attn_dtype;

/* One attention problem. For prefill, n_q is the number of new tokens and
 * n_kv the cache length after they are appended; for decode n_q is 1. */
typedef struct attn_shape {
	int64_t batch;
	int64_t n_heads;
	int64_t n_kv_heads;
	int64_t head_dim; /* 1 .. 576 for every built-in backend */
	int64_t n_q;
	int64_t n_kv;
	int causal;       /* 0 or 1; 1 requires n_q <= n_kv */
	float scale;      /* softmax scale, already resolved (1/sqrt(d) default) */
	attn_dtype dtype; /* storage type of q (and of k, v and the cache before ABI 3) */

	/* --- ABI 3 (a backend that lacks the matching ATTN_CAP_* never sees a
	 * shape that uses one) ------------------------------------------------ */
	int32_t kv_storage;     /* storage of k, v and the KV cache as ATTN_KV(t),
	                         * or 0: the same as dtype; read it with
	                         * attn_kv_dtype() */
	int64_t head_dim_v;     /* head size of v and out; 0: head_dim; read it
	                         * with attn_head_dim_v() */
	int64_t window;         /* sliding window W >= 1; 0: none */
	float softcap;          /* c > 0: s = c * tanh(s / c); 0: none */
	const float *alibi;     /* n_heads ALiBi slopes m_h, or NULL */
	const float *sinks;     /* n_heads sink logits z_h, or NULL */
	const int64_t *q_lens;  /* batch query counts (<= n_q), or NULL: all n_q */
	const int64_t *kv_lens; /* batch key counts (<= n_kv), or NULL: all n_kv */
} attn_shape;

/* attn_shape.kv_storage for the storage type t. */
#define ATTN_KV(t) ((int32_t)(t) + 1)

/* The storage type of k, v and the KV cache. */
static inline attn_dtype attn_kv_dtype(const attn_shape *s)
{
	return s->kv_storage > 0 ? (attn_dtype)(s->kv_storage - 1) : s->dtype;
}

/* The head size of v and out. */
static inline int64_t attn_head_dim_v(const attn_shape *s)
{
	return s->head_dim_v > 0 ? s->head_dim_v : s->head_dim;
}

/* A KV cache that the caller holds in pages (attend_paged), as serving
 * engines do: a pool of pages of page_size tokens, each page holding every
 * KV head, [n_pages][n_kv_heads][page_size][row] with rows of head_dim (k)
 * and head_dim_v (v) elements stored as attn_kv_dtype(s). Token t of sequence b
 * sits in page block_table[b * max_pages + t / page_size], slot
 * t % page_size. */
typedef struct attn_paged_kv {
	const void *k_pages, *v_pages;
	int64_t n_pages, page_size;
	const int32_t *block_table; /* [batch][max_pages] */
	int64_t max_pages;
} attn_paged_kv;

/* Status codes returned by every entry point. */
enum {
	ATTN_OK = 0,
	ATTN_E_UNSUPPORTED = 1, /* the shape or option is not supported */
	ATTN_E_NOMEM = 2,       /* host or device memory exhausted */
	ATTN_E_DEVICE = 3,      /* device or driver failure */
	ATTN_E_INVALID = 4,     /* the caller broke a documented precondition */
};

/* Capability flags (attn_backend.caps). */
enum {
	ATTN_CAP_CAUSAL = 1u << 0,       /* causal masking */
	ATTN_CAP_GQA = 1u << 1,          /* n_kv_heads < n_heads */
	ATTN_CAP_KV_CACHE = 1u << 2,     /* prefill and decode */
	ATTN_CAP_THREADS = 1u << 3,      /* honours attn_config.threads */
	ATTN_CAP_DEVICE_TIMER = 1u << 4, /* last_device_ns is meaningful */
	ATTN_CAP_F16 = 1u << 5,
	ATTN_CAP_BF16 = 1u << 6,
	/* ABI 3 */
	ATTN_CAP_WINDOW = 1u << 7,
	ATTN_CAP_SOFTCAP = 1u << 8,
	ATTN_CAP_ALIBI = 1u << 9,
	ATTN_CAP_SINKS = 1u << 10,
	ATTN_CAP_HEAD_DIM_V = 1u << 11, /* head_dim_v != head_dim */
	ATTN_CAP_KV_DTYPE = 1u << 12,   /* k, v stored as another of f32/f16/bf16 than q */
	ATTN_CAP_Q8_0 = 1u << 13,       /* k, v stored as ATTN_Q8_0 */
	ATTN_CAP_Q4_0 = 1u << 14,       /* k, v stored as ATTN_Q4_0 */
	ATTN_CAP_FP8 = 1u << 15,        /* k, v stored as ATTN_FP8_E4M3 */
	ATTN_CAP_RAGGED = 1u << 16,     /* q_lens, kv_lens in attend (and the cache paths) */
	ATTN_CAP_PAGED = 1u << 17,      /* attend_paged */
};

/* What the harness hands a backend at create time. */
typedef struct attn_config {
	int threads;        /* CPU threads to use; 0 means the backend's choice */
	const char *device; /* device selector (index or name substring), or NULL */
	/* Backend-specific settings as "key=value" pairs separated by commas,
	 * e.g. "tile_q=64,tile_kv=128"; NULL or "" for defaults. Unknown keys are
	 * an error (ATTN_E_INVALID) so that typos are not silently ignored. */
	const char *params;
} attn_config;

/*
 * The backend table. Every pointer is required unless marked optional.
 * Entry points return ATTN_OK or an ATTN_E_* code; after a failure,
 * last_error(ctx) describes it. A backend instance is used from one thread
 * at a time (it may use threads of its own inside a call).
 */
typedef struct attn_backend {
	uint32_t abi_version; /* ATTN_ABI_VERSION the backend was built against */
	const char *name;     /* short, unique, [a-z0-9_-]: "naive", "blocked" */
	const char *description;
	uint32_t caps; /* ATTN_CAP_* */

	/* Is the backend usable on this machine? Returns 1 if yes, else 0 and a
	 * reason in why (e.g. "no Vulkan loader"). Optional: NULL means always. */
	int (*probe)(char *why, size_t why_len);

	/* Optional: list the devices this backend can run on, one per line, into
	 * buf (for `attnbench list`). */
	void (*list_devices)(char *buf, size_t buf_len);

	/* Create an instance. On failure return an ATTN_E_* code and a message
	 * in err. */
	int (*create)(const attn_config *cfg, void **ctx, char *err, size_t err_len);
	void (*destroy)(void *ctx);

	/* Name of the device this instance runs on ("cpu", a GPU's name). */
	const char *(*device_name)(void *ctx);

	/* Message of the last failure of this instance. */
	const char *(*last_error)(void *ctx);

	/* Returns 1 if the shape can run, else 0 and the reason in why. A
	 * reason that starts with "needs " (e.g. "needs 3.2 GiB of device
	 * memory, the device has 2 GiB") is a shape too large for this device:
	 * a sweep writes it as "skipped: needs ...", anything else as
	 * "skipped: not supported: ...". */
	int (*supports)(void *ctx, const attn_shape *s, char *why, size_t why_len);

	/* Bytes the backend needs beyond q, k, v, out and the KV cache for one
	 * call on this shape (score matrices, tiles, staging buffers). */
	uint64_t (*workspace_bytes)(void *ctx, const attn_shape *s);

	/* Stateless attention: q, k, v, out as in the layouts above. */
	int (*attend)(void *ctx, const attn_shape *s, const void *q, const void *k, const void *v, float *out);

	/* --- KV cache (ATTN_CAP_KV_CACHE) ---------------------------------- */

	/* Allocate (or re-allocate) the backend-owned cache for s->batch,
	 * s->n_kv_heads, s->head_dim (and head_dim_v), attn_kv_dtype(s) and a
	 * capacity of s->n_kv tokens per sequence; the cache starts empty. */
	int (*cache_alloc)(void *ctx, const attn_shape *s);

	/* Append n tokens of keys and values (layout k_new/v_new) without
	 * computing attention: how a harness loads an existing context. */
	int (*cache_append)(void *ctx, const void *k_new, const void *v_new, int64_t n);

	/* Current cache length in tokens. */
	int64_t (*cache_len)(void *ctx);

	/* Forget the tokens past len (len <= cache_len); no data moves. */
	int (*cache_truncate)(void *ctx, int64_t len);

	/* Append s->n_q new tokens and compute causal attention of their queries
	 * over the whole cache. s->n_kv must equal cache_len + s->n_q. */
	int (*prefill)(void *ctx, const attn_shape *s, const void *q, const void *k_new, const void *v_new, float *out);

	/* Ragged batches in the cache paths (ATTN_CAP_RAGGED): each sequence
	 * keeps its own length. A prefill or decode whose shape has q_lens and
	 * kv_lens appends the first q_lens[b] rows of sequence b's block of
	 * k_new/v_new (n_q rows each) to sequence b, whose cache must hold
	 * kv_lens[b] - q_lens[b] tokens before the call; cache_append always
	 * appends n tokens to every sequence, and cache_len is the longest
	 * sequence's length. A ragged prefill is also how a caller loads
	 * sequences of different lengths (it may ignore that call's out). */

	/* Append one token (s->n_q == 1) and attend over the whole cache. */
	int (*decode)(void *ctx, const attn_shape *s, const void *q, const void *k_new, const void *v_new, float *out);

	/* Bytes held by the cache as allocated (0 if none). */
	uint64_t (*cache_bytes)(void *ctx);

	/* Optional (ATTN_CAP_DEVICE_TIMER): device-only time of the last
	 * attend/prefill/decode call in nanoseconds, or -1 if unknown. */
	int64_t (*last_device_ns)(void *ctx);

	/* Optional: peak device memory this instance has held, in bytes. */
	uint64_t (*peak_device_bytes)(void *ctx);

	/* --- ABI 2 ---------------------------------------------------------- */

	/* Optional: how this instance is set up, in one line of text for
	 * people (`attnbench list`): the code path or instruction set chosen,
	 * tiles, a GPU's driver, e.g. "tile_q=64 tile_kv=128". NULL or "" for
	 * nothing to say. The string stays valid until destroy. */
	const char *(*instance_info)(void *ctx);

	/* --- ABI 3 ---------------------------------------------------------- */

	/* Optional (ATTN_CAP_PAGED): attention of the s->n_q queries of each
	 * sequence over s->n_kv keys (kv_lens[b] when ragged) that the caller
	 * has already written into the pages of kv, the new tokens' keys
	 * included: causal as s->causal says, bottom-right aligned per sequence,
	 * with every variant of s. Stateless: the backend owns no cache here. */
	int (*attend_paged)(void *ctx, const attn_shape *s, const void *q, const attn_paged_kv *kv, float *out);

	/* New entry points go here, each under a "--- ABI N" banner. */
} attn_backend;

/* Bytes of attn_backend as ABI version v defined it (0 for a version this
 * header does not know): the harness reads no further into a table. */
#define ATTN_BACKEND_SIZE_V1 offsetof(attn_backend, instance_info)
#define ATTN_BACKEND_SIZE_V2 offsetof(attn_backend, attend_paged)
#define ATTN_BACKEND_SIZE_V3 sizeof(attn_backend)

#ifdef __cplusplus
}
#endif

#endif /* ATTNBENCH_H */
