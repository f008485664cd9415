/*
 * vk_attention.c - the attention calls: recording the flash dispatch or the
 * split-K pair (decode_split, then decode_reduce) between two timestamps;
 * attend (stateless: q, k and v uploaded each call), the device KV cache
 * (alloc, append, truncate), and prefill and decode, which append their new
 * tokens and attend over the cache in one submission.
 */
#include "vk_internal.h"

#include <stdlib.h>

#define LOG2E 1.4426950408889634

/* Copy new tokens from staging into the cache rows len .. len+n-1 of every
 * (batch, KV head): one copy region per row block. */
static int cmd_cache_upload(vk_ctx *c, VkBuffer dst, VkDeviceSize stage_off, int64_t n)
{
	const attn_shape *s = &c->cache_shape;
	const uint64_t rows = (uint64_t)(s->batch * s->n_kv_heads), row = vk_padded_dim(s) * attn_dtype_size(s->dtype);
	VkBufferCopy *r = calloc(rows, sizeof *r);
	if (!r)
		return vk_set_err(c, ATTN_E_NOMEM, "out of host memory");
	for (uint64_t i = 0; i < rows; i++)
		r[i] = (VkBufferCopy){
		    .srcOffset = stage_off + i * (uint64_t)n * row,
		    .dstOffset = (i * (uint64_t)c->cache_cap + (uint64_t)c->cache_len) * row,
		    .size = (uint64_t)n * row,
		};
	c->vk.vkCmdCopyBuffer(c->cmd, c->staging.buf, dst, (uint32_t)rows, r);
	free(r);
	return ATTN_OK;
}

/* Record the attention dispatches of a planned shape (inputs already
 * uploaded), between two timestamps. */
static int cmd_attention(vk_ctx *c, const attn_shape *s, const vk_plan *p, int64_t kv_stride)
{
	VkPipeline main_pipe, reduce_pipe = VK_NULL_HANDLE;
	int shader = p->decode ? (c->d_merge ? SH_SPLIT_SG : SH_SPLIT) : (c->f_dsplit > 1 ? SH_FLASH_SG : SH_FLASH);
	shader += SH_KINDS * (int)s->dtype;
	int rc = vk_get_pipeline(c, shader, p->spec, &main_pipe);
	if (!rc && p->decode) {
		uint32_t spec[N_SPEC] = {64, p->spec[1], 0, 0, 0, 0, 0, 0};
		rc = vk_get_pipeline(c, SH_REDUCE, spec, &reduce_pipe);
	}
	if (rc)
		return rc;
	const uint32_t d4 = (uint32_t)(s->head_dim + 3) / 4;
	const uint32_t parts = (uint32_t)(s->batch * s->n_heads) * p->n_part;
	struct vk_push pc = {
	    .n_q = (uint32_t)s->n_q,
	    .n_kv = (uint32_t)s->n_kv,
	    .n_heads = (uint32_t)s->n_heads,
	    .n_kv_heads = (uint32_t)s->n_kv_heads,
	    .group = (uint32_t)(s->n_heads / s->n_kv_heads),
	    .kv_stride = (uint32_t)kv_stride,
	    .causal = (uint32_t)(s->causal != 0),
	    .scale = (float)(s->scale * LOG2E),
	    .n_split = p->n_split,
	    .split_len = p->split_len,
	    .n_part = p->n_part,
	    .pm_off = parts * d4 * 4,
	    .pl_off = parts * d4 * 4 + parts,
	};
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

/* Plan a call on s over kv_stride keys per head (the cache's capacity on
 * the cache path) and check that its buffers fit the device's memory
 * (attend: K and V staged whole); else ATTN_E_UNSUPPORTED with the reason. */
static int plan_call(vk_ctx *c, const attn_shape *s, int64_t kv_stride, int attend, vk_plan *p)
{
	char why[256];
	if (!vk_plan_shape(c, s, kv_stride, p, why, sizeof why) ||
	    !vk_shape_fits(c, s, kv_stride, attend, p->decode ? p->part_bytes : 16, why, sizeof why))
		return vk_set_err(c, ATTN_E_UNSUPPORTED, "%s", why);
	return ATTN_OK;
}

/* A planned call, and where its staging buffer holds what: q at 0, then
 * the keys and values it uploads (kb bytes each), then out. */
typedef struct vk_call {
	vk_plan p;
	uint64_t qb, kb, ob;
} vk_call;

/* Plan a call (plan_call) and make the buffers it needs: staging, q, out
 * and the split-K partials, and for attend scratch K and V of s->n_kv keys
 * (the cache path uploads its s->n_q new keys into the cache). */
static int prepare_call(vk_ctx *c, const attn_shape *s, int64_t kv_stride, int attend, vk_call *call)
{
	int rc = plan_call(c, s, kv_stride, attend, &call->p);
	if (rc)
		return rc;
	call->qb = vk_tensor_bytes(s, s->n_heads, s->n_q);
	call->kb = vk_tensor_bytes(s, s->n_kv_heads, attend ? s->n_kv : s->n_q);
	call->ob = vk_out_bytes(s);
	vk_want want[6] = {{&c->staging, call->qb + call->ob + 2 * call->kb, 1}, {&c->q, call->qb, 0}};
	size_t n = 2;
	if (attend) {
		want[n++] = (vk_want){&c->k, call->kb, 0};
		want[n++] = (vk_want){&c->v, call->kb, 0};
	}
	want[n++] = (vk_want){&c->out, call->ob, 0};
	want[n++] = (vk_want){&c->part, call->p.decode ? call->p.part_bytes : 16, 0};
	rc = vk_ensure_bufs(c, want, n);
	return rc ? vk_take_validation(c, rc) : ATTN_OK;
}

/* Record the copy of out back to staging, after q and the uploaded keys
 * and values, then submit and wait, timed. */
static int download_and_submit(vk_ctx *c, const vk_call *call)
{
	VkBufferCopy r = {.srcOffset = 0, .dstOffset = call->qb + 2 * call->kb, .size = call->ob};
	c->vk.vkCmdCopyBuffer(c->cmd, c->out.buf, c->staging.buf, 1, &r);
	return vk_cmd_submit(c, 1);
}

/* Stateless attention: upload q, k, v; flash or split-K; read back out. */
int vk_attend(void *ctx, const attn_shape *s, const void *q, const void *k, const void *v, float *out)
{
	vk_ctx *c = ctx;
	vk_call call;
	c->last_ns = -1;
	if (vk_entry_check(c))
		return ATTN_E_DEVICE;
	int rc = prepare_call(c, s, s->n_kv, 1, &call);
	if (rc)
		return rc;
	const uint64_t qb = call.qb, kb = call.kb;
	char *st = c->staging.map;
	vk_pack_rows(s, st, q, vk_tensor_rows(s, s->n_heads, s->n_q));
	vk_pack_rows(s, st + qb, k, vk_tensor_rows(s, s->n_kv_heads, s->n_kv));
	vk_pack_rows(s, st + qb + kb, v, vk_tensor_rows(s, s->n_kv_heads, s->n_kv));
	rc = vk_bind_buffers(c, &c->k, &c->v, s->dtype);
	if (!rc)
		rc = vk_cmd_begin(c);
	if (!rc) {
		vk_cmd_copy(c, c->q.buf, 0, 0, qb);
		vk_cmd_copy(c, c->k.buf, 0, qb, kb);
		vk_cmd_copy(c, c->v.buf, 0, qb + kb, kb);
		rc = cmd_attention(c, s, &call.p, s->n_kv);
	}
	if (!rc)
		rc = download_and_submit(c, &call);
	if (!rc)
		vk_unpack_rows(s, out, st + qb + 2 * kb, vk_tensor_rows(s, s->n_heads, s->n_q));
	return vk_take_validation(c, rc);
}

/* Allocate the device KV cache for s->n_kv tokens; it starts empty. */
int vk_cache_alloc(void *ctx, const attn_shape *s)
{
	vk_ctx *c = ctx;
	if (vk_entry_check(c))
		return ATTN_E_DEVICE;
	vk_buf_free(c, &c->cache_v);
	vk_buf_free(c, &c->cache_k);
	c->cache_cap = c->cache_len = 0;
	/* the least a call on the cache needs: one decode step */
	attn_shape one = *s;
	one.n_q = 1;
	one.causal = 0;
	vk_plan p;
	if (plan_call(c, &one, s->n_kv, 0, &p))
		return ATTN_E_UNSUPPORTED;
	const uint64_t bytes = vk_tensor_bytes(s, s->n_kv_heads, s->n_kv);
	int rc = ATTN_E_NOMEM;
	for (int attempt = 0; attempt < 2 && rc == ATTN_E_NOMEM; attempt++) {
		if (attempt)
			vk_release_scratch(c); /* out of memory: make room, once */
		rc = vk_buf_create(c, &c->cache_k, bytes, 0);
		if (!rc)
			rc = vk_buf_create(c, &c->cache_v, bytes, 0);
		if (rc) {
			vk_buf_free(c, &c->cache_v);
			vk_buf_free(c, &c->cache_k);
		}
	}
	if (rc)
		return vk_take_validation(c, rc);
	c->cache_shape = *s;
	c->cache_cap = s->n_kv;
	return vk_take_validation(c, ATTN_OK);
}

/* Copy n new tokens of keys and values into staging; record their copies
 * into the cache, from staging at offset on. */
static int record_append(vk_ctx *c, const void *k_new, const void *v_new, int64_t n, VkDeviceSize offset)
{
	const uint64_t kb = vk_tensor_bytes(&c->cache_shape, c->cache_shape.n_kv_heads, n);
	char *st = c->staging.map;
	const uint64_t rows = vk_tensor_rows(&c->cache_shape, c->cache_shape.n_kv_heads, n);
	vk_pack_rows(&c->cache_shape, st + offset, k_new, rows);
	vk_pack_rows(&c->cache_shape, st + offset + kb, v_new, rows);
	int rc = cmd_cache_upload(c, c->cache_k.buf, offset, n);
	if (!rc)
		rc = cmd_cache_upload(c, c->cache_v.buf, offset + kb, n);
	return rc;
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

/* Append n tokens to the cache without attention. */
int vk_cache_append(void *ctx, const void *k_new, const void *v_new, int64_t n)
{
	vk_ctx *c = ctx;
	if (vk_entry_check(c))
		return ATTN_E_DEVICE;
	int rc = check_room(c, n, "cache_append");
	if (rc || n == 0)
		return vk_take_validation(c, rc);
	const vk_want want = {&c->staging, 2 * vk_tensor_bytes(&c->cache_shape, c->cache_shape.n_kv_heads, n), 1};
	rc = vk_ensure_bufs(c, &want, 1);
	if (!rc)
		rc = vk_cmd_begin(c);
	if (!rc)
		rc = record_append(c, k_new, v_new, n, 0);
	if (!rc) {
		vk_cmd_barrier(c, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
		               VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT);
		rc = vk_cmd_submit(c, 0);
	}
	if (!rc)
		c->cache_len += n;
	return vk_take_validation(c, rc);
}

int64_t vk_cache_len(void *ctx)
{
	return ((vk_ctx *)ctx)->cache_len;
}

/* Forget tokens past len; the data stays where it is. */
int vk_cache_truncate(void *ctx, int64_t len)
{
	vk_ctx *c = ctx;
	if (len < 0 || len > c->cache_len)
		return vk_set_err(c, ATTN_E_INVALID, "cache_truncate to %lld, but the cache holds %lld", (long long)len,
		                  (long long)c->cache_len);
	c->cache_len = len;
	return ATTN_OK;
}

/* Prefill and decode: append the s->n_q new tokens, then causal attention
 * of their queries over the whole cache, in one submission. */
static int cache_attend(vk_ctx *c, const attn_shape *s, const void *q, const void *k_new, const void *v_new, float *out,
                        const char *what)
{
	const attn_shape *cs = &c->cache_shape;
	vk_call call;
	c->last_ns = -1;
	if (vk_entry_check(c))
		return ATTN_E_DEVICE;
	int rc = check_room(c, s->n_q, what);
	if (rc)
		return rc;
	if (s->batch != cs->batch || s->n_kv_heads != cs->n_kv_heads || s->head_dim != cs->head_dim ||
	    s->dtype != cs->dtype)
		return vk_set_err(c, ATTN_E_INVALID, "%s: shape does not match the allocated cache", what);
	if (s->n_kv != c->cache_len + s->n_q)
		return vk_set_err(c, ATTN_E_INVALID, "%s: n_kv %lld != cache length %lld + n_q %lld", what,
		                  (long long)s->n_kv, (long long)c->cache_len, (long long)s->n_q);
	attn_shape sc = *s;
	sc.causal = 1;
	rc = prepare_call(c, &sc, c->cache_cap, 0, &call);
	if (rc)
		return rc;
	const uint64_t qb = call.qb, kb = call.kb;
	char *st = c->staging.map;
	vk_pack_rows(s, st, q, vk_tensor_rows(s, s->n_heads, s->n_q));
	rc = vk_bind_buffers(c, &c->cache_k, &c->cache_v, cs->dtype);
	if (!rc)
		rc = vk_cmd_begin(c);
	if (!rc) {
		vk_cmd_copy(c, c->q.buf, 0, 0, qb);
		rc = record_append(c, k_new, v_new, s->n_q, qb);
	}
	if (!rc)
		rc = cmd_attention(c, &sc, &call.p, c->cache_cap);
	if (!rc)
		rc = download_and_submit(c, &call);
	if (!rc) {
		vk_unpack_rows(s, out, st + qb + 2 * kb, vk_tensor_rows(s, s->n_heads, s->n_q));
		c->cache_len += s->n_q;
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
	return c->cache_k.buf ? 2 * vk_tensor_bytes(&c->cache_shape, c->cache_shape.n_kv_heads, c->cache_cap) : 0;
}
