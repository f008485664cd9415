/* machine.c - see machine.h. One table of keys serves the writer (in its
 * order) and the reader (by name). */
#include "model/machine.h"
#include "lib/files.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <cblas.h>
#include <jansson.h>

#define MACHINE_MAX_BYTES (1 << 20)
/* The bandwidth curve: an array of [bytes, GB/s] pairs, sizes increasing. */
#define ROOF_CURVE_KEY "roofline_bw_curve"

double roofline_flops_ceiling(const roofline *r)
{
	return fmax(r->fma_gflops, fmax(r->sgemm_attn_gflops, r->sgemm_square_gflops));
}

double roofline_bw_for(const roofline *r, uint64_t bytes, int cold)
{
	if (cold) { /* the best figure well past the LLC, else the last */
		double best = 0;
		for (int i = 0; i < r->n_curve; i++)
			if (r->curve_bytes[i] >= 2 * r->llc_bytes && r->curve_gbs[i] > best)
				best = r->curve_gbs[i];
		if (best > 0)
			return best;
		bytes = UINT64_MAX;
	}
	if (r->n_curve <= 0)
		return bytes <= r->llc_bytes ? r->llc_gbs : r->dram_gbs;
	int i = 0;
	while (i + 1 < r->n_curve && r->curve_bytes[i + 1] <= bytes)
		i++;
	double best = 0;
	for (int j = i; j < r->n_curve; j++)
		best = r->curve_gbs[j] > best ? r->curve_gbs[j] : best;
	return best;
}

void roofline_curve_format(const roofline *r, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = 0;
	for (int i = 0; i < r->n_curve && n < len; i++) {
		const int w = snprintf(buf + n, len - n, "%s%llu:%.4f", i ? " " : "",
		                       (unsigned long long)r->curve_bytes[i], r->curve_gbs[i]);
		if (w < 0)
			break;
		n += (size_t)w;
	}
}

int roofline_curve_parse(const char *s, roofline *r)
{
	int n = 0;
	while (*s) {
		if (n == ROOF_CURVE_MAX)
			return -1;
		char *end;
		errno = 0;
		const unsigned long long b = strtoull(s, &end, 10);
		if (end == s || *end != ':' || errno || b == 0 || (n && b <= r->curve_bytes[n - 1]))
			return -1;
		s = end + 1;
		const double g = strtod(s, &end);
		if (end == s || !(g > 0) || !isfinite(g) || (*end && *end != ' '))
			return -1;
		r->curve_bytes[n] = b;
		r->curve_gbs[n++] = g;
		s = *end ? end + 1 : end;
	}
	r->n_curve = n;
	return 0;
}

/* ---- this machine and build ------------------------------------------------ */

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

/* Not in machine.json before the multiply-add peak was measured: the one
 * roofline key a file may lack. */
#define FMA_KEY "roofline_fma_gflops"

/* ---- the keys ---------------------------------------------------------------- */

/* How a key's value is typed: text, an integer >= 0 (int64_t, -1 absent),
 * or a roofline figure (a double, or the uint64_t llc_bytes). */
enum mkind { MK_TEXT, MK_INT, MK_PEAK, MK_PEAK_BYTES };

typedef struct mkey {
	const char *name;
	enum mkind kind;
	size_t off; /* of the field in machine_info */
} mkey;

#define MK(name, kind, field)                                                                                          \
	{                                                                                                              \
		name, kind, offsetof(machine_info, field)                                                              \
	}
/* In the order machine_write writes them; "devices" stays last. */
static const mkey mkeys[] = {
    MK("cpu_model", MK_TEXT, cpu_model),
    MK("cpus_online", MK_INT, cpus_online),
    MK("threads_used", MK_INT, threads_used),
    MK("ram_bytes", MK_INT, ram_bytes),
    MK("blas", MK_TEXT, blas),
    MK("blas_threads", MK_INT, blas_threads),
    MK("compiler", MK_TEXT, compiler),
    MK("build_flags", MK_TEXT, build_flags),
    MK("git_commit", MK_TEXT, git_commit),
    MK("date_utc", MK_TEXT, date_utc),
    MK("hostname", MK_TEXT, hostname),
    MK("os", MK_TEXT, os),
    MK("roofline_sgemm_attn_gflops", MK_PEAK, peaks.sgemm_attn_gflops),
    MK("roofline_sgemm_square_gflops", MK_PEAK, peaks.sgemm_square_gflops),
    MK("roofline_dram_gbs", MK_PEAK, peaks.dram_gbs),
    MK("roofline_llc_gbs", MK_PEAK, peaks.llc_gbs),
    MK("roofline_llc_bytes", MK_PEAK_BYTES, peaks.llc_bytes),
    MK(FMA_KEY, MK_PEAK, peaks.fma_gflops),
    MK("devices", MK_TEXT, devices),
};
#undef MK
enum { NMKEYS = sizeof mkeys / sizeof mkeys[0] };

/* The field of key k in m: its type is k->kind's. */
static void *mk_field(machine_info *m, const mkey *k)
{
	return (char *)m + k->off;
}

static char **mk_text(machine_info *m, const mkey *k)
{
	return mk_field(m, k);
}

static int64_t *mk_int(machine_info *m, const mkey *k)
{
	return mk_field(m, k);
}

static double *mk_peak(machine_info *m, const mkey *k)
{
	return mk_field(m, k);
}

static uint64_t *mk_peak_bytes(machine_info *m, const mkey *k)
{
	return mk_field(m, k);
}

void machine_info_free(machine_info *m)
{
	for (int i = 0; i < NMKEYS; i++)
		if (mkeys[i].kind == MK_TEXT) {
			free(*mk_text(m, &mkeys[i]));
			*mk_text(m, &mkeys[i]) = NULL;
		}
}

/* Every integer -1, every text NULL, no peaks. */
static void machine_info_init(machine_info *m)
{
	memset(m, 0, sizeof *m);
	for (int i = 0; i < NMKEYS; i++)
		if (mkeys[i].kind == MK_INT)
			*mk_int(m, &mkeys[i]) = -1;
}

/* ---- writing ------------------------------------------------------------------ */

static char *dup_text(const char *s)
{
	return strdup(s ? s : "");
}

/* This machine and build now. Returns 0 or -1 (out of memory). */
static int machine_describe(machine_info *m, int threads, const char *devices, const roofline *rf)
{
	char cpu[256], host[256] = "", date[64], os[600] = "unknown";
	machine_info_init(m);
	struct utsname u;
	if (uname(&u) == 0)
		snprintf(os, sizeof os, "%s %s %s", u.sysname, u.release, u.machine);
	gethostname(host, sizeof host - 1);
	cpu_model(cpu, sizeof cpu);
	const time_t now = time(NULL);
	strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	m->cpu_model = dup_text(cpu);
	m->cpus_online = sysconf(_SC_NPROCESSORS_ONLN);
	m->threads_used = m->blas_threads = threads;
	m->ram_bytes = (int64_t)machine_ram_bytes();
	m->blas = dup_text(openblas_get_config());
	m->compiler = dup_text(__VERSION__);
	m->build_flags = dup_text(ATTN_BUILD_FLAGS);
	m->git_commit = dup_text(ATTN_GIT_COMMIT);
	m->date_utc = dup_text(date);
	m->hostname = dup_text(host);
	m->os = dup_text(os);
	m->devices = dup_text(devices);
	if (rf) {
		m->has_roofline = 1;
		m->peaks = *rf;
	}
	for (int i = 0; i < NMKEYS; i++)
		if (mkeys[i].kind == MK_TEXT && !*mk_text(m, &mkeys[i]))
			return -1;
	return 0;
}

/* A JSON string of s: bytes that are not UTF-8 become '?'. */
static json_t *j_text(const char *s)
{
	json_t *v = json_string(s);
	if (v)
		return v;
	char *t = strdup(s);
	if (!t)
		return NULL;
	for (size_t i = 0; t[i]; i++)
		if ((unsigned char)t[i] >= 0x80)
			t[i] = '?';
	v = json_string(t);
	free(t);
	return v;
}

json_t *machine_json(machine_info *m)
{
	json_t *o = json_object();
	int bad = !o;
	for (int i = 0; !bad && i < NMKEYS; i++) {
		const mkey *k = &mkeys[i];
		json_t *v = NULL;
		if (k->kind == MK_TEXT)
			v = j_text(*mk_text(m, k));
		else if (k->kind == MK_INT) {
			if (*mk_int(m, k) < 0)
				continue;
			v = json_integer((json_int_t)*mk_int(m, k));
		} else if (!m->has_roofline)
			continue;
		else if (k->kind == MK_PEAK)
			v = json_real(isfinite(*mk_peak(m, k)) ? *mk_peak(m, k) : 0);
		else
			v = json_integer((json_int_t)*mk_peak_bytes(m, k));
		bad = json_object_set_new(o, k->name, v) != 0;
	}
	if (!bad && m->has_roofline && m->peaks.n_curve > 0) {
		json_t *a = json_array();
		bad = !a;
		for (int i = 0; !bad && i < m->peaks.n_curve; i++) {
			json_t *pt = json_pack("[I,f]", (json_int_t)m->peaks.curve_bytes[i], m->peaks.curve_gbs[i]);
			bad = !pt || json_array_append_new(a, pt) != 0;
		}
		bad = bad || json_object_set_new(o, ROOF_CURVE_KEY, a) != 0;
	}
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *machine_json_now(int threads, const char *devices, const roofline *rf)
{
	machine_info m;
	json_t *o = machine_describe(&m, threads, devices, rf) == 0 ? machine_json(&m) : NULL;
	machine_info_free(&m);
	return o;
}

int machine_write(const char *dir, int threads, const char *devices, const roofline *rf)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/machine.json", dir);
	json_t *o = machine_json_now(threads, devices, rf);
	if (!o)
		return -1;
	file_out out;
	attn_err e = {{0}};
	int rc = file_out_open(&out, path, &e);
	if (!rc) {
		if (json_dumpf(o, out.f, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12)) != 0 ||
		    fputc('\n', out.f) == EOF)
			file_out_abort(&out), rc = -1;
		else
			rc = file_out_commit(&out, &e);
	}
	json_decref(o);
	return rc ? -1 : 0;
}

/* ---- reading -------------------------------------------------------------------- */

/* Text as read: control characters (and DEL) become '?'. */
static char *clean_text(const char *s)
{
	char *t = strdup(s);
	for (size_t i = 0; t && t[i]; i++)
		if ((unsigned char)t[i] < 0x20 || t[i] == 0x7f)
			t[i] = '?';
	return t;
}

/* The value v of key k into m: a string (numbers as text, as older
 * versions wrote them), a number, or null (absent). 0 or EXIT_INPUT. */
static int j_member(const char *path, machine_info *m, const mkey *k, json_t *v, attn_err *e)
{
	char num[64];
	const char *val = num;
	if (json_is_string(v))
		val = json_string_value(v);
	else if (json_is_integer(v))
		snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(num, sizeof num, "%.17g", json_real_value(v));
	else if (json_is_null(v))
		return 0;
	else
		return attn_errf(e, "%s: \"%s\": expected a string or a number", path, k->name);
	if (!val[0])
		return 0; /* absent */
	if (k->kind == MK_TEXT) {
		if (!(*mk_text(m, k) = clean_text(val)))
			return attn_errf(e, "%s: out of memory", path);
		return 0;
	}
	int64_t i = 0;
	double d = 0;
	if (k->kind == MK_PEAK ? !parse_f64(val, &d) || !(d >= 0) : !parse_i64(val, &i) || i < 0)
		return attn_errf(e, "%s: \"%s\": '%.40s' is not %s", path, k->name, val,
		                 k->kind == MK_PEAK ? "a number >= 0" : "an integer >= 0");
	if (k->kind == MK_INT)
		*mk_int(m, k) = i;
	else if (k->kind == MK_PEAK)
		*mk_peak(m, k) = d;
	else
		*mk_peak_bytes(m, k) = (uint64_t)i;
	return 0;
}

/* The object's known keys into m; seen gets a bit per key found. */
static int j_object(const char *path, json_t *root, machine_info *m, uint32_t *seen, attn_err *e)
{
	if (!json_is_object(root))
		return attn_errf(e, "%s: expected a JSON object", path);
	for (int i = 0; i < NMKEYS; i++) {
		json_t *v = json_object_get(root, mkeys[i].name);
		if (!v)
			continue;
		if (j_member(path, m, &mkeys[i], v, e))
			return EXIT_INPUT;
		*seen |= 1u << i;
	}
	return 0;
}

/* The bandwidth curve, when present: [[bytes, GB/s], ...], bytes whole
 * numbers increasing, figures positive. 0 or EXIT_INPUT. */
static int j_curve(const char *path, json_t *a, roofline *r, attn_err *e)
{
	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a) || json_array_size(a) > ROOF_CURVE_MAX)
		return attn_errf(e, "%s: \"%s\": expected an array of at most %d [bytes, GB/s] pairs", path,
		                 ROOF_CURVE_KEY, ROOF_CURVE_MAX);
	size_t i;
	json_t *pt;
	json_array_foreach(a, i, pt)
	{
		json_t *b = json_array_get(pt, 0), *g = json_array_get(pt, 1);
		const double gv = json_is_number(g) ? json_number_value(g) : -1;
		if (!json_is_array(pt) || json_array_size(pt) != 2 || !json_is_integer(b) ||
		    json_integer_value(b) <= 0 || (i && (uint64_t)json_integer_value(b) <= r->curve_bytes[i - 1]) ||
		    !(gv > 0) || !isfinite(gv))
			return attn_errf(e,
			                 "%s: \"%s\": point %zu is not [bytes, GB/s] with sizes increasing and "
			                 "figures > 0",
			                 path, ROOF_CURVE_KEY, i);
		r->curve_bytes[i] = (uint64_t)json_integer_value(b);
		r->curve_gbs[i] = gv;
	}
	r->n_curve = (int)json_array_size(a);
	return 0;
}

/* The whole file into a NUL-terminated *buf: a regular file (a FIFO is not
 * waited on), at most MACHINE_MAX_BYTES, no NUL byte. */
static int read_whole(const char *path, char **buf, size_t *len, attn_err *e)
{
	*buf = NULL;
	long long size = 0;
	const int fd = file_open_in(path, &size, e);
	if (fd < 0)
		return fd == -1 ? MACHINE_UNREADABLE : EXIT_INPUT;
	int rc = 0;
	if (size > MACHINE_MAX_BYTES)
		rc =
		    attn_errf(e, "%s: larger than %d bytes (a machine.json is a few hundred)", path, MACHINE_MAX_BYTES);
	else if (!(*buf = malloc((size_t)size + 1)))
		rc = attn_errf(e, "%s: out of memory", path);
	size_t n = 0;
	while (!rc && n < (size_t)size) {
		const ssize_t got = read(fd, *buf + n, (size_t)size - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break; /* shorter than fstat said: take what is there */
		n += (size_t)got;
	}
	close(fd);
	if (rc) {
		free(*buf);
		*buf = NULL;
		return rc;
	}
	(*buf)[n] = 0;
	*len = n;
	const char *nul = memchr(*buf, 0, n);
	if (nul) {
		int line = 1;
		for (const char *p = *buf; p < nul; p++)
			line += *p == '\n';
		free(*buf);
		*buf = NULL;
		return attn_errf(e, "%s: line %d: NUL byte", path, line);
	}
	return 0;
}

int machine_read(const char *path, machine_info *m, attn_err *e)
{
	machine_info_init(m);
	char *buf;
	size_t len;
	int rc = read_whole(path, &buf, &len, e);
	if (rc)
		return rc;
	json_error_t je;
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	free(buf);
	if (!root)
		return attn_errf(e, "%s: line %d: %s", path, je.line, je.text);
	uint32_t seen = 0;
	rc = j_object(path, root, m, &seen, e);
	if (!rc)
		rc = j_curve(path, json_object_get(root, ROOF_CURVE_KEY), &m->peaks, e);
	json_decref(root);
	if (rc) {
		machine_info_free(m);
		return EXIT_INPUT;
	}
	int npeaks = 0;
	for (int i = 0; i < NMKEYS; i++)
		npeaks += (mkeys[i].kind == MK_PEAK || mkeys[i].kind == MK_PEAK_BYTES) &&
		          strcmp(mkeys[i].name, FMA_KEY) && (seen >> i & 1);
	m->has_roofline = npeaks == 5;
	if (!m->has_roofline)
		memset(&m->peaks, 0, sizeof m->peaks);
	else
		m->peaks.threads = m->threads_used > 0 ? (int)m->threads_used : 0;
	return 0;
}
