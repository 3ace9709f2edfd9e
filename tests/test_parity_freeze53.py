"""Parity for a leaf the text freezes (lang/freeze.py, session 53): ``requires_grad_(False)``, ``requires_grad =
False``, ``detach_()`` and ``Module.requires_grad_(False)`` before the first use leave PyTorch's parameter a tensor
that needs no gradient; jac's value and Jacobians by every input still requiring one (named as
``named_parameters()`` names them under the module's name) are PyTorch's own, and jac has no Jacobian for a frozen
one, as PyTorch's ``.grad`` of it stays None."""

import pytest

from test_parity_grad24 import torch64  # noqa: F401 - the fixture is used by name
from test_parity_setparams52 import assert_pytorchs  # value and Jacobians at the same x, against PyTorch's

SEQ = ("model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))\nwith torch.no_grad():\n"
       "    model[0].weight.copy_(torch.arange(12.).reshape(4, 3) / 10 - 0.5)\n    model[0].bias.fill_(0.1)\n"
       "    model[2].weight.copy_(torch.arange(8.).reshape(2, 4) / 8)\n    model[2].bias.fill_(-0.2)\n")
TEXTS = {
    "requires_grad_(False) on a layer's weight": "lin = nn.Linear(3, 2)\nlin.weight.requires_grad_(False)\n"
    "lin.weight.copy_(torch.tensor([[1., 2., 3.], [4., 5., 6.]]))\nnn.init.constant_(lin.bias, 0.5)\n"
    "y = torch.tanh(lin(x))",
    "requires_grad = False in a loop, the head unfrozen": SEQ + "for p in model.parameters():\n"
    "    p.requires_grad = False\nfor p in model[2].parameters():\n    p.requires_grad = True\ny = model(x)",
    "Module.requires_grad_(False) of one layer": SEQ + "model[0].requires_grad_(False)\ny = model(x)",
    "Module.requires_grad_(False) then the head's requires_grad_()": SEQ + "model.requires_grad_(False)\n"
    "model[2].requires_grad_()\ny = model(x) ** 2",
    "named_parameters by name": SEQ + "for name, p in model.named_parameters():\n    if name.endswith('bias'):\n"
    "        p.requires_grad_(False)\ny = model(x)",
    "the trainable parameters counted by requires_grad": SEQ + "model[0].requires_grad_(False)\n"
    "n = sum(p.numel() for p in model.parameters() if p.requires_grad)\n"
    "kept = [p for p in model.parameters() if not p.requires_grad]\ny = model(x) * n + kept[1].sum()",
    "a leaf's detach_()": "w = torch.tensor([1., 2., 3.], requires_grad=True)\nv = torch.tensor([0.5, 0.25, 2.], "
    "requires_grad=True)\nw.detach_()\ny = (w * x).sum() * v",
    "a leaf frozen, then written outside no_grad": "w = torch.ones(3, requires_grad=True)\nw.requires_grad_(False)\n"
    "w.mul_(3.)\nw[0] = -1.\ny = torch.sin(w * x)",
    "in a model's __init__": "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
    "        self.body = nn.Linear(3, 3)\n        self.head = nn.Linear(3, 1)\n        nn.init.eye_(self.body.weight)\n"
    "        nn.init.zeros_(self.body.bias)\n        nn.init.constant_(self.head.weight, 0.3)\n"
    "        nn.init.constant_(self.head.bias, 0.1)\n        for p in self.body.parameters():\n"
    "            p.requires_grad = False\n    def forward(self, x):\n        return self.head(torch.tanh(self.body(x)))\n"
    "net = Net()\ny = net(x)",
    "a class's backbone.requires_grad_(False)": "class Net(nn.Module):\n    def __init__(self):\n"
    "        super().__init__()\n        self.backbone = nn.Sequential(nn.Linear(3, 3), nn.ReLU())\n"
    "        self.head = nn.Linear(3, 2)\n        self.backbone.requires_grad_(False)\n"
    "    def forward(self, x):\n        return self.head(self.backbone(x))\n"
    "net = Net()\nnet.apply(lambda m: None)\nwith torch.no_grad():\n    for p in net.parameters():\n"
    "        p.fill_(0.25)\ny = net(x)",
}


@pytest.mark.parametrize("text", TEXTS.values(), ids=TEXTS.keys())
def test_a_frozen_leaf_is_pytorchs_constant(torch64, text):
    assert_pytorchs(torch64, text)
