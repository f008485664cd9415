/* fuzz_npy.c - libFuzzer target for the .npy reader: the in-memory header
 * parser, then the file reader (npy_probe, npy_read) on the same bytes
 * written to a scratch file, and the conversions of whatever it accepts. */
#include <stdint.h>

#include "fuzz_common.h"
#include "lib/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	npy_array a;
	attn_err e = {{0}};
	size_t off = 0;
	const int hrc = npy_parse_header("mem.npy", data, size, &a, &off, &e);
	if (hrc == 0) {
		FUZZ_CHECK(off <= size);
		FUZZ_CHECK(a.itemsize == 2 || a.itemsize == 4 || a.itemsize == 8);
		FUZZ_CHECK(a.ndim >= 0 && a.ndim <= NPY_MAX_DIMS && a.count >= 0);
	} else {
		FUZZ_CHECK(hrc == EXIT_INPUT);
		fuzz_check_msg(e.msg, "mem.npy");
	}

	char path[128];
	fuzz_path(path, sizeof path, "in.npy");
	fuzz_write(path, data, size);
	e.msg[0] = 0;
	const int prc = npy_probe(path, &a, &e);
	FUZZ_CHECK(prc == 0 || prc == EXIT_INPUT);
	if (prc)
		fuzz_check_msg(e.msg, path);
	e.msg[0] = 0;
	const int rc = npy_read(path, &a, &e);
	FUZZ_CHECK(rc == prc); /* probe and read agree */
	if (rc) {
		fuzz_check_msg(e.msg, path);
		return 0;
	}
	FUZZ_CHECK(hrc == 0);
	/* the data is exactly what the shape promises */
	FUZZ_CHECK((uint64_t)a.count * (uint64_t)a.itemsize == size - off);
	float *f = npy_to_f32(&a);
	double *d = npy_to_f64(&a);
	FUZZ_CHECK(f && d);
	for (int64_t i = 0; i < a.count; i++)
		FUZZ_CHECK((f[i] != f[i]) == (d[i] != d[i])); /* NaN stays NaN */
	free(f);
	free(d);
	npy_free(&a);
	return 0;
}
