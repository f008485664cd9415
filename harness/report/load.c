/* load.c - the runs of a report: each run's results.csv and machine.json
 * read and validated (exit 2 naming the file, line and column), its ok
 * rows parsed; then machines (host name and CPU model), run recency, the
 * backend colour order, and duplicates between runs dropped (shards of one
 * grid, or a re-run: the newest run wins). */
#include "report/model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model/results.h"

const char *run_meta(const run_in *r, const char *key, const char *dflt)
{
	for (int i = 0; i < r->nmeta; i++)
		if (!strcmp(r->meta_key[i], key))
			return r->meta_val[i][0] ? r->meta_val[i] : dflt;
	return dflt;
}

/* ---- machine.json ------------------------------------------------------------ */

/* A tiny reader for the flat JSON object machine.json holds: string, number
 * and literal values are kept as text; nested values are skipped. */
typedef struct jreader {
	const char *p, *path;
	int line;
	attn_err *e;
} jreader;

/* Skip blanks, counting lines. */
static void j_ws(jreader *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n') {
		if (*j->p == '\n')
			j->line++;
		j->p++;
	}
}

/* Parse a JSON string at j->p into a malloc'ed UTF-8 string (NULL on error). */
static char *j_string(jreader *j)
{
	if (*j->p != '"') {
		attn_errf(j->e, "%s: line %d: expected a string", j->path, j->line);
		return NULL;
	}
	j->p++;
	size_t cap = 64, n = 0;
	char *s = malloc(cap);
	if (!s) {
		attn_errf(j->e, "out of memory");
		return NULL;
	}
	for (;;) {
		char c = *j->p;
		if (c == 0 || c == '\n') {
			attn_errf(j->e, "%s: line %d: unterminated string", j->path, j->line);
			break;
		}
		j->p++;
		if (c == '"') {
			s[n] = 0;
			return s;
		}
		if (c == '\\') {
			c = *j->p;
			if (c == 0)
				continue; /* reported as unterminated */
			j->p++;
			if (c == 'n')
				c = '\n';
			else if (c == 't')
				c = '\t';
			else if (c == 'u') { /* keep ASCII, replace the rest */
				unsigned v = 0;
				for (int i = 0; i < 4; i++) {
					const char h = *j->p;
					if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
					      (h >= 'A' && h <= 'F'))) {
						attn_errf(j->e, "%s: line %d: bad \\u escape", j->path, j->line);
						free(s);
						return NULL;
					}
					v = v * 16 + (unsigned)(h <= '9' ? h - '0' : (h | 32) - 'a' + 10);
					j->p++;
				}
				c = v >= 0x20 && v < 0x7f ? (char)v : '?';
			} else if (c != '"' && c != '\\' && c != '/' && c != 'b' && c != 'f' && c != 'r') {
				attn_errf(j->e, "%s: line %d: bad escape in a string", j->path, j->line);
				break;
			} else if (c == 'b' || c == 'f' || c == 'r') {
				c = ' ';
			}
		}
		if (n + 2 > cap) {
			char *t = realloc(s, cap *= 2);
			if (!t) {
				attn_errf(j->e, "out of memory");
				break;
			}
			s = t;
		}
		s[n++] = c;
	}
	free(s);
	return NULL;
}

/* Skip one value (string, number, literal, object or array); 0 or -1. */
static int j_skip(jreader *j, char **text)
{
	j_ws(j);
	if (*j->p == '"') {
		char *s = j_string(j);
		if (!s)
			return -1;
		if (text)
			*text = s;
		else
			free(s);
		return 0;
	}
	if (*j->p == '{' || *j->p == '[') {
		int depth = 0;
		do {
			if (*j->p == '"') {
				char *s = j_string(j);
				if (!s)
					return -1;
				free(s);
				continue;
			}
			if (*j->p == 0) {
				attn_errf(j->e, "%s: line %d: unterminated object", j->path, j->line);
				return -1;
			}
			if (*j->p == '{' || *j->p == '[')
				depth++;
			else if (*j->p == '}' || *j->p == ']')
				depth--;
			else if (*j->p == '\n')
				j->line++;
			j->p++;
		} while (depth > 0);
		if (text)
			*text = rep_asprintf("%s", "");
		return 0;
	}
	const char *start = j->p;
	while (*j->p && !strchr(",}] \t\r\n", *j->p))
		j->p++;
	if (j->p == start) {
		attn_errf(j->e, "%s: line %d: expected a value", j->path, j->line);
		return -1;
	}
	if (text)
		*text = rep_asprintf("%.*s", (int)(j->p - start), start);
	return 0;
}

/* Read machine.json of run r (absent: a warning, the run is "unknown"). */
static int load_machine_json(run_in *r, attn_err *e)
{
	char *path = rep_asprintf("%s/machine.json", r->dir);
	size_t len = 0;
	FILE *f = path ? fopen(path, "rb") : NULL;
	if (!f) {
		fprintf(stderr, "attnbench report: warning: %s: %s; the run's machine is unknown\n", path ? path : "",
		        strerror(errno));
		free(path);
		return 0;
	}
	char *buf = malloc(1 << 20);
	if (buf) {
		len = fread(buf, 1, (1 << 20) - 1, f);
		buf[len] = 0;
	}
	fclose(f);
	if (!buf) {
		free(path);
		return attn_errf(e, "out of memory");
	}
	jreader j = {.p = buf, .path = path, .line = 1, .e = e};
	int rc = 0;
	j_ws(&j);
	if (*j.p != '{') {
		rc = attn_errf(e, "%s: line %d: expected a JSON object", path, j.line);
		goto out;
	}
	j.p++;
	for (;;) {
		j_ws(&j);
		if (*j.p == '}')
			break;
		char *key = j_string(&j);
		if (!key) {
			rc = EXIT_INPUT;
			goto out;
		}
		j_ws(&j);
		if (*j.p != ':') {
			rc = attn_errf(e, "%s: line %d: expected ':' after \"%s\"", path, j.line, key);
			free(key);
			goto out;
		}
		j.p++;
		char *val = NULL;
		if (j_skip(&j, &val) != 0) {
			free(key);
			rc = EXIT_INPUT;
			goto out;
		}
		if (r->nmeta < MAX_META) {
			r->meta_key[r->nmeta] = key;
			r->meta_val[r->nmeta++] = val;
		} else {
			free(key);
			free(val);
		}
		j_ws(&j);
		if (*j.p == ',') {
			j.p++;
			continue;
		}
		if (*j.p != '}') {
			rc = attn_errf(e, "%s: line %d: expected ',' or '}'", path, j.line);
			goto out;
		}
	}
	r->has_json = 1;
out:
	free(buf);
	free(path);
	return rc;
}

/* ---- results.csv ------------------------------------------------------------ */

/* The contract's columns; a results.csv must have every one. */
static const char *const contract[] = {"backend",    "device",   "phase",          "batch",           "n_heads",
                                       "n_kv_heads", "head_dim", "seq_len",        "cache_len",       "causal",
                                       "dtype",      "time_ns",  "time_ns_min",    "time_ns_max",     "reps",
                                       "gflops",     "gbytes_s", "kv_cache_bytes", "workspace_bytes", "status"};
enum { NCONTRACT = sizeof contract / sizeof contract[0] };

/* Parse cell (r, c) of run's table as a number. req: an empty cell is an
 * error (else *out = NAN). Errors name the file, line and column. */
static int cell_num(const run_in *run, int r, int c, int req, int integer, double *out, attn_err *e)
{
	const char *s = run->t.rows[r][c];
	const char *col = run->t.header[c];
	if (!s[0] && !req) {
		*out = NAN;
		return 0;
	}
	int64_t i;
	if (integer ? parse_i64(s, &i) : parse_f64(s, out)) {
		if (integer)
			*out = (double)i;
		return 0;
	}
	if (!s[0])
		return attn_errf(e, "%s: line %d, column %s: empty, a number is required", run->csv, r + 2, col);
	return attn_errf(e, "%s: line %d, column %s: '%.40s' is not %s", run->csv, r + 2, col, s,
	                 integer ? "an integer" : "a number");
}

/* Count a row whose status is not ok. */
static void count_status(run_in *run, const char *status)
{
	char kind[96];
	snprintf(kind, sizeof kind, "%s", status[0] ? status : "(empty)");
	for (int i = 0; i < run->nstatus; i++) {
		if (!strcmp(run->status[i], kind)) {
			run->status_n[i]++;
			return;
		}
	}
	if (run->nstatus < 16) {
		run->status[run->nstatus] = rep_asprintf("%s", kind);
		run->status_n[run->nstatus++] = 1;
	} else {
		run->nother_status++;
	}
}

/* Append a row to the report. */
static int add_row(report *R, const rrow *row)
{
	if (R->nrows == R->cap_rows) {
		int cap = R->cap_rows ? R->cap_rows * 2 : 256;
		rrow *n = realloc(R->rows, (size_t)cap * sizeof *n);
		if (!n)
			return -1;
		R->rows = n;
		R->cap_rows = cap;
	}
	R->rows[R->nrows++] = *row;
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
	if (table_read(run->csv, &run->t, e))
		return EXIT_INPUT;
	const table *t = &run->t;
	int col[NCONTRACT];
	for (int c = 0; c < NCONTRACT; c++) {
		col[c] = table_col(t, contract[c]);
		if (col[c] < 0)
			return attn_errf(e,
			                 "%s: line 1, column %s: missing (a results.csv needs every contract column)",
			                 run->csv, contract[c]);
	}
	if (t->nrows == 0)
		return attn_errf(e, "%s: line 2: no data rows (the run is empty: header only)", run->csv);
	const int c_pf = table_col(t, "pct_peak_flops"), c_pb = table_col(t, "pct_peak_bw");
	if (load_machine_json(run, e))
		return EXIT_INPUT;
	run->nrows = t->nrows;
	for (int r = 0; r < t->nrows; r++) {
		char **cells = t->rows[r];
		const char *status = cells[col[19]];
		const int ok = !strcmp(status, "ok");
		double v[NCONTRACT];
		/* shape columns always, measured columns when ok, anything present */
		for (int c = 3; c < 19; c++) {
			if (c == 10)
				continue;
			const int integer = c <= 9 || c == 14 || c == 17 || c == 18;
			const int req = c <= 9 || ok;
			if (cell_num(run, r, col[c], req, integer, &v[c], e))
				return EXIT_INPUT;
		}
		for (int c = 3; c <= 6; c++)
			if (v[c] < 1)
				return attn_errf(e, "%s: line %d, column %s: '%s' must be at least 1", run->csv, r + 2,
				                 contract[c], cells[col[c]]);
		if (ok && !(v[11] > 0))
			return attn_errf(e, "%s: line %d, column time_ns: '%s' must be positive", run->csv, r + 2,
			                 cells[col[11]]);
		double pf = NAN, pb = NAN;
		if (c_pf >= 0 && cell_num(run, r, c_pf, 0, 0, &pf, e))
			return EXIT_INPUT;
		if (c_pb >= 0 && cell_num(run, r, c_pb, 0, 0, &pb, e))
			return EXIT_INPUT;
		if (!ok) {
			count_status(run, status);
			continue;
		}
		run->nok++;
		rrow row = {
		    .run = ri,
		    .line = r + 2,
		    .backend = cells[col[0]],
		    .device = cells[col[1]],
		    .phase = cells[col[2]],
		    .dtype = cells[col[10]],
		    .batch = (int64_t)v[3],
		    .heads = (int64_t)v[4],
		    .kv = (int64_t)v[5],
		    .hd = (int64_t)v[6],
		    .seq = (int64_t)v[7],
		    .cache = (int64_t)v[8],
		    .causal = (int64_t)v[9],
		    .time_ns = v[11],
		    .gflops = v[15],
		    .gbytes_s = v[16],
		    .kv_bytes = v[17],
		    .ws_bytes = v[18],
		    .pct_flops = pf,
		    .pct_bw = pb,
		};
		R->has_pct_flops |= pf == pf;
		R->has_pct_bw |= pb == pb;
		if (add_row(R, &row))
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
			const int c = strcmp(run_meta(&R->runs[j], "date_utc", ""), run_meta(r, "date_utc", ""));
			r->recency += c < 0 || (c == 0 && j < i);
		}
	}
	for (int i = 0; i < R->nruns; i++) {
		run_in *r = &R->runs[i];
		/* no machine.json: a machine of its own, named by the directory */
		const char *host = r->has_json ? run_meta(r, "hostname", "unknown") : r->dir;
		const char *cpu = r->has_json ? run_meta(r, "cpu_model", "") : "";
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

/* The identity of a measurement across runs (the merge key). */
static void row_key(const report *R, const rrow *r, char *buf, size_t len)
{
	snprintf(buf, len, "%d|%s|%s|%s|%lld|%lld|%lld|%lld|%lld|%lld|%lld|%s", r->mach, r->backend, r->device,
	         r->phase, (long long)r->batch, (long long)r->heads, (long long)r->kv, (long long)r->hd,
	         (long long)r->seq, (long long)r->cache, (long long)r->causal, r->dtype);
	(void)R;
}

typedef struct keyed {
	char *key;
	int idx, recency;
} keyed;

/* qsort order: key, then newest first. */
static int keyed_cmp(const void *a, const void *b)
{
	const keyed *x = a, *y = b;
	const int c = strcmp(x->key, y->key);
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
	int rc = 0;
	for (int i = 0; i < R->nrows; i++) {
		char buf[1024];
		row_key(R, &R->rows[i], buf, sizeof buf);
		k[i].key = rep_asprintf("%s", buf);
		k[i].idx = i;
		k[i].recency = R->runs[R->rows[i].run].recency;
		if (!k[i].key)
			rc = -1;
	}
	if (rc == 0) {
		qsort(k, (size_t)R->nrows, sizeof *k, keyed_cmp);
		for (int i = 1; i < R->nrows; i++) {
			if (!strcmp(k[i].key, k[i - 1].key)) {
				rrow *r = &R->rows[k[i].idx];
				r->dropped = 1;
				R->runs[r->run].ndropped++;
				R->ndup++;
			}
		}
	}
	for (int i = 0; i < R->nrows; i++)
		free(k[i].key);
	free(k);
	return rc;
}

int report_merge(report *R)
{
	assign_machines(R);
	return merge_rows(R);
}

void report_unload(report *R)
{
	for (int i = 0; i < R->nruns; i++) {
		run_in *r = &R->runs[i];
		free(r->dir);
		free(r->csv);
		for (int k = 0; k < r->nmeta; k++) {
			free(r->meta_key[k]);
			free(r->meta_val[k]);
		}
		for (int k = 0; k < r->nstatus; k++)
			free(r->status[k]);
		table_free(&r->t);
	}
	free(R->rows);
	R->rows = NULL;
	R->nrows = R->cap_rows = R->nruns = 0;
}
