"""Session 53 (h53-fuzz): exp(log_softmax(x)) as PyTorch and JAX spell it is softmax(x).

log_softmax is composed, (x - c) - logsumexp(x - c), and its reverse pass adds the cotangent g and -Σg · s. Where
g is proportional to s (log_softmax's null space: ``torch.sum(torch.exp(torch.log_softmax(...)))``, whose rows sum to
1) the sum rounds to c · s · (1 - Σs), and a second derivative by y at logits x · y with x ≈ 1e150 carries x² times
it: 6.8e284 for a true 0, unwarned (session 52's h52-tails, docs/robustness.md). ``Builder._softmax_of_exp`` now
builds exp of PyTorch's or JAX's log_softmax as softmax, whose rule is exact at a cotangent that is one number along
the axis (session 52): every derivative is 0 there, on the interpreter's and the compiled paths.
"""
from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.tools import api


def _point(c: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    return {"x": np.concatenate([[c * 1e150], rng.standard_normal(3)]), "y": np.array(1e-150)}


ZERO_TEXTS = [
    "torch.sum(torch.exp(torch.log_softmax((x * y).reshape(2, 2), 1)))",
    "torch.sum(torch.exp(torch.log_softmax(x * y, 0)))",
    "torch.sum(torch.exp(torch.log_softmax((x * y).reshape(2, 2), 0)))",
    "torch.exp(F.log_softmax((x * y).reshape(2, 2), dim=1)).sum()",
    "(x * y).log_softmax(0).exp().sum()",
    "jnp.sum(jnp.exp(jax.nn.log_softmax(x * y)))",
]


@pytest.mark.parametrize("c", [3.7, 9.9])
@pytest.mark.parametrize("expr", ZERO_TEXTS)
def test_exp_of_log_softmax_summed_has_exact_zero_derivatives(expr, c):
    """Each slice of exp(log_softmax) sums to 1: every derivative of the sum is 0. It was up to 6.8e284 (∂²/∂y²)
    and the gradient by y -8.2e134 (the vector's); the later calls run the compiled kernels."""
    b = _point(c)
    for _ in range(3):
        for block in api.hessian(expr, b).values():
            assert not np.any(block), block
        for g in api.jacobian(expr, b).values():
            assert not np.any(g), g


def test_exp_of_log_softmax_third_derivative_is_zero():
    b = _point(3.7)
    assert not np.any(api.derivative(ZERO_TEXTS[0], b, order=3, wrt=["y"]))


@pytest.mark.parametrize("expr", ["torch.exp(torch.log_softmax(x.reshape(2, 2), 1))",
                                  "torch.sum(torch.exp(torch.log_softmax(x, 0)) * x)"])
def test_exp_of_log_softmax_is_softmax_bits(expr):
    """The value and Jacobian are softmax's own bits (exp(z - logsumexp(z)) rounded otherwise: 1 ulp at x below),
    and PyTorch's within rounding, NaN where its are (a slice whose max is +inf or NaN)."""
    torch = pytest.importorskip("torch")
    x = np.array([1.0, 2.0, -0.5, 3.0])
    soft = expr.replace("torch.exp(torch.log_softmax(", "(torch.softmax(")
    assert np.array_equal(api.evaluate(expr, {"x": x}), api.evaluate(soft, {"x": x}))
    assert np.array_equal(api.jacobian(expr, {"x": x})["x"], api.jacobian(soft, {"x": x})["x"])
    f = {0: lambda t: torch.exp(torch.log_softmax(t.reshape(2, 2), 1)),
         1: lambda t: torch.sum(torch.exp(torch.log_softmax(t, 0)) * t)}[0 if "reshape" in expr else 1]
    for point in (x, np.array([np.inf, 1.0, 2.0, 3.0]), np.array([np.nan, 1.0, 2.0, 3.0]),
                  np.array([-np.inf, 1.0, -np.inf, -np.inf]), np.array([1e300, -1e300, 5.0, 5.0])):
        want = f(torch.tensor(point)).numpy()
        assert np.allclose(api.evaluate(expr, {"x": point}), want, rtol=1e-15, atol=0, equal_nan=True)
        J = torch.autograd.functional.jacobian(f, torch.tensor(point)).numpy()
        assert np.allclose(api.jacobian(expr, {"x": point})["x"], J, rtol=1e-12, atol=1e-15, equal_nan=True)


# --- an op reading one argument twice: its two partials added before other readers' parts ----------------------

TWICE = [("sum(atan2(x, x)) + sum(x[::-1])", [1.0, 1.0, 1.0, 1.0]),
         ("sum(atan2(x, x) * flip(x, 0))", [np.pi / 4] * 4)]


@pytest.mark.parametrize("expr,want", TWICE)
def test_an_argument_read_twice_keeps_the_other_readers_parts(expr, want):
    """atan2(x, x)'s partials by its two arguments are ±1/(2x), ±5e199 at x = 1e-200: added to x's cotangent one
    at a time after the flip's 1, (1 + 5e199) - 5e199 gave 0 for 1 in reverse mode (forward mode was right)
    (nan41 seed 5301: ``softmax(atan2(x, x) * flip(x))``'s columns of its entries below 1e-162 were 0)."""
    x = np.array([1.0, 2.0, 1e-200, 1e-100])
    for _ in range(3):  # the interpreter, then the compiled passes
        for mode in ("reverse", "forward", "auto"):
            assert np.allclose(api.jacobian(expr, {"x": x}, mode=mode)["x"], want, rtol=1e-15, atol=0)
        assert np.allclose(api.vjp(expr, {"x": x}, np.array(1.0))["x"], want, rtol=1e-15, atol=0)


def test_softmax_of_atan2_of_tiny_entries_as_pytorch():
    torch = pytest.importorskip("torch")
    text = "torch.softmax((torch.atan2((x), x)) * torch.flip(x, [0]), 0)"
    x = np.array([1.0, 2.0, 1e-308, 1e-308])
    want = torch.autograd.functional.jacobian(
        lambda t: torch.softmax(torch.atan2(t, t) * torch.flip(t, [0]), 0), torch.tensor(x)).numpy()
    assert np.all(np.abs(want[:, 2:]) > 1e-3)  # the columns that were 0
    for _ in range(3):
        for mode in ("reverse", "forward"):
            assert np.allclose(api.jacobian(text, {"x": x}, mode=mode)["x"], want, rtol=1e-13, atol=0)


# --- jac diff by a special function's parameter: a refusal, not an internal error ---------------------------------

@pytest.mark.parametrize("wrt", ["a", "b"])
def test_diff_of_hyp1f1_by_its_parameter_is_refused(wrt):
    """SymPy's "Can't calculate derivative wrt 1/2" ended ``jac diff`` in an internal error, exit 70 (symcheck38's
    CRASH, seed 5317); by x it answers."""
    import subprocess
    import sys
    cmd = [sys.executable, "-m", "jacobi_cli", "diff", "scipy.special.hyp1f1(a, b, x)", "a=0.5", "b=1.5", "x=0.7"]
    out = subprocess.run(cmd + ["--wrt", wrt], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    assert "no formula for the derivative by" in out.stderr and "internal error" not in out.stderr
    assert subprocess.run(cmd + ["--wrt", "x"], capture_output=True, text=True, timeout=120).returncode == 0
