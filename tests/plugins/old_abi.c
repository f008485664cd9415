/* old_abi.c - a backend library built against the frozen ABI 1 header
 * (tests/plugins/abi1/attnbench.h, as it was before the interface could
 * grow). Its table is followed in memory by a pointer where ABI 2 put
 * instance_info: a harness that read the table as ABI 2 would call trap()
 * and abort. attnbench must load it, list it and never call trap(). */
#include <stdio.h>
#include <stdlib.h>

#include <attnbench.h>

#include "abi_layout.h"

/* the structures' layout as the ABI 1 header defines it (test_abi.c) */
const size_t attnbench_test_abi1_layout[] = ABI1_LAYOUT;

static const char *trap(void *ctx)
{
	(void)ctx;
	fputs("old_abi: ABI 2's instance_info was read from an ABI 1 table\n", stderr);
	abort();
}

static int create(const attn_config *cfg, void **ctx, char *err, size_t err_len)
{
	(void)cfg;
	(void)err;
	(void)err_len;
	static int instance;
	*ctx = &instance;
	return ATTN_OK;
}

static void destroy(void *ctx)
{
	(void)ctx;
}

static const char *device_name(void *ctx)
{
	(void)ctx;
	return "oldcpu";
}

static const char *last_error(void *ctx)
{
	(void)ctx;
	return "";
}

static int supports(void *ctx, const attn_shape *s, char *why, size_t why_len)
{
	(void)ctx;
	(void)s;
	snprintf(why, why_len, "a test of loading only");
	return 0;
}

static uint64_t workspace_bytes(void *ctx, const attn_shape *s)
{
	(void)ctx;
	(void)s;
	return 0;
}

static int attend(void *ctx, const attn_shape *s, const void *q, const void *k, const void *v, float *out)
{
	(void)ctx;
	(void)s;
	(void)q;
	(void)k;
	(void)v;
	(void)out;
	return ATTN_E_UNSUPPORTED;
}

static const struct {
	attn_backend be;              /* the whole table as ABI 1 defined it */
	const char *(*after)(void *); /* where ABI 2 appended instance_info */
} old = {
    {.abi_version = ATTN_ABI_VERSION,
     .name = "oldabi",
     .description = "built against the ABI 1 header",
     .create = create,
     .destroy = destroy,
     .device_name = device_name,
     .last_error = last_error,
     .supports = supports,
     .workspace_bytes = workspace_bytes,
     .attend = attend},
    trap,
};

const attn_backend *const *attnbench_backends(uint32_t *count)
{
	static const attn_backend *const tables[] = {&old.be};
	*count = 1;
	return tables;
}
