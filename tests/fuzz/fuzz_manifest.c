/* fuzz_manifest.c - libFuzzer target for the golden manifest reader. The
 * input becomes manifest.csv in a scratch dataset directory that also holds
 * small valid arrays (q.npy, k.npy, v.npy, out.npy of shape (1, 2, 4, 8)
 * and (1, 1, 4, 8)) and a symbolic link leading out of it (escape.npy), so
 * that rows naming them reach the path and shape checks. */
#include <stdint.h>
#include <sys/stat.h>

#include <math.h>

#include "attn_quant.h"
#include "fuzz_common.h"
#include "model/manifest.h"
#include "lib/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	static float zeros[64];
	const int64_t qs[4] = {1, 2, 4, 8}, ks[4] = {1, 1, 4, 8};
	const char *names[4] = {"q.npy", "k.npy", "v.npy", "out.npy"};
	char p[128];
	for (int i = 0; i < 4; i++) {
		fuzz_path(p, sizeof p, names[i]);
		if (npy_write(p, zeros, 4, 4, (i == 1 || i == 2) ? ks : qs) != 0) {
			perror(p);
			abort();
		}
	}
	fuzz_path(p, sizeof p, "escape.npy");
	if (symlink("/dev/null", p) != 0) {
		perror(p);
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char mpath[128];
	fuzz_path(mpath, sizeof mpath, "manifest.csv");
	fuzz_write(mpath, data, size);
	golden_case *cases = NULL;
	int n = 0;
	attn_err e = {{0}};
	const int rc = manifest_read(fuzz_scratch(), &cases, &n, &e);
	if (rc) {
		FUZZ_CHECK(rc == EXIT_INPUT && cases == NULL);
		fuzz_check_msg(e.msg, "manifest.csv");
		return 0;
	}
	FUZZ_CHECK(n >= 1 && n <= MANIFEST_MAX_CASES);
	const size_t dlen = strlen(fuzz_scratch());
	for (int i = 0; i < n; i++) {
		const golden_case *c = &cases[i];
		const attn_shape *s = &c->shape;
		FUZZ_CHECK(c->name[0] && utf8_valid(c->name, strlen(c->name)));
		FUZZ_CHECK(s->batch >= 1 && s->n_heads >= 1 && s->n_kv_heads >= 1 && s->head_dim >= 1);
		FUZZ_CHECK(s->n_q >= 1 && s->n_kv >= 1 && s->n_heads % s->n_kv_heads == 0);
		FUZZ_CHECK(!s->causal || s->n_q <= s->n_kv);
		FUZZ_CHECK(s->scale > 0 && c->atol >= 0 && c->rtol >= 0);
		/* the ABI 3 columns */
		FUZZ_CHECK(s->window >= 0 && s->softcap >= 0 && isfinite(s->softcap) && s->head_dim_v >= 0);
		FUZZ_CHECK(attn_kv_dtype_known(attn_kv_dtype(s)));
		FUZZ_CHECK(!attn_dtype_blocked(attn_kv_dtype(s)) ||
		           (s->head_dim % ATTN_QBLOCK == 0 && attn_head_dim_v(s) % ATTN_QBLOCK == 0));
		FUZZ_CHECK(!s->alibi && !s->sinks && !s->q_lens && !s->kv_lens);
		const char *paths[8] = {c->q, c->k, c->v, c->out, c->alibi, c->sinks, c->q_lens, c->kv_lens};
		for (int j = 0; j < 8; j++) {
			if (j >= 4 && !paths[j][0])
				continue;
			FUZZ_CHECK(strncmp(paths[j], fuzz_scratch(), dlen) == 0 && paths[j][dlen] == '/');
			FUZZ_CHECK(!strstr(paths[j] + dlen, "/../"));
			/* what the loader does next: probe the file */
			npy_array a;
			attn_err pe = {{0}};
			if (npy_probe(paths[j], &a, &pe))
				fuzz_check_msg(pe.msg, paths[j]);
		}
	}
	free(cases);
	return 0;
}
