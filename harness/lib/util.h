/* util.h - small helpers shared by the harness: checked arithmetic, error
 * buffers, clocks and string lists. */
#ifndef ATTN_UTIL_H
#define ATTN_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "attnbench.h"

/* Exit codes of every command (docs/commands.md). */
enum { EXIT_PASS = 0, EXIT_CHECK_FAILED = 1, EXIT_INPUT = 2 };

/* An error message buffer carried through the readers. */
typedef struct attn_err {
	char msg[1024];
} attn_err;

/* Format a message into e (printf-style). Returns EXIT_INPUT so callers can
 * write `return attn_errf(e, ...)`. */
int attn_errf(attn_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print "attnbench CMD: MESSAGE" (printf-style) and a newline on stderr;
 * returns code, so that a command can write `return attn_fail(...)`. */
int attn_fail(const char *cmd, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* *out = a * b; returns 0 on overflow (either operand negative counts too). */
int mul_ok(int64_t a, int64_t b, int64_t *out);
/* *out = a * b * c * d ... for n factors; 0 on overflow or a negative factor. */
int mul_n_ok(int64_t *out, int n, const int64_t *f);

/* Parse a whole string as a base-10 int64 / a finite double. Leading and
 * trailing blanks are allowed; anything else returns 0. */
int parse_i64(const char *s, int64_t *out);
int parse_f64(const char *s, double *out);
/* Parse a size: a number and an optional unit, case-insensitive, blanks
 * allowed: B; K, M, G, T and KiB, MiB, GiB, TiB (powers of 1024); KB, MB,
 * GB, TB (powers of 1000). So "8G" and "8GiB" are 8 x 2^30 bytes, "8GB"
 * is 8 x 10^9. Returns 1 and the bytes (not necessarily whole), or 0. The
 * one size parser: every option, config key and file that takes a size
 * reads it here. */
int parse_size(const char *s, double *out);
/* parse_size as whole bytes (rounded down), below 2^64. */
int parse_bytes(const char *s, uint64_t *out);

/* 1 if the n bytes at s are well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF), else 0. */
int utf8_valid(const char *s, size_t n);

/* Split a comma-separated list of integers; returns count or -1. */
int parse_i64_list(const char *s, int64_t *out, int max);

/* Fill x with n deterministic pseudo-random floats, uniform in
 * [-half, half) (xorshift64 from seed): benchmark inputs, not statistics. */
void fill_uniform(float *x, size_t n, uint64_t seed, float half);
/* The same values rounded to the storage type t (2 bytes an element for
 * f16 and bf16) into x. */
void fill_uniform_as(void *x, size_t n, uint64_t seed, float half, attn_dtype t);

/* Monotonic clock in seconds. */
double now_s(void);

/* Total physical memory of the machine in bytes (0 if unknown). */
uint64_t machine_ram_bytes(void);

/* Human-readable bytes ("1.50 GiB") into buf. */
const char *fmt_bytes(uint64_t b, char *buf, size_t len);

/* mkdir -p: create dir and its missing parents. Returns 0 or -1 (errno). */
int mkdir_p(const char *dir);

/* Allocate n bytes aligned to 64 (from 2 MiB on: 2 MiB, in huge pages where
 * the kernel has them), zeroed; NULL on failure or n == 0. */
void *xalloc(size_t n);

/* xalloc without the zeroing: for a buffer whose pages its threads touch
 * first, each its own part. */
void *xalloc_pages(size_t n);

#endif
