"""What the differential fuzzes (torch_fuzz.py, numpy_fuzz.py) share: drawn expressions with their shapes, the
grammar's skeleton (leaves, depth, broadcasting operands), the comparison of answers, a timeout, shrinking a
program while it keeps its status, and the run over worker processes with its summary; and what those that run a
whole program by the library share (combo33_fuzz.py, snippets33_probe.py): the program split into its statements
and its last expression, NumPy's run of it, central differences, the scaled comparison, a spawned worker for JAX.

A fuzz supplies a ``Grammar`` subclass (``const``, ``int_leaf``, ``bool_leaf``, ``k_f``, ``k_i``, ``k_b``,
``program``) and a ``worker(args) -> dict``; each library's own vocabulary stays in its own script.
"""

from __future__ import annotations

import ast
import copy
import math
import multiprocessing
import re
import signal
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class T:
    """A drawn expression: its text, shape, kind (``f`` float, ``i`` integer, ``b`` bool) and whether it
    needs no parentheses as an operand or a method's receiver."""

    code: str
    shape: tuple
    kind: str = "f"
    atom: bool = True


def P(t: T) -> str:
    return t.code if t.atom else f"({t.code})"


def broadcast(a: tuple, b: tuple):
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        x = a[-i] if i <= len(a) else 1
        y = b[-i] if i <= len(b) else 1
        if x != y and x != 1 and y != 1:
            return None
        out.append(max(x, y) if 1 not in (x, y) else x * y)
    return tuple(reversed(out))


def size(shape) -> int:
    return math.prod(shape)


class Retry(Exception):
    """This draw does not fit (shapes); draw again."""


class Grammar:
    """The skeleton: ``expr(depth, kind)`` draws a ``k_<kind>`` node or a leaf (an input of that kind, else a
    constant, ``int_leaf`` or ``bool_leaf`` of a float leaf), keeping results of at most ``max_size`` elements."""

    max_size = 64

    def __init__(self, rng, dtype: str, input_shapes: dict):
        self.r = rng
        self.dtype = dtype
        self.input_shapes = input_shapes
        self.env = {n: T(n, s) for n, s in input_shapes.items()}
        self.counter = 0

    def leaf(self, kind="f", shape=None) -> T:
        pool = [t for t in self.env.values() if t.kind == kind and (shape is None or t.shape == shape)]
        if pool and self.r.random() < 0.85:
            return self.r.choice(pool)
        if kind == "f":
            if shape is None:
                shape = self.r.choice(list(self.input_shapes.values()))
            return self.const(shape)
        if kind == "b":
            return self.bool_leaf(self.leaf("f", shape))
        return self.int_leaf(self.leaf("f", shape))

    def expr(self, depth: int, kind: str = "f") -> T:
        for _ in range(20):
            if depth <= 0 or self.r.random() < 0.12:
                return self.leaf(kind)
            try:
                t = getattr(self, "k_" + kind)(depth)
            except Retry:
                continue
            if t is not None and 0 < size(t.shape) <= self.max_size or (t is not None and t.shape == ()):
                return t
        return self.leaf(kind)

    def dim(self, t: T) -> int:
        n = len(t.shape)
        return self.r.randrange(-n, n)

    def other(self, a: T, depth: int, kind="f") -> T:
        """An operand that broadcasts with a."""
        b = self.expr(depth, kind)
        if broadcast(a.shape, b.shape) is not None and self.r.random() < 0.8:
            return b
        shape = self.r.choice([a.shape, (), a.shape[-1:], (1,) + a.shape[1:]] if a.shape else [()])
        return self.leaf(kind, shape)


# --- comparing ------------------------------------------------------------------------------------------

def used_inputs(program: str, inputs: dict) -> dict:
    """The inputs ``program`` names; all of them for a program Python cannot parse (the grammar can draw one,
    ``0.repeat(2)``), which the reference then refuses as any invalid program."""
    try:
        tree = ast.parse(program.replace("; ", "\n"))
    except SyntaxError:
        return dict(inputs)
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    return {n: v for n, v in inputs.items() if n in names}


def signed_zeros_differ(ours, theirs) -> bool:
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    zero = (ours == 0) & (theirs == 0)
    return bool((np.signbit(ours[zero]) != np.signbit(theirs[zero])).any())


def differ(ours, theirs, alt, dtype: str, derivative: bool = False, ref: str = "torch", rtol: float = 1e-9):
    """None when equal enough, else a short description. For a derivative, a NaN on one side only is
    not reported: a dense backward pass writes 0 · NaN = NaN where jac's structured rules know a 0
    (``x ** -1.5`` at x < 0: PyTorch's Jacobian is NaN off the diagonal too). float64: ``rtol`` (and
    ``rtol / 100`` × the largest |value|); float32: within 10 × the reference's own float32-to-float64 gap
    (``alt``: its float64 answer) + 1e-4 relative."""
    ours = np.asarray(ours, dtype=np.float64)
    theirs = np.asarray(theirs, dtype=np.float64)
    if ours.shape != theirs.shape:
        return f"shape {ours.shape} vs {ref} {theirs.shape}"
    if ours.size == 0:
        return None
    nan_o, nan_t = np.isnan(ours), np.isnan(theirs)
    if dtype == "float64" and not derivative and (nan_o != nan_t).any():
        return "NaN positions differ"
    ok = ~(nan_o | nan_t)
    o, t = ours[ok], theirs[ok]
    inf = np.isinf(o) | np.isinf(t)
    if (o[inf] != t[inf]).any() and not derivative:
        if dtype == "float64" or alt is None:
            return "infinities differ"
    o, t = o[~inf], t[~inf]
    if o.size == 0:
        return None
    scale = max(1.0, float(np.abs(t).max()))
    if dtype == "float64":
        bad = np.abs(o - t) > rtol * np.abs(t) + rtol / 100 * scale
    elif alt is None or np.shape(alt) != theirs.shape:  # the float64 run took another shape (a mask)
        bad = np.abs(o - t) > 1e-4 * np.abs(t) + 1e-5 * scale
    else:
        a = np.asarray(alt, dtype=np.float64)[ok][~inf]
        bad = np.abs(o - t) > 10 * np.abs(t - a) + 1e-4 * np.abs(t) + 1e-5 * scale
        bad &= np.isfinite(a)
    if bad.any():
        i = int(np.argmax(bad))
        return f"max |diff| {np.abs(o - t).max():.3g} (e.g. jac {o[i]!r} vs {ref} {t[i]!r})"
    return None


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


def with_timeout(fn, *args, seconds: int = 20) -> tuple:
    """fn(*args), or ("CRASH", "timeout") after ``seconds``."""
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        return fn(*args)
    except Timeout:
        return "CRASH", "timeout"
    finally:
        signal.alarm(0)


# --- shrinking --------------------------------------------------------------------------------------------

def _is_module(node, modules) -> bool:
    return isinstance(node, ast.Name) and node.id in modules or \
        isinstance(node, ast.Attribute) and _is_module(node.value, modules)


def _replace(tree, target, new) -> bool:
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is target:
                setattr(parent, field, new)
                return True
            if isinstance(value, list):
                for k, v in enumerate(value):
                    if v is target:
                        value[k] = new
                        return True
    return False


def candidates(program: str, modules=("torch", "F")):
    """Smaller programs: one statement dropped, or a sub-expression replaced by one of its operands."""
    tree = ast.parse(program.replace("; ", "\n"))
    body = tree.body
    for i in range(len(body) - 1):  # drop a statement
        yield "; ".join(ast.unparse(s) for k, s in enumerate(body) if k != i)
    nodes = [n for n in ast.walk(tree) if isinstance(n, ast.expr)]
    for idx, node in enumerate(nodes):
        kids = []
        if isinstance(node, ast.Call):
            kids = list(node.args) + [k.value for k in node.keywords]
            if isinstance(node.func, ast.Attribute) and not _is_module(node.func.value, modules):
                kids.append(node.func.value)
        elif isinstance(node, (ast.BinOp,)):
            kids = [node.left, node.right]
        elif isinstance(node, ast.UnaryOp):
            kids = [node.operand]
        elif isinstance(node, ast.Subscript):
            kids = [node.value]
        elif isinstance(node, ast.Compare):
            kids = [node.left] + node.comparators
        elif isinstance(node, ast.Attribute) and not _is_module(node.value, modules):
            kids = [node.value]
        for kid in kids:
            if not isinstance(kid, ast.expr):
                continue
            t2 = copy.deepcopy(tree)
            n2 = [n for n in ast.walk(t2) if isinstance(n, ast.expr)]
            target, new = n2[idx], n2[nodes.index(kid)] if kid in nodes else None
            if new is None or not _replace(t2, target, new):
                continue
            yield "; ".join(ast.unparse(s) for s in t2.body)


def shrink(program: str, status_of, status: str, modules=("torch", "F"), budget: int = 300) -> str:
    """The shortest program found by ``candidates`` steps for which ``status_of(program)`` is still ``status``."""
    tries = 0
    progress = True
    while progress and tries < budget:
        progress = False
        for cand in candidates(program, modules):
            tries += 1
            if tries > budget:
                break
            if len(cand) >= len(program):
                continue
            if status_of(cand) == status:
                program, progress = cand, True
                break
    return program


# --- the run ----------------------------------------------------------------------------------------------

def bucket(message: str) -> str:
    q = re.findall(r"'([^']+)'", message)
    if q:
        return f"{q[0]}: {re.sub(r'[0-9]+', 'N', message)[:90]}"
    return re.sub(r"[0-9]+", "N", message)[:100]


def run_workers(worker, per: list) -> dict:
    """Each worker's ``{"counts", "refused", "terrors", "found"}`` merged (a fork pool when several)."""
    if len(per) == 1:
        results = [worker(per[0])]
    else:
        with multiprocessing.get_context("fork").Pool(len(per)) as pool:
            results = pool.map(worker, per)
    merged = {"counts": Counter(), "refused": Counter(), "terrors": Counter(), "found": []}
    for r in results:
        for k in ("counts", "refused", "terrors"):
            merged[k].update(r[k])
        merged["found"] += r["found"]
    return merged


def report(merged: dict, title: str, statuses, show: int, ref_errors: str, start: float) -> None:
    counts = merged["counts"]
    seen = set()
    for f in merged["found"]:
        key = (f["status"], f["small"])
        if key in seen:
            continue
        seen.add(key)
        print(f"{f['status']} [seed {f['seed']}] {f['detail']}\n  program: {f['program']}\n  minimal: {f['small']}"
              f"\n  inputs:  {f['inputs']}")
    print(f"\ntop refusals ({counts['refused']}):")
    for msg, c in merged["refused"].most_common(show):
        print(f"  {c:6d}  {msg}")
    print(f"top {ref_errors}s ({counts[ref_errors]}):")
    for msg, c in merged["terrors"].most_common(5):
        print(f"  {c:6d}  {msg}")
    print(f"\n{title}, {time.monotonic() - start:.0f} s): " + ", ".join(f"{k} {counts[k]}" for k in statuses))


def summary(refused, counts, label: str, start: float, keys=("AGREE", "WRONG", "REFUSED", "CRASH", "SKIPPED")) -> None:
    """The sweeps' closing lines (grad24, trees26, deco26): the commonest refusals, then the counts by outcome."""
    print("\ntop refusals:")
    for message, c in refused.most_common(12):
        print(f"  {c:4d}  {message}")
    print(f"\n{label} ({time.monotonic() - start:.0f} s): " + ", ".join(f"{k} {counts[k]}" for k in keys))


# --- programs run by the libraries themselves (combo33_fuzz.py, snippets33_probe.py) ----------------------------

def split_program(code: str, filename: str = "<program>") -> tuple:
    """A program's statements and its last line (an expression) compiled apart: ``exec`` the one, ``eval`` the
    other in the same scope."""
    tree = ast.parse(code)
    return (compile(ast.Module(body=tree.body[:-1], type_ignores=[]), filename, "exec"),
            compile(ast.Expression(tree.body[-1].value), filename, "eval"))


def numpy_function(code: str, filename: str = "<program>"):
    """``values -> the program's value``, run by NumPy / SciPy themselves (each input as a fresh array)."""
    body, last = split_program(code, filename)

    def f(values):
        scope = {k: np.array(v) for k, v in values.items()}
        exec(body, scope)  # noqa: S102
        return np.asarray(eval(last, scope), dtype=float)  # noqa: S307
    return f


def central_columns(fn, inputs: dict, h: float, names) -> np.ndarray:
    """d fn / d inputs by central differences: one column per element of each input ``names`` lists (in that
    order, each one's elements in C order), shape (fn's size, their count)."""
    cols = []
    for k in names:
        v = inputs[k]
        for i in np.ndindex(np.shape(v)):
            up, down = dict(inputs), dict(inputs)
            e = np.zeros(np.shape(v))
            e[i] = h
            up[k], down[k] = v + e, v - e
            cols.append((np.asarray(fn(up)).ravel() - np.asarray(fn(down)).ravel()) / (2 * h))
    return np.stack(cols, -1)


def close_scaled(a, b, rtol: float) -> bool:
    """``a`` is ``b`` to ``rtol``, relative to ``b``'s largest magnitude (at least 1); NaN where both are."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return False
    scale = max(1.0, float(np.nanmax(np.abs(b)))) if b.size else 1.0
    return bool(np.allclose(a, b, rtol=rtol, atol=rtol * scale, equal_nan=True))


def spawned_pool():
    """One worker process started afresh (JAX's references: JAX must not be imported in a forked process)."""
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))


class NamedLines:
    """A drawn program in Python's syntax (pyflow32_fuzz.py, pyflow33_fuzz.py): its lines so far and its fresh
    names (``fresh('a')``: a1, then a2, ... whatever the prefix); the kinds of names bound are the subclass's."""

    def __init__(self, rng):
        self.rng = rng
        self.lines: list[str] = []
        self.count = 0

    def fresh(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    @staticmethod
    def add(names: list, name: str) -> None:
        if name not in names:
            names.append(name)


def add_part_flags(parser, verbose: bool = True) -> None:
    """``-v`` (unless the sweep has its own) and ``--part K/N``: what lets a sweep too long for one sitting on a
    shared machine run in slices that each end, and a cut run still say which cases passed (the hostile sweeps)."""
    if verbose:
        parser.add_argument("-v", action="store_true", help="print every case's verdict as it ends (a cut run still "
                            "says which cases passed)")
    parser.add_argument("--part", default="1/1", help="K/N: run the K-th of N equal slices of the selected cases "
                        "(each slice ends sooner on a shared machine)")
    parser.add_argument("--sample", default="", help="N:SEED: run N cases of the slice drawn by random.Random(SEED), "
                        "in their order (a sweep too slow for the time left, sampled over all its kinds of case)")


def part_of(selected: list, part: str, sample: str = "") -> list:
    """The K-th of N equal slices of ``selected`` (``--part K/N``), in order: the N slices hold every case once;
    ``sample`` (``--sample N:SEED``, session 56): N of the slice's cases drawn by ``random.Random(SEED)``, in order."""
    if sample:
        import random

        try:
            count, seed = (int(v) for v in sample.split(":"))
        except ValueError:
            raise SystemExit(f"--sample {sample}: N:SEED, two integers") from None
        chosen = part_of(selected, part)
        keep = set(random.Random(seed).sample(range(len(chosen)), min(count, len(chosen))))
        return [c for i, c in enumerate(chosen) if i in keep]
    try:
        k, n = (int(v) for v in part.split("/"))
    except ValueError:
        raise SystemExit(f"--part {part}: K/N with 1 <= K <= N") from None
    if not 1 <= k <= n:
        raise SystemExit(f"--part {part}: K/N with 1 <= K <= N")
    size = -(-len(selected) // n)
    return selected[(k - 1) * size:k * size]
