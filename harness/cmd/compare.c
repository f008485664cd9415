/* compare.c - `attnbench compare`: its options, their checks and its usage;
 * the comparison itself is report/compare.c, the test lib/stats.c. */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/common.h"
#include "lib/files.h"
#include "lib/util.h"
#include "report/compare.h"

/* ---- the command ------------------------------------------------------------------------ */

enum { OPT_MAX_SLOWDOWN = 1, OPT_ALPHA, OPT_JUNIT, OPT_ALLOW_MISSING, OPT_AB, OPT_TAGS };

static const cli_option compare_options[] = {
    {"max-slowdown", "R",
     "current/baseline median ratio above which a point may regress\n"
     "(default 1.10; a number in [1, 1000])",
     OPT_MAX_SLOWDOWN},
    {"alpha", "A",
     "significance level of the two-sided Mann-Whitney U test on\n"
     "the repetitions (default 0.05; in (0, 1))",
     OPT_ALPHA},
    {"junit", "FILE", "JUnit XML, one testcase per matched point, a failure per\nregression", OPT_JUNIT},
    {"allow-missing", NULL, "points of BASELINE not measured ok in CURRENT are listed\nbut do not fail the gate",
     OPT_ALLOW_MISSING},
    {"ab", NULL,
     "A/B: one operand, RUN (or RUN,RUN,...), a sweep of two builds\n"
     "loaded with --backend-lib base=PATH --backend-lib cand=PATH:\n"
     "compares NAME@cand against NAME@base within it, point by point\n"
     "on the repetition pairs the sweep measured side by side\n"
     "(Wilcoxon signed-rank test on their log ratios, or a paired t\n"
     "test where there are too few pairs to reach A; ratio: the\n"
     "pairs' median); one-sided against the margin: a regression is\n"
     "significantly more than R times slower, not merely slower",
     OPT_AB},
    {"tags", "BASE,CAND", "the two tags --ab compares (default base,cand)", OPT_TAGS},
    {0},
};

static const cli_option compare_operands[] = {
    {"BASELINE", NULL,
     "the run compared against: a sweep's output directory\n(DIR/results.csv) or a results.csv; several runs\n"
     "as a comma-separated list",
     0},
    {"CURRENT", NULL, "the run judged against it, in the same form", 0},
    {0},
};

const cli_command compare_command = {
    .name = "compare",
    .synopsis = "BASELINE CURRENT [--max-slowdown R] [--alpha A] [--junit FILE]\n"
                "                        [--allow-missing]\n"
                "       attnbench compare --ab RUN [--tags BASE,CAND] [options]",
    .about = "Matches the points of two runs and prints, per point, the ratio of their median\n"
             "times and the p-value of a Mann-Whitney U test on their repetitions.",
    .options = compare_options,
    .notes = "Points match on (backend, phase, batch, n_heads, n_kv_heads, head_dim, seq_len,\n"
             "cache_len, causal, dtype); only rows with status ok on both sides are compared.\n"
             "A point regresses when ratio > R and p < A. Where both sides are several runs\n"
             "and a point was measured in two or more of each, it is judged on the runs'\n"
             "medians (a t test on their logarithms: the spread between runs), else on the\n"
             "repetitions of the first run of each side. A point measured ok in BASELINE and\n"
             "not in CURRENT fails the gate unless --allow-missing; runs with no point\n"
             "measured ok on both sides are an input error (exit 2). A difference in host,\n"
             "CPU, build or threads between the runs' machine.json is a warning.",
    .exit1 = "a regression, or a point of BASELINE missing from CURRENT",
    .operands = compare_operands,
    .min_operands = 1,
    .max_operands = 64, /* two, or one with --ab: checked after the options */
    .operand_noun = "run",
    .examples = "# gate a change: exit 1 when a point is over 10% slower (p < 0.05)\n"
                "attnbench compare runs/main runs/branch --junit compare.xml\n"
                "attnbench compare runs/main runs/branch --max-slowdown 1.25 --alpha 0.01",
};

/* The compare command (see compare.h). */
int cmd_compare(int argc, char **argv)
{
	double max_slowdown = 1.10, alpha = 0.05;
	const char *junit = NULL;
	int allow_missing = 0, ab = 0;
	char tags[80] = "base,cand";
	cli_parser p;
	cli_common com;
	cli_begin(&p, &compare_command, argc, argv, &com);
	int id;
	while ((id = cli_next(&p)) > 0) {
		if (id == OPT_MAX_SLOWDOWN &&
		    (!parse_f64(p.arg, &max_slowdown) || !(max_slowdown >= 1) || max_slowdown > 1000))
			return cli_error(&p, "--max-slowdown: '%s' is not a ratio in [1, 1000]", p.arg);
		if (id == OPT_ALPHA && (!parse_f64(p.arg, &alpha) || !(alpha > 0) || !(alpha < 1)))
			return cli_error(&p, "--alpha: '%s' is not a probability in (0, 1)", p.arg);
		if (id == OPT_JUNIT)
			junit = p.arg;
		if (id == OPT_ALLOW_MISSING)
			allow_missing = 1;
		if (id == OPT_AB)
			ab = 1;
		if (id == OPT_TAGS) {
			snprintf(tags, sizeof tags, "%s", p.arg);
			char *c = strchr(tags, ',');
			if (strlen(p.arg) >= sizeof tags || !c || c == tags || !c[1] || strchr(c + 1, ',') ||
			    !strncmp(tags, c + 1, sizeof tags) || (*c = 0, !strcmp(tags, c + 1)))
				return cli_error(&p, "--tags: '%s' is not two different tags BASE,CAND", p.arg);
			*c = ',';
		}
	}
	if (id < 0)
		return p.rc;
	if (ab && p.noperands != 1)
		return cli_error(&p, "--ab takes one run (RUN or RUN,RUN,...), not BASELINE and CURRENT");
	if (!ab && p.noperands != 2)
		return cli_error(&p, "needs exactly two runs, BASELINE and CURRENT (got %d), or --ab and one run",
		                 p.noperands);
	char *cand = strchr(tags, ',');
	*cand++ = 0;
	attn_err e = {{0}};
	if (junit && file_out_check(junit, &e)) /* before the runs are read */
		return attn_fail("compare", EXIT_INPUT, "--junit %s", e.msg);
	const compare_opts o = {.baseline = p.operands[0],
	                        .current = p.operands[ab ? 0 : 1],
	                        .ab_base = ab ? tags : NULL,
	                        .ab_cand = ab ? cand : NULL,
	                        .max_slowdown = max_slowdown,
	                        .alpha = alpha,
	                        .junit = junit,
	                        .allow_missing = allow_missing};
	return compare_run(&o);
}
