"""The edge15 harness: values and derivatives at extreme finite magnitudes, against PyTorch (2.13).

A case is an expression in PyTorch's spelling (``torch.exp(x)``, ``F.softplus(x)``): jac reads it and
PyTorch runs the same text (``eval`` with ``torch``, ``F``, ``math`` in scope), in the same dtype. Two
kinds:

- :data:`UNARY`, :data:`BINARY`: element-wise, at every point of :func:`points` (the magnitudes
  ±1e-300 ... ±1e300, subnormals, ±0; their float32 casts and float32's own edges): the value and the
  derivative of each element (a VJP along ones: the diagonal) compared element by element;
- :data:`WHOLE`: reductions, losses, norms and softmaxes at hand-picked inputs (a huge spread, tiny or
  huge vectors, ±1000 logits, -inf logits): the value and every Jacobian.

:func:`compare` classifies each element: ``agree`` (close: rtol 1e-9 in float64, 1e-5 in float32, NaN
equal to NaN, inf to inf), ``jac-nonfinite`` (jac NaN or inf where PyTorch is finite), ``torch-nonfinite``
(the reverse), ``numbers`` (two finite numbers differ). ``benchmarks/edges15_sweep.py`` runs every case
and tallies them; ``tests/test_edges15.py`` holds the fast parity tests of what was fixed.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

MAGNITUDES = [1e-300, 1e-30, 1e-8, 0.5, 30.0, 100.0, 700.0, 800.0, 1e10, 1e300, 5e-324, 1e-310]
F32_EXTRA = [1e-40, 1e-45, 1e-38, 88.0, 89.0, 90.0, 1e30, 3e38]


def points(dtype: str) -> np.ndarray:
    """The points of an element-wise case: each magnitude with both signs, and ±0."""
    mags = MAGNITUDES + (F32_EXTRA if dtype == "float32" else [])
    with np.errstate(over="ignore"):
        v = np.array([0.0, -0.0] + [s * m for m in mags for s in (1.0, -1.0)], dtype=dtype)
    return v


# element-wise functions of one argument, written with x
UNARY = [
    "torch.exp(x)", "torch.expm1(x)", "torch.exp2(x)", "torch.log(x)", "torch.log1p(x)", "torch.log2(x)",
    "torch.log10(x)", "torch.sqrt(x)", "torch.rsqrt(x)", "x ** 0.5", "x ** 1.5", "x ** 2", "x ** 3", "x ** -1",
    "x ** -0.5", "torch.reciprocal(x)", "torch.square(x)", "torch.abs(x)", "torch.sin(x)", "torch.cos(x)",
    "torch.tan(x)", "torch.sinh(x)", "torch.cosh(x)", "torch.tanh(x)", "torch.asinh(x)", "torch.acosh(x)",
    "torch.atanh(x)", "torch.asin(x)", "torch.acos(x)", "torch.atan(x)", "torch.sigmoid(x)", "F.logsigmoid(x)",
    "F.softplus(x)", "F.softplus(x, beta=2.0)", "F.softplus(x, beta=0.5, threshold=5.0)", "F.silu(x)",
    "F.gelu(x)", "F.gelu(x, approximate='tanh')", "F.mish(x)", "F.elu(x)", "F.selu(x)", "F.celu(x)",
    "F.softsign(x)", "F.tanhshrink(x)", "torch.relu(x)", "F.hardsigmoid(x)", "F.hardswish(x)", "F.relu6(x)",
    "F.hardtanh(x)", "F.leaky_relu(x)", "torch.erf(x)", "torch.erfc(x)", "torch.erfinv(x)",
    "torch.special.erfcx(x)", "torch.lgamma(x)", "torch.digamma(x)", "torch.special.i0(x)",
    "torch.special.i0e(x)", "torch.special.i1(x)", "torch.special.i1e(x)", "torch.special.ndtr(x)",
    "torch.special.ndtri(x)", "torch.special.log_ndtr(x)", "torch.sinc(x)", "torch.special.entr(x)",
    "torch.logit(x)", "torch.special.expit(x)", "torch.deg2rad(x)", "torch.nan_to_num(x)",
    "torch.special.xlogy(x, x)", "torch.special.xlog1py(x, x)", "torch.logaddexp(x, x)",
    "torch.logaddexp(x, -x)", "torch.logaddexp2(x, 0 * x)", "torch.hypot(x, x)", "torch.atan2(x, x)",
    "torch.atan2(x, 0 * x + 1)", "torch.special.sinc(x)", "torch.special.log1p(x)", "torch.special.expm1(x)",
    "torch.special.psi(x)", "torch.special.gammaln(x)", "torch.sgn(x) * x", "torch.copysign(x, -x)",
    "torch.fmod(x, 0 * x + 3)", "torch.remainder(x, 0 * x + 3)", "torch.clamp(x, -1, 1)",
    "torch.special.logsumexp(torch.stack([x, 0 * x]), 0)", "torch.softmax(torch.stack([x, 0 * x]), 0)[0]",
    "torch.log_softmax(torch.stack([x, 0 * x]), 0)[0]",
    "F.binary_cross_entropy_with_logits(x, 0 * x + 1, reduction='none')",
    "F.binary_cross_entropy_with_logits(x, 0 * x, reduction='none')",
    "F.binary_cross_entropy_with_logits(x, 0 * x + 0.3, reduction='none')",
    "F.binary_cross_entropy(torch.sigmoid(x), 0 * x + 1, reduction='none')",
    "F.soft_margin_loss(x, 0 * x + 1, reduction='none')", "F.huber_loss(x, 0 * x, reduction='none')",
    "F.smooth_l1_loss(x, 0 * x, reduction='none')", "F.mse_loss(x, 0 * x, reduction='none')",
    "F.l1_loss(x, 0 * x, reduction='none')", "F.poisson_nll_loss(x, 0 * x + 2, reduction='none')",
    "F.gaussian_nll_loss(0 * x, 0 * x + 1, x * x + 1, reduction='none')",
    "F.kl_div(x, 0 * x + 0.5, reduction='none')", "F.kl_div(x, 0 * x + 0.5, reduction='none', log_target=True)",
]

# element-wise functions of two arguments (x, y), at every pair of a smaller point set
BINARY = [
    "torch.atan2(x, y)", "torch.hypot(x, y)", "x ** y", "torch.pow(x, y)", "torch.xlogy(x, y)",
    "torch.logaddexp(x, y)", "x / y", "torch.maximum(x, y)", "torch.copysign(x, y)",
]
BINARY_POINTS = [0.0, -0.0, 1e-300, -1e-300, 0.5, -0.5, 2.0, -2.0, 1e300, -1e300, 5e-324, 800.0, -800.0]


def _vector(*vals):
    return np.array(vals, dtype=np.float64)


# (expression, inputs): reductions, norms, losses and softmaxes at extreme inputs; every Jacobian compared
WHOLE = [
    ("torch.logsumexp(x, 0)", {"x": _vector(1000.0, -1000.0, 0.0)}),
    ("torch.logsumexp(x, 0)", {"x": _vector(1e300, -1e300, 1.0)}),
    ("torch.logsumexp(x, 0)", {"x": _vector(-1e300, -1e300)}),
    ("torch.logsumexp(x, 0)", {"x": _vector(-math.inf, 0.0, 1.0)}),
    ("torch.logsumexp(x, 0)", {"x": _vector(800.0, 800.0)}),
    ("torch.softmax(x, 0)", {"x": _vector(1000.0, -1000.0, 0.0)}),
    ("torch.softmax(x, 0)", {"x": _vector(1e300, 1.0, -1e300)}),
    ("torch.softmax(x, 0)", {"x": _vector(-math.inf, 0.0, 1.0)}),
    ("torch.log_softmax(x, 0)", {"x": _vector(1000.0, -1000.0, 0.0)}),
    ("torch.log_softmax(x, 0)", {"x": _vector(1e300, 1.0, -1e300)}),
    ("torch.log_softmax(x, 0)", {"x": _vector(-math.inf, 0.0, 1.0)}),
    ("F.cross_entropy(L, torch.tensor([1, 0]))", {"L": np.array([[-math.inf, 0.0, 1.0], [2.0, -math.inf, 0.0]])}),
    ("F.cross_entropy(L, torch.tensor([1, 0]))", {"L": np.array([[1000.0, 0.0, -1000.0], [1e300, 1.0, 0.0]])}),
    ("F.cross_entropy(L, torch.tensor([0, 2]))", {"L": np.array([[-1000.0, 1000.0, 0.0], [800.0, 0.0, -800.0]])}),
    ("F.nll_loss(F.log_softmax(L, 1), torch.tensor([1, 0]))", {"L": np.array([[1e10, 0.0, 1.0], [0.0, -1e10, 1.0]])}),
    ("F.binary_cross_entropy_with_logits(x, y)", {"x": _vector(1000.0, -1000.0, 800.0), "y": _vector(1.0, 0.0, 0.5)}),
    ("F.binary_cross_entropy_with_logits(x, y, pos_weight=torch.tensor([2.0, 2.0, 2.0]))",
     {"x": _vector(1000.0, -1000.0, 1e300), "y": _vector(1.0, 0.0, 0.5)}),
    ("torch.linalg.norm(x)", {"x": _vector(1e-200, 2e-200, -3e-200)}),
    ("torch.linalg.norm(x)", {"x": _vector(1e200, 2e200, -3e200)}),
    ("torch.linalg.norm(x)", {"x": _vector(5e-324, 0.0, 1e-320)}),
    ("torch.norm(x)", {"x": _vector(1e200, 2e200, -3e200)}),
    ("x.norm()", {"x": _vector(1e-200, 2e-200, -3e-200)}),
    ("torch.linalg.vector_norm(x, 3)", {"x": _vector(1e150, 2e150, -3e150)}),
    ("torch.linalg.vector_norm(x, 1)", {"x": _vector(1e300, 1e300, 0.0)}),
    ("torch.linalg.vector_norm(x, float('inf'))", {"x": _vector(1e300, -2e300, 0.0)}),
    ("torch.linalg.matrix_norm(A)", {"A": np.array([[1e200, 2e200], [3e200, -1e200]])}),
    ("torch.linalg.matrix_norm(A)", {"A": np.array([[1e-200, 2e-200], [3e-200, -1e-200]])}),
    ("torch.dist(x, y)", {"x": _vector(1e200, 2e200), "y": _vector(-1e200, 0.0)}),
    ("F.normalize(x, dim=0)", {"x": _vector(1e-200, 2e-200, -3e-200)}),
    ("F.normalize(x, dim=0)", {"x": _vector(1e200, 2e200, -3e200)}),
    ("F.cosine_similarity(x, y, dim=0)", {"x": _vector(1e-200, 2e-200, 3e-200), "y": _vector(3e-200, 1e-200, 2e-200)}),
    ("F.cosine_similarity(x, y, dim=0)", {"x": _vector(1e200, 2e200, 3e200), "y": _vector(3e200, 1e200, 2e200)}),
    ("F.cosine_similarity(x, y, dim=0)", {"x": _vector(1e-10, 2e-10, 3e-10), "y": _vector(3.0, 1.0, 2.0)}),
    ("F.pairwise_distance(x, y)", {"x": _vector(1e200, 2e200), "y": _vector(-1e200, 0.0)}),
    ("torch.var(x)", {"x": _vector(1e200, -1e200, 0.0)}),
    ("torch.std(x)", {"x": _vector(1e200, -1e200, 0.0)}),
    ("torch.std(x)", {"x": _vector(1e-200, -1e-200, 0.0)}),
    ("torch.mean(x)", {"x": _vector(1e308, 1e308, -1e308)}),
    ("torch.prod(x)", {"x": _vector(1e200, 1e200, 1e-200)}),
    ("torch.sum(x * x)", {"x": _vector(1e200, 1.0)}),
    ("F.layer_norm(x, (3,))", {"x": _vector(1e200, -1e200, 0.0)}),
    ("F.layer_norm(x, (3,))", {"x": _vector(1e-200, -1e-200, 0.0)}),
    ("torch.special.logsumexp(A, 1)", {"A": np.array([[1e300, -1e300], [-1000.0, -1000.0]])}),
    ("torch.logcumsumexp(x, 0)", {"x": _vector(1000.0, -1000.0, 1000.0)}),
    ("F.softmin(x, 0)", {"x": _vector(1000.0, -1000.0, 0.0)}),
    ("F.log_softmax(x * 1e10, 0)", {"x": _vector(1.0, 2.0, 3.0)}),
    ("F.kl_div(F.log_softmax(x, 0), F.softmax(y, 0), reduction='sum')",
     {"x": _vector(1000.0, -1000.0, 0.0), "y": _vector(-1000.0, 1000.0, 0.0)}),
    ("F.margin_ranking_loss(x, y, torch.tensor([1.0, -1.0]))", {"x": _vector(1e300, -1e300), "y": _vector(0.0, 0.0)}),
    ("torch.trapezoid(x)", {"x": _vector(1e308, 1e308, 1e308)}),
    ("torch.cumsum(x, 0)", {"x": _vector(1e308, 1e308, -1e308)}),
    ("torch.linalg.det(A)", {"A": np.array([[1e200, 0.0], [0.0, 1e200]])}),
    ("torch.logdet(A)", {"A": np.array([[1e200, 0.0], [0.0, 1e200]])}),
    ("torch.linalg.slogdet(A)[1]", {"A": np.array([[1e200, 0.0], [0.0, 1e200]])}),
    ("torch.logdet(A)", {"A": np.array([[1.0, 2.0], [3.0, 1.0]])}),
    ("torch.linalg.slogdet(A)[0]", {"A": np.array([[math.nan, 2.0], [3.0, 1.0]])}),
]

# element-wise cases at hand-picked points: the derivative of each element (a VJP along ones), as UNARY's
# (a full Jacobian would meet PyTorch's 0 · NaN off the diagonal, a documented difference)
POINTWISE = [
    ("torch.atan2(x, y)", {"x": _vector(0.0, -0.0, 0.0, 1e-300), "y": _vector(0.0, 0.0, -0.0, 1e-300)}),
    ("x ** y", {"x": _vector(0.0, 0.0, 0.0, 0.0), "y": _vector(-1.0, 0.5, -0.5, 2.0)}),
    ("torch.sqrt(x)", {"x": _vector(0.0, 1e-320, 1e-300)}),
    ("x ** 0.5", {"x": _vector(0.0, 1e-320, 1e-300)}),
    ("torch.hypot(x, y)", {"x": _vector(1e300, 0.0, 1e-300), "y": _vector(1e300, 0.0, 1e-300)}),
]


def namespace():
    import torch

    return {"torch": torch, "F": torch.nn.functional, "math": math}


def torch_value_and_grads(expr: str, inputs: dict, dtype: str, elementwise: bool):
    """PyTorch's value and, per input, the derivative: the VJP along ones (element-wise) or the Jacobian."""
    import torch

    tdtype = getattr(torch, dtype)
    names = list(inputs)
    ts = [torch.tensor(np.asarray(inputs[n]), dtype=tdtype) for n in names]

    def f(*xs):
        return eval(expr, namespace(), dict(zip(names, xs)))  # noqa: S307 - the cases above

    value = f(*ts)
    if elementwise:
        leaves = [t.clone().requires_grad_(True) for t in ts]
        out = f(*leaves)
        grads = torch.autograd.grad(out, leaves, torch.ones_like(out), allow_unused=True)
        return value.detach().numpy(), {n: (np.zeros_like(inputs[n]) if g is None else g.numpy())
                                         for n, g in zip(names, grads)}
    jac = torch.autograd.functional.jacobian(f, tuple(ts))
    return value.detach().numpy(), {n: j.numpy() for n, j in zip(names, jac)}


def jac_value_and_grads(expr: str, inputs: dict, dtype: str, elementwise: bool):
    value = np.asarray(api.evaluate(expr, inputs, dtype=dtype))
    if elementwise:
        return value, api.vjp(expr, inputs, v=np.ones(value.shape), dtype=dtype)
    return value, {n: np.asarray(j) for n, j in api.jacobian(expr, inputs, dtype=dtype).items()}


def compare(ours, theirs, dtype: str) -> np.ndarray:
    """Per element: 'agree', 'jac-nonfinite', 'torch-nonfinite' or 'numbers'."""
    ours, theirs = np.broadcast_arrays(np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64))
    rtol = 1e-9 if dtype == "float64" else 1e-5
    tiny = np.finfo(dtype).tiny
    with np.errstate(invalid="ignore", over="ignore"):
        close = np.isclose(ours, theirs, rtol=rtol, atol=tiny * 4, equal_nan=True) | (ours == theirs)
    fo, ft = np.isfinite(ours), np.isfinite(theirs)
    out = np.full(ours.shape, "agree", dtype=object)
    out[~close & ~fo & ft] = "jac-nonfinite"
    out[~close & fo & ~ft] = "torch-nonfinite"
    out[~close & fo & ft] = "numbers"
    out[~close & ~fo & ~ft] = "numbers"  # inf against -inf or NaN
    return out


def run_case(expr: str, inputs: dict, dtype: str, elementwise: bool):
    """``(kind, details)``: 'refused' / 'both-raise' / 'torch-raises' / 'crash' with a message, or
    'compared' with ``[(what, index, jac, torch, verdict), ...]`` for every element that differs and the
    number of elements compared."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            theirs = torch_value_and_grads(expr, inputs, dtype, elementwise)
            terr = None
        except Exception as err:  # noqa: BLE001 - PyTorch's refusals, whatever they are
            theirs, terr = None, f"{type(err).__name__}: {str(err).splitlines()[0][:80]}"
        try:
            ours = jac_value_and_grads(expr, inputs, dtype, elementwise)
        except JacError as err:
            return ("both-raise" if terr else "refused"), f"{err.kind}: {err.message[:100]}"
        except Exception as err:  # noqa: BLE001
            return "crash", f"{type(err).__name__}: {err}"[:140]
    if terr:
        return "torch-raises", terr
    found, count = [], 0
    parts = [("value", ours[0], theirs[0])] + [(f"d/d{n}", ours[1][n], theirs[1][n]) for n in inputs]
    for what, a, b in parts:
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            found.append((what, (), a.shape, b.shape, "shape"))
            continue
        verdicts = compare(a, b, dtype)
        count += verdicts.size
        for index in np.argwhere(np.atleast_1d(verdicts != "agree")):
            index = tuple(int(i) for i in index)[:verdicts.ndim]
            found.append((what, index, float(a[index]), float(b[index]), verdicts[index]))
    return "compared", (found, count)
