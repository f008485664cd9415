/* sweep_config.c - the sweep grid: config file, command-line overrides and
 * expansion into points.
 *
 * Config format (see datasets/sweeps/default.conf): '#' starts a comment;
 * `key = value` lines; a `[name]` line starts a grid section. Keys before
 * the first section are settings for the whole run (backends, repetitions,
 * min_time, max_mem) or defaults that every section starts from. */
#include "model/sweep_config.h"
#include "lib/files.h"
#include "attn_half.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void list_set(int_list *l, int n, const int64_t *v)
{
	l->n = n;
	memcpy(l->v, v, (size_t)n * sizeof *v);
}

void sweep_config_default(sweep_config *c)
{
	memset(c, 0, sizeof *c);
	c->ngrids = 1;
	sweep_grid *g = &c->grids[0];
	snprintf(g->name, sizeof g->name, "default");
	g->phases = PHASE_PREFILL | PHASE_DECODE;
	g->dtypes = 1 << ATTN_F32;
	list_set(&g->seq, 3, (const int64_t[]){256, 512, 1024});
	list_set(&g->cache, 2, (const int64_t[]){1024, 4096});
	list_set(&g->heads, 1, (const int64_t[]){8});
	list_set(&g->gqa, 2, (const int64_t[]){1, 4});
	list_set(&g->head_dim, 1, (const int64_t[]){64});
	list_set(&g->batch, 1, (const int64_t[]){1});
	list_set(&g->causal, 1, (const int64_t[]){1});
	int_list *const off[] = {&g->window, &g->alibi, &g->sinks, &g->head_dim_v, &g->page_size, &g->lens};
	for (size_t i = 0; i < sizeof off / sizeof off[0]; i++)
		list_set(off[i], 1, (const int64_t[]){0});
	g->softcap.n = 1;
	snprintf(c->backends, sizeof c->backends, "all");
	c->repetitions = 5;
	c->min_time = 0.05;
}

/* Beyond the limits of each key, a grid is refused when the arrays of its
 * largest point would need more than SWEEP_MAX_POINT_BYTES (so that no byte
 * count overflows downstream) or when its lists multiply out to more than
 * SWEEP_MAX_COMBOS combinations. */
#define SWEEP_MAX_POINT_BYTES (INT64_C(1) << 60)
#define SWEEP_MAX_COMBOS      (INT64_C(1) << 20)
#define SWEEP_MAX_POINTS      1000000
#define SWEEP_MAX_LINE        4096 /* bytes in a config line, '\n' included */

/* bit i of the masks: PHASE_* == 1 << i, attn_dtype i */
static const char *const phase_names[] = {"prefill", "decode", "attend"};
static const char *const dtype_names[] = {"f32", "f16", "bf16"};
static const char *const kv_dtype_names[] = {"f32", "f16", "bf16", "q8_0", "q4_0", "fp8_e4m3"};
static const char *const cache_state_names[] = {"cold", "hot"}; /* CACHE_COLD, CACHE_HOT */

/* One line per key: its config name, command-line flag, value in usage
 * text, limits and help (sweep_key in sweep_config.h). */
#define GRID_INTS(name, flag, field, lo, hi, help)                                                                     \
	{                                                                                                              \
		name, flag, "L", help, SWEEP_KEY_INTS, 1, lo, hi, offsetof(sweep_grid, field), NULL, 0                 \
	}
#define GRID_NAMES(name, flag, arg, field, list, help)                                                                 \
	{                                                                                                              \
		name, flag, arg, help, SWEEP_KEY_NAMES, 1, 0, 0, offsetof(sweep_grid, field), list,                    \
		    (int)(sizeof list / sizeof list[0])                                                                \
	}
#define GRID_OF(name, flag, arg, kind, field, lo, hi, help)                                                            \
	{                                                                                                              \
		name, flag, arg, help, kind, 1, lo, hi, offsetof(sweep_grid, field), NULL, 0                           \
	}
#define SETTING(name, flag, arg, kind, field, lo, hi, help)                                                            \
	{                                                                                                              \
		name, flag, arg, help, kind, 0, lo, hi, offsetof(sweep_config, field), NULL, 0                         \
	}

/* Lists are refused outside these limits before anything is allocated. */
const sweep_key sweep_keys[] = {
    GRID_INTS("seq", "seq", seq, 1, INT64_C(1) << 24, "new tokens of prefill and attend"),
    GRID_INTS("heads", "heads", heads, 1, 4096, "query heads"),
    GRID_INTS("gqa", "gqa", gqa, 1, 4096, "query heads per KV head: 1 = MHA, heads = MQA"),
    GRID_INTS("cache", "cache", cache, 1, INT64_C(1) << 26, "keys attended by decode"),
    GRID_INTS("head_dim", "head-dim", head_dim, 1, 576, "head size"),
    GRID_INTS("batch", "batch", batch, 1, 65536, "sequences"),
    GRID_NAMES("phases", "phases", "P", phases, phase_names, "what is timed"),
    GRID_INTS("causal", "causal", causal, 0, 1, "attend: 1 causal, 0 not"),
    GRID_NAMES("dtype", "dtype", "T", dtypes, dtype_names, "storage type of Q, K, V and the cache"),
    GRID_NAMES("kv_dtype", "kv-dtype", "T", kv_dtypes, kv_dtype_names,
               "storage type of K, V and the cache (default: the dtype)"),
    GRID_INTS("head_dim_v", "head-dim-v", head_dim_v, 0, 576, "head size of V and O; 0: head_dim"),
    GRID_INTS("window", "window", window, 0, INT64_C(1) << 26, "sliding window in keys; 0: none"),
    GRID_OF("softcap", "softcap", "L", SWEEP_KEY_REALS, softcap, 0, 1000000, "score soft cap c; 0: none"),
    GRID_INTS("alibi", "alibi", alibi, 0, 1, "1: ALiBi slopes 2^(-8(h+1)/heads)"),
    GRID_INTS("sinks", "sinks", sinks, 0, 1, "1: a sink logit per head"),
    GRID_INTS("page_size", "page-size", page_size, 0, 1 << 20, "tokens per KV page; 0: contiguous"),
    GRID_OF("lens", "lens", "L", SWEEP_KEY_LENS, lens, 0, 0,
            "per-sequence lengths drawn up to the length (chat: long-tailed)"),
    GRID_NAMES("cache_state", "cache-state", "C", cache_states, cache_state_names,
               "cold: the point's data evicted from the caches between calls (default: decode cold, the rest hot)"),
    SETTING("repetitions", "repetitions", "N", SWEEP_KEY_INT, repetitions, 1, SWEEP_MAX_REPS,
            "timed repetitions per point"),
    SETTING("min_time", "min-time", "S", SWEEP_KEY_SECONDS, min_time, 0, SWEEP_MAX_SECS,
            "time each repetition runs at least"),
    SETTING("max_mem", "max-mem", "SIZE", SWEEP_KEY_SIZE, max_mem, 0, 0,
            "skip what needs more memory (default: half the RAM)"),
    SETTING("backends", NULL, NULL, SWEEP_KEY_TEXT, backends, 0, SWEEP_BACKENDS, "all, or a comma list"),
};
const int sweep_nkeys = (int)(sizeof sweep_keys / sizeof sweep_keys[0]);

const sweep_key *sweep_key_find(const char *name)
{
	for (int k = 0; k < sweep_nkeys; k++)
		if (!strcmp(sweep_keys[k].name, name))
			return &sweep_keys[k];
	return NULL;
}

void sweep_key_limits(const sweep_key *k, char *buf, size_t len)
{
	switch (k->kind) {
	case SWEEP_KEY_INTS:
	case SWEEP_KEY_INT:
		snprintf(buf, len, "%lld..%lld", (long long)k->lo, (long long)k->hi);
		break;
	case SWEEP_KEY_NAMES:
		*buf = 0;
		for (int j = 0; j < k->nnames; j++)
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
			         j == 0              ? ""
			         : j + 1 < k->nnames ? ", "
			                             : " or ",
			         k->names[j]);
		break;
	case SWEEP_KEY_SECONDS:
		snprintf(buf, len, "seconds in (0, %lld]", (long long)k->hi);
		break;
	case SWEEP_KEY_SIZE:
		snprintf(buf, len, "a size such as 8GiB");
		break;
	case SWEEP_KEY_REALS:
		snprintf(buf, len, "numbers in %lld..%lld", (long long)k->lo, (long long)k->hi);
		break;
	case SWEEP_KEY_LENS:
		snprintf(buf, len, "equal, uniform:SEED or chat:SEED (SEED 0..%u)", LENS_MAX_SEED);
		break;
	default:
		snprintf(buf, len, "text");
	}
}

/* A comma list of names (blanks allowed) as a mask: bit i for names[i]. */
static int set_names(const sweep_key *k, int *mask_out, const char *val, const char *where, attn_err *e)
{
	int mask = 0;
	const char *p = val;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		size_t n = strcspn(p, ", \t");
		if (!n)
			break;
		int i = 0;
		while (i < k->nnames && (strlen(k->names[i]) != n || strncmp(p, k->names[i], n)))
			i++;
		if (i == k->nnames) {
			char all[128];
			sweep_key_limits(k, all, sizeof all);
			return attn_errf(e, "%s: key '%s': '%.*s' is not %s", where, k->name, (int)(n > 40 ? 40 : n), p,
			                 all);
		}
		mask |= 1 << i;
		p += n;
	}
	if (!mask)
		return attn_errf(e, "%s: key '%s': empty", where, k->name);
	*mask_out = mask;
	return 0;
}

/* A comma list of integers (blanks allowed around the commas) within the
 * key's limits. */
static int set_ints(const sweep_key *k, int_list *l, const char *val, const char *where, attn_err *e)
{
	int64_t v[SWEEP_MAX_LIST];
	char buf[1024];
	if (strlen(val) >= sizeof buf)
		return attn_errf(e, "%s: key '%s': value longer than %zu bytes", where, k->name, sizeof buf - 1);
	size_t j = 0;
	for (const char *p = val; *p && j + 1 < sizeof buf; p++)
		if (*p != ' ' && *p != '\t')
			buf[j++] = *p;
	buf[j] = 0;
	int n = parse_i64_list(buf, v, SWEEP_MAX_LIST);
	if (n <= 0)
		return attn_errf(e, "%s: key '%s': '%.60s' is not a comma-separated list of at most %d integers", where,
		                 k->name, val, SWEEP_MAX_LIST);
	for (int i = 0; i < n; i++)
		if (v[i] < k->lo || v[i] > k->hi)
			return attn_errf(e, "%s: key '%s': %lld is outside %lld..%lld", where, k->name, (long long)v[i],
			                 (long long)k->lo, (long long)k->hi);
	list_set(l, n, v);
	return 0;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	char *end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		*--end = 0;
	return s;
}

/* A comma list of numbers (reals) or length distributions (lens codes):
 * each item is checked alone. */
static int set_items(const sweep_key *k, void *dst, const char *val, const char *where, attn_err *e)
{
	char buf[1024], limits[128];
	if (strlen(val) >= sizeof buf)
		return attn_errf(e, "%s: key '%s': value longer than %zu bytes", where, k->name, sizeof buf - 1);
	sweep_key_limits(k, limits, sizeof limits);
	int n = 0;
	const char *p = val;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		size_t len = strcspn(p, ",");
		memcpy(buf, p, len);
		buf[len] = 0;
		char *item = trim(buf);
		if (n == SWEEP_MAX_LIST)
			return attn_errf(e, "%s: key '%s': more than %d values", where, k->name, SWEEP_MAX_LIST);
		double d;
		int64_t code;
		if (k->kind == SWEEP_KEY_REALS && parse_f64(item, &d) && d >= (double)k->lo && d <= (double)k->hi)
			((real_list *)dst)->v[n++] = d;
		else if (k->kind == SWEEP_KEY_LENS && *item && lens_parse(item, &code))
			((int_list *)dst)->v[n++] = code;
		else
			return attn_errf(e, "%s: key '%s': '%.60s' is not %s", where, k->name, item, limits);
		if (!p[len])
			break;
		p += len + 1;
	}
	*(int *)dst = n; /* the n of either list */
	return 0;
}

/* Set key k from val into base, a sweep_grid (grid keys) or a
 * sweep_config (run settings). */
static int key_set(const sweep_key *k, void *base, const char *val, const char *where, attn_err *e)
{
	void *dst = (char *)base + k->off;
	char limits[128];
	sweep_key_limits(k, limits, sizeof limits);
	switch (k->kind) {
	case SWEEP_KEY_INTS:
		return set_ints(k, dst, val, where, e);
	case SWEEP_KEY_NAMES:
		return set_names(k, dst, val, where, e);
	case SWEEP_KEY_REALS:
	case SWEEP_KEY_LENS:
		return set_items(k, dst, val, where, e);
	case SWEEP_KEY_INT: {
		int64_t v;
		if (!parse_i64(val, &v) || v < k->lo || v > k->hi)
			return attn_errf(e, "%s: key '%s': '%.60s' is not an integer in %s", where, k->name, val,
			                 limits);
		*(int *)dst = (int)v;
		return 0;
	}
	case SWEEP_KEY_SECONDS: {
		double v;
		if (!parse_f64(val, &v) || !(v > 0) || v > (double)k->hi)
			return attn_errf(e, "%s: key '%s': '%.60s' is not %s", where, k->name, val, limits);
		*(double *)dst = v;
		return 0;
	}
	case SWEEP_KEY_SIZE: {
		uint64_t v;
		if (!parse_bytes(val, &v) || v == 0)
			return attn_errf(e, "%s: key '%s': '%.60s' is not %s", where, k->name, val, limits);
		*(uint64_t *)dst = v;
		return 0;
	}
	default:
		if (!*val || strlen(val) >= (size_t)k->hi)
			return attn_errf(e, "%s: key '%s': empty or longer than %lld bytes", where, k->name,
			                 (long long)k->hi - 1);
		snprintf(dst, (size_t)k->hi, "%s", val);
		return 0;
	}
}

int sweep_config_set(sweep_config *c, const char *key, const char *val, const char *where, attn_err *e)
{
	const sweep_key *k = sweep_key_find(key);
	if (!k)
		return attn_errf(e, "%s: unknown key '%s'", where, key);
	if (!k->per_grid)
		return key_set(k, c, val, where, e);
	for (int i = 0; i < c->ngrids; i++)
		if (key_set(k, &c->grids[i], val, where, e))
			return EXIT_INPUT;
	return 0;
}

static int64_t max_of(const int_list *l)
{
	int64_t m = 0;
	for (int i = 0; i < l->n; i++)
		m = l->v[i] > m ? l->v[i] : m;
	return m;
}

/* Combinations the lists of g multiply out to (before gqa filtering and
 * deduplication), or -1 past SWEEP_MAX_COMBOS. */
static int64_t grid_combos(const sweep_grid *g)
{
	int64_t total = 0;
	for (int ph = PHASE_PREFILL; ph <= PHASE_ATTEND; ph <<= 1) {
		if (!(g->phases & ph))
			continue;
		const int64_t f[] = {g->batch.n,
		                     g->heads.n,
		                     g->gqa.n,
		                     g->head_dim.n,
		                     ph == PHASE_DECODE ? g->cache.n : g->seq.n,
		                     ph == PHASE_ATTEND ? g->causal.n : 1,
		                     __builtin_popcount((unsigned)g->dtypes),
		                     g->kv_dtypes ? __builtin_popcount((unsigned)g->kv_dtypes) : 1,
		                     g->window.n,
		                     g->softcap.n,
		                     g->alibi.n,
		                     g->sinks.n,
		                     g->head_dim_v.n,
		                     g->page_size.n,
		                     g->lens.n,
		                     g->cache_states ? __builtin_popcount((unsigned)g->cache_states) : 1};
		int64_t n;
		if (!mul_n_ok(&n, (int)(sizeof f / sizeof f[0]), f) || n > SWEEP_MAX_COMBOS - total)
			return -1;
		total += n;
	}
	return total;
}

/* Refuse a grid whose largest point's arrays (Q and O, K and V of the whole
 * cache, 4 bytes an element) would not fit SWEEP_MAX_POINT_BYTES, or whose
 * lists multiply out to too many combinations. The bound takes the largest
 * value of each list, so it also covers every smaller point. */
static int grid_check(const sweep_grid *g, const char *where, attn_err *e)
{
	if (grid_combos(g) < 0)
		return attn_errf(e, "%s: grid '%s': the lists multiply out to more than %lld combinations", where,
		                 g->name, (long long)SWEEP_MAX_COMBOS);
	int64_t len = 0;
	if (g->phases & (PHASE_PREFILL | PHASE_ATTEND))
		len = max_of(&g->seq);
	if ((g->phases & PHASE_DECODE) && max_of(&g->cache) > len)
		len = max_of(&g->cache);
	/* Q and O, plus K and V: at most 4 arrays of batch x heads x len x head_dim */
	const int64_t dim =
	    max_of(&g->head_dim_v) > max_of(&g->head_dim) ? max_of(&g->head_dim_v) : max_of(&g->head_dim);
	const int64_t f[] = {max_of(&g->batch), max_of(&g->heads), len, dim, 4, 4};
	int64_t bytes;
	if (!mul_n_ok(&bytes, 6, f) || bytes > SWEEP_MAX_POINT_BYTES)
		return attn_errf(e,
		                 "%s: grid '%s': batch %lld x heads %lld x length %lld x head_dim %lld needs more than "
		                 "%lld bytes of arrays",
		                 where, g->name, (long long)f[0], (long long)f[1], (long long)f[2], (long long)f[3],
		                 (long long)SWEEP_MAX_POINT_BYTES);
	return 0;
}

/* Read one line into buf (cap bytes), without its '\n'; *len is its length,
 * NUL bytes included. Returns 1, 0 at the end of the file, -1 when the line
 * does not fit (after reading only cap bytes of it), -2 on a read error. */
static int read_line(FILE *f, char *buf, size_t cap, size_t *len)
{
	size_t n = 0;
	int ch;
	while ((ch = getc(f)) != EOF && ch != '\n') {
		if (n + 1 >= cap)
			return -1;
		buf[n++] = (char)ch;
	}
	if (ch == EOF && ferror(f))
		return -2;
	buf[n] = 0;
	*len = n;
	return ch == EOF && n == 0 ? 0 : 1;
}

int sweep_config_read(const char *path, sweep_config *c, attn_err *e)
{
	FILE *f = file_fopen_in(path, NULL, e);
	if (!f)
		return EXIT_INPUT;
	sweep_config_default(c);
	sweep_grid base = c->grids[0]; /* what a new section starts from */
	c->ngrids = 0;
	char line[SWEEP_MAX_LINE];
	int lineno = 0, rc = 0;
	for (;;) {
		size_t len = 0;
		const int got = read_line(f, line, sizeof line, &len);
		if (got == 0)
			break;
		lineno++;
		char where[4200];
		snprintf(where, sizeof where, "%s:%d", path, lineno);
		if (got == -1) {
			rc = attn_errf(e, "%s: line longer than %zu bytes", where, sizeof line - 1);
			break;
		}
		if (got == -2) {
			rc = attn_errf(e, "%s: read error: %s", where, strerror(errno));
			break;
		}
		if (memchr(line, '\0', len)) {
			rc = attn_errf(e, "%s: NUL byte in line", where);
			break;
		}
		if (!utf8_valid(line, len)) {
			rc = attn_errf(e, "%s: line is not valid UTF-8", where);
			break;
		}
		char *hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		char *s = trim(line);
		if (!*s)
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');
			if (!close || close[1] || close == s + 1) {
				rc = attn_errf(e, "%s: malformed section header '%.60s'", where, s);
				break;
			}
			if (close - (s + 1) >= (ptrdiff_t)sizeof c->grids[0].name) {
				rc = attn_errf(e, "%s: section name longer than %zu bytes", where,
				               sizeof c->grids[0].name - 1);
				break;
			}
			if (c->ngrids == SWEEP_MAX_GRIDS) {
				rc = attn_errf(e, "%s: more than %d sections", where, SWEEP_MAX_GRIDS);
				break;
			}
			*close = 0;
			sweep_grid *g = &c->grids[c->ngrids++];
			*g = base;
			snprintf(g->name, sizeof g->name, "%s", s + 1);
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq) {
			rc = attn_errf(e, "%s: expected 'key = value', got '%.60s'", where, s);
			break;
		}
		*eq = 0;
		char *key = trim(s), *val = trim(eq + 1);
		const sweep_key *k = sweep_key_find(key);
		if (!k)
			rc = attn_errf(e, "%s: unknown key '%s'", where, key);
		else if (!k->per_grid && c->ngrids > 0)
			rc = attn_errf(e, "%s: key '%s' belongs before the first section", where, key);
		else if (!k->per_grid)
			rc = key_set(k, c, val, where, e);
		else
			rc = key_set(k, c->ngrids ? &c->grids[c->ngrids - 1] : &base, val, where, e);
		if (rc)
			break;
	}
	fclose(f);
	if (rc)
		return rc;
	if (c->ngrids == 0) { /* no sections: the top level is the grid */
		c->grids[0] = base;
		snprintf(c->grids[0].name, sizeof c->grids[0].name, "default");
		c->ngrids = 1;
	}
	int64_t combos = 0;
	for (int i = 0; i < c->ngrids; i++) {
		if (grid_check(&c->grids[i], path, e))
			return EXIT_INPUT;
		combos += grid_combos(&c->grids[i]);
	}
	if (combos > SWEEP_MAX_COMBOS)
		return attn_errf(e, "%s: the grids multiply out to more than %lld combinations", path,
		                 (long long)SWEEP_MAX_COMBOS);
	return 0;
}

int sweep_point_same(const sweep_point *a, const sweep_point *b)
{
	const attn_shape *x = &a->shape, *y = &b->shape;
	return a->phase == b->phase && x->batch == y->batch && x->n_heads == y->n_heads &&
	       x->n_kv_heads == y->n_kv_heads && x->head_dim == y->head_dim && x->n_q == y->n_q && x->n_kv == y->n_kv &&
	       x->causal == y->causal && x->dtype == y->dtype && attn_kv_dtype(x) == attn_kv_dtype(y) &&
	       attn_head_dim_v(x) == attn_head_dim_v(y) && x->window == y->window && x->softcap == y->softcap &&
	       a->alibi == b->alibi && a->sinks == b->sinks && a->page_size == b->page_size && a->lens == b->lens &&
	       point_cache_state(a) == point_cache_state(b);
}

static uint64_t point_hash(const sweep_point *p)
{
	const attn_shape *s = &p->shape;
	const int64_t k[] = {p->phase,
	                     s->batch,
	                     s->n_heads,
	                     s->n_kv_heads,
	                     s->head_dim,
	                     s->n_q,
	                     s->n_kv,
	                     s->causal,
	                     s->dtype,
	                     attn_kv_dtype(s),
	                     attn_head_dim_v(s),
	                     s->window,
	                     (int64_t)(s->softcap * 1024),
	                     p->alibi * 2 + p->sinks,
	                     p->page_size,
	                     p->lens,
	                     point_cache_state(p)};
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
		h ^= (uint64_t)k[i];
		h *= 0x100000001b3ull;
		h ^= h >> 29;
	}
	return h;
}

/* The points so far, and an open-addressing index of them (slot = point
 * index + 1, 0 empty) so that a duplicate is found in constant time. */
typedef struct point_set {
	sweep_point *pts;
	int n, cap;
	int *slot;
	size_t nslots; /* a power of two, at least twice the points */
} point_set;

/* Add p unless an equal point is there; returns 0 or EXIT_INPUT. */
static int add_point(point_set *ps, const sweep_point *p, attn_err *e)
{
	size_t i = (size_t)point_hash(p) & (ps->nslots - 1);
	for (; ps->slot[i]; i = (i + 1) & (ps->nslots - 1))
		if (sweep_point_same(&ps->pts[ps->slot[i] - 1], p))
			return 0;
	if (ps->n >= SWEEP_MAX_POINTS || (size_t)ps->n * 2 >= ps->nslots)
		return attn_errf(e, "sweep: more than %d points", SWEEP_MAX_POINTS);
	if (ps->n == ps->cap) {
		int nc = ps->cap ? ps->cap * 2 : 64;
		sweep_point *np = realloc(ps->pts, (size_t)nc * sizeof *np);
		if (!np)
			return attn_errf(e, "sweep: out of memory");
		ps->pts = np;
		ps->cap = nc;
	}
	ps->pts[ps->n++] = *p;
	ps->slot[i] = ps->n;
	return 0;
}

/* Add base (a point of the grid's shape lists) once per combination of
 * g's variant, KV storage, page size, length and cache state lists. A point
 * keeps the state it is measured in: an empty cache_state list gives the
 * phase's default (point.h). */
static int add_variants(point_set *ps, const sweep_grid *g, const sweep_point *base, attn_err *e)
{
	const int kv_mask = g->kv_dtypes ? g->kv_dtypes : 1 << base->shape.dtype;
	const int cs_mask = g->cache_states ? g->cache_states : 1 << (cache_state_default(base->phase) - 1);
	const int_list *const ints[] = {&g->window, &g->alibi, &g->sinks, &g->head_dim_v, &g->page_size, &g->lens};
	enum { NL = 7 }; /* the six int lists, then softcap */
	for (int kc = 0; kc < 2 * (ATTN_FP8_E4M3 + 1); kc++) {
		const int kt = kc / 2, cs = kc % 2 + CACHE_COLD;
		if (!(kv_mask & (1 << kt)) || !(cs_mask & (1 << (cs - CACHE_COLD))))
			continue;
		int i[NL] = {0};
		for (;;) {
			sweep_point p = *base;
			attn_shape *s = &p.shape;
			s->kv_storage = kt == (int)s->dtype ? 0 : ATTN_KV(kt);
			s->window = ints[0]->v[i[0]];
			p.alibi = (int)ints[1]->v[i[1]];
			p.sinks = (int)ints[2]->v[i[2]];
			s->head_dim_v = ints[3]->v[i[3]] == s->head_dim ? 0 : ints[3]->v[i[3]];
			p.page_size = ints[4]->v[i[4]];
			p.lens = ints[5]->v[i[5]];
			p.cache_state = cs;
			s->softcap = (float)g->softcap.v[i[6]];
			if (add_point(ps, &p, e))
				return EXIT_INPUT;
			int k = 0;
			while (k < NL && ++i[k] == (k < NL - 1 ? ints[k]->n : g->softcap.n))
				i[k++] = 0;
			if (k == NL)
				break;
		}
	}
	return 0;
}

int sweep_points(const sweep_config *c, sweep_point **pts, int *n, attn_err *e)
{
	*pts = NULL;
	*n = 0;
	int64_t combos = 0;
	for (int gi = 0; gi < c->ngrids; gi++) {
		if (grid_check(&c->grids[gi], "config and command line", e))
			return EXIT_INPUT;
		combos += grid_combos(&c->grids[gi]);
	}
	if (combos > SWEEP_MAX_COMBOS)
		return attn_errf(e, "sweep: the grids multiply out to more than %lld combinations",
		                 (long long)SWEEP_MAX_COMBOS);
	point_set ps = {0};
	ps.nslots = 64;
	while ((int64_t)ps.nslots < 2 * combos + 2 && ps.nslots < ((size_t)1 << 21)) /* 2^21 > 2 x the most points */
		ps.nslots *= 2;
	ps.slot = calloc(ps.nslots, sizeof *ps.slot);
	if (!ps.slot)
		return attn_errf(e, "sweep: out of memory");
	for (int gi = 0; gi < c->ngrids; gi++) {
		const sweep_grid *g = &c->grids[gi];
		for (int ph = PHASE_PREFILL; ph <= PHASE_ATTEND; ph <<= 1) {
			if (!(g->phases & ph))
				continue;
			/* prefill and attend run over seq, decode over cache */
			const int_list *len = ph == PHASE_DECODE ? &g->cache : &g->seq;
			const int_list causal_one = {1, {1}};
			const int_list *cl = ph == PHASE_ATTEND ? &g->causal : &causal_one;
			for (int dt = ATTN_F32; dt <= ATTN_BF16; dt++) {
				if (!(g->dtypes & (1 << dt)))
					continue;
				for (int b = 0; b < g->batch.n; b++)
					for (int h = 0; h < g->heads.n; h++)
						for (int r = 0; r < g->gqa.n; r++)
							for (int d = 0; d < g->head_dim.n; d++)
								for (int l = 0; l < len->n; l++)
									for (int cc = 0; cc < cl->n; cc++) {
										const int64_t heads = g->heads.v[h],
										              ratio = g->gqa.v[r];
										if (ratio > heads || heads % ratio)
											continue;
										sweep_point p;
										memset(&p, 0, sizeof p);
										p.phase = (enum phase)ph;
										attn_shape *s = &p.shape;
										s->batch = g->batch.v[b];
										s->n_heads = heads;
										s->n_kv_heads = heads / ratio;
										s->head_dim = g->head_dim.v[d];
										s->causal = (int)cl->v[cc];
										s->scale =
										    (float)(1.0 /
										            sqrt((double)s->head_dim));
										s->dtype = (attn_dtype)dt;
										if (ph == PHASE_DECODE) {
											s->n_q = 1;
											s->n_kv = len->v[l];
											p.seq_len = 1;
										} else {
											s->n_q = s->n_kv = len->v[l];
											p.seq_len = len->v[l];
										}
										p.cache_len = s->n_kv;
										if (add_variants(&ps, g, &p, e)) {
											free(ps.pts);
											free(ps.slot);
											return EXIT_INPUT;
										}
									}
			}
		}
	}
	free(ps.slot);
	if (ps.n == 0) {
		free(ps.pts);
		return attn_errf(e, "sweep: the grid has no valid point (does gqa divide heads?)");
	}
	*pts = ps.pts;
	*n = ps.n;
	return 0;
}
