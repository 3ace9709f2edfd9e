"""The twenty-second session's cold-path shortcuts give the bits of the paths they shortcut.

The matmul rules of a batch of one (``x @ A``, ``A @ x``: one cotangent of a vector against a matrix) call
the vector-matrix product of the other order (``ops._vector_of_one``), which NumPy sends to the same gemv
with the same arguments; here they are compared byte for byte with the rules' general path (P's ops, taken
for arrays that are not exactly ``np.ndarray``), over sizes, memory layouts, strided cotangents, both
dtypes and values with zeros of both signs, infinities, NaN and subnormals, and through whole first calls
against a kernel-free interpreter run of the general rules.
"""

from __future__ import annotations

import numpy as np
import pytest

import jacobi_cli
from jacobi_cli.ir import ops
from jacobi_cli.ir.ops import OPS
from jacobi_cli.tools import api


class _Plain(np.ndarray):
    """An array that is not exactly np.ndarray: the matmul rules take their general path (P's ops)."""


_SPECIAL = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, 1e300])


def _matrix(rng, m: int, k: int, dtype, layout: str, special: bool) -> np.ndarray:
    if layout == "view":  # every other column of a wider matrix: no contiguous axis of unit stride
        matrix = rng.normal(size=(m, 2 * k))[:, ::2]
    elif layout == "T":  # the transpose of a C-contiguous (k, m): F-contiguous
        matrix = rng.normal(size=(k, m)).T
    else:
        matrix = rng.normal(size=(m, k))
    matrix = matrix.astype(dtype, order="F" if layout == "F" else "K")
    if layout == "misaligned":  # one byte off the allocation's alignment: the branch leaves it to the general calls
        matrix = _misaligned(matrix)
    if special:
        flat = matrix.reshape(-1)  # a copy for the strided layouts: written back below
        with np.errstate(over="ignore"):
            flat[::5] = _SPECIAL[rng.integers(0, len(_SPECIAL), flat[::5].size)].astype(dtype)
        matrix[...] = flat.reshape(matrix.shape)
    return matrix


def _misaligned(a: np.ndarray) -> np.ndarray:
    raw = np.zeros(a.nbytes + 1, np.uint8)[1:]
    out = np.frombuffer(raw, a.dtype).reshape(a.shape)
    out[...] = a
    return out


def _cotangent(rng, size: int, dtype, strided) -> np.ndarray:
    g = rng.normal(size=(1, 2 * size))[:, ::2] if strided is True else rng.normal(size=(1, size))
    g = g.astype(dtype)
    if strided == "misaligned":
        g = _misaligned(g)
    g[0, 0] = np.nan if size > 3 else g[0, 0]
    return g


def _bits(a) -> bytes:
    return np.asarray(a).view(np.uint8).tobytes()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layout", ["C", "F", "T", "view", "misaligned"])
@pytest.mark.parametrize("m, k", [(2, 2), (2, 3), (3, 2), (10, 10), (7, 13), (65, 64), (400, 3), (3, 400)])
def test_a_batch_of_one_against_a_matrix_gives_the_general_paths_bits(m, k, layout, dtype):
    rng = np.random.default_rng(m * 1000 + k)
    for special in (False, True):
        for strided in (False, True, "misaligned"):
            matrix = _matrix(rng, m, k, dtype, layout, special)
            # A @ x: the rule of x (position 1), one cotangent of A @ x's shape (m,)
            g, x = _cotangent(rng, m, dtype, strided), rng.normal(size=k).astype(dtype)
            with np.errstate(all="ignore"):
                fast = OPS["matmul"].vjp[1](g, None, matrix, x)
                general = OPS["matmul"].vjp[1](g.view(_Plain), None, matrix.view(_Plain), x.view(_Plain))
            assert ops._vector_of_one(g, (k,), (m, k), matrix) == (layout != "misaligned" and strided != "misaligned")
            assert type(fast) is np.ndarray and fast.shape == (1, k) and fast.dtype == dtype
            assert _bits(fast) == _bits(general)
            # x @ B: the rule of x (position 0), one cotangent of x @ B's shape (k,)
            g, x = _cotangent(rng, k, dtype, strided), rng.normal(size=m).astype(dtype)
            with np.errstate(all="ignore"):
                fast = OPS["matmul"].vjp[0](g, None, x, matrix)
                general = OPS["matmul"].vjp[0](g.view(_Plain), None, x.view(_Plain), matrix.view(_Plain))
            assert type(fast) is np.ndarray and fast.shape == (1, m) and fast.dtype == dtype
            assert _bits(fast) == _bits(general)


@pytest.mark.parametrize("vector, matrix, batch", [((3,), (3, 1), 1), ((1,), (1, 4), 1), ((4,), (4, 4), 2),
                                                   ((4,), (4,), 1), ((0,), (0, 3), 1)])
def test_the_batch_of_one_branch_leaves_other_sizes_to_the_general_calls(vector, matrix, batch):
    """A size of 1 or 0 (NumPy's dot, or a gemv of another shape), two vectors, or a batch of more than one
    take the calls of the general path, whose bits the rule gives (as before)."""
    rng = np.random.default_rng(3)
    g = rng.normal(size=(batch,) + (matrix[1:] if len(matrix) == 2 else ()))
    assert not ops._vector_of_one(g, vector, matrix, np.ones(matrix)) or batch != 1
    a, b = rng.normal(size=vector), rng.normal(size=matrix)
    fast = OPS["matmul"].vjp[0](g, None, a, b)
    general = OPS["matmul"].vjp[0](g.view(_Plain), None, a.view(_Plain), b.view(_Plain))
    assert _bits(fast) == _bits(general)


@pytest.mark.parametrize("expr", ["tanh(A @ x)", "sum(tanh(A @ tanh(A @ x)))", "x @ A @ x", "sum(x @ A)",
                                  "A @ sin(x) + x"])
def test_first_calls_with_the_branch_give_the_bits_of_the_general_rules(expr, monkeypatch):
    """Whole first calls (jacobian and vjp of E2, E3, E6 and more) with the branch, against the same calls
    with the rules' shortcut for plain arrays off (``_plain_shapes`` answering None: P's ops throughout)."""
    rng = np.random.default_rng(5)
    x, A = rng.normal(size=6), rng.normal(size=(6, 6)) / 3
    A[0, 1], x[2] = -0.0, 0.0
    bindings = {"x": x, "A": A}
    api._CACHE.clear()
    v = np.ones(np.shape(jacobi_cli.evaluate(expr, bindings)))
    v.reshape(-1)[:1] = -0.5
    fast = (jacobi_cli.jacobian(expr, bindings, wrt=["x"]), jacobi_cli.vjp(expr, bindings, v, wrt=["x"]))
    monkeypatch.setattr(ops, "_plain_shapes", lambda g, a, b: None)
    api._CACHE.clear()
    general = (jacobi_cli.jacobian(expr, bindings, wrt=["x"]), jacobi_cli.vjp(expr, bindings, v, wrt=["x"]))
    api._CACHE.clear()
    for got, want in zip(fast, general):
        assert _bits(got["x"]) == _bits(want["x"])
