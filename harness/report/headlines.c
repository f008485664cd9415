/* headlines.c - the figures report.md states, computed before anything is
 * drawn: the headline table (one row per machine, backend and dtype), the request
 * scenarios of the split picture, and the points some machines lack. The
 * pictures only read them. */
#include "report/headlines.h"

#include <math.h>
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
		for (int i = 1; i < S->n && all; i++) {
			int has = 0;
			for (int k = 0; k < S->s[i].n && !has; k++)
				has = S->s[i].x[k] == x;
			all = has;
		}
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
		/* the backend's colour; its other dtypes get darker shades of it */
		for (int j = 0; j < k; j++) {
			const series *o = &S->s[pair[j][0]];
			q->shade[k] +=
			    o->mach == ps->mach && !strcmp(o->backend, ps->backend) && !strcmp(o->device, ps->device);
		}
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

/* Are q and r the same point: backend, phase, shape, lengths, causal, dtype? */
static int same_point(const rrow *q, const rrow *r)
{
	return results_point_cmp(q->rec, r->rec) == 0;
}

/* Points (backend, phase, shape, length) not measured on every machine. */
static void find_missing(report *R)
{
	if (R->nmach < 2)
		return;
	/* whole backends first: absent from a machine */
	for (int b = 0; b < R->nbackends; b++)
		for (int m = 0; m < R->nmach; m++) {
			int has = 0;
			for (int i = 0; i < R->nrows && !has; i++)
				has = !R->rows[i].dropped && R->rows[i].mach == m &&
				      !strcmp(R->rows[i].backend, R->backends[b]);
			if (!has)
				add_missing(R, R->backends[b], NULL, m);
		}
	for (int i = 0; i < R->nrows; i++) {
		const rrow *r = &R->rows[i];
		if (r->dropped)
			continue;
		/* consider each point once, at its first row */
		int seen = 0;
		for (int j = 0; j < i && !seen; j++) {
			const rrow *q = &R->rows[j];
			seen = !q->dropped && !strcmp(q->backend, r->backend) && same_point(q, r);
		}
		if (seen)
			continue;
		for (int m = 0; m < R->nmach; m++) {
			int has = 0, any_backend = 0;
			for (int j = 0; j < R->nrows && !has; j++) {
				const rrow *q = &R->rows[j];
				if (q->dropped || q->mach != m || strcmp(q->backend, r->backend))
					continue;
				any_backend = 1;
				has = same_point(q, r);
			}
			if (has || !any_backend)
				continue;
			add_missing(R, r->backend, r, m);
		}
	}
}

int report_figures(report *R, const base_lines *L)
{
	headlines(R, &L->prefill, &L->decode);
	if (request_split_compute(R, &L->prefill, &L->decode))
		return -1;
	find_missing(R);
	return 0;
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
