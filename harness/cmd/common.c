/* common.c - the options the commands share, the parsing loop and usage
 * text (see common.h). */
#include "cmd/common.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/paths.h"
#include "run/registry.h"

/* getopt_long's val of each option: the command's own options by their
 * index in cmd->options, the shared ones by their index in shared[], the
 * grid keys by their index in sweep_keys[]. Every val is >= 256, so that
 * an optopt below it is a short option. */
enum { VAL_OWN = 256, VAL_SHARED = 512, VAL_KEY = 1024, VAL_HELP = 'h' };

#define CLI_MAX_THREADS 1024
#define CLI_MAX_TIMEOUT 604800 /* a week */

/* The shared options other than the grid keys, in the order usage text
 * lists them; the keys come where the entry without a name is. */
enum shared_id {
	S_CONFIG,
	S_KEYS,
	S_VK_TIMING,
	S_BACKEND,
	S_BACKEND_LIB,
	S_THREADS,
	S_PARAM,
	S_VK_DEVICE,
	S_TIMEOUT,
	S_NO_ISOLATE
};
static const struct shared_option {
	cli_option opt;
	unsigned bit;
} shared[] = {
    [S_CONFIG] = {{"config", "FILE|NAME",
                   "the grid: a file, or the name of an installed config (default,\n"
                   "smoke, ...; default: built in, as datasets/sweeps/default.conf)",
                   0},
                  CLI_GRID},
    [S_KEYS] = {{NULL, NULL, NULL, 0}, CLI_GRID},
    [S_VK_TIMING] = {{"vk-timing", "wall|gpu", "time Vulkan calls end to end (default) or on the device", 0}, CLI_GRID},
    [S_BACKEND] = {{"backend", "A,B|all", "backends to run (default: all available)", 0}, CLI_BACKEND},
    [S_BACKEND_LIB] = {{"backend-lib", "[TAG=]PATH",
                        "load backends from a shared library (repeatable; also\n"
                        "every *.so in the directories of ATTNBENCH_BACKEND_PATH);\n"
                        "TAG=PATH names them NAME@TAG, for A/B runs of two builds",
                        0},
                       CLI_BACKEND_LIB},
    [S_THREADS] = {{"threads", "N", "CPU threads (default: all online CPUs)", 0}, CLI_THREADS},
    [S_PARAM] = {{"param", "NAME:key=val,...", "backend-specific settings (e.g. blocked:tile_q=64)", 0}, CLI_PARAM},
    [S_VK_DEVICE] = {{"vk-device", "N|NAME", "Vulkan device by index or name substring", 0}, CLI_VK_DEVICE},
    [S_TIMEOUT] = {{"timeout", "SECONDS",
                    "a backend still running after SECONDS is stopped and its row\n"
                    "fails (default: check 60 per case, sweep 600 per point)",
                    0},
                   CLI_ISOLATE},
    [S_NO_ISOLATE] = {{"no-isolate", NULL,
                       "run the backends in this process, not in a worker process\n"
                       "each (for debuggers; a crash then ends the run)",
                       0},
                      CLI_ISOLATE},
};
#define NSHARED ((int)(sizeof shared / sizeof shared[0]))

/* The commands, in the order `attnbench help` lists them: an option one of
 * them takes does not apply to another, rather than being unknown. */
static const cli_command *const commands[] = {&list_command,   &check_command,   &sweep_command, &bench_command,
                                              &report_command, &compare_command, &plan_command,  &roofline_command};
#define NCOMMANDS ((int)(sizeof commands / sizeof commands[0]))

/* ---- every option of a command ------------------------------------------ */

typedef struct entry {
	cli_option opt;       /* name, arg, help (keys: without their limits) */
	const sweep_key *key; /* a grid key or run setting, else NULL */
	int val;              /* getopt_long's */
} entry;

/* Does cmd take the key option k? max_mem is the one that check shares. */
static int takes_key(const cli_command *cmd, const sweep_key *k)
{
	if (!k->flag)
		return 0;
	return !strcmp(k->name, "max_mem") ? (cmd->shared & CLI_MAX_MEM) != 0 : (cmd->shared & CLI_GRID) != 0;
}

/* The options of cmd in usage order (its own, then the shared ones, then
 * --help) into out (at most max); returns how many. */
static int entries(const cli_command *cmd, entry *out, int max)
{
	int n = 0;
	for (int i = 0; cmd->options && cmd->options[i].name && n < max; i++)
		out[n++] = (entry){cmd->options[i], NULL, VAL_OWN + i};
	for (int s = 0; s < NSHARED && n < max; s++) {
		if (!(cmd->shared & shared[s].bit) && s != S_KEYS)
			continue;
		if (s != S_KEYS) {
			out[n++] = (entry){shared[s].opt, NULL, VAL_SHARED + s};
			continue;
		}
		for (int k = 0; k < sweep_nkeys && n < max; k++) {
			const sweep_key *key = &sweep_keys[k];
			if (takes_key(cmd, key))
				out[n++] = (entry){{key->flag, key->arg, key->help, 0}, key, VAL_KEY + k};
		}
	}
	if (n < max)
		out[n++] = (entry){{"help", NULL, "this text", 0}, NULL, VAL_HELP};
	return n;
}

/* Does cmd take an option called name? */
static int takes(const cli_command *cmd, const char *name)
{
	entry all[CLI_MAX_OPTIONS];
	const int n = entries(cmd, all, CLI_MAX_OPTIONS);
	for (int i = 0; i < n; i++)
		if (!strcmp(all[i].opt.name, name))
			return 1;
	return 0;
}

/* ---- usage ------------------------------------------------------------------ */

/* One row of usage text: left at column 2, help at column 32 (on the next
 * line after a long left part); each '\n' of help continues at column 32. */
static void usage_row(FILE *f, const char *left, const char *help)
{
	static const char *const indent = "\n                                ";
	fprintf(f, "  %-29s%s", left, strlen(left) > 28 ? indent : " ");
	for (const char *h = help; *h; h++)
		if (*h == '\n')
			fputs(indent, f);
		else
			fputc(*h, f);
	fputc('\n', f);
}

void cli_usage(const cli_command *cmd, FILE *f)
{
	fprintf(f, "usage: attnbench %s %s\n\n%s\n\n", cmd->name, cmd->synopsis, cmd->about);
	if (cmd->operands) {
		fputs("arguments:\n", f);
		for (const cli_option *o = cmd->operands; o->name; o++)
			usage_row(f, o->name, o->help);
		fputc('\n', f);
	}
	fputs("options:\n", f);
	entry all[CLI_MAX_OPTIONS];
	const int n = entries(cmd, all, CLI_MAX_OPTIONS);
	for (int i = 0; i < n; i++) {
		const cli_option *o = &all[i].opt;
		char left[64], help[512];
		snprintf(left, sizeof left, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		if (all[i].key && all[i].key->kind != SWEEP_KEY_SIZE) {
			char limits[128];
			sweep_key_limits(all[i].key, limits, sizeof limits);
			snprintf(help, sizeof help, "%s (%s)", o->help, limits);
		} else {
			snprintf(help, sizeof help, "%s", o->help);
		}
		usage_row(f, left, help);
	}
	if (cmd->shared & CLI_GRID)
		fputs("\nL is a comma-separated list of integers, P and T comma-separated lists of names;\n"
		      "each replaces that key's list in every grid of the config (default: the config's lists).\n",
		      f);
	if (cmd->notes)
		fprintf(f, "\n%s\n", cmd->notes);
	if (cmd->examples) {
		fputs("\nexamples:\n", f);
		for (const char *l = cmd->examples; *l;) {
			const size_t len = strcspn(l, "\n");
			fprintf(f, "  %.*s\n", (int)len, l);
			l += len + (l[len] == '\n');
		}
	}
	fprintf(f, "\nExit codes: 0 done, 1 %s, 2 usage or input error.\n", cmd->exit1 ? cmd->exit1 : "a check failed");
}

static int verror(cli_parser *p, int with_usage, const char *fmt, va_list ap)
{
	fprintf(stderr, "attnbench %s: ", p->cmd->name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	if (with_usage) {
		fputc('\n', stderr);
		cli_usage(p->cmd, stderr);
	}
	p->rc = EXIT_INPUT;
	return EXIT_INPUT;
}

int cli_error(cli_parser *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verror(p, 1, fmt, ap);
	va_end(ap);
	return EXIT_INPUT;
}

/* An input error (a library that does not load): the message alone. */
static int input_error(cli_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int input_error(cli_parser *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verror(p, 0, fmt, ap);
	va_end(ap);
	return EXIT_INPUT;
}

/* ---- parsing ---------------------------------------------------------------- */

void cli_begin(cli_parser *p, const cli_command *cmd, int argc, char **argv, cli_common *com)
{
	memset(p, 0, sizeof *p);
	memset(com, 0, sizeof *com);
	p->cmd = cmd;
	p->argc = argc;
	p->argv = argv;
	p->com = com;
	const long nproc = sysconf(_SC_NPROCESSORS_ONLN);
	com->cfg.threads = nproc > 0 ? (int)nproc : 1;
	sweep_config_default(&p->scratch);
	entry all[CLI_MAX_OPTIONS];
	const int n = entries(cmd, all, CLI_MAX_OPTIONS);
	for (int i = 0; i < n; i++)
		p->longopts[i] = (struct option){all[i].opt.name, all[i].opt.arg ? required_argument : no_argument,
		                                 NULL, all[i].val};
	opterr = 0;
	optind = 0; /* a fresh start, whatever parsed before */
}

int cli_distance(const char *a, const char *b)
{
	const int n = (int)strlen(a), m = (int)strlen(b);
	if (n > 31 || m > 31)
		return 99;
	int d[32][32];
	for (int i = 0; i <= n; i++)
		for (int j = 0; j <= m; j++) {
			if (!i || !j) {
				d[i][j] = i + j;
				continue;
			}
			int v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			v = d[i - 1][j] + 1 < v ? d[i - 1][j] + 1 : v;
			v = d[i][j - 1] + 1 < v ? d[i][j - 1] + 1 : v;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[n][m];
}

/* The option of cmd closest to name (at most two edits, and fewer than
 * name has characters), or NULL. */
static const char *closest_option(const cli_command *cmd, const char *name)
{
	entry all[CLI_MAX_OPTIONS];
	const int n = entries(cmd, all, CLI_MAX_OPTIONS);
	const char *best = NULL;
	int bd = 3;
	for (int i = 0; i < n; i++) {
		const int d = cli_distance(name, all[i].opt.name);
		if (d < bd && d < (int)strlen(name)) {
			bd = d;
			best = all[i].opt.name;
		}
	}
	return best;
}

/* An option this command does not have: one that another measuring command
 * takes does not apply; anything else is unknown (with the closest option
 * the command has, when one is close). */
static void unknown_option(cli_parser *p)
{
	const char *word = p->argv[optind - 1];
	if (optopt && optopt < VAL_OWN) {
		cli_error(p, "unknown option '-%c'", optopt);
		return;
	}
	char name[64];
	snprintf(name, sizeof name, "%s", word + (strncmp(word, "--", 2) ? 0 : 2));
	name[strcspn(name, "=")] = 0;
	if (optopt) {
		cli_error(p, "option '--%s' takes no value", name);
		return;
	}
	char who[128] = "";
	int nwho = 0;
	for (int c = 0; c < NCOMMANDS; c++)
		if (takes(commands[c], name))
			snprintf(who + strlen(who), sizeof who - strlen(who), "%s%s", nwho++ ? ", " : "",
			         commands[c]->name);
	/* with a guess or the commands that take it, the message alone: the
	 * whole usage would bury it */
	const char *near = closest_option(p->cmd, name);
	if (nwho)
		input_error(p, "option '--%s' does not apply to %s (%s %s it); 'attnbench %s --help' lists its options",
		            name, p->cmd->name, who, nwho > 1 ? "take" : "takes", p->cmd->name);
	else if (near && *name)
		input_error(p, "unknown option '%s'; did you mean '--%s'? ('attnbench %s --help' lists every option)",
		            word, near, p->cmd->name);
	else
		cli_error(p, "unknown option '%s'", word);
}

/* --seq, --repetitions, ...: checked now by the config's own rules; a grid
 * key is kept to replace the config's lists once the config is read, a run
 * setting goes into com->settings. */
static int key_option(cli_parser *p, const sweep_key *k)
{
	char where[64];
	attn_err e = {{0}};
	snprintf(where, sizeof where, "--%s", k->flag);
	if (!k->per_grid)
		return sweep_config_set(&p->com->settings, k->name, p->arg, where, &e) ? cli_error(p, "%s", e.msg) : 0;
	if (sweep_config_set(&p->scratch, k->name, p->arg, where, &e))
		return cli_error(p, "%s", e.msg);
	if (p->com->noverrides == SWEEP_MAX_OVERRIDES)
		return cli_error(p, "more than %d grid options", SWEEP_MAX_OVERRIDES);
	p->com->overrides[p->com->noverrides++] = (sweep_override){k, p->arg};
	return 0;
}

/* One shared option other than a key. Returns 0 or EXIT_INPUT (printed). */
static int shared_option(cli_parser *p, enum shared_id s)
{
	cli_common *com = p->com;
	char *arg = p->arg;
	attn_err e = {{0}};
	int64_t n;
	switch (s) {
	case S_CONFIG:
		com->config = arg;
		return 0;
	case S_VK_TIMING:
		if (strcmp(arg, "wall") && strcmp(arg, "gpu"))
			return cli_error(p, "--vk-timing: '%s' is not wall or gpu", arg);
		com->vk_gpu_timing = !strcmp(arg, "gpu");
		return 0;
	case S_BACKEND:
		com->backends = arg;
		return 0;
	case S_BACKEND_LIB:
		if (registry_load_library(arg, &e))
			return input_error(p, "--backend-lib %s", e.msg);
		return 0;
	case S_THREADS:
		if (!parse_i64(arg, &n) || n < 1 || n > CLI_MAX_THREADS)
			return cli_error(p, "--threads: '%s' is not an integer in 1..%d", arg, CLI_MAX_THREADS);
		com->cfg.threads = (int)n;
		return 0;
	case S_PARAM: {
		char *colon = strchr(arg, ':');
		if (!colon)
			return cli_error(p, "--param: '%s' is not NAME:key=value,...", arg);
		*colon = 0;
		const int bad = registry_set_params(arg, colon + 1, &e);
		*colon = ':';
		return bad ? cli_error(p, "%s", e.msg) : 0;
	}
	case S_VK_DEVICE:
		com->cfg.device = arg;
		return 0;
	case S_TIMEOUT: {
		double t;
		if (!parse_f64(arg, &t) || !(t > 0) || t > CLI_MAX_TIMEOUT)
			return cli_error(p, "--timeout: '%s' is not a number of seconds in (0, %d]", arg,
			                 CLI_MAX_TIMEOUT);
		com->timeout_s = t;
		return 0;
	}
	case S_NO_ISOLATE:
		com->no_isolate = 1;
		return 0;
	default:
		return 0;
	}
}

/* A count as a word where it is small ("two runs"). */
static const char *count_word(int n, char *buf, size_t len)
{
	static const char *const words[] = {"no", "one", "two", "three", "four", "five"};
	if (n >= 0 && n < (int)(sizeof words / sizeof words[0]))
		return words[n];
	snprintf(buf, len, "%d", n);
	return buf;
}

/* The positional arguments left after the options (getopt_long moved them
 * to the end): into p->operands when the command takes that many. Returns
 * 0 or EXIT_INPUT (printed). */
static int take_operands(cli_parser *p)
{
	const cli_command *cmd = p->cmd;
	const int n = p->argc - optind;
	p->operands = p->argv + optind;
	p->noperands = n;
	if (n >= cmd->min_operands && n <= cmd->max_operands)
		return 0;
	if (cmd->max_operands == 0)
		return cli_error(p, "unexpected argument '%s'", p->operands[0]);
	const char *noun = cmd->operand_noun ? cmd->operand_noun : cmd->operands[0].name;
	char num[16], names[256] = "";
	const int want = n < cmd->min_operands ? cmd->min_operands : cmd->max_operands;
	const char *plural = want == 1 ? "" : "s";
	if (cmd->min_operands < cmd->max_operands)
		return n < want
		           ? cli_error(p, "needs at least %s %s%s", count_word(want, num, sizeof num), noun, plural)
		           : cli_error(p, "takes at most %d %s%s (got %d)", want, noun, plural, n);
	/* "needs exactly two runs, BASELINE and CURRENT (got 1)": the rows
	 * named when there is one for each */
	int rows = 0;
	while (cmd->operands[rows].name)
		rows++;
	for (int i = 0; rows > 1 && i < rows; i++)
		snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
		         i == 0 || i < rows - 1 ? ", " : " and ", cmd->operands[i].name);
	return cli_error(p, "needs exactly %s %s%s%s (got %d)", count_word(want, num, sizeof num), noun, plural, names,
	                 n);
}

int cli_next(cli_parser *p)
{
	for (;;) {
		const int opt = getopt_long(p->argc, p->argv, ":h", p->longopts, NULL);
		p->arg = optarg;
		if (opt == -1)
			return take_operands(p) ? -1 : 0;
		if (opt == VAL_HELP) {
			cli_usage(p->cmd, stdout);
			p->rc = EXIT_PASS;
			return -1;
		}
		if (opt == ':')
			return cli_error(p, "option '%s' needs a value", p->argv[optind - 1]), -1;
		if (opt == '?')
			return unknown_option(p), -1;
		if (opt >= VAL_KEY) {
			if (key_option(p, &sweep_keys[opt - VAL_KEY]))
				return -1;
		} else if (opt >= VAL_SHARED) {
			if (shared_option(p, (enum shared_id)(opt - VAL_SHARED)))
				return -1;
		} else {
			return p->cmd->options[opt - VAL_OWN].id;
		}
	}
}

int cli_config_by_name(const char *cmd, const char **config, char *buf, size_t n)
{
	const char *name = *config;
	if (!name || !*name || strchr(name, '/') || access(name, F_OK) == 0)
		return 0;
	char rel[512];
	for (int ext = 0; ext < 2; ext++) {
		snprintf(rel, sizeof rel, "sweeps/%.400s%s", name, ext ? ".conf" : "");
		if (path_is_file(data_path(rel, buf, n))) {
			*config = buf;
			return 0;
		}
	}
	return attn_fail(cmd, EXIT_INPUT, "--config %s: no such file, nor %s or %s.conf in %s/sweeps", name, name, name,
	                 data_dir());
}

int cli_parse(const cli_command *cmd, int argc, char **argv, cli_common *com)
{
	cli_parser p;
	cli_begin(&p, cmd, argc, argv, com);
	int id;
	while ((id = cli_next(&p)) > 0)
		;
	return id < 0 ? p.rc : -1;
}

void cli_sweep_opts(const cli_common *com, sweep_opts *so)
{
	so->config = com->config;
	memcpy(so->overrides, com->overrides, sizeof so->overrides);
	so->noverrides = com->noverrides;
	so->backends = com->backends;
	so->cfg = com->cfg;
	so->vk_gpu_timing = com->vk_gpu_timing;
	so->repetitions = com->settings.repetitions;
	so->min_time = com->settings.min_time;
	so->max_mem = com->settings.max_mem;
	so->timeout_s = com->timeout_s;
	so->no_isolate = com->no_isolate;
}
