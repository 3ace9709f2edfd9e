"""Parity with PyTorch 2.13 (and SciPy) for mvlgamma / multigammaln and combinations (see tests/parity.py)."""

import numpy as np
import pytest

from parity import assert_parity, central
from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

torch = pytest.importorskip("torch")
X = np.array([[1.6, 2.5, 3.25], [7.0, 1.75, 10.5]])
V = np.array([0.5, -1.0, 2.0, 3.5])

CASES = [
    ("torch.mvlgamma(x, 1)", {"x": X}, lambda x: torch.mvlgamma(x, 1)),
    ("torch.mvlgamma(x, p=3)", {"x": X}, lambda x: torch.mvlgamma(x, p=3)),
    ("torch.special.multigammaln(x, 2)", {"x": X}, lambda x: torch.special.multigammaln(x, 2)),
    ("x.mvlgamma(2).sum()", {"x": X}, lambda x: x.mvlgamma(2).sum()),
    ("torch.combinations(v)", {"v": V}, lambda v: torch.combinations(v)),
    ("torch.combinations(v, r=3)", {"v": V}, lambda v: torch.combinations(v, r=3)),
    ("torch.combinations(v, 2, with_replacement=True)", {"v": V},
     lambda v: torch.combinations(v, 2, with_replacement=True)),
    ("torch.combinations(v, r=1)", {"v": V}, lambda v: torch.combinations(v, r=1)),
    ("torch.combinations(v, 2).prod(1).sum()", {"v": V}, lambda v: torch.combinations(v, 2).prod(1).sum()),
]


@pytest.mark.parametrize("expr,inputs,fn", CASES, ids=[c[0] for c in CASES])
def test_specials_match_pytorch(expr, inputs, fn):
    assert_parity(expr, inputs, fn)


def test_scipy_multigammaln_and_its_derivative():
    from scipy import special

    x = np.array([2.25, 3.5, 6.0])
    np.testing.assert_allclose(api.evaluate("scipy.special.multigammaln(x, 3)", {"x": x}),
                               special.multigammaln(x, 3), rtol=1e-14)
    np.testing.assert_allclose(api.evaluate("scipy.special.multigammaln(x, d=3)", {"x": x}),
                               special.multigammaln(x, 3), rtol=1e-14)
    np.testing.assert_allclose(api.jacobian("scipy.special.multigammaln(x, 3)", {"x": x})["x"],
                               central(lambda v: special.multigammaln(v, 3), x), rtol=1e-7)


@pytest.mark.parametrize("expr,words", [
    ("scipy.special.multigammaln(x, 5)", "greater than (p-1)/2 = 2, got 1.6"),
    ("torch.mvlgamma(x, 0)", "greater than or equal to 1"),
    ("torch.combinations(x)", "1-d"),
])
def test_specials_refuse_what_pytorch_refuses(expr, words):
    with pytest.raises(JacError) as err:
        api.evaluate(expr, {"x": X})
    assert words in err.value.message


def test_combinations_with_no_rows_are_pytorchs_empty_shapes():
    for r, n, shape in ((0, 4, (0,)), (5, 4, (0, 5)), (2, 0, (0, 2))):
        ours = api.evaluate(f"torch.combinations(v, r={r})", {"v": V[:n]})
        assert ours.shape == tuple(torch.combinations(torch.tensor(V[:n]), r=r).shape) == shape


# igamma / igammac (gammainc / gammaincc), zeta, nextafter: values as PyTorch's; the derivatives PyTorch has
# (by x, by q) as PyTorch's, and those it lacks refused, never a silently wrong number
A = np.array([[0.5, 1.0, 2.5], [4.0, 0.75, 10.0]])
XG = np.array([[0.3, 1.0, 2.0], [5.0, 0.1, 12.0]])
ZX, ZQ = np.array([1.5, 2.0, 3.25, 6.0]), np.array([0.5, 1.0, 2.5, 10.0])
SPECIAL_CASES = [
    ("torch.igamma(a, x)", {"x": XG}, lambda x: torch.igamma(torch.tensor(A), x)),
    ("torch.igammac(a, x)", {"x": XG}, lambda x: torch.igammac(torch.tensor(A), x)),
    ("torch.special.gammainc(a, x)", {"x": XG}, lambda x: torch.special.gammainc(torch.tensor(A), x)),
    ("torch.special.gammaincc(a, x).sum()", {"x": XG}, lambda x: torch.special.gammaincc(torch.tensor(A), x).sum()),
    ("torch.special.gammainc(2.5, x).sum()", {"x": XG}, lambda x: torch.special.gammainc(torch.tensor(2.5), x).sum()),
    ("torch.special.zeta(s, q)", {"q": ZQ}, lambda q: torch.special.zeta(torch.tensor(ZX), q)),
    ("torch.special.zeta(3.0, q).sum()", {"q": ZQ}, lambda q: torch.special.zeta(torch.tensor(3.0), q).sum()),
]


@pytest.mark.parametrize("expr,inputs,fn", SPECIAL_CASES, ids=[c[0] for c in SPECIAL_CASES])
def test_incomplete_gamma_and_zeta_match_pytorch(expr, inputs, fn):
    inputs = dict(inputs)
    consts = {"a": A, "s": ZX}
    for name, value in consts.items():  # the refused argument as a constant written into the expression
        expr = expr.replace(f"({name},", f"(torch.tensor({value.tolist()}),")
    assert_parity(expr, inputs, fn)


def test_special_values_as_pytorch():
    nan, inf = np.nan, np.inf
    a = np.array([nan, nan, inf, 0.0, 0.0, -1.0, inf, 2.0, 1e-3])
    x = np.array([0.0, inf, nan, 1.0, 0.0, 1.0, inf, -1.0, 0.5])
    for fname in ("igamma", "igammac"):
        theirs = getattr(torch, fname)(torch.tensor(a), torch.tensor(x)).numpy()
        np.testing.assert_allclose(api.evaluate(f"torch.{fname}(a, x)", {"a": a, "x": x}), theirs, rtol=1e-12,
                                   equal_nan=True)
    s, q = np.array([0.5, 1.0, 2.0, 2.0, 3.0, inf]), np.array([1.0, 2.0, -1.0, -1.5, 0.0, 2.0])
    np.testing.assert_allclose(api.evaluate("torch.special.zeta(s, q)", {"s": s, "q": q}),
                               torch.special.zeta(torch.tensor(s), torch.tensor(q)).numpy(), equal_nan=True)
    u, v = np.array([1.0, 0.0, -0.0, 1e308, inf, nan]), np.array([2.0, -1.0, 1.0, inf, 0.0, 1.0])
    ours = api.evaluate("torch.nextafter(u, v)", {"u": u, "v": v})
    assert np.array_equal(ours.view(np.int64)[:5], torch.nextafter(torch.tensor(u), torch.tensor(v)).numpy()
                          .view(np.int64)[:5]) and np.isnan(ours[5])
    np.testing.assert_array_equal(api.evaluate("np.nextafter(u, v)", {"u": u, "v": v}), np.nextafter(u, v))
    from scipy import special

    np.testing.assert_allclose(api.evaluate("scipy.special.gammainc(a, x)", {"a": A, "x": XG}),
                               special.gammainc(A, XG), rtol=1e-14)


@pytest.mark.parametrize("expr,words", [
    ("torch.igamma(a, x)", "derivative of igamma(a, x) by a is not supported"),
    ("torch.special.gammaincc(a, x)", "derivative of igammac(a, x) by a is not supported"),
])
def test_derivatives_pytorch_lacks_are_refused(expr, words):
    inputs = {"a": A + 1.0, "x": XG}
    api.evaluate(expr, inputs)  # the value is fine
    with pytest.raises(JacError) as err:
        api.jacobian(expr, inputs)
    assert words in err.value.message
    with pytest.raises(JacError):
        api.vjp(expr, inputs, v=np.ones((2, 3)))


def test_a_refused_argument_outside_wrt_leaves_the_others_differentiable():
    ours = api.jacobian("torch.igamma(a, x)", {"a": A, "x": XG}, wrt=["x"])["x"]
    theirs = torch.autograd.functional.jacobian(lambda x: torch.igamma(torch.tensor(A), x), torch.tensor(XG))
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10)
