/* point.h - one measured situation of a sweep (a phase and a shape) and the
 * FLOP and byte counts results.csv derives from it. The grid that produces
 * points is in model/sweep_config.c; the counts and the ragged lengths are
 * defined once, in model/counts.c. */
#ifndef ATTN_MODEL_POINT_H
#define ATTN_MODEL_POINT_H

#include <stddef.h>
#include <stdint.h>

#include "attnbench.h"

enum phase { PHASE_PREFILL = 1, PHASE_DECODE = 2, PHASE_ATTEND = 4 };

/* What the caches hold when a timed call starts: cold, the point's data has
 * been evicted from every level since the last call (run/measure.c); hot,
 * the last call left it there. */
enum cache_state { CACHE_COLD = 1, CACHE_HOT = 2 };

/* One measured situation. seq_len is the number of new tokens (1 for
 * decode); cache_len the number of keys attended (the longest sequence's
 * capacity when ragged). shape carries window, softcap, head_dim_v and
 * kv_storage (0 when the KV storage is the dtype); its pointers (alibi,
 * sinks, q_lens, kv_lens) stay NULL here: the flags below say what the
 * measurement builds. */
typedef struct sweep_point {
	enum phase phase;
	attn_shape shape;
	int64_t seq_len, cache_len;
	int alibi, sinks;  /* 1: ALiBi slopes 2^(-8(h+1)/H); a fixed sink vector */
	int64_t page_size; /* > 0: K and V in a paged pool (attend_paged) */
	int64_t lens;      /* the ragged lengths' distribution (lens_parse); 0: equal */
	int cache_state;   /* CACHE_COLD or CACHE_HOT; 0: the phase's default */
} sweep_point;

/* The cache state a phase is measured in unless told: decode cold (in an
 * engine every other layer's cache and weights pass through the caches
 * between two decode steps of one layer), prefill and attend hot. */
enum cache_state cache_state_default(enum phase ph);

/* p's cache state: its own, or its phase's default. */
enum cache_state point_cache_state(const sweep_point *p);

/* "cold" or "hot". */
const char *cache_state_name(enum cache_state c);

/* FLOPs, bytes moved and KV-cache bytes of a point (docs/results.md):
 * FLOPs 2 * (head_dim + head_dim_v) per query head and query-key pair the
 * masks leave (per sequence when ragged); bytes Q and K, V at their stored
 * size read once, O (float32) written once; the cache at its stored size. */
double point_flops(const sweep_point *p);
double point_bytes(const sweep_point *p);
uint64_t point_kv_bytes(const sweep_point *p);

/* ---- ragged lengths ---------------------------------------------------------- */

/* A distribution of per-sequence lengths with its seed, as one integer:
 * 0 is equal lengths; otherwise (kind << 32) | seed. */
enum lens_kind { LENS_EQUAL, LENS_UNIFORM, LENS_CHAT };
#define LENS_MAX_SEED 0xffffffffu

/* "uniform:SEED" or "chat:SEED" (SEED 0..4294967295), or "" / "equal" for
 * equal lengths, into *code. Returns 1, or 0 for anything else. */
int lens_parse(const char *s, int64_t *code);

/* The text of a code: "" for equal lengths, else "uniform:7". */
void lens_format(int64_t code, char *buf, size_t len);

/* The per-sequence key counts of p (batch values, each 1..max where max is
 * cache_len for decode, seq_len otherwise) and query counts (1 for decode,
 * the key count otherwise: prefill into an empty cache). Deterministic in
 * the code's seed. With equal lengths every count is the point's own. */
void point_lens(const sweep_point *p, int64_t *q_lens, int64_t *kv_lens);

#endif
