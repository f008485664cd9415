/* summary.h - the top of the report: what was measured on which machines,
 * the verdict (the check results a run directory holds, the sweep's
 * statuses), the table of contents and the links to every data file. */
#ifndef ATTN_REPORT_SUMMARY_H
#define ATTN_REPORT_SUMMARY_H

#include "report/docfmt.h"
#include "report/model.h"

/* Read R->runs[ri].dir/check.csv when there is one (`attnbench check
 * --out DIR`): columns backend, case and status (pass, fail or skip).
 * Returns 0 (none is fine) or EXIT_INPUT with e naming the file, line and
 * column. */
int report_load_check(report *R, int ri, attn_err *e);
/* Free what report_load_check kept. */
void report_checks_free(report *R);

/* What was measured: points, backends, dtypes, and each machine's CPU,
 * cores, ISA, memory and devices (machine.json). */
void doc_measured(const report *R, doc *d);
/* The verdict: the check results (or that the run directories hold none)
 * and the sweep's failed or skipped points. */
void doc_verdict(const report *R, doc *d);
/* Links to every data file: each run's results.csv, machine.json and
 * check results, fits.csv and report.md, relative to the report. */
void doc_data_files(const report *R, doc *d);
/* A list of links to the headings given (their doc_slug anchors). */
void doc_toc(doc *d, const char *const *headings, int n);
/* A link in a list item: text (from the inputs: escaped) to path
 * (relative to the report; percent-encoded), then a note in the
 * report's own words. */
void doc_link_item(doc *d, const char *text, const char *path, const char *note);

#endif
