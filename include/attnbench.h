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
 * Storage dtype is given by attn_shape.dtype; q, k and v point at that type,
 * out is always float32, and softmax and accumulation are in float32.
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
 */
#define ATTN_ABI_VERSION     2
#define ATTN_ABI_MIN_VERSION 1 /* the oldest version the harness still loads */

/* Name of the symbol a backend shared library exports:
 *   const attn_backend *const *attnbench_backends(uint32_t *count);
 * returning an array of *count tables. */
#define ATTN_PLUGIN_SYMBOL "attnbench_backends"

typedef enum attn_dtype {
	ATTN_F32 = 0,
	ATTN_F16 = 1,
	ATTN_BF16 = 2,
} attn_dtype;

/* One attention problem. For prefill, n_q is the number of new tokens and
 * n_kv the cache length after they are appended; for decode n_q is 1. */
typedef struct attn_shape {
	int64_t batch;
	int64_t n_heads;
	int64_t n_kv_heads;
	int64_t head_dim; /* 1 .. 256 for every built-in backend */
	int64_t n_q;
	int64_t n_kv;
	int causal;       /* 0 or 1; 1 requires n_q <= n_kv */
	float scale;      /* softmax scale, already resolved (1/sqrt(d) default) */
	attn_dtype dtype; /* storage type of q, k, v and the KV cache */
} attn_shape;

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
	 * s->n_kv_heads, s->head_dim, s->dtype and a capacity of s->n_kv tokens;
	 * the cache starts empty. */
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

	/* New entry points go here, each under a "--- ABI N" banner. */
} attn_backend;

/* Bytes of attn_backend as ABI version v defined it (0 for a version this
 * header does not know): the harness reads no further into a table. */
#define ATTN_BACKEND_SIZE_V1 offsetof(attn_backend, instance_info)
#define ATTN_BACKEND_SIZE_V2 sizeof(attn_backend)

#ifdef __cplusplus
}
#endif

#endif /* ATTNBENCH_H */
