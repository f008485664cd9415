/* test_install.c - the installed layout: the binary that `make unit`
 * installs into $ATTNBENCH_STAGE (build/san/stage) finds its goldens,
 * sweep configs and model presets from its own location, run from another
 * directory (/), and its man page and completion are installed. */
#include <limits.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/stat.h>

#include "testutil.h"

static char stage[PATH_MAX], bin[PATH_MAX + 32], cwd[PATH_MAX], old_bin[PATH_MAX + 32];

/* Run the installed binary from / with ATTNBENCH_DATA unset. */
static int enter(void **state)
{
	(void)state;
	const char *s = getenv("ATTNBENCH_STAGE");
	if (!realpath(s && *s ? s : tu_built("stage"), stage))
		fail_msg("no staged install at %s (make unit installs one)", s && *s ? s : tu_built("stage"));
	snprintf(bin, sizeof bin, "%s/bin/attnbench", stage);
	snprintf(old_bin, sizeof old_bin, "%s", tu_bin()); /* restored (relative to cwd) on leaving */
	assert_non_null(getcwd(cwd, sizeof cwd));
	setenv("ATTNBENCH_BIN", bin, 1);
	unsetenv("ATTNBENCH_DATA");
	assert_int_equal(chdir("/"), 0);
	return 0;
}

static int leave(void **state)
{
	(void)state;
	assert_int_equal(chdir(cwd), 0);
	setenv("ATTNBENCH_BIN", old_bin, 1);
	return 0;
}

static void test_version_man_completion(void **state)
{
	(void)state;
	EXPECT(0, "attnbench", "--version");
	char abi[64];
	snprintf(abi, sizeof abi, "backend ABI %d to %d", ATTN_ABI_MIN_VERSION, ATTN_ABI_VERSION);
	EXPECT(0, abi, "--version");         /* the interface versions it loads */
	EXPECT(0, "\ncommit ", "--version"); /* and what was built */
	EXPECT(0, "\ncompiler ", "--version");
	char p[PATH_MAX + 64];
	struct stat st;
	snprintf(p, sizeof p, "%s/share/man/man1/attnbench.1", stage);
	assert_true(stat(p, &st) == 0 && st.st_size > 0);
	snprintf(p, sizeof p, "%s/share/bash-completion/completions/attnbench", stage);
	assert_true(stat(p, &st) == 0 && st.st_size > 0);
}

static void test_check_default_goldens(void **state)
{
	(void)state;
	/* no --golden: the installed ones, not ./datasets/golden (there is none in /) */
	EXPECT(0, "share/attnbench/golden", "check", "--backend", "naive");
	EXPECT(2, "one of them, not both", "check", "--golden", "x", "--random", "2");
}

static void test_plan_installed_presets(void **state)
{
	(void)state;
	EXPECT(0, "Llama-3.1-8B", "plan", "--model", "llama-3.1-8b", "--mem", "24GiB");
	/* ATTNBENCH_DATA overrides, and a missing file is named */
	setenv("ATTNBENCH_DATA", "/nonexistent-data", 1);
	EXPECT(2, "/nonexistent-data/models.csv", "plan", "--model", "llama-3.1-8b", "--mem", "24GiB");
	unsetenv("ATTNBENCH_DATA");
}

static void test_sweep_config_by_name(void **state)
{
	(void)state;
	char *out = tu_tmpdir();
	EXPECT(0, "0 errors", "sweep", "--config", "smoke", "--backend", "naive", "--out", out);
	char p[PATH_MAX + 64];
	snprintf(p, sizeof p, "%s/results.csv", out);
	char *csv = tu_read(p, NULL);
	assert_non_null(csv);
	free(csv);
	EXPECT(0, "0 errors", "sweep", "--config", "smoke.conf", "--backend", "naive", "--out", out);
	EXPECT(2, "no-such-grid.conf", "sweep", "--config", "no-such-grid", "--out", out);
	tu_rmtree(out);
}

int run_install_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_version_man_completion),
	    cmocka_unit_test(test_check_default_goldens),
	    cmocka_unit_test(test_plan_installed_presets),
	    cmocka_unit_test(test_sweep_config_by_name),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("install", tests, enter, leave);
}
