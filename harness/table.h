/* table.h - CSV files through libcsv: a whole-file reader into rows of
 * strings with a header, and a row writer with correct quoting. */
#ifndef ATTN_TABLE_H
#define ATTN_TABLE_H

#include <stdio.h>

#include "util.h"

/* Limits that keep a hostile file from exhausting memory. */
#define TABLE_MAX_FIELD (64 * 1024)
#define TABLE_MAX_COLS  1024
#define TABLE_MAX_ROWS  1000000

typedef struct table {
	int ncols;     /* header width */
	char **header; /* ncols names */
	int nrows;     /* data rows (header excluded) */
	char ***rows;  /* rows[r][c], each row has ncols fields */
} table;

/* Read a CSV file with a header row. Blank lines are skipped; a data row
 * with a different number of fields than the header, a NUL byte in a field,
 * or a malformed quote is an input error naming the file and row (row 1 is
 * the header). Returns 0 or EXIT_INPUT. */
int table_read(const char *path, table *t, attn_err *e);
/* The same from memory (name is used in messages). */
int table_parse(const char *name, const char *buf, size_t len, table *t, attn_err *e);
void table_free(table *t);
/* Column index of name, or -1. */
int table_col(const table *t, const char *name);

/* Write one row of n fields, quoted where needed, and end the line. */
int table_write_row(FILE *f, const char *const *fields, int n);

#endif
