/* blas_core.c - see blas_core.h. */
#include "run/blas_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cblas.h>

/* The kernel sets OpenBLAS falls back to when it does not know the model:
 * none of them uses AVX. */
static int generic_core(const char *core)
{
	static const char *const generic[] = {"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom"};
	for (size_t i = 0; i < sizeof generic / sizeof generic[0]; i++)
		if (!strcasecmp(core, generic[i]))
			return 1;
	return 0;
}

void blas_core_pick(char **argv)
{
#if defined(__x86_64__)
	if (getenv("OPENBLAS_CORETYPE"))
		return;
	const char *core = openblas_get_corename();
	if (!core || !generic_core(core))
		return;
	__builtin_cpu_init();
	const char *want = NULL;
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
	    __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq"))
		want = "SkylakeX";
	else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		want = "Haswell";
	if (!want || setenv("OPENBLAS_CORETYPE", want, 1) != 0)
		return;
	execv("/proc/self/exe", argv);
	/* the exec failed: go on with the kernels it has */
	unsetenv("OPENBLAS_CORETYPE");
#else
	(void)argv;
#endif
}
