"""Parity for ``*seq`` and ``**mapping`` in a call (lang/starred.py, session 54): jac's value and Jacobians (by x and
by every parameter of each module, named as ``named_parameters()`` names them) are PyTorch 2.13's own for the same
text, with what the unpacking holds passed to library functions, the text's functions, methods, module constructors
and module calls."""

import pytest

from test_parity_grad24 import torch64  # noqa: F401 - the fixture is used by name
from test_parity_setparams52 import assert_pytorchs  # value and Jacobians at the same x, against PyTorch's

TEXTS = {
    "a def's **kw into torch.sum": "def f(x, **kw):\n    return torch.sum(x * 2, **kw)\ny = f(x.reshape(3, 1) * x, dim=0)",
    "a dict display into a method": "kw = {'dim': 0}\ny = (x.reshape(3, 1) * x).softmax(**kw)",
    "*args and **kw passed on": "def inner(a, b):\n    return a ** 2 - b\ndef outer(*args, **kw):\n"
    "    return inner(*args, **kw)\ny = outer(x, b=x.cos())",
    "F's keywords through **kw": "import torch.nn.functional as F\ndef act(x, **kw):\n    return F.leaky_relu(x, **kw)\n"
    "y = act(x, negative_slope=0.2) * x",
    "dtype and None through **kw": "def f(x, **kw):\n    return torch.nn.functional.softmax(x, **kw)\n"
    "y = f(x, dim=0, dtype=None) + torch.cumsum(x, 0, **{'dtype': torch.float64})",
    "nn.Linear(3, 2, **kwargs) in __init__": "class M(nn.Module):\n    def __init__(self, **kwargs):\n"
    "        super().__init__()\n        self.lin = nn.Linear(3, 2, **kwargs)\n        with torch.no_grad():\n"
    "            self.lin.weight.copy_(torch.tensor([[1., 2., 3.], [4., 5., 6.]]) / 7)\n"
    "    def forward(self, x):\n        return torch.tanh(self.lin(x))\nm = M(bias=False)\ny = m(x)",
    "nn.Linear(*args)": "args = (3, 2)\nlin = nn.Linear(*args)\nwith torch.no_grad():\n"
    "    lin.weight.copy_(torch.tensor([[1., 2., 3.], [4., 5., 6.]]))\n    lin.bias.fill_(0.5)\ny = lin(x)",
    "a submodule called with **kw": "class Block(nn.Module):\n    def forward(self, x, gain=1.0):\n"
    "        return torch.tanh(x * gain)\nclass M(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
    "        self.b = Block()\n    def forward(self, x, **kw):\n        return self.b(x, **kw)\nm = M()\ny = m(x, gain=0.5)",
    "an activation's keywords held": "import torch.nn.functional as F\nclass M(nn.Module):\n"
    "    def __init__(self, **act_kw):\n        super().__init__()\n        self.act_kw = act_kw\n"
    "    def forward(self, x):\n        return F.elu(x, **self.act_kw)\nm = M(alpha=0.5)\ny = m(x)",
    "nn.LeakyReLU(**kw)": "kw = {'negative_slope': 0.3}\nact = nn.LeakyReLU(**kw)\ny = act(x)",
    "a plain class made with **": "class P:\n    def __init__(self, a, b=1.0):\n        self.a = a\n        self.b = b\n"
    "    def f(self, x, **kw):\n        return torch.sum(x * self.a + self.b, **kw)\np = P(**{'a': 2.0, 'b': 3.0})\n"
    "y = p.f(x.reshape(3, 1) * x, dim=0)",
    "the written inplace=True with *": "import torch.nn.functional as F\nt = x * 2 - 1\n"
    "u = F.relu(*[t], inplace=True)\ny = t * x + u",
}


@pytest.mark.parametrize("text", TEXTS.values(), ids=TEXTS.keys())
def test_an_unpacking_is_pytorchs_call(torch64, text):
    assert_pytorchs(torch64, text)
