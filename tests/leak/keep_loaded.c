/* keep_loaded.c - preloaded into the test runs under LeakSanitizer.
 *
 * The Vulkan loader unloads the driver (Mesa's lavapipe) when the last
 * VkInstance goes, and the driver keeps process-lifetime state (LLVM's JIT,
 * shader caches) that its globals point to. Once unloaded, those blocks look
 * leaked and their stacks end in an unknown module, which no suppression can
 * name. Opening the loader and the driver once more with RTLD_NODELETE keeps
 * them mapped to the end of the process: their globals stay roots, nothing of
 * theirs is reported, and every leak that remains is a real one. Only the
 * attnbench processes are affected; anything else the tests start (sh,
 * gnuplot) returns at once. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <string.h>

__attribute__((constructor)) static void keep_vulkan_loaded(void)
{
	const char *me = program_invocation_short_name;
	if (strncmp(me, "attnbench", 9) != 0 && strncmp(me, "test_attnbench", 14) != 0)
		return;
	/* either may be missing (no Vulkan on the machine): then there is nothing to keep */
	dlopen("libvulkan.so.1", RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE);
	dlopen("libvulkan_lvp.so", RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE);
}
