/* util.c - see util.h. */
#include "lib/util.h"
#include "attn_half.h"

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int utf8_seq(const unsigned char *p, const unsigned char *end);

int attn_errf(attn_err *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	/* Messages quote hostile input: control characters (terminal escapes
	 * included) and bytes that are not UTF-8 are printed as '?'. */
	unsigned char *p = (unsigned char *)e->msg, *end = p + strlen(e->msg);
	while (p < end) {
		const int k = utf8_seq(p, end);
		if (k == 0 || *p < 0x20 || *p == 0x7f) {
			*p++ = '?';
			continue;
		}
		p += k;
	}
	return EXIT_INPUT;
}

int attn_fail(const char *cmd, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "attnbench %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return code;
}

int mul_ok(int64_t a, int64_t b, int64_t *out)
{
	if (a < 0 || b < 0)
		return 0;
	return !__builtin_mul_overflow(a, b, out);
}

int mul_n_ok(int64_t *out, int n, const int64_t *f)
{
	int64_t acc = 1;
	for (int i = 0; i < n; i++)
		if (!mul_ok(acc, f[i], &acc))
			return 0;
	*out = acc;
	return 1;
}

static const char *skip_blanks(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

int parse_i64(const char *s, int64_t *out)
{
	if (!s)
		return 0;
	s = skip_blanks(s);
	if (!*s)
		return 0;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s)
		return 0;
	end = (char *)skip_blanks(end);
	if (*end)
		return 0;
	*out = v;
	return 1;
}

/* A finite number at the start of s, blanks around it allowed; *rest is
 * what follows. Returns 1, or 0 when s does not start with one. */
static int number_prefix(const char *s, double *v, const char **rest)
{
	if (!s)
		return 0;
	s = skip_blanks(s);
	errno = 0;
	char *end;
	*v = strtod(s, &end);
	if (errno || end == s || !isfinite(*v))
		return 0;
	*rest = skip_blanks(end);
	return 1;
}

int parse_f64(const char *s, double *out)
{
	double v;
	const char *rest;
	if (!number_prefix(s, &v, &rest) || *rest)
		return 0;
	*out = v;
	return 1;
}

int parse_size(const char *s, double *out)
{
	double v;
	const char *unit;
	if (!number_prefix(s, &v, &unit) || v < 0)
		return 0;
	const size_t n = strcspn(unit, " \t");
	if (*skip_blanks(unit + n))
		return 0;
	static const char *const units[] = {"",   "b", "k",   "kib", "kb", "m",   "mib",
	                                    "mb", "g", "gib", "gb",  "t",  "tib", "tb"};
	static const double mult[] = {1,   1,      0x1p10, 0x1p10, 1e3,    0x1p20, 0x1p20,
	                              1e6, 0x1p30, 0x1p30, 1e9,    0x1p40, 0x1p40, 1e12};
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strlen(units[i]) == n && !strncasecmp(unit, units[i], n)) {
			*out = v * mult[i];
			return isfinite(*out);
		}
	return 0;
}

int parse_bytes(const char *s, uint64_t *out)
{
	double b;
	if (!parse_size(s, &b) || !(b < 0x1p64))
		return 0;
	*out = (uint64_t)b;
	return 1;
}

int parse_i64_list(const char *s, int64_t *out, int max)
{
	int n = 0;
	const char *p = s;
	if (!s || !*s)
		return -1;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char tmp[64];
		if (len == 0 || len >= sizeof tmp || n >= max)
			return -1;
		memcpy(tmp, p, len);
		tmp[len] = 0;
		if (!parse_i64(tmp, &out[n]))
			return -1;
		n++;
		if (!comma)
			break;
		p = comma + 1;
	}
	return n;
}

/* Length of the well-formed UTF-8 sequence at p (1 to 4), or 0. */
static int utf8_seq(const unsigned char *p, const unsigned char *end)
{
	const unsigned c = *p;
	if (c < 0x80)
		return 1;
	int more;
	unsigned lo = 0x80, hi = 0xBF; /* range of the first continuation byte */
	if (c >= 0xC2 && c <= 0xDF) {
		more = 1;
	} else if (c >= 0xE0 && c <= 0xEF) {
		more = 2;
		if (c == 0xE0)
			lo = 0xA0; /* overlong */
		else if (c == 0xED)
			hi = 0x9F; /* UTF-16 surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		more = 3;
		if (c == 0xF0)
			lo = 0x90; /* overlong */
		else if (c == 0xF4)
			hi = 0x8F; /* above U+10FFFF */
	} else {
		return 0; /* a continuation byte, C0/C1 (overlong) or F5..FF */
	}
	if (end - p <= more || p[1] < lo || p[1] > hi)
		return 0;
	for (int i = 2; i <= more; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	return more + 1;
}

int utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	while (p < end) {
		const int k = utf8_seq(p, end);
		if (!k)
			return 0;
		p += k;
	}
	return 1;
}

double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

uint64_t machine_ram_bytes(void)
{
	long pages = sysconf(_SC_PHYS_PAGES);
	long page = sysconf(_SC_PAGESIZE);
	if (pages <= 0 || page <= 0)
		return 0;
	return (uint64_t)pages * (uint64_t)page;
}

const char *fmt_bytes(uint64_t b, char *buf, size_t len)
{
	const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	double v = (double)b;
	int u = 0;
	while (v >= 1024.0 && u < 5) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)b);
	else
		snprintf(buf, len, "%.2f %s", v, unit[u]);
	return buf;
}

void *xalloc_pages(size_t n)
{
	if (n == 0)
		return NULL;
	size_t rounded = (n + 63) & ~(size_t)63;
	if (rounded < n)
		return NULL;
	/* Buffers of 2 MiB and more go in huge pages where the kernel has them
	 * (2 MiB-aligned, MADV_HUGEPAGE): the page pools and inputs the harness
	 * hands to a backend are then read at the same TLB cost as the caches
	 * the built-in backends allocate that way. With 4 KiB pages, a paged
	 * decode of 16-token pages spread over a pool paid a TLB miss every 8
	 * KiB and ran at 0.6 of the contiguous speed. */
	const size_t huge = (size_t)2 << 20;
	if (rounded < huge)
		return aligned_alloc(64, rounded);
	rounded = (rounded + huge - 1) & ~(huge - 1);
	void *p = aligned_alloc(huge, rounded);
	if (p)
		madvise(p, rounded, MADV_HUGEPAGE);
	return p;
}

void *xalloc(size_t n)
{
	void *p = xalloc_pages(n);
	if (p)
		memset(p, 0, (n + 63) & ~(size_t)63);
	return p;
}

int mkdir_p(const char *dir)
{
	char buf[4096];
	if (strlen(dir) >= sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(buf, dir);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0777) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0777) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* One xorshift64 step, as a value uniform in [-half, half). */
static inline float uniform_next(uint64_t *s, double scale, float half)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (float)((double)(*s >> 11) * scale - (double)half);
}

void fill_uniform_as(void *x, size_t n, uint64_t seed, float half, attn_dtype t)
{
	uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
	const double scale = 2.0 * (double)half / 9007199254740992.0; /* 2^53 */
	float *f = x;
	uint16_t *h = x;
	for (size_t i = 0; i < n; i++) {
		const float v = uniform_next(&s, scale, half);
		if (t == ATTN_F32)
			f[i] = v;
		else
			h[i] = t == ATTN_F16 ? attn_f32_to_f16(v) : attn_f32_to_bf16(v);
	}
}

void fill_uniform(float *x, size_t n, uint64_t seed, float half)
{
	fill_uniform_as(x, n, seed, half, ATTN_F32);
}
