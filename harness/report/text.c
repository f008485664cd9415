/* text.c - the report's small text helpers: malloc'ed printf, growing
 * strings, error lines, times and byte counts for tables and axes, and
 * naming a picture entry. */
#define _GNU_SOURCE /* vasprintf */
#include "report/model.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *rep_vasprintf(const char *fmt, va_list ap)
{
	char *s = NULL;
	return vasprintf(&s, fmt, ap) < 0 ? NULL : s;
}

char *rep_asprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = rep_vasprintf(fmt, ap);
	va_end(ap);
	return s;
}

void rep_append(char **s, size_t *len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *t = rep_vasprintf(fmt, ap);
	va_end(ap);
	if (!t)
		return;
	const size_t n = strlen(t);
	char *r = realloc(*s, *len + n + 1);
	if (r) {
		memcpy(r + *len, t, n + 1);
		*s = r;
		*len += n;
	}
	free(t);
}

const char *rep_bytes(double b, char *buf, size_t len)
{
	const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int u = 0;
	while (b >= 1024 && u < 4) {
		b /= 1024;
		u++;
	}
	snprintf(buf, len, "%.*f %s", b == floor(b) ? 0 : 1, b, unit[u]);
	return buf;
}

const char *rep_time(double ns, char *buf, size_t len)
{
	if (ns < 1e3)
		snprintf(buf, len, "%.4g ns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.4g µs", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, len, "%.4g ms", ns / 1e6);
	else
		snprintf(buf, len, "%.4g s", ns / 1e9);
	return buf;
}

void picture_init(picture *p, const char *name, const char *title, const char *caption)
{
	snprintf(p->name, sizeof p->name, "%s", name);
	snprintf(p->title, sizeof p->title, "%s", title);
	p->caption = rep_asprintf("%s", caption);
}
