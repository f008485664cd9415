/* npy.h - reader and writer for NumPy .npy files (format 1.0, 2.0, 3.0).
 *
 * Only what attnbench needs: little-endian floating point (<f2, <f4, <f8)
 * and integers (<i4, <i8: ragged lengths), C order. A caller that wants
 * floats refuses is_int arrays itself. Everything else is refused with a message naming the file and the
 * header field at fault, before any large allocation: the byte count implied
 * by the shape must match the file's size exactly. */
#ifndef ATTN_NPY_H
#define ATTN_NPY_H

#include <stdint.h>

#include "lib/util.h"

#define NPY_MAX_DIMS 8

typedef struct npy_array {
	int version;  /* major format version: 1, 2 or 3 */
	int itemsize; /* 2 (<f2), 4 (<f4, <i4) or 8 (<f8, <i8) */
	int is_int;   /* <i4 or <i8 */
	int ndim;
	int64_t shape[NPY_MAX_DIMS];
	int64_t count; /* product of shape */
	void *data;    /* count * itemsize bytes, little-endian */
} npy_array;

/* Read path into a. Returns 0, or EXIT_INPUT with e naming file and field. */
int npy_read(const char *path, npy_array *a, attn_err *e);

/* Check header and size of path without reading the data (a->data NULL). */
int npy_probe(const char *path, npy_array *a, attn_err *e);

/* Parse only the header of an in-memory .npy image (used by the reader and
 * the fuzzers). On success *data_off is where the array data begins. */
int npy_parse_header(const char *path, const unsigned char *buf, size_t len, npy_array *a, size_t *data_off,
                     attn_err *e);

void npy_free(npy_array *a);

/* Element i of an integer array (<i4, <i8). */
int64_t npy_get_int(const npy_array *a, int64_t i);
/* Element i as double / the whole array as new float32 or float64 buffers. */
double npy_get(const npy_array *a, int64_t i);
float *npy_to_f32(const npy_array *a);
double *npy_to_f64(const npy_array *a);

/* Write a float32 (itemsize 4) or float64 (itemsize 8) array, version 1.0.
 * Returns 0 or -1 (errno set). */
int npy_write(const char *path, const void *data, int itemsize, int ndim, const int64_t *shape);
/* The same with the descr kind given: 'f' (float) or 'i' (integer, itemsize
 * 4 or 8). */
int npy_write_typed(const char *path, const void *data, char kind, int itemsize, int ndim, const int64_t *shape);

#endif
