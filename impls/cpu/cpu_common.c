/* cpu_common.c - see cpu_common.h. */
#include "cpu_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "attn_quant.h"
#include "dequant.h"

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

static void cache_free(cpu_ctx *c);

void cpu_destroy(void *ctx)
{
	cpu_ctx *c = ctx;
	if (!c)
		return;
	cache_free(c);
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

/* The capability a storage type of k and v needs beside q's dtype t. */
static uint32_t kv_cap(attn_dtype kt, attn_dtype t)
{
	switch (kt) {
	case ATTN_Q8_0:
		return ATTN_CAP_Q8_0;
	case ATTN_Q4_0:
		return ATTN_CAP_Q4_0;
	case ATTN_FP8_E4M3:
		return ATTN_CAP_FP8;
	default:
		return kt == t ? 0 : ATTN_CAP_KV_DTYPE;
	}
}

int cpu_supports_caps(const attn_shape *s, uint32_t caps, int64_t max_head_dim, char *why, size_t why_len)
{
	const attn_dtype kt = attn_kv_dtype(s);
	const int64_t dv = attn_head_dim_v(s);
	if (!attn_dtype_known(s->dtype)) {
		snprintf(why, why_len, "unknown storage dtype %d", (int)s->dtype);
		return 0;
	}
	if (s->kv_storage < 0 || !attn_kv_dtype_known(kt)) {
		snprintf(why, why_len, "unknown KV storage %d", (int)s->kv_storage);
		return 0;
	}
	if (kv_cap(kt, s->dtype) & ~caps) {
		snprintf(why, why_len, "k and v stored as %s with q as %s", attn_kv_dtype_name(kt),
		         attn_kv_dtype_name(s->dtype));
		return 0;
	}
	if (s->head_dim < 1 || (max_head_dim > 0 && s->head_dim > max_head_dim)) {
		snprintf(why, why_len, "head_dim %lld outside 1..%lld", (long long)s->head_dim,
		         (long long)max_head_dim);
		return 0;
	}
	if (s->head_dim_v < 0 || (dv != s->head_dim && !(caps & ATTN_CAP_HEAD_DIM_V)) ||
	    (max_head_dim > 0 && dv > max_head_dim)) {
		snprintf(why, why_len, "head_dim_v %lld with head_dim %lld", (long long)s->head_dim_v,
		         (long long)s->head_dim);
		return 0;
	}
	if (attn_dtype_blocked(kt) && (s->head_dim % ATTN_QBLOCK || dv % ATTN_QBLOCK)) {
		snprintf(why, why_len, "%s storage needs head_dim and head_dim_v multiples of %d",
		         attn_kv_dtype_name(kt), ATTN_QBLOCK);
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
	const struct {
		int used;
		uint32_t cap;
		const char *name;
	} variants[] = {
	    {s->window != 0, ATTN_CAP_WINDOW, "a sliding window"},
	    {s->softcap != 0.0f, ATTN_CAP_SOFTCAP, "a logit softcap"},
	    {s->alibi != NULL, ATTN_CAP_ALIBI, "ALiBi"},
	    {s->sinks != NULL, ATTN_CAP_SINKS, "attention sinks"},
	    {s->q_lens || s->kv_lens, ATTN_CAP_RAGGED, "ragged lengths"},
	};
	for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++)
		if (variants[i].used && !(caps & variants[i].cap)) {
			snprintf(why, why_len, "%s is not implemented", variants[i].name);
			return 0;
		}
	if (s->window < 0 || !(s->softcap >= 0.0f) || isinf(s->softcap)) {
		snprintf(why, why_len, "window %lld and softcap %g must be >= 0 and finite", (long long)s->window,
		         (double)s->softcap);
		return 0;
	}
	return 1;
}

int cpu_supports(const attn_shape *s, int64_t max_head_dim, char *why, size_t why_len)
{
	return cpu_supports_caps(s, CPU_BASE_CAPS, max_head_dim, why, why_len);
}

/* The shape checks every entry point makes before its kernel runs: what
 * the backend supports, and each ragged length in range. */
static int check_shape(cpu_ctx *c, const attn_shape *s)
{
	char why[160];
	if (!cpu_supports_caps(s, c->caps ? c->caps : CPU_BASE_CAPS, 0, why, sizeof why))
		return set_err(c, ATTN_E_UNSUPPORTED, "%s", why);
	for (int64_t b = 0; b < s->batch; b++) {
		int64_t nq, nkv;
		cpu_seq_lens(s, b, &nq, &nkv);
		if (nq < 0 || nq > s->n_q || nkv < 0 || nkv > s->n_kv || (s->causal && nq > nkv))
			return set_err(c, ATTN_E_INVALID,
			               "sequence %lld: q_lens %lld, kv_lens %lld outside n_q %lld, n_kv %lld%s",
			               (long long)b, (long long)nq, (long long)nkv, (long long)s->n_q,
			               (long long)s->n_kv, s->causal ? " (causal: q_lens <= kv_lens)" : "");
	}
	return ATTN_OK;
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
	dq_rows(dst, kv, is_v, b, g, j0, n, width);
}

int cpu_attend(void *ctx, const attn_shape *s, const void *q, const void *k, const void *v, float *out)
{
	cpu_ctx *c = ctx;
	const int rc = check_shape(c, s);
	if (rc)
		return rc;
	const cpu_kv kv = cpu_kv_tensors(s, k, v);
	return c->kernel(c, s, q, &kv, out);
}

int cpu_attend_paged(void *ctx, const attn_shape *s, const void *q, const attn_paged_kv *p, float *out)
{
	cpu_ctx *c = ctx;
	int rc = check_shape(c, s);
	if (rc)
		return rc;
	if (!p || !p->k_pages || !p->v_pages || !p->block_table || p->n_pages < 1 || p->page_size < 1 ||
	    p->max_pages < 1)
		return set_err(c, ATTN_E_INVALID,
		               "attend_paged: pools, block_table, n_pages, page_size and "
		               "max_pages must be set");
	for (int64_t b = 0; b < s->batch; b++) {
		int64_t nq, nkv;
		cpu_seq_lens(s, b, &nq, &nkv);
		const int64_t pages = (nkv + p->page_size - 1) / p->page_size;
		if (pages > p->max_pages)
			return set_err(c, ATTN_E_INVALID,
			               "attend_paged: sequence %lld has %lld tokens, more than max_pages %lld x "
			               "page_size %lld",
			               (long long)b, (long long)nkv, (long long)p->max_pages, (long long)p->page_size);
		for (int64_t i = 0; i < pages; i++) {
			const int32_t page = p->block_table[b * p->max_pages + i];
			if (page < 0 || page >= p->n_pages)
				return set_err(c, ATTN_E_INVALID,
				               "attend_paged: block_table[%lld][%lld] = %d outside 0..%lld",
				               (long long)b, (long long)i, (int)page, (long long)p->n_pages - 1);
		}
	}
	cpu_kv kv = cpu_kv_tensors(s, p->k_pages, p->v_pages);
	kv.paged = p;
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

/* The cache's view: a token's K and V rows side by side. */
static cpu_kv cache_view(const cpu_ctx *c)
{
	cpu_kv kv = cpu_kv_tensors(&c->cache_shape, c->kv, c->kv);
	kv.v = (const char *)c->kv + kv.k_row;
	kv.k_pitch = kv.v_pitch = kv.k_row + kv.v_row;
	kv.stride = c->cap;
	return kv;
}

static void cache_free(cpu_ctx *c)
{
	free(c->kv);
	free(c->lens);
	c->kv = NULL;
	c->lens = NULL;
	c->cap = c->len = 0;
}

int cpu_cache_alloc(void *ctx, const attn_shape *s)
{
	cpu_ctx *c = ctx;
	cache_free(c);
	char why[160];
	if (!cpu_supports_caps(s, c->caps ? c->caps : CPU_BASE_CAPS, 0, why, sizeof why))
		return set_err(c, ATTN_E_UNSUPPORTED, "%s", why);
	if (s->batch < 1 || s->n_kv < 0)
		return set_err(c, ATTN_E_INVALID, "cache_alloc: batch %lld, n_kv %lld", (long long)s->batch,
		               (long long)s->n_kv);
	const attn_dtype kt = attn_kv_dtype(s);
	const size_t tok = attn_row_bytes(kt, s->head_dim) + attn_row_bytes(kt, attn_head_dim_v(s));
	c->kv = cache_buffer((size_t)s->batch * (size_t)s->n_kv_heads * (size_t)s->n_kv * tok);
	c->lens = calloc((size_t)s->batch, sizeof *c->lens);
	if (!c->kv || !c->lens) {
		cache_free(c);
		return set_err(c, ATTN_E_NOMEM, "out of memory for a KV cache of %lld tokens", (long long)s->n_kv);
	}
	c->cache_shape = *s;
	/* the pointers of s are the caller's: the cache keeps none of them */
	c->cache_shape.alibi = c->cache_shape.sinks = NULL;
	c->cache_shape.q_lens = c->cache_shape.kv_lens = NULL;
	c->cap = s->n_kv;
	return ATTN_OK;
}

/* Copy rows [0, n) of each KV head of sequence b's block of k_new and v_new
 * (rows_per_seq rows each) to the cache at the sequence's length. */
static void cache_store(cpu_ctx *c, const void *k_new, const void *v_new, int64_t b, int64_t n, int64_t rows_per_seq)
{
	const cpu_kv kv = cache_view(c);
	const int64_t G = c->cache_shape.n_kv_heads;
	for (int64_t g = 0; g < G; g++)
		for (int64_t t = 0; t < n; t++) {
			const size_t src = (size_t)((b * G + g) * rows_per_seq + t);
			memcpy((void *)cpu_kv_k(&kv, b, g, c->lens[b] + t), (const char *)k_new + src * kv.k_row,
			       kv.k_row);
			memcpy((void *)cpu_kv_v(&kv, b, g, c->lens[b] + t), (const char *)v_new + src * kv.v_row,
			       kv.v_row);
		}
	c->lens[b] += n;
	if (c->lens[b] > c->len)
		c->len = c->lens[b];
}

int cpu_cache_append(void *ctx, const void *k_new, const void *v_new, int64_t n)
{
	cpu_ctx *c = ctx;
	if (!c->kv)
		return set_err(c, ATTN_E_INVALID, "cache_append before cache_alloc");
	if (n < 0 || c->len + n > c->cap)
		return set_err(c, ATTN_E_INVALID, "cache overflow: %lld + %lld tokens > capacity %lld",
		               (long long)c->len, (long long)n, (long long)c->cap);
	for (int64_t b = 0; b < c->cache_shape.batch; b++)
		cache_store(c, k_new, v_new, b, n, n);
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
	for (int64_t b = 0; b < c->cache_shape.batch; b++)
		if (c->lens[b] > len)
			c->lens[b] = len;
	c->len = len;
	return ATTN_OK;
}

/* Prefill and decode are the same operation on the CPU: append, then attend
 * causally over the whole cache. Sequence b appends its q_lens[b] new rows
 * (all n_q when not ragged) and must hold kv_lens[b] - q_lens[b] (n_kv -
 * n_q) tokens before. */
int cpu_prefill(void *ctx, const attn_shape *s, const void *q, const void *k_new, const void *v_new, float *out)
{
	cpu_ctx *c = ctx;
	const attn_shape *cs = &c->cache_shape;
	if (!c->kv)
		return set_err(c, ATTN_E_INVALID, "prefill before cache_alloc");
	if (s->batch != cs->batch || s->n_kv_heads != cs->n_kv_heads || s->head_dim != cs->head_dim ||
	    attn_head_dim_v(s) != attn_head_dim_v(cs) || s->dtype != cs->dtype || attn_kv_dtype(s) != attn_kv_dtype(cs))
		return set_err(c, ATTN_E_INVALID, "shape does not match the allocated cache");
	attn_shape cs2 = *s;
	cs2.causal = 1;
	int rc = check_shape(c, &cs2);
	if (rc)
		return rc;
	if (s->n_kv > c->cap)
		return set_err(c, ATTN_E_INVALID, "n_kv %lld > cache capacity %lld", (long long)s->n_kv,
		               (long long)c->cap);
	for (int64_t b = 0; b < s->batch; b++) {
		int64_t nq, nkv;
		cpu_seq_lens(s, b, &nq, &nkv);
		if (nkv != c->lens[b] + nq)
			return set_err(c, ATTN_E_INVALID, "sequence %lld: n_kv %lld != cache length %lld + n_q %lld",
			               (long long)b, (long long)nkv, (long long)c->lens[b], (long long)nq);
	}
	const int64_t len0 = c->len;
	for (int64_t b = 0; b < s->batch; b++) {
		int64_t nq, nkv;
		cpu_seq_lens(s, b, &nq, &nkv);
		cache_store(c, k_new, v_new, b, nq, s->n_q);
	}
	const cpu_kv kv = cache_view(c);
	rc = c->kernel(c, &cs2, q, &kv, out);
	if (rc) { /* undo the append */
		for (int64_t b = 0; b < s->batch; b++) {
			int64_t nq, nkv;
			cpu_seq_lens(s, b, &nq, &nkv);
			c->lens[b] -= nq;
		}
		c->len = len0;
	}
	return rc;
}

uint64_t cpu_cache_bytes(void *ctx)
{
	cpu_ctx *c = ctx;
	const attn_shape *s = &c->cache_shape;
	if (!c->kv)
		return 0;
	const attn_dtype kt = attn_kv_dtype(s);
	const uint64_t tok = attn_row_bytes(kt, s->head_dim) + attn_row_bytes(kt, attn_head_dim_v(s));
	return (uint64_t)(s->batch * s->n_kv_heads * c->cap) * tok;
}

unsigned cpu_isas(void)
{
	unsigned has = 0;
#ifdef CPU_X86_ISAS
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && V8_CPU_HAS_F16C())
		has |= CPU_HAS_AVX2;
	if ((has & CPU_HAS_AVX2) && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
	    __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq"))
		has |= CPU_HAS_AVX512;
#endif
	return has;
}
