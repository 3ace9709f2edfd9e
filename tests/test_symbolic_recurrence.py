"""linrec's index form: dz[t]/db[s] = a[s+1]···a[t] (s ≤ t), dz[t]/da[s] = that times z[s-1], checked
entry by entry as printed and as NumPy evaluates it, against autodiff."""

import itertools

import numpy as np
import pytest

from jacobi_cli.engine import autodiff
from jacobi_cli.ir.graph import Builder
from jacobi_cli.tools import indexform, symbolic


def _graph(n, reverse, compose=None):
    b = Builder()
    a, x = b.input("a", (n,)), b.input("b", (n,))
    out = b.apply("linrec", a, x if compose != "mixed" else b.apply("mul", x, a), axis=-1, reverse=reverse)
    if compose == "tanh":
        out = b.apply("tanh", out)
    return b.graph(out).with_wrt(["a", "b"])


def _point(n, seed, zero=False):
    rng = np.random.default_rng(seed)
    point = {"a": rng.uniform(-1.5, 1.5, n), "b": rng.uniform(-2, 2, n)}
    if zero:
        point["a"][n // 2] = 0.0  # the running products must be exact through a zero
    return point


def _printed_entries(d, point, z):
    """Every entry of the printed formula, evaluated by SymPy: the indices set, the products done."""
    import sympy as sp

    mats = {name: sp.ImmutableMatrix(np.asarray(v, dtype=np.float64).reshape(-1, 1).tolist())
            for name, v in {**point, "z": z}.items()}
    expr = d.expr.replace(lambda e: isinstance(e, sp.MatrixSymbol) and e.name in mats, lambda e: mats[e.name])
    out = np.empty(d.shape)
    for i, j in itertools.product(range(d.shape[0]), range(d.shape[1])):
        e = expr.xreplace({sp.Symbol("i", integer=True): sp.Integer(i), sp.Symbol("j", integer=True): sp.Integer(j)})
        out[i, j] = float(e.doit())
    return out


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("wrt", ["a", "b"])
@pytest.mark.parametrize("zero", [False, True])
def test_the_printed_formula_is_the_jacobian(reverse, wrt, zero):
    """At n = 7 (components would be preferred: the index form is asked for), entry by entry."""
    n = 7
    graph = _graph(n, reverse)
    d = symbolic.with_deep_stack(lambda: symbolic._index_result("", graph, {}, wrt, None, {}))
    assert d.form == "index"
    point = _point(n, 3 + reverse, zero)
    values = autodiff.evaluate(graph, point)
    want = autodiff.jacrev(graph, values)[wrt]
    np.testing.assert_allclose(_printed_entries(d, point, values[graph.output]), want, rtol=1e-12, atol=1e-14)
    assert any(line.startswith("z = linrec(a, b") for line in d.where) == (wrt == "a")


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("compose", [None, "tanh", "mixed"])
@pytest.mark.parametrize("zero", [False, True])
def test_the_numbers_match_autodiff_at_100_steps(reverse, compose, zero):
    """At n = 100 (what was refused: components of 100 nested steps), through an element-wise op after
    it and with a in both arguments: the index form is shown, and its value at --at is autodiff's."""
    n = 100
    graph = _graph(n, reverse, compose)
    point = _point(n, 5, zero)
    result = symbolic.differentiate_graph(graph, ["a", "b"], point)
    values = autodiff.evaluate(graph, point)
    want = autodiff.jacrev(graph, values)
    for name, d in result.derivatives.items():
        assert d.form == "index" and d.note is None, d.note
        np.testing.assert_allclose(d.value, want[name], rtol=1e-10, atol=1e-300)
        form = indexform.build(symbolic, graph, name)  # and the tensor itself, without the check around it
        got = indexform.tensor(form, values, (n,), (n,))
        np.testing.assert_allclose(got, want[name], rtol=1e-10, atol=1e-300)
    assert symbolic.text(result.output) in ("z", "tanh.(z)", "v1")


def test_a_wrong_transfer_matrix_is_not_shown(monkeypatch):
    """The check refuses a form whose numbers are off (the products one step too long): components, or
    past 24 steps the limit error, instead."""
    real = indexform._transfer
    monkeypatch.setattr(indexform, "_transfer", lambda a, reverse: real(a, reverse) @ np.diag(a))
    graph = _graph(7, False)
    with pytest.raises(symbolic.NoMatrixForm, match="does not match"):
        symbolic._index_result("", graph, {}, "b", None, {})
    with pytest.raises(symbolic.JacLimitError, match="linear recurrence of 30 steps"):
        symbolic.differentiate_graph(_graph(30, False), ["b"])


def test_the_differential_names_the_transfer_matrices():
    d = symbolic.differentiate_graph(_graph(30, False), ["a", "b"]).derivatives
    assert symbolic.text(d["b"].differential) == "T*db"
    assert [line.split(" = ")[0] for line in d["b"].where] == ["T[p, q]"]
    assert symbolic.text(d["a"].expr) == \
        "Piecewise((z[j - 1]*Product(a[m], (m, j + 1, i)), (i >= j) & (j >= 1)), (0, True))"


def test_a_recurrence_along_a_matrix_axis_keeps_the_refusal():
    """linrec of matrices (a transfer matrix per column) has no index form: past 24 steps, the limit error."""
    b = Builder()
    graph = b.graph(b.apply("linrec", b.input("a", (30, 2)), b.input("b", (30, 2)), axis=-2)).with_wrt(["a"])
    with pytest.raises(symbolic.JacLimitError, match="linear recurrence of 30 steps"):
        symbolic.differentiate_graph(graph, ["a"])
