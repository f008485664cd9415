/* presets.c - see presets.h. */
#include "model/presets.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/table.h"

/* The required columns, then the optional ones (absent: every value 0). */
enum {
	C_NAME,
	C_LAYERS,
	C_HEADS,
	C_KV_HEADS,
	C_HEAD_DIM,
	C_PARAMS,
	C_REQUIRED,
	C_SINKS = C_REQUIRED + 2,
	N_COLS = C_REQUIRED + 5
};
static const char *const cols[N_COLS] = {"name",     "layers",       "heads",           "kv_heads",
                                         "head_dim", "params",       "window",          "window_pattern",
                                         "sinks",    "kv_lora_rank", "qk_rope_head_dim"};

/* Column c of row r as an integer in lo..hi (an empty optional field is 0). */
static int field_i64(const table *t, int r, const int c[N_COLS], int col, int64_t lo, int64_t hi, const char *path,
                     int64_t *out, attn_err *e)
{
	*out = 0;
	if (c[col] < 0 || (col >= C_REQUIRED && !*t->rows[r][c[col]]))
		return 0;
	if (!parse_i64(t->rows[r][c[col]], out) || *out < lo || *out > hi)
		return attn_errf(e, "%s: line %d, column %s: '%s' is not an integer in %lld..%lld", path, r + 2,
		                 cols[col], t->rows[r][c[col]], (long long)lo, (long long)hi);
	return 0;
}

/* The row r of t into m. Returns 0 or EXIT_INPUT. */
static int read_row(const table *t, int r, const int c[N_COLS], const char *path, plan_model *m, attn_err *e)
{
	snprintf(m->name, sizeof m->name, "%s", t->rows[r][c[C_NAME]]);
	int64_t *const dst[N_COLS] = {
	    NULL,       &m->layers,         &m->heads, &m->kv_heads,     &m->head_dim,        NULL,
	    &m->window, &m->window_pattern, &m->sinks, &m->kv_lora_rank, &m->qk_rope_head_dim};
	for (int i = C_LAYERS; i < N_COLS; i++) {
		const int64_t lo = i < C_REQUIRED ? 1 : 0, hi = i == C_SINKS ? 1 : i < C_REQUIRED ? 100000 : 1000000;
		if (dst[i] && field_i64(t, r, c, i, lo, hi, path, dst[i], e))
			return EXIT_INPUT;
	}
	if (m->heads % m->kv_heads)
		return attn_errf(e, "%s: line %d: heads %lld is not a multiple of kv_heads %lld", path, r + 2,
		                 (long long)m->heads, (long long)m->kv_heads);
	if (m->window_pattern && !m->window)
		return attn_errf(e, "%s: line %d: window_pattern %lld without a window", path, r + 2,
		                 (long long)m->window_pattern);
	if (m->qk_rope_head_dim && !m->kv_lora_rank)
		return attn_errf(e, "%s: line %d: qk_rope_head_dim %lld without kv_lora_rank", path, r + 2,
		                 (long long)m->qk_rope_head_dim);
	m->params = 0;
	const char *p = t->rows[r][c[C_PARAMS]];
	if (*p && (!parse_f64(p, &m->params) || m->params < 0))
		return attn_errf(e, "%s: line %d, column params: '%s' is not a number", path, r + 2, p);
	return 0;
}

int presets_find(const char *path, const char *name, plan_model *m, attn_err *e)
{
	table t;
	attn_err te = {{0}};
	if (table_read(path, &t, &te))
		return attn_errf(e, "%s (the model presets; --models FILE names another)", te.msg);
	int c[N_COLS];
	for (int i = 0; i < N_COLS; i++) {
		c[i] = table_col(&t, cols[i]);
		if (i < C_REQUIRED && c[i] < 0) {
			table_free(&t);
			return attn_errf(e, "%s: line 1: no column %s", path, cols[i]);
		}
	}
	for (int r = 0; r < t.nrows; r++)
		if (!strcasecmp(t.rows[r][c[C_NAME]], name)) {
			memset(m, 0, sizeof *m);
			const int rc = read_row(&t, r, c, path, m, e);
			table_free(&t);
			return rc;
		}
	size_t len = (size_t)snprintf(e->msg, sizeof e->msg, "unknown model '%s'; %s knows:", name, path);
	for (int r = 0; r < t.nrows && len < sizeof e->msg; r++)
		len += (size_t)snprintf(e->msg + len, sizeof e->msg - len, "%s %s", r ? "," : "", t.rows[r][c[C_NAME]]);
	table_free(&t);
	return EXIT_INPUT;
}
