"""Parity with PyTorch 2.13 for what a pasted training script adds around its modules (session 25): the device
written as PyTorch on a machine without a GPU reads it (torch.device, torch.cuda.is_available(), .to(device)),
a module's float casts, model.modules() / named_modules() walked with isinstance, and nn.MultiheadAttention's
is_causal. Each text is run by PyTorch itself with its modules' parameters set to jac's values, and every .grad
compared with jac's Jacobian by that input."""

import pathlib

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from torch_models import assert_grads_are_pytorchs, float64, pytorch_grads  # noqa: F401 - a fixture

torch = pytest.importorskip("torch")

HEAD = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
RNG = np.random.default_rng(25)
X43 = RNG.normal(size=(4, 3))
DEVICE = 'device = torch.device("cuda" if torch.cuda.is_available() else "cpu")\n'
NET = '''
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 4))
        self.norm = nn.LayerNorm(4)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.norm(self.body(x)))
'''

# (setup: the modules made, compute: ending in loss, the inputs bound)
CASES = {
    "device": (DEVICE + NET + "model = Net().to(device)\nfc = nn.Linear(3, 3).to(device).double()",
               "model.to(device)\nmodel.double()\nt = torch.tensor([1.0, -2.0, 0.5], device=device)\n"
               "loss = model(fc(x.to(device)) * t).pow(2).sum() + model.cpu()(x).sum()", {"x": X43}),
    "device_string": ("device = 'cuda' if torch.cuda.is_available() else 'cpu'\nfc = nn.Linear(3, 2)\nfc.to(device)",
                      "loss = fc(x.to(device)).tanh().sum() + fc.to(torch.float64)(x).sum()", {"x": X43}),
    "modules_walked": (NET + "model = Net()",
                       "count = len([m for m in model.modules() if isinstance(m, nn.Linear)])\n"
                       "reg = sum(m.weight.pow(2).sum() for m in model.modules() if isinstance(m, (nn.Linear, "
                       "nn.LayerNorm)))\nnone = sum(m.weight.sum() for m in model.modules() if isinstance(m, nn.Conv1d))\n"
                       "loss = model(x).pow(2).sum() * count + reg + none * 2 "
                       "+ len([m for m in model.modules() if isinstance(m, nn.GRU)])\n"
                       "for name, m in model.named_modules():\n"
                       "    if isinstance(m, nn.Linear) and name.startswith('body'):\n"
                       "        loss = loss + m.bias.abs().sum()\n"
                       "    if isinstance(m, Net) or isinstance(m, nn.Sequential):\n"
                       "        loss = loss + 0.5\n"
                       "for name, m in model.named_children():\n"
                       "    if isinstance(m, nn.Module) and name != 'norm':\n        loss = loss + m(x if name == 'body' "
                       "else model.body(x)).sum()", {"x": X43}),
    "attention_causal_mask": ("attn = nn.MultiheadAttention(4, 2)",
                              "mask = torch.triu(torch.full((3, 3), float('-inf')), 1)\n"
                              "a, w = attn(x, x, x, attn_mask=mask, is_causal=True)\n"
                              "loss = a.pow(2).sum() + (w * x.sum()).sum()", {"x": RNG.normal(size=(3, 2, 4))}),
    "attention_causal_hint": ("attn = nn.MultiheadAttention(4, 2, batch_first=True)",
                              "mask = torch.zeros(3, 3)\n"
                              "a, _ = attn(x, x, x, attn_mask=mask, is_causal=True, need_weights=False)\n"
                              "loss = a.pow(2).sum()", {"x": RNG.normal(size=(2, 3, 4))}),
    "attention_causal_cross": ("attn = nn.MultiheadAttention(4, 1)",
                               "mask = torch.zeros(2, 3)\n"
                               "a, _ = attn(x[:2], x, x, attn_mask=mask, is_causal=True, need_weights=False)\n"
                               "loss = a.pow(3).sum()", {"x": RNG.normal(size=(3, 4))}),
    "attention_bias_kv": ("attn = nn.MultiheadAttention(4, 2, add_bias_kv=True)",
                          "mask = torch.triu(torch.full((3, 3), float('-inf')), 1)\n"
                          "a, w = attn(x, x, x, attn_mask=mask)\nb, u = attn(x, x, x, average_attn_weights=False)\n"
                          "loss = a.pow(2).sum() + (w * x.sum()).sum() + b.sin().sum() + (u ** 2).sum()",
                          {"x": RNG.normal(size=(3, 2, 4))}),
    "attention_zero_attn": ("attn = nn.MultiheadAttention(4, 2, add_zero_attn=True, batch_first=True)",
                            "pad = torch.tensor([[False, False, True], [False, False, False]])\n"
                            "a, w = attn(x, x, x, key_padding_mask=pad)\nb, _ = attn(x, x, x, need_weights=False)\n"
                            "loss = a.pow(2).sum() + (w ** 3).sum() + b.pow(2).sum()",
                            {"x": RNG.normal(size=(2, 3, 4))}),
    "attention_both_causal": ("attn = nn.MultiheadAttention(4, 1, add_bias_kv=True, add_zero_attn=True, bias=False)",
                              "mask = torch.zeros(3, 3)\n"
                              "a, _ = attn(x, x, x, attn_mask=mask, is_causal=True, need_weights=False)\n"
                              "c, w = attn(x, x, x, attn_mask=mask > 0, is_causal=True)\n"
                              "loss = a.pow(2).sum() + (c * w.sum()).sum() + (attn(x[:2], x, x)[1] ** 2).sum()",
                              {"x": RNG.normal(size=(3, 4))}),
    "attention_kdim": ("attn = nn.MultiheadAttention(4, 2, kdim=3, vdim=2, add_bias_kv=True, add_zero_attn=True)",
                       "a, w = attn(x, y, z)\nloss = a.pow(2).sum() + (w ** 2).sum()",
                       {"x": RNG.normal(size=(2, 1, 4)), "y": RNG.normal(size=(3, 1, 3)),
                        "z": RNG.normal(size=(3, 1, 2))}),
    "functional_bias_kv": ("",
                           "y, w = F.multi_head_attention_forward(q, q, q, 4, 2, W, bi, bk, bv, True, 0.0, Wo, bo, "
                           "key_padding_mask=torch.tensor([[False, True, False], [False] * 3]), "
                           "average_attn_weights=False)\nloss = y.pow(2).sum() + (w * w.detach()).sum() * 3",
                           {"q": RNG.normal(size=(3, 2, 4)), "W": RNG.normal(size=(12, 4)), "bi": RNG.normal(size=12),
                            "bk": RNG.normal(size=(1, 1, 4)), "bv": RNG.normal(size=(1, 1, 4)),
                            "Wo": RNG.normal(size=(4, 4)), "bo": RNG.normal(size=4)}),
    "lstm_state_pairs": ("lstm = nn.LSTM(3, 4)\ncell = nn.LSTMCell(3, 4)\n"
                         "def init_hidden(n):\n    return (torch.zeros(1, n, 4), torch.full((1, n, 4), 0.5))",
                         "hc = (torch.zeros(1, 2, 4), torch.ones(1, 2, 4))\na, _ = lstm(x, hc)\n"
                         "b, (h, c) = lstm(x, init_hidden(2))\nd, _ = lstm(x, [torch.ones(1, 2, 4), h.detach() * 0])\n"
                         "g, k = cell(x[0], (torch.zeros(2, 4), torch.ones(2, 4)))\n"
                         "loss = a.pow(2).sum() + b.sum() * c.sum() + d.sum() + (g * k).sum()",
                         {"x": RNG.normal(size=(4, 2, 3))}),
    "instance_norm_tracked": ("inn = nn.InstanceNorm1d(3, affine=True, track_running_stats=True, momentum=0.3)\n"
                              "inn2 = nn.InstanceNorm2d(2, track_running_stats=True)\n"
                              "frozen = nn.InstanceNorm1d(3, track_running_stats=True, momentum=None)",
                              "a = inn(x).pow(2).sum() + inn(x ** 2 + 1).sum()\ninn.eval()\n"
                              "b = (inn(x) ** 3).sum() + inn(x[0]).pow(2).sum()\ninn.train()\n"
                              "c = inn(x * 2).pow(3).sum()\ninn.eval()\n"
                              "w = x.reshape(2, 2, 3, 2)\nd = inn2(w).sum() + inn2(w).pow(2).sum()\ninn2.eval()\n"
                              "e = frozen(x).sum() * 0 + frozen(x * 3).sum()\nframe = frozen.eval()\n"
                              "loss = a * b + c + (inn(x) ** 2).sum() + d + (inn2(w) ** 3).sum() + e "
                              "+ (frozen(x) ** 3).sum()", {"x": RNG.normal(size=(2, 3, 4))}),
}


@pytest.mark.parametrize("case", CASES)
def test_every_grad_is_pytorchs(case, float64):
    setup, compute, inputs = CASES[case]
    assert_grads_are_pytorchs(HEAD + setup, compute, inputs)


@pytest.mark.parametrize("text, words", [
    ("fc = nn.Linear(3, 2)\ny = fc(torch.tensor([1, 2, 3])).sum() * z", ["integers (int64)", "x.float()"]),
    ("fc = nn.Linear(3, 2)\ny = fc(torch.tensor([1.0, 2.0, 3.0]) > z).sum()", ["booleans"]),
    ("c = nn.Conv1d(1, 1, 2)\ny = c(torch.arange(6).reshape(1, 1, 6)).sum() * z", ["nn.Conv1d", "integers"]),
    ("r = nn.GRU(3, 2)\ny = r(torch.ones(2, 3, dtype=torch.int64))[0].sum() * z", ["nn.GRU", "integers"]),
    ("fc = nn.Linear(3, 2)\nfc.to(torch.int64)\ny = z * 2", ["float dtype"]),
    ("lstm = nn.LSTM(3, 4)\nhc = torch.zeros(2, 1, 2, 4)\ny = lstm(torch.ones(5, 2, 3) * z, hc)[0].sum()",
     ["tuple of two arrays", "not one tensor"]),
    ("cell = nn.LSTMCell(3, 4)\ny = cell(torch.ones(2, 3) * z, torch.zeros(2, 2, 4))[0].sum()", ["not one tensor"]),
    ("fc = nn.Linear(3, 2).to(torch.device('cuda'))\ny = z * 2", ["'cuda'", "CPU"]),
    ("attn = nn.MultiheadAttention(4, 2)\nq = torch.ones(3, 4) * z\ny = attn(q, q, q, is_causal=True)[0].sum()",
     ["without attn_mask", "PyTorch raises"]),
    ("attn = nn.MultiheadAttention(4, 2)\nq = torch.ones(3, 4) * z\n"
     "y = attn(q, q, q, is_causal=True, need_weights=False)[0].sum()", ["without attn_mask"]),
])
def test_what_jac_refuses_pytorch_raises_on(text, words, float64):
    """What jac refuses here PyTorch refuses too, on a machine without a GPU (a float layer of integers, a module
    cast to integers, a CUDA device, is_causal without a mask)."""
    import torch as torch_module

    with pytest.raises((RuntimeError, TypeError, ValueError, AssertionError)):
        if "cuda" in text and torch_module.cuda.is_available():
            raise RuntimeError("this machine has a GPU")
        exec(HEAD + text, {"z": torch_module.tensor(1.5, requires_grad=True)})  # noqa: S102 - the test's own text
    with pytest.raises(JacError) as found:
        api.jacobian(HEAD + text, {"z": np.array(1.5)})
    for word in words:
        assert word in found.value.message, found.value.message


def test_the_training_script_example_gives_pytorchs_grads(float64):
    """examples/training_script.py (docs/commands.md shows it): the device idiom, Net().to(device), weight decay
    over the Linear layers of model.modules()."""
    text = (pathlib.Path(__file__).parent.parent / "examples" / "training_script.py").read_text()
    setup, compute = text.split("model = Net().to(device)\n")
    setup = setup.split("import torch.nn as nn\n", 1)[1] + "model = Net().to(device)\n"
    x = RNG.normal(size=(8, 3))
    f = api.compile(text, {"x": ":8x3"})
    found = f.jacobian({"x": x})
    for key, grad in pytorch_grads(HEAD + setup, compute, f.declared, {"x": x}).items():
        np.testing.assert_allclose(found[key], grad.numpy(), rtol=1e-11, atol=1e-13, err_msg=key)
