/* fault.c - a test backend that misbehaves on purpose, one way at a time,
 * for the isolation tests of check and sweep.
 *
 * A plain f32 attention with a KV cache; the param mode= picks the fault:
 *   none        behaves
 *   past1       attend writes out[n], one past the end
 *   past64      attend writes out[n + 63]
 *   before      attend writes out[-1]
 *   unwritten   attend leaves one element of out unwritten
 *   write_q     attend writes to its input q
 *   read_k      attend reads one element past the end of k
 *   segv        attend writes through a NULL pointer
 *   segv_decode decode writes through a NULL pointer
 *   hang        attend never returns
 *   abort       attend calls abort()
 *   count       behaves, and says "fault: create" and "fault: destroy" on
 *               stderr: how many instances a run made
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attnbench.h"

static const char *const modes[] = {"none",   "past1", "past64",      "before", "unwritten", "write_q",
                                    "read_k", "segv",  "segv_decode", "hang",   "abort",     "count"};
enum { NONE, PAST1, PAST64, BEFORE, UNWRITTEN, WRITE_Q, READ_K, SEGV, SEGV_DECODE, HANG, ABORT, COUNT, NMODES };

typedef struct fault {
	int mode;
	float *k, *v; /* the cache: [B][G][cap][D] */
	int64_t cap, len, batch, groups, dim;
	char err[128];
} fault;

static volatile float sink;

static int f_create(const attn_config *cfg, void **ctx, char *err, size_t err_len)
{
	const char *p = cfg->params ? cfg->params : "";
	int mode = -1;
	for (int i = 0; i < NMODES; i++)
		if ((!*p && i == NONE) || (!strncmp(p, "mode=", 5) && !strcmp(p + 5, modes[i])))
			mode = i;
	if (mode < 0) {
		snprintf(err, err_len, "unknown params '%s' (mode=none|past1|...)", p);
		return ATTN_E_INVALID;
	}
	fault *c = calloc(1, sizeof *c);
	if (!c)
		return ATTN_E_NOMEM;
	c->mode = mode;
	*ctx = c;
	if (mode == COUNT)
		fprintf(stderr, "fault: create\n");
	return ATTN_OK;
}

static void f_destroy(void *ctx)
{
	fault *c = ctx;
	if (c->mode == COUNT)
		fprintf(stderr, "fault: destroy\n");
	free(c->k);
	free(c->v);
	free(c);
}

static const char *f_device(void *ctx)
{
	(void)ctx;
	return "cpu";
}

static const char *f_last_error(void *ctx)
{
	return ((fault *)ctx)->err;
}

static int f_supports(void *ctx, const attn_shape *s, char *why, size_t why_len)
{
	(void)ctx;
	if (s->dtype != ATTN_F32) {
		snprintf(why, why_len, "f32 only");
		return 0;
	}
	return 1;
}

static uint64_t f_workspace(void *ctx, const attn_shape *s)
{
	(void)ctx;
	return (uint64_t)s->n_kv * sizeof(float);
}

/* out = attention of q over n_kv keys stored kv_stride tokens apart per KV head. */
static int attn(const attn_shape *s, const float *q, const float *k, const float *v, int64_t kv_stride, float *out)
{
	const int64_t H = s->n_heads, G = s->n_kv_heads, D = s->head_dim, NQ = s->n_q, NKV = s->n_kv;
	float *p = malloc((size_t)(NKV ? NKV : 1) * sizeof(float));
	if (!p)
		return ATTN_E_NOMEM;
	for (int64_t b = 0; b < s->batch; b++)
		for (int64_t h = 0; h < H; h++) {
			const int64_t g = h / (H / G);
			const float *K = k + (b * G + g) * kv_stride * D, *V = v + (b * G + g) * kv_stride * D;
			for (int64_t i = 0; i < NQ; i++) {
				const float *x = q + ((b * H + h) * NQ + i) * D;
				float *o = out + ((b * H + h) * NQ + i) * D;
				const int64_t vis = s->causal ? NKV - NQ + i + 1 : NKV;
				float mx = -INFINITY, sum = 0;
				for (int64_t j = 0; j < vis; j++) {
					double dot = 0;
					for (int64_t t = 0; t < D; t++)
						dot += (double)x[t] * K[j * D + t];
					p[j] = s->scale * (float)dot;
					mx = fmaxf(mx, p[j]);
				}
				for (int64_t t = 0; t < D; t++)
					o[t] = 0;
				for (int64_t j = 0; j < vis; j++) {
					const float w = expf(p[j] - mx);
					sum += w;
					for (int64_t t = 0; t < D; t++)
						o[t] += w * V[j * D + t];
				}
				for (int64_t t = 0; t < D; t++)
					o[t] /= sum;
			}
		}
	free(p);
	return ATTN_OK;
}

static int f_attend(void *ctx, const attn_shape *s, const void *q, const void *k, const void *v, float *out)
{
	const fault *c = ctx;
	const int64_t n = s->batch * s->n_heads * s->n_q * s->head_dim;
	const int64_t nk = s->batch * s->n_kv_heads * s->n_kv * s->head_dim;
	if (c->mode == UNWRITTEN) {
		float *tmp = malloc((size_t)n * sizeof(float));
		if (!tmp)
			return ATTN_E_NOMEM;
		const int rc = attn(s, q, k, v, s->n_kv, tmp);
		memcpy(out, tmp, (size_t)(n - 1) * sizeof(float)); /* the last one stays as it was */
		free(tmp);
		return rc;
	}
	const int rc = attn(s, q, k, v, s->n_kv, out);
	switch (c->mode) {
	case PAST1:
		out[n] = 0;
		break;
	case PAST64:
		out[n + 63] = 0;
		break;
	case BEFORE:
		out[-1] = 0;
		break;
	case WRITE_Q:
		*(volatile float *)(uintptr_t)q = sink;
		break;
	case READ_K:
		sink = ((const volatile float *)k)[nk];
		break;
	case SEGV:
		*(volatile int *)(uintptr_t)sink = 1; /* sink is 0 or a small value: an address in the first page */
		break;
	case HANG:
		for (;;)
			sink = sink + 1;
	case ABORT:
		abort();
	default:
		break;
	}
	return rc;
}

static int f_cache_alloc(void *ctx, const attn_shape *s)
{
	fault *c = ctx;
	free(c->k);
	free(c->v);
	const size_t n = (size_t)(s->batch * s->n_kv_heads * s->n_kv * s->head_dim);
	c->k = calloc(n ? n : 1, sizeof(float));
	c->v = calloc(n ? n : 1, sizeof(float));
	c->cap = s->n_kv;
	c->len = 0;
	c->batch = s->batch;
	c->groups = s->n_kv_heads;
	c->dim = s->head_dim;
	return c->k && c->v ? ATTN_OK : ATTN_E_NOMEM;
}

static int f_cache_append(void *ctx, const void *k_new, const void *v_new, int64_t n)
{
	fault *c = ctx;
	if (c->len + n > c->cap) {
		snprintf(c->err, sizeof c->err, "cache full");
		return ATTN_E_INVALID;
	}
	const size_t row = (size_t)c->dim * sizeof(float);
	for (int64_t r = 0; r < c->batch * c->groups; r++) {
		memcpy((char *)c->k + ((size_t)(r * c->cap + c->len)) * row,
		       (const char *)k_new + (size_t)(r * n) * row, (size_t)n * row);
		memcpy((char *)c->v + ((size_t)(r * c->cap + c->len)) * row,
		       (const char *)v_new + (size_t)(r * n) * row, (size_t)n * row);
	}
	c->len += n;
	return ATTN_OK;
}

static int64_t f_cache_len(void *ctx)
{
	return ((fault *)ctx)->len;
}

static int f_cache_truncate(void *ctx, int64_t len)
{
	fault *c = ctx;
	if (len > c->len)
		return ATTN_E_INVALID;
	c->len = len;
	return ATTN_OK;
}

static int f_prefill(void *ctx, const attn_shape *s, const void *q, const void *k_new, const void *v_new, float *out)
{
	fault *c = ctx;
	const int rc = f_cache_append(ctx, k_new, v_new, s->n_q);
	if (rc)
		return rc;
	attn_shape cs = *s;
	cs.n_kv = c->len;
	cs.causal = 1;
	return attn(&cs, q, c->k, c->v, c->cap, out);
}

static int f_decode(void *ctx, const attn_shape *s, const void *q, const void *k_new, const void *v_new, float *out)
{
	if (((fault *)ctx)->mode == SEGV_DECODE)
		*(volatile int *)(uintptr_t)sink = 1;
	return f_prefill(ctx, s, q, k_new, v_new, out);
}

static uint64_t f_cache_bytes(void *ctx)
{
	const fault *c = ctx;
	return 2ull * (uint64_t)(c->batch * c->groups * c->cap * c->dim) * sizeof(float);
}

static const attn_backend fault_backend = {
    .abi_version = ATTN_ABI_VERSION,
    .name = "fault",
    .description = "misbehaves on purpose (tests)",
    .caps = ATTN_CAP_CAUSAL | ATTN_CAP_GQA | ATTN_CAP_KV_CACHE,
    .create = f_create,
    .destroy = f_destroy,
    .device_name = f_device,
    .last_error = f_last_error,
    .supports = f_supports,
    .workspace_bytes = f_workspace,
    .attend = f_attend,
    .cache_alloc = f_cache_alloc,
    .cache_append = f_cache_append,
    .cache_len = f_cache_len,
    .cache_truncate = f_cache_truncate,
    .prefill = f_prefill,
    .decode = f_decode,
    .cache_bytes = f_cache_bytes,
};

const attn_backend *const *attnbench_backends(uint32_t *count);
const attn_backend *const *attnbench_backends(uint32_t *count)
{
	static const attn_backend *const list[] = {&fault_backend};
	*count = 1;
	return list;
}
