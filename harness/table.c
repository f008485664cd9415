/* table.c - see table.h. libcsv does the parsing and the quoting; this file
 * only collects fields into rows and enforces the limits. */
#include "table.h"

#include <csv.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct collector {
	const char *name;
	table *t;
	char **cur; /* fields of the row being read */
	int ncur, capcur;
	int rows_seen; /* including the header */
	int rows_cap;
	attn_err *e;
	int failed;
} collector;

static void fail(collector *c, const char *fmt, const char *detail)
{
	if (c->failed)
		return;
	c->failed = 1;
	char buf[600];
	snprintf(buf, sizeof buf, fmt, detail);
	attn_errf(c->e, "%s: row %d: %s", c->name, c->rows_seen + 1, buf);
}

static void on_field(void *data, size_t len, void *ud)
{
	collector *c = ud;
	if (c->failed)
		return;
	if (len > TABLE_MAX_FIELD) {
		fail(c, "field longer than %s bytes", "65536");
		return;
	}
	if (data && memchr(data, '\0', len)) {
		fail(c, "field contains a NUL byte%s", "");
		return;
	}
	if (c->ncur >= TABLE_MAX_COLS) {
		fail(c, "more than %s columns", "1024");
		return;
	}
	if (c->ncur == c->capcur) {
		int cap = c->capcur ? c->capcur * 2 : 16;
		char **n = realloc(c->cur, (size_t)cap * sizeof *n);
		if (!n) {
			fail(c, "out of memory%s", "");
			return;
		}
		c->cur = n;
		c->capcur = cap;
	}
	char *s = malloc(len + 1);
	if (!s) {
		fail(c, "out of memory%s", "");
		return;
	}
	if (len)
		memcpy(s, data, len);
	s[len] = 0;
	c->cur[c->ncur++] = s;
}

static void drop_cur(collector *c)
{
	for (int i = 0; i < c->ncur; i++)
		free(c->cur[i]);
	c->ncur = 0;
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
	if (c->ncur == 1 && c->cur[0][0] == 0) {
		drop_cur(c);
		c->rows_seen++;
		return;
	}
	if (!t->header) {
		t->header = c->cur;
		t->ncols = c->ncur;
		c->cur = NULL;
		c->ncur = c->capcur = 0;
		c->rows_seen++;
		return;
	}
	if (c->ncur != t->ncols) {
		char detail[64];
		snprintf(detail, sizeof detail, "%d fields, the header has %d", c->ncur, t->ncols);
		fail(c, "%s", detail);
		drop_cur(c);
		return;
	}
	if (t->nrows >= TABLE_MAX_ROWS) {
		fail(c, "more than %s rows", "1000000");
		drop_cur(c);
		return;
	}
	if (t->nrows == c->rows_cap) {
		int cap = c->rows_cap ? c->rows_cap * 2 : 16;
		char ***n = realloc(t->rows, (size_t)cap * sizeof *n);
		if (!n) {
			fail(c, "out of memory%s", "");
			drop_cur(c);
			return;
		}
		t->rows = n;
		c->rows_cap = cap;
	}
	t->rows[t->nrows++] = c->cur;
	c->cur = NULL;
	c->ncur = c->capcur = 0;
	c->rows_seen++;
}

int table_parse(const char *name, const char *buf, size_t len, table *t, attn_err *e)
{
	memset(t, 0, sizeof *t);
	struct csv_parser p;
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
		return attn_errf(e, "%s: cannot initialise the CSV parser", name);
	collector c = {.name = name, .t = t, .e = e};
	/* a UTF-8 byte order mark (spreadsheets write one) is not part of the first column's name */
	if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
		buf += 3;
		len -= 3;
	}
	if (csv_parse(&p, buf, len, on_field, on_row, &c) != len && !c.failed) {
		c.failed = 1;
		attn_errf(e, "%s: row %d: %s", name, c.rows_seen + 1, csv_strerror(csv_error(&p)));
	}
	if (!c.failed && csv_fini(&p, on_field, on_row, &c) != 0 && !c.failed) {
		c.failed = 1;
		attn_errf(e, "%s: row %d: %s", name, c.rows_seen + 1, csv_strerror(csv_error(&p)));
	}
	csv_free(&p);
	drop_cur(&c);
	free(c.cur);
	if (!c.failed && !t->header) {
		c.failed = 1;
		attn_errf(e, "%s: empty file (a header row is required)", name);
	}
	if (c.failed) {
		table_free(t);
		return EXIT_INPUT;
	}
	return 0;
}

int table_read(const char *path, table *t, attn_err *e)
{
	memset(t, 0, sizeof *t);
	FILE *f = fopen(path, "rb");
	if (!f)
		return attn_errf(e, "%s: cannot open: %s", path, strerror(errno));
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	while (buf) {
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (len < cap)
			break;
		if (cap >= ((size_t)1 << 31)) { /* 2 GiB of CSV is not a manifest */
			free(buf);
			fclose(f);
			return attn_errf(e, "%s: file larger than 2 GiB", path);
		}
		char *n = realloc(buf, cap * 2);
		if (!n) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = n;
		cap *= 2;
	}
	int err = ferror(f);
	fclose(f);
	if (!buf)
		return attn_errf(e, "%s: out of memory", path);
	if (err) {
		free(buf);
		return attn_errf(e, "%s: read error", path);
	}
	int rc = table_parse(path, buf, len, t, e);
	free(buf);
	return rc;
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
