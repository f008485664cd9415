/*
 * flash_attn.glsl - flash attention for prefill and stateless attend.
 *
 * One workgroup per (query tile, KV head, batch). The "rows" of a KV head
 * are its query heads times its queries, row = query * group + head, so a
 * workgroup covers every query head of a GQA group and they all share each
 * K/V tile it stages in shared memory. Each row keeps its scaled query, a
 * running maximum, a running sum and an unnormalised output (online
 * softmax); DSPLIT lanes may share a row, each holding a slice of head_dim
 * and adding partial dot products with subgroup shuffles. The workgroup
 * only walks the keys some row of it may see: from the window start of its
 * first row to the last key of its last row (causal), so a sliding window
 * costs O(n W). Each row masks the keys outside its own range, a sink is
 * folded into the softmax at the end, and a row with no visible key and no
 * sink writes zeros. With ragged lengths the rows and keys of a sequence
 * stop at its own counts: padding is never read, nor its out rows written.
 *
 * With STAGE false the rows read K and V straight through the texel views
 * instead of a shared tile: on CPU devices (lavapipe) a shared-memory load
 * costs a loop over the SIMD lanes while a texel fetch is straight-line
 * code, so this is both faster and much quicker to compile there.
 *
 * Included by flash_attn.comp (no subgroup operations) and
 * flash_attn_sg.comp (USE_SUBGROUP 1, needed for DSPLIT > 1).
 */
#extension GL_EXT_control_flow_attributes : require
#if USE_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#endif

#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 2) const uint R = 1;      /* rows per lane */
layout(constant_id = 3) const uint BC = 32;    /* keys per shared tile */
layout(constant_id = 4) const uint CB = 4;     /* keys per softmax step, divides BC */
layout(constant_id = 5) const uint DSPLIT = 1; /* lanes per row, power of two */
layout(constant_id = 6) const bool STAGE = true; /* K/V tiles in shared memory (else TEXEL) */

const uint WG = gl_WorkGroupSize.x;
const uint DPL = (D4 + DSPLIT - 1) / DSPLIT;   /* vec4 of a key row per lane */
const uint KS = DPL * DSPLIT;                  /* shared key tile row stride, vec4 */
const uint DPLV = (DV4 + DSPLIT - 1) / DSPLIT; /* vec4 of a value row per lane */
const uint KSV = DPLV * DSPLIT;                /* shared value tile row stride */
const uint SLOTS = WG / DSPLIT;                /* rows in flight per lane set */
const uint ROWS = SLOTS * R;                   /* rows per workgroup */

shared vec4 ksh[STAGE ? BC * KS : 1];
shared vec4 vsh[STAGE ? BC * KSV : 1];

/* vec4 kk of the lane's slice of key row t, row c of the current tile;
 * zero past the end of the row. */
vec4 tile_k(uint t, uint c, uint kk, uint sub)
{
	if (STAGE)
		return ksh[c * KS + sub + kk * DSPLIT];
	if (KS != D4 && sub + kk * DSPLIT >= D4)
		return vec4(0.0);
	return load_k(t, sub + kk * DSPLIT);
}

/* The same for value row t. */
vec4 tile_v(uint t, uint c, uint kk, uint sub)
{
	if (STAGE)
		return vsh[c * KSV + sub + kk * DSPLIT];
	if (KSV != DV4 && sub + kk * DSPLIT >= DV4)
		return vec4(0.0);
	return load_v(t, sub + kk * DSPLIT);
}

void main()
{
#if USE_SUBGROUP
	const uint lane = gl_SubgroupID * gl_SubgroupSize + gl_SubgroupInvocationID;
#else
	const uint lane = gl_LocalInvocationIndex;
#endif
	const uint slot = lane / DSPLIT;
	const uint sub = lane % DSPLIT;
	const uint b = gl_WorkGroupID.z;
	const uint kvh = gl_WorkGroupID.y;
	const uint G = pc.group;
	/* Under a causal mask the last query tiles see the most keys: run them first. */
	const uint row0 = (gl_NumWorkGroups.x - 1 - gl_WorkGroupID.x) * ROWS;
	const uint nq_b = seq_nq(b);
	const int nkv_b = int(seq_nkv(b));
	const uint n_rows = nq_b * G;
	if (row0 >= n_rows)
		return; /* the whole workgroup: its rows are past the sequence */
	const int p_off = nkv_b - int(nq_b); /* query i sits at p_off + i */

	vec4 qr[R][DPL];
	vec4 acc[R][DPLV];
	float m[R];
	float l[R];
	int lo[R];  /* first key the row may see */
	int hi[R];  /* last key the row may see */
	int pos[R]; /* the row's query position */
	float slope[R];
	uint head[R];
	uint obase[R]; /* vec4 offset of the row in out */
	[[unroll]] for (uint r = 0; r < R; r++) {
		const uint row = min(row0 + r * SLOTS + slot, n_rows - 1);
		const uint i = row / G;
		const uint h = kvh * G + row % G;
		const uint qrow = (b * pc.n_heads + h) * pc.n_q + i;
		const int p = p_off + int(i);
		head[r] = h;
		pos[r] = p;
		obase[r] = qrow * DV4;
		hi[r] = pc.causal != 0 ? p : nkv_b - 1;
		lo[r] = pc.window != 0 ? max(0, p - int(pc.window) + 1) : 0;
		slope[r] = head_slope(h);
		m[r] = M_INIT;
		l[r] = 0.0;
		[[unroll]] for (uint kk = 0; kk < DPL; kk++) {
			const uint d4 = sub + kk * DSPLIT;
			qr[r][kk] = vec4(0.0);
			if (KS == D4 || d4 < D4)
				qr[r][kk] = load_q(qrow * D4 + d4) * pc.scale;
		}
		[[unroll]] for (uint kk = 0; kk < DPLV; kk++)
			acc[r][kk] = vec4(0.0);
	}

	/* Keys the workgroup needs: from the first row's window start up to
	 * what its last row may see. */
	const uint last_row = min(row0 + ROWS, n_rows) - 1;
	const int p_first = p_off + int(row0 / G), p_last = p_off + int(last_row / G);
	const int kv_beg = pc.window != 0 ? max(0, p_first - int(pc.window) + 1) : 0;
	const int kv_lim = min(nkv_b, pc.causal != 0 ? p_last + 1 : nkv_b);
	const uint kv_start = uint(kv_beg);
	const uint kv_end = uint(max(kv_lim, kv_beg));

	for (uint j0 = kv_start; j0 < kv_end; j0 += BC) {
		/* Stage keys j0 .. j0+BC-1 (zeros past kv_end) in shared memory. */
		if (STAGE)
			barrier();
		for (uint e = gl_LocalInvocationIndex; STAGE && e < BC * KS; e += WG) {
			const uint c = e / KS;
			const uint d4 = e % KS;
			vec4 kx = vec4(0.0);
			if (j0 + c < kv_end && (KS == D4 || d4 < D4))
				kx = load_k(kv_row(b, kvh, j0 + c), d4);
			ksh[e] = kx;
		}
		for (uint e = gl_LocalInvocationIndex; STAGE && e < BC * KSV; e += WG) {
			const uint c = e / KSV;
			const uint d4 = e % KSV;
			vec4 vx = vec4(0.0);
			if (j0 + c < kv_end && (KSV == DV4 || d4 < DV4))
				vx = load_v(kv_row(b, kvh, j0 + c), d4);
			vsh[e] = vx;
		}
		if (STAGE)
			barrier();

		const uint n_c = min(BC, kv_end - j0);
		for (uint c0 = 0; c0 < n_c; c0 += CB) {
			/* Scores of CB keys for every row of the lane. */
			float s[R][CB];
			uint t_c[CB]; /* their rows in K and V */
			[[unroll]] for (uint cc = 0; cc < CB; cc++) {
				/* past kv_end the key is masked; read a valid row */
				t_c[cc] = STAGE ? 0 : kv_row(b, kvh, min(j0 + c0 + cc, kv_end - 1));
				[[unroll]] for (uint r = 0; r < R; r++)
					s[r][cc] = 0.0;
				[[unroll]] for (uint kk = 0; kk < DPL; kk++) {
					const vec4 kx = tile_k(t_c[cc], c0 + cc, kk, sub);
					[[unroll]] for (uint r = 0; r < R; r++)
						s[r][cc] += dot(qr[r][kk], kx);
				}
			}
#if USE_SUBGROUP
			[[unroll]] for (uint off = DSPLIT / 2; off > 0; off /= 2)
				[[unroll]] for (uint r = 0; r < R; r++)
					[[unroll]] for (uint cc = 0; cc < CB; cc++)
						s[r][cc] += subgroupShuffleXor(s[r][cc], off);
#endif
			/* Variants, masks, online softmax: new maximum, rescale, probabilities. */
			[[unroll]] for (uint r = 0; r < R; r++) {
				float mx = m[r];
				[[unroll]] for (uint cc = 0; cc < CB; cc++) {
					const int j = int(j0 + c0 + cc);
					s[r][cc] = j >= lo[r] && j <= hi[r] ? adjust_score(s[r][cc], slope[r], pos[r], j) : NEG_INF;
					mx = max(mx, s[r][cc]);
				}
				const float alpha = exp2(m[r] - mx);
				float ps = 0.0;
				[[unroll]] for (uint cc = 0; cc < CB; cc++) {
					s[r][cc] = exp2(s[r][cc] - mx);
					ps += s[r][cc];
				}
				m[r] = mx;
				l[r] = l[r] * alpha + ps;
				[[unroll]] for (uint kk = 0; kk < DPLV; kk++)
					acc[r][kk] *= alpha;
			}
			[[unroll]] for (uint cc = 0; cc < CB; cc++) {
				[[unroll]] for (uint kk = 0; kk < DPLV; kk++) {
					const vec4 vx = tile_v(t_c[cc], c0 + cc, kk, sub);
					[[unroll]] for (uint r = 0; r < R; r++)
						acc[r][kk] += s[r][cc] * vx;
				}
			}
		}
	}

	[[unroll]] for (uint r = 0; r < R; r++) {
		if (row0 + r * SLOTS + slot >= n_rows)
			continue;
		const float f = fold_sink(head[r], m[r], l[r]);
		const float inv = l[r] > 0.0 ? f / l[r] : 0.0;
		[[unroll]] for (uint kk = 0; kk < DPLV; kk++) {
			const uint d4 = sub + kk * DSPLIT;
			if (KSV == DV4 || d4 < DV4)
				o4[obase[r] + d4] = acc[r][kk] * inv;
		}
	}
}
