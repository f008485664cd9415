/* stub_roofline.c - the one roofline function results.c calls, for the
 * fuzz_results target only: it is used by the results.csv writer, which the
 * target never reaches, and keeps the measuring code (OpenMP, BLAS) out of
 * the fuzzer. */
#include "run/roofline.h"

double roofline_bw_for(const roofline *r, uint64_t kv_bytes)
{
	(void)r;
	(void)kv_bytes;
	return 0;
}
