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

#define MACHINE_MAX_BYTES (1 << 20)
#define MACHINE_MAX_DEPTH 64 /* nesting of the values the reader skips */

double roofline_bw_for(const roofline *r, uint64_t kv_bytes)
{
	return kv_bytes <= r->llc_bytes ? r->llc_gbs : r->dram_gbs;
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

/* "key": "value" with JSON escapes; control characters as \u00XX. */
static void json_pair(FILE *f, const char *key, const char *val)
{
	fprintf(f, "  \"%s\": \"", key);
	for (const char *p = val; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if ((unsigned char)*p < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void machine_print(FILE *f, machine_info *m)
{
	fprintf(f, "{\n");
	int n = 0;
	for (int i = 0; i < NMKEYS; i++) {
		const mkey *k = &mkeys[i];
		char num[32];
		const char *val = num;
		if (k->kind == MK_TEXT)
			val = *mk_text(m, k);
		else if (k->kind == MK_INT)
			snprintf(num, sizeof num, "%lld", (long long)*mk_int(m, k));
		else if (!m->has_roofline)
			continue;
		else if (k->kind == MK_PEAK)
			snprintf(num, sizeof num, "%.4f", *mk_peak(m, k));
		else
			snprintf(num, sizeof num, "%llu", (unsigned long long)*mk_peak_bytes(m, k));
		fputs(n++ ? ",\n" : "", f);
		json_pair(f, k->name, val);
	}
	fprintf(f, "\n}\n");
}

int machine_write(const char *dir, int threads, const char *devices, const roofline *rf)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/machine.json", dir);
	machine_info m;
	if (machine_describe(&m, threads, devices, rf) != 0) {
		machine_info_free(&m);
		return -1;
	}
	file_out out;
	attn_err e = {{0}};
	int rc = file_out_open(&out, path, &e);
	if (!rc) {
		machine_print(out.f, &m);
		rc = file_out_commit(&out, &e);
	}
	machine_info_free(&m);
	return rc ? -1 : 0;
}

/* ---- reading -------------------------------------------------------------------- */

/* A JSON reader over a NUL-terminated buffer (machine_read has refused NUL
 * bytes in the file), counting lines for messages. */
typedef struct jreader {
	const char *p, *path;
	int line;
	attn_err *e;
} jreader;

static int j_fail(jreader *j, const char *what)
{
	return attn_errf(j->e, "%s: line %d: %s", j->path, j->line, what);
}

static void j_ws(jreader *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n') {
		if (*j->p == '\n')
			j->line++;
		j->p++;
	}
}

static int hexval(char h)
{
	return h >= '0' && h <= '9'   ? h - '0'
	       : h >= 'a' && h <= 'f' ? h - 'a' + 10
	       : h >= 'A' && h <= 'F' ? h - 'A' + 10
	                              : -1;
}

/* Four hex digits after "\u" into *v. Returns 0 or -1. */
static int j_hex4(jreader *j, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		const int h = hexval(j->p[i]);
		if (h < 0)
			return -1;
		*v = *v * 16 + (unsigned)h;
	}
	j->p += 4;
	return 0;
}

/* Append code point c as UTF-8 (a control character as '?'). */
static size_t put_utf8(char *s, unsigned c)
{
	if (c < 0x20 || c == 0x7f) {
		s[0] = '?';
		return 1;
	}
	if (c < 0x80) {
		s[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		s[0] = (char)(0xc0 | c >> 6);
		s[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		s[0] = (char)(0xe0 | c >> 12);
		s[1] = (char)(0x80 | (c >> 6 & 0x3f));
		s[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	s[0] = (char)(0xf0 | c >> 18);
	s[1] = (char)(0x80 | (c >> 12 & 0x3f));
	s[2] = (char)(0x80 | (c >> 6 & 0x3f));
	s[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* The escape after a backslash (j->p past it) into s; returns the bytes
 * written, or 0 after an error. */
static size_t j_escape(jreader *j, char *s)
{
	const char c = *j->p++;
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/  \n \t";
	const char *k = c ? strchr(from, c) : NULL;
	if (k) {
		s[0] = to[k - from];
		return 1;
	}
	unsigned v, lo;
	if (c != 'u' || j_hex4(j, &v)) {
		j_fail(j, "bad escape in a string");
		return 0;
	}
	/* a surrogate pair makes one code point; a lone surrogate is '?' */
	if (v >= 0xd800 && v < 0xdc00 && j->p[0] == '\\' && j->p[1] == 'u') {
		const char *save = j->p;
		j->p += 2;
		if (!j_hex4(j, &lo) && lo >= 0xdc00 && lo < 0xe000)
			return put_utf8(s, 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00));
		j->p = save;
	}
	return put_utf8(s, v >= 0xd800 && v < 0xe000 ? '?' : v);
}

/* A string at j->p: into a malloc'ed *out (NULL: only checked). 0 or EXIT_INPUT. */
static int j_string(jreader *j, char **out)
{
	if (*j->p != '"')
		return j_fail(j, "expected a string");
	const char *start = ++j->p;
	const char *q = start;
	while (*q && *q != '"')
		q += *q == '\\' && q[1] ? 2 : 1;
	char *s = out ? malloc((size_t)(q - start) + 1) : NULL;
	char tmp[4];
	size_t n = 0;
	if (out && !s)
		return attn_errf(j->e, "%s: out of memory", j->path);
	for (;;) {
		const char c = *j->p;
		if (c == '"') {
			j->p++;
			break;
		}
		if (c == 0 || (unsigned char)c < 0x20) {
			free(s);
			return j_fail(j, c == 0 || c == '\n' ? "unterminated string" : "control character in a string");
		}
		j->p++;
		size_t k = 1;
		tmp[0] = c;
		if (c == '\\' && !(k = j_escape(j, tmp))) {
			free(s);
			return EXIT_INPUT;
		}
		if (s) /* an escape never takes more bytes than its text */
			memcpy(s + n, tmp, k);
		n += k;
	}
	if (out) {
		s[n] = 0;
		*out = s;
	}
	return 0;
}

/* A bare token (number or literal) at j->p into tok. 0 or EXIT_INPUT. */
static int j_token(jreader *j, char *tok, size_t cap)
{
	size_t n = 0;
	while (*j->p && !strchr(",:{}[]\" \t\r\n", *j->p)) {
		if (n + 1 < cap)
			tok[n] = *j->p;
		n++;
		j->p++;
	}
	tok[n < cap ? n : cap - 1] = 0;
	double v;
	if (n == 0 || n >= cap ||
	    (strcmp(tok, "true") && strcmp(tok, "false") && strcmp(tok, "null") && !parse_f64(tok, &v)))
		return j_fail(j, "expected a value");
	return 0;
}

/* Skip an object or an array (j->p at its bracket). 0 or EXIT_INPUT. */
static int j_skip_nested(jreader *j, int depth)
{
	const char close = *j->p == '{' ? '}' : ']';
	const int object = close == '}';
	if (depth > MACHINE_MAX_DEPTH)
		return j_fail(j, "nested too deeply");
	j->p++;
	j_ws(j);
	if (*j->p == close) {
		j->p++;
		return 0;
	}
	for (;;) {
		j_ws(j);
		if (object) {
			if (j_string(j, NULL))
				return EXIT_INPUT;
			j_ws(j);
			if (*j->p != ':')
				return j_fail(j, "expected ':'");
			j->p++;
			j_ws(j);
		}
		char tok[64];
		int rc;
		if (*j->p == '{' || *j->p == '[')
			rc = j_skip_nested(j, depth + 1);
		else
			rc = *j->p == '"' ? j_string(j, NULL) : j_token(j, tok, sizeof tok);
		if (rc)
			return rc;
		j_ws(j);
		if (*j->p == close) {
			j->p++;
			return 0;
		}
		if (*j->p != ',')
			return j_fail(j, object ? "expected ',' or '}'" : "expected ',' or ']'");
		j->p++;
	}
}

/* A member's value for key k (NULL: unknown key, skipped). */
static int j_member(jreader *j, machine_info *m, const mkey *k)
{
	char tok[64], *text = NULL;
	const int is_string = *j->p == '"';
	if (*j->p == '{' || *j->p == '[') {
		if (k)
			return attn_errf(j->e, "%s: line %d: \"%s\": expected a string or a number", j->path, j->line,
			                 k->name);
		return j_skip_nested(j, 1);
	}
	int rc = is_string ? j_string(j, k ? &text : NULL) : j_token(j, tok, sizeof tok);
	if (rc || !k)
		return rc;
	const char *val = is_string ? text : tok;
	if (!is_string && (!strcmp(tok, "true") || !strcmp(tok, "false")))
		rc = attn_errf(j->e, "%s: line %d: \"%s\": expected a string or a number", j->path, j->line, k->name);
	else if (!val[0] || (!is_string && !strcmp(tok, "null")))
		; /* absent */
	else if (k->kind == MK_TEXT) {
		*mk_text(m, k) = is_string ? text : strdup(tok);
		text = NULL;
		if (!*mk_text(m, k))
			rc = attn_errf(j->e, "%s: out of memory", j->path);
	} else {
		int64_t i = 0;
		double d = 0;
		const int ok = k->kind == MK_PEAK ? parse_f64(val, &d) && d >= 0 : parse_i64(val, &i) && i >= 0;
		if (!ok)
			rc = attn_errf(j->e, "%s: line %d: \"%s\": '%.40s' is not %s", j->path, j->line, k->name, val,
			               k->kind == MK_PEAK ? "a number >= 0" : "an integer >= 0");
		else if (k->kind == MK_INT)
			*mk_int(m, k) = i;
		else if (k->kind == MK_PEAK)
			*mk_peak(m, k) = d;
		else
			*mk_peak_bytes(m, k) = (uint64_t)i;
	}
	free(text);
	return rc;
}

/* The object of machine.json; seen gets a bit per known key found. */
static int j_object(jreader *j, machine_info *m, uint32_t *seen)
{
	j_ws(j);
	if (*j->p != '{')
		return j_fail(j, "expected a JSON object");
	j->p++;
	j_ws(j);
	if (*j->p == '}') {
		j->p++;
		return 0;
	}
	for (;;) {
		j_ws(j);
		char *key = NULL;
		if (j_string(j, &key))
			return EXIT_INPUT;
		int ki = 0;
		while (ki < NMKEYS && strcmp(mkeys[ki].name, key))
			ki++;
		int rc = 0;
		j_ws(j);
		if (ki < NMKEYS && (*seen >> ki & 1))
			rc = attn_errf(j->e, "%s: line %d: \"%s\" is given twice", j->path, j->line, key);
		else if (*j->p != ':')
			rc = attn_errf(j->e, "%s: line %d: expected ':' after \"%.80s\"", j->path, j->line, key);
		free(key);
		if (rc)
			return rc;
		j->p++;
		j_ws(j);
		if (j_member(j, m, ki < NMKEYS ? &mkeys[ki] : NULL))
			return EXIT_INPUT;
		if (ki < NMKEYS)
			*seen |= 1u << ki;
		j_ws(j);
		if (*j->p == '}') {
			j->p++;
			return 0;
		}
		if (*j->p != ',')
			return j_fail(j, "expected ',' or '}'");
		j->p++;
	}
}

/* The whole file into a NUL-terminated *buf: a regular file (a FIFO is not
 * waited on), at most MACHINE_MAX_BYTES, no NUL byte. */
static int read_whole(const char *path, char **buf, attn_err *e)
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
	int rc = read_whole(path, &buf, e);
	if (rc)
		return rc;
	jreader j = {.p = buf, .path = path, .line = 1, .e = e};
	uint32_t seen = 0;
	rc = j_object(&j, m, &seen);
	if (!rc) {
		j_ws(&j);
		if (*j.p)
			rc = j_fail(&j, "text after the JSON object");
	}
	free(buf);
	if (rc) {
		machine_info_free(m);
		return EXIT_INPUT;
	}
	int npeaks = 0;
	for (int i = 0; i < NMKEYS; i++)
		npeaks += (mkeys[i].kind == MK_PEAK || mkeys[i].kind == MK_PEAK_BYTES) && (seen >> i & 1);
	m->has_roofline = npeaks == 5;
	if (!m->has_roofline)
		memset(&m->peaks, 0, sizeof m->peaks);
	else
		m->peaks.threads = m->threads_used > 0 ? (int)m->threads_used : 0;
	return 0;
}
