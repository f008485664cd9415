/*
 * vk_attention.c - the attention calls: recording the flash dispatch or the
 * split-K pair (decode_split, then decode_reduce) between two timestamps;
 * attend (stateless: q, k and v uploaded each call), attend_paged (the
 * caller's page pools and block table uploaded each call), the device KV
 * cache (alloc, append, truncate, one length per sequence), and prefill and
 * decode, which append their new tokens and attend over the cache in one
 * submission.
 */
#include "vk_internal.h"

#include <stdlib.h>

/* Query count of sequence b of s. */
static int64_t seq_q(const attn_shape *s, int64_t b)
{
	return s->q_lens ? s->q_lens[b] : s->n_q;
}

static int64_t seq_kv(const attn_shape *s, int64_t b)
{
	return s->kv_lens ? s->kv_lens[b] : s->n_kv;
}

/* Copy new tokens of K (is_v 0) or V from staging, where every (batch, KV
 * head) has n rows, into the cache after each sequence's length: the first
 * qn[b] rows of sequence b (all n when qn is NULL). */
static int cmd_cache_upload(vk_ctx *c, VkBuffer dst, VkDeviceSize stage_off, int64_t n, const int64_t *qn, int is_v)
{
	const attn_shape *s = &c->cache_shape;
	const uint64_t rows = (uint64_t)(s->batch * s->n_kv_heads), row = vk_kv_bytes(s, 1, is_v);
	VkBufferCopy *r = calloc(rows, sizeof *r);
	if (!r)
		return vk_set_err(c, ATTN_E_NOMEM, "out of host memory");
	uint32_t nr = 0;
	for (uint64_t i = 0; i < rows; i++) {
		const int64_t b = (int64_t)i / s->n_kv_heads, cnt = qn ? qn[b] : n;
		if (cnt > 0)
			r[nr++] = (VkBufferCopy){
			    .srcOffset = stage_off + i * (uint64_t)n * row,
			    .dstOffset = (i * (uint64_t)c->cache_cap + (uint64_t)c->seq_len[b]) * row,
			    .size = (uint64_t)cnt * row,
			};
	}
	if (nr)
		c->vk.vkCmdCopyBuffer(c->cmd, c->staging.buf, dst, nr, r);
	free(r);
	return ATTN_OK;
}

/* Record the attention dispatches of a planned shape (inputs already
 * uploaded, aux filled here), between two timestamps. kv: the pages of a
 * paged call, else NULL. */
static int cmd_attention(vk_ctx *c, const attn_shape *s, const vk_plan *p, int64_t kv_stride, const attn_paged_kv *kv)
{
	VkPipeline main_pipe, reduce_pipe = VK_NULL_HANDLE;
	int shader = p->decode ? (c->d_merge ? SH_SPLIT_SG : SH_SPLIT) : (c->f_dsplit > 1 ? SH_FLASH_SG : SH_FLASH);
	shader += SH_KINDS * (int)attn_kv_dtype(s);
	int rc = vk_get_pipeline(c, shader, p->spec, &main_pipe);
	if (!rc && p->decode) {
		uint32_t spec[N_SPEC] = {64, p->spec[1], 0, 0, 0, 0, 0, 0, p->spec[8]};
		rc = vk_get_pipeline(c, SH_REDUCE, spec, &reduce_pipe);
	}
	if (rc)
		return rc;
	const uint32_t dv4 = (uint32_t)(attn_head_dim_v(s) + 3) / 4;
	const uint32_t parts = (uint32_t)(s->batch * s->n_heads) * p->n_part;
	struct vk_push pc = {
	    .n_q = (uint32_t)s->n_q,
	    .n_kv = (uint32_t)s->n_kv,
	    .n_heads = (uint32_t)s->n_heads,
	    .n_kv_heads = (uint32_t)s->n_kv_heads,
	    .group = (uint32_t)(s->n_heads / s->n_kv_heads),
	    .kv_stride = (uint32_t)kv_stride,
	    .causal = (uint32_t)(s->causal != 0),
	    /* with a softcap the shaders take scale q.k as it is, and apply
	     * log2(e) after the cap */
	    .scale = s->softcap > 0 ? s->scale : (float)(s->scale * VK_LOG2E),
	    .n_split = p->n_split,
	    .split_len = p->split_len,
	    .n_part = p->n_part,
	    .pm_off = parts * dv4 * 4,
	    .pl_off = parts * dv4 * 4 + parts,
	    /* a window of n_kv or more hides nothing but stays in 32 bits */
	    .window = (uint32_t)(s->window < s->n_kv ? s->window : s->n_kv),
	    .softcap = s->softcap > 0 ? s->softcap : 0.0f,
	};
	vk_fill_aux(c, s, kv, &pc);
	vk_cmd_barrier(c, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
	               VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
	if (c->query_pool)
		c->vk.vkCmdWriteTimestamp(c->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, c->query_pool, 0);
	vk_cmd_dispatch(c, main_pipe, &pc, p->groups);
	if (p->decode) {
		vk_cmd_barrier(c, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
		               VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT);
		uint32_t rg[3] = {(uint32_t)s->n_heads, (uint32_t)s->batch, 1};
		vk_cmd_dispatch(c, reduce_pipe, &pc, rg);
	}
	if (c->query_pool)
		c->vk.vkCmdWriteTimestamp(c->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, c->query_pool, 1);
	vk_cmd_barrier(c, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
	               VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT);
	return ATTN_OK;
}

/* Plan a call on s binding kv_rows rows of K and V, new_rows of them staged,
 * and check that its buffers fit the device's memory; else
 * ATTN_E_UNSUPPORTED with the reason. */
static int plan_call(vk_ctx *c, const attn_shape *s, uint64_t kv_rows, uint64_t new_rows, vk_plan *p)
{
	char why[256];
	if (!vk_plan_shape(c, s, kv_rows, p, why, sizeof why) ||
	    !vk_shape_fits(c, s, kv_rows, new_rows, p->decode ? p->part_bytes : 16, why, sizeof why))
		return vk_set_err(c, ATTN_E_UNSUPPORTED, "%s", why);
	return ATTN_OK;
}

/* A planned call, and where its staging buffer holds what: q at 0, then
 * the keys (kb bytes) and values (vb) it uploads, then out. */
typedef struct vk_call {
	vk_plan p;
	uint64_t qb, kb, vb, ob;
} vk_call;

/* Plan a call (plan_call) and make the buffers it needs: staging, q, out,
 * the split-K partials and aux, and with scratch set scratch K and V of
 * kv_rows rows (the cache path uploads its new keys into the cache). */
static int prepare_call(vk_ctx *c, const attn_shape *s, uint64_t kv_rows, uint64_t new_rows, int scratch,
                        const attn_paged_kv *kv, vk_call *call)
{
	char why[256];
	if (!vk_check_lens(s, why, sizeof why))
		return vk_set_err(c, ATTN_E_INVALID, "%s", why);
	int rc = plan_call(c, s, kv_rows, new_rows, &call->p);
	if (rc)
		return rc;
	call->qb = vk_q_bytes(s);
	call->kb = vk_kv_bytes(s, new_rows, 0);
	call->vb = vk_kv_bytes(s, new_rows, 1);
	call->ob = vk_out_bytes(s);
	vk_want want[7] = {{&c->staging, call->qb + call->ob + call->kb + call->vb, 1}, {&c->q, call->qb, 0}};
	size_t n = 2;
	if (scratch) {
		want[n++] = (vk_want){&c->k, call->kb, 0};
		want[n++] = (vk_want){&c->v, call->vb, 0};
	}
	want[n++] = (vk_want){&c->out, call->ob, 0};
	want[n++] = (vk_want){&c->part, call->p.decode ? call->p.part_bytes : 16, 0};
	want[n++] = (vk_want){&c->aux, vk_aux_bytes(s, kv), 1};
	rc = vk_ensure_bufs(c, want, n);
	return rc ? vk_take_validation(c, rc) : ATTN_OK;
}

/* Record the copy of out back to staging, after q and the uploaded keys
 * and values, then submit and wait, timed. */
static int download_and_submit(vk_ctx *c, const vk_call *call)
{
	VkBufferCopy r = {.srcOffset = 0, .dstOffset = call->qb + call->kb + call->vb, .size = call->ob};
	c->vk.vkCmdCopyBuffer(c->cmd, c->out.buf, c->staging.buf, 1, &r);
	return vk_cmd_submit(c, 1);
}

/* Copy out from staging into the caller's out: every row, or with ragged
 * lengths only the first q_lens[b] rows of each (batch, head). */
static void unpack_out(const vk_call *call, const attn_shape *s, float *out, const char *st)
{
	const char *src = st + call->qb + call->kb + call->vb;
	if (!s->q_lens) {
		vk_unpack_out(s, out, src, vk_tensor_rows(s, s->n_heads, s->n_q));
		return;
	}
	const int64_t dv = attn_head_dim_v(s);
	const uint64_t row = call->ob / vk_tensor_rows(s, s->n_heads, s->n_q);
	for (int64_t b = 0; b < s->batch; b++)
		for (int64_t h = 0; h < s->n_heads; h++) {
			const int64_t r0 = (b * s->n_heads + h) * s->n_q;
			vk_unpack_out(s, out + r0 * dv, src + (uint64_t)r0 * row, (uint64_t)s->q_lens[b]);
		}
}

/* attend and attend_paged: upload q and kv_rows rows of k and v (the
 * tensors, or the page pools); flash or split-K; read back out. */
static int attend_rows(vk_ctx *c, const attn_shape *s, const void *q, const void *k, const void *v, uint64_t kv_rows,
                       const attn_paged_kv *kv, float *out)
{
	vk_call call;
	c->last_ns = -1;
	if (vk_entry_check(c))
		return ATTN_E_DEVICE;
	int rc = prepare_call(c, s, kv_rows, kv_rows, 1, kv, &call);
	if (rc)
		return rc;
	const uint64_t qb = call.qb, kb = call.kb, vb = call.vb;
	char *st = c->staging.map;
	vk_pack_q(s, st, q, vk_tensor_rows(s, s->n_heads, s->n_q));
	vk_pack_kv(s, st + qb, k, kv_rows, 0);
	vk_pack_kv(s, st + qb + kb, v, kv_rows, 1);
	rc = vk_bind_buffers(c, &c->k, &c->v, attn_kv_dtype(s));
	if (!rc)
		rc = vk_cmd_begin(c);
	if (!rc) {
		vk_cmd_copy(c, c->q.buf, 0, 0, qb);
		vk_cmd_copy(c, c->k.buf, 0, qb, kb);
		vk_cmd_copy(c, c->v.buf, 0, qb + kb, vb);
		rc = cmd_attention(c, s, &call.p, s->n_kv, kv);
	}
	if (!rc)
		rc = download_and_submit(c, &call);
	if (!rc)
		unpack_out(&call, s, out, st);
	return vk_take_validation(c, rc);
}

/* Stateless attention. */
int vk_attend(void *ctx, const attn_shape *s, const void *q, const void *k, const void *v, float *out)
{
	return attend_rows(ctx, s, q, k, v, vk_tensor_rows(s, s->n_kv_heads, s->n_kv), NULL, out);
}

/* Check the pages of a paged call: every page a sequence's keys occupy is
 * in the pool. */
static int check_pages(vk_ctx *c, const attn_shape *s, const attn_paged_kv *kv)
{
	if (!kv || !kv->k_pages || !kv->v_pages || !kv->block_table || kv->n_pages < 1 || kv->page_size < 1 ||
	    kv->max_pages < 1)
		return vk_set_err(c, ATTN_E_INVALID,
		                  "attend_paged: pools, block table, n_pages, page_size and "
		                  "max_pages must be given");
	if ((double)kv->n_pages * (double)kv->page_size * (double)s->n_kv_heads >= 4294967296.0 ||
	    (double)s->batch * (double)kv->max_pages >= 4294967296.0)
		return vk_set_err(c, ATTN_E_UNSUPPORTED, "attend_paged: a pool of 2^32 rows or more");
	for (int64_t b = 0; b < s->batch; b++) {
		const int64_t need = (seq_kv(s, b) + kv->page_size - 1) / kv->page_size;
		if (need > kv->max_pages)
			return vk_set_err(c, ATTN_E_INVALID,
			                  "attend_paged: sequence %lld has %lld keys, more than max_pages %lld hold",
			                  (long long)b, (long long)seq_kv(s, b), (long long)kv->max_pages);
		for (int64_t i = 0; i < need; i++) {
			const int32_t pg = kv->block_table[b * kv->max_pages + i];
			if (pg < 0 || pg >= kv->n_pages)
				return vk_set_err(c, ATTN_E_INVALID,
				                  "attend_paged: block_table[%lld][%lld] = %d is not a page of 0..%lld",
				                  (long long)b, (long long)i, pg, (long long)kv->n_pages - 1);
		}
	}
	return ATTN_OK;
}

/* Attention over the caller's pages. */
int vk_attend_paged(void *ctx, const attn_shape *s, const void *q, const attn_paged_kv *kv, float *out)
{
	vk_ctx *c = ctx;
	c->last_ns = -1;
	int rc = check_pages(c, s, kv);
	if (rc)
		return rc;
	const uint64_t rows = (uint64_t)kv->n_pages * (uint64_t)s->n_kv_heads * (uint64_t)kv->page_size;
	return attend_rows(c, s, q, kv->k_pages, kv->v_pages, rows, kv, out);
}

/* Allocate the device KV cache for s->n_kv tokens; it starts empty. */
int vk_cache_alloc(void *ctx, const attn_shape *s)
{
	vk_ctx *c = ctx;
	if (vk_entry_check(c))
		return ATTN_E_DEVICE;
	vk_buf_free(c, &c->cache_v);
	vk_buf_free(c, &c->cache_k);
	free(c->seq_len);
	c->seq_len = NULL;
	c->cache_cap = c->cache_len = 0;
	/* the least a call on the cache needs: one decode step */
	attn_shape one = *s;
	one.n_q = 1;
	one.causal = 0;
	one.q_lens = one.kv_lens = NULL;
	vk_plan p;
	const uint64_t rows = vk_tensor_rows(s, s->n_kv_heads, s->n_kv);
	if (plan_call(c, &one, rows, vk_tensor_rows(s, s->n_kv_heads, 1), &p))
		return ATTN_E_UNSUPPORTED;
	c->seq_len = calloc((size_t)s->batch, sizeof *c->seq_len);
	if (!c->seq_len)
		return vk_set_err(c, ATTN_E_NOMEM, "out of host memory");
	int rc = ATTN_E_NOMEM;
	for (int attempt = 0; attempt < 2 && rc == ATTN_E_NOMEM; attempt++) {
		if (attempt)
			vk_release_scratch(c); /* out of memory: make room, once */
		rc = vk_buf_create(c, &c->cache_k, vk_kv_bytes(s, rows, 0), 0);
		if (!rc)
			rc = vk_buf_create(c, &c->cache_v, vk_kv_bytes(s, rows, 1), 0);
		if (rc) {
			vk_buf_free(c, &c->cache_v);
			vk_buf_free(c, &c->cache_k);
		}
	}
	if (rc)
		return vk_take_validation(c, rc);
	c->cache_shape = *s;
	/* the cache keeps the geometry, not the caller's arrays */
	c->cache_shape.alibi = c->cache_shape.sinks = NULL;
	c->cache_shape.q_lens = c->cache_shape.kv_lens = NULL;
	c->cache_cap = s->n_kv;
	return vk_take_validation(c, ATTN_OK);
}

/* Copy new tokens of keys and values (n rows per KV head) into staging at
 * offset; record their copies into the cache (qn[b] of them for sequence
 * b, all n when qn is NULL). */
static int record_append(vk_ctx *c, const void *k_new, const void *v_new, int64_t n, const int64_t *qn,
                         VkDeviceSize offset)
{
	const attn_shape *cs = &c->cache_shape;
	const uint64_t rows = vk_tensor_rows(cs, cs->n_kv_heads, n), kb = vk_kv_bytes(cs, rows, 0);
	char *st = c->staging.map;
	vk_pack_kv(cs, st + offset, k_new, rows, 0);
	vk_pack_kv(cs, st + offset + kb, v_new, rows, 1);
	int rc = cmd_cache_upload(c, c->cache_k.buf, offset, n, qn, 0);
	if (!rc)
		rc = cmd_cache_upload(c, c->cache_v.buf, offset + kb, n, qn, 1);
	return rc;
}

/* Add the tokens of a finished append to each sequence's length. */
static void grow_lengths(vk_ctx *c, int64_t n, const int64_t *qn)
{
	for (int64_t b = 0; b < c->cache_shape.batch; b++) {
		c->seq_len[b] += qn ? qn[b] : n;
		if (c->seq_len[b] > c->cache_len)
			c->cache_len = c->seq_len[b];
	}
}

/* Check that n more tokens fit the cache. */
static int check_room(vk_ctx *c, int64_t n, const char *what)
{
	if (!c->cache_k.buf)
		return vk_set_err(c, ATTN_E_INVALID, "%s before cache_alloc", what);
	if (n < 0 || c->cache_len + n > c->cache_cap)
		return vk_set_err(c, ATTN_E_INVALID, "cache overflow: %lld + %lld tokens > capacity %lld",
		                  (long long)c->cache_len, (long long)n, (long long)c->cache_cap);
	return ATTN_OK;
}

/* Append n tokens to every sequence of the cache without attention. */
int vk_cache_append(void *ctx, const void *k_new, const void *v_new, int64_t n)
{
	vk_ctx *c = ctx;
	if (vk_entry_check(c))
		return ATTN_E_DEVICE;
	int rc = check_room(c, n, "cache_append");
	if (rc || n == 0)
		return vk_take_validation(c, rc);
	const attn_shape *cs = &c->cache_shape;
	const uint64_t rows = vk_tensor_rows(cs, cs->n_kv_heads, n);
	const vk_want want = {&c->staging, vk_kv_bytes(cs, rows, 0) + vk_kv_bytes(cs, rows, 1), 1};
	rc = vk_ensure_bufs(c, &want, 1);
	if (!rc)
		rc = vk_cmd_begin(c);
	if (!rc)
		rc = record_append(c, k_new, v_new, n, NULL, 0);
	if (!rc) {
		vk_cmd_barrier(c, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
		               VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT);
		rc = vk_cmd_submit(c, 0);
	}
	if (!rc)
		grow_lengths(c, n, NULL);
	return vk_take_validation(c, rc);
}

int64_t vk_cache_len(void *ctx)
{
	return ((vk_ctx *)ctx)->cache_len;
}

/* Forget tokens past len in every sequence; the data stays where it is. */
int vk_cache_truncate(void *ctx, int64_t len)
{
	vk_ctx *c = ctx;
	if (len < 0 || len > c->cache_len)
		return vk_set_err(c, ATTN_E_INVALID, "cache_truncate to %lld, but the cache holds %lld", (long long)len,
		                  (long long)c->cache_len);
	for (int64_t b = 0; c->seq_len && b < c->cache_shape.batch; b++)
		if (c->seq_len[b] > len)
			c->seq_len[b] = len;
	c->cache_len = len;
	return ATTN_OK;
}

/* Does s fit the allocated cache: geometry, and each sequence's length
 * before the call (kv_lens[b] - q_lens[b], else n_kv - n_q)? */
static int check_cache_shape(vk_ctx *c, const attn_shape *s, const char *what)
{
	const attn_shape *cs = &c->cache_shape;
	char why[256];
	if (s->batch != cs->batch || s->n_kv_heads != cs->n_kv_heads || s->head_dim != cs->head_dim ||
	    attn_head_dim_v(s) != attn_head_dim_v(cs) || attn_kv_dtype(s) != attn_kv_dtype(cs))
		return vk_set_err(c, ATTN_E_INVALID, "%s: shape does not match the allocated cache", what);
	if (!vk_check_lens(s, why, sizeof why))
		return vk_set_err(c, ATTN_E_INVALID, "%s: %s", what, why);
	if (s->n_kv > c->cache_cap)
		return vk_set_err(c, ATTN_E_INVALID, "%s: n_kv %lld > cache capacity %lld", what, (long long)s->n_kv,
		                  (long long)c->cache_cap);
	for (int64_t b = 0; b < s->batch; b++)
		if (c->seq_len[b] != seq_kv(s, b) - seq_q(s, b))
			return vk_set_err(
			    c, ATTN_E_INVALID, "%s: sequence %lld: n_kv %lld != cache length %lld + n_q %lld", what,
			    (long long)b, (long long)seq_kv(s, b), (long long)c->seq_len[b], (long long)seq_q(s, b));
	return ATTN_OK;
}

/* Prefill and decode: append the new tokens (q_lens[b] of sequence b when
 * ragged), then causal attention of their queries over the whole cache, in
 * one submission. */
static int cache_attend(vk_ctx *c, const attn_shape *s, const void *q, const void *k_new, const void *v_new, float *out,
                        const char *what)
{
	const attn_shape *cs = &c->cache_shape;
	vk_call call;
	c->last_ns = -1;
	if (vk_entry_check(c))
		return ATTN_E_DEVICE;
	int rc = check_room(c, s->q_lens ? 0 : s->n_q, what);
	if (!rc)
		rc = check_cache_shape(c, s, what);
	if (rc)
		return rc;
	attn_shape sc = *s;
	sc.causal = 1;
	rc = prepare_call(c, &sc, vk_tensor_rows(cs, cs->n_kv_heads, c->cache_cap),
	                  vk_tensor_rows(s, s->n_kv_heads, s->n_q), 0, NULL, &call);
	if (rc)
		return rc;
	const uint64_t qb = call.qb;
	char *st = c->staging.map;
	vk_pack_q(s, st, q, vk_tensor_rows(s, s->n_heads, s->n_q));
	rc = vk_bind_buffers(c, &c->cache_k, &c->cache_v, attn_kv_dtype(cs));
	if (!rc)
		rc = vk_cmd_begin(c);
	if (!rc) {
		vk_cmd_copy(c, c->q.buf, 0, 0, qb);
		rc = record_append(c, k_new, v_new, s->n_q, s->q_lens, qb);
	}
	if (!rc)
		rc = cmd_attention(c, &sc, &call.p, c->cache_cap, NULL);
	if (!rc)
		rc = download_and_submit(c, &call);
	if (!rc) {
		unpack_out(&call, s, out, st);
		grow_lengths(c, s->n_q, s->q_lens);
	}
	return vk_take_validation(c, rc);
}

int vk_prefill(void *ctx, const attn_shape *s, const void *q, const void *k_new, const void *v_new, float *out)
{
	return cache_attend(ctx, s, q, k_new, v_new, out, "prefill");
}

int vk_decode(void *ctx, const attn_shape *s, const void *q, const void *k_new, const void *v_new, float *out)
{
	if (s->n_q != 1)
		return vk_set_err(ctx, ATTN_E_INVALID, "decode: n_q must be 1, got %lld", (long long)s->n_q);
	return cache_attend(ctx, s, q, k_new, v_new, out, "decode");
}

uint64_t vk_cache_bytes(void *ctx)
{
	vk_ctx *c = ctx;
	const attn_shape *cs = &c->cache_shape;
	const uint64_t rows = vk_tensor_rows(cs, cs->n_kv_heads, c->cache_cap);
	return c->cache_k.buf ? vk_kv_bytes(cs, rows, 0) + vk_kv_bytes(cs, rows, 1) : 0;
}
