/* npy.c - see npy.h. The header is a Python dict literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 * padded with spaces and ended by '\n'. */
#include "lib/npy.h"
#include "lib/files.h"
#include "attn_half.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest header we accept: NumPy itself refuses anything past 10000 bytes
 * unless asked, so a 1 MiB limit only ever catches lying lengths. */
#define NPY_MAX_HEADER (1u << 20)

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

typedef struct cursor {
	const char *p, *end;
} cursor;

static void skip_ws(cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

static int accept(cursor *c, char ch)
{
	skip_ws(c);
	if (c->p < c->end && *c->p == ch) {
		c->p++;
		return 1;
	}
	return 0;
}

/* A quoted Python string into out (at most cap-1 bytes). */
static int parse_str(cursor *c, char *out, size_t cap)
{
	skip_ws(c);
	if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
		return 0;
	char q = *c->p++;
	size_t n = 0;
	while (c->p < c->end && *c->p != q) {
		if (*c->p == '\\' || *c->p == '\0' || n + 1 >= cap)
			return 0;
		out[n++] = *c->p++;
	}
	if (c->p >= c->end)
		return 0;
	c->p++;
	out[n] = 0;
	return 1;
}

static int parse_word(cursor *c, const char *w)
{
	skip_ws(c);
	size_t n = strlen(w);
	if ((size_t)(c->end - c->p) >= n && memcmp(c->p, w, n) == 0) {
		c->p += n;
		return 1;
	}
	return 0;
}

static int parse_shape(cursor *c, npy_array *a, const char *path, attn_err *e)
{
	if (!accept(c, '('))
		return attn_errf(e, "%s: header field 'shape': expected a tuple", path);
	a->ndim = 0;
	for (;;) {
		if (accept(c, ')'))
			return 0;
		skip_ws(c);
		int64_t v = 0;
		int digits = 0;
		while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
			if (v > (INT64_MAX - 9) / 10)
				return attn_errf(e, "%s: header field 'shape': dimension too large", path);
			v = v * 10 + (*c->p - '0');
			c->p++;
			digits++;
		}
		if (!digits)
			return attn_errf(e, "%s: header field 'shape': expected a non-negative integer", path);
		if (a->ndim >= NPY_MAX_DIMS)
			return attn_errf(e, "%s: header field 'shape': more than %d dimensions", path, NPY_MAX_DIMS);
		a->shape[a->ndim++] = v;
		if (accept(c, ','))
			continue;
		if (accept(c, ')'))
			return 0;
		return attn_errf(e, "%s: header field 'shape': malformed tuple", path);
	}
}

int npy_parse_header(const char *path, const unsigned char *buf, size_t len, npy_array *a, size_t *data_off,
                     attn_err *e)
{
	memset(a, 0, sizeof *a);
	if (len < 10 || memcmp(buf, npy_magic, 6) != 0)
		return attn_errf(e, "%s: not a .npy file (magic string missing)", path);
	int major = buf[6], minor = buf[7];
	size_t hlen, pre;
	if (major == 1) {
		hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
		pre = 10;
	} else if (major == 2 || major == 3) {
		if (len < 12)
			return attn_errf(e, "%s: header length: file truncated", path);
		hlen = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
		pre = 12;
	} else {
		return attn_errf(e, "%s: format version %d.%d is not supported (1.0, 2.0, 3.0 are)", path, major,
		                 minor);
	}
	if (minor != 0)
		return attn_errf(e, "%s: format version %d.%d is not supported (1.0, 2.0, 3.0 are)", path, major,
		                 minor);
	if (hlen > NPY_MAX_HEADER)
		return attn_errf(e, "%s: header length %zu is implausible (limit %u)", path, hlen, NPY_MAX_HEADER);
	if (pre + hlen > len)
		return attn_errf(e, "%s: header length %zu runs past the end of the file (%zu bytes)", path, hlen, len);
	const char *h = (const char *)buf + pre;
	if (hlen == 0 || h[hlen - 1] != '\n')
		return attn_errf(e, "%s: header does not end with a newline", path);
	if (memchr(h, '\0', hlen))
		return attn_errf(e, "%s: header contains a NUL byte", path);
	a->version = major;

	cursor c = {h, h + hlen};
	int have_descr = 0, have_order = 0, have_shape = 0;
	if (!accept(&c, '{'))
		return attn_errf(e, "%s: header is not a dict", path);
	for (;;) {
		if (accept(&c, '}'))
			break;
		char key[32];
		if (!parse_str(&c, key, sizeof key))
			return attn_errf(e, "%s: header: expected a quoted key", path);
		if (!accept(&c, ':'))
			return attn_errf(e, "%s: header field '%s': expected ':'", path, key);
		if ((!strcmp(key, "descr") && have_descr) || (!strcmp(key, "fortran_order") && have_order) ||
		    (!strcmp(key, "shape") && have_shape))
			return attn_errf(e, "%s: header field '%s' appears twice", path, key);
		if (strcmp(key, "descr") == 0) {
			char d[32];
			if (!parse_str(&c, d, sizeof d))
				return attn_errf(e, "%s: header field 'descr': expected a string", path);
			if (strcmp(d, "<f4") == 0)
				a->itemsize = 4;
			else if (strcmp(d, "<f8") == 0)
				a->itemsize = 8;
			else if (strcmp(d, "<f2") == 0)
				a->itemsize = 2;
			else if (strcmp(d, "<i4") == 0)
				a->itemsize = 4, a->is_int = 1;
			else if (strcmp(d, "<i8") == 0)
				a->itemsize = 8, a->is_int = 1;
			else
				return attn_errf(
				    e,
				    "%s: header field 'descr': dtype '%s' is not supported (<f4, <f8, <f2, "
				    "<i4, <i8 are)",
				    path, d);
			have_descr = 1;
		} else if (strcmp(key, "fortran_order") == 0) {
			if (parse_word(&c, "False")) {
				have_order = 1;
			} else if (parse_word(&c, "True")) {
				return attn_errf(
				    e, "%s: header field 'fortran_order': Fortran order is not supported (C order is)",
				    path);
			} else {
				return attn_errf(e, "%s: header field 'fortran_order': expected True or False", path);
			}
		} else if (strcmp(key, "shape") == 0) {
			if (parse_shape(&c, a, path, e))
				return EXIT_INPUT;
			have_shape = 1;
		} else {
			return attn_errf(e, "%s: header: unknown field '%s'", path, key);
		}
		if (accept(&c, ','))
			continue;
		if (accept(&c, '}'))
			break;
		return attn_errf(e, "%s: header: expected ',' or '}' after field '%s'", path, key);
	}
	skip_ws(&c);
	if (c.p != c.end)
		return attn_errf(e, "%s: header: trailing characters after the dict", path);
	if (!have_descr)
		return attn_errf(e, "%s: header field 'descr' is missing", path);
	if (!have_order)
		return attn_errf(e, "%s: header field 'fortran_order' is missing", path);
	if (!have_shape)
		return attn_errf(e, "%s: header field 'shape' is missing", path);
	if (!mul_n_ok(&a->count, a->ndim, a->shape))
		return attn_errf(e, "%s: header field 'shape': element count overflows", path);
	*data_off = pre + hlen;
	return 0;
}

/* Open path, parse its header and check that the data size matches the
 * shape exactly. On success *fp is positioned at the data. */
static int npy_open(const char *path, npy_array *a, FILE **fp, attn_err *e)
{
	memset(a, 0, sizeof *a);
	*fp = NULL;
	long long size;
	FILE *f = file_fopen_in(path, &size, e);
	if (!f)
		return EXIT_INPUT;
	size_t fsize = (size_t)size;
	/* Read the fixed prefix, then as much header as it announces. */
	unsigned char pre[12];
	size_t got = fread(pre, 1, sizeof pre, f);
	size_t hlen = 0;
	if (got >= 10 && pre[6] == 1)
		hlen = 10 + ((size_t)pre[8] | (size_t)pre[9] << 8);
	else if (got >= 12 && (pre[6] == 2 || pre[6] == 3))
		hlen = 12 + ((size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24);
	if (hlen > fsize || hlen > NPY_MAX_HEADER + 12)
		hlen = fsize < NPY_MAX_HEADER + 12 ? fsize : NPY_MAX_HEADER + 12;
	if (hlen < got)
		hlen = got;
	unsigned char *hbuf = malloc(hlen ? hlen : 1);
	if (!hbuf) {
		fclose(f);
		return attn_errf(e, "%s: out of memory reading the header", path);
	}
	memcpy(hbuf, pre, got);
	if (hlen > got && fread(hbuf + got, 1, hlen - got, f) != hlen - got) {
		free(hbuf);
		fclose(f);
		return attn_errf(e, "%s: read error in the header", path);
	}
	size_t off = 0;
	int rc = npy_parse_header(path, hbuf, hlen, a, &off, e);
	free(hbuf);
	if (rc) {
		fclose(f);
		return rc;
	}
	int64_t nbytes;
	if (!mul_ok(a->count, a->itemsize, &nbytes) || (uint64_t)nbytes > (uint64_t)(fsize - off)) {
		fclose(f);
		return attn_errf(
		    e, "%s: data: the shape needs %lld elements but the file holds only %zu bytes of data (truncated?)",
		    path, (long long)a->count, fsize - off);
	}
	if ((uint64_t)nbytes != (uint64_t)(fsize - off)) {
		fclose(f);
		return attn_errf(e, "%s: data: %zu bytes after the header, but the shape needs %lld", path, fsize - off,
		                 (long long)nbytes);
	}
	if (fseek(f, (long)off, SEEK_SET) != 0) {
		fclose(f);
		return attn_errf(e, "%s: data: seek error", path);
	}
	*fp = f;
	return 0;
}

int npy_probe(const char *path, npy_array *a, attn_err *e)
{
	FILE *f;
	int rc = npy_open(path, a, &f, e);
	if (f)
		fclose(f);
	return rc;
}

int npy_read(const char *path, npy_array *a, attn_err *e)
{
	FILE *f;
	int rc = npy_open(path, a, &f, e);
	if (rc)
		return rc;
	size_t nbytes = (size_t)a->count * (size_t)a->itemsize; /* npy_open checked it against the file size */
	const uint64_t ram = machine_ram_bytes();
	if (ram && nbytes > ram) {
		fclose(f);
		char need[32], have[32];
		return attn_errf(e, "%s: data: %s of data is more than the machine's memory (%s)", path,
		                 fmt_bytes(nbytes, need, sizeof need), fmt_bytes(ram, have, sizeof have));
	}
	a->data = xalloc(nbytes ? nbytes : 1);
	if (!a->data) {
		fclose(f);
		return attn_errf(e, "%s: data: out of memory for %zu bytes", path, nbytes);
	}
	if (nbytes && fread(a->data, 1, nbytes, f) != nbytes) {
		fclose(f);
		npy_free(a);
		return attn_errf(e, "%s: data: read error", path);
	}
	fclose(f);
	return 0;
}

void npy_free(npy_array *a)
{
	free(a->data);
	a->data = NULL;
}

int64_t npy_get_int(const npy_array *a, int64_t i)
{
	const unsigned char *p = (const unsigned char *)a->data + (size_t)i * (size_t)a->itemsize;
	if (a->itemsize == 8) {
		int64_t x;
		memcpy(&x, p, 8);
		return x;
	}
	int32_t x;
	memcpy(&x, p, 4);
	return x;
}

/* IEEE half to float, for <f2 files. */
double npy_get(const npy_array *a, int64_t i)
{
	const unsigned char *p = (const unsigned char *)a->data + (size_t)i * (size_t)a->itemsize;
	if (a->is_int)
		return (double)npy_get_int(a, i);
	if (a->itemsize == 8) {
		double d;
		memcpy(&d, p, 8);
		return d;
	}
	if (a->itemsize == 4) {
		float f;
		memcpy(&f, p, 4);
		return f;
	}
	uint16_t h;
	memcpy(&h, p, 2);
	return attn_f16_to_f32(h);
}

float *npy_to_f32(const npy_array *a)
{
	float *out = xalloc((size_t)(a->count ? a->count : 1) * sizeof(float));
	if (!out)
		return NULL;
	for (int64_t i = 0; i < a->count; i++)
		out[i] = (float)npy_get(a, i);
	return out;
}

double *npy_to_f64(const npy_array *a)
{
	double *out = xalloc((size_t)(a->count ? a->count : 1) * sizeof(double));
	if (!out)
		return NULL;
	for (int64_t i = 0; i < a->count; i++)
		out[i] = npy_get(a, i);
	return out;
}

int npy_write(const char *path, const void *data, int itemsize, int ndim, const int64_t *shape)
{
	return npy_write_typed(path, data, 'f', itemsize, ndim, shape);
}

int npy_write_typed(const char *path, const void *data, char kind, int itemsize, int ndim, const int64_t *shape)
{
	char shp[256] = "";
	size_t n = 0;
	int64_t count = 1;
	if (ndim < 0 || ndim > NPY_MAX_DIMS || !mul_n_ok(&count, ndim, shape) ||
	    !mul_ok(count, itemsize, &(int64_t){0})) {
		errno = EINVAL;
		return -1;
	}
	for (int i = 0; i < ndim; i++) {
		n += (size_t)snprintf(shp + n, sizeof shp - n, "%lld,%s", (long long)shape[i], i + 1 < ndim ? " " : "");
		if (n >= sizeof shp) {
			errno = EINVAL;
			return -1;
		}
	}
	if (ndim > 1 && n > 0) /* NumPy writes (2, 3) but (5,) */
		shp[--n] = 0;
	char hdr[512];
	int len = snprintf(hdr, sizeof hdr, "{'descr': '<%c%d', 'fortran_order': False, 'shape': (%s), }", kind,
	                   itemsize, shp);
	int total = 10 + len + 1;
	int pad = (64 - total % 64) % 64;
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0};
	uint16_t hl = (uint16_t)(len + pad + 1);
	pre[8] = (unsigned char)(hl & 0xff);
	pre[9] = (unsigned char)(hl >> 8);
	int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(hdr, 1, (size_t)len, f) == (size_t)len;
	for (int i = 0; ok && i < pad; i++)
		ok = fputc(' ', f) != EOF;
	ok = ok && fputc('\n', f) != EOF;
	ok = ok && fwrite(data, (size_t)itemsize, (size_t)count, f) == (size_t)count;
	ok = (fclose(f) == 0) && ok;
	return ok ? 0 : -1;
}
