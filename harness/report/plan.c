/* plan.c - `attnbench plan` (plan.h): how many tokens and sequences fit,
 * and how fast attention runs at those contexts on a measured machine.
 *
 * Capacity is arithmetic (capacity.c): each layer caches K and V rows of
 * every KV head for each token (an MLA layer one latent row instead), a
 * local layer at most its sliding window of tokens, in the --kv-dtype's
 * bytes with its block scales, rounded up to --page-size; the cache gets
 * what is left of the memory after the weights and a reserve (a fraction
 * of the memory, default 10%, for activations, workspace and
 * fragmentation). --lens admits sequences of mixed lengths until the cache
 * is full.
 *
 * Projections come from a sweep's results.csv: per backend and storage
 * dtype (f32, f16, bf16 side by side; rows without a dtype are f32), the measured
 * shape nearest the model's (head_dim, then GQA ratio), prefill time against
 * seq_len fitted as a n^2 + b n + c and decode time against cache_len as
 * a n + b by least squares, scaled from the measured query heads to the
 * model's and summed over its layers (a local layer attends to at most its
 * window). That is attention alone: no projections, MLP, sampling or
 * communication. */
#include "report/plan.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/files.h"
#include "lib/fit.h"
#include "lib/util.h"
#include "model/results.h"
#include "report/gnuplot.h"

/* An input error of plan: "attnbench plan: MESSAGE", exit 2. */
#define fail(...) attn_fail("plan", EXIT_INPUT, __VA_ARGS__)

/* ---- the storage types plan counts ----------------------------------------- */

typedef struct dtype_size {
	const char *name;
	double bytes;
} dtype_size;

static const dtype_size weight_dtypes[] = {{"f32", 4}, {"f16", 2}, {"bf16", 2}, {"int8", 1}, {"int4", 0.5}};

double plan_weight_bytes(const char *dtype)
{
	for (size_t i = 0; i < sizeof weight_dtypes / sizeof weight_dtypes[0]; i++)
		if (!strcasecmp(weight_dtypes[i].name, dtype))
			return weight_dtypes[i].bytes;
	return 0;
}

/* ---- projections from a run -------------------------------------------------- */

typedef struct projection {
	char backend[64];
	char dtype[8];                     /* storage dtype of the rows: each is projected apart */
	int64_t heads, kv_heads, head_dim; /* the measured shape used */
	int npre, ndec;                    /* points behind each fit */
	double pre[3], dec[2];             /* ns: a0 + a1 n + a2 n^2; b0 + b1 n */
	double pre_max, dec_max;           /* largest measured seq_len, cache_len */
} projection;

static double shape_distance(const plan_model *m, int64_t h, int64_t g, int64_t d)
{
	return fabs(log2((double)d / (double)m->head_dim)) * 4 +
	       fabs(log2(((double)h / (double)g) / ((double)m->heads / (double)m->kv_heads)));
}

/* One usable row of a run: which backend, phase, shape, length, time. */
typedef struct sample {
	int be, prefill;
	int64_t h, g, d;
	double n, ns; /* seq_len (prefill) or cache_len (decode); ns per call */
} sample;

/* Fit y ~ sum c[i] x^powers[i] with as many terms as the distinct points
 * allow, the leading ones first; coef[power] gets each coefficient.
 * Returns the number of terms used (0: no fit). */
static int fit_leading(const double *x, const double *y, int n, const int *powers, int kmax, double *coef)
{
	double cf[3] = {0};
	int k = n < kmax ? n : kmax;
	while (k > 0 && fit_linear_terms(x, y, n, powers, k, cf))
		k--;
	for (int j = 0; j < k; j++)
		coef[powers[j]] = cf[j];
	return k;
}

/* Fit every backend of the run (or only `only`). Returns the count, or -1
 * after an error message (EXIT_INPUT). */
static int load_projections(const char *run, const char *only, const plan_model *m, projection *out, int max)
{
	char path[4200];
	const size_t len = strlen(run);
	if (len >= 4 && !strcmp(run + len - 4, ".csv"))
		snprintf(path, sizeof path, "%s", run);
	else
		snprintf(path, sizeof path, "%s/results.csv", run);
	results_file rf;
	attn_err e = {{0}};
	if (results_read(path, RESULTS_NEED_KEY | RESULTS_COL(RC_TIME_NS), &rf, &e)) {
		fail("%s", e.msg);
		return -1;
	}
	sample *sm = calloc((size_t)rf.nrows + 1, sizeof *sm);
	double *x = calloc((size_t)rf.nrows + 1, sizeof *x), *y = calloc((size_t)rf.nrows + 1, sizeof *y);
	if (!sm || !x || !y) {
		free(sm), free(x), free(y);
		results_file_free(&rf);
		fail("out of memory");
		return -1;
	}
	/* each usable row once; each backend keeps the shape nearest the model */
	int np = 0, nsamp = 0;
	for (int r = 0; r < rf.nrows; r++) {
		const results_rec *row = &rf.rows[r];
		sample s = {0};
		s.prefill = row->phase == PHASE_PREFILL;
		if (row->status != RESULT_OK || (only && strcmp(row->backend, only)) || row->batch != 1 ||
		    (!s.prefill && row->phase != PHASE_DECODE))
			continue;
		const char *dt = dtype_name(row->dtype);
		s.h = row->n_heads;
		s.g = row->n_kv_heads;
		s.d = row->head_dim;
		s.ns = row->time_ns;
		s.n = (double)(s.prefill ? row->seq_len : row->cache_len);
		while (s.be < np && (strcmp(out[s.be].backend, row->backend) || strcmp(out[s.be].dtype, dt)))
			s.be++;
		if (s.be == np) {
			if (np == max)
				continue;
			memset(&out[np], 0, sizeof out[np]);
			snprintf(out[np].backend, sizeof out[np].backend, "%s", row->backend);
			snprintf(out[np].dtype, sizeof out[np].dtype, "%s", dt);
			np++;
		}
		projection *p = &out[s.be];
		const double dist = shape_distance(m, s.h, s.g, s.d);
		const double best = p->head_dim ? shape_distance(m, p->heads, p->kv_heads, p->head_dim) : INFINITY;
		if (dist < best || (dist == best && s.h > p->heads)) {
			p->heads = s.h;
			p->kv_heads = s.g;
			p->head_dim = s.d;
		}
		sm[nsamp++] = s;
	}
	results_file_free(&rf);
	/* the points of each backend's chosen shape, then the fits: prefill
	 * a n^2 + b n + c (one point: a n^2), decode a n + b (one point: a n) */
	static const int pre_pow[3] = {2, 1, 0}, dec_pow[2] = {1, 0};
	for (int i = 0; i < np; i++) {
		projection *p = &out[i];
		for (int phase = 1; phase >= 0; phase--) {
			int n = 0;
			double most = 0;
			for (int j = 0; j < nsamp; j++) {
				const sample *s = &sm[j];
				if (s->be != i || s->prefill != phase || s->h != p->heads || s->g != p->kv_heads ||
				    s->d != p->head_dim)
					continue;
				x[n] = s->n;
				y[n++] = s->ns;
				most = s->n > most ? s->n : most;
			}
			if (phase) {
				p->npre = fit_leading(x, y, n, pre_pow, 3, p->pre) ? n : 0;
				p->pre_max = most;
			} else {
				p->ndec = fit_leading(x, y, n, dec_pow, 2, p->dec) ? n : 0;
				p->dec_max = most;
			}
		}
	}
	free(sm), free(x), free(y);
	int kept = 0;
	for (int i = 0; i < np; i++)
		if (out[i].npre || out[i].ndec)
			out[kept++] = out[i];
	if (kept == 0) {
		fail("%s: no usable rows (needs status ok, batch 1, prefill or decode%s%s)", path,
		     only ? ", backend " : "", only ? only : "");
		return -1;
	}
	return kept;
}

/* Attention time of the whole model, in seconds, from a per-layer time at
 * the measured heads: times model heads / measured heads, summed over the
 * layers (global ones at n, local ones at the window's share). */
static double model_seconds(const plan_model *m, const projection *p, double ns_global, double ns_local)
{
	const int64_t local = plan_local_layers(m);
	const double ns = (double)(m->layers - local) * fmax(ns_global, 0) + (double)local * fmax(ns_local, 0);
	return ns * ((double)m->heads / (double)p->heads) * 1e-9;
}

/* Prefill of n tokens; with a window W < n each query sees at most W keys:
 * the n^2 term (n^2 / 2 query-key pairs under causal) becomes
 * W^2 / 2 + (n - W) W pairs, i.e. a (2 n W - W^2). */
static double eval_pre(const projection *p, double n, double w)
{
	const double quad = w > 0 && n > w ? 2 * n * w - w * w : n * n;
	return p->pre[0] + p->pre[1] * n + p->pre[2] * quad;
}

/* Decode at a cache of n tokens; a local layer keeps at most W of them. */
static double eval_dec(const projection *p, double n, double w)
{
	return p->dec[0] + p->dec[1] * (w > 0 && n > w ? w : n);
}

/* The model's prefill and decode seconds at context n. */
static double pre_seconds(const plan_model *m, const projection *p, double n)
{
	return model_seconds(m, p, eval_pre(p, n, 0), eval_pre(p, n, (double)m->window));
}

static double dec_seconds(const plan_model *m, const projection *p, double n)
{
	return model_seconds(m, p, eval_dec(p, n, 0), eval_dec(p, n, (double)m->window));
}

/* ---- output -------------------------------------------------------------- */

static const char *human(double bytes, char *buf, size_t len)
{
	return fmt_bytes(bytes > 0 ? (uint64_t)bytes : 0, buf, len);
}

static const char *fmt_time(double s, char *buf, size_t len)
{
	if (s >= 1)
		snprintf(buf, len, "%.2f s", s);
	else if (s >= 1e-3)
		snprintf(buf, len, "%.2f ms", s * 1e3);
	else
		snprintf(buf, len, "%.1f us", s * 1e6);
	return buf;
}

/* Does type t get its own line in the picture? Not when the model's rows
 * cannot be stored in it, nor when it has the bytes of the type before it
 * (bf16 draws on top of f16). */
static int drawn_type(const plan_model *m, int t)
{
	const double b = plan_layer_token_bytes(m, plan_kv_types[t]);
	return b > 0 && (t == 0 || b != plan_layer_token_bytes(m, plan_kv_types[t - 1]));
}

static int write_picture(const plan_opts *o, double budget)
{
	if (mkdir_p(o->out) != 0)
		return fail("%s: cannot create the directory: %s", o->out, strerror(errno));
	char path[4200];
	snprintf(path, sizeof path, "%s/plan.dat", o->out);
	file_out dat, gpf;
	attn_err e = {{0}};
	int rc = file_out_open(&dat, path, &e);
	if (rc)
		return attn_fail("plan", rc == EXIT_INPUT ? EXIT_INPUT : 1, "%s", e.msg);
	FILE *d = dat.f;
	for (int t = 0; t < PLAN_N_KV_TYPES; t++) {
		if (!drawn_type(&o->m, t))
			continue;
		fprintf(d, "# %s\n", plan_kv_types[t]);
		for (int64_t ctx = 512; ctx <= ((int64_t)1 << 20); ctx *= 2) {
			const int64_t s =
			    plan_max_sequences(budget, plan_seq_bytes(&o->m, plan_kv_types[t], ctx, o->page));
			if (s >= 1)
				fprintf(d, "%lld %lld\n", (long long)ctx, (long long)s);
		}
		fprintf(d, "\n\n");
	}
	rc = file_out_commit(&dat, &e);
	snprintf(path, sizeof path, "%s/plan.gp", o->out);
	if (!rc)
		rc = file_out_open(&gpf, path, &e);
	if (rc)
		return attn_fail("plan", rc == EXIT_INPUT ? EXIT_INPUT : 1, "%s", e.msg);
	FILE *f = gpf.f;
	char mem[32], left[32], title[512];
	/* the model's name comes from a presets file: gp_str quotes it so that
	 * gnuplot shows it and runs nothing */
	snprintf(title, sizeof title, "%s: sequences that fit in %s (%s left for the KV cache)", o->m.name,
	         human(o->mem, mem, sizeof mem), human(budget, left, sizeof left));
	fprintf(f, "# attnbench plan: maximum concurrent sequences against context.\n"
	           "# Edit and re-draw in this directory: gnuplot plan.gp\n"
	           "set terminal pngcairo size 1000,700 noenhanced font ',11'\n"
	           "set output 'plan.png'\n"
	           "set title ");
	gp_str(f, title);
	fprintf(f, "\nset logscale xy 2\nset grid\nset key top right\n"
	           "set xlabel 'context (tokens per sequence)'\nset ylabel 'maximum concurrent sequences'\n"
	           "set format x '%%.0s%%c'\n");
	fprintf(f, "plot ");
	int idx = 0;
	for (int t = 0; t < PLAN_N_KV_TYPES; t++) {
		if (!drawn_type(&o->m, t))
			continue;
		const int same = t + 1 < PLAN_N_KV_TYPES && plan_layer_token_bytes(&o->m, plan_kv_types[t + 1]) ==
		                                                plan_layer_token_bytes(&o->m, plan_kv_types[t]);
		fprintf(f, "%s'plan.dat' index %d using 1:2 with linespoints lw 2 title '%s%s%s'",
		        idx ? ", \\\n     " : "", idx, plan_kv_types[t], same ? " / " : "",
		        same ? plan_kv_types[t + 1] : "");
		idx++;
	}
	fprintf(f, "\nset output\n");
	rc = file_out_commit(&gpf, &e);
	if (rc)
		return attn_fail("plan", rc == EXIT_INPUT ? EXIT_INPUT : 1, "%s", e.msg);
	if (report_gnuplot(o->out, "plan.gp"))
		return 1;
	fprintf(stderr, "plan: wrote %s/plan.png (and plan.gp, plan.dat)\n", o->out);
	return 0;
}

/* The model's line: its shape and attention variants. */
static void print_model(const plan_model *m)
{
	printf("model: %s: %lld layers, %lld query heads, %lld KV heads (%s), head_dim %lld", m->name,
	       (long long)m->layers, (long long)m->heads, (long long)m->kv_heads,
	       m->kv_heads == 1          ? "MQA"
	       : m->kv_heads == m->heads ? "MHA"
	                                 : "GQA",
	       (long long)m->head_dim);
	if (m->window)
		printf("; %lld of %lld layers local with a %lld-token sliding window", (long long)plan_local_layers(m),
		       (long long)m->layers, (long long)m->window);
	if (m->kv_lora_rank)
		printf("; MLA: the cache holds a %lld + %lld latent", (long long)m->kv_lora_rank,
		       (long long)m->qk_rope_head_dim);
	if (m->sinks)
		printf("; attention sinks (one logit per head, nothing cached)");
	printf("\n");
}

/* The bytes of one token in the cache: "KV cache (T): N bytes per token (how)". */
static void print_per_token(const plan_opts *o)
{
	const plan_model *m = &o->m;
	const double lt = plan_layer_token_bytes(m, o->kv_dtype);
	const int64_t local = plan_local_layers(m);
	printf("KV cache (%s): %.0f bytes per token (", o->kv_dtype, lt * (double)m->layers);
	if (m->kv_lora_rank)
		printf("%lld layers x %.0f bytes of a %lld-element latent row)", (long long)m->layers, lt,
		       (long long)(m->kv_lora_rank + m->qk_rope_head_dim));
	else
		printf("2 x %lld layers x %lld KV heads x %.0f bytes of a %lld-element row)", (long long)m->layers,
		       (long long)m->kv_heads, plan_kv_row_bytes(o->kv_dtype, m->head_dim), (long long)m->head_dim);
	if (local == m->layers)
		printf(" up to %lld tokens, then no more (every layer stops at the window)", (long long)m->window);
	else if (local)
		printf(" up to %lld tokens, then %.0f per further token (the %lld local layers stop at the window)",
		       (long long)m->window, lt * (double)(m->layers - local), (long long)local);
	if (o->page > 1)
		printf("; each layer's tokens rounded up to pages of %lld", (long long)o->page);
	printf("\n");
}

/* The longest context of --batch sequences, and the table of contexts. */
static void print_capacity(const plan_opts *o, double budget)
{
	const plan_model *m = &o->m;
	char a[32];
	printf("maximum tokens in cache: %lld%s\n",
	       (long long)plan_max_tokens(budget, plan_layer_token_bytes(m, o->kv_dtype) * (double)m->layers),
	       plan_local_layers(m) ? " (every layer counted in full)" : "");
	const int64_t longest = plan_longest_context(m, o->kv_dtype, o->page, budget, o->batch);
	if (longest < 0)
		printf("longest context for %lld sequence%s: any (every layer keeps at most %lld tokens)\n\n",
		       (long long)o->batch, o->batch == 1 ? "" : "s", (long long)m->window);
	else
		printf("longest context for %lld sequence%s: %lld tokens\n\n", (long long)o->batch,
		       o->batch == 1 ? "" : "s", (long long)longest);
	printf("%-10s %14s", "context", "KV/sequence");
	for (int t = 0; t < PLAN_N_KV_TYPES; t++) {
		char h[32];
		snprintf(h, sizeof h, "seqs %s%s", plan_kv_types[t], strcmp(plan_kv_types[t], o->kv_dtype) ? "" : "*");
		printf(" %14s", h);
	}
	printf("\n");
	for (int i = 0; i < o->ncontexts; i++) {
		const int64_t ctx = o->contexts[i];
		printf("%-10lld %14s", (long long)ctx,
		       human(plan_seq_bytes(m, o->kv_dtype, ctx, o->page), a, sizeof a));
		for (int t = 0; t < PLAN_N_KV_TYPES; t++) {
			const double sb = plan_seq_bytes(m, plan_kv_types[t], ctx, o->page);
			if (sb > 0)
				printf(" %14lld", (long long)plan_max_sequences(budget, sb));
			else
				printf(" %14s", "-");
		}
		printf("\n");
	}
	printf("(seqs: maximum concurrent sequences of that context with the cache in that dtype; * = --kv-dtype;\n"
	       " -: head_dim is not a multiple of the 32-element blocks; KV/sequence in %s)\n",
	       o->kv_dtype);
}

/* At most this many --lens sequences are counted. */
#define LENS_MAX_SEQS 10000000

/* --lens: sequences of mixed lengths admitted until the cache is full. */
static plan_fill lens_fill(const plan_opts *o, double budget)
{
	plan_lens l;
	char why[160];
	plan_lens_parse(o->lens, o->seed, &l, why, (int)sizeof why); /* cmd/plan.c checked it */
	return plan_fill_budget(&o->m, o->kv_dtype, o->page, budget, &l, LENS_MAX_SEQS);
}

static void print_lens(const plan_opts *o, double budget)
{
	const plan_fill f = lens_fill(o, budget);
	plan_lens l;
	char why[160], a[32];
	plan_lens_parse(o->lens, o->seed, &l, why, (int)sizeof why);
	printf("\nmixed lengths (--lens %s, seed %llu", o->lens, (unsigned long long)o->seed);
	if (o->page > 1)
		printf(", pages of %lld", (long long)o->page);
	printf("): %s%lld sequences fit, %lld tokens (mean %.1f, longest %lld), %s of cache\n",
	       f.capped ? "at least " : "", (long long)f.seqs, (long long)f.tokens,
	       f.seqs ? (double)f.tokens / (double)f.seqs : 0.0, (long long)f.longest, human(f.bytes, a, sizeof a));
	if (o->page > 1)
		printf("  page padding: %.0f bytes, %.2f%% of the cache they use\n", f.bytes - f.unpaged,
		       f.bytes > 0 ? 100 * (f.bytes - f.unpaged) / f.bytes : 0.0);
	printf("  first lengths:");
	for (int i = 0; i < 8; i++)
		printf(" %lld", (long long)plan_lens_next(&l));
	printf("\n");
}

static int plan_report(const plan_opts *o, const projection *proj, int nproj)
{
	const plan_model *m = &o->m;
	const double budget = plan_cache_budget(o->mem, o->weights, o->reserve);
	char a[32], b[32], c[32], d[32];
	print_model(m);
	printf("memory: %s total - %s weights - %s reserve (%.0f%%) = %s for the KV cache\n",
	       human(o->mem, a, sizeof a), human(o->weights, b, sizeof b), human(o->reserve * o->mem, c, sizeof c),
	       o->reserve * 100, human(budget, d, sizeof d));
	print_per_token(o);
	print_capacity(o, budget);
	if (o->lens)
		print_lens(o, budget);

	for (int i = 0; i < nproj; i++) {
		const projection *p = &proj[i];
		printf("\nattention only, backend %s, %s storage, from %s (batch 1, %lld query heads, %lld KV heads, "
		       "head_dim %lld%s):\n",
		       p->backend, p->dtype, o->results, (long long)p->heads, (long long)p->kv_heads,
		       (long long)p->head_dim,
		       p->head_dim != m->head_dim || p->heads * m->kv_heads != m->heads * p->kv_heads
		           ? "; NOT the model's head_dim/GQA ratio, the nearest measured"
		           : "");
		printf("  scaled by %lld/%lld query heads and %lld layers; fits: prefill %d points up to seq_len %.0f, "
		       "decode %d points up to cache_len %.0f\n",
		       (long long)m->heads, (long long)p->heads, (long long)m->layers, p->npre, p->pre_max, p->ndec,
		       p->dec_max);
		printf("  %-10s %16s %18s %12s  %s\n", "context", "prefill (prompt)", "decode per token", "tokens/s",
		       "extrapolation");
		for (int j = 0; j < o->ncontexts; j++) {
			const double n = (double)o->contexts[j];
			char pre[32] = "-", dec[32] = "-", tps[32] = "-", ext[96] = "";
			if (p->npre) {
				fmt_time(pre_seconds(m, p, n), pre, sizeof pre);
				if (n > 4 * p->pre_max)
					snprintf(ext, sizeof ext, "prefill %.0fx past measured", n / p->pre_max);
			}
			if (p->ndec) {
				const double s = dec_seconds(m, p, n);
				fmt_time(s, dec, sizeof dec);
				if (s > 0)
					snprintf(tps, sizeof tps, "%.1f", 1.0 / s);
				if (n > 4 * p->dec_max) {
					const size_t l = strlen(ext);
					snprintf(ext + l, sizeof ext - l, "%sdecode %.0fx past measured", l ? ", " : "",
					         n / p->dec_max);
				}
			}
			printf("  %-10lld %16s %18s %12s  %s\n", (long long)o->contexts[j], pre, dec, tps,
			       *ext ? ext : "within 4x of measured");
		}
	}
	if (nproj)
		printf("\nThese are attention times alone (QK^T, softmax, PV, per layer times layers), not a whole "
		       "model's.\n");
	return 0;
}

static int write_csv(const plan_opts *o, const projection *proj, int nproj)
{
	file_out out;
	attn_err e = {{0}};
	const int rc = file_out_open(&out, o->csv, &e);
	if (rc)
		return attn_fail("plan", rc == EXIT_INPUT ? EXIT_INPUT : 1, "%s", e.msg);
	FILE *f = out.f;
	static const char *const head[] = {"model",
	                                   "kind",
	                                   "backend",
	                                   "kv_dtype",
	                                   "context",
	                                   "kv_bytes_per_token",
	                                   "kv_bytes_per_sequence",
	                                   "max_sequences",
	                                   "max_tokens",
	                                   "prefill_s",
	                                   "decode_s_per_token",
	                                   "tokens_per_s",
	                                   "extrapolation"};
	int err = table_write_row(f, head, 13);
	const double budget = plan_cache_budget(o->mem, o->weights, o->reserve);
	char v[13][64];
	const char *fields[13];
	for (int t = 0; t < PLAN_N_KV_TYPES && !err; t++)
		for (int i = 0; i < o->ncontexts && !err; i++) {
			const char *kv = plan_kv_types[t];
			const double sb = plan_seq_bytes(&o->m, kv, o->contexts[i], o->page);
			if (!(sb > 0))
				continue; /* head_dim not a multiple of the blocks */
			for (int j = 0; j < 13; j++)
				v[j][0] = 0, fields[j] = v[j];
			fields[0] = o->m.name;
			fields[1] = "capacity";
			fields[3] = kv;
			snprintf(v[4], 64, "%lld", (long long)o->contexts[i]);
			snprintf(v[5], 64, "%.10g", sb / (double)o->contexts[i]);
			snprintf(v[6], 64, "%.0f", sb);
			snprintf(v[7], 64, "%lld", (long long)plan_max_sequences(budget, sb));
			snprintf(v[8], 64, "%lld",
			         (long long)plan_max_tokens(budget,
			                                    plan_layer_token_bytes(&o->m, kv) * (double)o->m.layers));
			err = table_write_row(f, fields, 13);
		}
	if (o->lens && !err) {
		const plan_fill fl = lens_fill(o, budget);
		for (int j = 0; j < 13; j++)
			v[j][0] = 0, fields[j] = v[j];
		fields[0] = o->m.name;
		fields[1] = "lens";
		fields[3] = o->kv_dtype;
		if (fl.tokens)
			snprintf(v[5], 64, "%.10g", fl.bytes / (double)fl.tokens);
		if (fl.seqs)
			snprintf(v[6], 64, "%.0f", fl.bytes / (double)fl.seqs);
		snprintf(v[7], 64, "%lld", (long long)fl.seqs);
		snprintf(v[8], 64, "%lld", (long long)fl.tokens);
		err = table_write_row(f, fields, 13);
	}
	for (int p = 0; p < nproj && !err; p++)
		for (int i = 0; i < o->ncontexts && !err; i++) {
			const projection *q = &proj[p];
			const double n = (double)o->contexts[i];
			for (int j = 0; j < 13; j++)
				v[j][0] = 0, fields[j] = v[j];
			fields[0] = o->m.name;
			fields[1] = "projection";
			fields[2] = q->backend;
			fields[3] = q->dtype;
			snprintf(v[4], 64, "%lld", (long long)o->contexts[i]);
			if (q->npre)
				snprintf(v[9], 64, "%.6g", pre_seconds(&o->m, q, n));
			if (q->ndec) {
				const double s = dec_seconds(&o->m, q, n);
				snprintf(v[10], 64, "%.6g", s);
				if (s > 0)
					snprintf(v[11], 64, "%.6g", 1.0 / s);
			}
			const double past = fmax(q->npre ? n / q->pre_max : 0, q->ndec ? n / q->dec_max : 0);
			snprintf(v[12], 64, "%.3g", past);
			err = table_write_row(f, fields, 13);
		}
	if (err) {
		file_out_abort(&out);
		return attn_fail("plan", 1, "%s: write error", o->csv);
	}
	if (file_out_commit(&out, &e))
		return attn_fail("plan", 1, "%s", e.msg);
	fprintf(stderr, "plan: wrote %s\n", o->csv);
	return 0;
}

int plan_run(plan_opts *o)
{
	if (o->weights < 0) {
		const double params = o->params > 0 ? o->params : o->m.params;
		if (params > 0)
			o->weights = params * plan_weight_bytes(o->weight_dtype);
		else {
			o->weights = 0;
			fprintf(stderr, "attnbench plan: no --weights or --params: counting the weights as 0 bytes\n");
		}
	}
	char a[32], b[32];
	if (plan_layer_token_bytes(&o->m, o->kv_dtype) < 0)
		return fail(
		    "--kv-dtype %s: the model's rows of %lld elements are not a multiple of its 32-element blocks",
		    o->kv_dtype,
		    (long long)(o->m.kv_lora_rank ? o->m.kv_lora_rank + o->m.qk_rope_head_dim : o->m.head_dim));
	if (o->weights >= o->mem)
		return fail("the weights (%s) are larger than --mem (%s)", human(o->weights, a, sizeof a),
		            human(o->mem, b, sizeof b));
	if (plan_cache_budget(o->mem, o->weights, o->reserve) <= 0)
		return fail("nothing is left for the KV cache: %s of memory - %s of weights - a %.0f%% reserve",
		            human(o->mem, a, sizeof a), human(o->weights, b, sizeof b), o->reserve * 100);
	if (!o->ncontexts) {
		static const int64_t dflt[] = {2048, 4096, 8192, 32768, 131072};
		memcpy(o->contexts, dflt, sizeof dflt);
		o->ncontexts = 5;
	}
	/* every output path before any work: one that is not a regular file
	 * (a link, a device, a FIFO) is refused, never replaced */
	static const char *const outs[] = {"plan.gp", "plan.dat", "plan.png"};
	attn_err e = {{0}};
	if (o->csv && file_out_check(o->csv, &e))
		return attn_fail("plan", EXIT_INPUT, "%s", e.msg);
	for (int i = 0; o->out && i < 3; i++) {
		char p[4200];
		snprintf(p, sizeof p, "%s/%s", o->out, outs[i]);
		if (file_out_check(p, &e))
			return attn_fail("plan", EXIT_INPUT, "%s", e.msg);
	}
	projection proj[48];
	int nproj = 0;
	if (o->results) {
		nproj = load_projections(o->results, o->backend, &o->m, proj, 48);
		if (nproj < 0)
			return EXIT_INPUT;
	}
	int rc = plan_report(o, proj, nproj);
	if (!rc && o->csv)
		rc = write_csv(o, proj, nproj);
	if (!rc && o->out)
		rc = write_picture(o, plan_cache_budget(o->mem, o->weights, o->reserve));
	return rc;
}
