/* fuzz_results.c - libFuzzer target for the results.csv reader
 * (results_read, over the streaming CSV reader of table.c), and for
 * table_parse on the same bytes: both must agree on what is CSV. The
 * records it accepts hold the reader's rules. */
#include <stdint.h>

#include "fuzz_common.h"
#include "model/results.h"
#include "lib/table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	table t;
	attn_err e = {{0}};
	const int trc = table_parse("mem.csv", (const char *)data, size, &t, &e);
	if (trc == 0) {
		FUZZ_CHECK(t.ncols >= 1 && t.ncols <= TABLE_MAX_COLS && t.nrows <= TABLE_MAX_ROWS);
		for (int r = 0; r < t.nrows; r++)
			for (int c = 0; c < t.ncols; c++)
				FUZZ_CHECK(strlen(t.rows[r][c]) <= TABLE_MAX_FIELD);
		table_free(&t);
	} else {
		FUZZ_CHECK(trc == EXIT_INPUT);
		fuzz_check_msg(e.msg, "mem.csv");
	}

	char path[128];
	fuzz_path(path, sizeof path, "results.csv");
	fuzz_write(path, data, size);
	results_file rf;
	e.msg[0] = 0;
	const int rc = results_read(path, RESULTS_NEED_KEY, &rf, &e);
	if (rc) {
		FUZZ_CHECK(rc == EXIT_INPUT);
		fuzz_check_msg(e.msg, path);
		return 0;
	}
	FUZZ_CHECK(trc == 0); /* the file reader accepts nothing the memory reader refuses */
	for (int r = 0; r < rf.nrows; r++) {
		const results_rec *k = &rf.rows[r];
		FUZZ_CHECK(k->backend[0] && k->batch >= 1 && k->head_dim >= 1 && (k->causal == 0 || k->causal == 1));
		FUZZ_CHECK(k->status != RESULT_OK || !(k->time_ns <= 0));
		FUZZ_CHECK(k->nrep_times >= 0 && (k->nrep_times == 0) == (k->rep_times_ns == NULL));
		for (int i = 0; i < k->nrep_times; i++)
			FUZZ_CHECK(k->rep_times_ns[i] > 0);
		if (r > 0)
			FUZZ_CHECK(results_point_cmp(&rf.rows[r - 1], k) != 0);
	}
	results_file_free(&rf);
	return 0;
}
