/* headlines.h - the figures report.md states, computed from the rows and
 * the base lines before any picture is drawn. */
#ifndef ATTN_REPORT_HEADLINES_H
#define ATTN_REPORT_HEADLINES_H

#include "report/model.h"
#include "report/select.h"

/* Fill R->common_seq, R->common_cache and R->heads (the headline table),
 * R->split (the request scenarios of the split picture and its table) and
 * R->missing (points measured on some machines only). Returns 0 or -1
 * (out of memory). */
int report_figures(report *R, const base_lines *L);
/* Free R->split. */
void report_figures_free(report *R);

#endif
