/* report.c - the order of `attnbench report`.
 *
 * Reads the results.csv and machine.json of one or more sweep runs, merges
 * them (shards of one grid, or several machines), and writes into the output
 * directory, for every picture, a gnuplot script NAME.gp and its data NAME.dat
 * (left there so a user can edit and re-run `gnuplot NAME.gp` in that
 * directory) and the pictures gnuplot draws from them; then fits.csv,
 * report.md, and index.html last, so a report with an index.html is complete.
 *
 * The flow: report_load_run per run (validate, exit 2 naming file, line and
 * column) -> report_merge (machines; duplicates dropped, newest run wins)
 * -> base_lines_select (prefill and decode lines, fitted) -> report_figures
 * (headlines, request split, missing points) -> one function per picture
 * -> fits.csv -> report.md and index.html. */
#include "report/report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/files.h"
#include "report/headlines.h"
#include "report/pictures.h"
#include "report/select.h"

/* The pictures in report order. To add one, write its function (see
 * pictures.h) and list it here; report.md shows it in this order. */
static const picture_fn pictures[] = {plot_cost,       plot_split,      plot_decode,   plot_memory,
                                      plot_memory_gqa, plot_throughput, plot_roofline, plot_heads};
enum { NPICTURES = sizeof pictures / sizeof pictures[0] };
_Static_assert(NPICTURES <= MAX_PICS, "MAX_PICS is too small for the pictures");

/* Free everything the report holds. */
static void report_free(report *R)
{
	report_unload(R);
	report_figures_free(R);
	for (int i = 0; i < R->npics; i++) {
		free(R->pics[i].caption);
		free(R->pics[i].note);
	}
}

/* The figures, every picture, fits.csv and the documents. */
static int report_write(report *R)
{
	/* the documents' paths, before anything is drawn: one that is not a
	 * regular file (a link, say) is refused, not replaced or removed */
	static const char *const docs[] = {"index.html", "report.md", "fits.csv"};
	for (int i = 0; i < 3; i++) {
		char *p = rep_asprintf("%s/%s", R->out_dir, docs[i]);
		attn_err e = {{0}};
		const int bad = p && file_out_check(p, &e);
		free(p);
		if (bad)
			return rep_fail(EXIT_INPUT, "%s", e.msg);
	}
	/* a report in progress has no index.html */
	char *idx = rep_asprintf("%s/index.html", R->out_dir);
	if (idx && remove(idx) != 0 && errno != ENOENT) {
		const int rc = rep_fail(1, "cannot remove %s: %s", idx, strerror(errno));
		free(idx);
		return rc;
	}
	free(idx);
	base_lines L;
	if (base_lines_select(R, &L))
		return rep_fail(1, "out of memory");
	int rc = report_figures(R, &L) ? rep_fail(1, "out of memory") : 0;
	for (int i = 0; i < NPICTURES && !rc; i++)
		rc = pictures[i](R, &L, &R->pics[R->npics++]);
	if (!rc)
		rc = report_write_fits(R);
	base_lines_free(&L);
	if (!rc)
		rc = report_write_docs(R);
	return rc;
}

int report_main(const report_opts *o)
{
	report *R = calloc(1, sizeof *R);
	if (!R)
		return rep_fail(1, "out of memory");
	R->out_dir = o->out_dir;
	R->png = o->png;
	R->svg = o->svg;
	memcpy(R->prompts, o->prompts, sizeof R->prompts);
	memcpy(R->gen, o->gen, sizeof R->gen);
	R->nprompts = o->nprompts;
	R->ngen = o->ngen;
	int rc = EXIT_PASS;
	attn_err e = {{0}};
	for (int i = 0; rc == EXIT_PASS && i < o->nruns && i < MAX_RUNS; i++) {
		R->runs[R->nruns].arg = o->runs[i];
		R->nruns++;
		if (report_load_run(R, R->nruns - 1, &e))
			rc = rep_fail(EXIT_INPUT, "%s", e.msg);
	}
	if (rc == EXIT_PASS && R->nrows == 0)
		rc = rep_fail(EXIT_INPUT, "%s: no rows with status ok: nothing to plot", R->runs[0].csv);
	if (rc == EXIT_PASS && report_merge(R))
		rc = rep_fail(1, "out of memory");
	if (rc == EXIT_PASS && !R->out_dir)
		R->out_dir = R->runs[0].dir;
	if (rc == EXIT_PASS && mkdir_p(R->out_dir) != 0)
		rc = rep_fail(EXIT_INPUT, "--out %s: cannot create the directory: %s", R->out_dir, strerror(errno));
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
