"""Parity with PyTorch 2.13 for leaves made in the text (``requires_grad=True``, ``.requires_grad_()``,
``nn.Parameter``) and ``y.backward()`` naming the output: each text is run by PyTorch itself (the tests' own
texts), and every leaf's ``.grad`` compared with jac's Jacobian of the output by that input."""

import contextlib
import io
import pathlib

import numpy as np
import pytest

from jacobi_cli.tools import api
from torch_models import float64, pytorch_grads  # noqa: F401 - a fixture

torch = pytest.importorskip("torch")

TUTORIAL = pathlib.Path(__file__).parent.parent / "examples" / "autograd_tutorial.py"  # docs/commands.md shows it
TEXTS = [
    TUTORIAL.read_text(),
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
    """import torch
x = torch.arange(4.0)
x.requires_grad_(True)
u = torch.linspace(-1, 1, 4)
u.requires_grad = True
w = (0.5 * torch.tensor([1., 2., 3., 4.]) + 1).requires_grad_()
h = (x * 2).requires_grad_()
y = 2 * torch.dot(h, x) + (torch.sin(u) * w).sum()
y.backward()
x.grad, u.grad, w.grad
""",
]


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


# torch.nn's layers with parameters, assigned at the text's top level: their parameters are inputs named as
# the text reaches them; PyTorch runs the same text with its parameters set to jac's values
LAYERS = [
    ("fc = nn.Linear(3, 2)", "loss = (torch.tanh(fc(x)) ** 2).sum() + 0.1 * (fc.weight ** 2).sum()",
     {"x": np.array([[0.3, -0.2, 0.5], [1.0, 0.4, -0.7]])}),
    ("model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2, bias=False))",
     "loss = F.cross_entropy(model(x), torch.tensor([1, 0]))",
     {"x": np.array([[0.3, -0.2, 0.5], [1.0, 0.4, -0.7]])}),
    ("conv = nn.Conv2d(2, 4, 3, padding=1, stride=2, groups=2)", "loss = conv(x).pow(2).mean()",
     {"x": np.random.default_rng(23).normal(size=(1, 2, 5, 5))}),
    ("conv = nn.Conv1d(2, 3, 2, dilation=2)", "loss = torch.sigmoid(conv(x)).sum()",
     {"x": np.random.default_rng(24).normal(size=(2, 5))}),
    ("emb = nn.Embedding(5, 3, padding_idx=1)", "loss = (emb(torch.tensor([[0, 1], [4, 1]])) * x).sum()",
     {"x": np.random.default_rng(25).normal(size=(2, 2, 3))}),
]


@pytest.mark.parametrize("setup,compute,inputs", LAYERS, ids=[s.split("=")[0].strip() for s, _, _ in LAYERS])
def test_a_layers_parameters_grads_are_pytorchs(setup, compute, inputs, float64):
    text = f"import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n{setup}\n{compute}\nloss.backward()"
    f = api.compile(text, {k: ":" + "x".join(map(str, v.shape)) for k, v in inputs.items()})
    found = f.jacobian(inputs)
    for key, grad in pytorch_grads(setup, f"{compute}\nloss.backward()", f.declared, inputs).items():
        np.testing.assert_allclose(found[key], grad.numpy(), rtol=1e-11, atol=1e-14, err_msg=key)


CLASSES = '''import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    """A residual block."""

    def __init__(self, width, scale=0.5):
        super().__init__()
        self.lin = nn.Linear(width, width)
        self.scale = scale

    def forward(self, h):
        return h + self.scale * torch.tanh(self.lin(h))


class Net(nn.Module):
    def __init__(self, d_in, hidden, d_out):
        super(Net, self).__init__()
        self.inp = nn.Linear(d_in, hidden)
        self.block = Block(hidden)
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(hidden, d_out))
        self.temperature = nn.Parameter(torch.ones(1))

    def features(self, x):
        return self.block(self.inp(x))

    def forward(self, x):
        return self.head(self.features(x)) / self.temperature


net = Net(3, 5, 2)
'''
COMPUTE = '''logits = net(x)
loss = F.cross_entropy(logits, torch.tensor([1, 0])) + 1e-3 * (net.inp.weight ** 2).sum()
loss = loss + 1e-2 * sum((p ** 2).sum() for p in net.parameters())
loss.backward()
'''


def test_a_model_class_gives_pytorchs_grads(float64):
    x = np.array([[0.3, -0.2, 0.5], [1.0, 0.4, -0.7]])
    f = api.compile(CLASSES + COMPUTE, {"x": ":2x3"})
    found = f.jacobian({"x": x})
    for key, grad in pytorch_grads(CLASSES, COMPUTE, f.declared, {"x": x}).items():
        np.testing.assert_allclose(found[key], grad.numpy(), rtol=1e-11, atol=1e-14, err_msg=key)


def test_a_training_step_gives_the_grads_its_step_uses(float64):
    setup = "model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))"
    step = ("criterion = nn.MSELoss()\noptimizer = torch.optim.SGD(model.parameters(), lr=0.1)\n"
            "optimizer.zero_grad()\nloss = criterion(model(x), y)\nloss.backward()\noptimizer.step()\n"
            "print(loss.item())")
    x, y = np.random.default_rng(26).normal(size=(5, 3)), np.random.default_rng(27).normal(size=(5, 1))
    f = api.compile(f"import torch\nimport torch.nn as nn\n{setup}\n{step}", {"x": ":5x3", "y": ":5x1"})
    found = f.jacobian({"x": x, "y": y})
    for key, grad in pytorch_grads(setup, step, f.declared, {"x": x, "y": y}).items():  # step() after backward()
        np.testing.assert_allclose(found[key], grad.numpy(), rtol=1e-11, atol=1e-14, err_msg=key)


def test_the_texts_backward_gradient_leaves_pytorchs_grads(float64):
    # PyTorch's autograd tutorial: Q.backward(gradient=external_grad); jac vjp with no --v takes the text's V
    from test_leaves23 import GRADIENT
    text = GRADIENT.replace("[1., 2.]", "[0.5, -3.]")
    scope = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(text, "<parity>", "exec"), scope)  # noqa: S102 - the test's own text, under PyTorch
    found = api.vjp(text)
    for name in ("a", "b"):
        np.testing.assert_allclose(found[name], scope[name].grad.numpy(), rtol=1e-15, err_msg=name)
