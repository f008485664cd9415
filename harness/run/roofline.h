/* roofline.h - the machine's own peaks, measured: OpenBLAS sgemm GFLOP/s on
 * an attention-shaped and a square product, and read bandwidth over working
 * sets from L1-sized to past the last-level cache (the DRAM and LLC figures
 * are two points of that curve), all with the thread count of the sweep. The
 * sweep reuses a cached result of the same machine and build; results.csv's
 * pct_peak_flops and pct_peak_bw are measured rates over these figures. */
#ifndef ATTN_ROOFLINE_H
#define ATTN_ROOFLINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model/machine.h" /* the roofline struct, roofline_bw_for */

/* The cache key of this machine and build with threads threads: host name,
 * CPU model, thread count, compiler, build flags, git commit and OpenBLAS
 * configuration. */
void roofline_key(int threads, char *buf, size_t len);

/* The cache file for threads threads: in $ATTNBENCH_CACHE_DIR, else
 * $XDG_CACHE_HOME/attnbench, else $HOME/.cache/attnbench. Returns 0, or -1
 * when none of them is set. dir (may be NULL) receives the directory. */
int roofline_cache_path(int threads, char *dir, size_t dir_len, char *path, size_t path_len);

/* Measure the four figures now (progress lines on stderr). Returns 0, or -1
 * with the reason in err (out of memory, no repetition reported). */
int roofline_measure(int threads, roofline *r, char *err, size_t err_len);

/* Read a cache file written by roofline_save. Returns 0 when it is readable,
 * well formed, for key and holds positive figures; else -1 with the reason in
 * why. Never more than a message for a damaged file. */
int roofline_load(const char *path, const char *key, roofline *r, char *why, size_t why_len);
/* Write r to path through a temporary file and a rename. Returns 0 or -1. */
int roofline_save(const char *path, const roofline *r);

/* The cached figures of this machine and build, or measured (and cached)
 * when there are none; fresh = 1 always measures. Progress on stderr, each
 * line starting with "roofline: ". Returns 0 or -1 (err set). */
int roofline_get(int threads, int fresh, roofline *r, char *err, size_t err_len);

/* Write roofline.csv's header and row (threads, the four figures, the three
 * sizes, the bandwidth curve as roofline_curve_format writes it). Returns 0
 * or -1. */
int roofline_write_csv(FILE *f, const roofline *r);

/* `attnbench roofline [--threads N] [--out DIR]`: measure, refresh the
 * cache, print the figures, write DIR/roofline.csv. Returns an exit code. */
int roofline_run(int threads, const char *out_dir);

#endif
