"""Indexing, gather and scatter against PyTorch, NumPy and JAX (session 40, h40-index): seeded random texts over
one input ``x`` (1-d to 3-d) and a source ``v``, each in one library's spelling, run by that library and by jac's
Python API: the value, the reverse Jacobian (``jacobian(mode="reverse")``) and the forward one (``mode="forward"``).

Families: basic slicing (negative steps: NumPy's; PyTorch refuses them), ellipsis, None, integer arrays (negative,
duplicate, out of range, empty, 2-d), boolean masks (all false, broadcast), mixed advanced + basic indexing (NumPy's
rule that moves separated advanced axes first), ``take`` / ``take_along_dim`` / ``take_along_axis``, ``put`` /
``put_along_axis``, ``np.ufunc.at``, ``index_select``, ``gather``, ``scatter`` / ``scatter_add`` /
``scatter_reduce`` (every reduce, include_self both), ``index_add`` / ``index_copy`` / ``index_fill`` /
``index_put`` (accumulate both), ``masked_fill`` / ``masked_scatter`` / ``masked_select``, ``where`` of one
argument, ``nonzero``, ``argwhere``, ``diagonal`` with offsets, ``tril`` / ``triu`` with offsets, ``roll``,
``flip``, ``unfold``, JAX's ``.at[].get/set/add/mul/min/max`` with ``mode=``, in-place writes (``y[idx] = v``).

References: PyTorch (float64 leaves; reverse by one ``autograd.grad`` per output element, forward by
``torch.func.jacfwd``), JAX (x64; ``jax.jacrev`` and ``jax.jacfwd``), NumPy (its value; both Jacobians by
central differences: every op here is linear in x and v except ``sin`` / products / min / max, smooth at the
drawn points). A text whose library result is not defined (PyTorch's scatter / index_copy / index_put / put with
duplicate indices and different sources; JAX's ``.at[].set`` with duplicates) is marked: jac must refuse it.

JAX texts spell index lists as ``jnp.array``: JAX refuses ``x[[0, 1]]`` ("Using a non-tuple sequence for
multidimensional indexing is not allowed") where jac gives NumPy's answer (left alone, see RESULTS.md).

Classes: AGREE; BOTH-RAISE; REFUSES-UNDEFINED (jac refuses a text whose library result is undefined: right);
ANSWERS-UNDEFINED (jac answers one: a silent pick); JAC-ANSWERS-WHERE-LIB-RAISES; JAC-REFUSES (a false refusal);
WRONG (value, reverse or forward Jacobian differ); TORCH-FWD-DIFFERS (jac agrees with PyTorch's value and
reverse mode, and its forward mode with PyTorch's reverse mode, which PyTorch's own forward mode does not: a
PyTorch defect); EXTRA-DOCUMENTED (the derivative by the values of JAX's scatter_mul, answered where JAX raises
without unique_indices=True, as docs/vocabulary-elementwise.md says); LIB-DERIVATIVE-DEFECT (the library's
value agrees, its derivative raises or differs from the central differences and jac's does not: PyTorch's scatter
backward with a src larger than index, tests/test_parity_scatter.py's decision); CRASH (not a JacError, or over 20 s); NO-REF (the
library took over 60 s: JAX's eager transforms under load).

    PYTHONPATH=. /work/venv/bin/python benchmarks/index40_fuzz.py [--n 1500] [--seed 40] [--lib torch|numpy|jax]
                                                                   [--show 20] [-v]

Prints the texts of the bad classes with both answers, the commonest refusals, then the counts per class and per
library. Exit 1 on WRONG, ANSWERS-UNDEFINED, JAC-ANSWERS-WHERE-LIB-RAISES or CRASH. 1500 texts take a few minutes.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import time
import warnings
from collections import Counter

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fuzzkit import Timeout, differ, with_timeout  # noqa: E402

BAD = ("WRONG", "ANSWERS-UNDEFINED", "JAC-ANSWERS-WHERE-LIB-RAISES", "CRASH")
STATUSES = ("AGREE", "TORCH-FWD-DIFFERS", "LIB-DERIVATIVE-DEFECT", "BOTH-RAISE", "REFUSES-UNDEFINED", "JAC-REFUSES",
            "EXTRA-DOCUMENTED", "NO-REF") + BAD


# --- drawing ------------------------------------------------------------------------------------------------

class Draw:
    """One text: ``lib``, ``family``, ``text``, ``inputs`` and ``undefined`` (the library's result is not defined)."""

    def __init__(self, r: random.Random):
        self.r = r
        self.undefined = False
        nd = r.choice([1, 1, 2, 2, 2, 3])
        self.shape = tuple(r.randint(1, 4) for _ in range(nd))
        self.extra = {}

    # indices
    def ints(self, n: int, count: int, oob=0.06, neg=0.3) -> list:
        out = []
        for _ in range(count):
            if self.r.random() < oob:
                out.append(self.r.choice([n, n + 1, -n - 1]))
            else:
                i = self.r.randrange(n)
                out.append(i - n if self.r.random() < neg else i)
        return out

    def count(self) -> int:
        return self.r.choice([0, 1, 1, 2, 2, 3, 3, 4])

    def dim(self, nd=None) -> int:
        nd = len(self.shape) if nd is None else nd
        d = self.r.randrange(nd)
        return d - nd if self.r.random() < 0.3 else d

    def tensor(self, lib, values) -> str:
        return {"torch": f"torch.tensor({values})", "numpy": f"np.array({values}, dtype=int)",
                "jax": f"jnp.array({values}, dtype=int)"}[lib] if np.size(values) else \
            {"torch": "torch.tensor([], dtype=torch.long)", "numpy": "np.array([], dtype=int)",
             "jax": "jnp.array([], dtype=int)"}[lib]

    def operand(self, lib) -> str:
        if self.r.random() < 0.6:
            return "x"
        return {"torch": "torch.sin(x)", "numpy": "np.sin(x)", "jax": "jnp.sin(x)"}[lib]

    def source(self, shape) -> str:
        self.extra["v"] = tuple(shape)
        return "v"

    def dups(self, idx) -> bool:
        return len(set(idx)) < len(idx)


def normalized(i, n):
    return i + n if i < 0 else i


def index_parts(d: Draw, lib: str) -> tuple:
    """An index tuple for x (text) and whether it writes one position twice (advanced parts only)."""
    r, parts, shape = d.r, [], list(d.shape)
    axis, used_ellipsis, adv = 0, False, []
    while axis < len(shape) and r.random() < 0.85:
        n = shape[axis]
        c = r.random()
        if c < 0.2:
            parts.append(str(d.ints(n, 1)[0]))
        elif c < 0.45:
            start = r.choice(["", str(r.randint(-n, n))])
            stop = r.choice(["", str(r.randint(-n - 1, n + 1))])
            step = r.choice(["", "", "2", "-1", "-2"] if lib != "torch" or r.random() < 0.1 else ["", "", "2", "3"])
            parts.append(f"{start}:{stop}" + (f":{step}" if step else ""))
        elif c < 0.65:
            idx = d.ints(n, d.count())
            adv.append(idx)
            parts.append(str(idx) if lib != "jax" and r.random() < 0.5 else d.tensor(lib, idx))
        elif c < 0.75:
            rows = d.ints(n, 2)
            parts.append(d.tensor(lib, [rows, d.ints(n, 2)]))
            adv.append(rows)
        elif c < 0.85:
            mask = [r.random() < 0.5 for _ in range(n)] if r.random() < 0.8 else [False] * n
            parts.append({"torch": f"torch.tensor({mask})", "jax": f"jnp.array({mask})"}.get(lib, str(mask)))
        elif c < 0.92 and not used_ellipsis:
            parts.append("...")
            used_ellipsis = True
            axis = len(shape) - max(0, len(shape) - axis - 1)
            continue
        else:
            parts.append("None")
            continue
        axis += 1
    if not parts or r.random() < 0.08:
        parts.append("None" if r.random() < 0.5 else "...")
    return ", ".join(parts), adv


def d_getitem(d: Draw, lib: str) -> str:
    if d.r.random() < 0.15:
        return f"{d.operand(lib)}[x > {d.r.choice([0.0, 0.5, 3.0])}]"
    text, _ = index_parts(d, lib)
    return f"{d.operand(lib)}[{text}]"


def d_take(d: Draw, lib: str) -> str:
    n = int(np.prod(d.shape))
    idx = d.ints(n, d.count())
    if lib == "torch":
        if d.r.random() < 0.3:
            return f"torch.take({d.operand(lib)}, {d.tensor(lib, [idx, d.ints(n, len(idx))])})"
        return f"torch.take({d.operand(lib)}, {d.tensor(lib, idx)})"
    fn = "np" if lib == "numpy" else "jnp"
    axis = d.dim()
    idx = d.ints(d.shape[axis], d.count())
    mode = d.r.choice(["", "", ", mode='clip'", ", mode='wrap'"] + ([", mode='raise'"] if lib == "numpy" else
                                                                    [", mode='fill'", ", mode='promise_in_bounds'"]))
    if lib == "jax" and "promise" in mode and any(not -d.shape[axis] <= i < d.shape[axis] for i in idx):
        d.undefined = True
    if d.r.random() < 0.2:
        return f"{fn}.take({d.operand(lib)}, {d.tensor(lib, idx) if lib == 'jax' else idx}{mode})"  # flattened
    return f"{fn}.take({d.operand(lib)}, {d.tensor(lib, idx)}, axis={axis}{mode})"


def along_index(d: Draw, axis: int, ge: bool = True) -> list:
    """An integer array of x's rank: any length along ``axis``, sizes <= x's (or 1) elsewhere."""
    shape = []
    for k, n in enumerate(d.shape):
        shape.append(d.r.randint(0, 3) if k == axis % len(d.shape) else d.r.choice([n, 1] if ge else [n, 1, max(1, n - 1)]))
    flat = d.ints(d.shape[axis], int(np.prod(shape)), oob=0.03)
    return np.array(flat, dtype=int).reshape(shape).tolist(), shape


def d_along(d: Draw, lib: str) -> str:
    axis = d.dim()
    idx, _ = along_index(d, axis)
    if lib == "torch":
        return f"torch.take_along_dim({d.operand(lib)}, {d.tensor(lib, idx)}, dim={axis})"
    fn = "np" if lib == "numpy" else "jnp"
    return f"{fn}.take_along_axis({d.operand(lib)}, {d.tensor(lib, idx)}, axis={axis})"


def d_index_select(d: Draw, lib: str) -> str:
    axis = d.dim()
    idx = d.ints(d.shape[axis], d.count())
    return d.r.choice([f"torch.index_select({d.operand(lib)}, {axis}, {d.tensor(lib, idx)})",
                       f"{d.operand(lib)}.index_select({axis}, {d.tensor(lib, idx)})"])


def d_gather(d: Draw, lib: str) -> str:
    axis = d.dim()
    idx, _ = along_index(d, axis, ge=False)
    return d.r.choice([f"torch.gather({d.operand(lib)}, {axis}, {d.tensor(lib, idx)})",
                       f"{d.operand(lib)}.gather({axis}, {d.tensor(lib, idx)})"])


def written_positions(d: Draw, idx, axis) -> list:
    """The positions of x a scatter along ``axis`` with index ``idx`` writes, in order."""
    a = np.array(idx, dtype=int)
    out = []
    for pos in np.ndindex(a.shape):
        p = list(pos)
        p[axis % len(d.shape)] = normalized(int(a[pos]), d.shape[axis])
        out.append(tuple(p))
    return out


def d_scatter(d: Draw, lib: str) -> str:
    axis = d.dim()
    idx, shape = along_index(d, axis, ge=False)
    src = d.source([s + d.r.choice([0, 0, 1]) for s in shape])
    op = d.operand(lib)
    dup = len(set(written_positions(d, idx, axis))) < int(np.prod(shape))
    kind = d.r.choice(["scatter", "scatter_value", "scatter_add", "scatter_reduce"])
    i = d.tensor(lib, idx)
    if kind == "scatter":
        d.undefined = dup
        return d.r.choice([f"{op}.scatter({axis}, {i}, {src})", f"torch.scatter({op}, {axis}, {i}, {src})"])
    if kind == "scatter_value":
        return f"{op}.scatter({axis}, {i}, {d.r.choice(['2.5', '-1.0'])})"
    if kind == "scatter_add":
        return d.r.choice([f"{op}.scatter_add({axis}, {i}, {src})", f"torch.scatter_add({op}, {axis}, {i}, {src})"])
    reduce = d.r.choice(["sum", "prod", "mean", "amax", "amin"])
    include = d.r.choice(["", ", include_self=True", ", include_self=False"])
    return f"{op}.scatter_reduce({axis}, {i}, {src}, {reduce!r}{include})"


def d_index_family(d: Draw, lib: str) -> str:
    axis = d.dim()
    idx = d.ints(d.shape[axis], d.count())
    shape = list(d.shape)
    shape[axis] = len(idx)
    op, i = d.operand(lib), d.tensor(lib, idx)
    kind = d.r.choice(["index_add", "index_copy", "index_fill", "index_put", "put"])
    if kind == "index_add":
        alpha = d.r.choice(["", ", alpha=2.0", ", alpha=-0.5"])
        return f"{op}.index_add({axis}, {i}, {d.source(shape)}{alpha})"
    if kind == "index_copy":
        d.undefined = d.dups([normalized(k, d.shape[axis]) for k in idx])
        return f"{op}.index_copy({axis}, {i}, {d.source(shape)})"
    if kind == "index_fill":
        return f"{op}.index_fill({axis}, {i}, {d.r.choice(['0.5', '-2.0'])})"
    if kind == "put":
        n = int(np.prod(d.shape))
        flat = d.ints(n, d.count())
        acc = d.r.choice([False, True])
        d.undefined = not acc and d.dups([normalized(k, n) for k in flat])
        return f"{op}.put({d.tensor(lib, flat)}, {d.source([len(flat)])}, accumulate={acc})"
    rows = d.ints(d.shape[0], d.count())
    parts = [d.tensor(lib, rows)]
    positions = [(normalized(k, d.shape[0]),) for k in rows]
    if len(d.shape) > 1 and d.r.random() < 0.5:
        cols = d.ints(d.shape[1], len(rows))
        parts.append(d.tensor(lib, cols))
        positions = [(a, normalized(b, d.shape[1])) for (a,), b in zip(positions, cols)]
    acc = d.r.choice(["", ", accumulate=False", ", accumulate=True"])
    vshape = [len(rows)] + list(d.shape[len(parts):])
    if d.r.random() < 0.3 and vshape:
        vshape = vshape[1:]  # broadcast along the indexed axis
        d.undefined = "True" not in acc and len(set(positions)) < len(positions)
    else:
        d.undefined = "True" not in acc and len(set(positions)) < len(positions)
    return f"{op}.index_put(({', '.join(parts)},), {d.source(vshape)}{acc})"


def bool_mask(d: Draw, lib: str) -> str:
    r = d.r
    c = r.random()
    if c < 0.4:
        return f"(x > {r.choice([0.0, 0.5, -0.5, 5.0])})"
    shape = list(d.shape[-r.randint(1, len(d.shape)):]) if c < 0.7 else list(d.shape)
    if r.random() < 0.3:
        shape[0] = 1
    vals = (np.array([r.random() < 0.5 for _ in range(int(np.prod(shape)))]).reshape(shape)
            if r.random() < 0.85 else np.zeros(shape, bool))
    return f"torch.tensor({vals.tolist()})" if lib == "torch" else f"np.array({vals.tolist()})"


def d_masked(d: Draw, lib: str) -> str:
    op, m = d.operand(lib), bool_mask(d, lib)
    kind = d.r.choice(["fill", "scatter", "select"])
    if kind == "fill":
        return d.r.choice([f"{op}.masked_fill({m}, {d.r.choice(['0.0', '-1.5'])})",
                           f"torch.masked_fill({op}, {m}, 3.0)"])
    if kind == "scatter":
        return f"{op}.masked_scatter({m}, {d.source([int(np.prod(d.shape)) + d.r.choice([0, 0, 1, -1])])})"
    return d.r.choice([f"torch.masked_select({op}, {m})", f"{op}.masked_select({m})"])


def d_where(d: Draw, lib: str) -> str:
    t = d.r.choice([0.0, 0.5, 5.0])
    op = d.operand(lib)
    if lib == "torch":
        return d.r.choice([f"{op}[torch.where(x > {t})]", f"{op}[torch.nonzero(x > {t}, as_tuple=True)]",
                           f"{op}.flatten()[torch.argwhere(x.flatten() > {t})[:, 0]]",
                           f"{op}.reshape(-1)[torch.nonzero(x.reshape(-1) > {t}).reshape(-1)]",
                           f"torch.nonzero(x > {t}).double() * x.sum()",
                           f"torch.where(x > {t})[0].double() + x.flatten()[0]"])
    fn = "np" if lib == "numpy" else "jnp"
    return d.r.choice([f"{op}[{fn}.where(x > {t})]", f"{op}[{fn}.nonzero(x > {t})]",
                       f"{op}.ravel()[{fn}.argwhere(x.ravel() > {t})[:, 0]]",
                       f"{fn}.argwhere(x > {t}) * x.sum()"])


def d_shapes(d: Draw, lib: str) -> str:
    r, op = d.r, d.operand(lib)
    fn = {"torch": "torch", "numpy": "np", "jax": "jnp"}[lib]
    ax = "dims" if lib == "torch" else "axis"
    nd = len(d.shape)
    kind = r.choice(["diagonal", "tril", "triu", "roll", "flip", "unfold" if lib == "torch" else "flip"])
    if kind == "diagonal" and nd >= 2:
        a1, a2 = r.sample(range(nd), 2)
        off = r.randint(-3, 3)
        if lib == "torch":
            return r.choice([f"torch.diagonal({op}, {off}, {a1}, {a2})", f"{op}.diagonal(offset={off}, dim1={a1}, dim2={a2})"])
        return f"{fn}.diagonal({op}, {off}, {a1}, {a2})"
    if kind in ("tril", "triu") and nd >= 2:
        k = r.randint(-3, 3)
        return f"{fn}.{kind}({op}, {k})" if lib != "torch" else r.choice([f"torch.{kind}({op}, {k})", f"{op}.{kind}(diagonal={k})"])
    if kind == "roll":
        if r.random() < 0.3:
            return f"{fn}.roll({op}, {r.randint(-5, 5)})"
        dims = r.sample(range(nd), r.randint(1, nd))
        shifts = [r.randint(-5, 5) for _ in dims]
        return f"{fn}.roll({op}, {tuple(shifts)}, {ax if lib != 'numpy' else 'axis'}={tuple(dims)})" if lib != "torch" \
            else f"torch.roll({op}, {tuple(shifts)}, dims={tuple(dims)})"
    if kind == "unfold":
        dim = d.dim()
        size = r.randint(0, d.shape[dim] + 1)
        return f"{op}.unfold({dim}, {size}, {r.randint(1, 3)})"
    dims = tuple(r.sample(range(-nd, nd), 1))
    return f"torch.flip({op}, {dims})" if lib == "torch" else f"{fn}.flip({op}, {dims[0]})"


def d_write(d: Draw, lib: str) -> str:
    """A program writing into a copy of x: PyTorch's y[idx] = v, in-place methods; NumPy's put, ufunc.at."""
    r = d.r
    if lib == "torch":
        axis = d.dim()
        idx = d.ints(d.shape[axis], d.count())
        shape = list(d.shape)
        shape[axis] = len(idx)
        i = d.tensor(lib, idx)
        head = r.choice(["y = x * 1", "y = x.clone()", "y = torch.sin(x)"])
        norm = [normalized(k, d.shape[axis]) for k in idx]
        kind = r.choice(["set", "add", "index_add_", "index_copy_", "masked_fill_", "index_put_"])
        sel = ", ".join([":"] * (axis % len(d.shape)) + [i])
        if kind == "set":
            d.undefined = d.dups(norm)
            return f"{head}; y[{sel}] = {d.source(shape)}; y"
        if kind == "add":
            d.undefined = d.dups(norm)  # y[idx] += v is index_put_ of y[idx] + v: undefined with repeats
            return f"{head}; y[{sel}] += {d.source(shape)}; y"
        if kind == "index_add_":
            return f"{head}; y.index_add_({axis}, {i}, {d.source(shape)}); y"
        if kind == "index_copy_":
            d.undefined = d.dups(norm)
            return f"{head}; y.index_copy_({axis}, {i}, {d.source(shape)}); y"
        if kind == "masked_fill_":
            return f"{head}; y.masked_fill_({bool_mask(d, lib)}, 0.25); y"
        acc = r.choice([False, True])
        d.undefined = not acc and d.dups(norm) and axis % len(d.shape) == 0
        if axis % len(d.shape) != 0:
            return f"{head}; y.index_put_(({i},), {d.source([len(idx)] + list(d.shape[1:]))}, accumulate={acc}); y"
        return f"{head}; y.index_put_(({i},), {d.source(shape)}, accumulate={acc}); y"
    if lib == "jax":
        return d_at(d)
    head = r.choice(["y = x.copy()", "y = np.sin(x)", "y = x * 1"])
    kind = r.choice(["set", "iadd", "put", "put_along", "ufunc_at", "ufunc_at", "setmask"])
    if kind in ("set", "iadd"):
        text, _ = index_parts(d, lib)
        src = r.choice(["1.5", "v[0]", "np.sin(v[0])"])
        d.extra["v"] = (2,)
        return f"{head}; y[{text}] {'=' if kind == 'set' else '+='} {src}; y"
    if kind == "setmask":
        return f"{head}; y[{bool_mask(d, lib)}] = {r.choice(['0.0', 'v[0]'])}; y" + ("" if d.extra.setdefault("v", (2,)) else "")
    if kind == "put":
        n = int(np.prod(d.shape))
        flat = d.ints(n, d.count())
        mode = r.choice(["", "", ", mode='clip'", ", mode='wrap'"])
        return f"{head}; np.put(y, {flat}, {d.source([max(1, len(flat))])}{mode}); y"
    if kind == "put_along":
        axis = d.dim()
        idx, shape = along_index(d, axis, ge=False)
        return f"{head}; np.put_along_axis(y, {d.tensor(lib, idx)}, {d.source(shape)}, axis={axis}); y"
    ufunc = r.choice(["add", "add", "subtract", "multiply", "maximum", "minimum"])
    text, _ = index_parts(d, lib)
    src = r.choice(["1.5", "v[0]", "v[0] * v[1]"])
    d.extra["v"] = (2,)
    return f"{head}; np.{ufunc}.at(y, ({text}), {src}); y" if "," in text else \
        f"{head}; np.{ufunc}.at(y, {text}, {src}); y"


def d_at(d: Draw) -> str:
    r = d.r
    op = r.choice(["x", "jnp.sin(x)", "(x * 1)"])
    text, adv = index_parts(d, "jax")
    verb = r.choice(["get", "set", "set", "add", "mul", "min", "max"])
    mode = r.choice(["", "", "clip", "drop", "fill", "promise_in_bounds"])
    if verb == "get":
        extra = f"mode={mode!r}" if mode else ""
        if mode == "fill" and r.random() < 0.5:
            extra += ", fill_value=-7.0"
        return f"{op}.at[{text}].get({extra})"
    if mode == "fill":
        mode = "drop"  # fill is get's; scatters take it as drop
    src = r.choice(["v[0]", "2.0", "jnp.sin(v[0])", f"x.at[{text}].get(mode='clip') * v[0]"])
    d.extra["v"] = (2,)
    if verb == "set" and "get" in src:  # one value per position written: where one repeats (counted by JAX itself),
        # the order of the writes decides; a scalar writes the same value at the repeats, which JAX defines
        d.undefined = f"jnp.zeros(x.shape).at[{text}].add(1.0{f', mode={mode!r}' if mode else ''})"
    return f"{op}.at[{text}].{verb}({src}{f', mode={mode!r}' if mode else ''})"


FAMILIES = {
    "torch": {"getitem": d_getitem, "take": d_take, "along": d_along, "index_select": d_index_select,
              "gather": d_gather, "scatter": d_scatter, "index_family": d_index_family, "masked": d_masked,
              "where": d_where, "shapes": d_shapes, "write": d_write},
    "numpy": {"getitem": d_getitem, "take": d_take, "along": d_along, "where": d_where, "shapes": d_shapes,
              "write": d_write, "masked": lambda d, lib: f"{d.operand(lib)}[{bool_mask(d, lib)}]"},
    "jax": {"getitem": d_getitem, "take": d_take, "along": d_along, "where": d_where, "shapes": d_shapes,
            "at": lambda d, lib: d_at(d)},
}


def draw(seed: int, lib: str | None = None) -> tuple:
    """(lib, family, text, inputs, undefined) of seed ``seed``."""
    r = random.Random(seed)
    lib = lib or r.choice(["torch", "torch", "numpy", "jax"])
    family = r.choice(sorted(FAMILIES[lib]))
    d = Draw(r)
    text = FAMILIES[lib][family](d, lib)
    rng = np.random.default_rng(seed)
    inputs = {"x": np.round(rng.uniform(-2, 2, size=d.shape), 3) + 0.0}
    if "v" in d.extra and re.search(r"\bv\b", text):
        inputs["v"] = np.round(rng.uniform(-2, 2, size=d.extra["v"]), 3) + 0.0
    return lib, family, text, inputs, d.undefined


# --- the references -----------------------------------------------------------------------------------------

def _split(text: str):
    import ast
    tree = ast.parse(text.replace("; ", "\n"))
    return (compile(ast.Module(body=tree.body[:-1], type_ignores=[]), "<text>", "exec"),
            compile(ast.Expression(tree.body[-1].value), "<text>", "eval"))


def _function(lib: str, text: str, names: list):
    body, last = _split(text)
    if lib == "torch":
        import torch
        scope0 = {"torch": torch, "F": torch.nn.functional}
    elif lib == "jax":
        import jax.numpy as jnp
        scope0 = {"jnp": jnp, "jax": __import__("jax")}
    else:
        scope0 = {"np": np}

    def f(*xs):
        scope = dict(scope0)
        scope.update(zip(names, xs))
        exec(body, scope)  # noqa: S102 - the fuzz's own texts
        out = eval(last, scope)  # noqa: S307
        if lib == "torch" and not (isinstance(out, torch.Tensor) and out.is_floating_point()):
            raise TypeError("not a float tensor")
        return out
    return f


def reference(lib: str, text: str, inputs: dict, f=None) -> dict:
    """{"value", "reverse": {name: J}, "forward": {name: J} or None}, or raises what the library raises (``f``: a
    NumPy function of the inputs to difference, for ``central``)."""
    names = list(inputs)
    f = f or _function(lib, text, names)
    if lib == "torch":
        return _torch_reference(f, inputs, names)
    if lib == "jax":
        import jax
        import jax.numpy as jnp
        args = [jnp.asarray(inputs[k]) for k in names]
        value = np.asarray(f(*args), dtype=np.float64)
        argnums = tuple(range(len(args)))
        rev = jax.jacrev(f, argnums=argnums)(*args)
        fwd = jax.jacfwd(f, argnums=argnums)(*args)
        return {"value": value, "reverse": {k: np.asarray(rev[i]) for i, k in enumerate(names)},
                "forward": {k: np.asarray(fwd[i]) for i, k in enumerate(names)}}
    args = [np.array(inputs[k]) for k in names]
    with np.errstate(all="ignore"):
        value = np.asarray(f(*[a.copy() for a in args]), dtype=np.float64)
        jac = {}
        h = 1e-6
        for i, k in enumerate(names):
            cols = []
            for pos in np.ndindex(args[i].shape):
                up, down = [a.copy() for a in args], [a.copy() for a in args]
                up[i][pos] += h
                down[i][pos] -= h
                cols.append((np.asarray(f(*up), dtype=np.float64) - np.asarray(f(*down), dtype=np.float64)) / (2 * h))
            jac[k] = np.stack(cols, -1).reshape(value.shape + args[i].shape) if cols else \
                np.zeros(value.shape + args[i].shape)
    return {"value": value, "reverse": jac, "forward": jac}


def central(lib: str, text: str, inputs: dict) -> dict | None:
    """The library's value without any derivative, and both Jacobians by central differences (the arbiter where
    the library's own derivative raises or disagrees with itself); None where the value itself raises."""
    names = list(inputs)
    f = _function(lib, text, names)
    if lib == "torch":
        import torch

        def g(*xs):
            with torch.no_grad():
                return f(*[torch.tensor(a, dtype=torch.float64) for a in xs]).numpy()
    elif lib == "jax":
        import jax.numpy as jnp

        def g(*xs):
            return np.asarray(f(*[jnp.asarray(a) for a in xs]))
    else:
        g = f
    try:
        return reference("numpy", None, inputs, g)
    except Exception:  # noqa: BLE001 - the value raises too
        return None


def _torch_reference(f, inputs, names) -> dict:
    import torch
    args = [torch.tensor(inputs[k], dtype=torch.float64) for k in names]
    leaves = [a.clone().requires_grad_(True) for a in args]
    out = f(*leaves)
    value = out.detach().numpy().copy()
    flat = out.reshape(-1)
    rev = {k: np.zeros((flat.numel(),) + tuple(a.shape)) for k, a in zip(names, args)}
    for i in range(flat.numel() if flat.requires_grad else 0):
        grads = torch.autograd.grad(flat[i], leaves, retain_graph=True, allow_unused=True)
        for k, g in zip(names, grads):
            if g is not None:
                rev[k][i] = g.numpy()
    rev = {k: rev[k].reshape(value.shape + tuple(a.shape)) for k, a in zip(names, args)}
    try:
        fwd = torch.func.jacfwd(f, argnums=tuple(range(len(args))))(*[a.clone() for a in args])
        fwd = {k: fwd[i].detach().numpy() for i, k in enumerate(names)}
    except Exception:  # noqa: BLE001 - an op without a forward-mode rule in PyTorch: compare reverse mode only
        fwd = None
    if fwd is not None and any(not np.allclose(fwd[k], rev[k], rtol=1e-9, atol=1e-12, equal_nan=True) for k in rev):
        fwd = "differs"  # PyTorch's forward mode disagrees with its reverse mode (scatter_reduce 'prod' with
        # include_self=False gives 0 even where x is not written): jac's forward mode is compared with reverse
    return {"value": value, "reverse": rev, "forward": fwd}


def run_jac(text: str, inputs: dict) -> dict:
    from jacobi_cli.tools import api
    value = np.asarray(api.evaluate(text, inputs))
    rev = api.jacobian(text, inputs, mode="reverse")
    fwd = api.jacobian(text, inputs, mode="forward")
    return {"value": value, "reverse": {k: np.asarray(v) for k, v in rev.items()},
            "forward": {k: np.asarray(v) for k, v in fwd.items()}}


def classify(lib: str, text: str, inputs: dict, undefined: bool) -> tuple:
    from jacobi_cli.errors import JacError
    if isinstance(undefined, str):  # a text counting how often each position is written
        try:
            undefined = bool(np.max(reference(lib, undefined, {"x": inputs["x"]})["value"], initial=0) > 1)
        except Exception:  # noqa: BLE001 - the write itself raises too
            undefined = False
    try:
        theirs = with_timeout(lambda: ("DONE", reference(lib, text, inputs)), seconds=60)
        if theirs[0] != "DONE":  # JAX's eager transforms take seconds under load: no reference, not a crash
            return "NO-REF", "the library took over 60 s"
        theirs, lib_error = theirs[1], None
    except Exception as e:  # noqa: BLE001 - what the fuzz compares
        lib_error = f"{type(e).__name__}: {str(e).splitlines()[0][:140] if str(e) else ''}"
    try:
        ours = with_timeout(lambda: ("DONE", run_jac(text, inputs)), seconds=20)
        if ours[0] != "DONE":
            return "CRASH", "timeout (jac took over 20 s)"
        ours = ours[1]
    except JacError as e:
        message = str(e).splitlines()[0][:200]
        if lib_error:
            return "BOTH-RAISE", message
        return ("REFUSES-UNDEFINED" if undefined else "JAC-REFUSES"), message
    except Timeout:
        return "CRASH", "timeout"
    except Exception as e:  # noqa: BLE001
        return "CRASH", f"{type(e).__name__}: {str(e)[:200]}"
    if lib_error and "scatter_mul gradients are only implemented" in lib_error:
        return "EXTRA-DOCUMENTED", lib_error  # docs/vocabulary-elementwise.md: answered where JAX raises
    if lib_error and lib != "numpy" and _central_agrees(lib, text, inputs, ours):
        return "LIB-DERIVATIVE-DEFECT", f"{lib}'s value agrees, its derivative raises ({lib_error[:80]}); jac's is " \
            "the central differences'"
    if lib_error:
        return "JAC-ANSWERS-WHERE-LIB-RAISES", f"{lib} raises {lib_error}; jac {np.round(ours['value'], 4).tolist()}"
    if undefined:
        return "ANSWERS-UNDEFINED", f"jac {np.round(ours['value'], 4).tolist()}, {lib} {np.round(theirs['value'], 4).tolist()}"
    rtol = 1e-6 if lib == "numpy" else 1e-9
    why = differ(ours["value"], theirs["value"], None, "float64", ref=lib)
    if why:
        return "WRONG", f"value: {why}; jac {np.round(ours['value'], 4).tolist()} vs {lib} {np.round(theirs['value'], 4).tolist()}"
    note = ""
    if isinstance(theirs["forward"], str):
        theirs["forward"], note = theirs["reverse"], " (PyTorch's forward mode differs from its reverse mode)"
    for mode in ("reverse", "forward"):
        if theirs[mode] is None:
            continue
        for k, t in theirs[mode].items():
            o = ours[mode].get(k, np.zeros_like(t))
            why = differ(o, t, None, "float64", derivative=True, ref=lib, rtol=rtol)
            if why and lib != "numpy" and _central_agrees(lib, text, inputs, ours):
                return "LIB-DERIVATIVE-DEFECT", f"{lib}'s {mode} d/d{k} differs from the central differences, jac's " \
                    "does not"
            if why:
                return "WRONG", f"{mode} d/d{k}: {why}"
    return ("TORCH-FWD-DIFFERS", note) if note else ("AGREE", "")


def _central_agrees(lib, text, inputs, ours) -> bool:
    """jac's value is the library's and both its Jacobians are the central differences' (1e-6 relative)."""
    numeric = central(lib, text, inputs)
    if numeric is None or differ(ours["value"], numeric["value"], None, "float64"):
        return False
    return not any(differ(ours[mode].get(k, np.zeros_like(t)), t, None, "float64", derivative=True, rtol=1e-6)
                   for mode in ("reverse", "forward") for k, t in numeric["reverse"].items())


def reason(message: str) -> str:
    text = re.sub(r"'[^']*'", "'..'", message)
    text = re.sub(r"\[[^\]]*\]", "[..]", text)
    return re.sub(r"-?[0-9]+", "N", text)[:110]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=40)
    ap.add_argument("--lib", default=None, choices=["torch", "numpy", "jax"])
    ap.add_argument("--show", type=int, default=20)
    ap.add_argument("-v", action="store_true", help="print every text that is not AGREE")
    options = ap.parse_args()
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    warnings.simplefilter("ignore")
    import jax
    import torch
    jax.config.update("jax_enable_x64", True)
    torch.set_num_threads(1)
    start = time.monotonic()
    counts, per_lib, refused, shown = Counter(), Counter(), Counter(), set()
    for k in range(options.n):
        lib, family, text, inputs, undefined = draw(options.seed * 100_003 + k, options.lib)
        status, detail = classify(lib, text, inputs, undefined)
        counts[status] += 1
        per_lib[lib, status] += 1
        if status == "JAC-REFUSES":
            refused[f"{lib} {family}: {reason(detail)}"] += 1
        if status in BAD or options.v and status != "AGREE":
            key = (status, reason(detail), family)
            if key not in shown or options.v:
                shown.add(key)
                shapes = {n: np.shape(v) for n, v in inputs.items()}
                print(f"{status} [{lib} {family}, seed {options.seed * 100_003 + k}] {text}\n    shapes {shapes}; {detail}")
    print(f"\ntop false refusals ({counts['JAC-REFUSES']}):")
    for message, c in refused.most_common(options.show):
        print(f"  {c:5d}  {message}")
    for lib in ("torch", "numpy", "jax"):
        print(f"  {lib:6s} " + ", ".join(f"{s} {per_lib[lib, s]}" for s in STATUSES if per_lib[lib, s]))
    print(f"\nindex40 fuzz, {options.n} texts (seed {options.seed}, {time.monotonic() - start:.0f} s): "
          + ", ".join(f"{s} {counts[s]}" for s in STATUSES))
    return 1 if any(counts[s] for s in BAD) else 0


if __name__ == "__main__":
    sys.exit(main())
