"""The lax28 sweep: generated calls of what session 28 read of JAX (jax.nn.dot_product_attention, ...) and of what
it refuses, run through jac and through JAX 0.10 itself (float64).

    PYTHONPATH=. /work/benchvenv/bin/python benchmarks/lax28_sweep.py [-k SUBSTRING] [-v] [--seed N]

Each call is judged as lax27's are (``jax16_sweep.judge``: the value, every Jacobian and a VJP by the API, and
``jac eval --json`` in-process, against ``jax.jacrev`` of the snippet's own text): agrees / refused / wrong /
crashed. The arguments are drawn: layouts with and without the batch axis, grouped heads, biases and masks
broadcast along any axis, causal and window masks, sequence lengths (rows masked entirely among them).

dot_product_attention is judged at tol 1e-6: JAX rounds the logits to float32 before its softmax even for float64
inputs (jac computes in --dtype); tests/test_parity_jax28.py compares it at 1e-10 with the same computation
written out in float64.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from jax16_sweep import CLASSES, STRUCTURAL, S, judge
from paste15_sweep import tally

ATTENTION_TOL = 1e-6  # JAX's float32 softmax (the values are O(1))


def attention(rng):
    b, t, s, k, g, h = (int(rng.integers(1, n)) for n in (3, 4, 5, 3, 3, 4))
    n = k * g
    batched = bool(rng.integers(2))
    lead = (b,) if batched else ()
    q, key, v = (rng.standard_normal(lead + shape) for shape in ((t, n, h), (s, k, h), (s, k, h)))
    kw = []
    inputs = {"q": q, "k": key, "v": v}
    if rng.integers(2):
        inputs["bias"] = rng.standard_normal(tuple(int(d) if rng.integers(2) else 1 for d in (b, n, t, s)))
        kw.append("bias=bias")
    if rng.integers(2):
        inputs["m"] = rng.standard_normal(tuple(int(d) if rng.integers(2) else 1 for d in (b, 1, t, s)))
        kw.append("mask=m > 0.3")
    if rng.integers(2):
        kw.append("is_causal=True")
    if rng.integers(3) == 0:
        kw.append(f"local_window_size={int(rng.integers(0, 3))}" if rng.integers(2) else
                  f"local_window_size=({int(rng.integers(0, 3))}, {int(rng.integers(0, 3))})")
    if rng.integers(2):
        kw.append(f"scale={float(np.round(rng.uniform(0.1, 2), 2))}")
    if batched and rng.integers(3) == 0:
        lengths = [int(i) for i in rng.integers(0, t + 1, size=b)]
        kw.append(f"query_seq_lengths=jnp.array({lengths}, dtype=jnp.int32)")
    if batched and rng.integers(3) == 0:
        lengths = [int(i) for i in rng.integers(0, s + 1, size=b)]
        kw.append(f"key_value_seq_lengths=jnp.array({lengths}, dtype=jnp.int32)")
    call = f"jax.nn.dot_product_attention(q, k, v{''.join(', ' + w for w in kw)})"
    rows = b if batched else 1  # a bias or mask of b rows beside unbatched arrays: JAX raises TypeError too
    wider = any(inputs[name].shape[0] not in (1, rows) for name in ("bias", "m") if name in inputs)
    yield S(call, tol=ATTENTION_TOL, refuse=("does not broadcast",) if wider else (), **inputs)
    if rng.integers(3) == 0:
        yield S(f"jax.nn.dot_product_attention(q, k, v, return_residual=True)[{int(rng.integers(2))}]",
                tol=ATTENTION_TOL, q=q, k=key, v=v)


GATHER_MODES = ("", ", mode='clip'", ", mode='fill'", ", mode=lax.GatherScatterMode.FILL_OR_DROP",
                ", mode='fill', fill_value=-2.5", ", mode='promise_in_bounds'")
SCATTERS = ("scatter", "scatter_add", "scatter_sub", "scatter_mul", "scatter_min", "scatter_max")
CLIP_NAN = ("JAX's scatter_min / scatter_max JVP under mode='clip' is NaN where the result does not depend on an "
            "update; jac's derivative there is 0 (central differences)")


def _windows(rng, shape):
    """A window's dimension numbers over ``shape``: the axes mapped by the index vector (in a drawn order), the
    axes collapsed (size 1), the window sizes, and starts some of which are out of bounds."""
    rank = len(shape)
    mapped = [int(d) for d in rng.permutation(rank)[:int(rng.integers(1, rank + 1))]]
    collapsed = sorted(d for d in mapped if rng.integers(2))
    sizes = [1 if d in collapsed else int(rng.integers(1, shape[d] + 1)) for d in range(rank)]
    batch = tuple(int(n) for n in rng.integers(1, 4, size=int(rng.integers(1, 3))))
    upper = np.array([shape[d] - sizes[d] for d in mapped])
    idx = rng.integers(0, upper + 1, size=batch + (len(mapped),))
    if rng.integers(3) == 0:  # out of bounds: past the end, or negative
        idx.reshape(-1, len(mapped))[0] = np.where(rng.integers(2, size=len(mapped)), upper + rng.integers(1, 3),
                                                   -rng.integers(1, 3, size=len(mapped)))
    return mapped, collapsed, sizes, idx


def _window_positions(rng, out_rank, count):
    return tuple(sorted(int(p) for p in rng.permutation(out_rank)[:count]))


def gathers(rng):
    shape = tuple(int(n) for n in rng.integers(1, 5, size=int(rng.integers(1, 4))))
    mapped, collapsed, sizes, idx = _windows(rng, shape)
    kept = len(shape) - len(collapsed)
    offset = _window_positions(rng, idx.ndim - 1 + kept, kept)
    dn = (f"lax.GatherDimensionNumbers(offset_dims={offset}, collapsed_slice_dims={tuple(collapsed)}, "
          f"start_index_map={tuple(mapped)})")
    mode = GATHER_MODES[int(rng.integers(len(GATHER_MODES)))]
    out = _out_of_bounds(shape, mapped, sizes, idx)
    refuse = ("out of bounds",) if out and ("promise" in mode or mode == "") else ()
    yield S(f"lax.gather(x, jnp.array({idx.tolist()}), {dn}, {tuple(sizes)}{mode})", refuse=refuse,
            x=rng.standard_normal(shape))
    if len(shape) >= 2:
        axes = tuple(sorted(int(d) for d in rng.permutation(len(shape))[:int(rng.integers(1, len(shape) + 1))]))
        idxs = tuple(rng.integers(-6, 6, size=3).tolist() for _ in axes)
        yield S(f"lax.index_take(x, ({', '.join(f'jnp.array({i})' for i in idxs)},), {axes})",
                x=rng.standard_normal(shape))


def _out_of_bounds(shape, mapped, sizes, idx) -> bool:
    upper = np.array([shape[d] - sizes[d] for d in mapped])
    return bool(((idx < 0) | (idx > upper)).any())


def scatters(rng):
    shape = tuple(int(n) for n in rng.integers(1, 5, size=int(rng.integers(1, 4))))
    mapped, collapsed, sizes, idx = _windows(rng, shape)
    kept = [d for d in range(len(shape)) if d not in collapsed]
    window = _window_positions(rng, idx.ndim - 1 + len(kept), len(kept))
    updates = [0] * (idx.ndim - 1 + len(kept))
    batch = iter(idx.shape[:-1])
    for p in range(len(updates)):
        updates[p] = sizes[kept[window.index(p)]] if p in window else next(batch)
    if rng.integers(2):  # a repeated window
        flat = idx.reshape(-1, len(mapped))
        flat[-1] = flat[0]
    fname = SCATTERS[int(rng.integers(len(SCATTERS)))]
    dn = (f"lax.ScatterDimensionNumbers(update_window_dims={window}, inserted_window_dims={tuple(collapsed)}, "
          f"scatter_dims_to_operand_dims={tuple(mapped)})")
    mode = ("", ", mode='clip'", ", mode='drop'", ", mode='promise_in_bounds'")[int(rng.integers(4))]
    ties = fname in ("scatter_min", "scatter_max") and bool(rng.integers(2))
    x, u = _draw(rng, shape, ties), _draw(rng, tuple(updates), ties)
    code = f"lax.{fname}(x, jnp.array({idx.tolist()}), u, {dn}{mode})"
    out = _out_of_bounds(shape, mapped, sizes, idx)
    targets = _targets(shape, mapped, sizes, idx, "clip" in mode)
    refuse = ("out of bounds",) if out and "promise" in mode else \
        ("more than once",) if fname == "scatter" and len(set(targets)) < len(targets) else ()
    differs = CLIP_NAN if "clip" in mode and fname in ("scatter_min", "scatter_max") else ""
    yield S(code, refuse=refuse, differs=differs, x=x, u=u)


def _targets(shape, mapped, sizes, idx, clip) -> list:
    """The starts of the windows written (clamped, or those in bounds): a repeat is a start written twice."""
    upper = np.array([shape[d] - sizes[d] for d in mapped])
    rows = idx.reshape(-1, len(mapped))
    if clip:
        return [tuple(r) for r in np.clip(rows, 0, upper)]
    return [tuple(r) for r in rows if ((r >= 0) & (r <= upper)).all()]


def _draw(rng, shape, ties):
    x = rng.standard_normal(shape)
    return np.round(x) if ties else x


LAYOUTS = {1: (("NHC", "HIO", "NHC"), ("NCH", "OIH", "NCH"), ("NHC", "OIH", "NCH")),
           2: (("NHWC", "HWIO", "NHWC"), ("NCHW", "OIHW", "NCHW"), ("NHWC", "OIWH", "NCHW")),
           3: (("NHWDC", "HWDIO", "NHWDC"), ("NCDHW", "OIDHW", "NCDHW"))}


def _laid_out(spec, sizes):
    """The shape of an array laid out by ``spec`` from its N/C (O/I) and spatial sizes (in the spec's spatial order
    of the rhs)."""
    return tuple(sizes[c] for c in spec)


def convs(rng):
    n = int(rng.integers(1, 4))
    default = rng.integers(3) == 0
    specs = LAYOUTS[n][0] if default else LAYOUTS[n][int(rng.integers(len(LAYOUTS[n])))]
    spatial = [c for c in specs[1] if c not in "OI"]
    sizes = {"N": int(rng.integers(1, 3)), "C": int(rng.integers(1, 3)), "O": int(rng.integers(1, 3))}
    sizes["I"] = sizes["C"]
    space = {c: int(rng.integers(2, 5)) for c in spatial}
    kernel = {c: int(rng.integers(1, 4)) for c in spatial}
    x_shape = _laid_out(specs[0], {**sizes, **space})
    w_shape = _laid_out(specs[1], {**sizes, **kernel})
    strides = tuple(int(s) for s in rng.integers(1, 4, size=n))
    kind = int(rng.integers(3))
    padding = ("'SAME'", "'VALID'", str(tuple((int(lo), int(hi)) for lo, hi in rng.integers(0, 3, size=(n, 2)))))[kind]
    extra = "" if default else f", dimension_numbers={specs}"
    if rng.integers(3) == 0:
        extra += f", rhs_dilation={tuple(int(d) for d in rng.integers(1, 3, size=n))}"
    if rng.integers(3) == 0:
        extra += ", transpose_kernel=True"
        w_shape = _laid_out(specs[1], {**sizes, "O": sizes["C"], "I": sizes["O"], **kernel})
    if kind == 2 and rng.integers(2):
        extra += ", use_consistent_padding=True"
    pairs = eval(padding) if kind == 2 else None  # noqa: S307 - the pairs drawn above
    dilation = eval(extra.split("rhs_dilation=")[1].split(")")[0] + ")") if "rhs_dilation" in extra else (1,) * n
    extent = [(kernel[c] - 1) * d + 1 for c, d in zip(spatial, dilation)]
    if pairs and "consistent" in extra:  # the forward conv's padding: JAX pads by extent - p - 1 on each side
        pairs = tuple((e - lo - 1, e - hi - 1) for (lo, hi), e in zip(pairs, extent))
    short = kind == 2 and any(
        (space[c] - 1) * st + 1 + lo + hi < e for c, st, (lo, hi), e in zip(spatial, strides, pairs, extent))
    pairs = eval(padding) if kind == 2 else None  # noqa: S307
    yield S(f"lax.conv_transpose(x, w, {strides}, {padding}{extra})", x=rng.standard_normal(x_shape),
            w=rng.standard_normal(w_shape), refuse=("kernel spans",) if short else ())
    filt = tuple(kernel[c] for c in spatial)
    patches = f", dimension_numbers={specs}"  # (None is NCHW for the patches, not conv_transpose's NHWC)
    short = kind != 0 and any(space[c] + (pairs[i][0] + pairs[i][1] if pairs else 0) < kernel[c]
                              for i, c in enumerate(spatial))  # JAX gives an empty result; F.conv (and jac) refuse
    yield S(f"lax.conv_general_dilated_patches(x, {filt}, {strides}, {padding}{patches})",
            x=rng.standard_normal(x_shape), refuse=("kernel spans",) if short else ())
    shape = f"({', '.join(map(str, x_shape))},), ({', '.join(map(str, w_shape))},)".replace(",)", ")")
    yield S(f"jnp.asarray(lax.conv_general_shape_tuple({shape}, {strides}, {padding}, {specs}), dtype=float)")
    yield S(f"jnp.asarray(lax.conv_transpose_shape_tuple({shape}, {strides}, {padding}, {specs}), dtype=float)")
    yield S(f"jnp.asarray(lax.padtype_to_pads({tuple(space.values())}, {tuple(kernel.values())}, {strides}, "
            f"{('SAME', 'VALID', 'SAME_LOWER')[int(rng.integers(3))]!r}), dtype=float)")


def specials(rng):
    x = rng.standard_normal(5) * 3
    x[int(rng.integers(5))] = (0.0, -0.0, 1e-8, 40.0)[int(rng.integers(4))]
    for name in ("expi", "exp1", "dawsn"):
        yield S(f"jax.scipy.special.{name}(x)", x=x, differs=STRUCTURAL)  # exp1(x < 0), expi(0): NaN / inf


def refusals(rng):
    q = rng.standard_normal((1, 2, 2, 3))
    yield S("jax.nn.dot_product_attention(q, q, q, mask=q[..., :1] * 0 + 1)", q=q, refuse=("mask must be boolean",))
    yield S("jax.nn.dot_product_attention(q, q[:, :, :1], q)", q=q, refuse=("share their shape",))
    yield S("jax.nn.dot_product_attention(q, q, q, implementation='cudnn')", q=q, refuse=("GPUs",))


GENERATORS = (attention, gathers, scatters, convs)
SPECIAL_ROUNDS = 2  # specials drawn apart (their own generator, so the others' draws stay as recorded in RESULTS.md)


def collection(seed: int = 28, rounds: int = 12) -> list:
    rng = np.random.default_rng(seed)
    out = [s for _ in range(rounds) for g in GENERATORS for s in g(rng)]
    special = np.random.default_rng(seed + 1)
    return out + list(refusals(rng)) + [s for _ in range(SPECIAL_ROUNDS) for s in specials(special)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-k", default="")
    parser.add_argument("-v", action="store_true")
    parser.add_argument("--seed", type=int, default=28)
    parser.add_argument("--rounds", type=int, default=12)
    args = parser.parse_args(argv)
    return tally([s for s in collection(args.seed, args.rounds) if args.k in s.code], judge, "calls", args.v, inputs=True,
                 classes=CLASSES)


if __name__ == "__main__":
    sys.exit(main())
