"""Index forms of single ops: linrec (dz[t]/db[s] = a[s+1]···a[t], s ≤ t; dz[t]/da[s] that times z[s-1]), sort and
topk (a permutation), eig_gaps; each checked entry by entry as printed and as NumPy evaluates it, against autodiff."""

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


# --- sort, topk: the permutation P[i, j] = δ(j, sigma[i]), sigma = argsort(x) ------------------------------

def _sort_entries(d, sigma):
    import sympy as sp

    expr = d.expr.replace(lambda e: isinstance(e, sp.MatrixSymbol) and e.name == "sigma",
                          lambda e: sp.ImmutableMatrix(np.asarray(sigma, dtype=np.float64).reshape(-1, 1).tolist()))
    out = np.empty(d.shape)
    for i, j in itertools.product(range(d.shape[0]), range(d.shape[1])):
        e = expr.xreplace({sp.Symbol("i", integer=True): sp.Integer(i), sp.Symbol("j", integer=True): sp.Integer(j)})
        out[i, j] = float(e.doit())
    return out


@pytest.mark.parametrize("text, binding", [("sort(x)", "x:n"), ("torch.sort(x, descending=True).values", "x:n"),
                                           ("topk(x, 3).values", "x:n"), ("sort(x)", "x:6"), ("sort(x) * x", "x:n"),
                                           ("np.sort(x)", "x:100")])
@pytest.mark.parametrize("ties", [False, True])
def test_sort_is_a_permutation_as_printed_and_at_values(text, binding, ties):
    """The printed entry (with sigma's value put in) and the value at --at are autodiff's Jacobian, ties
    included (the stable order jac eval and PyTorch use)."""
    from jacobi_cli.tools import api

    n = int(binding[2:]) if binding[2:].isdigit() else 6
    x = np.random.default_rng(n).uniform(-2, 2, n)
    if ties:
        x[1] = x[4] = x[2]
    d = symbolic.differentiate(text, [binding], at={"x": x}).derivatives["x"]
    want = np.asarray(api.jacobian(text, {"x": x}, wrt=["x"])["x"])
    assert d.form == "index" and d.note is None, d.note
    np.testing.assert_array_equal(d.value, want)
    if "*" not in text:
        graph = api.prepare(text, {"x": x}).graph
        sigma = autodiff.evaluate(graph, {"x": x})[next(n.id for n in graph.nodes if n.op == "argsort")]
        d.shape = want.shape
        np.testing.assert_array_equal(_sort_entries(d, sigma), want)
        assert symbolic.text(d.expr) == "KroneckerDelta(j, sigma[i])"
        assert any(line.startswith("sigma = argsort(x") for line in d.where)


def test_a_sorted_output_is_defined_under_it():
    """The output of a sort has no formula, only a name: jac diff defines it under the output too, as x read in
    sigma's order, and sigma beside it."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "jacobi_cli", "diff", "torch.topk(x, 2).values", "x:4"],
                         capture_output=True, text=True, check=True).stdout
    value = out.split("∂y/∂x")[0]
    assert "where v1[i] = x[sigma[i]]" in value and "where sigma = argsort(x, axis=0, descending=True, k=2, kind='torch-topk')" in value
    assert "take_along" not in out


def test_a_wrong_permutation_is_not_shown(monkeypatch):
    """The check refuses P read backwards: the refusal then (sort has no components)."""
    real = indexform._take_along

    def backwards(S, node, ts, values, shapes):
        def flipped(f):
            return indexform.Factor(f.sym, lambda v: f.num(v)[::-1], f.entry)
        return [indexform.replace(t, P=(flipped(t.P[0]),) + t.P[1:]) for t in real(S, node, ts, values, shapes)]

    monkeypatch.setattr(indexform, "_take_along", backwards)
    with pytest.raises(symbolic.JacValueError, match="picks elements by the order of their values"):
        symbolic.differentiate("sort(x)", ["x:5"])


@pytest.mark.parametrize("text, binding", [("sort(A, axis=0)", "A:nxn"), ("max(A, axis=1).values", "A:3x3")])
def test_other_selections_are_refused_saying_why(text, binding):
    with pytest.raises(symbolic.JacValueError, match=r"order of their values.*jac eval differentiates it numerically"):
        symbolic.differentiate(text, [binding])


# --- eig_gaps: F[i, j] = 1/(w[j] - w[i]) off the diagonal; dF[i, j]/dw[k] = F[i, j]²·(δ(i, k) - δ(j, k)) ------------

def _gaps_graph(n):
    b = Builder()
    return b.graph(b.apply("eig_gaps", b.input("w", (n,)))).with_wrt(["w"])


def test_eig_gaps_printed_formula_is_the_jacobian():
    import sympy as sp

    n = 5
    graph = _gaps_graph(n)
    d = symbolic.with_deep_stack(lambda: symbolic._index_result("", graph, {}, "w", None, {}))
    assert d.form == "index" and d.where == ["F = eig_gaps(w)"]
    point = {"w": np.array([0.3, -1.2, 2.0, 0.7, 1.1])}
    values = autodiff.evaluate(graph, point)
    want = autodiff.jacrev(graph, values)["w"]
    f = sp.ImmutableMatrix(values[graph.output].tolist())
    expr = d.expr.replace(lambda e: isinstance(e, sp.MatrixSymbol) and e.name == "F", lambda e: f)
    letters = [sp.Symbol(c, integer=True) for c in "ijk"]
    got = np.empty(d.shape)
    for idx in itertools.product(range(n), repeat=3):
        got[idx] = float(expr.xreplace(dict(zip(letters, map(sp.Integer, idx)))).doit())
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_eig_gaps_of_100_has_its_index_form_and_values():
    """Refused before (10,000 elements in components); the value at a point is autodiff's."""
    graph = _gaps_graph(100)
    point = {"w": np.arange(100) * 0.37 + np.sin(np.arange(100))}
    result = symbolic.differentiate_graph(graph, ["w"], point)
    d = result.derivatives["w"]
    assert d.form == "index" and d.note is None and symbolic.text(result.output) == "F"
    values = autodiff.evaluate(graph, point)
    np.testing.assert_allclose(d.value, autodiff.jacrev(graph, values)["w"], rtol=1e-12, atol=1e-15)
