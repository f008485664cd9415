/* liar.c - a test backend that forwards every call to the built-in naive
 * backend (linked into this library) and, on request, breaks exactly one
 * thing by changing what it hands naive:
 *
 *   --param liar:ignore=window      window set to 0
 *   --param liar:ignore=softcap     softcap set to 0
 *   --param liar:ignore=alibi       alibi set to NULL
 *   --param liar:ignore=sinks       sinks set to NULL
 *   --param liar:ignore=head_dim_v  v read as head_dim wide rows (the bytes
 *                                   of v, then zeros) and out written
 *                                   head_dim wide, cut to out's size
 *   --param liar:ignore=lens        q_lens and kv_lens dropped: the padding
 *                                   (NaN in the goldens) is read
 *   --param liar:ignore=q4_offset   every q4_0 nibble of k and v shifted by
 *                                   one (mod 16): a dequantizer with the
 *                                   wrong offset
 *
 * Without ignore it is naive under another name. It claims every capability
 * naive claims, so the goldens that use a feature reach it. The golden check
 * must fail exactly the cases that use the ignored feature
 * (tests/test_golden_variants.c). Other parameters go on to naive. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_quant.h"
#include "attnbench.h"
#include "impls/builtin.h"

enum lie { LIE_NONE, LIE_WINDOW, LIE_SOFTCAP, LIE_ALIBI, LIE_SINKS, LIE_HEAD_DIM_V, LIE_LENS, LIE_Q4_OFFSET };
static const char *const lie_names[] = {"", "window", "softcap", "alibi", "sinks", "head_dim_v", "lens", "q4_offset"};
#define N_LIES ((int)(sizeof lie_names / sizeof lie_names[0]))

typedef struct liar {
	const attn_backend *nb; /* naive's table */
	void *inner;            /* naive's instance */
	enum lie lie;
	attn_shape cache; /* the shape of the last cache_alloc */
	char err[256];
} liar;

/* ---- what naive is handed ------------------------------------------------ */

static attn_shape told(const liar *l, const attn_shape *s)
{
	attn_shape t = *s;
	switch (l->lie) {
	case LIE_WINDOW:
		t.window = 0;
		break;
	case LIE_SOFTCAP:
		t.softcap = 0.0f;
		break;
	case LIE_ALIBI:
		t.alibi = NULL;
		break;
	case LIE_SINKS:
		t.sinks = NULL;
		break;
	case LIE_HEAD_DIM_V:
		t.head_dim_v = 0;
		break;
	case LIE_LENS:
		t.q_lens = NULL;
		t.kv_lens = NULL;
		break;
	default:
		break;
	}
	return t;
}

/* A copy of rows rows of k or v as naive is handed them, or NULL for
 * src itself (nothing to change); *rc is ATTN_E_NOMEM on failure. v: 1 for
 * v (head_dim_v rows), 0 for k. */
static void *told_rows(const liar *l, const attn_shape *s, const void *src, int64_t rows, int v, int *rc)
{
	const attn_dtype t = attn_kv_dtype(s);
	const int64_t dv = attn_head_dim_v(s);
	*rc = ATTN_OK;
	if (!src)
		return NULL;
	if (l->lie == LIE_HEAD_DIM_V && v && dv != s->head_dim) {
		/* the rows naive reads: head_dim wide, over v's bytes then zeros */
		const size_t have = (size_t)rows * attn_row_bytes(t, dv),
		             need = (size_t)rows * attn_row_bytes(t, s->head_dim);
		unsigned char *p = calloc(need ? need : 1, 1);
		if (!p) {
			*rc = ATTN_E_NOMEM;
			return NULL;
		}
		memcpy(p, src, have < need ? have : need);
		return p;
	}
	if (l->lie == LIE_Q4_OFFSET && t == ATTN_Q4_0) {
		const int64_t width = v ? dv : s->head_dim;
		const size_t n = (size_t)rows * (size_t)(width / ATTN_QBLOCK);
		attn_block_q4_0 *b = malloc(n ? n * sizeof *b : 1);
		if (!b) {
			*rc = ATTN_E_NOMEM;
			return NULL;
		}
		memcpy(b, src, n * sizeof *b);
		for (size_t i = 0; i < n; i++)
			for (int j = 0; j < ATTN_QBLOCK / 2; j++) {
				const unsigned lo = (b[i].qs[j] + 1u) & 15u, hi = ((b[i].qs[j] >> 4) + 1u) & 15u;
				b[i].qs[j] = (uint8_t)(lo | hi << 4);
			}
		return b;
	}
	return NULL;
}

/* Where naive writes out: head_dim wide rows when v is read head_dim wide. */
static float *told_out(const liar *l, const attn_shape *s, float *out, int *rc)
{
	*rc = ATTN_OK;
	if (l->lie != LIE_HEAD_DIM_V || attn_head_dim_v(s) == s->head_dim)
		return out;
	const size_t n = (size_t)(s->batch * s->n_heads * s->n_q * s->head_dim);
	float *o = calloc(n ? n : 1, sizeof *o);
	if (!o)
		*rc = ATTN_E_NOMEM;
	return o;
}

/* Copy naive's out into the caller's (as much as fits) and free it. */
static void give_out(const attn_shape *s, float *out, float *o)
{
	if (o == out)
		return;
	const int64_t wide = s->head_dim, got = attn_head_dim_v(s);
	const int64_t n = s->batch * s->n_heads * s->n_q;
	/* the caller's buffer holds n rows of got floats: naive's rows, read on
	 * in order, as a backend that writes head_dim wide rows would leave it */
	memcpy(out, o, (size_t)(n * (got < wide ? got : wide)) * sizeof(float));
	free(o);
}

/* ---- the table -------------------------------------------------------------- */

static int liar_create(const attn_config *cfg, void **ctx, char *err, size_t err_len)
{
	liar *l = calloc(1, sizeof *l);
	char rest[512] = "";
	if (!l) {
		snprintf(err, err_len, "out of memory");
		return ATTN_E_NOMEM;
	}
	l->nb = attn_backend_naive();
	const char *p = cfg && cfg->params ? cfg->params : "";
	while (*p) {
		const size_t n = strcspn(p, ",");
		if (n > 7 && strncmp(p, "ignore=", 7) == 0) {
			int found = 0;
			for (int i = 1; i < N_LIES; i++)
				if (n - 7 == strlen(lie_names[i]) && strncmp(p + 7, lie_names[i], n - 7) == 0) {
					l->lie = (enum lie)i;
					found = 1;
				}
			if (!found) {
				snprintf(err, err_len,
				         "ignore: '%.*s' is not one of window, softcap, alibi, sinks, head_dim_v, "
				         "lens, q4_offset",
				         (int)(n - 7), p + 7);
				free(l);
				return ATTN_E_INVALID;
			}
		} else if (n && strlen(rest) + n + 2 < sizeof rest) {
			snprintf(rest + strlen(rest), sizeof rest - strlen(rest), "%s%.*s", rest[0] ? "," : "", (int)n,
			         p);
		}
		p += n + (p[n] == ',');
	}
	attn_config inner = cfg ? *cfg : (attn_config){0};
	inner.params = rest;
	const int rc = l->nb->create(&inner, &l->inner, err, err_len);
	if (rc) {
		free(l);
		return rc;
	}
	*ctx = l;
	return ATTN_OK;
}

static void liar_destroy(void *ctx)
{
	liar *l = ctx;
	l->nb->destroy(l->inner);
	free(l);
}

static const char *liar_device_name(void *ctx)
{
	const liar *l = ctx;
	return l->nb->device_name(l->inner);
}

static const char *liar_last_error(void *ctx)
{
	const liar *l = ctx;
	return l->err[0] ? l->err : l->nb->last_error(l->inner);
}

static int liar_supports(void *ctx, const attn_shape *s, char *why, size_t why_len)
{
	const liar *l = ctx;
	return l->nb->supports(l->inner, s, why, why_len);
}

static uint64_t liar_workspace(void *ctx, const attn_shape *s)
{
	const liar *l = ctx;
	const attn_shape t = told(l, s);
	return l->nb->workspace_bytes(l->inner, &t);
}

static int nomem(liar *l)
{
	snprintf(l->err, sizeof l->err, "liar: out of memory");
	return ATTN_E_NOMEM;
}

/* One call of naive with k, v (rows each) and out as naive is handed them:
 * op 0 attend, 1 prefill, 2 decode. */
static int liar_call(liar *l, int op, const attn_shape *s, const void *q, const void *k, const void *v, int64_t rows,
                     float *out)
{
	const attn_shape t = told(l, s);
	int rk, rv, ro;
	void *k2 = told_rows(l, s, k, rows, 0, &rk), *v2 = told_rows(l, s, v, rows, 1, &rv);
	float *o = told_out(l, s, out, &ro);
	int rc = rk || rv || ro ? nomem(l) : ATTN_OK;
	if (!rc) {
		const void *kk = k2 ? k2 : k, *vv = v2 ? v2 : v;
		l->err[0] = 0;
		rc = op == 0   ? l->nb->attend(l->inner, &t, q, kk, vv, o)
		     : op == 1 ? l->nb->prefill(l->inner, &t, q, kk, vv, o)
		               : l->nb->decode(l->inner, &t, q, kk, vv, o);
		give_out(s, out, o);
	} else if (o && o != out) {
		free(o);
	}
	free(k2);
	free(v2);
	return rc;
}

static int liar_attend(void *ctx, const attn_shape *s, const void *q, const void *k, const void *v, float *out)
{
	return liar_call(ctx, 0, s, q, k, v, s->batch * s->n_kv_heads * s->n_kv, out);
}

static int liar_prefill(void *ctx, const attn_shape *s, const void *q, const void *k_new, const void *v_new, float *out)
{
	return liar_call(ctx, 1, s, q, k_new, v_new, s->batch * s->n_kv_heads * s->n_q, out);
}

static int liar_decode(void *ctx, const attn_shape *s, const void *q, const void *k_new, const void *v_new, float *out)
{
	return liar_call(ctx, 2, s, q, k_new, v_new, s->batch * s->n_kv_heads * s->n_q, out);
}

static int liar_cache_alloc(void *ctx, const attn_shape *s)
{
	liar *l = ctx;
	l->cache = *s;
	const attn_shape t = told(l, s);
	l->err[0] = 0;
	return l->nb->cache_alloc(l->inner, &t);
}

static int liar_cache_append(void *ctx, const void *k_new, const void *v_new, int64_t n)
{
	liar *l = ctx;
	const attn_shape *s = &l->cache;
	const int64_t rows = s->batch * s->n_kv_heads * n;
	int rk, rv;
	void *k2 = told_rows(l, s, k_new, rows, 0, &rk), *v2 = told_rows(l, s, v_new, rows, 1, &rv);
	int rc = rk || rv ? nomem(l) : ATTN_OK;
	if (!rc) {
		l->err[0] = 0;
		rc = l->nb->cache_append(l->inner, k2 ? k2 : k_new, v2 ? v2 : v_new, n);
	}
	free(k2);
	free(v2);
	return rc;
}

static int64_t liar_cache_len(void *ctx)
{
	const liar *l = ctx;
	return l->nb->cache_len(l->inner);
}

static int liar_cache_truncate(void *ctx, int64_t len)
{
	const liar *l = ctx;
	return l->nb->cache_truncate(l->inner, len);
}

static uint64_t liar_cache_bytes(void *ctx)
{
	const liar *l = ctx;
	return l->nb->cache_bytes(l->inner);
}

static const char *liar_instance_info(void *ctx)
{
	const liar *l = ctx;
	return l->lie ? lie_names[l->lie] : "tells the truth";
}

static int liar_attend_paged(void *ctx, const attn_shape *s, const void *q, const attn_paged_kv *kv, float *out)
{
	liar *l = ctx;
	const attn_shape t = told(l, s);
	const int64_t rows = kv->n_pages * s->n_kv_heads * kv->page_size;
	int rk, rv, ro;
	void *k2 = told_rows(l, s, kv->k_pages, rows, 0, &rk), *v2 = told_rows(l, s, kv->v_pages, rows, 1, &rv);
	float *o = told_out(l, s, out, &ro);
	int rc = rk || rv || ro ? nomem(l) : ATTN_OK;
	if (!rc) {
		attn_paged_kv pk = *kv;
		if (k2)
			pk.k_pages = k2;
		if (v2)
			pk.v_pages = v2;
		l->err[0] = 0;
		rc = l->nb->attend_paged(l->inner, &t, q, &pk, o);
		give_out(s, out, o);
	} else if (o && o != out) {
		free(o);
	}
	free(k2);
	free(v2);
	return rc;
}

static attn_backend liar_backend = {
    .abi_version = ATTN_ABI_VERSION,
    .name = "liar",
    .description = "test backend: naive, with one variant ignored on request (ignore=...)",
    .create = liar_create,
    .destroy = liar_destroy,
    .device_name = liar_device_name,
    .last_error = liar_last_error,
    .supports = liar_supports,
    .workspace_bytes = liar_workspace,
    .attend = liar_attend,
    .cache_alloc = liar_cache_alloc,
    .cache_append = liar_cache_append,
    .cache_len = liar_cache_len,
    .cache_truncate = liar_cache_truncate,
    .prefill = liar_prefill,
    .decode = liar_decode,
    .cache_bytes = liar_cache_bytes,
    .instance_info = liar_instance_info,
};

__attribute__((visibility("default"))) const attn_backend *const *attnbench_backends(uint32_t *count)
{
	static const attn_backend *const tables[] = {&liar_backend};
	const attn_backend *nb = attn_backend_naive();
	/* every capability naive claims, and its paged path where it has one */
	liar_backend.caps = nb->caps;
	if (nb->attend_paged)
		liar_backend.attend_paged = liar_attend_paged;
	*count = 1;
	return tables;
}
