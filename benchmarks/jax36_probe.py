"""Probe (session 36, h36-jax): JAX programs people paste — pytrees (dicts / lists / tuples of parameters,
tree_map with lambdas and functions, tree_leaves, tree_flatten / tree_unflatten, tree_reduce, jax.tree.*,
ravel_pytree), hand-written optimizer steps (SGD, momentum, Adam as tree_maps), losses over a pytree of parameters
(an MLP as a list of (W, b) tuples), jax.nn, the less common jax.numpy functions, lax (fori_loop, scan, cond, switch,
select, dynamic_slice, map, associative_scan, reduce), the transforms (grad, value_and_grad, jacfwd, jacrev, hessian,
vmap, checkpoint, custom_jvp, custom_vjp, stop_gradient), and NumPy's own (ufunc methods, `import numpy as onp`,
scipy.special) of a JAX tracer. Each text runs through JAX (x64; value and jax.jacrev by x, in /work/venv) and
through jac (value and Jacobian by x), and is classified:

  AGREE                          both answer, values and Jacobians equal (rtol 1e-10)
  REFUSED-AS-LIB                 JAX raises, jac refuses naming JAX's exception class
  REFUSED-OTHERWISE              JAX raises, jac refuses without naming it
  JAC-ANSWERS-WHERE-LIB-RAISES   JAX raises, jac answers
  JAC-REFUSES-WHERE-LIB-ANSWERS  JAX answers, jac refuses
  WRONG                          both answer, and differ
  CRASH                          jac raised what is not a JacError
  DIFFERS-BY-DOCUMENTED-CONVENTION  a WRONG at a kink or a NaN partial, where jac's choice is documented (CONVENTIONS)

    python benchmarks/jax36_probe.py [--jac-path DIR] [--only CLASS]   # DIR: the jac source tree (default: this one)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

HEAD = "import jax, jax.numpy as jnp, numpy as np\nfrom jax import lax\nfrom functools import partial\n"
X = [1.0, -2.0, 3.0]
S = "jnp.stack([x, 2.0 * x])"
P = "params = {'W': jnp.outer(x, x[:2]), 'b': x}\n"  # W (3, 2), b (3,)
G = "grads = {'W': jnp.ones((3, 2)) * 0.5, 'b': jnp.array([0.1, 0.2, 0.3])}\n"
MLP = ("params = [(jnp.outer(x, x) * 0.1, x * 0.5), (jnp.outer(x[:2], x) * 0.2, x[:2])]\n"
       "def mlp(params, inp):\n"
       "    for W, b in params[:-1]:\n"
       "        inp = jnp.tanh(W @ inp + b)\n"
       "    W, b = params[-1]\n"
       "    return W @ inp + b\n")
LOSS = "def loss(p):\n    return jnp.sum(mlp(p, jnp.array([0.5, -1.0, 2.0])) ** 2)\n"
FLAT = "jnp.concatenate([l.ravel() for l in jax.tree_util.tree_leaves({})])"

CASES = [
    # 1. pytrees
    ("tree_map lambda dict", P + "new = jax.tree_util.tree_map(lambda p: p * 2.0, params)\nnew['b']"),
    ("tree_map lambda dict W", P + "new = jax.tree_util.tree_map(lambda p: p ** 2, params)\nnew['W']"),
    ("tree_map jnp.zeros_like", P + "z = jax.tree_util.tree_map(jnp.zeros_like, params)\nz['b'] + x"),
    ("tree_map jnp.ones_like", P + "z = jax.tree_util.tree_map(jnp.ones_like, params)\nz['W'].sum() * x"),
    ("tree_map jnp.sin", P + "z = jax.tree_util.tree_map(jnp.sin, params)\nz['b']"),
    ("tree_map jnp.tanh W", P + "z = jax.tree_util.tree_map(jnp.tanh, params)\nz['W']"),
    ("tree_map jnp.square", P + "jax.tree_util.tree_map(jnp.square, params)['b']"),
    ("tree_map jnp.add two trees", P + "z = jax.tree_util.tree_map(jnp.add, params, params)\nz['b']"),
    ("tree_map jnp.multiply", P + G + "z = jax.tree_util.tree_map(jnp.multiply, params, grads)\nz['W']"),
    ("tree_map jnp.subtract", P + G + "z = jax.tree_util.tree_map(jnp.subtract, params, grads)\nz['b']"),
    ("tree_map lax.sub", P + G + "jax.tree_util.tree_map(lax.sub, params, grads)['b']"),
    ("tree_map jnp.sum", P + "s = jax.tree_util.tree_map(jnp.sum, params)\ns['W'] * x"),
    ("tree_map jnp.linalg.norm", P + "s = jax.tree_util.tree_map(jnp.linalg.norm, params)\ns['b'] * x"),
    ("tree_map def", P + "def scale(p):\n    return 3.0 * p\nz = jax.tree_util.tree_map(scale, params)\nz['b']"),
    ("tree_map partial", P + "def scale(p, c):\n    return c * p\nz = jax.tree_util.tree_map(partial(scale, c=3.0), params)\nz['b']"),
    ("tree_map list", "ps = [x, 2.0 * x]\nz = jax.tree_util.tree_map(lambda p: p + 1.0, ps)\nz[1]"),
    ("tree_map tuple", "ps = (x, x[:2])\nz = jax.tree_util.tree_map(lambda p: p * p, ps)\nz[1]"),
    ("tree_map nested", "ps = {'a': [x, (x * 2.0, x[0])], 'b': x}\nz = jax.tree_util.tree_map(lambda p: p * 3.0, ps)\nz['a'][1][0]"),
    ("tree_map None leaf", "ps = {'a': x, 'b': None}\nz = jax.tree_util.tree_map(lambda p: p * 3.0, ps)\nz['a']"),
    ("tree.map new api", P + "z = jax.tree.map(lambda p: p - 1.0, params)\nz['b']"),
    ("tree.map zeros_like", P + "z = jax.tree.map(jnp.zeros_like, params)\nz['W'].sum() + x"),
    ("tree.leaves", P + "jnp.concatenate([l.ravel() for l in jax.tree.leaves(params)])"),
    ("tree_leaves", P + FLAT.format("params")),
    ("tree_leaves sum", P + "sum(jnp.sum(l ** 2) for l in jax.tree_util.tree_leaves(params)) * x"),
    ("tree_leaves order", "ps = {'z': x, 'a': 2.0 * x}\njax.tree_util.tree_leaves(ps)[0]"),
    ("tree_leaves len", P + "x * len(jax.tree_util.tree_leaves(params))"),
    ("tree_flatten/unflatten", P + "leaves, tdef = jax.tree_util.tree_flatten(params)\nnew = jax.tree_util.tree_unflatten(tdef, [l * 2.0 for l in leaves])\nnew['b']"),
    ("tree.flatten/unflatten", P + "leaves, tdef = jax.tree.flatten(params)\nnew = jax.tree.unflatten(tdef, [l + 1.0 for l in leaves])\nnew['W']"),
    ("tree_reduce add", P + "jax.tree_util.tree_reduce(lambda a, b: a + jnp.sum(b), params, 0.0) * x"),
    ("tree_reduce operator.add", "import operator\nps = [x, 2.0 * x]\njax.tree_util.tree_reduce(operator.add, ps)"),
    ("tree.reduce", "ps = [x, 2.0 * x, x ** 2]\njax.tree.reduce(jnp.add, ps)"),
    ("tree_structure num_leaves", P + "x * jax.tree_util.tree_structure(params).num_leaves"),
    ("ravel_pytree", P + "from jax.flatten_util import ravel_pytree\nflat, unravel = ravel_pytree(params)\nflat"),
    ("ravel_pytree unravel", P + "from jax.flatten_util import ravel_pytree\nflat, unravel = ravel_pytree(params)\nunravel(flat * 2.0)['b']"),
    ("ravel_pytree list", "from jax.flatten_util import ravel_pytree\nflat, _ = ravel_pytree([x, (x[:2], x[0])])\nflat"),
    ("ravel_pytree dotted", P + "import jax.flatten_util\njax.flatten_util.ravel_pytree(params)[0]"),
    ("tree_util import tree_map", P + "from jax.tree_util import tree_map\ntree_map(lambda p: p * 2.0, params)['b']"),
    ("import tree_util as jtu", P + "import jax.tree_util as jtu\njtu.tree_map(lambda a: a / 2.0, params)['W']"),
    ("from jax import tree_util", P + "from jax import tree_util\ntree_util.tree_map(lambda a: a / 2.0, params)['b']"),
    ("tree_map is_leaf", "ps = [(x, x * 2.0), (x, x * 3.0)]\nz = jax.tree_util.tree_map(lambda t: t[0] * t[1], ps, is_leaf=lambda n: isinstance(n, tuple))\nz[1]"),
    ("tree_map pytree of int", "ps = {'a': x, 'n': 2}\nz = jax.tree_util.tree_map(lambda p: p * 2, ps)\nz['a'] * z['n']"),
    ("tree_map dict comprehension", "ps = {k: x * i for i, k in enumerate(['a', 'b'])}\njax.tree_util.tree_map(lambda p: p + 1.0, ps)['b']"),
    ("tree_map jnp.where", P + "jax.tree_util.tree_map(lambda p: jnp.where(p > 0, p, 0.0), params)['b']"),
    ("tree_transpose", "ps = [(x, x * 2.0), (x * 3.0, x * 4.0)]\nt = jax.tree_util.tree_transpose(jax.tree_util.tree_structure([0, 0]), jax.tree_util.tree_structure((0, 0)), ps)\nt[1][0]"),
    ("tree_map lambda tuple out", P + "z = jax.tree_util.tree_map(lambda p: (p, p * 2.0), params)\nz['b'][1]"),
    ("tree_map onp.zeros_like", P + "import numpy as onp\nz = jax.tree_util.tree_map(onp.zeros_like, params)\nz['b'] + x"),
    ("tree_map jnp.asarray", "ps = {'a': [1.0, 2.0, 3.0]}\nz = jax.tree_util.tree_map(jnp.asarray, ps)\nz['a'] * x"),
    ("tree_all", P + "x * jax.tree_util.tree_all(jax.tree_util.tree_map(lambda p: p.shape[0] > 0, params))"),
    ("tree.map_with_path", P + "z = jax.tree_util.tree_map_with_path(lambda path, p: p * 2.0, params)\nz['b']"),
    ("tree_leaves_with_path", P + "jax.tree_util.tree_leaves_with_path(params)[1][1]"),
    # 2. optimizer steps
    ("sgd step", P + G + "new = jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, params, grads)\nnew['b']"),
    ("sgd step W", P + G + "new = jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, params, grads)\nnew['W']"),
    ("sgd step tree.map", P + G + "new = jax.tree.map(lambda p, g: p - 0.1 * g, params, grads)\nnew['W']"),
    ("sgd with grad", P + "def loss(p):\n    return jnp.sum((p['W'].T @ p['b']) ** 2)\ng = jax.grad(loss)(params)\nnew = jax.tree_util.tree_map(lambda p, g: p - 0.01 * g, params, g)\nnew['b']"),
    ("sgd with grad W", P + "def loss(p):\n    return jnp.sum((p['W'].T @ p['b']) ** 2)\ng = jax.grad(loss)(params)\nnew = jax.tree_util.tree_map(lambda p, g: p - 0.01 * g, params, g)\nnew['W']"),
    ("sgd loop", P + "def loss(p):\n    return jnp.sum(jnp.tanh(p['W'].T @ p['b']) ** 2)\nfor _ in range(3):\n    g = jax.grad(loss)(params)\n    params = jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, params, g)\nparams['b']"),
    ("momentum", P + G + "vel = jax.tree_util.tree_map(jnp.zeros_like, params)\nvel = jax.tree_util.tree_map(lambda v, g: 0.9 * v + g, vel, grads)\nnew = jax.tree_util.tree_map(lambda p, v: p - 0.1 * v, params, vel)\nnew['b']"),
    ("momentum loop", P + "def loss(p):\n    return jnp.sum(p['b'] ** 2) + jnp.sum(p['W'] ** 2)\nvel = jax.tree_util.tree_map(jnp.zeros_like, params)\nfor _ in range(2):\n    g = jax.grad(loss)(params)\n    vel = jax.tree_util.tree_map(lambda v, g: 0.9 * v + g, vel, g)\n    params = jax.tree_util.tree_map(lambda p, v: p - 0.1 * v, params, vel)\nparams['W']"),
    ("adam step", P + G + "m = jax.tree_util.tree_map(jnp.zeros_like, params)\nv = jax.tree_util.tree_map(jnp.zeros_like, params)\nm = jax.tree_util.tree_map(lambda m, g: 0.9 * m + 0.1 * g, m, grads)\nv = jax.tree_util.tree_map(lambda v, g: 0.999 * v + 0.001 * g ** 2, v, grads)\nmhat = jax.tree_util.tree_map(lambda m: m / (1 - 0.9), m)\nvhat = jax.tree_util.tree_map(lambda v: v / (1 - 0.999), v)\nnew = jax.tree_util.tree_map(lambda p, m, v: p - 0.01 * m / (jnp.sqrt(v) + 1e-8), params, mhat, vhat)\nnew['b']"),
    ("adam with grad", P + "def loss(p):\n    return jnp.sum(jnp.sin(p['W']) ** 2) + jnp.sum(p['b'] ** 3)\ng = jax.grad(loss)(params)\nm = jax.tree_util.tree_map(lambda g: 0.1 * g, g)\nv = jax.tree_util.tree_map(lambda g: 0.001 * g * g, g)\nnew = jax.tree_util.tree_map(lambda p, m, v: p - 0.01 * (m / 0.1) / (jnp.sqrt(v / 0.001) + 1e-8), params, m, v)\nnew['W']"),
    ("adam function", P + "def adam(p, g, m, v, t, lr=0.01, b1=0.9, b2=0.999, eps=1e-8):\n    m = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, m, g)\n    v = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g ** 2, v, g)\n    p = jax.tree_util.tree_map(lambda p, m, v: p - lr * (m / (1 - b1 ** t)) / (jnp.sqrt(v / (1 - b2 ** t)) + eps), p, m, v)\n    return p, m, v\ndef loss(p):\n    return jnp.sum(p['W'] ** 2) * jnp.sum(p['b'])\nm = jax.tree_util.tree_map(jnp.zeros_like, params)\nv = jax.tree_util.tree_map(jnp.zeros_like, params)\nfor t in range(1, 3):\n    params, m, v = adam(params, jax.grad(loss)(params), m, v, t)\nparams['b']"),
    ("sgd list of tuples", MLP + LOSS + "g = jax.grad(loss)(params)\nnew = jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, params, g)\nnew[0][1]"),
    ("sgd list comprehension", MLP + LOSS + "g = jax.grad(loss)(params)\nnew = [(W - 0.1 * dW, b - 0.1 * db) for (W, b), (dW, db) in zip(params, g)]\nnew[1][0]"),
    ("value_and_grad step", P + "def loss(p):\n    return jnp.sum(p['W'] ** 2) + jnp.dot(p['b'], p['b'])\nl, g = jax.value_and_grad(loss)(params)\nnew = jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, params, g)\nnew['b'] * l"),
    ("jit update", P + "@jax.jit\ndef update(p):\n    g = jax.grad(lambda q: jnp.sum(q['W'] ** 2) + jnp.sum(q['b'] ** 2))(p)\n    return jax.tree_util.tree_map(lambda a, b: a - 0.1 * b, p, g)\nupdate(params)['b']"),
    ("grad norm clip", P + G + "gnorm = jnp.sqrt(sum(jnp.sum(g ** 2) for g in jax.tree_util.tree_leaves(grads)))\nclipped = jax.tree_util.tree_map(lambda g: g * jnp.minimum(1.0, 0.5 / gnorm), grads)\nnew = jax.tree_util.tree_map(lambda p, g: p - g, params, clipped)\nnew['b']"),
    ("grad norm of grad", P + "g = jax.grad(lambda q: jnp.sum(q['W'] * q['b'][:, None] ** 2))(params)\nn = jnp.sqrt(sum(jnp.vdot(a, a) for a in jax.tree_util.tree_leaves(g)))\nx * n"),
    ("weight decay", P + G + "new = jax.tree_util.tree_map(lambda p, g: p * (1 - 1e-2) - 0.1 * g, params, grads)\nnew['W']"),
    ("ema", P + "ema = jax.tree_util.tree_map(lambda p: p * 0.5, params)\nema = jax.tree_util.tree_map(lambda e, p: 0.99 * e + 0.01 * p, ema, params)\nema['b']"),
    ("fori_loop sgd", "def loss(w):\n    return jnp.sum((w - 1.0) ** 2 * jnp.arange(1.0, 4.0))\nlax.fori_loop(0, 5, lambda i, w: w - 0.1 * jax.grad(loss)(w), x)"),
    ("scan sgd", "def loss(w):\n    return jnp.sum(jnp.sin(w) ** 2)\ndef step(w, _):\n    return w - 0.1 * jax.grad(loss)(w), loss(w)\nw, losses = lax.scan(step, x, None, length=4)\nw"),
    ("scan sgd losses", "def loss(w):\n    return jnp.sum(jnp.sin(w) ** 2)\ndef step(w, _):\n    return w - 0.1 * jax.grad(loss)(w), loss(w)\nw, losses = lax.scan(step, x, None, length=4)\nlosses"),
    ("scan pytree sgd", P + "def loss(p):\n    return jnp.sum(p['W'] ** 2) + jnp.sum(jnp.sin(p['b']))\ndef step(p, _):\n    g = jax.grad(loss)(p)\n    return jax.tree_util.tree_map(lambda a, b: a - 0.1 * b, p, g), None\nout, _ = lax.scan(step, params, None, length=3)\nout['b']"),
    ("fori pytree sgd", P + "def loss(p):\n    return jnp.sum(p['W'] ** 2) + jnp.sum(jnp.sin(p['b']))\nout = lax.fori_loop(0, 3, lambda i, p: jax.tree_util.tree_map(lambda a, b: a - 0.1 * b, p, jax.grad(loss)(p)), params)\nout['W']"),
    # 3. an MLP as a list of (W, b)
    ("mlp forward", MLP + "mlp(params, jnp.array([0.5, -1.0, 2.0]))"),
    ("mlp loss", MLP + LOSS + "loss(params) * x"),
    ("mlp grad b0", MLP + LOSS + "jax.grad(loss)(params)[0][1]"),
    ("mlp grad W1", MLP + LOSS + "jax.grad(loss)(params)[1][0]"),
    ("mlp grad leaves", MLP + LOSS + FLAT.format("jax.grad(loss)(params)")),
    ("mlp vmap", MLP + "jax.vmap(partial(mlp, params))(jnp.stack([x, -x]))"),
    ("mlp vmap in_axes", MLP + "jax.vmap(mlp, in_axes=(None, 0))(params, jnp.stack([x, -x]))"),
    ("mlp batched loss grad", MLP + "def loss(p, xs):\n    return jnp.mean(jax.vmap(lambda a: mlp(p, a))(xs) ** 2)\njax.grad(loss)(params, jnp.stack([x, x ** 2]))[0][0]"),
    ("mlp relu", "params = [(jnp.outer(x, x) * 0.1, x), (jnp.outer(x[:1], x), x[:1])]\ndef f(params, a):\n    *hidden, last = params\n    for W, b in hidden:\n        a = jax.nn.relu(W @ a + b)\n    return last[0] @ a + last[1]\nf(params, jnp.ones(3))"),
    ("mlp init keys", "sizes = [3, 4, 2]\nkey = jax.random.PRNGKey(0)\nparams = [(jnp.ones((n, m)) * 0.1, jnp.zeros(n)) for m, n in zip(sizes[:-1], sizes[1:])]\ndef f(p, a):\n    for W, b in p:\n        a = jnp.tanh(W @ a + b)\n    return a\nf(params, x)"),
    ("mlp dict layers", "params = {'l1': {'w': jnp.outer(x, x), 'b': x}, 'l2': {'w': jnp.outer(x[:2], x), 'b': x[:2]}}\ndef f(p, a):\n    a = jnp.tanh(p['l1']['w'] @ a + p['l1']['b'])\n    return p['l2']['w'] @ a + p['l2']['b']\nf(params, jnp.array([0.1, 0.2, 0.3]))"),
    ("mlp grad dict layers", "params = {'l1': {'w': jnp.outer(x, x), 'b': x}, 'l2': {'w': jnp.outer(x[:2], x), 'b': x[:2]}}\ndef f(p, a):\n    a = jnp.tanh(p['l1']['w'] @ a + p['l1']['b'])\n    return jnp.sum((p['l2']['w'] @ a + p['l2']['b']) ** 2)\njax.grad(f)(params, jnp.array([0.1, 0.2, 0.3]))['l1']['b']"),
    ("logreg", "w = x\ndef nll(w, X, y):\n    logits = X @ w\n    return -jnp.mean(y * jax.nn.log_sigmoid(logits) + (1 - y) * jax.nn.log_sigmoid(-logits))\nnll(w, jnp.eye(3), jnp.array([1.0, 0.0, 1.0])) * x"),
    ("softmax xent", "W = jnp.outer(x, jnp.array([1.0, 0.5]))\nlogits = jnp.array([[1.0, 2.0, 0.5]]) @ W\nlabels = jax.nn.one_hot(jnp.array([1]), 2)\n-jnp.sum(labels * jax.nn.log_softmax(logits)) * x"),
    ("optax-like chain", P + G + "def scale(u, s):\n    return jax.tree_util.tree_map(lambda g: s * g, u)\ndef apply(p, u):\n    return jax.tree_util.tree_map(jnp.add, p, u)\napply(params, scale(grads, -0.1))['b']"),
    # 4. jax.nn
    ("nn.relu", "jax.nn.relu(x)"),
    ("nn.relu6", "jax.nn.relu6(x * 3.0)"),
    ("nn.gelu", "jax.nn.gelu(x)"),
    ("nn.gelu exact", "jax.nn.gelu(x, approximate=False)"),
    ("nn.softplus", "jax.nn.softplus(x)"),
    ("nn.sigmoid", "jax.nn.sigmoid(x)"),
    ("nn.log_sigmoid", "jax.nn.log_sigmoid(x)"),
    ("nn.silu", "jax.nn.silu(x)"),
    ("nn.swish", "jax.nn.swish(x)"),
    ("nn.elu", "jax.nn.elu(x)"),
    ("nn.elu alpha", "jax.nn.elu(x, alpha=0.5)"),
    ("nn.celu", "jax.nn.celu(x)"),
    ("nn.celu alpha", "jax.nn.celu(x, alpha=2.0)"),
    ("nn.selu", "jax.nn.selu(x)"),
    ("nn.leaky_relu", "jax.nn.leaky_relu(x, negative_slope=0.2)"),
    ("nn.hard_tanh", "jax.nn.hard_tanh(x * 0.5)"),
    ("nn.hard_tanh off kink", "jax.nn.hard_tanh(x * 0.4)"),
    ("nn.hard_sigmoid", "jax.nn.hard_sigmoid(x)"),
    ("nn.hard_swish", "jax.nn.hard_swish(x)"),
    ("nn.soft_sign", "jax.nn.soft_sign(x)"),
    ("nn.sparse_plus", "jax.nn.sparse_plus(x * 0.5)"),
    ("nn.sparse_sigmoid", "jax.nn.sparse_sigmoid(x * 0.5)"),
    ("nn.sparse_sigmoid off kink", "jax.nn.sparse_sigmoid(x * 0.4)"),
    ("nn.squareplus", "jax.nn.squareplus(x)"),
    ("nn.mish", "jax.nn.mish(x)"),
    ("nn.log_softmax", "jax.nn.log_softmax(x)"),
    ("nn.log_softmax axis", f"jax.nn.log_softmax({S}, axis=0)"),
    ("nn.softmax", "jax.nn.softmax(x)"),
    ("nn.softmax axis -1", f"jax.nn.softmax({S}, axis=-1)"),
    ("nn.logsumexp", "jax.nn.logsumexp(x) * x"),
    ("nn.logsumexp b", "jax.nn.logsumexp(x, b=jnp.array([1.0, 2.0, 0.5]))"),
    ("nn.one_hot", "jax.nn.one_hot(jnp.array([0, 2]), 3) @ x"),
    ("nn.one_hot argmax", "jax.nn.one_hot(jnp.argmax(x), 3) * x"),
    ("nn.standardize", "jax.nn.standardize(x)"),
    ("nn.normalize", "jax.nn.normalize(x)"),
    ("nn.glu", "jax.nn.glu(jnp.concatenate([x, x ** 2]))"),
    ("nn.glu axis", f"jax.nn.glu({S}, axis=0)"),
    ("nn.tanh", "jax.nn.tanh(x)"),
    ("nn.identity", "jax.nn.identity(x) * 2.0"),
    ("nn.log1mexp", "jax.nn.log1mexp(jnp.abs(x) + 0.5)"),
    ("nn.dot_product_attention", "q = jnp.reshape(jnp.concatenate([x, x]), (1, 2, 1, 3))\njax.nn.dot_product_attention(q, q, q)"),
    ("nn.initializers", "w = jax.nn.initializers.zeros(jax.random.PRNGKey(0), (3,))\nx + w"),
    # 5. less common jax.numpy
    ("piecewise", "jnp.piecewise(x, [x < 0, x >= 0], [lambda v: -v, lambda v: v ** 2])"),
    ("piecewise consts", "jnp.piecewise(x, [x < 0, x >= 0], [0.0, lambda v: v * 2.0])"),
    ("jnp.select", "jnp.select([x < 0, x > 2], [x ** 2, -x], default=x)"),
    ("select default 0", "jnp.select([x < 0], [jnp.sin(x)])"),
    ("polyval", "jnp.polyval(jnp.array([1.0, -2.0, 3.0]), x)"),
    ("polyval coeffs x", "jnp.polyval(x, 2.0) * jnp.ones(2)"),
    ("polyval both", "jnp.polyval(x, x)"),
    ("interp", "jnp.interp(jnp.array([0.5, 1.5, 2.5]), jnp.array([0.0, 1.0, 2.0, 3.0]), jnp.concatenate([x, x[:1]]))"),
    ("interp x", "jnp.interp(x * 0.5 + 1.2, jnp.array([0.0, 1.0, 2.0, 3.0]), jnp.array([0.0, 1.0, 4.0, 9.0]))"),
    ("searchsorted", "x * jnp.searchsorted(jnp.array([0.0, 1.5, 2.5]), 2.0)"),
    ("searchsorted x", "jnp.searchsorted(jnp.array([0.0, 1.5, 2.5]), x) * x"),
    ("take_along_axis", f"jnp.take_along_axis({S}, jnp.array([[2, 0, 1], [0, 0, 1]]), axis=1)"),
    ("take_along_axis argsort", "jnp.take_along_axis(x, jnp.argsort(x), axis=0)"),
    ("where one arg", "x * jnp.where(x > 0)[0].shape[0]"),
    ("where one arg size", "jnp.where(x > 0, size=3, fill_value=0)[0] * x"),
    ("where three", "jnp.where(x > 0, x, -2.0 * x)"),
    ("nonzero size", "x[jnp.nonzero(x > 0, size=2)[0]]"),
    ("nan_to_num", "jnp.nan_to_num(jnp.log(x))"),
    ("nan_to_num nan=", "jnp.nan_to_num(jnp.sqrt(x), nan=0.5)"),
    ("nan_to_num nan= finite partial", "jnp.nan_to_num(jnp.log(x), nan=0.5)"),
    ("clip", "jnp.clip(x, -1.0, 2.0)"),
    ("clip min=", "jnp.clip(x, min=-1.0)"),
    ("clip a_min", "jnp.clip(x, a_min=-1.0, a_max=2.0)"),
    ("einsum optimize", "jnp.einsum('i,j->ij', x, x, optimize='optimal')"),
    ("einsum optimize greedy", "jnp.einsum('i,i->', x, x, optimize='greedy') * x"),
    ("einsum optimize False", "jnp.einsum('ij,j->i', jnp.outer(x, x), x, optimize=False)"),
    ("einsum precision", "jnp.einsum('i,i->', x, x, precision=lax.Precision.HIGHEST) * x"),
    ("cumsum", "jnp.cumsum(x)"),
    ("cumprod", "jnp.cumprod(x)"),
    ("diff", "jnp.diff(x)"),
    ("ediff1d", "jnp.ediff1d(x)"),
    ("trapezoid", "jnp.trapezoid(x ** 2) * x"),
    ("convolve", "jnp.convolve(x, jnp.array([1.0, 0.5]))"),
    ("correlate", "jnp.correlate(x, jnp.array([1.0, 0.5]), mode='full')"),
    ("kron", "jnp.kron(x, x[:2])"),
    ("cross", "jnp.cross(x, jnp.array([0.0, 1.0, 2.0]))"),
    ("logaddexp", "jnp.logaddexp(x, 2.0 * x)"),
    ("hypot", "jnp.hypot(x, 1.0)"),
    ("sinc", "jnp.sinc(x * 0.3)"),
    ("heaviside", "jnp.heaviside(x, 0.5) * x"),
    ("copysign", "jnp.copysign(x, -1.0)"),
    ("round decimals", "jnp.round(x * 1.234, 1) * x"),
    ("flip", "jnp.flip(x)"),
    ("roll", "jnp.roll(x, 1)"),
    ("tile", "jnp.tile(x, 2)"),
    ("repeat", "jnp.repeat(x, 2)"),
    ("pad", "jnp.pad(x, (1, 2))"),
    ("pad reflect", "jnp.pad(x, 1, mode='reflect')"),
    ("triu_indices", "A = jnp.outer(x, x)\nA[jnp.triu_indices(3)]"),
    ("diag_indices", "A = jnp.outer(x, x)\nA[jnp.diag_indices(3)]"),
    ("linalg.slogdet", "jnp.linalg.slogdet(jnp.outer(x, x) + jnp.eye(3))[1] * x"),
    ("linalg.solve", "jnp.linalg.solve(jnp.outer(x, x) + 5.0 * jnp.eye(3), x)"),
    ("linalg.eigh", "jnp.linalg.eigh(jnp.outer(x, x) + jnp.diag(x))[0]"),
    ("vectorize", "jnp.vectorize(lambda a: a ** 2 + 1.0)(x)"),
    ("apply_along_axis", f"jnp.apply_along_axis(jnp.sum, 1, {S})"),
    ("frompyfunc-like vectorize signature", f"jnp.vectorize(jnp.dot, signature='(n),(n)->()')({S}, x)"),
    ("meshgrid", "a, b = jnp.meshgrid(x, x[:2])\na * b"),
    ("histogram", "x * jnp.histogram(x, bins=2)[0][0]"),
    ("unique size", "jnp.unique(jnp.array([1, 2, 2]), size=3) * x"),
    ("argmax keepdims", f"jnp.argmax({S}, axis=1, keepdims=True) * x"),
    ("jnp.array copy", "jnp.array(x, copy=True) * 2.0"),
    ("jnp.asarray dtype", "jnp.asarray(x, dtype=jnp.float64) * 2.0"),
    ("astype", "x.astype(jnp.float32).astype(jnp.float64)"),
    ("at.add", "x.at[0].add(5.0) * x"),
    ("at.mul", "x.at[1:].multiply(x[:2])"),
    ("at.max", "x.at[0].max(2.0)"),
    ("at.get mode", "x.at[jnp.array([0, 5])].get(mode='fill', fill_value=0.0)"),
    ("at.set indices_are_sorted", "x.at[jnp.array([0, 1])].set(0.0, indices_are_sorted=True)"),
    ("segment_sum", "jax.ops.segment_sum(x, jnp.array([0, 0, 1]), num_segments=2)"),
    # 6. lax
    ("fori tuple carry", "def body(i, c):\n    a, b = c\n    return a * 0.5 + b, b * 2.0\na, b = lax.fori_loop(0, 3, body, (x, x ** 2))\na"),
    ("fori tuple carry b", "a, b = lax.fori_loop(0, 3, lambda i, c: (c[0] + c[1], c[1] * 0.5), (x, x))\nb + a"),
    ("fori dict carry", "out = lax.fori_loop(0, 2, lambda i, c: {'a': c['a'] * c['b'], 'b': c['b'] + 1.0}, {'a': x, 'b': x})\nout['a']"),
    ("fori int counter in carry", "v, n = lax.fori_loop(0, 3, lambda i, c: (c[0] * 1.5, c[1] + 1), (x, 0))\nv * n"),
    ("fori unroll", "lax.fori_loop(0, 4, lambda i, v: jnp.sin(v) + i, x, unroll=2)"),
    ("scan pytree carry", "def step(c, xi):\n    return {'s': c['s'] + xi, 'p': c['p'] * xi}, c['s']\nc, ys = lax.scan(step, {'s': 0.0, 'p': 1.0}, x)\nys * c['p']"),
    ("scan tuple xs", "def step(c, xs):\n    a, b = xs\n    return c + a * b, c\nc, ys = lax.scan(step, 0.0, (x, x ** 2))\nys + c"),
    ("scan reverse", "lax.scan(lambda c, xi: (c * 0.5 + xi, c), 0.0, x, reverse=True)[1]"),
    ("scan unroll", "lax.scan(lambda c, xi: (c + jnp.sin(xi), c), 0.0, x, unroll=2)[1]"),
    ("scan rnn", "W = jnp.outer(x, x) * 0.1\ndef step(h, xi):\n    h = jnp.tanh(W @ h + xi)\n    return h, h\nh, hs = lax.scan(step, jnp.zeros(3), jnp.stack([x, x * 0.5]))\nhs"),
    ("scan ys None", "lax.scan(lambda c, xi: (c * xi, None), 1.0, x)[0] * x"),
    ("scan 2d xs", f"lax.scan(lambda c, row: (c + row, jnp.sum(row)), jnp.zeros(3), {S})[1]"),
    ("cond", "lax.cond(x[0] > 0, lambda v: v * 2.0, lambda v: -v, x)"),
    ("cond false", "lax.cond(x[1] > 0, lambda v: v * 2.0, lambda v: jnp.sin(v), x)"),
    ("cond tuple operands", "lax.cond(True, lambda a, b: a * b, lambda a, b: a + b, x, x ** 2)"),
    ("cond pytree out", "out = lax.cond(x[0] > 0, lambda v: {'a': v, 'b': v * 2.0}, lambda v: {'a': -v, 'b': v}, x)\nout['b']"),
    ("cond in jit", "jax.jit(lambda v: lax.cond(v[0] > 0, jnp.sin, jnp.cos, v))(x)"),
    ("cond in vmap", f"jax.vmap(lambda v: lax.cond(v[0] > 1.5, jnp.sin, jnp.cos, v))({S})"),
    ("switch", "lax.switch(1, [jnp.sin, jnp.cos, jnp.tanh], x)"),
    ("switch clamp", "lax.switch(7, [jnp.sin, jnp.cos], x)"),
    ("switch traced index", "lax.switch(jnp.argmax(x), [jnp.sin, jnp.cos, jnp.tanh], x)"),
    ("lax.select", "lax.select(x > 0, x, jnp.zeros_like(x))"),
    ("select_n", "lax.select_n(x > 0, x, -x)"),
    ("dynamic_slice", "lax.dynamic_slice(x, (1,), (2,))"),
    ("dynamic_slice clamp", "lax.dynamic_slice(x, (2,), (2,))"),
    ("dynamic_slice_in_dim", "lax.dynamic_slice_in_dim(x, 1, 2)"),
    ("dynamic_update_slice", "lax.dynamic_update_slice(x, x[:2] * 2.0, (1,))"),
    ("dynamic_update_slice clamp", "lax.dynamic_update_slice(x, x[:2] * 2.0, (5,))"),
    ("dynamic_index_in_dim", "lax.dynamic_index_in_dim(x, 1, keepdims=False) * x"),
    ("lax.map", "lax.map(lambda v: jnp.sum(v ** 2), jnp.stack([x, 2.0 * x]))"),
    ("lax.map batch_size", "lax.map(jnp.sin, jnp.stack([x, 2.0 * x]), batch_size=2)"),
    ("associative_scan add", "lax.associative_scan(jnp.add, x)"),
    ("associative_scan mul", "lax.associative_scan(jnp.multiply, x)"),
    ("associative_scan lambda", "lax.associative_scan(lambda a, b: a + b, x, reverse=True)"),
    ("associative_scan max", "lax.associative_scan(jnp.maximum, x)"),
    ("lax.reduce add", "lax.reduce(x, 0.0, lax.add, (0,)) * x"),
    ("lax.reduce max", "lax.reduce(x, -jnp.inf, lax.max, (0,)) * x"),
    ("lax.cumsum", "lax.cumsum(x)"),
    ("lax.cummax", "lax.cummax(x)"),
    ("lax.cumlogsumexp", "lax.cumlogsumexp(x)"),
    ("lax.reduce_window", "lax.reduce_window(x, 0.0, lax.add, (2,), (1,), 'VALID')"),
    ("lax.while_loop", "lax.while_loop(lambda c: c[1] < 3, lambda c: (c[0] * 1.5, c[1] + 1), (x, 0))[0]"),
    ("lax.stop_gradient", "x * lax.stop_gradient(x)"),
    ("lax.integer_pow", "lax.integer_pow(x, 3)"),
    ("lax.rsqrt", "lax.rsqrt(jnp.abs(x))"),
    ("lax.clamp", "lax.clamp(-1.0, x, 2.0)"),
    ("lax.pad", "lax.pad(x, 0.0, [(1, 2, 1)])"),
    ("lax.concatenate", "lax.concatenate([x, x ** 2], 0)"),
    ("lax.broadcast_in_dim", "lax.broadcast_in_dim(x, (2, 3), (1,))"),
    ("lax.dot_general", "lax.dot_general(jnp.outer(x, x), x, (((1,), (0,)), ((), ())))"),
    ("lax.sort", "lax.sort(x)"),
    ("lax.top_k", "lax.top_k(x, 2)[0]"),
    ("lax.erf", "lax.erf(x)"),
    ("lax.logistic", "lax.logistic(x)"),
    ("lax.expm1", "lax.expm1(x)"),
    ("lax.rev", "lax.rev(x, (0,))"),
    ("lax.squeeze", "lax.squeeze(x[None], (0,))"),
    ("lax.expand_dims", "lax.expand_dims(x, (0,))"),
    # 7. transforms
    ("grad", "jax.grad(lambda v: jnp.sum(jnp.sin(v) * v))(x)"),
    ("grad argnums tuple", "gx, gy = jax.grad(lambda a, b: jnp.sum(a * b ** 2), argnums=(0, 1))(x, 2.0 * x)\ngx + gy"),
    ("grad has_aux", "g, aux = jax.grad(lambda v: (jnp.sum(v ** 2), v * 2.0), has_aux=True)(x)\ng + aux"),
    ("grad of dict", P + "g = jax.grad(lambda p: jnp.sum(p['W'] @ p['b'][:2]))(params)\ng['b']"),
    ("value_and_grad", "v, g = jax.value_and_grad(lambda v: jnp.sum(v ** 3))(x)\ng * v"),
    ("value_and_grad has_aux", "(v, aux), g = jax.value_and_grad(lambda v: (jnp.sum(v ** 3), jnp.mean(v)), has_aux=True)(x)\ng * aux"),
    ("jacfwd", "jax.jacfwd(lambda v: jnp.sin(v) * v[0])(x)"),
    ("jacrev", "jax.jacrev(lambda v: jnp.cumsum(v ** 2))(x)"),
    ("jacrev dict", P + "jax.jacrev(lambda p: p['W'] @ p['b'][:2])(params)['b']"),
    ("hessian", "jax.hessian(lambda v: jnp.sum(v ** 3) * v[0])(x)"),
    ("hessian dict", P + "jax.hessian(lambda p: jnp.sum(p['b'] ** 3))(params)['b']['b']"),
    ("vmap", f"jax.vmap(lambda v: jnp.sum(v ** 2))({S})"),
    ("vmap in_axes dict", f"jax.vmap(lambda d: d['a'] * 2.0, in_axes=({{'a': 0}},))({{'a': {S}}})"),
    ("vmap out_axes", f"jax.vmap(lambda v: v * 2.0, out_axes=1)({S})"),
    ("vmap of grad", f"jax.vmap(jax.grad(lambda v: jnp.sum(jnp.sin(v))))({S})"),
    ("vmap tuple out", f"a, b = jax.vmap(lambda v: (v, jnp.sum(v)))({S})\nb"),
    ("checkpoint", "jax.checkpoint(lambda v: jnp.sin(jnp.sin(v)))(x)"),
    ("remat", "jax.remat(lambda v: jnp.exp(v) * v)(x)"),
    ("checkpoint decorator", "@jax.checkpoint\ndef f(v):\n    return jnp.tanh(v) ** 2\nf(x)"),
    ("custom_jvp", "@jax.custom_jvp\ndef f(v):\n    return jnp.sin(v)\n@f.defjvp\ndef f_jvp(primals, tangents):\n    v, = primals\n    t, = tangents\n    return jnp.sin(v), jnp.cos(v) * t\nf(x)"),
    ("custom_jvp wrong rule", "@jax.custom_jvp\ndef f(v):\n    return jnp.sin(v)\n@f.defjvp\ndef f_jvp(primals, tangents):\n    v, = primals\n    t, = tangents\n    return jnp.sin(v), 2.0 * t\nf(x)"),
    ("custom_vjp", "@jax.custom_vjp\ndef f(v):\n    return jnp.sin(v)\ndef fwd(v):\n    return jnp.sin(v), jnp.cos(v)\ndef bwd(c, g):\n    return (c * g,)\nf.defvjp(fwd, bwd)\nf(x)"),
    ("custom_vjp clip grad", "@jax.custom_vjp\ndef clip_grad(v):\n    return v\ndef fwd(v):\n    return v, None\ndef bwd(_, g):\n    return (jnp.clip(g, -0.5, 0.5),)\nclip_grad.defvjp(fwd, bwd)\nclip_grad(x) * 3.0"),
    ("custom_jvp defjvps", "f = jax.custom_jvp(lambda v: jnp.exp(v))\nf.defjvps(lambda t, ans, v: ans * t * 2.0)\nf(x)"),
    ("stop_gradient", "x * jax.lax.stop_gradient(x ** 2)"),
    ("stop_gradient tree", P + "sg = jax.lax.stop_gradient(params)\nsg['b'] * x"),
    ("linearize", "y, f_jvp = jax.linearize(jnp.sin, x)\nf_jvp(jnp.ones(3)) * y"),
    ("jvp", "jax.jvp(lambda v: jnp.sin(v) * v, (x,), (jnp.ones(3),))[1]"),
    ("vjp", "y, f_vjp = jax.vjp(jnp.sin, x)\nf_vjp(jnp.ones(3))[0] * y"),
    ("grad of grad", "jax.grad(jax.grad(lambda s: jnp.sin(s) * s ** 2))(x[0]) * x"),
    ("jit static_argnames tree", P + "jax.jit(lambda p, k: p[k] * 2.0, static_argnames='k')(params, k='b')"),
    ("jax.block_until_ready", "jax.block_until_ready(x * 2.0)"),
    ("jax.device_put", "jax.device_put(x) * 2.0"),
    # 8. NumPy's own of a tracer (ufunc methods, onp, scipy.special)
    ("np.add.reduce outside", "np.add.reduce(np.array([1.0, 2.0, 3.0])) * x"),
    ("np.add.reduce jnp const", "np.add.reduce(jnp.ones(3)) * x"),
    ("grad np.add.reduce", "jax.grad(lambda v: np.add.reduce(v * v))(x)"),
    ("jit np.add.reduce", "jax.jit(lambda v: v * np.add.reduce(v))(x)"),
    ("jit np.multiply.outer", "jax.jit(lambda v: np.multiply.outer(v, v))(x)"),
    ("grad np.multiply.outer", "jax.grad(lambda v: jnp.sum(np.multiply.outer(v, v)))(x)"),
    ("vmap np.add.accumulate", f"jax.vmap(lambda v: np.add.accumulate(v))({S})"),
    ("jit np.maximum.reduce", "jax.jit(lambda v: v * np.maximum.reduce(v))(x)"),
    ("jnp.add.reduce ok", "jax.jit(lambda v: v * jnp.add.reduce(v))(x)"),
    ("jnp.multiply.outer ok", "jax.grad(lambda v: jnp.sum(jnp.multiply.outer(v, v)))(x)"),
    ("jit scipy.special.expit", "import scipy.special\njax.jit(lambda v: scipy.special.expit(v))(x)"),
    ("grad scipy.special.erf", "import scipy.special\njax.grad(lambda v: jnp.sum(scipy.special.erf(v)))(x)"),
    ("grad scipy.special.gammaln", "from scipy.special import gammaln\njax.grad(lambda v: jnp.sum(gammaln(jnp.abs(v) + 1.0)))(x)"),
    ("vmap scipy.special.logsumexp", f"from scipy.special import logsumexp\njax.vmap(lambda v: logsumexp(v))({S})"),
    ("jax.scipy.special ok", "import jax.scipy.special\njax.grad(lambda v: jnp.sum(jax.scipy.special.erf(v)))(x)"),
    ("scipy.special outside on jnp", "import scipy.special\nscipy.special.expit(jnp.array([0.5, 1.0, 1.5])) * x"),
    ("onp.array const", "import numpy as onp\nc = onp.array([1.0, 2.0, 3.0])\njax.grad(lambda v: jnp.sum(v * c))(x)"),
    ("onp.sin grad", "import numpy as onp\njax.grad(lambda v: jnp.sum(onp.sin(v)))(x)"),
    ("onp.sin jit", "import numpy as onp\njax.jit(lambda v: onp.sin(v))(x)"),
    ("onp.sum vmap", f"import numpy as onp\njax.vmap(lambda v: onp.sum(v))({S})"),
    ("onp.float64 grad", "import numpy as onp\njax.grad(lambda v: jnp.sum(v) * onp.float64(v[0]))(x)"),
    ("onp const in loss", "import numpy as onp\nc = onp.linspace(0.0, 1.0, 3)\njax.jit(lambda v: v * onp.sin(c))(x)"),
    ("onp.random const", "import numpy as onp\nrng = onp.random.default_rng(0)\nc = onp.ones(3)\nx * c"),
    ("onp.asarray of result", "import numpy as onp\ny = jnp.sin(x)\nonp.asarray(y) * x"),
    ("onp.pi", "import numpy as onp\njnp.sin(x * onp.pi)"),
    ("onp.ndarray tolist", "import numpy as onp\nx * onp.array([1.0, 2.0, 3.0]).tolist()[1]"),
    ("onp dtype", "import numpy as onp\njnp.asarray(x, dtype=onp.float64) * 2.0"),
    ("onp outside on x", "import numpy as onp\nonp.sin(x)"),
    ("np.sin outside on x", "np.sin(x)"),
    ("numpy as onp + np is jnp", "import numpy as onp\nimport jax.numpy as np\nnp.sin(x) * onp.ones(3)"),
    ("grad np is jnp", "import jax.numpy as np\njax.grad(lambda v: np.sum(np.sin(v)))(x)"),
    # 9. more of the same families (added after the first fixes)
    ("ravel_pytree in grad", P + "from jax.flatten_util import ravel_pytree\nflat, unravel = ravel_pytree(params)\ndef loss(f):\n    p = unravel(f)\n    return jnp.sum(jnp.tanh(p['W'].T @ p['b']) ** 2)\njax.grad(loss)(flat)"),
    ("ravel_pytree of grad", P + "from jax.flatten_util import ravel_pytree\ng = jax.grad(lambda p: jnp.sum(p['W'] ** 3) + jnp.sum(p['b'] ** 2))(params)\nravel_pytree(g)[0]"),
    ("ravel_pytree hessian", "from jax.flatten_util import ravel_pytree\nflat, unravel = ravel_pytree({'a': x[:2], 'b': x[2]})\njax.hessian(lambda f: jnp.sum(unravel(f)['a'] ** 2) * unravel(f)['b'] ** 2)(flat)[0]"),
    ("ravel_pytree newton step", "from jax.flatten_util import ravel_pytree\nflat, unravel = ravel_pytree([x[:2], x[2]])\ndef loss(f):\n    a, b = unravel(f)\n    return jnp.sum(a ** 4) + b ** 4 + jnp.sum(a) * b\nH = jax.hessian(loss)(flat)\ng = jax.grad(loss)(flat)\nflat - jnp.linalg.solve(H, g)"),
    ("unravel wrong length", "from jax.flatten_util import ravel_pytree\nflat, unravel = ravel_pytree([x, x])\nunravel(jnp.ones(5))[0]"),
    ("partial vmap in_axes", MLP + "jax.vmap(partial(mlp, params), in_axes=0)(jnp.stack([x, -x]))"),
    ("partial grad", "def f(a, b, c):\n    return jnp.sum(a * b * c)\njax.grad(partial(f, c=2.0))(x, x ** 2)"),
    ("partial positional then keyword", "def f(a, b, scale=1.0):\n    return a * b * scale\ng = partial(f, x, scale=3.0)\ng(x ** 2)"),
    ("partial of jnp in tree_map", P + "jax.tree_util.tree_map(partial(jnp.clip, min=-1.0, max=1.0), params)['b']"),
    ("functools.partial", "import functools\nfunctools.partial(jnp.power, x)(3.0)"),
    ("stop_gradient tree jac", "a, b = jax.lax.stop_gradient((x, x * 2.0))\na * b + x"),
    ("stop_gradient list in loss", P + "def loss(p):\n    target = jax.lax.stop_gradient(p)\n    return jnp.sum((p['b'] - 2.0 * target['b']) ** 2)\njax.grad(loss)(params)['b']"),
    ("tree_map jnp.zeros_like grad", P + "def loss(p):\n    z = jax.tree_util.tree_map(jnp.zeros_like, p)\n    return jnp.sum(p['b'] + z['b']) ** 2\njax.grad(loss)(params)['b']"),
    ("tree_map np.zeros_like grad", P + "def loss(p):\n    z = jax.tree_util.tree_map(np.zeros_like, p)\n    return jnp.sum(p['b'] + z['b']) ** 2\njax.grad(loss)(params)['b']"),
    ("tree_map np.sin jit", P + "jax.jit(lambda p: jax.tree_util.tree_map(np.sin, p))(params)['b']"),
    ("tree_map jnp.sin jit", P + "jax.jit(lambda p: jax.tree_util.tree_map(jnp.sin, p))(params)['b']"),
    ("tree.map lax.mul", P + "jax.tree.map(lax.mul, params, params)['W']"),
    ("tree.reduce jnp.maximum", "jax.tree.reduce(jnp.maximum, [x, -x, x * 0.5])"),
    ("vmap np.sin value", f"jax.vmap(np.sin)({S})"),
    ("grad np.sin value", "jax.grad(lambda s: np.sin(s))(x[0]) * x"),
    ("adam scan", P + "def loss(p):\n    return jnp.sum(jnp.sin(p['W'])) + jnp.sum(p['b'] ** 2)\ndef step(state, _):\n    p, m, v = state\n    g = jax.grad(loss)(p)\n    m = jax.tree.map(lambda m, g: 0.9 * m + 0.1 * g, m, g)\n    v = jax.tree.map(lambda v, g: 0.99 * v + 0.01 * g * g, v, g)\n    p = jax.tree.map(lambda p, m, v: p - 0.01 * m / (jnp.sqrt(v) + 1e-8), p, m, v)\n    return (p, m, v), loss(p)\nz = jax.tree.map(jnp.zeros_like, params)\n(p, m, v), losses = lax.scan(step, (params, z, z), None, length=3)\np['b']"),
    ("scan dict xs", "def step(c, xs):\n    return c + xs['a'] * xs['b'], c\nc, ys = lax.scan(step, 0.0, {'a': x, 'b': x ** 2})\nys * c"),
    ("cond dict operand", "lax.cond(x[0] > 0, lambda d: d['a'] * 2.0, lambda d: d['a'] - 1.0, {'a': x})"),
    ("vmap dict params in_axes None", P + f"jax.vmap(lambda p, v: p['W'].T @ v + jnp.sum(p['b']), in_axes=(None, 0))(params, {S})"),
    ("value_and_grad dict", P + "l, g = jax.value_and_grad(lambda p: jnp.sum(p['W'] ** 2) * jnp.sum(p['b']))(params)\ng['W'] * l"),
    ("jacrev list", "jax.jacrev(lambda p: p[0] * p[1])([x, x ** 2])[1]"),
    ("one_hot num_classes", "jax.nn.one_hot(jnp.array([2, 0]), num_classes=3) @ x"),
    ("take_along_axis -1", f"jnp.take_along_axis({S}, jnp.argsort({S}, axis=-1), axis=-1)"),
    ("interp left right", "jnp.interp(x, jnp.array([0.0, 1.0, 2.0]), jnp.array([0.0, 1.0, 4.0]), left=-1.0, right=9.0)"),
    ("searchsorted right", "x * jnp.searchsorted(jnp.array([0.0, 1.0, 2.0]), 1.0, side='right')"),
    ("piecewise scalar", "jnp.piecewise(x, [x < 0], [lambda v: v ** 3, lambda v: jnp.sin(v)])"),
    ("fori dict carry int", "out = lax.fori_loop(0, 3, lambda i, c: {'v': c['v'] * 1.1 + i, 'n': c['n'] + 1}, {'v': x, 'n': 0})\nout['v'] * out['n']"),
    ("associative_scan linear recurrence", "a = jnp.array([0.5, 0.9, 0.8])\ndef comb(l, r):\n    return (l[0] * r[0], l[1] * r[0] + r[1])\nlax.associative_scan(comb, (a, x))[1]"),
    ("associative_scan axis", f"lax.associative_scan(jnp.add, {S}, axis=1)"),
    ("lax.map pytree", "lax.map(lambda d: d['a'] * d['b'], {'a': jnp.stack([x, x]), 'b': jnp.stack([x, 2.0 * x])})"),
    ("checkpoint static_argnums", "jax.checkpoint(lambda v, n: v[:n] ** 2, static_argnums=(1,))(x, 2)"),
    ("custom_vjp pytree", "@jax.custom_vjp\ndef f(d):\n    return d['a'] * d['b']\ndef fwd(d):\n    return f(d), d\ndef bwd(d, g):\n    return ({'a': g * d['b'], 'b': g * d['a']},)\nf.defvjp(fwd, bwd)\nf({'a': x, 'b': x ** 2})"),
    ("custom_jvp nondiff_argnums", "@partial(jax.custom_jvp, nondiff_argnums=(1,))\ndef f(v, n):\n    return v ** n\n@f.defjvp\ndef f_jvp(n, primals, tangents):\n    v, = primals\n    t, = tangents\n    return v ** n, n * v ** (n - 1) * t\nf(x, 3)"),
    ("jit where one arg", "jax.jit(lambda v: v * jnp.where(v > 0)[0].shape[0])(x)"),
    ("jit nonzero size", "jax.jit(lambda v: v[jnp.nonzero(v > 0, size=2)[0]])(x)"),
    ("grad np.add.reduceat", "jax.grad(lambda v: jnp.sum(np.add.reduceat(v, [0, 1])))(x)"),
    ("jit np.multiply.reduce", "jax.jit(lambda v: v * np.multiply.reduce(v))(x)"),
    ("jit jnp.multiply.reduce", "jax.jit(lambda v: v * jnp.multiply.reduce(v))(x)"),
    ("np.multiply.outer of jnp const", "np.multiply.outer(jnp.ones(2), jnp.ones(3)) @ x"),
    ("grad scipy.linalg.det", "import scipy.linalg\njax.grad(lambda v: scipy.linalg.det(jnp.diag(v)))(x)"),
    ("vmap scipy.stats.norm.pdf", f"import scipy.stats\njax.vmap(lambda v: scipy.stats.norm.pdf(v))({S})"),
    ("jit scipy.special.softmax", "import scipy.special\njax.jit(lambda v: scipy.special.softmax(v))(x)"),
    ("grad jax.scipy.stats.norm.logpdf", "import jax.scipy.stats\njax.grad(lambda v: jnp.sum(jax.scipy.stats.norm.logpdf(v)))(x)"),
    ("scipy.special on const then grad", "import scipy.special\nc = scipy.special.gammaln(np.array([1.5, 2.5, 3.5]))\njax.grad(lambda v: jnp.sum(v * c))(x)"),
    ("jnp.clip a_min in jit", "jax.jit(lambda v: jnp.clip(v, a_min=0.0))(x)"),
    ("np.clip a_min outside", "np.clip(x, a_min=0.0, a_max=2.0)"),
]


# at a kink (hard_tanh at ±1, sparse_sigmoid's clip at its bound) jac takes PyTorch's choice for the jnp. and jax.nn.
# spellings too (docs/expressions.md, tests/test_kinks.py) where JAX's differ; at a NaN of an element-wise op's
# partial jac's Jacobian is the exact diagonal one, where JAX's reverse pass multiplies 0 by NaN off the diagonal:
# both documented conventions, counted apart (their off-kink twins are compared as any case)
CONVENTIONS = {"nn.hard_tanh", "nn.sparse_sigmoid", "nan_to_num nan=", "partial of jnp in tree_map"}


def _last(text: str):
    import ast
    tree = ast.parse(text)
    body = ast.Module(body=tree.body[:-1], type_ignores=[])
    return compile(body, "<case>", "exec"), compile(ast.Expression(tree.body[-1].value), "<case>", "eval")


def run_jax() -> dict:
    import jax
    import numpy as np
    jax.config.update("jax_enable_x64", True)
    out = {}
    for name, text in CASES:
        body, last = _last(HEAD + text)

        def f(x):
            scope = {"x": x}
            exec(body, scope)
            return eval(last, scope)
        try:
            value = f(jax.numpy.asarray(X))
            value = np.asarray(value, dtype=float)
        except Exception as err:  # noqa: BLE001 - JAX's exception class is what is recorded
            out[name] = {"error": type(err).__name__, "message": str(err).splitlines()[0][:200] if str(err) else ""}
            continue
        try:
            jac = np.asarray(jax.jacrev(f)(jax.numpy.asarray(X))).tolist()
        except Exception:  # noqa: BLE001 - a value without a reverse derivative: compare values only
            jac = None
        out[name] = {"value": value.tolist(), "jacobian": jac}
    return out


def run_jac() -> dict:
    import numpy as np
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api
    out = {}
    for name, text in CASES:
        code, x = HEAD + text, {"x": np.array(X)}
        try:
            value = np.asarray(api.evaluate(code, x), dtype=float)
        except JacError as err:
            out[name] = {"error": type(err).__name__, "message": str(err)}
            continue
        except Exception as err:  # noqa: BLE001 - a crash is what the probe looks for
            out[name] = {"error": "CRASH", "message": f"{type(err).__name__}: {err}"}
            continue
        try:
            jac = np.asarray(api.jacobian(code, x)["x"]).tolist()
        except Exception as err:  # noqa: BLE001
            jac = f"{type(err).__name__}: {err}"
        out[name] = {"value": value.tolist(), "jacobian": jac}
    return out


def _named(jax_error: str, message: str) -> bool:
    """Whether jac's message names JAX's exception class as a word (ConcretizationTypeError does not name TypeError)."""
    import re
    return re.search(rf"(?<![A-Za-z]){re.escape(jax_error)}(?![A-Za-z])", message) is not None


def classify(ours: dict, theirs: dict) -> str:
    import numpy as np
    if "error" in theirs:
        if "error" not in ours:
            return "JAC-ANSWERS-WHERE-LIB-RAISES"
        return "REFUSED-AS-LIB" if _named(theirs["error"], ours["message"]) else "REFUSED-OTHERWISE"
    if "error" in ours:
        return "CRASH" if ours["error"] == "CRASH" else "JAC-REFUSES-WHERE-LIB-ANSWERS"
    same = np.shape(ours["value"]) == np.shape(theirs["value"]) and np.allclose(ours["value"], theirs["value"],
                                                                                 rtol=1e-10, atol=1e-12, equal_nan=True)
    if same and theirs["jacobian"] is not None:
        if isinstance(ours["jacobian"], str):  # a value jac answers but whose Jacobian it does not
            return "JAC-REFUSES-WHERE-LIB-ANSWERS"
        same = np.shape(ours["jacobian"]) == np.shape(theirs["jacobian"]) and np.allclose(
            ours["jacobian"], theirs["jacobian"], rtol=1e-10, atol=1e-12, equal_nan=True)
    return "AGREE" if same else "WRONG"


def main() -> None:
    if "--jax" in sys.argv:
        print(json.dumps(run_jax()))
        return
    if "--jac" in sys.argv:
        print(json.dumps(run_jac()))
        return
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = sys.argv[sys.argv.index("--jac-path") + 1] if "--jac-path" in sys.argv else here
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
    env = {**os.environ, "PYTHONPATH": path, "JAX_PLATFORMS": "cpu"}
    theirs = json.loads(subprocess.run([sys.executable, __file__, "--jax"], capture_output=True,
                                       text=True, check=True, env=env).stdout)
    ours = json.loads(subprocess.run([sys.executable, __file__, "--jac"], capture_output=True, text=True,
                                     check=True, env=env).stdout)
    counts = {}
    for name, _ in CASES:
        verdict = classify(ours[name], theirs[name])
        if verdict == "WRONG" and name in CONVENTIONS:
            verdict = "DIFFERS-BY-DOCUMENTED-CONVENTION"
        counts[verdict] = counts.get(verdict, 0) + 1
        if only and verdict != only:
            continue
        jax_said = theirs[name].get("error", "answers") + " " + theirs[name].get("message", "")[:80]
        jac_said = ours[name].get("message", "answers")[:160]
        print(f"{verdict:30s} {name:34s}\n    JAX: {jax_said}\n    jac: {jac_said}")
    print(f"\n{len(CASES)} cases: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
