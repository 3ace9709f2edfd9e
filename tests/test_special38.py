"""Session 38: the special functions' refusals people hit, and higher derivatives.

- R_D's and R_J's derivatives of order two and more (so R_F's and R_G's of order three): their integrals with raised
  exponents (``carlson_integral``, a trapezoid rule in log t), against mpmath at 30 digits;
- zeta by x (Euler–Maclaurin differentiated term by term, ``zeta_dx``) against mpmath and JAX; Riemann's
  ``scipy.special.zeta(x)``, ``zetac``, the keyword ``q``;
- ``eval_genlaguerre(n, alpha, x)`` with alpha an input: SciPy's bits, derivatives by alpha and x against mpmath.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from scipy import special

from jacobi_cli.errors import JacError
from jacobi_cli.ir.ops import carlson_quadrature
from jacobi_cli.tools import api

mpmath.mp.dps = 30
CARLSON = {"elliprf": "xyz", "elliprc": "xy", "elliprd": "xyz", "elliprj": "xyzp", "elliprg": "xyz"}


def _text(name):
    return f"scipy.special.{name}({', '.join(CARLSON[name])})"


def _bind(name, point):
    return {c: np.array(v) for c, v in zip(CARLSON[name], point)}


def _mp_partial(name, point, orders):
    f = getattr(mpmath, name)
    return float(mpmath.diff(lambda *t: f(*t), [mpmath.mpf(v) for v in point[:len(orders)]], tuple(orders)))


# -- the quadrature ----------------------------------------------------------------------------------------------

def _mp_integral(args, b):
    return float(mpmath.quad(lambda t: mpmath.fprod([(t + mpmath.mpf(a)) ** -mpmath.mpf(e) for a, e in zip(args, b)]),
                             [0, 1, mpmath.inf]))


@pytest.mark.parametrize("b", [(0.5, 0.5, 1.5), (1.5, 0.5, 2.5), (2.5, 1.5, 1.5), (0.5, 0.5, 0.5, 2.0),
                               (0.5, 1.5, 3.5)])
def test_the_quadrature_is_mpmaths_integral_to_rounding(b):
    rng = np.random.default_rng(38)
    args = 10.0 ** rng.uniform(-3, 3, (len(b), 12))
    got = carlson_quadrature(list(args), b)
    for k in range(args.shape[1]):
        exact = _mp_integral(args[:, k], b)
        assert abs(got[k] - exact) <= 3e-15 * abs(exact), (args[:, k], got[k], exact)


def test_arguments_far_apart_are_summed_in_logarithms():
    """s^(-Σb) past float64's range (arguments 1e-200 ... 1e-300 of the largest): mpmath's R_D there."""
    points = [(1e-300, 0.0, 2.0), (1e-200, 1.0, 1e-250), (1e-310, 1.0, 2.0), (3.0, 1e-150, 1e100)]
    got = carlson_quadrature([np.array(p) for p in zip(*points)], (0.5, 0.5, 1.5))
    for g, p in zip(got, points):
        assert 1.5 * g == pytest.approx(float(mpmath.elliprd(*p)), rel=1e-12), p


def test_a_zero_argument_whose_integral_converges_is_read():
    got = carlson_quadrature([np.array([0.0]), np.array([1.3]), np.array([2.1])], (0.5, 0.5, 1.5))
    assert 1.5 * got[0] == pytest.approx(float(mpmath.elliprd(0, 1.3, 2.1)), rel=2e-15)


# -- R_D and R_J to second order, R_F R_G R_D R_J to third -----------------------------------------------------------

POINTS = [(0.7, 1.3, 2.1, 0.9), (1.0, 1.0, 2.0, 1.5), (1.5, 1.5, 1.5, 1.5), (1.0, 1.0 + 1e-9, 1.0 - 1e-9, 1.0 + 2e-9),
          (1e-3, 5.0, 40.0, 0.2), (3.0, 0.2, 0.2 * (1 + 1e-9), 7.0), (4.0, 4.0, 0.3, 0.3 * (1 + 1e-9)),
          (1.0, 2.0, 3.0, 2.0)]
POINTS += [tuple(10.0 ** np.random.default_rng(380 + i).uniform(-2, 2, 4)) for i in range(4)]


@pytest.mark.parametrize("name", ["elliprd", "elliprj"])
def test_rd_rj_hessians_are_mpmaths_where_arguments_meet_too(name):
    names = CARLSON[name]
    for point in POINTS:
        h = api.hessian(_text(name), _bind(name, point))
        for i, ci in enumerate(names):
            for j, cj in enumerate(names):
                exact = _mp_partial(name, point, [(k == i) + (k == j) for k in range(len(names))])
                assert h[(ci, cj)] == pytest.approx(exact, rel=1e-10), (name, point, ci, cj)
                assert h[(ci, cj)] == h[(cj, ci)]  # the same integral, the same coefficient: symmetric to the bit


@pytest.mark.parametrize("name", sorted(CARLSON))
def test_third_derivatives_are_mpmaths(name):
    names = CARLSON[name]
    for point in POINTS[:3] + POINTS[4:6]:
        for k, c in enumerate(names):
            got = float(api.derivative(_text(name), _bind(name, point), 3, wrt=[c]))
            exact = _mp_partial(name, point, [3 * (m == k) for m in range(len(names))])
            assert got == pytest.approx(exact, rel=1e-8), (name, point, c)


def test_rd_hessian_is_central_differences_of_scipys_gradient():
    rng = np.random.default_rng(38)
    b = {c: rng.uniform(0.2, 3.0, 4) for c in "xyz"}
    h = api.hessian("scipy.special.elliprd(x, y, z).sum()", b)
    for c in "xyz":
        step = 1e-4 * b[c]
        up, down = ({**b, c: b[c] + s} for s in (step, -step))
        for d in "xyz":
            slope = [api.jacobian("scipy.special.elliprd(x, y, z).sum()", v)[d] for v in (up, down)]
            np.testing.assert_allclose(np.diag(h[(c, d)]), (slope[0] - slope[1]) / (2 * step), rtol=1e-7)


def test_edges_of_the_higher_derivatives():
    at = {"x": np.array([0.0, 1.0, np.inf, -1.0, np.nan]), "y": np.array(2.0), "z": np.array(3.0)}
    h = np.einsum("iii->i", api.hessian("scipy.special.elliprd(x, y, z)", at)[("x", "x")])
    assert h[0] == np.inf  # ∫ t^(-5/2)... diverges at 0 where the value is finite
    assert h[1] == pytest.approx(_mp_partial("elliprd", (1.0, 2.0, 3.0), (2, 0, 0)), rel=1e-12)
    assert h[2] == 0.0 and np.isnan(h[3]) and np.isnan(h[4])
    two_zeros = {"x": np.array(0.0), "y": np.array(0.0), "z": np.array(3.0)}
    assert np.isnan(api.hessian("scipy.special.elliprd(x, y, z)", two_zeros)[("z", "z")])  # R_D itself is inf there
    with pytest.raises(JacError, match="at p < 0 is not supported"):
        api.hessian("scipy.special.elliprj(1.0, 2.0, 3.0, p)", {"p": np.array(-0.5)})


def test_float32_stays_float32():
    h = api.hessian("scipy.special.elliprd(x, 2.0, 3.0)", {"x": np.array([0.5, 1.5])}, dtype="float32")
    assert h[("x", "x")].dtype == np.float32


def test_the_cli_prints_rd_hessians():
    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app

    ok = CliRunner().invoke(app, ["hessian", "scipy.special.elliprd(x, 2.0, 3.0)", "x=1.0", "--json"])
    assert ok.exit_code == 0
    import json

    value = json.loads(ok.stdout)["hessian"]["x,x"]["value"]
    assert value == pytest.approx(_mp_partial("elliprd", (1.0, 2.0, 3.0), (2, 0, 0)), rel=1e-12)


# -- zeta ---------------------------------------------------------------------------------------------------------

ZETA = [(2.5, 1.5), (1.0001, 0.3), (1.5, 1e-3), (3.0, 1e3), (7.5, 1.0), (1.2, 40.0), (2.0, 1e8), (12.0, 0.6)]
ZETA += [(1 + 10 ** u, 10 ** v) for u, v in np.random.default_rng(38).uniform((-3, -2), (1, 2), (8, 2))]


@pytest.mark.parametrize("order", [1, 2, 3])
def test_zeta_by_x_is_mpmaths(order):
    with mpmath.workdps(50):
        for x, q in ZETA:
            got = float(api.derivative("scipy.special.zeta(x, q)", {"x": np.array(x), "q": np.array(q)}, order,
                                       wrt=["x"]))
            exact = float(mpmath.zeta(mpmath.mpf(x), mpmath.mpf(q), order))
            assert got == pytest.approx(exact, rel=1e-13), (x, q, order)


def test_zeta_mixed_second_derivative_is_mpmaths_and_symmetric():
    for x, q in ZETA[:6]:
        h = api.hessian("torch.special.zeta(x, q)", {"x": np.array(x), "q": np.array(q)})
        exact = float(mpmath.diff(lambda s, a: mpmath.zeta(s, a), (mpmath.mpf(x), mpmath.mpf(q)), (1, 1)))
        assert h[("x", "q")] == pytest.approx(exact, rel=1e-11) and h[("q", "x")] == pytest.approx(exact, rel=1e-11)


def test_zeta_by_x_is_jaxs():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    from jax.scipy.special import zeta

    for x, q in ZETA[:5]:
        theirs = float(jax.grad(lambda s: zeta(s, q))(x))
        ours = float(api.jacobian("jax.scipy.special.zeta(x, q)", {"x": np.array(x), "q": np.array(q)})["x"])
        assert ours == pytest.approx(theirs, rel=1e-9), (x, q)


def test_zeta_by_x_is_central_differences_of_scipy():
    x = np.array([1.3, 2.5, 4.0, 9.0])
    q = np.array([0.4, 1.0, 2.5, 7.0])
    jac = np.diag(api.jacobian("scipy.special.zeta(x, q)", {"x": x, "q": q})["x"])
    h = 1e-5 * x
    np.testing.assert_allclose(jac, (special.zeta(x + h, q) - special.zeta(x - h, q)) / (2 * h), rtol=1e-7)


def test_zeta_edges():
    x = np.array([0.5, 1.0, np.inf, np.inf, 2.0, np.nan])
    q = np.array([1.0, 1.0, 2.0, 0.5, np.inf, 1.0])
    d = np.diag(api.jacobian("scipy.special.zeta(x, q)", {"x": x, "q": q}, wrt=["x"])["x"])
    assert np.isnan(d[0]) and np.isnan(d[1]) and d[2] == 0.0 and np.isnan(d[3]) and d[4] == 0.0 and np.isnan(d[5])
    with pytest.raises(JacError, match="at q < 0 is not supported"):
        api.jacobian("scipy.special.zeta(x, -0.5)", {"x": np.array(2.0)})


def test_riemann_zeta_is_scipys_and_its_derivative_mpmaths():
    x = np.array([-7.5, -2.0, 0.0, 0.35, 1.0, 1.5, 2.5, 40.0, np.inf, np.nan])
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(api.evaluate("scipy.special.zeta(x)", {"x": x}), special.zeta(x))
        np.testing.assert_array_equal(api.evaluate("scipy.special.zetac(x)", {"x": x}), special.zetac(x))
    above = np.array([1.5, 2.5, 6.0])
    for text in ("scipy.special.zeta(x)", "scipy.special.zetac(x)"):
        d = np.diag(api.jacobian(text, {"x": above})["x"])
        np.testing.assert_allclose(d, [float(mpmath.zeta(v, 1, 1)) for v in above], rtol=1e-14)
        with pytest.raises(JacError, match="at x < 1 is not supported"):
            api.jacobian(text, {"x": np.array([0.5, 2.0])})


def test_zeta_spellings():
    b = {"x": np.array(2.5)}
    assert api.evaluate("scipy.special.zeta(x, q=1.5)", b) == special.zeta(2.5, 1.5)
    assert api.evaluate("jax.scipy.special.zeta(x, q=1.5)", b) == special.zeta(2.5, 1.5)
    with pytest.raises(JacError, match="Riemann zeta function not implemented"):
        api.evaluate("jax.scipy.special.zeta(x)", b)
    with pytest.raises(JacError, match="writes into an array"):
        api.evaluate("scipy.special.zeta(x, 1.5, out=x)", b)


# -- eval_genlaguerre by alpha ---------------------------------------------------------------------------------------

def _mp_laguerre(n):
    return lambda a, x: mpmath.fsum((-1) ** k * mpmath.binomial(n + a, n - k) * x ** k / mpmath.factorial(k)
                                    for k in range(n + 1))


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, 9])
def test_genlaguerre_by_alpha_and_x_is_mpmaths_to_second_order(n):
    for a, x in ((0.75, 0.3), (-0.5, 2.2), (3.3, 7.1), (0.0, 1.0)):
        text = f"scipy.special.eval_genlaguerre({n}, a, x)"
        b = {"a": np.array(a), "x": np.array(x)}
        assert api.evaluate(text, b) == special.eval_genlaguerre(n, a, x)  # SciPy's bits
        jac, hes = api.jacobian(text, b), api.hessian(text, b)
        for orders, got in (((1, 0), jac["a"]), ((0, 1), jac["x"]), ((2, 0), hes[("a", "a")]),
                            ((1, 1), hes[("a", "x")]), ((0, 2), hes[("x", "x")])):
            exact = float(mpmath.diff(_mp_laguerre(n), (mpmath.mpf(a), mpmath.mpf(x)), orders))
            assert got == pytest.approx(exact, rel=1e-11, abs=1e-12), (n, a, x, orders)


def test_genlaguerre_alpha_arrays_broadcast_and_nan_below_minus_one():
    alpha = np.array([[-2.0], [-1.0], [0.2]])
    x = np.array([0.3, 0.4, 0.5])
    orders = np.array([1, 2, 3])
    with np.errstate(invalid="ignore"):
        want = special.eval_genlaguerre(orders, alpha, x)
    got = api.evaluate("scipy.special.eval_genlaguerre([1, 2, 3], a, x)", {"a": alpha, "x": x})
    np.testing.assert_array_equal(got, want)
    assert api.evaluate("scipy.special.eval_genlaguerre(3, [0.5, 1.5], x)", {"x": np.array(0.3)}).tolist() == \
        special.eval_genlaguerre(3, [0.5, 1.5], 0.3).tolist()
    jac = api.jacobian("scipy.special.eval_genlaguerre(3, a, 0.3)", {"a": np.array([-1.5, 0.5])})["a"]
    # SciPy's NaN at alpha <= -1 is a constant of jac's graph there: the derivative is 0, as where's (PyTorch's too)
    assert jac[0, 0] == 0.0 and jac[1, 1] == pytest.approx(
        float(mpmath.diff(lambda a: _mp_laguerre(3)(a, mpmath.mpf(0.3)), mpmath.mpf(0.5))), rel=1e-12)
