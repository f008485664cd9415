/* compare.c - `attnbench compare` (compare.h): match the points of two sweeps, report the
 * ratio of their medians and a two-sided Mann-Whitney U test on their
 * repetitions (as Google Benchmark's tools/compare.py does with scipy), and
 * fail on significant slowdowns.
 *
 * Each side may be several runs (BASELINE and CURRENT as comma-separated
 * lists). A machine drifts between runs more than within one (measured: one
 * pair of four unchanged runs showed a 1.105x "regression" at p = 0.008
 * from 5 repetitions each), so where a point was measured in two or more
 * runs on each side it is judged on the runs' medians instead: the ratio of
 * their geometric means and a t test on their logarithms, whose spread is
 * the spread between runs. The summary line says which a run was judged by.
 *
 * A point regresses when current/baseline > --max-slowdown and p < --alpha;
 * it improved when the ratio < 1/--max-slowdown and p < --alpha. A ratio
 * beyond the threshold without significance is "noisy"; a point with fewer
 * than two repetitions on a side cannot be tested ("no test") and never
 * fails. A point measured ok in BASELINE and not in CURRENT (absent, or
 * skipped or failed there) is missing: it fails the gate unless
 * --allow-missing. Two runs with no point measured ok on both sides are an
 * input error: there is nothing to judge. Where both runs have a
 * machine.json, a difference in host, CPU, build or threads is a warning.
 * A/B mode (--ab) compares two builds of a backend measured in one sweep
 * (--backend-lib base=old.so --backend-lib cand=new.so: rows NAME@base and
 * NAME@cand): each side reads the same run(s) and keeps its tag's rows,
 * named NAME. The sweep measured the builds' repetitions side by side
 * (repetition i of each back to back), so each point is judged on its
 * pairs: what the machine did during a pair it did to both, and divides
 * out of the pair's ratio. The test is one-sided and against the margin:
 * that the candidate is more than --max-slowdown times slower (or faster
 * by as much), not merely different; two copies of one build differ by a
 * few percent in every pair of a run at some points (where their memory
 * landed), which a test against 1 calls significant. It is the Wilcoxon
 * signed-rank test on the log ratios less log(max-slowdown) (ranks: a pair
 * in which one build lost the core for part of its time counts as one
 * large rank, not as a spread that hides every other pair's difference)
 * where there are enough pairs to reach --alpha (1 / 2^n <= alpha), else a
 * t test on them; the ratio is the median of the pairs' ratios. Several
 * A/B runs pool their pairs. A point
 * whose builds have different repetition counts has no pairs and is judged
 * as above.
 * Exit codes: 0 no regression, 1 a regression or a missing point, 2 usage
 * or input error (or an unwritable --junit file). */
#include "report/compare.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/junit.h"
#include "lib/stats.h"
#include "lib/util.h"
#include "model/results.h"

/* ---- reading the runs ------------------------------------------------------------------- */

/* One side of the comparison: a run's rows, sorted by point. */
typedef struct side {
	const char *arg;
	char csv[4096];
	results_file rf;
	const results_rec **rows;
	int n;
	machine_info m;  /* DIR/machine.json beside results.csv ... */
	int has_json;    /* ... when there is one */
	const char *tag; /* A/B: keep the rows of NAME@tag, as NAME; or NULL */
	char *names;     /* A/B: the kept rows' names */
} side;

/* qsort order of row pointers: by point (each is there once). */
static int row_cmp(const void *x, const void *y)
{
	return results_point_cmp(*(const results_rec *const *)x, *(const results_rec *const *)y);
}

/* Read machine.json beside s->csv, where there is one: absent is no
 * error (a bare results.csv), malformed is. */
static int load_machine(side *s, attn_err *e)
{
	char path[4200];
	const char *slash = strrchr(s->csv, '/');
	snprintf(path, sizeof path, "%.*smachine.json", slash ? (int)(slash - s->csv + 1) : 0, s->csv);
	const int rc = machine_read(path, &s->m, e);
	if (rc == MACHINE_UNREADABLE) {
		machine_info_free(&s->m);
		e->msg[0] = 0;
		return 0;
	}
	s->has_json = rc == 0;
	return rc;
}

/* A/B: keep the rows whose backend is NAME@tag, renamed NAME. */
static int keep_tagged(side *s, attn_err *e)
{
	size_t bytes = 0;
	for (int r = 0; r < s->rf.nrows; r++)
		bytes += strlen(s->rf.rows[r].backend) + 1;
	s->names = malloc(bytes + 1);
	if (!s->names)
		return attn_errf(e, "out of memory");
	char *put = s->names;
	const size_t tl = strlen(s->tag);
	for (int r = 0; r < s->rf.nrows; r++) {
		results_rec *rec = &s->rf.rows[r];
		const size_t n = strlen(rec->backend);
		if (n < tl + 2 || rec->backend[n - tl - 1] != '@' || strcmp(rec->backend + n - tl, s->tag))
			continue;
		memcpy(put, rec->backend, n - tl - 1);
		put[n - tl - 1] = 0;
		rec->backend = put;
		put += n - tl;
		s->rows[s->n++] = rec;
	}
	if (s->n == 0)
		return attn_errf(e,
		                 "%s: --ab: no rows of a backend tagged @%s (a sweep with --backend-lib %s=PATH "
		                 "makes them)",
		                 s->csv, s->tag, s->tag);
	qsort(s->rows, (size_t)s->n, sizeof *s->rows, row_cmp);
	return 0;
}

/* Read one side: a directory (DIR/results.csv) or a results.csv path. */
static int load_side(side *s, attn_err *e)
{
	struct stat st;
	if (stat(s->arg, &st) == 0 && S_ISDIR(st.st_mode))
		snprintf(s->csv, sizeof s->csv, "%s/results.csv", s->arg);
	else
		snprintf(s->csv, sizeof s->csv, "%s", s->arg);
	if (stat(s->csv, &st) != 0)
		return attn_errf(e, "%s: no such run directory or results.csv", s->csv);
	/* an unfinished sweep would pass the gate on the points it never reached */
	char marker[4400];
	results_marker_path(s->csv, marker, sizeof marker);
	if (stat(marker, &st) == 0)
		return attn_errf(e,
		                 "%s: the sweep has not finished (%s is there): resume it (its last line is the "
		                 "command) before comparing",
		                 s->csv, marker);
	if (results_read(s->csv, RESULTS_NEED_CONTRACT | RESULTS_COL(RC_REP_TIMES_NS), &s->rf, e))
		return EXIT_INPUT;
	if (load_machine(s, e))
		return EXIT_INPUT;
	if (s->rf.nrows == 0)
		return attn_errf(e, "%s: line 2: no data rows (the run is empty: header only)", s->csv);
	s->rows = malloc(((size_t)s->rf.nrows + 1) * sizeof *s->rows);
	if (!s->rows)
		return attn_errf(e, "out of memory");
	if (s->tag)
		return keep_tagged(s, e);
	for (int r = 0; r < s->rf.nrows; r++)
		s->rows[s->n++] = &s->rf.rows[r];
	qsort(s->rows, (size_t)s->n, sizeof *s->rows, row_cmp);
	return 0;
}

/* Free what load_side allocated. */
static void side_free(side *s)
{
	free(s->rows);
	free(s->names);
	results_file_free(&s->rf);
	machine_info_free(&s->m);
}

/* One side of the comparison: one or more runs (the first gives the
 * points that are matched; the others add their medians). */
#define COMPARE_MAX_RUNS 32
typedef struct group {
	side runs[COMPARE_MAX_RUNS];
	int n;
	char list[8192]; /* the operand, split in place */
} group;

/* Load every run of a comma-separated operand (A/B: the rows of tag). */
static int load_group(group *g, const char *arg, const char *tag, attn_err *e)
{
	snprintf(g->list, sizeof g->list, "%s", arg);
	for (char *tok = g->list, *next; tok; tok = next) {
		next = strchr(tok, ',');
		if (next)
			*next++ = 0;
		if (!*tok)
			return attn_errf(e, "'%s': an empty run name in the list", arg);
		if (g->n == COMPARE_MAX_RUNS)
			return attn_errf(e, "'%.200s': more than %d runs on one side", arg, COMPARE_MAX_RUNS);
		side *s = &g->runs[g->n++];
		s->arg = tok;
		s->tag = tag;
		if (load_side(s, e))
			return EXIT_INPUT;
	}
	return 0;
}

static void group_free(group *g)
{
	for (int i = 0; i < g->n; i++)
		side_free(&g->runs[i]);
}

/* The medians of point r in every run of g where it was measured ok. */
static int group_medians(const group *g, const results_rec *r, double *out)
{
	int n = 0;
	for (int k = 0; k < g->n; k++) {
		const results_rec *const *hit =
		    bsearch(&r, g->runs[k].rows, (size_t)g->runs[k].n, sizeof *g->runs[k].rows, row_cmp);
		if (hit && (*hit)->status == RESULT_OK && (*hit)->time_ns > 0)
			out[n++] = (*hit)->time_ns;
	}
	return n;
}

/* A machine.json value for a warning: at most 60 bytes, control
 * characters as '?', "(none)" where absent. */
static const char *shown(const char *v, char *buf, size_t len)
{
	snprintf(buf, len, "%.60s", v ? v : "(none)");
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return buf;
}

/* Warn, one line per key, where the two runs' machine.json differ in what
 * makes their times comparable: host, CPU, build, threads. */
static void warn_machines(const side *B, const side *C)
{
	if (!B->has_json || !C->has_json)
		return;
	const struct {
		const char *key, *b, *c;
	} text[] = {
	    {"hostname", B->m.hostname, C->m.hostname},
	    {"cpu_model", B->m.cpu_model, C->m.cpu_model},
	    {"git_commit", B->m.git_commit, C->m.git_commit},
	    {"build_flags", B->m.build_flags, C->m.build_flags},
	};
	for (size_t i = 0; i < sizeof text / sizeof text[0]; i++) {
		const char *b = text[i].b ? text[i].b : "", *c = text[i].c ? text[i].c : "";
		char sb[64], sc[64];
		if (strcmp(b, c))
			fprintf(stderr,
			        "attnbench compare: warning: the runs differ in %s: baseline '%s', current '%s'\n",
			        text[i].key, shown(text[i].b, sb, sizeof sb), shown(text[i].c, sc, sizeof sc));
	}
	if (B->m.threads_used != C->m.threads_used)
		fprintf(stderr,
		        "attnbench compare: warning: the runs differ in threads_used: baseline %lld, current %lld\n",
		        (long long)B->m.threads_used, (long long)C->m.threads_used);
}

/* ---- comparing ---------------------------------------------------------------------------- */

/* Verdicts, in the order of the summary line. */
enum { V_REGRESSION, V_IMPROVEMENT, V_SAME, V_NOISY, V_NOTEST, V_ONLY_BASE, V_ONLY_CUR, NVERDICT };
static const char *const verdict_name[NVERDICT] = {"REGRESSION",        "improvement",      "same",           "noisy",
                                                   "no test (<2 reps)", "only in baseline", "only in current"};

/* One line of the comparison: a matched pair or a row of one side. */
typedef struct cpair {
	const results_rec *b, *c; /* either may be NULL */
	double ratio, p;          /* NAN where not defined */
	int verdict;
	int across;      /* judged on the medians of several runs per side */
	int pairs;       /* A/B: judged on this many repetition pairs (0: not) ... */
	int signed_rank; /* ... by the signed-rank test (else the t test) */
	double bms, cms; /* the medians compared, ns */
} cpair;

/* Sort: matched pairs by ratio, largest slowdown first; then the rows of
 * one side only (baseline first), each in key order. */
static int cpair_cmp(const void *x, const void *y)
{
	const cpair *a = x, *b = y;
	const int ua = isnan(a->ratio), ub = isnan(b->ratio);
	if (ua != ub)
		return ua - ub;
	if (!ua && a->ratio != b->ratio)
		return a->ratio < b->ratio ? 1 : -1;
	if (a->verdict != b->verdict)
		return a->verdict - b->verdict;
	const results_rec *ra = a->b ? a->b : a->c, *rb = b->b ? b->b : b->c;
	return results_point_cmp(ra, rb);
}

/* Whether a row was measured. */
static int is_ok(const results_rec *r)
{
	return r->status == RESULT_OK;
}

/* A/B: the repetition pairs of point r in every run (B and C are the
 * same runs, read for the two tags): repetition i of the baseline build
 * with repetition i of the candidate, measured side by side, where both
 * rows are ok with as many repetitions. Returns the number of pairs (the
 * arrays are malloc'ed, NULL when none), or -1 when out of memory. */
static int ab_pairs(const group *B, const group *C, const results_rec *r, double **pb, double **pc)
{
	const results_rec *rb[COMPARE_MAX_RUNS], *rc[COMPARE_MAX_RUNS];
	int runs = 0, n = 0;
	*pb = *pc = NULL;
	for (int k = 0; k < B->n && k < C->n; k++) {
		const results_rec *const *hb =
		    bsearch(&r, B->runs[k].rows, (size_t)B->runs[k].n, sizeof *B->runs[k].rows, row_cmp);
		const results_rec *const *hc =
		    bsearch(&r, C->runs[k].rows, (size_t)C->runs[k].n, sizeof *C->runs[k].rows, row_cmp);
		if (hb && hc && is_ok(*hb) && is_ok(*hc) && (*hb)->nrep_times == (*hc)->nrep_times) {
			rb[runs] = *hb;
			rc[runs++] = *hc;
			n += (*hb)->nrep_times;
		}
	}
	if (n == 0)
		return 0;
	*pb = malloc((size_t)n * sizeof **pb);
	*pc = malloc((size_t)n * sizeof **pc);
	if (!*pb || !*pc)
		return -1;
	for (int k = 0, at = 0; k < runs; at += rb[k++]->nrep_times) {
		memcpy(*pb + at, rb[k]->rep_times_ns, (size_t)rb[k]->nrep_times * sizeof **pb);
		memcpy(*pc + at, rc[k]->rep_times_ns, (size_t)rc[k]->nrep_times * sizeof **pc);
	}
	return n;
}

/* A/B: judge p on its n repetition pairs (b[i], c[i]) against the margin
 * m (--max-slowdown). The ratio is the median of the pairs' ratios; p is
 * the one-sided p-value that the candidate is slower than m times the
 * baseline (ratio >= 1) or faster than 1/m times (ratio < 1): the test
 * runs on the log ratios less log m, so a difference the two builds' own
 * placement in memory can make (measured: up to 2.5% between two copies of
 * one library) does not become a significant regression merely because
 * every pair shows it. The test is the Wilcoxon signed-rank test where n
 * pairs can reach alpha (1 / 2^n <= alpha: 7 or more at 0.01), else a t
 * test on the same differences. */
static void judge_pairs(cpair *p, const double *b, const double *c, int n, double alpha, double margin)
{
	double *d = malloc((size_t)n * sizeof *d);
	if (!d)
		return;
	p->pairs = n;
	for (int i = 0; i < n; i++)
		d[i] = b[i] > 0 && c[i] > 0 ? log(c[i] / b[i]) : NAN;
	p->ratio = exp(stats_median(d, n)); /* NAN where a time is not > 0 */
	const double dir = p->ratio >= 1 ? 1 : -1;
	for (int i = 0; i < n; i++)
		d[i] = dir * d[i] - log(margin);
	p->signed_rank = ldexp(1.0, -n) <= alpha;
	p->p = p->signed_rank ? wilcoxon_signed_rank_p_greater(d, n) : t_test_p_greater(d, n);
	free(d);
}

/* Decide the verdict of a matched pair of ok rows: A/B on the repetition
 * pairs (judge_pairs); else across runs where both sides measured the
 * point in two or more runs; else on the repetitions. */
static void judge(cpair *p, const group *B, const group *C, int ab, double max_slowdown, double alpha)
{
	double mb[COMPARE_MAX_RUNS], mc[COMPARE_MAX_RUNS], *pb = NULL, *pc = NULL;
	const int nb = group_medians(B, p->b, mb), nc = group_medians(C, p->b, mc);
	const int npairs = ab ? ab_pairs(B, C, p->b, &pb, &pc) : 0;
	p->bms = p->b->time_ns;
	p->cms = p->c->time_ns;
	p->ratio = p->c->time_ns / p->b->time_ns;
	p->p = NAN;
	if (npairs >= 2)
		judge_pairs(p, pb, pc, npairs, alpha, max_slowdown);
	free(pb);
	free(pc);
	if (p->pairs) {
		/* judged */
	} else if (nb >= 2 && nc >= 2) {
		p->across = 1;
		p->p = log_t_test_p(mb, nb, mc, nc, &p->ratio);
		p->bms = stats_median(mb, nb);
		p->cms = stats_median(mc, nc);
	} else if (p->b->nrep_times < 2 || p->c->nrep_times < 2) {
		p->verdict = V_NOTEST;
		return;
	} else
		p->p = mann_whitney_p(p->b->rep_times_ns, p->b->nrep_times, p->c->rep_times_ns, p->c->nrep_times);
	const int slower = p->ratio > max_slowdown, faster = p->ratio < 1 / max_slowdown;
	if (!slower && !faster)
		p->verdict = V_SAME;
	else if (!(p->p < alpha))
		p->verdict = V_NOISY;
	else
		p->verdict = slower ? V_REGRESSION : V_IMPROVEMENT;
}

/* The shape of a row as one word-separated string, with the variants,
 * KV storage, paging and cache state that set it apart from the plain
 * point (" --page-size 16"): two rows of one table or JUnit file never
 * read the same. */
static void shape_str(const results_rec *r, char *buf, size_t len)
{
	char variant[200];
	results_variant_text(r, variant, sizeof variant);
	snprintf(buf, len, "b%lld h%lld/%lld d%lld seq%lld cache%lld %s %s%s", (long long)r->batch,
	         (long long)r->n_heads, (long long)r->n_kv_heads, (long long)r->head_dim, (long long)r->seq_len,
	         (long long)r->cache_len, r->causal ? "causal" : "full", dtype_name(r->dtype), variant);
}

/* Print the table of pairs on stdout. */
static void print_table(const cpair *ps, int n)
{
	int w = 44; /* the shape column: as wide as its widest entry */
	for (int i = 0; i < n; i++) {
		char shape[256];
		shape_str(ps[i].b ? ps[i].b : ps[i].c, shape, sizeof shape);
		w = (int)strlen(shape) > w ? (int)strlen(shape) : w;
	}
	printf("%-10s %-8s %-*s %12s %12s %8s %9s  %s\n", "backend", "phase", w, "shape", "baseline ms", "current ms",
	       "ratio", "p-value", "verdict");
	for (int i = 0; i < n; i++) {
		const cpair *p = &ps[i];
		const results_rec *r = p->b ? p->b : p->c;
		char shape[256], bms[32] = "-", cms[32] = "-", ratio[32] = "-", pv[32] = "-";
		shape_str(r, shape, sizeof shape);
		const int paired = p->b && p->c && !isnan(p->ratio); /* medians judged, maybe of several runs */
		if (paired) {
			snprintf(bms, sizeof bms, "%.4g", p->bms / 1e6);
			snprintf(cms, sizeof cms, "%.4g", p->cms / 1e6);
		} else {
			if (p->b && is_ok(p->b))
				snprintf(bms, sizeof bms, "%.4g", p->b->time_ns / 1e6);
			if (p->c && is_ok(p->c))
				snprintf(cms, sizeof cms, "%.4g", p->c->time_ns / 1e6);
		}
		if (!isnan(p->ratio))
			snprintf(ratio, sizeof ratio, "%.3f", p->ratio);
		if (!isnan(p->p))
			snprintf(pv, sizeof pv, p->p < 1e-4 ? "%.1e" : "%.4f", p->p);
		else if (p->verdict == V_NOTEST)
			snprintf(pv, sizeof pv, "n/a");
		printf("%-10s %-8s %-*s %12s %12s %8s %9s  %s", r->backend, phase_name(r->phase), w, shape, bms, cms,
		       ratio, pv, verdict_name[p->verdict]);
		/* a row of one side that exists, not ok, on the other */
		const results_rec *other = p->verdict == V_ONLY_BASE ? p->c : p->verdict == V_ONLY_CUR ? p->b : NULL;
		if (other)
			printf(" (%s: %s)", p->verdict == V_ONLY_BASE ? "current" : "baseline", other->status_text);
		else if (!is_ok(r))
			printf(" (%s)", r->status_text);
		putchar('\n');
	}
}

/* Write the JUnit file: one testcase per matched pair, written to
 * path.partial and renamed. Returns 0 or -1. */
static int write_junit(const char *path, const cpair *ps, int n, double max_slowdown, double alpha)
{
	int tests = 0, failures = 0, skipped = 0;
	for (int i = 0; i < n; i++) {
		if (ps[i].verdict >= V_ONLY_BASE)
			continue;
		tests++;
		failures += ps[i].verdict == V_REGRESSION;
		skipped += ps[i].verdict == V_NOTEST;
	}
	junit_file j;
	if (junit_begin(&j, path, "compare", tests, failures, skipped))
		return -1;
	FILE *f = j.f;
	for (int i = 0; i < n; i++) {
		const cpair *p = &ps[i];
		if (p->verdict >= V_ONLY_BASE)
			continue;
		char shape[256], name[300], detail[512];
		shape_str(p->b, shape, sizeof shape);
		snprintf(name, sizeof name, "%s %s", phase_name(p->b->phase), shape);
		snprintf(detail, sizeof detail, "baseline %.6g ms, current %.6g ms, ratio %.4f, p %.4g (%s)",
		         p->bms / 1e6, p->cms / 1e6, p->ratio, p->p,
		         p->signed_rank
		             ? "A/B: Wilcoxon signed-rank test on the log ratios of the repetition pairs, against the "
		               "margin"
		         : p->pairs ? "A/B: paired t test on the log ratios of the repetition pairs, against the margin"
		         : p->across ? "t test on the medians of several runs per side"
		                     : "Mann-Whitney on the repetitions of one run per side");
		junit_case_begin(&j, p->b->backend, name);
		if (p->verdict == V_REGRESSION) {
			fprintf(f, "<failure message=\"%.3fx slower (max %.3f), p = %.3g &lt; %.3g\">", p->ratio,
			        max_slowdown, p->p, alpha);
			xml_escape(f, detail);
			fputs("</failure>", f);
		} else if (p->verdict == V_NOTEST) {
			fputs("<skipped message=\"fewer than 2 repetitions on a side: no significance test\"/>", f);
		} else {
			fputs("<system-out>", f);
			xml_escape(f, detail);
			fprintf(f, " (%s)</system-out>", verdict_name[p->verdict]);
		}
		junit_case_end(&j);
	}
	return junit_commit(&j);
}

/* Match the sorted rows of both sides into pairs (ps holds nb + nc).
 * Keys both sides have but neither measured are counted in *neither. */
static int match_rows(const group *GB, const group *GC, int ab, cpair *ps, double max_slowdown, double alpha,
                      int *neither)
{
	const side *B = &GB->runs[0], *C = &GC->runs[0];
	int n = 0, i = 0, j = 0;
	*neither = 0;
	while (i < B->n || j < C->n) {
		const int c = i == B->n ? 1 : j == C->n ? -1 : results_point_cmp(B->rows[i], C->rows[j]);
		cpair p = {NULL, NULL, NAN, NAN, 0, 0, 0, 0, NAN, NAN};
		if (c < 0) {
			p.b = B->rows[i++];
			p.verdict = V_ONLY_BASE;
		} else if (c > 0) {
			p.c = C->rows[j++];
			p.verdict = V_ONLY_CUR;
		} else {
			p.b = B->rows[i++];
			p.c = C->rows[j++];
			if (is_ok(p.b) && is_ok(p.c)) {
				judge(&p, GB, GC, ab, max_slowdown, alpha);
			} else if (is_ok(p.b) || is_ok(p.c)) {
				p.verdict = is_ok(p.b) ? V_ONLY_BASE : V_ONLY_CUR;
			} else {
				(*neither)++;
				continue;
			}
		}
		ps[n++] = p;
	}
	return n;
}

/* "1 regression" / "3 regressions". */
static void print_count(int n, const char *one, const char *many, const char *sep)
{
	printf("%d %s%s", n, n == 1 ? one : many, sep);
}

int compare_run(const compare_opts *o)
{
	group *GB = calloc(1, sizeof *GB), *GC = calloc(1, sizeof *GC);
	attn_err e = {{0}};
	int rc = EXIT_PASS;
	cpair *ps = NULL;
	if (!GB || !GC) {
		free(GB);
		free(GC);
		fprintf(stderr, "attnbench compare: out of memory\n");
		return EXIT_INPUT;
	}
	const side *B = &GB->runs[0], *C = &GC->runs[0];
	if (load_group(GB, o->baseline, o->ab_base, &e) || load_group(GC, o->current, o->ab_cand, &e)) {
		fprintf(stderr, "attnbench compare: %s\n", e.msg);
		rc = EXIT_INPUT;
		goto out;
	}
	for (int k = 0; k < GC->n; k++)
		warn_machines(B, &GC->runs[k]);
	ps = malloc(((size_t)B->n + (size_t)C->n + 1) * sizeof *ps);
	if (!ps) {
		fprintf(stderr, "attnbench compare: out of memory\n");
		rc = EXIT_INPUT;
		goto out;
	}
	int neither;
	const int n = match_rows(GB, GC, o->ab_base != NULL, ps, o->max_slowdown, o->alpha, &neither);
	qsort(ps, (size_t)n, sizeof *ps, cpair_cmp);
	print_table(ps, n);
	int count[NVERDICT] = {0};
	for (int i = 0; i < n; i++)
		count[ps[i].verdict]++;
	printf("compare: ");
	print_count(count[V_REGRESSION], "regression", "regressions", ", ");
	print_count(count[V_IMPROVEMENT], "improvement", "improvements", ", ");
	printf("%d same, %d noisy, %d untested, ", count[V_SAME], count[V_NOISY], count[V_NOTEST]);
	printf("%d only in baseline, %d only in current", count[V_ONLY_BASE], count[V_ONLY_CUR]);
	printf(" (max slowdown %.3g, alpha %.3g", o->max_slowdown, o->alpha);
	if (neither)
		printf("; %d not ok on either side", neither);
	printf(")\n");
	int across = 0, paired = 0, ranked = 0;
	for (int i = 0; i < n; i++) {
		across += ps[i].across;
		paired += ps[i].pairs > 0;
		ranked += ps[i].signed_rank;
	}
	const int judged = n - count[V_ONLY_BASE] - count[V_ONLY_CUR] - count[V_NOTEST];
	if (o->ab_base)
		printf("compare: A/B: NAME@%s (baseline) against NAME@%s (current), measured in turn in the same "
		       "run%s: drift between runs does not enter\n",
		       o->ab_base, o->ab_cand, GB->n > 1 ? "s" : "");
	if (ranked)
		printf(
		    "compare: A/B: %d point%s judged by a Wilcoxon signed-rank test on the log ratios of the builds' "
		    "repetition pairs (repetition i of each build, measured side by side), one-sided against the "
		    "margin: is the candidate more than %.3gx slower (or faster)?; ratio: the pairs' median\n",
		    ranked, ranked == 1 ? "" : "s", o->max_slowdown);
	if (paired > ranked)
		printf("compare: A/B: %d point%s judged by a paired t test on the log ratios of the repetition pairs, "
		       "one-sided against the margin: "
		       "too few pairs for the signed-rank test to reach alpha %.3g (it needs %d); ratio: the pairs' "
		       "median\n",
		       paired - ranked, paired - ranked == 1 ? "" : "s", o->alpha, (int)ceil(-log2(o->alpha)));
	if (across)
		printf("compare: judged against the spread between runs: %d point%s measured in 2 or more runs on each "
		       "side (%d baseline, %d current runs) by a t test on the runs' medians%s\n",
		       across, across == 1 ? "" : "s", GB->n, GC->n,
		       across < n ? "; the others on their repetitions" : "");
	else if (!o->ab_base)
		printf("compare: judged against the repetitions within one run per side: drift between runs is not "
		       "seen (give several runs per side, BASE1,BASE2,... CUR1,CUR2,...)\n");
	else if (judged > paired)
		printf(
		    "compare: A/B: %d point%s no repetition pairs (the builds' repetition counts differ): judged by a "
		    "Mann-Whitney U test on the repetitions of each build\n",
		    judged - paired, judged - paired == 1 ? " has" : "s have");
	if (count[V_NOTEST])
		printf("compare: %d point%s fewer than 2 repetitions on a side: no significance test, never failed\n",
		       count[V_NOTEST], count[V_NOTEST] == 1 ? " has" : "s have");
	const int compared = n - count[V_ONLY_BASE] - count[V_ONLY_CUR];
	if (compared == 0) {
		fprintf(stderr,
		        "attnbench compare: %s and %s have no point measured ok on both sides: nothing to compare (a "
		        "run of another grid, or of backends the other lacks?)\n",
		        B->csv, C->csv);
		rc = EXIT_INPUT;
		goto out;
	}
	if (o->junit && write_junit(o->junit, ps, n, o->max_slowdown, o->alpha) != 0) {
		fprintf(stderr, "attnbench compare: cannot write %s\n", o->junit);
		rc = EXIT_INPUT;
		goto out;
	}
	const int missing = count[V_ONLY_BASE];
	if (missing)
		printf("compare: %d point%s of the baseline not measured ok in the current run (listed \"only in "
		       "baseline\"): %s\n",
		       missing, missing == 1 ? "" : "s",
		       o->allow_missing ? "allowed (--allow-missing)" : "the gate fails");
	rc = count[V_REGRESSION] || (missing && !o->allow_missing) ? EXIT_CHECK_FAILED : EXIT_PASS;
out:
	free(ps);
	group_free(GB);
	group_free(GC);
	free(GB);
	free(GC);
	return rc;
}
