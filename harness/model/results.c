/* results.c - see results.h. Rows go through libcsv's writer (table.c). */
#include "model/results.h"
#include "attn_half.h"

#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <cblas.h>

#include "lib/table.h"

const char *const results_columns[] = {"backend", "device", "phase", "batch", "n_heads", "n_kv_heads", "head_dim",
                                       "seq_len", "cache_len", "causal", "dtype", "time_ns", "time_ns_min",
                                       "time_ns_max", "reps", "gflops", "gbytes_s", "kv_cache_bytes", "workspace_bytes",
                                       "status",
                                       /* beyond the contract */
                                       "gpu_time_ns", "timing", "iterations", "threads", "peak_device_bytes", "flops",
                                       "bytes", "rep_times_ns", "pct_peak_flops", "pct_peak_bw"};
const int results_ncolumns = (int)(sizeof results_columns / sizeof results_columns[0]);

const char *phase_name(enum phase p)
{
	return p == PHASE_PREFILL ? "prefill" : p == PHASE_DECODE ? "decode" : "attend";
}

const char *dtype_name(attn_dtype t)
{
	return t == ATTN_F32 ? "f32" : t == ATTN_F16 ? "f16" : "bf16";
}

int results_write_header(FILE *f)
{
	return table_write_row(f, results_columns, results_ncolumns);
}

int results_write_row(FILE *f, const result_row *r)
{
	enum { N = 30 };
	char buf[N][64];
	const char *fields[N];
	const attn_shape *s = &r->pt->shape;
	const sweep_point *p = r->pt;
	for (int i = 0; i < N; i++) {
		buf[i][0] = 0;
		fields[i] = buf[i];
	}
	fields[0] = r->backend;
	fields[1] = r->device;
	fields[2] = phase_name(p->phase);
	snprintf(buf[3], 64, "%lld", (long long)s->batch);
	snprintf(buf[4], 64, "%lld", (long long)s->n_heads);
	snprintf(buf[5], 64, "%lld", (long long)s->n_kv_heads);
	snprintf(buf[6], 64, "%lld", (long long)s->head_dim);
	snprintf(buf[7], 64, "%lld", (long long)p->seq_len);
	snprintf(buf[8], 64, "%lld", (long long)p->cache_len);
	snprintf(buf[9], 64, "%d", s->causal);
	fields[10] = dtype_name(s->dtype);
	const double flops = point_flops(p), bytes = point_bytes(p);
	if (r->measured) {
		snprintf(buf[11], 64, "%.1f", r->time_ns);
		snprintf(buf[12], 64, "%.1f", r->time_ns_min);
		snprintf(buf[13], 64, "%.1f", r->time_ns_max);
		snprintf(buf[14], 64, "%d", r->reps);
		snprintf(buf[15], 64, "%.4f", flops / r->time_ns);
		snprintf(buf[16], 64, "%.4f", bytes / r->time_ns);
		if (r->gpu_time_ns > 0)
			snprintf(buf[20], 64, "%.1f", r->gpu_time_ns);
		snprintf(buf[22], 64, "%lld", (long long)r->iterations);
		/* the machine's own peaks: the K and V a call reads decide between
		 * the cache and the DRAM bandwidth (attend reads n_kv keys too) */
		const roofline *rf = r->roof;
		const uint64_t kv = 2ull * (uint64_t)(s->batch * s->n_kv_heads * s->n_kv * s->head_dim) *
		                    (uint64_t)(s->dtype == ATTN_F32 ? 4 : 2);
		if (rf && rf->sgemm_attn_gflops > 0)
			snprintf(buf[28], 64, "%.2f", 100.0 * (flops / r->time_ns) / rf->sgemm_attn_gflops);
		if (rf && roofline_bw_for(rf, kv) > 0)
			snprintf(buf[29], 64, "%.2f", 100.0 * (bytes / r->time_ns) / roofline_bw_for(rf, kv));
	}
	snprintf(buf[17], 64, "%llu", (unsigned long long)point_kv_bytes(p));
	snprintf(buf[18], 64, "%llu", (unsigned long long)r->workspace_bytes);
	fields[19] = r->status;
	fields[21] = r->timing ? r->timing : "wall";
	snprintf(buf[23], 64, "%d", r->threads);
	if (r->peak_device_bytes)
		snprintf(buf[24], 64, "%llu", (unsigned long long)r->peak_device_bytes);
	snprintf(buf[25], 64, "%.0f", flops);
	snprintf(buf[26], 64, "%.0f", bytes);
	char *reps = NULL;
	if (r->measured && r->rep_ns && r->reps > 0) {
		reps = malloc((size_t)r->reps * 24 + 1);
		if (reps) {
			size_t n = 0;
			for (int i = 0; i < r->reps; i++)
				n += (size_t)sprintf(reps + n, "%s%.1f", i ? " " : "", r->rep_ns[i]);
			fields[27] = reps;
		}
	}
	int rc = table_write_row(f, fields, N);
	free(reps);
	return rc;
}

/* ---- reading results.csv back ------------------------------------------ */

static int key_int(const char *path, int line, const char *col, const char *val, int64_t lo, int64_t hi, int64_t *out,
                   attn_err *e)
{
	if (!parse_i64(val, out) || *out < lo || *out > hi)
		return attn_errf(e, "%s: line %d, column %s: '%.40s' is not an integer in %lld..%lld", path, line, col,
		                 val, (long long)lo, (long long)hi);
	return 0;
}

int results_read(const char *path, results_file *rf, attn_err *e)
{
	memset(rf, 0, sizeof *rf);
	if (table_read(path, &rf->t, e))
		return EXIT_INPUT;
	const table *t = &rf->t;
	enum { NC = 20 }; /* the contract's columns come first in results_columns */
	int col[NC];
	for (int c = 0; c < NC; c++) {
		col[c] = table_col(t, results_columns[c]);
		if (col[c] < 0) {
			attn_errf(e, "%s: line 1, column %s: missing (a results.csv has every contract column)", path,
			          results_columns[c]);
			results_file_free(rf);
			return EXIT_INPUT;
		}
	}
	rf->same_columns = t->ncols == results_ncolumns;
	for (int c = 0; rf->same_columns && c < t->ncols; c++)
		rf->same_columns = !strcmp(t->header[c], results_columns[c]);
	rf->keys = calloc(t->nrows ? (size_t)t->nrows : 1, sizeof *rf->keys);
	if (!rf->keys) {
		results_file_free(rf);
		return attn_errf(e, "%s: out of memory", path);
	}
	/* shape limits: as large as anything a sweep can be asked for */
	static const int64_t hi[7] = {1 << 20, 1 << 20, 1 << 20, 1 << 16, (int64_t)1 << 40, (int64_t)1 << 40, 1};
	static const int64_t lo[7] = {1, 1, 1, 1, 1, 1, 0};
	for (int r = 0; r < t->nrows; r++) {
		char *const *cells = t->rows[r];
		results_key *k = &rf->keys[r];
		const int line = r + 2;
		int64_t *ints[7] = {&k->batch,   &k->n_heads,   &k->n_kv_heads, &k->head_dim,
		                    &k->seq_len, &k->cache_len, &k->causal};
		k->backend = cells[col[0]];
		k->phase = cells[col[2]];
		k->dtype = cells[col[10]];
		k->status = cells[col[19]];
		const char *bad_col = NULL, *why = "";
		attn_dtype dt;
		if (!k->backend[0])
			bad_col = "backend", why = "is empty";
		else if (strcmp(k->phase, "prefill") && strcmp(k->phase, "decode") && strcmp(k->phase, "attend"))
			bad_col = "phase", why = "is not prefill, decode or attend";
		else if (!attn_dtype_parse(k->dtype, &dt))
			bad_col = "dtype", why = "is not f32, f16 or bf16";
		else if (strcmp(k->status, "ok") && strncmp(k->status, "skipped: ", 9) &&
		         strncmp(k->status, "error: ", 7))
			bad_col = "status", why = "is not ok, skipped: ... or error: ...";
		if (bad_col) {
			attn_errf(e, "%s: line %d, column %s: '%.40s' %s", path, line, bad_col,
			          cells[table_col(t, bad_col)], why);
			results_file_free(rf);
			return EXIT_INPUT;
		}
		for (int i = 0; i < 7; i++)
			if (key_int(path, line, results_columns[3 + i], cells[col[3 + i]], lo[i], hi[i], ints[i], e)) {
				results_file_free(rf);
				return EXIT_INPUT;
			}
		k->ok = !strcmp(k->status, "ok");
		double tn;
		if (k->ok && (!parse_f64(cells[col[11]], &tn) || !(tn > 0))) {
			attn_errf(e, "%s: line %d, column time_ns: '%.40s' is not a positive number (status ok)", path,
			          line, cells[col[11]]);
			results_file_free(rf);
			return EXIT_INPUT;
		}
	}
	return 0;
}

void results_file_free(results_file *rf)
{
	table_free(&rf->t);
	free(rf->keys);
	rf->keys = NULL;
}

void results_marker_path(const char *csv_path, char *buf, size_t len)
{
	const char *slash = strrchr(csv_path, '/');
	snprintf(buf, len, "%.*sresults.incomplete", slash ? (int)(slash - csv_path + 1) : 0, csv_path);
}

int results_key_is(const results_key *k, const char *backend, const sweep_point *p)
{
	const attn_shape *s = &p->shape;
	return !strcmp(k->backend, backend) && !strcmp(k->phase, phase_name(p->phase)) &&
	       !strcmp(k->dtype, dtype_name(s->dtype)) && k->batch == s->batch && k->n_heads == s->n_heads &&
	       k->n_kv_heads == s->n_kv_heads && k->head_dim == s->head_dim && k->seq_len == p->seq_len &&
	       k->cache_len == p->cache_len && k->causal == s->causal;
}

/* ---- machine.json ------------------------------------------------------- */

static void json_str(FILE *f, const char *key, const char *val, int last)
{
	fprintf(f, "  \"%s\": \"", key);
	for (const char *p = val ? val : ""; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if ((unsigned char)*p < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*p);
		else
			fputc(*p, f);
	}
	fprintf(f, "\"%s\n", last ? "" : ",");
}

void cpu_model(char *buf, size_t len)
{
	snprintf(buf, len, "unknown");
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return;
	char line[512];
	while (fgets(line, sizeof line, f)) {
		if (!strncmp(line, "model name", 10)) {
			char *c = strchr(line, ':');
			if (c) {
				c++;
				while (*c == ' ')
					c++;
				c[strcspn(c, "\n")] = 0;
				snprintf(buf, len, "%s", c);
			}
			break;
		}
	}
	fclose(f);
}

#ifndef ATTN_GIT_COMMIT
#define ATTN_GIT_COMMIT "unknown"
#endif
#ifndef ATTN_BUILD_FLAGS
#define ATTN_BUILD_FLAGS "unknown"
#endif

const char *build_flags(void)
{
	return ATTN_BUILD_FLAGS;
}

const char *build_commit(void)
{
	return ATTN_GIT_COMMIT;
}

int machine_write(const char *dir, int threads, const char *devices, const roofline *rf)
{
	char path[4200], tmp[4300], cpu[256], host[256] = "", date[64], num[32];
	snprintf(path, sizeof path, "%s/machine.json", dir);
	snprintf(tmp, sizeof tmp, "%s.partial", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	struct utsname u;
	char os[600] = "unknown";
	if (uname(&u) == 0)
		snprintf(os, sizeof os, "%s %s %s", u.sysname, u.release, u.machine);
	gethostname(host, sizeof host - 1);
	cpu_model(cpu, sizeof cpu);
	time_t now = time(NULL);
	strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	fprintf(f, "{\n");
	json_str(f, "cpu_model", cpu, 0);
	snprintf(num, sizeof num, "%ld", sysconf(_SC_NPROCESSORS_ONLN));
	json_str(f, "cpus_online", num, 0);
	snprintf(num, sizeof num, "%d", threads);
	json_str(f, "threads_used", num, 0);
	snprintf(num, sizeof num, "%llu", (unsigned long long)machine_ram_bytes());
	json_str(f, "ram_bytes", num, 0);
	json_str(f, "blas", openblas_get_config(), 0);
	snprintf(num, sizeof num, "%d", threads);
	json_str(f, "blas_threads", num, 0);
	json_str(f, "compiler", __VERSION__, 0);
	json_str(f, "build_flags", ATTN_BUILD_FLAGS, 0);
	json_str(f, "git_commit", ATTN_GIT_COMMIT, 0);
	json_str(f, "date_utc", date, 0);
	json_str(f, "hostname", host, 0);
	json_str(f, "os", os, 0);
	if (rf) {
		snprintf(num, sizeof num, "%.4f", rf->sgemm_attn_gflops);
		json_str(f, "roofline_sgemm_attn_gflops", num, 0);
		snprintf(num, sizeof num, "%.4f", rf->sgemm_square_gflops);
		json_str(f, "roofline_sgemm_square_gflops", num, 0);
		snprintf(num, sizeof num, "%.4f", rf->dram_gbs);
		json_str(f, "roofline_dram_gbs", num, 0);
		snprintf(num, sizeof num, "%.4f", rf->llc_gbs);
		json_str(f, "roofline_llc_gbs", num, 0);
		snprintf(num, sizeof num, "%llu", (unsigned long long)rf->llc_bytes);
		json_str(f, "roofline_llc_bytes", num, 0);
	}
	json_str(f, "devices", devices, 1);
	fprintf(f, "}\n");
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		remove(tmp);
		return -1;
	}
	return 0;
}
