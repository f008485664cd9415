/* check.c - `attnbench check`: its options, their checks and its usage;
 * the check itself is run/check.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/common.h"
#include "lib/paths.h"
#include "lib/files.h"
#include "run/check.h"

/* ---- the command line ---------------------------------------------------- */

enum { OPT_GOLDEN = 1, OPT_RANDOM, OPT_SEED, OPT_REPLAY, OPT_JUNIT, OPT_TOL_FACTOR, OPT_OUT };

static const cli_option check_options[] = {
    {"golden", "DIR",
     "the dataset: DIR/manifest.csv and its .npy files (default: the\n"
     "installed goldens, or datasets/golden in the source tree)",
     OPT_GOLDEN},
    {"random", "N",
     "N (1..100000) random shapes over every dimension, dtype and option the\n"
     "backends claim, against the harness's own float64 reference",
     OPT_RANDOM},
    {"seed", "S", "--random's seed (default: from the clock; printed either way)", OPT_SEED},
    {"replay", "K", "with --random and --seed: run only case K (0..N-1), as a failure prints", OPT_REPLAY},
    {"junit", "FILE", "also write the results as a JUnit XML file (default: none)", OPT_JUNIT},
    {"out", "DIR",
     "also write DIR/check.csv and DIR/junit.xml (created; each whole or\n"
     "not at all); `attnbench report DIR` states them (default: none)",
     OPT_OUT},
    {"tol-factor", "K",
     "f16/bf16 cases pass within K (default 2) x the error of an f32\n"
     "reference on the rounded inputs, plus the rounding floor",
     OPT_TOL_FACTOR},
    {0},
};

const cli_command check_command = {
    .name = "check",
    .synopsis = "[--golden DIR | --random N [--seed S [--replay K]]] [options]",
    .about = "Runs every case of DIR/manifest.csv (or N random cases) on every selected\n"
             "backend (default: all available) and prints one row per (case, backend) with\n"
             "its error figures and PASS/FAIL; exit 1 when any fails.",
    .options = check_options,
    .shared = CLI_BACKENDS | CLI_MAX_MEM | CLI_ISOLATE,
    .examples = "# the installed goldens on every backend, results into reports/latest for the report\n"
                "attnbench check --out reports/latest\n"
                "# 200 random shapes on blocked, then one failing case again\n"
                "attnbench check --random 200 --backend blocked\n"
                "attnbench check --random 200 --seed 12345 --replay 17 --backend blocked",
};

int cmd_check(int argc, char **argv)
{
	check_opts co = {.max_report = 10, .tol_factor = CHECK_TOL_FACTOR};
	cli_parser p;
	cli_common com;
	cli_begin(&p, &check_command, argc, argv, &com);
	int id, have_seed = 0;
	const char *out_dir = NULL;
	double d;
	int64_t v;
	co.random.replay = -1;
	while ((id = cli_next(&p)) > 0) {
		switch (id) {
		case OPT_GOLDEN:
			co.golden_dir = p.arg;
			break;
		case OPT_RANDOM:
			if (!parse_i64(p.arg, &v) || v < 1 || v > RANDOM_MAX_CASES)
				return cli_error(&p, "--random: '%s' is not a whole number in [1, %d]", p.arg,
				                 RANDOM_MAX_CASES);
			co.random.n = v;
			break;
		case OPT_SEED:
			if (!parse_i64(p.arg, &v) || v < 0)
				return cli_error(&p, "--seed: '%s' is not a whole number in [0, 2^63)", p.arg);
			co.random.seed = (uint64_t)v;
			have_seed = 1;
			break;
		case OPT_REPLAY:
			if (!parse_i64(p.arg, &v) || v < 0)
				return cli_error(&p, "--replay: '%s' is not a case number (0 or more)", p.arg);
			co.random.replay = v;
			break;
		case OPT_JUNIT:
			co.junit = p.arg;
			break;
		case OPT_OUT:
			out_dir = p.arg;
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
	if (co.golden_dir && co.random.n)
		return cli_error(&p, "--golden DIR and --random N: give one of them, not both");
	char golden[4200];
	if (!co.golden_dir && !co.random.n)
		co.golden_dir = data_path("golden", golden, sizeof golden);
	if (have_seed && !co.random.n)
		return cli_error(&p, "--seed needs --random N");
	if (co.random.replay >= 0 && !have_seed)
		return cli_error(&p, "--replay needs --random N and the --seed of the run it replays");
	if (co.random.replay >= co.random.n && co.random.replay >= 0)
		return cli_error(&p, "--replay %lld: the run has cases 0..%lld (--random %lld)",
		                 (long long)co.random.replay, (long long)co.random.n - 1, (long long)co.random.n);
	attn_err e = {{0}};
	if (co.junit && file_out_check(co.junit, &e)) /* before any case runs, not after all of them */
		return attn_fail("check", EXIT_INPUT, "--junit %s", e.msg);
	char csv[4200], junit[4200];
	if (out_dir) {
		if (co.junit)
			return cli_error(&p,
			                 "--junit FILE and --out DIR: give one of them (--out writes DIR/junit.xml)");
		snprintf(csv, sizeof csv, "%s/check.csv", out_dir);
		snprintf(junit, sizeof junit, "%s/junit.xml", out_dir);
		if (!*out_dir || mkdir_p(out_dir) != 0)
			return attn_fail("check", EXIT_INPUT, "--out %s: cannot create the directory: %s", out_dir,
			                 strerror(errno));
		if (file_out_check(csv, &e) || file_out_check(junit, &e))
			return attn_fail("check", EXIT_INPUT, "--out %s", e.msg);
		co.csv = csv;
		co.junit = junit;
	}
	if (co.random.n && !have_seed)
		co.random.seed = random_seed_now();
	co.backends = com.backends;
	co.cfg = com.cfg;
	co.timeout_s = com.timeout_s > 0 ? com.timeout_s : CHECK_TIMEOUT_S;
	co.no_isolate = com.no_isolate;
	co.max_mem = com.settings.max_mem ? com.settings.max_mem : machine_ram_bytes() / 2;
	return check_run(&co);
}
