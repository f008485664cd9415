/* pictures_roofline.c - the roofline picture: every measured row as a point
 * of GFLOP/s against arithmetic intensity (FLOP per byte moved), log-log,
 * under the machine's own ceilings: the multiply-add peak (the attention-
 * shaped sgemm rate, drawn too, is a reference, not a ceiling; runs that
 * predate the peak have only it) and the read bandwidth of each cache level
 * from the measured curve (machine.json's roofline_bw_curve; the LLC and
 * DRAM figures of runs that predate it).
 *
 * A row's intensity is gflops / gbytes_s (FLOPs and bytes of the same call),
 * so the picture needs no other column. A point under a sloped ceiling is
 * limited by that level's bandwidth; under the flat one, by arithmetic. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/gnuplot.h"
#include "report/pictures.h"

#define MAX_CEIL   5
#define MAX_BLOCKS 256
#define N_DTYPES   3 /* the storage dtypes of a row: f32, f16, bf16 */

/* One ceiling: a bandwidth (GB/s) and its name. */
typedef struct ceiling {
	double gbs;
	char name[96];
} ceiling;

/* The bandwidth ceilings of a machine's peaks: the curve's first point
 * (an L1-sized working set), its point nearest 1 MiB (L2-sized), the LLC
 * figure and the DRAM figure; without a curve, the last two. */
static int ceilings(const roofline *pk, ceiling *c)
{
	int n = 0;
	char b[32];
	if (pk->n_curve > 0) {
		snprintf(c[n].name, sizeof c[n].name, "read, %s working set (L1)",
		         fmt_bytes(pk->curve_bytes[0], b, sizeof b));
		c[n++].gbs = pk->curve_gbs[0];
		int best = 0;
		for (int i = 1; i < pk->n_curve; i++)
			if (fabs(log2((double)pk->curve_bytes[i]) - 20) <
			    fabs(log2((double)pk->curve_bytes[best]) - 20))
				best = i;
		if (best > 0) {
			snprintf(c[n].name, sizeof c[n].name, "read, %s working set (L2)",
			         fmt_bytes(pk->curve_bytes[best], b, sizeof b));
			c[n++].gbs = pk->curve_gbs[best];
		}
	}
	snprintf(c[n].name, sizeof c[n].name, "read, last-level cache");
	c[n++].gbs = pk->llc_gbs;
	snprintf(c[n].name, sizeof c[n].name, "read, DRAM");
	c[n++].gbs = pk->dram_gbs;
	return n;
}

/* The first machine whose newest run carries peaks (-1: none). */
static int peaks_machine(const report *R)
{
	for (int m = 0; m < R->nmach; m++) {
		const run_in *ri = &R->runs[R->machines[m].run];
		if (ri->has_json && ri->m.has_roofline && roofline_flops_ceiling(&ri->m.peaks) > 0)
			return m;
	}
	return -1;
}

static const enum phase phases[] = {PHASE_PREFILL, PHASE_DECODE, PHASE_ATTEND};

int plot_roofline(const report *R, const base_lines *L, picture *p)
{
	(void)L;
	picture_init(
	    p, "roofline", "Roofline: rate against arithmetic intensity",
	    "Each point is one measured row: GFLOP/s against FLOP per byte moved (both axes logarithmic), "
	    "colour by backend, shape by phase, filled for f32, open for f16 and small for bf16. The lines "
	    "are the machine's own measured ceilings: flat and solid, the multiply-add peak (long dashes, the "
	    "attention-shaped sgemm rate, for reference); sloped, the read bandwidth at an L1-, L2-, LLC- and "
	    "DRAM-sized working set. Decode sits far left (few FLOPs per byte: bandwidth-bound), prefill to the "
	    "right; a point's distance below the nearest ceiling is what its kernel leaves unused.");
	const int m = peaks_machine(R);
	if (m < 0) {
		p->note = rep_asprintf("not drawn: no run has the machine's measured peaks (machine.json roofline_*)");
		return 0;
	}
	const roofline *pk = &R->runs[R->machines[m].run].m.peaks;
	double xlo = INFINITY, xhi = 0, ylo = INFINITY, yhi = 0;
	int npts = 0;
	for (int i = 0; i < R->nrows; i++) {
		const rrow *r = &R->rows[i];
		if (r->dropped || !(r->gflops > 0) || !(r->gbytes_s > 0))
			continue;
		const double ai = r->gflops / r->gbytes_s;
		xlo = fmin(xlo, ai), xhi = fmax(xhi, ai), ylo = fmin(ylo, r->gflops), yhi = fmax(yhi, r->gflops);
		npts++;
	}
	if (npts == 0) {
		p->note = rep_asprintf("not drawn: no row with GFLOP/s and GB/s");
		return 0;
	}
	ceiling c[MAX_CEIL];
	const int nc = ceilings(pk, c);
	gp g;
	int rc = gp_open(R, &g, "roofline", 1100, 800);
	if (rc)
		return rc;
	/* data: one block per (backend, phase, dtype) with points */
	int blocks = 0, bk[MAX_BLOCKS], ph[MAX_BLOCKS], dt[MAX_BLOCKS];
	for (int b = 0; b < R->nbackends && blocks < MAX_BLOCKS; b++)
		for (int f = 0; f < 3 && blocks < MAX_BLOCKS; f++)
			for (int d = 0; d < N_DTYPES && blocks < MAX_BLOCKS; d++) {
				int any = 0;
				for (int i = 0; i < R->nrows; i++) {
					const rrow *r = &R->rows[i];
					if (r->dropped || !(r->gflops > 0) || !(r->gbytes_s > 0) ||
					    r->phase != phases[f] || dtype_style(r->dtype) != d ||
					    strcmp(r->backend, R->backends[b]) != 0)
						continue;
					if (!any) {
						char *t =
						    rep_asprintf("%s %s %s: FLOP/byte, GFLOP/s", R->backends[b],
						                 phase_name(phases[f]), dtype_name((attn_dtype)d));
						gp_comment(g.d, t ? t : "points");
						free(t);
					}
					fprintf(g.d, "%.6g %.6g\n", r->gflops / r->gbytes_s, r->gflops);
					any = 1;
				}
				if (any) {
					fprintf(g.d, "\n\n");
					bk[blocks] = b;
					ph[blocks] = f;
					dt[blocks++] = d;
				}
			}
	/* the axes reach the ridge points of every ceiling */
	const double peak = roofline_flops_ceiling(pk);
	for (int k = 0; k < nc; k++)
		if (c[k].gbs > 0)
			xhi = fmax(xhi, 2 * peak / c[k].gbs);
	yhi = fmax(yhi, peak);
	fprintf(g.f, "set logscale xy\nset xrange [%g:%g]\nset yrange [%g:%g]\n", xlo / 2, xhi * 2, ylo / 2, yhi * 2);
	char *t = rep_asprintf("Roofline of %s (%s)", R->machines[m].host, R->machines[m].cpu);
	fprintf(g.f, "set title ");
	gp_str(g.f, t ? t : "Roofline");
	free(t);
	fprintf(g.f, "\nset xlabel \"arithmetic intensity (FLOP per byte moved)\"\nset ylabel \"GFLOP/s\"\n");
	fprintf(g.f, "peak = %.6g\nsgemm = %.6g\n", peak, pk->sgemm_attn_gflops);
	for (int k = 0; k < nc; k++)
		fprintf(g.f, "bw%d = %.6g\nroof%d(x) = x * bw%d < peak ? x * bw%d : peak\n", k, c[k].gbs, k, k, k);
	fprintf(g.f, "plot ");
	for (int k = 0; k < nc; k++) {
		char *lt = rep_asprintf("%s, %.1f GB/s", c[k].name, c[k].gbs);
		fprintf(g.f, "%sroof%d(x) with lines dt %d lw 1.5 lc rgb \"#555555\" title ", k ? ", " : "", k, k + 2);
		gp_str(g.f, lt ? lt : c[k].name);
		free(lt);
	}
	char *pt = pk->fma_gflops > 0 ? rep_asprintf("multiply-add peak, %.1f GFLOP/s", peak)
	                              : rep_asprintf("attention-shaped sgemm, %.1f GFLOP/s", peak);
	fprintf(g.f, ", peak with lines lw 2 lc rgb \"#000000\" title ");
	gp_str(g.f, pt ? pt : "peak");
	free(pt);
	if (pk->fma_gflops > 0 && pk->sgemm_attn_gflops > 0) {
		char *st = rep_asprintf("attention-shaped sgemm (reference), %.1f GFLOP/s", pk->sgemm_attn_gflops);
		fprintf(g.f, ", sgemm with lines dt (12, 6) lw 1.5 lc rgb \"#000000\" title ");
		gp_str(g.f, st ? st : "sgemm");
		free(st);
	}
	/* shape by phase: circle, triangle, square; filled for f32, open for
	 * f16, small and filled for bf16 */
	static const int shape[3][2] = {{7, 6}, {9, 8}, {5, 4}};
	for (int i = 0; i < blocks; i++)
		fprintf(g.f, ", \"roofline.dat\" index %d using 1:2 with points pt %d ps %.2g lc rgb \"%s\" notitle", i,
		        shape[ph[i]][dt[i] == 1], dt[i] == 2 ? 0.7 : 1.4, gp_color(bk[i]));
	/* the key: each backend's colour, each phase's shape, each dtype's fill */
	int seen[64] = {0}, seen_ph[3] = {0}, seen_dt[N_DTYPES] = {0};
	for (int i = 0; i < blocks; i++)
		seen[bk[i] % 64] = seen_ph[ph[i]] = seen_dt[dt[i]] = 1;
	for (int b = 0; b < R->nbackends && b < 64; b++)
		if (seen[b]) {
			fprintf(g.f, ", \\\n     keyentry with points pt 7 ps 1.4 lc rgb \"%s\" title ", gp_color(b));
			gp_str(g.f, R->backends[b]);
		}
	for (int f = 0; f < 3; f++)
		if (seen_ph[f]) {
			fprintf(g.f, ", \\\n     keyentry with points pt %d ps 1.4 lc rgb \"#404040\" title ",
			        shape[f][0]);
			gp_str(g.f, phase_name(phases[f]));
		}
	for (int d = 0; d < N_DTYPES; d++)
		if (seen_dt[d]) {
			fprintf(g.f, ", \\\n     keyentry with points pt %d ps %.2g lc rgb \"#404040\" title ",
			        d == 1 ? 6 : 7, d == 2 ? 0.7 : 1.4);
			gp_str(g.f, dtype_name((attn_dtype)d));
		}
	fprintf(g.f, "\n");
	rc = gp_close_run(R, &g);
	p->drawn = rc == 0;
	/* a cache that reads slower than DRAM is a measurement gone wrong
	 * (another load on the machine while it ran): say so */
	int suspect = -1;
	for (int k = 0; k + 1 < nc; k++)
		if (c[k].gbs > 0 && c[k].gbs < c[nc - 1].gbs && (suspect < 0 || c[k].gbs < c[suspect].gbs))
			suspect = k;
	if (p->drawn && (R->nmach > 1 || suspect >= 0))
		p->note = rep_asprintf(
		    "%s%s%s%s%s", R->nmach > 1 ? "The ceilings are those of " : "",
		    R->nmach > 1 ? R->machines[m].host : "",
		    R->nmach > 1 ? "; the points are every machine's rows." : "",
		    R->nmach > 1 && suspect >= 0 ? " " : "",
		    suspect < 0
		        ? ""
		        : "Suspect ceilings: a cache level reads slower than DRAM on this machine's measured curve "
		          "(another load while `attnbench roofline` ran?); measure again on a quiet machine.");
	return rc;
}
