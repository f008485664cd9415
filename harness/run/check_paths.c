/* check_paths.c - see check_paths.h. */
#include "run/check_paths.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_quant.h"
#include "run/reference.h"
#include "run/registry.h"

/* ---- what a backend claims ------------------------------------------------ */

static int uses_abi3(const attn_shape *s)
{
	return s->kv_storage || s->head_dim_v || s->window || s->softcap > 0 || s->alibi || s->sinks || s->q_lens ||
	       s->kv_lens;
}

const char *check_unclaimed(const attn_backend *b, const attn_shape *s, char *buf, size_t len)
{
	if (!uses_abi3(s))
		return NULL;
	if (b->abi_version < 3) {
		snprintf(buf, len, "ABI 3 fields (the backend is ABI %u)", b->abi_version);
		return buf;
	}
	const uint32_t missing =
	    shape_caps(s, s->alibi != NULL, s->sinks != NULL, s->q_lens || s->kv_lens, 0) & ~b->caps;
	static const struct {
		uint32_t cap;
		const char *what;
	} names[] = {
	    {ATTN_CAP_WINDOW, "window"},         {ATTN_CAP_SOFTCAP, "softcap"},
	    {ATTN_CAP_ALIBI, "alibi"},           {ATTN_CAP_SINKS, "sinks"},
	    {ATTN_CAP_HEAD_DIM_V, "head_dim_v"}, {ATTN_CAP_KV_DTYPE, "kv_dtype"},
	    {ATTN_CAP_Q8_0, "kv_dtype q8_0"},    {ATTN_CAP_Q4_0, "kv_dtype q4_0"},
	    {ATTN_CAP_FP8, "kv_dtype fp8_e4m3"}, {ATTN_CAP_RAGGED, "ragged lengths"},
	};
	buf[0] = 0;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (missing & names[i].cap) {
			const size_t n = strlen(buf);
			snprintf(buf + n, len - n, "%s%s", n ? ", " : "", names[i].what);
		}
	return buf[0] ? buf : NULL;
}

int check_wants_cache(const attn_backend *b, const attn_shape *s)
{
	if (!(b->caps & ATTN_CAP_KV_CACHE) || !(s->causal || s->n_q == 1))
		return 0;
	for (int64_t i = 0; s->q_lens && i < s->batch; i++)
		if (ref_q_len(s, i) > ref_kv_len(s, i))
			return 0;
	return 1;
}

int check_wants_paged(const attn_backend *b, const attn_shape *s)
{
	return b->abi_version >= 3 && (b->caps & ATTN_CAP_PAGED) && b->attend_paged && (s->causal || s->n_q == 1);
}

/* ---- the cache path ------------------------------------------------------- */

/* The rows of sequence b's [G][n_kv] rows x (rb bytes each) from t0[b]
 * (0 without t0), cnt[b] of them (n without cnt), as a guarded
 * [B][G][n][row] input named name; the rows past cnt[b] NaN. */
static const void *slice_rows(guard_buf *g, const char *name, const void *x, size_t rb, int64_t row_elems, attn_dtype t,
                              const attn_shape *s, const int64_t *t0, const int64_t *cnt, int64_t n)
{
	const int64_t G = s->n_kv_heads;
	char *tmp = xalloc((n ? (size_t)n : 1) * (size_t)(s->batch * G) * rb);
	if (!tmp)
		return NULL;
	for (int64_t b = 0; b < s->batch; b++)
		for (int64_t h = 0; h < G; h++)
			for (int64_t r = 0; r < n; r++) {
				char *dst = tmp + (size_t)((b * G + h) * n + r) * rb;
				if (cnt && r >= cnt[b])
					golden_nan_row(dst, row_elems, t);
				else
					memcpy(dst,
					       (const char *)x +
					           (size_t)((b * G + h) * s->n_kv + (t0 ? t0[b] : 0) + r) * rb,
					       rb);
			}
	const void *in = guard_input(g, name, tmp, (size_t)n * (size_t)(s->batch * G) * rb);
	free(tmp);
	return in;
}

/* A ragged prefill that loads each sequence's past (kv_lens[b] - q_lens[b]
 * tokens), its out ignored. *past gets the counts. Returns an ATTN_* code. */
static int load_ragged_past(const attn_backend *be, void *ctx, const case_data *d, int64_t *past)
{
	const attn_shape *s = &d->shape;
	const attn_dtype kt = attn_kv_dtype(s);
	const int64_t D = s->head_dim, DV = attn_head_dim_v(s);
	int64_t P = 0;
	for (int64_t b = 0; b < s->batch; b++) {
		past[b] = s->kv_lens[b] - s->q_lens[b];
		P = past[b] > P ? past[b] : P;
	}
	if (P == 0)
		return ATTN_OK;
	attn_shape ls = *s;
	ls.n_q = ls.n_kv = P;
	ls.causal = 1;
	ls.q_lens = ls.kv_lens = past;
	const size_t qrb = attn_row_bytes(s->dtype, D), nqrows = (size_t)(s->batch * s->n_heads * P);
	char *q = xalloc(nqrows * qrb);
	guard_buf g[4];
	memset(g, 0, sizeof g);
	int rc = ATTN_E_NOMEM;
	if (q) {
		/* queries of zeros (their out is not looked at), padding NaN */
		for (size_t r = 0; r < nqrows; r++) {
			const int64_t b = (int64_t)r / (s->n_heads * P), i = (int64_t)r % P;
			if (i < past[b])
				memset(q + r * qrb, 0, qrb);
			else
				golden_nan_row(q + r * qrb, D, s->dtype);
		}
		const void *gq = guard_input(&g[0], "q", q, nqrows * qrb);
		const void *kn = slice_rows(&g[1], "k_new", d->ks, attn_row_bytes(kt, D), D, kt, s, NULL, past, P);
		const void *vn = slice_rows(&g[2], "v_new", d->vs, attn_row_bytes(kt, DV), DV, kt, s, NULL, past, P);
		float *out = guard_output(&g[3], "out", nqrows * (size_t)DV);
		if (gq && kn && vn && out) {
			worker_enter("prefill");
			rc = be->prefill(ctx, &ls, gq, kn, vn, out);
		}
	}
	free(q);
	for (int i = 0; i < 4; i++)
		guard_free(&g[i]);
	return rc;
}

int check_cache_path(const attn_backend *be, void *ctx, const case_data *d, float *got)
{
	const attn_shape *s = &d->shape;
	const attn_dtype kt = attn_kv_dtype(s);
	const int64_t D = s->head_dim, DV = attn_head_dim_v(s), past = s->n_kv - s->n_q;
	const size_t krb = attn_row_bytes(kt, D), vrb = attn_row_bytes(kt, DV);
	attn_shape cs = *s;
	worker_enter("cache_alloc");
	int rc = be->cache_alloc(ctx, &cs);
	if (rc)
		return rc;
	/* t0[b]: where sequence b's new tokens start */
	int64_t *t0 = malloc((size_t)s->batch * sizeof *t0);
	guard_buf g[4];
	memset(g, 0, sizeof g);
	if (!t0)
		return ATTN_E_NOMEM;
	for (int64_t b = 0; b < s->batch; b++)
		t0[b] = past;
	if (s->q_lens) {
		rc = load_ragged_past(be, ctx, d, t0);
	} else if (past > 0) {
		const void *kp = slice_rows(&g[0], "k_new", d->ks, krb, D, kt, s, NULL, NULL, past);
		const void *vp = slice_rows(&g[1], "v_new", d->vs, vrb, DV, kt, s, NULL, NULL, past);
		worker_enter("cache_append");
		rc = kp && vp ? be->cache_append(ctx, kp, vp, past) : ATTN_E_NOMEM;
	}
	if (!rc) {
		const void *kn = slice_rows(&g[2], "k_new", d->ks, krb, D, kt, s, t0, s->q_lens, s->n_q);
		const void *vn = slice_rows(&g[3], "v_new", d->vs, vrb, DV, kt, s, t0, s->q_lens, s->n_q);
		cs.causal = 1;
		worker_enter(s->n_q == 1 ? "decode" : "prefill");
		if (!kn || !vn)
			rc = ATTN_E_NOMEM;
		else if (s->n_q == 1)
			rc = be->decode(ctx, &cs, d->qs, kn, vn, got);
		else
			rc = be->prefill(ctx, &cs, d->qs, kn, vn, got);
	}
	free(t0);
	for (int i = 0; i < 4; i++)
		guard_free(&g[i]);
	return rc;
}

/* ---- the paged path ------------------------------------------------------- */

int64_t check_page_size(int64_t n_kv)
{
	if (n_kv == 1)
		return 2;
	int64_t p = 3;
	while (n_kv % p == 0)
		p += 2;
	return p;
}

/* A shuffle of 0..n-1 that depends only on n. */
static void shuffle(int32_t *perm, int64_t n)
{
	uint64_t x = 0x243F6A8885A308D3ull ^ (uint64_t)n;
	for (int64_t i = 0; i < n; i++)
		perm[i] = (int32_t)i;
	for (int64_t i = n - 1; i > 0; i--) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		const int64_t j = (int64_t)(x % (uint64_t)(i + 1));
		const int32_t t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
}

/* The pool of one of k, v: [n_pages][G][ps][row] with token t of sequence
 * b at page table[b][t / ps], slot t % ps; every other row NaN. */
static char *fill_pool(const attn_shape *s, const void *x, int64_t row_elems, attn_dtype t, const int32_t *table,
                       int64_t max_pages, int64_t n_pages, int64_t ps, size_t *bytes)
{
	const int64_t G = s->n_kv_heads;
	const size_t rb = attn_row_bytes(t, row_elems), rows = (size_t)(n_pages * G * ps);
	char *pool = xalloc(rows * rb);
	if (!pool)
		return NULL;
	for (size_t r = 0; r < rows; r++)
		golden_nan_row(pool + r * rb, row_elems, t);
	for (int64_t b = 0; b < s->batch; b++)
		for (int64_t tok = 0; tok < s->n_kv; tok++) {
			const int64_t page = table[b * max_pages + tok / ps];
			for (int64_t g = 0; g < G; g++)
				memcpy(pool + (size_t)((page * G + g) * ps + tok % ps) * rb,
				       (const char *)x + (size_t)((b * G + g) * s->n_kv + tok) * rb, rb);
		}
	*bytes = rows * rb;
	return pool;
}

int check_paged_path(const attn_backend *be, void *ctx, const case_data *d, float *got)
{
	const attn_shape *s = &d->shape;
	const attn_dtype kt = attn_kv_dtype(s);
	const int64_t ps = check_page_size(s->n_kv), max_pages = (s->n_kv + ps - 1) / ps,
	              n_pages = s->batch * max_pages + 3; /* spare pages */
	int32_t *perm = malloc((size_t)n_pages * sizeof *perm);
	if (!perm)
		return ATTN_E_NOMEM;
	shuffle(perm, n_pages);
	size_t kbytes = 0, vbytes = 0;
	char *kpool = fill_pool(s, d->ks, s->head_dim, kt, perm, max_pages, n_pages, ps, &kbytes);
	char *vpool = fill_pool(s, d->vs, attn_head_dim_v(s), kt, perm, max_pages, n_pages, ps, &vbytes);
	guard_buf g[3];
	memset(g, 0, sizeof g);
	int rc = ATTN_E_NOMEM;
	if (kpool && vpool) {
		attn_paged_kv kv = {.n_pages = n_pages, .page_size = ps, .max_pages = max_pages};
		kv.k_pages = guard_input(&g[0], "k_pages", kpool, kbytes);
		kv.v_pages = guard_input(&g[1], "v_pages", vpool, vbytes);
		kv.block_table = guard_input(&g[2], "block_table", perm, (size_t)(s->batch * max_pages) * sizeof *perm);
		if (kv.k_pages && kv.v_pages && kv.block_table) {
			worker_enter("attend_paged");
			rc = be->attend_paged(ctx, s, d->qs, &kv, got);
		}
	}
	free(kpool);
	free(vpool);
	free(perm);
	for (int i = 0; i < 3; i++)
		guard_free(&g[i]);
	return rc;
}

/* ---- outputs and guarded inputs --------------------------------------------- */

void check_clear_padding(const attn_shape *s, float *got)
{
	const int64_t DV = attn_head_dim_v(s);
	for (int64_t b = 0; s->q_lens && b < s->batch; b++)
		for (int64_t h = 0; h < s->n_heads; h++)
			for (int64_t i = s->q_lens[b]; i < s->n_q; i++)
				memset(got + ((b * s->n_heads + h) * s->n_q + i) * DV, 0, (size_t)DV * sizeof(float));
}

int check_guard_case(const case_data *d, case_data *gd, guard_buf g[CASE_GUARDS])
{
	const attn_shape *s = &d->shape;
	*gd = *d;
	gd->qs = guard_input(&g[0], "q", d->qs, d->qb);
	gd->ks = guard_input(&g[1], "k", d->ks, d->kb);
	gd->vs = guard_input(&g[2], "v", d->vs, d->vb);
	int ok = gd->qs && gd->ks && gd->vs;
	const size_t hb = (size_t)s->n_heads * sizeof(float), bb = (size_t)s->batch * sizeof(int64_t);
	if (ok && s->alibi)
		ok = (gd->shape.alibi = guard_input(&g[3], "alibi", s->alibi, hb)) != NULL;
	if (ok && s->sinks)
		ok = (gd->shape.sinks = guard_input(&g[4], "sinks", s->sinks, hb)) != NULL;
	if (ok && s->q_lens)
		ok = (gd->shape.q_lens = guard_input(&g[5], "q_lens", s->q_lens, bb)) != NULL;
	if (ok && s->kv_lens)
		ok = (gd->shape.kv_lens = guard_input(&g[6], "kv_lens", s->kv_lens, bb)) != NULL;
	return ok ? 0 : -1;
}
