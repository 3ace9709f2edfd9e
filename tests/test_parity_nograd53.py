"""Parity for writes in place under ``torch.no_grad()`` into tensors that are no leaf, and through ``.data``
(session 53, lang/nograd.py): each text run by PyTorch itself (float64), jac's value and Jacobian compared with
``torch.autograd.functional.jacobian``'s, and for some the Hessian, VJP and JVP with ``torch.autograd.functional``'s;
the texts PyTorch's backward refuses (a saved tensor changed) refused by jac in PyTorch's words."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from test_parity_grad24 import _torch_function, assert_agrees_with_pytorch, torch64  # noqa: F401 - the fixture

X = np.array([0.3, -0.7, 1.2, 0.45])
HEAD = "import torch\nimport torch.nn.functional as F\nt1 = x * 1.5 + 0.1\n"
TAIL = "\n(t1 ** 2).sum() + (t1 * x).sum()"

# every in-place method of this list: with torch.no_grad(): t1.METHOD
METHODS = ["add_(1)", "add_(x, alpha=2)", "sub_(0.5)", "mul_(2)", "mul_(x)", "div_(3)", "clamp_(0, 1)",
           "clamp_(min=-0.2)", "clamp_min_(0)", "clamp_max_(0.2)", "clip_(-0.5, 0.5)", "zero_()", "fill_(0.5)",
           "copy_(t1.round())", "copy_(x * 3)", "neg_()", "abs_()", "exp_()", "sigmoid_()", "tanh_()", "relu_()",
           "sin_()", "cos_()", "pow_(2)", "round_()", "floor_()", "ceil_()", "sign_()", "masked_fill_(t1 > 0, 0.0)",
           "square_()", "reciprocal_()", "trunc_()", "frac_()", "erf_()", "atan_()", "lerp_(torch.ones(4), 0.3)",
           "addcmul_(t1, x, value=0.5)", "expm1_()", "nan_to_num_()", "sub_(x)", "div_(x.abs() + 1)",
           "masked_fill_(x < 0, 2.0)", "clamp_(-1, 1)"]

TEXTS = [
    "with torch.no_grad():\n    t1[0] = 5.0",
    "with torch.no_grad():\n    t1[t1 > 0.5] = 0.0",
    "with torch.no_grad():\n    t1[[0, 2]] = x[1:3] * 2",
    "with torch.no_grad():\n    t1 += 1",
    "with torch.no_grad():\n    t1 *= x",
    "with torch.no_grad():\n    t1[1:] -= 0.25",
    "with torch.no_grad():\n    t1[0:2].zero_()",
    "with torch.no_grad():\n    t1[1:3].sigmoid_()",
    "with torch.no_grad():\n    t1.data.mul_(2)",
    "with torch.no_grad():\n    t1.data[0] = 5.0",
    "t1.data.mul_(2)",
    "t1.data.clamp_(0, 1)",
    "t1.data = torch.ones(4)",
    "t1.data = x.round() * 2",
    "with torch.no_grad():\n    torch.relu_(t1)",
    "with torch.no_grad():\n    F.relu(t1, inplace=True)",
    "with torch.no_grad():\n    F.leaky_relu_(t1, 0.2)",
    "act = torch.nn.ReLU(inplace=True)\nwith torch.no_grad():\n    act(t1)",
    "with torch.no_grad():\n    u = F.relu(t1, inplace=True)\nt1 = t1 + u",
    "with torch.no_grad():\n    u = t1\nt1 = u * 2",
    "with torch.no_grad():\n    u = t1.contiguous()\nt1 = u * 2",
    "with torch.no_grad():\n    t1.add_(1)\n    t1.mul_(3)\nt1.add_(x)",
    "with torch.no_grad():\n    t1.add_(1)\n    t1 = t1 * 2",
    "with torch.no_grad():\n    t2 = t1 * 2\n    t2.add_(1)\nt1 = t1 + t2",
    "u = t1\nwith torch.no_grad():\n    u.sub_(1)",
    "v = t1[1:3]\nwith torch.no_grad():\n    t1.mul_(3)\nt1 = t1 + torch.cat([v, v]) ** 2",
    "v = t1[1:3]\nwith torch.no_grad():\n    v.mul_(3)",
    "z = t1 + 1\nwith torch.no_grad():\n    t1.add_(1)\nt1 = t1 * z",
    "with torch.no_grad():\n    for i in range(2):\n        t1[i] = t1[i + 1] * 2",
    "with torch.no_grad():\n    t1.unsqueeze_(0)\nt1 = t1.sum(0)",
    "with torch.no_grad():\n    t1.data.unsqueeze_(0)",
    "with torch.no_grad():\n    t1.detach_()",
    "t1.data.detach_()",
    "t1 = x.sort()[0]\nwith torch.no_grad():\n    t1.exp_()",
    "t1 = x.clone()\nwith torch.no_grad():\n    t1.mul_(2)",
    "t1 = torch.flip(x, [0]) * 2\nwith torch.no_grad():\n    t1.exp_()",
    "c = torch.zeros(4)\nwith torch.no_grad():\n    c[0] = 5.0\n    c[1] = x[0] * 2\nt1 = t1 * c",
    "def f(t):\n    with torch.no_grad():\n        t.mul_(2)\n    return t.sum()\ns = f(t1)\nt1 = t1 + s",
    "def f(t):\n    with torch.no_grad():\n        t.mul_(2)\n    return t.sum()\ns = f(t1)\nwith torch.no_grad():\n"
    "    t1.add_(1)\nt1 = t1 + s",
    "t1 = x.sort()[0]\ndef f(t):\n    with torch.no_grad():\n        t.mul_(2)\n    return t.sum()\ns = f(t1)\n"
    "t1 = t1 + s",
    "d = t1.detach()\nwith torch.no_grad():\n    t1.add_(x)\nt1 = t1 + d",
    "d = t1.detach()\nwith torch.no_grad():\n    d.add_(x)\nt1 = t1 + d",
]

RAISES = [  # PyTorch's backward raises: a tensor saved for backward, changed by the write (a version bumped)
    "t1 = torch.exp(x)\nwith torch.no_grad():\n    t1.add_(1)",
    "z = t1 * t1\nwith torch.no_grad():\n    t1.add_(1)\nt1 = z",
    "z = t1 ** 3\nwith torch.no_grad():\n    t1[0] = 0.0\nt1 = z",
    "z = torch.sin(t1)\nwith torch.no_grad():\n    t1 += 1\nt1 = z + t1",
    "v = t1[0:2]\nz = v.sin()\nwith torch.no_grad():\n    t1.zero_()\nt1 = torch.cat([z, z])",
    "t1 = torch.sigmoid(x)\nwith torch.no_grad():\n    t1[0], t1[1] = t1[1] * 1, t1[0] * 1",
    "t1 = torch.sigmoid(x)\nt1[0], t1[1] = t1[1] * 1, t1[0] * 1",
    "t1 = torch.exp(x)\nwith torch.no_grad():\n    t1.view(2, 2)[0].unsqueeze_(0)",
    "t1 = torch.exp(x)\nt1.view(2, 2)[0].unsqueeze_(0)",
]

DATA_SILENT = [  # .data bumps no version: PyTorch's backward reads the new values silently (jac refuses)
    "t1 = torch.exp(x)\nt1.data.mul_(2)",
    "z = t1 * t1\nt1.data.mul_(2)\nt1 = z",
    "z = torch.sin(t1)\nwith torch.no_grad():\n    t1.data.mul_(2)\nt1 = z",
    "z = t1 * t1\nt1.data = torch.ones(4)\nt1 = z",
]


@pytest.mark.parametrize("method", METHODS)
def test_each_in_place_method_under_no_grad_is_pytorchs(torch64, method):
    assert_agrees_with_pytorch(torch64, HEAD + f"with torch.no_grad():\n    t1.{method}" + TAIL, {"x": X})


@pytest.mark.parametrize("text", TEXTS, ids=[" ".join(t.split())[:60] for t in TEXTS])
def test_a_write_pytorch_does_not_record_is_read_as_pytorch_reads_it(torch64, text):
    assert_agrees_with_pytorch(torch64, HEAD + text + TAIL, {"x": X})


def _torch_raises(torch, code: str) -> str:
    f = _torch_function(torch, code, ["x"])
    with pytest.raises(RuntimeError) as err:
        torch.autograd.functional.jacobian(f, torch.tensor(X, requires_grad=True))
    return str(err.value)


@pytest.mark.parametrize("text", RAISES, ids=[" ".join(t.split())[:60] for t in RAISES])
def test_a_saved_tensor_written_under_no_grad_is_refused_as_pytorch_raises(torch64, text):
    code = HEAD + text + TAIL
    assert "modified by an inplace operation" in _torch_raises(torch64, code)
    with pytest.raises(JacError) as err:
        api.jacobian(code, {"x": X})
    assert "modified by an inplace operation" in err.value.message


@pytest.mark.parametrize("text", DATA_SILENT, ids=[" ".join(t.split())[:60] for t in DATA_SILENT])
def test_a_saved_tensor_written_through_data_is_refused_where_pytorch_answers_silently(torch64, text):
    code = HEAD + text + TAIL
    f = _torch_function(torch64, code, ["x"])
    theirs = torch64.autograd.functional.jacobian(f, torch64.tensor(X, requires_grad=True)).numpy()
    assert np.isfinite(theirs).all()  # PyTorch answers, raising nothing
    with pytest.raises(JacError) as err:
        api.jacobian(code, {"x": X})
    assert "bumps no version counter" in err.value.message and "silently" in err.value.message


HIGHER = [
    "with torch.no_grad():\n    t1.sigmoid_()",
    "t1 = torch.sin(x) * x\nwith torch.no_grad():\n    t1.copy_(t1.round())",
    "t1 = x * x\nv = t1[1:3]\nwith torch.no_grad():\n    t1[0:2].mul_(x[0:2])\nt1 = t1 + torch.cat([v, v]) ** 3",
    "t1 = x * 2\nwith torch.no_grad():\n    t1 += x ** 2\nt1 = torch.tanh(t1)",
    "t1 = x * x\nt1.data.mul_(3)",
]


@pytest.mark.parametrize("text", HIGHER, ids=[" ".join(t.split())[:60] for t in HIGHER])
def test_hessian_vjp_and_jvp_are_pytorchs(torch64, text):
    assert_orders_are_pytorchs(torch64, HEAD + text + "\n(t1 ** 3).sum() + (x * t1).sum()")


def assert_orders_are_pytorchs(torch, code, x=X):
    """jac's Hessian, vjp and jvp of ``code`` (a scalar of x) at ``x`` (X unless given: at most 6 elements) are
    torch.autograd.functional's (shared with tests/test_parity_alias54.py and tests/test_layout55.py)."""
    f = _torch_function(torch, code, ["x"])
    X_ = torch.tensor(x)
    hessian = torch.autograd.functional.hessian(f, X_).numpy()
    np.testing.assert_allclose(api.hessian(code, {"x": x})[("x", "x")], hessian, rtol=1e-10, atol=1e-12)
    _, vjp = torch.autograd.functional.vjp(f, X_, torch.tensor(1.7))
    np.testing.assert_allclose(api.vjp(code, {"x": x}, v=np.array(1.7))["x"], vjp.numpy(), rtol=1e-10, atol=1e-12)
    tangent = np.array([0.1, 0.2, -0.3, 0.4, 0.5, -0.6])[:len(x)]
    _, jvp = torch.autograd.functional.jvp(f, X_, torch.tensor(tangent))
    np.testing.assert_allclose(api.jvp(code, {"x": x}, tangents={"x": tangent}), jvp.numpy(), rtol=1e-10, atol=1e-12)
