/*
 * vk_error.c - errors of the Vulkan backend: VkResult names, the instance's
 * error message (vk_set_err, vk_fail and VK_CHECK, which names the failed
 * call), faults that stop an instance from touching the device again (a
 * timed-out wait, a lost device: vk_mark_fault, vk_entry_check), and the
 * messages of the validation layer (vk_take_validation).
 */
#include "vk_internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Name of a VkResult, as in the Vulkan headers. */
const char *vk_result_name(VkResult r)
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
void vk_fmt_size(char *buf, size_t len, uint64_t bytes)
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
int vk_set_err(vk_ctx *c, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
	return code;
}

/* Mark the instance faulty (a timed-out wait or a lost device) with the
 * message of the call that found it, already in c->err; the first fault
 * stays. From now on no entry point touches the device (vk_entry_check). */
int vk_mark_fault(vk_ctx *c, int kind)
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
int vk_fail(vk_ctx *c, const char *what, VkResult r)
{
	int code = ATTN_E_DEVICE;
	if (r == VK_ERROR_OUT_OF_HOST_MEMORY || r == VK_ERROR_OUT_OF_DEVICE_MEMORY ||
	    r == VK_ERROR_OUT_OF_POOL_MEMORY || r == VK_ERROR_FRAGMENTED_POOL || r == VK_ERROR_FRAGMENTATION)
		code = ATTN_E_NOMEM;
	vk_set_err(c, code, "%s: %s", what, vk_result_name(r));
	if (r == VK_ERROR_DEVICE_LOST)
		return vk_mark_fault(c, FAULT_LOST);
	return code;
}

/* "vkQueueSubmit" from the text "c->vk.vkQueueSubmit(c->queue, ...)". */
const char *vk_call_name(const char *text)
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
int vk_take_validation(vk_ctx *c, int rc)
{
	if (!c->val_pending)
		return rc;
	c->val_pending = 0;
	vk_set_err(c, ATTN_E_DEVICE, "validation: %s", c->val_msg);
	return ATTN_E_DEVICE;
}

/* Before any work: refuse at once after a fault (a timed-out wait: the
 * device may still be using the buffers; a lost device: nothing it does can
 * be trusted) without touching the device, and report a validation message
 * that arrived since the last call. Returns ATTN_OK or ATTN_E_DEVICE. */
int vk_entry_check(vk_ctx *c)
{
	if (c->fault == FAULT_TIMEOUT)
		return vk_set_err(c, ATTN_E_DEVICE,
		                  "device timed out earlier: %s; this instance no longer uses the device",
		                  c->fault_msg);
	if (c->fault)
		return vk_set_err(c, ATTN_E_DEVICE, "device lost: %s; this instance no longer uses the device",
		                  c->fault_msg);
	return vk_take_validation(c, ATTN_OK);
}
