/* check.c - the golden check. For every case of the manifest and every selected
 * backend: stateless attend, and, where the case is a KV-cache situation
 * (causal, or a single query), the cache path too: the first n_kv - n_q
 * tokens are loaded with cache_append, then the last n_q go through prefill
 * (or decode when n_q == 1). Both results must match the float64 reference.
 *
 * NaN and Inf: a case whose files hold any is run all the same, with a
 * warning on stderr (and in the JUnit file). The comparison is NaN-aware
 * (compare_outputs, check.h): an expected NaN must come out NaN, an expected
 * infinity the same infinity, and a finite reference keeps the contract's
 * atol + rtol * |out| rule with a finite result.
 *
 * f16 and bf16 cases: the inputs are read as f32 (or f16, from <f2 files),
 * rounded to the case's dtype (to nearest, ties to even) and handed to the
 * backends in that storage type. The tolerance follows FlashAttention's
 * tests: ref_err is the max error against the float64 reference of a plain
 * f32 attention of the rounded inputs, and every element must be within
 * tol_factor * ref_err + atol + rtol * |out|, where atol and rtol are the
 * rounding floor (check.h). */
#define _GNU_SOURCE /* memfd_create */
#include "run/check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "attn_half.h"
#include "attn_quant.h"
#include "lib/files.h"
#include "lib/junit.h"
#include "lib/table.h"
#include "run/check_paths.h"
#include "run/registry.h"
#include "run/worker.h"
#include "model/results.h"

/* ---- running ------------------------------------------------------------ */

/* What a (case, backend) pair came to; printed by name. */
enum check_status { CHECK_PASS, CHECK_FAIL, CHECK_SKIP };
static const char *const status_names[] = {[CHECK_PASS] = "PASS", [CHECK_FAIL] = "FAIL", [CHECK_SKIP] = "SKIP"};

typedef struct result {
	enum check_status status;
	char paths[64];
	err_stats st;
	double ref_err; /* f16/bf16: the f32 reference's max error; -1 for f32 */
	char msg[512];
} result;

/* The ratio rule's figures of a row, as text: "-" for f32 cases. */
static void ratio_text(const result *r, char *ref, char *ratio, size_t len)
{
	if (r->ref_err < 0) {
		snprintf(ref, len, "-");
		snprintf(ratio, len, "-");
		return;
	}
	snprintf(ref, len, "%.3g", r->ref_err);
	if (r->ref_err > 0)
		snprintf(ratio, len, "%.3g", r->st.max_abs / r->ref_err);
	else
		snprintf(ratio, len, "%s", r->st.max_abs > 0 ? "inf" : "0");
}

/* A value for the mismatch listing: %.9g, but every NaN as "nan" (the
 * default NaN of x86 arithmetic has its sign bit set, which printf shows as
 * "-nan"). */
static const char *fmt_val(double x, char *buf, size_t len)
{
	if (isnan(x))
		snprintf(buf, len, "nan");
	else
		snprintf(buf, len, "%.9g", x);
	return buf;
}

/* Why an element that has no finite distance to its reference is wrong. */
static const char *class_mismatch(double got, double ref)
{
	if (isnan(ref))
		return "NaN expected";
	if (isinf(ref))
		return ref > 0 ? "+inf expected" : "-inf expected";
	return isnan(got) ? "NaN where a finite value is expected" : "an infinity where a finite value is expected";
}

/* Print the first mismatching elements of a failed output to stdout. */
static void print_mismatches(const golden_case *gc, const attn_shape *s, double atol, const char *path,
                             const float *got, const double *ref, int64_t n, int max)
{
	int shown = 0;
	for (int64_t i = 0; i < n && shown < max; i++) {
		double d, tol;
		if (!compare_element(got[i], ref[i], atol, gc->rtol, &d, &tol))
			continue;
		char where[96];
		golden_out_position(s, i, where, sizeof where);
		char g[32], r[32];
		fmt_val(got[i], g, sizeof g);
		fmt_val(ref[i], r, sizeof r);
		if (isnan(d))
			printf("    %s %s %s: got %s, want %s (%s)\n", gc->name, path, where, g, r,
			       class_mismatch(got[i], ref[i]));
		else
			printf("    %s %s %s: got %s, want %s, |diff| %.3g > tol %.3g\n", gc->name, path, where, g, r,
			       d, tol);
		shown++;
	}
}

static void merge_stats(err_stats *a, const err_stats *b)
{
	a->max_abs = fmax(a->max_abs, b->max_abs);
	a->max_rel = fmax(a->max_rel, b->max_rel);
	a->nmse = fmax(a->nmse, b->nmse);
	a->worst = fmax(a->worst, b->worst);
	a->n_bad += b->n_bad;
}

static void run_one(const check_opts *o, const golden_case *gc, const case_data *d, backend_entry *be, void *ctx,
                    guard_buf *out, result *res)
{
	float *got = out->out;
	const attn_backend *b = be->be;
	const attn_shape *s = &d->shape;
	const int64_t n = golden_out_elems(s);
	const int lowp = golden_low_precision(s);
	char why[256] = "";
	memset(res, 0, sizeof *res);
	res->ref_err = lowp ? d->ref_err : -1;
	if (check_unclaimed(b, s, why, sizeof why)) {
		res->status = CHECK_SKIP;
		snprintf(res->msg, sizeof res->msg, "not supported: %s", why);
		return;
	}
	worker_enter("supports");
	if (!b->supports(ctx, s, why, sizeof why)) {
		res->status = CHECK_SKIP;
		snprintf(res->msg, sizeof res->msg, "not supported: %s", why);
		return;
	}
	worker_enter("workspace_bytes");
	const uint64_t need = b->workspace_bytes(ctx, s);
	if (need > o->max_mem) {
		char h[32];
		res->status = CHECK_SKIP;
		snprintf(res->msg, sizeof res->msg, "skipped: needs %s of workspace", fmt_bytes(need, h, sizeof h));
		return;
	}
	res->status = CHECK_PASS;
	/* f16/bf16: the ratio rule's allowance on top of the rounding floor */
	const double k = o->tol_factor > 0 ? o->tol_factor : CHECK_TOL_FACTOR;
	const double atol = gc->atol + (lowp ? k * d->ref_err : 0);
	const int want[3] = {1, check_wants_cache(b, s), check_wants_paged(b, s)};
	for (int path = 0; path < 3; path++) {
		if (!want[path])
			continue;
		const char *pname = path == 0 ? "attend" : path == 2 ? "paged" : (s->n_q == 1 ? "decode" : "prefill");
		guard_reset(out);
		worker_enter("attend");
		int rc = path == 0   ? b->attend(ctx, s, d->qs, d->ks, d->vs, got)
		         : path == 1 ? check_cache_path(b, ctx, d, got)
		                     : check_paged_path(b, ctx, d, got);
		if (res->paths[0])
			strcat(res->paths, "+");
		strcat(res->paths, pname);
		if (rc == ATTN_E_UNSUPPORTED) {
			res->status = CHECK_SKIP;
			snprintf(res->msg, sizeof res->msg, "not supported: %s: %s", pname, b->last_error(ctx));
			return;
		}
		if (rc) {
			res->status = CHECK_FAIL;
			snprintf(res->msg, sizeof res->msg, "%s: error: %s", pname, b->last_error(ctx));
			return;
		}
		char bad[256];
		check_clear_padding(s, got);
		if (guard_check(out, bad, sizeof bad)) {
			res->status = CHECK_FAIL;
			snprintf(res->msg, sizeof res->msg, "%s: %s", pname, bad);
			return;
		}
		err_stats st;
		if (!compare_outputs(got, d->out, n, atol, gc->rtol, &st)) {
			if (res->status == CHECK_PASS && !lowp)
				snprintf(res->msg, sizeof res->msg,
				         "%s: %lld of %lld elements outside atol %g + rtol %g", pname,
				         (long long)st.n_bad, (long long)n, gc->atol, gc->rtol);
			else if (res->status == CHECK_PASS)
				snprintf(res->msg, sizeof res->msg,
				         "%s: %lld of %lld elements outside %g x ref_err %.3g + atol %g + rtol %g",
				         pname, (long long)st.n_bad, (long long)n, k, d->ref_err, gc->atol, gc->rtol);
			res->status = CHECK_FAIL;
			print_mismatches(gc, s, atol, pname, got, d->out, n, o->max_report);
		}
		if (path == 0)
			res->st = st;
		else
			merge_stats(&res->st, &st);
	}
	if (res->status == CHECK_PASS && res->st.n_special > 0)
		snprintf(res->msg, sizeof res->msg, "%lld NaN/Inf elements of the reference reproduced",
		         (long long)res->st.n_special);
}

/* ---- one pair, in a backend's worker or in process ------------------------ */

/* Isolated, each backend has a long-lived worker that creates its instance
 * once and checks every case in turn: the parent puts the case in a
 * memory file (case_blob: the inputs in the case's dtype, then the float64
 * reference) and the request in shared memory (pair_req); the worker makes
 * its own guarded copies and guarded output, runs the pair and writes the
 * result back. A worker that crashed or timed out costs that pair only:
 * the next case gets a fresh worker and instance. */
typedef struct pair_req {
	int c;       /* the case */
	case_data d; /* its sizes, ref_err and shape; no pointer of it is used */
	/* offsets in the blob of q, k, v, the reference, alibi, sinks, q_lens,
	 * kv_lens (8-byte aligned; those the case lacks are empty), its end */
	size_t at[9];
	result res;
} pair_req;

typedef struct pair_server {
	const check_opts *o;
	const golden_case *cases;
	backend_entry *be;
	pair_req *req; /* shared */
	int blob;      /* the memory file */
	void *ctx;     /* in the worker: its instance, NULL until made */
} pair_server;

/* The parts of a case in the blob, in order, with their bytes. */
static void blob_parts(const case_data *d, const void *p[8], size_t len[8])
{
	const attn_shape *s = &d->shape;
	const size_t hb = (size_t)s->n_heads * sizeof(float), bb = (size_t)s->batch * sizeof(int64_t);
	const void *ptr[8] = {d->qs, d->ks, d->vs, d->out, s->alibi, s->sinks, s->q_lens, s->kv_lens};
	const size_t n[8] = {d->qb,
	                     d->kb,
	                     d->vb,
	                     (size_t)golden_out_elems(s) * sizeof(double),
	                     s->alibi ? hb : 0,
	                     s->sinks ? hb : 0,
	                     s->q_lens ? bb : 0,
	                     s->kv_lens ? bb : 0};
	for (int i = 0; i < 8; i++) {
		p[i] = ptr[i];
		len[i] = n[i];
	}
}

static void serve_pair(void *arg)
{
	pair_server *p = arg; /* the worker's own copy: ctx stays from call to call */
	pair_req *r = p->req;
	const golden_case *gc = &p->cases[r->c];
	memset(&r->res, 0, sizeof r->res);
	if (!p->ctx) {
		char err[256] = "";
		const attn_config bc = registry_config(&p->o->cfg, p->be->be->name);
		worker_enter("create");
		if (p->be->be->create(&bc, &p->ctx, err, sizeof err)) {
			p->ctx = NULL;
			r->res.status = CHECK_FAIL;
			snprintf(r->res.msg, sizeof r->res.msg, "create failed: %s", err);
			return;
		}
	}
	const size_t blob_len = r->at[8];
	const char *blob = mmap(NULL, blob_len ? blob_len : 1, PROT_READ, MAP_SHARED, p->blob, 0);
	guard_buf g[CASE_GUARDS + 1];
	memset(g, 0, sizeof g);
	case_data view = r->d, d;
	memset(&d, 0, sizeof d);
	int ok = blob != MAP_FAILED;
	if (ok) {
		attn_shape *s = &view.shape;
		view.qs = blob + r->at[0];
		view.ks = blob + r->at[1];
		view.vs = blob + r->at[2];
		view.out = (double *)(uintptr_t)(blob + r->at[3]);
		s->alibi = r->at[5] > r->at[4] ? (const float *)(uintptr_t)(blob + r->at[4]) : NULL;
		s->sinks = r->at[6] > r->at[5] ? (const float *)(uintptr_t)(blob + r->at[5]) : NULL;
		s->q_lens = r->at[7] > r->at[6] ? (const int64_t *)(uintptr_t)(blob + r->at[6]) : NULL;
		s->kv_lens = r->at[8] > r->at[7] ? (const int64_t *)(uintptr_t)(blob + r->at[7]) : NULL;
		ok = check_guard_case(&view, &d, g) == 0 &&
		     guard_output(&g[CASE_GUARDS], "out", (size_t)golden_out_elems(&view.shape));
	}
	if (ok)
		run_one(p->o, gc, &d, p->be, p->ctx, &g[CASE_GUARDS], &r->res);
	else {
		r->res.status = CHECK_FAIL;
		snprintf(r->res.msg, sizeof r->res.msg, "out of memory in the worker");
	}
	for (int i = 0; i < CASE_GUARDS + 1; i++)
		guard_free(&g[i]);
	if (blob != MAP_FAILED)
		munmap((void *)(uintptr_t)blob, blob_len ? blob_len : 1);
}

static void serve_fini(void *arg)
{
	pair_server *p = arg;
	if (p->ctx) {
		worker_enter("destroy");
		p->be->be->destroy(p->ctx);
	}
}

/* Put case c in the blob and the request. 0, or -1 (errno). */
static int blob_put(int fd, pair_req *r, int c, const case_data *d)
{
	const void *part[8];
	size_t len[8];
	blob_parts(d, part, len);
	r->c = c;
	r->d = *d;
	r->at[0] = 0;
	for (int i = 0; i < 8; i++)
		r->at[i + 1] = (r->at[i] + len[i] + 7) / 8 * 8;
	if (ftruncate(fd, (off_t)r->at[8]) != 0)
		return -1;
	for (int i = 0; i < 8; i++)
		for (size_t done = 0; done < len[i];) {
			const ssize_t n =
			    pwrite(fd, (const char *)part[i] + done, len[i] - done, (off_t)(r->at[i] + done));
			if (n <= 0)
				return -1;
			done += (size_t)n;
		}
	return 0;
}

/* Run case c of backend b in its worker into res (the case is in the blob). */
static void run_served(pair_server *p, worker_server *w, result *res)
{
	char why[400];
	const worker_outcome o = worker_serve(w, p->o->timeout_s, why, sizeof why);
	*res = p->req->res;
	if (o != WORKER_DONE) {
		res->status = CHECK_FAIL;
		snprintf(res->msg, sizeof res->msg, "%s", why);
	}
}

/* ---- JUnit -------------------------------------------------------------- */

typedef struct junit_row {
	const char *case_name, *backend;
	const char *warn; /* the case's input warnings, or NULL */
	result res;
} junit_row;

static int write_junit(const char *path, const junit_row *rows, int n, int failures, int skipped)
{
	junit_file j;
	if (junit_begin(&j, path, "check", n, failures, skipped))
		return -1;
	FILE *f = j.f;
	for (int i = 0; i < n; i++) {
		const junit_row *r = &rows[i];
		char ref[32], ratio[32];
		ratio_text(&r->res, ref, ratio, sizeof ref);
		junit_case_begin(&j, r->backend, r->case_name);
		if (r->res.status == CHECK_FAIL) {
			fputs("<failure message=\"", f);
			xml_escape(f, r->res.msg);
			fprintf(f, "\">max_abs_err=%.3g max_rel_err=%.3g nmse=%.3g ref_err=%s err/ref=%s paths=",
			        r->res.st.max_abs, r->res.st.max_rel, r->res.st.nmse, ref, ratio);
			xml_escape(f, r->res.paths);
			fputs("</failure>", f);
		} else if (r->res.status == CHECK_SKIP) {
			fputs("<skipped message=\"", f);
			xml_escape(f, r->res.msg);
			fputs("\"/>", f);
		} else {
			fprintf(f,
			        "<system-out>max_abs_err=%.3g max_rel_err=%.3g nmse=%.3g ref_err=%s "
			        "err/ref=%s</system-out>",
			        r->res.st.max_abs, r->res.st.max_rel, r->res.st.nmse, ref, ratio);
		}
		if (r->warn) {
			fputs("<system-err>", f);
			xml_escape(f, r->warn);
			fputs("</system-err>", f);
		}
		junit_case_end(&j);
	}
	return junit_commit(&j);
}

/* check.csv (check --out): backend, case, status (pass, fail or skip), the
 * error figures and the message; written whole or not at all. */
static int write_csv(const char *path, const junit_row *rows, int n)
{
	file_out o;
	attn_err e = {{0}};
	if (file_out_open(&o, path, &e))
		return -1;
	static const char *const hdr[] = {"backend", "case",    "status",       "max_abs_err", "max_rel_err",
	                                  "nmse",    "ref_err", "err_over_ref", "message"};
	int bad = table_write_row(o.f, hdr, 9);
	for (int i = 0; i < n && !bad; i++) {
		const junit_row *r = &rows[i];
		char num[3][32], ref[32], ratio[32];
		ratio_text(&r->res, ref, ratio, sizeof ref);
		const int ran = r->res.status != CHECK_SKIP;
		snprintf(num[0], 32, "%.3g", r->res.st.max_abs);
		snprintf(num[1], 32, "%.3g", r->res.st.max_rel);
		snprintf(num[2], 32, "%.3g", r->res.st.nmse);
		const char *f[] = {r->backend,
		                   r->case_name,
		                   r->res.status == CHECK_FAIL   ? "fail"
		                   : r->res.status == CHECK_SKIP ? "skip"
		                                                 : "pass",
		                   ran ? num[0] : "",
		                   ran ? num[1] : "",
		                   ran ? num[2] : "",
		                   ran ? ref : "",
		                   ran ? ratio : "",
		                   r->res.msg};
		bad = table_write_row(o.f, f, 9);
	}
	if (bad) {
		file_out_abort(&o);
		return -1;
	}
	return file_out_commit(&o, &e) ? -1 : 0;
}

/* ---- the command -------------------------------------------------------- */

/* The cases: the manifest's, every file validated before anything runs (a
 * bad case 12 must not follow eleven rows of output), or generated ones
 * over what the selected backends claim (*rs gets their capabilities). */
static int open_cases(const check_opts *o, backend_entry *const *sel, int nsel, random_spec *rs, golden_case **cases,
                      int *ncases, attn_err *e)
{
	if (rs->n) {
		for (int b = 0; b < nsel; b++)
			rs->caps |= sel[b]->be->caps;
		if (rs->replay >= 0)
			printf("check: random case %lld of %lld, seed %llu\n", (long long)rs->replay, (long long)rs->n,
			       (unsigned long long)rs->seed);
		else
			printf("check: %lld random cases, seed %llu\n", (long long)rs->n, (unsigned long long)rs->seed);
		return random_cases(rs, cases, ncases, e);
	}
	if (manifest_read(o->golden_dir, cases, ncases, e))
		return EXIT_INPUT;
	for (int c = 0; c < *ncases; c++) {
		if (golden_probe(&(*cases)[c], e)) {
			free(*cases);
			*cases = NULL;
			return EXIT_INPUT;
		}
	}
	return 0;
}

int check_run(const check_opts *opts)
{
	check_opts oo = *opts; /* a caller that leaves timeout_s 0 gets the default */
	if (!(oo.timeout_s > 0))
		oo.timeout_s = CHECK_TIMEOUT_S;
	const check_opts *o = &oo;
	attn_err e = {{0}};
	golden_case *cases = NULL;
	int ncases = 0, nsel = 0;
	backend_entry *sel[ATTN_MAX_BACKENDS];
	void *ctx[ATTN_MAX_BACKENDS] = {0};
	pair_server srv[ATTN_MAX_BACKENDS];
	worker_server wrk[ATTN_MAX_BACKENDS];
	pair_req *req = NULL;
	int blob = -1;
	random_spec rs = o->random;
	char source[CASE_PATH_MAX + 64];

	if (registry_select(o->backends, "--backend", sel, &nsel, &e) ||
	    open_cases(o, sel, nsel, &rs, &cases, &ncases, &e)) {
		fprintf(stderr, "attnbench check: %s\n", e.msg);
		return EXIT_INPUT;
	}
	if (nsel == 0)
		fprintf(stderr, "attnbench check: no backend is available\n");
	for (int b = 0; b < nsel; b++) {
		char err[512] = "";
		const attn_config bc = registry_config(&o->cfg, sel[b]->be->name);
		char dev[128];
		/* isolated: the instances live in the workers; this one only
		 * shows that the backend can be created */
		if (o->no_isolate ? sel[b]->be->create(&bc, &ctx[b], err, sizeof err) != 0
		                  : worker_probe(sel[b], &bc, o->timeout_s, dev, sizeof dev, err, sizeof err) != 0) {
			fprintf(stderr, "attnbench check: backend %s: create failed: %s\n", sel[b]->be->name, err);
			for (int j = 0; j < b; j++)
				sel[j]->be->destroy(ctx[j]);
			free(cases);
			return EXIT_INPUT;
		}
	}

	junit_row *rows = calloc((size_t)(ncases * (nsel ? nsel : 1)), sizeof *rows);
	char **warns = calloc((size_t)(ncases ? ncases : 1), sizeof *warns); /* per case */
	int nrows = 0, passed = 0, failed = 0, skipped = 0, rc = EXIT_PASS;
	memset(wrk, 0, sizeof wrk);
	if (!o->no_isolate) {
		req = worker_shared(sizeof *req);
		blob = memfd_create("attnbench-case", MFD_CLOEXEC);
		for (int b = 0; b < nsel; b++) {
			srv[b] = (pair_server){.o = o, .cases = cases, .be = sel[b], .req = req, .blob = blob};
			wrk[b] = (worker_server){.work = serve_pair, .fini = serve_fini, .arg = &srv[b]};
		}
	}
	if (!rows || !warns || (!o->no_isolate && (!req || blob < 0))) {
		fprintf(stderr, "attnbench check: out of memory\n");
		rc = EXIT_INPUT;
		goto out;
	}
	printf("%-24s %-10s %-12s %-20s %12s %12s %12s %10s %8s %8s  %s\n", "case", "backend", "dtype", "paths",
	       "max_abs_err", "max_rel_err", "nmse", "ref_err", "err/ref", "err/tol", "result");
	for (int c = 0; c < ncases; c++) {
		const golden_case *gc = &cases[c];
		case_data d;
		if (rs.n ? random_load(&rs, gc, &d, &e) : golden_load(gc, &d, &e)) {
			fprintf(stderr, "attnbench check: %s (case '%s')\n", e.msg, gc->name);
			rc = EXIT_INPUT;
			goto out;
		}
		golden_scan(gc, &d, &warns[c]);
		const attn_shape *s = &gc->shape;
		guard_buf gin[CASE_GUARDS], gout;
		case_data gd;
		memset(gin, 0, sizeof gin);
		memset(&gout, 0, sizeof gout);
		/* isolated, the workers guard their own copies of the case */
		if (o->no_isolate ? !guard_output(&gout, "out", (size_t)golden_out_elems(&d.shape)) ||
		                        check_guard_case(&d, &gd, gin)
		                  : blob_put(blob, req, c, &d) != 0) {
			for (int i = 0; i < CASE_GUARDS; i++)
				guard_free(&gin[i]);
			guard_free(&gout);
			golden_free(&d);
			fprintf(stderr, "attnbench check: case '%s': out of memory\n", gc->name);
			rc = EXIT_INPUT;
			goto out;
		}
		for (int b = 0; b < nsel; b++) {
			junit_row *r = &rows[nrows++];
			r->case_name = gc->name;
			r->backend = sel[b]->be->name;
			r->warn = warns[c];
			if (o->no_isolate)
				run_one(o, gc, &gd, sel[b], ctx[b], &gout, &r->res);
			else
				run_served(&srv[b], &wrk[b], &r->res);
			const result *res = &r->res;
			char dt[24];
			if (s->kv_storage)
				snprintf(dt, sizeof dt, "%s/%s", dtype_name(s->dtype),
				         attn_kv_dtype_name(attn_kv_dtype(s)));
			else
				snprintf(dt, sizeof dt, "%s", dtype_name(s->dtype));
			if (res->status == CHECK_SKIP) {
				skipped++;
				printf("%-24s %-10s %-12s %-20s %12s %12s %12s %10s %8s %8s  SKIP (%s)\n", gc->name,
				       r->backend, dt, "-", "-", "-", "-", "-", "-", "-", res->msg);
			} else {
				char ref[32], ratio[32];
				ratio_text(res, ref, ratio, sizeof ref);
				printf("%-24s %-10s %-12s %-20s %12.3g %12.3g %12.3g %10s %8s %8.3g  %s%s%s\n",
				       gc->name, r->backend, dt, res->paths, res->st.max_abs, res->st.max_rel,
				       res->st.nmse, ref, ratio, res->st.worst, status_names[res->status],
				       res->msg[0] ? ": " : "", res->msg);
				if (res->status == CHECK_PASS)
					passed++;
				else
					failed++;
				if (res->status == CHECK_FAIL && rs.n)
					random_print_replay(stdout, &rs, gc, &d, r->backend);
			}
			fflush(stdout);
		}
		for (int i = 0; i < CASE_GUARDS; i++)
			guard_free(&gin[i]);
		guard_free(&gout);
		golden_free(&d);
	}
	if (rs.n)
		snprintf(source, sizeof source, "random, seed %llu", (unsigned long long)rs.seed);
	else
		snprintf(source, sizeof source, "%s", o->golden_dir);
	printf("check: %d passed, %d failed, %d skipped (%d cases x %d backends, %s)\n", passed, failed, skipped,
	       ncases, nsel, source);
	if (failed) {
		printf("FAILED:");
		for (int i = 0; i < nrows; i++)
			if (rows[i].res.status == CHECK_FAIL)
				printf(" %s/%s", rows[i].case_name, rows[i].backend);
		printf("\n");
		rc = EXIT_CHECK_FAILED;
	}
	if (passed + failed == 0) {
		printf("check: no (case, backend) pair ran\n");
		rc = EXIT_CHECK_FAILED;
	}
	if (o->junit && write_junit(o->junit, rows, nrows, failed, skipped) != 0) {
		fprintf(stderr, "attnbench check: %s: cannot write the JUnit file\n", o->junit);
		rc = EXIT_INPUT;
	}
	if (o->csv && write_csv(o->csv, rows, nrows) != 0) {
		fprintf(stderr, "attnbench check: %s: cannot write the results\n", o->csv);
		rc = EXIT_INPUT;
	}
out:
	for (int b = 0; b < nsel; b++) {
		char why[400];
		if (ctx[b])
			sel[b]->be->destroy(ctx[b]);
		if (worker_server_stop(&wrk[b], o->timeout_s, why, sizeof why) != WORKER_DONE)
			fprintf(stderr, "attnbench check: backend %s: ending its worker: %s\n", sel[b]->be->name, why);
	}
	if (blob >= 0)
		close(blob);
	worker_shared_free(req, sizeof *req);
	for (int c = 0; warns && c < ncases; c++)
		free(warns[c]);
	free(warns);
	free(rows);
	free(cases);
	return rc;
}
