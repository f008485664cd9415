/* main.c - the attnbench test runner: every group, one summary. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/blas_core.h"
#include "testutil.h"

/* Defined by tests/test_vulkan.c where the Vulkan backend is part of the build. */
int run_vulkan_tests(void) __attribute__((weak));

/* 1 when name is an item of the comma-separated list, or list is NULL */
static int in_list(const char *list, const char *name)
{
	if (!list)
		return 1;
	const size_t n = strlen(name);
	for (const char *p = list; *p;) {
		const size_t len = strcspn(p, ",");
		if (len == n && !strncmp(p, name, n))
			return 1;
		p += len + (p[len] == ',');
	}
	return 0;
}

int main(int argc, char **argv)
{
	(void)argc;
	/* the OpenBLAS kernels attnbench itself picks (run/blas_core.h), so that
	 * in-process sgemm and the roofline key match the commands it runs */
	blas_core_pick(argv);
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
	/* cold points (decode's default) evict with a small read: the tests'
	 * sweeps time nothing that matters, and 64 MiB per call is slow */
	setenv("ATTNBENCH_EVICT_BYTES", "65536", 1);
	/* in this order: roofline runs before the groups whose sweeps use the
	 * cache it fills */
	static const struct {
		const char *name;
		int (*run)(void);
	} groups[] = {
	    {"lib", run_lib_tests},
	    {"npy", run_npy_tests},
	    {"manifest", run_manifest_tests},
	    {"table", run_table_tests},
	    {"hostile", run_hostile_tests},
	    {"files", run_files_tests},
	    {"backends", run_backend_tests},
	    {"numerics", run_numerics_tests},
	    {"blocked", run_blocked_tests},
	    {"cpu_variants", run_cpu_variant_tests},
	    {"sweep", run_sweep_tests},
	    {"roofline", run_roofline_tests},
	    {"cli", run_cli_tests},
	    {"resume", run_resume_tests},
	    {"report", run_report_tests},
	    {"summary", run_summary_tests},
	    {"compare", run_compare_tests},
	    {"ab", run_ab_tests},
	    {"plan", run_plan_tests},
	    {"dtype", run_dtype_tests},
	    {"random", run_random_tests},
	    {"check_variants", run_check_variant_tests},
	    {"vulkan", run_vulkan_tests},
	    {"isolation", run_isolation_tests},
	    {"install", run_install_tests},
	    {"json", run_json_tests},
	    {"bench", run_bench_tests},
	    {"timing", run_timing_tests},
	    {"report_dtypes", run_report_dtype_tests},
	    {"golden_variants", run_golden_variant_tests},
	    /* last: it loads a library into the registry the other groups use */
	    {"abi", run_abi_tests},
	};
	/* ATTNBENCH_TEST_GROUPS=report,compare runs only those groups (while
	 * working on one part); unset, every group runs */
	const char *only = getenv("ATTNBENCH_TEST_GROUPS");
	for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
		if (groups[i].run && in_list(only, groups[i].name))
			failed += groups[i].run();
	tu_rmtree(cache);
	/* the plain summary line CI systems read */
	printf("\ntests: %d passed, %d failed\n", tu_total_tests() - failed, failed);
	return failed ? 1 : 0;
}
