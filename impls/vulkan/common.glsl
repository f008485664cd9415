/*
 * common.glsl - declarations shared by the attention compute shaders.
 *
 * Tensors are in the layouts of attnbench.h except that every row of
 * head_dim elements is padded with zeros to D4 groups of four (the host
 * packs and unpacks), so all row accesses move one 4-vector: 16 bytes in
 * f32, 8 bytes in f16 and bf16. K and V rows of one KV head sit kv_stride
 * rows apart (the cache capacity, or n_kv for stateless calls); offsets
 * below count 4-vectors unless said otherwise.
 *
 * DTYPE (a -D of the build) is the storage type of Q, K and V: 0 f32,
 * 1 f16 (float16_t), 2 bf16 (uint16_t, the top half of an f32). 16-bit
 * values are only loaded and widened to f32 (GL_EXT_shader_16bit_storage,
 * no 16-bit arithmetic); every computation is in f32, and the output and
 * the split-K partials are f32 whatever DTYPE is.
 */
#ifndef DTYPE
#define DTYPE 0
#endif
#if DTYPE != 0
#extension GL_EXT_shader_16bit_storage : require
#endif

#if DTYPE == 1
#define STORE4 f16vec4
#elif DTYPE == 2
#define STORE4 u16vec4
#else
#define STORE4 vec4
#endif

layout(std430, set = 0, binding = 0) readonly buffer QBuf { STORE4 q4[]; };
layout(std430, set = 0, binding = 1) readonly buffer KBuf { STORE4 k4[]; };
layout(std430, set = 0, binding = 2) readonly buffer VBuf { STORE4 v4[]; };
layout(std430, set = 0, binding = 3) writeonly buffer OBuf { vec4 o4[]; };
layout(std430, set = 0, binding = 4) buffer PBuf { float part[]; };
layout(std430, set = 0, binding = 4) buffer PBuf4 { vec4 part4[]; };
/* K and V again, as texel buffers (one texel per 4-vector): RGBA32F,
 * RGBA16F (widened by the fetch), or RGBA16UI for bf16. */
#if DTYPE == 2
layout(set = 0, binding = 5) uniform usamplerBuffer ktex;
layout(set = 0, binding = 6) uniform usamplerBuffer vtex;
#else
layout(set = 0, binding = 5) uniform samplerBuffer ktex;
layout(set = 0, binding = 6) uniform samplerBuffer vtex;
#endif

/* A stored 4-vector (or a bf16 texel fetched as RGBA16UI: the four values
 * in the low bits) widened to f32, exactly. A macro: 16-bit storage allows
 * no 16-bit function parameters. */
#if DTYPE == 1
#define WIDEN(x) vec4(x)
#elif DTYPE == 2
#define WIDEN(x) uintBitsToFloat(uvec4(x) << 16)
#else
#define WIDEN(x) (x)
#endif

/* Must match struct vk_push in vk_internal.h. */
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
const uint D4 = (D + 3) / 4;               /* padded row length in 4-vectors */
/* Read K and V through the texel views, where they fit the device's texel
 * buffer limit: on some devices a texel fetch is much cheaper than a
 * storage buffer load. */
layout(constant_id = 7) const bool TEXEL = false;

/* Masked scores; exp2(-inf) is 0. */
const float NEG_INF = -1.0 / 0.0;
/* Initial running maximum: finite, so that exp2(m_old - m_new) never sees
 * -inf - -inf, and below any real score. */
const float M_INIT = -3.0e38;

/* 4-vector d4 of the key / value row that starts at offset row, in f32. */
vec4 load_k(uint row, uint d4)
{
	if (TEXEL)
		return WIDEN(texelFetch(ktex, int(row + d4)));
	return WIDEN(k4[row + d4]);
}

vec4 load_v(uint row, uint d4)
{
	if (TEXEL)
		return WIDEN(texelFetch(vtex, int(row + d4)));
	return WIDEN(v4[row + d4]);
}

/* 4-vector i of q, in f32. */
vec4 load_q(uint i)
{
	return WIDEN(q4[i]);
}
