#!/usr/bin/python3
"""Generate attnbench's golden attention dataset (datasets/golden).

Usage:
    /usr/bin/python3 scripts/gen_golden.py datasets/golden    (what `make golden` runs)

Needs only Debian's python3 and python3-numpy. Every case has a fixed seed
(np.random.default_rng(seed)), so running the script twice produces
byte-identical files.

What it writes into the output directory
----------------------------------------
manifest.csv, one row per case after a header row, with the columns

    name,batch,n_heads,n_kv_heads,head_dim,n_q,n_kv,causal,scale,q,k,v,out,atol,rtol,
    dtype,ref_inputs,window,softcap,alibi,sinks,head_dim_v,kv_dtype,q_lens,kv_lens

  scale       empty means 1/sqrt(head_dim); otherwise the value to use.
  atol, rtol  empty means the consumer's default tolerance (for f16/bf16: the
              rounding floor of the ratio rule).
  q, k, v, out  .npy file names, relative to the manifest's directory.
  dtype       f32, f16 or bf16: the storage type of q, k, v (and the KV cache)
              that the consumer rounds the inputs to before running them.
  ref_inputs  informational (attnbench ignores it): "rounded" when out is the
              attention of the inputs after rounding to dtype, "unrounded"
              when it is the attention of the f32 values in the files.
  window .. kv_lens  the contract's variant, quantized-KV and ragged
              columns (empty: off), used by the cases of VARIANT_CASES; see
              "Variant, quantized-KV and ragged cases" below.

and the .npy files (little-endian, C order, dtype <f2, <f4 or <f8):

  q, out  shape (batch, n_heads,    n_q,  head_dim)
  k, v    shape (batch, n_kv_heads, n_kv, head_dim)

The reference
-------------
    out[b,h,i,:] = sum_j softmax_j(scale * q[b,h,i,:] . k[b,g,j,:]) v[b,g,j,:]
    g = h // (n_heads // n_kv_heads)

With causal masking the queries are the last n_q of the n_kv positions
(bottom-right alignment): query i sits at absolute position n_kv - n_q + i and
sees the keys j <= n_kv - n_q + i. Causal cases require n_q <= n_kv.

reference() below computes this plainly in float64 with NumPy: the KV heads
are expanded to the query heads with np.repeat, the logits come from einsum,
masked keys are set to -inf from the explicit formula above, the row maximum
is subtracted before exp, and the normalised weights are applied to v with
einsum. It shares no code with the C backends.

Inputs are drawn as float32 values (standard normal unless a case says
otherwise) and the reference is computed from exactly those float32 values
converted to float64, so `out` (stored as <f8) is the exact answer, up to
float64 rounding, for a consumer that reads the inputs as float32.

Half-precision cases (dtype f16 and bf16)
-----------------------------------------
Rounding is to nearest, ties to even: NumPy's astype(float16) for f16, and
round_bf16() below, written out on the bit pattern, for bf16 (NumPy has no
bfloat16). The cases mix three ways of presenting the inputs:
  - <f2 files holding the f16 values (exact; nothing left to round);
  - <f4 files holding values already rounded to bf16 (rounding is a no-op);
  - <f4 files holding unrounded values that the consumer must round itself.
and two references: "rounded" (the exact attention of what is stored, so
only the consumer's f32 arithmetic separates it from out) and "unrounded"
(the exact attention of the unrounded values, FlashAttention's setting: the
input rounding dominates the error). f16_ties and bf16_ties put many inputs
exactly halfway between two representable values, so rounding ties away
from zero or truncating is caught; f16_subnormal_v makes v f16 subnormals;
bf16_wide_range uses magnitudes far outside f16's range.

Coverage of the .npy reader: mha's q is written with format version 2.0,
gqa2's k with version 3.0, and custom_scale stores q, k and v as <f8 (whose
values are still exactly representable in float32). Everything else is <f4
in format version 1.0; every `out` is <f8.

overflow_logits multiplies q and k by 20 and rounds them to integers, so
scale * q.k reaches several hundred to about a thousand: exp() of those
overflows float32 (limit ~88.7) unless the row maximum is subtracted, yet
the softmax is well defined. The integer values keep every float32 dot
product exact (|sum| < 2**24), so the case tests max subtraction, not
summation-order luck.
"""

import csv
import os
import sys

import numpy as np

MANIFEST_COLUMNS = [
    "name", "batch", "n_heads", "n_kv_heads", "head_dim", "n_q", "n_kv",
    "causal", "scale", "q", "k", "v", "out", "atol", "rtol", "dtype", "ref_inputs",
    "window", "softcap", "alibi", "sinks", "head_dim_v", "kv_dtype", "q_lens", "kv_lens",
]
FILE_COLUMNS = ("q", "k", "v", "out", "alibi", "sinks", "q_lens", "kv_lens")


def case(name, seed, batch, n_heads, n_kv_heads, head_dim, n_q, n_kv, causal,
         scale=None, atol=None, rtol=None, kind="normal", in_dtype="<f4",
         versions=None, dtype="f32", ref="rounded", prerounded=False):
    """One golden case. versions maps 'q'/'k'/'v'/'out' to a .npy format
    version. For f16/bf16: ref is "rounded" or "unrounded" (what out is the
    attention of), prerounded writes <f4 inputs already rounded to dtype."""
    return dict(name=name, seed=seed, batch=batch, n_heads=n_heads,
                n_kv_heads=n_kv_heads, head_dim=head_dim, n_q=n_q, n_kv=n_kv,
                causal=causal, scale=scale, atol=atol, rtol=rtol, kind=kind,
                in_dtype=in_dtype, versions=versions or {}, dtype=dtype,
                ref=ref, prerounded=prerounded)


# Seeds are fixed per case (not derived from the list position), so adding or
# reordering cases never changes the existing ones.
CASES = [
    case("mha", 101, 1, 4, 4, 64, 64, 64, 0, versions={"q": (2, 0)}),
    case("gqa2", 102, 1, 8, 4, 32, 40, 56, 1, versions={"k": (3, 0)}),
    case("gqa4", 103, 1, 8, 2, 32, 48, 48, 1),
    case("gqa8", 104, 1, 16, 2, 32, 24, 64, 1),
    case("mqa", 105, 1, 8, 1, 64, 24, 40, 0),
    case("decode_long", 106, 1, 4, 1, 64, 1, 2048, 1, atol=2e-4, rtol=2e-4),
    case("chunked_prefill", 107, 1, 4, 2, 32, 37, 300, 1),
    case("odd_head_dim", 108, 1, 2, 2, 80, 33, 65, 1),
    case("odd_head_dim_3", 109, 1, 3, 1, 3, 33, 65, 0),
    case("head_dim_256", 110, 1, 2, 1, 256, 24, 40, 1),
    case("overflow_logits", 111, 1, 2, 2, 64, 16, 32, 0, kind="overflow"),
    case("batch3", 112, 3, 4, 2, 32, 20, 28, 1),
    case("custom_scale", 113, 1, 2, 2, 48, 24, 24, 0, scale=0.05, in_dtype="<f8"),
    case("noncausal_rect", 114, 1, 2, 1, 32, 17, 100, 0),
    case("noncausal_tall", 115, 2, 2, 1, 16, 48, 7, 0),
    case("tiny", 116, 1, 1, 1, 1, 1, 1, 0),
    case("causal_square_mha", 117, 1, 2, 2, 32, 128, 128, 1),
    # head sizes above 16 that are not a multiple of 8: the remainder loop
    # of a vectorised kernel (20 = 16 + 4, 37 = 32 + 5, 75 = 72 + 3)
    case("head_dim_20", 118, 1, 4, 2, 20, 33, 65, 1),
    case("head_dim_37", 119, 2, 3, 1, 37, 17, 31, 0),
    case("head_dim_75", 120, 1, 2, 2, 75, 1, 129, 1),
    # f16: <f2 inputs are exact; <f4 ones are rounded by the consumer
    case("f16_mha", 201, 1, 4, 4, 64, 64, 64, 0, dtype="f16", in_dtype="<f2"),
    case("f16_gqa4", 202, 1, 8, 2, 32, 48, 48, 1, dtype="f16", ref="unrounded"),
    case("f16_decode", 203, 1, 4, 1, 64, 1, 1024, 1, dtype="f16", in_dtype="<f2"),
    case("f16_chunked_prefill", 204, 1, 4, 2, 32, 37, 300, 1, dtype="f16"),
    case("f16_odd_head_dim", 205, 1, 3, 1, 13, 33, 65, 1, dtype="f16", ref="unrounded"),
    case("f16_head_dim_256", 206, 1, 2, 1, 256, 24, 40, 1, dtype="f16", in_dtype="<f2"),
    case("f16_ties", 207, 2, 2, 1, 16, 20, 24, 0, dtype="f16", kind="ties"),
    case("f16_subnormal_v", 208, 1, 2, 2, 32, 16, 48, 1, dtype="f16", kind="subnormal_v",
         atol=0.0),
    case("f16_head_dim_20", 209, 1, 4, 2, 20, 33, 65, 1, dtype="f16", in_dtype="<f2"),
    case("f16_head_dim_75", 210, 1, 4, 1, 75, 24, 40, 1, dtype="f16", ref="unrounded"),
    # bf16: always <f4 files; NumPy has no bfloat16
    case("bf16_mha", 301, 1, 4, 4, 64, 64, 64, 0, dtype="bf16", prerounded=True),
    case("bf16_gqa4", 302, 1, 8, 2, 32, 48, 48, 1, dtype="bf16", ref="unrounded"),
    case("bf16_decode", 303, 1, 4, 1, 64, 1, 1024, 1, dtype="bf16"),
    case("bf16_chunked_prefill", 304, 1, 4, 2, 32, 37, 300, 1, dtype="bf16", prerounded=True),
    case("bf16_odd_head_dim", 305, 1, 3, 1, 13, 33, 65, 1, dtype="bf16", ref="unrounded"),
    case("bf16_head_dim_256", 306, 1, 2, 1, 256, 24, 40, 1, dtype="bf16"),
    case("bf16_ties", 307, 2, 2, 1, 16, 20, 24, 0, dtype="bf16", kind="ties"),
    case("bf16_wide_range", 308, 1, 2, 1, 32, 24, 40, 1, dtype="bf16", kind="wide"),
]

OVERFLOW_FACTOR = 20.0


def round_bf16(x):
    """float32 array -> float32 array of the nearest bf16 values, ties to
    even, on the bit pattern: add 0x7fff plus the lowest kept bit, then clear
    the 16 dropped bits. A NaN stays a (quiet) NaN."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) << 16
    r = np.where(np.isnan(x), (u | 0x400000) & 0xFFFF0000, r)
    return r.astype(np.uint32).view(np.float32)


def round_to(x, dtype):
    """The values a consumer stores for dtype, as float32."""
    if dtype == "f16":
        return x.astype(np.float16).astype(np.float32)
    if dtype == "bf16":
        return round_bf16(x)
    return x


def make_ties(rng, shape, dtype):
    """Values exactly halfway between two neighbours of dtype, half of them
    with an odd lower neighbour (rounds up) and half even (rounds down)."""
    if dtype == "f16":
        h = rng.integers(0x3000, 0x4400, size=shape, dtype=np.uint16)  # about 0.125 .. 4
        lo = h.view(np.float16).astype(np.float32)
        hi = (h + 1).view(np.float16).astype(np.float32)
        mid = (lo.astype(np.float64) + hi.astype(np.float64)) / 2
        t = mid.astype(np.float32)
        assert np.all(t.astype(np.float64) == mid)
    else:
        b = rng.integers(0x3E00, 0x4080, size=shape, dtype=np.uint32)  # about 0.125 .. 4
        t = ((b << 16) | 0x8000).astype(np.uint32).view(np.float32)
    sign = np.where(rng.random(shape) < 0.5, -1.0, 1.0).astype(np.float32)
    return t * sign


def check_ties(t, dtype):
    """Ties must round to the even neighbour (a check on round_to itself)."""
    r = round_to(t, dtype)
    if dtype == "f16":
        bits = r.astype(np.float16).view(np.uint16)
    else:
        bits = (r.view(np.uint32) >> 16).astype(np.uint16)
    assert np.all((bits & 1) == 0), "ties must round to even"
    assert np.all(r != t), "every value must be a tie"


def reference(q, k, v, scale, causal):
    """Float64 attention: q (B,H,Nq,D), k/v (B,Hkv,Nkv,D) -> out (B,H,Nq,D)."""
    q = q.astype(np.float64)
    k = k.astype(np.float64)
    v = v.astype(np.float64)
    _, n_heads, n_q, _ = q.shape
    n_kv_heads, n_kv = k.shape[1], k.shape[2]
    group = n_heads // n_kv_heads
    # Query head h reads KV head h // group: repeat each KV head group times.
    k = np.repeat(k, group, axis=1)
    v = np.repeat(v, group, axis=1)
    logits = scale * np.einsum("bhid,bhjd->bhij", q, k)
    if causal:
        i = np.arange(n_q)[:, None]
        j = np.arange(n_kv)[None, :]
        visible = j <= (n_kv - n_q) + i  # bottom-right aligned
        logits = np.where(visible, logits, -np.inf)
    logits = logits - logits.max(axis=-1, keepdims=True)
    weights = np.exp(logits)
    weights = weights / weights.sum(axis=-1, keepdims=True)
    return np.einsum("bhij,bhjd->bhid", weights, v)


def make_inputs(c):
    """q, k, v as float32 arrays, drawn from the case's own generator."""
    rng = np.random.default_rng(c["seed"])
    qshape = (c["batch"], c["n_heads"], c["n_q"], c["head_dim"])
    kvshape = (c["batch"], c["n_kv_heads"], c["n_kv"], c["head_dim"])
    q = rng.standard_normal(qshape).astype(np.float32)
    k = rng.standard_normal(kvshape).astype(np.float32)
    v = rng.standard_normal(kvshape).astype(np.float32)
    if c["kind"] == "ties":
        q = make_ties(rng, qshape, c["dtype"])
        k = make_ties(rng, kvshape, c["dtype"])
        v = make_ties(rng, kvshape, c["dtype"])
        for x in (q, k, v):
            check_ties(x, c["dtype"])
    if c["kind"] == "subnormal_v":
        # |v| <= about 2^-17: f16 subnormals (below 2^-14), 2^-24 apart
        v = (v * np.float32(2.0 ** -19)).astype(np.float32)
        assert np.mean(np.abs(v) < 2.0 ** -14) > 0.99
    if c["kind"] == "wide":
        # products stay near 1, magnitudes do not fit f16 (max 65504)
        q = (q * np.float32(1e20)).astype(np.float32)
        k = (k * np.float32(1e-20)).astype(np.float32)
        v = (v * np.float32(1e30)).astype(np.float32)
    if c["kind"] == "overflow":
        q = np.rint(q * np.float32(OVERFLOW_FACTOR)).astype(np.float32)
        k = np.rint(k * np.float32(OVERFLOW_FACTOR)).astype(np.float32)
        # Integer entries: every float32 dot product is exact if this holds.
        bound = float(np.abs(q).max()) * float(np.abs(k).max()) * c["head_dim"]
        assert bound < 2.0 ** 24, c["name"]
    return q, k, v


def write_npy(path, arr, dtype, version):
    """Write arr as dtype (<f4/<f8), C order, with an explicit format version."""
    arr = np.ascontiguousarray(arr, dtype=np.dtype(dtype))
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        np.lib.format.write_array(f, arr, version=version, allow_pickle=False)
    os.replace(tmp, path)
    return os.path.getsize(path)


def fmt_opt(x):
    return "" if x is None else repr(float(x))


def check_case(c):
    assert c["n_heads"] % c["n_kv_heads"] == 0, c["name"]
    assert not c["causal"] or c["n_q"] <= c["n_kv"], c["name"]
    assert min(c["batch"], c["n_heads"], c["n_kv_heads"], c["head_dim"],
               c["n_q"], c["n_kv"]) >= 1, c["name"]


# ---------------------------------------------------------------------------
# Variant, quantized-KV and ragged cases (the manifest columns window,
# softcap, alibi, sinks, head_dim_v, kv_dtype, q_lens, kv_lens).
#
# reference_ext() computes the contract's order plainly in float64, one
# (sequence, head) at a time: s = scale * q.k, softcap c * tanh(s / c),
# minus m_h * |p - j| (ALiBi), the causal (j <= p) and window (p - j < W)
# masks, a softmax whose denominator also holds exp(z_h) for a sink, then the
# weighted sum of v rows (head_dim_v wide). Query i of sequence b sits at
# p = kv_len_b - q_len_b + i. A row with no visible key and no sink is 0.
#
# Inputs: f32 cases store <f4 files, f16 cases <f2 files (exact, so the
# reference is of exactly what the consumer runs). Quantized cases (kv_dtype)
# store k and v unquantized as <f4 and out is the float64 attention of those
# unquantized values: the consumer quantizes them, and the ratio rule against
# its own f32 attention of the dequantized inputs covers the difference. q4_0
# cases plant a +4 in the first element of every block of 32, so that every
# q4_0 scale has the same sign: a dequantizer off by one nibble then shifts
# k and v by a whole scale in the same direction, which no softmax hides.
# With normal inputs the quantization error is of the order of that scale,
# so the broken consumer fails by about 2-4x the tolerance; q4_0_grid_attend
# draws k and v on the q4_0 grid (n - 8) * 0.5, which quantizes exactly, and
# leaves no room at all.
# Ragged cases: q_lens / kv_lens files (<i4 or <i8); the padding past a
# length in q, k, v is NaN (a correct consumer never reads it) and so are
# out's rows past q_lens (not compared).
#
# Each case is checked here against the broken consumers of
# tests/plugins/liar.c: with one variant dropped (window, softcap, alibi,
# sinks), or q4_0 nibbles off by one, the case must fail by a wide margin
# (10x the tolerance, estimated as check computes it), unless the case lists
# the variant in `inert` (window larger than the cache), where it must not
# change at all. The LIES line printed at the end lists, per lie, the cases
# that catch it (tests/test_variants.c holds the same table).
# ---------------------------------------------------------------------------

LIES = ("window", "softcap", "alibi", "sinks", "head_dim_v", "lens", "q4_offset")


def vcase(name, seed, batch, n_heads, n_kv_heads, head_dim, n_q, n_kv, causal,
          dtype="f32", window=0, softcap=0.0, alibi=False, sinks=None, head_dim_v=None,
          kv_dtype=None, q_lens=None, kv_lens=None, lens_dtype="<i4", amp=1.0,
          inert=(), grid=False):
    """One variant case; sinks is a list of n_heads logits, amp multiplies q
    and k (to reach large scores), inert names variants that change nothing,
    grid puts q4_0 k and v exactly on the q4_0 grid."""
    return dict(name=name, seed=seed, batch=batch, n_heads=n_heads, n_kv_heads=n_kv_heads,
                head_dim=head_dim, n_q=n_q, n_kv=n_kv, causal=causal, dtype=dtype,
                window=window, softcap=softcap, alibi=alibi, sinks=sinks,
                head_dim_v=head_dim_v, kv_dtype=kv_dtype, q_lens=q_lens, kv_lens=kv_lens,
                lens_dtype=lens_dtype, amp=amp, inert=set(inert), grid=grid)


VARIANT_CASES = [
    # sliding window: smaller than the cache, larger (changes nothing), 1,
    # and without causal (keys after p stay visible)
    vcase("window_causal", 401, 1, 4, 2, 32, 40, 40, 1, window=16),
    vcase("window_decode", 402, 1, 4, 1, 32, 1, 200, 1, window=64),
    vcase("window_over_cache", 403, 1, 2, 1, 32, 8, 40, 1, window=100, inert=("window",)),
    vcase("window_1", 404, 1, 2, 2, 16, 16, 16, 1, window=1),
    vcase("window_noncausal", 405, 1, 4, 2, 32, 24, 40, 0, window=8),
    # softcap with scores up to about 50
    vcase("softcap_prefill", 406, 1, 4, 2, 64, 12, 32, 1, softcap=20.0, amp=4.0),
    vcase("softcap_decode_mqa", 407, 1, 8, 1, 64, 1, 128, 1, softcap=30.0, amp=4.0),
    # ALiBi, standard slopes 2^(-8h/H)
    vcase("alibi_noncausal", 408, 1, 8, 4, 32, 16, 48, 0, alibi=True),
    vcase("alibi_chunked", 409, 1, 4, 1, 32, 16, 80, 1, alibi=True),
    # sinks: negative ones (felt where a query sees few keys), large ones
    vcase("sinks_negative", 410, 1, 4, 2, 32, 16, 16, 1, sinks=[-0.5, -1.0, -2.0, -4.0]),
    vcase("sinks_large_decode", 411, 1, 4, 4, 32, 1, 64, 1, sinks=[2.0, 5.0, 8.0, 10.0]),
    # head_dim_v: MLA sizes
    vcase("mla_prefill", 412, 1, 2, 1, 192, 16, 32, 1, head_dim_v=128),
    vcase("mla_decode_576", 413, 1, 4, 1, 576, 1, 32, 1, head_dim_v=512),
    vcase("head_dim_v_16", 414, 2, 2, 2, 32, 12, 20, 0, head_dim_v=16),
    # combined
    vcase("combined_gqa", 415, 2, 8, 2, 32, 12, 40, 1, window=24, softcap=30.0, alibi=True,
          sinks=[-1.0, 0.0, 1.0, 2.0, -2.0, 0.5, 1.5, 3.0], amp=3.0),
    vcase("combined_mla_decode", 416, 1, 4, 2, 64, 1, 100, 1, window=32, softcap=20.0,
          sinks=[10.0, 14.0, 16.0, 18.0], head_dim_v=32, amp=3.0),
    vcase("combined_noncausal_mqa", 417, 1, 4, 1, 32, 10, 30, 0, window=12, softcap=15.0,
          alibi=True, sinks=[0.5, 1.0, -0.5, 2.0], amp=3.0),
    # the same in f16
    vcase("f16_window_chunked", 421, 1, 4, 2, 64, 16, 64, 1, dtype="f16", window=20),
    vcase("f16_softcap_decode", 422, 1, 8, 2, 64, 1, 128, 1, dtype="f16", softcap=30.0, amp=4.0),
    vcase("f16_alibi_noncausal", 423, 1, 4, 4, 32, 16, 32, 0, dtype="f16", alibi=True),
    vcase("f16_sinks", 424, 1, 4, 1, 64, 8, 24, 1, dtype="f16", sinks=[-1.0, 0.5, 3.0, -3.0]),
    vcase("f16_mla_decode_576", 425, 1, 4, 1, 576, 1, 48, 1, dtype="f16", head_dim_v=512),
    vcase("f16_combined", 426, 1, 8, 2, 64, 16, 48, 1, dtype="f16", window=16, softcap=25.0,
          alibi=True, sinks=[0.0, 1.0, 2.0, 3.0, -1.0, -2.0, 0.5, 1.5], head_dim_v=32, amp=3.0),
    # quantized KV caches: f32 and f16 queries, prefill and decode, GQA
    vcase("q8_0_prefill", 431, 1, 4, 2, 64, 16, 48, 1, kv_dtype="q8_0"),
    vcase("q8_0_decode_f16", 432, 1, 8, 2, 64, 1, 128, 1, dtype="f16", kv_dtype="q8_0"),
    vcase("q4_0_prefill", 433, 1, 4, 2, 64, 16, 48, 1, kv_dtype="q4_0"),
    vcase("q4_0_decode_f16", 434, 1, 4, 1, 128, 1, 128, 1, dtype="f16", kv_dtype="q4_0"),
    vcase("q4_0_grid_attend", 435, 1, 4, 2, 32, 8, 40, 0, kv_dtype="q4_0", grid=True),
    vcase("fp8_prefill_f16", 436, 1, 4, 2, 64, 24, 24, 1, dtype="f16", kv_dtype="fp8_e4m3"),
    vcase("fp8_decode", 437, 1, 4, 1, 64, 1, 128, 1, kv_dtype="fp8_e4m3"),
    vcase("q8_0_window_sinks_decode", 438, 1, 4, 2, 64, 1, 96, 1, kv_dtype="q8_0", window=32,
          sinks=[1.0, 2.0, -1.0, 3.0]),
    # ragged batches, NaN in the padding
    vcase("ragged_decode", 441, 4, 4, 1, 32, 1, 200, 1, q_lens=[1, 1, 1, 1],
          kv_lens=[1, 17, 64, 200]),
    vcase("ragged_prefill", 442, 3, 4, 2, 32, 16, 48, 1, q_lens=[16, 5, 1], kv_lens=[40, 48, 9],
          lens_dtype="<i8"),
    vcase("f16_ragged_decode", 443, 4, 8, 1, 32, 1, 200, 1, dtype="f16", q_lens=[1, 1, 1, 1],
          kv_lens=[200, 1, 17, 64], lens_dtype="<i8"),
    vcase("ragged_noncausal", 444, 2, 2, 1, 32, 12, 30, 0, q_lens=[12, 3], kv_lens=[7, 30]),
    vcase("ragged_window_sinks", 445, 3, 4, 2, 32, 8, 32, 1, window=16,
          sinks=[0.5, -1.0, 2.0, 1.0], q_lens=[8, 3, 1], kv_lens=[32, 20, 5]),
]

Q4_OUTLIER = 4.0


def alibi_slopes(n_heads):
    """The standard ALiBi slopes m_h = 2^(-8 (h + 1) / H), h = 0 .. H-1."""
    return np.array([2.0 ** (-8.0 * (h + 1) / n_heads) for h in range(n_heads)], dtype=np.float32)


def reference_ext(q, k, v, scale, causal, window=0, softcap=0.0, alibi=None, sinks=None,
                  q_lens=None, kv_lens=None):
    """Float64 attention with every variant; rows past q_lens are NaN."""
    q, k, v = (x.astype(np.float64) for x in (q, k, v))
    batch, n_heads, n_q, _ = q.shape
    n_kv_heads, n_kv, dv = k.shape[1], k.shape[2], v.shape[3]
    out = np.full((batch, n_heads, n_q, dv), np.nan)
    for b in range(batch):
        ql = n_q if q_lens is None else int(q_lens[b])
        kl = n_kv if kv_lens is None else int(kv_lens[b])
        p = (kl - ql + np.arange(ql))[:, None]  # absolute positions of the queries
        j = np.arange(kl)[None, :]
        visible = np.ones((ql, kl), dtype=bool)
        if causal:
            visible &= j <= p
        if window:
            visible &= (p - j) < window
        for h in range(n_heads):
            g = h // (n_heads // n_kv_heads)
            s = scale * np.einsum("id,jd->ij", q[b, h, :ql], k[b, g, :kl])
            if softcap:
                s = softcap * np.tanh(s / softcap)
            if alibi is not None:
                s = s - float(alibi[h]) * np.abs(p - j)
            s = np.where(visible, s, -np.inf)
            m = s.max(axis=1)
            if sinks is not None:
                m = np.maximum(m, float(sinks[h]))
            m = np.where(np.isfinite(m), m, 0.0)  # a row with nothing visible
            e = np.exp(s - m[:, None])
            den = e.sum(axis=1)
            if sinks is not None:
                den = den + np.exp(float(sinks[h]) - m)
            num = np.einsum("ij,jd->id", e, v[b, g, :kl])
            out[b, h, :ql] = np.where(den[:, None] > 0, num / np.where(den > 0, den, 1.0)[:, None], 0.0)
    return out


def f16_round(x):
    return np.asarray(x, dtype=np.float32).astype(np.float16).astype(np.float32)


def fp8_table():
    """The 127 non-negative finite E4M3FN values, indexed by their code."""
    vals = []
    for code in range(0x7F):
        e, m = code >> 3, code & 7
        vals.append(m * 2.0 ** -9 if e == 0 else (8 + m) * 2.0 ** (e - 10))
    return np.array(vals)


def kv_dequantized(x, kv_dtype, nibble_shift=0):
    """What a consumer computes with after storing x (float32, rows of a
    multiple of 32 for the block formats) as kv_dtype: the round trip of
    attn_quant.h. nibble_shift adds to every q4_0 nibble (mod 16)."""
    if kv_dtype == "fp8_e4m3":
        t = fp8_table()
        a = np.minimum(np.abs(x.astype(np.float64)), 448.0)
        hi = np.clip(np.searchsorted(t, a), 1, len(t) - 1)
        lo = hi - 1
        dlo, dhi = a - t[lo], t[hi] - a
        code = np.where(dlo < dhi, lo, np.where(dhi < dlo, hi, np.where(lo % 2 == 0, lo, hi)))
        return (np.sign(x) * t[code]).astype(np.float32)
    blocks = x.reshape(x.shape[:-1] + (x.shape[-1] // 32, 32)).astype(np.float32)
    if kv_dtype == "q8_0":
        d = (np.abs(blocks).max(axis=-1, keepdims=True) / np.float32(127)).astype(np.float32)
        idd = np.where(d != 0, np.float32(1) / np.where(d != 0, d, 1), 0).astype(np.float32)
        v = (blocks * idd).astype(np.float64)
        qv = np.sign(v) * np.floor(np.abs(v) + 0.5)
        return (qv.astype(np.float32) * f16_round(d)).reshape(x.shape)
    assert kv_dtype == "q4_0", kv_dtype
    idx = np.abs(blocks).argmax(axis=-1)[..., None]
    d = (np.take_along_axis(blocks, idx, axis=-1) / np.float32(-8)).astype(np.float32)
    idd = np.where(d != 0, np.float32(1) / np.where(d != 0, d, 1), 0).astype(np.float32)
    v = ((blocks * idd).astype(np.float32) + np.float32(8.5)).astype(np.float32)
    nib = np.minimum(15, np.trunc(v)).astype(np.int64)
    nib = (nib + nibble_shift) % 16
    return ((nib - 8).astype(np.float32) * f16_round(d)).reshape(x.shape)


def make_variant_inputs(c):
    """q, k, v (float32, NaN padding for ragged cases), alibi, sinks, lens."""
    rng = np.random.default_rng(c["seed"])
    dv = c["head_dim_v"] or c["head_dim"]
    q = rng.standard_normal((c["batch"], c["n_heads"], c["n_q"], c["head_dim"])).astype(np.float32)
    k = rng.standard_normal((c["batch"], c["n_kv_heads"], c["n_kv"], c["head_dim"])).astype(np.float32)
    v = rng.standard_normal((c["batch"], c["n_kv_heads"], c["n_kv"], dv)).astype(np.float32)
    if c["amp"] != 1.0:
        q = (q * np.float32(c["amp"])).astype(np.float32)
        k = (k * np.float32(c["amp"])).astype(np.float32)
    if c["grid"]:
        k = ((rng.integers(1, 16, size=k.shape) - 8) * -Q4_OUTLIER / 8).astype(np.float32)
        v = ((rng.integers(1, 16, size=v.shape) - 8) * -Q4_OUTLIER / 8).astype(np.float32)
    if c["kv_dtype"] == "q4_0":
        k[..., ::32] = Q4_OUTLIER
        v[..., ::32] = Q4_OUTLIER
    if c["dtype"] == "f16":
        q = f16_round(q)
        if not c["kv_dtype"]:
            k, v = f16_round(k), f16_round(v)
    alibi = alibi_slopes(c["n_heads"]) if c["alibi"] else None
    sinks = np.array(c["sinks"], dtype=np.float32) if c["sinks"] is not None else None
    q_lens = np.array(c["q_lens"]) if c["q_lens"] is not None else None
    kv_lens = np.array(c["kv_lens"]) if c["kv_lens"] is not None else None
    if q_lens is not None:
        for b in range(c["batch"]):
            q[b, :, q_lens[b]:] = np.nan
            k[b, :, kv_lens[b]:] = np.nan
            v[b, :, kv_lens[b]:] = np.nan
    return q, k, v, alibi, sinks, q_lens, kv_lens


def check_variant_case(c):
    check_case(c)
    assert (c["sinks"] is None) or len(c["sinks"]) == c["n_heads"], c["name"]
    assert (c["q_lens"] is None) == (c["kv_lens"] is None), c["name"]
    if c["kv_dtype"] in ("q8_0", "q4_0"):
        assert c["head_dim"] % 32 == 0 and (c["head_dim_v"] or 32) % 32 == 0, c["name"]
    if c["q_lens"] is not None:
        assert len(c["q_lens"]) == len(c["kv_lens"]) == c["batch"], c["name"]
        for ql, kl in zip(c["q_lens"], c["kv_lens"]):
            assert 1 <= ql <= c["n_q"] and 1 <= kl <= c["n_kv"], c["name"]
            assert not c["causal"] or ql <= kl, c["name"]


def tolerance(c, out, inputs, kw, scale):
    """Per element, what check allows: atol + rtol |out| for f32, plus
    2 x ref_err (the error of the attention of the rounded or dequantized
    inputs) for f16 and quantized cases."""
    if c["dtype"] == "f32" and not c["kv_dtype"]:
        return 1e-4 + 1e-4 * np.abs(out)
    q, k, v = inputs
    if c["kv_dtype"]:
        k, v = kv_dequantized(k, c["kv_dtype"]), kv_dequantized(v, c["kv_dtype"])
    ref_err = np.nanmax(np.abs(reference_ext(q, k, v, scale, c["causal"], **kw) - out))
    return 2.0 * ref_err + 1e-5 + 1e-5 * np.abs(out)


def lie_error(c, lie, inputs, kw, scale, out, tol):
    """max |err| / tol of the consumer that tells the lie, or None where
    the lie is not simulated here (head_dim_v, lens: checked by shape)."""
    q, k, v = inputs
    kw = dict(kw)
    if lie == "q4_offset":
        k = kv_dequantized(k, "q4_0", nibble_shift=1)
        v = kv_dequantized(v, "q4_0", nibble_shift=1)
    else:
        kw[lie] = None if lie in ("alibi", "sinks") else 0
        if c["kv_dtype"]:
            k, v = kv_dequantized(k, c["kv_dtype"]), kv_dequantized(v, c["kv_dtype"])
    got = reference_ext(q, k, v, scale, c["causal"], **kw)
    rows = ~np.isnan(out)
    return float(np.max(np.abs(got[rows] - out[rows]) / tol[rows]))


def case_lies(c):
    """The lies a case is built to catch (the variants it uses, less inert)."""
    uses = {"window": bool(c["window"]), "softcap": bool(c["softcap"]), "alibi": c["alibi"],
            "sinks": c["sinks"] is not None,
            "head_dim_v": bool(c["head_dim_v"]) and c["head_dim_v"] != c["head_dim"],
            "lens": c["q_lens"] is not None, "q4_offset": c["kv_dtype"] == "q4_0"}
    return [x for x in LIES if uses[x] and x not in c["inert"]]


def verify_lies(c, inputs, kw, scale, out):
    """Each lie the case uses must fail it by 10x the tolerance; an inert
    variant must change nothing. Lens: a lying consumer reads NaN."""
    tol = tolerance(c, out, inputs, kw, scale)
    catches = case_lies(c)
    margins = []
    for lie in catches:
        if lie == "lens":
            ql, kl = np.array(c["q_lens"]), np.array(c["kv_lens"])
            # without lengths, some kept query reads a key past kv_lens
            reads_pad = (not c["causal"] and np.any(kl < c["n_kv"])) or any(
                c["n_kv"] - c["n_q"] + ql[b] - 1 >= kl[b] for b in range(c["batch"]))
            assert reads_pad, c["name"]
        elif lie != "head_dim_v":
            r = lie_error(c, lie, inputs, kw, scale, out, tol)
            # one q4_0 nibble is a quantization step: the tolerance (twice the
            # quantization error) is of its order, so 2x is all it can give
            need = 2.0 if lie == "q4_offset" else 10.0
            assert r > need, "%s: ignoring %s gives only %.3g x the tolerance" % (c["name"], lie, r)
            margins.append("%s %.3g" % (lie, r))
    for lie in c["inert"]:
        r = lie_error(c, lie, inputs, kw, scale, out, tol)
        assert r == 0.0, "%s: %s is meant to change nothing (%.3g)" % (c["name"], lie, r)
    return catches, margins


def write_variant_cases(outdir, rows):
    """Write the variant cases' files, append their manifest rows; returns
    the bytes written and prints, per lie, the cases that catch it."""
    names = {r[0] for r in rows}
    caught = {x: [] for x in LIES}
    total = 0
    for c in VARIANT_CASES:
        assert c["name"] not in names, c["name"]
        names.add(c["name"])
        check_variant_case(c)
        q, k, v, alibi, sinks, q_lens, kv_lens = make_variant_inputs(c)
        scale = 1.0 / np.sqrt(c["head_dim"])
        kw = dict(window=c["window"], softcap=c["softcap"], alibi=alibi, sinks=sinks,
                  q_lens=q_lens, kv_lens=kv_lens)
        out = reference_ext(q, k, v, scale, c["causal"], **kw)
        kept = ~np.isnan(out)
        assert np.all(np.isfinite(out[kept])), c["name"]
        catches, margins = verify_lies(c, (q, k, v), kw, scale, out)
        for lie in catches:
            caught[lie].append(c["name"])

        qkv_dtype = "<f2" if c["dtype"] == "f16" else "<f4"
        kv_file_dtype = "<f4" if c["kv_dtype"] else qkv_dtype
        arrays = [("q", q, qkv_dtype), ("k", k, kv_file_dtype), ("v", v, kv_file_dtype),
                  ("out", out, "<f8"), ("alibi", alibi, "<f4"), ("sinks", sinks, "<f4"),
                  ("q_lens", q_lens, c["lens_dtype"]), ("kv_lens", kv_lens, c["lens_dtype"])]
        files, size = {}, 0
        for key, arr, dtype in arrays:
            files[key] = ""
            if arr is not None:
                files[key] = "%s_%s.npy" % (c["name"], key)
                size += write_npy(os.path.join(outdir, files[key]), arr, dtype, (1, 0))
        total += size
        rows.append([c["name"], c["batch"], c["n_heads"], c["n_kv_heads"], c["head_dim"],
                     c["n_q"], c["n_kv"], int(c["causal"]), "", files["q"], files["k"],
                     files["v"], files["out"], "", "", c["dtype"],
                     "" if c["dtype"] == "f32" else "unrounded" if c["kv_dtype"] else "rounded",
                     c["window"] or "", fmt_opt(c["softcap"] or None), files["alibi"],
                     files["sinks"], c["head_dim_v"] or "", c["kv_dtype"] or "",
                     files["q_lens"], files["kv_lens"]])
        lg = margins + [x for x in ("window=%d" % c["window"] if c["window"] else "",
                          "softcap=%g" % c["softcap"] if c["softcap"] else "",
                          "alibi" if c["alibi"] else "", "sinks" if c["sinks"] else "",
                          "head_dim_v=%d" % c["head_dim_v"] if c["head_dim_v"] else "",
                          "kv %s" % c["kv_dtype"] if c["kv_dtype"] else "",
                          "ragged" if c["q_lens"] else "") if x]
        print("%-24s %-4s B=%d H=%-2d Hkv=%-2d D=%-3d Nq=%-3d Nkv=%-3d causal=%d max|out|=%.4g "
              "%7d bytes  [%s]" % (c["name"], c["dtype"], c["batch"], c["n_heads"],
                                   c["n_kv_heads"], c["head_dim"], c["n_q"], c["n_kv"],
                                   c["causal"], float(np.nanmax(np.abs(out))), size, ", ".join(lg)))
    for lie in LIES:
        print("LIES %s: %s" % (lie, " ".join(caught[lie])))
    return total


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        sys.stderr.write("usage: %s OUTDIR   (e.g. datasets/golden)\n" % argv[0])
        return 2
    outdir = argv[1]
    os.makedirs(outdir, exist_ok=True)

    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names)), "case names must be unique"

    rows = []
    total = 0
    for c in CASES:
        check_case(c)
        q, k, v = make_inputs(c)
        scale = c["scale"] if c["scale"] is not None else 1.0 / np.sqrt(c["head_dim"])
        rq, rk, rv = (round_to(x, c["dtype"]) for x in (q, k, v))
        if c["dtype"] == "f32" or c["ref"] == "rounded":
            out = reference(rq, rk, rv, float(scale), c["causal"])
        else:
            out = reference(q, k, v, float(scale), c["causal"])
        if c["in_dtype"] == "<f2" or c["prerounded"]:
            assert c["dtype"] != "bf16" or c["in_dtype"] != "<f2", c["name"]
            q, k, v = rq, rk, rv
        assert out.shape == q.shape and np.all(np.isfinite(out)), c["name"]

        # Largest visible logit, for the summary (shows what overflow_logits does).
        lg = float(scale) * np.einsum("bhid,bhjd->bhij", q.astype(np.float64),
                                      np.repeat(k.astype(np.float64),
                                                c["n_heads"] // c["n_kv_heads"], axis=1))
        if c["causal"]:
            vis = np.arange(c["n_kv"])[None, :] <= (c["n_kv"] - c["n_q"]) + np.arange(c["n_q"])[:, None]
            lg = np.where(vis, lg, -np.inf)
        max_logit = float(lg.max())

        files = {}
        size = 0
        for key, arr, dtype in (("q", q, c["in_dtype"]), ("k", k, c["in_dtype"]),
                                ("v", v, c["in_dtype"]), ("out", out, "<f8")):
            fname = "%s_%s.npy" % (c["name"], key)
            version = c["versions"].get(key, (1, 0))
            size += write_npy(os.path.join(outdir, fname), arr, dtype, version)
            files[key] = fname
        total += size

        rows.append([c["name"], c["batch"], c["n_heads"], c["n_kv_heads"],
                     c["head_dim"], c["n_q"], c["n_kv"], int(c["causal"]),
                     fmt_opt(c["scale"]), files["q"], files["k"], files["v"],
                     files["out"], fmt_opt(c["atol"]), fmt_opt(c["rtol"]), c["dtype"],
                     "" if c["dtype"] == "f32" else c["ref"]] + [""] * 8)
        extras = []
        if c["versions"]:
            extras.append(" ".join("%s:v%d.%d" % (kk, *vv) for kk, vv in sorted(c["versions"].items())))
        if c["in_dtype"] != "<f4":
            extras.append("inputs %s" % c["in_dtype"])
        if c["dtype"] != "f32":
            extras.append("%s, reference of the %s inputs%s" % (
                c["dtype"], c["ref"], ", <f4 pre-rounded" if c["prerounded"] else ""))
        if c["atol"] is not None or c["rtol"] is not None:
            extras.append("atol=%s rtol=%s" % (fmt_opt(c["atol"]), fmt_opt(c["rtol"])))
        print("%-20s B=%d H=%-2d Hkv=%-2d D=%-3d Nq=%-4d Nkv=%-4d causal=%d scale=%.6g "
              "max_logit=%.4g max|out|=%.4g %7d bytes%s"
              % (c["name"], c["batch"], c["n_heads"], c["n_kv_heads"], c["head_dim"],
                 c["n_q"], c["n_kv"], c["causal"], scale, max_logit,
                 float(np.abs(out).max()), size,
                 ("  [" + "; ".join(extras) + "]") if extras else ""))

    total += write_variant_cases(outdir, rows)

    mpath = os.path.join(outdir, "manifest.csv")
    tmp = mpath + ".tmp"
    with open(tmp, "w", newline="", encoding="ascii") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(MANIFEST_COLUMNS)
        w.writerows(rows)
    os.replace(tmp, mpath)
    total += os.path.getsize(mpath)

    cols = [MANIFEST_COLUMNS.index(k) for k in FILE_COLUMNS]
    listed = {r[i] for r in rows for i in cols if r[i]}
    stray = sorted(f for f in os.listdir(outdir) if f.endswith(".npy") and f not in listed)
    if stray:
        print("warning: .npy files not in the manifest: %s" % " ".join(stray), file=sys.stderr)
    print("%d cases, %d bytes written to %s" % (len(rows), total, outdir))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
