"""Parity for dicts and pytrees (lang/trees.py): each text, with its parameters in dicts, lists of (W, b) tuples and
nested dicts as the JAX and torch.func tutorials keep them, is run by JAX itself (float64, in a process of its own:
test_jax16's ``jax_process``) or by PyTorch, and jac's value and Jacobians of its last statement compared with the
library's value and ``jax.jacrev`` / ``torch.autograd.functional.jacobian`` of the text as a function of its inputs
(a text with ``jax.grad`` inside: a second derivative)."""

import numpy as np
import pytest

from jacobi_cli.tools import api
from test_jax16 import assert_agrees_with_jax, jax_process  # noqa: F401 - the fixture is used by name
from test_parity_grad24 import assert_agrees_with_pytorch, torch64  # noqa: F401 - the fixture is used by name

rng = np.random.default_rng(2626)
W23, B2, X3 = rng.standard_normal((2, 3)), rng.standard_normal(2), rng.standard_normal(3)
W12, Y1 = rng.standard_normal((1, 2)), rng.standard_normal(1)
X43 = rng.standard_normal((4, 3))
BINDINGS = {"W": W23, "b": B2, "x": X3, "V": W12, "y": Y1, "X": X43}

LOSS = "def loss(params, x):\n    h = jnp.tanh(params['W'] @ x + params['b'])\n    return jnp.sum(h ** 2)\n"
MLP = """def predict(params, x):
    for W1, b1 in params[:-1]:
        x = jnp.tanh(W1 @ x + b1)
    W1, b1 = params[-1]
    return W1 @ x + b1
def loss(params, x, y):
    return jnp.mean((predict(params, x) - y) ** 2)
def update(params, x, y):
    grads = jax.grad(loss)(params, x, y)
    return jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, params, grads)
params = [(W, b), (V, jnp.zeros(1))]
"""
NESTED = """def loss(p, x):
    h = jnp.tanh(p['enc']['W'] @ x + p['enc']['b'])
    return jnp.sum((p['dec']['W'] @ h - y) ** 2)
params = {'enc': {'W': W, 'b': b}, 'dec': {'W': V}}
"""

JAX_TEXTS = [
    LOSS + "params = {'W': W, 'b': b}\ngrads = jax.grad(loss)(params, x)\ngrads['W']",
    LOSS + "params = {'W': W, 'b': b}\njax.grad(loss)(params, x)['b']",
    LOSS + "params = dict(W=W, b=b)\nv, g = jax.value_and_grad(loss)(params, x)\nv * g['b']",
    LOSS + "params = dict(zip(['W', 'b'], [W, b]))\ng = jax.grad(loss, argnums=(0, 1))(params, x)\ng[0]['W'] @ g[1]",
    MLP + "jax.grad(loss)(params, x, y)[0][0]",
    MLP + "p1 = update(params, x, y)\np2 = update(p1, x, y)\np3 = update(p2, x, y)\nloss(p3, x, y)",
    MLP + "p1 = update(params, x, y)\np1[1][0]",
    NESTED + "g = jax.grad(loss)(params, x)\ng['enc']['W'] * 2 + g['enc']['b'][:, None]",
    NESTED + "g = jax.grad(loss)(params, x)\njax.tree_util.tree_reduce(lambda a, t: a + jnp.sum(t ** 2), g, 0.0)",
    NESTED + "leaves, tdef = jax.tree_util.tree_flatten(params)\n"
             "p = jax.tree_util.tree_unflatten(tdef, [l * 2 for l in leaves])\nloss(p, x)",
    NESTED + "sq = jax.tree.map(lambda t: t ** 2, params)\nsum(jnp.sum(t) for t in jax.tree.leaves(sq))",
    "J = jax.jacrev(lambda p: {'a': p['W'] @ x, 'b': jnp.sum(p['b'] ** 2)})({'W': W, 'b': b})\nJ['a']['W']",
    "J = jax.jacrev(lambda p: {'a': p['W'] @ x, 'b': jnp.sum(p['b'] ** 2)})({'W': W, 'b': b})\nJ['b']['b']",
    "J = jax.jacfwd(lambda p: (jnp.sin(p[0]) * p[1][0],))((x, [x ** 2]))\nJ[0][1][0]",
    "H = jax.hessian(lambda p: jnp.sum(p['W'] @ p['x']) ** 2)({'W': W, 'x': x})\nH['W']['x']",
    "def f(p):\n    return jnp.sum(p['a'] ** 3), {'h': p['a'] * 2}\ng, aux = jax.grad(f, has_aux=True)({'a': x, 'n': None})"
    "\ng['a'] * aux['h']",
    "y0, vjp_fn = jax.vjp(lambda p: p['W'] @ p['x'], {'W': W, 'x': x})\nvjp_fn(b)[0]['x']",
    "out, t = jax.jvp(lambda p: jnp.tanh(p['W'] @ p['x']), ({'W': W, 'x': x},), ({'W': W * 0 + 1, 'x': x},))\nout * t",
    "d = {k: v * 2 for k, v in {'W': W, 'b': b}.items()}\nacc = 0.0\nfor k in d:\n    acc = acc + jnp.sum(d[k])\n"
    "acc * len(d)",
    "p = {'W': W}\np['b'] = b\nq = {**p, 'x': x}\njnp.sum(q['W'] @ q['x'] + q['b']) * ('b' in q) + q.get('z', 1.0)",
    LOSS + "g = jax.vmap(jax.grad(loss), in_axes=(None, 0))({'W': W, 'b': b}, X)\ng['W']",
    LOSS + "g = jax.vmap(jax.grad(loss), in_axes=({'W': None, 'b': 0}, None))({'W': W, 'b': X[:, :2]}, x)\ng['b']",
]


@pytest.mark.parametrize("code", JAX_TEXTS, ids=[" ".join(c.split())[-40:] for c in JAX_TEXTS])
def test_jax_runs_the_same_text(jax_process, code):  # noqa: F811 - the fixture
    used = {k: v for k, v in BINDINGS.items() if k in code}
    assert_agrees_with_jax(jax_process, "import jax\nimport jax.numpy as jnp\n" + code, used)


TORCH_TEXTS = [
    "def loss(p, x):\n    return torch.sum(torch.tanh(p['W'] @ x + p['b']) ** 2)\n"
    "params = {'W': W, 'b': b}\ng = torch.func.grad(loss)(params, x)\ng['W']",
    "def loss(p, x):\n    return torch.sum(torch.tanh(p['W'] @ x + p['b']) ** 2)\n"
    "g, v = torch.func.grad_and_value(loss)({'W': W, 'b': b}, x)\ng['b'] * v",
    "J = torch.func.jacrev(lambda p: p['W'] @ p['x'])({'W': W, 'x': x})\nJ['W']",
    "y0, f = torch.func.vjp(lambda p: torch.sin(p[0] * p[1]), (x, x ** 2))\nf(x)[0][1]",
]


@pytest.mark.parametrize("code", TORCH_TEXTS, ids=[" ".join(c.split())[-40:] for c in TORCH_TEXTS])
def test_pytorch_runs_the_same_text(torch64, code):  # noqa: F811 - the fixture
    used = {k: v for k, v in BINDINGS.items() if k in code}
    assert_agrees_with_pytorch(torch64, "import torch\n" + code, used)


PER_SAMPLE = """import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call, vmap, grad
model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
params = {k: v.detach() for k, v in model.named_parameters()}
def loss(params, x, t):
    out = functional_call(model, params, (x.unsqueeze(0),))
    return F.mse_loss(out, t.unsqueeze(0))
g = vmap(grad(loss), in_dims=(None, 0, 0))(params, xs, ts)
"""


def test_the_per_sample_gradients_tutorial_as_written_is_pytorchs(torch64):  # noqa: F811 - the fixture
    """PyTorch's per-sample-gradients tutorial, vmap(grad(loss)) over functional_call with the dict of parameters,
    with the model's parameters set to jac's draws: each key's stacked gradients, and their derivatives by the
    batch (jac's Jacobian of the text against PyTorch's of the same function)."""
    torch = torch64
    xs, ts = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    f = api.compile(PER_SAMPLE + "g['0.weight']", {"xs": ":4x3", "ts": ":4x2"})
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    with torch.no_grad():
        for key, p in model.named_parameters():
            p.copy_(torch.from_numpy(np.array(f.declared[f"model.{key}"])))

    def theirs(key, xs_, ts_):
        params = {k: v.detach() for k, v in model.named_parameters()}

        def loss(params, x, t):
            out = torch.func.functional_call(model, params, (x.unsqueeze(0),))
            return torch.nn.functional.mse_loss(out, t.unsqueeze(0))
        return torch.func.vmap(torch.func.grad(loss), in_dims=(None, 0, 0))(params, xs_, ts_)[key]

    for key in ("0.weight", "0.bias", "2.weight", "2.bias"):
        text = PER_SAMPLE + f"g['{key}']"
        ours = api.evaluate(text, {"xs": xs, "ts": ts})
        np.testing.assert_allclose(ours, theirs(key, torch.tensor(xs), torch.tensor(ts)).numpy(), rtol=1e-12,
                                   atol=1e-14, err_msg=key)
        jac = api.jacobian(text, {"xs": xs, "ts": ts}, wrt=["xs"])["xs"]
        ref = torch.autograd.functional.jacobian(lambda a: theirs(key, a, torch.tensor(ts)), torch.tensor(xs))
        np.testing.assert_allclose(jac, ref.numpy(), rtol=1e-10, atol=1e-12, err_msg=key)
