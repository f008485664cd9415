/* test_plan.c - `attnbench plan`: capacity figures computed by hand, size
 * parsing, the least-squares fits on synthetic points, a projection from a
 * synthetic run checked against a hand computation, and bad input. */
#include <math.h>
#include <stdio.h>

#include "report/plan.h"
#include "testutil.h"

static const plan_model llama8b = {"Llama-3.1-8B", 32, 32, 8, 128, 8.03e9};

static void test_capacity(void **state)
{
	(void)state;
	/* 2 * 32 layers * 8 KV heads * 128 * 2 bytes */
	assert_true(plan_kv_bytes_per_token(&llama8b, 2) == 131072.0);
	assert_true(plan_kv_bytes_per_token(&llama8b, 4) == 262144.0);
	/* 80 GiB, 16 GB of weights, 10% reserve:
	 * 85899345920 - 16000000000 - 8589934592 = 61309411328 bytes */
	const double budget = plan_cache_budget(80.0 * 1073741824.0, 16e9, 0.10);
	assert_true(budget == 61309411328.0);
	assert_int_equal(plan_max_tokens(budget, 131072), 467753);      /* 61309411328 / 131072 = 467753.7 */
	assert_int_equal(plan_max_sequences(budget, 131072, 8192), 57); /* / 2^30 = 57.1 */
	assert_int_equal(plan_max_tokens(budget, 262144), 233876);
	assert_int_equal(plan_max_sequences(budget, 262144, 8192), 28);
	/* MQA: Falcon-7B, 32 layers, one KV head of 64: 8192 bytes per token in f16 */
	const plan_model falcon = {"Falcon-7B", 32, 71, 1, 64, 7.22e9};
	assert_true(plan_kv_bytes_per_token(&falcon, 2) == 8192.0);
	assert_int_equal(plan_max_sequences(budget, 8192, 131072), 57); /* 61309411328 / 2^30 */
	/* nothing left */
	assert_int_equal(plan_max_tokens(plan_cache_budget(10, 9, 0.2), 1), 0);
}

/* A synthetic run: prefill t = 1000 + 2 n + 0.25 n^2 ns, decode t = 400 + 3 n
 * ns, at 8 query heads, 2 KV heads, head_dim 128 (and a worse-matching
 * shape that must not be used). */
static char *synthetic_run(void)
{
	char *dir = tu_tmpdir();
	char path[4200], buf[8192];
	size_t n = (size_t)snprintf(buf, sizeof buf,
	                            "backend,device,phase,batch,n_heads,n_kv_heads,head_dim,seq_len,"
	                            "cache_len,causal,dtype,time_ns,status\n");
	for (int i = 0; i < 4; i++) {
		const double s = 512.0 * (1 << i);
		n += (size_t)snprintf(buf + n, sizeof buf - n, "cpuX,cpu,prefill,1,8,2,128,%.0f,%.0f,1,f32,%.3f,ok\n",
		                      s, s, 1000 + 2 * s + 0.25 * s * s);
		n += (size_t)snprintf(buf + n, sizeof buf - n, "cpuX,cpu,decode,1,8,2,128,1,%.0f,1,f32,%.3f,ok\n",
		                      s * 4, 400 + 3 * s * 4);
		n +=
		    (size_t)snprintf(buf + n, sizeof buf - n, "cpuX,cpu,prefill,1,8,8,64,%.0f,%.0f,1,f32,1,ok\n", s, s);
	}
	n += (size_t)snprintf(buf + n, sizeof buf - n, "cpuX,cpu,decode,1,8,2,128,1,9999,1,f32,,skipped: no\n");
	snprintf(path, sizeof path, "%s/results.csv", dir);
	tu_write(path, buf, n);
	return dir;
}

static void test_projection(void **state)
{
	(void)state;
	char *dir = synthetic_run();
	char csv[4200];
	snprintf(csv, sizeof csv, "%s/plan.csv", dir);
	/* model: 3 layers, 16 query heads, 4 KV heads, head_dim 128 */
	EXPECT(0, "cpuX", "plan", "--layers", "3", "--heads", "16", "--kv-heads", "4", "--head-dim", "128", "--mem",
	       "1GiB", "--weights", "0", "--results", dir, "--context", "2048,65536", "--csv", csv);
	char *text = tu_read(csv, NULL);
	assert_non_null(text);
	/* hand: per layer at 8 heads, times 16/8 heads, times 3 layers */
	const double n = 2048;
	const double pre = (1000 + 2 * n + 0.25 * n * n) * 2 * 3 * 1e-9, dec = (400 + 3 * n) * 2 * 3 * 1e-9;
	const char *row = strstr(text, "projection,cpuX,f32,2048,");
	assert_non_null(row);
	double got_pre, got_dec;
	assert_int_equal(sscanf(row, "projection,cpuX,f32,2048,,,,,%lf,%lf", &got_pre, &got_dec), 2);
	if (fabs(got_pre - pre) > 1e-4 * pre || fabs(got_dec - dec) > 1e-4 * dec)
		fail_msg("prefill %g s (want %g), decode %g s (want %g)", got_pre, pre, got_dec, dec);
	free(text);
	/* 65536 is 16x past the largest prefill point (4096): flagged */
	EXPECT(0, "prefill 16x past measured", "plan", "--layers", "3", "--heads", "16", "--kv-heads", "4",
	       "--head-dim", "128", "--mem", "1GiB", "--results", dir, "--context", "65536");
	/* a shape that is not the model's is said */
	EXPECT(0, "NOT the model's head_dim/GQA ratio", "plan", "--layers", "3", "--heads", "16", "--kv-heads", "8",
	       "--head-dim", "256", "--mem", "1GiB", "--results", dir);
	/* the exact shape is taken when it was measured (8 heads, 8 KV heads, 64) */
	EXPECT(0, "8 query heads, 8 KV heads, head_dim 64)", "plan", "--layers", "3", "--heads", "16", "--kv-heads",
	       "16", "--head-dim", "64", "--mem", "1GiB", "--results", dir);
	tu_rmtree(dir);
}

static void test_presets_and_output(void **state)
{
	(void)state;
	EXPECT(0, "131072 bytes per token", "plan", "--model", "llama-3.1-8b", "--mem", "80GiB", "--weights", "16GB");
	EXPECT(0, "maximum tokens in cache: 467753", "plan", "--model", "Llama-3.1-8B", "--mem", "80GiB", "--weights",
	       "16GB");
	EXPECT(0, "8192 bytes per token", "plan", "--model", "falcon-7b", "--mem", "24GiB");
	EXPECT(0, "MQA", "plan", "--model", "falcon-7b", "--mem", "24GiB");
	/* every preset loads */
	static const char *const models[] = {"Llama-3.1-70B", "Llama-3.1-405B", "Mistral-7B-v0.3", "Mixtral-8x7B",
	                                     "Qwen2.5-7B",    "Qwen2.5-72B",    "Gemma-2-9B",      "Phi-3-mini"};
	for (size_t i = 0; i < sizeof models / sizeof models[0]; i++)
		EXPECT(0, "bytes per token", "plan", "--model", models[i], "--mem", "2TiB");
	char *dir = tu_tmpdir();
	char csv[4200], png[4200];
	snprintf(csv, sizeof csv, "%s/out.csv", dir);
	snprintf(png, sizeof png, "%s/pic/plan.png", dir);
	char pic[4200];
	snprintf(pic, sizeof pic, "%s/pic", dir);
	EXPECT(0, "seqs f16*", "plan", "--model", "qwen2.5-7b", "--mem", "24GiB", "--kv-dtype", "f16", "--csv", csv,
	       "--out", pic);
	size_t len = 0;
	char *text = tu_read(csv, &len);
	assert_non_null(text);
	assert_non_null(strstr(text, "Qwen2.5-7B,capacity,,int8,8192,"));
	free(text);
	char *img = tu_read(png, &len);
	assert_non_null(img);
	assert_true(len > 1000 && !memcmp(img, "\x89PNG", 4));
	free(img);
	tu_rmtree(dir);
}

static void test_bad_input(void **state)
{
	(void)state;
	EXPECT(2, "Llama-3.1-70B", "plan", "--model", "gpt-9", "--mem", "24GiB"); /* lists the known ones */
	EXPECT(2, "unknown model 'gpt-9'", "plan", "--model", "gpt-9", "--mem", "24GiB");
	EXPECT(2, "--mem: '24 lots' is not a size", "plan", "--model", "llama-3.1-8b", "--mem", "24 lots");
	EXPECT(2, "--mem SIZE is required", "plan", "--model", "llama-3.1-8b");
	EXPECT(2, "larger than --mem", "plan", "--model", "llama-3.1-70b", "--mem", "80GiB");
	EXPECT(2, "nothing is left", "plan", "--model", "llama-3.1-8b", "--mem", "16GiB", "--weights", "15GiB");
	EXPECT(2, "--kv-dtype: 'f8'", "plan", "--model", "llama-3.1-8b", "--mem", "80GiB", "--kv-dtype", "f8");
	EXPECT(2, "--reserve", "plan", "--model", "llama-3.1-8b", "--mem", "80GiB", "--reserve", "150%");
	EXPECT(2, "exclude each other", "plan", "--model", "llama-3.1-8b", "--layers", "2", "--mem", "80GiB");
	EXPECT(2, "give --model NAME", "plan", "--layers", "2", "--mem", "80GiB");
	EXPECT(2, "not a multiple", "plan", "--layers", "2", "--heads", "6", "--kv-heads", "4", "--head-dim", "64",
	       "--mem", "1GiB");
	EXPECT(2, "--context", "plan", "--model", "llama-3.1-8b", "--mem", "80GiB", "--context", "0");
	EXPECT(2, "no_such_presets.csv", "plan", "--model", "x", "--models", "no_such_presets.csv", "--mem", "1G");
	/* a results dir without usable rows */
	char *dir = tu_tmpdir();
	char path[4200];
	snprintf(path, sizeof path, "%s/results.csv", dir);
	static const char only_skipped[] =
	    "backend,device,phase,batch,n_heads,n_kv_heads,head_dim,seq_len,cache_len,"
	    "causal,dtype,time_ns,status\nb,cpu,prefill,1,8,2,64,128,128,1,f32,,skipped: x\n";
	tu_write(path, only_skipped, sizeof only_skipped - 1);
	EXPECT(2, "no usable rows", "plan", "--model", "llama-3.1-8b", "--mem", "80GiB", "--results", dir);
	static const char not_results[] = "a,b\n1,2\n";
	tu_write(path, not_results, sizeof not_results - 1);
	EXPECT(2, "no column", "plan", "--model", "llama-3.1-8b", "--mem", "80GiB", "--results", dir);
	EXPECT(2, "results.csv", "plan", "--model", "llama-3.1-8b", "--mem", "80GiB", "--results", "/nonexistent/run");
	tu_rmtree(dir);
}

int run_plan_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_capacity),
	    cmocka_unit_test(test_projection),
	    cmocka_unit_test(test_presets_and_output),
	    cmocka_unit_test(test_bad_input),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
