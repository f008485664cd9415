/* test_bench.c - `attnbench bench` as Google Benchmark's users drive it:
 * today's flag syntax (--benchmark_min_time=0.01s and =5x, the formats,
 * --benchmark_out, --benchmark_filter, --benchmark_repetitions), attnbench's
 * context in the JSON, no "built as DEBUG" warning for an optimised build,
 * --config by name; and the repro column of a sweep with a backend library,
 * --param and --vk-timing. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lib/table.h"
#include "model/results.h"
#include "testutil.h"

/* A tiny grid: one family per backend. */
#define GRID                                                                                                           \
	"--phases", "prefill", "--seq", "16,32", "--heads", "2", "--gqa", "1", "--head-dim", "8", "--batch", "1",      \
	    "--dtype", "f32,f16"

/* Parse JSON text or fail naming what. */
static json_t *parse(const char *text, const char *what)
{
	json_error_t je;
	json_t *j = text ? json_loads(text, 0, &je) : NULL;
	if (!j)
		fail_msg("%s is not JSON (%s, line %d): %.1500s", what, text ? je.text : "no text", text ? je.line : 0,
		         text ? text : "");
	return j;
}

/* The text at a path of object keys ("context", "attnbench", "version"),
 * or NULL. */
static const char *text_at(json_t *j, const char *const *keys, int n)
{
	for (int i = 0; i < n && j; i++)
		j = json_object_get(j, keys[i]);
	return json_string_value(j);
}

/* A bench report in JSON: Google Benchmark's context with attnbench's in
 * it, every entry of the filtered family, repeated. */
static void check_report(json_t *j, const char *what)
{
	json_t *ctx = json_object_get(j, "context"), *a = json_object_get(ctx, "attnbench");
	if (!a)
		fail_msg("%s: no context.attnbench", what);
	const char *const need[][3] = {{"version"}, {"commit"}, {"build_flags"}, {"machine", "cpu_model"}};
	for (int i = 0; i < 4; i++)
		if (!text_at(a, need[i], need[i][1] ? 2 : 1))
			fail_msg("%s: no context.attnbench.%s", what, need[i][0]);
	assert_string_equal(text_at(a, (const char *const[]){"build_type"}, 1), "release");
	json_t *be = json_array_get(json_object_get(a, "backends"), 0);
	assert_string_equal(json_string_value(json_object_get(be, "name")), "naive");
	assert_string_equal(json_string_value(json_object_get(be, "device")), "cpu");
	assert_string_equal(json_string_value(json_object_get(be, "origin")), "built-in");
	assert_non_null(json_string_value(json_object_get(be, "setup")));
	assert_true(json_integer_value(json_object_get(json_object_get(a, "machine"), "cpus_online")) > 0);
	/* how the timed code was built, not "debug" from Debian's library */
	assert_string_equal(json_string_value(json_object_get(ctx, "library_build_type")), "release");
	const char *exe = json_string_value(json_object_get(ctx, "executable"));
	assert_non_null(exe);
	assert_non_null(strstr(exe, "attnbench"));
	json_t *b = json_object_get(j, "benchmarks");
	size_t i, runs = 0;
	json_t *x;
	json_array_foreach(b, i, x)
	{
		const char *name = json_string_value(json_object_get(x, "name"));
		const char *type = json_string_value(json_object_get(x, "run_type"));
		if (!name || !strstr(name, "_f16/"))
			fail_msg("%s: '%s' passed --benchmark_filter=f16", what, name ? name : "?");
		runs += type && !strcmp(type, "iteration");
	}
	/* 2 lengths x --benchmark_repetitions=2 */
	if (runs != 4)
		fail_msg("%s: %zu iteration runs, want 4", what, runs);
}

static void test_bench_flags(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), file[600], arg[700];
	snprintf(file, sizeof file, "%s/bench.json", dir);
	snprintf(arg, sizeof arg, "--benchmark_out=%s", file);
	char *out = NULL, *err = NULL;
	int rc = tu_run(&out, &err, "bench", "--backend", "naive", GRID, "--benchmark_min_time=0.001s",
	                "--benchmark_format=json", arg, "--benchmark_out_format=json", "--benchmark_filter=f16",
	                "--benchmark_repetitions=2", (char *)NULL);
	if (rc != 0)
		fail_msg("bench: exit %d: %.1500s", rc, err ? err : "");
	json_t *j = parse(out, "bench's stdout");
	check_report(j, "stdout");
	json_decref(j);
	char *text = tu_read(file, NULL);
	j = parse(text, "--benchmark_out");
	check_report(j, "--benchmark_out");
	json_decref(j);
	free(text);
	assert_null(strstr(err, "DEBUG"));
	free(out);
	free(err);
	/* =Nx: exactly N iterations; the console context says whose build */
	rc = tu_run(&out, &err, "bench", "--backend", "naive", GRID, "--benchmark_min_time=3x", (char *)NULL);
	assert_int_equal(rc, 0);
	if (!strstr(out, "/iterations:3/") || strstr(out, "DEBUG") || strstr(err, "DEBUG"))
		fail_msg("--benchmark_min_time=3x: %.1500s\nstderr: %.1500s", out, err);
	if (!strstr(err, "attnbench 0.") || !strstr(err, "attnbench backend naive: cpu"))
		fail_msg("no attnbench context on stderr: %.1500s", err);
	free(out);
	free(err);
	/* plain seconds, Google Benchmark's older syntax, still work */
	EXPECT(0, "/min_time:0.001/", "bench", "--backend", "naive", GRID, "--benchmark_min_time=0.001");
	EXPECT(2, "--benchmark_min_time: '0.01ms' is not seconds", "bench", "--benchmark_min_time=0.01ms");
	EXPECT(2, "--benchmark_min_time: '0x'", "bench", "--benchmark_min_time=0x");
	EXPECT(2, "--benchmark_format: 'xml' is not console, json or csv", "bench", "--benchmark_format=xml");
	snprintf(arg, sizeof arg, "--benchmark_out=%s/no/such/dir/x.json", dir);
	EXPECT(2, "/no/such/dir/x.json: cannot write", "bench", "--backend", "naive", GRID, arg);
	/* --config by name, as sweep takes it */
	EXPECT(0, "", "bench", "--config", "smoke", "--backend", "naive", "--benchmark_filter=^none$");
	EXPECT(2, "--config nonesuch: no such file, nor nonesuch or nonesuch.conf", "bench", "--config", "nonesuch");
	tu_rmtree(dir);
}

/* The repro of a row measured with a backend library, --param and
 * --vk-timing names all three, and runs as it is. */
static void test_repro_options(void **state)
{
	(void)state;
	const char *env = getenv("ATTNBENCH_THIRDPARTY_LIB");
	char lib[512];
	snprintf(lib, sizeof lib, "%s", env && *env ? env : tu_built("libattnbench_twopass.so"));
	char *dir = tu_tmpdir(), run[600], csv[700];
	snprintf(run, sizeof run, "%s/run", dir);
	EXPECT(0, "0 errors", "sweep", "--backend-lib", lib, "--backend", "twopass,blocked", "--param",
	       "blocked:tile_q=16", "--vk-timing", "gpu", GRID, "--dtype", "f32", "--seq", "16", "--repetitions", "1",
	       "--min-time", "0.001", "--no-isolate", "--out", run);
	snprintf(csv, sizeof csv, "%s/results.csv", run);
	results_file rf;
	attn_err e = {{0}};
	if (results_read(csv, RESULTS_NEED_CONTRACT, &rf, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(rf.nrows, 2);
	for (int i = 0; i < rf.nrows; i++) {
		const char *repro = rf.rows[i].repro, *be = rf.rows[i].backend;
		const int plugin = !strcmp(be, "twopass");
		/* the library as the registry resolved it: an absolute path */
		const char *bl = strstr(repro, " --backend-lib /");
		const char *base = strrchr(lib, '/') ? strrchr(lib, '/') + 1 : lib;
		if (plugin != (bl && strstr(bl, base)) || !strstr(repro, " --vk-timing gpu") ||
		    (!plugin && !strstr(repro, " --param blocked:tile_q=16")))
			fail_msg("%s's repro: '%s'", be, repro);
		char again[700], cmd[4000];
		snprintf(again, sizeof again, "%s/again%d", dir, i);
		snprintf(cmd, sizeof cmd, "%s %s --out %s --no-isolate >/dev/null 2>&1", tu_bin(), repro + 10, again);
		if (system(cmd) != 0)
			fail_msg("%s's repro failed: %s", be, cmd);
	}
	results_file_free(&rf);
	tu_rmtree(dir);
}

int run_bench_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bench_flags),
	    cmocka_unit_test(test_repro_options),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("bench", tests, NULL, NULL);
}
