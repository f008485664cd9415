#version 450
/*
 * decode_reduce.comp - merge the split-K partial results of decode_split.
 *
 * One workgroup per (query head, batch). Each partial p holds a running
 * maximum m_p, a running sum l_p and an unnormalised output o_p; with
 * M = max m_p and w_p = exp2(m_p - M), the result is
 * sum w_p o_p / sum w_p l_p. Partials with no weight are skipped so that
 * the outputs of slots no group wrote never reach the result.
 */
#extension GL_EXT_control_flow_attributes : require

#include "common.glsl"

layout(local_size_x_id = 0) in;

const uint WG = gl_WorkGroupSize.x;

void main()
{
	const uint head = gl_WorkGroupID.y * pc.n_heads + gl_WorkGroupID.x;
	const uint p0 = head * pc.n_part;

	float mx = M_INIT;
	for (uint p = 0; p < pc.n_part; p++)
		mx = max(mx, part[pc.pm_off + p0 + p]);
	float sum = 0.0;
	for (uint p = 0; p < pc.n_part; p++)
		sum += exp2(part[pc.pm_off + p0 + p] - mx) * part[pc.pl_off + p0 + p];
	const float inv = 1.0 / sum;

	for (uint d4 = gl_LocalInvocationIndex; d4 < D4; d4 += WG) {
		vec4 a = vec4(0.0);
		for (uint p = 0; p < pc.n_part; p++) {
			const float w = exp2(part[pc.pm_off + p0 + p] - mx);
			const float l = part[pc.pl_off + p0 + p];
			a += l > 0.0 ? w * part4[(p0 + p) * D4 + d4] : vec4(0.0);
		}
		o4[head * D4 + d4] = a * inv;
	}
}
