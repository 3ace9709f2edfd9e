"""Session 47: PyTorch's calls that answer with their operand itself (lang/copies.py ``itself``).

``t.flatten(1, 1)`` of a (3, 1) tensor, ``torch.atleast_2d(t)`` of a matrix, ``t.cpu()``, ``+t``, a real tensor's
``t.conj()`` / ``t.real`` ... are ``t``, the very object (``r is t`` in PyTorch), so a later write in place that
changes the shape (``t.unsqueeze_(0)``, ``t.t_()``) changes both names. jac read them as views, which keep their
own shape, and printed the old shape (torchhigher38_fuzz, seed 4706: ``t3 = t2.flatten(1, 1); t2.unsqueeze_(0);
t3`` was (3, 1) where PyTorch's is (1, 3, 1)).
"""
from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

X = np.array([[0.5], [1.0], [2.0]])

# calls PyTorch answers with t2 itself (each checked by `is` in test_torch_agrees_these_are_the_operand)
ITSELF = ["t2.flatten(1, 1)", "t2.flatten(-1, -1)", "t2.flatten(start_dim=1)", "torch.flatten(t2, 1, 1)",
          "t2.cpu()", "t2.to('cpu')", "t2.to(torch.device('cpu'))", "t2.type_as(t2)", "torch.as_tensor(t2)",
          "torch.asarray(t2)", "torch.atleast_1d(t2)", "torch.atleast_2d(t2)", "t2.conj()", "t2.resolve_conj()",
          "t2.resolve_neg()", "t2.conj_physical()", "t2.real", "torch.real(t2)", "+t2", "t2.positive()",
          "torch.positive(t2)", "t2.to_dense()", "t2.sum_to_size(3, 1)", "t2.cpu().flatten(1, 1)"]
# views and copies: their own shape after a write that changes t2's
NOT_ITSELF = ["t2.view(3, 1)", "t2.reshape(3, 1)", "t2[...]", "t2.flatten(0, 1)", "torch.atleast_3d(t2)",
              "t2.detach()", "t2.clone()", "t2 * 1", "-t2"]


def value(text: str) -> np.ndarray:
    return np.asarray(api.evaluate(text, {"x": X}))


@pytest.mark.parametrize("call", ITSELF)
def test_a_shape_write_into_the_operand_reaches_the_name(call):
    out = value(f"t2 = x * 1\nt3 = {call}\nt2.unsqueeze_(0)\nt3 * 2")
    assert out.shape == (1, 3, 1)
    assert np.array_equal(out, 2 * X[None])


@pytest.mark.parametrize("call", ITSELF)
def test_a_shape_write_into_the_name_reaches_the_operand(call):
    out = value(f"t2 = x * 1\nt3 = {call}\nt3.t_()\nt2 - 1")
    assert out.shape == (1, 3)
    assert np.array_equal(out, X.T - 1)


@pytest.mark.parametrize("call", ITSELF[:8])
def test_a_value_write_reaches_both(call):
    out = value(f"t2 = x * 1\nt3 = {call}\nt3.mul_(2)\nt2.add_(1)\nt3")
    assert np.array_equal(out, 2 * X + 1)


@pytest.mark.parametrize("write", ["t2.flatten(1, 1).unsqueeze_(0)", "torch.atleast_2d(t2).unsqueeze_(0)",
                                   "t2.cpu().unsqueeze_(0)", "t2.conj().unsqueeze_(0)"])
def test_a_write_on_the_call_writes_the_operand(write):
    out = value(f"t2 = x * 1\n{write}\nt2")
    assert out.shape == (1, 3, 1)


def test_the_fuzz_finding():
    out = np.asarray(api.evaluate("t2 = torch.tensor([[0.42], [1.6], [0.87]])\nt3 = t2.flatten(1, 1)\n"
                                  "t2.unsqueeze_(0)\nt3"))
    assert out.shape == (1, 3, 1)


@pytest.mark.parametrize("call", NOT_ITSELF)
def test_views_and_copies_keep_their_shape(call):
    try:
        out = value(f"t2 = x * 1\nt3 = {call}\nt2.unsqueeze_(0)\nt3 * 2")
    except JacError:
        return  # a refusal is not a wrong answer
    assert out.shape != (1, 3, 1)


def test_numpy_flatten_is_a_copy():
    """NumPy's ``a.flatten()`` copies, so a write into it must not reach ``a`` (nor be read as ``a`` itself)."""
    try:
        out = np.asarray(api.evaluate("a = np.sin(x) * 1\nv = a.flatten()\nv[0] = 5.0\na", {"x": X.T}))
    except JacError:
        return
    assert np.array_equal(out, np.sin(X.T))


def test_torch_agrees_these_are_the_operand():
    torch = pytest.importorskip("torch")
    for call in ITSELF:
        t2 = torch.tensor(X) * 1
        assert eval(call, {"torch": torch, "t2": t2}) is t2, call  # noqa: S307 - the test's own texts
    for call in NOT_ITSELF:
        t2 = torch.tensor(X) * 1
        assert eval(call, {"torch": torch, "t2": t2}) is not t2, call  # noqa: S307


@pytest.mark.parametrize("call", ITSELF + NOT_ITSELF)
@pytest.mark.parametrize("write", ["t2.unsqueeze_(0)", "t3.t_()", "t2.squeeze_(1)", "t3.add_(1)", "t3[0] = 7.0"])
def test_against_pytorch(call, write):
    torch = pytest.importorskip("torch")
    text = f"t2 = x * 1\nt3 = {call}\n{write}\nt3 * 2 + t2.sum()"
    try:
        scope = {"torch": torch, "t2": torch.tensor(X, requires_grad=True) * 1}
        exec(f"t3 = {call}\n{write}", scope)  # noqa: S102 - PyTorch on the test's own text
        ref = (scope["t3"] * 2 + scope["t2"].sum()).detach().numpy()
    except RuntimeError:
        ref = None
    try:
        out = value(text)
    except JacError:
        return  # refused: never a wrong answer
    assert ref is not None, "jac answers where PyTorch raises"
    assert out.shape == ref.shape and np.allclose(out, ref, rtol=1e-15, atol=0)
