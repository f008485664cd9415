/* report.h - `attnbench report`: plots (through gnuplot), fits.csv,
 * report.md and index.html from one or more sweep runs. */
#ifndef ATTN_REPORT_H
#define ATTN_REPORT_H

/* Run `gnuplot SCRIPT` in dir, as the report does for its pictures (the
 * ATTNBENCH_GNUPLOT environment variable names another binary). Anything
 * gnuplot prints, or a failure, is reported on stderr; returns 0 or 1. */
int report_gnuplot(const char *dir, const char *script);

#endif
