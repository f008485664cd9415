/* junit.h - helpers shared by the commands that write JUnit XML (check,
 * compare). */
#ifndef ATTN_JUNIT_H
#define ATTN_JUNIT_H

#include <stdio.h>

/* Write s to f escaped for XML text and attribute values; control
 * characters other than newline and tab are dropped. */
void xml_escape(FILE *f, const char *s);

#endif
