/* pagecheck.c - a test backend that claims every ABI 3 variant, storage
 * type, ragged batches and attend_paged, and checks what a caller hands it
 * instead of computing attention: every key row it is given is read (so a
 * row past a buffer faults in a guarded sweep), a block table entry out of
 * the pool or a page that two sequences share is an error, and so are
 * lengths outside the shape, ALiBi slopes or sinks that are not finite.
 * Each query row within its sequence's length gets the sum of the bytes it
 * read; rows past it are left alone. No KV cache: prefill and decode run
 * only paged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <attn_quant.h>
#include <attnbench.h>

typedef struct pc {
	char err[160];
} pc;

static int pc_create(const attn_config *cfg, void **ctx, char *err, size_t len)
{
	(void)cfg;
	(void)err;
	(void)len;
	*ctx = calloc(1, sizeof(pc));
	return *ctx ? ATTN_OK : ATTN_E_NOMEM;
}

static void pc_destroy(void *ctx)
{
	free(ctx);
}

static const char *pc_device(void *ctx)
{
	(void)ctx;
	return "cpu";
}

static const char *pc_last_error(void *ctx)
{
	return ((pc *)ctx)->err;
}

static int pc_supports(void *ctx, const attn_shape *s, char *why, size_t len)
{
	(void)ctx;
	if (s->dtype != ATTN_F32) {
		snprintf(why, len, "f32 queries only");
		return 0;
	}
	return 1;
}

static uint64_t pc_workspace(void *ctx, const attn_shape *s)
{
	(void)ctx;
	(void)s;
	return 0;
}

static int fail(pc *c, const char *what)
{
	snprintf(c->err, sizeof c->err, "%s", what);
	return ATTN_E_INVALID;
}

/* The checks every call shares; the lengths of sequence b into *nq, *nkv. */
static int check_shape(pc *c, const attn_shape *s)
{
	for (int64_t h = 0; h < s->n_heads; h++)
		if ((s->alibi && !(s->alibi[h] > 0 && s->alibi[h] <= 1)) ||
		    (s->sinks && !(s->sinks[h] > -100 && s->sinks[h] < 100)))
			return fail(c, "ALiBi slope or sink logit out of range");
	for (int64_t b = 0; s->kv_lens && b < s->batch; b++) {
		const int64_t nq = s->q_lens ? s->q_lens[b] : s->n_q, nkv = s->kv_lens[b];
		if (nkv < 1 || nkv > s->n_kv || nq < 1 || nq > s->n_q || (s->causal && nq > nkv))
			return fail(c, "ragged lengths outside the shape");
	}
	return ATTN_OK;
}

static void write_rows(const attn_shape *s, float v, float *out)
{
	const int64_t dv = attn_head_dim_v(s);
	for (int64_t b = 0; b < s->batch; b++)
		for (int64_t h = 0; h < s->n_heads; h++)
			for (int64_t i = 0; i < (s->q_lens ? s->q_lens[b] : s->n_q); i++)
				for (int64_t t = 0; t < dv; t++)
					out[((b * s->n_heads + h) * s->n_q + i) * dv + t] = v;
}

static float sum_bytes(const unsigned char *p, size_t n)
{
	unsigned s = 0;
	for (size_t i = 0; i < n; i++)
		s += p[i];
	return (float)(s & 0xffff);
}

static int pc_attend(void *ctx, const attn_shape *s, const void *q, const void *k, const void *v, float *out)
{
	(void)q;
	pc *c = ctx;
	if (check_shape(c, s))
		return ATTN_E_INVALID;
	const attn_dtype t = attn_kv_dtype(s);
	const size_t kr = attn_row_bytes(t, s->head_dim), vr = attn_row_bytes(t, attn_head_dim_v(s));
	float sum = 0;
	for (int64_t b = 0; b < s->batch; b++)
		for (int64_t g = 0; g < s->n_kv_heads; g++)
			for (int64_t j = 0; j < (s->kv_lens ? s->kv_lens[b] : s->n_kv); j++) {
				const size_t row = (size_t)((b * s->n_kv_heads + g) * s->n_kv + j);
				sum += sum_bytes((const unsigned char *)k + row * kr, kr);
				sum += sum_bytes((const unsigned char *)v + row * vr, vr);
			}
	write_rows(s, sum, out);
	return ATTN_OK;
}

static int pc_attend_paged(void *ctx, const attn_shape *s, const void *q, const attn_paged_kv *kv, float *out)
{
	(void)q;
	pc *c = ctx;
	if (check_shape(c, s))
		return ATTN_E_INVALID;
	if (kv->page_size < 1 || kv->max_pages * kv->page_size < s->n_kv)
		return fail(c, "the pages cannot hold n_kv keys");
	unsigned char *owner = calloc((size_t)kv->n_pages, 1);
	int64_t *who = calloc((size_t)kv->n_pages, sizeof *who);
	if (!owner || !who) {
		free(owner);
		free(who);
		return ATTN_E_NOMEM;
	}
	const attn_dtype t = attn_kv_dtype(s);
	const size_t kr = attn_row_bytes(t, s->head_dim), vr = attn_row_bytes(t, attn_head_dim_v(s));
	const int64_t G = s->n_kv_heads, P = kv->page_size;
	float sum = 0;
	int rc = ATTN_OK;
	for (int64_t b = 0; b < s->batch && !rc; b++) {
		const int64_t nkv = s->kv_lens ? s->kv_lens[b] : s->n_kv;
		for (int64_t j = 0; j < nkv && !rc; j++) {
			const int32_t page = kv->block_table[b * kv->max_pages + j / P];
			if (page < 0 || page >= kv->n_pages) {
				rc = fail(c, "block table entry outside the pool");
				break;
			}
			if (owner[page] && who[page] != b) {
				rc = fail(c, "a page shared by two sequences");
				break;
			}
			owner[page] = 1;
			who[page] = b;
			for (int64_t g = 0; g < G; g++) {
				const size_t row = (size_t)((page * G + g) * P + j % P);
				sum += sum_bytes((const unsigned char *)kv->k_pages + row * kr, kr);
				sum += sum_bytes((const unsigned char *)kv->v_pages + row * vr, vr);
			}
		}
	}
	free(owner);
	free(who);
	if (!rc)
		write_rows(s, sum, out);
	return rc;
}

static const attn_backend pagecheck_backend = {
    .abi_version = ATTN_ABI_VERSION,
    .name = "pagecheck",
    .description = "test backend: claims every ABI 3 cap and checks the pages, lengths and vectors it is given",
    .caps = ATTN_CAP_CAUSAL | ATTN_CAP_GQA | ATTN_CAP_WINDOW | ATTN_CAP_SOFTCAP | ATTN_CAP_ALIBI | ATTN_CAP_SINKS |
            ATTN_CAP_HEAD_DIM_V | ATTN_CAP_KV_DTYPE | ATTN_CAP_Q8_0 | ATTN_CAP_Q4_0 | ATTN_CAP_FP8 | ATTN_CAP_RAGGED |
            ATTN_CAP_PAGED,
    .create = pc_create,
    .destroy = pc_destroy,
    .device_name = pc_device,
    .last_error = pc_last_error,
    .supports = pc_supports,
    .workspace_bytes = pc_workspace,
    .attend = pc_attend,
    .attend_paged = pc_attend_paged,
};

static const attn_backend *const all[] = {&pagecheck_backend};

const attn_backend *const *attnbench_backends(uint32_t *count)
{
	*count = 1;
	return all;
}
