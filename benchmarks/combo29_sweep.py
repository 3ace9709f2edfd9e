"""Combinations of what sessions 24-28 taught jac to read, each text run by jac and by the library itself: the
derivatives written in the text (jax.grad, torch.func, torch.autograd.grad, vjp / jvp / linearize), vmap and JAX's
loops, dicts and pytrees, custom derivative rules, modules called through functional_call, layers with parameters
(RNNs under vmap), closures capturing inputs, .at[] forms and in-place writes after views inside functions,
jax.scipy.special under transforms, nested transforms (grad of grad, jacfwd of jacrev), at edges (ties, zeros,
+-inf, 0-d, empty batches).

    PYTHONPATH=. /work/benchvenv/bin/python benchmarks/combo29_sweep.py [jax | torch] [--extra] [-k SUBSTRING] [-v]

Each TEMPLATE of a library is filled with each inner function of INNER (``F``) and run on each input set of its
kind (VEC, MAT, SCALAR, SEQ), after the single texts of EXTRA (``--extra``: those alone); the library's value and
``jax.jacrev`` / ``torch.autograd.functional.jacobian`` of the text as a function of its inputs (a layer's
parameters set to jac's draws, ``Compiled.declared``) against jac's value and Jacobian by every input. Outcomes:

- AGREE: value and every Jacobian within |jac - ref| <= 1e-9 |ref| + 1e-11 max|ref| (NaN and inf where the
  library has them);
- DIFFER: a value, or a Jacobian entry the library gives as a number, differs (WRONG: a silent wrong answer);
- NAN: the values agree and the Jacobians agree wherever both are numbers, one side NaN or inf elsewhere (a
  0 * inf the library's dense backward makes, or jac's; triaged by hand against central differences);
- REFUSED: the library answers, jac refuses (a JacError); BOTH: both refuse; ANSWERED: the library raises and jac
  answers (looked at by hand: jac may read what the library cannot, as an old-style autograd.Function under vmap);
- KNOWN: a difference triaged by hand, the library's own or a documented choice of jac's (``known``);
- CRASH: jac raised something other than a JacError.

The library's vmap of a recurrent layer (no batching rule in PyTorch 2.13) is run as a loop over the rows; JAX's
while_loop (no reverse mode) is differentiated by jax.jacfwd.
"""
from __future__ import annotations

import ast
import sys
import time
from collections import Counter

import numpy as np

rng0 = np.random.default_rng(29)
N3 = rng0.uniform(0.2, 0.9, 3)
# the input sets: name -> {input: array}; each template names the kind of input sets it takes
VEC = {"rand": N3, "ties": np.array([0.5, 0.5, 0.5]), "zeros": np.zeros(3), "signs": np.array([-1.0, 0.0, 2.0]),
       "inf": np.array([np.inf, 0.5, -np.inf]),
       "tiny": np.array([1e-300, -1e-305, 1e-20])}  # no subnormal results: XLA on CPU flushes them to 0
W3 = rng0.uniform(-1, 1, 3)
MAT = {"rand": rng0.uniform(-1, 1, (4, 3)), "ties": np.full((4, 3), 0.25), "zeros": np.zeros((4, 3)),
       "empty": np.zeros((0, 3)), "one": rng0.uniform(-1, 1, (1, 3))}
SCALAR = {"rand": np.array(0.7), "zero": np.array(0.0), "neg": np.array(-1.3), "inf": np.array(np.inf)}

INNER = {
    "jax": ["jnp.sin({})", "jnp.tanh({}) * {}", "jnp.maximum({}, 0.0)", "jnp.abs({})", "{} ** 2",
            "jnp.sqrt(jnp.abs({}) + 1.0)", "jax.nn.relu({})", "jnp.exp(-{})"],
    "torch": ["torch.sin({})", "torch.tanh({}) * {}", "torch.clamp({}, min=0.0)", "torch.abs({})", "{} ** 2",
              "torch.sqrt(torch.abs({}) + 1.0)", "torch.relu({})", "torch.exp(-{})"],
}

JAX_HEAD = "import jax\nimport jax.numpy as jnp\nfrom jax import lax\nfrom functools import partial\n"
# (template, input kinds: {input: VEC | MAT | SCALAR | W}) ; F(...) is the inner function
JAX_TEMPLATES = [
    # grad of a function using vmap; vmap of grad; closures capturing inputs
    ("jax.grad(lambda w: jnp.sum(jax.vmap(lambda r: F(r @ w))(X)))(w)", {"X": "MAT", "w": "W"}),
    ("jax.vmap(jax.grad(lambda r: jnp.sum(F(r) * w)))(X)", {"X": "MAT", "w": "W"}),
    ("def f(r):\n    return F(r * w)\njax.vmap(jax.jacrev(f))(X)", {"X": "MAT", "w": "W"}),
    ("def f(v):\n    return F(v * w)\njax.jacrev(f)(x)", {"x": "VEC", "w": "W"}),
    ("g = jax.grad(lambda v: jnp.sum(F(v)) * jnp.sum(w * v))\ng(x) + g(2.0 * x)", {"x": "VEC", "w": "W"}),
    ("jax.jacrev(jax.vmap(lambda r: jnp.sum(F(r))))(X)", {"X": "MAT"}),
    ("jax.vmap(lambda r: jax.grad(lambda s: jnp.sum(F(s * r)))(w))(X)", {"X": "MAT", "w": "W"}),
    # scan / fori_loop / while_loop with .at[] inside
    ("def step(c, r):\n    c = c.at[0].add(jnp.sum(F(r)))\n    return c, jnp.sum(c)\nc, ys = lax.scan(step, w, X)\n"
     "c * jnp.sum(ys)", {"X": "MAT", "w": "W"}),
    ("def step(c, r):\n    c = c.at[1:].multiply(F(r[:2]))\n    return c, c[0]\nc, ys = jax.lax.scan(step, w, X)\nc",
     {"X": "MAT", "w": "W"}),
    ("lax.fori_loop(0, 3, lambda i, v: v.at[i].set(jnp.sum(F(v))), x)", {"x": "VEC"}),
    ("jax.lax.fori_loop(0, 2, lambda i, v: v.at[jnp.array([0, 0, 2])].add(F(v)), x)", {"x": "VEC"}),
    ("jax.lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, F(c[1]) * w), (0, x))[1]", {"x": "VEC", "w": "W"}),
    ("jax.grad(lambda v: jnp.sum(lax.fori_loop(0, 3, lambda i, u: F(u) * v, v)))(x)", {"x": "VEC"}),
    ("c, ys = lax.scan(lambda c, r: (c + jax.vmap(lambda t: F(t))(r), c * 2.0), w, X)\nys", {"X": "MAT", "w": "W"}),
    ("jax.grad(lambda v: jnp.sum(lax.scan(lambda c, r: (F(c) * r, c), v, X)[0]))(w)", {"X": "MAT", "w": "W"}),
    # .at[] under grad / hessian, ties
    ("jax.grad(lambda v: jnp.sum(F(v.at[1].multiply(v[0]))))(x)", {"x": "VEC"}),
    ("jax.hessian(lambda v: jnp.sum(F(v.at[0].add(v[2] * v[1]))))(x)", {"x": "VEC"}),
    ("jax.grad(lambda v: jnp.sum(jnp.zeros(2).at[jnp.array([0, 0, 1])].max(F(v))))(x)", {"x": "VEC"}),
    ("jax.grad(lambda v: jnp.sum(jnp.ones(2).at[jnp.array([1, 0, 1])].min(F(v))))(x)", {"x": "VEC"}),
    ("jax.jacrev(lambda v: v.at[jnp.array([2, 0])].get() * F(v)[0])(x)", {"x": "VEC"}),
    # custom rules inside transforms
    ("@jax.custom_vjp\ndef h(v):\n    return F(v)\ndef h_fwd(v):\n    return F(v), v\ndef h_bwd(r, g):\n"
     "    return (g * 2.0 * r,)\nh.defvjp(h_fwd, h_bwd)\njax.vmap(lambda r: jnp.sum(h(r) * w))(X)",
     {"X": "MAT", "w": "W"}),
    ("@jax.custom_vjp\ndef h(v):\n    return F(v)\ndef h_fwd(v):\n    return F(v), v\ndef h_bwd(r, g):\n"
     "    return (g * jnp.cos(r),)\nh.defvjp(h_fwd, h_bwd)\njax.vmap(jax.grad(lambda r: jnp.sum(h(r))))(X)",
     {"X": "MAT"}),
    ("@jax.custom_jvp\ndef h(v):\n    return F(v)\n@h.defjvp\ndef h_jvp(p, t):\n    v, = p\n    dv, = t\n"
     "    return h(v), 3.0 * dv\njax.grad(lambda v: jnp.sum(h(v) * v))(x)", {"x": "VEC"}),
    ("@jax.custom_jvp\ndef h(v):\n    return F(v)\n@h.defjvp\ndef h_jvp(p, t):\n    v, = p\n    dv, = t\n"
     "    return h(v), jnp.cos(v) * dv\njax.vmap(h)(X)", {"X": "MAT"}),
    # dicts and pytrees under transforms
    ("J = jax.jacrev(lambda v: {'a': F(v), 'b': jnp.sum(v) * v})(x)\nJ['a'] + J['b']", {"x": "VEC"}),
    ("g = jax.grad(lambda p: jnp.sum(F(p['w'] * p['b'][0])))({'w': x, 'b': (w, 1.0)})\ng['w'] + g['b'][0]",
     {"x": "VEC", "w": "W"}),
    ("jax.vmap(lambda p: F(p['u']) * p['v'], in_axes=({'u': 0, 'v': None},))({'u': X, 'v': w})",
     {"X": "MAT", "w": "W"}),
    ("g = jax.grad(lambda p: jnp.sum(F(p[0] * p[1])))([x, w])\ng[0] * g[1]", {"x": "VEC", "w": "W"}),
    ("t = jax.tree_util.tree_map(lambda a: F(a), {'p': x, 'q': w})\nt['p'] - t['q']", {"x": "VEC", "w": "W"}),
    ("(v, aux), g = jax.value_and_grad(lambda u: (jnp.sum(F(u)), u * 2.0), has_aux=True)(x)\ng * v + aux",
     {"x": "VEC"}),
    # nested transforms
    ("jax.grad(jax.grad(lambda s: jnp.sum(F(s)) * s))(s)", {"s": "SCALAR"}),
    ("jax.jacfwd(jax.jacrev(lambda v: jnp.sum(F(v)) * jnp.sum(v)))(x)", {"x": "VEC"}),
    ("jax.jacrev(jax.jacfwd(lambda v: F(v) * v[0]))(x)", {"x": "VEC"}),
    ("jax.hessian(lambda v: jnp.sum(F(v) * w))(x)", {"x": "VEC", "w": "W"}),
    ("jax.grad(lambda v: jnp.sum(jax.grad(lambda u: jnp.sum(F(u) * v))(v)))(x)", {"x": "VEC"}),
    # vjp / jvp / linearize in the text
    ("jax.vmap(lambda r: jax.vjp(lambda t: F(t), r)[1](w)[0])(X)", {"X": "MAT", "w": "W"}),
    ("jax.jvp(lambda v: F(v) * jnp.sum(v), (x,), (w,))[1]", {"x": "VEC", "w": "W"}),
    ("y, f_jvp = jax.linearize(lambda v: F(v), x)\nf_jvp(w) * y", {"x": "VEC", "w": "W"}),
    ("y, back = jax.vjp(lambda v: F(v) * v, x)\nback(w)[0] + y", {"x": "VEC", "w": "W"}),
    # scipy.special and jax.nn inside transforms
    ("jax.grad(lambda v: jnp.sum(jax.scipy.special.gammaln(jnp.abs(v) + 0.5) * F(v)))(x)", {"x": "VEC"}),
    ("jax.vmap(jax.grad(lambda r: jax.scipy.special.logsumexp(F(r))))(X)", {"X": "MAT"}),
    ("jax.grad(lambda v: jnp.sum(jax.scipy.special.erf(F(v)) + jax.scipy.special.xlogy(v, jnp.abs(v) + 1.0)))(x)",
     {"x": "VEC"}),
    ("jax.jacrev(lambda v: jax.nn.softmax(F(v)))(x)", {"x": "VEC"}),
    ("jax.grad(lambda v: jnp.sum(jax.nn.log_softmax(F(v)) * w))(x)", {"x": "VEC", "w": "W"}),
    # reductions with ties and zeros under grad
    ("jax.grad(lambda v: jnp.max(F(v)))(x)", {"x": "VEC"}),
    ("jax.grad(lambda v: jnp.prod(F(v) + v))(x)", {"x": "VEC"}),
    ("jax.jacrev(lambda v: jnp.sort(F(v)))(x)", {"x": "VEC"}),
    ("jax.grad(lambda v: jnp.linalg.norm(F(v)))(x)", {"x": "VEC"}),
    ("jax.vmap(lambda r: jnp.max(F(r)) - jnp.min(r))(X)", {"X": "MAT"}),
    ("jax.grad(lambda v: jnp.sum(jnp.where(v > 0, F(v), 0.0)))(x)", {"x": "VEC"}),
    ("jax.vmap(jax.grad(lambda r: jnp.median(F(r))))(X)", {"X": "MAT"}),
    ("jax.grad(lambda v: jnp.sum(jnp.cumsum(F(v)) * jnp.cumprod(v)))(x)", {"x": "VEC"}),
]

TORCH_HEAD = "import torch\nimport torch.nn as nn\n"
TORCH_TEMPLATES = [
    # torch.func of modules through functional_call
    ("lin = nn.Linear(3, 2)\ndef loss(p, v):\n    return F(torch.func.functional_call(lin, p, (v,))).sum()\n"
     "torch.func.grad(loss)({'weight': A, 'bias': b}, x)['weight']", {"x": "VEC", "A": "A23", "b": "B2"}),
    ("lin = nn.Linear(3, 2)\ndef loss(p, v):\n    return F(torch.func.functional_call(lin, p, (v,))).sum()\n"
     "torch.func.grad(loss, argnums=1)({'weight': A, 'bias': b}, x)", {"x": "VEC", "A": "A23", "b": "B2"}),
    ("lin = nn.Linear(3, 2)\np = dict(lin.named_parameters())\ntorch.func.vmap(lambda r: F(torch.func.functional_call("
     "lin, p, (r,))))(X)", {"X": "MAT"}),
    ("net = nn.Sequential(nn.Linear(3, 2), nn.Tanh())\ndef f(p, v):\n"
     "    return F(torch.func.functional_call(net, p, v)).sum()\n"
     "params = {k: v.detach() for k, v in net.named_parameters()}\n"
     "torch.func.vmap(torch.func.grad(f), in_dims=(None, 0))"
     "(params, X)['0.bias']", {"X": "MAT"}),
    ("lin = nn.Linear(3, 3)\ntorch.func.jacrev(lambda v: F(lin(v)))(x)", {"x": "VEC"}),
    ("lin = nn.Linear(3, 3)\ntorch.func.hessian(lambda v: F(lin(v)).sum())(x)", {"x": "VEC"}),
    # RNN layers inside vmap
    ("rnn = nn.RNN(3, 2)\ntorch.func.vmap(lambda s: F(rnn(s)[0]))(X3)", {"X3": "SEQ"}),
    ("gru = nn.GRU(3, 2)\ntorch.func.vmap(lambda s: F(gru(s)[1]))(X3)", {"X3": "SEQ"}),
    ("lstm = nn.LSTM(3, 2)\ntorch.func.vmap(lambda s: F(lstm(s)[1][1]))(X3)", {"X3": "SEQ"}),
    ("cell = nn.RNNCell(3, 2)\ntorch.func.vmap(lambda r: F(cell(r)))(X)", {"X": "MAT"}),
    ("rnn = nn.RNN(3, 2, batch_first=True)\ntorch.func.grad(lambda s: F(rnn(s)[0]).sum())(X3)", {"X3": "SEQ"}),
    # closures, grad in the text
    ("def f(v):\n    return F(v * w)\ntorch.func.jacrev(f)(x)", {"x": "VEC", "w": "W"}),
    ("torch.func.vmap(torch.func.grad(lambda r: (F(r) * w).sum()))(X)", {"X": "MAT", "w": "W"}),
    ("torch.func.grad(lambda w: F(torch.func.vmap(lambda r: r @ w)(X)).sum())(w)", {"X": "MAT", "w": "W"}),
    ("torch.func.jacrev(torch.func.vmap(lambda r: F(r).sum()))(X)", {"X": "MAT"}),
    ("y = F(x).sum()\ng, = torch.autograd.grad(y, x, create_graph=True)\ng * x", {"x": "VEC"}),
    ("y = (F(x) * w).sum()\ng = torch.autograd.grad(y, [x, w], create_graph=True)\ng[0] + g[1]",
     {"x": "VEC", "w": "W"}),
    ("g, v = torch.func.grad_and_value(lambda u: F(u).sum())(x)\ng * v", {"x": "VEC"}),
    ("g, aux = torch.func.grad(lambda u: (F(u).sum(), u * 2), has_aux=True)(x)\ng + aux", {"x": "VEC"}),
    ("g = torch.func.grad(lambda a, b: (F(a) * b).sum(), argnums=(0, 1))(x, w)\ng[0] - g[1]", {"x": "VEC", "w": "W"}),
    # nested transforms
    ("torch.func.grad(torch.func.grad(lambda s: F(s) * s))(s)", {"s": "SCALAR"}),
    ("torch.func.jacfwd(torch.func.jacrev(lambda v: F(v).sum() * v.sum()))(x)", {"x": "VEC"}),
    ("torch.func.jacrev(torch.func.jacfwd(lambda v: F(v) * v[0]))(x)", {"x": "VEC"}),
    ("torch.func.hessian(lambda v: (F(v) * w).sum())(x)", {"x": "VEC", "w": "W"}),
    ("torch.func.vmap(torch.func.jacrev(lambda r: F(r) * r.sum()))(X)", {"X": "MAT"}),
    # vjp / jvp / linearize
    ("y, back = torch.func.vjp(lambda v: F(v) * v, x)\nback(w)[0] + y", {"x": "VEC", "w": "W"}),
    ("torch.func.jvp(lambda v: F(v) * v.sum(), (x,), (w,))[1]", {"x": "VEC", "w": "W"}),
    ("y, f_jvp = torch.func.linearize(lambda v: F(v), x)\nf_jvp(w) * y", {"x": "VEC", "w": "W"}),
    ("torch.func.vmap(lambda r: torch.func.vjp(lambda t: F(t), r)[1](w)[0])(X)", {"X": "MAT", "w": "W"}),
    # in-place writes after views inside functions
    ("def f(v):\n    y = v.clone()\n    z = y[1:]\n    z.mul_(2.0)\n    return F(y) * v\ntorch.func.jacrev(f)(x)",
     {"x": "VEC"}),
    ("def f(v):\n    y = v.clone()\n    y[0] = F(v)[2]\n    return y * v\ntorch.func.vmap(f)(X)", {"X": "MAT"}),
    ("def f(v):\n    y = torch.zeros(2, 3)\n    r = y[1]\n    r += F(v)\n    return y.sum(0) * v\n"
     "torch.func.grad(lambda u: f(u).sum())(x)",
     {"x": "VEC"}),
    ("def f(v):\n    y = v.clone()\n    t = y.T\n    t[0] = F(v[0])\n    return y\ntorch.func.vmap(f)(X2)",
     {"X2": "MAT2"}),
    ("def f(v):\n    y = v.clone()\n    y.view(3)[1:].add_(F(v)[:2])\n    return y ** 2\ntorch.func.jacrev(f)(x)",
     {"x": "VEC"}),
    ("y = x.clone()\nz = y[:2]\nz *= F(w)[:2]\ntorch.func.grad(lambda u: (y * u).sum())(w)", {"x": "VEC", "w": "W"}),
    # custom autograd.Function inside transforms
    ("class G(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, v):\n"
     "        ctx.save_for_backward(v)\n"
     "        return F(v)\n    @staticmethod\n    def backward(ctx, g):\n        v, = ctx.saved_tensors\n"
     "        return g * 2.0 * v\nG.apply(x) * w", {"x": "VEC", "w": "W"}),
    ("class G(torch.autograd.Function):\n    @staticmethod\n    def forward(v):\n        return F(v)\n"
     "    @staticmethod\n"
     "    def setup_context(ctx, inputs, output):\n        ctx.save_for_backward(inputs[0])\n    @staticmethod\n"
     "    def backward(ctx, g):\n        v, = ctx.saved_tensors\n        return g * torch.cos(v)\n"
     "torch.func.grad(lambda u: G.apply(u).sum())(x)", {"x": "VEC"}),
    ("class G(torch.autograd.Function):\n    generate_vmap_rule = True\n    @staticmethod\n    def forward(v):\n"
     "        return F(v)\n    @staticmethod\n    def setup_context(ctx, inputs, output):\n"
     "        ctx.save_for_backward(inputs[0])\n    @staticmethod\n    def backward(ctx, g):\n"
     "        v, = ctx.saved_tensors\n        return g * torch.cos(v)\ntorch.func.vmap(lambda r: G.apply(r) * w)(X)",
     {"X": "MAT", "w": "W"}),
    # reductions with ties and zeros under grad
    ("torch.func.grad(lambda v: F(v).max())(x)", {"x": "VEC"}),
    ("torch.func.grad(lambda v: F(v).amax())(x)", {"x": "VEC"}),
    ("torch.func.grad(lambda v: (F(v) + v).prod())(x)", {"x": "VEC"}),
    ("torch.func.jacrev(lambda v: torch.sort(F(v))[0])(x)", {"x": "VEC"}),
    ("torch.func.grad(lambda v: torch.linalg.norm(F(v)))(x)", {"x": "VEC"}),
    ("torch.func.grad(lambda v: torch.where(v > 0, F(v), 0.0).sum())(x)", {"x": "VEC"}),
    ("torch.func.vmap(lambda r: F(r).max() - r.min())(X)", {"X": "MAT"}),
    ("torch.func.grad(lambda v: (torch.cumsum(F(v), 0) * torch.cumprod(v, 0)).sum())(x)", {"x": "VEC"}),
    ("torch.func.vmap(torch.func.grad(lambda r: torch.special.gammaln(r.abs() + 0.5) @ F(r)))(X)", {"X": "MAT"}),
    ("torch.func.grad(lambda v: torch.logsumexp(F(v), 0))(x)", {"x": "VEC"}),
    ("torch.func.grad(lambda v: F(v).median())(x)", {"x": "VEC"}),
    ("torch.func.vmap(lambda r: torch.max(F(r), 0).values * r)(X)", {"X": "MAT"}),
]

SEQ = {"rand": rng0.uniform(-1, 1, (2, 4, 3)), "zeros": np.zeros((2, 4, 3)), "empty": np.zeros((0, 4, 3))}
FIXED = {"W": W3, "A23": rng0.uniform(-1, 1, (2, 3)), "B2": rng0.uniform(-1, 1, 2),
         "MAT2": None}
KINDS = {"VEC": VEC, "MAT": MAT, "SCALAR": SCALAR, "SEQ": SEQ,
         "MAT2": {"rand": rng0.uniform(-1, 1, (4, 3, 3)), "ties": np.full((4, 3, 3), 0.5)}}

_r = np.random.default_rng(2905)
_Q, _K, _V = _r.uniform(-1, 1, (1, 2, 1, 3)), _r.uniform(-1, 1, (1, 3, 1, 3)), _r.uniform(-1, 1, (1, 3, 1, 3))
# single texts: session 28's JAX names under transforms, second derivatives through scans and products at zeros
EXTRA = [
    ("jax", "jax.grad(lambda v: jnp.sum(jax.scipy.special.expi(v) * v))(x)", {"x": N3}),
    ("jax", "jax.grad(lambda v: jnp.sum(jax.scipy.special.exp1(v)))(x)", {"x": N3}),
    ("jax", "jax.grad(lambda v: jnp.sum(jax.scipy.special.dawsn(v) * v))(x)", {"x": N3}),
    ("jax", "jax.grad(lambda q: jnp.sum(jax.nn.dot_product_attention(q, K, V)))(Q)", {"Q": _Q, "K": _K, "V": _V}),
    ("jax", "jax.jacrev(lambda k: jax.nn.dot_product_attention(Q, k, V))(K)", {"Q": _Q, "K": _K, "V": _V}),
    ("jax", "jax.vmap(lambda r: jnp.take(r, jnp.array([2, 0, 2])) * r[0])(X)", {"X": MAT["rand"]}),
    ("jax", "jax.grad(lambda v: jnp.sum(v.at[jnp.array([0, 0])].set(v[1:] * 3.0)))(x)", {"x": N3}),
    ("jax", "jax.hessian(lambda v: jnp.sum(jnp.cumprod(v) ** 2))(x)", {"x": np.array([0.0, 0.5, 0.0])}),
    ("jax", "jax.hessian(lambda v: jnp.sum(jax.lax.cumprod(v, reverse=True) * v))(x)",
     {"x": np.array([0.3, 0.0, 0.0])}),
    ("jax", "jax.grad(lambda v: jnp.sum(jax.lax.associative_scan(jnp.multiply, v) * v))(x)",
     {"x": np.array([0.0, 0.0, 1.0])}),
    ("jax", "jax.hessian(lambda v: jnp.prod(v) * v[0])(x)", {"x": np.array([0.0, 0.0, 1.0])}),
    ("jax", "jax.hessian(lambda v: jnp.sum(jnp.cumsum(v) * jnp.cumprod(v[::-1])))(x)",
     {"x": np.array([0.0, 2.0, 0.0])}),
    ("jax", "jax.hessian(lambda v: jnp.sum(jnp.linalg.norm(v) * v))(x)", {"x": np.array([0.5, 0.5, 0.2])}),
    ("jax", "jax.hessian(lambda v: jax.nn.logsumexp(v * v))(x)", {"x": np.zeros(3)}),
    ("jax", "jax.hessian(lambda v: jnp.sum(jnp.sort(v) * jnp.arange(3.0)))(x)", {"x": np.array([0.3, 0.1, 0.2])}),
    ("jax", "jax.hessian(lambda v: jnp.sum(jnp.convolve(v, v)))(x)", {"x": N3}),
    ("torch", "torch.func.hessian(lambda v: (torch.cumprod(v, 0) ** 2).sum())(x)", {"x": np.array([0.0, 0.5, 0.0])}),
    ("torch", "torch.func.hessian(lambda v: v.prod() * v[0])(x)", {"x": np.array([0.0, 0.0, 1.0])}),
    ("torch", "torch.func.hessian(lambda v: torch.logcumsumexp(v, 0).sum() * v[1])(x)", {"x": N3}),
    ("torch", "torch.func.hessian(lambda v: (torch.cummax(v, 0).values * v).sum())(x)",
     {"x": np.array([0.5, 0.5, 0.2])}),
    ("torch", "torch.func.hessian(lambda v: torch.nn.functional.normalize(v, dim=0)[0])(x)", {"x": N3}),
    ("torch", "torch.func.hessian(lambda v: torch.linalg.vector_norm(v, ord=3))(x)", {"x": np.array([0.0, 0.5, -0.2])}),
    ("torch", "torch.func.hessian(lambda v: torch.special.xlog1py(v, v).sum())(x)", {"x": N3}),
    ("torch", "torch.func.hessian(lambda v: torch.kron(v, v).sum() * v[0])(x)", {"x": N3}),
    ("torch", "torch.func.hessian(lambda v: (torch.cumprod(v.flip(0), 0) * v).sum())(x)",
     {"x": np.array([0.3, 0.0, 0.0])}),
    ("torch", "torch.func.hessian(lambda v: torch.prod(torch.stack([v, v * 2]), 0).sum())(x)",
     {"x": np.array([0.0, 0.5, 0.0])}),
    ("torch", "torch.func.hessian(lambda v: v.median() * v.sum())(x)", {"x": np.array([0.5, 0.5, 0.2])}),
    ("torch", "torch.func.grad(lambda v: v.nanmedian() * v.sum())(x)", {"x": np.array([0.5, np.nan, 0.5])}),
]

def fill(template: str, inner: str) -> str:
    """The template with F(arg) replaced by the inner function of arg (its {} twice where it holds two)."""
    out, i = [], 0
    while True:
        j = template.find("F(", i)
        if j < 0:
            out.append(template[i:])
            return "".join(out)
        depth, k = 0, j + 1
        while True:
            depth += {"(": 1, ")": -1}.get(template[k], 0)
            if depth == 0:
                break
            k += 1
        arg = fill(template[j + 2:k], inner)
        body = inner.replace("{}", f"({arg})" if not arg.isidentifier() else arg)
        out.append(template[i:j] + (body if body.endswith(")") and body[0].isalpha() else f"({body})"))
        i = k + 1


def cases(libraries, extra_only=False):
    """(library, template number, text, edge name, inputs): the templates', then EXTRA's (number -1)."""
    for library, text, inputs in EXTRA:
        if library in libraries:
            yield library, -1, (JAX_HEAD if library == "jax" else TORCH_HEAD) + text, "extra", inputs
    for library in libraries if not extra_only else ():
        head, templates = (JAX_HEAD, JAX_TEMPLATES) if library == "jax" else (TORCH_HEAD, TORCH_TEMPLATES)
        for t, (template, kinds) in enumerate(templates):
            varying = [k for k in kinds.values() if k in KINDS]
            edge_sets = KINDS[varying[0]] if varying else {"rand": None}
            for inner in INNER[library]:
                text = head + fill(template, inner)
                for edge, _ in edge_sets.items():
                    # the edges with one inner function each (the first two), every inner function on "rand"
                    if edge != "rand" and inner not in INNER[library][:3]:
                        continue
                    inputs = {}
                    for name, kind in kinds.items():
                        inputs[name] = KINDS[kind][edge] if kind in KINDS and edge in KINDS[kind] else \
                            KINDS[kind]["rand"] if kind in KINDS else FIXED[kind]
                    yield library, t, text, edge, inputs


def run_library(library: str, text: str, inputs: dict, declared: dict, loop: bool = True):
    """(value, {name: Jacobian}) of the library running ``text`` (a layer's parameters set to ``declared``)."""
    tree = ast.parse(text)
    stmts, last = tree.body[:-1], ast.Expression(tree.body[-1].value)
    names = list(inputs)
    if library == "jax":
        import jax
        import jax.numpy as jnp

        def f(*xs):
            scope = dict(zip(names, xs))
            exec(compile(ast.Module(body=stmts, type_ignores=[]), "<t>", "exec"), scope)  # noqa: S102
            return jnp.asarray(eval(compile(last, "<t>", "eval"), scope), dtype=jnp.float64)  # noqa: S307
        args = [jnp.asarray(inputs[k], dtype=jnp.float64) for k in names]
        try:
            jacs = jax.jacrev(f, argnums=tuple(range(len(names))))(*args)
        except ValueError as err:  # a while_loop / fori_loop of traced bounds: JAX differentiates it forward only
            if "Reverse-mode differentiation does not work" not in str(err):
                raise
            jacs = jax.jacfwd(f, argnums=tuple(range(len(names))))(*args)
        return np.asarray(f(*args)), {k: np.asarray(j) for k, j in zip(names, jacs)}
    import torch

    def t(*xs):
        scope = dict(zip(names, xs))
        done = set()
        for stmt in stmts:
            exec(compile(ast.Module(body=[stmt], type_ignores=[]), "<t>", "exec"), scope)  # noqa: S102
            for name, obj in list(scope.items()):
                if isinstance(obj, torch.nn.Module) and name not in done:
                    done.add(name)
                    with torch.no_grad():
                        for key, p in obj.named_parameters():
                            if f"{name}.{key}" in declared:
                                p.copy_(torch.from_numpy(np.asarray(declared[f"{name}.{key}"])))
        return eval(compile(last, "<t>", "eval"), scope)  # noqa: S307

    args = tuple(torch.tensor(np.asarray(inputs[k], dtype=float), requires_grad=True) for k in names)
    try:
        value = t(*args)
    except RuntimeError as err:  # PyTorch has no batching rule for its recurrent layers: vmap as a loop
        if "Batching rule not implemented" not in str(err) or not loop:
            raise
        vmap = torch.func.vmap
        torch.func.vmap = lambda f: lambda *xs: torch.stack([f(*row) for row in zip(*xs)])
        try:
            return run_library(library, text, inputs, declared, loop=False)
        finally:
            torch.func.vmap = vmap
    jacs = torch.autograd.functional.jacobian(t, args)
    return value.detach().numpy(), {k: j.numpy() for k, j in zip(names, jacs)}


def known(library: str, text: str, edge: str) -> str | None:
    """The differences triaged by hand (benchmarks/RESULTS.md, session 29), each the library's or a documented
    choice of jac's, None for any other."""
    if library == "jax" and edge in ("zeros", "signs") and ("jnp.abs(" in text or "linalg.norm" in text):
        return "abs' at 0: JAX's 1, jac's 0 as PyTorch's (docs/vocabulary-elementwise.md)"
    if library == "jax" and edge == "inf" and "jnp.maximum" in text:
        return "maximum at a NaN argument: JAX sends the cotangent to the other side, jac (as PyTorch) to the NaN"
    if library == "torch" and "torch.func.linearize" in text:
        return "PyTorch's linearize: the pullback's derivative by the primal is wrong (jac's = central differences)"
    if library == "torch" and edge in ("ties", "zeros") and "torch.func.vmap(lambda r: " in text and (
            ".max()" in text or ".median()" in text):
        return ("PyTorch's vmap of x.max() / x.median() at ties gives one element all (x.max() and x.median() alone "
                "share it evenly, as jac's rows)")
    if library == "jax" and "jax.nn.dot_product_attention" in text:
        return "JAX rounds the logits to float32 before its softmax even for float64 (~1e-8; jac's = the formula's)"
    if library == "torch" and "torch.special.gammaln" in text:
        return "PyTorch's trigamma (gammaln's second derivative) is off by ~5e-10 relative (jac's is SciPy's)"
    return None


def compare(ours, theirs, rtol=1e-9):
    """None, "nan" (numbers agree where both are numbers, NaN / inf placement differs), or what differs."""
    ours = np.asarray(ours, dtype=np.float64)
    theirs = np.asarray(theirs, dtype=np.float64)
    if ours.shape != theirs.shape:
        return f"shape {ours.shape} vs {theirs.shape}"
    if ours.size == 0:
        return None
    fo, ft = np.isfinite(ours), np.isfinite(theirs)
    both = fo & ft
    o, t = ours[both], theirs[both]
    if o.size:
        scale = max(1.0, float(np.abs(t).max()))
        bad = np.abs(o - t) > rtol * np.abs(t) + rtol / 100 * scale
        if bad.any():
            i = int(np.argmax(bad))
            return f"max |diff| {np.abs(o - t).max():.3g} (e.g. jac {o[i]!r} vs ref {t[i]!r})"
    same = (ours[~both] == theirs[~both]) | (np.isnan(ours[~both]) & np.isnan(theirs[~both]))
    if not same.all():
        return "nan"
    return None


def judge(library, text, inputs, edge="rand"):
    """(outcome, detail) of one text."""
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api
    declared, jac_err = {}, None
    try:
        compiled = api.compile(text, {k: np.asarray(v, dtype=float) for k, v in inputs.items()})
        declared = dict(compiled.declared or {})
        value = api.evaluate(text, inputs)
        jacs = api.jacobian(text, inputs, wrt=list(inputs))
    except JacError as err:
        jac_err = str(err).split("\n")[0][:120]
    except Exception as err:  # noqa: BLE001 - what the sweep looks for
        return "CRASH", f"{type(err).__name__}: {err}"
    try:
        ref = run_library(library, text, inputs, declared)
    except Exception as err:  # noqa: BLE001 - the library refuses the text
        return ("BOTH", jac_err) if jac_err else ("ANSWERED", f"{type(err).__name__}: {str(err)[:150]}")
    if jac_err:
        return "REFUSED", jac_err
    found = compare(value, ref[0])
    wrong = f"value: {found}" if found and found != "nan" else None
    nan = found == "nan"
    for k in inputs:
        d = compare(jacs[k], ref[1][k])
        if d and d != "nan" and not wrong:
            wrong = f"d/d{k}: {d}"
        nan |= d == "nan"
    if wrong:
        reason = known(library, text, edge)
        return ("KNOWN", f"{reason} ({wrong})") if reason else ("WRONG", wrong)
    return ("NAN", "") if nan else ("AGREE", "")


def main(argv):
    libraries = [a for a in argv if a in ("jax", "torch")] or ["jax", "torch"]
    only = argv[argv.index("-k") + 1] if "-k" in argv else None
    verbose = "-v" in argv
    import jax
    jax.config.update("jax_enable_x64", True)
    import torch
    torch.set_default_dtype(torch.float64)
    import warnings
    warnings.filterwarnings("ignore")
    counts, refused = Counter(), Counter()
    start = time.monotonic()
    for library, t, text, edge, inputs in cases(libraries, "--extra" in argv):
        if only and only not in text:
            continue
        outcome, detail = judge(library, text, inputs, edge)
        counts[outcome] += 1
        if outcome in ("REFUSED", "BOTH"):
            refused[f"{outcome} {detail}"] += 1
        if outcome in ("WRONG", "CRASH") or (verbose and outcome != "AGREE"):
            body = text[len(JAX_HEAD if library == "jax" else TORCH_HEAD):]
            print(f"{outcome} [{library} {t} {edge}] {body!r}: {detail}")
    print("\nrefusals:")
    for message, c in refused.most_common(25):
        print(f"  {c:4d}  {message}")
    keys = ("AGREE", "NAN", "KNOWN", "WRONG", "REFUSED", "BOTH", "ANSWERED", "CRASH")
    print(f"\n{', '.join(libraries)} ({time.monotonic() - start:.0f} s): " + ", ".join(f"{k} {counts[k]}" for k in keys)
          + f"; {sum(counts.values())} texts")


if __name__ == "__main__":
    main(sys.argv[1:])
