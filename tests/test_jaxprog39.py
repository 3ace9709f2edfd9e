"""Session 39 (h39-jaxprog): what benchmarks/jaxprog39_fuzz.py found, a differential fuzz of JAX programs (jit,
scan / fori_loop / while_loop, cond / switch, vmap, derivatives inside the program, jax.nn) against JAX with x64:
values, Jacobians, JVPs and Hessians entry by entry. Two false refusals of forms JAX runs are fixed (``where=`` of
``jax.nn.softmax`` / ``log_softmax``, and of ``var`` / ``std``); the parity cases pin the program forms the fuzz
drew (they skip without jax), and the refusals jac shares with JAX stay refusals.
"""

from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian
from test_jax16 import jax_process  # noqa: F401 - the fixture is used by name

HEAD = "import jax, jax.numpy as jnp\nfrom jax import lax\n"
X = np.array([0.7, -1.2, 0.4])
W = np.array([[0.5, -0.3, 1.1], [0.9, 0.2, -0.6]])
INPUTS = {"x": X, "W": W}


def _program(body: str) -> str:
    return HEAD + "\n" + body.strip("\n") + "\nf(x, W)\n"


def _central(text: str, name: str) -> np.ndarray:
    def f(v):
        return np.asarray(api.evaluate(text, {**INPUTS, name: v}))
    return central_jacobian(f, INPUTS[name])


# --- 1. jax.nn.softmax / log_softmax with where=: refused before, though JAX runs it (attention masks) -----------
# JAX: the softmax over the elements the mask holds, 0 (log_softmax: -inf) elsewhere and across a slice it holds
# nothing of; the masked elements' derivatives 0.

def _masked_softmax(w, m, axis):
    """JAX's formula in NumPy (``jax._src.nn.functions._softmax``), one axis."""
    top = np.max(np.where(m, w, -np.inf), axis=axis, keepdims=True)
    e = np.where(m, np.exp(np.where(m, w, -np.inf) - top), 0.0)
    with np.errstate(invalid="ignore"):
        return np.where(m, e / np.sum(e, axis=axis, keepdims=True), 0.0)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_where_is_jaxs_masked_softmax(axis):
    text = f"jax.nn.softmax(W, axis={axis}, where=W > 0)"
    got = api.evaluate(text, INPUTS)
    np.testing.assert_array_equal(got, _masked_softmax(W, W > 0, axis))
    assert np.all(got[W <= 0] == 0)


def test_log_softmax_where_is_minus_infinity_where_masked():
    got = api.evaluate("jax.nn.log_softmax(W, axis=1, where=W > 0)", INPUTS)
    assert np.all(got[W <= 0] == -np.inf)
    np.testing.assert_allclose(got[W > 0], np.log(_masked_softmax(W, W > 0, 1)[W > 0]), rtol=1e-15)


def test_masked_softmax_derivatives_are_central_differences_and_zero_where_masked():
    text = "jnp.sum(jax.nn.softmax(W, axis=1, where=W > 0) * jnp.arange(6.0).reshape(2, 3))"
    J = api.jacobian(text, INPUTS)["W"]
    np.testing.assert_allclose(J, _central(text, "W"), atol=1e-8)
    assert np.all(J[W <= 0] == 0)
    H = api.hessian(text, INPUTS)[("W", "W")]
    assert np.all(np.isfinite(H)) and np.allclose(H, np.moveaxis(H, (0, 1), (2, 3)))


def test_a_slice_the_mask_holds_nothing_of_is_zero_with_zero_derivatives():
    text = "jax.nn.softmax(W, axis=1, where=W > 0.95)"  # the second row holds nothing
    got = api.evaluate(text, INPUTS)
    assert np.array_equal(got[1], np.zeros(3)) and got[0, 2] == 1.0
    J = api.jacobian(text, INPUTS)["W"]
    assert np.all(J == 0)
    lg = api.evaluate("jax.nn.log_softmax(W, axis=1, where=W > 0.95)", INPUTS)
    assert np.all(lg[1] == -np.inf)
    assert np.all(api.jacobian("jax.nn.log_softmax(W, axis=1, where=W > 0.95)", INPUTS)["W"] == 0)


# --- 2. var / std with where=: "var() has no argument 'where'", though NumPy and JAX take it ---------------------

@pytest.mark.parametrize("text, numpy", [
    ("jnp.var(W, axis=1, where=W > -0.5)", lambda: np.var(W, axis=1, where=W > -0.5)),
    ("np.var(W, where=W < 1.0, keepdims=True)", lambda: np.var(W, where=W < 1.0, keepdims=True)),
    ("jnp.std(W, axis=0, where=W > -0.5)", lambda: np.std(W, axis=0, where=W > -0.5)),
    ("np.std(W, axis=1, where=W > -0.5, ddof=1)", lambda: np.std(W, axis=1, where=W > -0.5, ddof=1)),
    ("W.var(axis=1, where=np.array([True, False, True]))",
     lambda: W.var(axis=1, where=np.array([True, False, True]))),
])
def test_var_and_std_with_where_are_numpys(text, numpy):
    np.testing.assert_allclose(api.evaluate("import numpy as np, jax.numpy as jnp\n" + text, INPUTS), numpy(),
                               rtol=1e-15)
    full = "import numpy as np, jax.numpy as jnp\n" + text
    np.testing.assert_allclose(api.jacobian(full, INPUTS)["W"], _central(full, "W"), atol=1e-8)


def test_torch_var_has_no_where():
    with pytest.raises(JacError, match="where"):
        api.evaluate("torch.var(W, dim=1, where=W > 0)", INPUTS)


# --- 3. what jac answers where JAX raises, as documented, and right ---------------------------------------------
# x.at[idx].mul(v) with a repeated index: JAX's derivatives raise ("scatter_mul gradients are only implemented if
# unique_indices=True"); docs/expressions.md says repeated indices multiply, and jac's derivative is the product's.

def test_repeated_index_multiply_has_the_products_derivative():
    text = HEAD + "x.at[jnp.array([0, 0, 2])].mul(W[0])"
    assert np.allclose(api.evaluate(text, INPUTS), [X[0] * W[0, 0] * W[0, 1], X[1], X[2] * W[0, 2]])
    for name in ("x", "W"):
        np.testing.assert_allclose(api.jacobian(text, INPUTS)[name], _central(text, name), atol=1e-9)


# --- 4. refusals JAX shares ------------------------------------------------------------------------------------

@pytest.mark.parametrize("body, words", [
    ("@jax.jit\ndef f(x, W):\n    if jnp.sum(x) > 0:\n        v = x * 2.0\n    else:\n        v = x - 1.0\n"
     "    return v", "jax.jit"),
    ("def c(s):\n    return (s[0] < 5) & (jnp.sum(s[1]) < 30.0)\n\ndef b(s):\n    return s[0] + 1, s[1] * 1.5\n\n"
     "def f(x, W):\n    return jax.grad(lambda u: jnp.sum(lax.while_loop(c, b, (0, u))[1]))(x)", "while_loop"),
])
def test_what_jax_refuses_jac_refuses(body, words):
    with pytest.raises(JacError, match=words):
        api.evaluate(_program(body), INPUTS)


# --- 5. parity with JAX: the program forms the fuzz draws ------------------------------------------------------

PROGRAMS = [
    # scan with a dict carry, reverse, and a stacked output
    """def step(c, r):
    h = jnp.tanh(c['h'] * r + 0.5 * c['acc'])
    return {'h': h, 'acc': c['acc'] + 0.1 * jnp.sum(h)}, h * c['acc']

@jax.jit
def f(x, W):
    c, ys = lax.scan(step, {'h': x, 'acc': jnp.zeros(())}, W, reverse=True)
    return ys + c['h'] + c['acc']""",
    # scan over a tuple of xs, tuple ys, unroll
    """def f(x, W):
    def step(c, xs):
        r, q = xs
        return c * jnp.tanh(r) + q, (c.sum(), c * 2)
    c, (s1, s2) = lax.scan(step, x, (W, W ** 2), unroll=2)
    return s2 * s1[:, None] + c""",
    # a while_loop with a data-dependent trip count and a dict carry (Jacobian and Hessian against jacfwd)
    """def cond(c):
    return (c['n'] < 6) & (jnp.sum(c['v'] ** 2) < 20.0)

def body(c):
    return {'v': c['v'] * 1.4 + 0.3 * jnp.sin(c['v']), 'n': c['n'] + 1}

@jax.jit
def f(x, W):
    o = lax.while_loop(cond, body, {'v': x * W[1], 'n': 0})
    return o['v'] * o['n']""",
    # fori_loop with a tuple carry, cond with two operands and a tuple result, switch out of range (clamped)
    """def body(i, c):
    return (c[0] * 0.9 + jnp.sin(c[1]) * i, c[1] * 0.8 + 0.1 * c[0])

@jax.jit
def f(x, W):
    u, w = lax.fori_loop(1, 6, body, (x, W[0]))
    p, q = lax.cond(u[0] > 0, lambda a, b: (a * b, a + b), lambda a, b: (a - b, a / (1 + b * b)), u, w)
    return lax.switch(5, [jnp.sin, jnp.cos, jnp.tanh], p * q)""",
    # vmap with in_axes / out_axes tuples, nested vmap
    """@jax.jit
def f(x, W):
    a = jax.vmap(lambda r, v: r * jnp.sum(v), in_axes=(1, 0))(W, x)
    s, t = jax.vmap(lambda r: (jnp.sum(r), jnp.tanh(r) * 2), out_axes=(0, 1))(W)
    u = jax.vmap(jax.vmap(lambda p, q: p * jnp.sin(q), in_axes=(0, None)), in_axes=(None, 0))(x, W)
    return jnp.sum(a) * t + s + u.T""",
    # derivatives inside the program: grad of a scan and of a cond, jacrev and hessian by two arguments, jvp
    """def f(x, W):
    g = jax.grad(lambda v: jnp.sum(lax.scan(lambda c, r: (jnp.tanh(c * r), c), v, W)[0]))(x)
    h = jax.grad(lambda v: lax.cond(v.sum() > 0, jnp.sin, jnp.cos, v).sum())(x)
    J = jax.jacrev(lambda v, A: A @ jnp.tanh(v), argnums=(0, 1))(x, W)[1]
    H = jax.hessian(lambda v, A: jnp.sum(A @ jnp.tanh(v)) ** 2, argnums=(0, 1))(x, W)[0][1]
    t = jax.jvp(lambda v: jnp.tanh(v) * v, (x,), (g,))[1]
    return jnp.sum(J, axis=(0, 1)) * g + h + jnp.einsum('imj->j', H) + t""",
    # jax.nn with where=, reductions with where, .at with repeated indices, dynamic slices of the data, dtypes
    """@jax.jit
def f(x, W):
    s = jax.nn.softmax(W, axis=1, where=W > 0)
    l = jnp.where(W > -0.4, jax.nn.log_softmax(W, axis=0, where=W > -0.4), 0.0)
    v = jnp.var(W, axis=1, where=W > -0.5) + jnp.std(W, axis=1, where=W < 1.0)
    y = x.at[jnp.array([0, 0, 2])].add(W[1]).at[1:].max(0.1)
    d = lax.dynamic_slice(y, (jnp.argmax(x),), (2,))
    return jnp.sum(s * l) * y + jnp.sum(v) + jnp.sum(d) + x * jnp.arange(3) + lax.cumsum(x, reverse=True)""",
]


def jax_results(text: str, inputs: dict, has_while: bool, tangents: dict) -> dict:
    """JAX's value, Jacobians, JVP and Hessian blocks of the program (x64), as plain lists."""
    import jax
    jax.config.update("jax_enable_x64", True)
    import sys
    import os
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))
    import jaxprog39_fuzz as fuzz
    out = fuzz.reference(text, inputs, has_while, tangents)
    return {"value": out["value"].tolist(), "jvp": out["jvp"].tolist(),
            "jacobian": {k: v.tolist() for k, v in out["jacobian"].items()},
            "hessian": {f"{a},{b}": v.tolist() for (a, b), v in out["hessian"].items()}}


@pytest.mark.parametrize("body", PROGRAMS, ids=range(len(PROGRAMS)))
def test_programs_agree_with_jax(jax_process, body):
    text = _program(body)
    tangents = {"x": np.array([0.3, -0.7, 1.1]), "W": np.array([[0.2, 0.5, -0.4], [-1.0, 0.6, 0.1]])}
    theirs = jax_process.submit(jax_results, text, INPUTS, "while_loop" in text, tangents).result()
    value = api.evaluate(text, INPUTS)
    np.testing.assert_allclose(value, theirs["value"], rtol=1e-12, atol=1e-12)
    J = api.jacobian(text, INPUTS)
    for k in INPUTS:
        np.testing.assert_allclose(J[k], theirs["jacobian"][k], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(api.jvp(text, INPUTS, tangents), theirs["jvp"], rtol=1e-12, atol=1e-12)
    H = api.hessian(text, INPUTS)
    for (a, b), block in H.items():
        np.testing.assert_allclose(block, theirs["hessian"][f"{a},{b}"], rtol=1e-11, atol=1e-11)
