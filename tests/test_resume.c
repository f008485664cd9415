/* test_resume.c - sweeps that are killed or interrupted lose nothing:
 * results.csv holds whole rows at every instant, SIGINT/SIGTERM exit
 * 130/143 with the command that resumes, and --resume completes a run to
 * the same points as an uninterrupted one. The moments to kill at are
 * taken from the sweep's own progress lines, read through a pipe. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model/results.h"
#include "model/sweep_config.h"
#include "run/sweep.h"
#include "testutil.h"

/* A small grid: 5 points x 2 backends, each pair a few tens of ms. */
#define GRID                                                                                                           \
	"--backend", "naive,blocked", "--seq", "16,32,64", "--cache", "64,128", "--heads", "2", "--head-dim", "16",    \
	    "--phases", "prefill,decode", "--repetitions", "2", "--min-time", "0.02"
#define GRID_PAIRS 10

/* Start `attnbench sweep GRID --out dir [--resume]`; its stderr comes back
 * through *err_fd. Returns the child's pid. */
static pid_t start_sweep(const char *dir, int resume, int *err_fd)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	const pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0)
			dup2(devnull, 1);
		const char *bin = tu_bin();
		if (resume)
			execl(bin, bin, "sweep", GRID, "--out", dir, "--resume", (char *)NULL);
		else
			execl(bin, bin, "sweep", GRID, "--out", dir, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	*err_fd = fds[0];
	return pid;
}

/* Read stderr lines until one starts with prefix (returns 1) or EOF (0). */
static int wait_for_line(int fd, const char *prefix, char *log, size_t loglen)
{
	char line[1024];
	size_t n = 0;
	for (;;) {
		char ch;
		const ssize_t got = read(fd, &ch, 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return 0;
		if (n + 1 < sizeof line)
			line[n++] = ch;
		if (ch != '\n')
			continue;
		line[n] = 0;
		strncat(log, line, loglen - strlen(log) - 1);
		if (!strncmp(line, prefix, strlen(prefix)))
			return 1;
		n = 0;
	}
}

/* Drain the rest of fd into log and reap pid; returns the exit status, or
 * 128 + signal. */
static int finish(pid_t pid, int fd, char *log, size_t loglen)
{
	char buf[512];
	ssize_t got;
	while ((got = read(fd, buf, sizeof buf - 1)) != 0) {
		if (got < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		buf[got] = 0;
		strncat(log, buf, loglen - strlen(log) - 1);
	}
	close(fd);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* results.csv of dir parses, ends with a newline (no partial row), and has
 * nrows rows; returns nrows. */
static int check_whole(const char *dir)
{
	char p[600];
	snprintf(p, sizeof p, "%s/results.csv", dir);
	size_t len;
	char *text = tu_read(p, &len);
	assert_non_null(text);
	assert_true(len > 0);
	if (text[len - 1] != '\n')
		fail_msg("%s does not end with a newline: a partial row", p);
	free(text);
	results_file rf;
	attn_err e = {{0}};
	if (results_read(p, RESULTS_NEED_CONTRACT, &rf, &e))
		fail_msg("%s does not parse: %s", p, e.msg);
	assert_true(rf.same_columns);
	const int n = rf.nrows;
	results_file_free(&rf);
	return n;
}

/* The set of (backend, point) keys of dir's ok rows, as sorted lines. */
static char *key_set(const char *dir, int *nok)
{
	char p[600];
	snprintf(p, sizeof p, "%s/results.csv", dir);
	results_file rf;
	attn_err e = {{0}};
	if (results_read(p, RESULTS_NEED_CONTRACT, &rf, &e))
		fail_msg("%s: %s", p, e.msg);
	char **lines = calloc((size_t)rf.nrows + 1, sizeof *lines);
	assert_non_null(lines);
	*nok = 0;
	for (int r = 0; r < rf.nrows; r++) {
		const results_rec *k = &rf.rows[r];
		assert_true(k->status == RESULT_OK);
		lines[r] = malloc(256);
		snprintf(lines[r], 256, "%s %s %s b%lld h%lld kv%lld d%lld s%lld c%lld causal%lld\n", k->backend,
		         phase_name(k->phase), dtype_name(k->dtype), (long long)k->batch, (long long)k->n_heads,
		         (long long)k->n_kv_heads, (long long)k->head_dim, (long long)k->seq_len,
		         (long long)k->cache_len, (long long)k->causal);
		(*nok)++;
	}
	/* insertion sort: a handful of lines */
	for (int i = 1; i < rf.nrows; i++)
		for (int j = i; j > 0 && strcmp(lines[j - 1], lines[j]) > 0; j--) {
			char *t = lines[j];
			lines[j] = lines[j - 1];
			lines[j - 1] = t;
		}
	char *all = calloc((size_t)rf.nrows * 256 + 1, 1);
	for (int r = 0; r < rf.nrows; r++) {
		strcat(all, lines[r]);
		free(lines[r]);
	}
	free(lines);
	results_file_free(&rf);
	return all;
}

static int exists(const char *dir, const char *name)
{
	char p[600];
	struct stat st;
	snprintf(p, sizeof p, "%s/%s", dir, name);
	return stat(p, &st) == 0;
}

/* Run a sweep to its end; it must exit 0. Its stderr is left in log. */
static void sweep_to_end(const char *dir, int resume, char *log, size_t loglen, const char *what)
{
	int fd;
	log[0] = 0;
	const pid_t pid = start_sweep(dir, resume, &fd);
	const int rc = finish(pid, fd, log, loglen);
	if (rc != 0)
		fail_msg("%s: exit %d\n%s", what, rc, log);
}

static void test_kill_and_resume(void **state)
{
	(void)state;
	char *tmp = tu_tmpdir(), full[512], killed[512];
	static char log[65536];
	snprintf(full, sizeof full, "%s/full", tmp);
	snprintf(killed, sizeof killed, "%s/killed", tmp);

	/* the uninterrupted run */
	sweep_to_end(full, 0, log, sizeof log, "uninterrupted sweep");
	assert_int_equal(check_whole(full), GRID_PAIRS);
	assert_false(exists(full, "results.incomplete"));
	int nfull;
	char *want = key_set(full, &nfull);
	assert_int_equal(nfull, GRID_PAIRS);

	/* SIGKILL at several moments: before the first point (the header is
	 * written before the roofline), in the middle of the first, the third
	 * and the sixth pair of a run; each later run resumes the one before */
	const char *moments[] = {"roofline:", "[ 1/", "[ 3/", "[ 6/"};
	int rows = 0;
	for (int m = 0; m < 4; m++) {
		int fd;
		log[0] = 0;
		const pid_t pid = start_sweep(killed, m > 0, &fd);
		if (!wait_for_line(fd, moments[m], log, sizeof log))
			fail_msg("moment %d: the sweep ended before '%s':\n%s", m, moments[m], log);
		kill(pid, SIGKILL);
		assert_int_equal(finish(pid, fd, log, sizeof log), 128 + SIGKILL);
		const int now = check_whole(killed);
		/* every row finished before the kill is there, and no more */
		const int before = m == 0 ? 0 : m == 1 ? 0 : m == 2 ? 2 : 5;
		if (now < rows + before || now > GRID_PAIRS)
			fail_msg("moment %d: %d rows after the kill, at least %d expected", m, now, rows + before);
		rows = now;
		assert_true(exists(killed, "results.incomplete"));
		assert_false(exists(killed, "results.csv.partial"));
	}
	/* an unfinished run cannot pass the regression gate */
	EXPECT(2, "has not finished", "compare", full, killed);

	/* --resume completes it to the same points */
	sweep_to_end(killed, 1, log, sizeof log, "resume");
	assert_non_null(strstr(log, "ok rows kept"));
	assert_int_equal(check_whole(killed), GRID_PAIRS);
	assert_false(exists(killed, "results.incomplete"));
	int ngot;
	char *got = key_set(killed, &ngot);
	assert_string_equal(got, want);
	free(got);
	free(want);
	tu_rmtree(tmp);
}

/* SIGINT and SIGTERM: the point in progress is abandoned, the rows before it
 * kept, the command that resumes is printed, exit 130 / 143. */
static void test_interrupt_signals(void **state)
{
	(void)state;
	const int sigs[2] = {SIGINT, SIGTERM};
	static char log[65536];
	for (int i = 0; i < 2; i++) {
		char *tmp = tu_tmpdir(), dir[512];
		snprintf(dir, sizeof dir, "%s/run", tmp);
		int fd;
		log[0] = 0;
		const pid_t pid = start_sweep(dir, 0, &fd);
		if (!wait_for_line(fd, "[ 3/", log, sizeof log))
			fail_msg("the sweep ended early:\n%s", log);
		kill(pid, sigs[i]);
		const int rc = finish(pid, fd, log, sizeof log);
		if (rc != 128 + sigs[i])
			fail_msg("signal %d: exit %d, want %d\n%s", sigs[i], rc, 128 + sigs[i], log);
		assert_non_null(strstr(log, i ? "interrupted by SIGTERM" : "interrupted by SIGINT"));
		const char *how = strstr(log, "resume with: ");
		assert_non_null(how);
		assert_non_null(strstr(how, "--resume"));
		assert_non_null(strstr(how, dir));
		const int rows = check_whole(dir);
		assert_true(rows >= 2 && rows < GRID_PAIRS);
		char p[600];
		snprintf(p, sizeof p, "%s/results.incomplete", dir);
		char *marker = tu_read(p, NULL);
		assert_non_null(marker);
		assert_non_null(strstr(marker, "--resume"));
		free(marker);
		tu_rmtree(tmp);
	}
}

/* --resume keeps ok rows verbatim and measures again what is missing or
 * was not ok; a file it did not write, rows of another grid and a run of
 * another machine are refused. */
static void test_resume_rules(void **state)
{
	(void)state;
	char *tmp = tu_tmpdir(), dir[512], p[600];
	static char log[65536];
	snprintf(dir, sizeof dir, "%s/run", tmp);
	snprintf(p, sizeof p, "%s/results.csv", dir);
	/* --resume where nothing exists yet is a fresh start */
	sweep_to_end(dir, 1, log, sizeof log, "resume into an empty directory");
	assert_int_equal(check_whole(dir), GRID_PAIRS);

	/* drop the last row, turn the second into an error, keep the rest */
	size_t len;
	char *text = tu_read(p, &len);
	char *lines[GRID_PAIRS + 2] = {0};
	int n = 0;
	for (char *s = strtok(text, "\n"); s && n < GRID_PAIRS + 2; s = strtok(NULL, "\n"))
		lines[n++] = s;
	assert_int_equal(n, GRID_PAIRS + 1);
	char *second = strstr(lines[2], ",ok,");
	assert_non_null(second);
	char *edited = calloc(len + 64, 1);
	for (int i = 0; i < n - 1; i++) {
		if (i == 2) {
			strncat(edited, lines[2], (size_t)(second - lines[2]));
			strcat(edited, ",\"error: injected\",");
			strcat(edited, second + 4);
		} else {
			strcat(edited, lines[i]);
		}
		strcat(edited, "\n");
	}
	tu_write(p, edited, strlen(edited));
	sweep_to_end(dir, 1, log, sizeof log, "resume");
	assert_non_null(strstr(log, "8 ok rows kept, 2 of 10"));
	assert_int_equal(check_whole(dir), GRID_PAIRS);
	char *after = tu_read(p, NULL);
	/* the kept rows are the same bytes */
	for (int i = 1; i < n - 1; i++)
		if (i != 2 && !strstr(after, lines[i]))
			fail_msg("row %d was not kept verbatim: %s", i, lines[i]);
	assert_null(strstr(after, "injected"));
	free(after);
	free(edited);
	free(text);

	/* rows of another grid (here: another backend) are not resumed into */
	EXPECT(2, "is not a point of this sweep's grid", "sweep", "--backend", "naive", "--seq", "16,32,64", "--cache",
	       "64,128", "--heads", "2", "--head-dim", "16", "--phases", "prefill,decode", "--repetitions", "2",
	       "--min-time", "0.02", "--out", dir, "--resume");
	EXPECT(2, ": backend blocked, prefill, batch 1, heads 2/2", "sweep", "--backend", "naive", "--seq", "16,32,64",
	       "--cache", "64,128", "--heads", "2", "--head-dim", "16", "--phases", "prefill,decode", "--repetitions",
	       "2", "--min-time", "0.02", "--out", dir, "--resume");
	/* nor a run another machine measured (its machine.json says so) */
	char mj[600];
	snprintf(mj, sizeof mj, "%s/machine.json", dir);
	const char *other = "{\"hostname\": \"some-other-host\", \"cpu_model\": \"Other CPU\"}\n";
	tu_write(mj, other, strlen(other));
	EXPECT(2, "machine.json: hostname 'some-other-host' is not this machine's", "sweep", GRID, "--out", dir,
	       "--resume");
	unlink(mj);

	/* a file with other columns is not resumed into */
	const char *foreign = "backend,device,phase,batch,n_heads,n_kv_heads,head_dim,seq_len,cache_len,causal,dtype,"
	                      "time_ns,time_ns_min,time_ns_max,reps,gflops,gbytes_s,kv_cache_bytes,workspace_bytes,"
	                      "status\n";
	tu_write(p, foreign, strlen(foreign));
	EXPECT(2, "not this version's results.csv columns", "sweep", GRID, "--out", dir, "--resume");
	/* nor one that does not parse: the message names the file, line and column */
	const char *bad = "backend,device,phase,batch,n_heads,n_kv_heads,head_dim,seq_len,cache_len,causal,dtype,"
	                  "time_ns,time_ns_min,time_ns_max,reps,gflops,gbytes_s,kv_cache_bytes,workspace_bytes,"
	                  "status\nnaive,cpu,prefill,1,2,2,16,16,16,1,f32,,,,,,,0,0,ok\n";
	tu_write(p, bad, strlen(bad));
	EXPECT(2, "line 2, column time_ns", "sweep", GRID, "--out", dir, "--resume");
	EXPECT(2, "does not apply", "bench", "--resume");
	tu_rmtree(tmp);
}

/* Points that differ only by a variant key are different points: a resume
 * with a wider list runs only the new ones, and one whose grid lacks a
 * row's variant refuses the file, naming it. */
static void test_resume_variants(void **state)
{
	(void)state;
	char *tmp = tu_tmpdir(), dir[512];
	snprintf(dir, sizeof dir, "%s/run", tmp);
#define VGRID                                                                                                          \
	"sweep", "--backend", "naive", "--phases", "decode", "--cache", "32", "--heads", "2", "--gqa", "1,2",          \
	    "--head-dim", "32", "--repetitions", "1", "--min-time", "0.001", "--out", dir
	char *err = NULL;
	int rc = tu_run(NULL, &err, VGRID, "--kv-dtype", "f32", (char *)NULL);
	if (rc)
		fail_msg("sweep: exit %d: %s", rc, err);
	free(err);
	err = NULL;
	rc = tu_run(NULL, &err, VGRID, "--kv-dtype", "f32,f16", "--resume", (char *)NULL);
	if (rc || !strstr(err, "2 ok rows kept, 2 of 4 (backend, point) pairs to run"))
		fail_msg("resume: exit %d: %s", rc, err);
	free(err);
	err = NULL;
	rc = tu_run(NULL, &err, VGRID, "--window", "0,8", "--resume", (char *)NULL);
	if (rc != 2 || !strstr(err, "--kv-dtype f16 is not a point of this sweep's grid"))
		fail_msg("resume into a grid without f16 K/V: exit %d: %s", rc, err);
	free(err);
	EXPECT(2, "is not a point of this sweep's grid", VGRID, "--kv-dtype", "f32,f16", "--window", "8", "--resume");
#undef VGRID
	tu_rmtree(tmp);
}

/* A results.csv of the grid seq 16 / cache 16 on naive, written as a sweep
 * writes it, with the repetition times rep[0] (prefill) and rep[1] (decode). */
static void write_grid_rows(const char *csv, const double rep[2][3])
{
	sweep_config c;
	attn_err e = {{0}};
	sweep_config_default(&c);
	assert_int_equal(sweep_config_set(&c, "seq", "16", "--seq", &e), 0);
	assert_int_equal(sweep_config_set(&c, "cache", "16", "--cache", &e), 0);
	assert_int_equal(sweep_config_set(&c, "gqa", "1", "--gqa", &e), 0);
	assert_int_equal(sweep_config_set(&c, "heads", "2", "--heads", &e), 0);
	assert_int_equal(sweep_config_set(&c, "head_dim", "16", "--head-dim", &e), 0);
	sweep_point *p;
	int n;
	assert_int_equal(sweep_points(&c, &p, &n, &e), 0);
	assert_int_equal(n, 2);
	FILE *f = fopen(csv, "w");
	assert_non_null(f);
	assert_int_equal(results_write_header(f), 0);
	for (int i = 0; i < n; i++) {
		const double *t = rep[p[i].phase == PHASE_DECODE];
		const result_row row = {.backend = "naive",
		                        .device = "cpu",
		                        .pt = &p[i],
		                        .status = RESULT_OK,
		                        .measured = 1,
		                        .time_ns = t[1],
		                        .time_ns_min = t[0],
		                        .time_ns_max = t[2],
		                        .reps = 3,
		                        .rep_ns = t,
		                        .timing = "wall"};
		assert_int_equal(results_write_row(f, &row), 0);
	}
	fclose(f);
	free(p);
}

/* Noise in view: a row whose repetitions spread past the threshold (cv 0.1
 * by hand: 90, 100, 110) is named in the sweep's summary (here of a resumed
 * run that had nothing left to do) and listed in the report; a steady row
 * (cv 0.01) is in neither. */
static void test_noisy_rows(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), out[512], csv[600], rep[600];
	snprintf(out, sizeof out, "%s/run", dir);
	snprintf(csv, sizeof csv, "%s/results.csv", out);
	snprintf(rep, sizeof rep, "%s/report", dir);
	assert_int_equal(mkdir(out, 0755), 0);
	const double times[2][3] = {{90, 100, 110}, {99, 100, 101}};
	write_grid_rows(csv, times);
	char *err = NULL;
	const int rc =
	    tu_run(NULL, &err, "sweep", "--backend", "naive", "--phases", "prefill,decode", "--seq", "16", "--cache",
	           "16", "--heads", "2", "--gqa", "1", "--head-dim", "16", "--out", out, "--resume", (char *)NULL);
	if (rc != 0)
		fail_msg("sweep --resume: exit %d: %s", rc, err ? err : "");
	assert_non_null(strstr(err, "sweep: noisy rows"));
	assert_non_null(strstr(err, "naive prefill b1_h2_kv2_d16_f32_seq16: cv 0.100"));
	assert_null(strstr(err, "naive decode"));
	assert_non_null(strstr(err, "(1 noisy)"));
	free(err);
	err = NULL;
	const int rrc = tu_run(NULL, &err, "report", out, "--out", rep, (char *)NULL);
	if (rrc != 0)
		fail_msg("report: exit %d: %s", rrc, err ? err : "");
	free(err);
	char md[700];
	snprintf(md, sizeof md, "%s/report.md", rep);
	char *text = tu_read(md, NULL);
	assert_non_null(text);
	const char *sec = strstr(text, "## Noisy rows");
	assert_non_null(sec);
	assert_non_null(strstr(sec, "1 row spread more than cv 0.05"));
	assert_non_null(
	    strstr(sec, "naive prefill, batch 1, 2 heads, 2 KV heads, head_dim 16, seq_len 16, f32: cv 0.100"));
	assert_null(strstr(sec, "naive decode"));
	free(text);
	tu_rmtree(dir);
}

/* --interleave SEED: each pass runs every pair once in its own shuffled
 * order (a permutation, not the grid's, the same for the same seed), the
 * rows come out in grid order with every repetition, and --resume keeps
 * them. */
static void test_interleave(void **state)
{
	(void)state;
	int a[10], b[10], c[10], seen[10] = {0};
	sweep_shuffle(a, 10, 7, 0);
	sweep_shuffle(b, 10, 7, 0);
	sweep_shuffle(c, 10, 7, 1);
	int same_as_grid = 1;
	for (int i = 0; i < 10; i++) {
		assert_true(a[i] >= 0 && a[i] < 10);
		seen[a[i]]++;
		same_as_grid &= a[i] == i;
	}
	for (int i = 0; i < 10; i++)
		assert_int_equal(seen[i], 1);
	assert_false(same_as_grid);
	assert_memory_equal(a, b, sizeof a);
	assert_memory_not_equal(a, c, sizeof a);

	char *dir = tu_tmpdir(), out[512], csv[600];
	snprintf(out, sizeof out, "%s/run", dir);
	snprintf(csv, sizeof csv, "%s/results.csv", out);
	char *err = NULL;
#define IGRID                                                                                                          \
	"sweep", "--backend", "naive", "--phases", "prefill,decode", "--seq", "16,32", "--cache", "16", "--heads",     \
	    "2", "--gqa", "1", "--head-dim", "16", "--repetitions", "2", "--min-time", "0.001", "--out", out,          \
	    "--interleave", "7"
	int rc = tu_run(NULL, &err, IGRID, (char *)NULL);
	if (rc != 0)
		fail_msg("sweep --interleave: exit %d: %s", rc, err ? err : "");
	assert_non_null(strstr(err, "interleaved with seed 7"));
	/* the grid: prefill seq 16, prefill seq 32, decode cache 16; each pass in its shuffled order */
	static const char *const label[3] = {"prefill b1_h2_kv2_d16_f32_seq16 ", "prefill b1_h2_kv2_d16_f32_seq32 ",
	                                     "decode  b1_h2_kv2_d16_f32_cache16 "};
	const char *at = err;
	int grid_order = 1;
	for (int pass = 0; pass < 2; pass++) {
		int order[3];
		sweep_shuffle(order, 3, 7, pass);
		for (int j = 0; j < 3; j++) {
			grid_order &= order[j] == j;
			const char *line = strstr(at, "] naive    ");
			assert_non_null(line);
			if (strncmp(line + 11, label[order[j]], strlen(label[order[j]])))
				fail_msg("pass %d, step %d: wanted %s, got %.60s", pass, j, label[order[j]], line + 11);
			at = line + 1;
		}
	}
	assert_false(grid_order);
	assert_null(strstr(at, "] naive    ")); /* no more */
	free(err);
	err = NULL;
	results_file rf;
	attn_err e = {{0}};
	if (results_read(csv, RESULTS_NEED_CONTRACT, &rf, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(rf.nrows, 3);
	static const int64_t want_len[3] = {16, 32, 16};
	for (int i = 0; i < 3; i++) {
		const results_rec *r = &rf.rows[i];
		assert_int_equal(r->status, RESULT_OK);
		assert_int_equal(r->phase, i < 2 ? PHASE_PREFILL : PHASE_DECODE);
		assert_int_equal(i < 2 ? r->seq_len : r->cache_len, want_len[i]);
		assert_int_equal(r->reps, 2);
		assert_int_equal(r->nrep_times, 2);
	}
	results_file_free(&rf);
	/* resume: nothing left, the rows kept */
	rc = tu_run(NULL, &err, IGRID, "--resume", (char *)NULL);
#undef IGRID
	if (rc != 0)
		fail_msg("sweep --interleave --resume: exit %d: %s", rc, err ? err : "");
	assert_non_null(strstr(err, "3 ok rows kept, 0 of 3"));
	free(err);
	err = NULL;
	if (results_read(csv, RESULTS_NEED_CONTRACT, &rf, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(rf.nrows, 3);
	results_file_free(&rf);
	/* a bad seed */
	rc = tu_run(NULL, &err, "sweep", "--interleave", "x", "--out", out, (char *)NULL);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(err, "--interleave: 'x' is not a seed"));
	free(err);
	tu_rmtree(dir);
}

int run_resume_tests(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kill_and_resume), cmocka_unit_test(test_interrupt_signals),
	    cmocka_unit_test(test_resume_rules),    cmocka_unit_test(test_resume_variants),
	    cmocka_unit_test(test_noisy_rows),      cmocka_unit_test(test_interleave),
	};
	tu_count_tests((int)(sizeof tests / sizeof tests[0]));
	return cmocka_run_group_tests_name("resume", tests, NULL, NULL);
}
