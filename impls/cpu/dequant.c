/* dequant.c - see dequant.h. */
#include "dequant.h"

#include <pthread.h>

static float fp8_table[256];
static pthread_once_t fp8_once = PTHREAD_ONCE_INIT;

static void fp8_init(void)
{
	for (int i = 0; i < 256; i++)
		fp8_table[i] = attn_fp8_to_f32((uint8_t)i);
}

const float *cpu_fp8_table(void)
{
	pthread_once(&fp8_once, fp8_init);
	return fp8_table;
}

static float half_table[65536];
static pthread_once_t half_once = PTHREAD_ONCE_INIT;

static void half_init(void)
{
	for (uint32_t i = 0; i < 65536; i++)
		half_table[i] = attn_f16_to_f32((uint16_t)i);
}

const float *cpu_half_table(void)
{
	pthread_once(&half_once, half_init);
	return half_table;
}
