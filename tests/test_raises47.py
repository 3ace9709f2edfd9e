"""A required argument missing or given in the wrong form (session 47, benchmarks/raises47_probe.py's JAC-ANSWERS
1913 -> 104, WRONG 5 -> 0, FALSE-REFUSAL unchanged): where the library named raises, jac refuses (what the library
wants, a caret under the call); the neighbouring spellings the library answers, jac answers the same.

Each refusal is checked against the library itself: the test fails if the library stops raising. A bare method in a
text that names neither library is refused only where both readings raise (``x.reshape()``); where one answers it
is that one's (``x.transpose()``, ``x.cumsum()``: NumPy's), as ``x.transpose(0, 2)`` of a 3-d array is PyTorch's."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

X = np.array([[0.5, -0.6, 0.7], [0.2, 0.9, -0.4]])
V = np.array([0.5, -0.6, 0.7])
S = np.array(0.7)

# (library, text, inputs, what jac's message names): the library raises, jac refuses
REFUSED = [
    # a required dim left out (jac answered every element's)
    ("torch", "torch.logsumexp(x)", {"x": X}, "needs dim"),
    ("torch", "x.logsumexp()", {"x": X}, "needs dim"),
    ("torch", "torch.softmax(x)", {"x": X}, "needs dim"),
    ("torch", "x.log_softmax()", {"x": X}, "needs dim"),
    ("torch", "torch.frobenius_norm(x)", {"x": X}, "needs dim"),
    ("torch", "torch.flip(x)", {"x": X}, "needs dims"),
    ("torch", "x.flip()", {"x": X}, "needs dims"),  # no ndarray has .flip: PyTorch's, in every text
    ("torch", "torch.sin(x).transpose()", {"x": X}, "needs dim0 and dim1"),  # a text naming PyTorch: its reading
    ("torch", "x.new_zeros()", {"x": X}, "needs size"),
    ("torch", "torch.sin(x).transpose(0)", {"x": X}, "needs dim0 and dim1"),
    ("torch", "torch.permute_copy(x)", {"x": X}, "needs dims"),
    ("torch", "x.expand()", {"x": S}, "needs size"),
    ("numpy", "np.reshape(x)", {"x": X}, "needs shape"),
    ("numpy", "x.reshape()", {"x": S}, "needs shape"),  # both readings raise
    # the other library's keyword
    ("numpy", "np.cumsum(x, dim=0)", {"x": X}, "takes no dim="),
    ("numpy", "np.sum(x, axis=0, keepdim=True)", {"x": X}, "takes no keepdim="),
    ("numpy", "np.asarray(x).sum(dim=0)", {"x": X}, "takes no dim="),  # a NumPy text's method is ndarray's
    ("numpy", "scipy.special.logsumexp(x, dim=0)", {"x": X}, "takes no dim="),
    ("torch", "F.softmax(x, axis=0)", {"x": X}, "takes no axis="),
    ("torch", "torch.norm(x, axis=0)", {"x": X}, "takes no axis="),
    ("torch", "x.norm(dim=0, keepdims=True)", {"x": X}, "takes no keepdims="),
    ("torch", "torch.flip(x, dim=0)", {"x": X}, "needs dims"),
    ("torch", "x.flip(axis=(0,))", {"x": X}, "needs dims"),
    # a tuple where PyTorch takes one int, an int where it takes a tuple
    ("torch", "torch.prod(x, (0, 1))", {"x": X}, "one int, not a tuple"),
    ("torch", "torch.max(x, dim=(0,))", {"x": X}, "one int, not a tuple"),
    ("torch", "x.aminmax(dim=(0,))", {"x": X}, "one int, not a tuple"),
    ("torch", "torch.aminmax(x, 0)", {"x": X}, "keyword only"),
    ("torch", "torch.flip(x, 0)", {"x": X}, "tuple of ints, not an int"),
    # an int where PyTorch takes a bool
    ("torch", "x.sum(0, 1)", {"x": X}, "must be a bool"),
    ("torch", "torch.amax(x, 0, 1)", {"x": X}, "must be a bool"),
    ("torch", "torch.lu(x[:, :2], 0)[0]", {"x": X}, "must be a bool"),
    ("torch", "torch.linalg.inv_ex(x[:, :2], 0)[0]", {"x": X}, "positional argument"),
    ("torch", "x.argsort(0, 1)", {"x": X}, "'descending'"),
    # a Python number or a tuple where PyTorch needs a tensor
    ("torch", "torch.maximum(x, 0)", {"x": X}, "must be a tensor, not a Python number"),
    ("torch", "x.hypot(0.5)", {"x": X}, "must be a tensor, not a Python number"),
    ("torch", "F.mse_loss(x, 0.0)", {"x": X}, "must be a tensor, not a Python number"),
    ("torch", "torch.add(x, (0, 1, 2))", {"x": X}, "not a list or tuple"),
    ("torch", "x.eq((0.5,))", {"x": X}, "not a list or tuple"),
    ("torch", "torch.fmod(x, (0.5,))", {"x": X}, "not a list or tuple"),
    ("torch", "torch.clamp(x, (0,))", {"x": X}, "not a list or tuple"),
    ("torch", "torch.block_diag(x, 0)", {"x": X}, "not a Python number"),
    # more positional arguments than the library takes
    ("torch", "torch.relu(x, 0)", {"x": X}, "positional argument"),
    ("torch", "torch.linalg.diagonal(x, 0)", {"x": X}, "positional argument"),
    ("numpy", "np.cumulative_sum(x, 0)", {"x": X}, "positional argument"),
    ("numpy", "np.rint(x, 0)", {"x": X}, "positional argument"),
    ("numpy", "x.ravel(0)", {"x": X}, "refused by both libraries"),
    # NumPy's forms: a_max with a_min, an array of indices, an attribute, an array of one dimension or more
    ("numpy", "np.clip(x, 0)", {"x": X}, "needs a_max"),
    ("numpy", "np.asarray(x).ndim()", {"x": X}, "an attribute"),  # (x.size() may be a tensor's: answered)
    ("numpy", "np.flipud(s)", {"s": S}, "1 or more dimensions"),
    # constructors' sizes (the library raises TypeError)
    ("numpy", "np.random.rand((2, 3)) * x.sum()", {"x": X}, "separate ints"),
    ("numpy", "np.random.randn([2, 3]) * x.sum()", {"x": X}, "separate ints"),
    ("numpy", "np.random.rand(size=(2, 3)) * x.sum()", {"x": X}, "no keyword"),
    ("numpy", "np.zeros(2, 3) * x.sum()", {"x": X}, "the shape as one argument"),
    ("numpy", "np.ones(size=3) * x.sum()", {"x": X}, "no argument 'size'"),
    ("torch", "torch.zeros((2, 3), 3) * x.sum()", {"x": X}, "not both"),
    ("torch", "torch.full(3, 1.5) * x.sum()", {"x": X}, "tuple of ints"),
]

# the library answers: jac must answer the same (the checks above must not over-reach)
ANSWERED = [
    ("torch", "torch.logsumexp(x, dim=(0, 1))", {"x": X}),
    ("torch", "torch.logsumexp(x, 1)", {"x": X}),
    ("torch", "F.softmax(x, dim=0)", {"x": X}),
    ("torch", "torch.flip(x, (0,))", {"x": X}),
    ("torch", "x.flip(0)", {"x": X}),  # Tensor.flip(*dims)
    ("torch", "x.flip(dims=(1,))", {"x": X}),
    ("numpy", "np.flip(x)", {"x": X}),
    ("numpy", "x.transpose()", {"x": X}),  # PyTorch raises, NumPy reverses: a text naming neither is NumPy's
    ("numpy", "x.cumsum()", {"x": X}),  # likewise: NumPy's flattened sum (torch.sin(x).cumsum() is refused)
    ("numpy", "np.reshape(x, (3, 2))", {"x": X}),
    ("numpy", "x.reshape(-1)", {"x": X}),
    ("torch", "torch.sum(x, axis=0)", {"x": X}),  # ATen's functions take axis= for dim=
    ("torch", "torch.sum(x, dim=0, keepdims=True)", {"x": X}),
    ("torch", "torch.linalg.norm(x, axis=0)", {"x": X}),
    ("torch", "torch.norm(x, dim=0)", {"x": X}),
    ("numpy", "np.sum(x, axis=0, keepdims=True)", {"x": X}),
    ("torch", "x.sum(dim=0)", {"x": X}),  # no ndarray method takes dim=: PyTorch's
    ("torch", "torch.prod(x, 1)", {"x": X}),
    ("torch", "torch.amax(x, (0, 1))", {"x": X}),
    ("torch", "x.sum(0, True)", {"x": X}),
    ("torch", "torch.maximum(x, torch.tensor(0.0, dtype=torch.float64))", {"x": X}),
    ("torch", "torch.add(x, 1)", {"x": X}),
    ("torch", "torch.clamp(x, 0.1)", {"x": X}),
    ("torch", "torch.add(x, torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64))", {"x": X}),
    ("torch", "torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64) * x", {"x": X}),
    ("numpy", "np.add(x, (0, 1, 2))", {"x": X}),
    ("numpy", "np.maximum(x, 0)", {"x": X}),
    ("torch", "F.relu(x)", {"x": X}),
    ("numpy", "np.cumulative_sum(x, axis=0)", {"x": X}),
    ("numpy", "np.clip(x, 0, None)", {"x": X}),
    ("numpy", "np.clip(x, min=0)", {"x": X}),
    ("numpy", "x.ravel('F')", {"x": X}),
    ("torch", "torch.sin(x).transpose(0, 1)", {"x": X}),
    ("torch", "torch.block_diag(x, x)", {"x": X}),
    ("torch", "x.permute(1, 0)", {"x": X}),
    ("torch", "torch.full((3,), 1.5, dtype=torch.float64) * x.sum()", {"x": X}),
    ("numpy", "np.zeros((2, 3)) * x.sum()", {"x": X}),
    ("numpy", "np.ones(shape=(2,)) * x.sum()", {"x": X}),
    ("numpy", "np.zeros(3, np.float64) * x.sum()", {"x": X}),
    ("torch", "torch.zeros(2, 3) * x.sum()", {"x": X}),
    ("torch", "torch.ones((2, 3), dtype=torch.float64) * x.sum()", {"x": X}),
    ("torch", "torch.zeros(size=(2, 3)) * x.sum()", {"x": X}),  # jac read the shape () here
]

# draws: the shape alone is compared
DRAWN = [
    ("numpy", "np.random.rand(2, 3) * x.sum()", (2, 3)),
    ("numpy", "np.random.randn(4) * x.sum()", (4,)),
    ("torch", "torch.rand(size=(2, 3)) * x.sum()", (2, 3)),  # jac read the shape () here
    ("torch", "torch.randn((2, 3)) * x.sum()", (2, 3)),
    ("torch", "torch.rand(2, 3) * x.sum()", (2, 3)),
]


def _library(lib: str, text: str, inputs: dict):
    scope = {"np": np}
    import scipy.special
    scope["scipy"] = scipy
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
    with pytest.raises(Exception):  # noqa: B017 - the library's own TypeError
        _library(lib, text, inputs)
    if text in ("x.reshape()", "x.ravel(0)"):  # both readings raise: PyTorch's too
        with pytest.raises(Exception):  # noqa: B017
            _library("torch", text, inputs)
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


@pytest.mark.parametrize("lib,text,shape", DRAWN, ids=[t for _, t, _ in DRAWN])
def test_draws_take_their_sizes_as_the_library_does(lib, text, shape):
    if lib == "torch":
        pytest.importorskip("torch")
    assert _library(lib, text, {"x": X}).shape == shape
    assert api.evaluate(text, {"x": X}).shape == shape


def test_a_bare_method_where_both_readings_answer_is_unchanged():
    """x.cumsum() in a text naming PyTorch is PyTorch's refusal (it was already); in one naming NumPy, NumPy's."""
    with pytest.raises(JacError, match="dim"):
        api.evaluate("torch.sin(x).cumsum()", {"x": X})
    np.testing.assert_allclose(api.evaluate("np.sin(x).cumsum()", {"x": X}), np.sin(X).cumsum())


def test_command_line_refusal_exit_2_with_what_the_library_wants():
    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app
    result = CliRunner().invoke(app, ["eval", "torch.logsumexp(A)", "A=[[1.0, 2], [3, 4]]"])
    assert result.exit_code == 2
    assert "torch.logsumexp() needs dim" in result.output and "dim=(0, 1)" in result.output
    assert "^" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(app, ["eval", "np.random.rand((2, 3)) * A.sum()", "A=[1.0, 2]", "--json"])
    assert result.exit_code == 2
    assert '"kind": "value"' in result.stdout and "separate ints" in result.stdout and '"position": 10' in result.stdout


def test_the_contract_keeps_logsumexp_and_softmax_of_a_vector():
    """The contract lists torch.logsumexp(x) and torch.softmax(x) (tests/test_contract35.py, a vector): PyTorch
    raises without dim there too, but the one axis of a vector is every element, so no dim changes the answer; of a
    matrix the dim left out does, and jac refuses (REFUSED above)."""
    np.testing.assert_allclose(api.evaluate("torch.logsumexp(v)", {"v": V}), np.log(np.exp(V).sum()))
    np.testing.assert_allclose(api.evaluate("v.softmax()", {"v": V}), np.exp(V) / np.exp(V).sum())
