"""Parity with PyTorch 2.13 for module containers (nn.ModuleList, nn.ModuleDict, nn.Sequential indexed, sliced,
iterated, named), the norms' and nn.PReLU's parameters as inputs, .eval() / .train() (dropout, batch norm and its
running statistics), nn.Bilinear and nn.ConvTranspose1d/2d/3d: each text is run by PyTorch itself with its modules'
parameters set to jac's values, and every .grad compared with jac's Jacobian by that input."""

import pathlib

import numpy as np
import pytest

from jacobi_cli.tools import api
from torch_models import assert_grads_are_pytorchs, float64, pytorch_grads  # noqa: F401 - a fixture

torch = pytest.importorskip("torch")

HEAD = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nfrom collections import OrderedDict\n"
RNG = np.random.default_rng(24)
X23 = RNG.normal(size=(2, 3))
X43 = RNG.normal(size=(4, 3))

# (setup: the modules made, compute: ending in loss, the inputs bound)
CASES = {
    "module_list": ("m = nn.ModuleList([nn.Linear(3, 3), nn.Linear(3, 3), nn.Linear(3, 2)])",
                    "h = x\nfor layer in m[:-1]:\n    h = torch.tanh(layer(h))\n"
                    "loss = m[-1](h).pow(2).sum() + len(m) * m[0].bias.sum() + m[1](x).sum()", {"x": X23}),
    "module_list_appended": ("m = nn.ModuleList()\nfor i in range(3):\n    m.append(nn.Linear(3, 3))\n"
                             "m.extend([nn.Tanh(), nn.Linear(3, 1)])",
                             "h = x\nfor layer in m:\n    h = layer(h)\nloss = (h ** 2).mean()", {"x": X23}),
    "sequential_named": ("model = nn.Sequential(OrderedDict([('fc1', nn.Linear(3, 4)), ('act', nn.GELU()), "
                         "('fc2', nn.Linear(4, 2))]))",
                         "loss = model(x).sum() ** 2 + model.fc1(x).pow(2).sum() + (model[:2](x) ** 3).sum() "
                         "+ model.fc2.weight.sum() * model[-1].bias.sum()", {"x": X23}),
    "sequential_iterated": ("model = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 4), nn.Tanh())",
                            "h = x\nouts = []\nfor i, layer in enumerate(model):\n    h = layer(h)\n"
                            "    outs.append(h.sum())\nloss = torch.stack(outs).pow(2).sum()", {"x": X23}),
    "weight_decay": ("model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))",
                     "loss = F.mse_loss(model(x), torch.ones(4, 1))\nfor n, p in model.named_parameters():\n"
                     "    if 'bias' not in n:\n        loss = loss + 0.01 * (p ** 2).sum()\n"
                     "    if n.endswith('bias'):\n        loss = loss + 0.1 * p.abs().sum()\n"
                     "loss = loss + 1e-3 * sum(p.pow(2).sum() for p in model.parameters())", {"x": X43}),
    "norms": ("ln = nn.LayerNorm(3)\nrms = nn.RMSNorm([2, 3])\nbn = nn.BatchNorm1d(3)\ngn = nn.GroupNorm(1, 4)\n"
              "inn = nn.InstanceNorm1d(4, affine=True)\nact = nn.PReLU(3, init=0.1)",
              "h = bn(act(ln(x * 2.0)))\nloss = (h ** 3).sum() + (rms(h[:2]) * h[2:]).sum()\n"
              "g = gn(torch.stack([h, h ** 2, h.sin(), h.cos()], 1))\nloss = loss + (inn(g) ** 3).sum() "
              "+ (g[:, :, 0] ** 2).sum()", {"x": X43}),
    "norm_2d": ("bn = nn.BatchNorm2d(2, momentum=None)\nln = nn.LayerNorm([3, 3], bias=False)",
                "loss = (bn(x) * x).sum() + (ln(x) ** 3).sum()", {"x": RNG.normal(size=(2, 2, 3, 3))}),
    "eval_fresh": ("model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.3), nn.RReLU(), "
                   "nn.Linear(4, 2))",
                   "model.eval()\nloss = (model(x) ** 2).sum()", {"x": X43}),
    "train_then_eval": ("bn = nn.BatchNorm1d(3, momentum=0.2)\nfc = nn.Linear(3, 3)",
                        "a = bn(fc(x)).pow(2).sum()\nb = bn(x * 3.0).sum()\nbn.eval()\n"
                        "loss = a + (bn(fc(x)) ** 3).sum() + b\nbn.train(mode=False)\nloss = loss + bn(x).pow(2).sum()",
                        {"x": X43}),
    "cumulative_stats": ("bn = nn.BatchNorm1d(3, momentum=None)",
                         "u = bn(x).sum()\nv = bn(x ** 2).sum()\nbn.train(False)\nloss = (bn(x) ** 2).sum() + u * v",
                         {"x": X43}),
    "bn_2d_3d_eval": ("bn = nn.BatchNorm2d(3, momentum=None)\nbn3 = nn.BatchNorm3d(3, momentum=0.4)",
                      "a = bn(x).sum() + bn(x ** 2).pow(2).sum() + bn3(x.unsqueeze(-1)).pow(2).sum()\nbn.eval()\n"
                      "bn3.eval()\nloss = (bn(x) ** 3).sum() * a + bn3(x.unsqueeze(-1)).pow(3).sum()",
                      {"x": RNG.normal(size=(2, 3, 2, 3))}),
    "layers_24": ("bil = nn.Bilinear(3, 2, 4)\nup = nn.ConvTranspose1d(2, 4, 3, stride=2, output_padding=1, groups=2)\n"
                  "up2 = nn.ConvTranspose2d(1, 2, (2, 3), padding=1, dilation=2, bias=False)\n"
                  "up3 = nn.ConvTranspose3d(2, 1, 2)",
                  "loss = bil(x, x[:, :2] ** 2).pow(2).sum() + up(z).pow(2).sum() + up2(w).tanh().sum() "
                  "+ up3(v).pow(2).sum()",
                  {"x": X23, "z": RNG.normal(size=(1, 2, 4)), "w": RNG.normal(size=(1, 1, 4, 5)),
                   "v": RNG.normal(size=(1, 2, 2, 2, 2))}),
}

CLASS = '''
class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc = nn.Linear(d, d)
        self.norm = nn.LayerNorm(d)

    def forward(self, h):
        return h + torch.tanh(self.fc(self.norm(h)))


class Net(nn.Module):
    def __init__(self, d, depth=2):
        super().__init__()
        self.blocks = nn.ModuleList([Block(d) for _ in range(depth)])
        self.extra = nn.ModuleList()
        for i in range(2):
            self.extra.append(nn.Linear(d, d, bias=i == 0))
        self.heads = nn.ModuleDict({'a': nn.Linear(d, 1), 'b': nn.Sequential(nn.Linear(d, 2), nn.Softplus())})
        self.scale = nn.Parameter(torch.full((1,), 0.5))
        self.bn = nn.BatchNorm1d(d)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        h = x
        for block in self.blocks:
            h = block(h)
        h = self.drop(self.bn(self.extra[-1](self.extra[0](h))))
        out = (self.scale * self.heads['a'](h)).sum()
        for name, head in self.heads.items():
            out = out + head(h).pow(2).sum()
        for key in self.heads:
            out = out + self.heads[key](h).mean()
        return out
'''
BUFFERS = """
class Masked(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.register_buffer("mask", torch.tril(torch.ones(d, d)))
        self.seq = nn.Sequential(nn.Linear(d, d))
        self.seq.append(nn.Tanh())
        self.seq.extend([nn.Linear(d, 2), nn.Dropout(0.0)])

    def forward(self, x):
        return self.seq(x @ self.mask) * (2.0 if self.training else 1.0)
"""
LISTS = """
class Stack(nn.Module):
    def __init__(self, d, depth):
        super().__init__()
        layers = []
        for i in range(depth):
            layers.append(nn.Linear(d, d))
            layers.append(nn.LayerNorm(d))
            layers.append(nn.Tanh())
        self.body = nn.Sequential(*layers)
        heads = [nn.Linear(d, 1) for _ in range(2)]
        self.heads = nn.ModuleList(heads)
        self.tail = nn.Sequential(*[nn.Linear(d, d, bias=False) for _ in range(2)], nn.Softplus())

    def forward(self, x):
        h = self.tail(self.body(x))
        return sum(head(h).pow(2).sum() for head in self.heads)
"""
CLASSES = {
    "class_lists": (LISTS + "net = Stack(3, 2)", "loss = net(x)", {"x": X43}),
    "class_buffers": (BUFFERS + "net = Masked(3)\nnet.double()", "a = net(x).sum()\nnet.eval()\nloss = a * net(x).sum()",
                      {"x": X43}),
    "class_eval": (CLASS + "net = Net(3)", "net.eval()\nloss = net(x)", {"x": X43}),
    "class_trained_once": (CLASS + "net = Net(3, depth=3)",
                           "net.drop.eval()\nfirst = net(x)\nnet.eval()\nloss = net(x * 0.5) + first", {"x": X43}),
}


@pytest.mark.parametrize("case", [*CASES, *CLASSES])
def test_every_grad_is_pytorchs(case, float64):
    setup, compute, inputs = {**CASES, **CLASSES}[case]
    assert_grads_are_pytorchs(HEAD + setup, compute, inputs)


def test_the_blocks_example_gives_pytorchs_grads(float64):
    """examples/blocks.py (docs/commands.md shows it): a ModuleList of blocks with norms and dropout, in eval mode,
    weight decay over named_parameters()."""
    text = (pathlib.Path(__file__).parent.parent / "examples" / "blocks.py").read_text()
    setup, compute = text.split("model.eval()")
    setup = setup.replace("import torch.nn.functional as F\n", "").split("import torch.nn as nn\n", 1)[1]
    x = RNG.normal(size=(8, 4))
    f = api.compile(text, {"x": ":8x4"})
    found = f.jacobian({"x": x})
    for key, grad in pytorch_grads(HEAD + setup, "model.eval()" + compute, f.declared, {"x": x}).items():
        np.testing.assert_allclose(found[key], grad.numpy(), rtol=1e-11, atol=1e-13, err_msg=key)
