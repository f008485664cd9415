/* cmd.h - the commands of attnbench, one entry point each (the table of
 * them is in main.c). argv[0] is the command's name; each command parses its
 * own options and prints its own usage (`attnbench CMD --help`). Every
 * entry returns an exit code: EXIT_PASS (0), EXIT_CHECK_FAILED (1: a check
 * or gate failed, or an output could not be written) or EXIT_INPUT (2: a
 * usage or input error, named on stderr). */
#ifndef ATTN_CMD_H
#define ATTN_CMD_H

/* backends, availability, devices, capabilities */
int cmd_list(int argc, char **argv);
/* every golden case on every selected backend */
int cmd_check(int argc, char **argv);
/* measure the grid, write DIR/results.csv */
int cmd_sweep(int argc, char **argv);
/* the grid as Google Benchmark families with BigO fits */
int cmd_bench(int argc, char **argv);
/* the machine's peaks */
int cmd_roofline(int argc, char **argv);
/* plots (gnuplot), fits.csv, report.md and index.html from sweep runs */
int cmd_report(int argc, char **argv);
/* per-point slowdowns between two runs (Mann-Whitney U gate, JUnit) */
int cmd_compare(int argc, char **argv);
/* KV-cache capacity and attention-time projections for a model */
int cmd_plan(int argc, char **argv);

#endif
