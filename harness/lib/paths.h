/* paths.h - where the data the harness reads by default lives: the golden
 * datasets, the sweep configs and the model presets, laid out as in the
 * repository's datasets/ folder (golden/, sweeps/, models.csv).
 *
 * The folder is, first found:
 *   1. $ATTNBENCH_DATA, when set and not empty (taken as given);
 *   2. BIN/../share/attnbench, BIN being the folder of the running binary
 *      (/proc/self/exe): the installed layout (`make install`);
 *   3. datasets/ in the binary's folder or one of its two parents: the
 *      build tree (build/attnbench, build/san/attnbench);
 *   4. datasets, relative to the working directory. */
#ifndef ATTN_PATHS_H
#define ATTN_PATHS_H

#include <stddef.h>

/* The data folder (see above); in a static buffer, computed
 * on each call (the environment may change). */
const char *data_dir(void);

/* data_dir()/rel into out (n bytes). Returns out; "" when it does not fit. */
char *data_path(const char *rel, char *out, size_t n);

/* Whether path names a regular file (stat: a symlink to one counts). */
int path_is_file(const char *path);

#endif
