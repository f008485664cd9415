/* slow.c - a test backend that forwards every call to the built-in naive
 * backend (linked into this library) and then spins for a set fraction of
 * the time that call took:
 *
 *   --param slow:fraction=0.05     every attend, prefill, decode and paged
 *                                  call takes 5% longer than naive's
 *
 *   --param slow:trace=PATH,mark=X  each of those calls appends the letter
 *                                  X (default x) to PATH, and create its
 *                                  capital: the order in which a sweep ran
 *                                  the builds, for the tests to read
 *
 * (default 0: naive under another name). Loaded twice in A/B mode, once with
 * a fraction and once without, it is a candidate with a known slowdown:
 * `make perf` finds the smallest fraction that `compare --ab` flags. The
 * results are naive's, so it passes every golden naive passes. Other
 * parameters go on to naive. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "attnbench.h"
#include "impls/builtin.h"

typedef struct slow {
	const attn_backend *nb; /* naive's table */
	void *inner;            /* naive's instance */
	double fraction;
	int trace; /* trace=PATH: its descriptor, else -1 */
	char mark; /* mark=X: the letter each call appends to it */
	char info[160];
} slow;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Spin (no sleep: the slowdown must cost what a slower kernel costs, on a
 * busy core) until fraction * (now - t0) more has passed. */
static int spun(const slow *w, double t0, int rc)
{
	const double until = now_s() + w->fraction * (now_s() - t0);
	while (w->fraction > 0 && now_s() < until)
		;
	if (w->trace >= 0 && write(w->trace, &w->mark, 1) != 1)
		return ATTN_E_INVALID;
	return rc;
}

static int slow_create(const attn_config *cfg, void **ctx, char *err, size_t err_len)
{
	slow *w = calloc(1, sizeof *w);
	if (!w) {
		snprintf(err, err_len, "out of memory");
		return ATTN_E_NOMEM;
	}
	w->nb = attn_backend_naive();
	w->trace = -1;
	w->mark = 'x';
	char rest[512] = "";
	const char *p = cfg && cfg->params ? cfg->params : "";
	while (*p) { /* fraction=X is ours; the rest goes on to naive */
		const size_t n = strcspn(p, ",");
		if (n > 9 && !strncmp(p, "fraction=", 9)) {
			char num[64], *end;
			snprintf(num, sizeof num, "%.*s", (int)(n - 9), p + 9);
			w->fraction = strtod(num, &end);
			if (*end || !(w->fraction >= 0.0 && w->fraction <= 10.0)) {
				snprintf(err, err_len, "parameter fraction=%s: expected a number in 0..10", num);
				if (w->trace >= 0)
					close(w->trace);
				free(w);
				return ATTN_E_INVALID;
			}
		} else if (n > 6 && !strncmp(p, "trace=", 6)) {
			char path[400];
			snprintf(path, sizeof path, "%.*s", (int)(n - 6), p + 6);
			if (w->trace >= 0)
				close(w->trace);
			w->trace = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
			if (w->trace < 0) {
				snprintf(err, err_len, "parameter trace=%s: cannot open it", path);
				free(w);
				return ATTN_E_INVALID;
			}
		} else if (n == 6 && !strncmp(p, "mark=", 5) && islower((unsigned char)p[5])) {
			w->mark = p[5];
		} else if (n) {
			snprintf(rest + strlen(rest), sizeof rest - strlen(rest), "%s%.*s", rest[0] ? "," : "", (int)n,
			         p);
		}
		p += n + (p[n] == ',');
	}
	attn_config inner = cfg ? *cfg : (attn_config){0};
	inner.params = rest;
	const int rc = w->nb->create(&inner, &w->inner, err, err_len);
	const char cap = (char)toupper((unsigned char)w->mark);
	if (!rc && w->trace >= 0 && write(w->trace, &cap, 1) != 1) {
		w->nb->destroy(w->inner);
		snprintf(err, err_len, "trace: cannot write");
		close(w->trace);
		free(w);
		return ATTN_E_INVALID;
	}
	if (rc) {
		if (w->trace >= 0)
			close(w->trace);
		free(w);
		return rc;
	}
	snprintf(w->info, sizeof w->info, "fraction=%g %s", w->fraction,
	         w->nb->instance_info ? w->nb->instance_info(w->inner) : "");
	*ctx = w;
	return ATTN_OK;
}

static void slow_destroy(void *ctx)
{
	slow *w = ctx;
	if (!w)
		return;
	w->nb->destroy(w->inner);
	if (w->trace >= 0)
		close(w->trace);
	free(w);
}

#define W ((slow *)ctx)
static const char *slow_device_name(void *ctx)
{
	return W->nb->device_name(W->inner);
}
static const char *slow_last_error(void *ctx)
{
	return W->nb->last_error(W->inner);
}
static const char *slow_instance_info(void *ctx)
{
	return W->info;
}
static int slow_supports(void *ctx, const attn_shape *s, char *why, size_t why_len)
{
	return W->nb->supports(W->inner, s, why, why_len);
}
static uint64_t slow_workspace(void *ctx, const attn_shape *s)
{
	return W->nb->workspace_bytes(W->inner, s);
}
static int slow_cache_alloc(void *ctx, const attn_shape *s)
{
	return W->nb->cache_alloc(W->inner, s);
}
static int slow_cache_append(void *ctx, const void *k_new, const void *v_new, int64_t n)
{
	return W->nb->cache_append(W->inner, k_new, v_new, n);
}
static int64_t slow_cache_len(void *ctx)
{
	return W->nb->cache_len(W->inner);
}
static int slow_cache_truncate(void *ctx, int64_t len)
{
	return W->nb->cache_truncate(W->inner, len);
}
static uint64_t slow_cache_bytes(void *ctx)
{
	return W->nb->cache_bytes(W->inner);
}

/* The timed calls: naive's, then the spin. */
static int slow_attend(void *ctx, const attn_shape *s, const void *q, const void *k, const void *v, float *out)
{
	const double t0 = now_s();
	return spun(W, t0, W->nb->attend(W->inner, s, q, k, v, out));
}
static int slow_prefill(void *ctx, const attn_shape *s, const void *q, const void *k_new, const void *v_new, float *out)
{
	const double t0 = now_s();
	return spun(W, t0, W->nb->prefill(W->inner, s, q, k_new, v_new, out));
}
static int slow_decode(void *ctx, const attn_shape *s, const void *q, const void *k_new, const void *v_new, float *out)
{
	const double t0 = now_s();
	return spun(W, t0, W->nb->decode(W->inner, s, q, k_new, v_new, out));
}
static int slow_attend_paged(void *ctx, const attn_shape *s, const void *q, const attn_paged_kv *kv, float *out)
{
	const double t0 = now_s();
	return spun(W, t0, W->nb->attend_paged(W->inner, s, q, kv, out));
}
#undef W

static attn_backend slow_backend = {
    .abi_version = ATTN_ABI_VERSION,
    .name = "slow",
    .description = "naive, then a spin for a set fraction of its own time (fraction=X): a known slowdown",
    .create = slow_create,
    .destroy = slow_destroy,
    .device_name = slow_device_name,
    .last_error = slow_last_error,
    .supports = slow_supports,
    .workspace_bytes = slow_workspace,
    .attend = slow_attend,
    .cache_alloc = slow_cache_alloc,
    .cache_append = slow_cache_append,
    .cache_len = slow_cache_len,
    .cache_truncate = slow_cache_truncate,
    .prefill = slow_prefill,
    .decode = slow_decode,
    .cache_bytes = slow_cache_bytes,
    .instance_info = slow_instance_info,
};

__attribute__((visibility("default"))) const attn_backend *const *attnbench_backends(uint32_t *count)
{
	static const attn_backend *const tables[] = {&slow_backend};
	const attn_backend *nb = attn_backend_naive();
	slow_backend.caps = nb->caps;
	if (nb->attend_paged)
		slow_backend.attend_paged = slow_attend_paged;
	*count = 1;
	return tables;
}
