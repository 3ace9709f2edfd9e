"""The rest of JAX's vocabulary read in session 27 (registered in ``functions``' table when ``lang`` is imported),
each a lowering onto the functions and ops jac has, as JAX writes it, so the derivatives are those ops' rules:
``jax.scipy.special``'s ``boxcox`` / ``boxcox1p`` / ``comb`` / ``poch`` / ``bernoulli`` (``JAX_SCIPY_MORE``), and
``jax.lax``'s bitwise ops and shifts of integer constants (computed at build time, in their dtype, as JAX does;
a float refused as JAX refuses it).
"""

from __future__ import annotations

import numpy as np

from ..ir.refusals import refused
from .functions import FUNCTIONS, REQUIRED, JacValueError, Static, arguments, boolean, is_boolean, static, static_int, \
    tensor, variant

JAX_SCIPY_MORE = frozenset({"boxcox", "boxcox1p", "comb", "poch", "bernoulli"})


def _ops(b, position):
    return lambda name, *args: b.apply(name, *args, position=position)


def _both(b, op, p, q):
    """p and q, as masks (the builder's booleans: never differentiated)."""
    return boolean(b, op("where", p, q, False))


def _pair(fname, names, args, kwargs, b, position, extra=None):
    a = arguments(fname, args, kwargs, {names[0]: REQUIRED, names[1]: REQUIRED, **(extra or {})}, position)
    return tensor(b, a[names[0]], f"jax.scipy.special.{fname}", position), \
        tensor(b, a[names[1]], f"jax.scipy.special.{fname}", position), a


def _boxcox(fname, log):
    def lower(b, args, kwargs, position):
        x, lmbda, _ = _pair(fname, ("x", "lmbda"), args, kwargs, b, position)
        op = _ops(b, position)
        zero = boolean(b, op("eq", lmbda, 0.0))
        safe = op("where", zero, 1.0, lmbda)  # JAX's safe_lmbda: the power branch never divides by 0
        logged = op(log, x)
        power = op("div", op("expm1", op("mul", safe, logged)), safe)
        return op("where", zero, logged, power)
    lower.__doc__ = (f"jax.scipy.special.{fname}(x, lmbda): {log}(x) where lmbda == 0, else "
                     f"expm1(lmbda · {log}(x)) / lmbda, JAX's formula (its where: derivatives of the branch taken)")
    return lower


variant("jax.scipy", "boxcox")(_boxcox("boxcox", "log"))
variant("jax.scipy", "boxcox1p")(_boxcox("boxcox1p", "log1p"))


def _comb_of(b, n, k, position):
    """JAX's comb without repetition: exp(lgamma(N + 1) - lgamma(k + 1) - lgamma(N + 1 - k)) where 0 <= k <= N,
    0 elsewhere (the lgammas fed 0 there)."""
    op = _ops(b, position)
    cond = _both(b, op, _both(b, op, boolean(b, op("le", k, n)), boolean(b, op("ge", n, 0.0))),
                 boolean(b, op("ge", k, 0.0)))
    safe_n, safe_k = op("where", cond, n, 0.0), op("where", cond, k, 0.0)
    n1 = op("add", safe_n, 1.0)
    result = op("exp", op("sub", op("sub", op("lgamma", n1), op("lgamma", op("add", safe_k, 1.0))),
                          op("lgamma", op("sub", n1, safe_k))))
    return op("where", cond, result, 0.0)


@variant("jax.scipy", "comb")
def _comb(b, args, kwargs, position):
    """jax.scipy.special.comb(N, k, *, repetition=False): the binomial coefficient by lgamma, as JAX computes it
    (a float for any N and k; 0 outside 0 <= k <= N); repetition=True: comb(N + k - 1, k), 1 where k == 0 <= N."""
    n, k, a = _pair("comb", ("N", "k"), args, kwargs, b, position, {"repetition": False, "exact": False})
    if static(b, a["exact"], "exact", position):
        raise JacValueError("jax.scipy.special.comb has no exact= (JAX's comb takes N, k and repetition): drop it; "
                            "its value is a float computed by lgamma", position)
    if not static(b, a["repetition"], "repetition", position):
        return _comb_of(b, n, k, position)
    op = _ops(b, position)
    cond = _both(b, op, boolean(b, op("eq", k, 0.0)), boolean(b, op("ge", n, 0.0)))
    return op("where", cond, 1.0, _comb_of(b, op("sub", op("add", n, k), 1.0), k, position))


_POCH = ("jax.scipy.special.poch where Γ(z) or Γ(z + m) is infinite, zero or NaN (z or z + m at a pole, a "
         "nonpositive integer, or past float64's range): JAX's value there comes from its own rule (1 where m == 0, "
         "NaN or inf elsewhere, with its derivative rule's NaN), which jac does not reproduce; move z off the poles")


@variant("jax.scipy", "poch")
def _poch(b, args, kwargs, position):
    """jax.scipy.special.poch(z, m): Γ(z + m) / Γ(z), JAX's gamma; where that is finite it is JAX's value (1 where
    m == 0: the same number divided by itself) and its derivatives are those of JAX's rule, (ψ(z + m) − ψ(z)) · poch
    by z and ψ(z + m) · poch by m, at every order; elsewhere refused at evaluation."""
    from .laxnames import _gammasgn_of

    z, m, _ = _pair("poch", ("z", "m"), args, kwargs, b, position)
    op = _ops(b, position)

    def gamma(x):
        return op("mul", _gammasgn_of(b, x, position), op("exp", op("lgamma", x)))

    ratio = op("div", gamma(op("add", z, m)), gamma(z))
    return refused(b, ratio, _POCH, where=op("isfinite", ratio), unless=True, position=position)


def bernoulli_numbers(n: int) -> np.ndarray:
    """B_0 .. B_n as JAX computes them (Chowla and Hartung's series, 48 terms; B_1 = -1/2), in float64."""
    b3 = np.array([1.0, -0.5, 1.0 / 6.0])
    if n < 3:
        return b3[:n + 1].copy()
    bn = np.zeros(n + 1)
    bn[:3] = b3
    m = np.arange(4, n + 1, 2, dtype=np.float64)
    q1 = (1.0 / np.pi ** 2) * np.cumprod(-(m - 1) * m / 4 / np.pi ** 2)
    k = np.arange(2, 50, dtype=np.float64)
    q2 = np.sum(k[:, None] ** -m[None, :], axis=0)
    bn[4::2] = q1 * (1 + q2)
    return bn


@variant("jax.scipy", "bernoulli")
def _bernoulli(b, args, kwargs, position):
    """jax.scipy.special.bernoulli(n): the Bernoulli numbers B_0 .. B_n (a constant), as JAX computes them."""
    a = arguments("bernoulli", args, kwargs, {"n": REQUIRED}, position)
    n = static_int(b, a["n"], "jax.scipy.special.bernoulli's n", position)
    if n < 0:
        raise JacValueError(f"jax.scipy.special.bernoulli: n must be a non-negative integer, got {n} (JAX raises "
                            f"ValueError)", position)
    if n > 100_000:
        raise JacValueError(f"jax.scipy.special.bernoulli({n}): jac makes constants up to n = 100,000", position)
    return b.const(bernoulli_numbers(n).astype(b.dtype), position)


# --- jax.lax's bitwise ops: of integer constants, computed in their dtype ----------------------------------------

def _lax_integers(b, value, fname, position) -> np.ndarray | int:
    """An operand of a bitwise op of jax.lax: an integer constant (its array in the dtype jac holds it, or a Python
    int), read at build time; a float is refused as JAX refuses it."""
    from ..ir import dtypes
    from .functions import _integer_operand

    t = tensor(b, value, f"jax.lax.{fname}", position)
    kind = dtypes.kind_of(b, t.id)
    if kind is None and t.id not in b.pyints or kind is not None and np.dtype(kind[0]).kind not in "iu":
        raise JacValueError(f"jax.lax.{fname} takes integers (JAX raises TypeError for a float or bool operand), and "
                            f"this one is {'a bool' if kind is not None else 'a float'} (jac's inputs are floats): "
                            f"convert an integer constant with .astype(jnp.int32)", position)
    return _integer_operand(b, value, f"jax.lax.{fname}", "numpy", position)


def _same_dtype(values, fname, position) -> list:
    """lax's operands have one dtype, as JAX requires (no promotion: a Python int is JAX's default integer, int64
    as jac reads JAX's integers, with jax_enable_x64)."""
    for v in values:
        if type(v) is int and not -2 ** 63 <= v < 2 ** 63:
            raise JacValueError(f"jax.lax.{fname}: the Python integer {v} is out of range for int64", position)
    arrays = [np.asarray(v, dtype=np.int64) if type(v) is int else np.asarray(v) for v in values]
    if len({a.dtype for a in arrays}) > 1:
        raise JacValueError(f"jax.lax.{fname} requires arguments of the same dtype, got "
                            f"{', '.join(str(a.dtype) for a in arrays)} (JAX raises TypeError; a Python int is "
                            f"JAX's default integer, int64 as jac reads JAX): give both one dtype "
                            f"(jnp.array(1, dtype=jnp.int32)), or write jnp's function, which promotes", position)
    return arrays


def _shift(kind, x, y):
    bits = x.dtype.itemsize * 8
    unsigned = np.dtype(f"u{x.dtype.itemsize}")
    inside = (y >= 0) & (y < bits)
    s = np.where(inside, y, 0).astype(unsigned)
    u = x.astype(unsigned, copy=False) if x.dtype.kind == "u" else x.view(unsigned)
    if kind == "left":
        out = (u << s).view(x.dtype) if x.dtype.kind != "u" else u << s
        return np.where(inside, out, 0).astype(x.dtype)
    if kind == "logical":
        out = (u >> s).view(x.dtype) if x.dtype.kind != "u" else u >> s
        return np.where(inside, out, 0).astype(x.dtype)
    return np.where(inside, x >> s.astype(x.dtype), np.where(x < 0, -1, 0)).astype(x.dtype)  # arithmetic


def _bits(kind, x):
    bits = x.dtype.itemsize * 8
    u = x.view(np.dtype(f"u{x.dtype.itemsize}")) if x.dtype.kind == "i" else x
    if kind == "population_count":
        return np.bitwise_count(u).astype(x.dtype)
    lengths = np.frompyfunc(lambda v: int(v).bit_length(), 1, 1)(u.astype(object)) if u.size else u
    return (bits - np.asarray(lengths, dtype=np.int64)).astype(x.dtype)  # clz


_BITWISE = {"bitwise_and": np.bitwise_and, "bitwise_or": np.bitwise_or, "bitwise_xor": np.bitwise_xor,
            "shift_left": lambda x, y: _shift("left", x, y),
            "shift_right_logical": lambda x, y: _shift("logical", x, y),
            "shift_right_arithmetic": lambda x, y: _shift("arithmetic", x, y)}
_UNARY_BITS = {"bitwise_not": np.invert, "population_count": lambda x: _bits("population_count", x),
               "clz": lambda x: _bits("clz", x)}


def _bitwise(fname):
    def lower(b, args, kwargs, position):
        from ..ir import dtypes

        names = ("x", "y") if fname in _BITWISE else ("x",)
        a = arguments(fname, args, kwargs, dict.fromkeys(names, REQUIRED), position)
        logical = fname in ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not")
        if logical and all(type(a[k]) is bool or dtypes.kind_of(b, getattr(a[k], "id", -1)) == (np.dtype(bool), None)
                           or is_boolean(b, a[k]) for k in names):  # of masks: their logic, as jnp's
            return FUNCTIONS[fname](b, [a[k] for k in names], {}, position)
        values = _same_dtype([_lax_integers(b, a[k], fname, position) for k in names], fname, position)
        with np.errstate(all="ignore"):
            result = np.asarray((_BITWISE.get(fname) or _UNARY_BITS[fname])(*values))
        out = b.const(dtypes.held(b, result, f"the result of jax.lax.{fname}", position), position)
        b.typed[out.id] = (result.dtype, None)
        return out
    lower.__doc__ = (f"jax.lax.{fname}({', '.join(('x', 'y') if fname in _BITWISE else ('x',))}): of integer "
                     f"constants, as JAX computes it in their dtype (a shift by a negative amount or past the width: "
                     f"0, or the sign for an arithmetic right shift); floats refused as JAX refuses them; no "
                     f"derivative (integers carry none)")
    return lower


for _name in (*_BITWISE, *_UNARY_BITS):
    variant("jax.lax", _name)(_bitwise(_name))


# --- jax.lax.RoundingMethod: the enum lax.round reads ---------------------------------------------------------

ROUNDING = Static("jax.lax.RoundingMethod")  # the enum named without a member (the parser's attribute)
_ROUNDING_MEMBERS = {"AWAY_FROM_ZERO": 0, "TO_NEAREST_EVEN": 1}


def rounding_method(member: str, position) -> int:
    """``lax.RoundingMethod.TO_NEAREST_EVEN`` as JAX's enum value (1; AWAY_FROM_ZERO is 0)."""
    if member not in _ROUNDING_MEMBERS:
        raise JacValueError(f"jax.lax.RoundingMethod has no member '{member}': it has AWAY_FROM_ZERO and "
                            f"TO_NEAREST_EVEN", position)
    return _ROUNDING_MEMBERS[member]


@variant("jax.lax", "nextafter")
def _nextafter(b, args, kwargs, position):
    """jax.lax.nextafter(x1, x2): jnp.nextafter (its derivative refused: JAX has no rule for it either)."""
    from .functions import library_function

    a = arguments("nextafter", args, kwargs, {"x1": REQUIRED, "x2": REQUIRED}, position)
    return (library_function("numpy", "nextafter") or FUNCTIONS["nextafter"])(b, [a["x1"], a["x2"]], {}, position)
