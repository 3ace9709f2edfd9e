"""Parity of session 33's control flow of the inputs' values: ``jax.lax.cond`` / ``switch`` / ``while_loop`` and a
Python ``if`` under ``jax.grad`` / ``jax.jvp`` against
JAX itself (value and ``jax.jacrev``, or ``jax.jacfwd`` for a while_loop, which JAX's reverse mode refuses; in a
process of its own: test_jax16's ``jax_process``), ``torch.cond`` / ``torch.while_loop`` against PyTorch's eager
autograd (value and ``backward``). PyTorch's ``torch.func`` transforms of ``torch.cond`` raise inside PyTorch 2.13
and its second derivative through ``torch.cond`` is 0 (its backward is not differentiated again): neither is a
reference, and tests/test_cond33.py checks jac's against central differences."""

import numpy as np
import pytest

from jacobi_cli.tools import api
from test_jax16 import _jax, jax_process  # noqa: F401 - the fixture is used by name

HEAD = "import jax, jax.numpy as jnp\nfrom jax import lax\n"
UP, DOWN = np.array([0.5, -0.25, 1.5]), np.array([-0.5, 0.25, -1.5])

JAX_TEXTS = [
    ("lax.cond(x.sum() > 0, lambda v: v ** 2, jnp.sin, x)", UP),
    ("lax.cond(x.sum() > 0, lambda v: v ** 2, jnp.sin, x)", DOWN),
    ("lax.cond(x[0] * x[2], lambda v: jnp.exp(v), lambda v: v * 3.0, x)", UP),
    ("lax.switch(jnp.argmax(x), [jnp.sin, jnp.cos, lambda v: v ** 3], x)", UP),
    ("lax.switch(jnp.argmin(x) - 1, [jnp.sin, jnp.cos, lambda v: v ** 3], x)", DOWN),
    ("jax.vmap(lambda v: lax.cond(v > 0, jnp.sqrt, lambda u: u * 3.0, v))(x)", np.array([-1.0, 4.0, 0.25])),
    ("jax.grad(lambda t: lax.cond(t.sum() > 0, lambda u: jnp.sum(u ** 3), lambda u: jnp.sum(jnp.sin(u)), t))(x)",
     UP),
    ("jax.vmap(lambda v: lax.switch(jnp.argmax(v), [jnp.sum, lambda u: jnp.sum(u ** 2)], v))(x.reshape(3, 1) * "
     "jnp.array([1.0, -1.0]))", UP),
    # a Python if of the values under JAX's derivative transforms: JAX runs it at the concrete values (read since
    # session 33; refused in session 32 as if JAX raised)
    ("jax.grad(lambda v: jnp.sum(v ** 3) if v.sum() > 0 else jnp.sum(jnp.sin(v)))(x)", UP),
    ("jax.grad(lambda v: jnp.sum(v ** 3) if v.sum() > 0 else jnp.sum(jnp.sin(v)))(x)", DOWN),
    ("jax.jvp(lambda v: v * jnp.sum(v) if v[0] > 0 else jnp.tanh(v), (x,), (x * 2.0,))[1]", UP),
]
FORWARD_TEXTS = [  # while_loop: JAX differentiates it in forward mode only
    ("lax.while_loop(lambda v: jnp.sum(v) < 20.0, lambda v: v * 1.5, x)", np.array([1.0, 2.0, 0.5])),
    ("jax.vmap(lambda t: lax.while_loop(lambda v: jnp.sum(v) < 20.0, lambda v: jnp.sin(v) + v * 2.0, t))"
     "(x.reshape(3, 1))", np.array([1.0, 2.0, 9.0])),
]


def _jax_reference(code: str, x: np.ndarray, forward: bool) -> dict:
    """The value of ``code`` at ``x`` and its Jacobian by ``jax.jacfwd`` (``forward``) or ``jax.jacrev``."""
    jax = _jax()
    jnp = jax.numpy

    def f(t):
        scope = {"jax": jax, "jnp": jnp, "lax": jax.lax, "x": t}
        return jnp.asarray(eval(code, scope), dtype=jnp.float64)

    t = jnp.asarray(x, dtype=jnp.float64)
    return {"value": np.asarray(f(t)), "jacobian": np.asarray((jax.jacfwd if forward else jax.jacrev)(f)(t))}


@pytest.mark.parametrize("code, x", JAX_TEXTS + FORWARD_TEXTS,
                         ids=[f"{c[:60]}@{x[0]}" for c, x in JAX_TEXTS + FORWARD_TEXTS])
def test_jax_control_flow_of_the_values_is_jaxs(jax_process, code, x):
    forward = any(code == c and x is y for c, y in FORWARD_TEXTS)
    theirs = jax_process.submit(_jax_reference, code, x, forward).result()
    np.testing.assert_allclose(api.evaluate(HEAD + code, {"x": x}), theirs["value"], rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(api.jacobian(HEAD + code, {"x": x})["x"], theirs["jacobian"], rtol=1e-13,
                               atol=1e-14)


TORCH_TEXTS = [
    ("torch.cond(x.sum() > 0, lambda v: v ** 2, torch.sin, (x,))", UP),
    ("torch.cond(x.sum() > 0, lambda v: v ** 2, torch.sin, (x,))", DOWN),
    ("torch.cond(x.prod(), lambda v: v.exp(), lambda v: v * 3.0, (x,))", UP),
    ("torch.while_loop(lambda v: v.sum() < 20.0, lambda v: (v * 1.5,), (x,))[0]", np.array([1.0, 2.0, 0.5])),
    ("torch.while_loop(lambda i, v: v.norm() < 9.0, lambda i, v: (i + 1, torch.tanh(v) + v * 2.0), "
     "(torch.tensor(0), x))[1]", np.array([0.3, -0.2, 0.1])),
]


@pytest.mark.parametrize("code, x", TORCH_TEXTS, ids=[f"{c[:60]}@{x[0]}" for c, x in TORCH_TEXTS])
def test_torch_control_flow_of_the_values_is_pytorchs(code, x):
    torch = pytest.importorskip("torch")
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out = eval(code, {"torch": torch, "x": t})
    v = np.random.default_rng(33).standard_normal(tuple(out.shape))
    out.backward(torch.tensor(v))
    np.testing.assert_allclose(api.evaluate("import torch\n" + code, {"x": x}), out.detach().numpy(),
                               rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(api.vjp("import torch\n" + code, {"x": x}, v=v)["x"], t.grad.numpy(), rtol=1e-13,
                               atol=1e-14)
