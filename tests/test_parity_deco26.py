"""Parity for decorators on a def (tests/test_deco26.py): each decorated text run by JAX itself (float64, its own
process) or by PyTorch itself, and jac's value, Jacobians (and for JAX a VJP) compared with theirs. PyTorch's grad
modes: what ``@torch.no_grad()`` / ``@torch.inference_mode()`` drop is dropped in jac's Jacobian too."""

import numpy as np
import pytest

from test_jax16 import assert_agrees_with_jax, jax_process  # noqa: F401 - the fixture is used by name
from test_parity_grad24 import assert_agrees_with_pytorch, torch64  # noqa: F401 - the fixture is used by name

rng = np.random.default_rng(2629)
X3, W3 = rng.standard_normal(3), rng.standard_normal(3)
X23 = rng.standard_normal((2, 3))
F = "def f(x):\n    return jnp.sum(jnp.sin(x) ** 2 * x)\n"

JAX_TEXTS = [
    ("import jax\n@jax.grad\n" + F + "f(x)", {"x": X3}),
    ("import jax\n@jax.vmap\n" + F + "f(X)", {"X": X23}),
    ("import jax\n@jax.vmap\n@jax.grad\n" + F + "f(X)", {"X": X23}),
    ("import jax\n@jax.jacrev\n@jax.checkpoint\ndef f(x):\n    return jnp.sin(x) * x[0]\nf(x)", {"x": X3}),
    ("import jax\n@jax.jacfwd\n@jax.grad\n" + F + "f(x)", {"x": X3}),
    ("import jax\n@jax.hessian\n" + F + "f(x) @ x", {"x": X3}),
    ("import jax\n@jax.value_and_grad\n" + F + "v, g = f(x)\nv * g", {"x": X3}),
    ("from functools import partial\n@partial(jax.vmap, in_axes=(0, None))\ndef f(x, w):\n"
     "    return jnp.sum(jnp.sin(x) * w)\nf(X, w)", {"X": X23, "w": W3}),
    ("import functools\n@functools.partial(jax.grad, argnums=1)\ndef f(x, w):\n    return jnp.sum(jnp.sin(x) * w ** 2)"
     "\nf(x, w)", {"x": X3, "w": W3}),
    ("import jax\n@jax.jit(static_argnums=1)\ndef f(x, n):\n    return jnp.sin(x) * n\nf(x, 2)", {"x": X3}),
    ("from functools import partial\n@partial(jax.jit, static_argnames='n')\ndef f(x, n=3):\n    return jnp.sin(x) ** n"
     "\nf(x, n=2)", {"x": X3}),
    ("from jax import grad, jit\n@jit\n@grad\n" + F + "f(x)", {"x": X3}),
    ("import jax\ndef g(x):\n    @jax.grad\n    def inner(t):\n        return jnp.sum(t ** 3 * x)\n    return inner(x) * 2\n"
     "g(x)", {"x": X3}),
]


@pytest.mark.parametrize("code,inputs", JAX_TEXTS, ids=[" ".join(c.split())[:50] for c, _ in JAX_TEXTS])
def test_jax_runs_the_same_text(jax_process, code, inputs):  # noqa: F811 - the fixture
    assert_agrees_with_jax(jax_process, code, inputs)


G = "def f(x):\n    return torch.sum(torch.sin(x) ** 2 * x)\n"
TORCH_TEXTS = [
    ("@torch.func.grad\n" + G + "f(x)", {"x": X3}),
    ("@torch.func.jacrev\n@torch.func.grad\n" + G + "f(x)", {"x": X3}),
    ("@torch.func.vmap\n@torch.func.grad\n" + G + "f(X)", {"X": X23}),
    ("@torch.no_grad()\ndef f(x):\n    return torch.sin(x)\nf(x) * x", {"x": X3}),
    ("@torch.no_grad\ndef f(x):\n    return torch.sin(x), x * w\na, b = f(x)\na * b + x * w", {"x": X3, "w": W3}),
    ("@torch.inference_mode()\ndef f(x):\n    return torch.sin(x)\nf(x) + x", {"x": X3}),
    ("@torch.set_grad_enabled(False)\ndef f(x):\n    return torch.exp(x)\nf(x) * x", {"x": X3}),
    ("@torch.enable_grad()\ndef f(x):\n    return torch.sin(x)\nf(x) * x", {"x": X3}),
    ("@torch.no_grad()\ndef f(x):\n    return torch.sin(x) * 2\ndef g(x):\n    return f(x) + x ** 2\ng(x) * x", {"x": X3}),
]


@pytest.mark.parametrize("code,inputs", TORCH_TEXTS, ids=[" ".join(c.split())[:50] for c, _ in TORCH_TEXTS])
def test_pytorch_runs_the_same_text(torch64, code, inputs):  # noqa: F811 - the fixture
    assert_agrees_with_pytorch(torch64, code, inputs)
