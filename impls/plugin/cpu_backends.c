/* cpu_backends.c - the built-in CPU backends (naive, blocked, blas) as a
 * backend library, built by `make backends-lib` into
 * build/libattnbench_cpu.so. Two builds of it, the baseline's and the
 * candidate's, load side by side under tags for an A/B sweep:
 *
 *   attnbench sweep --backend-lib base=OLD/libattnbench_cpu.so \
 *       --backend-lib cand=NEW/libattnbench_cpu.so --backend blocked@base,blocked@cand ...
 *
 * The library's objects are compiled with every symbol hidden, so the two
 * copies (and the binary's own built-in backends) keep their own code and
 * state; this entry point is all each exports. */
#include "attnbench.h"
#include "impls/builtin.h"

__attribute__((visibility("default"))) const attn_backend *const *attnbench_backends(uint32_t *count)
{
	static const attn_backend *tables[3];
	tables[0] = attn_backend_naive();
	tables[1] = attn_backend_blocked();
	tables[2] = attn_backend_blas();
	*count = 3;
	return tables;
}
