/*
 * vk_internal.h - what the files of the Vulkan backend share: the instance
 * (vk_ctx) and its buffers, pipelines and settings, the launch plan of a
 * call, and the functions one file defines for the others. Private to
 * impls/vulkan/: the harness sees only impls/builtin.h.
 *
 * The files, in the order an instance uses them:
 *   vk_error.c      VkResult names, the instance's error message, faults
 *                   (timed-out waits, lost devices), validation messages
 *   vk_instance.c   loader, instance, validation layer and debug messenger,
 *                   physical device choice (attn_config.device) with its
 *                   limits and features, logical device; probe, list_devices
 *   vk_plan.c       shader configuration from the device and the parameters;
 *                   launch geometry and the shape checks of supports()
 *   vk_commands.c   command pool and buffer, fence, timestamp pool; recording
 *                   helpers; submission and the bounded wait on the fence
 *   vk_pipeline.c   embedded SPIR-V, descriptor set and pipeline layouts,
 *                   shader modules, pipelines cached per specialisation
 *   vk_memory.c     memory types, buffers and their texel views, staging,
 *                   retry after freeing scratch, the memory check of supports()
 *   vk_attention.c  the calls: attend, the KV cache, prefill and decode,
 *                   attend_paged
 *   vulkan.c        parameters, create and destroy, supports(),
 *                   workspace_bytes(), the attn_backend table
 *
 * Functions shared between the files carry the vk_ prefix; the others are
 * static to their file. Those returning an int status return ATTN_OK or an
 * ATTN_E_* code with the message in vk_ctx.err (vk_set_err, vk_fail).
 */
#ifndef ATTN_VK_INTERNAL_H
#define ATTN_VK_INTERNAL_H

#include "attn_half.h"
#include "attnbench.h"

/* The core API only: no window-system headers, and never this directory's
 * vulkan.h, whatever the include path. */
#define VOLK_VULKAN_H_PATH <vulkan/vulkan_core.h>
#include <volk.h>

#include <stddef.h>
#include <stdint.h>

#define MAX_PIPES  64
#define N_BINDINGS 8 /* q, k, v, out, partials; k and v again as texel buffers; aux */
#define N_STORAGE  5 /* bindings 0 .. 4 are storage buffers, and so is the last */
#define N_SPEC     9 /* specialisation constants, constant_id 0 .. 8 */

#define VK_LOG2E 1.4426950408889634

#define N_DTYPES 6 /* storage types of K and V: ATTN_F32 .. ATTN_FP8_E4M3 */

/* pc.flags, as in common.glsl */
enum { VK_F_ALIBI = 1, VK_F_SINKS = 2, VK_F_RAGGED = 4, VK_F_PAGED = 8 };

/* Shaders: the four that read k and v once per storage type of K and V
 * (kind + SH_KINDS * dtype; q is always f32 on the device), then the
 * split-K reduction, which reads only f32. */
enum { SH_FLASH, SH_FLASH_SG, SH_SPLIT, SH_SPLIT_SG, SH_KINDS, SH_REDUCE = SH_KINDS * N_DTYPES, SH_COUNT };

/* vk_ctx.fault: why the instance stopped using the device. */
enum { FAULT_NONE, FAULT_TIMEOUT, FAULT_LOST };

/* Push constants; must match "Push" in common.glsl. */
struct vk_push {
	uint32_t n_q, n_kv, n_heads, n_kv_heads, group, kv_stride, causal;
	float scale;
	uint32_t n_split, split_len, n_part, pm_off, pl_off;
	uint32_t window;
	float softcap;
	uint32_t flags, alibi_off, sink_off, qlen_off, kvlen_off, bt_off, page_size, max_pages;
};

/* A buffer with its own memory allocation. */
typedef struct vk_buf {
	VkBuffer buf;
	VkDeviceMemory mem;
	VkDeviceSize size;     /* usable bytes */
	VkDeviceSize mem_size; /* bytes of the allocation */
	void *map;             /* host pointer when mapped (staging) */
	VkBufferView view;     /* texel view, made on first use */
	VkFormat view_fmt;     /* its format: RGBA32F, RGBA16F or RGBA16UI */
} vk_buf;

/* A specialised compute pipeline: shader and specialisation constants. */
typedef struct vk_pipe {
	int shader;
	uint32_t spec[N_SPEC];
	VkPipeline pipe;
} vk_pipe;

/* Settings from attn_config.params (see vulkan.h); 0, or -1 for the
 * on/off ones, means the device default. */
typedef struct vk_params {
	int split, timeout_ms, subgroups, texel, mem_mib, storage16;
	int wg, rows, tile_kv, step, dsplit, stage;
	int dec_wg, dec_keys, dec_dsplit, dec_heads, dec_merge;
} vk_params;

typedef struct vk_ctx {
	char err[512];
	char name[VK_MAX_PHYSICAL_DEVICE_NAME_SIZE];
	char info[192]; /* instance_info: API version and the paths chosen */
	vk_params par;
	int fault;                     /* FAULT_*: the instance no longer uses the device */
	char fault_msg[256];           /* the call and result that caused the fault */
	int in_flight;                 /* a submission whose completion was not seen */
	struct vk_ctx *graveyard_next; /* see abandon() in vulkan.c */

	/* instance and validation */
	VkInstance instance;
	VkDebugUtilsMessengerEXT messenger;
	/* volk's global instance functions follow the most recently created
	 * instance and can dangle once that one is gone (its layers are
	 * unloaded), so each instance keeps the ones its teardown needs. */
	PFN_vkDestroyInstance destroy_instance;
	PFN_vkDestroyDebugUtilsMessengerEXT destroy_messenger;
	int validation;
	int val_pending;
	char val_msg[1024];

	/* physical device */
	VkPhysicalDevice phys;
	VkPhysicalDeviceProperties props;
	VkPhysicalDeviceMemoryProperties mem_props;
	VkDeviceSize max_alloc;       /* maxMemoryAllocationSize */
	VkDeviceSize max_buffer;      /* maxBufferSize (Vulkan 1.3), else 0 */
	uint32_t dev_heap, host_heap; /* heaps of device buffers and of staging */
	uint64_t mem_cap;             /* mem_mib in bytes, or 0 */
	uint32_t subgroup_size, min_subgroup_size;
	int use_subgroup;
	int use_texel;          /* read K and V through texel buffer views */
	int texel_ok[N_DTYPES]; /* the texel format of each dtype is usable */
	int cpu_threads;        /* CPU devices: host threads the driver runs on */
	int has_storage16;      /* the device has storageBuffer16BitAccess */
	int has_float16;        /* the device has shaderFloat16 (not used) */
	int storage16;          /* storageBuffer16BitAccess is enabled: f16, bf16 */

	/* device and queue */
	VkDevice device;
	struct VolkDeviceTable vk;
	uint32_t queue_family;
	VkQueue queue;

	/* commands and timing */
	VkCommandPool cmd_pool;
	VkCommandBuffer cmd;
	VkFence fence;
	VkQueryPool query_pool; /* two timestamps, or VK_NULL_HANDLE */
	uint64_t ts_mask;
	double ts_period;
	int64_t last_ns;

	/* descriptors and pipelines */
	VkDescriptorSetLayout set_layout;
	VkPipelineLayout pipe_layout;
	VkDescriptorPool desc_pool;
	VkDescriptorSet set;
	VkShaderModule modules[SH_COUNT];
	vk_pipe pipes[MAX_PIPES];
	int n_pipes;

	/* flash and decode shader configuration */
	int cpu; /* a CPU device (lavapipe, SwiftShader) */
	uint32_t f_wg, f_tile, f_step, f_dsplit, f_stage;
	uint32_t d_wg, d_keys, d_dsplit, d_merge;

	/* buffers */
	vk_buf staging, q, k, v, out, part, aux;
	vk_buf cache_k, cache_v;
	attn_shape cache_shape;
	int64_t cache_cap, cache_len;
	int64_t *seq_len; /* cache length of each sequence (batch of them) */
	uint64_t cur_bytes, peak_bytes;
} vk_ctx;

/* A buffer a call needs, and its size. */
typedef struct vk_want {
	vk_buf *b;
	VkDeviceSize size;
	int host;
} vk_want;

/* Launch geometry of one attention call. */
typedef struct vk_plan {
	int decode;            /* n_q == 1: split-K */
	uint32_t spec[N_SPEC]; /* flash or decode_split specialisation */
	uint32_t groups[3];    /* flash or decode_split workgroups */
	uint32_t n_split;      /* decode: workgroups per query head group */
	uint32_t split_len;    /* decode: keys per workgroup */
	uint32_t n_part;       /* decode: partials per query head */
	VkDeviceSize part_bytes;
} vk_plan;

/* vk_error.c: messages and faults */
const char *vk_result_name(VkResult r);
void vk_fmt_size(char *buf, size_t len, uint64_t bytes);
int vk_set_err(vk_ctx *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vk_mark_fault(vk_ctx *c, int kind);
int vk_fail(vk_ctx *c, const char *what, VkResult r);
const char *vk_call_name(const char *text);
int vk_take_validation(vk_ctx *c, int rc);
int vk_entry_check(vk_ctx *c);

/* Evaluate a Vulkan call; on failure return its attnbench status. */
#define VK_CHECK(c, call)                                                                                              \
	do {                                                                                                           \
		VkResult r_ = (call);                                                                                  \
		if (r_ != VK_SUCCESS)                                                                                  \
			return vk_fail((c), vk_call_name(#call), r_);                                                  \
	} while (0)

/* vk_instance.c: setup of the instance and device */
int vk_probe(char *why, size_t why_len);
void vk_list_devices(char *buf, size_t len);
int vk_setup_instance(vk_ctx *c);
int vk_setup_physical_device(vk_ctx *c, const char *sel);
int vk_setup_device(vk_ctx *c);

/* vk_plan.c: shader configuration and launch geometry */
int vk_setup_config(vk_ctx *c);
int vk_plan_shape(const vk_ctx *c, const attn_shape *s, uint64_t kv_rows, vk_plan *plan, char *why, size_t why_len);
int vk_check_lens(const attn_shape *s, char *why, size_t why_len);

/* vk_commands.c: command buffer, recording, submission */
int vk_setup_commands(vk_ctx *c);
int vk_cmd_begin(vk_ctx *c);
void vk_cmd_barrier(vk_ctx *c, VkPipelineStageFlags src_stage, VkAccessFlags src, VkPipelineStageFlags dst_stage,
                    VkAccessFlags dst);
void vk_cmd_copy(vk_ctx *c, VkBuffer dst, VkDeviceSize dst_off, VkDeviceSize stage_off, VkDeviceSize size);
void vk_cmd_dispatch(vk_ctx *c, VkPipeline pipe, const struct vk_push *pc, const uint32_t groups[3]);
int vk_cmd_submit(vk_ctx *c, int timed);

/* vk_pipeline.c: descriptors, shader modules, pipelines */
int vk_setup_descriptors(vk_ctx *c);
int vk_setup_shaders(vk_ctx *c);
int vk_get_pipeline(vk_ctx *c, int shader, const uint32_t spec[N_SPEC], VkPipeline *out);
int vk_bind_buffers(vk_ctx *c, vk_buf *k, vk_buf *v, attn_dtype t);
void vk_fill_aux(vk_ctx *c, const attn_shape *s, const attn_paged_kv *kv, struct vk_push *pc);
uint64_t vk_aux_bytes(const attn_shape *s, const attn_paged_kv *kv);

/* vk_memory.c: memory, buffers, sizes, staging */
void vk_setup_memory_limits(vk_ctx *c, VkDeviceSize max_alloc, VkDeviceSize max_buffer);
VkFormat vk_texel_format(attn_dtype t);
int vk_buf_create(vk_ctx *c, vk_buf *b, VkDeviceSize size, int host);
int vk_buf_view(vk_ctx *c, vk_buf *b, attn_dtype t);
void vk_buf_free(vk_ctx *c, vk_buf *b);
void vk_release_scratch(vk_ctx *c);
int vk_ensure_bufs(vk_ctx *c, const vk_want *want, size_t n);
uint64_t vk_row_bytes(attn_dtype t, int64_t d);
uint64_t vk_q_bytes(const attn_shape *s);
uint64_t vk_kv_bytes(const attn_shape *s, uint64_t rows, int is_v);
uint64_t vk_out_bytes(const attn_shape *s);
uint64_t vk_tensor_rows(const attn_shape *s, int64_t heads, int64_t n);
int vk_shape_fits(const vk_ctx *c, const attn_shape *s, uint64_t kv_rows, uint64_t new_rows, uint64_t part_bytes,
                  char *why, size_t why_len);
void vk_pack_q(const attn_shape *s, void *dst, const void *src, uint64_t rows);
void vk_pack_kv(const attn_shape *s, void *dst, const void *src, uint64_t rows, int is_v);
void vk_unpack_out(const attn_shape *s, float *dst, const void *src, uint64_t rows);

/* vk_attention.c: the entry points of the attention calls */
int vk_attend(void *ctx, const attn_shape *s, const void *q, const void *k, const void *v, float *out);
int vk_cache_alloc(void *ctx, const attn_shape *s);
int vk_cache_append(void *ctx, const void *k_new, const void *v_new, int64_t n);
int64_t vk_cache_len(void *ctx);
int vk_cache_truncate(void *ctx, int64_t len);
int vk_prefill(void *ctx, const attn_shape *s, const void *q, const void *k_new, const void *v_new, float *out);
int vk_decode(void *ctx, const attn_shape *s, const void *q, const void *k_new, const void *v_new, float *out);
uint64_t vk_cache_bytes(void *ctx);
int vk_attend_paged(void *ctx, const attn_shape *s, const void *q, const attn_paged_kv *kv, float *out);

#endif
