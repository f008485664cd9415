/* lowprec.c - a test backend for the f16/bf16 tolerance rule of `check`.
 *
 * Stateless attend only, f16 and bf16 storage only. The param mode= picks
 * how it computes:
 *   exact     widen the stored values, accumulate in double: must pass;
 *   p_bf16    round every softmax weight to bf16 before it multiplies V, the
 *             shortcut of a kernel that keeps P in 16 bits: must fail the
 *             cases whose reference error is small;
 *   as_f16    decode bf16 storage as if it were f16: must fail badly.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_half.h"

typedef struct lp {
	int mode; /* 0 exact, 1 p_bf16, 2 as_f16 */
	char err[128];
} lp;

static int lp_create(const attn_config *cfg, void **ctx, char *err, size_t err_len)
{
	lp *c = calloc(1, sizeof *c);
	if (!c)
		return ATTN_E_NOMEM;
	const char *p = cfg->params ? cfg->params : "";
	if (!*p || !strcmp(p, "mode=exact"))
		c->mode = 0;
	else if (!strcmp(p, "mode=p_bf16"))
		c->mode = 1;
	else if (!strcmp(p, "mode=as_f16"))
		c->mode = 2;
	else {
		snprintf(err, err_len, "unknown params '%s' (mode=exact|p_bf16|as_f16)", p);
		free(c);
		return ATTN_E_INVALID;
	}
	*ctx = c;
	return ATTN_OK;
}

static void lp_destroy(void *ctx)
{
	free(ctx);
}

static const char *lp_device(void *ctx)
{
	(void)ctx;
	return "cpu";
}

static const char *lp_last_error(void *ctx)
{
	return ((lp *)ctx)->err;
}

static int lp_supports(void *ctx, const attn_shape *s, char *why, size_t why_len)
{
	(void)ctx;
	if (s->dtype == ATTN_F32) {
		snprintf(why, why_len, "f16 and bf16 only");
		return 0;
	}
	return 1;
}

static uint64_t lp_workspace(void *ctx, const attn_shape *s)
{
	(void)ctx;
	return (uint64_t)s->n_kv * sizeof(double);
}

static int lp_attend(void *ctx, const attn_shape *s, const void *q, const void *k, const void *v, float *out)
{
	const lp *c = ctx;
	const attn_dtype t = c->mode == 2 ? ATTN_F16 : s->dtype;
	const int64_t H = s->n_heads, G = s->n_kv_heads, D = s->head_dim, NQ = s->n_q, NKV = s->n_kv;
	double *w = malloc((size_t)NKV * sizeof *w);
	if (!w)
		return ATTN_E_NOMEM;
	for (int64_t b = 0; b < s->batch; b++)
		for (int64_t h = 0; h < H; h++) {
			const size_t kb = (size_t)((b * G + h / (H / G)) * NKV * D);
			for (int64_t i = 0; i < NQ; i++) {
				const size_t qb = (size_t)(((b * H + h) * NQ + i) * D);
				const int64_t vis = s->causal ? NKV - NQ + i + 1 : NKV;
				double mx = -INFINITY, sum = 0;
				for (int64_t j = 0; j < vis; j++) {
					double dot = 0;
					for (int64_t d = 0; d < D; d++)
						dot += (double)attn_load(q, qb + (size_t)d, t) *
						       attn_load(k, kb + (size_t)(j * D + d), t);
					w[j] = s->scale * dot;
					mx = fmax(mx, w[j]);
				}
				for (int64_t j = 0; j < vis; j++) {
					w[j] = exp(w[j] - mx);
					sum += w[j];
				}
				for (int64_t d = 0; d < D; d++) {
					double o = 0;
					for (int64_t j = 0; j < vis; j++) {
						double p = w[j] / sum;
						if (c->mode == 1)
							p = attn_bf16_to_f32(attn_f32_to_bf16((float)p));
						o += p * attn_load(v, kb + (size_t)(j * D + d), t);
					}
					out[qb + (size_t)d] = (float)o;
				}
			}
		}
	free(w);
	return ATTN_OK;
}

static const attn_backend lowprec_backend = {
    .abi_version = ATTN_ABI_VERSION,
    .name = "lowprec",
    .description = "test backend: f16/bf16 attend with selectable precision faults",
    .caps = ATTN_CAP_CAUSAL | ATTN_CAP_GQA | ATTN_CAP_F16 | ATTN_CAP_BF16,
    .create = lp_create,
    .destroy = lp_destroy,
    .device_name = lp_device,
    .last_error = lp_last_error,
    .supports = lp_supports,
    .workspace_bytes = lp_workspace,
    .attend = lp_attend,
};

__attribute__((visibility("default"))) const attn_backend *const *attnbench_backends(uint32_t *count)
{
	static const attn_backend *const tables[] = {&lowprec_backend};
	*count = 1;
	return tables;
}
