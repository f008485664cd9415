/* test_hostile.c - hostile input: every reader (CSV tables, manifests, .npy
 * files, sweep configs) refuses absurd shapes, overflowing sizes, endless
 * lines, NUL bytes, malformed UTF-8 and paths leaving the dataset directory
 * with exit code 2 and a message naming the file and field, after reading a
 * bounded amount and before any large allocation. The CLI tests run the
 * (sanitized) binary: dying of a signal fails them. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/machine.h"
#include "model/manifest.h"
#include "lib/npy.h"
#include "run/sweep.h"
#include "lib/table.h"
#include "testutil.h"

/* e.msg must name the file and hold every needle; fail the test otherwise. */
static void expect_msg(int rc, const attn_err *e, const char *file, const char *needle)
{
	if (rc != EXIT_INPUT || !strstr(e->msg, file) || !strstr(e->msg, needle))
		fail_msg("rc %d, message '%s' (wanted '%s' and '%s')", rc, e->msg, file, needle);
}

/* A file of n copies of byte c, then tail (may be NULL). */
static void write_fill(const char *path, const char *head, int c, size_t n, const char *tail)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	if (head)
		fputs(head, f);
	char buf[4096];
	memset(buf, c, sizeof buf);
	for (size_t done = 0; done < n;) {
		size_t k = n - done < sizeof buf ? n - done : sizeof buf;
		assert_int_equal(fwrite(buf, 1, k, f), k);
		done += k;
	}
	if (tail)
		fputs(tail, f);
	assert_int_equal(fclose(f), 0);
}

/* ---- utilities -------------------------------------------------------- */

static void test_utf8_and_messages(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		int ok;
	} cases[] = {
	    {"plain", 1},
	    {"caf\xc3\xa9", 1},
	    {"\xf0\x9f\x98\x80", 1},
	    {"\xef\xbf\xbf", 1},
	    {"caf\xe9", 0},
	    {"\x80", 0},
	    {"\xc0\xaf", 0},
	    {"\xe0\x80\xaf", 0},
	    {"\xed\xa0\x80", 0},
	    {"\xf4\x90\x80\x80", 0},
	    {"\xe2\x82", 0},
	    {"\xf8\x88\x80\x80\x80", 0},
	    {"\xc3\xa9\xc3", 0},
	    {"\xf0\x9f\x98", 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (utf8_valid(cases[i].s, strlen(cases[i].s)) != cases[i].ok)
			fail_msg("utf8_valid('%s') should be %d", cases[i].s, cases[i].ok);
	/* messages quote hostile bytes as '?': no terminal escapes, always UTF-8 */
	attn_err e = {{0}};
	assert_int_equal(attn_errf(&e, "f: '%s'", "a\x1b[31mb\xe9\x7f\xc3\xa9"), EXIT_INPUT);
	assert_string_equal(e.msg, "f: 'a?[31mb??\xc3\xa9'");
	/* checked products */
	int64_t out;
	assert_false(mul_n_ok(&out, 3, (const int64_t[]){INT64_C(1) << 40, INT64_C(1) << 20, 16}));
	assert_false(mul_n_ok(&out, 2, (const int64_t[]){-1, 5}));
	assert_true(mul_n_ok(&out, 3, (const int64_t[]){INT64_C(1) << 40, INT64_C(1) << 20, 4}));
	assert_true(out == INT64_C(1) << 62);
}

/* ---- CSV tables ------------------------------------------------------- */

static void test_table_limits(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), p[512];
	snprintf(p, sizeof p, "%s/t.csv", dir);
	table t;
	attn_err e = {{0}};

	/* a field of exactly the limit is fine, one byte more is not (from a
	 * file, streamed in chunks, and from memory) */
	write_fill(p, "h\n", 'a', TABLE_MAX_FIELD, "\n");
	assert_int_equal(table_read(p, &t, &e), 0);
	assert_int_equal(strlen(t.rows[0][0]), TABLE_MAX_FIELD);
	table_free(&t);
	write_fill(p, "h\n", 'a', TABLE_MAX_FIELD + 1, "\n");
	expect_msg(table_read(p, &t, &e), &e, p, "field longer than 65536 bytes");
	char *mem = malloc(TABLE_MAX_FIELD + 4);
	memcpy(mem, "h\n", 2);
	memset(mem + 2, 'b', TABLE_MAX_FIELD + 1);
	expect_msg(table_parse("mem.csv", mem, TABLE_MAX_FIELD + 3, &t, &e), &e, "mem.csv", "field longer than");
	free(mem);

	/* a 4 MiB line with no end: refused, row 2 named */
	write_fill(p, "h\n", 'x', 4u << 20, NULL);
	expect_msg(table_read(p, &t, &e), &e, p, "row 2: field longer than");

	/* an endless device: refused, never read */
	expect_msg(table_read("/dev/zero", &t, &e), &e, "/dev/zero", "not a regular file");

	/* many short fields: the column limit; many long fields: the row limit */
	write_fill(p, NULL, ',', 1000000, "\n");
	expect_msg(table_read(p, &t, &e), &e, p, "more than 1024 columns");
	FILE *f = fopen(p, "w");
	for (int i = 0; i < 40; i++)
		fprintf(f, "%sc%d", i ? "," : "", i);
	fputc('\n', f);
	char field[60000];
	memset(field, 'y', sizeof field - 1);
	field[sizeof field - 1] = 0;
	for (int i = 0; i < 40; i++)
		fprintf(f, "%s%s", i ? "," : "", field);
	fclose(f);
	expect_msg(table_read(p, &t, &e), &e, p, "row longer than 1048576 bytes");

	/* the row limit of table_read_max, and what is read before it */
	tu_write(p, "a,b\n1,2\n3,4\n5,6\n", 16);
	expect_msg(table_read_max(p, 2, &t, &e), &e, p, "more than 2 rows");
	assert_int_equal(table_read_max(p, 3, &t, &e), 0);
	assert_int_equal(t.nrows, 3);
	assert_string_equal(t.rows[2][1], "6");
	table_free(&t);

	/* an unterminated quote at the end, a NUL byte in the middle */
	tu_write(p, "a,b\n1,\"2\n", 9);
	expect_msg(table_read(p, &t, &e), &e, p, "row 2");
	tu_write(p, "a,b\n1,2\0x\n", 10);
	expect_msg(table_read(p, &t, &e), &e, p, "NUL");
	/* a directory is not a table */
	expect_msg(table_read(dir, &t, &e), &e, dir, "not a regular file");
	tu_rmtree(dir);
}

/* Rows keep their fields across the 64 KiB chunks the reader feeds. */
static void test_table_chunks(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), p[512];
	snprintf(p, sizeof p, "%s/t.csv", dir);
	FILE *f = fopen(p, "w");
	fputs("\xEF\xBB\xBFid,text\r\n", f);
	for (int i = 0; i < 5000; i++)
		fprintf(f, "%d,\"row %d, with a \"\"quote\"\"\nand a newline\"\r\n", i, i);
	fclose(f);
	table t;
	attn_err e = {{0}};
	assert_int_equal(table_read(p, &t, &e), 0);
	assert_int_equal(t.nrows, 5000);
	assert_string_equal(t.header[0], "id");
	for (int i = 0; i < 5000; i += 499) {
		char want[128];
		snprintf(want, sizeof want, "row %d, with a \"quote\"\nand a newline", i);
		assert_int_equal(atoi(t.rows[i][0]), i);
		assert_string_equal(t.rows[i][1], want);
	}
	table_free(&t);
	tu_rmtree(dir);
}

static int read_table(const char *path, attn_err *e)
{
	table t;
	return table_read(path, &t, e);
}

static int read_config(const char *path, attn_err *e)
{
	sweep_config c;
	return sweep_config_read(path, &c, e);
}

static int read_manifest_dir(const char *mpath, attn_err *e)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s", mpath);
	*strrchr(dir, '/') = 0;
	golden_case *c = NULL;
	int n;
	return manifest_read(dir, &c, &n, e);
}

/* An endless line is refused with the file, row or line and the limit;
 * a FIFO (nobody writing) is refused at once by every reader, not waited
 * on, and a FIFO that is fed is not read either (a reader that waited for
 * a writer would hang here). */
static void test_bounded_reads(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), p[512];
	attn_err e = {{0}};
	snprintf(p, sizeof p, "%s/t.csv", dir);
	write_fill(p, "a,b\n", 'x', (size_t)8 << 20, NULL);
	expect_msg(read_table(p, &e), &e, "t.csv", "row 2: field longer than 65536 bytes");
	snprintf(p, sizeof p, "%s/manifest.csv", dir);
	write_fill(p, "name,q\n", 'x', (size_t)8 << 20, NULL);
	expect_msg(read_manifest_dir(p, &e), &e, "manifest.csv", "row 2: field longer than");
	snprintf(p, sizeof p, "%s/s.conf", dir);
	write_fill(p, "seq = 1\n# ", 'x', (size_t)8 << 20, NULL);
	expect_msg(read_config(p, &e), &e, "s.conf:2", "line longer than");
	static const char *const names[] = {"t.csv", "manifest.csv", "s.conf", "a.npy", "machine.json"};
	for (int i = 0; i < 5; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, names[i]);
		remove(p);
		assert_int_equal(mkfifo(p, 0600), 0);
		npy_array a;
		machine_info m;
		const int rc = i == 0   ? read_table(p, &e)
		               : i == 1 ? read_manifest_dir(p, &e)
		               : i == 2 ? read_config(p, &e)
		               : i == 3 ? npy_read(p, &a, &e)
		                        : machine_read(p, &m, &e);
		expect_msg(rc, &e, p, "not a regular file");
		remove(p);
	}
	tu_rmtree(dir);
}

/* ---- .npy files ------------------------------------------------------- */

/* A version 1.0 image: header dict (padded to 64), then dlen zero bytes. */
static unsigned char *npy_image(const char *dict, size_t dlen, size_t *len)
{
	size_t hl = strlen(dict) + 1;
	while ((10 + hl) % 64)
		hl++;
	unsigned char *b = calloc(1, 10 + hl + dlen);
	memcpy(b, "\x93NUMPY\x01\x00", 8);
	b[8] = (unsigned char)(hl & 0xff);
	b[9] = (unsigned char)(hl >> 8);
	memset(b + 10, ' ', hl);
	memcpy(b + 10, dict, strlen(dict));
	b[10 + hl - 1] = '\n';
	*len = 10 + hl + dlen;
	return b;
}

static void npy_bad(const char *dir, const char *name, const char *dict, size_t dlen, const char *needle)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	size_t len;
	unsigned char *img = npy_image(dict, dlen, &len);
	tu_write(p, img, len);
	free(img);
	npy_array a;
	attn_err e = {{0}};
	expect_msg(npy_probe(p, &a, &e), &e, name, needle);
	expect_msg(npy_read(p, &a, &e), &e, name, needle);
}

static void test_npy_hostile(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), p[512];
	const char *fmt = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }";
	char d[256];
	snprintf(d, sizeof d, fmt, "(1099511627776, 1099511627776)");
	npy_bad(dir, "overflow.npy", d, 16, "element count overflows");
	snprintf(d, sizeof d, fmt, "(2147483648, 2147483648)"); /* 2^62 elements: the bytes overflow */
	npy_bad(dir, "bytes.npy", d, 16, "truncated");
	snprintf(d, sizeof d, fmt, "(99999999999999999999,)");
	npy_bad(dir, "digits.npy", d, 16, "dimension too large");
	snprintf(d, sizeof d, fmt, "(1, 1, 1, 1, 1, 1, 1, 1, 1)");
	npy_bad(dir, "dims.npy", d, 4, "more than 8 dimensions");
	snprintf(d, sizeof d, fmt, "(5,)");
	npy_bad(dir, "short.npy", d, 16, "truncated");
	npy_bad(dir, "dup.npy", "{'descr': '<f4', 'shape': (4,), 'fortran_order': False, 'shape': (2,), }", 16,
	        "'shape' appears twice");

	/* lying header lengths: past the end of the file, and implausible */
	size_t len;
	snprintf(d, sizeof d, fmt, "(4,)");
	unsigned char *img = npy_image(d, 16, &len);
	img[8] = img[9] = 0xff;
	snprintf(p, sizeof p, "%s/hlen.npy", dir);
	tu_write(p, img, len);
	npy_array a;
	attn_err e = {{0}};
	expect_msg(npy_read(p, &a, &e), &e, "hlen.npy", "runs past the end");
	free(img);
	unsigned char v2[16] = {0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0xff, 0xff, 0xff, 0x7f, '{', '}', ' ', '\n'};
	snprintf(p, sizeof p, "%s/hlen2.npy", dir);
	tu_write(p, v2, sizeof v2);
	expect_msg(npy_read(p, &a, &e), &e, "hlen2.npy", "implausible");

	/* not a regular file: never read, however long it is */
	expect_msg(npy_read("/dev/zero", &a, &e), &e, "/dev/zero", "not a regular file");

	/* a sparse file whose size matches a shape larger than the machine's
	 * memory: refused before the allocation */
	const uint64_t ram = machine_ram_bytes();
	const int64_t elems = (int64_t)(ram / 4) * 2 + 16;
	char shp[64];
	snprintf(shp, sizeof shp, "(%lld,)", (long long)elems);
	snprintf(d, sizeof d, fmt, shp);
	img = npy_image(d, 0, &len);
	snprintf(p, sizeof p, "%s/sparse.npy", dir);
	tu_write(p, img, len);
	free(img);
	int fd = open(p, O_WRONLY);
	assert_true(fd >= 0);
	const int sparse_ok = ram > 0 && ftruncate(fd, (off_t)(len + (size_t)elems * 4)) == 0;
	close(fd);
	if (sparse_ok) {
		assert_int_equal(npy_probe(p, &a, &e), 0); /* the header and the size agree */
		expect_msg(npy_read(p, &a, &e), &e, "sparse.npy", "more than the machine's memory");
	}
	/* the writer refuses a shape whose size overflows */
	const int64_t huge[2] = {INT64_C(1) << 40, INT64_C(1) << 40};
	snprintf(p, sizeof p, "%s/w.npy", dir);
	assert_int_equal(npy_write(p, "", 4, 2, huge), -1);
	tu_rmtree(dir);
}

/* ---- manifests -------------------------------------------------------- */

static const char *mheader = "name,batch,n_heads,n_kv_heads,head_dim,n_q,n_kv,causal,q,k,v,out\n";

static int manifest_text(const char *dir, const char *text, size_t len, attn_err *e)
{
	char p[512];
	snprintf(p, sizeof p, "%s/manifest.csv", dir);
	tu_write(p, text, len);
	golden_case *c = NULL;
	int n = 0;
	int rc = manifest_read(dir, &c, &n, e);
	free(c);
	return rc;
}

static void manifest_bad(const char *dir, const char *row, const char *needle)
{
	char text[8192];
	int n = snprintf(text, sizeof text, "%s%s\n", mheader, row);
	attn_err e = {{0}};
	int rc = manifest_text(dir, text, (size_t)n, &e);
	if (rc != EXIT_INPUT || !strstr(e.msg, "manifest.csv") || !strstr(e.msg, needle))
		fail_msg("row '%s': rc %d, message '%s' (wanted '%s')", row, rc, e.msg, needle);
}

static void test_manifest_hostile(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), *other = tu_tmpdir(), p[512], q[512];
	/* absurd and overflowing shapes */
	manifest_bad(dir, "a,1,1,1,8,4,1099511627776,0,q,k,v,o", "field 'n_kv': 1099511627776 is outside");
	manifest_bad(dir, "a,1,1,1,0,4,4,0,q,k,v,o", "field 'head_dim': 0 is outside");
	manifest_bad(dir, "a,-3,1,1,8,4,4,0,q,k,v,o", "field 'batch': -3 is outside");
	manifest_bad(dir, "a,1,1,1,8,-4,4,0,q,k,v,o", "field 'n_q'");
	manifest_bad(dir, "a,1,1,1,8,4,99999999999999999999999,0,q,k,v,o", "field 'n_kv'");
	manifest_bad(dir, "a,1,1,1,8,4,4e3,0,q,k,v,o", "field 'n_kv'");
	manifest_bad(dir, "a,1048576,1048576,1048576,65536,67108864,67108864,0,q,k,v,o", "byte count overflows");
	/* names and paths */
	manifest_bad(dir, "caf\xe9,1,1,1,8,4,4,0,q,k,v,o", "field 'name' is not valid UTF-8");
	manifest_bad(dir, "a\x1b[2J,1,1,1,8,4,4,0,q,k,v,o", "field 'name' contains a control character");
	manifest_bad(dir, "a,1,1,1,8,4,4,0,\xc0\xafq,k,v,o", "field 'q': file name is not valid UTF-8");
	manifest_bad(dir, "a,1,1,1,8,4,4,0,q,sub/../../k,v,o", "field 'k': 'sub/../../k' leaves the dataset");
	manifest_bad(dir, "a,1,1,1,8,4,4,0,q,k,..,o", "field 'v'");
	manifest_bad(dir, "a,1,1,1,8,4,4,0,q,k,v,//o", "field 'out': '//o' is absolute");
	char longname[5000];
	memset(longname, 'n', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	char row[5200];
	snprintf(row, sizeof row, "a,1,1,1,8,4,4,0,%s,k,v,o", longname);
	manifest_bad(dir, row, "field 'q': path too long");

	/* a symbolic link out of the directory is refused; one inside is fine */
	snprintf(p, sizeof p, "%s/outside.npy", other);
	tu_write(p, "x", 1);
	snprintf(q, sizeof q, "%s/link.npy", dir);
	assert_int_equal(symlink(p, q), 0);
	manifest_bad(dir, "a,1,1,1,8,4,4,0,q,link.npy,v,o", "field 'k': '");
	manifest_bad(dir, "a,1,1,1,8,4,4,0,q,link.npy,v,o", "symbolic link");
	snprintf(p, sizeof p, "%s/inside.npy", dir);
	tu_write(p, "x", 1);
	snprintf(q, sizeof q, "%s/link2.npy", dir);
	assert_int_equal(symlink("inside.npy", q), 0);
	char text[512];
	int n = snprintf(text, sizeof text, "%sa,1,1,1,8,4,4,0,link2.npy,inside.npy,v,o\n", mheader);
	attn_err e = {{0}};
	assert_int_equal(manifest_text(dir, text, (size_t)n, &e), 0);

	/* too many cases: refused while reading, naming the limit */
	FILE *f;
	snprintf(p, sizeof p, "%s/manifest.csv", dir);
	f = fopen(p, "w");
	fputs(mheader, f);
	for (int i = 0; i <= MANIFEST_MAX_CASES; i++)
		fprintf(f, "c%d,1,1,1,8,4,4,0,q,k,v,o\n", i);
	fclose(f);
	golden_case *c = NULL;
	expect_msg(manifest_read(dir, &c, &n, &e), &e, "manifest.csv", "more than 10000 rows");
	assert_null(c);
	/* a 3 MiB line, and 10^6 columns */
	write_fill(p, mheader, 'z', 3u << 20, "\n");
	expect_msg(manifest_read(dir, &c, &n, &e), &e, "manifest.csv", "row 2: field longer than");
	write_fill(p, NULL, ',', 1000000, "\n");
	expect_msg(manifest_read(dir, &c, &n, &e), &e, "manifest.csv", "more than 1024 columns");
	tu_rmtree(dir);
	tu_rmtree(other);
}

/* ---- sweep configs ---------------------------------------------------- */

static int config_text(const char *text, size_t len, sweep_config *c, attn_err *e)
{
	char *dir = tu_tmpdir(), p[512];
	snprintf(p, sizeof p, "%s/h.conf", dir);
	tu_write(p, text, len);
	int rc = sweep_config_read(p, c, e);
	tu_rmtree(dir);
	return rc;
}

static void config_bad(const char *text, size_t len, const char *needle)
{
	sweep_config c;
	attn_err e = {{0}};
	int rc = config_text(text, len, &c, &e);
	if (rc != EXIT_INPUT || !strstr(e.msg, "h.conf") || !strstr(e.msg, needle))
		fail_msg("config '%s': rc %d, message '%s' (wanted '%s')", text, rc, e.msg, needle);
}
#define CONFIG_BAD(lit, needle) config_bad(lit, sizeof lit - 1, needle)

static void test_sweep_hostile(void **state)
{
	(void)state;
	CONFIG_BAD("seq = 16777216\nbatch = 65536\nheads = 4096\nhead_dim = 256\n", "needs more than");
	CONFIG_BAD("[huge]\ncache = 67108864\nbatch = 65536\nheads = 4096\nphases = decode\n", "grid 'huge'");
	CONFIG_BAD("seq = 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16\ncache = 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16\n"
	           "batch = 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16\nhead_dim = 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16\n"
	           "gqa = 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16\nheads = 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16\n",
	           "combinations");
	CONFIG_BAD("seq = 1\nheads = -8\n", "'heads'");
	CONFIG_BAD("seq = 9223372036854775808\n", "'seq'");
	CONFIG_BAD("seq = 16\nhead_dim = 64\0\nbatch = 1\n", "h.conf:2: NUL byte");
	CONFIG_BAD("# caf\xe9\nseq = 16\n", "h.conf:1: line is not valid UTF-8");
	CONFIG_BAD("[\xed\xa0\x80]\nseq = 16\n", "not valid UTF-8");
	CONFIG_BAD("[aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\n", "section name longer");

	/* a line far beyond the limit is refused after reading the limit */
	sweep_config c;
	attn_err e = {{0}};
	char *dir = tu_tmpdir(), p[512];
	snprintf(p, sizeof p, "%s/h.conf", dir);
	write_fill(p, "seq = ", '1', 4u << 20, "\n");
	expect_msg(sweep_config_read(p, &c, &e), &e, "h.conf:1", "line longer than 4095 bytes");
	expect_msg(sweep_config_read("/dev/zero", &c, &e), &e, "/dev/zero", "not a regular file");
	expect_msg(sweep_config_read(dir, &c, &e), &e, dir, "not a regular file");
	tu_rmtree(dir);

	/* command-line values: too long is refused, not truncated into another list */
	sweep_config_default(&c);
	char val[2100];
	for (int i = 0; i < 1050; i++)
		memcpy(val + 2 * i, "1,", 2);
	val[2099] = 0;
	expect_msg(sweep_config_set(&c, "seq", val, "--seq", &e), &e, "--seq", "value longer than");
	/* overrides that together are absurd: refused by the expansion */
	sweep_config_default(&c);
	assert_int_equal(sweep_config_set(&c, "seq", "16777216", "--seq", &e), 0);
	assert_int_equal(sweep_config_set(&c, "batch", "65536", "--batch", &e), 0);
	assert_int_equal(sweep_config_set(&c, "heads", "4096", "--heads", &e), 0);
	assert_int_equal(sweep_config_set(&c, "head_dim", "256", "--head-dim", &e), 0);
	sweep_point *pts = NULL;
	int n = -1;
	expect_msg(sweep_points(&c, &pts, &n, &e), &e, "grid 'default'", "needs more than");
	assert_null(pts);
	assert_int_equal(n, 0);

	/* the byte counts of a point never overflow (UBSan watches) */
	sweep_point big;
	memset(&big, 0, sizeof big);
	big.phase = PHASE_DECODE;
	big.shape = (attn_shape){.batch = 65536,
	                         .n_heads = 4096,
	                         .n_kv_heads = 4096,
	                         .head_dim = 256,
	                         .n_q = 1,
	                         .n_kv = INT64_C(1) << 26,
	                         .causal = 1,
	                         .scale = 1,
	                         .dtype = ATTN_F32};
	big.seq_len = 1;
	big.cache_len = INT64_C(1) << 26;
	assert_true(point_kv_bytes(&big) == UINT64_MAX);
	assert_true(point_bytes(&big) > 1e19);

	/* many sections over the same lists: duplicates dropped, order kept */
	char text[16 * 64 + 256];
	size_t len = (size_t)snprintf(text, sizeof text, "phases = prefill\nheads = 8\ngqa = 1\nhead_dim = 8\n");
	for (int s = 0; s < 16; s++)
		len += (size_t)snprintf(text + len, sizeof text - len, "[s%d]\nseq = %d, 3, 2, 1\n", s, s + 1);
	assert_int_equal(config_text(text, len, &c, &e), 0);
	assert_int_equal(sweep_points(&c, &pts, &n, &e), 0);
	assert_int_equal(n, 16);
	const int64_t order[4] = {1, 3, 2, 4};
	for (int i = 0; i < 4; i++)
		assert_int_equal(pts[i].shape.n_q, order[i]);
	free(pts);
}

/* ---- the binary ------------------------------------------------------- */

/* A dataset directory with one valid case (copied from the goldens). */
static char *golden_copy(void)
{
	char *dir = tu_tmpdir();
	tu_copy_dir("datasets/golden", dir);
	return dir;
}

static void set_manifest(const char *dir, const char *text, size_t len)
{
	char p[512];
	snprintf(p, sizeof p, "%s/manifest.csv", dir);
	tu_write(p, text, len);
}

static void test_cli_hostile(void **state)
{
	(void)state;
	const char *hdr = "name,batch,n_heads,n_kv_heads,head_dim,n_q,n_kv,causal,scale,q,k,v,out,atol,rtol\n";
	char *dir = golden_copy(), text[1024], p[512];
	int n;
	/* n_kv = 2^40 */
	n = snprintf(text, sizeof text,
	             "%smha,1,4,4,64,64,1099511627776,0,,mha_q.npy,mha_k.npy,mha_v.npy,mha_out.npy,,\n", hdr);
	set_manifest(dir, text, (size_t)n);
	EXPECT(2, "field 'n_kv'", "check", "--golden", dir, "--backend", "naive");
	EXPECT(2, "manifest.csv: row 2", "check", "--golden", dir, "--backend", "naive");
	/* a name that is not UTF-8 */
	n = snprintf(text, sizeof text, "%sm\xe9ha,1,4,4,64,64,64,0,,mha_q.npy,mha_k.npy,mha_v.npy,mha_out.npy,,\n",
	             hdr);
	set_manifest(dir, text, (size_t)n);
	EXPECT(2, "field 'name' is not valid UTF-8", "check", "--golden", dir, "--backend", "naive");
	/* a symbolic link leaving the dataset directory */
	snprintf(p, sizeof p, "%s/evil_q.npy", dir);
	assert_int_equal(symlink("/etc/passwd", p), 0);
	n = snprintf(text, sizeof text, "%smha,1,4,4,64,64,64,0,,evil_q.npy,mha_k.npy,mha_v.npy,mha_out.npy,,\n", hdr);
	set_manifest(dir, text, (size_t)n);
	EXPECT(2, "field 'q'", "check", "--golden", dir, "--backend", "naive");
	EXPECT(2, "symbolic link", "check", "--golden", dir, "--backend", "naive");
	/* a 3 MiB line in the manifest, and a manifest that never ends */
	snprintf(p, sizeof p, "%s/manifest.csv", dir);
	write_fill(p, hdr, 'a', 3u << 20, NULL);
	EXPECT(2, "manifest.csv: row 2: field longer than", "check", "--golden", dir, "--backend", "naive");
	remove(p);
	assert_int_equal(symlink("/dev/zero", p), 0);
	EXPECT(2, "manifest.csv: not a regular file", "check", "--golden", dir, "--backend", "naive");
	remove(p);
	/* a .npy whose header promises an absurd shape */
	size_t len;
	unsigned char *img =
	    npy_image("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 4, 1099511627776, 64), }", 64, &len);
	snprintf(p, sizeof p, "%s/mha_k.npy", dir);
	tu_write(p, img, len);
	free(img);
	n = snprintf(text, sizeof text, "%smha,1,4,4,64,64,64,0,,mha_q.npy,mha_k.npy,mha_v.npy,mha_out.npy,,\n", hdr);
	set_manifest(dir, text, (size_t)n);
	EXPECT(2, "mha_k.npy: data", "check", "--golden", dir, "--backend", "naive");
	tu_rmtree(dir);

	/* sweep configs with absurd shapes, endless lines, NUL bytes */
	char *cdir = tu_tmpdir(), conf[512], out[512];
	snprintf(conf, sizeof conf, "%s/absurd.conf", cdir);
	snprintf(out, sizeof out, "%s/out", cdir);
	const char absurd[] = "batch = 65536\nheads = 4096\nseq = 16777216\nhead_dim = 256\n";
	tu_write(conf, absurd, sizeof absurd - 1);
	EXPECT(2, "absurd.conf: grid 'default'", "sweep", "--config", conf, "--out", out);
	const char nul[] = "seq = 16\0\n";
	tu_write(conf, nul, sizeof nul - 1);
	EXPECT(2, "absurd.conf:1: NUL byte", "sweep", "--config", conf, "--out", out);
	EXPECT(2, "/dev/zero: not a regular file", "sweep", "--config", "/dev/zero", "--out", out);
	EXPECT(2, "'seq'", "sweep", "--seq", "-5", "--out", out);
	EXPECT(2, "needs more than", "sweep", "--seq", "16777216", "--batch", "65536", "--heads", "4096", "--head-dim",
	       "256", "--out", out);
	struct stat st;
	assert_int_equal(stat(out, &st), -1); /* refused before anything was written */

	/* results.csv that never ends, for the readers of runs */
	snprintf(p, sizeof p, "%s/results.csv", cdir);
	assert_int_equal(symlink("/dev/zero", p), 0);
	EXPECT(2, "results.csv: not a regular file", "compare", cdir, cdir);
	tu_rmtree(cdir);
}

/* ---- machine.json ----------------------------------------------------- */

/* What machine_write writes, machine_read gives back, typed. */
static void test_machine_round_trip(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), p[512];
	snprintf(p, sizeof p, "%s/machine.json", dir);
	roofline rf;
	memset(&rf, 0, sizeof rf);
	rf.sgemm_attn_gflops = 812.5;
	rf.sgemm_square_gflops = 1020.25;
	rf.dram_gbs = 41.5;
	rf.llc_gbs = 310;
	rf.llc_bytes = 33554432;
	assert_int_equal(machine_write(dir, 3, "naive=cpu; odd=\"q\" \\ x", &rf), 0);
	machine_info m;
	attn_err e = {{0}};
	if (machine_read(p, &m, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(m.threads_used, 3);
	assert_int_equal(m.blas_threads, 3);
	assert_true(m.cpus_online >= 1 && m.ram_bytes >= 0);
	assert_string_equal(m.devices, "naive=cpu; odd=\"q\" \\ x");
	assert_string_equal(m.git_commit, build_commit());
	assert_string_equal(m.build_flags, build_flags());
	assert_non_null(m.cpu_model);
	assert_non_null(m.compiler);
	assert_int_equal(strlen(m.date_utc), 20);
	assert_true(m.has_roofline);
	assert_true(m.peaks.sgemm_attn_gflops == 812.5 && m.peaks.sgemm_square_gflops == 1020.25);
	assert_true(m.peaks.dram_gbs == 41.5 && m.peaks.llc_gbs == 310 && m.peaks.llc_bytes == 33554432);
	assert_int_equal(m.peaks.threads, 3);
	machine_info_free(&m);
	/* numbers are JSON numbers, text is strings */
	json_error_t je;
	json_t *root = json_load_file(p, JSON_REJECT_DUPLICATES, &je);
	assert_non_null(root);
	assert_true(json_is_integer(json_object_get(root, "ram_bytes")));
	assert_true(json_is_integer(json_object_get(root, "threads_used")));
	assert_true(json_is_integer(json_object_get(root, "roofline_llc_bytes")));
	assert_true(json_real_value(json_object_get(root, "roofline_dram_gbs")) == 41.5);
	assert_true(json_is_string(json_object_get(root, "git_commit")));
	json_decref(root);
	/* without the peaks */
	assert_int_equal(machine_write(dir, 1, "", NULL), 0);
	assert_int_equal(machine_read(p, &m, &e), 0);
	assert_false(m.has_roofline);
	assert_null(m.devices); /* empty: absent */
	machine_info_free(&m);
	tu_rmtree(dir);
}

/* Write text to dir/machine.json and read it: EXIT_INPUT naming the file
 * and holding needle, or (needle NULL) accepted. */
static void machine_expect(const char *dir, const char *text, size_t len, const char *needle)
{
	char p[512];
	snprintf(p, sizeof p, "%s/machine.json", dir);
	tu_write(p, text, len);
	machine_info m;
	attn_err e = {{0}};
	const int rc = machine_read(p, &m, &e);
	if (!needle) {
		if (rc)
			fail_msg("'%s' refused: %s", text, e.msg);
		machine_info_free(&m);
		return;
	}
	expect_msg(rc, &e, p, needle);
}

#define MACHINE_EXPECT(dir, text, needle) machine_expect(dir, text, sizeof text - 1, needle)

/* Broken JSON and wrong values are exit 2 naming file and line; a FIFO, a
 * directory or a huge file is refused without waiting or slurping. */
static void test_machine_hostile(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), p[512];
	snprintf(p, sizeof p, "%s/machine.json", dir);
	MACHINE_EXPECT(dir, "{\n  \"hostname\" \"x\"\n}\n", "line 2: ':' expected");
	MACHINE_EXPECT(dir, "{\"hostname\": \"a\", \"hostname\": \"b\"}", "duplicate object key near '\"hostname\"'");
	MACHINE_EXPECT(dir, "{\"new\": 1, \"new\": 2}", "duplicate object key");
	MACHINE_EXPECT(dir, "{\"hostname\": \"a\",}", "line 1: string or '}' expected");
	MACHINE_EXPECT(dir, "{\"hostname\": \"a\"} {}", "end of file expected");
	MACHINE_EXPECT(dir, "{\n\"ram_bytes\": \"lots\"}", "\"ram_bytes\": 'lots' is not an integer >= 0");
	MACHINE_EXPECT(dir, "{\"ram_bytes\": -5}", "\"ram_bytes\": '-5' is not an integer >= 0");
	MACHINE_EXPECT(dir, "{\"ram_bytes\": 1.5}", "\"ram_bytes\": '1.5' is not an integer >= 0");
	MACHINE_EXPECT(dir, "{\"roofline_dram_gbs\": \"-3\"}", "'-3' is not a number >= 0");
	MACHINE_EXPECT(dir, "{\"roofline_dram_gbs\": -3}", "'-3' is not a number >= 0");
	MACHINE_EXPECT(dir, "{\"os\": [\"a\"]}", "\"os\": expected a string or a number");
	MACHINE_EXPECT(dir, "{\"os\": true}", "\"os\": expected a string or a number");
	MACHINE_EXPECT(dir, "{\"os\": \"\\uZZZZ\"}", "invalid escape");
	MACHINE_EXPECT(dir, "{\"os\": \"a\nb\"}", "unexpected newline");
	MACHINE_EXPECT(dir, "{\"os\": \"a\0b\"}", "line 1: NUL byte");
	MACHINE_EXPECT(dir, "{\"os\": \"\\u0000\"}", "is not allowed");
	MACHINE_EXPECT(dir, "{\"os\": bogus}", "invalid token");
	MACHINE_EXPECT(dir, "{\"os\": \"\\udc00\"}", "invalid Unicode");
	MACHINE_EXPECT(dir, "[]", "expected a JSON object");
	MACHINE_EXPECT(dir, "", "'[' or '{' expected");
	/* nesting beyond jansson's depth limit is refused, not recursed into */
	char deep[2 * 4000 + 16];
	size_t n = 0;
	n += (size_t)snprintf(deep, sizeof deep, "{\"x\": ");
	for (int i = 0; i < 3000; i++)
		deep[n++] = '[';
	for (int i = 0; i < 3000; i++)
		deep[n++] = ']';
	deep[n++] = '}';
	machine_expect(dir, deep, n, "depth");
	/* accepted: numbers as numbers or (older files) as strings, null,
	 * unknown and nested keys skipped */
	MACHINE_EXPECT(dir, "{\"ram_bytes\": 1024, \"os\": null, \"new\": {\"a\": [1, {\"b\": false}]}}", NULL);
	MACHINE_EXPECT(dir, "{\"ram_bytes\": \"1024\", \"roofline_dram_gbs\": 3}", NULL);
	/* \u escapes become UTF-8; control characters '?' */
	const char esc[] = "{\"hostname\": \"\\u00e9\\ud83d\\ude00\\u0007\\t\"}";
	machine_expect(dir, esc, sizeof esc - 1, NULL);
	machine_info m;
	attn_err e = {{0}};
	assert_int_equal(machine_read(p, &m, &e), 0);
	assert_string_equal(m.hostname, "\xc3\xa9\xf0\x9f\x98\x80??");
	assert_int_equal(m.ram_bytes, -1);
	machine_info_free(&m);
	/* not there: the caller decides */
	remove(p);
	assert_int_equal(machine_read(p, &m, &e), MACHINE_UNREADABLE);
	assert_non_null(strstr(e.msg, p));
	/* a FIFO nobody writes to, a directory, a device, a huge file */
	assert_int_equal(mkfifo(p, 0600), 0);
	expect_msg(machine_read(p, &m, &e), &e, p, "not a regular file");
	remove(p);
	assert_int_equal(mkdir(p, 0700), 0);
	expect_msg(machine_read(p, &m, &e), &e, p, "not a regular file");
	rmdir(p);
	expect_msg(machine_read("/dev/zero", &m, &e), &e, "/dev/zero", "not a regular file");
	write_fill(p, "{\"os\": \"", 'x', (size_t)2 << 20, "\"}");
	expect_msg(machine_read(p, &m, &e), &e, p, "larger than");
	tu_rmtree(dir);
}

int run_hostile_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_utf8_and_messages),  cmocka_unit_test(test_table_limits),
	    cmocka_unit_test(test_table_chunks),       cmocka_unit_test(test_bounded_reads),
	    cmocka_unit_test(test_npy_hostile),        cmocka_unit_test(test_manifest_hostile),
	    cmocka_unit_test(test_sweep_hostile),      cmocka_unit_test(test_cli_hostile),
	    cmocka_unit_test(test_machine_round_trip), cmocka_unit_test(test_machine_hostile),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("hostile", tests, NULL, NULL);
}
