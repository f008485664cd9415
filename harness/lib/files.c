/* files.c - see files.h. */
#include "lib/files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int file_open_in(const char *path, long long *size, attn_err *e)
{
	const int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		const int err = errno;
		attn_errf(e, "%s: cannot open: %s", path, strerror(err));
		errno = err;
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		attn_errf(e, "%s: not a regular file", path);
		return -2;
	}
	const int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
		attn_errf(e, "%s: cannot open: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (size)
		*size = (long long)st.st_size;
	return fd;
}

FILE *file_fopen_in(const char *path, long long *size, attn_err *e)
{
	const int fd = file_open_in(path, size, e);
	if (fd < 0)
		return NULL;

	FILE *f = fdopen(fd, "rb");
	if (!f) {
		attn_errf(e, "%s: cannot open: %s", path, strerror(errno));
		close(fd);
	}
	return f;
}

int file_out_check(const char *path, attn_err *e)
{
	struct stat st;
	if (lstat(path, &st) != 0 || S_ISREG(st.st_mode))
		return 0; /* nothing there (or nothing we may look at: the create says why) */
	const char *what = S_ISLNK(st.st_mode)                          ? "a symbolic link"
	                   : S_ISDIR(st.st_mode)                        ? "a directory"
	                   : S_ISFIFO(st.st_mode)                       ? "a FIFO"
	                   : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
	                                                                : "a special file";
	return attn_errf(e, "%s: exists and is not a regular file (%s); not replaced", path, what);
}

int file_out_open(file_out *o, const char *path, attn_err *e)
{
	memset(o, 0, sizeof *o);
	if ((size_t)snprintf(o->path, sizeof o->path, "%s", path) >= sizeof o->path)
		return attn_errf(e, "%.200s...: path too long", path);
	if (file_out_check(path, e))
		return EXIT_INPUT;
	static uint64_t seq;
	uint64_t x =
	    (uint64_t)getpid() << 32 ^ (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)o ^ ++seq * 0x9e3779b97f4a7c15ull;
	for (int tries = 0; tries < 64; tries++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		snprintf(o->tmp, sizeof o->tmp, "%s.partial.%06llx", path, (unsigned long long)(x & 0xffffff));
		const int fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
		if (fd < 0 && errno == EEXIST)
			continue;
		if (fd < 0)
			break;
		o->f = fdopen(fd, "w");
		if (o->f)
			return 0;
		const int err = errno;
		close(fd);
		remove(o->tmp);
		errno = err;
		break;
	}
	const int err = errno;
	attn_errf(e, "%s: cannot write: %s", path, strerror(err));
	o->tmp[0] = 0;
	errno = err;
	return -1;
}

int file_out_commit(file_out *o, attn_err *e)
{
	if (!o->f) {
		attn_errf(e, "%s: cannot write", o->path);
		return -1;
	}
	const int bad = ferror(o->f);
	const int cerr = fclose(o->f) != 0;
	o->f = NULL;
	int rc = -1;
	if (bad || cerr)
		attn_errf(e, "%s: write error: %s", o->path, strerror(errno));
	else if (file_out_check(o->path, e))
		rc = EXIT_INPUT;
	else if (rename(o->tmp, o->path) != 0)
		attn_errf(e, "%s: cannot write: %s", o->path, strerror(errno));
	else
		rc = 0;
	if (rc)
		remove(o->tmp);
	o->tmp[0] = 0;
	return rc;
}

void file_out_abort(file_out *o)
{
	if (o->f)
		fclose(o->f);
	o->f = NULL;
	if (o->tmp[0])
		remove(o->tmp);
	o->tmp[0] = 0;
}

int file_read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	const int ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return ok ? 0 : -1;
}
