/* roofline.c - `attnbench roofline`: measure the machine's peaks, refresh
 * the sweep's cache of them, print them (see run/roofline.h). */
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "run/roofline.h"

enum { OPT_OUT = 1 };

static const cli_option roofline_options[] = {
    {"out", "DIR", "also write DIR/roofline.csv", OPT_OUT},
    {0},
};

const cli_command roofline_command = {
    .name = "roofline",
    .synopsis = "[--threads N] [--out DIR]",
    .about = "Measures the machine's peaks (sgemm GFLOP/s, DRAM and cache read GB/s) with N\n"
             "threads, refreshes the sweep's cache of them and prints them.",
    .options = roofline_options,
    .shared = CLI_THREADS,
    .examples = "# the peaks with every CPU, also into runs/peaks/roofline.csv\n"
                "attnbench roofline --out runs/peaks\n"
                "attnbench roofline --threads 1",
};

int cmd_roofline(int argc, char **argv)
{
	const char *out = NULL;
	cli_parser p;
	cli_common com;
	cli_begin(&p, &roofline_command, argc, argv, &com);
	int id;
	while ((id = cli_next(&p)) > 0)
		if (id == OPT_OUT)
			out = p.arg;
	if (id < 0)
		return p.rc;
	return roofline_run(com.cfg.threads, out);
}
