"""The index form of 3- and 4-axis symbolic Jacobians (``tools/indexform.py``) against autodiff.

Two checks per case: the form's numbers (``indexform.tensor``, what ``--at`` shows and what ``jac diff``
checks before showing a formula) against ``jacobi_cli.jacobian``, and the printed formula itself, one
entry at a time with SymPy, against the same Jacobian: a wrong sign, index order or missing term in
either fails here.
"""

import itertools
import json
import sys

import numpy as np
import pytest

from jacobi_cli.errors import JacLimitError
from jacobi_cli.lang.parser import parse
from jacobi_cli.tools import api, indexform, symbolic

# expression, input shapes with the letters n and m, the input differentiated
INDEX_FORMS = [
    ("inv(A)", {"A": "nn"}, "A"),
    ("solve(A, b)", {"A": "nn", "b": "n"}, "A"),
    ("solve(A, B)", {"A": "nn", "B": "nm"}, "A"),
    ("solve(A, B)", {"A": "nn", "B": "nm"}, "B"),
    ("cholesky(A)", {"A": "nn"}, "A"),
    ("A @ B @ C", {"A": "nm", "B": "mm", "C": "mn"}, "B"),
    ("A @ B @ C", {"A": "nm", "B": "mm", "C": "mn"}, "A"),
    ("A @ B @ C", {"A": "nm", "B": "mm", "C": "mn"}, "C"),
    ("tanh(A @ B)", {"A": "nm", "B": "mn"}, "B"),
    ("A.T @ inv(B) + 2 * A.T", {"A": "mn", "B": "mm"}, "A"),
    ("A @ x", {"A": "nm", "x": "m"}, "A"),
    ("x @ A", {"A": "nm", "x": "n"}, "A"),
    ("inv(A) @ b * 3 - b", {"A": "nn", "b": "n"}, "A"),
    ("A * B + exp(A)", {"A": "nm", "B": "nm"}, "A"),
    ("F.binary_cross_entropy(A, B, reduction='none')", {"A": "nm", "B": "nm"}, "A"),
    ("F.binary_cross_entropy(A, B, reduction='none')", {"A": "nm", "B": "nm"}, "B"),
    ("sin(inv(A)).T", {"A": "nn"}, "A"),
    ("hypot(A, b)", {"A": "nm", "b": "m"}, "A"),  # b broadcast as the rows of A
    ("hypot(A, b)", {"A": "nm", "b": "m"}, "b"),
    ("(A * x) @ B", {"A": "nm", "x": "m", "B": "mn"}, "x"),  # x broadcast as the rows, then a product
    ("maximum(x, y) * 2 - clip(x, y, 3 * y)", {"x": "n", "y": "n"}, "x"),  # 2-d: index form past the matrix forms
    ("einsum('ij,jk->ik', A, B)", {"A": "nm", "B": "mn"}, "A"),
    ("einsum('ij,kj->ki', A, B)", {"A": "nm", "B": "nm"}, "B"),
    ("einsum('ji,jk->ki', A, B) + B.T @ A", {"A": "nm", "B": "nn"}, "A"),
]
SIZES = [(2, 3), (3, 2), (4, 4)]


def _shapes(spec, n, m):
    return {name: tuple({"n": n, "m": m}[c] for c in dims) for name, dims in spec.items()}


def _point(shapes, rng, shift=True, symmetric=False):
    point = {}
    for name, shape in shapes.items():
        value = rng.uniform(0.1, 0.4, shape)  # bce reads probabilities
        if symmetric and len(shape) == 2 and shape[0] == shape[1]:  # cholesky refuses a matrix far from symmetric
            value = (value + value.T) / 2
        if shift and len(shape) == 2 and shape[0] == shape[1]:
            value = value + shape[0] * np.eye(shape[0])  # far from singular, positive definite
        point[name] = value
    return point


def _form(expr, shapes, wrt):
    graph = parse(expr, shapes).with_wrt([wrt])
    return graph, indexform.build(symbolic, graph, wrt)


@pytest.mark.parametrize("expr, spec, wrt", INDEX_FORMS)
@pytest.mark.parametrize("n, m", SIZES)
def test_index_form_numbers_match_autodiff(expr, spec, wrt, n, m):
    from jacobi_cli.engine import autodiff

    shapes = _shapes(spec, n, m)
    rng = np.random.default_rng(n * 10 + m)
    for _ in range(2):
        point = _point(shapes, rng, shift="binary_cross_entropy" not in expr, symmetric="cholesky" in expr)
        graph, form = _form(expr, shapes, wrt)
        got = indexform.tensor(form, autodiff.evaluate(graph, point), tuple(graph.output_shape), shapes[wrt])
        want = np.asarray(api.jacobian(expr, point, wrt=[wrt])[wrt])
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def _formula_values(d, point, where_values, sizes):
    """Every entry of the printed index formula, evaluated by SymPy at ``point``."""
    import sympy as sp

    mats = {}
    for name, value in {**point, **where_values}.items():
        value = np.asarray(value, dtype=np.float64)
        column = value.reshape(-1, 1) if value.ndim == 1 else value
        mats[name] = sp.ImmutableMatrix(column.tolist())
    expr = d.expr
    subs = {s: sizes[s.name] for s in expr.free_symbols if s.name in sizes}
    expr = expr.xreplace({s: sp.Integer(v) for s, v in subs.items()})
    expr = expr.replace(lambda e: isinstance(e, sp.MatrixSymbol) and e.name in mats,
                        lambda e: mats[e.name])
    from jacobi_cli.ir.shapes import legend_letters

    letters = legend_letters(d.shape, ())[:len(d.shape)]
    out = np.empty(d.shape)
    for idx in itertools.product(*[range(k) for k in d.shape]):
        e = expr.xreplace({sp.Symbol(c, integer=True): sp.Integer(v) for c, v in zip(letters, idx)})
        out[idx] = float(e.doit())
    return out


@pytest.mark.parametrize("expr, spec, wrt", INDEX_FORMS)
def test_printed_index_formula_matches_autodiff(expr, spec, wrt):
    """The formula as shown (symbolic sizes n, m), entry by entry, at n = 3, m = 2."""
    sizes = {"n": 3, "m": 2}
    concrete = "einsum" in expr  # einsum needs concrete sizes
    bindings = [f"{name}:{'x'.join(str(sizes[c]) if concrete else c for c in dims)}" for name, dims in spec.items()]
    shapes = _shapes(spec, 3, 2)
    if concrete:  # small concrete sizes are shown in components: ask for the index form itself
        graph = parse(expr, shapes).with_wrt([wrt])
        d = symbolic.with_deep_stack(lambda: symbolic._index_result(expr, graph, {}, wrt, None, {}))
    else:
        d = symbolic.differentiate(expr, bindings, wrt=[wrt]).derivatives[wrt]
    assert d.form == "index", d.note
    point = _point(shapes, np.random.default_rng(7), shift="binary_cross_entropy" not in expr,
                   symmetric="cholesky" in expr)
    where_values = {}
    for line in d.where:
        if line.startswith("L = cholesky("):
            a = point["A"]
            where_values["L"] = np.linalg.cholesky((a + a.T) / 2)
        elif line.startswith("W["):
            where_values["W"] = np.tril(np.ones((3, 3)), -1) + 0.5 * np.eye(3)
        else:
            pytest.fail(f"a name the test cannot evaluate: {line}")
    d.shape = tuple({"n": 3, "m": 2}.get(s, s) for s in d.shape)
    got = _formula_values(d, point, where_values, {"n": 3, "m": 2})
    want = np.asarray(api.jacobian(expr, point, wrt=[wrt])[wrt])
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    if d.differential is not None:  # dy = -A**(-1)*dA*A**(-1): each direction dX gives J·dX
        _check_differential(d, expr, spec, wrt, point, want, concrete)


def _check_differential(d, expr, spec, wrt, point, want, concrete):
    env = {}
    for name, dims in spec.items():
        value = point[name]
        shape = tuple({"n": 3, "m": 2}[c] if concrete else c for c in dims)
        env[symbolic.matrix_symbol(name, shape)] = value.reshape(-1, 1) if value.ndim == 1 else value
    env.update({symbolic.size_symbol("n"): 3, symbolic.size_symbol("m"): 2})
    x_shape = point[wrt].shape
    dx = [s for s in d.differential.atoms(symbolic._sp().MatrixSymbol) if s.name == f"d{wrt}"][0]
    for k in range(point[wrt].size):
        direction = np.zeros(point[wrt].size)
        direction[k] = 1.0
        env[dx] = direction.reshape(x_shape).reshape(-1, 1) if len(x_shape) == 1 else direction.reshape(x_shape)
        got = np.asarray(symbolic.numeric(d.differential, env), dtype=np.float64)
        column = want.reshape(-1, point[wrt].size)[:, k]
        np.testing.assert_allclose(got.ravel(), column, rtol=1e-9, atol=1e-12)


def test_differentials_are_shown_for_products():
    texts = {}
    for expr, bindings, wrt in [("inv(A)", ["A:nxn"], "A"), ("A @ B @ C", ["A:nxn", "B:nxn", "C:nxn"], "B"),
                                ("solve(A, B)", ["A:nxn", "B:nxm"], "A"), ("cholesky(A)", ["A:nxn"], "A")]:
        d = symbolic.differentiate(expr, bindings, wrt=[wrt]).derivatives[wrt]
        texts[expr] = None if d.differential is None else symbolic.text(d.differential)
    assert texts == {"inv(A)": "-A**(-1)*dA*A**(-1)", "A @ B @ C": "A*dB*C",
                     "solve(A, B)": "-A**(-1)*dA*A**(-1)*B", "cholesky(A)": None}  # W ∘ (...): no product


def test_a_wrong_differential_is_dropped(monkeypatch):
    real = indexform.differential
    monkeypatch.setattr(indexform, "differential", lambda S, form, name: -real(S, form, name))
    d = symbolic.differentiate("inv(A)", ["A:nxn"], wrt=["A"]).derivatives["A"]
    assert d.form == "index" and d.differential is None


def test_named_formulas():
    """What a reader sees for the classic cases."""
    text = {}
    for expr, bindings, wrt in [("inv(A)", ["A:nxn"], "A"), ("A @ B @ C", ["A:nxn", "B:nxn", "C:nxn"], "B"),
                                ("solve(A, b)", ["A:nxn", "b:n"], "A")]:
        text[expr] = symbolic.text(symbolic.differentiate(expr, bindings, wrt=[wrt]).derivatives[wrt].expr)
    assert text == {"inv(A)": "-(A**(-1))[i, k]*(A**(-1))[l, j]", "A @ B @ C": "A[i, k]*C[l, j]",
                    "solve(A, b)": "-(A**(-1)*b)[k]*(A**(-1))[i, j]"}


def test_a_wrong_form_is_never_shown(monkeypatch):
    """The check against autodiff refuses a form whose numbers are off (here: a flipped sign)."""
    real = indexform.build

    def wrong(S, graph, name):
        form = real(S, graph, name)
        form.terms = [indexform.replace(t, coef=-t.coef) for t in form.terms]
        return form

    monkeypatch.setattr(indexform, "build", wrong)
    with pytest.raises(symbolic.NoMatrixForm, match="does not match"):
        graph = parse("inv(A)", {"A": (4, 4)}).with_wrt(["A"])
        symbolic._index_result("inv(A)", graph, {"A": (4, 4)}, "A", None, {})
    d = symbolic.differentiate("inv(A)", ["A:3x3"], wrt=["A"]).derivatives["A"]  # falls back to components
    assert d.form == "components"


@pytest.mark.parametrize("expr, bindings, wrt", [
    ("inv(A)", ["A:10x10"], "A"),
    ("cholesky(A)", ["A:10x10"], "A"),
    ("solve(A, b)", ["A:10x10", "b:10"], "A"),
    ("solve(A, B)", ["A:10x10", "B:10x10"], "B"),
    ("A @ B @ C", ["A:10x10", "B:10x10", "C:10x10"], "B"),
    ("A @ (2 * eye(10) + 1) @ inv(A)", ["A:10x10"], "A"),  # a constant matrix: named C, listed under where
])
def test_big_concrete_sizes_get_the_index_form_and_at_values(expr, bindings, wrt):
    rng = np.random.default_rng(3)
    shapes = {b.split(":")[0]: tuple(int(k) for k in b.split(":")[1].split("x")) for b in bindings}
    point = _point(shapes, rng, symmetric="cholesky" in expr)
    at = {name: value for name, value in point.items()}
    result = symbolic.differentiate(expr, bindings, wrt=[wrt], at=at)
    d = result.derivatives[wrt]
    assert d.form == "index"
    assert "eye" not in expr or d.where == ["C = the constant of shape (10, 10) (3, 1, 1, ...)"]
    want = np.asarray(api.jacobian(expr, point, wrt=[wrt])[wrt])
    np.testing.assert_allclose(d.value, want, rtol=1e-9, atol=1e-12)


def test_cli_json_block(capsys):
    from jacobi_cli.cli import entry

    code = entry.main(["diff", "cholesky(A)", "A:nxn", "--json"])
    assert code in (0, None)
    data = json.loads(capsys.readouterr().out)
    block = data["derivative"]["A"]
    assert block["form"] == "index" and block["shape"] == ["n", "n", "n", "n"]
    assert block["where"] == ["L = cholesky(A)", "W[p, q] = 1 if p > q, 1/2 if p = q, 0 if p < q"]
    assert "Sum(" in block["expr"] and "L[i, m]" in block["expr"]


def test_cli_text(capsys):
    from jacobi_cli.cli import entry

    entry.main(["diff", "inv(A)", "A:10x10"])
    out = capsys.readouterr().out
    assert "index form (one entry)" in out and "J[i, j, k, l] = ∂y[i, j] / ∂A[k, l]" in out


def test_no_index_form_for_what_it_cannot_write():
    """A sum after a matrix-valued step, or cumsum: no index form (components or a refusal instead)."""
    with pytest.raises(symbolic.NoMatrixForm):
        _form("cumsum(A, 0)", {"A": (3, 3)}, "A")
    with pytest.raises(symbolic.NoMatrixForm):
        _form("tanh(tanh(A @ B) @ B)", {"A": (3, 3), "B": (3, 3)}, "B")  # f.(M (H ∘ dB)): no such term
    assert "sympy" in sys.modules
    with pytest.raises(JacLimitError):
        symbolic.differentiate("cumsum(A @ B, 0) @ inv(B)", ["A:10x10", "B:10x10"], wrt=["B"])


@pytest.mark.parametrize("g_shape", [(3, 4), (1, 4)])
def test_softmax_vjp_index_form(g_shape):
    """softmax's derivative rule (an op of traced gradients) by g and by s, against autodiff."""
    from jacobi_cli.engine import autodiff
    from jacobi_cli.ir.graph import Builder

    rng = np.random.default_rng(4)
    for wrt in ("g", "s"):
        b = Builder()
        graph = b.graph(b.apply("softmax_vjp", b.input("g", g_shape), b.input("s", (4,)), axis=0)).with_wrt([wrt])
        form = indexform.build(symbolic, graph, wrt)
        point = {"g": rng.normal(size=g_shape), "s": rng.uniform(0.1, 0.4, 4)}
        values = autodiff.evaluate(graph, point)
        want = autodiff.jacrev(graph, values)[wrt]
        got = indexform.tensor(form, values, g_shape, point[wrt].shape)
        np.testing.assert_allclose(got, np.asarray(want).reshape(got.shape), rtol=1e-10, atol=1e-12)


def test_long_linear_recurrences_are_refused_at_once():
    """linrec's components each hold every earlier step: past 24 steps a limit error, not minutes (where
    there is no index form: a recurrence along an axis of matrices; of vectors, tests/test_symbolic_index_ops.py)."""
    from jacobi_cli.ir.graph import Builder

    b = Builder()
    graph = b.graph(b.apply("linrec", b.input("a", (100, 2)), b.input("b", (100, 2)), axis=-2))
    with pytest.raises(JacLimitError, match="linear recurrence of 100 steps"):
        symbolic.differentiate_graph(graph.with_wrt(["a", "b"]), ["a", "b"])


def test_einsum_has_a_matrix_form_only_as_a_product():
    assert symbolic.matmul_like("ij,jk->ik") == (False, False, False)
    assert symbolic.matmul_like("ji,kj->ki") == (True, True, True)  # (Aᵀ Bᵀ)ᵀ
    assert symbolic.matmul_like("ji,kj->ik") == (True, True, False)
    assert symbolic.matmul_like("ij,jk->ki") == (False, False, True)
    assert symbolic.matmul_like("ij,ij->ij") is None and symbolic.matmul_like("ii,ij->ij") is None
    assert symbolic.matmul_like("ij,jk->i") is None and symbolic.matmul_like("ij,j->i") is None


def test_svd_inv_is_element_wise_in_both_forms():
    """1/s (svd's inverted singular values): both hand-kept lists of ops that are not element-wise named it,
    so neither form had a rule; ``Op.elementwise`` says what it is, and both forms answer, checked here."""
    from jacobi_cli.engine import autodiff
    from jacobi_cli.ir.graph import Builder
    from jacobi_cli.tools import matrixcalc

    rng = np.random.default_rng(6)
    for op_shape, total in (((4,), True), ((3, 3), False)):
        b = Builder()
        s = b.input("s", op_shape)
        out = b.apply("svd_inv", s)
        graph = b.graph(b.apply("sum", out, axes=tuple(range(len(op_shape)))) if total else out).with_wrt(["s"])
        point = {"s": rng.uniform(0.5, 2.0, op_shape)}
        values = autodiff.evaluate(graph, point)
        want = np.asarray(autodiff.jacrev(graph, values)["s"])
        if total:  # the gradient -1/s² in matrix form
            sym, leaves = symbolic.translate(graph, as_components=False)
            d = matrixcalc.derivative(symbolic, graph, sym, leaves, "s")
            got = symbolic.evaluate_matrix_form(d, leaves, point, {}, op_shape)
        else:  # a matrix by a matrix: the index form
            form = indexform.build(symbolic, graph, "s")
            got = indexform.tensor(form, values, op_shape, op_shape)
        np.testing.assert_allclose(got, want.reshape(got.shape), rtol=1e-12, atol=1e-14)
