/* model.h - the report's model and the interface its files share: runs,
 * rows, machines, headline figures and pictures. report.h says which file
 * does what; nothing outside harness/report/ includes this header. */
#ifndef ATTN_REPORT_MODEL_H
#define ATTN_REPORT_MODEL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/util.h"
#include "model/machine.h"
#include "model/results.h"

#define MAX_RUNS    64
#define MAX_SCEN    16
#define MAX_PICS    16
#define MAX_HEADS   64
#define MAX_MISSING 60
#define FIT_MIN_X   512 /* the power-law fit uses points with x >= this ... */
#define FIT_MIN_PTS 3   /* ... when at least this many qualify */

/* ---- the model --------------------------------------------------------------- */

/* One input run: a directory with results.csv and machine.json, each read
 * by its one reader (model/results.h, model/machine.h). */
typedef struct run_in {
	const char *arg; /* as given on the command line */
	char *dir, *csv; /* its directory and results.csv */
	results_file rf; /* results.csv, every row typed */
	machine_info m;  /* machine.json: every field absent where the run has none */
	int has_json;    /* machine.json was read */
	int machine;     /* index into report.machines */
	int recency;     /* 0 = oldest (date_utc, then command-line order) */
	int nrows, nok, ndropped;
	int unfinished;      /* DIR/results.incomplete: an interrupted or running sweep */
	int nstatus;         /* distinct non-ok statuses and their counts */
	char status[16][96]; /* the status text (its first 95 bytes) */
	int status_n[16];
	int nother_status; /* non-ok rows beyond the 16 distinct kinds */
	/* DIR/check.csv, written by `attnbench check --out DIR` (summary.c) */
	int has_check;
	int check_n[3]; /* (case, backend) pairs passed, failed, skipped */
	int ncheck_be;  /* backends in it, each with its counts */
	char check_be[16][64];
	int check_be_n[16][3];
	char *check_failed; /* "case on backend, ..." the first failures (malloc'ed) */
} run_in;

/* A machine: the runs with the same host name and CPU model. */
typedef struct machine {
	const char *host; /* its name in labels: host, or "host [cpu]" where two share a host name */
	const char *cpu;
	char label[256];
	int run; /* its newest run, whose machine.json describes it */
	int nruns;
} machine;

/* One ok row of a results.csv: the figures the report draws, from its
 * typed record. Strings point into the run's table. */
typedef struct rrow {
	int run, mach;
	const results_rec *rec; /* the row as read: its point (results_point_cmp) */
	const char *backend, *device;
	enum phase phase;
	attn_dtype dtype;
	int64_t batch, heads, kv, hd, seq, cache, causal;
	double time_ns, gflops, gbytes_s, kv_bytes, ws_bytes, pct_flops, pct_bw;
	int dropped;      /* a duplicate of a row from a newer run */
	int multi_device; /* its backend ran on more than one device of its machine */
} rrow;

/* A picture of the report, drawn or not. */
typedef struct picture {
	char name[32];   /* file name without extension */
	char title[128]; /* heading in report.md */
	char *caption;   /* how to read it (malloc'ed) */
	char *note;      /* why it was not drawn, or a remark (malloc'ed) */
	int drawn;
} picture;

/* Headline figures of one (machine, backend, device, dtype). NaN: not
 * measured. */
typedef struct headline {
	int mach;
	const char *backend, *device;
	attn_dtype dtype;
	double prefill_ns, decode_tok_s, peak_gflops, exponent, max_ws;
	const rrow *peak_row; /* where peak_gflops was measured (NULL: nowhere) */
} headline;

/* The request scenarios of the split picture: for every line with a
 * prefill fit and a decode line, a request of prompts[a] tokens and gen[b]
 * generated tokens, scenario sc = a * ngen + b. A line is one (machine,
 * backend, device, dtype), its prefill and decode from that dtype's lines.
 * Arrays are indexed [line * nsc + sc]. */
typedef struct request_split {
	int nlines, nsc;
	char (*label)[384]; /* each line's label (malloc'ed) */
	int *color;         /* each line's colour (palette index): its backend's */
	int *shade;         /* the dtype's style (dtype_style): 0 f32, 1 f16, 2 bf16 */
	double *pre, *dec;  /* prefill time and the decode total, ns */
	int *est;           /* the prefill time comes from the fit */
	double lo, hi;      /* smallest bar part, tallest bar */
} request_split;

/* A point measured on some machines and not on machine mach: row r's
 * (backend, phase, shape, length, dtype), or, r NULL, every point of the
 * backend. */
typedef struct missing_point {
	const char *backend;
	const rrow *r;
	int mach;
} missing_point;

typedef struct report {
	/* the request */
	const char *out_dir;
	int png, svg;
	int64_t prompts[MAX_SCEN], gen[MAX_SCEN];
	int nprompts, ngen;
	/* the inputs (load.c) */
	run_in runs[MAX_RUNS];
	int nruns;
	machine machines[MAX_RUNS];
	int nmach;
	rrow *rows;
	int nrows, cap_rows;
	int ndup;
	const char *backends[64]; /* in order of first appearance: colours */
	int nbackends;
	int has_pct_flops, has_pct_bw;
	/* the figures (headlines.c), before any picture is drawn */
	int64_t common_seq, common_cache;
	headline heads[MAX_HEADS];
	int nheads;
	request_split split;
	missing_point missing[MAX_MISSING]; /* the first MAX_MISSING ... */
	int nmissing;                       /* ... of this many */
	/* the pictures, in report order; each plot function fills its own */
	picture pics[MAX_PICS];
	int npics;
} report;

/* ---- load.c ------------------------------------------------------------------ */

/* Read and validate run R->runs[ri] (its arg set): results.csv through
 * results_read (every contract column, at least one row) and machine.json
 * through machine_read (absent or unreadable: a warning, the machine is
 * unknown); its ok rows go into R->rows. EXIT_INPUT with e naming the file,
 * line and column. */
int report_load_run(report *R, int ri, attn_err *e);
/* After every run is loaded: machines (host name and CPU model), run
 * recency, backend colour order, duplicates dropped (newest run wins), and
 * which backends ran on several devices of a machine.
 * Returns 0 or -1 (out of memory). */
int report_merge(report *R);
/* A text field of a machine_info, or dflt where the run has none. */
const char *meta_text(const char *field, const char *dflt);
/* A backend's place in the colour order (nbackends when unknown). */
int report_backend_rank(const report *R, const char *name);
/* Free what loading allocated: the runs and the rows. */
void report_unload(report *R);

/* ---- doc.c ------------------------------------------------------------------- */

/* DIR/fits.csv: the power-law exponent and BigO coefficient of every line. */
int report_write_fits(const report *R);
/* report.md, then index.html (last: its presence means a complete report). */
int report_write_docs(const report *R);

/* ---- text.c ------------------------------------------------------------------ */

/* malloc'ed printf (NULL when out of memory). */
char *rep_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *rep_vasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* Append printf output to a growing malloc'ed string *s of length *len. */
void rep_append(char **s, size_t *len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Print "attnbench report: MESSAGE" on stderr and return code. */
#define rep_fail(code, ...) attn_fail("report", code, __VA_ARGS__)
/* Human-readable bytes, compact ("64 KiB", "1.5 MiB"). */
const char *rep_bytes(double b, char *buf, size_t len);
/* A time in ns for tables: "18.2 µs", "154.3 ms", "40.92 s". */
const char *rep_time(double ns, char *buf, size_t len);
/* Name a fresh picture entry (the caption is copied). */
void picture_init(picture *p, const char *name, const char *title, const char *caption);

#endif
