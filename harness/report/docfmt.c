/* docfmt.c - the writing primitives of report.md and index.html (docfmt.h):
 * both documents at once, Markdown and HTML escaped. */
#define _GNU_SOURCE /* strndup */
#include "report/docfmt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The characters in text from the inputs that Markdown could read as
 * markup that changes what the text is: raw HTML and entities, links, code
 * spans, table cells, headings, and the backslash itself. (Emphasis with
 * '*' or '_' only changes how text looks, and escaping every '_' would
 * make report.md hard to read as text.) */
static const char md_special[] = "\\`[]<>|&#";

/* Write text HTML-escaped. */
void html_esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '&')
			fputs("&amp;", f);
		else if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '"')
			fputs("&quot;", f);
		else
			fputc(*s, f);
	}
}

/* Write paragraph text as HTML: escaped, `code` spans as <code>, a
 * backslash escape as the character it escapes. */
void html_inline(FILE *f, const char *s)
{
	int in_code = 0;
	for (; *s; s++) {
		if (*s == '\\' && s[1] && strchr(md_special, s[1])) {
			s++;
		} else if (*s == '`' && (in_code || strchr(s + 1, '`'))) {
			fputs(in_code ? "</code>" : "<code>", f);
			in_code = !in_code;
			continue;
		} else if (*s == '[' && !in_code) {
			/* a link [text](url) of the report's own: text from the
			 * inputs has its brackets escaped, taken above */
			const char *mid = strstr(s, "](");
			const char *end = mid ? strchr(mid + 2, ')') : NULL;
			if (end && !memchr(s + 1, '[', (size_t)(mid - s - 1))) {
				char *url = strndup(mid + 2, (size_t)(end - mid - 2));
				char *text = strndup(s + 1, (size_t)(mid - s - 1));
				if (url && text) {
					fputs("<a href=\"", f);
					html_esc(f, url);
					fputs("\">", f);
					html_inline(f, text);
					fputs("</a>", f);
					s = end;
				}
				free(url);
				free(text);
				if (url && text)
					continue;
			}
		}
		const char one[2] = {*s, 0};
		html_esc(f, one);
	}
}

/* Write text from the inputs as Markdown text (a table cell, or inside a
 * paragraph): a backslash before each character Markdown could read as
 * markup, control characters (newlines) as spaces. */
void md_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (strchr(md_special, *s))
			fputc('\\', f);
		fputc((unsigned char)*s < 0x20 ? ' ' : *s, f);
	}
}

/* Text from the inputs for doc_p and doc_item: md_text's escapes, in a
 * string d owns until the next paragraph or item. */
const char *esc(doc *d, const char *s)
{
	char *t = NULL;
	size_t n = 0;
	FILE *f = d->ntmp < 8 ? open_memstream(&t, &n) : NULL;
	if (!f)
		return "?";
	md_text(f, s);
	if (fclose(f) != 0 || !t) {
		free(t);
		return "?";
	}
	return d->tmp[d->ntmp++] = t;
}

/* Free esc()'s strings. */
void esc_free(doc *d)
{
	while (d->ntmp > 0)
		free(d->tmp[--d->ntmp]);
}

void doc_slug(const char *text, char *buf, size_t n)
{
	size_t l = 0;
	for (const unsigned char *t = (const unsigned char *)text; *t && l + 1 < n; t++) {
		if (*t >= 'A' && *t <= 'Z')
			buf[l++] = (char)(*t - 'A' + 'a');
		else if ((*t >= 'a' && *t <= 'z') || (*t >= '0' && *t <= '9') || *t == '-' || *t == '_')
			buf[l++] = (char)*t;
		else if (*t == ' ')
			buf[l++] = '-';
	}
	buf[l] = 0;
}

void doc_h(doc *d, int level, const char *text)
{
	char id[128];
	doc_slug(text, id, sizeof id);
	fprintf(d->md, "\n%.*s %s\n\n", level, "######", text);
	fprintf(d->html, "<h%d id=\"%s\">", level, id);
	html_esc(d->html, text);
	fprintf(d->html, "</h%d>\n", level);
}

/* Inline text in both documents: Markdown md_pre TEXT md_post, HTML
 * <tag>TEXT</tag>; then esc()'s strings are freed. */
static void doc_inline(doc *d, const char *md_pre, const char *md_post, const char *tag, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));
static void doc_inline(doc *d, const char *md_pre, const char *md_post, const char *tag, const char *fmt, va_list ap)
{
	char *t = rep_vasprintf(fmt, ap);
	if (t) {
		fprintf(d->md, "%s%s%s", md_pre, t, md_post);
		fprintf(d->html, "<%s>", tag);
		html_inline(d->html, t);
		fprintf(d->html, "</%s>\n", tag);
	}
	free(t);
	esc_free(d);
}

/* A paragraph. */
void doc_p(doc *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	doc_inline(d, "", "\n\n", "p", fmt, ap);
	va_end(ap);
}

/* An item "- text" of a list (in HTML, the caller writes <ul> and </ul>). */
void doc_item(doc *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	doc_inline(d, "- ", "\n", "li", fmt, ap);
	va_end(ap);
}

/* A table of nrows x ncols cells (row-major). */
void doc_table(doc *d, int ncols, const char *const *hdr, char **cells, int nrows)
{
	fprintf(d->md, "|");
	fprintf(d->html, "<table>\n<tr>");
	for (int c = 0; c < ncols; c++) {
		fputc(' ', d->md);
		md_text(d->md, hdr[c]);
		fprintf(d->md, " |");
		fprintf(d->html, "<th>");
		html_esc(d->html, hdr[c]);
		fprintf(d->html, "</th>");
	}
	fprintf(d->md, "\n|");
	for (int c = 0; c < ncols; c++)
		fprintf(d->md, "---|");
	fprintf(d->md, "\n");
	fprintf(d->html, "</tr>\n");
	for (int r = 0; r < nrows; r++) {
		fprintf(d->md, "|");
		fprintf(d->html, "<tr>");
		for (int c = 0; c < ncols; c++) {
			const char *s = cells[r * ncols + c] ? cells[r * ncols + c] : "";
			fputc(' ', d->md);
			md_text(d->md, s);
			fprintf(d->md, " |");
			fprintf(d->html, "<td>");
			html_esc(d->html, s);
			fprintf(d->html, "</td>");
		}
		fprintf(d->md, "\n");
		fprintf(d->html, "</tr>\n");
	}
	fprintf(d->md, "\n");
	fprintf(d->html, "</table>\n");
}

/* Free the cells of a table. */
void free_cells(char **cells, int n)
{
	for (int i = 0; i < n; i++)
		free(cells[i]);
	free(cells);
}

/* A machine.json count as text ("?" where the run has none). */
const char *count_text(int64_t v, char *buf, size_t len)
{
	if (v < 0)
		return "?";
	snprintf(buf, len, "%lld", (long long)v);
	return buf;
}
