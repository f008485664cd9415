/* builtin.h - the built-in backends, as the harness sees them: one getter
 * each, returning the backend's attn_backend table. This is all the harness
 * knows of impls/; each backend's own header and context stay private.
 *
 * To add a backend: write impls/<name>/ with a getter declared here, and add
 * it to the table in harness/run/registry.c (behind its #ifdef when it has
 * optional dependencies). */
#ifndef ATTN_BUILTIN_H
#define ATTN_BUILTIN_H

#include "attnbench.h"

/* impls/cpu/: the textbook reference, the flash-style kernel, OpenBLAS */
const attn_backend *attn_backend_naive(void);
const attn_backend *attn_backend_blocked(void);
const attn_backend *attn_backend_blas(void);

/* impls/vulkan/: compute shaders (built where the Vulkan headers, volk and
 * glslc exist; ATTN_HAVE_VULKAN) */
const attn_backend *attn_backend_vulkan(void);

#endif
