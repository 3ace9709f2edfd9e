"""What JAX's traces raise at, the rest (session 35, h35-jaxtrace): NumPy's own functions of a JAX tracer (np.sin(v),
np.float64(v[0]), np.linalg.norm; not those that call the tracer's own method, np.sum, np.mean, np.reshape), a list,
tuple of lists or array marked static under jax.jit (not under jax.checkpoint), a JAX array made inside jax.jit or a
loop's body and read by Python (float(jnp.ones(3)[0])), a Python list indexed by a traced integer, a constant mapped by
vmap or passed to scan / fori_loop read by an if, a traced size of a shape (JAX's TypeError), and JAX's ahead-of-time
API (jax.jit(f).lower). JAX's verdicts are hard-coded here (JAX 0.10, x64, at x = [1, -2, 3]) and checked against
JAX itself in a process of its own (the parity tests, skipped without jax); the probe is benchmarks/jit35_probe.py."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError, JacNameError, JacValueError
from jacobi_cli.lang import whiles
from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian
from test_jax16 import jax_process  # noqa: F401 - the fixture is used by name
from test_parity_jit34 import _jax_verdict

HEAD = "import jax, jax.numpy as jnp, numpy as np\nfrom functools import partial\n"
X = np.array([1.0, -2.0, 3.0])

RAISES = [  # text, the exception JAX 0.10 raises (checked below against JAX itself)
    ('jax.grad(lambda v: jnp.sum(np.sin(v)))(x)',
     'TracerArrayConversionError'),
    ('jax.grad(lambda v: np.dot(v, v))(x)',
     'TracerArrayConversionError'),
    ('jax.grad(lambda v: np.linalg.norm(v))(x)',
     'TracerArrayConversionError'),
    ('jax.grad(lambda v: jnp.sum(np.clip(v, 0.0, 1.0)))(x)',
     'TracerArrayConversionError'),
    ('jax.grad(lambda v: jnp.sum(v) * np.float64(v[0]))(x)',
     'TracerArrayConversionError'),
    ('jax.jit(lambda v: np.sin(v))(x)',
     'TracerArrayConversionError'),
    ('jax.vmap(lambda v: v * np.float64(v[0]))(jnp.stack([x, 2.0 * x]))',
     'TracerArrayConversionError'),
    ('jax.lax.fori_loop(0, 2, lambda i, v: v * np.sin(i), x)',
     'TracerArrayConversionError'),
    ('jax.lax.scan(lambda c, _: (np.sin(c), None), x, None, length=2)[0]',
     'TracerArrayConversionError'),
    ('jax.lax.while_loop(lambda c: c[0] < 10.0, lambda c: np.exp(c), x)',
     'TracerArrayConversionError'),
    ('jax.checkpoint(lambda v: np.sin(v))(x)',
     'TracerArrayConversionError'),
    ('jax.jacfwd(lambda v: np.sin(v))(x)',
     'TracerArrayConversionError'),
    ('jax.hessian(lambda v: jnp.sum(np.sin(v)))(x)',
     'TracerArrayConversionError'),
    ('jax.jit(lambda v: v * np.sin(jnp.ones(3)))(x)',
     'TracerArrayConversionError'),
    ('jax.jit(lambda v, l: v * l[0], static_argnums=(1,))(x, [1.0, 2.0])',
     'ValueError'),
    ("jax.jit(lambda v, l: v * l[0], static_argnames='l')(x, l=[1.0, 2.0])",
     'ValueError'),
    ('jax.jit(lambda v, l: v * l[0][0], static_argnums=1)(x, ([1.0, 2.0], [3.0, 4.0]))',
     'ValueError'),
    ('jax.jit(lambda v, l: v * l[0], static_argnums=1)(x, np.array((1.0, 2.0)))',
     'ValueError'),
    ('jax.jit(lambda v: v * float(jnp.ones(3)[0]))(x)',
     'ConcretizationTypeError'),
    ('jax.jit(lambda v: v * int(jnp.ones(3)[0]))(x)',
     'ConcretizationTypeError'),
    ('jax.jit(lambda v: v if jnp.ones(3)[0] > 0 else -v)(x)',
     'TracerBoolConversionError'),
    ('c = jnp.ones(3)\njax.jit(lambda v: v * float(c.sum()))(x)',
     'ConcretizationTypeError'),
    ('jax.lax.fori_loop(0, 2, lambda i, v: v * float(jnp.ones(3)[0]), x)',
     'ConcretizationTypeError'),
    ('jax.checkpoint(lambda v: v * jnp.ones(3)[0].item())(x)',
     'ConcretizationTypeError'),
    ('jax.jit(lambda v: v * [1.0, 2.0, 3.0][jnp.argmax(v)])(x)',
     'TracerIntegerConversionError'),
    ('jax.vmap(lambda v: v * [1.0, 2.0, 3.0][jnp.argmax(v)])(jnp.stack([x, 2.0 * x]))',
     'TracerIntegerConversionError'),
    ('jax.lax.fori_loop(0, 2, lambda i, v: v * (1.0, 2.0)[i], x)',
     'TracerIntegerConversionError'),
    ('l = [1.0, 2.0, 3.0]\njax.jit(lambda v: v * l[jnp.argmax(v)])(x)',
     'TracerIntegerConversionError'),
    ('jax.lax.scan(lambda c, xi: (c * 2.0 if xi > 0 else c, None), x, jnp.arange(3.0))[0]',
     'TracerBoolConversionError'),
    ('jax.vmap(lambda v, w: v * 2.0 if w > 0 else v)(jnp.stack([x, x]), jnp.array([1.0, -1.0]))',
     'TracerBoolConversionError'),
    ('jax.lax.fori_loop(0, 2, lambda i, v: v if v[0] > 0 else -v, jnp.ones(3)) * x',
     'TracerBoolConversionError'),
    ('jax.jit(lambda v, n: v * jnp.zeros((n, 1)))(x, 3)',
     'TypeError'),
    ('jax.jit(lambda v, n: jnp.eye(n) @ v)(x, 3)',
     'TypeError'),
    ('jax.jit(lambda v, n: jnp.broadcast_to(v, (n, 3)))(x, 3)',
     'TypeError'),
    ('jax.lax.fori_loop(1, 2, lambda i, v: v + jnp.ones(i).sum(), x)',
     'TypeError'),
    ('jax.vmap(lambda v: v * jnp.ones(jnp.argmax(v) + 1).sum())(jnp.stack([x, 2.0 * x]))',
     'TypeError'),
]

ANSWERS = [  # text, JAX 0.10's value at x = [1, -2, 3]: no false refusal (checked below against JAX itself)
    ('jax.grad(lambda v: np.mean(v * v))(x)',
     [0.6666666666666666, -1.3333333333333333, 2.0]),
    ('jax.grad(lambda v: jnp.sum(np.reshape(v, (3, 1)) ** 2))(x)',
     [2.0, -4.0, 6.0]),
    ('jax.grad(lambda v: jnp.sum(v * np.sin(jax.lax.stop_gradient(v))))(x)',
     [0.8414709848078965, -0.9092974268256817, 0.1411200080598672]),
    ('jax.grad(lambda v: jnp.sum(v) * np.sin(jnp.argmax(v)))(x)',
     [0.9092974268256817, 0.9092974268256817, 0.9092974268256817]),
    ('c = jnp.array([0.5, 1.0, 1.5])\njax.jit(lambda v: v * np.sin(c))(x)',
     [0.479425538604203, -1.682941969615793, 2.9924849598121632]),
    ('jax.jit(lambda v: v * np.sum(v))(x)',
     [2.0, -4.0, 6.0]),
    ('jax.vmap(lambda v: v * np.mean(v))(jnp.stack([x, 2.0 * x]))',
     [[0.6666666666666666, -1.3333333333333333, 2.0], [2.6666666666666665, -5.333333333333333, 8.0]]),
    ('np.sin(jnp.array([0.5, 1.0, 1.5])) * x',
     [0.479425538604203, -1.682941969615793, 2.9924849598121632]),
    ('jax.jit(lambda v, l: v * l[0], static_argnums=1)(x, tuple([1.0, 2.0]))',
     [1.0, -2.0, 3.0]),
    ('jax.jit(lambda v, l: v * l[0][0], static_argnums=1)(x, ((1.0, 2.0), (3.0, 4.0)))',
     [1.0, -2.0, 3.0]),
    ('jax.checkpoint(lambda v, l: v * l[0], static_argnums=(1,))(x, [1.0, 2.0])',
     [1.0, -2.0, 3.0]),
    ('jax.jit(lambda v: v * float(np.ones(3)[0]))(x)',
     [1.0, -2.0, 3.0]),
    ('jax.vmap(lambda v: v * float(jnp.ones(3)[0]))(jnp.stack([x, 2.0 * x]))',
     [[1.0, -2.0, 3.0], [2.0, -4.0, 6.0]]),
    ('jax.grad(lambda v: jnp.sum(v) * float(jnp.ones(3)[0]))(x)',
     [1.0, 1.0, 1.0]),
    ('x * float(jnp.ones(3)[0]) if jnp.ones(3)[0] > 0 else -x',
     [1.0, -2.0, 3.0]),
    ('jax.grad(lambda v: jnp.sum(v) * [1.0, 2.0, 3.0][jnp.argmax(v)])(x)',
     [3.0, 3.0, 3.0]),
    ('jax.jacfwd(lambda v: v * [1.0, 2.0, 3.0][jnp.argmax(v)])(x)',
     [[3.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 3.0]]),
    ('x * [1.0, 2.0, 3.0][jnp.argmax(x)]',
     [3.0, -6.0, 9.0]),
    ('jax.vmap(lambda v, w: v * 2.0 if w > 0 else v, in_axes=(0, None))(jnp.stack([x, x]), 1.0)',
     [[2.0, -4.0, 6.0], [2.0, -4.0, 6.0]]),
    ('jax.lax.scan(lambda c, xi: (c + xi, c), 0.0, jnp.arange(3.0))[1] * x',
     [0.0, -0.0, 3.0]),
    ('jax.lax.fori_loop(0, 3, lambda i, c: c + 1, 0) * x',
     [3.0, -6.0, 9.0]),
    ('jax.vmap(lambda v, n: v * jnp.ones(n), in_axes=(0, None))(jnp.stack([x, x]), 3)',
     [[1.0, -2.0, 3.0], [1.0, -2.0, 3.0]]),
    ('jax.grad(lambda v: jnp.sum(v) * jnp.ones(jnp.argmax(v) + 1).sum())(x)',
     [3.0, 3.0, 3.0]),
    ('jax.jit(lambda v, n: v * jnp.ones(n), static_argnums=1)(x, 3)',
     [1.0, -2.0, 3.0]),
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
    if "stop_gradient" in text:  # its derivative is 0 where the values move: JAX's jacrev is the reference (below)
        return
    jac = api.jacobian(code, {"x": X})["x"]
    np.testing.assert_allclose(jac, central_jacobian(lambda v: np.asarray(api.evaluate(code, {"x": v})), X),
                               rtol=1e-6, atol=1e-8)


def test_a_traced_size_of_a_shape_names_jaxs_typeerror_not_concretization():
    with pytest.raises(JacValueError) as info:
        api.evaluate(HEAD + "jax.jit(lambda v, n: v * jnp.ones(n))(x, 3)", {"x": X})
    assert "TypeError: Shapes must be 1D sequences of concrete values of integer type" in str(info.value)
    assert "ConcretizationTypeError" not in str(info.value)
    with pytest.raises(JacValueError) as info:  # jnp.arange(n): JAX's ConcretizationTypeError, as before
        api.evaluate(HEAD + "jax.jit(lambda v, n: v * jnp.arange(n))(x, 3)", {"x": X})
    assert "ConcretizationTypeError" in str(info.value)


@pytest.mark.parametrize("text, at", [
    ("jax.jit(lambda v: v * 2.0).lower(x)", "lower"),
    ("jax.jit(lambda v: v * 2.0).lower(x).compile()(x)", "lower"),
    ("g = jax.jit(lambda v: v * 2.0)\ng.trace(x)", "trace"),
    ("jax.checkpoint(lambda v: v * 2.0).eval_shape(x)", "eval_shape"),
])
def test_jaxs_ahead_of_time_api_is_named_with_the_caret_under_the_stage(text, at):
    with pytest.raises(JacNameError) as info:
        api.evaluate(HEAD + text, {"x": X})
    assert "ahead-of-time API" in str(info.value) and "(f)(x)" in str(info.value)
    assert "did you mean" not in str(info.value)
    assert info.value.position == len(HEAD) + text.index(at), info.value.position


def test_jax_eval_shape_points_to_jac_shape():
    with pytest.raises(JacError) as info:
        api.evaluate(HEAD + "jax.eval_shape(lambda v: v * 2.0, x)", {"x": X})
    assert "ShapeDtypeStruct" in str(info.value) and "jac shape" in str(info.value)
    assert info.value.position == len(HEAD) + len("jax.")


def test_a_static_list_is_refused_at_the_call_and_names_the_argument():
    text = "jax.jit(lambda v, l: v * l[0], static_argnames='l')(x, l=[1.0, 2.0])"
    with pytest.raises(JacValueError) as info:
        api.evaluate(HEAD + text, {"x": X})
    assert "argument l" in str(info.value) and "Non-hashable static arguments" in str(info.value)


def test_a_constant_traced_by_a_loop_gives_the_same_values_and_derivatives():
    # the slices of a constant xs and a constant carry are nodes of their own now (not folded): the same answers
    code = HEAD + "jax.lax.scan(lambda c, xi: (c * xi + jnp.sin(c), None), jnp.ones(3), jnp.arange(1.0, 3.0))[0] * x"
    c = np.ones(3)
    for xi in (1.0, 2.0):
        c = c * xi + np.sin(c)
    np.testing.assert_allclose(api.evaluate(code, {"x": X}), c * X, rtol=1e-14)
    np.testing.assert_allclose(api.jacobian(code, {"x": X})["x"], np.diag(c), rtol=1e-14)


def _numpy_dispatch(names):
    """For each NumPy function name, whether NumPy's function of a JAX tracer answers under jax.jit, jax.grad and
    jax.vmap (it calls the tracer's own method) or raises TracerArrayConversionError, in JAX's process."""
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    a = jnp.asarray([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]])
    calls = {"reshape": lambda v: np.reshape(v, (3, 2)), "repeat": lambda v: np.repeat(v, 2),
             "swapaxes": lambda v: np.swapaxes(v, 0, 1), "searchsorted": lambda v: np.searchsorted(v[0], 0.0),
             "moveaxis": lambda v: np.moveaxis(v, 0, 1), "clip": lambda v: np.clip(v, 0.0, 1.0),
             "take": lambda v: np.take(v, [0, 1]), "power": lambda v: np.power(v, 2)}
    found = {}
    for name in names:
        f = calls.get(name, lambda v, g=getattr(np, name): g(v))  # jax.jit of NumPy's dispatcher itself: TypeError
        verdicts = []
        for run in (lambda: jax.jit(f)(a), lambda: jax.vmap(f)(jnp.stack([a, a])),
                    lambda: jax.grad(lambda v: jnp.sum(jnp.asarray(f(v), dtype=float)))(a)):
            try:
                run()
                verdicts.append("answers")
            except Exception as err:  # noqa: BLE001 - the class is the verdict
                verdicts.append(type(err).__name__)
        found[name] = verdicts
    return found


def test_the_numpy_functions_jac_lets_through_are_those_that_call_jaxs_own_method(jax_process):
    dispatched = sorted(whiles.NUMPY_DISPATCHED - {"nonzero"})  # nonzero: JAX's method raises under jit
    found = jax_process.submit(_numpy_dispatch, dispatched).result()
    assert {n: v for n, v in found.items() if v != ["answers"] * 3} == {}
    others = ["sin", "exp", "clip", "take", "sort", "ravel", "diagonal", "trace", "ptp", "power", "square", "abs"]
    found = jax_process.submit(_numpy_dispatch, others).result()
    assert all(v == ["TracerArrayConversionError"] * 3 for v in found.values()), found


@pytest.mark.parametrize("text, error", RAISES, ids=[t[:60] for t, _ in RAISES])
def test_jax_raises_what_the_table_says(jax_process, text, error):
    assert jax_process.submit(_jax_verdict, HEAD + text, X).result() == ("error", error)


@pytest.mark.parametrize("text, value", ANSWERS, ids=[t[:60] for t, _ in ANSWERS])
def test_jax_answers_what_jac_answers(jax_process, text, value):
    kind, found, jac = jax_process.submit(_jax_verdict, HEAD + text, X).result()
    assert kind == "value"
    np.testing.assert_allclose(found, value, rtol=1e-12, atol=1e-12)
    if jac is not None:
        np.testing.assert_allclose(api.jacobian(HEAD + text, {"x": X})["x"], jac, rtol=1e-10, atol=1e-12)
