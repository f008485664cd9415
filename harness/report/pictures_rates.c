/* pictures_rates.c - the pictures of bytes and rates: memory.png (KV cache
 * and workspace against seq_len), memory_gqa.png (KV cache against the GQA
 * ratio) and throughput.png (GFLOP/s, GB/s and % of peak). */
#include "report/pictures.h"

#include <stdlib.h>
#include <string.h>

#include "report/gnuplot.h"

/* memory.png: KV-cache bytes and each backend's workspace against seq_len. */
int plot_memory(const report *R, const base_lines *L, picture *p)
{
	(void)L;
	picture_init(
	    p, "memory", "Memory footprint",
	    "Bytes against seq_len for prefill, both axes logarithmic. The KV cache (K and V of every token, "
	    "2 x batch x n_kv_heads x seq_len x head_dim x the dtype's size: 4 bytes for f32, 2 for f16 and bf16, "
	    "one line each where the run measured them) grows linearly; a backend that materialises the score "
	    "matrix has a workspace that grows with the square of seq_len (slope 2 here), a tiled backend a flat "
	    "one.");
	sel_spec ws = {PHASE_PREFILL, V_SEQ, S_BACKEND_DTYPE, CTX_SHAPE, y_ws, 2, NULL};
	selection W, K;
	if (select_lines(R, &ws, &W))
		return rep_fail(1, "out of memory");
	sel_spec kv = {PHASE_PREFILL, V_SEQ, VM(V_DTYPE), CTX_SHAPE, y_kv, 2, W.n ? W.s[0].ctx : NULL};
	if (select_lines(R, &kv, &K)) {
		sel_free(&W);
		return rep_fail(1, "out of memory");
	}
	int rc = 0;
	if (W.n == 0 && K.n == 0) {
		p->note = rep_asprintf("not drawn: no prefill rows with two or more seq_len values of one shape");
	} else {
		gp g;
		rc = gp_open(R, &g, "memory", 1100, 800);
		if (rc == 0) {
			const selection *sels[] = {&K, &W};
			double xlo, xhi, ylo, yhi;
			data_range(sels, 2, 0, 1, &xlo, &xhi);
			data_range(sels, 2, 1, 1, &ylo, &yhi);
			char sub[1024], fixed[640];
			gp_subtitle(R, sels, 2, sub, sizeof sub);
			snprintf(fixed, sizeof fixed, "prefill, %s", W.n ? W.title : K.title);
			gp_title(g.f, "Memory: KV cache and backend workspace against sequence length", fixed, sub);
			gp_axis(g.f, "x", xlo, xhi, 2, "seq_len (tokens)");
			gp_axis(g.f, "y", ylo, yhi, 2, "bytes");
			gp_bytes_tics(g.f, ylo, yhi);
			gp_xtics_at_data(g.f, sels, 2);
			int first = 1;
			/* one black line per storage dtype: the cache is the same for every backend */
			for (int i = 0; i < K.n; i++) {
				const int idx = gp_block(&g, &K.s[i], 1, "seq_len", "kv_cache_bytes");
				char t[128];
				snprintf(t, sizeof t, "KV cache %.16s (every backend)", dtype_name(K.s[i].row0->dtype));
				fprintf(g.f,
				        "%s\"memory.dat\" index %d using 1:2 with linespoints lw 3 lc rgb \"black\" "
				        "dt %d pt 6 title ",
				        first ? "plot " : ", \\\n     ", idx, i + 1);
				gp_str(g.f, t);
				first = 0;
			}
			for (int i = 0; i < W.n; i++) {
				const series *s = &W.s[i];
				char t[512];
				snprintf(t, sizeof t, "workspace: %s", s->label);
				gp_line(g.f, &g, gp_block(&g, s, 1, "seq_len", "workspace_bytes"), s, t, first);
				first = 0;
			}
			fprintf(g.f, "\n");
			rc = gp_close_run(R, &g);
			p->drawn = rc == 0;
		}
	}
	sel_free(&W);
	sel_free(&K);
	return rc;
}

/* memory_gqa.png: KV-cache bytes against the GQA ratio at fixed n_heads. */
int plot_memory_gqa(const report *R, const base_lines *L, picture *p)
{
	(void)L;
	picture_init(
	    p, "memory_gqa", "KV cache against the GQA ratio",
	    "KV-cache bytes against the GQA ratio n_heads/n_kv_heads at a fixed number of query heads, both axes "
	    "logarithmic: grouping query heads over fewer KV heads divides the cache by the ratio (slope -1), "
	    "MQA being the far right.");
	sel_spec gq = {PHASE_PREFILL | PHASE_DECODE,
	               V_RATIO,
	               VM(V_HEADS),
	               VM(V_PHASE) | VM(V_BATCH) | VM(V_HD) | VM(V_SEQ) | VM(V_CACHE) | VM(V_DTYPE),
	               y_kv,
	               2,
	               NULL};
	selection G;
	if (select_lines(R, &gq, &G))
		return rep_fail(1, "out of memory");
	int rc = 0;
	if (G.n == 0) {
		p->note = rep_asprintf("not drawn: no rows with two or more GQA ratios at the same n_heads");
	} else {
		gp g;
		rc = gp_open(R, &g, "memory_gqa", 1000, 750);
		if (rc == 0) {
			const selection *sels[] = {&G};
			double xlo, xhi, ylo, yhi;
			data_range(sels, 1, 0, 1, &xlo, &xhi);
			data_range(sels, 1, 1, 1, &ylo, &yhi);
			char sub[1024];
			gp_subtitle(R, sels, 1, sub, sizeof sub);
			gp_title(g.f, "KV-cache size against the GQA ratio", G.title, sub);
			gp_axis(g.f, "x", xlo, xhi, 2, "GQA ratio n_heads / n_kv_heads (1 = MHA, n_heads = MQA)");
			gp_axis(g.f, "y", ylo, yhi, 2, "KV-cache bytes");
			gp_bytes_tics(g.f, ylo, yhi);
			gp_xtics_at_data(g.f, sels, 1);
			for (int i = 0; i < G.n; i++) {
				const series *s = &G.s[i];
				gp_line(g.f, &g, gp_block(&g, s, 1, "gqa_ratio", "kv_cache_bytes"), s, NULL, i == 0);
			}
			fprintf(g.f, "\n");
			rc = gp_close_run(R, &g);
			p->drawn = rc == 0;
		}
	}
	sel_free(&G);
	return rc;
}

/* throughput.png: GFLOP/s against seq_len (prefill) and GB/s against
 * cache_len (decode); % of peak too where results.csv has those columns. */
int plot_throughput(const report *R, const base_lines *L, picture *p)
{
	(void)L;
	picture_init(
	    p, "throughput", "Throughput",
	    "Left: prefill arithmetic rate (GFLOP/s, 4 x batch x n_heads x head_dim per unmasked query-key pair) "
	    "against seq_len; it climbs while per-call overheads are amortised and flattens at what the backend can "
	    "sustain. Right: decode memory bandwidth (GB/s of Q, K, V read and O written) against cache_len; decode "
	    "is bandwidth-bound, so this is the number to compare with the machine's memory bandwidth.");
	sel_spec a = cost_spec, b = decode_spec, c = cost_spec, d = decode_spec;
	a.y = y_gflops;
	b.y = y_gbs;
	c.y = y_pct_flops;
	d.y = y_pct_bw;
	selection A, B, C = {0}, Dd = {0};
	if (select_lines(R, &a, &A))
		return rep_fail(1, "out of memory");
	if (select_lines(R, &b, &B)) {
		sel_free(&A);
		return rep_fail(1, "out of memory");
	}
	if ((R->has_pct_flops && select_lines(R, &c, &C)) || (R->has_pct_bw && select_lines(R, &d, &Dd))) {
		sel_free(&A);
		sel_free(&B);
		sel_free(&C);
		return rep_fail(1, "out of memory");
	}
	const selection *panels[4];
	int np = 0, rc = 0;
	if (A.n)
		panels[np++] = &A;
	if (B.n)
		panels[np++] = &B;
	if (C.n)
		panels[np++] = &C;
	if (Dd.n)
		panels[np++] = &Dd;
	if (np == 0) {
		p->note = rep_asprintf("not drawn: no prefill or decode lines with two or more points");
	} else {
		int over = 0; /* rows above 100% of a peak */
		for (int i = 0; i < R->nrows; i++)
			over += !R->rows[i].dropped && (R->rows[i].pct_flops > 100 || R->rows[i].pct_bw > 100);
		if (C.n || Dd.n)
			p->note = rep_asprintf(
			    "Bottom: the same as a percentage of the machine's peak (results.csv columns "
			    "pct_peak_flops and "
			    "pct_peak_bw).%s",
			    over
			        ? " Points above 100% ran faster than the peak measured for the sweep: the machine was "
			          "busier while `attnbench roofline` measured it than during those rows, so take the "
			          "percentages as rough and measure the peaks again on a quiet machine."
			        : "");
		gp g;
		const int cols = np == 1 ? 1 : 2, rows = np > 2 ? 2 : 1;
		rc = gp_open(R, &g, "throughput", cols == 1 ? 1000 : 1600, rows == 1 ? 780 : 1400);
		if (rc == 0) {
			char sub[1024];
			gp_subtitle(R, panels, np, sub, sizeof sub);
			char *t = rep_asprintf("Throughput\n%s", sub);
			fprintf(g.f, "set multiplot layout %d,%d title ", rows, cols);
			gp_str(g.f, t ? t : "Throughput");
			fprintf(g.f, "\n");
			free(t);
			for (int i = 0; i < np; i++) {
				const selection *S = panels[i];
				const int pre = S == &A || S == &C;
				char *pt = panel_title(S == &A   ? "Prefill: GFLOP/s against seq_len"
				                       : S == &B ? "Decode: GB/s against cache_len"
				                       : S == &C ? "Prefill: % of peak FLOP/s"
				                                 : "Decode: % of peak memory bandwidth",
				                       phase_name(pre ? PHASE_PREFILL : PHASE_DECODE), S->title);
				gp_panel(&g, S, pt ? pt : "",
				         pre ? "seq_len (new tokens per call)" : "cache_len (keys attended)", 2,
				         S == &A   ? "GFLOP/s"
				         : S == &B ? "GB/s"
				         : S == &C ? "% of peak FLOP/s"
				                   : "% of peak bandwidth",
				         pre ? "seq_len" : "cache_len",
				         S == &A   ? "gflops"
				         : S == &B ? "gbytes_s"
				         : S == &C ? "pct_peak_flops"
				                   : "pct_peak_bw");
				free(pt);
			}
			fprintf(g.f, "unset multiplot\n");
			rc = gp_close_run(R, &g);
			p->drawn = rc == 0;
		}
	}
	sel_free(&A);
	sel_free(&B);
	sel_free(&C);
	sel_free(&Dd);
	return rc;
}
