"""Session 49: a log_softmax of large logits (found by benchmarks/nan41_fuzz.py, seed 4913).

``x - logsumexp(x)`` loses the sum's log to rounding where the slice's maximum is large: logsumexp([1e16, 1e16]) is
1e16 + log 2, which float64 rounds to 1e16, so log_softmax was [0, 0] (PyTorch and JAX: -0.693) and its Jacobian,
exp(x - logsumexp(x)) = 1 for both, [[0, -1], [-1, 0]] (theirs [[.5, -.5], [-.5, .5]]), silently. jac now shifts by
the slice's finite maximum first, as PyTorch's and JAX's kernels do: (x - c) - logsumexp(x - c)
(``functions.log_softmax_of``, ``ops.log_softmax_shift``), for every spelling of log_softmax, cross_entropy, JAX's
softmax over several axes and the Categorical / RelaxedOneHotCategorical normalization.
"""
from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.tools import api

LOG2 = float(np.log(2.0))
HALF = np.array([[0.5, -0.5], [-0.5, 0.5]])

SPELLINGS = [
    "torch.log_softmax(x, 0)",
    "F.log_softmax(x, dim=0)",
    "torch.special.log_softmax(x, 0)",
    "x.log_softmax(0)",
    "jax.nn.log_softmax(x)",
    "scipy.special.log_softmax(x)",
]


@pytest.mark.parametrize("text", SPELLINGS)
@pytest.mark.parametrize("big", [1e16, -1e16, 3e17, 1e300])
def test_log_softmax_of_equal_large_logits(text, big):
    x = np.array([big, big])
    assert np.allclose(api.evaluate(text, {"x": x}), [-LOG2, -LOG2], rtol=1e-15, atol=0)
    assert np.allclose(api.jacobian(text, {"x": x})["x"], HALF, rtol=1e-15, atol=0)


@pytest.mark.parametrize("text", SPELLINGS)
def test_log_softmax_against_pytorch_at_large_logits(text):
    import torch

    for x in ([3e15, 3e15, 1.0], [1.0, 2.0, 1e308, 1e308], [1e16, 1e16 + 4, -1e16], [5e15, 2.0, 5e15 + 1]):
        xt = torch.tensor(x, dtype=torch.float64)
        want = torch.log_softmax(xt, 0).numpy()
        jac_want = torch.func.jacrev(lambda v: torch.log_softmax(v, 0))(xt).numpy()
        got = api.evaluate(text, {"x": np.array(x)})
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(api.jacobian(text, {"x": np.array(x)})["x"], jac_want, rtol=1e-14, atol=1e-15)


def test_log_softmax_hessian_at_large_logits():
    # d²/dx² of log_softmax(x)[0] is -(diag(s) - s sᵀ): at s = [.5, .5], [[-.25, .25], [.25, -.25]]
    h = api.hessian("torch.log_softmax(x, 0)[0]", {"x": np.array([1e16, 1e16])})[("x", "x")]
    np.testing.assert_allclose(np.asarray(h).reshape(2, 2), [[-0.25, 0.25], [0.25, -0.25]], rtol=1e-15, atol=0)


def test_log_softmax_of_a_matrix_along_each_axis():
    import torch

    a = np.array([[1e16, 1e16, 0.0], [2.0, -1e16, -1e16]])
    for axis in (0, 1):
        want = torch.log_softmax(torch.tensor(a), axis).numpy()
        np.testing.assert_allclose(api.evaluate(f"torch.log_softmax(A, {axis})", {"A": a}), want, rtol=1e-15)
    got = api.evaluate("scipy.special.log_softmax(A)", {"A": a})  # over every element
    assert np.allclose(got[0, :2], -LOG2, rtol=1e-15) and got[1, 0] == (2.0 - 1e16) - LOG2


def test_cross_entropy_of_large_logits():
    text = "F.cross_entropy(x[None], torch.tensor([0]))"
    x = np.array([1e16, 1e16])
    assert api.evaluate(text, {"x": x}) == pytest.approx(LOG2, rel=1e-15)
    np.testing.assert_allclose(api.jacobian(text, {"x": x})["x"], [-0.5, 0.5], rtol=1e-15)


def test_jax_softmax_over_several_axes_of_large_logits():
    x = np.array([[1e16, 1e16], [1e16, 1e16]])
    got = api.evaluate("jax.nn.softmax(x, axis=None)", {"x": x})
    np.testing.assert_allclose(got, np.full((2, 2), 0.25), rtol=1e-15)


def test_categorical_of_large_logits():
    # PyTorch's own Categorical normalizes as logits - logsumexp(logits) and gives 0 and -0 here (its rounding);
    # the true log-probability is -log 2 and the entropy log 2
    x = np.array([1e16, 1e16])
    assert api.evaluate("torch.distributions.Categorical(logits=x).log_prob(torch.tensor(0))",
                        {"x": x}) == pytest.approx(-LOG2, rel=1e-15)
    assert api.evaluate("torch.distributions.Categorical(logits=x).entropy()", {"x": x}) == pytest.approx(LOG2,
                                                                                                           rel=1e-15)


@pytest.mark.parametrize("x", [
    [1.0, float("inf"), 2.0], [1.0, -float("inf"), 2.0], [1.0, float("nan"), 2.0], [-float("inf")] * 3,
    [float("inf"), float("inf"), 0.0], [0.3, -1.2, 2.5], [-0.0, 0.0, 1e-300],
])
def test_unchanged_where_the_max_is_not_finite_or_small(x):
    """PyTorch's values and NaN / inf pattern where the shift is 0 (an infinite or NaN max) or changes nothing."""
    import torch

    xt = torch.tensor(x, dtype=torch.float64)
    want = torch.log_softmax(xt, 0).numpy()
    got = api.evaluate("torch.log_softmax(x, 0)", {"x": np.array(x)})
    np.testing.assert_allclose(got, want, rtol=1e-15, atol=0, equal_nan=True)
    if np.isfinite(x).all():
        jac_want = torch.func.jacrev(lambda v: torch.log_softmax(v, 0))(xt).numpy()
        np.testing.assert_allclose(api.jacobian("torch.log_softmax(x, 0)", {"x": np.array(x)})["x"], jac_want,
                                   rtol=1e-14, atol=1e-16)


def test_log_softmax_float32_of_large_logits():
    # float32 rounds 1e8 + log 2 to 1e8 (its spacing there is 8)
    got = api.evaluate("torch.log_softmax(x, 0)", {"x": np.array([1e8, 1e8], dtype=np.float32)}, dtype="float32")
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, [-LOG2, -LOG2], rtol=1e-6)


@pytest.mark.parametrize("text", ["torch.logsumexp(x, 0)", "jax.nn.logsumexp(x)", "scipy.special.logsumexp(x)",
                                  "np.logaddexp.reduce(x)"])
def test_logsumexp_derivative_at_equal_large_logits(text):
    """logsumexp's derivative is the softmax, [0.5, 0.5] here (JAX's); exp(x - logsumexp(x)) was [1, 1], the
    rounded logsumexp's (PyTorch's own backward keeps that rounding: torch.logsumexp's gradient is [1, 1])."""
    x = np.array([1e16, 1e16])
    for mode in ("reverse", "forward"):
        np.testing.assert_allclose(api.jacobian(text, {"x": x}, mode=mode)["x"], [0.5, 0.5], rtol=1e-15)
    h = np.asarray(api.hessian(text, {"x": x})[("x", "x")]).reshape(2, 2)
    np.testing.assert_allclose(h, [[0.25, -0.25], [-0.25, 0.25]], rtol=1e-15)


def test_logsumexp_derivative_against_jax():
    import jax

    jax.config.update("jax_enable_x64", True)
    for x in ([3e15, 3e15, 1.0], [1e300, -2.0, 1e300], [0.3, -1.2, 2.5], [1.0, -np.inf, 2.0]):
        want = np.asarray(jax.grad(jax.nn.logsumexp)(np.array(x)))
        np.testing.assert_allclose(api.jacobian("jax.nn.logsumexp(x)", {"x": np.array(x)})["x"], want, rtol=1e-14)


@pytest.mark.parametrize("text", SPELLINGS + ["F.cross_entropy(x[None], torch.tensor([2]))"])
def test_jac_diff_formula_of_log_softmax_is_x_minus_logsumexp(text):
    """The shift's formula is 0: jac diff prints x - log(Σ exp) as before (no Max), and the formula holds at a point
    (no note), equal to autodiff's derivative."""
    from jacobi_cli.tools import symbolic

    x = np.array([0.3, -1.2, 2.5])
    result = symbolic.differentiate(text, [f"x={x.tolist()!r}"])
    d = result.derivatives["x"]
    assert "Max" not in str(result.output) and "Max" not in str(d.expr) and "log" in str(result.output)
    assert not d.note
    want = api.jacobian(text, {"x": x})["x"]
    np.testing.assert_allclose(np.asarray(d.value, dtype=float).reshape(np.shape(want)), want, rtol=1e-12)
