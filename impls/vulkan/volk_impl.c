/* volk_impl.c - the volk meta-loader, compiled once for the Vulkan backend.
 * volk opens libvulkan.so.1 with dlopen, so nothing links against it. */
#include <volk.c>
