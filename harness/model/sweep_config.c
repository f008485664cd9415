/* sweep_config.c - the sweep grid: config file, command-line overrides and
 * expansion into points.
 *
 * Config format (see datasets/sweeps/default.conf): '#' starts a comment;
 * `key = value` lines; a `[name]` line starts a grid section. Keys before
 * the first section are settings for the whole run (backends, repetitions,
 * min_time, max_mem) or defaults that every section starts from. */
#include "run/sweep.h"
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
	snprintf(c->backends, sizeof c->backends, "all");
	c->repetitions = 5;
	c->min_time = 0.05;
}

/* Limits of each grid key: lists are refused outside them before anything
 * is allocated. Beyond these, a grid is refused when the arrays of its
 * largest point would need more than SWEEP_MAX_POINT_BYTES (so that no byte
 * count overflows downstream) or when its lists multiply out to more than
 * SWEEP_MAX_COMBOS combinations. */
#define SWEEP_MAX_POINT_BYTES (INT64_C(1) << 60)
#define SWEEP_MAX_COMBOS      (INT64_C(1) << 20)
#define SWEEP_MAX_POINTS      1000000
#define SWEEP_MAX_LINE        4096 /* bytes in a config line, '\n' included */
static const struct key_range {
	const char *key;
	int64_t lo, hi;
	size_t off;
} keys[] = {
    {"seq", 1, INT64_C(1) << 24, offsetof(sweep_grid, seq)},
    {"cache", 1, INT64_C(1) << 26, offsetof(sweep_grid, cache)},
    {"heads", 1, 4096, offsetof(sweep_grid, heads)},
    {"gqa", 1, 4096, offsetof(sweep_grid, gqa)},
    {"head_dim", 1, 256, offsetof(sweep_grid, head_dim)},
    {"batch", 1, 65536, offsetof(sweep_grid, batch)},
    {"causal", 0, 1, offsetof(sweep_grid, causal)},
};

/* A comma list of names (blanks allowed) as a mask: bit i for names[i]. */
static int set_names(int *mask_out, const char *const *names, int nnames, const char *key, const char *val,
                     const char *where, attn_err *e)
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
		while (i < nnames && (strlen(names[i]) != n || strncmp(p, names[i], n)))
			i++;
		if (i == nnames) {
			char all[64] = "";
			for (int j = 0; j < nnames; j++)
				snprintf(all + strlen(all), sizeof all - strlen(all), "%s%s",
				         j == 0           ? ""
				         : j + 1 < nnames ? ", "
				                          : " or ",
				         names[j]);
			return attn_errf(e, "%s: key '%s': '%.*s' is not %s", where, key, (int)(n > 40 ? 40 : n), p,
			                 all);
		}
		mask |= 1 << i;
		p += n;
	}
	if (!mask)
		return attn_errf(e, "%s: key '%s': empty", where, key);
	*mask_out = mask;
	return 0;
}

/* Set key on one grid. */
static int grid_set(sweep_grid *g, const char *key, const char *val, const char *where, attn_err *e)
{
	/* bit i of the masks: PHASE_* == 1 << i, attn_dtype i */
	static const char *const phase_names[] = {"prefill", "decode", "attend"};
	static const char *const dtype_names[] = {"f32", "f16", "bf16"};
	if (!strcmp(key, "phases"))
		return set_names(&g->phases, phase_names, 3, key, val, where, e);
	if (!strcmp(key, "dtype"))
		return set_names(&g->dtypes, dtype_names, 3, key, val, where, e);
	for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
		if (strcmp(key, keys[k].key))
			continue;
		int_list *l = (int_list *)((char *)g + keys[k].off);
		int64_t v[SWEEP_MAX_LIST];
		char buf[1024];
		if (strlen(val) >= sizeof buf)
			return attn_errf(e, "%s: key '%s': value longer than %zu bytes", where, key, sizeof buf - 1);
		/* allow blanks around the commas */
		size_t j = 0;
		for (const char *p = val; *p && j + 1 < sizeof buf; p++)
			if (*p != ' ' && *p != '\t')
				buf[j++] = *p;
		buf[j] = 0;
		int n = parse_i64_list(buf, v, SWEEP_MAX_LIST);
		if (n <= 0)
			return attn_errf(e,
			                 "%s: key '%s': '%.60s' is not a comma-separated list of at most %d integers",
			                 where, key, val, SWEEP_MAX_LIST);
		for (int i = 0; i < n; i++)
			if (v[i] < keys[k].lo || v[i] > keys[k].hi)
				return attn_errf(e, "%s: key '%s': %lld is outside %lld..%lld", where, key,
				                 (long long)v[i], (long long)keys[k].lo, (long long)keys[k].hi);
		list_set(l, n, v);
		return 0;
	}
	return attn_errf(e, "%s: unknown key '%s'", where, key);
}

/* Settings of the whole run. Returns 1 if key was one of them. */
static int run_set(sweep_config *c, const char *key, const char *val, const char *where, attn_err *e, int *rc)
{
	*rc = 0;
	if (!strcmp(key, "backends")) {
		if (!*val || strlen(val) >= sizeof c->backends)
			*rc = attn_errf(e, "%s: key 'backends': empty or too long", where);
		else
			snprintf(c->backends, sizeof c->backends, "%s", val);
		return 1;
	}
	if (!strcmp(key, "repetitions")) {
		int64_t v;
		if (!parse_i64(val, &v) || v < 1 || v > SWEEP_MAX_REPS)
			*rc =
			    attn_errf(e, "%s: key 'repetitions': expected an integer in 1..%d", where, SWEEP_MAX_REPS);
		else
			c->repetitions = (int)v;
		return 1;
	}
	if (!strcmp(key, "min_time")) {
		double v;
		if (!parse_f64(val, &v) || !(v > 0) || v > 3600)
			*rc = attn_errf(e, "%s: key 'min_time': expected seconds in (0, 3600]", where);
		else
			c->min_time = v;
		return 1;
	}
	if (!strcmp(key, "max_mem")) {
		if (!parse_bytes(val, &c->max_mem) || c->max_mem == 0)
			*rc = attn_errf(e, "%s: key 'max_mem': expected a size such as 8GiB", where);
		return 1;
	}
	return 0;
}

int sweep_config_set(sweep_config *c, const char *key, const char *val, const char *where, attn_err *e)
{
	int rc;
	if (run_set(c, key, val, where, e, &rc))
		return rc;
	for (int i = 0; i < c->ngrids; i++)
		if (grid_set(&c->grids[i], key, val, where, e))
			return EXIT_INPUT;
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
		                     __builtin_popcount((unsigned)g->dtypes)};
		int64_t n;
		if (!mul_n_ok(&n, 7, f) || n > SWEEP_MAX_COMBOS - total)
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
	const int64_t f[] = {max_of(&g->batch), max_of(&g->heads), len, max_of(&g->head_dim), 4, 4};
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
	FILE *f = fopen(path, "r");
	if (!f)
		return attn_errf(e, "%s: cannot open: %s", path, strerror(errno));
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
		int handled;
		if (c->ngrids == 0) {
			handled = run_set(c, key, val, where, e, &rc);
			if (!handled)
				rc = grid_set(&base, key, val, where, e);
		} else {
			handled = run_set(c, key, val, where, e, &rc);
			if (handled && !rc)
				rc = attn_errf(e, "%s: key '%s' belongs before the first section", where, key);
			else if (!handled)
				rc = grid_set(&c->grids[c->ngrids - 1], key, val, where, e);
		}
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

static int same_point(const sweep_point *a, const sweep_point *b)
{
	const attn_shape *x = &a->shape, *y = &b->shape;
	return a->phase == b->phase && x->batch == y->batch && x->n_heads == y->n_heads &&
	       x->n_kv_heads == y->n_kv_heads && x->head_dim == y->head_dim && x->n_q == y->n_q && x->n_kv == y->n_kv &&
	       x->causal == y->causal && x->dtype == y->dtype;
}

static uint64_t point_hash(const sweep_point *p)
{
	const attn_shape *s = &p->shape;
	const int64_t k[] = {p->phase, s->batch, s->n_heads, s->n_kv_heads, s->head_dim,
	                     s->n_q,   s->n_kv,  s->causal,  s->dtype};
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
		if (same_point(&ps->pts[ps->slot[i] - 1], p))
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
										if (add_point(&ps, &p, e)) {
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

/* Query-key pairs that are not masked. */
static double unmasked_pairs(const attn_shape *s)
{
	const double nq = (double)s->n_q, nkv = (double)s->n_kv;
	if (!s->causal)
		return nq * nkv;
	return nq * (nkv - nq) + nq * (nq + 1) / 2;
}

double point_flops(const sweep_point *p)
{
	const attn_shape *s = &p->shape;
	return 4.0 * (double)s->batch * (double)s->n_heads * (double)s->head_dim * unmasked_pairs(s);
}

/* In double precision: no integer product to overflow, whatever the shape. */
double point_bytes(const sweep_point *p)
{
	const attn_shape *s = &p->shape;
	const double q = (double)s->batch * (double)s->n_heads * (double)s->n_q * (double)s->head_dim;
	const double kv = 2.0 * (double)s->batch * (double)s->n_kv_heads * (double)s->n_kv * (double)s->head_dim;
	return (q + kv) * (double)attn_dtype_size(s->dtype) + q * 4.0;
}

/* Overflow-checked; UINT64_MAX for a shape whose count does not fit (which
 * sweep_points never produces). */
uint64_t point_kv_bytes(const sweep_point *p)
{
	const attn_shape *s = &p->shape;
	const int64_t f[] = {2, s->batch, s->n_kv_heads, p->cache_len, s->head_dim, (int64_t)attn_dtype_size(s->dtype)};
	int64_t b;
	return mul_n_ok(&b, 6, f) ? (uint64_t)b : UINT64_MAX;
}
