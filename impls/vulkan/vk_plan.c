/*
 * vk_plan.c - shader configuration and launch geometry: workgroup sizes,
 * tiles and lane splits from the device and the parameters (setup step 3),
 * and, for each shape, the specialisation constants and workgroup counts of
 * its dispatches, the split-K partition of decode, and the reasons a shape
 * is not supported other than memory (vk_plan_shape).
 */
#include "vk_internal.h"

#include "attn_quant.h"

#include <stdio.h>
#include <string.h>

/* Largest power of two <= x (x >= 1). */
static uint32_t pow2_floor(uint32_t x)
{
	uint32_t p = 1;
	while (p * 2 <= x)
		p *= 2;
	return p;
}

/* Step 3: shader configuration from the device and the parameters. */
int vk_setup_config(vk_ctx *c)
{
	const VkPhysicalDeviceLimits *lim = &c->props.limits;
	const int cpu = c->cpu = c->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
	uint32_t max_wg = lim->maxComputeWorkGroupInvocations < lim->maxComputeWorkGroupSize[0]
	                      ? lim->maxComputeWorkGroupInvocations
	                      : lim->maxComputeWorkGroupSize[0];
	max_wg = pow2_floor(max_wg);
	uint32_t sg_dsplit = c->use_subgroup ? (c->min_subgroup_size < 8 ? c->min_subgroup_size : 8) : 1;

	for (int t = 0; t < N_DTYPES; t++) {
		VkFormatProperties fp;
		vkGetPhysicalDeviceFormatProperties(c->phys, vk_texel_format((attn_dtype)t), &fp);
		c->texel_ok[t] =
		    c->par.texel && t <= ATTN_BF16 && (fp.bufferFeatures & VK_FORMAT_FEATURE_UNIFORM_TEXEL_BUFFER_BIT);
	}
	c->use_texel = c->texel_ok[ATTN_F32];

	/* CPU devices run a workgroup's lanes as SIMD vectors on one thread, and
	 * every memory or cross-lane operation becomes a loop over the lanes:
	 * there the flash shader reads K/V through texel fetches instead of a
	 * shared tile, one lane owns each row, and decode workgroups are one
	 * subgroup whose lanes write their own partials. */
	c->f_wg = c->par.wg ? (uint32_t)c->par.wg : (cpu ? 64 : 128);
	c->f_tile = c->par.tile_kv ? (uint32_t)c->par.tile_kv : 32;
	c->f_step = c->par.step ? (uint32_t)c->par.step : (cpu ? 1 : 4);
	c->f_dsplit = c->par.dsplit ? (uint32_t)c->par.dsplit : (cpu ? 1 : sg_dsplit);
	c->f_stage = c->par.stage >= 0 ? (uint32_t)c->par.stage : !(cpu && c->use_texel);
	c->d_merge = c->use_subgroup && (c->par.dec_merge >= 0 ? c->par.dec_merge : !cpu);
	c->d_wg = c->par.dec_wg ? (uint32_t)c->par.dec_wg : cpu ? (c->subgroup_size > 8 ? c->subgroup_size : 8) : 128;
	/* keys per lane and step: more where decode_keys() finds room */
	c->d_keys = c->par.dec_keys ? (uint32_t)c->par.dec_keys : (cpu ? 2 : 1);
	c->d_dsplit = c->par.dec_dsplit ? (uint32_t)c->par.dec_dsplit : (c->d_merge ? sg_dsplit : 1);

	if (c->f_wg > max_wg || c->d_wg > max_wg)
		return vk_set_err(c, ATTN_E_INVALID, "workgroup size above the device limit of %u", max_wg);
	if ((c->f_dsplit > 1 || c->d_dsplit > 1) && !c->use_subgroup)
		return vk_set_err(c, ATTN_E_INVALID, "dsplit > 1 needs subgroup shuffles, which are %s",
		                  c->par.subgroups ? "not supported by this device" : "disabled (subgroups=0)");
	if (c->d_dsplit > 1 && !c->d_merge)
		return vk_set_err(c, ATTN_E_INVALID, "dec_dsplit > 1 needs dec_merge=1");
	if (c->par.dec_merge == 1 && !c->use_subgroup)
		return vk_set_err(c, ATTN_E_INVALID, "dec_merge=1 needs subgroup operations");
	if (c->f_dsplit > c->min_subgroup_size || c->d_dsplit > c->min_subgroup_size)
		return vk_set_err(c, ATTN_E_INVALID, "dsplit above the subgroup size %u", c->min_subgroup_size);
	if (c->f_dsplit > c->f_wg || c->d_dsplit > c->d_wg)
		return vk_set_err(c, ATTN_E_INVALID, "dsplit above the workgroup size");
	if (c->d_merge && c->d_wg < c->subgroup_size)
		return vk_set_err(c, ATTN_E_INVALID, "dec_wg below the subgroup size %u", c->subgroup_size);
	if (c->f_step > c->f_tile)
		c->f_step = c->f_tile;
	return ATTN_OK;
}

/* Flash tile: keys per shared tile fitting the device's shared memory. */
static uint32_t flash_tile(const vk_ctx *c, uint32_t d, uint32_t dv)
{
	uint32_t ks = ((d + 3) / 4 + c->f_dsplit - 1) / c->f_dsplit * c->f_dsplit;
	uint32_t ksv = ((dv + 3) / 4 + c->f_dsplit - 1) / c->f_dsplit * c->f_dsplit;
	uint32_t fit = c->props.limits.maxComputeSharedMemorySize / (16 * (ks + ksv));
	uint32_t bc = c->f_tile < fit ? c->f_tile : fit;
	if (bc >= c->f_step)
		bc -= bc % c->f_step;
	return bc ? bc : 1;
}

/* Per-lane register budget, in floats, of the row/head state a shader keeps
 * (queries and accumulators): past it, compile time on CPU devices grows
 * much faster than the speed does. */
static uint32_t lane_budget(const vk_ctx *c, uint32_t d, uint32_t dsplit)
{
	uint32_t per = ((d + 3) / 4 + dsplit - 1) / dsplit * 4;
	uint32_t n = (c->cpu ? 256 : 64) / per;
	return n < 1 ? 1 : n > 8 ? 8 : n;
}

/* Flash rows per lane: rows=N, else what the register budget allows. */
static uint32_t flash_rows(const vk_ctx *c, uint32_t d)
{
	return c->par.rows ? (uint32_t)c->par.rows : lane_budget(c, d, c->f_dsplit);
}

/* Decode's keys per lane and softmax step, hg heads of dmax values per
 * workgroup. On a CPU device up to 8 for K/V in f32 or 16 bits: more
 * independent dot products for its SIMD loops to overlap, and the
 * accumulators rescaled every few keys instead of every 2 (lavapipe on the
 * 2-CPU AVX-512 VM, decode of 8 heads / 2 KV heads, d128, 16k keys, cold,
 * medians of 5 rounds in turn: 4.2 GB/s with 4 or 8 keys against 3.2 with
 * 2; d64 and d256, 8 and 32 heads, 1k and 16k keys as fast or faster in 7
 * of 8). The shader unrolls keys x heads x vec4s of a row, and lavapipe's
 * compile time grows with it, so the keys are halved while that product
 * passes 1024 (8 keys of head_dim 576, 1152, took over 30 s to compile;
 * it gets 4). At 1024 against a budget of 512, on the same VM, cold,
 * rounds in turn: 8 heads / 2 KV heads at d128 (8 keys, not 4) read 4.34
 * against 3.66 GB/s (faster in 5 of 6), d256 (8, not 4) 1.13-1.28x in 3 of
 * 3, d576 with one head per group (4, not 2) 1.04-1.09x in 3 of 3; 32
 * heads / 4 KV heads at d64 and d128 (8, not 4) within noise; each
 * pipeline that changes took 0.6-2.2 s more to compile (once: Mesa keeps
 * it on disk), the 74 golden cases no longer. A quantized cache, whose
 * dequantization is inlined in each key, keeps 2. */
static uint32_t decode_keys(const vk_ctx *c, attn_dtype kt, uint32_t dmax, uint32_t hg)
{
	if (!c->cpu || c->par.dec_keys || (kt != ATTN_F32 && kt != ATTN_F16 && kt != ATTN_BF16))
		return c->d_keys;
	const uint32_t per = ((dmax + 3) / 4 + c->d_dsplit - 1) / c->d_dsplit; /* vec4s of a row per lane */
	uint32_t keys = 8; /* halved down to d_keys (2) at the least */
	while (keys > c->d_keys && keys * hg * per > 1024)
		keys /= 2;
	return keys;
}

/* Largest divisor of g not above cap. */
static uint32_t divisor_at_most(uint32_t g, uint32_t cap)
{
	for (uint32_t h = cap < g ? cap : g; h > 1; h--)
		if (g % h == 0)
			return h;
	return 1;
}

/* Decode: number of workgroups per query head group, from the cache
 * length and how many workgroups fill the device (or split=N). */
static uint32_t choose_split(const vk_ctx *c, uint32_t n_kv, uint32_t other_groups)
{
	uint32_t n;
	if (c->par.split > 0) {
		n = (uint32_t)c->par.split;
	} else {
		int cpu = c->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
		uint32_t target = cpu ? 4 * (uint32_t)c->cpu_threads : 512;
		uint32_t min_keys = cpu ? 1024 : 256;
		n = (target + other_groups - 1) / other_groups;
		uint32_t most = (n_kv + min_keys - 1) / min_keys;
		if (n > most)
			n = most;
	}
	if (n > n_kv)
		n = n_kv;
	if (n > c->props.limits.maxComputeWorkGroupCount[0])
		n = c->props.limits.maxComputeWorkGroupCount[0];
	return n ? n : 1;
}

/* The ragged lengths and variant fields of s are within their ranges;
 * else 0 and why (a caller's error: ATTN_E_INVALID in a call). */
int vk_check_lens(const attn_shape *s, char *why, size_t why_len)
{
	if (s->window < 0 || !(s->softcap >= 0) || s->head_dim_v < 0) {
		snprintf(why, why_len, "window, softcap and head_dim_v must not be negative");
		return 0;
	}
	for (int64_t b = 0; (s->q_lens || s->kv_lens) && b < s->batch; b++) {
		const int64_t nq = s->q_lens ? s->q_lens[b] : s->n_q, nkv = s->kv_lens ? s->kv_lens[b] : s->n_kv;
		if (nq < 0 || nq > s->n_q || nkv < 0 || nkv > s->n_kv || (s->causal && nq > nkv)) {
			snprintf(why, why_len,
			         "sequence %lld: q_lens %lld and kv_lens %lld must be within n_q %lld and n_kv %lld%s",
			         (long long)b, (long long)nq, (long long)nkv, (long long)s->n_q, (long long)s->n_kv,
			         s->causal ? ", q_lens <= kv_lens (causal)" : "");
			return 0;
		}
	}
	return 1;
}

/* What the shaders cannot run, other than sizes: storage types, head sizes. */
static int check_kinds(const vk_ctx *c, const attn_shape *s, char *why, size_t why_len)
{
	const attn_dtype kt = attn_kv_dtype(s);
	const int64_t dv = attn_head_dim_v(s);
	if (!attn_dtype_known(s->dtype) || !attn_kv_dtype_known(kt)) {
		snprintf(why, why_len, "unknown storage dtype %d / kv_storage %d", (int)s->dtype, (int)s->kv_storage);
		return 0;
	}
	if ((kt == ATTN_F16 || kt == ATTN_BF16) && !c->storage16) {
		/* not "needs ...": that is how a shape too large for the device reads */
		snprintf(why, why_len,
		         "%s storage needs storageBuffer16BitAccess (VK_KHR_16bit_storage), which %s lacks%s",
		         kt == ATTN_F16 ? "f16" : "bf16", c->name, c->has_storage16 ? " (storage16=0)" : "");
		return 0;
	}
	if (s->head_dim < 1 || s->head_dim > 576 || dv < 1 || dv > 576) {
		snprintf(why, why_len, "head_dim %lld and head_dim_v %lld must be within 1..576",
		         (long long)s->head_dim, (long long)dv);
		return 0;
	}
	if (attn_dtype_blocked(kt) && (s->head_dim % ATTN_QBLOCK || dv % ATTN_QBLOCK)) {
		snprintf(why, why_len, "%s storage requires head_dim and head_dim_v multiples of 32",
		         attn_kv_dtype_name(kt));
		return 0;
	}
	return vk_check_lens(s, why, why_len);
}

/* Check the shape against what the backend and device support; fill the
 * plan when plan is not NULL. kv_rows: rows of K (and V) the call binds.
 * Returns 1 if supported, else 0 and why. */
int vk_plan_shape(const vk_ctx *c, const attn_shape *s, uint64_t kv_rows, vk_plan *plan, char *why, size_t why_len)
{
	const VkPhysicalDeviceLimits *lim = &c->props.limits;
	if (!check_kinds(c, s, why, why_len))
		return 0;
	if (s->batch < 1 || s->n_heads < 1 || s->n_kv_heads < 1 || s->n_q < 1 || s->n_kv < 1) {
		snprintf(why, why_len, "batch, heads, n_q and n_kv must be at least 1");
		return 0;
	}
	if (s->n_heads % s->n_kv_heads != 0) {
		snprintf(why, why_len, "n_heads must be a multiple of n_kv_heads");
		return 0;
	}
	if (s->causal && s->n_q > s->n_kv) {
		snprintf(why, why_len, "causal needs n_q <= n_kv");
		return 0;
	}
	/* Shaders index with 32-bit integers (bytes for the block formats);
	 * bound buffers must fit the device range: q and out f32, k and v as
	 * stored. */
	const attn_dtype kt = attn_kv_dtype(s);
	const int64_t dv = attn_head_dim_v(s), dmax = dv > s->head_dim ? dv : s->head_dim;
	const double elems_q = (double)s->batch * (double)s->n_heads * (double)s->n_q * (double)((dmax + 3) / 4 * 4);
	const double bytes_kv = (double)(vk_row_bytes(kt, dmax)) * (double)kv_rows;
	const double elems_kv = attn_dtype_blocked(kt) ? bytes_kv : (double)kv_rows * (double)((dmax + 3) / 4 * 4);
	const double range = (double)lim->maxStorageBufferRange;
	const double bytes_q = elems_q * 4;
	char need[32], most[32];
	vk_fmt_size(most, sizeof most, lim->maxStorageBufferRange);
	if (bytes_q > range || bytes_kv > range) {
		vk_fmt_size(need, sizeof need, (uint64_t)(bytes_q > bytes_kv ? bytes_q : bytes_kv));
		snprintf(why, why_len, "needs a buffer of %s, the device allows %s (maxStorageBufferRange)", need,
		         most);
		return 0;
	}
	if (elems_q >= 4294967296.0 || elems_kv >= 4294967296.0) {
		snprintf(why, why_len, "tensors of 2^32 floats or more (the shaders index with 32 bits)");
		return 0;
	}
	const uint32_t d = (uint32_t)s->head_dim, g = (uint32_t)(s->n_heads / s->n_kv_heads);
	const uint32_t texel = c->texel_ok[kt] && elems_kv / 4 <= lim->maxTexelBufferElements;
	const uint32_t rows = flash_rows(c, (uint32_t)dmax), stage = c->f_stage || !texel;
	const double rows_wg = (double)(c->f_wg / c->f_dsplit) * rows;
	vk_plan p = {.decode = s->n_q == 1};
	if (!p.decode) {
		double gx = ((double)s->n_q * g + rows_wg - 1) / rows_wg;
		if (gx > lim->maxComputeWorkGroupCount[0] || s->n_kv_heads > lim->maxComputeWorkGroupCount[1] ||
		    s->batch > lim->maxComputeWorkGroupCount[2]) {
			snprintf(why, why_len, "more workgroups than the device can launch");
			return 0;
		}
		const uint32_t tile = flash_tile(c, d, (uint32_t)dv);
		const uint32_t step = c->f_step < tile ? c->f_step : tile;
		uint32_t spec[N_SPEC] = {c->f_wg, d, rows, tile, step, c->f_dsplit, stage, texel, (uint32_t)dv};
		memcpy(p.spec, spec, sizeof spec);
		p.groups[0] = (uint32_t)gx;
		p.groups[1] = (uint32_t)s->n_kv_heads;
		p.groups[2] = (uint32_t)s->batch;
	} else {
		uint32_t cap = c->par.dec_heads ? (uint32_t)c->par.dec_heads
		                                : (c->cpu ? 2 : 1) * lane_budget(c, (uint32_t)dmax, c->d_dsplit);
		uint32_t hg = divisor_at_most(g, cap);
		uint32_t n_grp = c->d_merge ? c->d_wg / c->min_subgroup_size : c->d_wg;
		if (n_grp == 0)
			n_grp = 1;
		double gy = (double)s->n_kv_heads * (g / hg);
		if (gy > lim->maxComputeWorkGroupCount[1] || s->batch > lim->maxComputeWorkGroupCount[2] ||
		    s->n_heads > lim->maxComputeWorkGroupCount[0]) {
			snprintf(why, why_len, "more workgroups than the device can launch");
			return 0;
		}
		/* the keys a query may see: at most the window */
		const int64_t n_vis = s->window > 0 && s->window < s->n_kv ? s->window : s->n_kv;
		p.n_split = choose_split(c, (uint32_t)n_vis, (uint32_t)gy * (uint32_t)s->batch);
		p.split_len = (uint32_t)((n_vis + p.n_split - 1) / p.n_split);
		p.n_split = (uint32_t)((n_vis + p.split_len - 1) / p.split_len);
		p.n_part = p.n_split * n_grp;
		double parts = (double)s->batch * (double)s->n_heads * p.n_part;
		double floats = parts * (double)((dv + 3) / 4 * 4) + 2 * parts;
		if (floats * 4 > range || floats >= 4294967296.0) {
			vk_fmt_size(need, sizeof need, (uint64_t)(floats * 4));
			snprintf(why, why_len,
			         "needs a buffer of %s for the split-K partials, the device allows %s "
			         "(maxStorageBufferRange)",
			         need, most);
			return 0;
		}
		p.part_bytes = (VkDeviceSize)(floats * 4);
		uint32_t spec[N_SPEC] = {
		    c->d_wg, d, hg, decode_keys(c, kt, (uint32_t)dmax, hg), c->d_dsplit, 0, 0, texel, (uint32_t)dv};
		memcpy(p.spec, spec, sizeof spec);
		p.groups[0] = p.n_split;
		p.groups[1] = (uint32_t)gy;
		p.groups[2] = (uint32_t)s->batch;
	}
	if (plan)
		*plan = p;
	return 1;
}
