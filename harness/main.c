/* main.c - the attnbench command line: list, check, sweep, bench, roofline.
 * Parsing only; each command lives in its own file. Exit codes: 0 done,
 * 1 a check failed, 2 usage or input error. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/check.h"
#include "cmd/cmd.h"
#include "cmd/compare.h"
#include "run/gbench_shim.h"
#include "cmd/plan.h"
#include "run/registry.h"
#include "run/roofline.h"
#include "run/sweep.h"

#define ATTNBENCH_VERSION "0.1.0"

static void usage(FILE *f)
{
	fputs("usage: attnbench <command> [options]\n"
	      "\n"
	      "commands:\n"
	      "  list                          backends, availability, devices, capabilities\n"
	      "  check --golden DIR            every golden case on every selected backend\n"
	      "        [--junit FILE] [--max-mem SIZE] [--tol-factor K]   f16/bf16 cases pass within\n"
	      "        K (default 2) x the error of an f32 reference on the rounded inputs\n"
	      "  sweep [--config FILE] [--out DIR]   measure the grid, write DIR/results.csv\n"
	      "        [--seq L] [--heads L] [--gqa L] [--cache L] [--head-dim L] [--batch L]\n"
	      "        [--phases prefill,decode,attend] [--causal 0,1] [--dtype f32,f16,bf16]\n"
	      "        [--repetitions N] [--min-time S] [--max-mem SIZE] [--shard I/N]\n"
	      "        [--resume]   keep DIR/results.csv's ok rows, measure the rest\n"
	      "  bench [sweep's grid options] [--benchmark_*]   Google Benchmark output with BigO fits\n"
	      "  report RUN_DIR... [--out DIR]   plots (gnuplot), fits.csv, report.md, index.html\n"
	      "        [--format png|svg|both] [--prompts L] [--gen L]\n"
	      "  compare BASELINE CURRENT      per-point slowdowns between two runs (dirs or results.csv),\n"
	      "        [--max-slowdown R] [--alpha A] [--junit FILE]   Mann-Whitney U; exit 1 on a regression\n"
	      "  plan (--model NAME | --layers L --heads H --kv-heads G --head-dim D) --mem SIZE\n"
	      "        [--weights SIZE | --params N] [--kv-dtype T] [--context L] [--batch B]\n"
	      "        [--results RUN_DIR [--backend NAME]] [--csv FILE] [--out DIR]   KV-cache capacity,\n"
	      "        attention-time projections (attnbench plan --help for all options)\n"
	      "  roofline [--out DIR]          measure the machine's peaks (sgemm GFLOP/s, DRAM and cache\n"
	      "                                read GB/s), refresh the sweep's cache, write DIR/roofline.csv\n"
	      "\n"
	      "common options:\n"
	      "  --backend A,B|all             backends to run (default: all available)\n"
	      "  --backend-lib PATH            load backends from a shared library (repeatable; also\n"
	      "                                every *.so in the directories of ATTNBENCH_BACKEND_PATH)\n"
	      "  --threads N                   CPU threads (default: all online CPUs)\n"
	      "  --param NAME:key=val,...      backend-specific settings (e.g. blocked:tile_q=64)\n"
	      "  --vk-device N|NAME            Vulkan device by index or name substring\n"
	      "  --vk-timing wall|gpu          time Vulkan calls end to end (default) or on the device\n"
	      "\n"
	      "L is a comma-separated list of integers. Exit codes: 0 done, 1 a check failed,\n"
	      "2 usage or input error.\n",
	      f);
}

/* argv as one shell command line, each word quoted where it needs it, with
 * extra appended unless already there. malloc'ed; NULL when out of memory. */
static char *shell_command(int argc, char **argv, const char *extra)
{
	size_t len = strlen(extra) + 2;
	int has_extra = 0;
	for (int i = 0; i < argc; i++) {
		len += 4 * strlen(argv[i]) + 3;
		has_extra |= !strcmp(argv[i], extra);
	}
	char *s = malloc(len), *p = s;
	if (!s)
		return NULL;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const int plain = *a && strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
		                                  "_-./,:=+@%") == strlen(a);
		if (i)
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

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "attnbench: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n\n");
	usage(stderr);
	return EXIT_INPUT;
}

static int cmd_list(void)
{
	for (int i = 0; i < registry_count(); i++) {
		const backend_entry *e = registry_get(i);
		char caps[256];
		caps_str(e->be->caps, caps, sizeof caps);
		const char *device = "-";
		void *inst = NULL;
		char err[256];
		attn_config cfg = {0};
		if (e->available && e->be->create(&cfg, &inst, err, sizeof err) == ATTN_OK)
			device = e->be->device_name(inst);
		if (e->available)
			printf("%-10s ok                 %-32s %s\n", e->be->name, device, caps);
		else
			printf("%-10s unavailable (%s)   -   %s\n", e->be->name, e->reason, caps);
		if (strcmp(e->origin, "built-in") != 0)
			printf("    from %s\n", e->origin);
		if (e->available && e->be->list_devices) {
			char buf[4096] = "";
			e->be->list_devices(buf, sizeof buf);
			for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
				printf("    %s\n", line);
		}
		if (inst)
			e->be->destroy(inst);
	}
	return EXIT_PASS;
}

enum {
	OPT_BACKEND = 1000,
	OPT_BACKEND_LIB,
	OPT_THREADS,
	OPT_PARAM,
	OPT_VK_DEVICE,
	OPT_VK_TIMING,
	OPT_GOLDEN,
	OPT_JUNIT,
	OPT_MAX_MEM,
	OPT_CONFIG,
	OPT_OUT,
	OPT_REPS,
	OPT_MIN_TIME,
	OPT_SHARD,
	OPT_RESUME,
	OPT_TOL_FACTOR,
	OPT_GRID, /* grid keys: index into grid_keys */
};

static const char *const grid_keys[] = {"seq",   "heads",  "gqa",    "cache", "head_dim",
                                        "batch", "phases", "causal", "dtype"};

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("a command is required%s", "");
	const char *cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return EXIT_PASS;
	}
	if (!strcmp(cmd, "--version")) {
		printf("attnbench %s (backend ABI %d)\n", ATTNBENCH_VERSION, ATTN_ABI_VERSION);
		return EXIT_PASS;
	}
	const int is_check = !strcmp(cmd, "check"), is_sweep = !strcmp(cmd, "sweep"), is_bench = !strcmp(cmd, "bench"),
	          is_roofline = !strcmp(cmd, "roofline");
	if (!strcmp(cmd, "report"))
		return cmd_report(argc - 1, argv + 1);
	if (!strcmp(cmd, "compare"))
		return cmd_compare(argc - 1, argv + 1);
	if (!strcmp(cmd, "plan"))
		return cmd_plan(argc - 1, argv + 1);
	if (!strcmp(cmd, "list")) {
		for (int i = 2; i < argc; i += 2) {
			attn_err e = {{0}};
			if (strcmp(argv[i], "--backend-lib") || i + 1 >= argc)
				return usage_error("list takes only --backend-lib PATH (got '%s')", argv[i]);
			if (registry_load_library(argv[i + 1], &e)) {
				fprintf(stderr, "attnbench: --backend-lib %s\n", e.msg);
				return EXIT_INPUT;
			}
		}
		return cmd_list();
	}
	if (!is_check && !is_sweep && !is_bench && !is_roofline)
		return usage_error("unknown command '%s'", cmd);

	/* the command that resumes a sweep: this one, quoted, plus --resume
	 * (taken before getopt reorders argv) */
	static char *resume_cmd; /* static: still reachable on every return path */
	resume_cmd = is_sweep ? shell_command(argc, argv, "--resume") : NULL;

	/* bench: Google Benchmark takes its --benchmark_* flags first */
	int sub_argc = argc - 1;
	char **sub_argv = argv + 1;
	if (is_bench)
		gb_initialize(&sub_argc, sub_argv);

	static const struct option longopts[] = {
	    {"backend", required_argument, 0, OPT_BACKEND},
	    {"backend-lib", required_argument, 0, OPT_BACKEND_LIB},
	    {"threads", required_argument, 0, OPT_THREADS},
	    {"param", required_argument, 0, OPT_PARAM},
	    {"vk-device", required_argument, 0, OPT_VK_DEVICE},
	    {"vk-timing", required_argument, 0, OPT_VK_TIMING},
	    {"golden", required_argument, 0, OPT_GOLDEN},
	    {"junit", required_argument, 0, OPT_JUNIT},
	    {"max-mem", required_argument, 0, OPT_MAX_MEM},
	    {"config", required_argument, 0, OPT_CONFIG},
	    {"out", required_argument, 0, OPT_OUT},
	    {"repetitions", required_argument, 0, OPT_REPS},
	    {"min-time", required_argument, 0, OPT_MIN_TIME},
	    {"shard", required_argument, 0, OPT_SHARD},
	    {"resume", no_argument, 0, OPT_RESUME},
	    {"tol-factor", required_argument, 0, OPT_TOL_FACTOR},
	    {"seq", required_argument, 0, OPT_GRID + 0},
	    {"heads", required_argument, 0, OPT_GRID + 1},
	    {"gqa", required_argument, 0, OPT_GRID + 2},
	    {"cache", required_argument, 0, OPT_GRID + 3},
	    {"head-dim", required_argument, 0, OPT_GRID + 4},
	    {"batch", required_argument, 0, OPT_GRID + 5},
	    {"phases", required_argument, 0, OPT_GRID + 6},
	    {"causal", required_argument, 0, OPT_GRID + 7},
	    {"dtype", required_argument, 0, OPT_GRID + 8},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0},
	};
	check_opts co;
	sweep_opts so;
	memset(&co, 0, sizeof co);
	memset(&so, 0, sizeof so);
	attn_config cfg = {0};
	long nproc = sysconf(_SC_NPROCESSORS_ONLN);
	cfg.threads = nproc > 0 ? (int)nproc : 1;
	co.max_report = 10;
	co.tol_factor = CHECK_TOL_FACTOR;
	attn_err e = {{0}};
	opterr = 0;
	optind = 1;
	int opt;
	int li = -1;
	while ((opt = getopt_long(sub_argc, sub_argv, "h", longopts, &li)) != -1) {
		const int sweep_only = opt == OPT_CONFIG || opt == OPT_OUT || opt == OPT_REPS || opt == OPT_MIN_TIME ||
		                       opt == OPT_VK_TIMING || opt == OPT_SHARD || opt == OPT_RESUME || opt >= OPT_GRID;
		if ((is_check && sweep_only) ||
		    (!is_check && (opt == OPT_GOLDEN || opt == OPT_JUNIT || opt == OPT_TOL_FACTOR)) ||
		    (is_bench && (opt == OPT_OUT || opt == OPT_SHARD || opt == OPT_RESUME)) ||
		    (is_roofline && opt != OPT_THREADS && opt != OPT_OUT && opt != 'h' && opt != '?')) {
			/* by its name: with a separate value, argv[optind - 1] is the value */
			char name[64];
			snprintf(name, sizeof name, "--%s", li >= 0 ? longopts[li].name : "?");
			return usage_error("option '%s' does not apply to this command", name);
		}
		li = -1;
		int64_t n;
		double d;
		switch (opt) {
		case 'h':
			usage(stdout);
			return EXIT_PASS;
		case OPT_BACKEND_LIB:
			if (registry_load_library(optarg, &e)) {
				fprintf(stderr, "attnbench: --backend-lib %s\n", e.msg);
				return EXIT_INPUT;
			}
			break;
		case OPT_BACKEND:
			co.backends = so.backends = optarg;
			break;
		case OPT_THREADS:
			if (!parse_i64(optarg, &n) || n < 1 || n > 1024)
				return usage_error("--threads: '%s' is not an integer in 1..1024", optarg);
			cfg.threads = (int)n;
			break;
		case OPT_PARAM: {
			char *colon = strchr(optarg, ':');
			if (!colon)
				return usage_error("--param: '%s' is not NAME:key=value,...", optarg);
			*colon = 0;
			if (registry_set_params(optarg, colon + 1, &e))
				return usage_error("%s", e.msg);
			break;
		}
		case OPT_VK_DEVICE:
			cfg.device = optarg;
			break;
		case OPT_VK_TIMING:
			if (strcmp(optarg, "wall") && strcmp(optarg, "gpu"))
				return usage_error("--vk-timing: '%s' is not wall or gpu", optarg);
			so.vk_gpu_timing = !strcmp(optarg, "gpu");
			break;
		case OPT_GOLDEN:
			co.golden_dir = optarg;
			break;
		case OPT_JUNIT:
			co.junit = optarg;
			break;
		case OPT_TOL_FACTOR:
			if (!parse_f64(optarg, &d) || !(d >= 1) || d > 1e6)
				return usage_error("--tol-factor: '%s' is not a number in [1, 1e6]", optarg);
			co.tol_factor = d;
			break;
		case OPT_MAX_MEM:
			if (!parse_bytes(optarg, &co.max_mem) || co.max_mem == 0)
				return usage_error("--max-mem: '%s' is not a size such as 8GiB", optarg);
			so.max_mem = co.max_mem;
			break;
		case OPT_SHARD: {
			int64_t i, nn;
			char *slash = strchr(optarg, '/');
			if (!slash)
				return usage_error("--shard: '%s' is not I/N", optarg);
			*slash = 0;
			const int ok = parse_i64(optarg, &i) && parse_i64(slash + 1, &nn) && nn >= 1 && nn <= 100000 &&
			               i >= 0 && i < nn;
			*slash = '/';
			if (!ok)
				return usage_error("--shard: expected I/N with 0 <= I < N (got '%s')", optarg);
			so.shard = (int)i;
			so.nshards = (int)nn;
			break;
		}
		case OPT_RESUME:
			so.resume = 1;
			break;
		case OPT_CONFIG:
			so.config = optarg;
			break;
		case OPT_OUT:
			so.out_dir = optarg;
			break;
		case OPT_REPS:
			if (!parse_i64(optarg, &n) || n < 1 || n > SWEEP_MAX_REPS)
				return usage_error("--repetitions: '%s' is not an integer in 1..1000", optarg);
			so.repetitions = (int)n;
			break;
		case OPT_MIN_TIME:
			if (!parse_f64(optarg, &d) || !(d > 0) || d > 3600)
				return usage_error("--min-time: '%s' is not seconds in (0, 3600]", optarg);
			so.min_time = d;
			break;
		case '?':
			if (optopt)
				return usage_error("option '%s' needs a value", sub_argv[optind - 1]);
			return usage_error("unknown option '%s'", sub_argv[optind - 1]);
		default:
			if (opt >= OPT_GRID && opt < OPT_GRID + 9) {
				if (so.noverrides == 9)
					return usage_error("too many grid options%s", "");
				so.overrides[so.noverrides][0] = grid_keys[opt - OPT_GRID];
				so.overrides[so.noverrides][1] = optarg;
				so.noverrides++;
				break;
			}
			return usage_error("unknown option '%s'", sub_argv[optind - 1]);
		}
	}
	if (optind < sub_argc)
		return usage_error("unexpected argument '%s'", sub_argv[optind]);
	co.cfg = so.cfg = cfg;

	if (is_check) {
		if (!co.golden_dir)
			return usage_error("check needs --golden DIR%s", "");
		if (!co.max_mem)
			co.max_mem = machine_ram_bytes() / 2;
		return check_run(&co);
	}
	if (is_sweep) {
		so.resume_cmd = resume_cmd;
		const int rc = sweep_run(&so);
		free(resume_cmd);
		return rc;
	}
	if (is_roofline)
		return roofline_run(cfg.threads, so.out_dir);
	return bench_run(&so);
}
