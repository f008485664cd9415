/* report.c - `attnbench report RUN_DIR... [--out DIR] [--format png|svg|both]
 * [--prompts L] [--gen L]`.
 *
 * Reads the results.csv and machine.json of one or more sweep runs, merges
 * them (shards of one grid, or several machines), and writes into the output
 * directory, for every picture, a gnuplot script NAME.gp and its data NAME.dat
 * (left there so a user can edit and re-run `gnuplot NAME.gp` in that
 * directory) and the pictures gnuplot draws from them; then fits.csv,
 * report.md, and index.html last, so a report with an index.html is complete.
 *
 * The flow: load_run (validate, exit 2 naming file, line and column) ->
 * merge_rows (drop duplicates, newest run wins) -> one plot_* function per
 * picture, each choosing its lines with select() -> write_fits ->
 * write_docs. */
#define _GNU_SOURCE /* vasprintf */
#include "cmd/cmd.h"
#include "report/report.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/fit.h"
#include "model/results.h"
#include "lib/table.h"
#include "lib/util.h"

#define MAX_RUNS    64
#define MAX_SCEN    16
#define MAX_META    64
#define MAX_PICS    16
#define FIT_MIN_X   512 /* the power-law fit uses points with x >= this ... */
#define FIT_MIN_PTS 3   /* ... when at least this many qualify */

/* ---- data ----------------------------------------------------------------- */

/* One input run: a directory with results.csv and machine.json. */
typedef struct run_in {
	const char *arg; /* as given on the command line */
	char *dir, *csv; /* its directory and results.csv */
	char *meta_key[MAX_META], *meta_val[MAX_META];
	int nmeta; /* machine.json "key": "value" pairs */
	int has_json;
	table t;     /* results.csv */
	int machine; /* index into report.machines */
	int recency; /* 0 = oldest (date_utc, then command-line order) */
	int nrows, nok, ndropped;
	int unfinished; /* DIR/results.incomplete: an interrupted or running sweep */
	int nstatus;    /* distinct non-ok statuses and their counts */
	char *status[16];
	int status_n[16];
	int nother_status; /* non-ok rows beyond the 16 distinct kinds */
} run_in;

/* A machine: the runs with the same host name and CPU model. */
typedef struct machine {
	const char *host; /* its name in labels: host, or "host [cpu]" where two share a host name */
	const char *cpu;
	char label[256];
	int run; /* its newest run, whose machine.json describes it */
	int nruns;
} machine;

/* One ok row of a results.csv, parsed. Strings point into the run's table. */
typedef struct rrow {
	int run, mach, line;
	const char *backend, *device, *phase, *dtype;
	int64_t batch, heads, kv, hd, seq, cache, causal;
	double time_ns, gflops, gbytes_s, kv_bytes, ws_bytes, pct_flops, pct_bw;
	int dropped; /* a duplicate of a row from a newer run */
} rrow;

/* A picture of the report, drawn or not. */
typedef struct picture {
	char name[32];   /* file name without extension */
	char title[128]; /* heading in report.md */
	char *caption;   /* how to read it (malloc'ed) */
	char *note;      /* why it was not drawn, or a remark (malloc'ed) */
	int drawn;
} picture;

/* Headline figures of one (machine, backend, device). */
typedef struct headline {
	int mach;
	const char *backend, *device;
	double prefill_ns, decode_tok_s, peak_gflops, exponent, max_ws;
	const char *peak_where_phase;
	int64_t peak_where_x;
} headline;

typedef struct report {
	const char *out_dir;
	int png, svg;
	int64_t prompts[MAX_SCEN], gen[MAX_SCEN];
	int nprompts, ngen;
	run_in runs[MAX_RUNS];
	int nruns;
	machine machines[MAX_RUNS];
	int nmach;
	rrow *rows;
	int nrows, cap_rows;
	int ndup;
	const char *backends[64]; /* in order of first appearance: colours */
	int nbackends;
	int has_pct_flops, has_pct_bw;
	picture pics[MAX_PICS];
	int npics;
	/* filled by the plots, used by report.md */
	int64_t common_seq, common_cache;
	headline heads[64];
	int nheads;
	char *split_table; /* markdown rows of the request scenarios (malloc'ed) */
	size_t split_len;
	char *missing; /* lines "...: missing on host" (malloc'ed) */
	size_t missing_len;
	int nmissing;
} report;

/* ---- small helpers ---------------------------------------------------------- */

/* malloc'ed printf. */
static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* Print an error for the report command and return code. */
static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "attnbench report: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	return code;
}

/* Value of a machine.json key of run r, or dflt. */
static const char *meta(const run_in *r, const char *key, const char *dflt)
{
	for (int i = 0; i < r->nmeta; i++)
		if (!strcmp(r->meta_key[i], key))
			return r->meta_val[i][0] ? r->meta_val[i] : dflt;
	return dflt;
}

/* Index of a backend name in the colour order (added when new). */
static int backend_index(report *R, const char *name)
{
	for (int i = 0; i < R->nbackends; i++)
		if (!strcmp(R->backends[i], name))
			return i;
	if (R->nbackends < 64)
		R->backends[R->nbackends++] = name;
	return R->nbackends - 1;
}

/* Human-readable bytes, compact ("64 KiB", "1.5 MiB"). */
static const char *short_bytes(double b, char *buf, size_t len)
{
	const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int u = 0;
	while (b >= 1024 && u < 4) {
		b /= 1024;
		u++;
	}
	snprintf(buf, len, "%.*f %s", b == floor(b) ? 0 : 1, b, unit[u]);
	return buf;
}

/* A time in ns for tables: "18.2 µs", "154.3 ms", "40.92 s". */
static const char *fmt_time(double ns, char *buf, size_t len)
{
	if (ns < 1e3)
		snprintf(buf, len, "%.4g ns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.4g µs", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, len, "%.4g ms", ns / 1e6);
	else
		snprintf(buf, len, "%.4g s", ns / 1e9);
	return buf;
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
			*text = xasprintf("%s", "");
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
		*text = xasprintf("%.*s", (int)(j->p - start), start);
	return 0;
}

/* Read machine.json of run r (absent: a warning, the run is "unknown"). */
static int load_machine_json(run_in *r, attn_err *e)
{
	char *path = xasprintf("%s/machine.json", r->dir);
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
		run->status[run->nstatus] = xasprintf("%s", kind);
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
		r->dir = xasprintf("%s", r->arg);
		r->csv = xasprintf("%s/results.csv", r->arg);
	} else {
		const char *slash = strrchr(r->arg, '/');
		r->dir = slash ? xasprintf("%.*s", (int)(slash - r->arg), r->arg) : xasprintf(".");
		if (r->dir && !r->dir[0]) {
			free(r->dir);
			r->dir = xasprintf("/");
		}
		r->csv = xasprintf("%s", r->arg);
	}
	if (!r->dir || !r->csv)
		return attn_errf(e, "out of memory");
	return 0;
}

/* Read and validate one run; its ok rows go into R->rows. */
static int load_run(report *R, int ri, attn_err *e)
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

/* Machines by host name and CPU model; a run's recency by (date_utc, command-line order). */
static void assign_machines(report *R)
{
	for (int i = 0; i < R->nruns; i++) {
		run_in *r = &R->runs[i];
		r->recency = 0;
		for (int j = 0; j < R->nruns; j++) {
			const int c = strcmp(meta(&R->runs[j], "date_utc", ""), meta(r, "date_utc", ""));
			r->recency += c < 0 || (c == 0 && j < i);
		}
	}
	for (int i = 0; i < R->nruns; i++) {
		run_in *r = &R->runs[i];
		/* no machine.json: a machine of its own, named by the directory */
		const char *host = r->has_json ? meta(r, "hostname", "unknown") : r->dir;
		const char *cpu = r->has_json ? meta(r, "cpu_model", "") : "";
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
		backend_index(R, R->rows[i].backend);
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
		k[i].key = xasprintf("%s", buf);
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

/* ---- choosing lines: groups of rows that differ only in x ------------------------ */

enum { V_PHASE, V_BATCH, V_HEADS, V_KV, V_RATIO, V_HD, V_SEQ, V_CACHE, V_CAUSAL, V_DTYPE, NV };
#define VM(v)     (1u << (v))
#define S_MACHINE (1u << 16) /* lines split by machine, backend and device */
#define CTX_SHAPE (VM(V_BATCH) | VM(V_HEADS) | VM(V_KV) | VM(V_HD))
/* lines per backend and storage dtype: f32, f16 and bf16 side by side */
#define S_BACKEND_DTYPE (S_MACHINE | VM(V_DTYPE))

/* Numeric value of variable v of a row. */
static double var_num(const rrow *r, int v)
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
static void var_phrase(const rrow *r, int v, char *buf, size_t len)
{
	switch (v) {
	case V_PHASE:
		snprintf(buf, len, "%s", r->phase);
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
		snprintf(buf, len, "%s", r->dtype);
		break;
	}
}

/* What one picture panel plots. */
typedef struct sel_spec {
	const char *phase;         /* rows of this phase, or NULL: prefill and decode */
	int xvar;                  /* V_SEQ, V_CACHE, V_RATIO, V_HEADS */
	unsigned series;           /* what splits lines: S_MACHINE and V_ bits */
	unsigned context;          /* V_ bits held fixed along a line */
	double (*y)(const rrow *); /* the value plotted; NaN or <= 0 leaves the row out */
	int min_points;            /* lines with fewer distinct x are left out */
	const char *want_ctx;      /* only this context (a ctx key), or NULL */
} sel_spec;

/* One line of a plot. */
typedef struct series {
	int mach; /* -1 when lines are not per machine */
	const char *backend, *device;
	const rrow *row0; /* a row of the line: its fixed values */
	int n;
	double *x, *y;
	const rrow **r;
	char *ctx; /* the context key */
	char label[384];
	power_fit fit;
	int has_fit;
	int color, dash, pt, open; /* style: colour and marker per backend */
} series;

typedef struct selection {
	series *s;
	int n;
	char title[512]; /* the fixed values every line shares */
} selection;

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
static int dbl_cmp(const void *a, const void *b)
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
	if (sp->phase ? strcmp(r->phase, sp->phase) != 0 : strcmp(r->phase, "prefill") && strcmp(r->phase, "decode"))
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
			g[n].skey = xasprintf("%s", skey);
			g[n].ckey = xasprintf("%s", ckey);
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
static void sel_free(selection *S)
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
		int ia = 0, ib = 0;
		while (ia < R->nbackends && strcmp(R->backends[ia], a->backend))
			ia++;
		while (ib < R->nbackends && strcmp(R->backends[ib], b->backend))
			ib++;
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
	if (v == V_CACHE && strcmp(r->phase, "decode"))
		return 0;
	if (v == V_SEQ && !strcmp(r->phase, "decode"))
		return 0;
	return 1;
}

/* Choose the lines of a panel: per line key, the context with the most
 * distinct x (ties: the context most common over all lines, then the most
 * rows, then the first seen). Lines get their points sorted by x, labels,
 * colours; S->title gets the fixed values every line shares. */
static int select_lines(report *R, const sel_spec *sp, selection *S)
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
		s->ctx = xasprintf("%s", G->ckey);
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
		const int b = (sp->series & S_MACHINE) ? backend_index(R, s->backend) : i;
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
static double y_time(const rrow *r)
{
	return r->time_ns;
}
/* GFLOP/s. */
static double y_gflops(const rrow *r)
{
	return r->gflops;
}
/* GB/s. */
static double y_gbs(const rrow *r)
{
	return r->gbytes_s;
}
/* KV-cache bytes. */
static double y_kv(const rrow *r)
{
	return r->kv_bytes;
}
/* The backend's workspace bytes. */
static double y_ws(const rrow *r)
{
	return r->ws_bytes;
}
/* Percent of peak FLOP/s (NaN where absent). */
static double y_pct_flops(const rrow *r)
{
	return r->pct_flops;
}
/* Percent of peak memory bandwidth (NaN where absent). */
static double y_pct_bw(const rrow *r)
{
	return r->pct_bw;
}

/* ---- gnuplot scripts ------------------------------------------------------------ */

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                      "#9467bd", "#8c564b", "#e377c2", "#17becf"};
static const int point_types[2][8] = {{7, 5, 9, 13, 11, 15, 3, 1}, {6, 4, 8, 12, 10, 14, 3, 1}};

/* One picture being written: its script and data file. */
typedef struct gp {
	FILE *f, *d;
	char name[32];
	int nblocks;
} gp;

/* Write s as a gnuplot double-quoted string. gnuplot runs `...` inside
 * double quotes as a shell command before it parses the string, whatever
 * precedes it: a backquote is written as the octal escape \140, which the
 * string parser turns back into a backquote after that substitution. */
static void gp_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if (*s == '`')
			fputs("\\140", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if ((unsigned char)*s >= 0x20)
			fputc(*s, f);
	}
	fputc('"', f);
}

/* Open NAME.gp and NAME.dat in the output directory and write the script's
 * head: the formats loop and the terminal (pngcairo where gnuplot has it). */
static int gp_open(const report *R, gp *g, const char *name, int w, int h)
{
	memset(g, 0, sizeof *g);
	snprintf(g->name, sizeof g->name, "%s", name);
	char *p = xasprintf("%s/%s.gp", R->out_dir, name), *q = xasprintf("%s/%s.dat", R->out_dir, name);
	g->f = p ? fopen(p, "w") : NULL;
	g->d = q ? fopen(q, "w") : NULL;
	if (!g->f || !g->d) {
		fail(1, "cannot write %s: %s", g->f ? q : p, strerror(errno));
		if (g->f)
			fclose(g->f);
		if (g->d)
			fclose(g->d);
		free(p);
		free(q);
		g->f = g->d = NULL;
		return -1;
	}
	free(p);
	free(q);
	const char *fmts = R->png && R->svg ? "png svg" : R->png ? "png" : "svg";
	fprintf(g->f,
	        "# %s.gp - written by `attnbench report`; the data is in %s.dat.\n"
	        "# Edit and re-draw in this directory: gnuplot %s.gp\n"
	        "set encoding utf8\n"
	        "formats = \"%s\"\n"
	        "do for [fmt in formats] {\n"
	        "if (fmt eq \"svg\") {\n"
	        "    set terminal svg size %d,%d dynamic noenhanced font \"Sans,12\" background \"white\"\n"
	        "} else {\n"
	        "    if (strstrt(GPVAL_TERMINALS, \"pngcairo\") > 0) {\n"
	        "        set terminal pngcairo size %d,%d noenhanced font \"Sans,11\"\n"
	        "    } else {\n"
	        "        set terminal png size %d,%d noenhanced\n"
	        "    }\n"
	        "}\n"
	        "set output \"%s.\".fmt\n"
	        "reset\n"
	        "set grid lc rgb \"#e0e0e0\"\n"
	        "set key outside below center horizontal Left reverse spacing 1.1 samplen 3 width 1 height 1\n"
	        "set border lw 1\n",
	        name, name, name, fmts, w, h, w, h, w, h, name);
	return 0;
}

/* Write "# text" as one comment line of a data file: a newline in the text
 * would start a line that gnuplot reads as data. */
static void gp_comment(FILE *d, const char *text)
{
	fputs("# ", d);
	for (; *text; text++)
		fputc((unsigned char)*text < 0x20 ? ' ' : *text, d);
	fputc('\n', d);
}

/* Write a data block (x, y / yscale) with a comment; returns its index. */
static int gp_block(gp *g, const series *s, double yscale, const char *xname, const char *yname)
{
	gp_comment(g->d, s->label[0] ? s->label : "data");
	fprintf(g->d, "# columns: %s, %s\n", xname, yname);
	for (int i = 0; i < s->n; i++)
		fprintf(g->d, "%.10g %.6g\n", s->x[i], s->y[i] / yscale);
	fprintf(g->d, "\n\n");
	return g->nblocks++;
}

/* Run `gnuplot NAME.gp` in dir; anything on its stderr or a non-zero exit
 * is an error (exit 1 with gnuplot's message). */
static int run_gnuplot(const char *dir, const char *script)
{
	const char *bin = getenv("ATTNBENCH_GNUPLOT");
	if (!bin || !*bin)
		bin = "gnuplot";
	int pfd[2];
	if (pipe(pfd) != 0)
		return fail(1, "pipe: %s", strerror(errno));
	fflush(stdout);
	fflush(stderr);
	const pid_t pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return fail(1, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(pfd[0]);
		dup2(pfd[1], 2);
		dup2(pfd[1], 1);
		close(pfd[1]);
		if (chdir(dir) != 0) {
			fprintf(stderr, "cannot enter %s: %s\n", dir, strerror(errno));
			_exit(126);
		}
		execlp(bin, bin, script, (char *)NULL);
		fprintf(stderr, "cannot run %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	char msg[4096];
	size_t n = 0;
	for (;;) {
		char buf[1024];
		const ssize_t got = read(pfd[0], buf, sizeof buf);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		const size_t room = sizeof msg - 1 - n, take = (size_t)got < room ? (size_t)got : room;
		memcpy(msg + n, buf, take);
		n += take;
	}
	close(pfd[0]);
	msg[n] = 0;
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	const int bad = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	if (bad || n > 0) {
		while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			msg[--n] = 0;
		if (WIFEXITED(status))
			return fail(1, "gnuplot %s/%s failed (exit %d): %s", dir, script, WEXITSTATUS(status),
			            n ? msg : "(no message)");
		return fail(1, "gnuplot %s/%s died (signal %d): %s", dir, script, WTERMSIG(status), msg);
	}
	return 0;
}

int report_gnuplot(const char *dir, const char *script)
{
	return run_gnuplot(dir, script);
}

/* Close the script's loop and both files, then draw. */
static int gp_close_run(const report *R, gp *g)
{
	fprintf(g->f, "set output\n}\n");
	const int e1 = fclose(g->f), e2 = fclose(g->d);
	g->f = g->d = NULL;
	if (e1 || e2)
		return fail(1, "cannot write %s/%s.gp: %s", R->out_dir, g->name, strerror(errno));
	char script[64];
	snprintf(script, sizeof script, "%s.gp", g->name);
	return run_gnuplot(R->out_dir, script);
}

/* The machines and devices of a plot's lines, for its subtitle. */
static void subtitle(const report *R, const selection *const *sels, int nsel, char *buf, size_t len)
{
	size_t l = 0;
	int seen_m[MAX_RUNS] = {0}, any = 0;
	for (int k = 0; k < nsel; k++)
		for (int i = 0; i < sels[k]->n; i++)
			if (sels[k]->s[i].mach >= 0) {
				seen_m[sels[k]->s[i].mach] = 1;
				any = 1;
			}
	for (int m = 0; m < R->nmach; m++) {
		if (any && !seen_m[m])
			continue;
		const run_in *r = &R->runs[R->machines[m].run];
		if (l < len)
			l += (size_t)snprintf(buf + l, len - l, "%s%s (host %s", l ? "; " : "",
			                      meta(r, "cpu_model", "unknown CPU"), R->machines[m].host);
		/* the devices of this machine's lines */
		const char *devs[16];
		int nd = 0;
		for (int k = 0; k < nsel; k++)
			for (int i = 0; i < sels[k]->n; i++) {
				const series *s = &sels[k]->s[i];
				if (s->mach != m)
					continue;
				int j = 0;
				while (j < nd && strcmp(devs[j], s->device))
					j++;
				if (j == nd && nd < 16)
					devs[nd++] = s->device;
			}
		for (int j = 0; j < nd && l < len; j++)
			l += (size_t)snprintf(buf + l, len - l, "%s%s",
			                      j        ? ", "
			                      : nd > 1 ? ", devices: "
			                               : ", device: ",
			                      devs[j]);
		if (l < len)
			l += (size_t)snprintf(buf + l, len - l, ")");
	}
}

/* Write `set title` with a main line, the fixed values and the machines. */
static void gp_title(FILE *f, const char *main, const char *fixed, const char *sub)
{
	char *t = xasprintf("%s%s%s%s%s", main, fixed && fixed[0] ? "\n" : "", fixed ? fixed : "",
	                    sub && sub[0] ? "\n" : "", sub ? sub : "");
	fprintf(f, "set title ");
	gp_str(f, t ? t : main);
	fprintf(f, "\n");
	free(t);
}

/* Range of the x (which = 0) or y values of some selections. */
static void data_range(const selection *const *sels, int nsel, int which, double yscale, double *lo, double *hi)
{
	*lo = INFINITY;
	*hi = -INFINITY;
	for (int k = 0; k < nsel; k++)
		for (int i = 0; i < sels[k]->n; i++)
			for (int j = 0; j < sels[k]->s[i].n; j++) {
				const double v = which ? sels[k]->s[i].y[j] / yscale : sels[k]->s[i].x[j];
				if (v < *lo)
					*lo = v;
				if (v > *hi)
					*hi = v;
			}
}

/* Set one axis: log (base 2 for sizes and counts, 10 otherwise) when the
 * range spans more than a decade, an explicit range with a margin (no
 * "empty range" warnings), and the label. */
static void gp_axis(FILE *f, const char *ax, double lo, double hi, int base, const char *label)
{
	const int lg = lo > 0 && hi / lo > 10;
	fprintf(f, "unset logscale %s\nset %stics autofreq\n", ax, ax);
	if (lg) {
		fprintf(f, "set logscale %s %d\n", ax, base);
		fprintf(f, "set %srange [%.6g:%.6g]\n", ax, lo / 1.3, hi * 1.3);
		/* short decimal ranges: tics at 1, 2, 5 x 10^k, not one lonely power of ten */
		if (base == 10 && hi / lo < 300) {
			fprintf(f, "set %stics (", ax);
			int first = 1;
			for (int k = (int)floor(log10(lo / 1.3)); k <= (int)ceil(log10(hi * 1.3)); k++)
				for (int m = 1; m <= 5; m += m == 1 ? 1 : 3) {
					const double v = m * pow(10, k);
					if (v < lo / 1.3 || v > hi * 1.3)
						continue;
					fprintf(f, "%s%.10g", first ? "" : ", ", v);
					first = 0;
				}
			fprintf(f, ")\n");
		}
	} else {
		double span = hi - lo;
		if (!(span > 0))
			span = lo != 0 ? fabs(lo) * 0.2 : 1;
		const double a = lo - 0.08 * span;
		fprintf(f, "set %srange [%.6g:%.6g]\n", ax, lo >= 0 && a < 0 ? 0 : a, hi + 0.08 * span);
	}
	fprintf(f, "set %slabel ", ax);
	gp_str(f, label);
	fprintf(f, "\n");
}

/* x tics at the measured values when there are few of them. */
static void gp_xtics_at_data(FILE *f, const selection *const *sels, int nsel)
{
	double v[32];
	int n = 0;
	for (int k = 0; k < nsel; k++)
		for (int i = 0; i < sels[k]->n; i++)
			for (int j = 0; j < sels[k]->s[i].n; j++) {
				const double x = sels[k]->s[i].x[j];
				int p = 0;
				while (p < n && v[p] != x)
					p++;
				if (p == n) {
					if (n == 32)
						return; /* too many: gnuplot's own tics */
					v[n++] = x;
				}
			}
	if (n == 0 || n > 14)
		return;
	qsort(v, (size_t)n, sizeof *v, dbl_cmp);
	fprintf(f, "set xtics (");
	for (int i = 0; i < n; i++)
		fprintf(f, "%s%.10g", i ? ", " : "", v[i]);
	fprintf(f, ")\n");
}

/* A 1-2-5 step that gives at most about max_tics tics over span. */
static double nice_step(double span, int max_tics)
{
	if (!(span > 0))
		return 1;
	const double raw = span / max_tics, p = pow(10, floor(log10(raw))), m = raw / p;
	return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/* y tics for a byte axis: powers of two labelled "64 KiB", or plain
 * multiples on a linear axis. */
static void gp_bytes_tics(FILE *f, double lo, double hi)
{
	if (!(lo > 0 && hi / lo > 10)) {
		/* linear: a binary unit and a 1-2-5 step, at most about 8 tics */
		const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
		int u = 0;
		while (u < 4 && hi >= 1024 * pow(1024, u))
			u++;
		const double U = pow(1024, u), step = nice_step((hi - lo > 0 ? hi - lo : hi) / U, 7);
		fprintf(f, "set ytics (");
		int first = 1;
		for (double v = floor(fmax(0, lo - 0.08 * (hi - lo)) / U / step) * step; v <= hi / U * 1.08;
		     v += step) {
			fprintf(f, "%s\"%g %s\" %.10g", first ? "" : ", ", v, unit[u], v * U);
			first = 0;
		}
		fprintf(f, ")\n");
		return;
	}
	int a = (int)floor(log2(lo / 1.3)), b = (int)ceil(log2(hi * 1.3));
	int step = 1;
	while ((b - a) / step > 9)
		step++;
	fprintf(f, "set ytics (");
	int first = 1;
	for (int e = a; e <= b; e++) {
		if ((e - a) % step)
			continue;
		char buf[32];
		fprintf(f, "%s\"%s\" %.10g", first ? "" : ", ", short_bytes(ldexp(1, e), buf, sizeof buf), ldexp(1, e));
		first = 0;
	}
	fprintf(f, ")\n");
}

/* A time unit for values in ns: the largest unit the smallest value reaches. */
static double time_unit(double lo_ns, const char **name)
{
	if (lo_ns >= 1e9) {
		*name = "s";
		return 1e9;
	}
	if (lo_ns >= 1e6) {
		*name = "ms";
		return 1e6;
	}
	if (lo_ns >= 1e3) {
		*name = "µs";
		return 1e3;
	}
	*name = "ns";
	return 1;
}

/* The plot command's element for a line in data block idx. */
static void gp_line(FILE *f, const gp *g, int idx, const series *s, const char *title, int first)
{
	fprintf(f, "%s\"%s.dat\" index %d using 1:2 with linespoints lw 2 ps 1.1 lc rgb \"%s\" dt %d pt %d title ",
	        first ? "plot " : ", \\\n     ", g->name, idx, palette[s->color % 8], 1 + s->dash % 5,
	        point_types[s->open][s->pt % 8]);
	gp_str(f, title ? title : s->label);
}

/* ---- the pictures --------------------------------------------------------------- */

/* Register a picture; returns it. */
static picture *add_picture(report *R, const char *name, const char *title, const char *caption)
{
	picture *p = &R->pics[R->npics++];
	snprintf(p->name, sizeof p->name, "%s", name);
	snprintf(p->title, sizeof p->title, "%s", title);
	p->caption = xasprintf("%s", caption);
	return p;
}

/* Selections of the two scaling families every picture starts from. */
static const sel_spec cost_spec = {"prefill", V_SEQ, S_BACKEND_DTYPE, CTX_SHAPE, y_time, 2, NULL};
static const sel_spec decode_spec = {"decode", V_CACHE, S_BACKEND_DTYPE, CTX_SHAPE, y_time, 2, NULL};

/* Fit every line of a selection with the report's rule. */
static void fit_lines(selection *S)
{
	for (int i = 0; i < S->n; i++) {
		series *s = &S->s[i];
		s->has_fit = fit_power_law_tail(s->x, s->y, s->n, FIT_MIN_X, FIT_MIN_PTS, &s->fit) == 0;
	}
}

/* cost.png: prefill time against seq_len, log-log, fitted exponents and a
 * slope-2 reference. */
static int plot_cost(report *R, selection *S)
{
	picture *p = add_picture(
	    R, "cost", "Quadratic cost of prefill",
	    "Prefill time per call against the number of new tokens, both axes logarithmic. A power law t ~ n^k is a "
	    "straight line of slope k: the legend gives each line's k, fitted by least squares of log t on log n over "
	    "the points with seq_len >= 512 (all points when fewer than three are that long). The dashed line has "
	    "slope 2, the quadratic cost of attention; lines flatter than it at small n are paying a fixed per-call "
	    "cost, lines steeper than it are falling out of cache. fits.csv has the numbers.");
	if (S->n == 0) {
		p->note = xasprintf("not drawn: no prefill rows with two or more seq_len values of one shape");
		return 0;
	}
	gp g;
	if (gp_open(R, &g, "cost", 1100, 800))
		return 1;
	const selection *sels[] = {S};
	double xlo, xhi, ylo, yhi;
	data_range(sels, 1, 0, 1, &xlo, &xhi);
	data_range(sels, 1, 1, 1, &ylo, &yhi);
	const char *un;
	const double u = time_unit(ylo, &un);
	char sub[1024], lab[128];
	subtitle(R, sels, 1, sub, sizeof sub);
	gp_title(g.f, "Prefill time against sequence length (log-log)", S->title, sub);
	gp_axis(g.f, "x", xlo, xhi, 2, "seq_len (new tokens per prefill call)");
	snprintf(lab, sizeof lab, "time per prefill call (%s)", un);
	gp_axis(g.f, "y", ylo / u, yhi / u, 10, lab);
	gp_xtics_at_data(g.f, sels, 1);
	fprintf(g.f, "set format y \"%%g\"\n");
	/* the reference: slope 2 through the middle of the bundle */
	const double xm = sqrt(xlo * xhi);
	double lsum = 0;
	int nl = 0;
	for (int i = 0; i < S->n; i++) {
		series *s = &S->s[i];
		char title[512];
		if (s->has_fit) {
			snprintf(title, sizeof title, "%s: t ~ n^%.2f", s->label, s->fit.exponent);
			lsum += log(fit_power_eval(&s->fit, xm));
			nl++;
		} else {
			snprintf(title, sizeof title, "%s", s->label);
		}
		const int idx = gp_block(&g, s, u, "seq_len", lab);
		gp_line(g.f, &g, idx, s, title, i == 0);
	}
	if (nl > 0) {
		const double ym = exp(lsum / nl) / u;
		/* only the part inside the y range: no reliance on clipping */
		double x0 = xlo, x1 = xhi;
		const double ybot = ylo / u / 1.3, ytop = yhi / u * 1.3;
		if (yhi / ylo > 10) {
			x0 = fmax(x0, xm * sqrt(ybot / ym));
			x1 = fmin(x1, xm * sqrt(ytop / ym));
		}
		if (x1 <= x0) {
			x0 = xlo;
			x1 = xhi;
		}
		fprintf(g.d, "# slope-2 reference through the geometric middle of the lines\n# columns: seq_len, %s\n",
		        lab);
		fprintf(g.d, "%.10g %.6g\n%.10g %.6g\n\n\n", x0, ym * (x0 / xm) * (x0 / xm), x1,
		        ym * (x1 / xm) * (x1 / xm));
		fprintf(g.f,
		        ", \\\n     \"cost.dat\" index %d using 1:2 with lines lw 1.5 dt 2 lc rgb \"black\" title "
		        "\"slope 2 (t ~ n^2, reference)\"",
		        g.nblocks++);
	}
	fprintf(g.f, "\n");
	if (gp_close_run(R, &g))
		return 1;
	p->drawn = 1;
	return 0;
}

/* decode.png: decode time per step against cache_len. */
static int plot_decode(report *R, selection *D)
{
	picture *p = add_picture(
	    R, "decode", "Decode time against cache length",
	    "Time of one decode step (one new token per sequence, attending over the whole cache) against the number "
	    "of cached tokens. Decode reads every cached key and value once, so the cost is linear: the legend's "
	    "fitted exponent should be near 1. A flat start means a fixed per-call cost dominates short caches.");
	if (D->n == 0) {
		p->note = xasprintf("not drawn: no decode rows with two or more cache_len values of one shape");
		return 0;
	}
	gp g;
	if (gp_open(R, &g, "decode", 1100, 800))
		return 1;
	const selection *sels[] = {D};
	double xlo, xhi, ylo, yhi;
	data_range(sels, 1, 0, 1, &xlo, &xhi);
	data_range(sels, 1, 1, 1, &ylo, &yhi);
	const char *un;
	const double u = time_unit(ylo, &un);
	char sub[1024], lab[128], fixed[640];
	subtitle(R, sels, 1, sub, sizeof sub);
	snprintf(fixed, sizeof fixed, "decode, %s", D->title);
	gp_title(g.f, "Decode step time against cache length", fixed, sub);
	gp_axis(g.f, "x", xlo, xhi, 2, "cache_len (keys attended per decode step)");
	snprintf(lab, sizeof lab, "time per decode step (%s)", un);
	gp_axis(g.f, "y", ylo / u, yhi / u, 10, lab);
	gp_xtics_at_data(g.f, sels, 1);
	fprintf(g.f, "set format y \"%%g\"\n");
	for (int i = 0; i < D->n; i++) {
		series *s = &D->s[i];
		char title[512];
		if (s->has_fit)
			snprintf(title, sizeof title, "%s: t ~ n^%.2f", s->label, s->fit.exponent);
		else
			snprintf(title, sizeof title, "%s", s->label);
		gp_line(g.f, &g, gp_block(&g, s, u, "cache_len", lab), s, title, i == 0);
	}
	fprintf(g.f, "\n");
	if (gp_close_run(R, &g))
		return 1;
	p->drawn = 1;
	return 0;
}

/* Append printf output to a growing malloc'ed string. */
static void sbuf_add(char **s, size_t *len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void sbuf_add(char **s, size_t *len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *t = NULL;
	const int n = vasprintf(&t, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	char *r = realloc(*s, *len + (size_t)n + 1);
	if (r) {
		memcpy(r + *len, t, (size_t)n + 1);
		*s = r;
		*len += (size_t)n;
	}
	free(t);
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

/* split.png: per request scenario (prompt P, T generated tokens), stacked
 * bars of prefill time and the decode total for each line. */
static int plot_split(report *R, const selection *S, const selection *D)
{
	picture *p = add_picture(
	    R, "split", "Prefill/decode split of a request",
	    "One request is a prefill of P prompt tokens and then T decode steps over caches of P .. P+T-1 tokens. "
	    "Each bar is one backend: the solid part is the prefill time, the light part the sum of the T decode "
	    "steps. Decode steps are interpolated linearly in cache_len between the measured decode points "
	    "(extrapolated linearly beyond them); a prompt length marked * was not measured and its prefill time "
	    "comes from the power-law fit of the cost plot. On a logarithmic time axis compare the tops of the "
	    "bars; the table below the pictures has the numbers.");
	int pair[64][2], np = 0;
	for (int i = 0; i < S->n && np < 64; i++) {
		if (!S->s[i].has_fit)
			continue;
		for (int j = 0; j < D->n; j++) {
			if (S->s[i].mach == D->s[j].mach && !strcmp(S->s[i].backend, D->s[j].backend) &&
			    !strcmp(S->s[i].device, D->s[j].device)) {
				pair[np][0] = i;
				pair[np][1] = j;
				np++;
				break;
			}
		}
	}
	if (np == 0) {
		p->note = xasprintf("not drawn: needs a backend with both a prefill line (two or more seq_len) and a "
		                    "decode line (two or more cache_len)");
		return 0;
	}
	const int nsc = R->nprompts * R->ngen, width = np + 1;
	/* compute every bar first: the unit and range depend on all of them */
	double *pre = calloc((size_t)(np * nsc) * 2 + 1, sizeof *pre), *dec = pre ? pre + np * nsc : NULL;
	int *est = calloc((size_t)(np * nsc) + 1, sizeof *est), any_est[MAX_SCEN * MAX_SCEN] = {0};
	if (!pre || !est) {
		free(pre);
		free(est);
		return fail(1, "out of memory");
	}
	double lo = INFINITY, hi = 0;
	for (int k = 0; k < np; k++) {
		const series *ps = &S->s[pair[k][0]], *ds = &D->s[pair[k][1]];
		for (int a = 0; a < R->nprompts; a++)
			for (int b = 0; b < R->ngen; b++) {
				const int sc = a * R->ngen + b, at = k * nsc + sc;
				pre[at] = prefill_at(ps, (double)R->prompts[a], &est[at]);
				dec[at] = fit_sum_linear(ds->x, ds->y, ds->n, (double)R->prompts[a], (long)R->gen[b]);
				any_est[sc] |= est[at];
				lo = fmin(lo, fmin(pre[at], pre[at] + dec[at]));
				hi = fmax(hi, pre[at] + dec[at]);
			}
	}
	/* the numbers for report.md */
	sbuf_add(&R->split_table, &R->split_len,
	         "| line | prompt P | generated T | prefill | decode total | total | prefill share |\n"
	         "|---|---|---|---|---|---|---|\n");
	for (int k = 0; k < np; k++)
		for (int sc = 0; sc < nsc; sc++) {
			const int at = k * nsc + sc;
			char t1[32], t2[32], t3[32];
			sbuf_add(&R->split_table, &R->split_len, "| %s | %lld%s | %lld | %s | %s | %s | %.0f%% |\n",
			         S->s[pair[k][0]].label, (long long)R->prompts[sc / R->ngen], est[at] ? " (fit)" : "",
			         (long long)R->gen[sc % R->ngen], fmt_time(pre[at], t1, sizeof t1),
			         fmt_time(dec[at], t2, sizeof t2), fmt_time(pre[at] + dec[at], t3, sizeof t3),
			         100 * pre[at] / (pre[at] + dec[at]));
		}
	gp g;
	if (gp_open(R, &g, "split", 1300, 850)) {
		free(pre);
		free(est);
		return 1;
	}
	const char *un;
	const double u = time_unit(lo, &un);
	const int lg = hi / lo > 10;
	const double base = lg ? lo / u / 2 : 0;
	char sub[1024], lab[128], fixed[800];
	const selection *sels[] = {S, D};
	subtitle(R, sels, 2, sub, sizeof sub);
	snprintf(fixed, sizeof fixed, "%s; decode interpolated linearly in cache_len", S->title);
	int some_est = 0;
	for (int sc = 0; sc < nsc; sc++)
		some_est |= any_est[sc];
	if (some_est)
		snprintf(fixed + strlen(fixed), sizeof fixed - strlen(fixed),
		         "\n* prefill at this P not measured: from the power-law fit");
	gp_title(g.f, "Time of one request: prefill of P tokens, then T decode steps", fixed, sub);
	fprintf(g.f, "set xrange [0:%d]\n", nsc * width);
	fprintf(g.f, "set xtics scale 0 (");
	for (int sc = 0; sc < nsc; sc++)
		fprintf(g.f, "%s\"P %lld%s\\nT %lld\" %.10g", sc ? ", " : "", (long long)R->prompts[sc / R->ngen],
		        any_est[sc] ? "*" : "", (long long)R->gen[sc % R->ngen], sc * width + width / 2.0);
	fprintf(g.f, ")\n");
	fprintf(g.f, "set xlabel \"request scenario: P prompt tokens, T generated tokens\" offset 0,-0.6\n");
	snprintf(lab, sizeof lab, "time per request (%s)", un);
	if (lg) {
		fprintf(g.f, "set logscale y 10\nset yrange [%.6g:%.6g]\n", base, hi / u * 1.5);
	} else {
		fprintf(g.f, "set yrange [0:%.6g]\n", hi / u * 1.08);
	}
	fprintf(g.f, "set ylabel ");
	gp_str(g.f, lab);
	fprintf(g.f, "\nset format y \"%%g\"\nset grid noxtics ytics\n");
	for (int sc = 1; sc < nsc; sc++)
		fprintf(g.f, "set arrow from %d, graph 0 to %d, graph 1 nohead lc rgb \"#c0c0c0\" dt 3\n", sc * width,
		        sc * width);
	for (int k = 0; k < np; k++) {
		const series *ps = &S->s[pair[k][0]];
		gp_comment(g.d, ps->label);
		fprintf(g.d, "# x prefill total xlow xhigh P T prefill_from_fit\n");
		for (int sc = 0; sc < nsc; sc++) {
			const int at = k * nsc + sc;
			const double x = sc * width + k + 1;
			fprintf(g.d, "%.10g %.6g %.6g %.10g %.10g %lld %lld %d\n", x, pre[at] / u,
			        (pre[at] + dec[at]) / u, x - 0.42, x + 0.42, (long long)R->prompts[sc / R->ngen],
			        (long long)R->gen[sc % R->ngen], est[at]);
		}
		fprintf(g.d, "\n\n");
		const char *c = palette[ps->color % 8];
		/* the decode part: the colour blended with white (opaque, so every
		 * SVG renderer shows it the same) */
		unsigned rgb = (unsigned)strtoul(c + 1, NULL, 16), light = 0;
		for (int sh = 0; sh <= 16; sh += 8) {
			const unsigned v = (rgb >> sh) & 0xff;
			light |= (v + (255 - v) * 2 / 3) << sh;
		}
		char lc[8];
		snprintf(lc, sizeof lc, "#%06x", light & 0xffffff);
		fprintf(g.f,
		        "%s\"split.dat\" index %d using 1:2:4:5:(%.6g):2 with boxxyerror fs solid 1.0 border lc rgb "
		        "\"#404040\" fc rgb \"%s\" title ",
		        k ? ", \\\n     " : "plot ", k, base, c);
		char t[512];
		snprintf(t, sizeof t, "%s: prefill", ps->label);
		gp_str(g.f, t);
		fprintf(
		    g.f,
		    ", \\\n     \"split.dat\" index %d using 1:3:4:5:2:3 with boxxyerror fs solid 1.0 border lc rgb "
		    "\"#404040\" fc rgb \"%s\" title ",
		    k, lc);
		snprintf(t, sizeof t, "%s: decode (T steps)", ps->label);
		gp_str(g.f, t);
	}
	fprintf(g.f, "\n");
	free(pre);
	free(est);
	if (gp_close_run(R, &g))
		return 1;
	p->drawn = 1;
	return 0;
}

/* memory.png: KV-cache bytes and each backend's workspace against seq_len;
 * memory_gqa.png: KV-cache bytes against the GQA ratio at fixed n_heads. */
static int plot_memory(report *R)
{
	picture *p = add_picture(
	    R, "memory", "Memory footprint",
	    "Bytes against seq_len for prefill, both axes logarithmic. The KV cache (K and V of every token, "
	    "2 x batch x n_kv_heads x seq_len x head_dim x the dtype's size: 4 bytes for f32, 2 for f16 and bf16, "
	    "one line each where the run measured them) grows linearly; a backend that materialises the score "
	    "matrix has a workspace that grows with the square of seq_len (slope 2 here), a tiled backend a flat "
	    "one.");
	sel_spec ws = {"prefill", V_SEQ, S_BACKEND_DTYPE, CTX_SHAPE, y_ws, 2, NULL};
	selection W, K;
	if (select_lines(R, &ws, &W))
		return fail(1, "out of memory");
	sel_spec kv = {"prefill", V_SEQ, VM(V_DTYPE), CTX_SHAPE, y_kv, 2, W.n ? W.s[0].ctx : NULL};
	if (select_lines(R, &kv, &K)) {
		sel_free(&W);
		return fail(1, "out of memory");
	}
	int rc = 0;
	if (W.n == 0 && K.n == 0) {
		p->note = xasprintf("not drawn: no prefill rows with two or more seq_len values of one shape");
	} else {
		gp g;
		rc = gp_open(R, &g, "memory", 1100, 800);
		if (rc == 0) {
			const selection *sels[] = {&K, &W};
			double xlo, xhi, ylo, yhi;
			data_range(sels, 2, 0, 1, &xlo, &xhi);
			data_range(sels, 2, 1, 1, &ylo, &yhi);
			char sub[1024], fixed[640];
			subtitle(R, sels, 2, sub, sizeof sub);
			snprintf(fixed, sizeof fixed, "prefill, %s", W.n ? W.title : K.title);
			gp_title(g.f, "Memory: KV cache and backend workspace against sequence length", fixed, sub);
			gp_axis(g.f, "x", xlo, xhi, 2, "seq_len (tokens)");
			gp_axis(g.f, "y", ylo, yhi, 2, "bytes");
			gp_bytes_tics(g.f, ylo, yhi);
			gp_xtics_at_data(g.f, sels, 2);
			int first = 1;
			/* one black line per storage dtype: the cache is the same for every backend */
			for (int i = 0; i < K.n; i++) {
				const int idx = gp_block(&g, &K.s[i], 1, "seq_len", "kv_cache_bytes");
				char t[128];
				snprintf(t, sizeof t, "KV cache %.16s (every backend)", K.s[i].row0->dtype);
				fprintf(g.f,
				        "%s\"memory.dat\" index %d using 1:2 with linespoints lw 3 lc rgb \"black\" "
				        "dt %d pt 6 title ",
				        first ? "plot " : ", \\\n     ", idx, i + 1);
				gp_str(g.f, t);
				first = 0;
			}
			for (int i = 0; i < W.n; i++) {
				series *s = &W.s[i];
				char t[512];
				snprintf(t, sizeof t, "workspace: %s", s->label);
				gp_line(g.f, &g, gp_block(&g, s, 1, "seq_len", "workspace_bytes"), s, t, first);
				first = 0;
			}
			fprintf(g.f, "\n");
			rc = gp_close_run(R, &g);
			p->drawn = rc == 0;
		}
	}
	sel_free(&W);
	sel_free(&K);
	if (rc)
		return rc;

	picture *q = add_picture(
	    R, "memory_gqa", "KV cache against the GQA ratio",
	    "KV-cache bytes against the GQA ratio n_heads/n_kv_heads at a fixed number of query heads, both axes "
	    "logarithmic: grouping query heads over fewer KV heads divides the cache by the ratio (slope -1), "
	    "MQA being the far right.");
	sel_spec gq = {
	    NULL, V_RATIO, VM(V_HEADS), VM(V_PHASE) | VM(V_BATCH) | VM(V_HD) | VM(V_SEQ) | VM(V_CACHE) | VM(V_DTYPE),
	    y_kv, 2,       NULL};
	selection G;
	if (select_lines(R, &gq, &G))
		return fail(1, "out of memory");
	if (G.n == 0) {
		q->note = xasprintf("not drawn: no rows with two or more GQA ratios at the same n_heads");
	} else {
		gp g;
		rc = gp_open(R, &g, "memory_gqa", 1000, 750);
		if (rc == 0) {
			const selection *sels[] = {&G};
			double xlo, xhi, ylo, yhi;
			data_range(sels, 1, 0, 1, &xlo, &xhi);
			data_range(sels, 1, 1, 1, &ylo, &yhi);
			char sub[1024];
			subtitle(R, sels, 1, sub, sizeof sub);
			gp_title(g.f, "KV-cache size against the GQA ratio", G.title, sub);
			gp_axis(g.f, "x", xlo, xhi, 2, "GQA ratio n_heads / n_kv_heads (1 = MHA, n_heads = MQA)");
			gp_axis(g.f, "y", ylo, yhi, 2, "KV-cache bytes");
			gp_bytes_tics(g.f, ylo, yhi);
			gp_xtics_at_data(g.f, sels, 1);
			for (int i = 0; i < G.n; i++) {
				series *s = &G.s[i];
				gp_line(g.f, &g, gp_block(&g, s, 1, "gqa_ratio", "kv_cache_bytes"), s, NULL, i == 0);
			}
			fprintf(g.f, "\n");
			rc = gp_close_run(R, &g);
			q->drawn = rc == 0;
		}
	}
	sel_free(&G);
	return rc;
}

/* One panel of a multiplot: lines of a selection against x. */
static void gp_panel(gp *g, const selection *S, const char *title, const char *xlabel, int xbase, const char *ylabel,
                     const char *xname, const char *yname)
{
	const selection *sels[] = {S};
	double xlo, xhi, ylo, yhi;
	data_range(sels, 1, 0, 1, &xlo, &xhi);
	data_range(sels, 1, 1, 1, &ylo, &yhi);
	fprintf(g->f, "set title ");
	gp_str(g->f, title);
	fprintf(g->f, "\n");
	gp_axis(g->f, "x", xlo, xhi, xbase, xlabel);
	gp_axis(g->f, "y", ylo, yhi, 10, ylabel);
	gp_xtics_at_data(g->f, sels, 1);
	fprintf(g->f, "set format y \"%%g\"\n");
	for (int i = 0; i < S->n; i++)
		gp_line(g->f, g, gp_block(g, &S->s[i], 1, xname, yname), &S->s[i], NULL, i == 0);
	fprintf(g->f, "\n");
}

/* Panel title: a line of what, then the fixed values. */
static char *panel_title(const char *what, const char *phase, const char *fixed)
{
	return xasprintf("%s\n%s%s%s", what, phase ? phase : "", phase && fixed[0] ? ", " : "", fixed);
}

/* throughput.png: GFLOP/s against seq_len (prefill) and GB/s against
 * cache_len (decode); % of peak too where results.csv has those columns. */
static int plot_throughput(report *R)
{
	picture *p = add_picture(
	    R, "throughput", "Throughput",
	    "Left: prefill arithmetic rate (GFLOP/s, 4 x batch x n_heads x head_dim per unmasked query-key pair) "
	    "against seq_len; it climbs while per-call overheads are amortised and flattens at what the backend can "
	    "sustain. Right: decode memory bandwidth (GB/s of Q, K, V read and O written) against cache_len; decode "
	    "is bandwidth-bound, so this is the number to compare with the machine's memory bandwidth.");
	sel_spec a = cost_spec, b = decode_spec, c = cost_spec, d = decode_spec;
	a.y = y_gflops;
	b.y = y_gbs;
	c.y = y_pct_flops;
	d.y = y_pct_bw;
	selection A, B, C = {0}, Dd = {0};
	if (select_lines(R, &a, &A))
		return fail(1, "out of memory");
	if (select_lines(R, &b, &B)) {
		sel_free(&A);
		return fail(1, "out of memory");
	}
	if ((R->has_pct_flops && select_lines(R, &c, &C)) || (R->has_pct_bw && select_lines(R, &d, &Dd))) {
		sel_free(&A);
		sel_free(&B);
		sel_free(&C);
		return fail(1, "out of memory");
	}
	const selection *panels[4];
	int np = 0, rc = 0;
	if (A.n)
		panels[np++] = &A;
	if (B.n)
		panels[np++] = &B;
	if (C.n)
		panels[np++] = &C;
	if (Dd.n)
		panels[np++] = &Dd;
	if (np == 0) {
		p->note = xasprintf("not drawn: no prefill or decode lines with two or more points");
	} else {
		if (C.n || Dd.n)
			p->note =
			    xasprintf("Bottom: the same as a percentage of the machine's peak (results.csv columns "
			              "pct_peak_flops and pct_peak_bw).");
		gp g;
		const int cols = np == 1 ? 1 : 2, rows = np > 2 ? 2 : 1;
		rc = gp_open(R, &g, "throughput", cols == 1 ? 1000 : 1600, rows == 1 ? 780 : 1400);
		if (rc == 0) {
			char sub[1024];
			subtitle(R, panels, np, sub, sizeof sub);
			char *t = xasprintf("Throughput\n%s", sub);
			fprintf(g.f, "set multiplot layout %d,%d title ", rows, cols);
			gp_str(g.f, t ? t : "Throughput");
			fprintf(g.f, "\n");
			free(t);
			for (int i = 0; i < np; i++) {
				const selection *S = panels[i];
				const int pre = S == &A || S == &C;
				char *pt = panel_title(S == &A   ? "Prefill: GFLOP/s against seq_len"
				                       : S == &B ? "Decode: GB/s against cache_len"
				                       : S == &C ? "Prefill: % of peak FLOP/s"
				                                 : "Decode: % of peak memory bandwidth",
				                       pre ? "prefill" : "decode", S->title);
				gp_panel(&g, S, pt ? pt : "",
				         pre ? "seq_len (new tokens per call)" : "cache_len (keys attended)", 2,
				         S == &A   ? "GFLOP/s"
				         : S == &B ? "GB/s"
				         : S == &C ? "% of peak FLOP/s"
				                   : "% of peak bandwidth",
				         pre ? "seq_len" : "cache_len",
				         S == &A   ? "gflops"
				         : S == &B ? "gbytes_s"
				         : S == &C ? "pct_peak_flops"
				                   : "pct_peak_bw");
				free(pt);
			}
			fprintf(g.f, "unset multiplot\n");
			rc = gp_close_run(R, &g);
			p->drawn = rc == 0;
		}
	}
	sel_free(&A);
	sel_free(&B);
	sel_free(&C);
	sel_free(&Dd);
	return rc;
}

/* heads.png: prefill time against the GQA ratio at fixed n_heads, and
 * against n_heads at a fixed GQA ratio. */
static int plot_heads(report *R)
{
	picture *p = add_picture(
	    R, "heads", "Heads and GQA",
	    "Left: prefill time against the GQA ratio (query heads per KV head) with the number of query heads "
	    "fixed: the arithmetic is the same, so a flat line is expected, and a falling one shows a backend that "
	    "reuses each K/V tile across the query heads of a group. Right: prefill time against n_heads at a fixed "
	    "GQA ratio: the work grows linearly with the heads, so the line should have slope 1 on these log axes.");
	sel_spec a = {
	    "prefill", V_RATIO, S_MACHINE | VM(V_HEADS), VM(V_BATCH) | VM(V_HD) | VM(V_SEQ) | VM(V_DTYPE), y_time,
	    2,         NULL};
	sel_spec b = {"prefill", V_HEADS, S_MACHINE, VM(V_BATCH) | VM(V_RATIO) | VM(V_HD) | VM(V_SEQ) | VM(V_DTYPE),
	              y_time,    2,       NULL};
	selection A, B;
	if (select_lines(R, &a, &A))
		return fail(1, "out of memory");
	if (select_lines(R, &b, &B)) {
		sel_free(&A);
		return fail(1, "out of memory");
	}
	int rc = 0;
	if (A.n == 0 && B.n == 0) {
		p->note = xasprintf("not drawn: no prefill rows varying the GQA ratio or n_heads");
	} else {
		gp g;
		const int two = A.n && B.n;
		rc = gp_open(R, &g, "heads", two ? 1600 : 1000, 850);
		if (rc == 0) {
			const selection *all[] = {&A, &B};
			double lo, hi, lo2, hi2;
			data_range(all, 2, 1, 1, &lo, &hi);
			const char *un;
			const double u = time_unit(lo, &un);
			char sub[1024], lab[64];
			subtitle(R, all, 2, sub, sizeof sub);
			snprintf(lab, sizeof lab, "time per prefill call (%s)", un);
			char *t = xasprintf("Prefill time against heads and GQA ratio\n%s", sub);
			fprintf(g.f, "set multiplot layout 1,%d title ", two ? 2 : 1);
			gp_str(g.f, t ? t : "");
			fprintf(g.f, "\n");
			free(t);
			for (int k = 0; k < 2; k++) {
				const selection *S = k ? &B : &A;
				if (!S->n)
					continue;
				const selection *one[] = {S};
				char *pt = panel_title(k ? "against n_heads at a fixed GQA ratio"
				                         : "against the GQA ratio at fixed n_heads",
				                       "prefill", S->title);
				fprintf(g.f, "unset logscale\nset title ");
				gp_str(g.f, pt ? pt : "");
				fprintf(g.f, "\n");
				free(pt);
				data_range(one, 1, 0, 1, &lo2, &hi2);
				gp_axis(g.f, "x", lo2, hi2, 2,
				        k ? "n_heads (query heads)" : "GQA ratio n_heads / n_kv_heads (1 = MHA)");
				data_range(one, 1, 1, u, &lo2, &hi2);
				gp_axis(g.f, "y", lo2, hi2, 10, lab);
				fprintf(g.f, "set format y \"%%g\"\n");
				gp_xtics_at_data(g.f, one, 1);
				for (int i = 0; i < S->n; i++)
					gp_line(g.f, &g, gp_block(&g, &S->s[i], u, k ? "n_heads" : "gqa_ratio", lab),
					        &S->s[i], NULL, i == 0);
				fprintf(g.f, "\n");
			}
			fprintf(g.f, "unset multiplot\n");
			rc = gp_close_run(R, &g);
			p->drawn = rc == 0;
		}
	}
	sel_free(&A);
	sel_free(&B);
	return rc;
}

/* ---- fits.csv --------------------------------------------------------------------- */

/* The run directories that contributed rows to a line, joined by ';'. */
static void line_runs(const report *R, const series *s, char *buf, size_t len)
{
	size_t l = 0;
	buf[0] = 0;
	for (int k = 0; k < R->nruns; k++) {
		int used = 0;
		for (int i = 0; i < s->n && !used; i++)
			used = s->r[i]->run == k;
		if (used && l < len)
			l += (size_t)snprintf(buf + l, len - l, "%s%s", l ? ";" : "", R->runs[k].dir);
	}
}

/* Write fits.csv: one row per (machine, backend, device, phase, shape) with
 * two or more sizes: the power-law exponent and the BigO coefficient. */
static int write_fits(report *R, FILE *f)
{
	const char *hdr[] = {"run",      "host",        "device",           "backend",  "phase",
	                     "batch",    "n_heads",     "n_kv_heads",       "head_dim", "points",
	                     "exponent", "coefficient", "coefficient_unit", "rms_rel",  "dtype"};
	if (table_write_row(f, hdr, 15))
		return -1;
	for (int ph = 0; ph < 2; ph++) {
		sel_spec sp = ph ? decode_spec : cost_spec;
		/* every shape, not only the chosen line: one line per shape */
		sp.series = S_BACKEND_DTYPE | CTX_SHAPE;
		sp.context = 0;
		selection S;
		if (select_lines(R, &sp, &S))
			return -1;
		for (int i = 0; i < S.n; i++) {
			const series *s = &S.s[i];
			power_fit pf;
			if (fit_power_law_tail(s->x, s->y, s->n, FIT_MIN_X, FIT_MIN_PTS, &pf))
				continue;
			/* the BigO coefficient over the same points as the exponent */
			int tail = 0;
			for (int j = 0; j < s->n; j++)
				tail += s->x[j] >= FIT_MIN_X;
			const int first = tail < FIT_MIN_PTS ? 0 : s->n - tail; /* x is sorted */
			const int m = s->n - first;
			double rms;
			const double a = fit_bigo(s->x + first, s->y + first, m, ph ? 1 : 2, &rms);
			char run[1024], b[8][48];
			line_runs(R, s, run, sizeof run);
			const rrow *r = s->row0;
			snprintf(b[0], 48, "%lld", (long long)r->batch);
			snprintf(b[1], 48, "%lld", (long long)r->heads);
			snprintf(b[2], 48, "%lld", (long long)r->kv);
			snprintf(b[3], 48, "%lld", (long long)r->hd);
			snprintf(b[4], 48, "%d", pf.points);
			snprintf(b[5], 48, "%.4f", pf.exponent);
			snprintf(b[6], 48, "%.6g", a);
			snprintf(b[7], 48, "%.4f", rms);
			const char *row[] = {run,
			                     R->machines[s->mach].host,
			                     s->device,
			                     s->backend,
			                     ph ? "decode" : "prefill",
			                     b[0],
			                     b[1],
			                     b[2],
			                     b[3],
			                     b[4],
			                     b[5],
			                     b[6],
			                     ph ? "ns/n" : "ns/n^2",
			                     b[7],
			                     r->dtype};
			if (table_write_row(f, row, 15)) {
				sel_free(&S);
				return -1;
			}
		}
		sel_free(&S);
	}
	return 0;
}

/* ---- headline figures and missing points -------------------------------------------- */

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

/* One headline row per (machine, backend, device). */
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
		                         strcmp(R->heads[h].device, r->device)))
			h++;
		if (h == R->nheads) {
			if (h == 64)
				continue;
			headline *n = &R->heads[R->nheads++];
			memset(n, 0, sizeof *n);
			n->mach = r->mach;
			n->backend = r->backend;
			n->device = r->device;
			n->prefill_ns = n->decode_tok_s = n->exponent = NAN;
		}
		headline *H = &R->heads[h];
		if (r->gflops > H->peak_gflops) {
			H->peak_gflops = r->gflops;
			H->peak_where_phase = r->phase;
			H->peak_where_x = !strcmp(r->phase, "decode") ? r->cache : r->seq;
		}
		if (r->ws_bytes > H->max_ws)
			H->max_ws = r->ws_bytes;
	}
	/* headline order: machine, then backend colour order */
	for (int i = 1; i < R->nheads; i++) {
		headline t = R->heads[i];
		int p = i;
		while (p > 0 && (R->heads[p - 1].mach > t.mach ||
		                 (R->heads[p - 1].mach == t.mach &&
		                  backend_index(R, R->heads[p - 1].backend) > backend_index(R, t.backend)))) {
			R->heads[p] = R->heads[p - 1];
			p--;
		}
		R->heads[p] = t;
	}
	for (int h = 0; h < R->nheads; h++) {
		headline *H = &R->heads[h];
		for (int i = 0; i < S->n; i++) {
			const series *s = &S->s[i];
			if (s->mach != H->mach || strcmp(s->backend, H->backend) || strcmp(s->device, H->device))
				continue;
			if (s->has_fit)
				H->exponent = s->fit.exponent;
			for (int k = 0; k < s->n; k++)
				if (s->x[k] == (double)R->common_seq)
					H->prefill_ns = s->y[k];
		}
		for (int i = 0; i < D->n; i++) {
			const series *s = &D->s[i];
			if (s->mach != H->mach || strcmp(s->backend, H->backend) || strcmp(s->device, H->device))
				continue;
			for (int k = 0; k < s->n; k++)
				if (s->x[k] == (double)R->common_cache)
					H->decode_tok_s = (double)s->r[k]->batch * 1e9 / s->y[k];
		}
	}
}

/* Points (backend, phase, shape, length) not measured on every machine. */
static void find_missing(report *R)
{
	if (R->nmach < 2)
		return;
	const int max_lines = 60;
	/* whole backends first: absent from a machine */
	for (int b = 0; b < R->nbackends; b++)
		for (int m = 0; m < R->nmach; m++) {
			int has = 0;
			for (int i = 0; i < R->nrows && !has; i++)
				has = !R->rows[i].dropped && R->rows[i].mach == m &&
				      !strcmp(R->rows[i].backend, R->backends[b]);
			if (!has) {
				if (R->nmissing < max_lines)
					sbuf_add(&R->missing, &R->missing_len,
					         "- backend %s: every point missing on %s\n", R->backends[b],
					         R->machines[m].host);
				R->nmissing++;
			}
		}
	for (int i = 0; i < R->nrows; i++) {
		const rrow *r = &R->rows[i];
		if (r->dropped)
			continue;
		/* consider each point once, at its first row */
		int seen = 0;
		for (int j = 0; j < i && !seen; j++) {
			const rrow *q = &R->rows[j];
			seen = !q->dropped && !strcmp(q->backend, r->backend) && !strcmp(q->phase, r->phase) &&
			       q->batch == r->batch && q->heads == r->heads && q->kv == r->kv && q->hd == r->hd &&
			       q->seq == r->seq && q->cache == r->cache && q->causal == r->causal &&
			       !strcmp(q->dtype, r->dtype);
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
				has = !strcmp(q->phase, r->phase) && q->batch == r->batch && q->heads == r->heads &&
				      q->kv == r->kv && q->hd == r->hd && q->seq == r->seq && q->cache == r->cache &&
				      q->causal == r->causal && !strcmp(q->dtype, r->dtype);
			}
			if (has || !any_backend)
				continue;
			if (R->nmissing < max_lines)
				sbuf_add(&R->missing, &R->missing_len,
				         "- %s %s, batch %lld, %lld heads, %lld KV heads, head_dim %lld, %s %lld, %s: "
				         "missing on "
				         "%s\n",
				         r->backend, r->phase, (long long)r->batch, (long long)r->heads,
				         (long long)r->kv, (long long)r->hd,
				         strcmp(r->phase, "decode") ? "seq_len" : "cache_len",
				         (long long)(strcmp(r->phase, "decode") ? r->seq : r->cache), r->dtype,
				         R->machines[m].host);
			R->nmissing++;
		}
	}
	if (R->nmissing > max_lines)
		sbuf_add(&R->missing, &R->missing_len, "- ... and %d more\n", R->nmissing - max_lines);
}

/* ---- report.md and index.html ---------------------------------------------------------- */

/* Both documents at once, so they never disagree. */
typedef struct doc {
	FILE *md, *html;
} doc;

/* Write text HTML-escaped. */
static void html_esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '&')
			fputs("&amp;", f);
		else if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '"')
			fputs("&quot;", f);
		else
			fputc(*s, f);
	}
}

/* Write paragraph text as HTML: escaped, `code` spans as <code>. */
static void html_inline(FILE *f, const char *s)
{
	int in_code = 0;
	for (; *s; s++) {
		if (*s == '`' && (in_code || strchr(s + 1, '`'))) {
			fputs(in_code ? "</code>" : "<code>", f);
			in_code = !in_code;
			continue;
		}
		const char one[2] = {*s, 0};
		html_esc(f, one);
	}
}

/* Write text for a markdown table cell ('|' escaped, no newlines). */
static void md_cell(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '\n')
			fputc(' ', f);
		else
			fputc(*s, f);
	}
}

/* A heading. */
static void doc_h(doc *d, int level, const char *text)
{
	fprintf(d->md, "\n%.*s %s\n\n", level, "######", text);
	fprintf(d->html, "<h%d>", level);
	html_esc(d->html, text);
	fprintf(d->html, "</h%d>\n", level);
}

/* A paragraph. */
static void doc_p(doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void doc_p(doc *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *t = NULL;
	const int n = vasprintf(&t, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	fprintf(d->md, "%s\n\n", t);
	fprintf(d->html, "<p>");
	html_inline(d->html, t);
	fprintf(d->html, "</p>\n");
	free(t);
}

/* A table of nrows x ncols cells (row-major). */
static void doc_table(doc *d, int ncols, const char *const *hdr, char **cells, int nrows)
{
	fprintf(d->md, "|");
	fprintf(d->html, "<table>\n<tr>");
	for (int c = 0; c < ncols; c++) {
		fputc(' ', d->md);
		md_cell(d->md, hdr[c]);
		fprintf(d->md, " |");
		fprintf(d->html, "<th>");
		html_esc(d->html, hdr[c]);
		fprintf(d->html, "</th>");
	}
	fprintf(d->md, "\n|");
	for (int c = 0; c < ncols; c++)
		fprintf(d->md, "---|");
	fprintf(d->md, "\n");
	fprintf(d->html, "</tr>\n");
	for (int r = 0; r < nrows; r++) {
		fprintf(d->md, "|");
		fprintf(d->html, "<tr>");
		for (int c = 0; c < ncols; c++) {
			const char *s = cells[r * ncols + c] ? cells[r * ncols + c] : "";
			fputc(' ', d->md);
			md_cell(d->md, s);
			fprintf(d->md, " |");
			fprintf(d->html, "<td>");
			html_esc(d->html, s);
			fprintf(d->html, "</td>");
		}
		fprintf(d->md, "\n");
		fprintf(d->html, "</tr>\n");
	}
	fprintf(d->md, "\n");
	fprintf(d->html, "</table>\n");
}

/* A list of lines "- text" (markdown) and <ul> (HTML). */
static void doc_list(doc *d, const char *lines)
{
	fprintf(d->md, "%s\n", lines);
	fprintf(d->html, "<ul>\n");
	for (const char *p = lines; *p;) {
		const char *e = strchr(p, '\n');
		const size_t n = e ? (size_t)(e - p) : strlen(p);
		const char *s = p;
		if (n >= 2 && s[0] == '-' && s[1] == ' ')
			s += 2;
		char *item = xasprintf("%.*s", (int)(n - (size_t)(s - p)), s);
		if (item) {
			fprintf(d->html, "<li>");
			html_inline(d->html, item);
			fprintf(d->html, "</li>\n");
		}
		free(item);
		p += n + (e != NULL);
	}
	fprintf(d->html, "</ul>\n");
}

/* Free the cells of a table. */
static void free_cells(char **cells, int n)
{
	for (int i = 0; i < n; i++)
		free(cells[i]);
	free(cells);
}

/* The machines section: one table row per machine. */
static void doc_machines(report *R, doc *d)
{
	const char *hdr[] = {"host",       "CPU", "CPUs / threads", "RAM", "BLAS", "compiler, flags", "commit",
	                     "date (UTC)", "runs"};
	char **cells = calloc((size_t)R->nmach * 9 + 1, sizeof *cells);
	if (!cells)
		return;
	for (int m = 0; m < R->nmach; m++) {
		const run_in *r = &R->runs[R->machines[m].run];
		char **c = cells + m * 9, ram[64] = "?";
		double rb;
		if (parse_f64(meta(r, "ram_bytes", ""), &rb))
			short_bytes(rb, ram, sizeof ram);
		c[0] = xasprintf("%s", R->machines[m].host);
		c[1] = xasprintf("%s", meta(r, "cpu_model", "unknown"));
		c[2] = xasprintf("%s / %s", meta(r, "cpus_online", "?"), meta(r, "threads_used", "?"));
		c[3] = xasprintf("%s", ram);
		c[4] = xasprintf("%s", meta(r, "blas", "?"));
		c[5] = xasprintf("gcc %s, %s", meta(r, "compiler", "?"), meta(r, "build_flags", "?"));
		c[6] = xasprintf("%s", meta(r, "git_commit", "?"));
		c[7] = xasprintf("%s", meta(r, "date_utc", "?"));
		size_t l = 0;
		char *runs = NULL;
		for (int k = 0; k < R->nruns; k++)
			if (R->runs[k].machine == m)
				sbuf_add(&runs, &l, "%s%s", l ? ", " : "", R->runs[k].arg);
		c[8] = runs;
	}
	doc_table(d, 9, hdr, cells, R->nmach);
	free_cells(cells, R->nmach * 9);
	for (int m = 0; m < R->nmach; m++) {
		const run_in *r = &R->runs[R->machines[m].run];
		doc_p(d, "%s: %s; devices: %s.", R->machines[m].host, meta(r, "os", "unknown OS"),
		      meta(r, "devices", "unknown"));
		/* the peaks pct_peak_* divide by (`attnbench roofline`), where the run has them */
		double pf, ps, dram, llc, llc_b;
		if (parse_f64(meta(r, "roofline_sgemm_attn_gflops", ""), &pf) &&
		    parse_f64(meta(r, "roofline_sgemm_square_gflops", ""), &ps) &&
		    parse_f64(meta(r, "roofline_dram_gbs", ""), &dram) &&
		    parse_f64(meta(r, "roofline_llc_gbs", ""), &llc) &&
		    parse_f64(meta(r, "roofline_llc_bytes", ""), &llc_b)) {
			char lb[64];
			doc_p(d,
			      "%s: measured peaks with %s threads: OpenBLAS sgemm %.1f GFLOP/s attention-shaped "
			      "(4096 x 4096 x 128) and %.1f GFLOP/s square (2048³); read bandwidth %.1f GB/s from DRAM "
			      "and %.1f GB/s from the %s last-level cache. pct_peak_flops is GFLOP/s over the first; "
			      "pct_peak_bw is GB/s over the cache or the DRAM figure, by whether K and V fit in the "
			      "cache.",
			      R->machines[m].host, meta(r, "threads_used", "?"), pf, ps, dram, llc,
			      short_bytes(llc_b, lb, sizeof lb));
		}
	}
}

/* The inputs section: rows read, ok, ignored statuses, duplicates. */
static void doc_inputs(report *R, doc *d)
{
	const char *hdr[] = {"run", "host", "rows", "ok", "duplicates dropped", "ignored (status not ok)"};
	char **cells = calloc((size_t)R->nruns * 6 + 1, sizeof *cells);
	if (!cells)
		return;
	for (int k = 0; k < R->nruns; k++) {
		const run_in *r = &R->runs[k];
		char **c = cells + k * 6;
		c[0] = xasprintf("%s%s", r->arg, r->unfinished ? " (unfinished sweep)" : "");
		c[1] = xasprintf("%s", R->machines[r->machine].host);
		c[2] = xasprintf("%d", r->nrows);
		c[3] = xasprintf("%d", r->nok);
		c[4] = xasprintf("%d", r->ndropped);
		size_t l = 0;
		char *st = NULL;
		for (int i = 0; i < r->nstatus; i++)
			sbuf_add(&st, &l, "%s%d x %s", l ? "; " : "", r->status_n[i], r->status[i]);
		if (r->nother_status)
			sbuf_add(&st, &l, "; %d x other", r->nother_status);
		c[5] = st ? st : xasprintf("none");
	}
	doc_table(d, 6, hdr, cells, R->nruns);
	free_cells(cells, R->nruns * 6);
	doc_p(d,
	      "Rows whose status is not ok (skipped or failed points) are left out of every picture. %d duplicate "
	      "row%s dropped: a point measured by several runs of the same host (shards of one grid, or a re-run) is "
	      "taken from the newest run (machine.json date_utc).",
	      R->ndup, R->ndup == 1 ? " was" : "s were");
}

/* The headline table. */
static void doc_headlines(report *R, doc *d)
{
	char h1[96], h2[96];
	snprintf(h1, sizeof h1, "prefill time @ seq_len %lld", (long long)R->common_seq);
	snprintf(h2, sizeof h2, "decode tokens/s @ cache_len %lld", (long long)R->common_cache);
	const char *hdr[] = {"host", "backend", "device", h1, h2, "peak GFLOP/s", "prefill exponent", "max workspace"};
	char **cells = calloc((size_t)R->nheads * 8 + 1, sizeof *cells);
	if (!cells)
		return;
	for (int i = 0; i < R->nheads; i++) {
		const headline *H = &R->heads[i];
		char **c = cells + i * 8, ws[64];
		c[0] = xasprintf("%s", R->machines[H->mach].host);
		c[1] = xasprintf("%s", H->backend);
		c[2] = xasprintf("%s", H->device);
		char tb[32];
		c[3] = xasprintf("%s", H->prefill_ns == H->prefill_ns ? fmt_time(H->prefill_ns, tb, sizeof tb) : "-");
		c[4] = H->decode_tok_s == H->decode_tok_s ? xasprintf("%.4g", H->decode_tok_s) : xasprintf("-");
		c[5] = H->peak_where_phase ? xasprintf("%.3g (%s, %s %lld)", H->peak_gflops, H->peak_where_phase,
		                                       strcmp(H->peak_where_phase, "decode") ? "seq_len" : "cache_len",
		                                       (long long)H->peak_where_x)
		                           : xasprintf("-");
		c[6] = H->exponent == H->exponent ? xasprintf("%.2f", H->exponent) : xasprintf("-");
		c[7] = xasprintf("%s", short_bytes(H->max_ws, ws, sizeof ws));
	}
	doc_table(d, 8, hdr, cells, R->nheads);
	free_cells(cells, R->nheads * 8);
}

/* An image with its caption. */
static void doc_picture(report *R, doc *d, const picture *p)
{
	doc_h(d, 3, p->title);
	if (!p->drawn) {
		doc_p(d, "%s", p->note ? p->note : "not drawn");
		return;
	}
	const char *ext = R->png ? "png" : "svg";
	fprintf(d->md, "![%s](%s.%s)\n\n", p->title, p->name, ext);
	fprintf(d->html, "<figure><a href=\"%s.%s\"><img src=\"%s.%s\" alt=\"", p->name, R->svg ? "svg" : "png",
	        p->name, ext);
	html_esc(d->html, p->title);
	fprintf(d->html, "\"></a></figure>\n");
	doc_p(d, "%s", p->caption ? p->caption : "");
	if (p->note)
		doc_p(d, "%s", p->note);
}

/* Open DIR/name.partial for writing. */
static FILE *open_partial(const report *R, const char *name)
{
	char *p = xasprintf("%s/%s.partial", R->out_dir, name);
	FILE *f = p ? fopen(p, "w") : NULL;
	if (!f)
		fail(1, "cannot write %s: %s", p ? p : name, strerror(errno));
	free(p);
	return f;
}

/* Close DIR/name.partial and rename it to DIR/name. */
static int commit_partial(const report *R, const char *name, FILE *f)
{
	char *p = xasprintf("%s/%s.partial", R->out_dir, name), *q = xasprintf("%s/%s", R->out_dir, name);
	int rc = 0;
	if (fclose(f) != 0 || !p || !q || rename(p, q) != 0) {
		rc = fail(1, "cannot write %s: %s", q ? q : name, strerror(errno));
		if (p)
			remove(p);
	}
	free(p);
	free(q);
	return rc;
}

/* report.md then index.html (last: its presence means a complete report). */
static int write_docs(report *R)
{
	doc d = {open_partial(R, "report.md"), open_partial(R, "index.html")};
	if (!d.md || !d.html) {
		if (d.md)
			fclose(d.md);
		if (d.html)
			fclose(d.html);
		return 1;
	}
	fprintf(d.html,
	        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	        "<title>attnbench report</title>\n<style>\n"
	        "body { font-family: sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em; "
	        "line-height: 1.45; color: #222; }\n"
	        "table { border-collapse: collapse; margin: 1em 0; font-size: 0.92em; }\n"
	        "th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }\n"
	        "th { background: #f3f3f3; }\n"
	        "figure { margin: 1em 0; }\n"
	        "img { max-width: 100%%; height: auto; border: 1px solid #ddd; }\n"
	        "</style>\n</head>\n<body>\n");
	fprintf(d.md, "# attnbench report\n\n");
	fprintf(d.html, "<h1>attnbench report</h1>\n");
	doc_p(&d,
	      "Written by `attnbench report` from %d run%s on %d machine%s. Each picture has its gnuplot script "
	      "(NAME.gp) and data (NAME.dat) beside it: edit and re-draw with `gnuplot NAME.gp` in this directory. "
	      "fits.csv has the fitted exponents and BigO coefficients.",
	      R->nruns, R->nruns == 1 ? "" : "s", R->nmach, R->nmach == 1 ? "" : "s");
	doc_h(&d, 2, "Machines");
	doc_machines(R, &d);
	doc_h(&d, 2, "Headline figures");
	doc_p(&d, "Per machine and backend: prefill time at the largest seq_len every backend measured, decode tokens "
	          "per second (batch / step time) at the largest cache_len every backend measured, the highest GFLOP/s "
	          "of any point, the fitted prefill exponent (cost plot), and the largest workspace of any point.");
	doc_headlines(R, &d);
	doc_h(&d, 2, "Inputs");
	doc_inputs(R, &d);
	if (R->nmach > 1) {
		doc_h(&d, 2, "Missing points");
		if (R->nmissing) {
			doc_p(
			    &d,
			    "%d point%s measured on some machines but not on others; the pictures show them where they "
			    "exist.",
			    R->nmissing, R->nmissing == 1 ? " is" : "s are");
			doc_list(&d, R->missing);
		} else {
			doc_p(&d, "Every point was measured on every machine.");
		}
	}
	doc_h(&d, 2, "Pictures");
	for (int i = 0; i < R->npics; i++) {
		doc_picture(R, &d, &R->pics[i]);
		if (!strcmp(R->pics[i].name, "split") && R->pics[i].drawn && R->split_table) {
			fprintf(d.md, "%s\n", R->split_table);
			/* the same table in HTML, from the markdown rows */
			fprintf(d.html, "<table>\n");
			int row = 0;
			for (const char *p = R->split_table; *p; row++) {
				const char *e = strchr(p, '\n');
				const size_t n = e ? (size_t)(e - p) : strlen(p);
				if (row != 1) {
					fprintf(d.html, "<tr>");
					const char *c = p + 1;
					while (c < p + n) {
						const char *bar = memchr(c, '|', (size_t)(p + n - c));
						if (!bar)
							break;
						char *cell = xasprintf("%.*s", (int)(bar - c), c);
						fprintf(d.html, row ? "<td>" : "<th>");
						if (cell) {
							char *s = cell;
							while (*s == ' ')
								s++;
							for (size_t k = strlen(s); k > 0 && s[k - 1] == ' '; k--)
								s[k - 1] = 0;
							html_esc(d.html, s);
						}
						fprintf(d.html, row ? "</td>" : "</th>");
						free(cell);
						c = bar + 1;
					}
					fprintf(d.html, "</tr>\n");
				}
				p += n + (e != NULL);
			}
			fprintf(d.html, "</table>\n");
		}
	}
	fprintf(d.html, "</body>\n</html>\n");
	if (commit_partial(R, "report.md", d.md)) {
		fclose(d.html);
		return 1;
	}
	return commit_partial(R, "index.html", d.html);
}

/* ---- the command -------------------------------------------------------------------------- */

/* Usage of the report command. */
static void report_usage(FILE *f)
{
	fputs("usage: attnbench report RUN_DIR... [--out DIR] [--format png|svg|both]\n"
	      "                        [--prompts L] [--gen L]\n"
	      "\n"
	      "  RUN_DIR          a sweep's output directory (results.csv, machine.json) or a results.csv;\n"
	      "                   several: shards of one grid and/or several machines\n"
	      "  --out DIR        where the report goes (default: the first RUN_DIR)\n"
	      "  --format F       png, svg or both (default both)\n"
	      "  --prompts L      prompt lengths of the request scenarios (default 512,2048,8192)\n"
	      "  --gen L          generated tokens of the request scenarios (default 128,512)\n"
	      "\n"
	      "Writes NAME.gp, NAME.dat and NAME.png/.svg per picture, fits.csv, report.md and\n"
	      "index.html (last). Needs gnuplot. Exit codes: 0 done, 1 gnuplot or writing failed,\n"
	      "2 usage or input error.\n",
	      f);
}

/* Usage error: message, usage, exit code 2. */
static int report_usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "attnbench report: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n\n");
	report_usage(stderr);
	return EXIT_INPUT;
}

/* Parse a list of positive token counts (--prompts, --gen). */
static int parse_counts(const char *s, int64_t *out, int *n)
{
	const int k = parse_i64_list(s, out, MAX_SCEN);
	if (k < 1)
		return -1;
	for (int i = 0; i < k; i++)
		if (out[i] < 1 || out[i] > 10000000)
			return -1;
	*n = k;
	return 0;
}

/* Free everything the report holds. */
static void report_free(report *R)
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
	for (int i = 0; i < R->npics; i++) {
		free(R->pics[i].caption);
		free(R->pics[i].note);
	}
	free(R->rows);
	free(R->split_table);
	free(R->missing);
}

/* Draw everything and write the documents. */
static int report_write(report *R)
{
	/* a report in progress has no index.html */
	char *idx = xasprintf("%s/index.html", R->out_dir);
	if (idx && remove(idx) != 0 && errno != ENOENT) {
		const int rc = fail(1, "cannot remove %s: %s", idx, strerror(errno));
		free(idx);
		return rc;
	}
	free(idx);
	selection S, D;
	if (select_lines(R, &cost_spec, &S))
		return fail(1, "out of memory");
	if (select_lines(R, &decode_spec, &D)) {
		sel_free(&S);
		return fail(1, "out of memory");
	}
	fit_lines(&S);
	fit_lines(&D);
	int rc = plot_cost(R, &S);
	if (!rc)
		rc = plot_split(R, &S, &D);
	if (!rc)
		rc = plot_decode(R, &D);
	if (!rc)
		rc = plot_memory(R);
	if (!rc)
		rc = plot_throughput(R);
	if (!rc)
		rc = plot_heads(R);
	if (!rc) {
		headlines(R, &S, &D);
		find_missing(R);
		FILE *f = open_partial(R, "fits.csv");
		rc = f ? 0 : 1;
		if (f && write_fits(R, f)) {
			fclose(f);
			rc = fail(1, "cannot write fits.csv");
		} else if (f) {
			rc = commit_partial(R, "fits.csv", f);
		}
	}
	sel_free(&S);
	sel_free(&D);
	if (!rc)
		rc = write_docs(R);
	return rc;
}

/* The command: options, load and validate every run, merge, write. */
int cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"out", required_argument, 0, 'o'},     {"format", required_argument, 0, 'f'},
	    {"prompts", required_argument, 0, 'p'}, {"gen", required_argument, 0, 'g'},
	    {"help", no_argument, 0, 'h'},          {0, 0, 0, 0},
	};
	report *R = calloc(1, sizeof *R);
	if (!R)
		return fail(1, "out of memory");
	R->png = R->svg = 1;
	const int64_t dp[] = {512, 2048, 8192}, dg[] = {128, 512};
	memcpy(R->prompts, dp, sizeof dp);
	memcpy(R->gen, dg, sizeof dg);
	R->nprompts = 3;
	R->ngen = 2;
	opterr = 0;
	optind = 1;
	int opt, rc = EXIT_PASS;
	while (rc == EXIT_PASS && (opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			report_usage(stdout);
			free(R);
			return EXIT_PASS;
		case 'o':
			R->out_dir = optarg;
			break;
		case 'f':
			if (!strcmp(optarg, "png") || !strcmp(optarg, "svg") || !strcmp(optarg, "both")) {
				R->png = strcmp(optarg, "svg") != 0;
				R->svg = strcmp(optarg, "png") != 0;
			} else {
				rc = report_usage_error("--format: '%s' is not png, svg or both", optarg);
			}
			break;
		case 'p':
			if (parse_counts(optarg, R->prompts, &R->nprompts))
				rc = report_usage_error("--prompts: '%s' is not a list of token counts (1..10000000)",
				                        optarg);
			break;
		case 'g':
			if (parse_counts(optarg, R->gen, &R->ngen))
				rc = report_usage_error("--gen: '%s' is not a list of token counts (1..10000000)",
				                        optarg);
			break;
		default:
			if (optopt)
				rc = report_usage_error("option '%s' needs a value", argv[optind - 1]);
			else
				rc = report_usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (rc == EXIT_PASS && optind >= argc)
		rc = report_usage_error("report needs at least one RUN_DIR%s", "");
	if (rc == EXIT_PASS && argc - optind > MAX_RUNS)
		rc = report_usage_error("at most 64 RUN_DIRs (got more)%s", "");
	attn_err e = {{0}};
	for (int i = optind; rc == EXIT_PASS && i < argc; i++) {
		R->runs[R->nruns].arg = argv[i];
		R->nruns++;
		if (load_run(R, R->nruns - 1, &e))
			rc = fail(EXIT_INPUT, "%s", e.msg);
	}
	if (rc == EXIT_PASS && R->nrows == 0)
		rc = fail(EXIT_INPUT, "%s: no rows with status ok: nothing to plot", R->runs[0].csv);
	if (rc == EXIT_PASS) {
		assign_machines(R);
		if (merge_rows(R))
			rc = fail(1, "out of memory");
	}
	if (rc == EXIT_PASS && !R->out_dir)
		R->out_dir = R->runs[0].dir;
	if (rc == EXIT_PASS && mkdir_p(R->out_dir) != 0)
		rc = fail(EXIT_INPUT, "--out %s: cannot create the directory: %s", R->out_dir, strerror(errno));
	if (rc == EXIT_PASS)
		rc = report_write(R);
	if (rc == EXIT_PASS) {
		int drawn = 0;
		for (int i = 0; i < R->npics; i++)
			drawn += R->pics[i].drawn;
		printf("report: %d picture%s, fits.csv, report.md; open %s/index.html\n", drawn, drawn == 1 ? "" : "s",
		       R->out_dir);
	}
	report_free(R);
	free(R);
	return rc;
}
