"""Parity for vmap and JAX's loops written in the text (lang/vmapping.py): each text run by JAX itself (float64, in
a process of its own: test_jax16's ``jax_process``) or by PyTorch itself (``torch.func.vmap``), jac's value and
Jacobians compared with the library's value and ``jax.jacrev`` / ``torch.autograd.functional.jacobian`` of the same
text as a function of its inputs: jac differentiates the written-out graph as the libraries differentiate
``vmap(f)`` and the loops themselves."""

import numpy as np
import pytest

from test_jax16 import assert_agrees_with_jax, jax_process  # noqa: F401 - the fixture is used by name
from test_parity_grad24 import assert_agrees_with_pytorch, torch64  # noqa: F401 - the fixture is used by name

rng = np.random.default_rng(2525)
X3, W3 = rng.standard_normal(3), rng.standard_normal(3)
X43, X34 = rng.standard_normal((4, 3)), rng.standard_normal((3, 4))
A33 = rng.standard_normal((3, 3)) * 0.5

JAX_TEXTS = [
    # vmap: in_axes variants, out_axes, tuples, nesting, composition with the derivatives
    ("jax.vmap(jax.grad(lambda w, xi: jnp.sum(jnp.tanh(w * xi))), in_axes=(None, 0))(w, X)", {"w": W3, "X": X43}),
    ("jax.vmap(jnp.sum)(X)", {"X": X43}),
    ("jax.vmap(lambda r: r / jnp.linalg.norm(r))(X)", {"X": X43}),
    ("jax.vmap(lambda c, w: jnp.dot(c, w), in_axes=(1, None))(X, w)", {"X": X34, "w": W3}),
    ("jax.vmap(lambda c, w: c * w, in_axes=[-1, None])(X, w)", {"X": X34, "w": W3}),
    ("jax.vmap(lambda r: jnp.outer(r, r), out_axes=2)(X)", {"X": X43}),
    ("jax.vmap(lambda r: jnp.exp(r), out_axes=-1)(X)", {"X": X43}),
    ("a, b = jax.vmap(lambda r: (jnp.sum(r), r * 2), out_axes=(0, 1))(X)\nb + a", {"X": X43}),
    ("jax.vmap(lambda p: p[0] * p[1], in_axes=((0, None),))((X, w))", {"X": X43, "w": W3}),
    ("jax.vmap(jax.vmap(lambda a, b: jnp.sin(a) * b, in_axes=(None, 0)), in_axes=(0, None))(x, w)",
     {"x": X3, "w": W3}),
    ("jax.vmap(jax.vmap(lambda t: t ** 2 * jnp.sum(t)))(X)", {"X": X43}),
    ("jax.jacrev(jax.vmap(lambda r: jnp.sum(jnp.sin(r) * r)))(X)", {"X": X43}),
    ("jax.vmap(jax.jacrev(lambda r: jnp.tanh(A @ r)))(X)", {"X": X43, "A": A33}),
    ("jax.vmap(jax.hessian(lambda r: jnp.sum(r ** 3) * jnp.sum(r)))(X)", {"X": X43}),
    ("def f(r):\n    u = r * w\n    return jnp.sum(u ** 2)\ng = jax.vmap(f)\ng(X) + g(2 * X)", {"X": X43, "w": W3}),
    ("jax.grad(lambda w: jnp.sum(jax.vmap(lambda r: jnp.tanh(r @ w))(X) ** 2))(w)", {"X": X43, "w": W3}),
    # lax.map, scan forward and reverse, fori_loop, cond, switch
    ("jax.lax.map(jnp.sum, X)", {"X": X43}),
    ("lax.map(lambda p: p[0] * jnp.sin(p[1]), (X, 2 * X))", {"X": X43}),
    ("def step(c, v):\n    return c * 0.5 + v, jnp.sin(c) * v\nc, ys = jax.lax.scan(step, 0.0, x)\nc + ys.sum()",
     {"x": X3}),
    ("c, ys = jax.lax.scan(lambda c, v: (c * 0.5 + v, c * v), 1.0, x, reverse=True)\nys", {"x": X3}),
    ("def step(h, r):\n    h = jnp.tanh(A @ h + r)\n    return h, h.sum()\nh, s = lax.scan(step, h0, X)\nh * s.sum()",
     {"A": A33, "X": X43, "h0": W3}),
    ("def step(carry, r):\n    h, s = carry\n    h = jnp.tanh(A @ h + r)\n    return (h, s + h.sum()), h\n"
     "(h, s), hs = lax.scan(step, (h0, 0.0), X)\ns + hs.sum()", {"A": A33, "X": X43, "h0": W3}),
    ("c, _ = jax.lax.scan(lambda c, _: (jnp.sin(c) * c, None), x, None, length=3)\nc", {"x": X3}),
    ("c, ys = jax.lax.scan(lambda c, r: (c + r, c * r), x, X, reverse=True)\nys", {"x": X3, "X": X43}),
    ("jax.lax.fori_loop(0, 3, lambda i, v: jnp.sin(v), x).sum()", {"x": X3}),
    ("jax.lax.fori_loop(1, 4, lambda i, v: v * i + x, x)", {"x": X3}),
    ("jax.lax.cond(True, lambda v: v ** 2, lambda v: v, x)", {"x": X3}),
    ("jax.lax.cond(x.ndim == 2, lambda a, b: a * b, lambda a, b: a - b, x, w)", {"x": X3, "w": W3}),
    ("jax.lax.switch(5, [lambda v: v, lambda v: v * 3], x)", {"x": X3}),
    ("jax.lax.switch(-1, [jnp.sin, jnp.cos], x)", {"x": X3}),
    # the wrappers that change no value
    ("jax.jit(lambda v: jnp.sin(v) * w)(x)", {"x": X3, "w": W3}),
    ("jax.jit(lambda a, n: a ** n, static_argnums=1)(x, 3)", {"x": X3}),
    ("jax.checkpoint(lambda v: jnp.sin(jnp.sin(v)))(x)", {"x": X3}),
    ("jax.remat(jnp.tanh)(x) * w", {"x": X3, "w": W3}),
    ("jax.vmap(jax.jit(jax.grad(lambda r: jnp.sum(jnp.cos(r) * r))))(X)", {"X": X43}),
]


@pytest.mark.parametrize("code,inputs", JAX_TEXTS, ids=[" ".join(c.split())[-45:] for c, _ in JAX_TEXTS])
def test_jax_runs_the_same_text(jax_process, code, inputs):  # noqa: F811 - the fixture
    assert_agrees_with_jax(jax_process, code, inputs)


TORCH_TEXTS = [
    ("torch.func.vmap(torch.func.grad(lambda w, xi: torch.tanh(w * xi).sum()), in_dims=(None, 0))(w, X)",
     {"w": W3, "X": X43}),
    ("torch.vmap(lambda r: r.sum())(X)", {"X": X43}),
    ("torch.func.vmap(lambda c, w: c @ w, in_dims=(1, None))(X, w)", {"X": X34, "w": W3}),
    ("torch.func.vmap(lambda c, w: c * w, in_dims=(-1, None))(X, w)", {"X": X34, "w": W3}),
    ("torch.func.vmap(lambda r: torch.outer(r, r), out_dims=1)(X)", {"X": X43}),
    ("a, b = torch.func.vmap(lambda r: (r.sum(), r * 2), out_dims=(0, 1))(X)\nb + a", {"X": X43}),
    ("torch.func.vmap(torch.func.vmap(lambda a, b: torch.sin(a) * b, in_dims=(None, 0)), in_dims=(0, None))(x, w)",
     {"x": X3, "w": W3}),
    ("torch.func.jacrev(torch.func.vmap(lambda r: (torch.sin(r) * r).sum()))(X)", {"X": X43}),
    ("torch.func.vmap(torch.func.jacrev(lambda r: torch.tanh(A @ r)))(X)", {"X": X43, "A": A33}),
    ("torch.func.vmap(torch.func.hessian(lambda r: (r ** 3).sum() * r.sum()))(X)", {"X": X43}),
    ("torch.utils.checkpoint.checkpoint(lambda a, b: torch.sin(a) * b, x, w, use_reentrant=False)",
     {"x": X3, "w": W3}),
    ("torch.compile(lambda v: torch.tanh(v) * w)(x)", {"x": X3, "w": W3}),
]


@pytest.mark.parametrize("code,inputs", TORCH_TEXTS, ids=[" ".join(c.split())[-45:] for c, _ in TORCH_TEXTS])
def test_pytorch_runs_the_same_text(torch64, code, inputs):  # noqa: F811 - the fixture
    torch = torch64
    import torch.utils.checkpoint  # noqa: F401 - torch.utils.checkpoint.checkpoint of the texts

    # compiling here costs seconds and computes what the function does
    code_torch = code.replace("torch.compile(", "(lambda f: f)(", 1) if code.startswith("torch.compile") else code
    assert_agrees_with_pytorch(torch, code, inputs, code_torch)
