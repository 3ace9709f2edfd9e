"""Parity with PyTorch 2.13 for the element-wise vocabulary, comparisons and values (issue 13,
PART elementwise; see tests/parity.py). Every spelling jac adds appears here at least once."""

import numpy as np
import pytest

from parity import assert_parity

torch = pytest.importorskip("torch")
F = torch.nn.functional
rng = np.random.default_rng(13)
x4, y4 = rng.uniform(0.3, 1.5, 4), rng.uniform(0.3, 1.5, 4)
s = np.array(0.7)
X = {"x": x4}
XY = {"x": x4, "y": y4}

CASES = [
    # inverse hyperbolics, exponentials and logarithms
    ("torch.asinh(x)", X, lambda x: torch.asinh(x)),
    ("sum(np.arcsinh(x) * x)", X, lambda x: (torch.arcsinh(x) * x).sum()),
    ("torch.acosh(1 + x)", X, lambda x: torch.acosh(1 + x)),
    ("sum(np.arccosh(1 + x))", X, lambda x: torch.arccosh(1 + x).sum()),
    ("torch.atanh(x / 2)", X, lambda x: torch.atanh(x / 2)),
    ("sum(np.arctanh(x / 2) ** 2)", X, lambda x: (torch.arctanh(x / 2) ** 2).sum()),
    ("torch.exp2(x)", X, lambda x: torch.exp2(x)),
    ("sum(np.exp2(x) * x)", X, lambda x: (torch.exp2(x) * x).sum()),
    ("torch.expm1(x)", X, lambda x: torch.expm1(x)),
    ("sum(np.expm1(x) * x)", X, lambda x: (torch.expm1(x) * x).sum()),
    ("torch.log2(x) + np.log10(x)", X, lambda x: torch.log2(x) + torch.log10(x)),
    ("sum(x.log2() * x.log10())", X, lambda x: (x.log2() * x.log10()).sum()),
    ("sum(torch.rsqrt(x) + x.rsqrt() * x)", X, lambda x: (torch.rsqrt(x) + x.rsqrt() * x).sum()),
    ("torch.reciprocal(x) + np.reciprocal(y)", XY, lambda x, y: torch.reciprocal(x) + torch.reciprocal(y)),
    ("sum(x.reciprocal() * y)", XY, lambda x, y: (x.reciprocal() * y).sum()),
    ("torch.sign(x - 1) * x + np.sign(y - 1)", XY, lambda x, y: torch.sign(x - 1) * x + torch.sign(y - 1)),
    # special functions
    ("torch.erf(x)", X, lambda x: torch.erf(x)),
    ("sum(torch.special.erf(x) * scipy.special.erfc(y))", XY,
     lambda x, y: (torch.special.erf(x) * torch.special.erfc(y)).sum()),
    ("sum(torch.erfc(x) ** 2)", X, lambda x: (torch.erfc(x) ** 2).sum()),
    ("torch.logit(x / 2)", X, lambda x: torch.logit(x / 2)),
    ("sum(torch.logit(x, eps=0.2) * x)", X, lambda x: (torch.logit(x, eps=0.2) * x).sum()),
    ("sum(torch.special.logit(x / 2) ** 2)", X, lambda x: (torch.special.logit(x / 2) ** 2).sum()),
    ("torch.sinc(x)", X, lambda x: torch.sinc(x)),
    ("sum(np.sinc(x - 0.9) * x)", X, lambda x: (torch.sinc(x - 0.9) * x).sum()),
    ("torch.lgamma(x) + x.lgamma()", X, lambda x: torch.lgamma(x) + x.lgamma()),
    ("sum(torch.special.gammaln(x) * x)", X, lambda x: (torch.special.gammaln(x) * x).sum()),
    # PyTorch's trigamma (polygamma(1, x)) is off by about 5e-10 relative; jac's (SciPy's) agrees
    # with mpmath to 1e-15 (test_polygamma_is_exact), so these compare at 1e-8
    ("sum(torch.digamma(x) + torch.special.psi(x) * x)", X,
     lambda x: (torch.digamma(x) + torch.special.psi(x) * x).sum(), {"rtol": 1e-8}),
    ("sum(torch.polygamma(2, x))", X, lambda x: torch.polygamma(2, x).sum()),
    ("torch.special.polygamma(1, x)", X, lambda x: torch.special.polygamma(1, x), {"rtol": 1e-8}),
    # activations
    ("F.gelu(x - 1)", X, lambda x: F.gelu(x - 1)),
    ("sum(F.gelu(x - 1) * x)", X, lambda x: (F.gelu(x - 1) * x).sum()),
    ("sum(F.gelu(x - 1, approximate='tanh') * x)", X, lambda x: (F.gelu(x - 1, approximate="tanh") * x).sum()),
    ("sum(F.silu(x - 1) * x)", X, lambda x: (F.silu(x - 1) * x).sum()),
    ("sum(F.elu(x - 1, alpha=0.5) * x)", X, lambda x: (F.elu(x - 1, alpha=0.5) * x).sum()),
    ("sum(F.selu(x - 1) * x)", X, lambda x: (F.selu(x - 1) * x).sum()),
    ("sum(F.celu(x - 1, alpha=2.0) * x)", X, lambda x: (F.celu(x - 1, alpha=2.0) * x).sum()),
    ("sum(F.leaky_relu(x - 1, 0.2) * x)", X, lambda x: (F.leaky_relu(x - 1, 0.2) * x).sum()),
    ("sum(F.hardtanh(2 * x - 2) * x)", X, lambda x: (F.hardtanh(2 * x - 2) * x).sum()),
    ("F.relu6(5 * x)", X, lambda x: F.relu6(5 * x)),
    # PyTorch has no second derivative of hardsigmoid ("not implemented"): jac's is 0, tested in test_ops
    # and PyTorch's first derivative uses 1/6 rounded to float32 (2e-8 off; jac's is exact)
    ("F.hardsigmoid(5 * x - 4) * x", X, lambda x: F.hardsigmoid(5 * x - 4) * x, {"rtol": 1e-7}),
    ("sum(F.softsign(x - 1) * x)", X, lambda x: (F.softsign(x - 1) * x).sum()),
    ("sum(F.logsigmoid(x - 1) * x)", X, lambda x: (F.logsigmoid(x - 1) * x).sum()),
    ("sum(F.mish(x - 1) * x)", X, lambda x: (F.mish(x - 1) * x).sum()),
    # rounding: no derivative through the rounded part, as PyTorch
    ("sum(torch.floor(3 * x) * x + torch.ceil(3 * y) * y)", XY,
     lambda x, y: (torch.floor(3 * x) * x + torch.ceil(3 * y) * y).sum()),
    ("torch.round(3 * x) * x + torch.trunc(3 * y) * y", XY,
     lambda x, y: torch.round(3 * x) * x + torch.trunc(3 * y) * y),
    ("torch.round(x, decimals=1) * y + np.fix(3 * x) * x", XY,
     lambda x, y: torch.round(x, decimals=1) * y + torch.fix(3 * x) * x),
    ("sum(torch.frac(3 * x) * x)", X, lambda x: (torch.frac(3 * x) * x).sum()),
    ("x.floor() + x.ceil() + x.round() + x.trunc() + x.frac()", X,
     lambda x: x.floor() + x.ceil() + x.round() + x.trunc() + x.frac()),
    # two arguments
    ("torch.fmod(3 * x, y)", XY, lambda x, y: torch.fmod(3 * x, y)),
    ("sum(torch.remainder(-3 * x, y) * x)", XY, lambda x, y: (torch.remainder(-3 * x, y) * x).sum()),
    ("(3 * x) % y + np.mod(3 * y, x)", XY, lambda x, y: (3 * x) % y + torch.remainder(3 * y, x)),
    # PyTorch's // (floor_divide) has no derivative at all (an error); jac's is 0, as torch.div's
    ("sum(x // 0.3 * y + torch.div(x, y, rounding_mode='trunc'))", XY,
     lambda x, y: (torch.div(x, 0.3, rounding_mode="floor") * y + torch.div(x, y, rounding_mode="trunc")).sum()),
    ("torch.atan2(x - 1, y - 1)", XY, lambda x, y: torch.atan2(x - 1, y - 1)),
    ("sum(np.arctan2(x - 1, y - 1) ** 2)", XY, lambda x, y: (torch.arctan2(x - 1, y - 1) ** 2).sum()),
    ("sum(torch.hypot(x, y - 1))", XY, lambda x, y: torch.hypot(x, y - 1).sum()),
    ("np.hypot(x, y)", XY, lambda x, y: torch.hypot(x, y)),
    ("sum(torch.lerp(x, y, 0.3) ** 2)", XY, lambda x, y: (torch.lerp(x, y, 0.3) ** 2).sum()),
    ("sum(x.lerp(y, x / 2) ** 2)", XY, lambda x, y: (x.lerp(y, x / 2) ** 2).sum()),
    ("sum(torch.xlogy(x, y))", XY, lambda x, y: torch.xlogy(x, y).sum()),
    ("torch.special.xlogy(x, y)", XY, lambda x, y: torch.special.xlogy(x, y)),
    ("sum(torch.logaddexp(x, y) ** 2)", XY, lambda x, y: (torch.logaddexp(x, y) ** 2).sum()),
    ("sum(np.logaddexp2(x, y) ** 2)", XY, lambda x, y: (torch.logaddexp2(x, y) ** 2).sum()),
    ("sum(torch.fmax(x, y) * x + np.fmin(x, y) * y)", XY,
     lambda x, y: (torch.fmax(x, y) * x + torch.fmin(x, y) * y).sum()),
    ("torch.clamp_min(x, 0.8) + x.clamp_max(1.0) + torch.clamp(y, min=0.6)", XY,
     lambda x, y: torch.clamp_min(x, 0.8) + x.clamp_max(1.0) + torch.clamp(y, min=0.6)),
    ("sum(torch.float_power(x, y))", XY, lambda x, y: torch.float_power(x, y).sum()),
    # comparisons, logic and selection: booleans carry no derivative
    ("torch.where(x > y, x, y ** 2)", XY, lambda x, y: torch.where(x > y, x, y**2)),
    ("sum(np.where(x <= 1, x ** 2, y))", XY, lambda x, y: torch.where(x <= 1, x**2, y).sum()),
    ("x * (x >= 1) + y * (x < 1)", XY, lambda x, y: x * (x >= 1) + y * (x < 1)),
    ("x * (x == x) - y * (x != y)", XY, lambda x, y: x * (x == x) - y * (x != y)),
    ("torch.where((x > 0.5) & (y < 1.2) | (x > 1.4), x, y)", XY,
     lambda x, y: torch.where((x > 0.5) & (y < 1.2) | (x > 1.4), x, y)),
    ("torch.where(~(x < 1) ^ (y < 1), x * y, y)", XY, lambda x, y: torch.where(~(x < 1) ^ (y < 1), x * y, y)),
    ("x * torch.logical_and(x > 1, torch.logical_not(y > 1))", XY,
     lambda x, y: x * torch.logical_and(x > 1, torch.logical_not(y > 1))),
    ("x * torch.gt(x, y) + y * np.less_equal(x, y)", XY, lambda x, y: x * torch.gt(x, y) + y * torch.le(x, y)),
    ("sum(x.masked_fill(x > 1, 0.5) * y)", XY, lambda x, y: (x.masked_fill(x > 1, 0.5) * y).sum()),
    ("torch.masked_fill(x, y < 1, 2.0)", XY, lambda x, y: torch.masked_fill(x, y < 1, 2.0)),
    ("torch.nan_to_num(torch.log(x - 0.5))", X, lambda x: torch.nan_to_num(torch.log(x - 0.5))),
    # PyTorch's chain multiplies the 0 of nan_to_num by 1/0² = inf: NaN in the whole column of x[0];
    # jac's derivative of the replaced element is an exact 0, and the others are finite
    ("np.nan_to_num(1 / (x - x[0]), posinf=3.0, neginf=-3.0)", X,
     lambda x: torch.nan_to_num(1 / (x - x[0]), posinf=3.0, neginf=-3.0), {"differs": ("jacobian", "vjp")}),
    ("x[torch.tensor([True, False, True, True])]", X, lambda x: x[torch.tensor([True, False, True, True])]),
    ("sum(x[np.arange(4) > 1] ** 2)", X, lambda x: (x[torch.arange(4) > 1] ** 2).sum()),
    # values as PyTorch and NumPy users write them
    ("torch.tensor([1.0, 2, 3, 4]) * x", X, lambda x: torch.tensor([1.0, 2, 3, 4], dtype=torch.float64) * x),
    ("np.array([1, 2, 3, 4]) @ x + np.asarray(x) @ x", X, lambda x: torch.arange(1.0, 5, dtype=torch.float64) @ x + x @ x),
    ("torch.as_tensor(x) * torch.tensor(x)", X, lambda x: torch.as_tensor(x) * x.detach().clone()),
    ("torch.zeros_like(x) + torch.ones_like(x) * x + torch.full_like(x, 3.0) * y", XY,
     lambda x, y: torch.zeros_like(x) + torch.ones_like(x) * x + torch.full_like(x, 3.0) * y),
    ("torch.arange(4, dtype=torch.float64) * x + torch.linspace(0, 1, 4) * y", XY,
     lambda x, y: torch.arange(4, dtype=torch.float64) * x + torch.linspace(0, 1, 4, dtype=torch.float64) * y),
    ("torch.eye(4, dtype=torch.float32) @ x + np.arange(4.0, dtype=np.int64) * y", XY,
     lambda x, y: x + torch.arange(4.0, dtype=torch.float64) * y),
    ("sum(x * x.detach() + x.clone() ** 2)", X, lambda x: (x * x.detach() + x.clone() ** 2).sum()),
    # jac computes in --dtype throughout: x.float() keeps float64 here (PyTorch would round to float32)
    ("x.float() * 2 + x.double()", X, lambda x: x * 2 + x.double()),
    ("x * x[0].item()", X, lambda x: x * x[0].item()),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_matches_pytorch(case):
    expr, inputs, fn, *options = case
    assert_parity(expr, inputs, fn, **(options[0] if options else {}))


def test_polygamma_is_exact():
    """lgamma's derivatives against mpmath at 50 digits: digamma, trigamma, tetragamma, and
    trigamma again as the Hessian of sum(lgamma(x))."""
    mpmath = pytest.importorskip("mpmath")
    from jacobi_cli.tools import api

    for n in range(4):
        exact = [float(mpmath.polygamma(n, v)) for v in x4]
        np.testing.assert_allclose(api.evaluate(f"torch.polygamma({n}, x)", {"x": x4}), exact, rtol=2e-15)
    hessian = api.hessian("sum(lgamma(x))", {"x": x4})[("x", "x")]
    np.testing.assert_allclose(np.diagonal(hessian), [float(mpmath.polygamma(1, v)) for v in x4], rtol=2e-15)
