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
# the distributions of jax.scipy.stats / scipy.stats read
STATS = ("norm", "multivariate_normal", "expon", "laplace", "logistic", "uniform")
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


# --- session 33e: Exponential, Uniform, Gamma, Beta, Poisson -----------------------------------------------------

_POSITIVE = "GreaterThan(lower_bound=0.0)"
_PARAMS = {"Exponential": ("rate",), "Gamma": ("concentration", "rate"), "Beta": ("concentration1", "concentration0"),
           "Poisson": ("rate",), "Uniform": ("low", "high")}
# PyTorch's constraint of each parameter (Beta's are its Dirichlet's, of the stacked pair)
_CONSTRAINTS = {"Exponential": _POSITIVE, "Gamma": _POSITIVE, "Poisson": "GreaterThanEq(lower_bound=0.0)",
                "Beta": "IndependentConstraint(GreaterThan(lower_bound=0.0), 1)"}


def _simple(cls: str):
    """Exponential, Gamma, Beta, Poisson, Uniform: the parameters broadcast together, each checked as PyTorch's
    arg_constraints (Beta's by its Dirichlet, named concentration; Uniform's low < high)."""
    names = _PARAMS[cls]

    def make(b, args, kwargs, position):
        a = arguments(cls, args, kwargs, {**{k: REQUIRED for k in names}, "validate_args": None}, position)
        validate = _validate(b, a, position)
        params = _broadcast_all(b, [tensor(b, a[k], cls, position) for k in names], f"torch.distributions.{cls}",
                                position)
        zero = None
        if validate and cls == "Uniform":  # low: LessThan(high), checked first; high: GreaterThan(low), the same
            zero = _check(b, _not(b, b.apply("lt", params[0], params[1], position=position), position),
                          _param_message(cls, "low", "LessThan(upper_bound=high)"), position)
        elif validate:
            test = "ge" if cls == "Poisson" else "gt"
            zero = _both(b, [_check(b, _not(b, b.apply(test, v, 0.0, position=position), position), _param_message(
                cls, "concentration" if cls == "Beta" else k, _CONSTRAINTS[cls]), position)
                for k, v in zip(names, params)], position)
        return Distribution(cls, dict(zip(names, params)), params[0].shape, (), zero, validate)
    make.__doc__ = f"torch.distributions.{cls}({', '.join(names)}): PyTorch's formulas and checks"
    return make


for _cls in _PARAMS:
    variant(TORCH, _cls)(_simple(_cls))

# the support each checks on a value, by its mask of the values outside, and PyTorch's name for it
_SUPPORTS = {"Exponential": "GreaterThanEq(lower_bound=0.0)", "Gamma": "GreaterThanEq(lower_bound=0.0)",
             "Beta": "Interval(lower_bound=0.0, upper_bound=1.0)", "Poisson": "IntegerGreaterThan(lower_bound=0)",
             "Uniform": "Interval(lower_bound=low, upper_bound=high)"}


def _outside(b, d: Distribution, x, position):
    """The mask of values outside ``d``'s support (NaN is outside, as PyTorch's comparisons make it)."""
    def op(name, *args):
        return b.apply(name, *args, position=position)
    if d.cls == "Uniform":
        inside = op("mul", op("le", d.low, x), op("le", x, d.high))
    elif d.cls == "Beta":
        inside = op("mul", op("ge", x, 0.0), op("le", x, 1.0))
    elif d.cls == "Poisson":  # value % 1 == 0 and value >= 0
        inside = op("mul", op("eq", op("sub", x, op("floor", x)), 0.0), op("ge", x, 0.0))
    else:
        inside = op("ge", x, 0.0)
    return _not(b, inside, position)


def _simple_log_prob(b, d: Distribution, x, position):
    """PyTorch's log_prob of the distributions of ``_PARAMS``."""
    def op(name, *args):
        return b.apply(name, *args, position=position)

    def fn(name, *args, **kwargs):
        return _fn(b, name, *args, position=position, **kwargs)
    if d.cls == "Exponential":  # rate.log() - rate * value
        return op("sub", op("log", d.rate), op("mul", d.rate, x))
    if d.cls == "Uniform":  # log(low.le(value) * high.gt(value)) - log(high - low)
        inside = op("mul", op("le", d.low, x), op("gt", d.high, x))
        return op("sub", op("log", inside), op("log", op("sub", d.high, d.low)))
    if d.cls == "Gamma":  # xlogy(c, rate) + xlogy(c - 1, value) - rate * value - lgamma(c)
        c = d.concentration
        out = op("add", fn("xlogy", c, d.rate), fn("xlogy", op("sub", c, 1.0), x))
        return op("sub", op("sub", out, op("mul", d.rate, x)), fn("lgamma", c))
    if d.cls == "Poisson":  # value.xlogy(rate) - rate - (value + 1).lgamma(), broadcast first
        rate, x = _broadcast_all(b, [d.rate, x], "Poisson.log_prob", position)
        return op("sub", op("sub", fn("xlogy", x, rate), rate), fn("lgamma", op("add", x, 1.0)))
    # Beta, by its Dirichlet of (value, 1 - value): xlogy(c - 1, v).sum(-1) + lgamma(c.sum(-1)) - lgamma(c).sum(-1)
    c1, c0 = d.concentration1, d.concentration0
    terms = op("add", fn("xlogy", op("sub", c1, 1.0), x), fn("xlogy", op("sub", c0, 1.0), op("sub", 1.0, x)))
    return op("sub", op("add", terms, fn("lgamma", op("add", c1, c0))),
              op("add", fn("lgamma", c1), fn("lgamma", c0)))


def _simple_entropy(b, d: Distribution, position):
    def op(name, *args):
        return b.apply(name, *args, position=position)

    def fn(name, *args):
        return _fn(b, name, *args, position=position)
    if d.cls == "Exponential":  # 1 - log(rate)
        return op("sub", 1.0, op("log", d.rate))
    if d.cls == "Uniform":
        return op("log", op("sub", d.high, d.low))
    if d.cls == "Gamma":  # c - log(rate) + lgamma(c) + (1 - c) * digamma(c)
        c = d.concentration
        out = op("add", op("sub", c, op("log", d.rate)), fn("lgamma", c))
        return op("add", out, op("mul", op("sub", 1.0, c), fn("digamma", c)))
    if d.cls == "Beta":  # Dirichlet's, k = 2
        c1, c0 = d.concentration1, d.concentration0
        a0 = op("add", c1, c0)
        out = op("sub", op("add", fn("lgamma", c1), fn("lgamma", c0)), fn("lgamma", a0))
        out = op("sub", out, op("mul", op("sub", 2.0, a0), fn("digamma", a0)))
        return op("sub", out, op("add", op("mul", op("sub", c1, 1.0), fn("digamma", c1)),
                                 op("mul", op("sub", c0, 1.0), fn("digamma", c0))))
    raise JacValueError(f"torch.distributions.{d.cls}.entropy: PyTorch raises NotImplementedError", position)


def _simple_moment(b, d: Distribution, name: str, position):
    def op(name, *args):
        return b.apply(name, *args, position=position)
    if d.cls == "Exponential":  # rate.reciprocal(), rate.pow(-2)
        return op("pow", d.rate, -2.0) if name == "variance" else op("reciprocal", d.rate)
    if d.cls == "Uniform":  # (high + low) / 2, (high - low) / 12**0.5, (high - low).pow(2) / 12
        width = op("sub", d.high, d.low)
        if name == "mean":
            return op("div", op("add", d.high, d.low), 2.0)
        return op("div", width, 12 ** 0.5) if name == "stddev" else op("div", op("pow", width, 2.0), 12.0)
    if d.cls == "Poisson":
        var = d.rate
        mean = d.rate
    elif d.cls == "Gamma":  # concentration / rate, concentration / rate.pow(2)
        mean = op("div", d.concentration, d.rate)
        var = op("div", d.concentration, op("pow", d.rate, 2.0))
    else:  # Beta: c1 / (c1 + c0), c1 * c0 / (total.pow(2) * (total + 1))
        c1, c0 = d.concentration1, d.concentration0
        total = op("add", c1, c0)
        mean = op("div", c1, total)
        var = op("div", op("mul", c1, c0), op("mul", op("pow", total, 2.0), op("add", total, 1.0)))
    return mean if name == "mean" else var if name == "variance" else op("sqrt", var)  # stddev: variance.sqrt()


def _simple_cdf(b, d: Distribution, x, position, inverse: bool):
    """Exponential's and Uniform's cdf (the value checked) and icdf (nothing checked), as PyTorch."""
    def op(name, *args):
        return b.apply(name, *args, position=position)
    if d.cls == "Exponential":  # 1 - exp(-rate * value); -log1p(-value) / rate
        if inverse:
            return op("div", op("neg", op("log1p", op("neg", x))), d.rate)
        return op("sub", 1.0, op("exp", op("mul", op("neg", d.rate), x)))
    width = op("sub", d.high, d.low)
    if inverse:  # value * (high - low) + low
        return op("add", op("mul", x, width), d.low)
    return _fn(b, "clamp", op("div", op("sub", x, d.low), width), 0.0, 1.0, position=position)


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
    elif d.cls in _PARAMS:
        if d.validate:
            zero = _check(b, _outside(b, d, x, position), _support_message(d.cls, _SUPPORTS[d.cls]), position)
        out = _simple_log_prob(b, d, x, position)
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
    elif d.cls in _PARAMS:
        out = _simple_entropy(b, d, position)
    else:
        raise JacValueError(f"torch.distributions.{d.cls}.entropy is not read by jac", position)
    return _checked(b, d, out, position)


def _cdf(b, d: Distribution, x, position, inverse: bool):
    name = "icdf" if inverse else "cdf"
    if d.cls in ("Exponential", "Uniform"):
        out = _simple_cdf(b, d, x, position, inverse)
        if d.validate and not inverse:
            out = b.apply("sub", out, _check(b, _outside(b, d, x, position), _support_message(
                d.cls, _SUPPORTS[d.cls]).replace(".log_prob", ".cdf"), position), position=position)
        return _checked(b, d, out, position)
    if d.cls == "Gamma" and not inverse:
        raise JacValueError("torch.distributions.Gamma.cdf (gammainc, which PyTorch does not differentiate by the "
                            "concentration) is not read by jac (it reads Normal's, Exponential's and Uniform's)",
                            position)
    if d.cls != "Normal":
        raise JacValueError(f"torch.distributions.{d.cls}.{name}: PyTorch raises NotImplementedError (jac reads "
                            f"Normal's, Exponential's and Uniform's)", position)
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
    elif d.cls in _PARAMS:
        out = _simple_moment(b, d, name, position)
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
    """torch.distributions.kl_divergence(p, q) of Normal–Normal, Categorical–Categorical, MVN–MVN and the pairs of
    one class of ``_KL_PAIRS``, as torch.distributions.kl writes them."""
    a = arguments("kl_divergence", args, kwargs, {"p": REQUIRED, "q": REQUIRED}, position)
    p, q = a["p"], a["q"]
    if not isinstance(p, Distribution) or not isinstance(q, Distribution):
        raise JacValueError("torch.distributions.kl_divergence takes two distributions", position)
    if p.cls != q.cls or p.cls not in ("Normal", "Categorical", "MultivariateNormal") + _KL_PAIRS:
        raise JacValueError(f"torch.distributions.kl_divergence({p.cls}, {q.cls}) is not read by jac (it reads "
                            f"Normal–Normal, Categorical–Categorical, MultivariateNormal–MultivariateNormal and "
                            f"{', '.join(f'{c}–{c}' for c in _KL_PAIRS)})", position)
    if p.cls in _KL_PAIRS:
        out = _simple_kl(b, p, q, position)
    elif p.cls == "Normal":  # 0.5 * (var_ratio + t1 - 1 - var_ratio.log())
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


_KL_PAIRS = ("Exponential", "Gamma", "Beta", "Poisson", "Uniform")


def _simple_kl(b, p: Distribution, q: Distribution, position):
    """torch.distributions.kl's _kl_exponential_exponential, _kl_gamma_gamma, _kl_beta_beta, _kl_poisson_poisson,
    _kl_uniform_uniform."""
    def op(name, *args):
        return b.apply(name, *args, position=position)

    def fn(name, *args):
        return _fn(b, name, *args, position=position)
    if p.cls == "Exponential":  # -log(q.rate / p.rate) + ratio - 1
        ratio = op("div", q.rate, p.rate)
        return op("sub", op("add", op("neg", op("log", ratio)), ratio), 1.0)
    if p.cls == "Poisson":  # p.rate * (p.rate.log() - q.rate.log()) - (p.rate - q.rate)
        return op("sub", op("mul", p.rate, op("sub", op("log", p.rate), op("log", q.rate))),
                  op("sub", p.rate, q.rate))
    if p.cls == "Uniform":  # log((q.high - q.low) / (p.high - p.low)), inf where q's support does not cover p's
        out = op("log", op("div", op("sub", q.high, q.low), op("sub", p.high, p.low)))
        return op("where", op("add", op("gt", q.low, p.low), op("lt", q.high, p.high)), math.inf, out)
    if p.cls == "Gamma":
        pc, qc = p.concentration, q.concentration
        t1 = op("mul", qc, op("log", op("div", p.rate, q.rate)))
        t2 = op("sub", fn("lgamma", qc), fn("lgamma", pc))
        t3 = op("mul", op("sub", pc, qc), fn("digamma", pc))
        t4 = op("mul", op("sub", q.rate, p.rate), op("div", pc, p.rate))
        return op("add", op("add", op("add", t1, t2), t3), t4)
    p1, p0, q1, q0 = p.concentration1, p.concentration0, q.concentration1, q.concentration0  # Beta
    sum_p, sum_q = op("add", p1, p0), op("add", q1, q0)
    t1 = op("add", op("add", fn("lgamma", q1), fn("lgamma", q0)), fn("lgamma", sum_p))
    t2 = op("add", op("add", fn("lgamma", p1), fn("lgamma", p0)), fn("lgamma", sum_q))
    t3 = op("mul", op("sub", p1, q1), fn("digamma", p1))
    t4 = op("mul", op("sub", p0, q0), fn("digamma", p0))
    t5 = op("mul", op("sub", sum_q, sum_p), fn("digamma", sum_p))
    return op("add", op("add", op("add", op("sub", t1, t2), t3), t4), t5)


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


# expon, laplace, logistic, uniform: (x, loc=0, scale=1); SciPy's standardised formula of y = (x - loc) / scale on its
# support [a, b] (logpdf: _logpdf(y) - log(scale), -inf outside; pdf: _pdf(y) / scale, 0 outside; cdf: _cdf(y) inside
# (a, b), 1 from b on, 0 below), NaN where scale <= 0 or y is NaN; JAX's lax expressions as they are written
_SCIPY_SUPPORT = {"expon": (0.0, math.inf), "laplace": (-math.inf, math.inf), "logistic": (-math.inf, math.inf),
                  "uniform": (0.0, 1.0)}


def _scipy_standard(b, dist: str, name: str, y, position):
    """SciPy's ``_logpdf`` / ``_pdf`` / ``_cdf`` of the standard distribution (laplace's and uniform's _logpdf:
    rv_continuous's log(_pdf))."""
    def op(op_name, *args):
        return b.apply(op_name, *args, position=position)
    if name == "cdf":
        if dist == "expon":  # -expm1(-x)
            return op("neg", op("expm1", op("neg", y)))
        if dist == "laplace":  # where(x > 0, 1 - 0.5 exp(-x), 0.5 exp(x))
            return op("where", op("gt", y, 0.0), op("sub", 1.0, op("mul", 0.5, op("exp", op("neg", y)))),
                      op("mul", 0.5, op("exp", y)))
        if dist == "logistic":
            return _fn(b, "expit", y, position=position, library="scipy")
        return y
    if dist == "logistic":  # -|x| - 2 log1p(exp(-|x|)); _pdf: exp of it
        t = op("neg", _fn(b, "abs", y, position=position))
        out = op("sub", t, op("mul", 2.0, op("log1p", op("exp", t))))
        return out if name == "logpdf" else op("exp", out)
    if dist == "expon" and name == "logpdf":
        return op("neg", y)
    if dist == "expon":
        pdf = op("exp", op("neg", y))
    elif dist == "laplace":  # 0.5 * exp(-|x|)
        pdf = op("mul", 0.5, op("exp", op("neg", _fn(b, "abs", y, position=position))))
    else:  # 1.0 * (x == x)
        pdf = op("mul", 1.0, op("eq", y, y))
    return op("log", pdf) if name == "logpdf" else pdf


def _scipy_stats(b, dist: str, name: str, x, loc, scale, position):
    def op(op_name, *args):
        return b.apply(op_name, *args, position=position)
    y = op("div", op("sub", x, loc), scale)
    lo, hi = _SCIPY_SUPPORT[dist]
    out = _scipy_standard(b, dist, name, y, position)
    if name == "cdf":
        inside = op("mul", op("gt", y, lo), op("lt", y, hi)) if lo > -math.inf else op("lt", y, hi)
        out = op("where", inside, out, op("where", op("ge", y, hi), 1.0, 0.0))
    else:
        inside = op("mul", op("ge", y, lo), op("le", y, hi))
        out = op("sub", out, op("log", scale)) if name == "logpdf" else op("div", out, scale)
        out = op("where", inside, out, -math.inf if name == "logpdf" else 0.0)
    return op("where", op("add", op("le", scale, 0.0), op("ne", y, y)), math.nan, out)


def _jax_stats(b, dist: str, name: str, x, loc, scale, position):
    def op(op_name, *args):
        return b.apply(op_name, *args, position=position)
    if name == "pdf":  # exp(logpdf) for each of the four
        return op("exp", _jax_stats(b, dist, "logpdf", x, loc, scale, position))
    if dist == "expon":
        if name == "logpdf":  # where(x < loc, -inf, -((x - loc) / scale + log(scale)))
            out = op("neg", op("add", op("div", op("sub", x, loc), scale), op("log", scale)))
            return op("where", op("lt", x, loc), -math.inf, out)
        return op("where", op("lt", x, loc), 0.0, op("neg", op("expm1", op("div", op("sub", loc, x), scale))))
    if dist == "laplace":
        diff = op("div", op("sub", x, loc), scale)
        if name == "logpdf":  # -(|x - loc| / scale + log(2 scale))
            return op("neg", op("add", op("div", _fn(b, "abs", op("sub", x, loc), position=position), scale),
                                op("log", op("mul", 2.0, scale))))
        return op("where", op("le", diff, 0.0), op("mul", 0.5, op("exp", diff)),
                  op("sub", 1.0, op("mul", 0.5, op("exp", op("neg", diff)))))
    if dist == "logistic":
        z = op("div", op("sub", x, loc), scale)
        if name == "logpdf":  # -2 logaddexp(z / 2, -z / 2) - log(scale)
            half = op("div", z, 2.0)
            return op("sub", op("mul", -2.0, _fn(b, "logaddexp", half, op("neg", half), position=position,
                                                 library="numpy")), op("log", scale))
        return _fn(b, "expit", z, position=position, library="jax.scipy")
    top = op("add", loc, scale)  # uniform
    if name == "logpdf":  # where(x > loc + scale or x < loc, -inf, -log(scale))
        out = _fn(b, "broadcast_to", op("neg", op("log", scale)), broadcast(x.shape, loc.shape, scale.shape),
                  position=position)
        return op("where", op("add", op("gt", x, top), op("lt", x, loc)), -math.inf, out)
    inside = op("mul", op("ge", x, loc), op("le", x, top))  # select: 0 below, 1 above, (x - loc) / scale, 0 at NaN
    return op("where", op("lt", x, loc), 0.0, op("where", op("gt", x, top), 1.0,
                                                  op("where", inside, op("div", op("sub", x, loc), scale), 0.0)))


def _stats(root: str, dist: str, name: str):
    jax = root.startswith("jax")
    spelling = f"{root}.{dist}.{name}"

    def lower(b, args, kwargs, position):
        a = arguments(spelling, args, kwargs, {"x": REQUIRED, "loc": 0.0, "scale": 1.0}, position)
        x, loc, scale = (tensor(b, b.lift(a[k]) if not isinstance(a[k], Tracer) else a[k], spelling, position)
                         for k in ("x", "loc", "scale"))
        x, loc, scale = _broadcast_all(b, [x, loc, scale], spelling, position)
        return (_jax_stats if jax else _scipy_stats)(b, dist, name, x, loc, scale, position)
    lower.__doc__ = f"{spelling}(x, loc=0, scale=1): {'JAX' if jax else 'SciPy'}'s formula"
    return lower


for _root in ("jax.scipy.stats", "scipy.stats"):
    for _dist in _SCIPY_SUPPORT:
        for _name in ("logpdf", "pdf", "cdf"):
            variant(f"{_root}.{_dist}", _name)(_stats(_root, _dist, _name))


# each of these libraries has only its own names: torch.distributions.sin(x) is no function of it (parser.lookup)
TITLES = {TORCH: TORCH, **{f"{root}.{dist}": f"{root}.{dist}" for root in ("jax.scipy.stats", "scipy.stats")
                           for dist in STATS}}
for _library in TITLES:
    LIBRARY_NAMES[_library] = frozenset(name for (lib, name) in LIBRARY_FUNCTIONS if lib == _library)
