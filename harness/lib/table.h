/* table.h - CSV files through libcsv: a whole-file reader into rows of
 * strings with a header, and a row writer with correct quoting. */
#ifndef ATTN_TABLE_H
#define ATTN_TABLE_H

#include <stdint.h>
#include <stdio.h>

#include "lib/util.h"

/* Limits that keep a hostile file from exhausting memory. The reader streams
 * the file in 64 KiB chunks and stops at the first limit crossed, so a
 * 1 GB line is refused after reading about TABLE_MAX_ROW bytes of it. */
#define TABLE_MAX_FIELD (64 * 1024)        /* bytes in one field */
#define TABLE_MAX_COLS  1024               /* fields in one row */
#define TABLE_MAX_ROW   (1024 * 1024)      /* bytes of field data in one row */
#define TABLE_MAX_ROWS  1000000            /* data rows */
#define TABLE_MAX_CELLS (INT64_C(1) << 23) /* fields in the whole table */
#define TABLE_MAX_BYTES (INT64_C(1) << 30) /* bytes of field data in the whole table */

typedef struct table {
	int ncols;     /* header width */
	char **header; /* ncols names */
	int nrows;     /* data rows (header excluded) */
	char ***rows;  /* rows[r][c], each row has ncols fields */
} table;
/* Every field is its own malloc'ed string (a caller may replace one with
 * another); table_free frees them all. */

/* Read a CSV file with a header row. Blank lines are skipped; a data row
 * with a different number of fields than the header, a NUL byte in a field,
 * or a malformed quote is an input error naming the file and row (row 1 is
 * the header). Returns 0 or EXIT_INPUT. */
int table_read(const char *path, table *t, attn_err *e);
/* The same with at most max_rows data rows (<= TABLE_MAX_ROWS): a longer
 * file is refused as soon as its row max_rows + 1 is complete. */
int table_read_max(const char *path, int max_rows, table *t, attn_err *e);
/* The same from memory (name is used in messages). */
int table_parse(const char *name, const char *buf, size_t len, table *t, attn_err *e);
void table_free(table *t);
/* Column index of name, or -1. */
int table_col(const table *t, const char *name);

/* Write one row of n fields, quoted where needed, and end the line. */
int table_write_row(FILE *f, const char *const *fields, int n);

#endif
