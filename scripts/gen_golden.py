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
    dtype,ref_inputs

  scale       empty means 1/sqrt(head_dim); otherwise the value to use.
  atol, rtol  empty means the consumer's default tolerance (for f16/bf16: the
              rounding floor of the ratio rule).
  q, k, v, out  .npy file names, relative to the manifest's directory.
  dtype       f32, f16 or bf16: the storage type of q, k, v (and the KV cache)
              that the consumer rounds the inputs to before running them.
  ref_inputs  informational (attnbench ignores it): "rounded" when out is the
              attention of the inputs after rounding to dtype, "unrounded"
              when it is the attention of the f32 values in the files.

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
]


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
                     "" if c["dtype"] == "f32" else c["ref"]])
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

    mpath = os.path.join(outdir, "manifest.csv")
    tmp = mpath + ".tmp"
    with open(tmp, "w", newline="", encoding="ascii") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(MANIFEST_COLUMNS)
        w.writerows(rows)
    os.replace(tmp, mpath)
    total += os.path.getsize(mpath)

    listed = {r[i] for r in rows for i in (9, 10, 11, 12)}
    stray = sorted(f for f in os.listdir(outdir) if f.endswith(".npy") and f not in listed)
    if stray:
        print("warning: .npy files not in the manifest: %s" % " ".join(stray), file=sys.stderr)
    print("%d cases, %d bytes written to %s" % (len(rows), total, outdir))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
