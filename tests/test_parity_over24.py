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
                                  "torch.add(x, y, y)", "F.normalize(x, p='nuc')"])
def test_refused_by_both(code):
    t = {"x": torch.tensor(X), "y": torch.tensor(Y)}
    with pytest.raises(Exception):
        _call(code)(**t)
    with pytest.raises(JacError):
        api.evaluate(code, {"x": X, "y": Y})
