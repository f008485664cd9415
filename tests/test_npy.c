/* test_npy.c - the .npy reader: every format version, both float widths,
 * and each malformed variant refused with the file and field named. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/npy.h"
#include "testutil.h"

static char *dir;

/* Build a .npy image: version major, header dict text, then data bytes. */
static size_t make_npy(unsigned char *buf, int major, const char *dict, const void *data, size_t dlen, int pad_to_64)
{
	size_t pre = major == 1 ? 10 : 12, hl = strlen(dict) + 1;
	if (pad_to_64)
		while ((pre + hl) % 64)
			hl++;
	memcpy(buf, "\x93NUMPY", 6);
	buf[6] = (unsigned char)major;
	buf[7] = 0;
	if (major == 1) {
		buf[8] = (unsigned char)(hl & 0xff);
		buf[9] = (unsigned char)(hl >> 8);
	} else {
		for (int i = 0; i < 4; i++)
			buf[8 + i] = (unsigned char)(hl >> (8 * i));
	}
	memset(buf + pre, ' ', hl);
	memcpy(buf + pre, dict, strlen(dict));
	buf[pre + hl - 1] = '\n';
	memcpy(buf + pre + hl, data, dlen);
	return pre + hl + dlen;
}

static char *path_of(const char *name)
{
	static char p[512];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	return p;
}

/* Write an image and read it back; returns the reader's code, message in e. */
static int write_read(const char *name, const unsigned char *img, size_t len, npy_array *a, attn_err *e)
{
	tu_write(path_of(name), img, len);
	return npy_read(path_of(name), a, e);
}

static void test_versions_and_dtypes(void **state)
{
	(void)state;
	unsigned char img[4096];
	const float f[6] = {1, -2, 3.5f, 4, 5, 6};
	const double d[6] = {1, -2, 3.5, 4, 5, 6};
	for (int major = 1; major <= 3; major++) {
		for (int wide = 0; wide < 2; wide++) {
			char dict[128];
			snprintf(dict, sizeof dict, "{'descr': '<f%d', 'fortran_order': False, 'shape': (2, 3), }",
			         wide ? 8 : 4);
			size_t n =
			    make_npy(img, major, dict, wide ? (const void *)d : (const void *)f, wide ? 48 : 24, 1);
			npy_array a;
			attn_err e = {{0}};
			assert_int_equal(write_read("ok.npy", img, n, &a, &e), 0);
			assert_int_equal(a.version, major);
			assert_int_equal(a.itemsize, wide ? 8 : 4);
			assert_int_equal(a.ndim, 2);
			assert_int_equal(a.shape[0], 2);
			assert_int_equal(a.shape[1], 3);
			assert_true(npy_get(&a, 2) == 3.5);
			assert_true(npy_get(&a, 1) == -2.0);
			npy_free(&a);
		}
	}
}

static void test_writer_round_trip(void **state)
{
	(void)state;
	const float f[4] = {0.25f, -1, 2, 1e30f};
	const int64_t shape[1] = {4};
	assert_int_equal(npy_write(path_of("w.npy"), f, 4, 1, shape), 0);
	npy_array a;
	attn_err e = {{0}};
	assert_int_equal(npy_read(path_of("w.npy"), &a, &e), 0);
	assert_int_equal(a.ndim, 1);
	assert_int_equal(a.count, 4);
	float *g = npy_to_f32(&a);
	assert_memory_equal(f, g, sizeof f);
	free(g);
	npy_free(&a);
}

static void test_half_input(void **state)
{
	(void)state;
	unsigned char img[512];
	const uint16_t h[3] = {0x3c00, 0xc000, 0x3555}; /* 1, -2, ~0.333 */
	size_t n = make_npy(img, 1, "{'descr': '<f2', 'fortran_order': False, 'shape': (3,), }", h, 6, 1);
	npy_array a;
	attn_err e = {{0}};
	assert_int_equal(write_read("h.npy", img, n, &a, &e), 0);
	assert_true(npy_get(&a, 0) == 1.0);
	assert_true(npy_get(&a, 1) == -2.0);
	assert_true(npy_get(&a, 2) > 0.333 && npy_get(&a, 2) < 0.334);
	npy_free(&a);
}

/* Integer arrays (the ragged lengths): <i4 and <i8, read back exactly,
 * negative values and values past 2^32 included, through the writer too. */
static void test_integers(void **state)
{
	(void)state;
	unsigned char img[512];
	const int32_t i4[3] = {7, -1, 2147483647};
	const int64_t i8[2] = {-5, INT64_C(1) << 40};
	npy_array a;
	attn_err e = {{0}};
	size_t n = make_npy(img, 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", i4, sizeof i4, 1);
	assert_int_equal(write_read("i4.npy", img, n, &a, &e), 0);
	assert_true(a.is_int && a.itemsize == 4 && a.count == 3);
	assert_true(npy_get_int(&a, 0) == 7 && npy_get_int(&a, 1) == -1 && npy_get_int(&a, 2) == 2147483647);
	assert_true(npy_get(&a, 1) == -1.0);
	npy_free(&a);
	n = make_npy(img, 3, "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", i8, sizeof i8, 1);
	assert_int_equal(write_read("i8.npy", img, n, &a, &e), 0);
	assert_true(a.is_int && a.itemsize == 8);
	assert_true(npy_get_int(&a, 0) == -5 && npy_get_int(&a, 1) == (INT64_C(1) << 40));
	npy_free(&a);
	const int64_t shape[1] = {2};
	assert_int_equal(npy_write_typed(path_of("w8.npy"), i8, 'i', 8, 1, shape), 0);
	assert_int_equal(npy_read(path_of("w8.npy"), &a, &e), 0);
	assert_true(a.is_int && npy_get_int(&a, 1) == (INT64_C(1) << 40));
	npy_free(&a);
	/* a float file is not an integer one */
	const float f[2] = {1, 2};
	assert_int_equal(npy_write(path_of("f4.npy"), f, 4, 1, shape), 0);
	assert_int_equal(npy_read(path_of("f4.npy"), &a, &e), 0);
	assert_false(a.is_int);
	npy_free(&a);
}

/* Each malformed file must fail with EXIT_INPUT and a message naming the
 * file and the expected field or problem. */
static void expect_bad(const char *name, const unsigned char *img, size_t len, const char *needle)
{
	npy_array a;
	attn_err e = {{0}};
	e.msg[0] = 0;
	int rc = write_read(name, img, len, &a, &e);
	if (rc != EXIT_INPUT || !strstr(e.msg, name) || !strstr(e.msg, needle))
		fail_msg("%s: rc %d, message '%s' (wanted '%s')", name, rc, e.msg, needle);
}

static void test_malformed(void **state)
{
	(void)state;
	unsigned char img[4096];
	const float f[6] = {0};
	size_t n;
	const char *good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";

	n = make_npy(img, 1, good, f, 24, 1);
	expect_bad("truncated.npy", img, n - 5, "truncated");
	unsigned char big[4200];
	memcpy(big, img, n);
	memset(big + n, 0, 8);
	expect_bad("extra.npy", big, n + 8, "bytes after the header");

	memcpy(img, "\x93NUMPX", 6);
	expect_bad("magic.npy", img, n, "magic");

	n = make_npy(img, 4, good, f, 24, 1);
	expect_bad("version.npy", img, n, "version");

	n = make_npy(img, 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", f, 24, 1);
	expect_bad("bigendian.npy", img, n, "descr");
	n = make_npy(img, 1, "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3), }", f, 12, 1);
	expect_bad("int16.npy", img, n, "descr");
	n = make_npy(img, 1, "{'descr': '<u4', 'fortran_order': False, 'shape': (2, 3), }", f, 24, 1);
	expect_bad("uint.npy", img, n, "descr");
	n = make_npy(img, 1, "{'descr': '>i8', 'fortran_order': False, 'shape': (3,), }", f, 24, 1);
	expect_bad("bigint.npy", img, n, "descr");
	n = make_npy(img, 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", f, 24, 1);
	expect_bad("fortran.npy", img, n, "fortran_order");
	n = make_npy(img, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", f, 24, 1);
	expect_bad("shape.npy", img, n, "shape");
	n = make_npy(img, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }", f, 24, 1);
	expect_bad("negative.npy", img, n, "shape");
	n = make_npy(img, 1, "{'descr': '<f4', 'fortran_order': False, }", f, 24, 1);
	expect_bad("noshape.npy", img, n, "'shape' is missing");
	n = make_npy(img, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999, 99999), }",
	             f, 24, 1);
	expect_bad("huge.npy", img, n, "shape");
	n = make_npy(img, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000,), }", f, 24, 1);
	expect_bad("lying.npy", img, n, "truncated");
	n = make_npy(img, 1, "not a dict at all", f, 24, 1);
	expect_bad("nodict.npy", img, n, "dict");

	/* a header length pointing past the end of the file */
	n = make_npy(img, 1, good, f, 24, 1);
	img[8] = 0xff;
	img[9] = 0xff;
	expect_bad("hlen.npy", img, 100, "header length");
	n = make_npy(img, 2, good, f, 24, 1);
	img[11] = 0x7f;
	expect_bad("hlen2.npy", img, n, "header length");

	expect_bad("empty.npy", (const unsigned char *)"", 0, "magic");

	npy_array a;
	attn_err e = {{0}};
	assert_int_equal(npy_read(path_of("does-not-exist.npy"), &a, &e), EXIT_INPUT);
	assert_non_null(strstr(e.msg, "does-not-exist.npy"));
}

static int setup(void **state)
{
	(void)state;
	dir = tu_tmpdir();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmtree(dir);
	return 0;
}

int run_npy_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_versions_and_dtypes), cmocka_unit_test(test_writer_round_trip),
	    cmocka_unit_test(test_half_input),          cmocka_unit_test(test_integers),
	    cmocka_unit_test(test_malformed),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("npy", tests, setup, teardown);
}
