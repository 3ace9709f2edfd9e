"""Parity with PyTorch 2.13 for the names session 27 read on main: torch's window functions (periodic and
symmetric, each keyword) and the max pools' ``*_with_indices`` spellings with adaptive max pooling's
``return_indices=True`` (ties and NaNs in the windows: the values, the int64 indices and the Jacobian equal
PyTorch's bit for bit)."""

import re

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from test_parity_grad24 import assert_agrees_with_pytorch, torch64  # noqa: F401 - the fixture
from torch_models import float64  # noqa: F401 - a fixture

torch = pytest.importorskip("torch")
F = pytest.importorskip("torch.nn.functional")

WINDOWS = [(f"torch.{name}({n}{kw}", n) for n in (0, 1, 2, 5, 8) for name, kws in (
    ("hann_window", ("", ", periodic=False")), ("bartlett_window", ("", ", False")),
    ("blackman_window", ("", ", periodic=False")),
    ("hamming_window", ("", ", False", ", True, 0.5, 0.5", ", periodic=False, alpha=0.6, beta=0.3")),
    ("kaiser_window", ("", ", False", ", True, 5.0", ", periodic=False, beta=3.0"))) for kw in kws]


@pytest.mark.parametrize("call, n", WINDOWS, ids=[c for c, _ in WINDOWS])
def test_torch_windows_are_pytorchs(call, n):
    ours = api.evaluate(f"{call}) * x", {"x": np.full(n, 2.0)})
    theirs = 2.0 * eval(f"{call}, dtype=torch.float64)", {"torch": torch}).numpy()
    assert ours.shape == theirs.shape == (n,)
    np.testing.assert_allclose(ours, theirs, rtol=1e-15, atol=1e-15)
    ours32 = api.evaluate(f"{call}, dtype=torch.float32) * x", {"x": np.full(n, 2.0)})
    np.testing.assert_allclose(ours32, theirs, rtol=1e-7, atol=1e-7)


def _pools():
    rng = np.random.default_rng(27)
    for nd in (1, 2, 3):
        x = rng.normal(size=(2, 3) + (7, 5, 4)[:nd]).round(1)  # ties
        x.flat[rng.integers(0, x.size, 6)] = np.nan  # the last NaN of a window is its maximum
        for text in (f"F.max_pool{nd}d_with_indices(x, 2)", f"F.max_pool{nd}d_with_indices(x, 3, 2, 1)",
                     f"F.max_pool{nd}d_with_indices(x, 2, return_indices=False)",
                     f"F.adaptive_max_pool{nd}d_with_indices(x, 3)",
                     f"F.adaptive_max_pool{nd}d(x, 2, return_indices=True)", f"F.adaptive_max_pool{nd}d(x, 4, True)"):
            yield text, x


@pytest.mark.parametrize("text, x", list(_pools()), ids=[t for t, _ in _pools()])
def test_max_pools_with_indices_are_pytorchs(text, x):
    def run(t):
        return eval(text, {"F": F, "torch": torch, "x": t})
    values, indices = run(torch.tensor(x))
    np.testing.assert_array_equal(api.evaluate(f"{text}[0]", {"x": x}), values.numpy())
    np.testing.assert_array_equal(api.evaluate(f"{text}[1]", {"x": x}), indices.numpy())
    jac = np.asarray(api.jacobian(f"{text}[0]", {"x": x})["x"])
    theirs = torch.autograd.functional.jacobian(lambda t: run(t)[0], torch.tensor(x)).numpy()
    np.testing.assert_array_equal(jac.reshape(theirs.shape), theirs)


def test_adaptive_max_pool_module_returns_indices():
    x = np.random.default_rng(3).normal(size=(1, 2, 5, 6))
    text = "import torch.nn as nn\npool = nn.AdaptiveMaxPool2d((2, 4), return_indices=True)\nv, i = pool(x)\ni * 1.0"
    ours = api.evaluate(text, {"x": x})
    theirs = torch.nn.AdaptiveMaxPool2d((2, 4), return_indices=True)(torch.tensor(x))[1].numpy()
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("text", [
    "xs = [x * 2, x * 3]\na = xs[0].clone()\na[0] = 5.0\nxs[0].sum() + a.sum()",
    "d = {'a': x * 2}\na = d['a'].clone()\na[0] = 5.0\nd['a'].sum() + a.sum()",
    "xs = [x * 2]\nfor r in xs:\n    r = r.clone()\n    r[0] = 5.0\nxs[0].sum() + r.sum()",
    "y = torch.zeros(3)\nfor i in range(3):\n    y[i] = x[i] * 2\ny.sum()",
])
def test_writes_into_copies_are_pytorchs(text):
    x = np.array([1.0, 2.0, 3.0])
    lines = text.split("\n")
    scope = {"torch": torch, "x": torch.tensor(x, requires_grad=True)}
    exec("\n".join(lines[:-1]), scope)  # noqa: S102 - the test's own text, run by PyTorch
    theirs = eval(lines[-1], scope)
    theirs.backward()
    assert api.evaluate(text, {"x": x}) == theirs.item()
    np.testing.assert_array_equal(np.asarray(api.jacobian(text, {"x": x})["x"]).ravel(), scope["x"].grad.numpy())


INPLACE_HEAD = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
INPLACE_NET = '''
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3)
        self.relu = nn.ReLU(inplace=True)
        self.body = nn.Sequential(nn.ReLU(inplace=True), nn.Tanh())

    def forward(self, x):
        h = self.fc(x)
        out = self.relu(h)
        return out + h + self.body(self.fc(x))
'''
# (setup, compute ending in loss, inputs): inplace=True writes into its argument, as PyTorch's does (jac dropped
# the flag, so a name read after it kept the value before: y.sum() below was 7 where PyTorch says 8)
INPLACE = {
    "functional": ("", "y = x * 2 - 3\nz = F.relu(y, inplace=True)\nloss = y.sum() + z.sum() * 2", None),
    "positional": ("", "y = x * 2 - 3\nz = F.hardtanh(y, -1.0, 1.0, True)\nloss = (y * z).sum()", None),
    "module": ("act = nn.LeakyReLU(0.1, inplace=True)", "y = x * 2 - 3\nz = act(y)\nloss = (y * x).sum() + z.sum()",
               None),
    "sequential": ("seq = nn.Sequential(nn.ReLU(inplace=True), nn.Tanh())",
                   "y = x * 2 - 3\nz = seq(y)\nloss = y.sum() + z.sum()", None),
    "model": (INPLACE_NET + "model = Net()", "loss = model(x).pow(2).sum()", None),
    "temporary": ("", "loss = F.silu(x * 2 - 3, inplace=True).sum()", None),
    "statement": ("", "y = x * 2 - 3\nF.relu(y, inplace=True)\nloss = (y * x).sum()", None),
}


@pytest.mark.parametrize("case", list(INPLACE))
def test_inplace_writes_into_its_argument_as_pytorch(case, float64):
    from torch_models import assert_grads_are_pytorchs
    setup, compute, _ = INPLACE[case]
    assert_grads_are_pytorchs(INPLACE_HEAD + setup, compute, {"x": np.array([1.0, 2.0, 3.0])})


@pytest.mark.parametrize("text, words", [
    ("F.relu(x, inplace=True).sum()", "a leaf that requires grad"),  # PyTorch raises for a leaf too
    # (a view beside its base, y[:2], is followed since session 54: tests/test_parity_alias54.py)
])
def test_inplace_into_an_array_others_hold_is_refused(text, words):
    with pytest.raises(JacError, match=re.escape(words)):
        api.evaluate("import torch.nn.functional as F\n" + text, {"x": np.array([1.0, -2.0, 3.0])})


def test_inplace_into_an_array_a_list_holds_is_pytorchs(torch64):
    """``xs = [y]`` then ``F.relu(y, inplace=True)``: ``xs[0]`` is the written y, as in PyTorch (session 55, h55-layout:
    a list holding the tensor is followed; it was refused, "shares its memory with 'xs'")."""
    text = "import torch.nn.functional as F\ny = x * 2\nxs = [y]\nz = F.relu(y, inplace=True)\nxs[0].sum()"
    assert_agrees_with_pytorch(torch64, text, {"x": np.array([1.0, -2.0, 3.0])})


FUNCTION_WRITES = [  # writes into the function's own names, read as PyTorch runs them (they were all refused)
    "def f(v):\n    s = 0\n    for i in range(3):\n        s += v[i] ** 2\n    return s\nloss = f(x)",
    "def f(v):\n    y = torch.zeros(3)\n    y[0] = v[0] * 2\n    y[1:] = v[1:] ** 2\n    return y\nloss = f(x).sum()",
    "def f(a):\n    b = a.clone()\n    b[0] = 0.0\n    b *= a\n    return b\nh = x * 2\nloss = f(h).sum() + h.sum()",
    "def f(a):\n    a += 1\n    return a\nloss = f(x * 2).sum()",
    "def f(v):\n    out = v * 1\n    out[out < 0] = 0.0\n    return out\nloss = (f(x - 2) * x).sum()",
]


@pytest.mark.parametrize("text", FUNCTION_WRITES)
def test_writes_inside_functions_are_pytorchs(text, float64):
    from torch_models import assert_grads_are_pytorchs
    assert_grads_are_pytorchs("import torch\n", text, {"x": np.array([1.0, -2.0, 3.0])})


def test_the_tutorials_relu_rule_writes_into_its_gradient():
    """PyTorch's 'Defining new autograd functions' tutorial's MyReLU: grad_input[input < 0] = 0 in backward (a mask
    of the saved input, known only as a sub-graph: written as where(mask, 0, g))."""
    text = ("import torch\nclass MyReLU(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, input):\n"
            "        ctx.save_for_backward(input)\n        return input.clamp(min=0)\n    @staticmethod\n"
            "    def backward(ctx, grad_output):\n        input, = ctx.saved_tensors\n"
            "        grad_input = grad_output.clone()\n        grad_input[input < 0] = 0\n        return grad_input\n")
    x = np.array([-1.0, 2.0, -0.5, 3.0])
    scope = {}
    exec(text, scope)  # noqa: S102 - the tutorial's class, run by PyTorch
    t = torch.tensor(x, requires_grad=True)
    (scope["MyReLU"].apply(t) * torch.arange(4.0)).sum().backward()
    ours = api.jacobian(text + "(MyReLU.apply(x) * torch.arange(4.0)).sum()", {"x": x})["x"]
    np.testing.assert_array_equal(np.asarray(ours).ravel(), t.grad.numpy())
