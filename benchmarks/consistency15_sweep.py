"""The cons15 consistency sweep: the same mathematical object along every route jac has, compared route
against route (no outside reference but central differences where a route may differ by rounding).

    PYTHONPATH=. python benchmarks/consistency15_sweep.py [--cases N] [--points random,zeros,...] [-k SUB]
                                                          [--jobs J] [--verbose]

The expressions are drawn from the existing generators: ``benchmarks/vocab_sweep.py``'s everyday vocabulary
(every other torch case, on its pool of values), ``tests/test_parity_orders14.py``'s Hessian expressions, and
programs of ``benchmarks/torch_fuzz.py``'s grammar (seeded). Each runs at the points ``random`` (as drawn),
``zeros``, ``ties`` (rounded to multiples of 0.5), ``inf`` / ``-inf`` / ``nan`` (the first element of every
input) and ``int`` (the ties as integer bindings: ``x=[1, 0, -2]``). The routes (see :data:`ROUTES`), each
pair classified ``exact`` (bit for bit, NaN equal to NaN), ``close`` (within ``RTOL`` of the larger side:
routes that may round differently), ``differ`` (a silently different answer), ``refusal`` (one route
answers where the other refuses), ``crash``; a ``close`` where bit-for-bit is promised counts as ``inexact``.
Prints one line per pair that is not as promised, then the counts per route.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import multiprocessing
import os
import random
import sys
import tempfile
import time
import warnings
from collections import Counter

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for _p in (ROOT, os.path.join(ROOT, "tests"), os.path.join(ROOT, "benchmarks")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from orders14 import array  # noqa: E402  (a JSON value as doubles, "NaN" and the infinities as NumPy's)

RTOL = 1e-9   # different paths (forward against reverse, a batched pass against one product): rounding only
BIG = 16      # per-basis products for at most this many rows / columns (the first and last ones past it)


# --- running jac in this process ----------------------------------------------------------------------------

@contextlib.contextmanager
def _typer_group_once():
    """typer's click group built once for the sweep (``app.main`` builds it per call: 0.1 s each)."""
    import typer.main

    original = typer.main.get_command
    memo = {}

    def cached(app):
        if id(app) not in memo:
            memo[id(app)] = original(app)
        return memo[id(app)]
    typer.main.get_command = cached
    try:
        yield
    finally:
        typer.main.get_command = original


def jac(args: list) -> tuple:
    """``(exit code, JSON object or None, stdout, stderr)`` of ``jac ARGS`` in this process."""
    from jacobi_cli.cli import entry

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = entry.main([str(a) for a in args])
    text = out.getvalue()
    try:
        obj = json.loads(text) if "--json" in args and text.strip() else None
    except ValueError:
        obj = None
    return code, obj, text, err.getvalue()


def literal(v) -> str:
    """A binding's text holding exactly these numbers: floats by repr (inf, nan), integers as integers."""
    v = np.asarray(v)
    if v.dtype.kind in "iu":
        return str(v.tolist()) if v.ndim else str(int(v))
    v = v.astype(np.float64)
    return repr(float(v)) if v.ndim == 0 else repr(v.tolist())


def bindings(inputs: dict) -> list:
    return [f"{n}={literal(v)}" for n, v in inputs.items()]


# --- comparing ----------------------------------------------------------------------------------------------

def zero_times_inf(a, b, nonfinite) -> bool:
    """The only differences are NaN on one side where ``nonfinite`` says a partial the pass multiplies by 0
    is infinite or NaN (the rest exact or close)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    one = np.isnan(a) != np.isnan(b)
    if not (one <= np.broadcast_to(nonfinite, a.shape)).all():
        return False
    keep = ~(np.isnan(a) | np.isnan(b))
    return how(a[keep], b[keep]).split(":")[0] in ("exact", "close")


def same_bits(a, b) -> bool:
    """Bit for bit: same shape and dtype-free values, -0 and +0 told apart, NaN equal to NaN."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return False
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    if (nan_a != nan_b).any():
        return False
    keep = ~nan_a
    return bool(np.array_equal(a[keep], b[keep]) and (np.signbit(a[keep]) == np.signbit(b[keep])).all())


def how(a, b, rtol: float = RTOL) -> str:
    """``exact``, ``close`` or ``differ: ...`` of two arrays."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return f"differ: shape {a.shape} vs {b.shape}"
    if same_bits(a, b):
        return "exact"
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    if (nan_a != nan_b).any():
        k = np.argwhere(nan_a != nan_b)[0]
        return f"differ: NaN places (at {tuple(int(i) for i in k)}: {a[tuple(k)]!r} vs {b[tuple(k)]!r})"
    keep = ~nan_a
    x, y = a[keep], b[keep]
    inf = np.isinf(x) | np.isinf(y)
    if (x[inf] != y[inf]).any():
        return "differ: infinities"
    x, y = x[~inf], y[~inf]
    scale = max(1.0, float(np.max(np.abs(y), initial=0.0)))
    bad = np.abs(x - y) > rtol * np.maximum(np.abs(x), np.abs(y)) + rtol * 1e-3 * scale
    if bad.any():
        i = int(np.argmax(np.abs(x - y)))
        return f"differ: max |diff| {np.abs(x - y).max():.3g} ({x[i]!r} vs {y[i]!r})"
    return "close"


# --- the points ---------------------------------------------------------------------------------------------

def _first(v, value):
    v = np.array(v, dtype=np.float64)
    if v.size:
        v.reshape(-1)[0] = value
    return v


POINTS = {
    "random": lambda v: np.asarray(v, dtype=np.float64),
    "zeros": lambda v: np.zeros(np.shape(v)),
    "ties": lambda v: np.round(np.asarray(v, dtype=np.float64) * 2) / 2,
    "inf": lambda v: _first(v, np.inf),
    "-inf": lambda v: _first(v, -np.inf),
    "nan": lambda v: _first(v, np.nan),
    "int": lambda v: np.round(np.asarray(v, dtype=np.float64) * 2).astype(np.int64),
}


def at(point: str, inputs: dict) -> dict:
    return {n: POINTS[point](v) for n, v in inputs.items()}


# --- the cases ----------------------------------------------------------------------------------------------

def cases(n_fuzz: int = 70) -> list:
    """``[(source, expression, {name: array})]``: the vocabulary sweep's torch cases (every other), the
    horder14 Hessian expressions, and fuzz programs."""
    import vocab_sweep
    from orders14 import inputs_of
    import test_parity_orders14 as orders

    found = []
    vocab = [c for c in vocab_sweep.cases() if c.lib == "torch" and not c.refuse]
    for c in vocab[::2]:
        found.append(("vocab", c.expr, {k: np.asarray(v, dtype=np.float64) for k, v in c.inputs().items()}))
    for expr in orders.HESSIAN:
        found.append(("orders14", expr, inputs_of(expr)))
    found += fuzz_cases(n_fuzz)
    return [c for c in found if _small(c[2])]


def fuzz_cases(n: int) -> list:
    import torch_fuzz
    from fuzzkit import Retry, used_inputs

    rng = random.Random(15)
    nrng = np.random.default_rng(15)
    found = []
    while len(found) < n:
        try:
            program = "; ".join(torch_fuzz.Grammar(rng, "float64").program())
        except Retry:
            continue
        if "; " in program and any(w in program for w in ("+=", "-=", "*=", "/=", "] =")):
            continue  # in-place writes are value-dependent lowering: kept out of the batch routes' way
        inputs = used_inputs(program, torch_fuzz.inputs_for(nrng, "float64"))
        if inputs:
            found.append(("fuzz", program, inputs))
    return found


def _small(inputs: dict) -> bool:
    return 0 < sum(np.size(v) for v in inputs.values()) <= 48


# --- the routes ---------------------------------------------------------------------------------------------

class Case:
    """One expression at one point: the baseline ``jac eval --json`` and what the routes share."""

    def __init__(self, expr: str, inputs: dict, dtype: str = "float64"):
        self.expr, self.inputs, self.dtype = expr, inputs, dtype
        self.args = bindings(inputs)
        self.code, self.obj, self.text, self.err = jac(["eval", expr, *self.args, "--json"])
        self.ok = self.code == 0 and self.obj is not None
        self.several = self.ok and "outputs" in self.obj
        self.results = []

    def note(self, route: str, status: str, detail: str = "", promised: str = "close") -> None:
        """``promised``: ``exact`` (bit for bit) or ``close``."""
        if status == "close" and promised == "exact":
            status = "inexact"
        self.results.append((route, status, detail))

    def compare(self, route: str, a, b, promised: str, what: str = "", nonfinite=None) -> None:
        """``nonfinite``: a mask of a's shape, True where a NaN on one side only is the documented 0 · inf
        of a pass that multiplies a basis vector's zeros into an infinite partial (counted ``0*inf``)."""
        found = how(a, b)
        status = found.split(":")[0]
        if status == "differ" and nonfinite is not None and zero_times_inf(a, b, nonfinite):
            status = "0*inf"
        self.note(route, status, f"{what} {found}" if status != "exact" else "", promised)

    def blocks(self, obj=None) -> dict:
        """``{(output, input): array}`` of an eval object."""
        obj = obj or self.obj
        per = obj["jacobians"] if "jacobians" in obj else {None: obj["jacobian"]}
        return {(o, n): array(b["value"]) for o, bs in per.items() for n, b in bs.items()}

    def outputs(self, obj=None) -> dict:
        obj = obj or self.obj
        records = obj["outputs"] if "outputs" in obj else [obj["output"]]
        return {(r.get("name") if "outputs" in obj else None): array(r["value"]) for r in records}

    def wrt(self) -> list:
        return [n for n, i in self.obj["inputs"].items() if i.get("requires_grad")]


def refused_too(case: Case, route: str, code: int, err: str) -> bool:
    """True when the route's command did not answer (noted: a refusal where eval answers, or a crash)."""
    if code == 0:
        return False
    if code == 2 and "Traceback" not in err:
        case.note(route, "refusal", err.strip().splitlines()[0][:160] if err.strip() else "")
    else:
        case.note(route, "crash", f"exit {code}: {err.strip()[-200:]}")
    return True


def route_modes(case: Case) -> None:
    """--mode forward and --mode reverse against auto: close (different passes); --layout numerator: a
    permutation of the array layout (the contract's table), exact."""
    base = case.blocks()
    for mode in ("forward", "reverse"):
        code, obj, _, err = jac(["eval", case.expr, *case.args, "--json", "--mode", mode])
        if refused_too(case, f"mode-{mode}", code, err):
            continue
        for key, b in case.blocks(obj).items():
            case.compare(f"mode-{mode}", b, base[key], "close", str(key), nonfinite_lines(base[key], case, key))
    code, obj, _, err = jac(["eval", case.expr, *case.args, "--json", "--layout", "numerator"])
    if refused_too(case, "numerator", code, err):
        return
    ys = {o: v.shape for o, v in case.outputs().items()}
    for key, b in case.blocks(obj).items():
        x = np.shape(case.inputs[key[1]])
        case.compare("numerator", b, numerator(base[key], ys[key[0]], x), "exact", str(key))


def numerator(J: np.ndarray, y: tuple, x: tuple) -> np.ndarray:
    """The contract's table, written from the table: x's axes reversed, then its math_shape."""
    if len(y) > 2 or len(x) > 2:
        return J
    moved = np.transpose(J, tuple(range(len(y))) + tuple(reversed(range(len(y), len(y) + len(x)))))
    xr = tuple(reversed(x))
    if len(y) == 0:
        shape = xr if len(x) == 2 else (1,) + xr
    elif len(y) == 1 and len(x) == 0:
        shape = y + (1,)
    else:
        shape = y + xr
    return moved.reshape(shape)


def nonfinite_lines(J: np.ndarray, case: Case, key) -> np.ndarray:
    """Entries whose row or column of J holds an infinity or NaN: where a dense pass may make 0 · inf."""
    y = case.outputs()[key[0]].shape
    m = J.reshape(math.prod(y), -1)
    bad = ~np.isfinite(m)
    return (bad.any(axis=1, keepdims=True) | bad.any(axis=0, keepdims=True)).reshape(J.shape)


def _picks(n: int) -> list:
    return list(range(n)) if n <= BIG else sorted({0, 1, n // 2, n - 2, n - 1})


def route_products(case: Case) -> None:
    """jac vjp with each basis cotangent against the Jacobian's rows; jac jvp with each basis tangent
    against its columns (close: one product against a batched pass)."""
    base = case.blocks()
    outs = case.outputs()
    wrt = case.wrt()
    for o, y in outs.items():
        for i in _picks(y.size):
            e = np.zeros(y.size)
            e[i] = 1.0
            v = literal(e.reshape(y.shape))
            code, obj, _, err = jac(["vjp", case.expr, *case.args, "--json", "--v", v if o is None else f"{o}={v}"])
            if refused_too(case, "vjp-rows", code, err):
                return
            for n in wrt:
                J = base[(o, n)].reshape((y.size,) + np.shape(case.inputs[n]))
                others = [base[(o2, n)].reshape((-1,) + np.shape(case.inputs[n])) for o2 in outs]
                case.compare("vjp-rows", array(obj["vjp"][n]["value"]), J[i], "close", f"{o},{n} row {i}",
                             ~np.isfinite(np.concatenate(others)).all(axis=0))
    for n in wrt:
        x = np.shape(case.inputs[n])
        size = math.prod(x)
        for j in _picks(size):
            e = np.zeros(size)
            e[j] = 1.0
            code, obj, _, err = jac(["jvp", case.expr, *case.args, "--json", "--tangent", f"{n}={literal(e.reshape(x))}"])
            if refused_too(case, "jvp-columns", code, err):
                return
            per = obj["jvps"] if "jvps" in obj else {None: obj["jvp"]}
            for o, y in outs.items():
                J = base[(o, n)].reshape(y.shape + (size,))
                case.compare("jvp-columns", array(per[o]["value"]), J[..., j], "close", f"{o},{n} column {j}",
                             ~np.isfinite(J).all(axis=-1))


def route_derivative1(case: Case) -> None:
    """jac derivative --order 1 --wrt NAME against eval's block (exact: the same Jacobian)."""
    base = case.blocks()
    for n in case.wrt():
        code, obj, _, err = jac(["derivative", case.expr, *case.args, "--json", "--order", "1", "--wrt", n])
        if refused_too(case, "derivative-1", code, err):
            continue
        per = obj["derivatives"] if "derivatives" in obj else {None: obj["derivative"]}
        for o, bs in per.items():
            case.compare("derivative-1", array(bs[n]["value"]), base[(o, n)], "close", f"{o},{n}")


def route_check(case: Case) -> None:
    """jac check's automatic side (its reverse plan and its forward columns, what it compares with finite
    differences) against eval --mode reverse / forward; and the command's own count of non-finite entries."""
    if case.several:
        return
    from jacobi_cli.engine import planner
    from jacobi_cli.tools import api, check

    problem = api.prepare(case.expr, case.inputs)
    plan = check._reverse_plan(problem, 1 << 30, check._evaluation_bytes(problem))
    reverse = planner.run(plan, problem.graph, problem.values)
    modes = {}
    for mode in ("reverse", "forward"):
        code, obj, _, err = jac(["eval", case.expr, *case.args, "--json", "--mode", mode])
        if code != 0:
            return
        modes[mode] = case.blocks(obj)
    code, cobj, _, err = jac(["check", case.expr, *case.args, "--json"])
    if code not in (0, 1):
        refused_too(case, "check", code, err)
        return
    for n in problem.wrt:
        size = problem.env[n].size
        rev = check._reverse_columns(reverse[n], 0, size).reshape(modes["reverse"][(None, n)].shape)
        fwd = check._forward_columns(problem, n, 0, size).reshape(rev.shape)
        case.compare("check-reverse", rev, modes["reverse"][(None, n)], "exact", n)
        case.compare("check-forward", fwd, modes["forward"][(None, n)], "close", n,
                     nonfinite_lines(modes["forward"][(None, n)], case, (None, n)))
        counted = int(np.sum(~(np.isfinite(rev) & np.isfinite(fwd))))
        said = cobj["inputs"][n]["nonfinite_automatic"]
        case.note("check-json", "exact" if counted == said else "differ",
                  "" if counted == said else f"{n}: nonfinite_automatic {said}, the arrays hold {counted}", "exact")


def route_hessian(case: Case) -> None:
    """jac hessian's diagonal blocks against jac derivative --order 2 (close), and (random points, one
    output) each column against central differences of jac vjp (the Jacobian of the gradient)."""
    if sum(np.size(v) for v in case.inputs.values()) > 24:
        return
    code, obj, _, err = jac(["hessian", case.expr, *case.args, "--json"])
    if refused_too(case, "hessian", code, err):
        return
    per = obj["hessians"] if "hessians" in obj else {None: obj["hessian"]}
    for n in case.wrt():
        code, dobj, _, err = jac(["derivative", case.expr, *case.args, "--json", "--order", "2", "--wrt", n])
        if refused_too(case, "derivative-2", code, err):
            continue
        dper = dobj["derivatives"] if "derivatives" in dobj else {None: dobj["derivative"]}
        code, hobj, _, err = jac(["hessian", case.expr, *case.args, "--json", "--wrt", n])
        if refused_too(case, "derivative-2", code, err):
            continue
        hper = hobj["hessians"] if "hessians" in hobj else {None: hobj["hessian"]}
        for o in per:  # the same --wrt: the same passes, bit for bit; every input's Hessian: close
            diagonal = dper[o][n].get("structure") == "diagonal"  # K passes along ones: rounding may differ
            case.compare("derivative-2", array(dper[o][n]["value"]), array(hper[o][f"{n},{n}"]["value"]),
                         "close" if diagonal else "exact", f"{o},{n}")
            case.compare("hessian-wrt", array(hper[o][f"{n},{n}"]["value"]), array(per[o][f"{n},{n}"]["value"]),
                         "close", f"{o},{n}")


def hessian_vs_gradient(case: Case) -> None:
    """For a one-element output at a random point: block (a, b) against central differences of vjp by b."""
    if case.several or np.size(case.outputs()[None]) != 1 or sum(np.size(v) for v in case.inputs.values()) > 12:
        return
    from jacobi_cli.tools import api

    try:
        H = api.hessian(case.expr, case.inputs)
    except Exception:  # noqa: BLE001 - refusals are the hessian route's
        return
    for b, xb in case.inputs.items():
        xb = np.asarray(xb, dtype=np.float64)
        for j in np.ndindex(xb.shape):
            h = 1e-5 * max(1.0, abs(xb[j]))
            up, down = xb.copy(), xb.copy()
            up[j] += h
            down[j] -= h
            gu = api.vjp(case.expr, {**case.inputs, b: up})
            gd = api.vjp(case.expr, {**case.inputs, b: down})
            for a in case.inputs:
                fd = (gu[a] - gd[a]) / (2 * h)
                block = np.asarray(H[(a, b)]).reshape(np.shape(case.inputs[a]) + xb.shape)[(...,) + j]
                bad = np.abs(fd - block) > 1e-4 * (1 + np.abs(block))
                if np.isfinite(fd).all() and np.isfinite(block).all() and bad.any():
                    case.note("hessian-fd", "differ", f"{a},{b}[{j}]: {block.ravel()[:4]} vs fd {fd.ravel()[:4]}")
                    return
    case.note("hessian-fd", "close")


def route_files(case: Case) -> None:
    """--out FILE.npy / .npz / .json against --json, bit for bit."""
    base = case.blocks()
    with tempfile.TemporaryDirectory() as tmp:
        for ext in ("npy", "npz", "json"):
            if ext == "npy" and len(base) != 1:
                continue  # a .npy holds one array (refused otherwise, as documented)
            path = os.path.join(tmp, "J." + ext)
            code, _, _, err = jac(["eval", case.expr, *case.args, "--out", path])
            if refused_too(case, f"out-{ext}", code, err):
                continue
            if ext == "npy":
                if len(base) == 1:
                    case.compare("out-npy", np.load(path), next(iter(base.values())), "exact")
                continue
            if ext == "npz":
                with np.load(path, allow_pickle=False) as z:
                    files = dict(z)
                for (o, n), b in base.items():
                    key = n if o is None else f"{o},{n}"
                    if key in files and files[key].shape == b.shape:
                        case.compare("out-npz", files[key], b, "exact", key)
                    elif key not in files and len(base) == 1:
                        pass  # a structured Jacobian: a SciPy sparse matrix (not read here)
                    else:
                        case.note("out-npz", "differ", f"{key}: {sorted(files)}")
                continue
            with open(path, encoding="utf-8") as f:
                saved = json.load(f)
            for (o, n), b in base.items():
                value = saved[n] if o is None else saved.get(f"{o},{n}", saved.get(o, {}).get(n) if isinstance(
                    saved.get(o), dict) else None)
                if value is None:
                    case.note("out-json", "differ", f"no key for {o},{n}: {sorted(saved)[:6]}")
                else:
                    case.compare("out-json", array(value), b, "exact", f"{o},{n}")


def route_text(case: Case) -> None:
    """The text report's numbers against --json's at the printed precision."""
    code, _, text, err = jac(["eval", case.expr, *case.args])
    if refused_too(case, "text", code, err):
        return
    blocks = case.blocks()  # the report's order: each output's value, then its blocks
    wanted = [a for o, y in case.outputs().items() for a in [y] + [b for (o2, _), b in blocks.items() if o2 == o]]
    blocks = text_blocks(text)
    if len(blocks) != len(wanted):
        case.note("text", "differ", f"{len(blocks)} blocks of numbers in the text, {len(wanted)} in --json")
        return
    for (header, numbers), want in zip(blocks, wanted):
        if numbers is None:
            continue  # summarised (too large to print)
        want = np.asarray(want, dtype=np.float64).ravel()
        if numbers.size != want.size:
            case.note("text", "differ", f"{header[:60]}: {numbers.size} numbers printed, {want.size} in --json")
            continue
        case.note("text", printed_agree(numbers, want), f"{header[:60]}")


def printed_agree(printed: np.ndarray, value: np.ndarray) -> str:
    """``exact`` when each printed number is the value at the printed precision (6 decimals, or 6 digits
    in scientific notation; a scalar 10 significant digits)."""
    nan_p, nan_v = np.isnan(printed), np.isnan(value)
    if (nan_p != nan_v).any():
        return "differ"
    p, v = printed[~nan_p], value[~nan_v]
    inf = np.isinf(p) | np.isinf(v)
    if (p[inf] != v[inf]).any():
        return "differ"
    p, v = p[~inf], v[~inf]
    ok = np.abs(p - v) <= 5.01e-7 + 5.01e-7 * np.abs(v)
    return "exact" if ok.all() else "differ"


def text_blocks(text: str) -> list:
    """``[(header, numbers or None)]`` of the value and each Jacobian block of ``jac eval``'s report."""
    import re

    number = re.compile(r"(?<![\w\[.])[-+]?(?:nan|inf|\d+\.?\d*(?:e[-+]?\d+)?|\.\d+(?:e[-+]?\d+)?)(?![\w\]])")
    found, header, lines = [], None, []

    def flush():
        if header is None:
            return
        body = [ln for ln in lines if not re.match(r"\s*\S*\[[^\]]*\] =$", ln) and not re.match(r"\s*J(\[[^\]]*\])? = ", ln)]
        if any(re.search(r"[a-df-mo-z]{3,}", ln.replace("nan", "").replace("inf", "")) for ln in body):
            found.append((header, None))  # words: a summary (too large to print, stored entries)
            return
        nums = [float(t) for ln in body for t in number.findall(ln.replace("[", " ").replace("]", " "))]
        found.append((header, np.asarray(nums, dtype=np.float64)))

    for line in text.splitlines():
        if re.match(r"^\S+ = value: ", line) or line.startswith("∂"):
            flush()
            header, lines = line, []
        elif header is not None:
            if not line.strip() or line.startswith("Derivative shapes"):
                flush()
                header, lines = None, []
            else:
                lines.append(line)
    flush()
    return found


def route_api(case: Case) -> None:
    """The Python API's first call (interpreter), second (compiles and checks) and third (the kernel)
    against each other and the CLI, bit for bit; then new values of the same shapes through the kernel
    against a fresh interpreter call; float32; a --wrt subset."""
    from jacobi_cli.tools import api

    inputs = {n: np.asarray(v) for n, v in case.inputs.items()}
    rng = np.random.default_rng(abs(hash(case.expr)) % 2**32)
    other = {n: rng.standard_normal(np.shape(v)) for n, v in inputs.items()}
    outs = case.outputs()
    v = {o: rng.standard_normal(y.shape) for o, y in outs.items()}
    vv = v[None] if not case.several else v
    first = case.wrt()[0]
    t = {first: rng.standard_normal(np.shape(inputs[first]))}
    calls = {
        "jacobian": lambda b, **k: api.jacobian(case.expr, b, **k),
        "vjp": lambda b, **k: api.vjp(case.expr, b, v=vv, **k),
        "jvp": lambda b, **k: api.jvp(case.expr, b, t, **k),
        "evaluate": lambda b, **k: api.evaluate(case.expr, b, **k),
        "jacobian-wrt": lambda b, **k: api.jacobian(case.expr, b, wrt=[first], **k),
    }
    if sum(np.size(x) for x in inputs.values()) <= 24:
        calls["hessian"] = lambda b, **k: api.hessian(case.expr, b, **k)
    for dtype in ("float64", "float32"):
        for name, call in calls.items():
            route = f"api-{name}" + ("-f32" if dtype == "float32" else "")
            api.clear_cache()
            try:
                raw = call(inputs, dtype=dtype)
                answers = [flat(raw)] + [flat(call(inputs, dtype=dtype)) for _ in range(2)]
                changed = flat(call(other, dtype=dtype))
                again = flat(call(inputs, dtype=dtype))
                api.clear_cache()
                fresh = flat(call(other, dtype=dtype))
            except Exception as err:  # noqa: BLE001 - a refusal is the eval route's; a crash is noted
                if type(err).__module__.startswith("jacobi_cli"):
                    continue
                case.note(route, "crash", f"{type(err).__name__}: {err}"[:200])
                continue
            for k in (1, 2):
                compare_flat(case, route, answers[k], answers[0], f"call {k + 1} vs 1")
            compare_flat(case, route, changed, fresh, "new values: kernel vs interpreter")
            compare_flat(case, route, again, answers[0], "first values again")
            if dtype == "float64" and name in ("jacobian", "evaluate"):
                cli = {str(k): b for k, b in case.blocks().items()} if name == "jacobian" else \
                    {str(o): y for o, y in outs.items()}
                names = list(outs) if case.several else False
                mine = {str(k): b for k, b in flat(raw, several=names if name == "evaluate" else case.several,
                                                   kind=name).items()}
                if set(cli) == set(mine):
                    for k in cli:
                        case.compare("api-vs-cli", mine[k], cli[k], "exact", f"{name} {k}")
                else:
                    case.note("api-vs-cli", "differ", f"keys {sorted(mine)} vs {sorted(cli)}")
    api.clear_cache()
    route_float32_cli(case, calls["jacobian"], inputs)


def route_float32_cli(case: Case, call, inputs: dict) -> None:
    code, obj, _, err = jac(["eval", case.expr, *case.args, "--json", "--dtype", "float32"])
    if code != 0:
        return
    try:
        mine = flat(call(inputs, dtype="float32"), several=case.several, kind="jacobian")
    except Exception:  # noqa: BLE001
        return
    for k, b in case.blocks(obj).items():  # --json prints float32 by its shortest repr: read back as float32
        case.compare("api-vs-cli-f32", mine[k], b.astype(np.float32), "exact", str(k))


def flat(result, several: bool = False, kind: str = ""):
    """A result as ``{key: float64 array}``; with ``several``/``kind`` keyed as :meth:`Case.blocks`."""
    if kind == "jacobian":
        if several:
            return {(o, n): np.asarray(b) for o, bs in result.items() for n, b in bs.items()}
        return {(None, n): np.asarray(b) for n, b in result.items()}
    if kind == "evaluate":
        if isinstance(result, tuple):
            return {k: np.asarray(r) for k, r in zip(several, result)}
        return {None: np.asarray(result)}
    if isinstance(result, dict):
        out = {}
        for k, val in result.items():
            if isinstance(val, dict):
                out.update({(k, k2): np.asarray(v2) for k2, v2 in val.items()})
            else:
                out[k] = np.asarray(val)
        return out
    if isinstance(result, tuple):
        return {i: np.asarray(r) for i, r in enumerate(result)}
    return {None: np.asarray(result)}


def compare_flat(case: Case, route: str, a: dict, b: dict, what: str) -> None:
    if set(a) != set(b):
        case.note(route, "differ", f"{what}: keys {sorted(map(str, a))} vs {sorted(map(str, b))}")
        return
    for k in a:
        if np.asarray(a[k]).dtype != np.asarray(b[k]).dtype:
            case.note(route, "differ", f"{what} {k}: dtype {np.asarray(a[k]).dtype} vs {np.asarray(b[k]).dtype}")
        else:
            case.compare(route, a[k], b[k], "exact", f"{what} {k}")


def route_batch(case: Case, point_b: dict) -> None:
    """--batch x (x the first input; two examples: this point and ``point_b``'s) against each example run
    alone, bit for bit: eval (value and blocks), vjp (a cotangent per example), jvp."""
    first = next(iter(case.inputs))
    stacked = {**case.inputs, first: np.stack([np.asarray(case.inputs[first], dtype=np.float64),
                                               np.asarray(point_b[first], dtype=np.float64)])}
    alone = [case.obj]
    code, obj2, _, err = jac(["eval", case.expr, *bindings({**case.inputs, first: point_b[first]}), "--json"])
    if code != 0:
        return
    alone.append(obj2)
    code, obj, _, err = jac(["eval", case.expr, *bindings(stacked), "--json", "--batch", first])
    if refused_too(case, "batch-eval", code, err):
        return
    for k in (0, 1):
        for o, y in case.outputs(obj).items():
            case.compare("batch-eval", y[k], case.outputs(alone[k])[o], "exact", f"value {o} example {k}")
        for key, b in case.blocks(obj).items():
            case.compare("batch-eval", b[k], case.blocks(alone[k])[key], "exact", f"{key} example {k}")
    # vjp: per-example cotangents
    rng = np.random.default_rng(7)
    outs = case.outputs()
    vs = {o: rng.standard_normal((2,) + y.shape) for o, y in outs.items()}
    vargs = []
    for o, v in vs.items():
        vargs += ["--v", literal(v) if o is None else f"{o}={literal(v)}"]
    code, obj, _, err = jac(["vjp", case.expr, *bindings(stacked), "--json", "--batch", first, *vargs])
    if refused_too(case, "batch-vjp", code, err):
        return
    for k in (0, 1):
        one = dict(case.inputs) if k == 0 else {**case.inputs, first: point_b[first]}
        vk = []
        for o, v in vs.items():
            vk += ["--v", literal(v[k]) if o is None else f"{o}={literal(v[k])}"]
        code, alone_v, _, err = jac(["vjp", case.expr, *bindings(one), "--json", *vk])
        if code != 0:
            case.note("batch-vjp", "refusal", f"example {k} alone: {err.strip()[:100]}")
            continue
        for n, g in obj["vjp"].items():
            mine = array(g["value"])
            if n == first:
                mine = mine[k]
            else:
                continue  # a shared input's vjp sums over the examples
            case.compare("batch-vjp", mine, array(alone_v["vjp"][n]["value"]), "exact", f"{n} example {k}")


def route_several(case: Case) -> None:
    """Several outputs (the expression and its square's sum) against each output alone: eval blocks."""
    if case.several:
        return
    lines = case.expr.split("; ")
    last = lines[-1]
    two = "; ".join(lines[:-1] + [f"__o = {last}", "__o, (__o * __o).sum()"])
    alone2 = "; ".join(lines[:-1] + [f"__o = {last}", "(__o * __o).sum()"])
    code, obj, _, err = jac(["eval", two, *case.args, "--json"])
    if refused_too(case, "several", code, err):
        return
    code, obj2, _, err = jac(["eval", alone2, *case.args, "--json"])
    if code != 0:
        return
    b1, b2 = case.blocks(obj2), case.blocks()
    for (o, n), b in case.blocks(obj).items():
        ref = b2[(None, n)] if o == "__o" else b1[(None, n)]
        case.compare("several", b, ref, "exact", f"{o},{n}")


def route_wrt(case: Case) -> None:
    """--wrt NAME alone against the full Jacobian's block."""
    base = case.blocks()
    wrt = case.wrt()
    if len(wrt) < 2:
        return
    for n in wrt:
        code, obj, _, err = jac(["eval", case.expr, *case.args, "--json", "--wrt", n])
        if refused_too(case, "wrt", code, err):
            continue
        for key, b in case.blocks(obj).items():
            case.compare("wrt", b, base[key], "exact", str(key))


def route_graph(case: Case) -> None:
    """jac graph --backward --v V: the leaves' gradients against jac vjp --v V (exact: the same pass)."""
    if case.several:
        return
    y = case.outputs()[None]
    v = literal(np.random.default_rng(3).standard_normal(y.shape))
    code, gobj, _, err = jac(["graph", case.expr, *case.args, "--json", "--backward", "--v", v])
    if refused_too(case, "graph", code, err):
        return
    code, vobj, _, err = jac(["vjp", case.expr, *case.args, "--json", "--v", v])
    if refused_too(case, "graph", code, err):
        return
    leaves = {nd["name"]: nd for nd in gobj["nodes"] if nd["op"] == "input"}
    for n, g in vobj["vjp"].items():
        if n not in leaves or "grad" not in leaves[n]:
            case.note("graph", "differ", f"no gradient for {n} in the graph")
            continue
        case.compare("graph", array(leaves[n]["grad"]), array(g["value"]), "close", n)


ROUTES = [route_modes, route_products, route_derivative1, route_check, route_hessian, route_files, route_text,
          route_api, route_several, route_wrt, route_graph]


def run_case(expr: str, inputs: dict, point: str, point_b: dict | None = None, routes=None) -> Case:
    case = Case(expr, at(point, inputs))
    if not case.ok:
        case.results.append(("eval", "refused" if case.code == 2 else "crash", case.err.strip()[:160]))
        return case
    for route in routes or ROUTES:
        if route is route_batch or route is hessian_vs_gradient:
            continue  # below: they need the second point, or a random one
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                route(case)
        except Exception as err:  # noqa: BLE001 - the sweep's own trouble, reported
            case.results.append((route.__name__, "crash", f"{type(err).__name__}: {err}"[:200]))
    if point == "random" and (routes is None or hessian_vs_gradient in routes):
        hessian_vs_gradient(case)
    if point_b is not None and (routes is None or route_batch in routes):
        try:
            route_batch(case, point_b)
        except Exception as err:  # noqa: BLE001
            case.results.append(("route_batch", "crash", f"{type(err).__name__}: {err}"[:200]))
    return case


BAD = ("differ", "inexact", "refusal", "crash")


def worker(args) -> dict:
    items, verbose = args
    counts, bad = Counter(), []
    with _typer_group_once():
        for source, expr, inputs, point in items:
            t0 = time.monotonic()
            point_b = at("random", inputs) if point != "random" else {n: np.asarray(v) * 0.5 for n, v in inputs.items()}
            case = run_case(expr, inputs, point, point_b)
            for route, status, detail in case.results:
                counts[(route, status)] += 1
                if status in BAD:
                    bad.append((source, point, expr, route, status, detail))
            if verbose:
                print(f"{time.monotonic() - t0:6.2f}s {point:6s} {expr[:80]}", flush=True)
    return {"counts": counts, "bad": bad}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=0, help="at most this many expressions (0: all)")
    ap.add_argument("--points", default=",".join(POINTS))
    ap.add_argument("-k", default="")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    os.environ.setdefault("COLUMNS", "200")
    start = time.monotonic()
    found = [c for c in cases() if a.k in c[1]]
    if a.cases:
        found = found[:a.cases]
    items = [(s, e, i, p) for s, e, i in found for p in a.points.split(",")]
    per = [(items[k::a.jobs], a.verbose) for k in range(a.jobs)]
    if a.jobs == 1:
        results = [worker(per[0])]
    else:
        with multiprocessing.get_context("fork").Pool(a.jobs) as pool:
            results = pool.map(worker, per)
    counts, bad = Counter(), []
    for r in results:
        counts.update(r["counts"])
        bad += r["bad"]
    seen = set()
    for source, point, expr, route, status, detail in bad:
        key = (route, status, detail[:40], expr)
        if key in seen:
            continue
        seen.add(key)
        print(f"{status:8s} {route:16s} [{source} {point}] {expr[:90]}\n           {detail[:220]}")
    routes = sorted({r for r, _ in counts})
    statuses = ["exact", "close", "0*inf", "inexact", "differ", "refusal", "refused", "crash"]
    print(f"\n{len(found)} expressions x {len(a.points.split(','))} points, {time.monotonic() - start:.0f} s")
    print(f"{'route':18s} " + " ".join(f"{s:>8s}" for s in statuses))
    for r in routes:
        print(f"{r:18s} " + " ".join(f"{counts[(r, s)]:8d}" for s in statuses))
    return 1 if any(counts[(r, s)] for r in routes for s in ("differ", "inexact", "crash")) else 0


if __name__ == "__main__":
    sys.exit(main())
