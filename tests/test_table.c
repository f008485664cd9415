/* test_table.c - the CSV writer and reader (both libcsv): quoting round
 * trip, and results.csv rows carrying every contract column. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/results.h"
#include "model/sweep_config.h"
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
	                .status = RESULT_OK,
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

/* The writer's rows read back as typed records: an ok row with every
 * timing column, a skipped one with them empty. */
static void test_results_read_back(void **state)
{
	(void)state;
	sweep_point pt = {
	    .phase = PHASE_DECODE,
	    .shape = {.batch = 1, .n_heads = 8, .n_kv_heads = 2, .head_dim = 64, .n_q = 1, .n_kv = 512, .causal = 1},
	    .seq_len = 1,
	    .cache_len = 512,
	};
	pt.shape.dtype = ATTN_BF16;
	const double reps[2] = {1500, 1250};
	result_row r = {.backend = "blas",
	                .device = "cpu",
	                .pt = &pt,
	                .status = RESULT_OK,
	                .measured = 1,
	                .time_ns = 1250,
	                .time_ns_min = 1250,
	                .time_ns_max = 1500,
	                .gpu_time_ns = 1000,
	                .reps = 2,
	                .iterations = 9,
	                .workspace_bytes = 16,
	                .threads = 2,
	                .timing = "gpu",
	                .rep_ns = reps};
	char *dir = tu_tmpdir(), p[512];
	snprintf(p, sizeof p, "%s/results.csv", dir);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(results_write_header(f), 0);
	assert_int_equal(results_write_row(f, &r), 0);
	r.backend = "naive";
	r.status = RESULT_SKIPPED;
	r.reason = "needs 9.00 GiB";
	r.measured = 0;
	r.timing = NULL;
	assert_int_equal(results_write_row(f, &r), 0);
	fclose(f);
	results_file rf;
	attn_err e = {{0}};
	if (results_read(p, RESULTS_NEED_CONTRACT | RESULTS_COL(RC_REP_TIMES_NS), &rf, &e))
		fail_msg("%s", e.msg);
	assert_true(rf.same_columns);
	assert_int_equal(rf.nrows, 2);
	const results_rec *ok = &rf.rows[0], *sk = &rf.rows[1];
	assert_int_equal(ok->line, 2);
	assert_string_equal(ok->backend, "blas");
	assert_int_equal(ok->phase, PHASE_DECODE);
	assert_int_equal(ok->dtype, ATTN_BF16);
	assert_true(ok->batch == 1 && ok->n_heads == 8 && ok->n_kv_heads == 2 && ok->head_dim == 64);
	assert_true(ok->seq_len == 1 && ok->cache_len == 512 && ok->causal == 1);
	assert_int_equal(ok->status, RESULT_OK);
	assert_string_equal(ok->reason, "");
	assert_true(ok->time_ns == 1250 && ok->time_ns_max == 1500 && ok->gpu_time_ns == 1000);
	assert_true(ok->reps == 2 && ok->iterations == 9 && ok->threads == 2 && ok->workspace_bytes == 16);
	assert_true(ok->kv_cache_bytes == (int64_t)point_kv_bytes(&pt));
	assert_int_equal(ok->timing, TIMING_GPU);
	assert_int_equal(ok->nrep_times, 2);
	assert_true(ok->rep_times_ns[0] == 1500 && ok->rep_times_ns[1] == 1250);
	assert_true(ok->gflops > 0 && isnan(ok->pct_peak_flops) && ok->peak_device_bytes == -1);
	assert_int_equal(sk->line, 3);
	assert_int_equal(sk->status, RESULT_SKIPPED);
	assert_string_equal(sk->reason, "needs 9.00 GiB");
	assert_string_equal(sk->status_text, "skipped: needs 9.00 GiB");
	assert_true(isnan(sk->time_ns) && isnan(sk->gflops) && sk->reps == -1 && sk->iterations == -1);
	assert_int_equal(sk->timing, TIMING_WALL);
	assert_int_equal(sk->nrep_times, 0);
	assert_null(sk->rep_times_ns);
	/* one definition of the same point */
	assert_true(results_rec_is(ok, "blas", &pt));
	assert_false(results_rec_is(ok, "naive", &pt));
	assert_true(results_point_cmp(ok, sk) != 0);
	pt.shape.dtype = ATTN_F16;
	assert_false(results_rec_is(ok, "blas", &pt));
	results_file_free(&rf);
	tu_rmtree(dir);
}

/* The variant, KV storage, paging and length columns: written, read back,
 * and part of a point (a row differing only by one of them is another
 * point). */
static void test_results_variants(void **state)
{
	(void)state;
	sweep_point pt = {
	    .phase = PHASE_DECODE,
	    .shape = {.batch = 4, .n_heads = 8, .n_kv_heads = 2, .head_dim = 64, .n_q = 1, .n_kv = 512, .causal = 1},
	    .seq_len = 1,
	    .cache_len = 512,
	    .alibi = 1,
	    .sinks = 1,
	    .page_size = 16,
	};
	pt.shape.window = 128;
	pt.shape.softcap = 30.5f;
	pt.shape.head_dim_v = 32;
	pt.shape.kv_storage = ATTN_KV(ATTN_Q4_0);
	assert_true(lens_parse("chat:9", &pt.lens));
	result_row r = {
	    .backend = "x", .device = "cpu", .pt = &pt, .status = RESULT_SKIPPED, .reason = "not supported"};
	char *dir = tu_tmpdir(), p[512];
	snprintf(p, sizeof p, "%s/results.csv", dir);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(results_write_header(f), 0);
	assert_int_equal(results_write_row(f, &r), 0);
	sweep_point plain = pt; /* every variant off */
	plain.shape.window = 0, plain.shape.softcap = 0, plain.shape.head_dim_v = 0, plain.shape.kv_storage = 0;
	plain.alibi = plain.sinks = 0, plain.page_size = 0, plain.lens = 0;
	r.pt = &plain;
	assert_int_equal(results_write_row(f, &r), 0);
	fclose(f);
	results_file rf;
	attn_err e = {{0}};
	if (results_read(p, RESULTS_NEED_CONTRACT, &rf, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(rf.nrows, 2);
	const results_rec *v = &rf.rows[0];
	assert_true(v->window == 128 && v->softcap == 30.5 && v->alibi == 1 && v->sinks == 1);
	assert_true(v->head_dim_v == 32 && v->kv_dtype == ATTN_Q4_0 && v->page_size == 16 && v->lens == pt.lens);
	assert_true(v->kv_cache_bytes == (int64_t)point_kv_bytes(&pt));
	assert_non_null(strstr(v->repro, " --kv-dtype q4_0 --head-dim-v 32 --window 128 --softcap 30.5 --alibi 1 "
	                                 "--sinks 1 --page-size 16 --lens chat:9"));
	assert_null(strstr(rf.rows[1].repro, "--window"));
	sweep_point back;
	results_rec_point(v, &back);
	assert_true(sweep_point_same(&back, &pt));
	assert_true(results_rec_is(v, "x", &pt));
	assert_false(results_rec_is(v, "x", &plain));
	assert_true(results_rec_is(&rf.rows[1], "x", &plain));
	/* each key alone makes another point */
	for (int k = 0; k < 8; k++) {
		sweep_point q = pt;
		switch (k) {
		case 0:
			q.shape.window = 64;
			break;
		case 1:
			q.shape.softcap = 50;
			break;
		case 2:
			q.alibi = 0;
			break;
		case 3:
			q.sinks = 0;
			break;
		case 4:
			q.shape.head_dim_v = 0;
			break;
		case 5:
			q.shape.kv_storage = ATTN_KV(ATTN_Q8_0);
			break;
		case 6:
			q.page_size = 0;
			break;
		default:
			q.lens = 0;
			break;
		}
		if (results_rec_is(v, "x", &q))
			fail_msg("key %d: a point that differs only by it matched", k);
	}
	results_file_free(&rf);
	tu_rmtree(dir);
}

/* A header and one row of results.csv's contract columns (and timing,
 * rep_times_ns); edit replaces the cell of column col, extra appends rows. */
static const char rr_header[] = "backend,device,phase,batch,n_heads,n_kv_heads,head_dim,seq_len,cache_len,causal,"
                                "dtype,time_ns,time_ns_min,time_ns_max,reps,gflops,gbytes_s,kv_cache_bytes,"
                                "workspace_bytes,status,timing,rep_times_ns\n";
static const char *const rr_row[] = {
    "naive", "cpu", "prefill", "1", "4",   "2",   "16",   "32",   "32", "1",    "f32",
    "1000",  "900", "1100",    "3", "1.5", "0.5", "8192", "4096", "ok", "wall", "1000 900 1100"};
enum { RR_NCOLS = sizeof rr_row / sizeof rr_row[0] };

/* Write dir/results.csv with the row edited, then read it with need; the
 * result code and the message (which must hold want when not NULL). */
static void rr_expect(const char *dir, const char *col, const char *val, const char *extra, uint64_t need,
                      const char *want)
{
	char p[512], text[4096];
	snprintf(p, sizeof p, "%s/results.csv", dir);
	size_t n = (size_t)snprintf(text, sizeof text, "%s", rr_header);
	const char *h = rr_header;
	for (int c = 0; c < RR_NCOLS; c++) {
		const size_t len = strcspn(h, ",\n");
		const int edit = col && strlen(col) == len && !strncmp(h, col, len);
		n += (size_t)snprintf(text + n, sizeof text - n, "%s%s", edit ? val : rr_row[c],
		                      c + 1 < RR_NCOLS ? "," : "\n");
		h += len + 1;
	}
	n += (size_t)snprintf(text + n, sizeof text - n, "%s", extra ? extra : "");
	tu_write(p, text, n);
	results_file rf;
	attn_err e = {{0}};
	const int rc = results_read(p, need, &rf, &e);
	if (!want) {
		if (rc)
			fail_msg("%s = '%s': refused: %s", col ? col : "-", val ? val : "", e.msg);
		results_file_free(&rf);
		return;
	}
	if (rc != EXIT_INPUT || !strstr(e.msg, p) || !strstr(e.msg, want))
		fail_msg("%s = '%s': rc %d, message '%s' (wanted '%s')", col ? col : "-", val ? val : "", rc, e.msg,
		         want);
}

/* The reader's rules: one message per broken rule, naming line and column. */
static void test_results_rules(void **state)
{
	(void)state;
	char *dir = tu_tmpdir();
	const uint64_t C = RESULTS_NEED_CONTRACT;
	rr_expect(dir, NULL, NULL, NULL, C, NULL);
	rr_expect(dir, "phase", "warmup", NULL, C, "line 2, column phase: 'warmup' is not prefill, decode or attend");
	rr_expect(dir, "dtype", "f64", NULL, C, "line 2, column dtype: 'f64' is not f32, f16 or bf16");
	rr_expect(dir, "status", "fine", NULL, C, "column status: 'fine' is not ok, skipped: ... or error: ...");
	rr_expect(dir, "backend", "", NULL, C, "line 2, column backend: empty");
	rr_expect(dir, "batch", "0", NULL, C, "column batch: '0' is not an integer in 1..1048576");
	rr_expect(dir, "causal", "2", NULL, C, "column causal: '2' is not an integer in 0..1");
	rr_expect(dir, "seq_len", "1.5", NULL, C, "column seq_len: '1.5' is not an integer");
	rr_expect(dir, "time_ns", "12x", NULL, C, "column time_ns: '12x' is not a number");
	rr_expect(dir, "time_ns", "0", NULL, C, "column time_ns: '0' must be positive (status ok)");
	rr_expect(dir, "time_ns", "", NULL, C, "column time_ns: empty (status ok)");
	rr_expect(dir, "gflops", "", NULL, C, "column gflops: empty (status ok)");
	rr_expect(dir, "gbytes_s", "-1", NULL, C, "column gbytes_s: '-1' is negative");
	rr_expect(dir, "kv_cache_bytes", "-8", NULL, C, "column kv_cache_bytes: '-8' is not an integer >= 0");
	rr_expect(dir, "timing", "cpu", NULL, C, "column timing: 'cpu' is not wall or gpu");
	rr_expect(dir, "rep_times_ns", "1000 -2", NULL, C, "column rep_times_ns: '-2' is not a positive number");
	/* a row that was not measured may leave the timing columns empty */
	rr_expect(dir, "status", "error: boom", "naive,cpu,decode,1,4,2,16,1,32,1,f32,,,,,,,,,\"skipped: x\",,\n", C,
	          NULL);
	/* the same point twice, whatever the status and the device */
	rr_expect(dir, NULL, NULL, "naive,gpu,prefill,1,4,2,16,32,32,1,f32,,,,,,,,,error: x,,\n", C,
	          "lines 2 and 3: the same point twice");
	rr_expect(dir, NULL, NULL, "naive,cpu,prefill,1,4,2,16,32,32,1,f16,,,,,,,,,error: x,,\n", C, NULL);
	/* the variant columns: checked where present, off where empty */
	static const char vh[] = "backend,device,phase,batch,n_heads,n_kv_heads,head_dim,seq_len,cache_len,causal,"
	                         "dtype,status,window,softcap,alibi,sinks,head_dim_v,kv_dtype,page_size,lens\n";
	struct {
		const char *row, *want;
	} vr[] = {
	    {"naive,cpu,decode,1,4,2,16,1,32,1,f32,error: x,-1,,,,,,,\n", "column window: '-1'"},
	    {"naive,cpu,decode,1,4,2,16,1,32,1,f32,error: x,,-2,,,,,,\n", "column softcap: '-2' is negative"},
	    {"naive,cpu,decode,1,4,2,16,1,32,1,f32,error: x,,,2,,,,,\n", "column alibi: '2' is not an integer in 0..1"},
	    {"naive,cpu,decode,1,4,2,16,1,32,1,f32,error: x,,,,7,,,,\n", "column sinks"},
	    {"naive,cpu,decode,1,4,2,16,1,32,1,f32,error: x,,,,,-16,,,\n", "column head_dim_v"},
	    {"naive,cpu,decode,1,4,2,16,1,32,1,f32,error: x,,,,,,q5_1,,\n",
	     "column kv_dtype: 'q5_1' is not f32, f16, bf16, q8_0, q4_0 or fp8_e4m3"},
	    {"naive,cpu,decode,1,4,2,16,1,32,1,f32,error: x,,,,,,,x,\n", "column page_size"},
	    {"naive,cpu,decode,1,4,2,16,1,32,1,f32,error: x,,,,,,,,zipf:1\n", "column lens: 'zipf:1'"},
	    /* empty cells are the defaults: the same point as the explicit off values */
	    {"naive,cpu,decode,1,4,2,16,1,32,1,f32,error: x,,,,,,,,\n"
	     "naive,cpu,decode,1,4,2,16,1,32,1,f32,error: y,0,0,0,0,16,f32,0,\n",
	     "lines 2 and 3: the same point twice"},
	    /* and a row differing only by kv_dtype is another point */
	    {"naive,cpu,decode,1,4,2,16,1,32,1,f32,error: x,,,,,,,,\n"
	     "naive,cpu,decode,1,4,2,16,1,32,1,f32,error: y,,,,,,q8_0,,\n",
	     NULL},
	};
	for (size_t i = 0; i < sizeof vr / sizeof vr[0]; i++) {
		char p[512], text[1024];
		snprintf(p, sizeof p, "%s/results.csv", dir);
		const int len = snprintf(text, sizeof text, "%s%s", vh, vr[i].row);
		tu_write(p, text, (size_t)len);
		results_file rf;
		attn_err e = {{0}};
		const int rc = results_read(p, 0, &rf, &e);
		if (!vr[i].want && rc)
			fail_msg("row %zu refused: %s", i, e.msg);
		if (!vr[i].want)
			results_file_free(&rf);
		if (vr[i].want && (rc != EXIT_INPUT || !strstr(e.msg, vr[i].want)))
			fail_msg("row %zu: rc %d, '%s' (wanted '%s')", i, rc, e.msg, vr[i].want);
	}
	/* the columns a reader needs; others are parsed where present */
	rr_expect(dir, NULL, NULL, NULL, C | RESULTS_COL(RC_ITERATIONS), "line 1, column iterations: missing");
	tu_rmtree(dir);
}

int run_table_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip_quoting), cmocka_unit_test(test_results_row),
	    cmocka_unit_test(test_results_read_back),  cmocka_unit_test(test_results_rules),
	    cmocka_unit_test(test_results_variants),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("csv", tests, NULL, NULL);
}
