"""Session 32: a test of the inputs' values (`if`, `while`, `a if t else b`, a comprehension's `if`) is taken at
the given values, as PyTorch's eager mode runs it; values and Jacobians against PyTorch's."""
import numpy as np
import pytest

from jacobi_cli.tools import api
from torch_models import float64  # noqa: F401 - a fixture

torch = pytest.importorskip("torch")

CASES = [
    ("if x.sum() > 0:\n    y = x * 2\nelse:\n    y = torch.sin(x)\ny", [1.0, 2.0]),
    ("if x.sum() > 0:\n    y = x * 2\nelse:\n    y = torch.sin(x)\ny", [1.0, -2.0]),
    ("n = x.norm()\nif n > 1.0:\n    x = x * (1.0 / n)\nx * 3", [3.0, 4.0]),  # clipping a norm
    ("n = x.norm()\nif n > 1.0:\n    x = x * (1.0 / n)\nx * 3", [0.3, 0.4]),
    ("y = x\nwhile y.abs().max() > 0.1:\n    y = y / 2\ny", [3.0, -1.0]),
    ("y = x * 2 if x[0] > 0 else x ** 2\ny", [-1.0, 2.0]),
    ("def f(v):\n    if v.mean() > 0:\n        return torch.tanh(v)\n    return v ** 3\nf(x) + f(-x)", [0.5, -2.0]),
    ("z = torch.zeros(2)\nfor i in range(2):\n    if x[i] > 0:\n        z = z + x * i\nz", [1.0, -1.0]),
    ("s = x.sum()\nif 0 < s < 5:\n    y = x * s\nelse:\n    y = x\ny", [1.0, 2.0]),
    ("if x.sum() > 0 and x[0] > 0:\n    y = x\nelse:\n    y = -x\ny", [1.0, 2.0]),
    ("torch.stack([v * 2 for v in x if v > 0]).sum()", [-1.0, 3.0]),
    ("y = x\nfor _ in range(3):\n    if (y ** 2).sum() < 1:\n        break\n    y = torch.tanh(y) * 0.5\ny", [2.0, 1.0]),
]


def _torch_run(text: str, t):
    *body, last = text.split("\n")
    env = {"torch": torch, "x": t}
    exec("\n".join(body), env)
    return eval(last, env)


@pytest.mark.parametrize("text,x", CASES, ids=[f"{' '.join(t.split())[:50]} at {x}" for t, x in CASES])
def test_a_test_of_the_values_is_taken_at_them_as_pytorch_runs_it(float64, text, x):  # noqa: F811
    want = _torch_run(text, torch.tensor(x)).detach().numpy()
    J = torch.autograd.functional.jacobian(lambda t: _torch_run(text, t), torch.tensor(x)).numpy()
    got = api.evaluate(text, {"x": np.array(x)})
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(api.jacobian(text, {"x": np.array(x)})["x"], J, rtol=1e-12, atol=1e-14)


def test_hessian_of_the_branch_taken(float64):  # noqa: F811
    text = "if x.sum() > 0:\n    y = (x ** 3).sum()\nelse:\n    y = torch.sin(x).sum()\ny"
    for x in ([1.0, 2.0], [-1.0, 0.5]):
        H = torch.autograd.functional.hessian(lambda t: _torch_run(text, t), torch.tensor(x)).numpy()
        np.testing.assert_allclose(api.hessian(text, {"x": np.array(x)})[("x", "x")], H, rtol=1e-12, atol=1e-14)
