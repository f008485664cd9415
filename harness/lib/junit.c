/* junit.c - see junit.h. */
#include "lib/junit.h"

int junit_begin(junit_file *j, const char *path, const char *suite, int tests, int failures, int skipped)
{
	j->suite = suite;
	attn_err e = {{0}};
	if (file_out_open(&j->out, path, &e)) {
		attn_fail(suite, EXIT_INPUT, "%s", e.msg);
		return -1;
	}
	j->f = j->out.f;
	fprintf(j->f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(j->f, "<testsuites name=\"attnbench %s\" tests=\"%d\" failures=\"%d\" skipped=\"%d\">\n", suite, tests,
	        failures, skipped);
	fprintf(j->f, "  <testsuite name=\"attnbench.%s\" tests=\"%d\" failures=\"%d\" skipped=\"%d\">\n", suite, tests,
	        failures, skipped);
	return 0;
}

void junit_case_begin(junit_file *j, const char *cls, const char *name)
{
	fprintf(j->f, "    <testcase classname=\"attnbench.%s.", j->suite);
	xml_escape(j->f, cls);
	fputs("\" name=\"", j->f);
	xml_escape(j->f, name);
	fputs("\">", j->f);
}

void junit_case_end(junit_file *j)
{
	fputs("</testcase>\n", j->f);
}

int junit_commit(junit_file *j)
{
	fputs("  </testsuite>\n</testsuites>\n", j->f);
	j->f = NULL;
	attn_err e = {{0}};
	if (file_out_commit(&j->out, &e)) {
		attn_fail(j->suite, EXIT_INPUT, "%s", e.msg);
		return -1;
	}
	return 0;
}

/* Write s escaped for XML (text and attribute values). */
void xml_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
				fputc(*s, f);
		}
	}
}
