/* bench.c - `attnbench bench`: the sweep's grid as Google Benchmark
 * families over seq_len (prefill, attend) or cache_len (decode), so that
 * Google Benchmark fits BigO (N^2 for prefill and attend, N for decode) and
 * prints its own report, honouring every --benchmark_* flag. */
#include "run/bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "run/gbench_shim.h"
#include "run/measure.h"
#include "run/registry.h"
#include "model/machine.h"
#include "model/results.h"

/* A family is every point that differs from another only in the length it
 * varies: seq_len (and so n_q = n_kv) for prefill and attend, cache_len (and
 * so n_kv) for decode. Everything else, dtype included, is the family's. */
static int64_t family_arg(const sweep_point *p)
{
	return p->phase == PHASE_DECODE ? p->cache_len : p->seq_len;
}

/* p with the varied length set to n. */
static sweep_point family_member(const sweep_point *p, int64_t n)
{
	sweep_point m = *p;
	if (m.phase == PHASE_DECODE)
		m.cache_len = m.shape.n_kv = n;
	else
		m.seq_len = m.cache_len = m.shape.n_q = m.shape.n_kv = n;
	return m;
}

/* Are a and b in one family? */
static int same_family(const sweep_point *a, const sweep_point *b)
{
	const sweep_point x = family_member(a, 0), y = family_member(b, 0);
	return sweep_point_same(&x, &y);
}

typedef struct family {
	point_ctx c;
	sweep_point base; /* its first point */
} family;

static void family_body(gb_state *st, void *arg)
{
	family *f = arg;
	const int64_t n = gb_range(st, 0);
	if (!f->c.ready || family_arg(&f->c.pt) != n) {
		f->c.pt = family_member(&f->base, n);
		f->c.ready = 0;
		f->c.failed = 0;
	}
	point_body(st, &f->c);
}

/* Register the family of r->pts[pi] on backend bi: one argument per member
 * the backend supports within the memory budget. */
static void family_register(const sweep_opts *o, const bench_opts *bo, const run_setup *r, int bi, int pi, family *f)
{
	const attn_backend *b = r->sel[bi]->be;
	const sweep_point *base = &r->pts[pi];
	const int dec = base->phase == PHASE_DECODE;
	f->base = *base;
	f->c.be = r->sel[bi];
	f->c.inst = r->inst[bi];
	f->c.gpu_timing = o->vk_gpu_timing && (b->caps & ATTN_CAP_DEVICE_TIMER);
	char name[256], label[128];
	point_label(base, 0, label, sizeof label);
	snprintf(name, sizeof name, "%s/%s/%s", phase_name(base->phase), b->name, label);
	gb_bench *gb = gb_register(name, family_body, f);
	int nargs = 0;
	for (int j = pi; j < r->npts; j++) {
		const sweep_point *q = &r->pts[j];
		if (!same_family(q, base))
			continue;
		char why[256];
		if (point_unsupported(b, q, why, sizeof why) || !b->supports(r->inst[bi], &q->shape, why, sizeof why) ||
		    point_need(q, b->workspace_bytes(r->inst[bi], &q->shape)) > r->cfg.max_mem) {
			fprintf(stderr, "bench: %s: %s %lld left out (not supported or over --max-mem)\n", name,
			        dec ? "cache" : "seq", (long long)family_arg(q));
			continue;
		}
		gb_arg(gb, family_arg(q));
		nargs++;
	}
	if (!nargs)
		gb_arg(gb, family_arg(base));
	gb_complexity(gb, dec ? GB_O_N : GB_O_NSQUARED);
	/* --benchmark_repetitions / --benchmark_min_time rule unless a config
	 * or --repetitions / --min-time says otherwise */
	if (o->config || o->repetitions)
		gb_repetitions(gb, r->cfg.repetitions);
	if (o->min_time > 0 || (o->config && !bo->min_time_s && !bo->min_iterations))
		gb_min_time(gb, r->cfg.min_time);
	else if (bo->min_iterations)
		gb_iterations(gb, bo->min_iterations);
	else if (bo->min_time_s > 0)
		gb_min_time(gb, bo->min_time_s);
	if (point_manual_time(base, f->c.gpu_timing))
		gb_use_manual_time(gb);
	else
		gb_use_real_time(gb);
}

/* attnbench's context: version, build, the machine as machine.json has it,
 * and each backend with its device, where it came from and its setup. */
static void set_context(const sweep_opts *o, const bench_opts *bo, const run_setup *r)
{
	json_t *c = json_object(), *be = json_array();
	char devices[1024] = "";
	size_t dl = 0;
	char *text = NULL;
	size_t tl = 0;
	FILE *t = open_memstream(&text, &tl);
	for (int i = 0; i < r->nsel && be; i++) {
		const backend_entry *e = r->sel[i];
		const char *info = r->inst[i] && e->be->instance_info ? e->be->instance_info(r->inst[i]) : NULL;
		const attn_config bc = registry_config(&o->cfg, e->be->name);
		json_t *b = json_pack("{s:s, s:s, s:s, s:i, s:s?, s:s?}", "name", e->be->name, "device", r->device[i],
		                      "origin", e->origin, "abi_version", (int)e->be->abi_version, "setup",
		                      info && *info ? info : NULL, "params", bc.params);
		json_array_append_new(be, b);
		if (dl < sizeof devices)
			dl += (size_t)snprintf(devices + dl, sizeof devices - dl, "%s%s: %s", i ? "; " : "",
			                       e->be->name, r->device[i]);
		if (t)
			fprintf(t, "attnbench backend %s: %s%s%s%s%s\n", e->be->name, r->device[i],
			        info && *info ? "; " : "", info && *info ? info : "",
			        strcmp(e->origin, "built-in") ? "; from " : "",
			        strcmp(e->origin, "built-in") ? e->origin : "");
	}
	json_t *m = machine_json_now(o->cfg.threads, devices, NULL);
	if (c) {
		json_object_set_new(c, "version", json_string(bo->version));
		json_object_set_new(c, "commit", json_string(build_commit()));
		json_object_set_new(c, "build_flags", json_string(build_flags()));
#ifdef __OPTIMIZE__
		json_object_set_new(c, "build_type", json_string("release"));
#else
		json_object_set_new(c, "build_type", json_string("debug"));
#endif
		json_object_set_new(c, "threads", json_integer(o->cfg.threads));
		json_object_set(c, "machine", m ? m : json_null());
		json_object_set(c, "backends", be ? be : json_null());
	}
	char *js = c ? json_dumps(c, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12)) : NULL;
	if (t) {
		char cpu[256];
		cpu_model(cpu, sizeof cpu);
		fprintf(t, "attnbench %s (commit %s), built %s; CPU %s, %d threads\n", bo->version, build_commit(),
		        build_flags(), cpu, o->cfg.threads);
	}
	/* the JSON object goes into an indented context: indent its lines */
	char *ind = NULL;
	size_t il = 0;
	FILE *f = js ? open_memstream(&ind, &il) : NULL;
	for (const char *p = js; f && *p; p++)
		if (*p == '\n')
			fputs("\n    ", f);
		else
			fputc(*p, f);
	if (f)
		fclose(f);
	if (t)
		fclose(t);
	gb_set_context(ind, text);
	free(ind);
	free(text);
	free(js);
	json_decref(m);
	json_decref(be);
	json_decref(c);
}

int bench_run(const sweep_opts *o, const bench_opts *bo)
{
	run_setup r;
	if (setup_init(o, &r, "bench", 0))
		return EXIT_INPUT;
	set_context(o, bo, &r);
	/* one family per backend and first point of each family */
	family *fam = calloc((size_t)r.npts * (size_t)(r.nsel ? r.nsel : 1), sizeof *fam);
	int nfam = 0;
	if (!fam) {
		setup_free(&r);
		return EXIT_INPUT;
	}
	for (int bi = 0; bi < r.nsel; bi++)
		for (int pi = 0; pi < r.npts; pi++) {
			int seen = 0;
			for (int j = 0; j < pi && !seen; j++)
				seen = same_family(&r.pts[j], &r.pts[pi]);
			if (!seen)
				family_register(o, bo, &r, bi, pi, &fam[nfam++]);
		}
	gb_run_reported(&bo->out);
	gb_clear();
	int failed = 0;
	for (int i = 0; i < nfam; i++) {
		failed |= fam[i].c.failed;
		point_teardown(&fam[i].c);
		free(fam[i].c.gpu_ns);
	}
	free(fam);
	setup_free(&r);
	return failed ? EXIT_CHECK_FAILED : EXIT_PASS;
}
