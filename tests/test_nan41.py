"""Session 41: NaN and eigen leftovers, and symbolic gaps.

- ``jac diff`` of ``torch.nan_to_num`` (and of ``np.nan_to_num``'s where chain, ``isfinite`` / ``isnan`` / ``isinf``):
  a Piecewise of conditions SymPy decides once their argument is a number (tools/symbolic.value_test), checked here
  against jac's automatic derivative at random points, NaN, inf and the points where the argument is not finite.
- A PyTorch text whose output depends on the basis LAPACK chose of a repeated eigenvalue's eigenspace (or a repeated
  singular value's singular subspaces) is refused, as one depending on the vectors' signs is (ir/signs.py); what does
  not depend on it stays answered, equal to PyTorch's.
- The p < 0 vector norm's Hessian at an infinite entry: 0 there, PyTorch's (both modes) and JAX's.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from jacobi_cli.errors import JacValueError
from jacobi_cli.tools import api, symbolic

INF, NAN = float("inf"), float("nan")


# --- jac diff of nan_to_num ------------------------------------------------------------------------------------

TEXTS = [
    "torch.nan_to_num(log(x))",
    "torch.nan_to_num(log(x), nan=1.0, posinf=2.0, neginf=-3.0) * x",
    "torch.nan_to_num(sqrt(x) - 1.0) * exp(x)",
    "np.nan_to_num(sqrt(x)) * x",
    "np.nan_to_num(log(x), nan=0.5)",
    "where(isfinite(log(x)), log(x), 0.0) + x",
    "where(isnan(sqrt(x)), x ** 2, sqrt(x))",
    "torch.nan_to_num(x * x + 1.0)",
]


def _formula_at(text, x):
    """The formula jac diff prints for ∂y/∂x, evaluated at x (a scalar input)."""
    d = api.diff(text, {"x": 0.5})["x"]
    leaves = {"x": symbolic.component_symbols("x", ())}
    return float(symbolic.evaluate_components(np.asarray(d.expr, dtype=object), leaves, {"x": np.asarray(x)}))


@pytest.mark.parametrize("text", TEXTS)
def test_the_formula_of_nan_to_num_is_the_automatic_derivative_at_random_points(text):
    rng = np.random.default_rng(41)
    points = list(rng.uniform(0.05, 3.0, 4)) + list(-rng.uniform(0.05, 3.0, 3))  # log / sqrt NaN below 0
    for x in points:
        auto = float(np.asarray(api.jacobian(text, {"x": x})["x"]))
        if np.isnan(auto):  # PyTorch's rule, g · isfinite(v), is NaN · 0 where v's own slope is NaN (sqrt below 0),
            # and where's other branch pulls NaN back (the where trap): the formula is the function's, as central
            # differences say, and jac diff --at says it differs from the automatic derivative there
            h = 1e-6
            central = (float(api.evaluate(text, {"x": x + h})) - float(api.evaluate(text, {"x": x - h}))) / (2 * h)
            assert _formula_at(text, x) == pytest.approx(central, rel=1e-6, abs=1e-9), (text, x)
            assert api.diff(text, {"x": x})["x"].note is not None
            continue
        assert _formula_at(text, x) == pytest.approx(auto, rel=1e-12, abs=1e-300), (text, x)


def test_the_value_formula_gives_the_fills_and_no_number_where_sympy_cannot_tell_the_sign():
    sp = symbolic._sp()
    x = sp.Symbol("x", real=True)
    form = symbolic.nan_to_num_form(sp.log(x), 1.0, 2.0, -3.0)
    assert float(symbolic._to_float(form, {x: sp.Integer(-1)})) == 1.0  # log(-1) = iπ: NumPy's NaN, the nan fill
    assert np.isnan(symbolic._to_float(form, {x: sp.Integer(0)}))  # log(0) = zoo: the sign of -inf is lost
    assert float(symbolic._to_float(symbolic.nan_to_num_form(sp.oo + x, 1.0, 2.0, -3.0), {x: 0})) == 2.0
    assert float(symbolic._to_float(symbolic.nan_to_num_form(-sp.oo + x, 1.0, 2.0, -3.0), {x: 0})) == -3.0
    assert symbolic.nan_to_num_form(x ** 2 + 1, 1.0, 2.0, -3.0) == x ** 2 + 1  # a polynomial of symbols is finite


@pytest.mark.parametrize("x,want", [(-1.0, 0.0), (2.0, 0.5), (INF, 0.0)])
def test_jac_diff_at_nan_inf_and_negative_points_says_the_formula_holds(x, want):
    d = api.diff("torch.nan_to_num(log(x))", {"x": x})["x"]
    assert d.note is None and float(d.value) == want


def test_jac_diff_at_zero_gives_autodiffs_nan_not_a_fill():
    d = api.diff("torch.nan_to_num(log(x))", {"x": 0.0})["x"]
    assert np.isnan(float(d.value))  # PyTorch's too: its rule is the cotangent times isfinite, (1/0) · 0


def test_the_conditions_are_atoms_to_sympys_simplify():
    sp = symbolic._sp()
    x = sp.Symbol("x", real=True)
    form = symbolic.nan_to_num_form(sp.log(x), 0.0, 5.0, -5.0).diff(x)
    assert sp.simplify(form) != 0  # simplify_logic once read isnan(log(x)) | ... as True
    assert symbolic._to_float(sp.simplify(form), {x: sp.Rational(1, 2)}) == 2.0


def test_conditions_pickle_for_jac_diffs_child():
    import pickle
    sp = symbolic._sp()
    x = sp.Symbol("x", real=True)
    form = symbolic.nan_to_num_form(sp.log(x), 0.0, 5.0, -5.0)
    assert pickle.loads(pickle.dumps(form)) == form


def test_jac_diff_prints_the_piecewise(capsys):
    from jacobi_cli.cli.entry import main
    code = main(["diff", "torch.nan_to_num(log(x))", "--wrt", "x", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert "isnan(log(x))" in out["derivative"]["x"]["expr"] and "1/x" in out["derivative"]["x"]["expr"]


def test_a_comparison_of_sympys_complex_infinity_is_no_crash(capsys):
    from jacobi_cli.cli.entry import main
    code = main(["diff", "where(log(x) > 0, x, 2*x)", "x=0", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and "derivative" in out  # was exit 70: TypeError "Invalid comparison of non-real zoo"


def test_the_matrix_form_of_nan_to_num_is_components():
    d = api.diff("sum(torch.nan_to_num(log(x)))", {"x": ":n"})["x"]
    assert d.form == "components"  # SymPy's matrix derivative dropped the branches: f' = 1 where log(x) is NaN
    leaves = {"x": symbolic.component_symbols("x", (3,))}
    at = {"x": np.array([-1.0, 0.5, 2.0])}
    got = symbolic.evaluate_components(np.asarray(d.expr.tolist(), dtype=object), leaves, at)
    np.testing.assert_array_equal(got, [0.0, 2.0, 0.5])


# --- eigenvectors at repeated eigenvalues ---------------------------------------------------------------------

def _rotated(d, seed=0):
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((len(d), len(d))))
    return q @ np.diag(d) @ q.T


REPEATED = _rotated([2.0, 2.0, 1.0])
DISTINCT = _rotated([3.0, 2.0, 1.0])
BASIS = ("eigenvalues repeat at these values, and the result depends on which basis of their eigenspace the "
         "eigenvectors are")


def _torch(text, a):
    torch = pytest.importorskip("torch")
    w, v = torch.linalg.eigh(torch.tensor(a, dtype=torch.float64))
    u, s, vh = torch.linalg.svd(torch.tensor(a, dtype=torch.float64))
    return eval(text.split("; ")[-1], {"torch": torch}, {"w": w, "V": v, "U": u, "S": s, "Vh": vh}).numpy()


@pytest.mark.parametrize("text", ["w, V = torch.linalg.eigh(A); V ** 2", "w, V = torch.linalg.eigh(A); V[:, 2] ** 2",
                                  "w, V = torch.linalg.eigh(A); (V ** 2) @ x",
                                  "w, V = torch.linalg.eigh(A); V[:, 1:] ** 2 + x[0]"])
def test_a_value_depending_on_the_basis_of_a_repeated_eigenvalue_is_refused(text):
    with pytest.raises(JacValueError, match=BASIS):
        api.evaluate(text, {"A": REPEATED, "x": np.array([0.3, -1.2, 0.8])})


@pytest.mark.parametrize("text", ["w, V = torch.linalg.eigh(A); V @ torch.diag(w) @ V.mT",
                                  "w, V = torch.linalg.eigh(A); w",
                                  "w, V = torch.linalg.eigh(A); V[:, 1:] @ V[:, 1:].mT",
                                  "w, V = torch.linalg.eigh(A); V[:, 0] ** 2",
                                  "w, V = torch.linalg.eigh(A); (V ** 2).sum(0)",
                                  "U, S, Vh = torch.linalg.svd(A); U @ torch.diag(S) @ Vh"])
def test_what_does_not_depend_on_the_basis_is_answered_as_pytorch(text):
    np.testing.assert_allclose(api.evaluate(text, {"A": REPEATED}), _torch(text, REPEATED), atol=1e-12)


@pytest.mark.parametrize("text", ["w, V = torch.linalg.eigh(A); V ** 2", "U, S, Vh = torch.linalg.svd(A); U ** 2"])
def test_distinct_eigenvalues_keep_the_values(text):
    np.testing.assert_allclose(api.evaluate(text, {"A": DISTINCT}), _torch(text, DISTINCT), atol=1e-12)


def test_repeated_singular_values_refuse_a_singular_vectors_value():
    with pytest.raises(JacValueError, match="singular values repeat at these values"):
        api.evaluate("U, S, Vh = torch.linalg.svd(A); U ** 2", {"A": REPEATED})
    with pytest.raises(JacValueError, match="singular values repeat"):  # a rank-1 matrix: σ = 0 twice
        api.evaluate("U, S, Vh = torch.linalg.svd(A); Vh[1:] ** 2", {"A": np.outer([1.0, 2.0, 2.0], [1.0, -1.0, 3.0])})


def test_numpys_spelling_is_numpys_basis():
    w, v = np.linalg.eigh(REPEATED)
    np.testing.assert_array_equal(api.evaluate("w, V = np.linalg.eigh(A); V ** 2", {"A": REPEATED}), v ** 2)


def test_a_stack_is_refused_when_one_matrix_has_a_repeat():
    stack = np.stack([DISTINCT, REPEATED])
    with pytest.raises(JacValueError, match=BASIS):
        api.evaluate("w, V = torch.linalg.eigh(A); V ** 2", {"A": stack})
    got = api.evaluate("w, V = torch.linalg.eigh(A); V @ torch.diag_embed(w) @ V.mT", {"A": stack})
    np.testing.assert_allclose(got, stack, atol=1e-12)


def test_the_refusal_through_the_command_line(capsys):
    from jacobi_cli.cli.entry import main
    a = json.dumps(REPEATED.tolist())
    code = main(["eval", "w, V = torch.linalg.eigh(A); (V ** 2) @ x", f"A={a}", "x=[1, 2, 3]", "--wrt", "x", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 2 and out["error"]["kind"] == "value" and BASIS in out["error"]["message"]


def test_the_turn_is_another_eigenbasis():
    from jacobi_cli.ir.ops import OPS
    w, v = np.linalg.eigh(REPEATED)
    turned = OPS["basis_turn"].impl(v, w, axis=-1, size=3)
    np.testing.assert_allclose(turned.T @ REPEATED @ turned, np.diag(w), atol=1e-13)
    assert np.max(np.abs(turned[:, 1:] - v[:, 1:])) > 0.1 and np.array_equal(turned[:, 0], v[:, 0])
    np.testing.assert_array_equal(OPS["basis_turn"].impl(v, np.array([1.0, 2.0, 3.0]), axis=-1, size=3), v)


# --- the p < 0 norm's Hessian at an infinite entry --------------------------------------------------------------

@pytest.mark.parametrize("p", [-1.0, -0.5, -2.0])
@pytest.mark.parametrize("x", [[INF, 1.0, 2.0], [1.0, -INF, 2.0], [INF, INF, 2.0], [0.5, 3.0, -INF]])
def test_the_negative_order_norms_hessian_at_inf_is_pytorchs(p, x):
    torch = pytest.importorskip("torch")
    text = f"torch.linalg.vector_norm(x, {p})"
    ours = api.hessian(text, {"x": np.array(x)})[("x", "x")]
    f = lambda t: torch.linalg.vector_norm(t, p)  # noqa: E731
    t = torch.tensor(x, dtype=torch.float64)
    np.testing.assert_allclose(ours, torch.autograd.functional.hessian(f, t).numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours, torch.func.hessian(f)(t).numpy(), rtol=1e-12, atol=1e-14)
    assert np.all(ours[np.isinf(x)] == 0) and np.all(ours[:, np.isinf(x)] == 0)


def test_the_negative_order_norms_hessian_at_finite_points_against_central_differences():
    x = np.array([0.7, -1.3, 2.1])
    ours = api.hessian("torch.linalg.vector_norm(x, -1.0)", {"x": x})[("x", "x")]
    h, num = 1e-5, np.zeros((3, 3))
    for j in range(3):
        e = np.eye(3)[j] * h
        num[:, j] = (np.asarray(api.jacobian("torch.linalg.vector_norm(x, -1.0)", {"x": x + e})["x"])
                     - np.asarray(api.jacobian("torch.linalg.vector_norm(x, -1.0)", {"x": x - e})["x"])) / (2 * h)
    np.testing.assert_allclose(ours, num, rtol=1e-6, atol=1e-8)


# --- cumprod with 0 and inf: the exact products (session 40's convention), rechecked ----------------------------

def test_cumprod_at_zero_times_inf_is_nan_as_pytorchs_forward_mode_and_jax():
    x = np.array([0.0, INF, 3.0])
    for mode in ("reverse", "forward"):
        j = np.asarray(api.jacobian("torch.cumprod(x, 0)", {"x": x}, mode=mode)["x"])
        assert j[1].tolist() == [INF, 0.0, 0.0] and j[2, :2].tolist() == [INF, 0.0] and np.isnan(j[2, 2])
    torch = pytest.importorskip("torch")
    fwd = torch.func.jacfwd(lambda t: torch.cumprod(t, 0))(torch.tensor(x, dtype=torch.float64)).numpy()
    assert np.isnan(fwd[2, 2])  # y2 = 0 · inf · 3 is NaN; PyTorch's reverse mode gives its derivative as 0


# --- the norm layers at an infinite entry: PyTorch's arithmetic (a scale of 1), not NaN throughout ---------------

@pytest.mark.parametrize("text", ["F.rms_norm(x, (4,))", "F.normalize(x, dim=0)", "F.layer_norm(x, (4,))",
                                  "F.group_norm(x.reshape(1, 4, 1), 2).reshape(-1)"])
@pytest.mark.parametrize("x", [[0.0, INF, 1.5, -2.0], [-INF, 1.0, 2.0, 1e300], [1e300, 2e300, -1e300, 0.5]])
def test_norm_layers_at_inf_and_huge_entries_are_pytorchs(text, x):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F
    ours = api.evaluate(text, {"x": np.array(x)})
    theirs = eval(text, {"torch": torch, "F": F}, {"x": torch.tensor(x, dtype=torch.float64)}).numpy()
    if np.all(np.abs(np.array(x)) < 1e150):  # PyTorch squares 1e300 past the largest double: jac scales
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-300)
    elif np.all(np.isinf(x) | (np.abs(x) < 1e150)):
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-300)
    else:  # an inf and a 1e300: jac's x / s keeps the 1e300's share where PyTorch's square overflows; no NaN added
        assert np.isnan(ours).sum() <= np.isnan(theirs).sum()


# --- prod of one factor per group, and prod_except's forward mode with an infinite tangent -------------------------

@pytest.mark.parametrize("text", ["torch.prod(torch.dot(y, y))", "torch.prod(torch.trace((y * 2).reshape(2, 2)))",
                                  "torch.prod(y.reshape(4, 1), 1).sum()"])
def test_a_hessian_through_prod_of_one_factor_is_its_arguments(text):
    torch = pytest.importorskip("torch")
    y = np.array([1.0, 1e-308, -INF, 1e-308])
    ours = api.hessian(text, {"y": y})[("y", "y")]
    f = lambda t: eval(text, {"torch": torch}, {"y": t})  # noqa: E731
    theirs = torch.autograd.functional.hessian(f, torch.tensor(y, dtype=torch.float64)).numpy()
    if "reshape(4, 1)" in text:  # Σ y_i, whose Hessian is 0: PyTorch's reverse over reverse has NaN in column 2
        theirs = np.zeros((4, 4))
    np.testing.assert_array_equal(ours, theirs)  # y · y's 2·I; 0 for the trace and the identity
    assert np.all(np.isfinite(ours))


def test_prod_except_forward_mode_skips_the_diagonal_of_an_infinite_tangent():
    from jacobi_cli.ir.ops import OPS
    a = np.array([[2.0, 3.0, 0.5]])
    t = np.array([[[INF, 1.0, 0.0]]])  # (batch, *a.shape)
    out = OPS["prod_except"].jvp[0](t, None, a, (1,))
    # d(prod of the others)_i = Σ_{j≠i} Π_{k≠i,j} a_k t_j: element 0's own infinite tangent is no term of its sum
    np.testing.assert_array_equal(out[0, 0], [0.5 * 1.0, 0.5 * INF, 3.0 * INF + 2.0 * 1.0])


def test_prods_hessian_at_finite_points_is_unchanged():
    x = np.array([2.0, 3.0, 0.5])
    np.testing.assert_array_equal(api.hessian("torch.prod(x)", {"x": x})[("x", "x")],
                                  [[0.0, 0.5, 3.0], [0.5, 0.0, 2.0], [3.0, 2.0, 0.0]])
