/* plan.c - `attnbench plan`: its options, their checks and its usage; the
 * plan itself (capacity, projections, CSV, picture) is report/plan.c, the
 * presets file model/presets.c. */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/common.h"
#include "lib/paths.h"
#include "lib/util.h"
#include "model/presets.h"
#include "report/plan.h"

/* ---- command line ---------------------------------------------------------- */

enum {
	P_MODEL = 1,
	P_MODELS,
	P_LAYERS,
	P_HEADS,
	P_KV_HEADS,
	P_HEAD_DIM,
	P_MEM,
	P_WEIGHTS,
	P_PARAMS,
	P_WEIGHT_DTYPE,
	P_KV_DTYPE,
	P_RESERVE,
	P_CONTEXT,
	P_BATCH,
	P_RESULTS,
	P_BACKEND,
	P_CSV,
	P_OUT,
	P_PAGE_SIZE,
	P_LENS,
	P_SEED,
};

static const cli_option plan_options[] = {
    {"model", "NAME", "a preset of --models, case-insensitive (e.g. llama-3.1-8b)", P_MODEL},
    {"models", "FILE",
     "the presets (default: the installed models.csv, or\n"
     "datasets/models.csv in the source tree)",
     P_MODELS},
    {"layers", "L", "layers, with --heads, --kv-heads and --head-dim instead of\n--model (each 1..1000000)", P_LAYERS},
    {"heads", "H", "query heads", P_HEADS},
    {"kv-heads", "G", "KV heads (H a multiple of G)", P_KV_HEADS},
    {"head-dim", "D", "head size", P_HEAD_DIM},
    {"mem", "SIZE", "the device's memory (required)", P_MEM},
    {"weights", "SIZE", "the weights' bytes (default: the parameters in --weight-dtype)", P_WEIGHTS},
    {"params", "N", "parameters, instead of the preset's", P_PARAMS},
    {"weight-dtype", "T", "the weights' type: f32, f16, bf16, int8 or int4 (default bf16)", P_WEIGHT_DTYPE},
    {"kv-dtype", "T",
     "the cache's type: f32, f16, bf16, fp8_e4m3, q8_0 or q4_0\n(default f16; q8_0 and q4_0 with their block scales)",
     P_KV_DTYPE},
    {"page-size", "P", "a paged cache: each layer's tokens of a sequence take\nwhole pages of P tokens (1..1048576)",
     P_PAGE_SIZE},
    {"lens", "DIST",
     "sequences of mixed lengths admitted until the cache is full:\nL1,L2,... (cycled), uniform:LO-HI or "
     "chat[:MEDIAN-MAX]\n(log-normal, default chat:1024-32768)",
     P_LENS},
    {"seed", "N", "the seed of --lens uniform and chat (default 1)", P_SEED},
    {"reserve", "FRACTION|PERCENT%",
     "part of --mem held back for activations, workspace and\nfragmentation (default 10%)", P_RESERVE},
    {"context", "L", "contexts of the table (default 2048,4096,8192,32768,131072)", P_CONTEXT},
    {"batch", "B", "sequences for \"longest context\" (default 1)", P_BATCH},
    {"results", "RUN_DIR", "project attention time from a sweep (its directory or its\nresults.csv)", P_RESULTS},
    {"backend", "NAME", "only this backend of --results (default: every one)", P_BACKEND},
    {"csv", "FILE", "every figure as CSV (kind capacity, lens or projection)", P_CSV},
    {"out", "DIR", "plan.png (maximum sequences against context, one line per\nKV dtype) with its plan.gp and plan.dat",
     P_OUT},
    {0},
};

const cli_command plan_command = {
    .name = "plan",
    .synopsis = "(--model NAME | --layers L --heads H --kv-heads G --head-dim D)\n"
                "         --mem SIZE [--weights SIZE | --params N [--weight-dtype f16|bf16|f32|int8|int4]]\n"
                "         [--kv-dtype f16|bf16|f32|fp8_e4m3|q8_0|q4_0] [--page-size P] [--lens DIST [--seed N]]\n"
                "         [--reserve FRACTION|PERCENT%] [--context L] [--batch B]\n"
                "         [--results RUN_DIR [--backend NAME]] [--csv FILE] [--out DIR] [--models FILE]",
    .about = "How many tokens, and sequences of each context, fit in the KV cache of a model\n"
             "in a memory budget; with --results, the model's attention time (alone) at those\n"
             "contexts, projected from a measured run.",
    .options = plan_options,
    .notes = "SIZE: bytes, or with a unit: K/M/G/T or KiB/MiB/GiB/TiB (1024s), KB/MB/GB/TB (1000s).\n"
             "Without --weights the weights are the preset's params (or --params) in\n"
             "--weight-dtype; without either, 0 bytes.",
    .exit1 = "writing --csv or --out (or gnuplot) failed",
    .examples = "# how much context fits beside Llama 3.1 8B on a 24 GiB card\n"
                "attnbench plan --model llama-3.1-8b --mem 24GiB\n"
                "# the same with an 8-bit cache, attention time from a measured run\n"
                "attnbench plan --model llama-3.1-8b --mem 24GiB --kv-dtype q8_0 --results reports/latest",
};

/* A dimension of the model (--layers, ...). Returns 0 or EXIT_INPUT
 * (printed). */
static int dim_arg(cli_parser *p, const char *opt, int64_t *out)
{
	if (!parse_i64(p->arg, out) || *out < 1 || *out > 1000000)
		return cli_error(p, "%s: '%s' is not an integer in 1..1000000", opt, p->arg);
	return 0;
}

/* --reserve FRACTION|PERCENT% into o. Returns 0 or EXIT_INPUT (printed). */
static int reserve_arg(cli_parser *p, plan_opts *o)
{
	char buf[64];
	snprintf(buf, sizeof buf, "%s", p->arg);
	const size_t l = strlen(buf);
	const int pct = l && buf[l - 1] == '%';
	if (pct)
		buf[l - 1] = 0;
	double r;
	if (!parse_f64(buf, &r) || r < 0 || (pct ? r >= 100 : r >= 1))
		return cli_error(p, "--reserve: '%s' is not a fraction in [0, 1) or a percentage such as 10%%", p->arg);
	o->reserve = pct ? r / 100 : r;
	return 0;
}

/* --context L into o. Returns 0 or EXIT_INPUT (printed). */
static int context_arg(cli_parser *p, plan_opts *o)
{
	o->ncontexts = parse_i64_list(p->arg, o->contexts, 32);
	if (o->ncontexts < 1)
		return cli_error(p, "--context: '%s' is not a list of token counts such as 2048,8192", p->arg);
	for (int i = 0; i < o->ncontexts; i++)
		if (o->contexts[i] < 1 || o->contexts[i] > ((int64_t)1 << 40))
			return cli_error(p, "--context: %lld is not a token count in 1..2^40",
			                 (long long)o->contexts[i]);
	return 0;
}

/* One option of plan into o. Returns 0 or EXIT_INPUT (printed). */
static int plan_option(cli_parser *p, int id, plan_opts *o)
{
	const char *arg = p->arg;
	switch (id) {
	case P_MODEL:
		o->model = arg;
		return 0;
	case P_MODELS:
		o->models = arg;
		return 0;
	case P_LAYERS:
		return dim_arg(p, "--layers", &o->m.layers);
	case P_HEADS:
		return dim_arg(p, "--heads", &o->m.heads);
	case P_KV_HEADS:
		return dim_arg(p, "--kv-heads", &o->m.kv_heads);
	case P_HEAD_DIM:
		return dim_arg(p, "--head-dim", &o->m.head_dim);
	case P_MEM:
		if (!parse_size(arg, &o->mem) || !(o->mem > 0))
			return cli_error(p, "--mem: '%s' is not a size such as 80GiB, 24G, 512MiB or a byte count",
			                 arg);
		return 0;
	case P_WEIGHTS:
		if (!parse_size(arg, &o->weights))
			return cli_error(p, "--weights: '%s' is not a size such as 16GB or 15GiB", arg);
		return 0;
	case P_PARAMS:
		if (!parse_f64(arg, &o->params) || !(o->params > 0))
			return cli_error(p, "--params: '%s' is not a positive number of parameters (e.g. 8.03e9)", arg);
		return 0;
	case P_WEIGHT_DTYPE:
		if (!plan_weight_bytes(arg))
			return cli_error(p, "--weight-dtype: '%s' is not f32, f16, bf16, int8 or int4", arg);
		o->weight_dtype = arg;
		return 0;
	case P_KV_DTYPE:
		if (!(o->kv_dtype = plan_kv_type_name(arg)))
			return cli_error(p, "--kv-dtype: '%s' is not f32, f16, bf16, fp8_e4m3, q8_0 or q4_0", arg);
		return 0;
	case P_PAGE_SIZE:
		if (!parse_i64(arg, &o->page) || o->page < 1 || o->page > 1048576)
			return cli_error(p, "--page-size: '%s' is not a number of tokens in 1..1048576", arg);
		return 0;
	case P_LENS: {
		plan_lens l;
		char why[160];
		if (!plan_lens_parse(arg, 1, &l, why, (int)sizeof why))
			return cli_error(p, "--lens: '%s': %s", arg, why);
		o->lens = arg;
		return 0;
	}
	case P_SEED: {
		int64_t seed;
		if (!parse_i64(arg, &seed) || seed < 0)
			return cli_error(p, "--seed: '%s' is not an integer >= 0", arg);
		o->seed = (uint64_t)seed;
		o->seed_given = 1;
		return 0;
	}
	case P_RESERVE:
		return reserve_arg(p, o);
	case P_CONTEXT:
		return context_arg(p, o);
	case P_BATCH:
		if (!parse_i64(arg, &o->batch) || o->batch < 1 || o->batch > 100000000)
			return cli_error(p, "--batch: '%s' is not a number of sequences in 1..1e8", arg);
		return 0;
	case P_RESULTS:
		o->results = arg;
		return 0;
	case P_BACKEND:
		o->backend = arg;
		return 0;
	case P_CSV:
		o->csv = arg;
		return 0;
	case P_OUT:
		o->out = arg;
		return 0;
	default:
		return 0;
	}
}

int cmd_plan(int argc, char **argv)
{
	plan_opts o;
	memset(&o, 0, sizeof o);
	char models[4200];
	o.models = data_path("models.csv", models, sizeof models);
	o.weight_dtype = "bf16";
	o.kv_dtype = "f16";
	o.reserve = 0.10;
	o.batch = 1;
	o.seed = 1;
	o.weights = -1;
	o.mem = -1;
	cli_parser p;
	cli_common com;
	cli_begin(&p, &plan_command, argc, argv, &com);
	int id;
	while ((id = cli_next(&p)) > 0)
		if (plan_option(&p, id, &o))
			return p.rc;
	if (id < 0)
		return p.rc;
	/* the model's dimensions given (each is >= 1 when given) */
	const int ndims = (o.m.layers > 0) + (o.m.heads > 0) + (o.m.kv_heads > 0) + (o.m.head_dim > 0);
	if (o.model && ndims)
		return cli_error(&p, "--model and --layers/--heads/--kv-heads/--head-dim exclude each other");
	if (!o.model && ndims != 4)
		return cli_error(&p, "give --model NAME, or all of --layers, --heads, --kv-heads and --head-dim");
	if (o.mem < 0)
		return cli_error(&p, "--mem SIZE is required (e.g. --mem 80GiB)");
	if (o.seed_given && !o.lens)
		return cli_error(&p, "--seed needs --lens DIST");
	if (o.backend && !o.results)
		return cli_error(&p, "--backend needs --results RUN_DIR");
	attn_err e = {{0}};
	if (o.model) {
		if (presets_find(o.models, o.model, &o.m, &e))
			return attn_fail("plan", EXIT_INPUT, "%s", e.msg);
	} else {
		if (o.m.heads % o.m.kv_heads)
			return cli_error(&p, "--heads %lld is not a multiple of --kv-heads %lld", (long long)o.m.heads,
			                 (long long)o.m.kv_heads);
		snprintf(o.m.name, sizeof o.m.name, "L%lld H%lld G%lld D%lld", (long long)o.m.layers,
		         (long long)o.m.heads, (long long)o.m.kv_heads, (long long)o.m.head_dim);
	}
	return plan_run(&o);
}
