/* presets.c - see presets.h. */
#include "model/presets.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/table.h"

static int field_i64(const table *t, int r, int col, const char *path, const char *name, int64_t *out, attn_err *e)
{
	if (!parse_i64(t->rows[r][col], out) || *out < 1 || *out > 100000)
		return attn_errf(e, "%s: line %d, column %s: '%s' is not an integer in 1..100000", path, r + 2, name,
		                 t->rows[r][col]);
	return 0;
}

/* The row r of t into m. Returns 0 or EXIT_INPUT. */
static int read_row(const table *t, int r, const int c[6], const char *path, plan_model *m, attn_err *e)
{
	snprintf(m->name, sizeof m->name, "%s", t->rows[r][c[0]]);
	if (field_i64(t, r, c[1], path, "layers", &m->layers, e) ||
	    field_i64(t, r, c[2], path, "heads", &m->heads, e) ||
	    field_i64(t, r, c[3], path, "kv_heads", &m->kv_heads, e) ||
	    field_i64(t, r, c[4], path, "head_dim", &m->head_dim, e))
		return EXIT_INPUT;
	if (m->heads % m->kv_heads)
		return attn_errf(e, "%s: line %d: heads %lld is not a multiple of kv_heads %lld", path, r + 2,
		                 (long long)m->heads, (long long)m->kv_heads);
	m->params = 0;
	if (*t->rows[r][c[5]] && (!parse_f64(t->rows[r][c[5]], &m->params) || m->params < 0))
		return attn_errf(e, "%s: line %d, column params: '%s' is not a number", path, r + 2, t->rows[r][c[5]]);
	return 0;
}

int presets_find(const char *path, const char *name, plan_model *m, attn_err *e)
{
	table t;
	attn_err te = {{0}};
	if (table_read(path, &t, &te))
		return attn_errf(e, "%s (the model presets; --models FILE names another)", te.msg);
	static const char *const cols[] = {"name", "layers", "heads", "kv_heads", "head_dim", "params"};
	int c[6];
	for (int i = 0; i < 6; i++)
		if ((c[i] = table_col(&t, cols[i])) < 0) {
			table_free(&t);
			return attn_errf(e, "%s: line 1: no column %s", path, cols[i]);
		}
	for (int r = 0; r < t.nrows; r++)
		if (!strcasecmp(t.rows[r][c[0]], name)) {
			const int rc = read_row(&t, r, c, path, m, e);
			table_free(&t);
			return rc;
		}
	size_t len = (size_t)snprintf(e->msg, sizeof e->msg, "unknown model '%s'; %s knows:", name, path);
	for (int r = 0; r < t.nrows && len < sizeof e->msg; r++)
		len += (size_t)snprintf(e->msg + len, sizeof e->msg - len, "%s %s", r ? "," : "", t.rows[r][c[0]]);
	table_free(&t);
	return EXIT_INPUT;
}
