/*
 * vulkan.h - the Vulkan compute backend ("vulkan").
 *
 * Attention on any Vulkan 1.1 device: a flash-attention shader for
 * attend and prefill, a split-K pair of shaders for single-query calls
 * (decode), and a KV cache held in device memory. k, v and the cache are
 * stored as attn_kv_dtype(s): f32 everywhere, f16 and bf16 where the
 * device has storageBuffer16BitAccess (VK_KHR_16bit_storage), q8_0, q4_0
 * and fp8_e4m3 as attn_quant.h lays them out; the shaders widen or
 * dequantize on load and compute in f32; q is widened to f32 by the host,
 * out is f32. Every ABI 3 variant, ragged lengths and attend_paged are
 * supported. The Vulkan loader is
 * opened at run time (volk), so a binary built with this backend starts,
 * and every other backend works, on machines without libvulkan.so.1.
 *
 * attn_config.device: NULL (first discrete GPU, else integrated, else any
 * device, CPU ones included), a decimal index into the list `attnbench
 * list` prints, or a case-insensitive substring of the device name.
 *
 * attn_config.params, comma-separated key=value:
 *   split=N        decode workgroups per query head group; 0 (default)
 *                  picks from the cache length and the device, 1 is a
 *                  single workgroup per query
 *   timeout_ms=N   limit of every wait on the device, in milliseconds
 *                  (default 30000, or ATTNBENCH_VK_TIMEOUT_MS); a call that
 *                  passes it fails with VK_TIMEOUT, and so does every later
 *                  call on the instance ("device timed out earlier: ...")
 *   mem_mib=N      behave as a device with N MiB of memory: shapes that need
 *                  more are not supported ("needs ..."), allocations past it
 *                  fail as out of device memory (default: the device's heap)
 *   storage16=0|1  use 16-bit storage where the device has it (default 1);
 *                  0 behaves as a device without it: f16 and bf16 shapes
 *                  are not supported ("f16 storage needs
 *                  storageBuffer16BitAccess ..., which <device> lacks")
 *   subgroups=0|1  allow subgroup operations (default 1 where supported)
 *   wg=N, rows=N, tile_kv=N, step=N, dsplit=N
 *                  flash shader: workgroup size, rows per lane, keys per
 *                  shared tile, keys per softmax step, lanes per row
 *   dec_wg=N, dec_keys=N, dec_dsplit=N, dec_heads=N
 *                  decode shader: workgroup size, keys per lane per step,
 *                  lanes per key, most query heads per workgroup
 *
 * Environment: ATTNBENCH_VK_VALIDATION=1 enables VK_LAYER_KHRONOS_validation;
 * any warning or error it reports fails the call (ATTN_E_DEVICE).
 * ATTNBENCH_VK_TIMEOUT_MS=N is the default of timeout_ms (the parameter wins).
 *
 * Faults: after a timed-out wait or VK_ERROR_DEVICE_LOST an instance never
 * touches the device again; every call fails at once (ATTN_E_DEVICE,
 * "device timed out earlier: ..." or "device lost: ..."), and destroy()
 * returns without waiting. supports() refuses shapes whose buffers do not fit
 * the device's limits or memory, with a reason that starts with "needs ".
 *
 * This header must not include the Vulkan headers.
 */
#ifndef ATTN_VULKAN_H
#define ATTN_VULKAN_H

#include "impls/builtin.h" /* attn_backend_vulkan() */

#endif
