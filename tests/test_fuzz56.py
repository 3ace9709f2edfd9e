"""Session 56 (h56-fuzz): what the differential fuzzers with seeds 5601-5628 found in jac.

torchprog37_fuzz seed 5604: ``t4 = F.log_softmax(t1, dim=0); t4.exp_(); t4`` was answered where PyTorch's backward
raises (log_softmax keeps its result, and exp_ changes it). The builder reads exp of PyTorch's log_softmax as
softmax(x) (``Builder._softmax_of_exp``, session 53), a node that bypasses the log_softmax node, so the saved-tensor
check (ir/saved.py) never reached it; ``u = t4.exp(); t4.mul_(2); u`` was answered the same way. The rewrite is
skipped now where that log_softmax is a saver PyTorch keeps (a text writing in place); elsewhere it stands. The
tests named "guard" pass on main too; every other one fails there.
"""
from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

X = np.array([0.86, -2.25, 0.13])
SAVED_WRITTEN = [
    "t4 = F.log_softmax(x + 0, dim=0); t4.exp_(); t4",
    "t4 = torch.log_softmax(x + 0, 0); t4.exp_(); t4",
    "t4 = (x + 0).log_softmax(0); t4.exp_(); t4",
    "t4 = F.log_softmax(x, dim=0); t4.exp_(); t4",
    "t4 = F.log_softmax(x + 0, dim=0); u = torch.exp(t4); t4.mul_(2); u",
    "t4 = F.log_softmax(x, dim=0); u = t4.exp(); t4.mul_(2); u",
    "t1 = x + 0; t2 = torch.linalg.norm(t1, dim=-1); t4 = F.log_softmax(t1, dim=0); t4.exp_(); t4, t2",
]
ANSWERED = [  # PyTorch answers: exp of a log_softmax no write changes (guards: main answers them too)
    "t = x + 0; t.mul_(2); u = torch.exp(F.log_softmax(t, dim=0)); u",
    "t4 = F.log_softmax(x + 0, dim=0); u = torch.exp(t4); v = x + 0; v.mul_(3); u * v",
    "torch.exp(F.log_softmax(x, dim=0))",
]


def _torch_runs(text: str):
    """PyTorch's Jacobian of the text (its last expression; a tuple's first part) at X, or the RuntimeError it raises."""
    import torch
    import torch.nn.functional as F

    lines = [s.strip() for s in text.split(";")]

    def f(x):
        scope = {"torch": torch, "F": F, "x": x}
        for line in lines[:-1]:
            exec(line, scope)
        out = eval(lines[-1], scope)
        return out[0] if isinstance(out, tuple) else out

    x = torch.tensor(X, dtype=torch.float64)
    return torch.autograd.functional.jacobian(f, x).numpy()


@pytest.mark.parametrize("text", SAVED_WRITTEN)
def test_a_write_into_a_saved_log_softmax_is_refused_as_pytorch_raises(text):
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        _torch_runs(text)
    with pytest.raises(JacError, match="log_softmax saved 't4'"):
        api.jacobian(text, {"x": X})


@pytest.mark.parametrize("text", ANSWERED)
def test_exp_of_a_log_softmax_no_write_changes_is_pytorchs_jacobian(text):
    """A guard: answered, with PyTorch's Jacobian."""
    expected = _torch_runs(text)
    J = api.jacobian(text, {"x": X})
    got = np.asarray(J["x"] if isinstance(J, dict) else J)
    np.testing.assert_allclose(got.reshape(expected.shape), expected, rtol=1e-13, atol=1e-15)
