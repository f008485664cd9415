/* report.c - `attnbench report RUN_DIR... [--out DIR] [--format png|svg|both]
 * [--prompts L] [--gen L]`: its options, their checks and its usage; the
 * report itself is harness/report/ (report_main). */
#include "cmd/cmd.h"

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "report/report.h"

/* Usage of the report command. */
static void report_usage(FILE *f)
{
	fputs("usage: attnbench report RUN_DIR... [--out DIR] [--format png|svg|both]\n"
	      "                        [--prompts L] [--gen L]\n"
	      "\n"
	      "  RUN_DIR          a sweep's output directory (results.csv, machine.json) or a results.csv;\n"
	      "                   several: shards of one grid and/or several machines\n"
	      "  --out DIR        where the report goes (default: the first RUN_DIR)\n"
	      "  --format F       png, svg or both (default both)\n"
	      "  --prompts L      prompt lengths of the request scenarios (default 512,2048,8192)\n"
	      "  --gen L          generated tokens of the request scenarios (default 128,512)\n"
	      "\n"
	      "Writes NAME.gp, NAME.dat and NAME.png/.svg per picture, fits.csv, report.md and\n"
	      "index.html (last). Needs gnuplot. Exit codes: 0 done, 1 gnuplot or writing failed,\n"
	      "2 usage or input error.\n",
	      f);
}

/* Usage error: message, usage, exit code 2. */
static int report_usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "attnbench report: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n\n");
	report_usage(stderr);
	return EXIT_INPUT;
}

/* Parse a list of positive token counts (--prompts, --gen). */
static int parse_counts(const char *s, int64_t *out, int *n)
{
	const int k = parse_i64_list(s, out, MAX_SCEN);
	if (k < 1)
		return -1;
	for (int i = 0; i < k; i++)
		if (out[i] < 1 || out[i] > 10000000)
			return -1;
	*n = k;
	return 0;
}

/* The command: options, then the report. */
int cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"out", required_argument, 0, 'o'},     {"format", required_argument, 0, 'f'},
	    {"prompts", required_argument, 0, 'p'}, {"gen", required_argument, 0, 'g'},
	    {"help", no_argument, 0, 'h'},          {0, 0, 0, 0},
	};
	report_opts o = {.png = 1, .svg = 1, .prompts = {512, 2048, 8192}, .gen = {128, 512}, .nprompts = 3, .ngen = 2};
	opterr = 0;
	optind = 1;
	int opt;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			report_usage(stdout);
			return EXIT_PASS;
		case 'o':
			o.out_dir = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "png") && strcmp(optarg, "svg") && strcmp(optarg, "both"))
				return report_usage_error("--format: '%s' is not png, svg or both", optarg);
			o.png = strcmp(optarg, "svg") != 0;
			o.svg = strcmp(optarg, "png") != 0;
			break;
		case 'p':
			if (parse_counts(optarg, o.prompts, &o.nprompts))
				return report_usage_error("--prompts: '%s' is not a list of token counts (1..10000000)",
				                          optarg);
			break;
		case 'g':
			if (parse_counts(optarg, o.gen, &o.ngen))
				return report_usage_error("--gen: '%s' is not a list of token counts (1..10000000)",
				                          optarg);
			break;
		default:
			if (optopt)
				return report_usage_error("option '%s' needs a value", argv[optind - 1]);
			return report_usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return report_usage_error("report needs at least one RUN_DIR%s", "");
	if (argc - optind > MAX_RUNS)
		return report_usage_error("at most 64 RUN_DIRs (got more)%s", "");
	o.runs = argv + optind;
	o.nruns = argc - optind;
	return report_main(&o);
}
