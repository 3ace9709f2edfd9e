"""Parity with PyTorch 2.13 for writing into arrays: the scatter and index families and the
statements ``y[idx] = v`` and ``y op= v`` (see tests/parity.py for what is compared)."""

import numpy as np
import pytest

from parity import assert_parity
from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

torch = pytest.importorskip("torch")
rng = np.random.default_rng(21)
A = rng.uniform(-1.5, 1.5, (2, 3))
S = rng.uniform(-1.5, 1.5, (2, 3))
B = rng.uniform(-1.5, 1.5, (3, 4))
x5 = rng.uniform(-1.5, 1.5, 5)
v3 = rng.uniform(-1.5, 1.5, 3)
I_SET = [[1, 0, 2], [0, 2, 1]]        # a permutation per row: no repeats along dim 1
I_REP = [[1, 0, 1], [1, 1, 0]]        # repeats along dim 0
T = torch.tensor


def _t(v):
    return T(v)


CASES = [
    ("torch.scatter(A, 1, torch.tensor([[1, 0, 2], [0, 2, 1]]), S)", {"A": A, "S": S},
     lambda A, S: torch.scatter(A, 1, T(I_SET), S)),
    ("A.scatter(1, torch.tensor([[2], [0]]), S[:, 1:2])", {"A": A, "S": S},
     lambda A, S: A.scatter(1, T([[2], [0]]), S[:, 1:2])),
    ("A.scatter(0, torch.tensor([[1, 0, 1]]), 2.5)", {"A": A}, lambda A: A.scatter(0, T([[1, 0, 1]]), 2.5)),
    ("A.scatter(1, torch.tensor([[1, 0, 2], [0, 2, 1]]), value=-1.0)", {"A": A},
     lambda A: A.scatter(1, T(I_SET), value=-1.0)),
    ("torch.scatter_add(A, 0, torch.tensor([[1, 0, 1], [1, 1, 0]]), S)", {"A": A, "S": S},
     lambda A, S: torch.scatter_add(A, 0, T(I_REP), S)),
    ("A.scatter_add(1, torch.tensor([[2, 2], [0, 1]]), S[:, :2])", {"A": A, "S": S},
     lambda A, S: A.scatter_add(1, T([[2, 2], [0, 1]]), S[:, :2])),
    ("(A * 2).scatter_add(1, torch.tensor([[0, 2, 1], [1, 1, 1]]), S).sum()", {"A": A, "S": S},
     lambda A, S: (A * 2).scatter_add(1, T([[0, 2, 1], [1, 1, 1]]), S).sum()),
    ("torch.index_add(A, 1, torch.tensor([2, 0, 2]), S)", {"A": A, "S": S},
     lambda A, S: torch.index_add(A, 1, T([2, 0, 2]), S)),
    ("A.index_add(0, torch.tensor([1, 1]), S, alpha=-0.5)", {"A": A, "S": S},
     lambda A, S: A.index_add(0, T([1, 1]), S, alpha=-0.5)),
    ("x.index_add(0, torch.tensor([4, 0, 4]), v)", {"x": x5, "v": v3},
     lambda x, v: x.index_add(0, T([4, 0, 4]), v)),
    ("torch.index_copy(A, 1, torch.tensor([2, 0, 1]), S)", {"A": A, "S": S},
     lambda A, S: torch.index_copy(A, 1, T([2, 0, 1]), S)),
    ("x.index_copy(0, torch.tensor([3, 1, 0]), v)", {"x": x5, "v": v3},
     lambda x, v: x.index_copy(0, T([3, 1, 0]), v)),
    ("A.index_fill(1, torch.tensor([0, 2]), -2.0)", {"A": A}, lambda A: A.index_fill(1, T([0, 2]), -2.0)),
    ("A.index_fill(0, torch.tensor([1]), x.sum())", {"A": A, "x": x5},
     lambda A, x: A.index_fill(0, T([1]), x.sum())),
    ("A.index_put((torch.tensor([0, 1]), torch.tensor([2, 0])), v[:2])", {"A": A, "v": v3},
     lambda A, v: A.index_put((T([0, 1]), T([2, 0])), v[:2])),
    ("A.index_put((torch.tensor([0, 0, 1]), torch.tensor([2, 2, 0])), v, accumulate=True)", {"A": A, "v": v3},
     lambda A, v: A.index_put((T([0, 0, 1]), T([2, 2, 0])), v, accumulate=True)),
    ("A.index_put((torch.tensor([1]),), v)", {"A": A, "v": v3}, lambda A, v: A.index_put((T([1]),), v)),
    ("torch.index_put(B, (torch.tensor([2, 0]),), B[1], accumulate=True)", {"B": B},
     lambda B: torch.index_put(B, (T([2, 0]),), B[1], accumulate=True)),
    ("x.put(torch.tensor([4, 0]), v[1:])", {"x": x5, "v": v3}, lambda x, v: x.put(T([4, 0]), v[1:])),
    ("A.put(torch.tensor([[5, 5], [0, 5]]), S[:, :2], accumulate=True)", {"A": A, "S": S},
     lambda A, S: A.put(T([[5, 5], [0, 5]]), S[:, :2], accumulate=True)),
    ("A.masked_scatter(torch.tensor([[True, False, True], [False, True, False]]), S)", {"A": A, "S": S},
     lambda A, S: A.masked_scatter(T([[True, False, True], [False, True, False]]), S)),
    ("A.masked_scatter(torch.tensor([False, True, True]), S * 3)", {"A": A, "S": S},
     lambda A, S: A.masked_scatter(T([False, True, True]), S * 3)),
    ("torch.take(A, torch.tensor([[5, 0], [2, 2]]))", {"A": A}, lambda A: torch.take(A, T([[5, 0], [2, 2]]))),
]
for _reduce in ("sum", "prod", "mean"):
    for _include in (True, False):
        CASES.append((f"A.scatter_reduce(0, torch.tensor([[1, 0, 1], [1, 1, 0]]), S, '{_reduce}', "
                      f"include_self={_include})", {"A": A, "S": S},
                      lambda A, S, r=_reduce, i=_include: A.scatter_reduce(0, T(I_REP), S, r, include_self=i)))
for _reduce in ("amax", "amin"):
    for _include in (True, False):
        CASES.append((f"torch.scatter_reduce(A, 1, torch.tensor([[2, 0], [1, 0]]), S[:, 1:], '{_reduce}', "
                      f"include_self={_include})", {"A": A, "S": S},
                      lambda A, S, r=_reduce, i=_include: torch.scatter_reduce(A, 1, T([[2, 0], [1, 0]]), S[:, 1:], r,
                                                                             include_self=i)))


@pytest.mark.parametrize("expr, inputs, fn", CASES, ids=[c[0] for c in CASES])
def test_scatter_parity(expr, inputs, fn):
    assert_parity(expr, inputs, fn)
