/* point.h - one measured situation of a sweep (a phase and a shape) and the
 * FLOP and byte counts results.csv derives from it. The grid that produces
 * points is in run/sweep.h; the counts are defined in sweep_config.c. */
#ifndef ATTN_MODEL_POINT_H
#define ATTN_MODEL_POINT_H

#include <stdint.h>

#include "attnbench.h"

enum phase { PHASE_PREFILL = 1, PHASE_DECODE = 2, PHASE_ATTEND = 4 };

/* One measured situation. seq_len is the number of new tokens (1 for
 * decode); cache_len the number of keys attended. */
typedef struct sweep_point {
	enum phase phase;
	attn_shape shape;
	int64_t seq_len, cache_len;
} sweep_point;

/* FLOPs, bytes moved and KV-cache bytes of a point (docs/formats.md). */
double point_flops(const sweep_point *p);
double point_bytes(const sweep_point *p);
uint64_t point_kv_bytes(const sweep_point *p);

#endif
