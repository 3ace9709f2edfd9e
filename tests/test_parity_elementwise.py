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
    ("sum(torch.erfinv(x / 2) * x + scipy.special.erfinv(x / 3))", X,
     lambda x: (torch.erfinv(x / 2) * x + torch.erfinv(x / 3)).sum()),
    ("sum(np.cbrt(x) * x)", X, lambda x: (x.sign() * x.abs() ** (1 / 3) * x).sum()),
    ("sum(F.hardswish(4 * x - 3) * x)", X, lambda x: (F.hardswish(4 * x - 3) * x).sum()),
    ("F.hardswish(4 * x - 3)", X, lambda x: F.hardswish(4 * x - 3)),
    ("sum(torch.sgn(x - 1) * x + torch.deg2rad(x) + np.degrees(x) + torch.special.ndtr(x - 1))", X,
     lambda x: (torch.sgn(x - 1) * x + torch.deg2rad(x) + torch.rad2deg(x) + torch.special.ndtr(x - 1)).sum()),
    ("sum(F.tanhshrink(x) + F.softshrink(x - 1, 0.3) * x + F.hardshrink(x - 1, 0.3) * x)", X,
     lambda x: (F.tanhshrink(x) + F.softshrink(x - 1, 0.3) * x + F.hardshrink(x - 1, 0.3) * x).sum()),
    ("sum(F.threshold(x, 1.0, -2.0) * x)", X, lambda x: (F.threshold(x, 1.0, -2.0) * x).sum()),
    ("sum(F.softplus(x - 1, beta=2.0) * x + F.softplus(30 * x, threshold=25.0))", X,
     lambda x: (F.softplus(x - 1, beta=2.0) * x + F.softplus(30 * x, threshold=25.0)).sum()),
    ("sum(torch.special.erfcx(x) * x + torch.special.log_ndtr(x - 1) + scipy.special.ndtri(x / 2))", X,
     lambda x: (torch.special.erfcx(x) * x + torch.special.log_ndtr(x - 1) + torch.special.ndtri(x / 2)).sum()),
    ("sum(torch.special.xlog1py(x, y) * x)", XY, lambda x, y: (torch.special.xlog1py(x, y) * x).sum()),
    # PyTorch has no derivative for heaviside ("not implemented"); jac's is that of its where: 1 by values at x = 0
    ("x * torch.signbit(x - 1) + torch.heaviside(x - 1, y) * y + np.heaviside(x - x, y)", XY,
     lambda x, y: x * torch.signbit(x - 1) + torch.heaviside(x - 1, y).detach() * y
     + torch.where(x - x > 0, 1.0, torch.where(x - x == 0, y, 0.0))),
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
    ("x.where(x > 1, y) * y", XY, lambda x, y: x.where(x > 1, y) * y),  # Tensor.where: x where the condition
    ("sum(x.polygamma(1) * x)", X, lambda x: (x.polygamma(1) * x).sum(), {"rtol": 1e-8}),  # PyTorch's trigamma
    ("torch.addcmul(x, x, y, value=0.5) + torch.addcdiv(y, x, y)", XY,
     lambda x, y: torch.addcmul(x, x, y, value=0.5) + torch.addcdiv(y, x, y)),
    ("x * (x > 1).all() + y * torch.any(x > 1, dim=0) + x * np.all(x > 0) + x * (y > 9).any()", XY,
     lambda x, y: x * (x > 1).all() + y * torch.any(x > 1, dim=0) + x * torch.all(x > 0) + x * (y > 9).any()),
    ("x * torch.count_nonzero(x > 1) + y * torch.isposinf(1 / (x - x)) + y * torch.isneginf(-1 / (y - y))", XY,
     lambda x, y: x * torch.count_nonzero(x > 1) + y * torch.isposinf(1 / (x - x)) + y * torch.isneginf(-1 / (y - y))),
    ("x.to(torch.float64) * y.type_as(x) + np.fabs(x - 1) + x.detach().numpy() * y", XY,
     lambda x, y: x.to(torch.float64) * y.type_as(x) + (x - 1).abs() + x.detach() * y),
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
    # Python's float() / int() / bool() of a tensor: a Python number, so a constant (t.float() keeps the derivative)
    ("x * float(x[0]) + int(3 * x[1]) * x + bool(x[2]) * x + float(x[3:]) * x.float()", X,
     lambda x: x * float(x[0]) + int(3 * x[1]) * x + bool(x[2]) * x + float(x[3:]) * x),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_matches_pytorch(case):
    expr, inputs, fn, *options = case
    assert_parity(expr, inputs, fn, **(options[0] if options else {}))


@pytest.mark.parametrize("expr", ["float(x) * x", "int(x)", "bool(x * 2)", "float(torch.ones(2, 2))"])
def test_python_numbers_need_one_element(expr):
    """PyTorch: "only one element tensors can be converted to Python scalars"; jac refuses, at the call."""
    from jacobi_cli.errors import JacValueError
    from jacobi_cli.tools import api

    with pytest.raises(JacValueError, match=r"Python number of an array of one element") as caught:
        api.evaluate(expr, X)
    assert caught.value.position == expr.index(expr.split("(")[0])


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


# --- at the kinks: PyTorch's choice of one-sided derivative -------------------------------------
K = {"x": np.array([0.0, -1.0, 1.0, 3.0, -3.0, 6.0])}
KINKS = [
    ("F.elu(x, alpha=0.5) + F.selu(x) + F.celu(x, alpha=2.0)", K,
     lambda x: F.elu(x, alpha=0.5) + F.selu(x) + F.celu(x, alpha=2.0)),
    ("F.leaky_relu(x, 0.2) + F.softsign(x)", K, lambda x: F.leaky_relu(x, 0.2) + F.softsign(x)),
    ("F.hardtanh(x) + F.relu6(x) + F.hardtanh(x, -3.0, 3.0)", K,
     lambda x: F.hardtanh(x) + F.relu6(x) + F.hardtanh(x, -3.0, 3.0)),
    ("F.hardswish(x) * x", K, lambda x: F.hardswish(x) * x),
    ("F.softshrink(x, 1.0) + F.hardshrink(x, 1.0) + F.threshold(x, 1.0, 5.0)", K,
     lambda x: F.softshrink(x, 1.0) + F.hardshrink(x, 1.0) + F.threshold(x, 1.0, 5.0)),
    ("F.hardsigmoid(x) * x", K, lambda x: F.hardsigmoid(x) * x, {"rtol": 1e-7}),  # PyTorch's 1/6 in float32
    ("floor(x) + ceil(x) + round(x / 2) + trunc(x) + frac(x)", K,
     lambda x: x.floor() + x.ceil() + (x / 2).round() + x.trunc() + x.frac()),
    ("torch.fmod(x, 1.5) + torch.remainder(x, 1.5) + x % -2", K,
     lambda x: torch.fmod(x, 1.5) + torch.remainder(x, 1.5) + x % -2),
    ("torch.fmax(x, y) + torch.fmin(x, y)", {"x": np.array([1.0, 2.0, np.nan, 1.0]), "y": np.array([1.0, np.nan, 3.0, 2.0])},
     lambda x, y: torch.fmax(x, y) + torch.fmin(x, y)),
    ("torch.atan2(x, y)", {"x": np.array([0.0, 0.0, 1.0]), "y": np.array([0.0, -1.0, 0.0])},
     lambda x, y: torch.atan2(x, y)),
    ("sum(torch.atan2(x, y))", {"x": np.array(0.0), "y": np.array(0.0)}, lambda x, y: torch.atan2(x, y).sum(),
     {"differs": ("hessian",)}),  # at the origin: PyTorch's Hessian is NaN, jac's 0
    ("torch.xlogy(x, y)", {"x": np.array([0.0, 0.0, 2.0, 0.0]), "y": np.array([2.0, 0.5, 1.0, -1.0])},
     lambda x, y: torch.xlogy(x, y)),
    # xlogy(0, nan) is nan; off the diagonal PyTorch's dense Jacobian has 0 * nan = nan, jac's exact 0
    ("torch.xlogy(x, y)", {"x": np.array([2.0, 0.0]), "y": np.array([0.0, np.nan])}, lambda x, y: torch.xlogy(x, y),
     {"differs": ("jacobian",)}),
    ("torch.where(x > 0, torch.log(x), x)", {"x": np.array([1.0, -1.0, 2.0])},
     lambda x: torch.where(x > 0, torch.log(x), x)),
    ("sinc(x)", {"x": np.array([0.0, 1.0, -2.0])}, lambda x: torch.sinc(x)),
    # a NaN stays NaN in the value, and relu / maximum / minimum pass the derivative at it, as PyTorch's kernels
    ("torch.relu(x) + F.hardshrink(x, 1.0) + F.threshold(x, 1.0, 5.0)", {"x": np.array([np.nan, -2.0, 0.5, 3.0])},
     lambda x: torch.relu(x) + F.hardshrink(x, 1.0) + F.threshold(x, 1.0, 5.0)),
    ("torch.maximum(x, y) * 2 + torch.minimum(x, y)", {"x": np.array([np.nan, 1.0, 2.0, 1.0, np.nan]),
                                                     "y": np.array([0.5, np.nan, 2.0, 3.0, np.nan])},
     lambda x, y: torch.maximum(x, y) * 2 + torch.minimum(x, y)),
    ("torch.max(x, y) + 3 * torch.min(y, x)", {"x": np.array([np.nan, 1.0, -1.0]), "y": np.array([0.5, np.nan, 0.0])},
     lambda x, y: torch.max(x, y) + 3 * torch.min(y, x)),
    # lgamma near 0 and at -inf (SciPy's gammaln gives inf below ~5e-309 and -inf at -inf)
    ("torch.lgamma(x) + torch.special.gammaln(x)", {"x": np.array([1e-310, -1e-310, 5e-324, -np.inf, np.inf, 2.2e-308])},
     lambda x: torch.lgamma(x) + torch.special.gammaln(x), {"differs": ("jacobian", "vjp")}),
    ("torch.lgamma(x)", {"x": np.array([1e-305, -2.5, 3.0])}, lambda x: torch.lgamma(x)),
    # softshrink's value at NaN is NaN and -0 inside below 0 (PyTorch's x * 0); its derivative at NaN is 0 (PyTorch:
    # 1 in its kernel's scalar tail, here, 0 in its vectorised body: tests/test_parity_special.py)
    ("F.softshrink(x, 1.0)", {"x": np.array([np.nan, -0.5, 0.5, 2.0])}, lambda x: F.softshrink(x, 1.0),
     {"differs": ("jacobian", "vjp")}),
    ("sum(sinc(x))", {"x": np.array(0.0)}, lambda x: torch.sinc(x).sum(),
     {"differs": ("hessian",)}),  # PyTorch's is NaN at 0, jac's -pi²/3 (test_sinc_is_exact_at_and_near_zero)
]


@pytest.mark.parametrize("case", KINKS, ids=[c[0] for c in KINKS])
def test_kinks_match_pytorch(case):
    expr, inputs, fn, *options = case
    assert_parity(expr, inputs, fn, **(options[0] if options else {}))


def test_where_jac_gives_exact_zeros_and_pytorch_nan():
    """hypot at the origin: 0 (the subgradient norm() has, in PyTorch too), where torch.hypot
    gives 0/0; xlogy(0, 0) by y: 0 (xlogy(0, y) is 0 for every y), where PyTorch gives 0/0."""
    from jacobi_cli.tools import api

    zero = {"x": np.zeros(2), "y": np.zeros(2)}
    for name, j in api.jacobian("torch.hypot(x, y)", zero).items():
        np.testing.assert_array_equal(j, np.zeros((2, 2)), err_msg=name)
    np.testing.assert_array_equal(api.jacobian("torch.xlogy(x, y)", zero)["y"], np.zeros((2, 2)))
    x = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    assert torch.isnan(torch.autograd.grad(torch.hypot(x, x).sum(), x)[0]).all()


def test_sinc_is_exact_at_and_near_zero():
    """sinc's Hessian at 0 is -pi²/3 (PyTorch's masked formula gives 0 there), and near 0 the
    derivatives do not cancel: they match the series to the last bits."""
    from jacobi_cli.tools import api

    x = np.array([0.0, 1e-9, 1e-3, 0.09, 0.11, -0.5])
    h = np.diagonal(api.hessian("sum(sinc(x))", {"x": x})[("x", "x")])
    g = api.vjp("sum(sinc(x))", {"x": x})["x"]
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 40
    sinc = lambda v: mp.sin(mp.pi * v) / (mp.pi * v) if v != 0 else mp.mpf(1)  # noqa: E731
    for i, v in enumerate(x):
        np.testing.assert_allclose(g[i], float(mp.diff(sinc, mp.mpf(v), 1)), rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(h[i], float(mp.diff(sinc, mp.mpf(v), 2)), rtol=1e-12)
    assert h[0] == pytest.approx(-np.pi**2 / 3, rel=1e-15)


@pytest.mark.parametrize("expr, fn", [
    ("torch.relu(x)", torch.relu), ("F.relu(x)", F.relu), ("x.relu()", lambda x: x.relu()),
    ("F.elu(x)", F.elu), ("F.selu(x)", F.selu), ("F.celu(x)", F.celu), ("F.celu(x, 2.0)", lambda x: F.celu(x, 2.0)),
])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_activations_keep_the_sign_of_a_zero_as_pytorch(expr, fn, dtype):
    # relu(-0), elu(-0), selu(-0), celu(-0) were +0 (np.maximum / np.minimum's zero), PyTorch's -0: 1 / relu(x) was
    # inf where PyTorch's is -inf. Repeated calls too (a compiled kernel after the first ones).
    from jacobi_cli.tools import api

    api.clear_cache()
    points = ([1.0, -2.0, 3.0, 0.5, 1.0, -1.0, 2.0],) * 3 + ([-0.0, 0.0, -1.0, 2.0, np.nan, -np.inf, np.inf],)
    for point in points:
        x = np.array(point, dtype=dtype)
        ours = np.asarray(api.evaluate(expr, {"x": x}, dtype="float32" if dtype == np.float32 else "float64"))
        theirs = fn(torch.tensor(x)).numpy()
        assert ours.dtype == theirs.dtype
        np.testing.assert_allclose(ours, theirs, rtol=4 * np.finfo(dtype).eps, atol=0)  # selu: an ulp apart
        assert (np.signbit(ours) == np.signbit(theirs))[~np.isnan(theirs)].all(), (point, ours, theirs)
