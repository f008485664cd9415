/* sweep.h - `attnbench sweep`: the grid of model/sweep_config.h measured
 * on the selected backends into results.csv. */
#ifndef ATTN_SWEEP_H
#define ATTN_SWEEP_H

#include <stdint.h>

#include "attnbench.h"
#include "lib/util.h"
#include "run/measure.h"

/* Measure the grid, write DIR/results.csv and DIR/machine.json (see the
 * README); --resume, --shard and interruption as sweep_opts says. Returns an
 * exit code. */
int sweep_run(const sweep_opts *o);

/* --interleave: order[0..n) set to a permutation of 0..n-1 drawn from seed
 * and pass (each pass its own order; the same seed and pass, the same order
 * on every machine). */
void sweep_shuffle(int *order, int n, uint64_t seed, int pass);

#endif
