/* measure.c - one sweep point under Google Benchmark, and the set-up that
 * sweep and bench share (see measure.h). */
#include "run/measure.h"
#include "attn_half.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/interrupt.h"
#include "run/worker.h"
#include "model/results.h"

static size_t q_elems(const attn_shape *s)
{
	return (size_t)(s->batch * s->n_heads * s->n_q * s->head_dim);
}

/* New K/V tokens of a call: all of them for attend, n_q for the others. */
static size_t kv_new_elems(const sweep_point *p)
{
	const attn_shape *s = &p->shape;
	const int64_t n = p->phase == PHASE_ATTEND ? s->n_kv : s->n_q;
	return (size_t)(s->batch * s->n_kv_heads * n * s->head_dim);
}

uint64_t point_need(const sweep_point *p, uint64_t workspace)
{
	const uint64_t esz = attn_dtype_size(p->shape.dtype);
	const uint64_t qo = q_elems(&p->shape) * (esz + sizeof(float));
	const uint64_t kv = 2ull * kv_new_elems(p) * esz;
	const uint64_t cache = p->phase == PHASE_ATTEND ? 0 : point_kv_bytes(p);
	return qo + kv + cache + workspace;
}

void point_teardown(point_ctx *c)
{
	free(c->q);
	free(c->kn);
	free(c->vn);
	free(c->out);
	c->q = c->kn = c->vn = c->out = NULL;
	c->ready = 0;
}

static int point_fail(point_ctx *c, const char *what)
{
	c->failed = 1;
	snprintf(c->err, sizeof c->err, "%s: %s", what, c->be->be->last_error(c->inst));
	return -1;
}

/* Allocate inputs and bring the cache to the state an iteration starts from. */
static int point_setup(point_ctx *c)
{
	const attn_backend *b = c->be->be;
	const sweep_point *p = &c->pt;
	const attn_shape *s = &p->shape;
	point_teardown(c);
	const size_t esz = attn_dtype_size(s->dtype);
	c->q = xalloc(q_elems(s) * esz);
	c->out = xalloc(q_elems(s) * sizeof(float));
	c->kn = xalloc(kv_new_elems(p) * esz);
	c->vn = xalloc(kv_new_elems(p) * esz);
	if (!c->q || !c->out || !c->kn || !c->vn) {
		c->failed = 1;
		snprintf(c->err, sizeof c->err, "out of host memory for the inputs");
		return -1;
	}
	fill_uniform_as(c->q, q_elems(s), 1, 1.0f, s->dtype);
	fill_uniform_as(c->kn, kv_new_elems(p), 2, 1.0f, s->dtype);
	fill_uniform_as(c->vn, kv_new_elems(p), 3, 1.0f, s->dtype);
	if (p->phase == PHASE_ATTEND)
		goto ready;
	worker_enter("cache_alloc");
	if (b->cache_alloc(c->inst, s))
		return point_fail(c, "cache_alloc");
	if (p->phase == PHASE_DECODE) {
		/* load cache_len - 1 past tokens, a chunk at a time */
		const int64_t chunk = 256, past = s->n_kv - 1;
		const size_t per_tok = (size_t)(s->batch * s->n_kv_heads * s->head_dim);
		void *kc = xalloc((size_t)chunk * per_tok * esz);
		void *vc = xalloc((size_t)chunk * per_tok * esz);
		int rc = !kc || !vc;
		worker_enter("cache_append");
		for (int64_t t = 0; !rc && t < past && !attn_stop_signal; t += chunk) {
			const int64_t n = past - t < chunk ? past - t : chunk;
			fill_uniform_as(kc, (size_t)n * per_tok, 100 + (uint64_t)t, 1.0f, s->dtype);
			fill_uniform_as(vc, (size_t)n * per_tok, 200 + (uint64_t)t, 1.0f, s->dtype);
			rc = b->cache_append(c->inst, kc, vc, n);
		}
		free(kc);
		free(vc);
		if (rc)
			return point_fail(c, "cache_append");
	}
ready:
	c->ready = 1;
	return 0;
}

/* One timed call. Returns 0 or -1 (c->err set). */
static int point_iterate(point_ctx *c)
{
	const attn_backend *b = c->be->be;
	const sweep_point *p = &c->pt;
	switch (p->phase) {
	case PHASE_PREFILL:
		if (b->cache_truncate(c->inst, 0) || b->prefill(c->inst, &p->shape, c->q, c->kn, c->vn, c->out))
			return point_fail(c, "prefill");
		return 0;
	case PHASE_DECODE:
		if (b->decode(c->inst, &p->shape, c->q, c->kn, c->vn, c->out) ||
		    b->cache_truncate(c->inst, p->shape.n_kv - 1))
			return point_fail(c, "decode");
		return 0;
	default:
		if (b->attend(c->inst, &p->shape, c->q, c->kn, c->vn, c->out))
			return point_fail(c, "attend");
		return 0;
	}
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
	const size_t esz = attn_dtype_size(s->dtype), nkv = kv_new_elems(p) * esz;
	const int attend = p->phase == PHASE_ATTEND;
	guard_buf g[4];
	memset(g, 0, sizeof g);
	void *const plain[4] = {c->q, c->kn, c->vn, c->out};
	const void *q = guard_input(&g[0], "q", c->q, q_elems(s) * esz);
	const void *kn = guard_input(&g[1], attend ? "k" : "k_new", c->kn, nkv);
	const void *vn = guard_input(&g[2], attend ? "v" : "v_new", c->vn, nkv);
	float *out = guard_output(&g[3], "out", q_elems(s));
	int rc = 0;
	if (!q || !kn || !vn || !out) {
		c->failed = 1;
		snprintf(c->err, sizeof c->err, "out of host memory for the guarded buffers");
		rc = -1;
	} else {
		c->q = (void *)(uintptr_t)q, c->kn = (void *)(uintptr_t)kn, c->vn = (void *)(uintptr_t)vn;
		c->out = out;
		worker_enter(phase_name(p->phase));
		rc = point_iterate(c);
		char bad[256];
		if (!rc && guard_check(&g[3], bad, sizeof bad)) {
			c->failed = 1;
			snprintf(c->err, sizeof c->err, "%s: %s", phase_name(p->phase), bad);
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
	worker_enter(phase_name(c->pt.phase)); /* attend, prefill or decode: the name of the call timed */
	while (gb_keep_running(st)) {
		if (attn_stop_signal) {
			gb_skip_with_error(st, "interrupted");
			break;
		}
		if (point_iterate(c) != 0) {
			gb_skip_with_error(st, c->err);
			break;
		}
		if (has_timer) {
			const int64_t ns = b->last_device_ns(c->inst);
			if (ns >= 0) {
				dev_sum += (double)ns;
				dev_n++;
			}
			if (c->gpu_timing)
				gb_set_iteration_time(st, ns >= 0 ? (double)ns * 1e-9 : 0.0);
		}
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
	if (!rc)
		rc = registry_select(o->backends ? o->backends : r->cfg.backends, r->sel, &r->nsel, &e);
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
		snprintf(buf + n, len - (size_t)n, "_noncausal");
}
