"""The lax26 sweep: generated calls of the jax.lax / jax.nn / jax.scipy.special names session 26 added, with random arguments, run
through jac and through JAX 0.10 itself (float64).

    PYTHONPATH=. /work/benchvenv/bin/python benchmarks/lax26_sweep.py [-k SUBSTRING] [-v] [--seed N]

Each call is judged as jax16's snippets are (``jax16_sweep.judge``: the value, every Jacobian and a VJP by the
API, and ``jac eval --json`` in-process, against ``jax.jacrev`` of the snippet's own text): agrees / refused /
wrong / crashed. The arguments are drawn: shapes, axes, offsets past either end (dynamic_slice's clamping),
negative and interior padding, ties and NaN for the sorts, integer ``which`` past the cases for select_n, halves
for round. What JAX itself refuses (a slice past the end) jac must refuse too: such a call is a ``refuse=`` snippet.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from jax16_sweep import CLASSES, STRUCTURAL, S, judge
from paste15_sweep import tally


def _shape(rng, ndim_lo=1, ndim_hi=3):
    return tuple(int(n) for n in rng.integers(1, 5, size=rng.integers(ndim_lo, ndim_hi + 1)))


def _draw(rng, shape, ties=False, special=False):
    x = rng.standard_normal(shape)
    if ties and x.size > 1:
        x = np.round(x * 2) / 2  # halves: equal elements
    if special and x.size > 2:
        flat = x.reshape(-1)
        flat[rng.integers(0, flat.size)] = rng.choice([np.nan, np.inf, -np.inf, 0.0, -0.0])
    return x


def slices(rng):
    shape = _shape(rng)
    starts = tuple(int(rng.integers(0, n + 1)) for n in shape)
    starts = tuple(min(s, n - 1) for s, n in zip(starts, shape))
    limits = tuple(int(rng.integers(s + 1, n + 1)) for s, n in zip(starts, shape))
    strides = tuple(int(rng.integers(1, 3)) for _ in shape)
    x = _draw(rng, shape)
    axis = int(rng.integers(-len(shape), len(shape)))
    n = shape[axis]
    start = int(rng.integers(-n, n + 1))
    yield S(f"jax.lax.slice(x, {starts}, {limits}, {strides})", x=x)
    yield S(f"jax.lax.slice_in_dim(x, {min(start, n - 1)}, None, 1, {axis})", x=x)
    yield S(f"jax.lax.index_in_dim(x, {int(rng.integers(-n, n))}, {axis}, {bool(rng.integers(2))})", x=x)
    yield S(f"jax.lax.rev(x, {tuple(sorted(set(int(d) for d in rng.integers(0, len(shape), 2))))})", x=x)


def dynamic(rng):
    shape = _shape(rng)
    x = _draw(rng, shape)
    sizes = tuple(int(rng.integers(1, n + 1)) for n in shape)  # (the CLI binds no empty arrays)
    starts = tuple(int(rng.integers(-2 * n - 1, 2 * n + 2)) for n in shape)  # past either end: clamped
    yield S(f"jax.lax.dynamic_slice(x, {starts}, {sizes})", x=x)
    u = _draw(rng, sizes)
    yield S(f"jax.lax.dynamic_update_slice(x, u, {starts})", x=x, u=u)
    axis = int(rng.integers(0, len(shape)))
    n = shape[axis]
    s = int(rng.integers(-2 * n, 2 * n + 1))
    yield S(f"jax.lax.dynamic_slice_in_dim(x, {s}, {int(rng.integers(1, n + 1))}, {axis})", x=x)
    yield S(f"jax.lax.dynamic_index_in_dim(x, {s}, {axis}, {bool(rng.integers(2))})", x=x)
    row = list(shape)
    row[axis] = int(rng.integers(1, n + 1))
    yield S(f"jax.lax.dynamic_update_slice_in_dim(x, u, {s}, {axis})", x=x, u=_draw(rng, tuple(row)))
    row[axis] = 1
    yield S(f"jax.lax.dynamic_update_index_in_dim(x, u, {s}, {axis})", x=x, u=_draw(rng, tuple(row)))


def pads(rng):
    shape = _shape(rng)
    x = _draw(rng, shape)
    config = []
    for n in shape:
        interior = int(rng.integers(0, 3))
        grown = n + max(n - 1, 0) * interior
        lo = int(rng.integers(-(grown // 2), 3))
        hi = int(rng.integers(-((grown + lo - 1) // 2), 3))  # at least one element left (the CLI binds no empties)
        config.append((lo, hi, interior))
    value = float(rng.choice([0.0, -1.5, 2.0]))
    yield S(f"jax.lax.pad(x, {value}, {config})", x=x)


def shapes(rng):
    shape = _shape(rng, 1, 3)
    x = _draw(rng, shape)
    ndim = len(shape) + 1
    yield S(f"jax.lax.expand_dims(x, ({int(rng.integers(-ndim, ndim))},))", x=x)
    ones = tuple(i for i, n in enumerate(shape) if n == 1)
    if ones:
        yield S(f"jax.lax.squeeze(x, {ones})", x=x)
    yield S(f"jax.lax.broadcast(x, (2,))", x=x)
    yield S(f"jax.lax.broadcast_in_dim(x, (2,) + {shape}, {tuple(range(1, ndim))})", x=x)
    yield S(f"jax.lax.broadcast_to_rank(x, {ndim + 1})", x=x)
    yield S(f"jax.lax.collapse(x, 0, {int(rng.integers(1, len(shape) + 1))})", x=x)
    yield S(f"jax.lax.tile(x, {tuple(int(r) for r in rng.integers(1, 3, len(shape)))})", x=x)
    yield S(f"jax.lax.reduce_prod(x, {tuple(sorted(set(int(d) for d in rng.integers(0, len(shape), 2))))})",
            x=_draw(rng, shape, ties=True))


def elementwise(rng):
    shape = _shape(rng, 1, 2)
    x, y = _draw(rng, shape, special=True), _draw(rng, shape)
    for op in ("eq", "ne", "lt", "le", "gt", "ge"):
        yield S(f"jnp.where(jax.lax.{op}(x, y), x, y)", x=_draw(rng, shape, ties=True), y=_draw(rng, shape, ties=True))
    halves = np.round(rng.standard_normal(shape) * 4) / 2
    yield S(f"jax.lax.round(h, {int(rng.integers(2))}) * x", h=halves, x=x)
    odd = STRUCTURAL if not np.isfinite(x).all() else ""
    yield S("jax.lax.div(x, y)", x=x, y=y, differs=odd)
    i, j = rng.integers(-9, 10, shape).tolist(), rng.choice([-3, -2, 2, 3], shape).tolist()
    yield S(f"jax.lax.div(jnp.array({i}), jnp.array({j})) * x", x=x)  # integers: rounded toward zero
    which = rng.integers(0, 3, shape).tolist()
    yield S(f"jax.lax.select_n(jnp.array({which}), x, y, x * y)", x=x, y=y, differs=odd)
    yield S("jax.lax.select_n(w.astype(jnp.int32), x, y)", w=rng.integers(0, 2, shape) * 1.0, x=x, y=y)
    yield S(f"jax.lax.select_n(x > 0, x, y)", x=x, y=y)
    yield S(f"jax.lax.optimization_barrier(x) * 2.0", x=x)


INFINITE = ("by an infinite element jac's derivative is NaN and by the others of its prefix 0 (the limit); JAX's "
            "associative scan of logaddexp gives finite numbers there (1, e^(x_i - x_j))")


def sorts(rng):
    shape = _shape(rng, 1, 2)
    x = _draw(rng, shape, ties=bool(rng.integers(2)), special=bool(rng.integers(2)))
    y = _draw(rng, shape)
    axis = int(rng.integers(0, len(shape)))
    yield S(f"jax.lax.sort(x, {axis})", x=x)
    yield S(f"jax.lax.sort((x, y), {axis}, num_keys={int(rng.integers(1, 3))})[1]", x=x, y=y)
    yield S(f"jax.lax.sort_key_val(x, y, {axis})[1]", x=x, y=y)
    k = int(rng.integers(1, shape[-1] + 1))
    yield S(f"jax.lax.top_k(x, {k})[0]", x=x)
    yield S(f"jax.lax.top_k(x, {k})[1] * 1.0", x=x)
    yield S(f"jax.lax.argmax(x, {axis}, jnp.int32) * 1.0", x=x)
    yield S(f"jax.lax.argmin(x, {axis}, jnp.int32) * 1.0", x=x)
    yield S(f"jax.lax.cumlogsumexp(x, {axis}, reverse={bool(rng.integers(2))})", x=x,
            differs=INFINITE if np.isinf(x).any() else "")


def products(rng):
    b, m, k, n = (int(v) for v in rng.integers(1, 4, 4))
    yield S("jax.lax.dot_general(x, y, (((1,), (0,)), ((), ())))", x=_draw(rng, (m, k)), y=_draw(rng, (k, n)))
    yield S("jax.lax.dot_general(x, y, (((2,), (1,)), ((0,), (0,))))", x=_draw(rng, (b, m, k)), y=_draw(rng, (b, k, n)))
    yield S("jax.lax.dot_general(x, y, (((0,), (1,)), ((), ())))", x=_draw(rng, (k, m)), y=_draw(rng, (n, k)))
    yield S("jax.lax.dot_general(x, y, (((1,), (2,)), ((2,), (0,))))", x=_draw(rng, (m, k, b)),
            y=_draw(rng, (b, n, k)))


def nn(rng):
    x = np.abs(rng.standard_normal(5)) * rng.choice([0.01, 1.0, 5.0])
    x[0] = rng.choice([0.0, np.log(2.0), 1e-12, 40.0])
    yield S("jax.nn.log1mexp(x)", x=x, differs=STRUCTURAL if x[0] == 0 else "")
    z = rng.standard_normal((3, 4))
    yield S(f"jax.nn.logmeanexp(x, axis={int(rng.integers(-2, 2))}, keepdims={bool(rng.integers(2))})", x=z)
    yield S("jax.nn.logmeanexp(x)", x=z)
    yield S("jax.nn.identity(x) * x", x=z)


def special(rng):
    x = rng.uniform(-6, 12, 6)
    x[np.isclose(x, np.round(x)) & (x <= 0)] += 0.25  # away from the poles (there JAX's jacrev spreads NaN)
    for f in ("gamma", "gammasgn", "loggamma", "factorial"):
        yield S(f"jax.scipy.special.{f}(x)" + (" * x" if f == "gammasgn" else ""), x=x)
    p = np.abs(x) + 0.1
    yield S(f"jax.lax.igamma({rng.uniform(0.2, 4):.3f}, x) + jax.lax.igammac({rng.uniform(0.2, 4):.3f}, x)", x=p)
    yield S(f"jax.lax.polygamma({float(rng.integers(0, 3))}, x)", x=p)
    yield S("jax.lax.bessel_i0e(x) + jax.lax.bessel_i1e(x)", x=x)
    yield S("jax.lax.convert_element_type(x, jnp.int32) * x", x=x)
    a, b = np.exp(rng.uniform(-2, 6, 5)), np.exp(rng.uniform(-2, 6, 5))
    yield S("jax.scipy.special.betaln(a, b)", a=a, b=b)
    yield S("jax.scipy.special.beta(a, b)", a=a / 20, b=b / 20)


def refusals(rng):
    x = rng.standard_normal(4)
    yield S("jax.lax.slice(x, (1,), (5,))", x=x, refuse=("0 <= start <= limit <= size",))
    yield S("jax.lax.squeeze(x, (0,))", x=x, refuse=("size 1",))
    yield S("jax.lax.psum(x, 'i')", x=x, refuse=("named axes",))
    yield S("jax.lax.all_gather(x, 'i')", x=x, refuse=("named axes",))
    yield S("jax.lax.cummax(x * 0)", x=x, refuse=("equal elements",))  # read since session 29: ties refused
    yield S("jax.lax.dynamic_slice(x, (i,), (2,))", x=x, i=np.array(1.0), refuse=("constant",))
    yield S("jax.lax.pad(x, p, [(1, 1, 0)])", x=x, p=np.array(0.5), refuse=("constant",))
    yield S("jax.lax.select_n(x, x, x)", x=x, refuse=("boolean or an integer",))
    yield S("jax.lax.select_n(jnp.array([0, 1, 2, 3]), x, x, x)", x=x, refuse=("from 0 to 2",))
    yield S("jax.scipy.special.factorial(x, exact=True)", x=x, refuse=("exact=True",))
    yield S("jax.lax.zeta(3.0, x)", x=np.abs(x) + 0.1, refuse=("no derivative rule", "jax.scipy.special.zeta"))


GENERATORS = (slices, dynamic, pads, shapes, elementwise, sorts, products, nn, special)


def collection(seed: int = 26, rounds: int = 6) -> list:
    rng = np.random.default_rng(seed)
    out = [s for _ in range(rounds) for g in GENERATORS for s in g(rng)]
    return out + list(refusals(rng))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-k", default="")
    parser.add_argument("-v", action="store_true")
    parser.add_argument("--seed", type=int, default=26)
    args = parser.parse_args(argv)
    return tally([s for s in collection(args.seed) if args.k in s.code], judge, "calls", args.v, inputs=True,
                 classes=CLASSES)


if __name__ == "__main__":
    sys.exit(main())
