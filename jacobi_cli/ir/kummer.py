"""∂M/∂a and ∂M/∂b of Kummer's function M(a, b, x) = ₁F₁(a; b; x) (session 39): what JAX's ``hyp1f1`` differentiates
by its parameters, computed here by the series differentiated term by term.

For x >= 0, M = Σ t_k with t_0 = 1, t_k = t_(k-1) (a + k - 1) x / (k (b + k - 1)); the derivatives of the terms go
along by the product rule (a factor a + k - 1 = 0 is no division):

    ∂t_k/∂a = ∂t_(k-1)/∂a · r_k + t_(k-1) x / (k (b + k - 1)),   ∂t_k/∂b = ∂t_(k-1)/∂b · r_k - t_k / (b + k - 1).

For x < 0, Kummer's transformation M(a, b, x) = e^x M(b - a, b, -x) gives ∂M/∂a = -e^x M₁ and ∂M/∂b = e^x (M₁ + M₂) at
(b - a, b, -x), M₁ and M₂ its derivatives by its first and second parameter, summed term by term (M₁ + M₂'s terms
added before they are summed). Where the terms change sign the sum cancels: the sum of the terms' magnitudes over
the sum's is the digits lost, and past ``LOSS`` (1e4: fewer than 12 digits left) the derivative is refused, as it
is past ``MAX_TERMS`` terms (|x| beyond about 2000) and at a pole of b (0, -1, -2, ...). The series stops where the
terms shrink by a ratio below 1/2 and the last is below 1e-17 of each sum's magnitudes.
"""

from __future__ import annotations

import numpy as np

from ..errors import JacValueError

MAX_TERMS, LOSS = 5000, 1e4
_WHY = ("the derivative of hyp1f1(a, b, x) by {what} at a = {a:g}, b = {b:g}, x = {x:g} is not supported: {why}")


def _series(a, b, x):
    """(Σ ∂t/∂a, Σ ∂t/∂b, Σ ∂t/∂a + ∂t/∂b) of M(a, b, x), x >= 0, and the sums of their terms' magnitudes."""
    t, da, db = np.ones_like(a), np.zeros_like(a), np.zeros_like(a)
    sums = [np.zeros_like(a) for _ in range(3)]
    mags = [np.zeros_like(a) for _ in range(3)]
    live = np.ones(a.shape, dtype=bool)
    for k in range(1, MAX_TERMS + 1):
        bk = b + (k - 1)
        c = x / (k * bk)
        t_old = t
        t = t_old * (a + (k - 1)) * c
        da = da * (a + (k - 1)) * c + t_old * c
        db = db * (a + (k - 1)) * c - t / bk
        for i, term in enumerate((da, db, da + db)):
            sums[i] = np.where(live, sums[i] + term, sums[i])
            mags[i] = np.where(live, mags[i] + np.abs(term), mags[i])
        ratio = np.abs((a + k) * x / ((k + 1) * (b + k)))
        small = (np.abs(da) <= 1e-17 * mags[0]) & (np.abs(db) <= 1e-17 * mags[1]) & (np.abs(t) <= 1e-17 * (
            1.0 + np.abs(mags[0]) + np.abs(mags[1])))
        live = live & ~((ratio < 0.5) & small & (k > 1))
        if not live.any():
            return sums, mags
    i = int(np.flatnonzero(live)[0])
    raise JacValueError(_WHY.format(what="a or b", a=float(a[i]), b=float(b[i]), x=float(x[i]),
                                    why=f"its series did not converge in {MAX_TERMS} terms (|x| too large)"))


def hyp1f1_slope(a, b, x, index):
    """∂M/∂a (``index`` 0) or ∂M/∂b (1) elementwise in float64; NaN where an argument is NaN or infinite; refused
    at a pole of b, where the sum cancels past ``LOSS`` or does not converge."""
    a, b, x = (v.astype(np.float64) for v in np.broadcast_arrays(np.asarray(a), np.asarray(b), np.asarray(x)))
    shape = a.shape
    a, b, x = a.ravel(), b.ravel(), x.ravel()
    out = np.full(a.shape, np.nan)
    ok = np.isfinite(a) & np.isfinite(b) & np.isfinite(x)
    pole = ok & (b <= 0) & (b == np.round(b))
    if pole.any():
        i = int(np.flatnonzero(pole)[0])
        raise JacValueError(_WHY.format(what="its parameters", a=float(a[i]), b=float(b[i]), x=float(x[i]),
                                        why="b is a pole of the function (0, -1, -2, ...)"))
    if not ok.any():
        return out.reshape(shape)
    a, b, x = a[ok], b[ok], x[ok]
    neg = x < 0
    first = np.where(neg, b - a, a)
    with np.errstate(over="ignore", invalid="ignore"):
        sums, mags = _series(first, b, np.abs(x))
        scale = np.exp(np.where(neg, x, 0.0))
        if index == 0:
            value, mag = np.where(neg, -scale * sums[0], sums[0]), np.where(neg, scale * mags[0], mags[0])
        else:
            value, mag = np.where(neg, scale * sums[2], sums[1]), np.where(neg, scale * mags[2], mags[1])
        lost = ~(np.abs(value) * LOSS >= mag) & (mag > 0)
    what = "a" if index == 0 else "b"
    if lost.any():
        i = int(np.flatnonzero(lost)[0])
        why = ("its series overflows float64" if not np.isfinite(mag[i]) else
               "its series cancels there (terms of both signs) past 4 of the 16 digits")
        raise JacValueError(_WHY.format(what=what, a=float(a[i]), b=float(b[i]), x=float(x[i]), why=why))
    out[ok] = value
    return out.reshape(shape)
