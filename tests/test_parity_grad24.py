"""Parity for derivatives written in the text (lang/derivatives.py): each text is run by JAX itself (float64, in a
process of its own: test_jax16's ``jax_process``) or by PyTorch itself, and jac's value and Jacobian of it compared
with the library's value and ``jax.jacrev`` / ``torch.autograd.functional.jacobian`` of the same text as a function
of its inputs (for a text with ``jax.grad`` inside, a second derivative). Layers' parameters are set to jac's values
(tests/test_parity_leaves23.py)."""

import ast

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from test_jax16 import assert_agrees_with_jax, jax_process  # noqa: F401 - the fixture is used by name

rng = np.random.default_rng(2424)
X3, W3, V3 = rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal(3)
A23 = rng.standard_normal((2, 3))

JAX_TEXTS = [
    ("def f(t):\n    return jnp.sum(jnp.sin(t) * t ** 2)\njax.grad(f)(x)", {"x": X3}),
    ("def f(t):\n    u = t * w\n    v = jnp.tanh(u)\n    return jnp.sum(v ** 2)\njax.grad(f)(x)", {"x": X3, "w": W3}),
    ("jax.grad(lambda t: jnp.sum(t * x))(x)", {"x": X3}),
    ("jax.grad(jax.grad(lambda t: jnp.sin(t) * t ** 3))(s)", {"s": 0.7}),
    ("jax.grad(jnp.tanh)(s)", {"s": 0.4}),
    ("jax.hessian(lambda t: jnp.sum(t ** 3) * jnp.sum(t))(x)", {"x": X3}),
    ("jax.hessian(lambda t: jnp.tanh(t) * jnp.sum(t ** 2))(x)", {"x": X3}),
    ("jax.jacrev(lambda t: jnp.outer(t, jnp.exp(t)))(x)", {"x": X3}),
    ("jax.jacfwd(lambda t: A @ jnp.sin(t))(x)", {"x": X3, "A": A23}),
    ("jax.jacobian(lambda a, b: a * b ** 2, argnums=1)(x, w)", {"x": X3, "w": W3}),
    ("ga, gb = jax.grad(lambda a, b: jnp.sum(jnp.log1p(a ** 2) * b), argnums=(0, 1))(x, w)\nga * gb",
     {"x": X3, "w": W3}),
    ("v, g = jax.value_and_grad(lambda t: jnp.sum(jax.nn.softmax(t) * w))(x)\nv * g", {"x": X3, "w": W3}),
    ("def f(t):\n    return jnp.sum(t ** 2), t * 3\ng, aux = jax.grad(f, has_aux=True)(x)\ng * aux", {"x": X3}),
    ("jax.hessian(lambda a, b: jnp.sum(a ** 2 * jnp.cos(b)), argnums=(0, 1))(x, w)[0][1]", {"x": X3, "w": W3}),
    ("jnp.sum(jax.grad(lambda t: jnp.sum(jax.nn.logsumexp(t) * t))(x) ** 2)", {"x": X3}),
    ("a, b = jax.jacrev(lambda t: (t ** 2, jnp.sum(jnp.sin(t))))(x)\na @ b", {"x": X3}),
    # a nested derivative closing over the outer argument: the inner one treats it as a constant
    ("jax.grad(lambda a: a * jax.grad(lambda b: jnp.sin(a * b ** 2))(s))(s)", {"s": 0.7}),
]


@pytest.mark.parametrize("code,inputs", JAX_TEXTS, ids=[" ".join(c.split())[-40:] for c, _ in JAX_TEXTS])
def test_jax_runs_the_same_text(jax_process, code, inputs):  # noqa: F811 - the fixture
    assert_agrees_with_jax(jax_process, code, inputs)


def test_a_third_derivative_is_jaxs(jax_process):  # noqa: F811
    code = "jnp.sum(jax.grad(lambda t: jnp.sum(jnp.sin(t) * t ** 2))(x))"
    ours = api.hessian(code, {"x": X3})[("x", "x")]
    theirs = jax_process.submit(_jax_hessian, code, X3).result()
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def _jax_hessian(code: str, x) -> np.ndarray:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    return np.asarray(jax.hessian(lambda t: eval(code, {"jax": jax, "jnp": jnp, "x": t}))(jnp.asarray(x)))


# PyTorch's spellings, run by PyTorch: the text's last statement as a function of its inputs
TORCH_TEXTS = [
    ("y = (x ** 3).sum()\ng, = torch.autograd.grad(y, x, create_graph=True)\n((g - 1) ** 2).sum()", {"x": X3}),
    ("y = (x ** 3).sum()\ng, = torch.autograd.grad(y, x, retain_graph=True)\n((g - 1) ** 2).sum() + y", {"x": X3}),
    ("y = torch.sin(x) * w\ngx, gw = torch.autograd.grad(y, (x, w), grad_outputs=v, create_graph=True)\ngx * gw",
     {"x": X3, "w": W3, "v": V3}),
    ("u = x * 2\ny = (u ** 3).sum() + x.sum()\ngu, gx = torch.autograd.grad(y, [u, x], create_graph=True)\ngu + gx",
     {"x": X3}),
    ("torch.func.grad(lambda t: torch.sum(torch.sigmoid(t) * t))(x)", {"x": X3}),
    ("torch.func.jacrev(lambda t: torch.outer(t, torch.tanh(t)))(x)", {"x": X3}),
    ("torch.func.jacfwd(lambda t: A @ torch.exp(t))(x)", {"x": X3, "A": A23}),
    ("torch.func.hessian(lambda t: (t ** 3).sum() * t.sum())(x)", {"x": X3}),
    ("g, v = torch.func.grad_and_value(lambda a, b: (a * b ** 2).sum(), argnums=1)(x, w)\ng * v", {"x": X3, "w": W3}),
    ("torch.autograd.functional.jacobian(lambda t: torch.sin(t) * t.sum(), x, create_graph=True)", {"x": X3}),
    ("torch.autograd.functional.jacobian(lambda t: torch.sin(t) * t.sum(), x)", {"x": X3}),
    ("torch.autograd.functional.hessian(lambda t: torch.log1p(t ** 2).sum(), x, create_graph=True)", {"x": X3}),
    ("o, g = torch.autograd.functional.vjp(lambda t: torch.sin(t) * t, x, v, create_graph=True)\no * g",
     {"x": X3, "v": V3}),
    ("o, g = torch.autograd.functional.jvp(lambda t: torch.sin(t) * t.sum(), x, v, create_graph=True)\ng",
     {"x": X3, "v": V3}),
    ("o, g = torch.autograd.functional.vjp(lambda t: torch.sin(t) * t, x, v)\no * g + x", {"x": X3, "v": V3}),
]


@pytest.fixture
def torch64():
    torch = pytest.importorskip("torch")
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield torch
    torch.set_default_dtype(before)


def _torch_function(torch, code: str, names: list, scope: dict | None = None):
    tree = ast.parse(code)
    body, last = ast.Module(body=tree.body[:-1], type_ignores=[]), ast.Expression(tree.body[-1].value)

    def f(*xs):
        env = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional, **(scope or {}), **dict(zip(names, xs))}
        exec(compile(body, "<text>", "exec"), env)  # noqa: S102 - the test's own text, under PyTorch
        return eval(compile(last, "<text>", "eval"), env)  # noqa: S307

    return f


@pytest.mark.parametrize("code,inputs", TORCH_TEXTS, ids=[" ".join(c.split())[-40:] for c, _ in TORCH_TEXTS])
def test_pytorch_runs_the_same_text(torch64, code, inputs):
    assert_agrees_with_pytorch(torch64, code, inputs)


def assert_agrees_with_pytorch(torch, code: str, inputs: dict, torch_code: str | None = None) -> None:
    """jac's value and Jacobians of ``code`` are PyTorch's: the text (or ``torch_code``, its spelling for PyTorch)
    run as a function of ``inputs`` and differentiated by ``torch.autograd.functional.jacobian``."""
    names = list(inputs)
    f = _torch_function(torch, code if torch_code is None else torch_code, names)
    args = tuple(torch.tensor(np.asarray(inputs[k], dtype=float), requires_grad=True) for k in names)
    value = f(*args)
    theirs = torch.autograd.functional.jacobian(f, args)
    np.testing.assert_allclose(api.evaluate(code, inputs), value.detach().numpy(), rtol=1e-12, atol=1e-14)
    ours = api.jacobian(code, inputs)
    for k, j in zip(names, theirs):
        np.testing.assert_allclose(ours[k], j.numpy(), rtol=1e-10, atol=1e-12, err_msg=k)



def assert_refused_as_pytorch_raises(torch, code: str, x) -> None:
    """PyTorch's backward of ``code`` (a function of the one input ``x``) raises because a tensor it saved was written
    in place, and jac refuses the text in PyTorch's words (sessions 54 and 55: aliases, layouts, layers)."""
    f = _torch_function(torch, code, ["x"])
    with pytest.raises(RuntimeError) as theirs:
        torch.autograd.functional.jacobian(f, torch.tensor(x, requires_grad=True))
    assert "modified by an inplace operation" in str(theirs.value)
    with pytest.raises(JacError) as err:
        api.jacobian(code, {"x": x})
    assert "modified by an inplace operation" in err.value.message

PINN = """import torch
import torch.nn as nn
net = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1))
x = torch.linspace(0, 1, 5).reshape(5, 1).requires_grad_()
u = net(x)
du, = torch.autograd.grad(u.sum(), x, create_graph=True)
d2u, = torch.autograd.grad(du.sum(), x, create_graph=True)
loss = ((d2u + u) ** 2).mean() + ((du - torch.cos(x)) ** 2).mean()
loss.backward()
"""
WGAN_GP = """import torch
import torch.nn as nn
D = nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(0.2), nn.Linear(4, 1))
xhat = eps * real + (1 - eps) * fake
out = D(xhat)
g, = torch.autograd.grad(out, xhat, grad_outputs=torch.ones_like(out), create_graph=True, retain_graph=True)
gp = ((g.norm(2, dim=1) - 1) ** 2).mean()
loss = D(fake).mean() - D(real).mean() + 10 * gp
loss.backward()
"""


@pytest.mark.parametrize("text,inputs,model", [
    (PINN, {}, "net"),
    (WGAN_GP, {"eps": rng.uniform(size=(2, 1)), "real": rng.standard_normal((2, 3)),
               "fake": rng.standard_normal((2, 3))}, "D"),
], ids=["pinn", "wgan-gp"])
def test_layers_texts_give_pytorchs_grads(torch64, text, inputs, model):
    torch = torch64
    f = api.compile(text, {k: ":" + "x".join(map(str, v.shape)) for k, v in inputs.items()})
    found = f.jacobian(inputs)
    scope = {"torch": torch, "nn": torch.nn}
    setup = [line for line in text.splitlines() if line.startswith(f"{model} = ")][0]
    exec(setup, scope)  # noqa: S102 - the test's own text, under PyTorch
    params = dict(scope[model].named_parameters(prefix=model))
    with torch.no_grad():
        for key, p in params.items():
            p.copy_(torch.from_numpy(np.array(f.declared[key])))
    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in inputs.items()}
    rest = "\n".join(line for line in text.splitlines() if not line.startswith(("import", f"{model} = ")))
    env = {**scope, **tensors}
    exec(rest, env)  # noqa: S102
    np.testing.assert_allclose(f.value(inputs), env["loss"].detach().numpy(), rtol=1e-12)
    leaves = {**params, **tensors, **({"x": env["x"]} if "x" in f.declared else {})}
    for key, p in leaves.items():
        np.testing.assert_allclose(found[key], p.grad.numpy(), rtol=1e-10, atol=1e-13, err_msg=key)


@pytest.mark.parametrize("code,used", [("torch.autograd.grad(torch.floor(x).sum() + w.sum(), x)[0]", True),
                                       ("torch.autograd.grad(torch.sign(x).sum() * w.sum(), x)[0]", True),
                                       ("torch.autograd.grad(((x > 0) * w).sum(), x)[0]", False)])
def test_unused_inputs_as_pytorch_reads_them(torch64, code, used):
    torch = torch64
    x, w = torch.tensor(X3, requires_grad=True), torch.tensor(W3, requires_grad=True)
    if used:
        theirs = eval(code, {"torch": torch, "x": x, "w": w})  # noqa: S307 - the test's own text
        np.testing.assert_array_equal(api.evaluate(code, {"x": X3, "w": W3}), theirs.numpy())
    else:
        with pytest.raises(RuntimeError, match="appears to not have been used"):
            eval(code, {"torch": torch, "x": x, "w": w})  # noqa: S307
        with pytest.raises(JacError, match="appears to not have been used"):
            api.evaluate(code, {"x": X3, "w": W3})
