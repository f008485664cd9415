/*
 * decode_split.glsl - split-K attention of one query per head (decode).
 *
 * One workgroup per (slice of the keys, KV head and HG of its query heads,
 * batch); HG query heads share every K/V row the workgroup reads. Inside
 * the workgroup each group of lanes takes a contiguous run of the slice,
 * its lanes reading consecutive keys (DSPLIT lanes per key, each holding a
 * slice of head_dim), and every lane keeps an online softmax state per
 * head: running maximum, running sum, unnormalised output. Each group
 * writes one partial result per head to the partial buffer, for
 * decode_reduce to merge. The slices split the keys the query may see
 * (its window and its sequence's length), so a window costs O(W); the
 * softcap and ALiBi apply per score, and decode_reduce folds in the sink.
 *
 * decode_split_sg.comp (USE_SUBGROUP 1): a group is a subgroup, whose
 * lanes are merged with subgroup operations first (GPUs).
 * decode_split.comp: every lane is its own group. Devices without subgroup
 * operations use it, and so do CPU devices, where a subgroup reduction is
 * a loop over the SIMD lanes that costs more than the extra partials.
 */
#extension GL_EXT_control_flow_attributes : require
#if USE_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#endif

#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 2) const uint HG = 1;     /* query heads per workgroup, divides group */
layout(constant_id = 3) const uint KB = 2;     /* keys per lane per softmax step */
layout(constant_id = 4) const uint DSPLIT = 1; /* lanes per key, power of two */

const uint WG = gl_WorkGroupSize.x;
const uint DPL = (D4 + DSPLIT - 1) / DSPLIT;   /* vec4 of a key row per lane */
const uint DPLV = (DV4 + DSPLIT - 1) / DSPLIT; /* vec4 of a value row per lane */

#if USE_SUBGROUP
/* Sum over the lanes of the subgroup that hold the same head_dim slice. */
float group_sum(float x)
{
	if (DSPLIT == 1)
		return subgroupAdd(x);
	for (uint off = DSPLIT; off < gl_SubgroupSize; off *= 2)
		x += subgroupShuffleXor(x, off);
	return x;
}

vec4 group_sum4(vec4 x)
{
	if (DSPLIT == 1)
		return subgroupAdd(x);
	for (uint off = DSPLIT; off < gl_SubgroupSize; off *= 2)
		x += subgroupShuffleXor(x, off);
	return x;
}
#endif

void main()
{
#if USE_SUBGROUP
	const uint grp = gl_SubgroupID;
	const uint n_grp = gl_NumSubgroups;
	const uint grp_lane = gl_SubgroupInvocationID;
	const uint grp_size = gl_SubgroupSize;
#else
	const uint grp = gl_LocalInvocationIndex;
	const uint n_grp = WG;
	const uint grp_lane = 0;
	const uint grp_size = 1;
#endif
	const uint sub = grp_lane % DSPLIT;
	const uint slot = grp_lane / DSPLIT;
	const uint slots = grp_size / DSPLIT; /* keys a group reads at a time */
	const uint split = gl_WorkGroupID.x;
	const uint b = gl_WorkGroupID.z;
	const uint chunks = pc.group / HG;
	const uint kvh = gl_WorkGroupID.y / chunks;
	const uint h0 = kvh * pc.group + (gl_WorkGroupID.y % chunks) * HG;

	const uint nq_b = seq_nq(b);
	if (nq_b == 0)
		return; /* a sequence with no query this call: decode_reduce skips it too */
	/* The keys the query may see, this workgroup's slice of them, then this
	 * group's run of the slice. */
	const int nkv_b = int(seq_nkv(b));
	const int p = nkv_b - int(nq_b);
	const int hi = pc.causal != 0 ? min(p, nkv_b - 1) : nkv_b - 1;
	const int lo = pc.window != 0 ? max(0, p - int(pc.window) + 1) : 0;
	const uint n_vis = uint(max(hi + 1 - lo, 0));
	const uint split_len = (n_vis + pc.n_split - 1) / pc.n_split;
	const uint k0 = min(uint(lo) + n_vis, uint(lo) + split * split_len);
	const uint k1 = min(uint(lo) + n_vis, k0 + split_len);
	const uint per_grp = (k1 - k0 + n_grp - 1) / n_grp;
	const uint s0 = min(k1, k0 + grp * per_grp);
	const uint s1 = min(k1, s0 + per_grp);

	vec4 qr[HG][DPL];
	vec4 acc[HG][DPLV];
	float m[HG];
	float l[HG];
	float slope[HG];
	[[unroll]] for (uint g = 0; g < HG; g++) {
		const uint qbase = (b * pc.n_heads + h0 + g) * D4;
		m[g] = M_INIT;
		l[g] = 0.0;
		slope[g] = head_slope(h0 + g);
		[[unroll]] for (uint kk = 0; kk < DPL; kk++) {
			const uint d4 = sub + kk * DSPLIT;
			qr[g][kk] = vec4(0.0);
			if (DPL * DSPLIT == D4 || d4 < D4)
				qr[g][kk] = load_q(qbase + d4) * pc.scale;
		}
		[[unroll]] for (uint kk = 0; kk < DPLV; kk++)
			acc[g][kk] = vec4(0.0);
	}

	for (uint j0 = s0; j0 < s1; j0 += slots * KB) {
		float s[HG][KB];
		uint t_k[KB]; /* rows of the keys in K and V */
		[[unroll]] for (uint kb = 0; kb < KB; kb++) {
			t_k[kb] = kv_row(b, kvh, min(j0 + kb * slots + slot, s1 - 1));
			[[unroll]] for (uint g = 0; g < HG; g++)
				s[g][kb] = 0.0;
			[[unroll]] for (uint kk = 0; kk < DPL; kk++) {
				const uint d4 = sub + kk * DSPLIT;
				if (DPL * DSPLIT == D4 || d4 < D4) {
					const vec4 kx = load_k(t_k[kb], d4);
					[[unroll]] for (uint g = 0; g < HG; g++)
						s[g][kb] += dot(qr[g][kk], kx);
				}
			}
		}
#if USE_SUBGROUP
		[[unroll]] for (uint off = DSPLIT / 2; off > 0; off /= 2)
			[[unroll]] for (uint g = 0; g < HG; g++)
				[[unroll]] for (uint kb = 0; kb < KB; kb++)
					s[g][kb] += subgroupShuffleXor(s[g][kb], off);
#endif
		[[unroll]] for (uint g = 0; g < HG; g++) {
			float mx = m[g];
			[[unroll]] for (uint kb = 0; kb < KB; kb++) {
				const uint j = j0 + kb * slots + slot;
				s[g][kb] = j < s1 ? adjust_score(s[g][kb], slope[g], p, int(j)) : NEG_INF;
				mx = max(mx, s[g][kb]);
			}
			const float alpha = exp2(m[g] - mx);
			float ps = 0.0;
			[[unroll]] for (uint kb = 0; kb < KB; kb++) {
				s[g][kb] = exp2(s[g][kb] - mx);
				ps += s[g][kb];
			}
			m[g] = mx;
			l[g] = l[g] * alpha + ps;
			[[unroll]] for (uint kk = 0; kk < DPLV; kk++)
				acc[g][kk] *= alpha;
		}
		[[unroll]] for (uint kb = 0; kb < KB; kb++) {
			[[unroll]] for (uint kk = 0; kk < DPLV; kk++) {
				const uint d4 = sub + kk * DSPLIT;
				if (DPLV * DSPLIT == DV4 || d4 < DV4) {
					const vec4 vx = load_v(t_k[kb], d4);
					[[unroll]] for (uint g = 0; g < HG; g++)
						acc[g][kk] += s[g][kb] * vx;
				}
			}
		}
	}

#if USE_SUBGROUP
	/* Merge the lanes of the subgroup: common maximum, rescale, sum. */
	[[unroll]] for (uint g = 0; g < HG; g++) {
		const float mg = subgroupMax(m[g]);
		const float f = exp2(m[g] - mg);
		m[g] = mg;
		l[g] = group_sum(l[g] * f);
		[[unroll]] for (uint kk = 0; kk < DPLV; kk++)
			acc[g][kk] = group_sum4(acc[g][kk] * f);
	}
#endif

	/* One partial per (group, head); lanes of slot 0 hold the group's. */
	const uint per_split = pc.n_part / pc.n_split;
	if (slot == 0) {
		[[unroll]] for (uint g = 0; g < HG; g++) {
			const uint pp = (b * pc.n_heads + h0 + g) * pc.n_part + split * per_split + grp;
			[[unroll]] for (uint kk = 0; kk < DPLV; kk++) {
				const uint d4 = sub + kk * DSPLIT;
				if (DPLV * DSPLIT == DV4 || d4 < DV4)
					part4[pp * DV4 + d4] = acc[g][kk];
			}
			if (sub == 0) {
				part[pc.pm_off + pp] = m[g];
				part[pc.pl_off + pp] = l[g];
			}
		}
	}
	/* Partial slots for groups this device did not run carry no weight. */
	if (gl_LocalInvocationIndex == 0) {
		for (uint e = n_grp; e < per_split; e++) {
			[[unroll]] for (uint g = 0; g < HG; g++) {
				const uint pp = (b * pc.n_heads + h0 + g) * pc.n_part + split * per_split + e;
				part[pc.pm_off + pp] = M_INIT;
				part[pc.pl_off + pp] = 0.0;
			}
		}
	}
}
