/* pictures_time.c - the pictures of time: cost.png (prefill against
 * seq_len), split.png (request scenarios), decode.png (decode step against
 * cache_len) and heads.png (prefill against heads and the GQA ratio). */
#include "report/pictures.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fit.h"
#include "report/gnuplot.h"

/* What a picture of times against a length shows. */
typedef struct time_plot {
	const char *name;         /* file name without extension */
	const char *heading;      /* its heading in report.md */
	const char *caption;      /* how to read it */
	const char *none;         /* the note when there is no line */
	const char *main, *fixed; /* title: the main line, the values held fixed */
	const char *xlabel;       /* the x axis */
	const char *xname;        /* the x column in the data file */
	const char *what;         /* the y axis, without its unit: "time per prefill call" */
	int slope2;               /* add the slope-2 reference line */
} time_plot;

/* The slope-2 reference through the geometric middle of the fitted lines
 * (in the y unit u), only the part inside the y range: no reliance on
 * clipping. */
static void slope2_reference(gp *g, const selection *S, const double range[4], double u, const char *lab)
{
	const double xlo = range[0], xhi = range[1], ylo = range[2], yhi = range[3], xm = sqrt(xlo * xhi);
	double lsum = 0;
	int nl = 0;
	for (int i = 0; i < S->n; i++)
		if (S->s[i].has_fit) {
			lsum += log(fit_power_eval(&S->s[i].fit, xm));
			nl++;
		}
	if (nl == 0)
		return;
	const double ym = exp(lsum / nl) / u;
	double x0 = xlo, x1 = xhi;
	const double ybot = ylo / u / 1.3, ytop = yhi / u * 1.3;
	if (yhi / ylo > 10) {
		x0 = fmax(x0, xm * sqrt(ybot / ym));
		x1 = fmin(x1, xm * sqrt(ytop / ym));
	}
	if (x1 <= x0) {
		x0 = xlo;
		x1 = xhi;
	}
	fprintf(g->d, "# slope-2 reference through the geometric middle of the lines\n# columns: seq_len, %s\n", lab);
	fprintf(g->d, "%.10g %.6g\n%.10g %.6g\n\n\n", x0, ym * (x0 / xm) * (x0 / xm), x1, ym * (x1 / xm) * (x1 / xm));
	fprintf(g->f,
	        ", \\\n     \"%s.dat\" index %d using 1:2 with lines lw 1.5 dt 2 lc rgb \"black\" title "
	        "\"slope 2 (t ~ n^2, reference)\"",
	        g->name, g->nblocks++);
}

/* The lines of S, time against a length, log-log, each line's fitted
 * exponent in its legend entry. 0, or 1 after an error message. */
static int time_lines(const report *R, const selection *S, const time_plot *tp)
{
	gp g;
	const int rc = gp_open(R, &g, tp->name, 1100, 800);
	if (rc)
		return rc;
	const selection *sels[] = {S};
	double range[4];
	data_range(sels, 1, 0, 1, &range[0], &range[1]);
	data_range(sels, 1, 1, 1, &range[2], &range[3]);
	const char *un;
	const double u = time_unit(range[2], &un);
	char sub[1024], lab[128];
	gp_subtitle(R, sels, 1, sub, sizeof sub);
	gp_title(g.f, tp->main, tp->fixed, sub);
	gp_axis(g.f, "x", range[0], range[1], 2, tp->xlabel);
	snprintf(lab, sizeof lab, "%s (%s)", tp->what, un);
	gp_axis(g.f, "y", range[2] / u, range[3] / u, 10, lab);
	gp_xtics_at_data(g.f, sels, 1);
	fprintf(g.f, "set format y \"%%g\"\n");
	for (int i = 0; i < S->n; i++) {
		const series *s = &S->s[i];
		char title[512];
		if (s->has_fit)
			snprintf(title, sizeof title, "%s: t ~ n^%.2f", s->label, s->fit.exponent);
		else
			snprintf(title, sizeof title, "%s", s->label);
		gp_line(g.f, &g, gp_block(&g, s, u, tp->xname, lab), s, title, i == 0);
	}
	if (tp->slope2)
		slope2_reference(&g, S, range, u, lab);
	fprintf(g.f, "\n");
	return gp_close_run(R, &g) ? 1 : 0;
}

/* A picture of the lines of S as time_plot tp says, or its note where S
 * has none. */
static int time_picture(const report *R, const selection *S, const time_plot *tp, picture *p)
{
	picture_init(p, tp->name, tp->heading, tp->caption);
	if (S->n == 0) {
		p->note = rep_asprintf("%s", tp->none);
		return 0;
	}
	const int rc = time_lines(R, S, tp);
	if (rc)
		return rc;
	p->drawn = 1;
	return 0;
}

/* cost.png: prefill time against seq_len, log-log, fitted exponents and a
 * slope-2 reference. */
int plot_cost(const report *R, const base_lines *L, picture *p)
{
	const time_plot tp = {
	    .name = "cost",
	    .heading = "Quadratic cost of prefill",
	    .caption =
	        "Prefill time per call against the number of new tokens, both axes logarithmic. A power law t ~ n^k "
	        "is a straight line of slope k: the legend gives each line's k, fitted by least squares of log t on "
	        "log n over the points with seq_len >= 512 (all points when fewer than three are that long). The "
	        "dashed line has slope 2, the quadratic cost of attention; lines flatter than it at small n are "
	        "paying a fixed per-call cost, lines steeper than it are falling out of cache. fits.csv has the "
	        "numbers.",
	    .none = "not drawn: no prefill rows with two or more seq_len values of one shape",
	    .main = "Prefill time against sequence length (log-log)",
	    .fixed = L->prefill.title,
	    .xlabel = "seq_len (new tokens per prefill call)",
	    .xname = "seq_len",
	    .what = "time per prefill call",
	    .slope2 = 1,
	};
	return time_picture(R, &L->prefill, &tp, p);
}

/* decode.png: decode time per step against cache_len. */
int plot_decode(const report *R, const base_lines *L, picture *p)
{
	char fixed[640];
	snprintf(fixed, sizeof fixed, "decode, %s", L->decode.title);
	const time_plot tp = {
	    .name = "decode",
	    .heading = "Decode time against cache length",
	    .caption = "Time of one decode step (one new token per sequence, attending over the whole cache) against "
	               "the number of cached tokens. Decode reads every cached key and value once, so the cost is "
	               "linear: the legend's fitted exponent should be near 1. A flat start means a fixed per-call "
	               "cost dominates short caches.",
	    .none = "not drawn: no decode rows with two or more cache_len values of one shape",
	    .main = "Decode step time against cache length",
	    .fixed = fixed,
	    .xlabel = "cache_len (keys attended per decode step)",
	    .xname = "cache_len",
	    .what = "time per decode step",
	};
	return time_picture(R, &L->decode, &tp, p);
}

/* "#rrggbb" of colour c moved num/den of the way to grey level target
 * (0: black, 255: white). */
static void rgb_mix(const char *c, int target, int num, int den, char out[8])
{
	const unsigned rgb = (unsigned)strtoul(c + 1, NULL, 16);
	unsigned mixed = 0;
	for (int sh = 0; sh <= 16; sh += 8) {
		const int v = (int)((rgb >> sh) & 0xff);
		mixed |= (unsigned)(v + (target - v) * num / den) << sh;
	}
	snprintf(out, 8, "#%06x", mixed & 0xffffff);
}

/* The split picture's compact key: the backends' colours and the dtypes'
 * fills (the title says which part of a bar is prefill). */
static void split_key(const report *R, FILE *f)
{
	const request_split *q = &R->split;
	for (int b = 0; b < R->nbackends; b++)
		for (int k = 0; k < q->nlines; k++)
			if (q->color[k] == b) {
				fprintf(f,
				        ", \\\n     keyentry with boxes fs solid 1.0 border lc rgb \"%s\" fc rgb "
				        "\"%s\" title ",
				        gp_color(b), gp_color(b));
				gp_str(f, R->backends[b]);
				break;
			}
	for (int st = 0; st < 6; st++)
		for (int k = 0; k < q->nlines; k++)
			if (q->shade[k] == st) {
				fprintf(f,
				        ", \\\n     keyentry with boxes fs %s border lc rgb \"#404040\" fc rgb "
				        "\"#404040\" title ",
				        gp_dtype_fill(st));
				gp_str(f, dtype_name((attn_dtype)st));
				break;
			}
}

/* split.png: per request scenario (prompt P, T generated tokens), stacked
 * bars of prefill time and the decode total for each line. */
int plot_split(const report *R, const base_lines *L, picture *p)
{
	const selection *S = &L->prefill, *D = &L->decode;
	picture_init(
	    p, "split", "Prefill/decode split of a request",
	    "One request is a prefill of P prompt tokens and then T decode steps over caches of P .. P+T-1 tokens. "
	    "Each bar is one backend (its colour) and dtype (f32 solid, f16 hatched, bf16 cross-hatched, as in the "
	    "key): the dark part is the prefill time, the light part the sum of the T decode steps. Decode steps are "
	    "interpolated linearly in cache_len between the measured decode points "
	    "(extrapolated linearly beyond them); a prompt length marked * was not measured and its prefill time "
	    "comes from the power-law fit of the cost plot. On a logarithmic time axis compare the tops of the "
	    "bars; the appendix (request scenarios) has the numbers.");
	const request_split *q = &R->split;
	const int np = q->nlines, nsc = q->nsc, width = np + 1;
	if (np == 0) {
		p->note =
		    rep_asprintf("not drawn: needs a backend with both a prefill line (two or more seq_len) and a "
		                 "decode line (two or more cache_len)");
		return 0;
	}
	int any_est[MAX_SCEN * MAX_SCEN] = {0};
	for (int at = 0; at < np * nsc; at++)
		any_est[at % nsc] |= q->est[at];
	const double lo = q->lo, hi = q->hi, *pre = q->pre, *dec = q->dec;
	gp g;
	const int rc = gp_open(R, &g, "split", 1300, 850);
	if (rc)
		return rc;
	const char *un;
	const double u = time_unit(lo, &un);
	const int lg = hi / lo > 10;
	const double base = lg ? lo / u / 2 : 0;
	char sub[1024], lab[128], fixed[800];
	const selection *sels[] = {S, D};
	gp_subtitle(R, sels, 2, sub, sizeof sub);
	snprintf(fixed, sizeof fixed, "%s; decode interpolated linearly in cache_len", S->title);
	int some_est = 0;
	for (int sc = 0; sc < nsc; sc++)
		some_est |= any_est[sc];
	if (some_est)
		snprintf(fixed + strlen(fixed), sizeof fixed - strlen(fixed),
		         "\n* prefill at this P not measured: from the power-law fit");
	gp_title(g.f, "Time of one request: prefill of P tokens (dark), then T decode steps (light)", fixed, sub);
	fprintf(g.f, "set xrange [0:%d]\n", nsc * width);
	fprintf(g.f, "set xtics scale 0 (");
	for (int sc = 0; sc < nsc; sc++)
		fprintf(g.f, "%s\"P %lld%s\\nT %lld\" %.10g", sc ? ", " : "", (long long)R->prompts[sc / R->ngen],
		        any_est[sc] ? "*" : "", (long long)R->gen[sc % R->ngen], sc * width + width / 2.0);
	fprintf(g.f, ")\n");
	fprintf(g.f, "set xlabel \"request scenario: P prompt tokens, T generated tokens\" offset 0,-0.6\n");
	snprintf(lab, sizeof lab, "time per request (%s)", un);
	if (lg) {
		fprintf(g.f, "set logscale y 10\nset yrange [%.6g:%.6g]\n", base, hi / u * 1.5);
	} else {
		fprintf(g.f, "set yrange [0:%.6g]\n", hi / u * 1.08);
	}
	fprintf(g.f, "set ylabel ");
	gp_str(g.f, lab);
	fprintf(g.f, "\nset format y \"%%g\"\nset grid noxtics ytics\n");
	for (int sc = 1; sc < nsc; sc++)
		fprintf(g.f, "set arrow from %d, graph 0 to %d, graph 1 nohead lc rgb \"#c0c0c0\" dt 3\n", sc * width,
		        sc * width);
	fprintf(g.f, "base = %.6g\n", base);
	/* one key entry per backend, dtype and bar part where that names every
	 * bar; a key entry per bar part where two bars share a colour and fill
	 * (two machines, or devices, of one backend) */
	int compact = 1;
	for (int k = 0; k < np; k++)
		for (int j = 0; j < k; j++)
			compact &= q->color[j] != q->color[k] || q->shade[j] != q->shade[k];
	for (int k = 0; k < np; k++) {
		gp_comment(g.d, q->label[k]);
		fprintf(g.d, "# x prefill total xlow xhigh P T prefill_from_fit\n");
		for (int sc = 0; sc < nsc; sc++) {
			const int at = k * nsc + sc;
			const double x = sc * width + k + 1;
			fprintf(g.d, "%.10g %.6g %.6g %.10g %.10g %lld %lld %d\n", x, pre[at] / u,
			        (pre[at] + dec[at]) / u, x - 0.42, x + 0.42, (long long)R->prompts[sc / R->ngen],
			        (long long)R->gen[sc % R->ngen], q->est[at]);
		}
		fprintf(g.d, "\n\n");
		/* the backend's colour; the dtype's fill, and a shade darker for
		 * f16 and bf16; the decode part blended with white (opaque, so
		 * every SVG renderer shows it the same) */
		char c[8], lc[8], fill[32];
		rgb_mix(gp_color(q->color[k]), 0, q->shade[k] % 3, 4, c);
		rgb_mix(c, 255, 2, 3, lc);
		snprintf(fill, sizeof fill, "%s", gp_dtype_fill(q->shade[k]));
		for (int part = 0; part < 2; part++) {
			fprintf(g.f,
			        "%s\"split.dat\" index %d using %s with boxxyerror fs %s border lc rgb \"%s\" fc rgb "
			        "\"%s\" ",
			        k || part ? ", \\\n     " : "plot ", k, part ? "1:3:4:5:2:3" : "1:2:4:5:(base):2", fill,
			        c, part ? lc : c);
			if (compact) {
				fprintf(g.f, "notitle");
				continue;
			}
			char t[512];
			snprintf(t, sizeof t, "%s: %s", q->label[k], part ? "decode (T steps)" : "prefill");
			fprintf(g.f, "title ");
			gp_str(g.f, t);
		}
	}
	if (compact)
		split_key(R, g.f);
	fprintf(g.f, "\n");
	if (gp_close_run(R, &g))
		return 1;
	p->drawn = 1;
	return 0;
}

/* heads.png: prefill time against the GQA ratio at fixed n_heads, and
 * against n_heads at a fixed GQA ratio. */
int plot_heads(const report *R, const base_lines *L, picture *p)
{
	(void)L;
	picture_init(
	    p, "heads", "Heads and GQA",
	    "Left: prefill time against the GQA ratio (query heads per KV head) with the number of query heads "
	    "fixed: the arithmetic is the same, so a flat line is expected, and a falling one shows a backend that "
	    "reuses each K/V tile across the query heads of a group. Right: prefill time against n_heads at a fixed "
	    "GQA ratio: the work grows linearly with the heads, so the line should have slope 1 on these log axes.");
	sel_spec a = {PHASE_PREFILL,
	              V_RATIO,
	              S_MACHINE | VM(V_HEADS),
	              VM(V_BATCH) | VM(V_HD) | VM(V_SEQ) | VM(V_DTYPE) | VM(V_WINDOW) | VM(V_VARIANT) | VM(V_CSTATE),
	              y_time,
	              2,
	              NULL};
	/* the variants are held fixed too: a windowed or q8_0 point never joins a plain line */
	sel_spec b = {PHASE_PREFILL,
	              V_HEADS,
	              S_MACHINE,
	              VM(V_BATCH) | VM(V_RATIO) | VM(V_HD) | VM(V_SEQ) | VM(V_DTYPE) | VM(V_WINDOW) | VM(V_VARIANT) |
	                  VM(V_CSTATE),
	              y_time,
	              2,
	              NULL};
	selection A, B;
	if (select_lines(R, &a, &A))
		return rep_fail(1, "out of memory");
	if (select_lines(R, &b, &B)) {
		sel_free(&A);
		return rep_fail(1, "out of memory");
	}
	int rc = 0;
	if (A.n == 0 && B.n == 0) {
		p->note = rep_asprintf("not drawn: no prefill rows varying the GQA ratio or n_heads");
	} else {
		gp g;
		const int two = A.n && B.n;
		rc = gp_open(R, &g, "heads", two ? 1600 : 1000, 850);
		if (rc == 0) {
			const selection *all[] = {&A, &B};
			double lo, hi, lo2, hi2;
			data_range(all, 2, 1, 1, &lo, &hi);
			const char *un;
			const double u = time_unit(lo, &un);
			char sub[1024], lab[64];
			gp_subtitle(R, all, 2, sub, sizeof sub);
			snprintf(lab, sizeof lab, "time per prefill call (%s)", un);
			char *t = rep_asprintf("Prefill time against heads and GQA ratio\n%s", sub);
			fprintf(g.f, "set multiplot layout 1,%d title ", two ? 2 : 1);
			gp_str(g.f, t ? t : "");
			fprintf(g.f, "\n");
			free(t);
			for (int k = 0; k < 2; k++) {
				const selection *S = k ? &B : &A;
				if (!S->n)
					continue;
				const selection *one[] = {S};
				char *pt = panel_title(k ? "against n_heads at a fixed GQA ratio"
				                         : "against the GQA ratio at fixed n_heads",
				                       phase_name(PHASE_PREFILL), S->title);
				fprintf(g.f, "unset logscale\nset title ");
				gp_str(g.f, pt ? pt : "");
				fprintf(g.f, "\n");
				free(pt);
				data_range(one, 1, 0, 1, &lo2, &hi2);
				gp_axis(g.f, "x", lo2, hi2, 2,
				        k ? "n_heads (query heads)" : "GQA ratio n_heads / n_kv_heads (1 = MHA)");
				data_range(one, 1, 1, u, &lo2, &hi2);
				gp_axis(g.f, "y", lo2, hi2, 10, lab);
				fprintf(g.f, "set format y \"%%g\"\n");
				gp_xtics_at_data(g.f, one, 1);
				for (int i = 0; i < S->n; i++)
					gp_line(g.f, &g, gp_block(&g, &S->s[i], u, k ? "n_heads" : "gqa_ratio", lab),
					        &S->s[i], NULL, i == 0);
				fprintf(g.f, "\n");
			}
			fprintf(g.f, "unset multiplot\n");
			rc = gp_close_run(R, &g);
			p->drawn = rc == 0;
		}
	}
	sel_free(&A);
	sel_free(&B);
	return rc;
}
