"""The twentieth session's additions against PyTorch 2.13: ``torch.cov`` with ``fweights`` and ``aweights``
(values and derivatives, by the observations and by the weights), and ``F.interpolate`` with the modes
``bicubic`` (align_corners both ways, sizes and scale factors, float64 and float32) and ``area``.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from jacobi_cli.tools import api
from parity import assert_parity

torch = pytest.importorskip("torch")
F = torch.nn.functional
rng = np.random.default_rng(2020)


@pytest.mark.parametrize("correction", [0, 1, 2])
@pytest.mark.parametrize("weights", ["fweights", "aweights", "both"])
def test_torch_cov_weights(correction, weights):
    """By x and by the aweights (the fweights are integer counts: written in as a constant)."""
    x, fw, aw = rng.standard_normal((3, 5)), [1, 2, 1, 3, 1], rng.uniform(0.5, 2, 5)
    written = {"fweights": f"fweights=torch.tensor({fw})", "aweights": "aweights=w",
               "both": f"fweights=torch.tensor({fw}), aweights=w"}[weights]
    code = f"torch.cov(x, correction={correction}, {written}) + 0 * w.sum()"
    assert_parity(code, {"x": x, "w": aw}, lambda x, w: eval(code, {"torch": torch, "x": x, "w": w}))  # noqa: S307


SIZES = ["size=(3, 4)", "size=(9, 11)", "size=5", "scale_factor=2", "scale_factor=(0.5, 1.7)",
         "scale_factor=1.5, recompute_scale_factor=True", "size=(1, 1)"]


@pytest.mark.parametrize("shape, size", list(itertools.product([(1, 2, 5, 5), (2, 1, 3, 7), (1, 1, 4, 4)], SIZES)),
                         ids=str)
@pytest.mark.parametrize("mode", ["'bicubic'", "'bicubic', align_corners=True", "'bicubic', align_corners=False",
                                  "'area'"])
def test_interpolate_bicubic_and_area(shape, size, mode):
    code = f"F.interpolate(x, {size}, mode={mode})"
    x = rng.standard_normal(shape)
    assert_parity(code, {"x": x}, lambda x: eval(code, {"F": F, "x": x}), rtol=1e-12, atol=1e-13)  # noqa: S307
    x32 = x.astype(np.float32)
    theirs = eval(code, {"F": F, "x": torch.tensor(x32)}).numpy()  # noqa: S307
    ours = api.evaluate(code, {"x": x32}, dtype="float32")
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5)


W = rng.standard_normal((5, 3))
W_SPECIAL = W.copy()
W_SPECIAL[2, 1], W_SPECIAL[3, 0], W_SPECIAL[0, 2] = np.nan, np.inf, -np.inf
BAGS = [("torch.tensor([0, 2, 1, 3, 2, 0])", "torch.tensor([0, 2, 2, 5])"),
        ("torch.tensor([0, 2, 1, 3, 2, 0])", "torch.tensor([0, 2, 2, 6])"),
        ("torch.tensor([[0, 2, 1], [3, 3, 4]])", None), ("torch.tensor([4, 4, 4])", "torch.tensor([0])"),
        ("torch.tensor([1, 0, 1, 2])", "torch.tensor([0, 1, 1, 4])"), ("torch.tensor([1, 0, 1, 2])", "torch.tensor([0, 4])")]


def _bag_codes():
    for (idx, offsets), mode, pad, last in itertools.product(BAGS, ["sum", "mean", "max"], [None, 2, 0, -1],
                                                             [False, True]):
        if last and (offsets is None or offsets.endswith("5])") or offsets.endswith("[0])") or
                     offsets.endswith("1, 4])")):  # include_last_offset needs the input's length last
            continue
        yield (f"F.embedding_bag({idx}, w{', ' + offsets if offsets else ''}, mode='{mode}'"
               f"{'' if pad is None else f', padding_idx={pad}'}{', include_last_offset=True' if last else ''})")


@pytest.mark.parametrize("code", list(_bag_codes()))
def test_embedding_bag(code):
    assert_parity(code, {"w": W}, lambda w: eval(code, {"torch": torch, "F": F, "w": w}))  # noqa: S307
    theirs = eval(code, {"torch": torch, "F": F, "w": torch.tensor(W_SPECIAL)}).numpy()  # noqa: S307
    np.testing.assert_allclose(api.evaluate(code, {"w": W_SPECIAL}), theirs, rtol=1e-14, equal_nan=True)  # NaN where PyTorch's scan has it


@pytest.mark.parametrize("bag", BAGS[:5], ids=str)
def test_embedding_bag_per_sample_weights(bag):
    idx, offsets = bag
    code = f"F.embedding_bag({idx}, w{', ' + offsets if offsets else ''}, mode='sum', per_sample_weights=p)"
    shape = tuple(eval(idx, {"torch": torch}).shape)  # noqa: S307
    assert_parity(code, {"w": W, "p": rng.standard_normal(shape)},
                  lambda w, p: eval(code, {"torch": torch, "F": F, "w": w, "p": p}))  # noqa: S307


@pytest.mark.parametrize("code", ["torch.linalg.qr(A, mode='r')[1]", "torch.linalg.qr(A, mode='r').R",
                                  "torch.linalg.qr(A, 'r')[1] * 2", "torch.qr(A, False)[0]", "torch.qr(A, some=True).R",
                                  "A.qr()[0]", "torch.qr(A)[1]"])
def test_qr_torch_spellings(code):
    """torch.linalg.qr(A, mode='r') is the pair (empty Q, R): jac gave NumPy's R alone, so [1] was a row of R.
    PyTorch has no derivative of mode='r' (it does not compute Q); R's is mode='reduced''s, compared there."""
    A = rng.standard_normal((4, 3)) if "False" not in code else rng.standard_normal((3, 3))
    theirs = code.replace("mode='r'", "mode='reduced'").replace("'r')", "'reduced')")
    assert_parity(code, {"A": A}, lambda A: eval(theirs, {"torch": torch, "A": A}))  # noqa: S307
    np.testing.assert_allclose(api.evaluate(code, {"A": A}),  # mode='r' itself: LAPACK's R without Q
                               eval(code, {"torch": torch, "A": torch.tensor(A)}).numpy(), rtol=1e-13, atol=1e-14)  # noqa: S307


def test_qr_mode_r_q_is_empty_as_pytorch():
    ours = api.evaluate("torch.linalg.qr(A, mode='r')[0]", {"A": np.ones((3, 2))})
    assert np.shape(ours) == (0,)


X3D = rng.standard_normal((2, 3, 4))
Y4D = rng.standard_normal((3, 4, 5, 2))


@pytest.mark.parametrize("code", ["x[0, :, [1, 2]]", "x[[0, 1], :, [1, 2]]", "x[0, None, [1, 2]]", "x[0, ..., [1, 2]]",
                                  "y[0, :, [1, 2], :]", "y[:, 0, :, [1, 0]]", "y[0, :, 1, [1, 0]]",
                                  "y[[0, 1], 1, :, [1, 0]]", "x[0, :, [[1, 2], [0, 0]]]", "x[[1], :, 3]"])
def test_index_integer_beside_arrays_in_torch_text(code):
    """PyTorch selects with an integer first, then applies the arrays: x[0, :, [1, 2]] of a (2, 3, 4) tensor
    is (3, 2), where NumPy's is (2, 3)."""
    name = code[0]
    text = code.replace(f"{name}[", f"({name} + 0 * torch.sin({name}))[", 1)
    assert_parity(text, {name: X3D if name == "x" else Y4D}, lambda **t: eval(code, t))  # noqa: S307


@pytest.mark.parametrize("op", ["=", "+="])
def test_index_integer_beside_arrays_written_in_torch_text(op):
    """y[0, :, [1, 2, 0]] = v writes v in PyTorch's layout: of a (2, 3, 3) y both layouts are 3 x 3, so
    NumPy's would write v transposed, silently."""
    x, v = rng.standard_normal((2, 3, 3)), rng.standard_normal((3, 3))
    code = f"y = x.clone()\ny[0, :, [1, 2, 0]] {op} v\ny * torch.ones(1)"

    def fn(x, v):
        y = x.clone()
        if op == "=":
            y[0, :, [1, 2, 0]] = v
        else:
            y[0, :, [1, 2, 0]] += v
        return y
    assert_parity(code, {"x": x, "v": v}, fn)
    numpy_code = code.replace("x.clone()", "x.copy()").replace("torch.ones(1)", "np.ones(1)")
    expected = x.copy()
    expected[0, :, [1, 2, 0]] = v if op == "=" else expected[0, :, [1, 2, 0]] + v
    np.testing.assert_allclose(api.evaluate(numpy_code, {"x": x, "v": v}), expected, rtol=1e-15)
    with pytest.raises(Exception, match="with the axes in another order"):
        api.evaluate(code.replace(" * torch.ones(1)", "").replace("x.clone()", "x + 0"), {"x": x, "v": v})


@pytest.mark.parametrize("size", ["size=(2, 3, 4)", "scale_factor=0.5", "size=5"])
def test_interpolate_area_of_three_spatial_axes(size):
    """mode='area' of an (N, C, D, H, W) input: adaptive_avg_pool3d, which the h20-3d branch added."""
    code = f"F.interpolate(x, {size}, mode='area')"
    assert_parity(code, {"x": rng.standard_normal((1, 2, 4, 5, 6))}, lambda x: eval(code, {"F": F, "x": x}),  # noqa: S307
                  rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("code", ["F.adaptive_avg_pool2d(X, (3, None))", "F.adaptive_max_pool2d(X, (None, 4))",
                                  "F.adaptive_avg_pool3d(X[None], (None, 3, None))", "X[(0, None)]"])
def test_none_in_a_size_tuple(code):
    """An output size keeping an axis, (3, None): the parser refused a tuple holding None."""
    assert_parity(code, {"X": rng.standard_normal((1, 2, 5, 6))}, lambda X: eval(code, {"F": F, "X": X}))  # noqa: S307
