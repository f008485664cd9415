/* machine.h - machine.json, the description of the machine and build a
 * sweep ran on (written beside results.csv, read back by the report), and
 * the machine's measured peaks it carries (the roofline figures that
 * results.csv's pct_peak_* columns divide by).
 *
 * machine.json is one flat JSON object, written and read through jansson:
 * text as strings, numbers as JSON numbers ("ram_bytes": 25276502016;
 * older versions wrote them as strings, which the reader still accepts).
 * Keys and their types are declared once in machine.c, for the writer and
 * the reader. */
#ifndef ATTN_MACHINE_H
#define ATTN_MACHINE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include "lib/util.h"

#define ROOF_CURVE_MAX 40

/* The machine's own peaks, measured by run/roofline.c. */
typedef struct roofline {
	double fma_gflops;          /* multiply-adds on registers, every thread (0: not measured, older runs) */
	double sgemm_attn_gflops;   /* C[4096x4096] = A[4096x128] B[4096x128]^T */
	double sgemm_square_gflops; /* 2048 x 2048 x 2048 */
	double dram_gbs;            /* read bandwidth over dram_array_bytes */
	double llc_gbs;             /* read bandwidth over llc_array_bytes */
	uint64_t llc_bytes;         /* last-level cache the threads can use */
	uint64_t dram_array_bytes, llc_array_bytes;
	int threads;
	char key[1024]; /* machine, build and thread count the figures belong to */
	/* The read bandwidth curve: GB/s over working sets that double from
	 * L1-sized to well past the LLC (n_curve 0: not measured, as in older
	 * runs). */
	int n_curve;
	uint64_t curve_bytes[ROOF_CURVE_MAX];
	double curve_gbs[ROOF_CURVE_MAX];
} roofline;

/* The bandwidth a call whose working set (Q, K, V and O) is bytes can
 * expect. With a curve: the best the curve reached at any working set at
 * least as large as the largest measured one that is <= bytes (so a dip of
 * noise at one size does not lower the ceiling, and a point between two
 * sizes is held to the smaller size's figure). Without one: the last-level
 * cache figure when bytes fit in it, else the DRAM figure. A cold call
 * (cold != 0) had its data evicted from every cache level before it ran,
 * so it reads from memory whatever its size: its ceiling is the best
 * figure the curve reached at working sets of twice the LLC or more (all
 * from memory; the best of them, since a neighbour only slows a point
 * down), or its last point when it has none that large. */
double roofline_bw_for(const roofline *r, uint64_t bytes, int cold);

/* The compute ceiling: the fastest rate measured, the multiply-add peak
 * where there is one (older runs have the two sgemms only). pct_peak_flops
 * and the roofline picture's flat line. */
double roofline_flops_ceiling(const roofline *r);

/* The curve as text, "BYTES:GBS BYTES:GBS ..." (the roofline cache file's
 * bw_curve column), and back: 0, or -1 when s is not such a list of at most
 * ROOF_CURVE_MAX increasing sizes with positive figures. */
void roofline_curve_format(const roofline *r, char *buf, size_t len);
int roofline_curve_parse(const char *s, roofline *r);

/* This machine's CPU model ("unknown" when /proc/cpuinfo has none). */
void cpu_model(char *buf, size_t len);
/* The build: compiler flags and git commit given at compile time. */
const char *build_flags(void);
const char *build_commit(void);

/* Write DIR/machine.json describing this machine and build (through a
 * temporary file and a rename, file_out_open: a machine.json that is not a
 * regular file is left alone), with the roofline figures when rf is not
 * NULL. Returns 0 or -1. */
int machine_write(const char *dir, int threads, const char *devices, const roofline *rf);

/* A machine.json read back. Text is malloc'ed, NULL where the key is
 * absent, null or an empty string; integers are -1 there. */
typedef struct machine_info {
	char *cpu_model, *blas, *compiler, *build_flags, *git_commit, *date_utc, *hostname, *os, *devices;
	int64_t cpus_online, threads_used, ram_bytes, blas_threads;
	int has_roofline; /* all five roofline_* keys present: peaks holds them
	                   * (and the curve, where roofline_bw_curve is present) */
	roofline peaks;   /* sgemm_attn_gflops, sgemm_square_gflops, dram_gbs, llc_gbs, llc_bytes, threads */
} machine_info;

/* m as a JSON object (NULL: out of memory); the caller decrefs it. */
json_t *machine_json(machine_info *m);
/* This machine and build now as a JSON object, as machine_write writes it. */
json_t *machine_json_now(int threads, const char *devices, const roofline *rf);
/* machine_read's result when the file cannot be opened (absent, say): the
 * caller decides whether that matters; e holds "PATH: reason". */
#define MACHINE_UNREADABLE (-1)

/* Read PATH: a regular file of at most 1 MiB holding one JSON object.
 * Unknown keys and nested values are skipped; any key given twice, a known
 * key whose value is not a string, number or null, a number key that does
 * not parse (integers: a whole number >= 0; figures: a number >= 0; as
 * JSON numbers or as strings), or anything that is not JSON is an input
 * error. Control characters in text become '?'. Returns 0,
 * MACHINE_UNREADABLE, or EXIT_INPUT with "PATH: ..." (a syntax error
 * names the line). */
int machine_read(const char *path, machine_info *m, attn_err *e);
void machine_info_free(machine_info *m);

#endif
