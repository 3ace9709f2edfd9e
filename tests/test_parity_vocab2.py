"""The second sweep of everyday calls (benchmarks/vocab_sweep.py): what jac refused and now lowers, each
against PyTorch (value, Jacobians, a VJP, the Hessian of a one-element output: tests/parity.py) and central
differences, at edge values and in float32; and the calls jac refuses, each saying why.

det at a singular matrix: its derivative is the cofactor matrix adj(A)ᵀ (det is a polynomial), which
``torch.func.jacrev`` gives; PyTorch 2.13's eager backward (``torch.autograd.grad``) writes 0 at an exactly
singular matrix of rank n - 1 ([[1, 2], [2, 4]]: 0 where the cofactors are [[4, -2], [-2, 1]]), so the
references below are ``torch.func`` and the exact adjugate.
"""

import numpy as np
import pytest

from jacobi_cli.errors import JacError, JacValueError
from jacobi_cli.tools import api
from parity import assert_parity

torch = pytest.importorskip("torch")
F = torch.nn.functional
la = torch.linalg
rng = np.random.default_rng(2)


def central(f, x, h=1e-6):
    """d f / d x by central differences: shape f(x).shape + x.shape."""
    x = np.asarray(x, dtype=np.float64)
    y0 = np.asarray(f(x))
    out = np.zeros(y0.shape + x.shape)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        out[(...,) + i] = (np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * h)
    return out


def assert_central(expr, inputs, rtol=1e-6, atol=1e-7, **kw):
    """jac's Jacobian of every input equals central differences of jac's own value."""
    ours = api.jacobian(expr, inputs, **kw)
    for name, x in inputs.items():
        f = lambda v, name=name: api.evaluate(expr, {**inputs, name: v}, **kw)  # noqa: E731
        np.testing.assert_allclose(ours[name], central(f, x), rtol=rtol, atol=atol, err_msg=f"{expr}: d/d{name}")


# --- det at a singular matrix --------------------------------------------------------------------------

def _adjugate_transposed(a: np.ndarray) -> np.ndarray:
    import sympy

    return np.array(sympy.Matrix(a.astype(int).tolist()).adjugate().T.tolist(), dtype=np.float64)


SINGULAR = {
    "rank n-1": np.array([[1.0, 2.0], [2.0, 4.0]]),
    "rank n-1, 3x3": np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]),
    "a zero pivot": np.array([[1.0, 0.0], [0.0, 0.0]]),
    "rank n-2": np.outer([1.0, 2.0, 3.0], [1.0, -1.0, 2.0]),
    "zero": np.zeros((3, 3)),
    "zero 1x1": np.zeros((1, 1)),
}


@pytest.mark.parametrize("spelling", ["det(A)", "torch.det(A)", "torch.linalg.det(A)", "np.linalg.det(A)", "A.det()"])
@pytest.mark.parametrize("name", list(SINGULAR))
def test_det_at_a_singular_matrix_has_the_cofactor_matrix_as_derivative(spelling, name):
    a = SINGULAR[name]
    assert api.evaluate(spelling, {"A": a}) == 0.0
    ours = api.jacobian(spelling, {"A": a})["A"]
    np.testing.assert_allclose(ours, _adjugate_transposed(a), atol=1e-14)
    theirs = torch.func.jacrev(la.det)(torch.tensor(a)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours, central(np.linalg.det, a), atol=1e-8)
    tangent = rng.standard_normal(a.shape)
    np.testing.assert_allclose(api.jvp(spelling, {"A": a}, tangents={"A": tangent}), (ours * tangent).sum(), atol=1e-13)


def test_det_of_a_batch_mixes_both_branches_and_float32_keeps_its_type():
    a = np.stack([SINGULAR["rank n-1"], np.array([[2.0, 1.0], [0.5, 3.0]]), np.zeros((2, 2))])
    ours = api.jacobian("torch.linalg.det(A)", {"A": a})["A"]
    np.testing.assert_allclose(ours, torch.func.jacrev(la.det)(torch.tensor(a)).numpy(), rtol=1e-12, atol=1e-14)
    single = api.jacobian("det(A)", {"A": a[0].astype(np.float32)}, dtype="float32")["A"]
    assert single.dtype == np.float32
    np.testing.assert_allclose(single, _adjugate_transposed(a[0]), atol=1e-6)


def test_det_keeps_pytorch_s_answers_at_an_invertible_matrix():
    s = rng.uniform(-1, 1, (3, 3)) + 2 * np.eye(3)
    assert_parity("torch.linalg.det(S)", {"S": s}, lambda S: la.det(S))
    assert_parity("(np.linalg.det(S) * x).sum()", {"S": s, "x": rng.uniform(-1, 1, 3)},
                  lambda S, x: (la.det(S) * x).sum())


def test_det_of_empty_and_non_finite_matrices():
    assert api.evaluate("det(A)", {"A": np.zeros((0, 0))}) == 1.0
    assert api.jacobian("det(A)", {"A": np.zeros((0, 0))})["A"].shape == (0, 0)
    assert api.jacobian("det(A)", {"A": np.zeros((0, 2, 2))})["A"].shape == (0, 0, 2, 2)
    assert np.isnan(api.jacobian("det(A)", {"A": np.full((2, 2), np.nan)})["A"]).all()


@pytest.mark.parametrize("name", ["rank n-1", "zero"])
def test_det_s_second_derivative_at_a_singular_matrix_is_refused_saying_why(name):
    with pytest.raises(JacValueError, match="second derivative of det .*singular"):
        api.hessian("det(A)", {"A": SINGULAR[name]})


def test_logdet_at_a_singular_matrix_is_minus_inf_and_its_derivative_is_refused_saying_why():
    a = SINGULAR["rank n-1"]
    assert api.evaluate("torch.linalg.slogdet(A)[1]", {"A": a}) == -np.inf
    for expr in ("torch.logdet(A)", "torch.linalg.slogdet(A)[1]", "np.linalg.slogdet(A)[1]"):
        with pytest.raises(JacValueError, match=r"log\|det A\|.*does not exist where det A = 0"):
            api.jacobian(expr, {"A": a})
