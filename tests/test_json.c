/* test_json.c - `sweep --json` (Google Benchmark's JSON format, read back
 * through jansson) and results.csv's repro column (each row's command run
 * again measures that one point). */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "model/machine.h"
#include "model/results.h"
#include "testutil.h"

#define GRID                                                                                                           \
	"--backend", "naive", "--phases", "decode,attend", "--causal", "0,1", "--batch", "1", "--heads", "2", "--gqa", \
	    "1", "--head-dim", "16", "--seq", "8", "--cache", "16", "--dtype", "f32", "--repetitions", "2",            \
	    "--min-time", "0.001", "--threads", "1", "--no-isolate"

static void read_results(const char *dir, results_file *rf)
{
	char p[600];
	snprintf(p, sizeof p, "%s/results.csv", dir);
	attn_err e = {{0}};
	if (results_read(p, RESULTS_NEED_CONTRACT, rf, &e))
		fail_msg("%s", e.msg);
}

/* The JSON has the context Google Benchmark's tools read and one entry
 * per ok row, with that row's figures. */
static void test_sweep_json(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), js[600];
	snprintf(js, sizeof js, "%s/gb.json", dir);
	EXPECT(0, "wrote", "sweep", "--out", dir, "--json", js, GRID);
	results_file rf;
	read_results(dir, &rf);
	assert_int_equal(rf.nrows, 3);
	json_error_t je;
	json_t *root = json_load_file(js, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		fail_msg("%s: line %d: %s", js, je.line, je.text);
	json_t *ctx = json_object_get(root, "context");
	assert_true(json_is_object(ctx));
	assert_string_equal(json_string_value(json_object_get(ctx, "library_build_type")), "release");
	assert_true(json_integer_value(json_object_get(ctx, "num_cpus")) >= 1);
	assert_true(json_is_integer(json_object_get(ctx, "mhz_per_cpu")));
	assert_true(json_is_array(json_object_get(ctx, "caches")));
	assert_int_equal(strlen(json_string_value(json_object_get(ctx, "date"))), 20);
	assert_non_null(json_string_value(json_object_get(ctx, "host_name")));
	assert_non_null(json_string_value(json_object_get(ctx, "executable")));
	json_t *am = json_object_get(ctx, "attnbench");
	assert_string_equal(json_string_value(json_object_get(am, "git_commit")), build_commit());
	assert_string_equal(json_string_value(json_object_get(am, "build_flags")), build_flags());
	assert_int_equal(json_integer_value(json_object_get(am, "threads_used")), 1);
	json_t *b = json_object_get(root, "benchmarks");
	assert_int_equal(json_array_size(b), 3);
	static const char *const names[] = {"decode/naive/b1_h2_kv2_d16_f32/16",
	                                    "attend/naive/b1_h2_kv2_d16_f32_noncausal/8",
	                                    "attend/naive/b1_h2_kv2_d16_f32/8"};
	for (int i = 0; i < 3; i++) {
		json_t *x = json_array_get(b, (size_t)i);
		const results_rec *r = NULL;
		const char *name = json_string_value(json_object_get(x, "name"));
		const char *repro = json_string_value(json_object_get(x, "repro"));
		assert_non_null(name);
		assert_non_null(repro);
		for (int k = 0; k < 3; k++)
			if (!strcmp(repro, rf.rows[k].repro))
				r = &rf.rows[k];
		if (!r)
			fail_msg("no row has the repro of %s", name);
		assert_string_equal(name, names[r->phase == PHASE_DECODE ? 0 : r->causal ? 2 : 1]);
		assert_string_equal(json_string_value(json_object_get(x, "run_name")), name);
		assert_string_equal(json_string_value(json_object_get(x, "run_type")), "iteration");
		assert_string_equal(json_string_value(json_object_get(x, "time_unit")), "ns");
		assert_int_equal(json_integer_value(json_object_get(x, "repetitions")), 2);
		assert_true(fabs(json_number_value(json_object_get(x, "real_time")) - r->time_ns) <= 1e-6 * r->time_ns);
		assert_true(json_number_value(json_object_get(x, "cpu_time")) > 0);
		assert_true(fabs(json_number_value(json_object_get(x, "gflops")) - r->gflops) <= 1e-6 * r->gflops);
		assert_true(fabs(json_number_value(json_object_get(x, "gbytes_s")) - r->gbytes_s) <=
		            1e-6 * r->gbytes_s);
		assert_int_equal(json_integer_value(json_object_get(x, "kv_cache_bytes")), r->kv_cache_bytes);
	}
	json_decref(root);
	results_file_free(&rf);
	/* a --json path that is a directory is refused before any work */
	char sub[600];
	snprintf(sub, sizeof sub, "%s/adir", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	EXPECT(2, "adir: exists and is not a regular file", "sweep", "--out", dir, "--json", sub, GRID);
	tu_rmtree(dir);
}

/* Each row's repro, run as it is (into another --out), measures exactly
 * that row's point, once. */
static void test_repro_column(void **state)
{
	(void)state;
	char *dir = tu_tmpdir();
	EXPECT(0, "wrote", "sweep", "--out", dir, GRID);
	results_file rf;
	read_results(dir, &rf);
	assert_int_equal(rf.nrows, 3);
	for (int i = 0; i < rf.nrows; i++) {
		const char *repro = rf.rows[i].repro;
		if (strncmp(repro, "attnbench sweep ", 16))
			fail_msg("repro '%s'", repro);
		assert_non_null(strstr(repro, "--repetitions 2 --min-time 0.001 --threads 1"));
		char out[600], cmd[2400];
		snprintf(out, sizeof out, "%s/again%d", dir, i);
		snprintf(cmd, sizeof cmd, "%s %s --out %s --no-isolate >/dev/null 2>&1", tu_bin(), repro + 10, out);
		assert_int_equal(system(cmd), 0);
		results_file again;
		read_results(out, &again);
		assert_int_equal(again.nrows, 1);
		assert_int_equal(results_point_cmp(&again.rows[0], &rf.rows[i]), 0);
		assert_string_equal(again.rows[0].repro, repro);
		results_file_free(&again);
	}
	results_file_free(&rf);
	tu_rmtree(dir);
}

/* A results.csv without the repro column (older versions) is read; its
 * rows have an empty repro. */
static void test_repro_absent(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), p[600];
	snprintf(p, sizeof p, "%s/results.csv", dir);
	EXPECT(0, "wrote", "sweep", "--out", dir, GRID);
	size_t len;
	char *text = tu_read(p, &len);
	/* drop the last field of every line: repro is the last column, and
	 * the commands in it hold no comma */
	char *w = text;
	for (char *line = text; *line;) {
		char *nl = strchr(line, '\n');
		assert_non_null(nl);
		*nl = 0;
		const char *comma = strrchr(line, ',');
		assert_non_null(comma);
		const size_t keep = (size_t)(comma - line);
		memmove(w, line, keep);
		w += keep;
		*w++ = '\n';
		line = nl + 1;
	}
	tu_write(p, text, (size_t)(w - text));
	free(text);
	results_file rf;
	read_results(dir, &rf);
	assert_int_equal(rf.nrows, 3);
	assert_false(rf.same_columns);
	assert_string_equal(rf.rows[0].repro, "");
	results_file_free(&rf);
	tu_rmtree(dir);
}

int run_json_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sweep_json),
	    cmocka_unit_test(test_repro_column),
	    cmocka_unit_test(test_repro_absent),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
