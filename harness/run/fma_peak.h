/* fma_peak.h - the machine's multiply-add ceiling: independent chains of
 * vector multiply-adds on registers alone, at the widest vector the CPU
 * takes. No kernel computes faster on this machine, so it is the compute
 * ceiling of the roofline and of pct_peak_flops (roofline.c times it). */
#ifndef ATTN_FMA_PEAK_H
#define ATTN_FMA_PEAK_H

/* Run n steps of the chains on the calling thread; returns the FLOPs done
 * (2 per lane of each multiply-add). The result of the arithmetic goes to a
 * sink, so that the compiler cannot drop it. */
double fma_burst(long n);

/* The vector the bursts use on this CPU: "avx512", "avx2" or "generic". */
const char *fma_isa(void);

#endif
