/* manifest.c - see manifest.h. */
#include "model/manifest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_half.h"
#include "attn_quant.h"
#include "lib/table.h"

/* Shapes beyond these are refused as implausible before anything is
 * allocated: 2^26 tokens (the sweep's longest cache), 2^20 heads, head_dim
 * 2^16, batch 2^20; the byte count of every array must fit in 63 bits too. */
#define MAX_TOKENS   (INT64_C(1) << 26)
#define MAX_HEADS    (INT64_C(1) << 20)
#define MAX_HEAD_DIM (INT64_C(1) << 16)
#define MAX_BATCH    (INT64_C(1) << 20)

static const char *const required[] = {"name", "batch",  "n_heads", "n_kv_heads", "head_dim", "n_q",
                                       "n_kv", "causal", "q",       "k",          "v",        "out"};

/* The optional columns, in this order in opt_cols. */
enum {
	C_SCALE,
	C_ATOL,
	C_RTOL,
	C_DTYPE,
	C_WINDOW,
	C_SOFTCAP,
	C_ALIBI,
	C_SINKS,
	C_HEAD_DIM_V,
	C_KV_DTYPE,
	C_Q_LENS,
	C_KV_LENS,
	C_NOPT
};
static const char *const optional[C_NOPT] = {"scale", "atol",  "rtol",       "dtype",    "window", "softcap",
                                             "alibi", "sinks", "head_dim_v", "kv_dtype", "q_lens", "kv_lens"};

/* A file name from the manifest: relative, inside DIR, no "..". */
static int check_rel_path(const char *mpath, int row, const char *field, const char *val, attn_err *e)
{
	if (!*val)
		return attn_errf(e, "%s: row %d: field '%s' is empty", mpath, row, field);
	if (val[0] == '/')
		return attn_errf(
		    e, "%s: row %d: field '%s': '%s' is absolute (file names are relative to the dataset directory)",
		    mpath, row, field, val);
	for (const char *p = val; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return attn_errf(e, "%s: row %d: field '%s': '%s' leaves the dataset directory", mpath, row,
			                 field, val);
		p += n;
		if (*p == '/')
			p++;
	}
	for (const unsigned char *p = (const unsigned char *)val; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return attn_errf(e, "%s: row %d: field '%s': control character in file name", mpath, row,
			                 field);
	if (!utf8_valid(val, strlen(val)))
		return attn_errf(e, "%s: row %d: field '%s': file name is not valid UTF-8", mpath, row, field);
	return 0;
}

/* A file that exists must resolve inside the dataset directory (realdir,
 * its resolved path; NULL skips the check): a symbolic link may not lead
 * out. A missing file is left to the loader, which names it. */
static int check_inside(const char *mpath, int row, const char *field, const char *realdir, const char *path,
                        attn_err *e)
{
	if (!realdir)
		return 0;
	char *real = realpath(path, NULL);
	if (!real)
		return 0;
	const size_t n = strlen(realdir);
	const int inside = strncmp(real, realdir, n) == 0 && (real[n] == '/' || (n == 1 && realdir[0] == '/'));
	free(real);
	if (!inside)
		return attn_errf(e,
		                 "%s: row %d: field '%s': '%s' leaves the dataset directory (through a symbolic link)",
		                 mpath, row, field, path);
	return 0;
}

static int get_int(const char *mpath, int row, const char *field, const char *val, int64_t lo, int64_t hi, int64_t *out,
                   attn_err *e)
{
	if (!parse_i64(val, out))
		return attn_errf(e, "%s: row %d: field '%s': '%.40s' is not an integer", mpath, row, field, val);
	if (*out < lo || *out > hi)
		return attn_errf(e, "%s: row %d: field '%s': %lld is outside %lld..%lld", mpath, row, field,
		                 (long long)*out, (long long)lo, (long long)hi);
	return 0;
}

/* Optional non-negative float; empty keeps *out. */
static int get_opt_float(const char *mpath, int row, const char *field, const char *val, double *out, int positive,
                         attn_err *e)
{
	const char *p = val;
	while (*p == ' ')
		p++;
	if (!*p)
		return 0;
	double d;
	if (!parse_f64(val, &d))
		return attn_errf(e, "%s: row %d: field '%s': '%.40s' is not a number", mpath, row, field, val);
	if (positive ? !(d > 0) : !(d >= 0))
		return attn_errf(e, "%s: row %d: field '%s': %g must be %s", mpath, row, field, d,
		                 positive ? "positive" : "non-negative");
	*out = d;
	return 0;
}

static int build_path(const char *mpath, int row, const char *field, const char *dir, const char *realdir,
                      const char *val, char *out, attn_err *e)
{
	if (check_rel_path(mpath, row, field, val, e))
		return EXIT_INPUT;
	if ((size_t)snprintf(out, CASE_PATH_MAX, "%s/%s", dir, val) >= CASE_PATH_MAX)
		return attn_errf(e, "%s: row %d: field '%s': path too long", mpath, row, field);
	return check_inside(mpath, row, field, realdir, out, e);
}

static int build_opt_path(const char *mpath, int row, const char *field, const char *dir, const char *realdir,
                          const char *val, char *out, attn_err *e)
{
	out[0] = 0;
	const char *p = val;
	while (*p == ' ')
		p++;
	return *p ? build_path(mpath, row, field, dir, realdir, val, out, e) : 0;
}

/* An optional field: "" when its column is absent. */
static const char *opt_field(char *const *f, const int *opt, int which)
{
	return opt[which] >= 0 ? f[opt[which]] : "";
}

/* The ABI 3 columns of a case: variants, head_dim_v, kv_dtype, ragged
 * lengths; the shape's required fields are read and checked already. */
static int read_variants(const char *mpath, const char *dir, const char *realdir, char *const *f, const int *opt,
                         int row, golden_case *gc, attn_err *e)
{
	attn_shape *s = &gc->shape;
	const char *w = opt_field(f, opt, C_WINDOW), *dv = opt_field(f, opt, C_HEAD_DIM_V),
	           *kd = opt_field(f, opt, C_KV_DTYPE);
	if (*w && get_int(mpath, row, "window", w, 1, MAX_TOKENS, &s->window, e))
		return EXIT_INPUT;
	double cap = 0;
	if (get_opt_float(mpath, row, "softcap", opt_field(f, opt, C_SOFTCAP), &cap, 1, e))
		return EXIT_INPUT;
	if (!(cap < 3.4e38))
		return attn_errf(e, "%s: row %d: field 'softcap': %g is not a finite float", mpath, row, cap);
	s->softcap = (float)cap;
	int64_t hv = s->head_dim;
	if (*dv && get_int(mpath, row, "head_dim_v", dv, 1, MAX_HEAD_DIM, &hv, e))
		return EXIT_INPUT;
	s->head_dim_v = hv != s->head_dim ? hv : 0;
	attn_dtype kt = s->dtype;
	if (*kd && !attn_kv_dtype_parse(kd, &kt))
		return attn_errf(e,
		                 "%s: row %d: field 'kv_dtype': '%.20s' is not f32, f16, bf16, q8_0, q4_0 or fp8_e4m3",
		                 mpath, row, kd);
	s->kv_storage = kt != s->dtype ? ATTN_KV(kt) : 0;
	if (attn_dtype_blocked(kt) && (s->head_dim % ATTN_QBLOCK || hv % ATTN_QBLOCK))
		return attn_errf(e,
		                 "%s: row %d: field 'kv_dtype': %s needs head_dim and head_dim_v multiples of %d "
		                 "(head_dim %lld, head_dim_v %lld)",
		                 mpath, row, kd, ATTN_QBLOCK, (long long)s->head_dim, (long long)hv);
	int64_t elems;
	const int64_t of[] = {s->batch, s->n_heads, s->n_q, hv, 8};
	const int64_t vf[] = {s->batch, s->n_kv_heads, s->n_kv, hv, 8};
	if (!mul_n_ok(&elems, 5, of) || !mul_n_ok(&elems, 5, vf))
		return attn_errf(e, "%s: row %d: field 'head_dim_v': byte count overflows", mpath, row);
	if (build_opt_path(mpath, row, "alibi", dir, realdir, opt_field(f, opt, C_ALIBI), gc->alibi, e) ||
	    build_opt_path(mpath, row, "sinks", dir, realdir, opt_field(f, opt, C_SINKS), gc->sinks, e) ||
	    build_opt_path(mpath, row, "q_lens", dir, realdir, opt_field(f, opt, C_Q_LENS), gc->q_lens, e) ||
	    build_opt_path(mpath, row, "kv_lens", dir, realdir, opt_field(f, opt, C_KV_LENS), gc->kv_lens, e))
		return EXIT_INPUT;
	return 0;
}

static int read_case(const char *mpath, const char *dir, const char *realdir, const table *t, int r, const int *col,
                     const int *opt, golden_case *gc, attn_err *e)
{
	char *const *f = t->rows[r];
	const int c_scale = opt[C_SCALE], c_atol = opt[C_ATOL], c_rtol = opt[C_RTOL], c_dtype = opt[C_DTYPE];
	const int row = r + 2;
	attn_shape *s = &gc->shape;
	memset(gc, 0, sizeof *gc);
	gc->row = row;

	const char *name = f[col[0]];
	if (!*name)
		return attn_errf(e, "%s: row %d: field 'name' is empty", mpath, row);
	if (strlen(name) >= CASE_NAME_MAX)
		return attn_errf(e, "%s: row %d: field 'name' is longer than %d bytes", mpath, row, CASE_NAME_MAX - 1);
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return attn_errf(e, "%s: row %d: field 'name' contains a control character", mpath, row);
	if (!utf8_valid(name, strlen(name)))
		return attn_errf(e, "%s: row %d: field 'name' is not valid UTF-8", mpath, row);
	strcpy(gc->name, name);

	int64_t causal;
	if (get_int(mpath, row, "batch", f[col[1]], 1, MAX_BATCH, &s->batch, e) ||
	    get_int(mpath, row, "n_heads", f[col[2]], 1, MAX_HEADS, &s->n_heads, e) ||
	    get_int(mpath, row, "n_kv_heads", f[col[3]], 1, MAX_HEADS, &s->n_kv_heads, e) ||
	    get_int(mpath, row, "head_dim", f[col[4]], 1, MAX_HEAD_DIM, &s->head_dim, e) ||
	    get_int(mpath, row, "n_q", f[col[5]], 1, MAX_TOKENS, &s->n_q, e) ||
	    get_int(mpath, row, "n_kv", f[col[6]], 1, MAX_TOKENS, &s->n_kv, e) ||
	    get_int(mpath, row, "causal", f[col[7]], 0, 1, &causal, e))
		return EXIT_INPUT;
	s->causal = (int)causal;
	if (s->n_heads % s->n_kv_heads != 0)
		return attn_errf(e, "%s: row %d: field 'n_kv_heads': n_heads %lld is not a multiple of n_kv_heads %lld",
		                 mpath, row, (long long)s->n_heads, (long long)s->n_kv_heads);
	if (s->causal && s->n_q > s->n_kv)
		return attn_errf(e, "%s: row %d: field 'n_q': causal needs n_q <= n_kv (n_q %lld, n_kv %lld)", mpath,
		                 row, (long long)s->n_q, (long long)s->n_kv);
	int64_t elems;
	const int64_t qf[] = {s->batch, s->n_heads, s->n_q, s->head_dim, 8};
	const int64_t kf[] = {s->batch, s->n_kv_heads, s->n_kv, s->head_dim, 8};
	if (!mul_n_ok(&elems, 5, qf) || !mul_n_ok(&elems, 5, kf))
		return attn_errf(e, "%s: row %d: shape: byte count overflows", mpath, row);

	double scale = 1.0 / sqrt((double)s->head_dim);
	if (c_scale >= 0 && get_opt_float(mpath, row, "scale", f[c_scale], &scale, 1, e))
		return EXIT_INPUT;
	if (!(scale < 3.4e38))
		return attn_errf(e, "%s: row %d: field 'scale': out of float range", mpath, row);
	s->scale = (float)scale;
	s->dtype = ATTN_F32;
	if (c_dtype >= 0 && f[c_dtype][0] && !attn_dtype_parse(f[c_dtype], &s->dtype))
		return attn_errf(e, "%s: row %d: field 'dtype': '%.20s' is not f32, f16 or bf16", mpath, row,
		                 f[c_dtype]);
	gc->atol = s->dtype == ATTN_F32 ? ATTN_F32_ATOL : ATTN_HALF_FLOOR_ATOL;
	gc->rtol = s->dtype == ATTN_F32 ? ATTN_F32_RTOL : ATTN_HALF_FLOOR_RTOL;
	if ((c_atol >= 0 && get_opt_float(mpath, row, "atol", f[c_atol], &gc->atol, 0, e)) ||
	    (c_rtol >= 0 && get_opt_float(mpath, row, "rtol", f[c_rtol], &gc->rtol, 0, e)))
		return EXIT_INPUT;

	if (build_path(mpath, row, "q", dir, realdir, f[col[8]], gc->q, e) ||
	    build_path(mpath, row, "k", dir, realdir, f[col[9]], gc->k, e) ||
	    build_path(mpath, row, "v", dir, realdir, f[col[10]], gc->v, e) ||
	    build_path(mpath, row, "out", dir, realdir, f[col[11]], gc->out, e))
		return EXIT_INPUT;
	return read_variants(mpath, dir, realdir, f, opt, row, gc, e);
}

static int cmp_case_name(const void *a, const void *b)
{
	const golden_case *x = *(const golden_case *const *)a, *y = *(const golden_case *const *)b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x->row > y->row) - (x->row < y->row);
}

/* Case names must be unique: sort pointers by name, compare neighbours. */
static int check_unique(const char *mpath, golden_case *gc, int n, attn_err *e)
{
	golden_case **idx = malloc((size_t)n * sizeof *idx);
	if (!idx)
		return attn_errf(e, "%s: out of memory", mpath);
	for (int i = 0; i < n; i++)
		idx[i] = &gc[i];
	qsort(idx, (size_t)n, sizeof *idx, cmp_case_name);
	int rc = 0;
	for (int i = 1; i < n && !rc; i++)
		if (strcmp(idx[i - 1]->name, idx[i]->name) == 0)
			rc = attn_errf(e, "%s: row %d: field 'name': '%s' is not unique (also row %d)", mpath,
			               idx[i]->row, idx[i]->name, idx[i - 1]->row);
	free(idx);
	return rc;
}

int manifest_read(const char *dir, golden_case **cases, int *n, attn_err *e)
{
	char mpath[CASE_PATH_MAX];
	*cases = NULL;
	*n = 0;
	if ((size_t)snprintf(mpath, sizeof mpath, "%s/manifest.csv", dir) >= sizeof mpath)
		return attn_errf(e, "%s: directory path too long", dir);
	table t;
	if (table_read_max(mpath, MANIFEST_MAX_CASES, &t, e))
		return EXIT_INPUT;
	int col[12];
	for (int i = 0; i < 12; i++) {
		col[i] = table_col(&t, required[i]);
		if (col[i] < 0) {
			table_free(&t);
			return attn_errf(e, "%s: header: required column '%s' is missing", mpath, required[i]);
		}
	}
	for (int i = 0; i < t.ncols; i++)
		for (int j = i + 1; j < t.ncols; j++)
			if (strcmp(t.header[i], t.header[j]) == 0) {
				attn_errf(e, "%s: header: column '%s' appears twice", mpath, t.header[i]);
				table_free(&t);
				return EXIT_INPUT;
			}
	if (t.nrows == 0) {
		table_free(&t);
		return attn_errf(e, "%s: no cases (only a header row)", mpath);
	}
	golden_case *gc = calloc((size_t)t.nrows, sizeof *gc);
	if (!gc) {
		table_free(&t);
		return attn_errf(e, "%s: out of memory", mpath);
	}
	int opt[C_NOPT];
	for (int i = 0; i < C_NOPT; i++)
		opt[i] = table_col(&t, optional[i]);
	char *realdir = realpath(dir, NULL);
	for (int r = 0; r < t.nrows; r++)
		if (read_case(mpath, dir, realdir, &t, r, col, opt, &gc[r], e))
			goto fail;
	if (check_unique(mpath, gc, t.nrows, e))
		goto fail;
	free(realdir);
	*cases = gc;
	*n = t.nrows;
	table_free(&t);
	return 0;
fail:
	free(realdir);
	free(gc);
	table_free(&t);
	return EXIT_INPUT;
}
