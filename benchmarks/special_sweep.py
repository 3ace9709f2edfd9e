"""Values and derivatives at special inputs, jac against PyTorch, element by element.

    PYTHONPATH=. python benchmarks/special_sweep.py [-k SUBSTRING] [--dtype float64|float32] [--verbose]

Every element-wise unary and binary function and every loss that jac and PyTorch both have is run at
0, -0.0, ±inf, NaN, ±subnormal (5e-324; 1e-45 in float32), ±1e308 (±3e38 in float32), ±1 and the function's
own kink points (hardtanh's ±1, relu6's 0 and 6, softshrink's ±lambda, ...), in float64 and float32.
jac's value and VJP (``jacobi_cli.vjp`` with ones, the diagonal of the Jacobian for an element-wise
function; the Jacobian's diagonal must agree with it bit for bit) are compared with PyTorch's value and
``backward``.

PyTorch's CPU kernels have a vectorised body and a scalar tail, which do not always agree at a NaN
(``F.hardtanh``'s backward gives 1 to a NaN in the tail, 0 in the body): every PyTorch number is taken twice,
the input alone (the scalar tail) and as element 0 of 64 copies of it (the vectorised body). Where the two
differ the element is ``torch-position`` (PyTorch has no single answer there) and jac is compared with both.

Each element where jac and PyTorch differ is classified:

- ``same``: the same bits (NaN equals NaN);
- ``ulp``: both finite, within 8 units in the last place (rounding order);
- ``zero-sign``: +0 against -0;
- ``torch-position``: PyTorch's two placements differ (jac's answer is named as one of them or neither);
- ``known``: a difference listed in ``KNOWN`` with the reason (PyTorch's quirk where jac is more exact);
- ``differs``: anything else: jac is wrong until shown otherwise. Exit 1 if there is any.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict

import numpy as np

F64_SPECIALS = (0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 1e308, -1e308, 1.0, -1.0)
F32_SPECIALS = (0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 3e38, -3e38, 1.0, -1.0)
# binary functions: a smaller grid (every pair)
F64_PAIRS = (0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, 1e308, 1.0, -1.0, 0.5, -2.5)
F32_PAIRS = (0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, 3e38, 1.0, -1.0, 0.5, -2.5)


def _unary():
    """(jac expression of x, PyTorch function of x, kink points)."""
    import torch
    import torch.nn.functional as F

    sp = torch.special
    return [
        ("abs(x)", torch.abs, ()), ("-x", torch.neg, ()), ("torch.exp(x)", torch.exp, ()),
        ("torch.exp2(x)", torch.exp2, ()), ("torch.expm1(x)", torch.expm1, ()), ("torch.log(x)", torch.log, ()),
        ("torch.log2(x)", torch.log2, ()), ("torch.log10(x)", torch.log10, ()), ("torch.log1p(x)", torch.log1p, ()),
        ("torch.sqrt(x)", torch.sqrt, ()), ("torch.rsqrt(x)", torch.rsqrt, ()), ("torch.sin(x)", torch.sin, ()),
        ("torch.cos(x)", torch.cos, ()), ("torch.tan(x)", torch.tan, ()), ("torch.asin(x)", torch.asin, ()),
        ("torch.acos(x)", torch.acos, ()), ("torch.atan(x)", torch.atan, ()), ("torch.sinh(x)", torch.sinh, ()),
        ("torch.cosh(x)", torch.cosh, ()), ("torch.tanh(x)", torch.tanh, ()), ("torch.asinh(x)", torch.asinh, ()),
        ("torch.acosh(x)", torch.acosh, ()), ("torch.atanh(x)", torch.atanh, ()),
        ("torch.sigmoid(x)", torch.sigmoid, ()), ("torch.relu(x)", torch.relu, ()),
        ("torch.square(x)", torch.square, ()), ("torch.reciprocal(x)", torch.reciprocal, ()),
        ("torch.sign(x)", torch.sign, ()), ("torch.sgn(x)", torch.sgn, ()),
        ("torch.floor(x)", torch.floor, ()), ("torch.ceil(x)", torch.ceil, ()),
        ("torch.trunc(x)", torch.trunc, ()), ("torch.round(x)", torch.round, (0.5, 1.5, -0.5)),
        ("torch.frac(x)", torch.frac, ()), ("torch.erf(x)", torch.erf, ()), ("torch.erfc(x)", torch.erfc, ()),
        ("torch.erfinv(x)", torch.erfinv, (0.5,)), ("torch.lgamma(x)", torch.lgamma, (2.0, -2.0)),
        ("torch.digamma(x)", torch.digamma, (2.0, -2.0)), ("torch.sinc(x)", torch.sinc, ()),
        ("torch.logit(x)", torch.logit, (0.5,)), ("torch.deg2rad(x)", torch.deg2rad, ()),
        ("torch.rad2deg(x)", torch.rad2deg, ()), ("torch.nan_to_num(x)", torch.nan_to_num, ()),
        ("torch.i0(x)", torch.i0, ()), ("torch.special.i0e(x)", sp.i0e, ()), ("torch.special.i1(x)", sp.i1, ()),
        ("torch.special.i1e(x)", sp.i1e, ()), ("torch.special.ndtr(x)", sp.ndtr, ()),
        ("torch.special.ndtri(x)", sp.ndtri, (0.5,)), ("torch.special.log_ndtr(x)", sp.log_ndtr, ()),
        ("torch.special.erfcx(x)", sp.erfcx, ()), ("torch.special.entr(x)", sp.entr, ()),
        ("torch.special.expit(x)", sp.expit, ()), ("torch.special.xlog1py(x, 2.0)", lambda x: sp.xlog1py(x, 2.0), ()),
        ("x ** 2", lambda x: x ** 2, ()), ("x ** 3", lambda x: x ** 3, ()), ("x ** 0.5", lambda x: x ** 0.5, ()),
        ("x ** -1", lambda x: x ** -1, ()), ("x ** 0", lambda x: x ** 0, ()), ("2 ** x", lambda x: 2 ** x, ()),
        ("F.gelu(x)", F.gelu, ()), ("F.gelu(x, approximate='tanh')", lambda x: F.gelu(x, approximate="tanh"), ()),
        ("F.silu(x)", F.silu, ()), ("F.mish(x)", F.mish, ()), ("F.softplus(x)", F.softplus, ()),
        ("F.softplus(x, beta=2.0, threshold=5.0)", lambda x: F.softplus(x, beta=2.0, threshold=5.0), (2.5,)),
        ("F.softsign(x)", F.softsign, ()), ("F.logsigmoid(x)", F.logsigmoid, ()),
        ("F.tanhshrink(x)", F.tanhshrink, ()),
        ("F.softshrink(x, 0.5)", lambda x: F.softshrink(x, 0.5), (0.5, -0.5)),
        ("F.hardshrink(x, 0.5)", lambda x: F.hardshrink(x, 0.5), (0.5, -0.5)),
        ("F.threshold(x, 1.0, 5.0)", lambda x: F.threshold(x, 1.0, 5.0), ()),
        ("F.hardtanh(x)", F.hardtanh, ()), ("F.hardtanh(x, -2.0, 3.0)", lambda x: F.hardtanh(x, -2.0, 3.0), (-2.0, 3.0)),
        ("F.relu6(x)", F.relu6, (6.0,)), ("F.elu(x)", F.elu, ()), ("F.elu(x, 0.5)", lambda x: F.elu(x, 0.5), ()),
        ("F.selu(x)", F.selu, ()), ("F.celu(x, 0.5)", lambda x: F.celu(x, 0.5), ()),
        ("F.leaky_relu(x, 0.1)", lambda x: F.leaky_relu(x, 0.1), ()),
        ("F.rrelu(x)", lambda x: F.rrelu(x), ()),
        ("F.hardsigmoid(x)", F.hardsigmoid, (3.0, -3.0)), ("F.hardswish(x)", F.hardswish, (3.0, -3.0)),
        ("torch.clamp(x, -1.0, 1.0)", lambda x: torch.clamp(x, -1.0, 1.0), ()),
        ("torch.clamp(x, min=0.5)", lambda x: torch.clamp(x, min=0.5), (0.5,)),
        ("torch.clamp(x, max=0.5)", lambda x: torch.clamp(x, max=0.5), (0.5,)),
    ]


def _binary():
    """(jac expression of x and y, PyTorch function of x and y)."""
    import torch

    sp = torch.special
    return [
        ("x + y", torch.add), ("x - y", torch.sub), ("x * y", torch.mul), ("x / y", torch.div),
        ("x ** y", torch.pow), ("torch.atan2(x, y)", torch.atan2), ("torch.hypot(x, y)", torch.hypot),
        ("torch.fmod(x, y)", torch.fmod), ("torch.remainder(x, y)", torch.remainder),
        ("torch.maximum(x, y)", torch.maximum), ("torch.minimum(x, y)", torch.minimum),
        ("torch.max(x, y)", torch.max), ("torch.min(x, y)", torch.min),
        ("torch.fmax(x, y)", torch.fmax), ("torch.fmin(x, y)", torch.fmin), ("torch.xlogy(x, y)", torch.xlogy),
        ("torch.special.xlog1py(x, y)", sp.xlog1py), ("torch.logaddexp(x, y)", torch.logaddexp),
        ("torch.logaddexp2(x, y)", torch.logaddexp2), ("torch.copysign(x, y)", torch.copysign),
        ("torch.lerp(x, y, 0.25)", lambda x, y: torch.lerp(x, y, 0.25)),
        ("torch.lerp(x, y, 0.75)", lambda x, y: torch.lerp(x, y, 0.75)),
        ("torch.float_power(x, y)", torch.float_power), ("torch.true_divide(x, y)", torch.true_divide),
        ("torch.where(x > y, x, y)", lambda x, y: torch.where(x > y, x, y)),
        ("torch.clamp(x, min=y)", lambda x, y: torch.clamp(x, min=y)),
        ("torch.clamp(x, max=y)", lambda x, y: torch.clamp(x, max=y)),
    ]


# binary_cross_entropy takes probabilities: its own special inputs (jac refuses others, as PyTorch)
PROBABILITIES = (0.0, -0.0, 5e-324, 1e-300, 1.0, 1.0 - 2.0**-53, 0.5, 1e-45)


def _losses():
    """(jac expression of x (and the constant target t), PyTorch function, target): reduction 'none' where
    the loss has it, so each element's derivative is its own."""
    import torch.nn.functional as F

    half = 0.5
    return [
        ("F.mse_loss(x, t, reduction='none')", lambda x, t: F.mse_loss(x, t, reduction="none"), half),
        ("F.l1_loss(x, t, reduction='none')", lambda x, t: F.l1_loss(x, t, reduction="none"), half),
        ("F.l1_loss(x, t, reduction='none')", lambda x, t: F.l1_loss(x, t, reduction="none"), 0.0),
        ("F.smooth_l1_loss(x, t, reduction='none')", lambda x, t: F.smooth_l1_loss(x, t, reduction="none"), half),
        ("F.smooth_l1_loss(x, t, reduction='none', beta=0.0)",
         lambda x, t: F.smooth_l1_loss(x, t, reduction="none", beta=0.0), half),
        ("F.huber_loss(x, t, reduction='none')", lambda x, t: F.huber_loss(x, t, reduction="none"), half),
        ("F.soft_margin_loss(x, t, reduction='none')", lambda x, t: F.soft_margin_loss(x, t, reduction="none"), 1.0),
        ("F.soft_margin_loss(x, t, reduction='none')", lambda x, t: F.soft_margin_loss(x, t, reduction="none"), -1.0),
        ("F.binary_cross_entropy_with_logits(x, t, reduction='none')",
         lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction="none"), 0.25),
        ("F.binary_cross_entropy(x, t, reduction='none')",
         lambda x, t: F.binary_cross_entropy(x, t, reduction="none"), 0.25, PROBABILITIES),
        ("F.binary_cross_entropy(x, t, reduction='none')",
         lambda x, t: F.binary_cross_entropy(x, t, reduction="none"), 1.0, PROBABILITIES),
        ("F.gaussian_nll_loss(x, t, t * 0 + 2.0, reduction='none')",
         lambda x, t: F.gaussian_nll_loss(x, t, t * 0 + 2.0, reduction="none"), 0.5),
        ("F.kl_div(x, t, reduction='none')", lambda x, t: F.kl_div(x, t, reduction="none"), 0.25),
        ("F.kl_div(x, t, reduction='none', log_target=True)",
         lambda x, t: F.kl_div(x, t, reduction="none", log_target=True), -1.5),
        ("F.poisson_nll_loss(x, t, reduction='none')", lambda x, t: F.poisson_nll_loss(x, t, reduction="none"), 2.0),
        ("F.poisson_nll_loss(x, t, log_input=False, reduction='none')",
         lambda x, t: F.poisson_nll_loss(x, t, log_input=False, reduction="none"), 2.0),
        ("F.hinge_embedding_loss(x, t, reduction='none')",
         lambda x, t: F.hinge_embedding_loss(x, t, reduction="none"), 1.0),
        ("F.hinge_embedding_loss(x, t, reduction='none')",
         lambda x, t: F.hinge_embedding_loss(x, t, reduction="none"), -1.0),
        ("F.margin_ranking_loss(x, t * 0, t, reduction='none')",
         lambda x, t: F.margin_ranking_loss(x, t * 0, t, reduction="none"), 1.0),
        ("F.margin_ranking_loss(x, t * 0, t, reduction='none')",
         lambda x, t: F.margin_ranking_loss(x, t * 0, t, reduction="none"), -1.0),
        ("F.margin_ranking_loss(t * 0, x, t, margin=0.5, reduction='none')",
         lambda x, t: F.margin_ranking_loss(t * 0, x, t, margin=0.5, reduction="none"), 1.0),
    ]


def _vector_losses():
    """Losses of rows (x of shape (n, 3): the special value in column 0): (jac expression, PyTorch function)."""
    import torch
    import torch.nn.functional as F

    c = np.array([[0.25, -0.5, 1.5]])
    return [
        ("F.multi_margin_loss(x, i, reduction='none')",
         lambda x: F.multi_margin_loss(x, torch.zeros(x.shape[0], dtype=torch.long), reduction="none"), {"i": 0}),
        ("F.multi_margin_loss(x, i, reduction='none')",
         lambda x: F.multi_margin_loss(x, torch.ones(x.shape[0], dtype=torch.long), reduction="none"), {"i": 1}),
        ("F.triplet_margin_loss(x, c, c * 0, reduction='none')",
         lambda x: F.triplet_margin_loss(x, torch.tensor(c, dtype=x.dtype), torch.zeros(1, 3, dtype=x.dtype),
                                         reduction="none"), {"c": c}),
        ("F.triplet_margin_loss(c, x, c * 0, reduction='none')",
         lambda x: F.triplet_margin_loss(torch.tensor(c, dtype=x.dtype), x, torch.zeros(1, 3, dtype=x.dtype),
                                         reduction="none"), {"c": c}),
        ("F.cosine_embedding_loss(x, c, t, reduction='none')",
         lambda x: F.cosine_embedding_loss(x, torch.tensor(c, dtype=x.dtype), -torch.ones(x.shape[0], dtype=x.dtype),
                                           reduction="none"), {"c": c, "t": -1.0}),
        ("F.nll_loss(x, i, reduction='none')",
         lambda x: F.nll_loss(x, torch.zeros(x.shape[0], dtype=torch.long), reduction="none"), {"i": 0}),
        ("F.nll_loss(x, i, reduction='none')",
         lambda x: F.nll_loss(x, torch.ones(x.shape[0], dtype=torch.long), reduction="none"), {"i": 1}),
        ("F.cross_entropy(x, i, reduction='none')",
         lambda x: F.cross_entropy(x, torch.zeros(x.shape[0], dtype=torch.long), reduction="none"), {"i": 0}),
        ("F.soft_margin_loss(x, c * 0 + 1)", lambda x: F.soft_margin_loss(x, torch.ones_like(x)), {"c": c}),
        ("F.multilabel_soft_margin_loss(x, c * 0 + 1, reduction='none')",
         lambda x: F.multilabel_soft_margin_loss(x, torch.ones_like(x), reduction="none"), {"c": c}),
        ("torch.max(x)", torch.max, {}), ("torch.min(x)", torch.min, {}),
        ("torch.amax(x)", torch.amax, {}), ("torch.logsumexp(x, 1)", lambda x: torch.logsumexp(x, 1), {}),
        ("torch.norm(x, dim=1)", lambda x: torch.norm(x, dim=1), {}),
        ("torch.softmax(x, 1)[:, 0]", lambda x: torch.softmax(x, 1)[:, 0], {}),
        ("F.normalize(x)", F.normalize, {}),
    ]


WHOLE = ("torch.max(x)", "torch.min(x)", "torch.amax(x)")

# Differences that are PyTorch's own, where jac is more exact or deliberately differs: (expression, part)
# -> the reason. Checked by hand at every input the sweep lists for them; a new input there is still listed.
KNOWN: dict = {
    ("F.hardsigmoid(x)", "d/dx"): "PyTorch's backward multiplies by the float32 constant 1/6 (0.1666666716) in "
                                  "float64 too; jac's 1/6 is the double",
    ("F.softsign(x)", "d/dx"): "at ±inf PyTorch's 1/(1 + |x|)² is computed as inf/inf = NaN; the limit is 0",
    ("F.binary_cross_entropy_with_logits(x, t, reduction='none')", "value"):
        "at x = -inf the loss is +inf (t log σ(x) → -inf); PyTorch's (1 - t) x + log(1 + exp(-x)) is inf - inf",
    ("F.soft_margin_loss(x, t, reduction='none')", "value"):
        "log(1 + exp(-t x)) at |x| ≈ 1e308 is |x| (jac's softplus); PyTorch's exp overflows to inf",
    ("F.soft_margin_loss(x, t, reduction='none')", "d/dx"):
        "the derivative at ±inf and ±1e308 is the sign; PyTorch's -t exp(-tx) / (1 + exp(-tx)) is inf/inf",
    ("F.soft_margin_loss(x, c * 0 + 1)", "d/dx"): "as soft_margin_loss with reduction='none'",
    ("F.cross_entropy(x, i, reduction='none')", "d/dx"):
        "a +inf logit: the loss is inf - inf = NaN in both; the other classes' softmax is exactly 0 (jac), "
        "PyTorch's exp(x - lse) is NaN",
    ("F.multi_margin_loss(x, i, reduction='none')", "value"):
        "a NaN logit: PyTorch's kernel tests z > 0 and skips the NaN term (a finite loss hiding the NaN); jac's is NaN",
    ("F.multi_margin_loss(x, i, reduction='none')", "d/dx"): "as its value: PyTorch skips the NaN terms",
    ("torch.copysign(x, y)", "d/dx"):
        "PyTorch's result / x is inf/inf = NaN at x = ±inf (the derivative is ±1) and NaN at a NaN x; jac's is "
        "abs's rule with the sign of y (0 at a NaN x, as abs's derivative in PyTorch)",
    ("torch.digamma(x)", "d/dx"): "PyTorch's trigamma is accurate to ~5e-10 only (1.6449340676 at 1; π²/6 = "
                                  "1.6449340668); at the poles (0, -1, -2, ...) jac's is inf, PyTorch's a large number; "
                                  "at -inf NaN in PyTorch",
    ("torch.hypot(x, y)", "d/dx"): "0 at the origin (the subgradient norm uses), PyTorch 0/0 = NaN (documented)",
    ("torch.hypot(x, y)", "d/dy"): "as d/dx",
    ("torch.xlogy(x, y)", "d/dy"): "x / y is exactly 0 where x = 0 (documented); PyTorch's 0/0 = NaN",
    ("torch.special.xlog1py(x, y)", "d/dy"): "as xlogy: 0 where x = 0; PyTorch's 0/0 = NaN at y = -1",
    ("torch.log10(x)", "d/dx"): "at ±1e308 the derivative 4.3e-309 is a subnormal; PyTorch's 1/(x ln 10) "
                                "overflows x ln 10 to inf and gives 0",
    ("torch.logaddexp2(x, y)", "value"): "log2(2^-1 + 2^-1) is exactly 0; PyTorch's -4.8e-17",
    ("torch.float_power(x, y)", "value"): "PyTorch computes float_power in float64 whatever the dtype; jac in the "
                                          "dtype asked for (float32 overflows)",
    ("torch.float_power(x, y)", "d/dx"): "as its value: PyTorch's float64",
    ("torch.rsqrt(x)", "d/dx"): "at -0 the sign of an infinity: -0.5 · ans / x = -inf (jac), -0.5 · ans³ = +inf "
                                "(PyTorch); rsqrt(-0) = -inf",
    ("x ** 0.5", "d/dx"): "PyTorch's pow(x, -0.5) is rsqrt (NaN at -inf, -inf at -0); jac's is C's pow "
                          "(+0 at -inf, +inf at -0)",
    ("torch.clamp(x, min=y)", "d/dy"): "a missing max is read as +inf: clamp(x, min=inf) gives min's derivative "
                                       "to neither (PyTorch's min < max test), PyTorch without max gives it to min",
    ("F.binary_cross_entropy(x, t, reduction='none')", "d/dx"):
        "near 0 and 1 both divide by max(x (1 - x), 1e-12); PyTorch's 1e-12 is the float32 constant "
        "(0.999999996e-12) in float64 too, so its clamped derivative is 4e-9 larger",
    ("F.gaussian_nll_loss(x, t, t * 0 + 2.0, reduction='none')", "d/dx"):
        "at ±1e308 the derivative (x - t) / var is ±5e307; PyTorch's 2(x - t) overflows first (±inf)",
    ("F.binary_cross_entropy_with_logits(x, t, reduction='none')", "d/dx"):
        "float32 at x = -1: σ(-1) - 0.25 cancels 4 bits; each is within an ulp of σ(-1) (jac 1.9e-8 off, "
        "PyTorch 1.1e-8)",
}


def _bits_equal(a, b) -> bool:
    return (np.isnan(a) and np.isnan(b)) or (a == b and np.signbit(a) == np.signbit(b))


def classify(ours, theirs, dtype) -> str:
    if _bits_equal(ours, theirs):
        return "same"
    if ours == 0 and theirs == 0:
        return "zero-sign"
    if np.isfinite(ours) and np.isfinite(theirs):
        spacing = np.spacing(np.maximum(abs(ours), abs(theirs)).astype(dtype))
        if abs(float(ours) - float(theirs)) <= 8 * float(spacing):
            return "ulp"
    return "differs"


def _row(g, n: int) -> np.ndarray:
    """Element 0 of a PyTorch gradient as NumPy; a gradient PyTorch knows is zero has no storage."""
    if g is None or g._is_zerotensor():
        return np.zeros(1)
    return np.array(g.reshape(n, -1)[0].tolist())


def _torch_numbers(fn, args: list, dtype, wrt: int):
    """PyTorch's value and gradients (by the first ``wrt`` arguments) at one point, alone (the scalar tail)
    and as element 0 of 64 copies (the vectorised body)."""
    import torch

    out = []
    for n in (1, 64):
        ts = [torch.tensor(np.broadcast_to(a, (n,) + np.shape(a)).copy(), dtype=dtype, requires_grad=i < wrt)
              for i, a in enumerate(args)]
        y = fn(*ts)
        grads = torch.autograd.grad(y.sum(), ts[:wrt], allow_unused=True)
        out.append((np.array(y.detach().reshape(n, -1)[0].tolist()),
                    [_row(g, n) for g in grads]))
    return out


class Sweep:
    def __init__(self, dtype: str, verbose: bool):
        self.dtype, self.verbose = dtype, verbose
        self.np_dtype = np.dtype(dtype)
        self.rows = []          # (expression, part, input, class, ours, scalar tail, vector body)
        self.refused = []

    def _jac(self, expr, inputs: dict, wrt: list):
        from jacobi_cli.errors import JacError
        from jacobi_cli.tools import api

        try:
            value = np.asarray(api.evaluate(expr, inputs, dtype=self.dtype))
            grads = api.vjp(expr, inputs, v=np.ones(value.shape), wrt=wrt, dtype=self.dtype)
        except JacError as err:
            self.refused.append((expr, str(err).splitlines()[0]))
            return None
        return value, grads

    def record(self, expr, part, point, ours, tail, body):
        tail_class, body_class = classify(ours, tail, self.np_dtype), classify(ours, body, self.np_dtype)
        if not _bits_equal(tail, body):
            kind = "torch-position"
        else:
            kind = tail_class
        if kind == "differs":
            if (expr, part) in KNOWN:
                kind = "known"
        self.rows.append((expr, part, point, kind, ours, tail, body))

    def elementwise(self, expr, fn, points: list, target=None):
        """points: tuples of input values (one per name x, y); ``target``: the constant t of a loss."""
        import torch

        names = ["x", "y"][:len(points[0])]
        inputs = {n: np.array([p[i] for p in points], dtype=self.np_dtype) for i, n in enumerate(names)}
        if target is not None:
            inputs["t"] = np.full(len(points), target, dtype=self.np_dtype)
        got = self._jac(expr, inputs, names)
        if got is None:
            return
        value, grads = got
        self.check_diagonal(expr, inputs, names, grads)
        tdtype = getattr(torch, self.dtype)
        for k, p in enumerate(points):
            args = list(p) + ([] if target is None else [target])
            (tv, tg), (bv, bg) = _torch_numbers(fn, args, tdtype, len(names))
            point = ", ".join(repr(float(a)) for a in p)
            self.record(expr, "value", point, value[k], tv[0], bv[0])
            for i, n in enumerate(names):
                self.record(expr, f"d/d{n}", point, grads[n][k], tg[i][0], bg[i][0])

    def check_diagonal(self, expr, inputs, names, grads):
        """The Jacobian's diagonal (``jac eval``'s answer) has the VJP's bits; a mismatch is jac's own."""
        from jacobi_cli.tools import api

        jac = api.jacobian(expr, inputs, wrt=names, dtype=self.dtype)
        for n in names:
            diagonal = np.diagonal(np.asarray(jac[n]))
            for k in range(len(diagonal)):
                if diagonal[k:k + 1].tobytes() == np.asarray(grads[n][k:k + 1], diagonal.dtype).tobytes():
                    continue
                self.rows.append((expr, f"jacobian d/d{n}", f"element {k}", "differs", diagonal[k], grads[n][k],
                                  grads[n][k]))

    def rows_of(self, expr, fn, extra: dict, specials):
        """A function of rows: x is (len(specials), 3), the special value in column 0 of each row."""
        import torch

        base = np.array([0.25, -0.5, 1.5], dtype=self.np_dtype)
        x = np.tile(base, (len(specials), 1))
        x[:, 0] = specials
        n = len(specials)
        inputs = {"x": x, **{k: np.tile(v, (n, 1)) if np.ndim(v) else np.full(n, v) for k, v in extra.items()}}
        got = self._jac(expr, inputs, ["x"])
        if got is None:
            return
        value, grads = got
        tdtype = getattr(torch, self.dtype)
        whole = value.ndim == 0   # a reduction of the whole array: compare the one matrix at once
        if whole:
            t = torch.tensor(x, dtype=tdtype, requires_grad=True)
            y = fn(t)
            g, = torch.autograd.grad(y.sum(), t)
            tag = "" if np.isnan(specials).any() else " (no NaN)"
            self.record(expr, "value", "rows" + tag, value, y.item(), y.item())
            for k, s in enumerate(specials):
                for j in range(3):
                    self.record(expr, "d/dx", f"{s!r} row{tag}, col {j}", grads["x"][k, j], g[k, j].item(),
                                g[k, j].item())
            return
        for k, s in enumerate(specials):
            (tv, tg), (bv, bg) = _torch_numbers(fn, [x[k]], tdtype, 1)
            vals = np.ravel(value[k])
            for j in range(len(vals)):
                self.record(expr, "value", f"{s!r} row, out {j}", vals[j], tv[j], bv[j])
            for j in range(3):
                self.record(expr, "d/dx", f"{s!r} row, col {j}", grads["x"][k, j], tg[0][j], bg[0][j])

    def run(self, k: str):
        f32 = self.dtype == "float32"
        specials = list(F32_SPECIALS if f32 else F64_SPECIALS)
        pairs = F32_PAIRS if f32 else F64_PAIRS
        for expr, fn, kinks in _unary():
            if k in expr:
                self.elementwise(expr, fn, [(v,) for v in specials + list(kinks)])
        for expr, fn in _binary():
            if k in expr:
                self.elementwise(expr, fn, [(a, b) for a in pairs for b in pairs])
        for expr, fn, target, *points in _losses():
            if k in expr:
                values = [v for v in points[0] if not f32 or v == 0 or abs(v) >= 1e-45] if points else \
                    specials + [target, target + 1, target - 1]
                self.elementwise(expr, fn, [(v,) for v in values], target)
        for expr, fn, extra in _vector_losses():
            if k in expr:
                self.rows_of(expr, fn, extra, specials)
                if expr in WHOLE:  # a reduction of the whole array: once more without the NaN (ties at ±inf, 0)
                    self.rows_of(expr, fn, extra, [v for v in specials if not np.isnan(v)] + [1.0, 0.0])


def report(sweeps, verbose: bool) -> int:
    """One line per (dtype, expression, class) that is not ``same``; the elements of ``differs``,
    ``known`` and ``torch-position`` (and with ``--verbose`` of ``ulp`` and ``zero-sign``); the counts."""
    counts = Counter()
    by_fn = defaultdict(list)
    for s in sweeps:
        for expr, part, point, kind, ours, tail, body in s.rows:
            counts[kind] += 1
            if kind != "same":
                by_fn[(s.dtype, expr, kind)].append((part, point, ours, tail, body))
    shown = ("differs", "known", "torch-position") + (("ulp", "zero-sign") if verbose else ())
    for (dtype, expr, kind), items in sorted(by_fn.items(), key=lambda kv: (kv[0][2], kv[0][1], kv[0][0])):
        print(f"{dtype} {kind:14} {expr}: {len(items)}")
        if kind == "known":
            for part in sorted({it[0] for it in items}):
                print(f"      {part}: {KNOWN[(expr, part)]}")
        for part, point, ours, tail, body in items if kind in shown else ():
            torch_says = f"{float(tail)!r}" if _bits_equal(tail, body) else f"tail {float(tail)!r} / body {float(body)!r}"
            print(f"      {part} at {point}: jac {float(ours)!r}, torch {torch_says}")
    for s in sweeps:
        for expr, why in s.refused:
            print(f"{s.dtype} refused        {expr}: {why}")
    print("elements:", ", ".join(f"{k} {counts[k]}" for k in ("same", "ulp", "zero-sign", "torch-position", "known",
                                                              "differs")),
          f"(functions refused by jac: {len({e for s in sweeps for e, _ in s.refused})})")
    return 1 if counts["differs"] else 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-k", default="", help="only expressions containing this")
    parser.add_argument("--dtype", choices=("float64", "float32"), action="append")
    parser.add_argument("--verbose", action="store_true")
    opts = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    sweeps = []
    for dtype in opts.dtype or ("float64", "float32"):
        s = Sweep(dtype, opts.verbose)
        import warnings

        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            s.run(opts.k)
        sweeps.append(s)
    return report(sweeps, opts.verbose)


if __name__ == "__main__":
    sys.exit(main())
