/* junit.h - JUnit XML for the commands that write it (check, compare):
 * the file's frame, testcases, escaping, and the write-then-rename that
 * keeps a half-written file from looking complete. */
#ifndef ATTN_JUNIT_H
#define ATTN_JUNIT_H

#include <stdio.h>

#include "lib/files.h"

typedef struct junit_file {
	FILE *f;           /* the testcases go here between begin and commit */
	file_out out;      /* a temporary file next to the target, renamed at commit */
	const char *suite; /* "check", "compare" */
} junit_file;

/* Open a temporary file next to PATH (file_out_open: a PATH that exists and
 * is not a regular file is refused and left alone) and write the header of
 * one test suite, "attnbench SUITE", with its counts. Returns 0, or -1
 * after printing why as "attnbench SUITE: ..." on stderr. */
int junit_begin(junit_file *j, const char *path, const char *suite, int tests, int failures, int skipped);

/* Start a testcase: <testcase classname="attnbench.SUITE.CLASS" name="NAME">
 * (both escaped); the caller writes its body, then junit_case_end. */
void junit_case_begin(junit_file *j, const char *cls, const char *name);
void junit_case_end(junit_file *j);

/* Close the suite and rename the temporary file over PATH. On any failure
 * the temporary file is removed, the reason printed and -1 returned. */
int junit_commit(junit_file *j);

/* Write s to f escaped for XML text and attribute values; control
 * characters other than newline and tab are dropped. */
void xml_escape(FILE *f, const char *s);

#endif
