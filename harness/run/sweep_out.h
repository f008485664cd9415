/* sweep_out.h - what a sweep reads and writes around its rows
 * (run/sweep.c): the machine check of --resume, the end-of-run summary's
 * noisy rows, and --json. */
#ifndef ATTN_SWEEP_OUT_H
#define ATTN_SWEEP_OUT_H

#include "lib/util.h"
#include "run/measure.h"

/* --resume refuses a run that another machine measured: the machine.json
 * beside csv_path, where there is one, must name this host and CPU model.
 * Returns 0 or EXIT_INPUT (e set). */
int resume_same_machine(const char *csv_path, attn_err *e);

/* Name on stderr every ok row of csv whose repetitions spread past
 * RESULTS_CV_NOISY (model/results.h). Returns how many. */
int summary_noisy(const char *csv);

/* --json: the whole results.csv at csv (resumed rows included) and the
 * machine.json at mpath as Google Benchmark's JSON into o->json_path.
 * Returns an exit code. */
int write_json(const sweep_opts *o, const char *csv, const char *mpath);

#endif
