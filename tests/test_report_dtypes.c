/* test_report_dtypes.c - `attnbench report` on rows of several storage
 * dtypes: the headline table per dtype, and each dtype's style (dash on
 * lines, fill in split.png, markers in roofline.png) the same for every
 * backend, from the fixture of test_report.c (tests/data/report_run)
 * repeated once per dtype with exact times. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/table.h"
#include "testutil.h"

#define FIXTURE "tests/data/report_run"

/* The fixture's rows once per dtype, with exact times: prefill
 * pre[d] * seq^2, decode dec[d] * cache (ns); no f32 rows of backend
 * no_f32 (NULL: every dtype of every backend). */
static void write_dtypes(const char *dir, const char *no_f32)
{
	static const char *const dtypes[] = {"f32", "f16", "bf16"};
	static const double pre[] = {40, 50, 60}, dec[] = {250, 300, 350};
	table t;
	attn_err e = {{0}};
	assert_int_equal(table_read(FIXTURE "/results.csv", &t, &e), 0);
	const int c_dt = table_col(&t, "dtype"), c_t = table_col(&t, "time_ns"), c_st = table_col(&t, "status");
	const int c_ph = table_col(&t, "phase"), c_seq = table_col(&t, "seq_len"), c_c = table_col(&t, "cache_len");
	char p[600];
	snprintf(p, sizeof p, "%s/results.csv", dir);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(table_write_row(f, (const char *const *)t.header, t.ncols), 0);
	for (int d = 0; d < 3; d++)
		for (int r = 0; r < t.nrows; r++) {
			char **cells = t.rows[r], buf[64];
			if (d == 0 && no_f32 && !strcmp(cells[0], no_f32))
				continue;
			tu_set_cell(cells, c_dt, dtypes[d]);
			if (!strcmp(cells[c_st], "ok")) {
				const double seq = atof(cells[c_seq]), cache = atof(cells[c_c]);
				snprintf(buf, sizeof buf, "%.1f",
				         strcmp(cells[c_ph], "decode") ? pre[d] * seq * seq : dec[d] * cache);
				tu_set_cell(cells, c_t, buf);
			}
			assert_int_equal(table_write_row(f, (const char *const *)cells, t.ncols), 0);
		}
	assert_int_equal(fclose(f), 0);
	table_free(&t);
	char *m = tu_read(FIXTURE "/machine.json", NULL);
	assert_non_null(m);
	/* with measured peaks, whose curve reads an L1-sized working set
	 * slower than DRAM: the roofline picture is drawn and warns */
	char *end = strrchr(m, '}');
	assert_non_null(end);
	*end = '\0';
	char *mj = NULL;
	assert_true(asprintf(&mj,
	                     "%s, \"roofline_sgemm_attn_gflops\": 50, \"roofline_sgemm_square_gflops\": 60, "
	                     "\"roofline_dram_gbs\": 10, \"roofline_llc_gbs\": 20, \"roofline_llc_bytes\": 8388608, "
	                     "\"roofline_bw_curve\": [[16384, 4], [1048576, 30], [8388608, 20]]}\n",
	                     m) > 0);
	snprintf(p, sizeof p, "%s/machine.json", dir);
	tu_write(p, mj, strlen(mj));
	free(mj);
	free(m);
}

/* The n-th occurrence (from 0) of needle in s, or NULL. */
static const char *nth(const char *s, const char *needle, int n)
{
	const char *c = strstr(s, needle);
	for (int k = 0; k < n && c; k++)
		c = strstr(c + 1, needle);
	return c;
}

/* f32, f16 and bf16 rows of the same backends: the headline table has a
 * dtype column and each row's figures from that dtype's prefill and decode
 * lines; a request in the split table pairs the prefill and decode of one
 * dtype; every split bar has its own colour. */
static void test_dtype_headlines(void **state)
{
	(void)state;
	char *dir = tu_tmpdir();
	write_dtypes(dir, NULL);
	EXPECT(0, "report:", "report", dir, "--format", "svg");
	tu_expect_file(dir, "report.md", NULL, "| host | backend | device | dtype | prefill time @ seq_len 256 |");
	/* 40 / 50 / 60 ns x 256^2; 1e9 / (250 / 300 / 350 ns x 1024) tokens/s */
	tu_expect_file(dir, "report.md", NULL, "| vm | blocked | cpu | f32 | 2.621 ms | 3906 |");
	tu_expect_file(dir, "report.md", NULL, "| vm | blocked | cpu | f16 | 3.277 ms | 3255 |");
	tu_expect_file(dir, "report.md", NULL, "| vm | blocked | cpu | bf16 | 3.932 ms | 2790 |");
	tu_expect_file(dir, "index.html", NULL, "<td>blocked</td><td>cpu</td><td>bf16</td><td>3.932 ms</td>");
	/* P 512, T 128: prefill 60 x 512^2 (fit), decode 350 x (128 x 512 + 127 x 128 / 2) */
	tu_expect_file(dir, "report.md", NULL, "| blocked, bf16 | 512 (fit) | 128 | 15.73 ms | 25.78 ms |");
	tu_expect_file(dir, "report.md", NULL, "| blocked, f32 | 512 (fit) | 128 | 10.49 ms | 18.42 ms |");
	/* fill colours: one per bar part, none shared */
	char *gp = tu_read_out(dir, "split.gp");
	char seen[64][8];
	int n = 0;
	/* (the bars' colours: the key's entries come after them) */
	const char *key = strstr(gp, "keyentry");
	for (const char *c = strstr(gp, "fc rgb \""); c && (!key || c < key); c = strstr(c + 1, "fc rgb \"")) {
		assert_true(n < 64);
		snprintf(seen[n], sizeof seen[n], "%.7s", c + 8);
		for (int i = 0; i < n; i++)
			if (!strcmp(seen[i], seen[n]))
				fail_msg("split.gp: two bar parts share the fill colour %s", seen[n]);
		n++;
	}
	assert_int_equal(n, 2 * 3 * 3); /* prefill and decode parts of 3 backends x 3 dtypes */
	/* and a fill style per dtype: solid, hatched, cross-hatched, for each
	 * backend; a key entry per backend and per dtype, none per bar */
	const char *const fill[] = {"fs solid 1.0", "fs pattern 4", "fs pattern 1"};
	for (int b = 0, at = 0; b < 3; b++)
		for (int d = 0; d < 3; d++, at++) {
			const char *c = nth(gp, "with boxxyerror ", 2 * at);
			if (!c || strncmp(c + 16, fill[d], strlen(fill[d])))
				fail_msg("split.gp: bar %d (dtype %d) is not '%s': %.60s", at, d, fill[d], c ? c : "");
		}
	assert_null(strstr(gp, "prefill\""));
	assert_non_null(strstr(gp, "keyentry with boxes fs pattern 1 border lc rgb \"#404040\" fc rgb \"#404040\" "
	                           "title \"bf16\""));
	assert_non_null(strstr(gp, "title \"blas\""));
	free(gp);
	/* the roofline: filled markers for f32, open for f16, small for bf16;
	 * the key by backend, phase and dtype; the suspect curve noted */
	gp = tu_read_out(dir, "roofline.gp");
	assert_non_null(strstr(gp, "pt 7 ps 1.4 lc rgb \"#1f77b4\" notitle"));
	assert_non_null(strstr(gp, "pt 6 ps 1.4 lc rgb \"#1f77b4\" notitle"));
	assert_non_null(strstr(gp, "pt 7 ps 0.7 lc rgb \"#1f77b4\" notitle"));
	assert_non_null(strstr(gp, "keyentry with points pt 6 ps 1.4 lc rgb \"#404040\" title \"f16\""));
	assert_non_null(strstr(gp, "keyentry with points pt 9 ps 1.4 lc rgb \"#404040\" title \"decode\""));
	free(gp);
	tu_expect_file(dir, "report.md", NULL, "Suspect ceilings: a cache level reads slower than DRAM");
	/* in the throughput group, with how to read it */
	char *md = tu_read_out(dir, "report.md");
	const char *grp = strstr(md, "## Throughput and roofline"), *roof = strstr(md, "### Roofline");
	if (!grp || !roof || roof < grp || !strstr(roof, "How to read it: Points left of") ||
	    (strstr(grp, "## Other pictures") && strstr(grp, "## Other pictures") < roof))
		fail_msg("report.md: the roofline picture is not in the throughput group with how to read it");
	free(md);
	tu_rmtree(dir);
	/* a backend without f32 rows: its f16 is still hatched and dashed, as
	 * every other backend's f16 */
	dir = tu_tmpdir();
	write_dtypes(dir, "naive");
	EXPECT(0, "report:", "report", dir, "--format", "svg");
	gp = tu_read_out(dir, "split.gp");
	/* 8 bars of two parts: f32 solid for two backends, f16 and bf16 for three */
	int nfill[3] = {0};
	for (const char *c = strstr(gp, "with boxxyerror "); c; c = strstr(c + 1, "with boxxyerror "))
		for (int d = 0; d < 3; d++)
			nfill[d] += !strncmp(c + 16, fill[d], strlen(fill[d]));
	if (nfill[0] != 2 * 2 || nfill[1] != 2 * 3 || nfill[2] != 2 * 3)
		fail_msg("split.gp: %d solid, %d hatched, %d cross-hatched bar parts; want 4, 6, 6", nfill[0], nfill[1],
		         nfill[2]);
	free(gp);
	gp = tu_read_out(dir, "cost.gp");
	const char *t = strstr(gp, "title \"naive, f16"), *line = t;
	while (line && line > gp && line[-1] != '\n')
		line--;
	const char *dt = line ? strstr(line, " dt 2 ") : NULL;
	if (!t || !dt || dt > t)
		fail_msg("cost.gp: naive's f16 line (its first) is not dashed: %.200s", line ? line : "(none)");
	free(gp);
	tu_rmtree(dir);
}

int run_report_dtype_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dtype_headlines),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("report_dtypes", tests, NULL, NULL);
}
