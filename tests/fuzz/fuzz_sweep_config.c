/* fuzz_sweep_config.c - libFuzzer target for the sweep config reader and
 * the grid expansion. The input is read as a config file; the same bytes
 * also go through sweep_config_set as a command-line override (the first
 * byte picks the key, the rest up to a NUL is the value). Every point of an
 * accepted grid must have byte counts that fit. */
#include <stdint.h>

#include "fuzz_common.h"
#include "model/sweep_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_points(const sweep_config *c)
{
	sweep_point *pts = NULL;
	int n = 0;
	attn_err e = {{0}};
	const int rc = sweep_points(c, &pts, &n, &e);
	if (rc) {
		FUZZ_CHECK(rc == EXIT_INPUT && pts == NULL && e.msg[0]);
		return;
	}
	FUZZ_CHECK(n >= 1);
	for (int i = 0; i < n; i++) {
		const sweep_point *p = &pts[i];
		const attn_shape *s = &p->shape;
		FUZZ_CHECK(s->n_heads % s->n_kv_heads == 0 && s->n_q <= s->n_kv);
		FUZZ_CHECK(point_kv_bytes(p) != UINT64_MAX);
		FUZZ_CHECK(point_flops(p) >= 0 && point_bytes(p) > 0);
		if (i)
			FUZZ_CHECK(memcmp(&pts[i - 1], p, sizeof *p) != 0);
	}
	free(pts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[128];
	fuzz_path(path, sizeof path, "in.conf");
	fuzz_write(path, data, size);
	sweep_config c;
	attn_err e = {{0}};
	const int rc = sweep_config_read(path, &c, &e);
	if (rc) {
		FUZZ_CHECK(rc == EXIT_INPUT);
		fuzz_check_msg(e.msg, path);
	} else {
		FUZZ_CHECK(c.ngrids >= 1 && c.ngrids <= SWEEP_MAX_GRIDS);
		check_points(&c);
	}

	/* the command-line path: one key, one value */
	if (size < 1)
		return 0;
	char *val = malloc(size);
	FUZZ_CHECK(val != NULL);
	memcpy(val, data + 1, size - 1);
	val[size - 1] = 0;
	sweep_config_default(&c);
	if (sweep_config_set(&c, sweep_keys[data[0] % sweep_nkeys].name, val, "--override", &e) == 0)
		check_points(&c);
	else
		fuzz_check_msg(e.msg, "--override");
	free(val);
	return 0;
}
