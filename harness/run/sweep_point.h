/* sweep_point.h - one point of a sweep measured in a worker: a backend
 * alone (all its repetitions in one go), or the builds of an A/B group
 * (--backend-lib TAG=PATH: NAME@base, NAME@cand, ...) side by side,
 * repetition by repetition in turn, so that pair i of repetitions was
 * measured at the same moment and compare --ab can judge the point on the
 * pairs' ratios. */
#ifndef ATTN_SWEEP_POINT_H
#define ATTN_SWEEP_POINT_H

#include <stddef.h>

#include "run/measure.h"
#include "model/results.h"

/* Reason text of a row, as the sweep keeps it. */
#define SWEEP_REASON_LEN 600

/* A measured row's times: its n repetitions (rep_ns, kept in the order
 * they were measured), their median, least and greatest. */
void sweep_row_times(result_row *row, const double *rep_ns, int n);

/* Measure backend bi at point pt into row (row_init'ed) and rep_ns: in a
 * worker (a crash or a hang past the limit is an error row), or in process
 * with --no-isolate. */
void sweep_run_point(const sweep_opts *o, run_setup *r, int bi, const sweep_point *pt, result_row *row, double *rep_ns,
                     char *reason, size_t reason_len);

/* The builds bi[0..nb) of one backend (an A/B group) at point pt, the pi-th
 * of the grid, measured in one worker: each set up and checked, then for
 * each repetition every build once, in sweep_ab_order's order. rows[k]
 * (row_init'ed), rep_ns[k] and reasons[k] receive build k's row. When the
 * worker crashes or hangs, each build runs again alone (sweep_run_point),
 * so that the one at fault is the only error row. */
void sweep_run_group(const sweep_opts *o, run_setup *r, const int *bi, int nb, int pi, const sweep_point *pt,
                     result_row *rows, double (*rep_ns)[SWEEP_MAX_REPS], char (*reasons)[SWEEP_REASON_LEN]);

/* The order of nb builds in repetition rep of the pi-th point: a rotation
 * by rep + pi, so that with two builds they alternate (base first, then
 * cand first, ...) and each goes first as often as the other over an even
 * number of repetitions, and the first repetition of consecutive points
 * starts with each in turn. */
void sweep_ab_order(int *order, int nb, int rep, int pi);

/* Whether backends a and b are two builds of one backend: loaded under
 * different tags (--backend-lib TAG=PATH) with the same name before '@'. */
int sweep_same_backend(const backend_entry *a, const backend_entry *b);

#endif
