/* report.h - `attnbench report`: plots (through gnuplot), fits.csv,
 * report.md and index.html from one or more sweep runs.
 *
 * The entry point (cmd/report.c fills report_opts and calls report_main);
 * the model the files share is model.h. The flow, one file each:
 *
 *   load.c       read every run (results.csv, machine.json) into rows;
 *                machines, recency, merging of shards (duplicates dropped)
 *   select.c     rows -> lines of a picture (select.h)
 *   headlines.c  the figures report.md states, computed from the rows and
 *                the two base selections before anything is drawn: the
 *                headline table, the request split, the missing points
 *   pictures_*.c one function per picture; each fills only its own entry
 *   gnuplot.c    writing scripts and data safely, running gnuplot (gnuplot.h)
 *   summary.c    the top of report.md and index.html: what was measured
 *                where, the verdict (check.csv), contents, data files
 *   docfmt.c     writing both documents at once, escaped (docfmt.h)
 *   doc.c        report.md, index.html and fits.csv
 *   report.c     the order of it all (report_main)
 *   text.c       malloc'ed printf, growing strings, times and byte counts,
 *                picture entries
 *
 * cmd/report.c parses the command line into report_opts and calls
 * report_main. */
#ifndef ATTN_REPORT_H
#define ATTN_REPORT_H

#include <stdint.h>

#include "report/model.h"

/* ---- the command's request ------------------------------------------------- */

/* What `attnbench report` was asked for (cmd/report.c fills it). */
typedef struct report_opts {
	const char *out_dir; /* NULL: the first run's directory */
	int png, svg;
	int64_t prompts[MAX_SCEN], gen[MAX_SCEN]; /* the request scenarios */
	int nprompts, ngen;
	char *const *runs; /* RUN_DIR or results.csv paths, as given */
	int nruns;         /* 1 .. MAX_RUNS */
} report_opts;

/* Load, merge and validate every run, then write the report into
 * o->out_dir (created); prints one line on success. Returns EXIT_PASS,
 * EXIT_INPUT (bad input, named on stderr) or 1 (gnuplot or writing
 * failed). */
int report_main(const report_opts *o);

#endif
