/* pictures.h - the pictures of the report, one function each.
 *
 * A picture function names its entry p (picture_init), writes NAME.gp and
 * NAME.dat, runs gnuplot, and sets p->drawn, or p->note where it has
 * nothing to draw. It reads the report and the base lines and writes
 * nothing else. Returns 0, or 1 after an error message (gnuplot failed,
 * a file could not be written, out of memory). */
#ifndef ATTN_REPORT_PICTURES_H
#define ATTN_REPORT_PICTURES_H

#include "report/model.h"
#include "report/select.h"

typedef int (*picture_fn)(const report *R, const base_lines *L, picture *p);

/* pictures_time.c: times */
int plot_cost(const report *R, const base_lines *L, picture *p);   /* prefill time against seq_len */
int plot_split(const report *R, const base_lines *L, picture *p);  /* request scenarios (R->split) */
int plot_decode(const report *R, const base_lines *L, picture *p); /* decode step time against cache_len */
int plot_heads(const report *R, const base_lines *L, picture *p);  /* prefill time against heads and GQA */

/* pictures_rates.c: bytes and rates */
int plot_memory(const report *R, const base_lines *L, picture *p);     /* KV cache and workspace */
int plot_memory_gqa(const report *R, const base_lines *L, picture *p); /* KV cache against GQA ratio */
int plot_throughput(const report *R, const base_lines *L, picture *p); /* GFLOP/s, GB/s, % of peak */

/* pictures_roofline.c: every row against the machine's measured ceilings */
int plot_roofline(const report *R, const base_lines *L, picture *p);

#endif
