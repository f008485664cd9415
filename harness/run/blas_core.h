/* blas_core.h - OpenBLAS's kernels chosen from the instruction set. */
#ifndef ATTN_BLAS_CORE_H
#define ATTN_BLAS_CORE_H

/* OpenBLAS's DYNAMIC_ARCH picks its kernels from the CPU's model number when
 * the library loads; a VM that hides the model gets the SSE3 "Prescott"
 * kernels, which run sgemm at a fraction of the machine (48 against 290
 * GFLOP/s on a 2-CPU AVX-512 Xeon VM): the blas backend then measures slow
 * and every pct_peak_flops divides by a ceiling the kernels beat by 3x.
 * When OPENBLAS_CORETYPE is unset and OpenBLAS chose such a generic core on
 * a CPU with AVX2+FMA or AVX-512, this sets it (Haswell or SkylakeX) and
 * runs the program again with argv, once (the variable is then set).
 * Returns only when nothing was done or the exec failed. */
void blas_core_pick(char **argv);

#endif
