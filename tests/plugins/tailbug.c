/* tailbug.c - a test backend with the bug of a vectorised kernel whose
 * remainder loop is off by one: when head_dim > 8 and head_dim % 8 != 0 the
 * query-key dot product drops its last element. Every other head_dim is
 * exact, so it passes goldens whose head sizes are multiples of 8 (or at
 * most 8) and must fail `check --random` and goldens with head_dim tails.
 *
 * f32 only, with causal masking, GQA and a KV cache (prefill and decode go
 * through the same kernel); one pass with an online softmax per query row.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <attnbench.h>

typedef struct tailbug {
	float *k, *v;     /* [batch][n_kv_heads][cap][head_dim] */
	attn_shape cache; /* batch, n_kv_heads, head_dim of the cache */
	int64_t cap, len;
	char err[128];
} tailbug;

/* The dot product with the bug: the tail of a head size that is not a
 * multiple of 8 loses its last element. */
static float dot_tail(const float *a, const float *b, int64_t d)
{
	const int64_t n = d > 8 && d % 8 ? d - 1 : d;
	float s = 0.0f;
	for (int64_t t = 0; t < n; t++)
		s += a[t] * b[t];
	return s;
}

static void tb_attention(const attn_shape *s, const float *q, const float *k, const float *v, int64_t stride,
                         float *out)
{
	const int64_t H = s->n_heads, G = s->n_kv_heads, D = s->head_dim;
	for (int64_t bh = 0; bh < s->batch * H; bh++) {
		const int64_t b = bh / H, g = (bh % H) / (H / G);
		const float *K = k + (b * G + g) * stride * D, *V = v + (b * G + g) * stride * D;
		for (int64_t i = 0; i < s->n_q; i++) {
			const float *x = q + (bh * s->n_q + i) * D;
			float *o = out + (bh * s->n_q + i) * D, m = -INFINITY, l = 0.0f;
			const int64_t vis = s->causal ? s->n_kv - s->n_q + i + 1 : s->n_kv;
			memset(o, 0, (size_t)D * sizeof(float));
			for (int64_t j = 0; j < vis; j++) {
				const float sj = s->scale * dot_tail(x, K + j * D, D), mn = fmaxf(m, sj);
				const float c = expf(m - mn), p = expf(sj - mn);
				l = l * c + p;
				for (int64_t t = 0; t < D; t++)
					o[t] = o[t] * c + p * V[j * D + t];
				m = mn;
			}
			for (int64_t t = 0; t < D; t++)
				o[t] /= l;
		}
	}
}

static int tb_create(const attn_config *cfg, void **ctx, char *err, size_t err_len)
{
	(void)cfg;
	*ctx = calloc(1, sizeof(tailbug));
	if (!*ctx) {
		snprintf(err, err_len, "out of memory");
		return ATTN_E_NOMEM;
	}
	return ATTN_OK;
}

static void tb_destroy(void *ctx)
{
	tailbug *t = ctx;
	free(t->k);
	free(t->v);
	free(t);
}

static const char *tb_device(void *ctx)
{
	(void)ctx;
	return "cpu";
}

static const char *tb_last_error(void *ctx)
{
	return ((tailbug *)ctx)->err;
}

static int tb_supports(void *ctx, const attn_shape *s, char *why, size_t why_len)
{
	(void)ctx;
	if (s->dtype != ATTN_F32)
		snprintf(why, why_len, "f32 only");
	return s->dtype == ATTN_F32;
}

static uint64_t tb_workspace(void *ctx, const attn_shape *s)
{
	(void)ctx;
	(void)s;
	return 0;
}

static int tb_attend(void *ctx, const attn_shape *s, const void *q, const void *k, const void *v, float *out)
{
	(void)ctx;
	tb_attention(s, q, k, v, s->n_kv, out);
	return ATTN_OK;
}

static int tb_cache_alloc(void *ctx, const attn_shape *s)
{
	tailbug *t = ctx;
	const size_t n = (size_t)(s->batch * s->n_kv_heads * s->n_kv * s->head_dim);
	free(t->k);
	free(t->v);
	t->k = calloc(n ? n : 1, sizeof(float));
	t->v = calloc(n ? n : 1, sizeof(float));
	t->cache = *s;
	t->cap = s->n_kv;
	t->len = 0;
	if (t->k && t->v)
		return ATTN_OK;
	snprintf(t->err, sizeof t->err, "out of memory for the cache");
	return ATTN_E_NOMEM;
}

static int tb_cache_append(void *ctx, const void *k_new, const void *v_new, int64_t n)
{
	tailbug *t = ctx;
	if (!t->k || n < 0 || t->len + n > t->cap) {
		snprintf(t->err, sizeof t->err, "no cache, or %lld tokens do not fit", (long long)n);
		return ATTN_E_INVALID;
	}
	const int64_t D = t->cache.head_dim, rows = t->cache.batch * t->cache.n_kv_heads;
	for (int64_t r = 0; r < rows; r++) {
		const size_t at = (size_t)((r * t->cap + t->len) * D), from = (size_t)(r * n * D);
		memcpy(t->k + at, (const float *)k_new + from, (size_t)(n * D) * sizeof(float));
		memcpy(t->v + at, (const float *)v_new + from, (size_t)(n * D) * sizeof(float));
	}
	t->len += n;
	return ATTN_OK;
}

static int64_t tb_cache_len(void *ctx)
{
	return ((tailbug *)ctx)->len;
}

static int tb_cache_truncate(void *ctx, int64_t len)
{
	tailbug *t = ctx;
	if (len < 0 || len > t->len)
		return ATTN_E_INVALID;
	t->len = len;
	return ATTN_OK;
}

/* prefill and decode: append, then attend causally over the whole cache */
static int tb_extend(void *ctx, const attn_shape *s, const void *q, const void *k_new, const void *v_new, float *out)
{
	tailbug *t = ctx;
	if (s->n_kv != t->len + s->n_q) {
		snprintf(t->err, sizeof t->err, "n_kv is not the cache length plus n_q");
		return ATTN_E_INVALID;
	}
	const int rc = tb_cache_append(t, k_new, v_new, s->n_q);
	if (rc)
		return rc;
	attn_shape cs = *s;
	cs.causal = 1;
	tb_attention(&cs, q, t->k, t->v, t->cap, out);
	return ATTN_OK;
}

static uint64_t tb_cache_bytes(void *ctx)
{
	const tailbug *t = ctx;
	return t->k ? 8ull * (uint64_t)(t->cache.batch * t->cache.n_kv_heads * t->cap * t->cache.head_dim) : 0;
}

static const attn_backend tailbug_backend = {
    .abi_version = ATTN_ABI_VERSION,
    .name = "tailbug",
    .description = "test backend: drops the last element of q.k for head_dim > 8 with a tail mod 8",
    .caps = ATTN_CAP_CAUSAL | ATTN_CAP_GQA | ATTN_CAP_KV_CACHE,
    .create = tb_create,
    .destroy = tb_destroy,
    .device_name = tb_device,
    .last_error = tb_last_error,
    .supports = tb_supports,
    .workspace_bytes = tb_workspace,
    .attend = tb_attend,
    .cache_alloc = tb_cache_alloc,
    .cache_append = tb_cache_append,
    .cache_len = tb_cache_len,
    .cache_truncate = tb_cache_truncate,
    .prefill = tb_extend,
    .decode = tb_extend,
    .cache_bytes = tb_cache_bytes,
};

__attribute__((visibility("default"))) const attn_backend *const *attnbench_backends(uint32_t *count)
{
	static const attn_backend *const tables[] = {&tailbug_backend};
	*count = 1;
	return tables;
}
