/* headlines.c - the figures report.md states, computed before anything is
 * drawn: the headline table (one row per machine, backend and dtype), the request
 * scenarios of the split picture, and the points some machines lack. The
 * pictures only read them. */
#include "report/headlines.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fit.h"

/* Largest x that every line of a selection measured (0: none). */
static double largest_common_x(const selection *S)
{
	if (S->n == 0)
		return 0;
	for (int j = S->s[0].n - 1; j >= 0; j--) {
		const double x = S->s[0].x[j];
		int all = 1;
		for (int i = 1; i < S->n && all; i++)
			all = bsearch(&x, S->s[i].x, (size_t)S->s[i].n, sizeof x, dbl_cmp) != NULL; /* x is sorted */
		if (all)
			return x;
	}
	return 0;
}

/* Is s the line of (machine m, backend, device, dtype)? */
static int line_is(const series *s, int m, const char *backend, const char *device, attn_dtype dtype)
{
	return s->mach == m && !strcmp(s->backend, backend) && !strcmp(s->device, device) && s->row0->dtype == dtype;
}

/* The line of S of headline H, or NULL. S splits lines by machine,
 * backend, device and dtype: there is one at most. */
static const series *line_of(const selection *S, const headline *H)
{
	for (int i = 0; i < S->n; i++)
		if (line_is(&S->s[i], H->mach, H->backend, H->device, H->dtype))
			return &S->s[i];
	return NULL;
}

/* One headline row per (machine, backend, device, dtype). One pass over
 * the rows finds the rows and their largest GFLOP/s and workspace at any
 * point; then each row takes its prefill figures (time at common_seq, the
 * fitted exponent) from its own prefill line and its decode tokens/s (at
 * common_cache) from its own decode line. */
static void headlines(report *R, const selection *S, const selection *D)
{
	R->common_seq = (int64_t)largest_common_x(S);
	R->common_cache = (int64_t)largest_common_x(D);
	for (int i = 0; i < R->nrows; i++) {
		const rrow *r = &R->rows[i];
		if (r->dropped)
			continue;
		int h = 0;
		while (h < R->nheads && (R->heads[h].mach != r->mach || strcmp(R->heads[h].backend, r->backend) ||
		                         strcmp(R->heads[h].device, r->device) || R->heads[h].dtype != r->dtype))
			h++;
		if (h == R->nheads) {
			if (h == MAX_HEADS)
				continue;
			headline *n = &R->heads[R->nheads++];
			memset(n, 0, sizeof *n);
			n->mach = r->mach;
			n->backend = r->backend;
			n->device = r->device;
			n->dtype = r->dtype;
			n->prefill_ns = n->decode_tok_s = n->exponent = NAN;
		}
		headline *H = &R->heads[h];
		if (r->gflops > H->peak_gflops) {
			H->peak_gflops = r->gflops;
			H->peak_row = r;
		}
		if (r->ws_bytes > H->max_ws)
			H->max_ws = r->ws_bytes;
	}
	/* headline order: machine, then backend colour order, then dtypes as
	 * they first appear (a stable sort) */
	for (int i = 1; i < R->nheads; i++) {
		headline t = R->heads[i];
		int p = i;
		while (p > 0 && (R->heads[p - 1].mach > t.mach ||
		                 (R->heads[p - 1].mach == t.mach && report_backend_rank(R, R->heads[p - 1].backend) >
		                                                        report_backend_rank(R, t.backend)))) {
			R->heads[p] = R->heads[p - 1];
			p--;
		}
		R->heads[p] = t;
	}
	for (int h = 0; h < R->nheads; h++) {
		headline *H = &R->heads[h];
		const series *ps = line_of(S, H), *ds = line_of(D, H);
		if (ps && ps->has_fit)
			H->exponent = ps->fit.exponent;
		for (int k = 0; ps && k < ps->n; k++)
			if (ps->x[k] == (double)R->common_seq)
				H->prefill_ns = ps->y[k];
		for (int k = 0; ds && k < ds->n; k++)
			if (ds->x[k] == (double)R->common_cache)
				H->decode_tok_s = (double)ds->r[k]->batch * 1e9 / ds->y[k];
	}
}

/* Prefill time at P from a line: measured, else from its power-law fit. */
static double prefill_at(const series *s, double P, int *estimated)
{
	for (int i = 0; i < s->n; i++)
		if (s->x[i] == P) {
			*estimated = 0;
			return s->y[i];
		}
	*estimated = 1;
	return fit_power_eval(&s->fit, P);
}

/* The request scenarios: every prefill line with a fit and the decode line
 * of the same (machine, backend, device, dtype), at each prompt length P
 * and number of generated tokens T. */
static int request_split_compute(report *R, const selection *S, const selection *D)
{
	request_split *q = &R->split;
	int pair[64][2], np = 0;
	for (int i = 0; i < S->n && np < 64; i++) {
		if (!S->s[i].has_fit)
			continue;
		const series *a = &S->s[i];
		for (int j = 0; j < D->n; j++) {
			if (line_is(&D->s[j], a->mach, a->backend, a->device, a->row0->dtype)) {
				pair[np][0] = i;
				pair[np][1] = j;
				np++;
				break;
			}
		}
	}
	const int nsc = R->nprompts * R->ngen;
	q->nsc = nsc;
	q->lo = INFINITY;
	q->hi = 0;
	if (np == 0)
		return 0;
	q->pre = calloc((size_t)(np * nsc) * 2 + 1, sizeof *q->pre);
	q->dec = q->pre ? q->pre + np * nsc : NULL;
	q->est = calloc((size_t)(np * nsc) + 1, sizeof *q->est);
	q->label = calloc((size_t)np, sizeof *q->label);
	q->color = calloc((size_t)np * 2, sizeof *q->color);
	q->shade = q->color ? q->color + np : NULL;
	if (!q->pre || !q->est || !q->label || !q->color)
		return -1;
	q->nlines = np;
	for (int k = 0; k < np; k++) {
		const series *ps = &S->s[pair[k][0]], *ds = &D->s[pair[k][1]];
		snprintf(q->label[k], sizeof q->label[k], "%s", ps->label);
		q->color[k] = ps->color;
		/* the backend's colour; the dtype's fill (f32 solid, f16 and bf16
		 * hatched and darker), the same for every backend */
		q->shade[k] = dtype_style(ps->row0->dtype);
		for (int a = 0; a < R->nprompts; a++)
			for (int b = 0; b < R->ngen; b++) {
				const int sc = a * R->ngen + b, at = k * nsc + sc;
				q->pre[at] = prefill_at(ps, (double)R->prompts[a], &q->est[at]);
				q->dec[at] =
				    fit_sum_linear(ds->x, ds->y, ds->n, (double)R->prompts[a], (long)R->gen[b]);
				q->lo = fmin(q->lo, fmin(q->pre[at], q->pre[at] + q->dec[at]));
				q->hi = fmax(q->hi, q->pre[at] + q->dec[at]);
			}
	}
	return 0;
}

/* Count a missing point; keep the first MAX_MISSING. */
static void add_missing(report *R, const char *backend, const rrow *r, int mach)
{
	if (R->nmissing < MAX_MISSING)
		R->missing[R->nmissing] = (missing_point){backend, r, mach};
	R->nmissing++;
}

/* Order of row pointers: point (backend first), then file order. */
static int row_point_cmp(const void *x, const void *y)
{
	const rrow *a = *(const rrow *const *)x, *b = *(const rrow *const *)y;
	const int c = results_point_cmp(a->rec, b->rec);
	return c ? c : (a > b) - (a < b);
}

/* A point some machine lacks, found at the point's first row. */
typedef struct gap {
	const rrow *first;
	int mach;
} gap;

/* Order of gaps: the point's first row, then the machine. */
static int gap_cmp(const void *x, const void *y)
{
	const gap *a = x, *b = y;
	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	return a->mach - b->mach;
}

/* Points (backend, phase, shape, length) not measured on every machine:
 * whole backends absent from a machine first, then each point at its
 * first row, for every machine that measured its backend but not it. Rows
 * are sorted by point once, so that every point is a run of rows. */
static int find_missing(report *R)
{
	if (R->nmach < 2)
		return 0;
	const rrow **by = malloc(((size_t)R->nrows + 1) * sizeof *by);
	gap *gaps = NULL;
	if (!by)
		return -1;
	int n = 0;
	for (int i = 0; i < R->nrows; i++)
		if (!R->rows[i].dropped)
			by[n++] = &R->rows[i];
	qsort(by, (size_t)n, sizeof *by, row_point_cmp);
	/* the machines each backend was measured on (machines <= MAX_RUNS = 64) */
	uint64_t *backend_on = calloc((size_t)n + 1, sizeof *backend_on); /* per row: its backend's machines */
	if (!backend_on) {
		free(by);
		return -1;
	}
	for (int a = 0, b; a < n; a = b) {
		uint64_t m = 0;
		for (b = a; b < n && !strcmp(by[b]->backend, by[a]->backend); b++)
			m |= (uint64_t)1 << by[b]->mach;
		for (int k = a; k < b; k++)
			backend_on[k] = m;
	}
	for (int b = 0; b < R->nbackends; b++) {
		uint64_t on = 0;
		for (int i = 0; i < n; i++)
			if (!strcmp(by[i]->backend, R->backends[b])) {
				on = backend_on[i];
				break;
			}
		for (int m = 0; m < R->nmach; m++)
			if (!(on >> m & 1))
				add_missing(R, R->backends[b], NULL, m);
	}
	int ngap = 0, cap = 0, rc = 0;
	for (int a = 0, b; a < n && !rc; a = b) {
		uint64_t has = 0;
		const rrow *first = by[a]; /* the lowest address: the first row in file order */
		for (b = a; b < n && !results_point_cmp(by[b]->rec, by[a]->rec); b++)
			has |= (uint64_t)1 << by[b]->mach;
		for (int m = 0; m < R->nmach && !rc; m++) {
			if ((has >> m & 1) || !(backend_on[a] >> m & 1))
				continue;
			if (ngap == cap) {
				cap = cap ? 2 * cap : 64;
				gap *t = realloc(gaps, (size_t)cap * sizeof *t);
				if (!t) {
					rc = -1;
					break;
				}
				gaps = t;
			}
			gaps[ngap++] = (gap){first, m};
		}
	}
	if (!rc && ngap > 0) {
		qsort(gaps, (size_t)ngap, sizeof *gaps, gap_cmp);
		for (int i = 0; i < ngap; i++)
			add_missing(R, gaps[i].first->backend, gaps[i].first, gaps[i].mach);
	}
	free(gaps);
	free(backend_on);
	free(by);
	return rc;
}

int report_figures(report *R, const base_lines *L)
{
	headlines(R, &L->prefill, &L->decode);
	if (request_split_compute(R, &L->prefill, &L->decode))
		return -1;
	return find_missing(R);
}

void report_figures_free(report *R)
{
	request_split *q = &R->split;
	free(q->pre);
	free(q->est);
	free(q->label);
	free(q->color);
	memset(q, 0, sizeof *q);
}
