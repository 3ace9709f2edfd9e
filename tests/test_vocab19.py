"""Functions the nineteenth session added, which ``benchmarks/vocab_names.py`` and the JAX fuzz listed as refused
by name: ``np.spacing`` / ``jnp.spacing``, ``bitwise_and`` / ``bitwise_or`` / ``bitwise_xor`` of booleans,
``torch.logspace``, ``np.asfortranarray`` and ``np.array_equiv``. Each against its library (to the bit where the
library's answer is exact) and against central differences.
"""

from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from test_jax16 import jax_process  # noqa: F401 - the fixture is used by name
from test_parity_trust17 import assert_same

EDGES = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, np.finfo(np.float64).max,
                  -np.finfo(np.float64).max, 5e-324, -5e-324, np.finfo(np.float64).tiny, 3.5, -1e-300])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_spacing_is_numpys_to_the_bit(dtype):
    x = EDGES.astype(dtype) if dtype == "float64" else EDGES[np.abs(EDGES) < 1e38].astype(dtype)
    with np.errstate(all="ignore"):
        theirs = np.spacing(x)
    ours = api.evaluate("np.spacing(x)", {"x": x}, dtype=dtype)
    assert np.asarray(ours).dtype == np.dtype(dtype)
    np.testing.assert_array_equal(ours, theirs)  # NaN where NaN; the signs of the subnormals at ±0
    seen = ~np.isnan(theirs)
    np.testing.assert_array_equal(np.signbit(ours[seen]), np.signbit(theirs[seen]))


def jax_spacing(x: np.ndarray) -> np.ndarray:
    """jnp.spacing(x) run by JAX (x64): a value only (JAX has no derivative rule for it)."""
    import jax
    jax.config.update("jax_enable_x64", True)
    return np.asarray(jax.numpy.spacing(jax.numpy.asarray(x, dtype=jax.numpy.float64)))


def test_spacing_is_jaxs_in_a_jax_text(jax_process):  # noqa: F811 - the fixture
    x = EDGES[np.isfinite(EDGES) & (np.abs(EDGES) > 1e-290) | (EDGES == 0)]  # XLA flushes subnormal inputs and
    theirs = jax_process.submit(jax_spacing, x).result()  # spacings (those of |x| < 2**-970) to zero
    assert_same(api.evaluate("jnp.spacing(x)", {"x": x}), theirs)
    assert api.evaluate("jnp.spacing(x)", {"x": np.array(-0.0)}) < 0  # the zero's sign, where NumPy's is +


def test_spacing_is_piecewise_constant_its_derivative_zero():
    x = np.array([1.5, -3.0, 1e-3, 700.0])
    J = api.jacobian("np.spacing(x) * 1e15 + x", {"x": x}, wrt=["x"])["x"]
    h = 1e-9 * np.abs(x)
    fd = (1e15 * (np.spacing(x + h) - np.spacing(x - h)) + 2 * h) / (2 * h)
    np.testing.assert_allclose(np.diag(J), fd, rtol=1e-6)
    np.testing.assert_array_equal(J, np.eye(4))


def test_torch_has_no_spacing():
    with pytest.raises(JacError, match="torch.spacing"):
        api.evaluate("torch.spacing(x)", {"x": np.ones(2)})


X = np.array([1.0, -2.0, 0.0, 2.5, -0.5])
BITWISE = [
    "np.bitwise_and(x > 0, x < 2) * x",
    "np.bitwise_or(x > 0, x < -1) * x",
    "np.bitwise_xor(x > 0, x > 1) * x",
    "np.bitwise_xor(x > 0, True) * x",
    "np.bitwise_or(False, x < 0) * x",
]


@pytest.mark.parametrize("code", BITWISE)
def test_bitwise_of_booleans_is_their_logic_as_numpy(code):
    assert_same(api.evaluate(code, {"x": X}), eval(code, {"np": np, "x": X}))  # noqa: S307 - the test's own
    value = X + 0.125
    J = np.asarray(api.jacobian(code, {"x": value}, wrt=["x"])["x"])
    mask = eval(code.replace(" * x", ""), {"np": np, "x": value})  # noqa: S307 - the test's own
    np.testing.assert_array_equal(J, np.diag(mask.astype(float)))  # d(mask * x) = diag(mask): no derivative of it


@pytest.mark.parametrize("code", [c.replace("np.", "torch.").replace(" * x", ".double() * x") for c in BITWISE])
def test_bitwise_of_booleans_is_their_logic_as_pytorch(code):
    torch = pytest.importorskip("torch")
    theirs = eval(code, {"torch": torch, "x": torch.tensor(X)})  # noqa: S307 - the test's own texts
    assert_same(api.evaluate(code, {"x": X}), theirs.numpy())


@pytest.mark.parametrize("code", ["np.bitwise_and(x, x)", "torch.bitwise_or(x > 0, x)", "np.bitwise_xor(x, 1.5)"])
def test_bitwise_of_numbers_is_refused_as_the_operators_are(code):
    with pytest.raises(JacError, match="booleans"):
        api.evaluate(code, {"x": X})


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("args", ["0, 2, 5", "-1.7, 3.3, 7, base=2", "0.1, 0.7, 11, base=2.718281828459045",
                                  "3, 3, 1", "-3.2, 1.9, 1, base=3", "0, 1000, 5", "1, -1, 4, base=-2",
                                  "-4.29, -1.98, 13, base=0.5", "0, 2, 0"])
def test_torch_logspace_is_pytorchs_to_the_bit(args, dtype):
    torch = pytest.importorskip("torch")
    theirs = eval(f"torch.logspace({args}, dtype=torch.{dtype})", {"torch": torch}).numpy()  # noqa: S307
    n = theirs.size
    x = np.arange(1.0, n + 1)
    ours = api.evaluate(f"torch.logspace({args}) * x", {"x": x}, dtype=dtype)
    np.testing.assert_array_equal(ours, (theirs * x.astype(dtype)))  # NaN where PyTorch's base ** is NaN
    if n:
        J = np.asarray(api.jacobian(f"torch.logspace({args}) * x", {"x": x}, wrt=["x"])["x"])
        in_float64 = eval(f"torch.logspace({args}, dtype=torch.float64)", {"torch": torch})  # noqa: S307
        np.testing.assert_array_equal(np.diag(J), in_float64.numpy())


@pytest.mark.parametrize("code", ["np.asfortranarray(x) * 2", "np.asfortranarray(np.outer(x, x), np.float64) @ x",
                                  "np.array_equiv(x, x[:1]) * x", "np.array_equiv(x, np.stack([x, x])) * x",
                                  "np.array_equiv(x, x[:2]) * x", "np.array_equiv(x[:, None], x[None, :]) + x"])
@pytest.mark.parametrize("value", [np.array([1.0, 1.0, 1.0]), np.array([1.0, -2.0, 0.5])])
def test_asfortranarray_and_array_equiv_are_numpys(code, value):
    assert_same(api.evaluate(code, {"x": value}), eval(code, {"np": np, "x": value}))  # noqa: S307
    if np.all(value == value[0]):  # array_equiv jumps there: no central difference
        return
    J = np.asarray(api.jacobian(code, {"x": value}, wrt=["x"])["x"])
    h = 1e-6
    for k in range(3):
        e = np.zeros(3)
        e[k] = h
        fd = (np.asarray(eval(code, {"np": np, "x": value + e}), dtype=float)  # noqa: S307
              - np.asarray(eval(code, {"np": np, "x": value - e}), dtype=float)) / (2 * h)  # noqa: S307
        np.testing.assert_allclose(J[..., k], fd, rtol=1e-6, atol=1e-8)


INSERTS = ["np.insert(x, 1, 9.0)", "np.insert(x, 0, -x[:2])", "np.insert(x, -1, [7, 8])", "np.insert(x, 4, 5.0)",
           "np.insert(x, [1, 3], 0.5)", "np.insert(x, [3, 1], [10, 20])", "np.insert(x, [1, 1], [10, 20])",
           "np.insert(x, [0, 4, 2], x[:3] ** 2)", "np.insert(A, 1, 5.0)", "np.insert(A, 1, x[:2], axis=1)",
           "np.insert(A, 2, x[:3], axis=0)", "np.insert(A, [1], [[7], [8]], axis=1)",
           "np.insert(A, [1, 2], x[:2], axis=1)", "np.insert(A, 1, A[0] * x[0], axis=0)",
           "np.insert(A, 0, [[1, 2, 3], [4, 5, 6]], axis=0)", "np.insert(x, [], 3.0)",
           "np.insert(A, [0, 2], A[:, :1] * x[1], axis=1)", "np.insert(x, 2, -0.0)"]


@pytest.mark.parametrize("code", INSERTS)
def test_insert_is_numpys_and_its_derivative_the_central_difference(code):
    x, A = np.array([1.0, 2.0, -3.0, 4.0]), np.arange(6.0).reshape(2, 3) + 1
    assert_same(api.evaluate(code, {"x": x, "A": A}), eval(code, {"np": np, "x": x, "A": A}))  # noqa: S307
    J = api.jacobian(code, {"x": x, "A": A}, wrt=["x", "A"])
    h = 1e-6
    for name, value in (("x", x), ("A", A)):
        for k in range(value.size):
            e = np.zeros(value.size)
            e[k] = h
            up, down = ({"x": x, "A": A} | {name: value + s * e.reshape(value.shape)} for s in (1, -1))
            fd = (eval(code, {"np": np, **up}) - eval(code, {"np": np, **down})) / (2 * h)  # noqa: S307
            np.testing.assert_allclose(np.asarray(J[name]).reshape(fd.shape + (-1,))[..., k], fd, rtol=1e-7,
                                       atol=1e-9, err_msg=f"{code} by {name}")


@pytest.mark.parametrize("code, message", [
    ("np.insert(x, 5, 1.0)", "out of bounds"),
    ("np.insert(x, 1, [[1, 2]])", "do not fit"),
    ("np.insert(A, 1, [1, 2], axis=0)", "do not broadcast"),
    ("np.insert(x, 1.5, 1.0)", "integers"),
    ("np.insert(np.arange(3), 1, x[0])", "integer or boolean array"),
    ("torch.insert(x, 1, 1.0)", "torch.insert"),  # PyTorch has none
])
def test_insert_refuses_what_numpy_refuses(code, message):
    with pytest.raises(JacError, match=message):
        api.evaluate(code, {"x": np.array([1.0, 2.0, -3.0, 4.0]), "A": np.ones((2, 3))})
