"""PyTorch's in-place leftovers of session 37's program fuzz (benchmarks/torchprog37_fuzz.py), each checked against
PyTorch itself (float64 value and ``torch.autograd.functional.jacobian``), or against its refusal:

- a text naming no library that calls a method PyTorch's Tensor alone has (``t = x.exp(); t -= x``) gets PyTorch's
  saved-tensor checks (it was answered, where PyTorch's backward raises);
- in-place shape methods (``h.unsqueeze_(0)``, ``h.t_()``, ``h.transpose_``, ``h.swapdims_``, ``h.squeeze_``)
  rebind the name where PyTorch answers (they were always refused); ``resize_`` refused with PyTorch's words;
- ``torch.relu_(h)``, ``F.relu_(h)``, ``F.leaky_relu_(h, 0.2)``, ``torch.sigmoid_(h)`` ... as statements are writes
  (they were refused as "this statement's value is never used");
- ``h.fill_(v)`` is PyTorch's fill (it was refused with NumPy's ``x.fill`` message); ``d['a'].mul_(2)`` writes the
  dict's item (it was refused as "an index that picks elements");
- NumPy: a tuple axis of median / quantile / percentile and their nan forms (refused as "dim must be an integer");
  ``t.ptp()`` in a NumPy text refused with NumPy 2's AttributeError."""

import numpy as np
import pytest

from jacobi_cli import evaluate, jacobian
from jacobi_cli.errors import JacError
from jacobi_cli.ir import saved

X = [0.7, -1.3, 2.1]
M = [[0.5, -1.2, 2.0], [1.5, 0.3, -0.7]]


def torch_reference(text: str, values: dict):
    """PyTorch's float64 value(s) and Jacobians ``[{input: array}]`` of a program (inputs: leaves requiring grad)."""
    import ast

    torch = pytest.importorskip("torch")
    tree = ast.parse(text)
    body = compile(ast.Module(body=tree.body[:-1], type_ignores=[]), "<text>", "exec")
    last = compile(ast.Expression(tree.body[-1].value), "<text>", "eval")
    names = list(values)

    def f(*xs):
        scope = {"torch": torch, "F": torch.nn.functional, "nn": torch.nn, **dict(zip(names, xs))}
        exec(body, scope)  # noqa: S102 - the test's own texts
        out = eval(last, scope)  # noqa: S307
        return out if isinstance(out, tuple) else (out,)

    args = tuple(torch.tensor(np.asarray(v, dtype=np.float64)) for v in values.values())
    outs = f(*(a.clone() for a in args))
    J = torch.autograd.functional.jacobian(f, args)
    return [o.detach().numpy() for o in outs], [{n: j.numpy() for n, j in zip(names, row)} for row in J]


def torch_raises(text: str, values: dict) -> str:
    pytest.importorskip("torch")
    try:
        torch_reference(text, values)
    except (RuntimeError, TypeError, AttributeError) as e:
        return str(e)
    raise AssertionError(f"PyTorch answers {text!r}")


def agrees(text: str, values: dict) -> None:
    want_values, want = torch_reference(text, values)
    np.testing.assert_allclose(evaluate(text, values), want_values[0], rtol=1e-12, atol=1e-15)
    got = jacobian(text, values)
    for name in values:
        np.testing.assert_allclose(got[name], want[0][name], rtol=1e-12, atol=1e-15)


# --- 1. a text naming no library, calling a method PyTorch's Tensor alone has ---------------------------------

def test_the_torch_only_methods_are_those_the_three_libraries_say():
    torch = pytest.importorskip("torch")
    jnp = pytest.importorskip("jax.numpy")
    spelled = set(saved.SAVES) | set(saved.KEPT) | set(saved.PARTS)
    others = set(dir(np.ndarray)) | set(dir(jnp.zeros(1))) | set(dir(list)) | set(dir(dict)) | set(dir(str)) \
        | set(dir(tuple)) | set(dir(set))
    assert saved.TORCH_METHODS == {n for n in spelled if hasattr(torch.Tensor, n) and n not in others}


@pytest.mark.parametrize("text", ["t = x.exp()\nt -= x\nt.sum()", "t = x.sigmoid()\nt *= 2\nt.sum()",
                                  "t = x * 1\nu = t.tanh()\nu += 1\nu.sum()", "t = x.mul(1)\nu = t * t\nt -= 1\nu.sum()",
                                  "t = x.exp()\nu = t + 1\nt[0] = 0.0\n(u * t).sum()"])
def test_a_write_pytorch_refuses_in_a_text_with_tensor_methods_is_refused(text):
    assert "modified by an inplace operation" in torch_raises(text, {"x": X})
    with pytest.raises(JacError, match="modified by an inplace operation"):
        jacobian(text, {"x": X})


@pytest.mark.parametrize("text", ["t = x.sin()\nt -= x\nt.sum()", "t = x.exp()\nu = t * 2\nu -= x\nu.sum()",
                                  "t = x.sin()\nu = t + 1\nt[0] = 0.0\n(u * t).sum()",
                                  "t = x.clamp(-1, 1)\nt[0] = 0.0\nt.sum()"])
def test_a_write_pytorch_answers_in_a_text_with_tensor_methods_is_answered(text):
    agrees(text, {"x": X})


@pytest.mark.parametrize("text", ["t = exp(x)\nt -= x\nt.sum()", "a = x * 1\nb = a * a\na -= 1\nb.sum()"])
def test_a_text_of_bare_functions_and_operators_is_read_as_numpy_runs_it(text):
    """No method of PyTorch's alone: NumPy runs the text (writes are fine there), and jac answers as NumPy."""
    import math
    x = np.array(X)
    scope = {"exp": np.exp, "x": x.copy()}
    exec(text.rsplit("\n", 1)[0], scope)  # noqa: S102 - the test's own texts
    want = eval(text.rsplit("\n", 1)[1], scope)  # noqa: S307
    assert float(evaluate(text, {"x": X})) == pytest.approx(float(want), rel=1e-12)
    got = jacobian(text, {"x": X})["x"]
    h = 1e-6
    for k in range(3):
        e = np.zeros(3)
        e[k] = h
        fd = (float(evaluate(text, {"x": x + e})) - float(evaluate(text, {"x": x - e}))) / (2 * h)
        assert math.isclose(got[k], fd, rel_tol=1e-6, abs_tol=1e-8)


# --- 2. in-place shape methods --------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["h = x * 2\nh.unsqueeze_(0)\nh", "h = x * 2\nh.unsqueeze_(-1)\nh.sum()",
                                  "h = x * 2\nh.t_()\nh", "h = x * 2\nh.transpose_(0, 1)\nh * x.T",
                                  "h = x * 2\nh.swapdims_(0, 1)\nh.mul_(2)\nh", "h = x * 2\nh.swapaxes_(1, 0)\nh",
                                  "h = (x * 2).unsqueeze(0)\nh.squeeze_()\nh", "h = x * 2\nh.squeeze_(0)\nh",
                                  "h = torch.sin(x)\nh.t_()\nh", "h = x[0] * 2\nh.unsqueeze_(0)\nh.t_()\nh.exp()"])
def test_an_in_place_shape_method_rebinds_the_name_where_pytorch_answers(text):
    agrees(text, {"x": M})


@pytest.mark.parametrize("text, words", [
    ("x.unsqueeze_(0)\nx", "leaf"), ("h = x[0]\nh.unsqueeze_(0)\nh", "leaf"), ("h = x.view(6)\nh.t_()\nh", "leaf"),
    ("h = torch.exp(x)\nh.unsqueeze_(0)\nh.sum()", "modified by an inplace operation"),
    ("h = x.exp()\nh.t_()\nh.add_(1)\nh", "modified by an inplace operation"),
    ("h = x * 2\nh.resize_(3, 2)\nh", "cannot resize variables that require grad")])
def test_an_in_place_shape_method_is_refused_where_pytorch_raises(text, words):
    assert words in torch_raises(text, {"x": M})
    with pytest.raises(JacError, match=words):
        jacobian(text, {"x": M})


def test_t_of_three_dims_is_refused_as_pytorch_refuses_it():
    assert "t_() expects a tensor with <= 2 dimensions" in torch_raises("h = x * 2\nh.unsqueeze_(0)\nh.t_()\nh",
                                                                        {"x": M})
    with pytest.raises(JacError, match="2-d"):
        evaluate("h = x * 2\nh.unsqueeze_(0)\nh.t_()\nh", {"x": M})


def test_an_in_place_shape_method_on_a_name_another_holds_changes_both():
    """PyTorch changes the other name's shape too (``h2 = h`` is one tensor): since session 38 jac rebinds every name
    of that object (it refused before); a view ``h2 = h[:]`` is another tensor, whose shape stays."""
    want, _ = torch_reference("h = x * 2\nh2 = h\nh.unsqueeze_(0)\nh2", {"x": M})
    assert want[0].shape == (1, 2, 3)
    assert np.array_equal(np.asarray(evaluate("h = x * 2\nh2 = h\nh.unsqueeze_(0)\nh2", {"x": M})), want[0])
    want, _ = torch_reference("h = x * 2\nh2 = h[:]\nh.unsqueeze_(0)\nh2", {"x": M})
    assert np.array_equal(np.asarray(evaluate("h = x * 2\nh2 = h[:]\nh.unsqueeze_(0)\nh2", {"x": M})), want[0])


# --- 3. PyTorch's in-place functions as statements ------------------------------------------------------------

@pytest.mark.parametrize("text", ["h = x * 2\ntorch.relu_(h)\nh.sum()", "h = x * 2\nF.relu_(h)\nh",
                                  "h = x * 2\nF.leaky_relu_(h, 0.2)\nh", "h = x * 2\nF.elu_(h)\nh",
                                  "h = x * 2\ntorch.selu_(h)\nh", "h = x * 2\ntorch.sigmoid_(h)\nh",
                                  "h = x * 2\ntorch.exp_(h)\nh", "h = x * 2\ntorch.clamp_(h, -1.0, 1.0)\nh",
                                  "h = x - 1\ntorch.tanh_(h)\nh * x", "h = x * 2\nF.hardtanh_(h)\nh",
                                  "h = x * 2\nb = h.sigmoid()\ntorch.sigmoid_(h)\nb + h",
                                  "h = x * 2\nF.hardtanh_(h)\nh.mul_(2)\nh", "h = x * 2\nF.threshold_(h, 0.5, 0.0)\nh.mul_(2)\nh",
                                  "h = x * 2\nF.silu(h, inplace=True)\nh.mul_(2)\nh",
                                  "h = x - 1\nh.relu_()\nh2 = h.clone()\nh2.tanh_()\nh2"])
def test_an_in_place_function_is_a_write_where_pytorch_answers(text):
    agrees(text, {"x": X})


@pytest.mark.parametrize("text", ["h = torch.exp(x)\nF.relu_(h)\nh.sum()", "h = torch.sigmoid(x)\ntorch.sigmoid_(h)\nh",
                                  "h = x.tanh()\ntorch.relu_(h)\nh", "torch.relu_(x)\nx", "F.relu_(x)\nx.sum()",
                                  "h = x - 3\nh.relu_()\nh.tanh_()\nh.exp_()\nh", "h = x - 1\nh.relu_()\nh.tanh_()\nh",
                                  "h = x * 2\nF.relu_(h)\nh.mul_(2)\nh.sum()", "h = x * 2\nF.relu(h, inplace=True)\nh.mul_(2)\nh",
                                  "h = x * 2\nF.leaky_relu_(h, 0.2)\nh.add_(1)\nh", "h = x * 2\ntorch.selu_(h)\nh.mul_(2)\nh",
                                  "h = x * 2\nF.elu_(h)\nh *= 2\nh", "h = x * 2\ntorch.celu_(h)\nh[0] = 0.0\nh",
                                  "h = x * 2\nnn.ReLU(inplace=True)(h)\nh.mul_(2)\nh"])
def test_an_in_place_function_is_refused_where_pytorch_raises(text):
    torch_raises(text, {"x": X})
    with pytest.raises(JacError):
        jacobian(text, {"x": X})


# --- 4. fill_ and a dict's item -------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["h = x * 2\nh.fill_(1.5)\nh", "h = x * 2\nh.fill_(x[1])\nh",
                                  "h = x * 2\nh[0].fill_(3.0)\nh", "h = x * 2\nh[1:].fill_(x[0])\nh * x",
                                  "d = {'a': x * 2}\nd['a'].mul_(2)\nd['a'].sum()",
                                  "d = {'a': x * 2, 'b': x}\nd['a'].add_(d['b'])\nd['a'] * d['b']"])
def test_fill_and_a_dicts_item_are_written_as_pytorch_writes_them(text):
    agrees(text, {"x": X})


@pytest.mark.parametrize("text, words", [("h = x * 2\nh.fill_(x)\nh", "0-dimension value tensor"),
                                         ("h = x * 2\nh[0].fill_(x)\nh", "0-dimension value tensor"),
                                         ("d = {'a': x}\nd['a'].mul_(2)\nd['a']", "leaf|input")])
def test_fill_and_a_dicts_item_are_refused_where_pytorch_raises(text, words):
    torch_raises(text, {"x": X})
    with pytest.raises(JacError, match=words):
        jacobian(text, {"x": X})


def test_fill_is_no_longer_refused_with_numpys_message():
    with pytest.raises(JacError) as err:
        evaluate("h = x * 2\nh.fill_('a')\nh", {"x": X})
    assert "np.full_like" not in str(err.value)


# --- 5. NumPy: tuple axes, ptp ---------------------------------------------------------------------------------

T = np.random.default_rng(37).permutation(np.arange(24.0) * 0.37 - 4.1).reshape(2, 3, 4)  # no ties: differentiable


@pytest.mark.parametrize("text", ["np.median(x, axis=(0,))", "np.median(x, axis=(0, 2))",
                                  "np.median(x, (2, 0), keepdims=True)", "np.median(x, axis=(-1, 1))",
                                  "np.percentile(x, 30, axis=(0, 1))", "np.quantile(x, 0.3, axis=(0, 2), keepdims=True)",
                                  "np.quantile(x, [0.2, 0.7], axis=(0, 2))",
                                  "np.quantile(x, [0.2, 0.7], axis=(0, 2), keepdims=True)",
                                  "np.nanmedian(x, axis=(1, 2))", "np.nanpercentile(x, 40, axis=(0, 1))",
                                  "np.nanquantile(x, 0.4, axis=(2, 0), keepdims=True)"])
def test_a_tuple_axis_is_read_as_numpy_reads_it(text):
    want = eval(text, {"np": np, "x": T})  # noqa: S307 - the test's own texts
    got = evaluate(text, {"x": T})
    assert got.shape == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    J = jacobian(text, {"x": T})["x"]
    h = 1e-6
    fd = np.stack([(evaluate(text, {"x": T + h * e}) - evaluate(text, {"x": T - h * e})) / (2 * h)
                   for e in np.eye(T.size).reshape((T.size,) + T.shape)], axis=-1).reshape(J.shape)
    np.testing.assert_allclose(J, fd, atol=1e-6)


def test_a_repeated_tuple_axis_is_refused_as_numpy_refuses_it():
    with pytest.raises(ValueError, match="repeated axis"):
        np.median(T, axis=(0, 0))
    with pytest.raises(JacError, match="repeated axis"):
        evaluate("np.median(x, axis=(0, 0))", {"x": T})


def test_ptp_method_is_refused_where_the_library_has_none():
    with pytest.raises(AttributeError):
        getattr(np.ones(3), "ptp")
    with pytest.raises(JacError, match="'numpy.ndarray' object has no attribute 'ptp'"):
        evaluate("t = np.sin(x)\nt.ptp(axis=1)", {"x": M})
    with pytest.raises(JacError, match="'Tensor' object has no attribute 'ptp'"):
        evaluate("t = torch.sin(x)\nt.ptp(1)", {"x": M})
    np.testing.assert_allclose(evaluate("np.ptp(x, axis=1)", {"x": M}), np.ptp(np.array(M), axis=1))


# --- found by the fuzz after the fixes above ------------------------------------------------------------------

@pytest.mark.parametrize("text", ["t = torch.exp(x)\nt.fill_(1.5)\nt.sum()", "t = x.exp()\nt.zero_()\nt.sum()",
                                  "t = torch.sigmoid(x)\nt.fill_(x[0])\nt", "t = x.exp()\nt.copy_(x)\n(t * x).sum()",
                                  "t = torch.sin(x) * 1\nt[...] *= t\nt", "t = torch.sin(x) * 1\nt[0:1] *= t[0:1]\nt",
                                  "t = torch.sin(x) * 1\nt[1:] /= t[1:]\nt"])
def test_a_write_pytorch_backward_still_runs_through_is_refused(text):
    """fill_ and zero_ of a tensor that requires grad: PyTorch's backward runs its old history (with zeros) and
    unpacks what exp saved; ``t[...] *= t``: the view's mul_ keeps ``t``, which it changes."""
    assert "modified by an inplace operation" in torch_raises(text, {"x": X})
    with pytest.raises(JacError, match="modified by an inplace operation"):
        jacobian(text, {"x": X})


@pytest.mark.parametrize("text", ["t = x * 2\nt.fill_(1.5)\nt", "t = x * 2\nt.zero_()\nt.sum() + x.sum()",
                                  "t = torch.sin(x) * 1\nt[0:2] *= 2\nt", "t = x * 2\nt.copy_(x.sin())\nt * x",
                                  "t = x.sin()\nt.copy_(x[1])\nt", "t = torch.sin(x) * 1\nt[0:2] *= t[1:].clone()\nt",
                                  "t = torch.sin(x) * 1\ny = x * 2\nt[0:2] *= y[1:]\nt"])
def test_a_write_pytorch_answers_is_answered_with_its_zeros(text):
    agrees(text, {"x": X})


# --- an in-place method on a view of a name: its receiver is what it writes ----------------------------------------
# y[0].sin_() is lowered as y[0] = y[0].sin(): sin's saved argument is the receiver, whose old value PyTorch's
# in-place op keeps itself; its other operands are saved as usual (y[0].mul_(y[1]): y[1] is changed by the write)

VIEW_WRITES_ANSWERED = ["h[0].sin_()", "h[0].clamp_(min=0.5)", "h[0].pow_(2)", "h[0].abs_()", "h[0].exp_()",
                        "h[0].mul_(w)", "h[0].add_(h[1])", "h[0].mul_(3.0).add_(w).clamp_(min=0.5)",
                        "h[:, 1].tanh_()", "h[1].sigmoid_()"]
VIEW_WRITES_REFUSED = ["h[0].mul_(h[1])", "h[0].mul_(h.sin()[1])", "h[0].clamp_(min=h[1])", "h[0].pow_(h[1])",
                       "h[0].mul_(h[0])"]


@pytest.mark.parametrize("write", VIEW_WRITES_ANSWERED)
def test_an_in_place_method_on_a_view_answers_as_pytorch(write):
    values = {"x": M[:1] + [[0.25, -0.75, 1.5]], "w": [0.3, 0.7, -0.2]}
    agrees(f"import torch\nh = x * 1.0\n{write}\nh.sum() + (h * h).sum()", values)


@pytest.mark.parametrize("write", VIEW_WRITES_REFUSED)
def test_an_in_place_method_on_a_view_that_changes_what_it_keeps_is_refused_as_pytorch(write):
    values = {"x": M[:1] + [[0.25, -0.75, 1.5]], "w": [0.3, 0.7, -0.2]}
    text = f"import torch\nh = x * 1.0\n{write}\nh.sum()"
    assert "modified by an inplace operation" in torch_raises(text, values)
    with pytest.raises(JacError, match="modified by an inplace operation"):
        jacobian(text, values)
