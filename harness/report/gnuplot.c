/* gnuplot.c - writing the report's gnuplot scripts and data files, and
 * running gnuplot.
 *
 * Every string that comes from the inputs (backend, device, host and CPU
 * names in titles, labels and legends) reaches a script only through
 * gp_str, and a data file only through gp_comment: nothing read from a run
 * is ever parsed by gnuplot as a command. */
#include "report/gnuplot.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                      "#9467bd", "#8c564b", "#e377c2", "#17becf"};
static const int point_types[2][8] = {{7, 5, 9, 13, 11, 15, 3, 1}, {6, 4, 8, 12, 10, 14, 3, 1}};

/* Write s as a gnuplot double-quoted string. gnuplot runs `...` inside
 * double quotes as a shell command before it parses the string, whatever
 * precedes it: a backquote is written as the octal escape \140, which the
 * string parser turns back into a backquote after that substitution. */
void gp_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if (*s == '`')
			fputs("\\140", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if ((unsigned char)*s >= 0x20)
			fputc(*s, f);
	}
	fputc('"', f);
}

/* Open NAME.gp and NAME.dat in the output directory and write the script's
 * head: the formats loop and the terminal (pngcairo where gnuplot has it). */
int gp_open(const report *R, gp *g, const char *name, int w, int h)
{
	memset(g, 0, sizeof *g);
	snprintf(g->name, sizeof g->name, "%s", name);
	attn_err e = {{0}};
	int rc = 0;
	/* gnuplot writes the pictures itself and would follow a link */
	static const char *const drawn[] = {"png", "svg"};
	for (int i = 0; i < 2 && !rc; i++) {
		char *pic = rep_asprintf("%s/%s.%s", R->out_dir, name, drawn[i]);
		rc = !pic ? attn_errf(&e, "out of memory") : file_out_check(pic, &e);
		free(pic);
	}
	char *p = rep_asprintf("%s/%s.gp", R->out_dir, name), *q = rep_asprintf("%s/%s.dat", R->out_dir, name);
	if (!rc)
		rc = !p || !q ? attn_errf(&e, "out of memory") : file_out_open(&g->fo, p, &e);
	if (!rc) {
		rc = file_out_open(&g->fd, q, &e);
		if (rc)
			file_out_abort(&g->fo);
	}
	free(p);
	free(q);
	if (rc)
		return rep_fail(rc == EXIT_INPUT ? EXIT_INPUT : 1, "%s", e.msg);
	g->f = g->fo.f;
	g->d = g->fd.f;
	const char *fmts = R->png && R->svg ? "png svg" : R->png ? "png" : "svg";
	fprintf(g->f,
	        "# %s.gp - written by `attnbench report`; the data is in %s.dat.\n"
	        "# Edit and re-draw in this directory: gnuplot %s.gp\n"
	        "set encoding utf8\n"
	        "formats = \"%s\"\n"
	        "do for [fmt in formats] {\n"
	        "if (fmt eq \"svg\") {\n"
	        "    set terminal svg size %d,%d dynamic noenhanced font \"Sans,12\" background \"white\"\n"
	        "} else {\n"
	        "    if (strstrt(GPVAL_TERMINALS, \"pngcairo\") > 0) {\n"
	        "        set terminal pngcairo size %d,%d noenhanced font \"Sans,11\"\n"
	        "    } else {\n"
	        "        set terminal png size %d,%d noenhanced\n"
	        "    }\n"
	        "}\n"
	        "set output \"%s.\".fmt\n"
	        "reset\n"
	        "set grid lc rgb \"#e0e0e0\"\n"
	        "set key outside below center horizontal Left reverse spacing 1.1 samplen 3 width 1 height 1\n"
	        "set border lw 1\n",
	        name, name, name, fmts, w, h, w, h, w, h, name);
	return 0;
}

/* Write "# text" as one comment line of a data file: a newline in the text
 * would start a line that gnuplot reads as data. */
void gp_comment(FILE *d, const char *text)
{
	fputs("# ", d);
	for (; *text; text++)
		fputc((unsigned char)*text < 0x20 ? ' ' : *text, d);
	fputc('\n', d);
}

/* Write a data block (x, y / yscale) with a comment; returns its index. */
int gp_block(gp *g, const series *s, double yscale, const char *xname, const char *yname)
{
	gp_comment(g->d, s->label[0] ? s->label : "data");
	fprintf(g->d, "# columns: %s, %s\n", xname, yname);
	for (int i = 0; i < s->n; i++)
		fprintf(g->d, "%.10g %.6g\n", s->x[i], s->y[i] / yscale);
	fprintf(g->d, "\n\n");
	return g->nblocks++;
}

/* Run `gnuplot NAME.gp` in dir; anything on its stderr or a non-zero exit
 * is an error (exit 1 with gnuplot's message). */
static int run_gnuplot(const char *dir, const char *script)
{
	const char *bin = getenv("ATTNBENCH_GNUPLOT");
	if (!bin || !*bin)
		bin = "gnuplot";
	int pfd[2];
	if (pipe(pfd) != 0)
		return rep_fail(1, "pipe: %s", strerror(errno));
	fflush(stdout);
	fflush(stderr);
	const pid_t pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return rep_fail(1, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(pfd[0]);
		dup2(pfd[1], 2);
		dup2(pfd[1], 1);
		close(pfd[1]);
		if (chdir(dir) != 0) {
			fprintf(stderr, "cannot enter %s: %s\n", dir, strerror(errno));
			_exit(126);
		}
		execlp(bin, bin, script, (char *)NULL);
		fprintf(stderr, "cannot run %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	char msg[4096];
	size_t n = 0;
	for (;;) {
		char buf[1024];
		const ssize_t got = read(pfd[0], buf, sizeof buf);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		const size_t room = sizeof msg - 1 - n, take = (size_t)got < room ? (size_t)got : room;
		memcpy(msg + n, buf, take);
		n += take;
	}
	close(pfd[0]);
	msg[n] = 0;
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	const int bad = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	if (bad || n > 0) {
		while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			msg[--n] = 0;
		if (WIFEXITED(status))
			return rep_fail(1, "gnuplot %s/%s failed (exit %d): %s", dir, script, WEXITSTATUS(status),
			                n ? msg : "(no message)");
		return rep_fail(1, "gnuplot %s/%s died (signal %d): %s", dir, script, WTERMSIG(status), msg);
	}
	return 0;
}

int report_gnuplot(const char *dir, const char *script)
{
	return run_gnuplot(dir, script);
}

/* Close the script's loop and both files, then draw. */
int gp_close_run(const report *R, gp *g)
{
	fprintf(g->f, "set output\n}\n");
	g->f = g->d = NULL;
	attn_err e = {{0}};
	int rc = file_out_commit(&g->fo, &e);
	if (rc)
		file_out_abort(&g->fd);
	else
		rc = file_out_commit(&g->fd, &e);
	if (rc)
		return rep_fail(rc == EXIT_INPUT ? EXIT_INPUT : 1, "%s", e.msg);
	char script[64];
	snprintf(script, sizeof script, "%s.gp", g->name);
	rc = run_gnuplot(R->out_dir, script);
	if (rc) {
		/* what gnuplot began (an empty or half-drawn picture) does not stay
		 * behind looking like a picture, nor does an older one */
		static const char *const ext[] = {"svg", "png"};
		for (int i = 0; i < 2; i++) {
			char *pic = rep_asprintf("%s/%s.%s", R->out_dir, g->name, ext[i]);
			struct stat st;
			if (pic && lstat(pic, &st) == 0 && S_ISREG(st.st_mode))
				remove(pic);
			free(pic);
		}
	}
	return rc;
}

/* The machines and devices of a plot's lines, for its subtitle. */
void gp_subtitle(const report *R, const selection *const *sels, int nsel, char *buf, size_t len)
{
	size_t l = 0;
	int seen_m[MAX_RUNS] = {0}, any = 0;
	for (int k = 0; k < nsel; k++)
		for (int i = 0; i < sels[k]->n; i++)
			if (sels[k]->s[i].mach >= 0) {
				seen_m[sels[k]->s[i].mach] = 1;
				any = 1;
			}
	for (int m = 0; m < R->nmach; m++) {
		if (any && !seen_m[m])
			continue;
		const run_in *r = &R->runs[R->machines[m].run];
		if (l < len)
			l += (size_t)snprintf(buf + l, len - l, "%s%s (host %s", l ? "; " : "",
			                      meta_text(r->m.cpu_model, "unknown CPU"), R->machines[m].host);
		/* the devices of this machine's lines */
		const char *devs[16];
		int nd = 0;
		for (int k = 0; k < nsel; k++)
			for (int i = 0; i < sels[k]->n; i++) {
				const series *s = &sels[k]->s[i];
				if (s->mach != m)
					continue;
				int j = 0;
				while (j < nd && strcmp(devs[j], s->device))
					j++;
				if (j == nd && nd < 16)
					devs[nd++] = s->device;
			}
		for (int j = 0; j < nd && l < len; j++)
			l += (size_t)snprintf(buf + l, len - l, "%s%s",
			                      j        ? ", "
			                      : nd > 1 ? ", devices: "
			                               : ", device: ",
			                      devs[j]);
		if (l < len)
			l += (size_t)snprintf(buf + l, len - l, ")");
	}
}

/* Write `set title` with a main line, the fixed values and the machines. */
void gp_title(FILE *f, const char *main, const char *fixed, const char *sub)
{
	char *t = rep_asprintf("%s%s%s%s%s", main, fixed && fixed[0] ? "\n" : "", fixed ? fixed : "",
	                       sub && sub[0] ? "\n" : "", sub ? sub : "");
	fprintf(f, "set title ");
	gp_str(f, t ? t : main);
	fprintf(f, "\n");
	free(t);
}

/* Range of the x (which = 0) or y values of some selections. */
void data_range(const selection *const *sels, int nsel, int which, double yscale, double *lo, double *hi)
{
	*lo = INFINITY;
	*hi = -INFINITY;
	for (int k = 0; k < nsel; k++)
		for (int i = 0; i < sels[k]->n; i++)
			for (int j = 0; j < sels[k]->s[i].n; j++) {
				const double v = which ? sels[k]->s[i].y[j] / yscale : sels[k]->s[i].x[j];
				if (v < *lo)
					*lo = v;
				if (v > *hi)
					*hi = v;
			}
}

/* Set one axis: log (base 2 for sizes and counts, 10 otherwise) when the
 * range spans more than a decade, an explicit range with a margin (no
 * "empty range" warnings), and the label. */
void gp_axis(FILE *f, const char *ax, double lo, double hi, int base, const char *label)
{
	const int lg = lo > 0 && hi / lo > 10;
	fprintf(f, "unset logscale %s\nset %stics autofreq\n", ax, ax);
	if (lg) {
		fprintf(f, "set logscale %s %d\n", ax, base);
		fprintf(f, "set %srange [%.6g:%.6g]\n", ax, lo / 1.3, hi * 1.3);
		/* short decimal ranges: tics at 1, 2, 5 x 10^k, not one lonely power of ten */
		if (base == 10 && hi / lo < 300) {
			fprintf(f, "set %stics (", ax);
			int first = 1;
			for (int k = (int)floor(log10(lo / 1.3)); k <= (int)ceil(log10(hi * 1.3)); k++)
				for (int m = 1; m <= 5; m += m == 1 ? 1 : 3) {
					const double v = m * pow(10, k);
					if (v < lo / 1.3 || v > hi * 1.3)
						continue;
					fprintf(f, "%s%.10g", first ? "" : ", ", v);
					first = 0;
				}
			fprintf(f, ")\n");
		}
	} else {
		double span = hi - lo;
		if (!(span > 0))
			span = lo != 0 ? fabs(lo) * 0.2 : 1;
		const double a = lo - 0.08 * span;
		fprintf(f, "set %srange [%.6g:%.6g]\n", ax, lo >= 0 && a < 0 ? 0 : a, hi + 0.08 * span);
	}
	fprintf(f, "set %slabel ", ax);
	gp_str(f, label);
	fprintf(f, "\n");
}

/* x tics at the measured values when there are few of them. */
void gp_xtics_at_data(FILE *f, const selection *const *sels, int nsel)
{
	double v[32];
	int n = 0;
	for (int k = 0; k < nsel; k++)
		for (int i = 0; i < sels[k]->n; i++)
			for (int j = 0; j < sels[k]->s[i].n; j++) {
				const double x = sels[k]->s[i].x[j];
				int p = 0;
				while (p < n && v[p] != x)
					p++;
				if (p == n) {
					if (n == 32)
						return; /* too many: gnuplot's own tics */
					v[n++] = x;
				}
			}
	if (n == 0 || n > 14)
		return;
	qsort(v, (size_t)n, sizeof *v, dbl_cmp);
	fprintf(f, "set xtics (");
	for (int i = 0; i < n; i++)
		fprintf(f, "%s%.10g", i ? ", " : "", v[i]);
	fprintf(f, ")\n");
}

/* A 1-2-5 step that gives at most about max_tics tics over span. */
static double nice_step(double span, int max_tics)
{
	if (!(span > 0))
		return 1;
	const double raw = span / max_tics, p = pow(10, floor(log10(raw))), m = raw / p;
	return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/* y tics for a byte axis: powers of two labelled "64 KiB", or plain
 * multiples on a linear axis. */
void gp_bytes_tics(FILE *f, double lo, double hi)
{
	if (!(lo > 0 && hi / lo > 10)) {
		/* linear: a binary unit and a 1-2-5 step, at most about 8 tics */
		const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
		int u = 0;
		while (u < 4 && hi >= 1024 * pow(1024, u))
			u++;
		const double U = pow(1024, u), step = nice_step((hi - lo > 0 ? hi - lo : hi) / U, 7);
		fprintf(f, "set ytics (");
		int first = 1;
		for (double v = floor(fmax(0, lo - 0.08 * (hi - lo)) / U / step) * step; v <= hi / U * 1.08;
		     v += step) {
			fprintf(f, "%s\"%g %s\" %.10g", first ? "" : ", ", v, unit[u], v * U);
			first = 0;
		}
		fprintf(f, ")\n");
		return;
	}
	int a = (int)floor(log2(lo / 1.3)), b = (int)ceil(log2(hi * 1.3));
	int step = 1;
	while ((b - a) / step > 9)
		step++;
	fprintf(f, "set ytics (");
	int first = 1;
	for (int e = a; e <= b; e++) {
		if ((e - a) % step)
			continue;
		char buf[32];
		fprintf(f, "%s\"%s\" %.10g", first ? "" : ", ", rep_bytes(ldexp(1, e), buf, sizeof buf), ldexp(1, e));
		first = 0;
	}
	fprintf(f, ")\n");
}

/* A time unit for values in ns: the largest unit the smallest value reaches. */
double time_unit(double lo_ns, const char **name)
{
	if (lo_ns >= 1e9) {
		*name = "s";
		return 1e9;
	}
	if (lo_ns >= 1e6) {
		*name = "ms";
		return 1e6;
	}
	if (lo_ns >= 1e3) {
		*name = "µs";
		return 1e3;
	}
	*name = "ns";
	return 1;
}

/* The plot command's element for a line in data block idx. */
void gp_line(FILE *f, const gp *g, int idx, const series *s, const char *title, int first)
{
	fprintf(f, "%s\"%s.dat\" index %d using 1:2 with linespoints lw 2 ps 1.1 lc rgb \"%s\" dt %d pt %d title ",
	        first ? "plot " : ", \\\n     ", g->name, idx, palette[s->color % 8], 1 + s->dash % 5,
	        point_types[s->open][s->pt % 8]);
	gp_str(f, title ? title : s->label);
}

/* One panel of a multiplot: lines of a selection against x. */
void gp_panel(gp *g, const selection *S, const char *title, const char *xlabel, int xbase, const char *ylabel,
              const char *xname, const char *yname)
{
	const selection *sels[] = {S};
	double xlo, xhi, ylo, yhi;
	data_range(sels, 1, 0, 1, &xlo, &xhi);
	data_range(sels, 1, 1, 1, &ylo, &yhi);
	fprintf(g->f, "set title ");
	gp_str(g->f, title);
	fprintf(g->f, "\n");
	gp_axis(g->f, "x", xlo, xhi, xbase, xlabel);
	gp_axis(g->f, "y", ylo, yhi, 10, ylabel);
	gp_xtics_at_data(g->f, sels, 1);
	fprintf(g->f, "set format y \"%%g\"\n");
	for (int i = 0; i < S->n; i++)
		gp_line(g->f, g, gp_block(g, &S->s[i], 1, xname, yname), &S->s[i], NULL, i == 0);
	fprintf(g->f, "\n");
}

/* Panel title: a line of what, then the fixed values. */
char *panel_title(const char *what, const char *phase, const char *fixed)
{
	return rep_asprintf("%s\n%s%s%s", what, phase ? phase : "", phase && fixed[0] ? ", " : "", fixed);
}

const char *gp_color(int i)
{
	return palette[i % 8];
}

const char *gp_dtype_fill(int style)
{
	static const char *const fill[] = {"solid 1.0", "pattern 4", "pattern 1",
	                                   "pattern 5", "pattern 2", "pattern 6"};
	return fill[style % 6];
}
