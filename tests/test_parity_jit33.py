"""Parity of session 33's abstract tracing under ``jax.jit`` / ``jax.checkpoint`` / ``jax.remat`` (h33b-jit): the
texts jac reads (a test of an argument marked static, a value computed before the call, size= forms, the wrappers
composed with jax.grad / jax.vmap, pytrees) against JAX itself, value and ``jax.jacrev``, in a process of its own
(test_jax16's ``jax_process``). What JAX raises is refused by jac: tests/test_jit33.py."""

import numpy as np
import pytest

from test_jax16 import assert_agrees_with_jax, jax_process  # noqa: F401 - the fixture is used by name

HEAD = "import jax, jax.numpy as jnp\nfrom functools import partial\n"
UP, DOWN = np.array([0.5, -0.25, 1.5]), np.array([-0.5, 0.25, -1.5])

TEXTS = [
    "jax.jit(lambda v, n: v * 2.0 if n > 0 else -v, static_argnums=1)(x, 3)",
    "jax.jit(lambda v, n: v * 2.0 if n > 0 else -v, static_argnums=1)(x, -3)",
    "jax.jit(lambda v, n: v ** n if n > 1 else jnp.sin(v), static_argnames='n')(x, n=3)",
    "jax.jit(lambda v, n: v ** n if n > 1 else jnp.sin(v), static_argnames='n')(x, 1)",
    "jax.checkpoint(lambda v, n: jnp.cos(v) * n if n > 0 else v, static_argnums=(1,))(x, 2.5)",
    "jax.remat(lambda v: jnp.sin(v) * v)(x)",
    "s = x.sum() > 0\njax.jit(lambda v: v * 2.0 if s else -v)(x)",
    "k = int(jnp.argmax(x))\njax.jit(lambda v: v * v[k])(x)",
    "jax.jit(lambda v: jnp.where(v > 0, v ** 2, -v))(x)",
    "jax.jit(lambda v: v[jnp.nonzero(v > 0, size=2)[0]] ** 2)(x)",
    "jax.grad(jax.jit(lambda v: jnp.sum(jnp.sin(v) * v)))(x)",
    "jax.jit(jax.grad(lambda v: jnp.sum(jnp.sin(v) * v)))(x)",
    "jax.grad(jax.checkpoint(lambda v: jnp.sum(jnp.tanh(v) ** 2)))(x)",
    "jax.vmap(jax.jit(lambda v: jnp.sin(v) * v[0]))(jnp.stack([x, 2.0 * x])).ravel()",
    "jax.jit(lambda p: p['a'] * 2.0 + jnp.cos(p['b'][0]))({'a': x, 'b': (x, x)})",
    "@jax.jit\n@jax.grad\ndef f(v):\n    return jnp.sum(jnp.sin(v) * v)\nf(x)",
    "@partial(jax.jit, static_argnums=1)\ndef f(v, n):\n    return v ** n if n > 1 else -v\nf(x, 2)",
    "@jax.checkpoint\ndef f(v):\n    return jnp.exp(v) * v\njax.grad(lambda v: jnp.sum(f(v)))(x)",
    "jax.grad(lambda v: jnp.sum(v ** 3) if v.sum() > 0 else jnp.sum(jnp.sin(v)))(x)",  # grad alone: concrete
]


@pytest.mark.parametrize("x", [UP, DOWN], ids=["up", "down"])
@pytest.mark.parametrize("code", TEXTS, ids=[t[:60] for t in TEXTS])
def test_what_jac_reads_under_jit_is_jaxs(jax_process, code, x):
    assert_agrees_with_jax(jax_process, HEAD + code, {"x": x})
