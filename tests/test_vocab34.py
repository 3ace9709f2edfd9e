"""Session 34c: names realistic pasted code uses that jac refused (benchmarks/snippets34_probe.py), read as their
library computes them (lang/names34.py): scipy.spatial.distance's pdist / cdist / squareform, NumPy's
sliding_window_view (read-only, as NumPy's view), numpy.polynomial's Gauss rules and polyval, and np.trapz refused as
NumPy 2.4 has no such name. Values against SciPy / NumPy themselves, derivatives against central differences and
PyTorch's autograd (importorskip)."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError, JacNameError, JacValueError
from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian

rng = np.random.default_rng(340)
X = rng.standard_normal((5, 3))
XB = rng.standard_normal((4, 3))
V = rng.standard_normal(7)
D = "scipy.spatial.distance"
METRICS = [("euclidean", {}), ("sqeuclidean", {}), ("cityblock", {}), ("chebyshev", {}), ("cosine", {}),
           ("minkowski", {"p": 3}), ("minkowski", {"p": 1.5}), ("minkowski", {}), ("eu", {}), ("cos", {})]


def numeric(text, env, name):
    return central_jacobian(lambda v: np.asarray(api.evaluate(text, {**env, name: v})), env[name])


def _kw(kw):
    return "".join(f", {k}={v!r}" for k, v in kw.items())


@pytest.mark.parametrize("metric, kw", METRICS)
def test_pdist_and_cdist_are_scipys(metric, kw):
    sd = pytest.importorskip("scipy.spatial.distance")
    text = f"{D}.pdist(X, {metric!r}{_kw(kw)})"
    assert np.allclose(api.evaluate(text, {"X": X}), sd.pdist(X, metric, **kw), rtol=1e-12, atol=1e-14)
    assert np.allclose(api.jacobian(text, {"X": X})["X"], numeric(text, {"X": X}, "X"), atol=1e-6)
    text = f"{D}.cdist(A, B, metric={metric!r}{_kw(kw)})"
    env = {"A": X, "B": XB}
    assert np.allclose(api.evaluate(text, env), sd.cdist(X, XB, metric, **kw), rtol=1e-12, atol=1e-14)
    J = api.jacobian(text, env)
    for name in env:
        assert np.allclose(J[name], numeric(text, env, name), atol=1e-6)


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0, float("inf")])
def test_pdist_derivative_is_torchs(p):
    torch = pytest.importorskip("torch")
    metric = {1.0: "'cityblock'", 2.0: "'euclidean'", float("inf"): "'chebyshev'"}.get(p, f"'minkowski', p={p}")
    t = torch.tensor(X, requires_grad=True)
    w = rng.standard_normal(10)
    (torch.nn.functional.pdist(t, p=p) * torch.tensor(w)).sum().backward()
    got = api.jacobian(f"({D}.pdist(X, {metric}) * w).sum()", {"X": X, "w": w})["X"]
    assert np.allclose(got, t.grad.numpy(), atol=1e-12)


def test_cosine_derivative_is_autograds():
    torch = pytest.importorskip("torch")
    a, c = torch.tensor(X, requires_grad=True), torch.tensor(XB, requires_grad=True)
    cos = (a[:, None, :] * c[None]).sum(-1) / torch.sqrt((a * a).sum(-1)[:, None] * (c * c).sum(-1)[None])
    w = rng.standard_normal((5, 4))
    ((1 - cos) * torch.tensor(w)).sum().backward()
    got = api.jacobian(f"({D}.cdist(A, B, 'cosine') * w).sum()", {"A": X, "B": XB, "w": w})
    assert np.allclose(got["A"], a.grad.numpy(), atol=1e-12) and np.allclose(got["B"], c.grad.numpy(), atol=1e-12)


def test_euclidean_at_coincident_points_is_torch_cdists():
    """Distance 0 (two equal rows): the derivative there is jac's torch.cdist's, PyTorch's 0, not a number made up."""
    torch = pytest.importorskip("torch")
    Y = X.copy()
    Y[3] = Y[1]
    w = rng.standard_normal(10)
    ours = api.jacobian(f"({D}.pdist(X) * w).sum()", {"X": Y, "w": w})["X"]
    t = torch.tensor(Y, requires_grad=True)
    (torch.nn.functional.pdist(t) * torch.tensor(w)).sum().backward()
    assert np.allclose(ours, t.grad.numpy(), atol=1e-12)
    i, j = np.triu_indices(5, 1)
    W = np.zeros((5, 5))
    W[i, j] = w
    cd = api.jacobian("(torch.cdist(X, X) * W).sum()", {"X": Y, "W": W})["X"]
    assert np.allclose(ours, cd, atol=1e-12) and np.all(np.isfinite(ours))


def test_squareform_both_ways_is_scipys():
    sd = pytest.importorskip("scipy.spatial.distance")
    v = rng.standard_normal(10)
    assert np.array_equal(api.evaluate(f"{D}.squareform(v)", {"v": v}), sd.squareform(v))
    assert np.array_equal(api.evaluate(f"{D}.squareform(v, force='tomatrix', checks=False)", {"v": v}),
                          sd.squareform(v))
    M = sd.squareform(v)
    assert np.array_equal(api.evaluate(f"{D}.squareform(M)", {"M": M}), sd.squareform(M))
    J = api.jacobian(f"{D}.squareform(v)", {"v": v})["v"]
    assert np.allclose(J, numeric(f"{D}.squareform(v)", {"v": v}, "v"), atol=1e-8)
    A = rng.standard_normal((4, 4))  # not symmetric: checks=False takes the upper triangle, as SciPy
    assert np.array_equal(api.evaluate(f"{D}.squareform(A, checks=False)", {"A": A}), sd.squareform(A, checks=False))
    text = f"from scipy.spatial.distance import pdist, squareform\nsquareform(pdist(X, 'sqeuclidean'))"
    assert np.allclose(api.evaluate(text, {"X": X}), sd.squareform(sd.pdist(X, "sqeuclidean")), rtol=1e-12)
    assert api.evaluate(f"{D}.squareform(np.zeros(0))", {}).shape == (1, 1)
    assert api.evaluate(f"{D}.squareform(np.zeros((1, 1)))", {}).shape == (0,)


def test_squareform_checks_a_matrix_as_scipy():
    A = rng.standard_normal((4, 4))
    with pytest.raises(JacValueError, match="symmetric"):
        api.evaluate(f"{D}.squareform(A)", {"A": A})
    S = A + A.T
    with pytest.raises(JacValueError, match="diagonal"):
        api.evaluate(f"{D}.squareform(S)", {"S": S})
    Z = S - np.diag(np.diag(S))  # valid: read at the given values
    i, j = np.triu_indices(4, 1)
    assert np.array_equal(api.evaluate(f"{D}.squareform(Z)", {"Z": Z}), Z[i, j])
    assert np.array_equal(api.evaluate(f"{D}.squareform({D}.cdist(X, X))", {"X": X}),
                          api.evaluate(f"{D}.pdist(X)", {"X": X}))


@pytest.mark.parametrize("text", [
    f"{D}.pdist(X, 'mahalanobis')", f"{D}.pdist(X, 'nosuch')", f"{D}.pdist(X, 'euclidean', p=3)",
    f"{D}.pdist(X, 'minkowski', p=0)", f"{D}.pdist(X, w=np.ones(3))", f"{D}.pdist(X[0])",
    f"{D}.cdist(X, X[:, :2])", f"{D}.squareform(np.ones(4))", f"{D}.squareform(X)",
])
def test_distance_refusals(text):
    with pytest.raises(JacError):
        api.evaluate(text, {"X": X})


WINDOWS = [((5,), 3, None), ((4, 6), (2, 3), None), ((4, 6), 3, 1), ((4, 6), 2, 0), ((3, 4, 5), (2, 2), (0, 2)),
           ((6,), (2, 3), (0, 0))]


@pytest.mark.parametrize("shape, window, axis", WINDOWS)
def test_sliding_window_view_is_numpys(shape, window, axis):
    x = rng.standard_normal(shape)
    want = np.lib.stride_tricks.sliding_window_view(x, window, axis=axis)
    for spelling in ("np.lib.stride_tricks.sliding_window_view", "numpy.lib.stride_tricks.sliding_window_view"):
        text = f"{spelling}(x, {window!r}, axis={axis!r})"
        assert np.array_equal(api.evaluate(text, {"x": x}), want)
    text = f"from numpy.lib.stride_tricks import sliding_window_view\n(sliding_window_view(x, {window!r}, " \
           f"axis={axis!r}) ** 2).sum()"
    assert np.isclose(api.evaluate(text, {"x": x}), (want ** 2).sum())
    assert np.allclose(api.jacobian(text, {"x": x})["x"], numeric(text, {"x": x}, "x"), atol=1e-6)


def test_sliding_window_view_matches_torch_unfold():
    x = rng.standard_normal(7)
    assert np.array_equal(api.evaluate("np.lib.stride_tricks.sliding_window_view(x, 3)", {"x": x}),
                          api.evaluate("torch.tensor(x).unfold(0, 3, 1)", {"x": x}))


@pytest.mark.parametrize("text", [
    "w = np.lib.stride_tricks.sliding_window_view(x * 2, 3)\nw[0, 0] = 1.0\nw.sum()",
    "w = np.lib.stride_tricks.sliding_window_view(x * 2, 3)\nv = w[1]\nv += 1.0\nw.sum()",
    "w = np.lib.stride_tricks.sliding_window_view(x * 2, 3)\nu = w.T\nu[0] = 0.0\nw.sum()",
])
def test_a_write_into_sliding_window_view_is_refused_as_numpy(text):
    with pytest.raises(JacValueError, match="read-only"):
        api.evaluate(text, {"x": V})


def test_a_copy_of_the_windows_is_written():
    text = "w = np.lib.stride_tricks.sliding_window_view(x * 2, 3).copy()\nw[0, 0] = 1.0\nw"
    want = np.lib.stride_tricks.sliding_window_view(V * 2, 3).copy()
    want[0, 0] = 1.0
    assert np.array_equal(api.evaluate(text, {"x": V}), want)


def test_sliding_window_view_refusals():
    for text in ("np.lib.stride_tricks.sliding_window_view(x, 8)", "np.lib.stride_tricks.sliding_window_view(x, 2, 1)",
                 "np.lib.stride_tricks.sliding_window_view(x, 2, writeable=True)"):
        with pytest.raises(JacError):
            api.evaluate(text, {"x": V})


@pytest.mark.parametrize("module, name", [("legendre", "leggauss"), ("hermite", "hermgauss"),
                                          ("laguerre", "laggauss"), ("hermite_e", "hermegauss"),
                                          ("chebyshev", "chebgauss")])
def test_gauss_rules_are_numpys_own(module, name):
    want = getattr(getattr(np.polynomial, module), name)(8)
    for k in (0, 1):
        assert np.array_equal(api.evaluate(f"np.polynomial.{module}.{name}(8)[{k}]", {}), want[k])
    text = f"import numpy.polynomial.{module} as P\nP.{name}(8)[1].sum()"
    assert api.evaluate(text, {}) == want[1].sum()


def test_gauss_legendre_quadrature_of_an_input():
    """The brief's snippet: ∫_a^b sin(c t) dt by 8 nodes, and its derivative by c."""
    text = ("nodes, w = np.polynomial.legendre.leggauss(8)\na, b = 0.0, 2.0\n"
            "(b - a) / 2 * (w * np.sin(c * (a + (b - a) * (nodes + 1) / 2))).sum()")
    c = np.array(1.3)
    assert np.isclose(api.evaluate(text, {"c": c}), (1 - np.cos(2 * 1.3)) / 1.3, rtol=1e-12)
    assert np.isclose(api.jacobian(text, {"c": c})["c"], numeric(text, {"c": c}, "c"), atol=1e-8)
    with pytest.raises(JacError):
        api.evaluate("np.polynomial.legendre.leggauss(0)", {})


def test_polynomial_polyval_is_numpys():
    x = rng.standard_normal(6)
    c = rng.standard_normal(4)
    C = rng.standard_normal((4, 2))
    P = np.polynomial.polynomial
    assert np.allclose(api.evaluate("np.polynomial.polynomial.polyval(x, c)", {"x": x, "c": c}), P.polyval(x, c),
                       rtol=1e-14)
    assert np.allclose(api.evaluate("np.polynomial.polynomial.polyval(x, C)", {"x": x, "C": C}), P.polyval(x, C),
                       rtol=1e-14)
    assert np.allclose(api.evaluate("np.polynomial.polynomial.polyval(x, C, tensor=False)",
                                    {"x": x[:2], "C": C}), P.polyval(x[:2], C, tensor=False), rtol=1e-14)
    text = "np.polynomial.polynomial.polyval(x, c)"
    J = api.jacobian(text, {"x": x, "c": c})
    for name in ("x", "c"):
        assert np.allclose(J[name], numeric(text, {"x": x, "c": c}, name), atol=1e-6)
    assert np.allclose(api.evaluate(text, {"x": x, "c": c}), np.polyval(c[::-1], x), rtol=1e-13)


@pytest.mark.parametrize("text", ["p = np.polynomial.Polynomial([1.0, 2.0])\np(y)", "np.polynomial.polyval(y, [1.0])",
                                  "np.polynomial.legendre.legval(y, [1.0])", "np.lib.stride_tricks.as_strided(y)"])
def test_other_polynomial_and_stride_names_refused(text):
    with pytest.raises(JacError):
        api.evaluate(text, {"y": V})


@pytest.mark.parametrize("text", ["np.trapz(y)", "numpy.trapz(y, dx=0.5)", "jnp.trapz(y)"])
def test_np_trapz_is_refused_as_numpy_2_4(text):
    with pytest.raises(JacNameError, match="trapezoid"):
        api.evaluate(text, {"y": V})
    assert api.evaluate(text.replace("trapz", "trapezoid"), {"y": V}) is not None


def test_torch_trapz_stays():
    assert np.isclose(api.evaluate("torch.trapz(y)", {"y": V}), np.trapezoid(V))
