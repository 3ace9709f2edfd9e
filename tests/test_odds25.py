"""Session 25's module odds and ends (no PyTorch needed): devices as PyTorch on a machine without a GPU reads
them, a module's float casts under each --dtype, model.modules() / named_modules() in PyTorch's order with
isinstance, and the refusals (a GPU, integer inputs to a layer, is_causal without a mask)."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

HEAD = "import torch\nimport torch.nn as nn\n"
X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
NET = '''
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 4))
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.body(x))
model = Net()
'''


def value(text, **options):
    return api.evaluate(HEAD + text, {"x": X}, **options)


def test_the_device_idiom_is_the_cpu_and_changes_nothing():
    plain = value("fc = nn.Linear(3, 2)\nfc(x).sum()")
    moved = value('device = torch.device("cuda" if torch.cuda.is_available() else "cpu")\n'
                  "fc = nn.Linear(3, 2).to(device)\nfc.to(device)\nfc.cpu()\n"
                  "fc(x.to(device) + torch.zeros(3, device=device)).sum()")
    assert float(moved) == float(plain)
    assert float(value("n = torch.cuda.device_count()\nx.sum() * (n + 1) * torch.backends.mps.is_available()")) == 0


@pytest.mark.parametrize("dtype, cast, ok", [
    ("float64", "model.double()", True), ("float64", "model.to(torch.float64)", True),
    ("float64", "model.float()", False), ("float32", "model.float()", True),
    ("float32", "model.double()", False), ("float32", "model.to(torch.double)", False),
])
def test_a_module_cast_is_read_only_in_jacs_dtype(dtype, cast, ok):
    text = NET + cast + "\nmodel(x).sum()"
    if ok:
        assert np.isfinite(float(value(text, dtype=dtype)))
        return
    with pytest.raises(JacError) as found:
        value(text, dtype=dtype)
    assert f"dtype='{'float64' if dtype == 'float32' else 'float32'}'" in found.value.message  # the API's words


def test_modules_are_walked_in_pytorchs_order_each_once():
    # PyTorch: [m for m in model.modules()] is Net, Sequential, Linear, ReLU, Linear, Linear; named '' first
    assert float(value(NET + "len([m for m in model.modules()]) + x.sum() * 0")) == 6
    assert float(value(NET + "len([m for m in model.modules() if isinstance(m, nn.Linear)]) + x.sum() * 0")) == 3
    # a module held twice is listed once, as PyTorch's memo does: Sequential, fc, ReLU
    assert float(value("fc = nn.Linear(3, 3)\nm = nn.Sequential(fc, nn.ReLU(), fc)\n"
                       "len([k for k in m.modules()]) + x.sum() * 0")) == 3
    order = value(NET + "k = 0.0\nfor name, m in model.named_modules():\n    k = k * 10 + (2 if name.startswith("
                  "'body.') else 1 if name == '' else 3)\nk + x.sum() * 0")
    assert float(order) == 132223  # '', body, body.0, body.1, body.2, head


def test_an_empty_comprehension_is_pythons_empty_list():
    # a filter that keeps no module: Python's sum is its start, len 0; a function of it refuses it by name
    text = NET + "sum(m.weight.sum() for m in model.modules() if isinstance(m, nn.Conv2d)) + x.sum() * len([m " \
                 "for m in model.modules() if isinstance(m, nn.GRU)])"
    assert float(value(text)) == 0
    assert float(value("sum((x[i] for i in range(0)), x.sum())")) == float(X.sum())
    with pytest.raises(JacError, match="stack"):
        value("torch.stack([x[i] for i in range(0)]).sum()")


def test_isinstance_of_the_classes_pytorch_has():
    text = NET + ("a = sum(1.0 for m in model.modules() if isinstance(m, (nn.Sequential, Net)))\n"
                  "b = sum(1.0 for m in model.modules() if isinstance(m, nn.Module))\n"
                  "c = 1.0 if isinstance(x, nn.Linear) else 0.0\na * 100 + b * 10 + c + x.sum() * 0")
    assert float(value(text)) == 260


@pytest.mark.parametrize("text, words", [
    ("fc = nn.Linear(3, 2)\nfc.cuda()\nfc(x).sum()", [".cuda() of a module", "CPU"]),
    ("d = torch.device('cuda')\nx.sum()", ["'cuda'", "torch.device('cpu')"]),
    ("d = torch.device('tpu')\nx.sum()", ["no device"]),
    ("fc = nn.Linear(3, 2).half()\nfc(x).sum()", ["half"]),
    ("fc = nn.Linear(3, 2).to(torch.float16)\nfc(x).sum()", ["float16"]),
    ("fc = nn.Linear(3, 2)\nfc(x.long()).sum()", ["integers (int64)", "x.float()"]),
    ("fc = nn.Bilinear(3, 3, 1)\nfc(x, x > 0).sum()", ["booleans"]),
    ("fc = nn.Linear(3, 2)\n[m for m in fc.modules() if isinstance(m, torch.Tensor)]", ["class of torch.nn"]),
    ("attn = nn.MultiheadAttention(3, 1)\nattn(x, x, x, is_causal=True)[0].sum()", ["without attn_mask"]),
    ("fc = nn.Linear(3, 2)\nfc.apply(1)\nfc(x).sum()", ["apply(fn) takes one function of the text"]),
    ("lstm = nn.LSTM(3, 2)\nlstm(x, torch.zeros(2, 1, 2, 2))[0].sum()", ["not one tensor"]),
    ("n = nn.InstanceNorm1d(3, track_running_stats=True)\nn(x.unsqueeze(-1)).sum()", ["more than 1 value"]),
])
def test_what_is_refused(text, words):
    with pytest.raises(JacError) as found:
        value(text)
    for word in words:
        assert word in found.value.message, found.value.message


def test_the_messages_on_the_command_line():
    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app

    result = CliRunner().invoke(app, ["eval", HEAD + "fc = nn.Linear(3, 2)\nfc.cuda()\nfc(x).sum()", "x:3"])
    assert result.exit_code == 2
    assert ".cuda() of a module" in result.output and "Traceback" not in result.output
