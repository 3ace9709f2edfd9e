"""Session 38 fuzz: are the symbolic derivatives of ``jac diff`` / ``jac eval --symbolic`` right?

For every op of the registry that ``jac diff`` translates (every case of its table in ``tests/test_ops.py``, as
``benchmarks/symbolic_bench.py`` and ``tests/test_symbolic.py`` build them, at ``--seeds`` random points of the op's
domain) and for ``--random`` random compositions of 2-4 ops over a scalar ``s``, vectors ``x``, ``y`` (3) and a
matrix ``A`` (3 × 3), written as text: the symbolic Jacobian is evaluated at the point and compared with

- jac's numeric Jacobian (``autodiff.jacrev`` for an op, ``api.jacobian`` for a text: what ``jac eval`` prints), and
- central differences (:func:`jacobi_cli.tools.numeric.central_jacobian`), which decide who is wrong where the two
  differ.

The formula's value is taken before ``--at``'s check replaces a disagreeing one with autodiff's (the check is
wrapped), so a wrong formula counts even where ``jac diff --at`` would print autodiff's number beside it; a
formula of components is also evaluated on its own (SymPy's ``lambdify`` into mpmath, 50 digits), independent of jac's
evaluators. Each case runs in a forked child (``bounded.call``) stopped after ``--limit`` seconds. Classes:

- AGREE: every entry within ``RTOL`` of its own size (plus ``ATOL`` × the Jacobian's scale);
- WRONG: an entry differs from autodiff, and autodiff agrees with central differences there;
- REFUSED: jac diff refused (a JacError: no translation, a limit);
- CRASH: any other exception; TIMEOUT: stopped; SKIP: no finite point in 10 draws.

``--at``'s own check is counted too: ``at_masked`` are cases where the formula's value differs from autodiff's per
entry but the old check (one tolerance scaled by the largest entry) let it through; and for each text case whose
formula agrees, the old and the new check (:func:`jacobi_cli.tools.symbolic.agrees_at`) are run on the formula as
it is (a note there is a false alarm) and with its smallest nonzero entry made 1 % wrong (a note there catches it).

    (ulimit -v 6000000; PYTHONPATH=. /work/venv/bin/python benchmarks/symcheck38_fuzz.py [--seeds 2] [--random 300])
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

RTOL, ATOL = 1e-6, 1e-9  # per entry: rounding of a formula vs a reverse pass, never a different number
CD_RTOL, CD_ATOL = 1e-4, 1e-6  # central differences: truncation and rounding


def per_entry_close(a, b, rtol, atol):
    """Each entry of ``a`` within ``rtol`` of ``b``'s own size, plus ``atol`` times ``b``'s largest entry."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return np.full(b.shape, False)
    finite = np.isfinite(b)
    scale = float(np.max(np.abs(b[finite]), initial=1.0))
    return np.isclose(a, b, rtol=rtol, atol=atol * scale, equal_nan=True)


def old_close(a, b):
    """``jac diff --at``'s check before session 38: one tolerance scaled by the largest entry."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    finite = np.isfinite(b)
    scale = float(np.max(np.abs(b[finite]), initial=1.0))
    return bool(np.allclose(a, b, rtol=1e-7, atol=1e-7 * scale, equal_nan=True))


def sympy_components(expr, point: dict) -> np.ndarray:
    """A formula of components (``x[0, 1]`` symbols) evaluated by SymPy's lambdify into mpmath at 50 digits,
    independent of jac's evaluators (SymPy's own ``evalf`` loses digits in ``exp(exp(t))``: 2e-5 at t = 61)."""
    import mpmath
    import sympy as sp

    arr = np.asarray(sp.Array(expr).tolist() if isinstance(expr, sp.NDimArray) else expr, dtype=object)
    symbols = sorted({s for e in arr.ravel() for s in getattr(e, "free_symbols", ())}, key=lambda s: s.name)
    args = []
    for sym in symbols:
        base, _, rest = sym.name.partition("[")
        idx = tuple(int(i) for i in rest.rstrip("]").split(",")) if rest else ()
        args.append(mpmath.mpf(float(np.asarray(point[base])[idx])))
    with mpmath.workdps(50):
        extra = {"airyaiprime": lambda z: mpmath.airyai(z, 1), "airybiprime": lambda z: mpmath.airybi(z, 1)}
        f = sp.lambdify(symbols, list(arr.ravel()), modules=[extra, "mpmath"])
        out = [complex(v) for v in np.ravel(np.asarray(f(*args), dtype=object))]
    out = np.array(out).reshape(arr.shape)
    return np.where(np.abs(out.imag) <= 1e-12 * (1 + np.abs(out.real)), out.real, np.nan)


def apart(expr, point):
    """:func:`sympy_components`, or None where mpmath lacks one of the formula's functions (the verdict on jac's
    own evaluation of the formula stands)."""
    try:
        return sympy_components(expr, point)
    except NameError:
        return None


class Recorded:
    """Wraps ``symbolic._check_at_point``: keeps each formula's value before the check may replace it, and
    whether the check replaced it."""

    def __init__(self, symbolic):
        self.symbolic, self.raw, self.replaced = symbolic, {}, {}
        self.original = symbolic._check_at_point

    def __call__(self, d, *args, **kwargs):
        before = None if d.value is None else np.array(d.value, dtype=np.float64)
        self.raw[d.name] = before
        self.original(d, *args, **kwargs)
        self.replaced[d.name] = before is not None and d.value is not before and not (
            np.shape(d.value) == before.shape and np.array_equal(np.asarray(d.value, dtype=np.float64), before,
                                                                 equal_nan=True))


def judge(formula, automatic, central) -> tuple:
    """``(class, detail)`` of one derivative's value against autodiff's and central differences'."""
    if formula is None:
        return "REFUSED", "no value"
    formula = np.asarray(formula, dtype=np.float64)
    automatic = np.asarray(automatic, dtype=np.float64)
    if formula.size != automatic.size:
        return "WRONG", f"shape {formula.shape} vs {automatic.shape}"
    formula = formula.reshape(automatic.shape)
    bad = ~per_entry_close(formula, automatic, RTOL, ATOL)
    if not bad.any():
        return "AGREE", ""
    cd = np.asarray(central, dtype=np.float64).reshape(automatic.shape)
    auto_ok = per_entry_close(automatic, cd, CD_RTOL, CD_ATOL)
    if np.all(auto_ok[bad]):
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        return "WRONG", f"entry {idx}: formula {formula[idx]!r}, autodiff {automatic[idx]!r}, central {cd[idx]!r}"
    return "NUMERIC", "autodiff and central differences differ where the formula does"


# --- the ops of the registry -------------------------------------------------------------------

def op_case(name, case, seed):
    from test_ops import _differentiable, _draw, _normalize

    from jacobi_cli.engine import autodiff
    from jacobi_cli.ir.graph import Builder
    from jacobi_cli.ir.ops import OPS
    from jacobi_cli.tools import symbolic
    from jacobi_cli.tools.numeric import central_jacobian

    op = OPS[name]
    shapes, params = _normalize(case)
    rng = np.random.default_rng(seed)
    arrays = [np.asarray(_draw(op, s, rng), dtype=np.float64) for s in shapes]
    b = Builder()
    tracers = [b.input(f"a{i}", a.shape) for i, a in enumerate(arrays)]
    graph = b.graph(b.apply(name, *tracers, **params))
    env = {f"a{i}": a for i, a in enumerate(arrays)}
    names = [f"a{i}" for i, s in enumerate(shapes) if s != "mask" and _differentiable(op, i)]
    names = [n for n in names if n in graph.inputs]
    graph = graph.with_wrt(names)
    values = autodiff.evaluate(graph, env)
    numeric = autodiff.jacrev(graph, values)
    recorded = Recorded(symbolic)
    symbolic._check_at_point = recorded
    try:
        result = symbolic.differentiate_graph(graph, names, point=env)
    finally:
        symbolic._check_at_point = recorded.original
    out = []
    for n in names:
        def f(v, n=n):
            return autodiff.evaluate(graph, {**env, n: v})[graph.output]
        central = central_jacobian(f, env[n])
        d = result.derivatives[n]
        verdict = judge(recorded.raw.get(n), numeric[n], central)
        masked = verdict[0] == "WRONG" and old_close(recorded.raw.get(n), np.asarray(numeric[n]).reshape(
            np.shape(recorded.raw.get(n))))
        if d.form == "components" and verdict[0] == "AGREE" and (alone := apart(d.expr, env)) is not None:
            verdict = judge(alone, numeric[n], central)
            verdict = (verdict[0], ("SymPy into mpmath: " + verdict[1]) if verdict[1] else "")
        out.append((n, d.form, *verdict, masked))
    return out


def op_cases(seeds):
    from test_ops import CASES, _normalize
    from test_symbolic import AT_SINGULARITIES, MASK_CASES

    from jacobi_cli.ir.ops import OPS

    for name, op in OPS.items():
        if op.sympy is None:
            continue
        for k, case in enumerate(CASES.get(name, MASK_CASES.get(name, []))):
            if AT_SINGULARITIES & {s for s in _normalize(case)[0] if isinstance(s, str)}:
                continue
            for seed in range(seeds):
                yield f"op {name}-{k} seed {seed}", (lambda name=name, case=case, seed=seed: op_case(name, case, seed))


# --- random compositions written as text ----------------------------------------------------------

UNARY = ["exp({})", "sin({})", "cos({})", "tanh({})", "sigmoid({})", "softplus({})", "arctan({})", "abs({})",
         "relu({})", "square({})", "log({}**2 + 0.5)", "sqrt({}**2 + 0.25)", "arcsin(0.9 * tanh({}))", "sinh({})",
         "cosh({})", "log1p({}**2)", "clip({}, -0.5, 0.5)", "({})**3", "1 / (1 + ({})**2)", "-({})"]
BINARY = ["({} + {})", "({} - {})", "({} * {})", "maximum({}, {})", "minimum({}, {})", "({} / (1.5 + tanh({})))",
          "where({0} > 0, {0}, {1})"]
TO_SCALAR = ["sum({})", "mean({})", "max({})", "min({})", "prod({})", "norm({})", "logsumexp({})", "({0} @ {0})",
             "{}[1]"]
VECTOR_OF = ["softmax({})", "cumsum({})", "sort({}).values"]
MATRIX_TO_SCALAR = ["det({})", "trace({})", "sum({})", "max({})", "{}[0, 1]", "norm({})"]
MATRIX_OF = ["({} @ {})", "inv({})", "{}.T"]


class Composer:
    """Random texts of a kind ("s", "v", "m") with a count of ops."""

    def __init__(self, rng):
        self.rng = rng

    def pick(self, options):
        return options[int(self.rng.integers(len(options)))]

    def leaf(self, kind):
        return {"s": self.pick(["s", "s", "0.7"]), "v": self.pick(["x", "y"]), "m": "A"}[kind]

    def make(self, kind, ops):
        """A text of ``kind`` with exactly ``ops`` ops (a form counts as one)."""
        if ops == 0:
            return self.leaf(kind)
        r = self.rng.random()
        if kind == "s":
            if r < 0.3:
                return self.pick(UNARY).format(self.make("s", ops - 1))
            if r < 0.45 and ops >= 2:
                k = int(self.rng.integers(ops))
                return self.pick(BINARY).format(self.make("s", k), self.make("s", ops - 1 - k))
            if r < 0.85:
                return self.pick(TO_SCALAR).format(self.make("v", ops - 1))
            return self.pick(MATRIX_TO_SCALAR).format(self.make("m", ops - 1))
        if kind == "v":
            if r < 0.35:
                return self.pick(UNARY).format(self.make("v", ops - 1))
            if r < 0.55 and ops >= 2:
                k = int(self.rng.integers(ops))
                other = self.pick(["v", "v", "s"])
                return self.pick(BINARY).format(self.make("v", k), self.make(other, ops - 1 - k))
            if r < 0.75:
                return self.pick(VECTOR_OF).format(self.make("v", ops - 1))
            if ops >= 2:
                k = int(self.rng.integers(ops))
                return f"({self.make('m', k)} @ {self.make('v', ops - 1 - k)})"
            return f"(A @ {self.make('v', 0)})"
        if r < 0.4:
            return self.pick(UNARY).format(self.make("m", ops - 1))
        if r < 0.6 and ops >= 2:
            k = int(self.rng.integers(ops))
            return self.pick(BINARY[:5]).format(self.make("m", k), self.make(self.pick(["m", "s"]), ops - 1 - k))
        if r < 0.8 and ops >= 2:
            k = int(self.rng.integers(ops))
            return f"({self.make('m', k)} @ {self.make('m', ops - 1 - k)})"
        form = self.pick(MATRIX_OF)
        return form.format(self.make("m", ops - 1), "A")


INPUT_SHAPES = {"s": (), "x": (3,), "y": (3,), "A": (3, 3)}


def draw_point(rng, names, scaled=False):
    """Uniform in (-1.5, 1.5) (A shifted by 2.5 I); ``scaled``: each entry also times 10^U(-3, 2), so that the
    Jacobian's entries differ by orders of magnitude (where one tolerance scaled by the largest was loose)."""
    point = {}
    for n in names:
        v = rng.uniform(-1.5, 1.5, INPUT_SHAPES[n])
        if scaled:
            v = v * 10.0 ** rng.uniform(-3, 2, INPUT_SHAPES[n])
        point[n] = v + 2.5 * np.eye(3) if n == "A" else v
    return point


def injected(raw, automatic, at_perturbed) -> tuple:
    """``--at``'s check, old and new, on this case: ``(old false alarm, new false alarm, old catches, new catches)``
    where the false alarms are of the formula as it is and the catches of the formula with its smallest nonzero
    entry made 1 % wrong (a wrong small entry; None where the derivative has no two distinct magnitudes)."""
    from jacobi_cli.tools import symbolic

    eps = float(np.finfo(np.float64).eps)
    auto = np.asarray(automatic, dtype=np.float64)
    raw = np.asarray(raw, dtype=np.float64).reshape(auto.shape)
    false_old = not old_close(raw, auto)
    false_new = not symbolic.agrees_at(raw, auto, symbolic.AT_RTOL, eps, at_perturbed)
    sizes = np.abs(auto[np.isfinite(auto)])
    nonzero = sizes[sizes > 0]
    if nonzero.size == 0 or nonzero.min() == nonzero.max():
        return false_old, false_new, None, None
    wrong = raw.copy()
    k = np.unravel_index(np.argmin(np.where(np.isfinite(auto) & (auto != 0), np.abs(auto), np.inf)), auto.shape)
    wrong[k] *= 1.01
    return (false_old, false_new, not old_close(wrong, auto),
            not symbolic.agrees_at(wrong, auto, symbolic.AT_RTOL, eps, at_perturbed))


def text_case(text, seed, scaled=False):
    import re

    from jacobi_cli.tools import api
    from jacobi_cli.tools import symbolic
    from jacobi_cli.tools.numeric import central_jacobian

    names = [n for n in INPUT_SHAPES if re.search(rf"\b{n}\b", text)]
    rng = np.random.default_rng(seed)
    for _ in range(10):
        point = draw_point(rng, names, scaled)
        y = np.asarray(api.evaluate(text, point))
        if np.all(np.isfinite(y)):
            break
    else:
        return [("", "", "SKIP", "no finite point", False)]
    automatic = api.jacobian(text, point)
    recorded = Recorded(symbolic)
    symbolic._check_at_point = recorded
    try:
        result = symbolic.differentiate(text, [f"{n}={np.asarray(v).tolist()!r}" for n, v in point.items()])
    finally:
        symbolic._check_at_point = recorded.original
    out = []
    for n in names:
        central = central_jacobian(lambda v, n=n: np.asarray(api.evaluate(text, {**point, n: v})), point[n])
        d = result.derivatives[n]
        raw = recorded.raw.get(n)
        verdict = judge(raw, automatic[n], central)
        masked = verdict[0] == "WRONG" and raw is not None and np.size(raw) == np.size(automatic[n]) and old_close(
            raw, np.asarray(automatic[n]).reshape(np.shape(raw)))
        if d.form == "components" and verdict[0] == "AGREE" and (alone := apart(d.expr, point)) is not None:
            verdict = judge(alone, automatic[n], central)
            verdict = (verdict[0], ("SymPy into mpmath: " + verdict[1]) if verdict[1] else "")
        check = None
        if raw is not None and np.size(raw) == np.size(automatic[n]) and verdict[0] == "AGREE":
            check = injected(raw, automatic[n], lambda n=n: api.jacobian(text, symbolic.perturbed(point))[n])
        out.append((n, d.form, *verdict, masked, check))
    return out


def text_cases(count, seed):
    rng = np.random.default_rng(seed)
    composer = Composer(rng)
    seen = set()
    while len(seen) < count:
        kind = composer.pick(["s", "s", "v", "m"])
        text = composer.make(kind, int(rng.integers(2, 5)))
        if text in seen:
            continue
        seen.add(text)
        scaled = len(seen) % 2 == 0
        yield f"text {text}{' (scaled point)' if scaled else ''}", (
            lambda text=text, k=len(seen), scaled=scaled: text_case(text, 1000 + k, scaled))


# --- kinks: the documented convention, symbolic as numeric ----------------------------------------

KINKS = [  # (text, point): at the kink itself
    ("abs(x)", {"x": [0.0, 1.0, -2.0]}),
    ("relu(x)", {"x": [0.0, 1.0, -2.0]}),
    ("maximum(x, y)", {"x": [1.0, 2.0, 0.5], "y": [1.0, 3.0, 0.0]}),
    ("minimum(x, y)", {"x": [1.0, 2.0, 0.5], "y": [1.0, 3.0, 0.0]}),
    ("maximum(x, 0.5)", {"x": [0.5, 1.0, 0.0]}),
    ("max(x)", {"x": [2.0, 2.0, 1.0]}),
    ("min(x)", {"x": [1.0, 1.0, 3.0]}),
    ("max(A)", {"A": [[1.0, 3.0], [3.0, 0.0]]}),
    ("clip(x, -0.5, 0.5)", {"x": [-0.5, 0.5, 0.0]}),
    ("clip(x, -1, 1)", {"x": [-1.0, 1.0, 2.0]}),
    ("sign(x) * x", {"x": [0.0, 1.0, -2.0]}),
    ("floor(x) + x", {"x": [1.0, 0.5, -2.0]}),
    ("norm(x)", {"x": [0.0, 0.0, 0.0]}),
    ("x ** y", {"x": [0.0, 2.0, 0.0], "y": [0.0, 0.0, 2.0]}),
    ("sum(abs(x))", {"x": [0.0, 1.0, -2.0]}),
    ("sum(relu(x) * x)", {"x": [0.0, 1.0, -2.0]}),
    ("torch.clamp(x, min=0)", {"x": [0.0, 1.0, -2.0]}),
    ("F.hardtanh(x)", {"x": [-1.0, 1.0, 0.5]}),
    ("np.fmax(x, y)", {"x": [1.0, 2.0, 0.5], "y": [1.0, 3.0, 0.0]}),
    ("torch.amax(x)", {"x": [2.0, 2.0, 1.0]}),
    ("abs(s)", {"s": 0.0}),
    ("relu(s)", {"s": 0.0}),
    ("maximum(s, t)", {"s": 1.0, "t": 1.0}),
    ("jax.lax.abs(s)", {"s": 0.0}),
    ("jax.lax.max(s, t)", {"s": 1.0, "t": 1.0}),
]


KINKS_MATRIX = [  # the same with symbolic sizes (x:n, A:nxn), --at the kink: matrix or index forms where there are
    ("sum(abs(x))", {"x": [0.0, 1.0, -2.0]}),
    ("sum(relu(A @ x))", {"A": [[1.0, -1.0], [2.0, 0.5]], "x": [1.0, 1.0]}),
    ("max(x)", {"x": [2.0, 2.0, 1.0]}),
    ("sum(clip(x, -0.5, 0.5))", {"x": [-0.5, 0.5, 0.0]}),
    ("sum(maximum(x, y))", {"x": [1.0, 2.0], "y": [1.0, 3.0]}),
    ("norm(x)", {"x": [0.0, 0.0]}),
    ("sum(sign(x) * x)", {"x": [0.0, 1.0]}),
    ("relu(x)", {"x": [0.0, 1.0, -2.0]}),
    ("abs(A @ x)", {"A": [[1.0, -1.0], [2.0, 0.5]], "x": [1.0, 1.0]}),
]


def kink_case(text, point, symbolic_sizes=False):
    """The formula's value at the kink (no note: it holds there) against jac eval's, the documented choice."""
    from jacobi_cli.tools import api
    from jacobi_cli.tools import symbolic

    point = {k: np.asarray(v, dtype=np.float64) for k, v in point.items()}
    automatic = api.jacobian(text, point)
    recorded = Recorded(symbolic)
    symbolic._check_at_point = recorded
    values = [f"{n}={np.asarray(v).tolist()!r}" for n, v in point.items()]
    try:
        if symbolic_sizes:
            result = symbolic.differentiate(text, [f"{n}:{'nxn' if np.ndim(v) == 2 else 'n'}" for n, v in point.items()],
                                            at=values)
        else:
            result = symbolic.differentiate(text, values)
    finally:
        symbolic._check_at_point = recorded.original
    out = []
    for n, d in result.derivatives.items():
        raw = recorded.raw.get(n)
        shown = np.asarray(d.value, dtype=np.float64)
        ok_shown = per_entry_close(shown.reshape(np.shape(automatic[n])), automatic[n], RTOL, ATOL).all()
        ok_raw = raw is not None and np.size(raw) == np.size(automatic[n]) and per_entry_close(
            np.asarray(raw).reshape(np.shape(automatic[n])), automatic[n], RTOL, ATOL).all()
        if not ok_shown:
            out.append((n, d.form, "WRONG", f"shown {shown.tolist()} vs jac eval {np.asarray(automatic[n]).tolist()}",
                        False))
        elif ok_raw:
            out.append((n, d.form, "AGREE", "", False))
        else:  # the formula gives another value here; the value shown is jac eval's, with the note
            out.append((n, d.form, "AGREE", f"formula differs at the kink, noted: {str(d.expr)[:60]}", False))
    return out


def kink_cases():
    for text, point in KINKS:
        yield f"kink {text} at {point}", (lambda text=text, point=point: kink_case(text, point))
    for text, point in KINKS_MATRIX:
        yield f"kink {text} (sizes n) at {point}", (lambda text=text, point=point: kink_case(text, point, True))


# --- running -------------------------------------------------------------------------------------

def run(label, fn, limit):
    from jacobi_cli.errors import JacError, JacLimitError
    from jacobi_cli.tools import bounded

    def child():
        try:
            return fn()
        except JacError as err:
            return [("", "", "REFUSED", f"{type(err).__name__}: {str(err)[:100]}", False)]
        except Exception as err:  # noqa: BLE001  (the class CRASH)
            return [("", "", "CRASH", f"{type(err).__name__}: {str(err)[:100]}", False)]

    try:
        return bounded.call(child, limit, "case")
    except JacLimitError as err:
        return [("", "", "TIMEOUT" if "took more than" in str(err) else "CRASH", str(err)[:100], False)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2, help="random points per op case")
    parser.add_argument("--random", type=int, default=300, help="random compositions")
    parser.add_argument("--seed", type=int, default=38)
    parser.add_argument("--limit", type=float, default=30.0, help="seconds per case")
    parser.add_argument("--part", choices=("ops", "texts", "kinks", "all"), default="all")
    parser.add_argument("--verbose", action="store_true", help="print every case, not only the bad ones")
    args = parser.parse_args(argv)
    import sympy  # noqa: F401  (imported once, before forking)

    import jacobi_cli.tools.symbolic  # noqa: F401
    import test_ops  # noqa: F401
    import test_symbolic  # noqa: F401

    parts = []
    if args.part in ("ops", "all"):
        parts.append(("ops", op_cases(args.seeds)))
    if args.part in ("texts", "all"):
        parts.append(("texts", text_cases(args.random, args.seed)))
    if args.part in ("kinks", "all"):
        parts.append(("kinks", kink_cases()))
    start = time.perf_counter()
    for part, cases in parts:
        counts, masked, checks = collections.Counter(), 0, collections.Counter()
        for number, (label, fn) in enumerate(cases, 1):
            if number % 20 == 0:
                print(f"-- {part}: {number} cases, {dict(counts)} ({time.perf_counter() - start:.0f} s)", flush=True)
            for name, form, verdict, detail, was_masked, *check in run(label, fn, args.limit):
                counts[verdict] += 1
                masked += bool(was_masked)
                if check and check[0] is not None:
                    false_old, false_new, caught_old, caught_new = check[0]
                    checks.update(cases=1, false_old=false_old, false_new=false_new)
                    if false_new:
                        print(f"FALSE    {label} by {name}: the new --at check notes a right formula", flush=True)
                    if caught_old is not None:
                        checks.update(injected=1, caught_old=caught_old, caught_new=caught_new)
                if verdict not in ("AGREE", "REFUSED", "SKIP") or args.verbose or (detail and part == "kinks"):
                    print(f"{verdict:8} {label} by {name} [{form}] {detail}", flush=True)
        summary = " ".join(f"{k}={counts[k]}" for k in ("AGREE", "WRONG", "REFUSED", "CRASH", "TIMEOUT", "NUMERIC",
                                                        "SKIP"))
        print(f"== {part}: {summary} at_masked={masked} ({time.perf_counter() - start:.0f} s)", flush=True)
        if checks:
            print(f"== --at check on {checks['cases']} right formulas: false alarms old {checks['false_old']} / new "
                  f"{checks['false_new']}; a smallest entry made 1 % wrong in {checks['injected']}: caught by the old "
                  f"rule {checks['caught_old']}, by the new {checks['caught_new']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
