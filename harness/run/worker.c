/* worker.c - see worker.h. */
#define _GNU_SOURCE /* sigabbrev_np */
#include "run/worker.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* What a worker tells its parent besides its own results. */
typedef struct worker_state {
	const char *entry; /* the entry point it is in (a literal: same address in both) */
	char fault[192];   /* the guarded buffer a fault hit, or "" */
	int finished;      /* its work returned */
} worker_state;

static worker_state *state; /* shared with the workers; NULL before the first */

void *worker_shared(size_t len)
{
	void *p = mmap(NULL, len ? len : 1, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void worker_shared_free(void *p, size_t len)
{
	if (p)
		munmap(p, len ? len : 1);
}

void worker_enter(const char *name)
{
	if (state)
		state->entry = name;
}

/* ---- guarded buffers ------------------------------------------------------ */

#define SENTINEL 0x7fa5a5a5u /* a NaN no arithmetic produces */

static const guard_buf *live[GUARD_MAX]; /* what the fault handler knows */

static size_t page_size(void)
{
	const long p = sysconf(_SC_PAGESIZE);
	return p > 0 ? (size_t)p : 4096;
}

static void guard_register(const guard_buf *g)
{
	for (int i = 0; i < GUARD_MAX; i++)
		if (!live[i]) {
			live[i] = g;
			return;
		}
}

static char *guard_map(guard_buf *g, const char *name, size_t map_len)
{
	memset(g, 0, sizeof *g);
	void *m = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	g->map = m;
	g->map_len = map_len;
	g->name = name;
	return m;
}

const void *guard_input(guard_buf *g, const char *name, const void *src, size_t len)
{
	const size_t pg = page_size(), body = (len + pg - 1) / pg * pg;
	char *m = guard_map(g, name, body + 2 * pg);
	if (!m)
		return NULL;
	g->data = m + pg + (body - len);
	g->len = len;
	if (len)
		memcpy(g->data, src, len);
	if (mprotect(m, pg, PROT_NONE) || (body && mprotect(m + pg, body, PROT_READ)) ||
	    mprotect(m + pg + body, pg, PROT_NONE)) {
		guard_free(g);
		return NULL;
	}
	guard_register(g);
	return g->data;
}

float *guard_output(guard_buf *g, const char *name, size_t n)
{
	const size_t pg = page_size(), len = n * sizeof(float), body = (len + pg - 1) / pg * pg;
	/* a page before, a zone page, the body, a zone page, a page after */
	char *m = guard_map(g, name, body + 4 * pg);
	if (!m)
		return NULL;
	g->data = m + 2 * pg;
	g->len = len;
	g->zone = pg;
	g->output = 1;
	g->out = (void *)g->data;
	if (mprotect(m, pg, PROT_NONE) || mprotect(m + 3 * pg + body, pg, PROT_NONE)) {
		guard_free(g);
		return NULL;
	}
	guard_reset(g);
	guard_register(g);
	return g->out;
}

void guard_reset(guard_buf *g)
{
	const uint32_t s = SENTINEL;
	char *lo = g->data - g->zone, *hi = g->map + g->map_len - page_size();
	for (char *p = lo; p + sizeof s <= hi; p += sizeof s)
		memcpy(p, &s, sizeof s);
}

static int is_sentinel(const char *p)
{
	uint32_t x;
	memcpy(&x, p, sizeof x);
	return x == SENTINEL;
}

int guard_check(const guard_buf *g, char *msg, size_t len)
{
	const size_t n = g->len / sizeof(float);
	const char *end = g->map + g->map_len - page_size();
	/* before the start: the nearest element first */
	for (size_t i = 1; i * sizeof(float) <= g->zone; i++)
		if (!is_sentinel(g->data - i * sizeof(float))) {
			snprintf(msg, len, "wrote %s[-%zu], before its start", g->name, i);
			return -1;
		}
	for (size_t i = 0; g->data + g->len + (i + 1) * sizeof(float) <= end; i++)
		if (!is_sentinel(g->data + g->len + i * sizeof(float))) {
			snprintf(msg, len, "wrote %s[n+%zu], past its end (n = %zu)", g->name, i, n);
			return -1;
		}
	size_t unwritten = 0, first = 0;
	for (size_t i = 0; i < n; i++)
		if (is_sentinel(g->data + i * sizeof(float)) && !unwritten++)
			first = i;
	if (unwritten) {
		snprintf(msg, len, "left %zu of %zu elements of %s unwritten, the first %s[%zu]", unwritten, n, g->name,
		         g->name, first);
		return -1;
	}
	return 0;
}

void guard_free(guard_buf *g)
{
	for (int i = 0; i < GUARD_MAX; i++)
		if (live[i] == g)
			live[i] = NULL;
	if (g->map)
		munmap(g->map, g->map_len);
	memset(g, 0, sizeof *g);
}

/* ---- the worker's fault handler --------------------------------------------- */

/* Append src to dst (size cap) in a signal handler: no stdio there. */
static void cat_safe(char *dst, size_t cap, const char *src)
{
	size_t n = 0;
	while (n < cap - 1 && dst[n])
		n++;
	while (n < cap - 1 && *src)
		dst[n++] = *src++;
	dst[n] = 0;
}

/* What a fault at a names, from the live guarded buffers. */
static void name_fault(const char *a, char *out, size_t cap)
{
	for (int i = 0; i < GUARD_MAX; i++) {
		const guard_buf *g = live[i];
		if (!g || a < g->map || a >= g->map + g->map_len)
			continue;
		const char *what;
		if (g->output)
			what = a < g->data ? "wrote far before the start of " : "wrote far past the end of ";
		else if (a < g->data)
			what = "read before the start of ";
		else if (a < g->data + g->len)
			what = "wrote to ";
		else
			what = "read past the end of ";
		cat_safe(out, cap, what);
		cat_safe(out, cap, g->name);
		return;
	}
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (state && !state->fault[0])
		name_fault(si->si_addr, state->fault, sizeof state->fault);
	/* SA_RESETHAND restored the default action: returning faults again and
	 * the worker dies of the signal, which its parent reports */
}

/* The worker's side: set up its fault handler, then run work once per 'w'
 * from the parent, answering 'd' after each, until 'q' or the parent's end
 * closes; fini last. */
static void worker_child(worker_server *s)
{
	static char altstack[64 * 1024];
	const stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	prctl(PR_SET_PDEATHSIG, SIGKILL); /* a parent killed outright takes its worker along */
	sigaltstack(&ss, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	for (;;) {
		char c = 0;
		const ssize_t n = read(s->fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || c != 'w')
			break;
		s->work(s->arg);
		state->finished = 1;
		fflush(stdout);
		fflush(stderr);
		if (send(s->fd, "d", 1, MSG_NOSIGNAL) != 1)
			break;
	}
	if (s->fini)
		s->fini(s->arg);
	fflush(stdout);
	fflush(stderr);
	_exit(0); /* no atexit handlers, no leak check: the parent's memory is not ours to report */
}

static double mono_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Wait for the worker's answer: 1 when it answered, 0 when its end closed
 * (it ended), -1 when the time is up. */
static int wait_reply(int fd, double timeout_s)
{
	const double until = mono_s() + timeout_s;
	for (;;) {
		const double left = until - mono_s();
		if (left <= 0)
			return -1;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		const int ms = left > 1e6 ? 1000000000 : (int)(left * 1000.0) + 1;
		const int rc = poll(&p, 1, ms);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc == 0)
			continue;
		char c;
		ssize_t n;
		while ((n = recv(fd, &c, 1, 0)) < 0 && errno == EINTR)
			;
		return n == 1 ? 1 : 0; /* an error: wait for the process itself */
	}
}

static const char *sig_name(int sig, char *buf, size_t len)
{
	const char *abbrev = sigabbrev_np(sig);
	if (abbrev)
		snprintf(buf, len, "SIG%s", abbrev);
	else
		snprintf(buf, len, "signal %d", sig);
	return buf;
}

static int server_start(worker_server *s, char *why, size_t why_len)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(why, why_len, "cannot start a worker: %s", strerror(errno));
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	const pid_t pid = fork();
	if (pid < 0) {
		snprintf(why, why_len, "cannot start a worker: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		s->fd = sv[1];
		worker_child(s);
	}
	close(sv[1]);
	s->fd = sv[0];
	s->pid = pid;
	return 0;
}

/* Wait for the worker to end (killed first with kill_it) and forget it;
 * its wait status in *st. */
static void server_reap(worker_server *s, int kill_it, int *st)
{
	if (kill_it)
		kill(s->pid, SIGKILL);
	while (waitpid(s->pid, st, 0) < 0 && errno == EINTR)
		;
	close(s->fd);
	s->pid = 0;
	s->fd = -1;
}

/* The worker ended (r 0) or ran past its time (r -1, it is killed): what
 * became of it, and why. */
static worker_outcome server_ended(worker_server *s, int r, double timeout_s, char *why, size_t why_len)
{
	int st = 0;
	server_reap(s, r < 0, &st);
	const char *entry = state->entry ? state->entry : "the backend";
	char sig[32];
	if (r < 0) {
		snprintf(why, why_len, "timed out after %g s (in %s)", timeout_s, entry);
		return WORKER_TIMED_OUT;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && state->finished)
		return WORKER_DONE;
	if (WIFSIGNALED(st))
		snprintf(why, why_len, "crashed (%s in %s%s%s)", sig_name(WTERMSIG(st), sig, sizeof sig), entry,
		         state->fault[0] ? ": " : "", state->fault);
	else
		snprintf(why, why_len, "crashed (exited with status %d in %s)", WIFEXITED(st) ? WEXITSTATUS(st) : -1,
		         entry);
	return WORKER_CRASHED;
}

worker_outcome worker_serve(worker_server *s, double timeout_s, char *why, size_t why_len)
{
	if (!state && !(state = worker_shared(sizeof *state))) {
		snprintf(why, why_len, "cannot start a worker: out of memory");
		return WORKER_NO_FORK;
	}
	memset(state, 0, sizeof *state);
	if (!s->pid && server_start(s, why, why_len))
		return WORKER_NO_FORK;
	/* a worker gone since its last answer closed its end: this finds it */
	const int r = send(s->fd, "w", 1, MSG_NOSIGNAL) == 1 ? wait_reply(s->fd, timeout_s) : 0;
	if (r == 1 && state->finished)
		return WORKER_DONE;
	return server_ended(s, r == 1 ? 0 : r, timeout_s, why, why_len);
}

worker_outcome worker_server_stop(worker_server *s, double timeout_s, char *why, size_t why_len)
{
	if (!s->pid)
		return WORKER_DONE;
	memset(state, 0, sizeof *state);
	state->finished = 1; /* its work is done: an exit with status 0 is the end wanted */
	const int r = send(s->fd, "q", 1, MSG_NOSIGNAL) == 1 ? wait_reply(s->fd, timeout_s) : 0;
	return server_ended(s, r == 1 ? 0 : r, timeout_s, why, why_len);
}

worker_outcome worker_run(void (*work)(void *arg), void *arg, double timeout_s, char *why, size_t why_len)
{
	worker_server s = {.work = work, .arg = arg};
	worker_outcome w = worker_serve(&s, timeout_s, why, why_len);
	if (w == WORKER_DONE)
		w = worker_server_stop(&s, timeout_s, why, why_len);
	return w;
}

/* ---- creating an instance in a worker --------------------------------------- */

typedef struct probe_job {
	backend_entry *be;
	attn_config cfg;
	char device[128], err[512]; /* what the worker found */
	int failed;
} probe_job;

static void probe_work(void *arg)
{
	probe_job *j = arg; /* shared memory */
	void *ctx = NULL;
	worker_enter("create");
	if (j->be->be->create(&j->cfg, &ctx, j->err, sizeof j->err)) {
		j->failed = 1;
		return;
	}
	worker_enter("device_name");
	const char *dev = j->be->be->device_name(ctx);
	snprintf(j->device, sizeof j->device, "%s", dev ? dev : "");
	worker_enter("destroy");
	j->be->be->destroy(ctx);
}

int worker_probe(backend_entry *be, const attn_config *cfg, double timeout_s, char *device, size_t dlen, char *err,
                 size_t elen)
{
	probe_job *j = worker_shared(sizeof *j);
	if (!j) {
		snprintf(err, elen, "out of memory");
		return -1;
	}
	j->be = be;
	j->cfg = *cfg;
	char why[512];
	const worker_outcome w = worker_run(probe_work, j, timeout_s, why, sizeof why);
	int rc = 0;
	if (w != WORKER_DONE)
		rc = -1, snprintf(err, elen, "%s", why);
	else if (j->failed)
		rc = -1, snprintf(err, elen, "%s", j->err);
	else
		snprintf(device, dlen, "%s", j->device);
	worker_shared_free(j, sizeof *j);
	return rc;
}
