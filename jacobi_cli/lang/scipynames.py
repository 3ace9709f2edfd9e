"""More of ``scipy.special`` (session 28; registered in ``functions``' table when ``lang`` is imported), as SciPy
computes it: the gamma family and the complete elliptic integrals on ops whose values are SciPy's own (``gamma``,
``rgamma``, ``beta``, ``betaln``, ``binom``, ``poch``, ``ellipk``, ``ellipe``, ``ellipkm1`` in :mod:`jacobi_cli.ir.ops`), and the functions SciPy writes with a few elementary ops
(``comb``, ``perm``, ``factorial``, ``loggamma``, ``gammasgn``, ``exp10``, ``cosm1``, ``powm1``, ``exprel``,
``erfcinv``, the Box-Cox transforms, ``radian``; the orthogonal polynomials ``eval_legendre`` / ``chebyt`` /
``chebyu`` / ``hermite`` / ``hermitenorm`` / ``laguerre`` / ``genlaguerre`` of constant integer orders, SciPy's
recurrences written out step by step) lowered onto jac's ops in SciPy's own formulas, branches and order of
operations, so the values are SciPy's and the derivatives are those ops' rules. ``exact=True`` (Python integers) is refused: jac's values are floats.
"""

from __future__ import annotations

import numpy as np

from .functions import REQUIRED, JacValueError, arguments, boolean, static, tensor, variant
from .laxmore import _both as _and  # p and q as a mask
from .laxnames import _gammasgn_of  # JAX's gammasgn is SciPy's: NaN at the poles, -1 at -0 (tests/test_scipy28.py)
from .laxnames import _ops  # op(name, *args): b.apply at the call's position

SCIPY_NAMES = frozenset({"gamma", "rgamma", "gammasgn", "loggamma", "factorial", "beta", "betaln", "binom", "comb",
                         "perm", "poch", "exp10", "cosm1", "powm1", "exprel", "erfcinv", "boxcox", "boxcox1p",
                         "inv_boxcox", "inv_boxcox1p", "radian", "eval_legendre", "eval_chebyt", "eval_chebyu",
                         "eval_hermite", "eval_hermitenorm", "eval_laguerre", "eval_genlaguerre", "ellipk", "ellipe",
                         "ellipkm1", "expi", "exp1", "dawsn"})


def _arrays(fname, names, args, kwargs, b, position, extra=None):
    """The arguments ``names`` of scipy.special.``fname`` as arrays, and the parsed arguments."""
    a = arguments(fname, args, kwargs, {**dict.fromkeys(names, REQUIRED), **(extra or {}), "out": None}, position)
    if a["out"] is not None:
        raise JacValueError(f"scipy.special.{fname}(..., out=...) writes into an array, which jac does not do: use "
                            "the result", position)
    return [tensor(b, a[n], f"scipy.special.{fname}", position) for n in names], a


def _not_exact(fname, a, b, position):
    if static(b, a["exact"], "exact", position):
        raise JacValueError(f"scipy.special.{fname}(..., exact=True) gives Python integers, which jac does not "
                            f"compute: write exact=False (the default), a float", position)


def _op_of(op_name, fname, names):
    def lower(b, args, kwargs, position):
        xs, _ = _arrays(fname, names, args, kwargs, b, position)
        return b.apply(op_name, *xs, position=position)
    lower.__doc__ = f"scipy.special.{fname}({', '.join(names)}): SciPy's values (the op {op_name})"
    return lower


for _name, _names in (("gamma", ("x",)), ("rgamma", ("x",)), ("beta", ("a", "b")), ("betaln", ("a", "b")),
                      ("binom", ("n", "k")), ("poch", ("z", "m")), ("ellipk", ("m",)), ("ellipe", ("m",)),
                      ("ellipkm1", ("p",)), ("expi", ("x",)), ("exp1", ("x",)), ("dawsn", ("x",))):
    variant("scipy", _name)(_op_of(_name, _name, _names))


@variant("scipy", "gammasgn")
def _gammasgn(b, args, kwargs, position):
    """scipy.special.gammasgn(x): the sign of Γ(x), NaN at its poles; derivative 0."""
    (x,), _ = _arrays("gammasgn", ("x",), args, kwargs, b, position)
    return _gammasgn_of(b, x, position)


@variant("scipy", "loggamma")
def _loggamma(b, args, kwargs, position):
    """scipy.special.loggamma(x) of a real x: lgamma(x) for x > 0, inf at ±0, NaN below (the principal branch is
    complex there: jac has no complex numbers)."""
    (x,), _ = _arrays("loggamma", ("x",), args, kwargs, b, position)
    op = _ops(b, position)
    return op("where", boolean(b, op("gt", x, 0.0)), op("lgamma", x),
              op("where", boolean(b, op("eq", x, 0.0)), np.inf, np.nan))


def _or(b, op, p, q):
    """p or q, as a mask (the builder's booleans: never differentiated)."""
    return boolean(b, op("where", p, True, q))


def _valid(b, op, n, k):
    """SciPy's cond of comb and perm: k <= N, N >= 0, k >= 0 (False where either is NaN)."""
    return _and(b, op, _and(b, op, op("le", k, n), op("ge", n, 0.0)), op("ge", k, 0.0))


@variant("scipy", "factorial")
def _factorial(b, args, kwargs, position):
    """scipy.special.factorial(n, exact=False): Γ(n + 1) for n >= 0 (any real n), 0 for n < 0, NaN for NaN."""
    (n,), a = _arrays("factorial", ("n",), args, kwargs, b, position, {"exact": False, "extend": "zero"})
    _not_exact("factorial", a, b, position)
    if static(b, a["extend"], "extend", position) != "zero":
        raise JacValueError("scipy.special.factorial(..., extend='complex') gives complex numbers, which jac does not "
                            "compute: leave extend='zero' (0 for n < 0)", position)
    op = _ops(b, position)
    return op("where", boolean(b, op("lt", n, 0.0)), 0.0, op("gamma", op("add", n, 1.0)))


@variant("scipy", "comb")
def _comb(b, args, kwargs, position):
    """scipy.special.comb(N, k, exact=False, repetition=False): binom(N, k) where 0 <= k <= N, else 0;
    repetition=True is comb(N + k - 1, k)."""
    (n, k), a = _arrays("comb", ("N", "k"), args, kwargs, b, position, {"exact": False, "repetition": False})
    _not_exact("comb", a, b, position)
    op = _ops(b, position)
    if static(b, a["repetition"], "repetition", position):  # SciPy 1.17: binom itself, 1 where k == 0 <= N
        return op("where", _and(b, op, op("eq", k, 0.0), op("ge", n, 0.0)), 1.0,
                  op("binom", op("sub", op("add", n, k), 1.0), k))
    return op("where", _valid(b, op, n, k), op("binom", n, k), 0.0)


@variant("scipy", "perm")
def _perm(b, args, kwargs, position):
    """scipy.special.perm(N, k, exact=False): poch(N - k + 1, k) where 0 <= k <= N, else 0."""
    (n, k), a = _arrays("perm", ("N", "k"), args, kwargs, b, position, {"exact": False})
    _not_exact("perm", a, b, position)
    op = _ops(b, position)
    return op("where", _valid(b, op, n, k), op("poch", op("add", op("sub", n, k), 1.0), k), 0.0)


@variant("scipy", "exp10")
def _exp10(b, args, kwargs, position):
    """scipy.special.exp10(x): 10**x."""
    (x,), _ = _arrays("exp10", ("x",), args, kwargs, b, position)
    return b.apply("pow", 10.0, x, position=position)


@variant("scipy", "cosm1")
def _cosm1(b, args, kwargs, position):
    """scipy.special.cosm1(x): cos(x) - 1 without its cancellation near 0, as -2 sin²(x / 2)."""
    (x,), _ = _arrays("cosm1", ("x",), args, kwargs, b, position)
    op = _ops(b, position)
    return op("mul", -2.0, op("square", op("sin", op("mul", x, 0.5))))


@variant("scipy", "powm1")
def _powm1(b, args, kwargs, position):
    """scipy.special.powm1(x, y): x**y - 1 without its cancellation, SciPy's branches (its wrapper of Boost's
    powm1): 0 where y == 0 or x == 1 (NaN included); at x = ±0, inf for y < 0 and -1 for y > 0; NaN for x < 0 and a
    non-integer y; |x| for x < 0 and an even y; then expm1(y log x) where |y (x - 1)| < 0.5 or |y| < 0.2, x**y - 1
    elsewhere (an overflow is inf, where SciPy 1.17 gives 0 for x < 1: tests/test_scipy28.py)."""
    (x, y), _ = _arrays("powm1", ("x", "y"), args, kwargs, b, position)
    op = _ops(b, position)
    even = _and(b, op, op("lt", x, 0.0), op("eq", op("mul", op("trunc", op("mul", y, 0.5)), 2.0), y))
    base = op("where", even, op("neg", x), x)  # an even power of x < 0 is that of -x
    positive = boolean(b, op("gt", base, 0.0))
    near = _and(b, op, positive, _or(b, op, op("lt", op("abs", op("mul", y, op("sub", base, 1.0))), 0.5),
                                     op("lt", op("abs", y), 0.2)))
    logged = op("expm1", op("mul", op("where", near, y, 0.0), op("log", op("where", near, base, 1.0))))
    plain = op("sub", op("pow", op("where", near, 2.0, base), op("where", near, 1.0, y)), 1.0)
    out = op("where", near, logged, plain)
    zero = boolean(b, op("eq", x, 0.0))
    at_zero = op("where", boolean(b, op("lt", y, 0.0)), np.inf, op("where", boolean(b, op("gt", y, 0.0)), -1.0, out))
    out = op("where", zero, at_zero, out)
    odd_root = _and(b, op, op("lt", x, 0.0), op("ne", op("trunc", y), y))
    out = op("where", odd_root, np.nan, out)
    # where expm1(y log x) is already exactly 0 there (x == 1 or y == 0, x a positive number) it is kept: its
    # derivatives (y by x, log x by y) are powm1's; the constant 0 had none (the first derivative by x at x == 1
    # was 0, not y)
    exact = _and(b, op, op("eq", out, 0.0), op("gt", x, 0.0))
    return op("where", exact, out, op("where", _or(b, op, op("eq", y, 0.0), op("eq", x, 1.0)), 0.0, out))


@variant("scipy", "exprel")
def _exprel(b, args, kwargs, position):
    """scipy.special.exprel(x): (exp(x) - 1) / x, 1 at 0: the series 1 + x/2 + x²/6 + x³/24 + x⁴/120 for
    |x| < 1e-5 (its derivative 1/2 at 0: the quotient's branch would give none), expm1(x) / x elsewhere, inf past
    717 as SciPy."""
    (x,), _ = _arrays("exprel", ("x",), args, kwargs, b, position)
    op = _ops(b, position)
    small = boolean(b, op("lt", op("abs", x), 1e-5))
    t = op("where", small, x, 0.0)
    series = op("add", 1.0, op("mul", t, op("add", 0.5, op("mul", t, op("add", 1.0 / 6.0, op(
        "mul", t, op("add", 1.0 / 24.0, op("mul", t, 1.0 / 120.0))))))))
    safe = op("where", small, 1.0, x)
    quotient = op("where", boolean(b, op("gt", safe, 717.0)), np.inf, op("div", op("expm1", safe), safe))
    return op("where", small, series, quotient)


@variant("scipy", "erfcinv")
def _erfcinv(b, args, kwargs, position):
    """scipy.special.erfcinv(y): -ndtri(y / 2) / √2, SciPy's formula (inf at 0, -inf at 2, NaN outside)."""
    (y,), _ = _arrays("erfcinv", ("y",), args, kwargs, b, position)
    op = _ops(b, position)
    return op("mul", op("neg", op("ndtri", op("mul", 0.5, y))), float(np.sqrt(0.5)))


def _boxcox(fname, log):
    def lower(b, args, kwargs, position):
        (x, lmbda), _ = _arrays(fname, ("x", "lmbda"), args, kwargs, b, position)
        op = _ops(b, position)
        logged = op(log, x)
        tiny = op("lt", op("abs", lmbda), 1e-19)
        if log == "log1p":  # SciPy: also where log1p(x) is below 1e-289 (the product would underflow)
            tiny = _or(b, op, tiny, _and(b, op, op("lt", op("abs", logged), 1e-289), op("lt", op("abs", lmbda), 1e273)))
        safe = op("where", tiny, 1.0, lmbda)
        return op("where", tiny, logged, op("div", op("expm1", op("mul", safe, logged)), safe))
    lower.__doc__ = (f"scipy.special.{fname}(x, lmbda): {log}(x) where |lmbda| < 1e-19, else expm1(lmbda · "
                     f"{log}(x)) / lmbda, SciPy's branches")
    return lower


def _inv_boxcox(fname, outer):
    def lower(b, args, kwargs, position):
        (y, lmbda), _ = _arrays(fname, ("y", "lmbda"), args, kwargs, b, position)
        op = _ops(b, position)
        zero = boolean(b, op("eq", lmbda, 0.0))
        safe = op("where", zero, 1.0, lmbda)
        power = op(outer, op("div", op("log1p", op("mul", safe, y)), safe))
        out = op("where", zero, op(outer, y), power)
        if outer == "expm1":  # SciPy: y itself where |lmbda · y| < 1e-154
            out = op("where", _and(b, op, op("lt", op("abs", op("mul", lmbda, y)), 1e-154), op("ne", lmbda, 0.0)),
                     y, out)
        return out
    lower.__doc__ = (f"scipy.special.{fname}(y, lmbda): the inverse of the Box-Cox transform, {outer}(log1p(lmbda · "
                     f"y) / lmbda), {outer}(y) where lmbda == 0, SciPy's branches")
    return lower


variant("scipy", "boxcox")(_boxcox("boxcox", "log"))
variant("scipy", "boxcox1p")(_boxcox("boxcox1p", "log1p"))
variant("scipy", "inv_boxcox")(_inv_boxcox("inv_boxcox", "exp"))
variant("scipy", "inv_boxcox1p")(_inv_boxcox("inv_boxcox1p", "expm1"))


@variant("scipy", "radian")
def _radian(b, args, kwargs, position):
    """scipy.special.radian(d, m, s): degrees, minutes and seconds in radians, ((d · 60 + m) · 60 + s) · π / 648000
    (Cephes' order of operations)."""
    (d, m, s), _ = _arrays("radian", ("d", "m", "s"), args, kwargs, b, position)
    op = _ops(b, position)
    return op("mul", op("add", op("mul", op("add", op("mul", d, 60.0), m), 60.0), s), float(np.pi / 648000.0))


# --- orthogonal polynomials of integer order: SciPy's recurrences (orthogonal_eval.pxd) written out ---------------

_MAX_ORDER = 10_000


def _orders(b, value, fname, position) -> np.ndarray:
    """The orders ``n`` of an eval_* call: a constant integer or array of them (jac writes the recurrence out)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        orders = np.asarray(float(value))
    elif hasattr(value, "id") and b.nodes[value.id].op == "const":
        orders = np.asarray(b.nodes[value.id].value, dtype=float)
    else:
        raise JacValueError(f"scipy.special.{fname}: the order n must be a constant integer or an array of them (jac "
                            f"writes the recurrence out per order), not an expression of the inputs", position)
    if not np.all(np.isfinite(orders)) or np.any(orders != np.round(orders)):
        raise JacValueError(f"scipy.special.{fname}: only integer orders are read (SciPy computes the others by a "
                            f"hypergeometric function, which jac does not)", position)
    if orders.size and np.max(np.abs(orders)) > _MAX_ORDER:
        raise JacValueError(f"scipy.special.{fname}: order {int(np.max(np.abs(orders))):,} is over jac's "
                            f"{_MAX_ORDER:,} (each step of the recurrence is written out)", position)
    return orders.astype(np.int64)


def _laguerre_alpha(b, value, position):
    """eval_genlaguerre's alpha: a float when it is one constant number (the recurrence's coefficients are then
    numbers, as before session 38), else the node (an input, an expression of them, an array)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if hasattr(value, "id") and b.nodes[value.id].op == "const" and np.ndim(b.nodes[value.id].value) == 0:
        return float(b.nodes[value.id].value)
    return tensor(b, value, "scipy.special.eval_genlaguerre", position)


def _genlaguerre_of_alpha(op, x, alpha, top, ones, zeros):
    """SciPy's recurrence for L_n^(alpha)(x) / binom(n + alpha, n) with alpha a node (session 38), the same operations
    in the same order as for a number, so the values are the same bits; the derivative by alpha is the recurrence's
    (a rational function of alpha: exact, and stable as the recurrence), times binom's (digamma). Elements where
    alpha <= -1 (SciPy's NaN) run on alpha = 0 and are made NaN by the factor returned second."""
    valid = op("gt", alpha, -1.0)
    safe = op("where", valid, alpha, 0.0)
    ps = [ones, op("add", op("add", op("neg", x), safe), 1.0)]  # (-x + alpha) + 1, C's order
    if top >= 2:
        d = op("div", op("neg", x), op("add", safe, 1.0))
        p = op("add", d, 1.0)
        for kk in range(top - 1):
            k = kk + 1.0
            kal1 = op("add", op("add", safe, k), 1.0)  # k + alpha + 1, as (k + alpha) + 1
            d = op("add", op("mul", op("div", op("neg", x), kal1), p), op("mul", op("div", k, kal1), d))
            p = op("add", p, d)
            ps.append(p)

    def each(n):
        if n < 0:
            return zeros
        return ps[n] if n < 2 else op("mul", op("binom", op("add", safe, float(n)), float(n)), ps[n])
    return each, op("where", valid, 1.0, np.nan)


def _by_order(b, op, orders, x, each, position):
    """The polynomial of each element's order: ``each(n)`` (a node shaped as x) per distinct n, chosen by where."""
    shape = tuple(np.broadcast_shapes(orders.shape, tuple(x.shape)))
    distinct = sorted(set(orders.ravel().tolist())) or [0]
    out = None
    for n in distinct:
        value = each(n)
        if tuple(value.shape) != shape:
            value = b.apply("broadcast_to", value, shape=shape, position=position)
        out = value if out is None else op("where", boolean(b, b.const((orders == n).astype(b.dtype), position)),
                                           value, out)
    return out


def _filled(b, x, value, position):
    """A constant of x's shape (not 0·x + value: that is NaN where x is inf)."""
    return b.const(np.full(tuple(x.shape), value, dtype=b.dtype), position)


def _chebyshev_sequence(b, op, x, count, position):
    """SciPy's loop b0 = 2x·b1 − b2 from b2 = 0, b1 = −1, b0 = 0: ``s[j]`` is the value after j − 1 steps (s[0] the
    start's b1, s[1] its b0): U_m = s[m + 2], T_m = (s[m + 2] − s[m]) / 2."""
    x2 = op("mul", 2.0, x)
    s = [_filled(b, x, -1.0, position), _filled(b, x, 0.0, position)]
    for _ in range(count):
        s.append(op("sub", op("mul", x2, s[-1]), s[-2]))
    return s


def _legendre_series(b, op, n, x, x2):
    """SciPy's power series of P_n for |x| < 1e-5 (where its recurrence loses digits), term by term in its order
    of operations: d = ±2/B(a + 1, -1/2) (even n) or ±2x/B(a + 1, 1/2) (odd n), then d *= -2x² (a - k)(2n + 1 -
    2a + 2k) / ((n + 1 - 2a + 2k)(n + 2 - 2a + 2k))."""
    from scipy import special

    a = n // 2
    sign = 1.0 if a % 2 == 0 else -1.0
    if n == 2 * a:
        d = _filled(b, x, sign * (-2.0 / float(special.beta(a + 1, -0.5))), None)
    else:
        d = op("mul", sign, op("div", op("mul", 2.0, x), float(special.beta(a + 1, 0.5))))
    p = None
    for kk in range(a + 1):
        p = d if p is None else op("add", p, d)
        factor = op("div", op("mul", op("mul", op("mul", -2.0, x2), float(a - kk)), float(2 * n + 1 - 2 * a + 2 * kk)),
                    float((n + 1 - 2 * a + 2 * kk) * (n + 2 - 2 * a + 2 * kk)))
        d = op("mul", d, factor)
    return p


def _eval(fname, params):
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {**dict.fromkeys(params, REQUIRED), "out": None}, position)
        if a["out"] is not None:
            raise JacValueError(f"scipy.special.{fname}(..., out=...) writes into an array, which jac does not do: use "
                                "the result", position)
        orders = _orders(b, a["n"], fname, position)
        x = tensor(b, a["x"], f"scipy.special.{fname}", position)
        op = _ops(b, position)
        alpha = _laguerre_alpha(b, a["alpha"], position) if fname == "eval_genlaguerre" else None
        if alpha is not None and not isinstance(alpha, float):  # alpha an array: x and alpha of their common shape
            shape = tuple(np.broadcast_shapes(tuple(x.shape), tuple(alpha.shape)))
            x, alpha = (v if tuple(v.shape) == shape else b.apply("broadcast_to", v, shape=shape, position=position)
                        for v in (x, alpha))
        top = int(np.max(np.abs(orders))) if orders.size else 0
        b.check_nodes(4 * (top + 3) * (1 + (fname in ("eval_hermite", "eval_hermitenorm")) * len(set(
            orders.ravel().tolist()))), f"scipy.special.{fname} of order {top}", position)
        ones, zeros, nan = (_filled(b, x, v, position) for v in (1.0, 0.0, np.nan))
        if fname in ("eval_chebyt", "eval_chebyu"):
            s = _chebyshev_sequence(b, op, x, top + 2, position)

            def each(n):
                if fname == "eval_chebyt":
                    n = abs(n)
                    return op("mul", op("sub", s[n + 2], s[n]), 0.5)
                if n == -1:
                    return zeros
                return op("neg", s[-n - 2 + 2]) if n < -1 else s[n + 2]
        elif fname == "eval_legendre":
            ps = [ones, x]  # P_0, P_1; then SciPy's loop on d = P_k - P_(k-1), stable near x = 1
            d, p = op("sub", x, 1.0), x
            xm1 = op("sub", x, 1.0)
            for kk in range(top - 1):
                k = kk + 1.0
                d = op("add", op("mul", op("mul", (2 * k + 1) / (k + 1), xm1), p), op("mul", k / (k + 1), d))
                p = op("add", p, d)
                ps.append(p)

            small = boolean(b, op("lt", op("abs", x), 1e-5))
            x2 = op("mul", x, x)

            def each(n):
                n = -n - 1 if n < 0 else n
                if n < 2:
                    return ps[n]
                return op("where", small, _legendre_series(b, op, n, x, x2), ps[n])
        elif fname in ("eval_laguerre", "eval_genlaguerre") and not isinstance(alpha, float) and alpha is not None:
            each, alpha_nan = _genlaguerre_of_alpha(op, x, alpha, top, ones, zeros)
        elif fname in ("eval_laguerre", "eval_genlaguerre"):
            alpha = 0.0 if fname == "eval_laguerre" else alpha
            if fname == "eval_genlaguerre" and not alpha > -1:
                return nan  # SciPy: NaN for alpha <= -1
            from scipy import special

            ps = [ones, op("add", op("add", op("neg", x), alpha), 1.0)]  # (-x + alpha) + 1, C's order
            if top >= 2:
                d = op("div", op("neg", x), alpha + 1)
                p = op("add", d, 1.0)
                for kk in range(top - 1):
                    k = kk + 1.0
                    d = op("add", op("mul", op("div", op("neg", x), k + alpha + 1), p), op("mul", k / (k + alpha + 1), d))
                    p = op("add", p, d)
                    ps.append(p)

            def each(n):
                if n < 0:
                    return zeros
                return ps[n] if n < 2 else op("mul", float(special.binom(n + alpha, n)), ps[n])
        else:  # Hermite: SciPy's loop from k = n down to 2, per order
            scale = fname == "eval_hermite"
            t = op("mul", float(np.sqrt(2.0)), x) if scale else x

            def each(n):
                if n < 0:
                    return nan
                if n < 2:
                    value = ones if n == 0 else t
                else:
                    y3, y2 = zeros, ones
                    for k in range(n, 1, -1):
                        y3, y2 = y2, op("sub", op("mul", t, y2), op("mul", float(k), y3))
                    value = op("sub", op("mul", t, y2), y3)
                return op("mul", value, float(2.0 ** (n / 2.0))) if scale else value
        out = _by_order(b, op, orders, x, each, position)
        if fname not in ("eval_legendre", "eval_chebyt", "eval_chebyu"):  # SciPy: NaN at a NaN x, whatever n
            out = op("where", boolean(b, op("isnan", x)), np.nan, out)
        if fname == "eval_genlaguerre" and not isinstance(alpha, float):
            out = op("mul", out, alpha_nan)  # NaN at alpha <= -1, as SciPy's value (a constant there: derivative 0)
        return out
    lower.__doc__ = (f"scipy.special.{fname}({', '.join(params)}) of integer orders n (constants): SciPy's recurrence "
                     "written out, its derivative by x that of the ops")
    return lower


for _fname in ("eval_legendre", "eval_chebyt", "eval_chebyu", "eval_hermite", "eval_hermitenorm", "eval_laguerre"):
    variant("scipy", _fname)(_eval(_fname, ("n", "x")))
variant("scipy", "eval_genlaguerre")(_eval("eval_genlaguerre", ("n", "alpha", "x")))
