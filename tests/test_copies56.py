"""Copies and aliases that PyTorch's autograd and jac judged differently (session 56, h56-copies).

1. ``.contiguous()`` / ``.clone()`` are lowered onto their operand's own node, so the view check (``t.view(...)`` of a
   tensor whose strides cannot be read so) was skipped in every text that held ``contiguous``, ``copy``, ``tensor(``
   (parser ``_COPIES``): ``v0 = t.movedim(0, -1); v1 = v0.contiguous(); v0.view(9)`` was answered where PyTorch raises.
   The parser now records such a copy (``copies.hidden_layout``): a name bound to it gets a node of its own in the
   copy's layout, a chain of views written on the copy (``v0.contiguous().T.view(-1)``) reads the copy's layout, and the
   check runs everywhere else; and a clone no longer marks its operand's node with the copy's layout (``v0 =
   A[:, :2]; v1 = v0.clone(); v0.view(-1)`` read v0 as dense).
2. ``nn.Identity()``, ``nn.Dropout(0.0)``, a dropout in eval mode and ``F.dropout(t, training=False)`` answer with
   their argument itself (``g is t`` in PyTorch 2.13): a write through either name is followed through the other, as
   an alias's (refused before: "shares its memory"); a write into a tensor a backward saved stays refused.
Each answered text is checked against PyTorch (float64): value and Jacobian; each refused one raises in PyTorch."""

import os
import subprocess
import sys

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from test_parity_grad24 import (_torch_function, assert_agrees_with_pytorch,  # noqa: F401 - the fixture
                                assert_refused_as_pytorch_raises, torch64)

X = np.array([0.3, -0.7, 1.2, 0.45, 0.9, -0.2, 0.8, -1.1, 0.6, 0.25, -0.4, 1.3])
HEAD = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nt = x.reshape(4, 3) * 1.5 + 0.1\n"

VIEWS_RAISE = [  # PyTorch raises "view size is not compatible with input tensor's size and stride": jac did not
    "v0 = t.movedim(0, -1)\nv1 = v0.contiguous()\nv2 = v0.view(4, 3)\nv2.sum() + v1.sum()",
    "v0 = t.T\nv1 = v0.contiguous()\nv2 = v0.view(-1)\nv2.sum() + v1.sum()",
    "v0 = torch.sin(t).T\nv1 = v0.contiguous()\nv2 = v1.T.view(-1)\nv2.sum()",
    "v0 = t.T\nv2 = v0.contiguous().T.view(-1)\nv2.sum() + v0.sum()",
    "v0 = t\nv2 = v0.contiguous().T.view(-1)\nv2.sum() + v0.sum()",
    "v0 = t[:, :2]\nv1 = v0.clone()\nv2 = v0.view(-1)\nv2.sum() + v1.sum()",
    "v0 = (t * 2)[::2]\nv1 = torch.clone(v0)\nv2 = v0.view(-1, 1)\nv2.sum() + v1.sum()",
    "v0 = t[:, :2]\nv1 = v0.contiguous().clone()\nv2 = v0.view(-1)\nv2.sum() + v1.sum()",
    "v0 = t.T\nv1 = v0.contiguous().clone()\nv2 = v1.T.view(-1)\nv2.sum()",
    "v0 = t.T.T\nv1 = v0.contiguous()\nv2 = v1.T.view(-1)\nv2.sum()",
]

VIEWS_ANSWER = [  # the copy itself read: contiguous, a view PyTorch makes
    "v0 = t.movedim(0, -1)\nv1 = v0.contiguous()\nv2 = v1.view(4, 3)\nv2.sum() * v2[0, 1] + v1.sum()",
    "v0 = t.T\nv2 = v0.contiguous().view(-1)\nv2 * 2 + v0.reshape(-1)",
    "v0 = t[:, :2]\nv1 = v0.clone()\nv2 = v1.view(-1)\nv2 * v2[0]",
    "v0 = t.T\nv1 = v0.clone()\nv2 = v1.T.view(-1)\nv2 * v1.reshape(-1)",
    "v0 = t[:, :2]\nv1 = v0.contiguous().clone()\nv2 = v1.view(-1)\nv2 * v0.sum()",
    "v0 = (t * 2)[::2]\nv2 = v0.clone().view(-1)\nv2.exp()",
    "v0 = t.T\nv1 = v0.contiguous()\nv1.mul_(2)\nv2 = v1.view(-1)\nv2 * v0.reshape(-1)",
    "v0 = t\nv1 = v0.contiguous()\nv2 = v1.view(-1)\nv2 * v0.reshape(-1)",
    "v0 = t.T.T\nv1 = v0.contiguous()\nv2 = v1.view(-1)\nv2 * 3",
    "v0 = t[:, :2]\nv1 = v0.clone()\nv1[0] = 5.0\nv0[1:].sum() * v1.view(-1)",
]

ALIASES = [  # PyTorch's g is t: a write through either is seen through the other
    "u = torch.sin(t) * 2\nm = nn.Identity()\ng = m(u)\ng.mul_(x[0:3])\ntorch.cat([u, g * 3])",
    "u = torch.sin(t) * 2\nm = nn.Identity()\ng = m(u)\nu[0] = x[3:6]\ntorch.cat([u, g * 3])",
    "u = torch.sin(t) * 2\ng = nn.Identity()(u)\ng += 1\ntorch.cat([u, g * 3])",
    "u = torch.sin(t) * 2\nm = nn.Dropout(0.0)\ng = m(u)\ng.exp_()\ntorch.cat([u, g * 3])",
    "u = torch.sin(t) * 2\nm = nn.Dropout(0.5).eval()\ng = m(u)\nu.add_(u)\ntorch.cat([u, g * 3])",
    "u = torch.sin(t) * 2\ng = F.dropout(u, training=False)\ng[1] = x[0:3]\ntorch.cat([u, g * 3])",
    "u = torch.sin(t) * 2\ng = F.dropout(u, 0.0)\nu.mul_(2)\ntorch.cat([u, g * 3])",
    "u = torch.sin(t) * 2\ng = torch.dropout(u, 0.3, False)\ng.add_(g)\ntorch.cat([u, g * 3])",
    "u = torch.sin(t) * 2\ng = torch.nn.functional.dropout(u, p=0.0)\ng.mul_(x[6:9])\ntorch.cat([u, g * 3])",
    "u = torch.sin(t) * 2\ng = F.dropout(u, 1.0)\ng.add_(1)\ntorch.cat([u, g * 3])",  # a new tensor of zeros
]

ALIASES_RAISE = [  # the alias of a tensor exp saved, written: PyTorch's backward raises
    "u = torch.exp(t)\nm = nn.Identity()\ng = m(u)\ng.mul_(2)\ntorch.cat([u, g * 3])",
    "u = torch.exp(t)\ng = F.dropout(u, training=False)\nu[0] = 1.0\ntorch.cat([u, g * 3])",
    "u = torch.exp(t)\nm = nn.Dropout(0.0)\ng = m(u)\ng += 1\ng",
]


def _id(text: str) -> str:
    return " ".join(text.split())[:80]


@pytest.mark.parametrize("text", VIEWS_RAISE, ids=[_id(t) for t in VIEWS_RAISE])
def test_a_view_pytorch_refuses_is_refused_though_a_copy_is_made(torch64, text):
    f = _torch_function(torch64, HEAD + text, ["x"])
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        f(torch64.tensor(X))
    with pytest.raises(JacError) as err:
        api.evaluate(HEAD + text, {"x": X})
    assert "view size is not compatible" in err.value.message and ".reshape(...)" in err.value.message


@pytest.mark.parametrize("text", VIEWS_ANSWER + ALIASES, ids=[_id(t) for t in VIEWS_ANSWER + ALIASES])
def test_a_copy_or_alias_is_read_as_pytorch_reads_it(torch64, text):
    assert_agrees_with_pytorch(torch64, HEAD + text, {"x": X})


@pytest.mark.parametrize("text", ALIASES_RAISE, ids=[_id(t) for t in ALIASES_RAISE])
def test_an_alias_of_a_saved_tensor_written_is_refused_as_pytorch_raises(torch64, text):
    assert_refused_as_pytorch_raises(torch64, HEAD + text, X)


def test_the_command_line_refuses_the_view_with_exit_2():
    """The brief's text, through ``jac eval`` in a process of its own: exit 2, the view named, no traceback."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    text = "v0 = t.movedim(0, -1); v1 = v0.contiguous(); v2 = v0.view(4, 3); v2.sum() + v1.sum()"
    done = subprocess.run([sys.executable, "-m", "jacobi_cli", "eval", text, "t=[[1,2,3],[4,5,6],[7,8,9],[1,2,3]]"],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": root}, timeout=120)
    assert done.returncode == 2
    assert "view size is not compatible" in done.stderr and "Traceback" not in done.stderr


EXPANDED = [  # a write into a computed tensor's broadcast view that no other name shares: PyTorch raises, or changes
    # every row (u[0] of an expand is all rows' one buffer): jac answered with one row changed (a wrong answer)
    ("u = torch.sin(x[0:3]).expand(3, 3)\nu.mul_(2)\nu * 1", "more than one element"),
    ("u = torch.sin(x[0:3]).expand(3, 3)\nu += 1\nu * 1", "more than one element"),
    ("u = torch.sin(x[0:3]).expand(3, 3)\nu[0].mul_(2)\nu * 1", "one element of the tensor it views"),
    ("u = torch.sin(x[0:3]).expand(3, 3)\nu[0] = x[3:6]\nu * 1", "one element of the tensor it views"),
    ("u = torch.sin(x[0:3]).expand(3, 3)\nu[:, 0].mul_(2)\nu * 1", "one element of the tensor it views"),
]


@pytest.mark.parametrize("text,words", EXPANDED, ids=[_id(t) for t, _ in EXPANDED])
def test_a_write_into_an_unshared_broadcast_view_is_refused(torch64, text, words):
    f = _torch_function(torch64, HEAD + text, ["x"])
    theirs = None
    try:
        theirs = f(torch64.tensor(X)).numpy()
    except RuntimeError as e:
        assert "more than one element of the written-to tensor" in str(e)
    with pytest.raises(JacError) as err:
        ours = api.evaluate(HEAD + text, {"x": X})
        assert theirs is not None and np.allclose(ours, theirs)  # (never reached: refused)
    assert words in err.value.message


UNFOLDED = [  # a write into windows that overlap (x.unfold(0, 2, 1)) of an unnamed tensor: PyTorch changes an element
    # through every window holding it, where jac changed one window's copy (a wrong answer before session 56)
    "g = torch.sin(x[0:3]).unfold(0, 2, 1)\ng[0].mul_(2)\ng * 1",
    "g = torch.sin(x[0:3]).unfold(0, 2, 1)\ng.mul_(2)\ng * 1",
    "g = torch.sin(t).unfold(1, 2, 1)\ng[:, 0] = 0.5\ng * 1",
    "g = torch.sin(x[0:3]).expand(3, 3).unfold(1, 2, 1)\ng[:, 0].mul_(3)\ng * 1",
]
APART = [  # windows that do not overlap: each element once, answered as before
    "g = torch.sin(x[0:6]).unfold(0, 2, 2)\ng[0].mul_(x[6:8])\ng * 1",
    "g = torch.sin(t).unfold(1, 1, 1)\ng.mul_(2)\ng * x[0]",
]


@pytest.mark.parametrize("text", UNFOLDED, ids=[_id(t) for t in UNFOLDED])
def test_a_write_into_overlapping_windows_is_refused(torch64, text):
    f = _torch_function(torch64, HEAD + text, ["x"])
    try:
        f(torch64.tensor(X))
    except RuntimeError as e:  # (an expanded tensor's windows: PyTorch's internal overlap check)
        assert "more than one element of the written-to tensor" in str(e)
    with pytest.raises(JacError) as err:
        api.evaluate(HEAD + text, {"x": X})
    assert "one element of the tensor it views" in err.value.message or "more than one element" in err.value.message


@pytest.mark.parametrize("text", APART, ids=[_id(t) for t in APART])
def test_a_write_into_windows_apart_is_answered_as_pytorch(torch64, text):
    assert_agrees_with_pytorch(torch64, HEAD + text, {"x": X})
