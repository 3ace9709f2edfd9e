"""Parity of session 35's reads with PyTorch itself (skipped without it): torch.as_strided / as_strided_copy /
x.as_strided of an input, values and Jacobians against ``torch.autograd.functional.jacobian`` (overlapping windows
included); x.short() / x.char() against PyTorch's casts; x.is_complex() / is_conj() / is_neg(), x.to_dense() and
x.nonzero_static() against PyTorch's answers; and the names PyTorch itself refuses for a dense tensor
(torch.native_norm, x.byte()'s undefined cast) stay refused."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from test_parity_grad24 import assert_agrees_with_pytorch, torch64  # noqa: F401 - the fixture is used by name

rng = np.random.default_rng(3535)
X = rng.standard_normal(7)
A = rng.standard_normal((3, 4))

STRIDED = [
    ("torch.as_strided(x, (5, 3), (1, 1))", {"x": X}),
    ("torch.as_strided(x, (3, 3), (2, 1), 0).sum(1) ** 2", {"x": X}),
    ("x.as_strided((2, 4), (0, 1), 3) * x[:4]", {"x": X}),
    ("torch.as_strided_copy(x, (2, 2), (3, 2), 1)", {"x": X}),
    ("torch.as_strided(A, (4, 3), (1, 4))", {"A": A}),
    ("torch.as_strided(A, (2, 2, 3), (2, 1, 3)).prod(-1)", {"A": A}),
    ("torch.tanh(A.as_strided((6,), (2,), 0)) @ torch.as_strided(A, (6,), (1,), 6)", {"A": A}),
]


@pytest.mark.parametrize("text,inputs", STRIDED)
def test_as_strided_agrees_with_pytorch(torch64, text, inputs):
    assert_agrees_with_pytorch(torch64, text, inputs)


def test_as_strided_windows_vjp_is_pytorchs(torch64):
    torch = torch64
    t = torch.tensor(X, requires_grad=True)
    v = rng.standard_normal((5, 3))
    torch.as_strided(t, (5, 3), (1, 1)).backward(torch.tensor(v))
    np.testing.assert_allclose(api.vjp("torch.as_strided(x, (5, 3), (1, 1))", {"x": X}, v=v)["x"],
                               t.grad.numpy(), rtol=1e-13)


@pytest.mark.parametrize("method,scale", [("short", 1000.0), ("char", 40.0)])
def test_integer_casts_are_pytorchs(torch64, method, scale):
    x = X * scale
    want = getattr(torch64.tensor(x), method)().numpy()
    np.testing.assert_array_equal(api.evaluate(f"x.{method}()", {"x": x}), want)


def test_questions_and_identities_are_pytorchs(torch64):
    torch = torch64
    t = torch.tensor(X)
    for q in ("is_complex", "is_conj", "is_neg"):
        assert api.evaluate(f"x.{q}()", {"x": X}) == float(getattr(t, q)())
    assert_agrees_with_pytorch(torch, "x.to_dense() * x", {"x": X})
    want = (t > 0).nonzero_static(size=6).numpy()
    np.testing.assert_array_equal(api.evaluate("(x > 0).nonzero_static(size=6)", {"x": X}), want)


def test_what_pytorch_refuses_for_a_dense_tensor_is_refused(torch64):
    torch = torch64
    with pytest.raises(NotImplementedError):
        torch.native_norm(torch.tensor(X))
    with pytest.raises(JacError, match="vector_norm"):
        api.evaluate("torch.native_norm(x)", {"x": X})


def test_as_strided_scatter_is_refused_because_pytorchs_backward_is_not_its_derivative(torch64):
    torch = torch64
    x = np.array([0.5, 1.5, -2.5, 3.7])

    def f(t):
        return torch.as_strided_scatter(t, t[:2] ** 2, (2,), (2,), 1)
    autograd = torch.autograd.functional.jacobian(f, torch.tensor(x)).numpy()
    eps = 1e-6
    central = np.stack([(f(torch.tensor(x + eps * e)) - f(torch.tensor(x - eps * e))).numpy() / (2 * eps)
                        for e in np.eye(4)], axis=1)
    assert not np.allclose(autograd, central, atol=1e-4)  # why jac refuses: no derivative to agree with
    with pytest.raises(JacError, match="disagrees with its own values"):
        api.evaluate("torch.as_strided_scatter(x, x[:2] ** 2, (2,), (2,), 1)", {"x": x})
