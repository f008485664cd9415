/* sweep_config.h - the sweep grid: its keys (one table: config-file name,
 * command-line spelling, limits, help), the config file, the command-line
 * overrides, and the expansion into measured points. */
#ifndef ATTN_SWEEP_CONFIG_H
#define ATTN_SWEEP_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "attnbench.h"
#include "lib/util.h"
#include "model/point.h"

#define SWEEP_MAX_LIST  64
#define SWEEP_MAX_GRIDS 16
#define SWEEP_MAX_REPS  1000
#define SWEEP_MAX_SECS  3600 /* min_time */
#define SWEEP_BACKENDS  256  /* bytes of the backends setting, NUL included */

typedef struct int_list {
	int n;
	int64_t v[SWEEP_MAX_LIST];
} int_list;

typedef struct real_list {
	int n;
	double v[SWEEP_MAX_LIST];
} real_list;

/* One [section] of a config: the cartesian product of its lists. */
typedef struct sweep_grid {
	char name[64];
	int phases; /* PHASE_* mask */
	int dtypes; /* bit 1 << attn_dtype for each storage type measured */
	int_list seq, cache, heads, gqa, head_dim, batch, causal;
	/* variants and KV storage (0 in a list: off) */
	int_list window, alibi, sinks, head_dim_v, page_size;
	int_list lens;     /* lens_parse codes (model/point.h); 0: equal lengths */
	real_list softcap; /* 0: none */
	int kv_dtypes;     /* bit 1 << attn_dtype per K/V storage type; 0: the dtype */
	int cache_states;  /* bit 0 cold, bit 1 hot (1 << (cache_state - 1)); 0: the phase's default */
} sweep_grid;

typedef struct sweep_config {
	int ngrids;
	sweep_grid grids[SWEEP_MAX_GRIDS];
	char backends[SWEEP_BACKENDS]; /* "all" or a list */
	int repetitions;
	double min_time;  /* seconds per repetition (Google Benchmark MinTime) */
	uint64_t max_mem; /* bytes; 0 = half the machine's RAM */
} sweep_config;

/* ---- the keys ------------------------------------------------------------ */

/* What a key's value is, and how it is checked. */
enum sweep_key_kind {
	SWEEP_KEY_INTS,    /* comma list of integers in lo..hi: an int_list */
	SWEEP_KEY_NAMES,   /* comma list of names[]: a bit mask, bit i for names[i] */
	SWEEP_KEY_INT,     /* one integer in lo..hi */
	SWEEP_KEY_SECONDS, /* seconds in (0, hi] */
	SWEEP_KEY_SIZE,    /* a size such as 8GiB, not 0 */
	SWEEP_KEY_TEXT,    /* non-empty text */
	SWEEP_KEY_REALS,   /* comma list of numbers in lo..hi: a real_list */
	SWEEP_KEY_LENS,    /* comma list of length distributions: an int_list of lens codes */
};

/* One key of a config file. Grid keys (per_grid) are set in each [section]
 * or before the first as every section's default; the others are settings
 * of the whole run, before the first section only. A key with a flag is also
 * a command-line option of sweep and bench (--flag), which overrides the
 * config in every grid. */
typedef struct sweep_key {
	const char *name; /* in a config file: "head_dim" */
	const char *flag; /* on the command line, without "--": "head-dim"; NULL: none */
	const char *arg;  /* the value in usage text: "L" */
	const char *help; /* one line for usage text; the limits are added from lo, hi or names */
	enum sweep_key_kind kind;
	int per_grid; /* 1: a grid key (in sweep_grid), 0: a run setting (in sweep_config) */
	int64_t lo, hi;
	size_t off;               /* where the value lives in sweep_grid or sweep_config */
	const char *const *names; /* SWEEP_KEY_NAMES: the names, in bit order */
	int nnames;
} sweep_key;

/* Every key, in the order usage text lists them. */
extern const sweep_key sweep_keys[];
extern const int sweep_nkeys;

/* The key called name (config spelling), or NULL. */
const sweep_key *sweep_key_find(const char *name);

/* The values key accepts, for usage text and messages: "1..256",
 * "prefill, decode or attend", "(0, 3600] seconds", ... */
void sweep_key_limits(const sweep_key *k, char *buf, size_t len);

/* ---- config and overrides -------------------------------------------------- */

/* The built-in default grid (used when no --config is given). */
void sweep_config_default(sweep_config *c);

/* Parse a config file (format in datasets/sweeps/default.conf). Returns 0 or
 * EXIT_INPUT naming the file, line and key. */
int sweep_config_read(const char *path, sweep_config *c, attn_err *e);

/* Set one key ("seq", "repetitions", ...) from its text: a grid key in
 * every grid, a run setting once (the command-line overrides). where names
 * the source for messages ("--seq"). Returns 0 or EXIT_INPUT. */
int sweep_config_set(sweep_config *c, const char *key, const char *val, const char *where, attn_err *e);

/* ---- points ---------------------------------------------------------------- */

/* Expand the grids into distinct points; *pts is malloc'ed. Combinations
 * where gqa does not divide heads are left out. */
int sweep_points(const sweep_config *c, sweep_point **pts, int *n, attn_err *e);

/* Are a and b the same point (phase, shape, lengths, dtype, variants, KV
 * storage, page size and length distribution)? */
int sweep_point_same(const sweep_point *a, const sweep_point *b);

#endif
