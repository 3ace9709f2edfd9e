"""Derivative rules written by hand, honoured (lang/custom.py, the ``custom`` op of ir/ops.py): the derivative jac
prints is the rule's (a wrong rule's too, which ``jac check`` then fails against central differences), the value the
function's; forward and reverse mode print one Jacobian; a VJP applies the backward to the cotangent itself; second
order is PyTorch's double backward (the backward's own ops) and refused where the library refuses it or differs
(JAX's custom_vjp, @once_differentiable); what jac cannot honour is refused saying why.
tests/test_parity_custom27.py runs the texts under PyTorch and JAX."""

import subprocess
import sys

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from custom27 import CLIP, EXP, JAX_CLIP, JAX_LOG1PEXP, JAX_SIN, JAX_WRONG, JVP_LOG1PEXP, JVP_WRONG, JVPS_TWO, \
    LEGENDRE, MUL_CONST, MY_RELU, NEEDS, ONCE, SETUP, SIN_COS, SOFT, STE, WRONG_EXP

X3 = np.array([0.3, -0.5, 0.7])


def J(code, mode="auto", x=X3):
    return api.jacobian(code, {"x": x}, mode=mode)["x"]


@pytest.mark.parametrize("code,expected", [
    (EXP + "Exp.apply(x)", np.diag(np.exp(X3))),
    (WRONG_EXP + "WrongExp.apply(x)", np.diag(2 * np.exp(X3))),  # the rule's answer, wrong as it is
    (LEGENDRE + "LegendrePolynomial3.apply(x)", np.diag(1.5 * (5 * X3 ** 2 - 1))),
    (MY_RELU + "MyReLU.apply(x)", np.diag((X3 >= 0).astype(float))),
    (STE + "RoundSTE.apply(x)", np.diag(np.full(3, 4.0))),  # round's derivative is 0: the rule's is 4
    (MUL_CONST + "MulConst.apply(x, 3.0)", np.diag(np.full(3, 3.0))),
    (NEEDS + "Mul.apply(x, torch.tensor([1.0, 2.0, 3.0]))", np.diag([1.0, 2.0, 3.0])),
    (SETUP + "Cube.apply(x)", np.diag(3 * X3 ** 2)),
    (SIN_COS + "s, c = SinCos.apply(x)\ns * c", np.diag(np.cos(X3) ** 2 - 2 * np.sin(X3) ** 2)),
    (JAX_SIN + "f(x, jnp.exp(x))", np.diag(np.cos(X3) * np.exp(X3) + np.sin(X3) * np.exp(X3))),
    (JAX_LOG1PEXP + "log1pexp(x)", np.diag(1 - 1 / (1 + np.exp(X3)))),
    (JAX_WRONG + "s(x)", np.diag(2 * np.cos(X3))),
    (JAX_CLIP + "clip_gradient(-0.4, 0.4, x)", np.diag(np.full(3, 0.4))),  # jacrev: each basis row clipped
    (JVP_LOG1PEXP + "log1pexp(x)", np.diag(1 - 1 / (1 + np.exp(X3)))),
    (JVP_WRONG + "c(x)", np.diag(np.sin(X3))),  # the rule's sign, wrong as it is; reverse mode its transpose
    (JVPS_TWO + "g(x, jnp.exp(x))", np.diag(np.cos(X3) * np.exp(X3) + 3 * np.sin(X3) * np.exp(X3))),
], ids=lambda v: v.rsplit("\n", 1)[-1] if isinstance(v, str) else "")
def test_the_jacobian_is_the_rules_in_every_mode(code, expected):
    for mode in ("auto", "forward", "reverse") if "clip" not in code else ("auto", "reverse"):
        np.testing.assert_allclose(J(code, mode), expected, rtol=1e-13, atol=1e-15, err_msg=mode)


def test_the_value_is_the_functions():
    np.testing.assert_allclose(api.evaluate(STE + "RoundSTE.apply(x)", {"x": X3}), np.round(X3 * 4))
    np.testing.assert_allclose(api.evaluate(JAX_WRONG + "s(x)", {"x": X3}), np.sin(X3))


def test_a_composite_uses_the_rule_inside_the_chain():
    got = J(WRONG_EXP + "torch.sin(WrongExp.apply(x)) * x")
    y = np.exp(X3)
    np.testing.assert_allclose(got, np.diag(np.cos(y) * 2 * y * X3 + np.sin(y)), rtol=1e-13)


def test_a_backward_not_linear_in_its_gradient_is_applied_to_the_cotangent():
    v = np.array([1.0, -0.1, 0.5])
    got = api.vjp(CLIP + "ClipGrad.apply(x)", {"x": X3}, v=v)["x"]
    np.testing.assert_array_equal(got, np.clip(v, -0.3, 0.3))  # PyTorch's y.backward(v): the rule of v itself
    got = api.vjp(JAX_CLIP + "clip_gradient(-0.4, 0.4, x)", {"x": X3}, v=v)["x"]
    np.testing.assert_array_equal(got, np.clip(v, -0.4, 0.4))
    with pytest.raises(JacError, match="not linear in its gradient"):  # forward mode never has the cotangent
        J(CLIP + "ClipGrad.apply(x)", "forward")


def test_repeated_calls_and_kernels_give_the_first_answer():
    code = WRONG_EXP + "torch.tanh(WrongExp.apply(x) * x).sum() * x"
    first = J(code)
    for _ in range(3):
        np.testing.assert_array_equal(J(code), first)
    batch = np.stack([X3, X3[::-1], X3 * 0.5])
    stacked = api.jacobian(code, {"x": batch}, batch=["x"])["x"]
    for k in range(3):
        np.testing.assert_allclose(stacked[k], J(code, x=batch[k]), rtol=1e-14, atol=1e-15)


def test_second_order_is_pytorchs_double_backward():
    # a saved output goes through the rule (Exp's backward of its own output: exp * exp, its rule times the rule)
    h = api.hessian(EXP + "Exp.apply(x).sum()", {"x": X3})[("x", "x")]
    np.testing.assert_allclose(h, np.diag(np.exp(X3)), rtol=1e-13)
    # a saved input is itself
    h = api.hessian(LEGENDRE + "LegendrePolynomial3.apply(x).sum()", {"x": X3})[("x", "x")]
    np.testing.assert_allclose(h, np.diag(15 * X3), rtol=1e-13)
    # any other saved tensor is the constant PyTorch's no-grad forward made: the backward's derivative is 0
    h = api.hessian(SOFT + "Soft.apply(x).sum()", {"x": X3})[("x", "x")]
    np.testing.assert_array_equal(h, np.zeros((3, 3)))
    g = api.evaluate(WRONG_EXP + "torch.autograd.grad(WrongExp.apply(x).sum(), x, create_graph=True)[0]", {"x": X3})
    np.testing.assert_allclose(g, 2 * np.exp(X3), rtol=1e-14)


@pytest.mark.parametrize("code,words", [
    (ONCE + "Sq.apply(x).sum()", "@once_differentiable: PyTorch refuses it too"),
    (JAX_SIN + "jnp.sum(f(x, x))", "JAX differentiates its fwd's formula there"),
    (JVP_WRONG + "jnp.sum(c(x))", "JAX differentiates its jvp rule there, which jac does not"),
])
def test_second_order_refused_where_the_library_refuses_or_differs(code, words):
    np.testing.assert_allclose(J(code), J(code, "forward"), rtol=1e-13)  # first order is the rule's
    with pytest.raises(JacError, match=words):
        api.hessian(code, {"x": X3})


@pytest.mark.parametrize("code,words", [
    (JAX_SIN + "jax.jacfwd(f)(x, x)", "JAX raises a TypeError there"),
    (JAX_SIN + "jax.jvp(lambda t: f(t, t), (x,), (x,))[1]", "JAX raises a TypeError there"),
    (EXP + "torch.func.grad(lambda t: Exp.apply(t).sum())(x)", "must override the setup_context staticmethod"),
    (SETUP + "torch.func.jacfwd(Cube.apply)(x)", "jvp staticmethod, which jac does not read"),
    (SETUP + "torch.func.vmap(Cube.apply)(x)", "generate_vmap_rule = True"),
    ("import torch\nclass Bad(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, x):\n"
     "        return x * 2\n    @staticmethod\n    def backward(ctx, g):\n        return g[:2]\nBad.apply(x)",
     r"BadBackward returned an invalid gradient at index 0 - got \[2\] but expected shape compatible with \[3\]"),
    ("import torch\nclass Two(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, x, y):\n"
     "        return x * y\n    @staticmethod\n    def backward(ctx, g):\n        return g\nTwo.apply(x, x)",
     r"incorrect number of gradients \(expected 2, got 1\)"),
    (MUL_CONST.replace("g * ctx.k, None", "g * ctx.k, None, g") + "MulConst.apply(x, 3.0)",
     r"incorrect number of gradients \(expected 2, got 3\)"),
    (JAX_SIN.replace("(cos_x * g * y, sin_x * g)", "cos_x * g * y") + "f(x, x)", "must return a tuple"),
    ("import jax\ndef f(x):\n    return x\nf = jax.custom_vjp(f)\nf(x)", "without its rule"),
    ("import jax\ndef f(x):\n    return x\nf = jax.custom_jvp(f)\nf(x)", "without its rule: define it with @f.defjvp"),
    (JVP_WRONG.replace("jnp.sin(x) * t", "jnp.sin(x) * t * t") + "c(x)", "not linear in its tangents"),
    (SIN_COS.replace("gs * torch.cos(x)", "gs * gs * torch.cos(x)") + "s, c = SinCos.apply(x)\ns * c",
     "not linear in its gradients, and SinCos has several outputs"),
    ("import torch\nclass J(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, x):\n        return x\n"
     "    @staticmethod\n    def backward(ctx, g):\n        return g\n    @staticmethod\n    def jvp(ctx, t):\n"
     "        return t\nJ.apply(x)", "its jvp \\(forward-mode\\) rule, which jac does not read"),
])
def test_refused_with_why(code, words):
    with pytest.raises(JacError, match=words):
        api.jacobian(code, {"x": X3})


def _jac(*args):
    return subprocess.run([sys.executable, "-m", "jacobi_cli", *args], capture_output=True, text=True, timeout=120)


def test_jac_check_fails_a_wrong_rule_and_passes_a_right_one(tmp_path):
    wrong, right = tmp_path / "wrong.py", tmp_path / "right.py"
    wrong.write_text(WRONG_EXP + "WrongExp.apply(x).sum()")
    right.write_text(EXP + "Exp.apply(x).sum()")
    assert _jac("check", f"@{wrong}", "x=[0.1,0.2]").returncode == 1
    assert _jac("check", f"@{right}", "x=[0.1,0.2]").returncode == 0


def test_jac_diff_refuses_a_rule_by_name(tmp_path):
    path = tmp_path / "rule.py"
    path.write_text(WRONG_EXP + "WrongExp.apply(x).sum()")
    done = _jac("diff", f"@{path}", "x:2")
    assert done.returncode == 2
    assert "torch.autograd.Function WrongExp is a derivative rule written in the text" in done.stderr
