"""What the differential fuzzers of PyTorch programs (benchmarks/torchprog37_fuzz.py, torchhigher38_fuzz.py,
torch_fuzz.py, views40_fuzz.py, index40_fuzz.py, detach39_fuzz.py) found with the forty-eighth session's seeds
(48xx), each checked against PyTorch itself:

- A. ``t1 = x.clone(); t1[1:, :1] *= t1`` where the slice holds no element: an internal error (KeyError 'input' in
  ir/saved.py's walk, which met the leaf the write of nothing left stale); PyTorch's backward raises there (mul saved
  t1, which the write changes), so jac refuses as it does for a slice that holds elements (torchprog37 seed 4813);
- B. a method of a Python number the text wrote (``1.5.abs()``, ``t = 0.0; t.div_(2.0)``, ``n = x.shape[0];
  n.abs()``): Python raises AttributeError in every library's reading; jac read the number as a 0-d tensor and
  answered (torchprog37, 72 of the seeds 4810-4819's JAC-ANSWERS-WHERE-TORCH-RAISES);
- C. PyTorch's in-place methods skipped lang/argspec.py's check, which their out-of-place twins take: ``t.lerp_(1.5,
  0.3)``, ``t.addcmul_(2.0, 2.0)`` (a number where PyTorch needs a tensor) and ``t.clamp_((0,))`` were answered
  (torchprog37, 103 of the seeds' JAC-ANSWERS-WHERE-TORCH-RAISES);
- D. a comparison of two Python numbers (``2.0 > 0.5``, ``x.shape[0] == 2``) is Python's bool, which PyTorch refuses
  as ``masked_fill``'s mask and ``torch.where``'s condition (TypeError); jac read it as a 0-d tensor and answered
  (torchprog37, 123 of the seeds' JAC-ANSWERS-WHERE-TORCH-RAISES);
- E. ``x[torch.tensor([])]``, ``x[np.array([])]``: an empty array made without ``dtype=`` is float, which its library
  refuses as an index (IndexError) as it refuses ``x[torch.tensor([0., 1.])]``; jac answered an empty selection
  (torchprog37 seed 4810). A bare ``x[[]]`` is an index of nothing in both, answered;
- F. a write of the shape alone (``t_``, ``transpose_``, ``unsqueeze_``) into a part of ``chunk`` / ``split`` /
  ``unbind`` is refused with PyTorch's words, as a write of the values there is (jac answered it)."""

import numpy as np
import pytest

from jacobi_cli import evaluate, jacobian
from jacobi_cli.errors import JacError


def torch_raises(text: str, x) -> bool:
    """Whether PyTorch raises running ``text`` with ``x`` requiring grad, then backward from its last statement."""
    torch = pytest.importorskip("torch")
    leaf = torch.tensor(np.asarray(x, dtype=float), requires_grad=True)
    scope = {"torch": torch, "x": leaf}
    try:
        body, last = text.rsplit(";", 1)
        exec(f"{body}; out = {last}", scope)  # noqa: S102 - the test's own texts
        scope["out"].sum().backward()
    except RuntimeError:
        return True
    return False


X3 = [[[-1.59, 0.53, 1.57, -1.64]]]


@pytest.mark.parametrize("text", ["t1 = x.clone(); t1[1:, :1] *= t1; t1",
                                  "t1 = x.clone(); t1[1:] *= t1; t1"])
def test_a_write_in_place_of_no_element_keeping_its_own_tensor_is_refused_as_pytorch_backward_raises(text):
    assert torch_raises(text, X3)
    with pytest.raises(JacError, match="backward pass raises"):
        jacobian(text, {"x": X3})


def test_a_write_in_place_of_no_element_by_a_number_is_answered():
    value = evaluate("t1 = x.clone(); t1[1:, :1] *= 2; t1", {"x": X3})
    np.testing.assert_array_equal(value, np.asarray(X3))


@pytest.mark.parametrize("text", ["t2 = 1.5.abs(); x * t2", "t1 = x.clone(); t1.div_(2.0.abs()); t1",
                                  "t4 = 0.0; t4.div_(2.0); x", "t2 = 1.5; t2.log_softmax(0) * x",
                                  "(-1.5).abs() * x", "n = x.shape[0]; n.abs() * x", "x.numel().exp() * x",
                                  "def g(v):\n    return v.abs()\ng(1.5) * x"])
def test_a_method_of_a_python_number_is_refused_as_python_raises(text):
    torch = pytest.importorskip("torch")
    scope = {"torch": torch, "x": torch.ones(2, dtype=torch.float64)}
    with pytest.raises(AttributeError):
        exec(text.replace("; ", "\n"), scope)  # noqa: S102 - the test's own texts
    with pytest.raises(JacError, match="object has no attribute"):
        evaluate(text, {"x": [1.0, 2.0]})


@pytest.mark.parametrize("text, factor", [("torch.tensor(1.5).abs() * x", 1.5), ("np.float64(1.5).sum() * x", 1.5),
                                          ("(2).real * x", 2), ("x.shape[0].bit_length() * x", 2),
                                          ("torch.as_tensor(-1.5).abs() * x", 1.5), ("np.asarray(2.0).sum() * x", 2)])
def test_a_method_of_a_tensor_or_a_numpy_scalar_made_of_a_number_is_answered(text, factor):
    np.testing.assert_allclose(evaluate(text, {"x": [1.0, 2.0]}), [factor, 2 * factor])


@pytest.mark.parametrize("text", ["t1 = x * 1.0; t1.addcmul_(2.0, 2.0, value=0.5); t1",
                                  "t1 = x + 0; t1.lerp_(1.5, 0.3); t1", "t1 = x + 0; t1.clamp_((0,)); t1",
                                  "t1 = x + 0; t1.atan2_(0.5); t1", "t1 = x + 0; t1[0:1].lerp_(1.5, 0.3); t1",
                                  "t1 = x + 0; t1.unsqueeze(0).lerp_(1.5, 0.3); t1",
                                  "t1 = x + 0; t2 = (t1 * 2).lerp_(1.5, 0.3); t2"])
def test_an_in_place_method_is_checked_as_its_method_is(text):
    torch = pytest.importorskip("torch")
    scope = {"torch": torch, "x": torch.ones(2, dtype=torch.float64)}
    with pytest.raises(TypeError):
        exec(text.replace("; ", "\n"), scope)  # noqa: S102 - the test's own texts
    with pytest.raises(JacError, match=r"must be a (number or a )?tensor"):
        evaluate(text, {"x": [1.0, 2.0]})


@pytest.mark.parametrize("text", ["t1 = x + 0; t1.lerp_(x, 0.3); t1", "t1 = x + 0; t1.addcmul_(x, x, value=0.5); t1",
                                  "t1 = x + 0; t1.clamp_(-1, 1); t1.sub_(x, alpha=2); t1.add_(1); t1",
                                  "t1 = x + 0; t1.lerp_(x * 2, torch.tensor(0.3)); t1"])
def test_an_in_place_method_of_the_arguments_pytorch_takes_is_answered(text):
    torch = pytest.importorskip("torch")
    scope = {"torch": torch, "x": torch.tensor([1.0, 2.0], dtype=torch.float64)}
    body, last = text.rsplit("; ", 1)
    exec(body.replace("; ", "\n"), scope)  # noqa: S102 - the test's own texts
    np.testing.assert_allclose(evaluate(text, {"x": [1.0, 2.0]}), scope[last].numpy())


@pytest.mark.parametrize("text", ["x.masked_fill(2.0 > 0.5, 0.0)", "torch.where(2.0 > 0.5, x, 0.0)",
                                  "c = 2 > 1; torch.where(c, x, 0.0)", "t1 = x * 1; t1.masked_fill_(0.5 < 0, 0.0); t1",
                                  "c = x.shape[0] == 2; torch.where(c, x, 0.0)", "torch.maximum(x, 2 > 1)",
                                  "x.masked_fill(mask=1 > 0, value=0.0)"])
def test_a_python_bool_where_pytorch_needs_a_tensor_is_refused(text):
    torch = pytest.importorskip("torch")
    scope = {"torch": torch, "x": torch.ones(2, dtype=torch.float64)}
    with pytest.raises(TypeError):
        exec(text.replace("; ", "\n"), scope)  # noqa: S102 - the test's own texts
    with pytest.raises(JacError, match="must be a tensor, not a Python number"):
        evaluate(text, {"x": [1.0, 2.0]})


@pytest.mark.parametrize("text", ["torch.where(x > 1.5, x, 0.0)", "x.masked_fill(x > 1.5, 0.0)", "x * (2.0 > 0.5)",
                                  "x.masked_fill(torch.tensor(2.0 > 0.5), 0.0)", "torch.where(torch.tensor(True), x, 0.0)",
                                  "x if x.shape[0] > 1 else 2 * x", "x + (x.shape[0] > 1)"])
def test_a_python_bool_where_pytorch_takes_one_or_a_tensor_mask_is_answered(text):
    torch = pytest.importorskip("torch")
    want = eval(text, {"torch": torch, "x": torch.tensor([1.0, 2.0], dtype=torch.float64)})  # noqa: S307
    np.testing.assert_allclose(evaluate(text, {"x": [1.0, 2.0]}), want.numpy())


@pytest.mark.parametrize("text", ["x[torch.tensor([])]", "x[np.array([])]", "x[torch.tensor([[]])]",
                                  "x[np.asarray(())]"])
def test_an_empty_float_array_as_an_index_is_refused_as_its_library_raises(text):
    """Each library refuses its own empty float array as an index of its own array (jac's rule for a float
    array made in place, whole numbers or not, as ``x[torch.tensor([0., 1.])]``)."""
    torch = pytest.importorskip("torch")
    x = torch.ones(2, 2, dtype=torch.float64) if "torch." in text else np.ones((2, 2))
    with pytest.raises(IndexError):
        eval(text, {"torch": torch, "np": np, "x": x})  # noqa: S307
    with pytest.raises(JacError, match="an index array must have an integer"):
        evaluate(text, {"x": [[1.0, 2.0], [3.0, 4.0]]})


@pytest.mark.parametrize("text", ["x[torch.tensor([], dtype=torch.long)]", "x[[]]", "x[np.array([], dtype=int)]",
                                  "x[torch.LongTensor([])]"])
def test_an_empty_integer_index_is_answered(text):
    assert evaluate(text, {"x": [[1.0, 2.0], [3.0, 4.0]]}).shape == (0, 2)


@pytest.mark.parametrize("text", ["t1 = x * 1.0; t3, = t1.chunk(1, 0); t3.t_(); t1",
                                  "t1 = x * 1.0; t2, t3 = t1.chunk(2, 1); t3.transpose_(0, 1); t1",
                                  "t1 = x * 1.0; t2, t3 = t1.unbind(0); t3.unsqueeze_(0); t3"])
def test_a_shape_write_into_a_part_of_several_views_is_refused_as_pytorch_raises(text):
    assert torch_raises(text, [[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(JacError, match="returns multiple views"):
        jacobian(text, {"x": [[1.0, 2.0], [3.0, 4.0]]})


def test_a_shape_write_into_a_tensor_stacked_of_one_part_is_answered():
    """``torch.stack`` of a part makes a tensor of its own: PyTorch writes its shape (torchhigher38 seed 4821)."""
    torch = pytest.importorskip("torch")
    text = "t1 = x * 2; t2 = torch.chunk(t1, 1, dim=2); t3 = torch.stack(t2, dim=2); t3.squeeze_(); t3"
    x = np.arange(9.0).reshape(3, 3, 1) / 4
    leaf = torch.tensor(x, requires_grad=True)
    scope = {"torch": torch, "x": leaf}
    exec(text.rsplit("; ", 1)[0], scope)  # noqa: S102 - the test's own text
    np.testing.assert_allclose(evaluate(text, {"x": x}), scope["t3"].detach().numpy())
