"""JAX's and SciPy's own spellings: ``jax.nn``, ``jax.scipy.special``, ``scipy.special`` and ``jax.lax``
(registered in ``functions``' table when ``lang`` is imported).

Where JAX or SciPy read a name otherwise than PyTorch (``jax.nn.log_softmax(x, axis=None)`` is over every
element, ``scipy.special.kl_div(x, y)`` is element-wise ``x log(x/y) - x + y``, ``jax.lax.max(x, y)`` is
element-wise), the library named decides: each is a :func:`~.functions.variant` of that library, and
``LIBRARY_NAMES`` lists the names each of these libraries has, so a name jac knows from another library
(``jax.nn.normalize``: PyTorch's ``F.normalize`` is another function) is refused rather than read as that
library's. ``jax.lax`` names nothing of the shared table: ``lax.max`` is not ``max``.
"""

from __future__ import annotations

import math

from ..ir.graph import Tracer
from ..ir.shapes import broadcast
from .laxnames import JAX_NN_NAMES, JAX_SCIPY_NAMES, LAX_REFUSED
from .laxmore import JAX_SCIPY_MORE, LAX_MORE_HINTS
from .attention import JAX_NN_ATTENTION
from .specials28 import SPECIALS28
from .scipynames import SCIPY_NAMES
from .specials29 import JAX_SCIPY29, SCIPY29
from .scipylinalg import JAX_LINALG, JAX_REFUSED, REFUSED, SCIPY_LINALG, _cho_solve_as, _solve_triangular_as
from .specials30 import SCIPY30
from .functions import FUNCTIONS, REQUIRED, Items, JacValueError, Static, arguments, axes_of, matrix_transpose, \
    static, static_int, tensor, variant, library_function, nan_at_infinite_max, log_softmax_of

# What each library has that jac reads (a variant of its own or the shared function): any other name of the
# library's module is refused (``parser.lookup``), never read as PyTorch's function of that name.
SCIPY_SHARED = ("cbrt", "digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammainc",
                "gammaincc", "gammaln", "i0", "i0e", "i1", "i1e", "j0", "j1", "k0", "k0e", "k1", "k1e", "log1p",
                "log_ndtr", "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr", "ndtri", "polygamma",
                "psi", "round", "sinc", "softmax", "softplus", "xlog1py", "xlogy", "y0", "y1", "zeta")
JAX_SCIPY_SHARED = ("digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "expit", "gammainc", "gammaincc", "gammaln",
                    "i0", "i0e", "i1", "i1e", "log_ndtr", "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr",
                    "ndtri", "polygamma", "softmax", "xlog1py", "xlogy", "zeta")
JAX_NN_SHARED = ("celu", "elu", "gelu", "glu", "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh",
                 "leaky_relu", "log_sigmoid", "mish", "one_hot", "relu", "relu6", "selu", "sigmoid", "silu",
                 "soft_sign", "softplus", "swish", "tanh")


def _where(b, c, x, y, position):
    return b.apply("where", c, x, y, position=position)


def _both(b, c1, c2, position):
    """c1 and c2 of two masks, a mask."""
    return b.apply("where", c1, c2, False, position=position)


def _nan_of(b, x, y, position, value):
    """``value`` where x and y are numbers, NaN where either is NaN (as SciPy's ufuncs)."""
    s = b.apply("add", x, y, position=position)
    return _where(b, b.apply("ne", s, s, position=position), s, value, position)


def _pair(fname, args, kwargs, position, b):
    a = arguments(fname, args, kwargs, {"x": REQUIRED, "y": REQUIRED}, position)
    return tensor(b, a["x"], fname, position), tensor(b, a["y"], fname, position)


def _entropy_term(b, x, y, position, minus_x_plus_y: bool):
    """x log(x / y) (- x + y) where x > 0 and y > 0; 0 (y) where x = 0 and y >= 0; inf elsewhere."""
    inside = _both(b, b.apply("gt", x, 0.0, position=position), b.apply("gt", y, 0.0, position=position), position)
    zero = _both(b, b.apply("eq", x, 0.0, position=position), b.apply("ge", y, 0.0, position=position), position)
    term = b.apply("mul", x, b.apply("log", b.apply("div", x, y, position=position), position=position),
                   position=position)
    if minus_x_plus_y:
        term = b.apply("add", b.apply("sub", term, x, position=position), y, position=position)
    at_zero = b.apply("mul", y, 1.0, position=position) if minus_x_plus_y else b.apply("mul", y, 0.0,
                                                                                       position=position)
    edge = _where(b, zero, at_zero, math.inf, position)
    return _nan_of(b, x, y, position, _where(b, inside, term, edge, position))


@variant("scipy", "rel_entr")
def _rel_entr(b, args, kwargs, position):
    """scipy.special.rel_entr(x, y): x log(x / y) where both are positive, 0 where x = 0 and y >= 0, inf
    elsewhere (element-wise; jax.scipy.special's too)."""
    x, y = _pair("rel_entr", args, kwargs, position, b)
    return _entropy_term(b, x, y, position, False)


@variant("scipy", "kl_div")
def _scipy_kl_div(b, args, kwargs, position):
    """scipy.special.kl_div(x, y): x log(x / y) - x + y element-wise where both are positive, y where x = 0
    and y >= 0, inf elsewhere (not PyTorch's F.kl_div(input, target), a reduced loss of log-probabilities)."""
    x, y = _pair("kl_div", args, kwargs, position, b)
    return _entropy_term(b, x, y, position, True)


@variant("scipy", "log_expit")
def _log_expit(b, args, kwargs, position):
    """scipy.special.log_expit(x): log(expit(x)), as F.logsigmoid."""
    x = tensor(b, arguments("log_expit", args, kwargs, {"x": REQUIRED}, position)["x"], "log_expit", position)
    return b.apply("logsigmoid", x, position=position)


@variant("scipy", "huber")
def _huber(b, args, kwargs, position):
    """scipy.special.huber(delta, r): r²/2 where |r| <= delta, delta (|r| - delta/2) elsewhere; inf where
    delta < 0."""
    a = arguments("huber", args, kwargs, {"delta": REQUIRED, "r": REQUIRED}, position)
    d, r = tensor(b, a["delta"], "huber", position), tensor(b, a["r"], "huber", position)
    size = b.apply("abs", r, position=position)
    quadratic = b.apply("mul", b.apply("mul", r, r, position=position), 0.5, position=position)
    linear = b.apply("mul", d, b.apply("sub", size, b.apply("mul", d, 0.5, position=position), position=position),
                     position=position)
    value = _where(b, b.apply("le", size, d, position=position), quadratic, linear, position)
    return _where(b, b.apply("lt", d, 0.0, position=position), math.inf, value, position)


@variant("scipy", "pseudo_huber")
def _pseudo_huber(b, args, kwargs, position):
    """scipy.special.pseudo_huber(delta, r): delta² (sqrt(1 + (r/delta)²) - 1), written r² / (sqrt(1 +
    (r/delta)²) + 1) (no cancellation for small r); 0 where delta = 0, inf where delta < 0."""
    a = arguments("pseudo_huber", args, kwargs, {"delta": REQUIRED, "r": REQUIRED}, position)
    d, r = tensor(b, a["delta"], "pseudo_huber", position), tensor(b, a["r"], "pseudo_huber", position)
    zero = b.apply("eq", d, 0.0, position=position)
    safe = _where(b, zero, 1.0, d, position)
    u = b.apply("div", r, safe, position=position)
    root = b.apply("sqrt", b.apply("add", b.apply("mul", u, u, position=position), 1.0, position=position),
                   position=position)
    value = b.apply("div", b.apply("mul", r, r, position=position), b.apply("add", root, 1.0, position=position),
                    position=position)
    value = _where(b, zero, 0.0, value, position)
    return _where(b, b.apply("lt", d, 0.0, position=position), math.inf, value, position)


def _weighted_logsumexp(b, args, kwargs, position):
    """logsumexp(a, axis=None, b=None, keepdims=False): log(sum(b · exp(a))) over ``axis`` (every element
    without one), shifted by the detached maximum (0 where it is not finite); NaN where the weighted sum is
    negative, as SciPy and JAX without return_sign (its derivative 0 there, as JAX's)."""
    a = arguments("logsumexp", args, kwargs, {"x": REQUIRED, "axis": None, "b": None, "keepdims": False,
                                              "return_sign": False}, position)
    if static(b, a["return_sign"], "return_sign", position):
        raise JacValueError("logsumexp(..., return_sign=True) is not supported by jac: write the log of the "
                            "absolute value and the sign apart, jnp.log(jnp.abs(s)) and jnp.sign(s) of s = "
                            "jnp.sum(b * jnp.exp(x))", position)
    if a["b"] is None:
        return FUNCTIONS["logsumexp"](b, [a["x"]], {"axis": a["axis"], "keepdims": a["keepdims"]}, position)
    x = tensor(b, a["x"], "logsumexp", position)
    w = tensor(b, a["b"], "logsumexp", position)
    shape = broadcast(x.shape, w.shape)
    x = b.apply("broadcast_to", x, shape=shape, position=position) if x.shape != shape else x
    axes = axes_of(b, a["axis"], x, position, "logsumexp")
    keepdims = bool(static(b, a["keepdims"], "keepdims", position))
    m = b.apply("detach", FUNCTIONS["amax"](b, [x], {"axis": axes, "keepdims": True}, position), position=position)
    m = _where(b, b.apply("isfinite", m, position=position), m, 0.0, position)
    terms = b.apply("mul", w, b.apply("exp", b.apply("sub", x, m, position=position), position=position),
                    position=position)
    s = b.apply("sum", terms, axes=axes, keepdims=True, position=position)
    out = b.apply("add", b.apply("log", b.apply("abs", s, position=position), position=position), m,
                  position=position)
    # a negative sum is NaN, its derivative 0 (JAX's where(sign < 0, nan, ...)), never log's 1/s of a NaN value
    out = _where(b, b.apply("lt", s, 0.0, position=position), math.nan, out, position)
    if keepdims:
        return out
    return b.apply("reshape", out, shape=tuple(n for i, n in enumerate(out.shape) if i not in axes),
                   position=position)


variant("scipy", "logsumexp")(_weighted_logsumexp)


@variant("jax", "logsumexp")
@variant("jax.scipy", "logsumexp")
def _jax_logsumexp(b, args, kwargs, position):
    """jax.nn.logsumexp / jax.scipy.special.logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False,
    where=None): SciPy's, and ``where`` (session 55) leaves out the elements where it is False, as JAX's sum and
    max with ``where``: a left out as -inf and its weight 0, so neither its value nor its size shifts the sum, and
    its derivative is 0; a reduction of none is -inf."""
    a = arguments("logsumexp", args, kwargs, {"x": REQUIRED, "axis": None, "b": None, "keepdims": False,
                                              "return_sign": False, "where": None}, position)
    where = a.pop("where")
    if where is not None:
        mask = tensor(b, where, "logsumexp", position)
        a["x"] = _where(b, mask, tensor(b, a["x"], "logsumexp", position), -math.inf, position)
        a["b"] = _where(b, mask, 1.0 if a["b"] is None else tensor(b, a["b"], "logsumexp", position), 0.0, position)
    return _weighted_logsumexp(b, [], a, position)


# --- jax.nn -----------------------------------------------------------------------------------------------


def _jax_softmax(log: bool):
    fname = "log_softmax" if log else "softmax"

    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "axis": -1, "where": None}, position)
        x = tensor(b, a["x"], fname, position)
        if a["where"] is not None:
            return _masked_softmax(b, x, tensor(b, a["where"], fname, position), a["axis"], log, position)
        if x.ndim == 0:
            return b.apply("sub", x, x, position=position) if log else \
                b.apply("add", b.apply("mul", x, 0.0, position=position), 1.0, position=position)
        axes = axes_of(b, a["axis"], x, position, fname)  # None: every axis, as JAX
        out = log_softmax_of(b, x, axes, position)  # (x - max) - logsumexp(x - max): session 49
        if log:  # JAX's log_softmax is shifted by the max, as PyTorch's: NaN in a slice whose max is +inf
            return nan_at_infinite_max(b, out, x, axes, position)
        if len(axes) == 1:
            return b.apply("softmax", x, axis=axes[0], position=position)
        return b.apply("exp", out, position=position)
    lower.__doc__ = (f"jax.nn.{fname}(x, axis=-1): over the last axis by default, over every element with "
                     f"axis=None, over several with a tuple")
    return lower


def _masked_softmax(b, x, m, axis, log: bool, position):
    """JAX's softmax / log_softmax with ``where=m``: over the elements m holds, 0 (softmax) or -inf (log_softmax)
    elsewhere, and in a slice m holds nothing. As JAX computes it: shifted by the slice's detached maximum of the
    elements held, exp, a sum of the elements held; the masked elements replaced by that maximum before exp (and
    a slice holding nothing shifted by 0, its sum taken as 1), so no inf - inf or 0 / 0 reaches a derivative:
    the masked elements' derivatives are 0, as JAX's where gives them."""
    from .functions import truth
    shape = broadcast(x.shape, m.shape)
    if shape is None:
        raise JacValueError(f"where= of shape {m.shape} does not broadcast with x of shape {x.shape}", position)
    def op(name, *args):
        return b.apply(name, *args, position=position)
    x = b.apply("broadcast_to", x, shape=shape, position=position) if x.shape != shape else x
    m = truth(b, m, position)
    m = b.apply("broadcast_to", m, shape=shape, position=position) if m.shape != shape else m
    axes = tuple(axes_of(b, axis, x, position, "log_softmax" if log else "softmax"))
    if not shape:
        axes = ()
    held = b.apply("sum", _where(b, m, 1.0, 0.0, position), axes=axes, keepdims=True, position=position)
    empty = b.apply("eq", held, 0.0, position=position)
    top = b.apply("detach", b.apply("max", _where(b, m, x, -math.inf, position), axes=axes, keepdims=True,
                                    position=position), position=position)
    top = _where(b, empty, 0.0, top, position)
    shifted = op("sub", _where(b, m, x, top, position), top)
    total = b.apply("sum", _where(b, m, op("exp", shifted), 0.0, position), axes=axes, keepdims=True,
                    position=position)
    total = _where(b, empty, 1.0, total, position)
    if log:
        return _where(b, m, op("sub", shifted, op("log", total)), -math.inf, position)
    return _where(b, m, op("div", _where(b, m, op("exp", shifted), 0.0, position), total), 0.0, position)


variant("jax", "softmax")(_jax_softmax(False))
variant("jax", "log_softmax")(_jax_softmax(True))


@variant("jax", "standardize")
def _standardize(b, args, kwargs, position):
    """jax.nn.standardize(x, axis=-1, mean=None, variance=None, epsilon=1e-5): (x - mean) / sqrt(variance +
    epsilon), the variance mean(x²) - mean(x)² clipped at 0 (JAX's default algorithm='fast'), or
    mean((x - mean)²) with algorithm='stable'."""
    a = arguments("standardize", args, kwargs, {"x": REQUIRED, "axis": -1, "mean": None, "variance": None,
                                                "epsilon": 1e-5, "where": None, "algorithm": Static("fast")},
                  position)
    if a["where"] is not None:
        raise JacValueError("jax.nn.standardize(..., where=m) is not supported by jac", position)
    how = static(b, a["algorithm"], "algorithm", position)
    if how not in ("fast", "stable"):
        raise JacValueError(f"standardize(): algorithm must be 'fast' or 'stable', got {how!r}", position)
    x = tensor(b, a["x"], "standardize", position)
    axes = axes_of(b, a["axis"], x, position, "standardize")
    mean = a["mean"] if a["mean"] is not None else b.apply("mean", x, axes=axes, keepdims=True, position=position)
    centred = b.apply("sub", x, mean, position=position)
    variance = a["variance"]
    if variance is None and how == "stable":
        variance = b.apply("mean", b.apply("square", centred, position=position), axes=axes, keepdims=True,
                           position=position)
    elif variance is None:
        squares = b.apply("mean", b.apply("square", x, position=position), axes=axes, keepdims=True,
                          position=position)
        variance = b.apply("clip", b.apply("sub", squares, b.apply("square", mean, position=position),
                                           position=position), b.lift(0.0), b.lift(math.inf), position=position)
    eps = b.lift(a["epsilon"]) if not isinstance(a["epsilon"], Static) else b.lift(a["epsilon"].value)
    return b.apply("mul", centred, b.apply("rsqrt", b.apply("add", variance, eps, position=position),
                                           position=position), position=position)


@variant("jax", "squareplus")
def _squareplus(b, args, kwargs, position):
    """jax.nn.squareplus(x, b=4): (x + sqrt(x² + b)) / 2."""
    a = arguments("squareplus", args, kwargs, {"x": REQUIRED, "b": 4.0}, position)
    x = tensor(b, a["x"], "squareplus", position)
    root = b.apply("sqrt", b.apply("add", b.apply("square", x, position=position), b.lift(a["b"]),
                                   position=position), position=position)
    return b.apply("div", b.apply("add", x, root, position=position), 2.0, position=position)


@variant("jax", "sparse_plus")
def _sparse_plus(b, args, kwargs, position):
    """jax.nn.sparse_plus(x): 0 for x <= -1, x for x >= 1, (x + 1)² / 4 between."""
    x = tensor(b, arguments("sparse_plus", args, kwargs, {"x": REQUIRED}, position)["x"], "sparse_plus", position)
    middle = b.apply("div", b.apply("square", b.apply("add", x, 1.0, position=position), position=position), 4.0,
                     position=position)
    upper = _where(b, b.apply("ge", x, 1.0, position=position), x, middle, position)
    return _where(b, b.apply("le", x, -1.0, position=position), 0.0, upper, position)


@variant("jax", "sparse_sigmoid")
def _sparse_sigmoid(b, args, kwargs, position):
    """jax.nn.sparse_sigmoid(x): clip(x + 1, 0, 2) / 2."""
    x = tensor(b, arguments("sparse_sigmoid", args, kwargs, {"x": REQUIRED}, position)["x"], "sparse_sigmoid",
               position)
    clipped = b.apply("clip", b.apply("add", x, 1.0, position=position), b.lift(0.0), b.lift(2.0), position=position)
    return b.apply("mul", clipped, 0.5, position=position)


# --- jax.lax: a few element-wise and shape ops, under their lax names -------------------------------------

_LAX_SAME = ("exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "sin", "cos", "tan", "tanh", "sinh", "cosh", "asin",
             "acos", "atan", "asinh", "acosh", "atanh", "abs", "sign", "floor", "ceil", "square", "reciprocal",
             "erf", "erfc", "digamma", "exp2", "cbrt", "stop_gradient", "add", "sub", "mul", "pow", "atan2",
             "batch_matmul")
_LAX_RENAMED = {"neg": "negative", "logistic": "sigmoid", "erf_inv": "erfinv", "lgamma": "lgamma",
                "max": "maximum", "min": "minimum", "select": "where", "is_finite": "isfinite",
                "rem": "fmod", "batch_matmul": "matmul"}
# What to write for the rest of jax.lax (control flow, collectives, slices by traced offsets)
LAX_HINTS = {
    "cond": "jac reads it called, jax.lax.cond(pred, true_fun, false_fun, *operands), with pred known without "
            "the values; to choose by the values write jnp.where(pred, a, b)",
    "switch": "jac reads it called, jax.lax.switch(index, [f, g], *operands), with index known without the "
              "values; to choose by the values write jnp.select([c1, c2], [a, b], default)",
    "fori_loop": "jac reads it called, jax.lax.fori_loop(lower, upper, body_fun, init_val), with bounds known "
                 "without the values",
    "while_loop": "jac reads it called, jax.lax.while_loop(cond_fun, body_fun, init_val), with a condition known "
                  "without the values (a counter in the carry compared with a constant)",
    "scan": "jac reads it called, jax.lax.scan(f, init, xs, length=None, reverse=False)",
    "associative_scan": "jac reads it called, jax.lax.associative_scan(fn, elems, reverse=False, axis=0), with fn "
                        "one of add, multiply, maximum, minimum, logaddexp",
    "map": "jac reads it called, jax.lax.map(f, xs): f of each row of xs, stacked",
    **LAX_REFUSED,  # collectives, sharding, tokens, random bits (.laxnames)
    **LAX_MORE_HINTS,  # gather and the scatters by dimension numbers (.laxmore)
}


# session 31: jax.lax's element-wise primitives with a kink are differentiated by their own JVP rules (jax.lax is
# JAX's alone, so jac knows whose convention the text means): each is the value jac computes (clip, maximum, abs)
# where JAX's rule gives no derivative (detach), and the argument JAX's rule passes it to elsewhere (where)

def _selected(b, position, *pairs):
    """``where(c1, v1, where(c2, v2, ... default))`` for ``pairs = (c1, v1), (c2, v2), ..., default``."""
    *choices, out = pairs
    for cond, value in reversed(choices):
        out = b.apply("where", cond, value, out, position=position)
    return out


def _lax_clamp(b, args, kwargs, position):
    """jax.lax.clamp(min, x, max): x clipped to [min, max] (the bounds first and last, unlike jnp.clip),
    differentiated as JAX's clamp: by x where min < x < max, by min where x < min < max, by max where max < x;
    no derivative at a bound, at NaN or for min >= max (jnp.clip and torch.clamp pass it to x at a bound)."""
    a = arguments("clamp", args, kwargs, {"min": REQUIRED, "x": REQUIRED, "max": REQUIRED}, position)
    value = FUNCTIONS["clip"](b, [a["x"], a["min"], a["max"]], {}, position)
    if not isinstance(value, Tracer):
        return value
    lo, x, hi = (tensor(b, a[k], "clamp", position) for k in ("min", "x", "max"))
    op = lambda name, *xs: b.apply(name, *xs, position=position)  # noqa: E731
    inside = op("where", op("lt", lo, x), op("lt", x, hi), False)
    below = op("where", op("gt", lo, x), op("lt", lo, hi), False)
    return _selected(b, position, (inside, x), (below, lo), (op("lt", hi, x), hi), op("detach", value))


def _lax_extreme(name: str):
    def lowering(b, args, kwargs, position):
        """jax.lax.max / min(x, y): the element-wise extreme, differentiated as JAX's: half to each at a tie, no
        derivative where the result is NaN (torch.maximum and jnp.maximum pass it to both there)."""
        out = FUNCTIONS[name](b, args, kwargs, position)
        if not isinstance(out, Tracer):
            return out
        return b.apply("where", b.apply("isnan", out, position=position), b.apply("detach", out, position=position),
                       out, position=position)
    return lowering


def _lax_abs(b, args, kwargs, position):
    """jax.lax.abs(x): |x|, differentiated as JAX's: 1 where x >= 0 (at ±0 too), -1 elsewhere (NaN included);
    jnp.abs and torch.abs give 0 at 0 (PyTorch's choice)."""
    x = tensor(b, arguments("abs", args, kwargs, {"x": REQUIRED}, position)["x"], "abs", position)
    if not isinstance(x, Tracer) or x.id in b.integral or x.id in b.booleans:
        return FUNCTIONS["abs"](b, [x], {}, position)
    op = lambda name, *xs: b.apply(name, *xs, position=position)  # noqa: E731
    # x + 0 is +0 at -0 (IEEE), so the value is |x| bit for bit but NaN's sign, and its derivative 1
    return op("where", op("ge", x, 0.0), op("add", x, 0.0), op("neg", x))


def _lax_integer_pow(b, args, kwargs, position):
    """jax.lax.integer_pow(x, y): x ** y for a constant integer y."""
    a = arguments("integer_pow", args, kwargs, {"x": REQUIRED, "y": REQUIRED}, position)
    y = static_int(b, a["y"], "integer_pow's exponent", position)
    return b.apply("pow", tensor(b, a["x"], "integer_pow", position), float(y), position=position)


def _lax_dot(b, args, kwargs, position):
    """jax.lax.dot(a, b): the product of vectors and matrices (1-d or 2-d), as jnp.dot."""
    a = arguments("dot", args, kwargs, {"x": REQUIRED, "y": REQUIRED, "precision": None,
                                        "preferred_element_type": None}, position)
    x, y = tensor(b, a["x"], "dot", position), tensor(b, a["y"], "dot", position)
    if x.ndim not in (1, 2) or y.ndim not in (1, 2):
        raise JacValueError("jax.lax.dot takes vectors and matrices; for more axes write jnp.einsum or "
                            "jnp.matmul", position)
    return FUNCTIONS["matmul"](b, [x, y], {}, position)


def _lax_cumulative(fname):
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "axis": 0, "reverse": False}, position)
        x = tensor(b, a["x"], fname, position)
        if static(b, a["reverse"], "reverse", position):
            flipped = FUNCTIONS["flip"](b, [x], {"axis": a["axis"]}, position)
            out = FUNCTIONS[fname](b, [flipped], {"axis": a["axis"]}, position)
            return FUNCTIONS["flip"](b, [out], {"axis": a["axis"]}, position)
        return FUNCTIONS[fname](b, [x], {"axis": a["axis"]}, position)
    lower.__doc__ = f"jax.lax.{fname}(x, axis=0, reverse=False)"
    return lower


def _lax_reduce(fname, shared):
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "axes": REQUIRED}, position)
        return FUNCTIONS[shared](b, [a["x"]], {"axis": static(b, a["axes"], "axes", position)}, position)
    lower.__doc__ = f"jax.lax.{fname}(x, axes): {shared} over the axes"
    return lower


def _lax_reshape(b, args, kwargs, position):
    """jax.lax.reshape(x, new_sizes)."""
    a = arguments("reshape", args, kwargs, {"x": REQUIRED, "new_sizes": REQUIRED, "dimensions": None}, position)
    if a["dimensions"] is not None:
        raise JacValueError("jax.lax.reshape(..., dimensions=...) is not supported: transpose first "
                            "(jnp.transpose(x, dimensions)), then reshape", position)
    return FUNCTIONS["reshape"](b, [a["x"], a["new_sizes"]], {}, position)


def _lax_concatenate(b, args, kwargs, position):
    """jax.lax.concatenate(operands, dimension)."""
    a = arguments("concatenate", args, kwargs, {"operands": REQUIRED, "dimension": REQUIRED}, position)
    return FUNCTIONS["concatenate"](b, [a["operands"]], {"axis": a["dimension"]}, position)


for _name in _LAX_SAME:
    if _name not in _LAX_RENAMED and _name != "abs":
        variant("jax.lax", _name)(FUNCTIONS[_name])
for _name, _shared in _LAX_RENAMED.items():
    if _name not in ("max", "min"):
        variant("jax.lax", _name)(FUNCTIONS[_shared])
variant("jax.lax", "max")(_lax_extreme("maximum"))
variant("jax.lax", "min")(_lax_extreme("minimum"))
variant("jax.lax", "abs")(_lax_abs)
variant("jax.lax", "transpose")(library_function("numpy", "transpose"))  # lax.transpose(x, permutation)
variant("jax.lax", "clamp")(_lax_clamp)
variant("jax.lax", "integer_pow")(_lax_integer_pow)
variant("jax.lax", "dot")(_lax_dot)
variant("jax.lax", "cumsum")(_lax_cumulative("cumsum"))
variant("jax.lax", "cumprod")(_lax_cumulative("cumprod"))
variant("jax.lax", "reduce_sum")(_lax_reduce("reduce_sum", "sum"))
variant("jax.lax", "reduce_max")(_lax_reduce("reduce_max", "amax"))
variant("jax.lax", "reduce_min")(_lax_reduce("reduce_min", "amin"))
variant("jax.lax", "reshape")(_lax_reshape)
variant("jax.lax", "concatenate")(_lax_concatenate)

variant("jax.scipy.linalg", "cho_solve")(_cho_solve_as("jax.scipy.linalg"))
variant("jax.scipy.linalg", "solve_triangular")(_solve_triangular_as("jax.scipy.linalg"))


LIBRARY_NAMES = {
    "jax": frozenset(JAX_NN_SHARED) | {"softmax", "log_softmax", "logsumexp", "standardize", "squareplus",
                                       "sparse_plus", "sparse_sigmoid"} | JAX_NN_NAMES | JAX_NN_ATTENTION,
    "scipy": frozenset(SCIPY_SHARED) | {"rel_entr", "kl_div", "log_expit", "huber", "pseudo_huber"} | SCIPY_NAMES
    | SCIPY29 | SCIPY30,
    "jax.scipy": frozenset(JAX_SCIPY_SHARED) | {"rel_entr", "kl_div"} | JAX_SCIPY_NAMES | JAX_SCIPY_MORE | SPECIALS28
    | JAX_SCIPY29,
    "jax.scipy.linalg": JAX_LINALG,
    "scipy.linalg": SCIPY_LINALG,
    "scipy.integrate": frozenset({"trapezoid", "cumulative_trapezoid"}),  # session 34b: lang/functions.py
    "jax.scipy.integrate": frozenset({"trapezoid"}),
}  # lang/names34.py adds scipy.spatial.distance, numpy.lib.stride_tricks and numpy.polynomial's modules
# Of LIBRARY_NAMES, those jac refuses when called, each saying why: a message names them apart from those it reads
LIBRARY_REFUSED = {"scipy.linalg": frozenset(REFUSED), "jax.scipy.linalg": frozenset(JAX_REFUSED)}
# What to write a name of a library with when jac lacks it, besides what jac reads of that library: its own kin
# (parser.library_message); a library without an entry gets its root's (torch's, NumPy's, jnp's functions).
# A module that adds a library to LIBRARY_NAMES may add its ending here (lang/distributions.py).
_LINALG = "solve, inv, det, slogdet, cholesky, eigh, svd, qr, pinv, norm"
LIBRARY_ENDINGS = {"jax.scipy.linalg": f"jnp.linalg's functions ({_LINALG})",
                   "scipy.linalg": f"np.linalg's functions ({_LINALG})"}
