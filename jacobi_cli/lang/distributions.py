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
from .functions import FUNCTIONS, LIBRARIES, LIBRARY_FUNCTIONS, MODULES, REQUIRED, _concat, arguments, log_softmax_of, \
    library_function, matrix_transpose, static, tensor, variant

TORCH = "torch.distributions"
MODULES.add(TORCH)
LIBRARIES[TORCH] = TORCH
# the distributions of jax.scipy.stats / scipy.stats read
STATS = ("norm", "multivariate_normal", "expon", "laplace", "logistic", "uniform", "bernoulli", "poisson", "binom",
         "geom", "gamma", "beta", "t", "cauchy", "chi2", "dirichlet",  # these ten: session 34
         "nbinom", "betabinom")  # session 34b
for _root in ("jax.scipy.stats", "scipy.stats"):
    LIBRARIES[_root] = _root  # import scipy.stats as st: followed to scipy.stats.norm (lang/imports.py)
    for _dist in STATS:
        MODULES.add(f"{_root}.{_dist}")
        LIBRARIES[f"{_root}.{_dist}"] = f"{_root}.{_dist}"


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


def nan_derivative(b, out, inputs, position):
    """``out`` with a NaN derivative by each of ``inputs`` wherever its value is NaN (session 35). SciPy's stats
    functions give NaN where their argcheck fails (scale <= 0, p > 1, ...) or q is outside [0, 1]: the function is
    undefined there, so its derivative is too; the ``where`` that places the NaN would otherwise pass a 0, read as
    "no dependence". Written so that the derivative elsewhere is untouched: the NaN factor is 0 where the value is
    a number, and each input enters only where it is NaN."""
    op, _ = _ops(b, position)
    undefined = op("ne", out, out)
    total = None
    for v in inputs:
        part = op("where", undefined, v, 0.0)
        total = part if total is None else op("add", total, part)
    poison = op("mul", op("where", undefined, math.nan, 0.0), total)
    return op("where", undefined, poison, out)


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
        logits = log_softmax_of(b, given, (given.ndim - 1,), position)  # (x - max) - logsumexp(x - max): session 49
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
    if loc.ndim < 1:
        raise JacValueError("torch.distributions.MultivariateNormal: PyTorch raises: loc must be at least "
                            "one-dimensional.", position)
    kind = given[0]
    m = tensor(b, a[kind], "MultivariateNormal", position)
    n = loc.shape[-1]
    if m.ndim < 2 or m.shape[-2:] != (n, n):
        raise JacValueError(f"torch.distributions.MultivariateNormal: {kind} has shape {fmt(m.shape)}, loc "
                            f"{fmt(loc.shape)}: PyTorch raises ({kind} must be at least two-dimensional, with "
                            f"optional leading batch dimensions, of ({n}, {n}) matrices)", position)
    try:  # the batch: loc's and the matrix's broadcast; loc expanded to it, the factor kept unbroadcast (PyTorch)
        batch = broadcast(loc.shape[:-1], m.shape[:-2])
    except Exception:  # noqa: BLE001 - the shapes' own error, said as PyTorch's
        raise JacValueError(f"torch.distributions.MultivariateNormal: PyTorch raises: Incompatible batch shapes: "
                            f"loc {fmt(loc.shape)}, {kind} {fmt(m.shape)}", position) from None
    if loc.shape != batch + (n,):
        loc = _fn(b, "broadcast_to", loc, batch + (n,), position=position)
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
            diag = _fn(b, "diagonal", m, dim1=-2, dim2=-1, position=position)
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
    return Distribution("MultivariateNormal", {"loc": loc, "scale_tril": tril}, batch, (n,),
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
    if not isinstance(base, Distribution) or isinstance(base, Transform):
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
    elif d.cls in MORE:
        return log_prob34(b, d, x, position)
    elif d.cls in MORE_B:
        return log_prob34b(b, d, x, position)
    elif d.cls in MORE_C:
        return relaxed_or_cb(b, d, "log_prob", x, position)
    elif d.cls in MORE_D:
        return log_prob35b(b, d, x, position)
    elif d.cls in MORE_E:
        return log_prob36(b, d, x, position)
    else:
        raise JacValueError(f"torch.distributions.{d.cls}.log_prob is not read by jac", position)
    out = out if zero is None else b.apply("sub", out, zero, position=position)
    return _checked(b, d, out, position)


def _mahalanobis(b, tril, diff, position):
    """Σ (L⁻¹ diff)² over the event axis, for diff of shape (..., n) (a batch of factors: each solve broadcast)."""
    n = tril.shape[-1]
    if tril.ndim > 2:
        column = b.apply("reshape", diff, shape=diff.shape + (1,), position=position)
        solved = _fn(b, "solve_triangular", tril, column, upper=False, position=position, library="torch.linalg")
        return _fn(b, "sum", b.apply("pow", solved, 2.0, position=position), (-2, -1), position=position)
    rows = b.apply("reshape", diff, shape=(math.prod(diff.shape[:-1]), n), position=position) \
        if diff.ndim != 2 else diff
    solved = _fn(b, "solve_triangular", tril, matrix_transpose(b, rows, position, "transpose"), upper=False,
                 position=position, library="torch.linalg")
    m = _fn(b, "sum", b.apply("pow", solved, 2.0, position=position), 0, position=position)
    return b.apply("reshape", m, shape=diff.shape[:-1], position=position)


def _mvn_log_prob(b, loc, tril, x, position):
    if not x.ndim or x.shape[-1] != loc.shape[-1]:
        raise JacValueError(f"MultivariateNormal.log_prob: the value's last axis must be the event's, "
                            f"{loc.shape[-1]}; got shape {fmt(x.shape)}", position)
    n = loc.shape[-1]
    diff = b.apply("sub", x, loc, position=position)
    m = _mahalanobis(b, tril, diff, position)
    half_log_det = _fn(b, "sum", b.apply("log", _fn(b, "diagonal", tril, dim1=-2, dim2=-1, position=position),
                                         position=position), -1,
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
        n = d.loc.shape[-1]
        half_log_det = _fn(b, "sum", b.apply("log", _fn(b, "diagonal", d.scale_tril, dim1=-2, dim2=-1,
                                                        position=position),
                                             position=position), -1, position=position)
        out = b.apply("add", 0.5 * n * (1.0 + math.log(2 * math.pi)), half_log_det, position=position)
        if out.shape != d.batch:
            out = _fn(b, "broadcast_to", out, d.batch, position=position)
    elif d.cls in _PARAMS:
        out = _simple_entropy(b, d, position)
    elif d.cls in MORE:
        return entropy34(b, d, position)
    elif d.cls in MORE_B:
        return entropy34b(b, d, position)
    elif d.cls in MORE_C:
        return relaxed_or_cb(b, d, "entropy", None, position)
    elif d.cls in MORE_D:
        return entropy35b(b, d, position)
    elif d.cls in MORE_E:
        return entropy36(b, d, position)
    else:
        raise JacValueError(f"torch.distributions.{d.cls}.entropy is not read by jac", position)
    return _checked(b, d, out, position)


def _cdf(b, d: Distribution, x, position, inverse: bool):
    name = "icdf" if inverse else "cdf"
    if d.cls in MORE:
        return cdf34(b, d, x, position, inverse)
    if d.cls in MORE_B:
        return cdf34b(b, d, x, position, inverse)
    if d.cls in MORE_C:
        return relaxed_or_cb(b, d, name, x, position)
    if d.cls in MORE_D:
        return cdf35b(b, d, x, position, inverse)
    if d.cls in ("Exponential", "Uniform"):
        out = _simple_cdf(b, d, x, position, inverse)
        if d.validate and not inverse:
            out = b.apply("sub", out, _check(b, _outside(b, d, x, position), _support_message(
                d.cls, _SUPPORTS[d.cls]).replace(".log_prob", ".cdf"), position), position=position)
        return _checked(b, d, out, position)
    if d.cls == "Gamma" and not inverse:
        return gamma_cdf(b, d, x, position)
    if d.cls == "Laplace":
        return _laplace_cdf(b, d, x, position, inverse)
    if d.cls != "Normal":
        raise JacValueError(f"torch.distributions.{d.cls}.{name}: PyTorch raises NotImplementedError (jac reads "
                            f"Normal's, Laplace's, Exponential's and Uniform's)", position)
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


def _laplace_cdf(b, d: Distribution, x, position, inverse: bool):
    """Laplace's cdf, 0.5 - 0.5 sign(value - loc) expm1(-|value - loc| / scale) (the value checked, Real()), and
    icdf, loc - scale sign(value - 0.5) log1p(-2 |value - 0.5|) (nothing checked), as PyTorch writes them
    (session 35). Where sign's argument is 0 (value = loc; value = 1/2) the value is PyTorch's, 1/2 and loc, and the
    slope the function's own, the density 1 / (2 scale) and its inverse 2 scale: PyTorch's autograd gives 0 there
    (sign's derivative, and abs' at 0), a "no dependence" the smooth cdf does not have."""
    op, fn = _ops(b, position)
    if inverse:
        term = op("sub", x, 0.5)
        out = op("sub", d.loc, op("mul", op("mul", d.scale, op("sign", term)),
                                  op("log1p", op("mul", -2.0, fn("abs", term)))))
        at = op("add", d.loc, op("mul", op("mul", 2.0, d.scale), term))
        return _checked(b, d, op("where", op("eq", term, 0.0), at, out), position)
    diff = op("sub", x, d.loc)
    out = op("sub", 0.5, op("mul", op("mul", 0.5, op("sign", diff)),
                            op("expm1", op("div", op("neg", fn("abs", diff)), d.scale))))
    out = op("where", op("eq", diff, 0.0), op("add", 0.5, op("div", diff, op("mul", 2.0, d.scale))), out)
    if d.validate:
        out = op("sub", out, _check(b, op("ne", x, x), _support_message("Laplace", "Real()").replace(
            ".log_prob", ".cdf"), position))
    return _checked(b, d, out, position)


# --- mode (session 35): PyTorch's Distribution.mode of the classes whose mode is a formula of the parameters --------
_MODE_LOC = ("Normal", "Laplace", "Cauchy", "StudentT", "Gumbel", "VonMises", "MultivariateNormal",
             "LowRankMultivariateNormal")
_MODE_ZERO = {"HalfNormal": "scale", "Exponential": "rate", "Geometric": "probs"}
MODE_READ = _MODE_LOC + tuple(_MODE_ZERO) + ("LogNormal", "Gamma", "Chi2", "Weibull", "Pareto", "Poisson", "Binomial",
                                             "Bernoulli", "Uniform", "Categorical", "OneHotCategorical", "Independent",
                                             "Beta", "Dirichlet", "Wishart")
MODE_36 = ("Beta", "Dirichlet", "Wishart", "Kumaraswamy", "LKJCholesky")


def mode(b, d: Distribution, position):
    """``d.mode`` as PyTorch computes it: loc; zeros; LogNormal exp(loc - scale²); Gamma (Chi2) clamp((c - 1) /
    rate, 0); Weibull scale ((k - 1) / k)^(1 / k); Pareto scale; Poisson floor(rate); Binomial floor((n + 1) p)
    clamped to n; Bernoulli 1 where p >= 0.5, NaN at 0.5; Uniform NaN; Categorical argmax(probs) (OneHot: its one-hot
    row); Independent its base's. A count or an argmax carries no derivative."""
    op, fn = _ops(b, position)
    cls = d.cls
    if cls == "Independent":
        return mode(b, d.base[0], position)
    if cls in MORE_D:
        return mode35b(b, d, position)
    if cls in MODE_36:
        return mode36(b, d, position)
    if cls not in MODE_READ:
        raise JacValueError(f"torch.distributions.{cls}.mode: PyTorch raises NotImplementedError ({cls} does not "
                            f"implement mode; jac reads the mode of {', '.join(MODE_READ)})", position)
    if cls in _MODE_LOC:
        out = d.loc
    elif cls in _MODE_ZERO:
        out = op("mul", d.params[_MODE_ZERO[cls]], 0.0)
    elif cls == "LogNormal":
        out = op("exp", op("sub", d.loc, op("pow", d.scale, 2.0)))
    elif cls in ("Gamma", "Chi2"):
        out = fn("clamp", op("div", op("sub", d.concentration, 1.0), d.rate), 0.0)
    elif cls == "Weibull":  # NaN where k < 1 (PyTorch's pow of a negative base: NaN, or where 1 / k is an integer
        k = d.concentration  # a finite wrong number, 2.0 at k = 0.5, -2048 at 0.2: pytorch/pytorch#198186)
        out = op("mul", d.scale, op("pow", op("div", op("sub", k, 1.0), k), op("reciprocal", k)))
        out = op("where", op("lt", k, 1.0), math.nan, out)
    elif cls == "Pareto":
        out = d.scale
    elif cls == "Poisson":
        out = op("floor", d.rate)
    elif cls == "Binomial":
        n = d.total_count
        out = fn("minimum", op("floor", op("mul", op("add", n, 1.0), d.probs)), op("add", op("mul", d.probs, 0.0), n))
    elif cls == "Bernoulli":
        out = op("where", op("eq", d.probs, 0.5), math.nan, op("ge", d.probs, 0.5))
    elif cls == "Uniform":
        out = op("mul", math.nan, d.high)
    else:  # Categorical, OneHotCategorical: the argmax of probs
        index = fn("detach", b.apply("argmax", d.probs, axis=d.probs.ndim - 1, position=position))
        if cls == "Categorical":
            out = index
        else:
            k = d.probs.shape[-1]
            out = op("eq", _unsqueezed(b, index, -1, position), b.const(np.arange(k, dtype=b.dtype), position))
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
    elif d.cls == "MultivariateNormal":  # the factor's rows' squares summed, expanded to batch + event
        var = _fn(b, "sum", b.apply("pow", d.scale_tril, 2.0, position=position), -1, position=position)
        if var.shape != d.loc.shape:
            var = _fn(b, "broadcast_to", var, d.loc.shape, position=position)
        out = d.loc if name == "mean" else var if name == "variance" else b.apply("sqrt", var, position=position)
    elif d.cls in _PARAMS:
        out = _simple_moment(b, d, name, position)
    elif d.cls in MORE:
        return moment34(b, d, name, position)
    elif d.cls in MORE_B:
        return moment34b(b, d, name, position)
    elif d.cls in MORE_C:
        return relaxed_or_cb(b, d, name, None, position)
    elif d.cls in MORE_D:
        return moment35b(b, d, name, position)
    elif d.cls in MORE_E:
        return moment36(b, d, name, position)
    elif d.cls == "Categorical":  # PyTorch: nan-filled of the batch shape
        out = b.const(np.full(d.batch, np.nan, dtype=b.dtype), position)
    else:
        raise JacValueError(f"torch.distributions.{d.cls}.{name} is not read by jac", position)
    return _checked(b, d, out, position)


METHODS = ("log_prob", "entropy", "cdf", "icdf", "rsample", "sample")
PROPERTIES = ("mean", "variance", "stddev")


def method(b, d: Distribution, name: str, args: list, kwargs: dict, position):
    """``d.NAME(...)`` of a distribution of the text (the parser's ``lowered_call``)."""
    if isinstance(d, Transform):
        return transform_method(b, d, name, args, kwargs, position)
    fname = f"{d.cls}.{name}"
    if name in ("rsample", "sample"):
        raise JacValueError(rsample_message(d, name), position)
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
    if isinstance(d, Transform):
        return transform_attribute(b, d, name, position)
    if name in PROPERTIES:
        return _moment(b, d, name, position)
    if name == "mode":
        return mode(b, d, position)
    if d.cls == "LowRankMultivariateNormal" and name in LOWRANK_MATRICES:
        return _checked(b, d, _lowrank_matrix(b, d, name, position), position)
    if d.cls == "Wishart" and name in LOWRANK_MATRICES:
        return _checked(b, d, _wishart_matrix(b, d, name, position), position)
    if name in d.params:
        return _checked(b, d, d.params[name], position)
    if name in ("batch_shape", "event_shape"):
        return b.const(np.asarray(d.batch if name == "batch_shape" else d.event, dtype=b.dtype), position)
    extra = LOWRANK_MATRICES if d.cls in ("LowRankMultivariateNormal", "Wishart") else ()
    raise JacValueError(f"torch.distributions.{d.cls} has no attribute '{name}' jac reads (jac reads "
                        f"{', '.join(dict.fromkeys(PROPERTIES + ('mode',) + extra + tuple(d.params)))})", position)


# --- kl_divergence ------------------------------------------------------------------------------------------------

@variant(TORCH, "kl_divergence")
def _kl_divergence(b, args, kwargs, position):
    """torch.distributions.kl_divergence(p, q) of the pairs torch.distributions.kl registers that jac reads
    (``KL_READ``), as it writes them."""
    a = arguments("kl_divergence", args, kwargs, {"p": REQUIRED, "q": REQUIRED}, position)
    p, q = a["p"], a["q"]
    if not isinstance(p, Distribution) or not isinstance(q, Distribution):
        raise JacValueError("torch.distributions.kl_divergence takes two distributions", position)
    if p.cls != q.cls or p.cls not in ("Normal", "Categorical", "MultivariateNormal") + _KL_PAIRS:
        out = kl34b(b, p, q, position)
    elif p.cls in _KL_PAIRS:
        out = _simple_kl(b, p, q, position)
    elif p.cls == "Normal":
        out = _kl_normal(b, p.loc, p.scale, q.loc, q.scale, position)
    elif p.cls == "Categorical":
        out = _kl_categorical(b, p, q, position)
    else:
        if p.event != q.event:
            raise JacValueError("KL-divergence between two Multivariate Normals with different event shapes "
                                "cannot be computed (PyTorch raises)", position)
        if p.batch or q.batch or p.scale_tril.ndim > 2 or q.scale_tril.ndim > 2:
            raise JacValueError("kl_divergence(MultivariateNormal, MultivariateNormal): jac reads the divergence of "
                                "two single distributions, not of batches of them", position)
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


def _kl_normal(b, ploc, pscale, qloc, qscale, position):
    """_kl_normal_normal: 0.5 * (var_ratio + t1 - 1 - var_ratio.log())."""
    op, _ = _ops(b, position)
    ratio = op("pow", op("div", pscale, qscale), 2.0)
    t1 = op("pow", op("div", op("sub", ploc, qloc), qscale), 2.0)
    return op("mul", 0.5, op("sub", op("sub", op("add", ratio, t1), 1.0), op("log", ratio)))


def _kl_categorical(b, p: Distribution, q: Distribution, position):
    """p.probs * (p.logits - q.logits) summed; inf where q.probs == 0, 0 where p.probs == 0."""
    op, fn = _ops(b, position)
    if p.logits.shape[-1] != q.logits.shape[-1]:
        raise JacValueError(f"kl_divergence({p.cls}, {q.cls}): the two have different numbers of events", position)
    t = op("mul", p.probs, op("sub", p.logits, q.logits))
    t = op("where", op("eq", q.probs, 0.0), math.inf, t)
    return fn("sum", op("where", op("eq", p.probs, 0.0), 0.0, t), -1)


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
    if p.cls in ("Gamma", "Chi2"):
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
        if jax:
            return _jax_norm(b, name, x, loc, scale, position)
        _broadcast_all(b, [x, loc, scale], spelling, position)
        return nan_derivative(b, _scipy_norm(b, name, x, loc, scale, position), (x, loc, scale), position)
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
        if jax:
            return _jax_stats(b, dist, name, x, loc, scale, position)
        return nan_derivative(b, _scipy_stats(b, dist, name, x, loc, scale, position), (x, loc, scale), position)
    lower.__doc__ = f"{spelling}(x, loc=0, scale=1): {'JAX' if jax else 'SciPy'}'s formula"
    return lower


for _root in ("jax.scipy.stats", "scipy.stats"):
    for _dist in _SCIPY_SUPPORT:
        for _name in ("logpdf", "pdf", "cdf"):
            variant(f"{_root}.{_dist}", _name)(_stats(_root, _dist, _name))


# --- session 34: the rest of torch.distributions and scipy.stats users paste ----------------------------------------
# The rest of
# `torch.distributions` users paste (`LogNormal StudentT Cauchy HalfNormal Dirichlet Binomial Geometric Gumbel Chi2
# Weibull`: `MORE`, dispatched from `_log_prob` / `_entropy` / `_cdf` / `_moment`), each
# formula PyTorch's (its TransformedDistributions' log_prob written out as their transforms compute it), refused with
# PyTorch's words where `validate_args` raises; and `scipy.stats` / `jax.scipy.stats` `bernoulli poisson binom
# geom gamma beta t cauchy chi2 dirichlet` (`MORE_STATS`), SciPy's rv_continuous / rv_discrete wrapping of its
# `_logpdf` (NaN where `_argcheck` fails, −inf / 0 outside the support) and JAX's `lax` expressions as written.
# Outside a support the result is locally constant (−inf, 0, 1) and its derivative 0, at a NaN 0, as for the
# distributions of session 33.

EULER = 0.57721566490153286060
_POSITIVE, _NONNEGATIVE, _REAL = "GreaterThan(lower_bound=0.0)", "GreaterThanEq(lower_bound=0.0)", "Real()"
_UNIT = "Interval(lower_bound=0.0, upper_bound=1.0)"
# the class, its parameters (name, default, PyTorch's constraint), the support of a value
_TORCH = {
    "LogNormal": ((("loc", REQUIRED, _REAL), ("scale", REQUIRED, _POSITIVE)), _POSITIVE),
    "StudentT": ((("df", REQUIRED, _POSITIVE), ("loc", 0.0, _REAL), ("scale", 1.0, _POSITIVE)), _REAL),
    "Cauchy": ((("loc", REQUIRED, _REAL), ("scale", REQUIRED, _POSITIVE)), _REAL),
    "HalfNormal": ((("scale", REQUIRED, _POSITIVE),), _NONNEGATIVE),
    "Gumbel": ((("loc", REQUIRED, _REAL), ("scale", REQUIRED, _POSITIVE)), _REAL),
    "Chi2": ((("df", REQUIRED, _POSITIVE),), _NONNEGATIVE),
    "Weibull": ((("scale", REQUIRED, _POSITIVE), ("concentration", REQUIRED, _POSITIVE)), _POSITIVE),
}
MORE = tuple(_TORCH) + ("Dirichlet", "Binomial", "Geometric")
# what a reparameterised draw is, per class: rsample's refusal says it
REPARAMETERISED = {
    "Normal": "loc + scale * eps with eps a standard normal draw",
    "MultivariateNormal": "loc + scale_tril @ eps with eps a standard normal draw",
    "Laplace": "loc - scale * sign(u) * log1p(-abs(u)) with u uniform on (-1, 1)",
    "Exponential": "e / rate with e a standard exponential draw",
    "Uniform": "low + (high - low) * u with u uniform on [0, 1)",
    "LogNormal": "exp(loc + scale * eps) with eps a standard normal draw",
    "HalfNormal": "abs(scale * eps) with eps a standard normal draw",
    "Cauchy": "loc + scale * tan(pi * (u - 0.5)) with u uniform on (0, 1)",
    "Gumbel": "loc - scale * log(-log(u)) with u uniform on (0, 1)",
    "Weibull": "scale * e ** (1 / concentration) with e a standard exponential draw",
    "Pareto": "scale * exp(e / alpha) with e a standard exponential draw",
    "ContinuousBernoulli": "its icdf(u) with u uniform on [0, 1)",
    "RelaxedBernoulli": "sigmoid((logits + log(u) - log1p(-u)) / temperature) with u uniform on (0, 1)",
    "RelaxedOneHotCategorical": "softmax((logits - log(-log(u))) / temperature, -1) with u uniform on (0, 1) (Gumbel "
                                "noise)",
    "Kumaraswamy": "(1 - u ** (1 / concentration0)) ** (1 / concentration1) with u uniform on [0, 1)",
    "LowRankMultivariateNormal": "loc + cov_factor @ eps_w + sqrt(cov_diag) * eps_d with eps_w, eps_d standard "
                                 "normal draws",
}
# the classes PyTorch reparameterises through a gamma draw: its derivative by the concentration is implicit
IMPLICIT = {
    "Gamma": "g / rate with g a Gamma(concentration, 1) draw: its derivative by rate only, with the concentration "
             "a constant",
    "Chi2": "g with g a Chi2(df) draw: with df a constant the draw is a constant",
    "Beta": "g1 / (g1 + g0) with g1, g0 Gamma(concentration1, 1), Gamma(concentration0, 1) draws, the "
            "concentrations constants",
    "Dirichlet": "g / g.sum(-1, keepdim=True) with g Gamma(concentration, 1) draws, the concentration a constant",
    "StudentT": "loc + scale * eps * torch.rsqrt(g / df) with eps a standard normal and g a Chi2(df) draw, df a "
                "constant",
}


def rsample_message(d: Distribution, name: str) -> str:
    """Why ``d.rsample()`` / ``d.sample()`` is refused, and what to write instead for ``d``'s class."""
    cls = d.base[0].cls if d.cls == "Independent" else d.cls
    head = f"torch.distributions.{d.cls}.{name}(): "
    if isinstance(d, StraightThrough) and name == "rsample":
        return ("torch.distributions.OneHotCategoricalStraightThrough.rsample(): PyTorch draws the one-hot sample with "
                "its own generator, whose numbers jac cannot match: with the draw s an input (a one-hot array) write "
                "its straight-through estimator, s + (probs - probs.detach()), probs the distribution's")
    if cls == "TransformedDistribution" and name == "rsample":  # its base's draw through the transforms
        base = d.base[0] if d.cls == "TransformedDistribution" else d.base[0].base[0]
        inner = rsample_message(base, name).split(": ", 1)[1]
        return (head + f"it is its base {base.cls}'s draw through the transforms, applied as written; {inner} "
                "(then the transforms, as functions of it)")
    if name == "sample":
        return (head + "PyTorch draws with its own generator, whose numbers jac cannot match, and a sample has no "
                "derivative (it is drawn without grad): bind the draw as an input")
    if cls in REPARAMETERISED:
        return (head + "PyTorch draws the noise with its own generator, whose numbers jac cannot match: write the "
                f"reparameterisation with the noise as an input, {REPARAMETERISED[cls]} (bound on the command line)")
    if cls in IMPLICIT:
        return (head + "PyTorch differentiates its gamma draw by the concentration implicitly (through the gamma "
                "CDF), which no formula of a fixed input gives, and its numbers are its generator's: jac cannot "
                f"match either; with the draws as inputs write {IMPLICIT[cls]}")
    return (head + f"PyTorch raises NotImplementedError ({cls} has no reparameterised sample: has_rsample is "
            "False); bind a draw as an input (a score-function estimator differentiates log_prob instead)")


# --- the constructors -----------------------------------------------------------------------------------------

def _checks(b, cls: str, names_values, position):
    """PyTorch's arg_constraints of ``names_values`` ((name, tracer, constraint), ...), in its order."""
    out = []
    for name, v, constraint in names_values:
        if constraint == _REAL:
            bad = b.apply("ne", v, v, position=position)
        else:
            bad = _not(b, b.apply("gt" if constraint == _POSITIVE else "ge", v, 0.0, position=position), position)
        out.append(_check(b, bad, _param_message(cls, name, constraint), position))
    return _both(b, out, position)


def _maker(cls: str, spec=None):
    spec = spec or _TORCH[cls][0]

    def make(b, args, kwargs, position):
        a = arguments(cls, args, kwargs, {**{n: default for n, default, _ in spec}, "validate_args": None},
                      position)
        validate = _validate(b, a, position)
        values = _broadcast_all(b, [tensor(b, b.lift(a[n]) if not isinstance(a[n], Tracer) else a[n], cls, position)
                                    for n, _, _ in spec], f"torch.distributions.{cls}", position)
        zero = _checks(b, cls, [(n, v, c) for (n, _, c), v in zip(spec, values)], position) if validate else None
        params = dict(zip((n for n, _, _ in spec), values))
        if cls == "Chi2":  # Gamma(0.5 * df, 0.5)
            params["concentration"] = b.apply("mul", 0.5, params["df"], position=position)
            params["rate"] = _fn(b, "broadcast_to", b.const(np.asarray(0.5, dtype=b.dtype), position),
                                 params["df"].shape, position=position)
        return Distribution(cls, params, values[0].shape, (), zero, validate)
    make.__doc__ = f"torch.distributions.{cls}({', '.join(n for n, _, _ in spec)}): PyTorch's formulas and checks"
    return make


for _cls in _TORCH:
    variant(TORCH, _cls)(_maker(_cls))


@variant(TORCH, "Dirichlet")
def _dirichlet(b, args, kwargs, position):
    """torch.distributions.Dirichlet(concentration): the last axis the event's; each concentration > 0."""
    a = arguments("Dirichlet", args, kwargs, {"concentration": REQUIRED, "validate_args": None}, position)
    validate = _validate(b, a, position)
    c = tensor(b, a["concentration"], "Dirichlet", position)
    if c.ndim < 1:
        raise JacValueError("torch.distributions.Dirichlet: PyTorch raises: `concentration` parameter must be at "
                            "least one-dimensional.", position)
    zero = _check(b, _not(b, b.apply("gt", c, 0.0, position=position), position), _param_message(
        "Dirichlet", "concentration", "IndependentConstraint(GreaterThan(lower_bound=0.0), 1)"), position) \
        if validate else None
    return Distribution("Dirichlet", {"concentration": c}, c.shape[:-1], c.shape[-1:], zero, validate)


def _binary_logits(b, a: dict, cls: str, position, validate: bool):
    """probs and logits as PyTorch's lazy properties make them (probs_to_logits / logits_to_probs, binary), and
    the checks of the one given."""
    _probs_or_logits(cls, a, position)
    if a["probs"] is not None:
        probs = tensor(b, b.lift(a["probs"]) if not isinstance(a["probs"], Tracer) else a["probs"], cls, position)
        return probs, None, "probs"
    logits = tensor(b, b.lift(a["logits"]) if not isinstance(a["logits"], Tracer) else a["logits"], cls, position)
    return None, logits, "logits"


def _from_probs(b, probs, position):
    p = _clamped(b, probs, position)
    return b.apply("sub", b.apply("log", p, position=position),
                   b.apply("log1p", b.apply("neg", p, position=position), position=position), position=position)


def _unit_check(b, cls, probs, position):
    inside = b.apply("mul", b.apply("ge", probs, 0.0, position=position), b.apply("le", probs, 1.0, position=position),
                     position=position)
    return _check(b, _not(b, inside, position), _param_message(cls, "probs", _UNIT), position)


@variant(TORCH, "Binomial")
def _binomial(b, args, kwargs, position):
    """torch.distributions.Binomial(total_count=1, probs=None, logits=None): total_count a non-negative integer,
    broadcast with the probs or logits."""
    a = arguments("Binomial", args, kwargs, {"total_count": 1.0, "probs": None, "logits": None,
                                             "validate_args": None}, position)
    validate = _validate(b, a, position)
    probs, logits, which = _binary_logits(b, a, "Binomial", position, validate)
    n = tensor(b, b.lift(a["total_count"]) if not isinstance(a["total_count"], Tracer) else a["total_count"],
               "Binomial", position)
    n, param = _broadcast_all(b, [n, probs if which == "probs" else logits], "torch.distributions.Binomial", position)
    checks = []
    if validate:
        integral = b.apply("mul", b.apply("eq", b.apply("sub", n, b.apply("floor", n, position=position),
                                                        position=position), 0.0, position=position),
                           b.apply("ge", n, 0.0, position=position), position=position)
        checks.append(_check(b, _not(b, integral, position), _param_message(
            "Binomial", "total_count", "IntegerGreaterThan(lower_bound=0)"), position))
        checks.append(_unit_check(b, "Binomial", param, position) if which == "probs" else _check(
            b, b.apply("ne", param, param, position=position), _param_message("Binomial", "logits", _REAL), position))
    if which == "probs":
        probs, logits = param, _from_probs(b, param, position)
    else:
        logits, probs = param, b.apply("sigmoid", param, position=position)
    return Distribution("Binomial", {"total_count": n, "probs": probs, "logits": logits}, n.shape, (),
                        _both(b, checks, position), validate)


@variant(TORCH, "Geometric")
def _geometric(b, args, kwargs, position):
    """torch.distributions.Geometric(probs=None, logits=None): probs in (0, 1] (PyTorch's unit_interval, then its
    own check that they are positive)."""
    a = arguments("Geometric", args, kwargs, {"probs": None, "logits": None, "validate_args": None}, position)
    validate = _validate(b, a, position)
    probs, logits, which = _binary_logits(b, a, "Geometric", position, validate)
    checks = []
    if which == "probs":
        logits = _from_probs(b, probs, position)
        if validate:
            checks.append(_unit_check(b, "Geometric", probs, position))
            checks.append(_check(b, _not(b, b.apply("gt", probs, 0.0, position=position), position),
                                 "torch.distributions.Geometric: PyTorch raises (validate_args, its default): "
                                 "Expected parameter probs to be positive but found invalid values", position))
    else:
        probs = b.apply("sigmoid", logits, position=position)
        if validate:
            checks.append(_check(b, b.apply("ne", logits, logits, position=position),
                                 _param_message("Geometric", "logits", _REAL), position))
    return Distribution("Geometric", {"probs": probs, "logits": logits}, probs.shape, (), _both(b, checks, position),
                        validate)


# --- their methods ---------------------------------------------------------------------------------------------

def _ops(b, position):
    def op(name, *args):
        return b.apply(name, *args, position=position)

    def fn(name, *args, **kwargs):
        return _fn(b, name, *args, position=position, **kwargs)
    return op, fn


def _normal_log_prob(b, loc, scale, x, position):
    """Normal's log_prob as PyTorch writes it (loc a tracer or 0.0)."""
    op, _ = _ops(b, position)
    var = op("pow", scale, 2.0)
    out = op("sub", op("div", op("neg", op("pow", op("sub", x, loc), 2.0)), op("mul", 2.0, var)), op("log", scale))
    return op("sub", out, math.log(math.sqrt(2 * math.pi)))


def _normal_cdf(b, loc, scale, x, position):
    op, _ = _ops(b, position)
    z = op("div", op("mul", op("sub", x, loc), op("reciprocal", scale)), math.sqrt(2))
    return op("mul", 0.5, op("add", 1.0, op("erf", z)))


def _normal_icdf(b, loc, scale, p, position):
    op, fn = _ops(b, position)
    t = fn("erfinv", op("sub", op("mul", 2.0, p), 1.0))
    return op("add", loc, op("mul", op("mul", scale, t), math.sqrt(2)))


def _outside34(b, d: Distribution, x, position):
    """The mask of values outside ``d``'s support (NaN outside), and PyTorch's name of the support."""
    op, fn = _ops(b, position)
    if d.cls == "Dirichlet":  # Simplex(): all >= 0 and |sum - 1| < 1e-6 over the last axis
        bad = op("add", fn("sum", op("lt", x, 0.0), -1),
                 op("ge", fn("abs", op("sub", fn("sum", x, -1), 1.0)), 1e-6))
        bad = op("add", bad, fn("sum", op("ne", x, x), -1))
        return op("gt", bad, 0.0), "Simplex()"
    if d.cls in ("Binomial", "Geometric"):
        inside = op("mul", op("eq", op("sub", x, op("floor", x)), 0.0), op("ge", x, 0.0))
        if d.cls == "Binomial":
            inside = op("mul", inside, op("le", x, d.total_count))
            return _not(b, inside, position), "IntegerInterval(lower_bound=0, upper_bound=total_count)"
        return _not(b, inside, position), "IntegerGreaterThan(lower_bound=0)"
    support = _TORCH[d.cls][1]
    if support == _REAL:
        return op("ne", x, x), support
    return _not(b, op("gt" if support == _POSITIVE else "ge", x, 0.0), position), support


def _gamma_log_prob(b, c, rate, x, position):
    op, fn = _ops(b, position)
    out = op("add", fn("xlogy", c, rate), fn("xlogy", op("sub", c, 1.0), x))
    return op("sub", op("sub", out, op("mul", rate, x)), fn("lgamma", c))


def log_prob34(b, d: Distribution, x, position):
    op, fn = _ops(b, position)
    zero = None
    if d.validate:
        mask, support = _outside34(b, d, x, position)
        zero = _check(b, mask, _support_message(d.cls, support), position)
    cls = d.cls
    if cls == "LogNormal":  # 0.0 - log(y) (ExpTransform's log|det J|), plus Normal's log_prob of log(y)
        t = op("log", x)
        out = op("add", op("neg", t), _normal_log_prob(b, d.loc, d.scale, t, position))
    elif cls == "StudentT":
        y = op("div", op("sub", x, d.loc), d.scale)
        z = op("add", op("add", op("log", d.scale), op("mul", 0.5, op("log", d.df))), 0.5 * math.log(math.pi))
        z = op("sub", op("add", z, fn("lgamma", op("mul", 0.5, d.df))),
               fn("lgamma", op("mul", 0.5, op("add", d.df, 1.0))))
        out = op("sub", op("mul", op("mul", -0.5, op("add", d.df, 1.0)),
                           op("log1p", op("div", op("pow", y, 2.0), d.df))), z)
    elif cls == "Cauchy":  # -log(pi) - log(scale) - log1p(((value - loc) / scale) ** 2)
        out = op("sub", op("sub", -math.log(math.pi), op("log", d.scale)),
                 op("log1p", op("pow", op("div", op("sub", x, d.loc), d.scale), 2.0)))
    elif cls == "HalfNormal":  # Normal(0, scale).log_prob + log 2, -inf below 0
        out = op("add", _normal_log_prob(b, 0.0, d.scale, x, position), math.log(2))
        out = op("where", op("ge", x, 0.0), out, -math.inf)
    elif cls == "Gumbel":  # y = (loc - value) / scale; (y - exp(y)) - log(scale)
        y = op("div", op("sub", d.loc, x), d.scale)
        out = op("sub", op("sub", y, op("exp", y)), op("log", d.scale))
    elif cls == "Chi2":
        out = _gamma_log_prob(b, d.concentration, d.rate, x, position)
    elif cls == "Weibull":  # the transforms inverted: x1 = y / scale, x0 = x1 ** (1 / (1 / k)); Exponential(1)
        cr = op("reciprocal", d.concentration)
        x1 = op("div", x, d.scale)
        x0 = op("pow", x1, op("reciprocal", cr))
        out = op("sub", op("neg", op("log", fn("abs", d.scale))), op("log", fn("abs", op("div", op("mul", cr, x1),
                                                                                          x0))))
        out = op("add", out, op("neg", x0))
    elif cls == "Dirichlet":
        c = d.concentration
        out = op("sub", op("add", fn("sum", fn("xlogy", op("sub", c, 1.0), x), -1), fn("lgamma", fn("sum", c, -1))),
                 fn("sum", fn("lgamma", c), -1))
    elif cls == "Binomial":
        n, logits = d.total_count, d.logits
        clamp_by_zero = op("div", op("sub", op("add", fn("clamp", logits, 0.0), logits),
                                     fn("clamp", logits, max=0.0)), 2.0)
        normalize = op("sub", op("add", op("mul", n, clamp_by_zero),
                                 op("mul", n, op("log1p", op("exp", op("neg", fn("abs", logits)))))),
                       fn("lgamma", op("add", n, 1.0)))
        out = op("sub", op("sub", op("sub", op("mul", x, logits), fn("lgamma", op("add", x, 1.0))),
                               fn("lgamma", op("add", op("sub", n, x), 1.0))), normalize)
    else:  # Geometric: value * log1p(-probs) + log(probs), probs 0 where probs == 1 and value == 0
        x, probs = _broadcast_all(b, [x, d.probs], "Geometric.log_prob", position)
        probs = op("where", op("mul", op("eq", probs, 1.0), op("eq", x, 0.0)), 0.0, probs)
        out = op("add", op("mul", x, op("log1p", op("neg", probs))), op("log", d.probs))
    out = out if zero is None else op("sub", out, zero)
    return _checked(b, d, out, position)


def entropy34(b, d: Distribution, position):
    op, fn = _ops(b, position)
    cls = d.cls
    normal = 0.5 + 0.5 * math.log(2 * math.pi)
    if cls == "LogNormal":
        out = op("add", op("add", normal, op("log", d.scale)), d.loc)
    elif cls == "HalfNormal":
        out = op("sub", op("add", normal, op("log", d.scale)), math.log(2))
    elif cls == "Cauchy":
        out = op("add", math.log(4 * math.pi), op("log", d.scale))
    elif cls == "Gumbel":
        out = op("add", op("log", d.scale), 1 + EULER)
    elif cls == "StudentT":
        half, half1 = op("mul", 0.5, d.df), op("mul", 0.5, op("add", d.df, 1.0))
        lbeta = op("sub", op("add", fn("lgamma", half), math.lgamma(0.5)), fn("lgamma", half1))
        out = op("add", op("log", d.scale), op("mul", op("mul", 0.5, op("add", d.df, 1.0)),
                                               op("sub", fn("digamma", half1), fn("digamma", half))))
        out = op("add", op("add", out, op("mul", 0.5, op("log", d.df))), lbeta)
    elif cls == "Chi2":  # Gamma's
        c = d.concentration
        out = op("add", op("add", op("sub", c, op("log", d.rate)), fn("lgamma", c)),
                 op("mul", op("sub", 1.0, c), fn("digamma", c)))
    elif cls == "Weibull":  # euler * (1 - 1/k) + log(scale / k) + 1
        cr = op("reciprocal", d.concentration)
        out = op("add", op("add", op("mul", EULER, op("sub", 1.0, cr)), op("log", op("mul", d.scale, cr))), 1.0)
    elif cls == "Dirichlet":
        c = d.concentration
        k = c.shape[-1]
        a0 = fn("sum", c, -1)
        out = op("sub", op("sub", fn("sum", fn("lgamma", c), -1), fn("lgamma", a0)),
                 op("mul", op("sub", float(k), a0), fn("digamma", a0)))
        out = op("sub", out, fn("sum", op("mul", op("sub", c, 1.0), fn("digamma", c)), -1))
    elif cls == "Geometric":
        out = op("div", fn("binary_cross_entropy_with_logits", d.logits, d.probs, reduction="none"), d.probs)
    else:  # Binomial (session 35b)
        out = binomial_entropy(b, d, position)
    return _checked(b, d, out, position)


def moment34(b, d: Distribution, name: str, position):
    op, fn = _ops(b, position)
    cls = d.cls
    var = None
    if cls == "LogNormal":
        s2 = op("pow", d.scale, 2.0)
        mean = op("exp", op("add", d.loc, op("div", s2, 2.0)))
        var = op("mul", op("expm1", s2), op("exp", op("add", op("mul", 2.0, d.loc), s2)))
    elif cls == "StudentT":  # nan where df <= 1; variance inf where 1 < df <= 2
        mean = op("where", op("le", d.df, 1.0), math.nan, d.loc)
        var = op("div", op("mul", op("pow", d.scale, 2.0), d.df), op("sub", d.df, 2.0))
        var = op("where", op("gt", d.df, 2.0), var, op("where", op("gt", d.df, 1.0), math.inf, math.nan))
    elif cls == "Cauchy":
        nan = b.const(np.full(d.batch, np.nan, dtype=b.dtype), position)
        inf = b.const(np.full(d.batch, np.inf, dtype=b.dtype), position)
        return _checked(b, d, nan if name == "mean" else inf, position)
    elif cls == "HalfNormal":
        mean = op("mul", d.scale, math.sqrt(2 / math.pi))
        var = op("mul", op("pow", d.scale, 2.0), 1 - 2 / math.pi)
    elif cls == "Gumbel":  # stddev (pi / sqrt 6) * scale, variance its square
        mean = op("add", d.loc, op("mul", d.scale, EULER))
        std = op("mul", math.pi / math.sqrt(6), d.scale)
        out = mean if name == "mean" else std if name == "stddev" else op("pow", std, 2.0)
        return _checked(b, d, out, position)
    elif cls == "Chi2":
        mean = op("div", d.concentration, d.rate)
        var = op("div", d.concentration, op("pow", d.rate, 2.0))
    elif cls == "Weibull":
        cr = op("reciprocal", d.concentration)
        mean = op("mul", d.scale, op("exp", fn("lgamma", op("add", 1.0, cr))))
        var = op("mul", op("pow", d.scale, 2.0), op("sub", op("exp", fn("lgamma", op("add", 1.0, op("mul", 2.0, cr)))),
                                                    op("exp", op("mul", 2.0, fn("lgamma", op("add", 1.0, cr))))))
    elif cls == "Dirichlet":
        c = d.concentration
        c0 = fn("sum", c, -1, keepdims=True)
        mean = op("div", c, c0)
        var = op("div", op("mul", c, op("sub", c0, c)), op("mul", op("pow", c0, 2.0), op("add", c0, 1.0)))
    elif cls == "Binomial":
        mean = op("mul", d.total_count, d.probs)
        var = op("mul", op("mul", d.total_count, d.probs), op("sub", 1.0, d.probs))
    else:  # Geometric
        mean = op("sub", op("div", 1.0, d.probs), 1.0)
        var = op("div", op("sub", op("div", 1.0, d.probs), 1.0), d.probs)
    out = mean if name == "mean" else var if name == "variance" else op("sqrt", var)
    return _checked(b, d, out, position)


def cdf34(b, d: Distribution, x, position, inverse: bool):
    op, fn = _ops(b, position)
    cls = d.cls
    name = "icdf" if inverse else "cdf"
    if cls in ("StudentT", "Dirichlet", "Binomial", "Geometric") or (cls == "Chi2" and inverse):
        raise JacValueError(f"torch.distributions.{cls}.{name}: PyTorch raises NotImplementedError", position)
    if cls in ("Gumbel", "Weibull"):
        return transformed_cdf(b, d, x, position, inverse)
    if cls == "Chi2":
        return gamma_cdf(b, d, x, position)
    zero = None
    if cls == "LogNormal":  # Normal's of log(value), whose check is Normal's
        if inverse:
            out = op("exp", _normal_icdf(b, d.loc, d.scale, x, position))
        else:
            t = op("log", x)
            out = _normal_cdf(b, d.loc, d.scale, t, position)
            if d.validate:
                zero = _check(b, op("ne", t, t), _support_message("Normal", _REAL).replace(".log_prob", ".cdf")
                              + " (LogNormal.cdf checks log(value))", position)
    elif cls == "Cauchy":
        if inverse:  # tan(pi * (value - 0.5)) * scale + loc
            out = op("add", op("mul", op("tan", op("mul", math.pi, op("sub", x, 0.5))), d.scale), d.loc)
        else:  # atan((value - loc) / scale) / pi + 0.5
            out = op("add", op("div", fn("atan", op("div", op("sub", x, d.loc), d.scale)), math.pi), 0.5)
    else:  # HalfNormal: 2 * Normal(0, scale).cdf(value) - 1; Normal's icdf of (prob + 1) / 2
        if inverse:
            out = _normal_icdf(b, 0.0, d.scale, op("div", op("add", x, 1.0), 2.0), position)
        else:
            out = op("sub", op("mul", 2.0, _normal_cdf(b, 0.0, d.scale, x, position)), 1.0)
    if zero is None and d.validate and not inverse:
        mask, support = _outside34(b, d, x, position)
        zero = _check(b, mask, _support_message(cls, support).replace(".log_prob", ".cdf"), position)
    out = out if zero is None else op("sub", out, zero)
    return _checked(b, d, out, position)


# --- scipy.stats and jax.scipy.stats ----------------------------------------------------------------------------

# each distribution's shape parameters (before loc, scale), whether it is discrete, and the methods of each library
_SHAPES = {"bernoulli": ("p",), "poisson": ("mu",), "binom": ("n", "p"), "geom": ("p",), "gamma": ("a",),
           "beta": ("a", "b"), "t": ("df",), "cauchy": (), "chi2": ("df",), "nbinom": ("n", "p"),
           "betabinom": ("n", "a", "b"), "expon": (), "logistic": (), "uniform": ()}
DISCRETE = ("bernoulli", "poisson", "binom", "geom", "nbinom", "betabinom")
SCIPY_METHODS = {**{d: ("logpmf", "pmf") for d in DISCRETE}, **{d: ("logpdf", "pdf", "cdf") for d in
                                                                 ("gamma", "beta", "t", "cauchy", "chi2")}}
JAX_METHODS = {**{d: ("logpmf", "pmf") for d in DISCRETE}, "bernoulli": ("logpmf", "pmf", "cdf", "ppf"),
               "gamma": ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"),
               "beta": ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"), "t": ("logpdf", "pdf"),
               "cauchy": ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf"),
               "chi2": ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")}
MORE_STATS = tuple(_SHAPES) + ("dirichlet",)
# session 34b: the tails and inverses both libraries have (SciPy's for the names JAX has too), the discrete cdfs
SCIPY_TAIL = {"expon": ("sf", "logcdf", "logsf", "ppf"), "logistic": ("sf", "ppf", "isf"), "uniform": ("ppf",),
              **{d: ("sf", "logcdf", "logsf") for d in ("gamma", "beta", "chi2")},
              "cauchy": ("sf", "logcdf", "logsf", "ppf", "isf"),
              **{d: ("cdf", "sf", "logcdf") for d in ("bernoulli", "poisson", "binom", "geom")}}
JAX_TAIL = {"expon": ("sf", "logcdf", "logsf", "ppf"), "logistic": ("sf", "ppf", "isf"), "uniform": ("ppf",),
            "poisson": ("cdf",)}
# session 35: the discrete quantiles (JAX has bernoulli.ppf alone: JAX_METHODS)
SCIPY_QUANTILE = {d: ("ppf", "isf") for d in DISCRETE}
_LOG_PI = float(np.log(np.pi))


def _scipy_argcheck(b, dist: str, s: dict, position):
    """SciPy's _argcheck: the mask where the shapes are valid (NaN invalid)."""
    op, _ = _ops(b, position)
    if dist in ("bernoulli", "binom"):
        ok = op("mul", op("ge", s["p"], 0.0), op("le", s["p"], 1.0))
        if dist == "binom":  # n >= 0 and integral
            ok = op("mul", ok, op("mul", op("ge", s["n"], 0.0), op("eq", s["n"], op("floor", s["n"]))))
        return ok
    if dist == "geom":
        return op("mul", op("le", s["p"], 1.0), op("gt", s["p"], 0.0))
    if dist == "poisson":
        return op("ge", s["mu"], 0.0)
    if dist == "nbinom":  # n > 0, 0 < p <= 1
        return op("mul", op("gt", s["n"], 0.0), op("mul", op("gt", s["p"], 0.0), op("le", s["p"], 1.0)))
    if dist == "betabinom":  # n >= 0 and integral, a > 0, b > 0
        n = s["n"]
        ok = op("mul", op("ge", n, 0.0), op("eq", n, op("floor", n)))
        return op("mul", ok, op("mul", op("gt", s["a"], 0.0), op("gt", s["b"], 0.0)))
    ok = None
    for v in s.values():  # the continuous shapes: each > 0
        ok = op("gt", v, 0.0) if ok is None else op("mul", ok, op("gt", v, 0.0))
    return ok if ok is not None else b.const(np.ones((), dtype=b.dtype), position)


def _scipy_formula(b, dist: str, name: str, y, s: dict, position):
    """SciPy's ``_logpdf`` / ``_pdf`` / ``_cdf`` / ``_logpmf`` / ``_pmf`` of the standard distribution."""
    op, fn = _ops(b, position)

    def sp(fname, *args):
        return _fn(b, fname, *args, position=position, library="scipy")
    if dist in ("bernoulli", "binom"):  # binom._logpmf; _pmf (boost's): exp of it here
        n = s["n"] if dist == "binom" else 1.0
        k = op("floor", y)
        combiln = op("sub", sp("gammaln", op("add", n, 1.0)), op("add", sp("gammaln", op("add", k, 1.0)),
                                                                 sp("gammaln", op("add", op("sub", n, k), 1.0))))
        out = op("add", op("add", combiln, sp("xlogy", k, s["p"])), sp("xlog1py", op("sub", n, k), op("neg", s["p"])))
        return out if name == "logpmf" else op("exp", out)
    if dist == "geom":
        if name == "pmf":  # power(1 - p, k - 1) * p
            return op("mul", op("pow", op("sub", 1.0, s["p"]), op("sub", y, 1.0)), s["p"])
        return op("add", sp("xlog1py", op("sub", y, 1.0), op("neg", s["p"])), op("log", s["p"]))
    if dist == "poisson":
        out = op("sub", op("sub", sp("xlogy", y, s["mu"]), sp("gammaln", op("add", y, 1.0))), s["mu"])
        return out if name == "logpmf" else op("exp", out)
    if dist == "nbinom":  # gamln(n + x) - gamln(x + 1) - gamln(n) + n log(p) + xlog1py(x, -p); _pmf: exp of it
        n, pp = s["n"], s["p"]
        out = op("sub", op("sub", sp("gammaln", op("add", n, y)), sp("gammaln", op("add", y, 1.0))), sp("gammaln", n))
        out = op("add", op("add", out, op("mul", n, op("log", pp))), sp("xlog1py", y, op("neg", pp)))
        return out if name == "logpmf" else op("exp", out)
    if dist == "betabinom":  # -log(n + 1) - betaln(n - k + 1, k + 1) + betaln(k + a, n - k + b) - betaln(a, b)
        n, a, bb = s["n"], s["a"], s["b"]
        k = op("floor", y)
        out = op("sub", op("neg", op("log", op("add", n, 1.0))), sp("betaln", op("add", op("sub", n, k), 1.0),
                                                                   op("add", k, 1.0)))
        out = op("sub", op("add", out, sp("betaln", op("add", k, a), op("add", op("sub", n, k), bb))),
                 sp("betaln", a, bb))
        return out if name == "logpmf" else op("exp", out)
    if name == "cdf":
        if dist == "gamma":
            return sp("gammainc", s["a"], y)
        if dist == "beta":
            return sp("betainc", s["a"], s["b"], y)
        if dist == "t":
            return sp("stdtr", s["df"], y)
        if dist == "chi2":
            return sp("chdtr", s["df"], y)
        return op("div", fn("arctan2", 1.0, op("neg", y), library="numpy"), math.pi)  # cauchy
    if dist == "cauchy":
        if name == "pdf":  # 1.0 / pi / (1.0 + x * x)
            return op("div", op("div", 1.0, math.pi), op("add", 1.0, op("mul", y, y)))
        a = fn("abs", y)
        near = op("sub", -_LOG_PI, op("log1p", op("pow", a, 2.0)))
        far = op("sub", -_LOG_PI, op("add", op("mul", 2.0, op("log", a)), op("log1p", op("pow", op("div", 1.0, a),
                                                                                            2.0))))
        return op("where", op("lt", a, 1.0), near, far)
    if dist == "gamma":
        out = op("sub", op("sub", sp("xlogy", op("sub", s["a"], 1.0), y), y), sp("gammaln", s["a"]))
    elif dist == "beta":
        out = op("add", sp("xlog1py", op("sub", s["b"], 1.0), op("neg", y)), sp("xlogy", op("sub", s["a"], 1.0), y))
        out = op("sub", out, sp("betaln", s["a"], s["b"]))
    elif dist == "chi2":
        df = s["df"]
        out = op("sub", op("sub", sp("xlogy", op("sub", op("div", df, 2.0), 1.0), y), op("div", y, 2.0)),
                 sp("gammaln", op("div", df, 2.0)))
        out = op("sub", out, op("div", op("mul", math.log(2), df), 2.0))
    else:  # t; the normal's where df is inf
        df = s["df"]
        out = op("sub", op("sub", op("log", sp("poch", op("mul", 0.5, df), 0.5)),
                           op("mul", 0.5, op("add", op("log", df), math.log(math.pi)))),
                 op("mul", op("div", op("add", df, 1.0), 2.0), op("log1p", op("div", op("mul", y, y), df))))
        normal = op("sub", op("div", op("neg", op("pow", y, 2.0)), 2.0), math.log(math.sqrt(2 * math.pi)))
        if name == "pdf":  # SciPy's t._pdf: norm._pdf where df is inf, else exp(_logpdf)
            normal = op("div", op("exp", op("div", op("neg", op("pow", y, 2.0)), 2.0)), math.sqrt(2 * math.pi))
            out = op("exp", out)
        return op("where", op("eq", df, math.inf), normal, out)
    return out if name == "logpdf" else op("exp", out)


_SCIPY_SUPPORTS = {"gamma": (0.0, math.inf), "chi2": (0.0, math.inf), "beta": (0.0, 1.0), "t": (-math.inf, math.inf),
                   "cauchy": (-math.inf, math.inf), "bernoulli": (0.0, 1.0), "poisson": (0.0, math.inf),
                   "geom": (1.0, math.inf), "nbinom": (0.0, math.inf), "betabinom": (0.0, None),
                   "expon": (0.0, math.inf), "logistic": (-math.inf, math.inf), "uniform": (0.0, 1.0)}


def _scipy_more(b, dist: str, name: str, x, s: dict, loc, scale, position):
    """rv_continuous's logpdf / pdf / cdf and rv_discrete's logpmf / pmf around SciPy's formula: NaN where
    _argcheck fails (or scale <= 0) or the point is NaN, the formula inside the support, −inf / 0 (cdf: 0 below, 1
    above) outside."""
    op, _ = _ops(b, position)
    if name in ("sf", "logcdf", "logsf", "ppf", "isf") or name == "cdf" and dist in DISCRETE:
        return scipy_tail(b, dist, name, x, s, loc, scale, position)
    ok = _scipy_argcheck(b, dist, s, position)
    if dist in DISCRETE:
        y = op("sub", x, loc)
        lo, hi = _SCIPY_SUPPORTS.get(dist, (0.0, None))
        top = s["n"] if dist in ("binom", "betabinom") else hi
        inside = op("mul", op("mul", op("ge", y, lo), op("le", y, top)), op("eq", op("floor", y), y))
    else:
        ok = op("mul", ok, op("gt", scale, 0.0))
        y = op("div", op("sub", x, loc), scale)
        lo, hi = _SCIPY_SUPPORTS[dist]
        if name == "cdf":
            inside = op("lt", y, hi) if lo == -math.inf else op("mul", op("gt", y, lo), op("lt", y, hi))
        else:
            inside = op("mul", op("ge", y, lo), op("le", y, hi))
    at = y  # the cdf's formula at a point inside where its 0 or 1 is chosen: its slope there (NaN below 0) made 0·NaN
    if name == "cdf" and dist not in DISCRETE:
        at = op("where", inside, y, _INNER[(lo, hi)])
    out = _scipy_formula(b, dist, name, at, s, position)
    if name == "cdf":
        out = op("where", inside, out, op("where", op("ge", y, hi), 1.0, 0.0))
    else:
        if dist not in DISCRETE:
            out = op("sub", out, op("log", scale)) if name == "logpdf" else op("div", out, scale)
        out = op("where", op("mul", inside, ok), out, -math.inf if name.startswith("log") else 0.0)
    return op("where", op("add", _not(b, ok, position), op("ne", y, y)), math.nan, out)


def _jax_more(b, dist: str, name: str, x, s: dict, loc, scale, position):
    """JAX's ``jax.scipy.stats`` expressions as its source writes them."""
    op, fn = _ops(b, position)

    def js(fname, *args):
        return _fn(b, fname, *args, position=position, library="jax.scipy")
    if name in ("pdf", "pmf"):
        return op("exp", _jax_more(b, dist, "log" + name, x, s, loc, scale, position))
    if dist in ("expon", "logistic", "uniform", "nbinom", "betabinom") or (dist, name) == ("poisson", "cdf"):
        return jax_tail(b, dist, name, x, s, loc, scale, position)
    if name in ("logcdf", "logsf"):
        return op("log", _jax_more(b, dist, name[3:], x, s, loc, scale, position))
    if dist == "bernoulli":
        p = s["p"]
        if name == "logpmf":
            k = op("sub", x, loc)
            out = op("add", js("xlogy", k, p), js("xlog1py", op("sub", 1.0, k), op("neg", p)))
            return op("where", op("add", op("lt", k, 0.0), op("gt", k, 1.0)), -math.inf, out)
        bad = op("add", op("add", op("ne", x, x), op("ne", p, p)), op("add", op("lt", p, 0.0), op("gt", p, 1.0)))
        if name == "cdf":  # select: NaN, 0 below 0, 1 - p on [0, 1), 1 from 1 on
            return op("where", bad, math.nan, op("where", op("lt", x, 0.0), 0.0, op("where", op("lt", x, 1.0),
                                                                                    op("sub", 1.0, p), 1.0)))
        bad = op("add", bad, op("add", op("lt", x, 0.0), op("gt", x, 1.0)))  # ppf
        return op("where", bad, math.nan, op("where", op("le", x, op("sub", 1.0, p)), 0.0, 1.0))
    if dist == "poisson":
        k = op("sub", x, loc)
        out = op("sub", op("sub", js("xlogy", k, s["mu"]), js("gammaln", op("add", k, 1.0))), s["mu"])
        return op("where", op("add", op("lt", k, 0.0), op("ne", fn("round", x), x)), -math.inf, out)
    if dist == "binom":
        n, p = s["n"], s["p"]
        y = op("sub", x, loc)
        comb = op("sub", js("gammaln", op("add", n, 1.0)), op("add", js("gammaln", op("add", y, 1.0)),
                                                                 js("gammaln", op("add", op("sub", n, y), 1.0))))
        linear = op("add", js("xlogy", y, p), js("xlog1py", op("sub", n, y), op("neg", p)))
        out = op("add", comb, linear)
        out = op("where", op("add", op("mul", op("eq", y, 0.0), op("eq", n, 0.0)), op("eq", linear, 0.0)), 0.0, out)
        inside = op("mul", op("ge", x, loc), op("lt", x, op("add", op("add", loc, n), 1.0)))
        return op("where", inside, out, -math.inf)
    if dist == "geom":
        k = op("sub", x, loc)
        out = op("add", js("xlog1py", op("sub", k, 1.0), op("neg", s["p"])), op("log", s["p"]))
        return op("where", op("le", k, 0.0), -math.inf, out)
    if dist == "cauchy":
        if name in ("sf", "isf"):
            if name == "sf":  # cdf(-x, -loc, scale)
                return _jax_more(b, dist, "cdf", op("neg", x), s, op("neg", loc), scale, position)
        if name in ("ppf", "isf"):  # tan(pi q - pi/2) (isf: tan(pi/2 - pi q)) * scale + loc
            t = op("mul", math.pi, x)
            t = op("sub", t, math.pi / 2) if name == "ppf" else op("sub", math.pi / 2, t)
            return op("add", op("mul", op("tan", t), scale), loc)
        z = op("div", op("sub", x, loc), scale)
        if name == "cdf":
            return op("add", 0.5, op("mul", 1.0 / math.pi, fn("arctan", z, library="numpy")))
        return op("neg", op("add", op("log", op("mul", math.pi, scale)), op("log1p", op("mul", z, z))))
    if dist == "t":
        df = s["df"]
        z = op("div", op("sub", x, loc), scale)
        half = op("div", df, 2.0)
        norm = op("div", op("log", op("mul", op("mul", op("mul", scale, scale), math.pi), df)), 2.0)
        norm = op("sub", op("add", fn("lgamma", half), norm), fn("lgamma", op("add", half, 0.5)))
        return op("neg", op("add", norm, op("mul", op("add", half, 0.5), op("log1p", op("div", op("mul", z, z), df)))))
    if name in ("cdf", "sf"):  # gamma, beta, chi2
        if dist == "beta":
            y = fn("clip", op("div", op("sub", x, loc), scale), 0.0, 1.0, library="numpy")
            if name == "cdf":
                return js("betainc", s["a"], s["b"], y)
            return js("betainc", s["b"], s["a"], op("sub", 1.0, y))
        if dist == "gamma":
            a, y = s["a"], op("div", op("sub", x, loc), scale)
            if name == "sf":
                return op("where", op("lt", y, 0.0), 1.0, js("gammaincc", a, y))
        else:  # chi2
            a, y = op("div", s["df"], 2.0), op("div", op("sub", x, loc), op("mul", scale, 2.0))
        y = fn("clip", y, 0.0, math.inf, library="numpy")
        return js("gammainc" if name == "cdf" else "gammaincc", a, y)
    if dist == "gamma":
        ok = op("ge", x, loc)
        y = op("where", ok, op("div", op("sub", x, loc), scale), 1.0)
        out = op("sub", op("sub", js("xlogy", op("sub", s["a"], 1.0), y), y),
                 op("add", js("gammaln", s["a"]), op("log", scale)))
        return op("where", ok, out, -math.inf)
    if dist == "beta":
        a, bb = s["a"], s["b"]
        y = op("div", op("sub", x, loc), scale)
        linear = op("add", js("xlogy", op("sub", a, 1.0), y), js("xlog1py", op("sub", bb, 1.0), op("neg", y)))
        out = op("sub", op("add", op("neg", js("betaln", a, bb)), linear), op("log", scale))
        out = op("where", op("add", op("gt", x, op("add", loc, scale)), op("lt", x, loc)), -math.inf, out)
        bad = op("add", op("add", op("le", a, 0.0), op("le", bb, 0.0)), op("le", scale, 0.0))
        return op("where", bad, math.nan, out)
    df = s["df"]  # chi2
    y = op("div", op("sub", x, loc), scale)
    half = op("div", df, 2.0)
    kernel = op("sub", op("mul", op("sub", half, 1.0), op("log", y)), op("div", y, 2.0))
    const = op("neg", op("add", fn("lgamma", half), op("div", op("mul", math.log(2), df), 2.0)))
    out = op("add", op("sub", const, op("log", scale)), kernel)
    return op("where", op("lt", x, loc), -math.inf, out)


def _stats34(root: str, dist: str, name: str):
    jax = root.startswith("jax")
    spelling = f"{root}.{dist}.{name}"
    shapes = _SHAPES[dist]
    first = "q" if name in ("ppf", "isf") else "k" if dist in DISCRETE else "x"
    spec = {first: REQUIRED, **{k: REQUIRED for k in shapes}, "loc": 0.0}
    if dist not in DISCRETE:
        spec["scale"] = 1.0
    if jax and dist == "bernoulli" and name in ("cdf", "ppf"):
        del spec["loc"]  # JAX's bernoulli.cdf(k, p) and ppf(q, p)

    def lower(b, args, kwargs, position):
        a = arguments(spelling, args, kwargs, spec, position)
        names = list(spec)
        values = [tensor(b, b.lift(a[k]) if not isinstance(a[k], Tracer) else a[k], spelling, position)
                  for k in names]
        values = _broadcast_all(b, values, spelling, position)
        v = dict(zip(names, values))
        s = {k: v[k] for k in shapes}
        loc = v.get("loc", b.const(np.zeros((), dtype=b.dtype), position))
        scale = v.get("scale")
        if jax:
            return _jax_more(b, dist, name, v[first], s, loc, scale, position)
        return nan_derivative(b, _scipy_more(b, dist, name, v[first], s, loc, scale, position), values, position)
    lower.__doc__ = (f"{spelling}({', '.join(spec)}): {'JAX' if jax else 'SciPy'}'s formula"
                     + ("" if jax else ", NaN where SciPy's argcheck fails"))
    return lower


for _root, _methods in (("jax.scipy.stats", JAX_METHODS), ("scipy.stats", SCIPY_METHODS),
                        ("jax.scipy.stats", JAX_TAIL), ("scipy.stats", SCIPY_TAIL), ("scipy.stats", SCIPY_QUANTILE)):
    for _dist, _names in _methods.items():
        for _name in _names:
            variant(f"{_root}.{_dist}", _name)(_stats34(_root, _dist, _name))


def _dirichlet_stats(root: str, name: str):
    """dirichlet.logpdf / pdf(x, alpha): alpha one vector, x's first axis the components (one fewer: the last is
    1 - their sum), as both libraries read it; SciPy raises where x is off the simplex, JAX gives −inf."""
    jax = root.startswith("jax")
    spelling = f"{root}.dirichlet.{name}"

    def lower(b, args, kwargs, position):
        op, fn = _ops(b, position)
        a = arguments(spelling, args, kwargs, {"x": REQUIRED, "alpha": REQUIRED}, position)
        x, alpha = (tensor(b, a[k], spelling, position) for k in ("x", "alpha"))
        if alpha.ndim != 1:
            raise JacValueError(f"{spelling}: {'JAX' if jax else 'SciPy'} raises: `alpha` must be one-dimensional; "
                                f"got shape {alpha.shape}", position)
        k = alpha.shape[0]
        if x.ndim not in (1, 2) or x.shape[0] not in (k, k - 1):
            raise JacValueError(f"{spelling}: x must have either the same number of entries as alpha or one entry "
                                f"fewer along its first axis (jac reads x of one or two axes); got x.shape="
                                f"{x.shape}, alpha.shape={alpha.shape}", position)
        if x.shape[0] != k:
            last = op("sub", 1.0, fn("sum", x, 0, keepdims=True))
            x = _concat(b, [x, last], 0, "concatenate", position)
        am1 = op("sub", alpha, 1.0)
        if x.ndim == 2:
            am1 = b.apply("reshape", am1, shape=(k, 1), position=position)
        xlogy = _fn(b, "xlogy", am1, x, position=position, library="jax.scipy" if jax else "scipy")
        norm = op("sub", fn("sum", fn("gammaln", alpha)), fn("gammaln", fn("sum", alpha)))
        out = op("sub", fn("sum", xlogy, 0), norm)
        if jax:  # -inf off the simplex: all > 0 and |sum - 1| < 1e-6
            simplex = op("mul", op("eq", fn("sum", op("le", x, 0.0), 0), 0.0),
                         op("lt", fn("abs", op("sub", fn("sum", x, 0), 1.0)), 1e-6))
            out = op("where", simplex, out, -math.inf)
        else:
            checks = [(op("le", alpha, 0.0), "All parameters must be greater than 0"),
                      (op("lt", x, 0.0), "Each entry in 'x' must be greater than or equal to zero."),
                      (op("gt", x, 1.0), "Each entry in 'x' must be smaller or equal one."),
                      (op("mul", op("eq", x, 0.0), op("lt", am1, 0.0)),
                       "Each entry in 'x' must be greater than zero if its alpha is less than one."),
                      (op("gt", fn("abs", op("sub", fn("sum", x, 0), 1.0)), 10e-10),
                       "The input vector 'x' must lie within the normal simplex.")]
            for mask, words in checks:
                zero = refusal(b, f"{spelling}: SciPy raises: {words}", where=mask, axes=tuple(range(mask.ndim)),
                               position=position)
                out = op("sub", out, zero)
        return out if name == "logpdf" else op("exp", out)
    lower.__doc__ = f"{spelling}(x, alpha): {'JAX' if jax else 'SciPy'}'s formula (the first axis of x the components)"
    return lower


for _root in ("jax.scipy.stats", "scipy.stats"):
    for _name in ("logpdf", "pdf"):
        variant(f"{_root}.dirichlet", _name)(_dirichlet_stats(_root, _name))


# --- session 34b: mixtures, one-hot, low-rank normals, Kumaraswamy, Pareto, VonMises -------------------------------
# `MixtureSameFamily(Categorical, component)` over any class above with a batch axis of the components (log_prob:
# logsumexp of log_softmax(mixture logits) plus the component's log_prob of the value unsqueezed; mean, variance,
# cdf), `OneHotCategorical` (its Categorical's, the value read by its argmax), `LowRankMultivariateNormal` (one
# distribution, by PyTorch's capacitance matrix), `Kumaraswamy` and `Pareto` (TransformedDistributions: log_prob
# through their transforms inverted, as PyTorch), `VonMises` (PyTorch's polynomial approximation of log I0 and log
# I1, not the Bessel functions: its values). `MORE_B`, dispatched from `_log_prob` / `_entropy` / `_cdf` / `_moment`.

MORE_B = ("MixtureSameFamily", "OneHotCategorical", "LowRankMultivariateNormal", "Kumaraswamy", "Pareto", "VonMises")
for _cls, _spec in (("Kumaraswamy", (("concentration1", REQUIRED, _POSITIVE), ("concentration0", REQUIRED, _POSITIVE))),
                    ("Pareto", (("scale", REQUIRED, _POSITIVE), ("alpha", REQUIRED, _POSITIVE))),
                    ("VonMises", (("loc", REQUIRED, _REAL), ("concentration", REQUIRED, _POSITIVE)))):
    variant(TORCH, _cls)(_maker(_cls, _spec))


@variant(TORCH, "MixtureSameFamily")
def _mixture(b, args, kwargs, position):
    """torch.distributions.MixtureSameFamily(mixture_distribution, component_distribution): a Categorical of K
    weights and a distribution whose last batch axis holds the K components."""
    a = arguments("MixtureSameFamily", args, kwargs, {"mixture_distribution": REQUIRED,
                                                     "component_distribution": REQUIRED, "validate_args": None},
                  position)
    validate = _validate(b, a, position)
    mix, comp = a["mixture_distribution"], a["component_distribution"]
    if not isinstance(mix, Distribution) or mix.cls != "Categorical":
        raise JacValueError("torch.distributions.MixtureSameFamily: PyTorch raises: The Mixture distribution needs to "
                            "be an instance of torch.distributions.Categorical", position)
    if not isinstance(comp, Distribution):
        raise JacValueError("torch.distributions.MixtureSameFamily: PyTorch raises: The Component distribution needs "
                            "to be an instance of torch.distributions.Distribution", position)
    if not comp.batch:
        raise JacValueError(f"torch.distributions.MixtureSameFamily: the component distribution {comp.cls} has no "
                            f"batch axis to hold the components (PyTorch raises)"
                            f"{_MVN_HINT if comp.cls in _ONE else ''}",
                            position)
    mdbs, cdbs = mix.batch, comp.batch[:-1]
    if any(m != 1 and c != 1 and m != c for m, c in zip(reversed(mdbs), reversed(cdbs))):
        raise JacValueError(f"torch.distributions.MixtureSameFamily: PyTorch raises: `mixture_distribution."
                            f"batch_shape` ({fmt(mdbs)}) is not compatible with `component_distribution.batch_shape`"
                            f"({fmt(cdbs)})", position)
    km, kc = mix.logits.shape[-1], comp.batch[-1]
    if km != kc:
        raise JacValueError(f"torch.distributions.MixtureSameFamily: PyTorch raises: `mixture_distribution component` "
                            f"({km}) does not equal `component_distribution.batch_shape[-1]` ({kc})", position)
    return Distribution("MixtureSameFamily", {}, cdbs, comp.event, None, validate, base=(mix, comp))


class StraightThrough(Distribution):
    """torch.distributions.OneHotCategoricalStraightThrough: a OneHotCategorical (its methods, checks and KL pairs,
    as PyTorch's subclass inherits them) whose rsample PyTorch writes as draw + (probs - probs.detach())."""


@variant(TORCH, "OneHotCategoricalStraightThrough")
def _one_hot_straight_through(b, args, kwargs, position):
    """torch.distributions.OneHotCategoricalStraightThrough(probs=None, logits=None): OneHotCategorical's methods;
    its rsample refused, saying the straight-through formula to write with the draw an input."""
    d = _one_hot_categorical(b, args, kwargs, position)
    return StraightThrough(d.cls, d.params, d.batch, d.event, d.zero, d.validate, base=d.base)


_ONE = ("MultivariateNormal",)
_MVN_HINT = (": give it K components, MultivariateNormal(loc of shape (K, n), covariance_matrix of shape (K, n, "
             "n)), or for diagonal covariances Independent(Normal(loc, scale), 1) with loc, scale of shape (K, n)")


@variant(TORCH, "OneHotCategorical")
def _one_hot_categorical(b, args, kwargs, position):
    """torch.distributions.OneHotCategorical(probs=None, logits=None): its Categorical, made as PyTorch makes it
    (with the default checks, whatever validate_args says), the event axis the categories'."""
    a = arguments("OneHotCategorical", args, kwargs, {"probs": None, "logits": None, "validate_args": None}, position)
    validate = _validate(b, a, position)
    cat = _categorical(b, [], {k: a[k] for k in ("probs", "logits") if a[k] is not None}, position)
    k = cat.logits.shape[-1]
    return Distribution("OneHotCategorical", dict(cat.params), cat.batch, (k,), cat.zero, validate, base=cat)


@variant(TORCH, "LowRankMultivariateNormal")
def _low_rank_mvn(b, args, kwargs, position):
    """torch.distributions.LowRankMultivariateNormal(loc, cov_factor, cov_diag): covariance W Wᵀ + diag(D), its
    capacitance matrix's Cholesky factor cholesky(I + Wᵀ D⁻¹ W) as PyTorch computes it."""
    cls = "LowRankMultivariateNormal"
    a = arguments(cls, args, kwargs, {"loc": REQUIRED, "cov_factor": REQUIRED, "cov_diag": REQUIRED,
                                      "validate_args": None}, position)
    validate = _validate(b, a, position)
    loc, w, diag = (tensor(b, a[k], cls, position) for k in ("loc", "cov_factor", "cov_diag"))
    if loc.ndim < 1:
        raise JacValueError(f"torch.distributions.{cls}: PyTorch raises: loc must be at least one-dimensional.",
                            position)
    n = loc.shape[-1]
    if w.ndim < 2 or w.shape[-2] != n or diag.shape[-1:] != (n,):
        raise JacValueError(f"torch.distributions.{cls}: PyTorch raises: cov_factor must be a batch of matrices with "
                            f"shape {n} x m and cov_diag a batch of vectors with shape ({n},) (got "
                            f"{fmt(w.shape)}, {fmt(diag.shape)})", position)
    try:  # the batch: the three broadcast (loc and cov_diag unsqueezed), PyTorch's broadcast_tensors
        batch = broadcast(loc.shape[:-1], w.shape[:-2], diag.shape[:-1])
    except Exception:  # noqa: BLE001 - the shapes' own error, said as PyTorch's
        raise JacValueError(f"torch.distributions.{cls}: PyTorch raises: Incompatible batch shapes: loc "
                            f"{fmt(loc.shape)}, cov_factor {fmt(w.shape)}, cov_diag {fmt(diag.shape)}",
                            position) from None
    op, fn = _ops(b, position)
    zero = None
    if validate:
        zero = _both(b, [
            _check(b, op("ne", loc, loc), _param_message(cls, "loc", "IndependentConstraint(Real(), 1)"), position),
            _check(b, op("ne", w, w), _param_message(cls, "cov_factor", "IndependentConstraint(Real(), 2)"), position),
            _check(b, _not(b, op("gt", diag, 0.0), position), _param_message(
                cls, "cov_diag", "IndependentConstraint(GreaterThan(lower_bound=0.0), 1)"), position)], position)
    m = w.shape[-1]
    wt_dinv = _lowrank_wt_dinv(b, w, diag, position)
    cap = op("add", fn("matmul", wt_dinv, w), b.const(np.eye(m, dtype=b.dtype), position))
    cap_tril = _fn(b, "cholesky", cap, position=position, library="torch.linalg")

    def expanded(t, shape):
        return t if t.shape == shape else fn("broadcast_to", t, shape)
    params = {"loc": expanded(loc, batch + (n,)), "cov_factor": expanded(w, batch + (n, m)),
              "cov_diag": expanded(diag, batch + (n,)), "_unbroadcasted_cov_factor": w,
              "_unbroadcasted_cov_diag": diag, "_wt_dinv": wt_dinv, "_capacitance_tril": cap_tril}
    return Distribution(cls, params, batch, (n,), zero, validate)


LOWRANK_MATRICES = ("covariance_matrix", "precision_matrix", "scale_tril")


def _lowrank_matrix(b, d: Distribution, name: str, position):
    """LowRankMultivariateNormal's lazy properties (session 35), expanded to batch + (n, n): covariance W Wᵀ +
    diag(D); precision by Woodbury's identity, diag(1 / D) - AᵀA with A = L⁻¹ Wᵀ D⁻¹; scale_tril the covariance's
    Cholesky factor."""
    op, fn = _ops(b, position)
    w, diag, n = d._unbroadcasted_cov_factor, d._unbroadcasted_cov_diag, d.event[0]
    if name == "precision_matrix":
        a = _fn(b, "solve_triangular", d._capacitance_tril, d._wt_dinv, upper=False, position=position,
                library="torch.linalg")
        out = op("sub", fn("diag_embed", op("div", 1.0, diag)), fn("matmul", matrix_transpose(b, a, position), a))
    else:
        out = op("add", fn("matmul", w, matrix_transpose(b, w, position)), fn("diag_embed", diag))
        if name == "scale_tril":
            out = _fn(b, "cholesky", out, position=position, library="torch.linalg")
    return _expanded_to(b, out, d.batch + (n, n), position)


def _lowrank_wt_dinv(b, w, diag, position):
    """Wᵀ D⁻¹ of the unbroadcast factors: ``W.mT / D.unsqueeze(-2)``."""
    return b.apply("div", matrix_transpose(b, w, position, "transpose"), _unsqueezed(b, diag, -2, position),
                   position=position)


def _lowrank_logdet(b, d: Distribution, position):
    """PyTorch's _batch_lowrank_logdet: 2 Σ log diag(capacitance_tril) + Σ log D (D unbroadcast)."""
    op, fn = _ops(b, position)
    return op("add", op("mul", 2.0, fn("sum", op("log", fn("diagonal", d._capacitance_tril, dim1=-2, dim2=-1)), -1)),
              fn("sum", op("log", d._unbroadcasted_cov_diag), -1))


def _lowrank_mahalanobis(b, d: Distribution, diff, position):
    """PyTorch's _batch_lowrank_mahalanobis(W, D, diff, capacitance_tril): Σ diff² / D - |L⁻¹ Wᵀ D⁻¹ diff|²."""
    op, fn = _ops(b, position)
    wt_dinv_x = _batch_mv(b, d._wt_dinv, diff, position)
    term1 = fn("sum", op("div", op("pow", diff, 2.0), d._unbroadcasted_cov_diag), -1)
    return op("sub", term1, _mahalanobis(b, d._capacitance_tril, wt_dinv_x, position))


def _batch_mv(b, mat, vec, position):
    """PyTorch's _batch_mv: ``matmul(mat, vec.unsqueeze(-1)).squeeze(-1)``, batches broadcast."""
    out = _fn(b, "matmul", mat, _unsqueezed(b, vec, -1, position), position=position)
    return b.apply("reshape", out, shape=out.shape[:-1], position=position)


def _trace_xxt(b, x, position):
    """PyTorch's _batch_trace_XXT: the sum of squares over the last two axes."""
    return _fn(b, "sum", b.apply("pow", x, 2.0, position=position), (-2, -1), position=position)


def _expanded_to(b, t, shape, position):
    return t if t.shape == tuple(shape) else _fn(b, "broadcast_to", t, tuple(shape), position=position)


def _eval_poly(b, y, coef, position):
    op, _ = _ops(b, position)
    out = coef[-1]
    for c in reversed(coef[:-1]):
        out = op("add", c, op("mul", y, out))
    return out


# PyTorch's von_mises.py coefficients (Abramowitz and Stegun 9.8.1-9.8.4)
_I0_SMALL = (1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.360768e-1, 0.45813e-2)
_I0_LARGE = (0.39894228, 0.1328592e-1, 0.225319e-2, -0.157565e-2, 0.916281e-2, -0.2057706e-1, 0.2635537e-1,
             -0.1647633e-1, 0.392377e-2)
_I1_SMALL = (0.5, 0.87890594, 0.51498869, 0.15084934, 0.2658733e-1, 0.301532e-2, 0.32411e-3)
_I1_LARGE = (0.39894228, -0.3988024e-1, -0.362018e-2, 0.163801e-2, -0.1031555e-1, 0.2282967e-1, -0.2895312e-1,
             0.1787654e-1, -0.420059e-2)


def _log_bessel(b, x, order: int, position):
    """PyTorch's _log_modified_bessel_fn: log I_order(x) for x > 0 by its polynomials (relative error ~1e-7 of the
    true Bessel function; PyTorch's values, and its derivatives are the polynomials')."""
    op, fn = _ops(b, position)
    y = op("div", x, 3.75)
    small = _eval_poly(b, op("mul", y, y), _I1_SMALL if order else _I0_SMALL, position)
    if order:
        small = op("mul", fn("abs", x), small)
    small = op("log", small)
    large = _eval_poly(b, op("div", 3.75, x), _I1_LARGE if order else _I0_LARGE, position)
    large = op("add", op("sub", x, op("mul", 0.5, op("log", x))), op("log", large))
    return op("where", op("lt", x, 3.75), small, large)


def _unsqueezed(b, x, axis: int, position):
    """``x.unsqueeze(axis)`` for a negative axis."""
    k = x.ndim + axis + 1
    return b.apply("reshape", x, shape=x.shape[:k] + (1,) + x.shape[k:], position=position)


def log_prob34b(b, d: Distribution, x, position):
    op, fn = _ops(b, position)
    cls = d.cls
    if cls == "MixtureSameFamily":
        mix, comp = d.base
        if x.ndim < len(d.event):
            raise JacValueError(f"MixtureSameFamily.log_prob: PyTorch raises: the value must have at least "
                                f"{len(d.event)} dimensions, got {fmt(x.shape)}", position)
        lp = _log_prob(b, comp, _unsqueezed(b, x, -1 - len(d.event), position), position)
        out = fn("logsumexp", op("add", lp, fn("log_softmax", mix.logits, -1)), -1)
        return _checked(b, mix, out, position)
    zero = None
    if cls == "OneHotCategorical":
        k = d.event[0]
        if not x.ndim or x.shape[-1] != k:
            raise JacValueError(f"OneHotCategorical.log_prob: PyTorch raises: the value's last axis must be the "
                                f"event's, {k}; got shape {fmt(x.shape)}", position)
        if d.validate:  # OneHot(): every entry 0 or 1 and the sum over the last axis 1
            bad = op("add", fn("sum", op("mul", op("ne", x, 0.0), op("ne", x, 1.0)), -1),
                     op("ne", fn("sum", x, -1), 1.0))
            zero = _check(b, op("gt", bad, 0.0), _support_message(cls, "OneHot()"), position)
        index = fn("detach", b.apply("argmax", x, axis=x.ndim - 1, position=position))
        picked = op("eq", _unsqueezed(b, index, -1, position), b.const(np.arange(k, dtype=b.dtype), position))
        out = fn("sum", op("where", picked, d.logits, 0.0), -1)
    elif cls == "LowRankMultivariateNormal":
        n = d.event[0]
        if not x.ndim or x.shape[-1] != n:
            raise JacValueError(f"LowRankMultivariateNormal.log_prob: the value's last axis must be the event's, {n}; "
                                f"got shape {fmt(x.shape)}", position)
        if d.validate:
            zero = _check(b, op("ne", x, x), _support_message(cls, "IndependentConstraint(Real(), 1)"), position)
        maha = _lowrank_mahalanobis(b, d, op("sub", x, d.loc), position)
        out = op("mul", -0.5, op("add", op("add", n * math.log(2 * math.pi), _lowrank_logdet(b, d, position)), maha))
    elif cls == "Pareto":  # transforms inverted: x1 = y / scale (log|scale|), x0 = log(x1) (x0); Exponential(alpha)
        if d.validate:
            zero = _check(b, _not(b, op("ge", x, d.scale), position),
                          _support_message(cls, "GreaterThanEq(lower_bound=scale)"), position)
        x1 = op("div", op("sub", x, 0.0), d.scale)
        out = op("neg", fn("broadcast_to", op("log", fn("abs", d.scale)), x1.shape))
        x0 = op("log", x1)
        out = op("add", op("sub", out, x0), op("sub", op("log", d.alpha), op("mul", d.alpha, x0)))
    elif cls == "Kumaraswamy":  # PowerTransform(1 / c1), AffineTransform(1, -1), PowerTransform(1 / c0) inverted
        if d.validate:
            inside = op("mul", op("ge", x, 0.0), op("le", x, 1.0))
            zero = _check(b, _not(b, inside, position), _support_message(cls, _UNIT), position)
        e1, e0 = op("reciprocal", d.concentration1), op("reciprocal", d.concentration0)
        x2 = op("pow", x, op("div", 1.0, e1))
        out = op("neg", op("log", fn("abs", op("div", op("mul", e1, x), x2))))
        x1 = op("div", op("sub", x2, 1.0), -1.0)
        x0 = op("pow", x1, op("div", 1.0, e0))
        out = op("sub", out, op("log", fn("abs", op("div", op("mul", e0, x1), x0))))
        out = op("add", out, op("log", op("mul", op("le", 0.0, x0), op("gt", 1.0, x0))))  # Uniform(0, 1)
    else:  # VonMises: concentration * cos(value - loc) - log(2 pi) - log I0(concentration)
        if d.validate:
            zero = _check(b, op("ne", x, x), _support_message(cls, _REAL), position)
        out = op("mul", d.concentration, op("cos", op("sub", x, d.loc)))
        out = op("sub", op("sub", out, math.log(2 * math.pi)), _log_bessel(b, d.concentration, 0, position))
    out = out if zero is None else op("sub", out, zero)
    return _checked(b, d, out, position)


def entropy34b(b, d: Distribution, position):
    op, fn = _ops(b, position)
    cls = d.cls
    if cls == "OneHotCategorical":
        return _checked(b, d, _entropy(b, d.base, position), position)
    if cls == "LowRankMultivariateNormal":  # 0.5 * (n * (1 + log(2 pi)) + log_det)
        out = op("mul", 0.5, op("add", d.event[0] * (1.0 + math.log(2 * math.pi)), _lowrank_logdet(b, d, position)))
        out = _expanded_to(b, out, d.batch, position)
    elif cls == "Pareto":  # log(scale / alpha) + (1 + 1 / alpha)
        out = op("add", op("log", op("div", d.scale, d.alpha)), op("add", 1.0, op("reciprocal", d.alpha)))
    elif cls == "Kumaraswamy":  # t0 + t1 * H0 - log(c1) - log(c0)
        t1 = op("sub", 1.0, op("reciprocal", d.concentration1))
        t0 = op("sub", 1.0, op("reciprocal", d.concentration0))
        h0 = op("add", fn("digamma", op("add", d.concentration0, 1.0)), EULER)
        out = op("sub", op("sub", op("add", t0, op("mul", t1, h0)), op("log", d.concentration1)),
                 op("log", d.concentration0))
    else:
        raise JacValueError(f"torch.distributions.{cls}.entropy: PyTorch raises NotImplementedError", position)
    return _checked(b, d, out, position)


def _kumaraswamy_moment(b, c1, c0, n: float, position):
    """PyTorch's _moments: c0 * exp(lgamma(1 + n / c1) + lgamma(c0) - lgamma(1 + n / c1 + c0))."""
    op, fn = _ops(b, position)
    arg1 = op("add", 1.0, op("div", n, c1))
    log_value = op("sub", op("add", fn("lgamma", arg1), fn("lgamma", c0)), fn("lgamma", op("add", arg1, c0)))
    return op("mul", c0, op("exp", log_value))


def moment34b(b, d: Distribution, name: str, position):
    op, fn = _ops(b, position)
    cls = d.cls
    if cls == "MixtureSameFamily":
        mix, comp = d.base
        ev = len(d.event)
        probs = mix.probs  # PyTorch's _pad_mixture_dimensions
        pad = 0 if len(mix.batch) == 1 else len(d.batch) - len(mix.batch)
        probs = b.apply("reshape", probs, shape=probs.shape[:-1] + (1,) * pad + probs.shape[-1:] + (1,) * ev,
                        position=position)
        mean = fn("sum", op("mul", probs, _moment(b, comp, "mean", position)), -1 - ev)
        if name == "mean":
            return _checked(b, mix, mean, position)
        cond_var = fn("sum", op("mul", probs, _moment(b, comp, "variance", position)), -1 - ev)
        spread = op("pow", op("sub", _moment(b, comp, "mean", position), _unsqueezed(b, mean, -1 - ev, position)),
                    2.0)
        var = op("add", cond_var, fn("sum", op("mul", probs, spread), -1 - ev))
        return _checked(b, mix, var if name == "variance" else op("sqrt", var), position)
    if cls == "OneHotCategorical":  # probs, probs * (1 - probs)
        var = op("mul", d.probs, op("sub", 1.0, d.probs))
        mean = d.probs
    elif cls == "LowRankMultivariateNormal":  # W.pow(2).sum(-1) + D
        mean = d.loc
        var = op("add", fn("sum", op("pow", d._unbroadcasted_cov_factor, 2.0), -1), d._unbroadcasted_cov_diag)
        var = _expanded_to(b, var, d.batch + d.event, position)
    elif cls == "Pareto":
        a = fn("clamp", d.alpha, 1.0)
        mean = op("div", op("mul", a, d.scale), op("sub", a, 1.0))
        a = fn("clamp", d.alpha, 2.0)
        var = op("div", op("mul", op("pow", d.scale, 2.0), a), op("mul", op("pow", op("sub", a, 1.0), 2.0),
                                                                   op("sub", a, 2.0)))
    elif cls == "Kumaraswamy":
        mean = _kumaraswamy_moment(b, d.concentration1, d.concentration0, 1.0, position)
        var = op("sub", _kumaraswamy_moment(b, d.concentration1, d.concentration0, 2.0, position),
                 op("pow", mean, 2.0))
    else:  # VonMises: loc; 1 - exp(log I1 - log I0)
        mean = d.loc
        var = op("sub", 1.0, op("exp", op("sub", _log_bessel(b, d.concentration, 1, position),
                                                _log_bessel(b, d.concentration, 0, position))))
    out = mean if name == "mean" else var if name == "variance" else op("sqrt", var)
    return _checked(b, d, out, position)


def cdf34b(b, d: Distribution, x, position, inverse: bool):
    op, fn = _ops(b, position)
    name = "icdf" if inverse else "cdf"
    if d.cls == "MixtureSameFamily" and not inverse:  # sum(component cdf of the value unsqueezed * probs, -1)
        mix, comp = d.base
        out = fn("sum", op("mul", _cdf(b, comp, _unsqueezed(b, x, -1 - len(d.event), position), position, False),
                           mix.probs), -1)
        return _checked(b, mix, out, position)
    if d.cls in ("Pareto", "Kumaraswamy"):
        return transformed_cdf(b, d, x, position, inverse)
    raise JacValueError(f"torch.distributions.{d.cls}.{name}: PyTorch raises NotImplementedError", position)


# TransformedDistribution's cdf / icdf (Gumbel, Weibull, Pareto, Kumaraswamy): the value through the transforms
# inverted, the base's cdf (its support checked, as PyTorch checks the base's only), then PyTorch's
# _monotonize_cdf (sign * (value - 0.5) + 0.5 where a transform's sign is a tensor); icdf the other way round.
# A transform: ("exp",), ("log",) (ExpTransform().inv), ("affine", loc, scale), ("power", exponent); the scale a
# Python number or a tracer, as PyTorch holds it (its sign an int or a tensor).

def _transforms(b, d: Distribution, position):
    """``d``'s base ((kind, params...)) and transforms, as its PyTorch constructor makes them."""
    op, _ = _ops(b, position)

    def full(value):
        return _fn(b, "broadcast_to", b.const(np.asarray(value, dtype=b.dtype), position), d.batch,
                   position=position)
    if d.cls == "Gumbel":
        finfo = np.finfo(b.dtype)
        return (("uniform", full(finfo.tiny), full(1 - finfo.eps)),
                [("log",), ("affine", 0.0, op("neg", full(1.0))), ("log",), ("affine", d.loc, op("neg", d.scale))])
    if d.cls == "Weibull":
        return ("exponential", full(1.0)), [("power", op("reciprocal", d.concentration)), ("affine", 0.0, d.scale)]
    if d.cls == "Pareto":
        return ("exponential", d.alpha), [("exp",), ("affine", 0.0, d.scale)]
    return (("uniform", full(0.0), full(1.0)),  # Kumaraswamy
            [("power", op("reciprocal", d.concentration0)), ("affine", 1.0, -1.0),
             ("power", op("reciprocal", d.concentration1))])


def _transform(b, t, x, position, inverse: bool):
    op, _ = _ops(b, position)
    kind = t[0]
    if kind in ("exp", "log"):
        return op("exp" if (kind == "exp") != inverse else "log", x)
    if kind == "affine":  # loc + scale * x; (y - loc) / scale
        return op("div", op("sub", x, t[1]), t[2]) if inverse else op("add", t[1], op("mul", t[2], x))
    return op("pow", x, op("div", 1.0, t[1]) if inverse else t[1])  # power


def _monotonized(b, transforms, value, position):
    op, _ = _ops(b, position)
    sign = 1
    for t in transforms:
        s = t[2] if t[0] == "affine" else t[1] if t[0] == "power" else 1
        if isinstance(s, Tracer):
            s = op("sign", s)
        elif t[0] == "affine":
            s = 1 if s > 0 else -1 if s < 0 else 0
        sign = op("mul", sign, s) if isinstance(sign, Tracer) or isinstance(s, Tracer) else sign * s
    if not isinstance(sign, Tracer) and sign == 1:
        return value
    return op("add", op("mul", sign, op("sub", value, 0.5)), 0.5)


def transformed_cdf(b, d: Distribution, x, position, inverse: bool):
    op, fn = _ops(b, position)
    (kind, *params), transforms = _transforms(b, d, position)
    if inverse:
        p = _monotonized(b, transforms, x, position)
        if kind == "uniform":  # value * (high - low) + low
            value = op("add", op("mul", p, op("sub", params[1], params[0])), params[0])
        else:  # -log1p(-value) / rate
            value = op("div", op("neg", op("log1p", op("neg", p))), params[0])
        for t in transforms:
            value = _transform(b, t, value, position, False)
        return _checked(b, d, value, position)
    value = x
    for t in reversed(transforms):
        value = _transform(b, t, value, position, True)
    zero = None
    if kind == "uniform":
        low, high = params
        if d.validate:  # the base Uniform's support, [low, high]
            inside = op("mul", op("le", low, value), op("le", value, high))
            zero = _check(b, _not(b, inside, position), _support_message("Uniform", "Interval(lower_bound=low, "
                          "upper_bound=high)").replace(".log_prob", ".cdf") + f" (the value through {d.cls}'s "
                          f"transforms inverted)", position)
        out = fn("clamp", op("div", op("sub", value, low), op("sub", high, low)), 0.0, 1.0)
    else:
        if d.validate:
            zero = _check(b, _not(b, op("ge", value, 0.0), position), _support_message(
                "Exponential", "GreaterThanEq(lower_bound=0.0)").replace(".log_prob", ".cdf")
                + f" (the value through {d.cls}'s transforms inverted)", position)
        out = op("sub", 1.0, op("exp", op("mul", op("neg", params[0]), value)))
    out = _monotonized(b, transforms, out, position)
    out = out if zero is None else op("sub", out, zero)
    return _checked(b, d, out, position)


def gamma_cdf(b, d: Distribution, x, position):
    """Gamma's and Chi2's cdf: gammainc(concentration, rate * value), the value checked (>= 0); its derivative by
    the concentration refused, as PyTorch's gammainc has none."""
    op, fn = _ops(b, position)
    out = _fn(b, "gammainc", d.concentration, op("mul", d.rate, x), position=position, library="torch.special")
    if d.validate:
        out = op("sub", out, _check(b, _not(b, op("ge", x, 0.0), position), _support_message(
            d.cls, "GreaterThanEq(lower_bound=0.0)").replace(".log_prob", ".cdf"), position))
    return _checked(b, d, out, position)


# --- kl_divergence of the other pairs torch.distributions.kl registers (session 34b) ---------------------------------
# each formula as kl.py writes it; `result[mask] = inf` a where. PyTorch looks a pair up by the classes' MRO: Chi2 is
# its Gamma, HalfNormal's and LogNormal's pairs are their base Normals' (_kl_halfnormal_halfnormal,
# _kl_transformed_transformed with equal transforms).

# the pairs whose divergence PyTorch gives as inf (q's support does not cover p's), by p's parameter of that shape
_KL_INFINITE = {("Normal", q): "loc" for q in ("Beta", "Exponential", "Gamma", "Pareto", "Uniform")}
_KL_INFINITE.update({("Laplace", q): "loc" for q in ("Beta", "Exponential", "Gamma", "Pareto", "Uniform")})
_KL_INFINITE.update({("Gumbel", q): "loc" for q in ("Beta", "Exponential", "Gamma", "Pareto", "Uniform")})
_KL_INFINITE.update({("Exponential", q): "rate" for q in ("Beta", "Pareto", "Uniform")})
_KL_INFINITE.update({("Gamma", q): "concentration" for q in ("Beta", "Pareto", "Uniform")})
_KL_INFINITE.update({("Pareto", q): "scale" for q in ("Beta", "Uniform")})
_KL_INFINITE.update({("Beta", "Pareto"): "concentration1", ("Poisson", "Bernoulli"): "rate",
                     ("Poisson", "Binomial"): "rate", ("ContinuousBernoulli", "Pareto"): "probs"})
_KL_INFINITE.update({(p, "ContinuousBernoulli"): param for p, param in (
    ("Exponential", "rate"), ("Gamma", "concentration"), ("Gumbel", "loc"), ("Laplace", "loc"), ("Normal", "loc"),
    ("Pareto", "scale"))})
_KL_SAME = ("Bernoulli", "Binomial", "Cauchy", "Dirichlet", "Geometric", "Gumbel", "HalfNormal", "Independent",
            "Laplace", "LogNormal", "OneHotCategorical", "Pareto", "LowRankMultivariateNormal", "ContinuousBernoulli")
_KL_MIXED = (("Normal", "Laplace"), ("Laplace", "Normal"), ("Normal", "Gumbel"), ("Gumbel", "Normal"),
             ("Beta", "Exponential"), ("Beta", "Gamma"), ("Beta", "Normal"), ("Beta", "Uniform"),
             ("Exponential", "Gamma"), ("Exponential", "Gumbel"), ("Exponential", "Normal"), ("Gamma", "Exponential"),
             ("Gamma", "Gumbel"), ("Gamma", "Normal"), ("Pareto", "Exponential"), ("Pareto", "Gamma"),
             ("Pareto", "Normal"), ("Uniform", "Beta"), ("Uniform", "Exponential"), ("Uniform", "Gamma"),
             ("Uniform", "Gumbel"), ("Uniform", "Normal"), ("Uniform", "Pareto"), ("Bernoulli", "Poisson"),
             ("ContinuousBernoulli", "Exponential"), ("ContinuousBernoulli", "Normal"),
             ("ContinuousBernoulli", "Uniform"), ("Beta", "ContinuousBernoulli"), ("Uniform", "ContinuousBernoulli"))
KL_READ = ("Normal, Categorical, MultivariateNormal, Exponential, Gamma (Chi2), Beta, Poisson, Uniform, "
           + ", ".join(_KL_SAME) + " with their own class; " + ", ".join(f"{p}–{q}" for p, q in _KL_MIXED)
           + ", MultivariateNormal–LowRankMultivariateNormal, LowRankMultivariateNormal–MultivariateNormal"
           + " and the pairs PyTorch gives as inf (Normal–Gamma, …)")


def kl34b(b, p: Distribution, q: Distribution, position):
    pc, qc = ("Gamma" if d.cls == "Chi2" else d.cls for d in (p, q))
    if pc in _TD_NEW or qc in _TD_NEW:
        return _kl_transformed(b, p, q, position)
    if pc == qc and pc in ("Gamma",) + _KL_PAIRS:
        return _simple_kl(b, p, q, position)
    if (pc, qc) in _KL_INFINITE:
        shape = p.params[_KL_INFINITE[(pc, qc)]].shape
        return b.const(np.full(shape, np.inf, dtype=b.dtype), position)
    if pc == qc and pc in _KL_SAME:
        return _kl_same(b, p, q, position)
    if (pc, qc) in _KL_MIXED:
        return _kl_mixed(b, pc, qc, p, q, position)
    if (pc, qc) == ("MultivariateNormal", "LowRankMultivariateNormal"):
        return _kl_mvn_lowrank(b, p, q, position)
    if (pc, qc) == ("LowRankMultivariateNormal", "MultivariateNormal"):
        return _kl_lowrank_mvn(b, p, q, position)
    why = "PyTorch registers it, jac does not read it" if (pc, qc) in _KL_PAIRS_ELSEWHERE else \
        _KL_WISHART if (pc, qc) == ("Wishart", "Wishart") else "PyTorch raises NotImplementedError"
    raise JacValueError(f"torch.distributions.kl_divergence({p.cls}, {q.cls}) is not read by jac ({why}); jac reads "
                        f"{KL_READ}", position)


# pairs PyTorch registers that jac does not read (the transformed ones whose transforms must be equal: Weibull,
# Kumaraswamy)
_KL_PAIRS_ELSEWHERE = (("Weibull", "Weibull"), ("Kumaraswamy", "Kumaraswamy"))
# PyTorch's Wishart–Wishart is its exponential-family Bregman divergence (_kl_expfamily_expfamily): computed by
# autograd of p's natural parameters detached, so its derivative by p's parameters is none, and with a batch it sums
# the df term's product over the batch axes (a batch of two gives values that are neither pair's, one negative)
_KL_WISHART = ("PyTorch computes it as an exponential family's Bregman divergence, by autograd of p's natural "
               "parameters detached: it has no derivative by p's parameters, and with a batch it sums the df term over "
               "the batch axes, giving values that are neither pair's; jac reads neither")


def _x_log_x(b, t, position):
    op, _ = _ops(b, position)
    return op("mul", t, op("log", t))


def _kl_same(b, p: Distribution, q: Distribution, position):
    op, fn = _ops(b, position)
    cls = p.cls
    if cls == "LogNormal":  # its base Normals' (the transforms, ExpTransform, equal)
        return _kl_normal(b, p.loc, p.scale, q.loc, q.scale, position)
    if cls == "HalfNormal":  # Normal(0, scale)'s
        return _kl_normal(b, 0.0, p.scale, 0.0, q.scale, position)
    if cls == "OneHotCategorical":
        return _kl_categorical(b, p, q, position)
    if cls == "ContinuousBernoulli":
        t1 = op("mul", _cb_mean(b, p, position), op("sub", p.logits, q.logits))
        t2 = op("add", _cb_log_norm(b, p, position), op("log1p", op("neg", p.probs)))
        t3 = op("sub", op("neg", _cb_log_norm(b, q, position)), op("log1p", op("neg", q.probs)))
        return op("add", op("add", t1, t2), t3)
    if cls == "Independent":
        (pb, pk), (qb, qk) = p.base, q.base
        if pk != qk:
            raise JacValueError("torch.distributions.kl_divergence(Independent, Independent): PyTorch raises "
                                "NotImplementedError (the reinterpreted_batch_ndims differ)", position)
        out = _kl_divergence(b, [pb, qb], {}, position)
        return fn("sum", out, tuple(range(-pk, 0))) if pk else out
    if cls == "Bernoulli":
        def softplus(x):
            return _fn(b, "softplus", x, position=position, library="torch")
        t1 = op("mul", p.probs, op("sub", softplus(op("neg", q.logits)), softplus(op("neg", p.logits))))
        t1 = op("where", op("eq", p.probs, 0.0), 0.0, op("where", op("eq", q.probs, 0.0), math.inf, t1))
        t2 = op("mul", op("sub", 1.0, p.probs), op("sub", softplus(q.logits), softplus(p.logits)))
        t2 = op("where", op("eq", p.probs, 1.0), 0.0, op("where", op("eq", q.probs, 1.0), math.inf, t2))
        return op("add", t1, t2)
    if cls == "Binomial":
        n, m = p.total_count, q.total_count
        refuse = _check(b, op("lt", n, m), "torch.distributions.kl_divergence(Binomial, Binomial): PyTorch raises "
                        "NotImplementedError: KL between Binomials where q.total_count > p.total_count is not "
                        "implemented", position)
        kl = op("mul", n, op("sub", op("add", op("mul", p.probs, op("sub", p.logits, q.logits)),
                                       op("log1p", op("neg", p.probs))), op("log1p", op("neg", q.probs))))
        return op("sub", op("where", op("gt", n, m), math.inf, kl), refuse)
    if cls == "Cauchy":  # log((ps + qs)^2 + (pl - ql)^2) - log(4 ps qs)
        t1 = op("log", op("add", op("pow", op("add", p.scale, q.scale), 2.0), op("pow", op("sub", p.loc, q.loc), 2.0)))
        return op("sub", t1, op("log", op("mul", op("mul", 4.0, p.scale), q.scale)))
    if cls == "Dirichlet":
        pcn, qcn = p.concentration, q.concentration
        sum_p, sum_q = fn("sum", pcn, -1), fn("sum", qcn, -1)
        t1 = op("sub", fn("lgamma", sum_p), fn("lgamma", sum_q))
        t2 = fn("sum", op("sub", fn("lgamma", pcn), fn("lgamma", qcn)), -1)
        t4 = op("sub", fn("digamma", pcn), _unsqueezed(b, fn("digamma", sum_p), -1, position))
        return op("add", op("sub", t1, t2), fn("sum", op("mul", op("sub", pcn, qcn), t4), -1))
    if cls == "Geometric":  # -p.entropy() - log1p(-q.probs) / p.probs - q.logits
        return op("sub", op("sub", op("neg", _entropy(b, p, position)), op("div", op("log1p", op("neg", q.probs)),
                                                                              p.probs)), q.logits)
    if cls == "Gumbel":
        ct1, ct2, ct3 = op("div", p.scale, q.scale), op("div", q.loc, q.scale), op("div", p.loc, q.scale)
        t1 = op("add", op("sub", op("neg", op("log", ct1)), ct2), ct3)
        t3 = op("exp", op("sub", op("add", ct2, fn("lgamma", op("add", 1.0, ct1))), ct3))
        return op("sub", op("add", op("add", t1, op("mul", ct1, EULER)), t3), 1 + EULER)
    if cls == "Laplace":
        ratio = op("div", p.scale, q.scale)
        diff = fn("abs", op("sub", p.loc, q.loc))
        out = op("add", op("neg", op("log", ratio)), op("div", diff, q.scale))
        return op("sub", op("add", out, op("mul", ratio, op("exp", op("div", op("neg", diff), p.scale)))), 1.0)
    if cls == "Pareto":
        ratio, alpha_ratio = op("div", p.scale, q.scale), op("div", q.alpha, p.alpha)
        out = op("add", op("mul", q.alpha, op("log", ratio)), op("neg", op("log", alpha_ratio)))
        out = op("sub", op("add", out, alpha_ratio), 1.0)
        return op("where", op("lt", p.scale, q.scale), math.inf, out)
    return _kl_lowrank(b, p, q, position)


def _kl_lowrank(b, p: Distribution, q: Distribution, position):
    """_kl_lowrankmultivariatenormal_lowrankmultivariatenormal: 0.5 (term1 + term2 + term3 - n), batches broadcast
    (session 35); inv(qcov) pcov = [inv(qD) - AᵀA] (pD + pW pWᵀ), A = L_q⁻¹ qWᵀ qD⁻¹."""
    op, fn = _ops(b, position)
    _same_event(p, q, "Low Rank Multivariate Normals", position)
    term1 = op("sub", _lowrank_logdet(b, q, position), _lowrank_logdet(b, p, position))
    term3 = _lowrank_mahalanobis(b, q, op("sub", q.loc, p.loc), position)
    a = _fn(b, "solve_triangular", q._capacitance_tril, q._wt_dinv, upper=False, position=position,
            library="torch.linalg")
    pw, pd, qd = p._unbroadcasted_cov_factor, p._unbroadcasted_cov_diag, q._unbroadcasted_cov_diag
    term21 = fn("sum", op("div", pd, qd), -1)
    term22 = _trace_xxt(b, op("mul", pw, _unsqueezed(b, fn("rsqrt", qd), -1, position)), position)
    term23 = _trace_xxt(b, op("mul", a, _unsqueezed(b, op("sqrt", pd), -2, position)), position)
    term24 = _trace_xxt(b, fn("matmul", a, pw), position)
    term2 = op("sub", op("sub", op("add", term21, term22), term23), term24)
    return op("mul", 0.5, op("sub", op("add", op("add", term1, term2), term3), float(p.event[0])))


def _same_event(p: Distribution, q: Distribution, what: str, position):
    if p.event != q.event:
        raise JacValueError(f"KL-divergence between two {what} with different event shapes cannot be computed "
                            f"(PyTorch raises)", position)


def _tril_logdet(b, tril, position):
    """2 Σ log diag(L): the log-determinant of L Lᵀ."""
    op, fn = _ops(b, position)
    return op("mul", 2.0, fn("sum", op("log", fn("diagonal", tril, dim1=-2, dim2=-1)), -1))


def _kl_mvn_lowrank(b, p: Distribution, q: Distribution, position):
    """_kl_multivariatenormal_lowrankmultivariatenormal: inv(qcov) pcov = [inv(qD) - AᵀA] L_p L_pᵀ (session 35)."""
    op, fn = _ops(b, position)
    _same_event(p, q, "Multivariate Normals", position)
    term1 = op("sub", _lowrank_logdet(b, q, position), _tril_logdet(b, p.scale_tril, position))
    term3 = _lowrank_mahalanobis(b, q, op("sub", q.loc, p.loc), position)
    a = _fn(b, "solve_triangular", q._capacitance_tril, q._wt_dinv, upper=False, position=position,
            library="torch.linalg")
    qd = q._unbroadcasted_cov_diag
    term21 = _trace_xxt(b, op("mul", p.scale_tril, _unsqueezed(b, fn("rsqrt", qd), -1, position)), position)
    term22 = _trace_xxt(b, fn("matmul", a, p.scale_tril), position)
    return op("mul", 0.5, op("sub", op("add", op("add", term1, op("sub", term21, term22)), term3),
                             float(p.event[0])))


def _kl_lowrank_mvn(b, p: Distribution, q: Distribution, position):
    """_kl_lowrankmultivariatenormal_multivariatenormal: inv(qcov) pcov = inv(L_q L_qᵀ) (pW pWᵀ + pD), the factors
    expanded to the batch of q's scale_tril and p's cov_factor, as PyTorch does (session 35)."""
    op, fn = _ops(b, position)
    _same_event(p, q, "Multivariate Normals", position)
    n, tril, pw, pd = p.event[0], q.scale_tril, p._unbroadcasted_cov_factor, p._unbroadcasted_cov_diag
    term1 = op("sub", _tril_logdet(b, tril, position), _lowrank_logdet(b, p, position))
    term3 = _mahalanobis(b, tril, op("sub", q.loc, p.loc), position)
    combined = broadcast(tril.shape[:-2], pw.shape[:-2])
    if broadcast(combined, pd.shape[:-1]) != combined:
        raise JacValueError(f"kl_divergence(LowRankMultivariateNormal, MultivariateNormal): PyTorch raises (it "
                            f"expands cov_diag of batch {fmt(pd.shape[:-1])} to the batch {fmt(combined)} of "
                            f"q's scale_tril and p's cov_factor)", position)
    q_tril = _expanded_to(b, tril, combined + (n, n), position)
    p_w = _expanded_to(b, pw, combined + (n, pw.shape[-1]), position)
    p_d = _expanded_to(b, fn("diag_embed", op("sqrt", pd)), combined + (n, n), position)

    def solved(x):
        return _fn(b, "solve_triangular", q_tril, x, upper=False, position=position, library="torch.linalg")
    term2 = op("add", _trace_xxt(b, solved(p_w), position), _trace_xxt(b, solved(p_d), position))
    return op("mul", 0.5, op("sub", op("add", op("add", term1, term2), term3), float(n)))


def _kl_mixed(b, pc: str, qc: str, p: Distribution, q: Distribution, position):
    op, fn = _ops(b, position)

    def lg(x):
        return fn("lgamma", x)
    pair = (pc, qc)
    if "ContinuousBernoulli" in pair:
        return _kl_continuous_bernoulli(b, pc, qc, p, q, position)
    if pair == ("Normal", "Laplace"):
        loc_diff, ratio = op("sub", p.loc, q.loc), op("div", p.scale, q.scale)
        lds = op("div", loc_diff, p.scale)
        t2 = op("mul", op("mul", math.sqrt(2 / math.pi), p.scale), op("exp", op("mul", -0.5, op("pow", lds, 2.0))))
        t3 = op("mul", loc_diff, fn("erf", op("mul", math.sqrt(0.5), lds)))
        return op("sub", op("add", op("neg", op("log", ratio)), op("div", op("add", t2, t3), q.scale)),
                  0.5 * (1 + math.log(0.5 * math.pi)))
    if pair == ("Laplace", "Normal"):
        var = op("pow", q.scale, 2.0)
        ratio = op("div", op("pow", p.scale, 2.0), var)
        t1 = op("mul", 0.5, op("log", op("div", op("mul", 2.0, ratio), math.pi)))
        inner = op("add", op("sub", op("mul", 0.5, op("pow", p.loc, 2.0)), op("mul", p.loc, q.loc)),
                   op("mul", 0.5, op("pow", q.loc, 2.0)))
        return op("sub", op("add", op("add", op("neg", t1), ratio), op("div", inner, var)), 1.0)
    if pair == ("Normal", "Gumbel"):
        msr, vsr = op("div", p.loc, q.scale), op("pow", op("div", p.scale, q.scale), 2.0)
        lsr = op("div", q.loc, q.scale)
        t1 = op("mul", op("log", vsr), 0.5)
        t3 = op("exp", op("add", op("add", op("neg", msr), op("mul", 0.5, vsr)), lsr))
        out = op("add", op("add", op("neg", t1), op("sub", msr, lsr)), t3)
        return op("sub", out, 0.5 * (1 + math.log(2 * math.pi)))
    if pair == ("Gumbel", "Normal"):
        ratio = op("div", p.scale, q.scale)
        t1 = op("log", op("div", ratio, math.sqrt(2 * math.pi)))
        t2 = op("div", op("pow", op("mul", op("mul", math.pi, ratio), 0.5), 2.0), 3.0)
        t3 = op("mul", op("pow", op("div", op("sub", op("add", p.loc, op("mul", p.scale, EULER)), q.loc), q.scale),
                          2.0), 0.5)
        return op("sub", op("add", op("add", op("neg", t1), t2), t3), EULER + 1)
    if pc == "Beta":
        c1, c0 = p.concentration1, p.concentration0
        neg_h = op("neg", _entropy(b, p, position))
        if qc == "Exponential":
            return op("add", op("sub", neg_h, op("log", q.rate)), op("mul", q.rate, op("div", c1, op("add", c1, c0))))
        if qc == "Gamma":
            t2 = op("sub", lg(q.concentration), op("mul", q.concentration, op("log", q.rate)))
            t3 = op("mul", op("sub", q.concentration, 1.0),
                    op("sub", fn("digamma", c1), fn("digamma", op("add", c1, c0))))
            t4 = op("div", op("mul", q.rate, c1), op("add", c1, c0))
            return op("add", op("sub", op("add", neg_h, t2), t3), t4)
        if qc == "Normal":
            e = op("div", c1, op("add", c1, c0))
            var = op("pow", q.scale, 2.0)
            t2 = op("mul", 0.5, op("log", op("mul", op("mul", var, 2.0), math.pi)))
            t3 = op("mul", op("add", op("div", op("mul", e, op("sub", 1.0, e)), op("add", op("add", c1, c0), 1.0)),
                              op("pow", e, 2.0)), 0.5)
            inner = op("add", op("sub", t3, op("mul", q.loc, e)), op("mul", op("pow", q.loc, 2.0), 0.5))
            return op("add", op("add", neg_h, t2), op("div", inner, var))
        out = op("add", neg_h, op("log", op("sub", q.high, q.low)))  # Uniform
        return op("where", op("add", op("gt", q.low, 0.0), op("lt", q.high, 1.0)), math.inf, out)
    if pc == "Exponential":
        if qc == "Gamma":
            ratio = op("div", q.rate, p.rate)
            out = op("add", op("mul", op("neg", q.concentration), op("log", ratio)), ratio)
            out = op("add", op("add", out, lg(q.concentration)), op("mul", q.concentration, EULER))
            return op("sub", out, 1 + EULER)
        if qc == "Gumbel":
            prod, lsr = op("mul", p.rate, q.scale), op("div", q.loc, q.scale)
            t1 = op("sub", op("log", prod), 1.0)
            t2 = op("div", op("mul", op("exp", lsr), prod), op("add", prod, 1.0))
            return op("add", op("add", op("sub", t1, lsr), t2), op("reciprocal", prod))
        var, rate_sqr = op("pow", q.scale, 2.0), op("pow", p.rate, 2.0)  # Normal
        t1 = op("mul", 0.5, op("log", op("mul", op("mul", op("mul", rate_sqr, var), 2.0), math.pi)))
        inner = op("add", op("sub", op("reciprocal", rate_sqr), op("div", q.loc, p.rate)),
                   op("mul", op("pow", q.loc, 2.0), 0.5))
        return op("add", op("sub", t1, 1.0), op("div", inner, var))
    if pc == "Gamma":
        c = p.concentration
        if qc == "Exponential":
            return op("add", op("sub", op("neg", _entropy(b, p, position)), op("log", q.rate)),
                      op("div", op("mul", q.rate, c), p.rate))
        if qc == "Gumbel":
            prod, lsr = op("mul", p.rate, q.scale), op("div", q.loc, q.scale)
            t1 = op("sub", op("sub", op("mul", op("sub", c, 1.0), fn("digamma", c)), lg(c)), c)
            t2 = op("add", op("log", prod), op("div", c, prod))
            t3 = op("sub", op("mul", op("exp", lsr), op("pow", op("add", 1.0, op("reciprocal", prod)), op("neg", c))),
                    lsr)
            return op("add", op("add", t1, t2), t3)
        var, beta_sqr = op("pow", q.scale, 2.0), op("pow", p.rate, 2.0)  # Normal
        t1 = op("sub", op("sub", op("mul", 0.5, op("log", op("mul", op("mul", op("mul", beta_sqr, var), 2.0),
                                                                   math.pi))), c), lg(c))
        t2 = op("div", op("mul", 0.5, op("add", op("pow", c, 2.0), c)), beta_sqr)
        t3 = op("div", op("mul", q.loc, c), p.rate)
        t4 = op("mul", 0.5, op("pow", q.loc, 2.0))
        return op("add", op("add", t1, op("mul", op("sub", c, 1.0), fn("digamma", c))),
                  op("div", op("add", op("sub", t2, t3), t4), var))
    if pc == "Pareto":
        alpha, scale = p.alpha, p.scale
        if qc == "Exponential":
            prod = op("mul", scale, q.rate)
            out = op("sub", op("log", op("div", alpha, prod)), op("reciprocal", alpha))
            out = op("sub", op("add", out, op("div", op("mul", alpha, prod), op("sub", alpha, 1.0))), 1.0)
            return op("where", op("le", alpha, 1.0), math.inf, out)
        if qc == "Gamma":
            common = op("add", op("log", scale), op("reciprocal", alpha))
            t1 = op("sub", op("log", alpha), common)
            t2 = op("sub", lg(q.concentration), op("mul", q.concentration, op("log", q.rate)))
            t3 = op("mul", op("sub", 1.0, q.concentration), common)
            t4 = op("div", op("mul", op("mul", q.rate, alpha), scale), op("sub", alpha, 1.0))
            out = op("sub", op("add", op("add", op("add", t1, t2), t3), t4), 1.0)
            return op("where", op("le", alpha, 1.0), math.inf, out)
        var = op("mul", 2.0, op("pow", q.scale, 2.0))  # Normal
        common = op("div", scale, op("sub", alpha, 1.0))
        t1 = op("log", op("div", op("mul", op("mul", math.sqrt(2 * math.pi), q.scale), alpha), scale))
        t3 = op("div", op("mul", alpha, op("pow", common, 2.0)), op("sub", alpha, 2.0))
        t4 = op("pow", op("sub", op("mul", alpha, common), q.loc), 2.0)
        out = op("sub", op("add", op("sub", t1, op("reciprocal", alpha)), op("div", op("add", t3, t4), var)), 1.0)
        return op("where", op("le", alpha, 2.0), math.inf, out)
    if pc == "Uniform":
        high, low = p.high, p.low
        width = op("sub", high, low)
        if qc == "Beta":
            t1 = op("log", width)
            t2 = op("div", op("mul", op("sub", q.concentration1, 1.0), op("sub", op("sub", _x_log_x(b, high, position),
                                                                                 _x_log_x(b, low, position)), width)),
                    width)
            t3 = op("div", op("mul", op("sub", q.concentration0, 1.0), op("add", op("sub", _x_log_x(
                b, op("sub", 1.0, high), position), _x_log_x(b, op("sub", 1.0, low), position)), width)), width)
            t4 = op("sub", op("add", lg(q.concentration1), lg(q.concentration0)),
                    lg(op("add", q.concentration1, q.concentration0)))
            out = op("sub", op("sub", op("add", t3, t4), t1), t2)
            return op("where", op("add", op("gt", high, 1.0), op("lt", low, 0.0)), math.inf, out)
        if qc == "Exponential":
            out = op("sub", op("div", op("mul", q.rate, op("add", high, low)), 2.0),
                     op("log", op("mul", width, q.rate)))
            return op("where", op("lt", low, 0.0), math.inf, out)
        if qc == "Gamma":
            t2 = op("sub", lg(q.concentration), op("mul", q.concentration, op("log", q.rate)))
            t3 = op("div", op("mul", op("sub", 1.0, q.concentration), op("sub", op("sub", _x_log_x(b, high, position),
                                                                                   _x_log_x(b, low, position)), width)),
                    width)
            t4 = op("div", op("mul", q.rate, op("add", high, low)), 2.0)
            out = op("add", op("add", op("add", op("neg", op("log", width)), t2), t3), t4)
            return op("where", op("lt", low, 0.0), math.inf, out)
        if qc == "Gumbel":
            common = op("div", q.scale, width)
            hd, ld = op("div", op("sub", high, q.loc), q.scale), op("div", op("sub", low, q.loc), q.scale)
            t1 = op("add", op("log", common), op("mul", 0.5, op("add", hd, ld)))
            t2 = op("mul", common, op("sub", op("exp", op("neg", hd)), op("exp", op("neg", ld))))
            return op("sub", t1, t2)
        if qc == "Normal":
            t1 = op("log", op("div", op("mul", math.sqrt(math.pi * 2), q.scale), width))
            t2 = op("div", op("pow", width, 2.0), 12.0)
            t3 = op("pow", op("div", op("sub", op("add", high, low), op("mul", 2.0, q.loc)), 2.0), 2.0)
            return op("add", t1, op("div", op("mul", 0.5, op("add", t2, t3)), op("pow", q.scale, 2.0)))
        t1 = op("log", op("mul", op("mul", q.alpha, op("pow", q.scale, q.alpha)), width))  # Pareto
        t2 = op("div", op("sub", op("sub", _x_log_x(b, high, position), _x_log_x(b, low, position)), width), width)
        out = op("sub", op("mul", t2, op("add", q.alpha, 1.0)), t1)
        return op("where", op("lt", low, q.scale), math.inf, out)
    # Bernoulli–Poisson: -p.entropy() - (p.probs * q.rate.log() - q.rate)
    return op("sub", op("neg", _entropy(b, p, position)), op("sub", op("mul", p.probs, op("log", q.rate)), q.rate))


def _kl_continuous_bernoulli(b, pc: str, qc: str, p: Distribution, q: Distribution, position):
    """kl.py's pairs of a ContinuousBernoulli with Exponential, Normal, Uniform, Beta."""
    op, _ = _ops(b, position)
    neg_h = op("neg", _entropy(b, p, position))
    if pc == "ContinuousBernoulli":
        mean = _cb_mean(b, p, position)
        if qc == "Exponential":  # -p.entropy() - log(q.rate) + q.rate * p.mean
            return op("add", op("sub", neg_h, op("log", q.rate)), op("mul", q.rate, mean))
        if qc == "Normal":
            t2 = op("add", op("mul", 0.5, op("add", math.log(2.0 * math.pi),
                                             op("pow", op("div", q.loc, q.scale), 2.0))),
                    op("log", q.scale))
            t3 = op("div", op("sub", op("add", _moment(b, p, "variance", position), op("pow", mean, 2.0)),
                              op("mul", op("mul", 2.0, q.loc), mean)), op("mul", 2.0, op("pow", q.scale, 2.0)))
            return op("add", op("add", neg_h, t2), t3)
        out = op("add", neg_h, op("log", op("sub", q.high, q.low)))  # Uniform: inf where low >= 0 or high <= 1
        return op("where", op("add", op("ge", q.low, 0.0), op("le", q.high, 1.0)), math.inf, out)
    # Beta / Uniform against a ContinuousBernoulli: -p.entropy() - p.mean * q.logits - log1p(-q.probs) - log_norm
    out = op("sub", op("sub", op("sub", neg_h, op("mul", _moment(b, p, "mean", position), q.logits)),
                       op("log1p", op("neg", q.probs))), _cb_log_norm(b, q, position))
    if pc == "Beta":
        return out
    return op("where", op("add", op("ge", p.high, 1.0), op("le", p.low, 0.0)), math.inf, out)


# --- ContinuousBernoulli, RelaxedBernoulli, RelaxedOneHotCategorical (session 34b) -----------------------------------

_CB_LIMS = (0.499, 0.501)


@variant(TORCH, "ContinuousBernoulli")
def _continuous_bernoulli(b, args, kwargs, position):
    """torch.distributions.ContinuousBernoulli(probs=None, logits=None, lims=(0.499, 0.501)): probs clamped to
    [eps, 1 - eps] as PyTorch holds them (checked against [0, 1] before only where validate_args is given, as
    PyTorch), its Taylor expansions inside lims."""
    cls = "ContinuousBernoulli"
    a = arguments(cls, args, kwargs, {"probs": None, "logits": None, "lims": None, "validate_args": None}, position)
    given = static(b, a["validate_args"], "validate_args", position)
    validate = _validate(b, a, position)
    if a["lims"] is not None and tuple(static(b, a["lims"], "lims", position)) != _CB_LIMS:
        raise JacValueError(f"torch.distributions.{cls}: jac reads the default lims {_CB_LIMS}", position)
    probs, logits, which = _binary_logits(b, a, cls, position, validate)
    op, fn = _ops(b, position)
    checks = []
    if which == "probs":
        if given is not None:  # PyTorch: "The parameter probs has invalid values", whatever validate_args is
            inside = op("mul", op("ge", probs, 0.0), op("le", probs, 1.0))
            checks.append(_check(b, _not(b, inside, position), f"torch.distributions.{cls}: PyTorch raises: The "
                                 "parameter probs has invalid values", position))
        probs = _clamped(b, probs, position)
        if validate:
            checks.append(_check(b, op("ne", probs, probs), _param_message(cls, "probs", _UNIT), position))
        logits = _from_probs(b, probs, position)
    else:
        if validate:
            checks.append(_check(b, op("ne", logits, logits), _param_message(cls, "logits", _REAL), position))
        probs = _clamped(b, op("sigmoid", logits), position)
    return Distribution(cls, {"probs": probs, "logits": logits}, probs.shape, (), _both(b, checks, position), validate)


def _cb_parts(b, d: Distribution, position):
    """(outside the unstable region, the cut probs)."""
    op, _ = _ops(b, position)
    outside = op("add", op("le", d.probs, _CB_LIMS[0]), op("gt", d.probs, _CB_LIMS[1]))
    return outside, op("where", outside, d.probs, _CB_LIMS[0])


def _cb_log_norm(b, d: Distribution, position):
    op, _ = _ops(b, position)
    outside, cut = _cb_parts(b, d, position)
    below = op("where", op("le", cut, 0.5), cut, 0.0)
    above = op("where", op("ge", cut, 0.5), cut, 1.0)
    log_norm = op("sub", op("log", _fn(b, "abs", op("sub", op("log1p", op("neg", cut)), op("log", cut)),
                                        position=position)),
                  op("where", op("le", cut, 0.5), op("log1p", op("mul", -2.0, below)),
                     op("log", op("sub", op("mul", 2.0, above), 1.0))))
    x = op("pow", op("sub", d.probs, 0.5), 2.0)
    taylor = op("add", math.log(2.0), op("mul", op("add", 4.0 / 3.0, op("mul", 104.0 / 45.0, x)), x))
    return op("where", outside, log_norm, taylor)


def _cb_mean(b, d: Distribution, position):
    op, _ = _ops(b, position)
    outside, cut = _cb_parts(b, d, position)
    mus = op("add", op("div", cut, op("sub", op("mul", 2.0, cut), 1.0)),
             op("div", 1.0, op("sub", op("log1p", op("neg", cut)), op("log", cut))))
    x = op("sub", d.probs, 0.5)
    taylor = op("add", 0.5, op("mul", op("add", 1.0 / 3.0, op("mul", 16.0 / 45.0, op("pow", x, 2.0))), x))
    return op("where", outside, mus, taylor)


def relaxed_or_cb(b, d: Distribution, name: str, x, position):
    """log_prob / entropy / mean / variance / cdf / icdf of ContinuousBernoulli, log_prob of the relaxed ones."""
    op, fn = _ops(b, position)
    cls = d.cls
    zero = None
    if cls == "ContinuousBernoulli":
        outside, cut = _cb_parts(b, d, position)
        if name in ("log_prob", "cdf") and d.validate:
            inside = op("mul", op("ge", x, 0.0), op("le", x, 1.0))
            zero = _check(b, _not(b, inside, position), _support_message(cls, _UNIT).replace(
                ".log_prob", f".{name}"), position)
        if name == "log_prob":
            logits, x = _broadcast_all(b, [d.logits, x], f"{cls}.log_prob", position)
            out = op("add", op("neg", fn("binary_cross_entropy_with_logits", logits, x, reduction="none")),
                     _cb_log_norm(b, d, position))
        elif name == "cdf":
            cdfs = op("div", op("sub", op("add", op("mul", op("pow", cut, x), op("pow", op("sub", 1.0, cut),
                                                                                   op("sub", 1.0, x))), cut), 1.0),
                      op("sub", op("mul", 2.0, cut), 1.0))
            out = op("where", op("le", x, 0.0), 0.0, op("where", op("ge", x, 1.0), 1.0,
                                                         op("where", outside, cdfs, x)))
        elif name == "icdf":
            num = op("sub", op("log1p", op("add", op("neg", cut), op("mul", x, op("sub", op("mul", 2.0, cut), 1.0)))),
                     op("log1p", op("neg", cut)))
            out = op("where", outside, op("div", num, op("sub", op("log", cut), op("log1p", op("neg", cut)))), x)
        elif name == "entropy":
            lp0, lp1 = op("log1p", op("neg", d.probs)), op("log", d.probs)
            out = op("sub", op("sub", op("mul", _cb_mean(b, d, position), op("sub", lp0, lp1)),
                               _cb_log_norm(b, d, position)), lp0)
        elif name == "mean":
            out = _cb_mean(b, d, position)
        else:  # variance, stddev
            denominator = op("pow", op("sub", 1.0, op("mul", 2.0, cut)), 2.0)
            var = op("add", op("div", op("mul", cut, op("sub", cut, 1.0)), denominator),
                     op("div", 1.0, op("pow", op("sub", op("log1p", op("neg", cut)), op("log", cut)), 2.0)))
            xx = op("pow", op("sub", d.probs, 0.5), 2.0)
            taylor = op("sub", 1.0 / 12.0, op("mul", op("sub", 1.0 / 15.0, op("mul", 128.0 / 945.0, xx)), xx))
            out = op("where", outside, var, taylor)
            out = out if name == "variance" else op("sqrt", out)
    elif name != "log_prob":
        raise JacValueError(f"torch.distributions.{cls}.{name} is not read by jac (it reads {cls}'s log_prob)",
                            position)
    elif cls == "RelaxedBernoulli":  # SigmoidTransform inverted, then LogitRelaxedBernoulli's log_prob
        if d.validate:
            inside = op("mul", op("ge", x, 0.0), op("le", x, 1.0))
            zero = _check(b, _not(b, inside, position), _support_message(cls, _UNIT), position)
        finfo = np.finfo(b.dtype)
        y = fn("clamp", x, float(finfo.tiny), float(1.0 - finfo.eps))
        t = op("sub", op("log", y), op("log1p", op("neg", y)))

        def softplus(v):
            return _fn(b, "softplus", v, position=position, library="torch")
        out = op("sub", 0.0, op("sub", op("neg", softplus(op("neg", t))), softplus(t)))
        logits, t = _broadcast_all(b, [d.logits, t], f"{cls}.log_prob", position)
        diff = op("sub", logits, op("mul", t, d.temperature))
        out = op("add", out, op("sub", op("add", op("log", d.temperature), diff),
                                op("mul", 2.0, op("log1p", op("exp", diff)))))
    else:  # RelaxedOneHotCategorical: ExpTransform inverted (log |det| summed over the event), ExpRelaxedCategorical
        k = d.event[0]
        if not x.ndim or x.shape[-1] != k:
            raise JacValueError(f"{cls}.log_prob: the value's last axis must be the event's, {k}; got shape "
                                f"{fmt(x.shape)}", position)
        if d.validate:
            mask, _ = _outside34(b, Distribution("Dirichlet", {}, (), ()), x, position)
            zero = _check(b, mask, _support_message(cls, "Simplex()"), position)
        t = op("log", x)
        out = op("sub", 0.0, fn("sum", t, -1))
        logits, t = _broadcast_all(b, [d.logits, t], f"{cls}.log_prob", position)
        temp = d.temperature
        log_scale = op("sub", fn("lgamma", fn("broadcast_to", b.const(np.asarray(float(k), dtype=b.dtype), position),
                                              temp.shape)), op("mul", op("log", temp), float(-(k - 1))))
        score = op("sub", logits, op("mul", t, _unsqueezed(b, temp, -1, position) if temp.ndim else temp))
        score = fn("sum", log_softmax_of(b, score, (score.ndim - 1,), position), -1)  # session 49: shifted
        out = op("add", out, op("add", score, log_scale))
    out = out if zero is None else op("sub", out, zero)
    return _checked(b, d, out, position)


@variant(TORCH, "RelaxedBernoulli")
def _relaxed_bernoulli(b, args, kwargs, position):
    """torch.distributions.RelaxedBernoulli(temperature, probs=None, logits=None): log_prob through its
    SigmoidTransform and LogitRelaxedBernoulli's, as PyTorch."""
    cls = "RelaxedBernoulli"
    a = arguments(cls, args, kwargs, {"temperature": REQUIRED, "probs": None, "logits": None, "validate_args": None},
                  position)
    validate = _validate(b, a, position)
    temp = tensor(b, b.lift(a["temperature"]) if not isinstance(a["temperature"], Tracer) else a["temperature"], cls,
                  position)
    probs, logits, which = _binary_logits(b, a, cls, position, validate)
    op, _ = _ops(b, position)
    checks = []  # the base LogitRelaxedBernoulli's, made with the default checks
    if which == "probs":
        checks.append(_unit_check(b, cls, probs, position))
        logits = _from_probs(b, probs, position)
    else:
        checks.append(_check(b, op("ne", logits, logits), _param_message(cls, "logits", _REAL), position))
        probs = op("sigmoid", logits)
    return Distribution(cls, {"temperature": temp, "probs": probs, "logits": logits}, logits.shape, (),
                        _both(b, checks, position), validate)


@variant(TORCH, "RelaxedOneHotCategorical")
def _relaxed_one_hot(b, args, kwargs, position):
    """torch.distributions.RelaxedOneHotCategorical(temperature, probs=None, logits=None): log_prob through its
    ExpTransform and ExpRelaxedCategorical's, the Categorical made as PyTorch makes it."""
    cls = "RelaxedOneHotCategorical"
    a = arguments(cls, args, kwargs, {"temperature": REQUIRED, "probs": None, "logits": None, "validate_args": None},
                  position)
    validate = _validate(b, a, position)
    temp = tensor(b, b.lift(a["temperature"]) if not isinstance(a["temperature"], Tracer) else a["temperature"], cls,
                  position)
    cat = _categorical(b, [], {k: a[k] for k in ("probs", "logits") if a[k] is not None}, position)
    return Distribution(cls, {"temperature": temp, **cat.params}, cat.batch, (cat.logits.shape[-1],), cat.zero,
                        validate)


MORE_C = ("ContinuousBernoulli", "RelaxedBernoulli", "RelaxedOneHotCategorical")


# --- scipy.stats / jax.scipy.stats: tails, inverses and the discrete cdfs (session 34b) -----------------------------
# SciPy's rv_continuous.sf / logsf / logcdf / ppf / isf and rv_discrete.cdf / sf / logcdf around its `_sf` ... of
# the standard distribution (the default `_logcdf` log(_cdf), `_logsf` log(_sf)), with its placement of NaN (argcheck,
# scale <= 0, a NaN point), the edge values (1 / 0 at the support's ends, the support's bounds for q = 0, 1) and the
# formula inside; the formula is given a point inside the support where it is not chosen (its derivative there 0).

_INNER = {(0.0, math.inf): 1.0, (0.0, 1.0): 0.5, (-math.inf, math.inf): 0.0}


def _scipy_standard_tail(b, dist: str, name: str, y, s: dict, position):
    """SciPy's ``_sf`` / ``_logsf`` / ``_logcdf`` / ``_ppf`` / ``_isf`` / ``_cdf`` of the standard distribution."""
    op, fn = _ops(b, position)

    def sp(fname, *args):
        return _fn(b, fname, *args, position=position, library="scipy")
    if name == "logsf" and dist == "expon":
        return op("neg", y)
    if name in ("logcdf", "logsf"):  # the default: log of _cdf / _sf (logistic: log_expit)
        return op("log", _scipy_standard_tail(b, dist, name[3:], y, s, position))
    if dist == "expon":  # _cdf -expm1(-x), _sf exp(-x), _ppf -log1p(-q)
        return op("neg", op("expm1", op("neg", y))) if name == "cdf" else op("exp", op("neg", y)) if name == "sf" \
            else op("neg", op("log1p", op("neg", y)))
    if dist == "logistic":  # _sf expit(-x), _ppf logit(q), _isf -logit(q)
        if name == "sf":
            return sp("expit", op("neg", y))
        return sp("logit", y) if name == "ppf" else op("neg", sp("logit", y))
    if dist == "uniform":  # _ppf(q) = q
        return y
    if dist == "cauchy":  # _sf arctan2(1, x) / pi; _cdf arctan2(1, -x) / pi; boost's quantiles
        if name in ("sf", "cdf"):
            return op("div", fn("arctan2", 1.0, y if name == "sf" else op("neg", y), library="numpy"), math.pi)
        return _cauchy_quantile(b, y, name == "isf", position)
    if dist == "gamma":
        return sp("gammaincc" if name == "sf" else "gammainc", s["a"], y)
    if dist == "beta":
        return sp("betaincc" if name == "sf" else "betainc", s["a"], s["b"], y)
    if dist == "chi2":
        return sp("chdtrc" if name == "sf" else "chdtr", s["df"], y)
    k = op("floor", y)  # the discrete ones
    if dist in ("bernoulli", "binom"):
        return sp("bdtrc" if name == "sf" else "bdtr", k, s["n"] if dist == "binom" else 1.0, s["p"])
    if dist == "poisson":
        return sp("pdtrc" if name == "sf" else "pdtr", k, s["mu"])
    log1mp = op("log1p", op("neg", s["p"]))  # geom: -expm1(log1p(-p) k); exp(k log1p(-p))
    return op("exp", op("mul", k, log1mp)) if name == "sf" else op("neg", op("expm1", op("mul", log1mp, k)))


def _cauchy_quantile(b, q, upper: bool, position):
    """Boost's cauchy quantile as SciPy calls it (_cauchy_ppf / _cauchy_isf with loc 0, scale 1): the smaller tail
    P = min(q, 1 - q) read as -1 / tan(pi P), the sign by the side (0 at 1/2)."""
    op, _ = _ops(b, position)
    p = op("sub", 1.0, q) if upper else q
    small = op("le", p, 0.5)
    tail = op("where", small, p, op("sub", 1.0, p))
    out = op("div", -1.0, op("tan", op("mul", math.pi, tail)))
    out = op("where", small, out, op("neg", out))
    return op("where", op("eq", p, 0.5), op("mul", op("sub", p, 0.5), math.pi), out)  # 0 there, its slope pi


def scipy_tail(b, dist: str, name: str, x, s: dict, loc, scale, position):
    op, _ = _ops(b, position)
    ok = _scipy_argcheck(b, dist, s, position)
    lo, hi = _SCIPY_SUPPORTS.get(dist, (0.0, None))
    if dist in DISCRETE:
        if name in ("ppf", "isf"):
            return _scipy_discrete_quantile(b, dist, name, x, s, loc, ok, position)
        return _scipy_discrete_tail(b, dist, name, op("sub", x, loc), s, ok, position)
    inner = _INNER[(lo, hi)]
    if name in ("ppf", "isf"):
        q = x
        cond0 = op("mul", op("mul", ok, op("gt", scale, 0.0)), op("eq", loc, loc))
        cond = op("mul", cond0, op("mul", op("gt", q, 0.0), op("lt", q, 1.0)))
        safe = op("where", cond, q, 0.5)
        out = op("add", op("mul", _scipy_standard_tail(b, dist, name, safe, _safe_shapes(b, s, cond, position),
                                                       position), scale), loc)
        lower = op("add", op("mul", lo, scale), loc) if lo > -math.inf else -math.inf
        upper = op("add", op("mul", hi, scale), loc) if hi < math.inf else math.inf
        first, last = (lower, upper) if name == "ppf" else (upper, lower)
        edges = op("where", op("mul", cond0, op("eq", q, 0.0)), first,
                   op("where", op("mul", cond0, op("eq", q, 1.0)), last, math.nan))
        return op("where", cond, out, edges)
    y = op("div", op("sub", x, loc), scale)
    cond0 = op("mul", ok, op("gt", scale, 0.0))
    open_support = op("mul", op("gt", y, lo), op("lt", y, hi))
    cond = op("mul", cond0, op("mul", open_support, op("gt", scale, 0.0)))
    safe = op("where", cond, y, inner)
    out = _scipy_standard_tail(b, dist, name, safe, _safe_shapes(b, s, cond, position), position)
    if name == "logcdf":
        edge, default = op("mul", cond0, op("ge", y, hi)), -math.inf
    else:
        edge, default = op("mul", cond0, op("le", y, lo)), 0.0 if name == "sf" else -math.inf
    out = op("where", cond, out, op("where", edge, 1.0 if name == "sf" else 0.0, default))
    return op("where", op("add", _not(b, cond0, position), op("ne", y, y)), math.nan, out)


def _safe_shapes(b, s: dict, cond, position):
    """The shape parameters where ``cond`` holds, 1 elsewhere (the formula's value there is not chosen)."""
    return {k: b.apply("where", cond, v, 1.0, position=position) if k not in ("n",) else v for k, v in s.items()}


def _scipy_discrete_tail(b, dist: str, name: str, k, s: dict, ok, position):
    """rv_discrete.cdf / sf / logcdf of k - loc."""
    op, fn = _ops(b, position)
    lo, hi = _SCIPY_SUPPORTS.get(dist, (0.0, None))
    hi = s["n"] if dist == "binom" else hi
    inside = op("mul", op("ge", k, lo), op("lt", k, hi))
    finite = op("eq", fn("abs", k), fn("abs", k)) if name == "logcdf" else op("lt", fn("abs", k), math.inf)
    cond = op("mul", op("mul", ok, inside), finite)
    safe = op("where", cond, k, float(lo))
    shapes = {key: (op("where", cond, v, 0.5) if key == "p" else op("where", cond, v, 1.0) if key == "mu" else v)
              for key, v in s.items()}
    value = _scipy_standard_tail(b, dist, "cdf" if name == "logcdf" else name, safe, shapes, position)
    if name == "logcdf":
        value = op("log", value)
    else:
        value = fn("clip", value, 0.0, 1.0, library="numpy")
    bad = op("add", _not(b, ok, position), op("ne", k, k))
    if name == "cdf":
        out = op("where", bad, math.nan, op("where", op("ge", k, hi), 1.0, 0.0))
    elif name == "sf":
        out = op("where", op("mul", ok, op("lt", k, lo)), 1.0, op("where", bad, math.nan, 0.0))
    else:  # logcdf: NaN placed first, then 0 from the support's end on, whatever the argcheck said (SciPy's order)
        out = op("where", op("ge", k, hi), 0.0, op("where", bad, math.nan, -math.inf))
    return op("where", cond, value, out)


# the value each shape parameter is given where rv_discrete does not call _ppf / _isf (a valid one; not chosen)
_SAFE_SHAPE = {"p": 0.5, "mu": 1.0, "n": 1.0, "a": 1.0, "b": 1.0}


def _scipy_discrete_quantile(b, dist: str, name: str, q, s: dict, loc, ok, position):
    """rv_discrete.ppf / isf (session 35): NaN where the argcheck fails, loc is NaN or q is outside [0, 1]; at q = 0
    (isf: 1) the support's start less one, a - 1 + loc, and at q = 1 (isf: 0) its end, b + loc (both only where the
    argcheck holds); SciPy's own ``_ppf`` / ``_isf`` (the op ``discrete_quantile``) plus loc for 0 < q < 1. A count:
    its derivative by q and by the shapes is 0 (by loc 1; at the end of binom's and betabinom's support, n + loc,
    by n 1)."""
    op, _ = _ops(b, position)
    lo, hi = _SCIPY_SUPPORTS.get(dist, (0.0, None))
    hi = s["n"] if dist in ("binom", "betabinom") else hi
    cond0 = op("mul", ok, op("eq", loc, loc))
    cond = op("mul", cond0, op("mul", op("gt", q, 0.0), op("lt", q, 1.0)))
    safe = [op("where", cond, v, _SAFE_SHAPE[k]) for k, v in s.items()]
    inner = b.apply("discrete_quantile", op("where", cond, q, 0.5), *safe, dist=dist, upper=name == "isf",
                    position=position)
    first, last = op("add", lo - 1.0, loc), op("add", hi, loc)
    start, end = (0.0, 1.0) if name == "ppf" else (1.0, 0.0)
    edges = op("where", op("mul", cond0, op("eq", q, start)), first,
               op("where", op("mul", cond0, op("eq", q, end)), last, math.nan))
    return op("where", cond, op("add", inner, loc), edges)


def jax_tail(b, dist: str, name: str, x, s: dict, loc, scale, position):
    """JAX's expon / logistic / uniform tails and ppf, poisson.cdf, nbinom and betabinom as its source writes them."""
    op, fn = _ops(b, position)

    def js(fname, *args):
        return _fn(b, fname, *args, position=position, library="jax.scipy")

    def outside(q):
        return op("add", op("ne", q, q), op("add", op("lt", q, 0.0), op("gt", q, 1.0)))
    if dist == "expon":
        if name == "ppf":  # where(isnan(q) | q < 0 | q > 1, nan, loc - scale * log1p(-q))
            return op("where", outside(x), math.nan, op("sub", loc, op("mul", scale, op("log1p", op("neg", x)))))
        logsf = op("where", op("lt", x, loc), 0.0, op("div", op("sub", loc, x), scale))
        if name == "logsf":
            return logsf
        return op("exp", logsf) if name == "sf" else op("log1p", op("neg", op("exp", logsf)))  # logcdf
    if dist == "logistic":
        if name == "sf":
            return js("expit", op("neg", op("div", op("sub", x, loc), scale)))
        t = js("logit", x)
        return op("add", op("mul", t if name == "ppf" else op("neg", t), scale), loc)
    if dist == "uniform":  # ppf
        return op("where", outside(x), math.nan, op("add", loc, op("mul", scale, x)))
    if dist == "poisson":  # cdf: gammaincc(floor(1 + x), mu), 0 below 0
        k = op("sub", x, loc)
        return op("where", op("lt", k, 0.0), 0.0, js("gammaincc", op("floor", op("add", 1.0, k)), s["mu"]))
    if dist == "nbinom":
        n, p = s["n"], s["p"]
        y = op("sub", x, loc)
        comb = op("sub", op("sub", js("gammaln", op("add", y, n)), js("gammaln", n)), js("gammaln", op("add", y, 1.0)))
        out = op("add", comb, op("add", js("xlogy", n, p), js("xlogy", y, op("sub", 1.0, p))))
        return op("where", op("lt", x, loc), -math.inf, out)
    n, a, bb = s["n"], s["a"], s["b"]  # betabinom
    y = op("sub", op("floor", x), loc)
    combiln = op("neg", op("add", op("log1p", n), js("betaln", op("add", op("sub", n, y), 1.0), op("add", y, 1.0))))
    out = op("add", combiln, op("sub", js("betaln", op("add", y, a), op("add", op("sub", n, y), bb)),
                                js("betaln", a, bb)))
    out = op("where", op("mul", op("eq", y, 0.0), op("eq", n, 0.0)), 0.0, out)
    bad_y = op("add", op("add", op("lt", y, op("neg", loc)), op("gt", y, n)), op("le", op("add", y, a), 0.0))
    out = op("where", bad_y, -math.inf, out)
    bad = op("add", op("add", op("lt", n, 0.0), op("le", a, 0.0)), op("le", bb, 0.0))
    return op("where", bad, math.nan, out)


def _jax_poisson_entropy(b, args, kwargs, position):
    """jax.scipy.stats.poisson.entropy(mu, loc=0): JAX's sums of entr(pmf(k)) over k < ceil(mu + 20) (mu < 10, 35
    terms) or k < ceil(mu + 10 sqrt(mu) + 20) (mu < 100, 250 terms), its asymptotic 0.5 log(2 pi e mu) - 1 / (12 mu)
    beyond, 0 at mu = 0; each branch computed, the one JAX selects chosen."""
    spelling = "jax.scipy.stats.poisson.entropy"
    op, fn = _ops(b, position)
    a = arguments(spelling, args, kwargs, {"mu": REQUIRED, "loc": 0.0}, position)
    mu, loc = (tensor(b, b.lift(a[k]) if not isinstance(a[k], Tracer) else a[k], spelling, position)
               for k in ("mu", "loc"))
    shape = broadcast(mu.shape, loc.shape)
    flat = b.apply("reshape", mu, shape=(1, max(1, math.prod(mu.shape))), position=position)

    def summed(terms: int, upper):
        k = b.const(np.arange(terms, dtype=b.dtype).reshape(terms, 1), position)
        logpmf = op("sub", op("sub", _fn(b, "xlogy", k, flat, position=position, library="jax.scipy"),
                              _fn(b, "gammaln", op("add", k, 1.0), position=position, library="jax.scipy")), flat)
        probs = op("where", op("lt", k, fn("ceil", upper)), op("exp", logpmf), 0.0)
        return fn("sum", _fn(b, "entr", probs, position=position, library="jax.scipy"), 0)
    small = summed(35, op("add", flat, 20.0))
    medium = summed(250, op("add", op("add", flat, op("mul", 10.0, op("sqrt", flat))), 20.0))
    v = b.apply("reshape", flat, shape=(flat.shape[1],), position=position)
    large = op("sub", op("mul", 0.5, op("log", op("mul", 2 * math.pi * math.e, v))), op("div", 1.0, op("mul", 12.0, v)))
    out = op("where", op("eq", v, 0.0), 0.0, op("where", op("lt", v, 10.0), small,
                                                  op("where", op("lt", v, 100.0), medium, large)))
    out = b.apply("reshape", out, shape=mu.shape, position=position)
    return out if out.shape == shape else fn("broadcast_to", out, shape)


variant("jax.scipy.stats.poisson", "entropy")(_jax_poisson_entropy)


# --- session 35b: NegativeBinomial, HalfCauchy, InverseGamma, FisherSnedecor, GeneralizedPareto, Multinomial,
# LogisticNormal, TransformedDistribution with the element-wise transforms of torch.distributions.transforms, and the
# KL pair PyTorch registers for TransformedDistributions (equal transforms: the bases' divergence). `MORE_D`,
# dispatched from `_log_prob` / `_entropy` / `_cdf` / `_moment` / `mode`; each method as the class writes it, the
# methods it lacks refused as PyTorch raises NotImplementedError.

MORE_D = ("NegativeBinomial", "HalfCauchy", "InverseGamma", "FisherSnedecor", "GeneralizedPareto", "Multinomial",
          "LogisticNormal", "TransformedDistribution")
TRANSFORMS = "torch.distributions.transforms"
MODULES.add(TRANSFORMS)
LIBRARIES[TRANSFORMS] = TRANSFORMS
for _cls, _spec in (("HalfCauchy", (("scale", REQUIRED, _POSITIVE),)),
                    ("InverseGamma", (("concentration", REQUIRED, _POSITIVE), ("rate", REQUIRED, _POSITIVE))),
                    ("GeneralizedPareto", (("loc", REQUIRED, _REAL), ("scale", REQUIRED, _POSITIVE),
                                           ("concentration", REQUIRED, _REAL)))):
    variant(TORCH, _cls)(_maker(_cls, _spec))
REPARAMETERISED.update({
    "HalfCauchy": "abs(scale * tan(pi * (u - 0.5))) with u uniform on (0, 1)",
    "GeneralizedPareto": "its icdf(u) with u uniform on [0, 1)",
    "LogisticNormal": "the stick-breaking of loc + scale * eps with eps a standard normal draw",
})
IMPLICIT.update({
    "InverseGamma": "rate / g with g a Gamma(concentration, 1) draw, the concentration a constant",
    "FisherSnedecor": "(g1 / df1) / (g2 / df2) with g1, g2 Chi2(df1), Chi2(df2) draws, df1 and df2 constants",
})


def _given(b, value, cls: str, position):
    return tensor(b, b.lift(value) if not isinstance(value, Tracer) else value, cls, position)


@variant(TORCH, "NegativeBinomial")
def _negative_binomial(b, args, kwargs, position):
    """torch.distributions.NegativeBinomial(total_count, probs=None, logits=None): total_count >= 0 broadcast with
    probs in [0, 1) or logits; log_prob by logsigmoid, as PyTorch."""
    cls = "NegativeBinomial"
    a = arguments(cls, args, kwargs, {"total_count": REQUIRED, "probs": None, "logits": None, "validate_args": None},
                  position)
    validate = _validate(b, a, position)
    probs, logits, which = _binary_logits(b, a, cls, position, validate)
    n, param = _broadcast_all(b, [_given(b, a["total_count"], cls, position), probs if which == "probs" else logits],
                              f"torch.distributions.{cls}", position)
    op, _ = _ops(b, position)
    checks = []
    if validate:
        checks.append(_check(b, _not(b, op("ge", n, 0.0), position),
                             _param_message(cls, "total_count", _NONNEGATIVE), position))
        if which == "probs":
            inside = op("mul", op("ge", param, 0.0), op("lt", param, 1.0))
            checks.append(_check(b, _not(b, inside, position), _param_message(
                cls, "probs", "HalfOpenInterval(lower_bound=0.0, upper_bound=1.0)"), position))
        else:
            checks.append(_check(b, op("ne", param, param), _param_message(cls, "logits", _REAL), position))
    if which == "probs":
        probs, logits = param, _from_probs(b, param, position)
    else:
        logits, probs = param, op("sigmoid", param)
    return Distribution(cls, {"total_count": n, "probs": probs, "logits": logits}, n.shape, (),
                        _both(b, checks, position), validate)


@variant(TORCH, "FisherSnedecor")
def _fisher_snedecor(b, args, kwargs, position):
    """torch.distributions.FisherSnedecor(df1, df2): its two Gammas made with PyTorch's default checks (so df1, df2 >
    0 are checked whatever validate_args says, in Gamma's words), then its own."""
    cls = "FisherSnedecor"
    a = arguments(cls, args, kwargs, {"df1": REQUIRED, "df2": REQUIRED, "validate_args": None}, position)
    validate = _validate(b, a, position)
    df1, df2 = _broadcast_all(b, [_given(b, a[k], cls, position) for k in ("df1", "df2")],
                              f"torch.distributions.{cls}", position)
    op, _ = _ops(b, position)
    checks = [_check(b, _not(b, op("gt", v, 0.0), position), _param_message("Gamma", "concentration", _POSITIVE)
                     + f" (the Gamma that FisherSnedecor makes of {k})", position) for k, v in (("df1", df1),
                                                                                              ("df2", df2))]
    return Distribution(cls, {"df1": df1, "df2": df2}, df1.shape, (), _both(b, checks, position), validate)


@variant(TORCH, "Multinomial")
def _multinomial(b, args, kwargs, position):
    """torch.distributions.Multinomial(total_count=1, probs=None, logits=None): total_count a Python int (PyTorch
    raises NotImplementedError otherwise), its Categorical and Binomial made with the default checks."""
    cls = "Multinomial"
    a = arguments(cls, args, kwargs, {"total_count": 1, "probs": None, "logits": None, "validate_args": None},
                  position)
    validate = _validate(b, a, position)
    n = a["total_count"]
    n = n if isinstance(n, int) else b.pyints.get(n.id) if isinstance(n, Tracer) else None
    if type(n) is not int:
        raise JacValueError(f"torch.distributions.{cls}: PyTorch raises NotImplementedError: inhomogeneous "
                            f"total_count is not supported (total_count must be a Python int)", position)
    cat = _categorical(b, [], {k: a[k] for k in ("probs", "logits") if a[k] is not None}, position)
    return Distribution(cls, {"total_count": n, **cat.params}, cat.batch, (cat.logits.shape[-1],), cat.zero,
                        validate, base=cat)


@variant(TORCH, "LogisticNormal")
def _logistic_normal(b, args, kwargs, position):
    """torch.distributions.LogisticNormal(loc, scale): Normal(loc, scale) (batch (1,) if it has none) reinterpreted
    as one event by Independent, through StickBreakingTransform: the event one longer than loc's last axis."""
    cls = "LogisticNormal"
    a = arguments(cls, args, kwargs, {"loc": REQUIRED, "scale": REQUIRED, "validate_args": None}, position)
    validate_given = a["validate_args"]
    normal = _normal_like("Normal", {})(b, [a["loc"], a["scale"]], {"validate_args": validate_given}, position)
    validate = normal.validate
    if not normal.batch:
        loc, scale = (_fn(b, "broadcast_to", v, (1,), position=position) for v in (normal.loc, normal.scale))
        normal = Distribution("Normal", {"loc": loc, "scale": scale}, (1,), (), normal.zero, validate)
    base = Distribution("Independent", {}, normal.batch[:-1], normal.batch[-1:], None, validate, base=(normal, 1))
    k = normal.batch[-1]
    return Distribution(cls, {"loc": normal.loc, "scale": normal.scale}, normal.batch[:-1], (k + 1,), normal.zero,
                        validate, base=base)


# --- transforms: the element-wise ones of torch.distributions.transforms, composed and inverted ------------------

class Transform(Distribution):
    """A transform of ``torch.distributions.transforms`` the text holds (held by the parser as a distribution is):
    ``kind`` one of ``_TRANSFORM_KINDS``' values or ``"compose"`` (its ``parts``), ``inverted`` for ``.inv``;
    ``params`` its loc, scale or exponent, a Python float where the text gives a number (PyTorch's sign is then an
    int) or a tracer."""

    def __init__(self, cls: str, kind: str, params: dict, parts: tuple = (), inverted: bool = False):
        super().__init__(cls, params, (), ())
        self.kind, self.parts, self.inverted = kind, parts, inverted

    def __repr__(self) -> str:
        return f"{self.cls}{'.inv' if self.inverted else ''}"


_TRANSFORM_KINDS = {"ExpTransform": "exp", "SigmoidTransform": "sigmoid", "TanhTransform": "tanh",
                    "AbsTransform": "abs", "SoftplusTransform": "softplus", "AffineTransform": "affine",
                    "PowerTransform": "power", "ComposeTransform": "compose"}
# each kind's domain and codomain, PyTorch's constraint (the TransformedDistribution's support is its last codomain)
_DOMAINS = {"exp": (_REAL, _POSITIVE), "sigmoid": (_REAL, _UNIT), "tanh": (_REAL, "Interval(lower_bound=-1.0, "
            "upper_bound=1.0)"), "abs": (_REAL, _POSITIVE), "softplus": (_REAL, _POSITIVE), "affine": (_REAL, _REAL),
            "power": (_POSITIVE, _POSITIVE)}
TRANSFORMS_READ = tuple(_TRANSFORM_KINDS)


def _number_or_tracer(b, v, what: str, position):
    """A 0-d constant as a Python float (PyTorch's Number: its sign an int), any other value as a tracer."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    t = _given(b, v, what, position)
    node = b.nodes[t.id]
    return float(node.value) if node.op == "const" and not t.ndim else t


def _transform_maker(cls: str):
    kind = _TRANSFORM_KINDS[cls]
    spec = {"affine": {"loc": REQUIRED, "scale": REQUIRED, "event_dim": 0, "cache_size": 0},
            "power": {"exponent": REQUIRED, "cache_size": 0}, "compose": {"parts": REQUIRED, "cache_size": 0}}.get(
        kind, {"cache_size": 0})

    def make(b, args, kwargs, position):
        a = arguments(cls, args, kwargs, dict(spec), position)
        a.pop("cache_size")
        if kind == "compose":
            parts = a["parts"]
            parts = tuple(parts) if isinstance(parts, tuple) else (parts,) if isinstance(parts, Transform) else None
            if parts is None or not all(isinstance(p, Transform) for p in parts):
                raise JacValueError("torch.distributions.transforms.ComposeTransform takes a list of transforms",
                                    position)
            return Transform(cls, kind, {}, parts)
        if kind == "affine":
            if static(b, a.pop("event_dim"), "event_dim", position) not in (0, None):
                raise JacValueError("torch.distributions.transforms.AffineTransform: jac reads event_dim=0 (an "
                                    "element-wise affine map)", position)
            return Transform(cls, kind, {k: _number_or_tracer(b, a[k], cls, position) for k in ("loc", "scale")})
        if kind == "power":  # PyTorch broadcasts the exponent to a tensor: its sign a tensor
            return Transform(cls, kind, {"exponent": _given(b, a["exponent"], cls, position)})
        return Transform(cls, kind, {})
    make.__doc__ = (f"torch.distributions.transforms.{cls}: its call, inverse and log_abs_det_jacobian as PyTorch "
                    f"writes them, for TransformedDistribution")
    return make


for _cls in _TRANSFORM_KINDS:
    for _library in (TORCH, TRANSFORMS):
        variant(_library, _cls)(_transform_maker(_cls))


def inverted(t: Transform) -> Transform:
    """``t.inv``: a compose's is the compose of its parts' inverses in reverse order, as PyTorch's."""
    if t.kind == "compose":
        return Transform(t.cls, "compose", {}, tuple(inverted(p) for p in reversed(t.parts)))
    return Transform(t.cls, t.kind, t.params, (), not t.inverted)


def _t_call(b, t: Transform, x, position, inverse: bool = False):
    """``t(x)`` (``inverse``: ``t.inv(x)``)."""
    op, fn = _ops(b, position)
    if t.kind == "compose":
        for p in (reversed(t.parts) if inverse else t.parts):
            x = _t_call(b, p, x, position, inverse)
        return x
    kind, backward = t.kind, inverse != t.inverted
    finfo = np.finfo(b.dtype)
    if kind == "exp":
        return op("log" if backward else "exp", x)
    if kind == "affine":
        return op("div", op("sub", x, t.loc), t.scale) if backward else op("add", t.loc, op("mul", t.scale, x))
    if kind == "power":
        return op("pow", x, op("div", 1.0, t.exponent) if backward else t.exponent)
    if kind == "sigmoid":
        if backward:
            y = fn("clamp", x, float(finfo.tiny), float(1.0 - finfo.eps))
            return op("sub", op("log", y), op("log1p", op("neg", y)))
        return fn("clamp", op("sigmoid", x), float(finfo.tiny), float(1.0 - finfo.eps))
    if kind == "tanh":
        return fn("atanh", x) if backward else op("tanh", x)
    if kind == "softplus":  # (-y).expm1().neg().log() + y
        return op("add", op("log", op("neg", op("expm1", op("neg", x)))), x) if backward else _softplus(b, x, position)
    if backward:  # abs: AbsTransform's _inverse is the identity
        return x
    return fn("abs", x)


def _softplus(b, x, position):
    return _fn(b, "softplus", x, position=position, library="torch")


def _t_ladj(b, t: Transform, x, y, position):
    """``t.log_abs_det_jacobian(x, y)``; an inverse's is minus its transform's at (y, x)."""
    op, fn = _ops(b, position)
    if t.kind == "compose":
        if not t.parts:
            return op("mul", x, 0.0)
        xs = [x]
        for p in t.parts[:-1]:
            xs.append(_t_call(b, p, xs[-1], position))
        xs.append(y)
        out = None
        for p, a, c in zip(t.parts, xs[:-1], xs[1:]):
            term = _t_ladj(b, p, a, c, position)
            out = term if out is None else op("add", out, term)
        return out
    if t.inverted:
        return op("neg", _t_ladj(b, inverted(t), y, x, position))
    kind = t.kind
    if kind == "exp":
        return x
    if kind == "affine":
        scale = t.scale
        if isinstance(scale, float):  # torch.full_like(x, math.log(abs(scale))): Python's log raises at 0
            if scale == 0:
                raise JacValueError("AffineTransform.log_abs_det_jacobian: PyTorch raises (math.log(abs(scale)) of "
                                    "the number 0: a math domain error)", position)
            return _fn(b, "full_like", x, math.log(abs(scale)), position=position)
        out = op("log", fn("abs", scale))
        return _expanded_to(b, out, broadcast(out.shape, x.shape), position)
    if kind == "power":
        return op("log", fn("abs", op("div", op("mul", t.exponent, y), x)))
    if kind == "sigmoid":
        return op("sub", op("neg", _softplus(b, op("neg", x), position)), _softplus(b, x, position))
    if kind == "tanh":  # 2 (log 2 - x - softplus(-2x))
        return op("mul", 2.0, op("sub", op("sub", math.log(2.0), x), _softplus(b, op("mul", -2.0, x), position)))
    if kind == "softplus":
        return op("neg", _softplus(b, op("neg", x), position))
    raise JacValueError("torch.distributions.transforms.AbsTransform.log_abs_det_jacobian: PyTorch raises "
                        "NotImplementedError (AbsTransform is not bijective)", position)


def _t_sign(b, t: Transform, position):
    """PyTorch's ``t.sign``: an int, or a tensor where the scale or exponent is one."""
    if t.kind == "compose":
        sign = 1
        for p in t.parts:
            s = _t_sign(b, p, position)
            sign = b.apply("mul", sign, s, position=position) if isinstance(s, Tracer) or isinstance(sign, Tracer) \
                else sign * s
        return sign
    if t.kind == "abs":
        raise JacValueError("torch.distributions.transforms.AbsTransform.sign: PyTorch raises NotImplementedError",
                            position)
    s = t.scale if t.kind == "affine" else t.exponent if t.kind == "power" else 1
    if isinstance(s, Tracer):
        return b.apply("sign", s, position=position)
    return 1 if s > 0 else -1 if s < 0 else 0


def _t_codomain(t: Transform) -> str:
    if t.kind == "compose":
        return _t_codomain(t.parts[-1]) if t.parts else _REAL
    return _DOMAINS[t.kind][0 if t.inverted else 1]


def _t_outside(b, constraint: str, x, position):
    """The mask of values outside a transform's codomain (NaN outside)."""
    op, _ = _ops(b, position)
    if constraint == _REAL:
        return op("ne", x, x)
    if constraint == _POSITIVE:
        return _not(b, op("gt", x, 0.0), position)
    low = 0.0 if constraint == _UNIT else -1.0
    return _not(b, op("mul", op("ge", x, low), op("le", x, 1.0)), position)


def transform_attribute(b, t: Transform, name: str, position):
    if name == "inv":
        return inverted(t)
    if name == "sign":
        s = _t_sign(b, t, position)
        return s if isinstance(s, Tracer) else b.const(np.asarray(float(s), dtype=b.dtype), position)
    if name in t.params:
        v = t.params[name]
        return v if isinstance(v, Tracer) else b.const(np.asarray(v, dtype=b.dtype), position)
    raise JacValueError(f"torch.distributions.transforms.{t.cls} has no attribute '{name}' jac reads (jac reads inv, "
                        f"sign{''.join(', ' + k for k in t.params)})", position)


def transform_method(b, t: Transform, name: str, args: list, kwargs: dict, position):
    """``t.log_abs_det_jacobian(x, y)``; ``t(x)`` is not read (a TransformedDistribution's transforms are)."""
    fname = f"{t.cls}.{name}"
    if name == "log_abs_det_jacobian":
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "y": REQUIRED}, position)
        return _t_ladj(b, t, tensor(b, a["x"], fname, position), tensor(b, a["y"], fname, position), position)
    raise JacValueError(f"torch.distributions.transforms.{t.cls} has no method '.{name}()' jac reads (jac reads "
                        f"log_abs_det_jacobian, and the attributes inv and sign; a transform's call: write the "
                        f"function itself)", position)


@variant(TORCH, "TransformedDistribution")
def _transformed_distribution(b, args, kwargs, position):
    """torch.distributions.TransformedDistribution(base_distribution, transforms): the element-wise transforms of
    torch.distributions.transforms (Exp, Affine, Sigmoid, Tanh, Power, Softplus, Abs, Compose, their ``.inv``);
    log_prob, cdf and icdf through them as PyTorch."""
    cls = "TransformedDistribution"
    a = arguments(cls, args, kwargs, {"base_distribution": REQUIRED, "transforms": REQUIRED, "validate_args": None},
                  position)
    validate = _validate(b, a, position)
    base, ts = a["base_distribution"], a["transforms"]
    if not isinstance(base, Distribution) or isinstance(base, Transform):
        raise JacValueError(f"torch.distributions.{cls} takes a distribution first", position)
    if isinstance(ts, Tracer) and ts.shape == (0,):  # [], no transform: the base
        ts = ()
    ts = (ts,) if isinstance(ts, Transform) else tuple(ts) if isinstance(ts, tuple) else None
    if ts is None or not all(isinstance(t, Transform) for t in ts):
        raise JacValueError(f"torch.distributions.{cls}: PyTorch raises: transforms must be a Transform or a list of "
                            f"Transforms", position)
    shape = base.batch + base.event
    for t in _flat(ts):  # forward_shape: the base expanded by the transforms' parameters
        for v in t.params.values():
            if isinstance(v, Tracer):
                shape = broadcast(shape, v.shape)
    cut = len(shape) - len(base.event)
    return Distribution(cls, {}, shape[:cut], shape[cut:], None, validate, base=(base, ts))


def _flat(ts):
    for t in ts:
        if t.kind == "compose":
            yield from _flat(t.parts)
        else:
            yield t


def _transformed_log_prob(b, d: Distribution, x, position):
    op, fn = _ops(b, position)
    base, ts = d.base
    zero = None
    if d.validate and ts:
        support = _t_codomain(ts[-1])
        zero = _check(b, _t_outside(b, support, x, position), _support_message(d.cls, support), position)
    k = len(d.event)
    out, y = 0.0, x
    for t in reversed(ts):
        inner = _t_call(b, t, y, position, inverse=True)
        ladj = _t_ladj(b, t, inner, y, position)
        out = op("sub", out, fn("sum", ladj, tuple(range(-k, 0))) if k else ladj)
        y = inner
    lp = _log_prob(b, base, y, position)
    out = op("add", out, lp) if ts else lp
    return out if zero is None else op("sub", out, zero)


def _monotonize(b, ts, value, position):
    sign = _t_sign(b, Transform("ComposeTransform", "compose", {}, tuple(ts)), position)
    if not isinstance(sign, Tracer) and sign == 1:
        return value
    op, _ = _ops(b, position)
    return op("add", op("mul", sign, op("sub", value, 0.5)), 0.5)


def _transformed_cdf(b, d: Distribution, x, position, inverse: bool):
    base, ts = d.base
    if inverse:
        value = _cdf(b, base, _monotonize(b, ts, x, position), position, True)
        for t in ts:
            value = _t_call(b, t, value, position)
        return value
    for t in reversed(ts):
        x = _t_call(b, t, x, position, inverse=True)
    if d.validate and not base.validate:  # PyTorch checks the base's support whenever the transformed one validates
        base = Distribution(base.cls, base.params, base.batch, base.event, base.zero, True, base.base)
    return _monotonize(b, ts, _cdf(b, base, x, position, False), position)


# --- their methods ------------------------------------------------------------------------------------------------

def _cauchy_base(b, d: Distribution, position):
    """HalfCauchy's base, Cauchy(0, scale) (unchecked, as PyTorch makes it)."""
    op, _ = _ops(b, position)
    return Distribution("Cauchy", {"loc": op("mul", d.scale, 0.0), "scale": d.scale}, d.batch, (), None, False)


def _gamma_base(d: Distribution):
    return Distribution("Gamma", {"concentration": d.concentration, "rate": d.rate}, d.batch, (), None, d.validate)


def _stick_breaking_inverse(b, y, position):
    """StickBreakingTransform._inverse: log(y[:-1]) - log(clamp(1 - cumsum(y[:-1]), tiny)) + log(offset)."""
    op, fn = _ops(b, position)
    k = y.shape[-1] - 1
    crop = fn("narrow", y, -1, 0, k)
    offset = b.const(np.arange(k, 0, -1, dtype=b.dtype), position)
    sf = fn("clamp", op("sub", 1.0, fn("cumsum", crop, -1)), float(np.finfo(b.dtype).tiny))
    return op("add", op("sub", op("log", crop), op("log", sf)), op("log", offset)), crop


def log_prob35b(b, d: Distribution, x, position):
    op, fn = _ops(b, position)
    cls = d.cls
    if cls == "TransformedDistribution":
        return _transformed_log_prob(b, d, x, position)
    zero = None
    if cls == "LogisticNormal":
        k1 = d.event[0]
        if not x.ndim or x.shape[-1] != k1:
            raise JacValueError(f"LogisticNormal.log_prob: PyTorch raises: the value's last axis must be the "
                                f"event's, {k1}; got shape {fmt(x.shape)}", position)
        if d.validate:
            mask, _ = _outside34(b, Distribution("Dirichlet", {}, (), ()), x, position)
            zero = _check(b, mask, _support_message(cls, "Simplex()"), position)
        inner, crop = _stick_breaking_inverse(b, x, position)
        offset = b.const(np.log(np.arange(k1 - 1, 0, -1, dtype=b.dtype)), position)
        shifted = op("sub", inner, offset)  # log_abs_det_jacobian(x, y): (-x + logsigmoid(x) + log y[:-1]).sum(-1)
        ladj = fn("sum", op("add", op("add", op("neg", shifted), fn("logsigmoid", shifted)), op("log", crop)), -1)
        out = op("add", op("sub", 0.0, ladj), _log_prob(b, d.base, inner, position))
        return out if zero is None else op("sub", out, zero)
    if cls == "Multinomial":
        k = d.event[0]
        if not x.ndim or x.shape[-1] != k:
            raise JacValueError(f"Multinomial.log_prob: PyTorch raises: the value's last axis must be the event's, "
                                f"{k}; got shape {fmt(x.shape)}", position)
        if d.validate:  # PyTorch's multinomial(n): every count >= 0 and their sum <= n
            bad = op("add", fn("sum", _not(b, op("ge", x, 0.0), position), -1),
                     _not(b, op("le", fn("sum", x, -1), float(d.total_count)), position))
            zero = _check(b, op("gt", bad, 0.0), _support_message(cls, f"Multinomial(upper_bound="
                                                                        f"{d.total_count})"), position)
        logits, x = _broadcast_all(b, [d.logits, x], "Multinomial.log_prob", position)
        logits = op("where", op("mul", op("eq", x, 0.0), op("eq", logits, -math.inf)), 0.0, logits)
        out = op("sub", fn("lgamma", op("add", fn("sum", x, -1), 1.0)), fn("sum", fn("lgamma", op("add", x, 1.0)), -1))
        out = op("add", out, fn("sum", op("mul", logits, x), -1))
        out = out if zero is None else op("sub", out, zero)
        return _checked(b, d, out, position)
    if d.validate:
        if cls == "NegativeBinomial":
            inside, support = op("mul", op("eq", op("sub", x, op("floor", x)), 0.0), op("ge", x, 0.0)), \
                "IntegerGreaterThan(lower_bound=0)"
        elif cls == "HalfCauchy":
            inside, support = op("ge", x, 0.0), _NONNEGATIVE
        elif cls == "GeneralizedPareto":
            inside, support = _gpd_inside(b, d, x, position), "Interval(lower_bound=loc, upper_bound=upper)"
        else:  # InverseGamma, FisherSnedecor
            inside, support = op("gt", x, 0.0), _POSITIVE
        zero = _check(b, _not(b, inside, position), _support_message(cls, support), position)
    if cls == "NegativeBinomial":
        n, logits = d.total_count, d.logits
        out = op("add", op("mul", n, fn("logsigmoid", op("neg", logits))), op("mul", x, fn("logsigmoid", logits)))
        norm = op("add", op("add", op("neg", fn("lgamma", op("add", n, x))), fn("lgamma", op("add", 1.0, x))),
                  fn("lgamma", n))
        out = op("sub", out, op("where", op("eq", op("add", n, x), 0.0), 0.0, norm))
    elif cls == "HalfCauchy":  # Cauchy(0, scale).log_prob + log 2, -inf below 0
        base = _cauchy_base(b, d, position)
        out = op("sub", op("sub", -math.log(math.pi), op("log", base.scale)),
                 op("log1p", op("pow", op("div", op("sub", x, base.loc), base.scale), 2.0)))
        out = op("where", op("ge", x, 0.0), op("add", out, math.log(2)), -math.inf)
    elif cls == "InverseGamma":  # PowerTransform(-1) inverted: x = y ** -1, log|(-1) y / x|; Gamma's log_prob
        inner = op("pow", x, -1.0)
        ladj = op("log", fn("abs", op("div", op("mul", -1.0, x), inner)))
        out = op("add", op("sub", 0.0, ladj), _log_prob(b, _gamma_base(d), inner, position))
    elif cls == "FisherSnedecor":
        ct1, ct2, ct3 = op("mul", d.df1, 0.5), op("mul", d.df2, 0.5), op("div", d.df1, d.df2)
        t1 = op("sub", op("sub", fn("lgamma", op("add", ct1, ct2)), fn("lgamma", ct1)), fn("lgamma", ct2))
        t2 = op("add", op("mul", ct1, op("log", ct3)), op("mul", op("sub", ct1, 1.0), op("log", x)))
        t3 = op("mul", op("add", ct1, ct2), op("log1p", op("mul", ct3, x)))
        out = op("sub", op("add", t1, t2), t3)
    else:  # GeneralizedPareto
        z, eq_zero, safe = _gpd_parts(b, d, x, position)
        y = op("add", op("div", 1.0, safe), 1.0)  # 1 / safe + ones_like(z)
        y = _expanded_to(b, y, broadcast(y.shape, z.shape), position)
        nonzero = op("where", op("eq", y, 0.0), y, op("mul", y, op("log1p", op("mul", safe, z))))
        # (1 / c + 1) log1p(c z) = (z - w) S(w), w = -c z, S(w) = -log1p(-w) / w = Σ w^(k-1) / k
        zs, w, series = _gpd_series(b, d, z, eq_zero, "log_prob", position)
        at_zero = _slope_of(b, op("add", z, 0.0), op("sub", op("mul", op("sub", zs, w), series), zs), position)
        out = op("sub", op("neg", op("log", d.scale)), op("where", eq_zero, at_zero, nonzero))
    out = out if zero is None else op("sub", out, zero)
    return _checked(b, d, out, position)


def _gpd_parts(b, d: Distribution, x, position):
    """z = (x - loc) / scale; concentration isclose to 0 (PyTorch's rtol 1e-5, atol 1e-8 against 0: |c| <= 1e-8);
    the concentration with 1 there."""
    op, fn = _ops(b, position)
    z = op("div", op("sub", x, d.loc), d.scale) if x is not None else None
    eq_zero = op("le", fn("abs", d.concentration), 1e-8)
    return z, eq_zero, op("where", eq_zero, 1.0, d.concentration)


# PyTorch's GeneralizedPareto drops the concentration c where |c| <= 1e-8 (its limit c = 0): jac keeps that value and
# gives the function's derivatives by c there, from power series in w = -c z (z = (value - loc) / scale) or v = -c L
# (L = log1p(-p)) whose derivatives are the function's to every order jac computes (engine.higher.MAX_ORDER, 32;
# tests/test_dists36.py holds the two together): S(w) = -log1p(-w) / w to w^47, accurate for the 32nd derivative
# where |w| <= 1e-2 (refused beyond: the value is then over 1e6 scales from loc), E(v) = expm1(v) / v to v^39
# (|v| < 1e-5 wherever L is finite).
_GPD_TERMS = {"log": 48, "exp": 40}
GPD_ORDERS = 32  # the order of derivative by the concentration the series above are exact to
_GPD_REACH = 1e-2


def _power_series(b, t, coefficients, position):
    """Σ coefficients[k] t^k as one power of t by the exponents 0..n-1 and one weighted sum: its derivatives of every
    order are again one power and one sum (a Horner chain's would grow with the terms), and the power's rule holds
    at t = 0 (0^0 = 1, exponent 0's derivative 0)."""
    op, fn = _ops(b, position)
    n = len(coefficients)
    powers = op("pow", _unsqueezed(b, t, -1, position), b.const(np.arange(n, dtype=b.dtype), position))
    return fn("sum", op("mul", powers, b.const(np.asarray(coefficients, dtype=b.dtype), position)), -1)


def _gpd_series(b, d: Distribution, z, eq_zero, method: str, position):
    """(z held finite, w, S(w)): the concentration enters only where |c| <= 1e-8 (0 elsewhere: no large w whose
    derivative could meet a 0 cotangent as NaN), z only where finite (PyTorch's value there is ±inf, kept); refused
    where |w| passes the series' reach."""
    op, fn = _ops(b, position)
    c = op("where", eq_zero, d.concentration, 0.0)
    zs = op("where", op("eq", fn("abs", z), math.inf), 0.0, z)
    w = op("neg", op("mul", c, zs))
    far = op("gt", fn("abs", w), _GPD_REACH)
    zero = _check(b, far, f"torch.distributions.GeneralizedPareto.{method}: where |concentration| <= 1e-8 PyTorch "
                          f"takes the limit concentration = 0, and jac gives the function's derivatives by the "
                          f"concentration from its series in concentration * (value - loc) / scale, exact to the "
                          f"{GPD_ORDERS}nd order where that is at most {_GPD_REACH} in size; here it is larger (|value - "
                          f"loc| > {_GPD_REACH} * scale / |concentration|, over {_GPD_REACH / 1e-8:.0e} scales): jac "
                          f"refuses rather than give derivatives the series does not hold", position)
    k = np.arange(1, _GPD_TERMS["log"] + 1, dtype=np.float64)
    series = op("sub", _power_series(b, w, [float(v) for v in 1.0 / k], position), zero)
    return zs, w, series


def _slope_of(b, value, part, position):
    """``value`` (PyTorch's branch at c ≈ 0, which drops c) plus ``part`` minus itself detached: the same value, bit
    for bit, and the derivatives of ``value + part`` (the function's, where ``part`` is its series beyond the value)
    where PyTorch's autograd gives 0 by the concentration, a "no dependence" the function does not have."""
    op, fn = _ops(b, position)
    return op("add", value, op("sub", part, fn("detach", part)))


def _gpd_inside(b, d: Distribution, x, position):
    """PyTorch's support interval(loc, loc - scale / concentration where concentration < 0, else inf)."""
    op, _ = _ops(b, position)
    upper = op("where", op("lt", d.concentration, 0.0), op("sub", d.loc, op("div", d.scale, d.concentration)),
               math.inf)
    return op("mul", op("le", d.loc, x), op("le", x, upper))


def entropy35b(b, d: Distribution, position):
    op, fn = _ops(b, position)
    cls = d.cls
    if cls == "HalfCauchy":  # Cauchy(0, scale).entropy() - log 2
        out = op("sub", op("add", math.log(4 * math.pi), op("log", d.scale)), math.log(2))
    elif cls == "InverseGamma":  # c + log(rate) + lgamma(c) - (1 + c) digamma(c)
        c = d.concentration
        out = op("add", op("add", c, op("log", d.rate)), fn("lgamma", c))
        out = op("sub", out, op("mul", op("add", 1.0, c), fn("digamma", c)))
    elif cls == "GeneralizedPareto":  # log(scale) + concentration + 1, broadcast to the batch
        out = _expanded_to(b, op("add", op("add", op("log", d.scale), d.concentration), 1.0), d.batch, position)
    elif cls == "Multinomial":
        return _multinomial_entropy(b, d, position)
    else:
        raise JacValueError(f"torch.distributions.{cls}.entropy: PyTorch raises NotImplementedError", position)
    return _checked(b, d, out, position)


def _multinomial_entropy(b, d: Distribution, position):
    """n H(categorical) - lgamma(n + 1) + Σ_{k=1..n} Binomial(n, probs).prob(k) lgamma(k + 1), summed over the
    categories, as PyTorch's."""
    op, fn = _ops(b, position)
    n = d.total_count
    term1 = op("sub", op("mul", float(n), _entropy(b, d.base, position)), math.lgamma(n + 1.0))
    binomial = _binomial(b, [float(n)], {"probs": d.probs}, position)
    support = b.const(np.arange(1, n + 1, dtype=b.dtype).reshape((n,) + (1,) * len(d.probs.shape)), position)
    probs = op("exp", log_prob34(b, binomial, support, position))
    term2 = fn("sum", op("mul", probs, fn("lgamma", op("add", support, 1.0))), (0, -1))
    return _checked(b, d, op("add", term1, term2), position)


def moment35b(b, d: Distribution, name: str, position):
    op, fn = _ops(b, position)
    cls = d.cls
    if cls == "NegativeBinomial":  # n exp(logits), mean / sigmoid(-logits)
        mean = op("mul", d.total_count, op("exp", d.logits))
        var = op("div", mean, op("sigmoid", op("neg", d.logits)))
    elif cls == "HalfCauchy":  # inf, the base Cauchy's inf variance
        inf = b.const(np.full(d.batch, np.inf, dtype=b.dtype), position)
        return _checked(b, d, inf, position)
    elif cls == "InverseGamma":
        c = d.concentration
        mean = op("where", op("gt", c, 1.0), op("div", d.rate, op("sub", c, 1.0)), math.inf)
        var = op("div", op("pow", d.rate, 2.0), op("mul", op("pow", op("sub", c, 1.0), 2.0), op("sub", c, 2.0)))
        var = op("where", op("gt", c, 2.0), var, math.inf)
    elif cls == "FisherSnedecor":  # df2 NaN where <= 2 (mean), <= 4 (variance)
        df2 = op("where", op("le", d.df2, 2.0), math.nan, d.df2)
        mean = op("div", df2, op("sub", df2, 2.0))
        df2 = op("where", op("le", d.df2, 4.0), math.nan, d.df2)
        var = op("div", op("mul", op("mul", 2.0, op("pow", df2, 2.0)), op("sub", op("add", d.df1, df2), 2.0)),
                 op("mul", op("mul", d.df1, op("pow", op("sub", df2, 2.0), 2.0)), op("sub", df2, 4.0)))
    elif cls == "GeneralizedPareto":
        c = d.concentration
        valid = op("lt", c, 1.0)
        mean = op("where", valid, op("add", d.loc, op("div", d.scale, op("sub", 1.0, op("where", valid, c, 0.5)))),
                  math.nan)
        valid = op("lt", c, 0.5)
        safe = op("where", valid, c, 0.25)
        var = op("div", op("pow", d.scale, 2.0), op("mul", op("pow", op("sub", 1.0, safe), 2.0),
                                                    op("sub", 1.0, op("mul", 2.0, safe))))
        var = op("where", valid, var, math.nan)
    elif cls == "Multinomial":  # probs n, n probs (1 - probs)
        mean = op("mul", d.probs, float(d.total_count))
        var = op("mul", op("mul", float(d.total_count), d.probs), op("sub", 1.0, d.probs))
    else:
        raise JacValueError(f"torch.distributions.{cls}.{name}: PyTorch raises NotImplementedError", position)
    out = mean if name == "mean" else var if name == "variance" else op("sqrt", var)
    return _checked(b, d, out, position)


def mode35b(b, d: Distribution, position):
    op, fn = _ops(b, position)
    cls = d.cls
    if cls == "NegativeBinomial":  # floor((n - 1) exp(logits)), clamped at 0: a count
        out = fn("clamp", op("floor", op("mul", op("sub", d.total_count, 1.0), op("exp", d.logits))), 0.0)
    elif cls == "HalfCauchy":
        out = op("mul", d.scale, 0.0)
    elif cls == "InverseGamma":
        out = op("div", d.rate, op("add", d.concentration, 1.0))
    elif cls == "FisherSnedecor":
        out = op("div", op("mul", op("div", op("sub", d.df1, 2.0), d.df1), d.df2), op("add", d.df2, 2.0))
        out = op("where", op("le", d.df1, 2.0), math.nan, out)
    elif cls == "GeneralizedPareto":
        out = d.loc
    else:
        raise JacValueError(f"torch.distributions.{cls}.mode: PyTorch raises NotImplementedError", position)
    return _checked(b, d, out, position)


def cdf35b(b, d: Distribution, x, position, inverse: bool):
    op, fn = _ops(b, position)
    cls = d.cls
    name = "icdf" if inverse else "cdf"
    if cls == "TransformedDistribution":
        return _transformed_cdf(b, d, x, position, inverse)
    if cls == "HalfCauchy":
        if inverse:  # Cauchy's icdf of (prob + 1) / 2
            p = op("div", op("add", x, 1.0), 2.0)
            return _checked(b, d, op("add", op("mul", op("tan", op("mul", math.pi, op("sub", p, 0.5))), d.scale),
                                     op("mul", d.scale, 0.0)), position)
        base = _cauchy_base(b, d, position)
        out = op("sub", op("mul", 2.0, op("add", op("div", fn("atan", op("div", op("sub", x, base.loc), base.scale)),
                                                           math.pi), 0.5)), 1.0)
        if d.validate:
            out = op("sub", out, _check(b, _not(b, op("ge", x, 0.0), position), _support_message(
                cls, _NONNEGATIVE).replace(".log_prob", ".cdf"), position))
        return _checked(b, d, out, position)
    if cls == "InverseGamma" and not inverse:  # the value through PowerTransform(-1) inverted, Gamma's cdf, flipped
        out = gamma_cdf(b, _gamma_base(d), op("pow", x, -1.0), position)
        out = op("add", op("mul", -1.0, op("sub", out, 0.5)), 0.5)  # the exponent's sign, a tensor: -1
        return _checked(b, d, out, position)
    if cls == "GeneralizedPareto":
        _, eq_zero, safe = _gpd_parts(b, d, None, position)
        if inverse:
            logu = op("log1p", op("neg", x))
            nonzero = op("add", d.loc, op("mul", op("div", d.scale, safe), op("expm1", op("mul", op("neg", safe),
                                                                                           logu))))
            # expm1(-c L) / c = -L E(v), v = -c L, E(v) = expm1(v) / v = Σ v^(k-1) / k!
            c = op("where", eq_zero, d.concentration, 0.0)
            ls = op("where", op("eq", fn("abs", logu), math.inf), 0.0, logu)
            k = np.arange(1, _GPD_TERMS["exp"] + 1)
            series = _power_series(b, op("neg", op("mul", c, ls)), [1.0 / math.factorial(int(j)) for j in k],
                                   position)
            part = op("mul", op("mul", d.scale, op("neg", ls)), op("sub", series, 1.0))
            at_zero = _slope_of(b, op("sub", d.loc, op("mul", d.scale, logu)), part, position)
            return _checked(b, d, op("where", eq_zero, at_zero, nonzero), position)
        z = op("div", op("sub", x, d.loc), d.scale)
        zs, _, series = _gpd_series(b, d, z, eq_zero, "cdf", position)  # -log1p(c z) / c = -z S(w)
        at_zero = _slope_of(b, op("neg", z), op("mul", op("neg", zs), op("sub", series, 1.0)), position)
        logsf = op("where", eq_zero, at_zero, op("div", op("neg", op("log1p", op("mul", safe, z))), safe))
        out = op("exp", op("log1p", op("neg", op("exp", logsf))))
        if d.validate:
            out = op("sub", out, _check(b, _not(b, _gpd_inside(b, d, x, position), position), _support_message(
                cls, "Interval(lower_bound=loc, upper_bound=upper)").replace(".log_prob", ".cdf"), position))
        return _checked(b, d, out, position)
    raise JacValueError(f"torch.distributions.{cls}.{name}: PyTorch raises NotImplementedError", position)


# --- kl_divergence of TransformedDistributions (PyTorch's _kl_transformed_transformed) -----------------------------
# PyTorch looks the pair up by the classes' MRO: two TransformedDistributions (LogNormal, HalfNormal, HalfCauchy,
# InverseGamma, LogisticNormal among them) have the divergence of their bases where their transforms are equal (the
# lists compared part by part, an AffineTransform's or PowerTransform's parameters by value) and their event shapes
# are; NotImplementedError otherwise.

_TD_VIEWED = ("TransformedDistribution", "HalfCauchy", "InverseGamma", "LogisticNormal", "LogNormal", "HalfNormal")
_TD_NEW = ("TransformedDistribution", "HalfCauchy", "InverseGamma", "LogisticNormal")
_TD_OTHER = ("Gumbel", "Weibull", "Pareto", "Kumaraswamy", "RelaxedBernoulli", "RelaxedOneHotCategorical")


def _transformed_view(b, d: Distribution, position):
    """(base, transforms) of a TransformedDistribution jac holds as one, as PyTorch's constructor makes them."""
    op, _ = _ops(b, position)
    if d.cls == "TransformedDistribution":
        return d.base
    if d.cls == "LogisticNormal":
        return d.base, (Transform("StickBreakingTransform", "stickbreaking", {}),)
    if d.cls == "InverseGamma":
        return _gamma_base(d), (Transform("PowerTransform", "power", {"exponent": -1.0}),)
    if d.cls == "LogNormal":
        return Distribution("Normal", {"loc": d.loc, "scale": d.scale}, d.batch, (), None, d.validate), \
            (Transform("ExpTransform", "exp", {}),)
    loc = op("mul", d.scale, 0.0)
    base = Distribution("Cauchy" if d.cls == "HalfCauchy" else "Normal", {"loc": loc, "scale": d.scale}, d.batch, (),
                        None, d.validate)
    return base, (Transform("AbsTransform", "abs", {}),)


def _transforms_differ(b, ps, qs, position):
    """None where the lists differ whatever the values, else the masks (maybe none) where a parameter differs."""
    if len(ps) != len(qs):
        return None
    masks = []
    for p, q in zip(ps, qs):
        if p.kind != q.kind or p.inverted != q.inverted:
            return None
        if p.kind == "compose":
            inner = _transforms_differ(b, p.parts, q.parts, position)
            if inner is None:
                return None
            masks += inner
        for k in p.params:
            u, v = p.params[k], q.params[k]
            if isinstance(u, Tracer) or isinstance(v, Tracer):
                masks.append(b.apply("ne", u, v, position=position))
            elif u != v:
                return None
    return masks


def _kl_transformed(b, p: Distribution, q: Distribution, position):
    name = f"torch.distributions.kl_divergence({p.cls}, {q.cls})"
    if p.cls not in _TD_VIEWED or q.cls not in _TD_VIEWED:
        other = q.cls if p.cls in _TD_VIEWED else p.cls
        if other in _TD_OTHER and "TransformedDistribution" in (p.cls, q.cls):
            raise JacValueError(f"{name} is not read by jac (PyTorch compares {other}'s own transforms with the "
                                f"given ones)", position)
        raise JacValueError(f"{name}: PyTorch raises NotImplementedError (no KL is registered for the pair; two "
                            f"TransformedDistributions need equal transforms)", position)
    (pb, pts), (qb, qts) = _transformed_view(b, p, position), _transformed_view(b, q, position)
    masks = _transforms_differ(b, pts, qts, position)
    if masks is None or p.event != q.event:
        why = "the transforms differ" if masks is None else "the event shapes differ"
        raise JacValueError(f"{name}: PyTorch raises NotImplementedError ({why})", position)
    out = _kl_divergence(b, [pb, qb], {}, position)
    for mask in masks:
        out = b.apply("sub", out, _check(b, mask, f"{name}: PyTorch raises NotImplementedError (the transforms' "
                                         f"parameters differ)", position), position=position)
    return out


def binomial_entropy(b, d: Distribution, position):
    """Binomial's entropy as PyTorch's: -Σ exp(lp) lp over its enumerated support 0..n, lp its log_prob, where
    total_count is one constant n (PyTorch raises NotImplementedError for an inhomogeneous one; jac needs the count
    at build time, as PyTorch's int(total_count.max()))."""
    op, fn = _ops(b, position)
    node = b.nodes[d.total_count.id]
    if node.op != "const":
        raise JacValueError("torch.distributions.Binomial.entropy: jac reads it where total_count is a constant (the "
                            "support 0..total_count is enumerated; PyTorch's int(total_count.max()) reads the value)",
                            position)
    counts = np.asarray(node.value)
    n = int(counts.max()) if counts.size else 0
    if counts.size and counts.min() != n:
        raise JacValueError("torch.distributions.Binomial.entropy: PyTorch raises NotImplementedError: Inhomogeneous "
                            "total count not supported by `entropy`.", position)
    support = b.const(np.arange(n + 1, dtype=b.dtype).reshape((n + 1,) + (1,) * len(d.batch)), position)
    lp = log_prob34(b, d, support, position)
    return op("neg", fn("sum", op("mul", op("exp", lp), lp), 0))



# --- session 36: Wishart, LKJCholesky, and the modes of Beta, Dirichlet, Kumaraswamy -----------------------------
# Wishart(df, covariance_matrix= | precision_matrix= | scale_tril=): its factor as MultivariateNormal's (cholesky of
# the covariance, PyTorch's _precision_to_scale_tril of the precision), df > p - 1 checked whatever validate_args
# says (PyTorch's constructor raises ValueError there), the matrix's constraint and the value's PositiveDefinite()
# under validate_args; log_prob, entropy, mean, variance, stddev, mode as wishart.py writes them. LKJCholesky(dim,
# concentration): log_prob only (PyTorch's other methods raise NotImplementedError); the Beta it makes checks the
# concentration > 0 with Dirichlet's words whatever validate_args says.

MORE_E = ("Wishart", "LKJCholesky")
IMPLICIT.update({
    "Wishart": "scale_tril @ A @ A.mT @ scale_tril.mT with A lower triangular (Bartlett): the square roots of "
               "Chi2(df - i) draws on its diagonal, standard normal draws below it, df a constant",
})
_PD = "PositiveDefinite()"
_WISHART = "torch.distributions.Wishart"


def _df_message(df, p: int) -> str:
    return (f"{_WISHART}: PyTorch raises ValueError (whatever validate_args says): Value of df expected to be "
            f"greater than ndim - 1 = {p - 1}.")


@variant(TORCH, "Wishart")
def _wishart(b, args, kwargs, position):
    """torch.distributions.Wishart(df, covariance_matrix= | precision_matrix= | scale_tril=): p × p matrices, df >
    p - 1 (checked whatever validate_args says, as PyTorch's constructor); log_prob, entropy, mean, variance, mode
    as PyTorch writes them."""
    a = arguments("Wishart", args, kwargs, {"df": REQUIRED, "covariance_matrix": None, "precision_matrix": None,
                                            "scale_tril": None, "validate_args": None}, position)
    validate = _validate(b, a, position)
    given = [k for k in ("covariance_matrix", "precision_matrix", "scale_tril") if a[k] is not None]
    if len(given) != 1:
        raise JacValueError(f"{_WISHART}: PyTorch raises: Exactly one of covariance_matrix or precision_matrix or "
                            "scale_tril may be specified.", position)
    kind = given[0]
    m = _given(b, a[kind], "Wishart", position)
    if m.ndim < 2:
        raise JacValueError(f"{_WISHART}: PyTorch raises ValueError: scale_tril must be at least two-dimensional, "
                            f"with optional leading batch dimensions (got {kind} of shape {fmt(m.shape)})", position)
    p = m.shape[-1]
    if m.shape[-2] != p:
        raise JacValueError(f"{_WISHART}: {kind} of shape {fmt(m.shape)} is not square: PyTorch raises (its "
                            f"constraint, or its cholesky, fails)", position)
    df = _given(b, a["df"], "Wishart", position)
    try:
        batch = broadcast(m.shape[:-2], df.shape)
    except Exception:  # noqa: BLE001 - the shapes' own error, said as PyTorch's
        raise JacValueError(f"{_WISHART}: PyTorch raises: df of shape {fmt(df.shape)} and {kind} of shape "
                            f"{fmt(m.shape)} have batch shapes that do not broadcast", position) from None
    node = b.nodes[df.id]
    number = node.op == "const" and not isinstance(node.value, np.ndarray)  # Wishart(3.5, ...): a Python number
    df = _expanded_to(b, df, batch, position)
    op, fn = _ops(b, position)
    checks = [_check(b, _not(b, op("gt", df, float(p - 1)), position), _df_message(df, p), position)]
    if validate:
        if kind == "scale_tril":
            checks.append(_lower_cholesky_check(b, m, _param_message("Wishart", kind, "LowerCholesky()"), position))
        else:
            checks.append(_positive_definite(b, m, _param_message("Wishart", kind, _PD), position))
    if kind == "scale_tril":
        tril = m
    elif kind == "covariance_matrix":
        tril = _fn(b, "cholesky", m, position=position, library="torch.linalg")
    else:
        tril = _precision_tril(b, m, position)
    params = {"df": df, "scale_tril": tril}
    if kind != "scale_tril":  # PyTorch keeps the matrix given as that property (its entries, not L Lᵀ's)
        params[kind] = m
    d = Distribution("Wishart", params, batch, (p, p), _both(b, checks, position), validate)
    d.number_df = number and bool(batch)
    return d


def _lower_cholesky_check(b, m, message: str, position):
    """PyTorch's LowerCholesky(): lower triangular with a positive diagonal, per matrix."""
    op, fn = _ops(b, position)
    upper = op("ne", op("sub", m, fn("tril", m)), 0.0)
    diag = fn("diagonal", m, dim1=-2, dim2=-1)
    bad = op("add", fn("sum", upper), fn("sum", _not(b, op("gt", diag, 0.0), position)))
    return _check(b, op("gt", bad, 0.0), message, position)


def _precision_tril(b, m, position):
    """PyTorch's _precision_to_scale_tril: the flipped cholesky of the flipped precision, inverted by a solve."""
    flipped = _fn(b, "flip", m, (-2, -1), position=position)
    lf = _fn(b, "cholesky", flipped, position=position, library="torch.linalg")
    l_inv = matrix_transpose(b, _fn(b, "flip", lf, (-2, -1), position=position), position, "transpose")
    eye = b.const(np.eye(m.shape[-1], dtype=b.dtype), position)
    return _fn(b, "solve_triangular", l_inv, eye, upper=False, position=position, library="torch.linalg")


def _wishart_parts(b, d: Distribution, position):
    """p, Σ log diag(L) (the factor's batch), and ν (the batch's)."""
    op, fn = _ops(b, position)
    logdiag = fn("sum", op("log", fn("diagonal", d.scale_tril, dim1=-2, dim2=-1)), -1)
    return d.event[-1], logdiag, d.df


def _wishart_matrix(b, d: Distribution, name: str, position):
    """scale_tril, covariance_matrix (L Lᵀ), precision_matrix (cholesky_solve(I, L)), expanded to batch + event; the
    matrix given to the constructor as itself, as PyTorch."""
    op, fn = _ops(b, position)
    tril = d.scale_tril
    if name in d.params:
        out = d.params[name]
    elif name == "covariance_matrix":
        out = op("matmul", tril, matrix_transpose(b, tril, position, "transpose"))
    elif name == "precision_matrix":
        out = fn("cholesky_solve", b.const(np.eye(d.event[-1], dtype=b.dtype), position), tril)
    else:
        out = tril
    return _expanded_to(b, out, d.batch + d.event, position)


def _batch_matrix(b, t, d: Distribution, position):
    """A batch-shaped ``t`` viewed as (*batch, 1, 1)."""
    return b.apply("reshape", t, shape=d.batch + (1, 1), position=position)


def _wishart_log_prob(b, d: Distribution, x, position):
    op, fn = _ops(b, position)
    p, logdiag, nu = _wishart_parts(b, d, position)
    if x.ndim < 2 or x.shape[-2:] != (p, p):
        raise JacValueError(f"Wishart.log_prob: PyTorch raises ValueError: the value's last two axes must be the "
                            f"event's, {fmt((p, p))}; got shape {fmt(x.shape)}", position)
    try:
        broadcast(x.shape[:-2], d.batch)
    except Exception:  # noqa: BLE001 - the shapes' own error, said as PyTorch's
        raise JacValueError(f"Wishart.log_prob: PyTorch raises ValueError: the value's batch {fmt(x.shape[:-2])} "
                            f"does not broadcast with the distribution's {fmt(d.batch)}", position) from None
    zero = _positive_definite(b, x, _support_message("Wishart", _PD), position) if d.validate else None
    out = op("sub", op("mul", op("neg", nu), op("add", p * math.log(2) / 2, logdiag)),
             b.apply("mvlgamma", op("div", nu, 2.0), p=p, position=position))
    out = op("add", out, op("mul", op("div", op("sub", nu, float(p + 1)), 2.0), b.apply("logabsdet", x,
                                                                                       position=position)))
    solved = fn("cholesky_solve", x, d.scale_tril)
    out = op("sub", out, op("div", fn("sum", fn("diagonal", solved, dim1=-2, dim2=-1), -1), 2.0))
    out = out if zero is None else op("sub", out, zero)
    return _checked(b, d, out, position)


def _wishart_entropy(b, d: Distribution, position):
    op, fn = _ops(b, position)
    p, logdiag, nu = _wishart_parts(b, d, position)
    half = op("div", nu, 2.0)
    mvdigamma = fn("sum", fn("digamma", op("sub", _unsqueezed(b, half, -1, position),
                                             b.const(np.arange(p, dtype=b.dtype) / 2, position))), -1)
    out = op("add", op("mul", float(p + 1), op("add", p * math.log(2) / 2, logdiag)),
             b.apply("mvlgamma", half, p=p, position=position))
    out = op("sub", out, op("mul", op("div", op("sub", nu, float(p + 1)), 2.0), mvdigamma))
    out = _expanded_to(b, op("add", out, op("div", op("mul", nu, float(p)), 2.0)), d.batch, position)
    return _checked(b, d, out, position)


def _wishart_moment(b, d: Distribution, name: str, position):
    """mean ν Σ; variance ν (Σ² + diag(Σ) diag(Σ)ᵀ); stddev its root; mode (ν - p - 1) Σ, NaN where ν ≤ p + 1."""
    op, fn = _ops(b, position)
    if d.number_df:
        raise JacValueError(f"torch.distributions.Wishart.{name}: PyTorch raises RuntimeError: df given as a number "
                            f"stays 0-d beside a batch {fmt(d.batch)} of matrices, and its df.view(batch_shape + (1, "
                            f"1)) fails; give df as a tensor (torch.full({d.batch}, df)), as PyTorch needs", position)
    cov = _wishart_matrix(b, d, "covariance_matrix", position)
    nu = _batch_matrix(b, d.df, d, position)
    if name == "mean":
        out = op("mul", nu, cov)
    elif name == "mode":
        factor = op("sub", nu, float(d.event[-1] + 1))
        out = op("mul", op("where", op("le", factor, 0.0), math.nan, factor), cov)
    else:
        diag = fn("diagonal", cov, dim1=-2, dim2=-1)
        outer = op("mul", _unsqueezed(b, diag, -1, position), _unsqueezed(b, diag, -2, position))
        out = op("mul", nu, op("add", op("pow", cov, 2.0), outer))
        out = op("sqrt", out) if name == "stddev" else out
    return _checked(b, d, out, position)


@variant(TORCH, "LKJCholesky")
def _lkj_cholesky(b, args, kwargs, position):
    """torch.distributions.LKJCholesky(dim, concentration=1.0): Cholesky factors of dim × dim correlation matrices;
    log_prob as PyTorch writes it; the concentration > 0 checked whatever validate_args says (the Beta PyTorch
    makes checks it, in Dirichlet's words)."""
    cls = "LKJCholesky"
    a = arguments(cls, args, kwargs, {"dim": REQUIRED, "concentration": 1.0, "validate_args": None}, position)
    validate = _validate(b, a, position)
    dim = static(b, a["dim"], "dim", position)
    if isinstance(dim, float) and dim.is_integer():
        dim = int(dim)
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 2:
        raise JacValueError(f"torch.distributions.{cls}: PyTorch raises ValueError: Expected dim to be an integer "
                            f"greater than or equal to 2. Found dim={dim!r}.", position)
    c = _given(b, a["concentration"], cls, position)
    op, _ = _ops(b, position)
    zero = _check(b, _not(b, op("gt", c, 0.0), position), _param_message("Dirichlet", "concentration", (
        "IndependentConstraint(GreaterThan(lower_bound=0.0), 1)")) + " (the Beta that LKJCholesky makes of the "
        "concentration checks it whatever validate_args says)", position)
    return Distribution(cls, {"concentration": c}, c.shape, (dim, dim), zero, validate)


def _corr_cholesky_outside(b, x, position):
    """PyTorch's CorrCholesky(): lower triangular, a positive diagonal, each row of unit norm (to eps · dim · 10)."""
    op, fn = _ops(b, position)
    tol = float(np.finfo(b.dtype).eps) * x.shape[-1] * 10
    rows = fn("detach", fn("sqrt", fn("sum", op("pow", x, 2.0), -1)))
    upper = op("ne", op("sub", x, fn("tril", x)), 0.0)
    bad = op("add", fn("sum", upper, (-2, -1)), fn("sum", _not(b, op("gt", fn("diagonal", x, dim1=-2, dim2=-1),
                                                                     0.0), position), -1))
    bad = op("add", bad, fn("sum", _not(b, op("le", fn("abs", op("sub", rows, 1.0)), tol), position), -1))
    return op("gt", bad, 0.0)


def _lkj_log_prob(b, d: Distribution, x, position):
    op, fn = _ops(b, position)
    dim = d.event[-1]
    if x.ndim < 2 or x.shape[-2:] != (dim, dim):
        raise JacValueError(f"LKJCholesky.log_prob: PyTorch raises ValueError: the value's last two axes must be "
                            f"the event's, {fmt((dim, dim))}; got shape {fmt(x.shape)}", position)
    zero = _check(b, _corr_cholesky_outside(b, x, position), _support_message("LKJCholesky", "CorrCholesky()"),
                  position) if d.validate else None
    c = d.concentration
    diag = fn("narrow", fn("diagonal", x, dim1=-1, dim2=-2), -1, 1, dim - 1)
    order = op("add", op("mul", 2.0, _unsqueezed(b, op("sub", c, 1.0), -1, position)),
               b.const(dim - np.arange(2, dim + 1, dtype=b.dtype), position))
    out = fn("sum", op("mul", order, op("log", diag)), -1)
    dm1 = dim - 1
    alpha = op("add", c, 0.5 * dm1)
    normalize = op("add", 0.5 * dm1 * math.log(math.pi), b.apply("mvlgamma", op("sub", alpha, 0.5), p=dm1,
                                                                 position=position))
    out = op("sub", out, op("sub", normalize, op("mul", fn("lgamma", alpha), float(dm1))))
    out = out if zero is None else op("sub", out, zero)
    return _checked(b, d, out, position)


def log_prob36(b, d: Distribution, x, position):
    return _wishart_log_prob(b, d, x, position) if d.cls == "Wishart" else _lkj_log_prob(b, d, x, position)


def entropy36(b, d: Distribution, position):
    if d.cls == "Wishart":
        return _wishart_entropy(b, d, position)
    raise JacValueError(f"torch.distributions.{d.cls}.entropy: PyTorch raises NotImplementedError", position)


def moment36(b, d: Distribution, name: str, position):
    if d.cls == "Wishart":
        return _wishart_moment(b, d, name, position)
    raise JacValueError(f"torch.distributions.{d.cls}.{name}: PyTorch raises NotImplementedError", position)


_KUMARASWAMY_MODE = (
    "torch.distributions.Kumaraswamy.mode is refused: PyTorch 2.13's is NaN at every parameter (it computes "
    "log1p(-concentration0) / concentration0 - log1p(-concentration0 * concentration1), which is no mode: "
    "pytorch/pytorch#173912), and jac will not give a NaN that is no answer nor a number PyTorch does not give; the "
    "mode is ((a - 1) / (a * b - 1)) ** (1 / a) for a = concentration1 >= 1, b = concentration0 >= 1, not both 1: "
    "write that")


def mode36(b, d: Distribution, position):
    """Beta's and Dirichlet's mode as PyTorch's Dirichlet.mode: clamp(c - 1, 0) normalised over the event, NaN where
    that is 0 / 0, and the first category's one-hot where every concentration is below 1 (PyTorch's argmax of a
    row of NaNs); Beta's is its first element. Wishart's (ν - p - 1) Σ. Kumaraswamy's refused (PyTorch's is NaN)."""
    op, fn = _ops(b, position)
    cls = d.cls
    if cls == "Wishart":
        return _wishart_moment(b, d, "mode", position)
    if cls == "Kumaraswamy":
        raise JacValueError(_KUMARASWAMY_MODE, position)
    if cls == "Beta":
        c1m1, c0m1 = (fn("clamp", op("sub", c, 1.0), 0.0) for c in (d.concentration1, d.concentration0))
        below = op("mul", op("lt", d.concentration1, 1.0), op("lt", d.concentration0, 1.0))
        out = op("where", below, 1.0, op("div", c1m1, op("add", c1m1, c0m1)))
    elif cls == "Dirichlet":
        c = d.concentration
        cm1 = fn("clamp", op("sub", c, 1.0), 0.0)
        out = op("div", cm1, fn("sum", cm1, -1, keepdims=True))
        below = fn("all", op("lt", c, 1.0), -1, keepdims=True)
        first = b.const((np.arange(c.shape[-1]) == 0).astype(b.dtype), position)
        out = op("where", below, first, out)
    else:
        raise JacValueError(f"torch.distributions.{cls}.mode: PyTorch raises NotImplementedError", position)
    return _checked(b, d, out, position)


# the submodule of torch.distributions that defines each name jac reads, as code imports it (from
# torch.distributions.multivariate_normal import MultivariateNormal; torch.distributions.normal.Normal(...)): each
# submodule a library of its own names only (tests/test_dists36.py checks each against PyTorch's modules)
SUBMODULES = {"Bernoulli": "bernoulli", "Beta": "beta", "Binomial": "binomial", "Categorical": "categorical",
              "Cauchy": "cauchy", "Chi2": "chi2", "ContinuousBernoulli": "continuous_bernoulli", "Dirichlet": "dirichlet",
              "Exponential": "exponential", "FisherSnedecor": "fishersnedecor", "Gamma": "gamma",
              "GeneralizedPareto": "generalized_pareto", "Geometric": "geometric", "Gumbel": "gumbel",
              "HalfCauchy": "half_cauchy", "HalfNormal": "half_normal", "Independent": "independent",
              "InverseGamma": "inverse_gamma", "Kumaraswamy": "kumaraswamy", "LKJCholesky": "lkj_cholesky",
              "Laplace": "laplace", "LogNormal": "log_normal", "LogisticNormal": "logistic_normal",
              "LowRankMultivariateNormal": "lowrank_multivariate_normal", "MixtureSameFamily": "mixture_same_family",
              "Multinomial": "multinomial", "MultivariateNormal": "multivariate_normal",
              "NegativeBinomial": "negative_binomial", "Normal": "normal", "OneHotCategorical": "one_hot_categorical",
              "OneHotCategoricalStraightThrough": "one_hot_categorical", "Pareto": "pareto", "Poisson": "poisson",
              "RelaxedBernoulli": "relaxed_bernoulli", "RelaxedOneHotCategorical": "relaxed_categorical",
              "StudentT": "studentT", "TransformedDistribution": "transformed_distribution", "Uniform": "uniform",
              "VonMises": "von_mises", "Weibull": "weibull", "Wishart": "wishart", "kl_divergence": "kl"}
for _name, _sub in SUBMODULES.items():
    _path = f"{TORCH}.{_sub}"
    MODULES.add(_path)
    LIBRARIES[_path] = _path
    variant(_path, _name)(LIBRARY_FUNCTIONS[(TORCH, _name)])

# each of these libraries has only its own names: torch.distributions.sin(x) is no function of it (parser.lookup)
TITLES = {TORCH: TORCH, TRANSFORMS: TRANSFORMS, **{f"{TORCH}.{sub}": f"{TORCH}.{sub}" for sub in SUBMODULES.values()},
          **{f"{root}.{dist}": f"{root}.{dist}" for root in ("jax.scipy.stats", "scipy.stats") for dist in STATS}}
for _library in TITLES:
    LIBRARY_NAMES[_library] = frozenset(name for (lib, name) in LIBRARY_FUNCTIONS if lib == _library)
