/* roofline.c - see roofline.h.
 *
 * The figures, each timed by Google Benchmark (real time, the fastest of the
 * repetitions: these are ceilings, and on a shared machine a neighbour only
 * ever slows a repetition down; a median taken in a busy second put decode
 * rows at 125% of a DRAM figure measured then):
 *   multiply-add peak       every thread running independent vector
 *                           multiply-adds on registers (fma_peak.c): the
 *                           compute ceiling, which no kernel can pass (the
 *                           sgemms are references a kernel can beat: the
 *                           blocked backend reached 108% of the attention-
 *                           shaped one in a fast second)
 *   sgemm attention-shaped  C[4096x4096] = A[4096x128] * B[4096x128]^T, the
 *                           QK^T of one head at seq 4096, head_dim 128
 *   sgemm square            2048 x 2048 x 2048
 *   read bandwidth curve    a parallel sum over working sets doubling from
 *                           16 KiB to max(4 x LLC, 256 MiB) (at most a quarter
 *                           of RAM), each a prefix of one array, passes
 *                           repeated inside one parallel region; the DRAM
 *                           figure is its last point, the LLC figure its point
 *                           at an array larger than the private L2 caches
 *                           together but well inside the LLC
 * FLOPs are 2*M*N*K; bandwidth is bytes read / time (GB = 1e9 bytes). */
#include "run/roofline.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cblas.h>
#include <omp.h>

#include "run/fma_peak.h"
#include "run/gbench_shim.h"
#include "lib/interrupt.h"
#include "model/machine.h"
#include "lib/files.h"
#include "lib/table.h"
#include "lib/util.h"

#define ROOF_REPS         7
#define ROOF_MIN_GEMM_S   0.1
#define ROOF_MIN_CURVE_S  0.02
#define ROOF_CURVE_PASSES 2             /* the curve twice over, each point its fastest of both */
#define ROOF_CURVE_FIRST  (16ull << 10) /* within any L1 data cache of two cores */
#define ROOF_PASS_BYTES   (8ull << 20)
#define ROOF_ATTN_N       4096
#define ROOF_ATTN_K       128
#define ROOF_SQUARE_N     2048
#define ROOF_DRAM_MIN     (256ull << 20)
#define ROOF_FILE_MAX     65536 /* a cache file is a few hundred bytes */
#define ROOF_FMA_STEPS    20000
/* v2: the bandwidth curve; v3: fastest repetitions; v4: the multiply-add peak; v5: the curve
 * twice over; v6: the curve's array in huge pages */
#define ROOF_KEY_VERSION "roofline-v6"

/* ---- cache sizes ------------------------------------------------------------ */

/* A sysfs cache size such as "32768K" or "32M" in bytes (0 if unreadable). */
static uint64_t read_size_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	char line[64] = "";
	const int ok = fgets(line, sizeof line, f) != NULL;
	fclose(f);
	uint64_t b;
	line[strcspn(line, "\n")] = 0;
	return ok && parse_bytes(line, &b) ? b : 0;
}

/* The data or unified cache of cpu0 at the highest level: its sysfs index,
 * level and size. Returns 0 or -1. */
static int sysfs_llc(int *index, int *level, uint64_t *size, uint64_t *l2)
{
	*index = -1;
	*level = 0;
	*size = *l2 = 0;
	for (int i = 0; i < 16; i++) {
		char p[128], type[64], lv[16];
		snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
		if (file_read_line(p, type, sizeof type))
			continue;
		if (strcmp(type, "Data") && strcmp(type, "Unified"))
			continue;
		snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
		int64_t l;
		if (file_read_line(p, lv, sizeof lv) || !parse_i64(lv, &l))
			continue;
		snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
		const uint64_t b = read_size_file(p);
		if (!b)
			continue;
		if (l == 2)
			*l2 = b;
		if (l > *level) {
			*level = (int)l;
			*index = i;
			*size = b;
		}
	}
	return *index >= 0 && *level >= 2 ? 0 : -1;
}

/* How many separate instances of the cache at sysfs index idx the online
 * CPUs have (distinct shared_cpu_list values); at least 1. */
static int sysfs_instances(int idx)
{
	enum { MAXI = 256 };
	char seen[MAXI][64];
	int n = 0;
	DIR *d = opendir("/sys/devices/system/cpu");
	if (!d)
		return 1;
	struct dirent *e;
	while ((e = readdir(d)) && n < MAXI) {
		int64_t cpu;
		if (strncmp(e->d_name, "cpu", 3) || !parse_i64(e->d_name + 3, &cpu))
			continue;
		char p[128], list[64];
		snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu%lld/cache/index%d/shared_cpu_list", (long long)cpu,
		         idx);
		if (file_read_line(p, list, sizeof list))
			continue;
		int dup = 0;
		for (int i = 0; i < n && !dup; i++)
			dup = !strcmp(seen[i], list);
		if (!dup)
			snprintf(seen[n++], sizeof seen[0], "%s", list);
	}
	closedir(d);
	return n > 0 ? n : 1;
}

/* The last-level cache the threads can use, and one core's L2. The kernel's
 * description (sysfs) comes first: it gives the cache one core shares (one
 * CCX on AMD), where sysconf may report a whole socket's; threads spread over
 * several LLC instances use up to min(threads, instances) of them. sysconf
 * is the fallback; without an L3, the L2 is the LLC. */
static void cache_sizes(int threads, uint64_t *llc, uint64_t *l2)
{
	int idx, level;
	uint64_t size;
	if (sysfs_llc(&idx, &level, &size, l2) == 0) {
		const int inst = sysfs_instances(idx);
		*llc = size * (uint64_t)(threads < inst ? threads : inst);
		if (!*l2)
			*l2 = size;
		return;
	}
	const long s3 = sysconf(_SC_LEVEL3_CACHE_SIZE), s2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
	*l2 = s2 > 0 ? (uint64_t)s2 : 1ull << 20;
	*llc = s3 > 0 ? (uint64_t)s3 : *l2;
}

/* ---- timing through Google Benchmark ----------------------------------------- */

typedef struct roof_ctx {
	int threads;
	/* sgemm */
	int m, n, k, trans_b;
	const float *a, *b;
	float *c;
	/* read */
	const float *x;
	size_t nx;
	int passes;
	/* multiply-add peak: FLOPs of one iteration */
	double fma_flops;
	/* collected */
	double rep_ns[ROOF_REPS * 2];
	int nrep, failed;
} roof_ctx;

static volatile double roof_sink;

static void sgemm_call(const roof_ctx *c)
{
	cblas_sgemm(CblasRowMajor, CblasNoTrans, c->trans_b ? CblasTrans : CblasNoTrans, c->m, c->n, c->k, 1.0f, c->a,
	            c->k, c->b, c->trans_b ? c->k : c->n, 0.0f, c->c, c->n);
}

/* Google Benchmark's loop condition, ended with an error on an interrupt. */
static int roof_running(gb_state *st)
{
	if (!gb_keep_running(st))
		return 0;
	if (attn_stop_signal) {
		gb_skip_with_error(st, "interrupted");
		return 0;
	}
	return 1;
}

static void sgemm_body(gb_state *st, void *arg)
{
	roof_ctx *c = arg;
	while (roof_running(st)) {
		sgemm_call(c);
	}
	roof_sink = c->c[0];
}

/* One iteration: ROOF_FMA_STEPS steps of the multiply-add chains on every
 * thread at once. */
static void fma_body(gb_state *st, void *arg)
{
	roof_ctx *c = arg;
	while (roof_running(st)) {
		double flops = 0;
#pragma omp parallel num_threads(c->threads) reduction(+ : flops)
		flops += fma_burst(ROOF_FMA_STEPS);
		c->fma_flops = flops;
	}
}

/* The part of n elements that thread t of nt owns. */
static void part(size_t n, int t, int nt, size_t *lo, size_t *hi)
{
	*lo = n / (size_t)nt * (size_t)t;
	*hi = t == nt - 1 ? n : n / (size_t)nt * (size_t)(t + 1);
}

/* passes sums of x[lo, hi) with 32 independent accumulators (one add
 * chain per lane would bound the loop by add latency, not by the loads).
 * Compiled for AVX-512, AVX2 and the baseline and chosen when first called:
 * cache bandwidth is only reached with the widest loads the core has, and
 * the default build targets the baseline. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static float
sum_part(const float *x, size_t lo, size_t hi, int passes)
{
	float acc[32] = {0};
	for (int p = 0; p < passes; p++) {
		size_t i = lo;
		for (; i + 32 <= hi; i += 32) {
#pragma omp simd
			for (int j = 0; j < 32; j++)
				acc[j] += x[i + j];
		}
		for (; i < hi; i++)
			acc[0] += x[i];
	}
	float s = 0;
	for (int j = 0; j < 32; j++)
		s += acc[j];
	return s;
}

/* passes passes over x: each thread sums its own contiguous part, again
 * and again within one parallel region (for a working set of a few KiB, a
 * parallel region per pass would cost more than the pass). Returns the
 * seconds between two barriers inside the region: the reads alone, without
 * the wake-up of the team, which on a shared machine can take a scheduler
 * slice (milliseconds) and would otherwise flatten the whole curve to
 * bytes / wake-up time. *sum keeps the reads from being optimised away. */
static double read_pass(const float *x, size_t n, int threads, int passes, double *sum)
{
	double total = 0, t0 = 0, t1 = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
	{
		size_t lo, hi;
		part(n, omp_get_thread_num(), omp_get_num_threads(), &lo, &hi);
#pragma omp barrier
#pragma omp master
		t0 = omp_get_wtime();
		const float s = sum_part(x, lo, hi, passes);
#pragma omp barrier
#pragma omp master
		t1 = omp_get_wtime();
		total += s;
	}
	*sum += total;
	return t1 - t0;
}

/* One iteration: the passes, timed by read_pass (manual time). */
static void read_body(gb_state *st, void *arg)
{
	roof_ctx *c = arg;
	double s = 0;
	while (roof_running(st)) {
		gb_set_iteration_time(st, read_pass(c->x, c->nx, c->threads, c->passes, &s));
	}
	roof_sink = s;
}

static void roof_collect(const gb_run *r, void *user)
{
	roof_ctx *c = user;
	if (r->error)
		c->failed = 1;
	else if (!r->aggregate && c->nrep < (int)(sizeof c->rep_ns / sizeof c->rep_ns[0]))
		c->rep_ns[c->nrep++] = r->real_time_ns;
}

/* The fastest time per call in ns of fn over Google Benchmark's repetitions
 * (0 if none was reported). */
static double time_best(const char *name, gb_func fn, roof_ctx *c, double min_time, int manual)
{
	c->nrep = c->failed = 0;
	gb_bench *b = gb_register(name, fn, c);
	gb_repetitions(b, ROOF_REPS);
	gb_min_time(b, min_time);
	if (manual)
		gb_use_manual_time(b);
	else
		gb_use_real_time(b);
	gb_run_all(roof_collect, c);
	gb_clear();
	if (c->failed || c->nrep == 0)
		return 0;
	double best = c->rep_ns[0];
	for (int i = 1; i < c->nrep; i++)
		best = c->rep_ns[i] < best ? c->rep_ns[i] : best;
	return best;
}

/* Four decimals, as the cache file and machine.json store them, so that
 * every consumer divides by the same number. */
static double round4(double v)
{
	char b[64];
	snprintf(b, sizeof b, "%.4f", v);
	return strtod(b, NULL);
}

static double measure_sgemm(roof_ctx *c, int m, int n, int k, int trans_b, const char *name, char *err, size_t err_len)
{
	const size_t na = (size_t)m * (size_t)k, nb = (size_t)n * (size_t)k, nc = (size_t)m * (size_t)n;
	float *a = xalloc(na * sizeof(float)), *b = xalloc(nb * sizeof(float)), *cc = xalloc(nc * sizeof(float));
	double gflops = 0;
	if (!a || !b || !cc) {
		snprintf(err, err_len, "out of memory for the %s operands", name);
		goto out;
	}
	fill_uniform(a, na, 11, 0.5f);
	fill_uniform(b, nb, 12, 0.5f);
	c->m = m;
	c->n = n;
	c->k = k;
	c->trans_b = trans_b;
	c->a = a;
	c->b = b;
	c->c = cc;
	openblas_set_num_threads(c->threads);
	sgemm_call(c); /* warm-up: BLAS threads started, C's pages mapped */
	const double ns = time_best(name, sgemm_body, c, ROOF_MIN_GEMM_S, 0);
	if (ns > 0)
		gflops = round4(2.0 * m * n * (double)k / ns);
	else
		snprintf(err, err_len, "%s: no repetition was reported", name);
out:
	free(a);
	free(b);
	free(cc);
	return gflops;
}

/* Read bandwidth over working sets of bytes: a prefix of x (n floats, first
 * touched by the threads that read it, in the same parts as the full
 * array, which keeps each prefix's halves on their readers' side). */
static double measure_read(roof_ctx *c, const float *x, uint64_t bytes, const char *name, char *err, size_t err_len)
{
	const size_t n = (size_t)(bytes / sizeof(float));
	c->x = x;
	c->nx = n;
	/* at least 8 MiB read per iteration */
	c->passes = bytes >= ROOF_PASS_BYTES ? 1 : (int)(ROOF_PASS_BYTES / bytes);
	double warm = 0;
	(void)read_pass(x, n, c->threads, c->passes, &warm); /* warm-up: the prefix in the caches it fits */
	roof_sink = warm;
	const double ns = time_best(name, read_body, c, ROOF_MIN_CURVE_S, 1);
	if (ns > 0)
		return round4((double)n * sizeof(float) * c->passes / ns);
	snprintf(err, err_len, "%s: no repetition was reported", name);
	return 0;
}

/* The curve: working sets doubling from ROOF_CURVE_FIRST (and a whole number
 * of cache lines per thread) up to the DRAM array, which is the last point.
 * Measured ROOF_CURVE_PASSES times over, each point keeping its fastest: a
 * point's repetitions take a fraction of a second, and on a shared VM one
 * slow second set the DRAM figure 10% under what a cold decode read in the
 * same minute (112% of its ceiling); the passes are seconds apart. */
static int measure_curve(roof_ctx *c, roofline *r, char *err, size_t err_len)
{
	const size_t n = (size_t)(r->dram_array_bytes / sizeof(float));
	/* in huge pages, as the KV caches a decode reads: in 4 KiB pages the
	 * array read 10% slower from DRAM than a cold point's eviction buffer
	 * did in the same minute (25.9 against 28.3 GB/s, 2-CPU AVX-512 VM),
	 * and cold decodes came out at 101% of the DRAM ceiling. Not zeroed:
	 * the threads touch their own parts first. */
	float *x = xalloc_pages(n * sizeof(float));
	if (!x) {
		snprintf(err, err_len, "out of memory for the bandwidth array");
		return -1;
	}
#pragma omp parallel num_threads(c->threads)
	{
		size_t lo, hi;
		part(n, omp_get_thread_num(), omp_get_num_threads(), &lo, &hi);
		fill_uniform(x + lo, hi - lo, 21 + (uint64_t)omp_get_thread_num(), 0.5f);
	}
	const uint64_t unit = 64ull * (uint64_t)c->threads;
	int rc = 0;
	r->n_curve = 0;
	for (int pass = 0; pass < ROOF_CURVE_PASSES && !rc; pass++) {
		int i = 0;
		for (uint64_t b = ROOF_CURVE_FIRST; i < ROOF_CURVE_MAX; b *= 2) {
			uint64_t size = b < r->dram_array_bytes ? (b + unit - 1) / unit * unit : r->dram_array_bytes;
			if (i && size <= r->curve_bytes[i - 1])
				continue;
			char name[64];
			snprintf(name, sizeof name, "roofline/read_%llu", (unsigned long long)size);
			const double gbs = measure_read(c, x, size, name, err, err_len);
			if (gbs <= 0) {
				rc = -1;
				break;
			}
			r->curve_bytes[i] = size;
			r->curve_gbs[i] = pass == 0 || gbs > r->curve_gbs[i] ? gbs : r->curve_gbs[i];
			i++;
			if (size >= r->dram_array_bytes)
				break;
		}
		r->n_curve = i;
	}
	free(x);
	return rc;
}

int roofline_measure(int threads, roofline *r, char *err, size_t err_len)
{
	char key[sizeof r->key];
	roofline_key(threads, key, sizeof key);
	memset(r, 0, sizeof *r);
	snprintf(r->key, sizeof r->key, "%s", key);
	r->threads = threads;
	uint64_t llc, l2;
	cache_sizes(threads, &llc, &l2);
	r->llc_bytes = llc;
	/* DRAM: at least 4 x LLC and 256 MiB, at most a quarter of RAM */
	uint64_t dram = llc * 4 > ROOF_DRAM_MIN ? llc * 4 : ROOF_DRAM_MIN;
	const uint64_t ram = machine_ram_bytes();
	if (ram && dram > ram / 4)
		dram = ram / 4;
	/* LLC: a quarter of it, but twice the threads' L2 caches together when
	 * that is more, and never over half of it */
	uint64_t in_llc = llc / 4;
	if (in_llc < 2 * l2 * (uint64_t)threads)
		in_llc = 2 * l2 * (uint64_t)threads;
	if (in_llc > llc / 2)
		in_llc = llc / 2;
	const uint64_t unit = 64ull * (uint64_t)threads; /* whole cache lines per thread */
	r->dram_array_bytes = dram / unit * unit;
	r->llc_array_bytes = in_llc / unit * unit;
	if (!r->llc_array_bytes)
		r->llc_array_bytes = unit;
	char sz[3][32];
	fprintf(stderr, "roofline: %d threads, last-level cache %s, arrays %s (DRAM) and %s (cache)\n", threads,
	        fmt_bytes(llc, sz[0], sizeof sz[0]), fmt_bytes(r->dram_array_bytes, sz[1], sizeof sz[1]),
	        fmt_bytes(r->llc_array_bytes, sz[2], sizeof sz[2]));

	roof_ctx c;
	memset(&c, 0, sizeof c);
	c.threads = threads;
	const double t0 = now_s();
	const double fma_ns = time_best("roofline/fma_peak", fma_body, &c, ROOF_MIN_GEMM_S, 0);
	if (!(fma_ns > 0)) {
		snprintf(err, err_len, "roofline/fma_peak: no repetition was reported");
		return -1;
	}
	r->fma_gflops = round4(c.fma_flops / fma_ns);
	fprintf(stderr, "roofline: multiply-add peak (%s vectors, registers only): %.2f GFLOP/s\n", fma_isa(),
	        r->fma_gflops);
	r->sgemm_attn_gflops =
	    measure_sgemm(&c, ROOF_ATTN_N, ROOF_ATTN_N, ROOF_ATTN_K, 1, "roofline/sgemm_4096x4096x128", err, err_len);
	if (r->sgemm_attn_gflops <= 0)
		return -1;
	fprintf(stderr, "roofline: sgemm 4096x4096x128 (attention QK^T): %.2f GFLOP/s\n", r->sgemm_attn_gflops);
	r->sgemm_square_gflops = measure_sgemm(&c, ROOF_SQUARE_N, ROOF_SQUARE_N, ROOF_SQUARE_N, 0,
	                                       "roofline/sgemm_2048x2048x2048", err, err_len);
	if (r->sgemm_square_gflops <= 0)
		return -1;
	fprintf(stderr, "roofline: sgemm 2048x2048x2048 (square): %.2f GFLOP/s\n", r->sgemm_square_gflops);
	const double t1 = now_s();
	if (measure_curve(&c, r, err, err_len))
		return -1;
	/* the two figures of older runs, read off the curve: the last point,
	 * and the largest working set that is at most the cache array */
	r->dram_gbs = r->curve_gbs[r->n_curve - 1];
	r->llc_gbs = r->curve_gbs[0];
	for (int i = 0; i < r->n_curve && r->curve_bytes[i] <= r->llc_array_bytes; i++)
		r->llc_gbs = r->curve_gbs[i];
	char lo[32], hi[32];
	fprintf(stderr,
	        "roofline: read bandwidth over %d working sets from %s to %s: %.2f to %.2f GB/s (curve in %.1f s)\n",
	        r->n_curve, fmt_bytes(r->curve_bytes[0], lo, sizeof lo),
	        fmt_bytes(r->curve_bytes[r->n_curve - 1], hi, sizeof hi), r->curve_gbs[0], r->dram_gbs, now_s() - t1);
	fprintf(stderr, "roofline: read bandwidth, DRAM: %.2f GB/s\n", r->dram_gbs);
	fprintf(stderr, "roofline: read bandwidth, last-level cache: %.2f GB/s (measured in %.1f s)\n", r->llc_gbs,
	        now_s() - t0);
	return 0;
}

/* ---- the cache ----------------------------------------------------------------- */

void roofline_key(int threads, char *buf, size_t len)
{
	char host[256] = "", cpu[256];
	gethostname(host, sizeof host - 1);
	cpu_model(cpu, sizeof cpu);
	snprintf(buf, len, "%s|host=%s|cpu=%s|threads=%d|cc=%s|flags=%s|commit=%s|blas=%s", ROOF_KEY_VERSION, host, cpu,
	         threads, __VERSION__, build_flags(), build_commit(), openblas_get_config());
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
}

int roofline_cache_path(int threads, char *dir, size_t dir_len, char *path, size_t path_len)
{
	char d[4096];
	const char *env = getenv("ATTNBENCH_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int n;
	if (env && *env)
		n = snprintf(d, sizeof d, "%s", env);
	else if (xdg && xdg[0] == '/') /* the XDG spec: a relative path is ignored */
		n = snprintf(d, sizeof d, "%s/attnbench", xdg);
	else if (home && *home)
		n = snprintf(d, sizeof d, "%s/.cache/attnbench", home);
	else
		return -1;
	if (n < 0 || (size_t)n >= sizeof d)
		return -1;
	/* one file per key (FNV-1a): machines sharing a home directory and
	 * several builds keep their own */
	char key[1024];
	roofline_key(threads, key, sizeof key);
	uint64_t h = 0xcbf29ce484222325ull;
	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	n = snprintf(path, path_len, "%s/roofline-%016llx.csv", d, (unsigned long long)h);
	if (n < 0 || (size_t)n >= path_len)
		return -1;
	if (dir && (size_t)snprintf(dir, dir_len, "%s", d) >= dir_len)
		return -1;
	return 0;
}

static const char *const roof_cols[] = {"threads",   "sgemm_attn_gflops", "sgemm_square_gflops", "dram_gbs",  "llc_gbs",
                                        "llc_bytes", "dram_array_bytes",  "llc_array_bytes",     "fma_gflops"};
enum { ROOF_NCOLS = 9 };

/* The nine values of roof_cols as strings. */
static void roof_fields(const roofline *r, char buf[ROOF_NCOLS][32])
{
	snprintf(buf[0], 32, "%d", r->threads);
	snprintf(buf[1], 32, "%.4f", r->sgemm_attn_gflops);
	snprintf(buf[2], 32, "%.4f", r->sgemm_square_gflops);
	snprintf(buf[3], 32, "%.4f", r->dram_gbs);
	snprintf(buf[4], 32, "%.4f", r->llc_gbs);
	snprintf(buf[5], 32, "%llu", (unsigned long long)r->llc_bytes);
	snprintf(buf[6], 32, "%llu", (unsigned long long)r->dram_array_bytes);
	snprintf(buf[7], 32, "%llu", (unsigned long long)r->llc_array_bytes);
	snprintf(buf[8], 32, "%.4f", r->fma_gflops);
}

int roofline_write_csv(FILE *f, const roofline *r)
{
	char buf[ROOF_NCOLS][32], curve[ROOF_CURVE_MAX * 48];
	const char *hdr[ROOF_NCOLS + 1], *row[ROOF_NCOLS + 1];
	roof_fields(r, buf);
	roofline_curve_format(r, curve, sizeof curve);
	for (int i = 0; i < ROOF_NCOLS; i++) {
		hdr[i] = roof_cols[i];
		row[i] = buf[i];
	}
	hdr[ROOF_NCOLS] = "bw_curve";
	row[ROOF_NCOLS] = curve;
	return table_write_row(f, hdr, ROOF_NCOLS + 1) || table_write_row(f, row, ROOF_NCOLS + 1) ? -1 : 0;
}

int roofline_save(const char *path, const roofline *r)
{
	file_out out;
	attn_err e = {{0}};
	if (file_out_open(&out, path, &e))
		return -1;
	char buf[ROOF_NCOLS][32];
	const char *hdr[ROOF_NCOLS + 2], *row[ROOF_NCOLS + 2];
	roof_fields(r, buf);
	char curve[ROOF_CURVE_MAX * 48];
	roofline_curve_format(r, curve, sizeof curve);
	hdr[0] = "key";
	row[0] = r->key;
	for (int i = 0; i < ROOF_NCOLS; i++) {
		hdr[i + 1] = roof_cols[i];
		row[i + 1] = buf[i];
	}
	hdr[ROOF_NCOLS + 1] = "bw_curve";
	row[ROOF_NCOLS + 1] = curve;
	if (table_write_row(out.f, hdr, ROOF_NCOLS + 2) || table_write_row(out.f, row, ROOF_NCOLS + 2)) {
		file_out_abort(&out);
		return -1;
	}
	return file_out_commit(&out, &e) ? -1 : 0;
}

int roofline_load(const char *path, const char *key, roofline *r, char *why, size_t why_len)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		snprintf(why, why_len, "%s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > ROOF_FILE_MAX) {
		snprintf(why, why_len, "not a cache file (not a regular file, or over %d bytes)", ROOF_FILE_MAX);
		return -1;
	}
	table t;
	attn_err e = {{0}};
	if (table_read(path, &t, &e)) {
		snprintf(why, why_len, "%s", e.msg);
		return -1;
	}
	roofline v;
	memset(&v, 0, sizeof v);
	int rc = -1;
	const int ck = table_col(&t, "key");
	if (t.nrows != 1 || ck < 0) {
		snprintf(why, why_len, "not one row with a key column");
		goto out;
	}
	if (strcmp(t.rows[0][ck], key) != 0) {
		snprintf(why, why_len, "measured on another machine, build or thread count");
		goto out;
	}
	snprintf(v.key, sizeof v.key, "%s", key);
	double *fig[4] = {&v.sgemm_attn_gflops, &v.sgemm_square_gflops, &v.dram_gbs, &v.llc_gbs};
	uint64_t *sz[3] = {&v.llc_bytes, &v.dram_array_bytes, &v.llc_array_bytes};
	for (int i = 0; i < ROOF_NCOLS; i++) {
		const int c = table_col(&t, roof_cols[i]);
		const char *cell = c >= 0 ? t.rows[0][c] : "";
		int64_t n = 0;
		double d = 0;
		const int real = (i >= 1 && i <= 4) || i == 8;
		const int ok = real ? parse_f64(cell, &d) && d > 0 : parse_i64(cell, &n) && n > 0;
		if (!ok) {
			snprintf(why, why_len, "column %s: '%.40s' is not a positive number", roof_cols[i], cell);
			goto out;
		}
		if (i == 0)
			v.threads = (int)n;
		else if (i <= 4)
			*fig[i - 1] = round4(d);
		else if (i == 8)
			v.fma_gflops = round4(d);
		else
			*sz[i - 5] = (uint64_t)n;
	}
	const int cc = table_col(&t, "bw_curve");
	if (cc < 0 || roofline_curve_parse(t.rows[0][cc], &v) != 0 || v.n_curve == 0) {
		snprintf(why, why_len, "column bw_curve: not a list of BYTES:GBS points");
		goto out;
	}
	*r = v;
	rc = 0;
out:
	table_free(&t);
	return rc;
}

int roofline_get(int threads, int fresh, roofline *r, char *err, size_t err_len)
{
	char dir[4096], path[4300];
	const int cached = roofline_cache_path(threads, dir, sizeof dir, path, sizeof path) == 0;
	if (!cached) {
		fprintf(stderr, "roofline: measuring (no cache directory: set ATTNBENCH_CACHE_DIR, XDG_CACHE_HOME or "
		                "HOME to keep the result)\n");
	} else if (!fresh) {
		char key[1024], why[600];
		roofline_key(threads, key, sizeof key);
		if (roofline_load(path, key, r, why, sizeof why) == 0) {
			fprintf(stderr,
			        "roofline: reusing %s (%.2f GFLOP/s sgemm, %.2f GB/s DRAM; `attnbench roofline` "
			        "measures again)\n",
			        path, r->sgemm_attn_gflops, r->dram_gbs);
			return 0;
		}
		if (access(path, F_OK) == 0)
			fprintf(stderr, "roofline: ignoring %s: %s\n", path, why);
		fprintf(stderr, "roofline: measuring (cached in %s)\n", path);
	} else {
		fprintf(stderr, "roofline: measuring (cached in %s)\n", path);
	}
	if (roofline_measure(threads, r, err, err_len))
		return -1;
	if (cached && (mkdir_p(dir) != 0 || roofline_save(path, r) != 0))
		fprintf(stderr, "roofline: %s: cannot write the cache: %s\n", path, strerror(errno));
	return 0;
}

/* ---- attnbench roofline ------------------------------------------------------------ */

int roofline_run(int threads, const char *out_dir)
{
	char err[512] = "", csv[4200] = "";
	attn_err e = {{0}};
	if (out_dir) {
		snprintf(csv, sizeof csv, "%s/roofline.csv", out_dir);
		if (file_out_check(csv, &e)) {
			fprintf(stderr, "attnbench roofline: %s\n", e.msg);
			return EXIT_INPUT;
		}
		if (mkdir_p(out_dir) != 0) {
			fprintf(stderr, "attnbench roofline: %s: cannot create the output directory: %s\n", out_dir,
			        strerror(errno));
			return EXIT_INPUT;
		}
		remove(csv); /* no stale complete-looking file if the measurement dies */
	}
	roofline r;
	if (roofline_get(threads, 1, &r, err, sizeof err)) {
		fprintf(stderr, "attnbench roofline: %s\n", err);
		return EXIT_INPUT;
	}
	char b[3][32];
	printf("roofline: %d threads, last-level cache %s\n", r.threads, fmt_bytes(r.llc_bytes, b[0], sizeof b[0]));
	printf("%-44s %12s  %s\n", "figure", "value", "unit");
	printf("%-44s %12.2f  %s\n", "multiply-add peak (registers only)", r.fma_gflops, "GFLOP/s");
	printf("%-44s %12.2f  %s\n", "sgemm 4096x4096x128, A B^T (attention QK^T)", r.sgemm_attn_gflops, "GFLOP/s");
	printf("%-44s %12.2f  %s\n", "sgemm 2048x2048x2048 (square)", r.sgemm_square_gflops, "GFLOP/s");
	printf("%-44s %12.2f  GB/s, %s array\n", "read bandwidth, DRAM", r.dram_gbs,
	       fmt_bytes(r.dram_array_bytes, b[1], sizeof b[1]));
	printf("%-44s %12.2f  GB/s, %s array\n", "read bandwidth, last-level cache", r.llc_gbs,
	       fmt_bytes(r.llc_array_bytes, b[2], sizeof b[2]));
	for (int i = 0; i < r.n_curve; i++) {
		char what[64];
		snprintf(what, sizeof what, "read bandwidth, working set %s",
		         fmt_bytes(r.curve_bytes[i], b[0], sizeof b[0]));
		printf("%-44s %12.2f  GB/s\n", what, r.curve_gbs[i]);
	}
	if (!out_dir)
		return EXIT_PASS;
	file_out out;
	int rc = file_out_open(&out, csv, &e);
	if (!rc && roofline_write_csv(out.f, &r) != 0) {
		file_out_abort(&out);
		rc = attn_errf(&e, "%s: write error", csv);
	}
	if (rc || file_out_commit(&out, &e)) {
		fprintf(stderr, "attnbench roofline: %s\n", e.msg);
		return EXIT_INPUT;
	}
	printf("wrote %s\n", csv);
	return EXIT_PASS;
}
