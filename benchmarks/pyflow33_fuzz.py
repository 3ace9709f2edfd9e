"""A differential fuzz of value-dependent Python control flow in every mode, against PyTorch: random programs
written in PyTorch's syntax (tests of the inputs' norms, sums and elements in ``if`` / ``elif`` / ternaries /
comprehension ``if``s, ``and`` / ``or`` / ``not`` and chained comparisons, ``while`` loops on the values with a
step cap, ``for`` loops with a ``break`` on the values, functions with early ``return``s, recursion ended by a
test of the values, boolean masks read and written, Python ints and floats read off the values), each run by
PyTorch itself (the same text, ``exec``'d with float64 tensors: eager mode, autograd) and by jac in-process,
compared mode by mode:

- ``value`` and ``jacobian`` (``api.evaluate`` / ``api.jacobian`` against ``torch.autograd.functional.jacobian``),
- ``vjp`` (``api.vjp`` with a random v, as ``jac vjp --v``, against ``torch.autograd.grad(y, (x, y), v)``),
- ``jvp`` (``api.jvp``, as ``jac jvp --tangent``, against ``torch.autograd.functional.jvp``),
- ``hessian`` of the program's ``(E * E).sum()`` by x and y (``torch.autograd.functional.hessian``),
- ``derivative`` of order 3 by x of that scalar (``api.derivative``, nested ``torch.autograd.functional.jacobian``),
- ``check`` (``report.check_report``: jac check must pass, exit 0),
- ``json`` (``report.eval_report(...).to_json()``, what ``--json`` prints: value and Jacobians),
- ``float32`` (``api.jacobian(..., dtype="float32")`` against PyTorch run in float32),
- ``reuse`` (the API called twice at the same values, then at other values, and ``api.compile``'s function at
  several values: another branch's answer must never come back silently),
- ``batch`` (``api.jacobian(..., batch=["x", "y"])`` of three examples: refused, or each example right),
- ``suite`` (``jac run`` of a suite holding the program at two points, expectations PyTorch's: exit 0 or refused),
- ``cli`` (for the first ``--cli`` programs: ``jac vjp --json`` and ``jac eval`` text in real processes).

Each mode of each program is ``AGREE``, ``REFUSED`` (a JacError: listed by message), ``WRONG`` (printed in full),
``CRASH`` (an exception that is no JacError, or a traceback), or ``SKIPPED`` (PyTorch raises, or its value is not
finite: not a valid program there).

    PYTHONPATH=. /work/venv/bin/python benchmarks/pyflow33_fuzz.py [--n 600] [--seed 0] [--cli 10] [--show 8]

Exit 1 if any WRONG or CRASH. Run by hand, never as a test (see benchmarks/README.md).
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import torch

from fuzzkit import NamedLines

N = 4  # every array of a program has shape (N,)
MODES = ("value", "jacobian", "vjp", "jvp", "hessian", "derivative", "check", "json", "float32", "reuse", "compile", "batch",
         "suite", "cli")
TREE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Program(NamedLines):
    """One random program in PyTorch's syntax: its lines, and the names bound so far by kind."""

    def __init__(self, rng: random.Random):
        super().__init__(rng)
        self.arrays = ["x", "y"]  # names holding a float tensor of shape (N,)
        self.scalars: list[str] = []  # names holding a 0-d tensor an input reaches
        self.ints: list[str] = []  # Python ints (some read off the values)
        self.funcs: list[str] = []  # functions of one array

    def const(self) -> str:
        return self.rng.choice(["0.5", "2.0", "1.5", "-0.25", "0.8", "0.1", "-1.0"])

    def threshold(self) -> str:
        return self.rng.choice(["0.0", "0.5", "1.0", "-0.5", "2.0", "1.5", "-1.0", "3.0"])

    def array(self) -> str:
        return self.rng.choice(self.arrays)

    # --- expressions -----------------------------------------------------------------------

    def expr(self, depth: int = 0) -> str:
        r = self.rng
        if depth >= 3 or r.random() < 0.25:
            return self.array()
        a = self.expr(depth + 1)
        kind = r.randint(0, 21)
        forms = {
            0: lambda: f"torch.sin({a})",
            1: lambda: f"torch.tanh({a})",
            2: lambda: f"({a} * {self.const()})",
            3: lambda: f"({a} + {self.expr(depth + 1)})",
            4: lambda: f"({a} - {self.expr(depth + 1)})",
            5: lambda: f"({a} * {self.expr(depth + 1)})",
            6: lambda: f"({a} / (1 + {a} * {a}))",
            7: lambda: f"{a}.flip(0)",
            8: lambda: f"torch.roll({a}, {r.randint(-2, 2)})",
            9: lambda: f"({a} * {r.choice(self.scalars)})" if self.scalars else a,
            10: lambda: f"({a}.sum() * {self.expr(depth + 1)})",
            11: lambda: f"{r.choice(self.funcs)}({a})" if self.funcs else a,
            12: lambda: f"({a} if {self.test()} else {self.expr(depth + 1)})",
            13: lambda: f"torch.cumsum({a}, 0)",
            14: lambda: f"({a} ** 2)",
            15: lambda: f"torch.where({a} > 0, {a}, 0.5 * {a})",
            16: lambda: f"({a} * {r.choice(self.ints)})" if self.ints else a,
            17: lambda: f"({a} @ {self.expr(depth + 1)} * {a})",
            18: lambda: f"torch.cat([{a}[2:], {a}[:2]])",
            19: lambda: f"({a} / ({a}.norm() + 1))",
            20: lambda: f"torch.exp(-{a} * {a})",
            21: lambda: f"({a} * {a}[{r.randint(0, N - 1)}])",
        }
        return forms[kind]()

    def reduced(self) -> str:
        """A 0-d tensor of an array: what a test reads."""
        a = self.array() if self.rng.random() < 0.6 else self.expr(2)
        return self.rng.choice([f"{a}.sum()", f"{a}.norm()", f"{a}[{self.rng.randint(0, N - 1)}]", f"{a}.max()",
                                f"{a}.min()", f"{a}.mean()", f"{a}.abs().sum()", f"(({a}) ** 2).sum()",
                                f"torch.dot({a}, {self.array()})"])

    def test(self, depth: int = 0) -> str:
        r = self.rng
        kind = r.randint(0, 9)
        if kind <= 4 or depth > 0:
            return f"{self.reduced()} {r.choice(['>', '<', '>=', '<='])} {self.threshold()}"
        if kind == 5:
            return f"{self.test(1)} and {self.test(1)}"
        if kind == 6:
            return f"{self.test(1)} or not {self.test(1)}"
        if kind == 7:
            return f"{r.choice(['-1.0', '-0.5', '0.0'])} < {self.reduced()} < {r.choice(['1.0', '2.0', '4.0'])}"
        if kind == 8:
            return f"({self.array()} > {self.threshold()}).{r.choice(['any', 'all'])}()"
        if self.scalars:
            return f"{r.choice(self.scalars)} > {self.threshold()}"
        return f"{self.reduced()} > {self.threshold()}"

    # --- statements ------------------------------------------------------------------------

    def block(self, indent: str, depth: int) -> None:
        for _ in range(self.rng.randint(1, 2)):
            self.statement(indent, depth)

    def assign(self, indent: str, value: str) -> str:
        name = self.rng.choice(self.arrays[2:]) if len(self.arrays) > 2 and self.rng.random() < 0.4 \
            else self.fresh("a")
        self.lines.append(f"{indent}{name} = {value}")
        self.add(self.arrays, name)
        return name

    def statement(self, indent: str = "", depth: int = 0) -> None:
        r = self.rng
        put = self.lines.append
        kind = r.randint(0, 19)
        if kind <= 2 or (kind >= 3 and depth >= 2):
            self.assign(indent, self.expr())
        elif kind == 3:  # if / elif / else on the values
            put(f"{indent}if {self.test()}:")
            self.block(indent + "    ", depth + 1)
            if r.random() < 0.3:
                put(f"{indent}elif {self.test()}:")
                self.block(indent + "    ", depth + 1)
            if r.random() < 0.7:
                put(f"{indent}else:")
                self.block(indent + "    ", depth + 1)
        elif kind == 4:  # a branch binding one name both ways
            name = self.fresh("a")
            put(f"{indent}if {self.test()}:")
            put(f"{indent}    {name} = {self.expr(1)}")
            put(f"{indent}else:")
            put(f"{indent}    {name} = {self.expr(1)}")
            self.add(self.arrays, name)
        elif kind == 5:  # a while loop on the values, capped
            a, k = self.fresh("a"), self.fresh("k")
            put(f"{indent}{a} = {self.expr(1)}")
            put(f"{indent}{k} = 0")
            test = r.choice([f"{a}.norm() > {r.choice(['0.3', '0.5', '1.0'])}",
                             f"{a}.abs().max() > {r.choice(['0.1', '0.4'])}", f"{a}.sum() > {self.threshold()}"])
            put(f"{indent}while {test} and {k} < {r.randint(2, 6)}:")
            put(f"{indent}    {a} = {r.choice([f'{a} * 0.5', f'torch.tanh({a}) * 0.7', f'{a} - 0.3 * {a}.sign()'])}"
                f" + 0.1 * {self.expr(2)}")
            put(f"{indent}    {k} += 1")
            self.add(self.arrays, a)
            self.add(self.ints, k)
        elif kind == 6 and depth == 0:  # a function with early returns
            f, p = self.fresh("f"), self.fresh("p")
            saved = self.arrays
            self.arrays = self.arrays + [p]
            put(f"{indent}def {f}({p}):")
            put(f"    if {p}{r.choice(['.sum()', '.norm()', '[0]', '.max()'])} > {self.threshold()}:")
            put(f"        return {self.expr(1)}")
            if r.random() < 0.5:
                put(f"    for i in range({r.randint(1, 3)}):")
                put(f"        if {p}.norm() < {r.choice(['0.5', '1.0', '2.0'])}:")
                put(f"            return {p} * (i + 1)")
                put(f"        {p} = torch.tanh({p}) * 1.5")
            put(f"    return {self.expr(1)}")
            self.arrays = saved
            self.add(self.funcs, f)
        elif kind == 7 and depth == 0:  # recursion ended by a test of the values
            f, p, n = self.fresh("r"), self.fresh("p"), self.fresh("n")
            put(f"{indent}def {f}({p}, {n}={r.randint(1, 5)}):")
            put(f"    if {n} == 0 or {p}.norm() < {r.choice(['0.5', '1.0', '1.5'])}:")
            put(f"        return {p}")
            put(f"    return {f}({r.choice([f'torch.sin({p}) * 0.9', f'{p} * 0.6', f'torch.tanh({p}) + 0.1'])}, "
                f"{n} - 1)")
            self.add(self.funcs, f)
        elif kind == 8:  # a mask of the values, read
            s = self.fresh("s")
            a = self.expr(1)
            m = r.choice([f"{a} > {self.threshold()}", f"{self.array()} < {self.threshold()}",
                          f"({a} > 0) & ({self.array()} < 1)"])
            put(f"{indent}{s} = {a}[{m}].{r.choice(['sum()', 'sum() * 2', 'prod()', 'square().sum()'])}")
            self.add(self.scalars, s)
        elif kind == 9:  # a mask of the values, written into a clone
            b = self.fresh("a")
            put(f"{indent}{b} = {self.expr(1)}.clone()")
            form = r.randint(0, 2)
            if form == 0:
                put(f"{indent}{b}[{b} < {self.threshold()}] = {self.const()}")
            elif form == 1:
                put(f"{indent}{b}[{self.array()} > 0] *= {self.const()}")
            else:
                put(f"{indent}{b}[{b}.abs() > 1] = {b}[{b}.abs() > 1] / 2")
            self.add(self.arrays, b)
        elif kind == 10:  # a for loop with a break on the values
            a, i = self.fresh("a"), self.fresh("i")
            put(f"{indent}{a} = {self.expr(1)}")
            put(f"{indent}for {i} in range({r.randint(1, 4)}):")
            put(f"{indent}    if {a}.norm() {r.choice(['<', '>'])} {r.choice(['0.5', '1.0', '2.0'])}:")
            put(f"{indent}        {r.choice(['break', 'continue'])}")
            put(f"{indent}    {a} = torch.tanh({a}) * 0.8 + 0.1 * {self.expr(2)}")
            self.add(self.arrays, a)
        elif kind == 11:  # a comprehension's if on the values
            a, i = self.fresh("a"), self.fresh("i")
            e = self.expr(1)
            put(f"{indent}{a} = sum([{e}[{i}] * {self.array()} for {i} in range({N}) if {e}[{i}] > "
                f"{self.threshold()}], {self.array()} * 0)")
            self.add(self.arrays, a)
        elif kind == 12:  # a Python int read off the values
            k = self.fresh("k")
            put(f"{indent}{k} = int(({self.expr(1)} > {self.threshold()}).sum())")
            self.add(self.ints, k)
            if r.random() < 0.5:
                a, i = self.fresh("a"), self.fresh("i")
                put(f"{indent}{a} = {self.array()} * 1.0")
                put(f"{indent}for {i} in range({k}):")
                put(f"{indent}    {a} = torch.sin({a}) + {self.array()} * 0.5")
                self.add(self.arrays, a)
        elif kind == 13:  # a Python float read off the values (detached, as PyTorch's .item())
            c = self.fresh("c")
            put(f"{indent}{c} = {r.choice(['float', ''])}({self.reduced()}{r.choice(['.item()', ''])})")
            if r.random() < 0.5:
                put(f"{indent}{c} = {c} if {c} > {self.threshold()} else {self.const()}")
            self.assign(indent, f"{self.expr(1)} * {c}")
        elif kind == 14:  # an argmax / an index read off the values
            k = self.fresh("k")
            put(f"{indent}{k} = int({self.expr(1)}.argmax())")
            self.add(self.ints, k)
            self.assign(indent, f"{self.expr(1)} * {self.array()}[{k}]")
        elif kind == 15:  # a 0-d tensor of the values, for later tests and products
            s = self.fresh("s")
            put(f"{indent}{s} = {self.reduced()}")
            self.add(self.scalars, s)
        elif kind == 16:  # max / min of Python over 0-d tensors, abs, clamps of the values
            s = self.fresh("s")
            put(f"{indent}{s} = {r.choice(['max', 'min'])}({self.reduced()}, {self.reduced()})")
            self.add(self.scalars, s)
        elif kind == 17:  # a list grown on a test of the values
            L, i, a = self.fresh("L"), self.fresh("i"), self.fresh("a")
            put(f"{indent}{L} = [{self.array()}]")
            put(f"{indent}for {i} in range({r.randint(1, 3)}):")
            put(f"{indent}    if {L}[-1].sum() > {self.threshold()}:")
            put(f"{indent}        {L}.append({L}[-1] * 0.5)")
            put(f"{indent}    else:")
            put(f"{indent}        {L}.append(torch.sin({L}[-1]))")
            put(f"{indent}{a} = torch.stack({L}).sum(0)")
            self.add(self.arrays, a)
        elif kind == 18:  # a norm clip
            a, n = self.fresh("a"), self.fresh("n")
            put(f"{indent}{a} = {self.expr(1)}")
            put(f"{indent}{n} = {a}.norm()")
            put(f"{indent}if {n} > {r.choice(['0.5', '1.0', '2.0'])}:")
            put(f"{indent}    {a} = {a} * ({r.choice(['0.5', '1.0'])} / {n})")
            self.add(self.arrays, a)
        else:
            self.assign(indent, self.expr())


def draw(rng: random.Random) -> str:
    program = Program(rng)
    for _ in range(rng.randint(2, 6)):
        program.statement()
    last = program.arrays[-3:] if len(program.arrays) > 2 else ["x"]
    terms = [f"{rng.choice(['1.0', '0.5', '2.0'])} * {name}" for name in last]
    if program.scalars and rng.random() < 0.5:
        terms.append(f"{rng.choice(program.scalars)} * {rng.choice(program.arrays)}")
    program.lines.append(" + ".join(terms))
    return "\n".join(program.lines)


def scalar_of(text: str) -> str:
    *body, last = text.split("\n")
    return "\n".join(body + [f"_e = {last}", "(_e * _e).sum() + _e.sum()"])


# --- PyTorch's answers ---------------------------------------------------------------------

def torch_run(text: str, x, y):
    *body, last = text.split("\n")
    env = {"torch": torch, "x": x, "y": y}
    exec("\n".join(body), env)
    return eval(last, env)


def torch_answers(text: str, x: np.ndarray, y: np.ndarray, v: np.ndarray, tx: np.ndarray, ty: np.ndarray,
                  dtype=torch.float64) -> dict | None:
    """PyTorch's value, Jacobians, vjp and jvp of ``text`` at x, y; None where it raises or is not finite."""
    def f(a, b):
        return torch_run(text, a, b)

    X, Y = torch.tensor(x, dtype=dtype), torch.tensor(y, dtype=dtype)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = f(X, Y)
            if not isinstance(value, torch.Tensor) or value.dtype != dtype or not torch.isfinite(value).all():
                return None
            Jx, Jy = torch.autograd.functional.jacobian(f, (X, Y))
            if dtype is torch.float32:
                return {"value": value.detach().numpy(), "x": Jx.numpy(), "y": Jy.numpy()}
            Xg, Yg = X.clone().requires_grad_(), Y.clone().requires_grad_()
            out = f(Xg, Yg)
            gx, gy = torch.autograd.grad(out, (Xg, Yg), torch.tensor(v).reshape(out.shape), allow_unused=True)
            _, jv = torch.autograd.functional.jvp(f, (X, Y), (torch.tensor(tx), torch.tensor(ty)))
    except Exception:  # noqa: BLE001 - PyTorch raises: no valid program at these values
        return None
    zero = np.zeros(N)
    return {"value": value.detach().numpy(), "x": Jx.numpy(), "y": Jy.numpy(),
            "vjp_x": zero if gx is None else gx.numpy(), "vjp_y": zero if gy is None else gy.numpy(),
            "jvp": jv.numpy()}


def torch_orders(text: str, x: np.ndarray, y: np.ndarray) -> dict | None:
    """PyTorch's Hessian blocks of the scalar ``text`` by x and y, and its third derivative by x."""
    def f(a, b):
        return torch_run(text, a, b)

    X, Y = torch.tensor(x), torch.tensor(y)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = f(X, Y)
            if not isinstance(value, torch.Tensor) or not torch.isfinite(value).all():
                return None
            (hxx, hxy), (hyx, hyy) = torch.autograd.functional.hessian(f, (X, Y))

            def h(a):
                return torch.autograd.functional.hessian(lambda t: f(t, Y), a, create_graph=True)

            d3 = torch.autograd.functional.jacobian(h, X)
    except Exception:  # noqa: BLE001
        return None
    return {("x", "x"): hxx.numpy(), ("x", "y"): hxy.numpy(), ("y", "x"): hyx.numpy(), ("y", "y"): hyy.numpy(),
            "d3": d3.numpy()}


# --- comparisons ---------------------------------------------------------------------------

def close(got, want, rtol: float = 1e-9) -> bool:
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        return False
    scale = max(1.0, float(np.abs(want).max(initial=0.0)))
    return bool(np.all(np.abs(got - want) <= rtol * scale + rtol * np.abs(want)))


class Outcomes:
    def __init__(self, show: int):
        self.counts = {m: collections.Counter() for m in MODES}
        self.refusals = {m: collections.Counter() for m in MODES}
        self.shown = collections.Counter()
        self.show = show

    def run(self, mode: str, k: int, text: str, errors, fn) -> None:
        try:
            status, detail = fn()
        except errors.JacError as err:
            status, detail = "REFUSED", str(err).split("\n")[0]
        except Exception as err:  # noqa: BLE001
            import traceback
            status, detail = "CRASH", f"{type(err).__name__}: {err}\n{traceback.format_exc()[-1500:]}"
        self.counts[mode][status] += 1
        if status == "REFUSED":
            self.refusals[mode][detail[:90]] += 1
        elif status in ("WRONG", "CRASH") and self.shown[mode] < self.show:
            self.shown[mode] += 1
            print(f"{status} {mode} (program {k})\n{text}\n  {detail}\n", flush=True)


def agree_or_wrong(pairs) -> tuple:
    for what, got, want, rtol in pairs:
        if not close(got, want, rtol):
            return "WRONG", f"{what}: jac {np.asarray(got)!r}\n  vs PyTorch {np.asarray(want)!r}"
    return "AGREE", ""


def points(rng: np.random.Generator) -> tuple:
    return rng.standard_normal(N) * 1.2, rng.standard_normal(N) * 1.2


def suite_text(text: str, cases: list) -> str:
    lines = []
    for i, (x, y, want) in enumerate(cases):
        lines += ["[[case]]", f'name = "point {i}"', f"expr = {json.dumps(text)}",
                  f"bindings = {{ x = {json.dumps(x.tolist())}, y = {json.dumps(y.tolist())} }}",
                  f"value = {json.dumps(want['value'].tolist())}", "rtol = 1e-9", "atol = 1e-9",
                  f"jacobian.x = {json.dumps(want['x'].tolist())}", f"jacobian.y = {json.dumps(want['y'].tolist())}",
                  ""]
    return "\n".join(lines)


def program_modes(k: int, text: str, seed: int, out: Outcomes, jac, cli: bool) -> bool:
    from jacobi_cli import errors
    from jacobi_cli.tools import api, report

    rng = np.random.default_rng(seed)
    x, y = points(rng)
    v, tx, ty = rng.standard_normal(N), rng.standard_normal(N), rng.standard_normal(N)
    want = torch_answers(text, x, y, v, tx, ty)
    if want is None:
        for mode in MODES:
            out.counts[mode]["SKIPPED"] += 1
        return False
    b = {"x": x.copy(), "y": y.copy()}
    shape = want["value"].shape
    vv = v.reshape(shape) if shape == (N,) else v[:1].reshape(shape) if int(np.prod(shape)) == 1 else None
    if vv is not None:
        want = torch_answers(text, x, y, vv.ravel() if vv.ndim else vv, tx, ty)
        if want is None:
            return False

    def value_mode():
        return agree_or_wrong([("value", api.evaluate(text, b), want["value"], 1e-12)])

    def jacobian_mode():
        J = api.jacobian(text, b)
        return agree_or_wrong([("d/dx", J["x"], want["x"], 1e-9), ("d/dy", J["y"], want["y"], 1e-9)])

    def vjp_mode():
        if vv is None:
            return "SKIPPED", ""
        g = api.vjp(text, b, v=vv)
        return agree_or_wrong([("x.grad", g["x"], want["vjp_x"], 1e-9), ("y.grad", g["y"], want["vjp_y"], 1e-9)])

    def jvp_mode():
        return agree_or_wrong([("jvp", api.jvp(text, b, {"x": tx, "y": ty}), want["jvp"], 1e-9)])

    for mode, fn in (("value", value_mode), ("jacobian", jacobian_mode), ("vjp", vjp_mode), ("jvp", jvp_mode)):
        out.run(mode, k, text, errors, fn)

    scalar = scalar_of(text)
    orders = torch_orders(scalar, x, y)

    def hessian_mode():
        if orders is None:
            return "SKIPPED", ""
        H = api.hessian(scalar, b)
        return agree_or_wrong([(f"H{key}", H[key], orders[key], 1e-8) for key in (("x", "x"), ("x", "y"),
                                                                                  ("y", "x"), ("y", "y"))])

    def derivative_mode():
        if orders is None:
            return "SKIPPED", ""
        return agree_or_wrong([("d3/dx3", api.derivative(scalar, b, 3, wrt=["x"]), orders["d3"], 1e-7)])

    def check_mode():
        found = report.check_report(text, b).to_json()
        if not found["passed"] and "detach" in {n.op for n in api.prepare(text, b).graph.nodes}:
            return "SKIPPED", ""  # .item(), float(): PyTorch's derivative and jac's ignore it, differences see it
        if not found["passed"]:
            return "WRONG", f"jac check failed: {json.dumps(found['inputs'], default=str)[:1500]}"
        return "AGREE", ""

    def json_mode():
        found = report.eval_report(text, b).to_json()
        return agree_or_wrong([("json value", found["output"]["value"], want["value"], 1e-12),
                               ("json d/dx", found["jacobian"]["x"]["value"], want["x"], 1e-9),
                               ("json d/dy", found["jacobian"]["y"]["value"], want["y"], 1e-9)])

    def float32_mode():
        want32 = torch_answers(text, x.astype(np.float32), y.astype(np.float32), v, tx, ty, torch.float32)
        if want32 is None:
            return "SKIPPED", ""
        got = api.evaluate(text, b, dtype="float32")
        J = api.jacobian(text, b, dtype="float32")
        if np.asarray(got).dtype != np.float32:
            return "WRONG", f"float32 value of dtype {np.asarray(got).dtype}"
        return agree_or_wrong([("f32 value", got, want32["value"], 2e-4), ("f32 d/dx", J["x"], want32["x"], 2e-3),
                               ("f32 d/dy", J["y"], want32["y"], 2e-3)])

    def reuse_mode():
        pairs = []
        for x2, y2 in (points(rng), points(rng)):  # the cache's path: same shapes, other values
            w = torch_answers(text, x2, y2, v, tx, ty)
            if w is None:
                continue
            for _ in range(2):
                J = api.jacobian(text, {"x": x2.copy(), "y": y2.copy()})
                pairs += [("reused value", api.evaluate(text, {"x": x2.copy(), "y": y2.copy()}), w["value"], 1e-12),
                          ("reused d/dx", J["x"], w["x"], 1e-9), ("reused d/dy", J["y"], w["y"], 1e-9)]
        return agree_or_wrong(pairs)

    def compile_mode():
        pairs = []
        f = api.compile(text, {"x": ":4", "y": ":4"})  # refused for a graph of the values, as it should
        for x2, y2 in [(x, y), (x, y)] + [points(rng) for _ in range(4)]:
            w = torch_answers(text, x2, y2, v, tx, ty)
            if w is None:
                continue
            env = {"x": x2.copy(), "y": y2.copy()}
            J = f.jacobian(env)
            pairs += [("compiled value", f.value(env), w["value"], 1e-12), ("compiled d/dx", J["x"], w["x"], 1e-9),
                      ("compiled d/dy", J["y"], w["y"], 1e-9)]
        return agree_or_wrong(pairs)

    def batch_mode():
        xs, ys = [x], [y]
        while len(xs) < 3:
            x2, y2 = points(rng)
            xs.append(x2)
            ys.append(y2)
        wants = [torch_answers(text, a, c, v, tx, ty) for a, c in zip(xs, ys)]
        if any(w is None for w in wants):
            return "SKIPPED", ""
        J = api.jacobian(text, {"x": np.stack(xs), "y": np.stack(ys)}, batch=["x", "y"])
        return agree_or_wrong([(f"batch {i} d/d{n}", J[n][i], w[n], 1e-9) for i, w in enumerate(wants)
                               for n in ("x", "y")])

    for mode, fn in (("hessian", hessian_mode), ("derivative", derivative_mode), ("check", check_mode),
                     ("json", json_mode), ("float32", float32_mode), ("reuse", reuse_mode), ("compile", compile_mode),
                     ("batch", batch_mode)):
        out.run(mode, k, text, errors, fn)

    x2, y2 = points(rng)
    want2 = torch_answers(text, x2, y2, v, tx, ty)

    def suite_mode():
        from jacobi_cli.tools import suite
        if want2 is None:
            return "SKIPPED", ""
        loaded = suite.parse_suite(suite_text(text, [(x, y, want), (x2, y2, want2)]))
        results = suite.run_cases(loaded.cases)
        for r in results:
            if r.status == "error":
                return "REFUSED", r.error["message"]
        bad = [r for r in results if r.status != "passed"]
        if bad:
            return "WRONG", "; ".join(f"{r.name}: {[str(o) for o in r.failures]}"[:900] for r in bad)
        return "AGREE", ""

    out.run("suite", k, text, errors, suite_mode)
    if cli:
        out.run("cli", k, text, errors, lambda: cli_mode(text, x, y, vv, want))
    return True


def cli_mode(text: str, x, y, v, want) -> tuple:
    """``jac vjp --json`` and ``jac eval`` (text) in real processes."""
    if v is None:
        return "SKIPPED", ""
    env = dict(os.environ, PYTHONPATH=TREE)
    binds = [f"x={json.dumps(x.tolist())}", f"y={json.dumps(y.tolist())}"]
    base = [sys.executable, "-m", "jacobi_cli"]
    done = subprocess.run(base + ["vjp", text, *binds, "--v", json.dumps(np.asarray(v).tolist()), "--json"],
                          capture_output=True, text=True, env=env, timeout=120)
    if "Traceback" in done.stderr or done.returncode not in (0, 2):
        return "CRASH", f"jac vjp exit {done.returncode}: {done.stderr[-1500:]}"
    plain = subprocess.run(base + ["eval", text, *binds], capture_output=True, text=True, env=env, timeout=120)
    if "Traceback" in plain.stderr or plain.returncode != done.returncode:
        return "CRASH" if "Traceback" in plain.stderr else "WRONG", \
            f"jac eval (text) exit {plain.returncode} where jac vjp --json gave {done.returncode}: {plain.stderr[-800:]}"
    if done.returncode == 2:
        return "REFUSED", json.loads(done.stdout)["error"]["message"] if done.stdout else done.stderr
    found = json.loads(done.stdout)
    return agree_or_wrong([("cli x.grad", found["vjp"]["x"]["value"], want["vjp_x"], 1e-9),
                           ("cli y.grad", found["vjp"]["y"]["value"], want["vjp_y"], 1e-9),
                           ("cli value", found["output"]["value"], want["value"], 1e-12)])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=600)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cli", type=int, default=10, help="programs also run as real jac processes")
    ap.add_argument("--show", type=int, default=8, help="WRONG / CRASH shown per mode")
    ap.add_argument("--only", type=int, default=None, help="run program K alone")
    args = ap.parse_args()
    sys.path.insert(0, TREE)
    import jacobi_cli

    torch.set_default_dtype(torch.float64)
    warnings.simplefilter("ignore")
    start = time.time()
    out = Outcomes(args.show)
    valid = 0
    programs = range(args.n) if args.only is None else [args.only]
    for k in programs:
        text = draw(random.Random(args.seed * 1_000_003 + k))
        valid += program_modes(k, text, args.seed * 1_000_003 + k, out, jacobi_cli, valid < args.cli)
    print("top refusals per mode:")
    for mode in MODES:
        for message, count in out.refusals[mode].most_common(5):
            print(f"  {mode:10s} {count:5d}  {message}")
    print(f"{len(programs)} programs (seed {args.seed}, {time.time() - start:.0f} s), {valid} valid:")
    for mode in MODES:
        c = out.counts[mode]
        print(f"  {mode:10s} " + ", ".join(f"{s} {c[s]}" for s in ("AGREE", "REFUSED", "SKIPPED", "WRONG", "CRASH")))
    bad = sum(out.counts[m]["WRONG"] + out.counts[m]["CRASH"] for m in MODES)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
