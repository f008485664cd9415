/*
 * vulkan.c - the Vulkan compute backend of attnbench (see vulkan.h): its
 * parameters, create and destroy, supports(), workspace_bytes() and the
 * attn_backend table. The other files of this directory hold the parts
 * (vk_internal.h lists them).
 *
 * Setup, in the order vk_create() runs it:
 *   instance     vk_instance.c: the loader (volkInitialize, a dlopen of
 *                libvulkan.so.1), Vulkan 1.1+, optional validation layer
 *                and debug messenger
 *   device       vk_instance.c: physical device choice, its limits and
 *                features; vk_plan.c: the shader configuration they allow;
 *                vk_instance.c: the logical device, one compute queue
 *   commands     vk_commands.c: command pool, one command buffer, a fence, a
 *                timestamp pool
 *   descriptors  vk_pipeline.c: one set layout: five storage buffers (q, k,
 *                v, out, split-K partials) and K and V again as texel
 *                buffers; a pipeline layout with push constants
 *   shaders      vk_pipeline.c: SPIR-V embedded at build time, the shaders
 *                that read q, k and v once per storage type; pipelines are
 *                specialised per head_dim (and tile sizes) on first use and
 *                cached
 * Cleanup is vk_destroy, in reverse order.
 *
 * Buffers (vk_memory.c) are created on demand and grown: device-local q, k,
 * v, out and partial buffers, a host-visible staging buffer, and the KV
 * cache. On the device every row of head_dim elements is padded with zeros
 * to a multiple of 4, so that shaders only move 4-vectors; the host packs
 * and unpacks.
 *
 * Storage types: q, k, v and the cache are held in the shape's dtype (f32,
 * or f16 and bf16 at 2 bytes an element, which need storageBuffer16BitAccess
 * of VK_KHR_16bit_storage, core in Vulkan 1.1 but optional); the shaders
 * widen what they load to f32 and compute in f32, and out and the split-K
 * partials are always f32. Every size follows the element size.
 *
 * Every call (vk_attention.c) records one command buffer: copies from
 * staging, a barrier, a timestamp, the dispatches, a timestamp, a barrier,
 * the copy of out back to staging; then submits it and waits on the fence
 * (vk_commands.c).
 *
 * Faults. No wait on the device is unbounded: the fence wait has a limit
 * (timeout_ms), nothing else waits. A wait that times out, or a
 * VK_ERROR_DEVICE_LOST from any call, marks the instance faulty: every later
 * call fails at once with the first fault's message and never touches the
 * device again, and destroy() leaves the device's objects allocated when the
 * last submission may still be running (see vk_destroy). Device memory is
 * judged before anything is allocated (vk_shape_fits): a shape whose buffers
 * exceed the device's buffer or allocation limits or its memory heap is not
 * supported, with a reason that starts with "needs ". An allocation that
 * fails anyway is an ATTN_E_NOMEM error; the instance frees its scratch
 * buffers, retries once, and stays usable for smaller shapes.
 */
#include "vulkan.h"
#include "vk_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT_MS_MAX 3600000 /* an hour */

/* ------------------------------------------------------------------ */
/* Parameters */

/* Parse one integer parameter value within [lo, hi]. */
static int parse_int(const char *key, const char *val, int lo, int hi, int *out, char *err, size_t err_len)
{
	char *end;
	long v = strtol(val, &end, 10);
	if (*val == 0 || *end != 0 || v < lo || v > hi) {
		snprintf(err, err_len, "parameter %s=%s: expected an integer in %d..%d", key, val, lo, hi);
		return ATTN_E_INVALID;
	}
	*out = (int)v;
	return ATTN_OK;
}

/* Parse attn_config.params ("key=value,..."); unknown keys are an error.
 * ATTNBENCH_VK_TIMEOUT_MS sets the default of timeout_ms; the parameter wins.
 * The keys are documented in vulkan.h; among them:
 *   mem_mib=N      judge shapes and allocations as if the device had N MiB
 *   timeout_ms=N   limit of the fence wait of every call
 *   storage16=0    behave as a device without storageBuffer16BitAccess
 *                  (VK_KHR_16bit_storage): the feature is not enabled, the
 *                  f16 and bf16 shaders are not loaded, and supports()
 *                  refuses f16 and bf16 shapes as on such a device, its
 *                  reason ending in "(storage16=0)"; storage16=1, the
 *                  default, uses the feature where the device has it */
static int parse_params(const char *s, vk_params *p, char *err, size_t err_len)
{
	static const struct {
		const char *key;
		int lo, hi;
		size_t off;
	} keys[] = {
	    {"split", 0, 65535, offsetof(vk_params, split)},
	    {"timeout_ms", 1, TIMEOUT_MS_MAX, offsetof(vk_params, timeout_ms)},
	    {"mem_mib", 1, 1 << 24, offsetof(vk_params, mem_mib)},
	    {"storage16", 0, 1, offsetof(vk_params, storage16)},
	    {"subgroups", 0, 1, offsetof(vk_params, subgroups)},
	    {"texel", 0, 1, offsetof(vk_params, texel)},
	    {"wg", 1, 1024, offsetof(vk_params, wg)},
	    {"rows", 1, 8, offsetof(vk_params, rows)},
	    {"tile_kv", 1, 256, offsetof(vk_params, tile_kv)},
	    {"step", 1, 16, offsetof(vk_params, step)},
	    {"dsplit", 1, 64, offsetof(vk_params, dsplit)},
	    {"stage", 0, 1, offsetof(vk_params, stage)},
	    {"dec_wg", 1, 1024, offsetof(vk_params, dec_wg)},
	    {"dec_keys", 1, 8, offsetof(vk_params, dec_keys)},
	    {"dec_dsplit", 1, 64, offsetof(vk_params, dec_dsplit)},
	    {"dec_heads", 1, 16, offsetof(vk_params, dec_heads)},
	    {"dec_merge", 0, 1, offsetof(vk_params, dec_merge)},
	};
	p->timeout_ms = 30000;
	const char *env = getenv("ATTNBENCH_VK_TIMEOUT_MS");
	if (env && *env && parse_int("timeout_ms", env, 1, TIMEOUT_MS_MAX, &p->timeout_ms, err, err_len)) {
		snprintf(err, err_len, "ATTNBENCH_VK_TIMEOUT_MS=%s: expected milliseconds, an integer in 1..%d", env,
		         TIMEOUT_MS_MAX);
		return ATTN_E_INVALID;
	}
	p->subgroups = 1;
	p->storage16 = 1;
	p->texel = 1;
	p->stage = -1;
	p->dec_merge = -1;
	while (s && *s) {
		char item[128];
		size_t n = strcspn(s, ",");
		if (n >= sizeof item) {
			snprintf(err, err_len, "parameter list: item too long");
			return ATTN_E_INVALID;
		}
		memcpy(item, s, n);
		item[n] = 0;
		s += n + (s[n] == ',');
		if (!n)
			continue;
		char *eq = strchr(item, '=');
		size_t i = 0;
		if (eq) {
			*eq = 0;
			while (i < sizeof keys / sizeof keys[0] && strcmp(keys[i].key, item) != 0)
				i++;
		}
		if (!eq || i == sizeof keys / sizeof keys[0]) {
			snprintf(
			    err, err_len,
			    "unknown parameter '%s' (known: split, timeout_ms, mem_mib, storage16, subgroups, texel, "
			    "wg, rows, tile_kv, step, dsplit, stage, dec_wg, dec_keys, dec_dsplit, dec_heads, "
			    "dec_merge)",
			    item);
			return ATTN_E_INVALID;
		}
		int *dst = (int *)((char *)p + keys[i].off);
		int rc = parse_int(item, eq + 1, keys[i].lo, keys[i].hi, dst, err, err_len);
		if (rc)
			return rc;
		if ((dst == &p->wg || dst == &p->dec_wg || dst == &p->dsplit || dst == &p->dec_dsplit) &&
		    (*dst & (*dst - 1))) {
			snprintf(err, err_len, "parameter %s=%d: expected a power of two", item, *dst);
			return ATTN_E_INVALID;
		}
	}
	return ATTN_OK;
}

/* ------------------------------------------------------------------ */
/* destroy and create */

/* Instances whose device may still be running their last submission:
 * vk_destroy leaves them here, whole and reachable, for the life of the
 * process. */
static vk_ctx *graveyard;

/* Keep c and every Vulkan object of it alive: nothing may be freed while
 * the device may still read or write it, and waiting for the device could
 * take forever. The instance is not destroyed either, so that the driver
 * stays loaded while its threads may still run. */
static void abandon(vk_ctx *c)
{
	c->graveyard_next = __atomic_load_n(&graveyard, __ATOMIC_RELAXED);
	while (!__atomic_compare_exchange_n(&graveyard, &c->graveyard_next, c, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		;
}

/* Release everything, in reverse order of creation. Every call waits for
 * its submission, so the device is idle here, unless a call timed out or
 * found the device lost with a submission in flight: then the fence's
 * status is read, without waiting, and if the work has not finished the
 * instance is abandoned instead of waiting for an idle device (the wait
 * could hang, and freeing memory the device still uses could crash it). */
static void vk_destroy(void *ctx)
{
	vk_ctx *c = ctx;
	if (!c)
		return;
	if (c->device && c->in_flight && c->vk.vkGetFenceStatus(c->device, c->fence) != VK_SUCCESS) {
		abandon(c);
		return;
	}
	if (c->device) {
		vk_buf_free(c, &c->cache_v);
		vk_buf_free(c, &c->cache_k);
		vk_buf_free(c, &c->aux);
		vk_buf_free(c, &c->part);
		vk_buf_free(c, &c->out);
		vk_buf_free(c, &c->v);
		vk_buf_free(c, &c->k);
		vk_buf_free(c, &c->q);
		vk_buf_free(c, &c->staging);
		for (int i = c->n_pipes - 1; i >= 0; i--)
			c->vk.vkDestroyPipeline(c->device, c->pipes[i].pipe, NULL);
		for (int i = SH_COUNT - 1; i >= 0; i--)
			if (c->modules[i])
				c->vk.vkDestroyShaderModule(c->device, c->modules[i], NULL);
		if (c->desc_pool)
			c->vk.vkDestroyDescriptorPool(c->device, c->desc_pool, NULL);
		if (c->pipe_layout)
			c->vk.vkDestroyPipelineLayout(c->device, c->pipe_layout, NULL);
		if (c->set_layout)
			c->vk.vkDestroyDescriptorSetLayout(c->device, c->set_layout, NULL);
		if (c->query_pool)
			c->vk.vkDestroyQueryPool(c->device, c->query_pool, NULL);
		if (c->fence)
			c->vk.vkDestroyFence(c->device, c->fence, NULL);
		if (c->cmd_pool)
			c->vk.vkDestroyCommandPool(c->device, c->cmd_pool, NULL);
		c->vk.vkDestroyDevice(c->device, NULL);
	}
	if (c->messenger)
		c->destroy_messenger(c->instance, c->messenger, NULL);
	if (c->instance)
		c->destroy_instance(c->instance, NULL);
	free(c->seq_len);
	free(c);
}

/* Create an instance of the backend: the setup steps in order; on a
 * failure vk_destroy releases what the steps before it made. */
static int vk_create(const attn_config *cfg, void **out, char *err, size_t err_len)
{
	*out = NULL;
	vk_ctx *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, err_len, "out of host memory");
		return ATTN_E_NOMEM;
	}
	int rc = parse_params(cfg ? cfg->params : NULL, &c->par, err, err_len);
	if (rc) {
		free(c);
		return rc;
	}
	rc = vk_setup_instance(c); /* 1. loader, instance, validation: vk_instance.c */
	if (!rc)
		rc = vk_setup_physical_device(c, cfg ? cfg->device : NULL); /* 2. physical device, limits, features */
	if (!rc)
		rc = vk_setup_config(c); /* 3. shader configuration: vk_plan.c */
	if (!rc)
		rc = vk_setup_device(c); /* 4. logical device, queue: vk_instance.c */
	if (!rc)
		rc = vk_setup_commands(c); /* 5. command buffer, fence, timestamps: vk_commands.c */
	if (!rc)
		rc = vk_setup_descriptors(c); /* 6. descriptor and pipeline layouts: vk_pipeline.c */
	if (!rc)
		rc = vk_setup_shaders(c); /* 7. shader modules: vk_pipeline.c */
	rc = vk_take_validation(c, rc);
	if (rc) {
		snprintf(err, err_len, "%s", c->err);
		vk_destroy(c);
		return rc;
	}
	const uint32_t api = c->props.apiVersion;
	snprintf(c->info, sizeof c->info, "Vulkan %u.%u.%u, subgroups %s (size %u), texel reads %s, 16-bit storage %s",
	         VK_API_VERSION_MAJOR(api), VK_API_VERSION_MINOR(api), VK_API_VERSION_PATCH(api),
	         c->use_subgroup ? "on" : "off", c->subgroup_size, c->use_texel ? "on" : "off",
	         c->storage16 ? "on" : "off");
	*out = c;
	return ATTN_OK;
}

static const char *vk_device_name(void *ctx)
{
	return ((vk_ctx *)ctx)->name;
}

static const char *vk_instance_info(void *ctx)
{
	return ((vk_ctx *)ctx)->info;
}

static const char *vk_last_error(void *ctx)
{
	return ((vk_ctx *)ctx)->err;
}

/* The shape is judged as the cache path runs it (the KV cache of n_kv
 * tokens, the n_q new ones staged): for attend with n_q = n_kv, as sweeps
 * run it, that is the same memory; a stateless attend with fewer queries
 * than keys stages all of K and V, and says so when it does not fit. */
static int vk_supports(void *ctx, const attn_shape *s, char *why, size_t why_len)
{
	vk_plan p;
	const uint64_t rows = vk_tensor_rows(s, s->n_kv_heads, s->n_kv);
	return vk_plan_shape(ctx, s, rows, &p, why, why_len) &&
	       vk_shape_fits(ctx, s, rows, vk_tensor_rows(s, s->n_kv_heads, s->n_q), p.decode ? p.part_bytes : 16, why,
	                     why_len);
}

/* Staging (upload of q and the new keys and values, download of out) plus
 * split-K partials. With a cache of this geometry allocated the call is
 * taken to be prefill/decode (n_q new tokens), else attend (n_kv). */
static uint64_t vk_workspace_bytes(void *ctx, const attn_shape *s)
{
	vk_ctx *c = ctx;
	vk_plan p;
	char why[128];
	if (!vk_plan_shape(c, s, vk_tensor_rows(s, s->n_kv_heads, s->n_kv), &p, why, sizeof why))
		return 0;
	const attn_shape *cs = &c->cache_shape;
	int cached = c->cache_k.buf && cs->batch == s->batch && cs->n_kv_heads == s->n_kv_heads &&
	             cs->head_dim == s->head_dim && attn_head_dim_v(cs) == attn_head_dim_v(s) &&
	             attn_kv_dtype(cs) == attn_kv_dtype(s);
	const uint64_t n_new = vk_tensor_rows(s, s->n_kv_heads, cached ? s->n_q : s->n_kv);
	uint64_t staging = vk_q_bytes(s) + vk_out_bytes(s) + vk_kv_bytes(s, n_new, 0) + vk_kv_bytes(s, n_new, 1);
	return staging + (p.decode ? p.part_bytes : 0) + vk_aux_bytes(s, NULL);
}

static int64_t vk_last_device_ns(void *ctx)
{
	return ((vk_ctx *)ctx)->last_ns;
}

static uint64_t vk_peak_device_bytes(void *ctx)
{
	return ((vk_ctx *)ctx)->peak_bytes;
}

/* The backend table. */
const attn_backend *attn_backend_vulkan(void)
{
	static const attn_backend be = {
	    .abi_version = ATTN_ABI_VERSION,
	    .name = "vulkan",
	    .description =
	        "Vulkan compute: flash attention, split-K decode, device KV cache, paged KV (f32, f16, bf16; "
	        "q8_0, q4_0, fp8 k/v)",
	    .caps = ATTN_CAP_CAUSAL | ATTN_CAP_GQA | ATTN_CAP_KV_CACHE | ATTN_CAP_DEVICE_TIMER | ATTN_CAP_F16 |
	            ATTN_CAP_BF16 | ATTN_CAP_WINDOW | ATTN_CAP_SOFTCAP | ATTN_CAP_ALIBI | ATTN_CAP_SINKS |
	            ATTN_CAP_HEAD_DIM_V | ATTN_CAP_KV_DTYPE | ATTN_CAP_Q8_0 | ATTN_CAP_Q4_0 | ATTN_CAP_FP8 |
	            ATTN_CAP_RAGGED | ATTN_CAP_PAGED,
	    .probe = vk_probe,
	    .list_devices = vk_list_devices,
	    .create = vk_create,
	    .destroy = vk_destroy,
	    .device_name = vk_device_name,
	    .last_error = vk_last_error,
	    .supports = vk_supports,
	    .workspace_bytes = vk_workspace_bytes,
	    .attend = vk_attend,
	    .cache_alloc = vk_cache_alloc,
	    .cache_append = vk_cache_append,
	    .cache_len = vk_cache_len,
	    .cache_truncate = vk_cache_truncate,
	    .prefill = vk_prefill,
	    .decode = vk_decode,
	    .cache_bytes = vk_cache_bytes,
	    .last_device_ns = vk_last_device_ns,
	    .peak_device_bytes = vk_peak_device_bytes,
	    .instance_info = vk_instance_info,
	    .attend_paged = vk_attend_paged,
	};
	return &be;
}
