"""Regressions found by rerunning the earlier probes after session 36's merges (h36-regress), each checked against
PyTorch itself (parity tests skip without torch). h36-saved's `.view` check of computed tensors replays PyTorch's
strides on the graph; where PyTorch copies and the graph shows a view or nothing (`x.clone()` is the identity,
`A.repeat(...)` a broadcast and a reshape, `torch.flip` a reversed slice, `masked_fill` a where), it refused views
PyTorch takes, which jac answered before the session. benchmarks/regress36_probe.py is the wider probe."""
from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacShapeError
from jacobi_cli.tools import api

A = np.arange(12.0).reshape(3, 4) / 7 + 0.1
HEAD = "import torch\n"

# PyTorch answers each (its copy is contiguous: clone of a non-dense tensor, repeat, tile, flip, masked_fill)
ANSWERED = ["A[:, :2].clone().view(-1)", "A[:, :2].clone().view(2, -1)", "A[::2].clone().view(-1)",
            "A.expand(2, 3, 4).clone().view(-1)", "A.unsqueeze(0).repeat(2, 1, 1).view(-1)",
            "torch.tile(A.unsqueeze(0), (2, 1, 1)).view(-1)", "torch.flip(A, (0,)).view(-1)", "A.flip(1).view(2, -1)",
            "A.t().masked_fill(A.t() > 1, 0.0).view(-1)", "h = A[:, 1:3]\ng = h.clone()\ng.view(-1)",
            "(A[:, :2] * 2).clone().view(-1)"]
# PyTorch raises on each (a clone or a flip keeps a dense transposed layout: preserve_format), as jac refuses
REFUSED = ["A.T.clone().view(-1)", "A.T[:2].clone().view(-1)", "A.T.flip(0).view(-1)", "torch.flip(A.T, (1,)).view(-1)",
           "h = (A * 2).T\nh.clone().view(-1)", "torch.exp(A).T.clone().view(-1)"]


def torch_value(text):
    torch = pytest.importorskip("torch")
    lines = text.split("\n")
    env = {"torch": torch, "A": torch.tensor(A, requires_grad=True)}
    exec("\n".join(lines[:-1]), env)
    out = eval(lines[-1], env)
    return out, torch.autograd.functional.jacobian(lambda a: _run(torch, lines, a), env["A"])


def _run(torch, lines, a):
    env = {"torch": torch, "A": a}
    exec("\n".join(lines[:-1]), env)
    return eval(lines[-1], env)


@pytest.mark.parametrize("text", ANSWERED)
def test_views_of_copies_pytorch_takes_are_answered_with_its_values(text):
    want, want_jac = torch_value(text)
    got = api.evaluate(HEAD + text, {"A": A})
    np.testing.assert_allclose(got, want.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(api.jacobian(HEAD + text, {"A": A})["A"], want_jac.numpy(), rtol=1e-12)


@pytest.mark.parametrize("text", REFUSED)
def test_views_of_copies_in_a_transposed_layout_stay_refused_as_pytorch_raises(text):
    with pytest.raises(JacShapeError, match="view size is not compatible"):
        api.evaluate(HEAD + text, {"A": A})
    torch = pytest.importorskip("torch")
    lines = text.split("\n")
    env = {"torch": torch, "A": torch.tensor(A)}
    exec("\n".join(lines[:-1]), env)
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        eval(lines[-1], env)


# h36-classes' in-place methods on temporaries: a copy's write (x.clone().add_(1)) was refused as a write into the
# input x ("is the input 'x' or a view of it"), or into what exp saved: jac's graph returns the argument's node for a
# copy, so the temporary must be bound as a new buffer, as h = x.clone() is
X = np.array([0.5, -1.5, 2.0])
COPIES = ["(x.clone().add_(1.0)).sum()", "(x.clone().mul_(2.0).add_(1.0)).sum()", "(torch.exp(x).clone().add_(1.0)).sum()",
          "(x.clone().pow_(2)).sum()", "h = torch.sin(x)\n(h.clone().mul_(3.0) * h).sum()"]


@pytest.mark.parametrize("text", COPIES)
def test_an_in_place_method_on_a_copy_is_answered_as_pytorch(text):
    torch = pytest.importorskip("torch")
    lines = text.split("\n")

    def run(v):
        env = {"torch": torch, "x": v}
        exec("\n".join(lines[:-1]), env)
        return eval(lines[-1], env)
    xt = torch.tensor(X, requires_grad=True)
    want = run(xt)
    (grad,) = torch.autograd.grad(want, xt)
    assert float(api.evaluate(HEAD + text, {"x": X})) == pytest.approx(float(want.detach()), rel=1e-12)
    np.testing.assert_allclose(api.jacobian(HEAD + text, {"x": X})["x"], grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("text", ["(torch.exp(x).add_(1.0)).sum()", "(x.view(3).add_(1.0)).sum()"])
def test_an_in_place_method_on_a_saved_result_or_a_view_of_the_input_stays_refused(text):
    from jacobi_cli.errors import JacValueError
    with pytest.raises(JacValueError):
        api.evaluate(HEAD + text, {"x": X})
