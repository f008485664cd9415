/* registry.h - the table of backends and selecting them by name. */
#ifndef ATTN_REGISTRY_H
#define ATTN_REGISTRY_H

#include "attnbench.h"
#include "lib/util.h"

#define ATTN_MAX_BACKENDS 32

typedef struct backend_entry {
	const attn_backend *be; /* &table */
	attn_backend table;     /* the backend's table as this ABI defines it:
	                           entry points newer than the backend's
	                           abi_version are NULL (absent) */
	int available;          /* probe said yes */
	char reason[256];       /* why not, when unavailable */
	char origin[4096];      /* "built-in" or the library's path */
	char tag[33];           /* --backend-lib TAG=PATH: the tag, else "" */
	char name[72];          /* with a tag: the table's name as NAME@TAG */
} backend_entry;

/* All registered backends, probed once. */
int registry_count(void);
backend_entry *registry_get(int i);
backend_entry *registry_find(const char *name);

/* Bytes of attn_backend that ABI version v defines, or 0 when this harness
 * does not load version v (older than ATTN_ABI_MIN_VERSION or newer than
 * ATTN_ABI_VERSION). */
size_t registry_table_size(uint32_t v);

/* Load the backend tables of a shared library (--backend-lib). A library
 * that fails to load, lacks the symbol, was built for an ABI this harness
 * does not load (a newer one, say) or brings a name already taken is
 * refused: EXIT_INPUT with the file and the reason. A table built for an
 * older ABI is loaded; the entry points that ABI lacks are absent.
 * Libraries in ATTNBENCH_BACKEND_PATH are loaded on first use of the
 * registry; those that fail are reported on stderr and skipped. */
int registry_load_library(const char *path, attn_err *e);

/* A/B mode: "TAG=PATH" (TAG in [a-z0-9_-], 1 to 32 characters) loads the
 * library's backends as NAME@TAG, so two builds of one backend (a baseline
 * and a candidate) load side by side, base=old/libx.so and cand=new/libx.so
 * giving x@base and x@cand; the same file under two tags loads twice. Any
 * other argument is a PATH. registry_load_library takes either form. */

/* Resolve a backend list ("all", NULL or "a,b"; blanks around a name are
 * left out) into entries. Named backends that are unknown or unavailable
 * are an input error (exit 2) whose message starts with what (where the
 * list came from: "--backend", or a config file and its key); with
 * "all"/NULL, unavailable ones are left out. Returns 0 or EXIT_INPUT. */
int registry_select(const char *list, const char *what, backend_entry **out, int *n, attn_err *e);

/* Backend-specific parameters from --param NAME:key=value,... ; create
 * sites pass registry_config() so each backend sees only its own. */
int registry_set_params(const char *name, const char *params, attn_err *e);
attn_config registry_config(const attn_config *base, const char *name);

/* Capability flags as text ("causal,gqa,kv_cache"). */
const char *caps_str(uint32_t caps, char *buf, size_t len);

/* The ABI 3 capabilities a call on s needs: its variants and storage, plus
 * ragged lengths and pages when the call passes them (the sweep decides
 * those before it builds the vectors; check reads them off the shape). */
uint32_t shape_caps(const attn_shape *s, int alibi, int sinks, int ragged, int paged);

#endif
