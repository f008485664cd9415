/* testutil.c - see testutil.h. */
#include "testutil.h"

#include <dirent.h>
#include <math.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

const char *tu_bin(void)
{
	const char *b = getenv("ATTNBENCH_BIN");
	return b && *b ? b : "build/attnbench";
}

char *tu_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[n] = 0;
		if (len)
			*len = (size_t)n;
	}
	return buf;
}

void tu_write(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

int tu_run(char **out, char **err, ...)
{
	char *argv[64];
	int n = 0;
	argv[n++] = (char *)tu_bin();
	va_list ap;
	va_start(ap, err);
	char *a;
	while ((a = va_arg(ap, char *)) != NULL && n < 63)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	char tmpl_out[] = "/tmp/attnbench-out-XXXXXX", tmpl_err[] = "/tmp/attnbench-err-XXXXXX";
	int fo = mkstemp(tmpl_out), fe = mkstemp(tmpl_err);
	assert_true(fo >= 0 && fe >= 0);
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		dup2(devnull, 0);
		dup2(fo, 1);
		dup2(fe, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	close(fo);
	close(fe);
	if (out)
		*out = tu_read(tmpl_out, NULL);
	if (err)
		*err = tu_read(tmpl_err, NULL);
	unlink(tmpl_out);
	unlink(tmpl_err);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

char *tu_tmpdir(void)
{
	static char bufs[16][64];
	static int next;
	char *b = bufs[next++ % 16];
	snprintf(b, 64, "/tmp/attnbench-test-XXXXXX");
	assert_non_null(mkdtemp(b));
	return b;
}

void tu_rmtree(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char p[1024];
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			tu_rmtree(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

void tu_copy_dir(const char *src, const char *dst)
{
	DIR *d = opendir(src);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char ps[1024], pd[1024];
		snprintf(ps, sizeof ps, "%s/%s", src, e->d_name);
		snprintf(pd, sizeof pd, "%s/%s", dst, e->d_name);
		size_t len;
		char *buf = tu_read(ps, &len);
		assert_non_null(buf);
		tu_write(pd, buf, len);
		free(buf);
	}
	closedir(d);
}

static int total_tests;

void tu_count_tests(int n)
{
	total_tests += n;
}

int tu_total_tests(void)
{
	return total_tests;
}

/* out[b,h,i,:] in float64; k and v rows kv_stride tokens apart per head. */
void tu_reference(const attn_shape *s, const float *q, const float *k, const float *v, int64_t kv_stride, double *out)
{
	const int64_t H = s->n_heads, HK = s->n_kv_heads, D = s->head_dim, NQ = s->n_q, NKV = s->n_kv;
	double *w = malloc((size_t)NKV * sizeof *w);
	assert_non_null(w);
	for (int64_t b = 0; b < s->batch; b++)
		for (int64_t h = 0; h < H; h++)
			for (int64_t i = 0; i < NQ; i++) {
				const int64_t g = h / (H / HK), vis = s->causal ? NKV - NQ + i + 1 : NKV;
				const float *qr = q + ((b * H + h) * NQ + i) * D;
				double mx = -INFINITY, sum = 0;
				for (int64_t j = 0; j < vis; j++) {
					const float *kr = k + ((b * HK + g) * kv_stride + j) * D;
					double dot = 0;
					for (int64_t d = 0; d < D; d++)
						dot += (double)qr[d] * (double)kr[d];
					w[j] = (double)s->scale * dot;
					mx = fmax(mx, w[j]);
				}
				for (int64_t j = 0; j < vis; j++)
					sum += (w[j] = exp(w[j] - mx));
				for (int64_t d = 0; d < D; d++) {
					double acc = 0;
					for (int64_t j = 0; j < vis; j++)
						acc += w[j] * (double)v[((b * HK + g) * kv_stride + j) * D + d];
					out[((b * H + h) * NQ + i) * D + d] = acc / sum;
				}
			}
	free(w);
}

const char *tu_built(const char *name)
{
	static char buf[4][512];
	static int next;
	const char *b = getenv("ATTNBENCH_BUILD");
	char *p = buf[next++ % 4];
	snprintf(p, 512, "%s/%s", b && *b ? b : "build", name);
	return p;
}

/* Replace a cell with a malloc'ed copy of s. */
void tu_set_cell(char **cells, int c, const char *s)
{
	free(cells[c]);
	cells[c] = strdup(s);
}

/* Does path exist and start with magic (or contain needle)? */
void tu_expect_file(const char *dir, const char *name, const char *magic, const char *needle)
{
	char p[1024];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	size_t len = 0;
	char *b = tu_read(p, &len);
	if (!b)
		fail_msg("%s was not written", p);
	if (len == 0)
		fail_msg("%s is empty", p);
	if (magic && (len < strlen(magic) || memcmp(b, magic, strlen(magic))))
		fail_msg("%s does not start with the expected magic", p);
	if (needle && !strstr(b, needle))
		fail_msg("%s does not contain '%s'", p, needle);
	free(b);
}

/* The text of dir/name (malloc'ed; the test fails when it is missing). */
char *tu_read_out(const char *dir, const char *name)
{
	char p[1024];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	char *b = tu_read(p, NULL);
	if (!b)
		fail_msg("%s was not written", p);
	return b;
}

void tu_copy_built(const char *name, const char *const *to, int n)
{
	size_t len = 0;
	char *data = tu_read(tu_built(name), &len);
	for (int i = 0; i < n; i++)
		tu_write(to[i], data, len);
	free(data);
}
