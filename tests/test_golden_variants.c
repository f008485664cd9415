/* test_golden_variants.c - the golden cases of the attention variants, quantized
 * KV caches and ragged batches (scripts/gen_golden.py) cannot be passed by
 * a backend that ignores one of them: tests/plugins/liar.c is naive with
 * one thing broken on request (--param liar:ignore=X), and `check` must
 * fail exactly the cases that use X and pass every other one; without a
 * lie it passes them all, and so does every built-in backend on the cases
 * whose features it claims.
 *
 * The table below is what gen_golden.py prints on its LIES lines: it checks
 * there that each of these cases fails by a wide margin for the broken
 * consumer, and that window_over_cache (a window larger than the cache)
 * does not change at all without its window. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "impls/builtin.h"
#include "testutil.h"

#define GOLDEN "datasets/golden"

static const struct {
	const char *ignore;
	const char *fails; /* the cases that must FAIL, space separated */
} lies[] = {
    {"window", "window_causal window_decode window_1 window_noncausal combined_gqa combined_mla_decode "
               "combined_noncausal_mqa f16_window_chunked f16_combined q8_0_window_sinks_decode "
               "ragged_window_sinks"},
    {"softcap", "softcap_prefill softcap_decode_mqa combined_gqa combined_mla_decode combined_noncausal_mqa "
                "f16_softcap_decode f16_combined"},
    {"alibi", "alibi_noncausal alibi_chunked combined_gqa combined_noncausal_mqa f16_alibi_noncausal f16_combined"},
    {"sinks", "sinks_negative sinks_large_decode combined_gqa combined_mla_decode combined_noncausal_mqa f16_sinks "
              "f16_combined q8_0_window_sinks_decode ragged_window_sinks"},
    {"head_dim_v", "mla_prefill mla_decode_576 head_dim_v_16 combined_mla_decode f16_mla_decode_576 f16_combined"},
    {"lens", "ragged_decode ragged_prefill f16_ragged_decode ragged_noncausal ragged_window_sinks"},
    {"q4_offset", "q4_0_prefill q4_0_decode_f16 q4_0_grid_attend"},
};

/* The capabilities these goldens need of naive (and so of the liar). */
#define VARIANT_CAPS                                                                                                   \
	(ATTN_CAP_WINDOW | ATTN_CAP_SOFTCAP | ATTN_CAP_ALIBI | ATTN_CAP_SINKS | ATTN_CAP_HEAD_DIM_V | ATTN_CAP_Q8_0 |  \
	 ATTN_CAP_Q4_0 | ATTN_CAP_FP8 | ATTN_CAP_RAGGED)

/* Until naive implements a variant (and check reads the manifest's variant
 * columns), these tests have nothing to run against. */
static void need_variants(void)
{
	if (!(attn_backend_naive()->caps & VARIANT_CAPS)) {
		print_message("[ SKIPPED  ] naive claims none of the ABI 3 variants yet\n");
		skip();
	}
}

enum { PASS, FAIL, SKIP };
typedef struct row {
	char backend[64], name[128];
	int status;
} row;

/* The (backend, case, status) rows of a JUnit file written by check;
 * returns the number of rows (*rows malloc'ed). */
static int parse_junit(const char *path, row **rows)
{
	char *x = tu_read(path, NULL);
	assert_non_null(x);
	int n = 0, cap = 0;
	*rows = NULL;
	static const char tag[] = "<testcase classname=\"attnbench.check.";
	for (char *p = strstr(x, tag); p; p = strstr(p, tag)) {
		p += sizeof tag - 1;
		char *end = strstr(p, "</testcase>");
		assert_non_null(end);
		if (n == cap) {
			cap = cap ? 2 * cap : 128;
			*rows = realloc(*rows, (size_t)cap * sizeof **rows);
			assert_non_null(*rows);
		}
		row *r = &(*rows)[n++];
		assert_int_equal(sscanf(p, "%63[^\"]\" name=\"%127[^\"]\"", r->backend, r->name), 2);
		*end = 0;
		r->status = strstr(p, "<failure") ? FAIL : strstr(p, "<skipped") ? SKIP : PASS;
		p = end + 1;
	}
	free(x);
	return n;
}

/* Number of cases in the manifest (its lines less the header). */
static int manifest_cases(void)
{
	char *m = tu_read(GOLDEN "/manifest.csv", NULL);
	assert_non_null(m);
	int n = -1;
	for (const char *p = m; *p; p++)
		n += *p == '\n';
	free(m);
	return n;
}

/* Is name a word of the space separated list? */
static int listed(const char *list, const char *name)
{
	const size_t n = strlen(name);
	for (const char *p = list; (p = strstr(p, name)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == 0))
			return 1;
	return 0;
}

/* check every golden case on the liar told to ignore `ignore` (NULL: no
 * lie); returns check's exit status and the JUnit rows. */
static int run_liar(const char *ignore, row **rows, int *n)
{
	char *dir = tu_tmpdir(), junit[512], param[64];
	snprintf(junit, sizeof junit, "%s/junit.xml", dir);
	snprintf(param, sizeof param, "liar:ignore=%s", ignore ? ignore : "");
	char *err = NULL;
	const int rc =
	    ignore ? tu_run(NULL, &err, "check", "--golden", GOLDEN, "--backend-lib", tu_built("plugins/liar.so"),
	                    "--backend", "liar", "--param", param, "--junit", junit, (char *)NULL)
	           : tu_run(NULL, &err, "check", "--golden", GOLDEN, "--backend-lib", tu_built("plugins/liar.so"),
	                    "--backend", "liar", "--junit", junit, (char *)NULL);
	if (rc != 0 && rc != 1)
		fail_msg("check with %s: exit %d: %.600s", param, rc, err ? err : "");
	free(err);
	*n = parse_junit(junit, rows);
	tu_rmtree(dir);
	return rc;
}

static const char *status_name(int st)
{
	return st == FAIL ? "FAIL" : st == SKIP ? "SKIP" : "PASS";
}

/* Without a lie the liar is naive: every case runs and passes. */
static void test_liar_truthful(void **state)
{
	(void)state;
	need_variants();
	row *r;
	int n, bad = 0;
	const int rc = run_liar(NULL, &r, &n);
	for (int i = 0; i < n; i++)
		if (r[i].status != PASS) {
			print_error("%s: %s without a lie\n", r[i].name, status_name(r[i].status));
			bad++;
		}
	free(r);
	assert_int_equal(bad, 0);
	assert_int_equal(rc, 0);
	assert_int_equal(n, manifest_cases());
}

/* Each lie fails exactly the cases that use what it ignores. */
static void test_liar_caught(void **state)
{
	(void)state;
	need_variants();
	for (size_t l = 0; l < sizeof lies / sizeof lies[0]; l++) {
		row *r;
		int n, failed = 0, bad = 0;
		const int rc = run_liar(lies[l].ignore, &r, &n);
		for (int i = 0; i < n; i++) {
			const int want = listed(lies[l].fails, r[i].name) ? FAIL : PASS;
			if (r[i].status != want) {
				print_error("ignore=%s: %s is %s, want %s\n", lies[l].ignore, r[i].name,
				            status_name(r[i].status), status_name(want));
				bad++;
			}
			failed += r[i].status == FAIL;
		}
		free(r);
		assert_int_equal(bad, 0);
		assert_int_equal(rc, 1);
		assert_int_equal(n, manifest_cases());
		/* and every listed case is in the manifest */
		int listed_n = 0;
		for (const char *p = lies[l].fails; *p; p++)
			listed_n += *p != ' ' && (p[1] == ' ' || p[1] == 0);
		assert_int_equal(failed, listed_n);
	}
}

/* A lie that is not one: exit 2, the value named. */
static void test_liar_unknown_lie(void **state)
{
	(void)state;
	EXPECT(2, "'nonsense' is not one of", "check", "--random", "1", "--backend-lib", tu_built("plugins/liar.so"),
	       "--backend", "liar", "--param", "liar:ignore=nonsense");
}

/* Every built-in backend passes every case whose features it claims (and
 * skips the others); naive claims them all. */
static void test_builtins_pass(void **state)
{
	(void)state;
	need_variants();
	char *dir = tu_tmpdir(), junit[512];
	snprintf(junit, sizeof junit, "%s/junit.xml", dir);
	char *err = NULL;
	const int rc = tu_run(NULL, &err, "check", "--golden", GOLDEN, "--junit", junit, (char *)NULL);
	if (rc != 0 && rc != 1)
		fail_msg("check on the built-in backends: exit %d: %.600s", rc, err ? err : "");
	free(err);
	row *r;
	const int n = parse_junit(junit, &r);
	tu_rmtree(dir);
	int naive = 0, bad = 0;
	for (int i = 0; i < n; i++) {
		const int is_naive = strcmp(r[i].backend, "naive") == 0;
		if (r[i].status == FAIL || (is_naive && r[i].status != PASS)) {
			print_error("%s on %s: %s\n", r[i].name, r[i].backend, status_name(r[i].status));
			bad++;
		}
		naive += is_naive;
	}
	free(r);
	assert_int_equal(bad, 0);
	assert_int_equal(rc, 0);
	assert_int_equal(naive, manifest_cases());
}

int run_golden_variant_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_liar_truthful),
	    cmocka_unit_test(test_liar_caught),
	    cmocka_unit_test(test_liar_unknown_lie),
	    cmocka_unit_test(test_builtins_pass),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("variants", tests, NULL, NULL);
}
