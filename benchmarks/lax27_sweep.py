"""The lax27 sweep: generated calls of what session 27 read of jax.lax / jax.scipy.special (associative_scan,
reduce, reduce_window, the convolutions, reduce_precision, the bitwise ops, RoundingMethod, boxcox / boxcox1p /
comb / poch / bernoulli) and of what it refuses, run through jac and through JAX 0.10 itself (float64).

    PYTHONPATH=. /work/benchvenv/bin/python benchmarks/lax27_sweep.py [-k SUBSTRING] [-v] [--seed N]

Each call is judged as lax26's are (``jax16_sweep.judge``: the value, every Jacobian and a VJP by the API, and
``jac eval --json`` in-process, against ``jax.jacrev`` of the snippet's own text): agrees / refused / wrong /
crashed. The arguments are drawn: shapes, axes, reverse, window sizes, strides, padding strings and pairs (negative
ones), dilations, layouts, groups, ties (halves) for max / min, zeros for products, lmbda = 0, k outside [0, N].
A while_loop is not here: JAX's jacrev refuses every while_loop (tests/test_parity_lax27.py compares with jacfwd).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from jax16_sweep import CLASSES, S, judge
from lax26_sweep import _draw, _shape
from paste15_sweep import tally

SCAN_FNS = {"add": ("jnp.add", "lax.add", "lambda a, b: a + b"),
            "mul": ("jnp.multiply", "lax.mul", "lambda a, b: b * a"),
            "max": ("jnp.maximum", "lax.max", "lambda a, b: jnp.maximum(a, b)"),
            "min": ("jnp.minimum", "lax.min", "lambda a, b: lax.min(b, a)"), "logaddexp": ("jnp.logaddexp",)}


def scans(rng):
    shape = _shape(rng, 1, 3)
    axis = int(rng.integers(-len(shape), len(shape)))
    for kind, names in SCAN_FNS.items():
        fn = names[int(rng.integers(len(names)))]
        ties = kind in ("max", "min") and bool(rng.integers(2))
        x = _draw(rng, shape, ties=ties)
        if kind == "mul" and x.size > 1 and rng.integers(2):
            x.reshape(-1)[rng.integers(0, x.size)] = 0.0
        reverse = bool(rng.integers(2))
        code = f"jax.lax.associative_scan({fn}, x, reverse={reverse}, axis={axis})"
        if reverse and axis < 0:  # JAX raises TypeError (lax.rev of a negative axis): jac refuses as JAX
            yield S(code, x=x, refuse=("negative axis",))
            continue
        met = np.moveaxis(x, axis, 0)
        run = (np.maximum if kind == "max" else np.minimum).accumulate(met, axis=0) if kind in ("max", "min") else None
        if run is not None and len(met) > 1 and ((met[1:] == run[:-1]).any() or (met[1:] == run[:-1][::-1]).any()):
            yield S(code, x=x, refuse=("equal elements",)) if not _reverse_free(code, met, kind) else S(code, x=x)
        else:
            yield S(code, x=x)


def _reverse_free(code, met, kind) -> bool:
    """Whether the scan in the code's direction meets no tie (then it is answered)."""
    seq = met[::-1] if "reverse=True" in code else met
    run = (np.maximum if kind == "max" else np.minimum).accumulate(seq, axis=0)
    return not (seq[1:] == run[:-1]).any()


def windows(rng):
    shape = _shape(rng, 1, 3)
    n = len(shape)
    window = tuple(int(rng.integers(1, s + 1)) for s in shape)
    strides = tuple(int(rng.integers(1, 3)) for _ in shape)
    kind = ("lax.add", "lax.max", "lax.min")[int(rng.integers(3))]
    init = {"lax.add": "0.0", "lax.max": "-jnp.inf", "lax.min": "jnp.inf"}[kind]
    padding = ("'VALID'", "'SAME'", "'SAME_LOWER'", "pairs")[int(rng.integers(4))]
    if padding == "pairs":
        padding = str(tuple((int(rng.integers(-1, 3)) if w < s else int(rng.integers(0, 3)), int(rng.integers(0, 3)))
                            for w, s in zip(window, shape)))
    base = tuple(int(rng.integers(1, 3)) for _ in shape)
    dilation = tuple(int(rng.integers(1, 3)) for _ in shape) if kind == "lax.add" else (1,) * n
    x = _draw(rng, shape, ties=kind != "lax.add")
    code = (f"jax.lax.reduce_window(x, {init}, {kind}, {window}, {strides}, {padding}, base_dilation={base}, "
            f"window_dilation={dilation})")
    yield S(code, x=x)
    dims = tuple(sorted(set(int(d) for d in rng.integers(0, n, 2))))
    comp = ("lax.add", "jnp.multiply", "lambda a, b: jnp.maximum(a, b)", "lax.min")[int(rng.integers(4))]
    init = {"lax.add": f"{rng.choice([0.0, 1.5])}", "jnp.multiply": f"{rng.choice([1.0, -2.0])}",
            "lambda a, b: jnp.maximum(a, b)": "-jnp.inf", "lax.min": "jnp.inf"}[comp]
    drops = comp == "jnp.multiply" and init != "1.0"  # JAX's derivative drops the init's factor for some shapes
    yield S(f"jax.lax.reduce(x, {init}, {comp}, {dims})", x=_draw(rng, shape, ties=True),
            refuse=("drops the init's factor",) if drops else ())


def convs(rng):
    nd = int(rng.integers(1, 4))
    spatial = "HWD"[:nd]
    groups = int(rng.integers(1, 3))
    cin, cout = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
    kernel = tuple(int(rng.integers(1, 4)) for _ in range(nd))
    sizes = tuple(int(rng.integers(k, k + 4)) for k in kernel)
    layout = int(rng.integers(3))
    lhs, rhs, out = (("N" + "C" + spatial, "OI" + spatial, "NC" + spatial), ("N" + spatial + "C", spatial + "IO",
                     "N" + spatial + "C"), ("N" + spatial + "C", "O" + spatial + "I", "NC" + spatial))[layout]
    shape_of = lambda spec, dims: tuple(dims[c] for c in spec)
    dims_x = {"N": int(rng.integers(1, 3)), "C": cin, **dict(zip(spatial, sizes))}
    dims_w = {"O": cout, "I": cin // groups, **dict(zip(spatial, kernel))}
    x, w = _draw(rng, shape_of(lhs, dims_x)), _draw(rng, shape_of(rhs, dims_w))
    strides = tuple(int(rng.integers(1, 3)) for _ in range(nd))
    lhs_d = tuple(int(rng.integers(1, 3)) for _ in range(nd))
    rhs_d = tuple(int(rng.integers(1, 3)) for _ in range(nd))
    pads = tuple((int(rng.integers(-1, 3)) if s > 2 else int(rng.integers(0, 3)), int(rng.integers(0, 3)))
                 for s in sizes)
    yield S(f"jax.lax.conv_general_dilated(x, w, {strides}, {pads}, {lhs_d}, {rhs_d}, ('{lhs}', '{rhs}', '{out}'), "
            f"feature_group_count={groups})", x=x, w=w)
    mode = ("'SAME'", "'VALID'", "'SAME_LOWER'")[int(rng.integers(3))]
    yield S(f"jax.lax.conv_general_dilated(x, w, {strides}, {mode}, rhs_dilation={rhs_d}, dimension_numbers=("
            f"'{lhs}', '{rhs}', '{out}'), feature_group_count={groups})", x=x, w=w)
    if layout == 0 and groups == 1:
        yield S(f"jax.lax.conv(x, w, {strides}, {mode})", x=x, w=w)
        yield S(f"jax.lax.conv_with_general_padding(x, w, {strides}, {pads}, {lhs_d}, {rhs_d})", x=x, w=w)


def special(rng):
    x = rng.uniform(0.05, 4, 5)
    lm = rng.choice([0.0, 0.5, -1.0, 2.0, -0.3], 5)
    yield S("jax.scipy.special.boxcox(x, l)", x=x, l=lm)
    yield S("jax.scipy.special.boxcox1p(x, l)", x=x - 0.5, l=lm)
    n = np.round(rng.uniform(-2, 12, 5) * 2) / 2
    k = np.round(rng.uniform(-2, 12, 5) * 2) / 2
    yield S("jax.scipy.special.comb(n, k)", n=n, k=k)
    yield S("jax.scipy.special.comb(n, k, repetition=True)", n=np.abs(n), k=np.abs(k))
    z = rng.uniform(-3, 8, 5)
    z[np.isclose(z, np.round(z)) & (z <= 0)] += 0.25
    m = rng.choice([0.0, 1.0, 0.5, -0.7, 2.5], 5)
    bad = ~np.isfinite(np.asarray([_poch(a, b) for a, b in zip(z, m)]))
    yield S("jax.scipy.special.poch(z, m)", z=z, m=m, refuse=("pole",) if bad.any() else ())
    yield S(f"jax.scipy.special.bernoulli({int(rng.integers(0, 40))}) * x", x=np.array(rng.standard_normal()))


def _poch(z, m):
    import math
    try:
        return math.gamma(z + m) / math.gamma(z)
    except (ValueError, OverflowError, ZeroDivisionError):
        return math.nan


def bits(rng):
    a = rng.integers(-100, 100, 4).tolist()
    s = rng.integers(-2, 40, 4).tolist()
    i32 = lambda v: f"jnp.array({v}, dtype=jnp.int32)"
    for op in ("bitwise_and", "bitwise_or", "bitwise_xor"):
        yield S(f"jax.lax.{op}({i32(a)}, {i32(s)}) * x", x=rng.standard_normal(4))
    for op in ("shift_left", "shift_right_logical", "shift_right_arithmetic"):
        yield S(f"jax.lax.{op}({i32(a)}, {i32(s)}) * x", x=rng.standard_normal(4) * 1e-9)
    for op in ("bitwise_not", "population_count", "clz"):
        yield S(f"jax.lax.{op}({i32(a)}) * x", x=rng.standard_normal(4))
    h = np.round(rng.standard_normal(4) * 4) / 2
    member = ("TO_NEAREST_EVEN", "AWAY_FROM_ZERO")[int(rng.integers(2))]
    yield S(f"jax.lax.round(h, jax.lax.RoundingMethod.{member}) * x", h=h, x=rng.standard_normal(4))
    yield S("jax.lax.reduce_precision(x, 11, 52) * x", x=rng.standard_normal(4))


def refusals(rng):
    x = rng.standard_normal(4)
    A = rng.standard_normal((3, 4))
    yield S("jax.lax.associative_scan(lambda a, b: a - b, x)", x=x, refuse=("JAX combines the elements in a tree",))
    yield S("jax.lax.reduce(x, -2.0, jnp.multiply, (2,))", x=np.array([[[1.5, 1.0]], [[-0.5, 1.0]]]),
            refuse=("drops the init's factor",))  # JAX's jacrev here is jnp.prod's: its own value's is -2 times it
    yield S("jax.lax.associative_scan(jnp.maximum, x)", x=np.array([1.0, 2.0, 2.0, 0.0]), refuse=("equal elements",))
    yield S("jax.lax.associative_scan(jnp.multiply, x)", x=np.array([1.0, np.inf, 0.0, 2.0]), refuse=("infinite",))
    yield S("jax.lax.reduce_window(x, 0., jnp.add, (2, 2), (1, 1), 'VALID')", x=A,
            refuse=("only with computation lax.add",))
    yield S("jax.lax.reduce_window(x, 1., lax.mul, (2, 2), (1, 1), 'VALID')", x=A,
            refuse=("only with computation lax.add",))
    yield S("jax.lax.reduce_window(x, -jnp.inf, lax.max, (2, 2), (1, 1), 'VALID', window_dilation=(2, 1))", x=A,
            refuse=("NotImplementedError",))
    yield S("jax.lax.while_loop(lambda v: v.sum() < 3, lambda v: v * 2, x)", x=np.abs(x) + 0.1,
            refuse=("condition of the inputs' values", "fori_loop"))
    yield S("jax.grad(lambda t: jax.lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * 2.0), (0, t))[1]"
            ".sum())(x)", x=x, refuse=("Reverse-mode differentiation does not work",))
    yield S("jax.lax.bitwise_and(x, 3)", x=x, refuse=("TypeError",))
    yield S("jax.lax.reduce_precision(x, 8, 7)", x=x, refuse=("narrower format",))
    rng.standard_normal((1, 3, 3, 1)), rng.standard_normal((2, 2, 1, 1))  # (conv_transpose's: read in session 28)
    yield S("jax.lax.scatter_apply(x, i, u, dn)", x=x, refuse=("x.at[idx]",))  # scatter_add: read in session 28
    rng.standard_normal((1, 2, 1, 3))  # (dot_product_attention's q, refused until session 28: lax28_sweep.py)
    yield S("jax.scipy.special.poch(z, m)", z=np.array([-1.0, 2.0]), m=np.array([0.0, 1.0]), refuse=("pole",))


GENERATORS = (scans, windows, convs, special, bits)


def collection(seed: int = 27, rounds: int = 6) -> list:
    rng = np.random.default_rng(seed)
    out = [s for _ in range(rounds) for g in GENERATORS for s in g(rng)]
    return out + list(refusals(rng))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-k", default="")
    parser.add_argument("-v", action="store_true")
    parser.add_argument("--seed", type=int, default=27)
    args = parser.parse_args(argv)
    return tally([s for s in collection(args.seed) if args.k in s.code], judge, "calls", args.v, inputs=True,
                 classes=CLASSES)


if __name__ == "__main__":
    sys.exit(main())
