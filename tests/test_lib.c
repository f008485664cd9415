/* test_lib.c - the small shared pieces of harness/lib: the one size parser
 * and the one least-squares solver (the report's power-law fits have their
 * tests in test_report.c). */
#include <math.h>

#include "lib/fit.h"
#include "lib/util.h"
#include "testutil.h"

static void test_sizes(void **state)
{
	(void)state;
	double b;
	assert_true(parse_size("80GiB", &b) && b == 80.0 * 1073741824.0);
	assert_true(parse_size("24G", &b) && b == 24.0 * 1073741824.0);
	assert_true(parse_size("512MiB", &b) && b == 512.0 * 1048576.0);
	assert_true(parse_size("16GB", &b) && b == 16e9);
	assert_true(parse_size("1.5 TB", &b) && b == 1.5e12);
	assert_true(parse_size("4096", &b) && b == 4096.0);
	assert_false(parse_size("12XB", &b));
	assert_false(parse_size("-1G", &b));
	assert_false(parse_size("", &b));
	assert_false(parse_size("GiB", &b));
	assert_false(parse_size("8 G B", &b));
	/* one meaning everywhere: the byte counts of options such as --max-mem
	 * read the same units as plan's --mem (GB is 10^9, G and GiB 2^30) */
	uint64_t u;
	assert_true(parse_bytes("8GB", &u) && u == UINT64_C(8000000000));
	assert_true(parse_bytes("8gb", &u) && u == UINT64_C(8000000000));
	assert_true(parse_bytes("8G", &u) && u == UINT64_C(8) << 30);
	assert_true(parse_bytes("32K", &u) && u == 32768);
	assert_true(parse_bytes(" 2 MiB ", &u) && u == 2 << 20);
	assert_true(parse_bytes("1.5", &u) && u == 1);
	assert_false(parse_bytes("16EB", &u));
	assert_false(parse_bytes("20000000TB", &u)); /* 2^64 bytes and more */
	const char *const same[] = {"512", "4k", "4KB", "3MiB", "1.5G", "7GB", "2TiB"};
	for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
		assert_true(parse_size(same[i], &b) && parse_bytes(same[i], &u));
		assert_true((double)u == floor(b));
	}
}

static void test_fits(void **state)
{
	(void)state;
	static const int quad[3] = {0, 1, 2};
	double x[6], y[6], yl[6], c[3];
	for (int i = 0; i < 6; i++) {
		x[i] = 128.0 * (1 << i);
		y[i] = 3e3 + 20.0 * x[i] + 0.5 * x[i] * x[i];
		yl[i] = 700.0 + 5.0 * x[i];
	}
	assert_int_equal(fit_linear_terms(x, y, 6, quad, 3, c), 0);
	assert_true(fabs(c[0] - 3e3) < 1e-3 && fabs(c[1] - 20.0) < 1e-6 && fabs(c[2] - 0.5) < 1e-9);
	assert_int_equal(fit_linear_terms(x, yl, 6, quad, 2, c), 0);
	assert_true(fabs(c[0] - 700.0) < 1e-6 && fabs(c[1] - 5.0) < 1e-9);
	/* leading terms only: one point gives y = a x^2 through it */
	static const int p2[1] = {2};
	assert_int_equal(fit_linear_terms(x, y, 1, p2, 1, c), 0);
	assert_true(fabs(c[0] * x[0] * x[0] - y[0]) < 1e-6 * y[0]);
	/* too few distinct points */
	const double same[3] = {5, 5, 5};
	assert_int_equal(fit_linear_terms(same, y, 3, quad, 2, c), -1);
}

int run_lib_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_fits),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("lib", tests, NULL, NULL);
}
