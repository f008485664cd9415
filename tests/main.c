/* main.c - the attnbench test runner: every group, one summary. */
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"

/* Defined by tests/test_vulkan.c where the Vulkan backend is part of the build. */
int run_vulkan_tests(void) __attribute__((weak));

int main(void)
{
	int failed = 0;
	/* one roofline cache for the whole run, so that the machine's peaks are
	 * measured once or twice (test_roofline.c), not by every sweep, and a
	 * user's own cache is neither read nor written */
	char cache[] = "/tmp/attnbench-cache-XXXXXX";
	if (!mkdtemp(cache)) {
		perror("mkdtemp");
		return 1;
	}
	setenv("ATTNBENCH_CACHE_DIR", cache, 1);
	failed += run_npy_tests();
	failed += run_manifest_tests();
	failed += run_table_tests();
	failed += run_hostile_tests();
	failed += run_backend_tests();
	failed += run_numerics_tests();
	failed += run_sweep_tests();
	failed += run_roofline_tests(); /* before the other groups' sweeps: fills the cache */
	failed += run_cli_tests();
	failed += run_resume_tests();
	failed += run_report_tests();
	failed += run_compare_tests();
	failed += run_plan_tests();
	failed += run_dtype_tests();
	if (run_vulkan_tests)
		failed += run_vulkan_tests();
	tu_rmtree(cache);
	/* the plain summary line CI systems read */
	printf("\ntests: %d passed, %d failed\n", tu_total_tests() - failed, failed);
	return failed ? 1 : 0;
}
