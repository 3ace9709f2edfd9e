"""Finite differences: the yardstick the automatic derivatives are checked against.

Never used to produce a result, only to check one (``jac check`` and the op tests).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

METHODS = ("central", "richardson")
LIMIT_STEPS = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5)
KINK_SHRINK = 16  # the one-sided slopes are compared at h and at h / KINK_SHRINK


def _eps(x: np.ndarray) -> float:
    return float(np.finfo(x.dtype if x.dtype.kind == "f" else np.float64).eps)


def step_sizes(x: np.ndarray, order: int = 2) -> np.ndarray:
    """Per-element steps scaled to the magnitude of ``x`` and its dtype's precision.

    A difference formula with error ``O(h**order)`` loses ``eps / h`` to rounding, so
    ``h = eps**(1/(order+1))`` balances the two: ``eps**(1/3)`` for central differences
    (6e-6 in float64, 5e-3 in float32), ``eps**(1/7)`` after two Richardson steps."""
    return _eps(x) ** (1.0 / (order + 1)) * np.maximum(1.0, np.abs(x))


def central_jacobian(f, x: np.ndarray) -> np.ndarray:
    """d f / d x by central differences: shape ``f(x).shape + x.shape``."""
    return differences(f, x, "central", kinks=False).estimate


@dataclass
class Differences:
    """Finite-difference estimates of ``df/dx``, each of shape ``f(x).shape + x.shape``.

    ``left`` and ``right`` are the one-sided slopes ``(f(x) - f(x-h)) / h`` and
    ``(f(x+h) - f(x)) / h`` at a small step; ``kink`` marks where they differ by a jump
    that does not shrink with ``h``: ``f`` is not differentiable there (``abs`` at 0),
    so no finite difference and no automatic rule is "the" derivative.
    """

    estimate: np.ndarray
    left: np.ndarray | None = None
    right: np.ndarray | None = None
    kink: np.ndarray | None = None


def differences(f, x: np.ndarray, method: str = "central", kinks: bool = True) -> Differences:
    """``df/dx`` for ``f`` from arrays of ``x``'s shape to arrays, one element at a time.

    ``method``: ``central`` (error O(h²)) or ``richardson`` (central differences at
    h, h/2, h/4 extrapolated twice, error O(h⁶), as numdifftools does). With ``kinks``,
    also the one-sided slopes and where they disagree.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    x = np.asarray(x)
    with np.errstate(all="ignore"):
        y0 = np.asarray(f(x))
        shape = y0.shape + x.shape
        dtype = np.result_type(y0, x, np.float32)
        columns = {key: np.empty((x.size,) + y0.shape, dtype=dtype) for key in ("estimate", "left", "right")}
        kink = np.zeros((x.size,) + y0.shape, dtype=bool)
        central_steps = step_sizes(x, 2)
        richardson_steps = step_sizes(x, 6)
        for k in range(x.size):
            idx = np.unravel_index(k, x.shape)
            if method == "central":
                columns["estimate"][k] = _central(f, x, idx, central_steps[idx])
            else:
                columns["estimate"][k] = _richardson(f, x, idx, richardson_steps[idx])
            if kinks:
                left, right, kink[k] = _one_sided(f, x, idx, central_steps[idx], y0)
                columns["left"][k], columns["right"][k] = left, right

    def arranged(a):  # (x.size, *y.shape) -> y.shape + x.shape
        return np.moveaxis(a, 0, -1).reshape(shape)

    if not kinks:
        return Differences(arranged(columns["estimate"]))
    return Differences(*(arranged(columns[key]) for key in ("estimate", "left", "right")), arranged(kink))


def _shifted(f, x, idx, h) -> tuple:
    """``f(x + h e_idx)``, ``f(x - h e_idx)``, and the step actually taken (``x ± h``
    rounds to the dtype, so the representable step is measured, not assumed)."""
    up, down = x.copy(), x.copy()
    up[idx] += h
    down[idx] -= h
    return np.asarray(f(up)), np.asarray(f(down)), (up[idx] - down[idx]) / 2


def _central(f, x, idx, h):
    f_up, f_down, step = _shifted(f, x, idx, h)
    return (f_up - f_down) / (2 * step)


def _richardson(f, x, idx, h):
    # D(h) = f' + c2 h² + c4 h⁴ + ...: (4 D(h/2) - D(h)) / 3 cancels h², then
    # (16 R(h/2) - R(h)) / 15 cancels h⁴.
    d = [_central(f, x, idx, h / 2**i) for i in range(3)]
    r = [(4 * d[i + 1] - d[i]) / 3 for i in range(2)]
    return (16 * r[1] - r[0]) / 15


def _one_sided(f, x, idx, h, y0) -> tuple:
    """Left and right slopes at ``h / KINK_SHRINK``, and where they differ by a kink.

    At a smooth point ``right - left ≈ h f''`` shrinks with ``h``; at a kink it stays.
    A jump counts only if it stays (more than half of it at the smaller step) and
    stands well above the rounding noise ``eps (|f+| + 2|f0| + |f-|) / h``.
    """
    jumps, slopes = [], None
    for step in (h, h / KINK_SHRINK):
        f_up, f_down, actual = _shifted(f, x, idx, step)
        left, right = (y0 - f_down) / actual, (f_up - y0) / actual
        noise = _eps(x) * (np.abs(f_up) + 2 * np.abs(y0) + np.abs(f_down)) / actual
        jumps.append((np.abs(right - left), noise))
        slopes = (left, right)
    (big, _), (small, small_noise) = jumps
    kink = (small > 0.5 * big) & (small > 4 * small_noise)
    return slopes[0], slopes[1], kink


def limit_table(f, x: float, steps=LIMIT_STEPS) -> list:
    """``[(h, (f(x+h) - f(x)) / h), ...]``: the difference quotient as ``h`` shrinks,
    for a scalar function of a scalar (the limit that defines the derivative)."""
    x = np.asarray(x)
    with np.errstate(all="ignore"):
        y0 = np.asarray(f(x))
        return [(h, (np.asarray(f(x + np.asarray(h, dtype=x.dtype))) - y0) / np.asarray(h, dtype=x.dtype))
                for h in steps]
