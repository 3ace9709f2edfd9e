"""Session 38 (h38-numpyhigher): what benchmarks/nprog38_fuzz.py found, a differential fuzz of NumPy and jax.numpy
programs (ufunc methods, nan-functions, diff / convolve / interp / polyfit ..., sort / partition, more linalg,
pad / block / apply_along_axis, reductions' keywords) against NumPy and JAX: values, Jacobians, Hessians (against
``jax.hessian``), JVPs, VJPs and batches (against ``jax.vmap``). Each test failed before its fix.
"""

from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacValueError
from jacobi_cli.tools import api

X = np.array([[0.3, -1.2, 0.7], [1.5, 0.2, -0.4]])


# --- 1. a cast to float16: jac computed in float64 and answered NumPy's float16 numbers as if exact ---------------
# np.sum(x, dtype=np.float16) is 1.1 rounded to float16 (1.0996...) in NumPy; jac said 1.1 (float64), a difference
# of 4e-4 at a 3-digit dtype, silently. PyTorch's x.half() was refused already; NumPy's and JAX's spellings of the
# same cast were not. A cast or dtype= of float16 / half / bfloat16 is now refused as x.half() is.

FLOAT16 = ["np.sum(x, dtype=np.float16)", "np.cumsum(x, axis=1, dtype=np.float16)", "x.astype(np.float16)",
           "x.astype('float16') * 2.0", "np.float16(x)", "np.asarray(x, dtype=np.float16)", "x.astype(np.half)",
           "np.mean(x, axis=0, dtype='float16')", "np.ones(3, dtype=np.float16) * 0.1",
           "jnp.sum(x, dtype=jnp.float16)", "x.to(torch.float16).sum()", "x.to(torch.bfloat16).sum()"]


@pytest.mark.parametrize("text", FLOAT16)
def test_a_cast_to_float16_is_refused_not_computed_in_float64(text):
    with pytest.raises(JacValueError) as err:
        api.evaluate(text, {"x": X})
    message = str(err.value)
    assert "16" in message and "--dtype" in message and "rounding" in message


def test_numpy_rounds_these_so_float64_would_have_been_wrong():
    assert np.sum(X, dtype=np.float16) != np.float64(X.sum())  # the answer jac gave before
    assert abs(float(np.sum(X, dtype=np.float16)) - X.sum()) > 1e-4


@pytest.mark.parametrize("text, expected", [
    ("np.sum(x, dtype=np.float32)", None),  # float32 and float64 casts stay in --dtype, as documented
    ("x.astype(np.float64).sum()", None),
    ("np.sum(x > 0, dtype=np.int64) * 1.0", 4.0),
    ("np.cumsum(x, axis=1, dtype=np.int32)[1, 2] * 1.0", 1.0),
])
def test_other_dtypes_are_read_as_before(text, expected):
    got = float(np.asarray(api.evaluate(text, {"x": X})).ravel()[-1] if expected is None else api.evaluate(text, {"x": X}))
    if expected is None:
        assert abs(got - X.sum()) < 1e-12
    else:
        assert got == expected
