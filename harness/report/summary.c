/* summary.c - the top of the report (summary.h): what was measured where,
 * the verdict, the contents and the data files. */
#define _GNU_SOURCE /* realpath with NULL */
#include "report/summary.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/table.h"

/* ---- check.csv ---------------------------------------------------------------- */

#define MAX_FAILED_NAMED 8

static const char *const check_status[3] = {"pass", "fail", "skip"};

int report_load_check(report *R, int ri, attn_err *e)
{
	run_in *run = &R->runs[ri];
	char *path = rep_asprintf("%s/check.csv", run->dir);
	if (!path)
		return attn_errf(e, "out of memory");
	if (access(path, F_OK) != 0) {
		free(path);
		return 0;
	}
	table t;
	if (table_read(path, &t, e)) {
		free(path);
		return EXIT_INPUT;
	}
	const char *const need[3] = {"backend", "case", "status"};
	int col[3], rc = 0, named = 0;
	size_t fl = 0;
	for (int c = 0; c < 3 && !rc; c++)
		if ((col[c] = table_col(&t, need[c])) < 0)
			rc = attn_errf(e, "%s: no column '%s' (check --out writes backend, case, status, ...)", path,
			               need[c]);
	for (int r = 0; r < t.nrows && !rc; r++) {
		const char *be = t.rows[r][col[0]], *cs = t.rows[r][col[1]], *st = t.rows[r][col[2]];
		int s = 0;
		while (s < 3 && strcmp(st, check_status[s]))
			s++;
		if (s == 3) {
			rc = attn_errf(e, "%s: line %d: column status: '%.40s' is not pass, fail or skip", path, r + 2,
			               st);
			break;
		}
		run->check_n[s]++;
		int b = 0;
		while (b < run->ncheck_be && strcmp(run->check_be[b], be))
			b++;
		if (b == run->ncheck_be && b < 16)
			snprintf(run->check_be[run->ncheck_be++], sizeof run->check_be[0], "%s", be);
		if (b < 16)
			run->check_be_n[b][s]++;
		if (s == 1 && named++ < MAX_FAILED_NAMED)
			rep_append(&run->check_failed, &fl, "%s%.80s on %.60s", fl ? ", " : "", cs, be);
	}
	if (!rc && named > MAX_FAILED_NAMED)
		rep_append(&run->check_failed, &fl, " and %d more", named - MAX_FAILED_NAMED);
	run->has_check = !rc;
	table_free(&t);
	free(path);
	return rc ? EXIT_INPUT : 0;
}

void report_checks_free(report *R)
{
	for (int k = 0; k < R->nruns; k++) {
		free(R->runs[k].check_failed);
		R->runs[k].check_failed = NULL;
	}
}

/* ---- what was measured -------------------------------------------------------- */

void doc_measured(const report *R, doc *d)
{
	int dt[8] = {0}, ph[3] = {0}, nok = 0;
	for (int i = 0; i < R->nrows; i++) {
		const rrow *r = &R->rows[i];
		if (r->dropped)
			continue;
		nok++;
		if ((unsigned)r->dtype < 8)
			dt[r->dtype] = 1;
		if ((unsigned)r->phase < 3)
			ph[r->phase] = 1;
	}
	char *bes = NULL, *dts = NULL, *phs = NULL;
	size_t bl = 0, dl = 0, pl = 0;
	for (int b = 0; b < R->nbackends; b++)
		rep_append(&bes, &bl, "%s%s", b ? ", " : "", R->backends[b]);
	for (int t = 0; t < 8; t++)
		if (dt[t])
			rep_append(&dts, &dl, "%s%s", dl ? ", " : "", dtype_name((attn_dtype)t));
	for (int p = 0; p < 3; p++)
		if (ph[p])
			rep_append(&phs, &pl, "%s%s", pl ? ", " : "", phase_name((enum phase)p));
	doc_p(d, "Measured: %d point%s of %d backend%s (%s), phases %s, dtypes %s, on %d machine%s:", nok,
	      nok == 1 ? "" : "s", R->nbackends, R->nbackends == 1 ? "" : "s", esc(d, bes ? bes : "none"),
	      phs ? phs : "none", dts ? dts : "none", R->nmach, R->nmach == 1 ? "" : "s");
	free(bes);
	free(dts);
	free(phs);
	fprintf(d->html, "<ul>\n");
	for (int m = 0; m < R->nmach; m++) {
		const machine_info *mi = &R->runs[R->machines[m].run].m;
		char ram[64] = "?", cpus[24], threads[24];
		if (mi->ram_bytes >= 0)
			rep_bytes((double)mi->ram_bytes, ram, sizeof ram);
		/* the ISA: the last word of the OS line ("Linux 6.1 x86_64") */
		const char *os = meta_text(mi->os, "");
		const char *isa = strrchr(os, ' ') ? strrchr(os, ' ') + 1 : (*os ? os : "unknown ISA");
		doc_item(d,
		         "%s: %s, %s CPUs (%s threads used), %s, %s RAM; devices (GPU and driver where one was used): "
		         "%s; built with %s, commit %s",
		         esc(d, R->machines[m].host), esc(d, meta_text(mi->cpu_model, "unknown CPU")),
		         count_text(mi->cpus_online, cpus, sizeof cpus),
		         count_text(mi->threads_used, threads, sizeof threads), esc(d, isa), ram,
		         esc(d, meta_text(mi->devices, "unknown")), esc(d, meta_text(mi->build_flags, "unknown flags")),
		         esc(d, meta_text(mi->git_commit, "?")));
	}
	fprintf(d->md, "\n");
	fprintf(d->html, "</ul>\n");
}

/* ---- the verdict -------------------------------------------------------------- */

void doc_verdict(const report *R, doc *d)
{
	int n[3] = {0}, runs = 0;
	for (int k = 0; k < R->nruns; k++)
		for (int s = 0; s < 3 && R->runs[k].has_check; s++)
			n[s] += R->runs[k].check_n[s];
	for (int k = 0; k < R->nruns; k++)
		runs += R->runs[k].has_check;
	if (!runs)
		doc_p(d, "Correctness: not checked here. No run directory holds check results (check.csv): "
		         "`attnbench check --out RUN_DIR` writes them beside the sweep, as `make run` does.");
	else if (n[1] == 0)
		doc_p(d,
		      "Correctness: PASS. All %d (case, backend) pairs of `attnbench check` that ran matched the "
		      "reference within tolerance (%d skipped).",
		      n[0], n[2]);
	else
		doc_p(d,
		      "Correctness: FAIL. %d of %d (case, backend) pairs of `attnbench check` did not match the "
		      "reference; their figures in this report may be wrong.",
		      n[1], n[0] + n[1]);
	if (runs) {
		const char *hdr[] = {"host", "backend", "passed", "failed", "skipped"};
		int rows = 0;
		for (int k = 0; k < R->nruns; k++)
			rows += R->runs[k].has_check ? R->runs[k].ncheck_be : 0;
		char **cells = calloc((size_t)rows * 5 + 1, sizeof *cells);
		int at = 0;
		for (int k = 0; k < R->nruns && cells; k++)
			for (int b = 0; R->runs[k].has_check && b < R->runs[k].ncheck_be; b++, at++) {
				const run_in *r = &R->runs[k];
				char **c = cells + at * 5;
				c[0] = rep_asprintf("%s", R->machines[r->machine].host);
				c[1] = rep_asprintf("%s", r->check_be[b]);
				for (int s = 0; s < 3; s++)
					c[2 + s] = rep_asprintf("%d", r->check_be_n[b][s]);
			}
		if (cells)
			doc_table(d, 5, hdr, cells, rows);
		free_cells(cells, cells ? rows * 5 : 0);
		for (int k = 0; k < R->nruns; k++)
			if (R->runs[k].has_check && R->runs[k].check_failed)
				doc_p(d, "Failed on %s: %s.", esc(d, R->machines[R->runs[k].machine].host),
				      esc(d, R->runs[k].check_failed));
	}
	int ok = 0, rows = 0, skipped = 0, unfinished = 0;
	for (int k = 0; k < R->nruns; k++) {
		const run_in *r = &R->runs[k];
		ok += r->nok;
		rows += r->nrows;
		unfinished += r->unfinished;
		for (int i = 0; i < r->nstatus; i++)
			if (!strncmp(r->status[i], "skipped", 7))
				skipped += r->status_n[i];
	}
	doc_p(d,
	      "Measurements: %d of %d points measured ok; %d skipped (not supported, or over the memory budget), "
	      "%d failed%s. Points that are not ok are left out of every picture (Inputs lists why).",
	      ok, rows, skipped, rows - ok - skipped,
	      unfinished ? "; some sweeps are unfinished (resume them with --resume)" : "");
}

/* ---- links ------------------------------------------------------------------------ */

/* path relative to the report's directory when both exist, else as given
 * (malloc'ed). */
static char *rel_link(const report *R, const char *path)
{
	char *from = realpath(R->out_dir, NULL), *to = realpath(path, NULL), *out = NULL;
	if (from && to && strcmp(from, "/")) {
		size_t i = 0, last = 0;
		while (from[i] && from[i] == to[i]) {
			if (from[i] == '/')
				last = i;
			i++;
		}
		if (!from[i] && to[i] == '/')
			last = i;
		int up = 0;
		for (const char *p = from + last; *p; p++)
			up += *p == '/';
		size_t l = 0;
		for (int u = 0; u < up; u++)
			rep_append(&out, &l, "../");
		rep_append(&out, &l, "%s", to + last + 1);
	}
	free(from);
	free(to);
	return out ? out : strdup(path);
}

/* Write s percent-encoded for a URL path (a leading '#' kept: an anchor). */
static void url_path(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((p == (const unsigned char *)s && *p == '#') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-._~/", *p))
			fputc(*p, f);
		else
			fprintf(f, "%%%02X", *p);
}

void doc_link_item(doc *d, const char *text, const char *path, const char *note)
{
	fputs("- [", d->md);
	md_text(d->md, text);
	fputs("](", d->md);
	url_path(d->md, path);
	fprintf(d->md, ")%s%s\n", note ? ": " : "", note ? note : "");
	fputs("<li><a href=\"", d->html);
	url_path(d->html, path);
	fputs("\">", d->html);
	html_esc(d->html, text);
	fputs("</a>", d->html);
	if (note) {
		fputs(": ", d->html);
		html_inline(d->html, note);
	}
	fputs("</li>\n", d->html);
}

void doc_toc(doc *d, const char *const *headings, int n)
{
	fprintf(d->html, "<ul class=\"toc\">\n");
	for (int i = 0; i < n; i++) {
		char id[160];
		id[0] = '#';
		doc_slug(headings[i], id + 1, sizeof id - 1);
		doc_link_item(d, headings[i], id, NULL);
	}
	fprintf(d->md, "\n");
	fprintf(d->html, "</ul>\n");
}

void doc_data_files(const report *R, doc *d)
{
	fprintf(d->html, "<ul>\n");
	for (int k = 0; k < R->nruns; k++) {
		const run_in *r = &R->runs[k];
		static const char *const files[][2] = {
		    {"results.csv", "one row per measured point, with its repro command"},
		    {"machine.json", "the machine and build"},
		    {"check.csv", "the check results, one row per (case, backend)"},
		    {"junit.xml", "the same as JUnit XML"},
		};
		for (int i = 0; i < 4; i++) {
			char *p = !i ? rep_asprintf("%s", r->csv) : rep_asprintf("%s/%s", r->dir, files[i][0]);
			if (p && (i == 0 || access(p, R_OK) == 0)) {
				char *link = rel_link(R, p), *text = rep_asprintf("%s", link ? link : p);
				char *note = rep_asprintf("%s (host %s)", files[i][1], R->machines[r->machine].host);
				/* the note holds a host name from the inputs: as code-free text */
				for (char *c = note; c && *c; c++)
					if (strchr("\\`[]<>|&#", *c) || (unsigned char)*c < 0x20)
						*c = '?';
				if (link && text && note)
					doc_link_item(d, text, link, note);
				free(link);
				free(text);
				free(note);
			}
			free(p);
		}
	}
	doc_link_item(d, "fits.csv", "fits.csv", "the fitted exponent and BigO coefficient of every line");
	doc_link_item(d, "report.md", "report.md", "this report as Markdown");
	fprintf(d->md, "\n");
	fprintf(d->html, "</ul>\n");
	doc_p(d, "Each picture links its gnuplot script (NAME.gp) and data (NAME.dat): edit and re-draw with "
	         "`gnuplot NAME.gp` in this directory.");
}
