"""What the twenty-second session's derivative sweep (benchmarks/grads22_sweep.py) found, without PyTorch: the
gradient of cholesky_solve / cholesky_inverse with respect to the factor (PyTorch's formula reads it whole), topk
of a 0-d array with k = 0, PyTorch 2's removed torch.solve / lstsq / matrix_rank and its control-flow torch.cond,
x.count_nonzero(1, 2) and x.pinverse(rcond). tests/test_parity_grads22.py compares the readings with PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.errors import JacError, JacNameError, JacValueError
from jacobi_cli.tools import api

rng = np.random.default_rng(2222)
L = np.tril(rng.uniform(0.2, 0.9, (3, 3))) + np.eye(3)  # a lower-triangular factor
B = rng.uniform(0.2, 0.9, (3, 2))
G = rng.standard_normal((3, 3))


def _factor_gradient(L, G):
    """PyTorch's cholesky_inverse_backward: -(C L) with C = A⁻¹ (G + Gᵀ) A⁻¹, A = L Lᵀ: L read whole."""
    inv = np.linalg.inv(L @ L.T)
    return -(inv @ (G + G.T) @ inv) @ L


def test_cholesky_inverse_gradient_reads_the_factor_whole_as_pytorch():
    np.testing.assert_allclose(api.evaluate("torch.cholesky_inverse(L)", {"L": L}), np.linalg.inv(L @ L.T),
                               rtol=1e-13)
    grad = api.vjp("torch.cholesky_inverse(L)", {"L": L}, G)["L"]
    np.testing.assert_allclose(grad, _factor_gradient(L, G), rtol=1e-12, atol=1e-14)
    assert np.abs(np.triu(grad, 1)).max() > 0.1  # was 0 above the diagonal: the triangle's own derivative
    grad = api.vjp("torch.cholesky_inverse(U, upper=True)", {"U": L.T}, G)["U"]
    np.testing.assert_allclose(grad, _factor_gradient(L, G).T, rtol=1e-12, atol=1e-14)


def test_cholesky_solve_gradients_are_pytorchs():
    g = rng.standard_normal((3, 2))
    found = api.vjp("torch.cholesky_solve(B, L)", {"B": B, "L": L}, g)
    A = L @ L.T
    x, gb = np.linalg.solve(A, B), np.linalg.solve(A, g)
    common = gb @ x.T
    np.testing.assert_allclose(found["B"], gb, rtol=1e-12)
    np.testing.assert_allclose(found["L"], -(common + common.T) @ L, rtol=1e-12, atol=1e-14)


def test_cholesky_inverse_of_a_cholesky_factor_keeps_its_reading():
    # cholesky's VJP ignores the cotangent above the diagonal, so the factor is read by its triangle, as before
    M = rng.uniform(-1, 1, (3, 3))
    A = M @ M.T + 3 * np.eye(3)
    grad = api.vjp("torch.cholesky_inverse(torch.linalg.cholesky(A))", {"A": A}, G)["A"]
    inv = np.linalg.inv(A)
    np.testing.assert_allclose(grad, -(inv @ (G + G.T) @ inv) / 2, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("expr", ["torch.cholesky_inverse(X)", "torch.cholesky_solve(B, X)",
                                  "torch.cholesky_inverse(X.T, upper=True)"])
def test_a_factor_with_entries_past_its_triangle_is_refused(expr):
    X = L + np.triu(rng.uniform(0.2, 0.9, (3, 3)), 1)  # PyTorch's value reads the triangle, its gradient X whole
    with pytest.raises(JacValueError, match="its gradient reads the whole matrix"):
        api.evaluate(expr, {"X": X, "B": B})


def test_a_factor_no_input_reaches_is_read_by_its_triangle():
    X = L + np.triu(np.ones((3, 3)), 1)
    found = api.evaluate(f"torch.cholesky_solve(B, torch.tensor({X.tolist()}))", {"B": B})
    np.testing.assert_allclose(found, np.linalg.solve(L @ L.T, B), rtol=1e-12)


def test_the_factor_reading_checks_and_shapes_from_the_command_line():
    value = f"L={L.tolist()}"
    result = CliRunner().invoke(app, ["check", "torch.cholesky_inverse(L)", value])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(app, ["shape", "torch.cholesky_inverse(L)", "L:3x3"])
    assert result.exit_code == 0 and "(3, 3, 3, 3)" in result.output, result.output


@pytest.mark.parametrize("expr", ["torch.topk(x, 0)[0]", "x.topk(0).values", "torch.topk(x, k=0, largest=False)[0]",
                                  "torch.topk(x, 1)[0]"])
def test_topk_of_a_scalar_is_the_element_for_k_0_as_for_k_1(expr):
    value = api.evaluate(expr, {"x": 0.5})  # was shape (0,) for k = 0
    assert np.shape(value) == () and value == 0.5
    assert api.vjp(expr, {"x": 0.5}, 3.0)["x"] == 3.0
    assert np.shape(api.evaluate(expr.replace("[0]", "[1]").replace(".values", ".indices"), {"x": 0.5})) == ()


def test_topk_of_a_scalar_with_k_2_is_refused():
    with pytest.raises(JacValueError, match="out of range"):
        api.evaluate("torch.topk(x, 2)", {"x": 0.5})


@pytest.mark.parametrize("name, words", [("solve", "torch.linalg.solve(A, B)"),
                                         ("lstsq", "torch.linalg.lstsq(A, B).solution"),
                                         ("matrix_rank", "torch.linalg.matrix_rank(A)"),
                                         ("cond", "torch.linalg.cond(A)")])
def test_torch_names_pytorch_2_reads_otherwise_are_refused(name, words):
    # torch.cond(pred, true_fn, false_fn, operands) is read (lang/vmapping.py): torch.cond(A) is refused there
    A = np.array([[2.0, 1.0], [0.5, 3.0]])
    args = "A, A" if name in ("solve", "lstsq") else "A"
    with pytest.raises(JacValueError if name == "cond" else JacNameError,
                       match="control flow" if name == "cond" else "was removed from PyTorch") as err:
        api.evaluate(f"torch.{name}({args})", {"A": A})  # torch.solve(B, A) solved A X = B: the order reversed
    assert words in str(err.value)
    np.testing.assert_allclose(api.evaluate("torch.linalg.cond(A)", {"A": A}), np.linalg.cond(A), rtol=1e-12)
    np.testing.assert_allclose(api.evaluate("torch.linalg.solve(A, A)", {"A": A}), np.eye(2), atol=1e-15)


def test_count_nonzero_method_takes_dims_one_by_one():
    x = rng.uniform(0.2, 0.9, (2, 3, 4))
    x[0, 1, 2] = x[1, 0, 0] = 0.0
    found = api.evaluate("import torch\nx.count_nonzero(1, 2)", {"x": x})  # was (2, 1, 4): keepdims=2
    np.testing.assert_array_equal(found, [11.0, 11.0])
    np.testing.assert_array_equal(api.evaluate("x.count_nonzero(0, 1, 2)", {"x": x}), 22.0)
    with pytest.raises(JacError, match="has no argument 'keepdim'"):  # PyTorch's TypeError (session 53: kwnames)
        api.evaluate("x.count_nonzero(1, keepdim=True)", {"x": x})


def test_pinverse_method_reads_rcond_as_pytorch():
    A = rng.uniform(0.2, 0.9, (2, 3))
    np.testing.assert_allclose(api.evaluate("A.pinverse(1e-3)", {"A": A}), np.linalg.pinv(A), rtol=1e-10)
    with pytest.raises(JacValueError, match="cutoff"):  # was hermitian=1; PyTorch zeroes every singular value
        api.evaluate("A.pinverse(1)", {"A": A})
    with pytest.raises(JacValueError, match="to say which"):  # NumPy's and PyTorch's second argument is rcond
        api.evaluate("pinv(A, 1)", {"A": A})


def test_svd_method_is_pytorchs_with_v_not_vh():
    x = rng.uniform(0.2, 0.9, (2, 3))  # was NumPy's reading: Vh (square) or refused (full_matrices)
    # U and V alone are refused (PyTorch's signs, session 23): squares and products that do not depend on them
    u2, s, v2 = (np.asarray(api.evaluate(f"x.svd()[{k}]{' ** 2' if k != 1 else ''}", {"x": x})) for k in range(3))
    assert u2.shape == (2, 2) and s.shape == (2,) and v2.shape == (3, 2)
    np.testing.assert_allclose(api.evaluate("u, s, v = x.svd(); (u * s) @ v.T", {"x": x}), x, rtol=1e-12)
    np.testing.assert_allclose(api.evaluate("x.svd().V ** 2", {"x": x}), v2)
    np.testing.assert_allclose(v2, np.linalg.svd(x, full_matrices=False)[2].T ** 2, rtol=1e-12)
    np.testing.assert_allclose(s, np.linalg.svd(x, compute_uv=False), rtol=1e-12)


@pytest.mark.parametrize("method", ["solve", "lstsq"])
def test_removed_tensor_methods_that_took_the_right_hand_side_first_are_refused(method):
    with pytest.raises(JacNameError, match=f"x.{method}\\(\\) was removed from PyTorch"):
        api.evaluate(f"B.{method}(A)", {"B": np.ones((3, 2)), "A": 2 * np.eye(3)})  # was A⁻¹ read as B⁻¹ A


REFUSED = [  # (expression, bindings, words of the one message); each was an internal error (exit 70)
    ("torch.cross(x, y)", ["x:2x2", "y:2x3"], "cannot broadcast shapes (2, 2) and (2, 3)"),  # was ValueError
    ("x.cross(y)", ["x:2x3x3", "y:2x3"], "cannot broadcast shapes"),
    ("x.gather(0, y)", ["x:()", "y:()"], "a 0-d array has no axis to pick along"),  # were IndexError
    ("x.select(0, 0)", ["x:()"], "a 0-d array has no axis to pick along"),
    # PyTorch's torch.take takes no third argument: its TypeError, first (session 47, lang/argspec.py)
    ("torch.take(x, y, 0)", ["x:()", "y:()"], "torch.take() takes 2 positional argument(s) but 3 were given"),
    ("torch.take_along_dim(x, y, 0)", ["x:()", "y:()"], "a 0-d array has no axis to pick along"),
]


@pytest.mark.parametrize("expr, bindings, words", REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_with_one_message(expr, bindings, words):
    result = CliRunner().invoke(app, ["eval", expr, *bindings])
    assert result.exit_code == 2, result.output
    assert words in result.output and "internal error" not in result.output


def test_the_factor_reading_does_not_follow_the_first_calls_wrt():
    # a compiled graph serves every wrt: built for wrt=["B"] first, it must still give L's gradient as PyTorch
    g = rng.standard_normal((3, 2))
    env = {"B": B, "L": L.copy()}
    api.vjp("torch.cholesky_solve(B, L) * 1.0", env, g, wrt=["B"])
    found = api.vjp("torch.cholesky_solve(B, L) * 1.0", env, g, wrt=["L"])["L"]
    A = L @ L.T
    common = np.linalg.solve(A, g) @ np.linalg.solve(A, B).T
    np.testing.assert_allclose(found, -(common + common.T) @ L, rtol=1e-12, atol=1e-14)


def test_a_factor_read_at_its_values_cannot_take_batch_and_says_so():
    result = CliRunner().invoke(app, ["eval", "torch.cholesky_inverse(L)", "L=[[[1.5,0],[0.3,1.2]],[[2,0],[0.5,1]]]",
                                      "--batch", "L"])
    assert result.exit_code == 2, result.output
    assert "cannot take --batch" in result.output and "a Cholesky factor checked triangular" in result.output
    assert "  torch.cholesky_inverse(L)\n        ^" in result.output  # the caret under the call that reads it
