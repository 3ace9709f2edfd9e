"""Parity with PyTorch 2.13 for leaves made in the text (``requires_grad=True``, ``.requires_grad_()``,
``nn.Parameter``) and ``y.backward()`` naming the output: each text is run by PyTorch itself (the tests' own
texts), and every leaf's ``.grad`` compared with jac's Jacobian of the output by that input."""

import contextlib
import io

import numpy as np
import pytest

from jacobi_cli.tools import api

torch = pytest.importorskip("torch")

TEXTS = [
    """import torch
x = torch.ones(2, 2, requires_grad=True)
print(x)
y = x + 2
z = y * y * 3
out = z.mean()
print(z, out)
out.backward()
print(x.grad)
""",
    """import torch
import torch.nn.functional as F
W1 = torch.tensor([[0.2, -0.4, 0.1], [0.7, 0.3, -0.5]], requires_grad=True)
b1 = torch.tensor([0.05, -0.1], requires_grad=True)
W2 = torch.tensor([[0.3, -0.2], [0.1, 0.6], [-0.4, 0.2]], requires_grad=True)
x = torch.tensor([[1.0, 2.0, -1.0], [0.5, -0.3, 0.8]])
target = torch.tensor([2, 0])
h = torch.relu(x @ W1.T + b1)
loss = F.cross_entropy(h @ W2.T, target)
loss.backward()
print(W1.grad, b1.grad, W2.grad)
""",
    """import torch
from torch import nn
w = nn.Parameter(torch.tensor([0.5, -1.5, 2.0]))
s = torch.tensor(0.7).requires_grad_()
v = torch.linspace(0, 1, 3, requires_grad=True)
loss = (torch.sigmoid(w * s) * v).sum() + s ** 2
loss.backward()
w.grad, s.grad, v.grad
""",
]


@pytest.fixture
def float64():
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


@pytest.mark.parametrize("text", TEXTS, ids=range(len(TEXTS)))
def test_each_leaf_grad_is_pytorchs(text, float64):
    scope = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(text, "<parity>", "exec"), scope)  # noqa: S102 - the test's own text, under PyTorch
    leaves = {name: v for name, v in scope.items() if isinstance(v, torch.Tensor) and v.is_leaf and v.requires_grad}
    found = api.jacobian(text)
    assert set(found) == set(leaves)
    for name, leaf in leaves.items():
        np.testing.assert_allclose(found[name], leaf.grad.numpy(), rtol=1e-12, atol=1e-15, err_msg=name)
