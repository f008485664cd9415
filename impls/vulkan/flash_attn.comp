#version 450
/* flash_attn.comp - flash attention without subgroup operations. */
#define USE_SUBGROUP 0
#include "flash_attn.glsl"
