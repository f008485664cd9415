#version 450
/* decode_split.comp - split-K decode without subgroup operations. */
#define USE_SUBGROUP 0
#include "decode_split.glsl"
