/* report.h - `attnbench report`: plots (through gnuplot), fits.csv,
 * report.md and index.html from one or more sweep runs. */
#ifndef ATTN_REPORT_H
#define ATTN_REPORT_H

/* argv[0] is "report"; parses its own options (getopt_long). Returns
 * EXIT_PASS, 1 when gnuplot or writing the output fails, or EXIT_INPUT for
 * a usage error or a malformed run. */
int report_main(int argc, char **argv);

/* Run `gnuplot SCRIPT` in dir, as the report does for its pictures (the
 * ATTNBENCH_GNUPLOT environment variable names another binary). Anything
 * gnuplot prints, or a failure, is reported on stderr; returns 0 or 1. */
int report_gnuplot(const char *dir, const char *script);

#endif
