"""Batches x several outputs x orders 1-4, through the CLI's ``--json`` and the Python API, against torch.func and JAX.

    PYTHONPATH=. /work/venv/bin/python benchmarks/orders39_fuzz.py [--seed 0] [--count 40] [--only CHECK,...] [-v]

Each program has 1 to 3 inputs (``x``, ``y``, ``w``: 0-d to 3-d, sizes 1 to 3 from a pool of two), 0 to 2
assignments and a last statement of 1 to 3 outputs (a tuple: several outputs, named by their variable or
``y0``, ``y1``, ... as the contract says), drawn from smooth ops only (element-wise functions, broadcasting
arithmetic, reductions with ``dim``/``axis`` and keepdim, ``@``, indexing and slicing, transposes, reshape,
stack, cumsum, softmax, logsumexp, prod, and ``det`` / ``inv`` of ``3 I + tanh(M)``, never singular), so every
derivative of order 1 to 4 exists and there are no kinks to triage. Each program is written in PyTorch's and
NumPy's spelling; jac reads one of the two (alternately); PyTorch float64 runs the PyTorch text, JAX x64 the
NumPy text with ``np.`` read as ``jnp.``. Half the programs get a batch: B = 2 or 3 along a random axis of 1 to
all inputs (the others shared), as ``torch.func.vmap(..., in_dims=...)``.

CHECKS (each a (program, check) outcome):

- ``shape``: ``jac shape NAME:SHAPE ... [--batch] --json``: each output's shape (one example's) and each block's
  ``shape`` = ``y.shape + x.shape`` and ``math_shape`` = the contract's table, against the reference's shapes;
- ``eval``: ``jac eval --json``: the values (batch axis first) and every (output, input) Jacobian against
  ``vmap(jacrev)`` of PyTorch and JAX; the blocks' ``shape`` / ``math_shape`` keys as ``jac shape`` said;
  the keys ``output``/``jacobian`` (one output) or ``outputs``/``jacobians`` (several); ``batch`` at the top;
- ``api``: ``jacobi_cli.jacobian(batch=...)`` equal to the CLI's numbers (both layouts; the numerator layout
  is the contract's permutation of the array layout), ``--out FILE.npz`` (and ``.npy`` for one block) equal to
  the ``--json`` values;
- ``hessian``: ``jac hessian --json``, every output and pair, against ``vmap(jacfwd(jacrev))``; unbatched also
  ``jacobi_cli.hessian`` (the same numbers);
- ``order``: ``jac derivative --order K --wrt NAME --json`` for K = 1..4 (while the result has at most 6,000
  elements per example) against ``vmap`` of ``jacfwd`` nested K - 1 times over ``jacrev``, PyTorch's and JAX's;
  order 1 the same bits as eval's block, order 2 as hessian's; unbatched also ``api.derivative`` (the same bits)
  and ``--sparse`` where the block is diagonal, batched too (the diagonal equal to the dense tensor's, the rest 0);
- ``vjp`` / ``jvp``: ``jac vjp --v OUT=V`` (one per output, batch axis first) and ``jac jvp --tangent NAME=T``
  (a batched input's tangent along its own batch axis, a shared input's of its own shape) against
  ``vmap(torch.func.vjp / jvp)``;
- ``check``: ``jac check --json`` passes (exit 0, ``"passed": true``) on these smooth programs;
- ``modes``: ``jac eval --mode forward`` / ``reverse`` give ``--mode auto``'s blocks (rtol 1e-12), and
  ``jac hessian --wrt NAME`` the block of every pair's run;
- ``float32``: ``--dtype float32`` eval and the highest order run within float32 tolerance of jac's float64 answer
  (10 x PyTorch's own float32 error + 1e-4 relative + 1e-5 of the largest).

A number or shape that differs from both PyTorch and JAX is WRONG (PyTorch alone differing, JAX agreeing, is
counted as ``torch-func``: its known higher-order bugs). REFUSED: jac exits 2 / raises a JacError where the
references answer. CRASH: another exception, exit code, or stdout that is not one JSON object. SKIPPED: the
references raised. Prints one line per outcome that is not AGREE, then the tally; exit 1 on WRONG or CRASH.
Run it under a memory cap (``ulimit -v 6000000``); 40 programs take a few minutes on 2 shared cores.
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import io
import json
import os
import re
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from dataclasses import dataclass

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fuzzkit import differ, with_timeout  # noqa: E402

CHECKS = ("shape", "eval", "api", "hessian", "order", "vjp", "jvp", "float32", "check", "modes")
NAMES = ("x", "y", "w")
MAX = 24          # elements of any drawn intermediate
MAX_ORDER = 6000  # elements of a K-th derivative per example
RTOL = 1e-8


class Retry(Exception):
    pass


# ---------------------------------------------------------------------------------------------- grammar
@dataclass(frozen=True)
class E:
    """A drawn expression in PyTorch's and NumPy's spelling, its shape, whether it needs no parentheses."""
    t: str
    n: str
    shape: tuple
    atom: bool = True
    linalg: bool = False


def p(e: E, lib: str) -> str:
    code = e.t if lib == "t" else e.n
    return code if e.atom else f"({code})"


UNARY = [  # (torch, numpy), {} the operand
    ("torch.sin({})", "np.sin({})"), ("torch.cos({})", "np.cos({})"), ("torch.tanh({})", "np.tanh({})"),
    ("torch.exp(0.5 * {})", "np.exp(0.5 * {})"), ("torch.log1p({} ** 2)", "np.log1p({} ** 2)"),
    ("torch.sqrt({} ** 2 + 1)", "np.sqrt({} ** 2 + 1)"), ("torch.atan({})", "np.arctan({})"),
    ("{} ** 2", "{} ** 2"), ("{} ** 3", "{} ** 3"), ("-{}", "-{}"), ("torch.sigmoid({})", "(1 / (1 + np.exp(-{})))"),
    ("torch.sinh({})", "np.sinh({})"), ("torch.square({})", "np.square({})"),
]


def tensor(e: E) -> E:
    """A Python number as a 0-d array of the library (its constant leaves are plain numbers)."""
    if re.fullmatch(r"[0-9.]+", e.t):
        return E(f"torch.tensor({e.t})", f"np.array({e.n})", ())
    return e


def bshape(a, b):
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        return None


class Gen:
    def __init__(self, rng):
        self.r = rng
        self.pool = sorted(set(int(s) for s in rng.integers(1, 4, 2)))
        self.shapes = {}
        for name in NAMES[:int(rng.integers(1, 4))]:
            rank = int(rng.choice([0, 0, 1, 1, 1, 2, 2, 3]))
            self.shapes[name] = tuple(int(rng.choice(self.pool)) for _ in range(rank))
        self.env = {name: E(name, name, s) for name, s in self.shapes.items()}

    def pick(self, seq):
        return seq[int(self.r.integers(len(seq)))]

    def leaf(self, shape=None):
        pool = [e for e in self.env.values() if shape is None or e.shape == shape]
        if pool and self.r.random() < 0.9:
            return self.pick(pool)
        if shape is None or shape == ():
            c = f"{float(self.r.uniform(0.2, 1.5)):.2f}"
            return E(c, c, ())
        vals = np.round(self.r.uniform(-1, 1, shape), 2).tolist()
        return E(f"torch.tensor({vals})", f"np.array({vals})", shape)

    def expr(self, depth):
        for _ in range(25):
            if depth <= 0 or self.r.random() < 0.2:
                return self.leaf()
            try:
                e = getattr(self, "k_" + self.pick(["unary"] * 4 + ["binary"] * 4 + ["reduce"] * 2 + [
                    "matmul", "index", "shape", "stack", "cumsum", "softmax", "logsumexp", "prod", "linalg", "method", "einsum",
                    "outer", "trace", "norm", "where", "bmm"]))(depth)
            except Retry:
                continue
            if np.prod(e.shape, dtype=int) <= MAX and 0 not in e.shape:
                return e
        return self.leaf()

    def k_unary(self, depth):
        a = self.expr(depth - 1)
        ft, fn = self.pick(UNARY)
        return E(ft.format(p(a, "t")), fn.format(p(a, "n")), a.shape, False, a.linalg)

    def k_binary(self, depth):
        a = self.expr(depth - 1)
        b = self.expr(depth - 1)
        s = bshape(a.shape, b.shape)
        if s is None:
            b = self.leaf(self.pick([a.shape, ()]))
            s = bshape(a.shape, b.shape)
        op = self.pick(["+", "-", "*", "*", "/"])
        lin = a.linalg or b.linalg
        if op == "/":
            return E(f"{p(a, 't')} / (1 + {p(b, 't')} ** 2)", f"{p(a, 'n')} / (1 + {p(b, 'n')} ** 2)", s, False, lin)
        return E(f"{p(a, 't')} {op} {p(b, 't')}", f"{p(a, 'n')} {op} {p(b, 'n')}", s, False, lin)

    def _dim(self, a):
        if not a.shape:
            raise Retry
        return int(self.r.integers(-len(a.shape), len(a.shape)))

    def k_reduce(self, depth):
        a = self.expr(depth - 1)
        f = self.pick(["sum", "mean"])
        if not a.shape or self.r.random() < 0.3:
            return E(f"torch.{f}({a.t})", f"np.{f}({a.n})", (), True, a.linalg)
        d = self._dim(a)
        keep = bool(self.r.random() < 0.3)
        s = list(a.shape)
        if keep:
            s[d] = 1
        else:
            del s[d]
        return E(f"torch.{f}({a.t}, dim={d}, keepdim={keep})", f"np.{f}({a.n}, axis={d}, keepdims={keep})",
                 tuple(s), True, a.linalg)

    def k_matmul(self, depth):
        a = self.expr(depth - 1)
        if len(a.shape) not in (1, 2):
            raise Retry
        k = a.shape[-1]
        rank = int(self.r.integers(1, 3))
        b = self.leaf((k,) if rank == 1 else (k, self.pick(self.pool)))
        s = np.matmul(np.zeros(a.shape), np.zeros(b.shape)).shape
        lin = a.linalg or b.linalg
        if self.r.random() < 0.5:
            return E(f"{p(a, 't')} @ {p(b, 't')}", f"{p(a, 'n')} @ {p(b, 'n')}", s, False, lin)
        return E(f"torch.matmul({a.t}, {b.t})", f"np.matmul({a.n}, {b.n})", s, True, lin)

    def k_index(self, depth):
        a = self.expr(depth - 1)
        if not a.shape:
            raise Retry
        c = self.r.integers(3)
        if c == 0:
            return E(f"{p(a, 't')}[0]", f"{p(a, 'n')}[0]", a.shape[1:], True, a.linalg)
        if c == 1 and a.shape[0] > 1:
            return E(f"{p(a, 't')}[1:]", f"{p(a, 'n')}[1:]", (a.shape[0] - 1,) + a.shape[1:], True, a.linalg)
        if len(a.shape) >= 2:
            return E(f"{p(a, 't')}[:, -1]", f"{p(a, 'n')}[:, -1]", a.shape[:1] + a.shape[2:], True, a.linalg)
        raise Retry

    def k_shape(self, depth):
        a = self.expr(depth - 1)
        if len(a.shape) == 2:
            return E(f"{p(a, 't')}.T", f"{p(a, 'n')}.T", a.shape[::-1], True, a.linalg)
        if len(a.shape) == 3:
            s = (a.shape[2], a.shape[0], a.shape[1])
            return E(f"{p(a, 't')}.permute(2, 0, 1)", f"np.transpose({a.n}, (2, 0, 1))", s, True, a.linalg)
        if a.shape:
            return E(f"{p(a, 't')}.reshape(-1, 1)", f"{p(a, 'n')}.reshape(-1, 1)", (a.shape[0], 1), True, a.linalg)
        raise Retry

    def k_stack(self, depth):
        a, b = self.expr(depth - 1), None
        b = self.leaf(a.shape)
        a, b = tensor(a), tensor(b)  # torch.stack of Python floats is PyTorch's TypeError
        return E(f"torch.stack([{a.t}, {b.t}])", f"np.stack([{a.n}, {b.n}])", (2,) + a.shape, True,
                 a.linalg or b.linalg)

    def k_cumsum(self, depth):
        a = self.expr(depth - 1)
        d = self._dim(a)
        return E(f"torch.cumsum({a.t}, dim={d})", f"np.cumsum({a.n}, axis={d})", a.shape, True, a.linalg)

    def k_softmax(self, depth):
        a = self.expr(depth - 1)
        if not a.shape:
            raise Retry
        return E(f"torch.softmax({a.t}, dim=-1)",
                 f"np.exp({a.n}) / np.sum(np.exp({a.n}), axis=-1, keepdims=True)", a.shape, False, a.linalg)

    def k_logsumexp(self, depth):
        a = self.expr(depth - 1)
        d = self._dim(a)
        s = a.shape[:d % len(a.shape)] + a.shape[d % len(a.shape) + 1:]
        return E(f"torch.logsumexp({a.t}, dim={d})", f"np.log(np.sum(np.exp({a.n}), axis={d}))", s, True, a.linalg)

    def k_prod(self, depth):
        a = self.expr(depth - 1)
        d = self._dim(a)
        s = a.shape[:d % len(a.shape)] + a.shape[d % len(a.shape) + 1:]
        return E(f"torch.prod({a.t}, dim={d})", f"np.prod({a.n}, axis={d})", s, True, a.linalg)

    def k_linalg(self, depth):
        a = self.expr(depth - 1)
        if len(a.shape) != 2 or a.shape[0] != a.shape[1] or a.shape[0] < 2:
            raise Retry
        n = a.shape[0]
        m_t = f"(3 * torch.eye({n}, dtype=torch.float64) + torch.tanh({a.t}))"
        m_n = f"(3 * np.eye({n}) + np.tanh({a.n}))"
        if self.r.random() < 0.5:
            return E(f"torch.linalg.det({m_t})", f"np.linalg.det({m_n})", (), True, True)
        return E(f"torch.linalg.inv({m_t})", f"np.linalg.inv({m_n})", (n, n), True, True)

    def k_method(self, depth):
        a = self.expr(depth - 1)
        if not a.shape:
            raise Retry
        d = self._dim(a)
        s = a.shape[:d % len(a.shape)] + a.shape[d % len(a.shape) + 1:]
        f = self.pick(["sum", "mean", "prod"])
        if self.r.random() < 0.5:
            return E(f"{p(a, 't')}.{f}({d})", f"{p(a, 'n')}.{f}(axis={d})", s, True, a.linalg)
        return E(f"{p(a, 't')}.{f}()", f"{p(a, 'n')}.{f}()", (), True, a.linalg)

    def k_einsum(self, depth):
        a = self.expr(depth - 1)
        if len(a.shape) == 2:
            b = self.leaf((a.shape[1],))
            return E(f"torch.einsum('ij,j->i', {a.t}, {b.t})", f"np.einsum('ij,j->i', {a.n}, {b.n})",
                     a.shape[:1], True, a.linalg or b.linalg)
        if len(a.shape) == 3:
            return E(f"torch.einsum('ijk->ki', {a.t})", f"np.einsum('ijk->ki', {a.n})", (a.shape[2], a.shape[0]),
                     True, a.linalg)
        if len(a.shape) == 1:
            b = self.leaf(a.shape)
            return E(f"torch.einsum('i,i->', {a.t}, {b.t})", f"np.einsum('i,i->', {a.n}, {b.n})", (), True,
                     a.linalg or b.linalg)
        raise Retry

    def k_outer(self, depth):
        a = self.expr(depth - 1)
        if len(a.shape) != 1:
            raise Retry
        b = self.leaf(self.pick([e.shape for e in self.env.values() if len(e.shape) == 1] or [a.shape]))
        if len(b.shape) != 1:
            raise Retry
        if self.r.random() < 0.5:
            return E(f"torch.outer({a.t}, {b.t})", f"np.outer({a.n}, {b.n})", a.shape + b.shape, True,
                     a.linalg or b.linalg)
        if a.shape != b.shape:
            raise Retry
        return E(f"torch.dot({a.t}, {b.t})", f"np.dot({a.n}, {b.n})", (), True, a.linalg or b.linalg)

    def k_trace(self, depth):
        a = self.expr(depth - 1)
        if len(a.shape) != 2:
            raise Retry
        return E(f"torch.trace({a.t})", f"np.trace({a.n})", (), True, a.linalg)

    def k_norm(self, depth):
        a = self.expr(depth - 1)
        if not a.shape:
            raise Retry  # |x|: a kink at 0
        if self.r.random() < 0.5:
            return E(f"torch.sqrt(torch.sum({p(a, 't')} ** 2) + 0.5)", f"np.sqrt(np.sum({p(a, 'n')} ** 2) + 0.5)", (),
                     True, a.linalg)
        return E(f"torch.linalg.norm({p(a, 't')} + 2.5)", f"np.linalg.norm({p(a, 'n')} + 2.5)", (), True, a.linalg)

    def k_where(self, depth):
        a = self.expr(depth - 1)
        b = self.leaf(a.shape) if self.r.random() < 0.5 else self.expr(depth - 1)
        s = bshape(a.shape, b.shape)
        if s is None:
            raise Retry
        c = self.pick(list(self.env.values()))
        s2 = bshape(s, c.shape)
        if s2 is None:
            raise Retry
        return E(f"torch.where({p(c, 't')} > 0.05, {a.t}, {b.t})", f"np.where({p(c, 'n')} > 0.05, {a.n}, {b.n})",
                 s2, True, a.linalg or b.linalg)

    def k_bmm(self, depth):
        a = self.expr(depth - 1)
        if len(a.shape) != 3:
            raise Retry
        b = self.leaf((a.shape[2], self.pick(self.pool)))
        return E(f"torch.matmul({a.t}, {b.t})", f"np.matmul({a.n}, {b.n})", a.shape[:2] + b.shape[1:], True,
                 a.linalg or b.linalg)

    def program(self):
        u = self.r.random()
        if u < 0.15:
            return self.python_program()
        if u < 0.3:
            return self.grad_program()
        return self.tuple_program()

    def grad_program(self):
        """A gradient written in the text (``torch.func.grad`` / ``jax.grad``), which jac differentiates again."""
        a = self.pick([e for e in self.env.values()])
        e = self.expr(2)
        if bshape(a.shape, e.shape) is None:
            raise Retry
        jn = re.sub(r"\bnp\.", "jnp.", e.n)
        code_t = (f"def f({a.t}):\n    return torch.sum(torch.sin({a.t}) * {p(e, 't')})\n"
                  f"g = torch.func.grad(f)({a.t})\ng, f({a.t})")
        code_n = (f"def f({a.t}):\n    return jnp.sum(jnp.sin({a.t}) * {'(' + jn + ')' if not e.atom else jn})\n"
                  f"g = jax.grad(f)({a.t})\ng, f({a.t})")
        used = [n for n in self.shapes if re.search(rf"\b{n}\b", code_t)]
        return Program(code_t, code_n, {n: self.shapes[n] for n in used}, 2, e.linalg)

    def python_program(self):
        """A short Python program: a function, a loop, the outputs returned from the function."""
        x = self.pick([e for e in self.env.values()])
        e = self.expr(2)
        k = int(self.r.integers(2, 4))
        rest = [n for n in self.shapes if n != x.t]
        u = self.expr(1)
        if bshape(x.shape, e.shape) is None:
            raise Retry
        def body(lib):
            tanh = "torch.tanh" if lib == "t" else "np.tanh"
            return (f"def f({x.t}):\n"
                    f"    acc = {x.t} * 0.5\n"
                    f"    for i in range({k}):\n"
                    f"        acc = {tanh}(acc + {p(e, lib)}) * (i + 1)\n"
                    f"    return acc, {p(u, lib)}\n"
                    f"a, b = f({x.t})\n"
                    f"a, b")
        code_t, code_n = body("t"), body("n")
        used = [n for n in self.shapes if re.search(rf"\b{n}\b", code_t)]
        ashape = bshape(x.shape, e.shape)
        if u.t in NAMES or u.t == x.t:
            raise Retry
        return Program(code_t, code_n, {n: self.shapes[n] for n in used}, 2, e.linalg or u.linalg, shape_a=ashape)

    def tuple_program(self):
        st, sn = [], []
        for k in range(int(self.r.integers(0, 3))):
            e = self.expr(int(self.r.integers(1, 4)))
            st.append(f"h{k} = {e.t}")
            sn.append(f"h{k} = {e.n}")
            self.env[f"h{k}"] = E(f"h{k}", f"h{k}", e.shape, True, e.linalg)
        outs = []
        for _ in range(self.pick([1, 1, 2, 2, 3])):
            named = [v for k, v in self.env.items() if k.startswith("h") and v not in outs]
            e = self.pick(named) if named and self.r.random() < 0.5 else self.expr(int(self.r.integers(1, 4)))
            if e in outs:
                raise Retry
            outs.append(e)
        code_t = "; ".join(st + [", ".join(e.t for e in outs)])
        code_n = "; ".join(sn + [", ".join(e.n for e in outs)])
        used = [n for n in self.shapes if re.search(rf"\b{n}\b", code_t)]
        if not used:
            raise Retry
        return Program(code_t, code_n, {n: self.shapes[n] for n in used}, len(outs),
                       any(e.linalg for e in outs) or "linalg" in code_t)


@dataclass
class Program:
    t: str
    n: str
    shapes: dict
    n_out: int
    linalg: bool
    name: str = ""
    lib: str = "t"
    batch: dict = None   # {input: axis}
    size: int = 0
    shape_a: tuple = None

    @property
    def code(self):
        return self.t if self.lib == "t" else self.n


def draw(seed, i):
    rng = np.random.default_rng([seed, i, 39])
    for _ in range(100):
        try:
            prog = Gen(rng).program()
        except Retry:
            continue
        prog.name, prog.lib = f"s{seed}-{i}", "t" if i % 2 == 0 else "n"
        if rng.random() < 0.5:
            names = list(prog.shapes)
            chosen = [n for n in names if rng.random() < 0.6] or [names[0]]
            prog.batch = {}
            for n in chosen:  # NAME:AXIS, a negative axis counted from the end of the batched array
                r = len(prog.shapes[n]) + 1
                ax = int(rng.integers(0, r))
                prog.batch[n] = ax - r if rng.random() < 0.25 else ax
            prog.size = int(rng.choice([1, 2, 3, 3]))
        return prog, rng
    raise RuntimeError("no program drawn")


# ---------------------------------------------------------------------------------------------- references
def _split(code):
    tree = ast.parse(code.replace("; ", "\n"))
    body = compile(ast.Module(body=tree.body[:-1], type_ignores=[]), "<p>", "exec")
    return body, compile(ast.Expression(tree.body[-1].value), "<p>", "eval")


def torch_fn(code, names):
    import torch
    body, last = _split(code)

    def f(*args):
        # jac converts every value to --dtype, literals included: torch.tensor([0.2]) too
        scope = {"torch": torch, **dict(zip(names, args))}
        before = torch.get_default_dtype()
        torch.set_default_dtype(args[0].dtype)
        try:
            exec(body, scope)  # noqa: S102
            out = eval(last, scope)  # noqa: S307
        finally:
            torch.set_default_dtype(before)
        return tuple(out) if isinstance(out, tuple) else (out,)
    return f


def jax_fn(code, names):
    import jax
    import jax.numpy as jnp
    body, last = _split(re.sub(r"\bnp\.", "jnp.", code))

    def f(*args):
        scope = {"jnp": jnp, "jax": jax, **dict(zip(names, args))}
        exec(body, scope)  # noqa: S102
        out = eval(last, scope)  # noqa: S307
        return tuple(jnp.asarray(o, dtype=args[0].dtype) for o in (out if isinstance(out, tuple) else (out,)))
    return f


def to_np(t):
    try:
        return np.asarray(t.detach().cpu().numpy(), dtype=np.float64)
    except Exception:  # noqa: BLE001 - PyTorch's ZeroTensor cannot be handed to NumPy
        return np.asarray(t.tolist(), dtype=np.float64)


class Ref:
    """One library's transforms of the program's tuple function, vmapped when there is a batch."""

    def __init__(self, lib, prog, values, dtype="float64"):
        self.lib, self.names = lib, list(prog.shapes)
        if lib == "torch":
            import torch
            import torch.func as tf
            self.m, self.tf = torch, tf
            dt = torch.float64 if dtype == "float64" else torch.float32
            code = prog.t if dtype == "float64" else prog.t.replace("dtype=torch.float64", "dtype=torch.float32")
            self.f = torch_fn(code, self.names)
            self.args = [torch.tensor(values[n], dtype=dt) for n in self.names]
            self.vmap = lambda g, dims: tf.vmap(g, in_dims=dims)
            self.jacrev, self.jacfwd, self.vjp, self.jvp = tf.jacrev, tf.jacfwd, tf.vjp, tf.jvp
            self.arr = lambda v: torch.tensor(np.asarray(v), dtype=dt)
        else:
            import jax
            jax.config.update("jax_enable_x64", True)
            import jax.numpy as jnp
            self.m = jax
            dt = jnp.float64 if dtype == "float64" else jnp.float32
            self.f = jax_fn(prog.n, self.names)
            if dtype == "float32":
                code = re.sub(r"np\.eye\((\d+)\)", r"np.eye(\1, dtype=np.float32)", prog.n)
                self.f = jax_fn(code.replace("np.array(", "np.array(dtype=np.float32, object="), self.names)
            self.args = [jnp.asarray(values[n], dtype=dt) for n in self.names]
            self.vmap = lambda g, dims: jax.vmap(g, in_axes=dims)
            self.jacrev, self.jacfwd = jax.jacrev, jax.jacfwd
            self.vjp, self.jvp = jax.vjp, jax.jvp
            self.arr = lambda v: jnp.asarray(np.asarray(v), dtype=dt)
        self.batch = prog.batch
        self.dims = tuple((prog.batch or {}).get(n) for n in self.names)

    def run(self, g, extra_dims=()):
        """``g`` of the inputs (and extra per-example args), vmapped over the batch when there is one."""
        if self.batch is None:
            return g
        return self.vmap(g, self.dims + tuple(extra_dims))

    def np(self, t):
        if self.lib == "torch":
            return to_np(t)
        return np.asarray(t, dtype=np.float64)

    def values(self):
        return [self.np(o) for o in self.run(self.f)(*self.args)]

    def jacobians(self):
        idx = tuple(range(len(self.names)))
        J = self.run(self.jacrev(self.f, argnums=idx))(*self.args)
        return [[self.np(b) for b in row] for row in J]

    def hessians(self):
        idx = tuple(range(len(self.names)))
        H = self.run(self.jacfwd(self.jacrev(self.f, argnums=idx), argnums=idx))(*self.args)
        return [[[self.np(c) for c in b] for b in row] for row in H]

    def derivative(self, name, order):
        i = self.names.index(name)
        g = self.jacrev(self.f, argnums=i)
        for _ in range(order - 1):
            g = self.jacfwd(g, argnums=i)
        return [self.np(b) for b in self.run(g)(*self.args)]

    def vjps(self, vs):
        k = len(self.names)

        def g(*a):
            _, pull = self.vjp(self.f, *a[:k])
            return pull(tuple(a[k:]))
        return [self.np(b) for b in self.run(g, (0,) * len(vs))(*self.args, *[self.arr(v) for v in vs])]

    def jvps(self, tangents, shared):
        k = len(self.names)

        def g(*a):
            return self.jvp(self.f, tuple(a[:k]), tuple(a[k:]))[1]
        dims = tuple(None if shared[n] else 0 for n in self.names)
        return [self.np(b) for b in self.run(g, dims)(*self.args, *[self.arr(tangents[n]) for n in self.names])]


# ---------------------------------------------------------------------------------------------- jac
class Refused(Exception):
    pass


class Crash(Exception):
    pass


class Wrong(Exception):
    pass


class Skip(Exception):
    pass


def cli(args):
    """The ``--json`` object of ``jac ARGS`` run in this process; Refused on exit 2, Crash otherwise."""
    from jacobi_cli.cli import entry
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = entry.main([str(a) for a in args])
    if code == 2:
        raise Refused(err.getvalue().strip().splitlines()[0][:200] if err.getvalue().strip() else "exit 2")
    try:
        obj = json.loads(out.getvalue())
    except ValueError:
        raise Crash(f"exit {code}: stdout is not one JSON object: {out.getvalue()[:120]!r} {err.getvalue()[-200:]}")
    if code != 0:
        raise Crash(f"exit {code}: {err.getvalue().strip()[-300:]}")
    return obj


def api_call(fn, *args, **kw):
    from jacobi_cli.errors import JacError
    try:
        return fn(*args, **kw)
    except JacError as e:
        raise Refused(str(e).splitlines()[0][:200]) from None


def arr(value):
    def one(v):
        if isinstance(v, list):
            return [one(e) for e in v]
        return {"NaN": np.nan, "Infinity": np.inf, "-Infinity": -np.inf}.get(v, v) if isinstance(v, str) else v
    return np.asarray(one(value), dtype=np.float64)


def text(v):
    v = np.asarray(v, dtype=np.float64)
    return repr(float(v)) if v.ndim == 0 else repr(v.tolist())


def math_shape(y, x):
    """The contract's table: numerator layout (y down, x across); tensors y.shape + x.shape."""
    y, x = tuple(y), tuple(x)
    if len(y) > 2 or len(x) > 2:
        return y + x
    xs = {0: (1,), 1: (x[0],) if x else (), 2: (x[1], x[0]) if len(x) == 2 else ()}[len(x)]
    if not y:
        return (1,) if not x else ((1, x[0]) if len(x) == 1 else xs)
    if not x:
        return y + ((1,) if len(y) == 1 else ())
    return y + xs


def numerator(J, y, x, lead):
    """The array-layout block ``J`` (``lead + y + x``) in the numerator layout of the table."""
    J = np.asarray(J)
    y, x = tuple(y), tuple(x)
    if len(x) == 2 and len(y) <= 2:
        k = len(lead) + len(y)
        J = np.swapaxes(J, k, k + 1)
    return J.reshape(tuple(lead) + math_shape(y, x))


def same(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


# ---------------------------------------------------------------------------------------------- one program
class Run:
    def __init__(self, prog, rng, only, notes):
        self.prog, self.only, self.notes = prog, only, notes
        self.names = list(prog.shapes)
        self.batch = prog.batch
        self.B = prog.size
        self.values = {}
        for n, s in prog.shapes.items():
            v = rng.uniform(-1, 1, s if not self.batched(n) else (self.B,) + s)
            self.values[n] = np.moveaxis(v, 0, self.batch[n]) if self.batched(n) else v
        self.rng = rng
        self.lead = (self.B,) if self.batch else ()
        self.rtol = 1e-6 if prog.linalg else RTOL
        self._refs = {}

    def batched(self, n):
        return self.batch is not None and n in self.batch

    def ref(self, lib, dtype="float64"):
        if (lib, dtype) not in self._refs:
            self._refs[(lib, dtype)] = Ref(lib, self.prog, self.values, dtype)
        return self._refs[(lib, dtype)]

    def bindings(self):
        return [f"{n}={text(v)}" for n, v in self.values.items()]

    def flags(self):
        return [a for n, ax in (self.batch or {}).items() for a in ("--batch", f"{n}:{ax}")]

    def base(self, command, *extra, dtype="float64"):
        return [command, self.prog.code, *self.bindings(), *self.flags(), "--json", "--dtype", dtype, *extra]

    def reference(self, what, *args):
        """PyTorch's answer (SKIP when both libraries raise; JAX's when only PyTorch raises)."""
        try:
            return getattr(self.ref("torch"), what)(*args), "torch"
        except Exception as e:  # noqa: BLE001
            first = f"{type(e).__name__}: {str(e)[:120]}"
        try:
            return getattr(self.ref("jax"), what)(*args), "jax"
        except Exception as e:  # noqa: BLE001
            raise Skip(f"torch {first}; jax {type(e).__name__}: {str(e)[:120]}") from None

    def compare(self, what, ours, theirs, lib, jax_args=None):
        """Wrong unless ``ours`` is ``theirs`` within rtol; a PyTorch answer that differs is asked of JAX too."""
        d = differ(ours, theirs, None, "float64", derivative=True, ref=lib, rtol=self.rtol)
        if d is None:
            return
        if lib == "torch" and jax_args is not None:
            try:
                other = jax_args()
            except Exception as e:  # noqa: BLE001
                raise Wrong(f"{what}: {d}; jax raised {type(e).__name__}") from None
            d2 = differ(ours, other, None, "float64", derivative=True, ref="jax", rtol=self.rtol)
            if d2 is None:
                self.notes["torch-func " + what.split(" ")[0]] += 1
                return
            d = f"{d}; vs jax: {d2}"
        raise Wrong(f"{what}: {d}")

    # ------------------------------------------------------------------ helpers over jac's JSON
    def out_list(self, obj):
        """``[(name, shape, value)]`` of the outputs, checking the one / several keys."""
        if self.prog.n_out == 1:
            if "output" not in obj or "outputs" in obj:
                raise Wrong(f"one output: keys {sorted(obj)}")
            o = obj["output"]
            return [(o.get("name", "y"), tuple(o["shape"]), o.get("value"))]
        if "outputs" not in obj or "output" in obj:
            raise Wrong(f"{self.prog.n_out} outputs: keys {sorted(obj)}")
        return [(o["name"], tuple(o["shape"]), o.get("value")) for o in obj["outputs"]]

    def blocks(self, obj, one, several):
        """``{out: {key: block}}`` from ``obj[one]`` or ``obj[several]``."""
        if self.prog.n_out == 1:
            if one not in obj or several in obj:
                raise Wrong(f"one output: keys {sorted(obj)}, expected {one!r}")
            return {None: obj[one]}
        if several not in obj or one in obj:
            raise Wrong(f"several outputs: keys {sorted(obj)}, expected {several!r}")
        return obj[several]

    def check_batch_key(self, obj):
        if self.batch is None:
            if "batch" in obj:
                raise Wrong("a batch key without --batch")
            return
        # NAME:AXIS with a negative axis is reported as the axis it names, counted from 0
        want = {"size": self.B, "inputs": {n: ax % (len(self.prog.shapes[n]) + 1) for n, ax in self.batch.items()}}
        got = obj.get("batch") or {}
        if {k: got.get(k) for k in want} != want:  # jac check adds "failed": the examples that failed
            raise Wrong(f"batch key {obj.get('batch')} != {want}")

    def ex_shape(self, n):
        s = self.prog.shapes[n]
        return tuple(s)

    # ------------------------------------------------------------------ checks
    def c_shape(self):
        obj = cli(["shape", self.prog.code, *[f"{n}:{'x'.join(map(str, np.shape(v))) or '()'}"
                                              for n, v in self.values.items()], *self.flags(), "--json"])
        self.check_batch_key(obj)
        vals, lib = self.reference("values")
        outs = self.out_list(obj)
        ders = obj["derivatives"]
        for (name, shape, _), v in zip(outs, vals):
            want = np.shape(v)[len(self.lead):]
            if shape != want:
                raise Wrong(f"shape of {name}: jac shape {shape} vs {lib} {want}")
            blocks = ders[name] if self.prog.n_out > 1 else obj["derivatives"]
            for n in self.names:
                b = blocks[n]
                if tuple(b["shape"]) != shape + self.ex_shape(n):
                    raise Wrong(f"jac shape d{name}/d{n}: {b['shape']} vs {shape + self.ex_shape(n)}")
                if tuple(b["math_shape"]) != math_shape(shape, self.ex_shape(n)):
                    raise Wrong(f"jac shape d{name}/d{n} math_shape {b['math_shape']} vs the table's "
                                f"{math_shape(shape, self.ex_shape(n))}")
        self.shapes = {name: shape for name, shape, _ in outs}
        self.out_names = [name for name, _, _ in outs]

    def c_eval(self):
        obj = cli(self.base("eval"))
        self.check_batch_key(obj)
        outs = self.out_list(obj)
        self.out_names = [o[0] for o in outs]
        vals, lib = self.reference("values")
        for (name, shape, value), v in zip(outs, vals):
            self.compare(f"value {name}", arr(value), v, lib)
            if shape != np.shape(v)[len(self.lead):]:
                raise Wrong(f"value {name}: shape key {shape} vs one example's {np.shape(v)[len(self.lead):]}")
        J, lib = self.reference("jacobians")
        blocks = self.blocks(obj, "jacobian", "jacobians")
        self.eval_blocks = {}
        for k, (name, shape, _) in enumerate(outs):
            bl = blocks[None if self.prog.n_out == 1 else name]
            for i, n in enumerate(self.names):
                b = bl[n]
                want = shape + self.ex_shape(n)
                if tuple(b["shape"]) != want or tuple(b["math_shape"]) != math_shape(shape, self.ex_shape(n)):
                    raise Wrong(f"d{name}/d{n}: shape {b['shape']} math_shape {b['math_shape']} vs {want} "
                                f"{math_shape(shape, self.ex_shape(n))}")
                got = arr(b["value"])
                self.compare(f"jacobian d{name}/d{n}", got, J[k][i], lib,
                             lambda k=k, i=i: self.ref("jax").jacobians()[k][i])
                self.eval_blocks[(name, n)] = got

    def c_api(self):
        import jacobi_cli
        if not hasattr(self, "eval_blocks"):
            self.c_eval()
        b = {n: v for n, v in self.values.items()}
        batch = [f"{n}:{ax}" for n, ax in self.batch.items()] if self.batch else None
        for layout in ("array", "numerator"):
            J = api_call(jacobi_cli.jacobian, self.prog.code, b, batch=batch, layout=layout)
            for (name, n), block in self.eval_blocks.items():
                got = J[n] if self.prog.n_out == 1 else J[name][n]
                shape = self.shapes_of(name)
                want = block if layout == "array" else numerator(block, shape, self.ex_shape(n), self.lead)
                if not same(got, want):
                    d = differ(got, want, None, "float64", rtol=1e-14)
                    raise Wrong(f"api jacobian {layout} d{name}/d{n}: {d or 'not the same bits'} "
                                f"(shapes {np.shape(got)} vs {np.shape(want)})")
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "J.npz")
            cli(self.base("eval", "--out", path))
            with np.load(path) as f:
                got = {k: f[k] for k in f.files}
            want = {(n if self.prog.n_out == 1 else f"{name},{n}"): v for (name, n), v in self.eval_blocks.items()}
            coo = {"col", "data", "format", "row", "shape"}
            if len(want) == 1 and coo <= set(got):
                import scipy.sparse  # one structured Jacobian: a SciPy COO matrix of dvec(y)/dvec(x), C order
                (k, v), = want.items()  # and, since session 39 (cd960c68), the dense array by name beside it
                dense = scipy.sparse.load_npz(path).toarray()
                if not same(dense, v.reshape(dense.shape)) or dense.size != v.size or \
                        dense.shape[1] != int(np.prod(self.ex_shape(k), dtype=int)):
                    raise Wrong(f"--out .npz (SciPy sparse) {k}: not the --json values")
                got = {name: a for name, a in got.items() if name not in coo} or {k: v}
            if set(got) != set(want):
                raise Wrong(f"--out .npz keys {sorted(got)} vs {sorted(want)}")
            for k, v in want.items():
                if not same(got[k], v):
                    raise Wrong(f"--out .npz {k}: not the --json values ({got[k].shape} vs {v.shape})")
            path = os.path.join(d, "J.json")
            cli(self.base("eval", "--out", path))
            with open(path) as f:
                got = json.load(f)
            if set(got) != set(want) or any(not same(arr(got[k]), v) for k, v in want.items()):
                raise Wrong(f"--out .json: not the --json values (keys {sorted(got)})")
            obj = cli(self.base("eval", "--layout", "numerator"))
            blocks = self.blocks(obj, "jacobian", "jacobians")
            for (name, n), v in self.eval_blocks.items():
                b = (blocks[None] if self.prog.n_out == 1 else blocks[name])[n]
                num = numerator(v, self.shapes_of(name), self.ex_shape(n), self.lead)
                if b.get("layout") != "numerator" or not same(arr(b["value"]), num) or \
                        tuple(b["math_shape"]) != math_shape(self.shapes_of(name), self.ex_shape(n)):
                    raise Wrong(f"--layout numerator --json d{name}/d{n}: not the permuted array layout")
            if len(want) == 1:
                path = os.path.join(d, "J.npy")
                (name, n), v = next(iter(self.eval_blocks.items()))
                cli(self.base("eval", "--out", path, "--layout", "numerator"))
                if not same(np.load(path), numerator(v, self.shapes_of(name), self.ex_shape(n), self.lead)):
                    raise Wrong("--out .npy --layout numerator: not the permuted --json values")

    def shapes_of(self, name):
        if not hasattr(self, "shapes"):
            self.c_shape()
        return self.shapes[name]

    def c_hessian(self):
        obj = cli(self.base("hessian"))
        self.check_batch_key(obj)
        outs = self.out_list(obj)
        H, lib = self.reference("hessians")
        blocks = self.blocks(obj, "hessian", "hessians")
        api = None
        if self.batch is None:
            import jacobi_cli
            api = api_call(jacobi_cli.hessian, self.prog.code, dict(self.values))
        self.hess = {}
        for k, (name, shape, _) in enumerate(outs):
            bl = blocks[None if self.prog.n_out == 1 else name]
            want_keys = {f"{a},{b}" for a in self.names for b in self.names}
            if set(bl) != want_keys:
                raise Wrong(f"hessian {name}: keys {sorted(bl)} vs {sorted(want_keys)}")
            for i, a in enumerate(self.names):
                for j, c in enumerate(self.names):
                    b = bl[f"{a},{c}"]
                    if tuple(b["shape"]) != shape + self.ex_shape(a) + self.ex_shape(c):
                        raise Wrong(f"hessian {name} {a},{c}: shape {b['shape']}")
                    got = arr(b["value"])
                    self.compare(f"hessian {name} {a},{c}", got, H[k][i][j], lib,
                                 lambda k=k, i=i, j=j: self.ref("jax").hessians()[k][i][j])
                    self.hess[(name, a, c)] = got
                    if api is not None:
                        ours = api[(a, c)] if self.prog.n_out == 1 else api[name][(a, c)]
                        if not same(ours, got):
                            raise Wrong(f"api hessian {name} {a},{c}: not the CLI's numbers")

    def orders(self, n):
        out = []
        for K in range(1, 5):
            if all(int(np.prod(s, dtype=int)) * int(np.prod(self.ex_shape(n), dtype=int)) ** K <= MAX_ORDER
                   for s in self.shapes.values()):
                out.append(K)
        return out

    def c_order(self):
        if not hasattr(self, "shapes"):
            self.c_shape()
        n = self.names[int(self.rng.integers(len(self.names)))]
        import jacobi_cli.tools.api as api
        for K in self.orders(n):
            obj = cli(self.base("derivative", "--wrt", n, "--order", K))
            self.check_batch_key(obj)
            outs = self.out_list(obj)
            D, lib = self.reference("derivative", n, K)
            blocks = self.blocks(obj, "derivative", "derivatives")
            api_d = None
            if self.batch is None:
                api_d = api_call(api.derivative, self.prog.code, dict(self.values), K, wrt=[n])
            for k, (name, shape, _) in enumerate(outs):
                b = (blocks[None] if self.prog.n_out == 1 else blocks[name])[n]
                want = shape + self.ex_shape(n) * K
                if tuple(b["shape"]) != want or b.get("order") != K:
                    raise Wrong(f"order {K} d{name}/d{n}: shape {b['shape']} order {b.get('order')} vs {want}")
                got = arr(b["value"])
                self.compare(f"order{K} d{name}/d{n}", got, D[k], lib,
                             lambda k=k: self.ref("jax").derivative(n, K)[k])
                if K >= 3:  # JAX as well, always, at the orders PyTorch's torch.func is least trusted
                    try:
                        dj = self.ref("jax").derivative(n, K)[k]
                    except Exception:  # noqa: BLE001
                        dj = None
                    if dj is not None and differ(got, dj, None, "float64", derivative=True, ref="jax",
                                                 rtol=self.rtol) and not differ(got, D[k], None, "float64",
                                                                                derivative=True, rtol=self.rtol):
                        self.notes["jax-differs order"] += 1
                if K == 1 and hasattr(self, "eval_blocks") and not same(got, self.eval_blocks[(name, n)]):
                    d = differ(got, self.eval_blocks[(name, n)], None, "float64", rtol=1e-15)
                    self.notes["order1-vs-eval rounding"] += 1
                    if d:
                        raise Wrong(f"order 1 d{name}/d{n} is not eval's block: {d}")
                if K == 2 and hasattr(self, "hess") and not same(got, self.hess[(name, n, n)]):
                    d = differ(got, self.hess[(name, n, n)], None, "float64", rtol=1e-13)
                    self.notes["order2-vs-hessian rounding"] += 1
                    if d:
                        raise Wrong(f"order 2 d{name}/d{n} is not hessian's block: {d}")
                if api_d is not None:
                    ours = api_d if self.prog.n_out == 1 else api_d[name]
                    if not same(ours, got):
                        raise Wrong(f"api.derivative order {K} {name}: not the CLI's numbers")
                if b.get("structure") == "diagonal" and int(np.prod(shape, dtype=int)) > 1:
                    self.sparse(n, K, name, shape, got)

    def sparse(self, n, K, name, shape, dense):
        """``--sparse``: the diagonal ``D[..., i, i, ..., i]`` shaped like the output (batch axis first)."""
        obj = cli(self.base("derivative", "--wrt", n, "--order", K, "--sparse"))
        blocks = self.blocks(obj, "derivative", "derivatives")
        b = (blocks[None] if self.prog.n_out == 1 else blocks[name])[n]
        size = int(np.prod(shape, dtype=int))
        flat = dense.reshape(self.lead + (size,) * (K + 1))
        at = (slice(None),) * len(self.lead) + (np.arange(size),) * (K + 1)
        diag = flat[at].reshape(self.lead + shape)
        off = flat.copy()
        off[at] = 0
        got = arr(b["diagonal"] if "diagonal" in b else b["value"])
        if got.shape == dense.shape:
            if not same(got, dense):
                raise Wrong(f"--sparse order {K} d{name}/d{n}: not the dense tensor")
            return
        if not same(got, diag) or np.any(off != 0):
            raise Wrong(f"--sparse order {K} d{name}/d{n}: diagonal {got.shape} is not the dense tensor's")

    def c_check(self):
        """``jac check``: a smooth program's derivatives pass against finite differences (exit 0, passed)."""
        from jacobi_cli.cli import entry
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = entry.main([str(a) for a in self.base("check")])
        if code == 2:
            raise Refused(err.getvalue().strip().splitlines()[0][:200])
        try:
            obj = json.loads(out.getvalue())
        except ValueError:
            raise Crash(f"check exit {code}: stdout is not one JSON object") from None
        if code not in (0, 1) or (code == 0) != bool(obj.get("passed")):
            raise Crash(f"check exit {code} with passed {obj.get('passed')}")
        if code == 1:
            raise Wrong(f"check failed on a smooth program: {err.getvalue().strip()[-300:]}")
        self.check_batch_key(obj)

    def c_modes(self):
        """``--mode forward`` and ``--mode reverse`` give the blocks of ``--mode auto`` (to rounding)."""
        if not hasattr(self, "eval_blocks"):
            self.c_eval()
        for mode in ("forward", "reverse"):
            obj = cli(self.base("eval", "--mode", mode))
            blocks = self.blocks(obj, "jacobian", "jacobians")
            for (name, n), want in self.eval_blocks.items():
                got = arr((blocks[None] if self.prog.n_out == 1 else blocks[name])[n]["value"])
                d = differ(got, want, None, "float64", rtol=1e-12)
                if d:
                    raise Wrong(f"--mode {mode} d{name}/d{n}: {d} from --mode auto")
        if len(self.names) > 1:  # a hessian by a subset: the same blocks as of every pair
            n = self.names[-1]
            obj = cli(self.base("hessian", "--wrt", n))
            blocks = self.blocks(obj, "hessian", "hessians")
            if hasattr(self, "hess"):
                for name in self.out_names:
                    bl = blocks[None] if self.prog.n_out == 1 else blocks[name]
                    if set(bl) != {f"{n},{n}"}:
                        raise Wrong(f"hessian --wrt {n}: keys {sorted(bl)}")
                    if not same(arr(bl[f"{n},{n}"]["value"]), self.hess[(name, n, n)]):
                        d = differ(arr(bl[f"{n},{n}"]["value"]), self.hess[(name, n, n)], None, "float64", rtol=1e-13)
                        if d:
                            raise Wrong(f"hessian --wrt {n} {name}: {d} from every pair's block")

    def c_vjp(self):
        if not hasattr(self, "shapes"):
            self.c_shape()
        vs = [self.rng.uniform(-1, 1, self.lead + self.shapes[o]) for o in self.out_names]
        how = self.rng.integers(3)
        if how == 1:  # --v ones: ones for every output
            vs = [np.ones_like(v) for v in vs]
            opts = ["--v", "ones"]
            if "ones" in self.out_names:
                raise Skip("an output named ones")
        elif self.prog.n_out == 1:
            opts = ["--v", text(vs[0])]
        else:  # an output left out counts as zero
            keep = [how == 0 or self.rng.random() < 0.6 for _ in vs]
            if not any(keep):
                keep[0] = True
            vs = [v if k else np.zeros_like(v) for v, k in zip(vs, keep)]
            opts = [a for o, v, k in zip(self.out_names, vs, keep) if k for a in ("--v", f"{o}={text(v)}")]
        obj = cli(self.base("vjp", *opts))
        self.check_batch_key(obj)
        G, lib = self.reference("vjps", vs)
        for i, n in enumerate(self.names):
            b = obj["vjp"][n]
            if tuple(b["shape"]) != self.ex_shape(n):
                raise Wrong(f"vjp {n}: shape {b['shape']} vs {self.ex_shape(n)}")
            self.compare(f"vjp {n}", arr(b["value"]), G[i], lib, lambda i=i: self.ref("jax").vjps(vs)[i])

    def c_jvp(self):
        if not hasattr(self, "shapes"):
            self.c_shape()
        tangents, shared, opts = {}, {}, []
        for n in self.names:
            s = self.ex_shape(n)
            if self.batched(n):
                t = self.rng.uniform(-1, 1, self.lead + s)
                opts += ["--tangent", f"{n}={text(np.moveaxis(t, 0, self.batch[n]))}"]
                shared[n] = False
            elif self.batch is not None and self.rng.random() < 0.5:
                t = self.rng.uniform(-1, 1, self.lead + s)  # a shared input's tangent per example
                opts += ["--tangent", f"{n}={text(t)}"]
                shared[n] = False
            else:
                t = self.rng.uniform(-1, 1, s)
                opts += ["--tangent", f"{n}={text(t)}"]
                shared[n] = True
            if self.rng.random() < 0.2 and len(opts) > 2:  # an input without --tangent gets none (one is kept)
                opts = opts[:-2]
                t = np.zeros(self.lead + s) if not shared[n] else np.zeros(s)
            tangents[n] = t
        obj = cli(self.base("jvp", *opts))
        self.check_batch_key(obj)
        T, lib = self.reference("jvps", tangents, shared)
        blocks = {None: obj["jvp"]} if self.prog.n_out == 1 else obj.get("jvps")
        if blocks is None or (self.prog.n_out > 1 and "jvp" in obj):
            raise Wrong(f"jvp keys {sorted(obj)}")
        for k, o in enumerate(self.out_names):
            b = blocks[None if self.prog.n_out == 1 else o]
            if tuple(b["shape"]) != self.shapes[o]:
                raise Wrong(f"jvp {o}: shape {b['shape']} vs {self.shapes[o]}")
            self.compare(f"jvp {o}", arr(b["value"]), T[k], lib, lambda k=k: self.ref("jax").jvps(tangents, shared)[k])

    def c_float32(self):
        if not hasattr(self, "shapes"):
            self.c_shape()
        pairs = [("eval", [], lambda r: [b for row in r.jacobians() for b in row])]
        n = self.names[0]
        K = max(self.orders(n), default=0)
        if K >= 2:
            pairs.append(("derivative", ["--wrt", n, "--order", str(K)], lambda r: r.derivative(n, K)))
        for cmd, extra, ref in pairs:
            o64 = cli(self.base(cmd, *extra))
            o32 = cli(self.base(cmd, *extra, dtype="float32"))
            r64 = r32 = None
            for lib in ("torch", "jax"):
                try:
                    r64, r32 = ref(self.ref(lib)), ref(self.ref(lib, "float32"))
                    break
                except Exception as e:  # noqa: BLE001
                    why = f"{type(e).__name__}: {str(e)[:150]}"
            if r32 is None:
                raise Skip(f"float32 references: {why}")
            a64, a32 = self.flat(cmd, o64, n), self.flat(cmd, o32, n)
            for k, (a, b, x, y) in enumerate(zip(a32, a64, r32, r64)):
                a, b, x, y = (np.asarray(z, dtype=np.float64) for z in (a, b, x, y))
                if a.shape != b.shape:
                    raise Wrong(f"float32 {cmd} #{k}: shape {a.shape} vs float64 {b.shape}")
                scale = max(1.0, float(np.abs(b).max(initial=0)))
                tol = 10 * np.abs(x - y) + 1e-4 * np.abs(b) + 1e-5 * scale
                bad = np.abs(a - b) > tol
                if bad.any():
                    raise Wrong(f"float32 {cmd} #{k}: max |jac32 - jac64| {np.abs(a - b).max():.3g}, PyTorch's own "
                                f"{np.abs(x - y).max():.3g}")

    def flat(self, cmd, obj, n):
        if cmd == "eval":
            blocks = self.blocks(obj, "jacobian", "jacobians")
            return [arr((blocks[None] if self.prog.n_out == 1 else blocks[o])[m]["value"])
                    for o in self.out_names for m in self.names]
        blocks = self.blocks(obj, "derivative", "derivatives")
        return [arr((blocks[None] if self.prog.n_out == 1 else blocks[o])[n]["value"]) for o in self.out_names]


def run_one(prog, rng, only, notes, verbose):
    run = Run(prog, rng, only, notes)
    results = {}
    for c in CHECKS:
        if only and c not in only:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                getattr(run, "c_" + c)()
            results[c] = ("AGREE", "")
        except Refused as e:
            results[c] = ("REFUSED", str(e))
        except Wrong as e:
            results[c] = ("WRONG", str(e))
        except Skip as e:
            results[c] = ("SKIPPED", str(e))
        except Crash as e:
            results[c] = ("CRASH", str(e))
        except Exception:  # noqa: BLE001 - the fuzz's own or jac's: look at it
            results[c] = ("CRASH", traceback.format_exc(limit=-4).strip().replace("\n", " | ")[-400:])
    if any(lib == "jax" for lib, _ in run._refs):
        import jax
        jax.clear_caches()  # JAX's caches of eager dispatch grow by ~100 MB a program otherwise (measured)
    return results


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--count", type=int, default=40)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--only", default="")
    ap.add_argument("-v", action="store_true")
    a = ap.parse_args(argv)
    only = set(filter(None, a.only.split(",")))
    import torch
    torch.set_num_threads(1)
    tally, notes = Counter(), Counter()
    start = time.time()
    for i in range(a.start, a.start + a.count):
        prog, rng = draw(a.seed, i)
        res = with_timeout(run_one, prog, rng, only, notes, a.v, seconds=240)
        if isinstance(res, tuple):
            res = {"all": res}
        worst = "AGREE"
        for c, (status, msg) in res.items():
            tally[(c, status)] += 1
            if status != "AGREE":
                worst = status if worst in ("AGREE", "SKIPPED") else worst
                print(f"{prog.name} [{prog.lib}{' batch ' + str(prog.batch) + ' B=' + str(prog.size) if prog.batch else ''}]"
                      f" {c}: {status}: {msg}\n    {prog.code}\n    shapes {prog.shapes}", flush=True)
        tally[("program", worst)] += 1
        if a.v:
            print(f"{prog.name}: {worst} ({time.time() - start:.0f} s)", flush=True)
    print(f"\n{a.count} programs (seed {a.seed}) in {time.time() - start:.0f} s")
    for c in ["program", *CHECKS]:
        row = {s: tally[(c, s)] for s in ("AGREE", "WRONG", "REFUSED", "CRASH", "SKIPPED") if tally[(c, s)]}
        if row:
            print(f"  {c:8s} " + ", ".join(f"{s} {k}" for s, k in row.items()))
    if notes:
        print("  notes: " + ", ".join(f"{k} {v}" for k, v in sorted(notes.items())))
    return 1 if any(s in ("WRONG", "CRASH") for (_, s) in tally) else 0


if __name__ == "__main__":
    sys.exit(main())
