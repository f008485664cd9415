/* blas_softmax.h - the softmax between blas.c's two GEMMs, on rows of
 * scores. blas_softmax.c is compiled once for the build's baseline and once
 * more per x86-64 instruction set (the Makefile, as blocked_tile.c), each
 * compilation defining one of these; blas.c takes the widest the CPU runs
 * (cpu_isas). */
#ifndef ATTN_BLAS_SOFTMAX_H
#define ATTN_BLAS_SOFTMAX_H

#include "cpu_common.h"

/* The softmax of rows r0..r1-1 of group g (scores S, rows n floats apart,
 * entry t of a row is key klo + t, of a sequence of nq queries and nkv
 * keys), in place: the variants' score transform on each row's visible
 * keys, then exp(x - max) on them and 0 on the rest; inv[r - r0] gets 1 /
 * the row's sum (with the sink in the denominator; 0 for a row without a
 * visible key), by which its output is scaled after P V. */
typedef void (*blas_softmax_fn)(const attn_shape *s, int64_t nq, int64_t nkv, int64_t g, int64_t r0, int64_t r1,
                                int64_t klo, int64_t n, float *S, float *inv);

void blas_softmax_generic(const attn_shape *s, int64_t nq, int64_t nkv, int64_t g, int64_t r0, int64_t r1, int64_t klo,
                          int64_t n, float *S, float *inv);
#ifdef CPU_X86_ISAS
void blas_softmax_avx2(const attn_shape *s, int64_t nq, int64_t nkv, int64_t g, int64_t r0, int64_t r1, int64_t klo,
                       int64_t n, float *S, float *inv);
void blas_softmax_avx512(const attn_shape *s, int64_t nq, int64_t nkv, int64_t g, int64_t r0, int64_t r1, int64_t klo,
                         int64_t n, float *S, float *inv);
#endif

#endif
