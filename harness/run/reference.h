/* reference.h - attention computed by the harness itself, every variant of
 * attnbench.h included: the float64 reference of check --random and the
 * f32 attention of the ratio rule (golden.c). One implementation of the
 * semantics for both. */
#ifndef ATTN_RUN_REFERENCE_H
#define ATTN_RUN_REFERENCE_H

#include <stdint.h>

#include "attnbench.h"

/* Attention of shape s over q, k, v given as f32 (layouts of attnbench.h;
 * v and out rows of attn_head_dim_v(s) elements): window, softcap, ALiBi,
 * sinks and ragged lengths as the header orders them. A query row that sees
 * no key and has no sink comes out 0; rows past q_lens[b] come out 0 too
 * (they are never compared), and padding rows of q, k and v are not read.
 * With out64, every step is float64; with out32 (out64 NULL), every sum,
 * product and quotient is rounded to float32 as plain f32 code would be.
 * Returns 0 or -1 (out of memory). */
int attn_reference(const attn_shape *s, const float *q, const float *k, const float *v, double *out64, float *out32);

/* The absolute position of query i of sequence b (bottom-right aligned),
 * and the count of queries and keys of sequence b. */
int64_t ref_q_len(const attn_shape *s, int64_t b);
int64_t ref_kv_len(const attn_shape *s, int64_t b);

#endif
