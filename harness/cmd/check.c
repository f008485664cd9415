/* check.c - `attnbench check`: its options, their checks and its usage;
 * the check itself is run/check.c. */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/common.h"
#include "run/check.h"

/* ---- the command line ---------------------------------------------------- */

enum { OPT_GOLDEN = 1, OPT_JUNIT, OPT_TOL_FACTOR };

static const cli_option check_options[] = {
    {"golden", "DIR", "the dataset: DIR/manifest.csv and its .npy files (required)", OPT_GOLDEN},
    {"junit", "FILE", "also write the results as a JUnit XML file", OPT_JUNIT},
    {"tol-factor", "K",
     "f16/bf16 cases pass within K (default 2) x the error of an f32\n"
     "reference on the rounded inputs, plus the rounding floor",
     OPT_TOL_FACTOR},
    {0},
};

const cli_command check_command = {
    .name = "check",
    .synopsis = "--golden DIR [options]",
    .about = "Runs every case of DIR/manifest.csv on every selected backend (default: all\n"
             "available) and prints one row per (case, backend) with its error figures and\n"
             "PASS/FAIL; exit 1 when any fails.",
    .options = check_options,
    .shared = CLI_BACKENDS | CLI_MAX_MEM | CLI_ISOLATE,
};

int cmd_check(int argc, char **argv)
{
	check_opts co = {.max_report = 10, .tol_factor = CHECK_TOL_FACTOR};
	cli_parser p;
	cli_common com;
	cli_begin(&p, &check_command, argc, argv, &com);
	int id;
	double d;
	while ((id = cli_next(&p)) > 0) {
		switch (id) {
		case OPT_GOLDEN:
			co.golden_dir = p.arg;
			break;
		case OPT_JUNIT:
			co.junit = p.arg;
			break;
		case OPT_TOL_FACTOR:
			if (!parse_f64(p.arg, &d) || !(d >= 1) || d > 1e6)
				return cli_error(&p, "--tol-factor: '%s' is not a number in [1, 1e6]", p.arg);
			co.tol_factor = d;
			break;
		default:
			break;
		}
	}
	if (id < 0)
		return p.rc;
	if (!co.golden_dir)
		return cli_error(&p, "check needs --golden DIR");
	co.backends = com.backends;
	co.cfg = com.cfg;
	co.timeout_s = com.timeout_s > 0 ? com.timeout_s : CHECK_TIMEOUT_S;
	co.no_isolate = com.no_isolate;
	co.max_mem = com.settings.max_mem ? com.settings.max_mem : machine_ram_bytes() / 2;
	return check_run(&co);
}
