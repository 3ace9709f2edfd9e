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
    assert "16" in message and "dtype=" in message and "rounding" in message  # the API's words


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


# --- 2. np.pad's statistic and ramp modes: refused before, read now ------------------------------------------------
# np.pad(x, 1, mode='maximum' / 'minimum' / 'mean' / 'median' / 'linear_ramp') was refused ("only 'constant',
# 'edge', 'reflect', 'symmetric', 'wrap'"), the commonest cheap refusal of the fuzz's pad statements. NumPy pads
# axis by axis: a later axis' statistic reads the earlier axes' padding; each is checked against NumPy's value,
# JAX's jacfwd (float64) and central differences.

PADS = ["np.pad(x, 1, mode='maximum')", "np.pad(x, ((2, 0), (1, 3)), mode='maximum')", "np.pad(x, 1, mode='mean')",
        "np.pad(x, ((0, 1), (2, 0)), mode='minimum')", "np.pad(x, 1, mode='median')", "np.pad(v, (0, 2), mode='median')",
        "np.pad(v, 3, mode='linear_ramp')", "np.pad(v, 2, mode='linear_ramp', end_values=(1.0, -1.0))",
        "np.pad(x, ((1, 2), (2, 1)), mode='linear_ramp', end_values=((1.0, 2.0), (-1.0, 0.5)))",
        "np.pad(np.sin(x), 2, mode='linear_ramp', end_values=0.5)", "jnp.pad(x, (1, 2), mode='mean')"]
PAD_INPUTS = {"x": np.array([[0.3, -1.2, 0.7, 0.1], [1.5, 0.2, -0.4, 0.9], [-0.6, 0.8, 1.1, -2.0]]),
              "v": np.array([0.3, -1.2, 0.7, 2.0])}


def _numpy(text, values):
    return np.asarray(eval(text, {"np": np, "jnp": np, **values}))  # noqa: S307 - the test's own texts


@pytest.mark.parametrize("text", PADS)
def test_np_pad_statistic_and_ramp_modes_are_numpys(text):
    names = [n for n in PAD_INPUTS if f"({n}" in text or f" {n})" in text or f"({n}," in text or f"sin({n})" in text]
    values = {n: PAD_INPUTS[n] for n in names}
    assert np.allclose(api.evaluate(text, values), _numpy(text, values), rtol=1e-12, atol=1e-12)
    J = api.jacobian(text, values)
    for n in names:
        h, cols = 1e-6, []
        for i in np.ndindex(values[n].shape):
            up, down = dict(values), dict(values)
            up[n], down[n] = values[n].copy(), values[n].copy()
            up[n][i] += h
            down[n][i] -= h
            cols.append((_numpy(text, up) - _numpy(text, down)) / (2 * h))
        expected = np.moveaxis(np.array(cols), 0, -1).reshape(J[n].shape)
        assert np.allclose(J[n], expected, atol=1e-6), (text, n)


def test_np_pad_statistic_modes_against_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    x = PAD_INPUTS["x"]
    for mode in ("maximum", "minimum", "mean", "median", "linear_ramp"):
        f = lambda t: jnp.pad(jnp.tanh(t), ((1, 2), (2, 1)), mode=mode)  # noqa: E731, B023
        text = f"np.pad(np.tanh(x), ((1, 2), (2, 1)), mode='{mode}')"
        assert np.allclose(api.jacobian(text, {"x": x})["x"], jax.jacfwd(f)(x), atol=1e-12), mode
        H = api.hessian(f"np.sum(np.pad(np.tanh(x), 1, mode='{mode}') ** 2)", {"x": x})[("x", "x")]
        assert np.allclose(H, jax.hessian(lambda t: jnp.sum(jnp.pad(jnp.tanh(t), 1, mode=mode) ** 2))(x), atol=1e-10), mode  # noqa: B023


@pytest.mark.parametrize("text, words", [
    ("np.pad(x, 1, mode='maximum', stat_length=2)", "stat_length"),
    ("np.pad(x, 1, mode='edge', end_values=2.0)", "end_values"),
    ("np.pad(x, 1, mode='mean', constant_values=2.0)", "constant_values"),
    ("np.pad(np.arange(4), 1, mode='mean')", "rounds"),
])
def test_np_pad_refuses_what_it_does_not_read(text, words):
    with pytest.raises(JacValueError, match=words):
        api.evaluate(text, {"x": PAD_INPUTS["x"]})
