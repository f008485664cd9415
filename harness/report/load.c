/* load.c - the runs of a report: each run's results.csv and machine.json
 * read by their one readers (model/results.h, model/machine.h: exit 2
 * naming the file, line and column), its ok rows taken; then machines
 * (host name and CPU model), run recency, the backend colour order, and
 * duplicates between runs dropped (shards of one grid, or a re-run: the
 * newest run wins). */
#include "report/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *meta_text(const char *field, const char *dflt)
{
	return field ? field : dflt;
}

/* Read machine.json of run r. One that cannot be opened (absent, say) is a
 * warning: the run's machine is unknown. */
static int load_machine(run_in *r, attn_err *e)
{
	char *path = rep_asprintf("%s/machine.json", r->dir);
	if (!path)
		return attn_errf(e, "out of memory");
	const int rc = machine_read(path, &r->m, e);
	free(path);
	if (rc == MACHINE_UNREADABLE) {
		fprintf(stderr, "attnbench report: warning: %s; the run's machine is unknown\n", e->msg);
		return 0;
	}
	r->has_json = rc == 0;
	return rc;
}

/* Count a row whose status is not ok, by its text. */
static void count_status(run_in *run, const char *status)
{
	char kind[sizeof run->status[0]];
	snprintf(kind, sizeof kind, "%s", status);
	for (int i = 0; i < run->nstatus; i++) {
		if (!strcmp(run->status[i], kind)) {
			run->status_n[i]++;
			return;
		}
	}
	if (run->nstatus < (int)(sizeof run->status / sizeof run->status[0])) {
		memcpy(run->status[run->nstatus], kind, sizeof kind);
		run->status_n[run->nstatus++] = 1;
	} else {
		run->nother_status++;
	}
}

/* Append the ok record rec of run ri to the report's rows. */
static int add_row(report *R, int ri, const results_rec *rec)
{
	if (R->nrows == R->cap_rows) {
		int cap = R->cap_rows ? R->cap_rows * 2 : 256;
		rrow *n = realloc(R->rows, (size_t)cap * sizeof *n);
		if (!n)
			return -1;
		R->rows = n;
		R->cap_rows = cap;
	}
	R->rows[R->nrows++] = (rrow){
	    .run = ri,
	    .rec = rec,
	    .backend = rec->backend,
	    .device = rec->device,
	    .phase = rec->phase,
	    .dtype = rec->dtype,
	    .batch = rec->batch,
	    .heads = rec->n_heads,
	    .kv = rec->n_kv_heads,
	    .hd = rec->head_dim,
	    .seq = rec->seq_len,
	    .cache = rec->cache_len,
	    .causal = rec->causal,
	    .time_ns = rec->time_ns,
	    .gflops = rec->gflops,
	    .gbytes_s = rec->gbytes_s,
	    .kv_bytes = (double)rec->kv_cache_bytes,
	    .ws_bytes = (double)rec->workspace_bytes,
	    .pct_flops = rec->pct_peak_flops,
	    .pct_bw = rec->pct_peak_bw,
	};
	R->has_pct_flops |= !isnan(rec->pct_peak_flops);
	R->has_pct_bw |= !isnan(rec->pct_peak_bw);
	return 0;
}

/* Resolve the argument of run r: a directory, or a results.csv path. */
static int resolve_run(run_in *r, attn_err *e)
{
	struct stat st;
	if (stat(r->arg, &st) == 0 && S_ISDIR(st.st_mode)) {
		r->dir = rep_asprintf("%s", r->arg);
		r->csv = rep_asprintf("%s/results.csv", r->arg);
	} else {
		const char *slash = strrchr(r->arg, '/');
		r->dir = slash ? rep_asprintf("%.*s", (int)(slash - r->arg), r->arg) : rep_asprintf(".");
		if (r->dir && !r->dir[0]) {
			free(r->dir);
			r->dir = rep_asprintf("/");
		}
		r->csv = rep_asprintf("%s", r->arg);
	}
	if (!r->dir || !r->csv)
		return attn_errf(e, "out of memory");
	return 0;
}

int report_load_run(report *R, int ri, attn_err *e)
{
	run_in *run = &R->runs[ri];
	if (resolve_run(run, e))
		return EXIT_INPUT;
	struct stat st;
	if (stat(run->arg, &st) != 0)
		return attn_errf(e, "%s: no such run directory or results.csv", run->arg);
	if (stat(run->csv, &st) != 0)
		return attn_errf(e, "%s: missing: the run is empty", run->csv);
	char marker[4400];
	results_marker_path(run->csv, marker, sizeof marker);
	run->unfinished = stat(marker, &st) == 0;
	if (run->unfinished)
		fprintf(stderr,
		        "attnbench report: %s: the sweep has not finished (%s is there); the report shows the rows it "
		        "has, and says so\n",
		        run->csv, marker);
	if (results_read(run->csv, RESULTS_NEED_CONTRACT, &run->rf, e))
		return EXIT_INPUT;
	if (run->rf.nrows == 0)
		return attn_errf(e, "%s: line 2: no data rows (the run is empty: header only)", run->csv);
	if (load_machine(run, e))
		return EXIT_INPUT;
	run->nrows = run->rf.nrows;
	for (int r = 0; r < run->rf.nrows; r++) {
		const results_rec *rec = &run->rf.rows[r];
		if (rec->status != RESULT_OK) {
			count_status(run, rec->status_text);
			continue;
		}
		run->nok++;
		if (add_row(R, ri, rec))
			return attn_errf(e, "out of memory");
	}
	return 0;
}

/* ---- merging runs ----------------------------------------------------------- */

int report_backend_rank(const report *R, const char *name)
{
	int i = 0;
	while (i < R->nbackends && strcmp(R->backends[i], name))
		i++;
	return i;
}

/* Add a backend to the colour order where it is new. */
static void backend_register(report *R, const char *name)
{
	if (report_backend_rank(R, name) == R->nbackends && R->nbackends < 64)
		R->backends[R->nbackends++] = name;
}

/* Machines by host name and CPU model; a run's recency by (date_utc, command-line order). */
static void assign_machines(report *R)
{
	for (int i = 0; i < R->nruns; i++) {
		run_in *r = &R->runs[i];
		r->recency = 0;
		for (int j = 0; j < R->nruns; j++) {
			const int c = strcmp(meta_text(R->runs[j].m.date_utc, ""), meta_text(r->m.date_utc, ""));
			r->recency += c < 0 || (c == 0 && j < i);
		}
	}
	for (int i = 0; i < R->nruns; i++) {
		run_in *r = &R->runs[i];
		/* no machine.json: a machine of its own, named by the directory */
		const char *host = r->has_json ? meta_text(r->m.hostname, "unknown") : r->dir;
		const char *cpu = r->has_json ? meta_text(r->m.cpu_model, "") : "";
		int m = 0;
		while (m < R->nmach && (strcmp(R->machines[m].host, host) || strcmp(R->machines[m].cpu, cpu)))
			m++;
		if (m == R->nmach) {
			R->machines[m].host = host;
			R->machines[m].cpu = cpu;
			R->machines[m].run = i;
			R->machines[m].nruns = 0;
			R->nmach++;
		}
		machine *M = &R->machines[m];
		M->nruns++;
		if (R->runs[M->run].recency < r->recency)
			M->run = i;
		r->machine = m;
	}
	/* different machines that share a host name are told apart by CPU */
	int shared[sizeof R->machines / sizeof R->machines[0]] = {0};
	for (int m = 0; m < R->nmach; m++)
		for (int n = 0; n < R->nmach; n++)
			shared[m] |= n != m && !strcmp(R->machines[n].host, R->machines[m].host);
	for (int m = 0; m < R->nmach; m++) {
		machine *M = &R->machines[m];
		if (shared[m]) {
			snprintf(M->label, sizeof M->label, "%s [%s]", M->host, *M->cpu ? M->cpu : "unknown CPU");
			M->host = M->label;
		}
	}
	for (int i = 0; i < R->nrows; i++) {
		R->rows[i].mach = R->runs[R->rows[i].run].machine;
		backend_register(R, R->rows[i].backend);
	}
}

/* A row and what decides which of its duplicates is kept. */
typedef struct keyed {
	const rrow *r;
	int idx, recency;
} keyed;

/* The order of measurements across runs: machine, point (backend, phase,
 * shape, dtype), device. 0: one measurement taken twice. */
static int measurement_cmp(const rrow *a, const rrow *b)
{
	int c = (a->mach > b->mach) - (a->mach < b->mach);
	if (!c)
		c = results_point_cmp(a->rec, b->rec);
	if (!c)
		c = strcmp(a->device, b->device);
	return c;
}

/* qsort order: the measurement, then newest first. */
static int keyed_cmp(const void *a, const void *b)
{
	const keyed *x = a, *y = b;
	const int c = measurement_cmp(x->r, y->r);
	if (c)
		return c;
	if (x->recency != y->recency)
		return y->recency - x->recency;
	return y->idx - x->idx;
}

/* Drop rows that repeat a (host, backend, device, point) of a newer run. */
static int merge_rows(report *R)
{
	keyed *k = calloc((size_t)R->nrows + 1, sizeof *k);
	if (!k)
		return -1;
	for (int i = 0; i < R->nrows; i++)
		k[i] = (keyed){&R->rows[i], i, R->runs[R->rows[i].run].recency};
	qsort(k, (size_t)R->nrows, sizeof *k, keyed_cmp);
	for (int i = 1; i < R->nrows; i++) {
		if (!measurement_cmp(k[i].r, k[i - 1].r)) {
			rrow *r = &R->rows[k[i].idx];
			r->dropped = 1;
			R->runs[r->run].ndropped++;
			R->ndup++;
		}
	}
	free(k);
	return 0;
}

/* Order of row pointers: machine, backend, device. */
static int mbd_cmp(const void *x, const void *y)
{
	const rrow *a = *(const rrow *const *)x, *b = *(const rrow *const *)y;
	int c = (a->mach > b->mach) - (a->mach < b->mach);
	if (!c)
		c = strcmp(a->backend, b->backend);
	return c ? c : strcmp(a->device, b->device);
}

/* Mark the rows of a backend that ran on more than one device of its
 * machine (all rows, dropped or not, as the labels have always counted). */
static int mark_multi_device(report *R)
{
	const rrow **by = malloc(((size_t)R->nrows + 1) * sizeof *by);
	if (!by)
		return -1;
	for (int i = 0; i < R->nrows; i++)
		by[i] = &R->rows[i];
	qsort(by, (size_t)R->nrows, sizeof *by, mbd_cmp);
	for (int a = 0, b; a < R->nrows; a = b) {
		for (b = a; b < R->nrows && by[b]->mach == by[a]->mach && !strcmp(by[b]->backend, by[a]->backend); b++)
			;
		const int multi = strcmp(by[a]->device, by[b - 1]->device) != 0;
		for (int k = a; k < b; k++)
			R->rows[by[k] - R->rows].multi_device = multi;
	}
	free(by);
	return 0;
}

int report_merge(report *R)
{
	assign_machines(R);
	if (mark_multi_device(R))
		return -1;
	return merge_rows(R);
}

void report_unload(report *R)
{
	for (int i = 0; i < R->nruns; i++) {
		run_in *r = &R->runs[i];
		free(r->dir);
		free(r->csv);
		machine_info_free(&r->m);
		results_file_free(&r->rf);
	}
	free(R->rows);
	R->rows = NULL;
	R->nrows = R->cap_rows = R->nruns = 0;
}
