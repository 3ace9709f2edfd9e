"""The index form of cofactor (det's derivative, C = det(A)·A⁻ᵀ): dC = C·tr(A⁻¹ dA) - C·dAᵀ·A⁻ᵀ, a
trace term (``Term.N``: dX replaced by ⟨N, dX⟩·I) beside a product term. Checked against jac's numeric
Jacobian (autodiff), central differences and det's numeric Hessian, at 1 × 1 to 10 × 10, composed with
the ops the index form has rules for, as printed entry by entry; at a singular matrix both paths refuse."""

import itertools

import numpy as np
import pytest

from jacobi_cli.engine import autodiff
from jacobi_cli.errors import JacValueError
from jacobi_cli.ir.graph import Builder
from jacobi_cli.tools import indexform, symbolic


def _cof(b, a):
    return b.apply("cofactor", a)


def _t(b, a):
    return b.apply("transpose", a, axes=(1, 0))


# name -> (graph of the inputs A, B, C (n × n) and x (n,), the inputs it reads)
GRAPHS = {
    "cofactor(A)": (lambda b, i: _cof(b, i["A"]), "A"),
    "cofactor(A.T)": (lambda b, i: _cof(b, _t(b, i["A"])), "A"),  # dAᵀ: the trace ⟨A⁻¹, dA⟩
    "cofactor(A).T": (lambda b, i: _t(b, _cof(b, i["A"])), "A"),
    "cofactor(B @ A @ C)": (lambda b, i: _cof(b, b.apply("matmul", b.apply("matmul", i["B"], i["A"]), i["C"])),
                            "ABC"),
    "cofactor(A.T @ B)": (lambda b, i: _cof(b, b.apply("matmul", _t(b, i["A"]), i["B"])), "AB"),
    "B @ cofactor(A) @ x": (lambda b, i: b.apply("matmul", b.apply("matmul", i["B"], _cof(b, i["A"])), i["x"]),
                            "ABx"),
    "tanh(cofactor(A))": (lambda b, i: b.apply("tanh", _cof(b, i["A"])), "A"),
    "inv(cofactor(A))": (lambda b, i: b.apply("inv", _cof(b, i["A"])), "A"),
    "cofactor(A) + A @ A": (lambda b, i: b.apply("add", _cof(b, i["A"]), b.apply("matmul", i["A"], i["A"])), "A"),
}


def _graph(name, n, wrt):
    make, reads = GRAPHS[name]
    b = Builder()
    inputs = {k: b.input(k, (n,) if k == "x" else (n, n)) for k in reads}
    return b.graph(make(b, inputs)).with_wrt([wrt])


def _point(graph, seed):
    rng = np.random.default_rng(seed)
    return {k: rng.uniform(-1, 1, graph.nodes[i].shape) + (np.eye(graph.nodes[i].shape[0]) * 2 if len(
        graph.nodes[i].shape) == 2 else 0) * rng.choice([-1, 1]) for k, i in graph.inputs.items()}


def _central(graph, point, wrt, h=1e-6):
    """d output / d ``wrt`` by central differences of the graph's value."""
    y = np.asarray(autodiff.evaluate(graph, point)[graph.output])
    x = point[wrt]
    out = np.empty(y.shape + x.shape)
    for idx in np.ndindex(x.shape):
        hi, lo = dict(point), dict(point)
        hi[wrt], lo[wrt] = x.copy(), x.copy()
        hi[wrt][idx] += h
        lo[wrt][idx] -= h
        out[(...,) + idx] = (np.asarray(autodiff.evaluate(graph, hi)[graph.output]) -
                             np.asarray(autodiff.evaluate(graph, lo)[graph.output])) / (2 * h)
    return out


def _form_value(graph, wrt, values):
    form = indexform.build(symbolic, graph, wrt)
    return indexform.tensor(form, values, tuple(graph.output_shape), tuple(graph.nodes[graph.inputs[wrt]].shape))


@pytest.mark.parametrize("name, wrt", [(name, wrt) for name, (_, reads) in GRAPHS.items() for wrt in reads
                                       if wrt != "x"])
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_the_index_form_is_the_numeric_jacobian(name, wrt, n):
    """At three random points per size: the form's numbers against autodiff and central differences."""
    graph = _graph(name, n, wrt)
    for seed in range(3):
        point = _point(graph, 10 * n + seed)
        values = autodiff.evaluate(graph, point)
        want = np.asarray(autodiff.jacrev(graph, values)[wrt])
        got = _form_value(graph, wrt, values)
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(got, _central(graph, point, wrt), rtol=1e-5, atol=1e-6)


def test_it_is_det_s_numeric_hessian():
    """d cofactor(A) / dA is the second derivative of det(A), as jac's Hessian computes it."""
    from jacobi_cli.engine.autodiff import hessian

    for n in (1, 2, 3, 5):
        b = Builder()
        det = b.graph(b.apply("det", b.input("A", (n, n)))).with_wrt(["A"])
        graph = _graph("cofactor(A)", n, "A")
        point = _point(graph, n)
        want = hessian(det, point, ["A"])[("A", "A")]
        got = _form_value(graph, "A", autodiff.evaluate(graph, point))
        np.testing.assert_allclose(got, np.asarray(want).reshape(got.shape), rtol=1e-9, atol=1e-10)


def test_at_10_by_10_the_form_is_shown_with_its_value():
    """What was refused (cofactor's 4-d derivative had no index form and 10! terms an entry in components)."""
    graph = _graph("cofactor(A)", 10, "A")
    point = _point(graph, 4)
    d = symbolic.differentiate_graph(graph, ["A"], point).derivatives["A"]
    assert d.form == "index" and d.note is None, d.note
    want = autodiff.jacrev(graph, autodiff.evaluate(graph, point))["A"]
    np.testing.assert_allclose(d.value, want, rtol=1e-9, atol=1e-9)
    assert symbolic.text(d.expr) == ("Determinant(A)*(A**(-1))[j, i]*(A**(-1))[l, k] - "
                                     "Determinant(A)*(A**(-1))[j, k]*(A**(-1))[l, i]")
    assert "Trace(A**(-1)*dA)" in symbolic.text(d.differential)


@pytest.mark.parametrize("name, wrt", [("cofactor(A)", "A"), ("cofactor(A.T @ B)", "A"), ("tanh(cofactor(A))", "A"),
                                       ("B @ cofactor(A) @ x", "A")])
def test_the_printed_formula_is_the_jacobian(name, wrt):
    """At 3 × 3 (components would be preferred: the index form is asked for), every entry as SymPy
    evaluates the printed formula, and the differential in every direction when one is shown."""
    import sympy as sp

    graph = _graph(name, 3, wrt)
    d = symbolic.with_deep_stack(lambda: symbolic._index_result("", graph, {}, wrt, None, {}))
    point = _point(graph, 5)
    mats = {k: sp.ImmutableMatrix(np.asarray(v).reshape(3, -1).tolist()) for k, v in point.items()}
    assert d.form == "index" and d.where == ([] if name != "cofactor(A.T @ B)" else ["C = cofactor(A.T*B)"])
    if d.where:  # a value the formula names: the node's own
        mats["C"] = sp.ImmutableMatrix(autodiff.evaluate(graph, point)[graph.output].tolist())
    expr = d.expr.replace(lambda e: isinstance(e, sp.MatrixSymbol) and e.name in mats, lambda e: mats[e.name])
    letters = [sp.Symbol(c, integer=True) for c in "ijkl"[:len(d.shape)]]
    got = np.empty(d.shape)
    for idx in itertools.product(*[range(k) for k in d.shape]):
        got[idx] = float(expr.xreplace(dict(zip(letters, map(sp.Integer, idx)))).doit())
    want = np.asarray(autodiff.jacrev(graph, autodiff.evaluate(graph, point))[wrt])
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-10)
    if d.differential is not None:
        env = {symbolic.matrix_symbol(k, tuple(graph.nodes[i].shape)): np.asarray(point[k]).reshape(3, -1)
               for k, i in graph.inputs.items()}
        if d.where:
            env[sp.MatrixSymbol("C", 3, 3)] = np.array(mats["C"].tolist(), dtype=np.float64)
        dx = sp.MatrixSymbol(f"d{wrt}", 3, 3)
        for k in range(9):
            env[dx] = np.eye(9)[k].reshape(3, 3)
            column = np.asarray(symbolic.numeric(d.differential, env), dtype=np.float64)
            np.testing.assert_allclose(column.ravel(), want.reshape(-1, 9)[:, k], rtol=1e-9, atol=1e-10)


def test_a_wrong_trace_is_never_shown(monkeypatch):
    """⟨A⁻¹, dA⟩ for ⟨A⁻ᵀ, dA⟩ (a transpose lost): the check against autodiff refuses it."""
    real = indexform._cofactor

    def wrong(S, node, ta, values, shapes):
        return [indexform.replace(t, N=tuple(f.T(S) for f in reversed(t.N))) if t.N is not None else t
                for t in real(S, node, ta, values, shapes)]

    monkeypatch.setattr(indexform, "_cofactor", wrong)
    graph = _graph("cofactor(A)", 4, "A")
    with pytest.raises(symbolic.NoMatrixForm, match="does not match"):
        symbolic.with_deep_stack(lambda: symbolic._index_result("", graph, {}, "A", None, {}))


def test_what_it_cannot_write_is_refused():
    """cofactor of an element-wise function (no trace of H ∘ ...) or of cofactor (a trace of a trace), and
    cholesky of a trace term: no index form, so components or a refusal, never a wrong form."""
    b = Builder()
    a = b.input("A", (3, 3))
    for out in (_cof(b, b.apply("tanh", a)), _cof(b, _cof(b, a)), b.apply("cholesky", _cof(b, a))):
        graph = b.graph(out).with_wrt(["A"])
        with pytest.raises(symbolic.NoMatrixForm):
            indexform.build(symbolic, graph, "A")


SINGULAR = [np.array([[0.0]]), np.array([[1.0, 2.0], [2.0, 4.0]]),
            np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [7.0, 8.0, 10.0]]), np.diag([1.0] * 9 + [0.0])]


@pytest.mark.parametrize("a", SINGULAR, ids=lambda a: f"{a.shape[0]}x{a.shape[0]}")
def test_at_a_singular_matrix_the_numbers_answer_and_the_forms_refuse(a):
    """The numeric path answers (session 40: cofactor's rules are cofactor_dir, from the SVD: det's second
    derivative is a polynomial, defined at a singular matrix; it refused before, reading A⁻¹), checked against
    central differences of cofactor (a polynomial: the differences are exact to rounding); the symbolic form
    det(A)·A⁻ᵀ has no value there and refuses, with a value error that says why (at 10 × 10 it was a limit error
    about components)."""
    graph = _graph("cofactor(A)", a.shape[0], "A")
    values = autodiff.evaluate(graph, {"A": a})
    found = autodiff.jacrev(graph, values)["A"]
    from jacobi_cli.ir.ops import P
    h, n = 1e-3, a.shape[0]
    for k in range(a.size):
        e = np.zeros(a.size)
        e[k] = h
        e = e.reshape(a.shape)
        column = (P.cofactor(a + e) - P.cofactor(a - e)) / (2 * h)
        np.testing.assert_allclose(found[..., k // n, k % n], column, atol=1e-9)
    # the symbolic path: components where they are few (the adjugate's entries are polynomials), the same
    # numbers; else the index form, whose A⁻¹ has no value there, refused saying so
    _same_or_refused(lambda: symbolic.differentiate_graph(graph, ["A"], {"A": a}).derivatives["A"].value, found)
    with pytest.raises(JacValueError, match="singular"):  # the form's own numbers
        _form_value(graph, "A", values)


def test_a_singular_point_of_the_expression_is_a_value_error():
    """`jac diff inv(A) A=zeros((10, 10))`: the expression has no value there; said so (it was a limit error
    about 10 × 10 components, as the index form's failure at the point fell back to them)."""
    from jacobi_cli.errors import JacLimitError

    with pytest.raises(JacValueError, match="inv: the matrix is singular") as err:
        symbolic.differentiate("inv(A)", ["A=zeros((10, 10))"])
    assert not isinstance(err.value, JacLimitError)


# --- jac diff --order 2 of a scalar output: the index form of the gradient's Jacobian -------------------

SECOND = [  # (expression, shapes): components would be big or hopeless (det past 5 × 5, log|det|, 100 entries)
    ("det(A)", {"A": (6, 6)}),
    ("det(A)", {"A": (10, 10)}),
    ("logdet(A)", {"A": (2, 2)}),
    ("logdet(A)", {"A": (6, 6)}),
    ("slogdet(A)[1]", {"A": (4, 4)}),
    ("det(A.T)", {"A": (6, 6)}),
    ("det(A @ B)", {"A": (6, 6), "B": (6, 6)}),
    ("trace(inv(A))", {"A": (6, 6)}),
    ("det(inv(A))", {"A": (6, 6)}),
    ("det(A) * sum(x)", {"A": (6, 6), "x": (3,)}),
    ("x @ A @ x", {"x": (10,), "A": (10, 10)}),
    ("softmax(x)", {"x": (5,)}),  # a vector by vectors: the Jacobian's Jacobian, softmax's rule a product
    ("softmax(x)", {"x": (40,)}),
    ("sum(softmax(x) * c)", {"x": (10,), "c": (10,)}),
    ("logsumexp(x)", {"x": (10,)}),  # whole-vector reductions: dy = wᵀ dx (w = 1, softmax(x), x / |x|)
    ("norm(x)", {"x": (10,)}),
    ("sum(x**3)", {"x": (10,)}),
    ("sum(tanh(A @ x))", {"A": (5, 5), "x": (5,)}),  # 7 s of components at 10 × 10 before
]


def _values(shapes, seed):
    rng = np.random.default_rng(seed)
    return {k: rng.uniform(-1, 1, s) + (np.eye(s[0]) * 2 * rng.choice([-1, 1]) if len(s) == 2 else 0)
            for k, s in shapes.items()}


@pytest.mark.parametrize("text, shapes", SECOND, ids=[f"{t} {s}" for t, s in SECOND])
def test_second_derivatives_are_the_index_form_of_the_gradient(text, shapes):
    """At two random points each: the index form, its value there jac's Hessian (and within central
    differences of jac's gradient for the first input)."""
    from jacobi_cli.lang.parser import parse

    graph = parse(text, shapes)
    for seed in range(2):
        point = _values(shapes, seed)
        result = symbolic.differentiate(text, at=point, bindings=[f"{k}:{'x'.join(map(str, s))}" for k, s in
                                                                  shapes.items()], order=2)
        for name, d in result.derivatives.items():
            assert d.form == "index" and d.note is None, (name, d.form, d.note)
            assert d.differential is None  # the gradient's, never shown under "dy ="
            want = autodiff.hessian(graph.with_wrt([name]), point, [name])[(name, name)]
            np.testing.assert_allclose(d.value, np.asarray(want).reshape(np.shape(d.value)), rtol=1e-9, atol=1e-9)
        name = next(iter(shapes))
        gradient = symbolic._gradient_graph(graph, name)
        np.testing.assert_allclose(result.derivatives[name].value, _central(gradient, point, name),
                                   rtol=1e-5, atol=1e-5 * max(1.0, float(np.max(np.abs(d.value)))))


def test_the_second_derivative_of_det_as_printed():
    result = symbolic.differentiate("det(A)", ["A:6x6"], order=2)
    d = result.derivatives["A"]
    assert symbolic.text(d.expr) == ("Determinant(A)*(A**(-1))[j, i]*(A**(-1))[l, k] - "
                                     "Determinant(A)*(A**(-1))[j, k]*(A**(-1))[l, i]")
    assert d.math_shape == (6, 6, 6, 6) and d.where == []
    assert symbolic.text(symbolic.differentiate("logdet(A)", ["A:6x6"], order=2).derivatives["A"].expr) == \
        "-(A**(-1))[j, k]*(A**(-1))[l, i]"  # the gradient solves A X = I: I, dropped from the products


def test_the_second_derivative_of_softmax_as_printed():
    """∂²s[i]/∂x[j]∂x[k] = s[j](δ(i, j) - s[i])(δ(j, k) - s[k]) - s[i]s[j](δ(i, k) - s[k]) - ... written out
    from ds = (diag(s) - s sᵀ) dx and softmax_vjp's rule; at 100 (a million entries) in well under a second."""
    d = symbolic.differentiate("softmax(x)", ["x:100"], order=2).derivatives["x"]
    assert d.form == "index" and d.where == ["s = softmax(x, axis=0)"] and d.shape == (100, 100, 100)
    assert symbolic.text(d.expr) == ("(-KroneckerDelta(i, j) + s[i])*s[j]*s[k] + (KroneckerDelta(i, j) - s[i])*"
                                     "KroneckerDelta(j, k)*s[j] - KroneckerDelta(i, k)*s[i]*s[j] + s[i]*s[j]*s[k]")


@pytest.mark.parametrize("n", [1, 2, 3])
def test_small_determinants_keep_their_components(n):
    """det(A) up to 5 × 5 with fewer than 100 Hessian entries: components, exact polynomials (valid at a
    singular A too), as before; they agree with the index form's numbers at a random point."""
    point = _values({"A": (n, n)}, n)
    d = symbolic.differentiate("det(A)", [f"A:{n}x{n}"], at=point, order=2).derivatives["A"]
    assert d.form == "components"
    graph = _graph("cofactor(A)", n, "A")
    np.testing.assert_allclose(d.value, _form_value(graph, "A", autodiff.evaluate(graph, point)),
                               rtol=1e-9, atol=1e-12)


def _same_or_refused(formed, numeric):
    try:
        value = formed()
    except JacValueError as err:
        assert "singular" in str(err)
        return
    np.testing.assert_allclose(np.asarray(value, dtype=float).reshape(numeric.shape), numeric, atol=1e-12)


from test_linalg40 import det_hessian as _det_hessian  # noqa: E402 - the exact minors, one copy


@pytest.mark.parametrize("text", ["det(A)", "logdet(A)"])
def test_a_singular_point_is_refused_by_both_paths(text):
    """log|det|'s Hessian at a singular 6 × 6: it has no value there at all, and both paths refuse. det's
    (session 40): both answer, alike (jac hessian from the SVD, jac diff from components); it was refused by
    both, the rules reading A⁻¹."""
    from jacobi_cli.lang.parser import parse

    a = np.diag([2.0, 1.0, 3.0, 1.0, 1.0, 0.0]) + np.triu(np.ones((6, 6)), 1)
    if text == "det(A)":
        numeric = autodiff.hessian(parse(text, {"A": (6, 6)}).with_wrt(["A"]), {"A": a}, ["A"])
        numeric = np.asarray(numeric[("A", "A")] if isinstance(numeric, dict) else numeric, dtype=float)
        np.testing.assert_allclose(numeric, _det_hessian(a), atol=1e-12)
        _same_or_refused(lambda: symbolic.differentiate(text, ["A:6x6"], at={"A": a}, order=2).derivatives["A"].value,
                         numeric)
        return
    with pytest.raises(JacValueError):
        autodiff.hessian(parse(text, {"A": (6, 6)}).with_wrt(["A"]), {"A": a}, ["A"])
    with pytest.raises(JacValueError, match="singular|no value|-inf"):
        symbolic.differentiate(text, ["A:6x6"], at={"A": a}, order=2)


def test_without_an_index_form_it_is_components_as_before():
    """det(2 * A): cofactor of an element-wise term (no trace rule for it): components, refused at 6 × 6 as
    before; tanh(x) * x at 5 (125 entries): components (an element-wise op after a product)."""
    from jacobi_cli.errors import JacLimitError

    with pytest.raises(JacLimitError, match="too many terms"):
        symbolic.differentiate("det(2 * A)", ["A:6x6"], order=2)
    d = symbolic.differentiate("tanh(x) * x", ["x:5"], order=2).derivatives["x"]
    assert d.form == "components"


def test_cli_json_of_a_second_derivative(capsys):
    import json

    from jacobi_cli.cli import entry

    assert entry.main(["diff", "det(A)", "A:6x6", "--order", "2", "--json", "--timeout", "0"]) in (0, None)
    block = json.loads(capsys.readouterr().out)["derivative"]["A"]
    assert block["form"] == "index" and block["order"] == 2 and block["shape"] == [6, 6, 6, 6]
    assert block["legend"] == "D[i, j, k, l] = ∂²y / ∂A[i, j] ∂A[k, l]" and "differential" not in block


def test_a_higher_derivative_past_the_entries_limit_is_refused_before_any_component(monkeypatch):
    """Past 10,000 entries (here without an index form: a third derivative, an element-wise op after a product),
    refused before any component is made (softmax(x) at 100, --order 2, took 30 s to meet --timeout; it has
    an index form now, below)."""
    from jacobi_cli.errors import JacLimitError

    real = symbolic.translate

    def no_components(graph, as_components=True):
        if as_components:
            raise AssertionError("components made before the limit was checked")
        return real(graph, as_components=False)

    monkeypatch.setattr(symbolic, "translate", no_components)
    for text, n, order, count in (("softmax(x)", 40, 3, "2,560,000"), ("tanh(x) * x", 100, 2, "1,000,000")):
        with pytest.raises(JacLimitError, match=f"would have {count} entries"):
            symbolic.differentiate(text, [f"x:{n}"], order=order)
