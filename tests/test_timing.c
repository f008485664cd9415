/* test_timing.c - what the sweep's timed loop (run/measure.c, point_body
 * under Google Benchmark) runs, seen from a backend that counts its calls:
 * a hot point's timed region holds the calls and nothing else (decode, the
 * truncate back, decode, ...; the device timer is read once a run, after
 * the timer stopped), as many calls as the iterations Google Benchmark
 * reports; a cold point still has each call timed alone; a failing call or
 * an interrupt ends the run at once. No timing is asserted. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/interrupt.h"
#include "run/measure.h"
#include "run/registry.h"
#include "testutil.h"

/* What the counting backend saw. */
typedef struct counts {
	int64_t decode, truncate, device_reads;
	int64_t stray;   /* a decode not after a truncate, or a truncate not after a decode */
	int last;        /* 1: decode, 2: truncate, 3: device timer, 0: nothing yet */
	int64_t fail_at; /* > 0: the decode of that number fails */
} counts;

static counts seen;

static const attn_backend *naive;

static int count_decode(void *ctx, const attn_shape *s, const void *q, const void *k, const void *v, float *out)
{
	seen.stray += seen.last == 1;
	seen.last = 1;
	if (++seen.decode == seen.fail_at)
		return ATTN_E_INVALID;
	return naive->decode(ctx, s, q, k, v, out);
}

static int count_truncate(void *ctx, int64_t len)
{
	seen.stray += seen.last != 1;
	seen.last = 2;
	seen.truncate++;
	return naive->cache_truncate(ctx, len);
}

static int64_t count_device_ns(void *ctx)
{
	(void)ctx;
	seen.last = 3;
	seen.device_reads++;
	return 1234;
}

/* Sums of the repetitions Google Benchmark reported. */
typedef struct tally {
	int64_t iterations;
	int runs, errors;
	double time_ns;
	char error[256];
} tally;

static void collect(const gb_run *r, void *user)
{
	tally *t = user;
	if (r->aggregate)
		return;
	t->runs++;
	if (r->error) {
		t->errors++;
		snprintf(t->error, sizeof t->error, "%s", r->error_message);
		return;
	}
	t->iterations += r->iterations;
	t->time_ns += r->real_time_ns;
}

/* A decode point (2 heads, 1 KV head, d16, a cache of 8) of the counting
 * backend, run reps repetitions of iters calls; cold or hot; the decode
 * numbered fail_at fails (0: none). */
static tally run_point(backend_entry *e, void *inst, int cold, int64_t iters, int reps, int64_t fail_at, point_ctx *c)
{
	memset(c, 0, sizeof *c);
	seen = (counts){.fail_at = fail_at};
	c->be = e;
	c->inst = inst;
	c->pt.phase = PHASE_DECODE;
	c->pt.shape = (attn_shape){.batch = 1,
	                           .n_heads = 2,
	                           .n_kv_heads = 1,
	                           .head_dim = 16,
	                           .n_q = 1,
	                           .n_kv = 8,
	                           .causal = 1,
	                           .scale = 0.25f,
	                           .dtype = ATTN_F32};
	c->pt.seq_len = 1;
	c->pt.cache_len = 8;
	c->pt.cache_state = cold ? CACHE_COLD : CACHE_HOT;
	gb_bench *gb = gb_register("decode/counting", point_body, c);
	gb_iterations(gb, iters);
	gb_repetitions(gb, reps);
	if (point_manual_time(&c->pt, 0))
		gb_use_manual_time(gb);
	else
		gb_use_real_time(gb);
	tally t;
	memset(&t, 0, sizeof t);
	gb_run_all(collect, &t);
	gb_clear();
	point_teardown(c);
	return t;
}

static void test_timed_loop(void **state)
{
	(void)state;
	naive = registry_find("naive")->be;
	backend_entry e;
	memset(&e, 0, sizeof e);
	e.table = *naive;
	e.table.decode = count_decode;
	e.table.cache_truncate = count_truncate;
	e.table.last_device_ns = count_device_ns;
	e.table.caps |= ATTN_CAP_DEVICE_TIMER;
	e.be = &e.table;
	e.available = 1;
	snprintf(e.name, sizeof e.name, "counting");
	const attn_config cfg = {.threads = 1};
	void *inst = NULL;
	char err[256];
	assert_int_equal(naive->create(&cfg, &inst, err, sizeof err), 0);
	point_ctx c;

	/* hot: the calls alone, decode and truncate in turn, as many as the
	 * iterations reported; the device timer read once a run */
	tally t = run_point(&e, inst, 0, 500, 3, 0, &c);
	assert_int_equal(t.runs, 3);
	assert_int_equal(t.errors, 0);
	assert_int_equal(t.iterations, 1500);
	assert_int_equal(seen.decode, 1500);
	assert_int_equal(seen.truncate, 1500);
	assert_int_equal(seen.stray, 0);
	assert_int_equal(seen.device_reads, 3);
	assert_int_equal(c.ngpu, 3);
	assert_true(c.gpu_ns[0] == 1234.0 && c.gpu_ns[2] == 1234.0);
	assert_true(t.time_ns > 0);
	free(c.gpu_ns);

	/* cold: each call timed alone (manual time), the device timer read
	 * after each call, outside its time */
	const char *env = getenv("ATTNBENCH_EVICT_BYTES");
	char *saved = env ? strdup(env) : NULL;
	setenv("ATTNBENCH_EVICT_BYTES", "4096", 1);
	t = run_point(&e, inst, 1, 20, 2, 0, &c);
	if (saved)
		setenv("ATTNBENCH_EVICT_BYTES", saved, 1);
	else
		unsetenv("ATTNBENCH_EVICT_BYTES");
	free(saved);
	assert_int_equal(t.errors, 0);
	assert_int_equal(t.iterations, 40);
	assert_int_equal(seen.decode, 40);
	assert_int_equal(seen.device_reads, 40);
	assert_true(t.time_ns > 0);
	free(c.gpu_ns);

	/* a failing call ends the run there, with the backend's error */
	t = run_point(&e, inst, 0, 500, 1, 100, &c);
	assert_int_equal(t.errors, 1);
	assert_non_null(strstr(t.error, "decode"));
	assert_int_equal(seen.decode, 100);
	assert_int_equal(seen.device_reads, 0);
	free(c.gpu_ns);

	/* an interrupt before the run: no call, the run says why */
	attn_stop_signal = SIGINT;
	t = run_point(&e, inst, 0, 500, 1, 0, &c);
	attn_stop_signal = 0;
	assert_int_equal(t.errors, 1);
	assert_string_equal(t.error, "interrupted");
	assert_int_equal(seen.decode, 0);
	free(c.gpu_ns);

	naive->destroy(inst);
}

int run_timing_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_timed_loop),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("timing", tests, NULL, NULL);
}
