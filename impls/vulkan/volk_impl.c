/* volk_impl.c - the volk meta-loader, compiled once for the Vulkan backend.
 * volk opens libvulkan.so.1 with dlopen, so nothing links against it. */
#define VOLK_VULKAN_H_PATH <vulkan/vulkan_core.h>
#include <volk.c>
