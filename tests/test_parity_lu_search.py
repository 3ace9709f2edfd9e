"""Parity with PyTorch 2.13 (and NumPy where the spelling is NumPy's) for LU and its companions
(lu, lu_factor, lu_solve, inv_ex, cholesky_ex, triangular_solve) and the search/bin vocabulary
(searchsorted, bucketize, digitize, bincount, histc, isin); see tests/parity.py."""

import numpy as np
import pytest

from parity import assert_parity, central
from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

torch = pytest.importorskip("torch")
rng = np.random.default_rng(29)
S = rng.uniform(-1, 1, (4, 4))  # pivoting happens: no diagonal dominance
S2 = rng.uniform(-1, 1, (2, 3, 3))
R = rng.uniform(-1, 1, (4, 2))
TALL, WIDE = rng.uniform(-1, 1, (5, 3)), rng.uniform(-1, 1, (3, 5))
SPD = S @ S.T + 4 * np.eye(4)

LU_CASES = [
    ("torch.linalg.lu(S).L", {"S": S}, lambda S: torch.linalg.lu(S).L),
    ("torch.linalg.lu(S).U", {"S": S}, lambda S: torch.linalg.lu(S).U),
    ("torch.linalg.lu(S).P", {"S": S}, lambda S: torch.linalg.lu(S).P),
    ("torch.linalg.lu(S2)[1]", {"S2": S2}, lambda S2: torch.linalg.lu(S2)[1]),
    ("torch.linalg.lu(S2)[2]", {"S2": S2}, lambda S2: torch.linalg.lu(S2)[2]),
    ("P, L, U = torch.linalg.lu(S); (L * U).sum()", {"S": S},
     lambda S: (torch.linalg.lu(S)[1] * torch.linalg.lu(S)[2]).sum()),
    ("P, L, U = torch.linalg.lu(S); P @ L @ U", {"S": S}, lambda S: S * 1),
    ("torch.linalg.lu_factor(S).LU", {"S": S}, lambda S: torch.linalg.lu_factor(S).LU),
    ("torch.linalg.lu_factor(S2)[0]", {"S2": S2}, lambda S2: torch.linalg.lu_factor(S2)[0]),
    ("torch.lu(S)[0]", {"S": S}, lambda S: torch.linalg.lu_factor(S)[0]),
    ("S.lu()[0].sum()", {"S": S}, lambda S: torch.linalg.lu_factor(S)[0].sum()),
    ("LU, piv = torch.linalg.lu_factor(S); torch.linalg.lu_solve(LU, piv, R)", {"S": S, "R": R},
     lambda S, R: torch.linalg.lu_solve(*torch.linalg.lu_factor(S), R)),
    ("LU, piv = torch.linalg.lu_factor(S); torch.linalg.lu_solve(LU, piv, R, adjoint=True)", {"S": S, "R": R},
     lambda S, R: torch.linalg.lu_solve(*torch.linalg.lu_factor(S), R, adjoint=True)),
    ("LU, piv = torch.linalg.lu_factor(S); torch.linalg.lu_solve(LU, piv, R.T, left=False)", {"S": S, "R": R},
     lambda S, R: torch.linalg.lu_solve(*torch.linalg.lu_factor(S), R.T, left=False)),
    ("LU, piv = torch.linalg.lu_factor(S); torch.linalg.lu_solve(LU, piv, R.T, left=False, adjoint=True)",
     {"S": S, "R": R}, lambda S, R: torch.linalg.lu_solve(*torch.linalg.lu_factor(S), R.T, left=False, adjoint=True)),
    ("LU, piv = torch.lu(S); torch.lu_solve(R, LU, piv)", {"S": S, "R": R},
     lambda S, R: torch.linalg.lu_solve(*torch.linalg.lu_factor(S), R)),
    ("torch.linalg.inv_ex(S).inverse", {"S": S}, lambda S: torch.linalg.inv_ex(S).inverse),
    ("torch.linalg.inv_ex(S)[1]", {"S": S}, lambda S: torch.linalg.inv_ex(S)[1].double()),
    ("torch.linalg.cholesky_ex(A).L", {"A": SPD}, lambda A: torch.linalg.cholesky_ex(A).L),
    ("torch.linalg.cholesky_ex(A, upper=True)[0]", {"A": SPD}, lambda A: torch.linalg.cholesky_ex(A, upper=True)[0]),
    ("torch.triangular_solve(R, S).solution", {"S": S, "R": R}, lambda S, R: torch.triangular_solve(R, S).solution),
    ("torch.triangular_solve(R, S, upper=False)[0]", {"S": S, "R": R},
     lambda S, R: torch.triangular_solve(R, S, upper=False)[0]),
    ("torch.triangular_solve(R, S, transpose=True, unitriangular=True)[0]", {"S": S, "R": R},
     lambda S, R: torch.triangular_solve(R, S, transpose=True, unitriangular=True)[0]),
    ("R.triangular_solve(S)[1]", {"S": S, "R": R}, lambda S, R: R.triangular_solve(S)[1]),
]


@pytest.mark.parametrize("expr,inputs,fn", LU_CASES, ids=[c[0] for c in LU_CASES])
def test_lu_family_matches_pytorch(expr, inputs, fn):
    assert_parity(expr, inputs, fn, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("A", [TALL, WIDE], ids=["tall", "wide"])
def test_lu_of_a_non_square_matrix_has_pytorchs_values_and_refuses_its_derivative(A):
    for part in ("P", "L", "U"):
        ours = api.evaluate(f"torch.linalg.lu(A).{part}", {"A": A})
        np.testing.assert_allclose(ours, getattr(torch.linalg.lu(torch.tensor(A)), part).numpy(), rtol=1e-12,
                                   atol=1e-14)
    LU, piv = torch.linalg.lu_factor(torch.tensor(A))
    np.testing.assert_allclose(api.evaluate("torch.linalg.lu_factor(A)[0]", {"A": A}), LU.numpy(), atol=1e-14)
    np.testing.assert_array_equal(api.evaluate("torch.linalg.lu_factor(A)[1]", {"A": A}), piv.numpy())
    with pytest.raises(JacError, match="square matrices only"):
        api.jacobian("torch.linalg.lu(A).L", {"A": A})


def test_lu_pivots_are_pytorchs_one_based_pivots():
    for A in (S, S2):
        ours = api.evaluate("torch.linalg.lu_factor(A).pivots", {"A": A})
        np.testing.assert_array_equal(ours, torch.linalg.lu_factor(torch.tensor(A)).pivots.numpy())


def test_lu_derivative_of_a_singular_matrix_is_refused():
    A = np.array([[1.0, 2.0], [2.0, 4.0]])
    np.testing.assert_allclose(api.evaluate("torch.linalg.lu(A).U", {"A": A}), [[2.0, 4.0], [0.0, 0.0]])
    with pytest.raises(JacError, match="singular"):
        api.jacobian("torch.linalg.lu(A).U", {"A": A})


def test_lu_solve_refuses_pivots_that_are_no_pivots():
    with pytest.raises(JacError, match="pivots"):
        api.evaluate("torch.linalg.lu_solve(A, p, b)", {"A": S, "p": np.array([0.0, 1, 2, 3]), "b": R})


def test_inv_ex_and_cholesky_ex_refuse_what_they_would_flag():
    with pytest.raises(JacError, match="singular"):
        api.evaluate("torch.linalg.inv_ex(A)[0]", {"A": np.ones((2, 2))})
    with pytest.raises(JacError, match="positive definite"):
        api.evaluate("torch.linalg.cholesky_ex(A)[0]", {"A": -np.eye(2)})


# --- search and bins: values as PyTorch's / NumPy's; their integer results have derivative 0 (PyTorch's
# are not differentiable: the parity helper's Jacobian of such an output is zero)
SEQ = np.array([-1.0, 0.0, 0.0, 0.5, 2.0])
VALS = np.array([[0.0, 0.3, -5.0], [2.0, 9.0, -1.0]])
UNSORTED = np.array([3.0, -1.0, 2.0, 0.0, 1.0])
NANSEQ = np.array([1.0, 2.0, 2.0, 3.0, np.nan])
NANVALS = np.array([np.nan, 2.0, 0.0, 5.0, np.inf])
ROWS = np.array([[1.0, 2.0, 3.0], [2.0, 3.0, 4.0]])

SEARCH_CASES = [
    ("torch.searchsorted(s, v)", {"s": SEQ, "v": VALS}, lambda s, v: torch.searchsorted(s, v).double()),
    ("torch.searchsorted(s, v, right=True)", {"s": SEQ, "v": VALS},
     lambda s, v: torch.searchsorted(s, v, right=True).double()),
    ("torch.searchsorted(s, v, side='right')", {"s": SEQ, "v": VALS},
     lambda s, v: torch.searchsorted(s, v, side="right").double()),
    ("torch.searchsorted(s, v)", {"s": UNSORTED, "v": VALS}, lambda s, v: torch.searchsorted(s, v).double()),
    ("torch.searchsorted(s, v, right=True)", {"s": NANSEQ, "v": NANVALS},
     lambda s, v: torch.searchsorted(s, v, right=True).double()),
    ("torch.searchsorted(s, v)", {"s": NANSEQ, "v": NANVALS}, lambda s, v: torch.searchsorted(s, v).double()),
    ("torch.searchsorted(r, v)", {"r": ROWS, "v": VALS}, lambda r, v: torch.searchsorted(r, v).double()),
    ("torch.searchsorted(s, v, sorter=[1, 3, 4, 2, 0])", {"s": UNSORTED, "v": VALS},
     lambda s, v: torch.searchsorted(s, v, sorter=torch.tensor([1, 3, 4, 2, 0])).double()),
    ("torch.searchsorted(s, 0.0) + v.sum()", {"s": SEQ, "v": VALS},
     lambda s, v: torch.searchsorted(s, torch.tensor(0.0, dtype=torch.float64)) + v.sum()),
    ("torch.bucketize(v, s)", {"s": SEQ, "v": VALS}, lambda s, v: torch.bucketize(v, s).double()),
    ("torch.bucketize(v, s, right=True) * v", {"s": SEQ, "v": VALS}, lambda s, v: torch.bucketize(v, s, right=True) * v),
    ("torch.bucketize(v, s)", {"s": NANSEQ, "v": NANVALS}, lambda s, v: torch.bucketize(v, s).double()),
    ("torch.histc(v, bins=4)", {"v": VALS}, lambda v: torch.histc(v, bins=4)),
    ("torch.histc(v, bins=3, min=-1, max=2)", {"v": VALS}, lambda v: torch.histc(v, bins=3, min=-1, max=2)),
    ("v.histc(5, 0.0, 0.0)", {"v": np.ones(3)}, lambda v: v.histc(5, 0.0, 0.0)),
    ("torch.histc(v, bins=3, min=0, max=2)", {"v": NANVALS}, lambda v: torch.histc(v, bins=3, min=0, max=2)),
    ("torch.isin(v, s)", {"s": SEQ, "v": VALS}, lambda s, v: torch.isin(v, s).double()),
    ("torch.isin(v, s, invert=True)", {"s": NANSEQ, "v": NANVALS},
     lambda s, v: torch.isin(v, s, invert=True).double()),
    ("torch.isin(v, s) * v", {"s": SEQ, "v": VALS}, lambda s, v: torch.isin(v, s) * v),
    ("torch.bincount(torch.tensor([0, 3, 3, 1]), weights=w)", {"w": np.array([0.5, -1.0, 2.0, 3.0])},
     lambda w: torch.zeros(4, dtype=w.dtype).index_add(0, torch.tensor([0, 3, 3, 1]), w)),
]


@pytest.mark.parametrize("expr,inputs,fn", SEARCH_CASES, ids=[f"{i}:{c[0]}" for i, c in enumerate(SEARCH_CASES)])
def test_search_and_bins_match_pytorch(expr, inputs, fn):
    assert_parity(expr, inputs, fn)


NP_CASES = [  # (expression, NumPy's answer)
    ("np.searchsorted(s, v)", lambda s, v: np.searchsorted(s, v)),
    ("np.searchsorted(s, v, side='right')", lambda s, v: np.searchsorted(s, v, side="right")),
    ("np.searchsorted(s, v, sorter=[1, 3, 4, 2, 0])", lambda s, v: np.searchsorted(s, v, sorter=[1, 3, 4, 2, 0])),
    ("np.digitize(v, s)", lambda s, v: np.digitize(v, s)),
    ("np.digitize(v, s, right=True)", lambda s, v: np.digitize(v, s, right=True)),
    ("np.digitize(v, np.flip(s))", lambda s, v: np.digitize(v, s[::-1])),
    ("np.isin(v, s)", lambda s, v: np.isin(v, s)),
    ("np.isin(v, s, invert=True, assume_unique=True)", lambda s, v: np.isin(v, s, invert=True)),
    ("np.bincount([0, 3, 3, 1], minlength=6)", lambda s, v: np.bincount([0, 3, 3, 1], minlength=6)),
    ("np.bincount([2, 2], weights=v[0, :2])", lambda s, v: np.bincount([2, 2], weights=v[0, :2])),
]


@pytest.mark.parametrize("s", [SEQ, NANSEQ, UNSORTED[[1, 3, 4, 2, 0]]], ids=["sorted", "nan", "sorted-again"])
@pytest.mark.parametrize("expr,numpy_fn", NP_CASES, ids=[c[0] for c in NP_CASES])
def test_numpy_search_and_bins_match_numpy(expr, numpy_fn, s):
    v = np.concatenate([VALS.ravel(), NANVALS, [0.5]]).reshape(3, 4)
    if "sorter" in expr:
        s = UNSORTED
    ours = api.evaluate(expr, {"s": s, "v": v})
    np.testing.assert_array_equal(ours, numpy_fn(s, v))
    jac = api.jacobian(expr, {"s": s, "v": v})
    if "weights" not in expr:
        assert not np.any(jac["s"]) and not np.any(jac["v"])


def test_bincount_weights_derivative_by_central_differences():
    w = np.array([0.5, -1.0, 2.0, 3.0])
    expr = "torch.bincount(torch.tensor([0, 3, 3, 1]), weights=w, minlength=5) ** 2"
    ours = api.jacobian(expr, {"w": w})["w"]
    np.testing.assert_allclose(ours, central(lambda w: np.bincount([0, 3, 3, 1], weights=w, minlength=5) ** 2, w),
                               rtol=1e-7, atol=1e-8)
    assert torch.bincount(torch.tensor([0, 3, 3, 1]), weights=torch.tensor(w)).tolist() == \
        api.evaluate("torch.bincount(torch.tensor([0, 3, 3, 1]), weights=w)", {"w": w}).tolist()


@pytest.mark.parametrize("expr,message", [
    ("torch.bincount(i)", "constant array of integers"),
    ("torch.bincount(torch.tensor([0, -1]))", "non-negative"),
    ("torch.bincount(torch.tensor([0.5]))", "non-negative integers"),
    ("torch.bincount(torch.tensor([1e15]))", "bincount's result"),
    ("torch.histc(v, bins=0)", "bins"),
    ("torch.histc(v, min=2, max=1)", "larger than min"),
    ("torch.histc(n)", "not finite"),
    ("np.digitize(v, [1, 0, 2])", "monotonically"),
    ("np.searchsorted(r, v)", "1-d"),
    ("torch.searchsorted(r, v[:1])", "leading axes"),
    ("torch.searchsorted(s, v, side='left', right=True)", "contradict"),
])
def test_search_and_bins_refuse_clearly(expr, message):
    with pytest.raises(JacError, match=message):
        api.evaluate(expr, {"i": np.array([0.0, 1.0]), "v": VALS, "r": ROWS, "s": SEQ, "n": NANVALS})


# --- order statistics: msort, nanquantile / nanpercentile, mode
NANROWS = np.array([[0.3, np.nan, -1.0, 2.0, 0.3], [np.nan, np.nan, np.nan, np.nan, np.nan],
                    [1.5, -0.5, 0.25, 4.0, -2.0]])
TIES = np.array([[1.0, 2.0, 2.0, 1.0, 3.0], [0.5, 0.5, -1.0, -1.0, -1.0], [4.0, 3.0, 2.0, 1.0, 0.0]])

ORDER_CASES = [
    ("torch.msort(t)", {"t": TIES}, lambda t: torch.msort(t)),
    ("t.msort()", {"t": TIES.T}, lambda t: t.msort()),
    ("torch.nanquantile(x, 0.3)", {"x": NANROWS[0]}, lambda x: torch.nanquantile(x, 0.3)),
    ("torch.nanquantile(x, 0.5, dim=1)", {"x": NANROWS}, lambda x: torch.nanquantile(x, 0.5, dim=1)),
    ("torch.nanquantile(x, 0.7, dim=1, keepdim=True)", {"x": NANROWS},
     lambda x: torch.nanquantile(x, 0.7, dim=1, keepdim=True)),
    ("torch.nanquantile(x, [0.1, 0.9], dim=1)", {"x": NANROWS},
     lambda x: torch.nanquantile(x, torch.tensor([0.1, 0.9], dtype=x.dtype), dim=1)),
    ("x.nanquantile(0.6, dim=0)", {"x": NANROWS}, lambda x: x.nanquantile(0.6, dim=0)),
] + [(f"torch.nanquantile(x, {q}, dim=1, interpolation='{m}')", {"x": NANROWS},
      (lambda q, m: lambda x: torch.nanquantile(x, q, dim=1, interpolation=m))(q, m))
     for m in ("linear", "lower", "higher", "midpoint", "nearest") for q in (0.375, 0.5, 1.0)] + [
    ("torch.nanquantile(x, 0.25)", {"x": TIES[0]}, lambda x: torch.nanquantile(x, 0.25)),
    ("torch.mode(t).values", {"t": TIES}, lambda t: torch.mode(t).values),
    ("torch.mode(t, 0)[0]", {"t": TIES}, lambda t: torch.mode(t, 0)[0]),
    ("torch.mode(t, dim=1, keepdim=True).values", {"t": TIES}, lambda t: torch.mode(t, dim=1, keepdim=True).values),
    ("torch.mode(t).indices", {"t": TIES}, lambda t: torch.mode(t).indices.double()),
    ("t.mode(0).indices", {"t": TIES}, lambda t: t.mode(0).indices.double()),
    ("torch.mode(t[0, 1])[0] * t.sum()", {"t": TIES}, lambda t: torch.mode(t[0, 1])[0] * t.sum()),
    ("torch.mode(t)[0].sum()", {"t": TIES}, lambda t: torch.mode(t)[0].sum()),
]


@pytest.mark.parametrize("expr,inputs,fn", ORDER_CASES, ids=[f"{i}:{c[0]}" for i, c in enumerate(ORDER_CASES)])
def test_order_statistics_match_pytorch(expr, inputs, fn):
    assert_parity(expr, inputs, fn)


def test_mode_matches_pytorch_on_random_ties():
    r = np.random.default_rng(3)
    for _ in range(40):
        t = r.integers(-2, 3, (3, int(r.integers(1, 8)))).astype(float)
        v, i = torch.mode(torch.tensor(t))
        np.testing.assert_array_equal(api.evaluate("torch.mode(t).values", {"t": t}), v.numpy())
        np.testing.assert_array_equal(api.evaluate("torch.mode(t).indices", {"t": t}), i.numpy())


def test_mode_of_nan_is_refused():
    with pytest.raises(JacError, match="NaN"):
        api.evaluate("torch.mode(t).values", {"t": NANROWS})


@pytest.mark.parametrize("method", ["linear", "lower", "higher", "midpoint", "nearest"])
@pytest.mark.parametrize("fname,q", [("nanquantile", 0.375), ("nanquantile", 0.5), ("nanpercentile", 62.5),
                                     ("nanpercentile", 100)])
def test_numpy_nanquantile_values_and_derivatives(fname, q, method):
    expr = f"np.{fname}(x, {q}, axis=1, method='{method}')"
    x = np.where(np.isnan(NANROWS), np.nan, NANROWS + np.arange(15).reshape(3, 5) * 0.01)
    np.testing.assert_allclose(api.evaluate(expr, {"x": x}), getattr(np, fname)(x, q, axis=1, method=method),
                               rtol=1e-13, equal_nan=True)
    rows = x[[0, 2]]  # the lines holding a number: central differences of NumPy's own function
    ours = api.jacobian(expr, {"x": rows})["x"]
    np.testing.assert_allclose(ours, central(lambda v: getattr(np, fname)(v, q, axis=1, method=method), rows),
                               rtol=1e-6, atol=1e-8)


def test_numpy_nanquantile_keepdims_and_several_q():
    x = NANROWS
    np.testing.assert_allclose(api.evaluate("np.nanquantile(x, [0.2, 0.8], axis=0, keepdims=True)", {"x": x}),
                               np.nanquantile(x, [0.2, 0.8], axis=0, keepdims=True), equal_nan=True)
    np.testing.assert_allclose(api.evaluate("np.nanpercentile(x, 30)", {"x": x}), np.nanpercentile(x, 30))
    with pytest.raises(JacError, match="interpolation must be one of"):
        api.evaluate("np.nanquantile(x, 0.5, method='weibull')", {"x": x})
    with pytest.raises(JacError, match="q must be"):
        api.evaluate("torch.nanquantile(x, 1.5)", {"x": x})


# --- scatter_reduce / index_reduce with amax / amin: PyTorch's derivative, split evenly among ties (x's own
# element counted even with include_self=False), NaN where a NaN takes part
XS = np.array([[1.0, 5.0, 2.0, 0.0], [3.0, 3.0, -1.0, 4.0]])
SRC = np.array([[3.0, 1.0, 2.0, 7.0, 0.0], [3.0, 3.0, -1.0, 4.0, 4.0]])  # ties with each other and with x
IDX = "torch.tensor([[0, 1, 2, 3, 0], [1, 1, 2, 3, 3]])"
IDX_T = torch.tensor([[0, 1, 2, 3, 0], [1, 1, 2, 3, 3]])
EXTREME_CASES = [
    (f"torch.scatter_reduce(x, 1, {IDX}, s, '{r}', include_self={inc})", {"x": XS, "s": SRC},
     (lambda r, inc: lambda x, s: torch.scatter_reduce(x, 1, IDX_T, s, r, include_self=inc))(r, inc))
    for r in ("amax", "amin") for inc in (True, False)] + [
    (f"x.scatter_reduce(0, torch.tensor([[1, 0, 1, 1]]), s[:1, :4], '{r}', include_self={inc}).sum()",
     {"x": XS, "s": SRC},
     (lambda r, inc: lambda x, s: x.scatter_reduce(0, torch.tensor([[1, 0, 1, 1]]), s[:1, :4], r,
                                                   include_self=inc).sum())(r, inc))
    for r in ("amax", "amin") for inc in (True, False)] + [
]
NAN_EXTREME_CASES = [(f"torch.scatter_reduce(x, 0, torch.tensor([0, 0, 2, 1, 3]), s, '{r}', include_self={inc})",
                      (lambda r, inc: lambda x, s: torch.scatter_reduce(x, 0, torch.tensor([0, 0, 2, 1, 3]), s, r,
                                                                        include_self=inc))(r, inc))
                     for r in ("amax", "amin") for inc in (True, False)]


@pytest.mark.parametrize("expr,inputs,fn", EXTREME_CASES, ids=[f"{i}:{c[0]}" for i, c in enumerate(EXTREME_CASES)])
def test_scatter_reduce_amax_amin_match_pytorch_with_ties(expr, inputs, fn):
    assert_parity(expr, inputs, fn)


@pytest.mark.parametrize("expr,fn", NAN_EXTREME_CASES, ids=[c[0] for c in NAN_EXTREME_CASES])
def test_scatter_reduce_amax_amin_with_nan_as_pytorch(expr, fn):
    """NaN where a NaN takes part (N = 0: 0/0), as PyTorch's; its Jacobian, made by one-hot cotangents, also
    has 0 · NaN = NaN in every row at such a position, where jac's holds the exact 0 outside the pattern."""
    inputs = {"x": np.array([1.0, 5.0, np.nan, 0.0]), "s": np.array([3.0, np.nan, 2.0, 7.0, -1.0])}
    assert_parity(expr, inputs, fn, differs=("jacobian",))
    ours = api.jacobian(expr, inputs)
    tx, ts = (torch.tensor(inputs[k]) for k in ("x", "s"))
    theirs = torch.autograd.functional.jacobian(fn, (tx, ts))
    for name, j in zip(("x", "s"), theirs):
        j = j.numpy()
        mine = ours[name]
        assert not np.any(np.isnan(mine) & ~np.isnan(j))  # NaN only where PyTorch's is
        np.testing.assert_array_equal(mine[~np.isnan(j)], j[~np.isnan(j)])
        assert np.all(mine[np.isnan(j) & ~np.isnan(mine)] == 0)  # else the exact 0 outside the pattern
    assert np.isnan(ours["x"]).any() or np.isnan(ours["s"]).any()


IR_X = np.array([[1.0, 2.0, 0.5], [3.0, -1.0, 2.0], [0.5, 0.5, 4.0]])
IR_SRC = np.array([[1.0, 2.5, 0.5], [3.0, -1.0, 2.0], [2.0, 2.5, -4.0], [1.5, 0.0, 1.0]])  # ties with x and each other
IR_INDEX = torch.tensor([0, 2, 0, 2])
INDEX_REDUCE_CASES = [
    (f"torch.index_reduce(x, 0, torch.tensor([0, 2, 0, 2]), s, '{r}', include_self={inc})", {"x": IR_X, "s": IR_SRC},
     (lambda r, inc: lambda x, s: torch.index_reduce(x, 0, IR_INDEX, s, r, include_self=inc))(r, inc))
    for r in ("prod", "mean", "amax", "amin") for inc in (True, False)] + [
    ("x.index_reduce(1, torch.tensor([2, 2, 0, 1]), s.T, 'amax').sum()", {"x": IR_X, "s": IR_SRC},
     lambda x, s: x.index_reduce(1, torch.tensor([2, 2, 0, 1]), s.T, "amax").sum()),
]


@pytest.mark.filterwarnings("ignore:index_reduce")
@pytest.mark.parametrize("expr,inputs,fn", INDEX_REDUCE_CASES, ids=[c[0] for c in INDEX_REDUCE_CASES])
def test_index_reduce_matches_pytorch(expr, inputs, fn):
    assert_parity(expr, inputs, fn)


def test_index_reduce_refuses_sum():
    with pytest.raises(JacError, match="is not one of 'prod'"):
        api.evaluate("x.index_reduce(0, torch.tensor([0]), x[:1], 'sum')", {"x": IR_X})
