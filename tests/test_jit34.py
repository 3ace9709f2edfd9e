"""Where JAX traces abstractly and raises, jac refuses naming JAX's error (session 34, h34-jit): a Python number, bool,
list or NumPy array passed to a jitted function without static_argnums is a tracer (range(n), if n > 2, x[:n] raise;
v * n, v[n] do not); fori_loop's index is one (x[:i], range(i), if i > 1 raise; v[i], v.at[i], dynamic_slice at
(i,), jnp.roll by i do not); float(), int(), bool(), .item(), .tolist(), np.asarray / np.array of a traced value
raise under jit, vmap and the loops' bodies, and float(), .tolist() and np.asarray of a value carrying a tangent raise
under JAX's derivative transforms too (grad, jacrev, jacfwd, hessian, jvp, vjp, linearize), where int(), .item(),
bool() and tests read the concrete value. JAX's verdicts are hard-coded here (JAX 0.10, x64, checked by
tests/test_parity_jit34.py); the probe is benchmarks/jit34_probe.py."""

import numpy as np
import pytest

from jacobi_cli.errors import JacValueError
from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian
from jacobi_cli.tools.report import shape_report

HEAD = "import jax, jax.numpy as jnp, numpy as np\nfrom functools import partial\n"
X = np.array([1.0, -2.0, 3.0])

RAISES = [  # text, the exception JAX 0.10 raises (checked: tests/test_parity_jit34.py)
    ('jax.jit(lambda v, n: sum(v[i] for i in range(n)))(x, 2)',
     'TracerIntegerConversionError'),
    ('jax.jit(lambda v, n: v * 2.0 if n > 2 else -v)(x, 3)',
     'TracerBoolConversionError'),
    ('jax.jit(lambda v, n: v[:n])(x, 2)',
     'IndexError'),
    ('jax.jit(lambda v, n: v[:n])(x, n=2)',
     'IndexError'),
    ('jax.jit(lambda v, n: v * int(n))(x, 2)',
     'ConcretizationTypeError'),
    ('jax.jit(lambda v, n: v * jnp.ones(n))(x, 3)',
     'TypeError'),
    ('jax.jit(lambda v, n: v.reshape(n, -1))(x, 3)',
     'TypeError'),
    ('jax.jit(lambda v, s: v * 2.0 if s > 0 else v)(x, 1.5)',
     'TracerBoolConversionError'),
    ('jax.jit(lambda v, b: v if b else -v)(x, True)',
     'TracerBoolConversionError'),
    ('jax.jit(lambda v, t: v if t[0] > 0 else -v)(x, (1.0, 2.0))',
     'TracerBoolConversionError'),
    ('jax.jit(lambda v, l: v if l[0] > 0 else -v)(x, [1.0, 2.0])',
     'TracerBoolConversionError'),
    ('jax.jit(lambda v, a: v if a[0] > 0 else -v)(x, np.array([1.0, 2.0, 3.0]))',
     'TracerBoolConversionError'),
    ('@jax.jit\ndef f(v, n):\n    return sum(v[i] for i in range(n))\nf(x, 2)',
     'TracerIntegerConversionError'),
    ('jax.grad(jax.jit(lambda v, n: jnp.sum(v[:n])))(x, 2)',
     'IndexError'),
    ('jax.jit(jax.grad(lambda v, n: jnp.sum(v[:n])))(x, 2)',
     'IndexError'),
    ('jax.jit(lambda v: v * float(v[0]))(x)',
     'ConcretizationTypeError'),
    ('jax.jit(lambda v: v * int(v[0]))(x)',
     'ConcretizationTypeError'),
    ('jax.jit(lambda v: v * bool(v[0]))(x)',
     'TracerBoolConversionError'),
    ('jax.jit(lambda v: v * v[0].item())(x)',
     'ConcretizationTypeError'),
    ('jax.jit(lambda v: v * v.tolist()[0])(x)',
     'ConcretizationTypeError'),
    ('jax.jit(lambda v: v * np.asarray(v)[0])(x)',
     'TracerArrayConversionError'),
    ('jax.jit(lambda v: v * np.array(v)[0])(x)',
     'TracerArrayConversionError'),
    ('jax.jit(lambda v: v * float(x.sum()))(x)',
     'ConcretizationTypeError'),
    ('jax.vmap(lambda v: v * float(v[0]))(jnp.stack([x, 2.0 * x]))',
     'ConcretizationTypeError'),
    ('jax.vmap(lambda v: v * int(v[0]))(jnp.stack([x, 2.0 * x]))',
     'ConcretizationTypeError'),
    ('jax.vmap(lambda v: v * bool(v[0]))(jnp.stack([x, 2.0 * x]))',
     'TracerBoolConversionError'),
    ('jax.vmap(lambda v: v * np.asarray(v)[0])(jnp.stack([x, 2.0 * x]))',
     'TracerArrayConversionError'),
    ('jax.lax.fori_loop(0, 2, lambda i, v: v * float(v[0]), x)',
     'ConcretizationTypeError'),
    ('jax.lax.scan(lambda c, _: (c * float(c[0]), None), x, None, length=2)[0]',
     'ConcretizationTypeError'),
    ('jax.grad(lambda v: jnp.sum(v) * float(v[0]))(x)',
     'ConcretizationTypeError'),
    ('jax.grad(lambda v: jnp.sum(v) * v.tolist()[0])(x)',
     'ConcretizationTypeError'),
    ('jax.grad(lambda v: jnp.sum(v) * np.asarray(v)[0])(x)',
     'TracerArrayConversionError'),
    ('jax.grad(lambda v, w: jnp.sum(v) * float(w[0]), argnums=1)(x, x)',
     'ConcretizationTypeError'),
    ('jax.jacrev(lambda v: v * float(v[0]))(x)',
     'ConcretizationTypeError'),
    ('jax.jacfwd(lambda v: v * float(v[0]))(x)',
     'ConcretizationTypeError'),
    ('jax.hessian(lambda v: jnp.sum(v) * float(v[0]))(x)',
     'ConcretizationTypeError'),
    ('jax.jvp(lambda v: v * float(v[0]), (x,), (x,))[1]',
     'ConcretizationTypeError'),
    ('jax.vjp(lambda v: v * float(v[0]), x)[0]',
     'ConcretizationTypeError'),
    ('jax.linearize(lambda v: v * float(v[0]), x)[0]',
     'ConcretizationTypeError'),
    ('jax.value_and_grad(lambda v: jnp.sum(v) * float(v[0]))(x)[1]',
     'ConcretizationTypeError'),
    ('jax.lax.fori_loop(0, 2, lambda i, v: v.at[:i].set(0.0), x)',
     'IndexError'),
    ('jax.lax.fori_loop(0, 2, lambda i, v: v * sum(1.0 for _ in range(i)), x)',
     'TracerIntegerConversionError'),
    ('jax.lax.fori_loop(0, 3, lambda i, v: v * 2.0 if i > 1 else v, x)',
     'TracerBoolConversionError'),
    ('jax.lax.fori_loop(0, 3, lambda i, v: v * int(i), x)',
     'ConcretizationTypeError'),
    ('jax.lax.fori_loop(0, 3, lambda i, v: v + v[:i].sum(), x)',
     'IndexError'),
    ('jax.lax.scan(lambda c, _: (c * 2.0 if c[0] > 0 else c, None), x, None, length=2)[0]',
     'TracerBoolConversionError'),
    ('jax.lax.scan(lambda c, xi: (c * 2.0 if xi > 0 else c, None), x, x)[0]',
     'TracerBoolConversionError'),
    ('jax.checkpoint(lambda v: v if v[0] > 0 else -v, policy=jax.checkpoint_policies.nothing_saveable)(x)',
     'TracerBoolConversionError'),
]

ANSWERS = [  # text, JAX 0.10's value at x = [1, -2, 3] (its jacrev: tests/test_parity_jit34.py)
    ('jax.jit(lambda v, n: v * n)(x, 2)',
     [2.0, -4.0, 6.0]),
    ('jax.jit(lambda v, n: v[n])(x, 2)',
     3.0),
    ('jax.jit(lambda v, n: v ** n)(x, 2)',
     [1.0, 4.0, 9.0]),
    ('jax.jit(lambda v, b: v if b is None else -v)(x, None)',
     [1.0, -2.0, 3.0]),
    ('jax.jit(lambda v, l: v * l[0])(x, [1.0, 2.0])',
     [1.0, -2.0, 3.0]),
    ('jax.jit(lambda v, l: v[:len(l)])(x, [1.0, 2.0])',
     [1.0, -2.0]),
    ('jax.jit(lambda v, a: v * a)(x, np.array([1.0, 2.0, 3.0]))',
     [1.0, -4.0, 9.0]),
    ('jax.jit(lambda v, n: v[:n], static_argnums=1)(x, 2)',
     [1.0, -2.0]),
    ("jax.jit(lambda v, n: sum(v[i] for i in range(n)), static_argnames='n')(x, n=2)",
     -1.0),
    ('jax.jit(lambda v, n: v * 2.0 if n > 2 else -v, static_argnums=(1,))(x, 3)',
     [2.0, -4.0, 6.0]),
    ('@partial(jax.jit, static_argnums=1)\ndef f(v, n):\n    return sum(v[i] for i in range(n))\nf(x, 2)',
     -1.0),
    ("@partial(jax.jit, static_argnames='n')\ndef f(v, n):\n    return v[:n] * 2.0\nf(x, n=2)",
     [2.0, -4.0]),
    ('@jax.jit\ndef f(v, n=2):\n    return v[:n]\nf(x)',
     [1.0, -2.0]),
    ('jax.grad(lambda v, n: sum(v[i] for i in range(n)))(x, 2)',
     [1.0, 1.0, 0.0]),
    ('jax.vmap(lambda v, n: v[:n], in_axes=(0, None))(jnp.stack([x, 2.0 * x]), 2)',
     [[1.0, -2.0], [2.0, -4.0]]),
    ('jax.jit(lambda v: v * jnp.asarray(v)[0])(x)',
     [1.0, -2.0, 3.0]),
    ('s = float(x.sum())\njax.jit(lambda v: v * s)(x)',
     [2.0, -4.0, 6.0]),
    ('jax.vmap(lambda v: v * float(x[0]))(jnp.stack([x, 2.0 * x]))',
     [[1.0, -2.0, 3.0], [2.0, -4.0, 6.0]]),
    ('jax.grad(lambda v: jnp.sum(v) * int(v[0]))(x)',
     [1.0, 1.0, 1.0]),
    ('jax.grad(lambda v: jnp.sum(v) * v[0].item())(x)',
     [1.0, 1.0, 1.0]),
    ('jax.grad(lambda v: jnp.sum(v) * bool(v[0] > 0))(x)',
     [1.0, 1.0, 1.0]),
    ('jax.grad(lambda v: jnp.sum(v) if v[0] > 0 else 0.0)(x)',
     [1.0, 1.0, 1.0]),
    ('jax.grad(lambda v: jnp.sum(jnp.asarray(v)))(x)',
     [1.0, 1.0, 1.0]),
    ('jax.grad(lambda v: jnp.sum(v) * float(jax.lax.stop_gradient(v)[0]))(x)',
     [1.0, 1.0, 1.0]),
    ('jax.grad(lambda v: jnp.sum(v) * float(jnp.argmax(v)))(x)',
     [2.0, 2.0, 2.0]),
    ('jax.grad(lambda v: jnp.sum(v) * float(v[0] > 0))(x)',
     [1.0, 1.0, 1.0]),
    ('jax.grad(lambda v: jnp.sum(v) * float(x[0]))(x)',
     [1.0, 1.0, 1.0]),
    ('jax.grad(lambda v, w: jnp.sum(v) * float(w[0]))(x, x)',
     [1.0, 1.0, 1.0]),
    ('jax.jacfwd(lambda v: v * int(v[0]))(x)',
     [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]),
    ('jax.hessian(lambda v: jnp.sum(v ** 2) if v[0] > 0 else 0.0)(x)',
     [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 2.0]]),
    ('jax.jvp(lambda v: v * v[0].item(), (x,), (x,))[1]',
     [1.0, -2.0, 3.0]),
    ('jax.lax.fori_loop(0, 3, lambda i, v: v * v[i], x)',
     [12.0, -24.0, 36.0]),
    ('jax.lax.fori_loop(0, 3, lambda i, v: v * i + v, x)',
     [6.0, -12.0, 18.0]),
    ('jax.lax.fori_loop(0, 3, lambda i, v: v.at[i].set(v[i] * 2.0), x)',
     [2.0, -4.0, 6.0]),
    ('jax.lax.fori_loop(0, 2, lambda i, v: v + jax.lax.dynamic_slice(v, (i,), (1,)), x)',
     [1.0, -2.0, 3.0]),
    ('jax.lax.fori_loop(0, 2, lambda i, v: jax.lax.dynamic_update_slice(v, v[:1] * 3.0, (i,)), x)',
     [3.0, 9.0, 3.0]),
    ('jax.lax.fori_loop(0, 2, lambda i, v: jnp.roll(v, i) * 0.5 + v, x)',
     [3.75, -2.25, 3.0]),
    ('jax.lax.fori_loop(0, 3, lambda i, v: jnp.where(i > 1, v * 2.0, v), x)',
     [2.0, -4.0, 6.0]),
    ('jax.jit(lambda v: jax.lax.dynamic_slice(v, (jnp.argmax(v),), (1,)))(x)',
     [3.0]),
    ('jax.jit(lambda v: jnp.roll(v, jnp.argmax(v)))(x)',
     [-2.0, 3.0, 1.0]),
    ('jax.jit(lambda v: v.at[jnp.argmax(v)].set(0.0))(x)',
     [1.0, -2.0, 0.0]),
    ('jax.vmap(lambda v: jax.lax.dynamic_slice(v, (jnp.argmax(v),), (1,)))(jnp.stack([x, 2.0 * x]))',
     [[3.0], [6.0]]),
    ('jax.checkpoint(lambda v: jnp.sin(v) * v, policy=jax.checkpoint_policies.nothing_saveable)(x)',
     [0.8414709848078965, 1.8185948536513634, 0.4233600241796016]),
    ('jax.jit(lambda v, l: v * l[0], static_argnums=(1,))(x, (1.0, 2.0))',
     [1.0, -2.0, 3.0]),
    ('jax.grad(lambda v: np.sum(v * v))(x)',
     [2.0, -4.0, 6.0]),
]


@pytest.mark.parametrize("text, error", RAISES, ids=[t[:60] for t, _ in RAISES])
def test_where_jax_raises_jac_refuses_naming_its_error(text, error):
    with pytest.raises(JacValueError) as info:
        api.evaluate(HEAD + text, {"x": X})
    assert error in str(info.value), str(info.value)
    assert info.value.position is not None and info.value.position >= len(HEAD)


@pytest.mark.parametrize("text, value", ANSWERS, ids=[t[:60] for t, _ in ANSWERS])
def test_where_jax_answers_jac_answers_the_same(text, value):
    code = HEAD + text
    np.testing.assert_allclose(api.evaluate(code, {"x": X}), value, rtol=1e-12, atol=1e-12)
    if any(w in text for w in ("float(", "int(", ".item()")):
        return  # a detached read: the derivative holds it constant (JAX's jacrev too, tests/test_parity_jit34.py)
    jac = api.jacobian(code, {"x": X})["x"]
    np.testing.assert_allclose(jac, central_jacobian(lambda v: np.asarray(api.evaluate(code, {"x": v})), X),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("text, error, at", [
    ("jax.jit(lambda v, n: v[:n])(x, 2)", "IndexError", ":n]"),
    ("jax.jit(lambda v, n: sum(v[i] for i in range(n)))(x, 2)", "TracerIntegerConversionError", "range(n)"),
    ("jax.jit(lambda v, n: v * 2.0 if n > 2 else -v)(x, 3)", "TracerBoolConversionError", "n > 2"),
    ("jax.lax.fori_loop(0, 3, lambda i, v: v * 2.0 if i > 1 else v, x)", "TracerBoolConversionError", "i > 1"),
    ("jax.grad(lambda v: jnp.sum(v) * float(v[0]))(x)", "ConcretizationTypeError", "float(v[0])"),
    ("jax.jit(lambda v: v * np.asarray(v)[0])(x)", "TracerArrayConversionError", "asarray(v)"),
])
def test_the_caret_is_at_the_read(text, error, at):
    with pytest.raises(JacValueError, match=error) as info:
        api.evaluate(HEAD + text, {"x": X})
    assert info.value.position == len(HEAD) + text.index(at), info.value.position


@pytest.mark.parametrize("text", [
    "jax.lax.fori_loop(0, 3, lambda i, v: v.at[i].set(v[i] * 2.0), x)",
    "jax.lax.fori_loop(0, 2, lambda i, v: v + jax.lax.dynamic_slice(v, (i,), (1,)), x)",
    "jax.jit(lambda v, n: v * n)(x, 2)",
])
def test_a_traced_index_or_number_jax_takes_leaves_the_graph_for_any_values(text):
    # fori_loop's index and jit's number are tracers to JAX, constants to the values: no by-value warning, and jac
    # shape (no values) reads them
    assert shape_report(HEAD + text, ["x:3"]) is not None
    assert not api.compile(HEAD + text, {"x": X}).graph.by_value


def test_without_the_values_a_read_of_a_traced_number_is_still_jaxs_error():
    with pytest.raises(JacValueError, match="IndexError"):
        shape_report(HEAD + "jax.jit(lambda v, n: v[:n])(x, 2)", ["x:3"])
