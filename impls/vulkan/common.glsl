/*
 * common.glsl - declarations shared by the attention compute shaders.
 *
 * Tensors are in the layouts of attnbench.h except that rows are padded:
 * q and out are f32 whatever the shape's dtype (the host widens q), with
 * rows of head_dim (q) and head_dim_v (out) elements padded with zeros to
 * D4 and DV4 groups of four; K and V rows are stored as DTYPE and padded
 * the same way (the block formats to a multiple of 4 bytes). Rows of one
 * KV head sit kv_stride rows apart (the cache capacity, or n_kv for
 * stateless calls); with paged K and V a row is found through the block
 * table (kv_row). Offsets below count 4-vectors unless said otherwise.
 *
 * DTYPE (a -D of the build) is the storage type of K and V, the values of
 * attn_dtype: 0 f32, 1 f16 (float16_t), 2 bf16 (uint16_t, the top half of
 * an f32), 3 q8_0, 4 q4_0, 5 fp8_e4m3 (the last three read as uint words
 * and dequantized here, layouts in attn_quant.h). 16-bit values are only
 * loaded and widened to f32 (GL_EXT_shader_16bit_storage, no 16-bit
 * arithmetic); every computation is in f32.
 *
 * The variants of attnbench.h are push-constant switches: window, softcap,
 * and the flags for ALiBi slopes, sink logits, ragged lengths and a paged
 * cache, whose data live in the small aux buffer (binding 7) at the word
 * offsets the push constants give.
 */
#ifndef DTYPE
#define DTYPE 0
#endif
#if DTYPE == 1 || DTYPE == 2
#extension GL_EXT_shader_16bit_storage : require
#endif
#define QUANT (DTYPE >= 3)

#if DTYPE == 1
#define STORE4 f16vec4
#elif DTYPE == 2
#define STORE4 u16vec4
#else
#define STORE4 vec4
#endif

layout(std430, set = 0, binding = 0) readonly buffer QBuf { vec4 q4[]; };
#if QUANT
layout(std430, set = 0, binding = 1) readonly buffer KBuf { uint kw[]; };
layout(std430, set = 0, binding = 2) readonly buffer VBuf { uint vw[]; };
#else
layout(std430, set = 0, binding = 1) readonly buffer KBuf { STORE4 k4[]; };
layout(std430, set = 0, binding = 2) readonly buffer VBuf { STORE4 v4[]; };
#endif
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
/* ALiBi slopes and sink logits (f32 bits, times log2(e)), sequence
 * lengths and the block table. */
layout(std430, set = 0, binding = 7) readonly buffer AuxBuf { uint aux[]; };

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

/* pc.flags */
const uint F_ALIBI = 1u;
const uint F_SINKS = 2u;
const uint F_RAGGED = 4u;
const uint F_PAGED = 8u;

/* Must match struct vk_push in vk_internal.h. */
layout(push_constant) uniform Push {
	uint n_q;        /* queries per head (the padded count when ragged) */
	uint n_kv;       /* keys per head (likewise) */
	uint n_heads;    /* query heads */
	uint n_kv_heads; /* key/value heads */
	uint group;      /* n_heads / n_kv_heads */
	uint kv_stride;  /* rows between two KV heads in K and V */
	uint causal;     /* bottom-right causal mask */
	float scale;     /* softmax scale, times log2(e) unless softcap is on */
	uint n_split;    /* split-K: workgroups per query head */
	uint split_len;  /* split-K: keys per workgroup */
	uint n_part;     /* split-K: partial results per query head */
	uint pm_off;     /* split-K: float offset of the running maxima in part */
	uint pl_off;     /* split-K: float offset of the running sums in part */
	uint window;     /* sliding window W, 0: none */
	float softcap;   /* c > 0: s = c tanh(s / c), 0: none */
	uint flags;      /* F_* */
	uint alibi_off;  /* aux words: n_heads slopes */
	uint sink_off;   /* aux words: n_heads sink logits */
	uint qlen_off;   /* aux words: batch query counts */
	uint kvlen_off;  /* aux words: batch key counts */
	uint bt_off;     /* aux words: block table [batch][max_pages] */
	uint page_size;  /* paged: tokens per page */
	uint max_pages;  /* paged: block table row length */
} pc;

layout(constant_id = 1) const uint D = 64;  /* head_dim */
layout(constant_id = 8) const uint DV = 64; /* head_dim_v */
const uint D4 = (D + 3) / 4;                /* padded row length in 4-vectors */
const uint DV4 = (DV + 3) / 4;
/* Read K and V through the texel views, where they fit the device's texel
 * buffer limit: on some devices a texel fetch is much cheaper than a
 * storage buffer load. Never with the block formats. */
layout(constant_id = 7) const bool TEXEL = false;

/* Masked scores; exp2(-inf) is 0. */
const float NEG_INF = -1.0 / 0.0;
/* Initial running maximum: finite, so that exp2(m_old - m_new) never sees
 * -inf - -inf, and below any real score. */
const float M_INIT = -3.0e38;
const float LOG2E = 1.4426950408889634;

/* Query and key counts of sequence b. */
uint seq_nq(uint b)
{
	return (pc.flags & F_RAGGED) != 0 ? aux[pc.qlen_off + b] : pc.n_q;
}

uint seq_nkv(uint b)
{
	return (pc.flags & F_RAGGED) != 0 ? aux[pc.kvlen_off + b] : pc.n_kv;
}

/* Row index of key j of KV head kvh of sequence b in K and V. */
uint kv_row(uint b, uint kvh, uint j)
{
	if ((pc.flags & F_PAGED) != 0) {
		const uint page = aux[pc.bt_off + b * pc.max_pages + j / pc.page_size];
		return (page * pc.n_kv_heads + kvh) * pc.page_size + j % pc.page_size;
	}
	return (b * pc.n_kv_heads + kvh) * pc.kv_stride + j;
}

/* tanh without overflow for large |x|. */
float safe_tanh(float x)
{
	const float t = exp(-2.0 * abs(x));
	const float r = (1.0 - t) / (1.0 + t);
	return x < 0.0 ? -r : r;
}

/* The score of query position p and key j (q.k times pc.scale) after the
 * softcap and ALiBi, in log2 units; slope is m_h log2(e). */
float adjust_score(float s, float slope, int p, int j)
{
	if (pc.softcap > 0.0)
		s = pc.softcap * LOG2E * safe_tanh(s / pc.softcap);
	if ((pc.flags & F_ALIBI) != 0)
		s -= slope * float(abs(p - j));
	return s;
}

/* The slope of query head h in log2 units, 0 without ALiBi. */
float head_slope(uint h)
{
	return (pc.flags & F_ALIBI) != 0 ? uintBitsToFloat(aux[pc.alibi_off + h]) : 0.0;
}

/* Fold the sink logit of head h (if any) into an online-softmax state
 * whose output the caller rescales by the returned factor. */
float fold_sink(uint h, inout float m, inout float l)
{
	if ((pc.flags & F_SINKS) == 0)
		return 1.0;
	const float z = uintBitsToFloat(aux[pc.sink_off + h]);
	const float mn = max(m, z);
	const float a = exp2(m - mn);
	l = l * a + exp2(z - mn);
	m = mn;
	return a;
}

#if QUANT
/* The 32-bit word at byte address a (a multiple of 2) of K or V. */
uint word_at(bool is_v, uint a)
{
	const uint w = a >> 2;
	const uint lo = is_v ? vw[w] : kw[w];
	if ((a & 3u) == 0u)
		return lo;
	const uint hi = is_v ? vw[w + 1] : kw[w + 1];
	return (lo >> 16) | (hi << 16);
}

/* One OCP FP8 E4M3FN byte as f32. */
float fp8_to_f32(uint b)
{
	const uint e = (b >> 3) & 15u, m = b & 7u;
	float x;
	if (e == 15u && m == 7u)
		x = uintBitsToFloat(0x7fc00000u);
	else if (e == 0u)
		x = ldexp(float(m), -9);
	else
		x = ldexp(float(8u + m), int(e) - 10);
	return (b & 0x80u) != 0u ? -x : x;
}

/* 4-vector d4 of row t of K or V whose rows hold d elements. */
vec4 load_quant(bool is_v, uint t, uint d4, uint d)
{
#if DTYPE == 5
	const uint w = word_at(is_v, t * ((d + 3) / 4) * 4 + d4 * 4);
	return vec4(fp8_to_f32(w & 255u), fp8_to_f32((w >> 8) & 255u), fp8_to_f32((w >> 16) & 255u),
	            fp8_to_f32(w >> 24));
#elif DTYPE == 3
	const uint row = ((d / 32) * 34 + 3) / 4 * 4; /* q8_0 row bytes, padded to a word */
	const uint a = t * row + (d4 / 8) * 34;
	const float sc = unpackHalf2x16(word_at(is_v, a) & 0xffffu).x;
	const uint w = word_at(is_v, a + 2 + (d4 % 8) * 4);
	const ivec4 qv = ivec4(int(w << 24) >> 24, int(w << 16) >> 24, int(w << 8) >> 24, int(w) >> 24);
	return vec4(qv) * sc;
#else
	const uint row = ((d / 32) * 18 + 3) / 4 * 4; /* q4_0 row bytes, padded to a word */
	const uint a = t * row + (d4 / 8) * 18;
	const float sc = unpackHalf2x16(word_at(is_v, a) & 0xffffu).x;
	const uint e0 = (d4 % 8) * 4; /* element of the block */
	const uint w = word_at(is_v, a + 2 + e0 % 16) >> (e0 >= 16 ? 4 : 0);
	const uvec4 nib = uvec4(w, w >> 8, w >> 16, w >> 24) & 15u;
	return (vec4(nib) - 8.0) * sc;
#endif
}
#endif

/* 4-vector d4 of key row t (kv_row), in f32. */
vec4 load_k(uint t, uint d4)
{
#if QUANT
	return load_quant(false, t, d4, D);
#else
	if (TEXEL)
		return WIDEN(texelFetch(ktex, int(t * D4 + d4)));
	return WIDEN(k4[t * D4 + d4]);
#endif
}

/* 4-vector d4 of value row t, in f32. */
vec4 load_v(uint t, uint d4)
{
#if QUANT
	return load_quant(true, t, d4, DV);
#else
	if (TEXEL)
		return WIDEN(texelFetch(vtex, int(t * DV4 + d4)));
	return WIDEN(v4[t * DV4 + d4]);
#endif
}

/* 4-vector i of q, in f32. */
vec4 load_q(uint i)
{
	return q4[i];
}
