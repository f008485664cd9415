/* testutil.h - helpers shared by the test files: running the attnbench
 * binary, temporary directories, small file utilities. */
#ifndef ATTN_TESTUTIL_H
#define ATTN_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "attnbench.h"

/* The attnbench binary under test ($ATTNBENCH_BIN, default build/attnbench). */
const char *tu_bin(void);

/* Run attnbench with a NULL-terminated argument list; stdout and stderr are
 * captured into malloc'ed strings (*out, *err; either may be NULL). Returns
 * the exit status, or 128 + signal if it died of a signal. */
int tu_run(char **out, char **err, ...);

/* Run attnbench with the arguments and fail the test unless it exits with
 * code and prints needle on stdout or stderr. */
#define EXPECT(code, needle, ...)                                                                                      \
	do {                                                                                                           \
		char *o_ = NULL, *e_ = NULL;                                                                           \
		const char *n_ = needle;                                                                               \
		int rc_ = tu_run(&o_, &e_, __VA_ARGS__, (char *)NULL);                                                 \
		if (rc_ != (code) || (!strstr(e_ ? e_ : "", n_) && !strstr(o_ ? o_ : "", n_)))                         \
			fail_msg("exit %d (want %d), wanted '%s'; stderr: %.800s", rc_, (code), n_, e_ ? e_ : "");     \
		free(o_);                                                                                              \
		free(e_);                                                                                              \
	} while (0)

/* A file the build made: $ATTNBENCH_BUILD/name (default build/name), in
 * one of four static buffers used in turn. */
const char *tu_built(const char *name);

/* A fresh temporary directory (static buffer per call slot). */
char *tu_tmpdir(void);
/* rm -rf a directory. */
void tu_rmtree(const char *dir);
/* Copy every file of src into dst (flat directories only). */
void tu_copy_dir(const char *src, const char *dst);
/* Write a whole file. */
void tu_write(const char *path, const void *data, size_t len);
/* Read a whole file into a NUL-terminated malloc'ed buffer (NULL if none). */
char *tu_read(const char *path, size_t *len);
/* Copy the built file NAME (tu_built) to each of the n paths. */
void tu_copy_built(const char *name, const char *const *to, int n);
/* Fail the test unless dir/name exists, is not empty, and starts with
 * magic and contains needle (either may be NULL). */
void tu_expect_file(const char *dir, const char *name, const char *magic, const char *needle);
/* The text of dir/name (malloc'ed; the test fails when it is missing). */
char *tu_read_out(const char *dir, const char *name);
/* Replace cell c of a table row with a malloc'ed copy of s. */
void tu_set_cell(char **cells, int c, const char *s);

/* Add n to the total number of tests run (each group calls it). */
void tu_count_tests(int n);
int tu_total_tests(void);

/* Attention in float64, the tests' own reference: out[b,h,i,:] for shape s,
 * with k and v rows kv_stride tokens apart per KV head. */
void tu_reference(const attn_shape *s, const float *q, const float *k, const float *v, int64_t kv_stride, double *out);

/* Test groups, one per file. */
int run_lib_tests(void);
int run_npy_tests(void);
int run_manifest_tests(void);
int run_table_tests(void);
int run_hostile_tests(void);
int run_files_tests(void);
int run_backend_tests(void);
int run_numerics_tests(void);
int run_blocked_tests(void);
int run_cpu_variant_tests(void);
int run_sweep_tests(void);
int run_roofline_tests(void);
int run_cli_tests(void);
int run_resume_tests(void);
int run_report_tests(void);
int run_compare_tests(void);
int run_ab_tests(void);
int run_plan_tests(void);
int run_dtype_tests(void);
int run_random_tests(void);
int run_vulkan_tests(void);
int run_abi_tests(void);
int run_bench_tests(void);
int run_report_dtype_tests(void);
int run_summary_tests(void);
int run_check_variant_tests(void);
int run_isolation_tests(void);
int run_install_tests(void);
int run_json_tests(void);
int run_golden_variant_tests(void);
int run_timing_tests(void);

#endif
