/* common.h - how every command reads its command line: a command's
 * description (its options with their help, its positional arguments, from
 * which its usage text is made), the parsing loop around getopt_long, and
 * the options several commands take, each defined and checked once here:
 * --backend, --backend-lib, --threads, --param, --vk-device, --timeout,
 * --no-isolate, and sweep's
 * grid (--config, every key of model/sweep_config.h with a flag,
 * --vk-timing).
 *
 * A command parses like this:
 *
 *	cli_parser p;
 *	cli_common com;
 *	cli_begin(&p, &check_command, argc, argv, &com);
 *	int id;
 *	while ((id = cli_next(&p)) > 0)
 *		switch (id) { case OPT_GOLDEN: ... p.arg ...; }
 *	if (id < 0)
 *		return p.rc;   (--help printed: 0; a usage error printed: 2)
 *	... p.operands[0 .. p.noperands - 1] ...
 *
 * cli_next returns the command's own options one by one and handles the
 * shared ones itself, into com; at the end it checks the count of
 * positional arguments. An option that another command takes "does not
 * apply to" this one; any other is unknown. */
#ifndef ATTN_CMD_COMMON_H
#define ATTN_CMD_COMMON_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "attnbench.h"
#include "run/measure.h"

/* attnbench's version (--version, bench's context). */
#define ATTNBENCH_VERSION "0.1.0"

/* One option of a command (or one of its positional arguments in usage
 * text: name "RUN_DIR", no arg, no id). */
typedef struct cli_option {
	const char *name; /* without "--" */
	const char *arg;  /* the value's name in usage text ("DIR"); NULL: a flag */
	const char *help; /* usage text; a '\n' continues it on the next line */
	int id;           /* what cli_next returns for it: 1..999 */
} cli_option;

/* The shared options a command takes (cli_command.shared). */
enum cli_shared {
	CLI_BACKEND = 1 << 0,     /* --backend A,B|all */
	CLI_BACKEND_LIB = 1 << 1, /* --backend-lib PATH (loaded at once) */
	CLI_THREADS = 1 << 2,     /* --threads N */
	CLI_PARAM = 1 << 3,       /* --param NAME:key=val,... (set at once) */
	CLI_VK_DEVICE = 1 << 4,   /* --vk-device N|NAME */
	CLI_MAX_MEM = 1 << 5,     /* --max-mem SIZE */
	CLI_GRID = 1 << 6,        /* --config, the grid keys and run settings but max_mem, --vk-timing */
	CLI_ISOLATE = 1 << 7,     /* --timeout SECONDS, --no-isolate */
};
/* What every command that runs backends takes. */
#define CLI_BACKENDS (CLI_BACKEND | CLI_BACKEND_LIB | CLI_THREADS | CLI_PARAM | CLI_VK_DEVICE)

/* A command as its usage text shows it. */
typedef struct cli_command {
	const char *name;          /* "sweep" */
	const char *synopsis;      /* after "usage: attnbench NAME " */
	const char *about;         /* a paragraph: what it does */
	const cli_option *options; /* its own options, ended by {0}; NULL: none */
	unsigned shared;           /* CLI_* bits */
	const char *notes;         /* printed after the options; NULL: none */
	/* Realistic command lines, one a line, each after a "# what it does"
	 * line; printed under "examples:". Every command has one. */
	const char *examples;
	const char *exit1; /* what exit code 1 means; NULL: "a check failed" */
	/* Its positional arguments: usage rows (name and help), ended by {0}
	 * (NULL: it takes none); how many it takes; what a count error calls
	 * one ("run": "needs exactly two runs"; NULL: the first row's name). */
	const cli_option *operands;
	int min_operands, max_operands;
	const char *operand_noun;
} cli_command;

/* The commands, each defined beside its entry in cmd/<name>.c. */
extern const cli_command list_command, check_command, sweep_command, bench_command, report_command, compare_command,
    plan_command, roofline_command;

/* What the shared options set. */
typedef struct cli_common {
	const char *backends;                          /* --backend; NULL: the default */
	attn_config cfg;                               /* --threads (default: every online CPU), --vk-device */
	const char *config;                            /* --config FILE */
	int vk_gpu_timing;                             /* --vk-timing gpu */
	sweep_override overrides[SWEEP_MAX_OVERRIDES]; /* grid keys, in the order given */
	int noverrides;
	/* the run settings given (repetitions, min_time, max_mem), each 0 where
	 * not given */
	sweep_config settings;
	double timeout_s; /* --timeout; 0: the command's default */
	int no_isolate;   /* --no-isolate */
} cli_common;

#define CLI_MAX_OPTIONS 64 /* of one command, shared ones included */

typedef struct cli_parser {
	const cli_command *cmd;
	int argc;
	char **argv;
	cli_common *com;
	char *arg;            /* the value of the option cli_next returned */
	int rc;               /* after cli_next returned -1: the exit code */
	char **operands;      /* after cli_next returned 0: the positional arguments */
	int noperands;        /* (min_operands .. max_operands of them) */
	sweep_config scratch; /* grid keys are checked on it */
	struct option longopts[CLI_MAX_OPTIONS + 1];
} cli_parser;

/* Start parsing argv (argv[0]: the command's name) for cmd; fills com with
 * the defaults. */
void cli_begin(cli_parser *p, const cli_command *cmd, int argc, char **argv, cli_common *com);

/* The next of the command's own options: its id (> 0) with its value in
 * p->arg; 0 when every option is parsed, with the positional arguments in
 * p->operands; -1 to stop with exit code p->rc, after --help printed the
 * usage (0) or a usage error was printed (2). Fewer or more positional
 * arguments than the command takes are a usage error. */
int cli_next(cli_parser *p);

/* For a command with no options of its own: parse them all. Returns -1
 * when parsed, else the exit code to return (0 after --help, 2 after a
 * usage error). */
int cli_parse(const cli_command *cmd, int argc, char **argv, cli_common *com);

/* Print "attnbench NAME: <message>" and the usage on stderr; returns
 * EXIT_INPUT (p->rc is set too). */
int cli_error(cli_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* What the shared options set, into the options of a sweep or bench. */
void cli_sweep_opts(const cli_common *com, sweep_opts *so);

/* The usage text of cmd. */
void cli_usage(const cli_command *cmd, FILE *f);

/* Edit distance between a and b (insertions, deletions, substitutions,
 * transpositions of neighbours), for "did you mean"; 99 when either is
 * longer than 31 characters. */
int cli_distance(const char *a, const char *b);

/* --config NAME, a bare name with nothing at that path: NAME or NAME.conf
 * among the installed (or source tree) sweep configs, into buf (n bytes),
 * and *config pointed at it. Returns 0 (*config updated or left as it
 * is) or EXIT_INPUT, after a message naming cmd. */
int cli_config_by_name(const char *cmd, const char **config, char *buf, size_t n);

#endif
