"""Parity for writes through a second name, a detached tensor or a view (session 54, lang/views.py, lang/nograd.py):
``F.relu(t, inplace=True)`` / ``torch.relu_(t)`` / ``nn.ReLU(inplace=True)`` beside other names of t's buffer, writes
into a sort's values, a gather's result or a constant that other names view, a no_grad write followed by another,
``x[1:]`` beside ``t = x.clone()``: each text run by PyTorch itself (float64), jac's value and Jacobian compared with
``torch.autograd.functional.jacobian``'s, for some the Hessian, VJP and JVP with ``torch.autograd.functional``'s; the
texts PyTorch's backward refuses (a saved tensor changed through another name) refused by jac in PyTorch's words.
All of them were refused by jac before (tests/test_alias54.py checks the same kinds without PyTorch)."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from test_parity_grad24 import (_torch_function, assert_agrees_with_pytorch,  # noqa: F401 - the fixture
                                assert_refused_as_pytorch_raises, torch64)
from test_parity_nograd53 import assert_orders_are_pytorchs

X = np.array([0.3, -0.7, 1.2, 0.45])
HEAD = "import torch\nimport torch.nn.functional as F\nt1 = x * 1.5 + 0.1\n"
TAIL = "\n(t1 ** 2).sum() + (t1 * x).sum()"

TEXTS = [
    'v = t1[1:3]\nF.relu(t1, inplace=True)\nt1 = t1 + torch.cat([v, v]) ** 2',
    'v = t1\nF.relu(t1, inplace=True)\nt1 = t1 * v',
    'v = t1.view(2, 2)\nF.relu(t1, inplace=True)\nt1 = t1 + v.reshape(-1) ** 3',
    'v = t1.detach()\nF.relu(t1, inplace=True)\nt1 = t1 + v * 2',
    'v = t1[1:3]\nu = F.relu(t1, inplace=True)\nt1 = u * 2 + torch.cat([v, v])',
    'v = t1[0:2]\nF.leaky_relu(t1, 0.2, inplace=True)\nt1 = t1 * torch.cat([v, v])',
    'v = t1.T\nact = torch.nn.ReLU(inplace=True)\nw = act(t1)\nt1 = w * v + t1',
    'v = t1[2:]\nact = torch.nn.ReLU(inplace=True)\nact(t1)\nt1 = t1 + torch.cat([v, v]) * x',
    'v = t1[1:3]\nwith torch.no_grad():\n    F.relu(t1, inplace=True)\nt1 = t1 + torch.cat([v, v]) ** 2',
    'v = t1.view(2, 2)\nwith torch.no_grad():\n    F.relu(t1, inplace=True)\n    t1.fill_(0.5)\n'
    't1 = t1 + v.reshape(-1)',
    'v = t1.view(2, 2)\nwith torch.no_grad():\n    u = F.relu(t1, inplace=True)\n    u.mul_(2)\n'
    't1 = t1 + v.reshape(-1) + u * x',
    'v = t1.detach()\nwith torch.no_grad():\n    torch.relu_(t1)\n    t1.mul_(2)\nt1 = t1 + v',
    'v = t1[1:3]\nact = torch.nn.ReLU(inplace=True)\nwith torch.no_grad():\n    act(t1)\n'
    't1 = t1 + torch.cat([v, v]) * x',
    'u = t1\nwith torch.no_grad():\n    F.relu(t1, inplace=True)\nt1 = t1 * u',
    't1 = x.clone()\nF.relu(t1, inplace=True)',
    't1 = x.clone()\nwith torch.no_grad():\n    F.relu(t1, inplace=True)\nt1 = t1 * x',
    't1 = x.sort()[0]\nv = t1[1:3]\nt1.mul_(2)\nt1 = t1 + torch.cat([v, v]) ** 2',
    't1 = x[[0, 2, 1, 3]] * 1\nv = t1.T\nt1.mul_(x)\nt1 = t1 + v ** 2',
    't1 = x[[0, 2, 1, 3]] * 1\nv = t1.detach()\nv.mul_(2)\nt1 = t1 + v',
    't1 = x.sort()[0]\nu = t1\nw = t1[1:]\nt1.mul_(x)\nt1 = u * 2 + torch.cat([w, w[:1]]) ** 2',
    't1 = x.sort()[0].reshape(1, 4)\nv = t1[0, 1:3]\nw = t1.T\nv.exp_()\nt1 = (w.reshape(-1) ** 2) + t1.reshape(-1)',
    't1 = x.sort()[0]\nv = t1.T\nt1.T.exp_()\nt1 = t1 * v',
    't1 = x.sort()[0]\nv = t1.view(2, 2)\nwith torch.no_grad():\n    t1[0] = 5.0\nt1 = t1 + v.reshape(-1)',
    't1 = x.sort()[0]\nv = t1[1:3]\nwith torch.no_grad():\n    t1[0], t1[1] = t1[1] * 1, t1[0] * 1\n'
    '    t1.div_(3)\nt1 = t1 + torch.cat([v, v]) ** 2',
    'c = torch.zeros(4) + 0.5\nv = c[1:3]\nc.mul_(x)\nt1 = t1 * c + torch.cat([v, v]) ** 2',
    'c = torch.zeros(4) + 0.5\nv = c.view(2, 2)\nw = v.T\nw[0] = x[0:2]\nt1 = t1 * c + v.reshape(-1)',
    'c = torch.arange(4.0)\nv = c[::2]\nv.mul_(x[1:3])\nt1 = t1 * c + torch.cat([v, v])',
    'y = torch.zeros(4)\nz = y[:2]\ny[0] = x.sum()\nt1 = t1 * torch.cat([z, z])',
    'c = torch.zeros(4) + 0.5\nv = c.detach()\nwith torch.no_grad():\n    c.detach().tanh_()\n'
    't1 = t1 * torch.sin(c) + v',
    'c = torch.zeros(4) + 0.5\nv = c[0:2]\nwith torch.no_grad():\n    c += 1\n    c.tanh_()\n'
    't1 = t1 * c + torch.cat([v, v])',
    'c = torch.zeros(4) + 0.5\nv = c[1:3]\nwith torch.no_grad():\n    torch.relu_(c)\n'
    '    c.masked_fill_(c > 0.6, 0.0)\nt1 = t1 * c + torch.cat([v, v])',
    'def g(s):\n    s.div_(3)\n    return s\nv = t1.detach()\nwith torch.no_grad():\n    g(t1)\nt1.add_(x)\n'
    't1 = t1 + v',
    'def g(s):\n    s.mul_(x)\n    return s\nv = t1.view(2, 2)\nwith torch.no_grad():\n    g(t1)\n'
    '    t1.copy_(x * 3)\nt1 = t1 + v.reshape(-1) ** 2',
    'def g(s):\n    s.unsqueeze_(0)\n    return s\nz = t1 + 1\nwith torch.no_grad():\n    g(t1)\n'
    't1 = t1.reshape(-1) * z',
    't1 = x.clone()\nt1[1:].mul_(x[1:])',
    't1 = x.clone()\nt1.T.mul_(x)',
    't1 = x.clone()\nwith torch.no_grad():\n    t1.T.sub_(x, alpha=2)\n    t1.copy_(t1.round())\nt1 = t1 * x',
    'v = t1[:2]\nz = F.relu(v, inplace=True)\nt1 = t1 * 2 + torch.cat([z, z])',
]

RAISES = [  # PyTorch's backward raises: a tensor saved for backward, changed through another name of its buffer
    # (and through an op of derivative zero that PyTorch records, round_ / sign_ / floor_: its backward walks it)
    'F.relu(t1, inplace=True)\nt1.round_()\nt1 = t1 + x',
    'v = t1[1:3]\nF.relu(t1, inplace=True)\nt1.sign_()\nt1 = t1 + torch.cat([v, v])',
    't1 = torch.exp(x)\nt1.sign_()\nt1.add_(1)',
    't1 = torch.sigmoid(x)\nt1.floor_()\nt1 = t1 + x',
    't1 = torch.exp(x)\nt2 = torch.round(t1)\nt1.add_(1)\nt1 = t2 * x',
    'z = t1 * t1\nv = t1[1:3]\nF.relu(t1, inplace=True)\nt1 = z',
    'v = t1[1:3]\nz = v * v\nwith torch.no_grad():\n    F.relu(t1, inplace=True)\nt1 = torch.cat([z, z])',
    'v = t1[1:3]\nu = F.relu(t1, inplace=True)\nv.mul_(2)\nt1 = u',
    't1 = x.sort()[0]\nv = t1[1:3]\nz = torch.sin(t1)\nv.mul_(2)\nt1 = z',
    'c = torch.zeros(4) + 0.5\nv = c[1:3]\nz = c * x\nv.mul_(x[0:2])\nt1 = z',
    'v = t1[1:]\nF.relu(v, inplace=True)\nF.elu(t1, inplace=True)\nt1 = t1 + torch.cat([v, v[:1]])',
]


@pytest.mark.parametrize("text", TEXTS, ids=[" ".join(t.split())[:60] for t in TEXTS])
def test_a_write_through_another_name_is_read_as_pytorch_reads_it(torch64, text):
    assert_agrees_with_pytorch(torch64, HEAD + text + TAIL, {"x": X})


@pytest.mark.parametrize("text", RAISES, ids=[" ".join(t.split())[:60] for t in RAISES])
def test_a_saved_tensor_written_through_another_name_is_refused_as_pytorch_raises(torch64, text):
    assert_refused_as_pytorch_raises(torch64, HEAD + text + TAIL, X)


HIGHER = [
    "v = t1[1:3]\nF.relu(t1, inplace=True)\nt1 = t1 + torch.cat([v, v]) ** 2",
    "t1 = x.sort()[0]\nv = t1.view(2, 2)\nt1.mul_(x)\nt1 = t1 * v.reshape(-1)",
    "c = torch.zeros(4) + 0.5\nv = c[1:3]\nc.mul_(x)\nt1 = t1 * c + torch.cat([v, v]) ** 2",
    "v = t1.view(2, 2)\nwith torch.no_grad():\n    F.relu(t1, inplace=True)\n    t1.mul_(3)\nt1 = t1 * v.reshape(-1)",
    "t1 = x.clone()\nt1[1:].mul_(x[1:])",
]


@pytest.mark.parametrize("text", HIGHER, ids=[" ".join(t.split())[:60] for t in HIGHER])
def test_hessian_vjp_and_jvp_are_pytorchs(torch64, text):
    assert_orders_are_pytorchs(torch64, HEAD + text + "\n(t1 ** 3).sum() + (x * t1).sum()")


def test_view_without_a_shape_is_refused_as_pytorch_raises(torch64):
    code = HEAD + "v = t1.view()\nv.relu_()"
    f = _torch_function(torch64, code + TAIL, ["x"])
    with pytest.raises(TypeError) as theirs:
        f(torch64.tensor(X))
    assert "view() received an invalid combination of arguments" in str(theirs.value)
    with pytest.raises(JacError) as err:
        api.jacobian(code + TAIL, {"x": X})
    assert "view() received an invalid combination of arguments" in err.value.message
