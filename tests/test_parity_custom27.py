"""Parity for derivative rules written by hand (lang/custom.py): each text run by PyTorch itself (its value,
``torch.autograd.functional.jacobian``, ``y.backward(v)``'s ``x.grad``, and a scalar's Hessian: its double backward)
or by JAX itself (in a process of its own: test_jax16's ``jax_process``; ``jax.jacrev`` and ``jax.vjp``), and jac's
answers compared. The texts are tests/custom27.py's; benchmarks/custom27_sweep.py runs many more."""

import ast

import numpy as np
import pytest

from jacobi_cli.tools import api
from custom27 import CLIP, EXP, JAX_CLIP, JAX_LOG1PEXP, JAX_SIN, JAX_WRONG, JVP_LOG1PEXP, JVP_WRONG, JVPS_TWO, \
    LEGENDRE, MUL_CONST, MY_RELU, NEEDS, SETUP, SIN_COS, SOFT, STE, WRONG_EXP
from test_jax16 import assert_agrees_with_jax, jax_process  # noqa: F401 - the fixture is used by name

X3 = np.array([0.3, -0.5, 0.7])

TORCH_TEXTS = [EXP + "Exp.apply(x)", WRONG_EXP + "torch.sin(WrongExp.apply(x)) * x",
               LEGENDRE + "(LegendrePolynomial3.apply(x) ** 2).sum()", MY_RELU + "MyReLU.apply(x) * x",
               CLIP + "torch.sin(ClipGrad.apply(x * 2)) * x", STE + "RoundSTE.apply(x).sum() * x[0]",
               MUL_CONST + "MulConst.apply(x, 3.0) ** 2", NEEDS + "Mul.apply(x, torch.sin(x))",
               SETUP + "Cube.apply(torch.tanh(x)).sum()", SIN_COS + "s, c = SinCos.apply(x)\n(s * c).sum()",
               SOFT + "(Soft.apply(x) * x).sum()", EXP + "Exp.apply(Exp.apply(x)).sum()",
               WRONG_EXP + "torch.autograd.grad(WrongExp.apply(x).sum(), x, create_graph=True)[0]",
               EXP + "y = (Exp.apply(x) * x).sum()\ny.backward()\nx.grad"]


def _torch_run(torch, code: str):
    tree = ast.parse(code)
    body, last = ast.Module(body=tree.body[:-1], type_ignores=[]), ast.Expression(tree.body[-1].value)

    def f(x):
        scope = {"torch": torch, "x": x}
        exec(compile(body, "<t>", "exec"), scope)  # noqa: S102 - the tests' own texts
        return eval(compile(last, "<t>", "eval"), scope)  # noqa: S307
    return f


@pytest.mark.parametrize("code", TORCH_TEXTS, ids=[c.rsplit("\n", 1)[-1][-40:] for c in TORCH_TEXTS])
def test_pytorch_runs_the_same_text(code):
    torch = pytest.importorskip("torch")
    torch.set_default_dtype(torch.float64)
    if "x.grad" in code:  # the tutorial's form: jac's output is y, what x.grad holds its Jacobian
        code, torch_code = code, code.replace("y.backward()\nx.grad", "y")
    else:
        torch_code = code
    f = _torch_run(torch, torch_code)
    x = torch.tensor(X3, requires_grad=True)
    value = f(x)
    np.testing.assert_allclose(api.evaluate(code, {"x": X3}), value.detach().numpy(), rtol=1e-13, atol=1e-15)
    theirs = torch.autograd.functional.jacobian(f, torch.tensor(X3)).numpy()
    np.testing.assert_allclose(api.jacobian(code, {"x": X3})["x"], theirs, rtol=1e-12, atol=1e-14)
    if "create_graph" in code:
        return
    v = np.random.default_rng(0).standard_normal(tuple(value.shape))
    value.backward(torch.tensor(v))
    np.testing.assert_allclose(api.vjp(code, {"x": X3}, v=v)["x"], x.grad.numpy(), rtol=1e-12, atol=1e-14)
    if value.ndim == 0 and "Clip" not in code:
        h = torch.autograd.functional.hessian(f, torch.tensor(X3)).numpy()
        np.testing.assert_allclose(api.hessian(code, {"x": X3})[("x", "x")], h, rtol=1e-12, atol=1e-14)


JAX_TEXTS = [JAX_CLIP + "jnp.sin(clip_gradient(-0.4, 0.4, jnp.sin(x)))", JAX_SIN + "f(x, jnp.exp(x))",
             JAX_SIN + "jnp.sin(f(x, x)) * x", JAX_LOG1PEXP + "jnp.sum(log1pexp(x) ** 2)",
             JAX_WRONG + "jnp.tanh(s(x)) + s(x)[0]", JVP_LOG1PEXP + "jnp.sin(log1pexp(x)) * x",
             JVP_WRONG + "c(x) * jnp.sum(c(x))", JVPS_TWO + "g(x, jnp.exp(x)) ** 2"]


@pytest.mark.parametrize("code", JAX_TEXTS[1:], ids=[c.rsplit("\n", 1)[-1][-40:] for c in JAX_TEXTS[1:]])
def test_jax_runs_the_same_text(jax_process, code):  # noqa: F811 - the fixture
    assert_agrees_with_jax(jax_process, code, {"x": X3})


def _jax_vjp(code: str, x, v):
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    tree = ast.parse(code)
    body, last = ast.Module(body=tree.body[:-1], type_ignores=[]), ast.Expression(tree.body[-1].value)

    def f(t):
        scope = {"jax": jax, "jnp": jnp, "x": t}
        exec(compile(body, "<t>", "exec"), scope)  # noqa: S102
        return eval(compile(last, "<t>", "eval"), scope)  # noqa: S307
    return np.asarray(jax.jacrev(f)(jnp.asarray(x))), np.asarray(jax.vjp(f, jnp.asarray(x))[1](jnp.asarray(v))[0])


def test_a_backward_not_linear_in_its_gradient_is_jaxs(jax_process):  # noqa: F811
    code, v = JAX_TEXTS[0], np.array([1.5, -0.2, 0.9])
    jacobian, vjp = jax_process.submit(_jax_vjp, code, X3, v).result()
    np.testing.assert_allclose(api.jacobian(code, {"x": X3}, mode="reverse")["x"], jacobian, rtol=1e-13)
    np.testing.assert_allclose(api.vjp(code, {"x": X3}, v=v)["x"], vjp, rtol=1e-13)
