/*
 * common.glsl - declarations shared by the attention compute shaders.
 *
 * Buffers are plain float arrays in the layouts of attnbench.h; K and V
 * rows of one KV head sit kv_stride tokens apart (the cache capacity, or
 * n_kv for stateless calls). Each float buffer is also visible as vec4 so
 * that rows whose head_dim is a multiple of 4 move 16 bytes at a time.
 */
layout(std430, set = 0, binding = 0) readonly buffer QBuf { float q[]; };
layout(std430, set = 0, binding = 0) readonly buffer QBuf4 { vec4 q4[]; };
layout(std430, set = 0, binding = 1) readonly buffer KBuf { float k[]; };
layout(std430, set = 0, binding = 1) readonly buffer KBuf4 { vec4 k4[]; };
layout(std430, set = 0, binding = 2) readonly buffer VBuf { float v[]; };
layout(std430, set = 0, binding = 2) readonly buffer VBuf4 { vec4 v4[]; };
layout(std430, set = 0, binding = 3) writeonly buffer OBuf { float o[]; };
layout(std430, set = 0, binding = 3) writeonly buffer OBuf4 { vec4 o4[]; };
layout(std430, set = 0, binding = 4) buffer PBuf { float part[]; };
layout(std430, set = 0, binding = 4) buffer PBuf4 { vec4 part4[]; };

/* Must match struct vk_push in vulkan.c. */
layout(push_constant) uniform Push {
	uint n_q;        /* queries per head */
	uint n_kv;       /* keys per head */
	uint n_heads;    /* query heads */
	uint n_kv_heads; /* key/value heads */
	uint group;      /* n_heads / n_kv_heads */
	uint kv_stride;  /* tokens between two KV heads in K and V */
	uint causal;     /* bottom-right causal mask */
	float scale;     /* softmax scale, times log2(e) (the shaders use exp2) */
	uint n_split;    /* split-K: workgroups per query head */
	uint split_len;  /* split-K: keys per workgroup */
	uint n_part;     /* split-K: partial results per query head */
	uint pm_off;     /* split-K: float offset of the running maxima in part */
	uint pl_off;     /* split-K: float offset of the running sums in part */
} pc;

layout(constant_id = 1) const uint D = 64; /* head_dim */
const uint D4 = (D + 3) / 4;               /* head_dim in vec4, rounded up */

/* Masked scores; exp2(-inf) is 0. */
const float NEG_INF = -1.0 / 0.0;
/* Initial running maximum: finite, so that exp2(m_old - m_new) never sees
 * -inf - -inf, and below any real score. */
const float M_INIT = -3.0e38;

/* Load head_dim element group d4 (4 floats, zero past head_dim) of the row
 * that starts at float offset base of a buffer. */
vec4 load_row4_q(uint base, uint d4)
{
	if (D % 4 == 0)
		return q4[base / 4 + d4];
	vec4 r = vec4(0.0);
	[[unroll]] for (uint c = 0; c < 4; c++)
		if (d4 * 4 + c < D)
			r[c] = q[base + d4 * 4 + c];
	return r;
}

vec4 load_row4_k(uint base, uint d4)
{
	if (D % 4 == 0)
		return k4[base / 4 + d4];
	vec4 r = vec4(0.0);
	[[unroll]] for (uint c = 0; c < 4; c++)
		if (d4 * 4 + c < D)
			r[c] = k[base + d4 * 4 + c];
	return r;
}

vec4 load_row4_v(uint base, uint d4)
{
	if (D % 4 == 0)
		return v4[base / 4 + d4];
	vec4 r = vec4(0.0);
	[[unroll]] for (uint c = 0; c < 4; c++)
		if (d4 * 4 + c < D)
			r[c] = v[base + d4 * 4 + c];
	return r;
}

/* Store element group d4 of an output row (only the head_dim elements). */
void store_row4_o(uint base, uint d4, vec4 x)
{
	if (D % 4 == 0) {
		o4[base / 4 + d4] = x;
		return;
	}
	[[unroll]] for (uint c = 0; c < 4; c++)
		if (d4 * 4 + c < D)
			o[base + d4 * 4 + c] = x[c];
}
