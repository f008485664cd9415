/* test_table.c - the CSV writer and reader (both libcsv): quoting round
 * trip, and results.csv rows carrying every contract column. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/results.h"
#include "lib/table.h"
#include "testutil.h"

static void test_round_trip_quoting(void **state)
{
	(void)state;
	char *dir = tu_tmpdir();
	char p[512];
	snprintf(p, sizeof p, "%s/t.csv", dir);
	const char *rows[3][4] = {{"a", "b", "c", "d"},
	                          {"plain", "with,comma", "with \"quotes\"", "multi\nline"},
	                          {"", " padded ", "1e-5", "error: x, y"}};
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	for (int r = 0; r < 3; r++)
		assert_int_equal(table_write_row(f, rows[r], 4), 0);
	fclose(f);
	table t;
	attn_err e = {{0}};
	assert_int_equal(table_read(p, &t, &e), 0);
	assert_int_equal(t.ncols, 4);
	assert_int_equal(t.nrows, 2);
	for (int r = 1; r < 3; r++)
		for (int c = 0; c < 4; c++)
			assert_string_equal(t.rows[r - 1][c], rows[r][c]);
	assert_int_equal(table_col(&t, "c"), 2);
	assert_int_equal(table_col(&t, "zz"), -1);
	table_free(&t);
	tu_rmtree(dir);
}

static void test_results_row(void **state)
{
	(void)state;
	char *dir = tu_tmpdir();
	char p[512];
	snprintf(p, sizeof p, "%s/results.csv", dir);
	sweep_point pt;
	memset(&pt, 0, sizeof pt);
	pt.phase = PHASE_PREFILL;
	pt.shape = (attn_shape){.batch = 2,
	                        .n_heads = 8,
	                        .n_kv_heads = 2,
	                        .head_dim = 64,
	                        .n_q = 128,
	                        .n_kv = 128,
	                        .causal = 1,
	                        .scale = 0.125f,
	                        .dtype = ATTN_F32};
	pt.seq_len = pt.cache_len = 128;
	const double reps[3] = {1000, 900, 1100};
	result_row r = {.backend = "naive",
	                .device = "cpu, \"x\"",
	                .pt = &pt,
	                .status = "ok",
	                .measured = 1,
	                .time_ns = 1000,
	                .time_ns_min = 900,
	                .time_ns_max = 1100,
	                .reps = 3,
	                .iterations = 7,
	                .workspace_bytes = 4096,
	                .threads = 2,
	                .rep_ns = reps};
	FILE *f = fopen(p, "w");
	assert_int_equal(results_write_header(f), 0);
	assert_int_equal(results_write_row(f, &r), 0);
	fclose(f);
	table t;
	attn_err e = {{0}};
	assert_int_equal(table_read(p, &t, &e), 0);
	assert_int_equal(t.nrows, 1);
	const char *contract[] = {"backend",    "device",   "phase",          "batch",           "n_heads",
	                          "n_kv_heads", "head_dim", "seq_len",        "cache_len",       "causal",
	                          "dtype",      "time_ns",  "time_ns_min",    "time_ns_max",     "reps",
	                          "gflops",     "gbytes_s", "kv_cache_bytes", "workspace_bytes", "status"};
	for (size_t i = 0; i < sizeof contract / sizeof contract[0]; i++) {
		int c = table_col(&t, contract[i]);
		assert_true(c >= 0);
		assert_true(t.rows[0][c][0] != 0);
	}
	assert_string_equal(t.rows[0][table_col(&t, "device")], "cpu, \"x\"");
	/* causal prefill of 128: 128*129/2 pairs, 4*2*8*64 flops per pair */
	const double flops = 4.0 * 2 * 8 * 64 * (128.0 * 129 / 2);
	assert_true(fabs(atof(t.rows[0][table_col(&t, "gflops")]) - flops / 1000) < 1e-3 * flops / 1000);
	/* kv_cache_bytes = 2 * batch * n_kv_heads * cache_len * head_dim * 4 */
	assert_int_equal(atoll(t.rows[0][table_col(&t, "kv_cache_bytes")]), 2LL * 2 * 2 * 128 * 64 * 4);
	assert_string_equal(t.rows[0][table_col(&t, "rep_times_ns")], "1000.0 900.0 1100.0");
	table_free(&t);
	tu_rmtree(dir);
}

int run_table_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip_quoting),
	    cmocka_unit_test(test_results_row),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("csv", tests, NULL, NULL);
}
