/* select.h - choosing the lines of a picture: groups of rows that differ
 * only in the x variable.
 *
 * A sel_spec says which rows take part (phase, a y value that is positive),
 * what splits them into lines (machine, backend and device, and row
 * variables such as n_heads or dtype) and what is held fixed along a line
 * (the context: the shape). Out of the contexts a line was measured in,
 * select_lines keeps the one with the most distinct x values. */
#ifndef ATTN_REPORT_SELECT_H
#define ATTN_REPORT_SELECT_H

#include "lib/fit.h"
#include "report/model.h"

/* The row variables lines can be split or titled by. */
enum {
	V_PHASE,
	V_BATCH,
	V_HEADS,
	V_KV,
	V_RATIO,
	V_HD,
	V_SEQ,
	V_CACHE,
	V_CAUSAL,
	V_DTYPE,
	V_WINDOW,
	V_VARIANT,
	V_CSTATE,
	NV
};
/* V_WINDOW: the sliding window (0: full attention); V_VARIANT: the rest of
 * a row's variants, KV storage, paging and lengths, as one phrase;
 * V_CSTATE: the cache state (model/point.h) */
#define VM(v)     (1u << (v))
#define S_MACHINE (1u << 16) /* lines split by machine, backend and device */
#define CTX_SHAPE (VM(V_BATCH) | VM(V_HEADS) | VM(V_KV) | VM(V_HD) | VM(V_WINDOW) | VM(V_VARIANT) | VM(V_CSTATE))
/* lines per backend and storage dtype: f32, f16 and bf16 side by side */
#define S_BACKEND_DTYPE (S_MACHINE | VM(V_DTYPE))

/* A storage dtype's style index, the same in every picture: 0 f32 (solid
 * lines, solid bars, filled markers), 1 f16, 2 bf16, ... (attn_dtype's
 * own order, so a style index is also the dtype). */
static inline int dtype_style(attn_dtype d)
{
	return (int)d;
}

/* What one picture panel plots. */
typedef struct sel_spec {
	unsigned phases;           /* rows of these phases (enum phase bits) */
	int xvar;                  /* V_SEQ, V_CACHE, V_RATIO, V_HEADS */
	unsigned series;           /* what splits lines: S_MACHINE and V_ bits */
	unsigned context;          /* V_ bits held fixed along a line */
	double (*y)(const rrow *); /* the value plotted; NaN or <= 0 leaves the row out */
	int min_points;            /* lines with fewer distinct x are left out */
	const char *want_ctx;      /* only this context (a ctx key), or NULL */
} sel_spec;

/* One line of a plot. */
typedef struct series {
	int mach; /* -1 when lines are not per machine */
	const char *backend, *device;
	const rrow *row0; /* a row of the line: its fixed values */
	int n;
	double *x, *y; /* n points, sorted by x */
	const rrow **r;
	char *ctx; /* the context key */
	char label[384];
	power_fit fit;
	int has_fit;
	int color, dash, pt, open; /* style: colour and marker per backend */
} series;

typedef struct selection {
	series *s;
	int n;
	char title[512]; /* the fixed values every line shares */
} selection;

/* Choose the lines of a panel: per line key, the context with the most
 * distinct x (ties: the context most common over all lines, then the most
 * rows, then the first seen). Lines get their points sorted by x, labels,
 * colours; S->title gets the fixed values every line shares. Returns 0 or
 * -1 (out of memory). */
int select_lines(const report *R, const sel_spec *sp, selection *S);
/* Free a selection's lines. */
void sel_free(selection *S);
/* Fit every line of a selection with the report's rule (FIT_MIN_X,
 * FIT_MIN_PTS); a windowed line from twice its window on, where its cost
 * has turned linear, when enough points are there. */
void fit_lines(selection *S);

/* Numeric value of variable v of a row. */
double var_num(const rrow *r, int v);
/* Variable v of a row as words for titles and legends ("8 heads"). */
void var_phrase(const rrow *r, int v, char *buf, size_t len);
/* qsort order of doubles. */
int dbl_cmp(const void *a, const void *b);

/* The plotted quantities (NaN where a row has none). */
double y_time(const rrow *r);      /* time per call, ns */
double y_gflops(const rrow *r);    /* GFLOP/s */
double y_gbs(const rrow *r);       /* GB/s */
double y_kv(const rrow *r);        /* KV-cache bytes */
double y_ws(const rrow *r);        /* the backend's workspace bytes */
double y_pct_flops(const rrow *r); /* % of peak FLOP/s */
double y_pct_bw(const rrow *r);    /* % of peak memory bandwidth */

/* The two scaling families: prefill time against seq_len, decode time
 * against cache_len, lines per (machine, backend, device, dtype, window):
 * a windowed line beside the full one, each fitted alone. */
extern const sel_spec cost_spec, decode_spec;

/* Those two selections, fitted: what the headline figures and most
 * pictures start from. */
typedef struct base_lines {
	selection prefill, decode;
} base_lines;

/* Select and fit both; 0 or -1 (out of memory). */
int base_lines_select(const report *R, base_lines *L);
void base_lines_free(base_lines *L);

#endif
