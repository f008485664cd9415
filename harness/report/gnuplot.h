/* gnuplot.h - the report's gnuplot scripts: one NAME.gp and NAME.dat per
 * picture in the output directory (left there to edit and re-draw), and
 * gnuplot run on them.
 *
 * Text from the inputs goes into a script only through gp_str (a quoted
 * string with nothing gnuplot would substitute or run) and into a data
 * file only through gp_comment (one comment line). */
#ifndef ATTN_REPORT_GNUPLOT_H
#define ATTN_REPORT_GNUPLOT_H

#include <stdio.h>

#include "lib/files.h"
#include "report/model.h"
#include "report/select.h"

/* One picture being written: its script and data file. */
typedef struct gp {
	FILE *f, *d;     /* the script and its data, written to ... */
	file_out fo, fd; /* ... temporary files renamed at gp_close_run */
	char name[32];
	int nblocks; /* data blocks written so far */
} gp;

/* Open NAME.gp and NAME.dat in the output directory and write the script's
 * head: the formats loop and the terminal (pngcairo where gnuplot has it),
 * w x h pixels. NAME.gp, NAME.dat, NAME.png or NAME.svg that exists and
 * is not a regular file is refused (EXIT_INPUT). 0, or the exit code after
 * an error message. */
int gp_open(const report *R, gp *g, const char *name, int w, int h);
/* Close the script's loop and both files, then draw: 0, or 1 after an
 * error message (gnuplot's own where it failed or complained). */
int gp_close_run(const report *R, gp *g);

/* Write s as a gnuplot double-quoted string. */
void gp_str(FILE *f, const char *s);
/* Write "# text" as one comment line of a data file. */
void gp_comment(FILE *d, const char *text);
/* Write a line's data block (x, y / yscale) with a comment naming it and
 * its columns; returns the block's index. */
int gp_block(gp *g, const series *s, double yscale, const char *xname, const char *yname);
/* The plot command's element for a line in data block idx: `plot` first,
 * then continuation lines; title NULL: the line's label. */
void gp_line(FILE *f, const gp *g, int idx, const series *s, const char *title, int first);
/* The palette colour i ("#rrggbb"), cycling. */
const char *gp_color(int i);
/* The fill of bars of dtype style (dtype_style): f32 solid, f16 hatched
 * (falling diagonals), bf16 cross-hatched, then other hatchings. */
const char *gp_dtype_fill(int style);

/* `set title` with a main line, the fixed values and the machines. */
void gp_title(FILE *f, const char *main, const char *fixed, const char *sub);
/* The machines and devices of a plot's lines, for its subtitle. */
void gp_subtitle(const report *R, const selection *const *sels, int nsel, char *buf, size_t len);
/* Range of the x (which = 0) or y (which = 1, divided by yscale) values
 * of some selections. */
void data_range(const selection *const *sels, int nsel, int which, double yscale, double *lo, double *hi);
/* Set one axis: log (base 2 for sizes and counts, 10 otherwise) when the
 * range spans more than a decade, an explicit range with a margin, and the
 * label. */
void gp_axis(FILE *f, const char *ax, double lo, double hi, int base, const char *label);
/* x tics at the measured values when there are few of them. */
void gp_xtics_at_data(FILE *f, const selection *const *sels, int nsel);
/* y tics for a byte axis: powers of two labelled "64 KiB", or plain
 * multiples on a linear axis. */
void gp_bytes_tics(FILE *f, double lo, double hi);
/* A time unit for values in ns: the largest unit the smallest value
 * reaches; sets *name ("ms") and returns its size in ns. */
double time_unit(double lo_ns, const char **name);

/* One panel of a multiplot: lines of a selection against x. */
void gp_panel(gp *g, const selection *S, const char *title, const char *xlabel, int xbase, const char *ylabel,
              const char *xname, const char *yname);
/* Panel title: a line of what, then the phase and the fixed values
 * (malloc'ed). */
char *panel_title(const char *what, const char *phase, const char *fixed);

/* Run `gnuplot SCRIPT` in dir, as the report does for its pictures (the
 * ATTNBENCH_GNUPLOT environment variable names another binary). Anything
 * gnuplot prints, or a failure, is reported on stderr; returns 0 or 1. */
int report_gnuplot(const char *dir, const char *script);

#endif
