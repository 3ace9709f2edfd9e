"""Derivatives written in the text (lang/derivatives.py): ``jax.grad(f)(x)``, ``torch.func.jacrev(f)(x)``,
``torch.autograd.grad(y, x, create_graph=True)``, ``torch.autograd.functional.*``. Their value is the derivative,
and jac differentiates it again (the Jacobian jac prints of ``jax.grad(f)(x)`` is f's Hessian). Expected values
with NumPy formulas and central differences of jac's own value; tests/test_parity_grad24.py runs the same texts
under JAX and PyTorch."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.errors import JacError, JacParseError, JacShapeError, JacValueError
from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian

runner = CliRunner()
X = np.array([0.3, -1.2, 0.7])
W = np.array([1.5, 0.4, -0.8])


def _checked(text, bindings, name="x"):
    """jac's value and its Jacobian by ``name``; the Jacobian checked against central differences of the value."""
    value = api.evaluate(text, bindings)
    jac = api.jacobian(text, bindings)[name]

    def f(v):
        return api.evaluate(text, {**bindings, name: v})

    np.testing.assert_allclose(jac, central_jacobian(f, np.asarray(bindings[name], dtype=float)), rtol=1e-6,
                               atol=1e-7)
    return value, jac


def test_grad_of_a_scalar_function_and_its_jacobian_is_the_hessian():
    value, jac = _checked("def f(t):\n    return jnp.sum(jnp.sin(t) * t ** 2)\njax.grad(f)(x)", {"x": X})
    np.testing.assert_allclose(value, np.cos(X) * X ** 2 + 2 * X * np.sin(X), rtol=1e-12)
    np.testing.assert_allclose(jac, np.diag(-np.sin(X) * X ** 2 + 4 * X * np.cos(X) + 2 * np.sin(X)), rtol=1e-12,
                               atol=1e-15)


def test_a_def_of_several_statements_and_a_closure():
    text = "def f(t):\n    u = t * w\n    v = jnp.tanh(u)\n    return jnp.sum(v ** 2)\njax.grad(f)(x)"
    value, jac = _checked(text, {"x": X, "w": W})
    t = np.tanh(X * W)
    np.testing.assert_allclose(value, 2 * t * (1 - t ** 2) * W, rtol=1e-12)
    by_w = api.jacobian(text, {"x": X, "w": W})["w"]  # w is closed over: the outer derivative reaches it
    np.testing.assert_allclose(by_w, central_jacobian(lambda v: api.evaluate(text, {"x": X, "w": v}), W), rtol=1e-6,
                               atol=1e-7)


def test_the_argument_is_a_fresh_node_as_in_jax():
    # d/dt (t * x) at t = x is x, not 2 x: the closure's x is not differentiated (JAX's reading)
    value, jac = _checked("jax.grad(lambda t: t * x)(x)", {"x": 2.0})
    assert value == 2.0 and jac == 1.0


def test_nested_grad_is_the_second_derivative_and_hessian_of_it_the_fourth():
    value, jac = _checked("jax.grad(jax.grad(lambda t: t ** 4))(x)", {"x": 1.5})
    assert value == pytest.approx(12 * 1.5 ** 2) and jac == pytest.approx(24 * 1.5)
    h = api.hessian("jax.grad(jax.grad(lambda t: t ** 4))(x)", {"x": 1.5})[("x", "x")]
    assert h == pytest.approx(24.0)


def test_jac_hessian_of_a_text_with_grad_inside_is_the_third_derivative():
    h = api.hessian("jnp.sum(jax.grad(lambda t: jnp.sum(t ** 4))(x))", {"x": X})[("x", "x")]
    np.testing.assert_allclose(h, np.diag(24 * X), rtol=1e-12)


def test_jacobian_spellings_agree_and_are_laid_out_y_by_x():
    expected = np.diag(1 - np.tanh(X) ** 2)
    for spelling in ("jax.jacrev", "jax.jacfwd", "jax.jacobian", "torch.func.jacrev", "torch.func.jacfwd"):
        value, jac = _checked(f"{spelling}(jnp.tanh)(x)", {"x": X})
        np.testing.assert_allclose(value, expected, rtol=1e-12)
        assert jac.shape == (3, 3, 3)
    value, _ = _checked("jax.jacrev(lambda t: jnp.outer(t, t))(x)", {"x": X})
    assert value.shape == (3, 3, 3)
    np.testing.assert_allclose(value, np.einsum("ik,j->ijk", np.eye(3), X) + np.einsum("i,jk->ijk", X, np.eye(3)))


def test_hessian_spellings():
    f = "lambda t: jnp.sum(t ** 3) * jnp.sum(t)"
    s = X.sum()
    expected = np.diag(6 * X * s) + 3 * X[:, None] ** 2 + 3 * X[None, :] ** 2
    for spelling in ("jax.hessian", "torch.func.hessian"):
        value, jac = _checked(f"{spelling}({f})(x)", {"x": X})
        np.testing.assert_allclose(value, expected, rtol=1e-12)
        assert jac.shape == (3, 3, 3)
    value = api.evaluate(f"torch.autograd.functional.hessian({f}, x)", {"x": X})
    np.testing.assert_allclose(value, expected, rtol=1e-12)


def test_argnums_an_int_and_a_tuple():
    text = "jax.grad(lambda a, b: jnp.sum(a * b ** 2), argnums=1)(x, w)"
    value, jac = _checked(text, {"x": X, "w": W})
    np.testing.assert_allclose(value, 2 * X * W)
    np.testing.assert_allclose(jac, 2 * np.diag(W))  # by x
    text = "ga, gb = torch.func.grad(lambda a, b: jnp.sum(a * b ** 2), argnums=(0, 1))(x, w)\nga + gb"
    value, _ = _checked(text, {"x": X, "w": W})
    np.testing.assert_allclose(value, W ** 2 + 2 * X * W)
    value = api.evaluate("jax.hessian(lambda a, b: jnp.sum(a ** 2 * b), argnums=(0, 1))(x, w)[0][1]",
                         {"x": X, "w": W})
    np.testing.assert_allclose(value, np.diag(2 * X))


def test_value_and_grad_grad_and_value_and_has_aux():
    value, _ = _checked("v, g = jax.value_and_grad(lambda t: jnp.sum(t ** 2))(x)\nv * g", {"x": X})
    np.testing.assert_allclose(value, (X ** 2).sum() * 2 * X)
    value, _ = _checked("g, v = torch.func.grad_and_value(lambda t: (t ** 2).sum())(x)\ng - v", {"x": X})
    np.testing.assert_allclose(value, 2 * X - (X ** 2).sum())
    text = "def f(t):\n    return jnp.sum(t ** 2), t * 3\ng, aux = jax.grad(f, has_aux=True)(x)\ng + aux"
    value, _ = _checked(text, {"x": X})
    np.testing.assert_allclose(value, 5 * X)
    text = "va, g = jax.value_and_grad(lambda t: (jnp.sum(t ** 2), t.sum()), has_aux=True)(x)\nv, aux = va\nv + aux"
    value, _ = _checked(text, {"x": X})
    assert value == pytest.approx((X ** 2).sum() + X.sum())


def test_a_library_function_and_a_named_transform():
    value, jac = _checked("jax.grad(jnp.sin)(x)", {"x": 0.5})
    assert value == pytest.approx(np.cos(0.5)) and jac == pytest.approx(-np.sin(0.5))
    value, _ = _checked("g = jax.grad(lambda t: jnp.sum(jnp.exp(t)))\ng(x) + g(2 * x)", {"x": X})
    np.testing.assert_allclose(value, np.exp(X) + np.exp(2 * X))


def test_autograd_grad_create_graph_or_detached():
    text = "y = (x ** 3).sum()\ng, = torch.autograd.grad(y, x, create_graph=True)\n((g - 1) ** 2).sum()"
    value, jac = _checked(text, {"x": X})
    assert value == pytest.approx(((3 * X ** 2 - 1) ** 2).sum())
    # without create_graph PyTorch's result is detached: a constant of the derivatives, as .detach()
    text = "y = (x ** 3).sum()\ng, = torch.autograd.grad(y, x)\n((g - 1) ** 2).sum() + y"
    value = api.evaluate(text, {"x": X})
    jac = api.jacobian(text, {"x": X})["x"]
    assert value == pytest.approx(((3 * X ** 2 - 1) ** 2).sum() + (X ** 3).sum())
    np.testing.assert_allclose(jac, 3 * X ** 2)  # y's derivative only


def test_autograd_grad_outputs_several_inputs_and_batched():
    text = "y = x ** 2 * w\ngx, gw = torch.autograd.grad(y, (x, w), grad_outputs=v, create_graph=True)\ngx + gw"
    value, _ = _checked(text, {"x": X, "w": W, "v": [1.0, 2.0, 3.0]})
    np.testing.assert_allclose(value, [1, 2, 3] * (2 * X * W + X ** 2))
    text = "y = x ** 2\ntorch.autograd.grad(y, x, grad_outputs=torch.eye(3), is_grads_batched=True, create_graph=True)[0]"
    value, _ = _checked(text, {"x": X})
    np.testing.assert_allclose(value, np.diag(2 * X))
    # an intermediate node named: PyTorch's gradient by that node (u's own uses), and upstream through it
    text = "u = x * 2\ny = (u ** 2).sum() + x.sum()\ngu, gx = torch.autograd.grad(y, [u, x], create_graph=True)\ngu + gx"
    value, _ = _checked(text, {"x": X})
    np.testing.assert_allclose(value, 2 * (2 * X) + (8 * X + 1))


def test_unused_inputs_as_pytorch():
    with pytest.raises(JacValueError, match="not to have been used|appears to not have been used"):
        api.evaluate("y = x.sum()\ntorch.autograd.grad(y, [x, w])[0]", {"x": X, "w": W})
    with pytest.raises(JacValueError, match="None, which is not an array"):
        api.evaluate("y = x.sum()\ntorch.autograd.grad(y, [x, w], allow_unused=True)[1]", {"x": X, "w": W})
    np.testing.assert_array_equal(api.evaluate("y = x.sum()\ntorch.autograd.grad(y, [x, w], allow_unused=True)[0]",
                                               {"x": X, "w": W}), np.ones(3))
    np.testing.assert_array_equal(api.evaluate("torch.autograd.grad(x.sum(), [x, w], materialize_grads=True)[1]",
                                               {"x": X, "w": W}), np.zeros(3))
    # JAX gives zeros for an argument the output does not depend on
    np.testing.assert_array_equal(api.evaluate("jax.grad(lambda a, b: jnp.sum(a), argnums=1)(x, w)",
                                               {"x": X, "w": W}), np.zeros(3))


def test_functional_vjp_jvp_and_detached_by_default():
    text = "o, g = torch.autograd.functional.vjp(lambda t: torch.sin(t) * t, x, v, create_graph=True)\ng"
    value, _ = _checked(text, {"x": X, "v": W})
    np.testing.assert_allclose(value, W * (np.cos(X) * X + np.sin(X)))
    text = "o, g = torch.autograd.functional.jvp(lambda t: torch.sin(t) * t.sum(), x, v, create_graph=True)\ng"
    value, _ = _checked(text, {"x": X, "v": W})
    np.testing.assert_allclose(value, np.cos(X) * W * X.sum() + np.sin(X) * W.sum())
    text = "torch.autograd.functional.jacobian(lambda t: t ** 2, x)"
    np.testing.assert_allclose(api.evaluate(text, {"x": X}), np.diag(2 * X))
    assert not api.jacobian(text, {"x": X})["x"].any()  # create_graph=False: PyTorch's result is detached
    both = api.evaluate("torch.autograd.functional.jacobian(lambda a, b: a * b, (x, w))[1]", {"x": X, "w": W})
    np.testing.assert_allclose(both, np.diag(X))


def test_pinn_residual_and_a_gradient_penalty_with_layers():
    pinn = ("import torch\nimport torch.nn as nn\nnet = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1))\n"
            "x = torch.linspace(0, 1, 5).reshape(5, 1).requires_grad_()\nu = net(x)\n"
            "du, = torch.autograd.grad(u.sum(), x, create_graph=True)\nloss = ((du - torch.cos(x)) ** 2).mean()\n"
            "loss.backward()")
    env = dict(api.compile(pinn).declared)  # the parameters as PyTorch draws them, and x

    def loss(params):  # the residual by hand: du/dx of tanh(x W1ᵀ + b1) W2ᵀ + b2
        w1, b1, w2 = params["net.0.weight"], params["net.0.bias"], params["net.2.weight"]
        h = np.tanh(params["x"] @ w1.T + b1)
        du = ((1 - h ** 2) * w1[:, 0]) @ w2[0]
        return ((du - np.cos(params["x"][:, 0])) ** 2).mean()

    assert api.evaluate(pinn) == pytest.approx(loss(env), rel=1e-12)
    grads = api.jacobian(pinn)
    for name in ("net.0.weight", "net.0.bias", "net.2.weight", "x"):
        np.testing.assert_allclose(grads[name], central_jacobian(lambda v: loss({**env, name: v}), env[name]),
                                   rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(grads["net.2.bias"], [0.0])  # du does not depend on the last bias
    gp = ("import torch.nn as nn\nD = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))\n"
          "xhat = eps * real + (1 - eps) * fake\nout = D(xhat)\n"
          "g, = torch.autograd.grad(out, xhat, grad_outputs=torch.ones_like(out), create_graph=True, "
          "retain_graph=True)\n((g.norm(2, dim=1) - 1) ** 2).mean()")
    bound = {"eps": [[0.3], [0.8]], "real": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], "fake": [[0.0, 1.0, 0.0], [1.0, 0.0, 1.0]]}
    params = dict(api.compile(gp, bound).declared)

    def penalty(p):
        xhat = p["eps"] * p["real"] + (1 - p["eps"]) * p["fake"]
        h = np.tanh(xhat @ p["D.0.weight"].T + p["D.0.bias"])
        g = ((1 - h ** 2) * p["D.2.weight"][0]) @ p["D.0.weight"]
        return ((np.linalg.norm(g, axis=1) - 1) ** 2).mean()

    everything = {**{k: np.array(v) for k, v in bound.items()}, **params}
    assert api.evaluate(gp, bound) == pytest.approx(penalty(everything), rel=1e-12)
    grads = api.jacobian(gp, bound)
    for name in ("D.0.weight", "D.2.weight", "real"):
        np.testing.assert_allclose(grads[name], central_jacobian(lambda v: penalty({**everything, name: v}),
                                                                 everything[name]), rtol=1e-6, atol=1e-8)


def test_refusals_say_what_and_where():
    cases = [
        ("jax.grad(lambda t: t ** 2)(x)", JacShapeError, "a gradient is only for a scalar output"),
        ("jax.grad(lambda t: t ** 2)(2)", JacValueError, "differentiate floats only"),
        ("jax.grad(3)(x)", JacValueError, "takes a function"),
        ("jax.grad(lambda t: t.sum(), argnums=1)(x)", JacValueError, "argnums counts the positional arguments"),
        ("jax.grad(lambda t: t.sum(), holomorphic=True)(x)", JacValueError, "jac reads holomorphic=False"),
        ("torch.autograd.grad(x ** 2, x)", JacShapeError, "implicitly created only for scalar outputs"),
        ("torch.autograd.grad(x.sum(), x, foo=1)", JacValueError, "has no argument 'foo'"),
        ("torch.autograd.grad(x.sum(), x)", JacValueError, "tuple of 1 array"),
        ("torch.autograd.functional.vhp(torch.sin, x, x)", JacParseError,
         "'torch.autograd.functional.vhp' is not supported by jac"),
        ("torch.autograd.functional.hessian(lambda t: t ** 2, x)", JacShapeError, "single element"),
    ]
    for text, kind, words in cases:
        with pytest.raises(kind, match=words.replace("(", r"\(").replace(")", r"\)")):
            api.evaluate(text, {"x": X})


def test_symbolic_sizes_are_refused_by_jac_shape():
    result = runner.invoke(app, ["shape", "jax.grad(lambda t: jnp.sum(t ** 2))(x)", "x:n", "--json"])
    assert result.exit_code == 2
    assert "numeric sizes" in json.loads(result.stdout)["error"]["message"]


def test_the_command_line_prints_the_derivative_and_its_jacobian():
    result = runner.invoke(app, ["eval", "jax.grad(lambda t: jnp.sum(t ** 3))(x)", "x=1,2", "--json"])
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["output"]["value"] == [3.0, 12.0] and report["jacobian"]["x"]["value"] == [[6.0, 0.0], [0.0, 12.0]]


def test_a_parse_error_never_escapes_as_a_traceback():
    for text in ("jax.grad()(x)", "jax.grad(lambda t: t)(*x)", "torch.autograd.grad(x)", "jax.grad(f, argnums=k)(x)",
                 "torch.autograd.functional.vjp(lambda t: t, x, [1.0])", "jax.jacrev(lambda t: (t, [t]))(x)"):
        with pytest.raises(JacError):
            api.evaluate(text, {"x": X})


def test_jac_diff_reads_the_derivative_symbolically():
    result = runner.invoke(app, ["diff", "jax.grad(lambda t: jnp.sin(t) * t)(x)"])
    assert result.exit_code == 0, result.stdout
    assert "x⋅cos(x) + sin(x)" in result.stdout and "-x⋅sin(x) + 2⋅cos(x)" in result.stdout


def test_the_interpreter_and_the_batch_kernels_agree_bit_for_bit():
    text = "jax.hessian(lambda t: jnp.sum(jnp.tanh(t) * t.sum()))(x)"
    xs = np.random.default_rng(24).uniform(-1, 1, (3, 3))
    result = runner.invoke(app, ["eval", text, "x=" + json.dumps(xs.tolist()), "--batch", "x", "--json"])
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    for i, x in enumerate(xs):
        np.testing.assert_array_equal(report["output"]["value"][i], api.evaluate(text, {"x": x}))
        np.testing.assert_array_equal(report["jacobian"]["x"]["value"][i], api.jacobian(text, {"x": x})["x"])


def test_an_input_reached_only_through_a_zero_derivative_is_used_as_pytorch_reads_it():
    # torch.floor keeps x in PyTorch's graph (its gradient is zeros); a comparison does not (PyTorch: "unused")
    np.testing.assert_array_equal(api.evaluate("torch.autograd.grad(torch.floor(x).sum() + w.sum(), x)[0]",
                                               {"x": X, "w": W}), np.zeros(3))
    with pytest.raises(JacValueError, match="appears to not have been used"):
        api.evaluate("torch.autograd.grad(((x > 0) * w).sum(), x)[0]", {"x": X, "w": W})
