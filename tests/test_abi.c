/* test_abi.c - the backend interface can grow: a library built against the
 * frozen header of ABI 1 (tests/plugins/abi1/attnbench.h) keeps loading and
 * running, the harness never reads past the end of its table, the first
 * ABI's layout is unchanged in today's header, and a library built for a
 * newer ABI is refused with a message that says so. */
#include <dlfcn.h>
#include <stdio.h>

#include "run/registry.h"
#include "testutil.h"
#include "plugins/abi_layout.h"

/* Today's header keeps every field of ABI 1 where it was, and
 * ATTN_BACKEND_SIZE_V1 is the size an ABI 1 library's table really has. */
static void test_layout_frozen(void **state)
{
	(void)state;
	void *lib = dlopen(tu_built("plugins/abi1/old_abi.so"), RTLD_NOW | RTLD_LOCAL);
	assert_non_null(lib);
	const size_t *old = dlsym(lib, "attnbench_test_abi1_layout");
	assert_non_null(old);
	const size_t now[] = ABI1_LAYOUT;
	const size_t n = sizeof now / sizeof now[0];
	const size_t backend_fields = 1 + 22, shape_at = backend_fields, config_at = shape_at + 1 + 9;
	assert_int_equal(n, config_at + 1 + 3);
	assert_int_equal(old[0], ATTN_BACKEND_SIZE_V1);
	assert_true(now[0] >= old[0]);
	for (size_t i = 1; i < n; i++) {
		if (i == shape_at || i == config_at) { /* sizes may grow: fields are appended */
			assert_true(now[i] >= old[i]);
			continue;
		}
		if (now[i] != old[i])
			fail_msg("layout item %zu moved: %zu in the ABI 1 header, %zu today", i, old[i], now[i]);
	}
	dlclose(lib);
}

static void test_table_sizes(void **state)
{
	(void)state;
	assert_int_equal(registry_table_size(0), 0);
	assert_int_equal(registry_table_size(1), ATTN_BACKEND_SIZE_V1);
	assert_int_equal(registry_table_size(ATTN_ABI_VERSION), sizeof(attn_backend));
	assert_int_equal(registry_table_size(ATTN_ABI_VERSION + 1), 0);
	assert_true(ATTN_ABI_MIN_VERSION <= ATTN_ABI_VERSION);
}

/* The old library loads; the entry points ABI 1 lacks are absent, not read
 * from whatever follows its table in memory (a trap that aborts). */
static void test_old_table_copied(void **state)
{
	(void)state;
	attn_err e = {{0}};
	if (registry_load_library(tu_built("plugins/abi1/old_abi.so"), &e))
		fail_msg("%s", e.msg);
	const backend_entry *be = registry_find("oldabi");
	assert_non_null(be);
	assert_int_equal(be->be->abi_version, 1);
	assert_null(be->be->instance_info);
	assert_true(be->available);
	void *ctx = NULL;
	char err[64];
	assert_int_equal(be->be->create(&(attn_config){0}, &ctx, err, sizeof err), ATTN_OK);
	assert_string_equal(be->be->device_name(ctx), "oldcpu");
	be->be->destroy(ctx);
	/* a built-in has today's table */
	assert_non_null(registry_find("naive")->be->instance_info);
}

/* Through the command line, as a user with an old plugin would: list it,
 * and check the goldens with the example backend built for ABI 1. */
static void test_old_libraries_run(void **state)
{
	(void)state;
	EXPECT(0, "old_abi.so (ABI 1)", "list", "--backend-lib", tu_built("plugins/abi1/old_abi.so"));
	EXPECT(0, "setup: threads=", "list", "--backend-lib", tu_built("plugins/abi1/old_abi.so"));
	EXPECT(0, "20 passed, 0 failed", "check", "--golden", "datasets/golden", "--backend-lib",
	       tu_built("plugins/abi1/twopass.so"), "--backend", "twopass");
	EXPECT(2, "newer than this attnbench loads", "list", "--backend-lib", tu_built("plugins/bad_abi.so"));
}

int run_abi_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_layout_frozen),
	    cmocka_unit_test(test_table_sizes),
	    cmocka_unit_test(test_old_table_copied),
	    cmocka_unit_test(test_old_libraries_run),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("abi", tests, NULL, NULL);
}
