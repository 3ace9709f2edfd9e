"""∂P(a, x)/∂a, the derivative of the regularized lower incomplete gamma function by its parameter (session 39):
what JAX's ``igamma_grad_a`` gives, computed here by a differentiated series or continued fraction.

P = x^a e^-x / Γ(a + 1) · S, S = Σ_k t_k, t_0 = 1, t_k = t_(k-1) x / (a + k), so with h_k = Σ_(j<=k) 1/(a + j),
∂t_k/∂a = -h_k t_k and

    ∂P/∂a = P · (log x - ψ(a + 1) - Σ t_k h_k / S)                                  (x <= 1 or x <= a)

and Q = 1 - P = x^a e^-x / Γ(a) · F with Cephes' continued fraction F (igamc), whose convergents A_n / B_n are
differentiated by a along with them:

    ∂P/∂a = -∂Q/∂a = -Q · (log x - ψ(a) + F' / F)                                   (x > 1 and x > a)

P and Q are SciPy's (accurate where the prefactor's exponent a log x - x - lgamma(a) would lose digits at large
a), so the relative error is theirs plus the bracket's. In the series branch both terms of the bracket are
negative where x <= a (ψ(a + 1) > log(a + 1/2)); in the fraction's both positive: no cancellation but a mild one
where a < x <= 1. The series stops when its remainder bound (terms falling by r = x / (a + k + 1) < 1, h growing
by at most 1/(a + k + 1) a term) is below 1e-17 of both sums; the fraction when two successive convergents of F
and of F' agree to 1e-15. Neither may take more than ``MAX_TERMS`` terms: past that (a and x beyond ~1e6) the
derivative is refused, never a truncated sum.
"""

from __future__ import annotations

import numpy as np

from ..errors import JacValueError

MAX_TERMS = 20000
_TOL, _STEP = 1e-17, 1e-15
_BIG, _BIGINV = 2.0 ** 400, 2.0 ** -400
_SLOW = ("the derivative of gammainc(a, x) by a did not converge in {n} terms at a = {a:g}, x = {x:g} (jac sums "
         "a series or a continued fraction there, for a and x up to about 1e6): not answered")


def _series(a, x):
    """Σ t_k h_k / S for arrays a > 0, x > 0 (x <= max(a, 1))."""
    t, h = np.ones_like(a), np.zeros_like(a)
    s, d = np.ones_like(a), np.zeros_like(a)
    live = np.ones(a.shape, dtype=bool)
    for k in range(1, MAX_TERMS + 1):
        ak = a + k
        t = t * (x / ak)
        h = h + 1.0 / ak
        s = s + t
        d = d + t * h
        r = x / (ak + 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            tail_s = t * r / (1.0 - r)
            tail_d = t * (h * r / (1.0 - r) + r / ((ak + 1.0) * (1.0 - r) ** 2))
        done = (r < 1.0) & (tail_s <= _TOL * s) & (tail_d <= _TOL * d)
        live = live & ~done
        if not live.any():
            return d / s
    i = int(np.flatnonzero(live)[0])
    raise JacValueError(_SLOW.format(n=MAX_TERMS, a=float(a[i]), x=float(x[i])))


def _fraction(a, x):
    """F' / F of Cephes' continued fraction of Q(a, x) for arrays x > 1, x > a > 0."""
    y, z, c = 1.0 - a, x + 2.0 - a, np.zeros_like(a)
    pkm2, qkm2, pkm1, qkm1 = np.ones_like(a), x.copy(), x + 1.0, z * x
    dpkm2, dqkm2, dpkm1, dqkm1 = np.zeros_like(a), np.zeros_like(a), np.zeros_like(a), -x
    ans = pkm1 / qkm1
    dans = (dpkm1 - ans * dqkm1) / qkm1
    live = np.ones(a.shape, dtype=bool)
    for _ in range(MAX_TERMS):
        c = c + 1.0
        y = y + 1.0
        z = z + 2.0
        yc = y * c  # ∂y/∂a = ∂z/∂a = -1
        pk = pkm1 * z - pkm2 * yc
        qk = qkm1 * z - qkm2 * yc
        dpk = dpkm1 * z - pkm1 - dpkm2 * yc + pkm2 * c
        dqk = dqkm1 * z - qkm1 - dqkm2 * yc + qkm2 * c
        r = pk / qk
        dr = (dpk - r * dqk) / qk
        with np.errstate(divide="ignore", invalid="ignore"):
            done = (np.abs(ans - r) <= _STEP * np.abs(r)) & (np.abs(dans - dr) <= _STEP * np.abs(dr))
        ans = np.where(live, r, ans)
        dans = np.where(live, dr, dans)
        live = live & ~done
        if not live.any():
            return dans / ans
        pkm2, qkm2, pkm1, qkm1 = pkm1, qkm1, pk, qk
        dpkm2, dqkm2, dpkm1, dqkm1 = dpkm1, dqkm1, dpk, dqk
        big = np.abs(pk) > _BIG
        if big.any():
            s = np.where(big, _BIGINV, 1.0)
            pkm2, qkm2, pkm1, qkm1 = pkm2 * s, qkm2 * s, pkm1 * s, qkm1 * s
            dpkm2, dqkm2, dpkm1, dqkm1 = dpkm2 * s, dqkm2 * s, dpkm1 * s, dqkm1 * s
    i = int(np.flatnonzero(live)[0])
    raise JacValueError(_SLOW.format(n=MAX_TERMS, a=float(a[i]), x=float(x[i])))


def gammainc_da(a, x):
    """∂P(a, x)/∂a elementwise in float64 (a, x broadcast): 0 where x = 0 or x = +inf (P is constant in a there)
    or where P or Q underflows with the derivative; NaN where a <= 0, x < 0, a NaN, or a = +inf, as JAX's."""
    from scipy import special

    a, x = (v.astype(np.float64) for v in np.broadcast_arrays(np.asarray(a), np.asarray(x)))
    out = np.full(a.shape, np.nan)
    with np.errstate(all="ignore"):
        ok = (a > 0) & (x >= 0) & np.isfinite(a) & ~np.isnan(x)
        out[ok & ((x == 0) | np.isposinf(x))] = 0.0
        inner = ok & (x > 0) & np.isfinite(x)
        upper = inner & (x > 1) & (x > a)
        lower = inner & ~upper
        if lower.any():
            al, xl = a[lower], x[lower]
            p = special.gammainc(al, xl)
            out[lower] = np.where(p == 0, 0.0, p * (np.log(xl) - special.digamma(al + 1.0) - _series(al, xl)))
        if upper.any():
            au, xu = a[upper], x[upper]
            q = special.gammaincc(au, xu)
            out[upper] = np.where(q == 0, 0.0, -q * (np.log(xu) - special.digamma(au) + _fraction(au, xu)))
    return out
