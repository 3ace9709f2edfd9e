"""Parity for session 29's probe of combinations (benchmarks/combo29_sweep.py): texts combining what sessions 24-28
read (derivatives written in the text, vmap and JAX's loops, .at[] forms, pytrees, custom rules, modules through
functional_call, recurrent layers under vmap, in-place writes inside functions), each run by PyTorch or JAX itself
and by jac, value and Jacobians compared; and the two silent wrong answers the probe found, each PyTorch's or
JAX's answer now:

- cumprod's second derivatives where the cotangent is 0 (tests/test_combo29.py: central differences);
- torch.median(x) / torch.nanmedian(x) without a dim at ties: PyTorch shares the derivative evenly among the
  elements equal to the median (evenly_distribute_backward, as torch.max(x)); jac gave it all to one of them."""

import ast

import numpy as np
import pytest

from jacobi_cli.tools import api
from test_jax16 import assert_agrees_with_jax, jax_process  # noqa: F401 - the fixture is used by name
from test_parity_grad24 import assert_agrees_with_pytorch, torch64  # noqa: F401 - the fixture is used by name

rng = np.random.default_rng(2929)
X3, W3 = rng.uniform(-1, 1, 3), rng.uniform(-1, 1, 3)
X43 = rng.uniform(-1, 1, (4, 3))
TIES, ZEROS = np.full(3, 0.5), np.zeros(3)

MEDIANS = [
    ("x.median()", TIES), ("torch.median(x)", ZEROS), ("x.nanmedian()", np.array([2.0, 1.0, 2.0, 2.0])),
    ("torch.median(x)", np.array([1.0, 2.0, 2.0, 3.0])), ("torch.median(x) ** 2", np.array([[1.0, 2.0], [2.0, 0.5]])),
    ("torch.median(x)", np.array([1.0, np.nan, 2.0, np.nan])), ("torch.nanmedian(x)", np.array([1.0, np.nan, 1.0])),
    ("torch.median(x)", np.array([-np.inf, -np.inf, 1.0])), ("torch.median(x, 0).values", TIES),
    ("torch.func.grad(lambda v: torch.clamp(v, min=0.0).median())(x)", np.array([-1.0, 0.0, 2.0])),
    ("torch.func.grad(lambda v: v.median())(x)", TIES),
    ("torch.func.vmap(lambda r: r.median())(X)", np.array([[0.5, 0.5, 1.0], [2.0, 1.0, 2.0]])),
]
# PyTorch's vmap batches x.median() (and x.max()) as their dim forms, whose derivative goes to one element: its rows
# then differ from x.median() of each row at ties; jac's are x.median()'s of each row, PyTorch's without vmap
ROW_BY_ROW = {"torch.func.vmap(lambda r: r.median())(X)": "torch.stack([r.median() for r in X])"}


@pytest.mark.parametrize("code,x", MEDIANS, ids=[f"{c} {i}" for i, (c, _) in enumerate(MEDIANS)])
def test_a_median_without_dim_shares_its_derivative_among_ties_as_pytorch(torch64, code, x):  # noqa: F811
    name = "X" if "(X)" in code else "x"
    theirs = ROW_BY_ROW.get(code)
    assert_agrees_with_pytorch(torch64, "import torch\n" + code, {name: x},
                               None if theirs is None else "import torch\n" + theirs)


CUMPROD_TORCH = [
    ("torch.func.grad(lambda v: (torch.cumsum(torch.sin(v), 0) * torch.cumprod(v, 0)).sum())(x)", ZEROS),
    ("torch.func.grad(lambda v: (torch.cumprod(v, 0) * v).sum())(x)", np.array([0.0, 0.5, 0.7])),
    ("y = torch.cumprod(x, 0)\ng, = torch.autograd.grad((y * y).sum(), x, create_graph=True)\ng",
     np.array([0.3, 0.0, -0.7])),
]


@pytest.mark.parametrize("code,x", CUMPROD_TORCH, ids=[c.split("\n")[-1][-40:] for c, _ in CUMPROD_TORCH])
def test_second_derivatives_through_cumprod_at_zeros_are_pytorchs(torch64, code, x):  # noqa: F811
    assert_agrees_with_pytorch(torch64, "import torch\n" + code, {"x": x})


@pytest.mark.parametrize("x", [ZEROS, np.array([0.0, 0.5, 0.7]), np.array([0.3, 0.0, -0.7])])
def test_torch_func_hessian_through_cumprod_at_zeros_is_pytorchs(torch64, x):  # noqa: F811
    """The value only: PyTorch's derivative of its Hessian through cumprod at zeros is NaN everywhere (0 / 0 in its
    cumprod's third derivative), where the third derivative of x0 ** 2 and jac's are 0."""
    torch = torch64
    code = "torch.func.hessian(lambda v: torch.cumprod(v, 0)[0] ** 2 + torch.cumprod(v, 0)[2] * v[1])(x)"
    theirs = eval(code, {"torch": torch, "x": torch.tensor(x)}).numpy()  # noqa: S307 - the test's own text
    np.testing.assert_allclose(api.evaluate("import torch\n" + code, {"x": x}), theirs, rtol=1e-12, atol=1e-14)


JAX_TEXTS = [
    ("jax.grad(lambda v: jnp.sum(jnp.cumsum(jnp.sin(v)) * jnp.cumprod(v)))(x)", {"x": ZEROS}),
    ("jax.vjp(jnp.cumprod, x)[1](w)[0]", {"x": X3, "w": np.array([1.0, 0.0, 0.0])}),
    ("jax.hessian(lambda v: jnp.cumprod(v)[1] * v[1])(x)", {"x": np.array([0.0, 0.0, 2.0])}),
    # combinations the sweep found right, kept
    ("jax.grad(lambda w: jnp.sum(jax.vmap(lambda r: jnp.tanh(r @ w))(X)))(w)", {"X": X43, "w": W3}),
    ("def step(c, r):\n    c = c.at[0].add(jnp.sum(jnp.sin(r)))\n    return c, jnp.sum(c)\n"
     "c, ys = jax.lax.scan(step, w, X)\nc * jnp.sum(ys)", {"X": X43, "w": W3}),
    ("jax.lax.fori_loop(0, 2, lambda i, v: v.at[jnp.array([0, 0, 2])].add(jnp.maximum(v, 0.0)), x)", {"x": X3}),
    ("@jax.custom_vjp\ndef h(v):\n    return jnp.sin(v)\ndef h_fwd(v):\n    return jnp.sin(v), v\n"
     "def h_bwd(r, g):\n    return (g * 2.0 * r,)\nh.defvjp(h_fwd, h_bwd)\njax.vmap(lambda r: jnp.sum(h(r) * w))(X)",
     {"X": X43, "w": W3}),
    ("J = jax.jacrev(lambda v: {'a': jnp.tanh(v), 'b': jnp.sum(v) * v})(x)\nJ['a'] + J['b']", {"x": X3}),
    ("g = jax.grad(lambda p: jnp.sum(jnp.sin(p['w'] * p['b'][0])))({'w': x, 'b': (w, 1.0)})\ng['w'] + g['b'][0]",
     {"x": X3, "w": W3}),
    ("jax.grad(lambda v: jnp.sum(jax.scipy.special.gammaln(jnp.abs(v) + 0.5) * jnp.sin(v)))(x)", {"x": X3}),
    ("jax.jacfwd(jax.jacrev(lambda v: jnp.sum(jnp.maximum(v, 0.0)) * jnp.sum(v)))(x)", {"x": TIES}),
    ("jax.grad(lambda v: jnp.sum(jax.grad(lambda u: jnp.sum(jnp.tanh(u) * v))(v)))(x)", {"x": X3}),
    ("def f(v):\n    return jnp.sin(v * w)\njax.jacrev(f)(x)", {"x": X3, "w": W3}),
    ("y, f_jvp = jax.linearize(lambda v: jnp.tanh(v), x)\nf_jvp(w) * y", {"x": X3, "w": W3}),
    ("jax.vmap(jax.grad(lambda r: jnp.median(jnp.sin(r))))(X)", {"X": np.full((4, 3), 0.25)}),
    ("jax.grad(lambda v: jnp.max(jnp.maximum(v, 0.0)))(x)", {"x": ZEROS}),
]


@pytest.mark.parametrize("code,inputs", JAX_TEXTS, ids=[" ".join(c.split())[-45:] for c, _ in JAX_TEXTS])
def test_jax_runs_the_same_text(jax_process, code, inputs):  # noqa: F811 - the fixture
    assert_agrees_with_jax(jax_process, "import jax\nimport jax.numpy as jnp\n" + code, inputs)


TORCH_TEXTS = [
    ("lin = nn.Linear(3, 2)\ndef loss(p, v):\n    return torch.tanh(torch.func.functional_call(lin, p, (v,))).sum()\n"
     "torch.func.grad(loss)({'weight': A, 'bias': b}, x)['weight']",
     {"x": X3, "A": rng.uniform(-1, 1, (2, 3)), "b": rng.uniform(-1, 1, 2)}),
    ("torch.func.grad(lambda w: torch.sin(torch.func.vmap(lambda r: r @ w)(X)).sum())(w)", {"X": X43, "w": W3}),
    ("def f(v):\n    y = v.clone()\n    y[0] = torch.sin(v)[2]\n    return y * v\ntorch.func.vmap(f)(X)", {"X": X43}),
    ("y = (torch.clamp(x, min=0.0) * w).sum()\ng = torch.autograd.grad(y, [x, w], create_graph=True)\ng[0] + g[1]",
     {"x": X3, "w": W3}),
    ("torch.func.jacfwd(torch.func.jacrev(lambda v: torch.tanh(v).sum() * v.sum()))(x)", {"x": X3}),
    ("class G(torch.autograd.Function):\n    @staticmethod\n    def forward(v):\n        return torch.sin(v)\n"
     "    @staticmethod\n    def setup_context(ctx, inputs, output):\n        ctx.save_for_backward(inputs[0])\n"
     "    @staticmethod\n    def backward(ctx, g):\n        v, = ctx.saved_tensors\n        return g * torch.cos(v)\n"
     "torch.func.grad(lambda u: G.apply(u).sum())(x)", {"x": X3}),
    ("torch.func.grad(lambda v: torch.clamp(v, min=0.0).max())(x)", {"x": ZEROS}),
    ("torch.func.grad(lambda v: (torch.relu(v) + v).prod())(x)", {"x": np.array([-1.0, 0.0, 2.0])}),
]


@pytest.mark.parametrize("code,inputs", TORCH_TEXTS, ids=[" ".join(c.split())[-45:] for c, _ in TORCH_TEXTS])
def test_pytorch_runs_the_same_text(torch64, code, inputs):  # noqa: F811 - the fixture
    assert_agrees_with_pytorch(torch64, "import torch\nimport torch.nn as nn\n" + code, inputs)


@pytest.mark.parametrize("layer,call", [("nn.RNN(3, 2)", "m(s)[0]"), ("nn.GRU(3, 2)", "m(s)[1]"),
                                        ("nn.LSTM(3, 2)", "m(s)[1][1]")])
def test_a_recurrent_layer_under_vmap_is_pytorchs_layer_row_by_row(torch64, layer, call):  # noqa: F811
    """PyTorch 2.13 has no batching rule for its recurrent layers (torch.func.vmap raises); jac writes the rows
    out, each PyTorch's layer (its parameters set to jac's draws) on that row, value and Jacobian."""
    torch = torch64
    X = rng.uniform(-1, 1, (2, 4, 3))
    text = f"import torch\nimport torch.nn as nn\nm = {layer}\ntorch.func.vmap(lambda s: torch.sin({call}))(X)"
    compiled = api.compile(text, {"X": X})
    m = eval(layer, {"nn": torch.nn})  # noqa: S307 - the test's own text
    with torch.no_grad():
        for key, p in m.named_parameters():
            p.copy_(torch.from_numpy(np.asarray(compiled.declared[f"m.{key}"])))

    def rows(t):
        return torch.stack([torch.sin(eval(call, {"m": m, "s": s})) for s in t])  # noqa: S307
    np.testing.assert_allclose(api.evaluate(text, {"X": X}), rows(torch.tensor(X)).detach().numpy(), rtol=1e-12,
                               atol=1e-14)
    ref = torch.autograd.functional.jacobian(rows, torch.tensor(X)).numpy()
    np.testing.assert_allclose(api.jacobian(text, {"X": X}, wrt=["X"])["X"], ref, rtol=1e-10, atol=1e-12)


def test_the_texts_parse_as_python():
    for code, _ in JAX_TEXTS + TORCH_TEXTS + CUMPROD_TORCH + MEDIANS:
        ast.parse(code)
