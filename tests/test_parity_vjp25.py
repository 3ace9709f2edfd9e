"""Parity for jvp, vjp and linearize written in the text (lang/vjps.py): each text is run by JAX itself (float64, in
a process of its own: test_jax16's ``jax_process``) or by PyTorch itself, and jac's value and Jacobian of it compared
with the library's value and ``jax.jacrev`` / ``torch.autograd.functional.jacobian`` of the same text as a function of
its inputs (a derivative of the derivative: forward over reverse, reverse over forward). What the libraries refuse
(mismatched cotangents and tangents, primals not a tuple) is refused by jac too."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from test_jax16 import assert_agrees_with_jax, jax_process  # noqa: F401 - the fixture is used by name
from test_parity_grad24 import _torch_function, assert_agrees_with_pytorch, torch64  # noqa: F401 - the fixture is used by name

rng = np.random.default_rng(2525)
X3, W3, V3 = rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal(3)
A23 = rng.standard_normal((2, 3))
F = "def f(t):\n    return jnp.sum(jnp.sin(t) * t ** 2) * jnp.sum(t)\n"

JAX_TEXTS = [
    ("jax.jvp(jnp.sin, (x,), (v,))[1]", {"x": X3, "v": V3}),
    ("jax.jvp(jnp.tanh, [x], [v])[0] * 2.0", {"x": X3, "v": V3}),
    ("out, tan = jax.jvp(lambda a, b: (a * jnp.cos(b), A @ a), (x, w), (v, x))\ntan[0] + out[0]",
     {"x": X3, "w": W3, "v": V3, "A": A23}),
    ("out, tan = jax.jvp(lambda a, b: (a * jnp.cos(b), A @ a), (x, w), (v, x))\ntan[1]",
     {"x": X3, "w": W3, "v": V3, "A": A23}),
    # the cookbook's hvp three ways, and jacfwd of jacrev
    (F + "def hvp(f, primals, tangents):\n    return jax.jvp(jax.grad(f), primals, tangents)[1]\nhvp(f, (x,), (v,))",
     {"x": X3, "v": V3}),
    (F + "def hvp(f, x, v):\n    return jax.grad(lambda x: jnp.vdot(jax.grad(f)(x), v))(x)\nhvp(f, x, v)",
     {"x": X3, "v": V3}),
    (F + "def hvp(f, x, v):\n    return jax.grad(lambda x: jax.jvp(f, (x,), (v,))[1])(x)\nhvp(f, x, v)",
     {"x": X3, "v": V3}),
    (F + "jax.jacfwd(jax.jacrev(f))(x)", {"x": X3}),
    ("y, f_vjp = jax.vjp(lambda t: jnp.sin(t) * t, x)\na, = f_vjp(v)\nb, = f_vjp(2.0 * w)\na + b * y",
     {"x": X3, "v": V3, "w": W3}),
    ("def apply(g, c):\n    return g(c)[0]\ny, f_vjp = jax.vjp(jnp.tanh, x)\napply(f_vjp, v)", {"x": X3, "v": V3}),
    ("y, f_vjp = jax.vjp(lambda a, b: (a * b, jnp.sin(a)), x, w)\nga, gb = f_vjp((v, x))\nga + gb * 2.0",
     {"x": X3, "w": W3, "v": V3}),
    ("y, f_vjp = jax.vjp(lambda p: p[0] * jnp.exp(p[1]), (x, w))\n(g,) = f_vjp(v)\ng[0] * g[1]",
     {"x": X3, "w": W3, "v": V3}),
    ("y, g, aux = jax.vjp(lambda t: (jnp.sin(t), t ** 2), x, has_aux=True)\ng(v)[0] * aux", {"x": X3, "v": V3}),
    ("y, tan, aux = jax.jvp(lambda t: (jnp.sin(t), t ** 2), (x,), (v,), has_aux=True)\ntan * aux",
     {"x": X3, "v": V3}),
    ("y, f_jvp = jax.linearize(lambda a, b: jnp.sin(a) * b, x, w)\nf_jvp(v, x) + f_jvp(x, v) + y",
     {"x": X3, "w": W3, "v": V3}),
    ("y, f_jvp, aux = jax.linearize(lambda t: (jnp.sin(t), t ** 2), x, has_aux=True)\nf_jvp(v) * aux",
     {"x": X3, "v": V3}),
    # vjp of a jvp, and a jvp of a vjp
    ("y, f_vjp = jax.vjp(lambda t: jax.jvp(jnp.sin, (t,), (v,))[1] * t, x)\nf_vjp(w)[0]",
     {"x": X3, "v": V3, "w": W3}),
    ("jax.jvp(lambda t: jax.vjp(lambda s: jnp.exp(s) * s, t)[1](w)[0], (x,), (v,))[1]",
     {"x": X3, "v": V3, "w": W3}),
    ("jax.vjp(jnp.sum, x)[1](s)[0]", {"x": X3, "s": 0.7}),
    ("jax.jvp(lambda t: t * x, (x,), (v,))[1]", {"x": X3, "v": V3}),  # the closure's x is not differentiated
]


@pytest.mark.parametrize("code,inputs", JAX_TEXTS, ids=[" ".join(c.split())[-40:] for c, _ in JAX_TEXTS])
def test_jax_runs_the_same_text(jax_process, code, inputs):  # noqa: F811 - the fixture
    assert_agrees_with_jax(jax_process, code, inputs)


TORCH_TEXTS = [
    ("torch.func.jvp(torch.sin, (x,), (v,))[1]", {"x": X3, "v": V3}),
    ("torch.func.jvp(lambda a, b: a * torch.cos(b), (x, w), (v, x))[1]", {"x": X3, "w": W3, "v": V3}),
    ("y, vjp_fn = torch.func.vjp(lambda t: torch.sin(t) * t, x)\nvjp_fn(v)[0] + y", {"x": X3, "v": V3}),
    ("y, vjp_fn = torch.func.vjp(lambda a, b: (a * b, torch.tanh(a)), x, w)\nga, gb = vjp_fn((v, x))\nga * gb",
     {"x": X3, "w": W3, "v": V3}),
    ("y, vjp_fn, aux = torch.func.vjp(lambda t: (torch.sin(t), t ** 2), x, has_aux=True)\nvjp_fn(v)[0] * aux",
     {"x": X3, "v": V3}),
    ("y, tan, aux = torch.func.jvp(lambda t: (torch.sin(t), t ** 2), (x,), (v,), has_aux=True)\ntan * aux",
     {"x": X3, "v": V3}),
    ("torch.func.jvp(torch.func.grad(lambda t: (torch.sin(t) * t ** 2).sum()), (x,), (v,))[1]", {"x": X3, "v": V3}),
    ("torch.func.grad(lambda t: torch.func.jvp(lambda s: (torch.exp(s) * s).sum(), (t,), (v,))[1])(x)",
     {"x": X3, "v": V3}),
    ("y, vjp_fn = torch.func.vjp(torch.exp, x)\na, = vjp_fn(v)\nb, = vjp_fn(w)\na * b", {"x": X3, "v": V3, "w": W3}),
]


@pytest.mark.parametrize("code,inputs", TORCH_TEXTS, ids=[" ".join(c.split())[-40:] for c, _ in TORCH_TEXTS])
def test_pytorch_runs_the_same_text(torch64, code, inputs):  # noqa: F811 - the fixture
    assert_agrees_with_pytorch(torch64, code, inputs)


def test_torch_func_linearize_is_pytorchs(torch64):  # noqa: F811 - its result is not differentiable by autograd
    torch = torch64
    code = "y, jvp_fn = torch.func.linearize(lambda a, b: torch.sin(a) * b, x, w)\njvp_fn(v, x) + y"
    inputs = {"x": X3, "w": W3, "v": V3}
    theirs = _torch_function(torch, code, list(inputs))(*(torch.tensor(inputs[k]) for k in inputs))
    np.testing.assert_allclose(api.evaluate(code, inputs), theirs.numpy(), rtol=1e-12)


# texts both libraries refuse, and jac refuses: (jax text, torch text)
REFUSED = [
    ("y, f = jax.vjp(jnp.sin, x)\nf(jnp.ones(2))[0]", "y, f = torch.func.vjp(torch.sin, x)\nf(torch.ones(2))[0]"),
    ("y, f = jax.vjp(jnp.sum, x)\nf(jnp.ones(1))[0]", "y, f = torch.func.vjp(torch.sum, x)\nf(torch.ones(1))[0]"),
    ("y, f = jax.vjp(lambda t: (t, t), x)\nf(x)[0]", "y, f = torch.func.vjp(lambda t: (t, t), x)\nf(x)[0]"),
    ("y, f = jax.vjp(jnp.sin, x)\nf(x, x)[0]", "y, f = torch.func.vjp(torch.sin, x)\nf(x, x)[0]"),
    ("jax.jvp(jnp.sin, x, x)[1]", "torch.func.jvp(torch.sin, x, x)[1]"),
    ("jax.jvp(jnp.sin, (x,), (jnp.ones(2),))[1]", "torch.func.jvp(torch.sin, (x,), (torch.ones(2),))[1]"),
    ("jax.jvp(jnp.sin, (x,), (x, x))[1]", "torch.func.jvp(torch.sin, (x,), (x, x))[1]"),
    ("y, f = jax.linearize(jnp.sin, x)\nf(jnp.ones(2))", "y, f = torch.func.linearize(torch.sin, x)\nf(torch.ones(2))"),
    ("jax.jvp(jnp.sin, (x,), (jnp.ones(3, dtype=jnp.int32),))[1]", None),
    ("y, f = jax.vjp(jnp.sin, x)\nf(jnp.ones(3, dtype=jnp.int32))[0]", None),
    (None, "torch.func.jvp(torch.sin, [x], [x])[1]"),
]


def _jax_refuses(code: str, x) -> bool:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    scope = {"jax": jax, "jnp": jnp, "x": jnp.asarray(x)}
    *body, last = code.split("\n")
    try:
        exec("\n".join(body), scope)  # noqa: S102 - the test's own text
        eval(last, scope)  # noqa: S307
    except (TypeError, ValueError):
        return True
    return False


@pytest.mark.parametrize("jax_code,torch_code", REFUSED, ids=[" ".join((j or t).split())[-40:] for j, t in REFUSED])
def test_what_the_libraries_refuse_jac_refuses(jax_process, torch64, jax_code, torch_code):  # noqa: F811
    torch = torch64
    if jax_code is not None:
        assert jax_process.submit(_jax_refuses, jax_code, X3).result(), jax_code
        with pytest.raises(JacError):
            api.evaluate(jax_code, {"x": X3})
    if torch_code is not None:
        with pytest.raises((RuntimeError, TypeError, ValueError)):
            _torch_function(torch, torch_code, ["x"])(torch.tensor(X3))
        with pytest.raises(JacError):
            api.evaluate(torch_code, {"x": X3})


def test_the_per_sample_gradients_tutorial_is_pytorchs(torch64):  # noqa: F811
    """The per-sample-gradients tutorial (torch.func.functional_call under vmap(grad(...))): jac reads one example's
    torch.func.grad(loss)(params, x, t) over the dict of parameters (session 26; refused before, naming what it
    still equals: one example's loss with the model's call, whose Jacobian jac prints by each parameter; --batch x
    --batch t runs it per example, tests/test_vjp25.py checks --batch against this loop)."""
    torch = torch64
    tutorial = ("model = nn.Linear(3, 2)\nparams = {k: v.detach() for k, v in model.named_parameters()}\n"
                "def loss(params, x, t):\n"
                "    return F.mse_loss(torch.func.functional_call(model, params, (x.unsqueeze(0),)), t.unsqueeze(0))\n"
                "torch.func.grad(loss)(params, x, t)")  # the tutorial's vmap of it: --batch
    written = "model = nn.Linear(3, 2)\nF.mse_loss(model(x), t)"
    f = api.compile(written, {"x": ":3", "t": ":2"})
    xs, ts = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    model = torch.nn.Linear(3, 2)
    with torch.no_grad():
        for key, p in model.named_parameters():
            p.copy_(torch.from_numpy(np.array(f.declared[f"model.{key}"])))
    params = {k: v.detach() for k, v in model.named_parameters()}

    def loss(params, x, t):
        out = torch.func.functional_call(model, params, (x.unsqueeze(0),))
        return torch.nn.functional.mse_loss(out, t.unsqueeze(0))

    theirs = torch.func.vmap(torch.func.grad(loss), in_dims=(None, 0, 0))(params, torch.tensor(xs), torch.tensor(ts))
    for i in range(len(xs)):
        ours = f.jacobian({"x": xs[i], "t": ts[i]})
        for key in ("weight", "bias"):
            np.testing.assert_allclose(ours[f"model.{key}"], theirs[key][i].numpy(), rtol=1e-12, atol=1e-14)
            read = api.evaluate(tutorial + f"['{key}']", {"x": xs[i], "t": ts[i]})
            np.testing.assert_allclose(read, theirs[key][i].numpy(), rtol=1e-12, atol=1e-14)
