/*
 * vk_instance.c - instance and devices: the loader (volk), the instance
 * with the validation layer and debug messenger when asked, the physical
 * device chosen by attn_config.device with its limits, subgroup and 16-bit
 * features, and the logical device with one compute queue (setup steps 1,
 * 2 and 4 of vk_create); probe() and list_devices(), which need no instance
 * of the backend.
 */
#include "vk_internal.h"

#include <ctype.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define VALIDATION_LAYER "VK_LAYER_KHRONOS_validation"

/* ------------------------------------------------------------------ */
/* Validation */

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
int vk_probe(char *why, size_t why_len)
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
void vk_list_devices(char *buf, size_t len)
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
int vk_setup_instance(vk_ctx *c)
{
	if (loader_init() != VK_SUCCESS)
		return vk_set_err(c, ATTN_E_DEVICE, "no Vulkan loader (libvulkan.so.1 not found)");
	if (instance_api_version() < VK_API_VERSION_1_1)
		return vk_set_err(c, ATTN_E_DEVICE, "the Vulkan loader only offers Vulkan 1.0; 1.1 is needed");
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
			return vk_set_err(c, ATTN_E_UNSUPPORTED,
			                  "ATTNBENCH_VK_VALIDATION is set but the %s layer is not installed "
			                  "(Debian: vulkan-validationlayers)",
			                  VALIDATION_LAYER);
		if (!have_instance_ext(NULL, VK_EXT_DEBUG_UTILS_EXTENSION_NAME) &&
		    !have_instance_ext(VALIDATION_LAYER, VK_EXT_DEBUG_UTILS_EXTENSION_NAME))
			return vk_set_err(c, ATTN_E_UNSUPPORTED,
			                  "ATTNBENCH_VK_VALIDATION is set but VK_EXT_debug_utils is not available");
	}
	VkResult r = instance_create(c->validation ? &dbg : NULL, &c->instance);
	if (r != VK_SUCCESS) {
		c->instance = VK_NULL_HANDLE;
		return vk_set_err(c, r == VK_ERROR_OUT_OF_HOST_MEMORY ? ATTN_E_NOMEM : ATTN_E_DEVICE,
		                  "vkCreateInstance failed: %s", vk_result_name(r));
	}
	c->destroy_instance = (PFN_vkDestroyInstance)vkGetInstanceProcAddr(c->instance, "vkDestroyInstance");
	if (c->validation) {
		c->destroy_messenger = (PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
		    c->instance, "vkDestroyDebugUtilsMessengerEXT");
		VK_CHECK(c, vkCreateDebugUtilsMessengerEXT(c->instance, &dbg, NULL, &c->messenger));
	}
	return vk_take_validation(c, ATTN_OK);
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

/* Step 2: choose the physical device (attn_config.device) and read its
 * properties. */
int vk_setup_physical_device(vk_ctx *c, const char *sel)
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
			return vk_set_err(c, ATTN_E_INVALID,
			                  "no Vulkan device matches '%s' (%u devices; see attnbench list)", sel, n);
		return vk_set_err(c, ATTN_E_UNSUPPORTED,
		                  n ? "no Vulkan 1.1 device with a compute queue" : "no Vulkan device");
	}
	c->phys = pd[pick];
	free(pd);
	if (!device_usable(c->phys))
		return vk_set_err(c, ATTN_E_UNSUPPORTED, "Vulkan device '%s' lacks Vulkan 1.1 or a compute queue", sel);

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
	vk_setup_memory_limits(c, m3.maxMemoryAllocationSize, m4.maxBufferSize);

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

/* Step 4: logical device with one compute queue; device functions are
 * loaded into this instance's own table. */
int vk_setup_device(vk_ctx *c)
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
	return vk_take_validation(c, ATTN_OK);
}
