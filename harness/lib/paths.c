/* paths.c - the data folder: see paths.h. */
#include "lib/paths.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int path_is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Cut the last component of path (in place); 0 when there is none left. */
static int parent(char *path)
{
	char *slash = strrchr(path, '/');
	if (!slash || slash == path)
		return 0;
	*slash = 0;
	return 1;
}

/* The folder of the running binary's share/attnbench or of the build tree's
 * datasets/ into out; 0 when neither is found. */
static int from_binary(char *out, size_t n)
{
	char dir[PATH_MAX];
	const ssize_t len = readlink("/proc/self/exe", dir, sizeof dir - 1);
	if (len <= 0)
		return 0;
	dir[len] = 0;
	if (!parent(dir))
		return 0;
	if ((size_t)snprintf(out, n, "%s/../share/attnbench", dir) < n && is_dir(out))
		return 1;
	for (int up = 0; up < 3; up++) {
		if ((size_t)snprintf(out, n, "%s/datasets", dir) < n && is_dir(out))
			return 1;
		if (!parent(dir))
			break;
	}
	return 0;
}

const char *data_dir(void)
{
	static char dir[PATH_MAX + 32];
	const char *env = getenv("ATTNBENCH_DATA");
	if (env && *env && strlen(env) < sizeof dir)
		strcpy(dir, env);
	else if (!from_binary(dir, sizeof dir))
		strcpy(dir, "datasets");
	return dir;
}

char *data_path(const char *rel, char *out, size_t n)
{
	if ((size_t)snprintf(out, n, "%s/%s", data_dir(), rel) >= n && n)
		out[0] = 0;
	return out;
}
