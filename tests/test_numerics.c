/* test_numerics.c - numerical faults and concurrency.
 *
 * The NaN-aware comparison of `check` element class by element class (an
 * expected NaN or infinity must be reproduced, a finite reference keeps the
 * atol + rtol * |ref| rule with a finite result), `attnbench check` on a
 * golden directory whose inputs hold NaN and Inf (a warning, the case run
 * and passed, a wrong reference failing with the position), and the CPU
 * backends' determinism: the same input and thread count give bit-identical
 * outputs, other thread counts agree within the golden tolerance. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/check.h"
#include "model/manifest.h"
#include "lib/npy.h"
#include "run/registry.h"
#include "testutil.h"

static uint64_t rng = 0x5eed;

static float frand(void)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return (float)((double)(rng >> 40) / (double)(1ull << 24) * 2.0 - 1.0);
}

/* ---- compare_outputs, class by class -------------------------------------- */

static void test_nan_expected_and_produced(void **state)
{
	(void)state;
	const double ref[4] = {0.5, NAN, -0.25, NAN};
	const float got[4] = {0.5f, NAN, -0.25f, -NAN}; /* any NaN will do, whatever its sign */
	err_stats st;
	assert_true(compare_outputs(got, ref, 4, 1e-4, 1e-4, &st));
	assert_int_equal(st.n_bad, 0);
	assert_int_equal(st.first_bad, -1);
	assert_int_equal(st.n_special, 2);
}

static void test_nan_expected_finite_produced(void **state)
{
	(void)state;
	const double ref[4] = {0.5, 0.75, NAN, 1.0};
	const float got[4] = {0.5f, 0.75f, 0.0f, 1.0f};
	err_stats st;
	assert_false(compare_outputs(got, ref, 4, 1e-4, 1e-4, &st));
	assert_int_equal(st.n_bad, 1);
	assert_int_equal(st.first_bad, 2);
	/* an infinity is not a NaN either */
	const float inf[4] = {0.5f, 0.75f, INFINITY, 1.0f};
	assert_false(compare_outputs(inf, ref, 4, 1e-4, 1e-4, &st));
	assert_int_equal(st.first_bad, 2);
}

static void test_finite_expected_nan_produced(void **state)
{
	(void)state;
	const double ref[5] = {0.1, 0.2, 0.3, 0.4, 0.5};
	const float got[5] = {0.1f, 0.2f, 0.3f, NAN, NAN};
	err_stats st;
	assert_false(compare_outputs(got, ref, 5, 1e-4, 1e-4, &st));
	assert_int_equal(st.n_bad, 2);
	assert_int_equal(st.first_bad, 3);
	/* no finite distance: the figures say so */
	assert_true(isinf(st.max_abs) && isinf(st.worst) && isinf(st.nmse));
	/* an infinity where a finite value is expected fails the same way */
	const float inf[5] = {0.1f, -INFINITY, 0.3f, 0.4f, 0.5f};
	assert_false(compare_outputs(inf, ref, 5, 1e-4, 1e-4, &st));
	assert_int_equal(st.n_bad, 1);
	assert_int_equal(st.first_bad, 1);
}

static void test_inf_classes(void **state)
{
	(void)state;
	const double ref[4] = {INFINITY, -INFINITY, 1.0, INFINITY};
	err_stats st;
	const float same[4] = {INFINITY, -INFINITY, 1.0f, INFINITY};
	assert_true(compare_outputs(same, ref, 4, 1e-4, 1e-4, &st));
	assert_int_equal(st.n_special, 3);
	assert_true(isfinite(st.max_abs) && isfinite(st.nmse) && isfinite(st.worst));
	const float sign[4] = {INFINITY, INFINITY, 1.0f, INFINITY}; /* the wrong infinity */
	assert_false(compare_outputs(sign, ref, 4, 1e-4, 1e-4, &st));
	assert_int_equal(st.first_bad, 1);
	assert_int_equal(st.n_bad, 1);
	const float big[4] = {INFINITY, -INFINITY, 1.0f, 3.0e38f}; /* large is not infinite */
	assert_false(compare_outputs(big, ref, 4, 1e-4, 1e-4, &st));
	assert_int_equal(st.first_bad, 3);
	const float nan[4] = {NAN, -INFINITY, 1.0f, INFINITY};
	assert_false(compare_outputs(nan, ref, 4, 1e-4, 1e-4, &st));
	assert_int_equal(st.first_bad, 0);
}

/* Agreeing NaN positions leave the error figures to the finite elements. */
static void test_figures_over_finite(void **state)
{
	(void)state;
	const double ref[4] = {1.0, NAN, 2.0, -INFINITY};
	const float got[4] = {1.0f + 0x1p-12f, NAN, 2.0f, -INFINITY};
	err_stats st;
	assert_true(compare_outputs(got, ref, 4, 1e-3, 0, &st));
	assert_true(fabs(st.max_abs - 0x1p-12) < 1e-12);
	assert_true(fabs(st.max_rel - 0x1p-12) < 1e-12);
	assert_true(fabs(st.worst - 0x1p-12 / 1e-3) < 1e-9);
	assert_true(fabs(st.nmse - 0x1p-24 / 5.0) < 1e-15); /* (2^-12)^2 / (1 + 4) */
}

/* The contract's rule for finite values, exactly: |d| <= atol + rtol |ref|. */
static void test_finite_rule_exact(void **state)
{
	(void)state;
	const double ref[1] = {2.0};
	const float edge[1] = {2.75f}, over[1] = {2.7500002f};
	err_stats st;
	assert_true(compare_outputs(edge, ref, 1, 0.25, 0.25, &st)); /* d = 0.75 = 0.25 + 0.25 * 2 */
	assert_false(compare_outputs(over, ref, 1, 0.25, 0.25, &st));
	assert_int_equal(st.first_bad, 0);
	assert_true(isfinite(st.max_abs) && st.max_abs > 0.75);
	double d, tol;
	assert_true(compare_element(2.7500002f, 2.0, 0.25, 0.25, &d, &tol));
	assert_false(compare_element(2.75, 2.0, 0.25, 0.25, &d, &tol));
	assert_true(d == 0.75 && tol == 0.75);
}

/* ---- a backend's NaN against a finite reference ------------------------- */

/* NaN in one query row: naive produces NaN in that output row; against the
 * reference of the clean input the first bad element is that row's first. */
static void test_backend_nan_found(void **state)
{
	(void)state;
	backend_entry *be = registry_find("naive");
	assert_non_null(be);
	attn_shape s = {.batch = 1, .n_heads = 2, .n_kv_heads = 1, .head_dim = 8, .n_q = 6, .n_kv = 9, .causal = 1};
	s.scale = 0.35f;
	const size_t nq = 2 * 6 * 8, nk = 9 * 8;
	float q[2 * 6 * 8], k[9 * 8], v[9 * 8], got[2 * 6 * 8];
	double ref[2 * 6 * 8];
	for (size_t i = 0; i < nq; i++)
		q[i] = frand();
	for (size_t i = 0; i < nk; i++) {
		k[i] = frand();
		v[i] = frand();
	}
	tu_reference(&s, q, k, v, s.n_kv, ref);
	const int64_t row = 1 * 6 + 4; /* h = 1, i = 4 */
	q[row * 8 + 3] = NAN;
	void *inst;
	char err[256];
	attn_config cfg = {.threads = 1};
	assert_int_equal(be->be->create(&cfg, &inst, err, sizeof err), ATTN_OK);
	assert_int_equal(be->be->attend(inst, &s, q, k, v, got), ATTN_OK);
	be->be->destroy(inst);
	err_stats st;
	assert_false(compare_outputs(got, ref, (int64_t)nq, ATTN_F32_ATOL, ATTN_F32_RTOL, &st));
	assert_int_equal(st.first_bad, row * 8);
	assert_int_equal(st.n_bad, 8);
	assert_true(isinf(st.worst));
}

/* ---- attnbench check on NaN and Inf in the inputs ------------------------ */

#define B   1
#define H   2
#define HK  1
#define D   4
#define NQ  3
#define NKV 5

typedef struct tiny_case {
	float q[B * H * NQ * D], k[B * HK * NKV * D], v[B * HK * NKV * D];
	double out[B * H * NQ * D];
} tiny_case;

static const attn_shape tiny_shape = {
    .batch = B, .n_heads = H, .n_kv_heads = HK, .head_dim = D, .n_q = NQ, .n_kv = NKV, .causal = 1, .scale = 0.5f};

static void tiny_fill(tiny_case *c)
{
	for (size_t i = 0; i < sizeof c->q / sizeof c->q[0]; i++)
		c->q[i] = frand();
	for (size_t i = 0; i < sizeof c->k / sizeof c->k[0]; i++) {
		c->k[i] = frand();
		c->v[i] = frand();
	}
}

static void tiny_write(const char *dir, const char *name, const tiny_case *c, FILE *manifest)
{
	const int64_t qs[4] = {B, H, NQ, D}, ks[4] = {B, HK, NKV, D};
	char p[700];
	snprintf(p, sizeof p, "%s/%s_q.npy", dir, name);
	assert_int_equal(npy_write(p, c->q, 4, 4, qs), 0);
	snprintf(p, sizeof p, "%s/%s_k.npy", dir, name);
	assert_int_equal(npy_write(p, c->k, 4, 4, ks), 0);
	snprintf(p, sizeof p, "%s/%s_v.npy", dir, name);
	assert_int_equal(npy_write(p, c->v, 4, 4, ks), 0);
	snprintf(p, sizeof p, "%s/%s_out.npy", dir, name);
	assert_int_equal(npy_write(p, c->out, 8, 4, qs), 0);
	if (manifest)
		fprintf(manifest, "%s,%d,%d,%d,%d,%d,%d,1,0.5,%s_q.npy,%s_k.npy,%s_v.npy,%s_out.npy,,\n", name, B, H,
		        HK, D, NQ, NKV, name, name, name, name);
}

/* Element (h, i, d) of the reference is non-finite exactly where expect()
 * says, with the class it says: a check of the test's own reference. */
static void expect_pattern(const tiny_case *c, int (*expect)(int h, int i, int d))
{
	for (int h = 0; h < H; h++)
		for (int i = 0; i < NQ; i++)
			for (int d = 0; d < D; d++) {
				const double x = c->out[(h * NQ + i) * D + d];
				const int want = expect(h, i, d); /* 0 finite, 1 NaN, 2 +Inf */
				if ((want == 0 && !isfinite(x)) || (want == 1 && !isnan(x)) ||
				    (want == 2 && x != INFINITY))
					fail_msg("reference [h=%d,i=%d,d=%d] = %g, expected class %d", h, i, d, x,
					         want);
			}
}

/* NaN in q row (h=1, i=1): only that output row. */
static int nan_q_rows(int h, int i, int d)
{
	(void)d;
	return h == 1 && i == 1;
}

/* NaN in k row j=3: every query that sees key 3 (causal, bottom-right:
 * query i sees keys j <= NKV - NQ + i, so i >= 1), in every head. */
static int nan_k_rows(int h, int i, int d)
{
	(void)h;
	(void)d;
	return i >= 1;
}

/* +Inf in v row j=4, column 0: column 0 of the queries that see key 4. */
static int inf_v_rows(int h, int i, int d)
{
	(void)h;
	return i == 2 && d == 0 ? 2 : 0;
}

/* The table row of a case on stdout. */
static const char *row_of(const char *out, const char *name, char *buf, size_t len)
{
	const char *p = out;
	while (p && *p) {
		const size_t n = strcspn(p, "\n");
		if (!strncmp(p, name, strlen(name)) && p[strlen(name)] == ' ') {
			snprintf(buf, len, "%.*s", (int)n, p);
			return buf;
		}
		p += n + (p[n] == '\n');
	}
	fail_msg("no row for case %s in: %.600s", name, out);
	return NULL;
}

static void expect_in(const char *text, const char *needle)
{
	if (!strstr(text ? text : "", needle))
		fail_msg("wanted '%s' in: %.1500s", needle, text ? text : "");
}

static void test_check_nonfinite_inputs(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), p[700], junit[700];
	snprintf(p, sizeof p, "%s/manifest.csv", dir);
	FILE *m = fopen(p, "w");
	assert_non_null(m);
	fprintf(m, "name,batch,n_heads,n_kv_heads,head_dim,n_q,n_kv,causal,scale,q,k,v,out,atol,rtol\n");
	static tiny_case cq, ck, cv;
	tiny_fill(&cq);
	cq.q[(1 * NQ + 1) * D + 2] = NAN;
	tu_reference(&tiny_shape, cq.q, cq.k, cq.v, NKV, cq.out);
	expect_pattern(&cq, nan_q_rows);
	tiny_write(dir, "nan_in_q", &cq, m);
	tiny_fill(&ck);
	ck.k[3 * D + 1] = NAN;
	tu_reference(&tiny_shape, ck.q, ck.k, ck.v, NKV, ck.out);
	expect_pattern(&ck, nan_k_rows);
	tiny_write(dir, "nan_in_k", &ck, m);
	tiny_fill(&cv);
	cv.v[4 * D + 0] = INFINITY;
	tu_reference(&tiny_shape, cv.q, cv.k, cv.v, NKV, cv.out);
	expect_pattern(&cv, inf_v_rows);
	tiny_write(dir, "overflow_in_v", &cv, m);
	assert_int_equal(fclose(m), 0);

	/* warned about, run, and passed: NaN and Inf come out where the
	 * reference has them, through attend and the KV-cache path */
	snprintf(junit, sizeof junit, "%s/junit.xml", dir);
	char *out = NULL, *err = NULL, row[512];
	int rc = tu_run(&out, &err, "check", "--golden", dir, "--backend", "naive", "--junit", junit, (char *)NULL);
	if (rc != 0)
		fail_msg("exit %d; stdout: %.1500s; stderr: %.800s", rc, out, err);
	expect_in(err, "nan_in_q_q.npy: 1 NaN, 0 Inf in the input (first at [b=0,h=1,i=1,d=2]); comparing with "
	               "NaN-aware rules");
	expect_in(err, "nan_in_q_out.npy: 4 NaN, 0 Inf in the reference (first at [b=0,h=1,i=1,d=0])");
	expect_in(err, "nan_in_k_k.npy: 1 NaN, 0 Inf in the input (first at [b=0,g=0,j=3,d=1])");
	expect_in(err, "nan_in_k_out.npy: 16 NaN, 0 Inf in the reference (first at [b=0,h=0,i=1,d=0])");
	expect_in(err, "overflow_in_v_v.npy: 0 NaN, 1 Inf in the input (first at [b=0,g=0,j=4,d=0])");
	expect_in(err, "overflow_in_v_out.npy: 0 NaN, 2 Inf in the reference (first at [b=0,h=0,i=2,d=0])");
	assert_null(strstr(err, "nan_in_q_k.npy")); /* clean files are not mentioned */
	expect_in(out, "3 passed, 0 failed");
	/* the figures cover the finite elements: no inf or nan in the rows */
	const char *names[3] = {"nan_in_q", "nan_in_k", "overflow_in_v"};
	for (int i = 0; i < 3; i++) {
		row_of(out, names[i], row, sizeof row);
		char *verdict = strstr(row, " PASS: ");
		if (!verdict || !strstr(verdict, " NaN/Inf elements of the reference reproduced"))
			fail_msg("row: %s", row);
		*verdict = 0;
		const char *figures = row + strlen(names[i]);
		if (strstr(figures, "inf") || strstr(figures, "nan") || !strstr(figures, "attend+prefill"))
			fail_msg("row: %s", row);
	}
	free(out);
	free(err);
	char *x = tu_read(junit, NULL);
	assert_non_null(x);
	expect_in(x, "<system-err>warning: ");
	expect_in(x, "nan_in_k_k.npy: 1 NaN, 0 Inf in the input");
	assert_null(strstr(x, "<failure"));
	free(x);

	/* the tuned CPU kernels carry NaN through too: their vector exp keeps
	 * it (an Inf in a V row a query cannot see is another matter: they
	 * multiply it by 0, see docs/reliability.md) */
	const char *tuned[2] = {"blocked", "blas"};
	for (int b = 0; b < 2; b++) {
		rc = tu_run(&out, &err, "check", "--golden", dir, "--backend", tuned[b], (char *)NULL);
		for (int i = 0; i < 2; i++) {
			row_of(out, names[i], row, sizeof row);
			if (!strstr(row, " PASS: "))
				fail_msg("%s (exit %d): %s", tuned[b], rc, row);
		}
		free(out);
		free(err);
	}

	/* wrong references: the position, both values and the reason */
	cq.out[(1 * NQ + 1) * D + 2] = 0.25;      /* NaN produced, finite expected */
	cq.out[(0 * NQ + 2) * D + 0] = NAN;       /* finite produced, NaN expected */
	cv.out[(0 * NQ + 2) * D + 0] = -INFINITY; /* +inf produced, -inf expected */
	tiny_write(dir, "nan_in_q", &cq, NULL);
	tiny_write(dir, "overflow_in_v", &cv, NULL);
	rc = tu_run(&out, &err, "check", "--golden", dir, "--backend", "naive", (char *)NULL);
	if (rc != 1)
		fail_msg("exit %d (want 1); stdout: %.1500s; stderr: %.800s", rc, out, err);
	expect_in(out, "nan_in_q attend [b=0,h=1,i=1,d=2]: got nan, want 0.25 (NaN where a finite value is expected)");
	expect_in(out, "nan_in_q prefill [b=0,h=1,i=1,d=2]: got nan, want 0.25");
	expect_in(out, "nan_in_q attend [b=0,h=0,i=2,d=0]: got ");
	expect_in(out, ", want nan (NaN expected)");
	expect_in(out, "overflow_in_v attend [b=0,h=0,i=2,d=0]: got inf, want -inf (-inf expected)");
	expect_in(out, "FAILED: nan_in_q/naive overflow_in_v/naive");
	expect_in(row_of(out, "nan_in_k", row, sizeof row), "PASS");
	free(out);
	free(err);
	tu_rmtree(dir);
}

#undef B
#undef H
#undef HK
#undef D
#undef NQ
#undef NKV

/* ---- determinism across runs and thread counts -------------------------- */

typedef struct op_case {
	const char *what;
	int cache;    /* 0: attend; 1: cache_append the past, then prefill or decode */
	attn_shape s; /* n_kv: keys attended (past included) */
} op_case;

/* Shapes that take the blocked backend through several query tiles with a
 * partial last one, GQA groups sharing tiles, and the split-K path (fewer
 * tasks than threads: a long cache and one KV head) in decode and prefill. */
static const op_case op_cases[] = {
    {"attend causal, 77 queries",
     0,
     {.batch = 2,
      .n_heads = 4,
      .n_kv_heads = 2,
      .head_dim = 40,
      .n_q = 77,
      .n_kv = 77,
      .causal = 1,
      .scale = 0.158f,
      .dtype = ATTN_F32}},
    {"attend non-causal",
     0,
     {.batch = 1,
      .n_heads = 3,
      .n_kv_heads = 3,
      .head_dim = 13,
      .n_q = 50,
      .n_kv = 130,
      .causal = 0,
      .scale = 0.277f,
      .dtype = ATTN_F32}},
    {"prefill, 45 new tokens",
     1,
     {.batch = 1,
      .n_heads = 4,
      .n_kv_heads = 2,
      .head_dim = 64,
      .n_q = 45,
      .n_kv = 345,
      .causal = 1,
      .scale = 0.125f,
      .dtype = ATTN_F32}},
    {"prefill, split keys",
     1,
     {.batch = 1,
      .n_heads = 2,
      .n_kv_heads = 1,
      .head_dim = 32,
      .n_q = 6,
      .n_kv = 1500,
      .causal = 1,
      .scale = 0.177f,
      .dtype = ATTN_F32}},
    {"decode, split keys",
     1,
     {.batch = 1,
      .n_heads = 8,
      .n_kv_heads = 1,
      .head_dim = 128,
      .n_q = 1,
      .n_kv = 4000,
      .causal = 1,
      .scale = 0.088f,
      .dtype = ATTN_F32}},
    {"decode, batch 2",
     1,
     {.batch = 2,
      .n_heads = 4,
      .n_kv_heads = 2,
      .head_dim = 64,
      .n_q = 1,
      .n_kv = 2047,
      .causal = 1,
      .scale = 0.125f,
      .dtype = ATTN_F32}},
};

typedef struct op_data {
	float *q, *k, *v;
	size_t nq, nk;
} op_data;

static void op_data_make(const attn_shape *s, op_data *d)
{
	d->nq = (size_t)(s->batch * s->n_heads * s->n_q * s->head_dim);
	d->nk = (size_t)(s->batch * s->n_kv_heads * s->n_kv * s->head_dim);
	d->q = malloc(d->nq * sizeof(float));
	d->k = malloc(d->nk * sizeof(float));
	d->v = malloc(d->nk * sizeof(float));
	assert_true(d->q && d->k && d->v);
	for (size_t i = 0; i < d->nq; i++)
		d->q[i] = 2 * frand();
	for (size_t i = 0; i < d->nk; i++) {
		d->k[i] = 2 * frand();
		d->v[i] = frand();
	}
}

/* Tokens [t0, t0 + n) of a [B][G][n_kv][D] tensor. */
static float *slice(const float *x, const attn_shape *s, int64_t t0, int64_t n)
{
	const size_t D = (size_t)s->head_dim, rows = (size_t)(s->batch * s->n_kv_heads);
	float *out = malloc((n ? (size_t)n : 1) * rows * D * sizeof(float));
	assert_non_null(out);
	for (size_t r = 0; r < rows; r++)
		memcpy(out + r * (size_t)n * D, x + (r * (size_t)s->n_kv + (size_t)t0) * D,
		       (size_t)n * D * sizeof(float));
	return out;
}

/* One run of the operation on an instance; out is overwritten. */
static void op_run(const attn_backend *be, void *inst, const op_case *oc, const op_data *d, float *out)
{
	const attn_shape *s = &oc->s;
	memset(out, 0xff, d->nq * sizeof(float)); /* NaN: nothing left from a previous run */
	if (!oc->cache) {
		assert_int_equal(be->attend(inst, s, d->q, d->k, d->v, out), ATTN_OK);
		return;
	}
	const int64_t past = s->n_kv - s->n_q;
	float *kp = slice(d->k, s, 0, past), *vp = slice(d->v, s, 0, past);
	float *kn = slice(d->k, s, past, s->n_q), *vn = slice(d->v, s, past, s->n_q);
	assert_int_equal(be->cache_alloc(inst, s), ATTN_OK);
	assert_int_equal(be->cache_append(inst, kp, vp, past), ATTN_OK);
	const int rc = s->n_q == 1 ? be->decode(inst, s, d->q, kn, vn, out) : be->prefill(inst, s, d->q, kn, vn, out);
	assert_int_equal(rc, ATTN_OK);
	free(kp);
	free(vp);
	free(kn);
	free(vn);
}

static void *op_create(const backend_entry *be, int threads)
{
	void *inst;
	char err[256];
	attn_config cfg = {.threads = threads};
	if (be->be->create(&cfg, &inst, err, sizeof err) != ATTN_OK)
		fail_msg("%s: create: %s", be->be->name, err);
	return inst;
}

static void expect_identical(const char *backend, const op_case *oc, int threads, const float *a, const float *b,
                             size_t n)
{
	if (!memcmp(a, b, n * sizeof(float)))
		return;
	size_t i = 0;
	while (i < n && !memcmp(a + i, b + i, sizeof(float)))
		i++;
	fail_msg("%s, %s, %d threads: runs differ first at element %zu: %.9g vs %.9g", backend, oc->what, threads, i,
	         (double)a[i], (double)b[i]);
}

static void test_deterministic(void **state)
{
	(void)state;
	static const char *const names[] = {"naive", "blocked", "blas"};
	for (size_t bi = 0; bi < sizeof names / sizeof names[0]; bi++) {
		backend_entry *be = registry_find(names[bi]);
		assert_non_null(be);
		if (!be->available)
			continue;
		for (size_t ci = 0; ci < sizeof op_cases / sizeof op_cases[0]; ci++) {
			const op_case *oc = &op_cases[ci];
			op_data d;
			op_data_make(&oc->s, &d);
			double *ref = malloc(d.nq * sizeof(double));
			float *one = malloc(d.nq * sizeof(float)), *first = malloc(d.nq * sizeof(float));
			float *again = malloc(d.nq * sizeof(float));
			assert_true(ref && one && first && again);
			tu_reference(&oc->s, d.q, d.k, d.v, oc->s.n_kv, ref);

			void *inst1 = op_create(be, 1);
			op_run(be->be, inst1, oc, &d, one);
			be->be->destroy(inst1);
			err_stats st;
			if (!compare_outputs(one, ref, (int64_t)d.nq, ATTN_F32_ATOL, ATTN_F32_RTOL, &st))
				fail_msg("%s, %s, 1 thread: %lld bad vs the reference", names[bi], oc->what,
				         (long long)st.n_bad);

			for (int threads = 2; threads <= 3; threads++) {
				/* the same instance twice (its workspace reused), then a
				 * fresh one: every run bit-identical to the first */
				void *inst = op_create(be, threads), *fresh = op_create(be, threads);
				op_run(be->be, inst, oc, &d, first);
				for (int rep = 0; rep < 3; rep++) {
					op_run(be->be, inst, oc, &d, again);
					expect_identical(names[bi], oc, threads, first, again, d.nq);
				}
				op_run(be->be, fresh, oc, &d, again);
				expect_identical(names[bi], oc, threads, first, again, d.nq);
				be->be->destroy(inst);
				be->be->destroy(fresh);
				/* other thread counts: the same result within the golden
				 * tolerance (the key split, and so the rounding, may differ) */
				double *one_d = malloc(d.nq * sizeof(double));
				assert_non_null(one_d);
				for (size_t i = 0; i < d.nq; i++)
					one_d[i] = one[i];
				if (!compare_outputs(first, one_d, (int64_t)d.nq, ATTN_F32_ATOL, ATTN_F32_RTOL, &st))
					fail_msg("%s, %s: %d threads vs 1: %lld elements differ beyond the tolerance, "
					         "max_abs %g",
					         names[bi], oc->what, threads, (long long)st.n_bad, st.max_abs);
				free(one_d);
			}
			free(ref);
			free(one);
			free(first);
			free(again);
			free(d.q);
			free(d.k);
			free(d.v);
		}
	}
}

/* `check` passes the goldens whatever the thread count (the split of the
 * keys, and so the rounding, changes with it; the result must not). */
static void test_check_thread_counts(void **state)
{
	(void)state;
	EXPECT(0, " 0 failed", "check", "--golden", "datasets/golden", "--backend", "naive,blocked,blas", "--threads",
	       "1");
	EXPECT(0, " 0 failed", "check", "--golden", "datasets/golden", "--backend", "naive,blocked,blas", "--threads",
	       "3");
}

int run_numerics_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nan_expected_and_produced),
	    cmocka_unit_test(test_nan_expected_finite_produced),
	    cmocka_unit_test(test_finite_expected_nan_produced),
	    cmocka_unit_test(test_inf_classes),
	    cmocka_unit_test(test_figures_over_finite),
	    cmocka_unit_test(test_finite_rule_exact),
	    cmocka_unit_test(test_backend_nan_found),
	    cmocka_unit_test(test_check_nonfinite_inputs),
	    cmocka_unit_test(test_deterministic),
	    cmocka_unit_test(test_check_thread_counts),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("numerics", tests, NULL, NULL);
}
