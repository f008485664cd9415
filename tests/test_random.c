/* test_random.c - `check --random N [--seed S]`: the shapes it draws (every
 * head_dim remainder, tile edges, GQA and MQA, causal, dtypes, decode,
 * bounded sizes, narrowed to the backends' capabilities), its float64
 * reference on cases worked out by hand, replaying a failure, the options'
 * errors, and a backend whose bug only head sizes with a tail mod 8 show
 * (tests/plugins/tailbug.c): it passes the f32 goldens without such head
 * sizes and fails `check --random` and the goldens that have them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/random.h"
#include "testutil.h"

#define ALL_CAPS (ATTN_CAP_CAUSAL | ATTN_CAP_GQA | ATTN_CAP_KV_CACHE | ATTN_CAP_F16 | ATTN_CAP_BF16)

static golden_case *draw(int64_t n, uint64_t seed, int64_t replay, uint32_t caps, int *count)
{
	const random_spec r = {.n = n, .seed = seed, .replay = replay, .caps = caps};
	golden_case *c = NULL;
	attn_err e = {{0}};
	assert_int_equal(random_cases(&r, &c, count, &e), 0);
	return c;
}

/* Over a few thousand cases every part of the space comes up, and every
 * shape is valid and bounded. */
static void test_shapes_cover(void **state)
{
	(void)state;
	int n = 0, rem16[16] = {0}, edge[130] = {0}, mqa = 0, gqa = 0, mha = 0, causal = 0, decode = 0, dt[3] = {0},
	    batch[4] = {0}, custom_scale = 0, rect_causal = 0;
	int64_t max_d = 0;
	golden_case *c = draw(3000, 1, -1, ALL_CAPS, &n);
	assert_int_equal(n, 3000);
	for (int i = 0; i < n; i++) {
		const attn_shape *s = &c[i].shape;
		assert_true(s->head_dim >= 1 && s->head_dim <= 256);
		assert_true(s->n_q >= 1 && s->n_kv >= 1 && s->batch >= 1 && s->batch <= 3);
		assert_true(s->n_kv_heads >= 1 && s->n_heads % s->n_kv_heads == 0);
		assert_true(!s->causal || s->n_q <= s->n_kv);
		assert_true(s->batch * s->n_heads * s->n_q * s->n_kv * s->head_dim <= (1 << 19));
		assert_int_equal(c[i].row, i);
		if (s->head_dim > 16)
			rem16[s->head_dim % 16]++;
		max_d = s->head_dim > max_d ? s->head_dim : max_d;
		if (s->n_q < 130)
			edge[s->n_q]++;
		if (s->n_kv < 130)
			edge[s->n_kv]++;
		mqa += s->n_kv_heads == 1 && s->n_heads > 1;
		gqa += s->n_kv_heads > 1 && s->n_heads > s->n_kv_heads;
		mha += s->n_kv_heads == s->n_heads;
		causal += s->causal;
		rect_causal += s->causal && s->n_q > 1 && s->n_q < s->n_kv;
		decode += s->n_q == 1;
		dt[s->dtype]++;
		batch[s->batch]++;
		custom_scale += fabsf(s->scale - (float)(1.0 / sqrt((double)s->head_dim))) > 1e-6f;
	}
	for (int r = 0; r < 16; r++)
		if (!rem16[r])
			fail_msg("no head_dim > 16 with remainder %d mod 16", r);
	assert_int_equal(max_d, 256);
	const int edges[] = {1, 8, 9, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129};
	for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
		if (!edge[edges[i]])
			fail_msg("no n_q or n_kv of %d", edges[i]);
	assert_true(mqa > 0 && gqa > 0 && mha > 0 && causal > 0 && causal < n && rect_causal > 0 && decode > 0);
	assert_true(dt[ATTN_F32] > 0 && dt[ATTN_F16] > 0 && dt[ATTN_BF16] > 0);
	assert_true(batch[1] > 0 && batch[2] > 0 && batch[3] > 0 && custom_scale > 0);
	free(c);
}

/* Without the capabilities, nothing that needs them; case K is case K of
 * the run whether it is drawn alone (--replay) or with the others, and the
 * same seed draws the same shapes. */
static void test_shapes_narrowed_and_replayed(void **state)
{
	(void)state;
	int n = 0, m = 0;
	golden_case *c = draw(500, 9, -1, 0, &n);
	for (int i = 0; i < n; i++) {
		const attn_shape *s = &c[i].shape;
		assert_int_equal(s->dtype, ATTN_F32);
		assert_int_equal(s->causal, 0);
		assert_int_equal(s->n_kv_heads, s->n_heads);
	}
	free(c);
	c = draw(500, 9, -1, ALL_CAPS, &n);
	golden_case *again = draw(500, 9, -1, ALL_CAPS, &m);
	assert_memory_equal(c, again, sizeof *c * (size_t)n);
	free(again);
	for (int k = 0; k < n; k += 37) {
		golden_case *one = draw(500, 9, k, ALL_CAPS, &m);
		assert_int_equal(m, 1);
		assert_string_equal(one->name, c[k].name);
		assert_memory_equal(&one->shape, &c[k].shape, sizeof one->shape);
		free(one);
	}
	golden_case *other = draw(500, 10, -1, ALL_CAPS, &m);
	int same = 0;
	for (int i = 0; i < n; i++)
		same += !memcmp(&other[i].shape, &c[i].shape, sizeof c[i].shape);
	assert_true(same < n / 10);
	free(other);
	free(c);
}

/* The reference on problems small enough to work out: scale ln 3 makes the
 * weights 1 and 3; causal masking is bottom-right aligned; a GQA query head
 * reads KV head h / (n_heads / n_kv_heads). */
static void test_reference_by_hand(void **state)
{
	(void)state;
	attn_shape s = {.batch = 1, .n_heads = 1, .n_kv_heads = 1, .head_dim = 1, .n_q = 1, .n_kv = 2};
	s.scale = (float)log(3.0);
	const float q1[] = {1}, k[] = {0, 1}, v[] = {1, 3};
	double out[4];
	assert_int_equal(random_reference(&s, q1, k, v, out), 0);
	assert_true(fabs(out[0] - (1 * 1 + 3 * 3) / 4.0) < 1e-6);
	/* two queries, causal: query 0 sits at position 0 and sees key 0 only */
	s.n_q = 2;
	s.causal = 1;
	const float q2[] = {1, 1};
	assert_int_equal(random_reference(&s, q2, k, v, out), 0);
	assert_true(fabs(out[0] - 1.0) < 1e-12);
	assert_true(fabs(out[1] - 2.5) < 1e-6);
	/* one query, n_kv 2, causal: it is the last position and sees both */
	s.n_q = 1;
	assert_int_equal(random_reference(&s, q1, k, v, out), 0);
	assert_true(fabs(out[0] - 2.5) < 1e-6);
	/* GQA 2: heads 0 and 1 read KV head 0, heads 2 and 3 KV head 1 */
	attn_shape g = {.batch = 1, .n_heads = 4, .n_kv_heads = 2, .head_dim = 1, .n_q = 1, .n_kv = 2};
	g.scale = (float)log(3.0);
	const float q4[] = {1, 1, 1, 1}, k2[] = {0, 1, 1, 0}, v2[] = {1, 3, 10, 20};
	assert_int_equal(random_reference(&g, q4, k2, v2, out), 0);
	assert_true(fabs(out[1] - 2.5) < 1e-6);
	assert_true(fabs(out[2] - (3 * 10 + 1 * 20) / 4.0) < 1e-6);
}

/* Every built-in backend passes a few hundred random cases, f16 and bf16
 * and the cache paths included; the seed is printed. */
static void test_builtins_pass(void **state)
{
	(void)state;
	char *out = NULL, *err = NULL;
	const int rc = tu_run(&out, &err, "check", "--random", "300", "--seed", "20240611", (char *)NULL);
	if (rc != 0)
		fail_msg("exit %d: %.3000s %.1000s", rc, out ? out : "", err ? err : "");
	assert_non_null(strstr(out, "300 random cases, seed 20240611"));
	assert_non_null(strstr(out, " 0 failed, 0 skipped (300 cases x"));
	assert_non_null(strstr(out, " f16 "));
	assert_non_null(strstr(out, " bf16 "));
	assert_non_null(strstr(out, "+decode"));
	assert_non_null(strstr(out, "+prefill"));
	free(out);
	free(err);
	/* no --seed: one from the clock, printed so that the run can be replayed */
	EXPECT(0, "random cases, seed ", "check", "--random", "3", "--backend", "naive");
}

/* The line of out that starts with prefix (after blanks), copied into buf. */
static int find_line(const char *out, const char *needle, char *buf, size_t len)
{
	const char *p = strstr(out, needle);
	if (!p)
		return 0;
	while (p > out && p[-1] != '\n')
		p--;
	const size_t n = strcspn(p, "\n");
	snprintf(buf, len, "%.*s", (int)(n < len ? n : len - 1), p);
	return 1;
}

/* tailbug: a dot product that loses its last element when head_dim > 8 is
 * not a multiple of 8. It passes every f32 golden whose head size has no
 * such tail, fails the three that do, and fails `check --random`, which
 * prints how to replay the failure; the replay with that backend alone
 * draws the same shape and fails again. twopass, correct, passes the same
 * random cases. */
static void test_tailbug(void **state)
{
	(void)state;
	const char *lib = tu_built("plugins/tailbug.so");
	char *out = NULL, *err = NULL;
	int rc = tu_run(&out, &err, "check", "--golden", "datasets/golden", "--backend-lib", lib, "--backend",
	                "tailbug", (char *)NULL);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "17 passed, 3 failed"));
	assert_non_null(strstr(out, "FAILED: head_dim_20/tailbug head_dim_37/tailbug head_dim_75/tailbug\n"));
	free(out);
	free(err);

	/* with naive too, so that the draw has every dtype and option */
	rc = tu_run(&out, &err, "check", "--random", "40", "--seed", "7", "--backend-lib", lib, "--backend",
	            "naive,tailbug", (char *)NULL);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "40 random cases, seed 7"));
	assert_null(strstr(out, "/naive"));
	char replay[512], row[512], k[16];
	if (!find_line(out, "replay with: attnbench check --random 40 --seed 7 --replay ", replay, sizeof replay) ||
	    !find_line(out, "manifest row: random-", row, sizeof row))
		fail_msg("no replay lines: %.3000s", out);
	assert_non_null(strstr(replay, "--backend tailbug"));
	snprintf(k, sizeof k, "%s", strstr(replay, "--replay ") + 9);
	k[strcspn(k, " ")] = 0;
	free(out);
	free(err);
	rc = tu_run(&out, &err, "check", "--random", "40", "--seed", "7", "--replay", k, "--backend-lib", lib,
	            "--backend", "tailbug", (char *)NULL);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "0 passed, 1 failed, 0 skipped (1 cases x 1 backends"));
	if (!strstr(out, row))
		fail_msg("the replay draws another shape: want '%s' in %.2000s", row, out);
	free(out);
	free(err);
	EXPECT(0, "0 failed", "check", "--random", "40", "--seed", "7", "--backend-lib",
	       tu_built("libattnbench_twopass.so"), "--backend", "twopass");
}

/* The options: a count in range, --seed and --replay only where they mean
 * something, one source of cases. */
static void test_options(void **state)
{
	(void)state;
	EXPECT(2, "--random: '0' is not a whole number in [1, 100000]", "check", "--random", "0");
	EXPECT(2, "--random: '100001'", "check", "--random", "100001");
	EXPECT(2, "--random: 'x'", "check", "--random", "x");
	EXPECT(2, "--seed: '-1'", "check", "--random", "2", "--seed", "-1");
	EXPECT(2, "--seed: '1.5'", "check", "--random", "2", "--seed", "1.5");
	EXPECT(2, "--seed needs --random N", "check", "--golden", "datasets/golden", "--seed", "3");
	EXPECT(2, "--replay needs --random N and the --seed", "check", "--random", "2", "--replay", "1");
	EXPECT(2, "--replay 2: the run has cases 0..1", "check", "--random", "2", "--seed", "3", "--replay", "2");
	EXPECT(2, "--replay: '-1'", "check", "--random", "2", "--seed", "3", "--replay", "-1");
	EXPECT(2, "one of them", "check", "--random", "2", "--golden", "datasets/golden");
	EXPECT(0, "--random N", "check", "--help");
	/* the same seed gives the same rows */
	char *a = NULL, *b = NULL;
	assert_int_equal(tu_run(&a, NULL, "check", "--random", "20", "--seed", "5", "--backend", "naive", (char *)NULL),
	                 0);
	assert_int_equal(tu_run(&b, NULL, "check", "--random", "20", "--seed", "5", "--backend", "naive", (char *)NULL),
	                 0);
	assert_string_equal(a, b);
	free(a);
	free(b);
}

int run_random_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shapes_cover),      cmocka_unit_test(test_shapes_narrowed_and_replayed),
	    cmocka_unit_test(test_reference_by_hand), cmocka_unit_test(test_builtins_pass),
	    cmocka_unit_test(test_tailbug),           cmocka_unit_test(test_options),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("random", tests, NULL, NULL);
}
