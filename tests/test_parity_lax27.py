"""Parity of what session 27 read of jax.lax (lang/whiles.py, lang/scans.py, lang/laxnames.py's session-27 block):
each text run by JAX itself (float64, in a process of its own: test_jax16's ``jax_process``; skipped without jax),
jac's value, Jacobians and a VJP equal to JAX's value and ``jax.jacrev`` of the same text; a while_loop's against
``jax.jacfwd`` (JAX's reverse mode refuses any while_loop), and JAX's own refusal of ``jax.grad`` over one."""

import numpy as np
import pytest

from jacobi_cli.tools import api
from test_jax16 import _jax, assert_agrees_with_jax, jax_process  # noqa: F401 - the fixture is used by name

rng = np.random.default_rng(2727)
X5, Y5 = rng.standard_normal(5), rng.standard_normal(5)
A34 = rng.standard_normal((3, 4))
T234 = rng.standard_normal((2, 3, 4))
ZEROS = np.array([0.5, 0.0, -2.0, 0.0, 3.0, 1.5])
HEAD = "import jax, jax.numpy as jnp\nfrom jax import lax\n"
I32 = "def i32(v):\n    return jnp.array(v, dtype=jnp.int32)\n"

TEXTS = [
    (HEAD + "lax.associative_scan(jnp.add, x)", {"x": X5}),
    (HEAD + "lax.associative_scan(lax.add, x, reverse=True, axis=1)", {"x": A34}),
    (HEAD + "lax.associative_scan(lambda a, b: a * b, x)", {"x": X5}),
    (HEAD + "lax.associative_scan(jnp.multiply, x)", {"x": ZEROS}),
    (HEAD + "lax.associative_scan(lax.mul, x, axis=2, reverse=True)", {"x": T234}),
    (HEAD + "lax.associative_scan(jnp.maximum, x)", {"x": X5}),
    (HEAD + "lax.associative_scan(lambda a, b: lax.min(b, a), x, axis=-1)", {"x": A34}),
    (HEAD + "lax.associative_scan(jnp.logaddexp, x, axis=1, reverse=True)", {"x": A34}),
    (HEAD + "def f(a, b):\n    return jnp.logaddexp(a, b)\nlax.associative_scan(f, x)", {"x": X5 * 30}),
    # lax.reduce and lax.reduce_window (lang/windows.py): padding strings and pairs, strides, dilations, ties
    (HEAD + "lax.reduce_window(x, -jnp.inf, lax.max, (2, 2), (1, 1), 'SAME')", {"x": A34}),
    (HEAD + "lax.reduce_window(x, -jnp.inf, lax.max, (2, 3), (1, 2), 'VALID')", {"x": np.round(A34 * 2) / 2}),
    (HEAD + "lax.reduce_window(x, -jnp.inf, lax.max, (2, 2), (1, 1), 'SAME')", {"x": np.ones((3, 4))}),
    (HEAD + "lax.reduce_window(x, jnp.inf, lax.min, (1, 2, 2), (1, 2, 1), ((0, 0), (1, 1), (0, 2)), "
     "base_dilation=(1, 1, 2))", {"x": np.round(T234 * 2) / 2}),
    (HEAD + "lax.reduce_window(x, 0.0, lax.add, (1, 2, 2), (1, 2, 1), ((0, 0), (1, 1), (0, 2)), "
     "window_dilation=(1, 2, 2))", {"x": T234}),
    (HEAD + "lax.reduce_window(x, 0., lax.add, (2, 2), (2, 1), ((1, 0), (0, 1)), base_dilation=(1, 2))",
     {"x": A34}),
    (HEAD + "lax.reduce_window(x, 0.0, lax.add, (3,), (2,), 'SAME_LOWER', (2,), (1,))", {"x": X5}),
    (HEAD + "lax.reduce_window(x, 0.0, lax.add, (2,), (1,), ((-1, 2),))", {"x": X5}),
    (HEAD + "lax.reduce(x, 0.0, lax.add, (1,))", {"x": A34}),
    (HEAD + "lax.reduce(x, 2.5, lambda a, b: a + b, (0, 2))", {"x": T234}),
    (HEAD + "lax.reduce(x, 1.0, jnp.multiply, (1,))", {"x": np.array([[0.5, 0.0, 2.0], [1.5, -1.0, 3.0]])}),
    (HEAD + "lax.reduce(x, -jnp.inf, lax.max, (1,))", {"x": np.round(A34)}),
    (HEAD + "lax.reduce(x, jnp.inf, jnp.minimum, (0, 1))", {"x": A34}),
    # jax.lax's convolutions (lang/laxmore.py): layouts, strides, padding strings and pairs, dilations, groups
    (HEAD + "lax.conv(x, w, (1, 1), 'SAME')", {"x": rng.standard_normal((1, 2, 5, 4)),
                                               "w": rng.standard_normal((3, 2, 2, 3))}),
    (HEAD + "lax.conv_general_dilated(x, w, (2, 1), ((1, 0), (-1, 2)), (1, 2), (2, 1), ('NHWC', 'HWIO', 'NHWC'))",
     {"x": rng.standard_normal((2, 5, 4, 2)), "w": rng.standard_normal((2, 2, 2, 3))}),
    (HEAD + "lax.conv_general_dilated(x, w, (1, 2), 'SAME_LOWER', rhs_dilation=(1, 2), feature_group_count=2)",
     {"x": rng.standard_normal((1, 4, 5, 6)), "w": rng.standard_normal((6, 2, 3, 2))}),
    (HEAD + "lax.conv_general_dilated(x, w, (2,), 'VALID', dimension_numbers=('NWC', 'WIO', 'NCW'))",
     {"x": rng.standard_normal((2, 7, 3)), "w": rng.standard_normal((3, 3, 2))}),
    (HEAD + "lax.conv_general_dilated(x, w, (1, 1, 2), 'SAME', dimension_numbers=('NDHWC', 'OIDHW', 'NCDHW'))",
     {"x": rng.standard_normal((1, 3, 3, 4, 2)), "w": rng.standard_normal((2, 2, 2, 2, 3))}),
    (HEAD + "lax.conv_with_general_padding(x, w, (1,), ((2, 1),), (3,), (1,))",
     {"x": rng.standard_normal((1, 1, 4)), "w": rng.standard_normal((2, 1, 3))}),
    # jax.scipy.special (lang/laxmore.py), with lmbda = 0, k outside [0, N], N < 0 and m = 0 among the values
    ("jax.scipy.special.boxcox(x, l)", {"x": np.array([0.5, 1.0, 2.0, 3.0, 0.1]),
                                        "l": np.array([0.0, 0.5, -1.0, 0.0, 2.0])}),
    ("jax.scipy.special.boxcox1p(x, l)", {"x": np.array([0.5, 0.0, 2.0, -0.5, 0.1]),
                                          "l": np.array([0.0, 0.5, -1.0, 0.0, 2.0])}),
    ("jax.scipy.special.comb(n, k)", {"n": np.array([5.0, 4.5, 3.0, -1.0, 10.0, 7.0]),
                                      "k": np.array([2.0, 1.5, 4.0, 0.0, 0.0, -1.0])}),
    ("jax.scipy.special.comb(n, k, repetition=True)", {"n": np.array([5.0, 4.5, 3.0, 0.0, 10.0, -1.0]),
                                                       "k": np.array([2.0, 1.5, 4.0, 0.0, 3.0, 0.0])}),
    ("jax.scipy.special.poch(z, m)", {"z": np.array([0.5, 1.5, -0.5, 3.0, 2.2, 7.5]),
                                      "m": np.array([0.0, 1.5, 2.0, 0.0, -0.7, 3.0])}),
    ("jax.scipy.special.bernoulli(30)[3:] * x", {"x": np.array(1.5)}),
    # jax.lax's bitwise ops of integer constants, RoundingMethod, nextafter of constants
    (I32 + "(lax.shift_left(i32([1, -1, 3]), i32([2, 31, 40])) + lax.shift_right_logical(i32([-8, 8, 1]), i32(1)) + "
     "lax.shift_right_arithmetic(i32([-8, 8, -1]), i32([1, 40, -1])) + lax.population_count(i32([-1, 7, 0])) + "
     "lax.clz(i32([-1, 7, 0])) + lax.bitwise_xor(jnp.array([5, 6, -3]), 3)) * x",
     {"x": np.array([1.0, 1e-9, 1e-9])}),
    ("lax.bitwise_not(jnp.array([0, 1, -2])) * lax.bitwise_and(jnp.array([5, 6, -3]), 3) * x + "
     "lax.bitwise_or(jnp.array([5, 6, -3]), 8) * x", {"x": np.array([1.0, 2.0, 3.0])}),
    ("lax.round(x, lax.RoundingMethod.TO_NEAREST_EVEN) + lax.round(x, lax.RoundingMethod.AWAY_FROM_ZERO) + x",
     {"x": np.array([0.5, 1.5, 2.5, -0.5, -2.5, 0.3])}),
    ("lax.nextafter(jnp.array([1.0, -2.0, 0.0]), jnp.array([3.0, -3.0, -1.0])) * x", {"x": np.array([1.0, 2.0, 3.0])}),
    (HEAD + "lax.reduce_precision(x, 11, 52) * x + lax.reduce_precision(x, exponent_bits=15, mantissa_bits=60)",
     {"x": X5}),
]


@pytest.mark.parametrize("code, inputs", TEXTS, ids=[t[0][len(HEAD):][:60] for t in TEXTS])
def test_agrees_with_jax(jax_process, code, inputs):
    assert_agrees_with_jax(jax_process, code, inputs)


def jax_forward(code: str, inputs: dict) -> dict:
    """The snippet's value and ``jax.jacfwd`` by every input (a while_loop's: JAX's jacrev refuses it)."""
    jax = _jax()
    jnp = jax.numpy
    names = list(inputs)

    def f(*xs):
        scope = {"jax": jax, "jnp": jnp, "lax": jax.lax, **dict(zip(names, xs))}
        lines = code.splitlines()
        exec("\n".join(lines[:-1]), scope)
        return jnp.asarray(eval(lines[-1], scope), dtype=jnp.float64)

    args = tuple(jnp.asarray(inputs[k], dtype=jnp.float64) for k in names)
    jac = jax.jacfwd(f, argnums=tuple(range(len(args))))(*args)
    try:
        jax.jacrev(f)(*args)
        reverse = "no error"
    except Exception as e:  # JAX's refusal of reverse mode over a while_loop
        reverse = f"{type(e).__name__}: {e}"
    return {"value": np.asarray(f(*args)), "jacobian": {k: np.asarray(j) for k, j in zip(names, jac)},
            "reverse": reverse}


WHILES = [
    (HEAD + "lax.while_loop(lambda c: c[0] < 4, lambda c: (c[0] + 1, jnp.sin(c[1]) * y), (0, x))[1]",
     {"x": X5, "y": Y5}),
    (HEAD + "def cond(c):\n    i, v = c\n    return i < 3\ndef body(c):\n    i, v = c\n    return i + 1, v @ a\n"
     "lax.while_loop(cond, body, (jnp.int32(0), x))[1]", {"x": A34[:, :3], "a": rng.standard_normal((3, 3))}),
    (HEAD + "lax.while_loop(lambda c: c[1] > 0, lambda c: (c[0] * 2.0 + c[0] ** 2, c[1] - 1), (x, 5))[0]",
     {"x": X5 * 0.1}),
    (HEAD + "lax.while_loop(lambda c: c[0] < 0, lambda c: (c[0] + 1, c[1] * 2.0), (0, x))[1]", {"x": X5}),
]


@pytest.mark.parametrize("code, inputs", WHILES, ids=[t[0][len(HEAD):][:60] for t in WHILES])
def test_a_while_loop_with_a_constant_trip_count_agrees_with_jax_jacfwd(jax_process, code, inputs):
    theirs = jax_process.submit(jax_forward, code, inputs).result()
    assert "Reverse-mode differentiation does not work" in theirs["reverse"]
    np.testing.assert_allclose(api.evaluate(code, inputs), theirs["value"], rtol=1e-10, atol=1e-12)
    ours = api.jacobian(code, inputs)
    for k in inputs:
        np.testing.assert_allclose(ours[k], theirs["jacobian"][k], rtol=1e-10, atol=1e-12, err_msg=k)
