/* perf_loop.c - one decode call timed in a tight loop, without the harness.
 *
 *   perf_loop BACKEND N_HEADS N_KV_HEADS HEAD_DIM CACHE_LEN THREADS [DTYPE]
 *
 * Sets the cache up as `attnbench sweep` does for a decode point: the same
 * values (the harness's generator, its seeds, cache_len - 1 past tokens
 * appended 256 at a time), buffers aligned as the sweep's, one instance with
 * the same threads and parameters. Times exactly what the sweep times per
 * iteration (run/measure.c's point_calls): decode one token, truncate back.
 * Prints the median over 7 rounds of ns per call. `make perf` compares it
 * with the sweep's figure for the same point: the difference is the
 * harness's overhead.
 *
 * DTYPE is the storage type of Q, K, V and the cache: f32 (default), f16 or
 * bf16. PERF_LOOP_PARAMS in the environment is handed to the backend as its
 * settings, as --param does (e.g. PERF_LOOP_PARAMS=tile_kv=128). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attn_half.h"
#include "lib/util.h"
#include "run/registry.h"

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	const double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* n values in [-1, 1) stored as t, 64-byte aligned: as the sweep fills and
 * allocates its inputs (run/measure.c, fill_rows). */
static void *filled(size_t n, uint64_t seed, attn_dtype t)
{
	void *x = xalloc(n * attn_dtype_size(t));
	if (x)
		fill_uniform_as(x, n, seed, 1.0f, t);
	return x;
}

/* The past tokens, as the sweep's cache_load appends them: chunks of 256,
 * K and V drawn with seeds 100 + t and 200 + t. */
static int cache_load(const attn_backend *b, void *inst, const attn_shape *s)
{
	const int64_t chunk = 256, past = s->n_kv - 1;
	const size_t tok = (size_t)(s->batch * s->n_kv_heads * s->head_dim);
	int rc = 0;
	for (int64_t t = 0; !rc && t < past; t += chunk) {
		const int64_t n = past - t < chunk ? past - t : chunk;
		void *k = filled((size_t)n * tok, 100 + (uint64_t)t, s->dtype);
		void *v = filled((size_t)n * tok, 200 + (uint64_t)t, s->dtype);
		rc = !k || !v || b->cache_append(inst, k, v, n);
		free(k);
		free(v);
	}
	return rc;
}

int main(int argc, char **argv)
{
	if (argc != 7 && argc != 8) {
		fprintf(stderr,
		        "usage: perf_loop BACKEND N_HEADS N_KV_HEADS HEAD_DIM CACHE_LEN THREADS [f32|f16|bf16]\n");
		return 2;
	}
	attn_dtype dt = ATTN_F32;
	if (argc == 8 && strcmp(argv[7], "f16") == 0)
		dt = ATTN_F16;
	else if (argc == 8 && strcmp(argv[7], "bf16") == 0)
		dt = ATTN_BF16;
	else if (argc == 8 && strcmp(argv[7], "f32") != 0) {
		fprintf(stderr, "perf_loop: dtype '%s': expected f32, f16 or bf16\n", argv[7]);
		return 2;
	}
	attn_err e = {{0}};
	backend_entry *sel[ATTN_MAX_BACKENDS];
	int nsel = 0;
	if (registry_select(argv[1], "backend", sel, &nsel, &e) || nsel != 1) {
		fprintf(stderr, "perf_loop: %s\n", nsel != 1 && !e.msg[0] ? "name exactly one backend" : e.msg);
		return 2;
	}
	const attn_backend *b = sel[0]->be;
	attn_shape s = {.batch = 1,
	                .n_heads = atoll(argv[2]),
	                .n_kv_heads = atoll(argv[3]),
	                .head_dim = atoll(argv[4]),
	                .n_q = 1,
	                .n_kv = atoll(argv[5]),
	                .causal = 1,
	                .dtype = dt};
	if (s.n_heads < 1 || s.n_kv_heads < 1 || s.head_dim < 1 || s.n_kv < 2 || s.n_heads % s.n_kv_heads) {
		fprintf(stderr, "perf_loop: impossible shape\n");
		return 2;
	}
	s.scale = (float)(1.0 / sqrt((double)s.head_dim)); /* as the sweep's grid sets it */
	attn_config cfg = {.threads = atoi(argv[6]), .params = getenv("PERF_LOOP_PARAMS")};
	void *inst = NULL;
	char err[256] = "";
	if (b->create(&cfg, &inst, err, sizeof err) || b->cache_alloc(inst, &s)) {
		fprintf(stderr, "perf_loop: %s: %s\n", b->name, inst ? b->last_error(inst) : err);
		return 2;
	}
	/* the sweep's seeds: q 1, the new K and V rows 2 and 3; out zeroed */
	const size_t tok = (size_t)(s.n_kv_heads * s.head_dim);
	void *q = filled((size_t)(s.n_heads * s.head_dim), 1, dt);
	float *out = xalloc((size_t)(s.n_heads * s.head_dim) * sizeof *out);
	void *kn = filled(tok, 2, dt), *vn = filled(tok, 3, dt);
	if (!q || !out || !kn || !vn || cache_load(b, inst, &s)) {
		fprintf(stderr, "perf_loop: setup failed\n");
		return 2;
	}
	/* calibrate to about 0.2 s per round, as the sweep's --min-time */
	int64_t iters = 1;
	for (;;) {
		const double t0 = now_ns();
		for (int64_t i = 0; i < iters; i++)
			if (b->decode(inst, &s, q, kn, vn, out) || b->cache_truncate(inst, s.n_kv - 1))
				return fprintf(stderr, "perf_loop: decode: %s\n", b->last_error(inst)), 1;
		if (now_ns() - t0 > 2e7 || iters > (int64_t)1 << 30)
			break;
		iters *= 2;
	}
	iters *= 10;
	double round_ns[7];
	for (int r = 0; r < 7; r++) {
		const double t0 = now_ns();
		for (int64_t i = 0; i < iters; i++)
			if (b->decode(inst, &s, q, kn, vn, out) || b->cache_truncate(inst, s.n_kv - 1))
				return fprintf(stderr, "perf_loop: decode: %s\n", b->last_error(inst)), 1;
		round_ns[r] = (now_ns() - t0) / (double)iters;
	}
	qsort(round_ns, 7, sizeof round_ns[0], cmp);
	printf("%.1f\n", round_ns[3]);
	b->destroy(inst);
	free(q);
	free(out);
	free(kn);
	free(vn);
	return 0;
}
