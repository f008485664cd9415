/* fma_peak.c - see fma_peak.h.
 *
 * The loop: FMA_CHAINS accumulators, each a = a * m + c per step. One chain
 * would wait out the multiply-add latency (4 cycles) at every step; with
 * two units per core, 8 chains in flight keep both busy, and 12 leave room
 * for the loop's own instructions. m < 1 and c > 0 hold every value near
 * c / (1 - m) = 1: no overflow, no denormal slowing a unit down. Each
 * chain starts elsewhere, so that no compiler can merge them.
 *
 * One body per vector width, each compiled for its instruction set by a
 * target attribute and picked at run time from what the CPU reports, as the
 * blocked backend picks its kernels: 16 floats under AVX-512 (32 registers
 * hold the 12 chains), 8 under AVX2+FMA (16 registers), 4 elsewhere. GCC
 * contracts a * m + c into one multiply-add where the target has one. */
#include "run/fma_peak.h"

#define FMA_CHAINS 12

volatile float fma_sink;

/* An empty asm that takes a vector and gives it back: the compiler must
 * hold every lane of every chain in a register each step, as the kernel it
 * stands for does, and cannot fold steps together. It emits no
 * instruction. */
#if defined(__x86_64__)
#define FMA_KEEP(x) __asm__("" : "+v"(x))
#else
#define FMA_KEEP(x) ((void)0)
#endif

#define FMA_BODY(vec, lanes)                                                                                           \
	do {                                                                                                           \
		typedef float vec __attribute__((vector_size(4 * (lanes))));                                           \
		const vec m = (vec){0} + 0.999999f, c = (vec){0} + 1e-6f;                                              \
		vec a0 = m, a1 = m - 1e-3f, a2 = m - 2e-3f, a3 = m - 3e-3f, a4 = m - 4e-3f, a5 = m - 5e-3f;            \
		vec a6 = m - 6e-3f, a7 = m - 7e-3f, a8 = m - 8e-3f, a9 = m - 9e-3f, a10 = m - 1e-2f, a11 = m - 11e-3f; \
		for (long i = 0; i < n; i++) {                                                                         \
			a0 = a0 * m + c, a1 = a1 * m + c, a2 = a2 * m + c, a3 = a3 * m + c;                            \
			a4 = a4 * m + c, a5 = a5 * m + c, a6 = a6 * m + c, a7 = a7 * m + c;                            \
			a8 = a8 * m + c, a9 = a9 * m + c, a10 = a10 * m + c, a11 = a11 * m + c;                        \
			FMA_KEEP(a0);                                                                                  \
			FMA_KEEP(a1);                                                                                  \
			FMA_KEEP(a2);                                                                                  \
			FMA_KEEP(a3);                                                                                  \
			FMA_KEEP(a4);                                                                                  \
			FMA_KEEP(a5);                                                                                  \
			FMA_KEEP(a6);                                                                                  \
			FMA_KEEP(a7);                                                                                  \
			FMA_KEEP(a8);                                                                                  \
			FMA_KEEP(a9);                                                                                  \
			FMA_KEEP(a10);                                                                                 \
			FMA_KEEP(a11);                                                                                 \
		}                                                                                                      \
		const vec s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;                             \
		float t = 0;                                                                                           \
		for (int k = 0; k < (lanes); k++)                                                                      \
			t += s[k];                                                                                     \
		fma_sink = t;                                                                                          \
		return 2.0 * FMA_CHAINS * (lanes) * (double)n;                                                         \
	} while (0)

#if defined(__x86_64__)
__attribute__((target("avx512f"))) static double burst_avx512(long n)
{
	FMA_BODY(v16, 16);
}

__attribute__((target("avx2,fma"))) static double burst_avx2(long n)
{
	FMA_BODY(v8, 8);
}
#endif

static double burst_generic(long n)
{
	FMA_BODY(v4, 4);
}

/* 2: AVX-512, 1: AVX2 with FMA, 0: neither (or not x86-64). */
static int fma_level(void)
{
#if defined(__x86_64__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f"))
		return 2;
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		return 1;
#endif
	return 0;
}

const char *fma_isa(void)
{
	static const char *const names[] = {"generic", "avx2", "avx512"};
	return names[fma_level()];
}

double fma_burst(long n)
{
	switch (fma_level()) {
#if defined(__x86_64__)
	case 2:
		return burst_avx512(n);
	case 1:
		return burst_avx2(n);
#endif
	default:
		return burst_generic(n);
	}
}
