/* measure.c - one sweep point under Google Benchmark, and the set-up that
 * sweep and bench share (see measure.h). */
#include "run/measure.h"
#include "attn_quant.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/interrupt.h"
#include "run/registry.h"
#include "run/worker.h"
#include "model/results.h"

static size_t q_elems(const attn_shape *s)
{
	return (size_t)(s->batch * s->n_heads * s->n_q * s->head_dim);
}

static size_t out_elems(const attn_shape *s)
{
	return (size_t)(s->batch * s->n_heads * s->n_q * attn_head_dim_v(s));
}

/* Rows of new K (and of V) of a call: all of them for attend, n_q for the
 * others. */
static size_t kv_new_rows(const sweep_point *p)
{
	const attn_shape *s = &p->shape;
	const int64_t n = p->phase == PHASE_ATTEND ? s->n_kv : s->n_q;
	return (size_t)(s->batch * s->n_kv_heads * n);
}

static size_t k_row(const attn_shape *s)
{
	return attn_row_bytes(attn_kv_dtype(s), s->head_dim);
}

static size_t v_row(const attn_shape *s)
{
	return attn_row_bytes(attn_kv_dtype(s), attn_head_dim_v(s));
}

uint64_t point_need(const sweep_point *p, uint64_t workspace)
{
	const attn_shape *s = &p->shape;
	const uint64_t qo = q_elems(s) * attn_dtype_size(s->dtype) + out_elems(s) * sizeof(float);
	/* paged: the pools (point_kv_bytes); else the new rows and the cache */
	if (p->page_size > 0)
		return qo + point_kv_bytes(p) + workspace;
	const uint64_t kv = kv_new_rows(p) * (k_row(s) + v_row(s));
	const uint64_t cache = p->phase == PHASE_ATTEND ? 0 : point_kv_bytes(p);
	return qo + kv + cache + workspace;
}

int point_unsupported(const attn_backend *b, const sweep_point *p, char *why, size_t len)
{
	const attn_shape *s = &p->shape;
	const attn_dtype kt = attn_kv_dtype(s);
	const uint32_t missing = shape_caps(s, p->alibi, p->sinks, p->lens != 0, p->page_size > 0) & ~b->caps;
	static const struct {
		uint32_t cap;
		const char *what;
	} need[] = {
	    {ATTN_CAP_WINDOW, "no sliding window (ATTN_CAP_WINDOW)"},
	    {ATTN_CAP_SOFTCAP, "no soft cap (ATTN_CAP_SOFTCAP)"},
	    {ATTN_CAP_ALIBI, "no ALiBi (ATTN_CAP_ALIBI)"},
	    {ATTN_CAP_SINKS, "no attention sinks (ATTN_CAP_SINKS)"},
	    {ATTN_CAP_HEAD_DIM_V, "no head_dim_v (ATTN_CAP_HEAD_DIM_V)"},
	    {ATTN_CAP_Q8_0, "no q8_0 KV storage (ATTN_CAP_Q8_0)"},
	    {ATTN_CAP_Q4_0, "no q4_0 KV storage (ATTN_CAP_Q4_0)"},
	    {ATTN_CAP_FP8, "no fp8_e4m3 KV storage (ATTN_CAP_FP8)"},
	    {ATTN_CAP_KV_DTYPE, "no KV storage type of its own (ATTN_CAP_KV_DTYPE)"},
	    {ATTN_CAP_RAGGED, "no ragged batches (ATTN_CAP_RAGGED)"},
	    {ATTN_CAP_PAGED, "no paged KV cache (ATTN_CAP_PAGED)"},
	};
	for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
		if (missing & need[i].cap) {
			snprintf(why, len, "%s", need[i].what);
			return 1;
		}
	if (p->page_size > 0 && !b->attend_paged) {
		snprintf(why, len, "no attend_paged");
		return 1;
	}
	if (attn_dtype_blocked(kt) && (s->head_dim % ATTN_QBLOCK || attn_head_dim_v(s) % ATTN_QBLOCK)) {
		snprintf(why, len, "%s needs head_dim and head_dim_v multiples of %d", attn_kv_dtype_name(kt),
		         ATTN_QBLOCK);
		return 1;
	}
	if (p->lens && p->phase == PHASE_DECODE && p->page_size <= 0) {
		snprintf(why, len, "a ragged decode is measured paged only (page_size > 0)");
		return 1;
	}
	return 0;
}

static void free_extras(point_ctx *c)
{
	free(c->alibi);
	free(c->sinks);
	free(c->q_lens);
	free(c->kv_lens);
	free(c->block_table);
	c->alibi = c->sinks = NULL;
	c->q_lens = c->kv_lens = NULL;
	c->block_table = NULL;
	attn_shape *s = &c->pt.shape;
	s->alibi = s->sinks = NULL;
	s->q_lens = s->kv_lens = NULL;
}

int point_prepare(point_ctx *c)
{
	sweep_point *p = &c->pt;
	attn_shape *s = &p->shape;
	const int64_t h = s->n_heads;
	free_extras(c);
	if (p->alibi && (c->alibi = malloc((size_t)h * sizeof *c->alibi)) != NULL)
		for (int64_t i = 0; i < h; i++)
			c->alibi[i] = (float)exp2(-8.0 * (double)(i + 1) / (double)h);
	if (p->sinks && (c->sinks = malloc((size_t)h * sizeof *c->sinks)) != NULL)
		for (int64_t i = 0; i < h; i++)
			c->sinks[i] = 1.0f - 0.25f * (float)(i % 8); /* 1 .. -0.75 */
	if (p->lens) {
		c->q_lens = malloc((size_t)s->batch * sizeof *c->q_lens);
		c->kv_lens = malloc((size_t)s->batch * sizeof *c->kv_lens);
		if (c->q_lens && c->kv_lens)
			point_lens(p, c->q_lens, c->kv_lens);
	}
	if ((p->alibi && !c->alibi) || (p->sinks && !c->sinks) || (p->lens && (!c->q_lens || !c->kv_lens))) {
		free_extras(c);
		c->failed = 1;
		snprintf(c->err, sizeof c->err, "out of host memory for the shape's vectors");
		return -1;
	}
	s->alibi = c->alibi;
	s->sinks = c->sinks;
	s->q_lens = c->q_lens;
	s->kv_lens = c->kv_lens;
	return 0;
}

/* ---- cold caches ------------------------------------------------------------ */

/* Eviction reads a buffer larger than the caches rather than flushing the
 * point's lines (clflush): most of a decode's data is the backend's own KV
 * cache, whose addresses the harness never sees, so only displacing every
 * line can take it out. Twice the LLC covers a victim or non-inclusive LLC
 * beside the private L2s; 64 MiB at least, since a VM may report no LLC or
 * a small one; 512 MiB at most, since a VM may report a cache far larger
 * than it has (480 MiB seen), and every cold call pays the read. */
#define EVICT_MIN ((size_t)64 << 20)
#define EVICT_MAX ((size_t)512 << 20)

size_t evict_bytes(void)
{
	/* ATTNBENCH_EVICT_BYTES sets the size: the tests' tiny sweeps use a
	 * small one, and a machine whose caches are misreported its own */
	const char *env = getenv("ATTNBENCH_EVICT_BYTES");
	int64_t set;
	if (env && *env) {
		if (parse_i64(env, &set) && set >= 64 && set <= (INT64_C(1) << 40))
			return (size_t)set;
		fprintf(stderr, "attnbench: ATTNBENCH_EVICT_BYTES '%.40s' is not a byte count in 64..2^40; ignored\n",
		        env);
	}
	long llc = sysconf(_SC_LEVEL3_CACHE_SIZE);
	if (llc <= 0)
		llc = sysconf(_SC_LEVEL2_CACHE_SIZE);
	const size_t want = llc > 0 ? 2 * (size_t)llc : 0;
	return want < EVICT_MIN ? EVICT_MIN : want > EVICT_MAX ? EVICT_MAX : want;
}

static volatile uint64_t evict_sink;

/* One load per cache line of the buffer, spread over every thread so that
 * each core's private caches are displaced too. Reads, not writes: written
 * lines would be dirty, and their write-back would fall inside the next
 * timed call. */
static void evict(const point_ctx *c)
{
	const uint64_t *w = c->evict;
	const int64_t lines = (int64_t)(c->evict_bytes / 64);
	uint64_t x = 0;
#pragma omp parallel for reduction(^ : x) schedule(static)
	for (int64_t i = 0; i < lines; i++)
		x ^= w[i * 8];
	evict_sink = x;
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int point_manual_time(const sweep_point *p, int gpu_timing)
{
	return gpu_timing || point_cache_state(p) == CACHE_COLD;
}

void point_teardown(point_ctx *c)
{
	free(c->evict);
	c->evict = NULL;
	c->evict_bytes = 0;
	free(c->q);
	free(c->kn);
	free(c->vn);
	free(c->out);
	c->q = c->kn = c->vn = c->out = NULL;
	free_extras(c);
	c->ready = 0;
}

static int point_fail(point_ctx *c, const char *what)
{
	c->failed = 1;
	snprintf(c->err, sizeof c->err, "%s: %s", what, c->be->be->last_error(c->inst));
	return -1;
}

/* rows rows of width elements, deterministic from seed, stored as t
 * (quantized a row at a time for the block and fp8 formats). */
static int fill_rows(void *dst, size_t rows, int64_t width, uint64_t seed, attn_dtype t)
{
	if (t <= ATTN_BF16) {
		fill_uniform_as(dst, rows * (size_t)width, seed, 1.0f, t);
		return 0;
	}
	const size_t chunk = 1024, rb = attn_row_bytes(t, width);
	float *tmp = malloc(chunk * (size_t)width * sizeof *tmp);
	if (!tmp)
		return -1;
	for (size_t r = 0; r < rows; r += chunk) {
		const size_t n = rows - r < chunk ? rows - r : chunk;
		fill_uniform(tmp, n * (size_t)width, seed * 1000003u + r / chunk, 1.0f);
		for (size_t i = 0; i < n; i++)
			attn_quantize_row((char *)dst + (r + i) * rb, tmp + i * (size_t)width, width, t);
	}
	free(tmp);
	return 0;
}

/* The page pools and a shuffled block table: sequence b holds
 * ceil(kv_len_b / page_size) pages, drawn from a permutation of the pool. */
static int pages_setup(point_ctx *c)
{
	const sweep_point *p = &c->pt;
	const attn_shape *s = &p->shape;
	const int64_t ps = p->page_size;
	c->max_pages = (s->n_kv + ps - 1) / ps;
	c->n_pages = 0;
	for (int64_t b = 0; b < s->batch; b++)
		c->n_pages += ((c->kv_lens ? c->kv_lens[b] : s->n_kv) + ps - 1) / ps;
	if (c->n_pages > INT32_MAX)
		return -1;
	c->block_table = calloc((size_t)(s->batch * c->max_pages), sizeof *c->block_table);
	const size_t rows = (size_t)(c->n_pages * s->n_kv_heads * ps);
	c->kbytes = rows * k_row(s);
	c->vbytes = rows * v_row(s);
	c->kn = xalloc(c->kbytes);
	c->vn = xalloc(c->vbytes);
	if (!c->block_table || !c->kn || !c->vn)
		return -1;
	int32_t *perm = c->block_table; /* the permutation first, then spread */
	int32_t *order = malloc((size_t)c->n_pages * sizeof *order);
	if (!order)
		return -1;
	uint64_t x = 0x2545f4914f6cdd1dull;
	for (int64_t i = 0; i < c->n_pages; i++)
		order[i] = (int32_t)i;
	for (int64_t i = c->n_pages - 1; i > 0; i--) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		const int64_t j = (int64_t)(x % (uint64_t)(i + 1));
		const int32_t t = order[i];
		order[i] = order[j], order[j] = t;
	}
	int64_t next = 0;
	for (int64_t b = 0; b < s->batch; b++) {
		const int64_t need = ((c->kv_lens ? c->kv_lens[b] : s->n_kv) + ps - 1) / ps;
		for (int64_t i = 0; i < need; i++)
			perm[b * c->max_pages + i] = order[next++];
	}
	free(order);
	const attn_dtype kt = attn_kv_dtype(s);
	return fill_rows(c->kn, rows, s->head_dim, 2, kt) || fill_rows(c->vn, rows, attn_head_dim_v(s), 3, kt) ? -1 : 0;
}

/* Load cache_len - 1 past tokens into the backend's cache, a chunk at a
 * time. */
static int cache_load(point_ctx *c)
{
	const attn_backend *b = c->be->be;
	const attn_shape *s = &c->pt.shape;
	const attn_dtype kt = attn_kv_dtype(s);
	const int64_t chunk = 256, past = s->n_kv - 1;
	const size_t per_tok = (size_t)(s->batch * s->n_kv_heads);
	void *kc = xalloc((size_t)chunk * per_tok * k_row(s));
	void *vc = xalloc((size_t)chunk * per_tok * v_row(s));
	int rc = !kc || !vc;
	worker_enter("cache_append");
	for (int64_t t = 0; !rc && t < past && !attn_stop_signal; t += chunk) {
		const int64_t n = past - t < chunk ? past - t : chunk;
		rc = fill_rows(kc, (size_t)n * per_tok, s->head_dim, 100 + (uint64_t)t, kt) ||
		     fill_rows(vc, (size_t)n * per_tok, attn_head_dim_v(s), 200 + (uint64_t)t, kt);
		if (!rc)
			rc = b->cache_append(c->inst, kc, vc, n);
	}
	free(kc);
	free(vc);
	return rc ? point_fail(c, "cache_append") : 0;
}

/* Allocate inputs and bring the cache (or the pages) to the state an
 * iteration starts from. */
static int point_setup(point_ctx *c)
{
	const attn_backend *b = c->be->be;
	const sweep_point *p = &c->pt;
	const attn_shape *s = &p->shape;
	point_teardown(c);
	if (point_prepare(c))
		return -1;
	c->q = xalloc(q_elems(s) * attn_dtype_size(s->dtype));
	c->out = xalloc(out_elems(s) * sizeof(float));
	int rc = !c->q || !c->out;
	if (!rc && p->page_size > 0) {
		rc = pages_setup(c);
	} else if (!rc) {
		c->kbytes = kv_new_rows(p) * k_row(s);
		c->vbytes = kv_new_rows(p) * v_row(s);
		c->kn = xalloc(c->kbytes);
		c->vn = xalloc(c->vbytes);
		rc = !c->kn || !c->vn || fill_rows(c->kn, kv_new_rows(p), s->head_dim, 2, attn_kv_dtype(s)) ||
		     fill_rows(c->vn, kv_new_rows(p), attn_head_dim_v(s), 3, attn_kv_dtype(s));
	}
	if (!rc && point_cache_state(p) == CACHE_COLD) {
		/* written once, so that every page is its own (an untouched
		 * buffer reads the one zero page) */
		c->evict_bytes = evict_bytes();
		c->evict = xalloc(c->evict_bytes);
		rc = !c->evict;
		if (!rc)
			memset(c->evict, 1, c->evict_bytes);
	}
	if (rc) {
		c->failed = 1;
		snprintf(c->err, sizeof c->err, "out of host memory for the inputs");
		return -1;
	}
	fill_uniform_as(c->q, q_elems(s), 1, 1.0f, s->dtype);
	if (p->phase != PHASE_ATTEND && p->page_size <= 0) {
		worker_enter("cache_alloc");
		if (b->cache_alloc(c->inst, s))
			return point_fail(c, "cache_alloc");
		if (p->phase == PHASE_DECODE && cache_load(c))
			return -1;
	}
	c->ready = 1;
	return 0;
}

/* n calls of the point, back to back. The call is chosen once, before the
 * loop, so that the loop is what a hand-written benchmark of the call is
 * (tests/perf_loop.c): the call (a decode with the truncate back to the
 * cache it started from, a prefill after the truncate to empty) and nothing
 * else. Returns 0 or -1 (c->err set). */
static int point_calls(point_ctx *c, int64_t n)
{
	const attn_backend *b = c->be->be;
	void *const inst = c->inst;
	const sweep_point *p = &c->pt;
	const attn_shape *s = &p->shape;
	const void *q = c->q, *kn = c->kn, *vn = c->vn;
	float *out = c->out;
	if (p->page_size > 0) {
		const attn_paged_kv kv = {kn, vn, c->n_pages, p->page_size, c->block_table, c->max_pages};
		for (int64_t i = 0; i < n; i++)
			if (b->attend_paged(inst, s, q, &kv, out))
				return point_fail(c, "attend_paged");
		return 0;
	}
	switch (p->phase) {
	case PHASE_PREFILL:
		for (int64_t i = 0; i < n; i++)
			if (b->cache_truncate(inst, 0) || b->prefill(inst, s, q, kn, vn, out))
				return point_fail(c, "prefill");
		return 0;
	case PHASE_DECODE: {
		const int64_t past = s->n_kv - 1;
		for (int64_t i = 0; i < n; i++)
			if (b->decode(inst, s, q, kn, vn, out) || b->cache_truncate(inst, past))
				return point_fail(c, "decode");
		return 0;
	}
	default:
		for (int64_t i = 0; i < n; i++)
			if (b->attend(inst, s, q, kn, vn, out))
				return point_fail(c, "attend");
		return 0;
	}
}

/* The name of the call a point times. */
static const char *call_name(const sweep_point *p)
{
	return p->page_size > 0 ? "attend_paged" : phase_name(p->phase);
}

/* Out rows past a sequence's query count are the backend's to leave alone:
 * mark them written before the guarded call. */
static void mark_padding(const point_ctx *c, float *out)
{
	const attn_shape *s = &c->pt.shape;
	const int64_t dv = attn_head_dim_v(s);
	for (int64_t b = 0; c->q_lens && b < s->batch; b++)
		for (int64_t h = 0; h < s->n_heads; h++)
			for (int64_t i = c->q_lens[b]; i < s->n_q; i++)
				memset(out + ((b * s->n_heads + h) * s->n_q + i) * dv, 0, (size_t)dv * sizeof *out);
}

/* One call of the point on guarded copies of its inputs and a guarded
 * output (worker.h), before the timed repetitions: a write outside out, an
 * element of out left unwritten, a write to an input or a read past one is
 * found here, named and made the point's error, while the timed calls keep
 * the plain buffers (the guards cost nothing in the figures). */
int point_verify(point_ctx *c)
{
	if (!c->ready && point_setup(c) != 0)
		return -1;
	const sweep_point *p = &c->pt;
	const attn_shape *s = &p->shape;
	const int attend = p->phase == PHASE_ATTEND, paged = p->page_size > 0;
	guard_buf g[4];
	memset(g, 0, sizeof g);
	void *const plain[4] = {c->q, c->kn, c->vn, c->out};
	const void *q = guard_input(&g[0], "q", c->q, q_elems(s) * attn_dtype_size(s->dtype));
	const void *kn = guard_input(&g[1], paged ? "k_pages" : attend ? "k" : "k_new", c->kn, c->kbytes);
	const void *vn = guard_input(&g[2], paged ? "v_pages" : attend ? "v" : "v_new", c->vn, c->vbytes);
	float *out = guard_output(&g[3], "out", out_elems(s));
	int rc = 0;
	if (!q || !kn || !vn || !out) {
		c->failed = 1;
		snprintf(c->err, sizeof c->err, "out of host memory for the guarded buffers");
		rc = -1;
	} else {
		c->q = (void *)(uintptr_t)q, c->kn = (void *)(uintptr_t)kn, c->vn = (void *)(uintptr_t)vn;
		c->out = out;
		mark_padding(c, out);
		worker_enter(call_name(p));
		rc = point_calls(c, 1);
		char bad[256];
		if (!rc && guard_check(&g[3], bad, sizeof bad)) {
			c->failed = 1;
			snprintf(c->err, sizeof c->err, "%s: %s", call_name(p), bad);
			rc = -1;
		}
		c->q = plain[0], c->kn = plain[1], c->vn = plain[2], c->out = plain[3];
	}
	for (int i = 0; i < 4; i++)
		guard_free(&g[i]);
	return rc;
}

static void note_gpu(point_ctx *c, double ns)
{
	if (c->ngpu == c->capgpu) {
		int cap = c->capgpu ? c->capgpu * 2 : 32;
		double *n = realloc(c->gpu_ns, (size_t)cap * sizeof *n);
		if (!n)
			return;
		c->gpu_ns = n;
		c->capgpu = cap;
	}
	c->gpu_ns[c->ngpu++] = ns;
}

/* A hot point on wall time: Google Benchmark's timer runs around n calls
 * made back to back (point_calls), with nothing else per call; the stop
 * signal is looked at between blocks of calls (at most 64 a run). */
static void timed_batch(gb_state *st, point_ctx *c)
{
	const int64_t n = gb_max_iterations(st), block = n / 64 + 1;
	while (gb_keep_running_batch(st, n)) /* true once: the timer runs until the next call */
		for (int64_t done = 0, k; done < n; done += k) {
			k = n - done < block ? n - done : block;
			if (attn_stop_signal) {
				gb_skip_with_error(st, "interrupted");
				break;
			}
			if (point_calls(c, k) != 0) {
				gb_skip_with_error(st, c->err);
				break;
			}
		}
}

/* A point whose body sets each call's time (manual time): a cold one,
 * evicted before each call and timed alone, or one on device time. The
 * device times, where the backend has a timer, add up in dev_sum, dev_n. */
static void timed_each(gb_state *st, point_ctx *c, int has_timer, double *dev_sum, int64_t *dev_n)
{
	const attn_backend *b = c->be->be;
	const int cold = c->evict != NULL;
	while (gb_keep_running(st)) {
		if (attn_stop_signal) {
			gb_skip_with_error(st, "interrupted");
			break;
		}
		if (cold) { /* timed too: the read rate of the same minutes */
			const double e0 = mono_s();
			evict(c);
			c->evict_s += mono_s() - e0;
			c->evicts++;
		}
		const double t0 = mono_s();
		if (point_calls(c, 1) != 0) {
			gb_skip_with_error(st, c->err);
			break;
		}
		if (!c->gpu_timing) /* cold: the call alone */
			gb_set_iteration_time(st, mono_s() - t0);
		const int64_t ns = has_timer ? b->last_device_ns(c->inst) : -1;
		if (ns >= 0) {
			*dev_sum += (double)ns;
			(*dev_n)++;
		}
		if (c->gpu_timing)
			gb_set_iteration_time(st, ns >= 0 ? (double)ns * 1e-9 : 0.0);
	}
}

void point_body(gb_state *st, void *arg)
{
	point_ctx *c = arg;
	const attn_backend *b = c->be->be;
	const int has_timer = (b->caps & ATTN_CAP_DEVICE_TIMER) && b->last_device_ns;
	double dev_sum = 0;
	int64_t dev_n = 0;
	if (!c->ready && point_setup(c) != 0) {
		gb_skip_with_error(st, c->err);
		return;
	}
	worker_enter(call_name(&c->pt)); /* attend, prefill, decode or attend_paged: the call timed */
	if (c->evict || c->gpu_timing) {
		timed_each(st, c, has_timer, &dev_sum, &dev_n);
	} else {
		timed_batch(st, c);
		/* the device time of the run's last call, read after the timer
		 * stopped: nothing but the calls runs inside it */
		const int64_t ns = has_timer && !c->failed ? b->last_device_ns(c->inst) : -1;
		if (ns >= 0)
			dev_sum = (double)ns, dev_n = 1;
	}
	if (dev_n)
		note_gpu(c, dev_sum / (double)dev_n);
	gb_set_complexity_n(st, c->pt.phase == PHASE_DECODE ? c->pt.cache_len : c->pt.seq_len);
	gb_set_counter(st, "FLOPS", point_flops(&c->pt), 1);
	gb_set_counter(st, "bytes_per_second", point_bytes(&c->pt), 1);
}

void setup_free(run_setup *r)
{
	for (int i = 0; i < r->nsel; i++)
		if (r->inst[i])
			r->sel[i]->be->destroy(r->inst[i]);
	free(r->pts);
}

int setup_init(const sweep_opts *o, run_setup *r, const char *cmd, int isolate)
{
	attn_err e = {{0}};
	memset(r, 0, sizeof *r);
	int rc = o->config ? sweep_config_read(o->config, &r->cfg, &e) : (sweep_config_default(&r->cfg), 0);
	for (int i = 0; !rc && i < o->noverrides; i++) {
		const sweep_key *k = o->overrides[i].key;
		char where[64];
		snprintf(where, sizeof where, "--%s", k->flag ? k->flag : k->name);
		rc = sweep_config_set(&r->cfg, k->name, o->overrides[i].val, where, &e);
	}
	if (!rc && o->repetitions)
		r->cfg.repetitions = o->repetitions;
	if (!rc && o->min_time > 0)
		r->cfg.min_time = o->min_time;
	if (!rc && o->max_mem)
		r->cfg.max_mem = o->max_mem;
	if (!rc && !r->cfg.max_mem)
		r->cfg.max_mem = machine_ram_bytes() / 2;
	if (!rc) {
		char what[4200];
		snprintf(what, sizeof what, "%s: backends", o->config ? o->config : "the default grid");
		rc = registry_select(o->backends ? o->backends : r->cfg.backends, o->backends ? "--backend" : what,
		                     r->sel, &r->nsel, &e);
	}
	if (!rc)
		rc = sweep_points(&r->cfg, &r->pts, &r->npts, &e);
	if (rc) {
		fprintf(stderr, "attnbench %s: %s\n", cmd, e.msg);
		free(r->pts);
		r->pts = NULL;
		return EXIT_INPUT;
	}
	for (int i = 0; i < r->nsel; i++) {
		char err[512] = "";
		const attn_config bc = registry_config(&o->cfg, r->sel[i]->be->name);
		const double limit = o->timeout_s > 0 ? o->timeout_s : SWEEP_TIMEOUT_S;
		if (isolate
		        ? worker_probe(r->sel[i], &bc, limit, r->device[i], sizeof r->device[i], err, sizeof err) != 0
		        : r->sel[i]->be->create(&bc, &r->inst[i], err, sizeof err) != 0) {
			fprintf(stderr, "attnbench %s: backend %s: create failed: %s\n", cmd, r->sel[i]->be->name, err);
			r->inst[i] = NULL;
			setup_free(r);
			return EXIT_INPUT;
		}
		if (!isolate)
			snprintf(r->device[i], sizeof r->device[i], "%s", r->sel[i]->be->device_name(r->inst[i]));
	}
	if (r->nsel == 0)
		fprintf(stderr, "attnbench %s: no backend is available\n", cmd);
	return 0;
}

void point_label(const sweep_point *p, int with_len, char *buf, size_t len)
{
	const attn_shape *s = &p->shape;
	const int dec = p->phase == PHASE_DECODE;
	int n = snprintf(buf, len, "b%lld_h%lld_kv%lld_d%lld_%s", (long long)s->batch, (long long)s->n_heads,
	                 (long long)s->n_kv_heads, (long long)s->head_dim, dtype_name(s->dtype));
	if (with_len && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, "_%s%lld", dec ? "cache" : "seq",
		              (long long)(dec ? p->cache_len : p->seq_len));
	if (p->phase == PHASE_ATTEND && !s->causal && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, "_noncausal");
	/* the variants that are on, so that every point has its own name */
	char lens[48];
	lens_format(p->lens, lens, sizeof lens);
	for (char *x = lens; *x; x++)
		*x = *x == ':' ? '-' : *x;
	if (attn_kv_dtype(s) != s->dtype && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, "_kv%s", attn_kv_dtype_name(attn_kv_dtype(s)));
	const struct {
		int on;
		const char *fmt;
		double v;
	} tag[] = {{attn_head_dim_v(s) != s->head_dim, "_dv%.0f", (double)attn_head_dim_v(s)},
	           {s->window > 0, "_w%.0f", (double)s->window},
	           {s->softcap > 0, "_cap%g", (double)s->softcap},
	           {p->alibi, "_alibi", 0},
	           {p->sinks, "_sinks", 0},
	           {p->page_size > 0, "_page%.0f", (double)p->page_size},
	           {point_cache_state(p) != cache_state_default(p->phase),
	            point_cache_state(p) == CACHE_COLD ? "_cold" : "_hot", 0}};
	for (size_t i = 0; i < sizeof tag / sizeof tag[0]; i++)
		if (tag[i].on && n >= 0 && (size_t)n < len)
			n += snprintf(buf + n, len - (size_t)n, tag[i].fmt, tag[i].v);
	if (p->lens && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "_%s", lens);
}
