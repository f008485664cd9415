/* sweep_out.c - what a sweep reads and writes around its rows (see
 * sweep_out.h): the machine check of --resume, the noisy rows of the
 * summary, and --json. */
#include "run/sweep_out.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "run/measure.h"
#include "model/gbench_json.h"
#include "model/machine.h"
#include "model/results.h"

/* --resume refuses a run that another machine measured: DIR/machine.json,
 * where there is one, must name this host and CPU model. */
int resume_same_machine(const char *csv_path, attn_err *e)
{
	char path[4400], host[256] = "", cpu[256];
	const char *slash = strrchr(csv_path, '/');
	snprintf(path, sizeof path, "%.*smachine.json", slash ? (int)(slash - csv_path + 1) : 0, csv_path);
	machine_info m;
	const int rc = machine_read(path, &m, e);
	if (rc == MACHINE_UNREADABLE) {
		e->msg[0] = 0;
		return 0; /* none: the rows say nothing of a machine */
	}
	if (rc)
		return rc;
	gethostname(host, sizeof host - 1);
	cpu_model(cpu, sizeof cpu);
	const char *key = NULL, *theirs = NULL, *ours = NULL;
	if (m.hostname && strcmp(m.hostname, host)) {
		key = "hostname";
		theirs = m.hostname;
		ours = host;
	} else if (m.cpu_model && strcmp(m.cpu_model, cpu)) {
		key = "cpu_model";
		theirs = m.cpu_model;
		ours = cpu;
	}
	if (key)
		attn_errf(e,
		          "%s: %s '%.80s' is not this machine's ('%.80s'): its rows were measured elsewhere; resume on "
		          "that machine, or start a new --out",
		          path, key, theirs, ours);
	machine_info_free(&m);
	return key ? EXIT_INPUT : 0;
}

/* The end-of-run summary's noisy rows: every ok row of results.csv (resumed
 * ones included) whose repetitions spread past RESULTS_CV_NOISY. Returns
 * how many. */
int summary_noisy(const char *csv)
{
	results_file rf;
	attn_err e = {{0}};
	if (results_read(csv, RESULTS_NEED_CONTRACT, &rf, &e))
		return 0;
	int n = 0;
	for (int i = 0; i < rf.nrows; i++) {
		const results_rec *rec = &rf.rows[i];
		if (rec->status != RESULT_OK || !(rec->cv > RESULTS_CV_NOISY))
			continue;
		if (!n++)
			fprintf(stderr,
			        "sweep: noisy rows (cv = stddev / mean of the repetitions > %.2f; docs/results.md):\n",
			        RESULTS_CV_NOISY);
		sweep_point p;
		char label[160];
		results_rec_point(rec, &p);
		point_label(&p, 1, label, sizeof label);
		if (n <= 20)
			fprintf(stderr, "  line %d: %s %s %s: cv %.3f\n", rec->line, rec->backend,
			        phase_name(rec->phase), label, rec->cv);
	}
	if (n > 20)
		fprintf(stderr, "  ... and %d more\n", n - 20);
	results_file_free(&rf);
	return n;
}

/* --json: the whole results.csv (resumed rows included) and machine.json
 * as Google Benchmark's JSON. Returns an exit code. */
int write_json(const sweep_opts *o, const char *csv, const char *mpath)
{
	attn_err e = {{0}};
	results_file rf;
	machine_info m;
	const int have_m = machine_read(mpath, &m, &e) == 0;
	int rc = results_read(csv, RESULTS_NEED_CONTRACT, &rf, &e);
	if (!rc) {
		rc = gbench_json_write(o->json_path, &rf, have_m ? &m : NULL, o->program, &e);
		results_file_free(&rf);
	}
	if (have_m)
		machine_info_free(&m);
	if (rc) {
		fprintf(stderr, "attnbench sweep: --json %s\n", e.msg);
		return EXIT_INPUT;
	}
	fprintf(stderr, "sweep: wrote %s\n", o->json_path);
	return EXIT_PASS;
}
