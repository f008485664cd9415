/* select.c - the lines of a picture: rows grouped by what splits them
 * (machine, backend, device, dtype, ...) and what they hold fixed (the
 * shape), one context per line, sorted, labelled and styled. */
#define _GNU_SOURCE /* qsort_r */
#include "report/select.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Numeric value of variable v of a row. */
double var_num(const rrow *r, int v)
{
	switch (v) {
	case V_BATCH:
		return (double)r->batch;
	case V_HEADS:
		return (double)r->heads;
	case V_KV:
		return (double)r->kv;
	case V_RATIO:
		return (double)r->heads / (double)r->kv;
	case V_HD:
		return (double)r->hd;
	case V_SEQ:
		return (double)r->seq;
	case V_CACHE:
		return (double)r->cache;
	case V_CAUSAL:
		return (double)r->causal;
	case V_WINDOW:
		return r->rec && r->rec->window > 0 ? (double)r->rec->window : 0;
	case V_CSTATE: {
		sweep_point p;
		if (!r->rec)
			return cache_state_default(r->phase);
		results_rec_point(r->rec, &p);
		return point_cache_state(&p);
	}
	default:
		return 0;
	}
}

/* Variable v of a row as words for titles and legends ("8 heads"). */
void var_phrase(const rrow *r, int v, char *buf, size_t len)
{
	switch (v) {
	case V_PHASE:
		snprintf(buf, len, "%s", phase_name(r->phase));
		break;
	case V_BATCH:
		snprintf(buf, len, "batch %lld", (long long)r->batch);
		break;
	case V_HEADS:
		snprintf(buf, len, "%lld heads", (long long)r->heads);
		break;
	case V_KV:
		snprintf(buf, len, "%lld KV head%s", (long long)r->kv, r->kv == 1 ? "" : "s");
		break;
	case V_RATIO:
		snprintf(buf, len, "GQA ratio %g", var_num(r, V_RATIO));
		break;
	case V_HD:
		snprintf(buf, len, "head_dim %lld", (long long)r->hd);
		break;
	case V_SEQ:
		snprintf(buf, len, "seq_len %lld", (long long)r->seq);
		break;
	case V_CACHE:
		snprintf(buf, len, "cache_len %lld", (long long)r->cache);
		break;
	case V_CAUSAL:
		snprintf(buf, len, "%s", r->causal ? "causal" : "non-causal");
		break;
	case V_WINDOW:
		if (var_num(r, V_WINDOW) > 0)
			snprintf(buf, len, "window %.0f", var_num(r, V_WINDOW));
		else
			snprintf(buf, len, "full attention");
		break;
	case V_VARIANT: {
		char t[160] = "";
		if (r->rec)
			results_variant_text(r->rec, t, sizeof t);
		/* " --kv-dtype q8_0 --window 512" -> "kv-dtype q8_0"; the window and the cache state have their own
		 * variables */
		size_t n = 0;
		buf[0] = 0;
		for (char *tok = strstr(t, " --"); tok;) {
			tok += 3;
			char *next = strstr(tok, " --");
			if (next)
				*next = 0;
			if (strncmp(tok, "window ", 7) && strncmp(tok, "cache-state ", 12) && n < len)
				n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "", tok);
			tok = next;
		}
		break;
	}
	case V_CSTATE:
		snprintf(buf, len, "%s caches", cache_state_name((enum cache_state)var_num(r, V_CSTATE)));
		break;
	default:
		snprintf(buf, len, "%s", dtype_name(r->dtype));
		break;
	}
}

/* Group key strings of a row: line (skey) and context (ckey). */
static void sel_keys(const sel_spec *sp, const rrow *r, char *skey, char *ckey, size_t len)
{
	size_t a = 0, b = 0;
	skey[0] = ckey[0] = 0;
	if (sp->series & S_MACHINE)
		a += (size_t)snprintf(skey, len, "%d|%s|%s|", r->mach, r->backend, r->device);
	for (int v = 0; v < NV; v++) {
		char w[96];
		var_phrase(r, v, w, sizeof w);
		if ((sp->series & VM(v)) && a < len)
			a += (size_t)snprintf(skey + a, len - a, "%s|", w);
		if ((sp->context & VM(v)) && b < len)
			b += (size_t)snprintf(ckey + b, len - b, "%s|", w);
	}
}

typedef struct grp {
	char *skey, *ckey;
	int *idx; /* rows */
	int n, cap, nx, rank;
} grp;

/* qsort of doubles. */
int dbl_cmp(const void *a, const void *b)
{
	const double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Number of distinct x among the rows of a group. */
static int grp_distinct_x(const report *R, const sel_spec *sp, const grp *g)
{
	double *x = malloc((size_t)g->n * sizeof *x);
	if (!x)
		return 0;
	for (int i = 0; i < g->n; i++)
		x[i] = var_num(&R->rows[g->idx[i]], sp->xvar);
	qsort(x, (size_t)g->n, sizeof *x, dbl_cmp);
	int d = 0;
	for (int i = 0; i < g->n; i++)
		d += i == 0 || x[i] != x[i - 1];
	free(x);
	return d;
}

/* Does a row take part in a panel? */
static int row_wanted(const report *R, const sel_spec *sp, const rrow *r)
{
	(void)R;
	if (r->dropped)
		return 0;
	if (!(r->phase & sp->phases))
		return 0;
	const double y = sp->y(r);
	return y == y && y > 0 && var_num(r, sp->xvar) > 0;
}

/* A wanted row and its keys, for grouping by sorting. */
typedef struct keyed_row {
	char *skey, *ckey;
	int row;
} keyed_row;

/* Order of keyed rows: line key, context key, then file order. */
static int keyed_row_cmp(const void *x, const void *y)
{
	const keyed_row *a = x, *b = y;
	int c = strcmp(a->skey, b->skey);
	if (!c)
		c = strcmp(a->ckey, b->ckey);
	return c ? c : (a->row > b->row) - (a->row < b->row);
}

/* Order of groups: as first seen (their first row). */
static int grp_first_cmp(const void *x, const void *y)
{
	const grp *a = x, *b = y;
	return (a->idx[0] > b->idx[0]) - (a->idx[0] < b->idx[0]);
}

/* Order of group pointers by context key. */
static int grp_ckey_cmp(const void *x, const void *y)
{
	return strcmp((*(const grp *const *)x)->ckey, (*(const grp *const *)y)->ckey);
}

static void group_free(grp *g, int n);

/* A context's rank: its distinct x summed over every line (groups sorted
 * by context, summed per run of equal contexts). */
static int rank_contexts(grp *g, int n)
{
	grp **by = malloc(((size_t)n + 1) * sizeof *by);
	if (!by)
		return -1;
	for (int k = 0; k < n; k++)
		by[k] = &g[k];
	qsort(by, (size_t)n, sizeof *by, grp_ckey_cmp);
	for (int a = 0, b; a < n; a = b) {
		int sum = 0;
		for (b = a; b < n && !strcmp(by[b]->ckey, by[a]->ckey); b++)
			sum += by[b]->nx;
		for (int k = a; k < b; k++)
			by[k]->rank = sum;
	}
	free(by);
	return 0;
}

/* All groups of rows with the same line and context keys, in the order
 * they are first seen; each group's rows in file order. */
static int group_all(const report *R, const sel_spec *sp, grp **out, int *nout)
{
	keyed_row *kr = malloc(((size_t)R->nrows + 1) * sizeof *kr);
	grp *g = NULL;
	int nk = 0, n = 0, rc = -1;
	char skey[1024], ckey[1024];
	if (!kr)
		return -1;
	for (int i = 0; i < R->nrows; i++) {
		const rrow *r = &R->rows[i];
		if (!row_wanted(R, sp, r))
			continue;
		sel_keys(sp, r, skey, ckey, sizeof skey);
		if (sp->want_ctx && strcmp(ckey, sp->want_ctx))
			continue;
		kr[nk] = (keyed_row){strdup(skey), strdup(ckey), i};
		if (!kr[nk].skey || !kr[nk].ckey) {
			free(kr[nk].skey);
			free(kr[nk].ckey);
			goto out;
		}
		nk++;
	}
	qsort(kr, (size_t)nk, sizeof *kr, keyed_row_cmp);
	g = calloc((size_t)nk + 1, sizeof *g);
	if (!g)
		goto out;
	for (int a = 0, b; a < nk; a = b) {
		for (b = a; b < nk && !strcmp(kr[b].skey, kr[a].skey) && !strcmp(kr[b].ckey, kr[a].ckey); b++)
			;
		grp *G = &g[n++];
		G->skey = kr[a].skey;
		G->ckey = kr[a].ckey;
		kr[a].skey = kr[a].ckey = NULL; /* the group owns them */
		G->n = G->cap = b - a;
		G->idx = malloc((size_t)G->n * sizeof *G->idx);
		if (!G->idx)
			goto out;
		for (int k = a; k < b; k++)
			G->idx[k - a] = kr[k].row;
	}
	qsort(g, (size_t)n, sizeof *g, grp_first_cmp);
	for (int k = 0; k < n; k++)
		g[k].nx = grp_distinct_x(R, sp, &g[k]);
	if (rank_contexts(g, n))
		goto out;
	*out = g;
	*nout = n;
	g = NULL;
	n = 0;
	rc = 0;
out:
	for (int k = 0; k < nk; k++) {
		free(kr[k].skey);
		free(kr[k].ckey);
	}
	free(kr);
	group_free(g, n);
	return rc;
}

/* Free groups. */
static void group_free(grp *g, int n)
{
	for (int k = 0; k < n; k++) {
		free(g[k].skey);
		free(g[k].ckey);
		free(g[k].idx);
	}
	free(g);
}

/* Free a selection's lines. */
void sel_free(selection *S)
{
	for (int i = 0; i < S->n; i++) {
		free(S->s[i].x);
		free(S->s[i].r);
		free(S->s[i].ctx);
	}
	free(S->s);
	memset(S, 0, sizeof *S);
}

/* Order of lines: machine, backend colour order, device, line variables. */
static int series_before(const report *R, const sel_spec *sp, const series *a, const series *b)
{
	if (a->mach != b->mach)
		return a->mach < b->mach;
	if (sp->series & S_MACHINE) {
		const int ia = report_backend_rank(R, a->backend), ib = report_backend_rank(R, b->backend);
		if (ia != ib)
			return ia < ib;
		const int c = strcmp(a->device, b->device);
		if (c)
			return c < 0;
	}
	for (int v = 0; v < NV; v++) {
		if (!(sp->series & VM(v)))
			continue;
		const double x = var_num(a->row0, v), y = var_num(b->row0, v);
		if (x != y)
			return x < y;
	}
	return 0;
}

/* "backend", "backend (device)" or "backend @ host/device". */
static void base_label(const report *R, const series *s, char *buf, size_t len)
{
	if (R->nmach > 1)
		snprintf(buf, len, "%s @ %s/%s", s->backend, R->machines[s->mach].host, s->device);
	else if (s->row0->multi_device)
		snprintf(buf, len, "%s (%s)", s->backend, s->device);
	else
		snprintf(buf, len, "%s", s->backend);
}

/* Is variable v worth naming for a row of this phase? (cache_len is seq_len
 * in prefill; seq_len is 1 in decode.) */
static int var_meaningful(const rrow *r, int v)
{
	if (v == V_CACHE && r->phase != PHASE_DECODE)
		return 0;
	if (v == V_SEQ && r->phase == PHASE_DECODE)
		return 0;
	if (v == V_WINDOW) /* named on windowed lines only: runs without windows read as before */
		return var_num(r, V_WINDOW) > 0;
	if (v == V_CSTATE) /* named where not the phase's default: decode hot, prefill cold */
		return var_num(r, V_CSTATE) != cache_state_default(r->phase);
	if (v == V_VARIANT) {
		char w[160];
		var_phrase(r, V_VARIANT, w, sizeof w);
		return w[0] != 0;
	}
	return 1;
}

/* A row's x, for sorting a line's points. */
typedef struct xrow {
	double x;
	int row;
} xrow;

/* Order of points: x, then file order (the first row of equal x wins). */
static int xrow_cmp(const void *a, const void *b)
{
	const xrow *p = a, *q = b;
	if (p->x != q->x)
		return p->x < q->x ? -1 : 1;
	return (p->row > q->row) - (p->row < q->row);
}

/* Order of group indices: line key, then first seen. */
static int line_key_cmp(const void *a, const void *b, void *ctx)
{
	const grp *g = ctx;
	const int x = *(const int *)a, y = *(const int *)b;
	const int c = strcmp(g[x].skey, g[y].skey);
	return c ? c : (x > y) - (x < y);
}

/* Per line key, the best group: the most distinct x, then the context most
 * common over all lines (rank), then the most rows, then the first seen.
 * line[] gets them in the order their line keys are first seen; returns
 * how many, or -1 (out of memory). */
static int best_groups(const grp *g, int ng, int *line)
{
	int *by = malloc(((size_t)ng + 1) * sizeof *by), *best_of = malloc(((size_t)ng + 1) * sizeof *best_of);
	if (!by || !best_of) {
		free(by);
		free(best_of);
		return -1;
	}
	for (int k = 0; k < ng; k++) {
		by[k] = k;
		best_of[k] = -1;
	}
	qsort_r(by, (size_t)ng, sizeof *by, line_key_cmp, (void *)g);
	for (int a = 0, b; a < ng; a = b) {
		int best = by[a];
		for (b = a + 1; b < ng && !strcmp(g[by[b]].skey, g[by[a]].skey); b++) {
			const grp *x = &g[by[b]], *y = &g[best];
			if (x->nx > y->nx ||
			    (x->nx == y->nx && (x->rank > y->rank || (x->rank == y->rank && x->n > y->n))))
				best = by[b];
		}
		best_of[by[a]] = best; /* by[a]: the line key's first seen group */
	}
	int nl = 0;
	for (int k = 0; k < ng; k++)
		if (best_of[k] >= 0)
			line[nl++] = best_of[k];
	free(by);
	free(best_of);
	return nl;
}

/* The order of lines (series_before), stable by position (in dash). */
typedef struct series_order {
	const report *R;
	const sel_spec *sp;
} series_order;

static int series_cmp(const void *a, const void *b, void *ctx)
{
	const series_order *o = ctx;
	const series *x = a, *y = b;
	if (series_before(o->R, o->sp, x, y))
		return -1;
	if (series_before(o->R, o->sp, y, x))
		return 1;
	return (x->dash > y->dash) - (x->dash < y->dash);
}

/* Order of line indices: machine, backend, device, position. */
static int machine_line_cmp(const void *a, const void *b, void *ctx)
{
	const series *s = ctx;
	const int x = *(const int *)a, y = *(const int *)b;
	int c = (s[x].mach > s[y].mach) - (s[x].mach < s[y].mach);
	if (!c)
		c = strcmp(s[x].backend, s[y].backend);
	if (!c)
		c = strcmp(s[x].device, s[y].device);
	return c ? c : (x > y) - (x < y);
}

/* For each line, how many lines before it have its machine, backend and
 * device (malloc'ed; NULL when out of memory). */
static int *machine_line_ranks(const selection *S)
{
	int *by = malloc(((size_t)S->n + 1) * sizeof *by), *rank = malloc(((size_t)S->n + 1) * sizeof *rank);
	if (!by || !rank) {
		free(by);
		free(rank);
		return NULL;
	}
	for (int i = 0; i < S->n; i++)
		by[i] = i;
	qsort_r(by, (size_t)S->n, sizeof *by, machine_line_cmp, S->s);
	for (int i = 0, k = 0; i < S->n; i++) {
		const series *p = i ? &S->s[by[i - 1]] : NULL, *q = &S->s[by[i]];
		k = p && p->mach == q->mach && !strcmp(p->backend, q->backend) && !strcmp(p->device, q->device) ? k + 1
		                                                                                                : 0;
		rank[by[i]] = k;
	}
	free(by);
	return rank;
}

/* Choose the lines of a panel: per line key, the context with the most
 * distinct x (ties: the context most common over all lines, then the most
 * rows, then the first seen). Lines get their points sorted by x, labels,
 * colours; S->title gets the fixed values every line shares. */
int select_lines(const report *R, const sel_spec *sp, selection *S)
{
	memset(S, 0, sizeof *S);
	grp *g = NULL;
	int ng = 0;
	if (group_all(R, sp, &g, &ng))
		return -1;
	S->s = calloc((size_t)ng + 1, sizeof *S->s);
	if (!S->s) {
		group_free(g, ng);
		return -1;
	}
	int *line = malloc(((size_t)ng + 1) * sizeof *line);
	const int nl = line ? best_groups(g, ng, line) : -1;
	int rc = nl < 0 ? -1 : 0;
	for (int l = 0; l < nl && rc == 0; l++) {
		const grp *G = &g[line[l]];
		if (G->nx < sp->min_points)
			continue;
		series *s = &S->s[S->n];
		s->x = malloc(2 * (size_t)G->n * sizeof *s->x);
		s->r = malloc((size_t)G->n * sizeof *s->r);
		s->ctx = rep_asprintf("%s", G->ckey);
		xrow *xr = malloc((size_t)G->n * sizeof *xr);
		if (!s->x || !s->r || !s->ctx || !xr) {
			free(s->x);
			free(s->r);
			free(s->ctx);
			free(xr);
			rc = -1;
			break;
		}
		S->n++;
		s->y = s->x + G->n;
		/* sorted by x; the first row of equal x wins */
		for (int i = 0; i < G->n; i++)
			xr[i] = (xrow){var_num(&R->rows[G->idx[i]], sp->xvar), G->idx[i]};
		qsort(xr, (size_t)G->n, sizeof *xr, xrow_cmp);
		for (int i = 0; i < G->n; i++) {
			if (s->n > 0 && s->x[s->n - 1] == xr[i].x)
				continue;
			const rrow *r = &R->rows[xr[i].row];
			s->x[s->n] = xr[i].x;
			s->y[s->n] = sp->y(r);
			s->r[s->n] = r;
			s->n++;
		}
		free(xr);
		s->row0 = s->r[0];
		s->mach = (sp->series & S_MACHINE) ? s->row0->mach : -1;
		s->backend = s->row0->backend;
		s->device = s->row0->device;
	}
	free(line);
	group_free(g, ng);
	if (rc) {
		sel_free(S);
		return -1;
	}
	/* order the lines (stable: ties keep the order above) */
	const series_order so = {R, sp};
	for (int i = 0; i < S->n; i++)
		S->s[i].dash = i; /* the position, until the styles below */
	qsort_r(S->s, (size_t)S->n, sizeof *S->s, series_cmp, (void *)&so);
	/* title: fixed values shared by all lines; the rest go into labels */
	size_t tl = 0;
	unsigned differ = 0;
	/* the storage dtype splits lines, but is named only where lines differ
	 * in it: in the title otherwise */
	const unsigned fixed_vars = sp->context | (sp->series & VM(V_DTYPE));
	for (int v = 0; v < NV && S->n > 0; v++) {
		if (!(fixed_vars & VM(v)))
			continue;
		char a[96], b[96];
		var_phrase(S->s[0].row0, v, a, sizeof a);
		int same = 1;
		for (int i = 1; i < S->n && same; i++) {
			var_phrase(S->s[i].row0, v, b, sizeof b);
			same = !strcmp(a, b);
		}
		if (!same)
			differ |= VM(v);
		else if (var_meaningful(S->s[0].row0, v) && tl < sizeof S->title)
			tl += (size_t)snprintf(S->title + tl, sizeof S->title - tl, "%s%s", tl ? ", " : "", a);
	}
	/* distinct values of the line variables (dash types) and machines */
	int *same_line_rank = (sp->series & S_MACHINE) ? machine_line_ranks(S) : NULL;
	if ((sp->series & S_MACHINE) && !same_line_rank) {
		sel_free(S);
		return -1;
	}
	for (int i = 0; i < S->n; i++) {
		series *s = &S->s[i];
		size_t l = 0;
		if (sp->series & S_MACHINE) {
			base_label(R, s, s->label, sizeof s->label);
			l = strlen(s->label);
		}
		for (int v = 0; v < NV; v++) {
			const unsigned named = (sp->series & ~VM(V_DTYPE)) | differ;
			if (!(named & VM(v)) || !var_meaningful(s->row0, v))
				continue;
			char w[96];
			var_phrase(s->row0, v, w, sizeof w);
			if (l < sizeof s->label)
				l += (size_t)snprintf(s->label + l, sizeof s->label - l, "%s%s", l ? ", " : "", w);
		}
		const int b = (sp->series & S_MACHINE) ? report_backend_rank(R, s->backend) : i;
		s->color = b;
		s->pt = b;
		const int rank = (sp->series & S_MACHINE) ? same_line_rank[i] : 0;
		const int m = (sp->series & S_MACHINE) ? s->mach : 0;
		/* machines: open markers on every other one, and the dash type
		 * unless the line variables (n_heads, ...) need it; lines split
		 * by dtype (and perhaps by window or cache state) get the dtype's
		 * own dash in every picture, and a windowed or non-default cache
		 * state line open markers beside its plain one */
		const unsigned alt_bits = VM(V_WINDOW) | VM(V_CSTATE);
		const int alt = ((sp->series & VM(V_WINDOW)) && var_meaningful(s->row0, V_WINDOW)) ^
		                ((sp->series & VM(V_CSTATE)) && var_meaningful(s->row0, V_CSTATE));
		s->dash = (sp->series & ~S_MACHINE & ~alt_bits) == VM(V_DTYPE) ? dtype_style(s->row0->dtype)
		          : (sp->series & ~S_MACHINE)                          ? rank
		                                                               : m;
		s->open = (m + alt) % 2;
	}
	free(same_line_rank);
	return 0;
}

/* ---- y values ----------------------------------------------------------------- */

/* The plotted quantities: time per call in ns. */
double y_time(const rrow *r)
{
	return r->time_ns;
}
/* GFLOP/s. */
double y_gflops(const rrow *r)
{
	return r->gflops;
}
/* GB/s. */
double y_gbs(const rrow *r)
{
	return r->gbytes_s;
}
/* KV-cache bytes. */
double y_kv(const rrow *r)
{
	return r->kv_bytes;
}
/* The backend's workspace bytes. */
double y_ws(const rrow *r)
{
	return r->ws_bytes;
}
/* Percent of peak FLOP/s (NaN where absent). */
double y_pct_flops(const rrow *r)
{
	return r->pct_flops;
}
/* Percent of peak memory bandwidth (NaN where absent). */
double y_pct_bw(const rrow *r)
{
	return r->pct_bw;
}

/* ---- the two scaling families ------------------------------------------------------ */

/* cold and hot lines side by side where a run measured both */
const sel_spec cost_spec = {PHASE_PREFILL, V_SEQ, S_BACKEND_DTYPE | VM(V_WINDOW) | VM(V_CSTATE), CTX_SHAPE, y_time, 2,
                            NULL};
const sel_spec decode_spec = {
    PHASE_DECODE, V_CACHE, S_BACKEND_DTYPE | VM(V_WINDOW) | VM(V_CSTATE), CTX_SHAPE, y_time, 2, NULL};

/* Fit every line of a selection with the report's rule. */
void fit_lines(selection *S)
{
	for (int i = 0; i < S->n; i++) {
		series *s = &S->s[i];
		const double w = var_num(s->row0, V_WINDOW);
		s->has_fit = fit_power_law_tail(s->x, s->y, s->n, fmax(FIT_MIN_X, 2 * w), FIT_MIN_PTS, &s->fit) == 0;
	}
}

int base_lines_select(const report *R, base_lines *L)
{
	memset(L, 0, sizeof *L);
	if (select_lines(R, &cost_spec, &L->prefill))
		return -1;
	if (select_lines(R, &decode_spec, &L->decode)) {
		sel_free(&L->prefill);
		return -1;
	}
	fit_lines(&L->prefill);
	fit_lines(&L->decode);
	return 0;
}

void base_lines_free(base_lines *L)
{
	sel_free(&L->prefill);
	sel_free(&L->decode);
}
