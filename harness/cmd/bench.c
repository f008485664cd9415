/* bench.c - `attnbench bench`: the sweep's grid as Google Benchmark
 * families with BigO fits, in Google Benchmark's own output (run/bench.c).
 *
 * Google Benchmark takes its --benchmark_* flags itself; this file reads
 * first the few it must know about or that the installed library (1.7)
 * does not take in today's syntax: --benchmark_min_time=0.5s or =100x
 * (the library reads plain seconds only), the formats and the output file
 * (so that the reports carry attnbench's context), --benchmark_color and
 * --benchmark_counters_tabular. */
#define _GNU_SOURCE /* program_invocation_name */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/common.h"
#include "run/gbench_shim.h"
#include "run/bench.h"

const cli_command bench_command = {
    .name = "bench",
    .synopsis = "[--config FILE|NAME] [grid options] [options] [--benchmark_*]",
    .about = "Registers the grid as Google Benchmark families over seq (prefill, attend) or\n"
             "cache (decode), one per backend and point, so that Google Benchmark fits BigO\n"
             "(N^2 for prefill and attend, N for decode) and prints its own report.",
    .shared = CLI_BACKENDS | CLI_MAX_MEM | CLI_GRID,
    .notes = "Every --benchmark_* flag goes to Google Benchmark, in its own syntax:\n"
             "  --benchmark_filter=REGEX        only the families whose name matches\n"
             "  --benchmark_min_time=0.5s|100x  time (default 0.5s) or iterations per member\n"
             "  --benchmark_repetitions=N       repetitions (default 1)\n"
             "  --benchmark_format=console|json|csv, --benchmark_out=FILE,\n"
             "  --benchmark_out_format=json|console|csv (default json)\n"
             "--min-time and --repetitions (or --config's values) rule over\n"
             "--benchmark_min_time and --benchmark_repetitions; --benchmark_min_time rules\n"
             "over --config's min_time. The reports' context has attnbench's version,\n"
             "build, machine and backends (JSON: context.attnbench).",
    .examples = "# BigO fits for blocked's prefill, 0.05 s per point, as JSON into bench.json\n"
                "attnbench bench --backend blocked --phases prefill --seq 256,512,1024 \\\n"
                "    --benchmark_min_time=0.05s --benchmark_out=bench.json --benchmark_out_format=json\n"
                "# the smoke grid's decode families only, 3 repetitions\n"
                "attnbench bench --config smoke --benchmark_filter='^decode/' --benchmark_repetitions=3",
};

/* The value of --NAME=VALUE in arg, or NULL when arg is not that flag. */
static const char *flag_value(const char *arg, const char *name)
{
	const size_t n = strlen(name);
	return !strncmp(arg, "--", 2) && !strncmp(arg + 2, name, n) && arg[2 + n] == '=' ? arg + 3 + n : NULL;
}

/* A format name into *f. Returns 0, or -1 when it is none. */
static int format_value(const char *v, enum gb_format *f)
{
	static const char *const names[] = {
	    [GB_FORMAT_CONSOLE] = "console", [GB_FORMAT_JSON] = "json", [GB_FORMAT_CSV] = "csv"};
	for (int i = 0; i < 3; i++)
		if (!strcmp(v, names[i])) {
			*f = (enum gb_format)i;
			return 0;
		}
	return -1;
}

/* A yes/no flag value as Google Benchmark reads it. */
static int truthy(const char *v)
{
	return !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1") || !strcmp(v, "on") || !strcmp(v, "always") ||
	       !strcmp(v, "force");
}

/* --benchmark_min_time's value: Ts or T seconds, or Nx iterations. */
static int min_time_value(const char *v, bench_opts *b)
{
	char *end;
	errno = 0;
	const size_t n = strlen(v);
	if (n && v[n - 1] == 'x') {
		const long long it = strtoll(v, &end, 10);
		if (end != v + n - 1 || errno || it < 1 || it > 1000000000)
			return -1;
		b->min_iterations = it;
		return 0;
	}
	const double s = strtod(v, &end);
	if (end == v || (*end && strcmp(end, "s")) || errno || !(s > 0) || s > 3600)
		return -1;
	b->min_time_s = s;
	return 0;
}

/* Take the --benchmark_* flags this file reads (see the top); the min_time
 * flag is removed from argv, the others stay for Google Benchmark. Returns
 * 0 or EXIT_INPUT (printed). */
static int take_gb_flags(int *argc, char **argv, bench_opts *b)
{
	b->out.file_format = GB_FORMAT_JSON;
	b->out.color = isatty(STDOUT_FILENO);
	int to = 1;
	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i], *v;
		if (!strcmp(a, "--")) {
			while (i < *argc)
				argv[to++] = argv[i++];
			break;
		}
		if ((v = flag_value(a, "benchmark_min_time"))) {
			if (min_time_value(v, b))
				return attn_fail("bench", EXIT_INPUT,
				                 "--benchmark_min_time: '%s' is not seconds in (0, 3600] (0.5 or 0.5s) "
				                 "or an iteration count (100x)",
				                 v);
			continue;
		}
		if ((v = flag_value(a, "benchmark_format")) && format_value(v, &b->out.format))
			return attn_fail("bench", EXIT_INPUT, "--benchmark_format: '%s' is not console, json or csv",
			                 v);
		if ((v = flag_value(a, "benchmark_out_format")) && format_value(v, &b->out.file_format))
			return attn_fail("bench", EXIT_INPUT,
			                 "--benchmark_out_format: '%s' is not console, json or csv", v);
		if ((v = flag_value(a, "benchmark_out"))) {
			/* Google Benchmark opens it, and exits 1 when it cannot */
			FILE *f = *v ? fopen(v, "a") : NULL;
			if (!f)
				return attn_fail("bench", EXIT_INPUT, "--benchmark_out %s: cannot write: %s", v,
				                 *v ? strerror(errno) : "empty name");
			fclose(f);
			b->out.to_file = 1;
		}
		if ((v = flag_value(a, "benchmark_color")))
			b->out.color = !strcmp(v, "auto") ? isatty(STDOUT_FILENO) : truthy(v);
		if ((v = flag_value(a, "benchmark_counters_tabular")))
			b->out.tabular = truthy(v);
		argv[to++] = argv[i];
	}
	*argc = to;
	argv[to] = NULL;
	return 0;
}

int cmd_bench(int argc, char **argv)
{
	/* Google Benchmark takes its --benchmark_* flags first (and would
	 * answer --help with its own usage) */
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			cli_usage(&bench_command, stdout);
			return EXIT_PASS;
		}
	bench_opts bo = {.version = ATTNBENCH_VERSION};
	if (take_gb_flags(&argc, argv, &bo))
		return EXIT_INPUT;
	/* the context's "executable": the program, not the command's name */
	char *name = argv[0];
	argv[0] = program_invocation_name;
	gb_initialize(&argc, argv);
	argv[0] = name;
	cli_common com;
	const int rc = cli_parse(&bench_command, argc, argv, &com);
	if (rc >= 0)
		return rc;
	sweep_opts so;
	memset(&so, 0, sizeof so);
	cli_sweep_opts(&com, &so);
	char config[4200];
	if (cli_config_by_name("bench", &so.config, config, sizeof config))
		return EXIT_INPUT;
	return bench_run(&so, &bo);
}
