/* test_sweep.c - the sweep grid: config parsing, overrides, expansion, and
 * the FLOP and byte counts results.csv derives from it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/sweep.h"
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
	expect_bad("head_dim = 300\n", "'head_dim'");
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

int run_sweep_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sections_and_expansion),
	    cmocka_unit_test(test_bad_configs),
	    cmocka_unit_test(test_key_table),
	    cmocka_unit_test(test_counts),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("sweep", tests, NULL, NULL);
}
