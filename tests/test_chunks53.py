"""Session 53: a chunked plan (``max_memory``) gives the one-pass plan's bits.

``ops.expand_reduced`` copied a reduction's cotangent into the reduced array's shape while the whole batch
``(B, *x)`` held at most ``_SMALL_EXPAND`` elements and made a broadcast view past it, and what reads the
cotangent follows its layout (``g * A.T`` laid out as the copy or as ``A.T``, the ``sum_to`` after it adding in
memory order): ``sum(A.t() * A.sum()) * A`` with A 9 × 9 in reverse mode, one pass of 81 basis vectors
((81, 9, 9): a view) against passes of 15 or 36 (copies), rows up to 5.7e-14 apart (session 52's "found and
left"). The choice now reads the reduced array's own size, the same in every pass whatever its batch.
"""
from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.engine import autodiff
from jacobi_cli.tools import api

# (expression, n, mode, budgets that chunk the passes)
CASES = [
    ("sum(A.t() * A.sum()) * A", 9, "reverse", ("1e5", "2e5")),
    # 210000, not 2e5 (session 57): 72 passes under 2e5 held 214,354 B, Python's objects of the listed parts
    # uncounted; counted, 2e5 is refused before allocating and 210000 takes 36 passes within it
    ("sum(A.t() * A.sum()) * A", 12, "reverse", ("210000", "3e5", "5e5")),
    ("sum(A.t() * A.max()) * A", 9, "reverse", ("1e5", "2e5")),
    ("sum(A.t() * A.max()) * A", 12, "reverse", ("210000", "3e5", "5e5")),
]


@pytest.mark.parametrize("expr,n,mode,budgets", CASES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_chunked_plan_gives_the_one_pass_bits(expr, n, mode, budgets, seed):
    A = np.random.default_rng(seed).standard_normal((n, n))
    one = np.asarray(api.jacobian(expr, {"A": A}, mode=mode)["A"])
    for budget in budgets:
        chunked = np.asarray(api.jacobian(expr, {"A": A}, mode=mode, max_memory=budget)["A"])
        assert np.array_equal(one.view(np.uint64), chunked.view(np.uint64)), (budget, np.max(np.abs(one - chunked)))


DENSE = ["sum(A.t() * A.sum()) * A", "sum(A.t() * A.max()) * A", "A @ (sum(A.t() * mean(A)) * ones_like(A))"]


@pytest.mark.parametrize("expr", DENSE)
@pytest.mark.parametrize("n", [9, 12])
def test_dense_passes_of_any_batch_give_one_bits(expr, n):
    """A dense pass's rows (reverse) and columns (forward) are the same bits whatever slice of the basis
    it seeds: the per-basis-vector arithmetic does not read the batch's size."""
    A = np.random.default_rng(n).standard_normal((n, n))
    prepared = api.prepare(expr, {"A": A})
    graph, values = prepared.graph, prepared.values
    m = n * n
    seed_rows = autodiff.basis(graph.nodes[graph.output].shape, graph.dtype)
    seed_cols = autodiff.basis((n, n), graph.dtype)
    rows = autodiff.vjp(graph, values, seed_rows)["A"].reshape(m, m)
    for b in (1, 7, 15, 36):
        part = np.concatenate([autodiff.vjp(graph, values, seed_rows[s:s + b])["A"].reshape(-1, m)
                               for s in range(0, m, b)])
        assert np.array_equal(part.view(np.uint64), rows.view(np.uint64)), ("reverse", b)
    cols = autodiff.jvp(graph, values, {"A": seed_cols})[graph.output].reshape(m, m)
    for b in (1, 7, 15, 36):
        part = np.concatenate([autodiff.jvp(graph, values, {"A": seed_cols[s:s + b]})[graph.output].reshape(-1, m)
                               for s in range(0, m, b)])
        assert np.array_equal(part.view(np.uint64), cols.view(np.uint64)), ("forward", b)
