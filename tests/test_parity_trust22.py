"""Parity with PyTorch 2.13 for what the twenty-second session fixed: torch.linalg.matrix_rank of a vector is
refused as PyTorch refuses it, and a matrix's rank is PyTorch's (tests/test_rank22.py has NumPy's vector rule)."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("x", [[1e-3, 2e-3], [0.0, 0.0], [[1.0, 2.0], [2.0, 4.0]], [[1.0, 0.0], [0.0, 1e-20]],
                               np.arange(24.0).reshape(2, 3, 4)])
def test_torch_matrix_rank_answers_or_refuses_as_pytorch(x):
    x = np.asarray(x)
    try:
        expected = torch.linalg.matrix_rank(torch.tensor(x)).numpy()
    except RuntimeError:
        with pytest.raises(JacError, match="needs at least 2 dimensions"):
            api.evaluate("torch.linalg.matrix_rank(x)", {"x": x})
        return
    assert np.array_equal(api.evaluate("torch.linalg.matrix_rank(x)", {"x": x}), expected)


SORTS = [  # (the indices, the values: both PyTorch's spellings of one sort)
    ("torch.sort(x, descending={d})[1]", "torch.sort(x, descending={d})[0]"),
    ("torch.argsort(x, descending={d})", "torch.sort(x, descending={d}).values"),
    ("torch.sort(x, descending={d}, stable=True)[1]", "torch.sort(x, descending={d}, stable=True)[0]"),
    ("x.sort(descending={d})[1]", "x.sort(descending={d})[0]"),
]


@pytest.mark.parametrize("n", [2, 9, 16, 17, 40])
@pytest.mark.parametrize("indices, values", SORTS)
def test_sort_of_ties_is_pytorchs_order_or_refused(indices, values, n):
    """PyTorch's CPU sort without stable=True keeps ties in order up to 16 elements, not beyond: jac reads the
    stable order there and refuses ties past it (its values' derivative would go elsewhere too)."""
    r = np.random.default_rng(n)
    for d in (False, True):
        x = r.integers(0, 3, n).astype(float)
        index_text, value_text = indices.format(d=d), values.format(d=d)
        if n > 16 and "stable" not in index_text:
            for text in (index_text, value_text):
                with pytest.raises(JacError, match="PyTorch's order of equal elements is unspecified"):
                    api.evaluate("import torch\n" + text, {"x": x})
            continue
        expected = eval(index_text, {"torch": torch}, {"x": torch.tensor(x)}).numpy()
        assert np.array_equal(api.evaluate("import torch\n" + index_text, {"x": x}), expected)
        v = r.standard_normal(n)
        t = torch.tensor(x, requires_grad=True)
        eval(value_text, {"torch": torch}, {"x": t}).backward(torch.tensor(v))
        assert np.array_equal(api.vjp("import torch\n" + value_text, {"x": x}, v)["x"], t.grad.numpy())


def test_msort_of_ties_past_16_elements_is_refused_and_below_is_pytorchs():
    x = np.repeat([1.0, 0.0], 10)
    with pytest.raises(JacError, match="pass stable=True"):
        api.evaluate("torch.msort(x)", {"x": x})
    x = np.repeat([1.0, 0.0], 8)
    v = np.arange(16.0)
    t = torch.tensor(x, requires_grad=True)
    torch.msort(t).backward(torch.tensor(v))
    assert np.array_equal(api.vjp("torch.msort(x)", {"x": x}, v)["x"], t.grad.numpy())


@pytest.mark.parametrize("text", ["torch.topk(x, 3)[1]", "torch.topk(x, 3, largest=False)[1]", "torch.kthvalue(x, 3)[1]",
                                  "torch.kthvalue(x, 1)[1]", "torch.topk(x, 5).values", "x.topk(2)[1]"])
def test_topk_and_kthvalue_agree_with_pytorch_or_refuse_its_unspecified_tie(text):
    """PyTorch's topk and kthvalue choose among equal elements in an unspecified way at any length
    (torch.topk([1, 3, 3, 2, 3], 2) gives indices 2 and 4): jac refuses a tie that choice reaches, and otherwise
    gives PyTorch's indices and derivative."""
    r = np.random.default_rng(len(text))
    answered = refused = 0
    for n in [5, 6, 8, 12, 16, 17, 30] * 6:
        x = r.integers(0, 2 * n, n).astype(float)
        try:
            got = api.evaluate("import torch\n" + text, {"x": x})
        except JacError as e:
            assert "unspecified" in str(e)
            refused += 1
            continue
        answered += 1
        assert np.array_equal(got, eval(text, {"torch": torch}, {"x": torch.tensor(x)}).numpy())
        t = torch.tensor(x, requires_grad=True)
        values = text.replace("[1]", ".values")
        v = r.standard_normal(np.shape(got))
        eval(values, {"torch": torch}, {"x": t}).backward(torch.tensor(v))
        assert np.array_equal(api.vjp("import torch\n" + values, {"x": x}, v)["x"], t.grad.numpy())
    assert answered and refused  # both branches met


def test_mode_agrees_with_pytorch_or_refuses_an_index_its_sort_decides():
    """torch.mode's index is the last occurrence of the mode in PyTorch's sort, whose order of equal elements is
    unspecified past 16 elements: jac refuses a repeated mode there and agrees below."""
    r = np.random.default_rng(22)
    answered = refused = 0
    for n in list(range(2, 17)) * 4 + [17, 20, 40] * 3:
        x = r.integers(0, n, n).astype(float)
        try:
            got = api.evaluate("torch.mode(x)[1]", {"x": x})
        except JacError as e:
            assert "unspecified beyond 16" in str(e) and n > 16
            refused += 1
            continue
        answered += 1
        assert got == torch.mode(torch.tensor(x)).indices.item()
    assert answered and refused
