"""What a newcomer pasting PyTorch / NumPy code meets (htrust12): cumprod's derivatives past a NaN, logdet of a
negative determinant, everyday spellings jac refused (positional dtypes, torch.Size, FloatTensor, divmod,
slice objects, conditional expressions) and a sweep of losses, norms and reductions with their options, each
against PyTorch (float64) and central differences."""

from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from parity import assert_parity, central

torch = pytest.importorskip("torch")
F = torch.nn.functional
nan, inf = np.nan, np.inf


def T(a):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


# --- cumprod past a NaN: an entry whose output no NaN reaches is finite, y_i's entries for j > i exact 0 ----

def _exact_cumprod_jacobian(x):
    """d y_i / d x_j = the product of x_k (k <= i, k != j) in IEEE arithmetic, 0 for j > i."""
    n = len(x)
    out = np.zeros((n, n))
    with np.errstate(invalid="ignore"):
        for i in range(n):
            for j in range(i + 1):
                out[i, j] = np.prod([x[k] for k in range(i + 1) if k != j])
    return out


CUMPROD_POINTS = [[2.0, 0.0, nan, 3.0], [nan, 0.0, 2.0, 3.0], [2.0, nan, 0.0, 3.0], [0.0, 2.0, nan],
                  [1.0, 2.0, 0.0, 0.0, 3.0], [1.5, inf, 0.0, 2.0], [-2.0, 3.0, nan]]


@pytest.mark.parametrize("xs", CUMPROD_POINTS, ids=str)
def test_cumprod_jacobian_past_a_nan_is_exact_entry_by_entry(xs):
    x = np.array(xs)
    want = _exact_cumprod_jacobian(x)
    for mode in ("reverse", "forward"):
        got = np.asarray(api.jacobian("torch.cumprod(x, 0)", {"x": x}, mode=mode)["x"])
        assert np.array_equal(got, want, equal_nan=True), (mode, got, want)
    compiled = api.compile("torch.cumprod(x, 0)", {"x": x})
    for _ in range(3):  # the kernel's answers are the interpreter's
        assert np.array_equal(np.asarray(compiled.jacobian({"x": x})["x"]), want, equal_nan=True)
    with np.errstate(invalid="ignore"):
        numeric = central(lambda v: np.cumprod(v), x)
    rows = np.cumsum(~np.isfinite(x)) == 0  # outputs no NaN or inf reaches: central differences agree
    np.testing.assert_allclose(want[rows], numeric[rows], rtol=1e-8, atol=1e-8)


def test_cumprod_past_a_nan_where_pytorch_writes_nan_or_0():
    """PyTorch's rule divides by the zero: d y_1 / d x_1 = x_0 = 2 is NaN there, and d y_3 / d x_3 (a product
    holding the NaN) is 0. jac's entries are the products themselves."""
    x = T([2.0, 0.0, nan, 3.0])
    theirs = torch.autograd.functional.jacobian(lambda t: torch.cumprod(t, 0), x.detach()).numpy()
    ours = np.asarray(api.jacobian("torch.cumprod(x, 0)", {"x": np.array([2.0, 0.0, nan, 3.0])})["x"])
    assert np.isnan(theirs[1, 1]) and ours[1, 1] == 2.0
    assert theirs[3, 3] == 0.0 and np.isnan(ours[3, 3])


def test_cumprod_along_an_axis_of_a_matrix_past_a_nan():
    x = np.array([[2.0, nan], [0.0, 3.0], [nan, 4.0]])
    got = np.asarray(api.jacobian("x.cumprod(dim=0)", {"x": x})["x"])
    for col in range(2):
        assert np.array_equal(got[:, col, :, col], _exact_cumprod_jacobian(x[:, col]), equal_nan=True)
        assert not got[:, col, :, 1 - col].any()


def test_cumprod_vjp_of_a_general_cotangent_is_unchanged():
    x = np.array([0.5, -2.0, 3.0, 0.25])
    assert_parity("torch.cumprod(x, 0)", {"x": x}, lambda x: torch.cumprod(x, 0))
    assert_parity("torch.cumprod(x, 0).sum()", {"x": np.array([1.5, 0.0, 2.0])}, lambda x: torch.cumprod(x, 0).sum())


# --- logdet of a negative determinant: NaN and a NaN derivative (PyTorch: NaN and 0); slogdet is PyTorch's --

NEGATIVE = np.array([[1.0, 2.0], [3.0, 1.0]])  # det = -5


def test_logdet_of_a_negative_determinant_has_a_nan_derivative():
    for expr in ("torch.logdet(A)", "A.logdet()", "torch.logdet(A) + A.sum()"):
        assert np.isnan(api.evaluate(expr, {"A": NEGATIVE}))
        assert np.isnan(np.asarray(api.jacobian(expr, {"A": NEGATIVE})["A"])).all(), expr
        assert np.isnan(np.asarray(api.hessian(expr, {"A": NEGATIVE})["A", "A"])).all(), expr
    with np.errstate(invalid="ignore"):  # central differences: log of a negative number on both sides
        assert np.isnan(central(lambda a: np.log(np.linalg.det(a)), NEGATIVE)).all()
    A = T(NEGATIVE)
    torch.logdet(A).backward()
    assert not A.grad.numpy().any()  # PyTorch's documented difference: a zero gradient at a NaN value


def test_logdet_elsewhere_is_pytorch_s():
    pos = np.array([[2.0, 0.5], [0.3, 1.0]])
    assert_parity("torch.logdet(A)", {"A": pos}, lambda A: torch.logdet(A))
    batch = np.stack([pos, NEGATIVE, 2 * pos])
    got = np.asarray(api.jacobian("torch.logdet(A)", {"A": batch})["A"])
    A = T(batch)
    want = torch.autograd.functional.jacobian(torch.logdet, A.detach()).numpy()
    for k in (0, 2):  # each matrix's own derivatives, PyTorch's; the negative one's NaN row stays its own
        np.testing.assert_allclose(got[k], want[k], rtol=1e-12)
    assert np.isnan(got[1, 1]).all() and not got[1, 0].any() and not got[1, 2].any()
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    assert api.evaluate("torch.logdet(A)", {"A": singular}) == -inf == torch.logdet(torch.tensor(singular)).item()


@pytest.mark.parametrize("expr,fn", [
    ("torch.slogdet(A)[1]", lambda A: torch.slogdet(A)[1]),
    ("torch.linalg.slogdet(A).logabsdet * 2", lambda A: torch.linalg.slogdet(A).logabsdet * 2),
    ("torch.linalg.slogdet(A).sign * A.sum()", lambda A: torch.linalg.slogdet(A).sign * A.sum()),
    ("s, l = torch.slogdet(A); s * torch.exp(l)", lambda A: torch.det(A)),
])
def test_slogdet_of_a_negative_determinant_is_pytorch_s(expr, fn):
    assert_parity(expr, {"A": NEGATIVE}, fn)
