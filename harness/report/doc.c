/* doc.c - what the report says in words and tables: report.md and
 * index.html, written together so that they never disagree (Markdown and
 * HTML escaped: names from the inputs are text, never markup), and
 * fits.csv. Each is written to a temporary file beside it and renamed when
 * complete (lib/files.h: a NAME that is not a regular file is left alone). */
#include "report/docfmt.h"
#include "report/summary.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/files.h"
#include "lib/fit.h"
#include "lib/table.h"
#include "report/select.h"

/* The points measured on some machines only, as a list. */
static void doc_missing(const report *R, doc *d)
{
	fprintf(d->html, "<ul>\n");
	for (int i = 0; i < R->nmissing && i < MAX_MISSING; i++) {
		const missing_point *mp = &R->missing[i];
		const rrow *r = mp->r;
		const char *host = esc(d, R->machines[mp->mach].host);
		if (!r) {
			doc_item(d, "backend %s: every point missing on %s", esc(d, mp->backend), host);
			continue;
		}
		const int dec = r->phase == PHASE_DECODE;
		doc_item(d, "%s %s, batch %lld, %lld heads, %lld KV heads, head_dim %lld, %s %lld, %s: missing on %s",
		         esc(d, r->backend), phase_name(r->phase), (long long)r->batch, (long long)r->heads,
		         (long long)r->kv, (long long)r->hd, dec ? "cache_len" : "seq_len",
		         (long long)(dec ? r->cache : r->seq), dtype_name(r->dtype), host);
	}
	if (R->nmissing > MAX_MISSING)
		doc_item(d, "... and %d more", R->nmissing - MAX_MISSING);
	fprintf(d->md, "\n");
	fprintf(d->html, "</ul>\n");
}

/* The rows whose repetitions spread past RESULTS_CV_NOISY, as a list: their
 * figures are less sure than the others' (docs/results.md). */
static void doc_noisy(const report *R, doc *d)
{
	int n = 0;
	for (int i = 0; i < R->nrows; i++)
		n += !R->rows[i].dropped && R->rows[i].rec->cv > RESULTS_CV_NOISY;
	if (!n) {
		doc_p(d, "No row's repetitions spread more than cv %.2f (stddev / mean).", RESULTS_CV_NOISY);
		return;
	}
	doc_p(d, "%d row%s spread more than cv %.2f (stddev / mean of the repetitions): read their figures with care.",
	      n, n == 1 ? "" : "s", RESULTS_CV_NOISY);
	fprintf(d->html, "<ul>\n");
	for (int i = 0, shown = 0; i < R->nrows && shown < MAX_MISSING; i++) {
		const rrow *r = &R->rows[i];
		if (r->dropped || !(r->rec->cv > RESULTS_CV_NOISY))
			continue;
		char variant[160];
		results_variant_text(r->rec, variant, sizeof variant);
		const int dec = r->phase == PHASE_DECODE;
		doc_item(d, "%s %s, batch %lld, %lld heads, %lld KV heads, head_dim %lld, %s %lld, %s%s: cv %.3f (%s)",
		         esc(d, r->backend), phase_name(r->phase), (long long)r->batch, (long long)r->heads,
		         (long long)r->kv, (long long)r->hd, dec ? "cache_len" : "seq_len",
		         (long long)(dec ? r->cache : r->seq), dtype_name(r->dtype), esc(d, variant), r->rec->cv,
		         esc(d, R->runs[r->run].arg));
		shown++;
	}
	if (n > MAX_MISSING)
		doc_item(d, "... and %d more", n - MAX_MISSING);
	fprintf(d->md, "\n");
	fprintf(d->html, "</ul>\n");
}

/* The machines section: one table row per machine. */
static void doc_machines(const report *R, doc *d)
{
	const char *hdr[] = {"host",       "CPU", "CPUs / threads", "RAM", "BLAS", "compiler, flags", "commit",
	                     "date (UTC)", "runs"};
	char **cells = calloc((size_t)R->nmach * 9 + 1, sizeof *cells);
	if (!cells)
		return;
	for (int m = 0; m < R->nmach; m++) {
		const machine_info *mi = &R->runs[R->machines[m].run].m;
		char **c = cells + m * 9, ram[64] = "?", cpus[24], threads[24];
		if (mi->ram_bytes >= 0)
			rep_bytes((double)mi->ram_bytes, ram, sizeof ram);
		c[0] = rep_asprintf("%s", R->machines[m].host);
		c[1] = rep_asprintf("%s", meta_text(mi->cpu_model, "unknown"));
		c[2] = rep_asprintf("%s / %s", count_text(mi->cpus_online, cpus, sizeof cpus),
		                    count_text(mi->threads_used, threads, sizeof threads));
		c[3] = rep_asprintf("%s", ram);
		c[4] = rep_asprintf("%s", meta_text(mi->blas, "?"));
		c[5] = rep_asprintf("gcc %s, %s", meta_text(mi->compiler, "?"), meta_text(mi->build_flags, "?"));
		c[6] = rep_asprintf("%s", meta_text(mi->git_commit, "?"));
		c[7] = rep_asprintf("%s", meta_text(mi->date_utc, "?"));
		size_t l = 0;
		char *runs = NULL;
		for (int k = 0; k < R->nruns; k++)
			if (R->runs[k].machine == m)
				rep_append(&runs, &l, "%s%s", l ? ", " : "", R->runs[k].arg);
		c[8] = runs;
	}
	doc_table(d, 9, hdr, cells, R->nmach);
	free_cells(cells, R->nmach * 9);
	for (int m = 0; m < R->nmach; m++) {
		const machine_info *mi = &R->runs[R->machines[m].run].m;
		doc_p(d, "%s: %s; devices: %s.", esc(d, R->machines[m].host), esc(d, meta_text(mi->os, "unknown OS")),
		      esc(d, meta_text(mi->devices, "unknown")));
		/* the peaks pct_peak_* divide by (`attnbench roofline`), where the run has them */
		if (mi->has_roofline) {
			const roofline *pk = &mi->peaks;
			char lb[64], threads[24];
			char fma[96] = "";
			if (pk->fma_gflops > 0)
				snprintf(fma, sizeof fma, "multiply-add peak %.1f GFLOP/s (registers only); ",
				         pk->fma_gflops);
			doc_p(d,
			      "%s: measured peaks with %s threads: %sOpenBLAS sgemm %.1f GFLOP/s attention-shaped "
			      "(4096 x 4096 x 128) and %.1f GFLOP/s square (2048³); read bandwidth %.1f GB/s from DRAM "
			      "and %.1f GB/s from the %s last-level cache. pct_peak_flops is GFLOP/s over the fastest "
			      "of these rates (%.1f GFLOP/s); "
			      "pct_peak_bw is GB/s over the read bandwidth measured at the row's working set (Q, K, "
			      "V and O), or over the DRAM figure for a cold row, whose data was evicted first.",
			      esc(d, R->machines[m].host), count_text(mi->threads_used, threads, sizeof threads), fma,
			      pk->sgemm_attn_gflops, pk->sgemm_square_gflops, pk->dram_gbs, pk->llc_gbs,
			      rep_bytes((double)pk->llc_bytes, lb, sizeof lb), roofline_flops_ceiling(pk));
		}
	}
}

/* The inputs section: rows read, ok, ignored statuses, duplicates. */
static void doc_inputs(const report *R, doc *d)
{
	const char *hdr[] = {"run", "host", "rows", "ok", "duplicates dropped", "ignored (status not ok)"};
	char **cells = calloc((size_t)R->nruns * 6 + 1, sizeof *cells);
	if (!cells)
		return;
	for (int k = 0; k < R->nruns; k++) {
		const run_in *r = &R->runs[k];
		char **c = cells + k * 6;
		c[0] = rep_asprintf("%s%s", r->arg, r->unfinished ? " (unfinished sweep)" : "");
		c[1] = rep_asprintf("%s", R->machines[r->machine].host);
		c[2] = rep_asprintf("%d", r->nrows);
		c[3] = rep_asprintf("%d", r->nok);
		c[4] = rep_asprintf("%d", r->ndropped);
		size_t l = 0;
		char *st = NULL;
		for (int i = 0; i < r->nstatus; i++)
			rep_append(&st, &l, "%s%d x %s", l ? "; " : "", r->status_n[i], r->status[i]);
		if (r->nother_status)
			rep_append(&st, &l, "; %d x other", r->nother_status);
		c[5] = st ? st : rep_asprintf("none");
	}
	doc_table(d, 6, hdr, cells, R->nruns);
	free_cells(cells, R->nruns * 6);
	doc_p(d,
	      "Rows whose status is not ok (skipped or failed points) are left out of every picture. %d duplicate "
	      "row%s dropped: a point measured by several runs of the same host (shards of one grid, or a re-run) is "
	      "taken from the newest run (machine.json date_utc).",
	      R->ndup, R->ndup == 1 ? " was" : "s were");
}

/* The headline table: one row per machine, backend, device and dtype. */
static void doc_headlines(const report *R, doc *d)
{
	char h1[96], h2[96];
	snprintf(h1, sizeof h1, "prefill time @ seq_len %lld", (long long)R->common_seq);
	snprintf(h2, sizeof h2, "decode tokens/s @ cache_len %lld", (long long)R->common_cache);
	const char *hdr[] = {"host", "backend",      "device",           "dtype",        h1,
	                     h2,     "peak GFLOP/s", "prefill exponent", "max workspace"};
	enum { NCOLS = sizeof hdr / sizeof hdr[0] };
	char **cells = calloc((size_t)R->nheads * NCOLS + 1, sizeof *cells);
	if (!cells)
		return;
	for (int i = 0; i < R->nheads; i++) {
		const headline *H = &R->heads[i];
		char **c = cells + i * NCOLS, ws[64], tb[32];
		c[0] = rep_asprintf("%s", R->machines[H->mach].host);
		c[1] = rep_asprintf("%s", H->backend);
		c[2] = rep_asprintf("%s", H->device);
		c[3] = rep_asprintf("%s", dtype_name(H->dtype));
		c[4] =
		    rep_asprintf("%s", H->prefill_ns == H->prefill_ns ? rep_time(H->prefill_ns, tb, sizeof tb) : "-");
		c[5] = H->decode_tok_s == H->decode_tok_s ? rep_asprintf("%.4g", H->decode_tok_s) : rep_asprintf("-");
		const rrow *pk = H->peak_row;
		const int dec = pk && pk->phase == PHASE_DECODE;
		c[6] = pk ? rep_asprintf("%.3g (%s, %s %lld)", H->peak_gflops, phase_name(pk->phase),
		                         dec ? "cache_len" : "seq_len", (long long)(dec ? pk->cache : pk->seq))
		          : rep_asprintf("-");
		c[7] = H->exponent == H->exponent ? rep_asprintf("%.2f", H->exponent) : rep_asprintf("-");
		c[8] = rep_asprintf("%s", rep_bytes(H->max_ws, ws, sizeof ws));
	}
	doc_table(d, NCOLS, hdr, cells, R->nheads);
	free_cells(cells, R->nheads * NCOLS);
}

/* The request scenarios of the split picture: one row per line and scenario. */
static void doc_split(const report *R, doc *d)
{
	const request_split *q = &R->split;
	const char *hdr[] = {"line", "prompt P", "generated T", "prefill", "decode total", "total", "prefill share"};
	const int n = q->nlines * q->nsc;
	char **cells = calloc((size_t)n * 7 + 1, sizeof *cells);
	if (!cells)
		return;
	for (int at = 0; at < n; at++) {
		char **c = cells + at * 7, t[32];
		const int sc = at % q->nsc;
		const double pre = q->pre[at], dec = q->dec[at];
		c[0] = rep_asprintf("%s", q->label[at / q->nsc]);
		c[1] = rep_asprintf("%lld%s", (long long)R->prompts[sc / R->ngen], q->est[at] ? " (fit)" : "");
		c[2] = rep_asprintf("%lld", (long long)R->gen[sc % R->ngen]);
		c[3] = rep_asprintf("%s", rep_time(pre, t, sizeof t));
		c[4] = rep_asprintf("%s", rep_time(dec, t, sizeof t));
		c[5] = rep_asprintf("%s", rep_time(pre + dec, t, sizeof t));
		c[6] = rep_asprintf("%.0f%%", 100 * pre / (pre + dec));
	}
	doc_table(d, 7, hdr, cells, n);
	free_cells(cells, n * 7);
}

/* The questions the pictures answer, in report order, each picture with
 * two sentences on how to read it. A picture in no group goes under
 * "Other pictures". */
static const struct pic_group {
	const char *heading;
	const char *names[3];
	const char *howto[3];
} groups[] = {
    {"Cost: how does prefill time grow with the sequence",
     {"cost", "heads"},
     {"Read the slope: on log-log axes a line of slope 2 is quadratic cost, and the legend gives each line's "
      "fitted exponent. A lower line is a faster backend; lines that cross show where one overtakes another.",
      "Left, a flat line means the backend gains nothing from sharing K and V across query heads (GQA); a falling "
      "one means it does. Right, time should grow in proportion to the number of heads; a steeper line scales "
      "worse."}},
    {"Prefill and decode: where does a request's time go",
     {"split", "decode"},
     {"Each bar is one request: the dark part is the prompt's prefill, the light part the decode steps of the "
      "generated tokens. Compare bar heights across backends within a scenario, and dark against light to see "
      "which phase dominates.",
      "One decode step should grow linearly with the cache (slope 1 on these axes). The line that stays lowest "
      "at your cache length gives the most tokens per second."}},
    {"Memory: how much does a point need",
     {"memory", "memory_gqa"},
     {"The KV cache grows linearly with the sequence and is the same for every backend; the workspace is what "
      "a backend allocates on top of it. A workspace line that grows quadratically will run out of memory "
      "first.",
      "Fewer KV heads shrink the cache in proportion: a group of g query heads per KV head needs 1/g of the MHA "
      "cache. Read across at your model's ratio."}},
    {"Throughput and roofline: how close to the machine's peak",
     {"throughput", "roofline"},
     {"Higher is better: GFLOP/s of prefill and GB/s of decode against the length. Where the run holds the "
      "machine's measured peaks the lower panels give the share of them; a line near 100% is as good as the "
      "machine allows.",
      "Points left of where a sloped ceiling meets the flat one are limited by memory bandwidth, points right "
      "of it by arithmetic; the gap between a point and the ceiling above it is what its kernel leaves "
      "unused."}},
};
enum { NGROUPS = sizeof groups / sizeof groups[0] };

/* The group and place of picture name; -1 when it is in none. */
static int group_of(const char *name, int *place)
{
	for (int g = 0; g < NGROUPS; g++)
		for (int i = 0; i < 3 && groups[g].names[i]; i++)
			if (!strcmp(groups[g].names[i], name)) {
				*place = i;
				return g;
			}
	return -1;
}

/* An image with how to read it, its caption and its files. */
static void doc_picture(const report *R, doc *d, const picture *p, const char *howto)
{
	doc_h(d, 3, p->title);
	if (!p->drawn) {
		doc_p(d, "%s", p->note ? p->note : "not drawn");
		return;
	}
	if (howto)
		doc_p(d, "How to read it: %s", howto);
	const char *ext = R->png ? "png" : "svg";
	fprintf(d->md, "![%s](%s.%s)\n\n", p->title, p->name, ext);
	fprintf(d->html, "<figure><a href=\"%s.%s\"><img src=\"%s.%s\" alt=\"", p->name, R->svg ? "svg" : "png",
	        p->name, ext);
	html_esc(d->html, p->title);
	fprintf(d->html, "\"></a></figure>\n");
	doc_p(d, "%s", p->caption ? p->caption : "");
	if (p->note)
		doc_p(d, "%s", p->note);
	doc_p(d, "Files: [%s.gp](%s.gp) (the gnuplot script), [%s.dat](%s.dat) (its data).", p->name, p->name, p->name,
	      p->name);
}

/* Start DIR/name: a temporary file beside it (file_out_open). Returns 0,
 * or the exit code after the message. */
static int open_partial(const report *R, const char *name, file_out *o)
{
	char *p = rep_asprintf("%s/%s", R->out_dir, name);
	attn_err e = {{0}};
	const int rc = !p ? attn_errf(&e, "out of memory") : file_out_open(o, p, &e);
	free(p);
	return rc ? rep_fail(rc == EXIT_INPUT ? EXIT_INPUT : 1, "%s", e.msg) : 0;
}

/* Rename the finished temporary file over DIR/name. */
static int commit_partial(file_out *o)
{
	attn_err e = {{0}};
	const int rc = file_out_commit(o, &e);
	return rc ? rep_fail(rc == EXIT_INPUT ? EXIT_INPUT : 1, "%s", e.msg) : 0;
}

/* The sections of the report, headings in the order the contents list
 * them; the groups of pictures come between DATA and the details. */
static const char *const H_VERDICT = "Verdict", *const H_HEADLINES = "Headline figures", *const H_DATA = "Data files",
                         *const H_OTHER = "Other pictures", *const H_MACHINES = "Machines", *const H_INPUTS = "Inputs",
                         *const H_NOISY = "Noisy rows", *const H_MISSING = "Missing points",
                         *const H_SCENARIOS = "Appendix: request scenarios";

/* Does any picture belong to group g (-1: to none)? */
static int group_used(const report *R, int g)
{
	for (int i = 0; i < R->npics; i++) {
		int place;
		if (group_of(R->pics[i].name, &place) == g)
			return 1;
	}
	return 0;
}

/* Everything under the title: what was measured, the verdict, the
 * headline table, the contents, the data files, the pictures by question,
 * then the details and the long tables. */
static void doc_body(const report *R, doc *d)
{
	doc_p(d,
	      "Written by `attnbench report` from %d run%s on %d machine%s; every figure below comes from the "
	      "machine named in its subtitle.",
	      R->nruns, R->nruns == 1 ? "" : "s", R->nmach, R->nmach == 1 ? "" : "s");
	doc_measured(R, d);
	doc_h(d, 2, H_VERDICT);
	doc_verdict(R, d);
	doc_h(d, 2, H_HEADLINES);
	doc_p(d, "Per machine, backend and dtype, each figure from that dtype's own rows: prefill time at the "
	         "largest seq_len every backend measured, decode tokens per second (batch / step time) at the largest "
	         "cache_len every backend measured, the highest GFLOP/s of any point, the fitted prefill exponent "
	         "(cost plot), and the largest workspace of any point.");
	doc_headlines(R, d);
	const char *toc[NGROUPS + 8];
	int nt = 0;
	toc[nt++] = H_VERDICT;
	toc[nt++] = H_HEADLINES;
	toc[nt++] = H_DATA;
	for (int g = 0; g < NGROUPS; g++)
		if (group_used(R, g))
			toc[nt++] = groups[g].heading;
	if (group_used(R, -1))
		toc[nt++] = H_OTHER;
	toc[nt++] = H_MACHINES;
	toc[nt++] = H_INPUTS;
	toc[nt++] = H_NOISY;
	if (R->nmach > 1)
		toc[nt++] = H_MISSING;
	if (R->split.nlines)
		toc[nt++] = H_SCENARIOS;
	doc_h(d, 2, "Contents");
	doc_toc(d, toc, nt);
	doc_h(d, 2, H_DATA);
	doc_data_files(R, d);
	for (int g = 0; g < NGROUPS; g++) {
		if (!group_used(R, g))
			continue;
		doc_h(d, 2, groups[g].heading);
		for (int i = 0; i < R->npics; i++) {
			int place = 0;
			if (group_of(R->pics[i].name, &place) == g)
				doc_picture(R, d, &R->pics[i], groups[g].howto[place]);
		}
	}
	if (group_used(R, -1)) {
		doc_h(d, 2, H_OTHER);
		for (int i = 0; i < R->npics; i++) {
			int place;
			if (group_of(R->pics[i].name, &place) < 0)
				doc_picture(R, d, &R->pics[i], NULL);
		}
	}
	doc_h(d, 2, H_MACHINES);
	doc_machines(R, d);
	doc_h(d, 2, H_INPUTS);
	doc_inputs(R, d);
	doc_h(d, 2, H_NOISY);
	doc_noisy(R, d);
	if (R->nmach > 1) {
		doc_h(d, 2, H_MISSING);
		if (R->nmissing) {
			doc_p(
			    d,
			    "%d point%s measured on some machines but not on others; the pictures show them where they "
			    "exist.",
			    R->nmissing, R->nmissing == 1 ? " is" : "s are");
			doc_missing(R, d);
		} else {
			doc_p(d, "Every point was measured on every machine.");
		}
	}
	if (R->split.nlines) {
		doc_h(d, 2, H_SCENARIOS);
		doc_p(d, "The numbers of the prefill/decode split picture: one row per line (machine, backend, dtype) "
		         "and request scenario.");
		doc_split(R, d);
	}
}

/* report.md then index.html (last: its presence means a complete report). */
int report_write_docs(const report *R)
{
	doc d = {0};
	file_out md, html;
	int rc = open_partial(R, "report.md", &md);
	if (rc)
		return rc;
	rc = open_partial(R, "index.html", &html);
	if (rc) {
		file_out_abort(&md);
		return rc;
	}
	d.md = md.f;
	d.html = html.f;
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
	        "ul.toc { columns: 2; }\n"
	        "</style>\n</head>\n<body>\n");
	fprintf(d.md, "# attnbench report\n\n");
	fprintf(d.html, "<h1>attnbench report</h1>\n");
	doc_body(R, &d);
	fprintf(d.html, "</body>\n</html>\n");
	rc = commit_partial(&md);
	if (rc) {
		file_out_abort(&html);
		return rc;
	}
	return commit_partial(&html);
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
static int write_fits(const report *R, FILE *f)
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
			                     phase_name(ph ? PHASE_DECODE : PHASE_PREFILL),
			                     b[0],
			                     b[1],
			                     b[2],
			                     b[3],
			                     b[4],
			                     b[5],
			                     b[6],
			                     ph ? "ns/n" : "ns/n^2",
			                     b[7],
			                     dtype_name(r->dtype)};
			if (table_write_row(f, row, 15)) {
				sel_free(&S);
				return -1;
			}
		}
		sel_free(&S);
	}
	return 0;
}

int report_write_fits(const report *R)
{
	file_out o;
	const int rc = open_partial(R, "fits.csv", &o);
	if (rc)
		return rc;
	if (write_fits(R, o.f)) {
		file_out_abort(&o);
		return rep_fail(1, "cannot write fits.csv");
	}
	return commit_partial(&o);
}
