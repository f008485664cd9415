/* test_plan.c - `attnbench plan`: capacity figures computed by hand (KV
 * storage types with their blocks, sliding windows, MLA, pages, --lens), size
 * parsing, the least-squares fits on synthetic points, a projection from a
 * synthetic run checked against a hand computation, and bad input. */
#include <math.h>
#include <stdio.h>

#include "report/plan.h"
#include "testutil.h"

static const plan_model llama8b = {"Llama-3.1-8B", 32, 32, 8, 128, 8.03e9, 0, 0, 0, 0, 0};

static void test_capacity(void **state)
{
	(void)state;
	/* 2 * 32 layers * 8 KV heads * 128 * 2 bytes */
	assert_true(plan_seq_bytes(&llama8b, "f16", 1, 0) == 131072.0);
	assert_true(plan_seq_bytes(&llama8b, "f32", 1, 0) == 262144.0);
	/* 80 GiB, 16 GB of weights, 10% reserve:
	 * 85899345920 - 16000000000 - 8589934592 = 61309411328 bytes */
	const double budget = plan_cache_budget(80.0 * 1073741824.0, 16e9, 0.10);
	assert_true(budget == 61309411328.0);
	assert_int_equal(plan_max_tokens(budget, 131072), 467753); /* 61309411328 / 131072 = 467753.7 */
	assert_int_equal(plan_max_sequences(budget, plan_seq_bytes(&llama8b, "f16", 8192, 0)), 57); /* / 2^30 = 57.1 */
	assert_int_equal(plan_max_tokens(budget, 262144), 233876);
	assert_int_equal(plan_max_sequences(budget, plan_seq_bytes(&llama8b, "f32", 8192, 0)), 28);
	assert_int_equal(plan_longest_context(&llama8b, "f16", 0, budget, 1), 467753);
	assert_int_equal(plan_longest_context(&llama8b, "f16", 0, budget, 2), 233876); /* 467753 / 2 */
	/* MQA: Falcon-7B, 32 layers, one KV head of 64: 8192 bytes per token in f16 */
	const plan_model falcon = {"Falcon-7B", 32, 71, 1, 64, 7.22e9, 0, 0, 0, 0, 0};
	assert_true(plan_seq_bytes(&falcon, "f16", 1, 0) == 8192.0);
	assert_int_equal(plan_max_sequences(budget, plan_seq_bytes(&falcon, "f16", 131072, 0)), 57); /* / 2^30 */
	/* nothing left */
	assert_int_equal(plan_max_tokens(plan_cache_budget(10, 9, 0.2), 1), 0);
}

/* The storage types with their block overhead, per token of Llama-3.1-8B
 * (2 x 32 layers x 8 KV heads = 512 rows of 128 elements):
 *   f32 512 x 512 = 262144, f16/bf16 131072, fp8_e4m3 65536,
 *   q8_0 512 x 4 blocks x 34 = 69632 = 262144 x 34/128,
 *   q4_0 512 x 4 blocks x 18 = 36864 = 262144 x 18/128. */
static void test_kv_types(void **state)
{
	(void)state;
	const double f32 = plan_seq_bytes(&llama8b, "f32", 1, 0);
	assert_true(f32 == 262144.0);
	assert_true(plan_seq_bytes(&llama8b, "bf16", 1, 0) == 131072.0);
	assert_true(plan_seq_bytes(&llama8b, "fp8_e4m3", 1, 0) == 65536.0);
	assert_true(plan_seq_bytes(&llama8b, "q8_0", 1, 0) == 69632.0);
	assert_true(plan_seq_bytes(&llama8b, "q8_0", 1, 0) * 128 == f32 * 34);
	assert_true(plan_seq_bytes(&llama8b, "q4_0", 1, 0) == 36864.0);
	assert_true(plan_kv_row_bytes("q8_0", 64) == 68.0);
	assert_true(plan_kv_row_bytes("q4_0", 96) == 54.0);
	assert_true(plan_kv_row_bytes("q8_0", 48) == -1); /* not whole blocks */
	assert_true(plan_kv_row_bytes("f8", 64) == 0);
	assert_string_equal(plan_kv_type_name("Q8_0"), "q8_0");
	assert_null(plan_kv_type_name("int8"));
	/* the command: the q8_0 line is 34/128 of the f32 line */
	EXPECT(0, "KV cache (f32): 262144 bytes per token", "plan", "--model", "llama-3.1-8b", "--mem", "80GiB",
	       "--kv-dtype", "f32");
	EXPECT(0, "KV cache (q8_0): 69632 bytes per token (2 x 32 layers x 8 KV heads x 136 bytes", "plan", "--model",
	       "llama-3.1-8b", "--mem", "80GiB", "--kv-dtype", "q8_0");
	EXPECT(0, "KV cache (q4_0): 36864 bytes per token", "plan", "--model", "llama-3.1-8b", "--mem", "80GiB",
	       "--kv-dtype", "Q4_0");
}

/* Sliding windows. Gemma-2-9B: 42 layers, 8 KV heads of 256, every other
 * layer local with W = 4096. One token in one layer in f16: 2 x 8 x 256 x 2
 * = 8192 bytes; all 42 layers: 344064 bytes per token up to the window. At
 * 8192 tokens the 21 global layers hold 8192 tokens and the 21 local ones
 * 4096: 21 x 8192 x (8192 + 4096) = 2113929216 bytes, 258048 per token (3/4
 * of 344064). Mistral-7B-v0.1 has W = 4096 on all 32 layers: past 4096 a
 * sequence grows no more, and any context fits. */
static void test_windows(void **state)
{
	(void)state;
	const plan_model g2 = {"g2", 42, 16, 8, 256, 0, 4096, 2, 0, 0, 0};
	assert_int_equal(plan_local_layers(&g2), 21);
	assert_true(plan_seq_bytes(&g2, "f16", 4096, 0) == 344064.0 * 4096);
	assert_true(plan_seq_bytes(&g2, "f16", 8192, 0) == 2113929216.0);
	/* Gemma 3: 5 local to 1 global: 40 of 48 layers local */
	const plan_model g3 = {"g3", 48, 16, 8, 256, 0, 1024, 6, 0, 0, 0};
	assert_int_equal(plan_local_layers(&g3), 40);
	const plan_model mistral = {"m", 32, 32, 8, 128, 0, 4096, 0, 0, 0, 0};
	assert_int_equal(plan_local_layers(&mistral), 32);
	assert_true(plan_seq_bytes(&mistral, "f16", 100000, 0) == plan_seq_bytes(&mistral, "f16", 4096, 0));
	assert_int_equal(plan_longest_context(&mistral, "f16", 0, 1e12, 1), -1);
	/* the presets, through the command and its CSV */
	char *dir = tu_tmpdir();
	char csv[4200];
	snprintf(csv, sizeof csv, "%s/g.csv", dir);
	EXPECT(0,
	       "344064 bytes per token (2 x 42 layers x 8 KV heads x 512 bytes of a 256-element row) up to 4096 "
	       "tokens, then 172032 per further token",
	       "plan", "--model", "gemma-2-9b", "--mem", "80GiB", "--context", "8192", "--csv", csv);
	char *text = tu_read(csv, NULL);
	assert_non_null(text);
	assert_non_null(strstr(text, "Gemma-2-9B,capacity,,f16,8192,258048,2113929216,"));
	free(text);
	tu_rmtree(dir);
	EXPECT(0, "40 of 48 layers local with a 1024-token sliding window", "plan", "--model", "gemma-3-12b", "--mem",
	       "80GiB");
	EXPECT(0, "any (every layer keeps at most 4096 tokens)", "plan", "--model", "mistral-7b-v0.1", "--mem",
	       "80GiB");
	EXPECT(0, "12 of 24 layers local with a 128-token sliding window; attention sinks", "plan", "--model",
	       "gpt-oss-20b", "--mem", "80GiB");
}

/* MLA: DeepSeek-V2-Lite caches kv_lora_rank 512 + qk_rope_head_dim 64 = 576
 * elements per token and layer: 27 x 576 x 2 bytes = 31104 bytes per token
 * in bf16 (per-head K and V would be 2 x 27 x 16 x 192 x 2 = 331776). */
static void test_mla(void **state)
{
	(void)state;
	const plan_model ds = {"ds", 27, 16, 16, 192, 0, 0, 0, 0, 512, 64};
	assert_true(plan_seq_bytes(&ds, "bf16", 1, 0) == 31104.0);
	assert_true(plan_seq_bytes(&ds, "q8_0", 1, 0) == 27.0 * 18 * 34); /* 576 = 18 blocks */
	EXPECT(0, "KV cache (bf16): 31104 bytes per token (27 layers x 1152 bytes of a 576-element latent row)", "plan",
	       "--model", "deepseek-v2-lite", "--mem", "80GiB", "--kv-dtype", "bf16");
	/* DeepSeek-V3: 61 x 576 x 2 */
	EXPECT(0, "KV cache (f16): 70272 bytes per token", "plan", "--model", "deepseek-v3", "--mem", "2TiB");
}

/* The variant presets of datasets/models.csv, read through presets_find,
 * against their config.json values and caches computed by hand (f16, one
 * token in one layer of a standard model: 2 x kv_heads x head_dim x 2):
 *   gpt-oss-20b: 24 layers, 64 heads, 8 KV heads of 64, W = 128 on every
 *     other layer (layer_types alternate): 2048 bytes a layer, 49152 per
 *     token up to 128; at 1024 tokens 12 x 2048 x (1024 + 128) = 28311552.
 *   Mistral-7B-v0.1: 32 layers, 8 KV heads of 128, W = 4096 on all: 4096
 *     bytes a layer, 131072 per token; any context holds 4096 tokens,
 *     536870912 bytes.
 *   Gemma-3-12B: 48 layers, 8 KV heads of 256, W = 1024, 5 local to 1
 *     global: 8192 bytes a layer; at 8192 tokens 8 x 8192 x 8192 + 40 x
 *     8192 x 1024 = 536870912 + 335544320 = 872415232.
 *   Gemma-2-9B: at 32768 tokens 21 x 8192 x (32768 + 4096) = 6341787648.
 *   DeepSeek-V2-Lite: 27 layers, 16 heads, kv_lora_rank 512 +
 *     qk_rope_head_dim 64: 27 x 576 x 2 = 31104 per token at any length. */
static void test_variant_presets(void **state)
{
	(void)state;
	static const char path[] = "datasets/models.csv";
	plan_model m;
	attn_err e = {{0}};
	assert_int_equal(presets_find(path, "gpt-oss-20b", &m, &e), 0);
	assert_int_equal(m.layers, 24);
	assert_int_equal(m.heads, 64);
	assert_int_equal(m.kv_heads, 8);
	assert_int_equal(m.head_dim, 64);
	assert_int_equal(m.window, 128);
	assert_int_equal(m.window_pattern, 2);
	assert_int_equal(m.sinks, 1);
	assert_int_equal(m.kv_lora_rank, 0);
	assert_int_equal(plan_local_layers(&m), 12);
	assert_true(plan_seq_bytes(&m, "f16", 1, 0) == 49152.0);
	assert_true(plan_seq_bytes(&m, "f16", 128, 0) == 49152.0 * 128);
	assert_true(plan_seq_bytes(&m, "f16", 1024, 0) == 28311552.0);
	assert_true(m.params > 20e9 && m.params < 22e9);

	assert_int_equal(presets_find(path, "mistral-7b-v0.1", &m, &e), 0);
	assert_int_equal(m.layers, 32);
	assert_int_equal(m.heads, 32);
	assert_int_equal(m.kv_heads, 8);
	assert_int_equal(m.head_dim, 128);
	assert_int_equal(m.window, 4096);
	assert_int_equal(m.window_pattern, 0);
	assert_int_equal(m.sinks, 0);
	assert_int_equal(plan_local_layers(&m), 32);
	assert_true(plan_seq_bytes(&m, "f16", 1, 0) == 131072.0);
	assert_true(plan_seq_bytes(&m, "f16", 131072, 0) == 536870912.0);

	assert_int_equal(presets_find(path, "GEMMA-3-12B", &m, &e), 0);
	assert_int_equal(m.layers, 48);
	assert_int_equal(m.heads, 16);
	assert_int_equal(m.kv_heads, 8);
	assert_int_equal(m.head_dim, 256);
	assert_int_equal(m.window, 1024);
	assert_int_equal(m.window_pattern, 6);
	assert_int_equal(plan_local_layers(&m), 40);
	assert_true(plan_seq_bytes(&m, "f16", 8192, 0) == 872415232.0);

	assert_int_equal(presets_find(path, "gemma-2-9b", &m, &e), 0);
	assert_int_equal(m.layers, 42);
	assert_int_equal(m.kv_heads, 8);
	assert_int_equal(m.head_dim, 256);
	assert_int_equal(m.window, 4096);
	assert_int_equal(plan_local_layers(&m), 21);
	assert_true(plan_seq_bytes(&m, "f16", 32768, 0) == 6341787648.0);

	assert_int_equal(presets_find(path, "deepseek-v2-lite", &m, &e), 0);
	assert_int_equal(m.layers, 27);
	assert_int_equal(m.heads, 16);
	assert_int_equal(m.kv_lora_rank, 512);
	assert_int_equal(m.qk_rope_head_dim, 64);
	assert_int_equal(m.window, 0);
	assert_true(plan_seq_bytes(&m, "bf16", 1, 0) == 31104.0);
	assert_true(plan_seq_bytes(&m, "bf16", 100000, 0) == 31104.0 * 100000);
}

/* Pages of 16 tokens, sequences of 1, 16 and 17 tokens: 1 + 1 + 2 pages =
 * 64 slots for 34 tokens, 30 slots of padding. With one layer, one KV head
 * of 32 in f32 a slot is 2 x 32 x 4 = 256 bytes: the three take 16384 bytes
 * (8704 without pages), and in exactly 16384 bytes three fit. */
static void test_pages(void **state)
{
	(void)state;
	const plan_model tiny = {"t", 1, 1, 1, 32, 0, 0, 0, 0, 0, 0};
	const double paged = plan_seq_bytes(&tiny, "f32", 1, 16) + plan_seq_bytes(&tiny, "f32", 16, 16) +
	                     plan_seq_bytes(&tiny, "f32", 17, 16);
	assert_true(paged == 64 * 256.0);
	assert_true(plan_seq_bytes(&tiny, "f32", 17, 0) == 17 * 256.0);
	/* a local layer rounds its window up too: W = 20 holds 32 slots */
	const plan_model local = {"l", 1, 1, 1, 32, 0, 20, 0, 0, 0, 0};
	assert_true(plan_seq_bytes(&local, "f32", 100, 16) == 32 * 256.0);
	plan_lens l;
	char why[160];
	assert_true(plan_lens_parse("1,16,17", 1, &l, why, (int)sizeof why));
	const plan_fill f = plan_fill_budget(&tiny, "f32", 16, 16384, &l, 1000);
	assert_int_equal(f.seqs, 3);
	assert_int_equal(f.tokens, 34);
	assert_true(f.bytes == 16384.0 && f.unpaged == 34 * 256.0);
	EXPECT(0, "): 3 sequences fit, 34 tokens (mean 11.3, longest 17)", "plan", "--layers", "1", "--heads", "1",
	       "--kv-heads", "1", "--head-dim", "32", "--kv-dtype", "f32", "--mem", "16384", "--weights", "0",
	       "--reserve", "0", "--lens", "1,16,17", "--page-size", "16");
	EXPECT(0, "page padding: 7680 bytes, 46.88% of the cache", "plan", "--layers", "1", "--heads", "1",
	       "--kv-heads", "1", "--head-dim", "32", "--kv-dtype", "f32", "--mem", "16384", "--weights", "0",
	       "--reserve", "0", "--lens", "1,16,17", "--page-size", "16");
}

/* --lens uniform and chat: the same seed gives the same lengths, another
 * seed others, all within the bounds. */
static void test_lens(void **state)
{
	(void)state;
	static const char *const dists[] = {"uniform:100-200", "chat:512-4096", "chat"};
	for (int d = 0; d < 3; d++) {
		plan_lens a, b, c;
		char why[160];
		assert_true(plan_lens_parse(dists[d], 7, &a, why, (int)sizeof why));
		assert_true(plan_lens_parse(dists[d], 7, &b, why, (int)sizeof why));
		assert_true(plan_lens_parse(dists[d], 8, &c, why, (int)sizeof why));
		int same = 0;
		for (int i = 0; i < 1000; i++) {
			const int64_t x = plan_lens_next(&a), y = plan_lens_next(&b), z = plan_lens_next(&c);
			assert_int_equal(x, y);
			same += x == z;
			assert_true(x >= (d == 0 ? 100 : 1) && x <= (d == 0 ? 200 : d == 1 ? 4096 : 32768));
		}
		assert_true(same < 100);
	}
	/* uniform is integer arithmetic only, so its stream is pinned: splitmix64
	 * from seed 1 gives 0x910a2dec89025cc1, 0xbeeb8da1658eec67,
	 * 0xf893a2eefb32555e, 0x71c18690ee42c90b; 1 + each mod 1000 is 466, 520,
	 * 591, 236 (computed with Python's integers) */
	{
		plan_lens u;
		char why[160];
		assert_true(plan_lens_parse("uniform:1-1000", 1, &u, why, (int)sizeof why));
		static const int64_t want[] = {466, 520, 591, 236};
		for (int i = 0; i < 4; i++)
			assert_int_equal(plan_lens_next(&u), want[i]);
	}
	/* chat is long-tailed: its mean lies above its median (e^(1/2) times for
	 * a log-normal of sigma 1) */
	plan_lens l;
	char why[160];
	assert_true(plan_lens_parse("chat:1000-1000000", 3, &l, why, (int)sizeof why));
	double sum = 0;
	int below = 0;
	for (int i = 0; i < 20000; i++) {
		const int64_t x = plan_lens_next(&l);
		sum += (double)x;
		below += x < 1000;
	}
	assert_true(sum / 20000 > 1500 && sum / 20000 < 1800);
	assert_true(below > 9500 && below < 10500);
	/* the command prints the same first lengths for the same seed */
	char *o1, *o2, *e;
	assert_int_equal(tu_run(&o1, &e, "plan", "--model", "qwen2.5-7b", "--mem", "80GiB", "--lens", "chat", "--seed",
	                        "42", (char *)NULL),
	                 0);
	free(e);
	assert_int_equal(tu_run(&o2, &e, "plan", "--model", "qwen2.5-7b", "--mem", "80GiB", "--lens", "chat", "--seed",
	                        "42", (char *)NULL),
	                 0);
	free(e);
	assert_non_null(strstr(o1, "first lengths:"));
	assert_string_equal(o1, o2);
	free(o2);
	assert_int_equal(tu_run(&o2, &e, "plan", "--model", "qwen2.5-7b", "--mem", "80GiB", "--lens", "chat", "--seed",
	                        "43", (char *)NULL),
	                 0);
	free(e);
	assert_true(strcmp(strstr(o1, "first lengths:"), strstr(o2, "first lengths:")) != 0);
	free(o1), free(o2);
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
	/* a model with one local (W = 1024) and one global layer, from a presets
	 * file: at n = 2048 the local layer's prefill has W^2 / 2 + (n - W) W
	 * pairs instead of n^2 / 2, so 0.25 (2 n W - W^2) for 0.25 n^2, and its
	 * decode reads W keys:
	 *   prefill (1000 + 2 n + 0.25 n^2) + (1000 + 2 n + 0.25 (2 n W - W^2))
	 *         = 1053672 + 791528 ns, times 16/8 heads
	 *   decode  (400 + 3 n) + (400 + 3 W) = 6544 + 3472 ns, times 2 */
	char models[4200];
	snprintf(models, sizeof models, "%s/models.csv", dir);
	static const char wrow[] = "name,layers,heads,kv_heads,head_dim,params,window,window_pattern\n"
	                           "w,2,16,4,128,,1024,2\n";
	tu_write(models, wrow, sizeof wrow - 1);
	EXPECT(0, "1 of 2 layers local", "plan", "--model", "w", "--models", models, "--mem", "1GiB", "--results", dir,
	       "--context", "2048", "--csv", csv);
	text = tu_read(csv, NULL);
	assert_non_null(text);
	row = strstr(text, "projection,cpuX,f32,2048,");
	assert_non_null(row);
	assert_int_equal(sscanf(row, "projection,cpuX,f32,2048,,,,,%lf,%lf", &got_pre, &got_dec), 2);
	const double wpre = (1053672.0 + 791528.0) * 2e-9, wdec = (6544.0 + 3472.0) * 2e-9;
	if (fabs(got_pre - wpre) > 1e-4 * wpre || fabs(got_dec - wdec) > 1e-4 * wdec)
		fail_msg("windowed: prefill %g s (want %g), decode %g s (want %g)", got_pre, wpre, got_dec, wdec);
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
	static const char *const models[] = {"Llama-3.1-70B", "Llama-3.1-405B",  "Mistral-7B-v0.3", "Mixtral-8x7B",
	                                     "Qwen2.5-7B",    "Qwen2.5-72B",     "Gemma-2-9B",      "Phi-3-mini",
	                                     "Gemma-3-12B",   "Mistral-7B-v0.1", "gpt-oss-20b",     "DeepSeek-V2-Lite",
	                                     "DeepSeek-V3"};
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
	assert_non_null(strstr(text, "Qwen2.5-7B,capacity,,q8_0,8192,"));
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
	EXPECT(2, "--kv-dtype q8_0: the model's rows of 48 elements", "plan", "--layers", "2", "--heads", "2",
	       "--kv-heads", "1", "--head-dim", "48", "--mem", "1GiB", "--kv-dtype", "q8_0");
	EXPECT(2, "--page-size: '0'", "plan", "--model", "llama-3.1-8b", "--mem", "80GiB", "--page-size", "0");
	EXPECT(2, "--page-size: 'x'", "plan", "--model", "llama-3.1-8b", "--mem", "80GiB", "--page-size", "x");
	EXPECT(2, "--lens: 'uniform:9-3'", "plan", "--model", "llama-3.1-8b", "--mem", "80GiB", "--lens",
	       "uniform:9-3");
	EXPECT(2, "--lens: 'chat:0-10'", "plan", "--model", "llama-3.1-8b", "--mem", "80GiB", "--lens", "chat:0-10");
	EXPECT(2, "--lens: 'gaussian'", "plan", "--model", "llama-3.1-8b", "--mem", "80GiB", "--lens", "gaussian");
	EXPECT(2, "--lens: '1,0'", "plan", "--model", "llama-3.1-8b", "--mem", "80GiB", "--lens", "1,0");
	EXPECT(2, "--seed: '-1'", "plan", "--model", "llama-3.1-8b", "--mem", "80GiB", "--lens", "chat", "--seed",
	       "-1");
	EXPECT(2, "--seed needs --lens", "plan", "--model", "llama-3.1-8b", "--mem", "80GiB", "--seed", "3");
	EXPECT(2, "--reserve", "plan", "--model", "llama-3.1-8b", "--mem", "80GiB", "--reserve", "150%");
	EXPECT(2, "exclude each other", "plan", "--model", "llama-3.1-8b", "--layers", "2", "--mem", "80GiB");
	EXPECT(2, "give --model NAME", "plan", "--layers", "2", "--mem", "80GiB");
	EXPECT(2, "not a multiple", "plan", "--layers", "2", "--heads", "6", "--kv-heads", "4", "--head-dim", "64",
	       "--mem", "1GiB");
	EXPECT(2, "--context", "plan", "--model", "llama-3.1-8b", "--mem", "80GiB", "--context", "0");
	EXPECT(2, "--batch: '0'", "plan", "--model", "llama-3.1-8b", "--mem", "80GiB", "--batch", "0");
	EXPECT(2, "--weights: 'lots'", "plan", "--model", "llama-3.1-8b", "--mem", "80GiB", "--weights", "lots");
	EXPECT(2, "--params: '-1'", "plan", "--model", "llama-3.1-8b", "--mem", "80GiB", "--params", "-1");
	EXPECT(2, "--weight-dtype: 'int3'", "plan", "--model", "llama-3.1-8b", "--mem", "80GiB", "--weight-dtype",
	       "int3");
	EXPECT(2, "--layers: '0'", "plan", "--layers", "0", "--heads", "2", "--kv-heads", "1", "--head-dim", "64",
	       "--mem", "1GiB");
	EXPECT(2, "--head-dim: 'x'", "plan", "--layers", "2", "--heads", "2", "--kv-heads", "1", "--head-dim", "x",
	       "--mem", "1GiB");
	EXPECT(2, "--kv-dtype: 'int8'", "plan", "--model", "llama-3.1-8b", "--mem", "80GiB", "--kv-dtype", "int8");
	EXPECT(2, "no_such_presets.csv", "plan", "--model", "x", "--models", "no_such_presets.csv", "--mem", "1G");
	/* presets with bad variant columns: the file, line and column are named */
	char *pd = tu_tmpdir();
	char bad[4200];
	snprintf(bad, sizeof bad, "%s/models.csv", pd);
	static const char bad_sinks[] = "name,layers,heads,kv_heads,head_dim,params,sinks\nx,2,2,1,64,,2\n";
	tu_write(bad, bad_sinks, sizeof bad_sinks - 1);
	EXPECT(2, "models.csv: line 2, column sinks: '2' is not an integer in 0..1", "plan", "--model", "x", "--models",
	       bad, "--mem", "1G");
	static const char bad_pattern[] = "name,layers,heads,kv_heads,head_dim,params,window_pattern\nx,2,2,1,64,,2\n";
	tu_write(bad, bad_pattern, sizeof bad_pattern - 1);
	EXPECT(2, "models.csv: line 2: window_pattern 2 without a window", "plan", "--model", "x", "--models", bad,
	       "--mem", "1G");
	static const char bad_rope[] = "name,layers,heads,kv_heads,head_dim,params,qk_rope_head_dim\nx,2,2,1,64,,64\n";
	tu_write(bad, bad_rope, sizeof bad_rope - 1);
	EXPECT(2, "qk_rope_head_dim 64 without kv_lora_rank", "plan", "--model", "x", "--models", bad, "--mem", "1G");
	static const char bad_window[] = "name,layers,heads,kv_heads,head_dim,params,window\nx,2,2,1,64,,-5\n";
	tu_write(bad, bad_window, sizeof bad_window - 1);
	EXPECT(2, "column window: '-5'", "plan", "--model", "x", "--models", bad, "--mem", "1G");
	tu_rmtree(pd);
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
	    cmocka_unit_test(test_capacity),   cmocka_unit_test(test_kv_types),
	    cmocka_unit_test(test_windows),    cmocka_unit_test(test_mla),
	    cmocka_unit_test(test_pages),      cmocka_unit_test(test_lens),
	    cmocka_unit_test(test_projection), cmocka_unit_test(test_presets_and_output),
	    cmocka_unit_test(test_bad_input),  cmocka_unit_test(test_variant_presets),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
