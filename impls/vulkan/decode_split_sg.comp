#version 450
/* decode_split_sg.comp - split-K decode; lanes merged with subgroup operations. */
#define USE_SUBGROUP 1
#include "decode_split.glsl"
