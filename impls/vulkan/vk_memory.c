/*
 * vk_memory.c - device memory and buffers: memory types and the limits
 * shapes are judged by, buffers with their own allocations and texel views,
 * grown on demand, with one retry after freeing the scratch buffers when the
 * device runs out of memory; the bytes of each tensor on the device (rows
 * padded to 4 elements), the memory check behind supports() (reasons that
 * start with "needs "), and packing rows into and out of staging.
 */
#include "vk_internal.h"

#include "attn_quant.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Memory types and limits */

/* Index of a memory type allowed by bits with all of want, or -1. */
static int memory_type(const vk_ctx *c, uint32_t bits, VkMemoryPropertyFlags want)
{
	for (uint32_t i = 0; i < c->mem_props.memoryTypeCount; i++)
		if ((bits & (1u << i)) && (c->mem_props.memoryTypes[i].propertyFlags & want) == want)
			return (int)i;
	return -1;
}

/* Memory type for a device buffer (device-local where the device has it)
 * or a staging buffer (host-visible, coherent, cached if possible) among
 * the types bits allows; -1 if none. */
static int buffer_memory_type(const vk_ctx *c, uint32_t bits, int host)
{
	const VkMemoryPropertyFlags vis = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
	int type = host ? memory_type(c, bits, vis | VK_MEMORY_PROPERTY_HOST_CACHED_BIT)
	                : memory_type(c, bits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
	if (type < 0)
		type = memory_type(c, bits, host ? vis : VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
	return type;
}

/* The limits vk_shape_fits() judges shapes by: the largest allocation and
 * buffer, and the heaps device buffers and staging buffers come from (as
 * vk_buf_create picks their memory types, for a buffer any type can hold). */
void vk_setup_memory_limits(vk_ctx *c, VkDeviceSize max_alloc, VkDeviceSize max_buffer)
{
	c->max_alloc = max_alloc;
	c->max_buffer = max_buffer;
	int dev = buffer_memory_type(c, ~0u, 0), host = buffer_memory_type(c, ~0u, 1);
	c->dev_heap = dev >= 0 ? c->mem_props.memoryTypes[dev].heapIndex : 0;
	c->host_heap = host >= 0 ? c->mem_props.memoryTypes[host].heapIndex : c->dev_heap;
	c->mem_cap = c->par.mem_mib ? (uint64_t)c->par.mem_mib << 20 : 0;
}

/* Texel format of K and V stored as t: one texel per 4-vector of a row;
 * bf16 is read as unsigned integers and widened in the shader. All three
 * are formats every device supports for uniform texel buffers. */
VkFormat vk_texel_format(attn_dtype t)
{
	/* the block formats and fp8 are never read through texel views; theirs
	 * only fill the descriptor */
	return t == ATTN_F16    ? VK_FORMAT_R16G16B16A16_SFLOAT
	       : t == ATTN_BF16 ? VK_FORMAT_R16G16B16A16_UINT
	                        : VK_FORMAT_R32G32B32A32_SFLOAT;
}

/* ------------------------------------------------------------------ */
/* Buffers */

/* Destroy a buffer and give back its memory. */
void vk_buf_free(vk_ctx *c, vk_buf *b)
{
	if (b->view)
		c->vk.vkDestroyBufferView(c->device, b->view, NULL);
	if (b->map)
		c->vk.vkUnmapMemory(c->device, b->mem);
	if (b->buf)
		c->vk.vkDestroyBuffer(c->device, b->buf, NULL);
	if (b->mem) {
		c->vk.vkFreeMemory(c->device, b->mem, NULL);
		c->cur_bytes -= b->mem_size;
	}
	memset(b, 0, sizeof *b);
}

/* Create a buffer of size bytes with its own allocation: device-local
 * where the device has such memory, else any; host-visible coherent and
 * mapped for staging. */
int vk_buf_create(vk_ctx *c, vk_buf *b, VkDeviceSize size, int host)
{
	memset(b, 0, sizeof *b);
	if (size < 16)
		size = 16;
	size = (size + 15) & ~(VkDeviceSize)15;
	VkBufferCreateInfo bci = {
	    .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
	    .size = size,
	    .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT |
	             VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
	    .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
	};
	VkResult r = c->vk.vkCreateBuffer(c->device, &bci, NULL, &b->buf);
	if (r != VK_SUCCESS) {
		b->buf = VK_NULL_HANDLE;
		return vk_fail(c, "vkCreateBuffer", r);
	}
	VkMemoryRequirements req;
	c->vk.vkGetBufferMemoryRequirements(c->device, b->buf, &req);
	const int type = buffer_memory_type(c, req.memoryTypeBits, host);
	if (type < 0) {
		vk_buf_free(c, b);
		return vk_set_err(c, ATTN_E_DEVICE, "no suitable memory type for a %s buffer",
		                  host ? "staging" : "device");
	}
	char want[32], held[32], what[96];
	vk_fmt_size(want, sizeof want, req.size);
	vk_fmt_size(held, sizeof held, c->cur_bytes);
	if (c->mem_cap && c->cur_bytes + req.size > c->mem_cap) {
		/* mem_mib: behave as a device with that much memory would */
		vk_buf_free(c, b);
		return vk_set_err(c, ATTN_E_NOMEM, "out of device memory: %s more with %s held is over mem_mib=%d",
		                  want, held, c->par.mem_mib);
	}
	VkMemoryAllocateInfo mai = {
	    .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
	    .allocationSize = req.size,
	    .memoryTypeIndex = (uint32_t)type,
	};
	r = c->vk.vkAllocateMemory(c->device, &mai, NULL, &b->mem);
	if (r != VK_SUCCESS) {
		b->mem = VK_NULL_HANDLE;
		vk_buf_free(c, b);
		snprintf(what, sizeof what, "vkAllocateMemory of %s with %s held", want, held);
		return vk_fail(c, what, r);
	}
	b->mem_size = req.size;
	b->size = size;
	c->cur_bytes += req.size;
	if (c->cur_bytes > c->peak_bytes)
		c->peak_bytes = c->cur_bytes;
	r = c->vk.vkBindBufferMemory(c->device, b->buf, b->mem, 0);
	if (r == VK_SUCCESS && host)
		r = c->vk.vkMapMemory(c->device, b->mem, 0, VK_WHOLE_SIZE, 0, &b->map);
	if (r != VK_SUCCESS) {
		vk_buf_free(c, b);
		return vk_fail(c, host ? "vkMapMemory" : "vkBindBufferMemory", r);
	}
	return ATTN_OK;
}

/* Give b a texel view of K or V stored as t (vk_texel_format), over as much
 * of it as the device allows (the shaders only read through it when all of
 * K and V fit); a view of another format is replaced. */
int vk_buf_view(vk_ctx *c, vk_buf *b, attn_dtype t)
{
	const VkFormat fmt = vk_texel_format(t);
	if (b->view && b->view_fmt == fmt)
		return ATTN_OK;
	if (b->view)
		c->vk.vkDestroyBufferView(c->device, b->view, NULL);
	b->view = VK_NULL_HANDLE;
	VkDeviceSize most =
	    (VkDeviceSize)c->props.limits.maxTexelBufferElements * 4 * (fmt == VK_FORMAT_R32G32B32A32_SFLOAT ? 4 : 2);
	VkBufferViewCreateInfo ci = {
	    .sType = VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO,
	    .buffer = b->buf,
	    .format = fmt,
	    .offset = 0,
	    .range = b->size < most ? b->size : most,
	};
	VK_CHECK(c, c->vk.vkCreateBufferView(c->device, &ci, NULL, &b->view));
	b->view_fmt = fmt;
	return ATTN_OK;
}

/* Make b hold at least size bytes, recreating it when too small. */
static int buf_ensure(vk_ctx *c, vk_buf *b, VkDeviceSize size, int host)
{
	if (b->buf && b->size >= size)
		return ATTN_OK;
	vk_buf_free(c, b);
	return vk_buf_create(c, b, size, host);
}

/* Free the scratch buffers (staging, q, k, v, out, partials, aux; never the
 * cache): calls make them again at the size they need. */
void vk_release_scratch(vk_ctx *c)
{
	vk_buf *scratch[] = {&c->aux, &c->part, &c->out, &c->v, &c->k, &c->q, &c->staging};
	for (size_t i = 0; i < sizeof scratch / sizeof scratch[0]; i++)
		vk_buf_free(c, scratch[i]);
}

/* Make every buffer of want at least its size. When the device runs out of
 * memory, the scratch buffers earlier, larger calls left are freed and it is
 * tried once more; what still fails is ATTN_E_NOMEM, the buffers that were
 * made stay valid, and the instance stays usable. */
int vk_ensure_bufs(vk_ctx *c, const vk_want *want, size_t n)
{
	for (int attempt = 0;; attempt++) {
		int rc = ATTN_OK;
		for (size_t i = 0; i < n && !rc; i++)
			rc = buf_ensure(c, want[i].b, want[i].size, want[i].host);
		if (rc != ATTN_E_NOMEM || attempt)
			return rc;
		vk_release_scratch(c);
	}
}

/* ------------------------------------------------------------------ */
/* Sizes on the device and the memory check of supports() */

/* d rounded up to a multiple of 4. */
static uint64_t pad4(int64_t d)
{
	return ((uint64_t)d + 3) & ~(uint64_t)3;
}

/* Device bytes of a K or V row of d elements stored as t: padded to a
 * multiple of 4 elements, the block formats to a multiple of 4 bytes. */
uint64_t vk_row_bytes(attn_dtype t, int64_t d)
{
	if (attn_dtype_blocked(t))
		return ((uint64_t)attn_row_bytes(t, d) + 3) & ~(uint64_t)3;
	return (uint64_t)attn_row_bytes(t, (int64_t)pad4(d));
}

/* Device bytes of q, which is f32 whatever the dtype (the host widens it). */
uint64_t vk_q_bytes(const attn_shape *s)
{
	return vk_tensor_rows(s, s->n_heads, s->n_q) * pad4(s->head_dim) * sizeof(float);
}

/* Device bytes of rows rows of K (is_v 0) or V. */
uint64_t vk_kv_bytes(const attn_shape *s, uint64_t rows, int is_v)
{
	return rows * vk_row_bytes(attn_kv_dtype(s), is_v ? attn_head_dim_v(s) : s->head_dim);
}

/* Device bytes of out, which is f32 with rows of head_dim_v. */
uint64_t vk_out_bytes(const attn_shape *s)
{
	return vk_tensor_rows(s, s->n_heads, s->n_q) * pad4(attn_head_dim_v(s)) * sizeof(float);
}

/* Rows of a tensor: n per head over heads heads. */
uint64_t vk_tensor_rows(const attn_shape *s, int64_t heads, int64_t n)
{
	return (uint64_t)s->batch * (uint64_t)heads * (uint64_t)n;
}

/* Does one call on s fit the device's memory? The buffers it holds at once:
 * staging, q, out (f32), the split-K partials (part_bytes), and K and V of
 * kv_rows rows, which are the cache on the cache path and scratch copies
 * for a stateless or paged attend; staging holds new_rows rows of each (all
 * of K and V for attend, the n_q new tokens on the cache path). Each must fit the largest allocation and buffer, and
 * together they must fit the heaps (and mem_mib); else 0 and a reason that
 * starts with "needs ". Sizes are rounded as vk_buf_create rounds them;
 * alignment padding is not counted. */
int vk_shape_fits(const vk_ctx *c, const attn_shape *s, uint64_t kv_rows, uint64_t new_rows, uint64_t part_bytes,
                  char *why, size_t why_len)
{
	const uint64_t qb = vk_q_bytes(s), kb = vk_kv_bytes(s, kv_rows, 0), vb = vk_kv_bytes(s, kv_rows, 1);
	const uint64_t ob = vk_out_bytes(s), kn = vk_kv_bytes(s, new_rows, 0) + vk_kv_bytes(s, new_rows, 1);
	const struct {
		uint64_t bytes;
		int host;
	} b[] = {{qb + ob + kn, 1}, {qb, 0}, {ob, 0}, {kb, 0}, {vb, 0}, {part_bytes, 0}};
	uint64_t most = c->max_alloc;
	const char *limit = "maxMemoryAllocationSize";
	if (c->max_buffer && (!most || c->max_buffer < most)) {
		most = c->max_buffer;
		limit = "maxBufferSize";
	}
	uint64_t dev = 0, host = 0;
	char need[32], have[32];
	for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) {
		const uint64_t bytes = (b[i].bytes < 16 ? 16 : b[i].bytes + 15) & ~(uint64_t)15;
		if (most && bytes > most) {
			vk_fmt_size(need, sizeof need, bytes);
			vk_fmt_size(have, sizeof have, most);
			snprintf(why, why_len, "needs a buffer of %s, the device allows %s (%s)", need, have, limit);
			return 0;
		}
		*(b[i].host ? &host : &dev) += bytes;
	}
	const VkMemoryHeap *heaps = c->mem_props.memoryHeaps;
	const uint64_t dev_heap = heaps[c->dev_heap].size, host_heap = heaps[c->host_heap].size;
	if (c->mem_cap && dev + host > c->mem_cap) {
		vk_fmt_size(need, sizeof need, dev + host);
		vk_fmt_size(have, sizeof have, c->mem_cap);
		snprintf(why, why_len, "needs %s of device memory, mem_mib=%d allows %s", need, c->par.mem_mib, have);
		return 0;
	}
	if (c->dev_heap == c->host_heap ? dev + host > dev_heap : dev > dev_heap) {
		vk_fmt_size(need, sizeof need, c->dev_heap == c->host_heap ? dev + host : dev);
		vk_fmt_size(have, sizeof have, dev_heap);
		snprintf(why, why_len, "needs %s of device memory, the device heap has %s", need, have);
		return 0;
	}
	if (c->dev_heap != c->host_heap && host > host_heap) {
		vk_fmt_size(need, sizeof need, host);
		vk_fmt_size(have, sizeof have, host_heap);
		snprintf(why, why_len, "needs %s of host-visible memory for staging, its heap has %s", need, have);
		return 0;
	}
	return 1;
}

/* ------------------------------------------------------------------ */
/* Staging: rows padded to 4 elements */

/* Widen rows of head_dim elements of s->dtype into f32 staging rows
 * padded with zeros. */
void vk_pack_q(const attn_shape *s, void *dst, const void *src, uint64_t rows)
{
	const uint64_t d = (uint64_t)s->head_dim, dp = pad4(s->head_dim), es = attn_dtype_size(s->dtype);
	float *o = dst;
	const char *in = src;
	if (d == dp && s->dtype == ATTN_F32) {
		memcpy(dst, src, rows * d * sizeof(float));
		return;
	}
	for (uint64_t r = 0; r < rows; r++) {
		attn_load_n(o + r * dp, in + r * d * es, d, s->dtype);
		memset(o + r * dp + d, 0, (dp - d) * sizeof(float));
	}
}

/* Copy rows of K (is_v 0) or V as stored (attn_row_bytes) into staging
 * rows of vk_row_bytes, padded with zeros. */
void vk_pack_kv(const attn_shape *s, void *dst, const void *src, uint64_t rows, int is_v)
{
	const attn_dtype t = attn_kv_dtype(s);
	const int64_t d = is_v ? attn_head_dim_v(s) : s->head_dim;
	const uint64_t in_row = attn_row_bytes(t, d), out_row = vk_row_bytes(t, d);
	if (in_row == out_row) {
		memcpy(dst, src, rows * in_row);
		return;
	}
	char *o = dst;
	const char *in = src;
	for (uint64_t r = 0; r < rows; r++) {
		memcpy(o + r * out_row, in + r * in_row, in_row);
		memset(o + r * out_row + in_row, 0, out_row - in_row);
	}
}

/* Copy padded rows of out (f32) from staging back into rows of head_dim_v floats. */
void vk_unpack_out(const attn_shape *s, float *dst, const void *src, uint64_t rows)
{
	const uint64_t d = (uint64_t)attn_head_dim_v(s), dp = pad4(attn_head_dim_v(s));
	const float *in = src;
	if (d == dp) {
		memcpy(dst, src, rows * d * sizeof(float));
		return;
	}
	for (uint64_t r = 0; r < rows; r++)
		memcpy(dst + r * d, in + r * dp, d * sizeof(float));
}
