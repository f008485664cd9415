/* docfmt.h - how report.md and index.html are written together, so that
 * they never disagree: headings, paragraphs, list items and tables, text
 * from the inputs escaped (Markdown backslash escapes, HTML entities).
 * Paragraphs and items are written as Markdown (`code` spans, backslash
 * escapes) and turned into HTML by html_inline; text from the inputs goes
 * into them through esc(). */
#ifndef ATTN_REPORT_DOCFMT_H
#define ATTN_REPORT_DOCFMT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "report/model.h"

typedef struct doc {
	FILE *md, *html;
	char *tmp[8]; /* esc() results, freed after the next paragraph or item */
	int ntmp;
} doc;

/* Write text HTML-escaped. */
void html_esc(FILE *f, const char *s);
/* Write paragraph text as HTML: escaped, `code` spans as <code>, the
 * report's own [text](url) links as <a>. */
void html_inline(FILE *f, const char *s);
/* Write text from the inputs as Markdown text (escaped). */
void md_text(FILE *f, const char *s);
/* Text from the inputs for doc_p and doc_item: md_text's escapes, in a
 * string d owns until the next paragraph or item. */
const char *esc(doc *d, const char *s);
void esc_free(doc *d);
/* A heading (text: the report's own words, not the inputs'); in HTML
 * with the id doc_slug makes of it, the anchor GitHub gives it in
 * Markdown. */
void doc_h(doc *d, int level, const char *text);
/* A heading's anchor: lower case letters, digits, '-' and '_', a space as
 * '-', anything else left out. */
void doc_slug(const char *text, char *buf, size_t n);
/* A paragraph. */
void doc_p(doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An item "- text" of a list (in HTML, the caller writes <ul> and </ul>). */
void doc_item(doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A table of nrows x ncols cells (row-major). */
void doc_table(doc *d, int ncols, const char *const *hdr, char **cells, int nrows);
/* Free the cells of a table. */
void free_cells(char **cells, int n);
/* A machine.json count as text ("?" where the run has none). */
const char *count_text(int64_t v, char *buf, size_t len);

#endif
