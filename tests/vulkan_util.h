/* vulkan_util.h - helpers shared by test_vulkan.c (attend, cache path,
 * parameters), test_vulkan_half.c (f16 and bf16 storage) and
 * test_vulkan_faults.c (timeouts, memory limits). Every test skips where no
 * Vulkan device is available (vt_need_device). */
#ifndef ATTN_VULKAN_UTIL_H
#define ATTN_VULKAN_UTIL_H

#include "testutil.h"

extern const attn_backend *vk; /* the Vulkan backend's table */
extern void *inst;             /* default instance shared by the tests */
extern char unavailable[256];  /* why the tests skip, when they do */

/* Uniform in [-1, 1), from one fixed-seed sequence. */
float vt_frand(void);
/* Elements of q (and out) of s, and of n tokens of k or v. */
size_t vt_q_elems(const attn_shape *s);
size_t vt_kv_elems(const attn_shape *s, int64_t n);
/* n random floats in [-amp, amp) (malloc'ed). */
float *vt_random_floats(size_t n, float amp);
/* Assert |got - ref| <= 1e-4 + 1e-4 |ref| everywhere; report the worst. */
void vt_expect_close(const char *what, const attn_shape *s, const float *got, const double *ref, size_t n);
/* Create an instance with the given parameters; fails the test if it fails. */
void *vt_create(const char *params);
/* Call status; on failure print the instance's last error. */
void vt_expect_ok(void *ctx, int rc, const char *what);
/* One shape through attend on ctx, inputs scaled by amp, against the reference. */
void vt_check_attend(void *ctx, const attn_shape *s, float amp);
/* A shape: batch, heads, KV heads, head_dim, n_q, n_kv, causal, scale (0: 1/sqrt(d)). */
attn_shape vt_shape(int64_t b, int64_t h, int64_t hk, int64_t d, int64_t nq, int64_t nkv, int causal, float scale);
/* cmocka group setup and teardown: the table and the default instance. */
int vt_group_setup(void **state);
int vt_group_teardown(void **state);
/* Tokens from..from+n-1 of every KV head of k (laid out as full's n_kv
 * tokens, es bytes an element) as a [batch][n_kv_heads][n][head_dim]
 * array (malloc'ed); vt_tokens for f32. */
void *vt_tokens_as(const attn_shape *full, const void *k, int64_t from, int64_t n, size_t es);
float *vt_tokens(const attn_shape *full, const float *k, int64_t from, int64_t n);
/* Append tokens len..len+n-1 of k and v through prefill (or decode, n = 1)
 * and compare with the reference over the whole cache. */
void vt_cache_step(void *ctx, const attn_shape *full, const float *k, const float *v, int64_t len, int64_t n,
                   int decode);
/* Prefill (or decode) the n_q new tokens of s (q, kn, vn in s->dtype) on
 * ctx, compare the output with ref and require a cache of s->n_kv tokens. */
void vt_step_expect(void *ctx, const attn_shape *s, const void *q, const void *kn, const void *vn, const double *ref,
                    int decode);
/* Skip without a Vulkan device; fail if one exists but create failed. */
void vt_need_device(void);

/* The groups of test_vulkan_half.c, test_vulkan_faults.c and
 * test_vulkan_variants.c. */
int run_vulkan_half_tests(void);
int run_vulkan_fault_tests(void);
int run_vulkan_variant_tests(void); /* test_vulkan_variants.c */

#endif
