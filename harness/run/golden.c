/* golden.c - see golden.h. */
#include "run/golden.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_half.h"
#include "lib/npy.h"

int compare_element(double got, double ref, double atol, double rtol, double *d, double *tol)
{
	*tol = atol + rtol * fabs(ref);
	if (isfinite(ref) && isfinite(got)) {
		*d = fabs(got - ref);
		return !(*d <= *tol);
	}
	*d = NAN;
	if (isnan(ref))
		return !isnan(got);
	if (isinf(ref))
		return got != ref;
	return 1; /* NaN or an infinity where a finite value is expected */
}

int compare_outputs(const float *got, const double *ref, int64_t n, double atol, double rtol, err_stats *st)
{
	double se = 0, sr = 0;
	int unbounded = 0; /* a class mismatch: no finite distance */
	memset(st, 0, sizeof *st);
	st->first_bad = -1;
	for (int64_t i = 0; i < n; i++) {
		const double r = ref[i];
		double d, tol;
		const int bad = compare_element(got[i], r, atol, rtol, &d, &tol);
		if (!isfinite(r))
			st->n_special++;
		if (bad) {
			if (st->first_bad < 0)
				st->first_bad = i;
			st->n_bad++;
		}
		if (isnan(d)) { /* not both finite: agreeing NaN or Inf, or a class mismatch */
			unbounded |= bad;
			continue;
		}
		st->max_abs = fmax(st->max_abs, d);
		st->max_rel = fmax(st->max_rel, d / fmax(fabs(r), 1e-6));
		st->worst = fmax(st->worst, tol > 0 ? d / tol : (d > 0 ? INFINITY : 0));
		se += d * d;
		sr += r * r;
	}
	st->nmse = sr > 0 ? se / sr : (se > 0 ? INFINITY : 0);
	if (unbounded)
		st->max_abs = st->max_rel = st->nmse = st->worst = INFINITY;
	return st->n_bad == 0;
}

/* Position i of a [dims[0]][dims[1]][dims[2]][dims[3]] array as
 * "[b=..,h=..,i=..,d=..]", with the four names given in labels. */
static void describe_pos(const int64_t dims[4], const char *const labels[4], int64_t i, char *buf, size_t len)
{
	int64_t idx[4];
	for (int a = 3; a >= 0; a--) {
		idx[a] = dims[a] > 0 ? i % dims[a] : 0;
		i = dims[a] > 0 ? i / dims[a] : 0;
	}
	snprintf(buf, len, "[%s=%lld,%s=%lld,%s=%lld,%s=%lld]", labels[0], (long long)idx[0], labels[1],
	         (long long)idx[1], labels[2], (long long)idx[2], labels[3], (long long)idx[3]);
}

static const char *const q_labels[4] = {"b", "h", "i", "d"};  /* q and out */
static const char *const kv_labels[4] = {"b", "g", "j", "d"}; /* k and v */

/* ---- loading ------------------------------------------------------------ */

/* Check that an array file has the shape the manifest promises. */
static int check_shape(const char *path, const char *field, const npy_array *a, const int64_t *want, attn_err *e)
{
	int ok = a->ndim == 4;
	for (int i = 0; ok && i < 4; i++)
		ok = a->shape[i] == want[i];
	if (ok)
		return 0;
	char got[160] = "(";
	for (int i = 0; i < a->ndim; i++) {
		char t[32];
		snprintf(t, sizeof t, "%s%lld", i ? ", " : "", (long long)a->shape[i]);
		strncat(got, t, sizeof got - strlen(got) - 2);
	}
	strcat(got, ")");
	return attn_errf(e, "%s: header field 'shape': %s is %s, the manifest says (%lld, %lld, %lld, %lld)", path,
	                 field, got, (long long)want[0], (long long)want[1], (long long)want[2], (long long)want[3]);
}

static void case_shapes(const attn_shape *s, int64_t qs[4], int64_t ks[4])
{
	qs[0] = s->batch;
	qs[1] = s->n_heads;
	qs[2] = s->n_q;
	qs[3] = s->head_dim;
	ks[0] = s->batch;
	ks[1] = s->n_kv_heads;
	ks[2] = s->n_kv;
	ks[3] = s->head_dim;
}

/* Validate every file of a case (headers and sizes) without reading data. */
int golden_probe(const golden_case *gc, attn_err *e)
{
	int64_t qs[4], ks[4];
	case_shapes(&gc->shape, qs, ks);
	const char *paths[4] = {gc->q, gc->k, gc->v, gc->out};
	const char *fields[4] = {"q", "k", "v", "out"};
	const int64_t *shapes[4] = {qs, ks, ks, qs};
	for (int i = 0; i < 4; i++) {
		npy_array a;
		int rc = npy_probe(paths[i], &a, e);
		/* inputs may be <f2 (exact in f16); the reference is <f4 or <f8 */
		if (!rc && a.itemsize == 2 && i == 3)
			rc = attn_errf(e,
			               "%s: header field 'descr': dtype '<f2' is not a reference dtype (<f4, <f8 are)",
			               paths[i]);
		if (rc || check_shape(paths[i], fields[i], &a, shapes[i], e)) {
			char where[200];
			snprintf(where, sizeof where, " (case '%s': manifest.csv row %d, field '%s')", gc->name,
			         gc->row, fields[i]);
			strncat(e->msg, where, sizeof e->msg - strlen(e->msg) - 1);
			return EXIT_INPUT;
		}
	}
	return 0;
}

void golden_free(case_data *d)
{
	free(d->q);
	free(d->k);
	free(d->v);
	free(d->out);
	for (int i = 0; i < 3; i++)
		free(d->half[i]);
	memset(d, 0, sizeof *d);
}

/* Attention in f32 with plain loops: the low-precision reference of the
 * ratio rule. Softmax over the visible keys with the maximum subtracted,
 * weights and sums in f32, normalised at the end. */
static int reference_f32(const attn_shape *s, const float *q, const float *k, const float *v, float *out)
{
	const int64_t H = s->n_heads, G = s->n_kv_heads, D = s->head_dim, NQ = s->n_q, NKV = s->n_kv;
	float *p = xalloc((size_t)NKV * sizeof(float));
	if (!p)
		return -1;
	for (int64_t b = 0; b < s->batch; b++)
		for (int64_t h = 0; h < H; h++) {
			const int64_t g = h / (H / G);
			const float *K = k + (b * G + g) * NKV * D, *V = v + (b * G + g) * NKV * D;
			for (int64_t i = 0; i < NQ; i++) {
				const float *x = q + ((b * H + h) * NQ + i) * D;
				float *o = out + ((b * H + h) * NQ + i) * D;
				const int64_t vis = s->causal ? NKV - NQ + i + 1 : NKV;
				float mx = -INFINITY, sum = 0;
				for (int64_t j = 0; j < vis; j++) {
					float dot = 0;
					for (int64_t t = 0; t < D; t++)
						dot += x[t] * K[j * D + t];
					p[j] = s->scale * dot;
					mx = fmaxf(mx, p[j]);
				}
				for (int64_t t = 0; t < D; t++)
					o[t] = 0;
				for (int64_t j = 0; j < vis; j++) {
					const float w = expf(p[j] - mx);
					sum += w;
					for (int64_t t = 0; t < D; t++)
						o[t] += w * V[j * D + t];
				}
				for (int64_t t = 0; t < D; t++)
					o[t] /= sum;
			}
		}
	free(p);
	return 0;
}

int golden_round_inputs(const attn_shape *s, case_data *d)
{
	const size_t nq = (size_t)(s->batch * s->n_heads * s->n_q * s->head_dim),
	             nk = (size_t)(s->batch * s->n_kv_heads * s->n_kv * s->head_dim);
	float *x[3] = {d->q, d->k, d->v};
	const size_t n[3] = {nq, nk, nk};
	for (int i = 0; i < 3; i++) {
		d->half[i] = xalloc((n[i] ? n[i] : 1) * attn_dtype_size(s->dtype));
		if (!d->half[i])
			return -1;
		attn_store_n(d->half[i], x[i], n[i], s->dtype);
		attn_load_n(x[i], d->half[i], n[i], s->dtype);
	}
	d->qs = d->half[0];
	d->ks = d->half[1];
	d->vs = d->half[2];
	return 0;
}

int golden_ref_err(const attn_shape *s, case_data *d)
{
	const size_t nq = (size_t)(s->batch * s->n_heads * s->n_q * s->head_dim);
	float *r = xalloc((nq ? nq : 1) * sizeof(float));
	if (!r || reference_f32(s, d->q, d->k, d->v, r)) {
		free(r);
		return -1;
	}
	d->ref_err = 0;
	for (size_t i = 0; i < nq; i++)
		if (isfinite(r[i]) && isfinite(d->out[i]))
			d->ref_err = fmax(d->ref_err, fabs((double)r[i] - d->out[i]));
	free(r);
	return 0;
}

int golden_load(const golden_case *gc, case_data *d, attn_err *e)
{
	memset(d, 0, sizeof *d);
	npy_array a[4];
	const char *paths[4] = {gc->q, gc->k, gc->v, gc->out};
	int rc = 0, loaded = 0;
	for (; loaded < 4 && !rc; loaded++)
		rc = npy_read(paths[loaded], &a[loaded], e);
	if (rc) {
		for (int i = 0; i < loaded - 1; i++)
			npy_free(&a[i]);
		return rc;
	}
	d->q = npy_to_f32(&a[0]);
	d->k = npy_to_f32(&a[1]);
	d->v = npy_to_f32(&a[2]);
	d->out = npy_to_f64(&a[3]);
	for (int i = 0; i < 4; i++)
		npy_free(&a[i]);
	d->qs = d->q;
	d->ks = d->k;
	d->vs = d->v;
	if (!d->q || !d->k || !d->v || !d->out ||
	    (gc->shape.dtype != ATTN_F32 && (golden_round_inputs(&gc->shape, d) || golden_ref_err(&gc->shape, d)))) {
		golden_free(d);
		return attn_errf(e, "%s: out of memory loading the case", gc->q);
	}
	return 0;
}

/* ---- NaN and Inf in a case's files ------------------------------------ */

/* Append a line to a growing, NUL-terminated text (*buf may be NULL). */
static void append_line(char **buf, const char *line)
{
	const size_t have = *buf ? strlen(*buf) : 0, add = strlen(line);
	char *p = realloc(*buf, have + add + 2);
	if (!p)
		return; /* the warning is on stderr already; the JUnit copy is a convenience */
	memcpy(p + have, line, add);
	p[have + add] = '\n';
	p[have + add + 1] = 0;
	*buf = p;
}

/* Count the NaN and Inf of one array (float32 xf or float64 xd) and, if
 * there are any, print a warning naming the file, the counts and the first
 * position, and append it to *warn. */
static void warn_nonfinite(const char *path, const char *what, const float *xf, const double *xd, const int64_t dims[4],
                           const char *const labels[4], char **warn)
{
	const int64_t n = dims[0] * dims[1] * dims[2] * dims[3];
	int64_t nan = 0, inf = 0, first = -1;
	for (int64_t i = 0; i < n; i++) {
		const double x = xf ? (double)xf[i] : xd ? xd[i] : 0.0; /* one of them is given */
		if (isfinite(x))
			continue;
		if (first < 0)
			first = i;
		if (isnan(x))
			nan++;
		else
			inf++;
	}
	if (first < 0)
		return;
	char where[96], line[CASE_PATH_MAX + 256];
	describe_pos(dims, labels, first, where, sizeof where);
	snprintf(line, sizeof line,
	         "warning: %s: %lld NaN, %lld Inf in the %s (first at %s); comparing with NaN-aware rules", path,
	         (long long)nan, (long long)inf, what, where);
	fflush(stdout);
	fprintf(stderr, "attnbench check: %s\n", line);
	append_line(warn, line);
}

/* Scan q, k, v (as the backends receive them, float32) and out. */
void golden_scan(const golden_case *gc, const case_data *d, char **warn)
{
	int64_t qs[4], ks[4];
	case_shapes(&gc->shape, qs, ks);
	warn_nonfinite(gc->q, "input", d->q, NULL, qs, q_labels, warn);
	warn_nonfinite(gc->k, "input", d->k, NULL, ks, kv_labels, warn);
	warn_nonfinite(gc->v, "input", d->v, NULL, ks, kv_labels, warn);
	warn_nonfinite(gc->out, "reference", NULL, d->out, qs, q_labels, warn);
}

/* Position i of an output (q's layout) as "[b=..,h=..,i=..,d=..]". */
void golden_out_position(const attn_shape *s, int64_t i, char *buf, size_t len)
{
	const int64_t dims[4] = {s->batch, s->n_heads, s->n_q, s->head_dim};
	describe_pos(dims, q_labels, i, buf, len);
}
