/* sweep_point.c - one sweep point measured, alone or as an A/B group (see
 * sweep_point.h). Google Benchmark does all the timing: each (backend,
 * point) is registered as one benchmark, run, and cleared. An A/B group
 * registers each build for one repetition at a time, in turn, every
 * repetition the same number of calls (measure_group). */
#include "run/sweep_point.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/stats.h"
#include "run/gbench_shim.h"
#include "run/worker.h"

/* Timed calls per repetition of a cold point (each after an eviction). */
#define SWEEP_COLD_ITERATIONS 10

static void collect_run(const gb_run *r, void *user)
{
	point_ctx *c = user;
	if (r->error) {
		if (!c->failed) {
			c->failed = 1;
			snprintf(c->err, sizeof c->err, "%s", r->error_message);
		}
		return;
	}
	if (r->aggregate || c->nrep >= SWEEP_MAX_REPS)
		return;
	c->rep_ns[c->nrep++] = r->real_time_ns;
	c->iterations = r->iterations;
}

void sweep_row_times(result_row *row, const double *rep_ns, int n)
{
	double sorted[SWEEP_MAX_REPS];
	memcpy(sorted, rep_ns, (size_t)n * sizeof(double));
	row->measured = 1;
	row->reps = n;
	row->rep_ns = rep_ns;
	row->time_ns = stats_median(sorted, n);
	row->time_ns_min = sorted[0];
	row->time_ns_max = sorted[n - 1];
}

/* ---- one (backend, point): set up, timed, finished ------------------------- */

/* Set up backend bi at point pt in c, up to the guarded call before the
 * timed ones: 1 when its repetitions are to be timed, 0 when row is final
 * (skipped, or an error), with the reason in reason. */
static int point_open(const sweep_opts *o, run_setup *r, int bi, const sweep_point *pt, result_row *row, point_ctx *c,
                      char *reason, size_t reason_len)
{
	const attn_backend *b = r->sel[bi]->be;
	void *inst = r->inst[bi];
	char why[256] = "";
	memset(c, 0, sizeof *c);
	c->be = r->sel[bi];
	c->inst = inst;
	c->pt = *pt;
	c->gpu_timing = o->vk_gpu_timing && (b->caps & ATTN_CAP_DEVICE_TIMER);
	row->status = RESULT_SKIPPED;
	row->reason = reason;
	row->timing = c->gpu_timing ? "gpu" : "wall";
	const int needs_cache = pt->phase != PHASE_ATTEND && pt->page_size <= 0; /* paged: attend_paged only */
	if (needs_cache && !(b->caps & ATTN_CAP_KV_CACHE)) {
		snprintf(reason, reason_len, "not supported: no KV cache");
		return 0;
	}
	if (point_unsupported(b, pt, why, sizeof why)) {
		snprintf(reason, reason_len, "not supported: %s", why);
		return 0;
	}
	if (point_prepare(c)) { /* the shape's vectors, for supports() to see */
		row->status = RESULT_ERROR;
		snprintf(reason, reason_len, "%s", c->err);
		return 0;
	}
	if (!b->supports(inst, &c->pt.shape, why, sizeof why)) {
		point_teardown(c);
		/* a backend that knows the shape will not fit says "needs ..." */
		if (!strncmp(why, "needs ", 6))
			snprintf(reason, reason_len, "%s", why);
		else
			snprintf(reason, reason_len, "not supported: %s", why);
		return 0;
	}
	row->workspace_bytes = b->workspace_bytes(inst, &c->pt.shape);
	const uint64_t need = point_need(pt, row->workspace_bytes);
	if (need > r->cfg.max_mem) {
		point_teardown(c);
		snprintf(reason, reason_len, "needs %.2f GiB", (double)need / (1024.0 * 1024 * 1024));
		return 0;
	}
	/* in a worker, one guarded call before the timed ones (point_verify):
	 * a fault there kills only the worker; --no-isolate runs unguarded */
	if (!o->no_isolate)
		point_verify(c); /* a failure: c->failed, the row's error in point_close */
	return 1;
}

/* Time reps repetitions of c's point (appended to c->rep_ns): each
 * iterations calls where iterations > 0, else as many as --min-time asks
 * (a cold point: SWEEP_COLD_ITERATIONS). Nothing when c has failed. */
static void point_time(const run_setup *r, point_ctx *c, int reps, int64_t iterations)
{
	if (c->failed)
		return;
	const sweep_point *pt = &c->pt;
	char name[256], shp[128];
	point_label(pt, 1, shp, sizeof shp);
	snprintf(name, sizeof name, "%s/%s/%s", phase_name(pt->phase), c->be->be->name, shp);
	gb_bench *gb = gb_register(name, point_body, c);
	gb_repetitions(gb, reps);
	/* a cold call pays an eviction (twice the LLC read) outside the timed
	 * region: min_time counts only the calls, so a microsecond decode would
	 * run for hours; a fixed count bounds it */
	if (point_cache_state(pt) == CACHE_COLD)
		gb_iterations(gb, SWEEP_COLD_ITERATIONS);
	else if (iterations > 0)
		gb_iterations(gb, iterations);
	else
		gb_min_time(gb, r->cfg.min_time);
	if (point_manual_time(pt, c->gpu_timing))
		gb_use_manual_time(gb);
	else
		gb_use_real_time(gb);
	gb_run_all(collect_run, c);
	gb_clear();
}

/* Finish row from c's repetitions (or its failure); frees c's buffers. */
static void point_close(run_setup *r, int bi, result_row *row, point_ctx *c, char *reason, size_t reason_len)
{
	const attn_backend *b = r->sel[bi]->be;
	const double evict_gbs =
	    c->evicts && c->evict_s > 0 ? 1e-9 * (double)c->evicts * (double)c->evict_bytes / c->evict_s : 0;
	point_teardown(c);
	if (c->failed || c->nrep == 0) {
		row->status = RESULT_ERROR;
		snprintf(reason, reason_len, "%s", c->failed ? c->err : "no repetition was reported");
		for (char *p = reason; *p; p++)
			*p = (*p == '\n' || *p == '\r') ? ' ' : *p;
		free(c->gpu_ns);
		c->gpu_ns = NULL;
		return;
	}
	sweep_row_times(row, c->rep_ns, c->nrep);
	row->iterations = c->iterations;
	row->gpu_time_ns = c->ngpu ? stats_median(c->gpu_ns, c->ngpu) : 0;
	row->evict_gbs = evict_gbs;
	free(c->gpu_ns);
	c->gpu_ns = NULL;
	if (b->peak_device_bytes)
		row->peak_device_bytes = b->peak_device_bytes(c->inst);
	row->status = RESULT_OK;
	reason[0] = 0;
}

/* Measure one (backend, point): fill row, its status and, for a point
 * skipped or failed, the reason. */
static void measure_point(const sweep_opts *o, run_setup *r, int bi, const sweep_point *pt, result_row *row,
                          point_ctx *c, char *reason, size_t reason_len)
{
	if (point_open(o, r, bi, pt, row, c, reason, reason_len)) {
		point_time(r, c, r->cfg.repetitions, 0);
		point_close(r, bi, row, c, reason, reason_len);
	}
}

void sweep_ab_order(int *order, int nb, int rep, int pi)
{
	for (int k = 0; k < nb; k++)
		order[k] = (k + rep + pi) % nb;
}

int sweep_same_backend(const backend_entry *a, const backend_entry *b)
{
	if (!a->tag[0] || !b->tag[0] || !strcmp(a->tag, b->tag))
		return 0;
	const size_t na = strlen(a->name) - strlen(a->tag) - 1, nb = strlen(b->name) - strlen(b->tag) - 1;
	return na == nb && !strncmp(a->name, b->name, na);
}

/* The builds of a group at one point, in turn, repetition by repetition;
 * cs[k] is build bi[k]'s context. Only the builds with made[k] (an
 * instance) take part; one whose repetition fails runs no more, the
 * others go on. Every repetition of every build runs the same number of
 * calls: the most that any build's untimed first run under --min-time
 * chose. On a shared CPU a longer repetition is more likely to lose the
 * core for part of its time, so builds timed over repetitions of different
 * lengths would differ by that alone. */
static void measure_group(const sweep_opts *o, run_setup *r, const int *bi, int nb, int pi, const sweep_point *pt,
                          result_row *rows, point_ctx *cs, char (*reasons)[SWEEP_REASON_LEN], const int *made)
{
	int live[ATTN_MAX_BACKENDS], order[ATTN_MAX_BACKENDS];
	int64_t calls = 0;
	for (int k = 0; k < nb; k++)
		live[k] = made[k] && point_open(o, r, bi[k], pt, &rows[k], &cs[k], reasons[k], SWEEP_REASON_LEN);
	for (int k = 0; k < nb && point_cache_state(pt) != CACHE_COLD; k++) {
		sweep_ab_order(order, nb, 0, pi);
		point_ctx *c = &cs[order[k]];
		if (!live[order[k]])
			continue;
		point_time(r, c, 1, 0); /* untimed: how many calls --min-time takes */
		if (c->iterations > calls)
			calls = c->iterations;
		c->nrep = 0;
		c->ngpu = 0;
	}
	for (int rep = 0; rep < r->cfg.repetitions; rep++) {
		sweep_ab_order(order, nb, rep, pi);
		for (int j = 0; j < nb; j++)
			if (live[order[j]])
				point_time(r, &cs[order[j]], 1, calls);
	}
	for (int k = 0; k < nb; k++)
		if (live[k])
			point_close(r, bi[k], &rows[k], &cs[k], reasons[k], SWEEP_REASON_LEN);
}

/* ---- in a worker ------------------------------------------------------------- */

/* Create backend bi's instance in the worker: 0, or -1 with row an error. */
static int create_in_worker(const sweep_opts *o, run_setup *r, int bi, result_row *row, char *reason, size_t len)
{
	backend_entry *be = r->sel[bi];
	const attn_config bc = registry_config(&o->cfg, be->be->name);
	char err[512] = "";
	worker_enter("create");
	if (be->be->create(&bc, &r->inst[bi], err, sizeof err)) {
		r->inst[bi] = NULL;
		row->status = RESULT_ERROR;
		snprintf(reason, len, "create failed: %s", err);
		return -1;
	}
	return 0;
}

static void destroy_in_worker(run_setup *r, int bi)
{
	worker_enter("destroy");
	r->sel[bi]->be->destroy(r->inst[bi]);
	r->inst[bi] = NULL;
}

/* What a worker hands back: the rows (their pointers are the parent's,
 * valid in both), their reasons and repetition times; one row alone, or
 * the nb builds of a group. */
typedef struct point_job {
	const sweep_opts *o;
	run_setup *r;
	int bi[ATTN_MAX_BACKENDS], nb, pi;
	const sweep_point *pt;
	result_row row[ATTN_MAX_BACKENDS];
	char reason[ATTN_MAX_BACKENDS][SWEEP_REASON_LEN];
	double rep_ns[ATTN_MAX_BACKENDS][SWEEP_MAX_REPS];
} point_job;

static void point_work(void *arg)
{
	point_job *j = arg; /* shared memory */
	point_ctx *cs = calloc((size_t)j->nb, sizeof *cs);
	int made[ATTN_MAX_BACKENDS];
	for (int k = 0; k < j->nb; k++)
		made[k] = cs && create_in_worker(j->o, j->r, j->bi[k], &j->row[k], j->reason[k], SWEEP_REASON_LEN) == 0;
	if (!cs) {
		for (int k = 0; k < j->nb; k++) {
			j->row[k].status = RESULT_ERROR;
			snprintf(j->reason[k], SWEEP_REASON_LEN, "out of memory");
		}
		return;
	}
	if (j->nb == 1 && made[0])
		measure_point(j->o, j->r, j->bi[0], j->pt, &j->row[0], &cs[0], j->reason[0], SWEEP_REASON_LEN);
	else if (j->nb > 1)
		measure_group(j->o, j->r, j->bi, j->nb, j->pi, j->pt, j->row, cs, j->reason, made);
	for (int k = 0; k < j->nb; k++) {
		if (!made[k])
			continue;
		memcpy(j->rep_ns[k], cs[k].rep_ns, sizeof cs[k].rep_ns);
		destroy_in_worker(j->r, j->bi[k]);
	}
	free(cs);
}

/* Run job j (its rows initialised) in a worker and copy its rows back:
 * WORKER_DONE, or the outcome with every row an error of reason why. */
static worker_outcome run_job(const sweep_opts *o, point_job *j, result_row *rows, double (*rep_ns)[SWEEP_MAX_REPS],
                              char (*reasons)[SWEEP_REASON_LEN])
{
	char why[512];
	const worker_outcome w =
	    worker_run(point_work, j, o->timeout_s > 0 ? o->timeout_s : SWEEP_TIMEOUT_S, why, sizeof why);
	for (int k = 0; k < j->nb; k++) {
		result_row *row = &rows[k];
		const char *device = row->device;
		*row = j->row[k];
		memcpy(rep_ns[k], j->rep_ns[k], sizeof j->rep_ns[k]);
		row->rep_ns = rep_ns[k];
		row->reason = reasons[k];
		row->device = device;
		snprintf(reasons[k], SWEEP_REASON_LEN, "%s", w == WORKER_DONE ? j->reason[k] : why);
		if (w != WORKER_DONE) {
			row->status = RESULT_ERROR;
			row->measured = 0;
		}
	}
	return w;
}

/* A job in shared memory for nb rows (NULL: each row an error). */
static point_job *job_new(const sweep_opts *o, run_setup *r, const sweep_point *pt, int pi, const int *bi, int nb,
                          result_row *rows, char (*reasons)[SWEEP_REASON_LEN])
{
	point_job *j = worker_shared(sizeof *j);
	for (int k = 0; !j && k < nb; k++) {
		rows[k].status = RESULT_ERROR;
		rows[k].reason = reasons[k];
		snprintf(reasons[k], SWEEP_REASON_LEN, "cannot start a worker: out of memory");
	}
	if (!j)
		return NULL;
	j->o = o;
	j->r = r;
	j->pt = pt;
	j->pi = pi;
	j->nb = nb;
	for (int k = 0; k < nb; k++) {
		j->bi[k] = bi[k];
		j->row[k] = rows[k];
	}
	return j;
}

void sweep_run_point(const sweep_opts *o, run_setup *r, int bi, const sweep_point *pt, result_row *row, double *rep_ns,
                     char *reason, size_t reason_len)
{
	if (o->no_isolate) {
		point_ctx c;
		measure_point(o, r, bi, pt, row, &c, reason, reason_len);
		memcpy(rep_ns, c.rep_ns, sizeof c.rep_ns);
		row->rep_ns = rep_ns;
		return;
	}
	char reasons[1][SWEEP_REASON_LEN];
	double(*times)[SWEEP_MAX_REPS] = (double(*)[SWEEP_MAX_REPS])rep_ns;
	point_job *j = job_new(o, r, pt, 0, &bi, 1, row, reasons);
	if (j) {
		run_job(o, j, row, times, reasons);
		worker_shared_free(j, sizeof *j);
	}
	snprintf(reason, reason_len, "%s", reasons[0]);
	row->reason = reason;
}

void sweep_run_group(const sweep_opts *o, run_setup *r, const int *bi, int nb, int pi, const sweep_point *pt,
                     result_row *rows, double (*rep_ns)[SWEEP_MAX_REPS], char (*reasons)[SWEEP_REASON_LEN])
{
	if (o->no_isolate) {
		point_ctx *cs = calloc((size_t)nb, sizeof *cs);
		for (int k = 0; k < nb; k++) {
			rows[k].reason = reasons[k];
			if (!cs) {
				rows[k].status = RESULT_ERROR;
				snprintf(reasons[k], SWEEP_REASON_LEN, "out of memory");
			}
		}
		const int made[ATTN_MAX_BACKENDS] = {[0 ... ATTN_MAX_BACKENDS - 1] = 1};
		if (cs)
			measure_group(o, r, bi, nb, pi, pt, rows, cs, reasons, made);
		for (int k = 0; cs && k < nb; k++) {
			memcpy(rep_ns[k], cs[k].rep_ns, sizeof cs[k].rep_ns);
			rows[k].rep_ns = rep_ns[k];
		}
		free(cs);
		return;
	}
	result_row init[ATTN_MAX_BACKENDS];
	memcpy(init, rows, (size_t)nb * sizeof *rows);
	point_job *j = job_new(o, r, pt, pi, bi, nb, rows, reasons);
	if (!j)
		return;
	const worker_outcome w = run_job(o, j, rows, rep_ns, reasons);
	worker_shared_free(j, sizeof *j);
	if (w == WORKER_DONE)
		return;
	/* one build crashed or hung: each alone, so that only it fails */
	fprintf(stderr, "  the builds measured together failed (%s); measuring each alone\n", reasons[0]);
	for (int k = 0; k < nb; k++) {
		rows[k] = init[k];
		sweep_run_point(o, r, bi[k], pt, &rows[k], rep_ns[k], reasons[k], SWEEP_REASON_LEN);
	}
}
