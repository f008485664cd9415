/* results.c - see results.h. Rows go through libcsv's writer and reader
 * (table.c); cols[] below is the one list of the columns, their types and
 * their rules. */
#include "model/results.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "attn_quant.h"

/* ---- the columns ------------------------------------------------------------ */

/* How a cell is parsed, and into which type of results_rec field. */
enum ckind {
	CK_TEXT,   /* const char * into the table */
	CK_PHASE,  /* enum phase */
	CK_DTYPE,  /* attn_dtype */
	CK_STATUS, /* results_status, status_text, reason */
	CK_INT,    /* int64_t in lo..hi; -1 where empty */
	CK_NUM,    /* double >= 0; NAN where empty */
	CK_NS,     /* a time in ns: a CK_NUM of at most MAX_NS */
	CK_TIMING, /* results_timing */
	CK_TIMES,  /* rep_times_ns, nrep_times */
	CK_KVDT,   /* int64_t: an attn_dtype of attn_quant.h's names; -1 where empty */
	CK_LENS,   /* int64_t: a lens_parse code; -1 where empty */
	CK_CSTATE  /* int64_t: a cache_state, cold or hot; -1 where empty */
};

/* When a cell may not be empty. */
enum { REQ_NEVER, REQ_ALWAYS, REQ_OK, REQ_OK_POSITIVE };

typedef struct colspec {
	const char *name;
	enum ckind kind;
	size_t off; /* of the field in results_rec */
	int req;
	int64_t lo, hi; /* CK_INT */
} colspec;

/* The largest time a row may state, in ns (about 31.7 years): a figure
 * beyond it is no measurement, and would leave the pictures' axes empty. */
#define MAX_NS                                 1e18
#define BIG                                    ((int64_t)1 << 40)
#define ANY                                    INT64_MAX
#define COL(c, name, kind, field, req, lo, hi) [c] = {name, kind, offsetof(results_rec, field), req, lo, hi}
static const colspec cols[RC_NCOLS] = {
    COL(RC_BACKEND, "backend", CK_TEXT, backend, REQ_ALWAYS, 0, 0),
    COL(RC_DEVICE, "device", CK_TEXT, device, REQ_NEVER, 0, 0),
    COL(RC_PHASE, "phase", CK_PHASE, phase, REQ_ALWAYS, 0, 0),
    COL(RC_BATCH, "batch", CK_INT, batch, REQ_ALWAYS, 1, 1 << 20),
    COL(RC_N_HEADS, "n_heads", CK_INT, n_heads, REQ_ALWAYS, 1, 1 << 20),
    COL(RC_N_KV_HEADS, "n_kv_heads", CK_INT, n_kv_heads, REQ_ALWAYS, 1, 1 << 20),
    COL(RC_HEAD_DIM, "head_dim", CK_INT, head_dim, REQ_ALWAYS, 1, 1 << 16),
    COL(RC_SEQ_LEN, "seq_len", CK_INT, seq_len, REQ_ALWAYS, 1, BIG),
    COL(RC_CACHE_LEN, "cache_len", CK_INT, cache_len, REQ_ALWAYS, 1, BIG),
    COL(RC_CAUSAL, "causal", CK_INT, causal, REQ_ALWAYS, 0, 1),
    COL(RC_DTYPE, "dtype", CK_DTYPE, dtype, REQ_ALWAYS, 0, 0),
    COL(RC_TIME_NS, "time_ns", CK_NS, time_ns, REQ_OK_POSITIVE, 0, 0),
    COL(RC_TIME_NS_MIN, "time_ns_min", CK_NS, time_ns_min, REQ_OK, 0, 0),
    COL(RC_TIME_NS_MAX, "time_ns_max", CK_NS, time_ns_max, REQ_OK, 0, 0),
    COL(RC_REPS, "reps", CK_INT, reps, REQ_OK, 0, ANY),
    COL(RC_GFLOPS, "gflops", CK_NUM, gflops, REQ_OK, 0, 0),
    COL(RC_GBYTES_S, "gbytes_s", CK_NUM, gbytes_s, REQ_OK, 0, 0),
    COL(RC_KV_CACHE_BYTES, "kv_cache_bytes", CK_INT, kv_cache_bytes, REQ_OK, 0, ANY),
    COL(RC_WORKSPACE_BYTES, "workspace_bytes", CK_INT, workspace_bytes, REQ_OK, 0, ANY),
    COL(RC_STATUS, "status", CK_STATUS, status, REQ_ALWAYS, 0, 0),
    COL(RC_GPU_TIME_NS, "gpu_time_ns", CK_NS, gpu_time_ns, REQ_NEVER, 0, 0),
    COL(RC_TIMING, "timing", CK_TIMING, timing, REQ_NEVER, 0, 0),
    COL(RC_ITERATIONS, "iterations", CK_INT, iterations, REQ_NEVER, 0, ANY),
    COL(RC_THREADS, "threads", CK_INT, threads, REQ_NEVER, 0, ANY),
    COL(RC_PEAK_DEVICE_BYTES, "peak_device_bytes", CK_INT, peak_device_bytes, REQ_NEVER, 0, ANY),
    COL(RC_FLOPS, "flops", CK_NUM, flops, REQ_NEVER, 0, 0),
    COL(RC_BYTES, "bytes", CK_NUM, bytes, REQ_NEVER, 0, 0),
    COL(RC_REP_TIMES_NS, "rep_times_ns", CK_TIMES, rep_times_ns, REQ_NEVER, 0, 0),
    COL(RC_PCT_PEAK_FLOPS, "pct_peak_flops", CK_NUM, pct_peak_flops, REQ_NEVER, 0, 0),
    COL(RC_PCT_PEAK_BW, "pct_peak_bw", CK_NUM, pct_peak_bw, REQ_NEVER, 0, 0),
    COL(RC_WINDOW, "window", CK_INT, window, REQ_NEVER, 0, BIG),
    COL(RC_SOFTCAP, "softcap", CK_NUM, softcap, REQ_NEVER, 0, 0),
    COL(RC_ALIBI, "alibi", CK_INT, alibi, REQ_NEVER, 0, 1),
    COL(RC_SINKS, "sinks", CK_INT, sinks, REQ_NEVER, 0, 1),
    COL(RC_HEAD_DIM_V, "head_dim_v", CK_INT, head_dim_v, REQ_NEVER, 0, 1 << 16),
    COL(RC_KV_DTYPE, "kv_dtype", CK_KVDT, kv_dtype, REQ_NEVER, 0, 0),
    COL(RC_PAGE_SIZE, "page_size", CK_INT, page_size, REQ_NEVER, 0, BIG),
    COL(RC_LENS, "lens", CK_LENS, lens, REQ_NEVER, 0, 0),
    COL(RC_CACHE_STATE, "cache_state", CK_CSTATE, cache_state, REQ_NEVER, 0, 0),
    COL(RC_CV, "cv", CK_NUM, cv, REQ_NEVER, 0, 0),
    COL(RC_EVICT_GBS, "evict_gbs", CK_NUM, evict_gbs, REQ_NEVER, 0, 0),
    COL(RC_REPRO, "repro", CK_TEXT, repro, REQ_NEVER, 0, 0),
};
#undef COL

const char *phase_name(enum phase p)
{
	return p == PHASE_PREFILL ? "prefill" : p == PHASE_DECODE ? "decode" : "attend";
}

const char *dtype_name(attn_dtype t)
{
	return t == ATTN_F32 ? "f32" : t == ATTN_F16 ? "f16" : "bf16";
}

/* ---- writing ------------------------------------------------------------------ */

int results_write_header(FILE *f)
{
	const char *names[RC_NCOLS];
	for (int c = 0; c < RC_NCOLS; c++)
		names[c] = cols[c].name;
	return table_write_row(f, names, RC_NCOLS);
}

/* s as one shell word: as it is when it needs no quoting, else in single
 * quotes. */
static int shell_word(char *buf, size_t len, const char *s)
{
	const int plain =
	    *s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./,:=+@%") == strlen(s);
	if (plain)
		return snprintf(buf, len, "%s", s);
	size_t n = 0;
	const size_t cap = len ? len - 1 : 0;
#define PUT(c) (n < cap ? (buf[n] = (c)) : 0, n++)
	PUT('\'');
	for (; *s; s++) {
		if (*s == '\'') {
			PUT('\'');
			PUT('\\');
			PUT('\'');
		}
		PUT(*s);
	}
	PUT('\'');
#undef PUT
	if (len)
		buf[n < cap ? n : cap] = 0;
	return (int)n;
}

/* The flags of p's variants, KV storage, paging and lengths that are on,
 * each as " --flag VALUE" (what repro and messages add to the shape). */
static void point_variant_flags(const sweep_point *p, char *buf, size_t len)
{
	const attn_shape *s = &p->shape;
	char v[9][48];
	snprintf(v[0], sizeof v[0], "%s", attn_kv_dtype_name(attn_kv_dtype(s)));
	snprintf(v[1], sizeof v[1], "%lld", (long long)attn_head_dim_v(s));
	snprintf(v[2], sizeof v[2], "%lld", (long long)s->window);
	snprintf(v[3], sizeof v[3], "%.9g", (double)s->softcap);
	snprintf(v[4], sizeof v[4], "1");
	snprintf(v[5], sizeof v[5], "1");
	snprintf(v[6], sizeof v[6], "%lld", (long long)p->page_size);
	lens_format(p->lens, v[7], sizeof v[7]);
	snprintf(v[8], sizeof v[8], "%s", cache_state_name(point_cache_state(p)));
	static const char *const flag[9] = {"kv-dtype", "head-dim-v", "window", "softcap",    "alibi",
	                                    "sinks",    "page-size",  "lens",   "cache-state"};
	const int on[9] = {attn_kv_dtype(s) != s->dtype,
	                   attn_head_dim_v(s) != s->head_dim,
	                   s->window > 0,
	                   s->softcap > 0,
	                   p->alibi,
	                   p->sinks,
	                   p->page_size > 0,
	                   p->lens != 0,
	                   point_cache_state(p) != cache_state_default(p->phase)};
	size_t n = 0;
	buf[0] = 0;
	for (int i = 0; i < 9; i++)
		if (on[i] && n < len)
			n += (size_t)snprintf(buf + n, len - n, " --%s %s", flag[i], v[i]);
}

void results_variant_text(const results_rec *r, char *buf, size_t len)
{
	sweep_point p;
	results_rec_point(r, &p);
	point_variant_flags(&p, buf, len);
}

int results_repro(char *buf, size_t len, const char *backend, const sweep_point *p, int repetitions, double min_time,
                  int threads)
{
	const attn_shape *s = &p->shape;
	char be[400];
	shell_word(be, sizeof be, backend);
	int n = snprintf(
	    buf, len,
	    "attnbench sweep --backend %s --phases %s --batch %lld --heads %lld --gqa %lld --head-dim %lld "
	    "--%s %lld --causal %d --dtype %s",
	    be, phase_name(p->phase), (long long)s->batch, (long long)s->n_heads,
	    (long long)(s->n_heads / (s->n_kv_heads > 0 ? s->n_kv_heads : 1)), (long long)s->head_dim,
	    p->phase == PHASE_DECODE ? "cache" : "seq",
	    (long long)(p->phase == PHASE_DECODE ? p->cache_len : p->seq_len), s->causal, dtype_name(s->dtype));
	/* the variants, where a point has them */
	char extra[160];
	point_variant_flags(p, extra, sizeof extra);
	const size_t at0 = n > 0 && (size_t)n < len ? (size_t)n : len;
	n += snprintf(buf + at0, len - at0, "%s", extra);
	const size_t at = n > 0 && (size_t)n < len ? (size_t)n : len;
	if (repetitions > 0)
		n += snprintf(buf + at, len - at, " --repetitions %d", repetitions);
	const size_t at2 = n > 0 && (size_t)n < len ? (size_t)n : len;
	if (min_time > 0)
		n += snprintf(buf + at2, len - at2, " --min-time %g", min_time);
	const size_t at3 = n > 0 && (size_t)n < len ? (size_t)n : len;
	if (threads > 0)
		n += snprintf(buf + at3, len - at3, " --threads %d", threads);
	return n;
}

/* The status cell's text before the reason, by status: the writer and the
 * reader's one definition of the cell. */
static const char *const status_prefix[] = {
    [RESULT_OK] = "ok", [RESULT_SKIPPED] = "skipped: ", [RESULT_ERROR] = "error: "};

int results_write_row(FILE *f, const result_row *r)
{
	char buf[RC_NCOLS][64];
	const char *fields[RC_NCOLS];
	const attn_shape *s = &r->pt->shape;
	const sweep_point *p = r->pt;
	for (int i = 0; i < RC_NCOLS; i++) {
		buf[i][0] = 0;
		fields[i] = buf[i];
	}
	fields[RC_BACKEND] = r->backend;
	fields[RC_DEVICE] = r->device;
	fields[RC_PHASE] = phase_name(p->phase);
	snprintf(buf[RC_BATCH], 64, "%lld", (long long)s->batch);
	snprintf(buf[RC_N_HEADS], 64, "%lld", (long long)s->n_heads);
	snprintf(buf[RC_N_KV_HEADS], 64, "%lld", (long long)s->n_kv_heads);
	snprintf(buf[RC_HEAD_DIM], 64, "%lld", (long long)s->head_dim);
	snprintf(buf[RC_SEQ_LEN], 64, "%lld", (long long)p->seq_len);
	snprintf(buf[RC_CACHE_LEN], 64, "%lld", (long long)p->cache_len);
	snprintf(buf[RC_CAUSAL], 64, "%d", s->causal);
	fields[RC_DTYPE] = dtype_name(s->dtype);
	const double flops = point_flops(p), bytes = point_bytes(p);
	if (r->measured) {
		snprintf(buf[RC_TIME_NS], 64, "%.1f", r->time_ns);
		snprintf(buf[RC_TIME_NS_MIN], 64, "%.1f", r->time_ns_min);
		snprintf(buf[RC_TIME_NS_MAX], 64, "%.1f", r->time_ns_max);
		snprintf(buf[RC_REPS], 64, "%d", r->reps);
		snprintf(buf[RC_GFLOPS], 64, "%.4f", flops / r->time_ns);
		snprintf(buf[RC_GBYTES_S], 64, "%.4f", bytes / r->time_ns);
		if (r->gpu_time_ns > 0)
			snprintf(buf[RC_GPU_TIME_NS], 64, "%.1f", r->gpu_time_ns);
		snprintf(buf[RC_ITERATIONS], 64, "%lld", (long long)r->iterations);
		/* the machine's own peaks: the bandwidth the measured curve
		 * reached at this call's working set (Q, K, V and O), or from
		 * DRAM for a cold call */
		const roofline *rf = r->roof;
		const double bw = rf ? roofline_bw_for(rf, (uint64_t)bytes, point_cache_state(p) == CACHE_COLD) : 0;
		if (rf && roofline_flops_ceiling(rf) > 0)
			snprintf(buf[RC_PCT_PEAK_FLOPS], 64, "%.2f",
			         100.0 * (flops / r->time_ns) / roofline_flops_ceiling(rf));
		if (bw > 0)
			snprintf(buf[RC_PCT_PEAK_BW], 64, "%.2f", 100.0 * (bytes / r->time_ns) / bw);
	}
	snprintf(buf[RC_WINDOW], 64, "%lld", (long long)s->window);
	snprintf(buf[RC_SOFTCAP], 64, "%.9g", (double)s->softcap);
	snprintf(buf[RC_ALIBI], 64, "%d", p->alibi);
	snprintf(buf[RC_SINKS], 64, "%d", p->sinks);
	snprintf(buf[RC_HEAD_DIM_V], 64, "%lld", (long long)attn_head_dim_v(s));
	fields[RC_KV_DTYPE] = attn_kv_dtype_name(attn_kv_dtype(s));
	snprintf(buf[RC_PAGE_SIZE], 64, "%lld", (long long)p->page_size);
	lens_format(p->lens, buf[RC_LENS], 64);
	fields[RC_CACHE_STATE] = cache_state_name(point_cache_state(p));
	const double cv = r->measured && r->rep_ns ? results_cv(r->rep_ns, r->reps) : NAN;
	if (!isnan(cv))
		snprintf(buf[RC_CV], 64, "%.4f", cv);
	if (r->measured && r->evict_gbs > 0)
		snprintf(buf[RC_EVICT_GBS], 64, "%.2f", r->evict_gbs);
	snprintf(buf[RC_KV_CACHE_BYTES], 64, "%llu", (unsigned long long)point_kv_bytes(p));
	snprintf(buf[RC_WORKSPACE_BYTES], 64, "%llu", (unsigned long long)r->workspace_bytes);
	char status[600];
	if (r->status == RESULT_OK)
		snprintf(status, sizeof status, "%s", status_prefix[RESULT_OK]);
	else
		snprintf(status, sizeof status, "%s%s", status_prefix[r->status], r->reason ? r->reason : "");
	fields[RC_STATUS] = status;
	char repro[6000];
	size_t rl = (size_t)results_repro(repro, 1024, r->backend, p, r->repetitions, r->min_time, r->threads);
	if (rl > 1023)
		rl = 1023;
	const char *const extra[][2] = {{"--backend-lib", r->backend_lib},
	                                {"--param", r->params ? "" : NULL},
	                                {"--vk-timing", r->vk_gpu_timing ? "gpu" : NULL}};
	for (int i = 0; i < 3; i++) {
		if (!extra[i][1])
			continue;
		char param[600];
		if (i == 1) /* NAME:settings, as --param takes them */
			snprintf(param, sizeof param, "%s:%s", r->backend, r->params);
		rl += (size_t)snprintf(repro + rl, sizeof repro - rl, " %s ", extra[i][0]);
		if (rl < sizeof repro)
			rl += (size_t)shell_word(repro + rl, sizeof repro - rl, i == 1 ? param : extra[i][1]);
		if (rl >= sizeof repro)
			rl = sizeof repro - 1;
	}
	fields[RC_REPRO] = repro;
	fields[RC_TIMING] = r->timing ? r->timing : "wall";
	snprintf(buf[RC_THREADS], 64, "%d", r->threads);
	if (r->peak_device_bytes)
		snprintf(buf[RC_PEAK_DEVICE_BYTES], 64, "%llu", (unsigned long long)r->peak_device_bytes);
	snprintf(buf[RC_FLOPS], 64, "%.0f", flops);
	snprintf(buf[RC_BYTES], 64, "%.0f", bytes);
	char *reps = NULL;
	if (r->measured && r->rep_ns && r->reps > 0) {
		reps = malloc((size_t)r->reps * 24 + 1);
		if (reps) {
			size_t n = 0;
			for (int i = 0; i < r->reps; i++)
				n += (size_t)sprintf(reps + n, "%s%.1f", i ? " " : "", r->rep_ns[i]);
			fields[RC_REP_TIMES_NS] = reps;
		}
	}
	int rc = table_write_row(f, fields, RC_NCOLS);
	free(reps);
	return rc;
}

double results_cv(const double *t, int n)
{
	if (n < 2)
		return NAN;
	double sum = 0, ss = 0;
	for (int i = 0; i < n; i++)
		sum += t[i];
	const double mean = sum / n;
	for (int i = 0; i < n; i++)
		ss += (t[i] - mean) * (t[i] - mean);
	return mean > 0 ? sqrt(ss / (n - 1)) / mean : NAN;
}

/* ---- reading a cell -------------------------------------------------------------- */

/* Where a cell is: for messages. */
typedef struct cell_at {
	const char *path;
	int line;
	const colspec *col;
	attn_err *e;
} cell_at;

static int cell_fail(const cell_at *at, const char *val, const char *why)
{
	return attn_errf(at->e, "%s: line %d, column %s: '%.40s' %s", at->path, at->line, at->col->name, val, why);
}

static int parse_phase(const char *s, enum phase *p)
{
	static const enum phase all[] = {PHASE_PREFILL, PHASE_DECODE, PHASE_ATTEND};
	for (int i = 0; i < 3; i++)
		if (!strcmp(s, phase_name(all[i]))) {
			*p = all[i];
			return 1;
		}
	return 0;
}

static int parse_status(const char *s, results_rec *rec)
{
	rec->status_text = s;
	rec->reason = "";
	if (!strcmp(s, status_prefix[RESULT_OK])) {
		rec->status = RESULT_OK;
		return 1;
	}
	for (results_status st = RESULT_SKIPPED; st <= RESULT_ERROR; st++) {
		const size_t n = strlen(status_prefix[st]);
		if (!strncmp(s, status_prefix[st], n)) {
			rec->status = st;
			rec->reason = s + n;
			return 1;
		}
	}
	return 0;
}

/* rep_times_ns: blank-separated positive numbers into rec. */
static int parse_times(const cell_at *at, const char *cell, results_rec *rec)
{
	int cap = 0;
	for (const char *p = cell; *p;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		const char *q = p;
		while (*q && *q != ' ' && *q != '\t')
			q++;
		char tok[64];
		double v;
		const int len = (int)(q - p);
		if (len >= (int)sizeof tok)
			return attn_errf(at->e, "%s: line %d, column %s: '%.40s...' is not a number", at->path,
			                 at->line, at->col->name, p);
		memcpy(tok, p, (size_t)len);
		tok[len] = 0;
		if (!parse_f64(tok, &v) || !(v > 0))
			return cell_fail(at, tok, "is not a positive number");
		if (v > MAX_NS)
			return cell_fail(at, tok, "is beyond 1e18 ns (31 years): not a measured time");
		if (rec->nrep_times == cap) {
			cap = cap ? cap * 2 : 16;
			double *n = realloc(rec->rep_times_ns, (size_t)cap * sizeof *n);
			if (!n)
				return attn_errf(at->e, "%s: out of memory", at->path);
			rec->rep_times_ns = n;
		}
		rec->rep_times_ns[rec->nrep_times++] = v;
		p = q;
	}
	return 0;
}

/* The field of column c in rec: its type is cols[c].kind's. */
static void *rec_field(results_rec *rec, int c)
{
	return (char *)rec + cols[c].off;
}

/* Parse one non-empty cell into its field of rec. */
static int parse_cell(const cell_at *at, const char *cell, results_rec *rec)
{
	const colspec *c = at->col;
	void *field = rec_field(rec, (int)(c - cols));
	int64_t i;
	double d;
	switch (c->kind) {
	case CK_TEXT:
		*(const char **)field = cell;
		return 0;
	case CK_PHASE:
		return parse_phase(cell, field) ? 0 : cell_fail(at, cell, "is not prefill, decode or attend");
	case CK_DTYPE:
		return attn_dtype_parse(cell, field) ? 0 : cell_fail(at, cell, "is not f32, f16 or bf16");
	case CK_STATUS:
		return parse_status(cell, rec) ? 0 : cell_fail(at, cell, "is not ok, skipped: ... or error: ...");
	case CK_INT:
		if (parse_i64(cell, &i) && i >= c->lo && i <= c->hi) {
			*(int64_t *)field = i;
			return 0;
		}
		if (c->hi == ANY)
			return cell_fail(at, cell, "is not an integer >= 0");
		return attn_errf(at->e, "%s: line %d, column %s: '%.40s' is not an integer in %lld..%lld", at->path,
		                 at->line, c->name, cell, (long long)c->lo, (long long)c->hi);
	case CK_NUM:
	case CK_NS:
		if (!parse_f64(cell, &d))
			return cell_fail(at, cell, "is not a number");
		if (d < 0)
			return cell_fail(at, cell, "is negative");
		if (c->kind == CK_NS && d > MAX_NS)
			return cell_fail(at, cell, "is beyond 1e18 ns (31 years): not a measured time");
		*(double *)field = d;
		return 0;
	case CK_TIMING:
		if (strcmp(cell, "wall") && strcmp(cell, "gpu"))
			return cell_fail(at, cell, "is not wall or gpu");
		*(results_timing *)field = !strcmp(cell, "wall") ? TIMING_WALL : TIMING_GPU;
		return 0;
	case CK_TIMES:
		return parse_times(at, cell, rec);
	case CK_KVDT: {
		attn_dtype t;
		if (!attn_kv_dtype_parse(cell, &t))
			return cell_fail(at, cell, "is not f32, f16, bf16, q8_0, q4_0 or fp8_e4m3");
		*(int64_t *)field = t;
		return 0;
	}
	case CK_LENS:
		return lens_parse(cell, field) ? 0 : cell_fail(at, cell, "is not uniform:SEED or chat:SEED");
	case CK_CSTATE:
		if (strcmp(cell, cache_state_name(CACHE_COLD)) && strcmp(cell, cache_state_name(CACHE_HOT)))
			return cell_fail(at, cell, "is not cold or hot");
		*(int64_t *)field = !strcmp(cell, cache_state_name(CACHE_COLD)) ? CACHE_COLD : CACHE_HOT;
		return 0;
	}
	return 0;
}

/* ---- reading a row --------------------------------------------------------------- */

/* Every number absent, every text empty. */
static void rec_init(results_rec *rec, int line)
{
	memset(rec, 0, sizeof *rec);
	rec->line = line;
	rec->backend = rec->device = rec->status_text = rec->reason = rec->repro = "";
	for (int c = 0; c < RC_NCOLS; c++) {
		void *field = rec_field(rec, c);
		if (cols[c].kind == CK_INT || cols[c].kind == CK_KVDT || cols[c].kind == CK_LENS ||
		    cols[c].kind == CK_CSTATE)
			*(int64_t *)field = -1;
		else if (cols[c].kind == CK_NUM || cols[c].kind == CK_NS)
			*(double *)field = NAN;
	}
}

/* Row r of rf's table into rf->rows[r]; col[c] is c's index in the table
 * or -1. The status first: the rules of the timing columns depend on it. */
static int read_row(const char *path, results_file *rf, const int *col, int r, attn_err *e)
{
	results_rec *rec = &rf->rows[r];
	char *const *cells = rf->t.rows[r];
	rec_init(rec, r + 2);
	cell_at at = {path, r + 2, &cols[RC_STATUS], e};
	if (parse_cell(&at, cells[col[RC_STATUS]], rec))
		return EXIT_INPUT;
	for (int c = 0; c < RC_NCOLS; c++) {
		if (c == RC_STATUS || col[c] < 0)
			continue;
		const char *cell = cells[col[c]];
		const int req = cols[c].req;
		at.col = &cols[c];
		if (!cell[0] && (req == REQ_ALWAYS || (req >= REQ_OK && rec->status == RESULT_OK)))
			return attn_errf(e, "%s: line %d, column %s: empty%s", path, at.line, cols[c].name,
			                 req == REQ_ALWAYS ? "" : " (status ok)");
		if (cell[0] && parse_cell(&at, cell, rec))
			return EXIT_INPUT;
		if (req == REQ_OK_POSITIVE && rec->status == RESULT_OK) {
			const double *num = rec_field(rec, c); /* a CK_NUM column */
			if (!(*num > 0))
				return cell_fail(&at, cell, "must be positive (status ok)");
		}
	}
	return 0;
}

/* ---- the same point --------------------------------------------------------------- */

static int i64_cmp(int64_t a, int64_t b)
{
	return (a > b) - (a < b);
}

int results_point_cmp(const results_rec *a, const results_rec *b)
{
	int c = strcmp(a->backend, b->backend);
	if (!c)
		c = strcmp(phase_name(a->phase), phase_name(b->phase));
	const int64_t ka[] = {a->batch, a->n_heads, a->n_kv_heads, a->head_dim, a->seq_len, a->cache_len, a->causal};
	const int64_t kb[] = {b->batch, b->n_heads, b->n_kv_heads, b->head_dim, b->seq_len, b->cache_len, b->causal};
	for (int i = 0; !c && i < 7; i++)
		c = i64_cmp(ka[i], kb[i]);
	if (!c)
		c = strcmp(dtype_name(a->dtype), dtype_name(b->dtype));
	if (c)
		return c;
	sweep_point pa, pb;
	results_rec_point(a, &pa);
	results_rec_point(b, &pb);
	const attn_shape *x = &pa.shape, *y = &pb.shape;
	c = strcmp(attn_kv_dtype_name(attn_kv_dtype(x)), attn_kv_dtype_name(attn_kv_dtype(y)));
	const int64_t va[] = {attn_head_dim_v(x), x->window, pa.alibi, pa.sinks, pa.page_size, pa.lens};
	const int64_t vb[] = {attn_head_dim_v(y), y->window, pb.alibi, pb.sinks, pb.page_size, pb.lens};
	for (int i = 0; !c && i < 6; i++)
		c = i64_cmp(va[i], vb[i]);
	if (!c)
		c = (x->softcap > y->softcap) - (x->softcap < y->softcap);
	if (!c)
		c = (int)point_cache_state(&pa) - (int)point_cache_state(&pb);
	return c;
}

void results_rec_point(const results_rec *r, sweep_point *p)
{
	memset(p, 0, sizeof *p);
	attn_shape *s = &p->shape;
	p->phase = r->phase;
	s->batch = r->batch;
	s->n_heads = r->n_heads;
	s->n_kv_heads = r->n_kv_heads;
	s->head_dim = r->head_dim;
	p->seq_len = r->seq_len;
	p->cache_len = r->cache_len;
	s->n_q = r->phase == PHASE_DECODE ? 1 : r->seq_len;
	s->n_kv = r->cache_len;
	s->causal = (int)r->causal;
	s->dtype = r->dtype;
	s->kv_storage = r->kv_dtype >= 0 && r->kv_dtype != (int64_t)r->dtype ? ATTN_KV(r->kv_dtype) : 0;
	s->head_dim_v = r->head_dim_v > 0 && r->head_dim_v != r->head_dim ? r->head_dim_v : 0;
	s->window = r->window > 0 ? r->window : 0;
	s->softcap = r->softcap > 0 ? (float)r->softcap : 0;
	p->alibi = r->alibi > 0;
	p->sinks = r->sinks > 0;
	p->page_size = r->page_size > 0 ? r->page_size : 0;
	p->lens = r->lens > 0 ? r->lens : 0;
	p->cache_state = r->cache_state > 0 ? (int)r->cache_state : 0;
}

void results_rec_key(results_rec *k, const char *backend, const sweep_point *p)
{
	const attn_shape *s = &p->shape;
	rec_init(k, 0);
	k->backend = backend;
	k->phase = p->phase;
	k->batch = s->batch;
	k->n_heads = s->n_heads;
	k->n_kv_heads = s->n_kv_heads;
	k->head_dim = s->head_dim;
	k->seq_len = p->seq_len;
	k->cache_len = p->cache_len;
	k->causal = s->causal;
	k->dtype = s->dtype;
	k->kv_dtype = attn_kv_dtype(s);
	k->head_dim_v = attn_head_dim_v(s);
	k->window = s->window;
	k->softcap = s->softcap;
	k->alibi = p->alibi;
	k->sinks = p->sinks;
	k->page_size = p->page_size;
	k->lens = p->lens;
	k->cache_state = point_cache_state(p);
}

int results_rec_is(const results_rec *r, const char *backend, const sweep_point *p)
{
	results_rec k;
	results_rec_key(&k, backend, p);
	return results_point_cmp(r, &k) == 0;
}

/* qsort order of record pointers: point, then line. */
static int rec_ptr_cmp(const void *x, const void *y)
{
	const results_rec *a = *(const results_rec *const *)x, *b = *(const results_rec *const *)y;
	const int c = results_point_cmp(a, b);
	return c ? c : a->line - b->line;
}

/* A run holds each point once: the first repeated point (by its second
 * line) is an error naming both lines. */
static int check_unique(const char *path, const results_file *rf, attn_err *e)
{
	if (rf->nrows < 2)
		return 0;
	const results_rec **by = malloc((size_t)rf->nrows * sizeof *by);
	if (!by)
		return attn_errf(e, "%s: out of memory", path);
	for (int i = 0; i < rf->nrows; i++)
		by[i] = &rf->rows[i];
	qsort(by, (size_t)rf->nrows, sizeof *by, rec_ptr_cmp);
	const results_rec *first = NULL, *again = NULL;
	for (int i = 1; i < rf->nrows; i++)
		if (!results_point_cmp(by[i - 1], by[i]) && (!again || by[i]->line < again->line)) {
			first = by[i - 1];
			again = by[i];
		}
	free(by);
	if (!again)
		return 0;
	char variant[160];
	results_variant_text(again, variant, sizeof variant);
	return attn_errf(e,
	                 "%s: lines %d and %d: the same point twice (backend %.40s, %s, batch %lld, heads %lld/%lld, "
	                 "head_dim %lld, seq_len %lld, cache_len %lld, causal %lld, %s%s)",
	                 path, first->line, again->line, again->backend, phase_name(again->phase),
	                 (long long)again->batch, (long long)again->n_heads, (long long)again->n_kv_heads,
	                 (long long)again->head_dim, (long long)again->seq_len, (long long)again->cache_len,
	                 (long long)again->causal, dtype_name(again->dtype), variant);
}

/* ---- reading the file --------------------------------------------------------------- */

int results_read(const char *path, uint64_t need, results_file *rf, attn_err *e)
{
	memset(rf, 0, sizeof *rf);
	if (table_read(path, &rf->t, e))
		return EXIT_INPUT;
	const table *t = &rf->t;
	int col[RC_NCOLS];
	need |= RESULTS_NEED_KEY;
	rf->same_columns = t->ncols == RC_NCOLS;
	for (int c = 0; c < RC_NCOLS; c++) {
		col[c] = table_col(t, cols[c].name);
		rf->same_columns &= col[c] == c;
		if (col[c] < 0 && (need & RESULTS_COL(c))) {
			attn_errf(e,
			          "%s: line 1, column %s: missing (no column of that name; a results.csv of attnbench "
			          "sweep has it)",
			          path, cols[c].name);
			results_file_free(rf);
			return EXIT_INPUT;
		}
	}
	rf->rows = calloc(t->nrows ? (size_t)t->nrows : 1, sizeof *rf->rows);
	if (!rf->rows) {
		results_file_free(rf);
		return attn_errf(e, "%s: out of memory", path);
	}
	int rc = 0;
	for (int r = 0; r < t->nrows && !rc; r++) {
		rc = read_row(path, rf, col, r, e);
		rf->nrows = r + 1;
	}
	if (!rc)
		rc = check_unique(path, rf, e);
	if (rc) {
		results_file_free(rf);
		return EXIT_INPUT;
	}
	return 0;
}

void results_file_free(results_file *rf)
{
	for (int r = 0; r < rf->nrows; r++)
		free(rf->rows[r].rep_times_ns);
	free(rf->rows);
	rf->rows = NULL;
	rf->nrows = 0;
	table_free(&rf->t);
}

void results_marker_path(const char *csv_path, char *buf, size_t len)
{
	const char *slash = strrchr(csv_path, '/');
	snprintf(buf, len, "%.*sresults.incomplete", slash ? (int)(slash - csv_path + 1) : 0, csv_path);
}
