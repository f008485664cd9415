/* test_sweep.c - the sweep grid: config parsing, overrides, expansion, and
 * the FLOP and byte counts results.csv derives from it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "run/measure.h"
#include "run/registry.h"
#include "run/sweep.h"
#include "model/results.h"
#include "testutil.h"

static int parse_text(const char *text, sweep_config *c, attn_err *e)
{
	char *dir = tu_tmpdir(), p[512];
	snprintf(p, sizeof p, "%s/s.conf", dir);
	tu_write(p, text, strlen(text));
	int rc = sweep_config_read(p, c, e);
	tu_rmtree(dir);
	return rc;
}

static void test_sections_and_expansion(void **state)
{
	(void)state;
	sweep_config c;
	attn_err e = {{0}};
	const char *text = "# comment\nrepetitions = 4\nheads = 8\nhead_dim = 64\n"
	                   "[a]\nphases = prefill, decode\nseq = 16, 32\ncache = 100\ngqa = 1, 3, 4\n"
	                   "[b]  \nphases = attend\nseq = 16\ncausal = 0,1\ngqa = 8\n";
	assert_int_equal(parse_text(text, &c, &e), 0);
	assert_int_equal(c.repetitions, 4);
	assert_int_equal(c.ngrids, 2);
	sweep_point *p;
	int n;
	assert_int_equal(sweep_points(&c, &p, &n, &e), 0);
	/* [a]: gqa 3 does not divide 8 -> 2 ratios x (2 prefill + 1 decode) = 6; [b]: 2 */
	assert_int_equal(n, 8);
	int prefill = 0, decode = 0, attend = 0;
	for (int i = 0; i < n; i++) {
		if (p[i].phase == PHASE_PREFILL) {
			prefill++;
			assert_int_equal(p[i].shape.n_q, p[i].shape.n_kv);
			assert_int_equal(p[i].shape.causal, 1);
		} else if (p[i].phase == PHASE_DECODE) {
			decode++;
			assert_int_equal(p[i].shape.n_q, 1);
			assert_int_equal(p[i].cache_len, 100);
		} else {
			attend++;
			assert_int_equal(p[i].shape.n_kv_heads, 1); /* MQA: 8 heads / 8 */
		}
		assert_int_equal(p[i].shape.n_heads % p[i].shape.n_kv_heads, 0);
	}
	assert_int_equal(prefill, 4);
	assert_int_equal(decode, 2);
	assert_int_equal(attend, 2);
	free(p);

	/* command-line override replaces the list in every grid */
	assert_int_equal(sweep_config_set(&c, "seq", "64", "--seq", &e), 0);
	assert_int_equal(sweep_points(&c, &p, &n, &e), 0);
	assert_int_equal(n, 6); /* duplicate-free: [a] 2 prefill + 2 decode, [b] 2 */
	free(p);
}

static void expect_bad(const char *text, const char *needle)
{
	sweep_config c;
	attn_err e = {{0}};
	e.msg[0] = 0;
	int rc = parse_text(text, &c, &e);
	if (rc != EXIT_INPUT || !strstr(e.msg, needle) || !strstr(e.msg, "s.conf:"))
		fail_msg("config '%s': rc %d, message '%s' (wanted '%s')", text, rc, e.msg, needle);
}

static void test_bad_configs(void **state)
{
	(void)state;
	expect_bad("seq = 1, x\n", "'seq'");
	expect_bad("seq = -5\n", "'seq'");
	expect_bad("head_dim = 0\n", "'head_dim'");
	expect_bad("head_dim = 577\n", "'head_dim'");
	expect_bad("cache = 1099511627776\n", "'cache'");
	expect_bad("colour = blue\n", "unknown key 'colour'");
	expect_bad("just words\n", "key = value");
	expect_bad("phases = train\n", "'phases'");
	expect_bad("[a\n", "section");
	expect_bad("[a]\nrepetitions = 3\n", "before the first section");
	expect_bad("repetitions = 0\n", "'repetitions'");
	expect_bad("min_time = -1\n", "'min_time'");
	sweep_config c;
	attn_err e = {{0}};
	assert_int_equal(sweep_config_read("/nonexistent.conf", &c, &e), EXIT_INPUT);
	assert_non_null(strstr(e.msg, "/nonexistent.conf"));
	/* a grid with no valid point is an error, not an empty sweep */
	assert_int_equal(parse_text("heads = 6\ngqa = 4\n", &c, &e), 0);
	sweep_point *p;
	int n;
	assert_int_equal(sweep_points(&c, &p, &n, &e), EXIT_INPUT);
}

/* The key table is the one place a key and its limits are written: the
 * config file and the command line refuse the same values with the same
 * words, and the limits in them come from the table. */
static void test_key_table(void **state)
{
	(void)state;
	assert_true(sweep_nkeys > 0);
	for (int i = 0; i < sweep_nkeys; i++) {
		const sweep_key *k = &sweep_keys[i];
		assert_ptr_equal(sweep_key_find(k->name), k);
		if (k->flag)
			assert_non_null(k->arg);
		if (k->kind != SWEEP_KEY_INTS && k->kind != SWEEP_KEY_INT)
			continue;
		char limits[128], bad[64], msg_file[1100], text[128];
		sweep_key_limits(k, limits, sizeof limits);
		snprintf(bad, sizeof bad, "%lld", (long long)k->hi + 1);
		sweep_config c;
		attn_err e = {{0}};
		sweep_config_default(&c);
		assert_int_equal(sweep_config_set(&c, k->name, bad, "--x", &e), EXIT_INPUT);
		assert_non_null(strstr(e.msg, limits));
		assert_true(!strncmp(e.msg, "--x: ", 5));
		snprintf(text, sizeof text, "%s = %s\n", k->name, bad);
		assert_int_equal(parse_text(text, &c, &e), EXIT_INPUT);
		snprintf(msg_file, sizeof msg_file, "%s", strstr(e.msg, ": key '"));
		attn_err e2 = {{0}};
		sweep_config_default(&c);
		sweep_config_set(&c, k->name, bad, "--x", &e2);
		assert_string_equal(msg_file, e2.msg + 3); /* after "--x" */
		snprintf(bad, sizeof bad, "%lld", (long long)k->hi);
		assert_int_equal(sweep_config_set(&c, k->name, bad, "--x", &e), 0);
	}
	char want[64];
	snprintf(want, sizeof want, "1..%d", SWEEP_MAX_REPS);
	char limits[64];
	sweep_key_limits(sweep_key_find("repetitions"), limits, sizeof limits);
	assert_string_equal(limits, want);
	assert_null(sweep_key_find("colour"));
}

static void test_counts(void **state)
{
	(void)state;
	sweep_point p;
	memset(&p, 0, sizeof p);
	p.phase = PHASE_DECODE;
	p.shape = (attn_shape){.batch = 2,
	                       .n_heads = 32,
	                       .n_kv_heads = 8,
	                       .head_dim = 128,
	                       .n_q = 1,
	                       .n_kv = 4096,
	                       .causal = 1,
	                       .dtype = ATTN_F32};
	p.seq_len = 1;
	p.cache_len = 4096;
	assert_true(point_flops(&p) == 4.0 * 2 * 32 * 128 * 4096);
	assert_int_equal(point_kv_bytes(&p), 2ull * 2 * 8 * 4096 * 128 * 4);
	/* q read + o written (f32) + K and V read */
	assert_true(point_bytes(&p) == (2.0 * 32 * 128) * 8 + 2.0 * 2 * 8 * 4096 * 128 * 4);
	p.phase = PHASE_ATTEND;
	p.shape.n_q = p.shape.n_kv = 10;
	p.shape.causal = 0;
	assert_true(point_flops(&p) == 4.0 * 2 * 32 * 128 * 100);
	p.shape.causal = 1;
	assert_true(point_flops(&p) == 4.0 * 2 * 32 * 128 * 55);
}

/* The variant, KV storage, paging and length keys: parsed from a config
 * and the command line, expanded into distinct points, normalized (a
 * head_dim_v equal to head_dim and a kv_dtype equal to dtype are the plain
 * point). */
static void test_variant_keys(void **state)
{
	(void)state;
	sweep_config c;
	attn_err e = {{0}};
	const char *text = "phases = decode\ncache = 64\nheads = 2\ngqa = 1\nhead_dim = 32\n"
	                   "window = 0, 16\nkv_dtype = f32, q8_0\npage_size = 0, 5\nlens = equal, uniform:3\n"
	                   "softcap = 0, 30.5\nalibi = 0,1\nsinks = 0, 1\nhead_dim_v = 0, 32, 64\n";
	assert_int_equal(parse_text(text, &c, &e), 0);
	sweep_point *p;
	int n;
	assert_int_equal(sweep_points(&c, &p, &n, &e), 0);
	assert_int_equal(n, 256); /* 2^8: head_dim_v 32 is head_dim's point */
	int seen[8] = {0};
	for (int i = 0; i < n; i++) {
		const attn_shape *s = &p[i].shape;
		assert_true(s->kv_storage == 0 || s->kv_storage == ATTN_KV(ATTN_Q8_0));
		assert_true(s->head_dim_v == 0 || s->head_dim_v == 64);
		seen[0] += s->window == 16;
		seen[1] += s->kv_storage != 0;
		seen[2] += p[i].page_size == 5;
		seen[3] += p[i].lens != 0;
		seen[4] += s->softcap == 30.5f;
		seen[5] += p[i].alibi;
		seen[6] += p[i].sinks;
		seen[7] += attn_head_dim_v(s) == 64;
		for (int j = 0; j < i; j++)
			assert_false(sweep_point_same(&p[i], &p[j]));
	}
	for (int k = 0; k < 8; k++)
		assert_int_equal(seen[k], 128);
	free(p);
	int64_t code;
	assert_true(lens_parse("chat:7", &code) && code == (((int64_t)LENS_CHAT << 32) | 7));
	char buf[32];
	lens_format(code, buf, sizeof buf);
	assert_string_equal(buf, "chat:7");

	/* defaults: every variant off, the KV storage the dtype's */
	sweep_config_default(&c);
	assert_int_equal(sweep_config_set(&c, "dtype", "f16", "--dtype", &e), 0);
	assert_int_equal(sweep_config_set(&c, "kv_dtype", "f16", "--kv-dtype", &e), 0);
	assert_int_equal(sweep_points(&c, &p, &n, &e), 0);
	for (int i = 0; i < n; i++) {
		const sweep_point *q = &p[i];
		assert_true(q->shape.kv_storage == 0 && q->shape.window == 0 && q->shape.softcap == 0 &&
		            q->shape.head_dim_v == 0 && !q->alibi && !q->sinks && !q->page_size && !q->lens);
	}
	free(p);

	/* bad values name the key and the source, config and command line alike */
	expect_bad("window = -1\n", "'window'");
	expect_bad("window = 16x\n", "'window'");
	expect_bad("softcap = -1\n", "'softcap'");
	expect_bad("softcap = 30, abc\n", "'softcap'");
	expect_bad("softcap = nan\n", "'softcap'");
	expect_bad("alibi = 2\n", "'alibi'");
	expect_bad("sinks = yes\n", "'sinks'");
	expect_bad("head_dim_v = 577\n", "'head_dim_v'");
	expect_bad("kv_dtype = q5_1\n", "'kv_dtype': 'q5_1' is not f32, f16, bf16, q8_0, q4_0 or fp8_e4m3");
	expect_bad("page_size = -1\n", "'page_size'");
	expect_bad("lens = pareto:1\n", "'lens': 'pareto:1' is not equal, uniform:SEED or chat:SEED");
	expect_bad("lens = uniform:\n", "'lens'");
	expect_bad("lens = uniform:-1\n", "'lens'");
	expect_bad("lens = chat:4294967296\n", "'lens'");
	expect_bad("lens = uniform:1,,chat:2\n", "'lens'");
	EXPECT(2, "--window: key 'window': 'x' is not", "sweep", "--window", "x", "--out", "/nonexistent/dir");
	EXPECT(2, "--kv-dtype: key 'kv_dtype'", "sweep", "--kv-dtype", "int8", "--out", "/nonexistent/dir");
	EXPECT(2, "--lens: key 'lens'", "sweep", "--lens", "zipf:1", "--out", "/nonexistent/dir");
	EXPECT(2, "--softcap: key 'softcap'", "sweep", "--softcap", "-3", "--out", "/nonexistent/dir");
	EXPECT(2, "--page-size: key 'page_size'", "sweep", "--page-size", "0,-5", "--out", "/nonexistent/dir");
	EXPECT(2, "--head-dim-v: key 'head_dim_v'", "sweep", "--head-dim-v", "1000", "--out", "/nonexistent/dir");
	EXPECT(2, "--alibi: key 'alibi'", "bench", "--alibi", "3");
	EXPECT(2, "--sinks: key 'sinks'", "bench", "--sinks", "-1");
}

static sweep_point count_point(enum phase ph, int64_t n_q, int64_t n_kv, int causal)
{
	sweep_point p;
	memset(&p, 0, sizeof p);
	p.phase = ph;
	p.shape = (attn_shape){.batch = 1,
	                       .n_heads = 8,
	                       .n_kv_heads = 2,
	                       .head_dim = 64,
	                       .n_q = n_q,
	                       .n_kv = n_kv,
	                       .causal = causal,
	                       .dtype = ATTN_F32};
	p.seq_len = ph == PHASE_DECODE ? 1 : n_q;
	p.cache_len = n_kv;
	return p;
}

/* FLOPs, bytes and KV-cache bytes of the variants, by hand. */
static void test_variant_counts(void **state)
{
	(void)state;
	const double per_pair = 4.0 * 8 * 64; /* 4 x heads x head_dim */
	/* causal window 3 over 10 positions: 1 + 2 + 3 x 8 pairs */
	sweep_point p = count_point(PHASE_ATTEND, 10, 10, 1);
	p.shape.window = 3;
	assert_true(point_flops(&p) == per_pair * 27);
	/* not causal: query p sees keys p-2 .. 9, 10 - max(0, p - 2) of them */
	p.shape.causal = 0;
	assert_true(point_flops(&p) == per_pair * (30 + 9 + 8 + 7 + 6 + 5 + 4 + 3));
	/* a window wider than the sequence leaves every pair */
	p.shape.window = 100;
	assert_true(point_flops(&p) == per_pair * 100);
	/* decode at 4096 with a window of 512: 512 pairs, not 4096 */
	p = count_point(PHASE_DECODE, 1, 4096, 1);
	p.shape.window = 512;
	assert_true(point_flops(&p) == per_pair * 512);
	/* head_dim_v: 2 x pairs x (head_dim + head_dim_v) per head */
	p = count_point(PHASE_ATTEND, 10, 10, 0);
	p.shape.head_dim_v = 128;
	assert_true(point_flops(&p) == 2.0 * 8 * (64 + 128) * 100);
	/* ... and O is head_dim_v wide, V rows too */
	assert_true(point_bytes(&p) == 8.0 * 10 * 64 * 4 + 8.0 * 10 * 128 * 4 + 2.0 * 10 * (64 + 128) * 4);

	/* K and V at their stored size: q8_0 34 bytes per 32, q4_0 18, fp8 1 */
	p = count_point(PHASE_DECODE, 1, 512, 1);
	p.shape.kv_storage = ATTN_KV(ATTN_Q8_0);
	const double qo = 8.0 * 64 * 4 * 2; /* q (f32) and o (f32) */
	assert_true(point_bytes(&p) == qo + 2.0 * 512 * 2 * 68);
	assert_int_equal(point_kv_bytes(&p), 2ull * 512 * 2 * 68);
	p.shape.kv_storage = ATTN_KV(ATTN_Q4_0);
	assert_true(point_bytes(&p) == qo + 2.0 * 512 * 2 * 36);
	assert_int_equal(point_kv_bytes(&p), 2ull * 512 * 2 * 36);
	p.shape.kv_storage = ATTN_KV(ATTN_FP8_E4M3);
	assert_true(point_bytes(&p) == qo + 2.0 * 512 * 2 * 64);
	assert_int_equal(point_kv_bytes(&p), 2ull * 512 * 2 * 64);
	p.shape.kv_storage = ATTN_KV(ATTN_F16); /* f32 queries over an f16 cache */
	assert_int_equal(point_kv_bytes(&p), 2ull * 512 * 2 * 128);

	/* paged: the pages that hold the keys, 10 tokens in pages of 4 = 12 */
	p = count_point(PHASE_DECODE, 1, 10, 1);
	p.page_size = 4;
	assert_int_equal(point_kv_bytes(&p), 2ull * 12 * 2 * 64 * 4);
	assert_true(point_flops(&p) == per_pair * 10);

	/* ragged: per-sequence lengths, drawn the same way every time */
	p = count_point(PHASE_DECODE, 1, 4096, 1);
	p.shape.batch = 16;
	assert_true(lens_parse("uniform:7", &p.lens));
	int64_t ql[16], kl[16], kl2[16];
	point_lens(&p, ql, kl);
	point_lens(&p, ql, kl2);
	double sum = 0;
	int differ = 0;
	for (int b = 0; b < 16; b++) {
		assert_true(kl[b] >= 1 && kl[b] <= 4096 && ql[b] == 1 && kl[b] == kl2[b]);
		sum += (double)kl[b];
		differ += kl[b] != kl[0];
	}
	assert_true(differ > 0);
	assert_true(point_flops(&p) == per_pair * sum);
	assert_true(point_bytes(&p) == 16 * 8.0 * 64 * 8 + sum * 2 * 2 * 64 * 4);
	assert_int_equal(point_kv_bytes(&p), 16ull * 4096 * 2 * 2 * 64 * 4); /* the capacity */
	p.page_size = 16;
	double pages = 0;
	for (int b = 0; b < 16; b++)
		pages += (double)((kl[b] + 15) / 16);
	assert_true((double)point_kv_bytes(&p) == pages * 16 * 2 * 2 * 64 * 4);
	/* chat: long-tailed, most sequences well below the longest */
	p.shape.batch = 1000;
	int64_t cq[1000], ck[1000];
	assert_true(lens_parse("chat:1", &p.lens));
	point_lens(&p, cq, ck);
	int short_ones = 0;
	for (int b = 0; b < 1000; b++) {
		assert_true(ck[b] >= 1 && ck[b] <= 4096);
		short_ones += ck[b] < 1024;
	}
	assert_true(short_ones > 600);
	/* prefill: each sequence's queries are its keys */
	p = count_point(PHASE_PREFILL, 10, 10, 1);
	p.shape.batch = 3;
	assert_true(lens_parse("uniform:2", &p.lens));
	point_lens(&p, ql, kl);
	double pairs = 0;
	for (int b = 0; b < 3; b++) {
		assert_true(ql[b] == kl[b]);
		pairs += (double)kl[b] * (double)(kl[b] + 1) / 2;
	}
	assert_true(point_flops(&p) == per_pair * pairs);
}

/* A tiny sweep of paged against contiguous, q8_0 K and V, on naive: rows
 * measured where naive claims the caps, else skipped naming what it lacks. */
static void test_variant_sweep(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), out[512], csv[600];
	snprintf(out, sizeof out, "%s/run", dir);
	snprintf(csv, sizeof csv, "%s/results.csv", out);
	char *o = NULL, *err = NULL;
	const int rc =
	    tu_run(&o, &err, "sweep", "--backend", "naive", "--phases", "prefill,decode", "--seq", "40", "--cache",
	           "40", "--heads", "2", "--gqa", "1", "--head-dim", "32", "--page-size", "0,5", "--kv-dtype",
	           "f32,q8_0", "--repetitions", "1", "--min-time", "0.001", "--out", out, (char *)NULL);
	if (rc != 0)
		fail_msg("sweep: exit %d: %s", rc, err ? err : "");
	free(o);
	free(err);
	results_file rf;
	attn_err e = {{0}};
	if (results_read(csv, RESULTS_NEED_CONTRACT, &rf, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(rf.nrows, 8); /* 2 phases x 2 page sizes x 2 storages */
	const uint32_t caps = registry_find("naive")->be->caps;
	int paged = 0, q8 = 0;
	for (int i = 0; i < rf.nrows; i++) {
		const results_rec *r = &rf.rows[i];
		sweep_point pt;
		results_rec_point(r, &pt);
		paged += pt.page_size == 5;
		q8 += attn_kv_dtype(&pt.shape) == ATTN_Q8_0;
		const int can = (pt.page_size == 0 || (caps & ATTN_CAP_PAGED)) &&
		                (attn_kv_dtype(&pt.shape) == ATTN_F32 || (caps & ATTN_CAP_Q8_0));
		if (can && r->status != RESULT_OK)
			fail_msg("line %d: %s", r->line, r->status_text);
		if (!can && (r->status != RESULT_SKIPPED || strncmp(r->reason, "not supported: no ", 18)))
			fail_msg("line %d: %s (wanted skipped: not supported)", r->line, r->status_text);
		assert_true(r->kv_cache_bytes == (int64_t)point_kv_bytes(&pt));
		assert_true(strstr(r->repro, pt.page_size ? "--page-size 5" : "--dtype f32 --") != NULL);
	}
	assert_int_equal(paged, 4);
	assert_int_equal(q8, 4);
	results_file_free(&rf);
	tu_rmtree(dir);
}

/* Every measurement path of the variants on a backend that claims them all
 * and checks what it is handed (tests/plugins/pagecheck.c): the page pool
 * and its shuffled block table (no page out of the pool, none shared),
 * ragged lengths, ALiBi slopes and sinks, q8_0 rows and a wider V, each
 * call run once on guarded buffers (a row read past a buffer faults). */
static void test_variant_paths(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), out[512], csv[600], json[600];
	snprintf(out, sizeof out, "%s/run", dir);
	snprintf(csv, sizeof csv, "%s/results.csv", out);
	snprintf(json, sizeof json, "%s/gb.json", dir);
	char *err = NULL;
	const int rc =
	    tu_run(NULL, &err, "sweep", "--backend-lib", tu_built("plugins/pagecheck.so"), "--backend", "pagecheck",
	           "--phases", "prefill,decode,attend", "--seq", "40", "--cache", "40", "--heads", "4", "--gqa", "2",
	           "--head-dim", "32", "--batch", "3", "--page-size", "0,5", "--kv-dtype", "f32,q8_0", "--lens",
	           "equal,chat:3", "--alibi", "0,1", "--sinks", "1", "--head-dim-v", "0,64", "--window", "8",
	           "--repetitions", "1", "--min-time", "0.001", "--out", out, "--json", json, (char *)NULL);
	if (rc != 0)
		fail_msg("sweep: exit %d: %s", rc, err ? err : "");
	free(err);
	results_file rf;
	attn_err e = {{0}};
	if (results_read(csv, RESULTS_NEED_CONTRACT, &rf, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(rf.nrows, 3 * 2 * 2 * 2 * 2 * 2);
	int ok = 0;
	for (int i = 0; i < rf.nrows; i++) {
		const results_rec *r = &rf.rows[i];
		sweep_point pt;
		results_rec_point(r, &pt);
		const char *want = NULL; /* NULL: ok */
		if (pt.phase != PHASE_ATTEND && !pt.page_size)
			want = "not supported: no KV cache";
		if (r->status == RESULT_OK)
			ok++;
		if (want ? (r->status != RESULT_SKIPPED || strcmp(r->reason, want)) : r->status != RESULT_OK)
			fail_msg("line %d: %s (wanted %s)", r->line, r->status_text, want ? want : "ok");
	}
	assert_int_equal(ok, 64);
	results_file_free(&rf);
	/* Google Benchmark's JSON names every point apart */
	char *js = tu_read(json, NULL);
	assert_non_null(js);
	assert_non_null(strstr(js, "\"decode/pagecheck/b3_h4_kv2_d32_f32_kv-dtype=q8_0_head-dim-v=64_window=8_alibi=1_"
	                           "sinks=1_page-size=5_lens=chat:3/40\""));
	free(js);
	/* a ragged decode through the backend's own cache is not measured */
	sweep_point p;
	memset(&p, 0, sizeof p);
	p.phase = PHASE_DECODE;
	p.shape = (attn_shape){.batch = 2, .n_heads = 2, .n_kv_heads = 2, .head_dim = 32, .n_q = 1, .n_kv = 8};
	assert_true(lens_parse("uniform:1", &p.lens));
	char why[256];
	attn_backend b = *registry_find("naive")->be;
	b.caps = ~0u;
	assert_int_equal(point_unsupported(&b, &p, why, sizeof why), 1);
	assert_non_null(strstr(why, "ragged decode is measured paged only"));
	p.lens = 0;
	p.shape.kv_storage = ATTN_KV(ATTN_Q4_0);
	p.shape.head_dim = 48;
	assert_int_equal(point_unsupported(&b, &p, why, sizeof why), 1);
	assert_non_null(strstr(why, "q4_0 needs head_dim and head_dim_v multiples of 32"));
	p.shape.head_dim = 64;
	assert_int_equal(point_unsupported(&b, &p, why, sizeof why), 0);
	b.caps &= ~(uint32_t)ATTN_CAP_Q4_0;
	assert_int_equal(point_unsupported(&b, &p, why, sizeof why), 1);
	assert_string_equal(why, "no q4_0 KV storage (ATTN_CAP_Q4_0)");
	tu_rmtree(dir);
}

/* The cache state: decode cold and prefill hot unless told, a list measures
 * both (two points), the column records the state used, an empty cell reads
 * as the phase's default, and cold points are timed by hand (the eviction
 * between calls stays out of the figures). */
static void test_cache_state(void **state)
{
	(void)state;
	sweep_config c;
	attn_err e = {{0}};
	sweep_config_default(&c);
	assert_int_equal(sweep_config_set(&c, "seq", "16", "--seq", &e), 0);
	assert_int_equal(sweep_config_set(&c, "cache", "32", "--cache", &e), 0);
	assert_int_equal(sweep_config_set(&c, "gqa", "1", "--gqa", &e), 0);
	sweep_point *p;
	int n;
	assert_int_equal(sweep_points(&c, &p, &n, &e), 0);
	assert_int_equal(n, 2);
	for (int i = 0; i < n; i++) {
		const enum cache_state want = p[i].phase == PHASE_DECODE ? CACHE_COLD : CACHE_HOT;
		assert_int_equal(point_cache_state(&p[i]), want);
		assert_int_equal(point_manual_time(&p[i], 0), want == CACHE_COLD);
	}
	free(p);
	assert_int_equal(sweep_config_set(&c, "cache_state", "cold,hot", "--cache-state", &e), 0);
	assert_int_equal(sweep_points(&c, &p, &n, &e), 0);
	assert_int_equal(n, 4);
	int cold[2] = {0}, hot[2] = {0};
	for (int i = 0; i < n; i++) {
		const int dec = p[i].phase == PHASE_DECODE;
		cold[dec] += point_cache_state(&p[i]) == CACHE_COLD;
		hot[dec] += point_cache_state(&p[i]) == CACHE_HOT;
	}
	assert_true(cold[0] == 1 && cold[1] == 1 && hot[0] == 1 && hot[1] == 1);
	for (int i = 0; i < n; i++) { /* benchmark names: the state where it is not the default */
		char label[128];
		point_label(&p[i], 1, label, sizeof label);
		const int dflt = point_cache_state(&p[i]) == cache_state_default(p[i].phase);
		assert_true(dflt ? !strstr(label, "_cold") && !strstr(label, "_hot")
		                 : strstr(label, p[i].phase == PHASE_DECODE ? "_hot" : "_cold") != NULL);
	}
	free(p);
	assert_int_not_equal(sweep_config_set(&c, "cache_state", "warm", "--cache-state", &e), 0);
	assert_non_null(strstr(e.msg, "--cache-state"));

	/* the eviction's size: the environment's, else within the bounds */
	const char *env = getenv("ATTNBENCH_EVICT_BYTES");
	char *saved = env ? strdup(env) : NULL;
	setenv("ATTNBENCH_EVICT_BYTES", "4096", 1);
	assert_int_equal(evict_bytes(), 4096);
	unsetenv("ATTNBENCH_EVICT_BYTES");
	assert_true(evict_bytes() >= ((size_t)64 << 20) && evict_bytes() <= ((size_t)512 << 20));
	if (saved)
		setenv("ATTNBENCH_EVICT_BYTES", saved, 1);
	free(saved);

	/* a sweep: the column says what each row was measured in */
	char *dir = tu_tmpdir(), out[512], csv[600];
	snprintf(out, sizeof out, "%s/run", dir);
	snprintf(csv, sizeof csv, "%s/results.csv", out);
	char *err = NULL;
	const int rc = tu_run(NULL, &err, "sweep", "--backend", "naive", "--phases", "prefill,decode", "--seq", "16",
	                      "--cache", "16", "--heads", "2", "--gqa", "1", "--head-dim", "16", "--repetitions", "3",
	                      "--min-time", "0.001", "--out", out, (char *)NULL);
	if (rc != 0)
		fail_msg("sweep: exit %d: %s", rc, err ? err : "");
	free(err);
	results_file rf;
	const uint64_t cols =
	    RESULTS_NEED_CONTRACT | RESULTS_COL(RC_CACHE_STATE) | RESULTS_COL(RC_CV) | RESULTS_COL(RC_EVICT_GBS);
	if (results_read(csv, cols, &rf, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(rf.nrows, 2);
	for (int i = 0; i < rf.nrows; i++) {
		results_rec *r = &rf.rows[i];
		assert_int_equal(r->status, RESULT_OK);
		assert_int_equal(r->cache_state, r->phase == PHASE_DECODE ? CACHE_COLD : CACHE_HOT);
		/* a cold row keeps the read rate of its evictions, a hot one none */
		if (r->cache_state == CACHE_COLD)
			assert_true(r->evict_gbs > 0 && isfinite(r->evict_gbs));
		else
			assert_true(isnan(r->evict_gbs));
		/* cv: stddev / mean of the row's own repetitions */
		assert_int_equal(r->nrep_times, 3);
		assert_true(fabs(r->cv - results_cv(r->rep_times_ns, 3)) < 1e-4);
		/* cold and hot are two points; an empty cell is the default */
		results_rec other = *r;
		other.cache_state = r->cache_state == CACHE_COLD ? CACHE_HOT : CACHE_COLD;
		assert_int_not_equal(results_point_cmp(r, &other), 0);
		other.cache_state = -1;
		assert_int_equal(results_point_cmp(r, &other), 0);
		assert_null(strstr(r->repro, "--cache-state")); /* the default needs no flag */
		sweep_point pt;
		results_rec_point(r, &pt);
		pt.cache_state = r->phase == PHASE_DECODE ? CACHE_HOT : CACHE_COLD;
		char repro[1024];
		results_repro(repro, sizeof repro, "naive", &pt, 0, 0, 0);
		assert_non_null(strstr(repro, r->phase == PHASE_DECODE ? "--cache-state hot" : "--cache-state cold"));
	}
	results_file_free(&rf);
	/* interleaved, a cold row's passes keep it too */
	err = NULL;
	if (tu_run(NULL, &err, "sweep", "--backend", "naive", "--phases", "decode", "--cache", "16", "--heads", "2",
	           "--gqa", "1", "--head-dim", "16", "--repetitions", "2", "--interleave", "5", "--out", out,
	           (char *)NULL) != 0)
		fail_msg("sweep --interleave: %s", err ? err : "");
	free(err);
	if (results_read(csv, cols, &rf, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(rf.nrows, 1);
	assert_int_equal(rf.rows[0].cache_state, CACHE_COLD);
	assert_true(rf.rows[0].evict_gbs > 0 && isfinite(rf.rows[0].evict_gbs));
	results_file_free(&rf);
	tu_rmtree(dir);
}

/* cv by hand: 90, 100, 110 have mean 100 and sample deviation 10; one time
 * has none. A written row carries it, and a reader parses it. */
static void test_cv(void **state)
{
	(void)state;
	const double t[] = {90, 100, 110}, one[] = {5};
	assert_true(fabs(results_cv(t, 3) - 0.1) < 1e-12);
	assert_true(isnan(results_cv(one, 1)));
	char *dir = tu_tmpdir(), path[600];
	snprintf(path, sizeof path, "%s/results.csv", dir);
	sweep_point pt;
	memset(&pt, 0, sizeof pt);
	pt.phase = PHASE_PREFILL;
	pt.shape = (attn_shape){.batch = 1, .n_heads = 2, .n_kv_heads = 2, .head_dim = 16, .n_q = 8, .n_kv = 8};
	pt.seq_len = pt.cache_len = 8;
	const result_row row = {.backend = "naive",
	                        .device = "cpu",
	                        .pt = &pt,
	                        .status = RESULT_OK,
	                        .measured = 1,
	                        .time_ns = 100,
	                        .time_ns_min = 90,
	                        .time_ns_max = 110,
	                        .reps = 3,
	                        .rep_ns = t,
	                        .timing = "wall"};
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(results_write_header(f), 0);
	assert_int_equal(results_write_row(f, &row), 0);
	fclose(f);
	results_file rf;
	attn_err e = {{0}};
	if (results_read(path, RESULTS_COL(RC_CV) | RESULTS_COL(RC_CACHE_STATE), &rf, &e))
		fail_msg("%s", e.msg);
	assert_true(fabs(rf.rows[0].cv - 0.1) < 1e-9);
	assert_int_equal(rf.rows[0].cache_state, CACHE_HOT);
	results_file_free(&rf);
	tu_rmtree(dir);
}

/* The report draws cold and hot decode lines side by side where a run has
 * both, the hot one named ("hot caches"), the cold one as the default. */
static void test_cache_state_report(void **state)
{
	(void)state;
	sweep_config c;
	attn_err e = {{0}};
	sweep_config_default(&c);
	assert_int_equal(sweep_config_set(&c, "phases", "decode", "--phases", &e), 0);
	assert_int_equal(sweep_config_set(&c, "cache", "64,128", "--cache", &e), 0);
	assert_int_equal(sweep_config_set(&c, "gqa", "1", "--gqa", &e), 0);
	assert_int_equal(sweep_config_set(&c, "cache_state", "cold,hot", "--cache-state", &e), 0);
	sweep_point *p;
	int n;
	assert_int_equal(sweep_points(&c, &p, &n, &e), 0);
	assert_int_equal(n, 4);
	char *dir = tu_tmpdir(), run[512], csv[600], rep[600], gp[700];
	snprintf(run, sizeof run, "%s/run", dir);
	snprintf(csv, sizeof csv, "%s/results.csv", run);
	snprintf(rep, sizeof rep, "%s/report", dir);
	snprintf(gp, sizeof gp, "%s/decode.gp", rep);
	assert_int_equal(mkdir(run, 0755), 0);
	FILE *f = fopen(csv, "w");
	assert_non_null(f);
	assert_int_equal(results_write_header(f), 0);
	for (int i = 0; i < n; i++) {
		const double t = (double)p[i].cache_len * (point_cache_state(&p[i]) == CACHE_COLD ? 20 : 10);
		const double reps[2] = {t, t};
		const result_row row = {.backend = "naive",
		                        .device = "cpu",
		                        .pt = &p[i],
		                        .status = RESULT_OK,
		                        .measured = 1,
		                        .time_ns = t,
		                        .time_ns_min = t,
		                        .time_ns_max = t,
		                        .reps = 2,
		                        .rep_ns = reps,
		                        .timing = "wall"};
		assert_int_equal(results_write_row(f, &row), 0);
	}
	fclose(f);
	free(p);
	char *err = NULL;
	const int rc = tu_run(NULL, &err, "report", run, "--out", rep, (char *)NULL);
	if (rc != 0)
		fail_msg("report: exit %d: %s", rc, err ? err : "");
	free(err);
	char *text = tu_read(gp, NULL);
	assert_non_null(text);
	assert_non_null(strstr(text, "title \"naive: t ~ n^"));
	assert_non_null(strstr(text, "title \"naive, hot caches: t ~ n^"));
	free(text);
	tu_rmtree(dir);
}

int run_sweep_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sections_and_expansion),
	    cmocka_unit_test(test_bad_configs),
	    cmocka_unit_test(test_key_table),
	    cmocka_unit_test(test_counts),
	    cmocka_unit_test(test_variant_keys),
	    cmocka_unit_test(test_variant_counts),
	    cmocka_unit_test(test_variant_sweep),
	    cmocka_unit_test(test_variant_paths),
	    cmocka_unit_test(test_cache_state),
	    cmocka_unit_test(test_cv),
	    cmocka_unit_test(test_cache_state_report),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("sweep", tests, NULL, NULL);
}
