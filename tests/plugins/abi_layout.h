/* abi_layout.h - the layout of the first ABI's structures as a list of
 * sizes and field offsets, computed by whichever attnbench.h is included.
 * old_abi.c exports it as built against the frozen ABI 1 header; the tests
 * compute it against today's header and require the same numbers: fields
 * are only ever appended, never moved, resized or removed. */
#ifndef ATTN_ABI_LAYOUT_H
#define ATTN_ABI_LAYOUT_H

#include <stddef.h>

#define ABI1_FIELDS(X, T)                                                                                              \
	X(T, abi_version)                                                                                              \
	X(T, name)                                                                                                     \
	X(T, description)                                                                                              \
	X(T, caps)                                                                                                     \
	X(T, probe)                                                                                                    \
	X(T, list_devices)                                                                                             \
	X(T, create)                                                                                                   \
	X(T, destroy)                                                                                                  \
	X(T, device_name)                                                                                              \
	X(T, last_error)                                                                                               \
	X(T, supports)                                                                                                 \
	X(T, workspace_bytes)                                                                                          \
	X(T, attend)                                                                                                   \
	X(T, cache_alloc)                                                                                              \
	X(T, cache_append)                                                                                             \
	X(T, cache_len)                                                                                                \
	X(T, cache_truncate)                                                                                           \
	X(T, prefill)                                                                                                  \
	X(T, decode)                                                                                                   \
	X(T, cache_bytes)                                                                                              \
	X(T, last_device_ns)                                                                                           \
	X(T, peak_device_bytes)
#define ABI1_SHAPE_FIELDS(X, T)                                                                                        \
	X(T, batch)                                                                                                    \
	X(T, n_heads) X(T, n_kv_heads) X(T, head_dim) X(T, n_q) X(T, n_kv) X(T, causal) X(T, scale) X(T, dtype)
#define ABI1_CONFIG_FIELDS(X, T) X(T, threads) X(T, device) X(T, params)

#define ABI_OFFSET(T, f) offsetof(T, f),

/* sizeof the backend table, then each field's offset; the same for
 * attn_shape and attn_config */
#define ABI1_LAYOUT                                                                                                    \
	{                                                                                                              \
		sizeof(attn_backend), ABI1_FIELDS(ABI_OFFSET, attn_backend) sizeof(attn_shape),                        \
		    ABI1_SHAPE_FIELDS(ABI_OFFSET, attn_shape) sizeof(attn_config),                                     \
		    ABI1_CONFIG_FIELDS(ABI_OFFSET, attn_config)                                                        \
	}

#endif
