/* sweep.c - `attnbench sweep`: every (backend, point) of the grid, one row
 * each in DIR/results.csv.
 *
 * Google Benchmark does all the timing. Each (backend, point, phase) is
 * measured in a worker (run/sweep_point.c: the builds of an A/B group
 * together, their repetitions in turn), so that only one point's buffers
 * exist at a time and each row can be written (and flushed) as soon as it
 * is measured (what one call is: measure.h). Before the first point a
 * sweep measures the machine's peaks, or takes them from the cache
 * (roofline.c); results.csv's pct_peak_* divide by them. */
#include "run/sweep.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run/gbench_shim.h"
#include "lib/files.h"
#include "lib/interrupt.h"
#include "run/measure.h"
#include "run/registry.h"
#include "run/roofline.h"
#include "run/sweep_out.h"
#include "run/sweep_point.h"
#include "run/worker.h"
#include "model/gbench_json.h"
#include "model/results.h"
#include "lib/table.h"

static void fmt_duration(double s, char *buf, size_t len)
{
	if (s < 60)
		snprintf(buf, len, "%.0fs", s);
	else if (s < 3600)
		snprintf(buf, len, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
	else
		snprintf(buf, len, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
}

/* The machine's peaks (roofline_get) in a worker too: OpenMP's thread pool
 * does not survive fork, so the parent of the workers runs no parallel code
 * of its own. */
typedef struct roof_job {
	int threads, rc;
	roofline roof;
	char err[512];
} roof_job;

static void roof_work(void *arg)
{
	roof_job *j = arg; /* shared memory */
	j->rc = roofline_get(j->threads, 0, &j->roof, j->err, sizeof j->err);
}

static int roof_get(const sweep_opts *o, roofline *roof, char *err, size_t len)
{
	if (o->no_isolate)
		return roofline_get(o->cfg.threads, 0, roof, err, len);
	roof_job *j = worker_shared(sizeof *j);
	if (!j) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	j->threads = o->cfg.threads;
	char why[512];
	int rc = -1;
	if (worker_run(roof_work, j, SWEEP_TIMEOUT_S, why, sizeof why) != WORKER_DONE)
		snprintf(err, len, "%s", why);
	else if ((rc = j->rc) != 0)
		snprintf(err, len, "%s", j->err);
	else
		*roof = j->roof;
	worker_shared_free(j, sizeof *j);
	return rc;
}

/* ---- the results file: whole rows, committed by an atomic rename ---------- */

/* results.csv always holds the header and whole rows: every new row
 * rewrites the file under a temporary name, syncs it and renames it over
 * the old one, so a process killed at any instant leaves either the old
 * file or the new one. Beside it, DIR/results.incomplete says the sweep has
 * not finished and how to resume it; it goes when the last point is done. */
typedef struct sink {
	char path[4200], marker[4300];
	char **rows; /* formatted rows, each ending in '\n' */
	int n, cap;
} sink;

static void sink_free(sink *k)
{
	for (int i = 0; i < k->n; i++)
		free(k->rows[i]);
	free(k->rows);
	k->rows = NULL;
	k->n = k->cap = 0;
}

/* Take ownership of a formatted row (NULL: out of memory). */
static int sink_add(sink *k, char *row)
{
	if (!row)
		return -1;
	if (k->n == k->cap) {
		const int cap = k->cap ? k->cap * 2 : 64;
		char **n = realloc(k->rows, (size_t)cap * sizeof *n);
		if (!n) {
			free(row);
			return -1;
		}
		k->rows = n;
		k->cap = cap;
	}
	k->rows[k->n++] = row;
	return 0;
}

/* One row as text, ending in '\n': a measured row (r), or the fields of a
 * row read back (r NULL). malloc'ed; NULL on failure. */
static char *row_text(const result_row *r, char *const *fields, int n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (!m)
		return NULL;
	const int bad = (r ? results_write_row(m, r) : table_write_row(m, (const char *const *)fields, n)) != 0;
	if ((fclose(m) != 0 || bad) && buf) {
		free(buf);
		buf = NULL;
	}
	return buf;
}

/* Write the header and every row to the temporary file, then rename it
 * over results.csv. Returns 0 or -1 (errno set). */
static int sink_commit(const sink *k)
{
	file_out out;
	attn_err e = {{0}};
	if (file_out_open(&out, k->path, &e))
		return -1;
	FILE *f = out.f;
	int bad = results_write_header(f) != 0;
	for (int i = 0; i < k->n && !bad; i++)
		bad = fputs(k->rows[i], f) == EOF;
	bad |= fflush(f) != 0;
	bad |= fdatasync(fileno(f)) != 0;
	const int saved = errno;
	if (bad)
		file_out_abort(&out);
	else if (file_out_commit(&out, &e) == 0)
		return 0;
	errno = saved;
	return -1;
}

static int write_marker(const sink *k, const sweep_opts *o, int done, int total, const char *state)
{
	file_out out;
	attn_err e = {{0}};
	if (file_out_open(&out, k->marker, &e))
		return -1;
	fprintf(out.f,
	        "# %s: results.csv holds %d of this sweep's %d (backend, point) rows so far.\n"
	        "# Resume it (points already measured ok are kept, the others run again) with:\n"
	        "%s\n",
	        state, done, total, o->resume_cmd ? o->resume_cmd : "attnbench sweep ... --resume");
	return file_out_commit(&out, &e) ? -1 : 0;
}

/* ---- the order of the pairs --------------------------------------------- */

/* The progress line of the done+1-th of todo measurements. */
static void progress(int done, int todo, double t0, const char *backend, const sweep_point *pt)
{
	char shp[128], el[32], eta[32];
	point_label(pt, 1, shp, sizeof shp);
	const double elapsed = now_s() - t0;
	fmt_duration(elapsed, el, sizeof el);
	if (done)
		fmt_duration(elapsed / done * (todo - done), eta, sizeof eta);
	else
		snprintf(eta, sizeof eta, "?");
	fprintf(stderr, "[%*d/%d] %-8s %-7s %-28s elapsed %s, ETA %s\n", todo >= 100 ? 3 : 2, done + 1, todo, backend,
	        phase_name(pt->phase), shp, el, eta);
}

/* The row of backend bi at point pt before it is measured. */
static void row_init(result_row *row, const sweep_opts *o, const run_setup *r, int bi, const sweep_point *pt,
                     const roofline *roof)
{
	memset(row, 0, sizeof *row);
	row->backend = r->sel[bi]->be->name;
	row->device = r->device[bi];
	row->pt = pt;
	row->threads = o->cfg.threads;
	row->repetitions = r->cfg.repetitions;
	row->min_time = r->cfg.min_time;
	/* what else the repro column needs to measure this row again */
	const attn_config bc = registry_config(&o->cfg, r->sel[bi]->be->name);
	row->backend_lib = strcmp(r->sel[bi]->origin, "built-in") ? r->sel[bi]->origin : NULL;
	row->params = bc.params && *bc.params ? bc.params : NULL;
	row->vk_gpu_timing = o->vk_gpu_timing;
	row->roof = roof;
}

/* Count a finished row by status (n[RESULT_*]); a failure is said on stderr. */
static void row_count(const result_row *row, int *n)
{
	n[row->status]++;
	if (row->status == RESULT_ERROR)
		fprintf(stderr, "  error: %s\n", row->reason ? row->reason : "");
}

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

void sweep_shuffle(int *order, int n, uint64_t seed, int pass)
{
	uint64_t s = mix64(seed ^ mix64((uint64_t)pass + 1));
	for (int i = 0; i < n; i++)
		order[i] = i;
	for (int i = n - 1; i > 0; i--) { /* Fisher-Yates */
		s = mix64(s);
		const int j = (int)(s % (uint64_t)(i + 1));
		const int t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
}

/* A pair of an interleaved sweep: the row of its first repetition, then
 * the times of every pass; a pair skipped or failed runs no more. */
typedef struct pair_state {
	result_row row;
	char reason[600];
	int nrep, final;
	double gpu_sum, evict_sum;
	int ngpu, nevict;
} pair_state;

/* --interleave: every pass runs each pair not yet done once, for one
 * repetition, in the pass's own shuffled order (sweep_shuffle), so that
 * a drift of the machine spreads over every point instead of landing on
 * the ones measured at the time; the rows go to k at the end, in grid
 * order. Returns 0, or -1 on a write error (or out of memory). */
static int run_interleaved(const sweep_opts *o, run_setup *r, const unsigned char *done_pt, int todo,
                           const roofline *roof, sink *k, int *n)
{
	const int total = r->npts * r->nsel, reps = r->cfg.repetitions;
	pair_state *ps = calloc(total ? (size_t)total : 1, sizeof *ps);
	double *times = calloc((size_t)(total ? total : 1) * (size_t)reps, sizeof *times);
	int *order = malloc((total ? (size_t)total : 1) * sizeof *order);
	int rc = !ps || !times || !order ? -1 : 0;
	if (!rc)
		fprintf(stderr, "sweep: interleaved with seed %llu: %d passes over %d (backend, point) pairs\n",
		        (unsigned long long)o->seed, reps, todo);
	r->cfg.repetitions = 1; /* each run_point: one repetition */
	const double t0 = now_s();
	int step = 0;
	for (int pass = 0; !rc && pass < reps && !attn_stop_signal; pass++) {
		sweep_shuffle(order, total, o->seed, pass);
		for (int j = 0; j < total && !attn_stop_signal; j++) {
			const int i = order[j], pi = i / r->nsel, bi = i % r->nsel;
			pair_state *s = &ps[i];
			if (done_pt[i] || s->final)
				continue;
			progress(step++, todo * reps, t0, r->sel[bi]->be->name, &r->pts[pi]);
			result_row row;
			double rep_ns[SWEEP_MAX_REPS];
			row_init(&row, o, r, bi, &r->pts[pi], roof);
			sweep_run_point(o, r, bi, &r->pts[pi], &row, rep_ns, s->reason, sizeof s->reason);
			if (attn_stop_signal)
				break;
			if (!s->nrep)
				s->row = row;
			if (row.status != RESULT_OK) {
				s->row = row;
				s->final = 1;
				continue;
			}
			times[(size_t)i * (size_t)reps + (size_t)s->nrep++] = rep_ns[0];
			s->gpu_sum += row.gpu_time_ns;
			s->ngpu += row.gpu_time_ns > 0;
			s->evict_sum += row.evict_gbs;
			s->nevict += row.evict_gbs > 0;
		}
	}
	r->cfg.repetitions = reps;
	for (int i = 0; !rc && i < total && !attn_stop_signal; i++) {
		pair_state *s = &ps[i];
		if (done_pt[i])
			continue;
		result_row *row = &s->row;
		row->reason = s->reason;
		row->repetitions = reps;
		if (row->status == RESULT_OK) {
			sweep_row_times(row, &times[(size_t)i * (size_t)reps], s->nrep);
			row->gpu_time_ns = s->ngpu ? s->gpu_sum / s->ngpu : 0;
			row->evict_gbs = s->nevict ? s->evict_sum / s->nevict : 0;
		}
		row_count(row, n);
		rc = sink_add(k, row_text(row, NULL, 0));
	}
	if (!rc && !attn_stop_signal)
		rc = sink_commit(k);
	free(ps);
	free(times);
	free(order);
	return rc;
}

/* The backends of point pi to measure with backend bi (not yet measured):
 * bi itself, and the other builds of it (sweep_same_backend) after it, an
 * A/B group, into g. Returns how many. */
static int group_of(const run_setup *r, const unsigned char *done_pt, int pi, int bi, int *g)
{
	int n = 0;
	g[n++] = bi;
	for (int bj = bi + 1; bj < r->nsel; bj++)
		if (!done_pt[(size_t)pi * (size_t)r->nsel + (size_t)bj] && sweep_same_backend(r->sel[bi], r->sel[bj]))
			g[n++] = bj;
	return n;
}

/* Every pair not yet done, point by point: a backend alone, all its
 * repetitions at once, and the builds of an A/B group together, their
 * repetitions in turn (sweep_run_group); each row goes to k (committed)
 * as it is measured. Returns 0, or -1 on a write error. */
static int run_grid(const sweep_opts *o, run_setup *r, unsigned char *done_pt, int todo, const roofline *roof, sink *k,
                    int *n)
{
	result_row rows[ATTN_MAX_BACKENDS];
	char reasons[ATTN_MAX_BACKENDS][SWEEP_REASON_LEN];
	double(*rep_ns)[SWEEP_MAX_REPS] = malloc(ATTN_MAX_BACKENDS * sizeof *rep_ns);
	int werr = !rep_ns, done = 0, said = 0;
	const double t0 = now_s();
	for (int pi = 0; pi < r->npts && !werr && !attn_stop_signal; pi++) {
		for (int bi = 0; bi < r->nsel && !werr && !attn_stop_signal; bi++) {
			unsigned char *d = &done_pt[(size_t)pi * (size_t)r->nsel];
			if (d[bi])
				continue;
			const sweep_point *pt = &r->pts[pi];
			int g[ATTN_MAX_BACKENDS];
			const int ng = group_of(r, done_pt, pi, bi, g);
			if (ng > 1 && !said++)
				fprintf(
				    stderr,
				    "sweep: A/B: the builds of %s measured side by side, their repetitions in turn\n",
				    r->sel[bi]->be->name);
			progress(done, todo, t0, r->sel[bi]->be->name, pt);
			for (int j = 0; j < ng; j++)
				row_init(&rows[j], o, r, g[j], pt, roof);
			if (ng > 1)
				sweep_run_group(o, r, g, ng, pi, pt, rows, rep_ns, reasons);
			else
				sweep_run_point(o, r, bi, pt, &rows[0], rep_ns[0], reasons[0], sizeof reasons[0]);
			if (attn_stop_signal)
				break; /* abandoned: this point runs again on --resume */
			for (int j = 0; j < ng && !werr; j++) {
				row_count(&rows[j], n);
				werr = sink_add(k, row_text(&rows[j], NULL, 0)) != 0;
				d[g[j]] = 1;
			}
			werr = werr || sink_commit(k) != 0;
			done += ng;
		}
	}
	free(rep_ns);
	return werr ? -1 : 0;
}

/* --resume: the grid's (point, backend) pairs as records, sorted by point,
 * so that each row of the earlier run is found in log time. */
typedef struct grid_keys {
	results_rec *rec;       /* pair i = pi * nsel + bi */
	const results_rec **by; /* the pairs in results_point_cmp order */
	int n;
} grid_keys;

static int grid_key_cmp(const void *x, const void *y)
{
	const results_rec *a = *(const results_rec *const *)x, *b = *(const results_rec *const *)y;
	const int c = results_point_cmp(a, b);
	return c ? c : (a > b) - (a < b);
}

static int grid_keys_make(grid_keys *g, const run_setup *r)
{
	g->n = r->npts * r->nsel;
	g->rec = malloc(((size_t)g->n + 1) * sizeof *g->rec);
	g->by = malloc(((size_t)g->n + 1) * sizeof *g->by);
	if (!g->rec || !g->by)
		return -1;
	for (int pi = 0; pi < r->npts; pi++)
		for (int bi = 0; bi < r->nsel; bi++) {
			const int i = pi * r->nsel + bi;
			results_rec_key(&g->rec[i], r->sel[bi]->be->name, &r->pts[pi]);
			g->by[i] = &g->rec[i];
		}
	qsort(g->by, (size_t)g->n, sizeof *g->by, grid_key_cmp);
	return 0;
}

/* The first place in g->by of rec's point, or -1 where the grid lacks it. */
static int grid_keys_find(const grid_keys *g, const results_rec *rec)
{
	int lo = 0, hi = g->n;
	while (lo < hi) {
		const int mid = lo + (hi - lo) / 2;
		if (results_point_cmp(g->by[mid], rec) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < g->n && results_point_cmp(g->by[lo], rec) == 0 ? lo : -1;
}

/* --resume: keep the ok rows of an earlier run's results.csv and mark the
 * (point, backend) pairs they cover in done[pi * nsel + bi]. A row that is
 * no pair of this grid (another grid, other backends) refuses the file. */
static int resume_load(sink *k, const run_setup *r, unsigned char *done, int *kept, attn_err *e)
{
	results_file rf;
	*kept = 0;
	if (access(k->path, F_OK) != 0)
		return 0; /* nothing yet: a fresh start */
	if (resume_same_machine(k->path, e))
		return EXIT_INPUT;
	if (results_read(k->path, RESULTS_NEED_CONTRACT, &rf, e))
		return EXIT_INPUT;
	if (!rf.same_columns) {
		results_file_free(&rf);
		return attn_errf(e,
		                 "%s: line 1: its columns are not this version's results.csv columns; resume needs a "
		                 "file this attnbench wrote (start a new --out)",
		                 k->path);
	}
	grid_keys g = {0};
	int rc = grid_keys_make(&g, r) ? attn_errf(e, "out of memory") : 0;
	for (int row = 0; row < rf.nrows && !rc; row++) {
		const results_rec *rec = &rf.rows[row];
		int at = grid_keys_find(&g, rec);
		if (at < 0) {
			char variant[160];
			results_variant_text(rec, variant, sizeof variant);
			rc = attn_errf(
			    e,
			    "%s: line %d: backend %.40s, %s, batch %lld, heads %lld/%lld, head_dim %lld, seq_len "
			    "%lld, cache_len %lld, causal %lld, %s%s is not a point of this sweep's grid: resume "
			    "with the grid and backends that wrote it, or start a new --out",
			    k->path, rec->line, rec->backend, phase_name(rec->phase), (long long)rec->batch,
			    (long long)rec->n_heads, (long long)rec->n_kv_heads, (long long)rec->head_dim,
			    (long long)rec->seq_len, (long long)rec->cache_len, (long long)rec->causal,
			    dtype_name(rec->dtype), variant);
			break;
		}
		if (rec->status != RESULT_OK)
			continue;
		if (sink_add(k, row_text(NULL, rf.t.rows[row], rf.t.ncols))) {
			rc = attn_errf(e, "out of memory");
			break;
		}
		(*kept)++;
		for (; at < g.n && !results_point_cmp(g.by[at], rec); at++)
			done[g.by[at] - g.rec] = 1;
	}
	free(g.rec);
	free((void *)g.by);
	results_file_free(&rf);
	return rc;
}

int sweep_run(const sweep_opts *o)
{
	run_setup r;
	if (setup_init(o, &r, "sweep", !o->no_isolate))
		return EXIT_INPUT;
	const char *dir = o->out_dir ? o->out_dir : "reports/latest";
	sink k;
	memset(&k, 0, sizeof k);
	snprintf(k.path, sizeof k.path, "%s/results.csv", dir);
	results_marker_path(k.path, k.marker, sizeof k.marker);
	if (mkdir_p(dir) != 0) {
		fprintf(stderr, "attnbench sweep: %s: cannot create the output directory: %s\n", dir, strerror(errno));
		setup_free(&r);
		return EXIT_INPUT;
	}
	/* the outputs: one that is not a regular file is refused, never replaced */
	char mpath[4300];
	snprintf(mpath, sizeof mpath, "%s/machine.json", dir);
	const char *outs[] = {k.path, k.marker, mpath, o->json_path};
	for (int i = 0; i < 4 && outs[i]; i++) {
		attn_err oe = {{0}};
		if (file_out_check(outs[i], &oe)) {
			fprintf(stderr, "attnbench sweep: %s\n", oe.msg);
			setup_free(&r);
			return EXIT_INPUT;
		}
	}
	/* --shard I/N keeps every N-th point starting at I */
	if (o->nshards > 1) {
		int kept = 0;
		for (int pi = 0; pi < r.npts; pi++)
			if (pi % o->nshards == o->shard)
				r.pts[kept++] = r.pts[pi];
		fprintf(stderr, "sweep: shard %d/%d: %d of %d points\n", o->shard, o->nshards, kept, r.npts);
		r.npts = kept;
	}
	const int total = r.npts * r.nsel;
	unsigned char *done_pt = calloc(total ? (size_t)total : 1, 1);
	int kept = 0, todo = total;
	attn_err e = {{0}};
	if (!done_pt || (o->resume && resume_load(&k, &r, done_pt, &kept, &e))) {
		fprintf(stderr, "attnbench sweep: %s\n", done_pt ? e.msg : "out of memory");
		free(done_pt);
		sink_free(&k);
		setup_free(&r);
		return EXIT_INPUT;
	}
	for (int i = 0; i < total; i++)
		todo -= done_pt[i];
	if (o->resume)
		fprintf(stderr, "sweep: resuming %s: %d ok rows kept, %d of %d (backend, point) pairs to run\n", k.path,
		        kept, todo, total);
	else if (access(k.marker, F_OK) == 0)
		fprintf(stderr, "sweep: %s held an unfinished sweep; starting over (--resume continues one)\n", dir);
	/* From here on results.csv is whole at every instant, and the marker
	 * says it is not finished until the last point is in. */
	attn_catch_stop_signals();
	if (write_marker(&k, o, kept, total, "this sweep is running or was interrupted") != 0 || sink_commit(&k) != 0) {
		fprintf(stderr, "attnbench sweep: %s: cannot write: %s\n", dir, strerror(errno));
		attn_release_stop_signals();
		free(done_pt);
		sink_free(&k);
		setup_free(&r);
		return EXIT_INPUT;
	}
	char devices[1024] = "";
	for (int i = 0; i < r.nsel; i++) {
		char t[300];
		snprintf(t, sizeof t, "%s%s=%s", i ? "; " : "", r.sel[i]->be->name, r.device[i]);
		strncat(devices, t, sizeof devices - strlen(devices) - 1);
	}
	/* the machine's peaks, before any point: measured, or reused from the cache */
	roofline roof;
	char rerr[512] = "";
	const int have_roof = todo > 0 && roof_get(o, &roof, rerr, sizeof rerr) == 0;
	if (!have_roof && todo > 0 && !attn_stop_signal)
		fprintf(stderr, "attnbench sweep: roofline: %s; pct_peak_flops and pct_peak_bw stay empty\n", rerr);
	if (!attn_stop_signal && todo > 0 && machine_write(dir, o->cfg.threads, devices, have_roof ? &roof : NULL) != 0)
		fprintf(stderr, "attnbench sweep: %s/machine.json: cannot write\n", dir);

	int werr = 0, n[3] = {0}; /* rows ok, skipped, failed */
	const double t0 = now_s();
	if (o->interleave)
		werr = run_interleaved(o, &r, done_pt, todo, have_roof ? &roof : NULL, &k, n) != 0;
	else
		werr = run_grid(o, &r, done_pt, todo, have_roof ? &roof : NULL, &k, n) != 0;
	const int n_ok = n[RESULT_OK], n_skip = n[RESULT_SKIPPED], n_err = n[RESULT_ERROR];
	const int sig = attn_stop_signal;
	setup_free(&r);
	free(done_pt);
	int rc = EXIT_PASS;
	if (werr) {
		fprintf(stderr, "attnbench sweep: %s: write error (%s); the rows before it are kept\n", k.path,
		        strerror(errno));
		write_marker(&k, o, k.n, total, "this sweep stopped on a write error");
		rc = EXIT_INPUT;
	} else if (sig) {
		write_marker(&k, o, k.n, total, "this sweep was interrupted");
		fprintf(stderr,
		        "\nsweep: interrupted by %s after %d of %d pairs; %s has %d whole rows.\n"
		        "resume with: %s\n",
		        sig == SIGINT    ? "SIGINT"
		        : sig == SIGTERM ? "SIGTERM"
		                         : "a signal",
		        k.n - kept, todo, k.path, k.n,
		        o->resume_cmd ? o->resume_cmd : "the same command with --resume");
		rc = attn_stop_exit_code();
	} else {
		remove(k.marker);
		char el[32];
		fmt_duration(now_s() - t0, el, sizeof el);
		const int noisy = summary_noisy(k.path);
		fprintf(stderr, "sweep: %d ok (%d noisy), %d skipped, %d errors in %s; wrote %s and %s/machine.json\n",
		        n_ok, noisy, n_skip, n_err, el, k.path, dir);
		if (o->json_path)
			rc = write_json(o, k.path, mpath);
	}
	attn_release_stop_signals();
	sink_free(&k);
	return rc;
}
