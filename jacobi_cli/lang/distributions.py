"""Probability distributions as VAE, RL and Bayesian code writes them (session 33), registered in ``functions``'
table when ``lang`` is imported; no op of its own, each formula the library's own, lowered onto existing ops.

``torch.distributions``: ``Normal(loc, scale)`` and the others of ``_MAKERS`` make a :class:`Distribution` (its
parameters as PyTorch holds them: ``Bernoulli(probs=p)``'s logits from the clamped probs, ``Categorical``'s probs
normalised, ``MultivariateNormal``'s ``scale_tril`` from ``covariance_matrix`` or ``precision_matrix`` as PyTorch
computes it), whose methods (the parser's ``lowered_call`` → :func:`method`: ``log_prob cdf icdf entropy``) and
properties (the parser's ``attribute`` → :func:`attribute`: ``mean variance stddev``) are PyTorch's formulas;
``kl_divergence(p, q)`` of Normal–Normal, Categorical–Categorical and MVN–MVN as ``torch.distributions.kl``
writes them. PyTorch's ``validate_args`` default raises on a parameter outside its constraint and on a value outside
the support: jac refuses at those values with PyTorch's words (:func:`_checked`: a ``finite_range`` 0 added to each
result, so every result of a distribution made of invalid parameters refuses). ``rsample`` / ``sample`` refused:
PyTorch draws, and jac cannot match its numbers (write ``loc + scale * eps`` with ``eps`` an input).

``jax.scipy.stats`` and ``scipy.stats``: ``norm``'s ``logpdf pdf cdf logcdf sf logsf ppf isf`` and
``multivariate_normal.logpdf / pdf``, each library's formula (JAX's ``lax`` expressions; SciPy's standardised
``_norm_logpdf`` minus ``log(scale)``), so the values are the library's and the derivatives the formula's (SciPy
itself does not differentiate)."""

from __future__ import annotations

import math

import numpy as np

from ..errors import JacValueError
from ..ir.graph import Tracer
from ..ir.refusals import refusal
from ..ir.shapes import broadcast, fmt
from .jaxnames import LIBRARY_NAMES
from .functions import FUNCTIONS, LIBRARIES, LIBRARY_FUNCTIONS, MODULES, REQUIRED, arguments, library_function, matrix_transpose, static, \
    tensor, variant

TORCH = "torch.distributions"
MODULES.add(TORCH)
LIBRARIES[TORCH] = TORCH
STATS = ("norm", "multivariate_normal")  # the distributions of jax.scipy.stats / scipy.stats read
for _root in ("jax.scipy.stats", "scipy.stats"):
    LIBRARIES[_root] = _root  # import scipy.stats as st: followed to scipy.stats.norm (lang/imports.py)
    for _dist in STATS:
        MODULES.add(f"{_root}.{_dist}")
        LIBRARIES[f"{_root}.{_dist}"] = f"{_root}.{_dist}"
_RSAMPLE = ("PyTorch draws the noise with its own generator, whose numbers jac cannot match: write the "
            "reparameterisation with the noise as an input, loc + scale * eps (eps=... bound on the command line)")


class Distribution:
    """A ``torch.distributions`` object of the text: its class, parameters as PyTorch holds them (tracers), its
    batch and event shapes, and ``zero``: a 0 refusing at evaluation where PyTorch's constructor raises (None
    with ``validate_args=False`` or nothing to check)."""

    def __init__(self, cls: str, params: dict, batch: tuple, event: tuple = (), zero=None, validate: bool = True,
                 base=None):
        self.cls, self.params, self.batch, self.event = cls, params, batch, event
        self.zero, self.validate, self.base = zero, validate, base

    def __getattr__(self, name):
        params = self.__dict__.get("params", {})
        if name in params:
            return params[name]
        raise AttributeError(name)

    def __repr__(self) -> str:
        return f"{self.cls}(batch_shape={fmt(self.batch)}, event_shape={fmt(self.event)})"


def _fn(b, name: str, *args, position, library="torch", **kwargs):
    """``library``'s ``name`` applied as the text would call it."""
    lower = library_function(library, name) or FUNCTIONS[name]
    return lower(b, list(args), kwargs, position)


def _checked(b, d: Distribution, result, position):
    """``result`` with ``d``'s construction check attached: the same values and derivatives, refused where
    PyTorch's constructor raises."""
    return result if d.zero is None else b.apply("sub", result, d.zero, position=position)


def _check(b, invalid, message: str, position):
    """A scalar 0 refusing with ``message`` where any element of the mask ``invalid`` is set."""
    return refusal(b, message, where=invalid, axes=tuple(range(invalid.ndim)), position=position)


def _both(b, zeros: list, position):
    zeros = [z for z in zeros if z is not None]
    out = zeros[0] if zeros else None
    for z in zeros[1:]:
        out = b.apply("add", out, z, position=position)
    return out


def _param_message(cls: str, name: str, constraint: str) -> str:
    return (f"torch.distributions.{cls}: PyTorch raises (validate_args, its default): expected parameter {name} "
            f"to satisfy the constraint {constraint}, but found invalid values")


def _support_message(cls: str, support: str) -> str:
    return (f"torch.distributions.{cls}.log_prob: PyTorch raises (validate_args, its default): expected value "
            f"argument to be within the support ({support}) of the distribution {cls}, but found invalid values")


def _not(b, mask, position):
    return b.apply("eq", mask, 0.0, position=position)


def _broadcast_all(b, values: list, fname: str, position) -> list:
    try:
        shape = broadcast(*[v.shape for v in values])
    except Exception:  # noqa: BLE001 - the shapes' own error, said as PyTorch's
        raise JacValueError(f"{fname}: the parameters' shapes {', '.join(fmt(v.shape) for v in values)} do not "
                            f"broadcast (PyTorch raises)", position) from None
    return [v if v.shape == shape else _fn(b, "broadcast_to", v, shape, position=position) for v in values]


def _validate(b, a: dict, position) -> bool:
    v = static(b, a.pop("validate_args"), "validate_args", position)
    if v is not None and not isinstance(v, bool):
        raise JacValueError(f"validate_args is True, False or None, got {v!r}", position)
    return v is not False


# --- the constructors -----------------------------------------------------------------------------------------

def _normal_like(cls: str, constraints: dict):
    """Normal, Laplace: (loc, scale) broadcast, scale > 0."""

    def make(b, args, kwargs, position):
        a = arguments(cls, args, kwargs, {"loc": REQUIRED, "scale": REQUIRED, "validate_args": None}, position)
        validate = _validate(b, a, position)
        loc, scale = _broadcast_all(b, [tensor(b, a["loc"], cls, position), tensor(b, a["scale"], cls, position)],
                                    f"torch.distributions.{cls}", position)
        zero = None
        if validate:
            zero = _both(b, [_check(b, b.apply("ne", loc, loc, position=position),
                                    _param_message(cls, "loc", "Real()"), position),
                             _check(b, _not(b, b.apply("gt", scale, 0.0, position=position), position),
                                    _param_message(cls, "scale", "GreaterThan(lower_bound=0.0)"), position)],
                         position)
        return Distribution(cls, {"loc": loc, "scale": scale}, loc.shape, (), zero, validate)
    make.__doc__ = f"torch.distributions.{cls}(loc, scale): PyTorch's formulas; scale > 0 checked as PyTorch does"
    return make


variant(TORCH, "Normal")(_normal_like("Normal", {}))
variant(TORCH, "Laplace")(_normal_like("Laplace", {}))


def _probs_or_logits(cls: str, a: dict, position):
    if (a["probs"] is None) == (a["logits"] is None):
        raise JacValueError(f"torch.distributions.{cls}: PyTorch raises: Either `probs` or `logits` must be "
                            f"specified, but not both.", position)


def _clamped(b, probs, position):
    eps = float(np.finfo(b.dtype).eps)  # PyTorch's clamp_probs
    return _fn(b, "clamp", probs, eps, 1.0 - eps, position=position)


@variant(TORCH, "Bernoulli")
def _bernoulli(b, args, kwargs, position):
    """torch.distributions.Bernoulli(probs=None, logits=None): PyTorch's logits (log p − log1p(−p) of the
    clamped probs) and log_prob −binary_cross_entropy_with_logits(logits, x)."""
    a = arguments("Bernoulli", args, kwargs, {"probs": None, "logits": None, "validate_args": None}, position)
    validate = _validate(b, a, position)
    _probs_or_logits("Bernoulli", a, position)
    zero = None
    if a["probs"] is not None:
        probs = tensor(b, a["probs"], "Bernoulli", position)
        p = _clamped(b, probs, position)
        logits = b.apply("sub", b.apply("log", p, position=position),
                         b.apply("log1p", b.apply("neg", p, position=position), position=position), position=position)
        if validate:
            inside = b.apply("mul", b.apply("ge", probs, 0.0, position=position),
                             b.apply("le", probs, 1.0, position=position), position=position)
            zero = _check(b, _not(b, inside, position), _param_message(
                "Bernoulli", "probs", "Interval(lower_bound=0.0, upper_bound=1.0)"), position)
    else:
        logits = tensor(b, a["logits"], "Bernoulli", position)
        probs = b.apply("sigmoid", logits, position=position)
        if validate:
            zero = _check(b, b.apply("ne", logits, logits, position=position),
                          _param_message("Bernoulli", "logits", "Real()"), position)
    return Distribution("Bernoulli", {"probs": probs, "logits": logits}, logits.shape, (), zero, validate)


@variant(TORCH, "Categorical")
def _categorical(b, args, kwargs, position):
    """torch.distributions.Categorical(probs=None, logits=None): probs normalised by their sum and logits
    log(clamp_probs(probs)), or logits minus their logsumexp and probs their softmax, as PyTorch."""
    a = arguments("Categorical", args, kwargs, {"probs": None, "logits": None, "validate_args": None}, position)
    validate = _validate(b, a, position)
    _probs_or_logits("Categorical", a, position)
    given = tensor(b, a["probs"] if a["probs"] is not None else a["logits"], "Categorical", position)
    which = "probs" if a["probs"] is not None else "logits"
    if given.ndim < 1:
        raise JacValueError(f"torch.distributions.Categorical: PyTorch raises: `{which}` parameter must be at least "
                            f"one-dimensional.", position)
    zero = None
    if which == "probs":
        probs = b.apply("div", given, _fn(b, "sum", given, -1, keepdims=True, position=position), position=position)
        logits = b.apply("log", _clamped(b, probs, position), position=position)
        if validate:  # PyTorch's Simplex() of the normalised probs: all >= 0 and |sum - 1| < 1e-6
            total = _fn(b, "sum", probs, -1, position=position)
            bad = b.apply("add", _fn(b, "sum", b.apply("lt", probs, 0.0, position=position), -1, position=position),
                          b.apply("ge", _fn(b, "abs", b.apply("sub", total, 1.0, position=position),
                                            position=position), 1e-6, position=position), position=position)
            zero = _check(b, b.apply("gt", bad, 0.0, position=position),
                          _param_message("Categorical", "probs", "Simplex()"), position)
    else:
        logits = b.apply("sub", given, _fn(b, "logsumexp", given, -1, keepdims=True, position=position),
                         position=position)
        probs = _fn(b, "softmax", logits, -1, position=position)
        if validate:
            zero = _check(b, b.apply("ne", given, given, position=position),
                          _param_message("Categorical", "logits", "IndependentConstraint(Real(), 1)"), position)
    return Distribution("Categorical", {"probs": probs, "logits": logits}, given.shape[:-1], (), zero, validate)


@variant(TORCH, "MultivariateNormal")
def _multivariate_normal(b, args, kwargs, position):
    """torch.distributions.MultivariateNormal(loc, covariance_matrix= | precision_matrix= | scale_tril=): its
    scale_tril as PyTorch computes it (cholesky of the covariance; of the precision, by the flipped cholesky and a
    triangular solve), log_prob by a triangular solve."""
    a = arguments("MultivariateNormal", args, kwargs, {"loc": REQUIRED, "covariance_matrix": None,
                                                       "precision_matrix": None, "scale_tril": None,
                                                       "validate_args": None}, position)
    validate = _validate(b, a, position)
    given = [k for k in ("covariance_matrix", "precision_matrix", "scale_tril") if a[k] is not None]
    if len(given) != 1:
        raise JacValueError("torch.distributions.MultivariateNormal: PyTorch raises: Exactly one of "
                            "covariance_matrix or precision_matrix or scale_tril may be specified.", position)
    loc = tensor(b, a["loc"], "MultivariateNormal", position)
    if loc.ndim != 1:
        raise JacValueError(f"torch.distributions.MultivariateNormal: jac reads a loc of one vector (shape (n,)), "
                            f"got {fmt(loc.shape)}; batches of distributions are not read here", position)
    kind = given[0]
    m = tensor(b, a[kind], "MultivariateNormal", position)
    n = loc.shape[0]
    if m.shape != (n, n):
        raise JacValueError(f"torch.distributions.MultivariateNormal: {kind} has shape {fmt(m.shape)}, loc "
                            f"{fmt(loc.shape)}: jac reads one ({n}, {n}) matrix", position)
    checks = []
    if validate:
        checks.append(_check(b, b.apply("ne", loc, loc, position=position),
                             _param_message("MultivariateNormal", "loc", "IndependentConstraint(Real(), 1)"),
                             position))
    if kind == "scale_tril":
        tril = m
        if validate:  # LowerCholesky(): lower triangular with a positive diagonal
            upper = b.apply("ne", b.apply("sub", m, _fn(b, "tril", m, position=position), position=position), 0.0,
                            position=position)
            diag = _fn(b, "diagonal", m, position=position)
            bad = b.apply("add", _fn(b, "sum", upper, position=position),
                          _fn(b, "sum", _not(b, b.apply("gt", diag, 0.0, position=position), position),
                              position=position), position=position)
            checks.append(_check(b, b.apply("gt", bad, 0.0, position=position),
                                 _param_message("MultivariateNormal", "scale_tril", "LowerCholesky()"), position))
    else:
        if validate:
            checks.append(_positive_definite(b, m, _param_message("MultivariateNormal", kind, "PositiveDefinite()"),
                                             position))
        if kind == "covariance_matrix":
            tril = _fn(b, "cholesky", m, position=position, library="torch.linalg")
        else:  # PyTorch's _precision_to_scale_tril
            flipped = _fn(b, "flip", m, (-2, -1), position=position)
            lf = _fn(b, "cholesky", flipped, position=position, library="torch.linalg")
            l_inv = matrix_transpose(b, _fn(b, "flip", lf, (-2, -1), position=position), position, "transpose")
            eye = b.const(np.eye(n, dtype=b.dtype), position)
            tril = _fn(b, "solve_triangular", l_inv, eye, upper=False, position=position, library="torch.linalg")
    return Distribution("MultivariateNormal", {"loc": loc, "scale_tril": tril}, (), (n,),
                        _both(b, checks, position), validate)


def _positive_definite(b, m, message: str, position):
    """PyTorch's PositiveDefinite(): symmetric (to its isclose, atol 1e-6) and cholesky_ex succeeds; here: symmetric
    and every eigenvalue of the symmetric part positive (its values only: no derivative through the check)."""
    mt = matrix_transpose(b, m, position, "transpose")  # torch.isclose(m, m.mT, atol=1e-6): rtol 1e-5
    tol = b.apply("add", 1e-6, b.apply("mul", 1e-5, _fn(b, "abs", mt, position=position), position=position),
                  position=position)
    asym = b.apply("gt", _fn(b, "abs", b.apply("sub", m, mt, position=position), position=position), tol,
                   position=position)
    sym = b.apply("mul", b.apply("add", m, matrix_transpose(b, m, position, "transpose"), position=position),
                  0.5, position=position)
    vals = _fn(b, "detach", _fn(b, "eigvalsh", sym, position=position, library="torch.linalg"), position=position)
    bad = b.apply("add", _fn(b, "sum", asym, position=position),
                  _fn(b, "sum", _not(b, b.apply("gt", vals, 0.0, position=position), position), position=position),
                  position=position)
    return _check(b, b.apply("gt", bad, 0.0, position=position), message, position)


@variant(TORCH, "Independent")
def _independent(b, args, kwargs, position):
    """torch.distributions.Independent(base, reinterpreted_batch_ndims): log_prob and entropy summed over the last
    batch axes of the base."""
    a = arguments("Independent", args, kwargs, {"base_distribution": REQUIRED, "reinterpreted_batch_ndims": REQUIRED,
                                               "validate_args": None}, position)
    _validate(b, a, position)
    base = a["base_distribution"]
    if not isinstance(base, Distribution):
        raise JacValueError("torch.distributions.Independent takes a distribution first", position)
    k = static(b, a["reinterpreted_batch_ndims"], "reinterpreted_batch_ndims", position)
    if isinstance(k, float) and k.is_integer():
        k = int(k)
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= len(base.batch):
        raise JacValueError(f"torch.distributions.Independent: PyTorch raises: Expected reinterpreted_batch_ndims <= "
                            f"len(base_distribution.batch_shape), {k!r} vs {len(base.batch)}", position)
    cut = len(base.batch) - k
    return Distribution("Independent", {}, base.batch[:cut], base.batch[cut:] + base.event, None, base.validate,
                        base=(base, k))


# --- methods and properties --------------------------------------------------------------------------------------

def _log_prob(b, d: Distribution, x, position):
    if d.cls == "Independent":
        base, k = d.base
        out = _log_prob(b, base, x, position)
        return _fn(b, "sum", out, tuple(range(-k, 0)), position=position) if k else out
    zero = None
    if d.cls in ("Normal", "Laplace"):
        loc, scale = d.loc, d.scale
        if d.validate:
            zero = _check(b, b.apply("ne", x, x, position=position), _support_message(d.cls, "Real()"), position)
        if d.cls == "Normal":  # -((value - loc) ** 2) / (2 * var) - log(scale) - log(sqrt(2 * pi))
            var = b.apply("pow", scale, 2.0, position=position)
            sq = b.apply("pow", b.apply("sub", x, loc, position=position), 2.0, position=position)
            out = b.apply("sub", b.apply("div", b.apply("neg", sq, position=position),
                                         b.apply("mul", 2.0, var, position=position), position=position),
                          b.apply("log", scale, position=position), position=position)
            out = b.apply("sub", out, math.log(math.sqrt(2 * math.pi)), position=position)
        else:  # -log(2 * scale) - |value - loc| / scale
            out = b.apply("sub", b.apply("neg", b.apply("log", b.apply("mul", 2.0, scale, position=position),
                                                        position=position), position=position),
                          b.apply("div", _fn(b, "abs", b.apply("sub", x, loc, position=position), position=position),
                                  scale, position=position), position=position)
    elif d.cls == "Bernoulli":
        if d.validate:
            bad = b.apply("mul", b.apply("ne", x, 0.0, position=position), b.apply("ne", x, 1.0, position=position),
                          position=position)
            zero = _check(b, bad, _support_message("Bernoulli", "Boolean()"), position)
        logits, x = _broadcast_all(b, [d.logits, x], "Bernoulli.log_prob", position)
        out = b.apply("neg", _fn(b, "binary_cross_entropy_with_logits", logits, x, reduction="none",
                                 position=position), position=position)
    elif d.cls == "Categorical":
        k = d.logits.shape[-1]
        if d.validate:  # IntegerInterval(0, K - 1)
            bad = b.apply("add", b.apply("ne", x, b.apply("floor", x, position=position), position=position),
                          b.apply("add", b.apply("lt", x, 0.0, position=position),
                                  b.apply("gt", x, float(k - 1), position=position), position=position),
                          position=position)
            zero = _check(b, b.apply("gt", bad, 0.0, position=position),
                          _support_message("Categorical", f"IntegerInterval(lower_bound=0, upper_bound={k - 1})"),
                          position)
        x = _fn(b, "detach", x, position=position)
        picked = b.apply("eq", b.apply("reshape", x, shape=x.shape + (1,), position=position),
                         b.const(np.arange(k, dtype=b.dtype), position), position=position)
        out = _fn(b, "sum", b.apply("where", picked, d.logits, 0.0, position=position), -1, position=position)
    elif d.cls == "MultivariateNormal":
        if d.validate:
            zero = _check(b, b.apply("ne", x, x, position=position),
                          _support_message("MultivariateNormal", "IndependentConstraint(Real(), 1)"), position)
        out = _mvn_log_prob(b, d.loc, d.scale_tril, x, position)
    else:
        raise JacValueError(f"torch.distributions.{d.cls}.log_prob is not read by jac", position)
    out = out if zero is None else b.apply("sub", out, zero, position=position)
    return _checked(b, d, out, position)


def _mahalanobis(b, tril, diff, position):
    """Σ (L⁻¹ diff)² over the event axis, for diff of shape (..., n)."""
    n = tril.shape[-1]
    rows = b.apply("reshape", diff, shape=(math.prod(diff.shape[:-1]), n), position=position) \
        if diff.ndim != 2 else diff
    solved = _fn(b, "solve_triangular", tril, matrix_transpose(b, rows, position, "transpose"), upper=False,
                 position=position, library="torch.linalg")
    m = _fn(b, "sum", b.apply("pow", solved, 2.0, position=position), 0, position=position)
    return b.apply("reshape", m, shape=diff.shape[:-1], position=position)


def _mvn_log_prob(b, loc, tril, x, position):
    if not x.ndim or x.shape[-1] != loc.shape[0]:
        raise JacValueError(f"MultivariateNormal.log_prob: the value's last axis must be the event's, "
                            f"{loc.shape[0]}; got shape {fmt(x.shape)}", position)
    n = loc.shape[0]
    diff = b.apply("sub", x, loc, position=position)
    m = _mahalanobis(b, tril, diff, position)
    half_log_det = _fn(b, "sum", b.apply("log", _fn(b, "diagonal", tril, position=position), position=position), -1,
                       position=position)
    return b.apply("sub", b.apply("mul", -0.5, b.apply("add", n * math.log(2 * math.pi), m, position=position),
                                  position=position), half_log_det, position=position)


def _entropy(b, d: Distribution, position):
    if d.cls == "Independent":
        base, k = d.base
        out = _entropy(b, base, position)
        return _fn(b, "sum", out, tuple(range(-k, 0)), position=position) if k else out
    if d.cls == "Normal":  # 0.5 + 0.5 * log(2 * pi) + log(scale)
        out = b.apply("add", 0.5 + 0.5 * math.log(2 * math.pi), b.apply("log", d.scale, position=position),
                      position=position)
    elif d.cls == "Laplace":  # 1 + log(2 * scale)
        out = b.apply("add", 1.0, b.apply("log", b.apply("mul", 2.0, d.scale, position=position), position=position),
                      position=position)
    elif d.cls == "Bernoulli":
        out = _fn(b, "binary_cross_entropy_with_logits", d.logits, d.probs, reduction="none", position=position)
    elif d.cls == "Categorical":  # -(clamp(logits, min=finfo.min) * probs).sum(-1)
        low = float(np.finfo(b.dtype).min)
        logits = _fn(b, "clamp", d.logits, low, position=position)
        out = b.apply("neg", _fn(b, "sum", b.apply("mul", logits, d.probs, position=position), -1,
                                 position=position), position=position)
    elif d.cls == "MultivariateNormal":
        n = d.loc.shape[0]
        half_log_det = _fn(b, "sum", b.apply("log", _fn(b, "diagonal", d.scale_tril, position=position),
                                             position=position), -1, position=position)
        out = b.apply("add", 0.5 * n * (1.0 + math.log(2 * math.pi)), half_log_det, position=position)
    else:
        raise JacValueError(f"torch.distributions.{d.cls}.entropy is not read by jac", position)
    return _checked(b, d, out, position)


def _cdf(b, d: Distribution, x, position, inverse: bool):
    name = "icdf" if inverse else "cdf"
    if d.cls != "Normal":
        raise JacValueError(f"torch.distributions.{d.cls}.{name} is not read by jac (Normal's is)", position)
    loc, scale = d.loc, d.scale
    if inverse:  # loc + scale * erfinv(2 * value - 1) * sqrt(2); PyTorch checks nothing
        t = _fn(b, "erfinv", b.apply("sub", b.apply("mul", 2.0, x, position=position), 1.0, position=position),
                position=position)
        out = b.apply("add", loc, b.apply("mul", b.apply("mul", scale, t, position=position), math.sqrt(2),
                                          position=position), position=position)
    else:  # 0.5 * (1 + erf((value - loc) * scale.reciprocal() / sqrt(2)))
        z = b.apply("div", b.apply("mul", b.apply("sub", x, loc, position=position),
                                   b.apply("reciprocal", scale, position=position), position=position),
                    math.sqrt(2), position=position)
        out = b.apply("mul", 0.5, b.apply("add", 1.0, b.apply("erf", z, position=position), position=position),
                      position=position)
        if d.validate:
            out = b.apply("sub", out, _check(b, b.apply("ne", x, x, position=position),
                                             _support_message("Normal", "Real()").replace(".log_prob", ".cdf"),
                                             position), position=position)
    return _checked(b, d, out, position)


def _moment(b, d: Distribution, name: str, position):
    if d.cls == "Independent":
        return _moment(b, d.base[0], name, position)
    if d.cls in ("Normal", "Laplace"):
        if name == "mean":
            out = d.loc
        else:
            std = d.scale if d.cls == "Normal" else b.apply("mul", math.sqrt(2), d.scale, position=position)
            out = std if name == "stddev" else b.apply("pow", std, 2.0, position=position)
    elif d.cls == "Bernoulli":
        p = d.probs
        var = b.apply("mul", p, b.apply("sub", 1.0, p, position=position), position=position)
        out = p if name == "mean" else var if name == "variance" else b.apply("sqrt", var, position=position)
    elif d.cls == "MultivariateNormal":
        var = _fn(b, "sum", b.apply("pow", d.scale_tril, 2.0, position=position), -1, position=position)
        out = d.loc if name == "mean" else var if name == "variance" else b.apply("sqrt", var, position=position)
    elif d.cls == "Categorical":  # PyTorch: nan-filled of the batch shape
        out = b.const(np.full(d.batch, np.nan, dtype=b.dtype), position)
    else:
        raise JacValueError(f"torch.distributions.{d.cls}.{name} is not read by jac", position)
    return _checked(b, d, out, position)


METHODS = ("log_prob", "entropy", "cdf", "icdf", "rsample", "sample")
PROPERTIES = ("mean", "variance", "stddev")


def method(b, d: Distribution, name: str, args: list, kwargs: dict, position):
    """``d.NAME(...)`` of a distribution of the text (the parser's ``lowered_call``)."""
    fname = f"{d.cls}.{name}"
    if name in ("rsample", "sample"):
        raise JacValueError(f"torch.distributions.{fname}(): {_RSAMPLE}", position)
    if name == "entropy":
        arguments(fname, args, kwargs, {}, position)
        return _entropy(b, d, position)
    if name in ("log_prob", "cdf", "icdf"):
        a = arguments(fname, args, kwargs, {"value": REQUIRED}, position)
        x = tensor(b, a["value"], fname, position)
        return _log_prob(b, d, x, position) if name == "log_prob" else _cdf(b, d, x, position, name == "icdf")
    raise JacValueError(f"torch.distributions.{d.cls} has no method '.{name}()' jac reads (jac reads "
                        f"{', '.join(METHODS[:4])} and the properties {', '.join(PROPERTIES)})", position)


def attribute(b, d: Distribution, name: str, position):
    """``d.mean`` / ``d.variance`` / ``d.stddev`` and the parameters PyTorch holds (``d.loc``, ``d.probs``)."""
    if name in PROPERTIES:
        return _moment(b, d, name, position)
    if name in d.params:
        return _checked(b, d, d.params[name], position)
    if name in ("batch_shape", "event_shape"):
        return b.const(np.asarray(d.batch if name == "batch_shape" else d.event, dtype=b.dtype), position)
    raise JacValueError(f"torch.distributions.{d.cls} has no attribute '{name}' jac reads (jac reads "
                        f"{', '.join(PROPERTIES + tuple(d.params))})", position)


# --- kl_divergence ------------------------------------------------------------------------------------------------

@variant(TORCH, "kl_divergence")
def _kl_divergence(b, args, kwargs, position):
    """torch.distributions.kl_divergence(p, q) of Normal–Normal, Categorical–Categorical and MVN–MVN, as
    torch.distributions.kl writes them."""
    a = arguments("kl_divergence", args, kwargs, {"p": REQUIRED, "q": REQUIRED}, position)
    p, q = a["p"], a["q"]
    if not isinstance(p, Distribution) or not isinstance(q, Distribution):
        raise JacValueError("torch.distributions.kl_divergence takes two distributions", position)
    if p.cls != q.cls or p.cls not in ("Normal", "Categorical", "MultivariateNormal"):
        raise JacValueError(f"torch.distributions.kl_divergence({p.cls}, {q.cls}) is not read by jac (it reads "
                            f"Normal–Normal, Categorical–Categorical and MultivariateNormal–MultivariateNormal)",
                            position)
    if p.cls == "Normal":  # 0.5 * (var_ratio + t1 - 1 - var_ratio.log())
        ratio = b.apply("pow", b.apply("div", p.scale, q.scale, position=position), 2.0, position=position)
        t1 = b.apply("pow", b.apply("div", b.apply("sub", p.loc, q.loc, position=position), q.scale,
                                    position=position), 2.0, position=position)
        inner = b.apply("sub", b.apply("sub", b.apply("add", ratio, t1, position=position), 1.0, position=position),
                        b.apply("log", ratio, position=position), position=position)
        out = b.apply("mul", 0.5, inner, position=position)
    elif p.cls == "Categorical":  # p.probs * (p.logits - q.logits); inf where q.probs == 0, 0 where p.probs == 0
        if p.logits.shape[-1] != q.logits.shape[-1]:
            raise JacValueError("kl_divergence(Categorical, Categorical): the two have different numbers of events",
                                position)
        t = b.apply("mul", p.probs, b.apply("sub", p.logits, q.logits, position=position), position=position)
        t = b.apply("where", b.apply("eq", q.probs, 0.0, position=position), math.inf, t, position=position)
        t = b.apply("where", b.apply("eq", p.probs, 0.0, position=position), 0.0, t, position=position)
        out = _fn(b, "sum", t, -1, position=position)
    else:
        if p.loc.shape != q.loc.shape:
            raise JacValueError("KL-divergence between two Multivariate Normals with different event shapes "
                                "cannot be computed (PyTorch raises)", position)
        n = p.loc.shape[0]

        def half_log_det(d):
            return _fn(b, "sum", b.apply("log", _fn(b, "diagonal", d.scale_tril, position=position),
                                         position=position), -1, position=position)
        half_term1 = b.apply("sub", half_log_det(q), half_log_det(p), position=position)
        solved = _fn(b, "solve_triangular", q.scale_tril, p.scale_tril, upper=False, position=position,
                     library="torch.linalg")
        term2 = _fn(b, "sum", b.apply("pow", solved, 2.0, position=position), position=position)
        term3 = _mahalanobis(b, q.scale_tril, b.apply("sub", q.loc, p.loc, position=position), position)
        out = b.apply("add", half_term1, b.apply("mul", 0.5, b.apply(
            "sub", b.apply("add", term2, term3, position=position), float(n), position=position), position=position),
            position=position)
    return _checked(b, q, _checked(b, p, out, position), position)


# --- jax.scipy.stats and scipy.stats ---------------------------------------------------------------------------

def _norm(root: str, name: str):
    jax = root.startswith("jax")
    spelling = f"{root}.norm.{name}"
    first = "q" if name in ("ppf", "isf") else "x"

    def lower(b, args, kwargs, position):
        a = arguments(spelling, args, kwargs, {first: REQUIRED, "loc": 0.0, "scale": 1.0}, position)
        x, loc, scale = (tensor(b, b.lift(a[k]) if not isinstance(a[k], Tracer) else a[k], spelling, position)
                         for k in (first, "loc", "scale"))
        if not jax:
            _broadcast_all(b, [x, loc, scale], spelling, position)
        out = (_jax_norm if jax else _scipy_norm)(b, name, x, loc, scale, position)
        return out
    lower.__doc__ = f"{spelling}({first}, loc=0, scale=1): {'JAX' if jax else 'SciPy'}'s formula"
    return lower


def _jax_norm(b, name, x, loc, scale, position):
    if name in ("logpdf", "pdf"):  # (log(2 pi scale²) + (x - loc)² / scale²) / -2
        s2 = b.apply("square", scale, position=position)
        log_norm = b.apply("log", b.apply("mul", 2 * np.pi, s2, position=position), position=position)
        quad = b.apply("div", b.apply("square", b.apply("sub", x, loc, position=position), position=position), s2,
                       position=position)
        out = b.apply("div", b.apply("add", log_norm, quad, position=position), -2.0, position=position)
        return out if name == "logpdf" else b.apply("exp", out, position=position)
    if name in ("sf", "logsf"):  # cdf(-x, -loc, scale)
        x, loc = b.apply("neg", x, position=position), b.apply("neg", loc, position=position)
        name = "cdf" if name == "sf" else "logcdf"
    if name in ("cdf", "logcdf"):
        z = b.apply("div", b.apply("sub", x, loc, position=position), scale, position=position)
        return _fn(b, "ndtr" if name == "cdf" else "log_ndtr", z, position=position, library="jax.scipy")
    if name == "isf":
        x = b.apply("sub", 1.0, x, position=position)
    return b.apply("add", b.apply("mul", _fn(b, "ndtri", x, position=position, library="jax.scipy"), scale,
                                  position=position), loc, position=position)


def _scipy_norm(b, name, x, loc, scale, position):
    """SciPy's rv_continuous: y = (x - loc) / scale, the standard formula of y, scaled; NaN where scale <= 0 (its
    argcheck) or, for ppf / isf, where q is outside [0, 1]."""
    bad = b.apply("le", scale, 0.0, position=position)
    if name in ("ppf", "isf"):
        # SciPy: loc + scale * _ppf(q) inside (0, 1), loc - inf / loc + inf at the ends, NaN outside
        q = x if name == "ppf" else b.apply("sub", 1.0, x, position=position)
        out = b.apply("add", b.apply("mul", _fn(b, "ndtri", q, position=position, library="scipy"), scale,
                                     position=position), loc, position=position)
        bad = b.apply("add", bad, b.apply("add", b.apply("lt", x, 0.0, position=position),
                                          b.apply("gt", x, 1.0, position=position), position=position),
                      position=position)
    else:
        y = b.apply("div", b.apply("sub", x, loc, position=position), scale, position=position)
        if name in ("logpdf", "pdf"):  # -y**2 / 2 - log(sqrt(2 pi)), minus log(scale)
            out = b.apply("sub", b.apply("div", b.apply("neg", b.apply("pow", y, 2.0, position=position),
                                                        position=position), 2.0, position=position),
                          0.5 * np.log(2 * np.pi), position=position)
            if name == "pdf":  # SciPy's _norm_pdf: exp(-y**2 / 2) / sqrt(2 pi), divided by scale
                out = b.apply("div", b.apply("div", b.apply("exp", b.apply("div", b.apply(
                    "neg", b.apply("pow", y, 2.0, position=position), position=position), 2.0, position=position),
                    position=position), np.sqrt(2 * np.pi), position=position), scale, position=position)
            else:
                out = b.apply("sub", out, b.apply("log", scale, position=position), position=position)
        else:
            t = y if name in ("cdf", "logcdf") else b.apply("neg", y, position=position)
            out = _fn(b, "ndtr" if name in ("cdf", "sf") else "log_ndtr", t, position=position, library="scipy")
    return b.apply("where", bad, math.nan, out, position=position)


for _root in ("jax.scipy.stats", "scipy.stats"):
    for _name in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf"):
        variant(f"{_root}.norm", _name)(_norm(_root, _name))


def _mvn(root: str, name: str):
    jax = root.startswith("jax")
    spelling = f"{root}.multivariate_normal.{name}"

    def lower(b, args, kwargs, position):
        a = arguments(spelling, args, kwargs, {"x": REQUIRED, "mean": None if not jax else REQUIRED,
                                               "cov": 1.0 if not jax else REQUIRED,
                                               "allow_singular": None if jax else False}, position)
        if jax and a["allow_singular"] is not None:
            raise JacValueError(f"{spelling}: JAX raises NotImplementedError for allow_singular", position)
        if not jax and static(b, a["allow_singular"], "allow_singular", position):
            raise JacValueError(f"{spelling}(..., allow_singular=True): the pseudo-determinant form is not read by "
                                f"jac", position)
        x = tensor(b, a["x"], spelling, position)
        cov = tensor(b, b.lift(a["cov"]) if not isinstance(a["cov"], Tracer) else a["cov"], spelling, position)
        n = cov.shape[-1] if cov.ndim else (x.shape[-1] if x.ndim else 1)
        mean = tensor(b, a["mean"], spelling, position) if a["mean"] is not None else b.const(
            np.zeros(n, dtype=b.dtype), position)
        if mean.ndim != 1 or cov.shape != (n, n):
            raise JacValueError(f"{spelling}: jac reads a mean of shape (n,) and a cov of shape (n, n) (got "
                                f"{fmt(mean.shape)} and {fmt(cov.shape)}; a scalar cov: write cov * jnp.eye(n))",
                                position)
        if not x.ndim or x.shape[-1] != n:
            raise JacValueError(f"{spelling}: x's last axis must be the mean's, {n}; got shape {fmt(x.shape)}",
                                position)
        tril = _fn(b, "cholesky", cov, position=position, library="torch.linalg")
        out = _mvn_log_prob(b, mean, tril, x, position)
        if not jax:  # SciPy raises on a matrix that is not positive definite
            out = b.apply("sub", out, _positive_definite(
                b, cov, f"{spelling}: SciPy raises: the input matrix must be symmetric positive definite", position),
                position=position)
        return out if name == "logpdf" else b.apply("exp", out, position=position)
    lower.__doc__ = f"{spelling}(x, mean, cov): {'JAX' if jax else 'SciPy'}'s density, by a Cholesky factor"
    return lower


for _root in ("jax.scipy.stats", "scipy.stats"):
    for _name in ("logpdf", "pdf"):
        variant(f"{_root}.multivariate_normal", _name)(_mvn(_root, _name))


# each of these libraries has only its own names: torch.distributions.sin(x) is no function of it (parser.lookup)
TITLES = {TORCH: TORCH, **{f"{root}.{dist}": f"{root}.{dist}" for root in ("jax.scipy.stats", "scipy.stats")
                           for dist in STATS}}
for _library in TITLES:
    LIBRARY_NAMES[_library] = frozenset(name for (lib, name) in LIBRARY_FUNCTIONS if lib == _library)
