"""Result paths against each other, and inputs never written: a fuzz of the Python API.

    PYTHONPATH=. python benchmarks/paths33_fuzz.py [--n 300] [--seed 1] [--show 20] [--only PATH,...]

For each random expression (numpy spelling; half from a grammar of ops that make structured batches:
permutations, flips, gathers with repeats, diagonals, matmuls with an input on either side, transposes,
reshapes, cumsum, concatenation, where, norms; half from ``numpy_fuzz.Grammar``'s programs without integers)
over inputs x, y (4,), A (3, 4), B (4, 4), s (), the API computes through every path it has:

- ``value``: ``api.evaluate``, four calls (the third and later run kernels);
- ``jac-auto`` / ``jac-forward`` / ``jac-reverse``: ``api.jacobian`` in each mode, four calls each, and
  ``structured=True`` made dense; against central differences of ``api.evaluate`` (step 1e-6);
- ``budget``: ``api.jacobian``, ``api.vjp`` and ``api.hessian`` with ``max_memory`` of a few KB (chunked
  plans; a JacLimitError is ``refused``);
- ``vjp`` / ``jvp``: four calls each at one random v / tangent, against the Jacobian contracted;
- ``hessian``: three calls, against ``api.derivative(order=2)``; ``order3``: ``api.derivative(order=3)``
  for a one-element output, three calls and under a budget;
- ``float32``: value, Jacobian, vjp in float32, four calls, each against the float32 first call bit for bit and
  the float64 answer to float32's precision;
- ``threads``: one ``api.compile``d function called by two threads at once (value, Jacobian, vjp), each
  answer against the same call made alone.

Paths must agree with the first call bit for bit (NaN positions and a zero's sign aside, or within 1e-12
relative: another order of the same sums, counted as ``rounding``). After every call the inputs, v and the
tangents are compared with copies byte for byte, and every result returned so far with its copy: a later
call must not change an earlier answer. Each (expression, path) is AGREE, refused (a JacError), MISMATCH,
MUTATED (an input, v, a tangent or an earlier result changed), ALIASED (a result is the memory of one of those:
a write into it would reach them), CRASH, or nan-modes (forward and reverse mode put a NaN at other positions,
their finite entries equal: the modes' reading, counted, not failed). Exit 1 on MISMATCH, MUTATED, ALIASED, CRASH.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
import traceback
import warnings
from collections import Counter, defaultdict

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy_fuzz  # noqa: E402
from fuzzkit import P, Retry, T, broadcast, used_inputs  # noqa: E402

from jacobi_cli.errors import JacError  # noqa: E402
from jacobi_cli.tools import api  # noqa: E402

SHAPES = numpy_fuzz.INPUT_SHAPES
PATHS = ("value", "jac-auto", "jac-forward", "jac-reverse", "structured", "central", "budget", "vjp", "jvp",
         "hessian", "order3", "float32", "threads", "poison")
BUDGETS = ("2K", "6K", "24K")
SUMS = 1e-12  # another order of the same sums (a mode, a contraction): an absolute floor where a sum cancels to ~0
STATUSES = ("AGREE", "refused", "nan-modes", "MISMATCH", "MUTATED", "ALIASED", "CRASH")


class Mutated(Exception):
    pass


class Mismatch(Exception):
    pass


class NanModes(Exception):
    """Forward and reverse mode put a NaN or inf at other positions (a NaN partial times a zero: each mode
    multiplies other factors), their finite entries equal: the modes' reading, not a path's defect."""


def modes(what: str, got, ref, by_mode) -> None:
    """Raise NanModes when ``got`` (a vjp, a jvp) differs from ``ref`` (the auto Jacobian contracted) only where
    one is not finite and agrees with ``by_mode()`` (the Jacobian of its own mode contracted: reverse for a vjp,
    forward for a jvp), NaN for NaN: the modes' reading (seeds 4920, 4923), as ``jac-forward`` counts it."""
    pairs = list(zip(_arrays_in(got), _arrays_in(ref)))
    if not pairs or not any(finite_only(g, r) and not np.array_equal(g, r, equal_nan=True) for (_, g), (_, r) in pairs):
        return
    try:
        own = by_mode()
    except KeyError:  # that mode's path did not run
        return
    for (_, g), (_, r) in zip(_arrays_in(got), _arrays_in(own)):
        if not np.array_equal(np.isnan(np.asarray(g, float)), np.isnan(np.asarray(r, float)).reshape(np.shape(g))):
            return
    raise NanModes(f"{what}: NaN at the positions of the Jacobian of its own mode, not auto's")


def finite_only(a, b) -> bool:
    """Do ``a`` and ``b`` differ only where one of them is not finite?"""
    a, b = np.asarray(a), np.asarray(b)
    bad = ~np.isfinite(a) | ~np.isfinite(b)
    return bool(bad.any()) and agree(np.where(bad, 0, a), np.where(bad, 0, b), 1e-9) != "" and \
        not agree(a, b, 1e-9)


class Aliased(Exception):
    """A result is the memory of an input, v or a tangent (the caller's own arrays)."""


# --- expressions that make structured batches --------------------------------------------------------------

class Structured:
    """Vectors (4,), matrices (4, 4) / (3, 4), scalars: permutations, gathers, diagonals, products."""

    def __init__(self, r: random.Random):
        self.r = r

    def vec(self, d: int) -> str:
        r = self.r
        if d <= 0:
            return r.choice(["x", "y", "x", "y", "B[1]", "A[0]", "B[:, 2]", "np.diag(B)"])
        a = self.vec(d - 1)
        c = r.randrange(22)
        return [
            f"np.flip({a})", f"({a})[::-1]", f"({a})[[2, 0, 3, 1]]", f"({a})[[1, 1, 0, 3]]", f"np.roll({a}, 1)",
            f"B @ ({a})", f"({a}) @ B", f"B.T @ ({a})", f"np.cumsum({a})", f"np.concatenate([({a})[:2], y[2:]])",
            f"np.where(x > 0, {a}, y)", f"({a}) * ({self.vec(d - 1)})", f"({a}) - np.flip({a})",
            f"np.sin({a})", f"({a}) ** 2", f"np.diag(np.outer({a}, x))", f"(({a}) @ B) * x",
            f"np.sort({a})", f"np.diag({self.mat(d - 1)})", f"({self.mat(d - 1)}) @ ({a})",
            f"({self.mat(d - 1)})[:, 1]", f"A.T @ (A @ ({a}))",
        ][c]

    def mat(self, d: int) -> str:
        r = self.r
        if d <= 0:
            return r.choice(["B", "B.T", "np.outer(x, y)", "A.T @ A", "np.diag(x)"])
        a = self.mat(d - 1)
        c = r.randrange(14)
        return [
            f"({a}).T", f"np.flip({a}, 0)", f"({a})[[3, 1, 0, 2]]", f"({a})[:, [0, 0, 2, 1]]", f"({a}) @ ({a})",
            f"({a}) @ B", f"B @ ({a})", f"({a}) * np.eye(4)", f"np.diag(np.diag({a}))", f"np.cumsum({a}, axis=1)",
            f"({a}).reshape(2, 8).reshape(4, 4)", f"np.tanh({a})", f"np.outer({self.vec(d - 1)}, {self.vec(d - 1)})",
            f"np.where({a} > 0, {a}, 0.5 * ({a}))",
        ][c]

    def scalar(self, d: int) -> str:
        r = self.r
        v, m = self.vec(d), self.mat(d - 1)
        return r.choice([
            f"np.sum({v})", f"({v}) @ ({self.vec(d)})", f"(({v}) @ x) ** 2", f"np.linalg.norm({v})",
            f"np.sum(({m}) ** 2)", f"({v}) @ ({m}) @ ({v})", f"np.trace({m})", f"np.max({v})",
            f"np.sum(np.cumsum({v}) * y)", f"np.sum({v}) * s", f"np.linalg.norm({m})",
            f"((y - np.flip(y)) @ ({v})) ** 2",
        ])

    def program(self) -> str:
        r = self.r
        d = r.randint(1, 3)
        return r.choice([self.vec, self.mat, self.scalar, self.scalar])(d)


def draw(seed: int, k: int) -> str:
    r = random.Random(seed * 1_000_003 + k)
    if k % 2 == 0:
        return Structured(r).program()
    for _ in range(50):
        try:
            return "; ".join(numpy_fuzz.Grammar(r, "float64", ints=False).program())
        except Retry:
            continue
    return "x"


# --- comparisons ---------------------------------------------------------------------------------------

def same_bits(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def agree(a, b, rtol: float = 1e-12, atol: float = 0.0) -> str:
    """'exact', 'rounding' (within rtol of the larger magnitude, or atol) or '' (they differ)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return ""
    nan = np.isnan(a) | np.isnan(b)
    if (np.isnan(a) != np.isnan(b)).any():
        return ""
    a, b = np.where(nan, 0, a), np.where(nan, 0, b)
    if (a == b).all():
        return "exact"
    inf = np.isinf(a) | np.isinf(b)
    if (a[inf] != b[inf]).any():
        return ""
    a, b = a[~inf], b[~inf]
    scale = max(np.abs(a).max(initial=0), np.abs(b).max(initial=0), 1e-300)
    return "rounding" if (np.abs(a - b) <= max(rtol * scale, atol)).all() else ""


class Ledger:
    """The inputs and every result returned so far, with their copies: checked after every call."""

    def __init__(self, arrays: dict):
        self.held = [(f"input {n}", a, a.copy()) for n, a in arrays.items()]

    def watch(self, what: str, result):
        for name, a in _arrays_in(result):
            self.held.append((f"{what} {name}", a, a.copy()))
        return result

    def check(self, after: str):
        for name, a, copy in self.held:
            if not same_bits(a, copy):
                raise Mutated(f"{name} changed by {after}")


def _arrays_in(result, prefix=""):
    if isinstance(result, np.ndarray):
        yield prefix or "result", result
    elif isinstance(result, dict):
        for k, v in result.items():
            yield from _arrays_in(v, f"{prefix}[{k}]")
    elif isinstance(result, tuple):
        for i, v in enumerate(result):
            yield from _arrays_in(v, f"{prefix}[{i}]")


def compare(path: str, got, ref, rtol=1e-12, stats=None, atol=0.0):
    """Raise Mismatch unless ``got`` (array or dict of arrays) agrees with ``ref``."""
    pairs = list(zip(_arrays_in(got), _arrays_in(ref)))
    if len(pairs) != len(list(_arrays_in(ref))) or len(pairs) != len(list(_arrays_in(got))):
        raise Mismatch(f"{path}: results of other keys")
    for (k, g), (_, r) in pairs:
        how = agree(g, r, rtol, atol)
        if not how:
            err = np.nanmax(np.abs(np.asarray(g, float) - np.asarray(r, float))) if np.shape(g) == np.shape(r) else "shape"
            raise Mismatch(f"{path}{k}: differs by {err}")
        if stats is not None:
            stats[how] += 1


# --- one expression ------------------------------------------------------------------------------------

class Run:
    def __init__(self, program: str, inputs: dict):
        self.program, self.inputs = program, inputs
        self.ledger = Ledger(inputs)
        self.statuses = {}
        self.details = {}
        self.rounding = Counter()

    def call(self, what: str, fn, *args, **kw):
        out = fn(self.program, *args, **kw)
        self.ledger.check(what)
        for name, a in _arrays_in(out):
            for held, b, _ in self.ledger.held:
                if np.shares_memory(a, b):  # an input, v, a tangent, an earlier result
                    raise Aliased(f"{what}{name} is {held}'s memory")
        return self.ledger.watch(what, out)

    def poisoned(self, what: str, n: int, fn, *args, **kw):
        """``n`` calls, each result overwritten (the caller's to keep) before the next: every call must
        give the first's answer, whatever was written into an earlier one."""
        first = fn(self.program, *args, **kw)
        keep = [(k, a.copy()) for k, a in _arrays_in(first)]
        for i in range(n):
            for _, a in _arrays_in(first):
                if a.flags.writeable:
                    a[...] = 1e300 if a.dtype.kind == "f" else 7
            self.ledger.check(f"{what} overwritten")
            first = fn(self.program, *args, **kw)
            compare(f"{what} after the call {i + 1} result was overwritten", first, {k: a for k, a in keep}
                    if len(keep) > 1 or keep[0][0] != "result" else keep[0][1])

    def path(self, name: str, body):
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                body()
            self.statuses[name] = "AGREE"
        except JacError as e:
            self.statuses[name] = "refused"
            self.details[name] = f"{type(e).__name__}: {str(e)[:100]}"
        except Mutated as e:
            self.statuses[name] = "MUTATED"
            self.details[name] = str(e)
        except NanModes as e:
            self.statuses[name] = "nan-modes"
            self.details[name] = str(e)
        except Aliased as e:
            self.statuses[name] = "ALIASED"
            self.details[name] = str(e)
        except Mismatch as e:
            self.statuses[name] = "MISMATCH"
            self.details[name] = str(e)
        except Exception as e:  # noqa: BLE001
            self.statuses[name] = "CRASH"
            self.details[name] = f"{type(e).__name__}: {e} | " + traceback.format_exc(limit=-3).replace("\n", " ")[-300:]

    def repeated(self, what, n, fn, *args, **kw):
        first = self.call(what, fn, *args, **kw)
        for i in range(1, n):
            compare(f"{what} call {i + 1}", self.call(f"{what} call {i + 1}", fn, *args, **kw), first,
                    stats=self.rounding)
        return first

    def run(self, only=None):
        inputs, rng = self.inputs, np.random.default_rng(len(self.program))
        want = lambda p: only is None or p in only  # noqa: E731
        st = {}

        def value():
            st["value"] = self.repeated("value", 4, api.evaluate, inputs)
        self.path("value", value)
        if self.statuses["value"] != "AGREE":
            return self
        if isinstance(st["value"], tuple):
            return self  # several outputs: the value's paths only
        y = np.asarray(st["value"])
        if y.dtype.kind != "f" or not inputs:
            return self

        def jac(mode):
            def body():
                st[mode] = self.repeated(f"jacobian {mode}", 4, api.jacobian, inputs, mode=mode)
                if "auto" in st and mode != "auto":
                    if any(finite_only(st[mode][n], st["auto"][n]) for n in st[mode]):
                        raise NanModes(f"jacobian {mode} vs auto: NaN or inf at other positions")
                    compare(f"jacobian {mode} vs auto", st[mode], st["auto"], rtol=1e-9, stats=self.rounding,
                            atol=SUMS)
            return body
        for mode in ("auto", "forward", "reverse"):
            if want(f"jac-{mode}"):
                self.path(f"jac-{mode}", jac(mode))
        J = st.get("auto")

        def structured():
            got = self.call("structured jacobian", api.jacobian, inputs, structured=True)
            compare("structured", {n: np.asarray(j) for n, j in got.items()}, J, stats=self.rounding)
        if J is not None and want("structured"):
            self.path("structured", structured)

        def central():
            h = 1e-6
            for n, x in inputs.items():
                cols, sides = [], []
                for j in range(x.size):
                    e = np.zeros(x.size)
                    e[j] = h
                    plus = api.evaluate(self.program, {**inputs, n: x + e.reshape(x.shape)})
                    minus = api.evaluate(self.program, {**inputs, n: x - e.reshape(x.shape)})
                    cols.append((np.asarray(plus) - np.asarray(minus)) / (2 * h))
                    sides.append(((np.asarray(plus) - y) / h, (y - np.asarray(minus)) / h))
                fd = np.stack(cols, -1).reshape(J[n].shape) if cols else np.zeros(J[n].shape)
                self.ledger.check("central differences")
                ok = np.isclose(J[n], fd, rtol=1e-4, atol=1e-5 * max(1.0, np.nanmax(np.abs(fd), initial=0)))
                bad = ~ok & np.isfinite(fd) & np.isfinite(J[n]) & (np.abs(fd) < 1e6)
                if bad.any() and sides:
                    # A kink or a jump inside [x - h, x + h] (a % b's wrap where 1 / b is within h of an
                    # integer: session 48's seed 4838, b = -0.00177 at 1.8e-7 from 1/-564, jac's -floor(1/b) =
                    # 564 right, the central difference -80.5 across the jump): the two one-sided differences
                    # disagree there, so the central one is no arbiter. Skipped, not counted as jac's.
                    fwd = np.stack([f for f, _ in sides], -1).reshape(J[n].shape)
                    bwd = np.stack([b for _, b in sides], -1).reshape(J[n].shape)
                    smooth = np.isclose(fwd, bwd, rtol=1e-3, atol=1e-3 * max(1.0, np.nanmax(np.abs(fd), initial=0)))
                    bad &= smooth
                if bad.any():
                    raise Mismatch(f"central {n}: jac {J[n][bad][:3]} fd {fd[bad][:3]}")
        if J is not None and want("central"):
            self.path("central", central)

        v = rng.standard_normal(y.shape)
        tangents = {n: rng.standard_normal(x.shape) for n, x in inputs.items()}
        self.ledger.held += [("v", v, v.copy())] + [(f"tangent {n}", t, t.copy()) for n, t in tangents.items()]

        def vjp():
            g = self.repeated("vjp", 4, api.vjp, inputs, v=v)
            if J is not None and all(np.isfinite(j).all() for j in J.values()):
                ref = {n: np.tensordot(v, J[n], axes=y.ndim) for n in J}
                modes("vjp", g, ref, lambda: {n: np.tensordot(v, st["reverse"][n], axes=y.ndim) for n in J})
                compare("vjp vs v·J", g, ref, rtol=1e-9, atol=SUMS)
        if want("vjp"):
            self.path("vjp", vjp)

        def jvp():
            t = self.repeated("jvp", 4, api.jvp, inputs, tangents)
            if J is not None and all(np.isfinite(j).all() for j in J.values()):
                ref = sum(np.tensordot(J[n], tangents[n], axes=x.ndim) for n, x in inputs.items())
                modes("jvp", t, ref, lambda: sum(np.tensordot(st["forward"][n], tangents[n], axes=x.ndim)
                                                 for n, x in inputs.items()))
                compare("jvp vs J·t", t, np.asarray(ref, dtype=np.float64).reshape(y.shape), rtol=1e-9, atol=SUMS)
        if want("jvp"):
            self.path("jvp", jvp)

        def hessian():
            H = st["H"] = self.repeated("hessian", 3, api.hessian, inputs)
            for n in inputs:
                d2 = self.call(f"derivative 2 {n}", api.derivative, inputs, order=2, wrt=[n])
                if finite_only(d2, H[(n, n)]) and not np.array_equal(d2, H[(n, n)], equal_nan=True):
                    # an element-wise output's order 2 is K forward passes along ones, the Hessian forward over
                    # the traced reverse pass: a flat op's exact 0 met by a NaN partial after it (np.nan /
                    # np.heaviside(y, x), seed 4922) is NaN forward, 0 in reverse, as jacobian's modes
                    raise NanModes(f"derivative 2 {n} vs hessian: NaN or inf at other positions")
                compare(f"derivative 2 {n} vs hessian", d2, H[(n, n)], rtol=1e-9)
        if want("hessian") and y.size <= 4:
            self.path("hessian", hessian)

        def order3():
            for n in inputs:
                d3 = self.repeated(f"derivative 3 {n}", 3, api.derivative, inputs, order=3, wrt=[n])
                try:
                    small = self.call(f"derivative 3 {n} budget", api.derivative, inputs, order=3, wrt=[n],
                                      max_memory="24K")
                    compare(f"derivative 3 {n} budget", small, d3, rtol=1e-9)
                except JacError:
                    pass
        if want("order3") and y.size == 1:
            self.path("order3", order3)

        def budget():
            done = 0
            for b in BUDGETS:
                for what, fn, kw, ref in (("jacobian", api.jacobian, {}, J), ("vjp", api.vjp, {"v": v}, None),
                                          ("hessian", api.hessian, {}, st.get("H"))):
                    for i in range(3):
                        try:
                            got = self.call(f"{what} max_memory={b} call {i + 1}", fn, inputs, max_memory=b, **kw)
                        except JacError:
                            break
                        done += 1
                        if ref is not None:
                            compare(f"{what} max_memory={b}", got, ref, rtol=1e-9, stats=self.rounding)
            if not done:
                raise JacError("every budget refused")
        if want("budget"):
            self.path("budget", budget)

        def float32():
            x32 = {n: x.astype(np.float32) for n, x in inputs.items()}
            self.ledger.held += [(f"input {n} float32", a, a.copy()) for n, a in x32.items()]
            for what, fn, kw in (("value", api.evaluate, {}), ("jacobian", api.jacobian, {}),
                                 ("vjp", api.vjp, {"v": v.astype(np.float32)})):
                first = self.call(f"{what} float32", fn, x32, dtype="float32", **kw)
                for i in range(1, 4):
                    compare(f"{what} float32 call {i + 1}", self.call(f"{what} float32 call {i + 1}", fn, x32,
                            dtype="float32", **kw), first, stats=self.rounding)
        if want("float32"):
            self.path("float32", float32)

        def threads():
            f = api.compile(self.program, inputs)
            envs = [{n: rng.standard_normal(x.shape) for n, x in inputs.items()} for _ in range(2)]
            calls = [("value", lambda e: f.value(e)), ("jacobian", lambda e: f.jacobian(e)),
                     ("vjp", lambda e: f.vjp(e, v))]
            alone = {(k, w): [] for k in range(2) for w, _ in calls}
            for k, e in enumerate(envs):
                for w, fn in calls:
                    alone[(k, w)] = fn(e)
            copies = [{n: a.copy() for n, a in e.items()} for e in envs]
            found, errors = defaultdict(list), []

            def worker(k):
                try:
                    for _ in range(6):
                        for w, fn in calls:
                            found[(k, w)].append(fn(envs[k]))
                except Exception as e:  # noqa: BLE001
                    errors.append(e)
            ts = [threading.Thread(target=worker, args=(k,)) for k in range(2)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            if errors:
                raise errors[0]
            for k in range(2):
                for n in envs[k]:
                    if not same_bits(envs[k][n], copies[k][n]):
                        raise Mutated(f"threads: input {n} changed")
            for key, outs in found.items():
                for o in outs:
                    compare(f"threads {key}", o, alone[key], stats=self.rounding)
        if want("threads"):
            self.path("threads", threads)
        def poison():
            for what, fn, kw in (("value", api.evaluate, {}), ("jacobian", api.jacobian, {}),
                                 ("jacobian forward", api.jacobian, {"mode": "forward"}),
                                 ("jacobian reverse", api.jacobian, {"mode": "reverse"}),
                                 ("vjp", api.vjp, {"v": v}), ("jvp", api.jvp, {"tangents": tangents}),
                                 ("jacobian max_memory", api.jacobian, {"max_memory": "6K"})):
                try:
                    self.poisoned(what, 4, fn, inputs, **kw)
                except JacError:
                    pass
            if y.size <= 4:
                self.poisoned("hessian", 3, api.hessian, inputs)
        if want("poison"):
            self.path("poison", poison)
        try:
            self.ledger.check("the end")
        except Mutated as e:
            self.statuses["late"] = "MUTATED"
            self.details["late"] = str(e)
        return self


def inputs_for(seed: int, k: int, program: str) -> dict:
    rng = np.random.default_rng(seed * 7919 + k)
    return used_inputs(program, {n: rng.standard_normal(s) for n, s in SHAPES.items()})


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--show", type=int, default=20)
    ap.add_argument("--only", default=None)
    a = ap.parse_args()
    only = set(a.only.split(",")) if a.only else None
    start = time.time()
    counts = defaultdict(Counter)
    bad, rounding = [], Counter()
    for k in range(a.n):
        program = draw(a.seed, k)
        run = Run(program, inputs_for(a.seed, k, program)).run(only)
        rounding += run.rounding
        for p, s in run.statuses.items():
            counts[p][s] += 1
            if s in STATUSES[3:]:
                bad.append((p, s, program, run.details[p]))
    print(f"seed {a.seed}: {a.n} expressions, {time.time() - start:.0f} s; comparisons exact {rounding['exact']}, "
          f"rounding {rounding['rounding']}")
    for p in list(PATHS) + ["late"]:
        if p in counts:
            c = counts[p]
            print(f"  {p:12s} " + "  ".join(f"{s} {c[s]}" for s in STATUSES))
    for p, s, program, detail in bad[:a.show]:
        print(f"{s} {p}: {program}\n    {detail}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
