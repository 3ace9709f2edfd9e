"""Decorators on a def of the text (lang/decorators.py): ``@d`` on ``def f`` is ``f = d(f)``, nearest first. Each
decorated text gives the value and Jacobians of the same text written with the calls (``f = jax.vmap(f)``), which
tests/test_grad24.py and test_vmap25.py check; Jacobians against central differences; custom derivative rules and
decorators jac cannot honour refused, saying why. tests/test_parity_deco26.py runs the texts under JAX and PyTorch."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from test_jax16 import assert_derivatives_are_central_differences

rng = np.random.default_rng(2628)
X3, W3 = rng.standard_normal(3), rng.standard_normal(3)
X23 = rng.standard_normal((2, 3))

F = "def f(x):\n    return jnp.sum(jnp.sin(x) ** 2)\n"
# (decorated text, the same text with the decorators written as calls, inputs)
SAME_AS_CALLS = [
    ("import jax\n@jax.grad\n" + F + "f(x)", F + "f = jax.grad(f)\nf(x)", {"x": X3}),
    ("import jax\n@jax.vmap\n" + F + "f(X)", F + "f = jax.vmap(f)\nf(X)", {"X": X23}),
    ("import jax\n@jax.vmap\n@jax.grad\n" + F + "f(X)", F + "f = jax.vmap(jax.grad(f))\nf(X)", {"X": X23}),
    ("import jax\n@jax.jacrev\n@jax.checkpoint\ndef f(x):\n    return jnp.sin(x) * x[0]\nf(x)",
     "def f(x):\n    return jnp.sin(x) * x[0]\njax.jacrev(f)(x)", {"x": X3}),
    ("import jax\n@jax.hessian\n" + F + "f(x)", F + "jax.hessian(f)(x)", {"x": X3}),
    ("import jax\n@jax.value_and_grad\n" + F + "v, g = f(x)\nv * g", F + "v, g = jax.value_and_grad(f)(x)\nv * g",
     {"x": X3}),
    ("from functools import partial\n@partial(jax.vmap, in_axes=(0, None))\ndef f(x, w):\n    return jnp.sum("
     "jnp.sin(x) * w)\nf(X, w)", "def f(x, w):\n    return jnp.sum(jnp.sin(x) * w)\njax.vmap(f, in_axes=(0, None))"
     "(X, w)", {"X": X23, "w": W3}),
    ("import functools\n@functools.partial(jax.grad, argnums=1)\ndef f(x, w):\n    return jnp.sum(jnp.sin(x) * w ** 2)"
     "\nf(x, w)", "def f(x, w):\n    return jnp.sum(jnp.sin(x) * w ** 2)\njax.grad(f, argnums=1)(x, w)",
     {"x": X3, "w": W3}),
    ("import jax\n@jax.jit(static_argnums=1)\ndef f(x, n):\n    return jnp.sin(x) * n\nf(x, 2)",
     "def f(x, n):\n    return jnp.sin(x) * n\nf(x, 2)", {"x": X3}),
    ("from jax import grad, jit\n@jit\n@grad\n" + F + "f(x)", F + "jax.grad(f)(x)", {"x": X3}),
    ("import torch\n@torch.func.grad\ndef f(x):\n    return torch.sum(torch.sin(x) ** 2)\nf(x)",
     "def f(x):\n    return torch.sum(torch.sin(x) ** 2)\ntorch.func.grad(f)(x)", {"x": X3}),
    ("import torch\n@torch.jit.script\ndef f(x):\n    return torch.sin(x) * 2\nf(x)",
     "def f(x):\n    return torch.sin(x) * 2\nf(x)", {"x": X3}),
    ("import torch\n@torch.compile(mode='max-autotune')\ndef f(x):\n    return torch.sin(x) * 2\nf(x)",
     "def f(x):\n    return torch.sin(x) * 2\nf(x)", {"x": X3}),
    ("import torch\n@torch.no_grad()\ndef f(x):\n    return torch.sin(x)\nf(x) * x",
     "def f(x):\n    return torch.sin(x)\nwith torch.no_grad():\n    y = f(x)\ny * x", {"x": X3}),
    ("import torch\n@torch.no_grad\ndef f(x):\n    return torch.sin(x), x * 2\na, b = f(x)\na * b + x",
     "def f(x):\n    return torch.sin(x), x * 2\nwith torch.no_grad():\n    a = f(x)[0]\n    b = f(x)[1]\na * b + x",
     {"x": X3}),
    ("import torch\n@torch.inference_mode()\ndef f(x):\n    return torch.sin(x)\nf(x) + x",
     "def f(x):\n    return torch.sin(x)\nwith torch.no_grad():\n    y = f(x)\ny + x", {"x": X3}),
    ("import torch\n@torch.set_grad_enabled(False)\ndef f(x):\n    return torch.sin(x)\nf(x) * x",
     "def f(x):\n    return torch.sin(x)\nwith torch.no_grad():\n    y = f(x)\ny * x", {"x": X3}),
    ("import torch\n@torch.enable_grad()\ndef f(x):\n    return torch.sin(x)\nf(x) * x",
     "def f(x):\n    return torch.sin(x)\nf(x) * x", {"x": X3}),
    ("import jax\ndef g(x):\n    @jax.grad\n    def inner(t):\n        return jnp.sum(t ** 3)\n    return inner(x) * 2\n"
     "g(x)", "def g(x):\n    def inner(t):\n        return jnp.sum(t ** 3)\n    return jax.grad(inner)(x) * 2\ng(x)",
     {"x": X3}),
    ("import jax\ndef register(g):\n    return g\n@register\n" + F + "f(x)", F + "f(x)", {"x": X3}),
]


@pytest.mark.parametrize("code,calls,inputs", SAME_AS_CALLS, ids=[" ".join(c.split())[:50] for c, _, _ in
                                                                   SAME_AS_CALLS])
def test_a_decorator_is_the_call_of_it(code, calls, inputs):
    np.testing.assert_array_equal(api.evaluate(code, inputs), api.evaluate(calls, inputs))
    ours, theirs = api.jacobian(code, inputs), api.jacobian(calls, inputs)
    for name in inputs:
        np.testing.assert_array_equal(ours[name], theirs[name])
    if not any(mode in code for mode in ("no_grad", "inference_mode", "set_grad_enabled")):  # detached: not f's
        assert_derivatives_are_central_differences(code, inputs)


def test_no_grad_drops_the_functions_gradient():
    j = api.jacobian("import torch\n@torch.no_grad()\ndef f(x):\n    return torch.sin(x)\nf(x) * x", {"x": X3})["x"]
    np.testing.assert_allclose(j, np.diag(np.sin(X3)), rtol=1e-14)  # x's own factor only: PyTorch's x.grad


@pytest.mark.parametrize("code,words", [
    # rules without their derivative (session 27 honours them with it: tests/test_custom27.py), and JAX's raises
    ("import jax\n@jax.custom_jvp\n" + F + "f(x)", "without its rule: define it with @f.defjvp"),
    # a custom_vjp without its rule (session 27 honours one with f.defvjp(fwd, bwd): tests/test_custom27.py)
    ("import jax\n" + F + "f = jax.custom_vjp(f)\nf(x)", "without its rule: call f.defvjp(fwd, bwd)"),
    ("import jax\n" + F + "jax.custom_jvp(f)(x)", "without its rule: define it with @f.defjvp"),
    ("from jax import custom_jvp\n@custom_jvp\n" + F + "f(x)", "without its rule: define it with @f.defjvp"),
    ("import jax\n@jax.custom_jvp\n" + F + "@f.defjvp\ndef f_jvp(p, t):\n    return f(p[0]), t[0]\nf(x)",
     "a tangent has its output's shape, as JAX requires"),
    ("import jax\n@jax.custom_gradient\n" + F + "f(x)", "a custom rule (jax.custom_gradient)"),
    ("from torch.autograd import Function\nclass Sq(Function):\n    @staticmethod\n    def forward(ctx, x):\n"
     "        return x ** 2\nSq.apply(x)", "has no backward static method"),
    # read since session 37; a JAX array is unhashable, as Python's cache raises
    ("import functools\n@functools.lru_cache\n" + F + "f(x)", "unhashable"),
    ("import jax\n@jax.vmap(in_axes=0)\n" + F + "f(x)", "write @functools.partial(jax.vmap, in_axes=0)"),
    ("import jax\n@jax.jvp\n" + F + "f(x)", "a decorator (@jax.jvp) is not read"),
    ("import jax\n@partial(jax.grad, 1)\n" + F + "f(x)", "jac reads partial(transform, keyword=value, ...)"),
    ("import torch\n@torch.enable_grad()\ndef f(x):\n    return torch.sin(x)\nwith torch.no_grad():\n    y = f(x)\ny * x",
     "called where gradients are off"),
    ("import torch\n@torch.enable_grad()\ndef f(x):\n    return torch.sin(x)\n@torch.no_grad()\ndef g(x):\n"
     "    return f(x)\ng(x) * x", "called where gradients are off"),
    ("import torch\n@torch.set_grad_enabled(flag)\ndef f(x):\n    return torch.sin(x)\nf(x)", "True or False written"),
    ("import torch\n@torch.no_grad()\ndef f(x):\n    return f\nf(x)", "returns an array"),
])
def test_refused_with_why(code, words):
    with pytest.raises(JacError) as err:
        api.evaluate(code, {"x": X3})
    assert words in err.value.message
