/*
 * common.glsl - declarations shared by the attention compute shaders.
 *
 * Tensors are in the layouts of attnbench.h except that every row of
 * head_dim floats is padded with zeros to D4 vec4 (the host packs and
 * unpacks), so all row accesses move 16 bytes. K and V rows of one KV head
 * sit kv_stride rows apart (the cache capacity, or n_kv for stateless
 * calls); offsets below count vec4 unless said otherwise.
 */
layout(std430, set = 0, binding = 0) readonly buffer QBuf { vec4 q4[]; };
layout(std430, set = 0, binding = 1) readonly buffer KBuf { vec4 k4[]; };
layout(std430, set = 0, binding = 2) readonly buffer VBuf { vec4 v4[]; };
layout(std430, set = 0, binding = 3) writeonly buffer OBuf { vec4 o4[]; };
layout(std430, set = 0, binding = 4) buffer PBuf { float part[]; };
layout(std430, set = 0, binding = 4) buffer PBuf4 { vec4 part4[]; };
/* K and V again, as RGBA32F texel buffers (one texel per vec4). */
layout(set = 0, binding = 5) uniform samplerBuffer ktex;
layout(set = 0, binding = 6) uniform samplerBuffer vtex;

/* Must match struct vk_push in vulkan.c. */
layout(push_constant) uniform Push {
	uint n_q;        /* queries per head */
	uint n_kv;       /* keys per head */
	uint n_heads;    /* query heads */
	uint n_kv_heads; /* key/value heads */
	uint group;      /* n_heads / n_kv_heads */
	uint kv_stride;  /* rows between two KV heads in K and V */
	uint causal;     /* bottom-right causal mask */
	float scale;     /* softmax scale, times log2(e) (the shaders use exp2) */
	uint n_split;    /* split-K: workgroups per query head */
	uint split_len;  /* split-K: keys per workgroup */
	uint n_part;     /* split-K: partial results per query head */
	uint pm_off;     /* split-K: float offset of the running maxima in part */
	uint pl_off;     /* split-K: float offset of the running sums in part */
} pc;

layout(constant_id = 1) const uint D = 64; /* head_dim */
const uint D4 = (D + 3) / 4;               /* padded row length in vec4 */
/* Read K and V through the texel views, where they fit the device's texel
 * buffer limit: on some devices a texel fetch is much cheaper than a
 * storage buffer load. */
layout(constant_id = 7) const bool TEXEL = false;

/* Masked scores; exp2(-inf) is 0. */
const float NEG_INF = -1.0 / 0.0;
/* Initial running maximum: finite, so that exp2(m_old - m_new) never sees
 * -inf - -inf, and below any real score. */
const float M_INIT = -3.0e38;

/* vec4 d4 of the key / value row that starts at vec4 offset row. */
vec4 load_k(uint row, uint d4)
{
	if (TEXEL)
		return texelFetch(ktex, int(row + d4));
	return k4[row + d4];
}

vec4 load_v(uint row, uint d4)
{
	if (TEXEL)
		return texelFetch(vtex, int(row + d4));
	return v4[row + d4];
}
