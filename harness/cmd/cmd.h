/* cmd.h - the commands of attnbench, one entry point each. argv[0] is the
 * command's name; each command parses its own options (getopt_long) and
 * prints its own usage. Every entry returns an exit code: EXIT_PASS (0),
 * EXIT_CHECK_FAILED (1: a check or gate failed, or an output could not be
 * written) or EXIT_INPUT (2: a usage or input error, named on stderr). */
#ifndef ATTN_CMD_H
#define ATTN_CMD_H

/* plots (gnuplot), fits.csv, report.md and index.html from sweep runs */
int cmd_report(int argc, char **argv);
/* per-point slowdowns between two runs (Mann-Whitney U gate, JUnit) */
int cmd_compare(int argc, char **argv);
/* KV-cache capacity and attention-time projections for a model */
int cmd_plan(int argc, char **argv);

#endif
