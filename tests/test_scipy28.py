"""Session 28: more of scipy.special (lang/scipynames.py; the gamma family's ops in ir/ops.py), each value against
SciPy itself on a grid of ordinary and special arguments (poles, ±0, ±inf, NaN, overflow), each Jacobian against
central differences of jac's own value where the function is smooth."""

import numpy as np
import pytest
from scipy import special

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian

X = np.array([-np.inf, -3.0, -2.5, -1.0, -0.5, -0.0, 0.0, 1e-300, 1e-8, 0.5, 1.0, 2.0, 5.0, 10.5, 100.0, 171.0,
              171.7, 200.0, np.inf, np.nan])
Y = np.array([-2.0, -1.0, -0.5, 0.0, 0.3, 1.0, 2.0, 3.5, 10.0, 1e3, np.nan])
A, B = (g.ravel() for g in np.meshgrid(X, Y))
UNARY = ["gamma", "rgamma", "gammasgn", "loggamma", "factorial", "exp10", "cosm1", "exprel", "erfcinv"]
BINARY = ["beta", "betaln", "binom", "comb", "perm", "poch", "powm1", "boxcox", "boxcox1p", "inv_boxcox",
          "inv_boxcox1p"]
EXACT = {"gamma", "rgamma", "gammasgn", "loggamma", "factorial", "erfcinv", "beta", "betaln", "binom", "comb", "perm",
         "poch"}  # SciPy's own values, bit for bit; the others are SciPy's formulas, to rounding


def _agree(ours, theirs, exact):
    ours, theirs = np.asarray(ours), np.asarray(theirs, dtype=float)
    assert np.array_equal(np.isnan(ours), np.isnan(theirs))
    if exact:
        np.testing.assert_array_equal(ours, theirs)
    else:
        np.testing.assert_allclose(ours, theirs, rtol=1e-14, atol=0)


@pytest.mark.parametrize("name", UNARY)
def test_each_unary_function_is_scipys_on_ordinary_and_special_arguments(name):
    with np.errstate(all="ignore"):
        theirs = getattr(special, name)(X)
    _agree(api.evaluate(f"scipy.special.{name}(x)", {"x": X}), theirs, name in EXACT)


@pytest.mark.parametrize("name", BINARY + ["comb_repetition", "radian"])
def test_each_binary_function_is_scipys_on_ordinary_and_special_arguments(name):
    text = {"comb_repetition": "scipy.special.comb(a, b, repetition=True)",
            "radian": "scipy.special.radian(a, b, b)"}.get(name, f"scipy.special.{name}(a, b)")
    with np.errstate(all="ignore"):
        theirs = special.comb(A, B, repetition=True) if name == "comb_repetition" else \
            special.radian(A, B, B) if name == "radian" else getattr(special, name)(A, B)
    ours = api.evaluate(text, {"a": A, "b": B})
    if name == "powm1":  # SciPy 1.17 gives 0 where x**y overflows for 0 < x < 1 (1e-300 ** -2): jac's inf
        overflow = (A > 0) & (A < 1) & (B * np.log(np.where(A > 0, A, 1.0)) > 709.8)
        assert np.all(ours[overflow] == np.inf)
        ours, theirs = ours[~overflow], theirs[~overflow]
    _agree(ours, theirs, name in EXACT or name == "comb_repetition")


SMOOTH = [  # (text, bindings): interior points, away from poles and branch switches
    ("scipy.special.gamma(x)", {"x": [-2.5, -0.5, 0.3, 1.0, 4.5]}),
    ("scipy.special.rgamma(x)", {"x": [-2.5, -0.5, 0.3, 1.0, 4.5]}),
    ("scipy.special.loggamma(x)", {"x": [0.3, 1.0, 4.5]}),
    ("scipy.special.factorial(x)", {"x": [0.3, 1.0, 4.5]}),
    ("scipy.special.gammasgn(x) * x", {"x": [-2.5, -0.5, 0.3]}),
    ("scipy.special.beta(a, b)", {"a": [0.3, 2.0, -0.5], "b": [1.5, 3.0, 2.2]}),
    ("scipy.special.betaln(a, b)", {"a": [0.3, 2.0, 9.0], "b": [1.5, 3.0, 12.0]}),
    ("scipy.special.binom(n, k)", {"n": [5.5, 7.0, 3.2], "k": [2.5, 3.0, 1.1]}),
    ("scipy.special.comb(n, k)", {"n": [5.5, 7.0, 3.2], "k": [2.5, 3.0, 1.1]}),
    ("scipy.special.comb(n, k, repetition=True)", {"n": [5.5, 7.0, 3.2], "k": [2.5, 3.0, 1.1]}),
    ("scipy.special.perm(n, k)", {"n": [5.5, 7.0, 3.2], "k": [2.5, 3.0, 1.1]}),
    ("scipy.special.poch(z, m)", {"z": [0.5, 2.0, -1.5], "m": [1.5, 3.0, 0.7]}),
    ("scipy.special.exp10(x)", {"x": [-1.5, 0.0, 0.7]}),
    ("scipy.special.cosm1(x)", {"x": [-1.5, 1e-3, 0.7, 3.0]}),
    ("scipy.special.powm1(x, y)", {"x": [0.5, 1.01, 3.0, -2.0], "y": [0.1, 3.0, 1.5, 3.0]}),
    ("scipy.special.exprel(x)", {"x": [-1.5, 1e-6, 0.7, 30.0]}),
    ("scipy.special.erfcinv(y)", {"y": [0.1, 1.0, 1.7]}),
    ("scipy.special.boxcox(x, l)", {"x": [0.5, 2.0, 3.0], "l": [0.5, -1.0, 2.0]}),
    ("scipy.special.boxcox1p(x, l)", {"x": [0.5, 2.0, -0.3], "l": [0.5, -1.0, 2.0]}),
    ("scipy.special.inv_boxcox(y, l)", {"y": [0.5, 0.2, 3.0], "l": [0.5, -1.0, 2.0]}),
    ("scipy.special.inv_boxcox1p(y, l)", {"y": [0.5, 0.2, -0.3], "l": [0.5, -1.0, 2.0]}),
    ("scipy.special.radian(d, m, s)", {"d": [30.0, -12.0], "m": [15.0, 3.0], "s": [2.0, 59.0]}),
]


@pytest.mark.parametrize("text,bindings", SMOOTH, ids=[t for t, _ in SMOOTH])
def test_each_jacobian_is_central_differences_of_the_value(text, bindings):
    bindings = {k: np.array(v) for k, v in bindings.items()}
    jacobians = api.jacobian(text, bindings)
    for name in bindings:
        def f(u, name=name):
            return api.evaluate(text, {**bindings, name: u})
        np.testing.assert_allclose(jacobians[name], central_jacobian(f, bindings[name]), rtol=1e-6, atol=1e-8,
                                   err_msg=name)


def test_the_derivative_of_rgamma_at_its_zeros_is_its_limit():
    x = np.array([0.0, -1.0, -2.0, -3.0])  # 1/Γ(x) ≈ (-1)^n n! (x + n) near x = -n
    np.testing.assert_allclose(np.diag(api.jacobian("scipy.special.rgamma(x)", {"x": x})["x"]), [1.0, -1.0, 2.0, -6.0],
                               rtol=1e-12)
    h = 1e-6
    np.testing.assert_allclose((special.rgamma(x + h) - special.rgamma(x - h)) / (2 * h), [1.0, -1.0, 2.0, -6.0],
                               rtol=1e-6)


def test_the_exponential_relative_has_its_derivative_at_zero():
    assert api.jacobian("scipy.special.exprel(x)", {"x": np.array([0.0])})["x"][0, 0] == 0.5


@pytest.mark.parametrize("text,words", [
    ("scipy.special.factorial(x, exact=True)", r"exact=True\) gives Python integers"),
    ("scipy.special.comb(x, 2, exact=True)", r"exact=True\) gives Python integers"),
    ("scipy.special.perm(x, 2, True)", r"exact=True\) gives Python integers"),
    ("scipy.special.factorial(x, extend='complex')", "gives complex numbers"),
    ("scipy.special.gamma(x, out=x)", "writes into an array"),
])
def test_what_jac_does_not_compute_is_refused_saying_what_to_write(text, words):
    with pytest.raises(JacError, match=words):
        api.evaluate(text, {"x": np.array([3.0, 4.0])})


def test_float32_keeps_its_dtype():
    ours = api.evaluate("scipy.special.gamma(x) + scipy.special.beta(x, x)", {"x": np.array([0.5, 2.0])},
                        dtype="float32")
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, special.gamma([0.5, 2.0]) + special.beta([0.5, 2.0], [0.5, 2.0]), rtol=1e-6)


ORTHOGONAL = ["eval_legendre", "eval_chebyt", "eval_chebyu", "eval_hermite", "eval_hermitenorm", "eval_laguerre"]
XS = np.array([-np.inf, -1.0, -0.7, -1e-6, -0.0, 0.0, 3e-6, 0.3, 0.99, 1.0, 2.5, np.inf, np.nan])


@pytest.mark.parametrize("name", ORTHOGONAL)
def test_orthogonal_polynomials_of_integer_order_are_scipys_bit_for_bit(name):
    for n in (-3, -1, 0, 1, 2, 5, 17, 40):
        with np.errstate(all="ignore"):
            theirs = getattr(special, name)(n, XS)
        np.testing.assert_array_equal(api.evaluate(f"scipy.special.{name}({n}, x)", {"x": XS}), theirs, err_msg=n)
    orders = np.array([[0], [3], [-2], [7]])  # an array of orders, broadcast against x
    with np.errstate(all="ignore"):
        theirs = getattr(special, name)(orders, XS)
    np.testing.assert_array_equal(api.evaluate(f"scipy.special.{name}(np.array([[0], [3], [-2], [7]]), x)",
                                               {"x": XS}), theirs)


@pytest.mark.parametrize("alpha", [0.5, -0.5, -1.0, 2.0])
def test_generalized_laguerre_is_scipys(alpha):
    for n in (-1, 0, 1, 2, 6):
        np.testing.assert_array_equal(api.evaluate(f"scipy.special.eval_genlaguerre({n}, {alpha}, x)", {"x": XS}),
                                      special.eval_genlaguerre(n, alpha, XS))


@pytest.mark.parametrize("name", ORTHOGONAL + ["eval_genlaguerre"])
def test_orthogonal_polynomials_differentiate_as_central_differences(name):
    x = np.array([-0.8, -2e-6, 0.3, 0.95, 1.7])
    text = f"scipy.special.{name}(6, 0.5, x)" if name == "eval_genlaguerre" else f"scipy.special.{name}(6, x)"
    jacobian = api.jacobian(text, {"x": x})["x"]
    np.testing.assert_allclose(jacobian, central_jacobian(lambda u: api.evaluate(text, {"x": u}), x), rtol=1e-6,
                               atol=1e-6)


@pytest.mark.parametrize("text,words", [
    ("scipy.special.eval_legendre(2.5, x)", "only integer orders"),
    ("scipy.special.eval_legendre(x, x)", "must be a constant integer"),
    ("scipy.special.eval_chebyt(10**6, x)", "over jac's 10,000"),
])
def test_orders_jac_does_not_write_out_are_refused(text, words):
    with pytest.raises(JacError, match=words):
        api.evaluate(text, {"x": np.array([0.3, 0.4])})


def test_complete_elliptic_integrals_are_scipys_and_their_derivatives_mpmaths():
    import mpmath

    m = np.array([-np.inf, -3.0, -0.5, -0.0, 0.0, 0.3, 0.9, 0.999, 1.0, 1.5, np.inf, np.nan])
    for name in ("ellipk", "ellipe", "ellipkm1"):
        np.testing.assert_array_equal(api.evaluate(f"scipy.special.{name}(m)", {"m": m}), getattr(special, name)(m))
    points = np.array([-3.0, -0.5, 0.0, 0.3, 0.999])
    with mpmath.workdps(30):
        for name, f in (("ellipk", mpmath.ellipk), ("ellipe", mpmath.ellipe),
                        ("ellipkm1", lambda p: mpmath.ellipk(1 - p))):
            at = 1.0 - points if name == "ellipkm1" else points  # ellipkm1(p) = K(1 - p): the same points of K
            exact = [float(mpmath.diff(f, mpmath.mpf(float(v)))) for v in at]
            ours = np.diag(api.jacobian(f"scipy.special.{name}(m)", {"m": at})["m"])
            np.testing.assert_allclose(ours, exact, rtol=1e-13, err_msg=name)
