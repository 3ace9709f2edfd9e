"""Session 51 (h51-precision): slopes that rounded to 0, and lgamma's value near its zeros.

sigmoid's rule was σ(1 - σ), 0 past x = 37 (σ rounds to 1) where σ' = e^-x is a normal number up to 708.
softplus'', logsigmoid'', silu's derivatives read it (binary_cross_entropy_with_logits' lowering takes softplus of
-|x| only: it was right). Now σ' is the op ``sigmoid_slope``, sech²(x/2) / 4 with sech² = 1 / cosh² (``ops._sech2_of``);
its own derivative is -σ'(x) tanh(x/2). mish's and gelu_tanh's first derivatives read the op ``sech2`` (exact past
|x| = 19.1). tanh's own rule stays 1 - t², PyTorch's and JAX's (the lead's call: the exact op cost E6's repeated
Jacobian 19 % through the kernels), so their higher derivatives, and tanh's, are PyTorch's there (0 past 19.1).
PyTorch keeps σ(1 - σ): it gives 0 there. The truth is mpmath's at 400 digits. SciPy's gammaln lost log Γ's digits
near 1 and 2 (2.2e-16 for 6.4e-17 at 1 - 2⁻⁵³): now a Taylor series there (``ops._lgamma_near_zeros``).
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from jacobi_cli.tools import api


def _truth(f, x, order):
    with mpmath.workdps(400):  # σ(300) = 1 - 5e-131: its differences need the digits
        return float(mpmath.diff(f, mpmath.mpf(x), order))


def _sig(v):
    return 1 / (1 + mpmath.exp(-v))


def _rel(got, want):
    return abs(float(got) - want) <= 1e-13 * abs(want)


def _derivatives(text, y, orders=(1, 2, 3), **kw):
    return [np.asarray(api.derivative(text, {"y": repr(y)}, order=k, **kw)) for k in orders]


@pytest.mark.parametrize("text, f, y, orders", [
    ("torch.sigmoid(y)", _sig, 40.0, (1, 2, 3)),
    ("torch.sigmoid(y)", _sig, 300.0, (1, 2, 3)),
    ("F.logsigmoid(y)", lambda v: -mpmath.log(1 + mpmath.exp(-v)), -40.0, (1, 2, 3)),
    ("F.softplus(y, 1.0, 1000.0)", lambda v: mpmath.log(1 + mpmath.exp(v)), 100.0, (1, 2, 3)),
    ("F.silu(y)", lambda v: v * _sig(v), 50.0, (1, 2, 3)),
    ("F.mish(y)", lambda v: v * mpmath.tanh(mpmath.log(1 + mpmath.exp(v))), 30.0, (1,)),
    ("F.gelu(y, approximate='tanh')",
     lambda v: v / 2 * (1 + mpmath.tanh(mpmath.sqrt(2 / mpmath.pi) * (v + mpmath.mpf("0.044715") * v ** 3))), 6.0,
     (1,)),
])
def test_derivatives_in_the_tails(text, f, y, orders):
    """Each was 0 (or its e^-x part lost) where the truth is a normal number: sigmoid'(40) = 4.2e-18."""
    for k, got in zip(orders, _derivatives(text, y, orders)):
        want = _truth(f, y, k)
        assert _rel(got, want), (text, y, k, float(got), want)


def test_tanh_slope_is_pytorchs_one_minus_t_squared():
    """The documented limit (docs/robustness.md): tanh' = 1 - t², PyTorch's formula (its vector loop may fuse the
    product: the last bit may differ), 0 past |x| = 19.1."""
    import torch

    x = np.array([0.3, 5.0, 20.0, -300.0])
    got = np.diag(np.asarray(api.jacobian("torch.tanh(x)", {"x": x})["x"]))
    t = torch.tensor(x, requires_grad=True)
    torch.tanh(t).sum().backward()
    assert np.allclose(got, t.grad.numpy(), rtol=1e-12, atol=0) and got[2] == got[3] == 0.0
    assert np.array_equal(got, 1.0 - np.tanh(x) * np.tanh(x))


def test_logsigmoid_second_derivative_at_minus_708_is_the_normal_number():
    """Session 50's probe: 0 for -3.3e-308 (σ'(708) = e^-708 / (1 + e^-708)²)."""
    got = float(api.hessian("F.logsigmoid(y)", {"y": -708.0})[("y", "y")])
    with mpmath.workdps(50):
        want = -float(mpmath.exp(-708) / (1 + mpmath.exp(-708)) ** 2)
    assert got == pytest.approx(want, rel=1e-13) and got < -2.2e-308


def test_float32_sigmoid_slope_past_its_rounding_to_one():
    """σ(20) is 1 in float32: σ(1 - σ) was 0 where the slope is 2.1e-9."""
    got = np.asarray(api.jacobian("torch.sigmoid(x)", {"x": np.array([20.0, 80.0], dtype=np.float32)},
                                  dtype="float32")["x"])
    assert got.dtype == np.float32
    assert np.diag(got)[0] == pytest.approx(float(mpmath.exp(-20)), rel=1e-6)
    assert np.diag(got)[1] == pytest.approx(float(mpmath.exp(-80)), rel=1e-5)  # 1.8e-35: a normal float32


PATH_TEXTS = ["torch.sum(torch.tanh(x) * x)", "torch.sum(torch.sigmoid(x) + F.silu(x))",
              "torch.sum(F.mish(x) + F.logsigmoid(-x))",
              "torch.sum(torch.tanh(A @ x))"]
X = np.array([40.0, -40.0, 20.0, 0.3, 300.0])
A = np.diag([1.0, 0.5, 2.0, 1.0, 1.0])


def _bits(a):
    a = np.asarray(a)
    return a.shape, a.dtype, a.tobytes()


@pytest.mark.parametrize("text", PATH_TEXTS)
def test_every_path_gives_the_interpreters_bits(text):
    """Kernels (third and later calls), structured passes, a chunked plan, forward and reverse: the same entries;
    the Hessian's diagonal holds no 0 (each was 0 at 40, -40 or 20: σ'' and tanh'' from σ(1 - σ) and 1 - t²)."""
    b = {"x": X, "A": A}
    api.clear_cache()
    first = _bits(api.jacobian(text, b, wrt=["x"])["x"])
    h = np.asarray(api.hessian(text, b, wrt=["x"])[("x", "x")])
    if "tanh" not in text:  # tanh's slope is 1 - t², 0 past 19.1 (above)
        assert np.all(np.diag(h) != 0), np.diag(h)
    hess = _bits(h)
    for kw in [{}, {"mode": "forward"}, {"mode": "reverse"}, {"structured": True}, {"max_memory": "6K"}]:
        for _ in range(3):
            assert _bits(api.jacobian(text, b, wrt=["x"], **kw)["x"]) == first, kw
    for _ in range(3):
        assert _bits(api.hessian(text, b, wrt=["x"])[("x", "x")]) == hess
    third = [_bits(api.derivative(text.replace("A @ x", "x"), {"x": X}, order=3, wrt=["x"])) for _ in range(3)]
    assert third[0] == third[1] == third[2]


def test_the_sigmoid_rule_inside_the_clamped_bce_is_pytorch_s_formula_evaluated_exactly():
    """F.binary_cross_entropy(torch.sigmoid(x * 100), t): PyTorch's backward (σ - t) / max(σ(1 - σ), 1e-12) · σ' ·
    100 / 5 with σ' = σ(z)σ(-z) (moved here from tests/test_parity_trust12.py's sweep: PyTorch's σ(1 - σ) rounds,
    1.8696 for 1.8715 at x = 0.3, and 0 at x = 0.7 where the formula gives 7.95e-18)."""
    import torch
    import torch.nn.functional as F
    x = np.array([0.3, -1.2, 2.0, 0.7, -0.4])
    t = [0., 1., 1., 0., 1.]
    text = "F.binary_cross_entropy(torch.sigmoid(x * 100), torch.tensor([0., 1., 1., 0., 1.]))"
    torch_value = F.binary_cross_entropy(torch.sigmoid(torch.tensor(x) * 100), torch.tensor(t, dtype=torch.float64))
    assert float(api.evaluate(text, {"x": x})) == pytest.approx(torch_value.item(), rel=1e-12)
    got = np.asarray(api.jacobian(text, {"x": x})["x"])
    want = []
    with mpmath.workdps(50):
        for v, ti in zip(x, t):
            s = _sig(100 * mpmath.mpf(v))
            s_jac = float(s)  # the divisor's σ is the value's rounded σ, as in PyTorch's formula
            divisor = max(s_jac * (1 - s_jac), 1e-12)
            want.append(float((s_jac - ti) / divisor * s * (1 - s) * 100 / 5))
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("x", [1 - 2 ** -53, 1 - 1e-8, 1 + 1e-8, 2 - 1e-8, 2 - 2 ** -52, 1.81])
def test_lgamma_near_its_zeros_keeps_its_digits(x):
    """SciPy's gammaln: 2.2e-16 for 6.4e-17 at 1 - 2⁻⁵³, 1e-9 off at 1 - 1e-8; now within 1e-15 (C's lgamma's)."""
    with mpmath.workdps(50):
        want = float(mpmath.loggamma(mpmath.mpf(x)))
    got = float(api.evaluate("torch.lgamma(y)", {"y": repr(x)}))
    assert abs(got - want) <= 1e-15 * abs(want), (x, got, want)



@pytest.mark.parametrize("text, sign", [("torch.asin(y)", 1), ("torch.acos(y)", -1)])
@pytest.mark.parametrize("y", [1 - 2 ** -28, -(1 - 2 ** -30), 0.9999999])
def test_arcsin_and_arccos_slopes_near_one(text, sign, y):
    """1 / √(1 - x²) with 1 - x·x: 9e-10 off at 1 - 2⁻²⁸ (x·x rounds), its second derivative 3e-9; now (1 - x)(1 + x)."""
    with mpmath.workdps(50):
        slope = 1 / mpmath.sqrt(1 - mpmath.mpf(y) ** 2)
        want1, want2 = float(sign * slope), float(sign * mpmath.mpf(y) * slope ** 3)
    got1, got2 = _derivatives(text, y, orders=(1, 2))
    assert _rel(got1, want1) and _rel(got2, want2), (float(got1), want1, float(got2), want2)
