/* check_paths.h - the ways check hands one case to a backend besides
 * attend: the KV-cache path (contiguous or ragged) and the paged path, the
 * capability gate that keeps a case from a backend that does not claim
 * what it uses, and the guarded copies of a case's inputs. */
#ifndef ATTN_RUN_CHECK_PATHS_H
#define ATTN_RUN_CHECK_PATHS_H

#include <stddef.h>

#include "attnbench.h"
#include "run/golden.h"
#include "run/worker.h"

/* Guarded buffers a case's inputs take: q, k, v and the four arrays. */
#define CASE_GUARDS 7

/* What of shape s the table b does not claim, as "window", "kv_dtype
 * q8_0", "ABI 3 (the backend is ABI 1)", or NULL when b claims it all;
 * buf holds the text. */
const char *check_unclaimed(const attn_backend *b, const attn_shape *s, char *buf, size_t len);

/* Does the case go through the cache path of b (causal or a single query,
 * and q_lens[b] <= kv_lens[b] when ragged)? Through the paged path? */
int check_wants_cache(const attn_backend *b, const attn_shape *s);
int check_wants_paged(const attn_backend *b, const attn_shape *s);

/* The KV-cache path of one case into got: the past loaded (cache_append,
 * or a ragged prefill of each sequence's past whose out is ignored), then
 * prefill or decode of the last tokens. Returns an ATTN_* code. */
int check_cache_path(const attn_backend *be, void *ctx, const case_data *d, float *got);

/* The page size of the paged path: the smallest of 3, 5, 7, ... that does
 * not divide n_kv (2 when n_kv is 1). */
int64_t check_page_size(int64_t n_kv);

/* The paged path of one case into got: k and v scattered into shuffled
 * pages of check_page_size(n_kv) tokens in a pool with spare pages (every
 * unused row NaN), then attend_paged. Returns an ATTN_* code. */
int check_paged_path(const attn_backend *be, void *ctx, const case_data *d, float *got);

/* Output rows past q_lens[b] are not compared and need not be written:
 * set them to 0 in got (as the reference has them). */
void check_clear_padding(const attn_shape *s, float *got);

/* The case's inputs (q, k, v and its optional arrays) as guarded,
 * read-only copies in gd, whose shape points at them. 0 or -1. */
int check_guard_case(const case_data *d, case_data *gd, guard_buf g[CASE_GUARDS]);

#endif
