"""Batches, several outputs and higher orders of random programs, against PyTorch's ``torch.func`` and JAX.

    PYTHONPATH=. /work/benchvenv/bin/python benchmarks/batch34_fuzz.py [--seeds 0 1] [--count 60] [--workers 2]
                                                                     [--only CHECK,...] [-v]

Each program has 1 to 3 inputs (``x``, ``y``, ``w``) of random shapes (0-d to 3-d, sizes 1 to 4 from a small pool
of sizes, so matmuls and broadcasts meet), 1 to 3 statements drawn from a broad op set (element-wise ops,
reductions with ``dim`` / ``keepdim``, ``@`` and ``einsum``, indexing and slicing with repeated gathers,
``softmax`` / ``log_softmax`` / ``logsumexp``, ``where`` / ``clamp`` / ``abs`` / ``relu`` / ``maximum`` / ``amax``
with their kinks avoided, ``reshape`` / ``permute`` / ``cat`` / ``stack`` / ``flip`` / ``unsqueeze``, ``cumsum``,
``var``, norms, ``solve`` / ``inv`` / ``det`` of small well-conditioned matrices) and ends in one output or a tuple
of 2 or 3. Every program is drawn in PyTorch's and in JAX's spelling; jac reads one of the two (alternately), and
the references run their own library's text: PyTorch float64 (``torch.func``) for every check, JAX x64 for the
higher orders. The CHECKS:

- ``several``: jac's value and every (output, input) Jacobian (``api.jacobian``) against
  ``torch.autograd.functional.jacobian`` of the tuple function; the Jacobian called three more times (the
  later calls run a kernel: each must equal the first call's bits), and at a second point (the kernel's
  answer there against PyTorch's);
- ``vjp`` / ``jvp``: ``api.vjp`` with a random v per output (``torch.func.vjp``), ``api.jvp`` with a random
  tangent per input (``torch.func.jvp``), each twice (the same bits);
- ``hessian``: ``api.hessian`` (every pair, every output) against ``jacfwd(jacrev)``;
- ``order``: ``api.derivative`` of order 2 and 3 by one input, and ``jac derivative --order 3 --json``,
  against ``jacfwd(jacfwd(jacrev))`` of PyTorch and of JAX;
- ``batch``: a batch of B = 1 to 3 examples along a random axis of 1 to all inputs (the others shared):
  ``api.jacobian(batch=...)`` twice and ``jac eval / vjp / jvp / hessian / derivative --order 2 --batch --json``
  against ``torch.func.vmap`` of ``jacrev`` / ``vjp`` / ``jvp`` / ``jacfwd(jacrev)`` (the examples one by one
  where ``vmap`` has no batching rule), JAX's ``vmap(jacrev)`` for the Jacobians;
- ``float32``: the value and Jacobians in float32 against PyTorch's float32 (within 10 x PyTorch's own float32
  error + 1e-4 relative, ``fuzzkit.differ``).

Kinks: each program is first run by PyTorch with the kink ops replaced by recording ones (``|a|``, ``a - b`` of
``maximum``, the gap of ``amax``'s two largest, the distance of ``clamp``'s and ``where``'s argument from the
bound, a norm's size, the condition number of ``solve`` / ``inv``), at every point and example the checks use;
a draw within 1e-3 of a kink or of a condition number over 1e3 is drawn again (at most 5 times, then SKIPPED).

Outcome per (program, check): AGREE, WRONG (a number or shape differs: float64 rtol 1e-6, 1e-5 through
linear algebra), REFUSED (a JacError, exit 2), CRASH (another exception, an exit code other than 0 and 2, or a
repeated call that is not the first call's bits), SKIPPED (the reference raised). A program's outcome is its
worst check's. Exit 1 on WRONG or CRASH. Run by hand; 30 programs take about 70 s on 2 shared cores.
"""
from __future__ import annotations

import argparse
import ast
import warnings
import contextlib
import io
import json
import os
import re
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fuzzkit import Retry, differ, run_workers, with_timeout  # noqa: E402

CHECKS = ("several", "vjp", "jvp", "hessian", "order", "batch", "float32", "compiled", "batch32")
NAMES = ("x", "y", "w")
MAX = 48  # elements of any drawn result
KINK = 1e-3
COND = 1e3


# ---------------------------------------------------------------------------------------------- grammar
@dataclass(frozen=True)
class E:
    """A drawn expression in both spellings, its shape, whether it needs no parentheses."""
    t: str
    j: str
    shape: tuple
    atom: bool = True
    linalg: bool = False


def par(e: E, lib: str) -> str:
    code = e.t if lib == "t" else e.j
    return code if e.atom else f"({code})"


def nd(e):
    return len(e.shape)


def bshape(a, b):
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        return None


def mshape(a, b):
    if not a or not b:
        return None
    try:
        return np.matmul(np.zeros(a), np.zeros(b)).shape
    except ValueError:
        return None


UNARY = [  # (torch, jax) with {} the operand (already parenthesised where needed)
    ("torch.sin({})", "jnp.sin({})"), ("torch.cos({})", "jnp.cos({})"), ("torch.tanh({})", "jnp.tanh({})"),
    ("torch.sigmoid({})", "jax.nn.sigmoid({})"), ("torch.exp(0.5 * {})", "jnp.exp(0.5 * {})"),
    ("F.softplus({})", "jax.nn.softplus({})"), ("torch.log1p({} ** 2)", "jnp.log1p({} ** 2)"),
    ("torch.sqrt({} ** 2 + 1)", "jnp.sqrt({} ** 2 + 1)"), ("torch.erf({})", "jax.scipy.special.erf({})"),
    ("torch.atan({})", "jnp.arctan({})"), ("{} ** 2", "{} ** 2"), ("{} ** 3", "{} ** 3"), ("-{}", "-{}"),
    ("torch.abs({})", "jnp.abs({})"), ("torch.relu({})", "jax.nn.relu({})"),
    ("torch.clamp({}, -0.6, 0.6)", "jnp.clip({}, -0.6, 0.6)"), ("torch.square({})", "jnp.square({})"),
]


UNARY2 = [  # smooth, or kinks the recorder sees
    ("F.gelu({})", "jax.nn.gelu({}, approximate=False)"), ("F.elu({})", "jax.nn.elu({})"),
    ("F.silu({})", "jax.nn.silu({})"), ("torch.sinh({})", "jnp.sinh({})"), ("torch.cosh({})", "jnp.cosh({})"),
    ("torch.asinh({})", "jnp.arcsinh({})"), ("F.logsigmoid({})", "jax.nn.log_sigmoid({})"),
    ("torch.reciprocal(1 + {} ** 2)", "jnp.reciprocal(1 + {} ** 2)"), ("torch.rsqrt(1 + {} ** 2)",
    "jax.lax.rsqrt(1 + {} ** 2)"), ("torch.expm1({})", "jnp.expm1({})"), ("torch.log(1 + {} ** 2)",
    "jnp.log(1 + {} ** 2)"), ("torch.sinc({})", "jnp.sinc({})"), ("F.mish({})", "({0} * jnp.tanh(jax.nn.softplus({0})))"),
    ("F.hardtanh({})", "jnp.clip({}, -1.0, 1.0)"), ("F.leaky_relu({}, 0.1)", "jax.nn.leaky_relu({}, 0.1)"),
    ("torch.special.erfc({})", "jax.scipy.special.erfc({})"), ("torch.lgamma(2 + {} ** 2)",
    "jax.scipy.special.gammaln(2 + {} ** 2)"), ("torch.digamma(2 + {} ** 2)", "jax.scipy.special.digamma(2 + {} ** 2)"),
]
BINARY2 = [
    ("torch.atan2({a}, 1.5 + {pb} ** 2)", "jnp.arctan2({a}, 1.5 + {pb} ** 2)"),
    ("torch.hypot({a}, 0.5 + {pb} ** 2)", "jnp.hypot({a}, 0.5 + {pb} ** 2)"),
    ("torch.logaddexp({a}, {b})", "jnp.logaddexp({a}, {b})"),
    ("(1 + {pa} ** 2) ** {pb}", "(1 + {pa} ** 2) ** {pb}"),
    ("torch.pow(1.5 + torch.sin({a}), torch.cos({b}))", "jnp.power(1.5 + jnp.sin({a}), jnp.cos({b}))"),
    ("torch.xlogy(1 + {pa} ** 2, 1 + {pb} ** 2)", "jax.scipy.special.xlogy(1 + {pa} ** 2, 1 + {pb} ** 2)"),
    ("torch.fmax({a}, {b})", "jnp.fmax({a}, {b})"), ("torch.fmin({a}, {b})", "jnp.fmin({a}, {b})"),
    ("torch.lerp({a}, {b}, 0.3)", "({pa} + 0.3 * ({pb} - {pa}))"),
    ("torch.copysign({a}, 1.5 + {pb} ** 2)", "jnp.copysign({a}, 1.5 + {pb} ** 2)"),
]
WIDE = ["binary2", "unary2", "unary2", "dimop", "dimop", "matrix", "gather", "gather"]


class Gen:
    def __init__(self, rng):
        self.r = rng
        pool = sorted(set(int(s) for s in rng.integers(1, 5, 2)))
        self.pool = pool
        n = int(rng.integers(1, 4))
        self.shapes = {}
        for name in NAMES[:n]:
            rank = int(rng.choice([0, 1, 1, 2, 2, 3]))
            self.shapes[name] = tuple(int(rng.choice(pool)) for _ in range(rank))
        self.env = {name: E(name, name, s) for name, s in self.shapes.items()}
        self.wide = WIDE

    def pick(self, seq):
        return seq[int(self.r.integers(len(seq)))]

    def leaf(self, shape=None):
        pool = [e for e in self.env.values() if shape is None or e.shape == shape]
        if pool and self.r.random() < 0.9:
            return self.pick(pool)
        shape = self.pick(list(self.shapes.values())) if shape is None else shape
        c = f"{float(self.r.uniform(0.2, 1.5)):.2f}"
        if not shape:
            return E(f"torch.tensor({c})", f"jnp.array({c})", ())
        vals = np.round(self.r.uniform(-1, 1, shape), 2).tolist()
        return E(f"torch.tensor({vals})", f"jnp.array({vals})", shape)

    def expr(self, depth):
        for _ in range(25):
            if depth <= 0 or self.r.random() < 0.15:
                return self.leaf()
            try:
                e = self.node(depth)
            except Retry:
                continue
            if e is not None and np.prod(e.shape, dtype=int) <= MAX and 0 not in e.shape:
                return e
        return self.leaf()

    def node(self, depth):
        kind = self.pick(["unary"] * 4 + ["binary"] * 4 + ["reduce"] * 3 + ["softmax", "cumsum", "matmul", "matmul",
                          "einsum", "index", "index", "shape", "shape", "join", "linalg", "where"] + self.wide)
        return getattr(self, "k_" + kind)(depth)

    def k_unary(self, depth):
        a = self.expr(depth - 1)
        ft, fj = self.pick(UNARY)
        return E(ft.format(par(a, "t")), fj.format(par(a, "j")), a.shape, False, a.linalg)

    def other(self, a, depth):
        b = self.expr(depth - 1)
        if bshape(a.shape, b.shape) is not None and self.r.random() < 0.85:
            return b
        return self.leaf(self.pick([a.shape, (), a.shape[-1:]]))

    def k_binary(self, depth):
        a = self.expr(depth - 1)
        b = self.other(a, depth)
        s = bshape(a.shape, b.shape)
        if s is None:
            raise Retry
        lin = a.linalg or b.linalg
        op = self.pick(["+", "-", "*", "*", "div", "maximum", "minimum"])
        if op == "div":
            return E(f"{par(a, 't')} / (1 + {par(b, 't')} ** 2)", f"{par(a, 'j')} / (1 + {par(b, 'j')} ** 2)", s, False,
                     lin)
        if op in ("maximum", "minimum"):
            return E(f"torch.{op}({a.t}, {b.t})", f"jnp.{op}({a.j}, {b.j})", s, True, lin)
        return E(f"{par(a, 't')} {op} {par(b, 't')}", f"{par(a, 'j')} {op} {par(b, 'j')}", s, False, lin)

    def k_where(self, depth):
        a = self.expr(depth - 1)
        c = self.other(a, depth)
        b = self.other(a, depth)
        s = bshape(bshape(a.shape, b.shape) or (), c.shape) if bshape(a.shape, b.shape) is not None else None
        if s is None or bshape(a.shape, b.shape) is None:
            raise Retry
        return E(f"torch.where(torch.gt({c.t}, 0.1), {a.t}, {b.t})",
                 f"jnp.where(jnp.greater({c.j}, 0.1), {a.j}, {b.j})", s, True, a.linalg or b.linalg or c.linalg)

    def k_reduce(self, depth):
        a = self.expr(depth - 1)
        op = self.pick(["sum", "mean", "amax", "logsumexp", "prod", "var", "norm"])
        keep = bool(self.r.random() < 0.4)
        if nd(a) == 0 or (self.r.random() < 0.25 and op != "logsumexp"):
            dim = None
            shape = tuple(1 for _ in a.shape) if keep else ()
        else:
            d = int(self.r.integers(-nd(a), nd(a)))
            dim = d
            shape = tuple(1 if i == d % nd(a) else n for i, n in enumerate(a.shape)) if keep else \
                tuple(n for i, n in enumerate(a.shape) if i != d % nd(a))
        if op == "logsumexp" and dim is None:
            op = "sum"
        tk = f", keepdim={keep}" if dim is not None else ""
        jk = f", keepdims={keep}" if keep else ""
        if dim is None and keep and op != "norm":  # PyTorch's full reductions take no keepdim without a dim
            tdim = tuple(range(nd(a)))
            td = f", dim={tdim}, keepdim=True" if tdim else ""
        else:
            td = f", dim={dim}{tk}" if dim is not None else ""
        jd = f", axis={dim}" if dim is not None else ""
        t, j = {
            "sum": (f"torch.sum({a.t}{td})", f"jnp.sum({a.j}{jd}{jk})"),
            "mean": (f"torch.mean({a.t}{td})", f"jnp.mean({a.j}{jd}{jk})"),
            "amax": (f"torch.amax({a.t}{td})", f"jnp.max({a.j}{jd}{jk})"),
            "logsumexp": (f"torch.logsumexp({a.t}{td})", f"jax.scipy.special.logsumexp({a.j}{jd}{jk})"),
            "prod": (f"torch.prod({a.t}{td})", f"jnp.prod({a.j}{jd}{jk})"),
            "var": (f"torch.var({a.t}{td}, correction=0)", f"jnp.var({a.j}{jd}{jk})"),
            "norm": (f"torch.linalg.vector_norm({a.t}{td if dim is not None else ''}"
                     f"{', keepdim=True' if dim is None and keep else ''})", f"jnp.linalg.norm({a.j}{jd}{jk})"),
        }[op]
        if op == "amax" and dim is None and not keep:
            t = f"torch.amax({a.t})"
        if op == "prod" and dim is not None and keep is False:
            t = f"torch.prod({a.t}, {dim})"
        if op == "prod" and (dim is None and keep):
            raise Retry
        if op == "norm" and dim is None and nd(a) > 2:  # jnp.linalg.norm of a 3-d array needs an axis
            j = f"jnp.sqrt(jnp.sum({a.j} ** 2{jk}))"
        return E(t, j, shape, True, a.linalg)

    def k_softmax(self, depth):
        a = self.expr(depth - 1)
        if nd(a) == 0:
            raise Retry
        d = int(self.r.integers(-nd(a), nd(a)))
        if self.r.random() < 0.5:
            return E(f"torch.softmax({a.t}, {d})", f"jax.nn.softmax({a.j}, axis={d})", a.shape, True, a.linalg)
        return E(f"torch.log_softmax({a.t}, dim={d})", f"jax.nn.log_softmax({a.j}, axis={d})", a.shape, True, a.linalg)

    def k_cumsum(self, depth):
        a = self.expr(depth - 1)
        if nd(a) == 0:
            raise Retry
        d = int(self.r.integers(-nd(a), nd(a)))
        return E(f"torch.cumsum({a.t}, {d})", f"jnp.cumsum({a.j}, axis={d})", a.shape, True, a.linalg)

    def k_matmul(self, depth):
        a = self.expr(depth - 1)
        b = self.expr(depth - 1)
        s = mshape(a.shape, b.shape)
        if s is None:
            if nd(a) >= 1 and self.r.random() < 0.5:  # a with itself: a.mT @ a, or a @ a for a vector
                b = a
                a = E(f"{par(a, 't')}.mT", f"jnp.swapaxes({a.j}, -1, -2)", a.shape[:-2] + a.shape[::-1][:2], True,
                      a.linalg) if nd(a) >= 2 else a
                s = mshape(a.shape, b.shape)
            if s is None:
                raise Retry
        return E(f"{par(a, 't')} @ {par(b, 't')}", f"{par(a, 'j')} @ {par(b, 'j')}", s, False, a.linalg or b.linalg)

    def k_einsum(self, depth):
        a = self.expr(depth - 1)
        spec = {1: ["i,i->", "i,j->ij", "i,i->i"], 2: ["ij,kj->ik", "ij,ij->j", "ij->ji", "ii->i", "ij,ik->jk"],
                3: ["bij,bkj->bik", "bij->bj", "bij,bij->b"]}.get(nd(a))
        if not spec:
            raise Retry
        sp = self.pick(spec)
        if sp == "ii->i" and a.shape[0] != a.shape[1]:
            raise Retry
        ins, out = sp.split("->")
        sizes = {}
        for k, ch in enumerate(ins.split(",")[0]):
            sizes[ch] = a.shape[k]
        for ch in ins.split(",")[-1]:
            sizes.setdefault(ch, a.shape[ins.split(",")[-1].index(ch)])
        shape = tuple(sizes[c] for c in out)
        n = len(ins.split(","))
        b = a if n == 2 and self.r.random() < 0.5 else (self.leaf(a.shape) if n == 2 else None)
        ta = ", ".join([a.t] + ([b.t] if b else []))
        ja = ", ".join([a.j] + ([b.j] if b else []))
        return E(f"torch.einsum('{sp}', {ta})", f"jnp.einsum('{sp}', {ja})", shape, True, a.linalg)

    def k_index(self, depth):
        a = self.expr(depth - 1)
        if nd(a) == 0:
            raise Retry
        n0 = a.shape[0]
        kind = self.pick(["int", "slice", "col", "step", "gather", "flip", "neg"])
        if kind == "int":
            k = int(self.r.integers(-n0, n0))
            return E(f"{par(a, 't')}[{k}]", f"{par(a, 'j')}[{k}]", a.shape[1:], True, a.linalg)
        if kind == "neg" and n0 > 1:
            return E(f"{par(a, 't')}[:-1]", f"{par(a, 'j')}[:-1]", (n0 - 1,) + a.shape[1:], True, a.linalg)
        if kind == "slice" and n0 > 1:
            return E(f"{par(a, 't')}[1:]", f"{par(a, 'j')}[1:]", (n0 - 1,) + a.shape[1:], True, a.linalg)
        if kind == "col" and nd(a) >= 2:
            k = int(self.r.integers(0, a.shape[1]))
            return E(f"{par(a, 't')}[:, {k}]", f"{par(a, 'j')}[:, {k}]", a.shape[:1] + a.shape[2:], True, a.linalg)
        if kind == "step":
            m = a.shape[-1]
            return E(f"{par(a, 't')}[..., ::2]", f"{par(a, 'j')}[..., ::2]", a.shape[:-1] + ((m + 1) // 2,), True,
                     a.linalg)
        if kind == "gather":
            idx = [int(i) for i in self.r.integers(0, n0, int(self.r.integers(1, 5)))]
            return E(f"{par(a, 't')}[{idx}]", f"{par(a, 'j')}[jnp.array({idx})]", (len(idx),) + a.shape[1:], True,
                     a.linalg)
        d = int(self.r.integers(0, nd(a)))
        return E(f"torch.flip({a.t}, ({d},))", f"jnp.flip({a.j}, {d})", a.shape, True, a.linalg)

    def k_shape(self, depth):
        a = self.expr(depth - 1)
        kind = self.pick(["flat", "permute", "unsqueeze", "reshape", "mT"])
        if kind == "flat":
            n = int(np.prod(a.shape, dtype=int))
            return E(f"{par(a, 't')}.reshape(-1)", f"{par(a, 'j')}.reshape(-1)", (n,), True, a.linalg)
        if kind == "permute" and nd(a) >= 2:
            perm = [int(i) for i in self.r.permutation(nd(a))]
            return E(f"{par(a, 't')}.permute({', '.join(map(str, perm))})", f"jnp.transpose({a.j}, {tuple(perm)})",
                     tuple(a.shape[i] for i in perm), True, a.linalg)
        if kind == "mT" and nd(a) >= 2:
            return E(f"{par(a, 't')}.mT", f"jnp.swapaxes({a.j}, -1, -2)", a.shape[:-2] + a.shape[::-1][:2], True,
                     a.linalg)
        if kind == "reshape" and nd(a) >= 1:
            n = int(np.prod(a.shape, dtype=int))
            divs = [k for k in range(1, n + 1) if n % k == 0]
            k = self.pick(divs)
            return E(f"{par(a, 't')}.reshape({k}, {n // k})", f"{par(a, 'j')}.reshape({k}, {n // k})", (k, n // k),
                     True, a.linalg)
        if nd(a) >= 3:
            raise Retry
        d = int(self.r.integers(0, nd(a) + 1))
        return E(f"torch.unsqueeze({a.t}, {d})", f"jnp.expand_dims({a.j}, {d})", a.shape[:d] + (1,) + a.shape[d:],
                 True, a.linalg)

    def k_join(self, depth):
        a = self.expr(depth - 1)
        same = [e for e in self.env.values() if e.shape == a.shape]
        if same and self.r.random() < 0.5:
            b = self.pick(same)
        else:
            ft, fj = self.pick(UNARY[:10])
            b = E(ft.format(par(a, "t")), fj.format(par(a, "j")), a.shape, False, a.linalg)
        if nd(a) >= 1 and self.r.random() < 0.5:
            d = int(self.r.integers(-nd(a), nd(a)))
            s = list(a.shape)
            s[d] *= 2
            return E(f"torch.cat([{a.t}, {b.t}], {d})", f"jnp.concatenate([{a.j}, {b.j}], {d})", tuple(s), True,
                     a.linalg or b.linalg)
        d = int(self.r.integers(0, nd(a) + 1))
        return E(f"torch.stack([{a.t}, {b.t}], {d})", f"jnp.stack([{a.j}, {b.j}], {d})",
                 a.shape[:d] + (2,) + a.shape[d:], True, a.linalg or b.linalg)

    def k_linalg(self, depth):
        a = self.expr(depth - 1)
        if nd(a) == 1:
            n = a.shape[0]
            sq_t, sq_j = f"torch.outer({a.t}, {a.t})", f"jnp.outer({a.j}, {a.j})"
        elif nd(a) == 2:
            n = a.shape[0]
            if a.shape[0] == a.shape[1] and self.r.random() < 0.5:
                sq_t, sq_j = a.t, a.j
            else:
                sq_t, sq_j = f"{par(a, 't')} @ {par(a, 't')}.mT", f"{par(a, 'j')} @ {par(a, 'j')}.T"
        else:
            raise Retry
        S_t, S_j = f"torch.eye({n}) * 2 + 0.5 * ({sq_t})", f"jnp.eye({n}) * 2 + 0.5 * ({sq_j})"
        op = self.pick(["solve", "solve", "inv", "det"])
        if op == "solve":
            return E(f"torch.linalg.solve({S_t}, {a.t})", f"jnp.linalg.solve({S_j}, {a.j})", a.shape, True, True)
        if op == "inv":
            return E(f"torch.linalg.inv({S_t})", f"jnp.linalg.inv({S_j})", (n, n), True, True)
        return E(f"torch.linalg.det({S_t})", f"jnp.linalg.det({S_j})", (), True, True)

    # ---- the wider op set (--narrow leaves it out)
    def k_binary2(self, depth):
        a = self.expr(depth - 1)
        b = self.other(a, depth)
        s = bshape(a.shape, b.shape)
        if s is None:
            raise Retry
        ft, fj = self.pick(BINARY2)
        return E(ft.format(a=a.t, b=b.t, pa=par(a, "t"), pb=par(b, "t")),
                 fj.format(a=a.j, b=b.j, pa=par(a, "j"), pb=par(b, "j")), s, True, a.linalg or b.linalg)

    def k_unary2(self, depth):
        a = self.expr(depth - 1)
        ft, fj = self.pick(UNARY2)
        return E(ft.format(par(a, "t")), fj.format(par(a, "j")), a.shape, True, a.linalg)

    def k_dimop(self, depth):
        """Ops along one dim keeping the shape: cumprod, sort, roll, cummax, normalize, std."""
        a = self.expr(depth - 1)
        if nd(a) == 0:
            raise Retry
        d = int(self.r.integers(-nd(a), nd(a)))
        op = self.pick(["cumprod", "sort", "roll", "cummax", "normalize", "std", "max_values", "topk", "diff",
                        "logcumsumexp"])
        n = a.shape[d]
        if op == "cumprod":
            return E(f"torch.cumprod({a.t}, {d})", f"jnp.cumprod({a.j}, axis={d})", a.shape, True, a.linalg)
        if op == "sort":
            return E(f"torch.sort({a.t}, {d}).values", f"jnp.sort({a.j}, axis={d})", a.shape, True, a.linalg)
        if op == "roll":
            k = int(self.r.integers(-3, 4))
            return E(f"torch.roll({a.t}, {k}, {d})", f"jnp.roll({a.j}, {k}, {d})", a.shape, True, a.linalg)
        if op == "cummax":
            return E(f"torch.cummax({a.t}, {d}).values", f"jax.lax.cummax({a.j}, axis={d % nd(a)})", a.shape, True,
                     a.linalg)
        if op == "logcumsumexp":
            return E(f"torch.logcumsumexp({a.t}, {d})", f"jax.lax.cumlogsumexp({a.j}, axis={d % nd(a)})", a.shape,
                     True, a.linalg)
        if op == "normalize":
            return E(f"F.normalize({a.t}, dim={d})",
                     f"({par(a, 'j')} / jnp.maximum(jnp.linalg.norm({a.j}, axis={d}, keepdims=True), 1e-12))", a.shape,
                     True, a.linalg)
        shape = tuple(m for i, m in enumerate(a.shape) if i != d % nd(a))
        if op == "std":
            return E(f"torch.std({a.t}, {d}, correction=0)", f"jnp.std({a.j}, axis={d})", shape, True, a.linalg)
        if op == "max_values":
            return E(f"torch.max({a.t}, {d}).values", f"jnp.max({a.j}, axis={d})", shape, True, a.linalg)
        if op == "diff":
            if n < 2:
                raise Retry
            s2 = list(a.shape)
            s2[d] -= 1
            return E(f"torch.diff({a.t}, dim={d})", f"jnp.diff({a.j}, axis={d})", tuple(s2), True, a.linalg)
        k = int(self.r.integers(1, n + 1))
        s2 = list(a.shape)
        s2[d] = k
        return E(f"torch.topk({a.t}, {k}, {d}).values", f"jnp.moveaxis(jax.lax.top_k(jnp.moveaxis({a.j}, {d}, -1), "
                 f"{k})[0], -1, {d})", tuple(s2), True, a.linalg)

    def k_matrix(self, depth):
        """Matrix functions of a square matrix: trace, diagonal, tril/triu, kron, matrix_power, cholesky, slogdet."""
        a = self.expr(depth - 1)
        if nd(a) != 2:
            raise Retry
        n, m = a.shape
        op = self.pick(["trace", "diagonal", "tril", "triu", "kron", "power", "cholesky", "slogdet", "fro",
                        "eigvalsh", "expm", "diag_embed"])
        if op == "trace" and n == m:
            return E(f"torch.trace({a.t})", f"jnp.trace({a.j})", (), True, a.linalg)
        if op == "diagonal":
            k = int(self.r.integers(-1, 2))
            size = len(np.diagonal(np.zeros(a.shape), k))
            if size == 0:
                raise Retry
            return E(f"torch.diagonal({a.t}, {k})", f"jnp.diagonal({a.j}, {k})", (size,), True, a.linalg)
        if op in ("tril", "triu"):
            k = int(self.r.integers(-1, 2))
            return E(f"torch.{op}({a.t}, {k})", f"jnp.{op}({a.j}, {k})", a.shape, True, a.linalg)
        if op == "kron" and n * m <= 6:
            b = self.leaf((2, 1)) if self.r.random() < 0.5 else a
            return E(f"torch.kron({a.t}, {b.t})", f"jnp.kron({a.j}, {b.j})", (n * b.shape[0], m * b.shape[1]), True,
                     a.linalg)
        if op == "fro":
            return E(f"torch.linalg.matrix_norm({a.t})", f"jnp.linalg.norm({a.j}, 'fro')", (), True, a.linalg)
        if op == "diag_embed" and m <= 3:
            return E(f"torch.diag_embed({a.t})", f"jax.vmap(jnp.diag)({a.j})", (n, m, m), True, a.linalg)
        # the rest take a well-conditioned symmetric positive definite S from a
        sq_t, sq_j = f"{par(a, 't')} @ {par(a, 't')}.mT", f"{par(a, 'j')} @ {par(a, 'j')}.T"
        S_t, S_j = f"torch.eye({n}) * 2 + 0.5 * ({sq_t})", f"jnp.eye({n}) * 2 + 0.5 * ({sq_j})"
        if op == "power":
            k = int(self.r.integers(2, 4))
            return E(f"torch.linalg.matrix_power({a.t} / 2, {k})" if n == m else f"torch.linalg.matrix_power(({S_t}) / 4, {k})",
                     f"jnp.linalg.matrix_power({a.j} / 2, {k})" if n == m else f"jnp.linalg.matrix_power(({S_j}) / 4, {k})",
                     (n, n), True, a.linalg)
        if op == "cholesky":
            return E(f"torch.linalg.cholesky({S_t})", f"jnp.linalg.cholesky({S_j})", (n, n), True, True)
        if op == "slogdet":
            return E(f"torch.linalg.slogdet({S_t})[1]", f"jnp.linalg.slogdet({S_j})[1]", (), True, True)
        if op == "eigvalsh":
            return E(f"torch.linalg.eigvalsh({S_t})", f"jnp.linalg.eigvalsh({S_j})", (n,), True, True)
        if op == "expm":
            return E(f"torch.linalg.matrix_exp(({S_t}) / 4)", f"jax.scipy.linalg.expm(({S_j}) / 4)", (n, n), True, True)
        raise Retry

    def k_gather(self, depth):
        """index_select, gather along a dim, narrow, repeat / tile, expand, chunks, flatten of a range."""
        a = self.expr(depth - 1)
        if nd(a) == 0:
            raise Retry
        d = int(self.r.integers(0, nd(a)))
        n = a.shape[d]
        op = self.pick(["index_select", "gather", "narrow", "repeat", "expand", "chunk", "take_along"])
        if op == "index_select":
            idx = [int(i) for i in self.r.integers(0, n, int(self.r.integers(1, 4)))]
            s2 = list(a.shape)
            s2[d] = len(idx)
            return E(f"torch.index_select({a.t}, {d}, torch.tensor({idx}))", f"jnp.take({a.j}, jnp.array({idx}), "
                     f"axis={d})", tuple(s2), True, a.linalg)
        if op in ("gather", "take_along"):
            idx = self.r.integers(0, n, a.shape).tolist()
            return E(f"torch.gather({a.t}, {d}, torch.tensor({idx}))",
                     f"jnp.take_along_axis({a.j}, jnp.array({idx}), axis={d})", a.shape, True, a.linalg)
        if op == "narrow" and n > 1:
            st = int(self.r.integers(0, n - 1))
            ln = int(self.r.integers(1, n - st + 1))
            s2 = list(a.shape)
            s2[d] = ln
            sl = ", ".join([":"] * d + [f"{st}:{st + ln}"])
            return E(f"torch.narrow({a.t}, {d}, {st}, {ln})", f"{par(a, 'j')}[{sl}]", tuple(s2), True, a.linalg)
        if op == "repeat":
            reps = [int(self.r.integers(1, 3)) for _ in a.shape]
            return E(f"{par(a, 't')}.repeat({', '.join(map(str, reps))})", f"jnp.tile({a.j}, {tuple(reps)})",
                     tuple(r * m for r, m in zip(reps, a.shape)), True, a.linalg)
        if op == "expand" and 1 in a.shape:
            s2 = tuple(int(self.r.integers(2, 4)) if m == 1 else m for m in a.shape)
            return E(f"{par(a, 't')}.expand({', '.join(map(str, s2))})", f"jnp.broadcast_to({a.j}, {s2})", s2, True,
                     a.linalg)
        if op == "chunk" and n > 1:
            s2 = list(a.shape)
            s2[d] = (n + 1) // 2
            return E(f"torch.chunk({a.t}, 2, {d})[0]", f"jnp.split({a.j}, [{(n + 1) // 2}], axis={d})[0]", tuple(s2),
                     True, a.linalg)
        raise Retry

    def program(self):
        stmts_t, stmts_j = [], []
        linalg = False
        for k in range(int(self.r.integers(1, 4))):
            e = self.expr(int(self.r.integers(2, 5)))
            name = f"h{k}"
            stmts_t.append(f"{name} = {e.t}")
            stmts_j.append(f"{name} = {e.j}")
            self.env[name] = E(name, name, e.shape, True, e.linalg)
            linalg |= e.linalg
        n_out = self.pick([1, 1, 2, 2, 3])
        outs = []
        for k in range(n_out):
            named = [v for n, v in self.env.items() if n.startswith("h") and v not in outs]
            if named and self.r.random() < 0.5:  # an output named twice is refused (say which to rename)
                e = self.pick(named)
            else:
                e = self.expr(2)
                if e in outs or e.t in NAMES and any(o.t == e.t for o in outs):
                    raise Retry
            outs.append(e)
            linalg |= e.linalg
        if n_out == 1:
            last_t, last_j = outs[0].t, outs[0].j
        else:
            last_t, last_j = ", ".join(e.t for e in outs), ", ".join(e.j for e in outs)
        code_t = "; ".join(stmts_t + [last_t])
        code_j = "; ".join(stmts_j + [last_j])
        used = [n for n in self.shapes if re.search(rf"\b{n}\b", code_t)]
        if not used:
            raise Retry
        return Program(code_t, code_j, {n: self.shapes[n] for n in used}, n_out, linalg)


@dataclass
class Program:
    t: str
    j: str
    shapes: dict
    n_out: int
    linalg: bool
    name: str = ""
    lib: str = "t"
    extra: dict = field(default_factory=dict)

    @property
    def code(self):
        return self.t if self.lib == "t" else self.j


def draw(seed, i):
    rng = np.random.default_rng([seed, i, 34])
    for _ in range(50):
        try:
            p = Gen(rng).program()
        except Retry:
            continue
        p.name, p.lib = f"s{seed}-{i}", "t" if i % 2 == 0 else "j"
        return p
    raise RuntimeError("no program drawn")


# ---------------------------------------------------------------------------------------------- references
def _split(code):
    tree = ast.parse(code.replace("; ", "\n"))
    last = tree.body[-1]
    body = compile(ast.Module(body=tree.body[:-1], type_ignores=[]), "<p>", "exec")
    return body, compile(ast.Expression(last.value), "<p>", "eval")


def torch_fn(code, names, scope_extra=None):
    import torch
    import torch.nn.functional as F
    body, last = _split(code)

    def f(*args):
        scope = {"torch": torch, "F": F, **dict(zip(names, args)), **(scope_extra or {})}
        exec(body, scope)  # noqa: S102
        out = eval(last, scope)  # noqa: S307
        return tuple(out) if isinstance(out, tuple) else (out,)
    return f


def jax_fn(code, names):
    import jax
    import jax.numpy as jnp
    import jax.scipy.special  # noqa: F401
    body, last = _split(code)

    def f(*args):
        scope = {"jax": jax, "jnp": jnp, **dict(zip(names, args))}
        exec(body, scope)  # noqa: S102
        out = eval(last, scope)  # noqa: S307
        return tuple(jnp.asarray(o, dtype=jnp.float64) for o in (out if isinstance(out, tuple) else (out,)))
    return f


class Kinks:
    """The kink ops of PyTorch's spelling, recording how near their arguments are to a kink."""

    def __init__(self):
        import torch
        self.torch, self.near = torch, []

    def _rec(self, d):
        d = self.torch.as_tensor(d).detach().abs()
        if d.numel():
            self.near.append(float(d.min()))

    def abs(self, a):
        self._rec(a)
        return self.torch.abs(a)

    def relu(self, a):
        self._rec(a)
        return self.torch.relu(a)

    def clamp(self, a, lo, hi):
        self._rec(a - lo)
        self._rec(a - hi)
        return self.torch.clamp(a, lo, hi)

    def maximum(self, a, b):
        self._rec(a - b)
        return self.torch.maximum(a, b)

    def minimum(self, a, b):
        self._rec(a - b)
        return self.torch.minimum(a, b)

    def gt(self, a, c):
        self._rec(a - c)
        return self.torch.gt(a, c)

    def amax(self, a, dim=None, keepdim=False):
        t = self.torch
        flat = a.reshape(-1, 1) if dim is None else a.movedim(dim if isinstance(dim, int) else dim[0], -1)
        if dim is None:
            flat = a.reshape(1, -1)
        elif isinstance(dim, tuple) and len(dim) > 1:
            flat = a.reshape(1, -1)
        if flat.shape[-1] > 1:
            top = t.topk(flat, 2, dim=-1).values
            self._rec(top[..., 0] - top[..., 1])
        return t.amax(a) if dim is None else t.amax(a, dim=dim, keepdim=keepdim)

    def _gaps(self, a, d):
        """The smallest distance between two entries along dim d (ties of sort, max, cummax, topk)."""
        a = a.detach().movedim(d, -1)
        if a.shape[-1] > 1:
            diff = a.unsqueeze(-1) - a.unsqueeze(-2)
            n = a.shape[-1]
            off = ~self.torch.eye(n, dtype=self.torch.bool)
            self._rec(diff[..., off])

    def sort(self, a, d=-1):
        self._gaps(a, d)
        return self.torch.sort(a, d)

    def cummax(self, a, d):
        self._gaps(a, d)
        return self.torch.cummax(a, d)

    def max(self, a, d):
        self._gaps(a, d)
        return self.torch.max(a, d)

    def topk(self, a, k, d):
        self._gaps(a, d)
        return self.torch.topk(a, k, d)

    def hardtanh(self, a):
        self._rec(a - 1)
        self._rec(a + 1)
        return self.torch.nn.functional.hardtanh(a)

    def leaky_relu(self, a, s):
        self._rec(a)
        return self.torch.nn.functional.leaky_relu(a, s)

    def elu(self, a):
        self._rec(a)
        return self.torch.nn.functional.elu(a)

    def fmax(self, a, b):
        self._rec(a - b)
        return self.torch.fmax(a, b)

    def fmin(self, a, b):
        self._rec(a - b)
        return self.torch.fmin(a, b)

    def vector_norm(self, a, *args, **kw):
        r = self.torch.linalg.vector_norm(a, *args, **kw)
        self._rec(r)
        return r

    def _cond(self, S):
        c = float(self.torch.linalg.cond(S.detach()))
        self.near.append(KINK * 10 if c < COND else 0.0)

    def solve(self, S, b):
        self._cond(S)
        return self.torch.linalg.solve(S, b)

    def inv(self, S):
        self._cond(S)
        return self.torch.linalg.inv(S)


KINK_NAMES = {"torch.abs(": "_K.abs(", "torch.relu(": "_K.relu(", "torch.clamp(": "_K.clamp(",
              "torch.maximum(": "_K.maximum(", "torch.minimum(": "_K.minimum(", "torch.gt(": "_K.gt(",
              "torch.amax(": "_K.amax(", "torch.linalg.vector_norm(": "_K.vector_norm(",
              "torch.linalg.solve(": "_K.solve(", "torch.linalg.inv(": "_K.inv(", "torch.sort(": "_K.sort(",
              "torch.cummax(": "_K.cummax(", "torch.max(": "_K.max(", "torch.topk(": "_K.topk(",
              "F.hardtanh(": "_K.hardtanh(", "F.leaky_relu(": "_K.leaky_relu(", "F.elu(": "_K.elu(",
              "torch.fmax(": "_K.fmax(", "torch.fmin(": "_K.fmin("}


def kinked(p, points):
    """The smallest distance to a kink over the points (each a tuple of float64 arrays, one example)."""
    import torch
    code = p.t
    for a, b in KINK_NAMES.items():
        code = code.replace(a, b)
    K = Kinks()
    f = torch_fn(code, list(p.shapes), {"_K": K})
    with torch.no_grad():
        for pt in points:
            f(*(torch.tensor(v) for v in pt))
    return min(K.near, default=1.0)


# ---------------------------------------------------------------------------------------------- jac
def cli(args):
    """``(exit code, JSON or None, stderr)`` of ``jac ARGS`` run in this process."""
    from jacobi_cli.cli import entry
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = entry.main([str(a) for a in args])
    try:
        obj = json.loads(out.getvalue()) if out.getvalue().strip() else None
    except ValueError:
        obj = None
    return code, obj, err.getvalue()


def text(v):
    v = np.asarray(v, dtype=np.float64)
    return repr(float(v)) if v.ndim == 0 else repr(v.tolist())


def arr(value):
    def one(v):
        if isinstance(v, list):
            return [one(e) for e in v]
        return {"NaN": np.nan, "Infinity": np.inf, "-Infinity": -np.inf}.get(v, v) if isinstance(v, str) else v
    return np.asarray(one(value), dtype=np.float64)


class Refused(Exception):
    pass


class Crash(Exception):
    pass


class Wrong(Exception):
    pass


class Skip(Exception):
    pass


def jac_call(fn, *args, **kw):
    from jacobi_cli.errors import JacError
    try:
        return fn(*args, **kw)
    except JacError as e:
        raise Refused(str(e).splitlines()[0][:200]) from None
    except (Refused, Crash, Wrong, Skip):
        raise
    except Exception:  # noqa: BLE001 - the fuzz's point
        raise Crash(traceback.format_exc(limit=-3).strip().splitlines()[-1][:300]) from None


def jac_cli(args):
    code, obj, err = cli(args)
    if code == 2:
        raise Refused(err.strip().splitlines()[0][:200] if err.strip() else "exit 2")
    if code != 0 or obj is None:
        raise Crash(f"exit {code}: {err.strip()[-300:]}")
    return obj


def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def check(what, ours, theirs, rtol, derivative=True, dtype="float64", alt=None, second=None, notes=None):
    """Wrong unless ``ours`` is ``theirs`` (PyTorch's) within rtol; where it is not, ``second()`` (JAX's answer to
    the same question, asked only then) decides: PyTorch's torch.func is itself wrong in a few higher-order and
    vmap cases (docs/batches-outputs-orders.md), counted in ``notes`` as ``torch-func``."""
    d = differ(ours, theirs, alt, dtype, derivative=derivative, rtol=rtol)
    if d and second is not None:
        other = second()
        d2 = differ(ours, other, alt, dtype, derivative=derivative, rtol=rtol, ref="jax")
        if d2 is None:
            if notes is not None:
                notes[what.split(" ")[0] + " " + what.split(" ")[1]] += 1
            return
        d = f"{d}; vs jax: {d2}"
    if d:
        raise Wrong(f"{what}: {d}")


def per_output(res, outs):
    """An API answer keyed by output: ``{out: ...}`` (one output: ``{None: res}``)."""
    return {None: res} if outs is None else res


class Run:
    def __init__(self, p, seed, i):
        self.p, self.seed, self.i = p, seed, i
        self.names = list(p.shapes)
        self.rtol = 1e-5 if p.linalg else 1e-6
        self.outs = None if p.n_out == 1 else self.out_names()
        self.notes = Counter()  # where PyTorch differed and JAX agreed with jac

    def out_names(self):
        last = ast.parse(self.p.t.replace("; ", "\n")).body[-1].value
        return [e.id if isinstance(e, ast.Name) else f"y{k}" for k, e in enumerate(last.elts)]

    def keyed(self, tup):
        """A reference's tuple of per-output answers keyed as jac keys them."""
        return {None: tup[0]} if self.outs is None else dict(zip(self.outs, tup))

    # -------- points
    def draw_points(self):
        rng = np.random.default_rng([self.seed, self.i, 340])
        for _ in range(5):
            x1 = {n: rng.uniform(-1.3, 1.3, s) for n, s in self.p.shapes.items()}
            x2 = {n: rng.uniform(-1.3, 1.3, s) for n, s in self.p.shapes.items()}
            B = int(rng.integers(1, 4))
            k = int(rng.integers(1, len(self.names) + 1))
            batched = sorted(rng.choice(self.names, k, replace=False).tolist(), key=self.names.index)
            axes = {n: int(rng.integers(0, len(self.p.shapes[n]) + 1)) for n in batched}
            examples = [{n: (rng.uniform(-1.3, 1.3, self.p.shapes[n]) if n in batched else x1[n]) for n in self.names}
                        for _ in range(B)]
            pts = [tuple(pt[n] for n in self.names) for pt in [x1, x2] + examples]
            if kinked(self.p, pts) > KINK:
                self.x1, self.x2, self.B, self.axes, self.examples = x1, x2, B, axes, examples
                self.rng = rng
                return True
        return False

    def batched_inputs(self):
        out = {}
        for n in self.names:
            if n in self.axes:
                out[n] = np.stack([ex[n] for ex in self.examples], self.axes[n])
            else:
                out[n] = self.x1[n]
        return out

    # -------- references
    def tf(self, dtype="float64"):
        return torch_fn(self.p.t, self.names)

    def T(self, d, dtype="float64"):
        import torch
        return tuple(torch.tensor(d[n], dtype=getattr(torch, dtype)) for n in self.names)

    @staticmethod
    def np_(t):
        if isinstance(t, (tuple, list)):
            return type(t)(Run.np_(e) for e in t)
        return t.detach().double().numpy()

    def ref(self, fn):
        try:
            return fn()
        except Exception as e:  # noqa: BLE001
            raise Skip(f"reference: {type(e).__name__}: {str(e)[:120]}") from None

    # -------- JAX, asked where PyTorch and jac differ
    def jx(self, d):
        import jax.numpy as jnp
        return tuple(jnp.asarray(d[n]) for n in self.names)

    def jf(self):
        return jax_fn(self.p.j, self.names)

    def jax_lazy(self, make):
        """A thunk of JAX's answer (a nested tuple of arrays), computed once when first asked."""
        memo = []

        def get():
            if not memo:
                try:
                    memo.append(_np_tree(make()))
                except Exception as e:  # noqa: BLE001 - JAX refuses: no second opinion
                    memo.append(f"jax raised {type(e).__name__}: {str(e)[:100]}")
            return memo[0]
        return get

    @staticmethod
    def part(get, *path):
        def thunk():
            v = get()
            if isinstance(v, str):
                return np.full((), np.inf)  # JAX raised: no agreement to be had
            for k in path:
                v = v[k]
            return v
        return thunk

    def idx(self):
        return tuple(range(len(self.names)))

    # -------- the checks
    def c_several(self):
        import jax
        import torch
        from jacobi_cli.tools import api
        f = self.tf()
        val = self.ref(lambda: self.np_(f(*self.T(self.x1))))
        J = self.ref(lambda: self.np_(torch.autograd.functional.jacobian(f, self.T(self.x1))))
        J2 = self.ref(lambda: self.np_(torch.autograd.functional.jacobian(f, self.T(self.x2))))
        Jj = self.jax_lazy(lambda: jax.jacrev(self.jf(), argnums=self.idx())(*self.jx(self.x1)))
        Jj2 = self.jax_lazy(lambda: jax.jacrev(self.jf(), argnums=self.idx())(*self.jx(self.x2)))
        got = jac_call(api.evaluate, self.p.code, self.x1)
        got = (got,) if self.outs is None else tuple(got)
        for k, (a, b) in enumerate(zip(got, val)):
            check(f"value {k}", a, b, self.rtol, derivative=False)
        first = per_output(jac_call(api.jacobian, self.p.code, self.x1), self.outs)
        for k, o in enumerate(self.outs or [None]):
            for i, n in enumerate(self.names):
                check(f"jacobian {o}/{n}", first[o][n], J[k][i], self.rtol, second=self.part(Jj, k, i),
                      notes=self.notes)
        for call in range(3):
            again = per_output(jac_call(api.jacobian, self.p.code, self.x1), self.outs)
            for o in first:
                for n in self.names:
                    if not same_bits(first[o][n], again[o][n]):
                        raise Crash(f"jacobian call {call + 2} {o}/{n} is not the first call's bits: "
                                    f"{differ(again[o][n], first[o][n], None, 'float64', rtol=0)}")
        at2 = per_output(jac_call(api.jacobian, self.p.code, self.x2), self.outs)
        for k, o in enumerate(self.outs or [None]):
            for i, n in enumerate(self.names):
                check(f"jacobian at-x2 {o}/{n}", at2[o][n], J2[k][i], self.rtol, second=self.part(Jj2, k, i),
                      notes=self.notes)

    def c_vjp(self):
        import jax
        import torch
        from jacobi_cli.tools import api
        f = self.tf()
        val = self.ref(lambda: self.np_(f(*self.T(self.x1))))
        vs = tuple(self.rng.standard_normal(np.shape(v)) for v in val)
        want = self.ref(lambda: self.np_(torch.func.vjp(f, *self.T(self.x1))[1](
            tuple(torch.tensor(v) for v in vs))))
        wj = self.jax_lazy(lambda: jax.vjp(self.jf(), *self.jx(self.x1))[1](tuple(vs)))
        v = vs[0] if self.outs is None else dict(zip(self.outs, vs))
        for call in range(2):
            got = jac_call(api.vjp, self.p.code, self.x1, v=v)
            for i, n in enumerate(self.names):
                check(f"vjp {n} (call {call + 1})", got[n], want[i], self.rtol, second=self.part(wj, i),
                      notes=self.notes)

    def c_jvp(self):
        import jax
        import torch
        from jacobi_cli.tools import api
        f = self.tf()
        ts = {n: self.rng.standard_normal(self.p.shapes[n]) for n in self.names}
        want = self.ref(lambda: self.np_(torch.func.jvp(f, self.T(self.x1), self.T(ts))[1]))
        wj = self.jax_lazy(lambda: jax.jvp(self.jf(), self.jx(self.x1), self.jx(ts))[1])
        for call in range(2):
            got = per_output(jac_call(api.jvp, self.p.code, self.x1, ts), self.outs)
            for k, o in enumerate(self.outs or [None]):
                check(f"jvp {o} (call {call + 1})", got[o], want[k], self.rtol, second=self.part(wj, k),
                      notes=self.notes)

    def c_hessian(self):
        import jax
        from torch.func import jacfwd, jacrev
        from jacobi_cli.tools import api
        f, idx = self.tf(), self.idx()
        H = self.ref(lambda: self.np_(jacfwd(jacrev(f, argnums=idx), argnums=idx)(*self.T(self.x1))))
        Hj = self.jax_lazy(lambda: jax.jacfwd(jax.jacrev(self.jf(), argnums=idx), argnums=idx)(*self.jx(self.x1)))
        got = jac_call(api.hessian, self.p.code, self.x1)
        got = {None: got} if self.outs is None else got
        for k, o in enumerate(self.outs or [None]):
            for i, a in enumerate(self.names):
                for j, b in enumerate(self.names):
                    check(f"hessian {o} {a},{b}", got[o][(a, b)], H[k][i][j], self.rtol,
                          second=self.part(Hj, k, i, j), notes=self.notes)

    def nested_torch(self, i, order, point):
        from torch.func import jacfwd, jacrev
        g = jacrev(self.tf(), argnums=i)
        for _ in range(order - 1):
            g = jacfwd(g, argnums=i)
        return self.ref(lambda: self.np_(g(*self.T(point))))

    def nested_jax(self, i, order):
        import jax
        g = jax.jacrev(self.jf(), argnums=i)
        for _ in range(order - 1):
            g = jax.jacfwd(g, argnums=i)
        return g

    def small_enough(self, order, name, outs_sizes, batch=1):
        n = int(np.prod(self.p.shapes[name], dtype=int))
        return max(outs_sizes) * n ** order * batch <= 20000

    def c_order(self):
        from jacobi_cli.tools import api
        i = int(self.rng.integers(len(self.names)))
        name = self.names[i]
        val = self.ref(lambda: self.np_(self.tf()(*self.T(self.x1))))
        sizes = [np.size(v) for v in val]
        for order in (2, 3):
            if not self.small_enough(order, name, sizes):
                continue
            want = self.nested_torch(i, order, self.x1)
            wj = self.jax_lazy(lambda order=order: self.nested_jax(i, order)(*self.jx(self.x1)))
            got = per_output(jac_call(api.derivative, self.p.code, self.x1, order, wrt=[name]), self.outs)
            for k, o in enumerate(self.outs or [None]):
                check(f"order-{order} {o} by {name}", got[o], want[k], self.rtol, second=self.part(wj, k),
                      notes=self.notes)
            if order == 3:
                obj = jac_cli(["derivative", self.p.code, *[f"{n}={text(v)}" for n, v in self.x1.items()],
                               "--order", 3, "--wrt", name, "--json"])
                blocks = {None: obj["derivative"]} if self.outs is None else obj["derivatives"]
                for k, o in enumerate(self.outs or [None]):
                    check(f"cli-order-3 {o} by {name}", arr(blocks[o][name]["value"]), want[k], self.rtol,
                          second=self.part(wj, k), notes=self.notes)

    # -------- batches
    def in_dims(self):
        return tuple(self.axes.get(n) for n in self.names)

    def vmapped(self, g):
        """vmap of g over the batch, else g example by example, stacked (outputs: nested tuples)."""
        import torch
        inputs = self.batched_inputs()
        try:
            return self.np_(torch.func.vmap(g, in_dims=self.in_dims())(*self.T(inputs)))
        except Exception:  # noqa: BLE001 - a missing batching rule: one by one
            per = [self.ref(lambda ex=ex: self.np_(g(*self.T(tuple_env(ex, self.names))))) for ex in self.examples]
            return _stack(per)

    def jax_vmapped(self, g, extra=(), extra_axes=()):
        import jax
        inputs = self.batched_inputs()
        return self.jax_lazy(lambda: jax.vmap(g, in_axes=self.in_dims() + tuple(extra_axes))(
            *self.jx(inputs), *extra))

    def bargs(self):
        inputs = self.batched_inputs()
        args = [f"{n}={text(v)}" for n, v in inputs.items()]
        for n, a in self.axes.items():
            args += ["--batch", f"{n}:{a}"]
        return inputs, args

    def c_batch(self):
        import jax
        import jax.numpy as jnp
        import torch
        from torch.func import jacfwd, jacrev
        from jacobi_cli.tools import api
        f, fj, idx = self.tf(), self.jf(), self.idx()
        inputs, args = self.bargs()
        specs = [f"{n}:{a}" for n, a in self.axes.items()]
        val = self.vmapped(f)
        J = self.vmapped(jacrev(f, argnums=idx))
        Jj = self.jax_vmapped(jax.jacrev(fj, argnums=idx))
        # eval through the CLI
        obj = jac_cli(["eval", self.p.code, *args, "--json"])
        vals = [obj["output"]["value"]] if self.outs is None else [o["value"] for o in obj["outputs"]]
        for k, (a, b) in enumerate(zip(vals, val)):
            check(f"batch value {k}", arr(a), b, self.rtol, derivative=False)
        blocks = {None: obj["jacobian"]} if self.outs is None else obj["jacobians"]
        for k, o in enumerate(self.outs or [None]):
            for i, n in enumerate(self.names):
                check(f"batch cli-jacobian {o}/{n}", arr(blocks[o][n]["value"]), J[k][i], self.rtol,
                      second=self.part(Jj, k, i), notes=self.notes)
        # the API, twice (examples after the first run a kernel)
        for call in range(2):
            got = per_output(jac_call(api.jacobian, self.p.code, inputs, batch=specs), self.outs)
            for k, o in enumerate(self.outs or [None]):
                for i, n in enumerate(self.names):
                    check(f"batch api-jacobian {o}/{n} (call {call + 1})", got[o][n], J[k][i], self.rtol,
                          second=self.part(Jj, k, i), notes=self.notes)
        # vjp: v per output (B, *y); with several outputs sometimes one left out (zeros)
        vs = tuple(self.rng.standard_normal(np.shape(v)) for v in val)
        skip_v = self.outs is not None and self.rng.random() < 0.3
        if skip_v:
            vs = (np.zeros_like(vs[0]),) + vs[1:]
        m = len(self.names)

        def pulled(*a):
            return torch.func.vjp(f, *a[:m])[1](tuple(a[m:]))

        def pulled_j(*a):
            return jax.vjp(fj, *a[:m])[1](tuple(a[m:]))

        try:
            want = self.np_(torch.func.vmap(pulled, in_dims=self.in_dims() + (0,) * len(vs))(
                *self.T(inputs), *(torch.tensor(v) for v in vs)))
        except Exception:  # noqa: BLE001
            want = _stack([self.ref(lambda ex=ex, b=b: self.np_(pulled(*self.T(tuple_env(ex, self.names)),
                                                                        *(torch.tensor(v[b]) for v in vs))))
                           for b, ex in enumerate(self.examples)])
        wj = self.jax_vmapped(pulled_j, tuple(jnp.asarray(v) for v in vs), (0,) * len(vs))
        vargs = []
        for k, o in enumerate(self.outs or [None]):
            if skip_v and k == 0:
                continue
            vargs += ["--v", text(vs[k]) if o is None else f"{o}={text(vs[k])}"]
        obj = jac_cli(["vjp", self.p.code, *args, *vargs, "--json"])
        for i, n in enumerate(self.names):
            check(f"batch vjp {n}", arr(obj["vjp"][n]["value"]), want[i], self.rtol, second=self.part(wj, i),
                  notes=self.notes)
        # jvp: batched inputs' tangents at their axis; a shared input's its own shape or (B, *x)
        ts, targs, tb = {}, [], {}
        for n in self.names:
            s = self.p.shapes[n]
            if n in self.axes or self.rng.random() < 0.5:
                t = self.rng.standard_normal((self.B,) + s)
                tb[n] = t
                ts[n] = np.moveaxis(t, 0, self.axes[n]) if n in self.axes else t
            else:
                ts[n] = tb[n] = self.rng.standard_normal(s)
            targs += ["--tangent", f"{n}={text(ts[n])}"]
        t_dims = tuple(0 if np.ndim(tb[n]) > len(self.p.shapes[n]) else None for n in self.names)

        def pushed(*a):
            return torch.func.jvp(f, tuple(a[:m]), tuple(a[m:]))[1]

        def pushed_j(*a):
            return jax.jvp(fj, tuple(a[:m]), tuple(a[m:]))[1]

        try:
            jw = self.np_(torch.func.vmap(pushed, in_dims=self.in_dims() + t_dims)(
                *self.T(inputs), *(torch.tensor(tb[n]) for n in self.names)))
        except Exception:  # noqa: BLE001
            per = []
            for b, ex in enumerate(self.examples):
                tt = tuple(torch.tensor(tb[n][b] if t_dims[k] == 0 else tb[n]) for k, n in enumerate(self.names))
                per.append(self.ref(lambda ex=ex, tt=tt: self.np_(pushed(*self.T(tuple_env(ex, self.names)), *tt))))
            jw = _stack(per)
        jwj = self.jax_vmapped(pushed_j, tuple(jnp.asarray(tb[n]) for n in self.names), t_dims)
        obj = jac_cli(["jvp", self.p.code, *args, *targs, "--json"])
        got = {None: obj["jvp"]} if self.outs is None else obj["jvps"]
        for k, o in enumerate(self.outs or [None]):
            check(f"batch jvp {o}", arr(got[o]["value"]), jw[k], self.rtol, second=self.part(jwj, k),
                  notes=self.notes)
        # hessian and order 3 through the CLI
        sizes = [int(np.prod(np.shape(v)[1:], dtype=int)) for v in val]
        total = sum(int(np.prod(s, dtype=int)) for s in self.p.shapes.values())
        if max(sizes) * total ** 2 * self.B <= 20000:
            H = self.vmapped(jacfwd(jacrev(f, argnums=idx), argnums=idx))
            Hj = self.jax_vmapped(jax.jacfwd(jax.jacrev(fj, argnums=idx), argnums=idx))
            obj = jac_cli(["hessian", self.p.code, *args, "--json"])
            hs = {None: obj["hessian"]} if self.outs is None else obj["hessians"]
            for k, o in enumerate(self.outs or [None]):
                for i, a in enumerate(self.names):
                    for j, b in enumerate(self.names):
                        check(f"batch hessian {o} {a},{b}", arr(hs[o][f"{a},{b}"]["value"]), H[k][i][j], self.rtol,
                              second=self.part(Hj, k, i, j), notes=self.notes)
        i = int(self.rng.integers(len(self.names)))
        name = self.names[i]
        if self.small_enough(3, name, sizes, self.B):
            D = self.vmapped(jacfwd(jacfwd(jacrev(f, argnums=i), argnums=i), argnums=i))
            Dj = self.jax_vmapped(self.nested_jax(i, 3))
            obj = jac_cli(["derivative", self.p.code, *args, "--order", 3, "--wrt", name, "--json"])
            ds = {None: obj["derivative"]} if self.outs is None else obj["derivatives"]
            for k, o in enumerate(self.outs or [None]):
                check(f"batch order-3 {o} by {name}", arr(ds[o][name]["value"]), D[k], self.rtol,
                      second=self.part(Dj, k), notes=self.notes)

    def c_compiled(self):
        """``jacobi_cli.compile`` held and called at x1, x2, x1, x2 (later calls run kernels): value, Jacobians,
        vjp, jvp against PyTorch at each point, and each repeated call the first call's bits."""
        import torch
        import jacobi_cli
        f = self.tf()
        c = jac_call(jacobi_cli.compile, self.p.code, {n: f":{'x'.join(map(str, s)) or '()'}"
                                                       for n, s in self.p.shapes.items()})
        first = {}
        for k, pt in enumerate([self.x1, self.x2, self.x1, self.x2, self.x1]):
            key = "x1" if k % 2 == 0 else "x2"
            val = self.ref(lambda pt=pt: self.np_(f(*self.T(pt))))
            J = self.ref(lambda pt=pt: self.np_(torch.autograd.functional.jacobian(f, self.T(pt))))
            rng = np.random.default_rng([self.seed, self.i, k % 2])
            vs = tuple(rng.standard_normal(np.shape(v)) for v in val)
            ts = {n: rng.standard_normal(self.p.shapes[n]) for n in self.names}
            got_v = jac_call(c.value, pt)
            got_v = (got_v,) if self.outs is None else tuple(got_v)
            got_J = per_output(jac_call(c.jacobian, pt), self.outs)
            got_p = jac_call(c.vjp, pt, vs[0] if self.outs is None else dict(zip(self.outs, vs)))
            got_t = per_output(jac_call(c.jvp, pt, ts), self.outs)
            answers = {"value": got_v, "jac": got_J, "vjp": got_p, "jvp": got_t}
            if key in first:
                for what, a in answers.items():
                    for path, x, y in _leaves(a, first[key][what]):
                        if not same_bits(x, y):
                            raise Crash(f"compiled {what}{path} call {k + 1} is not the first call's bits at {key}: "
                                        f"{differ(x, y, None, 'float64', rtol=0)}")
                continue
            first[key] = answers
            for q, (a, b) in enumerate(zip(got_v, val)):
                check(f"compiled value {q} at {key}", a, b, self.rtol, derivative=False)
            for q, o in enumerate(self.outs or [None]):
                for i, n in enumerate(self.names):
                    check(f"compiled jacobian {o}/{n} at {key}", got_J[o][n], J[q][i], self.rtol)
                want_t = sum(np.tensordot(J[q][i], ts[n], axes=len(self.p.shapes[n])) for i, n in enumerate(self.names))
                check(f"compiled jvp {o} at {key}", got_t[o], want_t, self.rtol)
            for i, n in enumerate(self.names):
                want_p = sum(np.tensordot(vs[q], J[q][i], axes=np.ndim(vs[q])) for q in range(len(vs)))
                check(f"compiled vjp {n} at {key}", got_p[n], want_p, self.rtol)

    def c_batch32(self):
        """The batched Jacobians in float32 (the API, twice) against PyTorch's float32 vmap(jacrev)."""
        import torch
        from torch.func import jacrev
        from jacobi_cli.tools import api
        f, idx = self.tf(), self.idx()
        inputs = self.batched_inputs()
        specs = [f"{n}:{a}" for n, a in self.axes.items()]
        J64 = self.vmapped(jacrev(f, argnums=idx))
        with _default_dtype(torch.float32):
            try:
                J32 = self.np_(torch.func.vmap(jacrev(f, argnums=idx), in_dims=self.in_dims())(
                    *self.T(inputs, "float32")))
            except Exception:  # noqa: BLE001
                J32 = _stack([self.ref(lambda ex=ex: self.np_(jacrev(f, argnums=idx)(*self.T(ex, "float32"))))
                              for ex in self.examples])
        x32 = {n: v.astype(np.float32) for n, v in inputs.items()}
        first = per_output(jac_call(api.jacobian, self.p.code, x32, dtype="float32", batch=specs), self.outs)
        again = per_output(jac_call(api.jacobian, self.p.code, x32, dtype="float32", batch=specs), self.outs)
        for k, o in enumerate(self.outs or [None]):
            for i, n in enumerate(self.names):
                if first[o][n].dtype != np.float32:
                    raise Wrong(f"batch float32 jacobian {o}/{n} has dtype {first[o][n].dtype}")
                if not same_bits(first[o][n], again[o][n]):
                    raise Crash(f"batch float32 jacobian {o}/{n}: call 2 is not the first call's bits")
                check(f"batch float32 jacobian {o}/{n}", first[o][n], J32[k][i], 0, dtype="float32", alt=J64[k][i])

    def c_float32(self):
        import torch
        from jacobi_cli.tools import api
        f = self.tf()
        with _default_dtype(torch.float32):
            J32 = self.ref(lambda: self.np_(torch.autograd.functional.jacobian(f, self.T(self.x1, "float32"))))
            v32 = self.ref(lambda: self.np_(f(*self.T(self.x1, "float32"))))
        J64 = self.ref(lambda: self.np_(torch.autograd.functional.jacobian(f, self.T(self.x1))))
        v64 = self.ref(lambda: self.np_(f(*self.T(self.x1))))
        x32 = {n: v.astype(np.float32) for n, v in self.x1.items()}
        got = jac_call(api.evaluate, self.p.code, x32, dtype="float32")
        got = (got,) if self.outs is None else tuple(got)
        for k, (a, b) in enumerate(zip(got, v32)):
            if np.asarray(a).dtype != np.float32:
                raise Wrong(f"float32 value {k} has dtype {np.asarray(a).dtype}")
            check(f"float32 value {k}", a, b, 0, derivative=False, dtype="float32", alt=v64[k])
        first = per_output(jac_call(api.jacobian, self.p.code, x32, dtype="float32"), self.outs)
        for call in range(2):
            again = per_output(jac_call(api.jacobian, self.p.code, x32, dtype="float32"), self.outs)
            for o in first:
                for n in self.names:
                    if not same_bits(first[o][n], again[o][n]):
                        raise Crash(f"float32 jacobian call {call + 2} {o}/{n} is not the first call's bits")
        for k, o in enumerate(self.outs or [None]):
            for i, n in enumerate(self.names):
                check(f"float32 jacobian {o}/{n}", first[o][n], J32[k][i], 0, dtype="float32", alt=J64[k][i])


def _leaves(a, b, path=""):
    """Pairs of arrays at the same place of two answers (dicts, tuples, arrays)."""
    if isinstance(a, dict):
        for k in a:
            yield from _leaves(a[k], b[k], f"{path}/{k}")
    elif isinstance(a, (tuple, list)):
        for k, (x, y) in enumerate(zip(a, b)):
            yield from _leaves(x, y, f"{path}/{k}")
    else:
        yield path, np.asarray(a), np.asarray(b)


def tuple_env(ex, names):
    return ex if isinstance(ex, dict) else dict(zip(names, ex))


def _np_tree(t):
    if isinstance(t, (tuple, list)):
        return tuple(_np_tree(e) for e in t)
    return np.asarray(t, dtype=np.float64)


@contextlib.contextmanager
def _default_dtype(dtype):
    import torch
    before = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(before)


def _stack(per):
    """Per-example nested tuples of arrays stacked into one nested tuple with a leading batch axis."""
    first = per[0]
    if isinstance(first, (tuple, list)):
        return tuple(_stack([p[k] for p in per]) for k in range(len(first)))
    return np.stack(per)


def run_program(p, seed, i, only):
    """``{check: (outcome, detail)}``."""
    import torch
    torch.set_default_dtype(torch.float64)
    r = Run(p, seed, i)
    try:
        if not r.draw_points():
            return {c: ("SKIPPED", "near a kink at every draw") for c in only}, Counter()
    except Exception as e:  # noqa: BLE001 - the program is not valid for PyTorch
        return {c: ("SKIPPED", f"reference: {type(e).__name__}: {str(e)[:120]}") for c in only}, Counter()
    out = {}
    for c in only:
        try:
            getattr(r, "c_" + c)()
            out[c] = ("AGREE", "")
        except Refused as e:
            out[c] = ("REFUSED", str(e))
        except Wrong as e:
            out[c] = ("WRONG", str(e))
        except Crash as e:
            out[c] = ("CRASH", str(e))
        except Skip as e:
            out[c] = ("SKIPPED", str(e))
        except Exception:  # noqa: BLE001 - the harness's own
            out[c] = ("SKIPPED", "harness: " + traceback.format_exc(limit=-2).strip().splitlines()[-1][:200])
    return out, r.notes


RANK = {"AGREE": 0, "SKIPPED": 1, "REFUSED": 2, "WRONG": 3, "CRASH": 4}


def worker(args):
    seeds, count, part, parts, only, verbose = args
    import jax
    jax.config.update("jax_enable_x64", True)
    warnings.filterwarnings("ignore", category=UserWarning)  # PyTorch's notices (a batching rule's fallback, resizes)
    counts, refused, checks, found = Counter(), Counter(), Counter(), []
    for seed in seeds:
        for i in range(count):
            if i % parts != part:
                continue
            p = draw(seed, i)
            res = with_timeout(run_program, p, seed, i, only, seconds=120)
            if isinstance(res[0], str):  # ("CRASH", "timeout")
                res = ({c: res for c in only}, Counter())
            res, notes = res
            for k, c in notes.items():
                checks[("torch-func", k)] += c
            worst = max(res.values(), key=lambda o: RANK[o[0]])
            counts[worst[0]] += 1
            for c, (o, d) in res.items():
                checks[(c, o)] += 1
                if o == "REFUSED":
                    refused[d[:110]] += 1
                if o == "SKIPPED":
                    refused["(skipped) " + d[:100]] += 1
                if o in ("WRONG", "CRASH") or (verbose and o != "AGREE"):
                    found.append({"status": o, "check": c, "detail": d, "program": p.code, "name": p.name,
                                  "shapes": p.shapes})
            if verbose:
                print(f"{p.name} {worst[0]}", flush=True)
    return {"counts": counts, "refused": refused, "terrors": checks, "found": found}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--count", type=int, default=60)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", default=",".join(CHECKS))
    ap.add_argument("--show", type=int, default=1000)
    ap.add_argument("-v", action="store_true")
    a = ap.parse_args()
    only = tuple(c for c in a.only.split(",") if c)
    start = time.monotonic()
    merged = run_workers(worker, [(a.seeds, a.count, k, a.workers, only, a.v) for k in range(a.workers)])
    shown = 0
    for f in merged["found"]:
        if shown >= a.show:
            break
        shown += 1
        print(f"{f['status']} [{f['name']} {f['check']}] {f['detail']}\n  program: {f['program']}\n  shapes: {f['shapes']}")
    print("\nrefusals:")
    for msg, c in merged["refused"].most_common(15):
        print(f"  {c:4d}  {msg}")
    print("\nper check:")
    for c in only:
        print(f"  {c:9s} " + ", ".join(f"{k} {merged['terrors'][(c, k)]}" for k in RANK))
    notes = {k[1]: c for k, c in merged["terrors"].items() if k[0] == "torch-func"}
    if notes:
        print("\nPyTorch's torch.func differed and JAX agreed with jac: " +
              ", ".join(f"{k} {c}" for k, c in sorted(notes.items())))
    counts = merged["counts"]
    print(f"\nseeds {a.seeds}, {sum(counts.values())} programs ({time.monotonic() - start:.0f} s): "
          + ", ".join(f"{k} {counts[k]}" for k in RANK))
    return 1 if counts["WRONG"] or counts["CRASH"] else 0


if __name__ == "__main__":
    sys.exit(main())
