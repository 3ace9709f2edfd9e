"""Python's math module of a tensor's number against PyTorch: the number is a constant of the derivatives
(PyTorch's float(t)), so jac's Jacobian is PyTorch's."""
from __future__ import annotations

import math

import numpy as np
import pytest

from jacobi_cli.tools import api

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("text", [
    "math.log(x[1]) * x ** 2",
    "math.sqrt(x[2]) * torch.sin(x) + math.factorial(3) * x",
    "sum(x ** k / math.factorial(k) for k in range(6))",
    "math.exp(x[0]) * x + math.gamma(x[1] + 1) * x ** 2",
])
def test_jacobian_is_pytorchs(text):
    x = np.array([0.5, 1.5, 2.5])
    source = "import math\nimport torch\n" + text

    def f(t):
        return eval(text, {"math": math, "torch": torch, "x": t})

    expected = torch.autograd.functional.jacobian(f, torch.tensor(x)).numpy()
    np.testing.assert_allclose(api.evaluate(source, {"x": x}), f(torch.tensor(x)).numpy(), rtol=1e-14)
    np.testing.assert_allclose(api.jacobian(source, {"x": x})["x"], expected, rtol=1e-14, atol=1e-14)
