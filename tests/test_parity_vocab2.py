"""The second sweep of everyday calls (benchmarks/vocab_sweep.py): what jac refused and now lowers, each
against PyTorch (value, Jacobians, a VJP, the Hessian of a one-element output: tests/parity.py) and central
differences, at edge values and in float32; and the calls jac refuses, each saying why.

det at a singular matrix: its derivative is the cofactor matrix adj(A)ᵀ (det is a polynomial), which
``torch.func.jacrev`` gives; PyTorch 2.13's eager backward (``torch.autograd.grad``) writes 0 at an exactly
singular matrix of rank n - 1 ([[1, 2], [2, 4]]: 0 where the cofactors are [[4, -2], [-2, 1]]), so the
references below are ``torch.func`` and the exact adjugate.
"""

import functools

import numpy as np
import pytest

from jacobi_cli.errors import JacError, JacValueError
from jacobi_cli.tools import api
from parity import assert_parity, central

torch = pytest.importorskip("torch")
F = torch.nn.functional
la = torch.linalg
rng = np.random.default_rng(2)


central = functools.partial(central, h=1e-6)  # tests/parity.py's, with a smaller step


def assert_central(expr, inputs, rtol=1e-6, atol=1e-7, **kw):
    """jac's Jacobian of every input equals central differences of jac's own value."""
    ours = api.jacobian(expr, inputs, **kw)
    for name, x in inputs.items():
        f = lambda v, name=name: api.evaluate(expr, {**inputs, name: v}, **kw)  # noqa: E731
        np.testing.assert_allclose(ours[name], central(f, x), rtol=rtol, atol=atol, err_msg=f"{expr}: d/d{name}")


# --- det at a singular matrix --------------------------------------------------------------------------

def _adjugate_transposed(a: np.ndarray) -> np.ndarray:
    import sympy

    return np.array(sympy.Matrix(a.astype(int).tolist()).adjugate().T.tolist(), dtype=np.float64)


SINGULAR = {
    "rank n-1": np.array([[1.0, 2.0], [2.0, 4.0]]),
    "rank n-1, 3x3": np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]),
    "a zero pivot": np.array([[1.0, 0.0], [0.0, 0.0]]),
    "rank n-2": np.outer([1.0, 2.0, 3.0], [1.0, -1.0, 2.0]),
    "zero": np.zeros((3, 3)),
    "zero 1x1": np.zeros((1, 1)),
}


@pytest.mark.parametrize("spelling", ["det(A)", "torch.det(A)", "torch.linalg.det(A)", "np.linalg.det(A)", "A.det()"])
@pytest.mark.parametrize("name", list(SINGULAR))
def test_det_at_a_singular_matrix_has_the_cofactor_matrix_as_derivative(spelling, name):
    a = SINGULAR[name]
    assert api.evaluate(spelling, {"A": a}) == 0.0
    ours = api.jacobian(spelling, {"A": a})["A"]
    np.testing.assert_allclose(ours, _adjugate_transposed(a), atol=1e-14)
    theirs = torch.func.jacrev(la.det)(torch.tensor(a)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours, central(np.linalg.det, a), atol=1e-8)
    tangent = rng.standard_normal(a.shape)
    np.testing.assert_allclose(api.jvp(spelling, {"A": a}, tangents={"A": tangent}), (ours * tangent).sum(), atol=1e-13)


def test_det_of_a_batch_mixes_both_branches_and_float32_keeps_its_type():
    a = np.stack([SINGULAR["rank n-1"], np.array([[2.0, 1.0], [0.5, 3.0]]), np.zeros((2, 2))])
    ours = api.jacobian("torch.linalg.det(A)", {"A": a})["A"]
    np.testing.assert_allclose(ours, torch.func.jacrev(la.det)(torch.tensor(a)).numpy(), rtol=1e-12, atol=1e-14)
    single = api.jacobian("det(A)", {"A": a[0].astype(np.float32)}, dtype="float32")["A"]
    assert single.dtype == np.float32
    np.testing.assert_allclose(single, _adjugate_transposed(a[0]), atol=1e-6)


def test_det_keeps_pytorch_s_answers_at_an_invertible_matrix():
    s = rng.uniform(-1, 1, (3, 3)) + 2 * np.eye(3)
    assert_parity("torch.linalg.det(S)", {"S": s}, lambda S: la.det(S))
    assert_parity("(np.linalg.det(S) * x).sum()", {"S": s, "x": rng.uniform(-1, 1, 3)},
                  lambda S, x: (la.det(S) * x).sum())


def test_det_of_empty_and_non_finite_matrices():
    assert api.evaluate("det(A)", {"A": np.zeros((0, 0))}) == 1.0
    assert api.jacobian("det(A)", {"A": np.zeros((0, 0))})["A"].shape == (0, 0)
    assert api.jacobian("det(A)", {"A": np.zeros((0, 2, 2))})["A"].shape == (0, 0, 2, 2)
    assert np.isnan(api.jacobian("det(A)", {"A": np.full((2, 2), np.nan)})["A"]).all()


from test_linalg40 import det_hessian as _det_hessian  # noqa: E402 - the exact minors, one copy


@pytest.mark.parametrize("name", ["rank n-1", "zero"])
def test_det_s_second_derivative_at_a_singular_matrix_is_the_polynomial_s(name):
    # session 40: from the SVD (cofactor_dir), where it was refused (A⁻¹); PyTorch's is NaN at the zero matrix
    a = SINGULAR[name]
    np.testing.assert_allclose(api.hessian("det(A)", {"A": a})[("A", "A")], _det_hessian(a), atol=1e-14)


@pytest.mark.parametrize("name", ["rank n-1", "zero"])
def test_det_s_third_derivative_at_a_singular_matrix_is_the_polynomial_s_and_the_fourth_refused(name):
    # session 50: the third from the SVD (cofactor_dir2), where it was refused; 0 for a 2 × 2, the permutation
    # tensor for a 3 × 3; the fourth reads A⁻¹
    from test_linalg40 import _permutation_tensor

    a = SINGULAR[name]
    n = a.shape[0]
    want = _permutation_tensor(3) if n == 3 else np.zeros((n, n) * 3)
    np.testing.assert_allclose(api.derivative("det(A)", {"A": a}, order=3), want, atol=1e-12)
    with pytest.raises(JacValueError, match="fourth derivative of det .*singular"):
        api.derivative("det(A)", {"A": a}, order=4)


def test_logdet_at_a_singular_matrix_is_minus_inf_and_its_derivative_is_refused_saying_why():
    a = SINGULAR["rank n-1"]
    assert api.evaluate("torch.linalg.slogdet(A)[1]", {"A": a}) == -np.inf
    for expr in ("torch.logdet(A)", "torch.linalg.slogdet(A)[1]", "np.linalg.slogdet(A)[1]"):
        with pytest.raises(JacValueError, match=r"log\|det A\|.*does not exist where det A = 0"):
            api.jacobian(expr, {"A": a})


# --- the calls lowered onto existing ops -----------------------------------------------------------------

x5 = rng.uniform(-1, 1, 5)
u5 = rng.uniform(0.1, 0.9, 5)
A = rng.uniform(-1, 1, (3, 4))
ZROW = np.vstack([np.zeros(4), A[1:]])                     # a zero row: renorm's norm 0
BESSEL = np.array([0.0, 0.5, -1.3, 2.0, -0.2])              # 0 (where i1' and i1e' are 1/2) and both signs
T8 = rng.uniform(-1, 1, (2, 8, 2, 3))
T4 = rng.uniform(-1, 1, (1, 2, 4, 6))
L3 = rng.uniform(-1, 1, (2, 5, 3))
L4 = rng.uniform(-1, 1, (2, 5, 2, 3))
M43, TAU = rng.uniform(-1, 1, (4, 3)), rng.uniform(-1, 1, 2)
MB, TB = rng.uniform(-1, 1, (2, 4, 3)), rng.uniform(-1, 1, (2, 3))
Q6 = rng.uniform(-1, 1, (6, 6)) + 3 * np.eye(6)
B23 = rng.uniform(-1, 1, (2, 3))
NANS = np.array([[1.0, np.nan, 3.0, -2.0], [0.5, -1.0, 0.25, 2.0], [4.0, 1.0, np.nan, 2.0]])   # no ties
S3 = rng.uniform(-1, 1, (3, 3))
X1 = rng.uniform(-1, 1, (2, 3, 4))
X2 = rng.uniform(-1, 1, (1, 2, 3, 4))
X3 = rng.uniform(-1, 1, (1, 1, 2, 3, 2))

CASES = [
    ("A.renorm(2, 0, 1.0)", {"A": A}, lambda A: A.renorm(2, 0, 1.0)),
    ("torch.renorm(A, 1, 1, 0.5)", {"A": A}, lambda A: torch.renorm(A, 1, 1, 0.5)),
    ("torch.renorm(A, float('inf'), 1, 0.5)", {"A": A}, lambda A: torch.renorm(A, float("inf"), 1, 0.5)),
    ("torch.renorm(Z, 2, 0, 0.5)", {"Z": ZROW}, lambda Z: torch.renorm(Z, 2, 0, 0.5)),
    ("torch.renorm(Z, 3, 0, 0.5)", {"Z": ZROW}, lambda Z: torch.renorm(Z, 3, 0, 0.5)),
    ("(torch.renorm(A, 2, 1, 0.6) ** 2).sum()", {"A": A}, lambda A: (torch.renorm(A, 2, 1, 0.6) ** 2).sum()),
    ("torch.special.entr(u)", {"u": u5}, lambda u: torch.special.entr(u)),
    ("torch.special.entr(u).sum()", {"u": u5}, lambda u: torch.special.entr(u).sum()),
    ("torch.special.i0(x) + torch.i0(x) * 2", {"x": BESSEL}, lambda x: torch.special.i0(x) + torch.i0(x) * 2),
    ("torch.special.i0e(x)", {"x": BESSEL}, lambda x: torch.special.i0e(x)),
    ("torch.special.i1(x)", {"x": BESSEL}, lambda x: torch.special.i1(x)),
    ("torch.special.i1e(x)", {"x": BESSEL}, lambda x: torch.special.i1e(x)),
    ("(torch.special.i0(x) * torch.special.i1(x) + torch.special.i0e(x) * torch.special.i1e(x)).sum()", {"x": BESSEL},
     lambda x: (torch.special.i0(x) * torch.special.i1(x) + torch.special.i0e(x) * torch.special.i1e(x)).sum()),
    ("x.i0()", {"x": BESSEL}, lambda x: x.i0()),
    ("F.pixel_shuffle(T, 2)", {"T": T8}, lambda T: F.pixel_shuffle(T, 2)),
    ("torch.pixel_shuffle(T[0], 2)", {"T": T8}, lambda T: torch.pixel_shuffle(T[0], 2)),
    ("F.pixel_unshuffle(T, 2)", {"T": T4}, lambda T: F.pixel_unshuffle(T, 2)),
    ("F.pixel_unshuffle(F.pixel_shuffle(T, 2), downscale_factor=2)", {"T": T8},
     lambda T: F.pixel_unshuffle(F.pixel_shuffle(T, 2), downscale_factor=2)),
    ("F.local_response_norm(L, 3)", {"L": L3}, lambda L: F.local_response_norm(L, 3)),
    ("F.local_response_norm(L, 2, alpha=0.1, beta=0.5, k=2.0)", {"L": L4},
     lambda L: F.local_response_norm(L, 2, alpha=0.1, beta=0.5, k=2.0)),
    ("F.local_response_norm(L, 4, alpha=0.3).sum()", {"L": L3}, lambda L: F.local_response_norm(L, 4, alpha=0.3).sum()),
    ("torch.linalg.householder_product(M, t)", {"M": M43, "t": TAU}, lambda M, t: la.householder_product(M, t)),
    ("torch.linalg.householder_product(M, t)", {"M": MB, "t": TB}, lambda M, t: la.householder_product(M, t)),
    ("torch.orgqr(M, t[:1]).sum()", {"M": M43, "t": TAU}, lambda M, t: torch.orgqr(M, t[:1]).sum()),
    ("torch.linalg.tensorinv(Q.reshape(6, 2, 3), ind=1)", {"Q": Q6},
     lambda Q: la.tensorinv(Q.reshape(6, 2, 3), ind=1)),
    ("torch.linalg.tensorinv(Q.reshape(2, 3, 6))", {"Q": Q6}, lambda Q: la.tensorinv(Q.reshape(2, 3, 6))),
    ("torch.linalg.tensorsolve(Q.reshape(2, 3, 2, 3), b)", {"Q": Q6, "b": B23},
     lambda Q, b: la.tensorsolve(Q.reshape(2, 3, 2, 3), b)),
    ("torch.linalg.tensorsolve(Q.reshape(2, 3, 2, 3), b.T, dims=(0,))", {"Q": Q6, "b": B23},
     lambda Q, b: la.tensorsolve(Q.reshape(2, 3, 2, 3), b.T, dims=(0,))),
    ("torch.nanmedian(N, 1).values", {"N": NANS}, lambda N: torch.nanmedian(N, 1).values),
    ("N.nanmedian(dim=0, keepdim=True)[0]", {"N": NANS}, lambda N: N.nanmedian(dim=0, keepdim=True)[0]),
    ("torch.nanmedian(N[1])", {"N": NANS}, lambda N: torch.nanmedian(N[1])),
    ("torch.nanmedian(x)", {"x": x5}, lambda x: torch.nanmedian(x)),
    ("S[tuple(torch.triu_indices(3, 3, 1))]", {"S": S3}, lambda S: S[tuple(torch.triu_indices(3, 3, 1))]),
    ("S[list(torch.tril_indices(3, 3))] * 2", {"S": S3}, lambda S: S[tuple(torch.tril_indices(3, 3))] * 2),
    ("F.interpolate(X, size=7)", {"X": X1}, lambda X: F.interpolate(X, size=7)),
    ("F.interpolate(X, scale_factor=2.7, mode='nearest-exact')", {"X": X1},
     lambda X: F.interpolate(X, scale_factor=2.7, mode="nearest-exact")),
    ("F.interpolate(X, size=6, mode='linear')", {"X": X1}, lambda X: F.interpolate(X, size=6, mode="linear")),
    ("F.interpolate(X, scale_factor=1.5, mode='linear', align_corners=True)", {"X": X1},
     lambda X: F.interpolate(X, scale_factor=1.5, mode="linear", align_corners=True)),
    ("F.interpolate(X, size=(5, 3), mode='bilinear')", {"X": X2},
     lambda X: F.interpolate(X, size=(5, 3), mode="bilinear")),
    ("F.interpolate(X, size=(5, 3), mode='bilinear', align_corners=True)", {"X": X2},
     lambda X: F.interpolate(X, size=(5, 3), mode="bilinear", align_corners=True)),
    ("F.interpolate(X, scale_factor=(0.5, 1.5), mode='bilinear')", {"X": X2},
     lambda X: F.interpolate(X, scale_factor=(0.5, 1.5), mode="bilinear")),
    ("F.interpolate(X, scale_factor=2, mode='nearest')", {"X": X2},
     lambda X: F.interpolate(X, scale_factor=2, mode="nearest")),
    ("F.interpolate(X, size=(3, 4, 3), mode='trilinear')", {"X": X3},
     lambda X: F.interpolate(X, size=(3, 4, 3), mode="trilinear")),
    ("(F.interpolate(X, size=(5, 3), mode='bilinear') ** 2).sum()", {"X": X2},
     lambda X: (F.interpolate(X, size=(5, 3), mode="bilinear") ** 2).sum()),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{k}-{c[0]}" for k, c in enumerate(CASES)])
def test_calls_match_pytorch(case):
    expr, inputs, fn = case[:3]
    assert_parity(expr, inputs, fn, differs=case[3] if len(case) > 3 else ())


CENTRAL = [
    ("A.renorm(2, 0, 1.0)", {"A": A}),
    ("torch.special.entr(u)", {"u": u5}),
    ("torch.special.i1e(x) + torch.special.i0e(x) * np.i0(x)", {"x": BESSEL[1:]}),
    ("F.local_response_norm(L, 3)", {"L": L3}),
    ("torch.linalg.householder_product(M, t)", {"M": M43, "t": TAU}),
    ("np.linalg.tensorinv(Q.reshape(2, 3, 6))", {"Q": Q6}),
    ("np.linalg.tensorsolve(Q.reshape(2, 3, 2, 3), b)", {"Q": Q6, "b": B23}),
    ("np.unwrap(4 * x)", {"x": x5}),
    ("np.polyfit(x, y, 2)", {"x": np.linspace(-1, 1, 6) + 0.05 * x5[0], "y": rng.uniform(-1, 1, 6)}),
    ("np.polyfit(x, Y, 3, w=w)", {"x": np.linspace(-1, 1, 6), "Y": rng.uniform(-1, 1, (6, 2)),
                                  "w": rng.uniform(0.5, 1.0, 6)}),
    ("np.nanmedian(N, axis=1)", {"N": NANS}),
    ("np.histogram(x, 4)[1]", {"x": x5}),
    ("np.histogram(x, 3, weights=w, density=True)[0]", {"x": x5, "w": u5}),
    ("F.interpolate(X, size=(5, 3), mode='bilinear')", {"X": X2}),
]


@pytest.mark.parametrize("expr, inputs", CENTRAL, ids=[c[0] for c in CENTRAL])
def test_jacobians_equal_central_differences(expr, inputs):
    assert_central(expr, inputs)


def test_numpy_only_values_equal_numpy():
    w = np.array([0.0, 3.0, 6.5, 1.0, -4.0, np.pi, 2 * np.pi, 0.5, -np.pi, 7 * np.pi])
    for expr, want in (("np.unwrap(w)", np.unwrap(w)), ("np.unwrap(w, period=4)", np.unwrap(w, period=4)),
                       ("np.unwrap(w, discont=4.0)", np.unwrap(w, discont=4.0)),
                       ("np.unwrap(W, axis=0)", np.unwrap(w.reshape(5, 2), axis=0))):
        assert np.array_equal(api.evaluate(expr, {"w": w, "W": w.reshape(5, 2)}), want), expr
    assert np.array_equal(api.jacobian("np.unwrap(w)", {"w": w})["w"], np.eye(10))
    xs, ys = np.linspace(-1, 1, 7) ** 3, rng.uniform(-1, 1, 7)
    np.testing.assert_allclose(api.evaluate("np.polyfit(x, y, 3)", {"x": xs, "y": ys}), np.polyfit(xs, ys, 3),
                               rtol=1e-12, atol=1e-13)
    with np.errstate(invalid="ignore"), pytest.warns(RuntimeWarning):
        want = np.nanmedian(np.vstack([NANS, np.full(4, np.nan)]), axis=1)
    assert np.array_equal(api.evaluate("np.nanmedian(N, axis=1)", {"N": np.vstack([NANS, np.full(4, np.nan)])}),
                          want, equal_nan=True)
    assert api.evaluate("np.nanmedian(N)", {"N": NANS}) == np.nanmedian(NANS)
    edges = np.array([np.nan, -np.inf, np.inf, -1.0, 0.0, -0.0, 0.5, 1.0, 1.25, -3.0])
    for expr, want in (("np.i0(x)", np.i0(edges)), ("scipy.special.i1e(x)", None)):
        ours = api.evaluate(expr, {"x": edges})
        if want is not None:
            np.testing.assert_allclose(ours, want, rtol=2e-16, equal_nan=True)
    np.testing.assert_allclose(api.evaluate("np.linalg.tensorinv(Q.reshape(2, 3, 6))", {"Q": Q6}),
                               np.linalg.tensorinv(Q6.reshape(2, 3, 6)), rtol=1e-13)
    np.testing.assert_allclose(api.evaluate("np.linalg.tensorsolve(Q.reshape(2, 3, 6), b, axes=(2,))",
                                            {"Q": Q6, "b": B23}),
                               np.linalg.tensorsolve(Q6.reshape(2, 3, 6), B23, axes=(2,)), rtol=1e-13)
    v = x5[:4]
    for expr, want in (("np.piecewise(v, [v < 0, v >= 0], [-1, 1])", np.piecewise(v, [v < 0, v >= 0], [-1, 1])),
                       ("np.piecewise(v, [v < 0, v > 0.5], [-1, 1, 7])", np.piecewise(v, [v < 0, v > 0.5], [-1, 1, 7])),
                       ("np.piecewise(v, v < 0, [2.5])", np.piecewise(v, v < 0, [2.5]))):
        assert np.array_equal(api.evaluate(expr, {"v": v}), want), expr


HISTOGRAM_DATA = [rng.uniform(-1, 1, 20), np.array([1.0, 1.0, 1.0]), np.array([0.0, 1.0, 2.0, 3.0]),
                  rng.standard_normal((4, 5)), np.linspace(0, 1, 11), np.array([2.0]), np.zeros(0)]
HISTOGRAM_ARGS = ["", ", bins=7", ", bins=[0, 0.5, 1, 2]", ", range=(-0.5, 0.5)", ", 3, density=True",
                  ", range=(1, 1)"]


@pytest.mark.parametrize("args", HISTOGRAM_ARGS)
def test_histogram_is_numpy_s_bit_for_bit(args):
    for data in HISTOGRAM_DATA:
        kwargs = eval(f"dict(a=None{args.replace(', 3', ', bins=3')})")
        kwargs.pop("a")
        if not data.size and "density" in kwargs:
            continue
        with np.errstate(all="ignore"):
            counts, edges = np.histogram(data, **kwargs)
        assert np.array_equal(api.evaluate(f"np.histogram(x{args})[0]", {"x": data}), counts, equal_nan=True), data
        assert np.array_equal(api.evaluate(f"np.histogram(x{args})[1]", {"x": data}), edges), data


def test_histogram_counts_have_derivative_0_and_the_edges_follow_min_and_max():
    x = rng.uniform(-1, 1, 6)
    assert not api.jacobian("np.histogram(x, 4)[0]", {"x": x})["x"].any()
    edges = api.jacobian("np.histogram(x, 4)[1]", {"x": x})["x"]
    np.testing.assert_allclose(edges[:, x.argmin()], [1.0, 0.75, 0.5, 0.25, 0.0])
    np.testing.assert_allclose(edges[:, x.argmax()], [0.0, 0.25, 0.5, 0.75, 1.0])
    w = rng.uniform(0, 1, 6)
    assert np.array_equal(api.evaluate("np.histogram(x, 3, weights=w)[0]", {"x": x, "w": w}),
                          np.histogram(x, 3, weights=w)[0])


@pytest.mark.parametrize("data", [[1.0, np.nan], [np.nan, np.nan], [1.0, np.inf], [-np.inf, 0.0]])
def test_histogram_refuses_a_range_found_from_nan_or_inf_and_counts_with_a_given_one(data):
    x = np.array(data)
    with pytest.raises(ValueError, match="autodetected range"):
        np.histogram(x)
    for part in ("[0]", "[1]", "[0] * 2"):  # counts and edges: NumPy raises for the call
        with pytest.raises(JacValueError, match="autodetected range of .* is not finite"):
            api.evaluate(f"np.histogram(x){part}", {"x": x})
    with pytest.raises(JacValueError, match="autodetected range"):
        api.jacobian("np.histogram(x, 3)[1]", {"x": x})
    for args, kwargs in [(", 3, range=(-1, 2)", {"bins": 3, "range": (-1, 2)}), (", [0, 0.5, 2]", {"bins": [0, 0.5, 2]})]:
        with np.errstate(all="ignore"):
            counts, edges = np.histogram(x, **kwargs)
        assert np.array_equal(api.evaluate(f"np.histogram(x{args})[0]", {"x": x}), counts)
        assert np.array_equal(api.evaluate(f"np.histogram(x{args})[1]", {"x": x}), edges)


def test_edge_values_match_pytorch():
    edges = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -2.0])
    t = torch.tensor(edges)
    for name in ("i0", "i0e", "i1", "i1e", "entr"):
        ours = api.evaluate(f"torch.special.{name}(x)", {"x": edges})
        theirs = getattr(torch.special, name)(t).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=2e-16, equal_nan=True, err_msg=name)
        number = ~np.isnan(theirs)
        assert np.array_equal(np.signbit(ours[number]), np.signbit(theirs[number])), name  # entr(1) = -0
    # entr: -inf for x < 0 (and at -inf), whose derivative is NaN there, as PyTorch's
    t = torch.tensor(edges, requires_grad=True)
    g, = torch.autograd.grad(torch.special.entr(t).sum(), t)
    assert np.isnan(g.numpy()[[3, 4, 6]]).all()
    for mode in ("forward", "reverse"):
        for _ in range(3):  # the interpreter, then the compiled kernel
            d = np.diagonal(api.jacobian("torch.special.entr(x)", {"x": edges}, mode=mode)["x"])
            np.testing.assert_array_equal(d, g.numpy())
    np.testing.assert_array_equal(api.vjp("torch.special.entr(x)", {"x": edges}, v=np.ones(7))["x"], g.numpy())
    np.testing.assert_array_equal(api.jvp("torch.special.entr(x)", {"x": edges}, tangents={"x": np.ones(7)}),
                                  g.numpy())
    for name in ("i0", "i1", "i0e", "i1e"):
        d = np.diagonal(api.jacobian(f"torch.special.{name}(x)", {"x": edges[[0, 1, 5, 6]]})["x"])
        t = torch.tensor(edges[[0, 1, 5, 6]], requires_grad=True)
        g, = torch.autograd.grad(getattr(torch.special, name)(t).sum(), t)
        np.testing.assert_allclose(d, g.numpy(), rtol=1e-15, err_msg=name)


def test_float32_keeps_its_type_and_pytorch_s_values():
    for expr, inputs, fn, tol in (
            ("torch.special.i0(x) + torch.special.i1e(x)", {"x": BESSEL},
             lambda x: torch.special.i0(x) + torch.special.i1e(x), 1e-6),
            ("torch.special.entr(u)", {"u": u5}, lambda u: torch.special.entr(u), 1e-6),
            ("F.interpolate(X, size=(5, 3), mode='bilinear')", {"X": X2},
             lambda X: F.interpolate(X, size=(5, 3), mode="bilinear"), 1e-6),
            ("F.interpolate(X, scale_factor=2.7, mode='nearest')", {"X": X1},
             lambda X: F.interpolate(X, scale_factor=2.7, mode="nearest"), 0),
            ("A.renorm(2, 0, 1.0)", {"A": A}, lambda A: A.renorm(2, 0, 1.0), 1e-6)):
        single = {k: v.astype(np.float32) for k, v in inputs.items()}
        ours = api.evaluate(expr, single, dtype="float32")
        assert ours.dtype == np.float32, expr
        theirs = fn(**{k: torch.tensor(v) for k, v in single.items()}).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol, err_msg=expr)
        assert api.jacobian(expr, single, dtype="float32")[list(inputs)[0]].dtype == np.float32


def test_interpolate_matches_pytorch_over_sizes_scales_and_corners():
    for shape, modes in (((1, 2, 3), ("nearest", "nearest-exact", "linear")), ((1, 1, 4, 1), ("nearest", "bilinear"))):
        x = rng.uniform(-1, 1, shape)
        nd = len(shape) - 2
        for mode in modes:
            for align in ((None,) if "nearest" in mode else (False, True)):
                for opt in ({"size": (1,) * nd}, {"size": (5,) * nd}, {"size": (8,) * nd}, {"scale_factor": 0.5},
                            {"scale_factor": 2.7}, {"scale_factor": 1.5, "recompute_scale_factor": True}):
                    kw = dict(opt, mode=mode, **({} if align is None else {"align_corners": align}))
                    text = ", ".join(f"{k}={v!r}" for k, v in kw.items())
                    expr = f"F.interpolate(x, {text})"
                    try:
                        theirs = F.interpolate(torch.tensor(x), **kw).numpy()
                    except RuntimeError:  # an empty output: refused by both
                        with pytest.raises(JacError, match="empty output"):
                            api.evaluate(expr, {"x": x})
                        continue
                    np.testing.assert_allclose(api.evaluate(expr, {"x": x}), theirs, rtol=1e-15, atol=1e-16,
                                               err_msg=expr)


def test_empty_and_0_d_inputs_where_pytorch_takes_them():
    np.testing.assert_allclose(api.evaluate("torch.special.i0(s)", {"s": np.array(0.5)}),
                               torch.special.i0(torch.tensor(0.5, dtype=torch.float64)).item(), rtol=4e-16)
    assert api.evaluate("torch.nanmedian(s)", {"s": np.array(3.0)}) == 3.0
    assert api.evaluate("torch.special.entr(x)", {"x": np.zeros(0)}).shape == (0,)
    out = api.evaluate("F.interpolate(X, size=4)", {"X": np.zeros((0, 2, 3))})
    assert out.shape == F.interpolate(torch.zeros(0, 2, 3), size=4).shape
    assert api.evaluate("F.pixel_shuffle(T, 1)", {"T": T4}).shape == T4.shape
    assert api.evaluate("torch.linalg.householder_product(M, t[:0])", {"M": M43, "t": TAU}).tolist() == \
        np.eye(4, 3).tolist()
    assert api.evaluate("np.unwrap(x[:1])", {"x": x5}).tolist() == x5[:1].tolist()


VALUES = {"x": x5, "A": A, "T": T8, "L": L3, "M": M43, "t": TAU, "Q": Q6, "S": S3, "X": X1, "s": np.array(0.5)}
REFUSED = [
    ("torch.renorm(x, 2, 0, 1.0)", "at least 2 dimensions"),
    ("torch.renorm(A, 0, 0, 1.0)", "p must be positive"),
    ("torch.renorm(A, 2, 0, -1.0)", "maxnorm must be >= 0"),
    ("F.interpolate(X, size=4, mode='bicubic')", "mode 'bicubic' needs a 4-d input"),  # bicubic: H and W
    ("F.interpolate(X, size=4, mode='lanczos')", "'lanczos' is not supported"),
    ("F.interpolate(X, size=4, align_corners=True)", "align_corners can only be set"),
    ("F.interpolate(X, size=4, scale_factor=2)", "exactly one"),
    ("F.interpolate(X)", "exactly one"),
    ("F.interpolate(X, size=4, mode='bilinear')", "needs a 4-d input"),
    ("F.interpolate(X, size=4, mode='linear', antialias=True)", "antialias"),
    ("F.interpolate(X, scale_factor=0.1)", "empty output"),
    ("F.pixel_shuffle(T, 3)", "multiple of upscale_factor"),
    ("F.pixel_shuffle(T, 0)", "upscale_factor must be >= 1"),
    ("F.pixel_unshuffle(T, 2)", "multiples of downscale_factor"),
    ("F.local_response_norm(A, 2)", "at least 3 dimensions"),
    ("F.local_response_norm(L, 0)", "size must be >= 1"),
    ("torch.linalg.householder_product(M.T, t)", "m >= n >= k"),
    ("torch.linalg.householder_product(M, A)", "tau"),
    ("np.linalg.tensorinv(Q.reshape(4, 9))", "not square"),
    ("np.linalg.tensorsolve(Q.reshape(2, 3, 6), x)", "prod"),
    ("np.polyfit(x, x, -1)", "deg must be >= 0"),
    ("np.polyfit(x, x, 1, full=True)", "full=True"),
    ("np.polyfit(x, x, 1, cov=True)", "cov=True"),
    ("np.polyfit(x[:2], x[:2], 1) + np.polyfit(x * 0 + 1, x, 1)", "not unique"),
    ("np.polyfit(A, x, 1)", "non-empty vector"),
    ("np.histogram(x, 0)", "positive integer"),
    ("np.histogram(x, [1, 0, 2])", "increasing"),
    ("np.histogram(x, range=(1, 0))", "max must be larger than min"),
    ("np.histogram(x, 'auto')", "positive integer or a list"),
    ("np.histogram(x, weights=A)", "weights must have the shape"),
    # np.piecewise with functions is read since session 33 (tests/test_piecewise33.py)
    ("np.piecewise(x, [x < 0], [x])", "a function or a number"),
    ("np.piecewise(x, [x < 0], [1, 2, 3])", "either 1 or 2 functions"),
    ("np.piecewise(x, [x[:1]], [1])", "x's shape"),
    ("tuple(s)", "0-d array"),
    ("nanmedian(x)", "ambiguous.*torch.nanmedian.*np.nanmedian"),
    ("np.unwrap(s)", "at least 1 dimension"),
    # read since session 39 (PyTorch's values), every derivative refused as PyTorch's backward raises
    ("torch.histogram(x)", "derivative for aten::histogram is not implemented.*np.histogram"),
    ("x.histogram()", "derivative for aten::histogram is not implemented"),
]


@pytest.mark.parametrize("expr, words", REFUSED, ids=[c[0] for c in REFUSED])
def test_bad_arguments_are_refused_naming_what_is_wrong(expr, words):
    with pytest.raises(JacError, match=words):
        api.jacobian(expr, {k: v for k, v in VALUES.items() if k in expr})


def test_gather_and_take_along_read_indices_bound_as_inputs():
    """Integer indices bound as an input are read at their values, as PyTorch indexes with a long tensor (paste15;
    they were refused): the elements picked, the derivative to them, none to the indices."""
    from jacobi_cli.errors import JacValueError
    x, i = torch.tensor([3.0, 1.0, 2.0], dtype=torch.float64), torch.tensor([2, 0, 0])
    for expr, theirs in (("torch.gather(x, 0, i)", torch.gather(x, 0, i)),
                         ("np.take_along_axis(x, i, axis=0)", torch.take_along_dim(x, i, 0)),
                         ("torch.index_select(x, 0, i)", torch.index_select(x, 0, i))):
        got = api.jacobian(expr, {"x": x.numpy(), "i": [2, 0, 0]})
        assert np.array_equal(api.evaluate(expr, {"x": x.numpy(), "i": [2, 0, 0]}), theirs.numpy())
        assert np.array_equal(got["x"], np.eye(3)[[2, 0, 0]]) and not got["i"].any()
        with pytest.raises(JacValueError, match="must hold integers"):
            api.jacobian(expr, {"x": x.numpy(), "i": [2, 0.5, 0]})
