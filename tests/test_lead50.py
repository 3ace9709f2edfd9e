"""The lead's changes of session 50 (see CHANGELOG.md, "Fiftieth session")."""
from __future__ import annotations

import numpy as np


def test_holds_nan_finds_a_nan_at_every_position_and_in_every_float_dtype():
    """autodiff.holds_nan reads the element a float argmax points at (session 50): NumPy's argmax must stop at a
    NaN wherever it stands (first, last, after an inf, among several), in every float dtype and layout, and say
    nothing of a NaN-free array of infinities and huge values, under a caller's ``np.seterr(all='raise')``."""
    from jacobi_cli.engine import autodiff

    dtypes = [np.float16, np.float32, np.float64, np.longdouble]
    with np.errstate(all="raise"):
        for dtype in dtypes:
            base = np.array([1.0, -np.inf, np.inf, 0.0, -0.0, 5.0, np.finfo(dtype).max], dtype)
            assert not autodiff.holds_nan(base) and not autodiff.holds_nan(base[::-1])
            for at in range(base.size):
                a = base.copy()
                a[at] = np.nan
                for b in (a, a[::-1], a.reshape(7, 1).T, np.stack([a, a[::-1]]).T):
                    assert autodiff.holds_nan(b), (dtype, at, b)
                a[(at + 3) % a.size] = -np.nan
                assert autodiff.holds_nan(a), (dtype, at)
            assert autodiff.holds_nan(np.full((2, 3), np.nan, dtype)[:, ::2])
            assert not autodiff.holds_nan(np.zeros((0, 3), dtype))
