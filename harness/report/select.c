/* select.c - the lines of a picture: rows grouped by what splits them
 * (machine, backend, device, dtype, ...) and what they hold fixed (the
 * shape), one context per line, sorted, labelled and styled. */
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

/* All groups of rows with the same line and context keys. */
static int group_all(const report *R, const sel_spec *sp, grp **out, int *nout)
{
	grp *g = NULL;
	int n = 0, cap = 0;
	char skey[1024], ckey[1024];
	for (int i = 0; i < R->nrows; i++) {
		const rrow *r = &R->rows[i];
		if (!row_wanted(R, sp, r))
			continue;
		sel_keys(sp, r, skey, ckey, sizeof skey);
		if (sp->want_ctx && strcmp(ckey, sp->want_ctx))
			continue;
		int k = 0;
		while (k < n && (strcmp(g[k].skey, skey) || strcmp(g[k].ckey, ckey)))
			k++;
		if (k == n) {
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				grp *t = realloc(g, (size_t)cap * sizeof *t);
				if (!t)
					goto oom;
				g = t;
			}
			memset(&g[n], 0, sizeof g[n]);
			g[n].skey = rep_asprintf("%s", skey);
			g[n].ckey = rep_asprintf("%s", ckey);
			n++;
			if (!g[k].skey || !g[k].ckey)
				goto oom;
		}
		if (g[k].n == g[k].cap) {
			g[k].cap = g[k].cap ? g[k].cap * 2 : 8;
			int *t = realloc(g[k].idx, (size_t)g[k].cap * sizeof *t);
			if (!t)
				goto oom;
			g[k].idx = t;
		}
		g[k].idx[g[k].n++] = i;
	}
	for (int k = 0; k < n; k++)
		g[k].nx = grp_distinct_x(R, sp, &g[k]);
	/* a context's rank: its distinct x summed over every line */
	for (int k = 0; k < n; k++)
		for (int j = 0; j < n; j++)
			if (!strcmp(g[k].ckey, g[j].ckey))
				g[k].rank += g[j].nx;
	*out = g;
	*nout = n;
	return 0;
oom:
	for (int k = 0; k < n; k++) {
		free(g[k].skey);
		free(g[k].ckey);
		free(g[k].idx);
	}
	free(g);
	return -1;
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

/* Does backend b on machine m appear with more than one device? */
static int backend_multi_device(const report *R, int m, const char *b)
{
	const char *dev = NULL;
	for (int i = 0; i < R->nrows; i++) {
		const rrow *r = &R->rows[i];
		if (r->mach != m || strcmp(r->backend, b))
			continue;
		if (dev && strcmp(dev, r->device))
			return 1;
		dev = r->device;
	}
	return 0;
}

/* "backend", "backend (device)" or "backend @ host/device". */
static void base_label(const report *R, const series *s, char *buf, size_t len)
{
	if (R->nmach > 1)
		snprintf(buf, len, "%s @ %s/%s", s->backend, R->machines[s->mach].host, s->device);
	else if (backend_multi_device(R, s->mach, s->backend))
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
	return 1;
}

/* Choose the lines of a panel: per line key, the context with the most
 * distinct x (ties: the context most common over all lines, then the most
 * rows, then the first seen). Lines get their points sorted by x, labels,
 * colours; S->title gets the fixed values every line shares. */
int select_lines(const report *R, const sel_spec *sp, selection *S)
{
	memset(S, 0, sizeof *S);
	grp *g;
	int ng;
	if (group_all(R, sp, &g, &ng))
		return -1;
	S->s = calloc((size_t)ng + 1, sizeof *S->s);
	if (!S->s) {
		group_free(g, ng);
		return -1;
	}
	int rc = 0;
	for (int k = 0; k < ng && rc == 0; k++) {
		/* the best group of this line key, considered once at its first group */
		int first = 1, best = k;
		for (int j = 0; j < ng; j++) {
			if (strcmp(g[j].skey, g[k].skey))
				continue;
			if (j < k) {
				first = 0;
				break;
			}
			const grp *a = &g[j], *b = &g[best];
			if (a->nx > b->nx ||
			    (a->nx == b->nx && (a->rank > b->rank || (a->rank == b->rank && a->n > b->n))))
				best = j;
		}
		if (!first || g[best].nx < sp->min_points)
			continue;
		const grp *G = &g[best];
		series *s = &S->s[S->n];
		s->x = malloc(2 * (size_t)G->n * sizeof *s->x);
		s->r = malloc((size_t)G->n * sizeof *s->r);
		s->ctx = rep_asprintf("%s", G->ckey);
		if (!s->x || !s->r || !s->ctx) {
			free(s->x);
			free(s->r);
			free(s->ctx);
			rc = -1;
			break;
		}
		S->n++;
		s->y = s->x + G->n;
		/* insertion sort by x; the first row of equal x wins */
		for (int i = 0; i < G->n; i++) {
			const rrow *r = &R->rows[G->idx[i]];
			const double x = var_num(r, sp->xvar);
			int p = s->n;
			while (p > 0 && s->x[p - 1] > x)
				p--;
			if (p > 0 && s->x[p - 1] == x)
				continue;
			memmove(s->x + p + 1, s->x + p, (size_t)(s->n - p) * sizeof *s->x);
			memmove(s->y + p + 1, s->y + p, (size_t)(s->n - p) * sizeof *s->y);
			memmove(s->r + p + 1, s->r + p, (size_t)(s->n - p) * sizeof *s->r);
			s->x[p] = x;
			s->y[p] = sp->y(r);
			s->r[p] = r;
			s->n++;
		}
		s->row0 = s->r[0];
		s->mach = (sp->series & S_MACHINE) ? s->row0->mach : -1;
		s->backend = s->row0->backend;
		s->device = s->row0->device;
	}
	group_free(g, ng);
	if (rc) {
		sel_free(S);
		return -1;
	}
	/* order the lines */
	for (int i = 1; i < S->n; i++) {
		series t = S->s[i];
		int p = i;
		while (p > 0 && series_before(R, sp, &t, &S->s[p - 1])) {
			S->s[p] = S->s[p - 1];
			p--;
		}
		S->s[p] = t;
	}
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
		/* machines: open markers on every other one, and the dash type
		 * unless the line variables (n_heads, ...) need it */
		int rank = 0;
		for (int j = 0; j < i; j++)
			if ((sp->series & S_MACHINE) && S->s[j].mach == s->mach &&
			    !strcmp(S->s[j].backend, s->backend) && !strcmp(S->s[j].device, s->device))
				rank++;
		const int m = (sp->series & S_MACHINE) ? s->mach : 0;
		s->dash = (sp->series & ~S_MACHINE) ? rank : m;
		s->open = m % 2;
	}
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

const sel_spec cost_spec = {PHASE_PREFILL, V_SEQ, S_BACKEND_DTYPE, CTX_SHAPE, y_time, 2, NULL};
const sel_spec decode_spec = {PHASE_DECODE, V_CACHE, S_BACKEND_DTYPE, CTX_SHAPE, y_time, 2, NULL};

/* Fit every line of a selection with the report's rule. */
void fit_lines(selection *S)
{
	for (int i = 0; i < S->n; i++) {
		series *s = &S->s[i];
		s->has_fit = fit_power_law_tail(s->x, s->y, s->n, FIT_MIN_X, FIT_MIN_PTS, &s->fit) == 0;
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
