/* twopass.c - an example external backend for attnbench, built as a shared
 * library and loaded with `attnbench --backend-lib libattnbench_twopass.so`
 * (or from a directory in ATTNBENCH_BACKEND_PATH).
 *
 * Build it against an installed attnbench the way a third party would:
 *
 *   cc -O2 -fPIC -shared $(pkg-config --cflags attnbench) twopass.c -o libattnbench_twopass.so
 *
 * The algorithm is a two-pass softmax per query row, without a score matrix:
 *   pass 1: m = max_j s_j and l = sum_j exp(s_j - m), s_j = scale * q . k_j
 *   pass 2: out = sum_j exp(s_j - m) / l * v_j   (the scores are recomputed)
 * It computes QK^T twice to need only O(1) extra memory per row: a trade a
 * kernel author might want to measure against the one-pass online softmax.
 *
 * What a backend library must do:
 *   1. fill one attn_backend table per backend, abi_version = ATTN_ABI_VERSION;
 *   2. export `attnbench_backends` returning the tables and their count;
 *   3. never keep pointers to the caller's buffers after a call returns.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <attnbench.h>

/* One instance: its KV cache ([batch][n_kv_heads][cap][head_dim] floats) and
 * its last error. */
typedef struct twopass {
	float *k, *v;
	attn_shape cache; /* batch, n_kv_heads, head_dim of the cache */
	int64_t cap, len;
	char err[256];
} twopass;

/* The attention of shape s over K/V rows kv_stride tokens apart per head. */
static void attention(const attn_shape *s, const float *q, const float *k, const float *v, int64_t kv_stride,
                      float *out)
{
	const int64_t H = s->n_heads, G = s->n_kv_heads, D = s->head_dim, NQ = s->n_q;
	for (int64_t b = 0; b < s->batch; b++)
		for (int64_t h = 0; h < H; h++) {
			const int64_t g = h / (H / G);
			const float *K = k + (b * G + g) * kv_stride * D, *V = v + (b * G + g) * kv_stride * D;
			for (int64_t i = 0; i < NQ; i++) {
				const float *qi = q + ((b * H + h) * NQ + i) * D;
				float *o = out + ((b * H + h) * NQ + i) * D;
				const int64_t vis = s->causal ? s->n_kv - NQ + i + 1 : s->n_kv;
				float m = -INFINITY, l = 0.0f;
				for (int64_t j = 0; j < vis; j++) { /* pass 1: max, then sum */
					float dot = 0.0f;
					for (int64_t d = 0; d < D; d++)
						dot += qi[d] * K[j * D + d];
					const float sj = s->scale * dot, mn = fmaxf(m, sj);
					l = l * expf(m - mn) + expf(sj - mn);
					m = mn;
				}
				memset(o, 0, (size_t)D * sizeof(float));
				for (int64_t j = 0; j < vis; j++) { /* pass 2: weights times V */
					float dot = 0.0f;
					for (int64_t d = 0; d < D; d++)
						dot += qi[d] * K[j * D + d];
					const float p = expf(s->scale * dot - m) / l;
					for (int64_t d = 0; d < D; d++)
						o[d] += p * V[j * D + d];
				}
			}
		}
}

static int tp_create(const attn_config *cfg, void **ctx, char *err, size_t err_len)
{
	if (cfg && cfg->params && *cfg->params) {
		snprintf(err, err_len, "twopass takes no parameters (got '%s')", cfg->params);
		return ATTN_E_INVALID;
	}
	*ctx = calloc(1, sizeof(twopass));
	if (!*ctx) {
		snprintf(err, err_len, "out of memory");
		return ATTN_E_NOMEM;
	}
	return ATTN_OK;
}

static void tp_destroy(void *ctx)
{
	twopass *t = ctx;
	free(t->k);
	free(t->v);
	free(t);
}

static const char *tp_device(void *ctx)
{
	(void)ctx;
	return "cpu";
}

static const char *tp_last_error(void *ctx)
{
	return ((twopass *)ctx)->err;
}

static int tp_supports(void *ctx, const attn_shape *s, char *why, size_t why_len)
{
	(void)ctx;
	if (s->dtype != ATTN_F32) {
		snprintf(why, why_len, "f32 only");
		return 0;
	}
	return 1;
}

/* Two running values per row: nothing worth counting. */
static uint64_t tp_workspace(void *ctx, const attn_shape *s)
{
	(void)ctx;
	(void)s;
	return 0;
}

static int tp_attend(void *ctx, const attn_shape *s, const void *q, const void *k, const void *v, float *out)
{
	(void)ctx;
	attention(s, q, k, v, s->n_kv, out);
	return ATTN_OK;
}

static int tp_cache_alloc(void *ctx, const attn_shape *s)
{
	twopass *t = ctx;
	const size_t n = (size_t)(s->batch * s->n_kv_heads * s->n_kv * s->head_dim);
	free(t->k);
	free(t->v);
	t->k = malloc(n * sizeof(float));
	t->v = malloc(n * sizeof(float));
	t->cache = *s;
	t->cap = s->n_kv;
	t->len = 0;
	if (!t->k || !t->v) {
		snprintf(t->err, sizeof t->err, "out of memory for the cache");
		return ATTN_E_NOMEM;
	}
	return ATTN_OK;
}

static int tp_cache_append(void *ctx, const void *k_new, const void *v_new, int64_t n)
{
	twopass *t = ctx;
	if (!t->k || n < 0 || t->len + n > t->cap) {
		snprintf(t->err, sizeof t->err, "cache overflow or no cache");
		return ATTN_E_INVALID;
	}
	const size_t D = (size_t)t->cache.head_dim;
	for (int64_t r = 0; r < t->cache.batch * t->cache.n_kv_heads; r++) {
		memcpy(t->k + ((size_t)(r * t->cap + t->len)) * D, (const float *)k_new + (size_t)(r * n) * D,
		       (size_t)n * D * sizeof(float));
		memcpy(t->v + ((size_t)(r * t->cap + t->len)) * D, (const float *)v_new + (size_t)(r * n) * D,
		       (size_t)n * D * sizeof(float));
	}
	t->len += n;
	return ATTN_OK;
}

static int64_t tp_cache_len(void *ctx)
{
	return ((twopass *)ctx)->len;
}

static int tp_cache_truncate(void *ctx, int64_t len)
{
	twopass *t = ctx;
	if (len < 0 || len > t->len) {
		snprintf(t->err, sizeof t->err, "truncate beyond the cache");
		return ATTN_E_INVALID;
	}
	t->len = len;
	return ATTN_OK;
}

/* Prefill and decode: append the new tokens, then attend causally over all. */
static int tp_extend(void *ctx, const attn_shape *s, const void *q, const void *k_new, const void *v_new, float *out)
{
	twopass *t = ctx;
	if (s->n_kv != t->len + s->n_q) {
		snprintf(t->err, sizeof t->err, "n_kv does not match the cache length plus n_q");
		return ATTN_E_INVALID;
	}
	int rc = tp_cache_append(t, k_new, v_new, s->n_q);
	if (rc)
		return rc;
	attn_shape cs = *s;
	cs.causal = 1;
	attention(&cs, q, t->k, t->v, t->cap, out);
	return ATTN_OK;
}

static uint64_t tp_cache_bytes(void *ctx)
{
	twopass *t = ctx;
	return t->k ? 2ull * (uint64_t)(t->cache.batch * t->cache.n_kv_heads * t->cap * t->cache.head_dim) * 4 : 0;
}

static const attn_backend twopass_backend = {
    .abi_version = ATTN_ABI_VERSION,
    .name = "twopass",
    .description = "example external backend: two-pass softmax, scores recomputed",
    .caps = ATTN_CAP_CAUSAL | ATTN_CAP_GQA | ATTN_CAP_KV_CACHE,
    .create = tp_create,
    .destroy = tp_destroy,
    .device_name = tp_device,
    .last_error = tp_last_error,
    .supports = tp_supports,
    .workspace_bytes = tp_workspace,
    .attend = tp_attend,
    .cache_alloc = tp_cache_alloc,
    .cache_append = tp_cache_append,
    .cache_len = tp_cache_len,
    .cache_truncate = tp_cache_truncate,
    .prefill = tp_extend,
    .decode = tp_extend,
    .cache_bytes = tp_cache_bytes,
};

/* The one symbol attnbench looks for. */
__attribute__((visibility("default"))) const attn_backend *const *attnbench_backends(uint32_t *count)
{
	static const attn_backend *const tables[] = {&twopass_backend};
	*count = 1;
	return tables;
}
