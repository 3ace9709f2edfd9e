"""JAX programs (session 36, h36-jax): pytrees with a library's function as the mapped function
(jax.tree_util.tree_map(jnp.zeros_like, params), tree.map(jnp.add, a, b), lax.sub), functools.partial as a value,
jax.flatten_util.ravel_pytree and its unravel, jax.lax.stop_gradient of a pytree, tree_structure(...).num_leaves;
what JAX raises at (a NumPy ufunc's method or SciPy's function of a tracer: TracerArrayConversionError; jnp.clip's
removed a_min= / a_max=: TypeError); a jax.custom_vjp / custom_jvp function of a pytree, whose derivative was
silently 0, refused. JAX's verdicts are hard-coded (JAX 0.10, x64, at x = [1, -2, 3]) and checked against JAX itself
in a process of its own (skipped without jax); the probe is benchmarks/jax36_probe.py."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian
from test_jax16 import jax_process  # noqa: F401 - the fixture is used by name
from test_parity_jit34 import _jax_verdict

HEAD = "import jax, jax.numpy as jnp, numpy as np\nfrom jax import lax\nfrom functools import partial\n"
X = np.array([1.0, -2.0, 3.0])
S = "jnp.stack([x, 2.0 * x])"
P = "params = {'W': jnp.outer(x, x[:2]), 'b': x}\n"
G = "grads = {'W': jnp.ones((3, 2)) * 0.5, 'b': jnp.array([0.1, 0.2, 0.3])}\n"

RAISES = [  # text, the exception JAX 0.10 raises (checked below against JAX itself)
    ("jax.grad(lambda v: np.add.reduce(v * v))(x)", "TracerArrayConversionError"),
    ("jax.jit(lambda v: v * np.add.reduce(v))(x)", "TracerArrayConversionError"),
    ("jax.jit(lambda v: np.multiply.outer(v, v))(x)", "TracerArrayConversionError"),
    ("jax.grad(lambda v: jnp.sum(np.multiply.outer(v, v)))(x)", "TracerArrayConversionError"),
    (f"jax.vmap(lambda v: np.add.accumulate(v))({S})", "TracerArrayConversionError"),
    ("jax.jit(lambda v: v * np.maximum.reduce(v))(x)", "TracerArrayConversionError"),
    ("jax.grad(lambda v: jnp.sum(np.add.reduceat(v, [0, 1])))(x)", "TracerArrayConversionError"),
    ("import scipy.special\njax.jit(lambda v: scipy.special.expit(v))(x)", "TracerArrayConversionError"),
    ("import scipy.special\njax.grad(lambda v: jnp.sum(scipy.special.erf(v)))(x)", "TracerArrayConversionError"),
    ("from scipy.special import gammaln\njax.grad(lambda v: jnp.sum(gammaln(jnp.abs(v) + 1.0)))(x)",
     "TracerArrayConversionError"),
    (f"from scipy.special import logsumexp\njax.vmap(lambda v: logsumexp(v))({S})", "TracerArrayConversionError"),
    ("import scipy.special\njax.jit(lambda v: scipy.special.softmax(v))(x)", "TracerArrayConversionError"),
    ("import scipy.linalg\njax.grad(lambda v: scipy.linalg.det(jnp.diag(v)))(x)", "TracerArrayConversionError"),
    (f"import scipy.stats\njax.vmap(lambda v: scipy.stats.norm.pdf(v))({S})", "TracerArrayConversionError"),
    (f"jax.vmap(np.sin)({S})", "TracerArrayConversionError"),
    ("jax.grad(lambda p: jnp.sum(jax.tree.reduce(np.add, p)))([x, x])[0]", "TracerArrayConversionError"),
    (P + "jax.jit(lambda p: jax.tree_util.tree_map(np.sin, p))(params)['b']", "TracerArrayConversionError"),
    ("jnp.clip(x, a_min=-1.0, a_max=2.0)", "TypeError"),
    ("jax.jit(lambda v: jnp.clip(v, a_min=0.0))(x)", "TypeError"),
    ("from jax.flatten_util import ravel_pytree\nflat, unravel = ravel_pytree([x, x])\nunravel(jnp.ones(5))[0]",
     "ValueError"),
]

ANSWERS = [  # texts JAX answers (checked below against JAX itself): jac answers them the same
    # a library's function mapped over a pytree
    P + "z = jax.tree_util.tree_map(jnp.zeros_like, params)\nz['b'] + x",
    P + "z = jax.tree_util.tree_map(jnp.tanh, params)\nz['W']",
    P + "jax.tree_util.tree_map(jnp.add, params, params)['b']",
    P + G + "jax.tree_util.tree_map(jnp.multiply, params, grads)['W']",
    P + G + "jax.tree_util.tree_map(lax.sub, params, grads)['b']",
    P + "jax.tree_util.tree_map(jnp.linalg.norm, params)['b'] * x",
    P + "import numpy as onp\nz = jax.tree_util.tree_map(onp.zeros_like, params)\nz['b'] + x",
    P + "jax.tree.map(lax.mul, params, params)['W']",
    "jax.tree.reduce(jnp.maximum, [x, -x, x * 0.5])",
    "jax.tree.reduce(np.add, [x, x ** 2])",
    P + "jax.jit(lambda p: jax.tree_util.tree_map(jnp.sin, p))(params)['b']",
    P + "def loss(p):\n    z = jax.tree_util.tree_map(jnp.zeros_like, p)\n    return jnp.sum(p['b'] + z['b']) ** 2\n"
        "jax.grad(loss)(params)['b']",
    # optimizers as tree_maps
    P + G + "vel = jax.tree_util.tree_map(jnp.zeros_like, params)\n"
            "vel = jax.tree_util.tree_map(lambda v, g: 0.9 * v + g, vel, grads)\n"
            "jax.tree_util.tree_map(lambda p, v: p - 0.1 * v, params, vel)['b']",
    P + "def loss(p):\n    return jnp.sum(jnp.sin(p['W'])) + jnp.sum(p['b'] ** 2)\n"
        "def step(state, _):\n    p, m, v = state\n    g = jax.grad(loss)(p)\n"
        "    m = jax.tree.map(lambda m, g: 0.9 * m + 0.1 * g, m, g)\n"
        "    v = jax.tree.map(lambda v, g: 0.99 * v + 0.01 * g * g, v, g)\n"
        "    p = jax.tree.map(lambda p, m, v: p - 0.01 * m / (jnp.sqrt(v) + 1e-8), p, m, v)\n"
        "    return (p, m, v), loss(p)\n"
        "z = jax.tree.map(jnp.zeros_like, params)\n(p, m, v), losses = lax.scan(step, (params, z, z), None, length=3)\n"
        "p['b']",
    # functools.partial as a value
    P + "def scale(p, c):\n    return c * p\njax.tree_util.tree_map(partial(scale, c=3.0), params)['b']",
    P + "jax.tree_util.tree_map(partial(jnp.clip, min=-1.5, max=2.5), params)['b']",
    "def mlp(W, a):\n    return jnp.tanh(W @ a)\n" + f"jax.vmap(partial(mlp, jnp.outer(x, x) * 0.1))({S})",
    "def f(a, b, c):\n    return jnp.sum(a * b * c)\njax.grad(partial(f, c=2.0))(x, x ** 2)",
    "def f(a, b, scale=1.0):\n    return a * b * scale\ng = partial(f, x, scale=3.0)\ng(x ** 2)",
    "import functools\nfunctools.partial(jnp.power, x)(3.0)",
    "f = partial(jnp.sum, axis=0)\n" + f"f({S})",
    # jax.flatten_util.ravel_pytree
    P + "from jax.flatten_util import ravel_pytree\nflat, unravel = ravel_pytree(params)\nflat",
    P + "from jax.flatten_util import ravel_pytree\nflat, unravel = ravel_pytree(params)\nunravel(flat * 2.0)['W']",
    "import jax.flatten_util\njax.flatten_util.ravel_pytree([x, (x[:2], x[0])])[0]",
    P + "from jax.flatten_util import ravel_pytree\nflat, unravel = ravel_pytree(params)\n"
        "def loss(f):\n    p = unravel(f)\n    return jnp.sum(jnp.tanh(p['W'].T @ p['b']) ** 2)\njax.grad(loss)(flat)",
    "from jax.flatten_util import ravel_pytree\nflat, unravel = ravel_pytree([x[:2], x[2]])\n"
    "def loss(f):\n    a, b = unravel(f)\n    return jnp.sum(a ** 4) + b ** 4 + jnp.sum(a) * b\n"
    "flat - jnp.linalg.solve(jax.hessian(loss)(flat), jax.grad(loss)(flat))",
    # tree_structure(...).num_leaves
    P + "x * jax.tree_util.tree_structure(params).num_leaves",
    # NumPy's and SciPy's functions where no tracer reaches them
    "np.add.reduce(jnp.ones(3)) * x",
    "jax.jit(lambda v: v * jnp.add.reduce(v))(x)",
    "import scipy.special\nscipy.special.expit(jnp.array([0.5, 1.0, 1.5])) * x",
    "import scipy.special\nc = scipy.special.gammaln(np.array([1.5, 2.5, 3.5]))\njax.grad(lambda v: jnp.sum(v * c))(x)",
    "jnp.clip(x, min=-1.0, max=2.0)",
]

STOPPED = [  # jax.lax.stop_gradient of a pytree: each leaf's derivative stopped (central differences see through it)
    "a, b = jax.lax.stop_gradient((x, x * 2.0))\na * b + x",
    "jax.lax.stop_gradient([x, x * 2.0])[1] * x",
    P + "def loss(p):\n    target = jax.lax.stop_gradient(p)\n    return jnp.sum((p['b'] - 2.0 * target['b']) ** 2)\n"
        "jax.grad(loss)(params)['b']",
]


@pytest.mark.parametrize("text, error", RAISES, ids=[t[-60:] for t, _ in RAISES])
def test_jax_raises_what_the_table_says(jax_process, text, error):
    assert jax_process.submit(_jax_verdict, HEAD + text, X).result() == ("error", error)


@pytest.mark.parametrize("text, error", RAISES, ids=[t[-60:] for t, _ in RAISES])
def test_where_jax_raises_jac_refuses_naming_its_error(text, error):
    with pytest.raises(JacError) as err:
        api.evaluate(HEAD + text, {"x": X})
    assert error in str(err.value), str(err.value)


@pytest.mark.parametrize("text", ANSWERS, ids=[t[-60:] for t in ANSWERS])
def test_jac_answers_with_the_derivative_of_central_differences(text):
    code = HEAD + text
    jac = np.asarray(api.jacobian(code, {"x": X})["x"])
    np.testing.assert_allclose(jac, central_jacobian(lambda v: np.asarray(api.evaluate(code, {"x": v})), X),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("text", ANSWERS + STOPPED, ids=[t[-60:] for t in ANSWERS + STOPPED])
def test_where_jax_answers_jac_answers_the_same(jax_process, text):
    verdict = jax_process.submit(_jax_verdict, HEAD + text, X).result()
    assert verdict[0] == "value", verdict
    code = HEAD + text
    np.testing.assert_allclose(np.asarray(api.evaluate(code, {"x": X}), dtype=float), verdict[1], rtol=1e-12,
                               atol=1e-12)
    if verdict[2] is not None:  # np.add of jacrev's tracer raises: the value is JAX's answer there
        np.testing.assert_allclose(np.asarray(api.jacobian(code, {"x": X})["x"]), verdict[2], rtol=1e-10,
                                   atol=1e-12)


def test_stop_gradient_of_a_pytree_stops_each_leaf():
    jac = api.jacobian(HEAD + "a, b = jax.lax.stop_gradient((x, x * 2.0))\na * b + x", {"x": X})["x"]
    np.testing.assert_array_equal(jac, np.eye(3))


CUSTOM_TREES = [  # a custom rule's function given a pytree of arrays computed from x: its derivative was silently 0
    "@jax.custom_vjp\ndef f(d):\n    return d['a'] * d['b']\ndef fwd(d):\n    return f(d), d\n"
    "def bwd(d, g):\n    return ({'a': g * d['b'], 'b': g * d['a']},)\nf.defvjp(fwd, bwd)\nf({'a': x, 'b': x ** 2})",
    "@jax.custom_vjp\ndef f(d):\n    return d[0] * d[1]\ndef fwd(d):\n    return f(d), d\n"
    "def bwd(d, g):\n    return ((g * d[1], g * d[0]),)\nf.defvjp(fwd, bwd)\nf((x, x ** 2))",
    "@jax.custom_jvp\ndef f(d):\n    return d[0] * d[1]\nf.defjvps(lambda t, ans, d: t[0] * d[1] + t[1] * d[0])\n"
    "f((x, x ** 2))",
]


@pytest.mark.parametrize("text", CUSTOM_TREES, ids=range(len(CUSTOM_TREES)))
def test_a_custom_rule_of_a_pytree_is_refused_not_answered_with_zero(text):
    with pytest.raises(JacError, match="is a pytree .* of arrays only"):
        api.jacobian(HEAD + text, {"x": X})


def test_a_custom_vjp_of_arrays_still_differentiates():
    text = ("@jax.custom_vjp\ndef f(a, b):\n    return a * b\ndef fwd(a, b):\n    return f(a, b), (a, b)\n"
            "def bwd(r, g):\n    return (g * r[1], g * r[0])\nf.defvjp(fwd, bwd)\nf(x, x ** 2)")
    np.testing.assert_allclose(api.jacobian(HEAD + text, {"x": X})["x"], np.diag(3 * X ** 2))


def test_ravel_pytree_refuses_an_integer_leaf_and_names_the_cast():
    text = "from jax.flatten_util import ravel_pytree\nflat, unravel = ravel_pytree([x, jnp.arange(2)])\nflat"
    with pytest.raises(JacError, match="integer or boolean leaf: JAX's unravel casts"):
        api.evaluate(HEAD + text, {"x": X})


def test_unravel_of_the_wrong_length_names_the_shape():
    text = "from jax.flatten_util import ravel_pytree\nflat, unravel = ravel_pytree([x, x[:2]])\nunravel(flat[1:])[0]"
    with pytest.raises(JacError, match=r"expects an array of shape \(5,\), got \(4,\)"):
        api.evaluate(HEAD + text, {"x": X})


def test_another_name_of_jax_flatten_util_is_refused_naming_ravel_pytree():
    with pytest.raises(JacError, match="of jax.flatten_util it reads ravel_pytree"):
        api.evaluate(HEAD + "import jax.flatten_util\njax.flatten_util.ravel_list([x])", {"x": X})


def test_numpys_clip_keeps_a_min_and_a_max():
    np.testing.assert_array_equal(api.evaluate("np.clip(x, a_min=0.0, a_max=2.0)", {"x": X}), [1.0, 0.0, 2.0])


def test_a_library_function_is_still_no_value_elsewhere():
    with pytest.raises(JacError, match="is a function: call it"):
        api.evaluate(HEAD + "f = jnp.sin\nf(x)", {"x": X})
