/* bench.c - `attnbench bench`: the sweep's grid as Google Benchmark
 * families with BigO fits, in Google Benchmark's own output (run/bench.c). */
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/common.h"
#include "run/gbench_shim.h"
#include "run/bench.h"

const cli_command bench_command = {
    .name = "bench",
    .synopsis = "[--config FILE] [grid options] [options] [--benchmark_*]",
    .about = "Registers the grid as Google Benchmark families over seq (prefill, attend) or\n"
             "cache (decode), one per backend and point, so that Google Benchmark fits BigO\n"
             "(N^2 for prefill and attend, N for decode) and prints its own report.",
    .shared = CLI_BACKENDS | CLI_MAX_MEM | CLI_GRID,
    .notes = "Every --benchmark_* flag goes to Google Benchmark (--benchmark_filter=REGEX,\n"
             "--benchmark_format=json, --benchmark_out=FILE, --benchmark_repetitions=N, ...);\n"
             "--benchmark_repetitions and --benchmark_min_time rule unless --config,\n"
             "--repetitions or --min-time set them.",
    .examples = "# BigO fits for blocked's prefill, 0.05 s per point, as JSON into bench.json\n"
                "attnbench bench --backend blocked --phases prefill --seq 256,512,1024 \\\n"
                "    --benchmark_min_time=0.05s --benchmark_out=bench.json --benchmark_out_format=json\n"
                "# the smoke grid's decode families only, 3 repetitions\n"
                "attnbench bench --config smoke --benchmark_filter='^decode/' --benchmark_repetitions=3",
};

int cmd_bench(int argc, char **argv)
{
	/* Google Benchmark takes its --benchmark_* flags first (and would
	 * answer --help with its own usage) */
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			cli_usage(&bench_command, stdout);
			return EXIT_PASS;
		}
	gb_initialize(&argc, argv);
	cli_common com;
	const int rc = cli_parse(&bench_command, argc, argv, &com);
	if (rc >= 0)
		return rc;
	sweep_opts so;
	memset(&so, 0, sizeof so);
	cli_sweep_opts(&com, &so);
	return bench_run(&so);
}
