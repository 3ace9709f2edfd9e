"""The fast symbolic forms (issue 16 item 5) against the interpreter's Jacobian.

jac's own matrix calculus (``tools/matrixcalc.py``) is evaluated at random points and several sizes and
compared with ``jacobi_cli.jacobian``; where the component formulas exist too (small sizes), the two must
agree with each other as well. The commands' choice of form at big concrete sizes is checked the same way.
"""

import numpy as np
import pytest

from jacobi_cli.errors import JacLimitError
from jacobi_cli.lang.parser import parse
from jacobi_cli.tools import api, matrixcalc, symbolic

# expression, input shapes with the letter n (and m), the input differentiated
FORMS = [
    ("det(A)", {"A": "nn"}, "A"),
    ("log(det(A))", {"A": "nn"}, "A"),
    ("det(A) * x @ x", {"A": "nn", "x": "n"}, "x"),
    ("sum(inv(A))", {"A": "nn"}, "A"),
    ("x @ inv(A) @ x", {"A": "nn", "x": "n"}, "A"),
    ("solve(A, b)", {"A": "nn", "b": "n"}, "b"),
    ("solve(A, b) @ b", {"A": "nn", "b": "n"}, "A"),
    ("softmax(x)", {"x": "n"}, "x"),
    ("softmax(A @ x)", {"A": "nn", "x": "n"}, "x"),
    ("logsumexp(x)", {"x": "n"}, "x"),
    ("norm(x)", {"x": "n"}, "x"),
    ("norm(x, 3)", {"x": "n"}, "x"),
    ("x / norm(x, 1.5)", {"x": "n"}, "x"),
    ("sum(tanh(A @ x))", {"A": "mn", "x": "n"}, "A"),
    ("sum(tanh(A @ x))", {"A": "mn", "x": "n"}, "x"),
    ("tanh(A @ x)", {"A": "mn", "x": "n"}, "x"),
    ("x @ A @ x", {"A": "nn", "x": "n"}, "A"),
    ("trace(A @ B @ A)", {"A": "nn", "B": "nn"}, "A"),
    ("sin(x) * y + x / (1 + x @ x)", {"x": "n", "y": "n"}, "x"),
    ("x * sum(x) - 2 * x ** 3", {"x": "n"}, "x"),
    ("sum(sigmoid(x) ** 2) / mean(exp(x))", {"x": "n"}, "x"),
    ("exp(x) / sum(exp(x))", {"x": "n"}, "x"),
    ("log(softmax(x))", {"x": "n"}, "x"),
    ("sum(A * B) + trace(A.T @ B)", {"A": "nm", "B": "nm"}, "A"),
    ("max(x)", {"x": "n"}, "x"),  # the indicator of the largest element (random points have no ties)
    ("min(A) * 2 + sum(A)", {"A": "nm"}, "A"),
    ("sum(tanh(A @ x)) + max(A)", {"A": "mn", "x": "n"}, "A"),
    ("x @ x - max(-x)", {"x": "n"}, "x"),
    # functions NumPy lacks: the forms are evaluated with mpmath's (they were refused as not evaluable)
    ("sum(gelu(A @ x))", {"A": "mn", "x": "n"}, "A"),
    ("erf(x) * log_ndtr(x)", {"x": "n"}, "x"),
    ("sum(digamma(exp(x)) + erfinv(x / 2))", {"x": "n"}, "x"),
    # element-wise ops of a matrix and scalars (they had no matrix-calculus rule: one argument only)
    ("sum(maximum(x, 0.5) * x)", {"x": "n"}, "x"),
    ("clip(A @ x, -0.5, 0.5)", {"A": "mn", "x": "n"}, "x"),
    ("sum(fmin(A, 0.3) ** 2)", {"A": "nm"}, "A"),
]
SIZES = [(2, 3), (4, 2), (7, 5)]  # (n, m): past 5, det and inv are never expanded into components


def _shapes(spec, n, m):
    return {name: tuple({"n": n, "m": m}[c] for c in dims) for name, dims in spec.items()}


def _point(shapes, rng):
    point = {}
    for name, shape in shapes.items():
        value = rng.uniform(-0.8, 0.8, shape)
        if len(shape) == 2 and shape[0] == shape[1]:
            value = value + shape[0] * np.eye(shape[0])  # far from singular
        point[name] = value
    return point


def _matrixcalc_value(expr, shapes, wrt, point):
    graph = parse(expr, shapes).with_wrt([wrt])
    values, leaves = symbolic.translate(graph, as_components=False)
    d = matrixcalc.derivative(symbolic, graph, values, leaves, wrt)
    shape = tuple(graph.output_shape) + shapes[wrt]
    return symbolic.evaluate_matrix_form(d, leaves, point, {}, shape)


@pytest.mark.parametrize("expr,spec,wrt", FORMS, ids=[f"{f[0]}-{f[2]}" for f in FORMS])
@pytest.mark.parametrize("n,m", SIZES)
def test_matrix_calculus_agrees_with_the_interpreter(expr, spec, wrt, n, m):
    shapes = _shapes(spec, n, m)
    rng = np.random.default_rng(n * 10 + m)
    for _ in range(2):
        point = _point(shapes, rng)
        numeric = api.jacobian(expr, point, wrt=[wrt])[wrt]
        np.testing.assert_allclose(_matrixcalc_value(expr, shapes, wrt, point), numeric, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("expr,spec,wrt", FORMS, ids=[f"{f[0]}-{f[2]}" for f in FORMS])
def test_matrix_calculus_and_components_agree_where_both_exist(expr, spec, wrt):
    shapes = _shapes(spec, 3, 2)
    point = _point(shapes, np.random.default_rng(5))
    graph = parse(expr, shapes).with_wrt([wrt])
    values, leaves = symbolic.translate(graph, as_components=True)
    formulas = symbolic.jacobian_components(graph, [wrt], values, leaves)[wrt]
    components = symbolic.evaluate_components(formulas, leaves, point)
    np.testing.assert_allclose(_matrixcalc_value(expr, shapes, wrt, point), components, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("expr,spec,wrt", FORMS, ids=[f"{f[0]}-{f[2]}" for f in FORMS])
def test_the_symbolic_size_form_evaluated_at_values_agrees(expr, spec, wrt):
    """``jac diff EXPR x:n ... --at``: whichever form it shows, its value is the interpreter's."""
    bindings = [f"{name}:{'x'.join(dims)}" for name, dims in spec.items()]
    shapes = _shapes(spec, 6, 4)
    point = _point(shapes, np.random.default_rng(3))
    d = api.diff(expr, bindings, wrt=[wrt], at=point)[wrt]
    assert d.form == "matrix", d.note
    np.testing.assert_allclose(d.value, api.jacobian(expr, point, wrt=[wrt])[wrt], rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("expr,bindings,wrt,text", [
    ("det(A)", ["A:10x10"], "A", "Determinant(A)*A.T**(-1)"),
    ("det(A)", ["A:6x6"], "A", "Determinant(A)*A.T**(-1)"),
    ("softmax(x)", ["x:100"], "x", None),
    ("logsumexp(x)", ["x:100"], "x", "1/Trace(ones(1, 100)*exp.(x))*exp.(x)"),
    ("sin(x)", ["x:100"], "x", None),
    ("solve(A, b)", ["A:10x10", "b:10"], "b", "A**(-1)"),
])
def test_big_concrete_sizes_get_the_matrix_form_and_its_value_is_right(expr, bindings, wrt, text):
    rng = np.random.default_rng(2)
    shapes = {b.split(":")[0]: tuple(int(d) for d in b.split(":")[1].split("x")) for b in bindings}
    point = _point(shapes, rng)
    d = api.diff(expr, bindings, wrt=[wrt])[wrt]
    assert d.form == "matrix" and d.shape == tuple(api.jacobian(expr, point, wrt=[wrt])[wrt].shape)
    assert text is None or symbolic.text(d.expr) == text
    valued = api.diff(expr, wrt=[wrt], at=point)[wrt]  # free names, concrete values: the same form
    assert valued.form == "matrix"
    np.testing.assert_allclose(valued.value, api.jacobian(expr, point, wrt=[wrt])[wrt], rtol=1e-9, atol=1e-11)


def test_small_concrete_sizes_keep_their_components():
    d = api.diff("det(A)", ["A:2x2"])["A"]
    assert d.form == "components" and symbolic.entries(d.expr) == [["A[1, 1]", "-A[1, 0]"], ["-A[0, 1]", "A[0, 0]"]]


def test_det_and_inv_of_big_matrices_of_symbols_are_refused_not_expanded():
    with pytest.raises(JacLimitError, match="inv of a 6×6 matrix of symbols has too many terms"):
        api.diff("cumsum(inv(A), 0)", ["A:6x6"])  # 4-d: no matrix or index form, and never 6! terms per entry
    assert api.diff("inv(A)", ["A:6x6"])["A"].form == "index"  # -(A**(-1))[i, k]*(A**(-1))[l, j]
    problem = api.prepare("det(A)", {"A": np.eye(6) + 0.1})
    y, formulas = symbolic.eval_formulas(problem.graph, ["A"])
    assert y is None and "det of a 6×6 matrix of symbols" in formulas["A"]


def test_numeric_evaluation_of_matrix_forms_matches_sympys_explicit_one():
    sp = symbolic._sp()
    n = 3
    A, x = sp.MatrixSymbol("A", n, n), sp.MatrixSymbol("x", n, 1)
    rng = np.random.default_rng(0)
    av, xv = rng.uniform(0.1, 1, (n, n)) + np.eye(n), rng.uniform(0.1, 1, (n, 1))
    for e in [sp.Determinant(A) * sp.Inverse(A).T, (A.T ** -2) * x, sp.DiagMatrix(x) * A + 2 * sp.Identity(n),
              sp.HadamardProduct(A, A.T) * sp.OneMatrix(n, 1), symbolic._apply(sp.tanh, A * x),
              sp.log(sp.Trace(x.T * A * x)) * x]:
        explicit = e.subs({A: sp.ImmutableMatrix(av), x: sp.ImmutableMatrix(xv)}).doit()
        want = np.array(sp.Matrix(explicit).evalf(), dtype=np.float64)
        np.testing.assert_allclose(symbolic.numeric(e, {A: av, x: xv}), want, rtol=1e-12)


def test_array_text_is_sympys_and_each_entry_is_printed():
    sp = symbolic._sp()
    x = sp.Symbol("x[0]")
    printer = symbolic._printers()[0]
    for arr in [sp.ImmutableDenseNDimArray([[1, x], [sp.sin(x), 0]], (2, 2)),
                sp.ImmutableDenseNDimArray(list(range(8)), (2, 2, 2)), sp.ImmutableDenseNDimArray([x], (1, 1))]:
        assert symbolic.text(arr) == printer.doprint(arr)
    big = sp.ImmutableDenseNDimArray([sp.cos(x) if i % 12 == 0 else 0 for i in range(121)], (11, 11))
    lines, nonzero = symbolic.listed(big)
    assert not symbolic.drawn(big) and nonzero == 11 and lines[1] == "[1, 1] = cos(x[0])"


def test_nested_deep_stack_calls_run_on_the_same_thread():
    import threading

    from jacobi_cli.lang.deep import with_deep_stack

    outer = with_deep_stack(lambda: (threading.get_ident(), with_deep_stack(threading.get_ident)))
    assert outer[0] == outer[1] != threading.get_ident()


def test_the_at_line_shows_the_start_of_a_big_value_and_the_matrix_form_its_value():
    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app

    result = CliRunner().invoke(app, ["diff", "x @ A @ x", "x:n", "A:nxn", "--wrt", "x", "--at", "x=ones(300)",
                                      "--at", "A=2 * eye(300)"])
    assert result.exit_code == 0, result.output
    assert "at x = [1. 1. 1." in result.output and "..., A = [[2. 0. 0." in result.output
    assert "∂y/∂x: scalar by vector, matrix form, shape (n,)" in result.output
    import json

    data = json.loads(CliRunner().invoke(app, ["diff", "x @ A @ x", "x:n", "A:nxn", "--wrt", "x", "--at", "x=ones(300)",
                                               "--at", "A=2 * eye(300)", "--json"]).stdout)
    assert data["derivative"]["x"]["form"] == "matrix" and data["derivative"]["x"]["value"] == [4.0] * 300


def test_a_big_jacobian_of_components_is_listed_by_its_nonzero_entries():
    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app

    out = CliRunner().invoke(app, ["diff", "x[::-1] * x", "x:12"]).output
    assert "144 entries, 24 nonzero" in out and "  J[0, 11] = x[0]" in out and "⎡" not in out
    small = CliRunner().invoke(app, ["diff", "x[::-1] * x", "x:3"]).output
    assert "⎡" in small  # 9 entries: drawn


@pytest.mark.parametrize("expr,binding", [("min(x) + max(x)", "x:4"), ("det(A)", "A:6x6"), ("softmax(x)", "x:12")])
def test_results_come_back_from_the_timed_child_process(expr, binding):
    """``jac diff`` computes in a forked child (``--timeout``) and pickles the formulas back: the
    forms and functions made here (max, min, matrix forms) must survive that."""
    import json

    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app

    result = CliRunner().invoke(app, ["diff", expr, binding, "--timeout", "60", "--json"])
    assert result.exit_code == 0, result.output
    (block,) = json.loads(result.stdout)["derivative"].values()
    assert block["expr"] and "error" not in result.stdout


# --- the value at --at is jac's derivative there, never another number ---------------------------

@pytest.mark.parametrize("expr, shapes, point", [
    ("max(x)", {"x": "x:4"}, {"x": [1.0, 1.0, 1.0, 0.0]}),  # θ(x[i] - max(others)) is 1/2 at each of three ties
    ("max(x)", {"x": "x:100"}, {"x": np.ones(100)}),  # the matrix form θ.(x - max(x)): 1 at each of 100
    ("max(A)", {"A": "A:3x3"}, {"A": [[1.0, 1.0, 1.0], [0, 0, 0], [0, 0, 0]]}),
])
def test_a_formula_that_does_not_hold_at_the_point_shows_autodiffs_value(expr, shapes, point):
    at = [f"{k}={np.asarray(v).tolist()}" for k, v in point.items()]
    result = symbolic.differentiate(expr, list(shapes.values()), at=at)
    name = next(iter(point))
    d = result.derivatives[name]
    want = api.jacobian(expr, {k: np.asarray(v, float) for k, v in point.items()})[name]
    np.testing.assert_array_equal(np.asarray(d.value).reshape(want.shape), want)
    assert "does not hold at this point" in d.note


def test_a_formula_that_holds_keeps_its_value_and_no_note():
    result = symbolic.differentiate("max(x)", ["x:4"], at=["x=[1, 3, 2, 0]"])
    d = result.derivatives["x"]
    np.testing.assert_array_equal(d.value, [0.0, 1.0, 0.0, 0.0])
    assert not d.note


def test_the_checked_value_reaches_the_json_and_fits_its_schema():
    import json

    import jsonschema
    from typer.testing import CliRunner

    from jacobi_cli.cli import schema
    from jacobi_cli.cli.app import app

    out = CliRunner().invoke(app, ["diff", "max(x)", "x:4", "--at", "x=[2, 2, 2, 0]", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    jsonschema.Draft202012Validator(schema.load("diff")).validate(data)
    block = data["derivative"]["x"]
    assert block["value"] == pytest.approx([1 / 3, 1 / 3, 1 / 3, 0.0])
    assert "does not hold at this point" in block["note"]


def test_differentiate_graph_checks_its_point_too():
    graph = parse("max(x)", {"x": (4,)}).with_wrt(["x"])
    point = {"x": np.array([2.0, 2.0, 2.0, 0.0])}
    d = symbolic.differentiate_graph(graph, ["x"], point).derivatives["x"]
    np.testing.assert_array_equal(np.asarray(d.value).reshape(4), api.jacobian("max(x)", point)["x"])
    assert "does not hold at this point" in d.note
