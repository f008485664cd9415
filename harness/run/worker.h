/* worker.h - backend work in a child process, and guarded buffers.
 *
 * sweep runs each (point, backend) in a worker: a child forked for it that
 * creates the backend instance, does the work, writes what it found into
 * memory shared with the parent (worker_shared) and leaves with _exit;
 * check runs each backend in a long-lived one (worker_server) that keeps
 * its instance from case to case. A worker that dies of a signal, or runs past its time
 * limit (then killed), costs only that one row: worker_run says what
 * happened, naming the entry point the worker was in (worker_enter) and,
 * for a fault on a guarded buffer, the buffer.
 *
 * Guarded buffers (guard_*): an output sits between zones pre-filled with a
 * sentinel, itself filled with it too, so that a write before or after it
 * and an element left unwritten are found after the call; an input is a
 * read-only copy that ends against an inaccessible page, so that a write to
 * it or a read past its end faults, and the worker's SIGSEGV handler names
 * the buffer from the fault address. */
#ifndef ATTN_RUN_WORKER_H
#define ATTN_RUN_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "run/registry.h"

/* Memory the parent and its workers share (MAP_SHARED): len bytes, zeroed.
 * NULL when out of memory; worker_shared_free releases it. */
void *worker_shared(size_t len);
void worker_shared_free(void *p, size_t len);

/* What became of a worker. */
typedef enum worker_outcome {
	WORKER_DONE,      /* it returned from its work and exited */
	WORKER_CRASHED,   /* it died of a signal (or exited without finishing) */
	WORKER_TIMED_OUT, /* it ran past the limit and was killed */
	WORKER_NO_FORK,   /* no worker could be started */
} worker_outcome;

/* Run work(arg) in a worker and wait at most timeout_s seconds for it.
 * Returns the outcome; for anything but WORKER_DONE, why holds the row's
 * reason: "crashed (SIGSEGV in attend: read past the end of k)",
 * "timed out after 60 s (in decode)". */
worker_outcome worker_run(void (*work)(void *arg), void *arg, double timeout_s, char *why, size_t why_len);

/* A long-lived worker: forked on its first worker_serve, it runs
 * work(arg) once per call and waits for the next, so that what work keeps
 * in the worker's own memory (a backend instance) serves every call. One
 * that crashed or timed out is gone, and the next call forks a fresh one.
 * worker_server_stop ends it: fini(arg) runs in it, then it exits. Start
 * with {.work = ..., .fini = ..., .arg = ...}; arg's memory is the
 * parent's as it was at the fork, so what changes per call goes in
 * worker_shared memory. */
typedef struct worker_server {
	void (*work)(void *arg);
	void (*fini)(void *arg); /* or NULL */
	void *arg;
	int pid, fd; /* the worker, 0 when there is none; the parent's end of its socket */
} worker_server;

/* Run work(arg) in s's worker (forked if there is none) and wait at most
 * timeout_s seconds; as worker_run. */
worker_outcome worker_serve(worker_server *s, double timeout_s, char *why, size_t why_len);
/* End s's worker, if any: fini in it, within timeout_s. WORKER_DONE, or
 * how fini ended and why. */
worker_outcome worker_server_stop(worker_server *s, double timeout_s, char *why, size_t why_len);

/* Note the backend entry point about to be called ("attend", "decode"):
 * the name a crash or time-out reports. name must be a string literal. */
void worker_enter(const char *name);

/* Create an instance of be with cfg in a worker, note its device name and
 * destroy it: how a parent that keeps no instance learns that the backend
 * can be created. 0, or -1 with the reason in err (create failed, or the
 * worker crashed or timed out). */
int worker_probe(backend_entry *be, const attn_config *cfg, double timeout_s, char *device, size_t dlen, char *err,
                 size_t elen);

/* ---- guarded buffers ------------------------------------------------------ */

#define GUARD_MAX 16 /* guarded buffers alive at once */

typedef struct guard_buf {
	char *map;        /* the whole mapping */
	size_t map_len;   /* its bytes */
	char *data;       /* the buffer */
	size_t len;       /* its bytes */
	size_t zone;      /* output: sentinel bytes on either side */
	float *out;       /* output: data as floats */
	const char *name; /* "q", "out": a string literal */
	int output;
} guard_buf;

/* A read-only copy of len bytes of src named name, ending against an
 * inaccessible page. Returns the copy or NULL (out of memory). */
const void *guard_input(guard_buf *g, const char *name, const void *src, size_t len);
/* An output of n floats named name between sentinel zones; NULL when out
 * of memory. */
float *guard_output(guard_buf *g, const char *name, size_t n);
/* Fill an output and its zones with the sentinel (before each call). */
void guard_reset(guard_buf *g);
/* After a call: 0 when the zones are intact and every element written,
 * else -1 and msg: "wrote out[-1], before its start", "wrote out[n+63]
 * past its end", "left 3 elements of out unwritten, the first out[5]". */
int guard_check(const guard_buf *g, char *msg, size_t len);
void guard_free(guard_buf *g);

#endif
