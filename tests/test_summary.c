/* test_summary.c - the top of `attnbench report`: what was measured on
 * which machine, the verdict from the check results a run directory holds
 * (`check --out`), the contents and the links to every data file; sections
 * in the order a reader needs them; check.csv validated like every input,
 * its text escaped. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define FIXTURE "tests/data/report_run"

/* A copy of the fixture run in a fresh directory, with check.csv holding
 * csv (NULL: none). */
static char *run_with_check(const char *csv)
{
	char *dir = tu_tmpdir();
	tu_copy_dir(FIXTURE, dir);
	if (csv) {
		char p[600];
		snprintf(p, sizeof p, "%s/check.csv", dir);
		tu_write(p, csv, strlen(csv));
	}
	return dir;
}

/* dir/name's text (the test fails when it is missing). */
static char *text_of(const char *dir, const char *name)
{
	char p[700];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	char *t = tu_read(p, NULL);
	if (!t)
		fail_msg("%s was not written", p);
	return t;
}

/* Every needle in text, each after the one before. */
static void in_order(const char *text, const char *what, const char *const *needles, int n)
{
	const char *at = text;
	for (int i = 0; i < n; i++) {
		const char *f = strstr(at, needles[i]);
		if (!f)
			fail_msg("%s: no '%s' after '%s'", what, needles[i], i ? needles[i - 1] : "the start");
		at = f + strlen(needles[i]);
	}
}

#define CHECK_HDR "backend,case,status,max_abs_err,max_rel_err,nmse,ref_err,err_over_ref,message\n"

static void test_top_of_report(void **state)
{
	(void)state;
	/* no check results: said so, with the command that makes them */
	char *dir = run_with_check(NULL);
	EXPECT(0, "report:", "report", dir, "--format", "png");
	char *md = text_of(dir, "report.md");
	const char *const order[] = {
	    "# attnbench report",
	    "Measured: ",
	    "- vm: ",
	    "## Verdict",
	    "Correctness: not checked here",
	    "`attnbench check --out RUN_DIR`",
	    "## Headline figures",
	    "## Contents",
	    "- [Verdict](#verdict)",
	    "- [Cost: how does prefill time grow with the sequence](#cost-how-does-prefill-time-"
	    "grow-with-the-sequence)",
	    "## Data files",
	    "- [results.csv](results.csv): ",
	    "- [machine.json](machine.json): ",
	    "- [fits.csv](fits.csv)",
	    "## Cost: how does prefill time grow with the sequence",
	    "How to read it: ",
	    "](cost.png)",
	    "[cost.gp](cost.gp)",
	    "## Prefill and decode: where does a request's time go",
	    "## Memory: how much does a point need",
	    "## Throughput and roofline: how close to the machine's peak",
	    "## Machines",
	    "## Inputs",
	    "## Appendix: request scenarios",
	    "| line | prompt P |"};
	in_order(md, "report.md", order, (int)(sizeof order / sizeof order[0]));
	assert_null(strstr(md, "check.csv]("));
	free(md);
	char *html = text_of(dir, "index.html");
	const char *const horder[] = {"<h2 id=\"verdict\">Verdict</h2>",
	                              "<h2 id=\"contents\">",
	                              "<a href=\"#headline-figures\">Headline figures</a>",
	                              "<a href=\"results.csv\">results.csv</a>",
	                              "<a href=\"machine.json\">",
	                              "<a href=\"cost.dat\">cost.dat</a>"};
	in_order(html, "index.html", horder, (int)(sizeof horder / sizeof horder[0]));
	free(html);
	tu_rmtree(dir);

	/* check results that passed: the verdict, a row per backend, links */
	dir = run_with_check(CHECK_HDR "naive,mha,pass,1e-07,1e-06,1e-14,-,-,\n"
	                               "blocked,mha,pass,1e-07,1e-06,1e-14,-,-,\n"
	                               "blocked,gqa,skip,,,,,,over --max-mem\n"
	                               "naive,gqa,pass,1e-07,1e-06,1e-14,-,-,\n");
	char junit[700];
	snprintf(junit, sizeof junit, "%s/junit.xml", dir);
	tu_write(junit, "<testsuites/>", 13);
	EXPECT(0, "report:", "report", dir, "--format", "png");
	md = text_of(dir, "report.md");
	const char *const pass[] = {"Correctness: PASS. All 3 (case, backend) pairs",
	                            "(1 skipped)",
	                            "| vm | naive | 2 | 0 | 0 |",
	                            "| vm | blocked | 1 | 0 | 1 |",
	                            "- [check.csv](check.csv): ",
	                            "- [junit.xml](junit.xml): "};
	in_order(md, "report.md", pass, (int)(sizeof pass / sizeof pass[0]));
	free(md);
	tu_rmtree(dir);

	/* a failure: FAIL, named; text from the file escaped */
	dir = run_with_check(CHECK_HDR "naive,mha,pass,1e-07,1e-06,1e-14,-,-,\n"
	                               "blocked,<b>evil</b>,fail,1,1,1,-,-,off by one\n");
	EXPECT(0, "report:", "report", dir, "--format", "png");
	md = text_of(dir, "report.md");
	const char *const fail[] = {"Correctness: FAIL. 1 of 2 (case, backend) pairs",
	                            "Failed on vm: \\<b\\>evil\\</b\\> on blocked."};
	in_order(md, "report.md", fail, 2);
	free(md);
	html = text_of(dir, "index.html");
	assert_non_null(strstr(html, "Failed on vm: &lt;b&gt;evil&lt;/b&gt; on blocked."));
	assert_null(strstr(html, "<b>evil"));
	free(html);
	tu_rmtree(dir);
}

/* check.csv is an input like any other: exit 2 naming file, line, column. */
static void test_bad_check_csv(void **state)
{
	(void)state;
	char *dir = run_with_check(CHECK_HDR "naive,mha,maybe,1,1,1,-,-,\n");
	EXPECT(2, "check.csv: line 2: column status: 'maybe' is not pass, fail or skip", "report", dir);
	tu_rmtree(dir);
	dir = run_with_check("backend,case\nnaive,mha\n");
	EXPECT(2, "check.csv: no column 'status'", "report", dir);
	tu_rmtree(dir);
	dir = run_with_check(CHECK_HDR "naive,mha,pass\n");
	EXPECT(2, "check.csv", "report", dir);
	tu_rmtree(dir);
}

/* check --out DIR: DIR/check.csv and DIR/junit.xml, what report reads. */
static void test_check_out(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), out[600];
	snprintf(out, sizeof out, "%s/run/new", dir); /* created with its parents */
	EXPECT(0, "passed", "check", "--backend", "naive", "--golden", "datasets/golden", "--out", out);
	char *csv = text_of(out, "check.csv"), *xml = text_of(out, "junit.xml");
	if (strncmp(csv, CHECK_HDR, strlen(CHECK_HDR)) || !strstr(csv, "\nnaive,mha,pass,"))
		fail_msg("check.csv: %.600s", csv);
	assert_non_null(strstr(xml, "<testsuite"));
	free(csv);
	free(xml);
	EXPECT(2, "--junit FILE and --out DIR: give one of them", "check", "--out", out, "--junit", "x.xml");
	EXPECT(2, "--out /proc/no/such: cannot create the directory", "check", "--out", "/proc/no/such");
	tu_rmtree(dir);
}

int run_summary_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_top_of_report),
	    cmocka_unit_test(test_bad_check_csv),
	    cmocka_unit_test(test_check_out),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("summary", tests, NULL, NULL);
}
