/* dequant.c - see dequant.h: the conversion tables, both filled by the first
 * call for either (the f16 one takes a fraction of a millisecond). */
#include "dequant.h"

#include <pthread.h>

static float fp8_table[256], half_table[65536];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void tables_init(void)
{
	for (int i = 0; i < 256; i++)
		fp8_table[i] = attn_fp8_to_f32((uint8_t)i);
	for (uint32_t i = 0; i < 65536; i++)
		half_table[i] = attn_f16_to_f32((uint16_t)i);
}

const float *cpu_fp8_table(void)
{
	pthread_once(&tables_once, tables_init);
	return fp8_table;
}

const float *cpu_half_table(void)
{
	pthread_once(&tables_once, tables_init);
	return half_table;
}
