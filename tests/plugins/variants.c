/* variants.c - a test backend that claims every ABI 3 capability: window,
 * softcap, ALiBi, sinks, head_dim_v, every kv storage type, ragged lengths
 * in attend and the cache paths, and attend_paged. Plain double loops over
 * rows widened with attn_quant.h, so that check's handling of the new
 * cases (inputs, NaN padding, the cache and paged paths) can be tested
 * before the built-in backends have them. The param mode= picks:
 *   exact         what the header says: must pass;
 *   read_padding  attend reads every key row, padding included, as if no
 *                 sequence were shorter than n_kv: must fail ragged cases;
 *   no_table      attend_paged reads pages in order, ignoring the block
 *                 table: must fail the paged path.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_quant.h"

enum { EXACT, READ_PADDING, NO_TABLE };

typedef struct vb {
	int mode;
	char err[128];
	/* the cache: [B][G][cap] rows of k (D) and v (DV) stored as kt */
	char *ck, *cv;
	int64_t *len, batch, G, cap, D, DV;
	attn_dtype kt;
} vb;

/* Where key or value row j of sequence b, KV head g sits. */
typedef struct rows {
	const char *k, *v;
	size_t krb, vrb;
	const attn_shape *s;
	const attn_paged_kv *paged; /* or NULL */
	int64_t stride;             /* rows per (b, g) when contiguous */
	int no_table;
} rows;

static const void *row_at(const rows *r, int is_v, int64_t b, int64_t g, int64_t j)
{
	const char *base = is_v ? r->v : r->k;
	const size_t rb = is_v ? r->vrb : r->krb;
	const int64_t G = r->s->n_kv_heads;
	if (!r->paged)
		return base + (size_t)((b * G + g) * r->stride + j) * rb;
	const attn_paged_kv *p = r->paged;
	const int64_t page =
	    r->no_table ? b * p->max_pages + j / p->page_size : p->block_table[b * p->max_pages + j / p->page_size];
	return base + (size_t)((page * G + g) * p->page_size + j % p->page_size) * rb;
}

/* Attention of every sequence's qn[b] queries over its kn[b] keys. */
static int compute(const attn_shape *s, const void *q, const rows *r, const int64_t *qn, const int64_t *kn, int causal,
                   float *out)
{
	const int64_t H = s->n_heads, G = s->n_kv_heads, D = s->head_dim, DV = attn_head_dim_v(s), NQ = s->n_q;
	const attn_dtype kt = attn_kv_dtype(s);
	int64_t maxk = 1;
	for (int64_t b = 0; b < s->batch; b++)
		maxk = kn[b] > maxk ? kn[b] : maxk;
	double *w = malloc((size_t)maxk * sizeof *w);
	float *x = malloc((size_t)D * sizeof *x), *kr = malloc((size_t)D * sizeof *kr),
	      *vr = malloc((size_t)DV * sizeof *vr);
	double *o = malloc((size_t)DV * sizeof *o);
	if (!w || !x || !kr || !vr || !o) {
		free(w), free(x), free(kr), free(vr), free(o);
		return ATTN_E_NOMEM;
	}
	const size_t qrb = attn_row_bytes(s->dtype, D);
	for (int64_t b = 0; b < s->batch; b++)
		for (int64_t h = 0; h < H; h++) {
			const int64_t g = h / (H / G);
			for (int64_t i = 0; i < qn[b]; i++) {
				const int64_t p = kn[b] - qn[b] + i;
				attn_dequantize_row(x, (const char *)q + (size_t)((b * H + h) * NQ + i) * qrb, D,
				                    s->dtype);
				double mx = -INFINITY;
				int any = 0;
				for (int64_t j = 0; j < kn[b]; j++) {
					if ((causal && j > p) || (s->window > 0 && p - j >= s->window))
						continue;
					attn_dequantize_row(kr, row_at(r, 0, b, g, j), D, kt);
					double dot = 0;
					for (int64_t t = 0; t < D; t++)
						dot += (double)x[t] * kr[t];
					double sc = s->scale * dot;
					if (s->softcap > 0)
						sc = s->softcap * tanh(sc / s->softcap);
					if (s->alibi)
						sc -= s->alibi[h] * (double)llabs(p - j);
					w[j] = sc;
					mx = any ? fmax(mx, sc) : sc;
					any = 1;
				}
				for (int64_t t = 0; t < DV; t++)
					o[t] = 0;
				if (any) {
					if (s->sinks)
						mx = fmax(mx, s->sinks[h]);
					double sum = s->sinks ? exp(s->sinks[h] - mx) : 0;
					for (int64_t j = 0; j < kn[b]; j++) {
						if ((causal && j > p) || (s->window > 0 && p - j >= s->window))
							continue;
						attn_dequantize_row(vr, row_at(r, 1, b, g, j), DV, kt);
						const double e = exp(w[j] - mx);
						sum += e;
						for (int64_t t = 0; t < DV; t++)
							o[t] += e * vr[t];
					}
					for (int64_t t = 0; t < DV; t++)
						o[t] /= sum;
				}
				for (int64_t t = 0; t < DV; t++)
					out[((b * H + h) * NQ + i) * DV + t] = (float)o[t];
			}
		}
	free(w), free(x), free(kr), free(vr), free(o);
	return ATTN_OK;
}

/* The per-sequence lengths of s (full ones when it has none). */
static int lengths(const attn_shape *s, int64_t **qn, int64_t **kn)
{
	*qn = malloc((size_t)s->batch * sizeof **qn);
	*kn = malloc((size_t)s->batch * sizeof **kn);
	if (!*qn || !*kn) {
		free(*qn), free(*kn);
		return ATTN_E_NOMEM;
	}
	for (int64_t b = 0; b < s->batch; b++) {
		(*qn)[b] = s->q_lens ? s->q_lens[b] : s->n_q;
		(*kn)[b] = s->kv_lens ? s->kv_lens[b] : s->n_kv;
	}
	return ATTN_OK;
}

static int vb_attend(void *ctx, const attn_shape *s, const void *q, const void *k, const void *v, float *out)
{
	const vb *c = ctx;
	const attn_dtype kt = attn_kv_dtype(s);
	const rows r = {k,       v, attn_row_bytes(kt, s->head_dim), attn_row_bytes(kt, attn_head_dim_v(s)), s, NULL,
	                s->n_kv, 0};
	int64_t *qn, *kn;
	if (lengths(s, &qn, &kn))
		return ATTN_E_NOMEM;
	for (int64_t b = 0; c->mode == READ_PADDING && b < s->batch; b++)
		kn[b] = s->n_kv;
	const int rc = compute(s, q, &r, qn, kn, s->causal, out);
	free(qn), free(kn);
	return rc;
}

static int vb_attend_paged(void *ctx, const attn_shape *s, const void *q, const attn_paged_kv *kv, float *out)
{
	const vb *c = ctx;
	const attn_dtype kt = attn_kv_dtype(s);
	const rows r = {kv->k_pages,
	                kv->v_pages,
	                attn_row_bytes(kt, s->head_dim),
	                attn_row_bytes(kt, attn_head_dim_v(s)),
	                s,
	                kv,
	                0,
	                c->mode == NO_TABLE};
	int64_t *qn, *kn;
	if (lengths(s, &qn, &kn))
		return ATTN_E_NOMEM;
	const int rc = compute(s, q, &r, qn, kn, s->causal, out);
	free(qn), free(kn);
	return rc;
}

/* ---- the cache ------------------------------------------------------------ */

static int vb_cache_alloc(void *ctx, const attn_shape *s)
{
	vb *c = ctx;
	free(c->ck), free(c->cv), free(c->len);
	c->batch = s->batch;
	c->G = s->n_kv_heads;
	c->cap = s->n_kv;
	c->D = s->head_dim;
	c->DV = attn_head_dim_v(s);
	c->kt = attn_kv_dtype(s);
	const size_t rows = (size_t)(c->batch * c->G * c->cap);
	c->ck = malloc(rows * attn_row_bytes(c->kt, c->D) + 1);
	c->cv = malloc(rows * attn_row_bytes(c->kt, c->DV) + 1);
	c->len = calloc((size_t)c->batch, sizeof *c->len);
	return c->ck && c->cv && c->len ? ATTN_OK : ATTN_E_NOMEM;
}

/* Append the first cnt(b) of the n rows of each (b, g) block of k_new and
 * v_new to sequence b. */
static int append(vb *c, const void *k_new, const void *v_new, int64_t n, const int64_t *cnt)
{
	const size_t krb = attn_row_bytes(c->kt, c->D), vrb = attn_row_bytes(c->kt, c->DV);
	for (int64_t b = 0; b < c->batch; b++) {
		const int64_t m = cnt ? cnt[b] : n;
		if (c->len[b] + m > c->cap) {
			snprintf(c->err, sizeof c->err, "cache full");
			return ATTN_E_INVALID;
		}
		for (int64_t g = 0; g < c->G; g++)
			for (int64_t j = 0; j < m; j++) {
				const size_t src = (size_t)((b * c->G + g) * n + j),
				             dst = (size_t)((b * c->G + g) * c->cap + c->len[b] + j);
				memcpy(c->ck + dst * krb, (const char *)k_new + src * krb, krb);
				memcpy(c->cv + dst * vrb, (const char *)v_new + src * vrb, vrb);
			}
		c->len[b] += m;
	}
	return ATTN_OK;
}

static int vb_cache_append(void *ctx, const void *k_new, const void *v_new, int64_t n)
{
	return append(ctx, k_new, v_new, n, NULL);
}

static int64_t vb_cache_len(void *ctx)
{
	const vb *c = ctx;
	int64_t m = 0;
	for (int64_t b = 0; c->len && b < c->batch; b++)
		m = c->len[b] > m ? c->len[b] : m;
	return m;
}

static int vb_cache_truncate(void *ctx, int64_t len)
{
	vb *c = ctx;
	for (int64_t b = 0; b < c->batch; b++)
		c->len[b] = c->len[b] < len ? c->len[b] : len;
	return ATTN_OK;
}

static int vb_prefill(void *ctx, const attn_shape *s, const void *q, const void *k_new, const void *v_new, float *out)
{
	vb *c = ctx;
	int rc = append(c, k_new, v_new, s->n_q, s->q_lens);
	if (rc)
		return rc;
	const rows r = {c->ck, c->cv, attn_row_bytes(c->kt, c->D), attn_row_bytes(c->kt, c->DV), s, NULL, c->cap, 0};
	int64_t *qn, *kn;
	if (lengths(s, &qn, &kn))
		return ATTN_E_NOMEM;
	for (int64_t b = 0; b < s->batch; b++)
		kn[b] = c->len[b];
	rc = compute(s, q, &r, qn, kn, 1, out);
	free(qn), free(kn);
	return rc;
}

static uint64_t vb_cache_bytes(void *ctx)
{
	const vb *c = ctx;
	return c->ck
	           ? (uint64_t)(c->batch * c->G * c->cap) * (attn_row_bytes(c->kt, c->D) + attn_row_bytes(c->kt, c->DV))
	           : 0;
}

/* ---- the rest of the table ------------------------------------------------ */

static int vb_create(const attn_config *cfg, void **ctx, char *err, size_t err_len)
{
	vb *c = calloc(1, sizeof *c);
	if (!c)
		return ATTN_E_NOMEM;
	const char *p = cfg->params ? cfg->params : "";
	if (!*p || !strcmp(p, "mode=exact"))
		c->mode = EXACT;
	else if (!strcmp(p, "mode=read_padding"))
		c->mode = READ_PADDING;
	else if (!strcmp(p, "mode=no_table"))
		c->mode = NO_TABLE;
	else {
		snprintf(err, err_len, "unknown params '%s' (mode=exact|read_padding|no_table)", p);
		free(c);
		return ATTN_E_INVALID;
	}
	*ctx = c;
	return ATTN_OK;
}

static void vb_destroy(void *ctx)
{
	vb *c = ctx;
	free(c->ck), free(c->cv), free(c->len);
	free(c);
}

static const char *vb_device(void *ctx)
{
	(void)ctx;
	return "cpu";
}

static const char *vb_last_error(void *ctx)
{
	return ((vb *)ctx)->err;
}

static int vb_supports(void *ctx, const attn_shape *s, char *why, size_t why_len)
{
	(void)ctx, (void)s, (void)why, (void)why_len;
	return 1;
}

static uint64_t vb_workspace(void *ctx, const attn_shape *s)
{
	(void)ctx;
	return (uint64_t)s->n_kv * sizeof(double);
}

static const attn_backend variants_backend = {
    .abi_version = ATTN_ABI_VERSION,
    .name = "variants",
    .description = "test backend: every ABI 3 variant, kv storage type, ragged and paged path",
    .caps = ATTN_CAP_CAUSAL | ATTN_CAP_GQA | ATTN_CAP_KV_CACHE | ATTN_CAP_F16 | ATTN_CAP_BF16 | ATTN_CAP_WINDOW |
            ATTN_CAP_SOFTCAP | ATTN_CAP_ALIBI | ATTN_CAP_SINKS | ATTN_CAP_HEAD_DIM_V | ATTN_CAP_KV_DTYPE |
            ATTN_CAP_Q8_0 | ATTN_CAP_Q4_0 | ATTN_CAP_FP8 | ATTN_CAP_RAGGED | ATTN_CAP_PAGED,
    .create = vb_create,
    .destroy = vb_destroy,
    .device_name = vb_device,
    .last_error = vb_last_error,
    .supports = vb_supports,
    .workspace_bytes = vb_workspace,
    .attend = vb_attend,
    .cache_alloc = vb_cache_alloc,
    .cache_append = vb_cache_append,
    .cache_len = vb_cache_len,
    .cache_truncate = vb_cache_truncate,
    .prefill = vb_prefill,
    .decode = vb_prefill,
    .cache_bytes = vb_cache_bytes,
    .attend_paged = vb_attend_paged,
};

__attribute__((visibility("default"))) const attn_backend *const *attnbench_backends(uint32_t *count)
{
	static const attn_backend *const tables[] = {&variants_backend};
	*count = 1;
	return tables;
}
