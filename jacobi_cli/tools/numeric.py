"""Finite differences: the yardstick the automatic derivatives are checked against.

Never used to produce a result, only to check one (``jac check`` and the op tests).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ir.ops import finite_steps

METHODS = ("central", "richardson")
LIMIT_STEPS = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5)
KINK_SHRINK = 16  # the one-sided slopes are compared at h and at h / KINK_SHRINK
KINK_GROWTH = 4  # a jump that grew more than this from h to h / KINK_SHRINK is rounding noise (it grows 16x)
REFINE = 4  # a second look at a suspect estimate shrinks the step by REFINE, up to MAX_REFINE times
MAX_REFINE = 16


def _stepping(f):
    """``f`` evaluated as finite differences' (:func:`jacobi_cli.ir.ops.finite_steps`): a step of one element
    of a symmetric matrix leaves it a little asymmetric, which cholesky and eigh then read."""
    def stepped(x):
        with finite_steps():
            return f(x)
    return stepped


def _eps(x: np.ndarray) -> float:
    return float(np.finfo(x.dtype if x.dtype.kind == "f" else np.float64).eps)


def step_sizes(x: np.ndarray, order: int = 2) -> np.ndarray:
    """Per-element steps scaled to the magnitude of ``x`` and its dtype's precision.

    A difference formula with error ``O(h**order)`` loses ``eps / h`` to rounding, so
    ``h = eps**(1/(order+1))`` balances the two: ``eps**(1/3)`` for central differences
    (6e-6 in float64, 5e-3 in float32)."""
    return _eps(x) ** (1.0 / (order + 1)) * np.maximum(1.0, np.abs(x))


def central_jacobian(f, x: np.ndarray) -> np.ndarray:
    """d f / d x by central differences: shape ``f(x).shape + x.shape``."""
    return differences(f, x, "central", kinks=False).estimate


@dataclass
class Differences:
    """Finite-difference estimates of ``df/dx``, each of shape ``f(x).shape + x.shape``.

    ``left`` and ``right`` are the one-sided slopes ``(f(x) - f(x-s)) / s`` and
    ``(f(x+s) - f(x)) / s`` at a small step ``s = step / KINK_SHRINK``. ``kink`` marks
    where they differ by a jump that does not shrink with the step: ``f`` is not
    differentiable there (``abs`` at 0), so neither a finite difference nor an automatic
    rule is "the" derivative.
    """

    estimate: np.ndarray
    rounding: np.ndarray  # a bound on the estimate's rounding error, about eps |f| / h
    step: np.ndarray  # x.shape: the largest step taken per element
    left: np.ndarray | None = None
    right: np.ndarray | None = None
    kink: np.ndarray | None = None


def differences(f, x: np.ndarray, method: str = "central", kinks: bool = True, columns: tuple | None = None,
                y0=None) -> Differences:
    """``df/dx`` for ``f`` from arrays of ``x``'s shape to arrays, one element at a time.

    ``method``: ``central`` (error O(h²)) or ``richardson`` (central differences at
    h, h/2, h/4 extrapolated twice, error O(h⁶), as numdifftools does). With ``kinks``,
    also the one-sided slopes and where they disagree. ``columns = (start, stop)``: only
    the elements ``start..stop`` of ``x`` (flat, C order); the arrays then have shape
    ``f(x).shape + (stop - start,)`` (``step`` keeps ``x``'s shape). ``y0``: ``f(x)``, when known.
    """
    f = _stepping(f)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    x = np.asarray(x)
    # Richardson's larger step: h = eps**(1/6) measured best over the op tests' domains.
    steps = step_sizes(x, 2 if method == "central" else 5)
    keys = ("estimate", "rounding") + (("left", "right", "kink") if kinks else ())
    start, stop = (0, x.size) if columns is None else columns
    with np.errstate(all="ignore"):
        y0 = np.asarray(f(x)) if y0 is None else y0
        dtype = np.result_type(y0, x, np.float32)
        found = {key: np.zeros((stop - start,) + y0.shape, dtype=bool if key == "kink" else dtype)
                 for key in keys}
        for k in range(stop - start):
            idx = np.unravel_index(start + k, x.shape)
            estimate = central_difference if method == "central" else _richardson
            found["estimate"][k], found["rounding"][k] = estimate(f, x, idx, steps[idx])
            if kinks:
                for key, value in _one_sided(f, x, idx, steps[idx], y0).items():
                    found[key][k] = value
    # (x.size, *y.shape) -> y.shape + x.shape (or + (stop - start,))
    x_part = x.shape if columns is None else (stop - start,)
    arranged = {}
    for key in keys:  # one at a time: each copy is freed before the next is made
        arranged[key] = np.ascontiguousarray(np.moveaxis(found.pop(key), 0, -1)).reshape(y0.shape + x_part)
    return Differences(step=steps, **arranged)


def _shifted(f, x, idx, h) -> tuple:
    """``f(x + h e_idx)``, ``f(x - h e_idx)``, and the step actually taken (``x ± h``
    rounds to the dtype, so the representable step is measured, not assumed)."""
    up, down = x.copy(), x.copy()
    up[idx] += h
    down[idx] -= h
    return np.asarray(f(up)), np.asarray(f(down)), (up[idx] - down[idx]) / 2


def central_difference(f, x, idx, h) -> tuple:
    """The central difference and its rounding error: each ``f`` value is off by a
    few ``eps |f|``, divided by the step."""
    f_up, f_down, step = _shifted(f, x, idx, h)
    return (f_up - f_down) / (2 * step), _eps(x) * (np.abs(f_up) + np.abs(f_down)) / step


def _richardson(f, x, idx, h) -> tuple:
    # D(h) = f' + c2 h² + c4 h⁴ + ...: (4 D(h/2) - D(h)) / 3 cancels h², then
    # (16 R(h/2) - R(h)) / 15 cancels h⁴; together (64 D(h/4) - 20 D(h/2) + D(h)) / 45,
    # whose rounding error is (64·4 + 20·2 + 1) / 45 = 6.6 times that of D(h).
    d = [central_difference(f, x, idx, h / 2**i) for i in range(3)]
    return (64 * d[2][0] - 20 * d[1][0] + d[0][0]) / 45, 6.6 * d[0][1]


def _one_sided(f, x, idx, h, y0) -> dict:
    """Left and right slopes at ``h / KINK_SHRINK``, and whether ``f`` has a kink there.

    At a smooth point the jump ``right - left ≈ h f''`` shrinks with ``h``, by
    KINK_SHRINK from ``h`` to ``h / KINK_SHRINK``; at a kink it stays. A jump counts
    only above the rounding noise ``eps (|f+| + 2|f0| + |f-|) / h``, and only where it did not grow as the
    step shrank: rounding noise grows like ``1 / h`` (sixteen times from ``h`` to ``h / KINK_SHRINK``), a kink's
    jump stays. The noise bound assumes ``f`` good to a few ulps of ``|f|``; a value made by cancellation
    (``det`` of a nearly singular matrix, 1e-6 from entries of 1) is off by ulps of what cancelled, and its
    jump, growing with ``1 / h``, was taken for a kink (session 39).
    """
    jumps = []
    for step in (h, h / KINK_SHRINK):
        f_up, f_down, actual = _shifted(f, x, idx, step)
        left, right = (y0 - f_down) / actual, (f_up - y0) / actual
        noise = _eps(x) * (np.abs(f_up) + 2 * np.abs(y0) + np.abs(f_down)) / actual
        jumps.append((np.abs(right - left), noise))
    (big, _), (small, small_noise) = jumps
    kink = (small > 0.5 * big) & (small > 4 * small_noise) & (small < KINK_GROWTH * big)
    return {"left": left, "right": right, "kink": kink}


@dataclass
class Refined:
    """A second look at one input element: central differences at steps ``h/4, h/16, ...``.

    ``estimate`` is, per output element, the one whose changes from the step before and to the step
    after are smallest, and ``error`` bounds its error: the larger of those changes (which bounds the
    truncation error, third derivative times h²/6, and the rounding noise f really has) plus its rounding error. A smooth ``f`` whose scale
    is finer than the step scaled to ``|x|`` (``sin(x) * x**2`` at ``x = 1999``) converges
    as the step shrinks, sixteen times closer each time; at a kink within the step the
    estimates jump instead (``kink``): the step straddled it.
    """

    estimate: np.ndarray
    error: np.ndarray
    kink: np.ndarray


def refined(f, x: np.ndarray, index: tuple, step: float) -> Refined:
    """:class:`Refined` estimates of ``df/dx[index]``, starting from ``step``."""
    f = _stepping(f)
    x = np.asarray(x)
    floor = 64 * _eps(x) * max(1.0, float(np.abs(x[tuple(index)])))  # below it, x ± h barely moves
    estimates, roundings = [], []
    with np.errstate(all="ignore"):
        h = step
        while len(estimates) < 2 + MAX_REFINE and (not estimates or h >= floor):
            d, r = central_difference(f, x, tuple(index), h)
            estimates.append(d)
            roundings.append(r)
            h = h / REFINE
        if len(estimates) < 2:  # the step is already at the floor
            return Refined(estimates[0], roundings[0], np.zeros(np.shape(estimates[0]), dtype=bool))
        e, r = np.stack(estimates), np.stack(roundings)
        change = np.abs(e[1:] - e[:-1])
        # An estimate's error is bounded by its change from the step before and to the step after: the least
        # change alone picks two noisy estimates that agree by chance (inv of a matrix of condition 1e7: two
        # agreeing to 1e-15 with an error of 1e-5, where f's own rounding is cond · eps, not eps).
        # The last estimate has no step after it: it is taken only when it is the one there is.
        after = np.concatenate([change[1:], change[-1:] if len(change) == 1 else np.full_like(change[-1:], np.inf)])
        error = np.where(np.isnan(change) | np.isnan(after), np.inf, np.maximum(change, after) + r[1:])
        best = np.argmin(error, axis=0)[None]
        jumps = (change[1:] > 2 * change[:-1]) & (change[1:] > 4 * r[2:])
    return Refined(np.take_along_axis(e[1:], best, 0)[0], np.take_along_axis(error, best, 0)[0],
                   np.any(jumps, axis=0))


def kink_persists(f, x: np.ndarray, index: tuple, step: float, jump=None) -> np.ndarray:
    """Per output element: do the one-sided slopes at ``index`` still differ at steps a
    thousand times below ``step``? At a kink the jump stays; a smooth ``f`` that only varies
    on a scale finer than ``step`` (``sin(x)`` at ``x = 1e6``, ``step`` 6) shows a jump at
    ``step`` that shrinks with it. ``jump``: the jump found at ``step / KINK_SHRINK``; a kink's
    stays as it is at the smaller steps, where rounding noise grows like ``1 / h`` (64 times)."""
    f = _stepping(f)
    x = np.asarray(x)
    floor = 64 * _eps(x) * max(1.0, float(np.abs(x[tuple(index)])))
    with np.errstate(all="ignore"):
        found = _one_sided(f, x, tuple(index), max(step / REFINE**5, floor), np.asarray(f(x)))
        if jump is None:
            return found["kink"]
        return found["kink"] & (np.abs(found["right"] - found["left"]) < KINK_GROWTH * np.asarray(jump))


def limit_table(f, x: float, steps=LIMIT_STEPS) -> list:
    """``[(h, (f(x+h) - f(x)) / h), ...]``: the difference quotient as ``h`` shrinks,
    for a scalar function of a scalar (the limit that defines the derivative)."""
    f = _stepping(f)
    x = np.asarray(x)
    with np.errstate(all="ignore"):
        y0 = np.asarray(f(x))
        return [(h, (np.asarray(f(x + np.asarray(h, dtype=x.dtype))) - y0) / np.asarray(h, dtype=x.dtype))
                for h in steps]
