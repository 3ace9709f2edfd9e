"""Kernels at other values (kern16): the cases and the comparison shared by ``tests/test_kernels16.py``
(bounded) and ``benchmarks/kernels16_sweep.py`` (run by hand, every case).

A kernel is made at the second identical call and checked once, at that call's values, against the
interpreter (``compiled.same``). Here every kernel is made at ordinary values and then called at
*other* values: random ones, ±0, ±inf, NaN, subnormals, huge magnitudes, ties and kinks, in the
inputs, the cotangent and the tangents. Every answer (Jacobian structured and dense, VJP, JVP,
value) must be the interpreter's (the same ``Compiled`` with no kernel: ``jacobians(bind)``,
``vjp_of``, ``jvp_of``, ``problem.output``) bit for bit: ``np.array_equal(..., equal_nan=True)``
and the same ``np.signbit`` for every number (a NaN's sign and payload are counted apart: see
:func:`same`). Where the interpreter refuses (a JacError),
the kernel's call must refuse as well.

Two kinds of cases:

- expressions (``EXPRESSIONS``: E1-E6, compositions, matrix ops, reductions, the linear algebra
  whose derivative kernels were once refused; ``fuzzed(n)``: the fuzz grammar of tests/test_fuzz.py,
  seeded) through :class:`~jacobi_cli.engine.compiled.Compiled`, as a repeated API call runs them;
- every op of ``ir/ops.py`` on its own (the cases of tests/test_ops.py), through the kernels
  themselves (``jacobian_kernel`` in both modes, ``vjp_kernel``, ``jvp_kernel``, ``evaluate_kernel``)
  against the interpreter's passes (``planner.run``, ``autodiff.vjp``/``jvp``/``evaluate``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

from jacobi_cli.engine import autodiff, kernels, planner
from jacobi_cli.engine.compiled import Compiled, jacobians, jvp_of, tangents_of, vjp_of
from jacobi_cli.errors import JacError

TINY = 5e-324  # the smallest subnormal
SPECIAL = [0.0, -0.0, np.inf, -np.inf, np.nan, TINY, -TINY, 2.2e-308, 1e308, -1e308, 1e-300, 1.0, -1.0, 0.5]

# (expression, input shapes): what a user repeats
EXPRESSIONS = [
    # bench.py's E1-E6 (n = 4 and a size past the small dense passes)
    ("sin(x) * x**2 + exp(-x)", {"x": (4,)}),
    ("x @ A @ x", {"x": (4,), "A": (4, 4)}),
    ("tanh(A @ x)", {"x": (4,), "A": (4, 4)}),
    ("sum(x * x)", {"x": (4,)}),
    ("softmax(x)", {"x": (4,)}),
    ("sum(tanh(A @ tanh(A @ x)))", {"x": (4,), "A": (4, 4)}),
    ("sin(x) * x**2 + exp(-x)", {"x": (40,)}),
    ("tanh(A @ x)", {"x": (40,), "A": (40, 40)}),
    ("softmax(x)", {"x": (40,)}),
    ("sum(tanh(A @ tanh(A @ x)))", {"x": (12,), "A": (12, 12)}),
    # dense + diagonal Jacobians
    ("A @ tanh(x) + x", {"x": (3,), "A": (3, 3)}),
    ("A @ tanh(x) + x", {"x": (40,), "A": (40, 40)}),
    ("x * y + A @ x", {"x": (3,), "y": (3,), "A": (3, 3)}),
    ("tanh(x) - A @ sin(x)", {"x": (5,), "A": (5, 5)}),
    ("x / 3.0 + 2.5 * x - 0.1", {"x": (5,)}),
    ("relu(x) * x + abs(x)", {"x": (5,)}),
    ("maximum(x, y) + minimum(x, 0.0)", {"x": (5,), "y": (5,)}),
    ("clip(x, -1, 1) * y", {"x": (5,), "y": (5,)}),
    ("sqrt(abs(x)) + log(abs(y))", {"x": (4,), "y": (4,)}),
    ("x**3.5 + x**-1 + x**2", {"x": (4,)}),
    ("where(x > 0, x, 0.1 * x)", {"x": (5,)}),
    # reductions
    ("max(x) + min(x)", {"x": (5,)}),
    ("norm(x) * mean(x)", {"x": (5,)}),
    ("prod(x)", {"x": (5,)}),
    ("logsumexp(x)", {"x": (5,)}),
    ("sum(A, axis=0) * sum(A, axis=1)[0]", {"A": (3, 4)}),
    ("mean(A, axis=1) + max(A, axis=1)", {"A": (3, 4)}),
    ("sum(A * B) / 10", {"A": (3, 3), "B": (3, 3)}),
    ("softmax(A @ x) * 0.1", {"x": (3,), "A": (4, 3)}),
    # matrix ops, transposes, products scaled by inexact constants (the layouts of kern16's first fix)
    ("(x[0] * ones(3, 3)).T @ W / 10", {"x": (2,), "W": (3, 3)}),
    ("sum(((x[0] * ones(3, 3)).T @ W) * 0.1)", {"x": (2,), "W": (3, 3)}),
    ("A.T @ A * 0.1", {"A": (3, 2)}),
    ("(A @ B.T).T * 0.3 + A @ B.T", {"A": (3, 3), "B": (3, 3)}),
    ("sum((A @ A.T) * 0.1, axis=0)", {"A": (3, 4)}),
    ("trace(A @ A.T) / 7", {"A": (3, 3)}),
    ("torch.linalg.det(A) * 0.1", {"A": (3, 3)}),
    ("torch.linalg.inv(A + 3 * eye(3)) / 10", {"A": (3, 3)}),
    ("torch.linalg.eigvalsh((sum(A) * ones(3, 3) @ (sum(A) * ones(3, 3)).T) / 10 + diag([1.0, 2.0, 3.5]))",
     {"A": (2, 3)}),
    ("torch.linalg.cholesky((mean(A) * ones(3, 3)) @ (mean(A) * ones(3, 3)).T * 0.1 + diag([1.0, 2.0, 3.5]))",
     {"A": (2, 3)}),
    ("torch.linalg.eigvalsh(A @ A.T * 0.1 + diag([1.0, 2.0, 3.5]))", {"A": (3, 3)}),
    ("np.linalg.eigh(A + A.T + diag([1.0, 4.0, 9.0]))[1] / 10", {"A": (3, 3)}),  # torch's signs: refused alone
    ("torch.linalg.eigh(A + A.T + diag([1.0, 4.0, 9.0]))[1] ** 2 / 10", {"A": (3, 3)}),
    ("torch.linalg.cholesky(A @ A.T / 10 + eye(3))", {"A": (3, 3)}),
    ("torch.linalg.svdvals(A) * 0.1", {"A": (3, 2)}),
    ("torch.linalg.solve(A + 4 * eye(3), x) * 0.1", {"A": (3, 3), "x": (3,)}),
    ("torch.linalg.norm(A @ x) / 3", {"A": (3, 3), "x": (3,)}),
]


@dataclass
class Tally:
    """What a run compared: cases, kernels built, calls, and the differences (one line each)."""

    cases: int = 0
    kernels: int = 0
    calls: int = 0
    refused: int = 0  # calls the interpreter refused (the kernel's call must refuse too)
    differences: list = field(default_factory=list)
    crashes: list = field(default_factory=list)  # an error that is no JacError, on either path
    nan_bits: int = 0  # calls that agree but for a NaN's sign or payload (see same)
    handed: int = 0  # kernel calls of inputs in another layout than traced for: kernels.Unlaid (op cases)

    def crashed(self, where: str, *errors) -> None:
        for err in errors:
            if err is not None and not isinstance(err, JacError):
                self.crashes.append(f"{where}: {type(err).__name__}: {err}")

    def add(self, other: "Tally") -> None:
        self.cases += other.cases
        self.kernels += other.kernels
        self.calls += other.calls
        self.refused += other.refused
        self.differences += other.differences
        self.crashes += other.crashes
        self.nan_bits += other.nan_bits
        self.handed += other.handed


def same(a, b) -> bool:
    """Bit for bit as this sweep reads it: shape, dtype, values (NaN where NaN) and the sign of every
    number (-0 is not +0). A NaN's sign and payload aside: NumPy's own loops do not keep them (``a + s``
    of a NaN array and a NaN scalar takes the scalar's NaN from the ninth element on, its full copy's
    before: the interpreter's ``expand_reduced`` copies, and a kernel broadcasts where it drops that copy for an
    element-wise reader, ``kernels.KernelBuilder._expand_dropped``); :func:`bits` counts them."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if not np.array_equal(a, b, equal_nan=True):
        return False
    numbers = ~np.isnan(a) if a.dtype.kind in "fc" else np.ones(a.shape, dtype=bool)
    return bool(np.array_equal(np.signbit(a)[numbers], np.signbit(b)[numbers]))


def bits(a, b) -> bool:
    """Every bit, a NaN's sign and payload included (``compiled.same``)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def _same_jacobians(got: dict, want: dict, structured: bool, same=same) -> bool:
    if got.keys() != want.keys():
        return False
    for n in want:
        if structured:
            g, w = got[n], want[n]
            if g.structure != w.structure:
                return False
            if w.structure != "dense" and not (np.array_equal(g.rows, w.rows) and np.array_equal(g.cols, w.cols)):
                return False
            g, w = (np.asarray(g.values), np.asarray(w.values)) if w.structure != "dense" else (g.to_array(), w.to_array())
        else:
            g, w = got[n], want[n].to_array()
        if not same(g, w):
            return False
    return True


def hostile(shape: tuple, rng: np.random.Generator, kind: str) -> np.ndarray:
    """Values of ``shape`` of one kind: ``random`` (uniform), ``special`` (only SPECIAL),
    ``mixed`` (random with specials at random places), ``ties`` (few distinct values: maxima and
    sorts tie), ``kinks`` (0, ±0 and ±1: where relu, abs, clip and maximum bend), ``huge``, ``tiny``."""
    n = int(np.prod(shape, dtype=np.int64))
    if n == 0:
        return np.zeros(shape)
    if kind == "random":
        out = rng.uniform(-2, 2, n)
    elif kind == "special":
        out = rng.choice(np.array(SPECIAL), n)
    elif kind == "mixed":
        out = rng.uniform(-2, 2, n)
        k = rng.integers(1, max(2, n // 2 + 1))
        out[rng.choice(n, k, replace=False)] = rng.choice(np.array(SPECIAL), k)
    elif kind == "ties":
        out = rng.choice(np.array([0.5, -0.25, 0.5]), n)
    elif kind == "kinks":
        out = rng.choice(np.array([0.0, -0.0, 1.0, -1.0]), n)
    elif kind == "huge":
        out = rng.choice(np.array([1e300, -1e300, 1e154, -3e200, 1e308]), n)
    elif kind == "tiny":
        out = rng.choice(np.array([TINY, -TINY, 1e-310, -2e-320, 1e-300]), n)
    else:
        raise ValueError(kind)
    return out.reshape(shape)


MODES = ("forward", "reverse")  # besides "auto": each mode's Jacobian kernel
KINDS = ("random", "special", "mixed", "ties", "kinks", "huge", "tiny")


def value_sets(shapes: dict, seed: int, rounds: int = 1) -> list:
    """``rounds`` value sets of every kind: ``(kind, env)``; and ``strided``: mixed values in other
    layouts (a matrix in Fortran order, a vector every other element of a longer one), which a kernel
    traced for C order hands to the interpreter (``kernels.Unlaid``)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(rounds):
        out += [(kind, {n: hostile(s, rng, kind) for n, s in shapes.items()}) for kind in KINDS]
        out.append(("strided", {n: relaid(hostile(s, rng, "mixed")) for n, s in shapes.items()}))
    return out


def relaid(a: np.ndarray) -> np.ndarray:
    """The same values, not C-contiguous: Fortran order for a matrix, a strided view for a vector."""
    if a.ndim >= 2:
        return np.asfortranarray(a)
    if a.ndim == 1:
        return np.repeat(a, 2)[::2]
    return a


def ordinary(shapes: dict, seed: int) -> dict:
    """Ordinary values (what a kernel is compiled at): uniform in (0.2, 0.9), signs mixed, no ties."""
    rng = np.random.default_rng(seed)
    return {n: rng.uniform(0.2, 0.9, s) * rng.choice([-1.0, 1.0], s) for n, s in shapes.items()}


def _attempt(fn):
    try:
        return fn(), None
    except Exception as err:  # noqa: BLE001 - a JacError is a refusal; anything else a crash (Tally.crashes)
        return None, err


def check_expression(expr: str, shapes: dict, seed: int = 0, rounds: int = 1) -> Tally:
    """Compile ``expr``'s kernels at ordinary values, then compare them with the interpreter at
    every value set of :func:`value_sets` (the cotangent and the tangents hostile too)."""
    tally = Tally(cases=1)
    f = Compiled(expr, shapes)
    base = ordinary(shapes, seed)
    y_shape = tuple(f.graph.output_shape)
    v0, t0 = np.ones(y_shape), {n: np.ones(s) for n, s in shapes.items()}
    singles = [n for n in f.graph.inputs] if len(f.graph.inputs) > 1 else []  # one input's Jacobian: wrt=[name]
    for _ in range(3):  # the second call compiles, the third runs the kernel
        f.jacobian(base)
        f.jacobian(base, structured=True)
        for mode in MODES:
            f.jacobian(base, mode=mode)
        for name in singles:
            f.jacobian(base, wrt=[name])
            f.jacobian(base, wrt=[name], structured=True)
        f.vjp(base, v0)
        f.jvp(base, t0)
        f.value(base)
    tally.kernels = sum(k is not None for k in f.kernels().values())
    rng = np.random.default_rng(seed + 1)
    for kind, env in value_sets(shapes, seed + 2, rounds):
        v = hostile(y_shape, rng, kind if kind in KINDS and kind != "ties" else "random")
        v = relaid(v) if kind == "strided" else v
        t = {n: hostile(s, rng, "mixed") for n, s in shapes.items()}
        problem, err = _attempt(lambda: f.bind(env))
        tally.crashed(f"{expr} {shapes} bind {kind}", err)
        calls = {
            "jacobian": (lambda: f.jacobian(env), lambda: jacobians(problem), False),
            "structured": (lambda: f.jacobian(env, structured=True), lambda: jacobians(problem), True),
            **{f"jacobian {mode}": (lambda mode=mode: f.jacobian(env, mode=mode),
                                    lambda mode=mode: jacobians(problem, f.plan_of(problem, mode)), False)
               for mode in MODES},
            **{f"jacobian wrt {name}{' structured' if st else ''}": (
                lambda name=name, st=st: f.jacobian(env, wrt=[name], structured=st),
                lambda name=name: jacobians(f.bind(env, [name])), st) for name in singles for st in (False, True)},
            "vjp": (lambda: f.vjp(env, v), lambda: vjp_of(problem, v), None),
            "jvp": (lambda: f.jvp(env, t), lambda: jvp_of(problem, tangents_of(problem, t)), None),
            "value": (lambda: f.value(env), lambda: problem.output, None),
        }
        for what, (kernel_call, interpreted, structured) in calls.items():
            tally.calls += 1
            if err is not None:  # every path refuses
                tally.refused += 1
                got, got_err = _attempt(kernel_call)
                tally.crashed(f"{expr} {shapes} {what} {kind}", got_err)
                if got_err is None:
                    tally.differences.append(f"{expr} {shapes} {what} {kind}: answered where the interpreter refuses "
                                             f"({err})")
                continue
            _compare(tally, f"{expr} {shapes} {what} {kind}", kernel_call, interpreted, structured, env)
    return tally


def _compare(tally: Tally, label: str, kernel_call, interpreted, structured, env) -> None:
    """One call of a kernel against the interpreter's, counted in ``tally``: both refuse, or both answer the
    same numbers (a NaN's sign or payload apart: ``nan_bits``); a kernel's ``Unlaid`` (inputs in a layout it
    was not traced for), which ``Compiled`` hands to the interpreter, is counted as ``handed``."""
    want, want_err = _attempt(interpreted)
    got, got_err = _attempt(kernel_call)
    if isinstance(got_err, (getattr(kernels, "Unlaid", ()), Handed)):
        tally.handed += 1
        return
    tally.crashed(label, want_err, got_err)
    if want_err is not None or got_err is not None:
        if (want_err is None) != (got_err is None):
            tally.differences.append(f"{label}: refused {got_err} vs {want_err}")
        else:
            tally.refused += 1
        return
    if not _equal(got, want, structured):
        tally.differences.append(f"{label}: {env}")
    elif not _equal(got, want, structured, bits):
        tally.nan_bits += 1


# --- the fuzz grammar, seeded --------------------------------------------------------------------

def fuzzed(count: int, seed: int = 0) -> list:
    """``count`` well-typed expressions of tests/test_fuzz.py's grammar (over its INPUTS), drawn by
    a seeded ``random.Random`` in place of hypothesis."""
    import test_fuzz

    class Seeded(test_fuzz.Grammar):
        def __init__(self, rng):
            super().__init__(None)
            self.rng = rng

        def pick(self, items):
            return self.rng.choice(list(items))

        def chance(self, p: float) -> bool:
            return self.rng.random() < p

    rng = random.Random(seed)
    out, seen = [], set()
    while len(out) < count:
        text = Seeded(rng).program(rng.randint(1, 3)).text
        if text not in seen:
            seen.add(text)
            out.append((text, dict(test_fuzz.INPUTS)))
    return out


# --- every op on its own, through the kernels ----------------------------------------------------

def op_cases(skip=("prod_except",)):
    """``(name, case)`` of tests/test_ops.py's CASES (prod_except: an internal op whose rules need values)."""
    from test_ops import CASES

    return [(name, case) for name, cases in CASES.items() if name not in skip for case in cases]


def _op_graph(name: str, case):
    from jacobi_cli.ir.graph import Builder
    from jacobi_cli.ir.ops import OPS
    from test_ops import _draw, _normalize

    op = OPS[name]
    shapes, params = _normalize(case)
    rng = np.random.default_rng(1)
    arrays = [_draw(op, s, rng) for s in shapes]
    b = Builder()
    out = b.apply(name, *[b.input(f"a{i}", np.shape(a)) for i, a in enumerate(arrays)], **params)
    env = {f"a{i}": np.asarray(a, dtype=np.float64) for i, a in enumerate(arrays)}
    wrt = [f"a{i}" for i in range(len(arrays)) if i < len(op.vjp) and op.vjp[i] is not None
           and not hasattr(op.vjp[i], "refuses") and isinstance(shapes[i], tuple)]
    return b.graph(out).with_wrt(wrt), env, wrt


def check_op(name: str, case, seed: int = 0, rounds: int = 1) -> Tally:
    """The op's kernels made at its test_ops values (kept only where they agree there, as
    ``Compiled`` keeps them), then at every value set of :func:`value_sets` for its differentiated
    arguments (the others, masks and indices, as they are)."""
    tally = Tally(cases=1)
    graph, base, wrt = _op_graph(name, case)
    if not wrt:
        return tally
    values = autodiff.evaluate(graph, base)
    y_shape = tuple(graph.output_shape)
    made = {}
    for mode in ("reverse", "forward"):
        plan = planner.make_plan(graph, values, wrt, mode, 2**30)
        made[mode] = (plan, kernels.jacobian_kernel(graph, plan, planner._small(plan, graph)))
    made["vjp"] = kernels.vjp_kernel(graph, wrt)
    made["jvp"] = kernels.jvp_kernel(graph, wrt)
    made["value"] = kernels.evaluate_kernel(graph)

    def answers(env, values, v, t):
        """(what, kernel's answer thunk, interpreter's answer thunk, structured)"""
        out = []
        for mode in ("reverse", "forward"):
            plan, k = made[mode]
            if k is not None:
                out.append((f"jacobian {mode}", lambda k=k: _handed(k, k(env, True)),
                            lambda p=plan: planner.run(p, graph, values), True))
                out.append((f"dense {mode}", lambda k=k: _handed(k, k(env, False)),
                            lambda p=plan: planner.run(p, graph, values), False))
        if made["vjp"] is not None:
            out.append(("vjp", lambda: dict(zip(wrt, made["vjp"](env, v))),
                        lambda: {n: g[0] for n, g in autodiff.vjp(graph, values, v[None]).items() if n in wrt}, None))
        if made["jvp"] is not None:
            out.append(("jvp", lambda: made["jvp"](env, *(t[n] for n in wrt))[0],
                        lambda: autodiff.jvp(graph, values, {n: t[n][None] for n in wrt})[graph.output][0], None))
        if made["value"] is not None:
            out.append(("value", lambda: made["value"](env)[0], lambda: values[graph.output], None))
        return out

    v0, t0 = np.ones(y_shape), {n: np.ones(base[n].shape) for n in wrt}
    with np.errstate(all="ignore"):
        kept = [what for what, k, i, s in answers(base, values, v0, t0) if _agree(k, i, s)]
    tally.kernels = len(kept)
    rng = np.random.default_rng(seed + 1)
    for kind, hostile_env in value_sets({n: base[n].shape for n in wrt}, seed + 2, rounds):
        env = dict(base, **hostile_env)
        v = hostile(y_shape, rng, kind if kind in KINDS and kind != "ties" else "random")
        v = relaid(v) if kind == "strided" else v
        t = {n: hostile(base[n].shape, rng, "mixed") for n in wrt}
        with np.errstate(all="ignore"):
            values, err = _attempt(lambda: autodiff.evaluate(graph, env))
            tally.crashed(f"op {name} {case} evaluate {kind}", err)
            for what, k, interpreted, structured in answers(env, values, v, t) if err is None else ():
                if what not in kept:
                    continue
                tally.calls += 1
                _compare(tally, f"op {name} {case} {what} {kind}", k, interpreted, structured, hostile_env)
        if err is not None:
            tally.refused += 1
    return tally


class Handed(Exception):
    """A Jacobian kernel's dense pass made a NaN: ``Compiled`` hands that call to the interpreter (session 49,
    ``JacobianKernel.nan_free``), which reads the NaN again from the structured passes."""


def _handed(kernel, found):
    if kernel.nan_free(found) is None:
        raise Handed()
    return found


def _agree(kernel_call, interpreted, structured) -> bool:
    got, err = _attempt(kernel_call)
    want, err2 = _attempt(interpreted)
    return err is None and err2 is None and _equal(got, want, structured)


def _equal(got, want, structured, same=same) -> bool:
    if structured is not None:
        return _same_jacobians(got, want, structured, same)
    if isinstance(want, dict):
        return got.keys() == want.keys() and all(same(got[n], want[n]) for n in want)
    return same(got, want)
