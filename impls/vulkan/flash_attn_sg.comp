#version 450
/* flash_attn_sg.comp - flash attention; DSPLIT lanes per row add with subgroup shuffles. */
#define USE_SUBGROUP 1
#include "flash_attn.glsl"
