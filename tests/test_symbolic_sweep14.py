"""The hsym14 sweep of the symbolic paths: what ``jac diff`` prints (its formula's own value at a point,
before the check at ``--at`` can replace it; an index form's printed entries, each evaluated by SymPy),
``jac diff --order 2/3`` and ``jac eval --symbolic`` against jac's numeric Jacobian and PyTorch's
(``torch.autograd.functional.jacobian``, nested for higher orders), at random points; the fast forms
(letters: matrix and index forms) beside the plain SymPy path (digits: components) of the same expression;
and at the points where forms differ in domain (singular matrices, zeros, ties, kinks), the value shown
against PyTorch's or a refusal. The harness is ``tests/symsweep.py``; ``benchmarks/symbolic14_sweep.py``
runs these cases and the whole element-wise vocabulary at more points.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import symsweep as S

pytest.importorskip("torch")

SLOW = os.environ.get("JAC_SLOW") == "1"

# (expression in torch's spelling, spec, wrt or None: every input). Letters: matrix / index forms; digits:
# components. The same expression at both is the fast form beside the plain SymPy path.
STRUCTURED = [
    ("torch.det(A)", {"A": "nn"}, None),
    ("torch.det(A)", {"A": "33"}, None),
    ("torch.logdet(A)", {"A": "nn"}, None),
    ("torch.linalg.slogdet(A)[1]", {"A": "nn"}, None),
    ("torch.inverse(A)", {"A": "nn"}, None),
    ("torch.inverse(A)", {"A": "22"}, None),
    ("torch.trace(torch.inverse(A) @ B)", {"A": "nn", "B": "nn"}, None),
    ("torch.det(A @ B)", {"A": "nn", "B": "nn"}, None),
    ("torch.det(torch.exp(A))", {"A": "nn"}, None),
    ("torch.det(A) * torch.trace(A)", {"A": "nn"}, None),
    ("torch.log(torch.det(A)) + torch.sum(A * A)", {"A": "nn"}, None),
    ("torch.softmax(x, 0)", {"x": "n"}, None),
    ("torch.softmax(x, 0)", {"x": "3"}, None),
    ("torch.softmax(2 * x + 1, 0)", {"x": "n"}, None),
    ("torch.softmax(A @ x, 0)", {"A": "nn", "x": "n"}, None),
    ("torch.log_softmax(x, 0)", {"x": "n"}, None),
    ("torch.log_softmax(x, 0)", {"x": "3"}, None),
    ("torch.sum(torch.log_softmax(x, 0) * y)", {"x": "n", "y": "n"}, None),
    ("torch.logsumexp(x, 0)", {"x": "n"}, None),
    ("torch.logsumexp(A @ x, 0)", {"A": "nm", "x": "m"}, None),
    ("torch.logsumexp(torch.tanh(x) * 2, 0)", {"x": "n"}, None),
    ("torch.linalg.norm(x)", {"x": "n"}, None),
    ("torch.linalg.norm(A @ x)", {"A": "nm", "x": "m"}, None),
    ("torch.linalg.norm(x, 3)", {"x": "n"}, None),
    ("torch.linalg.norm(x, 1)", {"x": "n"}, None),
    ("torch.linalg.vector_norm(x, 2.5)", {"x": "n"}, None),
    ("torch.linalg.norm(A)", {"A": "nm"}, None),
    ("torch.trace(A)", {"A": "nn"}, None),
    ("torch.trace(A @ B)", {"A": "nm", "B": "mn"}, None),
    ("torch.trace(A.T @ A)", {"A": "nm"}, None),
    ("A @ B @ C", {"A": "nm", "B": "mm", "C": "mn"}, None),
    ("x @ A @ x", {"x": "n", "A": "nn"}, None),
    ("torch.sum(torch.tanh(A @ x))", {"A": "nn", "x": "n"}, None),
    ("torch.sum(torch.tanh(A @ x))", {"A": "33", "x": "3"}, None),
    ("torch.sum(torch.tanh(A @ x + b))", {"A": "nm", "x": "m", "b": "n"}, None),
    ("torch.tanh(A @ x)", {"A": "nm", "x": "m"}, None),
    ("torch.sigmoid(A @ x) * x[0]", {"A": "nn", "x": "n"}, None),
    ("torch.linalg.solve(A, b)", {"A": "nn", "b": "n"}, None),
    ("torch.linalg.solve(A, b) @ b", {"A": "nn", "b": "n"}, None),
    ("torch.linalg.cholesky(A @ A.T)", {"A": "nn"}, None),
    ("torch.mean(x ** 3) - torch.prod(x)", {"x": "n"}, None),
    ("torch.mean(A, 0)", {"A": "nm"}, None),
    ("torch.sum(A, 1) * x", {"A": "nm", "x": "n"}, None),
    ("torch.outer(x, y)", {"x": "3", "y": "2"}, None),
    ("torch.dot(x, y) * x", {"x": "n", "y": "n"}, None),
    ("torch.var(x)", {"x": "3"}, None),
    ("torch.std(x)", {"x": "4"}, None),
    ("torch.cumsum(x, 0)", {"x": "3"}, None),
    ("torch.cumprod(x, 0)", {"x": "3"}, None),
    ("torch.sort(x).values", {"x": "n"}, None),
    ("torch.amax(x, 0)", {"x": "3"}, None),
    ("torch.max(x * y)", {"x": "3", "y": "3"}, None),
    ("torch.clamp(x, -0.5, 0.5)", {"x": "n"}, None),
    ("torch.maximum(x, y) * 2 - torch.minimum(x, y)", {"x": "n", "y": "n"}, None),
    ("torch.sum(torch.relu(A @ x))", {"A": "nm", "x": "m"}, None),
    ("torch.flip(x, [0]) * x", {"x": "4"}, None),
    ("A[:, 0] * x", {"A": "nm", "x": "n"}, None),
    ("A.T @ torch.inverse(B) + 2 * A.T", {"A": "mn", "B": "mm"}, None),
    ("torch.inverse(A) @ b * 3 - b", {"A": "nn", "b": "n"}, None),
    ("torch.exp(A) * x + s", {"A": "nm", "x": "m", "s": ""}, None),
    ("torch.sum(x) / torch.linalg.norm(x)", {"x": "n"}, None),
    ("x / torch.linalg.norm(x)", {"x": "n"}, None),
    ("torch.softmax(x, 0) @ y", {"x": "n", "y": "n"}, None),
    ("torch.einsum('ij,jk->ik', A, B)", {"A": "32", "B": "23"}, None),
    ("torch.kron(x, y)", {"x": "2", "y": "2"}, None),
    ("torch.diag(x) @ A", {"x": "3", "A": "32"}, None),
    ("torch.triu(A)", {"A": "33"}, None),
    ("torch.stack([x, 2 * x]) @ y", {"x": "3", "y": "3"}, None),
    ("torch.softmax(A, 1)", {"A": "32"}, None),
    ("torch.logsumexp(A, 0)", {"A": "nm"}, None),
    ("torch.var(A, 0, keepdim=True)", {"A": "32"}, None),
    ("torch.linalg.norm(x, float('inf'))", {"x": "3"}, None),
    ("torch.linalg.norm(A, dim=1)", {"A": "32"}, None),
    ("F.layer_norm(A, (3,))", {"A": "23"}, None),
    ("F.cross_entropy(A, y)", {"A": "23", "y": "23"}, None),
    ("torch.cdist(A, B)", {"A": "23", "B": "23"}, None),
    ("torch.linalg.solve(A, B)", {"A": "nn", "B": "nm"}, None),
    ("torch.trace(A) ** 2 / torch.det(A)", {"A": "nn"}, None),
]
# (expression, spec, wrt, order): derivatives of order 2 and 3 against PyTorch's nested jacobian
HIGHER = [
    ("torch.det(A)", {"A": "22"}, None, 2),
    ("torch.det(A)", {"A": "33"}, None, 2),
    ("torch.logdet(A)", {"A": "33"}, None, 2),
    ("torch.trace(torch.inverse(A))", {"A": "22"}, None, 2),
    ("torch.logsumexp(x, 0)", {"x": "3"}, None, 2),
    ("torch.logsumexp(x, 0)", {"x": "3"}, None, 3),
    ("torch.softmax(x, 0)", {"x": "3"}, None, 2),
    ("torch.linalg.norm(x)", {"x": "3"}, None, 3),
    ("torch.sum(torch.tanh(A @ x))", {"A": "22", "x": "2"}, ["x"], 2),
    ("torch.sum(x ** 3) * torch.prod(x)", {"x": "3"}, None, 3),
    ("torch.sin(x) * torch.exp(y)", {"x": "2", "y": "2"}, ["x"], 3),
    ("x @ A @ x", {"x": "2", "A": "22"}, ["x"], 2),
    ("torch.log_softmax(x, 0)", {"x": "3"}, None, 2),
    ("torch.sigmoid(s) * torch.log(s)", {"s": ""}, None, 3),
]
if SLOW:  # the index forms of --order 2 (past 100 entries): a second each on the shared machine
    HIGHER += [("torch.det(A)", {"A": "44"}, None, 2), ("torch.softmax(x, 0)", {"x": "5"}, None, 2),
               ("torch.sum(x ** 3)", {"x": "12"}, None, 2), ("torch.logdet(A)", {"A": "66"}, None, 2),
               ("torch.sum(torch.tanh(A @ x))", {"A": "22", "x": "2"}, ["A"], 2)]


def all_cases():
    """Every (expression, spec, wrt, order, domain) of this file, for the sweep script."""
    for expr, spec, wrt in STRUCTURED:
        yield expr, spec, wrt, 1, (-1.0, 1.0)
    for expr, spec, wrt, order in HIGHER:
        yield expr, spec, wrt, order, (0.2, 0.8)


def _assert_agrees(expr, spec, wrt, order, seed, lo=-1.0, hi=1.0):
    point = S.random_point(spec, np.random.default_rng(seed), lo, hi)
    problems = [p for p in S.compare(expr, spec, point, wrt, order) if p[0] != "refused"]
    assert not problems, f"{expr} {S.bindings(spec)} order {order} at {point}: {problems}"


@pytest.mark.parametrize("expr, spec, wrt", STRUCTURED, ids=[f"{e}-{''.join(s.values())}" for e, s, _ in STRUCTURED])
def test_structured_forms_agree_with_pytorch(expr, spec, wrt):
    _assert_agrees(expr, spec, wrt, 1, 0)


@pytest.mark.parametrize("expr, spec, wrt, order", HIGHER,
                         ids=[f"{e}-{''.join(s.values())}-{w}-{k}" for e, s, w, k in HIGHER])
def test_higher_orders_agree_with_pytorch(expr, spec, wrt, order):
    _assert_agrees(expr, spec, wrt, order, 1, 0.2, 0.8)


# (expression, bindings, point): singular matrices, zeros of log / sqrt / abs / norm, ties of max / min / sort,
# kinks of relu / abs / clamp, overflow of softmax: the value shown is jac eval's (the formula's where it holds,
# else autodiff's with a note), or a clear refusal (JacError); never a Python exception, never a warning.
SING = [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.5, -1.0, 2.0]]
SPECIAL = [
    ("torch.det(A)", ["A:3x3"], {"A": SING}),
    ("torch.det(A)", ["A:nxn"], {"A": np.zeros((3, 3))}),
    ("torch.det(A) ** 2", ["A:nxn"], {"A": SING}),
    ("torch.logdet(A)", ["A:nxn"], {"A": SING}),
    ("torch.inverse(A)", ["A:nxn"], {"A": SING}),
    ("torch.linalg.solve(A, b)", ["A:nxn", "b:n"], {"A": SING, "b": [1.0, 2, 3]}),
    ("torch.log(x)", ["x:3"], {"x": [0.0, 1, -1]}),
    ("torch.sum(torch.log(x))", ["x:n"], {"x": [0.0, 1, -1]}),
    ("torch.sqrt(x)", ["x:3"], {"x": [0.0, 1, 4]}),
    ("torch.sqrt(x ** 2)", ["x:3"], {"x": [0.0, 1, -4]}),
    ("torch.abs(A @ x)", ["A:nxn", "x:n"], {"A": np.eye(3), "x": [0.0, 1, -1]}),
    ("torch.relu(x)", ["x:3"], {"x": [0.0, 1, -1]}),
    ("torch.sum(torch.relu(A @ x))", ["A:nxn", "x:n"], {"A": np.eye(3), "x": [0.0, 1, -1]}),
    ("torch.clamp(x, -1, 1)", ["x:3"], {"x": [-1.0, 1, 0]}),
    ("torch.sum(torch.clamp(x, -1, 1))", ["x:n"], {"x": [-1.0, 1, 0]}),
    ("torch.clamp(x, y, 1)", ["x:3", "y:3"], {"x": [-1.0, 1, 0], "y": [-1.0, 0, 0]}),
    ("F.relu6(x)", ["x:3"], {"x": [0.0, 6, 3]}),
    ("torch.max(x)", ["x:3"], {"x": [1.0, 2, 2]}),
    ("torch.max(x)", ["x:n"], {"x": [1.0, 2, 2]}),
    ("torch.amax(x, 0)", ["x:3"], {"x": [2.0, 2, 2]}),
    ("torch.sum(torch.maximum(x, y))", ["x:n", "y:n"], {"x": [1.0, 2, 3], "y": [1.0, 0, 3]}),
    ("torch.sort(x).values", ["x:n"], {"x": [2.0, 1, 2]}),
    ("torch.linalg.norm(x)", ["x:n"], {"x": [0.0, 0, 0]}),
    ("torch.linalg.norm(x, 3)", ["x:n"], {"x": [0.0, 0, 0]}),
    ("x / torch.linalg.norm(x)", ["x:n"], {"x": [0.0, 0, 0]}),
    ("torch.softmax(x, 0)", ["x:n"], {"x": [1000.0, 0, 0]}),
    ("torch.logsumexp(x, 0)", ["x:n"], {"x": [1000.0, 0, 0]}),
    ("torch.sinc(x)", ["x:3"], {"x": [0.0, 1, 0.5]}),
    ("torch.xlogy(x, y)", ["x:3", "y:3"], {"x": [0.0, 1, 0], "y": [0.0, 1, 2]}),
    ("torch.atan2(x, y)", ["x:3", "y:3"], {"x": [0.0, 1, 2], "y": [0.0, 0.5, 0]}),
    ("torch.std(x)", ["x:3"], {"x": [1.0, 1, 1]}),
    ("torch.prod(x)", ["x:n"], {"x": [0.0, 0, 2]}),
]
if SLOW:
    SPECIAL += [("torch.det(A)", ["A:6x6"], {"A": np.zeros((6, 6))}),
                ("torch.linalg.norm(A)", ["A:nxm"], {"A": np.zeros((3, 2))})]


def special_point_cases():
    """``(label, (expr, bindings, point))`` for the sweep script."""
    return [(f"{e} {b} at {p}", (e, b, p)) for e, b, p in SPECIAL]


def special_point_problems(expr, binds, point, order: int = 1) -> list:
    """What is wrong with ``jac diff`` at a special point: a Python exception, a warning, or a value shown
    that is not jac eval's (jac derivative's)."""
    import warnings

    from jacobi_cli.errors import JacError

    point = {k: np.asarray(v, dtype=np.float64) for k, v in point.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            result = S.diff_raw(expr, binds, point, order=order)[0]
        except JacError:
            return []
        except Exception as err:  # noqa: BLE001 - what the test is for
            return [("crash", f"{type(err).__name__}: {err}")]
    problems = []
    want = S.jac_derivatives(expr, point, list(result.derivatives), order)
    for name, d in result.derivatives.items():
        shown, expect = np.asarray(d.value, dtype=np.float64), np.asarray(want[name], dtype=np.float64)
        same = shown.shape == expect.shape and np.allclose(shown, expect, rtol=1e-7, atol=1e-12, equal_nan=True)
        if not same:
            problems.append((f"shown d/d{name} ({d.form}) is not jac eval's", S.how(shown, expect)))
    return problems


@pytest.mark.parametrize("expr, binds, point", SPECIAL, ids=[f"{e}-{b}" for e, b, _ in SPECIAL])
def test_special_points_show_jac_evals_value_or_refuse(expr, binds, point):
    assert special_point_problems(expr, binds, point) == []


@pytest.mark.parametrize("expr, binds, point", [c for c in SPECIAL if "n" not in "".join(c[1])][:8])
def test_special_points_second_order(expr, binds, point):
    assert special_point_problems(expr, binds, point, order=2) == []


# --- where forms differ in domain ----------------------------------------------------------------

SINGULAR = {"A": np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.5, -1.0, 2.0]])}


@pytest.mark.parametrize("expr, binding", [("det(A)", "A:nxn"), ("det(A) * trace(A)", "A:nxn"),
                                           ("sum(A) * det(A)", "A:nxn"), ("det(A)", "A:6x6")])
def test_det_matrix_form_at_a_singular_matrix_shows_jac_evals_value(expr, binding):
    """det(A)·A⁻ᵀ has no value at a singular A; det's derivative has one (the adjugate), which jac eval gives:
    the value shown is that one, with a note. It was a LinAlgError ("linear algebra failed: Singular matrix")."""
    from jacobi_cli.tools import api, symbolic

    a = SINGULAR["A"] if binding.endswith("n") else np.diag([0.0, 1, 2, 3, 4, 5])
    d = symbolic.differentiate(expr, [binding], at={"A": a}).derivatives["A"]
    assert d.form == "matrix"
    want = np.asarray(api.jacobian(expr, {"A": a})["A"])
    np.testing.assert_allclose(d.value, want, rtol=1e-12, atol=1e-12)
    # central differences (det is a polynomial): PyTorch 2.13's det backward gives 0 at a singular matrix
    h, central = 1e-5, np.empty(a.shape)
    for idx in np.ndindex(a.shape):
        e = np.zeros(a.shape)
        e[idx] = h
        central[idx] = (api.evaluate(expr, {"A": a + e}) - api.evaluate(expr, {"A": a - e})) / (2 * h)
    np.testing.assert_allclose(d.value, central, rtol=1e-6, atol=1e-6)
    assert np.any(d.value != 0) and "singular" in d.note and "automatic derivative" in d.note


@pytest.mark.parametrize("expr", ["trace(inv(A))", "x @ inv(A) @ x"])
def test_a_singular_matrix_that_the_output_inverts_is_a_value_error(expr):
    from jacobi_cli.errors import JacValueError
    from jacobi_cli.tools import symbolic

    with pytest.raises(JacValueError, match="inv"):
        symbolic.differentiate(expr, ["A:nxn", "x:n"], at={"A": SINGULAR["A"], "x": np.ones(3)})


@pytest.mark.parametrize("expr, at", [("norm(x)", {"x": np.zeros(3)}), ("sum(sqrt(x)) * norm(x)", {"x": np.zeros(3)}),
                                      ("norm(A @ x)", {"A": np.eye(3), "x": np.zeros(3)})])
def test_a_matrix_form_at_a_kink_warns_nothing(expr, at):
    """norm's x/‖x‖ at 0 is 0·inf: NumPy's RuntimeWarning went to jac diff's stderr as two lines of Python."""
    import warnings

    from jacobi_cli.tools import api, symbolic

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = symbolic.differentiate(expr, ["x:n", "A:nxn"][:len(at)], at=at)
    for name, d in r.derivatives.items():
        np.testing.assert_array_equal(d.value, api.jacobian(expr, at)[name])


@pytest.mark.parametrize("expr, at", [("log(x)", [0.0, 1, -1]), ("sqrt(x)", [0.0, 1, 4]), ("x ** 0.5", [0.0, 1, 4]),
                                      ("arcsin(x)", [1.0, -1, 0]), ("sqrt(x ** 2)", [0.0, 1, -4]),
                                      ("log(x) * 2 + x", [0.0, 1, 2])])
@pytest.mark.parametrize("order", [1, 2])
def test_the_value_shown_where_a_derivative_is_infinite_is_jac_evals(expr, at, order):
    """Where f'(x[0]) is infinite, the check at --at ran a dense pass (0·inf = NaN off the diagonal) and showed
    NaN in entries where the formula, jac eval and jac derivative all have 0 (log(x) at [0, 1, -1]: J[1, 0])."""
    from jacobi_cli.tools import api, symbolic

    point = {"x": np.array(at)}
    d = symbolic.differentiate(expr, ["x:3"], at=point, order=order).derivatives["x"]
    want = api.jacobian(expr, point)["x"] if order == 1 else api.derivative(expr, point, order)
    np.testing.assert_array_equal(d.value, want)
    off = ~np.eye(3, dtype=bool) if order == 1 else np.ones((3, 3, 3), dtype=bool)
    if order == 2:
        off[np.arange(3), np.arange(3), np.arange(3)] = False
    assert np.all(np.asarray(d.value)[off] == 0)


EVAL_SYMBOLIC = [
    ("torch.sin(x) * y", {"x": [0.3, -1.2, 2.0], "y": 1.5}),
    ("torch.sum(torch.tanh(A @ x))", {"A": [[0.3, -0.2], [0.5, 0.1]], "x": [0.7, -0.4]}),
    ("torch.softmax(x, 0) * y", {"x": [0.3, -1.2, 2.0], "y": [1.0, 2.0, -1.0]}),
    ("torch.det(A) + torch.trace(A @ A)", {"A": [[1.0, 0.5], [-0.3, 2.0]]}),
    ("torch.logsumexp(x, 0) - torch.linalg.norm(x)", {"x": [0.3, -1.2, 2.0]}),
    ("F.softplus(x) / (1 + x ** 2)", {"x": [0.3, -1.2, 2.0]}),
    ("torch.special.erfcx(x) * torch.special.i1(x)", {"x": [0.3, 1.2, 2.0]}),
    ("torch.cumprod(x, 0) @ torch.flip(x, [0])", {"x": [0.3, -1.2, 2.0]}),
]


@pytest.mark.parametrize("expr, point", EVAL_SYMBOLIC, ids=[e for e, _ in EVAL_SYMBOLIC])
def test_eval_symbolic_formulas_agree_with_pytorch(expr, point):
    point = {k: np.asarray(v, dtype=np.float64) for k, v in point.items()}
    assert S.compare_eval_symbolic(expr, point) == []


@pytest.mark.parametrize("expr, spec", [
    ("F.normalize(x, dim=0)", {"x": "3"}),
    ("F.normalize(A, dim=1)", {"A": "23"}),
    ("torch.clamp(x, 0.1, float('inf'))", {"x": "3"}),
    ("torch.clamp(x, -float('inf'), 0.5) * y", {"x": "3", "y": "3"}),
    ("torch.sum(torch.clamp(x, 0.1, float('inf')))", {"x": "n"}),
    ("F.hardtanh(x, -float('inf'), 0.5)", {"x": "3"}),
])
def test_a_clamp_with_an_infinite_bound_has_a_formula(expr, spec):
    """clip(x, lo, inf) was translated as Min(oo, Max(x, lo)), whose SymPy derivative is NaN: F.normalize's
    Jacobian printed as a matrix of nan formulas (the value at --at, autodiff's, with a note)."""
    import sympy as sp

    point = S.random_point(spec, np.random.default_rng(2), 0.2, 0.9)
    assert S.compare(expr, spec, point) == []
    for d in S.diff_raw(expr, spec, point)[0].derivatives.values():
        assert not d.note and not (d.expr.has(sp.nan) if isinstance(d.expr, sp.Basic) else False), d.expr


@pytest.mark.parametrize("expr", ["x + float('inf') - float('inf')", "torch.sum(x * 2 - float('inf') + float('inf'))"])
def test_a_formula_sympy_leaves_undefined_is_refused_not_printed(expr):
    """SymPy reads x + oo - oo as nan, whose derivative it gives as 0: jac diff printed J = 0 (jac eval's is the
    identity, as PyTorch's) and jac eval --symbolic printed those zeros beside jac's identity."""
    from jacobi_cli.errors import JacValueError
    from jacobi_cli.lang.parser import parse
    from jacobi_cli.tools import symbolic

    with pytest.raises(JacValueError, match="undefined"):
        symbolic.differentiate(expr, ["x:2"])
    output, formulas = symbolic.eval_formulas(parse(expr, {"x": (2,)}), ["x"])
    assert output is None and "undefined" in formulas["x"]


@pytest.mark.parametrize("k", range(6))
def test_random_compositions_of_the_fast_forms_agree_with_pytorch(k):
    """Compositions of 1-3 ops (products, inverses, solves, det, trace, softmax, norms, element-wise functions) at
    letters: the matrix and index forms against PyTorch (the sweep script runs 60 at letters and 60 at 3)."""
    expr, spec, wrt = S.composition_cases(6, seed=5)[k]
    _assert_agrees(expr, spec, wrt, 1, k)
