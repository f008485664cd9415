/* cpu_common.c - see cpu_common.h. */
#include "cpu_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "attn_quant.h"
#include "simd.h"

static int set_err(cpu_ctx *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int set_err(cpu_ctx *c, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
	return code;
}

/* Parse one "key=value" integer setting in [1, 4096]. */
static int parse_param(const char *key, const char *val, int *out, char *err, size_t err_len)
{
	char *end;
	long v = strtol(val, &end, 10);
	if (*val == 0 || *end != 0 || v < 1 || v > 4096) {
		snprintf(err, err_len, "parameter %s=%s: expected an integer in 1..4096", key, val);
		return ATTN_E_INVALID;
	}
	*out = (int)v;
	return ATTN_OK;
}

int cpu_create(const attn_config *cfg, cpu_kernel kernel, int knows_tiles, void **out, char *err, size_t err_len)
{
	cpu_ctx *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, err_len, "out of memory");
		return ATTN_E_NOMEM;
	}
	c->kernel = kernel;
	c->threads = cfg && cfg->threads > 0 ? cfg->threads : 1;
	c->tile_q = 32;
	c->tile_kv = 64;
	const char *p = cfg && cfg->params ? cfg->params : "";
	while (*p) {
		char item[128];
		size_t n = strcspn(p, ",");
		if (n >= sizeof item) {
			snprintf(err, err_len, "parameter list: item too long");
			free(c);
			return ATTN_E_INVALID;
		}
		memcpy(item, p, n);
		item[n] = 0;
		p += n + (p[n] == ',');
		if (!n)
			continue;
		char *eq = strchr(item, '=');
		int rc = ATTN_OK;
		if (eq)
			*eq = 0;
		if (eq && knows_tiles && strcmp(item, "tile_q") == 0)
			rc = parse_param(item, eq + 1, &c->tile_q, err, err_len);
		else if (eq && knows_tiles && strcmp(item, "tile_kv") == 0)
			rc = parse_param(item, eq + 1, &c->tile_kv, err, err_len);
		else {
			snprintf(err, err_len, "unknown parameter '%s'%s", item,
			         knows_tiles ? " (known: tile_q, tile_kv)" : " (this backend takes none)");
			rc = ATTN_E_INVALID;
		}
		if (rc) {
			free(c);
			return rc;
		}
	}
	if (knows_tiles)
		snprintf(c->info, sizeof c->info, "threads=%d tile_q=%d tile_kv=%d", c->threads, c->tile_q, c->tile_kv);
	else
		snprintf(c->info, sizeof c->info, "threads=%d", c->threads);
	*out = c;
	return ATTN_OK;
}

void cpu_destroy(void *ctx)
{
	cpu_ctx *c = ctx;
	if (!c)
		return;
	free(c->kv);
	free(c->ws);
	free(c);
}

const char *cpu_device_name(void *ctx)
{
	(void)ctx;
	return "cpu";
}

const char *cpu_last_error(void *ctx)
{
	return ((cpu_ctx *)ctx)->err;
}

const char *cpu_instance_info(void *ctx)
{
	return ((cpu_ctx *)ctx)->info;
}

int cpu_supports(const attn_shape *s, int64_t max_head_dim, char *why, size_t why_len)
{
	if (!attn_dtype_known(s->dtype)) {
		snprintf(why, why_len, "unknown storage dtype %d", (int)s->dtype);
		return 0;
	}
	if (s->head_dim < 1 || (max_head_dim > 0 && s->head_dim > max_head_dim)) {
		snprintf(why, why_len, "head_dim %lld outside 1..%lld", (long long)s->head_dim,
		         (long long)max_head_dim);
		return 0;
	}
	if (s->n_kv_heads < 1 || s->n_heads % s->n_kv_heads != 0) {
		snprintf(why, why_len, "n_heads must be a multiple of n_kv_heads");
		return 0;
	}
	if (s->causal && s->n_q > s->n_kv) {
		snprintf(why, why_len, "causal needs n_q <= n_kv");
		return 0;
	}
	return 1;
}

int cpu_workspace(cpu_ctx *c, size_t bytes)
{
	if (bytes <= c->ws_bytes)
		return ATTN_OK;
	free(c->ws);
	c->ws = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
	c->ws_bytes = c->ws ? bytes : 0;
	if (!c->ws)
		return set_err(c, ATTN_E_NOMEM, "out of memory for a %zu-byte workspace", bytes);
	return ATTN_OK;
}

cpu_kv cpu_kv_tensors(const attn_shape *s, const void *k, const void *v)
{
	const attn_dtype dt = attn_kv_dtype(s);
	cpu_kv kv = {.k = k, .v = v, .stride = s->n_kv, .n_kv_heads = s->n_kv_heads, .dt = dt};
	kv.k_row = kv.k_pitch = attn_row_bytes(dt, s->head_dim);
	kv.v_row = kv.v_pitch = attn_row_bytes(dt, attn_head_dim_v(s));
	return kv;
}

void cpu_kv_load_rows(float *dst, const cpu_kv *kv, int is_v, int64_t b, int64_t g, int64_t j0, int64_t n,
                      int64_t width)
{
	if (!kv->paged && attn_dtype_known(kv->dt)) { /* rows pitch apart: the vector path */
		const size_t pitch = is_v ? kv->v_pitch : kv->k_pitch, esz = attn_dtype_size(kv->dt);
		const char *src = is_v ? cpu_kv_v(kv, b, g, j0) : cpu_kv_k(kv, b, g, j0);
		if (pitch % esz == 0) {
			v8_widen_rows(dst, src, n, width, (int64_t)(pitch / esz), kv->dt);
			return;
		}
	}
	for (int64_t j = 0; j < n; j++)
		attn_dequantize_row(dst + j * width, is_v ? cpu_kv_v(kv, b, g, j0 + j) : cpu_kv_k(kv, b, g, j0 + j),
		                    width, kv->dt);
}

int cpu_attend(void *ctx, const attn_shape *s, const void *q, const void *k, const void *v, float *out)
{
	cpu_ctx *c = ctx;
	char why[128];
	if (!cpu_supports(s, 0, why, sizeof why))
		return set_err(c, ATTN_E_UNSUPPORTED, "%s", why);
	const cpu_kv kv = cpu_kv_tensors(s, k, v);
	return c->kernel(c, s, q, &kv, out);
}

/* A KV cache buffer. Large ones are 2 MiB-aligned and marked for huge pages:
 * decode streams the whole cache every step, and with 4 KiB pages every 8
 * rows of K (head_dim 128) cost a TLB miss that the prefetcher cannot hide. */
static void *cache_buffer(size_t bytes)
{
	const size_t huge = (size_t)2 << 20;
	if (bytes < huge)
		return aligned_alloc(64, (bytes + 63) & ~(size_t)63);
	bytes = (bytes + huge - 1) & ~(huge - 1);
	void *p = aligned_alloc(huge, bytes);
	if (p)
		madvise(p, bytes, MADV_HUGEPAGE);
	return p;
}

int cpu_cache_alloc(void *ctx, const attn_shape *s)
{
	cpu_ctx *c = ctx;
	size_t n = (size_t)s->batch * (size_t)s->n_kv_heads * (size_t)s->n_kv * (size_t)s->head_dim;
	free(c->kv);
	c->kv = NULL;
	c->cap = c->len = 0;
	if (!attn_dtype_known(s->dtype))
		return set_err(c, ATTN_E_UNSUPPORTED, "unknown storage dtype %d", (int)s->dtype);
	c->kv = cache_buffer(2 * n * attn_dtype_size(s->dtype));
	if (!c->kv)
		return set_err(c, ATTN_E_NOMEM, "out of memory for a KV cache of %lld tokens", (long long)s->n_kv);
	c->cache_shape = *s;
	c->cap = s->n_kv;
	return ATTN_OK;
}

int cpu_cache_append(void *ctx, const void *k_new, const void *v_new, int64_t n)
{
	cpu_ctx *c = ctx;
	if (!c->kv)
		return set_err(c, ATTN_E_INVALID, "cache_append before cache_alloc");
	if (n < 0 || c->len + n > c->cap)
		return set_err(c, ATTN_E_INVALID, "cache overflow: %lld + %lld tokens > capacity %lld",
		               (long long)c->len, (long long)n, (long long)c->cap);
	const attn_shape *s = &c->cache_shape;
	/* rows of row_bytes: the stored elements are copied as they are */
	const size_t row_bytes = (size_t)s->head_dim * attn_dtype_size(s->dtype);
	const size_t rows = (size_t)(s->batch * s->n_kv_heads);
	for (size_t r = 0; r < rows; r++)
		for (size_t t = 0; t < (size_t)n; t++) {
			char *dst = (char *)c->kv + (r * (size_t)c->cap + (size_t)c->len + t) * 2 * row_bytes;
			memcpy(dst, (const char *)k_new + (r * (size_t)n + t) * row_bytes, row_bytes);
			memcpy(dst + row_bytes, (const char *)v_new + (r * (size_t)n + t) * row_bytes, row_bytes);
		}
	c->len += n;
	return ATTN_OK;
}

int64_t cpu_cache_len(void *ctx)
{
	return ((cpu_ctx *)ctx)->len;
}

int cpu_cache_truncate(void *ctx, int64_t len)
{
	cpu_ctx *c = ctx;
	if (len < 0 || len > c->len)
		return set_err(c, ATTN_E_INVALID, "cache_truncate to %lld, but the cache holds %lld", (long long)len,
		               (long long)c->len);
	c->len = len;
	return ATTN_OK;
}

/* Prefill and decode are the same operation on the CPU: append, then attend
 * causally over the whole cache. */
int cpu_prefill(void *ctx, const attn_shape *s, const void *q, const void *k_new, const void *v_new, float *out)
{
	cpu_ctx *c = ctx;
	const attn_shape *cs = &c->cache_shape;
	if (!c->kv)
		return set_err(c, ATTN_E_INVALID, "prefill before cache_alloc");
	if (s->batch != cs->batch || s->n_kv_heads != cs->n_kv_heads || s->head_dim != cs->head_dim ||
	    s->dtype != cs->dtype)
		return set_err(c, ATTN_E_INVALID, "shape does not match the allocated cache");
	char why[128];
	if (!cpu_supports(s, 0, why, sizeof why))
		return set_err(c, ATTN_E_UNSUPPORTED, "%s", why);
	if (s->n_kv != c->len + s->n_q)
		return set_err(c, ATTN_E_INVALID, "n_kv %lld != cache length %lld + n_q %lld", (long long)s->n_kv,
		               (long long)c->len, (long long)s->n_q);
	int rc = cpu_cache_append(c, k_new, v_new, s->n_q);
	if (rc)
		return rc;
	attn_shape cs2 = *s;
	cs2.causal = 1;
	const size_t row = (size_t)s->head_dim * attn_dtype_size(s->dtype);
	const cpu_kv kv = {.k = c->kv,
	                   .v = (const char *)c->kv + row,
	                   .k_pitch = 2 * row,
	                   .v_pitch = 2 * row,
	                   .stride = c->cap,
	                   .n_kv_heads = s->n_kv_heads,
	                   .dt = s->dtype,
	                   .k_row = row,
	                   .v_row = row};
	rc = c->kernel(c, &cs2, q, &kv, out);
	if (rc)
		c->len -= s->n_q;
	return rc;
}

uint64_t cpu_cache_bytes(void *ctx)
{
	cpu_ctx *c = ctx;
	const attn_shape *s = &c->cache_shape;
	if (!c->kv)
		return 0;
	return 2ull * (uint64_t)(s->batch * s->n_kv_heads * c->cap * s->head_dim) * attn_dtype_size(s->dtype);
}
