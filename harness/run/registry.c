/* registry.c - the built-in backends. To add one: write impls/<name>/ with a
 * getter that returns an attn_backend table, declare the getter in
 * impls/builtin.h and add one line to builtin[] (behind its #ifdef when it
 * has optional dependencies). */
#include "run/registry.h"

#include <ctype.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "impls/builtin.h"
#include "lib/files.h"

static const attn_backend *(*const builtin[])(void) = {
    attn_backend_naive,
    attn_backend_blocked,
    attn_backend_blas,
#ifdef ATTN_HAVE_VULKAN
    attn_backend_vulkan,
#endif
};

static backend_entry entries[ATTN_MAX_BACKENDS];
static int n_entries = -1;

size_t registry_table_size(uint32_t v)
{
	static const size_t size[] = {0, ATTN_BACKEND_SIZE_V1, ATTN_BACKEND_SIZE_V2, ATTN_BACKEND_SIZE_V3};
	_Static_assert(sizeof size / sizeof size[0] == ATTN_ABI_VERSION + 1, "one size per ABI version");
	return v >= ATTN_ABI_MIN_VERSION && v <= ATTN_ABI_VERSION ? size[v] : 0;
}

/* Append one table, probing it; origin is NULL for built-ins. The entry
 * keeps its own copy of the part of the table that the backend's ABI
 * version defines, the rest zero: the harness never reads past the end of
 * an older backend's table. */
static void add_entry(const attn_backend *be, const char *origin, const char *tag)
{
	backend_entry *e = &entries[n_entries++];
	memset(&e->table, 0, sizeof e->table);
	memcpy(&e->table, be, registry_table_size(be->abi_version));
	e->be = &e->table;
	snprintf(e->tag, sizeof e->tag, "%s", tag ? tag : "");
	if (tag) { /* A/B: the backend's own name, then the library's tag */
		snprintf(e->name, sizeof e->name, "%s@%s", be->name, tag);
		e->table.name = e->name;
	}
	e->available = 1;
	e->reason[0] = 0;
	snprintf(e->origin, sizeof e->origin, "%s", origin ? origin : "built-in");
	if (e->be->probe && !e->be->probe(e->reason, sizeof e->reason))
		e->available = 0;
}

static int load_library(const char *path, const char *tag, attn_err *e);

/* Every *.so in the colon-separated directories of ATTNBENCH_BACKEND_PATH;
 * a library that cannot be used is reported and skipped. */
static void load_backend_path(void)
{
	const char *env = getenv("ATTNBENCH_BACKEND_PATH");
	if (!env || !*env)
		return;
	char dirs[4096];
	snprintf(dirs, sizeof dirs, "%s", env);
	for (char *save = NULL, *dir = strtok_r(dirs, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		DIR *d = opendir(dir);
		if (!d) {
			fprintf(stderr, "attnbench: ATTNBENCH_BACKEND_PATH: %s: %s (skipped)\n", dir, strerror(errno));
			continue;
		}
		struct dirent *ent;
		while ((ent = readdir(d))) {
			size_t n = strlen(ent->d_name);
			if (n < 4 || strcmp(ent->d_name + n - 3, ".so") != 0)
				continue;
			char path[4096];
			snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
			attn_err e = {{0}};
			if (load_library(path, NULL, &e))
				fprintf(stderr, "attnbench: ATTNBENCH_BACKEND_PATH: %s (skipped)\n", e.msg);
		}
		closedir(d);
	}
}

static void registry_init(void)
{
	if (n_entries >= 0)
		return;
	n_entries = 0;
	for (size_t i = 0; i < sizeof builtin / sizeof builtin[0] && n_entries < ATTN_MAX_BACKENDS; i++)
		add_entry(builtin[i](), NULL, NULL);
	load_backend_path();
}

/* A backend name: short, [a-z0-9_-]. */
static int valid_name(const char *name)
{
	if (!name || !*name || strlen(name) > 32)
		return 0;
	for (const char *p = name; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_' && *p != '-')
			return 0;
	return 1;
}

/* The name a table gets: its own, or NAME@TAG with a tag. */
static const char *tagged(const char *name, const char *tag, char *buf, size_t len)
{
	if (!tag)
		return name;
	snprintf(buf, len, "%s@%s", name, tag);
	return buf;
}

/* dlopen a backend library and add its tables (named NAME@TAG when tag is
 * not NULL); the whole library is refused if any table is unusable. */
static int load_library(const char *path, const char *tag, attn_err *e)
{
	char real[PATH_MAX];
	if (!realpath(path, real))
		return attn_errf(e, "%s: %s", path, strerror(errno));
	for (int i = 0; i < n_entries; i++)
		if (!strcmp(entries[i].origin, real) && !strcmp(entries[i].tag, tag ? tag : ""))
			return 0; /* already loaded */
	/* a FIFO or a device is refused, never waited on inside dlopen */
	const int fd = file_open_in(real, NULL, e);
	if (fd < 0)
		return EXIT_INPUT;
	close(fd);
	void *lib = dlopen(real, RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		return attn_errf(e, "%s: cannot load: %s", path, dlerror());
	typedef const attn_backend *const *(*list_fn)(uint32_t *);
	list_fn fn;
	*(void **)&fn = dlsym(lib, ATTN_PLUGIN_SYMBOL);
	if (!fn) {
		dlclose(lib);
		return attn_errf(e, "%s: no symbol '%s' (a backend library exports it; see attnbench.h)", path,
		                 ATTN_PLUGIN_SYMBOL);
	}
	uint32_t count = 0;
	const attn_backend *const *tables = fn(&count);
	const char *why = NULL;
	char buf[256];
	if (!tables || count == 0 || count > ATTN_MAX_BACKENDS)
		why = "it returned no backend table";
	for (uint32_t i = 0; !why && i < count; i++) {
		const attn_backend *b = tables[i];
		if (!b) {
			why = "a NULL backend table";
		} else if (!registry_table_size(b->abi_version)) {
			/* only abi_version is read from a table of an unknown version */
			snprintf(buf, sizeof buf,
			         "backend built for ABI %u, %s than this attnbench loads (ABI %u to %u): rebuild it "
			         "against this attnbench's attnbench.h",
			         b->abi_version, b->abi_version > ATTN_ABI_VERSION ? "newer" : "older",
			         (unsigned)ATTN_ABI_MIN_VERSION, (unsigned)ATTN_ABI_VERSION);
			why = buf;
		} else if (!valid_name(b->name)) {
			why = "a backend name that is not [a-z0-9_-], 1 to 32 characters";
		} else if (!b->create || !b->destroy || !b->device_name || !b->last_error || !b->supports ||
		           !b->workspace_bytes || !b->attend) {
			snprintf(buf, sizeof buf, "backend '%s' leaves a required entry point NULL", b->name);
			why = buf;
		} else if ((b->caps & ATTN_CAP_KV_CACHE) &&
		           (!b->cache_alloc || !b->cache_append || !b->cache_len || !b->cache_truncate || !b->prefill ||
		            !b->decode || !b->cache_bytes)) {
			snprintf(buf, sizeof buf, "backend '%s' claims kv_cache but leaves a cache entry point NULL",
			         b->name);
			why = buf;
		} else {
			char nm[72];
			const char *name = tagged(b->name, tag, nm, sizeof nm);
			for (int j = 0; j < n_entries; j++)
				if (!strcmp(entries[j].be->name, name)) {
					snprintf(buf, sizeof buf, "backend name '%s' is already taken (%.120s)", name,
					         entries[j].origin);
					why = buf;
				}
			for (uint32_t j = 0; j < i && !why; j++)
				if (!strcmp(tables[j]->name, b->name))
					why = "two tables with the same name";
		}
	}
	if (!why && n_entries + (int)count > ATTN_MAX_BACKENDS)
		why = "too many backends";
	if (why) {
		dlclose(lib);
		return attn_errf(e, "%s: refused: %s", path, why);
	}
	for (uint32_t i = 0; i < count; i++)
		add_entry(tables[i], real, tag);
	return 0; /* the library stays loaded for the life of the process */
}

int registry_load_library(const char *arg, attn_err *e)
{
	registry_init();
	/* TAG=PATH: a tag is a backend name's characters, so a path holding '='
	 * after a '/' (or anything else before it) stays a path */
	const char *eq = strchr(arg, '=');
	char tag[64];
	if (eq && (size_t)(eq - arg) < sizeof tag && !memchr(arg, '/', (size_t)(eq - arg))) {
		memcpy(tag, arg, (size_t)(eq - arg));
		tag[eq - arg] = 0;
		if (!valid_name(tag))
			return attn_errf(e, "'%s': the tag before '=' must be [a-z0-9_-], 1 to 32 characters", arg);
		if (!eq[1])
			return attn_errf(e, "'%s': no library path after '%s='", arg, tag);
		return load_library(eq + 1, tag, e);
	}
	return load_library(arg, NULL, e);
}

int registry_count(void)
{
	registry_init();
	return n_entries;
}

backend_entry *registry_get(int i)
{
	registry_init();
	return i >= 0 && i < n_entries ? &entries[i] : NULL;
}

backend_entry *registry_find(const char *name)
{
	registry_init();
	for (int i = 0; i < n_entries; i++)
		if (strcmp(entries[i].be->name, name) == 0)
			return &entries[i];
	return NULL;
}

/* The len characters at *s without the blanks around them ("a, b" as a
 * config writes a list). */
static void trim_blanks(const char **s, size_t *len)
{
	while (*len && isspace((unsigned char)**s))
		++*s, --*len;
	while (*len && isspace((unsigned char)(*s)[*len - 1]))
		--*len;
}

/* Whether a list is "all", blanks around it left out. */
static int names_all(const char *list)
{
	size_t len = strlen(list);
	trim_blanks(&list, &len);
	return len == 3 && memcmp(list, "all", 3) == 0;
}

int registry_select(const char *list, const char *what, backend_entry **out, int *n, attn_err *e)
{
	registry_init();
	*n = 0;
	if (!list || names_all(list)) {
		for (int i = 0; i < n_entries; i++)
			if (entries[i].available)
				out[(*n)++] = &entries[i];
		return 0;
	}
	const char *p = list;
	while (*p) {
		size_t len = strcspn(p, ",");
		const char *next = p + len + (p[len] == ',');
		trim_blanks(&p, &len);
		char name[80];
		if (len == 0 || len >= sizeof name)
			return attn_errf(e, "%s: malformed list '%s'", what, list);
		memcpy(name, p, len);
		name[len] = 0;
		p = next;
		backend_entry *be = registry_find(name);
		if (!be) {
			char known[512] = "";
			for (int i = 0; i < n_entries; i++) {
				strncat(known, entries[i].be->name, sizeof known - strlen(known) - 2);
				if (i + 1 < n_entries)
					strncat(known, ", ", sizeof known - strlen(known) - 1);
			}
			return attn_errf(e, "%s: unknown backend '%s' (known: %s)", what, name, known);
		}
		if (!be->available)
			return attn_errf(e, "%s: backend '%s' is unavailable (%s)", what, name, be->reason);
		int dup = 0;
		for (int i = 0; i < *n; i++)
			dup |= out[i] == be;
		if (!dup && *n < ATTN_MAX_BACKENDS)
			out[(*n)++] = be;
	}
	if (*n == 0)
		return attn_errf(e, "%s: empty list", what);
	return 0;
}

static struct {
	char name[80];
	char params[512];
} params[ATTN_MAX_BACKENDS];
static int n_params;

int registry_set_params(const char *name, const char *p, attn_err *e)
{
	if (strlen(name) >= sizeof params[0].name || strlen(p) >= sizeof params[0].params)
		return attn_errf(e, "--param: too long");
	if (!registry_find(name))
		return attn_errf(e, "--param: unknown backend '%s'", name);
	for (int i = 0; i < n_params; i++)
		if (!strcmp(params[i].name, name)) {
			snprintf(params[i].params, sizeof params[i].params, "%s", p);
			return 0;
		}
	if (n_params == ATTN_MAX_BACKENDS)
		return attn_errf(e, "--param: too many");
	snprintf(params[n_params].name, sizeof params[0].name, "%s", name);
	snprintf(params[n_params].params, sizeof params[0].params, "%s", p);
	n_params++;
	return 0;
}

attn_config registry_config(const attn_config *base, const char *name)
{
	attn_config c = *base;
	c.params = NULL;
	for (int i = 0; i < n_params; i++)
		if (!strcmp(params[i].name, name))
			c.params = params[i].params;
	return c;
}

uint32_t shape_caps(const attn_shape *s, int alibi, int sinks, int ragged, int paged)
{
	const attn_dtype kt = attn_kv_dtype(s);
	uint32_t c = 0;
	c |= s->window > 0 ? ATTN_CAP_WINDOW : 0;
	c |= s->softcap > 0 ? ATTN_CAP_SOFTCAP : 0;
	c |= alibi ? ATTN_CAP_ALIBI : 0;
	c |= sinks ? ATTN_CAP_SINKS : 0;
	c |= attn_head_dim_v(s) != s->head_dim ? ATTN_CAP_HEAD_DIM_V : 0;
	c |= kt != s->dtype && kt <= ATTN_BF16 ? ATTN_CAP_KV_DTYPE : 0;
	c |= kt == ATTN_Q8_0 ? ATTN_CAP_Q8_0 : 0;
	c |= kt == ATTN_Q4_0 ? ATTN_CAP_Q4_0 : 0;
	c |= kt == ATTN_FP8_E4M3 ? ATTN_CAP_FP8 : 0;
	c |= ragged ? ATTN_CAP_RAGGED : 0;
	c |= paged ? ATTN_CAP_PAGED : 0;
	return c;
}

const char *caps_str(uint32_t caps, char *buf, size_t len)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {{ATTN_CAP_CAUSAL, "causal"},
	             {ATTN_CAP_GQA, "gqa"},
	             {ATTN_CAP_KV_CACHE, "kv_cache"},
	             {ATTN_CAP_THREADS, "threads"},
	             {ATTN_CAP_DEVICE_TIMER, "device_timer"},
	             {ATTN_CAP_F16, "f16"},
	             {ATTN_CAP_BF16, "bf16"},
	             {ATTN_CAP_WINDOW, "window"},
	             {ATTN_CAP_SOFTCAP, "softcap"},
	             {ATTN_CAP_ALIBI, "alibi"},
	             {ATTN_CAP_SINKS, "sinks"},
	             {ATTN_CAP_HEAD_DIM_V, "head_dim_v"},
	             {ATTN_CAP_KV_DTYPE, "kv_dtype"},
	             {ATTN_CAP_Q8_0, "q8_0"},
	             {ATTN_CAP_Q4_0, "q4_0"},
	             {ATTN_CAP_FP8, "fp8_e4m3"},
	             {ATTN_CAP_RAGGED, "ragged"},
	             {ATTN_CAP_PAGED, "paged"}};
	buf[0] = 0;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (!(caps & names[i].bit))
			continue;
		if (buf[0])
			strncat(buf, ",", len - strlen(buf) - 1);
		strncat(buf, names[i].name, len - strlen(buf) - 1);
	}
	return buf;
}
