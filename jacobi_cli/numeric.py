"""Finite differences: the yardstick the automatic derivatives are checked against.

Never used to produce a result, only to check one (``jac check`` and the op tests).
"""

from __future__ import annotations

import numpy as np


def step_sizes(x: np.ndarray, order: int = 2) -> np.ndarray:
    """Per-element steps scaled to the magnitude of ``x`` and its dtype's precision:
    ``eps**(1/3)`` balances truncation and rounding error for central differences."""
    eps = np.finfo(x.dtype if x.dtype.kind == "f" else np.float64).eps
    return eps ** (1.0 / (order + 1)) * np.maximum(1.0, np.abs(x))


def central_jacobian(f, x: np.ndarray) -> np.ndarray:
    """d f / d x by central differences: shape ``f(x).shape + x.shape``."""
    x = np.asarray(x)
    steps = step_sizes(x)
    y0 = np.asarray(f(x))
    out = np.empty(y0.shape + x.shape, dtype=np.result_type(y0, x, np.float32))
    flat = out.reshape(y0.shape + (x.size,))
    for k in range(x.size):
        idx = np.unravel_index(k, x.shape)
        up, down = x.copy(), x.copy()
        h = steps[idx]
        up[idx] += h
        down[idx] -= h
        flat[..., k] = (np.asarray(f(up)) - np.asarray(f(down))) / (up[idx] - down[idx])
    return out
