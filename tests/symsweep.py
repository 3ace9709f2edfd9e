"""The symbolic sweep's harness (``tests/test_symbolic_sweep14.py``, ``benchmarks/symbolic14_sweep.py``): one
expression through ``jac diff`` (:func:`jacobi_cli.tools.symbolic.differentiate`), ``jac eval --symbolic``
(:func:`~jacobi_cli.tools.symbolic.eval_formulas`), jac's numeric Jacobian and PyTorch's
``torch.autograd.functional.jacobian``, at one point.

An expression is written so that Python with ``torch`` and ``F`` in scope computes it too (``torch.det(A)``,
``F.softplus(x)``): the same text is jac's input and PyTorch's function. A shape spec is a string per input of
letters (symbolic sizes, ``"nn"``: ``A:nxn``, matrix forms and index forms) or digits (concrete sizes,
``"33"``: ``A:3x3``, components at small sizes); ``""`` is a 0-d scalar.

What is compared is the formula's own value at the point, taken before ``jac diff``'s check at ``--at``
replaces a value that disagrees with autodiff (so a wrong formula cannot hide behind that check), and, for an
index form, the printed entry formula itself evaluated entry by entry with SymPy.
"""

from __future__ import annotations

import itertools
import re
from unittest import mock

import numpy as np

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api, symbolic

SIZES = {"n": 3, "m": 2, "k": 4}
RTOL = 1e-8


def bindings(spec: dict) -> list:
    out = []
    for name, dims in spec.items():
        out.append(f"{name}:()" if dims == "" else f"{name}:{'x'.join(dims)}")
    return out


def shapes_of(spec: dict, sizes: dict = SIZES) -> dict:
    return {name: tuple(sizes[c] if c.isalpha() else int(c) for c in dims) for name, dims in spec.items()}


def random_point(spec: dict, rng, lo: float = -1.0, hi: float = 1.0, shift: bool = True, sizes: dict = SIZES) -> dict:
    """Values in (lo, hi); a square matrix shifted by n·I (far from singular) unless ``shift`` is False."""
    point = {}
    for name, shape in shapes_of(spec, sizes).items():
        v = rng.uniform(lo, hi, shape)
        if shift and len(shape) == 2 and shape[0] == shape[1]:
            v = v + shape[0] * np.eye(shape[0])
        point[name] = v
    return point


def torch_namespace():
    import torch

    return {"torch": torch, "F": torch.nn.functional}


def torch_jacobians(expr: str, point: dict, wrt: list, order: int = 1) -> dict:
    """``{name: the order-th derivative by name}`` (``y.shape + x.shape * order``) by PyTorch, float64."""
    import torch
    from torch.autograd.functional import jacobian

    ns = torch_namespace()
    tensors = {n: torch.tensor(np.asarray(v, dtype=np.float64)) for n, v in point.items()}
    out = {}
    for name in wrt:
        def f(x, name=name):
            return eval(expr, ns, {**tensors, name: x})  # noqa: S307 - the test's own expressions

        g = f
        for _ in range(order - 1):
            g = (lambda h: lambda x: jacobian(h, x, create_graph=True))(g)
        out[name] = jacobian(g, tensors[name]).detach().numpy()
    return out


def torch_value(expr: str, point: dict) -> np.ndarray:
    import torch

    tensors = {n: torch.tensor(np.asarray(v, dtype=np.float64)) for n, v in point.items()}
    return eval(expr, torch_namespace(), tensors).detach().numpy()  # noqa: S307


def how(ours, theirs, rtol: float = RTOL) -> str | None:
    """None when equal (rtol, NaN equal to NaN), else how they differ."""
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    if ours.size != theirs.size:
        return f"shape {ours.shape} vs {theirs.shape}"
    ours = ours.reshape(theirs.shape)
    scale = max(1.0, float(np.max(np.abs(theirs[np.isfinite(theirs)]), initial=0.0)))
    with np.errstate(invalid="ignore"):
        close = np.isclose(ours, theirs, rtol=rtol, atol=1e-10 * scale, equal_nan=True)
    if close.all():
        return None
    bad = ~close
    fo, ft = np.isfinite(ours[bad]), np.isfinite(theirs[bad])
    with np.errstate(all="ignore"):
        worst = np.argmax(np.where(bad, np.abs(np.nan_to_num(ours - theirs)), -1))
    where = np.unravel_index(worst, theirs.shape)
    detail = f" at {tuple(int(i) for i in where)}: {ours[where]!r} vs {theirs[where]!r}"
    if (fo & ft).any():
        return "numbers" + detail
    return ("jac-nan" if (~fo).all() else "torch-nan" if (~ft).all() else "nan-places") + detail


def diff_raw(expr: str, spec_or_bindings, point: dict, wrt: list | None = None, order: int = 1):
    """``(result, raw)``: :func:`symbolic.differentiate` at ``point`` and each derivative's value as its
    formula gives it (``raw[name]``), before the check at ``--at`` can replace it by autodiff's."""
    raw = {}
    original = symbolic._check_at_point

    def spy(d, graph, name, *args):
        raw[name] = None if d.value is None else np.array(d.value, dtype=np.float64)
        original(d, graph, name, *args)

    binds = bindings(spec_or_bindings) if isinstance(spec_or_bindings, dict) else list(spec_or_bindings)
    with mock.patch.object(symbolic, "_check_at_point", spy):
        result = symbolic.differentiate(expr, binds, wrt=wrt, at=dict(point), order=order)
    return result, raw


def index_entries(d, point: dict, limit: int = 400, sizes: dict = SIZES) -> np.ndarray | None:
    """Every entry of a printed index formula evaluated by SymPy at ``point`` (the sizes read off it), or
    None where it names a value other than the inputs and their inverses (``where L = ...``) or has more than
    ``limit`` entries."""
    import sympy as sp

    from jacobi_cli.ir.shapes import legend_letters

    if d.where:
        return None
    shape = tuple(int(s) if not isinstance(s, str) else sizes[s] for s in d.shape)
    if int(np.prod(shape)) > limit:
        return None
    mats = {}
    for name, value in point.items():
        value = np.asarray(value, dtype=np.float64)
        if value.ndim > 2:
            return None
        column = value.reshape(-1, 1) if value.ndim == 1 else value.reshape(1, 1) if value.ndim == 0 else value
        mats[name] = sp.ImmutableMatrix(column.tolist())
    expr = d.expr.xreplace({s: sp.Integer(sizes[s.name]) for s in d.expr.free_symbols
                            if s.name in sizes and s.is_positive})  # sizes; the indices are integers only
    expr = expr.replace(lambda e: isinstance(e, sp.MatrixSymbol) and e.name in mats, lambda e: mats[e.name])
    expr = expr.replace(lambda e: isinstance(e, (sp.OneMatrix, sp.Identity, sp.ZeroMatrix)),
                        lambda e: sp.ImmutableMatrix(e.as_explicit()))  # tr(𝟙⋅x) at concrete sizes
    letters = legend_letters(d.shape, ())[:len(d.shape)]
    out = np.empty(shape)
    for idx in itertools.product(*[range(k) for k in shape]):
        e = expr.xreplace({sp.Symbol(c, integer=True): sp.Integer(v) for c, v in zip(letters, idx)})
        out[idx] = float(sp.N(e.doit()))
    return out


def compare(expr: str, spec: dict, point: dict, wrt: list | None = None, order: int = 1,
            entries: bool = True, sizes: dict = SIZES) -> list:
    """Every disagreement of ``jac diff`` (the formula's own value, the printed index entries, the value
    shown), jac's numeric Jacobian and PyTorch at ``point``, as ``(what, how)`` pairs; a refusal is
    ``("refused", message)``; empty when all agree."""
    wrt = list(spec) if wrt is None else wrt
    problems = []
    try:
        theirs = torch_jacobians(expr, point, wrt, order)
    except Exception as err:  # noqa: BLE001 - PyTorch has no such derivative (igamma's, hardsigmoid's second):
        problems.append(("torch-raises", f"{type(err).__name__}: {err}"))  # jac eval's / jac derivative's instead
        try:
            theirs = jac_derivatives(expr, point, wrt, order)
        except JacError as err2:
            return problems + [("refused", f"jac eval: {err2.message}")]
    try:
        result, raw = diff_raw(expr, spec, point, wrt, order)
    except JacError as err:
        return [("refused", f"{type(err).__name__}: {err.message}")]
    for name in wrt:
        d = result.derivatives[name]
        if raw.get(name) is not None:
            h = how(raw[name], theirs[name])
            if h:
                problems.append((f"formula d/d{name} ({d.form})", h))
        h = how(d.value, theirs[name])
        if h:
            problems.append((f"shown d/d{name} ({d.form})", h))
        if entries and d.form == "index" and order == 1:
            got = index_entries(d, point, sizes=sizes)
            if got is not None:
                h = how(got, theirs[name])
                if h:
                    problems.append((f"printed entries d/d{name}", h))
    numeric = jac_derivatives(expr, point, wrt, order)
    for name in wrt:
        h = how(numeric[name], theirs[name])
        if h:
            problems.append((f"jac {'eval' if order == 1 else 'derivative'} d/d{name}", h))
    return problems


def jac_derivatives(expr: str, point: dict, wrt: list, order: int = 1) -> dict:
    """jac eval's Jacobians (order 1), jac derivative's (order 2, 3) by each of ``wrt``."""
    if order == 1:
        return {n: np.asarray(v) for n, v in api.jacobian(expr, point, wrt=wrt).items()}
    return {n: np.asarray(api.derivative(expr, point, order, wrt=[n])) for n in wrt}


def compare_eval_symbolic(expr: str, point: dict, wrt: list | None = None) -> list:
    """``jac eval --symbolic``'s formulas (components, at the point's shapes) evaluated there against PyTorch."""
    from jacobi_cli.lang.parser import parse

    shapes = {n: np.shape(v) for n, v in point.items()}
    wrt = list(point) if wrt is None else wrt
    graph = parse(expr, shapes).with_wrt(wrt)
    output, formulas = symbolic.with_deep_stack(lambda: symbolic.eval_formulas(graph, wrt))
    if output is None:  # no translation: every input gets the reason
        return [("refused", next(iter(formulas.values()), ""))]
    _, leaves = symbolic.translate(graph, as_components=True)
    try:
        theirs = torch_jacobians(expr, point, wrt)
    except Exception:  # noqa: BLE001 - PyTorch has no such derivative: jac eval's
        theirs = jac_derivatives(expr, point, wrt)
    problems = []
    h = how(symbolic.evaluate_components(np.array(output.tolist() if hasattr(output, "tolist") else output,
                                                  dtype=object), leaves, point), api.evaluate(expr, point))
    if h:
        problems.append(("eval --symbolic value", h))
    for name in wrt:
        f = formulas[name]
        if isinstance(f, str):
            continue
        arr = np.array(f.tolist(), dtype=object) if hasattr(f, "tolist") else np.array(f, dtype=object)
        h = how(symbolic.evaluate_components(arr, leaves, point), theirs[name])
        if h:
            problems.append((f"eval --symbolic d/d{name}", h))
    return problems


# --- random compositions of the fast forms' ops ------------------------------------------------------

ELEMENTWISE = ["torch.sin", "torch.tanh", "torch.sigmoid", "F.softplus", "torch.arctan", "torch.cos"]


def compose(rng, kind: str, depth: int) -> str:
    """A random expression of kind ``"s"`` (scalar), ``"v"`` (vector of n) or ``"m"`` (n × n matrix) over the
    inputs A, B (n × n) and x, y (n), ``depth`` ops deep at most: products, inverses, solves, det, trace,
    softmax, log_softmax, logsumexp, norms, sums and element-wise functions, the ops of the fast forms."""
    f = ELEMENTWISE[rng.integers(len(ELEMENTWISE))]
    if depth == 0:
        return {"s": "torch.sum(x)", "v": ["x", "y"][rng.integers(2)], "m": ["A", "B"][rng.integers(2)]}[kind]

    def sub(k):
        e = compose(rng, k, depth - 1)
        return e if re.fullmatch(r"[\w.]+(\(.*\))?", e) and not re.search(r"\) [-+*/@] ", e) else f"({e})"

    options = {
        "s": [lambda: f"torch.sum({f}({sub('v')}))", lambda: f"torch.linalg.norm({sub('v')})",
              lambda: f"torch.logsumexp({sub('v')}, 0)", lambda: f"torch.det({sub('m')})",
              lambda: f"torch.trace({sub('m')})", lambda: f"{sub('v')} @ {sub('v')}",
              lambda: f"{sub('v')} @ {sub('m')} @ {sub('v')}", lambda: f"torch.sum({sub('m')} * {sub('m')})",
              lambda: f"torch.logdet({sub('m')} @ {sub('m')}.T + torch.eye(3))"],
        "v": [lambda: f"{sub('m')} @ {sub('v')}", lambda: f"{f}({sub('v')})", lambda: f"torch.softmax({sub('v')}, 0)",
              lambda: f"torch.log_softmax({sub('v')}, 0)", lambda: f"{sub('v')} * {sub('v')}",
              lambda: f"{sub('v')} / torch.linalg.norm({sub('v')})", lambda: f"torch.linalg.solve({sub('m')}, {sub('v')})",
              lambda: f"{sub('s')} * {sub('v')}", lambda: f"{sub('v')} - {sub('v')}"],
        "m": [lambda: f"{sub('m')} @ {sub('m')}", lambda: f"{f}({sub('m')})", lambda: f"torch.inverse({sub('m')})",
              lambda: f"{sub('m')}.T", lambda: f"{sub('m')} + {sub('m')}", lambda: f"{sub('s')} * {sub('m')}"],
    }[kind]
    return options[rng.integers(len(options))]()


def composition_cases(count: int, seed: int = 0, letters: bool = True):
    """``count`` random compositions (1-3 ops) as (expr, spec, wrt): each output kind in turn, the inputs it
    reads, at letters (matrix / index forms) or at 3 (components)."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < count:
        kind = "svm"[len(out) % 3]
        expr = compose(rng, kind, int(rng.integers(1, 4)))
        if "torch.eye(3)" in expr and letters:
            continue  # a constant of 3 beside letters
        used = [n for n in ("A", "B", "x", "y") if re.search(rf"\b{n}\b", expr)]
        size = "n" if letters else "3"
        out.append((expr, {n: size * (2 if n in "AB" else 1) for n in used}, None))
    return out
