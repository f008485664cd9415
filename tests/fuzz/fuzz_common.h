/* fuzz_common.h - shared by the libFuzzer targets: a private scratch
 * directory per process, whole-file writes, and an invariant check that
 * aborts (so libFuzzer records the input as a crash). */
#ifndef ATTN_FUZZ_COMMON_H
#define ATTN_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Abort with a message when an invariant of a reader does not hold. */
#define FUZZ_CHECK(cond)                                                                                               \
	do {                                                                                                           \
		if (!(cond)) {                                                                                         \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);                   \
			abort();                                                                                       \
		}                                                                                                      \
	} while (0)

static char fuzz_dir[64];

static void fuzz_cleanup(void)
{
	char cmd[128];
	if (!fuzz_dir[0])
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz: could not remove %s\n", fuzz_dir);
}

/* Create the scratch directory once; returns it. */
static const char *fuzz_scratch(void)
{
	if (!fuzz_dir[0]) {
		snprintf(fuzz_dir, sizeof fuzz_dir, "/tmp/attnbench-fuzz-XXXXXX");
		if (!mkdtemp(fuzz_dir)) {
			perror("mkdtemp");
			abort();
		}
		atexit(fuzz_cleanup);
	}
	return fuzz_dir;
}

/* path = scratch/name */
static void fuzz_path(char *path, size_t cap, const char *name)
{
	snprintf(path, cap, "%s/%s", fuzz_scratch(), name);
}

static void fuzz_write(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
		perror(path);
		abort();
	}
}

/* A message must name the file it is about. */
static void fuzz_check_msg(const char *msg, const char *name)
{
	FUZZ_CHECK(msg[0] != 0);
	FUZZ_CHECK(strstr(msg, name) != NULL);
}

#endif
