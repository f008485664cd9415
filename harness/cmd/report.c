/* report.c - `attnbench report RUN_DIR... [--out DIR] [--format png|svg|both]
 * [--prompts L] [--gen L]`: its options, their checks and its usage; the
 * report itself is harness/report/ (report_main). */
#include <stdint.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/common.h"
#include "lib/util.h"
#include "report/report.h"

enum { OPT_OUT = 1, OPT_FORMAT, OPT_PROMPTS, OPT_GEN };

static const cli_option report_options[] = {
    {"out", "DIR", "where the report goes (default: the first RUN_DIR)", OPT_OUT},
    {"format", "png|svg|both", "the pictures' format (default: both)", OPT_FORMAT},
    {"prompts", "L", "prompt lengths of the request scenarios (default 512,2048,8192)", OPT_PROMPTS},
    {"gen", "L", "generated tokens of the request scenarios (default 128,512)", OPT_GEN},
    {0},
};

static const cli_option report_operands[] = {
    {"RUN_DIR", NULL,
     "a sweep's output directory (results.csv, machine.json) or a\n"
     "results.csv; several: shards of one grid and/or several machines",
     0},
    {0},
};

const cli_command report_command = {
    .name = "report",
    .synopsis = "RUN_DIR... [--out DIR] [--format png|svg|both]\n"
                "                        [--prompts L] [--gen L]",
    .about = "Writes NAME.gp, NAME.dat and NAME.png/.svg per picture, fits.csv, report.md and\n"
             "index.html (last) from one or more sweep runs. Needs gnuplot.",
    .options = report_options,
    .notes = "L is a comma-separated list of token counts (1..10000000).",
    .exit1 = "gnuplot or writing failed",
    .operands = report_operands,
    .min_operands = 1,
    .max_operands = MAX_RUNS,
    .examples = "# the report of one run; open reports/latest/index.html\n"
                "attnbench report reports/latest\n"
                "# two machines (or shards) merged into one report, SVG only\n"
                "attnbench report runs/laptop runs/server --out reports/both --format svg",
};

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

/* One option of the report into o. Returns 0 or EXIT_INPUT (printed). */
static int report_option(cli_parser *p, int id, report_opts *o)
{
	const char *arg = p->arg;
	switch (id) {
	case OPT_OUT:
		o->out_dir = arg;
		return 0;
	case OPT_FORMAT:
		if (strcmp(arg, "png") && strcmp(arg, "svg") && strcmp(arg, "both"))
			return cli_error(p, "--format: '%s' is not png, svg or both", arg);
		o->png = strcmp(arg, "svg") != 0;
		o->svg = strcmp(arg, "png") != 0;
		return 0;
	case OPT_PROMPTS:
		if (parse_counts(arg, o->prompts, &o->nprompts))
			return cli_error(p, "--prompts: '%s' is not a list of token counts (1..10000000)", arg);
		return 0;
	case OPT_GEN:
		if (parse_counts(arg, o->gen, &o->ngen))
			return cli_error(p, "--gen: '%s' is not a list of token counts (1..10000000)", arg);
		return 0;
	default:
		return 0;
	}
}

/* The command: options, then the report. */
int cmd_report(int argc, char **argv)
{
	report_opts o = {.png = 1, .svg = 1, .prompts = {512, 2048, 8192}, .gen = {128, 512}, .nprompts = 3, .ngen = 2};
	cli_parser p;
	cli_common com;
	cli_begin(&p, &report_command, argc, argv, &com);
	int id;
	while ((id = cli_next(&p)) > 0)
		if (report_option(&p, id, &o))
			return p.rc;
	if (id < 0)
		return p.rc;
	o.runs = p.operands;
	o.nruns = p.noperands;
	return report_main(&o);
}
