"""Session 38: what benchmarks/torchhigher38_fuzz.py found comparing jac's VJP, JVP, Hessian and higher orders with
PyTorch's over programs with layers. A layer called by its name keeps (for PyTorch's backward) its arguments or its
result as its functions do, so a later write in place into one is refused as PyTorch's backward raises; an in-place
method on a view made in the same statement (x.view(-1)[0:1].neg_()) is refused as the write it is, not as a value
never used; jac's third derivatives of the fused norms are the mathematics' (PyTorch's are not: pytorch#175754)."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from jacobi_cli.errors import JacValueError
from jacobi_cli.ir import saved
from jacobi_cli.tools import api

from torch_models import assert_grads_are_pytorchs, float64  # noqa: F401 - the fixture

# (setup: the layers, compute: the rest, the input's shape). PyTorch raises at backward for each: the layer kept
# what the write changes (its argument, or its last module's result)
RAISES = [
    ("m1 = nn.GRUCell(4, 1)", "t1 = x * 2\nt3 = m1(t1)\nt1.copy_(torch.tensor([[-0.79, 1.76, 0.04, 0.5]]))\nloss = t3.sum()",
     (1, 4)),
    ("m1 = nn.BatchNorm1d(1)\nm1.eval()", "t1 = x.clone()\nt2 = m1(t1)\nt1.transpose_(0, -1)\nloss = t2.sum()", (3, 1, 4)),
    ("m2 = nn.Sequential(nn.Linear(3, 1), nn.ReLU())", "t1 = x * 2\nt8 = m2(t1)\nt8.squeeze_()\nloss = t8.sum()", (3,)),
    ("m1 = nn.LSTMCell(1, 3)", "t1 = x.clone()\nt2, t3 = m1(t1)\nt1[0:1] += t1\nloss = t2.sum()", (1,)),
    ("m1 = nn.Linear(3, 4)", "t1 = x * 2\nt2 = m1(t1)\nt1.div_(2.0)\nloss = t2.sum()", (1, 3, 3)),
    ("m1 = nn.Sequential(nn.Linear(3, 2), nn.Tanh())", "t1 = x * 2\nt2 = m1(t1)\nt1.mul_(2.0)\nloss = t2.sum()", (2, 3)),
    ("m1 = nn.ReLU()", "t1 = x * 2\nt2 = m1(t1)\nt2.mul_(2.0)\nloss = t2.sum()", (2, 3)),
    ("m1 = nn.GELU()", "t1 = x * 2\nt2 = m1(t1)\nt1.mul_(2.0)\nloss = t2.sum()", (2, 3)),
    ("m1 = nn.LayerNorm(3)", "t1 = x * 2\nt2 = m1(t1)\nt1.mul_(2.0)\nloss = t2.sum()", (2, 3)),
    ("m1 = nn.MultiheadAttention(2, 1)", "t1 = x * 2\nt2, w = m1(t1, t1, t1)\nt1.mul_(2.0)\nloss = w.sum()", (3, 2)),
    ("m1 = nn.MSELoss()", "t1 = x * 2\nt2 = m1(t1, x)\nt1.mul_(2.0)\nloss = t2.sum()", (2, 3)),
    ("m1 = nn.HuberLoss()", "t1 = x * 2\nt2 = m1(t1, x)\nt1.mul_(2.0)\nloss = t2.sum()", (2, 3)),
    ("m1 = nn.NLLLoss()", "t1 = x * 2\nt2 = m1(t1, torch.tensor([0, 2]))\nt1.mul_(2.0)\nloss = t2.sum()", (2, 3)),
    ("m1 = nn.Softmax(dim=1)", "t1 = x * 2\nt2 = m1(t1)\nt2.mul_(2.0)\nloss = t2.sum()", (2, 3)),
]
# PyTorch answers: the write comes before the call, or changes what the layer does not keep
ANSWERS = [
    ("m1 = nn.Linear(3, 4)", "t1 = x * 2\nt1.div_(2.0)\nt2 = m1(t1)\nloss = t2.sum()", (1, 3, 3)),
    ("m1 = nn.Linear(3, 4)", "t1 = x * 2\nt2 = m1(t1)\nt2.mul_(2.0)\nloss = t2.sum()", (2, 3)),
    ("m1 = nn.Sequential(nn.Tanh(), nn.Linear(3, 2))", "t1 = x * 2\nt2 = m1(t1)\nt1.mul_(2.0)\nloss = t2.sum()", (2, 3)),
    ("m1 = nn.GELU()", "t1 = x * 2\nt2 = m1(t1)\nt2.mul_(2.0)\nloss = t2.sum()", (2, 3)),
    ("m1 = nn.Embedding(4, 2)", "t1 = x * 2\nt2 = m1(torch.tensor([1, 2]))\nt1.mul_(2.0)\nloss = (t2 + t1).sum()",
     (2, 2)),
    ("m1 = nn.MSELoss()", "t1 = x * 2\nt2 = m1(t1, x)\nt2.mul_(2.0)\nloss = t2.sum()", (2, 3)),
    ("m1 = nn.CrossEntropyLoss()", "t1 = x * 2\nt2 = m1(t1, torch.tensor([0, 2]))\nt1.mul_(2.0)\nloss = t2.sum()",
     (2, 3)),
    ("m1 = nn.Softmax(dim=1)", "t1 = x * 2\nt2 = m1(t1)\nt1.mul_(2.0)\nloss = t2.sum()", (2, 3)),
    ("m1 = nn.ZeroPad1d(1)", "t1 = x * 2\nt2 = m1(t1)\nt1.mul_(2.0)\nloss = t2.sum()", (2, 3)),
]


def _x(shape):
    return np.random.default_rng(38).standard_normal(shape)


@pytest.mark.parametrize("setup, compute, shape", RAISES)
def test_a_write_into_what_a_layer_kept_is_refused_as_pytorch_raises(setup, compute, shape, float64):
    torch = pytest.importorskip("torch")
    text = f"{setup}\n{compute}\nloss"
    with pytest.raises(JacValueError, match="modified by an inplace operation") as info:
        api.jacobian(text, {"x": _x(shape)})
    assert "saved" in str(info.value)
    scope = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional,
             "x": torch.tensor(_x(shape), requires_grad=True)}
    exec(setup + "\n" + compute, scope)  # noqa: S102 - the test's own text
    with pytest.raises(RuntimeError, match=saved.MESSAGE):
        scope["loss"].backward()


@pytest.mark.parametrize("setup, compute, shape", ANSWERS)
def test_a_write_a_layer_did_not_keep_is_answered_with_pytorchs_gradients(setup, compute, shape, float64):
    pytest.importorskip("torch")
    assert_grads_are_pytorchs(setup, compute, {"x": _x(shape)})


VIEW_WRITES = ["t1 = x * 1.0\nt1.view(-1)[0:1].neg_()\nt1.sum()", "t1 = x * 1.0\nt1.T.neg_()\nt1.sum()",
               "t1 = x * 1.0\nt1.T[0].neg_()\nt1.sum()", "t1 = x * 1.0\nt1[0][1:].neg_()\nt1.sum()",
               "t1 = x * 1.0\nt1.reshape(3, 2).mul_(2)\nt1.sum()"]


@pytest.mark.parametrize("text", VIEW_WRITES)
def test_an_in_place_method_on_a_view_made_in_the_statement_writes_into_the_tensor(text, float64):
    """PyTorch's write changes t1 (the statement is no value left unused, as jac said before session 38);
    h38-views reads it as the write it is: PyTorch's value and gradient."""
    torch = pytest.importorskip("torch")
    x = np.arange(6.0).reshape(2, 3) - 2.5
    lines = text.split("\n")
    scope = {"torch": torch, "x": torch.tensor(x, requires_grad=True)}
    exec("\n".join(lines[:-1]), scope)  # noqa: S102
    assert not np.array_equal(scope["t1"].detach().numpy(), x)  # the write reached t1
    out = eval(lines[-1], scope)  # noqa: S307
    out.backward()
    np.testing.assert_allclose(api.evaluate("import torch\n" + text, {"x": x}), out.item(), rtol=1e-14)
    np.testing.assert_allclose(api.jacobian("import torch\n" + text, {"x": x})["x"], scope["x"].grad.numpy(),
                               rtol=1e-14)


def test_a_write_through_detach_changes_the_values_and_keeps_the_derivative():
    """Refused until h39-views2 (tests/test_views2_39.py checks many forms against PyTorch): t1's values are exp(x), its
    derivative stays that of x * 1.0, as PyTorch's autograd, which does not see a write through .detach()."""
    x = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    text = "t1 = x * 1.0\nt1.detach().exp_()\nt1.sum()"
    assert api.evaluate(text, {"x": x}) == np.exp(x).sum()
    assert np.array_equal(api.jacobian(text, {"x": x})["x"], np.ones_like(x))


def test_a_view_write_exits_2_with_one_message_through_the_cli():
    from jacobi_cli.cli import entry

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = entry.main(["eval", "t1 = x * 1.0; t1.T.reshape(4).mul_(2); t1.sum()", "x=[[1.0, 2.0], [3.0, 4.0]]",
                           "--json"])  # t1.diagonal().mul_(2) and t1.detach().mul_(2), refused until session 39, are
    assert code == 2  # answered (test_views39, test_views2_39); PyTorch's reshape of a transpose copies
    found = json.loads(out.getvalue())["error"]
    assert found["kind"] == "value" and "which elements" in found["message"]
    assert "Traceback" not in err.getvalue()


def test_an_index_of_the_name_itself_stays_a_write_jac_reads():
    x = np.arange(6.0).reshape(2, 3)
    assert api.evaluate("t1 = x * 1.0\nt1[0].neg_()\nt1.sum()", {"x": x}) == x.sum() - 2 * x[0].sum()


COMPOSITE = "(x - x.mean()) / torch.sqrt(x.var(correction=0) + 1e-5)"
FUSED = ["F.layer_norm(x, (3,))", "F.instance_norm(x[None, None, :])[0, 0]",
         "F.batch_norm(x[:, None], None, None, training=True)[:, 0]"]


@pytest.mark.parametrize("text", FUSED)
def test_third_derivatives_of_the_fused_norms_are_the_mathematics(text):
    """PyTorch's third derivative of F.layer_norm / instance_norm / batch_norm in training mode treats the saved
    statistics as constants (pytorch/pytorch#175754, #186256): the fuzz's TORCH-WRONG. jac's is the composite's
    and the central differences of its own Hessian."""
    x = np.array([0.8882165940872881, -0.2318344228322237, -0.8355200905774837])
    d3 = api.derivative(text, {"x": x}, order=3)
    np.testing.assert_allclose(d3, api.derivative(COMPOSITE, {"x": x}, order=3), rtol=1e-10, atol=1e-12)
    h = 1e-5
    fd = np.stack([(api.hessian(text, {"x": x + h * e})[("x", "x")] - api.hessian(text, {"x": x - h * e})[("x", "x")])
                   / (2 * h) for e in np.eye(3)], -1)
    np.testing.assert_allclose(d3, fd, rtol=1e-6, atol=1e-7)
