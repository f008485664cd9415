/* sweep.c - `attnbench sweep`: measure the grid, write DIR/results.csv and
 * DIR/machine.json (run/sweep.c). */
#define _GNU_SOURCE /* program_invocation_name */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/common.h"
#include "lib/paths.h"
#include "run/sweep.h"

#define MAX_SHARDS 100000

enum { OPT_OUT = 1, OPT_SHARD, OPT_RESUME, OPT_JSON, OPT_INTERLEAVE };

static const cli_option sweep_options[] = {
    {"out", "DIR", "where results.csv and machine.json go (default: reports/latest)", OPT_OUT},
    {"shard", "I/N", "measure only every N-th point, starting at I (0 <= I < N)", OPT_SHARD},
    {"resume", NULL, "keep DIR/results.csv's ok rows, measure the rest", OPT_RESUME},
    {"json", "FILE", "also write the ok rows to FILE in Google Benchmark's JSON format", OPT_JSON},
    {"interleave", "SEED",
     "run the (point, backend) pairs in an order shuffled from SEED (0..4294967295), one repetition of each per "
     "pass; the rows are written at the end, in grid order",
     OPT_INTERLEAVE},
    {0},
};

const cli_command sweep_command = {
    .name = "sweep",
    .synopsis = "[--config FILE|NAME] [--out DIR] [grid options] [options]",
    .about = "Measures every (backend, point) of the grid and writes one row each to\n"
             "DIR/results.csv as soon as it is measured, and the machine's description to\n"
             "DIR/machine.json.",
    .options = sweep_options,
    .shared = CLI_BACKENDS | CLI_MAX_MEM | CLI_GRID | CLI_ISOLATE,
    .examples = "# the default grid, then a quick one on two backends into runs/quick\n"
                "attnbench sweep --out reports/latest\n"
                "attnbench sweep --config smoke --backend naive,blocked --out runs/quick\n"
                "# decode of a GQA model in f16 at three cache lengths\n"
                "attnbench sweep --phases decode --heads 32 --gqa 4 --head-dim 128 --cache 1024,4096,16384 --dtype f16",
};

/* argv as one shell command line (the program as it was started, then the
 * arguments), each word quoted where it needs it, with extra appended
 * unless already there. malloc'ed; NULL when out of memory. */
static char *shell_command(int argc, char **argv, const char *extra)
{
	const char *prog = program_invocation_name;
	size_t len = strlen(extra) + 4 * strlen(prog) + 5;
	int has_extra = 0;
	for (int i = 0; i < argc; i++) {
		len += 4 * strlen(argv[i]) + 3;
		has_extra |= !strcmp(argv[i], extra);
	}
	char *s = malloc(len), *p = s;
	if (!s)
		return NULL;
	for (int i = -1; i < argc; i++) {
		const char *a = i < 0 ? prog : argv[i];
		const int plain = *a && strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
		                                  "_-./,:=+@%") == strlen(a);
		if (i >= 0)
			*p++ = ' ';
		if (plain) {
			p = stpcpy(p, a);
			continue;
		}
		*p++ = '\'';
		for (; *a; a++)
			p = *a == '\'' ? stpcpy(p, "'\\''") : (*p = *a, p + 1);
		*p++ = '\'';
	}
	if (!has_extra) {
		*p++ = ' ';
		p = stpcpy(p, extra);
	}
	*p = 0;
	return s;
}

/* --shard I/N into so. Returns 0 or EXIT_INPUT (printed). */
static int shard_option(cli_parser *p, sweep_opts *so)
{
	int64_t i, n;
	char *slash = strchr(p->arg, '/');
	if (!slash)
		return cli_error(p, "--shard: '%s' is not I/N", p->arg);
	*slash = 0;
	const int ok =
	    parse_i64(p->arg, &i) && parse_i64(slash + 1, &n) && n >= 1 && n <= MAX_SHARDS && i >= 0 && i < n;
	*slash = '/';
	if (!ok)
		return cli_error(p, "--shard: expected I/N with 0 <= I < N <= %d (got '%s')", MAX_SHARDS, p->arg);
	so->shard = (int)i;
	so->nshards = (int)n;
	return 0;
}

int cmd_sweep(int argc, char **argv)
{
	sweep_opts so;
	memset(&so, 0, sizeof so);
	/* the command that resumes this sweep: this one, quoted, plus --resume
	 * (taken before getopt reorders argv) */
	char *resume_cmd = shell_command(argc, argv, "--resume");
	cli_parser p;
	cli_common com;
	cli_begin(&p, &sweep_command, argc, argv, &com);
	int id;
	while ((id = cli_next(&p)) > 0) {
		if (id == OPT_OUT)
			so.out_dir = p.arg;
		else if (id == OPT_RESUME)
			so.resume = 1;
		else if (id == OPT_JSON)
			so.json_path = p.arg;
		else if (id == OPT_SHARD && shard_option(&p, &so))
			break;
		else if (id == OPT_INTERLEAVE) {
			int64_t seed;
			if (!parse_i64(p.arg, &seed) || seed < 0 || seed > 4294967295LL) {
				cli_error(&p, "--interleave: '%s' is not a seed in 0..4294967295", p.arg);
				break;
			}
			so.interleave = 1;
			so.seed = (uint64_t)seed;
		}
	}
	int rc = p.rc;
	char config[4200];
	if (id == 0) {
		cli_sweep_opts(&com, &so);
		so.resume_cmd = resume_cmd;
		so.program = program_invocation_name;
		rc = cli_config_by_name("sweep", &so.config, config, sizeof config);
		if (!rc)
			rc = sweep_run(&so);
	}
	free(resume_cmd);
	return rc;
}
