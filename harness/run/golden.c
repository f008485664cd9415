/* golden.c - see golden.h. */
#include "run/golden.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_half.h"
#include "attn_quant.h"
#include "lib/npy.h"
#include "run/reference.h"

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

int golden_low_precision(const attn_shape *s)
{
	return s->dtype != ATTN_F32 || attn_kv_dtype(s) != ATTN_F32;
}

int64_t golden_q_elems(const attn_shape *s)
{
	return s->batch * s->n_heads * s->n_q * s->head_dim;
}

int64_t golden_out_elems(const attn_shape *s)
{
	return s->batch * s->n_heads * s->n_q * attn_head_dim_v(s);
}

/* A shape as text: "(2, 3)", "(5,)". */
static void shape_text(const int64_t *dims, int ndim, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "(");
	for (int i = 0; i < ndim && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%lld", i ? ", " : "", (long long)dims[i]);
	if (n < len)
		snprintf(buf + n, len - n, "%s)", ndim == 1 ? "," : "");
}

/* Check that an array file has the shape the manifest promises (ndim
 * dimensions in want). */
static int check_shape(const char *path, const char *field, const npy_array *a, const int64_t *want, int ndim,
                       attn_err *e)
{
	int ok = a->ndim == ndim;
	for (int i = 0; ok && i < ndim; i++)
		ok = a->shape[i] == want[i];
	if (ok)
		return 0;
	char got[200], exp[200];
	shape_text(a->shape, a->ndim, got, sizeof got);
	shape_text(want, ndim, exp, sizeof exp);
	return attn_errf(e, "%s: header field 'shape': %s is %s, the manifest says %s", path, field, got, exp);
}

static void case_shapes(const attn_shape *s, int64_t qs[4], int64_t ks[4], int64_t vs[4], int64_t os[4])
{
	const int64_t q[4] = {s->batch, s->n_heads, s->n_q, s->head_dim},
	              k[4] = {s->batch, s->n_kv_heads, s->n_kv, s->head_dim};
	for (int i = 0; i < 4; i++) {
		qs[i] = os[i] = q[i];
		ks[i] = vs[i] = k[i];
	}
	vs[3] = os[3] = attn_head_dim_v(s);
}

/* " (case 'x': manifest.csv row N, field 'f')" after the message in e. */
static int where_case(const golden_case *gc, const char *field, attn_err *e)
{
	char where[200];
	snprintf(where, sizeof where, " (case '%s': manifest.csv row %d, field '%s')", gc->name, gc->row, field);
	strncat(e->msg, where, sizeof e->msg - strlen(e->msg) - 1);
	return EXIT_INPUT;
}

/* One optional array of a case (field f: 0 alibi, 1 sinks, 2 q_lens,
 * 3 kv_lens), read and checked value by value: alibi and sinks (n_heads,)
 * finite floats into *fl, the lengths (batch,) integers within 0..n_q or
 * 0..n_kv into *in (each malloc'ed). */
static int load_extra(const golden_case *gc, int f, const char *path, float **fl, int64_t **in, attn_err *e)
{
	static const char *const fields[4] = {"alibi", "sinks", "q_lens", "kv_lens"};
	const attn_shape *s = &gc->shape;
	const int ints = f >= 2;
	const int64_t want = ints ? s->batch : s->n_heads, hi = f == 2 ? s->n_q : s->n_kv;
	npy_array a;
	int rc = npy_read(path, &a, e);
	if (rc)
		return where_case(gc, fields[f], e);
	if (a.is_int != ints || (!ints && a.itemsize == 2))
		rc = attn_errf(e, "%s: header field 'descr': %s needs %s", path, fields[f],
		               ints ? "integers (<i4 or <i8)" : "floats (<f4 or <f8)");
	if (!rc)
		rc = check_shape(path, fields[f], &a, &want, 1, e);
	for (int64_t i = 0; !rc && i < a.count; i++) {
		if (!ints && !isfinite(npy_get(&a, i)))
			rc = attn_errf(e, "%s: data: %s[%lld] is not a finite number", path, fields[f], (long long)i);
		const int64_t x = ints ? npy_get_int(&a, i) : 0;
		if (ints && (x < 0 || x > hi))
			rc = attn_errf(e, "%s: data: %s[%lld] = %lld is outside 0..%lld (%s)", path, fields[f],
			               (long long)i, (long long)x, (long long)hi, f == 2 ? "n_q" : "n_kv");
	}
	if (!rc && !ints && !(*fl = npy_to_f32(&a)))
		rc = attn_errf(e, "%s: out of memory", path);
	if (!rc && ints) {
		if (!(*in = malloc((size_t)want * sizeof(int64_t))))
			rc = attn_errf(e, "%s: out of memory", path);
		for (int64_t i = 0; !rc && i < want; i++)
			(*in)[i] = npy_get_int(&a, i);
	}
	npy_free(&a);
	return rc ? where_case(gc, fields[f], e) : 0;
}

/* The optional arrays of a case (load_extra), into d (the one of q_lens and
 * kv_lens that the manifest leaves out filled with the full lengths), and
 * q_lens[b] <= kv_lens[b] under causal. */
static int load_extras(const golden_case *gc, case_data *d, attn_err *e)
{
	const attn_shape *s = &gc->shape;
	const char *paths[4] = {gc->alibi, gc->sinks, gc->q_lens, gc->kv_lens};
	float **fl[2] = {&d->alibi, &d->sinks};
	int64_t **in[2] = {&d->q_lens, &d->kv_lens};
	for (int f = 0; f < 4; f++)
		if (paths[f][0] && load_extra(gc, f, paths[f], f < 2 ? fl[f] : NULL, f < 2 ? NULL : in[f - 2], e))
			return EXIT_INPUT;
	if (!d->q_lens && !d->kv_lens)
		return 0;
	for (int l = 0; l < 2; l++) {
		if (*in[l])
			continue;
		if (!(*in[l] = malloc((size_t)s->batch * sizeof(int64_t))))
			return attn_errf(e, "%s: out of memory", gc->q);
		for (int64_t b = 0; b < s->batch; b++)
			(*in[l])[b] = l ? s->n_kv : s->n_q;
	}
	for (int64_t b = 0; s->causal && b < s->batch; b++)
		if (d->q_lens[b] > d->kv_lens[b]) {
			attn_errf(e,
			          "%s: data: q_lens[%lld] = %lld is more than kv_lens[%lld] = %lld (causal needs "
			          "q_lens <= kv_lens)",
			          paths[2][0] ? paths[2] : paths[3], (long long)b, (long long)d->q_lens[b],
			          (long long)b, (long long)d->kv_lens[b]);
			return where_case(gc, paths[2][0] ? "q_lens" : "kv_lens", e);
		}
	return 0;
}

/* Validate every file of a case (headers and sizes) without reading data. */
int golden_probe(const golden_case *gc, attn_err *e)
{
	int64_t qs[4], ks[4], vs[4], os[4];
	case_shapes(&gc->shape, qs, ks, vs, os);
	const char *paths[4] = {gc->q, gc->k, gc->v, gc->out};
	const char *fields[4] = {"q", "k", "v", "out"};
	const int64_t *shapes[4] = {qs, ks, vs, os};
	for (int i = 0; i < 4; i++) {
		npy_array a;
		int rc = npy_probe(paths[i], &a, e);
		if (!rc && a.is_int)
			rc = attn_errf(e, "%s: header field 'descr': %s needs floats (<f4, <f8)", paths[i], fields[i]);
		/* inputs may be <f2 (exact in f16); the reference is <f4 or <f8 */
		if (!rc && a.itemsize == 2 && i == 3)
			rc = attn_errf(e,
			               "%s: header field 'descr': dtype '<f2' is not a reference dtype (<f4, <f8 are)",
			               paths[i]);
		if (rc || check_shape(paths[i], fields[i], &a, shapes[i], 4, e))
			return where_case(gc, fields[i], e);
	}
	case_data d;
	memset(&d, 0, sizeof d);
	const int rc = load_extras(gc, &d, e);
	golden_free(&d);
	return rc;
}

void golden_free(case_data *d)
{
	free(d->q);
	free(d->k);
	free(d->v);
	free(d->out);
	for (int i = 0; i < 3; i++)
		free(d->half[i]);
	free(d->alibi);
	free(d->sinks);
	free(d->q_lens);
	free(d->kv_lens);
	memset(d, 0, sizeof *d);
}

/* One row of n elements of storage type t that reads as NaN: every float
 * NaN, every block's scale NaN. */
void golden_nan_row(void *dst, int64_t n, attn_dtype t)
{
	if (attn_dtype_blocked(t)) {
		const size_t bs = attn_row_bytes(t, ATTN_QBLOCK);
		const uint16_t d = 0x7E00; /* f16 NaN; the scale comes first in both block layouts */
		for (int64_t i = 0; i < n / ATTN_QBLOCK; i++)
			memcpy((char *)dst + (size_t)i * bs, &d, sizeof d);
	} else if (t == ATTN_FP8_E4M3) {
		memset(dst, 0x7F, (size_t)n);
	} else {
		const float nan = NAN;
		for (int64_t i = 0; i < n; i++)
			attn_store_n((char *)dst + (size_t)i * attn_dtype_size(t), &nan, 1, t);
	}
}

/* Store the rows of a [outer][rows][n] f32 array x as t into dst and widen
 * them back into x; with lens, rows r >= lens[o / per] are NaN in dst. */
static void store_rows(void *dst, float *x, int64_t outer, int64_t rows, int64_t n, attn_dtype t, const int64_t *lens,
                       int64_t per)
{
	const size_t rb = attn_row_bytes(t, n);
	for (int64_t o = 0; o < outer; o++)
		for (int64_t r = 0; r < rows; r++) {
			char *row = (char *)dst + (size_t)(o * rows + r) * rb;
			float *xr = x + (o * rows + r) * n;
			if (lens && r >= lens[o / per]) {
				golden_nan_row(row, n, t);
				continue;
			}
			attn_quantize_row(row, xr, n, t);
			attn_dequantize_row(xr, row, n, t);
		}
}

int golden_round_inputs(case_data *d)
{
	const attn_shape *s = &d->shape;
	const attn_dtype kt = attn_kv_dtype(s);
	const int64_t D = s->head_dim, DV = attn_head_dim_v(s), B = s->batch;
	d->qb = attn_row_bytes(s->dtype, D) * (size_t)(B * s->n_heads * s->n_q);
	d->kb = attn_row_bytes(kt, D) * (size_t)(B * s->n_kv_heads * s->n_kv);
	d->vb = attn_row_bytes(kt, DV) * (size_t)(B * s->n_kv_heads * s->n_kv);
	const size_t len[3] = {d->qb, d->kb, d->vb};
	for (int i = 0; i < 3; i++)
		if (!(d->half[i] = xalloc(len[i] ? len[i] : 1)))
			return -1;
	store_rows(d->half[0], d->q, B * s->n_heads, s->n_q, D, s->dtype, s->q_lens, s->n_heads);
	store_rows(d->half[1], d->k, B * s->n_kv_heads, s->n_kv, D, kt, s->kv_lens, s->n_kv_heads);
	store_rows(d->half[2], d->v, B * s->n_kv_heads, s->n_kv, DV, kt, s->kv_lens, s->n_kv_heads);
	d->qs = d->half[0];
	d->ks = d->half[1];
	d->vs = d->half[2];
	return 0;
}

int golden_ref_err(case_data *d)
{
	const attn_shape *s = &d->shape;
	const size_t n = (size_t)golden_out_elems(s);
	float *r = xalloc((n ? n : 1) * sizeof(float));
	if (!r || attn_reference(s, d->q, d->k, d->v, NULL, r)) {
		free(r);
		return -1;
	}
	d->ref_err = 0;
	for (size_t i = 0; i < n; i++)
		if (isfinite(r[i]) && isfinite(d->out[i]))
			d->ref_err = fmax(d->ref_err, fabs((double)r[i] - d->out[i]));
	free(r);
	return 0;
}

/* Zero the reference's rows past q_lens[b]: they are not compared. */
static void zero_padding_rows(const attn_shape *s, double *out)
{
	const int64_t DV = attn_head_dim_v(s);
	for (int64_t b = 0; s->q_lens && b < s->batch; b++)
		for (int64_t h = 0; h < s->n_heads; h++)
			for (int64_t i = s->q_lens[b]; i < s->n_q; i++)
				memset(out + ((b * s->n_heads + h) * s->n_q + i) * DV, 0, (size_t)DV * sizeof(double));
}

int golden_finish(case_data *d)
{
	const attn_shape *s = &d->shape;
	d->qs = d->q;
	d->ks = d->k;
	d->vs = d->v;
	d->qb = (size_t)golden_q_elems(s) * sizeof(float);
	d->kb = (size_t)(s->batch * s->n_kv_heads * s->n_kv * s->head_dim) * sizeof(float);
	d->vb = (size_t)(s->batch * s->n_kv_heads * s->n_kv * attn_head_dim_v(s)) * sizeof(float);
	zero_padding_rows(s, d->out);
	const int lowp = golden_low_precision(s);
	if ((lowp || s->q_lens) && golden_round_inputs(d))
		return -1;
	return 0;
}

int golden_load(const golden_case *gc, case_data *d, attn_err *e)
{
	memset(d, 0, sizeof *d);
	d->shape = gc->shape;
	if (load_extras(gc, d, e)) {
		golden_free(d);
		return EXIT_INPUT;
	}
	golden_attach(d);
	npy_array a[4];
	const char *paths[4] = {gc->q, gc->k, gc->v, gc->out};
	int rc = 0, loaded = 0;
	for (; loaded < 4 && !rc; loaded++)
		rc = npy_read(paths[loaded], &a[loaded], e);
	if (rc) {
		for (int i = 0; i < loaded - 1; i++)
			npy_free(&a[i]);
		golden_free(d);
		return rc;
	}
	d->q = npy_to_f32(&a[0]);
	d->k = npy_to_f32(&a[1]);
	d->v = npy_to_f32(&a[2]);
	d->out = npy_to_f64(&a[3]);
	for (int i = 0; i < 4; i++)
		npy_free(&a[i]);
	if (!d->q || !d->k || !d->v || !d->out || golden_finish(d) ||
	    (golden_low_precision(&d->shape) && golden_ref_err(d))) {
		golden_free(d);
		return attn_errf(e, "%s: out of memory loading the case", gc->q);
	}
	return 0;
}

void golden_attach(case_data *d)
{
	d->shape.alibi = d->alibi;
	d->shape.sinks = d->sinks;
	d->shape.q_lens = d->q_lens;
	d->shape.kv_lens = d->kv_lens;
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
	int64_t qs[4], ks[4], vs[4], os[4];
	case_shapes(&gc->shape, qs, ks, vs, os);
	warn_nonfinite(gc->q, "input", d->q, NULL, qs, q_labels, warn);
	warn_nonfinite(gc->k, "input", d->k, NULL, ks, kv_labels, warn);
	warn_nonfinite(gc->v, "input", d->v, NULL, vs, kv_labels, warn);
	warn_nonfinite(gc->out, "reference", NULL, d->out, os, q_labels, warn);
}

/* Position i of an output (q's layout) as "[b=..,h=..,i=..,d=..]". */
void golden_out_position(const attn_shape *s, int64_t i, char *buf, size_t len)
{
	const int64_t dims[4] = {s->batch, s->n_heads, s->n_q, attn_head_dim_v(s)};
	describe_pos(dims, q_labels, i, buf, len);
}
