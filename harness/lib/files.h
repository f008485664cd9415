/* files.h - opening the files the harness reads and writes. An input is a
 * regular file, opened without blocking: a FIFO, a device or a directory is
 * refused at once, never waited on. An output replaces only a regular file
 * (a symlink, a device, a FIFO or a directory at its path is refused and
 * left alone); it is written to a new, exclusively created file next to it
 * and renamed over it when complete. */
#ifndef ATTN_FILES_H
#define ATTN_FILES_H

#include <stdio.h>

#include "lib/util.h"

/* Open path for reading: O_RDONLY | O_NONBLOCK | O_CLOEXEC, then fstat;
 * anything but a regular file is refused ("PATH: not a regular file"),
 * then O_NONBLOCK is cleared. Returns the descriptor; -1 when it cannot
 * be opened ("PATH: cannot open: REASON" in e, errno kept) or -2 when it
 * is not a regular file. *size (if given) gets the file's size. */
int file_open_in(const char *path, long long *size, attn_err *e);
/* The same as a stdio stream for reading; NULL with the message in e. */
FILE *file_fopen_in(const char *path, long long *size, attn_err *e);

/* 0 when nothing is at path or a regular file is; else EXIT_INPUT with
 * "PATH: exists and is not a regular file ...; not replaced" in e (lstat:
 * a symlink counts as not regular, whatever it points to). */
int file_out_check(const char *path, attn_err *e);

/* An output in the making. */
typedef struct file_out {
	FILE *f;         /* write here between file_out_open and commit */
	char path[4200]; /* the target */
	char tmp[4300];  /* PATH.partial.UNIQUE, created with O_EXCL */
} file_out;

/* Check path (file_out_check), then create a temporary file next to it
 * with O_CREAT | O_EXCL | O_NOFOLLOW under a name nobody else holds (a
 * planted PATH.partial, link or not, is never opened). Returns 0,
 * EXIT_INPUT for a refused path, or -1 when the file cannot be created
 * (errno kept); the message is in e either way. */
int file_out_open(file_out *o, const char *path, attn_err *e);
/* Close the temporary file and rename it over the target, checking the
 * target again first. Returns 0, EXIT_INPUT (the target became something
 * else than a regular file) or -1 (a write, close or rename failed); on
 * failure the temporary file is removed and the message is in e. */
int file_out_commit(file_out *o, attn_err *e);
/* Close and remove the temporary file (after an error of the caller's);
 * a no-op on a file_out that is not open. */
void file_out_abort(file_out *o);

/* The first line of a small system file (/proc, /sys) into buf, without its
 * newline; -1 when it cannot be opened or is empty. */
int file_read_line(const char *path, char *buf, size_t len);

#endif
