"""Parity for a parameter's values set in the text (lang/setparams.py, session 52): ``nn.init``'s deterministic
functions, writes under ``torch.no_grad()`` or into ``.data``, ``nn.Parameter(V)`` and ``model.apply(init)`` leave
PyTorch's parameters with values jac can know, so jac's value and Jacobians (by the bound input and by every
parameter, named as ``named_parameters()`` names them under the module's name) are PyTorch's own."""

import numpy as np
import pytest

from jacobi_cli.tools import api
from test_parity_grad24 import torch64  # noqa: F401 - the fixture is used by name

X = np.array([0.5, -1.0, 2.0])
HEAD = "import torch\nimport torch.nn as nn\n"
TEXTS = {
    "copy_ and fill_ under no_grad": "lin = nn.Linear(3, 2)\nwith torch.no_grad():\n"
    "    lin.weight.copy_(torch.tensor([[1., 2., 3.], [4., 5., 6.]]))\n    lin.bias.fill_(0.25)\ny = torch.tanh(lin(x))",
    "nn.init constant_ and ones_": "lin = nn.Linear(3, 2)\nnn.init.constant_(lin.weight, 0.3)\nnn.init.ones_(lin.bias)\n"
    "y = lin(x) ** 2",
    "torch.nn.init eye_ and zeros_": "lin = nn.Linear(3, 3)\ntorch.nn.init.eye_(lin.weight)\n"
    "torch.nn.init.zeros_(lin.bias)\ny = torch.sigmoid(lin(x))",
    "a Sequential's layers by index": "model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))\n"
    "with torch.no_grad():\n    model[0].weight.copy_(torch.arange(12.).reshape(4, 3) / 10)\n"
    "    model[0].bias.zero_()\n    model[2].weight.fill_(0.5)\n    model[2].bias.fill_(-1.)\ny = model(x)",
    ".data assigned and written": "lin = nn.Linear(3, 2)\nlin.weight.data = torch.tensor([[1., 0., -1.], [2., 1., 0.]])\n"
    "lin.bias.data.fill_(0.1)\ny = lin(x).relu()",
    "nn.Parameter assigned": "lin = nn.Linear(3, 2)\nlin.weight = nn.Parameter(torch.tensor([[1., 0., -1.], [2., 1., 0.]]))\n"
    "lin.bias = nn.Parameter(torch.zeros(2))\ny = lin(x)",
    "elements written under no_grad": "lin = nn.Linear(3, 2, bias=False)\nwith torch.no_grad():\n"
    "    lin.weight[:] = 0.5\n    lin.weight[0, 1] = 2.0\n    for i in range(2):\n        lin.weight[i, 2] = float(i)\n"
    "y = lin(x)",
    "mul_, add_ with alpha, augmented": "lin = nn.Linear(3, 2)\nwith torch.no_grad():\n"
    "    lin.weight.copy_(torch.ones(2, 3))\n    lin.weight.mul_(0.5)\n"
    "    lin.weight.add_(torch.tensor([1., 2., 3.]), alpha=0.1)\n    lin.weight /= 2\n    lin.bias.zero_()\n"
    "    lin.bias -= 1\ny = lin(x)",
    "a leaf made with requires_grad": "w = torch.randn(3, requires_grad=True)\nwith torch.no_grad():\n"
    "    w.copy_(torch.tensor([1., 2., 3.]))\ny = (w * x).sum() * w",
    "nn.init on a leaf": "w = torch.zeros(3, 3, requires_grad=True)\nnn.init.eye_(w)\ny = w @ x",
    "a conv's parameters": "conv = nn.Conv1d(1, 1, 2)\nnn.init.constant_(conv.weight, 0.5)\nnn.init.zeros_(conv.bias)\n"
    "y = conv(x.reshape(1, 1, 3)).flatten()",
    "a norm's parameters": "ln = nn.LayerNorm(3)\nwith torch.no_grad():\n    ln.weight.copy_(torch.tensor([1., 2., 3.]))\n"
    "    ln.bias.fill_(0.5)\ny = ln(x)",
    "in a model's __init__": "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
    "        self.fc = nn.Linear(3, 2)\n        nn.init.ones_(self.fc.weight)\n        with torch.no_grad():\n"
    "            self.fc.bias.fill_(-0.5)\n    def forward(self, x):\n        return torch.tanh(self.fc(x))\n"
    "net = Net()\ny = net(x)",
    "a ModuleList in __init__": "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
    "        self.layers = nn.ModuleList([nn.Linear(3, 3) for _ in range(2)])\n        for layer in self.layers:\n"
    "            nn.init.eye_(layer.weight)\n            nn.init.constant_(layer.bias, 0.1)\n"
    "    def forward(self, x):\n        for layer in self.layers:\n            x = torch.tanh(layer(x))\n        return x\n"
    "net = Net()\ny = net(x)",
    "model.apply(init)": "def init(m):\n    if isinstance(m, nn.Linear):\n        nn.init.constant_(m.weight, 0.2)\n"
    "        nn.init.zeros_(m.bias)\nnet = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))\n"
    "net.apply(init)\ny = net(x)",
    "an embedding's table": "emb = nn.Embedding(4, 3)\nwith torch.no_grad():\n"
    "    emb.weight.copy_(torch.arange(12.).reshape(4, 3))\ny = emb(torch.tensor([1, 3])).sum(0) * x",
    "a recurrent layer's named_parameters": "rnn = nn.RNN(3, 2, batch_first=True)\n"
    "for name, p in rnn.named_parameters():\n    nn.init.constant_(p, 0.1)\ny = rnn(x.reshape(1, 1, 3))[0].flatten()",
}


def _torch_jacobians(torch, text: str) -> tuple:
    """PyTorch's value of ``y`` and its Jacobian by x and by each parameter of each module the text names (those
    requiring grad: a frozen one has none, tests/test_parity_freeze53.py)."""
    x = torch.tensor(X, requires_grad=True)
    env = {"x": x}
    exec(compile(text, "<text>", "exec"), env)  # noqa: S102 - the test's own text, under PyTorch
    y = env["y"]
    wrt = {"x": x}
    for name, value in env.items():
        if isinstance(value, torch.nn.Module):
            wrt.update((f"{name}.{key}", t) for key, t in value.named_parameters() if t.requires_grad)
        elif isinstance(value, torch.Tensor) and not isinstance(value, torch.nn.Parameter) and value.is_leaf \
                and value.requires_grad and name != "x":  # a leaf of the text (a loop's parameter p is a module's)
            wrt[name] = value
    found = {}
    for name, t in wrt.items():
        rows = []
        for i in range(y.numel()):
            (g,) = torch.autograd.grad(y.reshape(-1)[i], t, retain_graph=True, allow_unused=True)
            rows.append(torch.zeros_like(t) if g is None else g)
        found[name] = torch.stack(rows).reshape(tuple(y.shape) + tuple(t.shape)).detach().numpy()
    return y.detach().numpy(), found


def assert_pytorchs(torch, text: str) -> None:
    """jac's value and Jacobians of ``HEAD + text`` at x = X are PyTorch's, for the same inputs."""
    value, theirs = _torch_jacobians(torch, HEAD + text)
    np.testing.assert_allclose(api.evaluate(HEAD + text, {"x": X}), value, rtol=1e-13, atol=1e-15)
    ours = api.jacobian(HEAD + text, {"x": X})
    assert set(ours) == set(theirs)
    for name, want in theirs.items():
        np.testing.assert_allclose(ours[name], want, rtol=1e-12, atol=1e-14, err_msg=name)


@pytest.mark.parametrize("text", TEXTS.values(), ids=TEXTS.keys())
def test_a_parameters_values_set_in_the_text_are_pytorchs(torch64, text):
    assert_pytorchs(torch64, text)
