"""Argument checks as the library named, the cases session 41 left (session 43, benchmarks/raises41_fuzz.py's
JAC-ANSWERS 92 -> 5): where NumPy or PyTorch raises, jac refuses (the argument named, a caret); the neighbouring
spellings the library answers, jac answers the same.

Each refusal is checked against the library itself: the test fails if the library stops raising."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

X = np.array([[0.5, -0.6, 0.7], [0.2, 0.9, -0.4]])
V = np.array([0.5, -0.6, 0.7])
S = np.array(0.7)
T = np.arange(18.0).reshape(2, 3, 3) / 7 - 1
W = np.array([-0.5, 0.0, 0.5, 1.5])  # sorted

# (library, text, inputs, what jac's message names): the library raises, jac refuses
REFUSED = [
    # a float literal read outside static_int (jac read int(1.0))
    ("torch", "F.adaptive_avg_pool1d(x, 1.0)", {"x": X}, "float 1.0"),
    ("torch", "torch.adaptive_avg_pool1d(x, 2.0)", {"x": X}, "float 2.0"),
    ("torch", "F.adaptive_max_pool2d(t, 1.0)", {"t": T}, "float 1.0"),
    ("numpy", "np.pad(x, 1.0)", {"x": X}, "must be of integral type"),
    ("numpy", "np.pad(x, (1, 1.0))", {"x": X}, "must be of integral type"),
    ("numpy", "np.delete(x, 1.0)", {"x": X}, "float 1.0"),
    ("numpy", "np.resize(x, 4.0)", {"x": X}, "float 4.0"),
    ("numpy", "np.broadcast_to(x, (2.0, 3))", {"x": X}, "float"),
    ("numpy", "np.diag(v, 1.0)", {"v": V}, "float 1.0"),
    ("numpy", "np.diff(x, 1.0)", {"x": X}, "float 1.0"),
    ("numpy", "np.tile(x, 2.0)", {"x": X}, "float 2.0"),
    ("numpy", "np.tile(v, (1.0, 2))", {"v": V}, "float"),
    ("numpy", "np.ldexp(x, 1.0)", {"x": X}, "float 1.0"),
    ("numpy", "np.ldexp(x, np.array([1.0, 2.0, 3.0]))", {"x": X}, "float"),
    ("torch", "torch.ldexp(x, 1.0)", {"x": X}, "not a Python number"),  # PyTorch's own reason (session 47)
    ("numpy", "np.linalg.tensorinv(x[:, :2], 1.0)", {"x": X}, "float 1.0"),
    ("numpy", "np.linalg.vector_norm(x, axis=1.0, keepdims=True)", {"x": X}, "float 1.0"),
    # methods no ndarray has: PyTorch's, which takes no float for an int
    ("torch", "x[:, :2].matrix_power(2.0)", {"x": X}, "float 2.0"),
    ("torch", "x.mvlgamma(1.0)", {"x": X + 1}, "float 1.0"),
    ("torch", "x.repeat_interleave(2.0)", {"x": X}, "float 2.0"),
    # a 0-d array's dims: PyTorch's range there is [-1, 0]
    ("torch", "torch.flatten(s, 1)", {"s": S}, "out of range"),
    ("torch", "s.flatten(-2)", {"s": S}, "out of range"),
    ("torch", "torch.flatten(s, end_dim=1)", {"s": S}, "out of range"),
    ("torch", "torch.flatten(s, 0.0)", {"s": S}, "float 0.0"),
    ("torch", "torch.logcumsumexp(s, 1)", {"s": S}, "out of range"),
    ("torch", "s.logcumsumexp(dim=-2)", {"s": S}, "out of range"),
    ("numpy", "np.nanmedian(s, axis=-1)", {"s": S}, "dimension 0"),
    # values PyTorch refuses
    ("torch", "F.softshrink(x, -0.5)", {"x": X}, "lambd must be >= 0"),
    ("torch", "F.pdist(x, -1)", {"x": X}, "p must be >= 0"),
    ("torch", "torch.std(x, unbiased=2)", {"x": X}, "unbiased must be True or False, not 2"),
    ("torch", "x.var(0, unbiased=0)", {"x": X}, "unbiased must be True or False"),
    ("torch", "torch.sum(x, keepdim=True)", {"x": X}, "keepdim= needs a dim"),
    ("torch", "x.mean(keepdim=True)", {"x": X}, "keepdim= needs a dim"),
    ("torch", "torch.median(x, keepdim=True)", {"x": X}, "keepdim= needs a dim"),
    ("torch", "torch.max(x, keepdim=True)", {"x": X}, "keepdim= needs a dim"),
    ("torch", "torch.count_nonzero(x, keepdim=True)", {"x": X}, "has no argument 'keepdim'"),
    # the norms' dimensions (NumPy and PyTorch alike)
    ("numpy", "np.linalg.norm(s, 1)", {"s": S}, "needs a vector or a matrix"),
    ("numpy", "np.linalg.norm(t, 2)", {"t": T}, "needs a vector or a matrix"),
    ("numpy", "np.linalg.norm(v, 'fro')", {"v": V}, "matrix norm"),
    ("numpy", "np.linalg.norm(x, 'nuc', axis=0)", {"x": X}, "matrix norm"),
    ("numpy", "np.linalg.norm(t, axis=(0, 1, 2))", {"t": T}, "names 3 axes"),
    ("torch", "torch.linalg.norm(s, 2)", {"s": S}, "needs a vector or a matrix"),
    ("torch", "torch.linalg.norm(t, dim=(0, 1, 2))", {"t": T}, "names 3 axes"),
    ("torch", "torch.linalg.norm(v, 'fro')", {"v": V}, "matrix norm"),
    # PyTorch takes no list or tuple where it needs a tensor (jac read it as torch.tensor of it)
    ("torch", "torch.isin(w, (0, -1))", {"w": W}, "not a list or tuple"),
    ("torch", "torch.isin(w, [0.0, 0.5])", {"w": W}, "not a list or tuple"),
    ("torch", "torch.searchsorted(w, (0.2, 1.0))", {"w": W}, "not a list or tuple"),
    ("torch", "torch.searchsorted([0.0, 1.0], w)", {"w": W}, "not a list or tuple"),
    # NumPy's argument counts and 0-d coefficient arrays
    ("numpy", "np.real_if_close(x, x, x)", {"x": X}, "real_if_close"),
    ("numpy", "np.polyder(s, 1)", {"s": S}, "0-d"),
    ("numpy", "np.polyint(s)", {"s": S}, "0-d"),
]

# the library answers: jac must answer the same (the checks above must not over-reach)
ANSWERED = [
    ("torch", "F.adaptive_avg_pool1d(x, 2)", {"x": X}),
    ("torch", "F.adaptive_max_pool2d(t, (2, None))", {"t": T}),
    ("numpy", "np.pad(x, 1)", {"x": X}),
    ("numpy", "np.pad(x, ((1, 0), (0, 2)))", {"x": X}),
    ("numpy", "np.pad(s, 0)", {"s": S}),
    ("numpy", "np.delete(x, 1)", {"x": X}),
    ("numpy", "np.delete(x, [0, 2], axis=1)", {"x": X}),
    ("numpy", "np.resize(x, (4,))", {"x": X}),
    ("numpy", "np.broadcast_to(v, (2, 3))", {"v": V}),
    ("numpy", "np.diag(v, 1)", {"v": V}),
    ("numpy", "np.diff(x, 0.0)", {"x": X}),  # n == 0 returns x before n is used
    ("numpy", "np.diff(x, 1)", {"x": X}),
    ("numpy", "np.tile(x, 2)", {"x": X}),
    ("numpy", "np.tile(x, 1.0)", {"x": X}),  # every repetition 1: NumPy's copy, no reshape
    ("numpy", "np.tile(v, (1.0, 1))", {"v": V}),
    ("numpy", "np.ldexp(x, 2)", {"x": X}),
    ("numpy", "np.ldexp(x, [1, -2, 3])", {"x": X}),
    ("torch", "torch.ldexp(x, torch.tensor([2.0, -1.0, 0.0]))", {"x": X}),  # its literals' float mark kept: a tensor
    ("numpy", "np.linalg.vector_norm(x, axis=1.0)", {"x": X}),  # without keepdims NumPy calls int(axis)
    ("numpy", "np.linalg.vector_norm(x, axis=1, keepdims=True)", {"x": X}),
    ("numpy", "np.tril(x, 1.0)", {"x": X}),
    ("numpy", "np.repeat(x, 2.0)", {"x": X}),
    ("torch", "x[:, :2].matrix_power(2)", {"x": X}),
    ("torch", "x.repeat_interleave(2)", {"x": X}),
    ("torch", "x.repeat(2, 1, 1)", {"x": T[0, :2]}),
    ("torch", "t.repeat(2, 1, 1)", {"t": T}),
    ("torch", "torch.flatten(s, 0)", {"s": S}),
    ("torch", "s.flatten(-1)", {"s": S}),
    ("torch", "torch.flatten(s, 0, -1)", {"s": S}),
    ("torch", "torch.logcumsumexp(s, -1)", {"s": S}),
    ("torch", "torch.logcumsumexp(x, 1)", {"x": X}),
    ("numpy", "np.nanmedian(s)", {"s": S}),
    ("torch", "F.softshrink(x, 0.5)", {"x": X}),
    ("torch", "F.softshrink(x, 0)", {"x": X}),
    ("torch", "F.hardshrink(x, -1)", {"x": X}),  # PyTorch's hardshrink takes a negative lambda
    ("torch", "F.pdist(x, 0)", {"x": X}),
    ("torch", "F.pdist(x, 1.5)", {"x": X}),
    ("torch", "torch.std(x, unbiased=True)", {"x": X}),
    ("torch", "torch.var(x, 0, unbiased=False)", {"x": X}),
    ("torch", "torch.std(x, True)", {"x": X}),
    ("torch", "torch.sum(x, 0, keepdim=True)", {"x": X}),
    ("torch", "torch.sum(x, (0, 1), keepdim=True)", {"x": X}),
    ("torch", "torch.amax(x, keepdim=True)", {"x": X}),
    ("torch", "torch.nansum(x, keepdim=True)", {"x": X}),
    ("torch", "torch.var(x, keepdim=True)", {"x": X}),
    ("torch", "torch.median(x, 0, keepdim=True).values", {"x": X}),
    ("numpy", "np.sum(x, keepdims=True)", {"x": X}),
    ("numpy", "x.sum(keepdims=True)", {"x": X}),
    ("numpy", "np.linalg.norm(s)", {"s": S}),
    ("numpy", "np.linalg.norm(t)", {"t": T}),
    ("numpy", "np.linalg.norm(x, 'fro')", {"x": X}),
    ("numpy", "np.linalg.norm(t, 'fro', (1, 2))", {"t": T}),
    ("numpy", "np.linalg.norm(t, 2, axis=(0, 2))", {"t": T}),
    ("numpy", "np.linalg.norm(v, 1)", {"v": V}),
    ("torch", "torch.linalg.norm(s)", {"s": S}),
    ("torch", "torch.linalg.norm(s, 2, -1)", {"s": S}),
    ("torch", "torch.linalg.norm(t)", {"t": T}),
    ("torch", "torch.linalg.norm(x, 'fro')", {"x": X}),
    ("torch", "torch.norm(v, 'fro')", {"v": V}),
    ("torch", "torch.norm(s, 2)", {"s": S}),
    ("torch", "torch.isin(w, torch.tensor((0, -1)))", {"w": W}),
    ("torch", "torch.isin(w, torch.tensor([0.0, 0.5]).double())", {"w": W}),
    ("torch", "torch.isin(w, 0.5)", {"w": W}),
    ("numpy", "np.isin(w, (0, 0.5))", {"w": W}),
    ("torch", "torch.searchsorted(w, torch.tensor([0.2, 1.0], dtype=torch.float64))", {"w": W}),
    ("torch", "torch.searchsorted(w, 0.2)", {"w": W}),
    ("numpy", "np.searchsorted(w, (0.2, 1.0))", {"w": W}),
    ("numpy", "np.real_if_close(x)", {"x": X}),
    ("numpy", "np.real_if_close(x, 1000)", {"x": X}),
    ("numpy", "np.polyder(v, 1)", {"v": V}),
    ("numpy", "np.polyint(v)", {"v": V}),
    ("numpy", "np.polyint(s, 0)", {"s": S}),  # m == 0 gives p back before len(p)
]


def _library(lib: str, text: str, inputs: dict):
    scope = {"np": np}
    if lib == "torch":
        import torch
        import torch.nn.functional as F
        scope.update(torch=torch, F=F, **{k: torch.tensor(v) for k, v in inputs.items()})
    else:
        scope.update({k: np.asarray(v) for k, v in inputs.items()})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = eval(text, scope)  # noqa: S307 - the test's own texts
    return y.detach().numpy() if hasattr(y, "detach") else np.asarray(y)


@pytest.mark.parametrize("lib,text,inputs,words", REFUSED, ids=[t for _, t, _, _ in REFUSED])
def test_jac_refuses_what_the_library_refuses(lib, text, inputs, words):
    if lib == "torch":
        pytest.importorskip("torch")
    with pytest.raises(Exception):  # noqa: B017 - the library's own TypeError / ValueError / RuntimeError
        _library(lib, text, inputs)
    with pytest.raises(JacError) as err:
        api.evaluate(text, inputs)
    assert words in str(err.value)
    assert err.value.position is not None  # a caret under the call


@pytest.mark.parametrize("lib,text,inputs", ANSWERED, ids=[t for _, t, _ in ANSWERED])
def test_jac_answers_what_the_library_answers(lib, text, inputs):
    if lib == "torch":
        pytest.importorskip("torch")
    want = _library(lib, text, inputs)
    got = api.evaluate(text, inputs)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_command_line_refusal_exit_2_with_the_argument_named():
    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app
    result = CliRunner().invoke(app, ["eval", "np.tile(x, 2.0)", "x=[1, 2]"])
    assert result.exit_code == 2
    assert "reps must be integers, not the float 2.0" in result.output
    assert "^" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(app, ["eval", "torch.linalg.norm(s, 2)", "s=2.0", "--json"])
    assert result.exit_code == 2
    assert '"kind": "shape"' in result.stdout and "needs a vector or a matrix" in result.stdout
