"""jac diff's shared work: one check point per call, and the shortcuts that must give SymPy's own answers."""

import itertools

import numpy as np
import pytest

from jacobi_cli.engine import autodiff
from jacobi_cli.tools import symbolic


@pytest.mark.parametrize("text, bindings, at", [
    ("inv(A) @ B", ["A:nxn", "B:nxn"], None),  # index form for A and for B
    ("x.T @ A @ x", ["x:n", "A:nxn"], None),  # matrix forms (SymPy's is checked, then matrixcalc's)
    ("solve(A, b)", ["A:nxn", "b:n"], ["A=eye(3) * 2", "b=[1, 2, 3]"]),
])
def test_autodiff_runs_once_per_input_and_the_graph_once(monkeypatch, text, bindings, at):
    """Every candidate form of every input is checked against one Jacobian per input at one point: jacrev
    once per input, the expression's graph evaluated once for the check and once at --at (the traced
    derivative graphs that check the values at --at are others)."""
    calls, graphs = {"jacrev": 0}, []
    jacrev, evaluate = autodiff.jacrev, autodiff.evaluate

    def counted_jacrev(*args, **kwargs):
        calls["jacrev"] += 1
        return jacrev(*args, **kwargs)

    def counted_evaluate(graph, *args, **kwargs):
        graphs.append(len(graph.nodes))
        return evaluate(graph, *args, **kwargs)

    monkeypatch.setattr(autodiff, "jacrev", counted_jacrev)
    monkeypatch.setattr(autodiff, "evaluate", counted_evaluate)
    result = symbolic.differentiate(text, bindings, at=at)
    assert all(d.form in ("matrix", "index") for d in result.derivatives.values())
    assert calls["jacrev"] == len(result.derivatives)
    assert graphs.count(len(result.graph.nodes)) == 1 + (at is not None)


def test_a_check_point_is_made_per_call_not_kept():
    """Two calls with other sizes do not share a point (no module state): each answer is checked at its own."""
    a = symbolic.differentiate("x.T @ A @ x", ["x:n", "A:nxn"]).derivatives["x"]
    b = symbolic.differentiate("x.T @ A @ x", ["x:3", "A:3x3"]).derivatives["x"]
    assert (a.form, b.form) == ("matrix", "components")


def _products():
    sp = symbolic._sp()
    x = sp.symbols("x0:4", real=True)
    factors = [x[0], x[1], sp.sin(x[2]), x[3] ** 2, sp.exp(x[0] * x[1]), sp.Integer(3), sp.Rational(1, 2),
               sp.Abs(x[2]) ** -1, x[1] + 1, 2 * x[3] + x[0], sp.Heaviside(x[2] - x[3])]
    for k in (2, 3, 4):
        for combo in itertools.combinations(factors, k):
            yield sp.Mul(*combo)


def test_the_product_shortcut_gives_sympys_own_derivative():
    """_diff of a product with one factor holding the symbol is exactly what y.diff(s) builds (the same
    tree, not only an equal value), and where several hold it, SymPy's own."""
    checked = 0
    for y in _products():
        for s in sorted(y.free_symbols, key=str):
            assert symbolic._diff(symbolic._sp(), y, s) == y.diff(s), (y, s)
            checked += 1
    assert checked > 500


def test_the_latex_of_an_array_is_sympys_own():
    """latex() reads an array's entries from one object array; the text is what SymPy's printer writes
    (indexing the array itself), for arrays of 1 to 4 axes."""
    from sympy.printing.latex import LatexPrinter

    sp = symbolic._sp()
    x = sp.symbols("x0:6", real=True)
    for shape in ((3,), (2, 3), (2, 1, 3), (1, 2, 3, 1), (12, 1)):
        entries = [sp.sin(x[k % 6]) * x[(k + 1) % 6] ** k for k in range(int(np.prod(shape)))]
        arr = sp.ImmutableDenseNDimArray(entries, shape)
        printer = type(symbolic._printers()[2])()
        assert symbolic.latex(arr) == LatexPrinter._print_NDimArray(printer, arr)
