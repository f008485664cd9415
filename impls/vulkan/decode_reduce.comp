#version 450
/*
 * decode_reduce.comp - merge the split-K partial results of decode_split.
 *
 * One workgroup per (query head, batch). Each partial p holds a running
 * maximum m_p, a running sum l_p and an unnormalised output o_p; with
 * M = max m_p and w_p = exp2(m_p - M), the result is
 * sum w_p o_p / sum w_p l_p. Partials with no weight are skipped so that
 * the outputs of slots no group wrote never reach the result. A sink
 * logit z joins the maximum and adds exp2(z - M) to the denominator only;
 * a head with no weight at all writes zeros. Rows are head_dim_v (DV) long.
 */
#extension GL_EXT_control_flow_attributes : require

#include "common.glsl"

layout(local_size_x_id = 0) in;

const uint WG = gl_WorkGroupSize.x;

void main()
{
	if (seq_nq(gl_WorkGroupID.y) == 0)
		return; /* ragged: this sequence has no query, its out row stays */
	const uint head = gl_WorkGroupID.y * pc.n_heads + gl_WorkGroupID.x;
	const uint p0 = head * pc.n_part;
	const bool sink = (pc.flags & F_SINKS) != 0;
	const float z = sink ? uintBitsToFloat(aux[pc.sink_off + gl_WorkGroupID.x]) : M_INIT;

	float mx = M_INIT;
	for (uint p = 0; p < pc.n_part; p++)
		mx = max(mx, part[pc.pm_off + p0 + p]);
	mx = max(mx, z);
	float sum = sink ? exp2(z - mx) : 0.0;
	for (uint p = 0; p < pc.n_part; p++)
		sum += exp2(part[pc.pm_off + p0 + p] - mx) * part[pc.pl_off + p0 + p];
	const float inv = sum > 0.0 ? 1.0 / sum : 0.0;

	for (uint d4 = gl_LocalInvocationIndex; d4 < DV4; d4 += WG) {
		vec4 a = vec4(0.0);
		for (uint p = 0; p < pc.n_part; p++) {
			const float w = exp2(part[pc.pm_off + p0 + p] - mx);
			const float l = part[pc.pl_off + p0 + p];
			a += l > 0.0 ? w * part4[(p0 + p) * DV4 + d4] : vec4(0.0);
		}
		o4[head * DV4 + d4] = a * inv;
	}
}
