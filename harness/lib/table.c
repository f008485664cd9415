/* table.c - see table.h. libcsv does the parsing and the quoting; this file
 * only streams the bytes in, collects fields into rows and enforces the
 * limits. */
#include "lib/table.h"
#include "lib/files.h"

#include <csv.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_CHUNK (64 * 1024) /* bytes handed to the parser at a time */

typedef struct collector {
	const char *name;
	table *t;
	int max_rows;
	char **cur; /* fields of the row being read */
	int ncur, capcur;
	size_t rowbytes; /* their bytes so far */
	int rows_seen;   /* including the header and blank lines */
	int rows_cap;
	int64_t cells, bytes; /* stored so far */
	attn_err *e;
	int failed;
} collector;

static void fail(collector *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(collector *c, const char *fmt, ...)
{
	if (c->failed)
		return;
	c->failed = 1;
	char buf[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	attn_errf(c->e, "%s: row %d: %s", c->name, c->rows_seen + 1, buf);
}

static void drop_cur(collector *c)
{
	for (int i = 0; i < c->ncur; i++)
		free(c->cur[i]);
	c->ncur = 0;
	c->rowbytes = 0;
}

static void on_field(void *data, size_t len, void *ud)
{
	collector *c = ud;
	if (c->failed)
		return;
	if (len > TABLE_MAX_FIELD) {
		fail(c, "field longer than %d bytes", TABLE_MAX_FIELD);
		return;
	}
	if (data && memchr(data, '\0', len)) {
		fail(c, "field contains a NUL byte");
		return;
	}
	if (c->ncur >= TABLE_MAX_COLS) {
		fail(c, "more than %d columns", TABLE_MAX_COLS);
		return;
	}
	if (c->rowbytes + len + 1 > TABLE_MAX_ROW) {
		fail(c, "row longer than %d bytes", TABLE_MAX_ROW);
		return;
	}
	if (c->ncur == c->capcur) {
		int cap = c->capcur ? c->capcur * 2 : 16;
		char **n = realloc(c->cur, (size_t)cap * sizeof *n);
		if (!n) {
			fail(c, "out of memory");
			return;
		}
		c->cur = n;
		c->capcur = cap;
	}
	char *f = malloc(len + 1);
	if (!f) {
		fail(c, "out of memory");
		return;
	}
	if (len)
		memcpy(f, data, len);
	f[len] = 0;
	c->cur[c->ncur++] = f;
	c->rowbytes += len + 1;
}

/* Hand the row being read over (to the header or the rows). */
static char **take_row(collector *c)
{
	char **row = c->cur;
	c->cells += c->ncur;
	c->bytes += (int64_t)c->rowbytes;
	c->cur = NULL;
	c->ncur = c->capcur = 0;
	c->rowbytes = 0;
	return row;
}

static void on_row(int term, void *ud)
{
	(void)term;
	collector *c = ud;
	table *t = c->t;
	if (c->failed) {
		drop_cur(c);
		return;
	}
	/* A blank line arrives as one empty field: skip it. */
	if (c->ncur == 0 || (c->ncur == 1 && c->cur[0][0] == 0)) {
		drop_cur(c);
		c->rows_seen++;
		return;
	}
	if (c->cells + c->ncur > TABLE_MAX_CELLS || c->bytes + (int64_t)c->rowbytes > TABLE_MAX_BYTES) {
		fail(c, "the table holds more than %lld fields or %lld bytes", (long long)TABLE_MAX_CELLS,
		     (long long)TABLE_MAX_BYTES);
		return;
	}
	if (!t->header) {
		t->ncols = c->ncur;
		t->header = take_row(c);
		c->rows_seen++;
		return;
	}
	if (c->ncur != t->ncols) {
		fail(c, "%d fields, the header has %d", c->ncur, t->ncols);
		return;
	}
	if (t->nrows >= c->max_rows) {
		fail(c, "more than %d rows", c->max_rows);
		return;
	}
	if (t->nrows == c->rows_cap) {
		int cap = c->rows_cap ? c->rows_cap * 2 : 16;
		char ***n = realloc(t->rows, (size_t)cap * sizeof *n);
		if (!n) {
			fail(c, "out of memory");
			return;
		}
		t->rows = n;
		c->rows_cap = cap;
	}
	t->rows[t->nrows++] = take_row(c);
	c->rows_seen++;
}

/* A streaming reader: begin, feed any number of chunks, end. */
typedef struct table_stream {
	struct csv_parser p;
	collector c;
	int started; /* the first bytes were seen (for the byte order mark) */
} table_stream;

static int stream_begin(table_stream *s, const char *name, int max_rows, table *t, attn_err *e)
{
	memset(t, 0, sizeof *t);
	memset(s, 0, sizeof *s);
	if (csv_init(&s->p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
		return attn_errf(e, "%s: cannot initialise the CSV parser", name);
	s->c = (collector){.name = name, .t = t, .e = e, .max_rows = max_rows};
	return 0;
}

/* Parse len more bytes; returns 0, or EXIT_INPUT at the first failure. The
 * parser's own field buffer is checked after each chunk: a field without an
 * end stops the read after TABLE_MAX_FIELD + TABLE_CHUNK bytes, not at the
 * end of the file. */
static int stream_feed(table_stream *s, const char *buf, size_t len)
{
	collector *c = &s->c;
	if (!s->started && len > 0) {
		/* a UTF-8 byte order mark (spreadsheets write one) is not part of the first column's name */
		if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
			buf += 3;
			len -= 3;
		}
		s->started = 1;
	}
	while (len > 0 && !c->failed) {
		const size_t n = len < TABLE_CHUNK ? len : TABLE_CHUNK;
		if (csv_parse(&s->p, buf, n, on_field, on_row, c) != n && !c->failed)
			fail(c, "%s", csv_strerror(csv_error(&s->p)));
		if (!c->failed && s->p.entry_pos > TABLE_MAX_FIELD)
			fail(c, "field longer than %d bytes", TABLE_MAX_FIELD);
		if (!c->failed && c->rowbytes + s->p.entry_pos > TABLE_MAX_ROW)
			fail(c, "row longer than %d bytes", TABLE_MAX_ROW);
		buf += n;
		len -= n;
	}
	return c->failed ? EXIT_INPUT : 0;
}

/* Finish (when ok) and release the parser; on any failure t is freed. */
static int stream_end(table_stream *s, int ok)
{
	collector *c = &s->c;
	if (ok && !c->failed && csv_fini(&s->p, on_field, on_row, c) != 0 && !c->failed)
		fail(c, "%s", csv_strerror(csv_error(&s->p)));
	csv_free(&s->p);
	drop_cur(c);
	free(c->cur);
	if (ok && !c->failed && !c->t->header)
		fail(c, "empty file (a header row is required)");
	if (!ok || c->failed) {
		table_free(c->t);
		return EXIT_INPUT;
	}
	return 0;
}

int table_parse(const char *name, const char *buf, size_t len, table *t, attn_err *e)
{
	table_stream s;
	if (stream_begin(&s, name, TABLE_MAX_ROWS, t, e))
		return EXIT_INPUT;
	stream_feed(&s, buf, len);
	return stream_end(&s, 1);
}

int table_read_max(const char *path, int max_rows, table *t, attn_err *e)
{
	memset(t, 0, sizeof *t);
	if (max_rows < 0 || max_rows > TABLE_MAX_ROWS)
		max_rows = TABLE_MAX_ROWS;
	FILE *f = file_fopen_in(path, NULL, e);
	if (!f)
		return EXIT_INPUT;
	table_stream s;
	if (stream_begin(&s, path, max_rows, t, e)) {
		fclose(f);
		return EXIT_INPUT;
	}
	char *chunk = malloc(TABLE_CHUNK);
	int ok = chunk != NULL;
	if (!ok)
		attn_errf(e, "%s: out of memory", path);
	while (ok) {
		const size_t got = fread(chunk, 1, TABLE_CHUNK, f);
		if (got && stream_feed(&s, chunk, got))
			break; /* the message is in e */
		if (got < TABLE_CHUNK) {
			if (ferror(f)) {
				ok = 0;
				attn_errf(e, "%s: read error: %s", path, strerror(errno));
			}
			break;
		}
	}
	free(chunk);
	fclose(f);
	return stream_end(&s, ok);
}

int table_read(const char *path, table *t, attn_err *e)
{
	return table_read_max(path, TABLE_MAX_ROWS, t, e);
}

void table_free(table *t)
{
	if (t->header) {
		for (int i = 0; i < t->ncols; i++)
			free(t->header[i]);
		free(t->header);
	}
	for (int r = 0; r < t->nrows; r++) {
		for (int i = 0; i < t->ncols; i++)
			free(t->rows[r][i]);
		free(t->rows[r]);
	}
	free(t->rows);
	memset(t, 0, sizeof *t);
}

int table_col(const table *t, const char *name)
{
	for (int i = 0; i < t->ncols; i++)
		if (strcmp(t->header[i], name) == 0)
			return i;
	return -1;
}

int table_write_row(FILE *f, const char *const *fields, int n)
{
	for (int i = 0; i < n; i++) {
		const char *s = fields[i] ? fields[i] : "";
		if (i && fputc(',', f) == EOF)
			return -1;
		/* Quote only when the field needs it, so plain numbers stay plain. */
		if (strpbrk(s, ",\"\r\n") || (s[0] == ' ' || (s[0] && s[strlen(s) - 1] == ' '))) {
			if (csv_fwrite(f, s, strlen(s)) != 0)
				return -1;
		} else if (fputs(s, f) == EOF) {
			return -1;
		}
	}
	return fputc('\n', f) == EOF ? -1 : 0;
}
