/* main.c - the attnbench command line: a table of commands. Each command
 * owns its options, their checks and its usage text (harness/cmd/). Exit
 * codes: 0 done, 1 a check failed, 2 usage or input error. */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/common.h"
#include "lib/util.h"
#include "model/machine.h"
#include "run/blas_core.h"

/* The commands, in the order `attnbench help` lists them. To add one:
 * write harness/cmd/NAME.c with a cli_command (synopsis, options table with
 * help text, operands) and int cmd_NAME(int argc, char **argv) that parses
 * with cmd/common.h's cli_begin/cli_next (argv[0] is "NAME"; --help, usage
 * errors and the shared options come with it), declare it in cmd/cmd.h, and
 * add a line here. The work it does belongs in run/ or report/. */
static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
    {"list", cmd_list, "backends, availability, devices, capabilities"},
    {"check", cmd_check, "every golden case on every selected backend"},
    {"sweep", cmd_sweep, "measure the grid, write DIR/results.csv"},
    {"bench", cmd_bench, "the grid as Google Benchmark families with BigO fits"},
    {"report", cmd_report, "plots (gnuplot), fits.csv, report.md, index.html from runs"},
    {"compare", cmd_compare, "per-point slowdowns between two runs; exit 1 on a regression"},
    {"plan", cmd_plan, "KV-cache capacity and attention-time projections for a model"},
    {"roofline", cmd_roofline, "measure the machine's peaks (GFLOP/s, GB/s)"},
};
#define NCOMMANDS ((int)(sizeof commands / sizeof commands[0]))

static void usage(FILE *f)
{
	fputs("usage: attnbench <command> [options]\n\ncommands:\n", f);
	for (int i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\n"
	      "attnbench help COMMAND (or attnbench COMMAND --help) prints a command's options;\n"
	      "attnbench --version the version. Exit codes: 0 done, 1 a check failed,\n"
	      "2 usage or input error.\n",
	      f);
}

static const struct command *find(const char *name)
{
	for (int i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static int unknown_command(const char *name)
{
	fprintf(stderr, "attnbench: unknown command '%s'", name);
	const struct command *best = NULL;
	int bd = 3; /* a close name: at most 2 edits */
	for (int i = 0; i < NCOMMANDS; i++) {
		const int d = cli_distance(name, commands[i].name);
		if (d < bd) {
			bd = d;
			best = &commands[i];
		}
	}
	if (best && *name)
		fprintf(stderr, "; did you mean '%s'?", best->name);
	fputs("\n\n", stderr);
	usage(stderr);
	return EXIT_INPUT;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs("attnbench: a command is required\n\n", stderr);
		usage(stderr);
		return EXIT_INPUT;
	}
	const char *name = argv[1];
	if (!strcmp(name, "--version")) {
		printf("attnbench %s (backend ABI %d to %d)\ncommit %s\ncompiler %s, flags %s\n", ATTNBENCH_VERSION,
		       ATTN_ABI_MIN_VERSION, ATTN_ABI_VERSION, build_commit(), __VERSION__, build_flags());
		return EXIT_PASS;
	}
	const int help = !strcmp(name, "help") || !strcmp(name, "--help") || !strcmp(name, "-h");
	if (help && argc < 3) {
		usage(stdout);
		return EXIT_PASS;
	}
	if (help) {
		/* attnbench help CMD is attnbench CMD --help */
		const struct command *c = find(argv[2]);
		static char flag[] = "--help";
		char *args[] = {argv[2], flag, NULL};
		return c ? c->run(2, args) : unknown_command(argv[2]);
	}
	const struct command *c = find(name);
	/* the commands that run sgemm: OpenBLAS's own kernels for this CPU */
	if (c &&
	    (!strcmp(name, "check") || !strcmp(name, "sweep") || !strcmp(name, "bench") || !strcmp(name, "roofline")))
		blas_core_pick(argv);
	return c ? c->run(argc - 1, argv + 1) : unknown_command(name);
}
