"""The twenty-fourth session's readings of what jac refused though the libraries answer it (tests/test_over24.py),
against PyTorch 2.13: torch.svd(compute_uv=False), torch.linalg.pinv's rcond overload, torch.nuclear_norm(x,
keepdim), torch.nan_to_num(x, None), x.max(other=y), F.normalize's p='fro' / 'nuc' and tuples of dims, the
deprecated torch.add(x, alpha, other); and the calls both refuse."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from parity import assert_parity

torch = pytest.importorskip("torch")
F = torch.nn.functional
rng = np.random.default_rng(2424)
X, Y = (rng.uniform(0.2, 0.9, (2, 3)) for _ in range(2))
B = rng.uniform(0.2, 0.9, (2, 3, 2))


def _call(code: str):
    def run(**t):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the deprecated overloads (add's alpha, nuclear_norm) warn
            return eval(code, {"torch": torch, "F": F}, t)
    return run


@pytest.mark.parametrize("code", [
    "torch.svd(x, compute_uv=False)[1]", "torch.svd(x, False, False).S * 3", "x.svd(compute_uv=False)[1]",
    "U, S, V = torch.svd(x, compute_uv=False)\nU.sum() + S.sum() + V.sum()",
    "torch.linalg.pinv(x, 0.01)", "torch.linalg.pinv(x, rcond=0.01)", "torch.linalg.pinv(x @ x.mT, 0.01, True)",
    "torch.nuclear_norm(x, True)", "torch.nuclear_norm(x, False)", "torch.nan_to_num(x, None)",
    "x.max(other=y)", "x.min(other=y)", "torch.max(x, other=y)", "torch.min(input=x, other=y)",
    "F.normalize(x, p='fro')", "F.normalize(x, -1, (0, 1))", "F.normalize(x, p='nuc', dim=(0, 1))",
    "F.normalize(x, 'fro', (1, 0))", "F.normalize(x, 3, dim=(0, 1))",
    "torch.add(x, 2, y)", "x.add(2, y)", "torch.sub(x, 0.5, y)", "x.sub(3, y)", "x.add(2, 3)",
    "torch.subtract(x, 1, 0.5)", "x.add(1, True)",
])
def test_read_as_pytorch_reads_it(code):
    env = {"x": X, "y": Y} if "y" in code.replace("x.svd", "") else {"x": X}
    if "\n" in code:  # a statement list: PyTorch runs the lines, the last is the value
        *lines, last = code.split("\n")
        fn = lambda **t: (exec("\n".join(lines), {"torch": torch}, t), eval(last, {"torch": torch}, t))[1]  # noqa: E731
    else:
        fn = _call(code)
    assert_parity(code, env, fn)


@pytest.mark.parametrize("code", ["F.normalize(x, p='nuc', dim=(1, 2))", "torch.svd(x, compute_uv=False)[1]"])
def test_batched(code):
    assert_parity(code, {"x": B}, _call(code))


def test_pinv_rcond_cutting_a_singular_value_is_refused_where_pytorch_zeroes_it():
    d = np.array([[10.0, 0.0], [0.0, 0.5]])
    theirs = torch.linalg.pinv(torch.tensor(d), 0.1)
    assert float(theirs[1, 1]) == 0.0  # the cutoff rtol·σmax = 1 drops 0.5: read as atol it would be 2
    with pytest.raises(JacError, match="cutoff"):
        api.evaluate("torch.linalg.pinv(x, 0.1)", {"x": d})


@pytest.mark.parametrize("code", ["torch.linalg.pinv(x, 0.01, atol=0.1)", "x.max(other=1)", "x.subtract(2, y)",
                                  "torch.linalg.pinv(x, None)", "torch.linalg.pinv(x, 0, rtol=None)", "x.sub(1, True)",
                                  "torch.add(x, y, y)", "F.normalize(x, p='nuc')"])
def test_refused_by_both(code):
    t = {"x": torch.tensor(X), "y": torch.tensor(Y)}
    with pytest.raises(Exception):
        _call(code)(**t)
    with pytest.raises(JacError):
        api.evaluate(code, {"x": X, "y": Y})


def test_pytorchs_gradient_of_a_repeated_augmented_write_counts_each_repeat():
    # why jac refuses y[[0, 0]] += 1 in a PyTorch text: the value adds 1 once, x.grad[0] is twice the cotangent
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.clone()
    y[[0, 0]] += 1
    y.backward(torch.tensor([1.0, 10.0, 100.0]))
    assert y.tolist() == [2.0, 2.0, 3.0] and x.grad.tolist() == [2.0, 10.0, 100.0]
    with pytest.raises(JacError, match="once per repeat"):
        api.evaluate("y = x.clone()\ny[[0, 0]] += 1\ny", {"x": np.array([1.0, 2.0, 3.0])})


POOLS = [("F.max_pool1d(x, 2, return_indices=True)", (1, 2, 7)),
         ("F.max_pool1d(x, 3, 2, 1, return_indices=True)", (2, 7)),
         ("F.max_pool2d(x, 2, return_indices=True)", (1, 2, 5, 6)),
         ("F.max_pool2d(x, (2, 3), (1, 2), (1, 1), 2, True, True)", (2, 6, 7)),
         ("F.max_pool3d(x, 2, 1, 1, return_indices=True)", (1, 3, 4, 3)),
         ("F.max_pool2d(x, 3, 2, 1, ceil_mode=True, return_indices=True)", (1, 5, 5)),
         ("nn.MaxPool2d(2, return_indices=True)(x)", (1, 4, 4))]


@pytest.mark.parametrize("code, shape", POOLS)
def test_max_pool_return_indices(code, shape):
    x = np.round(np.random.default_rng(7).uniform(0, 3, shape))  # ties: the first maximum, as PyTorch scans
    x.flat[3] = np.nan  # and the last NaN
    values, indices = eval(code, {"F": F, "nn": torch.nn}, {"x": torch.tensor(x)})
    np.testing.assert_array_equal(api.evaluate(f"{code}[1]", {"x": x}), indices.numpy())
    np.testing.assert_array_equal(api.evaluate(f"{code}[0]", {"x": x}), values.numpy())
    x = np.random.default_rng(8).uniform(0.2, 0.9, shape)
    assert_parity(f"{code}[0]", {"x": x}, lambda x: eval(code, {"F": F, "nn": torch.nn}, {"x": x})[0])
    grads = api.vjp(f"v, i = {code}\nv.sum() + i.sum()", {"x": x}, v=np.array(1.0))  # the indices: no derivative
    np.testing.assert_allclose(grads["x"], api.vjp(f"{code}[0].sum()", {"x": x}, v=np.array(1.0))["x"])
