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

#endif
