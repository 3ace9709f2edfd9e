"""Session 33: a Python int read off the inputs' values (``range(k)``, ``x[k]``, a slice bound) and a suite's case
testing its values, against PyTorch's eager mode: values, Jacobians, vjps, Hessians and third derivatives."""
import json

import numpy as np
import pytest

from jacobi_cli.tools import api, suite
from torch_models import float64  # noqa: F401 - a fixture

torch = pytest.importorskip("torch")

X = [0.3, -1.0, 2.0, 0.5]
Y = [1.0, 2.0, -3.0, 0.5]

CASES = [
    "k = int((x > 0).sum())\na = x * 1.0\nfor i in range(k):\n    a = torch.sin(a) + y * 0.5\na",
    "k = int(torch.sin(x).argmax())\nx * y[k]",
    "k = x.argmax().item()\nx[k] * y",
    "k = int((x > 0).sum())\ny[:k].sum() * x",
    "torch.arange(4.0)[int(x.argmax())] * x",
    "k = (x > 0).sum()\ny[k] * x",
    "k = int((x > 0).sum())\nif x.norm() > k:\n    a = x * y\nelse:\n    a = torch.tanh(x) * k\na",
    "def f(v, n):\n    if n == 0 or v.norm() < 0.5:\n        return v\n    return f(torch.sin(v) * 0.9, n - 1)\n"
    "f(x, int((y > 0).sum())) * y",
]


def _torch_run(text: str, x, y):
    *body, last = text.split("\n")
    env = {"torch": torch, "x": x, "y": y}
    exec("\n".join(body), env)
    return eval(last, env)


@pytest.mark.parametrize("text", CASES)
def test_an_int_of_the_values_is_read_as_pytorch_runs_it(float64, text):  # noqa: F811
    tx, ty = torch.tensor(X), torch.tensor(Y)
    bindings = {"x": np.array(X), "y": np.array(Y)}
    want = _torch_run(text, tx, ty).detach().numpy()
    np.testing.assert_allclose(api.evaluate(text, bindings), want, rtol=1e-14, atol=1e-15)
    Jx, Jy = torch.autograd.functional.jacobian(lambda a, b: _torch_run(text, a, b), (tx, ty))
    J = api.jacobian(text, bindings)
    np.testing.assert_allclose(J["x"], Jx.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(J["y"], Jy.numpy(), rtol=1e-12, atol=1e-14)
    v = np.linspace(-1.0, 1.0, want.size).reshape(want.shape)
    a, b = tx.clone().requires_grad_(), ty.clone().requires_grad_()
    gx, gy = torch.autograd.grad(_torch_run(text, a, b), (a, b), torch.tensor(v), allow_unused=True)
    got = api.vjp(text, bindings, v=v)
    for name, g in (("x", gx), ("y", gy)):
        np.testing.assert_allclose(got[name], 0 * got[name] if g is None else g.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("text", CASES[:4])
def test_hessian_and_third_derivative_of_the_branch_taken(float64, text):  # noqa: F811
    scalar = "\n".join(text.split("\n")[:-1] + [f"_e = {text.split(chr(10))[-1]}", "(_e * _e).sum()"])
    tx, ty = torch.tensor(X), torch.tensor(Y)
    bindings = {"x": np.array(X), "y": np.array(Y)}
    (hxx, hxy), _ = torch.autograd.functional.hessian(lambda a, b: _torch_run(scalar, a, b), (tx, ty))
    H = api.hessian(scalar, bindings)
    np.testing.assert_allclose(H[("x", "x")], hxx.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(H[("x", "y")], hxy.numpy(), rtol=1e-10, atol=1e-12)
    d3 = torch.autograd.functional.jacobian(lambda a: torch.autograd.functional.hessian(
        lambda t: _torch_run(scalar, t, ty), a, create_graph=True), tx)
    np.testing.assert_allclose(api.derivative(scalar, bindings, 3, wrt=["x"]), d3.numpy(), rtol=1e-9, atol=1e-10)


def test_a_suite_of_a_branch_at_two_points_holds_pytorchs_answers(float64):  # noqa: F811
    text = "if x.norm() > 1.0:\n    a = x / x.norm()\nelse:\n    a = torch.sin(x) * 2\na * y"
    lines = []
    for i, x in enumerate(([3.0, 4.0], [0.3, 0.4])):
        tx, ty = torch.tensor(x), torch.tensor([1.0, -2.0])
        J = torch.autograd.functional.jacobian(lambda a: _torch_run(text, a, ty), tx).numpy()
        lines += ["[[case]]", f'name = "point {i}"', f"expr = {json.dumps(text)}",
                  f"bindings = {{ x = {json.dumps(x)}, y = [1.0, -2.0] }}",
                  f"value = {json.dumps(_torch_run(text, tx, ty).numpy().tolist())}",
                  f"jacobian.x = {json.dumps(J.tolist())}", "check = true", ""]
    results = suite.run_cases(suite.parse_suite("\n".join(lines)).cases)
    assert [r.status for r in results] == ["passed", "passed"], [r.failures or r.error for r in results]


@pytest.mark.parametrize("text", ["((y - y.flip(0)) @ y) ** 2", "a2 = y.flip(0) * 2.9\na7 = ((y - a2) @ a2 * (y - a2))\n"
                                  "(torch.sin(a7) ** 2).sum()"])
def test_hessian_through_a_matmul_of_reordered_rows(float64, text):  # noqa: F811
    y = np.array([-3.13891889, -2.9478073, 0.43313719, 1.10174575])
    given = y.copy()
    H = torch.autograd.functional.hessian(lambda t: _torch_run(text, None, t), torch.tensor(y)).numpy()
    np.testing.assert_allclose(api.hessian(text, {"y": given})[("y", "y")], H, rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(given, y)
