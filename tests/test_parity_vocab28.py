"""Parity with PyTorch 2.13 and NumPy for the names session 28 read (lang/pasted.py): the dtype questions
(promote_types, can_cast, result_type) over every pair of the dtypes jac holds, the type questions
(is_floating_point, is_signed, is_same_size, is_nonzero), and PyTorch's own refusal of the removed functions."""

import itertools

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from test_parity_grad24 import assert_agrees_with_pytorch, torch64  # noqa: F401 - the fixture is used by name

torch = pytest.importorskip("torch")
F = pytest.importorskip("torch.nn.functional")

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
PAIRS = list(itertools.product(NAMES, NAMES))


def _truth(text, bindings=None, dtype="float64") -> bool:
    found = api.evaluate(text, bindings or {"x": np.ones(3)}, dtype=dtype)
    assert found.shape == () and found in (0.0, 1.0)
    return bool(found)


@pytest.mark.parametrize("first, second", PAIRS)
def test_promote_types_and_can_cast_are_the_libraries(first, second):
    theirs = str(torch.promote_types(getattr(torch, first), getattr(torch, second))).split(".")[1]
    assert _truth(f"torch.promote_types(torch.{first}, torch.{second}) == torch.{theirs}")
    assert not _truth(f"torch.promote_types(torch.{first}, torch.{second}) != torch.{theirs}")
    assert _truth(f"torch.can_cast(torch.{first}, torch.{second})") == \
        torch.can_cast(getattr(torch, first), getattr(torch, second))
    theirs = np.promote_types(first, second).name
    assert _truth(f"np.promote_types(np.{first}, np.{second}) == np.{theirs}")
    for casting in ("no", "equiv", "safe", "same_kind", "unsafe"):
        assert _truth(f"np.can_cast(np.{first}, np.{second}, casting='{casting}')") == \
            np.can_cast(first, second, casting=casting)


INTEGERS = ["bool", "uint8", "int8", "int16", "int32", "int64"]
OTHERS = [("2", 2), ("True", True), ("2.5", 2.5)] + \
    [(f"torch.tensor(1, dtype=torch.{n})", None) for n in INTEGERS] + \
    [(f"torch.ones(2, dtype=torch.{n})", None) for n in INTEGERS] + [("x", None), ("x.sum()", None)]


@pytest.mark.parametrize("first", [t for t, _ in OTHERS if t not in ("2", "True", "2.5")])
@pytest.mark.parametrize("other", [t for t, _ in OTHERS])
def test_torch_result_type_is_pytorchs(first, other):
    x = torch.ones(3, dtype=torch.float32)  # jac's float is --dtype: float32 here, as PyTorch's default
    theirs = torch.result_type(eval(first, {"torch": torch, "x": x}), eval(other, {"torch": torch, "x": x}))
    name = str(theirs).split(".")[1]
    assert _truth(f"torch.result_type({first}, {other}) == torch.{name}", dtype="float32")


@pytest.mark.parametrize("first", [f"np.ones(2, dtype=np.{n})" for n in INTEGERS] + ["x", "np.int8"])
@pytest.mark.parametrize("other", ["2", "True", "x", "np.int16", "np.float16"] +
                         [f"np.ones(2, dtype=np.{n})" for n in INTEGERS])
def test_numpy_result_type_is_numpys(first, other):
    x = np.ones(3)
    theirs = np.result_type(eval(first, {"np": np, "x": x}), eval(other, {"np": np, "x": x}))
    assert _truth(f"np.result_type({first}, {other}) == np.{theirs.name}")


@pytest.mark.parametrize("text", ["torch.is_floating_point(x)", "x.is_floating_point()", "torch.is_signed(x)",
                                  "torch.arange(3).is_floating_point()", "torch.is_signed(torch.arange(3))",
                                  "torch.is_signed(torch.arange(3, dtype=torch.uint8))", "(x > 0).is_signed()",
                                  "torch.is_floating_point(x > 0)", "torch.is_same_size(x, y)",
                                  "x.is_same_size(y.T)", "torch.is_same_size(x, x)", "x.sum().is_nonzero()",
                                  "(x[0, 0] - x[0, 0]).is_nonzero()", "x[:1, :1].is_nonzero()"])
def test_type_questions_are_pytorchs(text):
    x, y = torch.tensor([[1.5, -2.0], [0.0, 3.0]], dtype=torch.float64), torch.ones(2, 2, dtype=torch.float64)
    theirs = eval(text, {"torch": torch, "x": x, "y": y})
    assert _truth(text, {"x": x.numpy(), "y": y.numpy()}) == theirs


@pytest.mark.parametrize("text", ["torch.solve(B, A)", "torch.lstsq(B, A)", "torch.symeig(A)", "torch.eig(A)",
                                  "torch.matrix_rank(A)", "B.solve(A)", "B.lstsq(A)", "A.symeig()", "A.eig()"])
def test_the_removed_functions_pytorch_refuses_are_refused_with_what_to_write(text):
    with pytest.raises(RuntimeError, match="deprecated since version 1.9 and is now removed"):
        eval(text, {"torch": torch, "A": torch.eye(3), "B": torch.ones(3, 2)})
    with pytest.raises(JacError, match="was removed from PyTorch .*: .*write .*torch.linalg"):
        api.evaluate(text, {"A": np.eye(3), "B": np.ones((3, 2))})


def test_is_nonzero_of_several_elements_is_refused_as_pytorch_refuses():
    with pytest.raises(RuntimeError, match="more than one value is ambiguous"):
        torch.ones(2).is_nonzero()
    with pytest.raises(JacError, match="more than one value is ambiguous"):
        api.evaluate("x.is_nonzero()", {"x": np.ones(2)})
    with pytest.raises(RuntimeError, match="no values is ambiguous"):
        torch.ones(0).is_nonzero()
    with pytest.raises(JacError, match="no values is ambiguous"):
        api.evaluate("x.is_nonzero()", {"x": np.ones(0)})


rng = np.random.default_rng(2828)
X3 = rng.standard_normal((2, 3, 4))
W3, B3 = rng.standard_normal(3), rng.standard_normal(3)
ATEN = [  # (text, inputs): values and Jacobians by every input equal PyTorch's (torch.autograd.functional)
    ("torch.slice_copy(x, 2, 1, 100, 2)", {"x": X3}),
    ("torch.slice_copy(x, -1, -3, -1)", {"x": X3}),
    ("torch.slice_copy(x, 1, 5, 7).sum() + x.sum()", {"x": X3}),
    ("torch.slice_copy(x)", {"x": X3}),
    ("torch.split_with_sizes_copy(x, [1, 3], 2)[1]", {"x": X3}),
    ("torch.split_with_sizes_copy(x, [2, 0, 1], dim=1)[0]", {"x": X3}),
    ("torch.norm_except_dim(x)", {"x": X3}), ("torch.norm_except_dim(x, 2, 1)", {"x": X3}),
    ("torch.norm_except_dim(x, 1, 2)", {"x": X3}), ("torch.norm_except_dim(x, 3, -2)", {"x": X3}),
    ("torch.norm_except_dim(x, 2, -1)", {"x": X3}),
    ("v / torch.norm_except_dim(v, 2, 0) * g", {"v": rng.standard_normal((4, 3)), "g": rng.uniform(1, 2, (4, 1))}),
    ("torch.native_batch_norm(x, w, b, None, None, True, 0.1, 1e-5)[0]", {"x": X3, "w": W3, "b": B3}),
    ("torch.native_batch_norm(x, w, b, torch.zeros(3), torch.ones(3), True, 0.1, 1e-5)[0]",
     {"x": X3, "w": W3, "b": B3}),
    ("torch.native_batch_norm(x, w, b, torch.tensor([0.5, -1.0, 2.0]), torch.tensor([1.5, 0.25, 3.0]), False, 0.1, "
     "1e-3)[0]", {"x": X3, "w": W3, "b": B3}),
    ("o = torch.native_batch_norm(x, None, None, None, None, True, 0.1, 1e-5); o[1] * 2 + o[2] + o[0][0, :, 0]",
     {"x": X3}),
    ("torch.native_group_norm(x, w, b, 2, 6, 5, 3, 1e-5)[0]",
     {"x": rng.standard_normal((2, 6, 5)), "w": rng.standard_normal(6), "b": rng.standard_normal(6)}),
    ("o = torch.native_group_norm(x, None, None, 2, 6, 4, 2, 1e-5); o[0][:, 0] * 2",
     {"x": rng.standard_normal((2, 6, 2, 2))}),
    ("torch.convolution(x, w, b, [1], [1], [1], False, [0], 1)",
     {"x": rng.standard_normal((2, 4, 7)), "w": rng.standard_normal((6, 4, 3)), "b": rng.standard_normal(6)}),
    ("torch.convolution(x, w, None, [2, 1], [0, 1], [1, 2], False, [0, 0], 2)",
     {"x": rng.standard_normal((1, 4, 6, 7)), "w": rng.standard_normal((6, 2, 2, 3))}),
    ("torch.convolution(x, w, b, [2], [1], [1], True, [1], 1)",
     {"x": rng.standard_normal((2, 4, 5)), "w": rng.standard_normal((4, 3, 3)), "b": rng.standard_normal(3)}),
    ("torch.convolution(x, w, None, [1, 2], [0, 1], [1, 1], True, [0, 1], 2)",
     {"x": rng.standard_normal((1, 4, 3, 4)), "w": rng.standard_normal((4, 2, 2, 3))}),
    ("torch.convolution(x, w, b, [1, 1, 1], [0, 0, 0], [1, 1, 1], False, [0, 0, 0], 1)",
     {"x": rng.standard_normal((1, 2, 3, 3, 3)), "w": rng.standard_normal((2, 2, 2, 2, 2)),
      "b": rng.standard_normal(2)}),
    ("torch.conv_tbc(x, w, b)",
     {"x": rng.standard_normal((5, 2, 3)), "w": rng.standard_normal((3, 3, 4)), "b": rng.standard_normal(4)}),
    ("F.conv_tbc(x, w, b, 1)",
     {"x": rng.standard_normal((5, 2, 3)), "w": rng.standard_normal((2, 3, 4)), "b": rng.standard_normal(4)}),
    ("torch.conv_tbc(x, w, b, pad=2)",
     {"x": rng.standard_normal((1, 1, 2)), "w": rng.standard_normal((4, 2, 1)), "b": rng.standard_normal(1)}),
    ("x[tuple(torch.nonzero_static(x > 0, size=3).T)]", {"x": np.array([[0.5, -1.0], [2.0, 3.0]])}),
    ("x.flatten()[torch.nonzero_static(x.flatten() > 0, size=5, fill_value=0)[:, 0]]",
     {"x": np.array([[0.5, -1.0], [2.0, 3.0]])}),
]


@pytest.mark.parametrize("text, inputs", ATEN, ids=[t[:60] for t, _ in ATEN])
def test_aten_spellings_are_pytorchs(torch64, text, inputs):
    assert_agrees_with_pytorch(torch64, text, inputs)


@pytest.mark.parametrize("size, fill", [(0, -1), (2, -1), (4, -1), (6, 9)])
def test_nonzero_static_is_pytorchs(size, fill):
    m = np.array([[0.0, 1.0, 0.0], [2.0, 0.0, 3.0]])
    theirs = torch.nonzero_static(torch.tensor(m), size=size, fill_value=fill).numpy()
    ours = api.evaluate(f"torch.nonzero_static(m, size={size}, fill_value={fill}) + 0 * m.sum()", {"m": m})
    assert ours.shape == theirs.shape and (ours == theirs).all()


def test_native_batch_norm_in_eval_gives_empty_statistics_as_pytorch():
    theirs = torch.native_batch_norm(torch.tensor(X3), None, None, torch.zeros(3, dtype=torch.float64),
                                     torch.ones(3, dtype=torch.float64), False, 0.1, 1e-5)
    for k in (1, 2):
        ours = api.evaluate(f"torch.native_batch_norm(x, None, None, torch.zeros(3), torch.ones(3), False, 0.1, "
                            f"1e-5)[{k}]", {"x": X3})
        assert ours.shape == tuple(theirs[k].shape) == (0,)
    assert not theirs[1].requires_grad


@pytest.mark.parametrize("text, says", [
    ("torch.slice_copy(x, 1, 0, 2, -1)", "slice step must be positive"),
    ("torch.split_with_sizes_copy(x, [1, 2], 2)", "split"),
    ("torch.norm_except_dim(x, 2.5, 1)", "must be int"),
    ("torch.norm_except_dim(x, 2, 3)", "out of range|dim"),
])
def test_aten_refusals_are_where_pytorch_raises(text, says):
    with pytest.raises(Exception):  # noqa: B017 - PyTorch's own error, any kind
        eval(text, {"torch": torch, "x": torch.tensor(X3)})
    with pytest.raises(JacError, match=says):
        api.evaluate(text, {"x": X3})


@pytest.mark.parametrize("k, eps", [(1, 1e-5), (2, 1e-5), (2, 0.1)])
def test_native_group_norm_statistics_are_pytorchs_and_their_derivative_is_refused(k, eps):
    x = rng.standard_normal((2, 6, 2, 2))
    text = f"torch.native_group_norm(x, None, None, 2, 6, 4, 3, {eps})[{k}]"
    theirs = eval(text, {"torch": torch, "x": torch.tensor(x)})
    np.testing.assert_allclose(api.evaluate(text, {"x": x}), theirs.numpy(), rtol=1e-13, atol=1e-15)
    assert theirs.shape == (2, 3)
    # PyTorch's derivative through one alone is 0, not the statistic's
    f = lambda t: torch.native_group_norm(t, None, None, 2, 6, 4, 3, eps)[k]  # noqa: E731
    assert torch.autograd.functional.jacobian(f, torch.tensor(x)).abs().sum() == 0
    with pytest.raises(JacError, match="derivative through torch.native_group_norm's mean or rstd"):
        api.jacobian(text, {"x": x})


D = rng.standard_normal((6, 3)).round(1)  # ties in the max and min
D[2, 1] = D[3, 1]
SEGMENTS = [(f"torch.segment_reduce(d, '{r}', {lengths}{extra})", r) for r in ("sum", "mean", "max", "min", "prod")
            for lengths, extra in (("lengths=torch.tensor([2, 0, 3, 1])", ""), ("lengths=torch.tensor([6])", ""),
                                   ("lengths=torch.tensor([1, 0, 5])", ", initial=0.5"),
                                   ("offsets=torch.tensor([0, 2, 2, 6])", ""),
                                   ("lengths=torch.tensor([2, 3])", ", unsafe=True"))]


@pytest.mark.parametrize("text, reduce", SEGMENTS, ids=[t for t, _ in SEGMENTS])
def test_segment_reduce_is_pytorchs(torch64, text, reduce):
    assert_agrees_with_pytorch(torch64, text, {"d": D})


@pytest.mark.parametrize("text, says", [
    ("torch.segment_reduce(d, 'sum', lengths=torch.tensor([1, 2]), axis=1)", "axis"),
    ("torch.segment_reduce(d, 'sum', lengths=torch.tensor([1, 2]))", "sum to"),
    ("torch.segment_reduce(d, 'median', lengths=torch.tensor([6]))", "reduce"),
])
def test_segment_reduce_refuses_where_pytorch_raises(text, says):
    with pytest.raises(RuntimeError):
        eval(text, {"torch": torch, "d": torch.tensor(D)})
    with pytest.raises(JacError, match=says):
        api.evaluate(text, {"d": D})


def test_output_padding_without_transposed_is_refused_as_pytorch_refuses_its_derivative():
    x, w = torch.ones(2, 4, 7, requires_grad=True), torch.ones(6, 4, 3)
    with pytest.raises(RuntimeError, match="output_padding is not supported for non-transposed"):
        torch.convolution(x, w, None, [1], [1], [1], False, [1], 1).sum().backward()  # the forward answers
    with pytest.raises(JacError, match="output_padding is not supported for non-transposed"):
        api.evaluate("torch.convolution(x, w, None, [1], [1], [1], False, [1], 1)", {"x": x.detach().numpy(),
                                                                                     "w": w.numpy()})


def _flat(torch64, mode, layers, bidirectional, bias, proj=0):
    """The weights of a torch nn.{mode} of 3 inputs and hidden size 4, named w0, w1, ... in its flat order."""
    kw = {"proj_size": proj} if proj else {}
    module = getattr(torch64.nn, mode)(3, 4, layers, bias=bias, bidirectional=bidirectional, **kw)
    return {f"w{k}": w.detach().numpy() for k, w in enumerate(module._flat_weights)}


RECURRENT = [(fname, mode, layers, bi, bias, first, proj)
             for fname, mode in (("rnn_tanh", "RNN"), ("rnn_relu", "RNN"), ("gru", "GRU"), ("lstm", "LSTM"))
             for layers, bi, bias, first in ((1, False, True, False), (2, True, True, True), (2, False, False, False))
             for proj in ((0, 2) if mode == "LSTM" and layers == 2 and bi else (0,))]


@pytest.mark.parametrize("fname, mode, layers, bi, bias, first, proj", RECURRENT)
def test_the_recurrent_functional_forms_are_pytorchs(torch64, fname, mode, layers, bi, bias, first, proj):
    weights = _flat(torch64, mode, layers, bi, bias, proj)
    rows, out = layers * (2 if bi else 1), proj or 4
    inputs = {"x": rng.standard_normal((2, 3, 3) if first else (3, 2, 3)),
              "h": rng.standard_normal((rows, 2, out)) * 0.5, **weights}
    if mode == "LSTM":
        inputs["c"] = rng.standard_normal((rows, 2, 4)) * 0.5
    hx = "[h, c]" if mode == "LSTM" else "h"
    flags = f"{bias}, {layers}, 0.0, False, {bi}, {first}"
    call = f"torch.{fname}(x, {hx}, [{', '.join(weights)}], {flags})"
    for k in range(3 if mode == "LSTM" else 2):
        assert_agrees_with_pytorch(torch64, f"{call}[{k}]", inputs)


LOGITS = rng.standard_normal((6, 3, 5))
CTC = [  # (targets, input_lengths, target_lengths, extra): the batch's texts
    ("torch.tensor([[1, 2, 2], [3, 0, 0], [4, 4, 1]])", [6, 5, 6], [3, 1, 3], ""),
    ("torch.tensor([[1, 1, 1], [2, 3, 0], [1, 0, 0]])", [6, 2, 1], [3, 2, 0], ""),
    ("torch.tensor([1, 2, 3, 3, 2])", [5, 4, 6], [2, 1, 2], ", blank=4"),  # targets one after the other
    ("torch.tensor([[1, 1, 2], [2, 3, 1], [1, 0, 0]])", [3, 2, 6], [3, 3, 1], ", zero_infinity=True"),  # inf losses
]


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("targets, il, tl, extra", CTC)
def test_ctc_loss_through_log_softmax_is_pytorchs(torch64, targets, il, tl, extra, reduction):
    text = f"F.ctc_loss(x.log_softmax(2), {targets}, {il}, {tl}, reduction='{reduction}'{extra})"
    assert_agrees_with_pytorch(torch64, text, {"x": LOGITS})


@pytest.mark.parametrize("text", [
    "torch.ctc_loss(x.log_softmax(2), torch.tensor([[1, 2], [3, 3]]), [4, 6], [2, 2])",  # ATen's: none by default
    "torch.ctc_loss(x.log_softmax(2), torch.tensor([[1, 2], [3, 3]]), [4, 6], [2, 2], reduction=1)",
    "torch.ctc_loss(x.log_softmax(2), torch.tensor([[1, 2], [3, 3]]), [4, 6], [2, 1], 0, 0)",
    "torch.ctc_loss(x.log_softmax(2), torch.tensor([[1, 2], [3, 3]]), [4, 6], [2, 2], 0, 2, True)",
    "nn.CTCLoss()(x.log_softmax(2), torch.tensor([[1, 2], [3, 3]]), torch.tensor([4, 6]), torch.tensor([2, 2]))",
    "nn.CTCLoss(blank=3, reduction='sum')(x.log_softmax(-1), torch.tensor([[1, 2], [0, 0]]), [6, 6], [2, 2])",
    "F.ctc_loss(x[:, 0].log_softmax(1), torch.tensor([1, 2, 1]), torch.tensor(6), torch.tensor(3))",  # unbatched
    "F.ctc_loss(x[:, 0].log_softmax(1), torch.tensor([1, 2, 1]), torch.tensor(5), torch.tensor(3), reduction='none')",
])
def test_ctc_loss_spellings_are_pytorchs(torch64, text):
    assert_agrees_with_pytorch(torch64, text, {"x": LOGITS[:, :2]})


def test_ctc_gradient_by_log_probs_themselves_is_refused_as_pytorchs_is_not_the_losss():
    lp = torch.tensor(LOGITS, requires_grad=True).log_softmax(2).detach().requires_grad_()
    text = "F.ctc_loss(lp, torch.tensor([[1, 2], [3, 3], [1, 1]]), [6, 6, 6], [2, 2, 2], reduction='sum')"
    loss = eval(text, {"F": F, "torch": torch, "lp": lp})
    theirs, = torch.autograd.grad(loss, lp)
    ours = api.evaluate(text, {"lp": lp.detach().numpy()})
    np.testing.assert_allclose(ours, loss.item(), rtol=1e-13)
    # PyTorch's gradient is exp(lp) plus the loss's derivative, which jac's recursion gives (central differences)
    h, flat = 1e-6, lp.detach().numpy().ravel()
    numeric = np.array([(api.evaluate(text, {"lp": (flat + h * e).reshape(lp.shape)}) -
                         api.evaluate(text, {"lp": (flat - h * e).reshape(lp.shape)})) / (2 * h)
                        for e in np.eye(flat.size)]).reshape(lp.shape)
    np.testing.assert_allclose(theirs.numpy(), numeric + np.exp(lp.detach().numpy()), atol=1e-7)
    with pytest.raises(JacError, match="PyTorch's gradient is exp.log_probs. plus the loss's own derivative"):
        api.jacobian(text, {"lp": lp.detach().numpy()})


def test_an_infinite_ctc_loss_is_pytorchs_and_its_derivative_refused():
    text = "F.ctc_loss(x.log_softmax(2), torch.tensor([[1, 1, 2]]), [3], [3], reduction='sum')"
    x = LOGITS[:, :1]
    loss = eval(text, {"F": F, "torch": torch, "x": torch.tensor(x, requires_grad=True)})
    assert api.evaluate(text, {"x": x}) == loss.item() == np.inf
    with pytest.raises(JacError, match="PyTorch's is NaN; zero_infinity=True"):
        api.jacobian(text, {"x": x})


def test_ctc_loss_of_targets_holding_the_blank_is_pytorchs_and_its_derivative_refused():
    text = "F.ctc_loss(x.log_softmax(2), torch.tensor([[1, 0, 2], [0, 0, 0]]), [6, 6], [3, 2], reduction='sum')"
    x = torch.tensor(LOGITS[:, :2], requires_grad=True)
    loss = eval(text, {"F": F, "torch": torch, "x": x})
    np.testing.assert_allclose(api.evaluate(text, {"x": LOGITS[:, :2]}), loss.item(), rtol=1e-13)
    theirs, = torch.autograd.grad(loss, x)
    h, flat = 1e-6, LOGITS[:, :2].ravel()
    numeric = np.array([(api.evaluate(text, {"x": (flat + h * e).reshape(x.shape)}) -
                         api.evaluate(text, {"x": (flat - h * e).reshape(x.shape)})) / (2 * h)
                        for e in np.eye(flat.size)])
    assert np.abs(theirs.numpy().ravel() - numeric).max() > 1e-3  # PyTorch's gradient is not its loss's derivative
    with pytest.raises(JacError, match="targets holding the blank"):
        api.jacobian(text, {"x": LOGITS[:, :2]})
