/*
 * vulkan.c - the Vulkan compute backend of attnbench (see vulkan.h).
 *
 * Setup, in the order create() runs it:
 *   loader       volkInitialize (dlopen of libvulkan.so.1)
 *   instance     Vulkan 1.1+, optional validation layer and debug messenger
 *   device       physical device choice, one compute queue
 *   commands     command pool, one command buffer, a fence, a timestamp pool
 *   descriptors  one set layout: five storage buffers (q, k, v, out,
 *                split-K partials) and K and V again as texel buffers; a
 *                pipeline layout with push constants
 *   shaders      SPIR-V embedded at build time, the shaders that read q, k
 *                and v once per storage type; pipelines are specialised
 *                per head_dim (and tile sizes) on first use and cached
 * Buffers are created on demand and grown: device-local q, k, v, out and
 * partial buffers, a host-visible staging buffer, and the KV cache. On the
 * device every row of head_dim elements is padded with zeros to a multiple
 * of 4, so that shaders only move 4-vectors; the host packs and unpacks.
 *
 * Storage types: q, k, v and the cache are held in the shape's dtype (f32,
 * or f16 and bf16 at 2 bytes an element, which need storageBuffer16BitAccess
 * of VK_KHR_16bit_storage, core in Vulkan 1.1 but optional); the shaders
 * widen what they load to f32 and compute in f32, and out and the split-K
 * partials are always f32. Every size below follows the element size.
 *
 * Every call records one command buffer: copies from staging, a barrier,
 * a timestamp, the dispatches, a timestamp, a barrier, the copy of out
 * back to staging; then submits it and waits on the fence.
 *
 * Faults. No wait on the device is unbounded: the fence wait has a limit
 * (timeout_ms), nothing else waits. A wait that times out, or a
 * VK_ERROR_DEVICE_LOST from any call, marks the instance faulty: every later
 * call fails at once with the first fault's message and never touches the
 * device again, and destroy() leaves the device's objects allocated when the
 * last submission may still be running (see vk_destroy). Device memory is
 * judged before anything is allocated (shape_fits): a shape whose buffers
 * exceed the device's buffer or allocation limits or its memory heap is not
 * supported, with a reason that starts with "needs ". An allocation that
 * fails anyway is an ATTN_E_NOMEM error; the instance frees its scratch
 * buffers, retries once, and stays usable for smaller shapes.
 */
#include "vulkan.h"

#include "attn_half.h"

/* The core API only: no window-system headers, and never this directory's
 * vulkan.h, whatever the include path. */
#define VOLK_VULKAN_H_PATH <vulkan/vulkan_core.h>
#include <volk.h>

#include <ctype.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* SPIR-V of the shaders, compiled from impls/vulkan/\*.comp by the build
 * (static analysers, which do not run the build, see empty stand-ins). */
#if __has_include("flash_attn.spv.inc")
static const uint32_t spv_flash[] =
#include "flash_attn.spv.inc"
    ;
static const uint32_t spv_flash_sg[] =
#include "flash_attn_sg.spv.inc"
    ;
static const uint32_t spv_split[] =
#include "decode_split.spv.inc"
    ;
static const uint32_t spv_split_sg[] =
#include "decode_split_sg.spv.inc"
    ;
static const uint32_t spv_reduce[] =
#include "decode_reduce.spv.inc"
    ;
static const uint32_t spv_flash_f16[] =
#include "flash_attn_f16.spv.inc"
    ;
static const uint32_t spv_flash_sg_f16[] =
#include "flash_attn_sg_f16.spv.inc"
    ;
static const uint32_t spv_split_f16[] =
#include "decode_split_f16.spv.inc"
    ;
static const uint32_t spv_split_sg_f16[] =
#include "decode_split_sg_f16.spv.inc"
    ;
static const uint32_t spv_flash_bf16[] =
#include "flash_attn_bf16.spv.inc"
    ;
static const uint32_t spv_flash_sg_bf16[] =
#include "flash_attn_sg_bf16.spv.inc"
    ;
static const uint32_t spv_split_bf16[] =
#include "decode_split_bf16.spv.inc"
    ;
static const uint32_t spv_split_sg_bf16[] =
#include "decode_split_sg_bf16.spv.inc"
    ;
#elif defined(__CPPCHECK__)
static const uint32_t spv_flash[1], spv_flash_sg[1], spv_split[1], spv_split_sg[1], spv_reduce[1];
static const uint32_t spv_flash_f16[1], spv_flash_sg_f16[1], spv_split_f16[1], spv_split_sg_f16[1];
static const uint32_t spv_flash_bf16[1], spv_flash_sg_bf16[1], spv_split_bf16[1], spv_split_sg_bf16[1];
#else
#error "the SPIR-V headers are missing: build with the Makefile (impls/vulkan/vulkan.mk)"
#endif

#define LOG2E            1.4426950408889634
#define MAX_PIPES        64
#define N_BINDINGS       7 /* q, k, v, out, partials; k and v again as texel buffers */
#define N_STORAGE        5 /* bindings 0 .. 4 are storage buffers */
#define N_SPEC           8 /* specialisation constants, constant_id 0 .. 7 */
#define VALIDATION_LAYER "VK_LAYER_KHRONOS_validation"
#define TIMEOUT_MS_MAX   3600000 /* an hour */

#define N_DTYPES 3 /* ATTN_F32, ATTN_F16, ATTN_BF16 */

/* Shaders: the four that read q, k and v once per storage type (kind +
 * SH_KINDS * dtype), then the split-K reduction, which reads only f32. */
enum { SH_FLASH, SH_FLASH_SG, SH_SPLIT, SH_SPLIT_SG, SH_KINDS, SH_REDUCE = SH_KINDS * N_DTYPES, SH_COUNT };

/* vk_ctx.fault: why the instance stopped using the device. */
enum { FAULT_NONE, FAULT_TIMEOUT, FAULT_LOST };

/* Push constants; must match "Push" in common.glsl. */
struct vk_push {
	uint32_t n_q, n_kv, n_heads, n_kv_heads, group, kv_stride, causal;
	float scale;
	uint32_t n_split, split_len, n_part, pm_off, pl_off;
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
	vk_params par;
	int fault;                     /* FAULT_*: the instance no longer uses the device */
	char fault_msg[256];           /* the call and result that caused the fault */
	int in_flight;                 /* a submission whose completion was not seen */
	struct vk_ctx *graveyard_next; /* see abandon() */

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
	vk_buf staging, q, k, v, out, part;
	vk_buf cache_k, cache_v;
	attn_shape cache_shape;
	int64_t cache_cap, cache_len;
	uint64_t cur_bytes, peak_bytes;
} vk_ctx;

/* ------------------------------------------------------------------ */
/* Errors */

/* Name of a VkResult, as in the Vulkan headers. */
static const char *vk_result_name(VkResult r)
{
	switch (r) {
#define R(x)                                                                                                           \
	case x:                                                                                                        \
		return #x
		R(VK_SUCCESS);
		R(VK_NOT_READY);
		R(VK_TIMEOUT);
		R(VK_EVENT_SET);
		R(VK_EVENT_RESET);
		R(VK_INCOMPLETE);
		R(VK_ERROR_OUT_OF_HOST_MEMORY);
		R(VK_ERROR_OUT_OF_DEVICE_MEMORY);
		R(VK_ERROR_INITIALIZATION_FAILED);
		R(VK_ERROR_DEVICE_LOST);
		R(VK_ERROR_MEMORY_MAP_FAILED);
		R(VK_ERROR_LAYER_NOT_PRESENT);
		R(VK_ERROR_EXTENSION_NOT_PRESENT);
		R(VK_ERROR_FEATURE_NOT_PRESENT);
		R(VK_ERROR_INCOMPATIBLE_DRIVER);
		R(VK_ERROR_TOO_MANY_OBJECTS);
		R(VK_ERROR_FORMAT_NOT_SUPPORTED);
		R(VK_ERROR_FRAGMENTED_POOL);
		R(VK_ERROR_UNKNOWN);
		R(VK_ERROR_OUT_OF_POOL_MEMORY);
		R(VK_ERROR_INVALID_EXTERNAL_HANDLE);
		R(VK_ERROR_FRAGMENTATION);
		R(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS);
		R(VK_PIPELINE_COMPILE_REQUIRED);
		R(VK_ERROR_SURFACE_LOST_KHR);
		R(VK_ERROR_NATIVE_WINDOW_IN_USE_KHR);
		R(VK_SUBOPTIMAL_KHR);
		R(VK_ERROR_OUT_OF_DATE_KHR);
		R(VK_ERROR_INCOMPATIBLE_DISPLAY_KHR);
		R(VK_ERROR_VALIDATION_FAILED_EXT);
		R(VK_ERROR_INVALID_SHADER_NV);
#undef R
	default:
		return "VK_RESULT_UNKNOWN";
	}
}

/* A byte count for messages: "300.00 MiB", "3.20 GiB". */
static void fmt_size(char *buf, size_t len, uint64_t bytes)
{
	const double b = (double)bytes;
	if (bytes >= (1ull << 30))
		snprintf(buf, len, "%.2f GiB", b / (1ull << 30));
	else if (bytes >= (1ull << 20))
		snprintf(buf, len, "%.2f MiB", b / (1ull << 20));
	else
		snprintf(buf, len, "%.2f KiB", b / (1ull << 10));
}

/* Format the instance's error message; returns code. */
static int set_err(vk_ctx *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int set_err(vk_ctx *c, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
	return code;
}

/* Mark the instance faulty (a timed-out wait or a lost device) with the
 * message of the call that found it, already in c->err; the first fault
 * stays. From now on no entry point touches the device (entry_check). */
static int mark_fault(vk_ctx *c, int kind)
{
	if (!c->fault) {
		c->fault = kind;
		const size_t n = strnlen(c->err, sizeof c->fault_msg - 1);
		memcpy(c->fault_msg, c->err, n);
		c->fault_msg[n] = 0;
	}
	return ATTN_E_DEVICE;
}

/* Record a failed Vulkan call as "what: VK_ERROR_..." and map it to an
 * attnbench status: memory exhaustion is ATTN_E_NOMEM, the rest ATTN_E_DEVICE;
 * VK_ERROR_DEVICE_LOST also marks the instance faulty. */
static int vk_fail(vk_ctx *c, const char *what, VkResult r)
{
	int code = ATTN_E_DEVICE;
	if (r == VK_ERROR_OUT_OF_HOST_MEMORY || r == VK_ERROR_OUT_OF_DEVICE_MEMORY ||
	    r == VK_ERROR_OUT_OF_POOL_MEMORY || r == VK_ERROR_FRAGMENTED_POOL || r == VK_ERROR_FRAGMENTATION)
		code = ATTN_E_NOMEM;
	set_err(c, code, "%s: %s", what, vk_result_name(r));
	if (r == VK_ERROR_DEVICE_LOST)
		return mark_fault(c, FAULT_LOST);
	return code;
}

/* Evaluate a Vulkan call; on failure return its attnbench status. */
#define VK_CHECK(c, call)                                                                                              \
	do {                                                                                                           \
		VkResult r_ = (call);                                                                                  \
		if (r_ != VK_SUCCESS)                                                                                  \
			return vk_fail((c), vk_call_name(#call), r_);                                                  \
	} while (0)

/* "vkQueueSubmit" from the text "c->vk.vkQueueSubmit(c->queue, ...)". */
static const char *vk_call_name(const char *text)
{
	static __thread char name[64];
	const char *p = strstr(text, "vk");
	while (p && p[2] && !isupper((unsigned char)p[2]))
		p = strstr(p + 2, "vk");
	if (!p)
		p = text;
	size_t n = strcspn(p, "( ");
	if (n >= sizeof name)
		n = sizeof name - 1;
	memcpy(name, p, n);
	name[n] = 0;
	return name;
}

/* A validation message arrived since the last check: fail with it once. */
static int take_validation(vk_ctx *c, int rc)
{
	if (!c->val_pending)
		return rc;
	c->val_pending = 0;
	set_err(c, ATTN_E_DEVICE, "validation: %s", c->val_msg);
	return ATTN_E_DEVICE;
}

/* Debug messenger: print warnings and errors and keep the first pending one. */
static VKAPI_ATTR VkBool32 VKAPI_CALL debug_callback(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                     VkDebugUtilsMessageTypeFlagsEXT types,
                                                     const VkDebugUtilsMessengerCallbackDataEXT *data, void *user)
{
	vk_ctx *c = user;
	(void)types;
	if (severity < VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT)
		return VK_FALSE;
	const char *msg = data && data->pMessage ? data->pMessage : "(no message)";
	fprintf(stderr, "vulkan validation: %s\n", msg);
	if (c && !c->val_pending) {
		snprintf(c->val_msg, sizeof c->val_msg, "%s", msg);
		c->val_pending = 1;
	}
	return VK_FALSE;
}

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
/* Loader and instance */

/* Open the Vulkan loader once per process: libvulkan.so.1, or the library
 * named by ATTNBENCH_VK_LOADER (another loader build, or a path that does not
 * exist to see how attnbench behaves on a machine without one). */
static VkResult loader_init(void)
{
	static int state; /* 0 untried, 1 loaded, -1 failed */
	if (state == 0) {
		const char *path = getenv("ATTNBENCH_VK_LOADER");
		if (path && *path) {
			void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
			PFN_vkGetInstanceProcAddr gipa =
			    lib ? (PFN_vkGetInstanceProcAddr)dlsym(lib, "vkGetInstanceProcAddr") : NULL;
			if (gipa)
				volkInitializeCustom(gipa);
			state = gipa ? 1 : -1;
		} else {
			state = volkInitialize() == VK_SUCCESS ? 1 : -1;
		}
	}
	return state == 1 ? VK_SUCCESS : VK_ERROR_INITIALIZATION_FAILED;
}

/* Is the named instance layer installed? */
static int have_instance_layer(const char *name)
{
	uint32_t n = 0;
	if (vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS || n == 0)
		return 0;
	VkLayerProperties *l = calloc(n, sizeof *l);
	int found = 0;
	if (l && vkEnumerateInstanceLayerProperties(&n, l) == VK_SUCCESS)
		for (uint32_t i = 0; i < n && !found; i++)
			found = strcmp(l[i].layerName, name) == 0;
	free(l);
	return found;
}

/* Is the named instance extension available (from the loader, or from layer)? */
static int have_instance_ext(const char *layer, const char *name)
{
	uint32_t n = 0;
	if (vkEnumerateInstanceExtensionProperties(layer, &n, NULL) != VK_SUCCESS || n == 0)
		return 0;
	VkExtensionProperties *e = calloc(n, sizeof *e);
	int found = 0;
	if (e && vkEnumerateInstanceExtensionProperties(layer, &n, e) == VK_SUCCESS)
		for (uint32_t i = 0; i < n && !found; i++)
			found = strcmp(e[i].extensionName, name) == 0;
	free(e);
	return found;
}

/* The instance API version to ask for: what the loader offers, up to 1.3. */
static uint32_t instance_api_version(void)
{
	uint32_t v = VK_API_VERSION_1_0;
	if (vkEnumerateInstanceVersion && vkEnumerateInstanceVersion(&v) != VK_SUCCESS)
		v = VK_API_VERSION_1_0;
	return v > VK_API_VERSION_1_3 ? VK_API_VERSION_1_3 : v;
}

/* Create a Vulkan instance; with debug set, enable the validation layer
 * and chain the messenger so that instance creation is covered too. */
static VkResult instance_create(const VkDebugUtilsMessengerCreateInfoEXT *debug, VkInstance *out)
{
	const char *layers[1] = {VALIDATION_LAYER};
	const char *exts[2];
	uint32_t n_ext = 0;
	VkInstanceCreateFlags flags = 0;
	if (have_instance_ext(NULL, VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME)) {
		exts[n_ext++] = VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME;
		flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
	}
	if (debug)
		exts[n_ext++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
	VkApplicationInfo app = {
	    .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
	    .pApplicationName = "attnbench",
	    .applicationVersion = 1,
	    .pEngineName = "attnbench",
	    .engineVersion = 1,
	    .apiVersion = instance_api_version(),
	};
	VkInstanceCreateInfo ci = {
	    .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
	    .pNext = debug,
	    .flags = flags,
	    .pApplicationInfo = &app,
	    .enabledLayerCount = debug ? 1 : 0,
	    .ppEnabledLayerNames = debug ? layers : NULL,
	    .enabledExtensionCount = n_ext,
	    .ppEnabledExtensionNames = n_ext ? exts : NULL,
	};
	VkResult r = vkCreateInstance(&ci, NULL, out);
	if (r == VK_SUCCESS)
		volkLoadInstanceOnly(*out);
	return r;
}

/* Physical devices of an instance (malloc'd array, count in *n). */
static VkResult physical_devices(VkInstance inst, VkPhysicalDevice **out, uint32_t *n)
{
	*out = NULL;
	*n = 0;
	VkResult r = vkEnumeratePhysicalDevices(inst, n, NULL);
	if (r != VK_SUCCESS || *n == 0)
		return r;
	*out = calloc(*n, sizeof **out);
	if (!*out)
		return VK_ERROR_OUT_OF_HOST_MEMORY;
	r = vkEnumeratePhysicalDevices(inst, n, *out);
	if (r == VK_INCOMPLETE)
		r = VK_SUCCESS;
	return r;
}

/* Index of a queue family with compute (preferring compute-only), or -1. */
static int compute_queue_family(VkPhysicalDevice pd)
{
	uint32_t n = 0;
	vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, NULL);
	VkQueueFamilyProperties *q = calloc(n ? n : 1, sizeof *q);
	if (!q)
		return -1;
	vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, q);
	int best = -1;
	for (uint32_t i = 0; i < n; i++) {
		if (!(q[i].queueFlags & VK_QUEUE_COMPUTE_BIT) || q[i].queueCount == 0)
			continue;
		if (best < 0 || !(q[i].queueFlags & VK_QUEUE_GRAPHICS_BIT))
			best = (int)i;
		if (!(q[i].queueFlags & VK_QUEUE_GRAPHICS_BIT))
			break;
	}
	free(q);
	return best;
}

/* Can the backend run on this physical device (Vulkan 1.1, compute queue)? */
static int device_usable(VkPhysicalDevice pd)
{
	VkPhysicalDeviceProperties p;
	vkGetPhysicalDeviceProperties(pd, &p);
	return p.apiVersion >= VK_API_VERSION_1_1 && compute_queue_family(pd) >= 0;
}

/* Is the named device extension available? */
static int have_device_ext(VkPhysicalDevice pd, const char *name)
{
	uint32_t n = 0;
	if (vkEnumerateDeviceExtensionProperties(pd, NULL, &n, NULL) != VK_SUCCESS || n == 0)
		return 0;
	VkExtensionProperties *e = calloc(n, sizeof *e);
	int found = 0;
	if (e && vkEnumerateDeviceExtensionProperties(pd, NULL, &n, e) == VK_SUCCESS)
		for (uint32_t i = 0; i < n && !found; i++)
			found = strcmp(e[i].extensionName, name) == 0;
	free(e);
	return found;
}

/* The device's 16-bit features: storageBuffer16BitAccess (VK_KHR_16bit_storage,
 * core in Vulkan 1.1, optional), which f16 and bf16 storage need, and
 * shaderFloat16 (Vulkan 1.2 or VK_KHR_shader_float16_int8), which they do not
 * (the shaders compute in f32) but `attnbench list` reports. */
static void query_16bit(VkPhysicalDevice pd, int *storage16, int *float16)
{
	VkPhysicalDeviceProperties p;
	vkGetPhysicalDeviceProperties(pd, &p);
	*storage16 = *float16 = 0;
	if (p.apiVersion < VK_API_VERSION_1_1 || !vkGetPhysicalDeviceFeatures2)
		return;
	VkPhysicalDeviceShaderFloat16Int8Features f16 = {
	    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
	VkPhysicalDevice16BitStorageFeatures s16 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
	VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &s16};
	if (p.apiVersion >= VK_API_VERSION_1_2 || have_device_ext(pd, VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME))
		s16.pNext = &f16;
	vkGetPhysicalDeviceFeatures2(pd, &f2);
	*storage16 = s16.storageBuffer16BitAccess == VK_TRUE;
	*float16 = f16.shaderFloat16 == VK_TRUE;
}

/* Short name of a device type. */
static const char *device_type_name(VkPhysicalDeviceType t)
{
	switch (t) {
	case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
		return "integrated";
	case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
		return "discrete";
	case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
		return "virtual";
	case VK_PHYSICAL_DEVICE_TYPE_CPU:
		return "cpu";
	default:
		return "other";
	}
}

/* ------------------------------------------------------------------ */
/* probe and list_devices */

/* Is there a Vulkan loader and at least one usable device? */
static int vk_probe(char *why, size_t why_len)
{
	if (loader_init() != VK_SUCCESS) {
		snprintf(why, why_len, "no Vulkan loader (libvulkan.so.1 not found)");
		return 0;
	}
	if (instance_api_version() < VK_API_VERSION_1_1) {
		snprintf(why, why_len, "the Vulkan loader only offers Vulkan 1.0; 1.1 is needed");
		return 0;
	}
	VkInstance inst;
	VkResult r = instance_create(NULL, &inst);
	if (r != VK_SUCCESS) {
		snprintf(why, why_len, "vkCreateInstance failed: %s", vk_result_name(r));
		return 0;
	}
	VkPhysicalDevice *pd;
	uint32_t n;
	r = physical_devices(inst, &pd, &n);
	int usable = 0;
	for (uint32_t i = 0; r == VK_SUCCESS && i < n; i++)
		usable += device_usable(pd[i]);
	free(pd);
	vkDestroyInstance(inst, NULL);
	if (r != VK_SUCCESS) {
		snprintf(why, why_len, "vkEnumeratePhysicalDevices failed: %s", vk_result_name(r));
		return 0;
	}
	if (n == 0) {
		snprintf(why, why_len, "no Vulkan device");
		return 0;
	}
	if (!usable) {
		snprintf(why, why_len, "no Vulkan 1.1 device with a compute queue");
		return 0;
	}
	return 1;
}

/* Append printf output to buf (of total size len), truncating. */
static void buf_printf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void buf_printf(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	if (used + 1 >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/* One line per physical device: index, name, type, driver, API, memory,
 * 16-bit features. */
static void vk_list_devices(char *buf, size_t len)
{
	if (!buf || !len)
		return;
	buf[0] = 0;
	char why[256];
	if (!vk_probe(why, sizeof why)) {
		buf_printf(buf, len, "%s\n", why);
		return;
	}
	VkInstance inst;
	if (instance_create(NULL, &inst) != VK_SUCCESS)
		return;
	VkPhysicalDevice *pd;
	uint32_t n;
	if (physical_devices(inst, &pd, &n) == VK_SUCCESS) {
		for (uint32_t i = 0; i < n; i++) {
			VkPhysicalDeviceDriverProperties drv = {
			    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
			VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
			VkPhysicalDeviceProperties p;
			vkGetPhysicalDeviceProperties(pd[i], &p);
			int have_drv = p.apiVersion >= VK_API_VERSION_1_2 && vkGetPhysicalDeviceProperties2;
			if (have_drv) {
				p2.pNext = &drv;
				vkGetPhysicalDeviceProperties2(pd[i], &p2);
			}
			VkPhysicalDeviceMemoryProperties mp;
			vkGetPhysicalDeviceMemoryProperties(pd[i], &mp);
			uint64_t local = 0;
			for (uint32_t h = 0; h < mp.memoryHeapCount; h++)
				if (mp.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
					local += mp.memoryHeaps[h].size;
			int storage16, float16;
			query_16bit(pd[i], &storage16, &float16);
			char driver[2 * VK_MAX_DRIVER_NAME_SIZE + 8];
			if (have_drv)
				snprintf(driver, sizeof driver, "%s (%s)", drv.driverName, drv.driverInfo);
			else
				snprintf(driver, sizeof driver, "driver version 0x%x", p.driverVersion);
			buf_printf(buf, len,
			           "%u: %s, %s, %s, Vulkan %u.%u.%u, device-local %.1f GiB, 16-bit storage %s, "
			           "shaderFloat16 %s%s\n",
			           i, p.deviceName, device_type_name(p.deviceType), driver,
			           VK_API_VERSION_MAJOR(p.apiVersion), VK_API_VERSION_MINOR(p.apiVersion),
			           VK_API_VERSION_PATCH(p.apiVersion), (double)local / (1024.0 * 1024.0 * 1024.0),
			           storage16 ? "yes" : "no", float16 ? "yes" : "no",
			           device_usable(pd[i]) ? "" : " (unusable: needs Vulkan 1.1 and a compute queue)");
		}
	}
	free(pd);
	vkDestroyInstance(inst, NULL);
}

/* ------------------------------------------------------------------ */
/* Instance creation steps */

/* Step 1: instance, with the validation layer and messenger when asked. */
static int setup_instance(vk_ctx *c)
{
	if (loader_init() != VK_SUCCESS)
		return set_err(c, ATTN_E_DEVICE, "no Vulkan loader (libvulkan.so.1 not found)");
	if (instance_api_version() < VK_API_VERSION_1_1)
		return set_err(c, ATTN_E_DEVICE, "the Vulkan loader only offers Vulkan 1.0; 1.1 is needed");
	const char *env = getenv("ATTNBENCH_VK_VALIDATION");
	c->validation = env && strcmp(env, "0") != 0 && *env;
	VkDebugUtilsMessengerCreateInfoEXT dbg = {
	    .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
	    .messageSeverity =
	        VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
	    .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
	                   VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
	                   VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
	    .pfnUserCallback = debug_callback,
	    .pUserData = c,
	};
	if (c->validation) {
		if (!have_instance_layer(VALIDATION_LAYER))
			return set_err(c, ATTN_E_UNSUPPORTED,
			               "ATTNBENCH_VK_VALIDATION is set but the %s layer is not installed "
			               "(Debian: vulkan-validationlayers)",
			               VALIDATION_LAYER);
		if (!have_instance_ext(NULL, VK_EXT_DEBUG_UTILS_EXTENSION_NAME) &&
		    !have_instance_ext(VALIDATION_LAYER, VK_EXT_DEBUG_UTILS_EXTENSION_NAME))
			return set_err(c, ATTN_E_UNSUPPORTED,
			               "ATTNBENCH_VK_VALIDATION is set but VK_EXT_debug_utils is not available");
	}
	VkResult r = instance_create(c->validation ? &dbg : NULL, &c->instance);
	if (r != VK_SUCCESS) {
		c->instance = VK_NULL_HANDLE;
		return set_err(c, r == VK_ERROR_OUT_OF_HOST_MEMORY ? ATTN_E_NOMEM : ATTN_E_DEVICE,
		               "vkCreateInstance failed: %s", vk_result_name(r));
	}
	c->destroy_instance = (PFN_vkDestroyInstance)vkGetInstanceProcAddr(c->instance, "vkDestroyInstance");
	if (c->validation) {
		c->destroy_messenger = (PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
		    c->instance, "vkDestroyDebugUtilsMessengerEXT");
		VK_CHECK(c, vkCreateDebugUtilsMessengerEXT(c->instance, &dbg, NULL, &c->messenger));
	}
	return take_validation(c, ATTN_OK);
}

/* Case-insensitive substring test. */
static int contains_nocase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return n == 0;
}

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

/* The limits shape_fits() judges shapes by: the largest allocation and
 * buffer, and the heaps device buffers and staging buffers come from (as
 * buf_create picks their memory types, for a buffer any type can hold). */
static void setup_memory_limits(vk_ctx *c, VkDeviceSize max_alloc, VkDeviceSize max_buffer)
{
	c->max_alloc = max_alloc;
	c->max_buffer = max_buffer;
	int dev = buffer_memory_type(c, ~0u, 0), host = buffer_memory_type(c, ~0u, 1);
	c->dev_heap = dev >= 0 ? c->mem_props.memoryTypes[dev].heapIndex : 0;
	c->host_heap = host >= 0 ? c->mem_props.memoryTypes[host].heapIndex : c->dev_heap;
	c->mem_cap = c->par.mem_mib ? (uint64_t)c->par.mem_mib << 20 : 0;
}

/* Step 2: choose the physical device (attn_config.device) and read its
 * properties. */
static int setup_physical_device(vk_ctx *c, const char *sel)
{
	VkPhysicalDevice *pd;
	uint32_t n;
	VkResult r = physical_devices(c->instance, &pd, &n);
	if (r != VK_SUCCESS) {
		free(pd);
		return vk_fail(c, "vkEnumeratePhysicalDevices", r);
	}
	int pick = -1, rank = -1;
	for (uint32_t i = 0; i < n; i++) {
		VkPhysicalDeviceProperties p;
		vkGetPhysicalDeviceProperties(pd[i], &p);
		if (sel && *sel) {
			char *end;
			unsigned long idx = strtoul(sel, &end, 10);
			int match =
			    isdigit((unsigned char)sel[0]) && *end == 0 ? idx == i : contains_nocase(p.deviceName, sel);
			if (match) {
				pick = (int)i;
				break;
			}
			continue;
		}
		if (!device_usable(pd[i]))
			continue;
		int rk = p.deviceType == VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU     ? 4
		         : p.deviceType == VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU ? 3
		         : p.deviceType == VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU    ? 2
		         : p.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU            ? 1
		                                                                  : 0;
		if (rk > rank) {
			rank = rk;
			pick = (int)i;
		}
	}
	if (pick < 0) {
		free(pd);
		if (sel && *sel)
			return set_err(c, ATTN_E_INVALID,
			               "no Vulkan device matches '%s' (%u devices; see attnbench list)", sel, n);
		return set_err(c, ATTN_E_UNSUPPORTED,
		               n ? "no Vulkan 1.1 device with a compute queue" : "no Vulkan device");
	}
	c->phys = pd[pick];
	free(pd);
	if (!device_usable(c->phys))
		return set_err(c, ATTN_E_UNSUPPORTED, "Vulkan device '%s' lacks Vulkan 1.1 or a compute queue", sel);

	VkPhysicalDeviceSubgroupProperties sg = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
	VkPhysicalDeviceSubgroupSizeControlProperties sgc = {
	    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES};
	VkPhysicalDeviceMaintenance4Properties m4 = {.sType =
	                                                 VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_4_PROPERTIES};
	VkPhysicalDeviceMaintenance3Properties m3 = {
	    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES, .pNext = &sg};
	VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &m3};
	vkGetPhysicalDeviceProperties(c->phys, &c->props);
	if (c->props.apiVersion >= VK_API_VERSION_1_3) {
		sg.pNext = &sgc;
		sgc.pNext = &m4;
	}
	vkGetPhysicalDeviceProperties2(c->phys, &p2);
	vkGetPhysicalDeviceMemoryProperties(c->phys, &c->mem_props);
	snprintf(c->name, sizeof c->name, "%s", c->props.deviceName);
	setup_memory_limits(c, m3.maxMemoryAllocationSize, m4.maxBufferSize);

	const VkSubgroupFeatureFlags need =
	    VK_SUBGROUP_FEATURE_BASIC_BIT | VK_SUBGROUP_FEATURE_ARITHMETIC_BIT | VK_SUBGROUP_FEATURE_SHUFFLE_BIT;
	c->subgroup_size = sg.subgroupSize ? sg.subgroupSize : 1;
	c->min_subgroup_size = c->subgroup_size;
	if (sgc.minSubgroupSize && sgc.minSubgroupSize < c->min_subgroup_size)
		c->min_subgroup_size = sgc.minSubgroupSize;
	c->use_subgroup = c->par.subgroups && (sg.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
	                  (sg.supportedOperations & need) == need && c->min_subgroup_size >= 4 &&
	                  c->subgroup_size <= 128;
	c->cpu_threads = 1;
	if (c->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU) {
		long t = sysconf(_SC_NPROCESSORS_ONLN);
		c->cpu_threads = t > 0 ? (int)t : 1;
	}
	query_16bit(c->phys, &c->has_storage16, &c->has_float16);
	c->storage16 = c->has_storage16 && c->par.storage16;
	return ATTN_OK;
}

/* Step 3: logical device with one compute queue; device functions are
 * loaded into this instance's own table. */
static int setup_device(vk_ctx *c)
{
	c->queue_family = (uint32_t)compute_queue_family(c->phys);
	float prio = 1.0f;
	VkDeviceQueueCreateInfo qci = {
	    .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
	    .queueFamilyIndex = c->queue_family,
	    .queueCount = 1,
	    .pQueuePriorities = &prio,
	};
	/* Portability implementations (MoltenVK) require their subset extension. */
	const char *exts[1];
	uint32_t n_ext = 0, n_avail = 0;
	if (vkEnumerateDeviceExtensionProperties(c->phys, NULL, &n_avail, NULL) == VK_SUCCESS && n_avail) {
		VkExtensionProperties *e = calloc(n_avail, sizeof *e);
		if (e && vkEnumerateDeviceExtensionProperties(c->phys, NULL, &n_avail, e) == VK_SUCCESS)
			for (uint32_t i = 0; i < n_avail; i++)
				if (strcmp(e[i].extensionName, "VK_KHR_portability_subset") == 0)
					exts[n_ext++] = "VK_KHR_portability_subset";
		free(e);
	}
	/* f16 and bf16 buffers: only loaded and widened to f32 in the shaders,
	 * so storageBuffer16BitAccess is all they need (no shaderFloat16) */
	VkPhysicalDevice16BitStorageFeatures s16 = {
	    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES,
	    .storageBuffer16BitAccess = VK_TRUE,
	};
	VkDeviceCreateInfo dci = {
	    .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
	    .pNext = c->storage16 ? &s16 : NULL,
	    .queueCreateInfoCount = 1,
	    .pQueueCreateInfos = &qci,
	    .enabledExtensionCount = n_ext,
	    .ppEnabledExtensionNames = n_ext ? exts : NULL,
	};
	VK_CHECK(c, vkCreateDevice(c->phys, &dci, NULL, &c->device));
	volkLoadDeviceTable(&c->vk, c->device);
	c->vk.vkGetDeviceQueue(c->device, c->queue_family, 0, &c->queue);
	return take_validation(c, ATTN_OK);
}

/* Step 4: command pool and buffer, fence, timestamp query pool. */
static int setup_commands(vk_ctx *c)
{
	VkCommandPoolCreateInfo pci = {
	    .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
	    .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
	    .queueFamilyIndex = c->queue_family,
	};
	VK_CHECK(c, c->vk.vkCreateCommandPool(c->device, &pci, NULL, &c->cmd_pool));
	VkCommandBufferAllocateInfo cai = {
	    .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
	    .commandPool = c->cmd_pool,
	    .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
	    .commandBufferCount = 1,
	};
	VK_CHECK(c, c->vk.vkAllocateCommandBuffers(c->device, &cai, &c->cmd));
	VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
	VK_CHECK(c, c->vk.vkCreateFence(c->device, &fci, NULL, &c->fence));

	uint32_t n = 0;
	vkGetPhysicalDeviceQueueFamilyProperties(c->phys, &n, NULL);
	VkQueueFamilyProperties *q = calloc(n ? n : 1, sizeof *q);
	if (!q)
		return set_err(c, ATTN_E_NOMEM, "out of host memory");
	vkGetPhysicalDeviceQueueFamilyProperties(c->phys, &n, q);
	uint32_t bits = q[c->queue_family].timestampValidBits;
	free(q);
	c->last_ns = -1;
	if (bits == 0 || c->props.limits.timestampPeriod <= 0)
		return ATTN_OK;
	c->ts_mask = bits >= 64 ? ~0ull : (1ull << bits) - 1;
	c->ts_period = c->props.limits.timestampPeriod;
	VkQueryPoolCreateInfo qci = {
	    .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
	    .queryType = VK_QUERY_TYPE_TIMESTAMP,
	    .queryCount = 2,
	};
	VK_CHECK(c, c->vk.vkCreateQueryPool(c->device, &qci, NULL, &c->query_pool));
	return ATTN_OK;
}

/* Bindings 0 .. N_STORAGE-1 are storage buffers, the rest texel buffers. */
static VkDescriptorType binding_type(uint32_t binding)
{
	return binding < N_STORAGE ? VK_DESCRIPTOR_TYPE_STORAGE_BUFFER : VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
}

/* Step 5: descriptor set layout (five storage buffers, then K and V as
 * texel buffers), pipeline layout with the push constants, and the one
 * descriptor set. */
static int setup_descriptors(vk_ctx *c)
{
	VkDescriptorSetLayoutBinding b[N_BINDINGS];
	for (uint32_t i = 0; i < N_BINDINGS; i++)
		b[i] = (VkDescriptorSetLayoutBinding){
		    .binding = i,
		    .descriptorType = binding_type(i),
		    .descriptorCount = 1,
		    .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
		};
	VkDescriptorSetLayoutCreateInfo lci = {
	    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
	    .bindingCount = N_BINDINGS,
	    .pBindings = b,
	};
	VK_CHECK(c, c->vk.vkCreateDescriptorSetLayout(c->device, &lci, NULL, &c->set_layout));
	VkPushConstantRange pcr = {
	    .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
	    .offset = 0,
	    .size = sizeof(struct vk_push),
	};
	VkPipelineLayoutCreateInfo plci = {
	    .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
	    .setLayoutCount = 1,
	    .pSetLayouts = &c->set_layout,
	    .pushConstantRangeCount = 1,
	    .pPushConstantRanges = &pcr,
	};
	VK_CHECK(c, c->vk.vkCreatePipelineLayout(c->device, &plci, NULL, &c->pipe_layout));
	VkDescriptorPoolSize ps[2] = {
	    {.type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .descriptorCount = N_STORAGE},
	    {.type = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, .descriptorCount = N_BINDINGS - N_STORAGE},
	};
	VkDescriptorPoolCreateInfo dpci = {
	    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
	    .maxSets = 1,
	    .poolSizeCount = 2,
	    .pPoolSizes = ps,
	};
	VK_CHECK(c, c->vk.vkCreateDescriptorPool(c->device, &dpci, NULL, &c->desc_pool));
	VkDescriptorSetAllocateInfo dsai = {
	    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
	    .descriptorPool = c->desc_pool,
	    .descriptorSetCount = 1,
	    .pSetLayouts = &c->set_layout,
	};
	VK_CHECK(c, c->vk.vkAllocateDescriptorSets(c->device, &dsai, &c->set));
	return ATTN_OK;
}

/* Step 6: shader modules from the embedded SPIR-V (the subgroup variants
 * only where the device has the subgroup operations they use, the f16 and
 * bf16 ones only where 16-bit storage is enabled). */
static int setup_shaders(vk_ctx *c)
{
#define SRC(kind, dtype, code, sg) [(kind) + SH_KINDS * (dtype)] = { code, sizeof code, sg, (dtype) != ATTN_F32 }
	static const struct {
		const uint32_t *code;
		size_t size;
		int needs_subgroup, needs_storage16;
	} src[SH_COUNT] = {
	    SRC(SH_FLASH, ATTN_F32, spv_flash, 0),
	    SRC(SH_FLASH_SG, ATTN_F32, spv_flash_sg, 1),
	    SRC(SH_SPLIT, ATTN_F32, spv_split, 0),
	    SRC(SH_SPLIT_SG, ATTN_F32, spv_split_sg, 1),
	    SRC(SH_FLASH, ATTN_F16, spv_flash_f16, 0),
	    SRC(SH_FLASH_SG, ATTN_F16, spv_flash_sg_f16, 1),
	    SRC(SH_SPLIT, ATTN_F16, spv_split_f16, 0),
	    SRC(SH_SPLIT_SG, ATTN_F16, spv_split_sg_f16, 1),
	    SRC(SH_FLASH, ATTN_BF16, spv_flash_bf16, 0),
	    SRC(SH_FLASH_SG, ATTN_BF16, spv_flash_sg_bf16, 1),
	    SRC(SH_SPLIT, ATTN_BF16, spv_split_bf16, 0),
	    SRC(SH_SPLIT_SG, ATTN_BF16, spv_split_sg_bf16, 1),
	    [SH_REDUCE] = {spv_reduce, sizeof spv_reduce, 0, 0},
	};
#undef SRC
	for (int i = 0; i < SH_COUNT; i++) {
		if ((src[i].needs_subgroup && !c->use_subgroup) || (src[i].needs_storage16 && !c->storage16))
			continue;
		VkShaderModuleCreateInfo ci = {
		    .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
		    .codeSize = src[i].size,
		    .pCode = src[i].code,
		};
		VK_CHECK(c, c->vk.vkCreateShaderModule(c->device, &ci, NULL, &c->modules[i]));
	}
	return take_validation(c, ATTN_OK);
}

/* Largest power of two <= x (x >= 1). */
static uint32_t pow2_floor(uint32_t x)
{
	uint32_t p = 1;
	while (p * 2 <= x)
		p *= 2;
	return p;
}

/* Texel format of K and V stored as t: one texel per 4-vector of a row;
 * bf16 is read as unsigned integers and widened in the shader. All three
 * are formats every device supports for uniform texel buffers. */
static VkFormat texel_format(attn_dtype t)
{
	return t == ATTN_F16    ? VK_FORMAT_R16G16B16A16_SFLOAT
	       : t == ATTN_BF16 ? VK_FORMAT_R16G16B16A16_UINT
	                        : VK_FORMAT_R32G32B32A32_SFLOAT;
}

/* Step 7: shader configuration from the device and the parameters. */
static int setup_config(vk_ctx *c)
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
		vkGetPhysicalDeviceFormatProperties(c->phys, texel_format((attn_dtype)t), &fp);
		c->texel_ok[t] = c->par.texel && (fp.bufferFeatures & VK_FORMAT_FEATURE_UNIFORM_TEXEL_BUFFER_BIT);
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
	c->d_keys = c->par.dec_keys ? (uint32_t)c->par.dec_keys : (cpu ? 2 : 1);
	c->d_dsplit = c->par.dec_dsplit ? (uint32_t)c->par.dec_dsplit : (c->d_merge ? sg_dsplit : 1);

	if (c->f_wg > max_wg || c->d_wg > max_wg)
		return set_err(c, ATTN_E_INVALID, "workgroup size above the device limit of %u", max_wg);
	if ((c->f_dsplit > 1 || c->d_dsplit > 1) && !c->use_subgroup)
		return set_err(c, ATTN_E_INVALID, "dsplit > 1 needs subgroup shuffles, which are %s",
		               c->par.subgroups ? "not supported by this device" : "disabled (subgroups=0)");
	if (c->d_dsplit > 1 && !c->d_merge)
		return set_err(c, ATTN_E_INVALID, "dec_dsplit > 1 needs dec_merge=1");
	if (c->par.dec_merge == 1 && !c->use_subgroup)
		return set_err(c, ATTN_E_INVALID, "dec_merge=1 needs subgroup operations");
	if (c->f_dsplit > c->min_subgroup_size || c->d_dsplit > c->min_subgroup_size)
		return set_err(c, ATTN_E_INVALID, "dsplit above the subgroup size %u", c->min_subgroup_size);
	if (c->f_dsplit > c->f_wg || c->d_dsplit > c->d_wg)
		return set_err(c, ATTN_E_INVALID, "dsplit above the workgroup size");
	if (c->d_merge && c->d_wg < c->subgroup_size)
		return set_err(c, ATTN_E_INVALID, "dec_wg below the subgroup size %u", c->subgroup_size);
	if (c->f_step > c->f_tile)
		c->f_step = c->f_tile;
	return ATTN_OK;
}

/* ------------------------------------------------------------------ */
/* destroy and create */

/* Destroy a buffer and give back its memory. */
static void buf_free(vk_ctx *c, vk_buf *b)
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
		buf_free(c, &c->cache_v);
		buf_free(c, &c->cache_k);
		buf_free(c, &c->part);
		buf_free(c, &c->out);
		buf_free(c, &c->v);
		buf_free(c, &c->k);
		buf_free(c, &c->q);
		buf_free(c, &c->staging);
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
	free(c);
}

/* Create an instance of the backend: the setup steps above in order. */
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
	rc = setup_instance(c);
	if (!rc)
		rc = setup_physical_device(c, cfg ? cfg->device : NULL);
	if (!rc)
		rc = setup_config(c);
	if (!rc)
		rc = setup_device(c);
	if (!rc)
		rc = setup_commands(c);
	if (!rc)
		rc = setup_descriptors(c);
	if (!rc)
		rc = setup_shaders(c);
	rc = take_validation(c, rc);
	if (rc) {
		snprintf(err, err_len, "%s", c->err);
		vk_destroy(c);
		return rc;
	}
	*out = c;
	return ATTN_OK;
}

static const char *vk_device_name(void *ctx)
{
	return ((vk_ctx *)ctx)->name;
}

static const char *vk_last_error(void *ctx)
{
	return ((vk_ctx *)ctx)->err;
}

/* ------------------------------------------------------------------ */
/* Buffers */

/* Create a buffer of size bytes with its own allocation: device-local
 * where the device has such memory, else any; host-visible coherent and
 * mapped for staging. */
static int buf_create(vk_ctx *c, vk_buf *b, VkDeviceSize size, int host)
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
		buf_free(c, b);
		return set_err(c, ATTN_E_DEVICE, "no suitable memory type for a %s buffer",
		               host ? "staging" : "device");
	}
	char want[32], held[32], what[96];
	fmt_size(want, sizeof want, req.size);
	fmt_size(held, sizeof held, c->cur_bytes);
	if (c->mem_cap && c->cur_bytes + req.size > c->mem_cap) {
		/* mem_mib: behave as a device with that much memory would */
		buf_free(c, b);
		return set_err(c, ATTN_E_NOMEM, "out of device memory: %s more with %s held is over mem_mib=%d", want,
		               held, c->par.mem_mib);
	}
	VkMemoryAllocateInfo mai = {
	    .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
	    .allocationSize = req.size,
	    .memoryTypeIndex = (uint32_t)type,
	};
	r = c->vk.vkAllocateMemory(c->device, &mai, NULL, &b->mem);
	if (r != VK_SUCCESS) {
		b->mem = VK_NULL_HANDLE;
		buf_free(c, b);
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
		buf_free(c, b);
		return vk_fail(c, host ? "vkMapMemory" : "vkBindBufferMemory", r);
	}
	return ATTN_OK;
}

/* Give b a texel view of K or V stored as t (texel_format), over as much
 * of it as the device allows (the shaders only read through it when all of
 * K and V fit); a view of another format is replaced. */
static int buf_view(vk_ctx *c, vk_buf *b, attn_dtype t)
{
	const VkFormat fmt = texel_format(t);
	if (b->view && b->view_fmt == fmt)
		return ATTN_OK;
	if (b->view)
		c->vk.vkDestroyBufferView(c->device, b->view, NULL);
	b->view = VK_NULL_HANDLE;
	VkDeviceSize most = (VkDeviceSize)c->props.limits.maxTexelBufferElements * 4 * attn_dtype_size(t);
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
	buf_free(c, b);
	return buf_create(c, b, size, host);
}

/* Free the scratch buffers (staging, q, k, v, out, partials; never the
 * cache): calls make them again at the size they need. */
static void release_scratch(vk_ctx *c)
{
	vk_buf *scratch[] = {&c->part, &c->out, &c->v, &c->k, &c->q, &c->staging};
	for (size_t i = 0; i < sizeof scratch / sizeof scratch[0]; i++)
		buf_free(c, scratch[i]);
}

/* A buffer a call needs, and its size. */
typedef struct vk_want {
	vk_buf *b;
	VkDeviceSize size;
	int host;
} vk_want;

/* Make every buffer of want at least its size. When the device runs out of
 * memory, the scratch buffers earlier, larger calls left are freed and it is
 * tried once more; what still fails is ATTN_E_NOMEM, the buffers that were
 * made stay valid, and the instance stays usable. */
static int ensure_bufs(vk_ctx *c, const vk_want *want, size_t n)
{
	for (int attempt = 0;; attempt++) {
		int rc = ATTN_OK;
		for (size_t i = 0; i < n && !rc; i++)
			rc = buf_ensure(c, want[i].b, want[i].size, want[i].host);
		if (rc != ATTN_E_NOMEM || attempt)
			return rc;
		release_scratch(c);
	}
}

/* ------------------------------------------------------------------ */
/* Pipelines */

/* The cached pipeline for a shader and specialisation, created on first use. */
static int get_pipeline(vk_ctx *c, int shader, const uint32_t spec[N_SPEC], VkPipeline *out)
{
	for (int i = 0; i < c->n_pipes; i++)
		if (c->pipes[i].shader == shader && memcmp(c->pipes[i].spec, spec, sizeof c->pipes[i].spec) == 0) {
			*out = c->pipes[i].pipe;
			return ATTN_OK;
		}
	if (c->n_pipes == MAX_PIPES) {
		/* Forget the oldest; nothing is in flight between calls. */
		c->vk.vkDestroyPipeline(c->device, c->pipes[0].pipe, NULL);
		memmove(c->pipes, c->pipes + 1, sizeof c->pipes[0] * (MAX_PIPES - 1));
		c->n_pipes--;
	}
	VkSpecializationMapEntry map[N_SPEC];
	for (uint32_t i = 0; i < N_SPEC; i++)
		map[i] = (VkSpecializationMapEntry){.constantID = i, .offset = 4 * i, .size = 4};
	VkSpecializationInfo si = {.mapEntryCount = N_SPEC, .pMapEntries = map, .dataSize = 4 * N_SPEC, .pData = spec};
	VkComputePipelineCreateInfo ci = {
	    .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
	    .stage =
	        {
	            .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
	            .stage = VK_SHADER_STAGE_COMPUTE_BIT,
	            .module = c->modules[shader],
	            .pName = "main",
	            .pSpecializationInfo = &si,
	        },
	    .layout = c->pipe_layout,
	};
	VkPipeline p;
	VK_CHECK(c, c->vk.vkCreateComputePipelines(c->device, VK_NULL_HANDLE, 1, &ci, NULL, &p));
	vk_pipe *e = &c->pipes[c->n_pipes++];
	e->shader = shader;
	memcpy(e->spec, spec, sizeof e->spec);
	e->pipe = p;
	*out = p;
	return ATTN_OK;
}

/* ------------------------------------------------------------------ */
/* Shape checks and launch geometry */

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

/* Flash tile: keys per shared tile fitting the device's shared memory. */
static uint32_t flash_tile(const vk_ctx *c, uint32_t d)
{
	uint32_t d4 = (d + 3) / 4;
	uint32_t ks = (d4 + c->f_dsplit - 1) / c->f_dsplit * c->f_dsplit;
	uint32_t fit = c->props.limits.maxComputeSharedMemorySize / (2 * 16 * ks);
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

/* Check the shape against what the backend and device support; fill the
 * plan when plan is not NULL. Returns 1 if supported, else 0 and why. */
static int plan_shape(const vk_ctx *c, const attn_shape *s, int64_t kv_stride, vk_plan *plan, char *why, size_t why_len)
{
	const VkPhysicalDeviceLimits *lim = &c->props.limits;
	if (!attn_dtype_known(s->dtype)) {
		snprintf(why, why_len, "unknown storage dtype %d", (int)s->dtype);
		return 0;
	}
	if (s->dtype != ATTN_F32 && !c->storage16) {
		/* not "needs ...": that is how a shape too large for the device reads */
		snprintf(why, why_len,
		         "%s storage needs storageBuffer16BitAccess (VK_KHR_16bit_storage), which %s lacks%s",
		         s->dtype == ATTN_F16 ? "f16" : "bf16", c->name, c->has_storage16 ? " (storage16=0)" : "");
		return 0;
	}
	if (s->head_dim < 1 || s->head_dim > 256) {
		snprintf(why, why_len, "head_dim %lld outside 1..256", (long long)s->head_dim);
		return 0;
	}
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
	/* Shaders index with 32-bit integers; bound buffers must fit the device
	 * range: q, k and v of elements of es bytes, out of f32. */
	const double dp = (double)((s->head_dim + 3) / 4 * 4), es = (double)attn_dtype_size(s->dtype);
	const double elems_q = (double)s->batch * (double)s->n_heads * (double)s->n_q * dp;
	const double elems_kv = (double)s->batch * (double)s->n_kv_heads * (double)kv_stride * dp;
	const double range = (double)lim->maxStorageBufferRange;
	const double bytes_q = elems_q * 4, bytes_kv = elems_kv * es; /* out is larger than q */
	char need[32], most[32];
	fmt_size(most, sizeof most, lim->maxStorageBufferRange);
	if (bytes_q > range || bytes_kv > range) {
		fmt_size(need, sizeof need, (uint64_t)(bytes_q > bytes_kv ? bytes_q : bytes_kv));
		snprintf(why, why_len, "needs a buffer of %s, the device allows %s (maxStorageBufferRange)", need,
		         most);
		return 0;
	}
	if (elems_q >= 4294967296.0 || elems_kv >= 4294967296.0) {
		snprintf(why, why_len, "tensors of 2^32 floats or more (the shaders index with 32 bits)");
		return 0;
	}
	const uint32_t d = (uint32_t)s->head_dim, g = (uint32_t)(s->n_heads / s->n_kv_heads);
	const uint32_t texel = c->texel_ok[s->dtype] && elems_kv / 4 <= lim->maxTexelBufferElements;
	const uint32_t rows = flash_rows(c, d), stage = c->f_stage || !texel;
	const double rows_wg = (double)(c->f_wg / c->f_dsplit) * rows;
	vk_plan p = {.decode = s->n_q == 1};
	if (!p.decode) {
		double gx = ((double)s->n_q * g + rows_wg - 1) / rows_wg;
		if (gx > lim->maxComputeWorkGroupCount[0] || s->n_kv_heads > lim->maxComputeWorkGroupCount[1] ||
		    s->batch > lim->maxComputeWorkGroupCount[2]) {
			snprintf(why, why_len, "more workgroups than the device can launch");
			return 0;
		}
		const uint32_t tile = flash_tile(c, d), step = c->f_step < tile ? c->f_step : tile;
		uint32_t spec[N_SPEC] = {c->f_wg, d, rows, tile, step, c->f_dsplit, stage, texel};
		memcpy(p.spec, spec, sizeof spec);
		p.groups[0] = (uint32_t)gx;
		p.groups[1] = (uint32_t)s->n_kv_heads;
		p.groups[2] = (uint32_t)s->batch;
	} else {
		uint32_t cap =
		    c->par.dec_heads ? (uint32_t)c->par.dec_heads : (c->cpu ? 2 : 1) * lane_budget(c, d, c->d_dsplit);
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
		p.n_split = choose_split(c, (uint32_t)s->n_kv, (uint32_t)gy * (uint32_t)s->batch);
		p.split_len = (uint32_t)((s->n_kv + p.n_split - 1) / p.n_split);
		p.n_split = (uint32_t)((s->n_kv + p.split_len - 1) / p.split_len);
		p.n_part = p.n_split * n_grp;
		double parts = (double)s->batch * (double)s->n_heads * p.n_part;
		double floats = parts * (double)((d + 3) / 4 * 4) + 2 * parts;
		if (floats * 4 > range || floats >= 4294967296.0) {
			fmt_size(need, sizeof need, (uint64_t)(floats * 4));
			snprintf(why, why_len,
			         "needs a buffer of %s for the split-K partials, the device allows %s "
			         "(maxStorageBufferRange)",
			         need, most);
			return 0;
		}
		p.part_bytes = (VkDeviceSize)(floats * 4);
		uint32_t spec[N_SPEC] = {c->d_wg, d, hg, c->d_keys, c->d_dsplit, 0, 0, texel};
		memcpy(p.spec, spec, sizeof spec);
		p.groups[0] = p.n_split;
		p.groups[1] = (uint32_t)gy;
		p.groups[2] = (uint32_t)s->batch;
	}
	if (plan)
		*plan = p;
	return 1;
}

/* Elements of one row on the device: head_dim padded to a multiple of 4. */
static uint64_t padded_dim(const attn_shape *s)
{
	return ((uint64_t)s->head_dim + 3) & ~(uint64_t)3;
}

/* Device bytes of one stored tensor of the shape (q, k or v, in s->dtype):
 * n rows per head over heads heads. */
static uint64_t tensor_bytes(const attn_shape *s, int64_t heads, int64_t n)
{
	return (uint64_t)s->batch * (uint64_t)heads * (uint64_t)n * padded_dim(s) * attn_dtype_size(s->dtype);
}

/* Device bytes of out, which is f32 whatever the dtype. */
static uint64_t out_bytes(const attn_shape *s)
{
	return (uint64_t)s->batch * (uint64_t)s->n_heads * (uint64_t)s->n_q * padded_dim(s) * sizeof(float);
}

/* Does one call on s fit the device's memory? The buffers it holds at once:
 * staging, q, out (f32), the split-K partials (part_bytes), and K and V of kv_cap
 * tokens, which are the cache on the cache path (staging then holds only the
 * n_q new tokens) and scratch copies for a stateless attend (staging holds
 * all of K and V). Each must fit the largest allocation and buffer, and
 * together they must fit the heaps (and mem_mib); else 0 and a reason that
 * starts with "needs ". Sizes are rounded as buf_create rounds them;
 * alignment padding is not counted. */
static int shape_fits(const vk_ctx *c, const attn_shape *s, int64_t kv_cap, int attend, uint64_t part_bytes, char *why,
                      size_t why_len)
{
	const uint64_t qb = tensor_bytes(s, s->n_heads, s->n_q), kb = tensor_bytes(s, s->n_kv_heads, kv_cap);
	const uint64_t ob = out_bytes(s), kn = attend ? kb : tensor_bytes(s, s->n_kv_heads, s->n_q);
	const struct {
		uint64_t bytes;
		int host;
	} b[] = {{qb + ob + 2 * kn, 1}, {qb, 0}, {ob, 0}, {kb, 0}, {kb, 0}, {part_bytes, 0}};
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
			fmt_size(need, sizeof need, bytes);
			fmt_size(have, sizeof have, most);
			snprintf(why, why_len, "needs a buffer of %s, the device allows %s (%s)", need, have, limit);
			return 0;
		}
		*(b[i].host ? &host : &dev) += bytes;
	}
	const VkMemoryHeap *heaps = c->mem_props.memoryHeaps;
	const uint64_t dev_heap = heaps[c->dev_heap].size, host_heap = heaps[c->host_heap].size;
	if (c->mem_cap && dev + host > c->mem_cap) {
		fmt_size(need, sizeof need, dev + host);
		fmt_size(have, sizeof have, c->mem_cap);
		snprintf(why, why_len, "needs %s of device memory, mem_mib=%d allows %s", need, c->par.mem_mib, have);
		return 0;
	}
	if (c->dev_heap == c->host_heap ? dev + host > dev_heap : dev > dev_heap) {
		fmt_size(need, sizeof need, c->dev_heap == c->host_heap ? dev + host : dev);
		fmt_size(have, sizeof have, dev_heap);
		snprintf(why, why_len, "needs %s of device memory, the device heap has %s", need, have);
		return 0;
	}
	if (c->dev_heap != c->host_heap && host > host_heap) {
		fmt_size(need, sizeof need, host);
		fmt_size(have, sizeof have, host_heap);
		snprintf(why, why_len, "needs %s of host-visible memory for staging, its heap has %s", need, have);
		return 0;
	}
	return 1;
}

/* The shape is judged as the cache path runs it (the KV cache of n_kv
 * tokens, the n_q new ones staged): for attend with n_q = n_kv, as sweeps
 * run it, that is the same memory; a stateless attend with fewer queries
 * than keys stages all of K and V, and says so when it does not fit. */
static int vk_supports(void *ctx, const attn_shape *s, char *why, size_t why_len)
{
	vk_plan p;
	return plan_shape(ctx, s, s->n_kv, &p, why, why_len) &&
	       shape_fits(ctx, s, s->n_kv, 0, p.decode ? p.part_bytes : 16, why, why_len);
}

/* Copy rows of head_dim elements of s->dtype into staging rows padded
 * with zeros. */
static void pack_rows(const attn_shape *s, void *dst, const void *src, uint64_t rows)
{
	const uint64_t d = (uint64_t)s->head_dim, dp = padded_dim(s), es = attn_dtype_size(s->dtype);
	if (d == dp) {
		memcpy(dst, src, rows * d * es);
		return;
	}
	char *o = dst;
	const char *in = src;
	for (uint64_t r = 0; r < rows; r++) {
		memcpy(o + r * dp * es, in + r * d * es, d * es);
		memset(o + (r * dp + d) * es, 0, (dp - d) * es);
	}
}

/* Copy padded rows of out (f32) from staging back into rows of head_dim floats. */
static void unpack_rows(const attn_shape *s, float *dst, const void *src, uint64_t rows)
{
	const uint64_t d = (uint64_t)s->head_dim, dp = padded_dim(s);
	const float *in = src;
	if (d == dp) {
		memcpy(dst, src, rows * d * sizeof(float));
		return;
	}
	for (uint64_t r = 0; r < rows; r++)
		memcpy(dst + r * d, in + r * dp, d * sizeof(float));
}

/* Rows of a tensor: n per head over heads heads. */
static uint64_t tensor_rows(const attn_shape *s, int64_t heads, int64_t n)
{
	return (uint64_t)s->batch * (uint64_t)heads * (uint64_t)n;
}

/* Staging (upload of q and the new keys and values, download of out) plus
 * split-K partials. With a cache of this geometry allocated the call is
 * taken to be prefill/decode (n_q new tokens), else attend (n_kv). */
static uint64_t vk_workspace_bytes(void *ctx, const attn_shape *s)
{
	vk_ctx *c = ctx;
	vk_plan p;
	char why[128];
	if (!plan_shape(c, s, s->n_kv, &p, why, sizeof why))
		return 0;
	int cached = c->cache_k.buf && c->cache_shape.batch == s->batch && c->cache_shape.n_kv_heads == s->n_kv_heads &&
	             c->cache_shape.head_dim == s->head_dim && c->cache_shape.dtype == s->dtype;
	int64_t n_new = cached ? s->n_q : s->n_kv;
	uint64_t staging =
	    tensor_bytes(s, s->n_heads, s->n_q) + out_bytes(s) + 2 * tensor_bytes(s, s->n_kv_heads, n_new);
	return staging + (p.decode ? p.part_bytes : 0);
}

/* ------------------------------------------------------------------ */
/* Command recording and submission */

/* Begin recording; reset the timestamp queries. */
static int cmd_begin(vk_ctx *c)
{
	VK_CHECK(c, c->vk.vkResetCommandBuffer(c->cmd, 0));
	VkCommandBufferBeginInfo bi = {
	    .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
	    .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
	};
	VK_CHECK(c, c->vk.vkBeginCommandBuffer(c->cmd, &bi));
	if (c->query_pool)
		c->vk.vkCmdResetQueryPool(c->cmd, c->query_pool, 0, 2);
	return ATTN_OK;
}

/* A global memory barrier between two stages. */
static void cmd_barrier(vk_ctx *c, VkPipelineStageFlags src_stage, VkAccessFlags src, VkPipelineStageFlags dst_stage,
                        VkAccessFlags dst)
{
	VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER, .srcAccessMask = src, .dstAccessMask = dst};
	c->vk.vkCmdPipelineBarrier(c->cmd, src_stage, dst_stage, 0, 1, &mb, 0, NULL, 0, NULL);
}

/* Copy size bytes from the staging buffer to dst (or back when down). */
static void cmd_copy(vk_ctx *c, VkBuffer dst, VkDeviceSize dst_off, VkDeviceSize stage_off, VkDeviceSize size)
{
	VkBufferCopy r = {.srcOffset = stage_off, .dstOffset = dst_off, .size = size};
	c->vk.vkCmdCopyBuffer(c->cmd, c->staging.buf, dst, 1, &r);
}

/* Copy new tokens from staging into the cache rows len .. len+n-1 of every
 * (batch, KV head): one copy region per row block. */
static int cmd_cache_upload(vk_ctx *c, VkBuffer dst, VkDeviceSize stage_off, int64_t n)
{
	const attn_shape *s = &c->cache_shape;
	const uint64_t rows = (uint64_t)(s->batch * s->n_kv_heads), row = padded_dim(s) * attn_dtype_size(s->dtype);
	VkBufferCopy *r = calloc(rows, sizeof *r);
	if (!r)
		return set_err(c, ATTN_E_NOMEM, "out of host memory");
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

/* Point the descriptor set at the buffers of this call (k and v twice:
 * as storage buffers and through their texel views of dtype t). */
static int bind_buffers(vk_ctx *c, vk_buf *k, vk_buf *v, attn_dtype t)
{
	int rc = buf_view(c, k, t);
	if (!rc)
		rc = buf_view(c, v, t);
	if (rc)
		return rc;
	VkDescriptorBufferInfo bi[N_STORAGE] = {
	    {c->q.buf, 0, VK_WHOLE_SIZE},   {k->buf, 0, VK_WHOLE_SIZE},      {v->buf, 0, VK_WHOLE_SIZE},
	    {c->out.buf, 0, VK_WHOLE_SIZE}, {c->part.buf, 0, VK_WHOLE_SIZE},
	};
	VkBufferView views[N_BINDINGS - N_STORAGE] = {k->view, v->view};
	VkWriteDescriptorSet w[N_BINDINGS];
	for (uint32_t i = 0; i < N_BINDINGS; i++)
		w[i] = (VkWriteDescriptorSet){
		    .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
		    .dstSet = c->set,
		    .dstBinding = i,
		    .descriptorCount = 1,
		    .descriptorType = binding_type(i),
		    .pBufferInfo = i < N_STORAGE ? &bi[i] : NULL,
		    .pTexelBufferView = i < N_STORAGE ? NULL : &views[i - N_STORAGE],
		};
	c->vk.vkUpdateDescriptorSets(c->device, N_BINDINGS, w, 0, NULL);
	return ATTN_OK;
}

/* Record one dispatch of a pipeline with the push constants. */
static void cmd_dispatch(vk_ctx *c, VkPipeline pipe, const struct vk_push *pc, const uint32_t groups[3])
{
	c->vk.vkCmdBindPipeline(c->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipe);
	c->vk.vkCmdBindDescriptorSets(c->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, c->pipe_layout, 0, 1, &c->set, 0, NULL);
	c->vk.vkCmdPushConstants(c->cmd, c->pipe_layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof *pc, pc);
	c->vk.vkCmdDispatch(c->cmd, groups[0], groups[1], groups[2]);
}

/* Record the attention dispatches of a planned shape (inputs already
 * uploaded), between two timestamps. */
static int cmd_attention(vk_ctx *c, const attn_shape *s, const vk_plan *p, int64_t kv_stride)
{
	VkPipeline main_pipe, reduce_pipe = VK_NULL_HANDLE;
	int shader = p->decode ? (c->d_merge ? SH_SPLIT_SG : SH_SPLIT) : (c->f_dsplit > 1 ? SH_FLASH_SG : SH_FLASH);
	shader += SH_KINDS * (int)s->dtype;
	int rc = get_pipeline(c, shader, p->spec, &main_pipe);
	if (!rc && p->decode) {
		uint32_t spec[N_SPEC] = {64, p->spec[1], 0, 0, 0, 0, 0, 0};
		rc = get_pipeline(c, SH_REDUCE, spec, &reduce_pipe);
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
	cmd_barrier(c, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
	            VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
	if (c->query_pool)
		c->vk.vkCmdWriteTimestamp(c->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, c->query_pool, 0);
	cmd_dispatch(c, main_pipe, &pc, p->groups);
	if (p->decode) {
		cmd_barrier(c, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
		            VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT);
		uint32_t rg[3] = {(uint32_t)s->n_heads, (uint32_t)s->batch, 1};
		cmd_dispatch(c, reduce_pipe, &pc, rg);
	}
	if (c->query_pool)
		c->vk.vkCmdWriteTimestamp(c->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, c->query_pool, 1);
	cmd_barrier(c, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
	            VK_ACCESS_TRANSFER_READ_BIT);
	return ATTN_OK;
}

/* End recording, submit, wait on the fence (with the timeout) and read the
 * timestamps when timed is set. The fence wait is the only wait on the
 * device anywhere: when it times out, or the device is lost, the instance
 * is marked faulty and in_flight stays set, for vk_destroy. */
static int cmd_submit(vk_ctx *c, int timed)
{
	cmd_barrier(c, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
	            VK_ACCESS_HOST_READ_BIT);
	VK_CHECK(c, c->vk.vkEndCommandBuffer(c->cmd));
	VK_CHECK(c, c->vk.vkResetFences(c->device, 1, &c->fence));
	VkSubmitInfo si = {
	    .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
	    .commandBufferCount = 1,
	    .pCommandBuffers = &c->cmd,
	};
	VK_CHECK(c, c->vk.vkQueueSubmit(c->queue, 1, &si, c->fence));
	c->in_flight = 1;
	VkResult r = c->vk.vkWaitForFences(c->device, 1, &c->fence, VK_TRUE, (uint64_t)c->par.timeout_ms * 1000000ull);
	if (r == VK_TIMEOUT) {
		set_err(c, ATTN_E_DEVICE,
		        "vkWaitForFences: VK_TIMEOUT: the device did not finish the call within timeout_ms=%d "
		        "(--param vulkan:timeout_ms=N or ATTNBENCH_VK_TIMEOUT_MS)",
		        c->par.timeout_ms);
		return mark_fault(c, FAULT_TIMEOUT);
	}
	if (r != VK_SUCCESS)
		return vk_fail(c, "vkWaitForFences", r);
	c->in_flight = 0;
	if (timed && c->query_pool) {
		/* no VK_QUERY_RESULT_WAIT_BIT: the fence says the work is done, and
		 * results that are somehow not there just leave the time unknown */
		uint64_t ts[2];
		r = c->vk.vkGetQueryPoolResults(c->device, c->query_pool, 0, 2, sizeof ts, ts, sizeof ts[0],
		                                VK_QUERY_RESULT_64_BIT);
		if (r != VK_SUCCESS && r != VK_NOT_READY)
			return vk_fail(c, "vkGetQueryPoolResults", r);
		if (r == VK_SUCCESS) {
			uint64_t dt = ((ts[1] & c->ts_mask) - (ts[0] & c->ts_mask)) & c->ts_mask;
			c->last_ns = (int64_t)((double)dt * c->ts_period);
		}
	}
	return ATTN_OK;
}

/* ------------------------------------------------------------------ */
/* Entry points */

/* Before any work: refuse at once after a fault (a timed-out wait: the
 * device may still be using the buffers; a lost device: nothing it does can
 * be trusted) without touching the device, and report a validation message
 * that arrived since the last call. Returns ATTN_OK or ATTN_E_DEVICE. */
static int entry_check(vk_ctx *c)
{
	if (c->fault == FAULT_TIMEOUT)
		return set_err(c, ATTN_E_DEVICE,
		               "device timed out earlier: %s; this instance no longer uses the device", c->fault_msg);
	if (c->fault)
		return set_err(c, ATTN_E_DEVICE, "device lost: %s; this instance no longer uses the device",
		               c->fault_msg);
	return take_validation(c, ATTN_OK);
}

/* Stateless attention: upload q, k, v; flash or split-K; read back out. */
static int vk_attend(void *ctx, const attn_shape *s, const void *q, const void *k, const void *v, float *out)
{
	vk_ctx *c = ctx;
	vk_plan p;
	char why[256];
	c->last_ns = -1;
	if (entry_check(c))
		return ATTN_E_DEVICE;
	if (!plan_shape(c, s, s->n_kv, &p, why, sizeof why) ||
	    !shape_fits(c, s, s->n_kv, 1, p.decode ? p.part_bytes : 16, why, sizeof why))
		return set_err(c, ATTN_E_UNSUPPORTED, "%s", why);
	const uint64_t qb = tensor_bytes(s, s->n_heads, s->n_q), kb = tensor_bytes(s, s->n_kv_heads, s->n_kv);
	const uint64_t ob = out_bytes(s);
	const vk_want want[] = {
	    {&c->staging, qb + ob + 2 * kb, 1},
	    {&c->q, qb, 0},
	    {&c->k, kb, 0},
	    {&c->v, kb, 0},
	    {&c->out, ob, 0},
	    {&c->part, p.decode ? p.part_bytes : 16, 0},
	};
	int rc = ensure_bufs(c, want, sizeof want / sizeof want[0]);
	if (rc)
		return take_validation(c, rc);
	char *st = c->staging.map;
	pack_rows(s, st, q, tensor_rows(s, s->n_heads, s->n_q));
	pack_rows(s, st + qb, k, tensor_rows(s, s->n_kv_heads, s->n_kv));
	pack_rows(s, st + qb + kb, v, tensor_rows(s, s->n_kv_heads, s->n_kv));
	rc = bind_buffers(c, &c->k, &c->v, s->dtype);
	if (!rc)
		rc = cmd_begin(c);
	if (!rc) {
		cmd_copy(c, c->q.buf, 0, 0, qb);
		cmd_copy(c, c->k.buf, 0, qb, kb);
		cmd_copy(c, c->v.buf, 0, qb + kb, kb);
		rc = cmd_attention(c, s, &p, s->n_kv);
	}
	if (!rc) {
		VkBufferCopy r = {.srcOffset = 0, .dstOffset = qb + 2 * kb, .size = ob};
		c->vk.vkCmdCopyBuffer(c->cmd, c->out.buf, c->staging.buf, 1, &r);
		rc = cmd_submit(c, 1);
	}
	if (!rc)
		unpack_rows(s, out, st + qb + 2 * kb, tensor_rows(s, s->n_heads, s->n_q));
	return take_validation(c, rc);
}

/* Allocate the device KV cache for s->n_kv tokens; it starts empty. */
static int vk_cache_alloc(void *ctx, const attn_shape *s)
{
	vk_ctx *c = ctx;
	char why[256];
	if (entry_check(c))
		return ATTN_E_DEVICE;
	buf_free(c, &c->cache_v);
	buf_free(c, &c->cache_k);
	c->cache_cap = c->cache_len = 0;
	/* the least a call on the cache needs: one decode step */
	attn_shape one = *s;
	one.n_q = 1;
	one.causal = 0;
	vk_plan p;
	if (!plan_shape(c, &one, s->n_kv, &p, why, sizeof why) ||
	    !shape_fits(c, &one, s->n_kv, 0, p.part_bytes, why, sizeof why))
		return set_err(c, ATTN_E_UNSUPPORTED, "%s", why);
	const uint64_t bytes = tensor_bytes(s, s->n_kv_heads, s->n_kv);
	int rc = ATTN_E_NOMEM;
	for (int attempt = 0; attempt < 2 && rc == ATTN_E_NOMEM; attempt++) {
		if (attempt)
			release_scratch(c); /* out of memory: make room, once */
		rc = buf_create(c, &c->cache_k, bytes, 0);
		if (!rc)
			rc = buf_create(c, &c->cache_v, bytes, 0);
		if (rc) {
			buf_free(c, &c->cache_v);
			buf_free(c, &c->cache_k);
		}
	}
	if (rc)
		return take_validation(c, rc);
	c->cache_shape = *s;
	c->cache_cap = s->n_kv;
	return take_validation(c, ATTN_OK);
}

/* Copy n new tokens of keys and values into staging; record their copies
 * into the cache. Returns the staging bytes used after offset. */
static int record_append(vk_ctx *c, const void *k_new, const void *v_new, int64_t n, VkDeviceSize offset)
{
	const uint64_t kb = tensor_bytes(&c->cache_shape, c->cache_shape.n_kv_heads, n);
	char *st = c->staging.map;
	const uint64_t rows = tensor_rows(&c->cache_shape, c->cache_shape.n_kv_heads, n);
	pack_rows(&c->cache_shape, st + offset, k_new, rows);
	pack_rows(&c->cache_shape, st + offset + kb, v_new, rows);
	int rc = cmd_cache_upload(c, c->cache_k.buf, offset, n);
	if (!rc)
		rc = cmd_cache_upload(c, c->cache_v.buf, offset + kb, n);
	return rc;
}

/* Check that n more tokens fit the cache. */
static int check_room(vk_ctx *c, int64_t n, const char *what)
{
	if (!c->cache_k.buf)
		return set_err(c, ATTN_E_INVALID, "%s before cache_alloc", what);
	if (n < 0 || c->cache_len + n > c->cache_cap)
		return set_err(c, ATTN_E_INVALID, "cache overflow: %lld + %lld tokens > capacity %lld",
		               (long long)c->cache_len, (long long)n, (long long)c->cache_cap);
	return ATTN_OK;
}

/* Append n tokens to the cache without attention. */
static int vk_cache_append(void *ctx, const void *k_new, const void *v_new, int64_t n)
{
	vk_ctx *c = ctx;
	if (entry_check(c))
		return ATTN_E_DEVICE;
	int rc = check_room(c, n, "cache_append");
	if (rc || n == 0)
		return take_validation(c, rc);
	const vk_want want = {&c->staging, 2 * tensor_bytes(&c->cache_shape, c->cache_shape.n_kv_heads, n), 1};
	rc = ensure_bufs(c, &want, 1);
	if (!rc)
		rc = cmd_begin(c);
	if (!rc)
		rc = record_append(c, k_new, v_new, n, 0);
	if (!rc) {
		cmd_barrier(c, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
		            VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT);
		rc = cmd_submit(c, 0);
	}
	if (!rc)
		c->cache_len += n;
	return take_validation(c, rc);
}

static int64_t vk_cache_len(void *ctx)
{
	return ((vk_ctx *)ctx)->cache_len;
}

/* Forget tokens past len; the data stays where it is. */
static int vk_cache_truncate(void *ctx, int64_t len)
{
	vk_ctx *c = ctx;
	if (len < 0 || len > c->cache_len)
		return set_err(c, ATTN_E_INVALID, "cache_truncate to %lld, but the cache holds %lld", (long long)len,
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
	vk_plan p;
	char why[256];
	c->last_ns = -1;
	if (entry_check(c))
		return ATTN_E_DEVICE;
	int rc = check_room(c, s->n_q, what);
	if (rc)
		return rc;
	if (s->batch != cs->batch || s->n_kv_heads != cs->n_kv_heads || s->head_dim != cs->head_dim ||
	    s->dtype != cs->dtype)
		return set_err(c, ATTN_E_INVALID, "%s: shape does not match the allocated cache", what);
	if (s->n_kv != c->cache_len + s->n_q)
		return set_err(c, ATTN_E_INVALID, "%s: n_kv %lld != cache length %lld + n_q %lld", what,
		               (long long)s->n_kv, (long long)c->cache_len, (long long)s->n_q);
	attn_shape sc = *s;
	sc.causal = 1;
	if (!plan_shape(c, &sc, c->cache_cap, &p, why, sizeof why) ||
	    !shape_fits(c, &sc, c->cache_cap, 0, p.decode ? p.part_bytes : 16, why, sizeof why))
		return set_err(c, ATTN_E_UNSUPPORTED, "%s", why);
	const uint64_t qb = tensor_bytes(s, s->n_heads, s->n_q), kb = tensor_bytes(s, s->n_kv_heads, s->n_q);
	const uint64_t ob = out_bytes(s);
	const vk_want want[] = {
	    {&c->staging, qb + ob + 2 * kb, 1},
	    {&c->q, qb, 0},
	    {&c->out, ob, 0},
	    {&c->part, p.decode ? p.part_bytes : 16, 0},
	};
	rc = ensure_bufs(c, want, sizeof want / sizeof want[0]);
	if (rc)
		return take_validation(c, rc);
	char *st = c->staging.map;
	pack_rows(s, st, q, tensor_rows(s, s->n_heads, s->n_q));
	rc = bind_buffers(c, &c->cache_k, &c->cache_v, cs->dtype);
	if (!rc)
		rc = cmd_begin(c);
	if (!rc) {
		cmd_copy(c, c->q.buf, 0, 0, qb);
		rc = record_append(c, k_new, v_new, s->n_q, qb);
	}
	if (!rc)
		rc = cmd_attention(c, &sc, &p, c->cache_cap);
	if (!rc) {
		VkBufferCopy r = {.srcOffset = 0, .dstOffset = qb + 2 * kb, .size = ob};
		c->vk.vkCmdCopyBuffer(c->cmd, c->out.buf, c->staging.buf, 1, &r);
		rc = cmd_submit(c, 1);
	}
	if (!rc) {
		unpack_rows(s, out, st + qb + 2 * kb, tensor_rows(s, s->n_heads, s->n_q));
		c->cache_len += s->n_q;
	}
	return take_validation(c, rc);
}

static int vk_prefill(void *ctx, const attn_shape *s, const void *q, const void *k_new, const void *v_new, float *out)
{
	return cache_attend(ctx, s, q, k_new, v_new, out, "prefill");
}

static int vk_decode(void *ctx, const attn_shape *s, const void *q, const void *k_new, const void *v_new, float *out)
{
	if (s->n_q != 1)
		return set_err(ctx, ATTN_E_INVALID, "decode: n_q must be 1, got %lld", (long long)s->n_q);
	return cache_attend(ctx, s, q, k_new, v_new, out, "decode");
}

static uint64_t vk_cache_bytes(void *ctx)
{
	vk_ctx *c = ctx;
	return c->cache_k.buf ? 2 * tensor_bytes(&c->cache_shape, c->cache_shape.n_kv_heads, c->cache_cap) : 0;
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
	    .description = "Vulkan compute: flash attention, split-K decode, device KV cache (f32, f16, bf16 storage)",
	    .caps = ATTN_CAP_CAUSAL | ATTN_CAP_GQA | ATTN_CAP_KV_CACHE | ATTN_CAP_DEVICE_TIMER | ATTN_CAP_F16 |
	            ATTN_CAP_BF16,
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
	};
	return &be;
}
