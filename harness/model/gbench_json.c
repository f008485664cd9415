/* gbench_json.c - see gbench_json.h. */
#include "model/gbench_json.h"
#include "lib/files.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The first "cpu MHz" of /proc/cpuinfo, rounded; 0 when unknown. */
static long cpu_mhz(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];
	double mhz = 0;
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "cpu MHz", 7)) {
			const char *c = strchr(line, ':');
			if (c)
				mhz = strtod(c + 1, NULL);
			break;
		}
	if (f)
		fclose(f);
	return (long)(mhz + 0.5);
}

/* One line of /sys/devices/system/cpu/cpu0/cache/indexI/NAME into buf. */
static int cache_attr(int i, const char *name, char *buf, size_t len)
{
	char p[128];
	snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu0/cache/index%d/%s", i, name);
	return file_read_line(p, buf, len);
}

/* cpu0's caches as Google Benchmark lists them: type, level, size (bytes),
 * num_sharing. An empty array where /sys tells nothing. */
static json_t *caches(void)
{
	json_t *a = json_array();
	for (int i = 0; a && i < 16; i++) {
		char type[64], level[16], size[32], shared[4096];
		if (cache_attr(i, "type", type, sizeof type) || cache_attr(i, "level", level, sizeof level) ||
		    cache_attr(i, "size", size, sizeof size))
			break;
		char *unit;
		long long bytes = strtoll(size, &unit, 10);
		bytes *= *unit == 'K' ? 1024 : *unit == 'M' ? 1024 * 1024 : 1;
		int sharing = 0;
		if (!cache_attr(i, "shared_cpu_list", shared, sizeof shared)) {
			/* "0-3,8" -> 5 */
			for (char *s = shared; *s;) {
				char *end;
				const long lo = strtol(s, &end, 10);
				long hi = lo;
				if (*end == '-')
					hi = strtol(end + 1, &end, 10);
				sharing += (int)(hi - lo + 1);
				s = *end == ',' ? end + 1 : end + strlen(end);
			}
		}
		json_array_append_new(a, json_pack("{s:s, s:i, s:I, s:i}", "type", type, "level", atoi(level), "size",
		                                   (json_int_t)bytes, "num_sharing", sharing));
	}
	return a;
}

static json_t *context(machine_info *m, const char *executable)
{
	json_t *mj = m ? machine_json(m) : json_object();
	json_t *c = json_pack(
	    "{s:s, s:s, s:s, s:I, s:I, s:o, s:s}", "date", m && m->date_utc ? m->date_utc : "", "host_name",
	    m && m->hostname ? m->hostname : "", "executable", executable ? executable : "attnbench", "num_cpus",
	    (json_int_t)(m && m->cpus_online > 0 ? m->cpus_online : sysconf(_SC_NPROCESSORS_ONLN)), "mhz_per_cpu",
	    (json_int_t)cpu_mhz(), "caches", caches(), "library_build_type", "release");
	if (!c || !mj || json_object_set_new(c, "attnbench", mj)) {
		json_decref(c);
		return NULL;
	}
	return c;
}

/* One ok row as a benchmark entry. */
static json_t *entry(const results_rec *r)
{
	const int dec = r->phase == PHASE_DECODE;
	/* the variants that are on, " --window 512" as "_window=512": every point its own name */
	char v[160], tag[160];
	results_variant_text(r, v, sizeof v);
	size_t n = 0;
	for (const char *c = v; *c && n + 2 < sizeof tag; c++) {
		if (!strncmp(c, " --", 3)) {
			tag[n++] = '_';
			c += 2;
		} else {
			tag[n++] = *c == ' ' ? '=' : *c;
		}
	}
	tag[n] = 0;
	char name[700];
	snprintf(name, sizeof name, "%s/%s/b%lld_h%lld_kv%lld_d%lld_%s%s%s/%lld", phase_name(r->phase), r->backend,
	         (long long)r->batch, (long long)r->n_heads, (long long)r->n_kv_heads, (long long)r->head_dim,
	         dtype_name(r->dtype), r->phase == PHASE_ATTEND && !r->causal ? "_noncausal" : "", tag,
	         (long long)(dec ? r->cache_len : r->seq_len));
	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:f, s:f, s:s, s:I, s:f, s:f, s:I, s:s}", "name", name, "run_name",
	                 name, "run_type", "iteration", "repetitions", (json_int_t)r->reps, "iterations",
	                 (json_int_t)(r->iterations > 0 ? r->iterations : 1), "real_time", r->time_ns, "cpu_time",
	                 r->time_ns, "time_unit", "ns", "threads", (json_int_t)(r->threads > 0 ? r->threads : 1),
	                 "gflops", r->gflops, "gbytes_s", r->gbytes_s, "kv_cache_bytes", (json_int_t)r->kv_cache_bytes,
	                 "repro", r->repro);
}

int gbench_json_write(const char *path, const results_file *rf, machine_info *m, const char *executable, attn_err *e)
{
	json_t *benches = json_array();
	int bad = !benches;
	for (int i = 0; !bad && i < rf->nrows; i++)
		if (rf->rows[i].status == RESULT_OK)
			bad = json_array_append_new(benches, entry(&rf->rows[i])) != 0;
	if (bad) {
		json_decref(benches);
		attn_errf(e, "%s: out of memory", path);
		return -1;
	}
	/* "o" takes the references, also when json_pack fails */
	json_t *root = json_pack("{s:o, s:o}", "context", context(m, executable), "benchmarks", benches);
	if (!root) {
		attn_errf(e, "%s: out of memory", path);
		return -1;
	}
	file_out out;
	int rc = file_out_open(&out, path, e);
	if (!rc) {
		if (json_dumpf(root, out.f, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12)) != 0 ||
		    fputc('\n', out.f) == EOF) {
			file_out_abort(&out);
			attn_errf(e, "%s: write error", path);
			rc = -1;
		} else
			rc = file_out_commit(&out, e);
	}
	json_decref(root);
	return rc;
}
