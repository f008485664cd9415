/* registry.c - the built-in backends. To add one: write impls/<name>.c that
 * returns an attn_backend table, declare its getter here and add one line to
 * builtin[] (behind its #ifdef when it has optional dependencies). */
#include "registry.h"

#include <stdio.h>
#include <string.h>

#include "impls/cpu_common.h"
#ifdef ATTN_HAVE_VULKAN
#include "impls/vulkan/vulkan.h"
#endif

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

static void registry_init(void)
{
	if (n_entries >= 0)
		return;
	n_entries = 0;
	for (size_t i = 0; i < sizeof builtin / sizeof builtin[0] && n_entries < ATTN_MAX_BACKENDS; i++) {
		backend_entry *e = &entries[n_entries++];
		e->be = builtin[i]();
		e->available = 1;
		e->reason[0] = 0;
		if (e->be->abi_version != ATTN_ABI_VERSION) {
			e->available = 0;
			snprintf(e->reason, sizeof e->reason, "built for ABI %u, harness is ABI %u", e->be->abi_version,
			         (unsigned)ATTN_ABI_VERSION);
		} else if (e->be->probe && !e->be->probe(e->reason, sizeof e->reason)) {
			e->available = 0;
		}
	}
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

int registry_select(const char *list, backend_entry **out, int *n, attn_err *e)
{
	registry_init();
	*n = 0;
	if (!list || strcmp(list, "all") == 0) {
		for (int i = 0; i < n_entries; i++)
			if (entries[i].available)
				out[(*n)++] = &entries[i];
		return 0;
	}
	const char *p = list;
	while (*p) {
		char name[64];
		size_t len = strcspn(p, ",");
		if (len == 0 || len >= sizeof name)
			return attn_errf(e, "--backend: malformed list '%s'", list);
		memcpy(name, p, len);
		name[len] = 0;
		p += len + (p[len] == ',');
		backend_entry *be = registry_find(name);
		if (!be) {
			char known[512] = "";
			for (int i = 0; i < n_entries; i++) {
				strncat(known, entries[i].be->name, sizeof known - strlen(known) - 2);
				if (i + 1 < n_entries)
					strncat(known, ", ", sizeof known - strlen(known) - 1);
			}
			return attn_errf(e, "--backend: unknown backend '%s' (known: %s)", name, known);
		}
		if (!be->available)
			return attn_errf(e, "--backend: backend '%s' is unavailable (%s)", name, be->reason);
		int dup = 0;
		for (int i = 0; i < *n; i++)
			dup |= out[i] == be;
		if (!dup && *n < ATTN_MAX_BACKENDS)
			out[(*n)++] = be;
	}
	if (*n == 0)
		return attn_errf(e, "--backend: empty list");
	return 0;
}

static struct {
	char name[64];
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
	             {ATTN_CAP_BF16, "bf16"}};
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
