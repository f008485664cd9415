/* bad_abi.c - a test backend library built for another ABI version: attnbench
 * must refuse it. */
#include <attnbench.h>

static const attn_backend bad = {.abi_version = ATTN_ABI_VERSION + 100, .name = "badabi"};

const attn_backend *const *attnbench_backends(uint32_t *count)
{
	static const attn_backend *const tables[] = {&bad};
	*count = 1;
	return tables;
}
